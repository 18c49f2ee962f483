/*
 * tests/io/test_raster_read.c - opening, describing and reading rasters (src/io/raster*.c).
 *
 * Synthetic GeoTIFFs are made here with GDAL (UTM EPSG:32633 and EPSG:4326, a known
 * geotransform, nodata, u16 values that encode (x, y, band), tiled and striped, a per-dataset
 * mask, an alpha band, NaN nodata) and every read is checked pixel for pixel against the values
 * written: windows inside the raster, reflect padding against mirror indices computed here by
 * hand (also for a raster smaller than the padding), nodata padding, validity masks, band
 * selection by index and name, reads from memory, stacks of 10 m and 20 m files, decimated
 * reads against GDAL's overviews, and the JSON description. Real files from
 * ../shared/data/geotiff and ../shared/data/eurosat-ms are checked against the facts in their
 * READMEs and against plain GDAL reads when present.
 */
#include <cpl_conv.h>
#include <gdal.h>
#include <ogr_srs_api.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/test.h"
#include "eosight/raster.h"

static char g_dir[256];

static const double k_gt_utm[6] = { 500000.0, 10.0, 0.0, 4500000.0, 0.0, -10.0 };
static const double k_gt_4326[6] = { 12.0, 0.001, 0.0, 45.0, 0.0, -0.001 };

/* ------------------------------------------------------------------ helpers */

static uint16_t val(int64_t x, int64_t y, int b) {
    return (uint16_t)((x * 7 + y * 131 + b * 10007) % 65521 + 1);   /* never 0 */
}

/* Pixels (x, y) made nodata (0) in band b by make_u16: a few scattered ones per band. */
static bool is_hole(int64_t x, int64_t y, int b) { return (x * 3 + y * 5 + b) % 97 == 0; }

static const char *tmp_path(const char *name) {
    static char path[8][512];
    static int k;
    k = (k + 1) % 8;
    snprintf(path[k], sizeof path[k], "%s/%s", g_dir, name);
    return path[k];
}

static void set_epsg(GDALDatasetH ds, int epsg) {
    OGRSpatialReferenceH s = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(s, epsg);
    GDALSetSpatialRef(ds, s);
    OSRDestroySpatialReference(s);
}

static GDALDatasetH create(const char *path, int w, int h, int nb, GDALDataType t, char **opts) {
    GDALAllRegister();
    return GDALCreate(GDALGetDriverByName("GTiff"), path, w, h, nb, t, opts);
}

/* A u16 GeoTIFF with val() values, holes (value 0) where is_hole() when `holes`, nodata 0 when
 * `nodata`, descriptions B02, B03, B04 ... */
static const char *make_u16(const char *name, int w, int h, int nb, bool tiled, int epsg,
                            const double gt[6], bool holes, bool nodata) {
    const char *path = tmp_path(name);
    char *tiled_opts[] = { "TILED=YES", "BLOCKXSIZE=32", "BLOCKYSIZE=32", NULL };
    char *striped_opts[] = { "TILED=NO", "BLOCKYSIZE=7", NULL };
    GDALDatasetH ds = create(path, w, h, nb, GDT_UInt16, tiled ? tiled_opts : striped_opts);
    if (!ds) return NULL;
    GDALSetGeoTransform(ds, (double *)gt);
    if (epsg) set_epsg(ds, epsg);
    uint16_t *buf = malloc((size_t)w * h * nb * 2);
    for (int b = 0; b < nb; b++) {
        GDALRasterBandH hb = GDALGetRasterBand(ds, b + 1);
        char desc[16];
        snprintf(desc, sizeof desc, "B%02d", b + 2);
        GDALSetDescription(hb, desc);
        if (nodata) GDALSetRasterNoDataValue(hb, 0);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                buf[((size_t)b * h + y) * w + x] = holes && is_hole(x, y, b) ? 0 : val(x, y, b);
    }
    CPLErr e = GDALDatasetRasterIO(ds, GF_Write, 0, 0, w, h, buf, w, h, GDT_UInt16, nb, NULL, 0, 0, 0);
    free(buf);
    GDALClose(ds);
    return e == CE_None ? path : NULL;
}

static eos_raster *open_sel(const char *path, const char *bands) {
    eos_raster_open_params p = eos_raster_default_open_params();
    p.bands = bands;
    eos_raster *r = NULL;
    eos_ctx *ctx;
    if (eos_ctx_create(NULL, &ctx) != EOS_OK) return NULL;
    eos_status st = eos_raster_open(ctx, path, &p, &r);
    if (st != EOS_OK) fprintf(stderr, "  open '%s': %s\n", path, eos_ctx_errmsg(ctx));
    eos_ctx_free(ctx);
    return r;
}

/* Mirror reflection without repeating the edge, applied as often as needed. */
static int64_t reflect(int64_t i, int64_t n) {
    if (n == 1) return 0;
    int64_t period = 2 * (n - 1);
    int64_t m = ((i % period) + period) % period;
    return m < n ? m : period - m;
}

/* Read a window as u16 with reflect padding and check every pixel and validity byte against
 * the mirrored source. bands: the file bands selected (0-based b of val()). */
static int64_t check_reflect(eos_raster *r, int W, int H, const int *bands, int nb, int64_t x0,
                             int64_t y0, int w, int h, bool holes) {
    uint16_t *buf = malloc((size_t)w * h * nb * 2);
    uint8_t *valid = malloc((size_t)w * h);
    int64_t bad = 0;
    eos_status st = eos_raster_read(r, x0, y0, w, h, EOS_DTYPE_U16, buf, valid, EOS_PAD_REFLECT);
    if (st != EOS_OK) {
        fprintf(stderr, "  read: %s\n", eos_raster_errmsg(r));
        bad = -1;
    }
    for (int y = 0; y < h && st == EOS_OK; y++)
        for (int x = 0; x < w; x++) {
            int64_t sx = reflect(x0 + x, W), sy = reflect(y0 + y, H);
            bool ok = true;
            for (int i = 0; i < nb; i++) {
                bool hole = holes && is_hole(sx, sy, bands[i]);
                uint16_t want = hole ? 0 : val(sx, sy, bands[i]);
                bad += buf[((size_t)i * h + y) * w + x] != want;
                ok = ok && !hole;
            }
            bad += valid[(size_t)y * w + x] != ok;
        }
    free(buf);
    free(valid);
    return bad;
}

/* ------------------------------------------------------------------ opening and describing */

