/*
 * src/train/evaluate.c - eos_evaluate (include/eosight/eval.h): a trained ONNX model run by the
 * inference engine over a labelled dataset, scored with metrics.h.
 *
 * The model's metadata says how to feed it (docs/model-metadata.md): eosight.task, .classes
 * and .bands are checked against the dataset before anything runs, eosight.norm.* becomes the
 * loader's normalisation, eosight.input_size the image size (other sizes are resized),
 * eosight.thresholds the tagging thresholds and eosight.output whether the model ends in
 * logits (the default: softmax/sigmoid are applied here) or probabilities.
 *
 * classify/tag stream batches from an eos_loader (no augmentation, no shuffling). segment
 * decodes one image at a time and runs it tile by tile over an eos_tile_grid (square tiles,
 * mirror-reflected past the borders, only each tile's core scored), so the network only ever
 * sees tile-sized inputs whatever the image size. Test-time augmentation runs the input in
 * each of the 4 rotations (8 with flips), turns dense outputs back, and averages
 * probabilities; for non-square inputs only the transforms that keep the shape are used.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/strbuf.h"
#include "eosight/alloc.h"
#include "eosight/eval.h"
#include "eosight/geo.h"
#include "eosight/raster.h"
#include "analysis/infer.h"

#define EVAL_MAX_SIZE     16384   /* largest input side / tile accepted from metadata or params */
#define EVAL_TILE_ALIGN   32      /* tiles are a multiple of this (U-Net down-sampling) */
#define EVAL_MAX_BATCH    4096

/* ------------------------------------------------------------------ metadata */

/* What the model's metadata and declared shapes say, checked against the dataset. */
typedef struct eval_setup {
    eos_task task;
    int      n_classes, n_bands;
    int      in_h, in_w;          /* classify/tag input size; 0: the images' own */
    int      fixed_h, fixed_w;    /* the model input's fixed H, W; 0: symbolic */
    eos_out_kind kind;
    float   *thresholds;          /* tag: n_classes */
    eos_norm norm;
} eval_setup;

eos_status eos_eval_model_task(eos_ctx *ctx, const eos_model *m, eos_task *out) {
    eos__ctx_clear(ctx);
    eos_err err;
    const char *s = m ? eos_model_meta(m, "eosight.task") : NULL;
    if (!m || !out) {
        eos_err_set(&err, EOS_INVALID_ARG, "eos_eval_model_task: NULL argument");
        return eos__ctx_fail(ctx, &err);
    }
    if (!s) {
        eos_err_set(&err, EOS_NOT_FOUND, "the model has no eosight.task metadata");
        return eos__ctx_fail(ctx, &err);
    }
    if (!strcmp(s, "cloud")) {
        *out = EOS_TASK_CLASSIFY;
        return EOS_OK;
    }
    if (eos_task_parse(s, out) != EOS_OK) {
        eos_err_set(&err, EOS_PARSE, "eosight.task is '%.100s': expected classification, "
                    "multilabel, segmentation or cloud", s);
        return eos__ctx_fail(ctx, &err);
    }
    return EOS_OK;
}

static eos_status check_classes(const eos_model *m, const eos_dataset *ds, eos_err *err) {
    const char *s = eos_model_meta(m, "eosight.classes");
    int n = eos_dataset_n_classes(ds);
    if (!s) return EOS_OK;   /* the output size is still checked at the first run */
    int nm = eos__list_len(s);
    if (nm != n)
        return eos_err_set(err, EOS_INVALID_ARG, "the model has %d classes (eosight.classes), the "
                           "dataset %d", nm, n);
    for (int c = 0; c < n; c++) {
        const char *p, *dn = eos_dataset_class_name(ds, c);
        size_t len;
        eos__list_at(s, c, &p, &len);
        if (strlen(dn) != len || memcmp(dn, p, len))
            return eos_err_set(err, EOS_INVALID_ARG, "class %d is '%.*s' in the model "
                               "(eosight.classes) but '%.100s' in the dataset", c,
                               (int)(len < 100 ? len : 100), p, dn);
    }
    return EOS_OK;
}

