/*
 * tests/catalog/test_catalog.c - the scene catalog (include/eosight/catalog.h, src/catalog/) on
 * synthetic GeoTIFFs written here with GDAL: times parsed from metadata and names, SHA-256
 * against the FIPS 180-4 examples, footprints against hand-computed corners and independent
 * OSR transforms, point / box / time queries with known answers (a rotated footprint, the
 * antimeridian), duplicates by hash, predictions, the schema, malformed inputs, threads
 * sharing one handle, and a process killed with SIGKILL in the middle of an add's transaction.
 * The database is inspected with SQLite directly, not through the API under test.
 */
#define _XOPEN_SOURCE 700   /* kill, usleep */
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <gdal.h>
#include <ogr_srs_api.h>
#include <sqlite3.h>

#include "catalog/catalog_internal.h"
#include "common/geo_oracle.h"
#include "common/test.h"
#include "eosight/catalog.h"

#define T_2020_05_18     1589760000LL   /* 2020-05-18T00:00:00Z */
#define T_2020_05_18_S2  1589797821LL   /* 2020-05-18T10:30:21Z */
#define T_2019_01_01     1546300800LL
#define T_2021_07_04_S2  1625393759LL   /* 2021-07-04T10:15:59Z */

/* ------------------------------------------------------------------ fixtures */

typedef struct tif_spec {
    int         epsg;
    double      gt[6];
    int         w, h, bands;
    GDALDataType type;
    const char *meta_key, *meta_value;   /* one metadata item, or NULL */
    const char *band1_desc;              /* description of band 1, or NULL */
} tif_spec;

static bool write_tif(const char *path, const tif_spec *t) {
    GDALAllRegister();
    GDALDriverH drv = GDALGetDriverByName("GTiff");
    GDALDatasetH ds = drv ? GDALCreate(drv, path, t->w, t->h, t->bands, t->type, NULL) : NULL;
    if (!ds) return false;
    if (t->epsg) {
        OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
        char *wkt = NULL;
        OSRImportFromEPSG(srs, t->epsg);
        OSRExportToWkt(srs, &wkt);
        GDALSetProjection(ds, wkt);
        CPLFree(wkt);
        OSRDestroySpatialReference(srs);
        GDALSetGeoTransform(ds, (double *)t->gt);
    }
    if (t->meta_key) GDALSetMetadataItem(ds, t->meta_key, t->meta_value, NULL);
    if (t->band1_desc) GDALSetDescription(GDALGetRasterBand(ds, 1), t->band1_desc);
    for (int b = 1; b <= t->bands; b++) GDALFillRaster(GDALGetRasterBand(ds, b), 10.0 * b, 0);
    GDALClose(ds);
    return true;
}

/* A 100 x 100 EPSG:4326 raster covering [lon0, lon0 + 1] x [lat0 - 1, lat0]. */
static tif_spec box4326(double lon0, double lat0) {
    tif_spec t = { 4326, { lon0, 0.01, 0, lat0, 0, -0.01 }, 100, 100, 1, GDT_Byte, NULL, NULL,
                   NULL };
    return t;
}

static void path_in(char *buf, size_t n, const char *dir, const char *name) {
    snprintf(buf, n, "%s/%s", dir, name);
}

static eos_catalog *open_cat(const char *dir) {
    char db[600];
    path_in(db, sizeof db, dir, "cat.sqlite");
    eos_catalog *cat = NULL;
    if (eos_catalog_open(NULL, db, NULL, &cat) != EOS_OK) return NULL;
    return cat;
}

static int64_t add_ok(eos_catalog *cat, const char *path) {
    int64_t id = 0;
    bool added = false;
    eos_status st = eos_catalog_add(cat, path, &id, &added);
    if (st != EOS_OK) {
        char msg[512];
        fprintf(stderr, "  add %s: %s: %s\n", path, eos_status_name(st),
                eos_catalog_errmsg(cat, msg, sizeof msg));
        return 0;
    }
    return added ? id : -id;
}

/* Ids of the scenes a query returns, in order, as "3,1,2" (-1 on failure). */
static void find_ids(eos_catalog *cat, const eos_catalog_query *q, char *out, size_t size) {
    eos_catalog_scene *s = NULL;
    size_t n = 0;
    out[0] = '\0';
    if (eos_catalog_find(cat, q, &s, &n) != EOS_OK) {
        snprintf(out, size, "error");
        return;
    }
    size_t len = 0;
    for (size_t i = 0; i < n && len < size; i++)
        len += (size_t)snprintf(out + len, size - len, "%s%lld", i ? "," : "", (long long)s[i].id);
    eos_catalog_scenes_free(s, n);
}

