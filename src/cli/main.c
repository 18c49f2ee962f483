/*
 * src/cli/main.c - the `eosight` command: dispatch to subcommands and shared helpers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} k_commands[] = {
    { "classify", cli_classify, "classify images or scenes into scene classes (top-k, patch grids)" },
    { "tag", cli_tag, "tag images with every label above its own threshold" },
    { "clouds", cli_clouds, "clear/cloudy screening of images, cloudy fraction of scenes" },
    { "segment", cli_segment, "segment a scene of any size into a georeferenced class mask" },
    { "models", cli_models, "list the models on the search path with their contracts" },
    { "run", cli_run, "run an ONNX model on .npy inputs, write every output as .npy" },
    { "bench", cli_bench, "time a model: median/p90 latency and images/s as one JSON line" },
    { "inspect", cli_inspect, "show a model's inputs, outputs, metadata and operator counts" },
    { "info", cli_info, "describe a raster: size, CRS, corners, bands, nodata (--json)" },
    { "quicklook", cli_quicklook, "render a raster (and a class mask) as a PNG/JPEG picture" },
    { "polygonize", cli_polygonize, "class mask -> polygons with class and area (GeoJSON/GPKG/CSV)" },
    { "clean-mask", cli_clean_mask, "tidy a class mask: opening/closing, small objects and holes" },
    { "train", cli_train, "train a classifier, tagger or segmentation net on labelled imagery" },
    { "meta", cli_meta, "show or edit a model's metadata (its contract), weights untouched" },
    { "catalog", cli_catalog, "scene catalog: add rasters, find them by point/box/time" },
    { "serve", cli_serve, "REST API over the models: classify/tag/clouds images over HTTP" },
    { "eval", cli_eval, "score a trained model on a labelled dataset (accuracy, F1, mIoU)" },
    { "calibrate", cli_calibrate, "out-of-distribution scores for a classifier: centroids + threshold" },
    { "synth-clouds", cli_synth_clouds, "clear/cloudy training set: synthetic clouds over clear images" },
};

static void usage(FILE *f) {
    fprintf(f, "eosight %s - deep learning on satellite and aerial imagery\n\n"
               "usage: eosight <command> [options]   (eosight <command> --help for details)\n\n"
               "commands:\n", EOS_VERSION_STRING);
    for (size_t i = 0; i < sizeof k_commands / sizeof k_commands[0]; i++)
        fprintf(f, "  %-12s %s\n", k_commands[i].name, k_commands[i].summary);
    fprintf(f, "\nenvironment:\n"
               "  EOS_BACKEND=ref|dnnl   force a kernel back-end (default: dnnl when built)\n");
}

int cli_error(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("eosight: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

int cli_parse_shape(const char *s, int64_t *dims, int max_dims) {
    int n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p || v <= 0 || n >= max_dims) return -1;
        dims[n++] = v;
        p = end;
        if (*p == 'x' || *p == 'X' || *p == ',') p++;
        else if (*p) return -1;
    }
    return n ? n : -1;
}

bool cli_parse_backend(const char *s, eos_backend_kind *out) {
    if (!strcmp(s, "ref")) *out = EOS_BACKEND_REF;
    else if (!strcmp(s, "dnnl")) *out = EOS_BACKEND_DNNL;
    else if (!strcmp(s, "auto")) *out = EOS_BACKEND_AUTO;
    else return false;
    return true;
}

bool cli_parse_int(const char *s, long lo, long hi, long *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < lo || v > hi) return false;
    *out = v;
    return true;
}

int cli_int_opt(const char *cmd, const char *name, const char *v, long lo, long hi, long *out) {
    if (!cli_parse_int(v, lo, hi, out))
        return cli_error(2, "%s: %s '%s' is not a number in %ld..%ld", cmd, name, v, lo, hi);
    return 0;
}

int cli_load_model(const char *path, eos_backend_kind be, eos_ctx **ctx, eos_model **model) {
    eos_ctx_params cp = eos_ctx_default_params();
    cp.backend = be;
    *model = NULL;
    if (eos_ctx_create(&cp, ctx) != EOS_OK)
        return cli_error(2, "cannot use back-end '%s' (not built, or EOS_BACKEND is invalid)",
                         eos_backend_name(be));
    eos_status st = eos_model_load(*ctx, path, model);
    if (st != EOS_OK) {
        cli_error(1, "%s (%s)", eos_ctx_errmsg(*ctx), eos_status_name(st));
        eos_ctx_free(*ctx);
        *ctx = NULL;
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("eosight %s\n", EOS_VERSION_STRING);
        return 0;
    }
    for (size_t i = 0; i < sizeof k_commands / sizeof k_commands[0]; i++)
        if (!strcmp(argv[1], k_commands[i].name)) return k_commands[i].fn(argc - 1, argv + 1);
    usage(stderr);
    return cli_error(2, "unknown command '%s'", argv[1]);
}
