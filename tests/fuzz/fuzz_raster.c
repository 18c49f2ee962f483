/*
 * tests/fuzz/fuzz_raster.c - libFuzzer target for the raster reader (src/io/raster*.c, norm.c).
 *
 * Feeds arbitrary bytes to eos_raster_open_from_memory (GDAL's GeoTIFF, PNG, JPEG, JPEG 2000,
 * GIF, BMP and WEBP readers behind our open, band selection and mask plan), then does what a
 * caller does next: get_info, every band's description, info_json, and a few small reads that
 * cover each read path (inside, reflect in place, reflect through scratch, nodata padding,
 * decimated, normalised). Windows are bounded (32 x 32) and rasters with many bands or huge
 * sizes skip the reads that would scale with them, so the fuzzer spends its time on parsing
 * rather than on GDAL decoding gigapixels. Seeds: tests/fuzz/corpus/raster/ (regenerate with
 * tests/fuzz/gen_raster_seeds.sh).
 *
 *     make fuzz      or      build-fuzz/fuzz_raster -max_total_time=60 tests/fuzz/corpus/raster
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "eosight/eosight.h"

enum { WIN = 32, MAX_SEL = 16 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static double g_buf[MAX_SEL * WIN * WIN];
static float g_norm[MAX_SEL * WIN * WIN];
static uint8_t g_valid[WIN * WIN];

static void reads(eos_raster *r, const eos_raster_info *in) {
    const struct { int64_t x0, y0; eos_dtype t; eos_pad_mode pad; } w[] = {
        { 0, 0, EOS_DTYPE_U8, EOS_PAD_REFLECT },
        { -5, -7, EOS_DTYPE_F32, EOS_PAD_REFLECT },
        { in->width_px - 10, in->height_px - 3, EOS_DTYPE_U16, EOS_PAD_NODATA },
        { -WIN - 3, -WIN / 2, EOS_DTYPE_F64, EOS_PAD_REFLECT },
        { in->width_px / 2, in->height_px / 2, EOS_DTYPE_I16, EOS_PAD_REFLECT },
    };
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
        eos_raster_read(r, w[i].x0, w[i].y0, WIN, WIN, w[i].t, g_buf, g_valid, w[i].pad);
    eos_norm n;
    eos_norm_identity(&n, in->n_selected);
    eos_raster_read_norm(r, -3, -3, WIN, WIN, &n, g_norm, NULL, EOS_PAD_REFLECT);
    int dw, dh;
    if (in->width_px * in->height_px <= ((int64_t)1 << 22))
        eos_raster_read_decimated(r, WIN, WIN / 2, EOS_DTYPE_F32, g_buf, g_valid, &dw, &dh);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    eos_raster *r = NULL;
    if (eos_raster_open_from_memory(NULL, data, size, "fuzz.tif", NULL, &r) != EOS_OK) return 0;
    eos_raster_info in;
    eos_raster_get_info(r, &in);
    for (int b = 1; b <= in.n_bands && b <= 64; b++) {
        eos_band_info bi;
        eos_raster_band_info(r, b, &bi);
    }
    int sel[EOS_RASTER_MAX_BANDS];
    eos_raster_selected_bands(r, sel);
    char *json = NULL;
    if (in.n_bands <= 1024 && eos_raster_info_json(r, &json) == EOS_OK) eos_free(json);
    if (in.n_selected <= MAX_SEL) reads(r, &in);
    eos_raster_close(r);
    return 0;
}
