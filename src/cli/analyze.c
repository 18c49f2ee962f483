/*
 * src/cli/analyze.c - the analysis commands, thin shells over include/eosight/analysis.h:
 *   eosight classify IMAGE...   top-k scene classes (a patch grid for large scenes)
 *   eosight tag IMAGE...        multi-label tags above per-class thresholds
 *   eosight clouds IMAGE...     clear/cloudy probability, cloudy fraction of a scene
 *   eosight segment SCENE -o M  sliding-window land-cover segmentation of a whole scene
 *   eosight models              the models on the search path with their contracts
 * Each prints a table on a terminal or --json (one object per image and line).
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "eosight/analysis.h"

#ifdef EOS_WITH_GDAL

typedef enum cmd_kind { CMD_CLASSIFY, CMD_TAG, CMD_CLOUDS, CMD_SEGMENT } cmd_kind;

static const char *const k_cmd_name[] = { "classify", "tag", "clouds", "segment" };
static const eos_analysis_task k_task[] = { EOS_ANALYSIS_CLASSIFY, EOS_ANALYSIS_TAG,
                                            EOS_ANALYSIS_CLOUD, EOS_ANALYSIS_SEGMENT };
static const char *const k_model_env[] = { "EOSIGHT_MODEL_CLASSIFY", "EOSIGHT_MODEL_TAG",
                                           "EOSIGHT_MODEL_CLOUDS", "EOSIGHT_MODEL_SEGMENT" };

#define MAX_IMAGES 4096

typedef struct args {
    cmd_kind    cmd;
    const char *model, *cloud_model, *bands;
    const char *images[MAX_IMAGES];
    int         n_images;
    bool        json, quiet, force;
    int         top_k, threads;
    double      skip_cloudy;
    float       thresholds[EOS_ANALYSIS_MAX_CLASSES];
    eos_image_params ip;
    eos_segment_params sp;
    const char *areas_path;
    double      min_object_m2, min_hole_m2;
} args;

static int usage(cmd_kind k, FILE *f, int code) {
    const char *n = k_cmd_name[k];
    if (k == CMD_SEGMENT) {
        fprintf(f,
            "usage: eosight segment SCENE -o MASK.tif [options]\n\n"
            "Segments a scene of any size window by window with a segmentation model (default\n"
            "%s, or $%s) and writes a class mask with the scene's georeferencing.\n"
            "Overlapping windows are blended with linear ramps (no seams at window borders);\n"
            "memory stays bounded by one row of windows, whatever the scene size. Pixels the\n"
            "scene marks nodata come out as 255 (nodata) and count in no area.\n\n"
            "outputs:\n"
            "  -o, --out MASK      class mask: Cloud-Optimized GeoTIFF (.tif) or PNG, colour\n"
            "                      table and class names, nodata 255\n"
            "  --probs FILE        per-class probabilities, u8 = round(255 p), one band a class\n"
            "  --vector FILE       polygons of the final mask (.geojson WGS 84, .gpkg), one per\n"
            "                      connected region: regions crossing windows are one feature\n"
            "  --overlay FILE      PNG/JPEG picture of the scene with the mask and a legend\n"
            "  --areas FILE        per-class pixels and area in m2 as JSON (also printed)\n"
            "windows:\n"
            "  --window N          window side, a multiple of 32 (default: the model's fixed\n"
            "                      input, else 256); smaller scenes run as one window\n"
            "  --overlap N         pixels shared by neighbouring windows (even; default N/4)\n"
            "  --batch B           windows per run (default 4)\n"
            "  --tta 1|4|8         average rot90s (4) and flips (8) (default 1)\n"
            "  --scales LIST       multi-scale averaging, e.g. 0.75,1.25 (scale 1 is always run)\n"
            "post-processing (per class; areas in m2 of the scene's CRS):\n"
            "  --open R --close R  morphological opening/closing with a disk of R pixels\n"
            "  --min-object M2     remove objects smaller than M2 square metres\n"
            "  --min-hole M2       fill holes smaller than M2 square metres\n"
            "cloud screening:\n"
            "  --skip-cloudy P     leave out windows the cloud model calls cloudy with\n"
            "                      probability >= P (they become nodata)\n"
            "  --cloud-model M     cloud model (default clouds)\n"
            "common:\n"
            "  --model M           model name (searched in ./models, $EOSIGHT_MODELS, the\n"
            "                      install prefix) or path\n"
            "  --bands LIST        the scene's bands to feed, in the model's order: 1-based\n"
            "                      indices (4,3,2) or names (B04,B03,B02); default: the model's\n"
            "                      band names when the file has them, else all bands\n"
            "  --json              print the result as JSON on stdout\n"
            "  --threads N         engine threads (default: all cores)\n"
            "  --force             run even when the scene does not fit the model's contract\n"
            "  --quiet             no progress bar\n\n"
            "exit status: 0 done, 1 failure, 2 bad usage\n",
            eos_analysis_default_model(k_task[k]), k_model_env[k]);
        return code;
    }
    fprintf(f, "usage: eosight %s IMAGE... [options]\n\n", n);
    if (k == CMD_CLASSIFY)
        fprintf(f, "Classifies each image into the model's scene classes (default model %s, or\n"
                   "$%s) and prints the top-k classes with probabilities.\n", eos_analysis_default_model(k_task[k]),
                k_model_env[k]);
    else if (k == CMD_TAG)
        fprintf(f, "Tags each image with every label whose probability reaches that label's own\n"
                   "threshold (stored in the model, tuned on validation data), with scores\n"
                   "(default model %s, or $%s).\n", eos_analysis_default_model(k_task[k]), k_model_env[k]);
    else
        fprintf(f, "Screens each image for clouds: clear/cloudy probability (default model %s,\n"
                   "or $%s); for a scene, the cloudy fraction of its tiles and a per-tile\n"
                   "cloud mask (--grid-tif).\n", eos_analysis_default_model(k_task[k]), k_model_env[k]);
    fprintf(f,
        "A scene larger than 1.5 model windows is cut into a grid of windows (the ground one\n"
        "model input covered in training: input size x model GSD / image GSD), each\n"
        "predicted, with the class share of the scene; cells mostly nodata are nodata.\n"
        "Images are checked against the model's contract first (bands, value range, GSD):\n"
        "a mismatch that would give garbage is refused with the reason.\n\n"
        "options:\n"
        "  --model M           model name (searched in ./models, $EOSIGHT_MODELS, the install\n"
        "                      prefix) or path\n"
        "  --bands LIST        the image's bands to feed, in the model's order: 1-based indices\n"
        "                      (4,3,2) or names (B04,B03,B02); default: the model's band names\n"
        "                      when the file has them, else all bands\n"
        "  --top-k K           classes listed per image (default 5; 0: all)\n"
        "  --tta 1|4|8         average rot90s (4) and flips (8) of each input (default 1)\n"
        "  --grid | --whole    force a grid of windows / the whole image resized\n"
        "  --window PX         grid window in image pixels (default from the model)\n"
        "  --grid-tif FILE     write the grid's cell classes as a GeoTIFF (one pixel per cell)\n"
        "  --grid-geojson FILE write the grid cells as GeoJSON polygons with their classes\n"
        "  --threshold T[,..]  tag / clouds: decision threshold(s) instead of the model's:\n"
        "                      one for every class, or one per class\n"
        "  --skip-cloudy P     leave out cells the cloud model calls cloudy with probability\n"
        "                      >= P  (--cloud-model M, default clouds)\n"
        "  --batch B           windows per run (default 32)\n"
        "  --threads N         engine threads (default: all cores)\n"
        "  --json              one JSON object per image and line on stdout\n"
        "  --force             predict even when an image does not fit the model's contract\n"
        "  --quiet             no progress bar\n\n"
        "exit status: 0 done, 1 some image failed or was refused, 2 bad usage\n");
    return code;
}

static int num_opt(const char *cmd, const char *o, const char *v, double lo, double hi, double *out) {
    char *end;
    double d = strtod(v, &end);
    if (!*v || *end || !(d >= lo && d <= hi))
        return cli_error(2, "%s: %s '%s': expected a number in %g..%g", cmd, o, v, lo, hi);
    *out = d;
    return 0;
}

static int int_opt(const char *cmd, const char *o, const char *v, long lo, long hi, int *out) {
    long n = 0;
    int rc = cli_int_opt(cmd, o, v, lo, hi, &n);
    *out = (int)n;
    return rc;
}

static int parse_scales(args *a, const char *v) {
    char buf[128];
    snprintf(buf, sizeof buf, "%s", v);
    char *save = NULL;
    a->sp.n_scales = 1;
    a->sp.scales[0] = 1.0;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (a->sp.n_scales >= 4) return cli_error(2, "segment: --scales: at most 3 extra scales");
        double s;
        if (num_opt("segment", "--scales", t, 0.25, 4, &s)) return 2;
        a->sp.scales[a->sp.n_scales++] = s;
    }
    return 0;
}

/* Options that take a value; returns 0 or an exit code. */
static int value_opt(args *a, const char *o, const char *v) {
    const char *c = k_cmd_name[a->cmd];
    double d;
    int n = 0, rc = 0;
    bool seg = a->cmd == CMD_SEGMENT;
    if (!strcmp(o, "--model")) a->model = v;
    else if (!strcmp(o, "--bands")) a->bands = v;
    else if (!strcmp(o, "--cloud-model")) a->cloud_model = v;
    else if (!strcmp(o, "--threads")) rc = int_opt(c, o, v, 1, 1024, &a->threads);
    else if (!strcmp(o, "--tta")) {
        if (!(rc = int_opt(c, o, v, 1, 8, &n)) && n != 1 && n != 4 && n != 8)
            rc = cli_error(2, "%s: --tta must be 1, 4 or 8", c);
        a->ip.tta = a->sp.tta = n;
    } else if (!strcmp(o, "--skip-cloudy")) {
        if (!(rc = num_opt(c, o, v, 0, 1, &d))) a->skip_cloudy = d;
    } else if (!strcmp(o, "--batch")) {
        if (!(rc = int_opt(c, o, v, 1, seg ? 256 : 4096, &n))) a->ip.batch = a->sp.batch = n;
    } else if (!seg && !strcmp(o, "--top-k")) rc = int_opt(c, o, v, 0, 1000, &a->top_k);
    else if (!seg && a->cmd != CMD_CLASSIFY && !strcmp(o, "--threshold")) {
        a->ip.n_thresholds = eos_parse_thresholds(v, a->thresholds, EOS_ANALYSIS_MAX_CLASSES);
        a->ip.thresholds = a->thresholds;
        if (a->ip.n_thresholds < 1)
            rc = cli_error(2, "%s: --threshold takes T or T1,T2,... (one per class), each in "
                           "0..1, not '%s'", c, v);
    }
    else if (!seg && !strcmp(o, "--window")) rc = int_opt(c, o, v, 8, 16384, &a->ip.window_px);
    else if (!seg && !strcmp(o, "--grid-tif")) a->ip.grid_tif = v;
    else if (!seg && !strcmp(o, "--grid-geojson")) a->ip.grid_geojson = v;
    else if (seg && (!strcmp(o, "-o") || !strcmp(o, "--out"))) a->sp.mask_path = v;
    else if (seg && !strcmp(o, "--probs")) a->sp.probs_path = v;
    else if (seg && !strcmp(o, "--vector")) a->sp.vector_path = v;
    else if (seg && !strcmp(o, "--overlay")) a->sp.overlay_path = v;
    else if (seg && !strcmp(o, "--areas")) a->areas_path = v;
    else if (seg && !strcmp(o, "--window")) rc = int_opt(c, o, v, 32, 4096, &a->sp.window);
    else if (seg && !strcmp(o, "--overlap")) {
        if (!(rc = int_opt(c, o, v, 0, 2048, &a->sp.overlap)) && a->sp.overlap % 2)
            rc = cli_error(2, "segment: --overlap must be even");
    } else if (seg && !strcmp(o, "--scales")) rc = parse_scales(a, v);
    else if (seg && !strcmp(o, "--open")) {
        if (!(rc = int_opt(c, o, v, 0, 1000, &a->sp.clean.open_radius_px))) a->sp.post = true;
    } else if (seg && !strcmp(o, "--close")) {
        if (!(rc = int_opt(c, o, v, 0, 1000, &a->sp.clean.close_radius_px))) a->sp.post = true;
    } else if (seg && !strcmp(o, "--min-object")) {
        if (!(rc = num_opt(c, o, v, 0, 1e12, &a->min_object_m2))) a->sp.post = true;
    } else if (seg && !strcmp(o, "--min-hole")) {
        if (!(rc = num_opt(c, o, v, 0, 1e12, &a->min_hole_m2))) a->sp.post = true;
    } else {
        rc = cli_error(2, "%s: unknown option '%s' (see eosight %s --help)", c, o, c);
    }
    return rc;
}

