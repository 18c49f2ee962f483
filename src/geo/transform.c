/*
 * src/geo/transform.c - geotransforms (pixel <-> map), CRS-to-CRS point transforms on PROJ
 * through OSR's OGRCoordinateTransformation, pixel <-> WGS 84 lon/lat and raster footprints
 * (include/eosight/geo.h).
 *
 * Every lon/lat here is (lon, lat): the WGS 84 CRS is created with OAMS_TRADITIONAL_GIS_ORDER
 * and eos_crs handles carry the same mapping, so OSR never hands back the EPSG (lat, lon) order.
 * A transform between two CRSs that OSR considers the same is the exact identity (no PROJ call),
 * so an EPSG:4326 raster's lon/lat are its map coordinates bit for bit.
 *
 * Footprints are returned as rings whose longitudes are continuous along the ring: a footprint
 * that crosses the antimeridian keeps going past +-180 instead of jumping by 360, and its bbox
 * then has west > east (RFC 7946 section 5.2). A footprint that encloses a pole cannot be a
 * lon/lat polygon; its bbox spans all longitudes up to the pole (see geo.h).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cpl_conv.h>
#include <ogr_srs_api.h>

#include "eosight/alloc.h"
#include "geo/geo_internal.h"
#include "io/gdal_util.h"

/* Points transformed per OCTTransformEx call: bounds the success-flag array on the stack and
 * keeps the int count PROJ takes far from overflow. */
#define XFORM_CHUNK 1024
/* Upper bound on eos_geo_footprint's n_per_edge (4 * 65536 + 1 points, about 4 MB). */
#define FOOTPRINT_MAX_PER_EDGE 65536

struct eos_geo_xform {
    OGRSpatialReferenceH         src, dst;   /* our clones, traditional GIS axis order */
    OGRCoordinateTransformationH ct;         /* NULL: src and dst are the same CRS */
};

/* ------------------------------------------------------------------ geotransform */

eos_geotransform eos_geotransform_identity(void) {
    eos_geotransform t = { { 0.0, 1.0, 0.0, 0.0, 0.0, 1.0 } };
    return t;
}

void eos_geo_pixel_to_map(const eos_geotransform *t, double col, double row, double *x,
                          double *y) {
    const double *g = t->gt;
    *x = g[0] + col * g[1] + row * g[2];
    *y = g[3] + col * g[4] + row * g[5];
}

eos_status eos_geo_map_to_pixel(const eos_geotransform *t, double x, double y, double *col,
                                double *row) {
    const double *g = t->gt;
    double dx = x - g[0], dy = y - g[3];
    if (g[2] == 0.0 && g[4] == 0.0) {
        /* north-up (or flipped): divide directly, which is exact where the forward was */
        if (g[1] == 0.0 || g[5] == 0.0 || !isfinite(g[1]) || !isfinite(g[5]))
            return EOS_INVALID_ARG;
        *col = dx / g[1];
        *row = dy / g[5];
        return EOS_OK;
    }
    double det = g[1] * g[5] - g[2] * g[4];
    if (det == 0.0 || !isfinite(det)) return EOS_INVALID_ARG;
    *col = (g[5] * dx - g[2] * dy) / det;
    *row = (g[1] * dy - g[4] * dx) / det;
    return EOS_OK;
}

void eos_geotransform_pixel_size(const eos_geotransform *t, double *size_x, double *size_y) {
    *size_x = hypot(t->gt[1], t->gt[4]);   /* one column step: (gt[1], gt[4]) */
    *size_y = hypot(t->gt[2], t->gt[5]);   /* one row step:    (gt[2], gt[5]) */
}

/* ------------------------------------------------------------------ CRS transforms */

/* A clone of crs's OSR handle, or a new WGS 84 for NULL; traditional GIS order either way. */
static OGRSpatialReferenceH srs_for(const eos_crs *crs) {
    OGRSpatialReferenceH s;
    if (crs) {
        s = OSRClone(crs->srs);
    } else {
        s = OSRNewSpatialReference(NULL);
        if (s && OSRImportFromEPSG(s, 4326) != OGRERR_NONE) {
            OSRDestroySpatialReference(s);
            s = NULL;
        }
    }
    if (s) OSRSetAxisMappingStrategy(s, OAMS_TRADITIONAL_GIS_ORDER);
    return s;
}

