/*
 * tests/service/test_service.c - the HTTP service (include/eosight/service.h) against a real
 * server on 127.0.0.1 (port 0) started in this process, over tiny models written into a
 * temporary folder (tests/analysis/fixture.h) and a plain-socket HTTP/1.1 client. Covered:
 * every route (healthz, readyz, models, one model, classify/tag/clouds with top_k and tta),
 * every error code (400, 404, 405, 413 by Content-Length, by chunked body and by pixel count,
 * 415, 422, 503 with Retry-After), concurrent clients on threads, and stop draining a request
 * in flight.
 */
#include "common/test.h"

#ifdef EOS_WITH_GDAL

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "analysis/fixture.h"
#include "service/http_client.h"
#include "eosight/alloc.h"
#include "eosight/service.h"

static const char *const k_cls_meta[] = {
    "eosight.task", "classification", "eosight.classes", "a,b,c", "eosight.input_size", "16,16",
    NULL
};
static const char *const k_tag_meta[] = {
    "eosight.task", "multilabel", "eosight.classes", "l0,l1,l2", "eosight.input_size", "16,16",
    NULL
};
static const char *const k_cloud_meta[] = {
    "eosight.task", "cloud", "eosight.classes", "clear,cloudy", "eosight.input_size", "8,8", NULL
};

/* ------------------------------------------------------------------ fixtures */

typedef struct files {
    char  *img;        /* 3-band 16x16 GeoTIFF where band 3 wins */
    size_t n_img;
    char  *img4;       /* 4 bands: refused by the contract */
    size_t n_img4;
    char  *big;        /* 3-band Byte 128 x 128: over the pixel limit */
    size_t n_big;
    char  *grid;       /* 3-band Byte 256 x 256: a grid, for the busy test */
    size_t n_grid;
} files;


static char *make_image(fx *f, const char *name, int nb, int s, GDALDataType t, size_t *n) {
    float *px = eos_malloc((size_t)nb * s * s * sizeof *px);
    char path[512];
    if (!px) return NULL;
    for (int b = 0; b < nb; b++)
        for (int i = 0; i < s * s; i++) px[(size_t)b * s * s + i] = (float)(b * 2 + (i % 3));
    scene_opts o = { .type = t };
    bool ok = write_scene(fx_path(f, name, path), nb, s, s, px, &o);
    eos_free(px);
    return ok ? test_read_file(path, n) : NULL;
}

static bool setup(fx *f, files *fl) {
    char p[512];
    memset(fl, 0, sizeof *fl);
    FILE *junk = fopen(fx_path(f, "junk.onnx", p), "wb");
    if (junk) {
        fputs("not a model", junk);
        fclose(junk);
    }
    return gap_model(fx_path(f, "scene.onnx", p), 3, k_cls_meta) &&
           gap_model(fx_path(f, "tags.onnx", p), 3, k_tag_meta) &&
           cloud_model(fx_path(f, "clouds.onnx", p), k_cloud_meta) &&
           (fl->img = make_image(f, "img.tif", 3, 16, GDT_Float32, &fl->n_img)) &&
           (fl->img4 = make_image(f, "img4.tif", 4, 16, GDT_Float32, &fl->n_img4)) &&
           (fl->big = make_image(f, "big.tif", 3, 128, GDT_Byte, &fl->n_big)) &&
           (fl->grid = make_image(f, "grid.tif", 3, 256, GDT_Byte, &fl->n_grid));
}

static void files_free(files *fl) {
    eos_free(fl->img);
    eos_free(fl->img4);
    eos_free(fl->big);
    eos_free(fl->grid);
}

static eos_service *start(fx *f, int workers, int queue, int64_t max_pixels) {
    eos_service_params p = eos_service_default_params();
    p.models_dir = f->dir;
    p.max_body_bytes = 256 * 1024;
    p.max_pixels = max_pixels;
    p.n_workers = workers;
    p.queue_len = queue;
    p.engine_threads = 1;
    eos_service *s = NULL;
    if (eos_service_create(f->ctx, &p, &s) != EOS_OK)
        TEST_FAIL_("eos_service_create: %s", eos_ctx_errmsg(f->ctx));
    return s;
}

