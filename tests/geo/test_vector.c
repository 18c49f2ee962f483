/*
 * tests/geo/test_vector.c - polygonising class masks (src/geo/vector.c).
 *
 * Small class-mask GeoTIFFs are written here with GDAL (UTM 33N with 10 m pixels placed at
 * easting 500000 / northing 0, where the zone's central meridian gives lon 15 and the equator
 * lat 0 exactly, and EPSG:4326 with 0.0001 degree pixels), polygonised to every format, and the
 * outputs read back with OGR (or as text for CSV) and checked against hand-computed areas,
 * ring counts, coordinates and winding.
 */
#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include "common/test.h"
#include "eosight/mask.h"

static char g_dir[256];

/* ------------------------------------------------------------------ setup */

static void remove_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char path[768];
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path) != 0) remove_dir(path);
    }
    closedir(d);
    rmdir(dir);
}

/* KEEP=1 in the environment keeps the files for a look after a failure. */
static void teardown(void) {
    if (!getenv("KEEP")) remove_dir(g_dir);
}

/* The temporary directory, made on first use and removed at exit. */
static void setup(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/eos_test_vector_XXXXXX");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        exit(1);
    }
    GDALAllRegister();
    CPLSetErrorHandler(CPLQuietErrorHandler);
    atexit(teardown);
}

static const char *tmp_path(const char *name) {
    static char buf[64][512];   /* a ring: results stay valid for 63 more calls */
    if (!g_dir[0]) setup();
    static int k;
    k = (k + 1) % 64;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, name);
    return buf[k];
}

/* ------------------------------------------------------------------ fixtures */

typedef struct mask_spec {
    int         w, h;
    const uint8_t *px;        /* w*h class values */
    int         epsg;         /* 0: no CRS */
    double      gt[6];        /* ignored when !has_gt */
    bool        has_gt;
    int         nodata;       /* GDAL nodata of the band; -1: none */
    const char *const *categories;
} mask_spec;

static const char *make_mask(const char *name, const mask_spec *m) {
    const char *path = tmp_path(name);
    GDALAllRegister();
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path, m->w, m->h, 1, GDT_Byte,
                                 NULL);
    if (!ds) return NULL;
    if (m->has_gt) GDALSetGeoTransform(ds, (double *)m->gt);
    if (m->epsg) {
        OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
        OSRImportFromEPSG(srs, m->epsg);
        GDALSetSpatialRef(ds, srs);
        OSRDestroySpatialReference(srs);
    }
    GDALRasterBandH b = GDALGetRasterBand(ds, 1);
    if (m->nodata >= 0) GDALSetRasterNoDataValue(b, m->nodata);
    if (m->categories) GDALSetRasterCategoryNames(b, (char **)m->categories);
    CPLErr e = GDALRasterIO(b, GF_Write, 0, 0, m->w, m->h, (void *)m->px, m->w, m->h, GDT_Byte,
                            0, 0);
    GDALClose(ds);
    return e == CE_None ? path : NULL;
}

/* UTM 33N, 10 m pixels, lower-left corner of the raster at (500000, 0). */
static mask_spec utm_spec(int w, int h, const uint8_t *px) {
    mask_spec m = { w, h, px, 32633, { 500000.0, 10.0, 0.0, 10.0 * h, 0.0, -10.0 }, true, -1,
                    NULL };
    return m;
}

/* A w x h mask of zeros with a filled rectangle of class c. */
static void fill_rect(uint8_t *px, int w, int x0, int y0, int rw, int rh, uint8_t c) {
    for (int y = y0; y < y0 + rh; y++)
        for (int x = x0; x < x0 + rw; x++) px[y * w + x] = c;
}

typedef struct feat {
    int    class_id;
    char   class_name[64];
    double area_m2;
    int    n_interior;
    double geom_area;   /* OGR area of the geometry as stored (in the file's CRS) */
} feat;

