/*
 * tests/io/test_raster_write.c - eos_raster_writer (src/io/writer.c).
 *
 * Synthetic rasters are generated here with known values, written through the writer window by
 * window, and checked with GDAL calls made directly in the test (an oracle independent of
 * src/io): pixel values exactly, geotransform to 1e-12, CRS with OSRIsSame, nodata, colour
 * table entries, category names, band descriptions, tile size and compression. Round trips
 * through eos_raster_open/eos_raster_read -> writer -> read must be exact for u8, u16, i16 and
 * f32. COG output must be recognised as a COG (LAYOUT=COG) with overviews, class masks must get
 * nearest-neighbour overviews, and the temporary-file discipline is checked: nothing under the
 * final name before close, nothing at all after discard or a failed close.
 */
#include <dirent.h>
#include <gdal.h>
#include <ogr_srs_api.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/test.h"
#include "eosight/raster.h"

static char g_dir[256];

/* ------------------------------------------------------------------ helpers */

/* A fresh empty folder g_dir/name; returns its path in buf. */
static const char *subdir(const char *name, char *buf, size_t n) {
    snprintf(buf, n, "%s/%s", g_dir, name);
    mkdir(buf, 0700);
    return buf;
}

/* Entries of a folder other than . and .. */
static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

static bool exists(const char *path) { return access(path, F_OK) == 0; }

/* Value of pixel (x, y) of band b for each test type: covers the type's range, with negatives
 * for i16 and fractions for f32. */
static double pattern(eos_dtype t, int x, int y, int b) {
    int64_t v = (int64_t)x * 37 + (int64_t)y * 1009 + (int64_t)b * 7919;
    switch (t) {
    case EOS_DTYPE_U8:  return (double)(v % 251);
    case EOS_DTYPE_U16: return (double)(v * 13 % 65521);
    case EOS_DTYPE_I16: return (double)(v * 13 % 65521 - 32760);
    default:            return (double)(v % 100003) * 0.25 - 5000.125;
    }
}

/* n_bands x h x w band-sequential buffer of `pattern` values as dtype t (malloc'd); every
 * 17th pixel holds `nodata` in band 0. */
static void *make_pixels(eos_dtype t, int w, int h, int nb, double nodata) {
    size_t es = eos_dtype_size(t), n = (size_t)w * (size_t)h * (size_t)nb;
    uint8_t *buf = malloc(n * es);
    for (int b = 0; b < nb; b++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                size_t i = ((size_t)b * (size_t)h + (size_t)y) * (size_t)w + (size_t)x;
                double v = (b == 0 && (x + y * w) % 17 == 0) ? nodata : pattern(t, x, y, b);
                switch (t) {
                case EOS_DTYPE_U8:  buf[i] = (uint8_t)v; break;
                case EOS_DTYPE_U16: ((uint16_t *)buf)[i] = (uint16_t)v; break;
                case EOS_DTYPE_I16: ((int16_t *)buf)[i] = (int16_t)v; break;
                default:            ((float *)buf)[i] = (float)v; break;
                }
            }
    return buf;
}

/* Write `pix` (n_bands x h x w of dtype t) through the writer in windows of `step` px. */
static eos_status write_windows(eos_raster_writer *wr, eos_dtype t, const void *pix, int w,
                                int h, int nb, int step) {
    size_t es = eos_dtype_size(t);
    uint8_t *win = malloc((size_t)nb * (size_t)step * (size_t)step * es);
    eos_status st = EOS_OK;
    for (int y0 = 0; y0 < h && !st; y0 += step)
        for (int x0 = 0; x0 < w && !st; x0 += step) {
            int ww = w - x0 < step ? w - x0 : step, hh = h - y0 < step ? h - y0 : step;
            for (int b = 0; b < nb; b++)
                for (int y = 0; y < hh; y++)
                    memcpy(win + (((size_t)b * hh + y) * ww) * es,
                           (const uint8_t *)pix +
                               (((size_t)b * h + (size_t)(y0 + y)) * w + (size_t)x0) * es,
                           (size_t)ww * es);
            st = eos_raster_writer_write(wr, x0, y0, ww, hh, t, win);
        }
    free(win);
    return st;
}

/* Read a whole file with GDAL into a malloc'd band-sequential buffer of type t. */
static void *gdal_read_all(GDALDatasetH ds, eos_dtype t) {
    int w = GDALGetRasterXSize(ds), h = GDALGetRasterYSize(ds), nb = GDALGetRasterCount(ds);
    void *buf = malloc((size_t)w * h * nb * eos_dtype_size(t));
    GDALDataType gt = t == EOS_DTYPE_U8 ? GDT_Byte : t == EOS_DTYPE_U16 ? GDT_UInt16
                    : t == EOS_DTYPE_I16 ? GDT_Int16 : GDT_Float32;
    if (GDALDatasetRasterIO(ds, GF_Read, 0, 0, w, h, buf, w, h, gt, nb, NULL, 0, 0, 0)) {
        free(buf);
        return NULL;
    }
    return buf;
}

