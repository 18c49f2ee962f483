/*
 * tests/service/test_service_geo.c - the service's segmentation, catalog and batching routes
 * against a real server on 127.0.0.1, over tiny models (tests/analysis/fixture.h) and a
 * synthetic GeoTIFF scene in UTM 33N (10 m pixels) whose left 24 columns are class c0 and the
 * rest class c2 under a "brightest band" segmentation model. Hand-computed answers:
 *   - POST /v1/segment: 1152 / 1920 pixels, 115200 / 192000 m², two polygons; the mask as PNG
 *     (values 0 and 2 on each side) and as GeoTIFF (the scene's geotransform);
 *   - GET /v1/scenes with bbox, point and time filters (the time comes from the file name);
 *   - POST /v1/classify-at and /v1/segment-at at the centre of pixel (30, 20): the 16-pixel
 *     analysis tile at (16, 16) of the classifier (the whole scene for the segmentation model,
 *     whose tiles are 512 pixels), the results, and the predictions recorded for the scene;
 *   - POST /v1/scenes/1/segment keeps the mask; errors 400/404/405;
 *   - the micro-batcher: answers under concurrent load with batches of up to 8 equal those of
 *     a server that does not batch.
 */
#include "common/test.h"

#ifdef EOS_WITH_GDAL

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <sys/stat.h>

#include "analysis/fixture.h"
#include "common/geo_oracle.h"
#include "eosight/catalog.h"
#include "eosight/service.h"
#include "service/http_client.h"

static const char *const k_seg_meta[] = {
    "eosight.task", "segmentation", "eosight.classes", "c0,c1,c2",
    "eosight.colors", "#ff0000,#00ff00,#0000ff", NULL
};
static const char *const k_cls_meta[] = {
    "eosight.task", "classification", "eosight.classes", "a,b,c", "eosight.input_size", "16,16",
    NULL
};

#define W 64
#define H 48
#define SPLIT 24

typedef struct env {
    fx     f;
    char   scene[512], cat[512], results[512];
    char  *body;     /* the scene's bytes */
    size_t n_body;
} env;

static bool setup(env *e, const char *tag) {
    memset(e, 0, sizeof *e);
    if (!fx_open(&e->f, tag)) return false;
    char p[512];
    float *px = eos_malloc(3 * W * H * sizeof *px);
    if (!px) return false;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            px[0 * W * H + y * W + x] = x < SPLIT ? 5.0f : 1.0f;
            px[1 * W * H + y * W + x] = 1.0f;
            px[2 * W * H + y * W + x] = x < SPLIT ? 1.0f : 4.0f;
        }
    fx_path(&e->f, "S2A_20200518T103021_scene.tif", e->scene);
    bool ok = write_scene(e->scene, 3, W, H, px, NULL);
    eos_free(px);
    fx_path(&e->f, "cat.sqlite", e->cat);
    snprintf(e->results, sizeof e->results, "%s/results", e->f.dir);
    mkdir(fx_path(&e->f, "models", p), 0755);
    ok = ok && point_model(fx_path(&e->f, "models/seg.onnx", p), 3, k_seg_meta) &&
         gap_model(fx_path(&e->f, "models/scene.onnx", p), 3, k_cls_meta);
    eos_catalog *cat = NULL;
    ok = ok && eos_catalog_open(e->f.ctx, e->cat, NULL, &cat) == EOS_OK &&
         eos_catalog_add(cat, e->scene, NULL, NULL) == EOS_OK;
    eos_catalog_close(cat);
    e->body = ok ? test_read_file(e->scene, &e->n_body) : NULL;
    return e->body != NULL;
}

static void teardown(env *e) {
    eos_free(e->body);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", e->results);
    if (system(cmd) != 0) TEST_FAIL_("cannot remove %s", e->results);
    fx_close(&e->f);
}

