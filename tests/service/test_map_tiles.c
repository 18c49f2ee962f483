/*
 * tests/service/test_map_tiles.c - the XYZ map tile renderer (src/service/tiles.h).
 *
 * Tile boxes are checked against hand-computed values (the Web Mercator square, z=1, a z=12
 * tile over Zurich) and the textbook slippy-map formulas. Rendering is checked on synthetic
 * GeoTIFFs written here with GDAL: each tile PNG is decoded with GDAL and its pixels compared
 * with positions computed independently (the slippy-map formulas, and OSR for UTM rasters):
 * colours where the raster lies, alpha 0 outside, a red/blue boundary at the expected column
 * within 1 px; the 2-98% stretch of a u16 band; Sentinel-2 band names; class masks in their
 * colour table's colours with nodata transparent; the order of overlapping rasters; scenes
 * across the antimeridian (EPSG:4326 beyond 180 and UTM zone 60) drawn on both map edges and
 * never smeared across the world; decimated reading of a raster without overviews against
 * one with overviews; the display cache; refused tiles and broken files; 4 threads at once.
 * (The file is not called test_tiles.c: tests/io/test_tiles.c owns that CTest name.)
 */
#define _XOPEN_SOURCE 700   /* utimensat, truncate */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <ogr_srs_api.h>

#include "common/geo_oracle.h"
#include "common/test.h"
#include "eosight/analysis.h"
#include "eosight/raster.h"
#include "service/tiles.h"

#define PI_ 3.14159265358979323846
#define NPX (SVC_TILE_PX * SVC_TILE_PX)

static char g_dir[256];

/* ------------------------------------------------------------------ rasters */

typedef double (*fill_fn)(int band, int col, int row);

typedef struct spec {
    int                    epsg;      /* 0: no georeferencing */
    double                 gt[6];
    int                    w, h, bands;
    GDALDataType           type;
    fill_fn                fill;
    const GDALColorInterp *interp;    /* per band, or NULL */
    const char *const     *desc;      /* per band, or NULL */
    bool                   has_nodata;
    double                 nodata;
    const GDALColorEntry  *ct;        /* colour table of band 1 */
    int                    n_ct;
    bool                   overviews;
} spec;

static void path_in(char *buf, size_t n, const char *name) {
    snprintf(buf, n, "%s/%s", g_dir, name);
}

static void set_srs(GDALDatasetH ds, int epsg) {
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    char *wkt = NULL;
    OSRImportFromEPSG(srs, epsg);
    OSRExportToWkt(srs, &wkt);
    GDALSetProjection(ds, wkt);
    CPLFree(wkt);
    OSRDestroySpatialReference(srs);
}

static void set_band_info(GDALDatasetH ds, const spec *s) {
    for (int b = 1; b <= s->bands; b++) {
        GDALRasterBandH band = GDALGetRasterBand(ds, b);
        if (s->interp) GDALSetRasterColorInterpretation(band, s->interp[b - 1]);
        if (s->desc) GDALSetDescription(band, s->desc[b - 1]);
        if (s->has_nodata) GDALSetRasterNoDataValue(band, s->nodata);
    }
    if (s->ct) {
        GDALColorTableH ct = GDALCreateColorTable(GPI_RGB);
        for (int i = 0; i < s->n_ct; i++) GDALSetColorEntry(ct, i, &s->ct[i]);
        GDALSetRasterColorTable(GDALGetRasterBand(ds, 1), ct);
        GDALDestroyColorTable(ct);
    }
}

static bool make_raster(const char *name, const spec *s) {
    char path[512];
    path_in(path, sizeof path, name);
    GDALAllRegister();
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path, s->w, s->h, s->bands,
                                 s->type, NULL);
    if (!ds) return false;
    if (s->epsg) {
        set_srs(ds, s->epsg);
        GDALSetGeoTransform(ds, (double *)s->gt);
    }
    set_band_info(ds, s);
    double *v = malloc(sizeof *v * (size_t)s->w * (size_t)s->h);
    bool ok = v != NULL;
    for (int b = 1; ok && b <= s->bands; b++) {
        for (int r = 0; r < s->h; r++)
            for (int c = 0; c < s->w; c++)
                v[(size_t)r * (size_t)s->w + (size_t)c] = s->fill(b, c, r);
        ok = GDALRasterIO(GDALGetRasterBand(ds, b), GF_Write, 0, 0, s->w, s->h, v, s->w, s->h,
                          GDT_Float64, 0, 0) == CE_None;
    }
    free(v);
    if (ok && s->overviews) {
        int levels[] = { 2, 4, 8, 16, 32 };
        ok = GDALBuildOverviews(ds, "AVERAGE", 5, levels, 0, NULL, NULL, NULL) == CE_None;
    }
    GDALClose(ds);
    return ok;
}

/* ------------------------------------------------------------------ rendering and decoding */

/* Render and decode into rgba (NPX * 4 bytes, pixel-interleaved); msg gets the error. */
static eos_status render_rgba(svc_tiler *t, const char *const *paths, int n,
                              svc_tile_kind kind, int z, int x, int y, uint8_t *rgba,
                              char *msg, size_t msg_size) {
    uint8_t *png = NULL;
    size_t len = 0;
    eos_status st = svc_tile_render(t, paths, n, kind, z, x, y, &png, &len, msg, msg_size);
    if (st != EOS_OK) return st;
    char name[96];
    snprintf(name, sizeof name, "/vsimem/test_map_tiles_%p.png", (void *)rgba);
    VSILFILE *f = VSIFileFromMemBuffer(name, png, (vsi_l_offset)len, FALSE);
    if (f) VSIFCloseL(f);
    GDALDatasetH ds = GDALOpen(name, GA_ReadOnly);
    bool ok = ds && GDALGetRasterXSize(ds) == SVC_TILE_PX &&
              GDALGetRasterYSize(ds) == SVC_TILE_PX &&
              GDALGetRasterCount(ds) == 4 &&
              GDALGetRasterDataType(GDALGetRasterBand(ds, 1)) == GDT_Byte &&
              !strcmp(GDALGetDriverShortName(GDALGetDatasetDriver(ds)), "PNG") &&
              GDALDatasetRasterIO(ds, GF_Read, 0, 0, SVC_TILE_PX, SVC_TILE_PX, rgba, SVC_TILE_PX,
                                  SVC_TILE_PX, GDT_Byte, 4, NULL, 4, 4 * SVC_TILE_PX, 1) == CE_None;
    if (ds) GDALClose(ds);
    VSIUnlink(name);
    eos_free(png);
    if (!ok) snprintf(msg, msg_size, "the tile is not a 256 x 256 RGBA PNG");
    return ok ? EOS_OK : EOS_INTERNAL;
}

static const uint8_t *px(const uint8_t *rgba, int col, int row) {
    return rgba + 4 * ((size_t)row * SVC_TILE_PX + (size_t)col);
}

#define EXPECT_PX(rgba, col, row, R, G, B, A, tol)                                           \
    do {                                                                                     \
        const uint8_t *p_ = px(rgba, col, row);                                              \
        if (abs(p_[0] - (R)) > (tol) || abs(p_[1] - (G)) > (tol) || abs(p_[2] - (B)) > (tol) || \
            abs(p_[3] - (A)) > (tol))                                                        \
            TEST_FAIL_("pixel (%d, %d) = (%d, %d, %d, %d), want (%d, %d, %d, %d) +- %d",     \
                       (int)(col), (int)(row), p_[0], p_[1], p_[2], p_[3], R, G, B, A, tol); \
    } while (0)

#define EXPECT_CLEAR(rgba, col, row) EXPECT_EQ_INT(px(rgba, col, row)[3], 0)

