/*
 * tests/io/test_quicklook.c - quicklooks and overlays (src/io/quicklook.c) and
 * eos_raster_class_table (src/io/classtable.c).
 *
 * Synthetic rasters are made with GDAL here; the pictures are read back with GDAL and compared
 * with values computed independently in this file: percentiles by sorting the valid pixels
 * (not with a histogram), the linear stretch, the blend of each class colour, and the
 * position of the legend swatches (lower-left corner, 1x and 2x scale).
 */
#include <gdal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/test.h"
#include "eosight/raster.h"

static char g_dir[256];

/* ------------------------------------------------------------------ helpers */

/* A GTiff of n_bands x h x w values of GDAL type t (band-sequential doubles converted by GDAL),
 * nodata when has_nd. Returns path (static buffer per call site: caller copies). */
static bool make_raster(const char *path, int w, int h, int nb, GDALDataType t,
                        const double *vals, bool has_nd, double nd) {
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path, w, h, nb, t, NULL);
    if (!ds) return false;
    CPLErr e = GDALDatasetRasterIO(ds, GF_Write, 0, 0, w, h, (void *)vals, w, h, GDT_Float64, nb,
                                   NULL, 0, 0, 0);
    for (int b = 1; b <= nb && has_nd; b++) GDALSetRasterNoDataValue(GDALGetRasterBand(ds, b), nd);
    GDALClose(ds);
    return e == CE_None;
}

/* Read a picture back: 3 x h x w bytes (malloc'd); *w, *h its size. */
static uint8_t *read_picture(const char *path, int *w, int *h, const char **driver) {
    GDALDatasetH ds = GDALOpen(path, GA_ReadOnly);
    if (!ds) return NULL;
    *w = GDALGetRasterXSize(ds);
    *h = GDALGetRasterYSize(ds);
    if (driver) *driver = GDALGetDriverShortName(GDALGetDatasetDriver(ds));
    uint8_t *px = malloc((size_t)3 * *w * *h);
    bool ok = GDALGetRasterCount(ds) == 3 &&
              GDALDatasetRasterIO(ds, GF_Read, 0, 0, *w, *h, px, *w, *h, GDT_Byte, 3, NULL, 0, 0,
                                  0) == CE_None;
    GDALClose(ds);
    if (!ok) {
        free(px);
        return NULL;
    }
    return px;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The p-th percentile by the documented definition, computed by sorting. */
static double percentile_sorted(const double *sorted, int n, double p) {
    if (p <= 0) return sorted[0];
    int k = (int)ceil(p / 100.0 * n);
    return sorted[(k < 1 ? 1 : k > n ? n : k) - 1];
}

static uint8_t stretch_expected(double x, double lo, double hi) {
    double t = 255.0 * (x - lo) / (hi - lo);
    return t <= 0 ? 0 : t >= 255 ? 255 : (uint8_t)floor(t + 0.5);
}

static const char *path_in(const char *name) {
    static char buf[4][400];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s/%s", g_dir, name);
    return buf[i];
}

/* ------------------------------------------------------------------ RGB stretch */

/* u16, three bands with different distributions (one with many repeated values), Red/Green/
 * Blue interpretations in reverse file order, nodata 0 on the first rows of band 1 (7500
 * valid pixels, so the 2% and 98% ranks are whole numbers: ties of the definition matter). */
static void test_rgb_percentiles(void) {
    enum { W = 100, H = 80, NB = 3 };
    double *v = malloc(sizeof(double) * NB * W * H);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int i = y * W + x;
            v[i] = y < 5 ? 0 : 100 + 3 * i;   /* uniform; 500 nodata: 2% of 7500 is exact */
            v[W * H + i] = 1000 + (i * 7919) % 5003;            /* scrambled */
            v[2 * W * H + i] = 40000 + (x * y) % 97 * 250;      /* few distinct values */
        }
    const char *src = path_in("rgb16.tif");
    ASSERT_TRUE(make_raster(src, W, H, NB, GDT_UInt16, v, true, 0));
    GDALDatasetH ds = GDALOpen(src, GA_Update);
    GDALSetRasterColorInterpretation(GDALGetRasterBand(ds, 1), GCI_BlueBand);
    GDALSetRasterColorInterpretation(GDALGetRasterBand(ds, 2), GCI_GreenBand);
    GDALSetRasterColorInterpretation(GDALGetRasterBand(ds, 3), GCI_RedBand);
    GDALClose(ds);

    eos_raster *r;
    ASSERT_OK(eos_raster_open(NULL, src, NULL, &r));
    const char *out = path_in("rgb16.png");
    eos_quicklook_params p = eos_quicklook_default_params();   /* 2, 98 */
    EXPECT_OK(eos_quicklook_rgb(NULL, r, &p, out));
    eos_raster_close(r);

    /* expected: channel c shows file band 3 - c (Red = band 3) */
    double lo[NB], hi[NB], *sorted = malloc(sizeof(double) * W * H);
    for (int b = 0; b < NB; b++) {
        int n = 0;
        for (int i = 0; i < W * H; i++)
            if (v[i] != 0) sorted[n++] = v[b * W * H + i];   /* valid: band 1 not nodata */
        qsort(sorted, (size_t)n, sizeof *sorted, cmp_double);
        lo[b] = percentile_sorted(sorted, n, 2);
        hi[b] = percentile_sorted(sorted, n, 98);
    }
    free(sorted);
    int w, h;
    const char *drv = NULL;
    uint8_t *px = read_picture(out, &w, &h, &drv);
    ASSERT_TRUE(px != NULL);
    EXPECT_STR_EQ(drv, "PNG");
    ASSERT_EQ_INT(w, W);
    ASSERT_EQ_INT(h, H);
    int bad = 0;
    for (int c = 0; c < 3; c++) {
        int b = 2 - c;
        for (int i = 0; i < W * H; i++) {
            uint8_t want = v[i] == 0 ? 0 : stretch_expected(v[b * W * H + i], lo[b], hi[b]);
            if (px[c * W * H + i] != want && bad++ < 5)
                TEST_FAIL_("channel %d pixel %d: %d, want %d", c, i, px[c * W * H + i], want);
        }
    }
    free(px);
    free(v);
}

