/*
 * src/io/raster_json.c - eos_raster_info_json: a raster's description as one JSON object (what
 * `eosight info --json` prints and the service returns).
 *
 * The object is built with core/strbuf.h, whose string literals escape everything they are
 * given: band descriptions and CRS names come from files, so they may hold quotes, control
 * characters or bytes that are not UTF-8 (those become U+FFFD). Numbers are printed in the
 * shortest form that reads back exactly; JSON has no NaN or infinities, so a NaN nodata value
 * is the string "NaN" (and infinities "Infinity" / "-Infinity"). Lon/lat have 7 decimals
 * (about 1 cm), as RFC 7946 suggests.
 */
#include "io/raster_internal.h"

#include <math.h>

#include "core/strbuf.h"
#include "eosight/alloc.h"
#include "io/gdal_util.h"

/* A number; the ones JSON cannot express as the strings "NaN", "Infinity" and "-Infinity". */
static void put_num(eos_strbuf *b, double v) {
    if (isnan(v)) eos_strbuf_puts(b, "\"NaN\"");
    else if (isinf(v)) eos_strbuf_puts(b, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    else eos_strbuf_json_num(b, v);
}

/* ------------------------------------------------------------------ sections */

static void json_band(eos_strbuf *b, const eos_band_info *bi) {
    eos_strbuf_printf(b, "{\"index\":%d,\"type\":", bi->index);
    eos_strbuf_json_str(b, bi->gdal_type);
    eos_strbuf_puts(b, ",\"dtype\":");
    eos_strbuf_json_str(b, bi->dtype ? eos_dtype_name(bi->dtype) : "f64");
    eos_strbuf_puts(b, ",\"name\":");
    eos_strbuf_json_str(b, bi->name);
    eos_strbuf_puts(b, ",\"color_interp\":");
    eos_strbuf_json_str(b, bi->color_interp);
    eos_strbuf_puts(b, ",\"nodata\":");
    if (bi->has_nodata) put_num(b, bi->nodata);
    else eos_strbuf_puts(b, "null");
    eos_strbuf_printf(b, ",\"alpha\":%s,\"block\":[%d,%d],\"overviews\":%d,\"scale\":",
                      bi->is_alpha ? "true" : "false", bi->block_w, bi->block_h,
                      bi->n_overviews);
    put_num(b, bi->scale);
    eos_strbuf_puts(b, ",\"offset\":");
    put_num(b, bi->offset);
    eos_strbuf_puts(b, "}");
}

static void json_crs(eos_strbuf *b, const eos_crs *crs) {
    if (!crs) {
        eos_strbuf_puts(b, "null");
        return;
    }
    eos_strbuf_puts(b, "{\"wkt\":");
    eos_strbuf_json_str(b, eos_crs_wkt(crs));
    if (eos_crs_epsg(crs)) eos_strbuf_printf(b, ",\"epsg\":%d", eos_crs_epsg(crs));
    else eos_strbuf_puts(b, ",\"epsg\":null");
    eos_strbuf_puts(b, ",\"name\":");
    eos_strbuf_json_str(b, eos_crs_name(crs));
    eos_strbuf_puts(b, "}");
}

static void json_transform(eos_strbuf *b, const eos_georef *g) {
    eos_strbuf_puts(b, ",\"geotransform\":");
    if (!g->has_transform) {
        eos_strbuf_puts(b, "null,\"pixel_size\":null");
        return;
    }
    const double *gt = g->transform.gt;
    for (int i = 0; i < 6; i++) {
        eos_strbuf_puts(b, i ? "," : "[");
        put_num(b, gt[i]);
    }
    eos_strbuf_puts(b, "],\"pixel_size\":[");
    put_num(b, hypot(gt[1], gt[4]));
    eos_strbuf_puts(b, ",");
    put_num(b, hypot(gt[2], gt[5]));
    eos_strbuf_puts(b, "]");
}

/* footprint_wgs84 and bbox_wgs84; null when the raster has no CRS/transform or the footprint
 * cannot be computed. */
static void json_footprint(eos_strbuf *b, const eos_raster *r) {
    eos_lonlat_ring ring = { 0, NULL, NULL };
    double bbox[4];
    bool ok = r->crs && r->georef.has_transform &&
              eos_geo_footprint(NULL, &r->georef, r->width, r->height, 8, &ring, bbox) == EOS_OK;
    if (!ok) {
        eos_strbuf_puts(b, ",\"footprint_wgs84\":null,\"bbox_wgs84\":null");
        eos_free(ring.lon_deg);
        eos_free(ring.lat_deg);
        return;
    }
    eos_strbuf_puts(b, ",\"footprint_wgs84\":{\"type\":\"Polygon\",\"coordinates\":[[");
    for (size_t i = 0; i < ring.n; i++)
        eos_strbuf_printf(b, "%s[%.7f,%.7f]", i ? "," : "", ring.lon_deg[i], ring.lat_deg[i]);
    eos_strbuf_printf(b, "]]},\"bbox_wgs84\":[%.7f,%.7f,%.7f,%.7f]", bbox[0], bbox[1], bbox[2],
                      bbox[3]);
    eos_free(ring.lon_deg);
    eos_free(ring.lat_deg);
}

static void json_overviews(eos_strbuf *b, const eos_raster *r) {
    GDALRasterBandH h = GDALGetRasterBand(r->ds, 1);
    int n = GDALGetOverviewCount(h);
    eos_strbuf_puts(b, ",\"overviews\":[");
    for (int i = 0; i < n; i++) {
        GDALRasterBandH o = GDALGetOverview(h, i);
        if (o)
            eos_strbuf_printf(b, "%s[%d,%d]", i ? "," : "", GDALGetRasterBandXSize(o),
                              GDALGetRasterBandYSize(o));
    }
    eos_strbuf_puts(b, "]");
}

static void json_all(eos_strbuf *b, const eos_raster *r) {
    eos_strbuf_puts(b, "{\"path\":");
    eos_strbuf_json_str(b, r->path);
    if (r->n_stack) {
        eos_strbuf_puts(b, ",\"stack\":[");
        for (int i = 0; i < r->n_stack; i++) {
            if (i) eos_strbuf_puts(b, ",");
            eos_strbuf_json_str(b, r->stack_paths[i]);
        }
        eos_strbuf_puts(b, "]");
    }
    eos_strbuf_puts(b, ",\"driver\":");
    eos_strbuf_json_str(b, r->driver);
    eos_strbuf_printf(b, ",\"width\":%lld,\"height\":%lld,\"selected\":[", (long long)r->width,
                      (long long)r->height);
    for (int i = 0; i < r->n_sel; i++) eos_strbuf_printf(b, "%s%d", i ? "," : "", r->sel[i]);
    eos_strbuf_puts(b, "],\"bands\":[");
    for (int i = 1; i <= r->n_bands && !b->oom; i++) {
        eos_band_info bi;
        eos__raster_band_info(r, i, &bi);
        if (i > 1) eos_strbuf_puts(b, ",");
        json_band(b, &bi);
    }
    eos_strbuf_puts(b, "],\"crs\":");
    json_crs(b, r->crs);
    json_transform(b, &r->georef);
    json_footprint(b, r);
    json_overviews(b, r);
    eos_strbuf_printf(b, ",\"mask\":%s}", r->all_valid ? "false" : "true");
}

eos_status eos_raster_info_json(const eos_raster *r, char **json) {
    if (!json) return EOS_INVALID_ARG;
    *json = NULL;
    if (!r) return EOS_INVALID_ARG;
    eos_strbuf b = EOS_STRBUF_INIT;
    eos_gdal_quiet_begin();
    json_all(&b, r);
    eos_gdal_quiet_end();
    return eos_strbuf_take(&b, json);
}
