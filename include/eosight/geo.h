/*
 * eosight/geo.h - coordinate reference systems, geotransforms, footprints and tile grids.
 *
 * Three coordinate systems appear everywhere in eosight, and every function says which it takes:
 *
 *   pixel   (col, row) in pixels of one raster, as doubles. (0, 0) is the upper-left CORNER of
 *           the upper-left pixel; the centre of pixel (i, j) is (i + 0.5, j + 0.5). This is
 *           GDAL's convention ("pixel is area").
 *   map     (x, y) in the raster's own CRS (metres for UTM, degrees for EPSG:4326, ...),
 *           related to pixel coordinates by the affine geotransform below.
 *   lonlat  (lon_deg, lat_deg) on WGS 84 (EPSG:4326), ALWAYS longitude first, whatever axis
 *           order the EPSG database declares. Every transform sets OSR's traditional GIS
 *           axis order explicitly, so no function here ever returns (lat, lon).
 *
 * The geotransform gt[6] is GDAL's:
 *     x = gt[0] + col * gt[1] + row * gt[2]
 *     y = gt[3] + col * gt[4] + row * gt[5]
 * gt[2] and gt[4] are zero for north-up rasters; gt[5] is negative for north-up rasters (rows go
 * south). Rotated and sheared transforms are supported throughout.
 *
 * Thread safety: eos_crs and eos_geo_xform handles are immutable after creation and may be
 * used from any thread, except that one eos_geo_xform must not be used by two threads at once
 * (PROJ transformation objects keep per-call state). The pure functions on eos_geotransform
 * and eos_tile_grid are thread-safe.
 */
#ifndef EOSIGHT_GEO_H
#define EOSIGHT_GEO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eosight/model.h"
#include "eosight/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eos_crs       eos_crs;
typedef struct eos_geo_xform eos_geo_xform;

/* ------------------------------------------------------------------ geotransform */

typedef struct eos_geotransform {
    double gt[6];   /* see the file comment */
} eos_geotransform;

/* The identity transform (map = pixel), used by rasters that carry no georeferencing. */
eos_geotransform eos_geotransform_identity(void);

/* Pixel -> map. Pure, always succeeds. */
void eos_geo_pixel_to_map(const eos_geotransform *t, double col, double row,
                          double *x /* OUT */, double *y /* OUT */);

/* Map -> pixel through the inverse transform. EOS_INVALID_ARG when the transform is singular
 * (determinant gt[1]*gt[5] - gt[2]*gt[4] is 0). */
eos_status eos_geo_map_to_pixel(const eos_geotransform *t, double x, double y,
                                double *col /* OUT */, double *row /* OUT */);

/* Ground size of one pixel along columns and rows, in map units (hypot of the column and row
 * vectors: correct for rotated transforms). */
void eos_geotransform_pixel_size(const eos_geotransform *t, double *size_x /* OUT */,
                                 double *size_y /* OUT */);

/* ------------------------------------------------------------------ CRS */

/* Create a CRS from any definition OSR's SetFromUserInput accepts: "EPSG:32632", a WKT (1 or 2)
 * string, a PROJ string, "OGC:CRS84". Errors: EOS_PARSE with the reason in eos_ctx_errmsg(ctx)
 * (ctx may be NULL: the detail is then dropped); EOS_NOMEM. Free with eos_crs_free(). */
eos_status eos_crs_create(eos_ctx *ctx, const char *definition, eos_crs **out /* OUT */);
/* Shortcut for eos_crs_create(ctx, "EPSG:<code>"). */
eos_status eos_crs_from_epsg(eos_ctx *ctx, int epsg, eos_crs **out /* OUT */);
/* An independent copy (the original may be freed). */
eos_status eos_crs_clone(const eos_crs *crs, eos_crs **out /* OUT */);
/* NULL is a no-op. */
void eos_crs_free(eos_crs *crs);

/* WKT (WKT1 as GDAL writes it into GeoTIFFs), owned by crs, valid until eos_crs_free. */
const char *eos_crs_wkt(const eos_crs *crs);
/* EPSG code when the CRS is (or is equivalent to) one in the EPSG database, else 0. */
int         eos_crs_epsg(const eos_crs *crs);
/* Short human name ("WGS 84 / UTM zone 32N"), owned by crs. */
const char *eos_crs_name(const eos_crs *crs);
/* True for geographic (lon/lat) CRSs, false for projected ones. */
bool        eos_crs_is_geographic(const eos_crs *crs);
/* Metres per linear unit of a projected CRS (1 for metres, 0.3048 for feet); 0 for geographic. */
double      eos_crs_linear_units_m(const eos_crs *crs);
/* True when both describe the same CRS (OSR IsSame with traditional axis order). */
bool        eos_crs_equal(const eos_crs *a, const eos_crs *b);