/* Slippy-map formulas (OpenStreetMap wiki): fractional tile pixel of a lon / lat. */
static double t_col(int z, int x, double lon) {
    return ((lon + 180) / 360 * (1 << z) - x) * SVC_TILE_PX;
}

static double t_row(int z, int y, double lat) {
    double r = lat * PI_ / 180;
    return ((1 - log(tan(r) + 1 / cos(r)) / PI_) / 2 * (1 << z) - y) * SVC_TILE_PX;
}

static int tile_x(int z, double lon) { return (int)floor(t_col(z, 0, lon) / SVC_TILE_PX); }
static int tile_y(int z, double lat) { return (int)floor(t_row(z, 0, lat) / SVC_TILE_PX); }

/* First column on `row` whose pixel is more blue than red among opaque ones, -1 if none. */
static int first_blue(const uint8_t *rgba, int row) {
    for (int c = 0; c < SVC_TILE_PX; c++) {
        const uint8_t *p = px(rgba, c, row);
        if (p[3] >= 128 && p[2] > p[0]) return c;
    }
    return -1;
}

static int count_opaque(const uint8_t *rgba) {
    int n = 0;
    for (int i = 0; i < NPX; i++) n += rgba[4 * i + 3] != 0;
    return n;
}

/* lon/lat of a point of an EPSG CRS, with OSR (an independent transform). */
static void to_lonlat(int epsg, double e, double n, double *lon, double *lat) {
    oracle_lonlat(epsg, e, n, lon, lat);
}

/* ------------------------------------------------------------------ fills */

static double fill_red_blue(int band, int col, int row) {   /* RGB: left half red */
    (void)row;
    bool left = col < 100;
    return band == 1 ? (left ? 255 : 0) : band == 3 ? (left ? 0 : 255) : 0;
}

static double fill_red_blue_140(int band, int col, int row) {   /* 140 wide, split at 70 */
    (void)row;
    bool left = col < 70;
    return band == 1 ? (left ? 255 : 0) : band == 3 ? (left ? 0 : 255) : 0;
}

static double fill_gradient(int band, int col, int row) {   /* 1000 .. 2990 by column */
    (void)band;
    (void)row;
    return 1000 + 10 * col;
}

/* B08, B02, B03, B04: red (B04) rises to the east, blue (B02) and B08 fall. */
static double fill_dark(int band, int col, int row) {   /* 8-bit 10 .. 49 by 5 columns */
    (void)band;
    (void)row;
    return 10 + col / 5;
}

static double fill_s2(int band, int col, int row) {
    (void)row;
    switch (band) {
    case 1: return 9000 - 20 * col;
    case 2: return 3000 - 10 * col;
    case 3: return 1500 + (col % 7) * 10;
    default: return 1000 + 10 * col;
    }
}

/* Classes by 40-column stripes: 0, 1, 2, 7, 255. */
static double fill_classes(int band, int col, int row) {
    (void)band;
    (void)row;
    static const int k[5] = { 0, 1, 2, 7, 255 };
    return k[col / 40];
}

static double fill_half_nodata(int band, int col, int row) {   /* right half 0 = nodata */
    (void)row;
    if (col >= 100) return 0;
    return band == 1 ? 200 : band == 2 ? 100 : 50;
}

static double fill_green(int band, int col, int row) {
    (void)col;
    (void)row;
    return band == 2 ? 255 : 0;
}

static double fill_red(int band, int col, int row) {
    (void)col;
    (void)row;
    return band == 1 ? 255 : 0;
}

/* A smooth pattern with fine noise: zoomed-out views of it must look alike however read. */
static double fill_big(int band, int col, int row) {
    (void)band;
    unsigned h = (unsigned)(col * 73856093u) ^ (unsigned)(row * 19349663u);
    return 1000 + col * 1.0 + row * 0.5 + (h % 64);
}

static const GDALColorInterp k_rgb[3] = { GCI_RedBand, GCI_GreenBand, GCI_BlueBand };

/* 200 x 160 px of 0.005 degrees: lon 10 .. 11, lat 47.6 .. 48.4, in tile 7/67/44. */
static spec spec4326(int bands, GDALDataType type, fill_fn fill) {
    spec s = { 4326, { 10.0, 0.005, 0, 48.4, 0, -0.005 }, 200, 160, bands, type, fill,
               bands == 3 ? k_rgb : NULL, NULL, false, 0, NULL, 0, false };
    return s;
}

/* ------------------------------------------------------------------ tile boxes */

static void test_bounds(void) {
    double m[4], ll[4];
    svc_tile_bounds(0, 0, 0, m, ll);
    EXPECT_NEAR(m[0], -20037508.342789244, 1e-6);
    EXPECT_NEAR(m[1], -20037508.342789244, 1e-6);
    EXPECT_NEAR(m[2], 20037508.342789244, 1e-6);
    EXPECT_NEAR(m[3], 20037508.342789244, 1e-6);
    EXPECT_NEAR(ll[0], -180, 1e-12);
    EXPECT_NEAR(ll[1], -85.0511287798, 1e-9);
    EXPECT_NEAR(ll[2], 180, 1e-12);
    EXPECT_NEAR(ll[3], 85.0511287798, 1e-9);

    svc_tile_bounds(1, 1, 0, m, ll);   /* the north-east quarter */
    EXPECT_NEAR(m[0], 0, 1e-6);
    EXPECT_NEAR(m[1], 0, 1e-6);
    EXPECT_NEAR(m[2], 20037508.342789244, 1e-6);
    EXPECT_NEAR(m[3], 20037508.342789244, 1e-6);
    EXPECT_NEAR(ll[0], 0, 1e-12);
    EXPECT_NEAR(ll[1], 0, 1e-12);
    EXPECT_NEAR(ll[2], 180, 1e-12);
    EXPECT_NEAR(ll[3], 85.0511287798, 1e-9);

    /* Zurich (8.55 E, 47.37 N) at z=12: x = floor(188.55 / 360 * 4096) = 2145,
     * y = floor((1 - ln(tan 47.37 + sec 47.37) / pi) / 2 * 4096) = floor(1434.46) = 1434;
     * west = 2145 / 4096 * 360 - 180, north = atan(sinh(pi (1 - 2 * 1434 / 4096))). */
    EXPECT_EQ_INT(tile_x(12, 8.55), 2145);
    EXPECT_EQ_INT(tile_y(12, 47.37), 1434);
    svc_tile_bounds(12, 2145, 1434, m, ll);
    EXPECT_NEAR(ll[0], 8.525390625, 1e-9);
    EXPECT_NEAR(ll[2], 8.61328125, 1e-9);
    EXPECT_NEAR(ll[1], 47.338822694822, 1e-9);
    EXPECT_NEAR(ll[3], 47.398349200359, 1e-9);
    EXPECT_NEAR(m[0], 949042.1431887485, 1e-5);
    EXPECT_NEAR(m[2], 958826.0828092508, 1e-5);
    EXPECT_NEAR(m[1], 5997554.98736807, 1e-5);
    EXPECT_NEAR(m[3], 6007338.926988572, 1e-5);
    /* the north edge by another formula: lat = 2 atan(exp(y / R)) - pi / 2 */
    EXPECT_NEAR(ll[3], (2 * atan(exp(m[3] / 6378137.0)) - PI_ / 2) * 180 / PI_, 1e-9);
    svc_tile_bounds(12, 2145, 1434, NULL, NULL);   /* both optional */
}

