/*
 * src/data/decode.c - decoding dataset items with GDAL: images into their storage type, masks
 * into class indices (index masks, palette masks, RGB colour masks), the in-memory cache of
 * decoded items, eos_dataset_load and eos_dataset_norm_suggest.
 *
 * Speed: a dataset such as EuroSAT is 27,000 small JPEGs read every epoch. GDALOpen's default
 * probing lists the image's directory (to find sidecar files) on every open, which for a
 * folder of 3,000 files costs ten times the decode itself; datasets have no sidecars, so files
 * are opened with an empty sibling list and GDAL never lists the folder.
 *
 * Cache: decoded items are kept, up to cache_mb, in their storage type (8-bit images as bytes,
 * pixel-interleaved as decoded; the mask as one byte per pixel). An entry is written once under the
 * dataset's mutex and never changed or freed before the dataset, so readers borrow it without
 * copying or reference counts. Training beyond the first epoch then costs a u8 -> f32 conversion
 * per pixel.
 */
#include "data/data_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cpl_error.h>
#include <gdal.h>

#include "eosight/alloc.h"
#include "io/gdal_util.h"

#define MAX_IMAGE_ELEMS ((int64_t)1 << 30)   /* c * h * w of one decoded image */

/* ------------------------------------------------------------------ images */

static GDALDatasetH open_file(const char *path, eos_err *err) {
    static const char *const no_siblings[] = { NULL };
    GDALDatasetH h = GDALOpenEx(path, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, no_siblings);
    if (h) return h;
    if (!eos__is_file(path)) {
        eos_err_set(err, EOS_IO, "%s: file not found or not readable", path);
        return NULL;
    }
    eos_gdal_fail(err, EOS_PARSE, "%s: not an image GDAL can read", path);
    return NULL;
}

/* The bands an image contributes: every band but alpha ones (unless all are alpha), as the
 * raster layer selects them by default. Returns the count. */
static int image_bands(GDALDatasetH h, int *map, GDALDataType *common) {
    int nb = GDALGetRasterCount(h), n = 0;
    for (int pass = 0; pass < 2 && n == 0; pass++) {
        for (int b = 1; b <= nb && n < EOS_RASTER_MAX_BANDS + 1; b++) {
            GDALRasterBandH band = GDALGetRasterBand(h, b);
            if (pass == 0 && GDALGetRasterColorInterpretation(band) == GCI_AlphaBand) continue;
            map[n++] = b;
        }
    }
    *common = GDT_Unknown;
    for (int i = 0; i < n && i < EOS_RASTER_MAX_BANDS; i++) {
        GDALDataType t = GDALGetRasterDataType(GDALGetRasterBand(h, map[i]));
        *common = i == 0 ? t : (t == *common ? t : GDT_Float32);
    }
    return n;
}

static eos_dtype storage_type(GDALDataType t) {
    switch (t) {
    case GDT_Byte:   return EOS_DTYPE_U8;
    case GDT_UInt16: return EOS_DTYPE_U16;
    case GDT_Int16:  return EOS_DTYPE_I16;
    default:         return EOS_DTYPE_F32;
    }
}

/* Open, check and describe an image; the handle stays open for the caller. */
static eos_status image_open(const char *path, GDALDatasetH *out, int *map, int *n_bands,
                             eos_dtype *dtype, int *w, int *h, eos_err *err) {
    GDALDatasetH d = open_file(path, err);
    if (!d) return err ? err->status : EOS_IO;
    GDALDataType common;
    int n = image_bands(d, map, &common);
    int64_t W = GDALGetRasterXSize(d), H = GDALGetRasterYSize(d);
    eos_status st = EOS_OK;
    if (n == 0) st = eos_err_set(err, EOS_PARSE, "%s: image has no bands", path);
    else if (n > EOS_RASTER_MAX_BANDS)
        st = eos_err_set(err, EOS_LIMIT, "%s: more than %d bands", path, EOS_RASTER_MAX_BANDS);
    else if (W < 1 || H < 1 || W * H > MAX_IMAGE_ELEMS / n)
        st = eos_err_set(err, EOS_LIMIT, "%s: %lld x %lld x %d is not a size eosight decodes whole",
                         path, (long long)W, (long long)H, n);
    if (st != EOS_OK) {
        GDALClose(d);
        return st;
    }
    *out = d;
    *n_bands = n;
    *dtype = storage_type(common);
    *w = (int)W;
    *h = (int)H;
    return EOS_OK;
}

