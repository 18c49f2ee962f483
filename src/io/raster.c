/*
 * src/io/raster.c - opening rasters (files, memory, stacks), band selection and description
 * (include/eosight/raster.h, "opening" and "description").
 *
 * Opening does all the work a read would otherwise repeat: it checks the selected bands, maps
 * them to a GDAL band map, and derives the mask plan (raster_internal.h) from nodata values,
 * GDALGetMaskFlags and alpha bands, so that eos_raster_read is one GDALDatasetRasterIO call plus,
 * only when the raster can have invalid pixels, the mask work.
 *
 * Rasters from memory are copied into a private /vsimem/ directory (removed at close) and may
 * only be image formats that cannot refer to other files: the bytes may come from the network,
 * and a VRT or WMS description would let them read local files or fetch URLs.
 *
 * Stacks are GDALBuildVRT -separate VRTs held in memory. GDAL 3.6's -separate takes only band 1
 * of each file, so a multi-band file is first split into one-band VRTs (GDALTranslate -b k) in
 * the raster's /vsimem/ directory; band names come from file names (stack_band_name below).
 */
#include "io/raster_internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal_utils.h>
#include <ogr_srs_api.h>

#include "eosight/alloc.h"
#include "geo/geo_internal.h"
#include "io/gdal_util.h"

/* Formats eos_raster_open_from_memory accepts (see the file comment). */
static const char *const k_memory_drivers[] = {
    "GTiff", "PNG", "JPEG", "JP2OpenJPEG", "GIF", "BMP", "WEBP", NULL
};

eos_raster_open_params eos_raster_default_open_params(void) {
    eos_raster_open_params p;
    memset(&p, 0, sizeof p);
    p.bands = NULL;
    p.skip_alpha = true;
    return p;
}

void *eos__raster_grow(void **buf, size_t *cap, size_t bytes) {
    if (bytes <= *cap && *buf) return *buf;
    size_t n = bytes < 4096 ? 4096 : bytes;
    void *p = eos_malloc(n);
    if (!p) return NULL;
    eos_free(*buf);
    *buf = p;
    *cap = n;
    return p;
}

/* ------------------------------------------------------------------ band description */

static const char *stack_name(const eos_raster *r, int index) {
    return r->stack_names ? r->stack_names[index - 1] : "";
}

void eos__raster_band_info(const eos_raster *r, int index, eos_band_info *out) {
    memset(out, 0, sizeof *out);
    GDALRasterBandH h = GDALGetRasterBand(r->ds, index);
    GDALDataType t = GDALGetRasterDataType(h);
    out->index = index;
    out->dtype = eos_gdal_to_dtype(t);
    snprintf(out->gdal_type, sizeof out->gdal_type, "%s", GDALGetDataTypeName(t));
    const char *desc = GDALGetDescription(h);
    snprintf(out->name, sizeof out->name, "%s", desc && *desc ? desc : stack_name(r, index));
    GDALColorInterp ci = GDALGetRasterColorInterpretation(h);
    snprintf(out->color_interp, sizeof out->color_interp, "%s",
             GDALGetColorInterpretationName(ci));
    int has = 0;
    double nd = GDALGetRasterNoDataValue(h, &has);
    out->has_nodata = has != 0;
    out->nodata = has ? nd : 0.0;
    out->is_alpha = ci == GCI_AlphaBand;
    GDALGetBlockSize(h, &out->block_w, &out->block_h);
    out->n_overviews = GDALGetOverviewCount(h);
    has = 0;
    out->scale = GDALGetRasterScale(h, &has);
    if (!has) out->scale = 1.0;
    has = 0;
    out->offset = GDALGetRasterOffset(h, &has);
    if (!has) out->offset = 0.0;
}

eos_status eos_raster_band_info(const eos_raster *r, int index, eos_band_info *out) {
    if (!r || !out || index < 1 || index > r->n_bands) return EOS_INVALID_ARG;
    eos_gdal_quiet_begin();
    eos__raster_band_info(r, index, out);
    eos_gdal_quiet_end();
    return EOS_OK;
}

