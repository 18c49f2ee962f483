/*
 * tests/geo/test_grid.c - tile grids (src/geo/grid.c) against the rules in geo.h's comment on
 * eos_tile_grid: counts, the exact partition of the raster by tile cores (checked pixel by pixel
 * with a coverage count), read windows of constant size with the core at overlap/2, point
 * lookup in pixel and lon/lat coordinates, tile bounds in the three coordinate systems, a
 * 10^6 x 10^6 px raster without overflow, and the rejected parameters.
 */
#include "common/test.h"
#include "eosight/alloc.h"
#include "eosight/geo.h"

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

static void test_counts(void) {
    eos_tile_grid g;
    ASSERT_OK(eos_tile_grid_init(&g, 100, 100, 25, 25, 0));   /* exact multiple */
    EXPECT_EQ_INT(g.n_tiles_x, 4);
    EXPECT_EQ_INT(g.n_tiles_y, 4);
    EXPECT_EQ_INT(eos_tile_grid_count(&g), 16);
    ASSERT_OK(eos_tile_grid_init(&g, 101, 99, 25, 25, 0));    /* remainder in x only */
    EXPECT_EQ_INT(g.n_tiles_x, 5);
    EXPECT_EQ_INT(g.n_tiles_y, 4);
    ASSERT_OK(eos_tile_grid_init(&g, 100, 96, 32, 32, 8));    /* stride 24: 100 = 4*24 + 4 */
    EXPECT_EQ_INT(g.n_tiles_x, 5);
    EXPECT_EQ_INT(g.n_tiles_y, 4);                            /* 96 = 4 * 24 */
    EXPECT_EQ_INT(eos_tile_grid_count(&g), 20);
    ASSERT_OK(eos_tile_grid_init(&g, 10, 7, 64, 48, 2));      /* smaller than one tile */
    EXPECT_EQ_INT(eos_tile_grid_count(&g), 1);
    ASSERT_OK(eos_tile_grid_init(&g, 1000, 301, 256, 256, 254)); /* stride 2 */
    EXPECT_EQ_INT(g.n_tiles_x, 500);
    EXPECT_EQ_INT(g.n_tiles_y, 151);
    ASSERT_OK(eos_tile_grid_init(&g, 300, 200, 64, 32, 0));   /* non-square tiles */
    EXPECT_EQ_INT(g.n_tiles_x, 5);
    EXPECT_EQ_INT(g.n_tiles_y, 7);
}

/* The worked example in geo.h: width 10, tile 6, overlap 2. */
static void test_header_example(void) {
    eos_tile_grid g;
    ASSERT_OK(eos_tile_grid_init(&g, 10, 1, 6, 6, 2));
    ASSERT_EQ_INT(g.n_tiles_x, 3);
    const int64_t core0[3] = { 0, 4, 8 }, corew[3] = { 4, 4, 2 }, read0[3] = { -1, 3, 7 };
    for (int i = 0; i < 3; i++) {
        eos_tile t;
        ASSERT_OK(eos_tile_grid_tile(&g, i, &t));
        EXPECT_EQ_INT(t.core_x0, core0[i]);
        EXPECT_EQ_INT(t.core_w, corew[i]);
        EXPECT_EQ_INT(t.read_x0, read0[i]);
        EXPECT_EQ_INT(t.read_w, 6);
        EXPECT_EQ_INT(t.core_y0, 0);
        EXPECT_EQ_INT(t.core_h, 1);
        EXPECT_EQ_INT(t.read_y0, -1);
        EXPECT_EQ_INT(t.read_h, 6);
    }
}

