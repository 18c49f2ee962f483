/*
 * src/analysis/ood_calibrate.c - eos_ood_calibrate (include/eosight/ood.h): the model's
 * penultimate features made a graph output, collected over a labelled split, turned into class
 * centroids and a whitening matrix, scaled on a held-out split, and written back into the
 * model as eosight.ood.* metadata.
 *
 * The model file is read as a graph (src/onnx/onnx.h), the value feeding the final Gemm/MatMul
 * becomes a second graph output (no node is added or changed, so the logits stay
 * bit-identical), and the graph is written back with src/onnx/onnx_write.h, which keeps every
 * metadata key and lets ours win. Both splits are run by eos_evaluate itself (eval.h), whose
 * batch callback hands over the features, so calibration sees exactly the preprocessing that
 * evaluation and training validation apply.
 *
 * The fit split's features are held in memory (n x D floats, at most 4 GiB) because the
 * covariance needs the centroids first; the held-out split only keeps one distance per item.
 * Sums are in double; the covariance is accumulated in blocks of residuals with the rows of
 * the packed triangle split over threads, which does not change the order of additions.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/infer.h"
#include "analysis/ood_internal.h"
#include "core/file.h"
#include "eosight/alloc.h"
#include "eosight/eval.h"
#include "graph/graph.h"
#include "onnx/onnx.h"
#include "onnx/onnx_write.h"

#define CAL_MAX_FEATURE_BYTES ((int64_t)4 << 30)
#define CAL_MAX_MODEL_BYTES   ((size_t)2 << 30)
#define CAL_WALK_MAX          16      /* nodes walked back from the output to the Gemm */
#define CAL_BLOCK             64      /* residual rows per covariance update */
#define CAL_RIDGE             1e-3    /* eps = CAL_RIDGE * trace(S) / D */
#define CAL_FEATURES          "features"

/* ------------------------------------------------------------------ the features output */

static bool passes_through(eos_op op) {
    return op == EOS_OP_IDENTITY || op == EOS_OP_DROPOUT || op == EOS_OP_SOFTMAX ||
           op == EOS_OP_LOG_SOFTMAX || op == EOS_OP_SIGMOID;
}

static bool produced_by(const eos_graph *g, int v, eos_op op) {
    int p = v >= 0 ? g->values[v].producer : -1;
    return p >= 0 && g->nodes[p].op == op;
}

static bool is_const(const eos_graph *g, int v) {
    return v >= 0 && (g->values[v].flags & EOS_VAL_CONST);
}

/* The A input of Gemm/MatMul node n (through Identity/Dropout) and its width from the weights. */
static eos_status gemm_features(const eos_graph *g, const eos_node *n, int *feat, int64_t *dim,
                                eos_err *err) {
    bool gemm = n->op == EOS_OP_GEMM;
    const eos_value *b = is_const(g, n->in[1]) ? &g->values[n->in[1]] : NULL;
    if (gemm && eos_attr_int(n, "transA", 0))
        return eos_err_set(err, EOS_UNSUPPORTED, "the final Gemm '%s' transposes its input",
                           n->name);
    if (!b || b->ndim != 2)
        return eos_err_set(err, EOS_UNSUPPORTED, "the weights of the final %s '%s' are not a "
                           "constant matrix", n->op_type, n->name);
    *dim = gemm && eos_attr_int(n, "transB", 0) ? b->dims[1] : b->dims[0];
    int a = n->in[0];
    for (int k = 0; k < CAL_WALK_MAX && (produced_by(g, a, EOS_OP_IDENTITY) ||
                                         produced_by(g, a, EOS_OP_DROPOUT)); k++)
        a = g->nodes[g->values[a].producer].in[0];
    const eos_value *v = a >= 0 ? &g->values[a] : NULL;
    if (!v || (v->flags & (EOS_VAL_CONST | EOS_VAL_INPUT)) || *dim < 1 ||
        (v->ndim >= 0 && (v->ndim != 2 || (v->dims[1] > 0 && v->dims[1] != *dim))))
        return eos_err_set(err, EOS_UNSUPPORTED, "the input of the final %s '%s' is not a "
                           "computed [N, %lld] feature matrix", n->op_type, n->name,
                           (long long)*dim);
    *feat = a;
    return EOS_OK;
}

