/*
 * src/analysis/analyzer.c - eos_analyzer (include/eosight/analysis.h): a model with its
 * contract read from the metadata, opening images for it, checking them against the contract,
 * the contract as JSON and the model search path.
 */
#include <ctype.h>
#include <stdarg.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "analysis/analysis_internal.h"
#include "core/strbuf.h"
#include "eosight/alloc.h"

#ifndef EOS_INSTALL_PREFIX
#define EOS_INSTALL_PREFIX "/usr/local"
#endif

const char *eos_analysis_task_name(eos_analysis_task t) {
    switch (t) {
    case EOS_ANALYSIS_CLASSIFY: return "classify";
    case EOS_ANALYSIS_TAG:      return "tag";
    case EOS_ANALYSIS_CLOUD:    return "cloud";
    case EOS_ANALYSIS_SEGMENT:  return "segment";
    }
    return "?";
}

/* ------------------------------------------------------------------ contract */

/* A copy of list entry i as a new string. */
static char *list_dup(const char *s, int i) {
    const char *p;
    size_t n;
    eos__list_at(s, i, &p, &n);
    char *d = eos_malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, p, n);
    d[n] = '\0';
    return d;
}

static eos_status read_task(const eos_model *m, eos_analysis_task *t, eos_err *err) {
    const char *s = eos_model_meta(m, "eosight.task");
    if (!s)
        return eos_err_set(err, EOS_INVALID_ARG, "the model has no eosight.task metadata: it is "
                           "not an eosight model (add eosight.task, eosight.classes, "
                           "eosight.bands and eosight.norm.* as docs/model-metadata.md says)");
    if (!strcmp(s, "classification")) *t = EOS_ANALYSIS_CLASSIFY;
    else if (!strcmp(s, "multilabel")) *t = EOS_ANALYSIS_TAG;
    else if (!strcmp(s, "cloud")) *t = EOS_ANALYSIS_CLOUD;
    else if (!strcmp(s, "segmentation")) *t = EOS_ANALYSIS_SEGMENT;
    else
        return eos_err_set(err, EOS_PARSE, "eosight.task is '%.100s': expected classification, "
                           "multilabel, cloud or segmentation", s);
    return EOS_OK;
}

/* Classes from eosight.classes, else the output's channel count. */
static eos_status read_classes(eos_analyzer *a, eos_err *err) {
    eos_contract *c = &a->contract;
    eos_io_info out;
    eos_model_output_info(a->model, 0, &out);
    int64_t n_out = out.ndim >= 2 ? out.dims[1] : -1;
    const char *s = eos_model_meta(a->model, "eosight.classes");
    int n = s ? eos__list_len(s) : (int)n_out;
    if (n < 1 || n > EOS_ANALYSIS_MAX_CLASSES)
        return eos_err_set(err, EOS_INVALID_ARG, "the model has %d classes: expected 1..%d (set "
                           "eosight.classes)", n, EOS_ANALYSIS_MAX_CLASSES);
    if (n_out > 0 && n_out != n)
        return eos_err_set(err, EOS_INVALID_ARG, "eosight.classes names %d classes but the model "
                           "output has %lld channels", n, (long long)n_out);
    a->names = eos_calloc((size_t)n, sizeof *a->names);
    a->colors = eos_calloc((size_t)n, sizeof *a->colors);
    a->thresholds = eos_malloc((size_t)n * sizeof *a->thresholds);
    if (!a->names || !a->colors || !a->thresholds) return eos_err_set(err, EOS_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "class_%d", i);
        a->names[i] = s ? list_dup(s, i) : eos_strdup(buf);
        if (!a->names[i]) return eos_err_set(err, EOS_NOMEM, "out of memory");
        a->colors[i] = eos_class_palette(i);
        a->thresholds[i] = 0.5f;
    }
    c->n_classes = n;
    c->class_names = (const char *const *)a->names;
    c->colors = a->colors;
    c->thresholds = a->thresholds;
    c->cloudy_class = n > 1 ? 1 : 0;
    for (int i = 0; i < n; i++)
        if (!strcmp(a->names[i], "cloudy")) c->cloudy_class = i;
    return EOS_OK;
}