static void test_describe_utm(void) {
    const char *path = make_u16("utm.tif", 100, 70, 3, true, 32633, k_gt_utm, true, true);
    ASSERT_TRUE(path != NULL);
    eos_raster *r = open_sel(path, NULL);
    ASSERT_TRUE(r != NULL);
    eos_raster_info in;
    eos_raster_get_info(r, &in);
    EXPECT_EQ_INT(in.width_px, 100);
    EXPECT_EQ_INT(in.height_px, 70);
    EXPECT_EQ_INT(in.n_bands, 3);
    EXPECT_EQ_INT(in.n_selected, 3);
    EXPECT_STR_EQ(in.driver, "GTiff");
    EXPECT_TRUE(in.has_mask);
    EXPECT_TRUE(in.georef.has_transform);
    for (int i = 0; i < 6; i++) EXPECT_NEAR(in.georef.transform.gt[i], k_gt_utm[i], 1e-9);
    ASSERT_TRUE(in.georef.crs != NULL);
    EXPECT_EQ_INT(eos_crs_epsg(in.georef.crs), 32633);
    EXPECT_TRUE(!eos_crs_is_geographic(in.georef.crs));
    eos_band_info bi;
    ASSERT_OK(eos_raster_band_info(r, 2, &bi));
    EXPECT_EQ_INT(bi.index, 2);
    EXPECT_EQ_INT(bi.dtype, EOS_DTYPE_U16);
    EXPECT_STR_EQ(bi.gdal_type, "UInt16");
    EXPECT_STR_EQ(bi.name, "B03");
    EXPECT_TRUE(bi.has_nodata);
    EXPECT_NEAR(bi.nodata, 0, 0);
    EXPECT_EQ_INT(bi.block_w, 32);
    EXPECT_EQ_INT(bi.block_h, 32);
    EXPECT_EQ_INT(bi.n_overviews, 0);
    EXPECT_NEAR(bi.scale, 1, 0);
    EXPECT_NEAR(bi.offset, 0, 0);
    EXPECT_STATUS(eos_raster_band_info(r, 0, &bi), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_raster_band_info(r, 4, &bi), EOS_INVALID_ARG);
    int sel[8];
    EXPECT_EQ_INT(eos_raster_selected_bands(r, sel), 3);
    EXPECT_EQ_INT(sel[0], 1);
    EXPECT_EQ_INT(sel[2], 3);
    EXPECT_STR_EQ(eos_raster_errmsg(r), "");
    eos_raster_close(r);
    eos_raster_close(NULL);
}

static void test_describe_4326_striped(void) {
    const char *path = make_u16("geo.tif", 40, 30, 1, false, 4326, k_gt_4326, false, false);
    ASSERT_TRUE(path != NULL);
    eos_raster *r = open_sel(path, NULL);
    ASSERT_TRUE(r != NULL);
    eos_raster_info in;
    eos_raster_get_info(r, &in);
    ASSERT_TRUE(in.georef.crs != NULL);
    EXPECT_EQ_INT(eos_crs_epsg(in.georef.crs), 4326);
    EXPECT_TRUE(eos_crs_is_geographic(in.georef.crs));
    EXPECT_TRUE(!in.has_mask);
    eos_band_info bi;
    ASSERT_OK(eos_raster_band_info(r, 1, &bi));
    EXPECT_EQ_INT(bi.block_w, 40);
    EXPECT_EQ_INT(bi.block_h, 7);
    EXPECT_TRUE(!bi.has_nodata);
    /* the whole raster, pixel for pixel, all valid */
    uint16_t buf[40 * 30];
    uint8_t valid[40 * 30];
    ASSERT_OK(eos_raster_read(r, 0, 0, 40, 30, EOS_DTYPE_U16, buf, valid, EOS_PAD_REFLECT));
    int64_t bad = 0;
    for (int y = 0; y < 30; y++)
        for (int x = 0; x < 40; x++) bad += buf[y * 40 + x] != val(x, y, 0) || valid[y * 40 + x] != 1;
    EXPECT_EQ_INT(bad, 0);
    eos_raster_close(r);
}

/* ------------------------------------------------------------------ windows inside */

static void test_read_inside(void) {
    const char *path = make_u16("inside.tif", 100, 70, 3, true, 32633, k_gt_utm, true, true);
    ASSERT_TRUE(path != NULL);
    eos_raster *r = open_sel(path, NULL);
    ASSERT_TRUE(r != NULL);
    enum { X0 = 13, Y0 = 29, W = 61, H = 37 };   /* crosses 32 px tile borders */
    uint16_t *u = malloc(3 * W * H * 2);
    float *f = malloc(3 * W * H * 4);
    uint8_t *vu = malloc(W * H), *vf = malloc(W * H), *v8 = malloc(W * H);
    uint8_t *b8 = malloc(3 * W * H);
    ASSERT_OK(eos_raster_read(r, X0, Y0, W, H, EOS_DTYPE_U16, u, vu, EOS_PAD_REFLECT));
    ASSERT_OK(eos_raster_read(r, X0, Y0, W, H, EOS_DTYPE_F32, f, vf, EOS_PAD_NODATA));
    ASSERT_OK(eos_raster_read(r, X0, Y0, W, H, EOS_DTYPE_U8, b8, v8, EOS_PAD_REFLECT));
    int64_t bad = 0, n_invalid = 0;
    for (int b = 0; b < 3; b++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                size_t i = ((size_t)b * H + y) * W + x;
                uint16_t want = is_hole(X0 + x, Y0 + y, b) ? 0 : val(X0 + x, Y0 + y, b);
                bad += u[i] != want;
                bad += f[i] != (float)want;
                bad += b8[i] != (want > 255 ? 255 : want);   /* GDAL clamps */
            }
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            bool ok = !is_hole(X0 + x, Y0 + y, 0) && !is_hole(X0 + x, Y0 + y, 1) &&
                      !is_hole(X0 + x, Y0 + y, 2);
            n_invalid += !ok;
            bad += vu[y * W + x] != ok || vf[y * W + x] != ok || v8[y * W + x] != ok;
        }
    EXPECT_EQ_INT(bad, 0);
    EXPECT_TRUE(n_invalid > 10);
    /* valid may be NULL */
    EXPECT_OK(eos_raster_read(r, X0, Y0, W, H, EOS_DTYPE_U16, u, NULL, EOS_PAD_REFLECT));
    free(u);
    free(f);
    free(vu);
    free(vf);
    free(v8);
    free(b8);
    eos_raster_close(r);
}

