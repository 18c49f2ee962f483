/*
 * src/geo/grid.c - tile grids over a raster: tile windows, point lookup and tile bounds
 * (include/eosight/geo.h, the comment above eos_tile_grid is the specification).
 *
 * Tile (tx, ty) owns the core [tx*stride, min((tx+1)*stride, size)) on each axis, stride =
 * tile - overlap, and is read as the full tile starting overlap/2 before its core. Everything is
 * int64 arithmetic arranged so that nothing overflows for any raster size eos_tile_grid_init
 * accepts: core ends are computed as min(stride, size - start), never as start + stride, and
 * the tile count is checked against INT64_MAX at init.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>

#include "core/err.h"
#include "eosight/geo.h"

/* Segments per core edge of the densified outline behind EOS_COORD_LONLAT tile bounds. */
#define TILE_BOUNDS_PER_EDGE 16

const char *eos_tile_grid_check(int64_t width_px, int64_t height_px, int tile_w, int tile_h,
                                int overlap) {
    if (width_px <= 0 || height_px <= 0) return "raster size must be positive";
    if (tile_w <= 0 || tile_h <= 0) return "tile size must be positive";
    if (overlap < 0) return "overlap must not be negative";
    if (overlap % 2) return "overlap must be even (the core sits at overlap/2 in each tile)";
    if (overlap >= tile_w || overlap >= tile_h) return "overlap must be smaller than the tile";
    int64_t nx = width_px / (tile_w - overlap) + (width_px % (tile_w - overlap) != 0);
    int64_t ny = height_px / (tile_h - overlap) + (height_px % (tile_h - overlap) != 0);
    if (nx > INT64_MAX / ny) return "the number of tiles does not fit in 64 bits";
    return NULL;
}

eos_status eos_tile_grid_init(eos_tile_grid *grid, int64_t width_px, int64_t height_px,
                              int tile_w, int tile_h, int overlap) {
    if (!grid || eos_tile_grid_check(width_px, height_px, tile_w, tile_h, overlap))
        return EOS_INVALID_ARG;
    int sx = tile_w - overlap, sy = tile_h - overlap;
    grid->width_px = width_px;
    grid->height_px = height_px;
    grid->tile_w = tile_w;
    grid->tile_h = tile_h;
    grid->overlap = overlap;
    grid->n_tiles_x = width_px / sx + (width_px % sx != 0);
    grid->n_tiles_y = height_px / sy + (height_px % sy != 0);
    return EOS_OK;
}

/* A grid as eos_tile_grid_init leaves it: callers may fill the struct by hand, and a zero
 * stride or a wrong count would otherwise divide by zero or produce negative cores. */
static bool grid_valid(const eos_tile_grid *g) {
    if (!g || eos_tile_grid_check(g->width_px, g->height_px, g->tile_w, g->tile_h, g->overlap))
        return false;
    int sx = g->tile_w - g->overlap, sy = g->tile_h - g->overlap;
    return g->n_tiles_x == g->width_px / sx + (g->width_px % sx != 0) &&
           g->n_tiles_y == g->height_px / sy + (g->height_px % sy != 0);
}

int64_t eos_tile_grid_count(const eos_tile_grid *grid) {
    return grid_valid(grid) ? grid->n_tiles_x * grid->n_tiles_y : 0;
}

/* Core start and size of tile index t along an axis of `size` pixels. */
static void axis_core(int64_t t, int stride, int64_t size, int64_t *x0, int *w) {
    *x0 = t * stride;
    int64_t left = size - *x0;
    *w = (int)(left < stride ? left : stride);
}

static void fill_tile(const eos_tile_grid *g, int64_t tx, int64_t ty, eos_tile *out) {
    int half = g->overlap / 2;
    out->tx = tx;
    out->ty = ty;
    axis_core(tx, g->tile_w - g->overlap, g->width_px, &out->core_x0, &out->core_w);
    axis_core(ty, g->tile_h - g->overlap, g->height_px, &out->core_y0, &out->core_h);
    out->read_x0 = out->core_x0 - half;
    out->read_y0 = out->core_y0 - half;
    out->read_w = g->tile_w;
    out->read_h = g->tile_h;
}

eos_status eos_tile_grid_tile(const eos_tile_grid *grid, int64_t i, eos_tile *out) {
    if (!grid_valid(grid) || !out || i < 0 || i >= eos_tile_grid_count(grid))
        return EOS_INVALID_ARG;
    fill_tile(grid, i % grid->n_tiles_x, i / grid->n_tiles_x, out);
    return EOS_OK;
}