static int hexval(int ch) {
    return isdigit(ch) ? ch - '0' : isxdigit(ch) ? (tolower(ch) - 'a' + 10) : -1;
}

static eos_status read_colors(eos_analyzer *a, eos_err *err) {
    const char *s = eos_model_meta(a->model, "eosight.colors");
    if (!s) return EOS_OK;
    int n = a->contract.n_classes;
    if (eos__list_len(s) != n)
        return eos_err_set(err, EOS_PARSE, "eosight.colors has %d entries for %d classes",
                           eos__list_len(s), n);
    for (int i = 0; i < n; i++) {
        const char *p;
        size_t len;
        eos__list_at(s, i, &p, &len);
        int v[6];
        bool ok = len == 7 && p[0] == '#';
        for (int k = 0; ok && k < 6; k++) ok = (v[k] = hexval((unsigned char)p[k + 1])) >= 0;
        if (!ok)
            return eos_err_set(err, EOS_PARSE, "eosight.colors entry %d is not #rrggbb", i + 1);
        a->colors[i] = (eos_rgba){ (uint8_t)(v[0] * 16 + v[1]), (uint8_t)(v[2] * 16 + v[3]),
                                   (uint8_t)(v[4] * 16 + v[5]), 255 };
    }
    return EOS_OK;
}

static eos_status read_thresholds(eos_analyzer *a, eos_err *err) {
    const char *key = "eosight.thresholds";
    const char *s = eos_model_meta(a->model, key);
    int n = a->contract.n_classes;
    if (!s) return EOS_OK;
    int k = eos__list_len(s);
    if (k != n && k != 1)
        return eos_err_set(err, EOS_PARSE, "%s has %d values for %d classes", key, k, n);
    for (int i = 0; i < n; i++) {
        double v;
        if (!eos__list_num(s, k == 1 ? 0 : i, &v) || v < 0 || v > 1)
            return eos_err_set(err, EOS_PARSE, "%s: value %d is not a number in [0, 1]", key,
                               (k == 1 ? 0 : i) + 1);
        a->thresholds[i] = (float)v;
    }
    return EOS_OK;
}

/* Bands: channel count from the graph or eosight.bands / norm lists; names when given. */
static eos_status read_bands(eos_analyzer *a, eos_ctx *ctx, eos_err *err) {
    eos_contract *c = &a->contract;
    eos_io_info in;
    eos_model_input_info(a->model, 0, &in);
    const char *s = eos_model_meta(a->model, "eosight.bands");
    int n = in.dims[1] > 0 ? (int)in.dims[1] : s ? eos__list_len(s) : 3;
    if (n < 1 || n > EOS_RASTER_MAX_BANDS)
        return eos_err_set(err, EOS_INVALID_ARG, "the model takes %d bands: expected 1..%d", n,
                           EOS_RASTER_MAX_BANDS);
    if (s && eos__list_len(s) != n)
        return eos_err_set(err, EOS_INVALID_ARG, "eosight.bands names %d bands but the model "
                           "input has %d channels", eos__list_len(s), n);
    c->n_bands = n;
    if (s) {
        a->bands = eos_calloc((size_t)n, sizeof *a->bands);
        if (!a->bands) return eos_err_set(err, EOS_NOMEM, "out of memory");
        for (int b = 0; b < n; b++)
            if (!(a->bands[b] = list_dup(s, b))) return eos_err_set(err, EOS_NOMEM, "out of memory");
        c->band_names = (const char *const *)a->bands;
    }
    eos_status st = eos_norm_from_model(ctx, a->model, n, &c->norm);
    if (st != EOS_OK) return eos_err_set(err, st, "%s", eos_ctx_errmsg(ctx));
    return EOS_OK;
}

/* A positive integer metadata value (0 when absent). */
static eos_status meta_int(const eos_model *m, const char *key, int lo, int hi, int *v,
                           eos_err *err) {
    const char *s = eos_model_meta(m, key);
    *v = 0;
    if (!s) return EOS_OK;
    double d;
    if (eos__list_len(s) != 1 || !eos__list_num(s, 0, &d) || d != floor(d) || d < lo || d > hi)
        return eos_err_set(err, EOS_PARSE, "%s is '%.60s': expected an integer in %d..%d", key, s,
                           lo, hi);
    *v = (int)d;
    return EOS_OK;
}