static const char *structure_item(GDALDatasetH ds, const char *key) {
    return GDALGetMetadataItem(ds, key, "IMAGE_STRUCTURE");
}

/* CRS of ds equals the CRS `def` (OSR IsSame). */
static bool crs_is(GDALDatasetH ds, const char *def) {
    OGRSpatialReferenceH got = GDALGetSpatialRef(ds);
    if (!got) return false;
    OGRSpatialReferenceH want = OSRNewSpatialReference(NULL);
    OSRSetAxisMappingStrategy(want, OAMS_TRADITIONAL_GIS_ORDER);   /* as GDAL datasets have */
    bool same = OSRSetFromUserInput(want, def) == OGRERR_NONE && OSRIsSame(got, want);
    OSRDestroySpatialReference(want);
    return same;
}

static eos_raster_writer_params base_params(eos_dtype t, int w, int h, int nb) {
    eos_raster_writer_params p = eos_raster_writer_default_params();
    p.width_px = w;
    p.height_px = h;
    p.n_bands = nb;
    p.dtype = t;
    p.block_px = 64;
    return p;
}

/* ------------------------------------------------------------------ GeoTIFF: values + header */

typedef struct type_case {
    eos_dtype   t;
    double      nodata;
    const char *crs;           /* "EPSG:32632" or "EPSG:4326" */
    double      gt[6];
    const char *compress;
} type_case;

static const type_case k_cases[] = {
    { EOS_DTYPE_U8,  0,       "EPSG:32632", { 500000, 10, 0, 4600000, 0, -10 },       "DEFLATE" },
    { EOS_DTYPE_U16, 65535,   "EPSG:32632", { 399960.5, 20, 0, 5000040.25, 0, -20 },  "LZW" },
    { EOS_DTYPE_I16, -32768,  "EPSG:4326",  { 11.25, 0.0001, 0, 46.5, 0, -0.0001 },   "ZSTD" },
    { EOS_DTYPE_F32, -9999.5, "EPSG:4326",  { -3.125, 1.0 / 3600, 1e-7, 51.7, 2e-7, -1.0 / 3600 },
      "NONE" },
};

static void check_header(GDALDatasetH ds, const type_case *c, int nb) {
    double gt[6];
    ASSERT_EQ_INT(GDALGetGeoTransform(ds, gt), CE_None);
    for (int i = 0; i < 6; i++) EXPECT_NEAR(gt[i], c->gt[i], 1e-12);
    EXPECT_TRUE(crs_is(ds, c->crs));
    for (int b = 1; b <= nb; b++) {
        GDALRasterBandH band = GDALGetRasterBand(ds, b);
        int has = 0;
        double nd = GDALGetRasterNoDataValue(band, &has);
        EXPECT_TRUE(has);
        EXPECT_NEAR(nd, c->nodata, 0);
        int bx, by;
        GDALGetBlockSize(band, &bx, &by);
        EXPECT_EQ_INT(bx, 64);
        EXPECT_EQ_INT(by, 64);
    }
    const char *comp = structure_item(ds, "COMPRESSION");
    if (!strcmp(c->compress, "NONE")) {
        EXPECT_TRUE(comp == NULL);
    } else {
        EXPECT_STR_EQ(comp, c->compress);
        const char *pred = structure_item(ds, "PREDICTOR");
        EXPECT_STR_EQ(pred, c->t == EOS_DTYPE_F32 ? NULL : "2");
    }
}

static void write_case(const type_case *c, const char *path, int w, int h, int nb) {
    eos_crs *crs;
    ASSERT_OK(eos_crs_create(NULL, c->crs, &crs));
    eos_raster_writer_params p = base_params(c->t, w, h, nb);
    memcpy(p.georef.transform.gt, c->gt, sizeof c->gt);
    p.georef.has_transform = true;
    p.georef.crs = crs;
    p.has_nodata = true;
    p.nodata = c->nodata;
    p.compress = c->compress;
    void *pix = make_pixels(c->t, w, h, nb, c->nodata);
    eos_raster_writer *wr;
    eos_status st = eos_raster_writer_create(NULL, path, &p, &wr);
    eos_crs_free(crs);   /* the writer must not keep it */
    if (st == EOS_OK) st = write_windows(wr, c->t, pix, w, h, nb, 50);
    if (st == EOS_OK) st = eos_raster_writer_close(NULL, wr);
    EXPECT_EQ_INT(st, EOS_OK);

    GDALDatasetH ds = GDALOpen(path, GA_ReadOnly);
    ASSERT_TRUE(ds != NULL);
    EXPECT_EQ_INT(GDALGetRasterXSize(ds), w);
    EXPECT_EQ_INT(GDALGetRasterYSize(ds), h);
    EXPECT_EQ_INT(GDALGetRasterCount(ds), nb);
    EXPECT_STR_EQ(GDALGetDriverShortName(GDALGetDatasetDriver(ds)), "GTiff");
    void *got = gdal_read_all(ds, c->t);
    EXPECT_TRUE(got && !memcmp(got, pix, (size_t)w * h * nb * eos_dtype_size(c->t)));
    check_header(ds, c, nb);
    GDALClose(ds);
    free(got);
    free(pix);
}

