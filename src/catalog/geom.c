/*
 * src/catalog/geom.c - the small amount of planar geometry the catalog needs on lon/lat
 * footprints: point in polygon, polygon against box, the antimeridian, and the stored form of
 * a ring.
 *
 * Footprints are treated as planar polygons in (lon, lat) degrees, which is how GeoJSON (RFC
 * 7946) and PostGIS's geometry type treat them too: edges are straight in lon/lat, and the
 * footprint already has 8 points per edge, so the error against the raster's real outline is
 * far below a pixel for any scene the catalog holds. A ring crossing the antimeridian has
 * continuous longitudes beyond +-180 on one side (eos_geo_footprint), so every test is tried
 * with the query shifted by -360, 0 and +360 degrees.
 */
#include <math.h>
#include <string.h>

#include "catalog/catalog_internal.h"
#include "eosight/alloc.h"

/* ------------------------------------------------------------------ stored form */

static void put_f64(uint8_t *p, double v) {
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(u >> (8 * i));
}

static double get_f64(const uint8_t *p) {
    uint64_t u = 0;
    for (int i = 0; i < 8; i++) u |= (uint64_t)p[i] << (8 * i);
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

eos_status eos__ring_to_blob(const eos_lonlat_ring *r, uint8_t **blob, size_t *size,
                             eos_err *err) {
    *blob = NULL;
    *size = 0;
    if (r->n < 4 || r->n > EOS__RING_MAX)
        return eos_err_set(err, EOS_INVALID_ARG, "footprint has %zu points (4 .. %d allowed)",
                           r->n, EOS__RING_MAX);
    uint8_t *b = eos_malloc(r->n * 16);
    if (!b) return eos_err_set(err, EOS_NOMEM, "out of memory storing a footprint");
    for (size_t i = 0; i < r->n; i++) {
        put_f64(b + 16 * i, r->lon_deg[i]);
        put_f64(b + 16 * i + 8, r->lat_deg[i]);
    }
    *blob = b;
    *size = r->n * 16;
    return EOS_OK;
}

eos_status eos__ring_from_blob(const void *blob, size_t size, eos_lonlat_ring *r, eos_err *err) {
    memset(r, 0, sizeof *r);
    size_t n = size / 16;
    if (!blob || size % 16 || n < 4 || n > EOS__RING_MAX)
        return eos_err_set(err, EOS_PARSE, "stored footprint of %zu bytes is malformed", size);
    r->lon_deg = eos_malloc(n * sizeof(double));
    r->lat_deg = eos_malloc(n * sizeof(double));
    if (!r->lon_deg || !r->lat_deg) {
        eos_free(r->lon_deg);
        eos_free(r->lat_deg);
        memset(r, 0, sizeof *r);
        return eos_err_set(err, EOS_NOMEM, "out of memory reading a footprint");
    }
    const uint8_t *p = blob;
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        r->lon_deg[i] = get_f64(p + 16 * i);
        r->lat_deg[i] = get_f64(p + 16 * i + 8);
        ok = ok && isfinite(r->lon_deg[i]) && isfinite(r->lat_deg[i]) &&
             fabs(r->lon_deg[i]) <= 720 && fabs(r->lat_deg[i]) <= 90;
    }
    r->n = n;
    if (!ok) {
        eos_free(r->lon_deg);
        eos_free(r->lat_deg);
        memset(r, 0, sizeof *r);
        return eos_err_set(err, EOS_PARSE, "stored footprint holds coordinates out of range");
    }
    return EOS_OK;
}

/* ------------------------------------------------------------------ planar tests */

/* Twice the signed area of triangle (a, b, c): > 0 when c lies left of a -> b. */
static double orient(double ax, double ay, double bx, double by, double cx, double cy) {
    return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
}

/* Point (px, py) on the segment a-b, with a tolerance far below a pixel (1e-11 degrees). */
static bool on_segment(double ax, double ay, double bx, double by, double px, double py) {
    double len = hypot(bx - ax, by - ay);
    if (fabs(orient(ax, ay, bx, by, px, py)) > 1e-11 * (len > 1e-300 ? len : 1)) return false;
    return px >= fmin(ax, bx) - 1e-11 && px <= fmax(ax, bx) + 1e-11 &&
           py >= fmin(ay, by) - 1e-11 && py <= fmax(ay, by) + 1e-11;
}