/* The value feeding the model's final Gemm, MatMul or MatMul + Add (walking back from output 0
 * through Identity, Dropout, Softmax, LogSoftmax and Sigmoid), and its width. */
static eos_status find_features(const eos_graph *g, int *feat, int64_t *dim, eos_err *err) {
    int v = g->outputs[0];
    for (int k = 0; k < CAL_WALK_MAX && v >= 0; k++) {
        int p = g->values[v].producer;
        const eos_node *n = p >= 0 ? &g->nodes[p] : NULL;
        if (!n) break;
        if (n->op == EOS_OP_GEMM || n->op == EOS_OP_MATMUL)
            return gemm_features(g, n, feat, dim, err);
        if (passes_through(n->op)) {
            v = n->in[0];
        } else if (n->op == EOS_OP_ADD && produced_by(g, n->in[0], EOS_OP_MATMUL) &&
                   is_const(g, n->in[1])) {
            v = n->in[0];
        } else if (n->op == EOS_OP_ADD && produced_by(g, n->in[1], EOS_OP_MATMUL) &&
                   is_const(g, n->in[0])) {
            v = n->in[1];
        } else {
            break;
        }
    }
    return eos_err_set(err, EOS_UNSUPPORTED, "the model's output '%s' does not come from a final "
                       "Gemm or MatMul: out-of-distribution scores need a classifier head "
                       "(global pooling -> Flatten -> Gemm)", g->values[g->outputs[0]].name);
}

/* Make value feat a graph output (named "features", or "features_<k>" when taken), unless it
 * is one already; *name gets the output's name. */
static eos_status add_output(eos_graph *g, int feat, int64_t dim, const char **name,
                             eos_err *err) {
    eos_value *v = &g->values[feat];
    if (v->flags & EOS_VAL_OUTPUT) {
        *name = v->name;
        return EOS_OK;
    }
    char nm[32] = CAL_FEATURES;
    for (int k = 1; k < 1000 && eos_graph_find_value(g, nm) >= 0 &&
                    eos_graph_find_value(g, nm) != feat; k++)
        snprintf(nm, sizeof nm, CAL_FEATURES "_%d", k);
    int *outs = eos_arena_alloc(&g->arena, (size_t)(g->n_outputs + 1) * sizeof *outs);
    const char *s = eos_arena_strdup(&g->arena, nm);
    if (!outs || !s) return eos_err_set(err, EOS_NOMEM, "out of memory");
    memcpy(outs, g->outputs, (size_t)g->n_outputs * sizeof *outs);
    outs[g->n_outputs] = feat;
    g->outputs = outs;
    g->n_outputs++;
    v->name = s;   /* renamed only: nodes refer to values by id */
    v->flags |= EOS_VAL_OUTPUT;
    v->dtype = EOS_DTYPE_F32;
    v->ndim = 2;
    v->dims[0] = -1;
    v->dims[1] = dim;
    *name = s;
    return EOS_OK;
}

static eos_status graph_read(const char *path, eos_graph *g, eos_err *err) {
    uint8_t *buf = NULL;
    size_t len = 0;
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else snprintf(dir, sizeof dir, "%.*s", (int)(slash - path > 0 ? slash - path : 1), path);
    eos_status st = eos__read_file(path, "model file", CAL_MAX_MODEL_BYTES, &buf, &len, err);
    if (st == EOS_OK) st = eos_onnx_parse(buf, len, dir, g, err);
    eos_free(buf);
    if (st == EOS_OK) st = eos_graph_toposort(g, err);
    if (st != EOS_OK && st != EOS_IO) eos_err_prefix(err, "%s: ", path);
    return st;
}

/* ------------------------------------------------------------------ collecting features */

typedef struct cal {
    eos_ctx                    *ctx;
    const eos_ood_calib_params *p;
    const char                 *feat_name;
    int                         n_classes, dim;
    const eos_dataset          *ds;        /* the split being run */
    float                      *feat;      /* fit split: [cap, dim] */
    double                     *dist;      /* held-out split: [cap] (o set) */
    const eos_ood              *o;
    int64_t                    *item;      /* [cap] dataset item of each row */
    int64_t                     n_rows, cap;
    eos_err                     err;       /* why the batch callback stopped */
} cal;