/* Every pixel in exactly one core; window invariants for every tile. */
static void check_partition(int64_t w, int64_t h, int tw, int th, int ov) {
    eos_tile_grid g;
    ASSERT_OK(eos_tile_grid_init(&g, w, h, tw, th, ov));
    EXPECT_EQ_INT(g.n_tiles_x, ceil_div(w, tw - ov));
    EXPECT_EQ_INT(g.n_tiles_y, ceil_div(h, th - ov));
    uint8_t *cover = eos_calloc((size_t)(w * h), 1);
    ASSERT_TRUE(cover);
    int64_t n = eos_tile_grid_count(&g);
    for (int64_t i = 0; i < n; i++) {
        eos_tile t;
        ASSERT_OK(eos_tile_grid_tile(&g, i, &t));
        EXPECT_EQ_INT(t.tx, i % g.n_tiles_x);
        EXPECT_EQ_INT(t.ty, i / g.n_tiles_x);
        EXPECT_EQ_INT(t.read_w, tw);
        EXPECT_EQ_INT(t.read_h, th);
        EXPECT_EQ_INT(t.core_x0 - t.read_x0, ov / 2);
        EXPECT_EQ_INT(t.core_y0 - t.read_y0, ov / 2);
        EXPECT_EQ_INT(t.core_x0, t.tx * (tw - ov));
        EXPECT_EQ_INT(t.core_y0, t.ty * (th - ov));
        ASSERT_TRUE(t.core_w >= 1 && t.core_w <= tw - ov && t.core_h >= 1 && t.core_h <= th - ov);
        ASSERT_TRUE(t.core_x0 >= 0 && t.core_x0 + t.core_w <= w);
        ASSERT_TRUE(t.core_y0 >= 0 && t.core_y0 + t.core_h <= h);
        /* the core lies inside the read window */
        EXPECT_TRUE(t.core_x0 + t.core_w <= t.read_x0 + t.read_w);
        EXPECT_TRUE(t.core_y0 + t.core_h <= t.read_y0 + t.read_h);
        for (int64_t y = t.core_y0; y < t.core_y0 + t.core_h; y++)
            for (int64_t x = t.core_x0; x < t.core_x0 + t.core_w; x++) cover[y * w + x]++;
    }
    int64_t bad = 0;
    for (int64_t k = 0; k < w * h; k++) bad += cover[k] != 1;
    if (bad) TEST_FAIL_("%lld x %lld, tile %dx%d overlap %d: %lld pixels not covered once",
                        (long long)w, (long long)h, tw, th, ov, (long long)bad);
    eos_free(cover);
}

static void test_partition(void) {
    const int64_t sizes[][2] = { { 1, 1 }, { 5, 3 }, { 1, 200 }, { 100, 37 }, { 64, 64 },
                                 { 255, 257 }, { 31, 17 } };
    const int params[][3] = { { 16, 16, 0 }, { 16, 16, 4 }, { 32, 16, 6 }, { 7, 5, 2 },
                              { 1, 1, 0 }, { 64, 64, 62 }, { 3, 9, 0 } };
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (size_t p = 0; p < sizeof params / sizeof params[0]; p++)
            check_partition(sizes[s][0], sizes[s][1], params[p][0], params[p][1], params[p][2]);
}

static void test_at_pixel(void) {
    eos_tile_grid g;
    ASSERT_OK(eos_tile_grid_init(&g, 100, 80, 32, 32, 8));   /* stride 24 */
    eos_tile t;
    ASSERT_OK(eos_tile_grid_at_pixel(&g, 23.999, 0, &t));
    EXPECT_TRUE(t.tx == 0 && t.ty == 0);
    ASSERT_OK(eos_tile_grid_at_pixel(&g, 24.0, 0, &t));       /* border: the right-hand core */
    EXPECT_TRUE(t.tx == 1 && t.ty == 0);
    EXPECT_EQ_INT(t.core_x0, 24);
    ASSERT_OK(eos_tile_grid_at_pixel(&g, 99.5, 79.5, &t));    /* last pixel: last, short core */
    EXPECT_TRUE(t.tx == 4 && t.ty == 3);
    EXPECT_TRUE(t.core_x0 == 96 && t.core_w == 4 && t.core_y0 == 72 && t.core_h == 8);
    ASSERT_OK(eos_tile_grid_at_pixel(&g, 50.25, 48.0, &t));
    EXPECT_TRUE(t.tx == 2 && t.ty == 2);
    /* the tile found owns the point */
    for (double c = 0.5; c < 100; c += 7.25) {
        for (double r = 0.25; r < 80; r += 5.5) {
            ASSERT_OK(eos_tile_grid_at_pixel(&g, c, r, &t));
            EXPECT_TRUE(c >= t.core_x0 && c < t.core_x0 + t.core_w);
            EXPECT_TRUE(r >= t.core_y0 && r < t.core_y0 + t.core_h);
        }
    }
    EXPECT_STATUS(eos_tile_grid_at_pixel(&g, -0.001, 5, &t), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_tile_grid_at_pixel(&g, 100.0, 5, &t), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_tile_grid_at_pixel(&g, 5, 80.0, &t), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_tile_grid_at_pixel(&g, NAN, 5, &t), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_tile_grid_at_pixel(&g, 5, INFINITY, &t), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_tile_grid_at_pixel(&g, 1e300, 5, &t), EOS_INVALID_ARG);
}