static void test_band_selection(void) {
    const char *path = make_u16("sel.tif", 50, 40, 3, true, 32633, k_gt_utm, false, false);
    ASSERT_TRUE(path != NULL);
    const char *lists[] = { "3,1", "b04, B02", "B04,1", " 3 ,B02 " };
    for (int k = 0; k < 4; k++) {
        eos_raster *r = open_sel(path, lists[k]);
        ASSERT_TRUE(r != NULL);
        int sel[4];
        ASSERT_EQ_INT(eos_raster_selected_bands(r, sel), 2);
        EXPECT_EQ_INT(sel[0], 3);
        EXPECT_EQ_INT(sel[1], 1);
        uint16_t buf[2 * 10 * 8];
        ASSERT_OK(eos_raster_read(r, 5, 6, 10, 8, EOS_DTYPE_U16, buf, NULL, EOS_PAD_REFLECT));
        int64_t bad = 0;
        for (int y = 0; y < 8; y++)
            for (int x = 0; x < 10; x++) {
                bad += buf[y * 10 + x] != val(5 + x, 6 + y, 2);
                bad += buf[80 + y * 10 + x] != val(5 + x, 6 + y, 0);
            }
        EXPECT_EQ_INT(bad, 0);
        eos_raster_close(r);
    }
    /* a band twice */
    eos_raster *r = open_sel(path, "2,2");
    ASSERT_TRUE(r != NULL);
    uint16_t buf[2 * 4];
    ASSERT_OK(eos_raster_read(r, 0, 0, 2, 2, EOS_DTYPE_U16, buf, NULL, EOS_PAD_REFLECT));
    EXPECT_EQ_INT(buf[3], val(1, 1, 1));
    EXPECT_EQ_INT(buf[7], val(1, 1, 1));
    eos_raster_close(r);
}

/* ------------------------------------------------------------------ padding */

static void test_reflect_padding(void) {
    const int W = 100, H = 70;
    const char *path = make_u16("pad.tif", W, H, 3, true, 32633, k_gt_utm, true, true);
    ASSERT_TRUE(path != NULL);
    eos_raster *r = open_sel(path, "B04,B02");
    ASSERT_TRUE(r != NULL);
    const int bands[2] = { 2, 0 };
    struct { int64_t x0, y0; int w, h; } win[] = {
        { -5, -3, 20, 10 },     /* upper-left corner */
        { 90, 60, 20, 17 },     /* lower-right corner */
        { -16, 20, 48, 16 },    /* left edge only */
        { 40, -8, 16, 40 },     /* top edge only */
        { -30, -30, 160, 130 }, /* past every edge, mirror reaches beyond the window's inside */
        { 99, 69, 5, 5 },       /* one pixel inside */
        { 100, 0, 10, 10 },     /* entirely outside, touching the right edge */
        { -250, -150, 600, 300 }, /* several periods */
    };
    for (size_t i = 0; i < sizeof win / sizeof win[0]; i++) {
        int64_t bad = check_reflect(r, W, H, bands, 2, win[i].x0, win[i].y0, win[i].w, win[i].h, true);
        if (bad) fprintf(stderr, "  window %zu: %lld bad\n", i, (long long)bad);
        EXPECT_EQ_INT(bad, 0);
    }
    eos_raster_close(r);
}

static void test_reflect_small_raster(void) {
    /* 5 x 4 raster, 1 x 1 and 1 x N rasters: windows far larger than the raster */
    const int sizes[3][2] = { { 5, 4 }, { 1, 1 }, { 1, 6 } };
    for (int s = 0; s < 3; s++) {
        char name[32];
        snprintf(name, sizeof name, "small%d.tif", s);
        int W = sizes[s][0], H = sizes[s][1];
        const char *path = make_u16(name, W, H, 2, false, 32633, k_gt_utm, true, true);
        ASSERT_TRUE(path != NULL);
        eos_raster *r = open_sel(path, NULL);
        ASSERT_TRUE(r != NULL);
        const int bands[2] = { 0, 1 };
        EXPECT_EQ_INT(check_reflect(r, W, H, bands, 2, -7, -6, 20, 17, true), 0);
        EXPECT_EQ_INT(check_reflect(r, W, H, bands, 2, -3, -2, W + 6, H + 4, true), 0);
        eos_raster_close(r);
    }
}

static void test_nodata_padding(void) {
    enum { W = 30, H = 20 };
    const char *path = make_u16("padnd.tif", W, H, 2, true, 32633, k_gt_utm, true, true);
    ASSERT_TRUE(path != NULL);
    eos_raster *r = open_sel(path, NULL);
    ASSERT_TRUE(r != NULL);
    enum { X0 = -4, Y0 = 15, w = 40, h = 9 };
    float buf[2 * w * h];
    uint8_t valid[w * h];
    ASSERT_OK(eos_raster_read(r, X0, Y0, w, h, EOS_DTYPE_F32, buf, valid, EOS_PAD_NODATA));
    int64_t bad = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int sx = X0 + x, sy = Y0 + y;
            bool in = sx >= 0 && sx < W && sy >= 0 && sy < H;
            bool ok = in && !is_hole(sx, sy, 0) && !is_hole(sx, sy, 1);
            for (int b = 0; b < 2; b++) {
                float want = in && !is_hole(sx, sy, b) ? val(sx, sy, b) : 0.0f;
                bad += buf[(b * h + y) * w + x] != want;
            }
            bad += valid[y * w + x] != ok;
        }
    EXPECT_EQ_INT(bad, 0);
    /* entirely outside but within its own size: all zeros and invalid */
    ASSERT_OK(eos_raster_read(r, W + 3, 0, 8, 4, EOS_DTYPE_F32, buf, valid, EOS_PAD_NODATA));
    for (int i = 0; i < 32; i++) bad += buf[i] != 0.0f || valid[i] != 0;
    EXPECT_EQ_INT(bad, 0);
    eos_raster_close(r);
}

/* ------------------------------------------------------------------ masks */

static void test_dataset_mask(void) {
    enum { W = 48, H = 40 };
    const char *path = tmp_path("mask.tif");
    char *opts[] = { "TILED=YES", "BLOCKXSIZE=16", "BLOCKYSIZE=16", NULL };
    CPLSetConfigOption("GDAL_TIFF_INTERNAL_MASK", "YES");
    GDALDatasetH ds = create(path, W, H, 2, GDT_UInt16, opts);
    ASSERT_TRUE(ds != NULL);
    GDALSetGeoTransform(ds, (double *)k_gt_utm);
    uint16_t px[2 * W * H];
    uint8_t m[W * H];
    for (int b = 0; b < 2; b++)
        for (int i = 0; i < W * H; i++) px[b * W * H + i] = val(i % W, i / W, b);
    for (int i = 0; i < W * H; i++) m[i] = (i % W) < (i / W) ? 0 : 255;   /* lower-left triangle masked */
    EXPECT_EQ_INT(GDALDatasetRasterIO(ds, GF_Write, 0, 0, W, H, px, W, H, GDT_UInt16, 2, NULL, 0, 0, 0), CE_None);
    EXPECT_EQ_INT(GDALCreateDatasetMaskBand(ds, GMF_PER_DATASET), CE_None);
    GDALRasterBandH mb = GDALGetMaskBand(GDALGetRasterBand(ds, 1));
    EXPECT_EQ_INT(GDALRasterIO(mb, GF_Write, 0, 0, W, H, m, W, H, GDT_Byte, 0, 0), CE_None);
    GDALClose(ds);
    CPLSetConfigOption("GDAL_TIFF_INTERNAL_MASK", NULL);

    eos_raster *r = open_sel(path, NULL);
    ASSERT_TRUE(r != NULL);
    eos_raster_info in;
    eos_raster_get_info(r, &in);
    EXPECT_TRUE(in.has_mask);
    uint16_t buf[2 * W * H];
    uint8_t valid[W * H];
    ASSERT_OK(eos_raster_read(r, 0, 0, W, H, EOS_DTYPE_U16, buf, valid, EOS_PAD_REFLECT));
    int64_t bad = 0;
    for (int i = 0; i < W * H; i++) bad += valid[i] != (m[i] != 0) || buf[i] != px[i];
    EXPECT_EQ_INT(bad, 0);
    /* reflected validity: column -1 mirrors column 1 */
    uint8_t v2[4 * 4];
    uint16_t b2[2 * 16];
    ASSERT_OK(eos_raster_read(r, -2, 10, 4, 4, EOS_DTYPE_U16, b2, v2, EOS_PAD_REFLECT));
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++) bad += v2[y * 4 + x] != (m[(10 + y) * W + reflect(x - 2, W)] != 0);
    EXPECT_EQ_INT(bad, 0);
    eos_raster_close(r);
}