static eos_status on_batch(void *user, const eos_eval_batch *b) {
    cal *c = user;
    if (!b->features || b->feat_dim != c->dim)
        return eos_err_set(&c->err, EOS_SHAPE, "the features output gives %d values per image, "
                           "expected %d", b->feat_dim, c->dim);
    if (c->n_rows + b->n > c->cap)
        return eos_err_set(&c->err, EOS_INTERNAL, "more rows than items");
    for (int i = 0; i < b->n; i++) {
        const float *f = b->features + (size_t)i * c->dim;
        bool finite = true;
        for (int d = 0; d < c->dim; d++) finite = finite && isfinite(f[d]);
        if (!finite)
            return eos_err_set(&c->err, EOS_NUMERIC, "item '%s': non-finite features",
                               eos_dataset_item_name(c->ds, b->index[i]));
        if (c->o) c->dist[c->n_rows] = eos__ood_distance(c->o, f, NULL);
        else memcpy(c->feat + (size_t)c->n_rows * c->dim, f, (size_t)c->dim * sizeof *f);
        c->item[c->n_rows++] = b->index[i];
    }
    return EOS_OK;
}

/* Run split ds through eos_evaluate with the callback; *res owns the evaluation's result. */
static eos_status run_split(cal *c, const eos_model *m, const eos_dataset *ds, const char *role,
                            eos_eval_result *res, eos_err *err) {
    eos_eval_params ep = { 0 };
    ep.batch = c->p->batch;
    ep.n_threads = c->p->n_threads;
    ep.loader_threads = c->p->loader_threads;
    ep.max_items = c->p->max_items;
    ep.progress = c->p->progress;
    ep.feat_output = c->feat_name;
    ep.on_batch = on_batch;
    ep.user = c;
    c->ds = ds;
    c->n_rows = 0;
    eos_err_clear(&c->err);
    eos_status st = eos_evaluate(c->ctx, m, ds, &ep, res);
    if (st != EOS_OK && c->err.status != EOS_OK) *err = c->err;
    else if (st != EOS_OK) eos_err_set(err, st, "%s", eos_ctx_errmsg(c->ctx));
    else if (c->n_rows != res->items) st = eos_err_set(err, EOS_INTERNAL, "rows lost");
    if (st != EOS_OK) eos_err_prefix(err, "%s data: ", role);
    return st;
}

/* Items run from ds: all, or max_items. */
static int64_t split_items(const cal *c, const eos_dataset *ds) {
    int64_t n = eos_dataset_size(ds);
    return c->p->max_items > 0 && c->p->max_items < n ? c->p->max_items : n;
}

/* Classes of a dataset item: its label (classify), the labels present (tag). */
static int item_classes(const cal *c, const eos_dataset *ds, int64_t item, int *cls) {
    if (eos_dataset_task(ds) == EOS_TASK_CLASSIFY) {
        int y = eos_dataset_label(ds, item);
        cls[0] = y;
        return y >= 0 && y < c->n_classes;
    }
    const uint8_t *t = eos_dataset_tags(ds, item);
    int n = 0;
    for (int k = 0; t && k < c->n_classes; k++)
        if (t[k]) cls[n++] = k;
    return n;
}

/* ------------------------------------------------------------------ statistics */

typedef struct cal_stats {
    bool    full;
    int     n_cent;
    int    *cent_of;     /* [n_classes]: centroid of each class, -1 for classes without items */
    float  *cent;        /* [n_cent, dim] */
    float  *whiten;      /* eos__ood_whiten_len(full, dim) */
} cal_stats;

static void stats_free(cal_stats *s) {
    eos_free(s->cent_of);
    eos_free(s->cent);
    eos_free(s->whiten);
}