static void xform_destroy(eos_geo_xform *xf) {
    if (xf->ct) OCTDestroyCoordinateTransformation(xf->ct);
    if (xf->src) OSRDestroySpatialReference(xf->src);
    if (xf->dst) OSRDestroySpatialReference(xf->dst);
    eos_free(xf);
}

/* eos_geo_xform_create reporting through an eos_err; the caller brackets it with quiet. */
static eos_status xform_new(const eos_crs *src, const eos_crs *dst, eos_err *err,
                            eos_geo_xform **out) {
    eos_geo_xform *xf = eos_calloc(1, sizeof *xf);
    if (!xf) return eos_err_set(err, EOS_NOMEM, "out of memory creating a CRS transform");
    xf->src = srs_for(src);
    xf->dst = srs_for(dst);
    if (!xf->src || !xf->dst) {
        xform_destroy(xf);
        return eos_gdal_fail(err, EOS_NOMEM, "cannot set up the CRSs of a transform");
    }
    const char *opts[] = { "IGNORE_DATA_AXIS_TO_SRS_AXIS_MAPPING=YES", NULL };
    if (!OSRIsSameEx(xf->src, xf->dst, opts)) {
        xf->ct = OCTNewCoordinateTransformation(xf->src, xf->dst);
        if (!xf->ct) {
            xform_destroy(xf);
            return eos_gdal_fail(err, EOS_UNSUPPORTED,
                                 "no transformation from '%.100s' to '%.100s'",
                                 src ? src->name : "WGS 84", dst ? dst->name : "WGS 84");
        }
    }
    *out = xf;
    return EOS_OK;
}

static eos_status xform_new_quiet(const eos_crs *src, const eos_crs *dst, eos_err *err,
                                  eos_geo_xform **out) {
    *out = NULL;
    eos_gdal_init();
    eos_gdal_quiet_begin();
    eos_status st = xform_new(src, dst, err, out);
    eos_gdal_quiet_end();
    return st;
}

eos_status eos_geo_xform_create(eos_ctx *ctx, const eos_crs *src, const eos_crs *dst,
                                eos_geo_xform **out) {
    eos_err err = { 0 };
    eos__ctx_clear(ctx);
    eos_status st = xform_new_quiet(src, dst, &err, out);
    return st ? eos__ctx_fail(ctx, &err) : EOS_OK;
}

void eos_geo_xform_free(eos_geo_xform *xf) {
    if (xf) xform_destroy(xf);
}

/* Transform one chunk (n <= XFORM_CHUNK); returns the number of failed points. */
static size_t xform_chunk(eos_geo_xform *xf, size_t n, double *x, double *y) {
    int ok[XFORM_CHUNK];
    for (size_t i = 0; i < n; i++) ok[i] = isfinite(x[i]) && isfinite(y[i]);
    if (xf->ct) OCTTransformEx(xf->ct, (int)n, x, y, NULL, ok);
    size_t n_bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (!ok[i] || !isfinite(x[i]) || !isfinite(y[i])) {
            x[i] = y[i] = NAN;
            n_bad++;
        }
    }
    return n_bad;
}

eos_status eos_geo_xform_points(eos_geo_xform *xf, size_t n, double *x, double *y) {
    if (!xf || (n && (!x || !y))) return EOS_INVALID_ARG;
    size_t n_bad = 0;
    eos_gdal_quiet_begin();
    for (size_t i = 0; i < n; i += XFORM_CHUNK) {
        size_t m = n - i < XFORM_CHUNK ? n - i : XFORM_CHUNK;
        n_bad += xform_chunk(xf, m, x + i, y + i);
    }
    eos_gdal_quiet_end();
    return n_bad ? EOS_INVALID_ARG : EOS_OK;
}

/* ------------------------------------------------------------------ pixel <-> lon/lat */

static eos_status check_georef(const eos_georef *g, eos_err *err) {
    if (!g) return eos_err_set(err, EOS_INVALID_ARG, "no georeferencing given");
    if (!g->has_transform)
        return eos_err_set(err, EOS_INVALID_ARG, "the raster has no geotransform");
    if (!g->crs) return eos_err_set(err, EOS_INVALID_ARG, "the raster has no CRS");
    return EOS_OK;
}

static eos_status pixel_to_lonlat(const eos_georef *g, double col, double row, double *lon,
                                  double *lat, eos_err *err) {
    EOS_TRY(check_georef(g, err));
    eos_geo_xform *xf;
    EOS_TRY(xform_new_quiet(g->crs, NULL, err, &xf));
    double x, y;
    eos_geo_pixel_to_map(&g->transform, col, row, &x, &y);
    eos_status st = eos_geo_xform_points(xf, 1, &x, &y);
    eos_geo_xform_free(xf);
    *lon = x;
    *lat = y;
    if (st)
        return eos_err_set(err, st, "pixel (%.17g, %.17g) of a '%.100s' raster has no WGS 84 "
                           "lon/lat", col, row, g->crs->name);
    return EOS_OK;
}