/* Read every feature of the first layer; returns the count (at most max), -1 on failure. */
static int read_features(const char *path, feat *out, int max, int *epsg) {
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR, NULL, NULL, NULL);
    if (!ds) return -1;
    OGRLayerH l = GDALDatasetGetLayer(ds, 0);
    if (epsg) {
        OGRSpatialReferenceH srs = OGR_L_GetSpatialRef(l);
        const char *code = srs ? OSRGetAuthorityCode(srs, NULL) : NULL;
        *epsg = code ? atoi(code) : 0;
    }
    OGRFeatureDefnH def = OGR_L_GetLayerDefn(l);
    int i_id = OGR_FD_GetFieldIndex(def, "class_id");
    int i_name = OGR_FD_GetFieldIndex(def, "class_name");
    int i_area = OGR_FD_GetFieldIndex(def, "area_m2"), n = 0;
    OGRFeatureH f;
    while ((f = OGR_L_GetNextFeature(l)) != NULL) {
        if (n < max) {
            out[n].class_id = OGR_F_GetFieldAsInteger(f, i_id);
            snprintf(out[n].class_name, sizeof out[n].class_name, "%s",
                     OGR_F_GetFieldAsString(f, i_name));
            out[n].area_m2 = OGR_F_GetFieldAsDouble(f, i_area);
            OGRGeometryH g = OGR_F_GetGeometryRef(f);
            out[n].n_interior = g ? OGR_G_GetGeometryCount(g) - 1 : -1;
            out[n].geom_area = g ? OGR_G_Area(g) : 0;
        }
        n++;
        OGR_F_Destroy(f);
    }
    GDALClose(ds);
    return n;
}

static int count_class(const feat *f, int n, int class_id) {
    int c = 0;
    for (int i = 0; i < n; i++) c += f[i].class_id == class_id;
    return c;
}

static bool file_exists(const char *path) { return access(path, F_OK) == 0; }

/* ------------------------------------------------------------------ tests */

static void test_square_gpkg(void) {
    uint8_t px[36] = { 0 };
    fill_rect(px, 6, 2, 1, 3, 3, 1);
    mask_spec ms = utm_spec(6, 6, px);
    const char *mask = make_mask("square.tif", &ms);
    ASSERT_TRUE(mask);
    static const char *const names[] = { "background", "building" };
    eos_polygonize_params p = eos_polygonize_default_params();
    p.class_names = names;
    p.n_classes = 2;
    p.skip_class0 = true;
    eos_polygonize_stats st;
    const char *out = tmp_path("square.gpkg");
    ASSERT_OK(eos_polygonize(NULL, mask, out, &p, &st));
    EXPECT_EQ_INT(st.n_features, 1);
    EXPECT_EQ_INT(st.n_dropped, 0);
    EXPECT_NEAR(st.total_area_m2, 900.0, 1e-9);
    EXPECT_TRUE(!file_exists(tmp_path("square.gpkg.part")));
    feat f[8];
    int epsg = 0;
    ASSERT_EQ_INT(read_features(out, f, 8, &epsg), 1);
    EXPECT_EQ_INT(epsg, 32633);
    EXPECT_EQ_INT(f[0].class_id, 1);
    EXPECT_STR_EQ(f[0].class_name, "building");
    EXPECT_NEAR(f[0].area_m2, 900.0, 1e-9);
    EXPECT_NEAR(f[0].geom_area, 900.0, 1e-9);
    EXPECT_EQ_INT(f[0].n_interior, 0);

    /* with the background: it surrounds the square (one hole), 36 - 9 = 27 px = 2700 m2 */
    p.skip_class0 = false;
    ASSERT_OK(eos_polygonize(NULL, mask, out, &p, &st));   /* overwrites */
    ASSERT_EQ_INT(read_features(out, f, 8, NULL), 2);
    int bg = f[0].class_id == 0 ? 0 : 1;
    EXPECT_STR_EQ(f[bg].class_name, "background");
    EXPECT_NEAR(f[bg].area_m2, 2700.0, 1e-9);
    EXPECT_EQ_INT(f[bg].n_interior, 1);
    EXPECT_NEAR(st.total_area_m2, 3600.0, 1e-9);
}

static void test_ring_keeps_hole(void) {
    /* a 5x5 ring of class 2 around a 1 px hole of class 0, in a 7x7 raster */
    uint8_t px[49] = { 0 };
    fill_rect(px, 7, 1, 1, 5, 5, 2);
    px[3 * 7 + 3] = 0;
    mask_spec ms = utm_spec(7, 7, px);
    const char *mask = make_mask("ring.tif", &ms);
    ASSERT_TRUE(mask);
    eos_polygonize_params p = eos_polygonize_default_params();
    p.skip_class0 = true;
    const char *out = tmp_path("ring.gpkg");
    ASSERT_OK(eos_polygonize(NULL, mask, out, &p, NULL));
    feat f[8];
    ASSERT_EQ_INT(read_features(out, f, 8, NULL), 1);
    EXPECT_EQ_INT(f[0].class_id, 2);
    EXPECT_STR_EQ(f[0].class_name, "class_2");
    EXPECT_EQ_INT(f[0].n_interior, 1);
    EXPECT_NEAR(f[0].area_m2, 2500.0 - 100.0, 1e-9);
}

