/*
 * src/io/raster_json.c - eos_raster_info_json: a raster's description as one JSON object (what
 * `eosight info --json` prints and the service returns).
 *
 * The object is built with a small string builder that escapes everything it is given: band
 * descriptions and CRS names come from files, so they may hold quotes, control characters or
 * bytes that are not UTF-8 (those become U+FFFD). Numbers are printed in the shortest form that
 * reads back exactly; JSON has no NaN or infinities, so a NaN nodata value is the string "NaN"
 * (and infinities "Infinity" / "-Infinity"). Lon/lat have 7 decimals (about 1 cm), as RFC 7946
 * suggests.
 */
#include "io/raster_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eosight/alloc.h"
#include "io/gdal_util.h"

typedef struct sb {
    char  *p;
    size_t n, cap;
    bool   oom;
} sb;

static void sb_put(sb *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->n + n + 1) cap *= 2;
        char *p = eos_realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void sb_puts(sb *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_printf(sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sb *b, const char *fmt, ...) {
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (k > 0) sb_put(b, tmp, (size_t)k < sizeof tmp ? (size_t)k : sizeof tmp - 1);
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when the bytes are not UTF-8. */
static int utf8_len(const unsigned char *s) {
    if (s[0] < 0x80) return 1;
    int n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : 0;
    for (int i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80) return 0;
    return n;
}

/* A JSON string literal. */
static void sb_str(sb *b, const char *s) {
    sb_put(b, "\"", 1);
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        int n = utf8_len(p);
        if (n == 0) {
            sb_puts(b, "\\ufffd");
            p++;
        } else if (*p == '"' || *p == '\\') {
            sb_put(b, "\\", 1);
            sb_put(b, (const char *)p++, 1);
        } else if (*p < 0x20) {
            sb_printf(b, "\\u%04x", *p++);
        } else {
            sb_put(b, (const char *)p, (size_t)n);
            p += n;
        }
    }
    sb_put(b, "\"", 1);
}

static void sb_num(sb *b, double v) {
    if (isnan(v)) {
        sb_puts(b, "\"NaN\"");
    } else if (isinf(v)) {
        sb_puts(b, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    } else {
        char tmp[40];
        snprintf(tmp, sizeof tmp, "%.15g", v);
        if (strtod(tmp, NULL) != v) snprintf(tmp, sizeof tmp, "%.17g", v);
        sb_puts(b, tmp);
    }
}

/* ------------------------------------------------------------------ sections */

static void json_band(sb *b, const eos_band_info *bi) {
    sb_printf(b, "{\"index\":%d,\"type\":", bi->index);
    sb_str(b, bi->gdal_type);
    sb_puts(b, ",\"dtype\":");
    sb_str(b, bi->dtype ? eos_dtype_name(bi->dtype) : "f64");
    sb_puts(b, ",\"name\":");
    sb_str(b, bi->name);
    sb_puts(b, ",\"color_interp\":");
    sb_str(b, bi->color_interp);
    sb_puts(b, ",\"nodata\":");
    if (bi->has_nodata) sb_num(b, bi->nodata);
    else sb_puts(b, "null");
    sb_printf(b, ",\"alpha\":%s,\"block\":[%d,%d],\"overviews\":%d,\"scale\":",
              bi->is_alpha ? "true" : "false", bi->block_w, bi->block_h, bi->n_overviews);
    sb_num(b, bi->scale);
    sb_puts(b, ",\"offset\":");
    sb_num(b, bi->offset);
    sb_puts(b, "}");
}

static void json_crs(sb *b, const eos_crs *crs) {
    if (!crs) {
        sb_puts(b, "null");
        return;
    }
    sb_puts(b, "{\"wkt\":");
    sb_str(b, eos_crs_wkt(crs));
    if (eos_crs_epsg(crs)) sb_printf(b, ",\"epsg\":%d", eos_crs_epsg(crs));
    else sb_puts(b, ",\"epsg\":null");
    sb_puts(b, ",\"name\":");
    sb_str(b, eos_crs_name(crs));
    sb_puts(b, "}");
}

static void json_transform(sb *b, const eos_georef *g) {
    sb_puts(b, ",\"geotransform\":");
    if (!g->has_transform) {
        sb_puts(b, "null,\"pixel_size\":null");
        return;
    }
    const double *gt = g->transform.gt;
    for (int i = 0; i < 6; i++) {
        sb_puts(b, i ? "," : "[");
        sb_num(b, gt[i]);
    }
    sb_puts(b, "],\"pixel_size\":[");
    sb_num(b, hypot(gt[1], gt[4]));
    sb_puts(b, ",");
    sb_num(b, hypot(gt[2], gt[5]));
    sb_puts(b, "]");
}

/* footprint_wgs84 and bbox_wgs84; null when the raster has no CRS/transform or the footprint
 * cannot be computed. */
static void json_footprint(sb *b, const eos_raster *r) {
    eos_lonlat_ring ring = { 0, NULL, NULL };
    double bbox[4];
    bool ok = r->crs && r->georef.has_transform &&
              eos_geo_footprint(NULL, &r->georef, r->width, r->height, 8, &ring, bbox) == EOS_OK;
    if (!ok) {
        sb_puts(b, ",\"footprint_wgs84\":null,\"bbox_wgs84\":null");
        eos_free(ring.lon_deg);
        eos_free(ring.lat_deg);
        return;
    }
    sb_puts(b, ",\"footprint_wgs84\":{\"type\":\"Polygon\",\"coordinates\":[[");
    for (size_t i = 0; i < ring.n; i++)
        sb_printf(b, "%s[%.7f,%.7f]", i ? "," : "", ring.lon_deg[i], ring.lat_deg[i]);
    sb_printf(b, "]]},\"bbox_wgs84\":[%.7f,%.7f,%.7f,%.7f]", bbox[0], bbox[1], bbox[2], bbox[3]);
    eos_free(ring.lon_deg);
    eos_free(ring.lat_deg);
}

static void json_overviews(sb *b, const eos_raster *r) {
    GDALRasterBandH h = GDALGetRasterBand(r->ds, 1);
    int n = GDALGetOverviewCount(h);
    sb_puts(b, ",\"overviews\":[");
    for (int i = 0; i < n; i++) {
        GDALRasterBandH o = GDALGetOverview(h, i);
        if (o)
            sb_printf(b, "%s[%d,%d]", i ? "," : "", GDALGetRasterBandXSize(o),
                      GDALGetRasterBandYSize(o));
    }
    sb_puts(b, "]");
}

static void json_all(sb *b, const eos_raster *r) {
    sb_puts(b, "{\"path\":");
    sb_str(b, r->path);
    if (r->n_stack) {
        sb_puts(b, ",\"stack\":[");
        for (int i = 0; i < r->n_stack; i++) {
            if (i) sb_puts(b, ",");
            sb_str(b, r->stack_paths[i]);
        }
        sb_puts(b, "]");
    }
    sb_puts(b, ",\"driver\":");
    sb_str(b, r->driver);
    sb_printf(b, ",\"width\":%lld,\"height\":%lld,\"selected\":[", (long long)r->width,
              (long long)r->height);
    for (int i = 0; i < r->n_sel; i++) sb_printf(b, "%s%d", i ? "," : "", r->sel[i]);
    sb_puts(b, "],\"bands\":[");
    for (int i = 1; i <= r->n_bands && !b->oom; i++) {
        eos_band_info bi;
        eos__raster_band_info(r, i, &bi);
        if (i > 1) sb_puts(b, ",");
        json_band(b, &bi);
    }
    sb_puts(b, "],\"crs\":");
    json_crs(b, r->crs);
    json_transform(b, &r->georef);
    json_footprint(b, r);
    json_overviews(b, r);
    sb_printf(b, ",\"mask\":%s}", r->all_valid ? "false" : "true");
}

eos_status eos_raster_info_json(const eos_raster *r, char **json) {
    if (!json) return EOS_INVALID_ARG;
    *json = NULL;
    if (!r) return EOS_INVALID_ARG;
    sb b = { NULL, 0, 0, false };
    eos_gdal_quiet_begin();
    json_all(&b, r);
    eos_gdal_quiet_end();
    if (b.oom) {
        eos_free(b.p);
        return EOS_NOMEM;
    }
    *json = b.p;
    return EOS_OK;
}
