/*
 * tests/geo/test_geo.c - geotransforms, CRSs, CRS transforms and footprints (src/geo/crs.c,
 * src/geo/transform.c).
 *
 * Expected values are computed by hand here (affine maps, the closed forms of Web Mercator,
 * UTM's central meridian and equator) or were obtained once from PROJ's command-line tools,
 * which do not go through eosight, and committed as numbers; each such place says how. The
 * precision asked for is 1e-9 degrees for lon/lat and 1e-9 pixels for affine round trips.
 */
#include "common/test.h"
#include "eosight/alloc.h"
#include "eosight/geo.h"

#define DEG_TOL 1e-9
#define R_WEB   6378137.0
#define PI      3.14159265358979323846

#define EXPECT_FALSE(c) EXPECT_TRUE(!(c))

static eos_ctx *g_ctx;

static eos_ctx *ctx(void) {
    if (!g_ctx) eos_ctx_create(NULL, &g_ctx);
    return g_ctx;
}

static eos_geotransform gt_of(double a, double b, double c, double d, double e, double f) {
    eos_geotransform t = { { a, b, c, d, e, f } };
    return t;
}

static eos_crs *crs_epsg(int code) {
    eos_crs *c = NULL;
    if (eos_crs_from_epsg(ctx(), code, &c) != EOS_OK) return NULL;
    return c;
}

/* ------------------------------------------------------------------ geotransforms */

static void test_identity(void) {
    eos_geotransform t = eos_geotransform_identity();
    double want[6] = { 0, 1, 0, 0, 0, 1 };
    for (int i = 0; i < 6; i++) EXPECT_TRUE(t.gt[i] == want[i]);
    double x, y, c, r;
    eos_geo_pixel_to_map(&t, 3.25, -7.5, &x, &y);
    EXPECT_TRUE(x == 3.25 && y == -7.5);
    EXPECT_OK(eos_geo_map_to_pixel(&t, 3.25, -7.5, &c, &r));
    EXPECT_TRUE(c == 3.25 && r == -7.5);
}

/* Round trip pixel -> map -> pixel over a spread of points; returns the largest error. */
static double round_trip_err(const eos_geotransform *t) {
    double worst = 0;
    for (int i = -3; i <= 12; i++) {
        for (int j = -2; j <= 9; j++) {
            double col = i * 37.25 + 0.5, row = j * 51.75 + 0.5, x, y, c, r;
            eos_geo_pixel_to_map(t, col, row, &x, &y);
            if (eos_geo_map_to_pixel(t, x, y, &c, &r) != EOS_OK) return INFINITY;
            worst = fmax(worst, fmax(fabs(c - col), fabs(r - row)));
        }
    }
    return worst;
}

static void test_north_up(void) {
    eos_geotransform t = gt_of(500000, 10, 0, 4000000, 0, -10);
    double x, y, c, r, sx, sy;
    eos_geo_pixel_to_map(&t, 3.5, 7.25, &x, &y);
    EXPECT_TRUE(x == 500035.0 && y == 3999927.5);
    EXPECT_OK(eos_geo_map_to_pixel(&t, 500035.0, 3999927.5, &c, &r));
    EXPECT_TRUE(c == 3.5 && r == 7.25);
    /* north-up with binary-exact sizes: the round trip is exact */
    EXPECT_TRUE(round_trip_err(&t) == 0.0);
    eos_geotransform_pixel_size(&t, &sx, &sy);
    EXPECT_TRUE(sx == 10.0 && sy == 10.0);
    /* the pixel-centre convention: centre of pixel (0, 0) is half a pixel in */
    eos_geo_pixel_to_map(&t, 0.5, 0.5, &x, &y);
    EXPECT_TRUE(x == 500005.0 && y == 3999995.0);
}

static void test_rotated(void) {
    /* rotated.tif's transform as rounded in the task: hand-computed images of (2, 3) */
    eos_geotransform t = gt_of(100, 17.32, 5.0, 200, 10.0, -8.66);
    double x, y, c, r, sx, sy;
    eos_geo_pixel_to_map(&t, 2, 3, &x, &y);
    EXPECT_NEAR(x, 100 + 2 * 17.32 + 3 * 5.0, 1e-12);    /* 149.64 */
    EXPECT_NEAR(y, 200 + 2 * 10.0 - 3 * 8.66, 1e-12);    /* 194.02 */
    EXPECT_NEAR(x, 149.64, 1e-12);
    EXPECT_NEAR(y, 194.02, 1e-12);
    EXPECT_OK(eos_geo_map_to_pixel(&t, 149.64, 194.02, &c, &r));
    EXPECT_NEAR(c, 2.0, 1e-12);
    EXPECT_NEAR(r, 3.0, 1e-12);
    double err = round_trip_err(&t);
    printf("  rotated round trip max error %.3g px\n", err);
    EXPECT_TRUE(err <= 1e-9);
    eos_geotransform_pixel_size(&t, &sx, &sy);
    EXPECT_NEAR(sx, sqrt(17.32 * 17.32 + 100.0), 1e-12);
    EXPECT_NEAR(sy, sqrt(25.0 + 8.66 * 8.66), 1e-12);
    /* the file's exact transform: corners as gdalinfo prints them for rotated.tif (10 x 15) */
    t = gt_of(100, 17.32050807568877, 4.999999999999999, 200, 9.999999999999998,
              -8.660254037844387);
    eos_geo_pixel_to_map(&t, 0, 15, &x, &y);
    EXPECT_NEAR(x, 175.0, 1e-9);
    EXPECT_NEAR(y, 70.0961894, 1e-7);
    eos_geo_pixel_to_map(&t, 10, 0, &x, &y);
    EXPECT_NEAR(x, 273.205, 1e-3);
    EXPECT_NEAR(y, 300.0, 1e-9);
    eos_geotransform_pixel_size(&t, &sx, &sy);
    EXPECT_NEAR(sx, 20.0, 1e-12);
    EXPECT_NEAR(sy, 10.0, 1e-12);
    EXPECT_TRUE(round_trip_err(&t) <= 1e-9);
}