static eos_service *start(env *e, bool catalog, int batch_max, int wait_us) {
    char models[512];
    eos_service_params p = eos_service_default_params();
    p.models_dir = fx_path(&e->f, "models", models);
    p.engine_threads = 1;
    p.catalog_uri = catalog ? e->cat : NULL;
    p.results_dir = e->results;
    p.batch_max = batch_max;
    p.batch_wait_us = wait_us;
    eos_service *s = NULL;
    if (eos_service_create(e->f.ctx, &p, &s) != EOS_OK)
        TEST_FAIL_("eos_service_create: %s", eos_ctx_errmsg(e->f.ctx));
    return s;
}

/* The JSON body of r (NULL when it is not JSON); frees r's body. */
static json_t *body_json(resp *r) {
    json_t *v = r->body ? json_loads(r->body, 0, NULL) : NULL;
    resp_free(r);
    return v;
}

/* classes[i].field of a segment result, by class name. */
static double class_field(json_t *res, const char *name, const char *field) {
    json_t *cl = json_object_get(res, "classes");
    for (size_t i = 0; i < json_array_size(cl); i++) {
        json_t *c = json_array_get(cl, i);
        if (strcmp(json_string_value(json_object_get(c, "name")), name) == 0)
            return json_number_value(json_object_get(c, field));
    }
    return NAN;
}

/* lon/lat of pixel corner (col, row) of the fixture's scene, with OSR directly. */
static void pixel_lonlat(double col, double row, double *lon, double *lat) {
    oracle_lonlat(K_EPSG, k_gt[0] + col * k_gt[1], k_gt[3] + row * k_gt[5], lon, lat);
}

/* ------------------------------------------------------------------ segment */

