/*
 * src/cli/eval.c - `eosight eval --model M --data DIR [...]`: score a trained model on a
 * labelled dataset (include/eosight/eval.h) and print a table, or one JSON object (--json).
 *
 * The dataset is opened for the model's task (eosight.task; --task for models without one).
 * --ignore-class NAME maps a segmentation class's mask pixels to "ignore" and leaves the class
 * out of the means, the way Unlabeled is handled for mIoU.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "eosight/eval.h"

#ifdef EOS_WITH_GDAL

#define MAX_IGNORE 64

static int eval_usage(FILE *f, int code) {
    fprintf(f,
        "usage: eosight eval --model M.onnx --data DIR [--split NAME] [--labels FILE]\n"
        "                    [--ignore-class NAME]... [--json] [--tta|--tta8] [--batch B]\n"
        "                    [--threads N] [--tile T] [--overlap P] [--max-items N]\n\n"
        "Runs a trained model over a labelled dataset and reports, by the model's task\n"
        "(eosight.task metadata):\n"
        "  classify  accuracy, per-class precision/recall/F1 and the confusion matrix\n"
        "  tag       micro/macro F1 and F2 at the model's per-label thresholds, and at\n"
        "            thresholds tuned on this data (printed, ready for eosight.thresholds)\n"
        "  segment   pixel accuracy, per-class IoU, mIoU and Dice (images run tile by tile)\n"
        "The model's class names must equal the dataset's (same order), its band count the\n"
        "images'; its eosight.norm.* scaling and eosight.input_size are applied (images of\n"
        "another size are resized; segmentation images are tiled instead).\n\n"
        "options:\n"
        "  --model M          ONNX model with eosight metadata (docs/model-metadata.md)\n"
        "  --data DIR         the dataset (layouts below); for tag also a CSV labels file\n"
        "  --split NAME       evaluate the items listed in DIR/splits/NAME.txt (default: all)\n"
        "  --labels FILE      tag: labels file (default DIR/multilabels.tsv)\n"
        "  --ignore-class N   segment: skip class N's pixels and leave it out of the means\n"
        "                     (repeatable, or a comma-separated list)\n"
        "  --json             print one JSON object (task, items, seconds, score, accuracy,\n"
        "                     micro_f1, miou, per-class figures, confusion ...) on stdout\n"
        "  --tta              average the 4 rotations of every input (test-time augmentation)\n"
        "  --tta8             average the 8 rotations and flips\n"
        "  --batch B          images per run for classify/tag (default 32)\n"
        "  --threads N        engine threads (default: all cores)\n"
        "  --loader-threads N image decoding threads (default 1)\n"
        "  --tile T           segment: tile side in pixels (default 512, rounded up to a\n"
        "                     multiple of 32)\n"
        "  --overlap P        segment: pixels shared by neighbouring tiles (default 64, even)\n"
        "  --max-items N      stop after N items (images for segment)\n"
        "  --task TASK        classify|tag|segment, for a model without eosight.task\n"
        "  --backend B        ref|dnnl|auto (default auto)\n"
        "  --quiet            no progress bar\n\n"
        "dataset layouts (DIR):\n"
        "  classify  DIR/images/<class>/<file> (or DIR/<class>/<file>), DIR/classes.txt with\n"
        "            one class per line (default: the sorted folder names), optional\n"
        "            DIR/splits/NAME.txt with lines \"<class>/<file>\"\n"
        "  tag       the images, plus DIR/multilabels.tsv (header \"IMAGE\\LABEL<TAB>l1...\",\n"
        "            rows \"<name><TAB>0|1...\") or a CSV \"image,tags\" with space-separated tags\n"
        "  segment   DIR/images/<name>.<ext>, DIR/masks/<name>.png (same size), DIR/classes.csv\n"
        "            \"id,name,hex,r,g,b\" for colour masks or DIR/classes.txt for index masks;\n"
        "            mask colours not in the table are ignored; splits list basenames\n"
        "Images are anything GDAL reads (JPEG, PNG, GeoTIFF with any bands and type).\n\n"
        "exit status: 0 done, 1 the model or the data could not be used, 2 bad usage\n");
    return code;
}

typedef struct eval_args {
    const char *model, *data, *split, *labels, *task;
    const char *ignore[MAX_IGNORE];
    int         n_ignore;
    bool        json, quiet;
    eos_backend_kind backend;
    eos_eval_params p;
} eval_args;

/* Add the comma-separated names of s (split in place). */
static int add_ignore(eval_args *a, char *s) {
    char *save = NULL;
    for (char *tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (a->n_ignore == MAX_IGNORE)
            return cli_error(2, "eval: at most %d --ignore-class names", MAX_IGNORE);
        a->ignore[a->n_ignore++] = tok;
    }
    return 0;
}

