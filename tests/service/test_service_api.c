/*
 * tests/service/test_service_api.c - the service's cross-cutting parts against a real server on
 * 127.0.0.1 over tiny models (tests/analysis/fixture.h):
 *   - the OpenAPI document (GET /openapi.json) lists exactly the routes of the route table,
 *     each with its method, and every path/method it lists answers something other than "no
 *     route" or 405; it is OpenAPI 3.1 with an error schema;
 *   - multipart/form-data uploads (the "image" part, options as form fields, a malformed form
 *     answered 400);
 *   - API keys (401 without or with a wrong key, 200 with Bearer or X-API-Key; health, readiness
 *     and the OpenAPI document stay open) and the per-key rate limit (429 with Retry-After);
 *   - CORS: no Access-Control headers by default, the origin and a preflight when configured;
 *   - GET /metrics: request counters, the latency histogram, gauges, images analysed;
 *   - map tiles: a PNG of the catalog scene where it lies, a transparent one elsewhere, 400 for
 *     a tile that does not exist, the segmentation layer after POST /v1/scenes/1/segment.
 */
#include "common/test.h"

#ifdef EOS_WITH_GDAL

#include <jansson.h>
#include <math.h>
#include <sys/stat.h>

#include "analysis/fixture.h"
#include "common/geo_oracle.h"
#include "eosight/catalog.h"
#include "eosight/service.h"
#include "service/http_client.h"
#include "service/service_internal.h"
#include "service/tiles.h"

static const char *const k_cls_meta[] = {
    "eosight.task", "classification", "eosight.classes", "a,b,c", "eosight.input_size", "16,16",
    NULL
};
static const char *const k_seg_meta[] = {
    "eosight.task", "segmentation", "eosight.classes", "c0,c1,c2",
    "eosight.colors", "#ff0000,#00ff00,#0000ff", NULL
};

typedef struct env {
    fx     f;
    char   models[512], cat[512], results[512], keys[512];
    char  *img;     /* a 16 x 16 3-band GeoTIFF where band 3 wins */
    size_t n_img;
} env;


static bool setup(env *e, const char *tag) {
    memset(e, 0, sizeof *e);
    if (!fx_open(&e->f, tag)) return false;
    char p[512];
    float px[3 * 64 * 64];
    for (int b = 0; b < 3; b++)
        for (int i = 0; i < 64 * 64; i++) px[b * 64 * 64 + i] = (float)(b * 40 + 20 + i % 3);
    bool ok = write_scene(fx_path(&e->f, "img.tif", p), 3, 16, 16, px, NULL) &&
              (e->img = test_read_file(p, &e->n_img)) != NULL;
    scene_opts o = { .type = GDT_Byte };
    char scene[512];
    ok = ok && write_scene(fx_path(&e->f, "scene.tif", scene), 3, 64, 64, px, &o);
    mkdir(fx_path(&e->f, "models", e->models), 0755);
    ok = ok && gap_model(fx_path(&e->f, "models/scene.onnx", p), 3, k_cls_meta) &&
         point_model(fx_path(&e->f, "models/seg.onnx", p), 3, k_seg_meta);
    fx_path(&e->f, "cat.sqlite", e->cat);
    snprintf(e->results, sizeof e->results, "%s/results", e->f.dir);
    eos_catalog *cat = NULL;
    ok = ok && eos_catalog_open(e->f.ctx, e->cat, NULL, &cat) == EOS_OK &&
         eos_catalog_add(cat, scene, NULL, NULL) == EOS_OK;
    eos_catalog_close(cat);
    FILE *kf = fopen(fx_path(&e->f, "keys.txt", e->keys), "w");
    if (kf) {
        fputs("# test keys\nkey-alpha-0123456789 alice\nkey-bravo-0123456789 bob\n", kf);
        fclose(kf);
        chmod(e->keys, 0600);
    }
    return ok && kf;
}

static void teardown(env *e) {
    eos_free(e->img);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", e->results);
    if (system(cmd) != 0) TEST_FAIL_("cannot remove %s", e->results);
    fx_close(&e->f);
}

static eos_service *start(env *e, const eos_service_params *extra) {
    eos_service_params p = extra ? *extra : eos_service_default_params();
    p.models_dir = e->models;
    p.engine_threads = 1;
    p.catalog_uri = e->cat;
    p.results_dir = e->results;
    eos_service *s = NULL;
    if (eos_service_create(e->f.ctx, &p, &s) != EOS_OK)
        TEST_FAIL_("eos_service_create: %s", eos_ctx_errmsg(e->f.ctx));
    return s;
}

