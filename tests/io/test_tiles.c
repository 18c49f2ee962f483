/*
 * tests/io/test_tiles.c - tiled reading and re-assembly (src/io/tiles.c).
 *
 * A synthetic u16 GeoTIFF whose pixel values encode (x, y, band) is read as tile grids of several
 * sizes and overlaps, inline and with read-ahead. Every pixel of every tile is checked against
 * the mirror-reflected source coordinate computed here by hand, the cores are written with
 * eos_raster_writer_write_tile, and the written file must equal the input exactly. Memory held
 * by the reader is checked through eos_malloc's counters, and a read error in the middle of a
 * scene must reach the consumer after the tiles before it.
 */
#include <gdal.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/test.h"
#include "eosight/raster.h"

static char g_dir[256];

static uint16_t val(int64_t x, int64_t y, int b) {
    return (uint16_t)((x * 7 + y * 131 + b * 10007) % 65521);
}

/* A tiled (block 64) GeoTIFF with values val(); returns its path in a static buffer. */
static const char *make_scene(const char *name, int w, int h, int n_bands, bool tiled) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    GDALAllRegister();
    GDALDriverH drv = GDALGetDriverByName("GTiff");
    char *opts[] = { tiled ? "TILED=YES" : "TILED=NO", "BLOCKXSIZE=64", "BLOCKYSIZE=64", NULL };
    GDALDatasetH ds = GDALCreate(drv, path, w, h, n_bands, GDT_UInt16, opts);
    if (!ds) return NULL;
    double gt[6] = { 500000.0, 10.0, 0.0, 4000000.0, 0.0, -10.0 };
    GDALSetGeoTransform(ds, gt);
    uint16_t *buf = malloc((size_t)w * (size_t)h * (size_t)n_bands * 2);
    for (int b = 0; b < n_bands; b++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) buf[((size_t)b * h + y) * w + x] = val(x, y, b);
    CPLErr e = GDALDatasetRasterIO(ds, GF_Write, 0, 0, w, h, buf, w, h, GDT_UInt16, n_bands, NULL,
                                   0, 0, 0);
    free(buf);
    GDALClose(ds);
    return e == CE_None ? path : NULL;
}

/* Mirror reflection without repeating the edge, applied as often as needed. */
static int64_t reflect(int64_t i, int64_t n) {
    if (n == 1) return 0;
    int64_t period = 2 * (n - 1);
    int64_t m = ((i % period) + period) % period;
    return m < n ? m : period - m;
}

static void check_grid(const char *path, int w, int h, int nb, int tile, int overlap, int ahead) {
    eos_raster *r;
    ASSERT_EQ_INT(eos_raster_open(NULL, path, NULL, &r), EOS_OK);
    eos_tile_grid grid;
    ASSERT_EQ_INT(eos_tile_grid_init(&grid, w, h, tile, tile, overlap), EOS_OK);
    eos_tile_reader_params tp = eos_tile_reader_default_params();
    tp.dtype = EOS_DTYPE_U16;
    tp.n_ahead = ahead;
    eos_tile_reader *tr;
    ASSERT_EQ_INT(eos_tile_reader_create(r, &grid, &tp, &tr), EOS_OK);

    char out[512];
    snprintf(out, sizeof out, "%s/out_%d_%d_%d.tif", g_dir, tile, overlap, ahead);
    eos_raster_writer_params wp = eos_raster_writer_default_params();
    wp.width_px = w;
    wp.height_px = h;
    wp.n_bands = nb;
    wp.dtype = EOS_DTYPE_U16;
    wp.block_px = 64;
    eos_raster_writer *wr;
    ASSERT_EQ_INT(eos_raster_writer_create(NULL, out, &wp, &wr), EOS_OK);

    int64_t n = 0, bad = 0;
    for (;;) {
        eos_tile t;
        const void *data;
        const uint8_t *valid;
        bool done;
        ASSERT_EQ_INT(eos_tile_reader_next(tr, &t, &data, &valid, &done), EOS_OK);
        if (done) break;
        EXPECT_EQ_INT(t.read_w, tile);
        EXPECT_EQ_INT(t.read_h, tile);
        EXPECT_EQ_INT(t.core_x0 - t.read_x0, overlap / 2);
        const uint16_t *px = data;
        for (int b = 0; b < nb; b++)
            for (int y = 0; y < tile; y++)
                for (int x = 0; x < tile; x++) {
                    int64_t sx = reflect(t.read_x0 + x, w), sy = reflect(t.read_y0 + y, h);
                    if (px[((size_t)b * tile + y) * tile + x] != val(sx, sy, b)) bad++;
                }
        for (int i = 0; i < tile * tile; i++) bad += valid[i] != 1;
        EXPECT_EQ_INT(eos_raster_writer_write_tile(wr, &grid, &t, nb, EOS_DTYPE_U16, data), EOS_OK);
        n++;
    }
    EXPECT_EQ_INT(bad, 0);
    EXPECT_EQ_INT(n, eos_tile_grid_count(&grid));
    eos_tile_reader_free(tr);
    ASSERT_EQ_INT(eos_raster_writer_close(NULL, wr), EOS_OK);

    /* the re-assembled scene equals the input exactly */
    GDALDatasetH ds = GDALOpen(out, GA_ReadOnly);
    ASSERT_TRUE(ds != NULL);
    uint16_t *buf = malloc((size_t)w * (size_t)h * (size_t)nb * 2);
    EXPECT_EQ_INT(GDALDatasetRasterIO(ds, GF_Read, 0, 0, w, h, buf, w, h, GDT_UInt16, nb, NULL, 0, 0, 0),
                  CE_None);
    int64_t diff = 0;
    for (int b = 0; b < nb; b++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) diff += buf[((size_t)b * h + y) * w + x] != val(x, y, b);
    EXPECT_EQ_INT(diff, 0);
    free(buf);
    GDALClose(ds);
    unlink(out);
    eos_raster_close(r);
}