static eos_status read_geometry(eos_analyzer *a, eos_err *err) {
    eos_contract *c = &a->contract;
    eos_io_info in;
    eos_model_input_info(a->model, 0, &in);
    c->in_h = in.dims[2] > 0 ? (int)in.dims[2] : 0;
    c->in_w = in.dims[3] > 0 ? (int)in.dims[3] : 0;
    const char *s = eos_model_meta(a->model, "eosight.input_size");
    if (s) {
        int n = eos__list_len(s);
        double h, w;
        if ((n != 1 && n != 2) || !eos__list_num(s, 0, &h) || !eos__list_num(s, n - 1, &w) ||
            h < 1 || w < 1 || h > 16384 || w > 16384 || h != floor(h) || w != floor(w))
            return eos_err_set(err, EOS_PARSE, "eosight.input_size is '%.60s': expected H,W in "
                               "pixels", s);
        if ((c->in_h && c->in_h != (int)h) || (c->in_w && c->in_w != (int)w))
            return eos_err_set(err, EOS_PARSE, "eosight.input_size is %s but the model input is "
                               "fixed at %d x %d", s, c->in_h, c->in_w);
        c->in_h = (int)h;
        c->in_w = (int)w;
    }
    if (c->task != EOS_ANALYSIS_SEGMENT && (!c->in_h || !c->in_w))
        return eos_err_set(err, EOS_INVALID_ARG, "the model's input size is not fixed: set "
                           "eosight.input_size");
    EOS_TRY(meta_int(a->model, "eosight.window_px", 1, 65536, &c->window_px, err));
    const char *g = eos_model_meta(a->model, "eosight.gsd_m");
    double v = 0;
    if (g && (!eos__list_num(g, 0, &v) || eos__list_len(g) != 1 || !(v > 0)))
        return eos_err_set(err, EOS_PARSE, "eosight.gsd_m is '%.60s': expected metres > 0", g);
    c->gsd_m = v;
    const char *d = eos_model_meta(a->model, "eosight.dtype");
    c->dtype = d ? eos_dtype_from_name(d) : EOS_DTYPE_UNDEFINED;
    if (d && c->dtype == EOS_DTYPE_UNDEFINED)
        return eos_err_set(err, EOS_PARSE, "eosight.dtype is '%.30s': expected u8, u16, i16 or "
                           "f32", d);
    return EOS_OK;
}

static eos_status read_output_kind(eos_analyzer *a, eos_err *err) {
    const char *s = eos_model_meta(a->model, "eosight.output");
    a->run.kind = a->contract.task == EOS_ANALYSIS_TAG ? EOS_OUT_SIGMOID : EOS_OUT_SOFTMAX;
    if (!s || !strcmp(s, "logits")) return EOS_OK;
    if (!strcmp(s, "probabilities")) {
        a->run.kind = EOS_OUT_PROBS;
        return EOS_OK;
    }
    return eos_err_set(err, EOS_PARSE, "eosight.output is '%.60s': expected logits or "
                       "probabilities", s);
}

static eos_status contract_read(eos_analyzer *a, eos_ctx *ctx, eos_err *err) {
    if (eos_model_n_inputs(a->model) != 1 || eos_model_n_outputs(a->model) < 1)
        return eos_err_set(err, EOS_INVALID_ARG, "the model has %d inputs and %d outputs: the "
                           "analyses need one image input", eos_model_n_inputs(a->model),
                           eos_model_n_outputs(a->model));
    eos_io_info in;
    eos_model_input_info(a->model, 0, &in);
    if (in.ndim != 4)
        return eos_err_set(err, EOS_INVALID_ARG, "the model input '%s' has %d dims, not 4 (NCHW)",
                           in.name, in.ndim);
    EOS_TRY(read_task(a->model, &a->contract.task, err));
    EOS_TRY(read_classes(a, err));
    EOS_TRY(read_colors(a, err));
    if (a->contract.task == EOS_ANALYSIS_TAG || a->contract.task == EOS_ANALYSIS_CLOUD)
        EOS_TRY(read_thresholds(a, err));
    EOS_TRY(read_bands(a, ctx, err));
    EOS_TRY(read_geometry(a, err));
    EOS_TRY(read_output_kind(a, err));
    return eos__analysis_ood_init(a, ctx, err);
}

