/* TEMPORARY stubs so the library links while this part is written; deleted when the real
 * implementation lands. Every function fails with EOS_UNSUPPORTED. */
#include "eosight/raster.h"
#include "eosight/mask.h"
#include <string.h>

eos_raster_writer_params eos_raster_writer_default_params(void) {  eos_raster_writer_params r_; memset(&r_, 0, sizeof r_); return r_; }
eos_status eos_raster_writer_create(eos_ctx *ctx, const char *path, const eos_raster_writer_params *params, eos_raster_writer **out ) { (void)ctx; (void)path; (void)params; (void)out; return EOS_UNSUPPORTED; }
eos_status eos_raster_writer_write(eos_raster_writer *w, int64_t x0, int64_t y0, int width, int height, eos_dtype dtype, const void *buf) { (void)w; (void)x0; (void)y0; (void)width; (void)height; (void)dtype; (void)buf; return EOS_UNSUPPORTED; }
const char *eos_raster_writer_errmsg(const eos_raster_writer *w) { (void)w; return NULL; }
eos_status eos_raster_writer_close(eos_ctx *ctx, eos_raster_writer *w) { (void)ctx; (void)w; return EOS_UNSUPPORTED; }
void eos_raster_writer_discard(eos_raster_writer *w) { (void)w;  }
eos_quicklook_params eos_quicklook_default_params(void) {  eos_quicklook_params r_; memset(&r_, 0, sizeof r_); return r_; }
eos_status eos_quicklook_rgb(eos_ctx *ctx, eos_raster *r, const eos_quicklook_params *params, const char *out_path) { (void)ctx; (void)r; (void)params; (void)out_path; return EOS_UNSUPPORTED; }
eos_status eos_quicklook_overlay(eos_ctx *ctx, eos_raster *image, eos_raster *mask, const eos_rgba *colors, const char *const *class_names, int n_classes, double alpha, const eos_quicklook_params *params, const char *out_path) { (void)ctx; (void)image; (void)mask; (void)colors; (void)class_names; (void)n_classes; (void)alpha; (void)params; (void)out_path; return EOS_UNSUPPORTED; }