static void test_valid(void) {
    EXPECT_TRUE(svc_tile_valid(0, 0, 0));
    EXPECT_TRUE(svc_tile_valid(3, 7, 7));
    EXPECT_TRUE(svc_tile_valid(24, (1 << 24) - 1, 0));
    EXPECT_TRUE(!svc_tile_valid(3, 8, 0));
    EXPECT_TRUE(!svc_tile_valid(3, 0, 8));
    EXPECT_TRUE(!svc_tile_valid(3, -1, 0));
    EXPECT_TRUE(!svc_tile_valid(3, 0, -1));
    EXPECT_TRUE(!svc_tile_valid(-1, 0, 0));
    EXPECT_TRUE(!svc_tile_valid(25, 0, 0));
    EXPECT_TRUE(!svc_tile_valid(1, 1 << 30, 0));
}

/* ------------------------------------------------------------------ imagery */

static void test_rgb_4326(void) {
    spec s = spec4326(3, GDT_Byte, fill_red_blue);
    ASSERT_TRUE(make_raster("rgb.tif", &s));
    char path[512], msg[512];
    path_in(path, sizeof path, "rgb.tif");
    const char *paths[] = { path };
    int z = 7, x = tile_x(7, 10.5), y = tile_y(7, 48.0);
    ASSERT_EQ_INT(x, 67);
    ASSERT_EQ_INT(y, 44);
    svc_tiler *t = svc_tiler_create();
    ASSERT_TRUE(t != NULL);
    uint8_t *rgba = malloc(NPX * 4);
    eos_status st = render_rgba(t, paths, 1, SVC_TILE_IMAGE, z, x, y, rgba, msg, sizeof msg);
    if (st) TEST_FAIL_("render: %s: %s", eos_status_name(st), msg);
    if (st == EOS_OK) {
        double c10 = t_col(z, x, 10), c105 = t_col(z, x, 10.5), c11 = t_col(z, x, 11);
        double rn = t_row(z, y, 48.4), rs = t_row(z, y, 47.6);
        int rm = (int)((rn + rs) / 2);
        EXPECT_PX(rgba, (int)((c10 + c105) / 2), rm, 255, 0, 0, 255, 0);
        EXPECT_PX(rgba, (int)((c105 + c11) / 2), rm, 0, 0, 255, 255, 0);
        int fb = first_blue(rgba, rm), want = (int)ceil(c105 - 0.5);
        if (abs(fb - want) > 1)
            TEST_FAIL_("red/blue boundary at column %d, want %d +- 1", fb, want);
        /* outside: alpha 0 a few pixels beyond every edge */
        EXPECT_CLEAR(rgba, (int)c10 - 3, rm);
        EXPECT_CLEAR(rgba, (int)c11 + 3, rm);
        EXPECT_CLEAR(rgba, (int)((c10 + c11) / 2), (int)rn - 3);
        EXPECT_CLEAR(rgba, (int)((c10 + c11) / 2), (int)rs + 3);
        EXPECT_CLEAR(rgba, 5, 5);
        EXPECT_PX(rgba, (int)((c105 + c11) / 2), (int)rn + 3, 0, 0, 255, 255, 0);
        /* the opaque area is the raster's box, within a pixel on each side */
        double area = (c11 - c10) * (rs - rn);
        int n = count_opaque(rgba);
        if (fabs(n - area) > 2 * ((c11 - c10) + (rs - rn)))
            TEST_FAIL_("%d opaque pixels, the raster covers %.0f", n, area);
    }
    free(rgba);
    svc_tiler_free(t);
}

static void test_utm(void) {
    /* EPSG:32632, 100 m pixels, E 450000 .. 470000, N 5265000 .. 5250000 (near 8.4 E 47.4 N);
     * left half red, boundary at E = 460000. */
    spec s = { 32632, { 450000, 100, 0, 5265000, 0, -100 }, 200, 150, 3, GDT_Byte,
               fill_red_blue, k_rgb, NULL, false, 0, NULL, 0, false };
    ASSERT_TRUE(make_raster("utm.tif", &s));
    char path[512], msg[512];
    path_in(path, sizeof path, "utm.tif");
    const char *paths[] = { path };
    double lon_b, lat_b, lon_w, lat_w;
    to_lonlat(32632, 460000, 5257500, &lon_b, &lat_b);
    to_lonlat(32632, 450000, 5257500, &lon_w, &lat_w);
    ASSERT_TRUE(isfinite(lon_b) && isfinite(lat_b));
    int z = 9, x = tile_x(z, lon_b), y = tile_y(z, lat_b);
    svc_tiler *t = svc_tiler_create();
    uint8_t *rgba = malloc(NPX * 4);
    eos_status st = render_rgba(t, paths, 1, SVC_TILE_IMAGE, z, x, y, rgba, msg, sizeof msg);
    if (st) TEST_FAIL_("render: %s: %s", eos_status_name(st), msg);
    if (st == EOS_OK) {
        double cb = t_col(z, x, lon_b), rb = t_row(z, y, lat_b);
        int row = (int)floor(rb), fb = first_blue(rgba, row), want = (int)ceil(cb - 0.5);
        if (abs(fb - want) > 1) TEST_FAIL_("UTM boundary at column %d, want %d +- 1", fb, want);
        EXPECT_PX(rgba, want - 4, row, 255, 0, 0, 255, 0);
        EXPECT_PX(rgba, want + 4, row, 0, 0, 255, 255, 0);
        double cw = t_col(z, x, lon_w);
        if (cw > 4) EXPECT_CLEAR(rgba, (int)cw - 3, (int)floor(t_row(z, y, lat_w)));
    }
    free(rgba);
    svc_tiler_free(t);
}

static void test_u16_stretch(void) {
    /* 200 columns 1000, 1010 .. 2990, 160 pixels each: the 2nd percentile is the 4th value
     * (ceil(0.02 * 32000) = 640 = 4 x 160): 1030; the 98th the 196th: 2950. */
    spec s = spec4326(1, GDT_UInt16, fill_gradient);
    ASSERT_TRUE(make_raster("u16.tif", &s));
    char path[512], msg[512];
    path_in(path, sizeof path, "u16.tif");
    const char *paths[] = { path };
    svc_tiler *t = svc_tiler_create();
    uint8_t *rgba = malloc(NPX * 4);
    int z = 7, x = 67, y = 44;
    eos_status st = render_rgba(t, paths, 1, SVC_TILE_IMAGE, z, x, y, rgba, msg, sizeof msg);
    if (st) TEST_FAIL_("render: %s: %s", eos_status_name(st), msg);
    if (st == EOS_OK) {
        int rm = (int)((t_row(z, y, 48.4) + t_row(z, y, 47.6)) / 2);
        double c10 = t_col(z, x, 10), c11 = t_col(z, x, 11);
        for (int c = (int)c10 + 2; c < (int)c11 - 1; c += 7) {
            /* bilinear on a linear ramp is exact: value at the pixel centre's raster column */
            double lon = -180 + (x + (c + 0.5) / SVC_TILE_PX) * 360.0 / (1 << z);
            double v = 1000 + 10 * ((lon - 10) / 0.005 - 0.5);
            double g = fmin(255, fmax(0, 255 * (v - 1030) / (2950 - 1030)));
            const uint8_t *p = px(rgba, c, rm);
            if (fabs(p[0] - g) > 2 || p[0] != p[1] || p[1] != p[2] || p[3] != 255)
                TEST_FAIL_("column %d: (%d, %d, %d, %d), want grey %.1f", c, p[0], p[1], p[2],
                           p[3], g);
        }
    }
    free(rgba);
    svc_tiler_free(t);
}