static void test_gtiff_types_and_header(void) {
    char dir[300], path[400];
    for (size_t i = 0; i < sizeof k_cases / sizeof k_cases[0]; i++) {
        snprintf(path, sizeof path, "%s/t%zu.tif", subdir("types", dir, sizeof dir), i);
        write_case(&k_cases[i], path, 130, 75, 3);
    }
    EXPECT_EQ_INT(count_entries(dir), 4);   /* no temporaries left */
}

/* ------------------------------------------------------------------ round trip via eos_raster */

static void roundtrip_case(const type_case *c, int idx) {
    char dir[300], src[400], dst[400];
    subdir("roundtrip", dir, sizeof dir);
    snprintf(src, sizeof src, "%s/src%d.tif", dir, idx);
    snprintf(dst, sizeof dst, "%s/dst%d.tif", dir, idx);
    int w = 97, h = 61, nb = 2;
    write_case(c, src, w, h, nb);

    eos_raster *r;
    ASSERT_OK(eos_raster_open(NULL, src, NULL, &r));
    eos_raster_info info;
    eos_raster_get_info(r, &info);
    size_t n = (size_t)w * h * nb * eos_dtype_size(c->t);
    void *a = malloc(n), *b = malloc(n);
    eos_status st = eos_raster_read(r, 0, 0, w, h, c->t, a, NULL, EOS_PAD_NODATA);
    EXPECT_EQ_INT(st, EOS_OK);

    eos_raster_writer_params p = base_params(c->t, w, h, nb);
    p.georef = info.georef;
    p.has_nodata = true;
    p.nodata = c->nodata;
    eos_raster_writer *wr;
    if (!st) st = eos_raster_writer_create(NULL, dst, &p, &wr);
    if (!st) st = eos_raster_writer_write(wr, 0, 0, w, h, c->t, a);
    if (!st) st = eos_raster_writer_close(NULL, wr);
    eos_raster_close(r);
    ASSERT_EQ_INT(st, EOS_OK);

    ASSERT_OK(eos_raster_open(NULL, dst, NULL, &r));
    EXPECT_OK(eos_raster_read(r, 0, 0, w, h, c->t, b, NULL, EOS_PAD_NODATA));
    EXPECT_TRUE(!memcmp(a, b, n));
    eos_raster_close(r);
    GDALDatasetH ds = GDALOpen(dst, GA_ReadOnly);
    ASSERT_TRUE(ds != NULL);
    double gt[6];
    ASSERT_EQ_INT(GDALGetGeoTransform(ds, gt), CE_None);
    for (int i = 0; i < 6; i++) EXPECT_NEAR(gt[i], c->gt[i], 1e-12);
    EXPECT_TRUE(crs_is(ds, c->crs));
    GDALClose(ds);
    free(a);
    free(b);
}

static void test_roundtrip_via_reader(void) {
    for (size_t i = 0; i < sizeof k_cases / sizeof k_cases[0]; i++)
        roundtrip_case(&k_cases[i], (int)i);
}

/* f32 with NaN nodata: NaN is stored and read back as nodata, pixels bit-exact. */
static void test_f32_nan_nodata(void) {
    char dir[300], path[400];
    snprintf(path, sizeof path, "%s/nan.tif", subdir("nan", dir, sizeof dir));
    int w = 40, h = 30;
    float *pix = make_pixels(EOS_DTYPE_F32, w, h, 1, NAN);
    eos_raster_writer_params p = base_params(EOS_DTYPE_F32, w, h, 1);
    p.has_nodata = true;
    p.nodata = NAN;
    eos_raster_writer *wr;
    ASSERT_OK(eos_raster_writer_create(NULL, path, &p, &wr));
    EXPECT_OK(eos_raster_writer_write(wr, 0, 0, w, h, EOS_DTYPE_F32, pix));
    ASSERT_OK(eos_raster_writer_close(NULL, wr));
    GDALDatasetH ds = GDALOpen(path, GA_ReadOnly);
    ASSERT_TRUE(ds != NULL);
    int has = 0;
    EXPECT_TRUE(isnan(GDALGetRasterNoDataValue(GDALGetRasterBand(ds, 1), &has)) && has);
    float *got = gdal_read_all(ds, EOS_DTYPE_F32);
    EXPECT_TRUE(got && !memcmp(got, pix, (size_t)w * h * 4));
    GDALClose(ds);
    free(got);
    free(pix);
}