/* Even-odd rule; a point on an edge is inside. */
static bool ring_contains(const eos_lonlat_ring *r, double x, double y) {
    bool in = false;
    for (size_t i = 0, j = r->n - 1; i < r->n; j = i++) {
        double xi = r->lon_deg[i], yi = r->lat_deg[i], xj = r->lon_deg[j], yj = r->lat_deg[j];
        if (on_segment(xi, yi, xj, yj, x, y)) return true;
        if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) in = !in;
    }
    return in;
}

static bool segments_cross(double ax, double ay, double bx, double by, double cx, double cy,
                           double dx, double dy) {
    double d1 = orient(cx, cy, dx, dy, ax, ay), d2 = orient(cx, cy, dx, dy, bx, by);
    double d3 = orient(ax, ay, bx, by, cx, cy), d4 = orient(ax, ay, bx, by, dx, dy);
    if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)))
        return true;
    return on_segment(cx, cy, dx, dy, ax, ay) || on_segment(cx, cy, dx, dy, bx, by) ||
           on_segment(ax, ay, bx, by, cx, cy) || on_segment(ax, ay, bx, by, dx, dy);
}

/* Polygon r against the box [x0, x1] x [y0, y1] (x0 <= x1, y0 <= y1), boundaries included. */
static bool ring_intersects_box(const eos_lonlat_ring *r, double x0, double y0, double x1,
                                double y1) {
    for (size_t i = 0; i < r->n; i++)
        if (r->lon_deg[i] >= x0 && r->lon_deg[i] <= x1 && r->lat_deg[i] >= y0 &&
            r->lat_deg[i] <= y1)
            return true;
    const double cx[4] = { x0, x1, x1, x0 }, cy[4] = { y0, y0, y1, y1 };
    for (int k = 0; k < 4; k++)
        if (ring_contains(r, cx[k], cy[k])) return true;
    for (size_t i = 0, j = r->n - 1; i < r->n; j = i++)
        for (int k = 0; k < 4; k++) {
            int l = (k + 1) % 4;
            if (segments_cross(r->lon_deg[j], r->lat_deg[j], r->lon_deg[i], r->lat_deg[i],
                               cx[k], cy[k], cx[l], cy[l]))
                return true;
        }
    return false;
}

/* ------------------------------------------------------------------ scenes */

/* A footprint around a pole has no lon/lat polygon; eos_geo_footprint marks it with a bbox
 * spanning every longitude and reaching the pole. */
static bool around_pole(const double bbox[4]) {
    return bbox[0] <= -180 && bbox[2] >= 180 && (bbox[3] >= 90 || bbox[1] <= -90);
}

void eos__lon_range(const double bbox[4], double *lo, double *hi) {
    *lo = bbox[0];
    *hi = bbox[2] >= bbox[0] ? bbox[2] : bbox[2] + 360;
}

bool eos__scene_contains(const eos_lonlat_ring *ring, const double bbox[4], double lon,
                         double lat) {
    if (around_pole(bbox)) return lat >= bbox[1] && lat <= bbox[3];
    if (!ring || ring->n < 4) return false;
    for (int k = -1; k <= 1; k++)
        if (ring_contains(ring, lon + 360.0 * k, lat)) return true;
    return false;
}

bool eos__scene_intersects(const eos_lonlat_ring *ring, const double bbox[4],
                           const double box[4]) {
    if (box[1] > bbox[3] || box[3] < bbox[1]) return false;
    if (around_pole(bbox)) return true;
    if (!ring || ring->n < 4) return false;
    double lo, hi;
    eos__lon_range(box, &lo, &hi);
    for (int k = -1; k <= 1; k++)
        if (ring_intersects_box(ring, lo + 360.0 * k, box[1], hi + 360.0 * k, box[3]))
            return true;
    return false;
}
