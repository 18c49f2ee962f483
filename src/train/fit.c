/*
 * src/train/fit.c - the training loop (see fit.h).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "eosight/alloc.h"
#include "eosight/eval.h"
#include "train/fit.h"
#include "train/net_internal.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void eos_fit_config_default(eos_fit_config *c, eos_task task) {
    memset(c, 0, sizeof *c);
    c->task = task;
    c->train_split = "train";
    c->val_split = "val";
    eos_arch_default(&c->arch, task == EOS_TASK_SEGMENT ? EOS_ARCH_UNET : EOS_ARCH_RESNET18);
    if (task != EOS_TASK_SEGMENT) c->arch.stem = EOS_STEM_S2;
    else {
        c->arch.base = 16;
        c->size_h = c->size_w = 256;
        c->patches_per_epoch = 1000;
        c->target_share = 0.5f;
    }
    c->epochs = 30;
    c->batch = task == EOS_TASK_SEGMENT ? 8 : 64;
    eos_optim_params_default(&c->optim, EOS_OPTIM_ADAMW);
    c->optim.weight_decay = 0.05f;
    c->sched.kind = EOS_SCHED_ONECYCLE;
    c->sched.lr = 2e-3f;
    c->sched.final_frac = 1e-4f;
    c->sched.gamma = 0.1f;
    c->warmup_epochs = 0;
    eos_loss_params_default(&c->loss, task == EOS_TASK_TAG ? EOS_LOSS_BCE : EOS_LOSS_CE);
    if (task == EOS_TASK_CLASSIFY) c->loss.label_smoothing = 0.1f;
    eos_augment_default(&c->aug, task, 3);
    c->seed = 1;
    c->loader_threads = 1;
    c->cache_mb = 2048;
    c->patience = 0;
    c->val_every = 1;
}

/* ------------------------------------------------------------------ small helpers */

typedef struct fit_err {
    eos_ctx *ctx;
    eos_err  e;
} fit_err;

__attribute__((format(printf, 3, 4)))
static eos_status ffail(eos_ctx *ctx, eos_status st, const char *fmt, ...) {
    eos_err e = {0};
    e.status = st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.msg, sizeof e.msg, fmt, ap);
    va_end(ap);
    return eos__ctx_fail(ctx, &e);
}

#define META_CAP (24 + EOS_FIT_MAX_META)

typedef struct meta {
    int   n;
    char *k[META_CAP];
    char *v[META_CAP];
} meta;

__attribute__((format(printf, 3, 4)))
static void meta_add(meta *m, const char *key, const char *fmt, ...) {
    if (m->n >= META_CAP) return;
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = eos_malloc((size_t)len + 1);
    if (!s) return;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)len + 1, fmt, ap);
    va_end(ap);
    m->k[m->n] = eos_strdup(key);
    m->v[m->n] = s;
    m->n++;
}

/* The user's --meta pairs: replace the value of a key already there, else add the key. */
static void meta_override(meta *m, const eos_fit_config *cfg) {
    for (int i = 0; i < cfg->n_meta && i < EOS_FIT_MAX_META; i++) {
        int j = 0;
        while (j < m->n && strcmp(m->k[j], cfg->meta_keys[i]) != 0) j++;
        if (j == m->n) {
            meta_add(m, cfg->meta_keys[i], "%s", cfg->meta_values[i]);
            continue;
        }
        char *v = eos_strdup(cfg->meta_values[i]);
        if (!v) continue;
        eos_free(m->v[j]);
        m->v[j] = v;
    }
}

static void meta_free(meta *m) {
    for (int i = 0; i < m->n; i++) {
        eos_free(m->k[i]);
        eos_free(m->v[i]);
    }
    m->n = 0;
}