/* ------------------------------------------------------------------ class masks and names */

/* Class 1's colour is the mean of classes 0 and 2: GDAL's AVERAGE overviews of a paletted band
 * average colours and take the nearest entry, so they would turn a 0/2 checkerboard into 1. */
static const eos_rgba k_colors[4] = {
    { 0, 0, 0, 255 }, { 100, 15, 15, 255 }, { 200, 30, 30, 255 }, { 30, 60, 220, 128 },
};
static const char *const k_names[4] = { "background", "forest", "building", "water" };

static void check_palette(GDALRasterBandH band) {
    GDALColorTableH ct = GDALGetRasterColorTable(band);
    ASSERT_TRUE(ct != NULL);
    EXPECT_TRUE(GDALGetColorEntryCount(ct) >= 4);
    for (int i = 0; i < 4; i++) {
        const GDALColorEntry *e = GDALGetColorEntry(ct, i);
        ASSERT_TRUE(e != NULL);
        EXPECT_EQ_INT(e->c1, k_colors[i].r);
        EXPECT_EQ_INT(e->c2, k_colors[i].g);
        EXPECT_EQ_INT(e->c3, k_colors[i].b);
    }
    char **cats = GDALGetRasterCategoryNames(band);
    ASSERT_TRUE(cats != NULL);
    for (int i = 0; i < 4; i++) EXPECT_STR_EQ(cats[i], k_names[i]);
    EXPECT_TRUE(cats[4] == NULL);
}

/* A 0/2 checkerboard with a few class 1 and 3 pixels, nodata 255. */
static uint8_t *make_mask(int w, int h) {
    uint8_t *m = malloc((size_t)w * h);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) m[(size_t)y * w + x] = ((x + y) & 1) ? 2 : 0;
    m[5] = 1;
    m[w + 7] = 3;
    m[(size_t)w * h - 1] = 255;
    return m;
}

static eos_raster_writer_params mask_params(int w, int h) {
    eos_raster_writer_params p = base_params(EOS_DTYPE_U8, w, h, 1);
    p.has_nodata = true;
    p.nodata = 255;
    p.colors = k_colors;
    p.class_names = k_names;
    p.n_classes = 4;
    static const char *const desc[1] = { "landcover" };
    p.band_names = desc;
    return p;
}

static void test_class_mask(void) {
    char dir[300], path[400];
    snprintf(path, sizeof path, "%s/mask.tif", subdir("mask", dir, sizeof dir));
    int w = 70, h = 40;
    uint8_t *m = make_mask(w, h);
    eos_raster_writer_params p = mask_params(w, h);
    eos_raster_writer *wr;
    ASSERT_OK(eos_raster_writer_create(NULL, path, &p, &wr));
    EXPECT_OK(write_windows(wr, EOS_DTYPE_U8, m, w, h, 1, 32));
    ASSERT_OK(eos_raster_writer_close(NULL, wr));
    GDALDatasetH ds = GDALOpen(path, GA_ReadOnly);
    ASSERT_TRUE(ds != NULL);
    GDALRasterBandH band = GDALGetRasterBand(ds, 1);
    check_palette(band);
    EXPECT_STR_EQ(GDALGetDescription(band), "landcover");
    EXPECT_EQ_INT(GDALGetRasterColorInterpretation(band), GCI_PaletteIndex);
    EXPECT_STR_EQ(structure_item(ds, "COMPRESSION"), "DEFLATE");
    EXPECT_TRUE(structure_item(ds, "PREDICTOR") == NULL);   /* no predictor on class masks */
    uint8_t *got = gdal_read_all(ds, EOS_DTYPE_U8);
    EXPECT_TRUE(got && !memcmp(got, m, (size_t)w * h));
    GDALClose(ds);
    free(got);
    free(m);
}

