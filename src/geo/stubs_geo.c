/* TEMPORARY stubs so the library links while this part is written; deleted when the real
 * implementation lands. Every function fails with EOS_UNSUPPORTED. */
#include "eosight/raster.h"
#include "eosight/mask.h"
#include <string.h>

eos_geotransform eos_geotransform_identity(void) {  eos_geotransform r_; memset(&r_, 0, sizeof r_); return r_; }
void eos_geo_pixel_to_map(const eos_geotransform *t, double col, double row, double *x , double *y ) { (void)t; (void)col; (void)row; (void)x; (void)y;  }
eos_status eos_geo_map_to_pixel(const eos_geotransform *t, double x, double y, double *col , double *row ) { (void)t; (void)x; (void)y; (void)col; (void)row; return EOS_UNSUPPORTED; }
void eos_geotransform_pixel_size(const eos_geotransform *t, double *size_x , double *size_y ) { (void)t; (void)size_x; (void)size_y;  }
eos_status eos_geo_xform_create(eos_ctx *ctx, const eos_crs *src, const eos_crs *dst, eos_geo_xform **out ) { (void)ctx; (void)src; (void)dst; (void)out; return EOS_UNSUPPORTED; }
void eos_geo_xform_free(eos_geo_xform *xf) { (void)xf;  }
eos_status eos_geo_xform_points(eos_geo_xform *xf, size_t n, double *x, double *y) { (void)xf; (void)n; (void)x; (void)y; return EOS_UNSUPPORTED; }
eos_status eos_geo_pixel_to_lonlat(eos_ctx *ctx, const eos_georef *g, double col, double row, double *lon_deg , double *lat_deg ) { (void)ctx; (void)g; (void)col; (void)row; (void)lon_deg; (void)lat_deg; return EOS_UNSUPPORTED; }
eos_status eos_geo_lonlat_to_pixel(eos_ctx *ctx, const eos_georef *g, double lon_deg, double lat_deg, double *col , double *row ) { (void)ctx; (void)g; (void)lon_deg; (void)lat_deg; (void)col; (void)row; return EOS_UNSUPPORTED; }
eos_status eos_geo_footprint(eos_ctx *ctx, const eos_georef *g, int64_t width_px, int64_t height_px, int n_per_edge, eos_lonlat_ring *ring , double bbox[4] ) { (void)ctx; (void)g; (void)width_px; (void)height_px; (void)n_per_edge; (void)ring; (void)bbox; return EOS_UNSUPPORTED; }
eos_status eos_tile_grid_init(eos_tile_grid *grid, int64_t width_px, int64_t height_px, int tile_w, int tile_h, int overlap) { (void)grid; (void)width_px; (void)height_px; (void)tile_w; (void)tile_h; (void)overlap; return EOS_UNSUPPORTED; }
int64_t eos_tile_grid_count(const eos_tile_grid *grid) { (void)grid; return 0; }
eos_status eos_tile_grid_tile(const eos_tile_grid *grid, int64_t i, eos_tile *out ) { (void)grid; (void)i; (void)out; return EOS_UNSUPPORTED; }
eos_status eos_tile_grid_at_pixel(const eos_tile_grid *grid, double col, double row, eos_tile *out ) { (void)grid; (void)col; (void)row; (void)out; return EOS_UNSUPPORTED; }
eos_status eos_tile_grid_at_lonlat(eos_ctx *ctx, const eos_tile_grid *grid, const eos_georef *g, double lon_deg, double lat_deg, eos_tile *out ) { (void)ctx; (void)grid; (void)g; (void)lon_deg; (void)lat_deg; (void)out; return EOS_UNSUPPORTED; }
eos_status eos_tile_bounds(eos_ctx *ctx, const eos_tile *tile, const eos_georef *g, eos_coord_sys sys, double bounds[4] ) { (void)ctx; (void)tile; (void)g; (void)sys; (void)bounds; return EOS_UNSUPPORTED; }