static void test_connectivity(void) {
    /* two pixels of class 1 touching at a corner */
    uint8_t px[16] = { 0 };
    px[1 * 4 + 1] = 1;
    px[2 * 4 + 2] = 1;
    mask_spec ms = utm_spec(4, 4, px);
    const char *mask = make_mask("diag.tif", &ms);
    ASSERT_TRUE(mask);
    eos_polygonize_params p = eos_polygonize_default_params();
    p.skip_class0 = true;
    const char *out = tmp_path("diag.gpkg");
    feat f[8];
    eos_polygonize_stats st;
    ASSERT_OK(eos_polygonize(NULL, mask, out, &p, &st));
    EXPECT_EQ_INT(read_features(out, f, 8, NULL), 2);
    EXPECT_EQ_INT(st.n_features, 2);
    p.connected8 = true;
    ASSERT_OK(eos_polygonize(NULL, mask, out, &p, &st));
    ASSERT_EQ_INT(read_features(out, f, 8, NULL), 1);
    EXPECT_NEAR(f[0].area_m2, 200.0, 1e-9);
}

static void test_min_area(void) {
    /* a 1 px (100 m2) object, a 2 px (200 m2) object and a 3x3 (900 m2) one */
    uint8_t px[64] = { 0 };
    px[0] = 1;
    fill_rect(px, 8, 5, 0, 2, 1, 1);
    fill_rect(px, 8, 2, 3, 3, 3, 3);
    mask_spec ms = utm_spec(8, 8, px);
    const char *mask = make_mask("small.tif", &ms);
    ASSERT_TRUE(mask);
    eos_polygonize_params p = eos_polygonize_default_params();
    p.skip_class0 = true;
    p.min_area_m2 = 150.0;
    eos_polygonize_stats st;
    const char *out = tmp_path("small.gpkg");
    ASSERT_OK(eos_polygonize(NULL, mask, out, &p, &st));
    EXPECT_EQ_INT(st.n_features, 2);
    EXPECT_EQ_INT(st.n_dropped, 1);
    EXPECT_NEAR(st.total_area_m2, 1100.0, 1e-9);
    feat f[8];
    ASSERT_EQ_INT(read_features(out, f, 8, NULL), 2);
    EXPECT_EQ_INT(count_class(f, 2, 1), 1);
    EXPECT_EQ_INT(count_class(f, 2, 3), 1);
    p.min_area_m2 = 1000.0;
    ASSERT_OK(eos_polygonize(NULL, mask, out, &p, &st));
    EXPECT_EQ_INT(st.n_features, 0);
    EXPECT_EQ_INT(st.n_dropped, 3);
    EXPECT_EQ_INT(read_features(out, f, 8, NULL), 0);
}

/* Signed area of a ring by the shoelace formula: > 0 for counter-clockwise (x east, y north). */
static double ring_signed_area(OGRGeometryH ring) {
    int n = OGR_G_GetPointCount(ring);
    double s = 0;
    for (int i = 0; i + 1 < n; i++)
        s += OGR_G_GetX(ring, i) * OGR_G_GetY(ring, i + 1) -
             OGR_G_GetX(ring, i + 1) * OGR_G_GetY(ring, i);
    return 0.5 * s;
}

