/*
 * src/io/raster_read.c - windowed and decimated reads with padding and validity masks
 * (include/eosight/raster.h, "reading").
 *
 * A read is one GDALDatasetRasterIO call for all selected bands, straight into the caller's
 * buffer through GDAL's pixel/line/band spacing. Windows that cross the raster's edges take one
 * of three paths:
 *   - EOS_PAD_NODATA: the part inside is read in place, the rest is zeros, marked invalid;
 *   - reflect, when every mirrored source pixel lies inside the part of the window that is on
 *     the raster (the usual case: a tile's context hanging over an edge): the inside part is
 *     read in place and the border is filled from it, rows first, then whole rows;
 *   - reflect otherwise (a raster smaller than the padding): the source rectangle the mirror
 *     touches is read into a scratch buffer and gathered.
 * Reflection is mirror without repeating the edge pixel, periodic: see reflect() and
 * eos_tile_grid in geo.h. The validity mask goes through exactly the same paths, so padded
 * pixels carry their source's validity.
 *
 * Validity (raster_internal.h's mask plan) is computed on the window as read: nodata/NaN
 * comparisons on the output values when the conversion to the requested type is exact, else
 * on a second read of the band in its storage type; GDAL mask and alpha bands are read as
 * bytes and ANDed. Hot loops are typed per element size or type, with no calls per pixel.
 */
#include "io/raster_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "eosight/alloc.h"
#include "io/gdal_util.h"

/* |x0|, |y0| beyond this are rejected before any arithmetic on them. */
#define EOS_MAX_COORD ((int64_t)1 << 40)

/* A rectangle read from the raster into a strided destination. */
typedef struct read_req {
    int        x, y, sw, sh;    /* source window, inside the raster */
    int        bw, bh;          /* buffer size (smaller than sw x sh: decimated) */
    eos_dtype  dtype;
    char      *dst;             /* band 0, row 0 */
    size_t     line_px;         /* elements between rows */
    size_t     band_px;         /* elements between bands */
    uint8_t   *valid;           /* NULL: no mask wanted */
    size_t     vline;           /* bytes between mask rows */
} read_req;

/* ------------------------------------------------------------------ validity */

/* Exact conversion from storage type n to output type d: compare on the output values. */
static bool lossless(GDALDataType n, eos_dtype d) {
    if (eos_gdal_type(d) == n) return true;
    switch (n) {
    case GDT_Byte:
        return d == EOS_DTYPE_U16 || d == EOS_DTYPE_I16 || d == EOS_DTYPE_I32 ||
               d == EOS_DTYPE_F32 || d == EOS_DTYPE_F64;
    case GDT_UInt16:
    case GDT_Int16:   return d == EOS_DTYPE_I32 || d == EOS_DTYPE_F32 || d == EOS_DTYPE_F64;
    case GDT_UInt32:
    case GDT_Int32:
    case GDT_Float32: return d == EOS_DTYPE_F64;
    default:          return false;
    }
}

#define CHECK_VALUE_LOOP(T)                                                                   \
    do {                                                                                      \
        const T nd = (T)c->value;                                                             \
        for (int y = 0; y < bh; y++) {                                                        \
            const T *px = (const T *)(base + (size_t)y * line_bytes);                         \
            uint8_t *v = valid + (size_t)y * vline;                                           \
            for (int x = 0; x < bw; x++) v[x] &= px[x] != nd;                                 \
        }                                                                                     \
    } while (0)

#define CHECK_NAN_LOOP(T)                                                                     \
    do {                                                                                      \
        for (int y = 0; y < bh; y++) {                                                        \
            const T *px = (const T *)(base + (size_t)y * line_bytes);                         \
            uint8_t *v = valid + (size_t)y * vline;                                           \
            for (int x = 0; x < bw; x++) v[x] &= px[x] == px[x];                              \
        }                                                                                     \
    } while (0)

/* AND the nodata/NaN test of one band, whose values (of type t) start at base, into valid. */
static void apply_check(const eos__nodata_check *c, eos_dtype t, const char *base,
                        size_t line_bytes, int bw, int bh, uint8_t *valid, size_t vline) {
    bool is_float = t == EOS_DTYPE_F32 || t == EOS_DTYPE_F64;
    if (c->has_value) {
        switch (t) {
        case EOS_DTYPE_U8:  CHECK_VALUE_LOOP(uint8_t);  break;
        case EOS_DTYPE_U16: CHECK_VALUE_LOOP(uint16_t); break;
        case EOS_DTYPE_I16: CHECK_VALUE_LOOP(int16_t);  break;
        case EOS_DTYPE_I32: CHECK_VALUE_LOOP(int32_t);  break;
        case EOS_DTYPE_F32: CHECK_VALUE_LOOP(float);    break;
        case EOS_DTYPE_F64: CHECK_VALUE_LOOP(double);   break;
        default:            break;
        }
    }
    if (is_float && (c->value_nan || c->check_nan)) {
        if (t == EOS_DTYPE_F32) CHECK_NAN_LOOP(float);
        else CHECK_NAN_LOOP(double);
    }
}