void eos_raster_get_info(const eos_raster *r, eos_raster_info *info) {
    memset(info, 0, sizeof *info);
    info->width_px = r->width;
    info->height_px = r->height;
    info->n_bands = r->n_bands;
    info->n_selected = r->n_sel;
    snprintf(info->driver, sizeof info->driver, "%s", r->driver);
    info->georef = r->georef;
    eos_gdal_quiet_begin();
    info->n_overviews = GDALGetOverviewCount(GDALGetRasterBand(r->ds, 1));
    eos_gdal_quiet_end();
    info->has_mask = !r->all_valid;
}

int eos_raster_selected_bands(const eos_raster *r, int *bands) {
    if (bands) memcpy(bands, r->sel, (size_t)r->n_sel * sizeof *bands);
    return r->n_sel;
}

const char *eos_raster_errmsg(const eos_raster *r) { return r ? r->err.msg : ""; }

/* ------------------------------------------------------------------ band selection */

static bool all_digits(const char *s, size_t n) {
    if (n == 0) return false;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i])) return false;
    return true;
}

/* Band whose description (pass 0), colour interpretation (1) or stack name (2) is `name`. */
static int find_band_by_name(const eos_raster *r, const char *name) {
    for (int pass = 0; pass < 3; pass++) {
        for (int b = 1; b <= r->n_bands; b++) {
            GDALRasterBandH h = GDALGetRasterBand(r->ds, b);
            const char *s = pass == 0   ? GDALGetDescription(h)
                            : pass == 1 ? GDALGetColorInterpretationName(
                                              GDALGetRasterColorInterpretation(h))
                                        : stack_name(r, b);
            if (s && *s && !strcasecmp(s, name)) return b;
        }
    }
    return 0;
}

/* "B02, B03, Red, Gray ..." for a not-found message. */
static void list_band_names(const eos_raster *r, char *buf, size_t size) {
    size_t used = 0;
    buf[0] = '\0';
    for (int b = 1; b <= r->n_bands && used + 8 < size; b++) {
        eos_band_info bi;
        eos__raster_band_info(r, b, &bi);
        const char *n = bi.name[0] ? bi.name : bi.color_interp;
        int k = snprintf(buf + used, size - used, "%s%d=%s", b > 1 ? ", " : "", b, n);
        if (k < 0 || (size_t)k >= size - used) {
            snprintf(buf + used, size - used, ", ...");
            return;
        }
        used += (size_t)k;
    }
}

static eos_status select_token(eos_raster *r, const char *tok, size_t n, eos_err *err) {
    if (r->n_sel >= EOS_RASTER_MAX_BANDS)
        return eos_err_set(err, EOS_LIMIT, "'%s': more than %d bands selected", r->path,
                           EOS_RASTER_MAX_BANDS);
    if (n == 0) return eos_err_set(err, EOS_INVALID_ARG, "'%s': empty entry in the band list", r->path);
    int b = 0;
    if (all_digits(tok, n)) {
        long v = n > 9 ? -1 : strtol(tok, NULL, 10);
        if (v < 1 || v > r->n_bands)
            return eos_err_set(err, EOS_INVALID_ARG,
                               "'%s': band %.*s requested, the raster has %d band%s",
                               r->path, (int)(n > 20 ? 20 : n), tok, r->n_bands,
                               r->n_bands == 1 ? "" : "s");
        b = (int)v;
    } else {
        char name[64];
        if (n < sizeof name) {
            memcpy(name, tok, n);
            name[n] = '\0';
            b = find_band_by_name(r, name);
        }
        if (!b) {
            char names[256];
            list_band_names(r, names, sizeof names);
            return eos_err_set(err, EOS_NOT_FOUND, "'%s': no band named '%.*s' (bands: %s)", r->path,
                               (int)(n > 64 ? 64 : n), tok, names);
        }
    }
    r->sel[r->n_sel++] = b;
    return EOS_OK;
}

static eos_status parse_selection(eos_raster *r, const char *list, eos_err *err) {
    const char *p = list;
    for (;;) {
        const char *end = strchr(p, ',');
        if (!end) end = p + strlen(p);
        const char *a = p, *z = end;
        while (a < z && isspace((unsigned char)*a)) a++;
        while (z > a && isspace((unsigned char)z[-1])) z--;
        EOS_TRY(select_token(r, a, (size_t)(z - a), err));
        if (!*end) return EOS_OK;
        p = end + 1;
    }
}