static void test_segment(void) {
    env e;
    ASSERT_TRUE(setup(&e, "svc_seg"));
    eos_service *s = start(&e, false, 0, 0);
    if (s) {
        int port = eos_service_port(s);
        resp r = http(port, "POST", "/v1/segment?outputs=polygons,mask_png", e.body, e.n_body);
        EXPECT_EQ_INT(r.status, 200);
        json_t *v = body_json(&r);
        EXPECT_NEAR(class_field(v, "c0", "pixels"), SPLIT * H, 0);
        EXPECT_NEAR(class_field(v, "c1", "pixels"), 0, 0);
        EXPECT_NEAR(class_field(v, "c2", "pixels"), (W - SPLIT) * H, 0);
        EXPECT_NEAR(class_field(v, "c0", "area_m2"), SPLIT * H * K_PX_M2, 1e-6);
        EXPECT_NEAR(class_field(v, "c2", "area_m2"), (W - SPLIT) * H * K_PX_M2, 1e-6);
        json_t *poly = json_object_get(v, "polygons");
        EXPECT_TRUE(json_is_object(poly));
        EXPECT_EQ_INT((int)json_array_size(json_object_get(poly, "features")), 2);
        const char *png = json_string_value(json_object_get(v, "mask_png"));
        EXPECT_TRUE(png && strncmp(png, "data:image/png;base64,iVBOR", 27) == 0);
        json_decref(v);

        /* the mask itself through Accept */
        r = http_h(port, "POST", "/v1/segment", "Accept: image/png\r\n", e.body, e.n_body);
        EXPECT_EQ_INT(r.status, 200);
        EXPECT_TRUE(strstr(r.head, "Content-Type: image/png") != NULL);
        char vsi[64] = "/vsimem/test_seg_mask.png";
        uint8_t row[W];
        if (r.body) VSIFCloseL(VSIFileFromMemBuffer(vsi, (GByte *)r.body, (vsi_l_offset)r.len,
                                                    FALSE));
        EXPECT_TRUE(r.body && read_u8(vsi, 1, W, H, (uint8_t[W * H]){ 0 }));
        GDALDatasetH ds = r.body ? GDALOpen(vsi, GA_ReadOnly) : NULL;
        if (ds && GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Read, 0, 10, W, 1, row, W, 1,
                               GDT_Byte, 0, 0) == CE_None) {
            EXPECT_EQ_INT(row[0], 0);
            EXPECT_EQ_INT(row[SPLIT - 1], 0);
            EXPECT_EQ_INT(row[SPLIT], 2);
            EXPECT_EQ_INT(row[W - 1], 2);
        } else {
            TEST_FAIL_("the PNG mask does not decode");
        }
        if (ds) GDALClose(ds);
        VSIUnlink(vsi);
        resp_free(&r);
        r = http_h(port, "POST", "/v1/segment", "Accept: image/tiff\r\n", e.body, e.n_body);
        EXPECT_EQ_INT(r.status, 200);
        char tif[512];
        FILE *fp = fopen(fx_path(&e.f, "mask_answer.tif", tif), "wb");
        if (fp && r.body) fwrite(r.body, 1, r.len, fp);
        if (fp) fclose(fp);
        resp_free(&r);
        expect_georef(tif, k_gt);

        /* an image without georeferencing (a PNG): areas in pixels, no lon/lat polygons */
        GDALDatasetH src = GDALOpen(e.scene, GA_ReadOnly);
        char pngp[512];
        GDALDatasetH dst = NULL;
        if (src) {
            GDALDatasetH mem = GDALCreate(GDALGetDriverByName("MEM"), "", W, H, 3, GDT_Byte,
                                          NULL);
            float *buf = eos_malloc(3 * W * H * sizeof *buf);
            if (mem && buf &&
                GDALDatasetRasterIO(src, GF_Read, 0, 0, W, H, buf, W, H, GDT_Float32, 3, NULL,
                                    0, 0, 0) == CE_None &&
                GDALDatasetRasterIO(mem, GF_Write, 0, 0, W, H, buf, W, H, GDT_Float32, 3, NULL,
                                    0, 0, 0) == CE_None)
                dst = GDALCreateCopy(GDALGetDriverByName("PNG"), fx_path(&e.f, "plain.png", pngp),
                                     mem, FALSE, NULL, NULL, NULL);
            eos_free(buf);
            if (mem) GDALClose(mem);
            GDALClose(src);
        }
        if (dst) GDALClose(dst);
        size_t n_png = 0;
        char *pbody = dst ? test_read_file(pngp, &n_png) : NULL;
        EXPECT_TRUE(pbody && n_png > 0);
        r = http(port, "POST", "/v1/segment?outputs=polygons,mask_png", pbody, n_png);
        EXPECT_EQ_INT(r.status, 200);
        v = body_json(&r);
        EXPECT_NEAR(class_field(v, "c0", "pixels"), SPLIT * H, 0);
        EXPECT_TRUE(json_is_null(json_object_get(v, "polygons")));
        EXPECT_TRUE(json_is_string(json_object_get(v, "polygons_note")));
        EXPECT_TRUE(json_is_string(json_object_get(v, "mask_png")));
        json_decref(v);
        eos_free(pbody);

        /* errors */
        expect(http(port, "POST", "/v1/segment?window=33", e.body, e.n_body), 400, "window",
               "window 33");
        expect(http(port, "POST", "/v1/segment?model=scene", e.body, e.n_body), 400,
               "not a segment model", "classifier on segment");
        expect(http(port, "POST", "/v1/segment", "junk", 4), 415, "cannot decode", "junk");
        /* without a catalog */
        expect(http(port, "GET", "/v1/scenes", NULL, 0), 404, "no scene catalog", "no catalog");
        expect(http(port, "POST", "/v1/classify-at", "{\"lat\":1,\"lon\":2}", 17), 404,
               "no scene catalog", "-at without catalog");
    }
    eos_service_free(s);
    teardown(&e);
}

/* ------------------------------------------------------------------ catalog routes */

static int scene_count(int port, const char *query) {
    char path[512];
    snprintf(path, sizeof path, "/v1/scenes%s", query);
    resp r = http(port, "GET", path, NULL, 0);
    int status = r.status;
    json_t *v = body_json(&r);
    int n = status == 200 ? (int)json_integer_value(json_object_get(v, "count")) : -status;
    json_decref(v);
    return n;
}

