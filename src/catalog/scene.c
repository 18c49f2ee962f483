/*
 * src/catalog/scene.c - what the catalog learns about a raster file before storing it: its
 * absolute path and SHA-256, then (for files not yet catalogued) its CRS, size, bands,
 * footprint in WGS 84 and acquisition time.
 *
 * This is back-end-neutral work done by the front, outside the handle's mutex, so that a slow
 * scene does not hold up other threads. Geometry and band descriptions come through the public
 * raster and geo APIs (eos_raster_open, eos_geo_footprint); only the acquisition time needs
 * GDAL's metadata directly, read through a second, header-only GDALOpenEx. Local files only:
 * /vsi paths are refused, so adding a scene can never fetch a URL.
 */
#define _DEFAULT_SOURCE   /* realpath */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cpl_error.h>
#include <gdal.h>

#include "catalog/catalog_internal.h"
#include "eosight/alloc.h"
#include "eosight/raster.h"
#include "io/gdal_util.h"

#define HASH_CHUNK ((size_t)1 << 20)
#define FOOTPRINT_PER_EDGE 8
#define MAX_BANDS 65536   /* as src/catalog/sqlite.c reads back */

/* ------------------------------------------------------------------ path and hash */

static eos_status check_path(const char *path, eos_err *err) {
    if (!path || !*path) return eos_err_set(err, EOS_INVALID_ARG, "empty scene path");
    if (!strncmp(path, "/vsi", 4))
        return eos_err_set(err, EOS_INVALID_ARG,
                           "'%.400s': the catalog holds local files only, not /vsi paths", path);
    struct stat sb;
    if (stat(path, &sb) != 0)
        return eos_err_set(err, errno == ENOENT || errno == ENOTDIR ? EOS_NOT_FOUND : EOS_IO,
                           "'%.400s': %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode))
        return eos_err_set(err, EOS_INVALID_ARG, "'%.400s' is a directory, not a raster", path);
    if (!S_ISREG(sb.st_mode))
        return eos_err_set(err, EOS_INVALID_ARG, "'%.400s' is not a regular file", path);
    return EOS_OK;
}

static eos_status sha256_file(const char *path, char hash[72], eos_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return eos_err_set(err, EOS_IO, "cannot read '%.400s': %s", path, strerror(errno));
    uint8_t *buf = eos_malloc(HASH_CHUNK);
    if (!buf) {
        fclose(f);
        return eos_err_set(err, EOS_NOMEM, "out of memory hashing '%.400s'", path);
    }
    eos__sha256 s;
    eos__sha256_init(&s);
    size_t n;
    while ((n = fread(buf, 1, HASH_CHUNK, f)) > 0) eos__sha256_update(&s, buf, n);
    bool bad = ferror(f) != 0;
    fclose(f);
    eos_free(buf);
    if (bad) return eos_err_set(err, EOS_IO, "read error while hashing '%.400s'", path);
    char hex[65];
    eos__sha256_final(&s, hex);
    snprintf(hash, 72, "sha256:%s", hex);
    return EOS_OK;
}

eos_status eos__catalog_hash_file(const char *path, char **abs, char hash[72], eos_err *err) {
    *abs = NULL;
    EOS_TRY(check_path(path, err));
    char real[PATH_MAX];
    if (!realpath(path, real))
        return eos_err_set(err, EOS_IO, "'%.400s': cannot resolve its path: %s", path,
                           strerror(errno));
    EOS_TRY(sha256_file(real, hash, err));
    if (!(*abs = eos_strdup(real))) return eos_err_set(err, EOS_NOMEM, "out of memory");
    return EOS_OK;
}

/* ------------------------------------------------------------------ acquisition time */

/* Metadata items that carry an acquisition time, most specific first. TIFFTAG_DATETIME is
 * last: it is often the time the file was written, still better than nothing. */
static const struct {
    const char *domain, *key;
} k_time_items[] = {
    { "IMAGERY", "ACQUISITIONDATETIME" },
    { NULL, "ACQUISITION_DATETIME" },
    { NULL, "ACQUISITION_DATE" },
    { NULL, "SENSING_TIME" },
    { NULL, "DATATAKE_1_DATATAKE_SENSING_START" },
    { NULL, "PRODUCT_START_TIME" },
    { NULL, "DATE_ACQUIRED" },
    { NULL, "TIFFTAG_DATETIME" },
};

/* Landsat: DATE_ACQUIRED = 2020-05-18 and SCENE_CENTER_TIME = "10:05:40.1234560Z". */
static bool landsat_time(GDALDatasetH ds, const char *date, int64_t *t) {
    const char *clock = GDALGetMetadataItem(ds, "SCENE_CENTER_TIME", NULL);
    if (!clock) return false;
    char text[96];
    snprintf(text, sizeof text, "%.12sT%.40s", date, clock + (*clock == '"'));
    char *q = strchr(text, '"');
    if (q) *q = '\0';
    return eos_catalog_parse_time(text, t, NULL);
}

static eos_status time_from_metadata(const char *abs, eos_catalog_scene *s, eos_err *err) {
    eos_gdal_init();
    eos_gdal_quiet_begin();
    GDALDatasetH ds = GDALOpenEx(abs, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
    eos_gdal_quiet_end();
    if (!ds) return EOS_OK;   /* eos_raster_open read it a moment ago: no time, no error */
    for (size_t i = 0; i < sizeof k_time_items / sizeof k_time_items[0] && !s->has_time; i++) {
        const char *v = GDALGetMetadataItem(ds, k_time_items[i].key, k_time_items[i].domain);
        int64_t t;
        bool date_only = false;
        if (!v || !eos_catalog_parse_time(v, &t, &date_only)) continue;
        if (!strcmp(k_time_items[i].key, "DATE_ACQUIRED") && date_only) landsat_time(ds, v, &t);
        char src[96];
        snprintf(src, sizeof src, "metadata:%s%s", k_time_items[i].domain ? "IMAGERY:" : "",
                 k_time_items[i].key);
        if (!(s->time_source = eos_strdup(src))) {
            GDALClose(ds);
            return eos_err_set(err, EOS_NOMEM, "out of memory");
        }
        s->has_time = true;
        s->time_s = t;
    }
    GDALClose(ds);
    return EOS_OK;
}

static eos_status acquisition_time(const char *abs, eos_catalog_scene *s, eos_err *err) {
    EOS_TRY(time_from_metadata(abs, s, err));
    int64_t t;
    if (!s->has_time && eos_catalog_time_from_name(abs, &t)) {
        if (!(s->time_source = eos_strdup("filename")))
            return eos_err_set(err, EOS_NOMEM, "out of memory");
        s->has_time = true;
        s->time_s = t;
    }
    if (s->has_time) eos_catalog_format_time(s->time_s, s->time);
    return EOS_OK;
}

/* ------------------------------------------------------------------ raster description */

static eos_status describe_bands(eos_raster *r, int n_bands, eos_catalog_scene *s, eos_err *err) {
    if (n_bands > MAX_BANDS)
        return eos_err_set(err, EOS_LIMIT, "'%.400s' has %d bands; the catalog describes at most "
                           "%d", s->path, n_bands, MAX_BANDS);
    s->bands = eos_calloc((size_t)n_bands, sizeof *s->bands);
    if (!s->bands) return eos_err_set(err, EOS_NOMEM, "out of memory describing %d bands", n_bands);
    s->n_bands = n_bands;
    for (int i = 0; i < n_bands; i++) {
        eos_band_info bi;
        if (eos_raster_band_info(r, i + 1, &bi) != EOS_OK)
            return eos_err_set(err, EOS_INTERNAL, "band %d of %d unreadable", i + 1, n_bands);
        const char *name = bi.name[0] ? bi.name
                         : strcmp(bi.color_interp, "Undefined") ? bi.color_interp : "";
        snprintf(s->bands[i].name, sizeof s->bands[i].name, "%s", name);
        snprintf(s->bands[i].type, sizeof s->bands[i].type, "%s", bi.gdal_type);
    }
    return EOS_OK;
}

static eos_status describe_crs(const eos_crs *crs, eos_catalog_scene *s, eos_err *err) {
    s->epsg = eos_crs_epsg(crs);
    char code[32];
    snprintf(code, sizeof code, "EPSG:%d", s->epsg);
    if (!(s->crs = eos_strdup(s->epsg > 0 ? code : eos_crs_wkt(crs))))
        return eos_err_set(err, EOS_NOMEM, "out of memory");
    return EOS_OK;
}

static eos_status describe_raster(eos_raster *r, eos_ctx *ctx, eos_catalog_scene *s,
                                  eos_err *err) {
    eos_raster_info info;
    eos_raster_get_info(r, &info);
    if (!info.georef.has_transform || !info.georef.crs)
        return eos_err_set(err, EOS_INVALID_ARG,
                           "'%.400s' has no georeferencing (a CRS and a geotransform): the "
                           "catalog holds georeferenced rasters only", s->path);
    s->width_px = info.width_px;
    s->height_px = info.height_px;
    EOS_TRY(describe_crs(info.georef.crs, s, err));
    eos_status st = eos_geo_footprint(ctx, &info.georef, info.width_px, info.height_px,
                                      FOOTPRINT_PER_EDGE, &s->footprint, s->bbox);
    if (st != EOS_OK)
        return eos_err_set(err, st == EOS_INVALID_ARG ? EOS_UNSUPPORTED : st,
                           "'%.300s': no footprint in WGS 84: %.150s", s->path,
                           ctx ? eos_ctx_errmsg(ctx) : eos_status_str(st));
    return describe_bands(r, info.n_bands, s, err);
}

eos_status eos__catalog_describe(const char *abs, const char *hash, eos_catalog_scene *out,
                                 eos_err *err) {
    memset(out, 0, sizeof *out);
    snprintf(out->hash, sizeof out->hash, "%s", hash);
    if (!(out->path = eos_strdup(abs))) return eos_err_set(err, EOS_NOMEM, "out of memory");
    eos_ctx *ctx = NULL;   /* a private context: its error text is this call's alone */
    eos_ctx_params cp = eos_ctx_default_params();
    cp.log_fn = NULL;
    cp.log_level = EOS_LOG_ERROR;
    cp.backend = EOS_BACKEND_REF;
    if (eos_ctx_create(&cp, &ctx) != EOS_OK) ctx = NULL;
    eos_raster_open_params rp = eos_raster_default_open_params();
    rp.bands = "1";   /* every band is described, but only one is selected: no band limit */
    eos_raster *r = NULL;
    eos_status st = eos_raster_open(ctx, abs, &rp, &r);
    if (st != EOS_OK) {
        const char *m = ctx ? eos_ctx_errmsg(ctx) : "";
        if (strstr(m, abs)) eos_err_set(err, st, "%s", m);
        else eos_err_set(err, st, "'%.300s': %.180s", abs, *m ? m : "cannot open as a raster");
    } else {
        st = describe_raster(r, ctx, out, err);
    }
    eos_raster_close(r);
    eos_ctx_free(ctx);
    if (st == EOS_OK) st = acquisition_time(abs, out, err);
    if (st != EOS_OK) eos_catalog_scene_clear(out);
    return st;
}