eos_status eos__image_probe(const char *path, int *n_bands, eos_dtype *dtype, int *w, int *h,
                            eos_err *err) {
    eos_gdal_init();
    eos_gdal_quiet_begin();
    GDALDatasetH d;
    int map[EOS_RASTER_MAX_BANDS + 1];
    eos_status st = image_open(path, &d, map, n_bands, dtype, w, h, err);
    if (st == EOS_OK) GDALClose(d);
    eos_gdal_quiet_end();
    return st;
}

/* Decode the whole image into a new buffer of its storage type, pixel-interleaved (h x w x c).
 * Interleaved because that is how JPEG, PNG and most GeoTIFFs store pixels: GDAL then copies
 * whole scanlines, where a band-sequential request costs it a per-byte scatter loop that took
 * a third of the decode time of a 64 x 64 JPEG. */
static eos_status image_decode(const char *path, void **buf, int *c, eos_dtype *dtype, int *w,
                               int *h, eos_err *err) {
    GDALDatasetH d;
    int map[EOS_RASTER_MAX_BANDS + 1];
    EOS_TRY(image_open(path, &d, map, c, dtype, w, h, err));
    int es = (int)eos_dtype_size(*dtype);
    size_t bytes = (size_t)*c * (size_t)*w * (size_t)*h * (size_t)es;
    void *p = eos_malloc(bytes);
    eos_status st = EOS_OK;
    if (!p) {
        st = eos_err_set(err, EOS_NOMEM, "%s: out of memory for %d x %d x %d", path, *c, *h, *w);
    } else if (GDALDatasetRasterIO(d, GF_Read, 0, 0, *w, *h, p, *w, *h, eos_gdal_type(*dtype),
                                   *c, map, (GSpacing)es * *c, (GSpacing)es * *c * *w,
                                   (GSpacing)es) != CE_None) {
        st = eos_gdal_fail(err, EOS_IO, "%s: decoding failed", path);
    }
    GDALClose(d);
    if (st != EOS_OK) {
        eos_free(p);
        return st;
    }
    *buf = p;
    return EOS_OK;
}

/* ------------------------------------------------------------------ masks */

/* Target value of a colour: the class (or ignore) from the sorted table, ignore if absent. */
static uint8_t color_class(const eos_dataset *ds, uint32_t rgb) {
    int lo = 0, hi = ds->n_lut - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (ds->lut_rgb[mid] == rgb) return ds->lut_cls[mid];
        if (ds->lut_rgb[mid] < rgb) lo = mid + 1;
        else hi = mid - 1;
    }
    return EOS_IGNORE_INDEX;
}

/* Byte value -> target value for a single-band mask: through the palette when the band has
 * one and the classes have colours, else the value as a class index. */
static void index_lut(const eos_dataset *ds, GDALRasterBandH band, uint8_t lut[256]) {
    GDALColorTableH ct = GDALGetRasterColorTable(band);
    for (int v = 0; v < 256; v++)
        lut[v] = v < ds->n_classes ? ds->class_map[v] : EOS_IGNORE_INDEX;
    if (!ct || ds->n_lut == 0) return;
    int n = GDALGetColorEntryCount(ct);
    for (int v = 0; v < 256; v++) {
        const GDALColorEntry *e = v < n ? GDALGetColorEntry(ct, v) : NULL;
        uint32_t rgb =
            e ? (uint32_t)(uint8_t)e->c1 << 16 | (uint32_t)(uint8_t)e->c2 << 8 | (uint8_t)e->c3
              : 0xffffffffu;
        lut[v] = e && e->c1 >= 0 && e->c1 < 256 && e->c2 >= 0 && e->c2 < 256 && e->c3 >= 0 &&
                 e->c3 < 256 ? color_class(ds, rgb) : EOS_IGNORE_INDEX;
    }
}