/* ------------------------------------------------------------------ analyzer */

static void set_name(eos_analyzer *a, const char *path) {
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    snprintf(a->name, sizeof a->name, "%s", b);
    size_t n = strlen(a->name);
    if (n > 5 && !strcmp(a->name + n - 5, ".onnx")) a->name[n - 5] = '\0';
}

/* Read the contract and set up the runner of an analyzer whose model is loaded; frees a on
 * failure. */
static eos_status open_finish(eos_analyzer *a, eos_ctx *ctx, const char *model_path,
                              eos_analyzer **out) {
    eos_err err;
    eos_err_clear(&err);
    a->run.feat_output = -1;
    eos_status st = contract_read(a, ctx, &err);
    if (st == EOS_OK) {
        a->run.n_classes = a->contract.n_classes;
        st = eos__runner_init(&a->run, a->model, a->n_threads, &err);
    }
    if (st != EOS_OK) {
        eos_err_prefix(&err, "%s: ", model_path);
        eos_analyzer_free(a);
        return eos__ctx_fail(ctx, &err);
    }
    *out = a;
    return EOS_OK;
}

eos_status eos_analyzer_open(eos_ctx *ctx, const char *model_path,
                             const eos_analyzer_params *params, eos_analyzer **out) {
    eos__ctx_clear(ctx);
    if (!out || !model_path) {
        eos_err err = { EOS_INVALID_ARG, "eos_analyzer_open: NULL argument" };
        return eos__ctx_fail(ctx, &err);
    }
    *out = NULL;
    eos_analyzer *a = eos_calloc(1, sizeof *a);
    if (!a) return EOS_NOMEM;
    a->ctx = ctx;
    a->n_threads = params ? params->n_threads : 0;
    a->owns_model = true;
    set_name(a, model_path);
    eos_status st = eos_model_load(ctx, model_path, &a->model);
    if (st != EOS_OK) {
        eos_free(a);
        return st;   /* the loader's message is in ctx */
    }
    return open_finish(a, ctx, model_path, out);
}

eos_status eos_analyzer_open_shared(eos_ctx *ctx, const eos_analyzer *src,
                                    const eos_analyzer_params *params, eos_analyzer **out) {
    eos__ctx_clear(ctx);
    if (!out || !src) {
        eos_err err = { EOS_INVALID_ARG, "eos_analyzer_open_shared: NULL argument" };
        return eos__ctx_fail(ctx, &err);
    }
    *out = NULL;
    eos_analyzer *a = eos_calloc(1, sizeof *a);
    if (!a) return EOS_NOMEM;
    a->ctx = ctx;
    a->n_threads = params ? params->n_threads : 0;
    a->model = src->model;   /* read-only after loading: shareable between threads */
    a->owns_model = false;
    snprintf(a->name, sizeof a->name, "%s", src->name);
    return open_finish(a, ctx, src->name, out);
}

void eos_analyzer_free(eos_analyzer *a) {
    if (!a) return;
    eos__runner_free(&a->run);
    eos__analysis_ood_free(a);
    for (int i = 0; a->names && i < a->contract.n_classes; i++) eos_free(a->names[i]);
    for (int b = 0; a->bands && b < a->contract.n_bands; b++) eos_free(a->bands[b]);
    eos_free(a->names);
    eos_free(a->bands);
    eos_free(a->colors);
    eos_free(a->thresholds);
    eos_free(a->buf);
    eos_free(a->buf2);
    eos_free(a->valid);
    if (a->owns_model) eos_model_free(a->model);
    eos_free(a);
}

const eos_contract *eos_analyzer_contract(const eos_analyzer *a) { return a ? &a->contract : NULL; }
const eos_model *eos_analyzer_model(const eos_analyzer *a) { return a ? a->model : NULL; }
const char *eos_analyzer_name(const eos_analyzer *a) { return a ? a->name : ""; }
const char *eos_analyzer_errmsg(const eos_analyzer *a) { return a ? a->err.msg : ""; }

eos_status eos__analysis_fail(eos_analyzer *a, const eos_err *err) {
    a->err = *err;
    return err->status;
}

/* ------------------------------------------------------------------ opening images */