static void test_geojson_lonlat(void) {
    /* 3x3 square of class 1 in the lower-left corner: its corner is (500000, 0) -> (15, 0);
     * a ring of class 2 gives a hole to check the winding of interior rings too */
    uint8_t px[64] = { 0 };
    fill_rect(px, 8, 0, 5, 3, 3, 1);
    fill_rect(px, 8, 4, 0, 3, 3, 2);
    px[1 * 8 + 5] = 0;
    mask_spec ms = utm_spec(8, 8, px);
    const char *mask = make_mask("geo.tif", &ms);
    ASSERT_TRUE(mask);
    eos_polygonize_params p = eos_polygonize_default_params();
    p.skip_class0 = true;
    const char *out = tmp_path("geo.geojson");
    ASSERT_OK(eos_polygonize(NULL, mask, out, &p, NULL));
    EXPECT_TRUE(!file_exists(tmp_path("geo.geojson.part")));
    GDALDatasetH ds = GDALOpenEx(out, GDAL_OF_VECTOR, NULL, NULL, NULL);
    ASSERT_TRUE(ds);
    OGRLayerH l = GDALDatasetGetLayer(ds, 0);
    ASSERT_EQ_INT(OGR_L_GetFeatureCount(l, TRUE), 2);
    OGRFeatureH f;
    bool corner = false;
    while ((f = OGR_L_GetNextFeature(l)) != NULL) {
        OGRGeometryH g = OGR_F_GetGeometryRef(f);
        int cls = OGR_F_GetFieldAsInteger(f, OGR_F_GetFieldIndex(f, "class_id"));
        double area = OGR_F_GetFieldAsDouble(f, OGR_F_GetFieldIndex(f, "area_m2"));
        EXPECT_NEAR(area, cls == 1 ? 900.0 : 800.0, 1e-6);   /* computed in UTM, exact */
        OGRGeometryH ext = OGR_G_GetGeometryRef(g, 0);
        EXPECT_TRUE(ring_signed_area(ext) > 0);               /* RFC 7946: exterior CCW */
        if (cls == 2) {
            ASSERT_EQ_INT(OGR_G_GetGeometryCount(g), 2);
            EXPECT_TRUE(ring_signed_area(OGR_G_GetGeometryRef(g, 1)) < 0);   /* hole CW */
        }
        for (int i = 0; i < OGR_G_GetPointCount(ext); i++) {
            double lon = OGR_G_GetX(ext, i), lat = OGR_G_GetY(ext, i);
            if (lon < 15.0 - 1e-9 || lon > 15.001 || lat < -1e-9 || lat > 0.001)
                TEST_FAIL_("vertex (%.9f, %.9f) is not near lon 15, lat 0", lon, lat);
            if (fabs(lon - 15.0) < 1e-9 && fabs(lat) < 1e-9) corner = true;
        }
        OGR_F_Destroy(f);
    }
    EXPECT_TRUE(corner);   /* (500000 E, 0 N) in zone 33N is exactly (15, 0) */
    GDALClose(ds);
}

/* Area of a pixel block on the WGS 84 ellipsoid from the local radii of curvature. */
static double ellipsoid_area(double lat_deg, double dlon_deg, double dlat_deg) {
    const double a = 6378137.0, f = 1.0 / 298.257223563, e2 = f * (2 - f);
    const double d2r = 3.14159265358979323846 / 180.0;
    double s = sin(lat_deg * d2r), w = 1 - e2 * s * s;
    double m = a * (1 - e2) / (w * sqrt(w)), n = a / sqrt(w);
    return (dlon_deg * d2r * n * cos(lat_deg * d2r)) * (dlat_deg * d2r * m);
}

static void test_geographic_area(void) {
    /* EPSG:4326, 0.0001 deg pixels, a 3x3 square spanning lat 0.0002..0.0005, lon 20.0002..5 */
    uint8_t px[64] = { 0 };
    fill_rect(px, 8, 2, 3, 3, 3, 1);
    mask_spec ms = { 8, 8, px, 4326, { 20.0, 0.0001, 0, 0.0008, 0, -0.0001 }, true, -1, NULL };
    const char *mask = make_mask("wgs.tif", &ms);
    ASSERT_TRUE(mask);
    eos_polygonize_params p = eos_polygonize_default_params();
    p.skip_class0 = true;
    feat f[4];
    int epsg = 0;
    const char *out = tmp_path("wgs.gpkg");
    ASSERT_OK(eos_polygonize(NULL, mask, out, &p, NULL));
    ASSERT_EQ_INT(read_features(out, f, 4, &epsg), 1);
    EXPECT_EQ_INT(epsg, 4326);
    double want = ellipsoid_area(0.00035, 0.0003, 0.0003);   /* ~ 9 * 11.132 * 11.057 */
    EXPECT_NEAR(want, 9 * 123.09, 0.1);
    EXPECT_NEAR(f[0].area_m2 / want, 1.0, 1e-6);
    /* the same written as GeoJSON: lon/lat unchanged, same area */
    out = tmp_path("wgs.geojson");
    ASSERT_OK(eos_polygonize(NULL, mask, out, &p, NULL));
    ASSERT_EQ_INT(read_features(out, f, 4, NULL), 1);
    EXPECT_NEAR(f[0].area_m2 / want, 1.0, 1e-6);
    EXPECT_NEAR(f[0].geom_area, 9e-8, 1e-12);   /* in square degrees */
}