static void test_reassemble_no_overlap(void) {
    const char *p = make_scene("a.tif", 300, 170, 3, true);
    ASSERT_TRUE(p != NULL);
    check_grid(p, 300, 170, 3, 64, 0, 0);
    check_grid(p, 300, 170, 3, 100, 0, 2);
}

static void test_reassemble_overlap(void) {
    const char *p = make_scene("b.tif", 300, 170, 3, false);
    ASSERT_TRUE(p != NULL);
    check_grid(p, 300, 170, 3, 64, 16, 0);
    check_grid(p, 300, 170, 3, 96, 32, 1);
    check_grid(p, 300, 170, 3, 128, 64, 3);
}

static void test_scene_smaller_than_tile(void) {
    const char *p = make_scene("c.tif", 37, 5, 2, true);
    ASSERT_TRUE(p != NULL);
    check_grid(p, 37, 5, 2, 64, 16, 0);
    check_grid(p, 37, 5, 2, 64, 16, 2);
    const char *q = make_scene("d.tif", 1, 1, 1, true);
    ASSERT_TRUE(q != NULL);
    check_grid(q, 1, 1, 1, 16, 8, 1);
}

/* The reader holds (n_ahead + 1) tiles whatever the scene size. */
static void test_bounded_memory(void) {
    const char *p = make_scene("e.tif", 1200, 900, 4, true);
    ASSERT_TRUE(p != NULL);
    eos_raster *r;
    ASSERT_EQ_INT(eos_raster_open(NULL, p, NULL, &r), EOS_OK);
    eos_tile_grid grid;
    ASSERT_EQ_INT(eos_tile_grid_init(&grid, 1200, 900, 64, 64, 8), EOS_OK);
    eos_tile_reader_params tp = eos_tile_reader_default_params();
    tp.dtype = EOS_DTYPE_F32;
    tp.n_ahead = 2;
    eos_alloc_stats s0, s1;
    eos_alloc_reset_peak();
    eos_alloc_get_stats(&s0);
    eos_tile_reader *tr;
    ASSERT_EQ_INT(eos_tile_reader_create(r, &grid, &tp, &tr), EOS_OK);
    int64_t n = 0;
    bool done = false;
    while (!done) {
        eos_tile t;
        const void *data;
        const uint8_t *valid;
        ASSERT_EQ_INT(eos_tile_reader_next(tr, &t, &data, &valid, &done), EOS_OK);
        n += !done;
    }
    eos_tile_reader_free(tr);
    eos_alloc_get_stats(&s1);
    EXPECT_EQ_INT(n, eos_tile_grid_count(&grid));
    int64_t tile_bytes = 64 * 64 * (4 * 4 + 1);
    int64_t scene_bytes = 1200LL * 900 * 4 * 4;
    int64_t held = s1.peak_bytes - s0.live_bytes;
    /* 3 slots plus scratch (a tile of source values) and small records */
    EXPECT_TRUE(held <= 5 * tile_bytes + 65536);
    EXPECT_TRUE(held < scene_bytes / 20);
    eos_raster_close(r);
}