static eos_status read_fail(eos_raster *r, const read_req *q, const char *what) {
    return eos_gdal_fail(&r->err, EOS_IO, "'%s': cannot read %s of window x %d..%d, y %d..%d",
                         r->path, what, q->x, q->x + q->sw, q->y, q->y + q->sh);
}

static eos_status mask_nomem(eos_raster *r) {
    return eos_err_set(&r->err, EOS_NOMEM, "'%s': out of memory for the validity mask", r->path);
}

/* A band in its storage type (f64 for types eosight has no dtype for) into mask_scratch. */
static eos_status check_lossy(eos_raster *r, const read_req *q, const eos__nodata_check *c,
                              GDALRasterIOExtraArg *ex) {
    eos_dtype t = eos_gdal_to_dtype(c->native);
    if (t == EOS_DTYPE_UNDEFINED) t = EOS_DTYPE_F64;
    size_t es = eos_dtype_size(t);
    char *tmp = eos__raster_grow(&r->mask_scratch, &r->mask_scratch_cap, (size_t)q->bw * q->bh * es);
    if (!tmp) return mask_nomem(r);
    GDALRasterBandH h = GDALGetRasterBand(r->ds, r->sel[c->sel]);
    if (GDALRasterIOEx(h, GF_Read, q->x, q->y, q->sw, q->sh, tmp, q->bw, q->bh, eos_gdal_type(t),
                       (GSpacing)es, (GSpacing)(es * q->bw), ex) != CE_None)
        return read_fail(r, q, "the nodata values");
    apply_check(c, t, tmp, es * q->bw, q->bw, q->bh, q->valid, q->vline);
    return EOS_OK;
}

static eos_status and_mask_band(eos_raster *r, const read_req *q, GDALRasterBandH m,
                                GDALRasterIOExtraArg *ex) {
    int bw = q->bw, bh = q->bh;
    uint8_t *tmp = eos__raster_grow(&r->mask_scratch, &r->mask_scratch_cap, (size_t)bw * bh);
    if (!tmp) return mask_nomem(r);
    if (GDALRasterIOEx(m, GF_Read, q->x, q->y, q->sw, q->sh, tmp, bw, bh, GDT_Byte, 1, bw, ex) !=
        CE_None)
        return read_fail(r, q, "the mask band");
    for (int y = 0; y < bh; y++) {
        uint8_t *v = q->valid + (size_t)y * q->vline;
        const uint8_t *s = tmp + (size_t)y * bw;
        for (int x = 0; x < bw; x++) v[x] &= s[x] != 0;
    }
    return EOS_OK;
}

static eos_status compute_valid(eos_raster *r, const read_req *q, GDALRasterIOExtraArg *ex) {
    for (int y = 0; y < q->bh; y++) memset(q->valid + (size_t)y * q->vline, 1, (size_t)q->bw);
    if (r->all_valid) return EOS_OK;
    size_t es = eos_dtype_size(q->dtype);
    for (int i = 0; i < r->n_checks; i++) {
        const eos__nodata_check *c = &r->checks[i];
        if (lossless(c->native, q->dtype)) {
            const char *base = q->dst + (size_t)c->sel * q->band_px * es;
            apply_check(c, q->dtype, base, q->line_px * es, q->bw, q->bh, q->valid, q->vline);
        } else {
            EOS_TRY(check_lossy(r, q, c, ex));
        }
    }
    for (int i = 0; i < r->n_mask_bands; i++) EOS_TRY(and_mask_band(r, q, r->mask_bands[i], ex));
    return EOS_OK;
}

/* ------------------------------------------------------------------ one rectangle */