/* 8-bit source with p 0..100: values unchanged; one band shows as grey; JPEG by extension. */
static void test_8bit_untouched_grey(void) {
    enum { W = 64, H = 48 };
    double *v = malloc(sizeof(double) * 2 * W * H);
    for (int i = 0; i < 2 * W * H; i++) v[i] = (i * 37) % 200 + 20;
    const char *src = path_in("u8.tif");
    ASSERT_TRUE(make_raster(src, W, H, 2, GDT_Byte, v, false, 0));
    eos_raster *r;
    ASSERT_OK(eos_raster_open(NULL, src, NULL, &r));
    eos_quicklook_params p = eos_quicklook_default_params();
    p.p_lo = 0;
    p.p_hi = 100;
    p.bands[0] = 2;   /* band 2 as grey */
    const char *out = path_in("u8.png");
    EXPECT_OK(eos_quicklook_rgb(NULL, r, &p, out));
    int w, h;
    uint8_t *px = read_picture(out, &w, &h, NULL);
    ASSERT_TRUE(px != NULL);
    int bad = 0;
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < W * H; i++) bad += px[c * W * H + i] != (uint8_t)v[W * H + i];
    EXPECT_EQ_INT(bad, 0);
    free(px);

    const char *jpg = path_in("u8.JPG");
    EXPECT_OK(eos_quicklook_rgb(NULL, r, &p, jpg));
    const char *drv = NULL;
    px = read_picture(jpg, &w, &h, &drv);
    ASSERT_TRUE(px != NULL);
    EXPECT_STR_EQ(drv, "JPEG");
    free(px);
    eos_raster_close(r);
    free(v);
}

/* A big scene is decimated so its longest side is max_px, aspect kept. */
static void test_decimation_size(void) {
    enum { W = 1000, H = 400 };
    double *v = malloc(sizeof(double) * W * H);
    for (int i = 0; i < W * H; i++) v[i] = i % 1000;
    const char *src = path_in("big.tif");
    ASSERT_TRUE(make_raster(src, W, H, 1, GDT_UInt16, v, false, 0));
    free(v);
    eos_raster *r;
    ASSERT_OK(eos_raster_open(NULL, src, NULL, &r));
    eos_quicklook_params p = eos_quicklook_default_params();
    p.max_px = 250;
    const char *out = path_in("big.png");
    EXPECT_OK(eos_quicklook_rgb(NULL, r, &p, out));
    eos_raster_close(r);
    int w, h;
    uint8_t *px = read_picture(out, &w, &h, NULL);
    ASSERT_TRUE(px != NULL);
    EXPECT_EQ_INT(w, 250);
    EXPECT_EQ_INT(h, 100);
    free(px);
}