static bool band_is_alpha(const eos_raster *r, int b) {
    return GDALGetRasterColorInterpretation(GDALGetRasterBand(r->ds, b)) == GCI_AlphaBand;
}

static eos_status default_selection(eos_raster *r, bool skip_alpha, eos_err *err) {
    int n_keep = 0;
    for (int b = 1; b <= r->n_bands; b++) n_keep += !(skip_alpha && band_is_alpha(r, b));
    if (n_keep == 0) skip_alpha = false;   /* an alpha-only raster: return it as data */
    for (int b = 1; b <= r->n_bands; b++) {
        if (skip_alpha && band_is_alpha(r, b)) continue;
        if (r->n_sel >= EOS_RASTER_MAX_BANDS)
            return eos_err_set(err, EOS_LIMIT, "'%s' has %d bands; select at most %d with a band list",
                               r->path, r->n_bands, EOS_RASTER_MAX_BANDS);
        r->sel[r->n_sel++] = b;
    }
    return EOS_OK;
}

/* ------------------------------------------------------------------ mask plan */

/* nodata rounded to the band's storage type; false when no pixel of that type can equal it. */
static bool nodata_in_type(GDALDataType t, double v, double *out) {
    double lo, hi;
    switch (t) {
    case GDT_Byte:    lo = 0;           hi = 255;          break;
    case GDT_UInt16:  lo = 0;           hi = 65535;        break;
    case GDT_Int16:   lo = -32768;      hi = 32767;        break;
    case GDT_UInt32:  lo = 0;           hi = 4294967295.0; break;
    case GDT_Int32:   lo = -2147483648.0; hi = 2147483647.0; break;
    case GDT_Float32:
        if (fabs(v) > 3.4028234663852886e38 && !isinf(v)) return false;
        *out = (double)(float)v;
        return true;
    case GDT_Float64: *out = v; return true;
    default:          return false;   /* 64-bit integers: GDAL's own nodata API, not handled */
    }
    if (v < lo || v > hi || v != floor(v)) return false;
    *out = v;
    return true;
}

static void add_mask_band(eos_raster *r, GDALRasterBandH m) {
    for (int i = 0; i < r->n_mask_bands; i++)
        if (r->mask_bands[i] == m) return;
    r->mask_bands[r->n_mask_bands++] = m;
}

static void plan_band(eos_raster *r, int i_sel, bool *have_dataset_mask) {
    GDALRasterBandH h = GDALGetRasterBand(r->ds, r->sel[i_sel]);
    GDALDataType t = GDALGetRasterDataType(h);
    eos__nodata_check c = { .sel = i_sel, .native = t };
    int has = 0;
    double nd = GDALGetRasterNoDataValue(h, &has);
    if (has && isnan(nd)) c.value_nan = true;
    else if (has) c.has_value = nodata_in_type(t, nd, &c.value);
    c.check_nan = t == GDT_Float32 || t == GDT_Float64;
    if (c.has_value || c.value_nan || c.check_nan) r->checks[r->n_checks++] = c;

    int flags = GDALGetMaskFlags(h);
    if (flags & GMF_ALL_VALID) return;
    if (flags == GMF_NODATA) return;   /* the value check above covers it */
    if (flags & GMF_PER_DATASET) {
        if (*have_dataset_mask) return;
        *have_dataset_mask = true;
    }
    GDALRasterBandH m = GDALGetMaskBand(h);
    if (m) add_mask_band(r, m);
}

static eos_status build_mask_plan(eos_raster *r, eos_err *err) {
    int n_alpha = 0;
    for (int b = 1; b <= r->n_bands; b++) n_alpha += band_is_alpha(r, b);
    r->mask_bands = eos_calloc((size_t)(r->n_sel + n_alpha) + 1, sizeof *r->mask_bands);
    if (!r->mask_bands) return eos_err_set(err, EOS_NOMEM, "out of memory opening '%s'", r->path);
    bool have_dataset_mask = false;
    for (int i = 0; i < r->n_sel; i++) plan_band(r, i, &have_dataset_mask);
    for (int b = 1; b <= r->n_bands; b++)
        if (band_is_alpha(r, b)) add_mask_band(r, GDALGetRasterBand(r->ds, b));
    r->all_valid = r->n_checks == 0 && r->n_mask_bands == 0;
    return EOS_OK;
}