static void test_band_descriptions(void) {
    char dir[300], path[400];
    snprintf(path, sizeof path, "%s/prob.tif", subdir("prob", dir, sizeof dir));
    static const char *const names[3] = { "background", "forest", "water" };
    eos_raster_writer_params p = base_params(EOS_DTYPE_F32, 20, 10, 3);
    p.band_names = names;
    eos_raster_writer *wr;
    ASSERT_OK(eos_raster_writer_create(NULL, path, &p, &wr));
    float *pix = make_pixels(EOS_DTYPE_F32, 20, 10, 3, 0.5);
    EXPECT_OK(eos_raster_writer_write(wr, 0, 0, 20, 10, EOS_DTYPE_F32, pix));
    ASSERT_OK(eos_raster_writer_close(NULL, wr));
    free(pix);
    GDALDatasetH ds = GDALOpen(path, GA_ReadOnly);
    ASSERT_TRUE(ds != NULL);
    for (int b = 0; b < 3; b++)
        EXPECT_STR_EQ(GDALGetDescription(GDALGetRasterBand(ds, b + 1)), names[b]);
    int has = 1;
    GDALGetRasterNoDataValue(GDALGetRasterBand(ds, 1), &has);
    EXPECT_TRUE(!has);
    EXPECT_TRUE(GDALGetSpatialRef(ds) == NULL);
    GDALClose(ds);
}

/* ------------------------------------------------------------------ COG */

static void test_cog(void) {
    char dir[300], path[400];
    snprintf(path, sizeof path, "%s/scene.tif", subdir("cog", dir, sizeof dir));
    int w = 300, h = 260, nb = 2;
    eos_crs *crs;
    ASSERT_OK(eos_crs_from_epsg(NULL, 32633, &crs));
    eos_raster_writer_params p = base_params(EOS_DTYPE_U16, w, h, nb);
    p.format = EOS_RASTER_COG;
    p.block_px = 128;
    p.georef.crs = crs;
    p.georef.has_transform = true;
    double gt[6] = { 600000, 10, 0, 5100000, 0, -10 };
    memcpy(p.georef.transform.gt, gt, sizeof gt);
    uint16_t *pix = make_pixels(EOS_DTYPE_U16, w, h, nb, 0);
    eos_raster_writer *wr;
    ASSERT_OK(eos_raster_writer_create(NULL, path, &p, &wr));
    eos_crs_free(crs);
    EXPECT_OK(write_windows(wr, EOS_DTYPE_U16, pix, w, h, nb, 100));
    EXPECT_TRUE(!exists(path));
    ASSERT_OK(eos_raster_writer_close(NULL, wr));
    EXPECT_EQ_INT(count_entries(dir), 1);

    GDALDatasetH ds = GDALOpen(path, GA_ReadOnly);
    ASSERT_TRUE(ds != NULL);
    EXPECT_STR_EQ(structure_item(ds, "LAYOUT"), "COG");
    EXPECT_STR_EQ(structure_item(ds, "COMPRESSION"), "DEFLATE");
    GDALRasterBandH band = GDALGetRasterBand(ds, 1);
    EXPECT_TRUE(GDALGetOverviewCount(band) >= 1);
    int bx, by;
    GDALGetBlockSize(band, &bx, &by);
    EXPECT_EQ_INT(bx, 128);
    EXPECT_EQ_INT(by, 128);
    EXPECT_TRUE(crs_is(ds, "EPSG:32633"));
    uint16_t *got = gdal_read_all(ds, EOS_DTYPE_U16);
    EXPECT_TRUE(got && !memcmp(got, pix, (size_t)w * h * nb * 2));
    GDALClose(ds);
    free(got);
    free(pix);
}

/* Overviews of a class mask use nearest neighbour: every overview pixel is a class of the
 * checkerboard (AVERAGE would produce 1 from 0/2 neighbours everywhere). */
static void test_cog_class_mask(void) {
    char dir[300], path[400];
    snprintf(path, sizeof path, "%s/mask.tif", subdir("cogmask", dir, sizeof dir));
    int w = 512, h = 300;
    uint8_t *m = make_mask(w, h);
    eos_raster_writer_params p = mask_params(w, h);
    p.format = EOS_RASTER_COG;
    p.block_px = 128;
    eos_raster_writer *wr;
    ASSERT_OK(eos_raster_writer_create(NULL, path, &p, &wr));
    EXPECT_OK(write_windows(wr, EOS_DTYPE_U8, m, w, h, 1, 128));
    ASSERT_OK(eos_raster_writer_close(NULL, wr));
    free(m);
    GDALDatasetH ds = GDALOpen(path, GA_ReadOnly);
    ASSERT_TRUE(ds != NULL);
    EXPECT_STR_EQ(structure_item(ds, "LAYOUT"), "COG");
    GDALRasterBandH band = GDALGetRasterBand(ds, 1);
    check_palette(band);
    ASSERT_TRUE(GDALGetOverviewCount(band) >= 1);
    GDALRasterBandH ov = GDALGetOverview(band, 0);
    int ow = GDALGetRasterBandXSize(ov), oh = GDALGetRasterBandYSize(ov);
    uint8_t *o = malloc((size_t)ow * oh);
    ASSERT_EQ_INT(GDALRasterIO(ov, GF_Read, 0, 0, ow, oh, o, ow, oh, GDT_Byte, 0, 0), CE_None);
    int bad = 0;
    for (int i = 0; i < ow * oh; i++) bad += o[i] == 1;
    EXPECT_TRUE(bad < ow * oh / 100);
    free(o);
    GDALClose(ds);
}