static void test_positive_y(void) {
    /* rows go north: y grows with row */
    eos_geotransform t = gt_of(-20, 0.5, 0, -10, 0, 0.25);
    double x, y, c, r;
    eos_geo_pixel_to_map(&t, 4, 8, &x, &y);
    EXPECT_TRUE(x == -18.0 && y == -8.0);
    EXPECT_OK(eos_geo_map_to_pixel(&t, -18.0, -8.0, &c, &r));
    EXPECT_TRUE(c == 4.0 && r == 8.0);
    EXPECT_TRUE(round_trip_err(&t) == 0.0);
    /* sheared with positive y and non-binary steps */
    t = gt_of(1000.5, 0.3, 0.1, -50.25, 0.07, 0.9);
    double err = round_trip_err(&t);
    printf("  sheared positive-y round trip max error %.3g px\n", err);
    EXPECT_TRUE(err <= 1e-9);
}

static void test_singular(void) {
    double c = 7, r = 7;
    eos_geotransform t = gt_of(0, 1, 2, 0, 2, 4);   /* det = 4 - 4 */
    EXPECT_STATUS(eos_geo_map_to_pixel(&t, 1, 1, &c, &r), EOS_INVALID_ARG);
    t = gt_of(0, 0, 0, 0, 0, -1);                    /* zero pixel width */
    EXPECT_STATUS(eos_geo_map_to_pixel(&t, 1, 1, &c, &r), EOS_INVALID_ARG);
    t = gt_of(0, 0, 0, 0, 0, 0);
    EXPECT_STATUS(eos_geo_map_to_pixel(&t, 1, 1, &c, &r), EOS_INVALID_ARG);
    t = gt_of(0, NAN, 0, 0, 0, -1);
    EXPECT_STATUS(eos_geo_map_to_pixel(&t, 1, 1, &c, &r), EOS_INVALID_ARG);
    t = gt_of(0, 0, 1, 0, 1, 0);                     /* axes swapped: det = -1, fine */
    EXPECT_OK(eos_geo_map_to_pixel(&t, 3, 5, &c, &r));
    EXPECT_TRUE(c == 5.0 && r == 3.0);
}

/* ------------------------------------------------------------------ CRS */

static void test_crs_create(void) {
    eos_crs *a = NULL, *b = NULL, *p = NULL, *o = NULL;
    ASSERT_OK(eos_crs_create(ctx(), "EPSG:32633", &a));
    EXPECT_EQ_INT(eos_crs_epsg(a), 32633);
    EXPECT_STR_EQ(eos_crs_name(a), "WGS 84 / UTM zone 33N");
    /* WKT round trip: same CRS, same EPSG code */
    ASSERT_OK(eos_crs_create(ctx(), eos_crs_wkt(a), &b));
    EXPECT_EQ_INT(eos_crs_epsg(b), 32633);
    EXPECT_TRUE(eos_crs_equal(a, b));
    EXPECT_TRUE(strncmp(eos_crs_wkt(a), "PROJCS[", 7) == 0);
    /* PROJ string: the same projection; identified as EPSG:32633 */
    ASSERT_OK(eos_crs_create(ctx(), "+proj=utm +zone=33 +datum=WGS84 +units=m +no_defs", &p));
    EXPECT_FALSE(eos_crs_is_geographic(p));
    EXPECT_EQ_INT(eos_crs_epsg(p), 32633);
    EXPECT_TRUE(eos_crs_equal(a, p));
    /* OGC:CRS84 is WGS 84 lon/lat: EPSG:4326 in eosight's lon/lat-always view */
    ASSERT_OK(eos_crs_create(ctx(), "OGC:CRS84", &o));
    EXPECT_TRUE(eos_crs_is_geographic(o));
    EXPECT_EQ_INT(eos_crs_epsg(o), 4326);
    eos_crs *q = NULL;
    ASSERT_OK(eos_crs_create(ctx(), "+proj=longlat +datum=WGS84 +no_defs", &q));
    EXPECT_EQ_INT(eos_crs_epsg(q), 4326);
    eos_crs_free(q);
    /* Web Mercator as its PROJ string */
    ASSERT_OK(eos_crs_create(ctx(), "+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 "
                             "+y_0=0 +k=1 +units=m +nadgrids=@null +wktext +no_defs", &q));
    EXPECT_EQ_INT(eos_crs_epsg(q), 3857);
    eos_crs_free(q);
    /* a UTM zone on GRS80 without a datum matches no single EPSG CRS */
    ASSERT_OK(eos_crs_create(ctx(), "+proj=utm +zone=33 +ellps=GRS80 +units=m", &q));
    EXPECT_EQ_INT(eos_crs_epsg(q), 0);
    eos_crs_free(q);
    eos_crs *w = crs_epsg(4326);
    ASSERT_TRUE(w != NULL);
    EXPECT_FALSE(eos_crs_equal(a, w));
    EXPECT_TRUE(eos_crs_equal(NULL, NULL));
    EXPECT_FALSE(eos_crs_equal(a, NULL));
    eos_crs_free(w);
    eos_crs_free(o);
    eos_crs_free(p);
    eos_crs_free(b);
    eos_crs_free(a);
    eos_crs_free(NULL);
}