static int64_t sql_int(const char *db_path, const char *sql) {
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static bool sql_text_is(const char *db_path, const char *sql, const char *want) {
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    bool ok = false;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        ok = sqlite3_column_text(st, 0) && !strcmp((const char *)sqlite3_column_text(st, 0), want);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return ok;
}

/* JSON validity checked by SQLite's parser, independent of ours. */
static bool json_ok(const char *json) {
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    bool ok = false;
    if (sqlite3_open(":memory:", &db) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT json_valid(?)", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
        ok = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return ok;
}

/* ------------------------------------------------------------------ pure parts */

static void test_parse_time(void) {
    struct { const char *text; int64_t want; bool date_only; } good[] = {
        { "2020-05-18", T_2020_05_18, true },
        { "20200518", T_2020_05_18, true },
        { " 2020-05-18 ", T_2020_05_18, true },
        { "2020-05-18T10:30:21Z", T_2020_05_18_S2, false },
        { "20200518T103021", T_2020_05_18_S2, false },
        { "2020:05:18 10:30:21", T_2020_05_18_S2, false },
        { "2020-05-18T12:30:21+02:00", T_2020_05_18_S2, false },
        { "2020-05-18T08:30:21-0200", T_2020_05_18_S2, false },
        { "2020-05-18T10:30:21.123456Z", T_2020_05_18_S2, false },
        { "2020-05-18 10:30", T_2020_05_18_S2 - 21, false },
        { "2020-02-29", T_2020_05_18 - 79 * 86400LL, true },
        { "2000-02-29T00:00:00Z", 951782400LL, false },
        { "1970-01-01T00:00:00Z", 0, false },
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int64_t t = -7;
        bool d = !good[i].date_only;
        EXPECT_TRUE(eos_catalog_parse_time(good[i].text, &t, &d));
        if (t != good[i].want) TEST_FAIL_("'%s' -> %lld, want %lld", good[i].text, (long long)t,
                                          (long long)good[i].want);
        EXPECT_EQ_INT(d, good[i].date_only);
    }
    const char *bad[] = { "", "garbage", "2020-13-01", "2021-02-29", "1900-02-29", "2020-02-30",
                          "2020-05-18T25:00", "2020-05-18T10:60", "2020-05-18X", "2020-5-18",
                          "1899-12-31", "3000-01-01", "2020-05-18T10:30:21+15:00", "2020-05-18T10:30:21-14:01",
                          "20200518T1030211", "2020-05-18T10:30:21.1234567890Z",
                          "2020-05-18T10:30:21Zjunk", "2020/05/18", "2020-05-18T", NULL };
    for (int i = 0; i < (int)(sizeof bad / sizeof bad[0]); i++) {
        int64_t t = 42;
        if (eos_catalog_parse_time(bad[i], &t, NULL)) TEST_FAIL_("'%s' accepted", bad[i]);
        EXPECT_EQ_INT(t, 42);
    }
    char buf[EOS_CATALOG_TIME_LEN];
    eos_catalog_format_time(T_2020_05_18_S2, buf);
    EXPECT_STR_EQ(buf, "2020-05-18T10:30:21Z");
    eos_catalog_format_time(0, buf);
    EXPECT_STR_EQ(buf, "1970-01-01T00:00:00Z");
}

static void test_time_from_name(void) {
    struct { const char *name; int64_t want; } good[] = {
        { "S2A_MSIL2A_20200518T103021_N0214_R108_T32TNS_20200518T131411.tif", T_2020_05_18_S2 },
        { "/data/LC08_L2SP_196029_20200518_20200527_02_T1_SR_B4.TIF", T_2020_05_18 },
        { "scene_2019-01-01.tif", T_2019_01_01 },
        { "x_2020-05-18T10:30:21.tif", T_2020_05_18_S2 },
        { "20201332_then_20200518.tif", T_2020_05_18 },          /* first is no date */
        { "planet_20200518_103021_0f4e_3B.tif", T_2020_05_18_S2 },
        { "T32TQM_20200518T103021_B04_10m.jp2", T_2020_05_18_S2 },
        { "a20200518T256000.tif", T_2020_05_18 },                /* bad clock: date only */
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int64_t t = -1;
        EXPECT_TRUE(eos_catalog_time_from_name(good[i].name, &t));
        if (t != good[i].want) TEST_FAIL_("'%s' -> %lld, want %lld", good[i].name, (long long)t,
                                          (long long)good[i].want);
    }
    const char *none[] = { "img_123456789.tif", "/data/20200518/scene.tif", "scene.tif",
                           "x_19491231.tif", "x_21010101.tif", "x_2020-05-1.tif", "" };
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        int64_t t = 0;
        if (eos_catalog_time_from_name(none[i], &t)) TEST_FAIL_("'%s' gave a date", none[i]);
    }
}

static void sha_hex(const void *data, size_t n, size_t chunk, char hex[65]) {
    eos__sha256 s;
    eos__sha256_init(&s);
    const uint8_t *p = data;
    for (size_t i = 0; i < n; i += chunk)
        eos__sha256_update(&s, p + i, n - i < chunk ? n - i : chunk);
    eos__sha256_final(&s, hex);
}

static void test_sha256(void) {
    char hex[65];
    sha_hex("", 0, 1, hex);
    EXPECT_STR_EQ(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sha_hex("abc", 3, 3, hex);
    EXPECT_STR_EQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha_hex(two, strlen(two), 5, hex);
    EXPECT_STR_EQ(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    size_t n = 1000000;
    char *a = eos_malloc(n);
    ASSERT_TRUE(a != NULL);
    memset(a, 'a', n);
    sha_hex(a, n, 999, hex);   /* odd chunks cross block boundaries */
    EXPECT_STR_EQ(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    eos_free(a);
}

static void test_geometry(void) {
    /* the diamond |lon - 21| + |lat - 45| <= 1, closed */
    double lon[5] = { 20, 21, 22, 21, 20 }, lat[5] = { 45, 44, 45, 46, 45 };
    eos_lonlat_ring d = { 5, lon, lat };
    double bb[4] = { 20, 44, 22, 46 };
    EXPECT_TRUE(eos__scene_contains(&d, bb, 21, 45));
    EXPECT_TRUE(eos__scene_contains(&d, bb, 20.05, 45));
    EXPECT_TRUE(eos__scene_contains(&d, bb, 20.5, 45.45));
    EXPECT_TRUE(eos__scene_contains(&d, bb, 20.5, 45.5));        /* on an edge */
    EXPECT_TRUE(!eos__scene_contains(&d, bb, 20.5, 45.55));
    EXPECT_TRUE(!eos__scene_contains(&d, bb, 20.1, 45.8));       /* in the bbox only */
    double in_box[4] = { 20.4, 44.4, 20.6, 44.6 }, out_box[4] = { 19, 44, 20.2, 44.3 };
    double cross[4] = { 20.9, 43, 21.1, 47 };                   /* no vertex inside either */
    EXPECT_TRUE(eos__scene_intersects(&d, bb, in_box));
    EXPECT_TRUE(!eos__scene_intersects(&d, bb, out_box));
    EXPECT_TRUE(eos__scene_intersects(&d, bb, cross));
    /* an L shape (concave): the notch is outside */
    double llon[7] = { 0, 2, 2, 1, 1, 0, 0 }, llat[7] = { 0, 0, 1, 1, 2, 2, 0 };
    eos_lonlat_ring L = { 7, llon, llat };
    double lbb[4] = { 0, 0, 2, 2 };
    EXPECT_TRUE(eos__scene_contains(&L, lbb, 0.5, 1.5));
    EXPECT_TRUE(!eos__scene_contains(&L, lbb, 1.5, 1.5));
    double notch[4] = { 1.2, 1.2, 1.8, 1.8 };
    EXPECT_TRUE(!eos__scene_intersects(&L, lbb, notch));
    /* across the antimeridian: 179.5 .. 180.5, bbox west > east */
    double alon[5] = { 179.5, 180.5, 180.5, 179.5, 179.5 }, alat[5] = { 1, 1, 0, 0, 1 };
    eos_lonlat_ring a = { 5, alon, alat };
    double abb[4] = { 179.5, 0, -179.5, 1 };
    EXPECT_TRUE(eos__scene_contains(&a, abb, -179.8, 0.5));
    EXPECT_TRUE(eos__scene_contains(&a, abb, 179.8, 0.5));
    EXPECT_TRUE(!eos__scene_contains(&a, abb, -179.0, 0.5));
    double q1[4] = { -179.9, 0.2, -179.7, 0.4 }, q2[4] = { 179, -1, -179, 2 },
           q3[4] = { 170, 0, 179, 1 };
    EXPECT_TRUE(eos__scene_intersects(&a, abb, q1));
    EXPECT_TRUE(eos__scene_intersects(&a, abb, q2));
    EXPECT_TRUE(!eos__scene_intersects(&a, abb, q3));
    double lo, hi;
    eos__lon_range(abb, &lo, &hi);
    EXPECT_NEAR(lo, 179.5, 0);
    EXPECT_NEAR(hi, 180.5, 0);
    /* around the north pole: the bbox decides */
    double pbb[4] = { -180, 80, 180, 90 };
    EXPECT_TRUE(eos__scene_contains(&a, pbb, 33, 85));
    EXPECT_TRUE(!eos__scene_contains(&a, pbb, 33, 75));
}

/* ------------------------------------------------------------------ ingest */

/* lon/lat of a UTM 32N point through OSR, independently of src/geo. */
static void utm_to_lonlat(double x, double y, double *lon, double *lat) {
    oracle_lonlat(32632, x, y, lon, lat);
}

static void test_ingest_utm(void) {
    char dir[256], tif[600];
    test_tmpdir_create(dir, sizeof dir, "cat_utm");
    path_in(tif, sizeof tif, dir, "utm_scene.tif");
    tif_spec t = { 32632, { 500000, 10, 0, 5300000, 0, -10 }, 100, 80, 3, GDT_UInt16,
                   "TIFFTAG_DATETIME", "2020:05:18 10:30:21", "B04" };
    ASSERT_TRUE(write_tif(tif, &t));
    eos_catalog *cat = open_cat(dir);
    ASSERT_TRUE(cat != NULL);
    int64_t id = add_ok(cat, tif);
    EXPECT_EQ_INT(id, 1);
    eos_catalog_scene s;
    ASSERT_OK(eos_catalog_get(cat, 1, &s));
    EXPECT_STR_EQ(s.path, tif);
    EXPECT_STR_EQ(s.crs, "EPSG:32632");
    EXPECT_EQ_INT(s.epsg, 32632);
    EXPECT_EQ_INT(s.width_px, 100);
    EXPECT_EQ_INT(s.height_px, 80);
    EXPECT_EQ_INT(s.n_bands, 3);
    if (s.n_bands == 3) {
        EXPECT_STR_EQ(s.bands[0].name, "B04");
        EXPECT_STR_EQ(s.bands[0].type, "UInt16");
        EXPECT_STR_EQ(s.bands[2].type, "UInt16");
    }
    EXPECT_TRUE(s.has_time);
    EXPECT_EQ_INT(s.time_s, T_2020_05_18_S2);
    EXPECT_STR_EQ(s.time, "2020-05-18T10:30:21Z");
    EXPECT_STR_EQ(s.time_source, "metadata:TIFFTAG_DATETIME");
    EXPECT_EQ_INT(strlen(s.hash), 7 + 64);
    EXPECT_TRUE(!strncmp(s.hash, "sha256:", 7));
    EXPECT_EQ_INT(s.footprint.n, 33);
    /* upper-left corner on the zone's central meridian: lon 9 exactly (by hand); lat by OSR */
    double lon, lat;
    utm_to_lonlat(500000, 5300000, &lon, &lat);
    EXPECT_NEAR(lon, 9.0, 1e-9);
    if (s.footprint.n == 33) {
        EXPECT_NEAR(s.footprint.lon_deg[0], 9.0, 1e-9);
        EXPECT_NEAR(s.footprint.lat_deg[0], lat, 1e-9);
        EXPECT_NEAR(s.footprint.lat_deg[0], 47.8533419456, 1e-8);   /* gdaltransform */
        const double cx[4] = { 500000, 501000, 501000, 500000 },
                     cy[4] = { 5300000, 5300000, 5299200, 5299200 };
        for (int k = 0; k < 4; k++) {
            utm_to_lonlat(cx[k], cy[k], &lon, &lat);
            bool found = false;
            for (size_t i = 0; i < s.footprint.n; i++)
                found = found || (fabs(s.footprint.lon_deg[i] - lon) < 1e-9 &&
                                  fabs(s.footprint.lat_deg[i] - lat) < 1e-9);
            if (!found) TEST_FAIL_("corner %d (%.9f, %.9f) not on the footprint", k, lon, lat);
            EXPECT_TRUE(lon >= s.bbox[0] - 1e-12 && lon <= s.bbox[2] + 1e-12);
            EXPECT_TRUE(lat >= s.bbox[1] - 1e-12 && lat <= s.bbox[3] + 1e-12);
        }
        /* west edge on the central meridian: lon 9 exactly; south/north at the corners */
        EXPECT_NEAR(s.bbox[0], 9.0, 1e-9);
        double lat_ll, lat_lr, lat_ul, lat_ur;
        utm_to_lonlat(500000, 5299200, &lon, &lat_ll);
        utm_to_lonlat(501000, 5299200, &lon, &lat_lr);
        utm_to_lonlat(500000, 5300000, &lon, &lat_ul);
        utm_to_lonlat(501000, 5300000, &lon, &lat_ur);
        EXPECT_NEAR(s.bbox[1], fmin(lat_ll, lat_lr), 1e-9);
        EXPECT_NEAR(s.bbox[3], fmax(lat_ul, lat_ur), 1e-9);
        EXPECT_NEAR(s.bbox[2], lon, 1e-9);    /* east: the right corners (upper here) */
    }
    char *json = NULL;
    ASSERT_OK(eos_catalog_scene_json(&s, &json));
    EXPECT_TRUE(json_ok(json));
    EXPECT_TRUE(strstr(json, "\"epsg\":32632") != NULL);
    EXPECT_TRUE(strstr(json, "\"time\":\"2020-05-18T10:30:21Z\"") != NULL);
    EXPECT_TRUE(strstr(json, "\"type\":\"Polygon\"") != NULL);
    eos_free(json);
    eos_catalog_scene_clear(&s);
    EXPECT_TRUE(s.path == NULL);
    eos_catalog_close(cat);
    test_tmpdir_remove(dir);
}

static void test_ingest_4326_name_time(void) {
    char dir[256], tif[600];
    test_tmpdir_create(dir, sizeof dir, "cat_4326");
    path_in(tif, sizeof tif, dir, "S2A_MSIL2A_20210704T101559_N0301_R065_T32TNT.tif");
    tif_spec t = box4326(10, 46);
    t.meta_key = "TIFFTAG_DATETIME";   /* a bad time in metadata: the name wins */
    t.meta_value = "last tuesday";
    ASSERT_TRUE(write_tif(tif, &t));
    eos_catalog *cat = open_cat(dir);
    ASSERT_TRUE(cat != NULL);
    ASSERT_TRUE(add_ok(cat, tif) > 0);
    eos_catalog_scene s;
    ASSERT_OK(eos_catalog_get(cat, 1, &s));
    EXPECT_STR_EQ(s.crs, "EPSG:4326");
    EXPECT_NEAR(s.bbox[0], 10, 1e-12);
    EXPECT_NEAR(s.bbox[1], 45, 1e-12);
    EXPECT_NEAR(s.bbox[2], 11, 1e-12);
    EXPECT_NEAR(s.bbox[3], 46, 1e-12);
    EXPECT_NEAR(s.footprint.lon_deg[0], 10, 1e-12);
    EXPECT_NEAR(s.footprint.lat_deg[0], 46, 1e-12);
    EXPECT_EQ_INT(s.time_s, T_2021_07_04_S2);
    EXPECT_STR_EQ(s.time_source, "filename");
    EXPECT_STR_EQ(s.bands[0].type, "Byte");
    eos_catalog_scene_clear(&s);
    EXPECT_STATUS(eos_catalog_get(cat, 2, &s), EOS_NOT_FOUND);
    char msg[256];
    EXPECT_TRUE(strstr(eos_catalog_errmsg(cat, msg, sizeof msg), "no scene 2") != NULL);
    eos_catalog_close(cat);
    test_tmpdir_remove(dir);
}

/* ------------------------------------------------------------------ queries */

/* Scenes: 1 A box [10,11]x[45,46] 2020-05-18; 2 B diamond around (21, 45) 2019-01-01;
 * 3 C UTM 2020-05-18T10:30:21; 4 D box [10.5,11.5]x[45.5,46.5] no time;
 * 5 E across the antimeridian [179.5, 180.5] x [0, 1], 2020-05-18 (same time as A). */
static bool build_query_catalog(const char *dir, eos_catalog **out) {
    char p[600];
    tif_spec a = box4326(10, 46);
    a.meta_key = "ACQUISITION_DATE";
    a.meta_value = "2020-05-18";
    tif_spec b = { 4326, { 20, 0.01, 0.01, 45, 0.01, -0.01 }, 100, 100, 1, GDT_Byte, NULL, NULL,
                   NULL };
    tif_spec c = { 32632, { 500000, 10, 0, 5300000, 0, -10 }, 50, 50, 1, GDT_Byte,
                   "SENSING_TIME", "2020-05-18T10:30:21.000Z", NULL };
    tif_spec d = box4326(10.5, 46.5);
    tif_spec e = box4326(179.5, 1);
    e.meta_key = "ACQUISITION_DATE";
    e.meta_value = "2020-05-18";
    const tif_spec *specs[5] = { &a, &b, &c, &d, &e };
    const char *names[5] = { "a.tif", "b_2019-01-01.tif", "c.tif", "d.tif", "e.tif" };
    eos_catalog *cat = open_cat(dir);
    if (!cat) return false;
    for (int i = 0; i < 5; i++) {
        path_in(p, sizeof p, dir, names[i]);
        if (!write_tif(p, specs[i]) || add_ok(cat, p) != i + 1) {
            eos_catalog_close(cat);
            return false;
        }
    }
    *out = cat;
    return true;
}

static void expect_find(eos_catalog *cat, const eos_catalog_query *q, const char *want,
                        const char *what) {
    char got[256];
    find_ids(cat, q, got, sizeof got);
    if (strcmp(got, want)) TEST_FAIL_("%s: got [%s], want [%s]", what, got, want);
}

static void test_queries(void) {
    char dir[256];
    test_tmpdir_create(dir, sizeof dir, "cat_query");
    eos_catalog *cat = NULL;
    ASSERT_TRUE(build_query_catalog(dir, &cat));
    eos_catalog_query q = eos_catalog_point_query(10.7, 45.7);
    expect_find(cat, &q, "1,4", "A and D overlap; D has no time: last");
    q = eos_catalog_point_query(10.2, 45.2);
    expect_find(cat, &q, "1", "A only");
    q = eos_catalog_point_query(20.05, 45.0);
    expect_find(cat, &q, "2", "just inside the diamond");
    q = eos_catalog_point_query(20.5, 45.6);
    expect_find(cat, &q, "", "just outside the diamond");
    q = eos_catalog_point_query(20.1, 45.8);
    expect_find(cat, &q, "", "in the diamond's bbox only");
    q = eos_catalog_point_query(9.001, 47.85);
    expect_find(cat, &q, "3", "inside the UTM scene");
    q = eos_catalog_point_query(8.999, 47.85);
    expect_find(cat, &q, "", "west of the UTM scene");
    q = eos_catalog_point_query(-179.8, 0.5);
    expect_find(cat, &q, "5", "east of the antimeridian");
    q = eos_catalog_point_query(179.8, 0.5);
    expect_find(cat, &q, "5", "west of the antimeridian");
    q = eos_catalog_point_query(-179.0, 0.5);
    expect_find(cat, &q, "", "beyond the antimeridian scene");

    q = eos_catalog_bbox_query(19, 44, 20.2, 44.3);
    expect_find(cat, &q, "", "box in the diamond's bbox only");
    q = eos_catalog_bbox_query(20.4, 44.4, 20.6, 44.6);
    expect_find(cat, &q, "2", "box overlapping the diamond");
    q = eos_catalog_bbox_query(179, -1, -179, 2);
    expect_find(cat, &q, "5", "box across the antimeridian");
    q = eos_catalog_bbox_query(-180, -90, 180, 90);
    expect_find(cat, &q, "2,1,5,3,4", "everything, by time then id, untimed last");
    q.newest_first = true;
    expect_find(cat, &q, "4,3,5,1,2", "everything, newest first, untimed first");
    q.limit = 2;
    expect_find(cat, &q, "4,3", "newest first, limit 2: the newest two");
    q = eos_catalog_point_query(10.7, 45.7);
    q.newest_first = true;
    expect_find(cat, &q, "4,1", "point, newest first");
    q = eos_catalog_bbox_query(-180, -90, 180, 90);
    q.has_from = q.has_to = true;
    q.from_s = T_2020_05_18;
    q.to_s = T_2020_05_18_S2;
    expect_find(cat, &q, "1,5,3", "time range, inclusive ends");
    q.to_s = T_2020_05_18_S2 - 1;
    expect_find(cat, &q, "1,5", "time range ending a second before C");
    q = eos_catalog_point_query(10.7, 45.7);
    q.has_to = true;
    q.to_s = T_2019_01_01;
    expect_find(cat, &q, "", "point with a time range: A too late, D untimed");
    eos_catalog_query any = eos_catalog_point_query(0, 0);
    any.where = EOS_CATALOG_ANYWHERE;
    any.has_from = true;
    any.from_s = T_2020_05_18 + 1;
    expect_find(cat, &any, "3", "anywhere after midnight 2020-05-18");
    any.has_from = false;
    any.offset = 1;
    any.limit = 2;
    expect_find(cat, &any, "1,5", "paged: offset 1 limit 2");
    q = eos_catalog_bbox_query(-180, -90, 180, 90);
    q.offset = 4;
    expect_find(cat, &q, "4", "spatial, paged past the matches");

    eos_catalog_scene *s = NULL;
    size_t n = 9;
    ASSERT_OK(eos_catalog_list(cat, 1, 2, &s, &n));
    EXPECT_EQ_INT(n, 2);
    if (n == 2) {
        EXPECT_EQ_INT(s[0].id, 2);
        EXPECT_EQ_INT(s[1].id, 3);
    }
    char *json = NULL;
    ASSERT_OK(eos_catalog_scenes_json(s, n, &json));
    EXPECT_TRUE(json_ok(json));
    EXPECT_TRUE(!strncmp(json, "{\"count\":2,\"scenes\":[{\"id\":2,", 29));
    eos_free(json);
    eos_catalog_scenes_free(s, n);
    ASSERT_OK(eos_catalog_list(cat, 5, 10, &s, &n));
    EXPECT_EQ_INT(n, 0);
    EXPECT_TRUE(s == NULL);
    int64_t count = 0;
    ASSERT_OK(eos_catalog_count(cat, &count));
    EXPECT_EQ_INT(count, 5);

    /* invalid queries */
    eos_catalog_query bad = eos_catalog_point_query(200, 0);
    EXPECT_STATUS(eos_catalog_find(cat, &bad, &s, &n), EOS_INVALID_ARG);
    bad = eos_catalog_point_query(0, NAN);
    EXPECT_STATUS(eos_catalog_find(cat, &bad, &s, &n), EOS_INVALID_ARG);
    bad = eos_catalog_bbox_query(0, 10, 1, 5);
    EXPECT_STATUS(eos_catalog_find(cat, &bad, &s, &n), EOS_INVALID_ARG);
    bad = eos_catalog_point_query(0, 0);
    bad.has_from = bad.has_to = true;
    bad.from_s = 10;
    bad.to_s = 9;
    EXPECT_STATUS(eos_catalog_find(cat, &bad, &s, &n), EOS_INVALID_ARG);
    bad = eos_catalog_point_query(0, 0);
    bad.limit = 0;
    EXPECT_STATUS(eos_catalog_find(cat, &bad, &s, &n), EOS_INVALID_ARG);
    bad.limit = EOS_CATALOG_MAX_LIMIT + 1;
    EXPECT_STATUS(eos_catalog_find(cat, &bad, &s, &n), EOS_INVALID_ARG);
    bad.limit = 1;
    bad.offset = -1;
    EXPECT_STATUS(eos_catalog_find(cat, &bad, &s, &n), EOS_INVALID_ARG);
    bad = eos_catalog_point_query(0, 0);
    bad.where = (eos_catalog_where)7;
    EXPECT_STATUS(eos_catalog_find(cat, &bad, &s, &n), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_catalog_list(cat, 0, 0, &s, &n), EOS_INVALID_ARG);
    eos_catalog_close(cat);
    test_tmpdir_remove(dir);
}

/* ------------------------------------------------------------------ duplicates, predictions */

static void test_duplicates(void) {
    char dir[256], a[600], b[600], cmd[1400];
    test_tmpdir_create(dir, sizeof dir, "cat_dup");
    path_in(a, sizeof a, dir, "one.tif");
    path_in(b, sizeof b, dir, "copy_of_one.tif");
    tif_spec t = box4326(1, 2);
    ASSERT_TRUE(write_tif(a, &t));
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", a, b);
    ASSERT_TRUE(system(cmd) == 0);
    eos_catalog *cat = open_cat(dir);
    ASSERT_TRUE(cat != NULL);
    EXPECT_EQ_INT(add_ok(cat, a), 1);
    EXPECT_EQ_INT(add_ok(cat, a), -1);   /* negative: not added, existing id */
    EXPECT_EQ_INT(add_ok(cat, b), -1);   /* same bytes, other path */
    int64_t n = 0;
    EXPECT_OK(eos_catalog_count(cat, &n));
    EXPECT_EQ_INT(n, 1);
    FILE *f = fopen(b, "ab");            /* one more byte: a different file */
    ASSERT_TRUE(f != NULL);
    fputc(0, f);
    fclose(f);
    EXPECT_EQ_INT(add_ok(cat, b), 2);
    eos_catalog_close(cat);
    test_tmpdir_remove(dir);
}

static void test_predictions(void) {
    char dir[256], a[600];
    test_tmpdir_create(dir, sizeof dir, "cat_pred");
    path_in(a, sizeof a, dir, "p.tif");
    tif_spec t = box4326(1, 2);
    ASSERT_TRUE(write_tif(a, &t));
    eos_catalog *cat = open_cat(dir);
    ASSERT_TRUE(cat != NULL);
    ASSERT_EQ_INT(add_ok(cat, a), 1);
    int64_t p1 = 0, p2 = 0, p3 = 0;
    eos_catalog_window w = { 10, 20, 64, 64 };
    ASSERT_OK(eos_catalog_add_prediction(cat, 1, NULL, "eurosat-rgb",
                                         "{\"class\":\"Forest\",\"score\":0.93}", &p1));
    ASSERT_OK(eos_catalog_add_prediction(cat, 1, &w, "clouds", "{\"cloudy\":0.1}", &p2));
    ASSERT_OK(eos_catalog_add_prediction(cat, 1, &w, "tags", "[\"water\",\"\\u00e9t\\u00e9\"]",
                                         &p3));
    EXPECT_TRUE(p1 > 0 && p2 > p1 && p3 > p2);
    eos_catalog_prediction *p = NULL;
    size_t n = 0;
    ASSERT_OK(eos_catalog_predictions(cat, 1, 0, 10, &p, &n));
    ASSERT_EQ_INT(n, 3);
    EXPECT_EQ_INT(p[0].id, p3);   /* newest first (ties in ms: highest id first) */
    EXPECT_EQ_INT(p[2].id, p1);
    EXPECT_TRUE(p[0].created_ms >= p[2].created_ms && p[2].created_ms > 1600000000000LL);
    EXPECT_STR_EQ(p[2].model, "eurosat-rgb");
    EXPECT_STR_EQ(p[2].result, "{\"class\":\"Forest\",\"score\":0.93}");
    EXPECT_TRUE(!p[2].has_window);
    EXPECT_TRUE(p[1].has_window);
    EXPECT_EQ_INT(p[1].window.x, 10);
    EXPECT_EQ_INT(p[1].window.h, 64);
    char *json = NULL;
    ASSERT_OK(eos_catalog_predictions_json(p, n, &json));
    EXPECT_TRUE(json_ok(json));
    EXPECT_TRUE(strstr(json, "\"result\":{\"class\":\"Forest\",\"score\":0.93}") != NULL);
    EXPECT_TRUE(strstr(json, "\"window\":{\"x\":10,\"y\":20,\"w\":64,\"h\":64}") != NULL);
    eos_free(json);
    eos_catalog_predictions_free(p, n);
    ASSERT_OK(eos_catalog_predictions(cat, 1, 1, 1, &p, &n));
    ASSERT_EQ_INT(n, 1);
    EXPECT_EQ_INT(p[0].id, p2);
    eos_catalog_predictions_free(p, n);

    eos_catalog_window outside = { 50, 50, 64, 64 }, empty = { 0, 0, 0, 5 }, neg = { -1, 0, 5, 5 };
    EXPECT_STATUS(eos_catalog_add_prediction(cat, 1, &outside, "m", "{}", NULL), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_catalog_add_prediction(cat, 1, &empty, "m", "{}", NULL), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_catalog_add_prediction(cat, 1, &neg, "m", "{}", NULL), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_catalog_add_prediction(cat, 9, NULL, "m", "{}", NULL), EOS_NOT_FOUND);
    EXPECT_STATUS(eos_catalog_add_prediction(cat, 1, NULL, "", "{}", NULL), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_catalog_add_prediction(cat, 1, NULL, "m", "{\"a\":", NULL), EOS_PARSE);
    EXPECT_STATUS(eos_catalog_add_prediction(cat, 1, NULL, "m", "", NULL), EOS_PARSE);
    EXPECT_STATUS(eos_catalog_add_prediction(cat, 1, NULL, "m", NULL, NULL), EOS_INVALID_ARG);
    char msg[256];
    EXPECT_STATUS(eos_catalog_predictions(cat, 9, 0, 10, &p, &n), EOS_NOT_FOUND);
    EXPECT_TRUE(strstr(eos_catalog_errmsg(cat, msg, sizeof msg), "no scene 9") != NULL);
    ASSERT_OK(eos_catalog_predictions(cat, 1, 0, 10, &p, &n));
    EXPECT_EQ_INT(n, 3);          /* the failures stored nothing */
    eos_catalog_predictions_free(p, n);
    eos_catalog_close(cat);
    test_tmpdir_remove(dir);
}

/* ------------------------------------------------------------------ schema, opening, errors */

static void test_schema_once(void) {
    char dir[256], db[600], a[600], uri[700];
    test_tmpdir_create(dir, sizeof dir, "cat_schema");
    path_in(db, sizeof db, dir, "cat.sqlite");
    path_in(a, sizeof a, dir, "s.tif");
    tif_spec t = box4326(1, 2);
    ASSERT_TRUE(write_tif(a, &t));
    eos_catalog_params ro = eos_catalog_default_params();
    ro.read_only = true;
    eos_catalog *cat = NULL;
    EXPECT_STATUS(eos_catalog_open(NULL, db, &ro, &cat), EOS_NOT_FOUND);
    ASSERT_TRUE(cat == NULL);
    snprintf(uri, sizeof uri, "sqlite:%s", db);
    ASSERT_OK(eos_catalog_open(NULL, uri, NULL, &cat));
    EXPECT_STR_EQ(eos_catalog_backend(cat), "sqlite");
    EXPECT_EQ_INT(add_ok(cat, a), 1);
    eos_catalog_close(cat);
    int64_t n_objects = sql_int(db, "SELECT count(*) FROM sqlite_master");
    EXPECT_TRUE(n_objects >= 8);
    EXPECT_EQ_INT(sql_int(db, "PRAGMA user_version"), 1);
    EXPECT_EQ_INT(sql_int(db, "PRAGMA application_id"), 0x454f5343);
    EXPECT_TRUE(sql_text_is(db, "PRAGMA journal_mode", "wal"));
    for (int i = 0; i < 3; i++) {   /* reopening creates nothing and keeps the scene */
        ASSERT_OK(eos_catalog_open(NULL, db, NULL, &cat));
        int64_t n = 0;
        EXPECT_OK(eos_catalog_count(cat, &n));
        EXPECT_EQ_INT(n, 1);
        eos_catalog_close(cat);
    }
    EXPECT_EQ_INT(sql_int(db, "SELECT count(*) FROM sqlite_master"), n_objects);
    ASSERT_OK(eos_catalog_open(NULL, db, &ro, &cat));   /* read-only: reads yes, writes no */
    eos_catalog_scene s;
    EXPECT_OK(eos_catalog_get(cat, 1, &s));
    eos_catalog_scene_clear(&s);
    EXPECT_STATUS(eos_catalog_add(cat, a, NULL, NULL), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_catalog_add_prediction(cat, 1, NULL, "m", "{}", NULL), EOS_INVALID_ARG);
    eos_catalog_close(cat);

    /* a newer schema, a foreign database, a file that is not SQLite, other URIs */
    sqlite3 *raw = NULL;
    ASSERT_TRUE(sqlite3_open(db, &raw) == SQLITE_OK);
    sqlite3_exec(raw, "PRAGMA user_version = 99", NULL, NULL, NULL);
    sqlite3_close(raw);
    eos_ctx *ctx = NULL;
    ASSERT_OK(eos_ctx_create(NULL, &ctx));
    EXPECT_STATUS(eos_catalog_open(ctx, db, NULL, &cat), EOS_UNSUPPORTED);
    EXPECT_TRUE(strstr(eos_ctx_errmsg(ctx), "newer") != NULL);
    char other[600], text[600];
    path_in(other, sizeof other, dir, "other.sqlite");
    ASSERT_TRUE(sqlite3_open(other, &raw) == SQLITE_OK);
    sqlite3_exec(raw, "CREATE TABLE t (x)", NULL, NULL, NULL);
    sqlite3_close(raw);
    EXPECT_STATUS(eos_catalog_open(ctx, other, NULL, &cat), EOS_PARSE);
    EXPECT_TRUE(strstr(eos_ctx_errmsg(ctx), "not an eosight catalog") != NULL);
    path_in(text, sizeof text, dir, "notes.txt");
    FILE *f = fopen(text, "w");
    ASSERT_TRUE(f != NULL);
    fputs("this is not a database, just some text that is long enough to be a header\n", f);
    fclose(f);
    EXPECT_STATUS(eos_catalog_open(ctx, text, NULL, &cat), EOS_PARSE);
    EXPECT_TRUE(strstr(eos_ctx_errmsg(ctx), "notes.txt") != NULL);
    EXPECT_STATUS(eos_catalog_open(ctx, "postgresql://localhost/x", NULL, &cat), EOS_UNSUPPORTED);
    EXPECT_STATUS(eos_catalog_open(ctx, "ftp://x/y", NULL, &cat), EOS_UNSUPPORTED);
    EXPECT_STATUS(eos_catalog_open(ctx, "", NULL, &cat), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_catalog_open(ctx, "sqlite:", NULL, &cat), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_catalog_open(ctx, dir, NULL, &cat), EOS_IO);
    EXPECT_TRUE(cat == NULL);
    eos_ctx_free(ctx);
    eos_catalog_close(NULL);
    test_tmpdir_remove(dir);
}

static void test_malformed_inputs(void) {
    char dir[256], p[600], msg[512];
    test_tmpdir_create(dir, sizeof dir, "cat_bad");
    eos_catalog *cat = open_cat(dir);
    ASSERT_TRUE(cat != NULL);
    path_in(p, sizeof p, dir, "readme.tif");
    FILE *f = fopen(p, "w");
    ASSERT_TRUE(f != NULL);
    fputs("not a raster\n", f);
    fclose(f);
    EXPECT_STATUS(eos_catalog_add(cat, p, NULL, NULL), EOS_PARSE);
    EXPECT_TRUE(strstr(eos_catalog_errmsg(cat, msg, sizeof msg), "readme.tif") != NULL);
    path_in(p, sizeof p, dir, "missing.tif");
    EXPECT_STATUS(eos_catalog_add(cat, p, NULL, NULL), EOS_NOT_FOUND);
    EXPECT_TRUE(strstr(eos_catalog_errmsg(cat, msg, sizeof msg), "missing.tif") != NULL);
    EXPECT_STATUS(eos_catalog_add(cat, dir, NULL, NULL), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_catalog_add(cat, "", NULL, NULL), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_catalog_add(cat, NULL, NULL, NULL), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_catalog_add(cat, "/vsicurl/http://example.com/x.tif", NULL, NULL),
                  EOS_INVALID_ARG);
    path_in(p, sizeof p, dir, "plain.tif");   /* a raster without georeferencing */
    tif_spec plain = box4326(0, 0);
    plain.epsg = 0;
    ASSERT_TRUE(write_tif(p, &plain));
    EXPECT_STATUS(eos_catalog_add(cat, p, NULL, NULL), EOS_INVALID_ARG);
    EXPECT_TRUE(strstr(eos_catalog_errmsg(cat, msg, sizeof msg), "georeferencing") != NULL);
    path_in(p, sizeof p, dir, "untimed.tif");   /* bad time, no date in the name: no time */
    tif_spec t = box4326(3, 4);
    t.meta_key = "ACQUISITION_DATE";
    t.meta_value = "2020-02-30";
    ASSERT_TRUE(write_tif(p, &t));
    ASSERT_EQ_INT(add_ok(cat, p), 1);
    eos_catalog_scene s;
    ASSERT_OK(eos_catalog_get(cat, 1, &s));
    EXPECT_TRUE(!s.has_time && s.time_source == NULL && s.time[0] == '\0');
    char *json = NULL;
    ASSERT_OK(eos_catalog_scene_json(&s, &json));
    EXPECT_TRUE(strstr(json, "\"time\":null,\"time_source\":null") != NULL);
    eos_free(json);
    eos_catalog_scene_clear(&s);
    int64_t n = 0;
    EXPECT_OK(eos_catalog_count(cat, &n));
    EXPECT_EQ_INT(n, 1);   /* failures stored nothing */
    EXPECT_STATUS(eos_catalog_scene_json(NULL, &json), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_catalog_scenes_json(NULL, 2, &json), EOS_INVALID_ARG);
    ASSERT_OK(eos_catalog_scenes_json(NULL, 0, &json));
    EXPECT_STR_EQ(json, "{\"count\":0,\"scenes\":[]}");
    eos_free(json);
    eos_catalog_close(cat);
    test_tmpdir_remove(dir);
}

/* ------------------------------------------------------------------ threads */

typedef struct thread_arg {
    eos_catalog *cat;
    char         paths[3][600];
    int          n_added, n_errors;
} thread_arg;

static void *thread_main(void *p) {
    thread_arg *a = p;
    for (int i = 0; i < 3; i++) {
        bool added = false;
        if (eos_catalog_add(a->cat, a->paths[i], NULL, &added) != EOS_OK) a->n_errors++;
        a->n_added += added;
        eos_catalog_query q = eos_catalog_bbox_query(-180, -90, 180, 90);
        eos_catalog_scene *s = NULL;
        size_t n = 0;
        if (eos_catalog_find(a->cat, &q, &s, &n) != EOS_OK) a->n_errors++;
        eos_catalog_scenes_free(s, n);
    }
    return NULL;
}

/* Two threads fail on one handle, both before either reads its message: each reads its own. */
typedef struct err_thread {
    eos_catalog       *cat;
    int64_t            id;
    pthread_barrier_t *bar;
    char               msg[256];
} err_thread;

static void *err_thread_run(void *arg) {
    err_thread *t = arg;
    eos_catalog_scene sc;
    eos_catalog_get(t->cat, t->id, &sc);   /* EOS_NOT_FOUND: "no scene <id>" */
    pthread_barrier_wait(t->bar);          /* both have failed */
    eos_catalog_errmsg(t->cat, t->msg, sizeof t->msg);
    return NULL;
}

static void test_errmsg_per_thread(void) {
    char dir[256];
    test_tmpdir_create(dir, sizeof dir, "cat_errmsg");
    eos_catalog *cat = open_cat(dir);
    if (cat) {
        pthread_barrier_t bar;
        pthread_barrier_init(&bar, NULL, 2);
        err_thread t[2] = { { cat, 111, &bar, "" }, { cat, 222, &bar, "" } };
        pthread_t th[2];
        for (int i = 0; i < 2; i++) pthread_create(&th[i], NULL, err_thread_run, &t[i]);
        for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
        pthread_barrier_destroy(&bar);
        EXPECT_TRUE(strstr(t[0].msg, "no scene 111") != NULL);
        EXPECT_TRUE(strstr(t[1].msg, "no scene 222") != NULL);
        char buf[256];   /* this thread never failed: the latest failure of any thread */
        eos_catalog_errmsg(cat, buf, sizeof buf);
        EXPECT_TRUE(strstr(buf, "no scene 111") || strstr(buf, "no scene 222"));
        eos_catalog_close(cat);
    }
    test_tmpdir_remove(dir);
}

static void test_threads_share_handle(void) {
    char dir[256], p[600];
    test_tmpdir_create(dir, sizeof dir, "cat_threads");
    eos_catalog *cat = open_cat(dir);
    ASSERT_TRUE(cat != NULL);
    thread_arg args[4];
    memset(args, 0, sizeof args);
    for (int t = 0; t < 4; t++) {
        args[t].cat = cat;
        for (int i = 0; i < 2; i++) {   /* two files of its own */
            snprintf(p, sizeof p, "%s/t%d_%d.tif", dir, t, i);
            tif_spec s = box4326(t * 2 + i, 10);
            ASSERT_TRUE(write_tif(p, &s));
            snprintf(args[t].paths[i], sizeof args[t].paths[i], "%s", p);
        }
        snprintf(args[t].paths[2], sizeof args[t].paths[2], "%s/t0_0.tif", dir);   /* shared */
    }
    pthread_t th[4];
    for (int t = 0; t < 4; t++)
        ASSERT_TRUE(pthread_create(&th[t], NULL, thread_main, &args[t]) == 0);
    int added = 0, errors = 0;
    for (int t = 0; t < 4; t++) {
        pthread_join(th[t], NULL);
        added += args[t].n_added;
        errors += args[t].n_errors;
    }
    EXPECT_EQ_INT(errors, 0);
    EXPECT_EQ_INT(added, 8);   /* t0_0 added once, whoever came first */
    int64_t n = 0;
    EXPECT_OK(eos_catalog_count(cat, &n));
    EXPECT_EQ_INT(n, 8);
    eos_catalog_close(cat);
    test_tmpdir_remove(dir);
}

/* ------------------------------------------------------------------ crash during ingest */

static int g_hook_fd = -1;

/* Inside the add's transaction, after the scene and band rows and before the R*Tree row: tell
 * the parent, then wait to be killed. */
static void hook_wait_for_kill(void *user) {
    (void)user;
    char c = 'x';
    if (write(g_hook_fd, &c, 1) != 1) _exit(3);
    for (;;) pause();
}

static void check_consistent(const char *db, int64_t want_scenes) {
    EXPECT_TRUE(sql_text_is(db, "PRAGMA integrity_check", "ok"));
    EXPECT_EQ_INT(sql_int(db, "SELECT count(*) FROM scenes"), want_scenes);
    EXPECT_EQ_INT(sql_int(db, "SELECT count(*) FROM scene_rtree"), want_scenes);
    EXPECT_EQ_INT(sql_int(db, "SELECT count(*) FROM scenes WHERE id NOT IN "
                              "(SELECT id FROM scene_rtree)"), 0);
    EXPECT_EQ_INT(sql_int(db, "SELECT count(*) FROM scene_rtree WHERE id NOT IN "
                              "(SELECT id FROM scenes)"), 0);
    EXPECT_EQ_INT(sql_int(db, "SELECT count(*) FROM scene_bands WHERE scene_id NOT IN "
                              "(SELECT id FROM scenes)"), 0);
    EXPECT_EQ_INT(sql_int(db, "SELECT count(*) FROM scenes s WHERE n_bands != (SELECT count(*) "
                              "FROM scene_bands b WHERE b.scene_id = s.id)"), 0);
}

static void test_crash_during_ingest(void) {
    char dir[256], db[600], a[600], b[600];
    test_tmpdir_create(dir, sizeof dir, "cat_crash");
    path_in(db, sizeof db, dir, "cat.sqlite");
    path_in(a, sizeof a, dir, "first.tif");
    path_in(b, sizeof b, dir, "second.tif");
    tif_spec ta = box4326(1, 2), tb = box4326(5, 6);
    tb.bands = 4;
    ASSERT_TRUE(write_tif(a, &ta) && write_tif(b, &tb));
    eos_catalog *cat = open_cat(dir);
    ASSERT_TRUE(cat != NULL);
    ASSERT_EQ_INT(add_ok(cat, a), 1);
    eos_catalog_close(cat);

    int fds[2];
    ASSERT_TRUE(pipe(fds) == 0);
    fflush(NULL);
    pid_t pid = fork();
    ASSERT_TRUE(pid >= 0);
    if (pid == 0) {   /* child: add b and die inside the transaction */
        close(fds[0]);
        g_hook_fd = fds[1];
        eos_catalog *c = open_cat(dir);
        if (!c) _exit(2);
        eos__catalog_set_add_hook(c, hook_wait_for_kill, NULL);
        eos_catalog_add(c, b, NULL, NULL);
        _exit(4);     /* not reached: the hook never returns */
    }
    close(fds[1]);
    char c = 0;
    ssize_t got = read(fds[0], &c, 1);
    close(fds[0]);
    EXPECT_EQ_INT(got, 1);
    /* the child holds the write transaction: scene and band rows written, not committed */
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    check_consistent(db, 1);
    ASSERT_OK(eos_catalog_open(NULL, db, NULL, &cat));
    int64_t n = 0;
    EXPECT_OK(eos_catalog_count(cat, &n));
    EXPECT_EQ_INT(n, 1);
    EXPECT_EQ_INT(add_ok(cat, b), 2);   /* the file goes in cleanly now */
    eos_catalog_query q = eos_catalog_point_query(5.5, 5.5);
    expect_find(cat, &q, "2", "the re-added scene is indexed");
    eos_catalog_close(cat);
    check_consistent(db, 2);
    test_tmpdir_remove(dir);
}

TEST_MAIN(TEST(test_parse_time), TEST(test_errmsg_per_thread), TEST(test_time_from_name), TEST(test_sha256),
          TEST(test_geometry), TEST(test_ingest_utm), TEST(test_ingest_4326_name_time),
          TEST(test_queries), TEST(test_duplicates), TEST(test_predictions),
          TEST(test_schema_once), TEST(test_malformed_inputs), TEST(test_threads_share_handle),
          TEST(test_crash_during_ingest))