/* n numbers as "a,b,c" (%.9g). */
static char *list_f(const double *x, int n) {
    size_t cap = (size_t)n * 24 + 8;
    char *s = eos_malloc(cap);
    if (!s) return NULL;
    size_t o = 0;
    s[0] = '\0';
    for (int i = 0; i < n && o < cap; i++)
        o += (size_t)snprintf(s + o, cap - o, i ? ",%.9g" : "%.9g", x[i]);
    return s;
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t n) {
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static uint64_t data_digest(const eos_dataset *ds) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (int64_t i = 0; i < eos_dataset_size(ds); i++) {
        const char *nm = eos_dataset_item_name(ds, i);
        h = fnv1a(h, nm, strlen(nm) + 1);
        if (eos_dataset_task(ds) == EOS_TASK_CLASSIFY) {
            int l = eos_dataset_label(ds, i);
            h = fnv1a(h, &l, sizeof l);
        } else if (eos_dataset_task(ds) == EOS_TASK_TAG) {
            h = fnv1a(h, eos_dataset_tags(ds, i), (size_t)eos_dataset_n_classes(ds));
        }
    }
    return h;
}

static const char *task_meta_name(eos_task t) {
    return t == EOS_TASK_CLASSIFY ? "classification" : t == EOS_TASK_TAG ? "multilabel" : "segmentation";
}

static void build_meta(meta *m, const eos_fit_config *cfg, const eos_dataset *ds,
                       const eos_norm *norm, const float *thresholds, int size_h, int size_w,
                       uint64_t digest, const char *metrics_json, int epoch) {
    int nc = eos_dataset_n_classes(ds), nb = eos_dataset_n_bands(ds);
    meta_add(m, "eosight.task", "%s", task_meta_name(cfg->task));
    size_t cap = 64;
    for (int c = 0; c < nc; c++) cap += strlen(eos_dataset_class_name(ds, c)) + 1;
    char *cl = eos_malloc(cap);
    if (cl) {
        size_t o = 0;
        for (int c = 0; c < nc; c++)
            o += (size_t)snprintf(cl + o, cap - o, c ? ",%s" : "%s", eos_dataset_class_name(ds, c));
        meta_add(m, "eosight.classes", "%s", cl);
        eos_free(cl);
    }
    if (cfg->task == EOS_TASK_SEGMENT) {
        char col[EOS_DATA_MAX_CLASSES * 8 + 8];
        size_t o = 0;
        bool all = true;
        for (int c = 0; c < nc; c++) {
            uint8_t rgb[3];
            if (!eos_dataset_class_color(ds, c, rgb)) { all = false; break; }
            o += (size_t)snprintf(col + o, sizeof col - o, c ? ",#%02x%02x%02x" : "#%02x%02x%02x",
                                  rgb[0], rgb[1], rgb[2]);
        }
        if (all) meta_add(m, "eosight.colors", "%s", col);
    }
    if (cfg->task == EOS_TASK_TAG && thresholds) {
        double t[EOS_DATA_MAX_CLASSES];
        for (int c = 0; c < nc; c++) t[c] = thresholds[c];
        char *s = list_f(t, nc);
        if (s) meta_add(m, "eosight.thresholds", "%s", s);
        eos_free(s);
    }
    if (nb == 3) meta_add(m, "eosight.bands", "Red,Green,Blue");
    else if (nb == 1) meta_add(m, "eosight.bands", "Gray");
    double v[EOS_RASTER_MAX_BANDS];
    const char *keys[4] = {"eosight.norm.scale", "eosight.norm.offset", "eosight.norm.mean",
                           "eosight.norm.std"};
    for (int k = 0; k < 4; k++) {
        const double *src = k == 0 ? norm->scale : k == 1 ? norm->offset : k == 2 ? norm->mean : norm->std;
        for (int b = 0; b < nb; b++) v[b] = src[b];
        char *s = list_f(v, nb);
        if (s) meta_add(m, keys[k], "%s", s);
        eos_free(s);
    }
    if (size_h > 0) meta_add(m, "eosight.input_size", "%d,%d", size_h, size_w);
    meta_add(m, "eosight.arch", "%s", cfg->init ? "imported" : eos_arch_name(cfg->arch.kind));
    if (cfg->command) meta_add(m, "eosight.train.command", "%s", cfg->command);
    meta_add(m, "eosight.train.data_digest", "fnv1a64:%016llx", (unsigned long long)digest);
    meta_add(m, "eosight.train.epochs", "%d", epoch);
    if (metrics_json) meta_add(m, "eosight.train.val_metrics", "%s", metrics_json);
    meta_override(m, cfg);
}

/* ------------------------------------------------------------------ checkpoint blob */