static char *slurp(const char *path) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    static char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static void test_csv_wkt(void) {
    uint8_t px[36] = { 0 };
    fill_rect(px, 6, 2, 1, 3, 3, 1);
    mask_spec ms = utm_spec(6, 6, px);
    const char *mask = make_mask("csv.tif", &ms);
    ASSERT_TRUE(mask);
    static const char *const names[] = { "bg", "water" };
    eos_polygonize_params p = eos_polygonize_default_params();
    p.class_names = names;
    p.n_classes = 2;
    p.skip_class0 = true;
    const char *out = tmp_path("polys.csv");
    ASSERT_OK(eos_polygonize(NULL, mask, out, &p, NULL));
    EXPECT_TRUE(!file_exists(tmp_path("polys.csv.part.csv")));
    char *text = slurp(out);
    ASSERT_TRUE(text);
    EXPECT_TRUE(!strncmp(text, "WKT,class_id,class_name,area_m2", 31));
    /* the square: x 500020..500050, y 20..50 (rows 1..3 of a raster whose top is y=60) */
    EXPECT_TRUE(strstr(text, "\"POLYGON ((") != NULL);
    EXPECT_TRUE(strstr(text, "500020 50") != NULL);
    EXPECT_TRUE(strstr(text, "500050 20") != NULL);
    EXPECT_TRUE(strstr(text, ",1,water,900") != NULL);
    if (strstr(text, ",1,water,900") == NULL) fprintf(stderr, "  csv: %s\n", text);
}

static void test_errors(void) {
    eos_ctx *ctx = NULL;
    ASSERT_OK(eos_ctx_create(NULL, &ctx));
    uint8_t px[16] = { 0 };
    fill_rect(px, 4, 1, 1, 2, 2, 1);
    mask_spec ms = { 4, 4, px, 0, { 0 }, false, -1, NULL };
    const char *mask = make_mask("plain.tif", &ms);
    ASSERT_TRUE(mask);
    eos_polygonize_params p = eos_polygonize_default_params();
    p.skip_class0 = true;
    EXPECT_STATUS(eos_polygonize(ctx, mask, tmp_path("plain.geojson"), &p, NULL),
                  EOS_INVALID_ARG);
    EXPECT_TRUE(strstr(eos_ctx_errmsg(ctx), "georeferenc") != NULL);
    EXPECT_TRUE(!file_exists(tmp_path("plain.geojson")));
    EXPECT_TRUE(!file_exists(tmp_path("plain.geojson.part")));
    /* without georeferencing GPKG still works: areas in pixels (1 px = 1 "m2") */
    eos_polygonize_stats st;
    eos_status s = eos_polygonize(ctx, mask, tmp_path("plain.gpkg"), &p, &st);
    if (s) TEST_FAIL_("plain.gpkg: %s", eos_ctx_errmsg(ctx));
    EXPECT_EQ_INT(st.n_features, 1);
    EXPECT_NEAR(st.total_area_m2, 4.0, 1e-12);

    EXPECT_STATUS(eos_polygonize(ctx, tmp_path("missing.tif"), tmp_path("m.gpkg"), &p, NULL),
                  EOS_IO);
    EXPECT_TRUE(strstr(eos_ctx_errmsg(ctx), "missing.tif") != NULL);
    FILE *fp = fopen(tmp_path("junk.tif"), "wb");
    ASSERT_TRUE(fp);
    fputs("not a raster at all", fp);
    fclose(fp);
    EXPECT_STATUS(eos_polygonize(ctx, tmp_path("junk.tif"), tmp_path("j.gpkg"), &p, NULL),
                  EOS_PARSE);
    EXPECT_STATUS(eos_polygonize(ctx, mask, tmp_path("x.shp"), &p, NULL), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_polygonize(ctx, mask, tmp_path("nodir/x.gpkg"), &p, NULL), EOS_IO);
    p.simplify_m = -1;
    EXPECT_STATUS(eos_polygonize(ctx, mask, tmp_path("x.gpkg"), &p, NULL), EOS_INVALID_ARG);
    eos_ctx_free(ctx);
}

