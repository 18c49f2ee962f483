/*
 * src/io/norm.c - per-band normalisation from storage values (DN) to model input
 * (include/eosight/raster.h, "normalisation"; keys in docs/model-metadata.md).
 *
 *     x = DN * scale + offset;  if (has_clip) x = clamp(x, clip_lo, clip_hi);  x = (x - mean) / std
 *
 * Without a clip the chain folds into one multiply-add per value, x = DN * a + c with
 * a = scale / std and c = (offset - mean) / std, computed once per band. The loops are written
 * once as macros and instantiated per source type; u8, u16, i16 and f32 (what imagery is stored
 * as) and the rarer types alike have no function call per value, except f16/bf16 whose
 * conversions are calls. Arithmetic is in f32, or f64 for i32/i64/f64 sources whose values f32
 * cannot hold exactly.
 *
 * Lists in the metadata are parsed with CPLStrtod, which reads '.' decimals whatever the
 * process locale is.
 */
#include "io/raster_internal.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cpl_conv.h>

#include "eosight/alloc.h"
#include "io/gdal_util.h"

void eos_norm_identity(eos_norm *norm, int n_bands) {
    memset(norm, 0, sizeof *norm);
    norm->n_bands = n_bands < 0 ? 0 : n_bands > EOS_RASTER_MAX_BANDS ? EOS_RASTER_MAX_BANDS : n_bands;
    for (int b = 0; b < EOS_RASTER_MAX_BANDS; b++) {
        norm->scale[b] = 1.0;
        norm->std[b] = 1.0;
    }
}

/* ------------------------------------------------------------------ metadata */

/* Parse the comma-separated numbers of `key` into v (at most EOS_RASTER_MAX_BANDS). *n = 0 when
 * the key is absent. */
static eos_status parse_list(const eos_model *m, const char *key, double *v, int *n, eos_err *err) {
    *n = 0;
    const char *s = eos_model_meta(m, key);
    if (!s) return EOS_OK;
    const char *p = s;
    for (;;) {
        while (isspace((unsigned char)*p)) p++;
        char *end = NULL;
        double x = *p && *p != ',' ? CPLStrtod(p, &end) : 0.0;
        if (!end || end == p || !isfinite(x))
            return eos_err_set(err, EOS_PARSE, "model metadata %s = '%.80s': entry %d is not a "
                               "number", key, s, *n + 1);
        if (*n >= EOS_RASTER_MAX_BANDS)
            return eos_err_set(err, EOS_SHAPE, "model metadata %s has more than %d values", key,
                               EOS_RASTER_MAX_BANDS);
        v[(*n)++] = x;
        p = end;
        while (isspace((unsigned char)*p)) p++;
        if (!*p) return EOS_OK;
        if (*p != ',')
            return eos_err_set(err, EOS_PARSE, "model metadata %s = '%.80s': entry %d is not a "
                               "number", key, s, *n);
        p++;
    }
}

/* A per-band list: one value for every band, or exactly n_bands values. */
static eos_status per_band(const eos_model *m, const char *key, int n_bands, double *out,
                           eos_err *err) {
    double v[EOS_RASTER_MAX_BANDS];
    int n;
    EOS_TRY(parse_list(m, key, v, &n, err));
    if (n == 0) return EOS_OK;
    if (n != 1 && n != n_bands)
        return eos_err_set(err, EOS_SHAPE, "model metadata %s has %d values for %d input band%s "
                           "(give one per band, or one for all)", key, n, n_bands,
                           n_bands == 1 ? "" : "s");
    for (int b = 0; b < n_bands; b++) out[b] = v[n == 1 ? 0 : b];
    return EOS_OK;
}

static eos_status norm_from_model(const eos_model *m, int n_bands, eos_norm *norm, eos_err *err) {
    EOS_TRY(per_band(m, "eosight.norm.scale", n_bands, norm->scale, err));
    EOS_TRY(per_band(m, "eosight.norm.offset", n_bands, norm->offset, err));
    EOS_TRY(per_band(m, "eosight.norm.mean", n_bands, norm->mean, err));
    EOS_TRY(per_band(m, "eosight.norm.std", n_bands, norm->std, err));
    for (int b = 0; b < n_bands; b++)
        if (!(norm->std[b] > 0.0))
            return eos_err_set(err, EOS_PARSE, "model metadata eosight.norm.std: band %d has std %g "
                               "(must be > 0)", b + 1, norm->std[b]);
    double clip[EOS_RASTER_MAX_BANDS];
    int n_clip;
    EOS_TRY(parse_list(m, "eosight.norm.clip", clip, &n_clip, err));
    if (n_clip != 0 && n_clip != 2)
        return eos_err_set(err, EOS_SHAPE, "model metadata eosight.norm.clip has %d values "
                           "(min,max expected)", n_clip);
    if (n_clip == 2) {
        if (clip[0] > clip[1])
            return eos_err_set(err, EOS_PARSE, "model metadata eosight.norm.clip: min %g > max %g",
                               clip[0], clip[1]);
        norm->has_clip = true;
        norm->clip_lo = clip[0];
        norm->clip_hi = clip[1];
    }
    return EOS_OK;
}