static eos_status class_means(const cal *c, const eos_dataset *ds, cal_stats *s, eos_err *err) {
    int C = c->n_classes, D = c->dim;
    double *sum = eos_calloc((size_t)C * D, sizeof *sum);
    int64_t *cnt = eos_calloc((size_t)C, sizeof *cnt);
    int *cls = eos_malloc((size_t)C * sizeof *cls);
    s->cent_of = eos_malloc((size_t)C * sizeof *s->cent_of);
    eos_status st = sum && cnt && cls && s->cent_of ? EOS_OK
                  : eos_err_set(err, EOS_NOMEM, "out of memory");
    for (int64_t r = 0; st == EOS_OK && r < c->n_rows; r++) {
        const float *f = c->feat + (size_t)r * D;
        int n = item_classes(c, ds, c->item[r], cls);
        for (int k = 0; k < n; k++) {
            cnt[cls[k]]++;
            for (int d = 0; d < D; d++) sum[(size_t)cls[k] * D + d] += f[d];
        }
    }
    for (int k = 0; st == EOS_OK && k < C; k++) s->cent_of[k] = cnt[k] ? s->n_cent++ : -1;
    if (st == EOS_OK && s->n_cent == 0)
        st = eos_err_set(err, EOS_INVALID_ARG, "fit data: no item has a label");
    if (st == EOS_OK && !(s->cent = eos_malloc((size_t)s->n_cent * D * sizeof *s->cent)))
        st = eos_err_set(err, EOS_NOMEM, "out of memory");
    for (int k = 0; st == EOS_OK && k < C; k++)
        for (int d = 0; s->cent_of[k] >= 0 && d < D; d++)
            s->cent[(size_t)s->cent_of[k] * D + d] =
                (float)(sum[(size_t)k * D + d] / (double)cnt[k]);
    eos_free(sum);
    eos_free(cnt);
    eos_free(cls);
    return st;
}

/* S += sum over the n rows of R of w_r R_r R_r^T (packed lower triangle, or the diagonal). */
static void syrk_block(double *S, const double *R, const double *w, int n, int D, bool full,
                       int nt) {
    if (!full) {
        for (int r = 0; r < n; r++)
            for (int i = 0; i < D; i++) S[i] += w[r] * R[(size_t)r * D + i] * R[(size_t)r * D + i];
        return;
    }
    (void)nt;
    EOS_OMP_FOR(nt, (int64_t)D * D * n / 2)
    for (int i = 0; i < D; i++) {
        double *row = S + (size_t)i * (i + 1) / 2;
        for (int r = 0; r < n; r++) {
            const double *x = R + (size_t)r * D;
            double a = w[r] * x[i];
            for (int j = 0; j <= i; j++) row[j] += a * x[j];
        }
    }
}

/* The tied within-class covariance of the fit features (packed lower triangle or diagonal). */
static eos_status covariance(const cal *c, const eos_dataset *ds, const cal_stats *s, double *S,
                             eos_err *err) {
    int D = c->dim, nt = eos__infer_threads(c->p->n_threads), nb = 0;
    double *R = eos_malloc((size_t)CAL_BLOCK * D * sizeof *R), w[CAL_BLOCK], total = 0;
    int *cls = eos_malloc((size_t)c->n_classes * sizeof *cls);
    if (!R || !cls) {
        eos_free(R);
        eos_free(cls);
        return eos_err_set(err, EOS_NOMEM, "out of memory");
    }
    for (int64_t r = 0; r < c->n_rows; r++) {
        const float *f = c->feat + (size_t)r * D;
        int n = item_classes(c, ds, c->item[r], cls);
        for (int k = 0; k < n; k++) {
            const float *m = s->cent + (size_t)s->cent_of[cls[k]] * D;
            for (int d = 0; d < D; d++) R[(size_t)nb * D + d] = (double)f[d] - m[d];
            w[nb] = 1.0 / n;
            total += w[nb];
            if (++nb == CAL_BLOCK) {
                syrk_block(S, R, w, nb, D, s->full, nt);
                nb = 0;
            }
        }
    }
    syrk_block(S, R, w, nb, D, s->full, nt);
    int64_t len = eos__ood_whiten_len(s->full, D);
    for (int64_t i = 0; i < len; i++) S[i] /= total;
    eos_free(R);
    eos_free(cls);
    return EOS_OK;
}

/* Cholesky factor of the packed symmetric A + eps I in place (lower triangle); false when a
 * pivot is not positive. */