static void test_bad_args(void) {
    double v[16 * 16] = { 0 };
    const char *src = path_in("small.tif");
    ASSERT_TRUE(make_raster(src, 16, 16, 1, GDT_Byte, v, false, 0));
    eos_raster *r;
    ASSERT_OK(eos_raster_open(NULL, src, NULL, &r));
    eos_ctx *ctx;
    ASSERT_OK(eos_ctx_create(NULL, &ctx));
    eos_quicklook_params p = eos_quicklook_default_params();
    EXPECT_STATUS(eos_quicklook_rgb(ctx, r, &p, path_in("x.bmp")), EOS_INVALID_ARG);
    EXPECT_TRUE(strstr(eos_ctx_errmsg(ctx), ".png") != NULL);
    p.bands[0] = 4;
    EXPECT_STATUS(eos_quicklook_rgb(ctx, r, &p, path_in("x.png")), EOS_INVALID_ARG);
    EXPECT_TRUE(strstr(eos_ctx_errmsg(ctx), "band 4") != NULL);
    p.bands[0] = 1;
    p.bands[2] = 1;
    EXPECT_STATUS(eos_quicklook_rgb(ctx, r, &p, path_in("x.png")), EOS_INVALID_ARG);
    p = eos_quicklook_default_params();
    p.p_lo = 50;
    p.p_hi = 40;
    EXPECT_STATUS(eos_quicklook_rgb(ctx, r, &p, path_in("x.png")), EOS_INVALID_ARG);
    p = eos_quicklook_default_params();
    p.max_px = -3;
    EXPECT_STATUS(eos_quicklook_rgb(ctx, r, &p, path_in("x.png")), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_quicklook_overlay(ctx, r, r, NULL, NULL, 4, 1.5, NULL, path_in("x.png")),
                  EOS_INVALID_ARG);
    EXPECT_STATUS(eos_quicklook_overlay(ctx, r, r, NULL, NULL, 0, 0.5, NULL, path_in("x.png")),
                  EOS_INVALID_ARG);
    EXPECT_STATUS(eos_quicklook_overlay(ctx, r, NULL, NULL, NULL, 4, 0.5, NULL, path_in("x.png")),
                  EOS_INVALID_ARG);
    EXPECT_TRUE(access(path_in("x.png"), F_OK) != 0);
    eos_ctx_free(ctx);
    eos_raster_close(r);
}

/* ------------------------------------------------------------------ overlay */

static const eos_rgba k_colors[4] = {
    { 10, 20, 30, 255 }, { 250, 40, 40, 255 }, { 40, 250, 40, 255 }, { 255, 0, 255, 255 },
};
static const char *const k_names[4] = { "bare", "roof", "tree", "absent" };

/* Class of image pixel (x, y): 2x2 blocks of the 2x-resolution mask are constant, so the mask
 * cell does not depend on which pixel of the block decimation picks. 255 = nodata. */
static int class_at(int x, int y) {
    if (y < 10) return 255;
    return (x / 10 + y / 10) % 3;   /* classes 0..2; class 3 never appears */
}

/* Does the rectangle contain a pixel of exactly colour c? */
static bool rect_has(const uint8_t *px, int w, int h, int x0, int y0, int x1, int y1, eos_rgba c) {
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            size_t i = (size_t)y * w + x;
            if (px[i] == c.r && px[(size_t)w * h + i] == c.g && px[2 * (size_t)w * h + i] == c.b)
                return true;
        }
    return false;
}

