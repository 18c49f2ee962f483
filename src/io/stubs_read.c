/* TEMPORARY stubs so the library links while this part is written; deleted when the real
 * implementation lands. Every function fails with EOS_UNSUPPORTED. */
#include "eosight/raster.h"
#include "eosight/mask.h"
#include <string.h>

eos_raster_open_params eos_raster_default_open_params(void) {  eos_raster_open_params r_; memset(&r_, 0, sizeof r_); return r_; }
eos_status eos_raster_open(eos_ctx *ctx, const char *path, const eos_raster_open_params *params, eos_raster **out ) { (void)ctx; (void)path; (void)params; (void)out; return EOS_UNSUPPORTED; }
eos_status eos_raster_open_from_memory(eos_ctx *ctx, const void *buf, size_t size, const char *name_hint, const eos_raster_open_params *params, eos_raster **out ) { (void)ctx; (void)buf; (void)size; (void)name_hint; (void)params; (void)out; return EOS_UNSUPPORTED; }
eos_status eos_raster_open_stack(eos_ctx *ctx, const char *const *paths, int n_paths, const eos_raster_open_params *params, eos_raster **out ) { (void)ctx; (void)paths; (void)n_paths; (void)params; (void)out; return EOS_UNSUPPORTED; }
void eos_raster_close(eos_raster *r) { (void)r;  }
const char *eos_raster_errmsg(const eos_raster *r) { (void)r; return NULL; }
void eos_raster_get_info(const eos_raster *r, eos_raster_info *info ) { (void)r; (void)info;  }
eos_status eos_raster_band_info(const eos_raster *r, int index, eos_band_info *out ) { (void)r; (void)index; (void)out; return EOS_UNSUPPORTED; }
int eos_raster_selected_bands(const eos_raster *r, int *bands ) { (void)r; (void)bands; return 0; }
eos_status eos_raster_info_json(const eos_raster *r, char **json ) { (void)r; (void)json; return EOS_UNSUPPORTED; }
eos_status eos_raster_read(eos_raster *r, int64_t x0, int64_t y0, int w, int h, eos_dtype dtype, void *buf , uint8_t *valid , eos_pad_mode pad) { (void)r; (void)x0; (void)y0; (void)w; (void)h; (void)dtype; (void)buf; (void)valid; (void)pad; return EOS_UNSUPPORTED; }
eos_status eos_raster_read_decimated(eos_raster *r, int max_w, int max_h, eos_dtype dtype, void *buf , uint8_t *valid , int *w , int *h ) { (void)r; (void)max_w; (void)max_h; (void)dtype; (void)buf; (void)valid; (void)w; (void)h; return EOS_UNSUPPORTED; }
void eos_norm_identity(eos_norm *norm , int n_bands) { (void)norm; (void)n_bands;  }
eos_status eos_norm_from_model(eos_ctx *ctx, const eos_model *m, int n_bands, eos_norm *norm ) { (void)ctx; (void)m; (void)n_bands; (void)norm; return EOS_UNSUPPORTED; }
eos_status eos_norm_apply(const eos_norm *norm, eos_dtype src_dtype, const void *src, int64_t n_px, const uint8_t *valid, float *dst ) { (void)norm; (void)src_dtype; (void)src; (void)n_px; (void)valid; (void)dst; return EOS_UNSUPPORTED; }
eos_status eos_raster_read_norm(eos_raster *r, int64_t x0, int64_t y0, int w, int h, const eos_norm *norm, float *dst , uint8_t *valid , eos_pad_mode pad) { (void)r; (void)x0; (void)y0; (void)w; (void)h; (void)norm; (void)dst; (void)valid; (void)pad; return EOS_UNSUPPORTED; }