static void test_alpha_band(void) {
    enum { W = 20, H = 10 };
    const char *path = tmp_path("rgba.tif");
    char *opts[] = { "PHOTOMETRIC=RGB", "ALPHA=YES", NULL };
    GDALDatasetH ds = create(path, W, H, 4, GDT_Byte, opts);
    ASSERT_TRUE(ds != NULL);
    uint8_t px[4 * W * H];
    for (int b = 0; b < 4; b++)
        for (int i = 0; i < W * H; i++)
            px[b * W * H + i] = b < 3 ? (uint8_t)(i * 3 + b) : (i % 7 == 0 ? 0 : (uint8_t)(i % 5 + 1));
    EXPECT_EQ_INT(GDALDatasetRasterIO(ds, GF_Write, 0, 0, W, H, px, W, H, GDT_Byte, 4, NULL, 0, 0, 0), CE_None);
    GDALClose(ds);

    eos_raster *r = open_sel(path, NULL);
    ASSERT_TRUE(r != NULL);
    eos_raster_info in;
    eos_raster_get_info(r, &in);
    EXPECT_EQ_INT(in.n_bands, 4);
    EXPECT_EQ_INT(in.n_selected, 3);   /* alpha skipped by default */
    EXPECT_TRUE(in.has_mask);
    eos_band_info bi;
    ASSERT_OK(eos_raster_band_info(r, 4, &bi));
    EXPECT_TRUE(bi.is_alpha);
    EXPECT_STR_EQ(bi.color_interp, "Alpha");
    uint8_t buf[3 * W * H], valid[W * H];
    ASSERT_OK(eos_raster_read(r, 0, 0, W, H, EOS_DTYPE_U8, buf, valid, EOS_PAD_REFLECT));
    int64_t bad = 0;
    for (int i = 0; i < W * H; i++) bad += valid[i] != (px[3 * W * H + i] != 0);
    for (int i = 0; i < 3 * W * H; i++) bad += buf[i] != px[i];
    EXPECT_EQ_INT(bad, 0);
    eos_raster_close(r);

    eos_raster_open_params p = eos_raster_default_open_params();
    p.skip_alpha = false;
    ASSERT_OK(eos_raster_open(NULL, path, &p, &r));
    eos_raster_get_info(r, &in);
    EXPECT_EQ_INT(in.n_selected, 4);
    eos_raster_close(r);
    /* alpha selected by name */
    r = open_sel(path, "alpha,red");
    ASSERT_TRUE(r != NULL);
    int sel[2];
    EXPECT_EQ_INT(eos_raster_selected_bands(r, sel), 2);
    EXPECT_EQ_INT(sel[0], 4);
    EXPECT_EQ_INT(sel[1], 1);
    eos_raster_close(r);
}

static void test_float_nan(void) {
    enum { W = 6, H = 5 };
    const char *path = tmp_path("nan.tif");
    GDALDatasetH ds = create(path, W, H, 2, GDT_Float32, NULL);
    ASSERT_TRUE(ds != NULL);
    float px[2 * W * H];
    for (int i = 0; i < 2 * W * H; i++) px[i] = (float)i * 0.5f - 3.0f;
    px[7] = NAN;                 /* band 1: NaN nodata */
    px[W * H + 11] = NAN;        /* band 2: no nodata, NaN anyway */
    px[W * H + 12] = -9999.0f;   /* band 2: not its nodata (it has none) */
    GDALSetRasterNoDataValue(GDALGetRasterBand(ds, 1), NAN);
    EXPECT_EQ_INT(GDALDatasetRasterIO(ds, GF_Write, 0, 0, W, H, px, W, H, GDT_Float32, 2, NULL, 0, 0, 0), CE_None);
    GDALClose(ds);
    eos_raster *r = open_sel(path, NULL);
    ASSERT_TRUE(r != NULL);
    eos_band_info bi;
    ASSERT_OK(eos_raster_band_info(r, 1, &bi));
    EXPECT_TRUE(bi.has_nodata && isnan(bi.nodata));
    const eos_dtype types[3] = { EOS_DTYPE_F32, EOS_DTYPE_F64, EOS_DTYPE_U8 };
    for (int k = 0; k < 3; k++) {
        double buf[2 * W * H];
        uint8_t valid[W * H];
        ASSERT_OK(eos_raster_read(r, 0, 0, W, H, types[k], buf, valid, EOS_PAD_REFLECT));
        int64_t bad = 0;
        for (int i = 0; i < W * H; i++) bad += valid[i] != (i != 7 && i != 11);
        EXPECT_EQ_INT(bad, 0);
    }
    eos_raster_close(r);
}

/* i16 nodata -1 read as u8: -1 and -5 both become 0, only -1 is nodata (the storage-type
 * comparison path). */
