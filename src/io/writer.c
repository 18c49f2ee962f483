/*
 * src/io/writer.c - eos_raster_writer: tiled GeoTIFF, COG, PNG and JPEG output
 * (include/eosight/raster.h, "writing").
 *
 * Every format is first written as a tiled GeoTIFF named "<path>.part", window by window,
 * through GDAL's block cache (capped by eos_gdal_init), so writing a scene far larger than
 * RAM never holds more than the cache and the caller's window. At close:
 *
 *   GTiff      "<path>.part" is flushed and renamed to path;
 *   COG        the COG driver copies "<path>.part" (with overviews) to "<path>.part.out",
 *              which is renamed to path; "<path>.part" is removed;
 *   PNG, JPEG  the PNG/JPEG driver copies "<path>.part" to "<path>.part.out" likewise
 *              (both drivers stream rows, so this stays bounded too).
 *
 * Nothing ever exists under the final name until the last rename, so a crash leaves at most
 * temporaries. GDAL keeps what a format cannot store itself (category names, georeferencing of
 * a PNG) in a PAM sidecar "<file>.aux.xml"; the sidecar follows its file through the renames,
 * and a stale sidecar of an older file under the final name is removed.
 */
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>

#include "eosight/alloc.h"
#include "eosight/raster.h"
#include "geo/geo_internal.h"
#include "io/gdal_util.h"

#define WRITER_MAX_BLOCK_PX 8192
#define COG_MIN_BLOCK_PX    128   /* the COG driver's minimum BLOCKSIZE */

struct eos_raster_writer {
    eos_raster_format format;
    GDALDatasetH      ds;          /* the working GeoTIFF, "<path>.part" */
    char             *path;        /* final name */
    char             *part;        /* "<path>.part" */
    char             *out;         /* "<path>.part.out": second temporary (COG, PNG, JPEG) */
    int               width, height, n_bands;
    GDALDataType      type;
    char              compress[8];
    int               block_px;
    int               quality;
    bool              palette;     /* colour table written: no predictor, nearest overviews */
    eos_err           err;
};

eos_raster_writer_params eos_raster_writer_default_params(void) {
    eos_raster_writer_params p;
    memset(&p, 0, sizeof p);
    p.format = EOS_RASTER_GTIFF;
    p.dtype = EOS_DTYPE_U8;
    p.n_bands = 1;
    p.georef.transform = eos_geotransform_identity();
    return p;
}

/* ------------------------------------------------------------------ small helpers */

static char *str_cat(const char *a, const char *b) {
    size_t na = strlen(a), nb = strlen(b);
    char *s = eos_malloc(na + nb + 1);
    if (!s) return NULL;
    memcpy(s, a, na);
    memcpy(s + na, b, nb + 1);
    return s;
}

static bool is_integer_type(GDALDataType t) {
    return t == GDT_Byte || t == GDT_UInt16 || t == GDT_Int16 || t == GDT_Int32;
}

/* Remove `file` and its PAM sidecar, ignoring absence. */
static void remove_with_sidecar(const char *file) {
    if (!file) return;
    unlink(file);
    char *aux = str_cat(file, ".aux.xml");
    if (aux) unlink(aux);
    eos_free(aux);
}

static void remove_temporaries(eos_raster_writer *w) {
    remove_with_sidecar(w->part);
    remove_with_sidecar(w->out);
    char *ovr = str_cat(w->out, ".ovr.tmp");   /* the COG driver's overview scratch file */
    if (ovr) unlink(ovr);
    eos_free(ovr);
}

/* rename(2) tmp -> final, then the sidecar tmp.aux.xml -> final.aux.xml when there is one, else
 * remove a stale final.aux.xml (it described the file just replaced). */
static eos_status move_into_place(const char *tmp, const char *final, eos_err *err) {
    if (rename(tmp, final) != 0)
        return eos_err_set(err, EOS_IO, "cannot rename '%s' to '%s': %s", tmp, final,
                           strerror(errno));
    char *tmp_aux = str_cat(tmp, ".aux.xml");
    char *final_aux = str_cat(final, ".aux.xml");
    eos_status st = EOS_OK;
    if (!tmp_aux || !final_aux) {
        st = eos_err_set(err, EOS_NOMEM, "out of memory finishing '%s'", final);
    } else if (access(tmp_aux, F_OK) == 0) {
        if (rename(tmp_aux, final_aux) != 0)
            st = eos_err_set(err, EOS_IO, "'%s' written, but its sidecar could not be renamed to "
                             "'%s': %s", final, final_aux, strerror(errno));
    } else {
        unlink(final_aux);
    }
    eos_free(tmp_aux);
    eos_free(final_aux);
    return st;
}