static void test_overlay_blend_and_legend(void) {
    enum { W = 120, H = 90 };
    double *img = malloc(sizeof(double) * 3 * W * H), *mask = malloc(sizeof(double) * 4 * W * H);
    for (int i = 0; i < 3 * W * H; i++) img[i] = (i * 13) % 251;
    for (int y = 0; y < 2 * H; y++)
        for (int x = 0; x < 2 * W; x++) mask[y * 2 * W + x] = class_at(x / 2, y / 2);
    const char *isrc = path_in("ov_img.tif"), *msrc = path_in("ov_mask.tif");
    ASSERT_TRUE(make_raster(isrc, W, H, 3, GDT_Byte, img, false, 0));
    ASSERT_TRUE(make_raster(msrc, 2 * W, 2 * H, 1, GDT_Byte, mask, true, 255));
    eos_raster *ri, *rm;
    ASSERT_OK(eos_raster_open(NULL, isrc, NULL, &ri));
    ASSERT_OK(eos_raster_open(NULL, msrc, NULL, &rm));
    eos_quicklook_params p = eos_quicklook_default_params();
    p.p_lo = 0;
    p.p_hi = 100;   /* 8-bit identity: the picture under the mask is the image itself */
    const double alpha = 0.4;
    const char *out = path_in("ov.png");
    EXPECT_OK(eos_quicklook_overlay(NULL, ri, rm, k_colors, k_names, 4, alpha, &p, out));
    eos_raster_close(ri);
    eos_raster_close(rm);

    int w, h;
    uint8_t *px = read_picture(out, &w, &h, NULL);
    ASSERT_TRUE(px != NULL);
    ASSERT_EQ_INT(w, W);
    ASSERT_EQ_INT(h, H);
    /* legend at scale 1: 3 classes present -> box height 4 + 3*10 - 2 + 4 = 36, 4 px margin */
    int legend_top = H - 4 - 36;
    int bad = 0;
    for (int y = 0; y < legend_top; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++) {
                int cls = class_at(x, y);
                double base = img[(size_t)c * W * H + (size_t)y * W + x];
                double want = base;
                if (cls != 255) {
                    double col = c == 0 ? k_colors[cls].r : c == 1 ? k_colors[cls].g
                                                                   : k_colors[cls].b;
                    want = floor((1 - alpha) * base + alpha * col + 0.5);
                }
                uint8_t got = px[(size_t)c * W * H + (size_t)y * W + x];
                if (got != (uint8_t)want && bad++ < 5)
                    TEST_FAIL_("pixel (%d,%d) channel %d: %d, want %d", x, y, c, got, (int)want);
            }
    /* swatches: 8x8 squares at x 8..16, rows legend_top + 4 + 10*k, in class order */
    for (int k = 0; k < 3; k++) {
        int y0 = legend_top + 4 + 10 * k;
        EXPECT_TRUE(rect_has(px, w, h, 8, y0, 16, y0 + 8, k_colors[k]));
        EXPECT_TRUE(rect_has(px, w, h, 8, y0 + 1, 9, y0 + 2, k_colors[k]));
        EXPECT_TRUE(rect_has(px, w, h, 15, y0 + 7, 16, y0 + 8, k_colors[k]));
    }
    EXPECT_TRUE(!rect_has(px, w, h, 0, legend_top, W, H, k_colors[3]));   /* absent class */
    EXPECT_TRUE(rect_has(px, w, h, 20, legend_top, W, H, (eos_rgba){ 255, 255, 255, 255 }));
    free(px);
    free(img);
    free(mask);
}

/* A large picture gets the 2x legend: 16 px swatches 8 + 8 px from the left edge. */
static void test_overlay_legend_2x(void) {
    enum { W = 900, H = 300 };
    double *img = calloc((size_t)W * H, sizeof(double)), *mask = malloc(sizeof(double) * W * H);
    for (int i = 0; i < W * H; i++) mask[i] = (i % W) > 600 ? 1 : 255;
    const char *isrc = path_in("l2_img.tif"), *msrc = path_in("l2_mask.tif");
    ASSERT_TRUE(make_raster(isrc, W, H, 1, GDT_Byte, img, false, 0));
    ASSERT_TRUE(make_raster(msrc, W, H, 1, GDT_Byte, mask, true, 255));
    eos_raster *ri, *rm;
    ASSERT_OK(eos_raster_open(NULL, isrc, NULL, &ri));
    ASSERT_OK(eos_raster_open(NULL, msrc, NULL, &rm));
    const char *out = path_in("l2.png");
    EXPECT_OK(eos_quicklook_overlay(NULL, ri, rm, k_colors, NULL, 2, 1.0, NULL, out));
    eos_raster_close(ri);
    eos_raster_close(rm);
    int w, h;
    uint8_t *px = read_picture(out, &w, &h, NULL);
    ASSERT_TRUE(px != NULL);
    /* one row: box height 8 + 20 - 4 + 8 = 32, top at 300 - 8 - 32 = 260; swatch 268..284 */
    int inside = 0;
    for (int y = 268; y < 284; y++)
        for (int x = 16; x < 32; x++) inside += rect_has(px, w, h, x, y, x + 1, y + 1, k_colors[1]);
    EXPECT_EQ_INT(inside, 16 * 16);
    EXPECT_TRUE(!rect_has(px, w, h, 15, 268, 16, 284, k_colors[1]));
    EXPECT_TRUE(!rect_has(px, w, h, 16, 284, 32, 285, k_colors[1]));
    EXPECT_TRUE(rect_has(px, w, h, 601, 0, W, H, k_colors[1]));   /* alpha 1: pure colour */
    free(px);
    free(img);
    free(mask);
}