eos_status eos_tile_grid_at_pixel(const eos_tile_grid *grid, double col, double row,
                                  eos_tile *out) {
    if (!grid_valid(grid) || !out) return EOS_INVALID_ARG;
    /* the 2^62 bound keeps the int64 conversion defined where (double)width_px rounds up */
    if (!(col >= 0.0 && col < (double)grid->width_px && col < 0x1p62)) return EOS_INVALID_ARG;
    if (!(row >= 0.0 && row < (double)grid->height_px && row < 0x1p62)) return EOS_INVALID_ARG;
    int64_t c = (int64_t)col, r = (int64_t)row;
    if (c >= grid->width_px || r >= grid->height_px) return EOS_INVALID_ARG;
    fill_tile(grid, c / (grid->tile_w - grid->overlap), r / (grid->tile_h - grid->overlap), out);
    return EOS_OK;
}

eos_status eos_tile_grid_at_lonlat(eos_ctx *ctx, const eos_tile_grid *grid, const eos_georef *g,
                                   double lon_deg, double lat_deg, eos_tile *out) {
    double col, row;
    if (!grid || !out) return EOS_INVALID_ARG;
    EOS_TRY(eos_geo_lonlat_to_pixel(ctx, g, lon_deg, lat_deg, &col, &row));
    if (eos_tile_grid_at_pixel(grid, col, row, out) == EOS_OK) return EOS_OK;
    eos_err err = { 0 };
    eos_err_set(&err, EOS_INVALID_ARG, "lon/lat (%.10g, %.10g) is pixel (%.10g, %.10g), outside "
                "the %lld x %lld raster", lon_deg, lat_deg, col, row,
                (long long)grid->width_px, (long long)grid->height_px);
    return eos__ctx_fail(ctx, &err);
}

static void map_bounds(const eos_geotransform *t, const eos_tile *tile, double b[4]) {
    double c0 = (double)tile->core_x0, r0 = (double)tile->core_y0;
    double cs[4] = { c0, c0 + tile->core_w, c0, c0 + tile->core_w };
    double rs[4] = { r0, r0, r0 + tile->core_h, r0 + tile->core_h };
    for (int k = 0; k < 4; k++) {
        double x, y;
        eos_geo_pixel_to_map(t, cs[k], rs[k], &x, &y);
        b[0] = k ? fmin(b[0], x) : x;
        b[1] = k ? fmin(b[1], y) : y;
        b[2] = k ? fmax(b[2], x) : x;
        b[3] = k ? fmax(b[3], y) : y;
    }
}

/* The lonlat bbox of the core: the footprint of a georef moved to the core's corner. */
static eos_status lonlat_bounds(eos_ctx *ctx, const eos_tile *tile, const eos_georef *g,
                                double b[4]) {
    eos_georef sub = *g;
    const double *gt = g->transform.gt;
    double c0 = (double)tile->core_x0, r0 = (double)tile->core_y0;
    sub.transform.gt[0] = gt[0] + c0 * gt[1] + r0 * gt[2];
    sub.transform.gt[3] = gt[3] + c0 * gt[4] + r0 * gt[5];
    return eos_geo_footprint(ctx, &sub, tile->core_w, tile->core_h, TILE_BOUNDS_PER_EDGE, NULL,
                             b);
}

eos_status eos_tile_bounds(eos_ctx *ctx, const eos_tile *tile, const eos_georef *g,
                           eos_coord_sys sys, double bounds[4]) {
    if (!tile || !bounds) return EOS_INVALID_ARG;
    switch (sys) {
    case EOS_COORD_PIXEL:
        bounds[0] = (double)tile->core_x0;
        bounds[1] = (double)tile->core_y0;
        bounds[2] = (double)(tile->core_x0 + tile->core_w);
        bounds[3] = (double)(tile->core_y0 + tile->core_h);
        return EOS_OK;
    case EOS_COORD_MAP: {
        if (!g) return EOS_INVALID_ARG;
        eos_geotransform t = g->has_transform ? g->transform : eos_geotransform_identity();
        map_bounds(&t, tile, bounds);
        return EOS_OK;
    }
    case EOS_COORD_LONLAT:
        return g ? lonlat_bounds(ctx, tile, g, bounds)
                 : eos_geo_footprint(ctx, NULL, 1, 1, 1, NULL, bounds);
    }
    return EOS_INVALID_ARG;
}