static void test_lossy_nodata(void) {
    const char *path = tmp_path("i16.tif");
    GDALDatasetH ds = create(path, 4, 1, 1, GDT_Int16, NULL);
    ASSERT_TRUE(ds != NULL);
    int16_t px[4] = { -1, -5, 300, 7 };
    GDALSetRasterNoDataValue(GDALGetRasterBand(ds, 1), -1);
    EXPECT_EQ_INT(GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Write, 0, 0, 4, 1, px, 4, 1, GDT_Int16, 0, 0), CE_None);
    GDALClose(ds);
    eos_raster *r = open_sel(path, NULL);
    ASSERT_TRUE(r != NULL);
    uint8_t buf[4], valid[4];
    ASSERT_OK(eos_raster_read(r, 0, 0, 4, 1, EOS_DTYPE_U8, buf, valid, EOS_PAD_REFLECT));
    EXPECT_EQ_INT(buf[0], 0);
    EXPECT_EQ_INT(buf[1], 0);
    EXPECT_EQ_INT(buf[2], 255);
    EXPECT_EQ_INT(valid[0], 0);
    EXPECT_EQ_INT(valid[1], 1);
    EXPECT_EQ_INT(valid[2], 1);
    int32_t b32[4];
    ASSERT_OK(eos_raster_read(r, 0, 0, 4, 1, EOS_DTYPE_I32, b32, valid, EOS_PAD_REFLECT));
    EXPECT_EQ_INT(b32[1], -5);
    EXPECT_EQ_INT(valid[0] + 2 * valid[1] + 4 * valid[2] + 8 * valid[3], 14);
    eos_raster_close(r);
}

/* ------------------------------------------------------------------ memory, stacks, decimation */

static void *slurp(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *buf = malloc((size_t)n);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return buf;
}

static void test_open_from_memory(void) {
    const char *path = make_u16("mem.tif", 37, 23, 3, true, 32633, k_gt_utm, true, true);
    ASSERT_TRUE(path != NULL);
    size_t size;
    void *bytes = slurp(path, &size);
    ASSERT_TRUE(bytes != NULL);
    eos_raster_open_params p = eos_raster_default_open_params();
    p.bands = "B03";
    eos_raster *r;
    ASSERT_OK(eos_raster_open_from_memory(NULL, bytes, size, "../../we ird/name.tif", &p, &r));
    free(bytes);   /* copied */
    eos_raster_info in;
    eos_raster_get_info(r, &in);
    EXPECT_EQ_INT(in.width_px, 37);
    EXPECT_EQ_INT(in.n_selected, 1);
    EXPECT_EQ_INT(eos_crs_epsg(in.georef.crs), 32633);
    uint16_t buf[3 * 37 * 23];
    uint8_t valid[37 * 23];
    ASSERT_OK(eos_raster_read(r, 0, 0, 37, 23, EOS_DTYPE_U16, buf, valid, EOS_PAD_REFLECT));
    int64_t bad = 0;
    for (int y = 0; y < 23; y++)
        for (int x = 0; x < 37; x++) {
            bool hole = is_hole(x, y, 1);
            bad += buf[y * 37 + x] != (hole ? 0 : val(x, y, 1)) || valid[y * 37 + x] != !hole;
        }
    EXPECT_EQ_INT(bad, 0);
    eos_raster *r2;   /* a second handle on the same name at once */
    bytes = slurp(path, &size);
    ASSERT_OK(eos_raster_open_from_memory(NULL, bytes, size, "../../we ird/name.tif", NULL, &r2));
    free(bytes);
    eos_raster_close(r);
    ASSERT_OK(eos_raster_read(r2, 0, 0, 37, 23, EOS_DTYPE_U16, buf, valid, EOS_PAD_REFLECT));
    EXPECT_EQ_INT(buf[5], val(5, 0, 0));
    eos_raster_close(r2);

    /* formats that can refer to other files are refused from memory */
    char vrt[1024];
    int n = snprintf(vrt, sizeof vrt,
                     "<VRTDataset rasterXSize=\"37\" rasterYSize=\"23\"><VRTRasterBand "
                     "dataType=\"UInt16\" band=\"1\"><SimpleSource><SourceFilename>%s"
                     "</SourceFilename><SourceBand>1</SourceBand></SimpleSource></VRTRasterBand>"
                     "</VRTDataset>", path);
    eos_ctx *ctx;
    ASSERT_OK(eos_ctx_create(NULL, &ctx));
    EXPECT_STATUS(eos_raster_open_from_memory(ctx, vrt, (size_t)n, "x.vrt", NULL, &r), EOS_PARSE);
    EXPECT_TRUE(r == NULL);
    EXPECT_TRUE(strstr(eos_ctx_errmsg(ctx), "x.vrt") != NULL);
    EXPECT_STATUS(eos_raster_open_from_memory(ctx, vrt, 0, "x.tif", NULL, &r), EOS_PARSE);
    eos_ctx_free(ctx);
}

/* A single-band u16 file on a grid of `res` m: value = f(x, y) at 10 m, or constant c. */
static const char *make_s2_band(const char *name, int epsg, double res, int w, int h, int band,
                                int constant) {
    const char *path = tmp_path(name);
    char *opts[] = { "TILED=YES", "BLOCKXSIZE=16", "BLOCKYSIZE=16", NULL };
    GDALDatasetH ds = create(path, w, h, 1, GDT_UInt16, opts);
    if (!ds) return NULL;
    double gt[6] = { 600000.0, res, 0.0, 5000000.0, 0.0, -res };
    GDALSetGeoTransform(ds, gt);
    set_epsg(ds, epsg);
    uint16_t *px = malloc((size_t)w * h * 2);
    for (int i = 0; i < w * h; i++) px[i] = constant ? (uint16_t)constant : val(i % w, i / w, band);
    CPLErr e = GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Write, 0, 0, w, h, px, w, h, GDT_UInt16, 0, 0);
    free(px);
    GDALClose(ds);
    return e == CE_None ? path : NULL;
}