static bool cholesky(double *A, int D, double eps) {
    for (int j = 0; j < D; j++) {
        double *rj = A + (size_t)j * (j + 1) / 2;
        double s = rj[j] + eps;
        for (int k = 0; k < j; k++) s -= rj[k] * rj[k];
        if (!(s > 0) || !isfinite(s)) return false;
        rj[j] = sqrt(s);
        for (int i = j + 1; i < D; i++) {
            double *ri = A + (size_t)i * (i + 1) / 2, t = ri[j];
            for (int k = 0; k < j; k++) t -= ri[k] * rj[k];
            ri[j] = t / rj[j];
        }
    }
    return true;
}

/* W = L^-1 (both packed lower triangular), column by column by forward substitution. */
static void invert_lower(const double *L, int D, double *x, float *W) {
    for (int j = 0; j < D; j++) {
        x[j] = 1.0 / L[(size_t)j * (j + 3) / 2];
        for (int i = j + 1; i < D; i++) {
            const double *ri = L + (size_t)i * (i + 1) / 2;
            double t = 0;
            for (int k = j; k < i; k++) t += ri[k] * x[k];
            x[i] = -t / ri[i];
        }
        for (int i = j; i < D; i++) W[(size_t)i * (i + 1) / 2 + j] = (float)x[i];
    }
}

/* The whitening matrix from the covariance S (overwritten). */
static eos_status whitening(double *S, int D, cal_stats *s, eos_err *err) {
    double trace = 0;
    for (int i = 0; i < D; i++) trace += S[s->full ? (size_t)i * (i + 3) / 2 : (size_t)i];
    double eps = CAL_RIDGE * trace / D;
    if (!(eps >= 1e-12)) eps = 1e-12;
    int64_t len = eos__ood_whiten_len(s->full, D);
    if (!(s->whiten = eos_malloc((size_t)len * sizeof *s->whiten)))
        return eos_err_set(err, EOS_NOMEM, "out of memory");
    if (!s->full) {
        for (int i = 0; i < D; i++) s->whiten[i] = (float)(1.0 / sqrt(S[i] + eps));
    } else {
        double *A = eos_malloc((size_t)len * sizeof *A), *x = eos_malloc((size_t)D * sizeof *x);
        bool ok = A && x;
        for (int tries = 0; ok && tries < 8; tries++, eps *= 100) {
            memcpy(A, S, (size_t)len * sizeof *A);
            if (cholesky(A, D, eps)) break;
            if (tries == 7) ok = false;
        }
        if (ok) invert_lower(A, D, x, s->whiten);
        eos_free(x);
        eos_free(A);
        if (!ok) return eos_err_set(err, EOS_NUMERIC, "the feature covariance cannot be factored");
    }
    for (int64_t i = 0; i < len; i++)
        if (!isfinite(s->whiten[i]))
            return eos_err_set(err, EOS_NUMERIC, "the whitening matrix is not finite");
    return EOS_OK;
}

/* ------------------------------------------------------------------ threshold */

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of v[0..n) (n > 0): the ceil(q n)-th smallest value. */
static eos_status quantile(const double *v, int64_t n, double q, double *out, eos_err *err) {
    double *s = eos_malloc((size_t)n * sizeof *s);
    if (!s) return eos_err_set(err, EOS_NOMEM, "out of memory");
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    int64_t k = (int64_t)ceil(q * (double)n) - 1;
    *out = s[k < 0 ? 0 : k >= n ? n - 1 : k];
    eos_free(s);
    return EOS_OK;
}

/* Share of rows scoring above o's threshold: fit rows from their features, held-out rows from
 * their distances (feat NULL) times scale. */
static double share_flagged(const eos_ood *o, const float *feat, const double *dist, int64_t n,
                            int D, double scale, int nt) {
    uint8_t *flag = eos_malloc((size_t)(n > 0 ? n : 1));
    if (!flag || n == 0) {
        eos_free(flag);
        return NAN;
    }
    (void)nt;
    EOS_OMP_FOR(nt, n * (int64_t)D * D)
    for (int64_t r = 0; r < n; r++)
        flag[r] = eos_ood_uncertain(o, feat ? eos_ood_score(o, feat + (size_t)r * D)
                                            : scale * dist[r]);
    int64_t k = 0;
    for (int64_t r = 0; r < n; r++) k += flag[r];
    eos_free(flag);
    return (double)k / (double)n;
}