static bool is_value_opt(const char *o) {
    static const char *const flags[] = { "--json", "--quiet", "-q", "--force", "--grid", "--whole" };
    for (size_t i = 0; i < sizeof flags / sizeof *flags; i++)
        if (!strcmp(o, flags[i])) return false;
    return true;
}

/* Returns -1 to go on, else the exit code. */
static int parse(int argc, char **argv, args *a) {
    a->ip = eos_image_default_params();
    a->sp = eos_segment_default_params();
    a->top_k = 5;
    a->skip_cloudy = -1;
    const char *c = k_cmd_name[a->cmd];
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) return usage(a->cmd, stdout, 0);
        if (o[0] != '-' || !o[1]) {
            if (a->n_images >= MAX_IMAGES) return cli_error(2, "%s: more than %d images", c, MAX_IMAGES);
            a->images[a->n_images++] = o;
        } else if (!strcmp(o, "--json")) a->json = true;
        else if (!strcmp(o, "--quiet") || !strcmp(o, "-q")) a->quiet = true;
        else if (!strcmp(o, "--force")) a->force = true;
        else if (!strcmp(o, "--grid") && a->cmd != CMD_SEGMENT) a->ip.grid = EOS_GRID_ALWAYS;
        else if (!strcmp(o, "--whole") && a->cmd != CMD_SEGMENT) a->ip.grid = EOS_GRID_WHOLE;
        else if (!is_value_opt(o)) return cli_error(2, "%s: unknown option '%s'", c, o);
        else if (i + 1 >= argc) return cli_error(2, "%s: %s needs a value (see --help)", c, o);
        else {
            int rc = value_opt(a, o, argv[++i]);
            if (rc) return rc;
        }
    }
    if (a->n_images == 0) {
        usage(a->cmd, stderr, 2);
        return cli_error(2, "%s: no image given", c);
    }
    if (a->cmd == CMD_SEGMENT && a->n_images != 1)
        return cli_error(2, "segment: one scene at a time");
    if (a->cmd == CMD_SEGMENT && !a->sp.mask_path && (a->sp.vector_path || a->sp.overlay_path))
        return cli_error(2, "segment: --vector and --overlay are made from the mask: give -o too");
    if (!a->model) a->model = eos_analysis_default_model(k_task[a->cmd]);
    if (a->skip_cloudy >= 0 && !a->cloud_model)
        a->cloud_model = eos_analysis_default_model(EOS_ANALYSIS_CLOUD);
    a->ip.progress = a->sp.progress = !a->quiet && !a->json;
    return -1;
}