static void test_crs_bad(void) {
    const char *bad[] = { "EPSG:999999", "not a crs at all", "+proj=nonsense +ellps=WGS84",
                          "PROJCS[\"broken\",GEOGCS[", "EPSG:abc" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        eos_crs *c = (eos_crs *)&c;
        EXPECT_STATUS(eos_crs_create(ctx(), bad[i], &c), EOS_PARSE);
        EXPECT_TRUE(c == NULL);
        const char *msg = eos_ctx_errmsg(ctx());
        EXPECT_TRUE(msg && *msg);
        if (msg && !strstr(msg, "not a CRS definition")) TEST_FAIL_("message: %s", msg);
    }
    eos_crs *c = NULL;
    EXPECT_STATUS(eos_crs_from_epsg(ctx(), -5, &c), EOS_PARSE);
    EXPECT_STATUS(eos_crs_create(ctx(), "", &c), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_crs_create(NULL, "bogus", &c), EOS_PARSE);   /* no ctx: no crash */
    EXPECT_STATUS(eos_crs_clone(NULL, &c), EOS_INVALID_ARG);
}

static void test_crs_props(void) {
    eos_crs *geo = crs_epsg(4326), *utm = crs_epsg(32633), *ft = crs_epsg(2263);
    ASSERT_TRUE(geo && utm && ft);
    EXPECT_TRUE(eos_crs_is_geographic(geo));
    EXPECT_FALSE(eos_crs_is_geographic(utm));
    EXPECT_FALSE(eos_crs_is_geographic(ft));
    EXPECT_TRUE(eos_crs_linear_units_m(geo) == 0.0);
    EXPECT_TRUE(eos_crs_linear_units_m(utm) == 1.0);
    /* US survey foot = 1200/3937 m */
    EXPECT_NEAR(eos_crs_linear_units_m(ft), 1200.0 / 3937.0, 1e-15);
    EXPECT_NEAR(eos_crs_linear_units_m(ft), 0.3048006096012192, 1e-15);
    EXPECT_EQ_INT(eos_crs_epsg(ft), 2263);
    /* a clone outlives its original */
    eos_crs *cl = NULL;
    ASSERT_OK(eos_crs_clone(utm, &cl));
    eos_crs_free(utm);
    EXPECT_EQ_INT(eos_crs_epsg(cl), 32633);
    EXPECT_STR_EQ(eos_crs_name(cl), "WGS 84 / UTM zone 33N");
    eos_crs_free(cl);
    eos_crs_free(ft);
    eos_crs_free(geo);
}

/* ------------------------------------------------------------------ CRS transforms */

/* Transform one point src -> dst (NULL: WGS 84). */
static eos_status xf1(const eos_crs *src, const eos_crs *dst, double *x, double *y) {
    eos_geo_xform *xf;
    eos_status st = eos_geo_xform_create(ctx(), src, dst, &xf);
    if (st) return st;
    st = eos_geo_xform_points(xf, 1, x, y);
    eos_geo_xform_free(xf);
    return st;
}

static void test_axis_order(void) {
    eos_crs *w = crs_epsg(4326), *m = crs_epsg(3857);
    ASSERT_TRUE(w && m);
    double x = 10, y = 50;
    EXPECT_OK(xf1(w, w, &x, &y));
    EXPECT_TRUE(x == 10.0 && y == 50.0);
    EXPECT_OK(xf1(NULL, w, &x, &y));
    EXPECT_TRUE(x == 10.0 && y == 50.0);
    /* to Web Mercator: x is the easting of lon 10 (closed form), so lon went in as x */
    EXPECT_OK(xf1(w, m, &x, &y));
    EXPECT_NEAR(x, 10.0 * PI / 180.0 * R_WEB, 1e-6);
    EXPECT_NEAR(y, R_WEB * log(tan(PI / 4 + 50.0 * PI / 360.0)), 1e-6);
    EXPECT_OK(xf1(m, w, &x, &y));
    EXPECT_NEAR(x, 10.0, DEG_TOL);
    EXPECT_NEAR(y, 50.0, DEG_TOL);
    printf("  4326->3857->4326 error (%.3g, %.3g) deg\n", fabs(x - 10), fabs(y - 50));
    /* the WGS 84 default (NULL) behaves as EPSG:4326 */
    x = 10;
    y = 50;
    EXPECT_OK(xf1(NULL, m, &x, &y));
    EXPECT_OK(xf1(m, NULL, &x, &y));
    EXPECT_NEAR(x, 10.0, DEG_TOL);
    EXPECT_NEAR(y, 50.0, DEG_TOL);
    eos_crs_free(m);
    eos_crs_free(w);
}