static void test_scenes(void) {
    env e;
    ASSERT_TRUE(setup(&e, "svc_scenes"));
    eos_service *s = start(&e, true, 0, 0);
    if (s) {
        int port = eos_service_port(s);
        double lon, lat, lon2, lat2;
        pixel_lonlat(30.5, 20.5, &lon, &lat);
        char q[256];
        EXPECT_EQ_INT(scene_count(port, ""), 1);
        snprintf(q, sizeof q, "?point=%.8f,%.8f", lat, lon);
        EXPECT_EQ_INT(scene_count(port, q), 1);
        snprintf(q, sizeof q, "?point=%.8f,%.8f", lat + 1, lon);
        EXPECT_EQ_INT(scene_count(port, q), 0);
        snprintf(q, sizeof q, "?bbox=%.6f,%.6f,%.6f,%.6f", lon - 0.01, lat - 0.01, lon + 0.01,
                 lat + 0.01);
        EXPECT_EQ_INT(scene_count(port, q), 1);
        snprintf(q, sizeof q, "?bbox=%.6f,%.6f,%.6f,%.6f", lon + 1, lat, lon + 2, lat + 1);
        EXPECT_EQ_INT(scene_count(port, q), 0);
        EXPECT_EQ_INT(scene_count(port, "?from=2020-05-18&to=2020-05-18"), 1);
        EXPECT_EQ_INT(scene_count(port, "?from=2020-05-19"), 0);
        EXPECT_EQ_INT(scene_count(port, "?bbox=1,2,3"), -400);
        EXPECT_EQ_INT(scene_count(port, "?from=yesterday"), -400);
        EXPECT_EQ_INT(scene_count(port, "?limit=0"), -400);
        resp r = http(port, "GET", "/v1/scenes?format=geojson", NULL, 0);
        EXPECT_TRUE(strstr(r.head, "application/geo+json") != NULL);
        json_t *v = body_json(&r);
        json_t *f0 = json_array_get(json_object_get(v, "features"), 0);
        EXPECT_STR_EQ(json_string_value(json_object_get(v, "type")), "FeatureCollection");
        EXPECT_STR_EQ(json_string_value(json_object_get(json_object_get(f0, "geometry"),
                                                        "type")), "Polygon");
        EXPECT_STR_EQ(json_string_value(json_object_get(json_object_get(f0, "properties"),
                                                        "time")), "2020-05-18T10:30:21Z");
        json_decref(v);
        expect(http(port, "GET", "/v1/scenes/1", NULL, 0), 200, "\"id\":1", "scene 1");
        expect(http(port, "GET", "/v1/scenes/2", NULL, 0), 404, "no scene 2", "scene 2");
        expect(http(port, "GET", "/v1/scenes/x", NULL, 0), 400, "positive integer", "scene x");
        expect(http(port, "GET", "/v1/scenes/1/predictions", NULL, 0), 200, "\"count\":0",
               "no predictions yet");
        r = http(port, "POST", "/v1/scenes", "x", 1);
        EXPECT_TRUE(strstr(r.head, "Allow: GET") != NULL);
        expect(r, 405, "method_not_allowed", "POST /v1/scenes");

        /* classify-at: the 16-pixel tile containing pixel (30, 20) is (16, 16) */
        char body[160];
        snprintf(body, sizeof body, "{\"lat\":%.9f,\"lon\":%.9f}", lat, lon);
        r = http(port, "POST", "/v1/classify-at", body, strlen(body));
        EXPECT_EQ_INT(r.status, 200);
        v = body_json(&r);
        json_t *tile = json_object_get(v, "tile");
        EXPECT_EQ_INT((int)json_integer_value(json_object_get(tile, "x")), 16);
        EXPECT_EQ_INT((int)json_integer_value(json_object_get(tile, "y")), 16);
        EXPECT_EQ_INT((int)json_integer_value(json_object_get(tile, "w")), 16);
        EXPECT_EQ_INT((int)json_integer_value(json_object_get(tile, "h")), 16);
        /* bounds: the lon/lat box of the tile's corners (16..32, 16..32); the UTM grid is
         * turned against the meridians, so each side comes from the extreme corner */
        json_t *b = json_object_get(tile, "bounds");
        double box[4] = { 1e9, 1e9, -1e9, -1e9 };
        for (int c = 0; c < 4; c++) {
            pixel_lonlat(c % 2 ? 32 : 16, c / 2 ? 32 : 16, &lon2, &lat2);
            box[0] = fmin(box[0], lon2);
            box[1] = fmin(box[1], lat2);
            box[2] = fmax(box[2], lon2);
            box[3] = fmax(box[3], lat2);
        }
        for (int i = 0; i < 4; i++) EXPECT_NEAR(json_number_value(json_array_get(b, i)), box[i],
                                                1e-7);
        /* band means over columns 16..31: b0 = 3, b1 = 1, b2 = 2.5 -> a */
        EXPECT_STR_EQ(json_string_value(json_object_get(json_object_get(v, "result"), "top")),
                      "a");
        EXPECT_EQ_INT((int)json_integer_value(json_object_get(json_object_get(v, "scene"), "id")),
                      1);
        EXPECT_TRUE(json_integer_value(json_object_get(v, "prediction_id")) > 0);
        json_decref(v);
        r = http(port, "POST", "/v1/segment-at", body, strlen(body));
        EXPECT_EQ_INT(r.status, 200);
        v = body_json(&r);
        /* a segmentation model without a fixed input: 512-pixel tiles, so the whole scene */
        json_t *res = json_object_get(v, "result");
        EXPECT_EQ_INT((int)json_integer_value(json_object_get(json_object_get(v, "tile"), "w")),
                      W);
        EXPECT_NEAR(class_field(res, "c0", "pixels"), SPLIT * H, 0);
        EXPECT_NEAR(class_field(res, "c2", "pixels"), (W - SPLIT) * H, 0);
        json_decref(v);
        r = http(port, "GET", "/v1/scenes/1/predictions", NULL, 0);
        v = body_json(&r);
        EXPECT_EQ_INT((int)json_integer_value(json_object_get(v, "count")), 2);
        json_t *p0 = json_array_get(json_object_get(v, "predictions"), 0);   /* newest */
        EXPECT_STR_EQ(json_string_value(json_object_get(p0, "model")), "seg");
        json_t *p1 = json_array_get(json_object_get(v, "predictions"), 1);
        EXPECT_EQ_INT((int)json_integer_value(json_object_get(json_object_get(p0, "window"),
                                                              "w")), W);
        EXPECT_EQ_INT((int)json_integer_value(json_object_get(json_object_get(p1, "window"),
                                                              "x")), 16);
        EXPECT_STR_EQ(json_string_value(json_object_get(p1, "model")), "scene");
        json_decref(v);

        /* -at errors */
        snprintf(body, sizeof body, "{\"lat\":%.9f,\"lon\":%.9f}", lat + 1, lon);
        expect(http(port, "POST", "/v1/classify-at", body, strlen(body)), 404,
               "no catalog scene covers", "no scene there");
        expect(http(port, "POST", "/v1/classify-at", "{\"lat\":100,\"lon\":0}", 20), 400,
               "lat", "lat 100");
        expect(http(port, "POST", "/v1/tag-at", "not json", 8), 400, "JSON", "not JSON");
        expect(http(port, "POST", "/v1/tag-at", "{\"lat\":1,\"lon\":1}", 17), 404,
               "no tag model", "no tag model loaded");

        /* a whole scene segmented and kept for the map */
        expect(http(port, "POST", "/v1/scenes/1/segment", NULL, 0), 200, "\"scene_id\":1",
               "scene segment");
        char mask[600];
        snprintf(mask, sizeof mask, "%s/scene-1.tif", e.results);
        uint8_t *m = eos_malloc(W * H);
        EXPECT_TRUE(m && read_u8(mask, 1, W, H, m) && m[0] == 0 && m[W - 1] == 2);
        eos_free(m);
        expect_georef(mask, k_gt);
        expect(http(port, "GET", "/v1/scenes/1/predictions?limit=1", NULL, 0), 200,
               "\"count\":1", "predictions limit 1");
        expect(http(port, "POST", "/v1/scenes/9/segment", NULL, 0), 404, "no scene 9",
               "segment scene 9");

        /* the same in the background: 202 with a job, then its progress and answer */
        r = http(port, "POST", "/v1/scenes/1/segment?async=1&model=seg", NULL, 0);
        EXPECT_EQ_INT(r.status, 202);
        v = body_json(&r);
        int64_t job = json_integer_value(json_object_get(v, "id"));
        EXPECT_TRUE(job > 0);
        json_decref(v);
        char jurl[64];
        snprintf(jurl, sizeof jurl, "/v1/jobs/%lld", (long long)job);
        json_t *jv = NULL;
        for (int tries = 0; tries < 200; tries++) {   /* up to 10 s */
            r = http(port, "GET", jurl, NULL, 0);
            jv = body_json(&r);
            const char *st = json_string_value(json_object_get(jv, "status"));
            if (st && (!strcmp(st, "done") || !strcmp(st, "failed"))) break;
            json_decref(jv);
            jv = NULL;
            nanosleep(&(struct timespec){ 0, 50000000 }, NULL);
        }
        EXPECT_STR_EQ(json_string_value(json_object_get(jv, "status")), "done");
        EXPECT_EQ_INT((int)json_integer_value(json_object_get(jv, "answer_status")), 200);
        json_t *prog = json_object_get(jv, "progress");
        EXPECT_NEAR(json_number_value(json_object_get(prog, "fraction")), 1.0, 0);
        EXPECT_TRUE(json_integer_value(json_object_get(prog, "total")) >= 1);
        json_t *jres = json_object_get(jv, "result");
        EXPECT_EQ_INT((int)json_integer_value(json_object_get(jres, "scene_id")), 1);
        EXPECT_NEAR(class_field(jres, "c0", "pixels"), SPLIT * H, 0);
        json_decref(jv);
        expect(http(port, "POST", "/v1/scenes/9/segment?async=1", NULL, 0), 404, "no scene 9",
               "async on a missing scene: checked before the job");
        expect(http(port, "POST", "/v1/scenes/1/segment?async=2", NULL, 0), 400, "async",
               "async 2");
        expect(http(port, "GET", "/v1/jobs/9999", NULL, 0), 404, "no job 9999", "job 9999");
        expect(http(port, "GET", "/v1/jobs/x", NULL, 0), 400, "positive integer", "job x");
        /* a job still running when the service stops is cancelled (freed below) */
        expect(http(port, "POST", "/v1/scenes/1/segment?async=1&window=32&overlap=0", NULL, 0),
               202, "\"status\"", "a job left to the stop");

        /* newer and older scenes over the same ground: -at takes the newest acquisition */
        char newer[512], older[512];
        float *px = eos_malloc(3 * W * H * sizeof *px);
        for (int i = 0; px && i < 3 * W * H; i++) px[i] = (float)(i % 5);
        eos_catalog *cat = NULL;
        bool ok = px &&
            write_scene(fx_path(&e.f, "S2B_20210601T100000_newer.tif", newer), 3, W, H, px,
                        NULL) &&
            write_scene(fx_path(&e.f, "S2B_20190601T100000_older.tif", older), 3, W, H, px,
                        NULL) &&
            eos_catalog_open(e.f.ctx, e.cat, NULL, &cat) == EOS_OK &&   /* a second handle */
            eos_catalog_add(cat, newer, NULL, NULL) == EOS_OK &&
            eos_catalog_add(cat, older, NULL, NULL) == EOS_OK;
        eos_catalog_close(cat);
        eos_free(px);
        EXPECT_TRUE(ok);
        snprintf(body, sizeof body, "{\"lat\":%.9f,\"lon\":%.9f}", lat, lon);
        r = http(port, "POST", "/v1/classify-at", body, strlen(body));
        v = body_json(&r);
        EXPECT_EQ_INT((int)json_integer_value(json_object_get(json_object_get(v, "scene"), "id")),
                      2);
        json_decref(v);
    }
    eos_service_free(s);
    teardown(&e);
}