/* ------------------------------------------------------------------ models in and out */

/* The rewritten graph as a loaded model (through ONNX bytes, as it will be written). */
static eos_status load_graph(eos_ctx *ctx, const eos_graph *g, eos_model **m, eos_err *err) {
    uint8_t *buf = NULL;
    size_t len = 0;
    EOS_TRY(eos__onnx_write(g, NULL, NULL, 0, "eosight", &buf, &len, err));
    eos_status st = eos_model_load_from_memory(ctx, buf, len, NULL, m);
    eos_free(buf);
    if (st != EOS_OK)
        return eos_err_set(err, st, "the model with a features output does not load: %s",
                           eos_ctx_errmsg(ctx));
    return EOS_OK;
}

typedef struct cal_out {
    double  scale, quantile;
    int64_t n_fit, n_held;
} cal_out;

static eos_status write_model(const eos_graph *g, const cal *c, const cal_stats *s,
                              const cal_out *w, const char *path, eos_err *err) {
    char dim[32], scale[48], q[48], nf[32], nh[32];
    snprintf(dim, sizeof dim, "%d", c->dim);
    snprintf(scale, sizeof scale, "%.17g", w->scale);
    snprintf(q, sizeof q, "%.9g", w->quantile);
    snprintf(nf, sizeof nf, "%lld", (long long)w->n_fit);
    snprintf(nh, sizeof nh, "%lld", (long long)w->n_held);
    char *cent = eos__b64_encode_f32(s->cent, (int64_t)s->n_cent * c->dim);
    char *wh = eos__b64_encode_f32(s->whiten, eos__ood_whiten_len(s->full, c->dim));
    const char *keys[] = { "eosight.ood.method", "eosight.ood.output", "eosight.ood.dim",
                           "eosight.ood.centroids", "eosight.ood.whiten", "eosight.ood.scale",
                           "eosight.ood.threshold", "eosight.ood.quantile",
                           "eosight.ood.fit_items", "eosight.ood.held_items" };
    const char *vals[] = { s->full ? EOS_OOD_METHOD_FULL : EOS_OOD_METHOD_DIAG, c->feat_name, dim,
                           cent, wh, scale, "1", q, nf, nh };
    eos_status st = cent && wh ? eos__onnx_write_file(g, keys, vals, 10, "eosight", path, err)
                               : eos_err_set(err, EOS_NOMEM, "out of memory");
    eos_free(cent);
    eos_free(wh);
    return st;
}

/* Load the written model back and check that it scores a fit row as o does. */
static eos_status verify(eos_ctx *ctx, const char *path, const eos_ood *o, const float *row,
                         eos_err *err) {
    eos_model *m = NULL;
    eos_ood *back = NULL;
    eos_status st = eos_model_load(ctx, path, &m);
    if (st == EOS_OK) st = eos_ood_from_model(ctx, m, &back);
    if (st != EOS_OK) {
        eos_err_set(err, st, "the calibrated model %s does not read back: %s", path,
                    eos_ctx_errmsg(ctx));
    } else if (!back || eos_ood_output_index(back, m) < 0 ||
               eos_ood_score(back, row) != eos_ood_score(o, row)) {
        st = eos_err_set(err, EOS_INTERNAL, "the calibrated model %s scores differently when "
                         "read back", path);
    }
    eos_ood_free(back);
    eos_model_free(m);
    return st;
}

/* ------------------------------------------------------------------ eos_ood_calibrate */

typedef struct cal_run {
    eos_graph  g;
    eos_model *m;
    cal        c;
    cal_stats  s;
    eos_ood   *o;
    double    *S;
} cal_run;