typedef struct fit_state {
    char     magic[8];
    int32_t  version;
    int32_t  epoch_done;
    int64_t  step;
    double   best;
    int32_t  best_epoch;
    int32_t  bad_epochs;
    eos_rng  net_rng;
    int64_t  optim_n;
} fit_state;

static eos_status save_ckpt(eos_net *net, eos_optim *opt, const fit_state *fs, const char *path) {
    int64_t on = eos_optim_state_size(opt);
    size_t sz = sizeof *fs + (size_t)on * sizeof(float);
    uint8_t *blob = eos_malloc(sz);
    if (!blob) return EOS_NOMEM;
    fit_state s = *fs;
    memcpy(s.magic, "EOSFIT01", 8);
    s.version = 1;
    s.net_rng = net->rng;
    s.optim_n = on;
    memcpy(blob, &s, sizeof s);
    eos_optim_state_get(opt, (float *)(void *)(blob + sizeof s));
    eos_status st = eos_net_save_checkpoint(net, path, blob, sz);
    eos_free(blob);
    return st;
}

static eos_status load_ckpt(eos_ctx *ctx, eos_net *net, eos_optim *opt, fit_state *fs,
                            const char *path) {
    void *blob = NULL;
    size_t sz = 0;
    eos_status st = eos_net_load_checkpoint(net, path, &blob, &sz);
    if (st != EOS_OK) return ffail(ctx, st, "%s", eos_net_errmsg(net));
    fit_state s;
    if (sz < sizeof s) {
        eos_free(blob);
        return ffail(ctx, EOS_PARSE, "checkpoint '%s' has no training state", path);
    }
    memcpy(&s, blob, sizeof s);
    if (memcmp(s.magic, "EOSFIT01", 8) != 0 || s.optim_n != eos_optim_state_size(opt) ||
        sz != sizeof s + (size_t)s.optim_n * sizeof(float)) {
        eos_free(blob);
        return ffail(ctx, EOS_SHAPE, "checkpoint '%s' does not match this optimiser/network", path);
    }
    st = eos_optim_state_set(opt, (const float *)(const void *)((uint8_t *)blob + sizeof s), s.optim_n);
    eos_free(blob);
    if (st != EOS_OK) return ffail(ctx, st, "checkpoint '%s': optimiser state rejected", path);
    net->rng = s.net_rng;
    *fs = s;
    return EOS_OK;
}

/* ------------------------------------------------------------------ progress */

typedef struct progress {
    bool   tty;
    double last;
} progress;