static void test_dark_bytes(void) {
    /* 8-bit values 10 .. 49, 800 pixels each: too dark to show as they are. The 2nd percentile
     * is the 1st value (800 >= 640), the 98th the 40th (40 x 800 >= 31360): 10 .. 49. */
    spec s = spec4326(1, GDT_Byte, fill_dark);
    ASSERT_TRUE(make_raster("dark.tif", &s));
    char path[512], msg[512];
    path_in(path, sizeof path, "dark.tif");
    const char *paths[] = { path };
    svc_tiler *t = svc_tiler_create();
    uint8_t *rgba = malloc(NPX * 4);
    int z = 7, x = 67, y = 44;
    eos_status st = render_rgba(t, paths, 1, SVC_TILE_IMAGE, z, x, y, rgba, msg, sizeof msg);
    if (st) TEST_FAIL_("render: %s: %s", eos_status_name(st), msg);
    if (st == EOS_OK) {
        int rm = (int)((t_row(z, y, 48.4) + t_row(z, y, 47.6)) / 2);
        const uint8_t *w = px(rgba, (int)t_col(z, x, 10.01), rm);
        const uint8_t *m = px(rgba, (int)t_col(z, x, 10.5), rm);   /* value 30 */
        const uint8_t *e = px(rgba, (int)t_col(z, x, 10.99), rm);
        if (w[0] > 12 || e[0] < 243 || abs(m[0] - 131) > 8)
            TEST_FAIL_("dark 8-bit not stretched: west %d, middle %d (want ~131), east %d", w[0],
                       m[0], e[0]);
    }
    free(rgba);
    svc_tiler_free(t);
}

static void test_sentinel2_names(void) {
    static const char *const desc[4] = { "B08", "B02", "B03", "B04_10m" };
    spec s = spec4326(4, GDT_UInt16, fill_s2);
    s.desc = desc;
    ASSERT_TRUE(make_raster("s2.tif", &s));
    char path[512], msg[512];
    path_in(path, sizeof path, "s2.tif");
    const char *paths[] = { path };
    svc_tiler *t = svc_tiler_create();
    uint8_t *rgba = malloc(NPX * 4);
    int z = 7, x = 67, y = 44;
    eos_status st = render_rgba(t, paths, 1, SVC_TILE_IMAGE, z, x, y, rgba, msg, sizeof msg);
    if (st) TEST_FAIL_("render: %s: %s", eos_status_name(st), msg);
    if (st == EOS_OK) {
        int rm = (int)((t_row(z, y, 48.4) + t_row(z, y, 47.6)) / 2);
        const uint8_t *w = px(rgba, (int)t_col(z, x, 10.05), rm);
        const uint8_t *e = px(rgba, (int)t_col(z, x, 10.95), rm);
        /* B04 as red, B02 as blue: blue in the west, red in the east */
        if (!(w[2] > 200 && w[0] < 30 && e[0] > 200 && e[2] < 30 && w[3] == 255))
            TEST_FAIL_("west (%d, %d, %d), east (%d, %d, %d): want blue then red", w[0], w[1],
                       w[2], e[0], e[1], e[2]);
    }
    free(rgba);
    svc_tiler_free(t);
}

static void test_nodata(void) {
    spec s = spec4326(3, GDT_Byte, fill_half_nodata);
    s.has_nodata = true;
    s.nodata = 0;
    ASSERT_TRUE(make_raster("nodata.tif", &s));
    char path[512], msg[512];
    path_in(path, sizeof path, "nodata.tif");
    const char *paths[] = { path };
    svc_tiler *t = svc_tiler_create();
    uint8_t *rgba = malloc(NPX * 4);
    int z = 7, x = 67, y = 44;
    eos_status st = render_rgba(t, paths, 1, SVC_TILE_IMAGE, z, x, y, rgba, msg, sizeof msg);
    if (st) TEST_FAIL_("render: %s: %s", eos_status_name(st), msg);
    if (st == EOS_OK) {
        int rm = (int)((t_row(z, y, 48.4) + t_row(z, y, 47.6)) / 2);
        EXPECT_PX(rgba, (int)t_col(z, x, 10.25), rm, 200, 100, 50, 255, 0);   /* 8-bit as is */
        EXPECT_CLEAR(rgba, (int)t_col(z, x, 10.75), rm);
        EXPECT_CLEAR(rgba, (int)t_col(z, x, 10.55), rm);
    }
    free(rgba);
    svc_tiler_free(t);
}

static void test_order(void) {
    /* A green over lon 10 .. 11, B red over 10.5 .. 11.5 */
    spec a = spec4326(3, GDT_Byte, fill_green), b = spec4326(3, GDT_Byte, fill_red);
    b.gt[0] = 10.5;
    ASSERT_TRUE(make_raster("green.tif", &a));
    ASSERT_TRUE(make_raster("red.tif", &b));
    char pa[512], pb[512], msg[512];
    path_in(pa, sizeof pa, "green.tif");
    path_in(pb, sizeof pb, "red.tif");
    svc_tiler *t = svc_tiler_create();
    uint8_t *rgba = malloc(NPX * 4);
    int z = 7, x = 67, y = 44, rm = (int)((t_row(z, y, 48.4) + t_row(z, y, 47.6)) / 2);
    int c_a = (int)t_col(z, x, 10.25), c_ab = (int)t_col(z, x, 10.75);
    const char *ab[] = { pa, pb }, *ba[] = { pb, pa };
    ASSERT_OK(render_rgba(t, ab, 2, SVC_TILE_IMAGE, z, x, y, rgba, msg, sizeof msg));
    EXPECT_PX(rgba, c_a, rm, 0, 255, 0, 255, 0);
    EXPECT_PX(rgba, c_ab, rm, 255, 0, 0, 255, 0);   /* the later one on top */
    ASSERT_OK(render_rgba(t, ba, 2, SVC_TILE_IMAGE, z, x, y, rgba, msg, sizeof msg));
    EXPECT_PX(rgba, c_ab, rm, 0, 255, 0, 255, 0);
    free(rgba);
    svc_tiler_free(t);
}

/* ------------------------------------------------------------------ class masks */

static void check_classes(const uint8_t *rgba, const GDALColorEntry *ct, bool image_kind) {
    int z = 7, x = 67, y = 44, rm = (int)((t_row(z, y, 48.4) + t_row(z, y, 47.6)) / 2);
    for (int k = 0; k < 5; k++) {   /* the middle of stripe k: lon 10 + (40 k + 20) * 0.005 */
        int c = (int)t_col(z, x, 10 + (40 * k + 20) * 0.005);
        if (k < 3) {
            EXPECT_PX(rgba, c, rm, ct[k].c1, ct[k].c2, ct[k].c3, 255, 0);
        } else if (k == 3 && !image_kind) {
            eos_rgba p = eos_class_palette(7);
            EXPECT_PX(rgba, c, rm, p.r, p.g, p.b, 255, 0);
        } else {
            EXPECT_CLEAR(rgba, c, rm);   /* 255, and in imagery a value beyond the table */
        }
    }
    /* nearest neighbour: every opaque pixel has exactly one of the expected colours */
    eos_rgba p7 = eos_class_palette(7);
    for (int i = 0; i < NPX; i++) {
        const uint8_t *p = rgba + 4 * i;
        if (!p[3]) continue;
        bool known = p[0] == p7.r && p[1] == p7.g && p[2] == p7.b;
        for (int k = 0; k < 3; k++)
            known = known || (p[0] == ct[k].c1 && p[1] == ct[k].c2 && p[2] == ct[k].c3);
        if (!known || p[3] != 255) {
            TEST_FAIL_("pixel %d: (%d, %d, %d, %d) is no class colour", i, p[0], p[1], p[2], p[3]);
            break;
        }
    }
}