static void test_at_lonlat(void) {
    eos_ctx *ctx = NULL;
    ASSERT_OK(eos_ctx_create(NULL, &ctx));
    eos_crs *w = NULL;
    ASSERT_OK(eos_crs_from_epsg(ctx, 4326, &w));
    /* 0.01 degree pixels from (10 E, 50 N); 100 x 80 px; tiles 32, overlap 8 (stride 24) */
    eos_georef geo = { { { 10, 0.01, 0, 50, 0, -0.01 } }, w, true };
    eos_tile_grid g;
    ASSERT_OK(eos_tile_grid_init(&g, 100, 80, 32, 32, 8));
    eos_tile t;
    /* (10.245 E, 49.995 N) is pixel (24.5, 0.5): tile (1, 0) */
    ASSERT_OK(eos_tile_grid_at_lonlat(ctx, &g, &geo, 10.245, 49.995, &t));
    EXPECT_TRUE(t.tx == 1 && t.ty == 0);
    /* (10.995 E, 49.205 N) is pixel (99.5, 79.5): tile (4, 3) */
    ASSERT_OK(eos_tile_grid_at_lonlat(ctx, &g, &geo, 10.995, 49.205, &t));
    EXPECT_TRUE(t.tx == 4 && t.ty == 3);
    /* (10.505 E, 49.515 N) is pixel (50.5, 48.5): tile (2, 2) */
    ASSERT_OK(eos_tile_grid_at_lonlat(ctx, &g, &geo, 10.505, 49.515, &t));
    EXPECT_TRUE(t.tx == 2 && t.ty == 2);
    EXPECT_STATUS(eos_tile_grid_at_lonlat(ctx, &g, &geo, 9.995, 49.5, &t), EOS_INVALID_ARG);
    EXPECT_TRUE(strstr(eos_ctx_errmsg(ctx), "outside") != NULL);
    EXPECT_STATUS(eos_tile_grid_at_lonlat(ctx, &g, &geo, 10.5, 50.005, &t), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_tile_grid_at_lonlat(ctx, &g, &geo, 11.005, 49.5, &t), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_tile_grid_at_lonlat(ctx, &g, &geo, 10.5, 49.195, &t), EOS_INVALID_ARG);
    eos_georef nocrs = { geo.transform, NULL, true };
    EXPECT_STATUS(eos_tile_grid_at_lonlat(ctx, &g, &nocrs, 10.5, 49.5, &t), EOS_INVALID_ARG);
    /* a UTM raster: the tile found through lon/lat is the one through the pixel */
    eos_crs *utm = NULL;
    ASSERT_OK(eos_crs_from_epsg(ctx, 32633, &utm));
    eos_georef gu = { { { 440000, 10, 0, 5100000, 0, -10 } }, utm, true };
    ASSERT_OK(eos_tile_grid_init(&g, 20000, 20000, 512, 512, 64));
    double lon, lat;
    ASSERT_OK(eos_geo_pixel_to_lonlat(ctx, &gu, 6000.5, 10000.5, &lon, &lat));
    ASSERT_OK(eos_tile_grid_at_lonlat(ctx, &g, &gu, lon, lat, &t));
    EXPECT_TRUE(t.tx == 6000 / 448 && t.ty == 10000 / 448);
    eos_crs_free(utm);
    eos_crs_free(w);
    eos_ctx_free(ctx);
}