static void test_stack(void) {
    const char *paths[4] = {
        make_s2_band("T33TUM_20230611T101559_B02_10m.tif", 32633, 10, 40, 30, 0, 0),
        make_s2_band("T33TUM_20230611T101559_B03_10m.tif", 32633, 10, 40, 30, 1, 0),
        make_s2_band("T33TUM_20230611T101559_B04_10m.tif", 32633, 10, 40, 30, 2, 0),
        make_s2_band("T33TUM_20230611T101559_B11_20m.tif", 32633, 20, 20, 15, 0, 777),
    };
    for (int i = 0; i < 4; i++) ASSERT_TRUE(paths[i] != NULL);
    eos_raster *r;
    ASSERT_OK(eos_raster_open_stack(NULL, paths, 4, NULL, &r));
    eos_raster_info in;
    eos_raster_get_info(r, &in);
    EXPECT_EQ_INT(in.width_px, 40);
    EXPECT_EQ_INT(in.height_px, 30);
    EXPECT_EQ_INT(in.n_bands, 4);
    EXPECT_EQ_INT(in.n_selected, 4);
    EXPECT_STR_EQ(in.driver, "VRT");
    const double want_gt[6] = { 600000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0 };
    for (int i = 0; i < 6; i++) EXPECT_NEAR(in.georef.transform.gt[i], want_gt[i], 1e-9);
    EXPECT_EQ_INT(eos_crs_epsg(in.georef.crs), 32633);
    const char *names[4] = { "B02", "B03", "B04", "B11" };
    for (int b = 0; b < 4; b++) {
        eos_band_info bi;
        ASSERT_OK(eos_raster_band_info(r, b + 1, &bi));
        EXPECT_STR_EQ(bi.name, names[b]);
    }
    uint16_t *buf = malloc(4 * 40 * 30 * 2);
    ASSERT_OK(eos_raster_read(r, 0, 0, 40, 30, EOS_DTYPE_U16, buf, NULL, EOS_PAD_REFLECT));
    int64_t bad = 0;
    for (int b = 0; b < 3; b++)   /* the 10 m bands are bit-identical */
        for (int i = 0; i < 40 * 30; i++) bad += buf[b * 1200 + i] != val(i % 40, i / 40, b);
    for (int i = 0; i < 40 * 30; i++) bad += buf[3 * 1200 + i] != 777;   /* bilinear of a constant */
    EXPECT_EQ_INT(bad, 0);
    eos_raster_close(r);

    /* selection by the names from the file names */
    eos_raster_open_params p = eos_raster_default_open_params();
    p.bands = "B11,b02";
    ASSERT_OK(eos_raster_open_stack(NULL, paths, 4, &p, &r));
    int sel[2];
    EXPECT_EQ_INT(eos_raster_selected_bands(r, sel), 2);
    EXPECT_EQ_INT(sel[0], 4);
    EXPECT_EQ_INT(sel[1], 1);
    char *json;
    ASSERT_OK(eos_raster_info_json(r, &json));
    EXPECT_TRUE(strstr(json, "\"stack\":[") != NULL);
    EXPECT_TRUE(strstr(json, "\"driver\":\"VRT\"") != NULL);
    eos_free(json);
    eos_raster_close(r);
    free(buf);
}

static void test_stack_errors(void) {
    const char *a = make_s2_band("A_B02_10m.tif", 32633, 10, 20, 20, 0, 0);
    const char *b = make_s2_band("A_B03_10m.tif", 32632, 10, 20, 20, 1, 0);
    const char *rgb = make_u16("rgb_stack.tif", 20, 20, 3, true, 32633, k_gt_utm, false, false);
    ASSERT_TRUE(a && b && rgb);
    eos_ctx *ctx;
    ASSERT_OK(eos_ctx_create(NULL, &ctx));
    eos_raster *r;
    const char *crs[2] = { a, b };
    EXPECT_STATUS(eos_raster_open_stack(ctx, crs, 2, NULL, &r), EOS_INVALID_ARG);
    EXPECT_TRUE(strstr(eos_ctx_errmsg(ctx), "CRS") != NULL);
    EXPECT_TRUE(r == NULL);
    const char *far[2] = { a, rgb };   /* rgb lies at 500000 E, a at 600000 E */
    EXPECT_STATUS(eos_raster_open_stack(ctx, far, 2, NULL, &r), EOS_INVALID_ARG);
    EXPECT_TRUE(strstr(eos_ctx_errmsg(ctx), "overlap") != NULL);
    const char *missing[2] = { a, "/nonexistent/B04.tif" };
    EXPECT_STATUS(eos_raster_open_stack(ctx, missing, 2, NULL, &r), EOS_IO);
    EXPECT_STATUS(eos_raster_open_stack(ctx, crs, 0, NULL, &r), EOS_INVALID_ARG);
    /* a multi-band file joins band by band */
    const char *multi[2] = { rgb, rgb };
    ASSERT_OK(eos_raster_open_stack(ctx, multi, 2, NULL, &r));
    eos_raster_info in;
    eos_raster_get_info(r, &in);
    EXPECT_EQ_INT(in.n_bands, 6);
    eos_band_info bi;
    ASSERT_OK(eos_raster_band_info(r, 5, &bi));
    uint16_t px[6 * 4];
    ASSERT_OK(eos_raster_read(r, 3, 4, 2, 2, EOS_DTYPE_U16, px, NULL, EOS_PAD_REFLECT));
    int64_t bad = 0;
    for (int k = 0; k < 6; k++)
        for (int i = 0; i < 4; i++) bad += px[k * 4 + i] != val(3 + i % 2, 4 + i / 2, k % 3);
    EXPECT_EQ_INT(bad, 0);
    eos_raster_close(r);
    eos_ctx_free(ctx);
}

static void test_decimated(void) {
    const char *path = make_u16("dec.tif", 100, 70, 2, true, 32633, k_gt_utm, false, false);
    ASSERT_TRUE(path != NULL);
    eos_raster *r = open_sel(path, NULL);
    ASSERT_TRUE(r != NULL);
    uint16_t buf[2 * 50 * 50];
    uint8_t valid[50 * 50];
    int w = 0, h = 0;
    ASSERT_OK(eos_raster_read_decimated(r, 50, 50, EOS_DTYPE_U16, buf, valid, &w, &h));
    EXPECT_EQ_INT(w, 50);
    EXPECT_EQ_INT(h, 35);
    int64_t bad = 0;
    for (int b = 0; b < 2; b++)   /* nearest neighbour: pixel centres of a factor-2 reduction */
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) bad += buf[(b * h + y) * w + x] != val(2 * x + 1, 2 * y + 1, b);
    EXPECT_EQ_INT(bad, 0);
    /* larger than the raster: read as is */
    uint16_t *big = malloc(2 * 200 * 200 * 2);
    ASSERT_OK(eos_raster_read_decimated(r, 200, 200, EOS_DTYPE_U16, big, NULL, &w, &h));
    EXPECT_EQ_INT(w, 100);
    EXPECT_EQ_INT(h, 70);
    EXPECT_EQ_INT(big[100 * 70 + 3 * 100 + 4], val(4, 3, 1));
    free(big);
    EXPECT_STATUS(eos_raster_read_decimated(r, 0, 10, EOS_DTYPE_U16, buf, NULL, &w, &h), EOS_INVALID_ARG);
    eos_raster_close(r);
}