static void test_classes(void) {
    static const GDALColorEntry ct[3] = { { 20, 200, 20, 255 }, { 200, 30, 30, 255 },
                                          { 30, 30, 220, 255 } };
    spec s = spec4326(1, GDT_Byte, fill_classes);
    s.ct = ct;
    s.n_ct = 3;
    ASSERT_TRUE(make_raster("classes.tif", &s));   /* no nodata declared: 255 still is */
    s.has_nodata = true;
    s.nodata = 255;
    ASSERT_TRUE(make_raster("classes_nd.tif", &s));
    char p1[512], p2[512], msg[512];
    path_in(p1, sizeof p1, "classes.tif");
    path_in(p2, sizeof p2, "classes_nd.tif");
    svc_tiler *t = svc_tiler_create();
    uint8_t *rgba = malloc(NPX * 4);
    const char *a[] = { p1 }, *b[] = { p2 };
    ASSERT_OK(render_rgba(t, a, 1, SVC_TILE_CLASSES, 7, 67, 44, rgba, msg, sizeof msg));
    check_classes(rgba, ct, false);
    ASSERT_OK(render_rgba(t, b, 1, SVC_TILE_CLASSES, 7, 67, 44, rgba, msg, sizeof msg));
    check_classes(rgba, ct, false);
    /* a paletted band shown as imagery keeps its colours */
    ASSERT_OK(render_rgba(t, b, 1, SVC_TILE_IMAGE, 7, 67, 44, rgba, msg, sizeof msg));
    check_classes(rgba, ct, true);
    /* a zoomed-in tile: the stripe boundary between class 0 and 1 (lon 10.2) is sharp */
    int z = 12, x = tile_x(12, 10.2), y = tile_y(12, 48.0);
    ASSERT_OK(render_rgba(t, b, 1, SVC_TILE_CLASSES, z, x, y, rgba, msg, sizeof msg));
    int row = 128, want = (int)ceil(t_col(z, x, 10.2) - 0.5), got = -1;
    for (int c = 0; c < SVC_TILE_PX && got < 0; c++)
        if (px(rgba, c, row)[0] == ct[1].c1 && px(rgba, c, row)[3] == 255) got = c;
    if (abs(got - want) > 1) TEST_FAIL_("class 1 starts at column %d, want %d +- 1", got, want);
    free(rgba);
    svc_tiler_free(t);
}

/* ------------------------------------------------------------------ empty, refused, broken */

static void test_outside_and_empty(void) {
    spec s = spec4326(3, GDT_Byte, fill_red_blue);
    ASSERT_TRUE(make_raster("far.tif", &s));
    char path[512], msg[512];
    path_in(path, sizeof path, "far.tif");
    const char *paths[] = { path };
    svc_tiler *t = svc_tiler_create();
    uint8_t *rgba = malloc(NPX * 4);
    ASSERT_OK(render_rgba(t, paths, 1, SVC_TILE_IMAGE, 7, 20, 100, rgba, msg, sizeof msg));
    EXPECT_EQ_INT(count_opaque(rgba), 0);
    ASSERT_OK(render_rgba(t, paths, 1, SVC_TILE_IMAGE, 7, 68, 44, rgba, msg, sizeof msg));
    EXPECT_EQ_INT(count_opaque(rgba), 0);   /* the neighbour east of lon 11.25 */
    ASSERT_OK(render_rgba(t, NULL, 0, SVC_TILE_IMAGE, 3, 1, 2, rgba, msg, sizeof msg));
    EXPECT_EQ_INT(count_opaque(rgba), 0);
    /* both empty answers are the same bytes */
    uint8_t *p1 = NULL, *p2 = NULL;
    size_t n1 = 0, n2 = 0;
    EXPECT_OK(svc_tile_render(t, paths, 1, SVC_TILE_IMAGE, 7, 20, 100, &p1, &n1, msg, sizeof msg));
    EXPECT_OK(svc_tile_render(t, NULL, 0, SVC_TILE_CLASSES, 0, 0, 0, &p2, &n2, msg, sizeof msg));
    EXPECT_TRUE(p1 && p2 && n1 == n2 && n1 > 8 && !memcmp(p1, p2, n1));
    EXPECT_TRUE(p1 && !memcmp(p1, "\x89PNG\r\n\x1a\n", 8));
    eos_free(p1);
    eos_free(p2);
    free(rgba);
    svc_tiler_free(t);
}

static void expect_refused(svc_tiler *t, const char *const *paths, int n, int kind, int z, int x,
                           int y, eos_status want, const char *in_msg) {
    uint8_t *png = (uint8_t *)1;
    size_t len = 7;
    char msg[512] = "x";
    EXPECT_STATUS(svc_tile_render(t, paths, n, (svc_tile_kind)kind, z, x, y, &png, &len, msg,
                                  sizeof msg), want);
    EXPECT_TRUE(png == NULL && len == 0);
    if (!msg[0] || (in_msg && !strstr(msg, in_msg)))
        TEST_FAIL_("message \"%s\" should name \"%s\"", msg, in_msg ? in_msg : "something");
}

static void test_refused(void) {
    svc_tiler *t = svc_tiler_create();
    ASSERT_TRUE(t != NULL);
    expect_refused(t, NULL, 0, SVC_TILE_IMAGE, 25, 0, 0, EOS_INVALID_ARG, "25/0/0");
    expect_refused(t, NULL, 0, SVC_TILE_IMAGE, -1, 0, 0, EOS_INVALID_ARG, NULL);
    expect_refused(t, NULL, 0, SVC_TILE_IMAGE, 3, 8, 0, EOS_INVALID_ARG, NULL);
    expect_refused(t, NULL, 0, SVC_TILE_IMAGE, 3, 0, 8, EOS_INVALID_ARG, NULL);
    expect_refused(t, NULL, 0, SVC_TILE_IMAGE, 3, -1, 0, EOS_INVALID_ARG, NULL);
    expect_refused(t, NULL, 0, 7, 3, 0, 0, EOS_INVALID_ARG, "kind");
    expect_refused(t, NULL, 1, SVC_TILE_IMAGE, 3, 0, 0, EOS_INVALID_ARG, NULL);
    expect_refused(t, NULL, -1, SVC_TILE_IMAGE, 3, 0, 0, EOS_INVALID_ARG, NULL);
    const char *none[] = { NULL };
    expect_refused(t, none, 1, SVC_TILE_IMAGE, 3, 0, 0, EOS_INVALID_ARG, NULL);
    static const char *many[SVC_TILE_MAX_RASTERS + 1];
    for (int i = 0; i <= SVC_TILE_MAX_RASTERS; i++) many[i] = "x.tif";
    expect_refused(t, many, SVC_TILE_MAX_RASTERS + 1, SVC_TILE_IMAGE, 3, 0, 0, EOS_LIMIT, NULL);
    uint8_t *png;
    size_t len;
    EXPECT_STATUS(svc_tile_render(NULL, NULL, 0, SVC_TILE_IMAGE, 0, 0, 0, &png, &len, NULL, 0),
                  EOS_INVALID_ARG);
    EXPECT_STATUS(svc_tile_render(t, NULL, 0, SVC_TILE_IMAGE, 0, 0, 0, NULL, &len, NULL, 0),
                  EOS_INVALID_ARG);
    svc_tiler_free(t);
    svc_tiler_free(NULL);
}