static eos_status mask_rgb(const eos_dataset *ds, GDALDatasetH d, const char *path, int w, int h,
                           uint8_t *out, eos_err *err) {
    if (ds->n_lut == 0)
        return eos_err_set(err, EOS_PARSE, "%s: a colour mask, but the classes have no colours "
                           "(classes.csv with r,g,b or hex)", path);
    size_t n = (size_t)w * (size_t)h;
    uint8_t *rgb = eos_malloc(3 * n);
    if (!rgb) return eos_err_set(err, EOS_NOMEM, "%s: out of memory", path);
    int map[3] = { 1, 2, 3 };
    eos_status st = EOS_OK;
    if (GDALDatasetRasterIO(d, GF_Read, 0, 0, w, h, rgb, w, h, GDT_Byte, 3, map, 3, 3 * (GSpacing)w,
                            1) != CE_None) {
        st = eos_gdal_fail(err, EOS_IO, "%s: decoding failed", path);
    } else {
        uint32_t last = 0xffffffffu;
        uint8_t last_c = EOS_IGNORE_INDEX;
        for (size_t i = 0; i < n; i++) {
            uint32_t key =
                (uint32_t)rgb[3 * i] << 16 | (uint32_t)rgb[3 * i + 1] << 8 | rgb[3 * i + 2];
            if (key != last) {
                last = key;
                last_c = color_class(ds, key);
            }
            out[i] = last_c;
        }
    }
    eos_free(rgb);
    return st;
}

/* Decode item's mask into target values (h*w bytes, new buffer); its size must be w x h. */
static eos_status mask_decode(const eos_dataset *ds, const eos__item *it, int w, int h,
                              uint8_t **out, eos_err *err) {
    GDALDatasetH d = open_file(it->mask_path, err);
    if (!d) return err ? err->status : EOS_IO;
    int nb = GDALGetRasterCount(d);
    int mw = GDALGetRasterXSize(d), mh = GDALGetRasterYSize(d);
    uint8_t *m = NULL;
    eos_status st = EOS_OK;
    if (nb < 1) st = eos_err_set(err, EOS_PARSE, "%s: mask has no bands", it->mask_path);
    else if (mw != w || mh != h)
        st = eos_err_set(err, EOS_SHAPE, "%s: mask is %d x %d, image %s is %d x %d", it->mask_path,
                         mw, mh, it->path, w, h);
    else if (!(m = eos_malloc((size_t)w * (size_t)h)))
        st = eos_err_set(err, EOS_NOMEM, "%s: out of memory", it->mask_path);
    else if (nb >= 3)
        st = mask_rgb(ds, d, it->mask_path, w, h, m, err);
    else {
        GDALRasterBandH band = GDALGetRasterBand(d, 1);
        uint8_t lut[256];
        index_lut(ds, band, lut);
        if (GDALRasterIO(band, GF_Read, 0, 0, w, h, m, w, h, GDT_Byte, 0, 0) != CE_None)
            st = eos_gdal_fail(err, EOS_IO, "%s: decoding failed", it->mask_path);
        for (size_t i = 0, n = (size_t)w * (size_t)h; st == EOS_OK && i < n; i++) m[i] = lut[m[i]];
    }
    GDALClose(d);
    if (st != EOS_OK) {
        eos_free(m);
        return st;
    }
    *out = m;
    return EOS_OK;
}

/* ------------------------------------------------------------------ views and the cache */

void eos__view_release(eos__view *v) {
    eos_free(v->own_img);
    eos_free(v->own_mask);
    memset(v, 0, sizeof *v);
}

void eos__cache_free(eos_dataset *ds) {
    for (int64_t i = 0; i < ds->n_items; i++) {
        eos_free(ds->items[i].c_img);
        eos_free(ds->items[i].c_mask);
        ds->items[i].c_img = NULL;
        ds->items[i].c_mask = NULL;
    }
    ds->cache_used = 0;
}

eos_status eos__dataset_item_size(const eos_dataset *cds, int64_t i, int *w, int *h, eos_err *err) {
    eos_dataset *ds = (eos_dataset *)cds;   /* the mutex and size memo are internal state */
    if (i < 0 || i >= ds->n_items)
        return eos_err_set(err, EOS_INVALID_ARG, "item %lld out of range", (long long)i);
    eos__item *it = &ds->items[i];
    pthread_mutex_lock(&ds->mu);
    *w = it->w;
    *h = it->h;
    pthread_mutex_unlock(&ds->mu);
    if (*w > 0) return EOS_OK;
    int c;
    eos_dtype t;
    EOS_TRY(eos__image_probe(it->path, &c, &t, w, h, err));
    pthread_mutex_lock(&ds->mu);
    it->w = *w;
    it->h = *h;
    pthread_mutex_unlock(&ds->mu);
    return EOS_OK;
}