/* One 4-D input, at least one output; input bands and fixed H, W. */
static eos_status check_io(const eos_model *m, const eos_dataset *ds, eval_setup *su, eos_err *err) {
    eos_io_info in;
    if (eos_model_n_inputs(m) != 1 || eos_model_n_outputs(m) < 1)
        return eos_err_set(err, EOS_INVALID_ARG, "the model has %d inputs and %d outputs: "
                           "evaluation needs one image input", eos_model_n_inputs(m),
                           eos_model_n_outputs(m));
    eos_model_input_info(m, 0, &in);
    if (in.ndim != 4)
        return eos_err_set(err, EOS_INVALID_ARG, "the model input '%s' has %d dims, not 4 (NCHW)",
                           in.name, in.ndim);
    if (in.dims[1] > 0 && in.dims[1] != su->n_bands)
        return eos_err_set(err, EOS_INVALID_ARG, "the model takes %lld bands, the dataset's images "
                           "have %d", (long long)in.dims[1], su->n_bands);
    const char *bands = eos_model_meta(m, "eosight.bands");
    if (bands && eos__list_len(bands) != su->n_bands)
        return eos_err_set(err, EOS_INVALID_ARG, "the model takes %d bands (eosight.bands = %.200s), "
                           "the dataset's images have %d", eos__list_len(bands), bands, su->n_bands);
    bool fixed = in.dims[2] > 0 && in.dims[3] > 0;
    if (fixed && (in.dims[2] > EVAL_MAX_SIZE || in.dims[3] > EVAL_MAX_SIZE))
        return eos_err_set(err, EOS_LIMIT, "the model input is %lld x %lld, larger than %d",
                           (long long)in.dims[2], (long long)in.dims[3], EVAL_MAX_SIZE);
    su->fixed_h = fixed ? (int)in.dims[2] : 0;
    su->fixed_w = fixed ? (int)in.dims[3] : 0;
    return EOS_OK;
}

/* eosight.input_size "H,W" (or one value for square), else the fixed input dims. */
static eos_status read_input_size(const eos_model *m, eval_setup *su, eos_err *err) {
    const char *s = eos_model_meta(m, "eosight.input_size");
    su->in_h = su->fixed_h;
    su->in_w = su->fixed_w;
    if (!s) return EOS_OK;
    int n = eos__list_len(s);
    double h, w;
    if ((n != 1 && n != 2) || !eos__list_num(s, 0, &h) || !eos__list_num(s, n - 1, &w) || h < 1 || w < 1 ||
        h > EVAL_MAX_SIZE || w > EVAL_MAX_SIZE || h != floor(h) || w != floor(w))
        return eos_err_set(err, EOS_PARSE, "eosight.input_size is '%.100s': expected H,W in "
                           "pixels (1..%d)", s, EVAL_MAX_SIZE);
    if (su->fixed_h && (su->fixed_h != (int)h || su->fixed_w != (int)w))
        return eos_err_set(err, EOS_PARSE, "eosight.input_size is %s but the model input is "
                           "fixed at %d x %d", s, su->fixed_h, su->fixed_w);
    su->in_h = (int)h;
    su->in_w = (int)w;
    return EOS_OK;
}

static eos_status read_thresholds(const eos_model *m, eval_setup *su, eos_err *err) {
    su->thresholds = eos_malloc((size_t)su->n_classes * sizeof *su->thresholds);
    if (!su->thresholds) return eos_err_set(err, EOS_NOMEM, "out of memory");
    const char *s = eos_model_meta(m, "eosight.thresholds");
    for (int c = 0; c < su->n_classes; c++) su->thresholds[c] = 0.5f;
    if (!s) return EOS_OK;
    if (eos__list_len(s) != su->n_classes)
        return eos_err_set(err, EOS_PARSE, "eosight.thresholds has %d values for %d labels",
                           eos__list_len(s), su->n_classes);
    for (int c = 0; c < su->n_classes; c++) {
        double v;
        if (!eos__list_num(s, c, &v) || v < 0 || v > 1)
            return eos_err_set(err, EOS_PARSE, "eosight.thresholds: value %d is not a number in "
                               "[0, 1]", c + 1);
        su->thresholds[c] = (float)v;
    }
    return EOS_OK;
}