/* ------------------------------------------------------------------ CRS transforms */

/* A transformation from CRS `src` to CRS `dst` (src == NULL or dst == NULL means WGS 84
 * lon/lat). Both are copied; they may be freed after the call. Errors: EOS_UNSUPPORTED when
 * PROJ knows no path between them, EOS_NOMEM. Free with eos_geo_xform_free(). */
eos_status eos_geo_xform_create(eos_ctx *ctx, const eos_crs *src, const eos_crs *dst,
                                eos_geo_xform **out /* OUT */);
void       eos_geo_xform_free(eos_geo_xform *xf);

/* Transform n points in place (x[i], y[i]); lon/lat in degrees with lon in x. Points that
 * cannot be transformed (outside the projection's domain) are set to NaN and make the call
 * return EOS_INVALID_ARG after all other points have been transformed. */
eos_status eos_geo_xform_points(eos_geo_xform *xf, size_t n, double *x, double *y);

/* ------------------------------------------------------------------ georeferencing */

/* What ties a raster's pixels to the Earth: a geotransform and a CRS (borrowed; NULL when the
 * raster has none). */
typedef struct eos_georef {
    eos_geotransform transform;
    const eos_crs   *crs;
    bool             has_transform;   /* false: transform is the identity, nothing is known */
} eos_georef;

/* Pixel (col, row) -> WGS 84 lon/lat. EOS_INVALID_ARG when the georef has no CRS or
 * transform, EOS_UNSUPPORTED when the CRS cannot be transformed to WGS 84. */
eos_status eos_geo_pixel_to_lonlat(eos_ctx *ctx, const eos_georef *g, double col, double row,
                                   double *lon_deg /* OUT */, double *lat_deg /* OUT */);
/* WGS 84 lon/lat -> pixel (col, row); the result may lie outside the raster. Errors as above. */
eos_status eos_geo_lonlat_to_pixel(eos_ctx *ctx, const eos_georef *g, double lon_deg,
                                   double lat_deg, double *col /* OUT */, double *row /* OUT */);

/* A polygon ring in lon/lat: n points, closed (last == first), counter-clockwise as
 * RFC 7946 asks for exterior rings. Caller frees lon/lat with eos_free. */
typedef struct eos_lonlat_ring {
    size_t  n;
    double *lon_deg;
    double *lat_deg;
} eos_lonlat_ring;

/* Footprint of a width_px x height_px raster in WGS 84: its outline with each edge densified
 * to `n_per_edge` segments (>= 1; 1 gives the 4 corners only), and its lon/lat bounding box
 * bbox = {west, south, east, north}. Densifying matters for projected CRSs whose straight
 * edges are curves in lon/lat. ring may be NULL when only the box is wanted.
 * The ring has 4 * n_per_edge + 1 points and starts at the upper-left corner (pixel (0, 0)).
 * Its longitudes are continuous: consecutive points differ by less than 180 degrees, so a
 * footprint that crosses the antimeridian has longitudes beyond +-180 on one side (e.g. 175 ..
 * 185) rather than a jump, and its bbox then has west > east (e.g. west 175, east -175), as
 * RFC 7946 section 5.2 does; bbox longitudes are always within [-180, 180]. A footprint that
 * encloses a pole has no lon/lat polygon: its ring is returned as PROJ gives it (not
 * necessarily continuous or counter-clockwise) and its bbox is {-180, south, 180, 90} (north
 * pole) or {-180, -90, 180, north}. For a raster whose CRS is WGS 84 itself the outline is
 * the map coordinates unchanged (no PROJ round trip). Errors as eos_geo_pixel_to_lonlat;
 * EOS_INVALID_ARG for an empty raster, n_per_edge outside [1, 65536] or an outline point
 * without lon/lat; EOS_NOMEM. */
eos_status eos_geo_footprint(eos_ctx *ctx, const eos_georef *g, int64_t width_px,
                             int64_t height_px, int n_per_edge, eos_lonlat_ring *ring /* OUT */,
                             double bbox[4] /* OUT */);

/* ------------------------------------------------------------------ tile grids */