/* The model's band names joined with commas, when every one exists in the file: "" else. */
static void band_selection(const eos_analyzer *a, eos_raster *r, char *sel, size_t size) {
    sel[0] = '\0';
    const eos_contract *c = &a->contract;
    if (!c->band_names) return;
    eos_raster_info info;
    eos_raster_get_info(r, &info);
    size_t used = 0;
    for (int b = 0; b < c->n_bands; b++) {
        bool found = false;
        for (int i = 1; i <= info.n_bands && !found; i++) {
            eos_band_info bi;
            if (eos_raster_band_info(r, i, &bi) != EOS_OK) continue;
            found = !strcasecmp(bi.name, c->band_names[b]) ||
                    !strcasecmp(bi.color_interp, c->band_names[b]);
        }
        int k = found ? snprintf(sel + used, size - used, "%s%s", b ? "," : "", c->band_names[b])
                      : -1;
        if (k < 0 || (size_t)k >= size - used) {
            sel[0] = '\0';
            return;
        }
        used += (size_t)k;
    }
}

/* Reopen r with the model's bands when the file names them all (the selection may reorder
 * the bands, e.g. a BGR file read as RGB). */
static eos_status reselect(eos_analyzer *a, eos_ctx *ctx, const char *path, const void *buf,
                           size_t size, eos_raster **r) {
    char sel[1024];
    band_selection(a, *r, sel, sizeof sel);
    if (!sel[0]) return EOS_OK;
    eos_raster_open_params p = eos_raster_default_open_params();
    p.bands = sel;
    eos_raster *r2;
    eos_status st = buf ? eos_raster_open_from_memory(ctx, buf, size, path, &p, &r2)
                        : eos_raster_open(ctx, path, &p, &r2);
    if (st != EOS_OK) return EOS_OK;   /* keep the file order; the check will say */
    eos_raster_close(*r);
    *r = r2;
    return EOS_OK;
}

eos_status eos_analyzer_open_raster(eos_analyzer *a, eos_ctx *ctx, const char *path,
                                    eos_raster **out) {
    EOS_TRY(eos_raster_open(ctx, path, NULL, out));
    return reselect(a, ctx, path, NULL, 0, out);
}

eos_status eos_analyzer_open_raster_mem(eos_analyzer *a, eos_ctx *ctx, const void *buf,
                                        size_t size, eos_raster **out) {
    EOS_TRY(eos_raster_open_from_memory(ctx, buf, size, "upload", NULL, out));
    return reselect(a, ctx, "upload", buf, size, out);
}

/* ------------------------------------------------------------------ checking */

static void check_add(eos_check *c, bool refuse, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void check_add(eos_check *c, bool refuse, const char *fmt, ...) {
    if (c->n_msgs >= EOS_CHECK_MAX_MSGS) return;
    char *slot;
    if (refuse) {   /* refusals first */
        memmove(c->msgs[1], c->msgs[0], (size_t)c->n_msgs * sizeof c->msgs[0]);
        slot = c->msgs[0];
        c->refuse = true;
    } else {
        slot = c->msgs[c->n_msgs];
    }
    c->n_msgs++;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(slot, sizeof c->msgs[0], fmt, ap);
    va_end(ap);
}

/* What range of storage values the model's scaling expects: 8 (0..255), 16 (DN x 10000
 * reflectance) or 1 (reflectance 0..1); 0 when nothing can be said. */
static int expected_range(const eos_contract *c) {
    switch (c->dtype) {
    case EOS_DTYPE_U8: return 8;
    case EOS_DTYPE_U16: case EOS_DTYPE_I16: return 16;
    default: break;
    }
    double s = c->norm.scale[0];
    if (fabs(s * 255.0 - 1.0) < 1e-3) return 8;
    if (fabs(s * 10000.0 - 1.0) < 1e-3) return 16;
    if (c->dtype == EOS_DTYPE_F32 && s == 1.0 && c->norm.offset[0] == 0 && c->norm.has_clip &&
        c->norm.clip_hi <= 1.5)
        return 1;
    return 0;
}

/* The k-th smallest of v[0 .. n) (0-based), reordering v: Hoare's selection with a
 * median-of-three pivot, expected linear time (the check runs on every upload; a full sort of
 * the sample was its slowest part). */
static double select_kth(double *v, int64_t n, int64_t k) {
    int64_t lo = 0, hi = n - 1;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        double a = v[lo], b = v[mid], c = v[hi];
        double pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot) i++;
            while (v[j] > pivot) j--;
            if (i <= j) {
                double t = v[i];
                v[i++] = v[j];
                v[j--] = t;
            }
        }
        if (k <= j) hi = j;
        else if (k >= i) lo = i;
        else return v[k];
    }
    return v[k];
}