/* ------------------------------------------------------------------ OpenAPI */

/* The OpenAPI path of a route pattern: the same (both use {name} segments). */
static void test_openapi(void) {
    env e;
    ASSERT_TRUE(setup(&e, "svc_openapi"));
    eos_service *s = start(&e, NULL);
    if (s) {
        int port = eos_service_port(s);
        resp r = http(port, "GET", "/openapi.json", NULL, 0);
        EXPECT_EQ_INT(r.status, 200);
        json_t *doc = r.body ? json_loads(r.body, 0, NULL) : NULL;
        resp_free(&r);
        ASSERT_TRUE(doc != NULL);
        EXPECT_STR_EQ(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
        EXPECT_TRUE(json_object_get(json_object_get(json_object_get(doc, "components"),
                                                    "schemas"), "Error") != NULL);
        json_t *paths = json_object_get(doc, "paths");
        int n;
        const svc_route *routes = svc_routes(&n);
        /* every route is documented with its method */
        for (int i = 0; i < n; i++) {
            char m[8];
            snprintf(m, sizeof m, "%s", routes[i].method);
            for (char *c = m; *c; c++) *c = (char)(*c - 'A' + 'a');
            if (!json_object_get(json_object_get(paths, routes[i].pattern), m))
                TEST_FAIL_("route %s %s is missing from openapi.json", routes[i].method,
                           routes[i].pattern);
        }
        /* every documented operation is a route, and the server knows it */
        const char *path;
        json_t *item;
        int n_ops = 0;
        json_object_foreach(paths, path, item) {
            const char *method;
            json_t *opv;
            json_object_foreach(item, method, opv) {
                n_ops++;
                bool found = false;
                for (int i = 0; i < n; i++)
                    found = found || (strcmp(routes[i].pattern, path) == 0 &&
                                      strcasecmp(routes[i].method, method) == 0);
                if (!found) TEST_FAIL_("openapi.json documents %s %s, no such route", method,
                                       path);
                if (!json_object_get(json_object_get(opv, "responses"), "200"))
                    TEST_FAIL_("%s %s: no 200 response documented", method, path);
                /* a request on it (ids replaced) is routed: not 404 "no route", not 405 */
                char url[256], up[8];
                snprintf(url, sizeof url, "%s", path);
                for (char *b; (b = strchr(url, '{')) != NULL;) {
                    char *c = strchr(b, '}');
                    if (!c) break;
                    memmove(b + 1, c + 1, strlen(c + 1) + 1);
                    *b = '1';
                }
                snprintf(up, sizeof up, "%s", method);
                for (char *c = up; *c; c++) *c = (char)(*c - 'a' + 'A');
                resp q = http(port, up, url, NULL, 0);
                if (q.status == 405 || (q.status == 404 && q.body && strstr(q.body, "no route")))
                    TEST_FAIL_("%s %s: answered %d %s", up, url, q.status, q.body);
                resp_free(&q);
            }
        }
        EXPECT_EQ_INT(n_ops, n);
        json_decref(doc);
    }
    eos_service_free(s);
    teardown(&e);
}

/* ------------------------------------------------------------------ multipart */

static char *form(const env *e, const char *extra_field, size_t *len) {
    const char *b = "----eosightTestBoundary7";
    size_t cap = e->n_img + 1024;
    char *body = eos_malloc(cap);
    if (!body) return NULL;
    int n = snprintf(body, cap, "--%s\r\nContent-Disposition: form-data; name=\"top_k\"\r\n\r\n"
                     "1\r\n%s--%s\r\nContent-Disposition: form-data; name=\"image\"; "
                     "filename=\"img.tif\"\r\nContent-Type: image/tiff\r\n\r\n", b,
                     extra_field ? extra_field : "", b);
    memcpy(body + n, e->img, e->n_img);
    n += (int)e->n_img;
    n += snprintf(body + n, cap - (size_t)n, "\r\n--%s--\r\n", b);
    *len = (size_t)n;
    return body;
}

static void test_multipart(void) {
    env e;
    ASSERT_TRUE(setup(&e, "svc_form"));
    eos_service *s = start(&e, NULL);
    if (s) {
        int port = eos_service_port(s);
        const char *ct = "Content-Type: multipart/form-data; boundary=----eosightTestBoundary7\r\n";
        size_t len;
        char *body = form(&e, NULL, &len);
        resp r = http_h(port, "POST", "/v1/classify", ct, body, len);
        json_t *v = r.body ? json_loads(r.body, 0, NULL) : NULL;
        EXPECT_EQ_INT(r.status, 200);
        EXPECT_STR_EQ(json_string_value(json_object_get(v, "top")), "c");
        EXPECT_EQ_INT((int)json_array_size(json_object_get(v, "classes")), 1);   /* top_k=1 */
        json_decref(v);
        resp_free(&r);
        eos_free(body);
        body = form(&e, "------eosightTestBoundary7\r\nContent-Disposition: form-data; "
                        "name=\"model\"\r\n\r\nnope\r\n", &len);
        expect(http_h(port, "POST", "/v1/classify", ct, body, len), 404, "unknown model 'nope'",
               "model from a form field");
        /* no closing boundary */
        expect(http_h(port, "POST", "/v1/classify", ct, body, len - 10), 400, "bad form",
               "truncated form");
        eos_free(body);
        const char *noimg = "------eosightTestBoundary7\r\nContent-Disposition: form-data; "
                            "name=\"top_k\"\r\n\r\n1\r\n------eosightTestBoundary7--\r\n";
        expect(http_h(port, "POST", "/v1/classify", ct, noimg, strlen(noimg)), 400,
               "'image' part", "form without image");
    }
    eos_service_free(s);
    teardown(&e);
}

/* ------------------------------------------------------------------ access */

static void test_access(void) {
    env e;
    ASSERT_TRUE(setup(&e, "svc_access"));
    eos_service_params p = eos_service_default_params();
    p.api_key_file = e.keys;
    p.rate_per_s = 0.5;    /* a burst of 3, then one request per 2 s */
    p.rate_burst = 3;
    eos_service *s = start(&e, &p);
    if (s) {
        int port = eos_service_port(s);
        EXPECT_STR_EQ(eos_service_notes(s), "");   /* mode 0600: no warning */
        expect(http(port, "GET", "/v1/models", NULL, 0), 401, "\"unauthorized\"", "no key");
        expect(http_h(port, "GET", "/v1/models", "X-API-Key: key-alpha-0123456789X\r\n", NULL,
                      0), 401, "\"unauthorized\"", "wrong key");
        expect(http(port, "GET", "/metrics", NULL, 0), 401, NULL, "metrics need a key");
        expect(http(port, "GET", "/healthz", NULL, 0), 200, NULL, "healthz is open");
        expect(http(port, "GET", "/readyz", NULL, 0), 200, NULL, "readyz is open");
        expect(http(port, "GET", "/openapi.json", NULL, 0), 200, NULL, "openapi is open");
        const char *alpha = "Authorization: Bearer key-alpha-0123456789\r\n";
        const char *bravo = "X-API-Key: key-bravo-0123456789\r\n";
        for (int i = 0; i < 3; i++)
            expect(http_h(port, "GET", "/v1/models", alpha, NULL, 0), 200, "\"models\"",
                   "alice within the burst");
        resp r = http_h(port, "GET", "/v1/models", alpha, NULL, 0);
        EXPECT_TRUE(strstr(r.head, "Retry-After: 2") != NULL);
        expect(r, 429, "\"too_many_requests\"", "alice over the limit");
        expect(http_h(port, "GET", "/v1/models", bravo, NULL, 0), 200, NULL,
               "bob has his own bucket");
        /* map tiles may carry the key in the query (images cannot send headers); nothing else */
        expect(http(port, "GET", "/v1/tiles/0/0/0.png?api_key=key-bravo-0123456789", NULL, 0),
               200, NULL, "tile with ?api_key");
        expect(http(port, "GET", "/v1/tiles/0/0/0.png", NULL, 0), 401, NULL, "tile without key");
        expect(http(port, "GET", "/v1/models?api_key=key-bravo-0123456789", NULL, 0), 401, NULL,
               "?api_key only for tiles");
        /* no CORS headers by default */
        r = http_h(port, "GET", "/v1/models", bravo, NULL, 0);
        EXPECT_TRUE(strstr(r.head, "Access-Control-Allow-Origin") == NULL);
        resp_free(&r);
    }
    eos_service_free(s);
    /* a key file readable by others gives a warning; a malformed one refuses to start */
    chmod(e.keys, 0644);
    s = start(&e, &p);
    EXPECT_TRUE(s && strstr(eos_service_notes(s), "API key") != NULL);
    eos_service_free(s);
    FILE *kf = fopen(e.keys, "w");
    if (kf) {
        fputs("short\n", kf);
        fclose(kf);
    }
    p.models_dir = e.models;
    p.catalog_uri = NULL;
    eos_service *bad = NULL;
    EXPECT_TRUE(eos_service_create(e.f.ctx, &p, &bad) != EOS_OK);
    EXPECT_TRUE(strstr(eos_ctx_errmsg(e.f.ctx), "line 1") != NULL);
    eos_service_free(bad);
    /* CORS on */
    eos_service_params pc = eos_service_default_params();
    pc.cors_origin = "https://maps.example.org";
    s = start(&e, &pc);
    if (s) {
        int port = eos_service_port(s);
        resp r = http(port, "GET", "/v1/models", NULL, 0);
        EXPECT_TRUE(strstr(r.head, "Access-Control-Allow-Origin: https://maps.example.org"));
        resp_free(&r);
        r = http_h(port, "OPTIONS", "/v1/classify", "Origin: https://maps.example.org\r\n"
                   "Access-Control-Request-Method: POST\r\n", NULL, 0);
        EXPECT_EQ_INT(r.status, 204);
        EXPECT_TRUE(strstr(r.head, "Access-Control-Allow-Methods: GET, POST") != NULL);
        resp_free(&r);
    }
    eos_service_free(s);
    teardown(&e);
}

/* ------------------------------------------------------------------ metrics */

/* The value of the first line of text starting with series (exactly, then a space). */
static double series(const char *text, const char *name) {
    size_t n = strlen(name);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (strncmp(l, name, n) == 0 && l[n] == ' ') return strtod(l + n + 1, NULL);
    return NAN;
}

static void test_metrics(void) {
    env e;
    ASSERT_TRUE(setup(&e, "svc_metrics"));
    eos_service *s = start(&e, NULL);
    if (s) {
        int port = eos_service_port(s);
        for (int i = 0; i < 3; i++)
            expect(http(port, "POST", "/v1/classify", e.img, e.n_img), 200, NULL, "classify");
        expect(http(port, "POST", "/v1/classify?tta=3", e.img, e.n_img), 400, NULL, "tta 3");
        expect(http(port, "GET", "/nowhere", NULL, 0), 404, NULL, "no route");
        resp r = http(port, "GET", "/metrics", NULL, 0);
        EXPECT_EQ_INT(r.status, 200);
        EXPECT_TRUE(strstr(r.head, "text/plain; version=0.0.4") != NULL);
        const char *t = r.body ? r.body : "";
        EXPECT_NEAR(series(t, "eosight_http_requests_total{route=\"/v1/classify\","
                              "method=\"POST\",code=\"200\"}"), 3, 0);
        EXPECT_NEAR(series(t, "eosight_http_requests_total{route=\"/v1/classify\","
                              "method=\"POST\",code=\"400\"}"), 1, 0);
        EXPECT_NEAR(series(t, "eosight_http_request_duration_seconds_count{route="
                              "\"/v1/classify\"}"), 4, 0);
        EXPECT_NEAR(series(t, "eosight_http_request_duration_seconds_bucket{route="
                              "\"/v1/classify\",le=\"+Inf\"}"), 4, 0);
        EXPECT_NEAR(series(t, "eosight_images_analyzed_total{model=\"scene\",task="
                              "\"classify\"}"), 3, 0);
        EXPECT_NEAR(series(t, "eosight_models_loaded"), 2, 0);
        EXPECT_NEAR(series(t, "eosight_requests_in_flight"), 1, 0);   /* this request */
        EXPECT_NEAR(series(t, "eosight_queue_depth"), 0, 0);
        EXPECT_TRUE(strstr(t, "route=\"other\"") != NULL);   /* the unknown route */
        resp_free(&r);
    }
    eos_service_free(s);
    teardown(&e);
}

/* ------------------------------------------------------------------ tiles */

/* The XYZ tile at zoom z containing lon/lat. */
static void tile_of(double lon, double lat, int z, int *x, int *y) {
    double n = (double)(1 << z), r = lat * M_PI / 180.0;
    *x = (int)floor((lon + 180.0) / 360.0 * n);
    *y = (int)floor((1.0 - log(tan(r) + 1.0 / cos(r)) / M_PI) / 2.0 * n);
}

/* Decode a PNG answer; the alpha band's sum over the tile (-1 when it does not decode). */
static double alpha_sum(const resp *r) {
    const char *vsi = "/vsimem/test_tile.png";
    if (!r->body) return -1;
    VSIFCloseL(VSIFileFromMemBuffer(vsi, (GByte *)r->body, (vsi_l_offset)r->len, FALSE));
    GDALDatasetH ds = GDALOpen(vsi, GA_ReadOnly);
    double sum = -1;
    static uint8_t a[256 * 256];
    if (ds && GDALGetRasterCount(ds) == 4 && GDALGetRasterXSize(ds) == 256 &&
        GDALRasterIO(GDALGetRasterBand(ds, 4), GF_Read, 0, 0, 256, 256, a, 256, 256, GDT_Byte,
                     0, 0) == CE_None) {
        sum = 0;
        for (int i = 0; i < 256 * 256; i++) sum += a[i];
    }
    if (ds) GDALClose(ds);
    VSIUnlink(vsi);
    return sum;
}

static void test_tiles(void) {
    env e;
    ASSERT_TRUE(setup(&e, "svc_tiles"));
    eos_service *s = start(&e, NULL);
    if (s) {
        int port = eos_service_port(s), x, y;
        /* the scene: 640 m square, upper-left (431230, 5001240) in UTM 33N: about 14.13 E,
         * 45.15 N. Its centre pixel (32, 32): */
        double lon, lat;
        oracle_lonlat(K_EPSG, k_gt[0] + 32 * k_gt[1], k_gt[3] + 32 * k_gt[5], &lon, &lat);
        char url[128];
        tile_of(lon, lat, 14, &x, &y);   /* ~1.7 km tiles: the scene lies in these 3 x 3 */
        double covered = 0;              /* pixels the scene covers */
        for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++) {
                snprintf(url, sizeof url, "/v1/tiles/14/%d/%d.png", x + dx, y + dy);
                resp r = http(port, "GET", url, NULL, 0);
                EXPECT_EQ_INT(r.status, 200);
                EXPECT_TRUE(strstr(r.head, "Content-Type: image/png") != NULL);
                covered += alpha_sum(&r) / 255.0;
                resp_free(&r);
            }
        /* 640 m / (40075017 m * cos(lat) / 2^14 / 256 px): about 95 px a side */
        double side = 640.0 / (2 * SVC_MERC_HALF * cos(lat * M_PI / 180) / (1 << 14) / 256);
        EXPECT_NEAR(covered, side * side, 0.05 * side * side);
        resp r;
        snprintf(url, sizeof url, "/v1/tiles/14/%d/%d.png", x + 3, y);
        r = http(port, "GET", url, NULL, 0);
        EXPECT_EQ_INT(r.status, 200);
        EXPECT_NEAR(alpha_sum(&r), 0, 0);   /* beside the scene: transparent */
        resp_free(&r);
        expect(http(port, "GET", "/v1/tiles/2/4/0.png", NULL, 0), 400, "no tile", "x = 4 at z 2");
        expect(http(port, "GET", "/v1/tiles/25/0/0.png", NULL, 0), 400, "no tile", "z 25");
        expect(http(port, "GET", "/v1/tiles/a/0/0.png", NULL, 0), 400, "no tile", "z a");
        snprintf(url, sizeof url, "/v1/tiles/14/%d/%d.png?scene=1&layer=segmentation", x, y);
        expect(http(port, "GET", url, NULL, 0), 404, "no segmentation yet", "no mask yet");
        expect(http(port, "POST", "/v1/scenes/1/segment", NULL, 0), 200, NULL, "segment scene");
        double mask_px = 0;
        for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++) {
                snprintf(url, sizeof url, "/v1/tiles/14/%d/%d.png?scene=1&layer=segmentation",
                         x + dx, y + dy);
                r = http(port, "GET", url, NULL, 0);
                EXPECT_EQ_INT(r.status, 200);
                mask_px += alpha_sum(&r) / 255.0;
                resp_free(&r);
            }
        EXPECT_NEAR(mask_px, side * side, 0.05 * side * side);
        snprintf(url, sizeof url, "/v1/tiles/14/%d/%d.png?scene=7", x, y);
        expect(http(port, "GET", url, NULL, 0), 404, "no scene 7", "scene 7");
        /* a catalog file that went away is left out of the map (and said on stderr) */
        char scene[512], moved[512];
        fx_path(&e.f, "scene.tif", scene);
        fx_path(&e.f, "moved.tif", moved);
        EXPECT_TRUE(rename(scene, moved) == 0);
        snprintf(url, sizeof url, "/v1/tiles/14/%d/%d.png", x, y);
        r = http(port, "GET", url, NULL, 0);
        EXPECT_EQ_INT(r.status, 200);
        EXPECT_NEAR(alpha_sum(&r), 0, 0);
        resp_free(&r);
    }
    eos_service_free(s);
    teardown(&e);
}

TEST_MAIN(TEST(test_openapi), TEST(test_multipart), TEST(test_access), TEST(test_metrics),
          TEST(test_tiles))

#else

int main(void) { return 77; }

#endif