/* GDALClose returns nothing in GDAL 3.6: a failed flush shows as the last error. */
static eos_status close_checked(GDALDatasetH ds, const char *name, eos_err *err) {
    CPLErrorReset();
    GDALClose(ds);
    if (CPLGetLastErrorType() >= CE_Failure)
        return eos_gdal_fail(err, EOS_IO, "writing '%s' failed", name);
    return EOS_OK;
}

/* ------------------------------------------------------------------ parameter checks */

static eos_status check_shape(const eos_raster_writer_params *p, const char *path, eos_err *err) {
    if ((unsigned)p->format > EOS_RASTER_JPEG)
        return eos_err_set(err, EOS_INVALID_ARG, "raster writer '%s': unknown format %d", path,
                           (int)p->format);
    if (p->width_px < 1 || p->width_px > INT_MAX || p->height_px < 1 || p->height_px > INT_MAX)
        return eos_err_set(err, EOS_INVALID_ARG, "raster writer '%s': size %lld x %lld px is "
                           "outside [1, %d]", path, (long long)p->width_px,
                           (long long)p->height_px, INT_MAX);
    if (p->n_bands < 1 || p->n_bands > EOS_RASTER_MAX_BANDS)
        return eos_err_set(err, EOS_INVALID_ARG, "raster writer '%s': n_bands %d is outside "
                           "[1, %d]", path, p->n_bands, EOS_RASTER_MAX_BANDS);
    if (eos_gdal_type(p->dtype) == GDT_Unknown || p->dtype == EOS_DTYPE_UNDEFINED)
        return eos_err_set(err, EOS_INVALID_ARG, "raster writer '%s': dtype %s cannot be "
                           "written (use u8, u16, i16, i32, f32 or f64)", path,
                           eos_dtype_name(p->dtype));
    int bp = p->block_px;
    if (bp < 0 || bp % 16 || bp > WRITER_MAX_BLOCK_PX)
        return eos_err_set(err, EOS_INVALID_ARG, "raster writer '%s': block_px %d is not a "
                           "multiple of 16 in [16, %d] (or 0 for 512)", path, bp,
                           WRITER_MAX_BLOCK_PX);
    if (p->format == EOS_RASTER_COG && bp && bp < COG_MIN_BLOCK_PX)
        return eos_err_set(err, EOS_INVALID_ARG, "raster writer '%s': block_px %d is below the "
                           "COG minimum of %d", path, bp, COG_MIN_BLOCK_PX);
    if (p->quality < 0 || p->quality > 100)
        return eos_err_set(err, EOS_INVALID_ARG, "raster writer '%s': quality %d is outside "
                           "[1, 100] (or 0 for 90)", path, p->quality);
    return EOS_OK;
}

static eos_status check_image_format(const eos_raster_writer_params *p, const char *path,
                                     eos_err *err) {
    if (p->format == EOS_RASTER_PNG) {
        if (p->dtype != EOS_DTYPE_U8 && p->dtype != EOS_DTYPE_U16)
            return eos_err_set(err, EOS_INVALID_ARG, "raster writer '%s': PNG holds u8 or u16, "
                               "not %s", path, eos_dtype_name(p->dtype));
        if (p->n_bands > 4)
            return eos_err_set(err, EOS_INVALID_ARG, "raster writer '%s': PNG holds 1 to 4 "
                               "bands, not %d", path, p->n_bands);
        if (p->colors && p->dtype != EOS_DTYPE_U8)
            return eos_err_set(err, EOS_INVALID_ARG, "raster writer '%s': a PNG colour table "
                               "needs u8 data", path);
    } else if (p->format == EOS_RASTER_JPEG) {
        if (p->dtype != EOS_DTYPE_U8)
            return eos_err_set(err, EOS_INVALID_ARG, "raster writer '%s': JPEG holds u8, not %s",
                               path, eos_dtype_name(p->dtype));
        if (p->n_bands != 1 && p->n_bands != 3)
            return eos_err_set(err, EOS_INVALID_ARG, "raster writer '%s': JPEG holds 1 or 3 "
                               "bands, not %d", path, p->n_bands);
        if (p->colors)
            return eos_err_set(err, EOS_INVALID_ARG, "raster writer '%s': JPEG cannot hold a "
                               "colour table", path);
    }
    return EOS_OK;
}