/* ------------------------------------------------------------------ PNG and JPEG */

static void test_png_jpeg(void) {
    char dir[300], png[400], jpg[400];
    subdir("img", dir, sizeof dir);
    snprintf(png, sizeof png, "%s/pic.png", dir);
    snprintf(jpg, sizeof jpg, "%s/pic.jpg", dir);
    int w = 64, h = 48;
    uint8_t *pix = malloc((size_t)3 * w * h);
    for (int b = 0; b < 3; b++)   /* smooth gradients: JPEG keeps them close */
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) pix[((size_t)b * h + y) * w + x] = (uint8_t)(x * 3 + y * b);
    for (int f = 0; f < 2; f++) {
        eos_raster_writer_params p = base_params(EOS_DTYPE_U8, w, h, 3);
        p.format = f ? EOS_RASTER_JPEG : EOS_RASTER_PNG;
        p.quality = 95;
        eos_raster_writer *wr;
        ASSERT_OK(eos_raster_writer_create(NULL, f ? jpg : png, &p, &wr));
        EXPECT_OK(write_windows(wr, EOS_DTYPE_U8, pix, w, h, 3, 40));
        ASSERT_OK(eos_raster_writer_close(NULL, wr));
        GDALDatasetH ds = GDALOpen(f ? jpg : png, GA_ReadOnly);
        ASSERT_TRUE(ds != NULL);
        EXPECT_STR_EQ(GDALGetDriverShortName(GDALGetDatasetDriver(ds)), f ? "JPEG" : "PNG");
        uint8_t *got = gdal_read_all(ds, EOS_DTYPE_U8);
        ASSERT_TRUE(got != NULL);
        double err = 0;
        for (int i = 0; i < 3 * w * h; i++) err += fabs((double)got[i] - pix[i]);
        if (f) EXPECT_TRUE(err / (3.0 * w * h) < 2.0);
        else EXPECT_TRUE(err == 0);
        GDALClose(ds);
        free(got);
    }
    EXPECT_EQ_INT(count_entries(dir), 2);   /* pic.png, pic.jpg: nothing else */
    free(pix);
}

/* ------------------------------------------------------------------ errors and temporaries */

static void test_window_outside(void) {
    char dir[300], path[400];
    snprintf(path, sizeof path, "%s/w.tif", subdir("window", dir, sizeof dir));
    eos_raster_writer_params p = base_params(EOS_DTYPE_U16, 50, 40, 2);
    eos_raster_writer *wr;
    ASSERT_OK(eos_raster_writer_create(NULL, path, &p, &wr));
    uint16_t buf[2 * 10 * 10] = { 0 };
    EXPECT_STATUS(eos_raster_writer_write(wr, 45, 0, 10, 10, EOS_DTYPE_U16, buf), EOS_INVALID_ARG);
    EXPECT_TRUE(strstr(eos_raster_writer_errmsg(wr), "x 45") != NULL);
    EXPECT_STATUS(eos_raster_writer_write(wr, 0, 31, 10, 10, EOS_DTYPE_U16, buf), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_raster_writer_write(wr, -1, 0, 10, 10, EOS_DTYPE_U16, buf), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_raster_writer_write(wr, 0, 0, 0, 10, EOS_DTYPE_U16, buf), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_raster_writer_write(wr, INT64_MAX, 0, 10, 10, EOS_DTYPE_U16, buf),
                  EOS_INVALID_ARG);
    EXPECT_STATUS(eos_raster_writer_write(wr, 0, 0, 10, 10, EOS_DTYPE_BOOL, buf), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_raster_writer_write(wr, 0, 0, 10, 10, EOS_DTYPE_U16, NULL), EOS_INVALID_ARG);
    EXPECT_OK(eos_raster_writer_write(wr, 40, 30, 10, 10, EOS_DTYPE_U16, buf));
    EXPECT_STR_EQ(eos_raster_writer_errmsg(wr), "");
    EXPECT_OK(eos_raster_writer_close(NULL, wr));
}

/* Each bad parameter is refused with EOS_INVALID_ARG, a message naming the problem, and no
 * file created. */