/* 99th percentile of the valid values of a decimated read (all bands together). */
static eos_status sample_p99(eos_raster *r, int nb, double *p99, int64_t *n_valid, eos_err *err) {
    enum { S = 256 };
    double *v = eos_malloc((size_t)nb * S * S * sizeof *v);
    uint8_t *ok = eos_malloc((size_t)S * S);
    eos_status st = EOS_OK;
    int w = 0, h = 0;
    if (!v || !ok) st = eos_err_set(err, EOS_NOMEM, "out of memory");
    else if ((st = eos_raster_read_decimated(r, S, S, EOS_DTYPE_F64, v, ok, &w, &h)) != EOS_OK)
        st = eos_err_set(err, st, "%s", eos_raster_errmsg(r));
    int64_t n = 0, plane = (int64_t)w * h;
    for (int b = 0; st == EOS_OK && b < nb; b++)
        for (int64_t i = 0; i < plane; i++)
            if (ok[i] && isfinite(v[b * plane + i])) v[n++] = v[b * plane + i];
    if (n > 0) {
        *p99 = select_kth(v, n, (int64_t)floor(0.99 * (double)(n - 1)));
    }
    *n_valid = n;
    eos_free(v);
    eos_free(ok);
    return st;
}

static void check_range(const eos_contract *c, eos_dtype dt, double p99, eos_check *out) {
    int want = expected_range(c);
    bool is_int = dt == EOS_DTYPE_U8 || dt == EOS_DTYPE_U16 || dt == EOS_DTYPE_I16 ||
                  dt == EOS_DTYPE_I32;
    if (want == 8 && p99 > 300)
        check_add(out, true, "the image's values reach %.0f (99th percentile) but the model was "
                  "trained on 8-bit imagery (0..255): if this is reflectance x10000 (Sentinel-2 "
                  "L2A), convert it to 8-bit first (e.g. gdal_translate -ot Byte -scale 0 3000 0 "
                  "255) or use a model trained on 16-bit data", p99);
    else if (want == 8 && !is_int && p99 <= 1.5)
        check_add(out, true, "the image's values are in 0..%.2f (reflectance?) but the model "
                  "expects 8-bit values 0..255: scale them by 255 first", p99);
    else if (want == 16 && !is_int && p99 <= 1.5)
        check_add(out, true, "the image's values are in 0..%.2f: reflectance already divided by "
                  "10000, but the model divides by 10000 itself (it expects DN such as 0..10000)",
                  p99);
    else if (want == 16 && dt == EOS_DTYPE_U8)
        check_add(out, true, "the image is 8-bit but the model expects 16-bit reflectance DN "
                  "(values such as 0..10000): use the original 16-bit product");
    else if (want == 1 && p99 > 2.0)
        check_add(out, true, "the image's values reach %.0f but the model expects reflectance in "
                  "0..1: divide by 10000 first", p99);
}