static eos_status read_output_kind(const eos_model *m, eval_setup *su, eos_err *err) {
    const char *s = eos_model_meta(m, "eosight.output");
    su->kind = su->task == EOS_TASK_TAG ? EOS_OUT_SIGMOID : EOS_OUT_SOFTMAX;
    if (!s || !strcmp(s, "logits")) return EOS_OK;
    if (!strcmp(s, "probabilities")) {
        su->kind = EOS_OUT_PROBS;
        return EOS_OK;
    }
    return eos_err_set(err, EOS_PARSE, "eosight.output is '%.100s': expected logits or "
                       "probabilities", s);
}

/* Everything but the normalisation (which reports through ctx itself). */
static eos_status setup_read(eos_ctx *ctx, const eos_model *m, const eos_dataset *ds,
                             eval_setup *su, eos_err *err) {
    su->task = eos_dataset_task(ds);
    su->n_classes = eos_dataset_n_classes(ds);
    su->n_bands = eos_dataset_n_bands(ds);
    if (eos_model_meta(m, "eosight.task")) {
        eos_task mt;
        eos_status st = eos_eval_model_task(ctx, m, &mt);
        if (st != EOS_OK) return eos_err_set(err, st, "%s", eos_ctx_errmsg(ctx));
        if (mt != su->task)
            return eos_err_set(err, EOS_INVALID_ARG, "the model is a %s model (eosight.task = "
                               "%s), the dataset was opened for %s", eos_task_name(mt),
                               eos_model_meta(m, "eosight.task"), eos_task_name(su->task));
    }
    EOS_TRY(check_classes(m, ds, err));
    EOS_TRY(check_io(m, ds, su, err));
    EOS_TRY(read_input_size(m, su, err));
    EOS_TRY(read_output_kind(m, su, err));
    if (su->task == EOS_TASK_TAG) EOS_TRY(read_thresholds(m, su, err));
    return EOS_OK;
}

/* ------------------------------------------------------------------ classify / tag */

typedef struct eval_run {
    eos_ctx               *ctx;
    const eos_dataset     *ds;
    const eos_eval_params *p;
    eval_setup            *su;
    eos_runner             r;
    eos_progress           prog;
    int64_t                limit;     /* items to evaluate */
    eos_eval_result       *out;
} eval_run;

static eos_status score_batch(eval_run *e, const eos_batch *b, int n, float *probs,
                              int32_t *pred, eos_err *err) {
    int C = e->su->n_classes;
    EOS_TRY(eos__runner_run(&e->r, b->x, b->n, b->c, b->h, b->w, false, probs, err));
    if (e->p->on_batch) {
        eos_eval_batch eb = { n, b->index, e->r.feat_output >= 0 ? e->r.feat : NULL,
                              e->r.feat_output >= 0 ? e->r.feat_dim : 0 };
        eos_status st = e->p->on_batch(e->p->user, &eb);
        if (st != EOS_OK) return eos_err_set(err, st, "stopped by the batch callback");
    }
    if (e->su->task == EOS_TASK_TAG) {
        eos_status st = eos_multilabel_add(e->out->ml, probs, b->tags, n);
        if (st != EOS_OK) return eos_err_set(err, st, "cannot add %d rows of scores", n);
        return EOS_OK;
    }
    for (int i = 0; i < n; i++) pred[i] = eos__argmax(probs + (size_t)i * C, C, 1);
    eos_confusion_add(e->out->cm, b->y, pred, n, EOS_IGNORE_INDEX);
    return EOS_OK;
}