static void test_info_json(void) {
    const char *path = make_u16("json.tif", 30, 20, 2, true, 32633, k_gt_utm, false, true);
    ASSERT_TRUE(path != NULL);
    GDALDatasetH ds = GDALOpen(path, GA_Update);
    ASSERT_TRUE(ds != NULL);
    GDALSetDescription(GDALGetRasterBand(ds, 2), "a \"quoted\"\nname \xff");
    GDALClose(ds);
    eos_raster *r = open_sel(path, NULL);
    ASSERT_TRUE(r != NULL);
    char *json = NULL;
    ASSERT_OK(eos_raster_info_json(r, &json));
    const char *want[] = {
        "\"driver\":\"GTiff\"", "\"width\":30", "\"height\":20", "\"epsg\":32633",
        "\"name\":\"B02\"", "\"name\":\"a \\\"quoted\\\"\\u000aname \\ufffd\"",
        "\"geotransform\":[500000,10,0,4500000,0,-10]", "\"pixel_size\":[10,10]",
        "\"nodata\":0", "\"block\":[32,32]", "\"overviews\":[]", "\"mask\":true",
        "\"type\":\"UInt16\"", "\"selected\":[1,2]",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(json, want[i])) TEST_FAIL_("JSON lacks %s: %s", want[i], json);
    /* footprint: near 15 E (UTM 33N central meridian), 40.6 N */
    const char *bb = strstr(json, "\"bbox_wgs84\":[");
    if (bb && strncmp(bb, "\"bbox_wgs84\":null", 17)) {
        double w, s, e, n;
        EXPECT_EQ_INT(sscanf(bb, "\"bbox_wgs84\":[%lf,%lf,%lf,%lf]", &w, &s, &e, &n), 4);
        EXPECT_NEAR(w, 15.0, 0.01);
        EXPECT_NEAR(n, 40.65, 0.05);
        EXPECT_TRUE(e > w && n > s);
    }
    int depth = 0, min_depth = 0;
    bool in_str = false;
    for (const char *p = json; *p; p++) {
        if (in_str) {
            if (*p == '\\') p++;
            else if (*p == '"') in_str = false;
            continue;
        }
        if (*p == '"') in_str = true;
        else if (*p == '{' || *p == '[') depth++;
        else if (*p == '}' || *p == ']') depth--;
        if (depth < min_depth) min_depth = depth;
        if ((unsigned char)*p < 0x20) TEST_FAIL_("raw control character in JSON");
    }
    EXPECT_EQ_INT(depth, 0);
    EXPECT_EQ_INT(min_depth, 0);
    eos_free(json);
    eos_raster_close(r);

    /* no CRS, no transform: nulls */
    const char *plain = tmp_path("plain.tif");
    ds = create(plain, 3, 2, 1, GDT_Byte, NULL);
    ASSERT_TRUE(ds != NULL);
    GDALClose(ds);
    r = open_sel(plain, NULL);
    ASSERT_TRUE(r != NULL);
    ASSERT_OK(eos_raster_info_json(r, &json));
    EXPECT_TRUE(strstr(json, "\"crs\":null,\"geotransform\":null") != NULL);
    EXPECT_TRUE(strstr(json, "\"footprint_wgs84\":null,\"bbox_wgs84\":null") != NULL);
    eos_free(json);
    eos_raster_close(r);
}

/* ------------------------------------------------------------------ real data */

static const char *shared_file(const char *rel) {
    static char path[4][512];
    static int k;
    const char *d = test_shared_dir();
    if (!d) return NULL;
    k = (k + 1) % 4;
    snprintf(path[k], sizeof path[k], "%s/data/%s", d, rel);
    return access(path[k], R_OK) == 0 ? path[k] : NULL;
}

/* Read a whole raster with eosight and with plain GDAL (same bands, same type): equal? */
static int64_t diff_vs_gdal(const char *path, eos_dtype t, GDALDataType gt) {
    eos_raster *r = open_sel(path, NULL);
    if (!r) return -1;
    eos_raster_info in;
    eos_raster_get_info(r, &in);
    int sel[EOS_RASTER_MAX_BANDS];
    eos_raster_selected_bands(r, sel);
    size_t n = (size_t)in.width_px * in.height_px * in.n_selected, es = eos_dtype_size(t);
    char *a = malloc(n * es), *b = malloc(n * es);
    int64_t bad = -1;
    GDALDatasetH ds = GDALOpen(path, GA_ReadOnly);
    if (eos_raster_read(r, 0, 0, (int)in.width_px, (int)in.height_px, t, a, NULL, EOS_PAD_REFLECT) == EOS_OK &&
        ds && GDALDatasetRasterIO(ds, GF_Read, 0, 0, (int)in.width_px, (int)in.height_px, b,
                                  (int)in.width_px, (int)in.height_px, gt, in.n_selected, sel, 0, 0,
                                  0) == CE_None)
        bad = memcmp(a, b, n * es) != 0;
    if (ds) GDALClose(ds);
    free(a);
    free(b);
    eos_raster_close(r);
    return bad;
}

static void test_real_rgb_byte(void) {
    const char *p1 = shared_file("geotiff/RGB.byte.tif"), *p2 = shared_file("geotiff/rgb_lzw.tif"),
               *p3 = shared_file("geotiff/rgb_deflate.tif");
    if (!p1 || !p2 || !p3) TEST_SKIP("needs ../shared/data/geotiff: not present");
    eos_raster *r[3] = { open_sel(p1, NULL), open_sel(p2, NULL), open_sel(p3, NULL) };
    ASSERT_TRUE(r[0] && r[1] && r[2]);
    eos_raster_info in;
    eos_raster_get_info(r[0], &in);
    EXPECT_EQ_INT(in.width_px, 791);
    EXPECT_EQ_INT(in.height_px, 718);
    EXPECT_NEAR(in.georef.transform.gt[0], 101985.0, 1e-6);
    EXPECT_NEAR(in.georef.transform.gt[3], 2826915.0, 1e-6);
    EXPECT_NEAR(in.georef.transform.gt[1], 300.0379, 1e-4);
    EXPECT_NEAR(in.georef.transform.gt[5], -300.0418, 1e-4);
    EXPECT_EQ_INT(eos_crs_epsg(in.georef.crs), 32618);
    EXPECT_TRUE(in.has_mask);
    eos_band_info bi;
    ASSERT_OK(eos_raster_band_info(r[0], 1, &bi));
    EXPECT_TRUE(bi.has_nodata && bi.nodata == 0);
    size_t n = 3 * 791 * 718;
    uint8_t *px[3], *v[3];
    for (int k = 0; k < 3; k++) {
        px[k] = malloc(n);
        v[k] = malloc(791 * 718);
        EXPECT_OK(eos_raster_read(r[k], 0, 0, 791, 718, EOS_DTYPE_U8, px[k], v[k], EOS_PAD_REFLECT));
    }
    EXPECT_TRUE(memcmp(px[0], px[1], n) == 0);
    EXPECT_TRUE(memcmp(px[0], px[2], n) == 0);
    EXPECT_TRUE(memcmp(v[0], v[1], 791 * 718) == 0);
    int64_t n_invalid = 0, bad = 0;
    for (size_t i = 0; i < 791 * 718; i++) {
        bool any0 = px[0][i] == 0 || px[0][i + 791 * 718] == 0 || px[0][i + 2 * 791 * 718] == 0;
        bad += v[0][i] != !any0;
        n_invalid += !v[0][i];
    }
    EXPECT_EQ_INT(bad, 0);
    EXPECT_TRUE(n_invalid > 1000);   /* the scene has a nodata collar */
    /* a window across lzw tile borders equals the striped file */
    uint8_t a[3 * 300 * 200], b[3 * 300 * 200];
    EXPECT_OK(eos_raster_read(r[0], 200, 220, 300, 200, EOS_DTYPE_U8, a, NULL, EOS_PAD_REFLECT));
    EXPECT_OK(eos_raster_read(r[1], 200, 220, 300, 200, EOS_DTYPE_U8, b, NULL, EOS_PAD_REFLECT));
    EXPECT_TRUE(memcmp(a, b, sizeof a) == 0);
    for (int k = 0; k < 3; k++) {
        free(px[k]);
        free(v[k]);
        eos_raster_close(r[k]);
    }
}