eos_status eos_geo_pixel_to_lonlat(eos_ctx *ctx, const eos_georef *g, double col, double row,
                                   double *lon_deg, double *lat_deg) {
    eos_err err = { 0 };
    eos__ctx_clear(ctx);
    eos_status st = pixel_to_lonlat(g, col, row, lon_deg, lat_deg, &err);
    return st ? eos__ctx_fail(ctx, &err) : EOS_OK;
}

static eos_status lonlat_to_pixel(const eos_georef *g, double lon, double lat, double *col,
                                  double *row, eos_err *err) {
    EOS_TRY(check_georef(g, err));
    eos_geo_xform *xf;
    EOS_TRY(xform_new_quiet(NULL, g->crs, err, &xf));
    double x = lon, y = lat;
    eos_status st = eos_geo_xform_points(xf, 1, &x, &y);
    eos_geo_xform_free(xf);
    if (st)
        return eos_err_set(err, st, "lon/lat (%.17g, %.17g) has no coordinates in '%.100s'",
                           lon, lat, g->crs->name);
    if (eos_geo_map_to_pixel(&g->transform, x, y, col, row))
        return eos_err_set(err, EOS_INVALID_ARG, "the geotransform is singular");
    return EOS_OK;
}

eos_status eos_geo_lonlat_to_pixel(eos_ctx *ctx, const eos_georef *g, double lon_deg,
                                   double lat_deg, double *col, double *row) {
    eos_err err = { 0 };
    eos__ctx_clear(ctx);
    eos_status st = lonlat_to_pixel(g, lon_deg, lat_deg, col, row, &err);
    return st ? eos__ctx_fail(ctx, &err) : EOS_OK;
}

/* ------------------------------------------------------------------ footprint */

/* The outline in pixel coordinates: corners UL, LL, LR, UR, each edge split into n segments,
 * closed by an exact copy of the first point. */
static void outline_pixels(int64_t w, int64_t h, int n, double *col, double *row) {
    const double cc[5] = { 0.0, 0.0, (double)w, (double)w, 0.0 };
    const double rc[5] = { 0.0, (double)h, (double)h, 0.0, 0.0 };
    size_t k = 0;
    for (int e = 0; e < 4; e++) {
        for (int j = 0; j < n; j++, k++) {
            double t = (double)j / n;
            col[k] = j ? cc[e] + (cc[e + 1] - cc[e]) * t : cc[e];
            row[k] = j ? rc[e] + (rc[e + 1] - rc[e]) * t : rc[e];
        }
    }
    col[k] = col[0];
    row[k] = row[0];
}

/* Multiple of 360 to add to lon so it lies within 180 of prev. */
static double wrap_step(double lon, double prev) {
    double d = lon - prev;
    return d > 180.0 || d < -180.0 ? -360.0 * nearbyint(d / 360.0) : 0.0;
}

/* Make longitudes continuous along the ring (steps < 180 degrees). Returns false, leaving lon
 * untouched, when the unwrapped ring does not close: the outline winds around a pole. */
static bool unwrap_ring(double *lon, size_t n) {
    /* first pass only decides, so a pole-enclosing ring is left as PROJ returned it */
    double off = 0.0, prev = lon[0];
    for (size_t i = 1; i < n; i++) {
        off += wrap_step(lon[i] + off, prev);
        prev = lon[i] + off;
    }
    if (fabs(prev - lon[0]) > 180.0) return false;
    off = 0.0;
    prev = lon[0];
    for (size_t i = 1; i < n; i++) {
        off += wrap_step(lon[i] + off, prev);
        lon[i] += off;
        prev = lon[i];
    }
    return true;
}

/* Twice the signed area (shoelace), relative to the first point for precision. */
static double ring_area2(const double *x, const double *y, size_t n) {
    double a = 0.0;
    for (size_t i = 0; i + 1 < n; i++) {
        double x0 = x[i] - x[0], y0 = y[i] - y[0];
        double x1 = x[i + 1] - x[0], y1 = y[i + 1] - y[0];
        a += x0 * y1 - x1 * y0;
    }
    return a;
}

