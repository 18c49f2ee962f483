/*
 * src/cli/calibrate.c - `eosight calibrate --model IN --data DIR --out OUT`: give a classify,
 * tag or cloud model out-of-distribution scores (include/eosight/ood.h). The model runs over a
 * training split (class centroids and the feature covariance) and a held-out split (the scale
 * that makes the threshold flag about 1 % of it); OUT is IN with a "features" output and the
 * eosight.ood.* keys, and a summary (or --json) says what was stored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/strbuf.h"
#include "eosight/eval.h"
#include "eosight/ood.h"

#ifdef EOS_WITH_GDAL

static int calib_usage(FILE *f, int code) {
    fprintf(f,
        "usage: eosight calibrate --model IN.onnx --data DIR --out OUT.onnx [--split NAME]\n"
        "                         [--val-split NAME] [--quantile Q] [--threads N] [...]\n\n"
        "Calibrates out-of-distribution scores for a classify, tag or cloud model whose\n"
        "output comes from a final Gemm (global pooling -> Flatten -> Gemm: eosight's\n"
        "ResNets and CloudNets). The model runs over --split (default train): the input of\n"
        "its final Gemm, the penultimate features, gives one centroid per class (tag: per\n"
        "label present) and a shared covariance. Each image's score is then its Mahalanobis\n"
        "distance to the nearest centroid, scaled so that the --quantile (default 0.99) of\n"
        "--val-split (default val) scores 1; predictions scoring above the threshold 1 are\n"
        "`uncertain` in eosight classify/tag/clouds (about 1 %% of in-distribution images).\n"
        "OUT.onnx is IN.onnx with the features as a second output and eosight.ood.* keys\n"
        "(docs/model-metadata.md); the logits are unchanged. The images are prepared as\n"
        "`eosight eval` prepares them (the model's normalisation and input size).\n\n"
        "options:\n"
        "  --model IN         the trained model (ONNX with eosight metadata)\n"
        "  --data DIR         its dataset (layouts: eosight eval --help)\n"
        "  --out OUT          the calibrated model to write (may be IN itself)\n"
        "  --split NAME       split for centroids and covariance (default train)\n"
        "  --val-split NAME   held-out split for the scale (default val)\n"
        "  --labels FILE      tag: labels file (default DIR/multilabels.tsv)\n"
        "  --quantile Q       held-out quantile that scores 1 (default 0.99: ~1 %% flagged)\n"
        "  --diagonal         diagonal covariance only (smaller metadata; weaker scores)\n"
        "  --batch B          images per run (default 32)\n"
        "  --threads N        engine threads (default: all cores)\n"
        "  --loader-threads N image decoding threads (default 1)\n"
        "  --max-items N      use at most N items of each split\n"
        "  --task TASK        classify|tag, for a model without eosight.task\n"
        "  --backend B        ref|dnnl|auto (default auto)\n"
        "  --json             print the summary as one JSON object\n"
        "  --quiet            no progress bars\n\n"
        "exit status: 0 done, 1 the model or the data could not be used, 2 bad usage\n");
    return code;
}

typedef struct calib_args {
    const char *model, *data, *out, *split, *val_split, *labels, *task;
    bool        json, quiet;
    eos_backend_kind backend;
    eos_ood_calib_params p;
} calib_args;

static int num_opt(const char *name, const char *v, double *out) {
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end || !(x > 0 && x <= 1))
        return cli_error(2, "calibrate: %s '%s' is not a number in (0, 1]", name, v);
    *out = x;
    return 0;
}

static int parse_value_opt(calib_args *a, const char *o, const char *v) {
    long n = 0;
    int rc = 0;
    if (!strcmp(o, "--model")) a->model = v;
    else if (!strcmp(o, "--data")) a->data = v;
    else if (!strcmp(o, "--out")) a->out = v;
    else if (!strcmp(o, "--split")) a->split = v;
    else if (!strcmp(o, "--val-split")) a->val_split = v;
    else if (!strcmp(o, "--labels")) a->labels = v;
    else if (!strcmp(o, "--task")) a->task = v;
    else if (!strcmp(o, "--quantile")) rc = num_opt(o, v, &a->p.quantile);
    else if (!strcmp(o, "--backend")) {
        if (!cli_parse_backend(v, &a->backend))
            rc = cli_error(2, "calibrate: unknown back-end '%s'", v);
    } else if (!strcmp(o, "--batch")) {
        if (!(rc = cli_int_opt("calibrate", o, v, 1, 4096, &n))) a->p.batch = (int)n;
    } else if (!strcmp(o, "--threads")) {
        if (!(rc = cli_int_opt("calibrate", o, v, 1, 1024, &n))) a->p.n_threads = (int)n;
    } else if (!strcmp(o, "--loader-threads")) {
        if (!(rc = cli_int_opt("calibrate", o, v, 1, 256, &n))) a->p.loader_threads = (int)n;
    } else if (!strcmp(o, "--max-items")) {
        if (!(rc = cli_int_opt("calibrate", o, v, 1, 2147483647L, &n))) a->p.max_items = n;
    } else {
        rc = cli_error(2, "calibrate: unknown option '%s' (see eosight calibrate --help)", o);
    }
    return rc;
}

/* Returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, calib_args *a) {
    memset(a, 0, sizeof *a);
    a->backend = EOS_BACKEND_AUTO;
    a->split = "train";
    a->val_split = "val";
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) return calib_usage(stdout, 0);
        if (!strcmp(o, "--json")) a->json = true;
        else if (!strcmp(o, "--quiet") || !strcmp(o, "-q")) a->quiet = true;
        else if (!strcmp(o, "--diagonal")) a->p.diagonal = true;
        else if (o[0] != '-')
            return cli_error(2, "calibrate: unexpected argument '%s' (see --help)", o);
        else if (i + 1 >= argc) return cli_error(2, "calibrate: %s needs a value (see --help)", o);
        else {
            int rc = parse_value_opt(a, o, argv[++i]);
            if (rc) return rc;
        }
    }
    if (!a->model || !a->data || !a->out) {
        calib_usage(stderr, 2);
        return cli_error(2, "calibrate: --model, --data and --out are required");
    }
    a->p.progress = !a->quiet;
    return -1;
}

/* The model's task (eosight.task), or --task for a model without one. */
static int model_task(const calib_args *a, eos_ctx *ctx, eos_task *task) {
    eos_model *m;
    eos_status st = eos_model_load(ctx, a->model, &m);
    if (st != EOS_OK) return cli_error(1, "%s (%s)", eos_ctx_errmsg(ctx), eos_status_name(st));
    st = eos_eval_model_task(ctx, m, task);
    eos_model_free(m);
    if (st == EOS_NOT_FOUND && a->task) {
        if (eos_task_parse(a->task, task) != EOS_OK)
            return cli_error(2, "calibrate: --task '%s': expected classify or tag", a->task);
    } else if (st == EOS_NOT_FOUND) {
        return cli_error(2, "calibrate: the model has no eosight.task metadata: pass --task");
    } else if (st != EOS_OK) {
        return cli_error(1, "%s (%s)", eos_ctx_errmsg(ctx), eos_status_name(st));
    }
    if (*task == EOS_TASK_SEGMENT)
        return cli_error(1, "calibrate: %s is a segmentation model: out-of-distribution scores "
                         "are for classify, tag and cloud models", a->model);
    return 0;
}