static void test_bad_params(void) {
    char dir[300], path[400];
    snprintf(path, sizeof path, "%s/bad.tif", subdir("bad", dir, sizeof dir));
    eos_ctx *ctx;
    ASSERT_OK(eos_ctx_create(NULL, &ctx));
    struct { eos_raster_writer_params p; const char *word; } cases[16];
    int n = 0;
    eos_raster_writer_params ok = base_params(EOS_DTYPE_U8, 10, 10, 1);
    cases[n].p = ok; cases[n].p.width_px = 0;                   cases[n++].word = "size";
    cases[n].p = ok; cases[n].p.height_px = (int64_t)1 << 40;   cases[n++].word = "size";
    cases[n].p = ok; cases[n].p.n_bands = 0;                    cases[n++].word = "n_bands";
    cases[n].p = ok; cases[n].p.dtype = EOS_DTYPE_F16;          cases[n++].word = "dtype";
    cases[n].p = ok; cases[n].p.block_px = 100;                 cases[n++].word = "block_px";
    cases[n].p = ok; cases[n].p.compress = "JPEG2000";          cases[n++].word = "compress";
    cases[n].p = ok; cases[n].p.has_nodata = true; cases[n].p.nodata = 300;
    cases[n++].word = "nodata";
    cases[n].p = ok; cases[n].p.has_nodata = true; cases[n].p.nodata = 1.5;
    cases[n++].word = "nodata";
    cases[n].p = ok; cases[n].p.colors = k_colors;              cases[n++].word = "n_classes";
    cases[n].p = ok; cases[n].p.n_bands = 2; cases[n].p.colors = k_colors; cases[n].p.n_classes = 4;
    cases[n++].word = "one u8 or u16 band";
    cases[n].p = ok; cases[n].p.format = EOS_RASTER_JPEG; cases[n].p.dtype = EOS_DTYPE_U16;
    cases[n++].word = "JPEG";
    cases[n].p = ok; cases[n].p.format = EOS_RASTER_PNG; cases[n].p.n_bands = 5;
    cases[n++].word = "PNG";
    cases[n].p = ok; cases[n].p.format = EOS_RASTER_COG; cases[n].p.block_px = 64;
    cases[n++].word = "COG";
    cases[n].p = ok; cases[n].p.georef.has_transform = true;   /* all zero: singular */
    memset(cases[n].p.georef.transform.gt, 0, sizeof cases[n].p.georef.transform.gt);
    cases[n++].word = "singular";
    cases[n].p = ok; cases[n].p.format = (eos_raster_format)9;  cases[n++].word = "format";
    cases[n].p = ok; cases[n].p.quality = 101;                  cases[n++].word = "quality";
    for (int i = 0; i < n; i++) {
        eos_raster_writer *wr = (eos_raster_writer *)1;
        EXPECT_STATUS(eos_raster_writer_create(ctx, path, &cases[i].p, &wr), EOS_INVALID_ARG);
        EXPECT_TRUE(wr == NULL);
        if (!strstr(eos_ctx_errmsg(ctx), cases[i].word))
            TEST_FAIL_("case %d: message '%s' lacks '%s'", i, eos_ctx_errmsg(ctx), cases[i].word);
    }
    eos_raster_writer *wr;
    EXPECT_STATUS(eos_raster_writer_create(ctx, NULL, &ok, &wr), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_raster_writer_create(ctx, path, NULL, &wr), EOS_INVALID_ARG);
    char nodir[400];
    snprintf(nodir, sizeof nodir, "%s/missing/x.tif", dir);
    EXPECT_STATUS(eos_raster_writer_create(ctx, nodir, &ok, &wr), EOS_IO);
    EXPECT_TRUE(strstr(eos_ctx_errmsg(ctx), "missing/x.tif.part") != NULL);
    EXPECT_EQ_INT(count_entries(dir), 0);
    eos_ctx_free(ctx);
}

/* Before close nothing exists under the final name: a crash mid-write leaves only the
 * temporary. Closing renames it into place. */
static void test_crash_safety(void) {
    char dir[300], path[400], part[420];
    snprintf(path, sizeof path, "%s/out.tif", subdir("crash", dir, sizeof dir));
    snprintf(part, sizeof part, "%s.part", path);
    eos_raster_writer_params p = base_params(EOS_DTYPE_U8, 64, 64, 1);
    eos_raster_writer *wr;
    ASSERT_OK(eos_raster_writer_create(NULL, path, &p, &wr));
    uint8_t *pix = make_pixels(EOS_DTYPE_U8, 64, 64, 1, 0);
    EXPECT_OK(eos_raster_writer_write(wr, 0, 0, 64, 64, EOS_DTYPE_U8, pix));
    EXPECT_TRUE(!exists(path));
    EXPECT_TRUE(exists(part));
    ASSERT_OK(eos_raster_writer_close(NULL, wr));
    EXPECT_TRUE(exists(path));
    EXPECT_TRUE(!exists(part));
    free(pix);
}