static void test_utm(void) {
    eos_crs *utm = crs_epsg(32633);
    ASSERT_TRUE(utm);
    double x = 500000, y = 0;
    EXPECT_OK(xf1(utm, NULL, &x, &y));
    EXPECT_NEAR(x, 15.0, DEG_TOL);
    EXPECT_NEAR(y, 0.0, DEG_TOL);
    printf("  UTM 33N (500000, 0) -> (%.17g, %.17g)\n", x, y);
    double worst = 0;
    for (double n = 1e5; n <= 9e6; n += 1.1e6) {
        x = 500000;
        y = n;
        EXPECT_OK(xf1(utm, NULL, &x, &y));
        EXPECT_NEAR(x, 15.0, DEG_TOL);
        worst = fmax(worst, fabs(x - 15.0));
    }
    printf("  UTM central meridian lon error max %.3g deg\n", worst);
    /* (500000, 5e6): 45.153477183356 N from `gdaltransform -s_srs EPSG:32633 -t_srs EPSG:4326` */
    x = 500000;
    y = 5e6;
    EXPECT_OK(xf1(utm, NULL, &x, &y));
    EXPECT_NEAR(y, 45.153477183356, 1e-11);
    /* and back */
    x = 15;
    y = 0;
    EXPECT_OK(xf1(NULL, utm, &x, &y));
    EXPECT_NEAR(x, 500000.0, 1e-6);
    EXPECT_NEAR(y, 0.0, 1e-6);
    eos_crs_free(utm);
}

static void test_web_mercator(void) {
    eos_crs *m = crs_epsg(3857);
    ASSERT_TRUE(m);
    const double pts[][2] = { { 0, 0 }, { 1113194.90793274, 6446275.84101716 },
                              { -20037508.342789244, 19971868.88040857 },
                              { 12345678.9, -8765432.1 },
                              { -3e6, 1e7 }, { 2.5e5, -2e7 }, { 7.7e6, 123.456 } };
    double worst_lon = 0, worst_lat = 0;
    for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++) {
        double x = pts[i][0], y = pts[i][1];
        ASSERT_OK(xf1(m, NULL, &x, &y));
        double lon = pts[i][0] / R_WEB * 180.0 / PI;
        double lat = (2.0 * atan(exp(pts[i][1] / R_WEB)) - PI / 2) * 180.0 / PI;
        EXPECT_NEAR(x, lon, DEG_TOL);
        EXPECT_NEAR(y, lat, DEG_TOL);
        worst_lon = fmax(worst_lon, fabs(x - lon));
        worst_lat = fmax(worst_lat, fabs(y - lat));
    }
    printf("  Web Mercator vs closed form: max error lon %.3g, lat %.3g deg\n", worst_lon,
           worst_lat);
    eos_crs_free(m);
}

static void test_xform_failures(void) {
    eos_crs *m = crs_epsg(3857);
    ASSERT_TRUE(m);
    eos_crs *ortho = NULL;
    ASSERT_OK(eos_crs_create(ctx(), "+proj=ortho +lat_0=0 +lon_0=0 +datum=WGS84", &ortho));
    eos_geo_xform *xf;
    ASSERT_OK(eos_geo_xform_create(ctx(), NULL, ortho, &xf));
    /* the far side of the globe has no orthographic view; NaN in stays NaN; the other points
     * are transformed (lon 0, lat 0 is the projection centre) */
    double x[4] = { 180, 0, NAN, 0 }, y[4] = { 0, 0, 0, 90 };
    EXPECT_STATUS(eos_geo_xform_points(xf, 4, x, y), EOS_INVALID_ARG);
    EXPECT_TRUE(isnan(x[0]) && isnan(y[0]));
    EXPECT_TRUE(isnan(x[2]) && isnan(y[2]));
    EXPECT_TRUE(fabs(x[1]) < 1e-9 && fabs(y[1]) < 1e-9);
    EXPECT_TRUE(fabs(x[3]) < 1e-6 && y[3] > 6.3e6 && y[3] < 6.4e6);   /* the pole: b = 6356752 */
    eos_geo_xform_free(xf);
    eos_crs_free(ortho);
    ASSERT_OK(eos_geo_xform_create(ctx(), NULL, m, &xf));
    EXPECT_OK(eos_geo_xform_points(xf, 0, NULL, NULL));
    EXPECT_STATUS(eos_geo_xform_points(NULL, 1, x, y), EOS_INVALID_ARG);
    /* many points go through in chunks: 3000 lon/lat points, checked against the closed form */
    enum { N = 3000 };
    double *px = eos_malloc(N * sizeof *px), *py = eos_malloc(N * sizeof *py);
    ASSERT_TRUE(px && py);
    for (int i = 0; i < N; i++) {
        px[i] = -179.0 + i * (358.0 / N);
        py[i] = -80.0 + i * (160.0 / N);
    }
    EXPECT_OK(eos_geo_xform_points(xf, N, px, py));
    for (int i = 0; i < N; i += 97) {
        EXPECT_NEAR(px[i], (-179.0 + i * (358.0 / N)) * PI / 180.0 * R_WEB, 1e-6);
    }
    eos_free(px);
    eos_free(py);
    eos_geo_xform_free(xf);
    eos_geo_xform_free(NULL);
    /* an engineering CRS has no path to WGS 84 */
    eos_crs *local = NULL;
    ASSERT_OK(eos_crs_create(ctx(), "LOCAL_CS[\"site grid\",UNIT[\"metre\",1]]", &local));
    xf = (eos_geo_xform *)&xf;
    EXPECT_STATUS(eos_geo_xform_create(ctx(), local, NULL, &xf), EOS_UNSUPPORTED);
    EXPECT_TRUE(xf == NULL);
    EXPECT_TRUE(strstr(eos_ctx_errmsg(ctx()), "no transformation") != NULL);
    eos_crs_free(local);
    eos_crs_free(m);
}