static eos_status eval_images(eval_run *e, eos_err *err) {
    int batch = e->p->batch > 0 ? e->p->batch : 32;
    eos_loader_params lp = { 0 };
    lp.batch = batch;
    lp.out_h = e->su->in_h;
    lp.out_w = e->su->in_w;
    lp.fit = EOS_FIT_RESIZE;
    lp.n_threads = e->p->loader_threads > 0 ? e->p->loader_threads : 1;
    lp.norm = &e->su->norm;
    eos_loader *l;
    eos_status st = eos_loader_create(e->ctx, e->ds, &lp, &l);
    if (st != EOS_OK) return eos_err_set(err, st, "%s", eos_ctx_errmsg(e->ctx));
    float *probs = eos_malloc((size_t)batch * (size_t)e->su->n_classes * sizeof *probs);
    int32_t *pred = eos_malloc((size_t)batch * sizeof *pred);
    if (!probs || !pred) st = eos_err_set(err, EOS_NOMEM, "out of memory");
    else if ((st = eos_loader_start_epoch(l, 0)) != EOS_OK)
        st = eos_err_set(err, st, "%s", eos_loader_errmsg(l));
    while (st == EOS_OK && e->out->items < e->limit) {
        eos_batch b;
        st = eos_loader_next(l, &b);
        if (st != EOS_OK) {
            st = eos_err_set(err, st, "%s", eos_loader_errmsg(l));
            break;
        }
        if (b.n == 0) break;
        int n = (int)(e->limit - e->out->items < b.n ? e->limit - e->out->items : b.n);
        st = score_batch(e, &b, n, probs, pred, err);
        e->out->items += n;
        eos__progress_show(&e->prog, (double)e->out->items, false);
    }
    eos_free(probs);
    eos_free(pred);
    eos_loader_free(l);
    return st;
}

/* ------------------------------------------------------------------ segment */

/* Mirror reflection of i into [0, n) without repeating the edge: ... 2 1 | 0 1 2 ... */
static int64_t reflect(int64_t i, int64_t n) {
    if (n == 1) return 0;
    int64_t period = 2 * (n - 1);
    i %= period;
    if (i < 0) i += period;
    return i < n ? i : period - i;
}

typedef struct seg_buf {
    int      S;
    float   *raw, *x, *probs;
    int64_t *xs;        /* source column of each tile column */
    uint8_t *pred;      /* S x S predictions of a core */
} seg_buf;

static void seg_buf_free(seg_buf *b) {
    eos_free(b->raw);
    eos_free(b->x);
    eos_free(b->probs);
    eos_free(b->xs);
    eos_free(b->pred);
    memset(b, 0, sizeof *b);
}

static eos_status seg_buf_size(seg_buf *b, int S, int c, int C, eos_err *err) {
    if (b->S == S) return EOS_OK;
    seg_buf_free(b);
    size_t px = (size_t)S * (size_t)S;
    b->raw = eos_malloc(px * (size_t)c * sizeof(float));
    b->x = eos_malloc(px * (size_t)c * sizeof(float));
    b->probs = eos_malloc(px * (size_t)C * sizeof(float));
    b->xs = eos_malloc((size_t)S * sizeof *b->xs);
    b->pred = eos_malloc(px);
    if (!b->raw || !b->x || !b->probs || !b->xs || !b->pred)
        return eos_err_set(err, EOS_NOMEM, "out of memory for %d x %d tiles", S, S);
    b->S = S;
    return EOS_OK;
}

/* The tile side for an image: the requested tile rounded up to EVAL_TILE_ALIGN, no larger than
 * the image needs; the model's fixed input size when it has one. */
static void seg_tile_size(const eval_run *e, int h, int w, int *S, int *overlap) {
    if (e->su->fixed_h) {
        *S = e->su->fixed_h;
    } else {
        int t = e->p->tile > 0 ? e->p->tile : 512;
        t = (t + EVAL_TILE_ALIGN - 1) / EVAL_TILE_ALIGN * EVAL_TILE_ALIGN;
        int m = h > w ? h : w;
        m = (m + EVAL_TILE_ALIGN - 1) / EVAL_TILE_ALIGN * EVAL_TILE_ALIGN;
        *S = t < m ? t : m;
    }
    int o = e->p->overlap > 0 ? e->p->overlap : 64;
    if (*S >= h && *S >= w) o = 0;   /* one tile covers the image */
    if (o >= *S) o = *S / 2;
    *overlap = o & ~1;
}