static void reverse(double *v, size_t n) {
    for (size_t i = 0, j = n - 1; i < j; i++, j--) {
        double t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}

/* lon into [-180, 180) (west edge) or (-180, 180] (east edge); in-range values unchanged. */
static double wrap_west(double v) {
    return v >= -180.0 && v < 180.0 ? v : v - 360.0 * floor((v + 180.0) / 360.0);
}
static double wrap_east(double v) {
    return v > -180.0 && v <= 180.0 ? v : v - 360.0 * ceil((v - 180.0) / 360.0);
}

static void ring_bbox(const double *lon, const double *lat, size_t n, bool around_pole,
                      double bbox[4]) {
    double w = lon[0], e = lon[0], s = lat[0], nn = lat[0], sum_lat = 0.0;
    for (size_t i = 0; i < n; i++) {
        w = fmin(w, lon[i]);
        e = fmax(e, lon[i]);
        s = fmin(s, lat[i]);
        nn = fmax(nn, lat[i]);
        sum_lat += lat[i];
    }
    if (around_pole) {
        if (sum_lat > 0) nn = 90.0;
        else s = -90.0;
        w = -180.0;
        e = 180.0;
    } else if (e - w >= 360.0) {
        w = -180.0;
        e = 180.0;
    } else {
        w = wrap_west(w);
        e = wrap_east(e);
    }
    bbox[0] = w;
    bbox[1] = s;
    bbox[2] = e;
    bbox[3] = nn;
}

/* Transform the outline in place and put it in the documented shape. */
static eos_status outline_to_lonlat(const eos_georef *g, double *x, double *y, size_t n,
                                    double bbox[4], eos_err *err) {
    for (size_t i = 0; i < n; i++) eos_geo_pixel_to_map(&g->transform, x[i], y[i], &x[i], &y[i]);
    eos_geo_xform *xf;
    EOS_TRY(xform_new_quiet(g->crs, NULL, err, &xf));
    eos_status st = eos_geo_xform_points(xf, n, x, y);
    eos_geo_xform_free(xf);
    if (st)
        return eos_err_set(err, st, "part of the raster outline in '%.100s' has no WGS 84 "
                           "lon/lat", g->crs->name);
    bool closed = unwrap_ring(x, n);
    if (closed && ring_area2(x, y, n) < 0) {
        reverse(x, n);
        reverse(y, n);
    }
    ring_bbox(x, y, n, !closed, bbox);
    return EOS_OK;
}

static eos_status footprint(const eos_georef *g, int64_t w, int64_t h, int n_per_edge,
                            eos_lonlat_ring *ring, double bbox[4], eos_err *err) {
    EOS_TRY(check_georef(g, err));
    if (w <= 0 || h <= 0)
        return eos_err_set(err, EOS_INVALID_ARG, "footprint of an empty raster (%lld x %lld)",
                           (long long)w, (long long)h);
    if (n_per_edge < 1 || n_per_edge > FOOTPRINT_MAX_PER_EDGE)
        return eos_err_set(err, EOS_INVALID_ARG, "footprint: n_per_edge %d outside [1, %d]",
                           n_per_edge, FOOTPRINT_MAX_PER_EDGE);
    size_t n = 4 * (size_t)n_per_edge + 1;
    double *x = eos_malloc(n * sizeof *x), *y = eos_malloc(n * sizeof *y);
    if (!x || !y) {
        eos_free(x);
        eos_free(y);
        return eos_err_set(err, EOS_NOMEM, "out of memory for a %zu-point footprint", n);
    }
    outline_pixels(w, h, n_per_edge, x, y);
    double box[4];
    eos_status st = outline_to_lonlat(g, x, y, n, box, err);
    if (!st && bbox) memcpy(bbox, box, sizeof box);
    if (!st && ring) {
        ring->n = n;
        ring->lon_deg = x;
        ring->lat_deg = y;
    } else {
        eos_free(x);
        eos_free(y);
    }
    return st;
}

eos_status eos_geo_footprint(eos_ctx *ctx, const eos_georef *g, int64_t width_px,
                             int64_t height_px, int n_per_edge, eos_lonlat_ring *ring,
                             double bbox[4]) {
    eos_err err = { 0 };
    eos__ctx_clear(ctx);
    if (ring) memset(ring, 0, sizeof *ring);
    eos_status st = footprint(g, width_px, height_px, n_per_edge, ring, bbox, &err);
    return st ? eos__ctx_fail(ctx, &err) : EOS_OK;
}