static void test_real_misc(void) {
    const char *rgba = shared_file("geotiff/RGBA.uint16.tif"), *fnan = shared_file("geotiff/float_nan.tif"),
               *cog = shared_file("geotiff/cogeo.tif"),
               *lc8 = shared_file("geotiff/LC08_L1TP_224077_20200518_20200518_01_RT_B2_60m.TIF");
    if (!rgba || !fnan || !cog || !lc8) TEST_SKIP("needs ../shared/data/geotiff: not present");
    eos_raster *r = open_sel(rgba, NULL);
    ASSERT_TRUE(r != NULL);
    eos_raster_info in;
    eos_raster_get_info(r, &in);
    EXPECT_EQ_INT(in.n_bands, 4);
    EXPECT_EQ_INT(in.n_selected, 3);
    EXPECT_TRUE(in.has_mask);
    eos_raster_close(r);
    EXPECT_EQ_INT(diff_vs_gdal(rgba, EOS_DTYPE_U16, GDT_UInt16), 0);

    r = open_sel(fnan, NULL);
    ASSERT_TRUE(r != NULL);
    float f[6];
    uint8_t v[6];
    ASSERT_OK(eos_raster_read(r, 0, 0, 3, 2, EOS_DTYPE_F32, f, v, EOS_PAD_REFLECT));
    int64_t bad = 0, n_nan = 0;
    for (int i = 0; i < 6; i++) {
        n_nan += isnan(f[i]);
        bad += v[i] != !isnan(f[i]);
    }
    EXPECT_EQ_INT(bad, 0);
    EXPECT_TRUE(n_nan > 0);
    eos_raster_close(r);

    r = open_sel(cog, NULL);
    ASSERT_TRUE(r != NULL);
    eos_raster_get_info(r, &in);
    EXPECT_EQ_INT(in.n_overviews, 6);
    EXPECT_TRUE(in.has_mask);   /* per-dataset mask */
    /* decimated to 256 x 256 = GDAL's 256 overview level */
    uint8_t *d = malloc(3 * 256 * 256), *o = malloc(3 * 256 * 256);
    int w, h;
    ASSERT_OK(eos_raster_read_decimated(r, 256, 256, EOS_DTYPE_U8, d, NULL, &w, &h));
    EXPECT_EQ_INT(w, 256);
    EXPECT_EQ_INT(h, 256);
    GDALDatasetH ds = GDALOpen(cog, GA_ReadOnly);
    for (int b = 0; b < 3; b++) {
        GDALRasterBandH ov = GDALGetOverview(GDALGetRasterBand(ds, b + 1), 1);
        ASSERT_TRUE(ov && GDALGetRasterBandXSize(ov) == 256);
        EXPECT_EQ_INT(GDALRasterIO(ov, GF_Read, 0, 0, 256, 256, o + b * 65536, 256, 256, GDT_Byte, 0, 0), CE_None);
    }
    GDALClose(ds);
    EXPECT_TRUE(memcmp(d, o, 3 * 256 * 256) == 0);
    free(d);
    free(o);
    eos_raster_close(r);

    r = open_sel(lc8, NULL);
    ASSERT_TRUE(r != NULL);
    eos_raster_get_info(r, &in);
    EXPECT_EQ_INT(in.width_px, 1003);
    EXPECT_EQ_INT(in.height_px, 758);
    EXPECT_EQ_INT(eos_crs_epsg(in.georef.crs), 32621);
    eos_band_info bi;
    ASSERT_OK(eos_raster_band_info(r, 1, &bi));
    EXPECT_EQ_INT(bi.dtype, EOS_DTYPE_U16);
    eos_raster_close(r);
    EXPECT_EQ_INT(diff_vs_gdal(lc8, EOS_DTYPE_U16, GDT_UInt16), 0);
    EXPECT_EQ_INT(diff_vs_gdal(lc8, EOS_DTYPE_F32, GDT_Float32), 0);
}

static void test_real_eurosat(void) {
    const char *f = shared_file("eurosat-ms/images/Forest/Forest_1031.tif");
    if (!f) TEST_SKIP("needs ../shared/data/eurosat-ms: not present");
    eos_raster *r = open_sel(f, NULL);
    ASSERT_TRUE(r != NULL);
    eos_raster_info in;
    eos_raster_get_info(r, &in);
    EXPECT_EQ_INT(in.n_bands, 13);
    EXPECT_EQ_INT(in.n_selected, 13);
    EXPECT_EQ_INT(in.width_px, 64);
    EXPECT_EQ_INT(eos_crs_epsg(in.georef.crs), 32632);
    for (int b = 1; b <= 13; b++) {
        eos_band_info bi;
        ASSERT_OK(eos_raster_band_info(r, b, &bi));
        EXPECT_EQ_INT(bi.dtype, EOS_DTYPE_U16);
    }
    eos_raster_close(r);
    EXPECT_EQ_INT(diff_vs_gdal(f, EOS_DTYPE_U16, GDT_UInt16), 0);
}

/* ------------------------------------------------------------------ main */

static void setup(void) {
    test_tmpdir_create(g_dir, sizeof g_dir, "rread");
}

static void teardown(void) {
    test_tmpdir_remove(g_dir);
}

int main(int argc, char **argv) {
    static const test_case cases[] = {
        TEST(test_describe_utm),      TEST(test_describe_4326_striped), TEST(test_read_inside),
        TEST(test_band_selection),    TEST(test_reflect_padding),       TEST(test_reflect_small_raster),
        TEST(test_nodata_padding),    TEST(test_dataset_mask),          TEST(test_alpha_band),
        TEST(test_float_nan),         TEST(test_lossy_nodata),          TEST(test_open_from_memory),
        TEST(test_stack),             TEST(test_stack_errors),          TEST(test_decimated),
        TEST(test_info_json),         TEST(test_real_rgb_byte),         TEST(test_real_misc),
        TEST(test_real_eurosat),
    };
    setup();
    int rc = test_run_all(cases, (int)(sizeof cases / sizeof cases[0]), argc, argv);
    teardown();
    return rc;
}