static bool cache_get(eos_dataset *ds, eos__item *it, eos__view *v) {
    pthread_mutex_lock(&ds->mu);
    bool hit = it->c_img != NULL;
    if (hit) {
        v->img = it->c_img;
        v->mask = it->c_mask;
        v->c = it->c_c;
        v->w = it->c_w;
        v->h = it->c_h;
        v->dtype = ds->dtype;
    }
    pthread_mutex_unlock(&ds->mu);
    return hit;
}

/* Move v's own buffers into the cache when there is room left (v then borrows them). */
static void cache_put(eos_dataset *ds, eos__item *it, eos__view *v) {
    size_t bytes = (size_t)v->c * (size_t)v->w * (size_t)v->h * eos_dtype_size(v->dtype) +
                   (v->own_mask ? (size_t)v->w * (size_t)v->h : 0);
    pthread_mutex_lock(&ds->mu);
    if (!it->c_img && v->dtype == ds->dtype && ds->cache_used + (int64_t)bytes <= ds->cache_cap) {
        it->c_img = v->own_img;
        it->c_mask = v->own_mask;
        it->c_c = v->c;
        it->c_w = v->w;
        it->c_h = v->h;
        ds->cache_used += (int64_t)bytes;
        v->own_img = NULL;
        v->own_mask = NULL;
    }
    pthread_mutex_unlock(&ds->mu);
}

static eos_status view_decode(eos_dataset *ds, eos__item *it, bool want_img, bool want_mask,
                              eos__view *v, eos_err *err) {
    if (want_img) {
        EOS_TRY(image_decode(it->path, &v->own_img, &v->c, &v->dtype, &v->w, &v->h, err));
        v->img = v->own_img;
        if (v->c != ds->n_bands)
            return eos_err_set(err, EOS_SHAPE, "%s: %d bands, the dataset's first image has %d",
                               it->path, v->c, ds->n_bands);
        pthread_mutex_lock(&ds->mu);
        it->w = v->w;
        it->h = v->h;
        pthread_mutex_unlock(&ds->mu);
    } else {
        EOS_TRY(eos__dataset_item_size(ds, it - ds->items, &v->w, &v->h, err));
        v->c = ds->n_bands;
        v->dtype = ds->dtype;
    }
    if (want_mask) {
        EOS_TRY(mask_decode(ds, it, v->w, v->h, &v->own_mask, err));
        v->mask = v->own_mask;
    }
    return EOS_OK;
}

eos_status eos__dataset_view(const eos_dataset *cds, int64_t i, bool want_img, bool want_mask,
                             eos__view *v, eos_err *err) {
    eos_dataset *ds = (eos_dataset *)cds;   /* cache and size memo: internal, mutex-guarded */
    memset(v, 0, sizeof *v);
    if (i < 0 || i >= ds->n_items)
        return eos_err_set(err, EOS_INVALID_ARG, "item %lld out of range (dataset has %lld)",
                           (long long)i, (long long)ds->n_items);
    eos__item *it = &ds->items[i];
    want_mask = want_mask && ds->task == EOS_TASK_SEGMENT;
    if (cache_get(ds, it, v)) {
        if (!want_img) v->img = NULL;
        if (!want_mask) v->mask = NULL;
        return EOS_OK;
    }
    eos_gdal_init();
    eos_gdal_quiet_begin();
    eos_status st = view_decode(ds, it, want_img, want_mask, v, err);
    eos_gdal_quiet_end();
    if (st != EOS_OK) {
        eos__view_release(v);
        return st;
    }
    if (want_img && (want_mask || ds->task != EOS_TASK_SEGMENT) && ds->cache_cap > 0)
        cache_put(ds, it, v);
    return EOS_OK;
}

/* ------------------------------------------------------------------ public */

static void copy_msg(const eos_err *err, char *msg, int cap) {
    if (msg && cap > 0) snprintf(msg, (size_t)cap, "%s", err->msg);
}