static eos_status read_rect(eos_raster *r, const read_req *q) {
    GDALRasterIOExtraArg ex;
    INIT_RASTERIO_EXTRA_ARG(ex);
    ex.eResampleAlg = GRIORA_NearestNeighbour;
    size_t es = eos_dtype_size(q->dtype);
    CPLErr e = GDALDatasetRasterIOEx(r->ds, GF_Read, q->x, q->y, q->sw, q->sh, q->dst, q->bw, q->bh,
                                     eos_gdal_type(q->dtype), r->n_sel, r->sel, (GSpacing)es,
                                     (GSpacing)(q->line_px * es), (GSpacing)(q->band_px * es), &ex);
    if (e != CE_None) return read_fail(r, q, "pixels");
    return q->valid ? compute_valid(r, q, &ex) : EOS_OK;
}

/* ------------------------------------------------------------------ reflection */

/* Mirror index without repeating the edge pixel, periodic: ... 2 1 | 0 1 2 ... n-1 | n-2 ... */
static int32_t reflect(int64_t i, int64_t n) {
    if (n == 1) return 0;
    int64_t period = 2 * (n - 1);
    int64_t m = i % period;
    if (m < 0) m += period;
    return (int32_t)(m < n ? m : period - m);
}

#define GATHER_ROW(T)                                                                         \
    do {                                                                                      \
        T *d_ = (T *)drow;                                                                    \
        const T *s_ = (const T *)srow;                                                        \
        for (int x = xa; x < xb; x++) d_[x] = s_[map[x]];                                     \
    } while (0)

/* drow[x] = srow[map[x]] for x in [xa, xb), elements of es bytes. */
static void gather_row(char *drow, const char *srow, const int32_t *map, int xa, int xb, size_t es) {
    switch (es) {
    case 1:  GATHER_ROW(uint8_t);  break;
    case 2:  GATHER_ROW(uint16_t); break;
    case 4:  GATHER_ROW(uint32_t); break;
    default: GATHER_ROW(uint64_t); break;
    }
}

/* A plane (w x h elements of es bytes, row stride w) whose rows [ya, yb) hold columns [xa, xb)
 * read from the raster: fill the rest by reflection. xmap/ymap are window-relative. */
static void fill_plane_inplace(char *p, int w, int h, size_t es, int xa, int xb, int ya, int yb,
                               const int32_t *xmap, const int32_t *ymap) {
    size_t row = (size_t)w * es;
    for (int y = ya; y < yb; y++) {
        char *pr = p + (size_t)y * row;
        gather_row(pr, pr, xmap, 0, xa, es);
        gather_row(pr, pr, xmap, xb, w, es);
    }
    for (int y = 0; y < h; y++)
        if (y < ya || y >= yb) memcpy(p + (size_t)y * row, p + (size_t)ymap[y] * row, row);
}

/* Gather a w x h plane from a packed sw-wide source plane through the maps (source-relative). */
static void gather_plane(char *d, const char *s, int w, int h, int sw, size_t es,
                         const int32_t *xmap, const int32_t *ymap) {
    for (int y = 0; y < h; y++)
        gather_row(d + (size_t)y * w * es, s + (size_t)ymap[y] * sw * es, xmap, 0, w, es);
}

/* The window geometry of one read. */
typedef struct win {
    int64_t x0, y0;
    int     w, h;
    int     ix0, ix1, iy0, iy1;   /* intersection with the raster (raster coordinates) */
} win;