static int open_analyzer(eos_ctx *ctx, const char *name, int threads, eos_analyzer **out) {
    char path[4096];
    if (eos_model_find(ctx, name, path, sizeof path) != EOS_OK)
        return cli_error(1, "%s", eos_ctx_errmsg(ctx));
    eos_analyzer_params p = { threads };
    if (eos_analyzer_open(ctx, path, &p, out) != EOS_OK)
        return cli_error(1, "%s", eos_ctx_errmsg(ctx));
    return 0;
}

/* Open an image for the model and check it; returns 0 or 1 (message printed). */
static int open_checked(const args *a, eos_ctx *ctx, eos_analyzer *an, const char *path,
                        eos_raster **r) {
    eos_raster_open_params op = eos_raster_default_open_params();
    op.bands = a->bands;
    eos_status st = a->bands && an != a->ip.clouds && an != a->sp.clouds
                        ? eos_raster_open(ctx, path, &op, r)
                        : eos_analyzer_open_raster(an, ctx, path, r);
    if (st != EOS_OK) return cli_error(1, "%s", eos_ctx_errmsg(ctx));
    eos_check chk;
    if (eos_contract_check(an, *r, &chk) != EOS_OK) {
        eos_raster_close(*r);
        return cli_error(1, "%s: %s", path, eos_analyzer_errmsg(an));
    }
    for (int i = 0; i < chk.n_msgs; i++)
        fprintf(stderr, "eosight: %s: %s%s\n", path,
                chk.refuse && i == 0 ? (a->force ? "(forced) " : "refused: ") : "warning: ",
                chk.msgs[i]);
    if (chk.refuse && !a->force && !strncmp(chk.msgs[0], "the image has ", 14))
        fprintf(stderr, "eosight: hint: feed the model's bands with --bands, e.g. --bands 4,3,2 "
                "for the RGB of a Sentinel-2 stack\n");
    if (chk.refuse && !a->force) {
        eos_raster_close(*r);
        *r = NULL;
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------ images */

static void print_bar(double p) {
    int n = (int)lround(p * 20);
    for (int i = 0; i < 20; i++) putchar(i < n ? '#' : ' ');
}

static void print_image(const args *a, const eos_analyzer *an, const char *path,
                        const eos_image_result *res) {
    const eos_contract *c = eos_analyzer_contract(an);
    printf("%s  (%s", path, eos_analyzer_name(an));
    if (res->grid)
        printf(", grid %lldx%lld of %d px: %lld cells, %lld nodata, %lld cloudy",
               (long long)res->cells_x, (long long)res->cells_y, res->window_px,
               (long long)res->n_cells_valid, (long long)res->n_cells_nodata,
               (long long)res->n_cells_skipped);
    printf(")%s\n", res->uncertain ? "  UNCERTAIN: unlike the training data" : "");
    if (res->n_cells_valid == 0) {
        printf("  no prediction: %s\n", res->skipped ? "cloudy" : "nodata");
        return;
    }
    int C = c->n_classes, order[EOS_ANALYSIS_MAX_CLASSES];
    for (int i = 0; i < C; i++) order[i] = i;
    for (int i = 1; i < C; i++)   /* insertion sort by probability, descending */
        for (int j = i; j > 0 && res->probs[order[j]] > res->probs[order[j - 1]]; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    int k = a->top_k > 0 && a->top_k < C ? a->top_k : C;
    if (c->task == EOS_ANALYSIS_TAG) k = C;
    for (int i = 0; i < k; i++) {
        int j = order[i];
        if (c->task == EOS_ANALYSIS_TAG && res->probs[j] < res->thresholds[j] && a->top_k > 0 &&
            i >= a->top_k)
            continue;
        printf("  %-24.24s %6.3f  ", c->class_names[j], res->probs[j]);
        print_bar(res->probs[j]);
        if (c->task == EOS_ANALYSIS_TAG)
            printf("  %s (threshold %.2f)", res->probs[j] >= res->thresholds[j] ? "TAG" : "   ",
                   res->thresholds[j]);
        if (res->grid && c->task != EOS_ANALYSIS_TAG)
            printf("  %5.1f %% of cells", 100.0 * res->class_share[j]);
        putchar('\n');
    }
    if (c->task == EOS_ANALYSIS_CLOUD && res->grid)
        printf("  => cloudy fraction of the scene %.1f %% (%lld of %lld cells; --grid-tif writes "
               "the per-cell mask)\n", 100.0 * res->class_share[c->cloudy_class],
               (long long)lround(res->class_share[c->cloudy_class] * (double)res->n_cells_valid),
               (long long)res->n_cells_valid);
    else if (c->task == EOS_ANALYSIS_CLOUD)
        printf("  => %s (cloudy probability %.3f; threshold %.2f)\n",
               res->cloudy ? "CLOUDY" : "clear", res->probs[c->cloudy_class],
               res->thresholds[c->cloudy_class]);
    if (isfinite(res->ood_score)) printf("  out-of-distribution score %.3f\n", res->ood_score);
}

/* s as a JSON string on stdout. */
static void put_json_str(const char *s) {
    putchar('"');
    for (const char *p = s; *p; p++) {
        if (*p == '"' || *p == '\\') putchar('\\');
        if ((unsigned char)*p < 0x20) printf("\\u%04x", *p);
        else putchar(*p);
    }
    putchar('"');
}

/* {"KEY": value, ...the members of obj}. */
static void print_json_line(const char *key, const char *value, const char *obj) {
    printf("{\"%s\":", key);
    put_json_str(value);
    printf(",%s\n", obj + 1);
}

/* The image opened (and checked) for the cloud model too, when screening; 0 or 1. */
static int open_for_clouds(args *a, eos_ctx *ctx, const char *path, eos_raster **cr) {
    *cr = NULL;
    eos_analyzer *cl = a->cmd == CMD_SEGMENT ? a->sp.clouds : a->ip.clouds;
    if (!cl) return 0;
    if (open_checked(a, ctx, cl, path, cr)) return 1;
    a->ip.clouds_raster = a->sp.clouds_raster = *cr;
    return 0;
}

/* Print one image's result (table or JSON line). */
static void print_result(args *a, eos_analyzer *an, const char *path, const eos_image_result *res) {
    if (a->json) {
        char *js;
        if (eos_image_result_json(an, res, a->top_k, &js) == EOS_OK) {
            print_json_line("image", path, js);
            eos_free(js);
        }
    } else {
        print_image(a, an, path, res);
    }
}

/* Images predicted whole, waiting to run as one batch: inputs, their image and valid share. */
typedef struct pending {
    float  *x, *probs, *ood;
    int    *idx;
    double *share;
    int     n, cap;
    size_t  per;
} pending;

/* Run the pending images as one batch and print them in order; the failures' count. */
static int flush(args *a, eos_analyzer *an, pending *q) {
    if (q->n == 0) return 0;
    int failed = 0;
    if (eos_analyze_batch(an, q->x, q->n, a->ip.tta, q->probs, q->ood) != EOS_OK) {
        for (int k = 0; k < q->n; k++)
            cli_error(1, "%s: %s", a->images[q->idx[k]], eos_analyzer_errmsg(an));
        failed = q->n;
    } else {
        int C = eos_analyzer_contract(an)->n_classes;
        for (int k = 0; k < q->n; k++) {
            eos_image_result res;
            if (eos_image_result_whole(an, &a->ip, q->probs + (size_t)k * (size_t)C, q->ood[k],
                                       q->share[k], &res) != EOS_OK) {
                cli_error(1, "%s: out of memory", a->images[q->idx[k]]);
                failed++;
                continue;
            }
            print_result(a, an, a->images[q->idx[k]], &res);
            eos_image_result_free(&res);
        }
    }
    q->n = 0;
    return failed;
}

static bool pending_init(args *a, eos_analyzer *an, pending *q) {
    const eos_contract *c = eos_analyzer_contract(an);
    memset(q, 0, sizeof *q);
    q->cap = a->ip.clouds ? 0 : a->ip.batch > 0 ? a->ip.batch : 32;   /* 0: no batching */
    q->per = (size_t)c->n_bands * (size_t)c->in_h * (size_t)c->in_w;
    if (q->cap == 0 || q->per == 0) {
        q->cap = 0;
        return true;
    }
    q->x = eos_malloc((size_t)q->cap * q->per * sizeof *q->x);
    q->probs = eos_malloc((size_t)q->cap * (size_t)c->n_classes * sizeof *q->probs);
    q->ood = eos_malloc((size_t)q->cap * sizeof *q->ood);
    q->idx = eos_malloc((size_t)q->cap * sizeof *q->idx);
    q->share = eos_malloc((size_t)q->cap * sizeof *q->share);
    return q->x && q->probs && q->ood && q->idx && q->share;
}

static void pending_free(pending *q) {
    eos_free(q->x);
    eos_free(q->probs);
    eos_free(q->ood);
    eos_free(q->idx);
    eos_free(q->share);
}

/* Classify/tag/screen every image. Images predicted whole are read into a pending batch and
 * run together (as eos_analyze_image would run each, with the same results); grids and cloud
 * screening run image by image. Results are printed in the order of the arguments. */
static int run_images(args *a, eos_analyzer *an, eos_ctx *ctx) {
    int failed = 0;
    pending q;
    if (!pending_init(a, an, &q)) {
        pending_free(&q);
        return cli_error(1, "out of memory for a batch of images");
    }
    for (int i = 0; i < a->n_images; i++) {
        eos_raster *r, *cr;
        if (open_checked(a, ctx, an, a->images[i], &r)) {
            failed++;
            continue;
        }
        bool whole = false;
        if (q.cap > 0) {
            eos_status st = eos_analyze_prepare(an, r, &a->ip, q.x + (size_t)q.n * q.per,
                                                &q.share[q.n], &whole);
            if (st != EOS_OK) {
                eos_raster_close(r);
                cli_error(1, "%s: %s", a->images[i], eos_analyzer_errmsg(an));
                failed++;
                continue;
            }
        }
        if (whole) {
            eos_raster_close(r);
            q.idx[q.n++] = i;
            if (q.n == q.cap) failed += flush(a, an, &q);
            continue;
        }
        failed += flush(a, an, &q);   /* keep the output in argument order */
        if (open_for_clouds(a, ctx, a->images[i], &cr)) {
            eos_raster_close(r);
            failed++;
            continue;
        }
        eos_image_result res;
        eos_status st = eos_analyze_image(an, r, &a->ip, &res);
        eos_raster_close(r);
        eos_raster_close(cr);
        if (st != EOS_OK) {
            cli_error(1, "%s: %s", a->images[i], eos_analyzer_errmsg(an));
            failed++;
            continue;
        }
        print_result(a, an, a->images[i], &res);
        eos_image_result_free(&res);
    }
    failed += flush(a, an, &q);
    pending_free(&q);
    fflush(stdout);
    return failed ? 1 : 0;
}

/* ------------------------------------------------------------------ segment */

static void print_segment(const eos_analyzer *an, const char *path, const eos_segment_result *res) {
    const eos_contract *c = eos_analyzer_contract(an);
    int64_t valid = res->width_px * res->height_px - res->nodata_px;
    printf("%s  (%s, %lld x %lld px, %lld windows: %lld all nodata, %lld cloudy; %.1f s)\n",
           path, eos_analyzer_name(an), (long long)res->width_px, (long long)res->height_px,
           (long long)res->windows, (long long)res->windows_nodata,
           (long long)res->windows_cloudy, res->seconds);
    printf("  %-24s %14s %16s %8s\n", "class", "pixels", "area m2", "share");
    for (int i = 0; i < res->n_classes; i++)
        printf("  %-24.24s %14lld %16.1f %7.2f%%\n", c->class_names[i], (long long)res->pixels[i],
               res->area_m2[i], valid > 0 ? 100.0 * (double)res->pixels[i] / (double)valid : 0.0);
    if (res->nodata_px) printf("  %-24s %14lld\n", "(nodata)", (long long)res->nodata_px);
    printf("  mean predictive entropy %.3f (0: certain, 1: uniform)\n", res->mean_entropy);
    if (res->n_polygons) printf("  %lld polygons\n", (long long)res->n_polygons);
}

static int write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fputc('\n', f) < 0) {
        if (f) fclose(f);
        return cli_error(1, "cannot write %s", path);
    }
    if (fclose(f) != 0) return cli_error(1, "cannot write %s", path);
    return 0;
}

static int run_segment(args *a, eos_ctx *ctx, eos_analyzer *an) {
    eos_raster *r, *cr;
    if (open_checked(a, ctx, an, a->images[0], &r)) return 1;
    if (open_for_clouds(a, ctx, a->images[0], &cr)) {
        eos_raster_close(r);
        return 1;
    }
    if (a->sp.post) {
        eos_raster_info info;
        eos_raster_get_info(r, &info);
        a->sp.clean.min_object_px = eos_mask_area_to_px(&info.georef, info.width_px,
                                                        info.height_px, a->min_object_m2);
        a->sp.clean.min_hole_px = eos_mask_area_to_px(&info.georef, info.width_px,
                                                      info.height_px, a->min_hole_m2);
    }
    eos_segment_result res;
    eos_status st = eos_segment_scene(an, r, &a->sp, &res);
    eos_raster_close(r);
    eos_raster_close(cr);
    if (st != EOS_OK) return cli_error(1, "%s: %s", a->images[0], eos_analyzer_errmsg(an));
    char *js = NULL;
    int rc = 0;
    if ((a->json || a->areas_path) && eos_segment_result_json(an, &res, &js) != EOS_OK)
        rc = cli_error(1, "out of memory");
    if (!rc && a->areas_path) rc = write_text(a->areas_path, js);
    if (!rc && a->json) print_json_line("image", a->images[0], js);
    else if (!rc) print_segment(an, a->images[0], &res);
    eos_free(js);
    eos_segment_result_free(&res);
    return rc;
}

static int analysis_main(cmd_kind k, int argc, char **argv) {
    args *a = calloc(1, sizeof *a);
    if (!a) return cli_error(1, "out of memory");
    a->cmd = k;
    int rc = parse(argc, argv, a);
    eos_ctx *ctx = NULL;
    eos_analyzer *an = NULL, *clouds = NULL;
    if (rc < 0 && eos_ctx_create(NULL, &ctx) != EOS_OK) rc = cli_error(1, "cannot create a context");
    if (rc < 0 && (rc = open_analyzer(ctx, a->model, a->threads, &an)) == 0) rc = -1;
    if (rc < 0 && a->cloud_model && a->skip_cloudy >= 0) {
        if ((rc = open_analyzer(ctx, a->cloud_model, a->threads, &clouds)) == 0) rc = -1;
        a->ip.clouds = a->sp.clouds = clouds;
        a->ip.skip_cloudy = a->sp.skip_cloudy = a->skip_cloudy;
    }
    if (rc < 0) {
        eos_analysis_task t = eos_analyzer_contract(an)->task;
        bool ok = k == CMD_SEGMENT ? t == EOS_ANALYSIS_SEGMENT
                : k == CMD_TAG ? t == EOS_ANALYSIS_TAG
                : k == CMD_CLOUDS ? t == EOS_ANALYSIS_CLOUD
                : t == EOS_ANALYSIS_CLASSIFY || t == EOS_ANALYSIS_CLOUD;
        if (!ok)
            rc = cli_error(2, "%s: '%s' is a %s model (use eosight %s)", k_cmd_name[k], a->model,
                           eos_analysis_task_name(t),
                           t == EOS_ANALYSIS_SEGMENT ? "segment" : t == EOS_ANALYSIS_TAG ? "tag"
                           : t == EOS_ANALYSIS_CLOUD ? "clouds" : "classify");
    }
    if (rc < 0) rc = k == CMD_SEGMENT ? run_segment(a, ctx, an) : run_images(a, an, ctx);
    eos_analyzer_free(clouds);
    eos_analyzer_free(an);
    eos_ctx_free(ctx);
    free(a);
    return rc;
}

int cli_classify(int argc, char **argv) { return analysis_main(CMD_CLASSIFY, argc, argv); }
int cli_tag(int argc, char **argv) { return analysis_main(CMD_TAG, argc, argv); }
int cli_clouds(int argc, char **argv) { return analysis_main(CMD_CLOUDS, argc, argv); }
int cli_segment(int argc, char **argv) { return analysis_main(CMD_SEGMENT, argc, argv); }

/* ------------------------------------------------------------------ models */

static int models_usage(FILE *f, int code) {
    fprintf(f,
        "usage: eosight models [--json] [NAME...]\n\n"
        "Lists the models found on the search path (./models, each directory of\n"
        "$EOSIGHT_MODELS separated by ':', the install prefix's share/eosight/models) with\n"
        "their contracts: task, classes, bands and scaling, input size, GSD. With NAMEs,\n"
        "just those models (names or paths). --json prints one object per model and line.\n");
    return code;
}

static int show_model(eos_ctx *ctx, const char *path, bool json) {
    eos_analyzer_params p = { 1 };
    eos_analyzer *an;
    if (eos_analyzer_open(ctx, path, &p, &an) != EOS_OK) {
        fprintf(stderr, "eosight: skipping %s: %s\n", path, eos_ctx_errmsg(ctx));
        return 1;
    }
    if (json) {
        char *js;
        if (eos_contract_json(an, &js) == EOS_OK) {
            print_json_line("path", path, js);
            eos_free(js);
        }
    } else {
        const eos_contract *c = eos_analyzer_contract(an);
        const eos_model *m = eos_analyzer_model(an);
        const char *bands = eos_model_meta(m, "eosight.bands");
        printf("%-22s %-9s %3d classes  bands %s  input %dx%d%s", eos_analyzer_name(an),
               eos_analysis_task_name(c->task), c->n_classes, bands ? bands : "(unnamed)",
               c->in_h, c->in_w, c->gsd_m > 0 ? "" : "\n");
        if (c->gsd_m > 0) printf("  gsd %.3g m\n", c->gsd_m);
        printf("    %s\n    classes:", path);
        for (int i = 0; i < c->n_classes && i < 12; i++) printf(" %s", c->class_names[i]);
        printf("%s\n", c->n_classes > 12 ? " ..." : "");
    }
    eos_analyzer_free(an);
    return 0;
}

static int cmp_name(const void *x, const void *y) { return strcmp(x, y); }

int cli_models(int argc, char **argv) {
    bool json = false;
    int first = argc;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return models_usage(stdout, 0);
        if (!strcmp(argv[i], "--json")) json = true;
        else if (argv[i][0] == '-') return cli_error(2, "models: unknown option '%s'", argv[i]);
        else if (first == argc) first = i;
    }
    eos_ctx *ctx;
    if (eos_ctx_create(NULL, &ctx) != EOS_OK) return cli_error(1, "cannot create a context");
    int found = 0, bad = 0;
    for (int i = first; i < argc; i++) {
        if (argv[i][0] == '-') continue;
        char path[4096];
        if (eos_model_find(ctx, argv[i], path, sizeof path) != EOS_OK) {
            bad += cli_error(1, "%s", eos_ctx_errmsg(ctx));
            continue;
        }
        bad += show_model(ctx, path, json);
        found++;
    }
    if (first == argc) {
        const char *dirs[16];
        int n = eos_model_search_path(dirs, 16);
        for (int d = 0; d < n; d++) {
            DIR *dir = opendir(dirs[d]);
            if (!dir) continue;
            struct dirent *e;
            char names[256][256];
            int k = 0;
            while ((e = readdir(dir)) && k < 256) {
                size_t l = strlen(e->d_name);
                if (l > 5 && !strcmp(e->d_name + l - 5, ".onnx"))
                    snprintf(names[k++], sizeof names[0], "%s", e->d_name);
            }
            closedir(dir);
            qsort(names, (size_t)k, sizeof names[0], cmp_name);
            for (int i = 0; i < k; i++) {
                char path[4096 + 512];
                snprintf(path, sizeof path, "%.4000s/%.255s", dirs[d], names[i]);
                show_model(ctx, path, json);
                found++;
            }
        }
        if (!found && !json) printf("no models found in ./models, $EOSIGHT_MODELS or the install "
                                    "prefix (scripts/train-models.sh makes the default ones)\n");
    }
    eos_ctx_free(ctx);
    return bad ? 1 : 0;
}

#else

static int no_gdal(void) { return cli_error(1, "this eosight was built without GDAL"); }
int cli_classify(int argc, char **argv) { (void)argc; (void)argv; return no_gdal(); }
int cli_tag(int argc, char **argv) { (void)argc; (void)argv; return no_gdal(); }
int cli_clouds(int argc, char **argv) { (void)argc; (void)argv; return no_gdal(); }
int cli_segment(int argc, char **argv) { (void)argc; (void)argv; return no_gdal(); }
int cli_models(int argc, char **argv) { (void)argc; (void)argv; return no_gdal(); }

#endif