static void test_bounds(void) {
    eos_ctx *ctx = NULL;
    ASSERT_OK(eos_ctx_create(NULL, &ctx));
    eos_crs *w = NULL;
    ASSERT_OK(eos_crs_from_epsg(ctx, 4326, &w));
    eos_georef geo = { { { 10, 0.01, 0, 50, 0, -0.01 } }, w, true };
    eos_tile_grid g;
    ASSERT_OK(eos_tile_grid_init(&g, 100, 80, 32, 32, 8));
    eos_tile t;
    ASSERT_OK(eos_tile_grid_tile(&g, 1 * 5 + 4, &t));   /* (4, 1): core [96,100) x [24,48) */
    double b[4];
    ASSERT_OK(eos_tile_bounds(ctx, &t, &geo, EOS_COORD_PIXEL, b));
    EXPECT_TRUE(b[0] == 96 && b[1] == 24 && b[2] == 100 && b[3] == 48);
    ASSERT_OK(eos_tile_bounds(ctx, &t, &geo, EOS_COORD_MAP, b));
    EXPECT_NEAR(b[0], 10.96, 1e-12);
    EXPECT_NEAR(b[1], 49.52, 1e-12);
    EXPECT_NEAR(b[2], 11.00, 1e-12);
    EXPECT_NEAR(b[3], 49.76, 1e-12);
    ASSERT_OK(eos_tile_bounds(ctx, &t, &geo, EOS_COORD_LONLAT, b));
    EXPECT_NEAR(b[0], 10.96, 1e-9);
    EXPECT_NEAR(b[1], 49.52, 1e-9);
    EXPECT_NEAR(b[2], 11.00, 1e-9);
    EXPECT_NEAR(b[3], 49.76, 1e-9);
    /* rotated map transform: the box of the four rotated corners, by hand */
    eos_georef rot = { { { 100, 17.32, 5.0, 200, 10.0, -8.66 } }, NULL, true };
    ASSERT_OK(eos_tile_grid_tile(&g, 0, &t));           /* core [0,24) x [0,24) */
    ASSERT_OK(eos_tile_bounds(ctx, &t, &rot, EOS_COORD_MAP, b));
    /* corners: (0,0)->(100,200) (24,0)->(515.68,440) (0,24)->(220,-7.84)
     * (24,24)->(635.68,232.16) */
    EXPECT_NEAR(b[0], 100.0, 1e-9);
    EXPECT_NEAR(b[1], 200 - 24 * 8.66, 1e-9);
    EXPECT_NEAR(b[2], 100 + 24 * 17.32 + 24 * 5.0, 1e-9);
    EXPECT_NEAR(b[3], 200 + 24 * 10.0, 1e-9);
    EXPECT_STATUS(eos_tile_bounds(ctx, &t, &rot, EOS_COORD_LONLAT, b), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_tile_bounds(ctx, &t, NULL, EOS_COORD_MAP, b), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_tile_bounds(ctx, &t, NULL, EOS_COORD_LONLAT, b), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_tile_bounds(ctx, &t, &geo, (eos_coord_sys)7, b), EOS_INVALID_ARG);
    /* no transform: map is pixel */
    eos_georef none = { eos_geotransform_identity(), NULL, false };
    ASSERT_OK(eos_tile_bounds(ctx, &t, &none, EOS_COORD_MAP, b));
    EXPECT_TRUE(b[0] == 0 && b[1] == 0 && b[2] == 24 && b[3] == 24);
    /* UTM: lon/lat bounds contain the core's corners and come within 1e-9 of their extremes */
    eos_crs *utm = NULL;
    ASSERT_OK(eos_crs_from_epsg(ctx, 32633, &utm));
    eos_georef gu = { { { 300000, 30, 0, 6000000, 0, -30 } }, utm, true };
    ASSERT_OK(eos_tile_grid_init(&g, 10000, 8000, 4096, 4096, 96));
    ASSERT_OK(eos_tile_grid_tile(&g, 1, &t));           /* core [4000,8000) x [0,4000) */
    ASSERT_OK(eos_tile_bounds(ctx, &t, &gu, EOS_COORD_LONLAT, b));
    double lon[4], lat[4];
    const double cc[4] = { 4000, 4000, 8000, 8000 }, rc[4] = { 0, 4000, 4000, 0 };
    for (int k = 0; k < 4; k++) {
        ASSERT_OK(eos_geo_pixel_to_lonlat(ctx, &gu, cc[k], rc[k], &lon[k], &lat[k]));
        EXPECT_TRUE(lon[k] >= b[0] - 1e-9 && lon[k] <= b[2] + 1e-9);
        EXPECT_TRUE(lat[k] >= b[1] - 1e-9 && lat[k] <= b[3] + 1e-9);
    }
    /* x from 420 to 540 km, across the central meridian (500 km), in the north: a line of
     * constant easting leans away from the meridian going north, so UL is westmost and UR
     * eastmost; the south edge's ends are southmost, and the north edge bulges north of its
     * corners */
    EXPECT_NEAR(b[0], lon[0], 1e-9);
    EXPECT_NEAR(b[1], fmin(lat[1], lat[2]), 1e-9);
    EXPECT_NEAR(b[2], lon[3], 1e-9);
    EXPECT_TRUE(b[3] > fmax(lat[0], lat[3]));
    eos_crs_free(utm);
    eos_crs_free(w);
    eos_ctx_free(ctx);
}