/* A grid of tiles over a width_px x height_px raster, with stride_x = tile_w - overlap (same
 * for y). Tile (tx, ty) OWNS the core window
 *     x in [tx*stride_x, min((tx+1)*stride_x, width_px)),  y likewise,
 * and is READ as the tile_w x tile_h window starting overlap/2 pixels up and left of its core,
 * so the core sits at offset (overlap/2, overlap/2) inside every tile and each read has the
 * same size. Read windows may extend outside the raster; the reader fills those pixels by
 * mirror reflection (edge pixel not repeated: ... 2 1 | 0 1 2 ..., reflected again as often
 * as needed when the raster is smaller than the tile). The cores partition the raster
 * exactly: every pixel belongs to the core of one tile, so writing each tile's core
 * re-assembles the whole scene, and predictions near a tile border come from pixels that had
 * overlap/2 of context. n_tiles_x = ceil(width_px / stride_x). Every core is stride_x wide
 * except the last one of a row, which is width_px - (n_tiles_x - 1) * stride_x >= 1 wide; its
 * read window still has tile_w columns and reaches past the raster's right edge (likewise
 * for rows). Example: width 10, tile 6, overlap 2 (stride 4): cores [0,4) [4,8) [8,10), read
 * windows [-1,5) [3,9) [7,13). */
typedef struct eos_tile_grid {
    int64_t width_px, height_px;   /* raster size */
    int     tile_w, tile_h;        /* size of every tile as read (model input size) */
    int     overlap;               /* pixels shared by neighbouring reads; even, < tile */
    int64_t n_tiles_x, n_tiles_y;  /* filled by eos_tile_grid_init */
} eos_tile_grid;

/* One tile: its index, the window to read (may extend outside the raster: pad by reflection)
 * and the core window it owns, both in pixel coordinates of the raster. */
typedef struct eos_tile {
    int64_t tx, ty;                   /* tile column, row */
    int64_t read_x0, read_y0;         /* upper-left of the read window (may be negative) */
    int     read_w, read_h;           /* == tile_w, tile_h */
    int64_t core_x0, core_y0;         /* upper-left of the owned core, inside the raster */
    int     core_w, core_h;           /* size of the core (smaller at the right/bottom edge) */
} eos_tile;

/* Initialise a grid. EOS_INVALID_ARG for non-positive sizes, a negative or odd overlap, an
 * overlap >= tile_w or >= tile_h, or more tiles than int64_t counts; eos_tile_grid_check says
 * which (this function has no context to carry the message). */
eos_status eos_tile_grid_init(eos_tile_grid *grid, int64_t width_px, int64_t height_px,
                              int tile_w, int tile_h, int overlap);
/* NULL when eos_tile_grid_init would accept these parameters, else a static English sentence
 * saying what is wrong ("overlap must be even ..."), for the caller's error message. */
const char *eos_tile_grid_check(int64_t width_px, int64_t height_px, int tile_w, int tile_h,
                                int overlap);
/* Total number of tiles; 0 for NULL or a grid eos_tile_grid_init would not have produced. */
int64_t eos_tile_grid_count(const eos_tile_grid *grid);
/* Tile number i (row-major: i = ty * n_tiles_x + tx). EOS_INVALID_ARG out of range or for an
 * invalid grid (the functions below check the grid the same way). */
eos_status eos_tile_grid_tile(const eos_tile_grid *grid, int64_t i, eos_tile *out /* OUT */);
/* The tile whose core contains the point (col, row), i.e. pixel (floor(col), floor(row)):
 * cores are half-open, so a point on the border between two cores belongs to the right/lower
 * one. EOS_INVALID_ARG outside [0, width_px) x [0, height_px) (NaN included). */
eos_status eos_tile_grid_at_pixel(const eos_tile_grid *grid, double col, double row,
                                  eos_tile *out /* OUT */);
/* The tile whose core contains a WGS 84 point; EOS_INVALID_ARG when the point falls outside
 * the raster. */
eos_status eos_tile_grid_at_lonlat(eos_ctx *ctx, const eos_tile_grid *grid, const eos_georef *g,
                                   double lon_deg, double lat_deg, eos_tile *out /* OUT */);

/* Coordinate system of eos_tile_bounds. */
typedef enum eos_coord_sys {
    EOS_COORD_PIXEL  = 0,
    EOS_COORD_MAP    = 1,
    EOS_COORD_LONLAT = 2
} eos_coord_sys;

/* Bounding box {xmin, ymin, xmax, ymax} of a tile's core window in the chosen system
 * (lonlat: {west, south, east, north}, computed from the core's outline densified to 16
 * segments per edge, with eos_geo_footprint's antimeridian rule). EOS_COORD_MAP needs g and
 * uses the identity when g has no transform. Errors as eos_geo_pixel_to_lonlat for
 * EOS_COORD_LONLAT; EOS_INVALID_ARG for an unknown sys. */
eos_status eos_tile_bounds(eos_ctx *ctx, const eos_tile *tile, const eos_georef *g,
                           eos_coord_sys sys, double bounds[4] /* OUT */);

#ifdef __cplusplus
}
#endif
#endif /* EOSIGHT_GEO_H */