static eos_status check_compress(const eos_raster_writer_params *p, const char *path,
                                 eos_err *err) {
    const char *c = p->compress ? p->compress : "DEFLATE";
    static const char *const k_names[] = { "DEFLATE", "LZW", "ZSTD", "NONE" };
    for (size_t i = 0; i < sizeof k_names / sizeof k_names[0]; i++)
        if (!strcasecmp(c, k_names[i])) return EOS_OK;
    return eos_err_set(err, EOS_INVALID_ARG, "raster writer '%s': compress '%.32s' is not one "
                       "of DEFLATE, LZW, ZSTD, NONE", path, c);
}

/* The nodata value must be representable in the data type, or GDAL would silently store a
 * different one. */
static eos_status check_nodata(const eos_raster_writer_params *p, const char *path,
                               eos_err *err) {
    if (!p->has_nodata) return EOS_OK;
    double v = p->nodata, lo = 0, hi = 0;
    switch (p->dtype) {
    case EOS_DTYPE_U8:  lo = 0;         hi = 255;        break;
    case EOS_DTYPE_U16: lo = 0;         hi = 65535;      break;
    case EOS_DTYPE_I16: lo = -32768;    hi = 32767;      break;
    case EOS_DTYPE_I32: lo = INT32_MIN; hi = INT32_MAX;  break;
    case EOS_DTYPE_F32:
        if (isfinite(v) && fabs(v) > FLT_MAX)
            return eos_err_set(err, EOS_INVALID_ARG, "raster writer '%s': nodata %g does not "
                               "fit f32", path, v);
        return EOS_OK;
    default:
        return EOS_OK;
    }
    if (!(v >= lo && v <= hi) || v != floor(v))
        return eos_err_set(err, EOS_INVALID_ARG, "raster writer '%s': nodata %g is not an "
                           "integer in [%g, %g] as %s needs", path, v, lo, hi,
                           eos_dtype_name(p->dtype));
    return EOS_OK;
}

static eos_status check_classes(const eos_raster_writer_params *p, const char *path,
                                eos_err *err) {
    if (p->n_classes < 0)
        return eos_err_set(err, EOS_INVALID_ARG, "raster writer '%s': n_classes %d < 0", path,
                           p->n_classes);
    if (!p->colors && !p->class_names) return EOS_OK;
    if (p->n_classes == 0)
        return eos_err_set(err, EOS_INVALID_ARG, "raster writer '%s': colors or class_names "
                           "given with n_classes 0", path);
    if (p->n_bands != 1 || (p->dtype != EOS_DTYPE_U8 && p->dtype != EOS_DTYPE_U16))
        return eos_err_set(err, EOS_INVALID_ARG, "raster writer '%s': a colour table and class "
                           "names need one u8 or u16 band (have %d band(s) of %s)", path,
                           p->n_bands, eos_dtype_name(p->dtype));
    int max = p->dtype == EOS_DTYPE_U8 ? 256 : 65536;
    if (p->n_classes > max)
        return eos_err_set(err, EOS_INVALID_ARG, "raster writer '%s': %d classes do not fit "
                           "%s (at most %d)", path, p->n_classes, eos_dtype_name(p->dtype), max);
    return EOS_OK;
}

static eos_status check_georef(const eos_raster_writer_params *p, const char *path,
                               eos_err *err) {
    if (!p->georef.has_transform) return EOS_OK;
    const double *gt = p->georef.transform.gt;
    for (int i = 0; i < 6; i++)
        if (!isfinite(gt[i]))
            return eos_err_set(err, EOS_INVALID_ARG, "raster writer '%s': geotransform[%d] is "
                               "not finite", path, i);
    if (gt[1] * gt[5] - gt[2] * gt[4] == 0)
        return eos_err_set(err, EOS_INVALID_ARG, "raster writer '%s': the geotransform is "
                           "singular", path);
    return EOS_OK;
}

static eos_status check_params(const eos_raster_writer_params *p, const char *path,
                               eos_err *err) {
    EOS_TRY(check_shape(p, path, err));
    EOS_TRY(check_image_format(p, path, err));
    EOS_TRY(check_compress(p, path, err));
    EOS_TRY(check_nodata(p, path, err));
    EOS_TRY(check_classes(p, path, err));
    return check_georef(p, path, err);
}