static void test_nodata_and_categories(void) {
    /* band nodata 200: the 200 block makes no polygon; value 255 (params' nodata) neither;
     * class names come from the band's category list */
    uint8_t px[64] = { 0 };
    fill_rect(px, 8, 0, 0, 2, 2, 200);
    fill_rect(px, 8, 4, 0, 2, 2, 255);
    fill_rect(px, 8, 0, 4, 3, 3, 1);
    fill_rect(px, 8, 5, 5, 2, 2, 2);
    static const char *const cats[] = { "none", "tree", "", NULL };
    mask_spec ms = utm_spec(8, 8, px);
    ms.nodata = 200;
    ms.categories = cats;
    const char *mask = make_mask("nd.tif", &ms);
    ASSERT_TRUE(mask);
    eos_polygonize_params p = eos_polygonize_default_params();
    const char *out = tmp_path("nd.gpkg");
    eos_polygonize_stats st;
    ASSERT_OK(eos_polygonize(NULL, mask, out, &p, &st));
    feat f[16];
    int n = read_features(out, f, 16, NULL);
    ASSERT_TRUE(n > 0 && n <= 16);
    EXPECT_EQ_INT(count_class(f, n, 200), 0);
    EXPECT_EQ_INT(count_class(f, n, 255), 0);
    EXPECT_EQ_INT(count_class(f, n, 1), 1);
    EXPECT_EQ_INT(count_class(f, n, 2), 1);
    double total = 0;
    for (int i = 0; i < n; i++) {
        total += f[i].area_m2;
        if (f[i].class_id == 1) EXPECT_STR_EQ(f[i].class_name, "tree");
        if (f[i].class_id == 2) EXPECT_STR_EQ(f[i].class_name, "class_2");   /* empty name */
        if (f[i].class_id == 0) EXPECT_STR_EQ(f[i].class_name, "none");
    }
    /* everything but the 2x2 nodata and 2x2 "255" blocks: 64 - 8 = 56 px */
    EXPECT_NEAR(total, 5600.0, 1e-9);
    EXPECT_NEAR(st.total_area_m2, 5600.0, 1e-9);
}

static void test_simplify(void) {
    /* a staircase triangle: row y has y+1 pixels of class 1 (16 rows). Its outline has
     * 2 * 16 + 3 points; simplified with 15 m (the outer step corners are 7.1 m from the line
     * through them) it keeps a handful, and the area stays within a staircase's worth of the
     * original. (Douglas-Peucker happens to keep the line through the outer corners, which
     * encloses exactly the staircase's area, so the areas may well be equal.) */
    enum { N = 16 };
    uint8_t px[N * N] = { 0 };
    for (int y = 0; y < N; y++) fill_rect(px, N, 0, y, y + 1, 1, 1);
    mask_spec ms = utm_spec(N, N, px);
    const char *mask = make_mask("stairs.tif", &ms);
    ASSERT_TRUE(mask);
    eos_polygonize_params p = eos_polygonize_default_params();
    p.skip_class0 = true;
    eos_polygonize_stats a, b;
    ASSERT_OK(eos_polygonize(NULL, mask, tmp_path("stairs0.gpkg"), &p, &a));
    p.simplify_m = 15.0;
    ASSERT_OK(eos_polygonize(NULL, mask, tmp_path("stairs1.gpkg"), &p, &b));
    EXPECT_NEAR(a.total_area_m2, 100.0 * N * (N + 1) / 2, 1e-9);
    EXPECT_TRUE(fabs(b.total_area_m2 - a.total_area_m2) < 100.0 * N);
    GDALDatasetH ds = GDALOpenEx(tmp_path("stairs1.gpkg"), GDAL_OF_VECTOR, NULL, NULL, NULL);
    ASSERT_TRUE(ds);
    OGRFeatureH f = OGR_L_GetNextFeature(GDALDatasetGetLayer(ds, 0));
    ASSERT_TRUE(f);
    int n_pts = OGR_G_GetPointCount(OGR_G_GetGeometryRef(OGR_F_GetGeometryRef(f), 0));
    EXPECT_TRUE(n_pts >= 4 && n_pts <= 8);
    OGR_F_Destroy(f);
    GDALClose(ds);
}

TEST_MAIN(TEST(test_square_gpkg), TEST(test_ring_keeps_hole), TEST(test_connectivity),
          TEST(test_min_area), TEST(test_geojson_lonlat), TEST(test_geographic_area),
          TEST(test_csv_wkt), TEST(test_errors), TEST(test_nodata_and_categories),
          TEST(test_simplify))