/* ------------------------------------------------------------------ class table */

static void test_class_table(void) {
    const char *path = path_in("classes.tif");
    static const eos_rgba colors[3] = { { 1, 2, 3, 255 }, { 4, 5, 6, 255 }, { 7, 8, 9, 255 } };
    static const char *const names[3] = { "water", NULL, "a name much longer than sixty-three "
                                          "bytes, which the reader must cut at 63 bytes" };
    eos_raster_writer_params wp = eos_raster_writer_default_params();
    wp.width_px = 8;
    wp.height_px = 8;
    wp.colors = colors;
    wp.class_names = names;
    wp.n_classes = 3;
    eos_raster_writer *wr;
    ASSERT_OK(eos_raster_writer_create(NULL, path, &wp, &wr));
    uint8_t zeros[64] = { 0 };
    EXPECT_OK(eos_raster_writer_write(wr, 0, 0, 8, 8, EOS_DTYPE_U8, zeros));
    ASSERT_OK(eos_raster_writer_close(NULL, wr));

    eos_raster *r;
    ASSERT_OK(eos_raster_open(NULL, path, NULL, &r));
    eos_rgba got[8];
    char got_names[8][64];
    int n = -1;
    ASSERT_OK(eos_raster_class_table(r, got, got_names, 8, &n));
    ASSERT_EQ_INT(n, 3);   /* names decide the count, not the 256-entry TIFF colormap */
    for (int i = 0; i < 3; i++) {
        EXPECT_EQ_INT(got[i].r, colors[i].r);
        EXPECT_EQ_INT(got[i].b, colors[i].b);
    }
    EXPECT_STR_EQ(got_names[0], "water");
    EXPECT_STR_EQ(got_names[1], "");
    EXPECT_EQ_INT(strlen(got_names[2]), 63);
    EXPECT_TRUE(!strncmp(got_names[2], names[2], 63));
    ASSERT_OK(eos_raster_class_table(r, NULL, NULL, 2, &n));
    EXPECT_EQ_INT(n, 2);
    EXPECT_STATUS(eos_raster_class_table(r, got, got_names, -1, &n), EOS_INVALID_ARG);
    eos_raster_close(r);

    double v[16] = { 0 };
    const char *plain = path_in("plain.tif");
    ASSERT_TRUE(make_raster(plain, 4, 4, 1, GDT_Byte, v, false, 0));
    ASSERT_OK(eos_raster_open(NULL, plain, NULL, &r));
    ASSERT_OK(eos_raster_class_table(r, got, got_names, 8, &n));
    EXPECT_EQ_INT(n, 0);
    eos_raster_close(r);
}

static void setup(void) {
    test_tmpdir_create(g_dir, sizeof g_dir, "quicklook");
    GDALAllRegister();
    CPLPushErrorHandler(CPLQuietErrorHandler);
}

static void teardown(void) {
    test_tmpdir_remove(g_dir);
}

int main(int argc, char **argv) {
    static const test_case cases[] = {
        TEST(test_rgb_percentiles),          TEST(test_8bit_untouched_grey),
        TEST(test_decimation_size),          TEST(test_bad_args),
        TEST(test_overlay_blend_and_legend), TEST(test_overlay_legend_2x),
        TEST(test_class_table),
    };
    setup();
    int rc = test_run_all(cases, (int)(sizeof cases / sizeof cases[0]), argc, argv);
    teardown();
    return rc;
}