/* ------------------------------------------------------------------ tests */

static void test_routes(void) {
    fx f;
    files fl;
    ASSERT_TRUE(fx_open(&f, "svc_routes"));
    eos_service *s = NULL;
    if (setup(&f, &fl) && (s = start(&f, 2, 4, 100 * 100))) {
        int port = eos_service_port(s);
        EXPECT_TRUE(port > 0);
        EXPECT_EQ_INT(eos_service_n_models(s), 3);   /* junk.onnx skipped */
        expect(http(port, "GET", "/healthz", NULL, 0), 200, "{\"status\":\"ok\"}", "healthz");
        expect(http(port, "GET", "/readyz", NULL, 0), 200, "\"models\":3", "readyz");
        resp r = http(port, "GET", "/v1/models", NULL, 0);
        EXPECT_TRUE(r.body && strstr(r.body, "\"name\":\"scene\"") &&
                    strstr(r.body, "\"name\":\"tags\"") && strstr(r.body, "\"name\":\"clouds\"") &&
                    !strstr(r.body, "junk"));
        expect(r, 200, "{\"models\":[", "models");
        expect(http(port, "GET", "/v1/models/tags", NULL, 0), 200, "\"name\":\"tags\"", "model");
        expect(http(port, "GET", "/v1/models/nope", NULL, 0), 404,
               "{\"error\":{\"code\":\"not_found\"", "unknown model");
        expect(http(port, "GET", "/nowhere", NULL, 0), 404, "\"not_found\"", "unknown route");
        r = http(port, "POST", "/healthz", "x", 1);
        EXPECT_TRUE(strstr(r.head, "Allow: GET") != NULL);
        expect(r, 405, "\"method_not_allowed\"", "POST healthz");
        expect(http(port, "GET", "/v1/classify", NULL, 0), 405, "takes POST", "GET classify");

        /* the analyses: band 3 (c / l2) has the largest mean */
        expect(http(port, "POST", "/v1/classify?model=scene&top_k=2", fl.img, fl.n_img), 200,
               "\"top\":\"c\"", "classify");
        expect(http(port, "POST", "/v1/classify?tta=8", fl.img, fl.n_img), 200,
               "\"top\":\"c\"", "classify default model, tta 8");
        expect(http(port, "POST", "/v1/tag", fl.img, fl.n_img), 200, "\"task\":\"tag\"", "tag");
        expect(http(port, "POST", "/v1/clouds?model=clouds", fl.img, fl.n_img), 200,
               "\"cloudy\":", "clouds");
        /* thresholds of the request instead of the contract's */
        expect(http(port, "POST", "/v1/tag?threshold=0", fl.img, fl.n_img), 200,
               "\"labels\":[\"l2\",\"l1\",\"l0\"]", "tag, threshold 0: every label");
        expect(http(port, "POST", "/v1/tag?threshold=1", fl.img, fl.n_img), 200,
               "\"labels\":[]", "tag, threshold 1: none");
        expect(http(port, "POST", "/v1/tag?threshold=1,1,0", fl.img, fl.n_img), 200,
               "\"labels\":[\"l2\"]", "tag, per-class thresholds");
        expect(http(port, "POST", "/v1/clouds?threshold=0", fl.img, fl.n_img), 200,
               "\"cloudy\":true", "clouds, threshold 0");
        expect(http(port, "POST", "/v1/tag?threshold=0.5,0.5", fl.img, fl.n_img), 400,
               "one per class (3)", "2 thresholds for 3 labels");
        expect(http(port, "POST", "/v1/tag?threshold=2", fl.img, fl.n_img), 400, "0..1",
               "threshold 2");
        expect(http(port, "POST", "/v1/classify?threshold=0.5", fl.img, fl.n_img), 400,
               "tag and clouds only", "threshold on classify");
        eos_service_stop(s);
        EXPECT_EQ_INT(http(port, "GET", "/healthz", NULL, 0).status, -1);   /* closed */
    }
    eos_service_free(s);
    files_free(&fl);
    fx_close(&f);
}