static int open_split(const calib_args *a, eos_ctx *ctx, eos_task task, const char *split,
                      eos_dataset **ds) {
    eos_dataset_params dp = { 0 };
    dp.task = task;
    dp.split = split;
    dp.labels = a->labels;
    eos_status st = eos_dataset_open(ctx, a->data, &dp, ds);
    if (st != EOS_OK) return cli_error(1, "%s (%s)", eos_ctx_errmsg(ctx), eos_status_name(st));
    return 0;
}

static void print_json(const calib_args *a, const eos_ood_calib_result *r) {
    eos_strbuf b = EOS_STRBUF_INIT;
    char *js = NULL;
    const char *names[] = { "model", "out", "output", "method", "fit_split", "held_split" };
    const char *vals[] = { a->model, a->out, r->output, r->method, a->split, a->val_split };
    for (int i = 0; i < 6; i++) {
        eos_strbuf_printf(&b, "%s\"%s\":", i ? "," : "{", names[i]);
        eos_strbuf_json_str(&b, vals[i]);
    }
    eos_strbuf_printf(&b, ",\"dim\":%d,\"classes\":%d,\"centroids\":%d,\"fit_items\":%lld,"
                      "\"held_items\":%lld", r->dim, r->n_classes, r->n_centroids,
                      (long long)r->n_fit, (long long)r->n_held);
    const char *nk[] = { "raw_threshold", "threshold", "fit_flagged", "held_flagged",
                         "held_score", "seconds" };
    const double nv[] = { r->raw_threshold, r->threshold, r->fit_flagged, r->held_flagged,
                          r->held_score, r->seconds };
    for (int i = 0; i < 6; i++) {
        eos_strbuf_printf(&b, ",\"%s\":", nk[i]);
        eos_strbuf_json_num(&b, nv[i]);
    }
    eos_strbuf_puts(&b, "}");
    if (eos_strbuf_take(&b, &js) == EOS_OK) printf("%s\n", js);
    eos_free(js);
}