static void write_bytes(const char *name, const char *text) {
    char path[512];
    path_in(path, sizeof path, name);
    FILE *f = fopen(path, "wb");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_broken_files(void) {
    svc_tiler *t = svc_tiler_create();
    char missing[512], junk[512], plain[512], trunc[512], good[512];
    path_in(missing, sizeof missing, "nope.tif");
    path_in(junk, sizeof junk, "junk.tif");
    path_in(plain, sizeof plain, "plain.tif");
    path_in(trunc, sizeof trunc, "trunc.tif");
    path_in(good, sizeof good, "good.tif");
    write_bytes("junk.tif", "II*\0 this is not a TIFF at all, just some text pretending");
    spec s = spec4326(3, GDT_Byte, fill_red_blue);
    ASSERT_TRUE(make_raster("good.tif", &s));
    ASSERT_TRUE(make_raster("trunc.tif", &s));
    struct stat st;
    ASSERT_TRUE(stat(trunc, &st) == 0);
    ASSERT_TRUE(truncate(trunc, st.st_size / 2) == 0);
    spec p = s;
    p.epsg = 0;
    ASSERT_TRUE(make_raster("plain.tif", &p));

    const char *a[] = { missing }, *b[] = { junk }, *c[] = { plain }, *d[] = { good, missing };
    const char *e[] = { trunc }, *f[] = { g_dir }, *g[] = { good };
    expect_refused(t, a, 1, SVC_TILE_IMAGE, 7, 67, 44, EOS_NOT_FOUND, "nope.tif");
    expect_refused(t, b, 1, SVC_TILE_IMAGE, 7, 67, 44, EOS_PARSE, "junk.tif");
    expect_refused(t, c, 1, SVC_TILE_IMAGE, 7, 67, 44, EOS_INVALID_ARG, "plain.tif");
    expect_refused(t, d, 2, SVC_TILE_IMAGE, 7, 67, 44, EOS_NOT_FOUND, "nope.tif");
    expect_refused(t, f, 1, SVC_TILE_IMAGE, 7, 67, 44, EOS_INVALID_ARG, g_dir);
    expect_refused(t, g, 1, SVC_TILE_CLASSES, 7, 67, 44, EOS_INVALID_ARG, "good.tif");
    /* a truncated file: refused when opened or when read, never a crash */
    uint8_t *png = NULL;
    size_t len = 0;
    char msg[512];
    eos_status r = svc_tile_render(t, e, 1, SVC_TILE_IMAGE, 7, 67, 44, &png, &len, msg, sizeof msg);
    if (r != EOS_PARSE && r != EOS_IO)
        TEST_FAIL_("truncated file: %s (%s), want PARSE or IO", eos_status_name(r), msg);
    else if (!strstr(msg, "trunc.tif"))
        TEST_FAIL_("message \"%s\" should name trunc.tif", msg);
    eos_free(png);
    svc_tiler_free(t);
}

/* ------------------------------------------------------------------ antimeridian */

/* The scene near the antimeridian at lat: on both map edges at z=2 (tiles x=3 and x=0), and
 * nowhere else at z=0 and z=1 (a smear would fill the rows in between). */
static void check_no_smear(svc_tiler *t, const char *path, double lat) {
    uint8_t *rgba = malloc(NPX * 4);
    char msg[512];
    const char *paths[] = { path };
    static const int k_tiles[4][3] = { { 0, 0, 0 }, { 1, 0, -1 }, { 1, 1, -1 }, { 2, 0, -1 } };
    for (int k = 0; k < 5; k++) {
        int z = k < 4 ? k_tiles[k][0] : 2, x = k < 4 ? k_tiles[k][1] : 3;
        int y = z ? tile_y(z, lat) : 0;
        eos_status st = render_rgba(t, paths, 1, SVC_TILE_IMAGE, z, x, y, rgba, msg, sizeof msg);
        if (st) {
            TEST_FAIL_("%d/%d/%d: %s: %s", z, x, y, eos_status_name(st), msg);
            continue;
        }
        int smeared = 0;
        for (int r = 0; r < SVC_TILE_PX; r++)
            for (int c = 6; c < SVC_TILE_PX - 6; c++) smeared += px(rgba, c, r)[3] != 0;
        if (smeared) TEST_FAIL_("%d/%d/%d: %d pixels away from the map edges", z, x, y, smeared);
        if (z == 2) {   /* 2.8 px per degree: the scene shows on the edge */
            int row = (int)t_row(z, y, lat), c = x ? 255 : 0;
            EXPECT_TRUE(px(rgba, c, row)[3] > 0);
        }
    }
    free(rgba);
}

static void test_antimeridian_4326(void) {
    /* lon 179 .. 181 (0.01 degree pixels), lat 10.5 .. 9.5: red west of 180, blue east */
    spec s = { 4326, { 179.0, 0.01, 0, 10.5, 0, -0.01 }, 200, 100, 3, GDT_Byte, fill_red_blue,
               k_rgb, NULL, false, 0, NULL, 0, false };
    ASSERT_TRUE(make_raster("am4326.tif", &s));
    char path[512], msg[512];
    path_in(path, sizeof path, "am4326.tif");
    const char *paths[] = { path };
    svc_tiler *t = svc_tiler_create();
    uint8_t *rgba = malloc(NPX * 4);
    int z = 6, y = tile_y(6, 10.0), row = (int)t_row(6, y, 10.0);
    ASSERT_OK(render_rgba(t, paths, 1, SVC_TILE_IMAGE, z, 63, y, rgba, msg, sizeof msg));
    EXPECT_PX(rgba, (int)t_col(z, 63, 179.5), row, 255, 0, 0, 255, 0);
    EXPECT_PX(rgba, 254, row, 255, 0, 0, 255, 0);
    EXPECT_CLEAR(rgba, (int)t_col(z, 63, 178.9), row);
    ASSERT_OK(render_rgba(t, paths, 1, SVC_TILE_IMAGE, z, 0, y, rgba, msg, sizeof msg));
    EXPECT_PX(rgba, 1, row, 0, 0, 255, 255, 0);
    EXPECT_PX(rgba, (int)t_col(z, 0, -179.5), row, 0, 0, 255, 255, 0);
    EXPECT_CLEAR(rgba, (int)t_col(z, 0, -178.9), row);
    ASSERT_OK(render_rgba(t, paths, 1, SVC_TILE_IMAGE, z, 32, y, rgba, msg, sizeof msg));
    EXPECT_EQ_INT(count_opaque(rgba), 0);
    check_no_smear(t, path, 10.0);
    free(rgba);
    svc_tiler_free(t);
}

static void test_antimeridian_utm(void) {
    /* UTM zone 60N (central meridian 177 E), 1 km pixels, E 760 .. 900 km, N 1160 .. 1050 km:
     * about lon 179.4 .. 180.7, lat 9.5 .. 10.5 */
    spec s = { 32660, { 760000, 1000, 0, 1160000, 0, -1000 }, 140, 110, 3, GDT_Byte,
               fill_red_blue_140, k_rgb, NULL, false, 0, NULL, 0, false };
    ASSERT_TRUE(make_raster("am_utm.tif", &s));
    char path[512], msg[512];
    path_in(path, sizeof path, "am_utm.tif");
    const char *paths[] = { path };
    double lon_e, lat_e, lon_w, lat_w;
    to_lonlat(32660, 900000, 1105000, &lon_e, &lat_e);
    to_lonlat(32660, 760000, 1105000, &lon_w, &lat_w);
    if (lon_e < 0) lon_e += 360;
    ASSERT_TRUE(lon_w < 180 && lon_e > 180);
    svc_tiler *t = svc_tiler_create();
    uint8_t *rgba = malloc(NPX * 4);
    int z = 6, y = tile_y(6, lat_e);
    ASSERT_OK(render_rgba(t, paths, 1, SVC_TILE_IMAGE, z, 63, y, rgba, msg, sizeof msg));
    int rw = (int)t_row(z, y, lat_w);
    EXPECT_TRUE(px(rgba, 254, rw)[3] == 255);
    EXPECT_CLEAR(rgba, (int)t_col(z, 63, lon_w) - 3, rw);
    EXPECT_PX(rgba, (int)t_col(z, 63, lon_w) + 3, rw, 255, 0, 0, 255, 0);
    ASSERT_OK(render_rgba(t, paths, 1, SVC_TILE_IMAGE, z, 0, y, rgba, msg, sizeof msg));
    int re = (int)t_row(z, y, lat_e), ce = (int)t_col(z, 0, lon_e - 360);
    EXPECT_PX(rgba, 1, re, 0, 0, 255, 255, 0);
    EXPECT_PX(rgba, ce - 3, re, 0, 0, 255, 255, 0);
    EXPECT_CLEAR(rgba, ce + 3, re);
    /* no ghost on the other side of the world, where zone 60 makes no sense */
    ASSERT_OK(render_rgba(t, paths, 1, SVC_TILE_IMAGE, z, 31, y, rgba, msg, sizeof msg));
    EXPECT_EQ_INT(count_opaque(rgba), 0);
    check_no_smear(t, path, lat_e);
    free(rgba);
    svc_tiler_free(t);
}

/* ------------------------------------------------------------------ levels, cache, threads */

/* Mean |grey difference| over pixels opaque in both tiles; n_both and n (either) returned. */
static double tile_diff(const uint8_t *a, const uint8_t *b, int *n_both, int *n) {
    double diff = 0;
    *n_both = *n = 0;
    for (int i = 0; i < NPX; i++) {
        bool oa = a[4 * i + 3] == 255, ob = b[4 * i + 3] == 255;
        *n += oa || ob;
        if (oa && ob) {
            ++*n_both;
            diff += abs(a[4 * i] - b[4 * i]);
        }
    }
    return *n_both ? diff / *n_both : 0;
}

static void test_levels(void) {
    /* 8192 x 512 u16 (82 x 5 km of 10 m UTM pixels), with and without overviews. Zoomed out,
     * one is read from an overview and the other from its preview (z=9, 20 pixels per tile
     * pixel) or decimated (z=11, 5 per tile pixel); the tiles must look alike. */
    spec s = { 32632, { 440000, 10, 0, 5270000, 0, -10 }, 8192, 512, 1, GDT_UInt16, fill_big,
               NULL, NULL, false, 0, NULL, 0, false };
    ASSERT_TRUE(make_raster("wide_plain.tif", &s));
    s.overviews = true;
    ASSERT_TRUE(make_raster("wide_ovr.tif", &s));
    char p1[512], p2[512], msg[512];
    path_in(p1, sizeof p1, "wide_plain.tif");
    path_in(p2, sizeof p2, "wide_ovr.tif");
    const char *a[] = { p1 }, *b[] = { p2 };
    double lon, lat;
    to_lonlat(32632, 440000 + 10 * 4096, 5270000 - 10 * 256, &lon, &lat);   /* the centre */
    svc_tiler *t = svc_tiler_create();
    uint8_t *ra = malloc(NPX * 4), *rb = malloc(NPX * 4);
    static const int k_zoom[3] = { 9, 11, 14 };
    static const int k_previews[3] = { 1, 1, 1 };   /* previews read after each zoom */
    for (int k = 0; k < 3; k++) {
        int z = k_zoom[k], x = tile_x(z, lon), y = tile_y(z, lat);
        ASSERT_OK(render_rgba(t, a, 1, SVC_TILE_IMAGE, z, x, y, ra, msg, sizeof msg));
        ASSERT_OK(render_rgba(t, b, 1, SVC_TILE_IMAGE, z, x, y, rb, msg, sizeof msg));
        int n_both, n;
        double diff = tile_diff(ra, rb, &n_both, &n);
        if (n < 1000 || n_both < n * 9 / 10 || diff > 6)
            TEST_FAIL_("z=%d: %d opaque, %d in both, mean difference %.1f", z, n, n_both, diff);
        svc_tiler_stats st;
        svc_tiler_get_stats(t, &st);
        EXPECT_EQ_INT(st.previews_built, k_previews[k]);
        EXPECT_EQ_INT(st.preview_bytes, 1024 * 64 * 2);   /* 1024 x 64 u16, no mask */
    }
    free(ra);
    free(rb);
    svc_tiler_free(t);
}

static double fill_rgba_half(int band, int col, int row) {   /* red; alpha: left half */
    (void)row;
    if (band == 4) return col < 2048 ? 255 : 0;
    return band == 1 ? 255 : 0;
}

static double fill_red_half(int band, int col, int row) {   /* red left half, 0 right */
    (void)row;
    return band == 1 && col < 2048 ? 255 : 0;
}

static void test_zoomed_out_transparency(void) {
    /* 4096 x 256 px of 0.001 degrees (lon 1 .. 5.096, lat 47.744 .. 48) at z=6 (22 raster
     * pixels per tile pixel): drawn from the preview, or from an overview for the last file.
     * The east half is transparent through an alpha band, nodata, or an internal mask. */
    static const GDALColorInterp k_rgba[4] = { GCI_RedBand, GCI_GreenBand, GCI_BlueBand,
                                              GCI_AlphaBand };
    spec s = { 4326, { 1.0, 0.001, 0, 48.0, 0, -0.001 }, 4096, 256, 4, GDT_Byte,
               fill_rgba_half, k_rgba, NULL, false, 0, NULL, 0, false };
    ASSERT_TRUE(make_raster("pv_alpha.tif", &s));
    s.overviews = true;
    ASSERT_TRUE(make_raster("pv_alpha_ovr.tif", &s));
    s.overviews = false;
    s.bands = 3;
    s.fill = fill_red_half;
    s.has_nodata = true;
    ASSERT_TRUE(make_raster("pv_nodata.tif", &s));
    s.has_nodata = false;
    ASSERT_TRUE(make_raster("pv_mask.tif", &s));
    char p[4][512], msg[512];
    path_in(p[0], sizeof p[0], "pv_alpha.tif");
    path_in(p[1], sizeof p[1], "pv_nodata.tif");
    path_in(p[2], sizeof p[2], "pv_mask.tif");
    path_in(p[3], sizeof p[3], "pv_alpha_ovr.tif");
    GDALDatasetH ds = GDALOpen(p[2], GA_Update);   /* internal mask: valid where red */
    ASSERT_TRUE(ds && GDALCreateDatasetMaskBand(ds, GMF_PER_DATASET) == CE_None);
    GDALRasterBandH m = GDALGetMaskBand(GDALGetRasterBand(ds, 1));
    uint8_t *row = malloc(4096);
    for (int c = 0; c < 4096; c++) row[c] = c < 2048 ? 255 : 0;
    for (int r = 0; r < 256; r++)
        EXPECT_TRUE(GDALRasterIO(m, GF_Write, 0, r, 4096, 1, row, 4096, 1, GDT_Byte, 0, 0) ==
                    CE_None);
    free(row);
    GDALClose(ds);
    svc_tiler *t = svc_tiler_create();
    uint8_t *rgba = malloc(NPX * 4);
    int z = 6, x = tile_x(z, 3), y = tile_y(z, 47.9), rm = (int)t_row(z, y, 47.872);
    for (int k = 0; k < 4; k++) {
        const char *paths[] = { p[k] };
        ASSERT_OK(render_rgba(t, paths, 1, SVC_TILE_IMAGE, z, x, y, rgba, msg, sizeof msg));
        EXPECT_PX(rgba, (int)t_col(z, x, 2), rm, 255, 0, 0, 255, 0);
        EXPECT_CLEAR(rgba, (int)t_col(z, x, 4), rm);
        EXPECT_CLEAR(rgba, (int)t_col(z, x, 5.3), rm);
        EXPECT_CLEAR(rgba, (int)t_col(z, x, 0.8), rm);
        svc_tiler_stats st;
        svc_tiler_get_stats(t, &st);
        EXPECT_EQ_INT(st.previews_built, k < 3 ? k + 1 : 3);
    }
    free(rgba);
    svc_tiler_free(t);
}

static void test_cache(void) {
    spec s = spec4326(1, GDT_UInt16, fill_gradient);
    ASSERT_TRUE(make_raster("cache.tif", &s));
    char path[512], msg[512];
    path_in(path, sizeof path, "cache.tif");
    const char *paths[] = { path };
    svc_tiler *t = svc_tiler_create();
    uint8_t *rgba = malloc(NPX * 4);
    svc_tiler_stats ts0;
    ASSERT_OK(render_rgba(t, paths, 1, SVC_TILE_IMAGE, 7, 67, 44, rgba, msg, sizeof msg));
    ASSERT_OK(render_rgba(t, paths, 1, SVC_TILE_IMAGE, 7, 67, 44, rgba, msg, sizeof msg));
    ASSERT_OK(render_rgba(t, paths, 1, SVC_TILE_CLASSES, 7, 67, 44, rgba, msg, sizeof msg));
    svc_tiler_get_stats(t, &ts0);
    EXPECT_EQ_INT(ts0.hits, 1);
    EXPECT_EQ_INT(ts0.misses, 2);   /* one per kind */
    /* a file that changed is looked at again */
    struct timespec tv[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
    ASSERT_TRUE(utimensat(AT_FDCWD, path, tv, 0) == 0);
    ASSERT_OK(render_rgba(t, paths, 1, SVC_TILE_IMAGE, 7, 67, 44, rgba, msg, sizeof msg));
    svc_tiler_get_stats(t, &ts0);
    EXPECT_EQ_INT(ts0.hits, 1);
    EXPECT_EQ_INT(ts0.misses, 3);
    /* nothing was written next to the rasters */
    DIR *dir = opendir(g_dir);
    struct dirent *de;
    while (dir && (de = readdir(dir)) != NULL)
        if (strstr(de->d_name, ".aux.xml")) TEST_FAIL_("side file %s written", de->d_name);
    if (dir) closedir(dir);
    free(rgba);
    svc_tiler_free(t);
}

typedef struct job {
    int           z, x, y;
    svc_tile_kind kind;
    const char   *path;
    uint8_t      *png;    /* reference */
    size_t        len;
} job;

typedef struct worker {
    svc_tiler *t;
    job       *jobs;
    int        n_jobs, offset, bad;
} worker;

static void *worker_run(void *arg) {
    worker *w = arg;
    for (int round = 0; round < 3; round++) {
        for (int k = 0; k < w->n_jobs; k++) {
            job *j = &w->jobs[(k + w->offset) % w->n_jobs];
            const char *paths[] = { j->path };
            uint8_t *png = NULL;
            size_t len = 0;
            char msg[256];
            eos_status st = svc_tile_render(w->t, paths, 1, j->kind, j->z, j->x, j->y, &png, &len,
                                            msg, sizeof msg);
            if (st != EOS_OK || len != j->len || memcmp(png, j->png, len)) w->bad++;
            eos_free(png);
        }
    }
    return NULL;
}

static void test_threads(void) {
    spec s = spec4326(3, GDT_Byte, fill_red_blue);
    ASSERT_TRUE(make_raster("th_rgb.tif", &s));
    s = spec4326(1, GDT_UInt16, fill_gradient);
    ASSERT_TRUE(make_raster("th_u16.tif", &s));
    s = (spec){ 32632, { 450000, 100, 0, 5265000, 0, -100 }, 200, 150, 3, GDT_Byte,
                fill_red_blue, k_rgb, NULL, false, 0, NULL, 0, false };
    ASSERT_TRUE(make_raster("th_utm.tif", &s));
    s = (spec){ 32632, { 440000, 10, 0, 5270000, 0, -10 }, 8192, 512, 1, GDT_UInt16, fill_big,
                NULL, NULL, false, 0, NULL, 0, false };
    ASSERT_TRUE(make_raster("th_wide.tif", &s));   /* z=9 tiles come from its preview */
    char p[4][512];
    path_in(p[0], sizeof p[0], "th_rgb.tif");
    path_in(p[1], sizeof p[1], "th_u16.tif");
    path_in(p[2], sizeof p[2], "th_utm.tif");
    path_in(p[3], sizeof p[3], "th_wide.tif");
    job jobs[8] = {
        { 7, 67, 44, SVC_TILE_IMAGE, p[0], NULL, 0 },
        { 8, 135, 89, SVC_TILE_IMAGE, p[0], NULL, 0 },
        { 7, 67, 44, SVC_TILE_IMAGE, p[1], NULL, 0 },
        { 8, 135, 88, SVC_TILE_IMAGE, p[1], NULL, 0 },
        { 9, 0, 0, SVC_TILE_IMAGE, p[2], NULL, 0 },
        { 7, 67, 44, SVC_TILE_CLASSES, p[1], NULL, 0 },
        { 9, 0, 0, SVC_TILE_IMAGE, p[3], NULL, 0 },
        { 9, 0, 0, SVC_TILE_IMAGE, p[3], NULL, 0 },
    };
    double lon, lat;
    to_lonlat(32632, 460000, 5257500, &lon, &lat);
    jobs[4].x = tile_x(9, lon);
    jobs[4].y = tile_y(9, lat);
    to_lonlat(32632, 440000 + 10 * 4096, 5270000 - 10 * 256, &lon, &lat);
    for (int k = 6; k < 8; k++) {   /* two neighbouring tiles across the wide raster */
        jobs[k].x = tile_x(9, lon) + (k - 6);
        jobs[k].y = tile_y(9, lat);
    }
    svc_tiler *ref = svc_tiler_create(), *t = svc_tiler_create();
    char msg[256];
    for (int k = 0; k < 8; k++) {
        const char *paths[] = { jobs[k].path };
        eos_status st = svc_tile_render(ref, paths, 1, jobs[k].kind, jobs[k].z, jobs[k].x,
                                        jobs[k].y, &jobs[k].png, &jobs[k].len, msg, sizeof msg);
        if (st) TEST_FAIL_("reference %d: %s: %s", k, eos_status_name(st), msg);
    }
    worker w[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){ t, jobs, 8, 2 * i, 0 };
        pthread_create(&th[i], NULL, worker_run, &w[i]);
    }
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++) EXPECT_EQ_INT(w[i].bad, 0);
    svc_tiler_stats ts;
    svc_tiler_get_stats(t, &ts);
    EXPECT_TRUE(ts.misses >= 5 && ts.misses <= 5 * 4);   /* 5 (file, kind) pairs, a few raced */
    EXPECT_EQ_INT(ts.previews_built, 1);   /* the others waited for it */
    for (int k = 0; k < 8; k++) eos_free(jobs[k].png);
    svc_tiler_free(ref);
    svc_tiler_free(t);
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv) {
    static const test_case cases[] = {
        TEST(test_bounds), TEST(test_valid), TEST(test_rgb_4326), TEST(test_utm),
        TEST(test_u16_stretch), TEST(test_dark_bytes), TEST(test_sentinel2_names), TEST(test_nodata), TEST(test_order),
        TEST(test_classes), TEST(test_outside_and_empty), TEST(test_refused),
        TEST(test_broken_files), TEST(test_antimeridian_4326), TEST(test_antimeridian_utm),
        TEST(test_levels), TEST(test_zoomed_out_transparency), TEST(test_cache), TEST(test_threads),
    };
    test_tmpdir_create(g_dir, sizeof g_dir, "map_tiles");
    GDALAllRegister();
    int rc = test_run_all(cases, (int)(sizeof cases / sizeof cases[0]), argc, argv);
    test_tmpdir_remove(g_dir);
    return rc;
}