static void test_huge(void) {
    eos_tile_grid g;
    const int64_t W = 1000000, H = 1000000;
    ASSERT_OK(eos_tile_grid_init(&g, W, H, 512, 512, 32));   /* stride 480 */
    EXPECT_EQ_INT(g.n_tiles_x, 2084);                         /* 2083 * 480 = 999840 */
    EXPECT_EQ_INT(eos_tile_grid_count(&g), 2084LL * 2084LL);
    eos_tile t;
    ASSERT_OK(eos_tile_grid_tile(&g, eos_tile_grid_count(&g) - 1, &t));
    EXPECT_TRUE(t.tx == 2083 && t.ty == 2083);
    EXPECT_TRUE(t.core_x0 == 999840 && t.core_w == 160 && t.core_y0 == 999840 && t.core_h == 160);
    EXPECT_TRUE(t.read_x0 == 999824 && t.read_y0 == 999824);
    EXPECT_STATUS(eos_tile_grid_tile(&g, eos_tile_grid_count(&g), &t), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_tile_grid_tile(&g, -1, &t), EOS_INVALID_ARG);
    ASSERT_OK(eos_tile_grid_at_pixel(&g, 999999.5, 999999.5, &t));
    EXPECT_TRUE(t.tx == 2083 && t.ty == 2083);
    /* far beyond 32 bits in every quantity: 4e18 px wide */
    const int64_t big = 4000000000000000000LL;
    ASSERT_OK(eos_tile_grid_init(&g, big, 3, 1024, 1024, 0));
    EXPECT_EQ_INT(g.n_tiles_x, 3906250000000000LL);           /* 4e18 / 1024, exact */
    ASSERT_OK(eos_tile_grid_tile(&g, g.n_tiles_x - 1, &t));
    EXPECT_TRUE(t.core_x0 == big - 1024 && t.core_w == 1024);
    ASSERT_OK(eos_tile_grid_init(&g, INT64_MAX, 1, 1000, 1000, 2));
    ASSERT_OK(eos_tile_grid_tile(&g, g.n_tiles_x - 1, &t));
    EXPECT_EQ_INT(t.core_x0 + t.core_w, INT64_MAX);
    EXPECT_EQ_INT(t.core_w, INT64_MAX % 998);
    /* more tiles than int64_t counts */
    EXPECT_STATUS(eos_tile_grid_init(&g, big, big, 2, 2, 0), EOS_INVALID_ARG);
    EXPECT_TRUE(eos_tile_grid_check(big, big, 2, 2, 0) != NULL);
}

static void test_invalid(void) {
    eos_tile_grid g;
    const struct { int64_t w, h; int tw, th, ov; const char *why; } bad[] = {
        { 100, 100, 32, 32, 3, "even" },     /* odd overlap */
        { 100, 100, 32, 32, 32, "smaller" }, /* overlap == tile */
        { 100, 100, 64, 32, 40, "smaller" }, /* overlap >= tile_h only */
        { 100, 100, 32, 32, -2, "negative" },
        { 0, 100, 32, 32, 0, "raster" },
        { 100, -5, 32, 32, 0, "raster" },
        { 100, 100, 0, 32, 0, "tile" },
        { 100, 100, 32, -1, 0, "tile" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        EXPECT_STATUS(eos_tile_grid_init(&g, bad[i].w, bad[i].h, bad[i].tw, bad[i].th, bad[i].ov),
                      EOS_INVALID_ARG);
        const char *why = eos_tile_grid_check(bad[i].w, bad[i].h, bad[i].tw, bad[i].th, bad[i].ov);
        EXPECT_TRUE(why && strstr(why, bad[i].why));
    }
    EXPECT_STATUS(eos_tile_grid_init(NULL, 10, 10, 4, 4, 0), EOS_INVALID_ARG);
    EXPECT_TRUE(eos_tile_grid_check(100, 100, 32, 32, 30) == NULL);
    ASSERT_OK(eos_tile_grid_init(&g, 10, 10, 4, 4, 0));
    EXPECT_STATUS(eos_tile_grid_tile(&g, 0, NULL), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_tile_grid_at_pixel(&g, 1, 1, NULL), EOS_INVALID_ARG);
    /* a grid filled by hand with a zero stride or a wrong count is refused, not divided by */
    eos_tile t;
    eos_tile_grid h = g;
    h.overlap = 4;
    EXPECT_EQ_INT(eos_tile_grid_count(&h), 0);
    EXPECT_STATUS(eos_tile_grid_tile(&h, 0, &t), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_tile_grid_at_pixel(&h, 1, 1, &t), EOS_INVALID_ARG);
    h = g;
    h.n_tiles_x = 7;
    EXPECT_STATUS(eos_tile_grid_tile(&h, 6, &t), EOS_INVALID_ARG);
    EXPECT_EQ_INT(eos_tile_grid_count(NULL), 0);
}

TEST_MAIN(TEST(test_counts), TEST(test_header_example), TEST(test_partition),
          TEST(test_at_pixel), TEST(test_at_lonlat), TEST(test_bounds), TEST(test_huge),
          TEST(test_invalid))
