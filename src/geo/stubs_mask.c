/* TEMPORARY stubs so the library links while this part is written; deleted when the real
 * implementation lands. Every function fails with EOS_UNSUPPORTED. */
#include "eosight/raster.h"
#include "eosight/mask.h"
#include <string.h>

eos_status eos_mask_erode (const uint8_t *src, int64_t width, int64_t height, int radius_px, uint8_t *dst ) { (void)src; (void)width; (void)height; (void)radius_px; (void)dst; return EOS_UNSUPPORTED; }
eos_status eos_mask_dilate(const uint8_t *src, int64_t width, int64_t height, int radius_px, uint8_t *dst ) { (void)src; (void)width; (void)height; (void)radius_px; (void)dst; return EOS_UNSUPPORTED; }
eos_status eos_mask_open (const uint8_t *src, int64_t width, int64_t height, int radius_px, uint8_t *dst ) { (void)src; (void)width; (void)height; (void)radius_px; (void)dst; return EOS_UNSUPPORTED; }
eos_status eos_mask_close (const uint8_t *src, int64_t width, int64_t height, int radius_px, uint8_t *dst ) { (void)src; (void)width; (void)height; (void)radius_px; (void)dst; return EOS_UNSUPPORTED; }
eos_status eos_mask_remove_small(uint8_t *mask, int64_t width, int64_t height, int64_t min_px, int64_t max_hole_px) { (void)mask; (void)width; (void)height; (void)min_px; (void)max_hole_px; return EOS_UNSUPPORTED; }
eos_mask_clean_params eos_mask_clean_default_params(void) {  eos_mask_clean_params r_; memset(&r_, 0, sizeof r_); return r_; }
int64_t eos_mask_area_to_px(const eos_georef *g, int64_t width_px, int64_t height_px, double area_m2) { (void)g; (void)width_px; (void)height_px; (void)area_m2; return 0; }
eos_status eos_mask_clean(uint8_t *mask, int64_t width, int64_t height, const eos_mask_clean_params *params) { (void)mask; (void)width; (void)height; (void)params; return EOS_UNSUPPORTED; }
eos_polygonize_params eos_polygonize_default_params(void) {  eos_polygonize_params r_; memset(&r_, 0, sizeof r_); return r_; }
eos_status eos_polygonize(eos_ctx *ctx, const char *mask_path, const char *out_path, const eos_polygonize_params *params, eos_polygonize_stats *stats ) { (void)ctx; (void)mask_path; (void)out_path; (void)params; (void)stats; return EOS_UNSUPPORTED; }