eos_status eos_dataset_load(const eos_dataset *ds, int64_t i, eos_sample *out, char *err_msg,
                            int err_cap) {
    eos_err err;
    eos_err_clear(&err);
    if (err_msg && err_cap > 0) err_msg[0] = '\0';
    if (!out) return EOS_INVALID_ARG;
    memset(out, 0, sizeof *out);
    if (!ds) return EOS_INVALID_ARG;
    eos__view v;
    eos_status st = eos__dataset_view(ds, i, true, true, &v, &err);
    if (st != EOS_OK) {
        copy_msg(&err, err_msg, err_cap);
        return st;
    }
    size_t px = (size_t)v.w * (size_t)v.h;
    out->img = eos_malloc((size_t)v.c * px * sizeof(float));
    out->mask = v.mask ? eos_malloc(px) : NULL;
    if (!out->img || (v.mask && !out->mask)) {
        eos__view_release(&v);
        eos_sample_free(out);
        eos_err_set(&err, EOS_NOMEM, "%s: out of memory", ds->items[i].path);
        copy_msg(&err, err_msg, err_cap);
        return EOS_NOMEM;
    }
    eos__window_f32(v.img, v.dtype, v.c, v.h, v.w, 0, 0, v.w, v.h, out->img);
    if (v.mask) memcpy(out->mask, v.mask, px);
    out->c = v.c;
    out->h = v.h;
    out->w = v.w;
    eos__view_release(&v);
    return EOS_OK;
}

void eos_sample_free(eos_sample *s) {
    if (!s) return;
    eos_free(s->img);
    eos_free(s->mask);
    memset(s, 0, sizeof *s);
}

/* Per-band sums of scaled values of one image; row holds c * w floats. */
static void accumulate(const eos__view *v, double scale, double *sum, double *sq, float *row) {
    for (int y = 0; y < v->h; y++) {
        eos__window_f32(v->img, v->dtype, v->c, v->h, v->w, 0, y, v->w, 1, row);
        for (int b = 0; b < v->c; b++) {
            const float *r = row + (size_t)b * (size_t)v->w;
            double s = 0, q = 0;
            for (int x = 0; x < v->w; x++) {
                double t = (double)r[x] * scale;
                s += t;
                q += t * t;
            }
            sum[b] += s;
            sq[b] += q;
        }
    }
}

eos_status eos_dataset_norm_suggest(eos_ctx *ctx, const eos_dataset *ds, int64_t max_items,
                                    eos_norm *out) {
    eos__ctx_clear(ctx);
    if (!ds || !out) return eos__ctx_fail(ctx, &(eos_err){EOS_INVALID_ARG, "NULL dataset or out"});
    eos_norm_identity(out, ds->n_bands);
    double scale = ds->dtype == EOS_DTYPE_U8    ? 1.0 / 255.0
                   : ds->dtype == EOS_DTYPE_U16 ? 1e-4
                                                : 1.0;
    int64_t m = max_items <= 0 || max_items > ds->n_items ? ds->n_items : max_items;
    double sum[EOS_RASTER_MAX_BANDS] = { 0 }, sq[EOS_RASTER_MAX_BANDS] = { 0 }, n_px = 0;
    float *row = NULL;
    size_t row_cap = 0;
    eos_err err;
    eos_err_clear(&err);
    eos_status st = EOS_OK;
    for (int64_t k = 0; k < m && st == EOS_OK; k++) {
        int64_t i = (int64_t)((double)k * (double)ds->n_items / (double)m);
        eos__view v;
        st = eos__dataset_view(ds, i, true, false, &v, &err);
        if (st != EOS_OK) break;
        size_t need = (size_t)v.c * (size_t)v.w;
        if (need > row_cap) {
            eos_free(row);
            row_cap = need;
            row = eos_malloc(row_cap * sizeof *row);
        }
        if (!row) st = eos_err_set(&err, EOS_NOMEM, "out of memory");
        else accumulate(&v, scale, sum, sq, row);
        n_px += (double)v.w * v.h;
        eos__view_release(&v);
    }
    eos_free(row);
    if (st != EOS_OK) return eos__ctx_fail(ctx, &err);
    for (int b = 0; b < ds->n_bands; b++) {
        double mean = sum[b] / n_px, var = sq[b] / n_px - mean * mean;
        double sd = var > 0 ? sqrt(var) : 0;
        out->scale[b] = scale;
        out->mean[b] = mean;
        out->std[b] = sd > 1e-12 ? sd : 1.0;
    }
    return EOS_OK;
}