static void fmt_time(double s, char *buf, size_t n) {
    if (!(s >= 0) || s > 1e7) {
        snprintf(buf, n, "--:--");
        return;
    }
    int t = (int)(s + 0.5);
    if (t >= 3600) snprintf(buf, n, "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60);
    else snprintf(buf, n, "%d:%02d", t / 60, t % 60);
}

static void progress_show(progress *pg, int epoch, int epochs, int64_t b, int64_t nb, double loss,
                          double metric, const char *mname, double ips, double eta, bool force) {
    if (!pg->tty) return;
    double t = now_s();
    if (!force && t - pg->last < 0.25) return;
    pg->last = t;
    char bar[31], et[32];
    int fill = nb > 0 ? (int)(30 * b / nb) : 0;
    for (int i = 0; i < 30; i++) bar[i] = i < fill ? '=' : (i == fill ? '>' : ' ');
    bar[30] = '\0';
    fmt_time(eta, et, sizeof et);
    fprintf(stderr, "\repoch %d/%d [%s] %lld/%lld loss %.4f %s %.4f %.1f img/s ETA %s   ", epoch,
            epochs, bar, (long long)b, (long long)nb, loss, mname, metric, ips, et);
    fflush(stderr);
}

/* ------------------------------------------------------------------ batch metric */

typedef struct run_metric {
    double num, den;       /* accuracy (classify / segment pixels) */
    double tp, fp, fn;     /* tag at 0.5 */
} run_metric;

static void metric_add(run_metric *m, eos_task task, const float *lg, int64_t rows, int c,
                       const int32_t *tgt, const float *tgt_f) {
    for (int64_t r = 0; r < rows; r++) {
        const float *z = lg + r * c;
        if (task == EOS_TASK_TAG) {
            for (int k = 0; k < c; k++) {
                bool p = z[k] > 0, t = tgt_f[r * c + k] > 0.5f;
                m->tp += p && t;
                m->fp += p && !t;
                m->fn += !p && t;
            }
            continue;
        }
        if (tgt[r] < 0 || tgt[r] >= c) continue;
        int best = 0;
        for (int k = 1; k < c; k++)
            if (z[k] > z[best]) best = k;
        m->num += best == tgt[r];
        m->den += 1;
    }
}

static double metric_value(const run_metric *m, eos_task task) {
    if (task == EOS_TASK_TAG) {
        double d = 2 * m->tp + m->fp + m->fn;
        return d > 0 ? 2 * m->tp / d : 0;
    }
    return m->den > 0 ? m->num / m->den : 0;
}

/* ------------------------------------------------------------------ validation */

typedef struct val_out {
    double score;
    char  *json;
    float *tuned;       /* tag: thresholds tuned on validation */
} val_out;

static eos_status validate(eos_ctx *ctx, const eos_fit_config *cfg, const char *model_path,
                           const eos_dataset *val, const bool *excluded, val_out *vo) {
    memset(vo, 0, sizeof *vo);
    eos_model *m = NULL;
    eos_status st = eos_model_load(ctx, model_path, &m);
    if (st != EOS_OK) return st;
    eos_eval_params ep = {0};
    ep.batch = cfg->task == EOS_TASK_SEGMENT ? 1 : cfg->batch;
    ep.n_threads = cfg->threads;
    ep.loader_threads = cfg->loader_threads;
    ep.tta = cfg->tta;
    ep.tile = cfg->val_tile;
    ep.excluded = excluded;
    eos_eval_result r;
    st = eos_evaluate(ctx, m, val, &ep, &r);
    eos_model_free(m);
    if (st != EOS_OK) return st;
    vo->score = cfg->task == EOS_TASK_TAG ? r.at_tuned.micro_f1 : eos_eval_score(&r);
    eos_eval_json(&r, &vo->json);
    if (cfg->task == EOS_TASK_TAG && r.tuned) {
        vo->tuned = eos_malloc(sizeof(float) * (size_t)r.n_classes);
        if (vo->tuned) memcpy(vo->tuned, r.tuned, sizeof(float) * (size_t)r.n_classes);
    }
    eos_eval_result_free(&r);
    return EOS_OK;
}

/* ------------------------------------------------------------------ the loop */

typedef struct fit_run {
    eos_ctx        *ctx;
    const eos_fit_config *cfg;
    eos_dataset    *train, *val;
    bool           *excluded;
    eos_norm        norm;
    eos_net        *net;
    eos_optim      *opt;
    eos_loader     *loader;
    eos_param_ref  *refs;
    float          *dlogits;
    int32_t        *tgt;
    int64_t         cap_rows;
    FILE           *log;
    char           *ckpt, *logp, *tmp_model;
    uint64_t        digest;
    int             nc;
} fit_run;

static void run_free(fit_run *r) {
    eos_loader_free(r->loader);
    eos_optim_free(r->opt);
    eos_net_free(r->net);
    eos_dataset_free(r->train);
    eos_dataset_free(r->val);
    eos_free(r->excluded);
    eos_free(r->refs);
    eos_free(r->dlogits);
    eos_free(r->tgt);
    if (r->log) fclose(r->log);
    eos_free(r->ckpt);
    eos_free(r->logp);
    eos_free(r->tmp_model);
}

static char *path_with(const char *base, const char *suffix) {
    size_t n = strlen(base) + strlen(suffix) + 1;
    char *s = eos_malloc(n);
    if (s) snprintf(s, n, "%s%s", base, suffix);
    return s;
}

static eos_status open_data(fit_run *r) {
    const eos_fit_config *cfg = r->cfg;
    eos_dataset_params dp = {0};
    dp.task = cfg->task;
    dp.split = cfg->train_split && cfg->train_split[0] ? cfg->train_split : NULL;
    dp.labels = cfg->labels;
    dp.ignore_classes = cfg->ignore_classes;
    dp.n_ignore_classes = cfg->n_ignore;
    dp.cache_mb = cfg->cache_mb;
    EOS_TRY(eos_dataset_open(r->ctx, cfg->data, &dp, &r->train));
    if (cfg->val_split && cfg->val_split[0] && strcmp(cfg->val_split, "none") != 0) {
        dp.split = cfg->val_split;
        dp.cache_mb = cfg->task == EOS_TASK_SEGMENT ? 0 : cfg->cache_mb / 4;
        EOS_TRY(eos_dataset_open(r->ctx, cfg->data, &dp, &r->val));
    }
    r->nc = eos_dataset_n_classes(r->train);
    r->digest = data_digest(r->train);
    return eos_dataset_norm_suggest(r->ctx, r->train, 2000, &r->norm);
}

static eos_status make_net(fit_run *r) {
    const eos_fit_config *cfg = r->cfg;
    eos_net_params np = eos_net_default_params();
    np.n_threads = cfg->threads;
    np.seed = cfg->seed ^ 0x5eedull;
    if (cfg->init) {
        EOS_TRY(eos_net_load(r->ctx, cfg->init, &np, &r->net));
    } else {
        eos_arch a = cfg->arch;
        a.in_ch = eos_dataset_n_bands(r->train);
        a.n_classes = r->nc;
        if (cfg->size_h > 0) {
            a.in_h = cfg->size_h;
            a.in_w = cfg->size_w;
        }
        EOS_TRY(eos_net_build(r->ctx, &a, cfg->seed, &np, &r->net));
    }
    if (eos_net_in_channels(r->net) != eos_dataset_n_bands(r->train))
        return ffail(r->ctx, EOS_SHAPE, "the model takes %d bands, the data has %d",
                     eos_net_in_channels(r->net), eos_dataset_n_bands(r->train));
    if (eos_net_n_outputs(r->net) > 0 && eos_net_n_outputs(r->net) != r->nc)
        return ffail(r->ctx, EOS_SHAPE, "the model has %d outputs, the data %d classes",
                     eos_net_n_outputs(r->net), r->nc);
    int np_ = eos_net_n_params(r->net);
    r->refs = eos_malloc(sizeof(eos_param_ref) * (size_t)np_);
    if (!r->refs) return ffail(r->ctx, EOS_NOMEM, "out of memory");
    eos_net_param_refs(r->net, r->refs);
    eos_status st = eos_optim_create(&cfg->optim, r->refs, np_, &r->opt);
    if (st != EOS_OK) return ffail(r->ctx, st, "bad optimiser settings");
    return EOS_OK;
}

static eos_status make_loader(fit_run *r) {
    const eos_fit_config *cfg = r->cfg;
    eos_loader_params lp = {0};
    lp.batch = cfg->batch;
    lp.out_h = cfg->size_h;
    lp.out_w = cfg->size_w;
    lp.fit = cfg->task == EOS_TASK_SEGMENT ? EOS_FIT_CROP : EOS_FIT_RESIZE;
    lp.shuffle = true;
    lp.drop_last = true;
    lp.seed = cfg->seed;
    lp.n_threads = cfg->loader_threads;
    lp.augment = &cfg->aug;
    lp.norm = &r->norm;
    lp.patches_per_epoch = cfg->task == EOS_TASK_SEGMENT ? cfg->patches_per_epoch : 0;
    lp.target_share = cfg->target_share;
    return eos_loader_create(r->ctx, r->train, &lp, &r->loader);
}

static eos_status save_model(fit_run *r, const char *path, const float *thr, const char *mjson,
                             int epoch) {
    meta m = {0};
    build_meta(&m, r->cfg, r->train, &r->norm, thr, r->cfg->size_h, r->cfg->size_w, r->digest,
               mjson, epoch);
    eos_status st = eos_net_save_onnx(r->net, path, (const char *const *)m.k,
                                      (const char *const *)m.v, m.n);
    meta_free(&m);
    if (st != EOS_OK) return ffail(r->ctx, st, "%s", eos_net_errmsg(r->net));
    return EOS_OK;
}

static eos_status train_step(fit_run *r, const eos_batch *b, double *loss, run_metric *rm) {
    const eos_fit_config *cfg = r->cfg;
    const float *lg;
    int64_t rows;
    eos_status st = eos_net_forward(r->net, b->x, b->n, b->h, b->w, true, &lg, &rows);
    if (st != EOS_OK) return ffail(r->ctx, st, "%s", eos_net_errmsg(r->net));
    int c = r->nc;
    if (rows > r->cap_rows) {
        eos_free(r->dlogits);
        eos_free(r->tgt);
        r->dlogits = eos_malloc(sizeof(float) * (size_t)(rows * c));
        r->tgt = eos_malloc(sizeof(int32_t) * (size_t)rows);
        r->cap_rows = (r->dlogits && r->tgt) ? rows : 0;
        if (!r->cap_rows) return ffail(r->ctx, EOS_NOMEM, "out of memory");
    }
    const int32_t *tgt = NULL;
    const float *tf = NULL;
    if (cfg->task == EOS_TASK_CLASSIFY) {
        tgt = b->y;
    } else if (cfg->task == EOS_TASK_TAG) {
        tf = b->tags;
    } else {
        for (int64_t i = 0; i < rows; i++) r->tgt[i] = b->mask[i];
        tgt = r->tgt;
    }
    st = eos_loss_compute(&cfg->loss, lg, rows, c, tgt, tf, loss, r->dlogits);
    if (st != EOS_OK) return ffail(r->ctx, st, "loss: bad targets in this batch");
    metric_add(rm, cfg->task, lg, rows, c, tgt, tf);
    st = eos_net_backward(r->net, r->dlogits);
    if (st != EOS_OK) return ffail(r->ctx, st, "%s", eos_net_errmsg(r->net));
    return EOS_OK;
}

static void log_line(fit_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_line(fit_run *r, const char *fmt, ...) {
    if (!r->log) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(r->log, fmt, ap);
    va_end(ap);
    fputc('\n', r->log);
    fflush(r->log);
}

static eos_status setup(fit_run *r) {
    const eos_fit_config *cfg = r->cfg;
    if (!cfg->data || !cfg->out) return ffail(r->ctx, EOS_INVALID_ARG, "--data and --out are required");
    if (cfg->epochs < 1 || cfg->batch < 1)
        return ffail(r->ctx, EOS_INVALID_ARG, "epochs and batch must be >= 1");
    if (cfg->n_meta < 0 || cfg->n_meta > EOS_FIT_MAX_META)
        return ffail(r->ctx, EOS_INVALID_ARG, "at most %d metadata pairs", EOS_FIT_MAX_META);
    for (int i = 0; i < cfg->n_meta; i++)
        if (!cfg->meta_keys[i] || !cfg->meta_keys[i][0] || !cfg->meta_values[i])
            return ffail(r->ctx, EOS_INVALID_ARG, "metadata pair %d: empty key or NULL value",
                         i + 1);
    EOS_TRY(open_data(r));
    if (r->val && eos_dataset_n_classes(r->val) != r->nc)
        return ffail(r->ctx, EOS_INVALID_ARG, "train and val splits have different classes");
    EOS_TRY(make_net(r));
    EOS_TRY(make_loader(r));
    r->ckpt = cfg->ckpt ? eos_strdup(cfg->ckpt) : path_with(cfg->out, ".ckpt");
    r->logp = cfg->log_path ? eos_strdup(cfg->log_path) : path_with(cfg->out, ".log.jsonl");
    r->tmp_model = path_with(cfg->out, ".val.onnx");
    if (!r->ckpt || !r->logp || !r->tmp_model) return ffail(r->ctx, EOS_NOMEM, "out of memory");
    r->log = fopen(r->logp, cfg->resume ? "a" : "w");
    if (!r->log) return ffail(r->ctx, EOS_IO, "cannot write the log '%s': %s", r->logp, strerror(errno));
    return EOS_OK;
}

static eos_status end_of_epoch(fit_run *r, fit_state *fs, int epoch, double tr_loss,
                               double tr_metric, double secs, bool *stop) {
    const eos_fit_config *cfg = r->cfg;
    bool last = epoch + 1 == cfg->epochs;
    int every = cfg->val_every > 0 ? cfg->val_every : 1;
    *stop = false;
    if (r->val && ((epoch + 1) % every == 0 || last)) {
        EOS_TRY(save_model(r, r->tmp_model, NULL, NULL, epoch + 1));
        val_out vo;
        double t0 = now_s();
        eos_status st = validate(r->ctx, cfg, r->tmp_model, r->val, r->excluded, &vo);
        remove(r->tmp_model);
        if (st != EOS_OK) return st;
        bool better = vo.score > fs->best || fs->best_epoch < 0;
        if (better) {
            fs->best = vo.score;
            fs->best_epoch = epoch + 1;
            fs->bad_epochs = 0;
            st = save_model(r, cfg->out, vo.tuned, vo.json, epoch + 1);
        } else {
            fs->bad_epochs++;
        }
        log_line(r, "{\"event\":\"epoch\",\"epoch\":%d,\"step\":%lld,\"train_loss\":%.6f,"
                 "\"train_metric\":%.6f,\"val_score\":%.6f,\"best\":%.6f,\"best_epoch\":%d,"
                 "\"seconds\":%.2f,\"val_seconds\":%.2f,\"val\":%s}",
                 epoch + 1, (long long)fs->step, tr_loss, tr_metric, vo.score, fs->best,
                 fs->best_epoch, secs, now_s() - t0, vo.json ? vo.json : "null");
        if (!cfg->quiet)
            fprintf(stderr, "epoch %d/%d: train loss %.4f metric %.4f | val %.4f%s (best %.4f @ %d) "
                    "| %.0f s\n", epoch + 1, cfg->epochs, tr_loss, tr_metric, vo.score,
                    better ? " *" : "", fs->best, fs->best_epoch, secs);
        eos_free(vo.json);
        eos_free(vo.tuned);
        if (st != EOS_OK) return st;
        if (cfg->patience > 0 && fs->bad_epochs >= cfg->patience) *stop = true;
    } else {
        if (!r->val) {   /* no validation: the latest model is the one kept */
            EOS_TRY(save_model(r, cfg->out, NULL, NULL, epoch + 1));
            fs->best_epoch = epoch + 1;
        }
        log_line(r, "{\"event\":\"epoch\",\"epoch\":%d,\"step\":%lld,\"train_loss\":%.6f,"
                 "\"train_metric\":%.6f,\"seconds\":%.2f}", epoch + 1, (long long)fs->step,
                 tr_loss, tr_metric, secs);
        if (!cfg->quiet)
            fprintf(stderr, "epoch %d/%d: train loss %.4f metric %.4f | %.0f s\n", epoch + 1,
                    cfg->epochs, tr_loss, tr_metric, secs);
    }
    fs->epoch_done = epoch + 1;
    eos_status st = save_ckpt(r->net, r->opt, fs, r->ckpt);
    if (st != EOS_OK) return ffail(r->ctx, st, "%s", eos_net_errmsg(r->net));
    return EOS_OK;
}

eos_status eos_fit(eos_ctx *ctx, const eos_fit_config *cfg) {
    eos__ctx_clear(ctx);
    fit_run r;
    memset(&r, 0, sizeof r);
    r.ctx = ctx;
    r.cfg = cfg;
    eos_status st = setup(&r);
    fit_state fs;
    memset(&fs, 0, sizeof fs);
    fs.best = -1;
    fs.best_epoch = -1;
    if (st == EOS_OK && cfg->resume) st = load_ckpt(ctx, r.net, r.opt, &fs, r.ckpt);
    if (st != EOS_OK) {
        run_free(&r);
        return st;
    }
    int64_t nb = eos_loader_n_batches(r.loader);
    eos_sched sc = cfg->sched;
    sc.total = (int64_t)cfg->epochs * nb;
    sc.warmup = (int64_t)(cfg->warmup_epochs * (float)nb);
    if (sc.kind == EOS_SCHED_ONECYCLE && sc.warmup <= 0) sc.warmup = sc.total * 3 / 10;
    if (sc.kind == EOS_SCHED_STEP) sc.step_size = (cfg->sched.step_size > 0 ? cfg->sched.step_size : 10) * nb;
    progress pg = {isatty(2) && !cfg->quiet, 0};
    if (!cfg->quiet)
        fprintf(stderr, "training %s: %lld train items, %d classes, %lld weights, %lld batches of "
                "%d per epoch%s\n", cfg->init ? cfg->init : eos_arch_name(cfg->arch.kind),
                (long long)eos_dataset_size(r.train), r.nc, (long long)eos_net_n_weights(r.net),
                (long long)nb, cfg->batch, cfg->resume ? " (resumed)" : "");
    log_line(&r, "{\"event\":\"start\",\"epoch\":%d,\"items\":%lld,\"classes\":%d,\"weights\":%lld,"
             "\"batches\":%lld,\"batch\":%d,\"command\":\"%s\"}", fs.epoch_done,
             (long long)eos_dataset_size(r.train), r.nc, (long long)eos_net_n_weights(r.net),
             (long long)nb, cfg->batch, cfg->command && !strchr(cfg->command, '"') ? cfg->command : "");
    double t_start = now_s();
    bool stop = false;
    for (int epoch = fs.epoch_done; st == EOS_OK && epoch < cfg->epochs && !stop; epoch++) {
        st = eos_loader_start_epoch(r.loader, epoch);
        if (st != EOS_OK) break;
        double t0 = now_s(), sum_loss = 0;
        int64_t nsteps = 0, imgs = 0;
        run_metric rm = {0};
        for (int64_t bi = 0;; bi++) {
            eos_batch b;
            st = eos_loader_next(r.loader, &b);
            if (st != EOS_OK) {
                ffail(ctx, st, "%s", eos_loader_errmsg(r.loader));
                break;
            }
            if (b.n == 0) break;
            double loss;
            st = train_step(&r, &b, &loss, &rm);
            if (st != EOS_OK) break;
            float lr = eos_sched_lr(&sc, fs.step);
            double gn = 0;
            st = eos_optim_step(r.opt, lr, &gn);
            if (st == EOS_NUMERIC) {
                st = ffail(ctx, EOS_NUMERIC, "epoch %d step %lld: the gradient is not finite "
                           "(loss %g); lower --lr or check the data", epoch + 1,
                           (long long)fs.step, loss);
                break;
            }
            if (st != EOS_OK) break;
            fs.step++;
            nsteps++;
            imgs += b.n;
            sum_loss += loss;
            double el = now_s() - t0, ips = (double)imgs / (el > 0 ? el : 1e-9);
            double eta = el / (double)(bi + 1) * (double)(nb - bi - 1);
            progress_show(&pg, epoch + 1, cfg->epochs, bi + 1, nb, sum_loss / (double)nsteps,
                          metric_value(&rm, cfg->task), cfg->task == EOS_TASK_TAG ? "f1@.5" : "acc",
                          ips, eta, false);
            if (fs.step % 50 == 0)
                log_line(&r, "{\"event\":\"step\",\"epoch\":%d,\"step\":%lld,\"loss\":%.6f,"
                         "\"lr\":%.6g,\"grad_norm\":%.4g,\"img_s\":%.2f}", epoch + 1,
                         (long long)fs.step, loss, (double)lr, gn, ips);
            if (cfg->max_steps > 0 && fs.step >= cfg->max_steps) break;
        }
        if (pg.tty) fputc('\n', stderr);
        if (st != EOS_OK) break;
        if (nsteps == 0) {
            st = ffail(ctx, EOS_INVALID_ARG, "an epoch has no batch: fewer items than --batch %d",
                       cfg->batch);
            break;
        }
        st = end_of_epoch(&r, &fs, epoch, sum_loss / (double)nsteps, metric_value(&rm, cfg->task),
                          now_s() - t0, &stop);
        if (cfg->max_steps > 0 && fs.step >= cfg->max_steps) break;
    }
    if (st == EOS_OK) {
        log_line(&r, "{\"event\":\"end\",\"epochs\":%d,\"best\":%.6f,\"best_epoch\":%d,"
                 "\"seconds\":%.1f}", fs.epoch_done, fs.best, fs.best_epoch, now_s() - t_start);
        if (!cfg->quiet)
            fprintf(stderr, "done: %d epochs in %.0f s; best %s %.4f at epoch %d -> %s\n",
                    fs.epoch_done, now_s() - t_start, r.val ? "val" : "(no validation)",
                    fs.best, fs.best_epoch, cfg->out);
    }
    run_free(&r);
    return st;
}