/* ------------------------------------------------------------------ opening */

static void read_georef(eos_raster *r) {
    r->georef.transform = (eos_geotransform){ { 0.0, 1.0, 0.0, 0.0, 0.0, 1.0 } };
    double gt[6];
    if (GDALGetGeoTransform(r->ds, gt) == CE_None) {
        memcpy(r->georef.transform.gt, gt, sizeof gt);
        r->georef.has_transform = true;
    }
    /* A CRS GDAL read but OSR cannot express again is reported as none rather than making the
     * pixels unreadable. */
    OGRSpatialReferenceH srs = GDALGetSpatialRef(r->ds);
    char *wkt = NULL;
    const char *opts[] = { "FORMAT=WKT2_2019", NULL };
    if (srs && OSRExportToWktEx(srs, &wkt, opts) == OGRERR_NONE && wkt && *wkt) {
        if (eos__crs_create(wkt, NULL, &r->crs) != EOS_OK) r->crs = NULL;
    }
    CPLFree(wkt);
    r->georef.crs = r->crs;
}

static eos_status check_selected_types(eos_raster *r, eos_err *err) {
    for (int i = 0; i < r->n_sel; i++) {
        GDALDataType t = GDALGetRasterDataType(GDALGetRasterBand(r->ds, r->sel[i]));
        if (GDALDataTypeIsComplex(t))
            return eos_err_set(err, EOS_UNSUPPORTED, "'%s': band %d has complex pixels (%s)", r->path,
                               r->sel[i], GDALGetDataTypeName(t));
        r->sel_type[i] = t;
    }
    return EOS_OK;
}

/* Everything after the dataset is open: size, georeferencing, selection, mask plan. */
static eos_status raster_init(eos_raster *r, const eos_raster_open_params *params, eos_err *err) {
    eos_raster_open_params p = params ? *params : eos_raster_default_open_params();
    r->width = GDALGetRasterXSize(r->ds);
    r->height = GDALGetRasterYSize(r->ds);
    r->n_bands = GDALGetRasterCount(r->ds);
    if (r->n_bands < 1) {
        char **sub = GDALGetMetadata(r->ds, "SUBDATASETS");
        const char *first = CSLFetchNameValue(sub, "SUBDATASET_1_NAME");
        if (first)
            return eos_err_set(err, EOS_PARSE, "'%s' is a container of rasters: open one of its "
                               "subdatasets, e.g. '%.200s'", r->path, first);
        return eos_err_set(err, EOS_PARSE, "'%s' has no raster bands", r->path);
    }
    if (r->width < 1 || r->height < 1)
        return eos_err_set(err, EOS_PARSE, "'%s' has an empty size", r->path);
    GDALDriverH drv = GDALGetDatasetDriver(r->ds);
    snprintf(r->driver, sizeof r->driver, "%s", drv ? GDALGetDriverShortName(drv) : "unknown");
    read_georef(r);
    if (p.bands && *p.bands) EOS_TRY(parse_selection(r, p.bands, err));
    else EOS_TRY(default_selection(r, p.skip_alpha, err));
    EOS_TRY(check_selected_types(r, err));
    return build_mask_plan(r, err);
}

/* Open a dataset; the status tells a missing/unreadable file (EOS_IO) from one GDAL cannot
 * read as a raster (EOS_PARSE). */
