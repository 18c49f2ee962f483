/* TEMPORARY stubs so the library links while this part is written; deleted when the real
 * implementation lands. Every function fails with EOS_UNSUPPORTED. */
#include "eosight/raster.h"
#include "eosight/mask.h"
#include <string.h>

eos_tile_reader_params eos_tile_reader_default_params(void) {  eos_tile_reader_params r_; memset(&r_, 0, sizeof r_); return r_; }
eos_status eos_tile_reader_create(eos_raster *r, const eos_tile_grid *grid, const eos_tile_reader_params *params, eos_tile_reader **out ) { (void)r; (void)grid; (void)params; (void)out; return EOS_UNSUPPORTED; }
eos_status eos_tile_reader_next(eos_tile_reader *tr, eos_tile *tile , const void **data , const uint8_t **valid , bool *done ) { (void)tr; (void)tile; (void)data; (void)valid; (void)done; return EOS_UNSUPPORTED; }
void eos_tile_reader_free(eos_tile_reader *tr) { (void)tr;  }