/* ------------------------------------------------------------------ pixel <-> lon/lat */

static void test_pixel_lonlat(void) {
    eos_crs *utm = crs_epsg(32633);
    ASSERT_TRUE(utm);
    eos_georef g = { gt_of(440000, 10, 0, 5100000, 0, -10), utm, true };
    double lon, lat, c, r;
    /* pixel (6000, 10000) is (500000, 5000000): the value from test_utm */
    ASSERT_OK(eos_geo_pixel_to_lonlat(ctx(), &g, 6000, 10000, &lon, &lat));
    EXPECT_NEAR(lon, 15.0, DEG_TOL);
    EXPECT_NEAR(lat, 45.153477183356, 1e-11);
    ASSERT_OK(eos_geo_lonlat_to_pixel(ctx(), &g, lon, lat, &c, &r));
    EXPECT_NEAR(c, 6000.0, 1e-6);
    EXPECT_NEAR(r, 10000.0, 1e-6);
    ASSERT_OK(eos_geo_pixel_to_lonlat(ctx(), &g, 123.5, 456.25, &lon, &lat));
    ASSERT_OK(eos_geo_lonlat_to_pixel(ctx(), &g, lon, lat, &c, &r));
    printf("  UTM pixel -> lon/lat -> pixel error (%.3g, %.3g) px\n", fabs(c - 123.5),
           fabs(r - 456.25));
    EXPECT_NEAR(c, 123.5, 1e-6);
    EXPECT_NEAR(r, 456.25, 1e-6);
    /* missing pieces */
    eos_georef none = { eos_geotransform_identity(), utm, false };
    EXPECT_STATUS(eos_geo_pixel_to_lonlat(ctx(), &none, 0, 0, &lon, &lat), EOS_INVALID_ARG);
    EXPECT_TRUE(strstr(eos_ctx_errmsg(ctx()), "geotransform") != NULL);
    eos_georef nocrs = { g.transform, NULL, true };
    EXPECT_STATUS(eos_geo_lonlat_to_pixel(ctx(), &nocrs, 0, 0, &c, &r), EOS_INVALID_ARG);
    EXPECT_TRUE(strstr(eos_ctx_errmsg(ctx()), "CRS") != NULL);
    EXPECT_STATUS(eos_geo_pixel_to_lonlat(ctx(), NULL, 0, 0, &lon, &lat), EOS_INVALID_ARG);
    eos_georef sing = { gt_of(0, 0, 0, 0, 0, 0), utm, true };
    EXPECT_STATUS(eos_geo_lonlat_to_pixel(ctx(), &sing, 15, 0, &c, &r), EOS_INVALID_ARG);
    EXPECT_TRUE(strstr(eos_ctx_errmsg(ctx()), "singular") != NULL);
    /* a geographic raster maps lon/lat to pixels by its affine transform alone */
    eos_crs *w = crs_epsg(4326);
    eos_georef gw = { gt_of(10, 0.25, 0, 50, 0, -0.125), w, true };
    ASSERT_OK(eos_geo_lonlat_to_pixel(ctx(), &gw, 11.5, 49.0, &c, &r));
    EXPECT_TRUE(c == 6.0 && r == 8.0);
    ASSERT_OK(eos_geo_pixel_to_lonlat(ctx(), &gw, 6, 8, &lon, &lat));
    EXPECT_TRUE(lon == 11.5 && lat == 49.0);
    eos_crs_free(w);
    eos_crs_free(utm);
}

/* ------------------------------------------------------------------ footprints */

/* Closed, longitudes continuous, positive signed area (counter-clockwise). */
static void check_ring_shape(const eos_lonlat_ring *ring) {
    ASSERT_TRUE(ring->n >= 5);
    size_t n = ring->n;
    EXPECT_TRUE(ring->lon_deg[0] == ring->lon_deg[n - 1]);
    EXPECT_TRUE(ring->lat_deg[0] == ring->lat_deg[n - 1]);
    double a = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        EXPECT_TRUE(fabs(ring->lon_deg[i + 1] - ring->lon_deg[i]) < 180.0);
        a += ring->lon_deg[i] * ring->lat_deg[i + 1] - ring->lon_deg[i + 1] * ring->lat_deg[i];
    }
    EXPECT_TRUE(a > 0);
}