static eos_status open_dataset(const char *path, const char *const *drivers, eos_err *err,
                               GDALDatasetH *out) {
    *out = GDALOpenEx(path, GDAL_OF_RASTER | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR, drivers,
                      NULL, NULL);
    if (*out) return EOS_OK;
    if (!strncmp(path, "/vsi", 4)) {
        VSILFILE *f = VSIFOpenL(path, "rb");
        if (!f) return eos_gdal_fail(err, EOS_IO, "cannot open '%s'", path);
        VSIFCloseL(f);
        return eos_gdal_fail(err, EOS_PARSE, "'%s' is not a raster eosight can read", path);
    }
    struct stat sb;
    if (stat(path, &sb) != 0)
        return eos_err_set(err, EOS_IO, "cannot open '%s': %s", path, strerror(errno));
    if (access(path, R_OK) != 0)
        return eos_err_set(err, EOS_IO, "cannot open '%s': %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode))
        return eos_gdal_fail(err, EOS_IO, "cannot open '%s': a directory GDAL does not read", path);
    return eos_gdal_fail(err, EOS_PARSE, "'%s' is not a raster eosight can read", path);
}

static eos_raster *raster_alloc(const char *path) {
    eos_raster *r = eos_calloc(1, sizeof *r);
    if (!r) return NULL;
    r->path = eos_strdup(path);
    if (!r->path) {
        eos_free(r);
        return NULL;
    }
    return r;
}

/* Hand a failed open to ctx: frees r, clears *out. */
static eos_status open_failed(eos_ctx *ctx, eos_raster *r, eos_err *err, eos_raster **out) {
    eos_raster_close(r);
    *out = NULL;
    return eos__ctx_fail(ctx, err);
}

eos_status eos_raster_open(eos_ctx *ctx, const char *path, const eos_raster_open_params *params,
                           eos_raster **out) {
    eos_err err = { 0 };
    eos__ctx_clear(ctx);
    if (!out) return EOS_INVALID_ARG;
    *out = NULL;
    if (!path || !*path) {
        eos_err_set(&err, EOS_INVALID_ARG, "eos_raster_open: empty path");
        return eos__ctx_fail(ctx, &err);
    }
    eos_gdal_init();
    eos_raster *r = raster_alloc(path);
    if (!r) {
        eos_err_set(&err, EOS_NOMEM, "out of memory opening '%s'", path);
        return eos__ctx_fail(ctx, &err);
    }
    eos_gdal_quiet_begin();
    eos_status st = open_dataset(path, NULL, &err, &r->ds);
    if (st == EOS_OK) st = raster_init(r, params, &err);
    eos_gdal_quiet_end();
    if (st != EOS_OK) return open_failed(ctx, r, &err, out);
    *out = r;
    return EOS_OK;
}

/* The raster's private /vsimem/ directory (unique while r lives: named after its address). */
static void vsimem_dir(const eos_raster *r, char *buf, size_t size) {
    snprintf(buf, size, "/vsimem/eosight_%p", (const void *)r);
}

/* name_hint reduced to a safe file name: basename, [A-Za-z0-9._-] only, at most 64 chars. */
static void safe_name(const char *hint, char *buf, size_t size) {
    const char *base = hint ? strrchr(hint, '/') : NULL;
    base = base ? base + 1 : hint;
    size_t n = 0;
    for (const char *p = base; p && *p && n + 1 < size && n < 64; p++) {
        unsigned char c = (unsigned char)*p;
        buf[n++] = isalnum(c) || c == '.' || c == '_' || c == '-' ? (char)c : '_';
    }
    buf[n] = '\0';
    if (n == 0 || buf[0] == '.') snprintf(buf, size, "raster");
}

static eos_status open_memory(eos_raster *r, const void *buf, size_t size, const char *hint,
                              eos_err *err) {
    char dir[64], name[80];
    vsimem_dir(r, dir, sizeof dir);
    safe_name(hint, name, sizeof name);
    size_t n = strlen(dir) + strlen(name) + 2;
    r->mem_path = eos_malloc(n);
    r->mem_copy = eos_malloc(size);
    if (!r->mem_path || !r->mem_copy)
        return eos_err_set(err, EOS_NOMEM, "out of memory copying %zu bytes of '%s'", size, r->path);
    snprintf(r->mem_path, n, "%s/%s", dir, name);
    memcpy(r->mem_copy, buf, size);
    VSILFILE *f = VSIFileFromMemBuffer(r->mem_path, r->mem_copy, (vsi_l_offset)size, FALSE);
    if (!f) return eos_gdal_fail(err, EOS_NOMEM, "cannot place '%s' in memory", r->path);
    VSIFCloseL(f);
    r->ds = GDALOpenEx(r->mem_path, GDAL_OF_RASTER | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR,
                       k_memory_drivers, NULL, NULL);
    if (!r->ds)
        return eos_gdal_fail(err, EOS_PARSE, "'%s' (%zu bytes in memory) is not a GeoTIFF, PNG, "
                             "JPEG, JPEG 2000, GIF, BMP or WEBP image", r->path, size);
    return EOS_OK;
}

eos_status eos_raster_open_from_memory(eos_ctx *ctx, const void *buf, size_t size,
                                       const char *name_hint, const eos_raster_open_params *params,
                                       eos_raster **out) {
    eos_err err = { 0 };
    eos__ctx_clear(ctx);
    if (!out) return EOS_INVALID_ARG;
    *out = NULL;
    if (!buf || size == 0) {
        eos_err_set(&err, EOS_PARSE, "eos_raster_open_from_memory: no bytes");
        return eos__ctx_fail(ctx, &err);
    }
    eos_gdal_init();
    eos_raster *r = raster_alloc(name_hint && *name_hint ? name_hint : "<memory>");
    if (!r) {
        eos_err_set(&err, EOS_NOMEM, "out of memory opening a raster from memory");
        return eos__ctx_fail(ctx, &err);
    }
    eos_gdal_quiet_begin();
    eos_status st = open_memory(r, buf, size, name_hint, &err);
    if (st == EOS_OK) st = raster_init(r, params, &err);
    eos_gdal_quiet_end();
    if (st != EOS_OK) return open_failed(ctx, r, &err, out);
    *out = r;
    return EOS_OK;
}

void eos_raster_close(eos_raster *r) {
    if (!r) return;
    eos_gdal_quiet_begin();
    if (r->ds) GDALClose(r->ds);
    if (r->mem_path || r->n_vsimem_files) {
        char dir[64];
        vsimem_dir(r, dir, sizeof dir);
        VSIRmdirRecursive(dir);
    }
    eos_gdal_quiet_end();
    eos_crs_free(r->crs);
    for (int i = 0; i < r->n_stack; i++) eos_free(r->stack_paths[i]);
    eos_free(r->stack_paths);
    for (int i = 0; i < r->n_vsimem_files; i++) eos_free(r->vsimem_files[i]);
    eos_free(r->vsimem_files);
    eos_free(r->stack_names);
    eos_free(r->mask_bands);
    eos_free(r->scratch);
    eos_free(r->mask_scratch);
    eos_free(r->norm_scratch);
    eos_free(r->index_map);
    eos_free(r->mem_copy);
    eos_free(r->mem_path);
    eos_free(r->path);
    eos_free(r);
}

/* ------------------------------------------------------------------ stacks */

/* Band name from a file name: the stem (no directory, no extension) without a trailing
 * resolution ("_10m"), then the text after its last '_' ("T32TQM_20230611T101559_B04_10m.jp2"
 * -> "B04"), or the whole stem when that is empty. */
static void stack_band_name(const char *path, char out[64]) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char stem[256];
    snprintf(stem, sizeof stem, "%s", base);
    char *dot = strrchr(stem, '.');
    if (dot && dot != stem) *dot = '\0';
    size_t n = strlen(stem);
    if (n >= 3 && stem[n - 1] == 'm' && isdigit((unsigned char)stem[n - 2])) {
        size_t i = n - 2;
        while (i > 0 && isdigit((unsigned char)stem[i - 1])) i--;
        if (i > 1 && stem[i - 1] == '_') stem[i - 1] = '\0';
    }
    const char *us = strrchr(stem, '_');
    snprintf(out, 64, "%.63s", us && us[1] ? us + 1 : stem);
}