/* Cut tile `t` out of the sample (reflecting past the borders) and normalise it into b->x. */
static eos_status seg_cut(const eval_run *e, const eos_sample *smp, const eos_tile *t, seg_buf *b,
                          eos_err *err) {
    int S = b->S;
    int64_t rows = (int64_t)smp->c * S;
    for (int x = 0; x < S; x++) b->xs[x] = reflect(t->read_x0 + x, smp->w);
    EOS_OMP_FOR(e->r.n_threads, rows * S)
    for (int64_t r = 0; r < rows; r++) {
        int64_t c = r / S, y = r % S;
        const float *row = smp->img + ((size_t)c * smp->h + (size_t)reflect(t->read_y0 + y, smp->h)) * smp->w;
        float *dst = b->raw + (size_t)r * S;
        for (int x = 0; x < S; x++) dst[x] = row[b->xs[x]];
    }
    eos_status st = eos_norm_apply(&e->su->norm, EOS_DTYPE_F32, b->raw, (int64_t)S * S, NULL, b->x);
    if (st != EOS_OK) return eos_err_set(err, st, "cannot normalise a tile");
    return EOS_OK;
}

/* Score the core of tile t (probabilities in b->probs) against the mask. */
static void seg_score(eval_run *e, const eos_sample *smp, const eos_tile *t, seg_buf *b) {
    int S = b->S, C = e->su->n_classes;
    int64_t plane = (int64_t)S * S, x0 = t->core_x0 - t->read_x0, y0 = t->core_y0 - t->read_y0;
    EOS_OMP_FOR(e->r.n_threads, (int64_t)t->core_h * t->core_w * C)
    for (int y = 0; y < t->core_h; y++) {
        const float *p = b->probs + (y0 + y) * S + x0;
        uint8_t *pred = b->pred + (size_t)y * t->core_w;
        for (int x = 0; x < t->core_w; x++) pred[x] = (uint8_t)eos__argmax(p + x, C, plane);
    }
    for (int y = 0; y < t->core_h; y++) {
        const uint8_t *truth = smp->mask + (size_t)(t->core_y0 + y) * smp->w + t->core_x0;
        eos_confusion_add_u8(e->out->cm, truth, b->pred + (size_t)y * t->core_w, t->core_w,
                             EOS_IGNORE_INDEX);
    }
}

static eos_status seg_image(eval_run *e, const eos_sample *smp, seg_buf *b, eos_err *err) {
    int S, overlap;
    seg_tile_size(e, smp->h, smp->w, &S, &overlap);
    EOS_TRY(seg_buf_size(b, S, smp->c, e->su->n_classes, err));
    eos_tile_grid g;
    if (eos_tile_grid_init(&g, smp->w, smp->h, S, S, overlap) != EOS_OK)
        return eos_err_set(err, EOS_INVALID_ARG, "tile grid %d px, overlap %d: %s", S, overlap,
                           eos_tile_grid_check(smp->w, smp->h, S, S, overlap));
    int64_t n = eos_tile_grid_count(&g);
    for (int64_t i = 0; i < n; i++) {
        eos_tile t;
        eos_tile_grid_tile(&g, i, &t);
        EOS_TRY(seg_cut(e, smp, &t, b, err));
        EOS_TRY(eos__runner_run(&e->r, b->x, 1, smp->c, S, S, true, b->probs, err));
        seg_score(e, smp, &t, b);
        eos__progress_show(&e->prog, (double)e->out->items + (double)(i + 1) / (double)n, false);
    }
    return EOS_OK;
}