eos_status eos_contract_check(eos_analyzer *a, eos_raster *r, eos_check *out) {
    eos_err err;
    eos_err_clear(&err);
    if (!a || !r || !out) return EOS_INVALID_ARG;
    memset(out, 0, sizeof *out);
    const eos_contract *c = &a->contract;
    eos_raster_info info;
    eos_raster_get_info(r, &info);
    if (info.n_selected != c->n_bands) {
        check_add(out, true, "the image has %d band%s, the model takes %d (%s)", info.n_selected,
                  info.n_selected == 1 ? "" : "s", c->n_bands,
                  c->band_names ? eos_model_meta(a->model, "eosight.bands") : "unnamed");
        return EOS_OK;
    }
    int sel[EOS_RASTER_MAX_BANDS];
    eos_raster_selected_bands(r, sel);
    eos_band_info bi;
    eos_raster_band_info(r, sel[0], &bi);
    eos_dtype dt = bi.dtype;
    for (int b = 0; c->band_names && b < c->n_bands; b++) {
        eos_band_info x;
        eos_raster_band_info(r, sel[b], &x);
        bool named = x.name[0] || (strcmp(x.color_interp, "Undefined") && strcmp(x.color_interp, "Gray"));
        if (named && strcasecmp(x.name, c->band_names[b]) && strcasecmp(x.color_interp, c->band_names[b]))
            check_add(out, false, "band %d of the image is '%s' (%s) where the model expects '%s'",
                      b + 1, x.name[0] ? x.name : x.color_interp, x.color_interp, c->band_names[b]);
    }
    double p99 = 0;
    int64_t n = 0;
    eos_status st = sample_p99(r, c->n_bands, &p99, &n, &err);
    if (st != EOS_OK) return eos__analysis_fail(a, &err);
    if (n > 0) check_range(c, dt, p99, out);
    if (!out->refuse && c->dtype != EOS_DTYPE_UNDEFINED && dt != c->dtype)
        check_add(out, false, "the image is stored as %s, the model was trained on %s imagery",
                  eos_dtype_name(dt), eos_dtype_name(c->dtype));
    double gsd = eos__raster_gsd_m(r);
    if (c->gsd_m > 0 && gsd > 0 && (gsd > 1.5 * c->gsd_m || gsd < c->gsd_m / 1.5))
        check_add(out, false, "the image's ground-sample distance is %.3g m, the model was trained "
                  "at %.3g m: grid windows are scaled to match, but accuracy may suffer", gsd,
                  c->gsd_m);
    return EOS_OK;
}

/* ------------------------------------------------------------------ contract JSON */

static void json_str(eos_strbuf *b, const char *s) {
    eos_strbuf_json_str(b, s);
}

eos_status eos_contract_json(const eos_analyzer *a, char **json) {
    if (!a || !json) return EOS_INVALID_ARG;
    const eos_contract *c = &a->contract;
    eos_strbuf b = EOS_STRBUF_INIT;
    eos_strbuf_puts(&b, "{\"name\":");
    json_str(&b, a->name);
    eos_strbuf_printf(&b, ",\"task\":\"%s\",\"classes\":[", eos_analysis_task_name(c->task));
    for (int i = 0; i < c->n_classes; i++) {
        eos_strbuf_puts(&b, i ? ",{\"name\":" : "{\"name\":");
        json_str(&b, c->class_names[i]);
        if (c->task == EOS_ANALYSIS_SEGMENT)
            eos_strbuf_printf(&b, ",\"color\":\"#%02x%02x%02x\"", c->colors[i].r, c->colors[i].g,
                              c->colors[i].b);
        if (c->task == EOS_ANALYSIS_TAG || c->task == EOS_ANALYSIS_CLOUD)
            eos_strbuf_printf(&b, ",\"threshold\":%.6g", c->thresholds[i]);
        eos_strbuf_puts(&b, "}");
    }
    eos_strbuf_puts(&b, "],\"bands\":[");
    for (int i = 0; i < c->n_bands; i++) {
        if (i) eos_strbuf_puts(&b, ",");
        if (c->band_names) json_str(&b, c->band_names[i]);
        else eos_strbuf_puts(&b, "null");
    }
    eos_strbuf_puts(&b, "],\"norm\":{");
    const char *keys[4] = { "scale", "offset", "mean", "std" };
    const double *vals[4] = { c->norm.scale, c->norm.offset, c->norm.mean, c->norm.std };
    for (int k = 0; k < 4; k++) {
        eos_strbuf_printf(&b, "%s\"%s\":[", k ? "," : "", keys[k]);
        for (int i = 0; i < c->n_bands; i++) eos_strbuf_printf(&b, "%s%.9g", i ? "," : "", vals[k][i]);
        eos_strbuf_puts(&b, "]");
    }
    if (c->norm.has_clip) eos_strbuf_printf(&b, ",\"clip\":[%.9g,%.9g]", c->norm.clip_lo, c->norm.clip_hi);
    eos_strbuf_puts(&b, "}");
    if (c->in_h) eos_strbuf_printf(&b, ",\"input_size\":[%d,%d]", c->in_h, c->in_w);
    else eos_strbuf_puts(&b, ",\"input_size\":null");
    if (c->gsd_m > 0) eos_strbuf_printf(&b, ",\"gsd_m\":%.6g", c->gsd_m);
    else eos_strbuf_puts(&b, ",\"gsd_m\":null");
    if (c->window_px) eos_strbuf_printf(&b, ",\"window_px\":%d", c->window_px);
    eos_strbuf_printf(&b, ",\"dtype\":%s%s%s", c->dtype ? "\"" : "",
                      c->dtype ? eos_dtype_name(c->dtype) : "null", c->dtype ? "\"" : "");
    eos_strbuf_printf(&b, ",\"ood\":%s", c->has_ood ? "true" : "false");
    const char *prov[3] = { "eosight.arch", "eosight.train.epochs", "eosight.train.command" };
    for (int k = 0; k < 3; k++) {
        const char *v = eos_model_meta(a->model, prov[k]);
        if (!v) continue;
        eos_strbuf_printf(&b, ",\"%s\":", prov[k] + 8);
        json_str(&b, v);
    }
    eos_strbuf_puts(&b, "}");
    return eos_strbuf_take(&b, json);
}