static eos_status check_args(const eos_ood_calib_params *p, const eos_dataset *fit,
                             const eos_dataset *held, double *q, eos_err *err) {
    *q = p->quantile == 0 ? 0.99 : p->quantile;
    if (!(*q > 0 && *q <= 1))
        return eos_err_set(err, EOS_INVALID_ARG, "quantile %g outside (0, 1]", p->quantile);
    if (p->batch < 0 || p->n_threads < 0 || p->loader_threads < 0 || p->max_items < 0)
        return eos_err_set(err, EOS_INVALID_ARG, "negative batch, thread count or max_items");
    eos_task t = eos_dataset_task(fit);
    if (t == EOS_TASK_SEGMENT)
        return eos_err_set(err, EOS_UNSUPPORTED, "out-of-distribution calibration is for "
                           "classify, tag and cloud models, not segmentation");
    if (eos_dataset_task(held) != t || eos_dataset_n_classes(held) != eos_dataset_n_classes(fit))
        return eos_err_set(err, EOS_INVALID_ARG, "the fit and held-out data differ in task or "
                           "classes");
    return EOS_OK;
}

/* Graph with the features output, the model made from it, and room for the fit split. */
static eos_status prepare(cal_run *k, const char *model_path, const eos_dataset *fit,
                          eos_err *err) {
    int feat = -1;
    int64_t dim = 0;
    EOS_TRY(graph_read(model_path, &k->g, err));
    EOS_TRY(find_features(&k->g, &feat, &dim, err));
    if (dim > EOS_OOD_MAX_DIM)
        return eos_err_set(err, EOS_LIMIT, "the model has %lld features per image, more than %d",
                           (long long)dim, EOS_OOD_MAX_DIM);
    EOS_TRY(add_output(&k->g, feat, dim, &k->c.feat_name, err));
    EOS_TRY(load_graph(k->c.ctx, &k->g, &k->m, err));
    k->c.dim = (int)dim;
    k->c.n_classes = eos_dataset_n_classes(fit);
    k->c.cap = split_items(&k->c, fit);
    if (k->c.cap * dim * (int64_t)sizeof(float) > CAL_MAX_FEATURE_BYTES)
        return eos_err_set(err, EOS_LIMIT, "%lld items x %lld features exceed %lld GiB: "
                           "calibrate on fewer items (max_items)", (long long)k->c.cap,
                           (long long)dim, (long long)(CAL_MAX_FEATURE_BYTES >> 30));
    k->c.feat = eos_malloc((size_t)(k->c.cap > 0 ? k->c.cap : 1) * dim * sizeof(float));
    k->c.item = eos_malloc((size_t)(k->c.cap > 0 ? k->c.cap : 1) * sizeof(int64_t));
    if (!k->c.feat || !k->c.item) return eos_err_set(err, EOS_NOMEM, "out of memory for features");
    return EOS_OK;
}

/* Fit pass and statistics: centroids, whitening, and an eos_ood with scale 1. */
static eos_status fit_stats(cal_run *k, const eos_dataset *fit, eos_err *err) {
    eos_eval_result r;
    eos_status st = run_split(&k->c, k->m, fit, "fit", &r, err);
    eos_eval_result_free(&r);
    EOS_TRY(st);
    cal_stats *s = &k->s;
    s->full = !k->c.p->diagonal && k->c.dim <= EOS_OOD_MAX_FULL_DIM;
    EOS_TRY(class_means(&k->c, fit, s, err));
    if (!(k->S = eos_calloc((size_t)eos__ood_whiten_len(s->full, k->c.dim), sizeof *k->S)))
        return eos_err_set(err, EOS_NOMEM, "out of memory for the covariance");
    EOS_TRY(covariance(&k->c, fit, s, k->S, err));
    EOS_TRY(whitening(k->S, k->c.dim, s, err));
    eos__ood_spec spec = { k->c.feat_name, s->full, k->c.dim, s->n_cent, s->cent, s->whiten,
                           1.0, 1.0 };
    return eos__ood_build(&spec, &k->o, err);
}