static eos_status eval_segment(eval_run *e, eos_err *err) {
    seg_buf b = { 0 };
    eos_status st = EOS_OK;
    if (e->su->fixed_h && e->su->fixed_h != e->su->fixed_w)
        st = eos_err_set(err, EOS_UNSUPPORTED, "the model input is fixed at %d x %d: tiles are "
                         "square", e->su->fixed_h, e->su->fixed_w);
    for (int64_t i = 0; st == EOS_OK && i < e->limit; i++) {
        eos_sample smp;
        char msg[EOS_ERR_MSG_MAX];
        st = eos_dataset_load(e->ds, i, &smp, msg, sizeof msg);
        if (st != EOS_OK) {
            st = eos_err_set(err, st, "%s", msg);
            break;
        }
        if (!smp.mask) {
            st = eos_err_set(err, EOS_INVALID_ARG, "item '%s' has no mask",
                             eos_dataset_item_name(e->ds, i));
        } else if ((st = seg_image(e, &smp, &b, err)) != EOS_OK) {
            eos_err_prefix(err, "%s: ", eos_dataset_item_name(e->ds, i));
        }
        eos_sample_free(&smp);
        e->out->items++;
    }
    seg_buf_free(&b);
    return st;
}

/* ------------------------------------------------------------------ eos_evaluate */

static eos_status result_init(const eos_dataset *ds, const eos_eval_params *p,
                              const eval_setup *su, eos_eval_result *out, eos_err *err) {
    int C = su->n_classes;
    out->task = su->task;
    out->n_classes = C;
    out->class_names = eos_calloc((size_t)C, sizeof *out->class_names);
    if (!out->class_names) return eos_err_set(err, EOS_NOMEM, "out of memory");
    for (int c = 0; c < C; c++)
        if (!(out->class_names[c] = eos_strdup(eos_dataset_class_name(ds, c))))
            return eos_err_set(err, EOS_NOMEM, "out of memory");
    if (p->excluded) {
        if (!(out->excluded = eos_malloc((size_t)C * sizeof *out->excluded)))
            return eos_err_set(err, EOS_NOMEM, "out of memory");
        memcpy(out->excluded, p->excluded, (size_t)C * sizeof *out->excluded);
    }
    if (su->task == EOS_TASK_TAG) {
        out->ml = eos_multilabel_create(C);
        out->thresholds = eos_malloc((size_t)C * sizeof *out->thresholds);
        out->tuned = eos_malloc((size_t)C * sizeof *out->tuned);
        if (!out->ml || !out->thresholds || !out->tuned)
            return eos_err_set(err, EOS_NOMEM, "out of memory");
        memcpy(out->thresholds, su->thresholds, (size_t)C * sizeof *out->thresholds);
    } else if (!(out->cm = eos_confusion_create(C))) {
        return eos_err_set(err, EOS_NOMEM, "out of memory");
    }
    return EOS_OK;
}

static void result_finish(eos_eval_result *out) {
    if (out->cm) eos_confusion_summarize(out->cm, out->excluded, NULL, &out->summary);
    if (out->ml) {
        eos_multilabel_summarize(out->ml, out->thresholds, &out->at_model, NULL);
        eos_multilabel_tune(out->ml, 1.0, out->tuned);
        eos_multilabel_summarize(out->ml, out->tuned, &out->at_tuned, NULL);
    }
}

/* The output that eos_eval_params.feat_output names (-1: none). */
static eos_status feat_output_index(const eos_model *m, const eos_eval_params *p, eos_task task,
                                    int *out, eos_err *err) {
    *out = -1;
    if (!p->feat_output && !p->on_batch) return EOS_OK;
    if (task == EOS_TASK_SEGMENT)
        return eos_err_set(err, EOS_INVALID_ARG, "feature outputs and batch callbacks are for "
                           "classify/tag models");
    if (!p->feat_output) return EOS_OK;
    if ((*out = eos_model_output_index(m, p->feat_output)) < 0)
        return eos_err_set(err, EOS_INVALID_ARG, "the model has no output named '%.100s'",
                           p->feat_output);
    return EOS_OK;
}