static eos_status read_reflect(eos_raster *r, const win *v, eos_dtype dtype, char *buf,
                               uint8_t *valid) {
    int32_t *xmap = eos__raster_grow(&r->index_map, &r->index_map_cap,
                                     ((size_t)v->w + v->h) * sizeof(int32_t));
    if (!xmap) return eos_err_set(&r->err, EOS_NOMEM, "'%s': out of memory padding a window", r->path);
    int32_t *ymap = xmap + v->w;
    int32_t sx0 = INT32_MAX, sx1 = 0, sy0 = INT32_MAX, sy1 = 0;
    for (int i = 0; i < v->w; i++) {
        xmap[i] = reflect(v->x0 + i, r->width);
        if (xmap[i] < sx0) sx0 = xmap[i];
        if (xmap[i] + 1 > sx1) sx1 = xmap[i] + 1;
    }
    for (int i = 0; i < v->h; i++) {
        ymap[i] = reflect(v->y0 + i, r->height);
        if (ymap[i] < sy0) sy0 = ymap[i];
        if (ymap[i] + 1 > sy1) sy1 = ymap[i] + 1;
    }
    size_t es = eos_dtype_size(dtype), plane = (size_t)v->w * v->h;
    bool inplace = v->ix0 < v->ix1 && v->iy0 < v->iy1 && sx0 >= v->ix0 && sx1 <= v->ix1 &&
                   sy0 >= v->iy0 && sy1 <= v->iy1;
    if (inplace) {
        int xa = (int)(v->ix0 - v->x0), xb = (int)(v->ix1 - v->x0);
        int ya = (int)(v->iy0 - v->y0), yb = (int)(v->iy1 - v->y0);
        for (int i = 0; i < v->w; i++) xmap[i] = (int32_t)(xmap[i] - v->x0);
        for (int i = 0; i < v->h; i++) ymap[i] = (int32_t)(ymap[i] - v->y0);
        size_t off = (size_t)ya * v->w + xa;
        read_req q = { v->ix0, v->iy0, xb - xa, yb - ya, xb - xa, yb - ya, dtype, buf + off * es,
                       (size_t)v->w, plane, valid ? valid + off : NULL, (size_t)v->w };
        EOS_TRY(read_rect(r, &q));
        for (int b = 0; b < r->n_sel; b++)
            fill_plane_inplace(buf + b * plane * es, v->w, v->h, es, xa, xb, ya, yb, xmap, ymap);
        if (valid) fill_plane_inplace((char *)valid, v->w, v->h, 1, xa, xb, ya, yb, xmap, ymap);
        return EOS_OK;
    }
    int sw = sx1 - sx0, sh = sy1 - sy0;
    size_t splane = (size_t)sw * sh;
    char *src = eos__raster_grow(&r->scratch, &r->scratch_cap, splane * (r->n_sel * es + 1));
    if (!src) return eos_err_set(&r->err, EOS_NOMEM, "'%s': out of memory padding a window", r->path);
    uint8_t *svalid = valid ? (uint8_t *)src + splane * r->n_sel * es : NULL;
    read_req q = { sx0, sy0, sw, sh, sw, sh, dtype, src, (size_t)sw, splane, svalid, (size_t)sw };
    EOS_TRY(read_rect(r, &q));
    for (int i = 0; i < v->w; i++) xmap[i] -= sx0;
    for (int i = 0; i < v->h; i++) ymap[i] -= sy0;
    for (int b = 0; b < r->n_sel; b++)
        gather_plane(buf + b * plane * es, src + b * splane * es, v->w, v->h, sw, es, xmap, ymap);
    if (valid) gather_plane((char *)valid, (const char *)svalid, v->w, v->h, sw, 1, xmap, ymap);
    return EOS_OK;
}

static eos_status read_padded_nodata(eos_raster *r, const win *v, eos_dtype dtype, char *buf,
                                     uint8_t *valid) {
    size_t es = eos_dtype_size(dtype), plane = (size_t)v->w * v->h;
    memset(buf, 0, plane * r->n_sel * es);
    if (valid) memset(valid, 0, plane);
    if (v->ix0 >= v->ix1 || v->iy0 >= v->iy1) return EOS_OK;
    size_t off = (size_t)(v->iy0 - v->y0) * v->w + (size_t)(v->ix0 - v->x0);
    int iw = v->ix1 - v->ix0, ih = v->iy1 - v->iy0;
    read_req q = { v->ix0, v->iy0, iw, ih, iw, ih, dtype, buf + off * es, (size_t)v->w, plane,
                   valid ? valid + off : NULL, (size_t)v->w };
    return read_rect(r, &q);
}

/* ------------------------------------------------------------------ public reads */

static eos_status check_dtype(eos_raster *r, eos_dtype dtype) {
    if (eos_gdal_type(dtype) == GDT_Unknown)
        return eos_err_set(&r->err, EOS_INVALID_ARG, "'%s': cannot read pixels as %s (u8, u16, i16, "
                           "i32, f32 or f64)", r->path, eos_dtype_name(dtype));
    return EOS_OK;
}

/* Pixels between the window and the raster along one axis (0 when they intersect or touch). */
static int64_t gap(int64_t x0, int w, int64_t n) {
    if (x0 + w <= 0) return -(x0 + w);
    if (x0 >= n) return x0 - n;
    return 0;
}