typedef struct stack_src {
    GDALDatasetH ds;
    double       ext[4];   /* xmin, ymin, xmax, ymax in map units */
} stack_src;

static eos_status src_extent(const char *path, GDALDatasetH ds, double ext[4], eos_err *err) {
    double gt[6];
    if (GDALGetGeoTransform(ds, gt) != CE_None)
        return eos_err_set(err, EOS_INVALID_ARG, "'%s' has no geotransform: a stack needs "
                           "georeferenced files", path);
    if (gt[2] != 0.0 || gt[4] != 0.0)
        return eos_err_set(err, EOS_UNSUPPORTED, "'%s' has a rotated geotransform: stacks need "
                           "north-up files", path);
    double x1 = gt[0] + gt[1] * GDALGetRasterXSize(ds), y1 = gt[3] + gt[5] * GDALGetRasterYSize(ds);
    ext[0] = fmin(gt[0], x1);
    ext[2] = fmax(gt[0], x1);
    ext[1] = fmin(gt[3], y1);
    ext[3] = fmax(gt[3], y1);
    return EOS_OK;
}

static const char *srs_name(OGRSpatialReferenceH s) {
    const char *n = s ? OSRGetName(s) : NULL;
    return n ? n : "no CRS";
}

/* Open every file and check it can join the stack: same CRS as the first, overlapping. */
static eos_status check_stack_sources(const char *const *paths, int n, stack_src *src,
                                      eos_err *err) {
    double common[4] = { -INFINITY, -INFINITY, INFINITY, INFINITY };
    int total = 0;
    for (int i = 0; i < n; i++) {
        if (!paths[i] || !*paths[i])
            return eos_err_set(err, EOS_INVALID_ARG, "stack: file %d has an empty path", i + 1);
        EOS_TRY(open_dataset(paths[i], NULL, err, &src[i].ds));
        int nb = GDALGetRasterCount(src[i].ds);
        if (nb < 1) return eos_err_set(err, EOS_PARSE, "'%s' has no raster bands", paths[i]);
        total += nb;
        if (total > EOS_RASTER_MAX_BANDS)
            return eos_err_set(err, EOS_LIMIT, "stack: more than %d bands in %d files",
                               EOS_RASTER_MAX_BANDS, i + 1);
        OGRSpatialReferenceH s0 = GDALGetSpatialRef(src[0].ds), si = GDALGetSpatialRef(src[i].ds);
        const char *opts[] = { "IGNORE_DATA_AXIS_TO_SRS_AXIS_MAPPING=YES", NULL };
        if ((s0 == NULL) != (si == NULL) || (s0 && !OSRIsSameEx(s0, si, opts)))
            return eos_err_set(err, EOS_INVALID_ARG, "stack: '%s' is in %s but '%s' in %s; "
                               "all files must share one CRS", paths[i], srs_name(si), paths[0],
                               srs_name(s0));
        EOS_TRY(src_extent(paths[i], src[i].ds, src[i].ext, err));
        common[0] = fmax(common[0], src[i].ext[0]);
        common[1] = fmax(common[1], src[i].ext[1]);
        common[2] = fmin(common[2], src[i].ext[2]);
        common[3] = fmin(common[3], src[i].ext[3]);
        if (!(common[0] < common[2] && common[1] < common[3]))
            return eos_err_set(err, EOS_INVALID_ARG, "stack: '%s' does not overlap the files "
                               "before it", paths[i]);
    }
    return EOS_OK;
}

