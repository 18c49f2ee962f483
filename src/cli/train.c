/*
 * src/cli/train.c - `eosight train`: train a scene classifier, a tagger or a segmentation
 * network from scratch (or fine-tune an ONNX model) on a dataset folder; see --help and
 * src/train/fit.h for the loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#ifdef EOS_WITH_GDAL

#include "eosight/data.h"
#include "eosight/train.h"
#include "train/fit.h"

static void help(FILE *f) {
    fprintf(f,
"usage: eosight train --task classify|tag|segment --data DIR --out MODEL.onnx [options]\n\n"
"Trains a network on labelled imagery with this CPU and writes the best model (by the\n"
"validation score) as ONNX with eosight metadata (task, classes, bands, normalisation,\n"
"input size, thresholds, training command and data digest), ready for `eosight eval`,\n"
"`eosight run` and the service. A checkpoint (MODEL.onnx.ckpt) is written after every\n"
"epoch; --resume continues exactly where it stopped. A JSON-lines log goes to\n"
"MODEL.onnx.log.jsonl.\n\n"
"Data (DIR): images/<class>/<file> with classes.txt and splits/NAME.txt (classify);\n"
"the same plus multilabels.tsv or a CSV image,tags (tag); images/<name>.<ext> and\n"
"masks/<name>.png with classes.csv id,name,hex,r,g,b (segment). See `eosight eval --help`.\n\n"
"Data options:\n"
"  --train-split NAME   split file for training (default train; 'all' = every image)\n"
"  --val-split NAME     split for validation after each epoch (default val; none = off)\n"
"  --labels FILE        tag: the labels file (default DIR/multilabels.tsv)\n"
"  --ignore-class NAME  segment: pixels of this class are ignored (repeatable)\n"
"  --size HxW | N       training input size (classify/tag: images are resized to it;\n"
"                       segment: random patches of it; default: the images' own / 256)\n"
"  --patches N          segment: patches per epoch (default 1000)\n"
"  --target-share F     segment: share of patches that must contain a rare-class pixel\n"
"                       (default 0.5)\n"
"  --augment default|d4|none  augmentation recipe (default: D4 + crops + colour jitter;\n"
"                       segment adds rotation, shear and skew)\n"
"  --cache-mb N         decoded images kept in memory (default 2048)\n"
"Model options:\n"
"  --arch NAME          resnet18 (default), resnet34, resnet50, unet (default for segment),\n"
"                       cloudnet\n"
"  --init MODEL.onnx    fine-tune this ONNX model instead of building --arch\n"
"  --stem imagenet|s2|s1  ResNet/CloudNet stem: 7x7/2+max-pool, 3x3/2 (default), 3x3/1\n"
"  --width N            ResNet first-stage channels (default 64), CloudNet base width\n"
"  --base N             U-Net channels at full resolution (default 16)\n"
"  --depth N            U-Net levels (default 4)\n"
"  --const-width        U-Net: the same width at every level (deepsense.ai variant)\n"
"  --bilinear           U-Net: bilinear up-sampling instead of transposed convolutions\n"
"  --dropout P          dropout before the classifier (default 0)\n"
"  --meta KEY=VALUE     extra metadata written into the model (repeatable, up to 32); a key\n"
"                       training writes itself takes this value instead, e.g.\n"
"                       --meta eosight.task=cloud for a clear/cloudy screening model\n"
"Optimisation:\n"
"  --epochs E (30)  --batch B (64; segment 8)  --lr LR (2e-3)\n"
"  --optim adamw|sgd    (default adamw)  --wd W (0.05)  --momentum M (0.9, SGD)  --nesterov\n"
"  --sched onecycle|cosine|step|constant (default onecycle)  --warmup EPOCHS\n"
"  --step-epochs N --gamma G  step schedule\n"
"  --clip NORM          clip the gradient's global norm\n"
"  --loss ce|bce|dice|ce+dice|bce+dice|focal  (default ce; tag bce)\n"
"  --label-smoothing E  (default 0.1 for classify)\n"
"  --patience N         stop after N validations without improvement (default 0: never)\n"
"  --tta                validate with the 4 rot90s averaged\n"
"  --val-every K        validate every K epochs (default 1)\n"
"Run:\n"
"  --seed S (1)  --threads N (all cores)  --loader-threads N (1)\n"
"  --resume             continue from the checkpoint\n"
"  --ckpt PATH          checkpoint path (default MODEL.onnx.ckpt)\n"
"  --log PATH           JSON-lines log (default MODEL.onnx.log.jsonl)\n"
"  --max-steps N        stop after N optimiser steps (smoke tests, benchmarks)\n"
"  --quiet              no progress bar or epoch lines\n");
}

static bool parse_float(const char *s, double lo, double hi, float *out) {
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= lo && v <= hi)) return false;
    *out = (float)v;
    return true;
}

static bool parse_size(const char *s, int *h, int *w) {
    long a, b;
    char *end;
    a = strtol(s, &end, 10);
    if (end == s) return false;
    if (*end == 'x' || *end == 'X') {
        const char *p = end + 1;
        b = strtol(p, &end, 10);
        if (end == p) return false;
    } else {
        b = a;
    }
    if (*end || a < 8 || b < 8 || a > 8192 || b > 8192) return false;
    *h = (int)a;
    *w = (int)b;
    return true;
}

static bool parse_loss(const char *s, eos_loss_kind *k) {
    static const struct { const char *n; eos_loss_kind k; } t[] = {
        {"ce", EOS_LOSS_CE}, {"bce", EOS_LOSS_BCE}, {"dice", EOS_LOSS_DICE},
        {"ce+dice", EOS_LOSS_CE_DICE}, {"bce+dice", EOS_LOSS_BCE_DICE}, {"focal", EOS_LOSS_FOCAL}};
    for (size_t i = 0; i < sizeof t / sizeof *t; i++)
        if (!strcmp(s, t[i].n)) {
            *k = t[i].k;
            return true;
        }
    return false;
}

static bool parse_sched(const char *s, eos_sched_kind *k) {
    if (!strcmp(s, "onecycle")) *k = EOS_SCHED_ONECYCLE;
    else if (!strcmp(s, "cosine")) *k = EOS_SCHED_COSINE;
    else if (!strcmp(s, "step")) *k = EOS_SCHED_STEP;
    else if (!strcmp(s, "constant")) *k = EOS_SCHED_CONSTANT;
    else return false;
    return true;
}

static char *join_argv(int argc, char **argv) {
    size_t n = 16;
    for (int i = 0; i < argc; i++) n += strlen(argv[i]) + 1;
    char *s = malloc(n);
    if (!s) return NULL;
    size_t o = (size_t)snprintf(s, n, "eosight");
    for (int i = 0; i < argc; i++) o += (size_t)snprintf(s + o, n - o, " %s", argv[i]);
    return s;
}

#define MAX_IGNORE 32
#define MAX_META_KEY 128

typedef struct meta_args {
    int         n;
    char        keys[EOS_FIT_MAX_META][MAX_META_KEY];
    const char *key_ptr[EOS_FIT_MAX_META];
    const char *values[EOS_FIT_MAX_META];
} meta_args;

/* One --meta KEY=VALUE: the key is copied, the value borrowed from argv. */
static int add_meta(meta_args *m, const char *kv) {
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv) return cli_error(2, "bad --meta '%s' (KEY=VALUE, non-empty KEY)", kv);
    size_t n = (size_t)(eq - kv);
    if (n >= MAX_META_KEY) return cli_error(2, "--meta key longer than %d bytes", MAX_META_KEY - 1);
    if (m->n >= EOS_FIT_MAX_META) return cli_error(2, "more than %d --meta", EOS_FIT_MAX_META);
    memcpy(m->keys[m->n], kv, n);
    m->keys[m->n][n] = '\0';
    m->key_ptr[m->n] = m->keys[m->n];
    m->values[m->n] = eq + 1;
    m->n++;
    return 0;
}