/* ------------------------------------------------------------------ batching */

typedef struct bclient {
    int         port, id;
    char       *imgs[4];
    size_t      lens[4];
    char       *want[4];   /* answers of the unbatched server */
    int         n_ok, n_bad;
} bclient;

/* The answer without its timing field. */
static char *strip_seconds(const char *body) {
    json_t *v = body ? json_loads(body, 0, NULL) : NULL;
    if (v) json_object_del(v, "seconds");
    char *t = v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(v);
    return t;
}

static void *bclient_run(void *arg) {
    bclient *c = arg;
    for (int i = 0; i < 12; i++) {
        int k = (c->id + i) % 4;
        resp r = http(c->port, "POST", "/v1/classify?top_k=3", c->imgs[k], c->lens[k]);
        char *got = r.status == 200 ? strip_seconds(r.body) : NULL;
        if (got && c->want[k] && strcmp(got, c->want[k]) == 0) c->n_ok++;
        else c->n_bad++;
        free(got);
        resp_free(&r);
    }
    return NULL;
}

static void test_batching(void) {
    env e;
    ASSERT_TRUE(setup(&e, "svc_batch"));
    char *imgs[4] = { 0 };
    size_t lens[4] = { 0 };
    char *want[4] = { 0 };
    bool ok = true;
    for (int k = 0; k < 4 && ok; k++) {   /* 16 x 16 images with different band means */
        float px[3 * 16 * 16];
        for (int i = 0; i < 3 * 256; i++) px[i] = (float)((i / 256 + 1) * (k + 1) % 5) + 0.1f * (float)(i % 7);
        char p[512], name[32];
        snprintf(name, sizeof name, "img%d.tif", k);
        ok = write_scene(fx_path(&e.f, name, p), 3, 16, 16, px, NULL);
        ok = ok && (imgs[k] = test_read_file(p, &lens[k])) != NULL;
    }
    eos_service *s = ok ? start(&e, false, 1, 1) : NULL;   /* batching off: the reference */
    for (int k = 0; s && k < 4; k++) {
        resp r = http(eos_service_port(s), "POST", "/v1/classify?top_k=3", imgs[k], lens[k]);
        EXPECT_EQ_INT(r.status, 200);
        want[k] = strip_seconds(r.body);
        resp_free(&r);
    }
    eos_service_free(s);
    s = ok ? start(&e, false, 8, 20000) : NULL;
    if (s) {
        bclient cl[8];
        pthread_t th[8];
        for (int i = 0; i < 8; i++) {
            cl[i] = (bclient){ .port = eos_service_port(s), .id = i };
            memcpy(cl[i].imgs, imgs, sizeof imgs);
            memcpy(cl[i].lens, lens, sizeof lens);
            memcpy(cl[i].want, want, sizeof want);
            pthread_create(&th[i], NULL, bclient_run, &cl[i]);
        }
        int good = 0, bad = 0;
        for (int i = 0; i < 8; i++) {
            pthread_join(th[i], NULL);
            good += cl[i].n_ok;
            bad += cl[i].n_bad;
        }
        EXPECT_EQ_INT(good, 96);
        EXPECT_EQ_INT(bad, 0);
        /* the batches held more than one image */
        resp r = http(eos_service_port(s), "GET", "/metrics", NULL, 0);
        if (r.status == 200) {
            double n1 = -1, total = -1;
            const char *l = strstr(r.body, "eosight_batch_size_bucket{model=\"scene\",le=\"1\"}");
            const char *t = strstr(r.body, "eosight_batch_size_count{model=\"scene\"}");
            if (l) sscanf(strchr(l, '}') + 1, "%lf", &n1);
            if (t) sscanf(strchr(t, '}') + 1, "%lf", &total);
            EXPECT_TRUE(total > 0 && n1 < total);
        } else {
            TEST_FAIL_("GET /metrics: %d", r.status);
        }
        resp_free(&r);
    }
    eos_service_free(s);
    for (int k = 0; k < 4; k++) {
        eos_free(imgs[k]);
        free(want[k]);
    }
    teardown(&e);
}

TEST_MAIN(TEST(test_segment), TEST(test_scenes), TEST(test_batching))

#else

int main(void) { return 77; }

#endif