/* ------------------------------------------------------------------ creation */

/* Classic TIFF ends at 4 GiB; use BigTIFF above 2 GiB of uncompressed data (room for overviews). */
static bool big_tiff(const eos_raster_writer *w) {
    double bytes = (double)w->width * (double)w->height * (double)w->n_bands *
                   (double)GDALGetDataTypeSizeBytes(w->type);
    return bytes > 2147483648.0;
}

/* GTiff creation options of the working file. */
static char **gtiff_options(const eos_raster_writer *w) {
    char **o = NULL;
    o = CSLSetNameValue(o, "TILED", "YES");
    o = CSLSetNameValue(o, "BLOCKXSIZE", CPLSPrintf("%d", w->block_px));
    o = CSLSetNameValue(o, "BLOCKYSIZE", CPLSPrintf("%d", w->block_px));
    /* IF_SAFER guesses from a compression ratio and fails mid-write on large incompressible
     * scenes ("Maximum TIFF file size exceeded"); decide from the uncompressed size instead. */
    o = CSLSetNameValue(o, "BIGTIFF", big_tiff(w) ? "YES" : "NO");
    if (strcmp(w->compress, "NONE")) {
        o = CSLSetNameValue(o, "COMPRESS", w->compress);
        if (is_integer_type(w->type) && !w->palette) o = CSLSetNameValue(o, "PREDICTOR", "2");
    }
    return o;
}

static eos_status set_palette(eos_raster_writer *w, GDALRasterBandH band,
                              const eos_raster_writer_params *p) {
    if (!p->colors) return EOS_OK;
    GDALColorTableH ct = GDALCreateColorTable(GPI_RGB);
    if (!ct)
        return eos_gdal_fail(&w->err, EOS_NOMEM, "'%s': cannot create a colour table", w->path);
    for (int i = 0; i < p->n_classes; i++) {
        GDALColorEntry e = { p->colors[i].r, p->colors[i].g, p->colors[i].b, p->colors[i].a };
        GDALSetColorEntry(ct, i, &e);
    }
    CPLErr ce = GDALSetRasterColorTable(band, ct);
    GDALDestroyColorTable(ct);
    if (ce != CE_None)
        return eos_gdal_fail(&w->err, EOS_IO, "'%s': cannot write the colour table", w->path);
    return EOS_OK;
}

static eos_status set_category_names(eos_raster_writer *w, GDALRasterBandH band,
                                     const eos_raster_writer_params *p) {
    if (!p->class_names) return EOS_OK;
    char **list = eos_calloc((size_t)p->n_classes + 1, sizeof *list);
    if (!list) return eos_err_set(&w->err, EOS_NOMEM, "'%s': out of memory", w->path);
    for (int i = 0; i < p->n_classes; i++)
        list[i] = (char *)(p->class_names[i] ? p->class_names[i] : "");
    CPLErr ce = GDALSetRasterCategoryNames(band, list);
    eos_free(list);
    if (ce != CE_None)
        return eos_gdal_fail(&w->err, EOS_IO, "'%s': cannot write the class names", w->path);
    return EOS_OK;
}

static eos_status set_band_metadata(eos_raster_writer *w, const eos_raster_writer_params *p) {
    for (int b = 1; b <= w->n_bands; b++) {
        GDALRasterBandH band = GDALGetRasterBand(w->ds, b);
        if (p->has_nodata && GDALSetRasterNoDataValue(band, p->nodata) != CE_None)
            return eos_gdal_fail(&w->err, EOS_IO, "'%s': cannot set nodata of band %d", w->path, b);
        if (p->band_names && p->band_names[b - 1])
            GDALSetDescription(band, p->band_names[b - 1]);
    }
    GDALRasterBandH b1 = GDALGetRasterBand(w->ds, 1);
    EOS_TRY(set_palette(w, b1, p));
    return set_category_names(w, b1, p);
}

static eos_status set_georef(eos_raster_writer *w, const eos_raster_writer_params *p) {
    if (p->georef.has_transform) {
        double gt[6];
        memcpy(gt, p->georef.transform.gt, sizeof gt);
        if (GDALSetGeoTransform(w->ds, gt) != CE_None)
            return eos_gdal_fail(&w->err, EOS_IO, "'%s': cannot set the geotransform", w->path);
    }
    if (p->georef.crs && GDALSetProjection(w->ds, eos_crs_wkt(p->georef.crs)) != CE_None)
        return eos_gdal_fail(&w->err, EOS_IO, "'%s': cannot set the CRS", w->path);
    return EOS_OK;
}