/* A read error in the middle of the scene reaches the consumer in order, then the end. */
static void test_error_propagates(void) {
    const char *p = make_scene("f.tif", 256, 256, 1, true);
    ASSERT_TRUE(p != NULL);
    char path[512];
    snprintf(path, sizeof path, "%s", p);
    /* cut the file in half: the header survives, later blocks are gone */
    FILE *f = fopen(path, "rb+");
    ASSERT_TRUE(f != NULL);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    ASSERT_EQ_INT(truncate(path, size / 2), 0);
    for (int ahead = 0; ahead <= 2; ahead += 2) {
        eos_raster *r;
        if (eos_raster_open(NULL, path, NULL, &r) != EOS_OK) continue;   /* header gone: fine */
        eos_tile_grid grid;
        ASSERT_EQ_INT(eos_tile_grid_init(&grid, 256, 256, 64, 64, 0), EOS_OK);
        eos_tile_reader_params tp = eos_tile_reader_default_params();
        tp.dtype = EOS_DTYPE_U16;
        tp.n_ahead = ahead;
        eos_tile_reader *tr;
        ASSERT_EQ_INT(eos_tile_reader_create(r, &grid, &tp, &tr), EOS_OK);
        eos_status st = EOS_OK;
        bool done = false;
        int n_ok = 0;
        while (st == EOS_OK && !done) {
            eos_tile t;
            const void *data;
            const uint8_t *valid;
            st = eos_tile_reader_next(tr, &t, &data, &valid, &done);
            if (st == EOS_OK && !done) n_ok++;
        }
        EXPECT_EQ_INT(st, EOS_IO);
        EXPECT_TRUE(n_ok > 0 && n_ok < 16);
        EXPECT_TRUE(strlen(eos_raster_errmsg(r)) > 0);
        /* after the error the iteration is over */
        eos_tile t;
        const void *data;
        const uint8_t *valid;
        EXPECT_EQ_INT(eos_tile_reader_next(tr, &t, &data, &valid, &done), EOS_OK);
        EXPECT_TRUE(done);
        eos_tile_reader_free(tr);
        eos_raster_close(r);
    }
}

static void test_bad_params(void) {
    const char *p = make_scene("g.tif", 50, 40, 1, true);
    ASSERT_TRUE(p != NULL);
    eos_raster *r;
    ASSERT_EQ_INT(eos_raster_open(NULL, p, NULL, &r), EOS_OK);
    eos_tile_grid grid;
    ASSERT_EQ_INT(eos_tile_grid_init(&grid, 51, 40, 16, 16, 0), EOS_OK);   /* wrong size */
    eos_tile_reader *tr = NULL;
    EXPECT_EQ_INT(eos_tile_reader_create(r, &grid, NULL, &tr), EOS_INVALID_ARG);
    EXPECT_TRUE(tr == NULL);
    ASSERT_EQ_INT(eos_tile_grid_init(&grid, 50, 40, 16, 16, 0), EOS_OK);
    eos_tile_reader_params tp = eos_tile_reader_default_params();
    tp.n_ahead = -1;
    EXPECT_EQ_INT(eos_tile_reader_create(r, &grid, &tp, &tr), EOS_INVALID_ARG);
    eos_norm norm;
    eos_norm_identity(&norm, 3);   /* 3 bands for a 1-band raster */
    tp = eos_tile_reader_default_params();
    tp.norm = &norm;
    EXPECT_EQ_INT(eos_tile_reader_create(r, &grid, &tp, &tr), EOS_INVALID_ARG);
    eos_tile_reader_free(NULL);
    eos_raster_close(r);
}

static void setup(void) {
    test_tmpdir_create(g_dir, sizeof g_dir, "tiles");
}

static void teardown(void) {
    test_tmpdir_remove(g_dir);
}

int main(int argc, char **argv) {
    static const test_case cases[] = {
        TEST(test_reassemble_no_overlap), TEST(test_reassemble_overlap),
        TEST(test_scene_smaller_than_tile), TEST(test_bounded_memory),
        TEST(test_error_propagates), TEST(test_bad_params),
    };
    setup();
    int rc = test_run_all(cases, (int)(sizeof cases / sizeof cases[0]), argc, argv);
    teardown();
    return rc;
}