/* A body sent with chunked transfer coding, larger than the limit. */
static resp chunked_upload(int port, size_t total) {
    resp r = { -1, "", NULL, 0 };
    int fd = dial(port);
    if (fd < 0) return r;
    const char *h = "POST /v1/classify HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n";
    static char chunk[8192];
    memset(chunk, 'A', sizeof chunk);
    bool ok = send_all(fd, h, strlen(h));
    for (size_t sent = 0; ok && sent < total; sent += sizeof chunk)
        ok = send_all(fd, "2000\r\n", 6) && send_all(fd, chunk, sizeof chunk) &&
             send_all(fd, "\r\n", 2);
    if (ok) ok = send_all(fd, "0\r\n\r\n", 5);
    read_resp(fd, &r);
    close(fd);
    return r;
}

static void test_errors(void) {
    fx f;
    files fl;
    ASSERT_TRUE(fx_open(&f, "svc_errors"));
    eos_service *s = NULL;
    if (setup(&f, &fl) && (s = start(&f, 2, 4, 100 * 100))) {
        int port = eos_service_port(s);
        expect(http(port, "POST", "/v1/classify?tta=3", fl.img, fl.n_img), 400, "tta", "tta 3");
        expect(http(port, "POST", "/v1/classify?top_k=abc", fl.img, fl.n_img), 400, "top_k",
               "top_k abc");
        expect(http(port, "POST", "/v1/classify?top_k=-1", fl.img, fl.n_img), 400,
               "\"bad_request\"", "top_k -1");
        expect(http(port, "POST", "/v1/classify?model=tags", fl.img, fl.n_img), 400,
               "not a classify model", "tag model on classify");
        expect(http(port, "POST", "/v1/classify", NULL, 0), 400, "empty body", "empty body");
        expect(http(port, "POST", "/v1/classify?model=nope", fl.img, fl.n_img), 404,
               "unknown model 'nope'", "unknown model");
        expect(http(port, "POST", "/v1/classify", "garbage bytes", 13), 415,
               "\"unsupported_media_type\"", "garbage");
        expect(http(port, "POST", "/v1/classify", fl.img4, fl.n_img4), 422,
               "\"unprocessable_entity\"", "4 bands");
        expect(http(port, "POST", "/v1/classify", fl.big, fl.n_big), 413,
               "over the limit", "128 x 128 pixels");
        /* 413 from Content-Length, before the body is sent */
        resp r = { -1, "", NULL, 0 };
        int fd = dial(port);
        const char *h = "POST /v1/classify HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                        "Content-Length: 1000000\r\n\r\n";
        if (fd >= 0 && send_all(fd, h, strlen(h))) read_resp(fd, &r);
        if (fd >= 0) close(fd);
        expect(r, 413, "\"payload_too_large\"", "Content-Length over the limit");
        expect(chunked_upload(port, 300 * 1024), 413, "over the limit", "chunked over the limit");
        /* the server still answers */
        expect(http(port, "POST", "/v1/classify", fl.img, fl.n_img), 200, "\"top\":\"c\"",
               "after the errors");
    }
    eos_service_free(s);
    files_free(&fl);
    fx_close(&f);
}

/* ------------------------------------------------------------------ concurrency */

typedef struct client {
    int         port, n, n_ok, n_busy, n_other, n_retry_after;
    const char *body;
    size_t      len;
    const char *path;
    const char *want;
} client;

static void *client_run(void *arg) {
    client *c = arg;
    for (int i = 0; i < c->n; i++) {
        resp r = http(c->port, "POST", c->path, c->body, c->len);
        if (r.status == 200 && r.body && strstr(r.body, c->want)) c->n_ok++;
        else if (r.status == 503) {
            c->n_busy++;
            if (strstr(r.head, "Retry-After: 1")) c->n_retry_after++;
        } else c->n_other++;
        resp_free(&r);
    }
    return NULL;
}