static int parse_value_opt(eval_args *a, const char *o, char *v) {
    long n = 0;
    int rc = 0;
    if (!strcmp(o, "--model")) a->model = v;
    else if (!strcmp(o, "--data")) a->data = v;
    else if (!strcmp(o, "--split")) a->split = v;
    else if (!strcmp(o, "--labels")) a->labels = v;
    else if (!strcmp(o, "--task")) a->task = v;
    else if (!strcmp(o, "--ignore-class")) rc = add_ignore(a, v);
    else if (!strcmp(o, "--backend")) {
        if (!cli_parse_backend(v, &a->backend)) rc = cli_error(2, "eval: unknown back-end '%s'", v);
    } else if (!strcmp(o, "--batch")) {
        if (!(rc = cli_int_opt("eval", o, v, 1, 4096, &n))) a->p.batch = (int)n;
    } else if (!strcmp(o, "--threads")) {
        if (!(rc = cli_int_opt("eval", o, v, 1, 1024, &n))) a->p.n_threads = (int)n;
    } else if (!strcmp(o, "--loader-threads")) {
        if (!(rc = cli_int_opt("eval", o, v, 1, 256, &n))) a->p.loader_threads = (int)n;
    } else if (!strcmp(o, "--tile")) {
        if (!(rc = cli_int_opt("eval", o, v, 32, 16384, &n))) a->p.tile = (int)n;
    } else if (!strcmp(o, "--overlap")) {
        if (!(rc = cli_int_opt("eval", o, v, 2, 8192, &n))) a->p.overlap = (int)n;
        if (!rc && n % 2) rc = cli_error(2, "eval: --overlap must be even");
    } else if (!strcmp(o, "--max-items")) {
        if (!(rc = cli_int_opt("eval", o, v, 1, 2147483647L, &n))) a->p.max_items = n;
    } else {
        rc = cli_error(2, "eval: unknown option '%s' (see eosight eval --help)", o);
    }
    return rc;
}

/* Returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, eval_args *a) {
    memset(a, 0, sizeof *a);
    a->backend = EOS_BACKEND_AUTO;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) return eval_usage(stdout, 0);
        if (!strcmp(o, "--json")) a->json = true;
        else if (!strcmp(o, "--quiet") || !strcmp(o, "-q")) a->quiet = true;
        else if (!strcmp(o, "--tta")) a->p.tta = true;
        else if (!strcmp(o, "--tta8")) a->p.tta = a->p.tta8 = true;
        else if (o[0] != '-') return cli_error(2, "eval: unexpected argument '%s' (see --help)", o);
        else if (i + 1 >= argc) return cli_error(2, "eval: %s needs a value (see --help)", o);
        else {
            int rc = parse_value_opt(a, o, argv[++i]);
            if (rc) return rc;
        }
    }
    if (!a->model || !a->data) {
        eval_usage(stderr, 2);
        return cli_error(2, "eval: --model and --data are required");
    }
    a->p.progress = !a->quiet;
    return -1;
}

/* The model's task, or --task for a model without one (they must agree when both exist). */
static int pick_task(eos_ctx *ctx, const eos_model *m, const char *opt, eos_task *task) {
    eos_task t;
    eos_status st = eos_eval_model_task(ctx, m, &t);
    if (st != EOS_OK && st != EOS_NOT_FOUND)
        return cli_error(1, "%s (%s)", eos_ctx_errmsg(ctx), eos_status_name(st));
    if (opt) {
        eos_task o;
        if (eos_task_parse(opt, &o) != EOS_OK)
            return cli_error(2, "eval: --task '%s': expected classify, tag or segment", opt);
        if (st == EOS_OK && o != t)
            return cli_error(2, "eval: --task %s, but the model is a %s model", opt,
                             eos_task_name(t));
        t = o;
    } else if (st == EOS_NOT_FOUND) {
        return cli_error(2, "eval: the model has no eosight.task metadata: pass --task");
    }
    *task = t;
    return 0;
}

/* excluded[c] for every --ignore-class (which must name a dataset class). */
static int mark_ignored(const eval_args *a, const eos_dataset *ds, bool *excluded) {
    int n = eos_dataset_n_classes(ds);
    for (int k = 0; k < a->n_ignore; k++) {
        int c = 0;
        while (c < n && strcmp(eos_dataset_class_name(ds, c), a->ignore[k])) c++;
        if (c == n) return cli_error(1, "eval: --ignore-class '%s' is not a class of %s",
                                     a->ignore[k], a->data);
        excluded[c] = true;
    }
    return 0;
}

static int report(const eval_args *a, const eos_eval_result *r) {
    if (!a->json) {
        eos_eval_print(r, stdout);
        return 0;
    }
    char *js;
    if (eos_eval_json(r, &js) != EOS_OK) return cli_error(1, "eval: out of memory");
    printf("%s\n", js);
    eos_free(js);
    return 0;
}

static int run_eval(eval_args *a, eos_ctx *ctx, const eos_model *m) {
    eos_dataset_params dp = { 0 };
    int rc = pick_task(ctx, m, a->task, &dp.task);
    if (rc) return rc;
    if (a->n_ignore && dp.task != EOS_TASK_SEGMENT)
        return cli_error(2, "eval: --ignore-class is for segmentation models");
    dp.split = a->split;
    dp.labels = a->labels;
    dp.ignore_classes = a->ignore;
    dp.n_ignore_classes = a->n_ignore;
    eos_dataset *ds;
    eos_status st = eos_dataset_open(ctx, a->data, &dp, &ds);
    if (st != EOS_OK) return cli_error(1, "%s (%s)", eos_ctx_errmsg(ctx), eos_status_name(st));
    bool excluded[EOS_DATA_MAX_CLASSES] = { false };
    rc = mark_ignored(a, ds, excluded);
    if (!rc) {
        eos_eval_result r;
        a->p.excluded = a->n_ignore ? excluded : NULL;
        st = eos_evaluate(ctx, m, ds, &a->p, &r);
        if (st == EOS_OK) rc = report(a, &r);
        else rc = cli_error(1, "%s (%s)", eos_ctx_errmsg(ctx), eos_status_name(st));
        eos_eval_result_free(&r);
    }
    eos_dataset_free(ds);
    return rc;
}

int cli_eval(int argc, char **argv) {
    eval_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0) return rc;
    eos_ctx *ctx;
    eos_model *m;
    if ((rc = cli_load_model(a.model, a.backend, &ctx, &m))) return rc;
    rc = run_eval(&a, ctx, m);
    eos_model_free(m);
    eos_ctx_free(ctx);
    return rc;
}

#else /* !EOS_WITH_GDAL */

int cli_eval(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return cli_error(1, "eval: this eosight was built without GDAL (EOS_WITH_GDAL=OFF)");
}

#endif