int cli_train(int argc, char **argv) {
    const char *task_s = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            help(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--task") && i + 1 < argc) task_s = argv[i + 1];
    }
    eos_task task;
    if (!task_s || eos_task_parse(task_s, &task) != EOS_OK) {
        help(stderr);
        return cli_error(2, "--task classify|tag|segment is required");
    }
    eos_fit_config c;
    eos_fit_config_default(&c, task);
    const char *ignore[MAX_IGNORE];
    int n_ignore = 0;
    meta_args meta;
    meta.n = 0;
    const char *aug = "default";
    bool arch_set = false, loss_set = false, base_set = false;
    eos_loss_kind lk = c.loss.kind;
    float ls = -1, mom = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n;
#define NEED() do { if (!v) return cli_error(2, "%s needs a value", a); i++; } while (0)
        if (!strcmp(a, "--task")) { NEED(); }
        else if (!strcmp(a, "--data")) { NEED(); c.data = v; }
        else if (!strcmp(a, "--out")) { NEED(); c.out = v; }
        else if (!strcmp(a, "--train-split")) { NEED(); c.train_split = strcmp(v, "all") ? v : NULL; }
        else if (!strcmp(a, "--val-split")) { NEED(); c.val_split = v; }
        else if (!strcmp(a, "--labels")) { NEED(); c.labels = v; }
        else if (!strcmp(a, "--ignore-class")) {
            NEED();
            if (n_ignore >= MAX_IGNORE) return cli_error(2, "too many --ignore-class");
            ignore[n_ignore++] = v;
        }
        else if (!strcmp(a, "--size")) {
            NEED();
            if (!parse_size(v, &c.size_h, &c.size_w)) return cli_error(2, "bad --size '%s' (HxW, 8..8192)", v);
        }
        else if (!strcmp(a, "--patches")) { NEED(); if (!cli_parse_int(v, 1, 100000000, &n)) return cli_error(2, "bad --patches"); c.patches_per_epoch = n; }
        else if (!strcmp(a, "--target-share")) { NEED(); if (!parse_float(v, 0, 1, &c.target_share)) return cli_error(2, "bad --target-share"); }
        else if (!strcmp(a, "--augment")) { NEED(); aug = v; }
        else if (!strcmp(a, "--cache-mb")) { NEED(); if (!cli_parse_int(v, 0, 1 << 22, &n)) return cli_error(2, "bad --cache-mb"); c.cache_mb = n; }
        else if (!strcmp(a, "--arch")) {
            NEED();
            eos_arch_kind k;
            if (eos_arch_parse(v, &k) != EOS_OK) return cli_error(2, "unknown --arch '%s'", v);
            eos_arch keep = c.arch;
            eos_arch_default(&c.arch, k);
            c.arch.stem = keep.stem;
            if (k == EOS_ARCH_UNET && !base_set) c.arch.base = 16;
            arch_set = true;
        }
        else if (!strcmp(a, "--init")) { NEED(); c.init = v; }
        else if (!strcmp(a, "--stem")) {
            NEED();
            if (!strcmp(v, "imagenet")) c.arch.stem = EOS_STEM_IMAGENET;
            else if (!strcmp(v, "s2")) c.arch.stem = EOS_STEM_S2;
            else if (!strcmp(v, "s1")) c.arch.stem = EOS_STEM_S1;
            else return cli_error(2, "unknown --stem '%s'", v);
        }
        else if (!strcmp(a, "--width")) { NEED(); if (!cli_parse_int(v, 4, 1024, &n)) return cli_error(2, "bad --width"); c.arch.width = (int)n; }
        else if (!strcmp(a, "--base")) { NEED(); if (!cli_parse_int(v, 4, 1024, &n)) return cli_error(2, "bad --base"); c.arch.base = (int)n; base_set = true; }
        else if (!strcmp(a, "--depth")) { NEED(); if (!cli_parse_int(v, 1, 6, &n)) return cli_error(2, "bad --depth"); c.arch.depth = (int)n; }
        else if (!strcmp(a, "--const-width")) c.arch.const_width = true;
        else if (!strcmp(a, "--bilinear")) c.arch.bilinear = true;
        else if (!strcmp(a, "--meta")) { NEED(); if (add_meta(&meta, v)) return 2; }
        else if (!strcmp(a, "--dropout")) { NEED(); if (!parse_float(v, 0, 0.95, &c.arch.dropout)) return cli_error(2, "bad --dropout"); }
        else if (!strcmp(a, "--epochs")) { NEED(); if (!cli_parse_int(v, 1, 100000, &n)) return cli_error(2, "bad --epochs"); c.epochs = (int)n; }
        else if (!strcmp(a, "--batch")) { NEED(); if (!cli_parse_int(v, 1, 65536, &n)) return cli_error(2, "bad --batch"); c.batch = (int)n; }
        else if (!strcmp(a, "--lr")) { NEED(); if (!parse_float(v, 1e-8, 100, &c.sched.lr)) return cli_error(2, "bad --lr"); }
        else if (!strcmp(a, "--optim")) {
            NEED();
            float wd = c.optim.weight_decay;
            if (!strcmp(v, "adamw")) eos_optim_params_default(&c.optim, EOS_OPTIM_ADAMW);
            else if (!strcmp(v, "sgd")) eos_optim_params_default(&c.optim, EOS_OPTIM_SGD);
            else return cli_error(2, "unknown --optim '%s'", v);
            c.optim.weight_decay = wd;
        }
        else if (!strcmp(a, "--wd")) { NEED(); if (!parse_float(v, 0, 10, &c.optim.weight_decay)) return cli_error(2, "bad --wd"); }
        else if (!strcmp(a, "--momentum")) { NEED(); if (!parse_float(v, 0, 0.9999, &mom)) return cli_error(2, "bad --momentum"); }
        else if (!strcmp(a, "--nesterov")) c.optim.nesterov = true;
        else if (!strcmp(a, "--sched")) { NEED(); if (!parse_sched(v, &c.sched.kind)) return cli_error(2, "unknown --sched '%s'", v); }
        else if (!strcmp(a, "--warmup")) { NEED(); if (!parse_float(v, 0, 10000, &c.warmup_epochs)) return cli_error(2, "bad --warmup"); }
        else if (!strcmp(a, "--step-epochs")) { NEED(); if (!cli_parse_int(v, 1, 100000, &n)) return cli_error(2, "bad --step-epochs"); c.sched.step_size = n; }
        else if (!strcmp(a, "--gamma")) { NEED(); if (!parse_float(v, 0, 1, &c.sched.gamma)) return cli_error(2, "bad --gamma"); }
        else if (!strcmp(a, "--clip")) { NEED(); if (!parse_float(v, 0, 1e9, &c.optim.clip_norm)) return cli_error(2, "bad --clip"); }
        else if (!strcmp(a, "--loss")) { NEED(); if (!parse_loss(v, &lk)) return cli_error(2, "unknown --loss '%s'", v); loss_set = true; }
        else if (!strcmp(a, "--label-smoothing")) { NEED(); if (!parse_float(v, 0, 0.99, &ls)) return cli_error(2, "bad --label-smoothing"); }
        else if (!strcmp(a, "--patience")) { NEED(); if (!cli_parse_int(v, 0, 100000, &n)) return cli_error(2, "bad --patience"); c.patience = (int)n; }
        else if (!strcmp(a, "--tta")) c.tta = true;
        else if (!strcmp(a, "--val-every")) { NEED(); if (!cli_parse_int(v, 1, 100000, &n)) return cli_error(2, "bad --val-every"); c.val_every = (int)n; }
        else if (!strcmp(a, "--seed")) { NEED(); c.seed = strtoull(v, NULL, 10); }
        else if (!strcmp(a, "--threads")) { NEED(); if (!cli_parse_int(v, 1, 1024, &n)) return cli_error(2, "bad --threads"); c.threads = (int)n; }
        else if (!strcmp(a, "--loader-threads")) { NEED(); if (!cli_parse_int(v, 1, 64, &n)) return cli_error(2, "bad --loader-threads"); c.loader_threads = (int)n; }
        else if (!strcmp(a, "--resume")) c.resume = true;
        else if (!strcmp(a, "--ckpt")) { NEED(); c.ckpt = v; }
        else if (!strcmp(a, "--log")) { NEED(); c.log_path = v; }
        else if (!strcmp(a, "--max-steps")) { NEED(); if (!cli_parse_int(v, 1, 1L << 40, &n)) return cli_error(2, "bad --max-steps"); c.max_steps = n; }
        else if (!strcmp(a, "--quiet")) c.quiet = true;
        else return cli_error(2, "unknown option '%s' (see eosight train --help)", a);
#undef NEED
    }
    (void)arch_set;
    if (!c.data || !c.out) return cli_error(2, "--data DIR and --out MODEL.onnx are required");
    if (loss_set || ls >= 0) {
        float keep_ls = c.loss.label_smoothing;
        eos_loss_params_default(&c.loss, lk);
        c.loss.label_smoothing = ls >= 0 ? ls : (lk == EOS_LOSS_CE ? keep_ls : 0);
    }
    if (mom >= 0) c.optim.momentum = mom;
    if (!strcmp(aug, "none")) eos_augment_none(&c.aug);
    else if (!strcmp(aug, "d4")) { eos_augment_none(&c.aug); c.aug.p_d4 = 1; }
    else if (strcmp(aug, "default") != 0) return cli_error(2, "unknown --augment '%s'", aug);
    c.ignore_classes = ignore;
    c.n_ignore = n_ignore;
    c.meta_keys = meta.key_ptr;
    c.meta_values = meta.values;
    c.n_meta = meta.n;
    char *cmd = join_argv(argc, argv);
    c.command = cmd;
    eos_ctx *ctx = NULL;
    if (eos_ctx_create(NULL, &ctx) != EOS_OK) {
        free(cmd);
        return cli_error(1, "out of memory");
    }
    eos_status st = eos_fit(ctx, &c);
    int rc = 0;
    if (st != EOS_OK) rc = cli_error(1, "train: %s", eos_ctx_errmsg(ctx));
    eos_ctx_free(ctx);
    free(cmd);
    return rc;
}

#else

int cli_train(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return cli_error(1, "train: this eosight was built without GDAL (EOS_WITH_GDAL=OFF)");
}

#endif