static eos_status writer_init(eos_raster_writer *w, const char *path,
                              const eos_raster_writer_params *p) {
    w->format = p->format;
    w->width = (int)p->width_px;
    w->height = (int)p->height_px;
    w->n_bands = p->n_bands;
    w->type = eos_gdal_type(p->dtype);
    w->block_px = p->block_px ? p->block_px : 512;
    w->quality = p->quality ? p->quality : 90;
    w->palette = p->colors != NULL;
    const char *c = p->compress ? p->compress : "DEFLATE";
    for (size_t i = 0; i < sizeof w->compress - 1 && c[i]; i++)
        w->compress[i] = (char)(c[i] >= 'a' && c[i] <= 'z' ? c[i] - 32 : c[i]);
    w->path = eos_strdup(path);
    w->part = str_cat(path, ".part");
    w->out = str_cat(path, ".part.out");
    if (!w->path || !w->part || !w->out)
        return eos_err_set(&w->err, EOS_NOMEM, "out of memory creating '%s'", path);
    return EOS_OK;
}

static eos_status writer_open_part(eos_raster_writer *w, const eos_raster_writer_params *p) {
    GDALDriverH drv = GDALGetDriverByName("GTiff");
    if (!drv) return eos_err_set(&w->err, EOS_UNSUPPORTED, "GDAL has no GTiff driver");
    remove_temporaries(w);   /* leftovers of an earlier crash */
    char **opts = gtiff_options(w);
    w->ds = GDALCreate(drv, w->part, w->width, w->height, w->n_bands, w->type, opts);
    CSLDestroy(opts);
    if (!w->ds) return eos_gdal_fail(&w->err, EOS_IO, "cannot create '%s'", w->part);
    EOS_TRY(set_georef(w, p));
    return set_band_metadata(w, p);
}

void eos_raster_writer_discard(eos_raster_writer *w) {
    if (!w) return;
    if (w->ds) {
        eos_gdal_quiet_begin();
        GDALClose(w->ds);
        eos_gdal_quiet_end();
    }
    if (w->part && w->out) remove_temporaries(w);
    eos_free(w->path);
    eos_free(w->part);
    eos_free(w->out);
    eos_free(w);
}

eos_status eos_raster_writer_create(eos_ctx *ctx, const char *path,
                                    const eos_raster_writer_params *params,
                                    eos_raster_writer **out) {
    eos_err err = { 0 };
    eos__ctx_clear(ctx);
    if (out) *out = NULL;
    if (!path || !*path || !params || !out) {
        eos_err_set(&err, EOS_INVALID_ARG, "raster writer: path, params and out are required");
        return eos__ctx_fail(ctx, &err);
    }
    if (check_params(params, path, &err)) return eos__ctx_fail(ctx, &err);
    eos_raster_writer *w = eos_calloc(1, sizeof *w);
    if (!w) {
        eos_err_set(&err, EOS_NOMEM, "out of memory creating '%s'", path);
        return eos__ctx_fail(ctx, &err);
    }
    eos_gdal_init();
    eos_gdal_quiet_begin();
    eos_status st = writer_init(w, path, params);
    if (!st) st = writer_open_part(w, params);
    eos_gdal_quiet_end();
    if (st) {
        err = w->err;
        eos_raster_writer_discard(w);
        return eos__ctx_fail(ctx, &err);
    }
    *out = w;
    return EOS_OK;
}

/* ------------------------------------------------------------------ writing */