static void test_discard(void) {
    char dir[300], path[400];
    snprintf(path, sizeof path, "%s/out.tif", subdir("discard", dir, sizeof dir));
    for (int f = 0; f < 2; f++) {
        eos_raster_writer_params p = mask_params(64, 64);   /* category names: a sidecar too */
        p.format = f ? EOS_RASTER_COG : EOS_RASTER_GTIFF;
        p.block_px = 128;
        eos_raster_writer *wr;
        ASSERT_OK(eos_raster_writer_create(NULL, path, &p, &wr));
        uint8_t *m = make_mask(64, 64);
        EXPECT_OK(eos_raster_writer_write(wr, 0, 0, 64, 64, EOS_DTYPE_U8, m));
        free(m);
        eos_raster_writer_discard(wr);
        EXPECT_EQ_INT(count_entries(dir), 0);
    }
    eos_raster_writer_discard(NULL);
}

/* Closing fails when the final name cannot be taken (a folder is in the way): EOS_IO, message
 * in the context, and every temporary removed. */
static void test_failed_close(void) {
    char dir[300], path[400];
    snprintf(path, sizeof path, "%s/out.tif", subdir("failclose", dir, sizeof dir));
    eos_ctx *ctx;
    ASSERT_OK(eos_ctx_create(NULL, &ctx));
    for (int f = 0; f < 3; f++) {
        eos_raster_writer_params p = mask_params(64, 64);
        p.format = f == 0 ? EOS_RASTER_GTIFF : f == 1 ? EOS_RASTER_COG : EOS_RASTER_PNG;
        p.block_px = 128;
        eos_raster_writer *wr;
        ASSERT_OK(eos_raster_writer_create(ctx, path, &p, &wr));
        uint8_t *m = make_mask(64, 64);
        EXPECT_OK(eos_raster_writer_write(wr, 0, 0, 64, 64, EOS_DTYPE_U8, m));
        free(m);
        ASSERT_EQ_INT(mkdir(path, 0700), 0);
        char sub[420];
        snprintf(sub, sizeof sub, "%s/keep", path);   /* non-empty: rename() cannot replace it */
        ASSERT_EQ_INT(mkdir(sub, 0700), 0);
        EXPECT_STATUS(eos_raster_writer_close(ctx, wr), EOS_IO);
        EXPECT_TRUE(strstr(eos_ctx_errmsg(ctx), "rename") != NULL);
        EXPECT_EQ_INT(count_entries(dir), 1);   /* only the folder we put in the way */
        rmdir(sub);
        rmdir(path);
    }
    eos_ctx_free(ctx);
}

/* Writing over an existing file replaces it, and a stale sidecar of the old file goes. */
static void test_overwrite(void) {
    char dir[300], path[400], aux[420];
    snprintf(path, sizeof path, "%s/out.tif", subdir("overwrite", dir, sizeof dir));
    snprintf(aux, sizeof aux, "%s.aux.xml", path);
    for (int pass = 0; pass < 2; pass++) {
        eos_raster_writer_params p = pass ? base_params(EOS_DTYPE_U8, 32, 32, 1)
                                          : mask_params(32, 32);
        eos_raster_writer *wr;
        ASSERT_OK(eos_raster_writer_create(NULL, path, &p, &wr));
        uint8_t *m = make_mask(32, 32);
        EXPECT_OK(eos_raster_writer_write(wr, 0, 0, 32, 32, EOS_DTYPE_U8, m));
        free(m);
        ASSERT_OK(eos_raster_writer_close(NULL, wr));
    }
    EXPECT_TRUE(!exists(aux));
    GDALDatasetH ds = GDALOpen(path, GA_ReadOnly);
    ASSERT_TRUE(ds != NULL);
    EXPECT_TRUE(GDALGetRasterCategoryNames(GDALGetRasterBand(ds, 1)) == NULL);
    EXPECT_TRUE(GDALGetRasterColorTable(GDALGetRasterBand(ds, 1)) == NULL);
    GDALClose(ds);
}

static void setup(void) {
    test_tmpdir_create(g_dir, sizeof g_dir, "rwrite");
    GDALAllRegister();
    CPLPushErrorHandler(CPLQuietErrorHandler);
}

static void teardown(void) {
    test_tmpdir_remove(g_dir);
}

int main(int argc, char **argv) {
    static const test_case cases[] = {
        TEST(test_gtiff_types_and_header), TEST(test_roundtrip_via_reader),
        TEST(test_f32_nan_nodata),         TEST(test_class_mask),
        TEST(test_band_descriptions),      TEST(test_cog),
        TEST(test_cog_class_mask),         TEST(test_png_jpeg),
        TEST(test_window_outside),         TEST(test_bad_params),
        TEST(test_crash_safety),           TEST(test_discard),
        TEST(test_failed_close),           TEST(test_overwrite),
    };
    setup();
    int rc = test_run_all(cases, (int)(sizeof cases / sizeof cases[0]), argc, argv);
    teardown();
    return rc;
}