/* bbox vs the min/max of the ring, for a ring that does not cross the antimeridian */
static void check_bbox_of_ring(const eos_lonlat_ring *ring, const double bb[4]) {
    double w = INFINITY, s = INFINITY, e = -INFINITY, n = -INFINITY;
    for (size_t i = 0; i < ring->n; i++) {
        w = fmin(w, ring->lon_deg[i]);
        e = fmax(e, ring->lon_deg[i]);
        s = fmin(s, ring->lat_deg[i]);
        n = fmax(n, ring->lat_deg[i]);
    }
    EXPECT_TRUE(bb[0] == w && bb[1] == s && bb[2] == e && bb[3] == n);
}

static void ring_free(eos_lonlat_ring *r) {
    eos_free(r->lon_deg);
    eos_free(r->lat_deg);
}

static void test_footprint_geographic(void) {
    eos_crs *w = crs_epsg(4326);
    ASSERT_TRUE(w);
    const double gt[6] = { 10, 0.01, 0, 50, 0, -0.02 };
    eos_georef g = { gt_of(gt[0], gt[1], gt[2], gt[3], gt[4], gt[5]), w, true };
    eos_lonlat_ring ring;
    double bb[4];
    ASSERT_OK(eos_geo_footprint(ctx(), &g, 300, 200, 1, &ring, bb));
    ASSERT_EQ_INT(ring.n, 5);
    /* UL, LL, LR, UR, UL: the corners' map coordinates, unchanged */
    const double cc[5] = { 0, 0, 300, 300, 0 }, rc[5] = { 0, 200, 200, 0, 0 };
    for (int k = 0; k < 5; k++) {
        EXPECT_TRUE(ring.lon_deg[k] == gt[0] + cc[k] * gt[1]);
        EXPECT_TRUE(ring.lat_deg[k] == gt[3] + rc[k] * gt[5]);
    }
    EXPECT_NEAR(ring.lon_deg[2], 13.0, DEG_TOL);
    EXPECT_NEAR(ring.lat_deg[2], 46.0, DEG_TOL);
    EXPECT_NEAR(bb[0], 10.0, DEG_TOL);
    EXPECT_NEAR(bb[1], 46.0, DEG_TOL);
    EXPECT_NEAR(bb[2], 13.0, DEG_TOL);
    EXPECT_NEAR(bb[3], 50.0, DEG_TOL);
    check_ring_shape(&ring);
    ring_free(&ring);
    /* densified: every point lies on the rectangle, 4n + 1 of them */
    ASSERT_OK(eos_geo_footprint(ctx(), &g, 300, 200, 7, &ring, bb));
    ASSERT_EQ_INT(ring.n, 29);
    for (size_t i = 0; i < ring.n; i++) {
        double lo = ring.lon_deg[i], la = ring.lat_deg[i];
        bool on_ew = fabs(lo - 10) < 1e-12 || fabs(lo - 13) < 1e-12;
        bool on_ns = fabs(la - 46) < 1e-12 || fabs(la - 50) < 1e-12;
        EXPECT_TRUE((on_ew || on_ns) && lo >= 10 - 1e-12 && lo <= 13 + 1e-12);
    }
    check_ring_shape(&ring);
    check_bbox_of_ring(&ring, bb);
    ring_free(&ring);
    /* rows going north (gt[5] > 0): the ring is reversed to stay counter-clockwise */
    eos_georef up = { gt_of(10, 0.01, 0, 46, 0, 0.02), w, true };
    ASSERT_OK(eos_geo_footprint(ctx(), &up, 300, 200, 3, &ring, bb));
    check_ring_shape(&ring);
    EXPECT_TRUE(ring.lon_deg[0] == 10.0 && ring.lat_deg[0] == 46.0);   /* still pixel (0, 0) */
    EXPECT_NEAR(bb[1], 46.0, DEG_TOL);
    EXPECT_NEAR(bb[3], 50.0, DEG_TOL);
    ring_free(&ring);
    /* bbox only */
    ASSERT_OK(eos_geo_footprint(ctx(), &g, 300, 200, 4, NULL, bb));
    EXPECT_NEAR(bb[2], 13.0, DEG_TOL);
    eos_crs_free(w);
}

static void test_footprint_utm(void) {
    eos_crs *utm = crs_epsg(32633);
    ASSERT_TRUE(utm);
    eos_georef g = { gt_of(300000, 30, 0, 6000000, 0, -30), utm, true };
    const int64_t W = 10000, H = 8000;   /* 300 x 240 km west of the central meridian */
    const int n = 10;
    eos_lonlat_ring ring;
    double bb[4];
    ASSERT_OK(eos_geo_footprint(ctx(), &g, W, H, n, &ring, bb));
    ASSERT_EQ_INT(ring.n, 4 * n + 1);
    check_ring_shape(&ring);
    check_bbox_of_ring(&ring, bb);
    /* corners sit at 0, n, 2n, 3n in the order UL, LL, LR, UR */
    const double cc[4] = { 0, 0, (double)W, (double)W }, rc[4] = { 0, (double)H, (double)H, 0 };
    double worst = 0;
    for (int k = 0; k < 4; k++) {
        double lon, lat;
        ASSERT_OK(eos_geo_pixel_to_lonlat(ctx(), &g, cc[k], rc[k], &lon, &lat));
        EXPECT_NEAR(ring.lon_deg[k * n], lon, DEG_TOL);
        EXPECT_NEAR(ring.lat_deg[k * n], lat, DEG_TOL);
        worst = fmax(worst, fmax(fabs(ring.lon_deg[k * n] - lon), fabs(ring.lat_deg[k * n] - lat)));
    }
    printf("  UTM footprint corners vs eos_geo_pixel_to_lonlat: max diff %.3g deg\n", worst);
    /* the north edge is curved in lon/lat: its middle is north of the corners' chord */
    double mid_lat = ring.lat_deg[3 * n + n / 2];
    EXPECT_TRUE(mid_lat > 0.5 * (ring.lat_deg[3 * n] + ring.lat_deg[0]));
    EXPECT_TRUE(bb[3] >= mid_lat);
    ring_free(&ring);
    eos_crs_free(utm);
}