static eos_status check_window(eos_raster *r, int64_t x0, int64_t y0, int w, int h) {
    if (w <= 0 || h <= 0)
        return eos_err_set(&r->err, EOS_INVALID_ARG, "'%s': window size %d x %d (must be positive)",
                           r->path, w, h);
    if (x0 < -EOS_MAX_COORD || x0 > EOS_MAX_COORD || y0 < -EOS_MAX_COORD || y0 > EOS_MAX_COORD)
        return eos_err_set(&r->err, EOS_INVALID_ARG, "'%s': window origin (%lld, %lld) is absurd",
                           r->path, (long long)x0, (long long)y0);
    bool outside = x0 + w <= 0 || x0 >= r->width || y0 + h <= 0 || y0 >= r->height;
    if (outside && (gap(x0, w, r->width) > w || gap(y0, h, r->height) > h))
        return eos_err_set(&r->err, EOS_INVALID_ARG, "'%s': window x %lld..%lld, y %lld..%lld lies "
                           "outside the %lld x %lld raster by more than its size", r->path,
                           (long long)x0, (long long)(x0 + w), (long long)y0, (long long)(y0 + h),
                           (long long)r->width, (long long)r->height);
    if ((uint64_t)w * (uint64_t)h > ((uint64_t)1 << 62) / ((uint64_t)r->n_sel * 8))
        return eos_err_set(&r->err, EOS_LIMIT, "'%s': window %d x %d x %d bands is too large",
                           r->path, w, h, r->n_sel);
    return EOS_OK;
}

eos_status eos_raster_read(eos_raster *r, int64_t x0, int64_t y0, int w, int h, eos_dtype dtype,
                           void *buf, uint8_t *valid, eos_pad_mode pad) {
    if (!r) return EOS_INVALID_ARG;
    eos_err_clear(&r->err);
    if (!buf) return eos_err_set(&r->err, EOS_INVALID_ARG, "'%s': no buffer to read into", r->path);
    if (pad != EOS_PAD_REFLECT && pad != EOS_PAD_NODATA)
        return eos_err_set(&r->err, EOS_INVALID_ARG, "'%s': unknown pad mode %d", r->path, (int)pad);
    EOS_TRY(check_dtype(r, dtype));
    EOS_TRY(check_window(r, x0, y0, w, h));
    win v = { x0, y0, w, h, 0, 0, 0, 0 };
    v.ix0 = (int)(x0 > 0 ? x0 : 0);
    v.iy0 = (int)(y0 > 0 ? y0 : 0);
    v.ix1 = (int)(x0 + w < r->width ? x0 + w : r->width);
    v.iy1 = (int)(y0 + h < r->height ? y0 + h : r->height);
    if (v.ix1 < v.ix0) v.ix1 = v.ix0;
    if (v.iy1 < v.iy0) v.iy1 = v.iy0;
    eos_gdal_quiet_begin();
    eos_status st;
    if (v.ix0 == x0 && v.iy0 == y0 && v.ix1 == x0 + w && v.iy1 == y0 + h) {
        read_req q = { (int)x0, (int)y0, w, h, w, h, dtype, buf, (size_t)w, (size_t)w * h, valid,
                       (size_t)w };
        st = read_rect(r, &q);
    } else if (pad == EOS_PAD_NODATA) {
        st = read_padded_nodata(r, &v, dtype, buf, valid);
    } else {
        st = read_reflect(r, &v, dtype, buf, valid);
    }
    eos_gdal_quiet_end();
    return st;
}

eos_status eos_raster_read_decimated(eos_raster *r, int max_w, int max_h, eos_dtype dtype,
                                     void *buf, uint8_t *valid, int *w, int *h) {
    if (!r) return EOS_INVALID_ARG;
    eos_err_clear(&r->err);
    if (!buf || !w || !h) return eos_err_set(&r->err, EOS_INVALID_ARG, "'%s': NULL output", r->path);
    if (max_w <= 0 || max_h <= 0)
        return eos_err_set(&r->err, EOS_INVALID_ARG, "'%s': decimated size %d x %d (must be "
                           "positive)", r->path, max_w, max_h);
    EOS_TRY(check_dtype(r, dtype));
    double s = fmin((double)max_w / (double)r->width, (double)max_h / (double)r->height);
    int64_t bw = r->width, bh = r->height;
    if (s < 1.0) {
        bw = (int64_t)floor((double)r->width * s + 0.5);
        bh = (int64_t)floor((double)r->height * s + 0.5);
        bw = bw < 1 ? 1 : bw > max_w ? max_w : bw;
        bh = bh < 1 ? 1 : bh > max_h ? max_h : bh;
    }
    EOS_TRY(check_window(r, 0, 0, (int)bw, (int)bh));
    read_req q = { 0, 0, (int)r->width, (int)r->height, (int)bw, (int)bh, dtype, buf, (size_t)bw,
                   (size_t)(bw * bh), valid, (size_t)bw };
    eos_gdal_quiet_begin();
    eos_status st = read_rect(r, &q);
    eos_gdal_quiet_end();
    *w = (int)bw;
    *h = (int)bh;
    return st;
}