/* Remember a /vsimem/ file to remove at close. */
static eos_status keep_vsimem(eos_raster *r, const char *name, eos_err *err) {
    char *copy = eos_strdup(name);
    if (!copy) return eos_err_set(err, EOS_NOMEM, "out of memory building a stack");
    r->vsimem_files[r->n_vsimem_files++] = copy;
    return EOS_OK;
}

/* One-band VRT of band b of a multi-band source, in r's /vsimem/ directory. */
static eos_status split_band(eos_raster *r, GDALDatasetH src, const char *path, int i_file, int b,
                             eos_err *err) {
    char dir[64], name[128], band[16];
    vsimem_dir(r, dir, sizeof dir);
    snprintf(name, sizeof name, "%s/src%d_b%d.vrt", dir, i_file, b);
    snprintf(band, sizeof band, "%d", b);
    char *argv[] = { "-of", "VRT", "-b", band, NULL };
    GDALTranslateOptions *o = GDALTranslateOptionsNew(argv, NULL);
    if (!o) return eos_gdal_fail(err, EOS_INTERNAL, "stack: GDALTranslate options");
    GDALDatasetH d = GDALTranslate(name, src, o, NULL);
    GDALTranslateOptionsFree(o);
    if (!d) return eos_gdal_fail(err, EOS_IO, "stack: cannot take band %d of '%s'", b, path);
    GDALClose(d);
    return keep_vsimem(r, name, err);
}