static void test_footprint_rgb_byte(void) {
    /* RGB.byte.tif's georeferencing, built by hand (no file needed). Expected corners came once
     * from `echo "X Y" | gdaltransform -s_srs EPSG:32618 -t_srs EPSG:4326 -output_xy` and
     * agree with `cs2cs -f %.12f EPSG:32618 EPSG:4326` to 1e-12 degrees. The scene lies at
     * 23.6-25.6 N, 76.6-79.0 W (the Bahamas). */
    eos_crs *utm = crs_epsg(32618);
    ASSERT_TRUE(utm);
    eos_georef g = { gt_of(101985.0, 300.0379, 0, 2826915.0, 0, -300.0418), utm, true };
    const double want[4][2] = {
        { -78.958649965394, 25.5060873856566 },   /* UL (101985, 2826915) */
        { -78.8981333859643, 23.5649910991463 },  /* LL (101985, 2611484.9876) */
        { -76.574923905547, 23.6059468413703 },   /* LR (339314.9789, 2611484.9876) */
        { -76.5994385572041, 25.5508737651405 },  /* UR (339314.9789, 2826915) */
    };
    const int n = 8;
    eos_lonlat_ring ring;
    double bb[4];
    ASSERT_OK(eos_geo_footprint(ctx(), &g, 791, 718, n, &ring, bb));
    double worst = 0;
    for (int k = 0; k < 4; k++) {
        EXPECT_NEAR(ring.lon_deg[k * n], want[k][0], DEG_TOL);
        EXPECT_NEAR(ring.lat_deg[k * n], want[k][1], DEG_TOL);
        worst = fmax(worst, fmax(fabs(ring.lon_deg[k * n] - want[k][0]),
                                 fabs(ring.lat_deg[k * n] - want[k][1])));
    }
    printf("  RGB.byte.tif footprint corners vs gdaltransform: max diff %.3g deg\n", worst);
    check_ring_shape(&ring);
    check_bbox_of_ring(&ring, bb);
    /* the bbox is set by the corners here: UL is westmost, LL southmost, LR eastmost, UR
     * northmost (checked against the densified ring above) */
    EXPECT_NEAR(bb[0], want[0][0], DEG_TOL);
    EXPECT_NEAR(bb[1], want[1][1], DEG_TOL);
    EXPECT_NEAR(bb[2], want[2][0], DEG_TOL);
    EXPECT_NEAR(bb[3], want[3][1], DEG_TOL);
    ring_free(&ring);
    eos_crs_free(utm);
}

static void test_footprint_antimeridian(void) {
    /* UTM 60N (central meridian 177 E), 600 km wide at ~45 N: from about 174.5 E to about
     * 177.6 W. The ring keeps going past 180; the bbox has west > east. */
    eos_crs *utm = crs_epsg(32660);
    ASSERT_TRUE(utm);
    eos_georef g = { gt_of(300000, 100, 0, 5100000, 0, -100), utm, true };
    const int n = 16;
    eos_lonlat_ring ring;
    double bb[4];
    ASSERT_OK(eos_geo_footprint(ctx(), &g, 6000, 2000, n, &ring, bb));
    check_ring_shape(&ring);
    printf("  antimeridian bbox {%.6f, %.6f, %.6f, %.6f}\n", bb[0], bb[1], bb[2], bb[3]);
    EXPECT_TRUE(bb[0] > bb[2]);
    EXPECT_TRUE(bb[0] > 172 && bb[0] < 176);
    EXPECT_TRUE(bb[2] < -176 && bb[2] > -180);
    EXPECT_TRUE(bb[1] > 43 && bb[3] < 47);
    double max_lon = -INFINITY;
    for (size_t i = 0; i < ring.n; i++) max_lon = fmax(max_lon, ring.lon_deg[i]);
    EXPECT_TRUE(max_lon > 180.0);
    EXPECT_NEAR(max_lon - 360.0, bb[2], 1e-9);
    /* each corner equals eos_geo_pixel_to_lonlat up to a whole turn */
    const double cc[4] = { 0, 0, 6000, 6000 }, rc[4] = { 0, 2000, 2000, 0 };
    for (int k = 0; k < 4; k++) {
        double lon, lat;
        ASSERT_OK(eos_geo_pixel_to_lonlat(ctx(), &g, cc[k], rc[k], &lon, &lat));
        double d = ring.lon_deg[k * n] - lon;
        EXPECT_NEAR(d - 360.0 * nearbyint(d / 360.0), 0.0, DEG_TOL);
        EXPECT_NEAR(ring.lat_deg[k * n], lat, DEG_TOL);
    }
    ring_free(&ring);
    /* a WGS 84 raster given in 0..360 longitudes: the same rule, no PROJ involved */
    eos_crs *w = crs_epsg(4326);
    eos_georef gw = { gt_of(170, 0.5, 0, 10, 0, -0.5), w, true };
    ASSERT_OK(eos_geo_footprint(ctx(), &gw, 40, 20, 2, &ring, bb));
    EXPECT_TRUE(bb[0] == 170.0 && bb[2] == -170.0 && bb[1] == 0.0 && bb[3] == 10.0);
    EXPECT_TRUE(ring.lon_deg[4] == 190.0);   /* LR, unchanged */
    check_ring_shape(&ring);
    ring_free(&ring);
    /* the whole world: west -180, east 180 */
    gw.transform = gt_of(-180, 1, 0, 90, 0, -1);
    ASSERT_OK(eos_geo_footprint(ctx(), &gw, 360, 180, 4, NULL, bb));
    EXPECT_TRUE(bb[0] == -180.0 && bb[1] == -90.0 && bb[2] == 180.0 && bb[3] == 90.0);
    eos_crs_free(w);
    eos_crs_free(utm);
}