static void run_clients(client *cl, int n) {
    pthread_t th[16];
    for (int i = 0; i < n; i++) pthread_create(&th[i], NULL, client_run, &cl[i]);
    for (int i = 0; i < n; i++) pthread_join(th[i], NULL);
}

static void test_concurrent(void) {
    fx f;
    files fl;
    ASSERT_TRUE(fx_open(&f, "svc_conc"));
    eos_service *s = NULL;
    if (setup(&f, &fl) && (s = start(&f, 2, 16, 100 * 100))) {
        client cl[6];
        for (int i = 0; i < 6; i++)
            cl[i] = (client){ eos_service_port(s), 4, 0, 0, 0, 0, fl.img, fl.n_img,
                              i % 2 ? "/v1/tag" : "/v1/classify?top_k=1",
                              i % 2 ? "\"task\":\"tag\"" : "\"top\":\"c\"" };
        run_clients(cl, 6);
        for (int i = 0; i < 6; i++) EXPECT_EQ_INT(cl[i].n_ok, 4);
    }
    eos_service_free(s);
    s = NULL;
    /* one worker, one waiting: concurrent grid analyses overflow the queue -> 503 */
    if (fl.grid && (s = start(&f, 1, 1, 0))) {
        int busy = 0, ok = 0, other = 0, retry = 0;
        for (int round = 0; round < 5 && busy == 0; round++) {
            client cl[8];
            for (int i = 0; i < 8; i++)
                cl[i] = (client){ eos_service_port(s), 1, 0, 0, 0, 0, fl.grid, fl.n_grid,
                                  "/v1/classify?tta=8", "\"grid\"" };
            run_clients(cl, 8);
            for (int i = 0; i < 8; i++) {
                busy += cl[i].n_busy;
                ok += cl[i].n_ok;
                other += cl[i].n_other;
                retry += cl[i].n_retry_after;
            }
        }
        EXPECT_TRUE(busy > 0);
        EXPECT_TRUE(ok > 0);
        EXPECT_EQ_INT(other, 0);
        EXPECT_EQ_INT(retry, busy);
    }
    eos_service_free(s);
    files_free(&fl);
    fx_close(&f);
}

/* ------------------------------------------------------------------ stop drains */

static void *stopper(void *arg) {
    eos_service_stop(arg);
    return NULL;
}

/* A request whose body is still arriving when stop is called is answered, then the server
 * is gone. */
static void test_drain(void) {
    fx f;
    files fl;
    ASSERT_TRUE(fx_open(&f, "svc_drain"));
    eos_service *s = NULL;
    if (setup(&f, &fl) && (s = start(&f, 1, 1, 100 * 100))) {
        int port = eos_service_port(s), fd = dial(port);
        char head[256];
        int hl = snprintf(head, sizeof head, "POST /v1/classify HTTP/1.1\r\nHost: x\r\n"
                          "Connection: close\r\nContent-Length: %zu\r\n\r\n", fl.n_img);
        resp r = { -1, "", NULL, 0 };
        pthread_t th;
        bool sent = fd >= 0 && send_all(fd, head, (size_t)hl) &&
                    send_all(fd, fl.img, fl.n_img - 1);
        nanosleep(&(struct timespec){ 0, 100000000 }, NULL);
        bool started = sent && pthread_create(&th, NULL, stopper, s) == 0;
        nanosleep(&(struct timespec){ 0, 100000000 }, NULL);
        if (started && send_all(fd, fl.img + fl.n_img - 1, 1)) read_resp(fd, &r);
        if (started) pthread_join(th, NULL);
        if (fd >= 0) close(fd);
        expect(r, 200, "\"top\":\"c\"", "request in flight during stop");
        EXPECT_EQ_INT(http(port, "GET", "/healthz", NULL, 0).status, -1);
    }
    eos_service_free(s);
    files_free(&fl);
    fx_close(&f);
}

TEST_MAIN(TEST(test_routes), TEST(test_errors), TEST(test_concurrent), TEST(test_drain))

#else

int main(void) { return 77; }

#endif