static void print_summary(const calib_args *a, eos_task task, const eos_ood_calib_result *r) {
    printf("calibrated %s -> %s in %.1f s\n", a->model, a->out, r->seconds);
    printf("features   output '%s', %d values per image; %s distance to the nearest "
           "centroid\n", r->output, r->dim, r->method);
    printf("centroids  %d of %d %s, from split '%s' (%lld items, %.2f %% of them flagged)\n",
           r->n_centroids, r->n_classes, task == EOS_TASK_TAG ? "labels" : "classes", a->split,
           (long long)r->n_fit, 100.0 * r->fit_flagged);
    printf("threshold  %g (score 1 = distance %.6g, the %g quantile of split '%s', %lld items)\n",
           r->threshold, r->raw_threshold, a->p.quantile > 0 ? a->p.quantile : 0.99,
           a->val_split, (long long)r->n_held);
    printf("flagged    %.2f %% of split '%s' as uncertain (%s on it: %.4f)\n",
           100.0 * r->held_flagged, a->val_split, task == EOS_TASK_TAG ? "micro-F1" : "accuracy",
           r->held_score);
}

static int run_calibrate(const calib_args *a, eos_ctx *ctx) {
    eos_task task;
    eos_dataset *fit = NULL, *held = NULL;
    int rc = model_task(a, ctx, &task);
    if (!rc) rc = open_split(a, ctx, task, a->split, &fit);
    if (!rc) rc = open_split(a, ctx, task, a->val_split, &held);
    if (!rc) {
        eos_ood_calib_result r;
        eos_status st = eos_ood_calibrate(ctx, a->model, fit, held, &a->p, a->out, &r);
        if (st != EOS_OK) rc = cli_error(1, "%s (%s)", eos_ctx_errmsg(ctx), eos_status_name(st));
        else if (a->json) print_json(a, &r);
        else print_summary(a, task, &r);
    }
    eos_dataset_free(fit);
    eos_dataset_free(held);
    return rc;
}

int cli_calibrate(int argc, char **argv) {
    calib_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0) return rc;
    eos_ctx_params cp = eos_ctx_default_params();
    cp.backend = a.backend;
    eos_ctx *ctx;
    if (eos_ctx_create(&cp, &ctx) != EOS_OK)
        return cli_error(2, "cannot use back-end '%s' (not built, or EOS_BACKEND is invalid)",
                         eos_backend_name(a.backend));
    rc = run_calibrate(&a, ctx);
    eos_ctx_free(ctx);
    return rc;
}

#else /* !EOS_WITH_GDAL */

int cli_calibrate(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return cli_error(1, "calibrate: this eosight was built without GDAL (EOS_WITH_GDAL=OFF)");
}

#endif