eos_status eos_raster_writer_write(eos_raster_writer *w, int64_t x0, int64_t y0, int width,
                                   int height, eos_dtype dtype, const void *buf) {
    if (!w) return EOS_INVALID_ARG;
    eos_err_clear(&w->err);
    if (!w->ds)
        return eos_err_set(&w->err, EOS_INVALID_ARG, "'%s': the writer has failed before",
                           w->path);
    GDALDataType t = eos_gdal_type(dtype);
    if (!buf || t == GDT_Unknown || dtype == EOS_DTYPE_UNDEFINED)
        return eos_err_set(&w->err, EOS_INVALID_ARG, "'%s': write needs a buffer of u8, u16, "
                           "i16, i32, f32 or f64 (got %s)", w->path, eos_dtype_name(dtype));
    if (width <= 0 || height <= 0 || x0 < 0 || y0 < 0 || x0 > w->width - (int64_t)width ||
        y0 > w->height - (int64_t)height)
        return eos_err_set(&w->err, EOS_INVALID_ARG, "'%s': window x %lld y %lld size %d x %d "
                           "is not inside the %d x %d raster", w->path, (long long)x0,
                           (long long)y0, width, height, w->width, w->height);
    eos_gdal_quiet_begin();
    CPLErr ce = GDALDatasetRasterIO(w->ds, GF_Write, (int)x0, (int)y0, width, height,
                                    (void *)buf, width, height, t, w->n_bands, NULL, 0, 0, 0);
    eos_status st = EOS_OK;
    if (ce != CE_None)
        st = eos_gdal_fail(&w->err, EOS_IO, "'%s': writing window x %lld y %lld size %d x %d "
                           "failed", w->path, (long long)x0, (long long)y0, width, height);
    eos_gdal_quiet_end();
    return st;
}

const char *eos_raster_writer_errmsg(const eos_raster_writer *w) {
    return w ? w->err.msg : "";
}

/* ------------------------------------------------------------------ closing */

static char **cog_options(const eos_raster_writer *w) {
    char **o = NULL;
    o = CSLSetNameValue(o, "COMPRESS", w->compress);
    o = CSLSetNameValue(o, "BLOCKSIZE", CPLSPrintf("%d", w->block_px));
    o = CSLSetNameValue(o, "OVERVIEWS", "AUTO");
    o = CSLSetNameValue(o, "RESAMPLING", w->palette ? "NEAREST" : "AVERAGE");
    o = CSLSetNameValue(o, "BIGTIFF", big_tiff(w) ? "YES" : "NO");
    if (strcmp(w->compress, "NONE") && is_integer_type(w->type) && !w->palette)
        o = CSLSetNameValue(o, "PREDICTOR", "YES");
    return o;
}

/* Copy the closed working GeoTIFF to w->out with `driver`. */
static eos_status convert_part(eos_raster_writer *w, const char *driver, char **opts) {
    GDALDriverH drv = GDALGetDriverByName(driver);
    if (!drv) return eos_err_set(&w->err, EOS_UNSUPPORTED, "GDAL has no %s driver", driver);
    GDALDatasetH src = GDALOpen(w->part, GA_ReadOnly);
    if (!src) return eos_gdal_fail(&w->err, EOS_IO, "cannot re-open '%s'", w->part);
    CPLErrorReset();
    GDALDatasetH dst = GDALCreateCopy(drv, w->out, src, FALSE, opts, NULL, NULL);
    eos_status st = EOS_OK;
    if (!dst) st = eos_gdal_fail(&w->err, EOS_IO, "writing '%s' as %s failed", w->path, driver);
    else st = close_checked(dst, w->path, &w->err);
    GDALClose(src);
    return st;
}

static eos_status finish(eos_raster_writer *w) {
    GDALDatasetH ds = w->ds;
    w->ds = NULL;
    EOS_TRY(close_checked(ds, w->part, &w->err));
    if (w->format == EOS_RASTER_GTIFF) return move_into_place(w->part, w->path, &w->err);
    char **opts = NULL;
    const char *driver = "COG";
    if (w->format == EOS_RASTER_COG) {
        opts = cog_options(w);
    } else if (w->format == EOS_RASTER_PNG) {
        driver = "PNG";
    } else {
        driver = "JPEG";
        opts = CSLSetNameValue(opts, "QUALITY", CPLSPrintf("%d", w->quality));
    }
    eos_status st = convert_part(w, driver, opts);
    CSLDestroy(opts);
    EOS_TRY(st);
    remove_with_sidecar(w->part);
    return move_into_place(w->out, w->path, &w->err);
}

eos_status eos_raster_writer_close(eos_ctx *ctx, eos_raster_writer *w) {
    eos__ctx_clear(ctx);
    if (!w) return EOS_OK;
    eos_status st;
    if (!w->ds) {
        st = eos_err_set(&w->err, EOS_INVALID_ARG, "'%s': the writer has no open file",
                         w->path);
    } else {
        eos_gdal_quiet_begin();
        st = finish(w);
        eos_gdal_quiet_end();
    }
    eos_err err = w->err;
    eos_raster_writer_discard(w);   /* removes whatever temporaries are left */
    return st ? eos__ctx_fail(ctx, &err) : EOS_OK;
}