/* Held-out pass: distances, the quantile and the scale. */
static eos_status held_scale(cal_run *k, const eos_dataset *held, double q, cal_out *w,
                             eos_ood_calib_result *res, eos_err *err) {
    cal *c = &k->c;
    w->n_fit = c->n_rows;
    int64_t n = split_items(c, held);
    eos_free(c->item);
    c->item = eos_malloc((size_t)(n > 0 ? n : 1) * sizeof *c->item);
    c->dist = eos_malloc((size_t)(n > 0 ? n : 1) * sizeof *c->dist);
    if (!c->item || !c->dist) return eos_err_set(err, EOS_NOMEM, "out of memory");
    c->cap = n;
    c->o = k->o;
    eos_eval_result r;
    eos_status st = run_split(c, k->m, held, "held-out", &r, err);
    res->held_score = st == EOS_OK ? eos_eval_score(&r) : NAN;
    eos_eval_result_free(&r);
    EOS_TRY(st);
    if (c->n_rows == 0) return eos_err_set(err, EOS_INVALID_ARG, "the held-out data has no items");
    w->n_held = c->n_rows;
    w->quantile = q;
    EOS_TRY(quantile(c->dist, c->n_rows, q, &res->raw_threshold, err));
    /* 1/t, a hair lower so that the quantile item itself scores just below 1 */
    w->scale = 1.0 / (res->raw_threshold > 1e-12 ? res->raw_threshold : 1e-12) * (1.0 - 1e-12);
    eos__ood_set_scale(k->o, w->scale, 1.0);
    return EOS_OK;
}

static void fill_result(const cal_run *k, const cal_out *w, eos_ood_calib_result *res) {
    int nt = eos__infer_threads(k->c.p->n_threads);
    snprintf(res->output, sizeof res->output, "%s", k->c.feat_name);
    snprintf(res->method, sizeof res->method, "%s", eos_ood_method(k->o));
    res->dim = k->c.dim;
    res->n_classes = k->c.n_classes;
    res->n_centroids = k->s.n_cent;
    res->n_fit = w->n_fit;
    res->n_held = w->n_held;
    res->threshold = eos_ood_threshold(k->o);
    res->fit_flagged = share_flagged(k->o, k->c.feat, NULL, w->n_fit, k->c.dim, 0, nt);
    res->held_flagged = share_flagged(k->o, NULL, k->c.dist, w->n_held, k->c.dim, w->scale, nt);
}

static eos_status calibrate(cal_run *k, const char *model_path, const eos_dataset *fit,
                            const eos_dataset *held, double q, const char *out_path,
                            eos_ood_calib_result *res, eos_err *err) {
    double t0 = eos__now_s();
    cal_out w = { 0 };
    EOS_TRY(prepare(k, model_path, fit, err));
    EOS_TRY(fit_stats(k, fit, err));
    EOS_TRY(held_scale(k, held, q, &w, res, err));
    fill_result(k, &w, res);
    EOS_TRY(write_model(&k->g, &k->c, &k->s, &w, out_path, err));
    EOS_TRY(verify(k->c.ctx, out_path, k->o, k->c.feat, err));
    res->seconds = eos__now_s() - t0;
    return EOS_OK;
}

eos_status eos_ood_calibrate(eos_ctx *ctx, const char *model_path, const eos_dataset *fit,
                             const eos_dataset *held_out, const eos_ood_calib_params *params,
                             const char *out_path, eos_ood_calib_result *out) {
    eos__ctx_clear(ctx);
    eos_err err = { 0 };
    eos_ood_calib_params defaults = { 0 };
    eos_ood_calib_result res;
    memset(&res, 0, sizeof res);
    if (out) *out = res;
    if (!model_path || !fit || !held_out || !out_path) {
        eos_err_set(&err, EOS_INVALID_ARG, "eos_ood_calibrate: NULL argument");
        return eos__ctx_fail(ctx, &err);
    }
    double q;
    const eos_ood_calib_params *p = params ? params : &defaults;
    eos_status st = check_args(p, fit, held_out, &q, &err);
    cal_run k;
    memset(&k, 0, sizeof k);
    eos_graph_init(&k.g);
    k.c.ctx = ctx;
    k.c.p = p;
    if (st == EOS_OK) st = calibrate(&k, model_path, fit, held_out, q, out_path, &res, &err);
    eos_ood_free(k.o);
    eos_model_free(k.m);
    eos_graph_free(&k.g);
    stats_free(&k.s);
    eos_free(k.S);
    eos_free(k.c.feat);
    eos_free(k.c.item);
    eos_free(k.c.dist);
    if (st != EOS_OK) return eos__ctx_fail(ctx, &err);
    if (out) *out = res;
    return EOS_OK;
}