/* ------------------------------------------------------------------ search path */

/* $EOSIGHT_MODELS split once per process (the pointers handed out stay valid). */
static char *g_env_dirs[16];
static int g_n_env_dirs;
static pthread_once_t g_env_once = PTHREAD_ONCE_INIT;

static void read_env_dirs(void) {
    const char *e = getenv("EOSIGHT_MODELS");
    char *copy = e && *e ? eos_strdup(e) : NULL;   /* kept for the process's lifetime */
    char *save = NULL;
    for (char *t = copy ? strtok_r(copy, ":", &save) : NULL; t && g_n_env_dirs < 16;
         t = strtok_r(NULL, ":", &save))
        g_env_dirs[g_n_env_dirs++] = t;
}

int eos_model_search_path(const char **dirs, int max) {
    pthread_once(&g_env_once, read_env_dirs);
    int n = 0;
    if (n < max) dirs[n++] = "models";
    for (int i = 0; i < g_n_env_dirs && n < max; i++) dirs[n++] = g_env_dirs[i];
    if (n < max) dirs[n++] = EOS_INSTALL_PREFIX "/share/eosight/models";
    return n;
}

const char *eos_analysis_default_model(eos_analysis_task task) {
    static const char *const env[] = { "EOSIGHT_MODEL_CLASSIFY", "EOSIGHT_MODEL_TAG",
                                       "EOSIGHT_MODEL_CLOUDS", "EOSIGHT_MODEL_SEGMENT" };
    static const char *const def[] = { "eurosat-rgb-scene", "ucmerced-tags", "clouds",
                                       "dubai-landcover" };
    int t = task >= EOS_ANALYSIS_CLASSIFY && task <= EOS_ANALYSIS_SEGMENT ? (int)task : 0;
    const char *e = getenv(env[t]);
    return e && *e ? e : def[t];
}

static bool is_file(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

eos_status eos_model_find(eos_ctx *ctx, const char *name, char *buf, size_t size) {
    eos__ctx_clear(ctx);
    eos_err err;
    eos_err_clear(&err);
    if (!name || !buf || size == 0) return EOS_INVALID_ARG;
    if (is_file(name)) {
        snprintf(buf, size, "%s", name);
        return EOS_OK;
    }
    const char *dirs[16];
    int n = eos_model_search_path(dirs, 16);
    char looked[1024] = "";
    for (int i = 0; i < n; i++) {
        for (int ext = 0; ext < 2; ext++) {
            snprintf(buf, size, "%s/%s%s", dirs[i], name, ext ? ".onnx" : "");
            if (is_file(buf)) return EOS_OK;
        }
        size_t l = strlen(looked);
        snprintf(looked + l, sizeof looked - l, "%s%s", l ? ", " : "", dirs[i]);
    }
    buf[0] = '\0';
    eos_err_set(&err, EOS_NOT_FOUND, "no model '%s': not a file, and not in %s (set "
                "$EOSIGHT_MODELS or give a path; the default models that are not kept in git "
                "are made by scripts/train-models.sh, see models/README.md)", name, looked);
    return eos__ctx_fail(ctx, &err);
}