eos_status eos_norm_from_model(eos_ctx *ctx, const eos_model *m, int n_bands, eos_norm *norm) {
    eos_err err = { 0 };
    eos__ctx_clear(ctx);
    if (!norm) return EOS_INVALID_ARG;
    eos_norm_identity(norm, n_bands);
    eos_status st = EOS_OK;
    if (!m) st = eos_err_set(&err, EOS_INVALID_ARG, "eos_norm_from_model: no model");
    else if (n_bands < 1 || n_bands > EOS_RASTER_MAX_BANDS)
        st = eos_err_set(&err, EOS_INVALID_ARG, "eos_norm_from_model: %d bands (1..%d)", n_bands,
                         EOS_RASTER_MAX_BANDS);
    else st = norm_from_model(m, n_bands, norm, &err);
    if (st != EOS_OK) {
        eos_norm_identity(norm, n_bands);
        return eos__ctx_fail(ctx, &err);
    }
    return EOS_OK;
}

/* ------------------------------------------------------------------ applying */

/* Coefficients of one band, in the arithmetic type of the loop. */
#define NORM_LOOP(T, ACC, LOAD)                                                               \
    do {                                                                                      \
        const T *s_ = (const T *)src + (size_t)b * n;                                         \
        float *d_ = dst + (size_t)b * n;                                                      \
        if (!norm->has_clip) {                                                                \
            const ACC a = (ACC)(norm->scale[b] / norm->std[b]);                               \
            const ACC c = (ACC)((norm->offset[b] - norm->mean[b]) / norm->std[b]);            \
            for (size_t i = 0; i < n; i++) d_[i] = (float)((ACC)LOAD(s_[i]) * a + c);         \
        } else {                                                                              \
            const ACC sc = (ACC)norm->scale[b], of = (ACC)norm->offset[b];                    \
            const ACC lo = (ACC)norm->clip_lo, hi = (ACC)norm->clip_hi;                       \
            const ACC mu = (ACC)norm->mean[b], inv = (ACC)(1.0 / norm->std[b]);               \
            for (size_t i = 0; i < n; i++) {                                                  \
                ACC x = (ACC)LOAD(s_[i]) * sc + of;                                           \
                x = x < lo ? lo : x > hi ? hi : x;                                            \
                d_[i] = (float)((x - mu) * inv);                                              \
            }                                                                                 \
        }                                                                                     \
    } while (0)

#define LOAD_PLAIN(v) (v)
#define LOAD_F16(v)   eos_f16_to_f32(v)
#define LOAD_BF16(v)  eos_bf16_to_f32(v)

static bool norm_band(const eos_norm *norm, int b, eos_dtype t, const void *src, size_t n,
                      float *dst) {
    switch (t) {
    case EOS_DTYPE_U8:   NORM_LOOP(uint8_t, float, LOAD_PLAIN);  return true;
    case EOS_DTYPE_BOOL: NORM_LOOP(uint8_t, float, LOAD_PLAIN);  return true;
    case EOS_DTYPE_U16:  NORM_LOOP(uint16_t, float, LOAD_PLAIN); return true;
    case EOS_DTYPE_I16:  NORM_LOOP(int16_t, float, LOAD_PLAIN);  return true;
    case EOS_DTYPE_F32:  NORM_LOOP(float, float, LOAD_PLAIN);    return true;
    case EOS_DTYPE_I8:   NORM_LOOP(int8_t, float, LOAD_PLAIN);   return true;
    case EOS_DTYPE_F16:  NORM_LOOP(uint16_t, float, LOAD_F16);   return true;
    case EOS_DTYPE_BF16: NORM_LOOP(uint16_t, float, LOAD_BF16);  return true;
    case EOS_DTYPE_I32:  NORM_LOOP(int32_t, double, LOAD_PLAIN); return true;
    case EOS_DTYPE_I64:  NORM_LOOP(int64_t, double, LOAD_PLAIN); return true;
    case EOS_DTYPE_F64:  NORM_LOOP(double, double, LOAD_PLAIN);  return true;
    default:             return false;
    }
}