static eos_status evaluate(eval_run *e, const eos_model *m, eos_err *err) {
    eval_setup *su = e->su;
    EOS_TRY(setup_read(e->ctx, m, e->ds, su, err));
    eos_status st = eos_norm_from_model(e->ctx, m, su->n_bands, &su->norm);
    if (st != EOS_OK) return eos_err_set(err, st, "%s", eos_ctx_errmsg(e->ctx));
    EOS_TRY(result_init(e->ds, e->p, su, e->out, err));
    e->r.n_classes = su->n_classes;
    e->r.kind = su->kind;
    e->r.n_tta = e->p->tta8 ? 8 : e->p->tta ? 4 : 1;
    EOS_TRY(feat_output_index(m, e->p, su->task, &e->r.feat_output, err));
    e->r.argmax_only = su->task != EOS_TASK_TAG;
    EOS_TRY(eos__runner_init(&e->r, m, e->p->n_threads, err));
    int64_t n = eos_dataset_size(e->ds);
    e->limit = e->p->max_items > 0 && e->p->max_items < n ? e->p->max_items : n;
    eos__progress_start(&e->prog, e->p->progress, "eval", "items", e->limit);
    st = su->task == EOS_TASK_SEGMENT ? eval_segment(e, err) : eval_images(e, err);
    eos__progress_show(&e->prog, (double)e->out->items, true);
    EOS_TRY(st);
    e->out->seconds = eos__now_s() - e->prog.t0;
    result_finish(e->out);
    return EOS_OK;
}

static eos_status check_params(const eos_eval_params *p, eos_err *err) {
    if (p->batch < 0 || p->batch > EVAL_MAX_BATCH)
        return eos_err_set(err, EOS_INVALID_ARG, "batch %d outside 0..%d", p->batch, EVAL_MAX_BATCH);
    if (p->tile < 0 || p->tile > EVAL_MAX_SIZE)
        return eos_err_set(err, EOS_INVALID_ARG, "tile %d outside 0..%d", p->tile, EVAL_MAX_SIZE);
    if (p->overlap < 0 || p->overlap % 2)
        return eos_err_set(err, EOS_INVALID_ARG, "overlap %d: must be even and >= 0", p->overlap);
    if (p->max_items < 0 || p->n_threads < 0 || p->loader_threads < 0)
        return eos_err_set(err, EOS_INVALID_ARG, "negative max_items or thread count");
    return EOS_OK;
}

eos_status eos_evaluate(eos_ctx *ctx, const eos_model *m, const eos_dataset *ds,
                        const eos_eval_params *params, eos_eval_result *out) {
    eos__ctx_clear(ctx);
    eos_err err;
    eos_err_clear(&err);
    if (!out) return EOS_INVALID_ARG;
    memset(out, 0, sizeof *out);
    eos_eval_params defaults = { 0 };
    const eos_eval_params *p = params ? params : &defaults;
    if (!m || !ds) {
        eos_err_set(&err, EOS_INVALID_ARG, "eos_evaluate: NULL model or dataset");
        return eos__ctx_fail(ctx, &err);
    }
    eval_setup *su = eos_calloc(1, sizeof *su);   /* eos_norm is large: keep it off the stack */
    eos_status st = su ? check_params(p, &err) : eos_err_set(&err, EOS_NOMEM, "out of memory");
    eval_run e = { .ctx = ctx, .ds = ds, .p = p, .su = su, .out = out };
    if (st == EOS_OK) st = evaluate(&e, m, &err);
    eos__runner_free(&e.r);
    if (su) eos_free(su->thresholds);
    eos_free(su);
    if (st == EOS_OK) return EOS_OK;
    eos_eval_result_free(out);
    return eos__ctx_fail(ctx, &err);
}