static void test_footprint_pole(void) {
    /* NSIDC polar stereographic north (EPSG:3413), 2000 km square centred on the pole */
    eos_crs *ps = crs_epsg(3413);
    ASSERT_TRUE(ps);
    eos_georef g = { gt_of(-1e6, 1000, 0, 1e6, 0, -1000), ps, true };
    double bb[4], lon, lat;
    eos_lonlat_ring ring;
    ASSERT_OK(eos_geo_footprint(ctx(), &g, 2000, 2000, 8, &ring, bb));
    EXPECT_TRUE(bb[0] == -180.0 && bb[2] == 180.0 && bb[3] == 90.0);
    ASSERT_OK(eos_geo_pixel_to_lonlat(ctx(), &g, 0, 0, &lon, &lat));   /* a corner */
    EXPECT_TRUE(bb[1] <= lat && bb[1] > 70.0);
    EXPECT_EQ_INT(ring.n, 33);
    ring_free(&ring);
    eos_crs_free(ps);
}

static void test_footprint_errors(void) {
    eos_crs *w = crs_epsg(4326);
    ASSERT_TRUE(w);
    eos_georef g = { gt_of(10, 0.01, 0, 50, 0, -0.01), w, true };
    eos_lonlat_ring ring;
    double bb[4];
    EXPECT_STATUS(eos_geo_footprint(ctx(), &g, 10, 10, 0, &ring, bb), EOS_INVALID_ARG);
    EXPECT_TRUE(ring.n == 0 && ring.lon_deg == NULL);
    EXPECT_TRUE(strstr(eos_ctx_errmsg(ctx()), "n_per_edge") != NULL);
    EXPECT_STATUS(eos_geo_footprint(ctx(), &g, 10, 10, 1 << 20, &ring, bb), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_geo_footprint(ctx(), &g, 0, 10, 1, &ring, bb), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_geo_footprint(ctx(), &g, 10, -1, 1, &ring, bb), EOS_INVALID_ARG);
    g.crs = NULL;
    EXPECT_STATUS(eos_geo_footprint(ctx(), &g, 10, 10, 1, &ring, bb), EOS_INVALID_ARG);
    /* an orthographic view of the globe: the raster's corners lie off the visible disk */
    eos_crs *ortho = NULL;
    ASSERT_OK(eos_crs_create(ctx(), "+proj=ortho +lat_0=0 +lon_0=0 +datum=WGS84", &ortho));
    eos_georef go = { gt_of(-1e7, 1e5, 0, 1e7, 0, -1e5), ortho, true };
    EXPECT_STATUS(eos_geo_footprint(ctx(), &go, 200, 200, 2, &ring, bb), EOS_INVALID_ARG);
    EXPECT_TRUE(strstr(eos_ctx_errmsg(ctx()), "outline") != NULL);
    EXPECT_TRUE(ring.lon_deg == NULL);
    /* its centre is fine */
    double lon, lat;
    EXPECT_OK(eos_geo_pixel_to_lonlat(ctx(), &go, 100, 100, &lon, &lat));
    EXPECT_NEAR(lon, 0.0, DEG_TOL);
    EXPECT_NEAR(lat, 0.0, DEG_TOL);
    EXPECT_STATUS(eos_geo_pixel_to_lonlat(ctx(), &go, 0, 0, &lon, &lat), EOS_INVALID_ARG);
    EXPECT_TRUE(isnan(lon) && isnan(lat));
    eos_crs_free(ortho);
    eos_crs_free(w);
}

static void teardown(void) {
    eos_ctx_free(g_ctx);
    g_ctx = NULL;
}

TEST_MAIN(TEST(test_identity), TEST(test_north_up), TEST(test_rotated), TEST(test_positive_y),
          TEST(test_singular), TEST(test_crs_create), TEST(test_crs_bad), TEST(test_crs_props),
          TEST(test_axis_order), TEST(test_utm), TEST(test_web_mercator),
          TEST(test_xform_failures), TEST(test_pixel_lonlat), TEST(test_footprint_geographic),
          TEST(test_footprint_utm), TEST(test_footprint_rgb_byte),
          TEST(test_footprint_antimeridian), TEST(test_footprint_pole),
          TEST(test_footprint_errors), TEST(teardown))