/* eos_norm_apply, also correct in place (src == dst with f32 sources: each value is read
 * before it is written, at the same index). */
static eos_status norm_apply(const eos_norm *norm, eos_dtype t, const void *src, int64_t n_px,
                             const uint8_t *valid, float *dst) {
    if (!norm || !src || !dst || n_px < 0 || norm->n_bands < 1 ||
        norm->n_bands > EOS_RASTER_MAX_BANDS)
        return EOS_INVALID_ARG;
    for (int b = 0; b < norm->n_bands; b++)
        if (!(norm->std[b] > 0.0) || !isfinite(norm->scale[b] / norm->std[b])) return EOS_INVALID_ARG;
    size_t n = (size_t)n_px;
    for (int b = 0; b < norm->n_bands; b++)
        if (!norm_band(norm, b, t, src, n, dst)) return EOS_INVALID_ARG;
    if (!valid) return EOS_OK;
    for (int b = 0; b < norm->n_bands; b++) {
        float *d = dst + (size_t)b * n;
        for (size_t i = 0; i < n; i++) d[i] = valid[i] ? d[i] : 0.0f;
    }
    return EOS_OK;
}

eos_status eos_norm_apply(const eos_norm *norm, eos_dtype src_dtype, const void *src,
                          int64_t n_px, const uint8_t *valid, float *dst) {
    return norm_apply(norm, src_dtype, src, n_px, valid, dst);
}

/* ------------------------------------------------------------------ normalised reads */

/* The type the selected bands are read as before normalising: their common storage type when
 * eosight has one, else f32 when that holds every band exactly, else f64. */
static eos_dtype read_type(const eos_raster *r) {
    bool same = true, fits_f32 = true;
    for (int i = 0; i < r->n_sel; i++) {
        GDALDataType t = r->sel_type[i];
        same = same && t == r->sel_type[0];
        fits_f32 = fits_f32 && (t == GDT_Byte || t == GDT_UInt16 || t == GDT_Int16 || t == GDT_Float32);
    }
    eos_dtype d = eos_gdal_to_dtype(r->sel_type[0]);
    if (same && d != EOS_DTYPE_UNDEFINED) return d;
    return fits_f32 ? EOS_DTYPE_F32 : EOS_DTYPE_F64;
}

eos_status eos_raster_read_norm(eos_raster *r, int64_t x0, int64_t y0, int w, int h,
                                const eos_norm *norm, float *dst, uint8_t *valid,
                                eos_pad_mode pad) {
    if (!r) return EOS_INVALID_ARG;
    eos_err_clear(&r->err);
    if (!norm || !dst) return eos_err_set(&r->err, EOS_INVALID_ARG, "'%s': no norm or buffer", r->path);
    if (norm->n_bands != r->n_sel)
        return eos_err_set(&r->err, EOS_SHAPE, "'%s': normalisation for %d bands, %d bands selected",
                           r->path, norm->n_bands, r->n_sel);
    if (w <= 0 || h <= 0 || (uint64_t)w * (uint64_t)h > ((uint64_t)1 << 62) / ((uint64_t)r->n_sel * 8))
        return eos_err_set(&r->err, EOS_INVALID_ARG, "'%s': window size %d x %d", r->path, w, h);
    eos_dtype t = read_type(r);
    size_t es = eos_dtype_size(t), plane = (size_t)w * h;
    size_t data_bytes = t == EOS_DTYPE_F32 ? 0 : plane * r->n_sel * es;
    size_t mask_bytes = valid || r->all_valid ? 0 : plane;
    char *scratch = NULL;
    if (data_bytes + mask_bytes) {
        scratch = eos__raster_grow(&r->norm_scratch, &r->norm_scratch_cap, data_bytes + mask_bytes);
        if (!scratch)
            return eos_err_set(&r->err, EOS_NOMEM, "'%s': out of memory for a %d x %d window",
                               r->path, w, h);
    }
    void *src = data_bytes ? (void *)scratch : (void *)dst;
    uint8_t *v = valid ? valid : mask_bytes ? (uint8_t *)scratch + data_bytes : NULL;
    EOS_TRY(eos_raster_read(r, x0, y0, w, h, t, src, v, pad));
    eos_status st = norm_apply(norm, t, src, (int64_t)plane, v, dst);
    if (st != EOS_OK)
        return eos_err_set(&r->err, st, "'%s': invalid normalisation (std must be > 0)", r->path);
    return EOS_OK;
}