void eos_eval_result_free(eos_eval_result *r) {
    if (!r) return;
    eos_confusion_free(r->cm);
    eos_multilabel_free(r->ml);
    eos_free(r->thresholds);
    eos_free(r->tuned);
    eos_free(r->excluded);
    for (int c = 0; r->class_names && c < r->n_classes; c++) eos_free(r->class_names[c]);
    eos_free(r->class_names);
    memset(r, 0, sizeof *r);
}

double eos_eval_score(const eos_eval_result *r) {
    if (!r) return NAN;
    switch (r->task) {
    case EOS_TASK_CLASSIFY: return r->summary.accuracy;
    case EOS_TASK_TAG:      return r->at_model.micro_f1;
    case EOS_TASK_SEGMENT:  return r->summary.miou;
    }
    return NAN;
}

/* ------------------------------------------------------------------ reports */

void eos_eval_print(const eos_eval_result *r, FILE *f) {
    if (!r || !f) return;
    const char *const *names = (const char *const *)r->class_names;
    fprintf(f, "task %s: %lld %s%s in %.1f s (%.1f/s)\n", eos_task_name(r->task),
            (long long)r->items, r->task == EOS_TASK_SEGMENT ? "image" : "item",
            r->items == 1 ? "" : "s", r->seconds,
            r->seconds > 0 ? (double)r->items / r->seconds : 0.0);
    if (r->cm) {
        eos_confusion_table(r->cm, names, r->excluded, f);
        return;
    }
    if (!r->ml) return;
    fprintf(f, "at the model's thresholds:\n");
    eos_multilabel_table(r->ml, r->thresholds, names, f);
    const eos_multilabel_summary *t = &r->at_tuned;
    fprintf(f, "at thresholds tuned on this data (F1): micro F1 %.4f  macro F1 %.4f  micro F2 "
            "%.4f  macro F2 %.4f\ntuned thresholds (eosight.thresholds): ", t->micro_f1,
            t->macro_f1, t->micro_f2, t->macro_f2);
    for (int c = 0; c < r->n_classes; c++) fprintf(f, "%s%.4g", c ? "," : "", r->tuned[c]);
    fputc('\n', f);
}

/* The members of a JSON object string (without its braces), preceded by a comma. */
static void put_members(eos_strbuf *b, const char *obj) {
    const char *o = strchr(obj, '{'), *c = strrchr(obj, '}');
    if (!o || !c || c <= o + 1) return;
    const char *p = o + 1;
    while (p < c && (*p == ' ' || *p == '\n')) p++;
    if (p == c) return;
    eos_strbuf_put(b, ",", 1);
    eos_strbuf_put(b, p, (size_t)(c - p));
}

eos_status eos_eval_json(const eos_eval_result *r, char **out) {
    if (!r || !out) return EOS_INVALID_ARG;
    *out = NULL;
    const char *const *names = (const char *const *)r->class_names;
    char *inner = NULL, *tuned = NULL;
    eos_status st = EOS_INVALID_ARG;
    if (r->cm) st = eos_confusion_json(r->cm, names, r->excluded, &inner);
    else if (r->ml) st = eos_multilabel_json(r->ml, r->thresholds, names, &inner);
    if (st == EOS_OK && r->ml) st = eos_multilabel_json(r->ml, r->tuned, names, &tuned);
    if (st != EOS_OK) {
        eos_free(inner);
        return st;
    }
    eos_strbuf b = EOS_STRBUF_INIT;
    double score = eos_eval_score(r);
    eos_strbuf_printf(&b, "{\"task\":\"%s\",\"items\":%lld,\"seconds\":%.3f",
                      eos_task_name(r->task), (long long)r->items, r->seconds);
    if (isfinite(score)) eos_strbuf_printf(&b, ",\"score\":%.17g", score);
    put_members(&b, inner);
    if (tuned) {
        eos_strbuf_puts(&b, ",\"tuned\":");
        eos_strbuf_puts(&b, tuned);
    }
    eos_strbuf_put(&b, "}", 1);
    eos_free(inner);
    eos_free(tuned);
    return eos_strbuf_take(&b, out);
}