/* The list of one-band sources for GDALBuildVRT and the name of each stacked band. */
static eos_status stack_sources(eos_raster *r, const char *const *paths, int n, stack_src *src,
                                const char **names, int *n_names, eos_err *err) {
    int k = 0;
    for (int i = 0; i < n; i++) {
        int nb = GDALGetRasterCount(src[i].ds);
        char base[64];
        stack_band_name(paths[i], base);
        for (int b = 1; b <= nb; b++, k++) {
            if (nb == 1) {
                names[k] = paths[i];
                snprintf(r->stack_names[k], 64, "%s", base);
                continue;
            }
            EOS_TRY(split_band(r, src[i].ds, paths[i], i, b, err));
            names[k] = r->vsimem_files[r->n_vsimem_files - 1];
            snprintf(r->stack_names[k], 64, "%.50s:%d", base, b);
        }
    }
    *n_names = k;
    return EOS_OK;
}

static eos_status build_stack(eos_raster *r, const char *const *paths, int n, stack_src *src,
                              eos_err *err) {
    EOS_TRY(check_stack_sources(paths, n, src, err));
    const char *names[EOS_RASTER_MAX_BANDS];
    int n_names = 0;
    EOS_TRY(stack_sources(r, paths, n, src, names, &n_names, err));
    char *argv[] = { "-separate", "-resolution", "highest", "-r", "bilinear", NULL };
    GDALBuildVRTOptions *o = GDALBuildVRTOptionsNew(argv, NULL);
    if (!o) return eos_gdal_fail(err, EOS_INTERNAL, "stack: GDALBuildVRT options");
    int usage = 0;
    r->ds = GDALBuildVRT("", n_names, NULL, names, o, &usage);
    GDALBuildVRTOptionsFree(o);
    if (!r->ds) return eos_gdal_fail(err, EOS_IO, "cannot stack '%s' and %d more file%s", paths[0],
                                     n - 1, n == 2 ? "" : "s");
    if (GDALGetRasterCount(r->ds) != n_names)
        return eos_err_set(err, EOS_INTERNAL, "stack: GDALBuildVRT made %d bands of %d",
                           GDALGetRasterCount(r->ds), n_names);
    return EOS_OK;
}

static eos_status stack_alloc(eos_raster *r, const char *const *paths, int n, eos_err *err) {
    r->stack_paths = eos_calloc((size_t)n, sizeof *r->stack_paths);
    r->vsimem_files = eos_calloc(EOS_RASTER_MAX_BANDS, sizeof *r->vsimem_files);
    r->stack_names = eos_calloc(EOS_RASTER_MAX_BANDS, sizeof *r->stack_names);
    if (!r->stack_paths || !r->vsimem_files || !r->stack_names)
        return eos_err_set(err, EOS_NOMEM, "out of memory building a stack");
    for (int i = 0; i < n; i++) {
        r->stack_paths[i] = eos_strdup(paths[i] ? paths[i] : "");
        if (!r->stack_paths[i]) return eos_err_set(err, EOS_NOMEM, "out of memory building a stack");
        r->n_stack = i + 1;
    }
    return EOS_OK;
}

eos_status eos_raster_open_stack(eos_ctx *ctx, const char *const *paths, int n_paths,
                                 const eos_raster_open_params *params, eos_raster **out) {
    eos_err err = { 0 };
    eos__ctx_clear(ctx);
    if (!out) return EOS_INVALID_ARG;
    *out = NULL;
    if (!paths || n_paths < 1 || n_paths > EOS_RASTER_MAX_BANDS || !paths[0]) {
        eos_err_set(&err, EOS_INVALID_ARG, "eos_raster_open_stack: %d paths (1..%d expected)",
                    n_paths, EOS_RASTER_MAX_BANDS);
        return eos__ctx_fail(ctx, &err);
    }
    eos_gdal_init();
    eos_raster *r = raster_alloc(paths[0]);
    stack_src src[EOS_RASTER_MAX_BANDS];
    memset(src, 0, sizeof src);
    eos_status st = r ? stack_alloc(r, paths, n_paths, &err)
                      : eos_err_set(&err, EOS_NOMEM, "out of memory building a stack");
    eos_gdal_quiet_begin();
    if (st == EOS_OK) st = build_stack(r, paths, n_paths, src, &err);
    for (int i = 0; i < n_paths; i++)
        if (src[i].ds) GDALClose(src[i].ds);
    if (st == EOS_OK) st = raster_init(r, params, &err);
    eos_gdal_quiet_end();
    if (st != EOS_OK) return open_failed(ctx, r, &err, out);
    *out = r;
    return EOS_OK;
}
