/*
 * src/service/service.c - the HTTP server of `eosight serve` on libmicrohttpd (one thread per
 * connection): request bodies received under a byte limit, the route table and dispatch (404
 * unknown route, 405 wrong method), admission to the bounded work queue (n_workers analysing,
 * queue_len waiting, 503 beyond), the small GET routes (health, readiness, models) and the
 * service's life cycle. The analysis and catalog routes live in routes_analysis.c and
 * routes_catalog.c; answering helpers in http.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "eosight/alloc.h"
#include "service/access.h"
#include "service/assets.h"
#include "service/metrics.h"
#include "service/multipart.h"
#include "service/service_internal.h"
#include "service/tiles.h"

/* ------------------------------------------------------------------ admission */

bool svc_admit(eos_service *s) {
    pthread_mutex_lock(&s->mu);
    if (s->running >= s->p.n_workers) {
        if (s->waiting >= s->p.queue_len) {
            pthread_mutex_unlock(&s->mu);
            return false;
        }
        s->waiting++;
        svc_metrics_gauge_add(s->metrics, SVC_GAUGE_QUEUE_DEPTH, 1);
        while (s->running >= s->p.n_workers) pthread_cond_wait(&s->cv, &s->mu);
        s->waiting--;
        svc_metrics_gauge_add(s->metrics, SVC_GAUGE_QUEUE_DEPTH, -1);
    }
    s->running++;
    pthread_mutex_unlock(&s->mu);
    return true;
}

void svc_release(eos_service *s) {
    pthread_mutex_lock(&s->mu);
    s->running--;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* ------------------------------------------------------------------ small GET routes */

static enum MHD_Result route_health(svc_call *k) {
    return svc_send_text(k, 200, "{\"status\":\"ok\"}");
}

static enum MHD_Result route_ready(svc_call *k) {
    if (k->s->reg.n == 0) return svc_send_error(k, 503, NULL, "no model is loaded");
    char text[96];
    snprintf(text, sizeof text, "{\"status\":\"ready\",\"models\":%d,\"catalog\":%s}",
             k->s->reg.n, k->s->cat ? "true" : "false");
    return svc_send_text(k, 200, text);
}

static enum MHD_Result send_json(svc_call *k, unsigned status, json_t *v) {
    char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    if (!text) return svc_send_error(k, 500, NULL, "out of memory");
    enum MHD_Result ret = svc_send_text(k, status, text);
    free(text);   /* jansson's allocation */
    return ret;
}

static json_t *model_json(const svc_model *m) {
    json_t *v = json_loads(m->contract_json, 0, NULL);
    return v ? v : json_pack("{s:s}", "name", m->name);
}

static enum MHD_Result route_models(svc_call *k) {
    json_t *list = json_array();
    for (int i = 0; list && i < k->s->reg.n; i++) {
        svc_model *m = &k->s->reg.models[i];
        json_t *v = model_json(m);   /* "default": the model a route without model= uses */
        json_object_set_new(v, "default", json_boolean(svc_registry_first(&k->s->reg,
                                                                         m->task) == m));
        json_array_append_new(list, v);
    }
    return send_json(k, 200, list ? json_pack("{s:o}", "models", list) : NULL);
}

static enum MHD_Result route_model(svc_call *k) {
    const char *name = k->rq->caps[0];
    svc_model *m = svc_registry_find(&k->s->reg, name);
    if (!m) return svc_send_error(k, 404, NULL, "unknown model '%s' (GET /v1/models lists them)",
                                  name);
    return send_json(k, 200, model_json(m));
}

static enum MHD_Result route_metrics(svc_call *k) {
    char *text = NULL;
    size_t len = 0;
    eos_err err = { 0 };
    if (svc_metrics_render(k->s->metrics, &text, &len, &err) != EOS_OK)
        return svc_send_error(k, 500, NULL, "cannot render the metrics: %s", err.msg);
    enum MHD_Result ret = svc_send(k, 200, SVC_METRICS_CONTENT_TYPE, text, len);
    eos_free(text);
    return ret;
}

static enum MHD_Result route_openapi(svc_call *k) {
    const unsigned char *data;
    size_t len;
    const char *type;
    if (!svc_asset_find("/openapi.json", &data, &len, &type))
        return svc_send_error(k, 404, NULL, "the OpenAPI document was not built in");
    return svc_send(k, 200, "application/json", data, len);
}

/* ------------------------------------------------------------------ the route table */

static const svc_route k_routes[] = {
    { "GET", "/healthz", route_health, 0, false, false },
    { "GET", "/readyz", route_ready, 0, false, false },
    { "GET", "/metrics", route_metrics, 0, false, false },
    { "GET", "/openapi.json", route_openapi, 0, false, false },
    { "GET", "/v1/models", route_models, 0, false, false },
    { "GET", "/v1/models/{name}", route_model, 0, false, false },
    { "POST", "/v1/classify", svc_route_analyze, EOS_ANALYSIS_CLASSIFY, true, false },
    { "POST", "/v1/tag", svc_route_analyze, EOS_ANALYSIS_TAG, true, false },
    { "POST", "/v1/clouds", svc_route_analyze, EOS_ANALYSIS_CLOUD, true, false },
    { "POST", "/v1/segment", svc_route_analyze, EOS_ANALYSIS_SEGMENT, true, false },
    { "POST", "/v1/classify-at", svc_route_analyze_at, EOS_ANALYSIS_CLASSIFY, true, false },
    { "POST", "/v1/tag-at", svc_route_analyze_at, EOS_ANALYSIS_TAG, true, false },
    { "POST", "/v1/clouds-at", svc_route_analyze_at, EOS_ANALYSIS_CLOUD, true, false },
    { "POST", "/v1/segment-at", svc_route_analyze_at, EOS_ANALYSIS_SEGMENT, true, false },
    { "GET", "/v1/scenes", svc_route_scenes, 0, false, false },
    { "GET", "/v1/scenes/{id}", svc_route_scene, 0, false, false },
    { "GET", "/v1/scenes/{id}/predictions", svc_route_scene_predictions, 0, false, false },
    { "POST", "/v1/scenes/{id}/segment", svc_route_scene_segment, EOS_ANALYSIS_SEGMENT, true,
      false },
    { "GET", "/v1/tiles/{z}/{x}/{y}.png", svc_route_tile, 0, true, true },
    { "GET", "/v1/jobs/{id}", svc_route_job, 0, false, false },
};

const svc_route *svc_routes(int *n) {
    *n = (int)(sizeof k_routes / sizeof k_routes[0]);
    return k_routes;
}

/* Routes behind the API keys and the rate limit: the API and the metrics; health, readiness,
 * the OpenAPI document and the web app are open. */
static bool needs_access(const char *pattern) {
    return strncmp(pattern, "/v1/", 4) == 0 || strcmp(pattern, "/metrics") == 0;
}

/* The peer's address as text. */
static void client_addr(struct MHD_Connection *c, char *buf, size_t size) {
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    buf[0] = '\0';
    if (!ci || !ci->client_addr) return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf,
                  (socklen_t)size);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, buf,
                  (socklen_t)size);
}

/* API key and rate limit; answers 401 / 429 itself. */
static bool access_ok(svc_call *k, enum MHD_Result *ret) {
    if (!k->s->access) return true;
    char addr[INET6_ADDRSTRLEN + 1];
    client_addr(k->c, addr, sizeof addr);
    svc_access_result res;
    const char *x_key = MHD_lookup_connection_value(k->c, MHD_HEADER_KIND, "X-API-Key");
    if (!x_key && k->route->query_key)
        x_key = MHD_lookup_connection_value(k->c, MHD_GET_ARGUMENT_KIND, "api_key");
    svc_access_verdict v = svc_access_check(
        k->s->access, MHD_lookup_connection_value(k->c, MHD_HEADER_KIND, "Authorization"),
        x_key, addr, &res);
    if (v == SVC_ACCESS_ALLOW) return true;
    k->retry_after = v == SVC_ACCESS_LIMITED ? res.retry_after_header : 0;
    *ret = svc_send_error(k, v == SVC_ACCESS_LIMITED ? 429 : 401, NULL, "%s", res.message);
    return false;
}

/* A CORS preflight (OPTIONS) when CORS is on. */
static enum MHD_Result preflight(svc_call *k) {
    struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"",
                                                             MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Access-Control-Allow-Origin", k->s->p.cors_origin);
    MHD_add_response_header(r, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    MHD_add_response_header(r, "Access-Control-Allow-Headers",
                            "Authorization, X-API-Key, Content-Type, Accept");
    MHD_add_response_header(r, "Access-Control-Max-Age", "600");
    MHD_add_response_header(r, "Vary", "Origin");
    enum MHD_Result ret = MHD_queue_response(k->c, 204, r);
    MHD_destroy_response(r);
    k->rq->status = 204;
    return ret;
}

static enum MHD_Result dispatch(svc_call *k, const char *url, const char *method) {
    if (k->s->p.cors_origin && strcmp(method, "OPTIONS") == 0) return preflight(k);
    if (svc_web_path(method, url)) return svc_route_web(k, url);   /* the web app (assets.c) */
    int n;
    const svc_route *routes = svc_routes(&n);
    char allow[64] = "";
    for (int i = 0; i < n; i++) {
        if (!svc_route_match(routes[i].pattern, url, k->rq->caps)) continue;
        if (strcmp(routes[i].method, method) != 0) {
            size_t l = strlen(allow);
            snprintf(allow + l, sizeof allow - l, "%s%s", l ? ", " : "", routes[i].method);
            continue;
        }
        k->route = &routes[i];
        k->rq->route = i;
        if (needs_access(routes[i].pattern)) {
            enum MHD_Result ret;
            if (!access_ok(k, &ret)) return ret;
        }
        if (!routes[i].analysis) return routes[i].fn(k);
        if (!svc_admit(k->s))
            return svc_send_error(k, 503, NULL, "server busy: %d requests running and %d "
                                  "waiting", k->s->p.n_workers, k->s->p.queue_len);
        enum MHD_Result ret = routes[i].fn(k);
        svc_release(k->s);
        return ret;
    }
    if (allow[0])
        return svc_send_error(k, 405, allow, "%s takes %s, not %s", url, allow, method);
    return svc_send_error(k, 404, NULL, "no route %s %s", method, url);
}

/* ------------------------------------------------------------------ libmicrohttpd callbacks */

/* Append a chunk, or mark the request too big (dropping what was buffered). */
static void body_append(eos_service *s, svc_req *rq, const char *data, size_t n) {
    if (rq->too_big) return;
    if (n > s->p.max_body_bytes - rq->len) {
        rq->too_big = true;
        eos_free(rq->body);
        rq->body = NULL;
        rq->len = rq->cap = 0;
        return;
    }
    if (rq->len + n > rq->cap) {
        size_t cap = rq->cap ? rq->cap : 65536;
        while (cap < rq->len + n) cap *= 2;
        if (cap > s->p.max_body_bytes) cap = s->p.max_body_bytes;
        char *b = eos_realloc(rq->body, cap);
        if (!b) {   /* answered as too big: nothing more is buffered */
            rq->too_big = true;
            return;
        }
        rq->body = b;
        rq->cap = cap;
    }
    memcpy(rq->body + rq->len, data, n);
    rq->len += n;
}

/* A multipart/form-data body: the "image" part becomes the image, the other parts options
 * (svc_opt). Answers 400 itself for a malformed form. */
static bool read_form(svc_call *k, enum MHD_Result *ret) {
    const char *ct = MHD_lookup_connection_value(k->c, MHD_HEADER_KIND, "Content-Type");
    if (!svc_mp_is_form(ct)) return true;
    svc_req *rq = k->rq;
    svc_mp_part *parts = eos_malloc(17 * sizeof *parts);
    int n = 0;
    eos_err err = { 0 };
    if (!parts) {
        *ret = svc_send_error(k, 500, NULL, "out of memory");
        return false;
    }
    bool ok = svc_mp_parse(ct, rq->body, rq->len, parts, 17, &n, &err) == EOS_OK;
    rq->image = NULL;
    rq->image_len = 0;
    for (int i = 0; ok && i < n; i++) {
        if (strcmp(parts[i].name, "image") == 0) {
            rq->image = (const char *)parts[i].data;
            rq->image_len = parts[i].len;
        } else if (rq->n_fields == 16 || strlen(parts[i].name) >= sizeof rq->field_name[0]) {
            eos_err_set(&err, EOS_LIMIT, "too many form fields, or a field name over 63 bytes");
            ok = false;
        } else {
            memcpy(rq->field_name[rq->n_fields], parts[i].name, strlen(parts[i].name) + 1);
            ok = svc_mp_text(&parts[i], rq->field_val[rq->n_fields], sizeof rq->field_val[0],
                             &err) == EOS_OK;
            rq->n_fields++;
        }
    }
    eos_free(parts);
    if (!ok) *ret = svc_send_error(k, 400, NULL, "bad form: %s", err.msg);
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
    (void)version;
    eos_service *s = cls;
    svc_req *rq = *con_cls;
    if (!rq) {
        rq = eos_calloc(1, sizeof *rq);
        if (!rq) return MHD_NO;
        rq->route = -1;
        rq->t0 = svc_now();
        snprintf(rq->method, sizeof rq->method, "%s", method);
        snprintf(rq->path, sizeof rq->path, "%s", url);
        *con_cls = rq;
        pthread_mutex_lock(&s->mu);
        s->in_flight++;
        pthread_mutex_unlock(&s->mu);
        svc_metrics_gauge_add(s->metrics, SVC_GAUGE_IN_FLIGHT, 1);
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        svc_call k = { s, c, rq, NULL, 0, NULL, NULL, NULL };
        if (cl && strtoull(cl, NULL, 10) > s->p.max_body_bytes)
            return svc_send_error(&k, 413, NULL, "body of %s bytes is over the limit of %zu "
                                  "bytes", cl, s->p.max_body_bytes);
        return MHD_YES;
    }
    if (*upload_data_size) {
        body_append(s, rq, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    svc_call k = { s, c, rq, NULL, 0, NULL, NULL, NULL };
    if (rq->too_big)
        return svc_send_error(&k, 413, NULL, "body over the limit of %zu bytes",
                              s->p.max_body_bytes);
    rq->image = rq->body;
    rq->image_len = rq->len;
    enum MHD_Result ret;
    if (!read_form(&k, &ret)) return ret;
    return dispatch(&k, url, method);
}

/* The access log line of a finished request (one fprintf: lines do not interleave). */
static void access_line(struct MHD_Connection *c, const svc_req *rq, double dt) {
    char addr[INET6_ADDRSTRLEN + 1], when[32], path[sizeof rq->path];
    client_addr(c, addr, sizeof addr);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    size_t n = 0;   /* control bytes of the path shown as '?' */
    for (const char *p = rq->path; *p && n + 1 < sizeof path; p++)
        path[n++] = (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p;
    path[n] = '\0';
    fprintf(stderr, "%s %s %s %s %u %.1fms %zuB\n", when, addr[0] ? addr : "-", rq->method,
            path, rq->status, 1e3 * dt, rq->too_big ? (size_t)0 : rq->len);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)c;
    (void)toe;
    eos_service *s = cls;
    svc_req *rq = *con_cls;
    if (!rq) return;
    double dt = svc_now() - rq->t0;
    if (rq->status) svc_metrics_request(s->metrics, rq->route, rq->method, rq->status, dt);
    if (s->p.access_log) access_line(c, rq, dt);
    svc_metrics_gauge_add(s->metrics, SVC_GAUGE_IN_FLIGHT, -1);
    eos_free(rq->body);
    eos_free(rq);
    *con_cls = NULL;
    pthread_mutex_lock(&s->mu);
    s->in_flight--;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* ------------------------------------------------------------------ life cycle */

eos_service_params eos_service_default_params(void) {
    eos_service_params p = { 0 };
    return p;
}

static void fill_defaults(eos_service_params *p) {
    if (!p->bind_addr) p->bind_addr = "127.0.0.1";
    if (!p->max_body_bytes) p->max_body_bytes = (size_t)64 << 20;
    if (!p->max_pixels) p->max_pixels = 100000000;
    if (!p->n_workers) p->n_workers = 32;
    if (!p->queue_len) p->queue_len = 64;
    if (!p->max_connections) p->max_connections = 256;
    if (!p->batch_max) p->batch_max = 32;
    if (!p->batch_wait_us) p->batch_wait_us = 2000;
    if (!p->engine_threads) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        p->engine_threads = cores > 0 ? (int)cores : 1;
    }
}

static eos_status start_daemon(eos_service *s, eos_err *err) {
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    memset(&a4, 0, sizeof a4);
    memset(&a6, 0, sizeof a6);
    const struct sockaddr *sa;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_ITC;
    if (inet_pton(AF_INET, s->p.bind_addr, &a4.sin_addr) == 1) {
        a4.sin_family = AF_INET;
        a4.sin_port = htons((uint16_t)s->p.port);
        sa = (const struct sockaddr *)&a4;
    } else if (inet_pton(AF_INET6, s->p.bind_addr, &a6.sin6_addr) == 1) {
        a6.sin6_family = AF_INET6;
        a6.sin6_port = htons((uint16_t)s->p.port);
        sa = (const struct sockaddr *)&a6;
        flags |= MHD_USE_IPv6;
    } else {
        return eos_err_set(err, EOS_INVALID_ARG, "bind address '%s' is not an IPv4 or IPv6 "
                           "address", s->p.bind_addr);
    }
    s->d = MHD_start_daemon(flags, (uint16_t)s->p.port, NULL, NULL, on_request, s,
                            MHD_OPTION_SOCK_ADDR, sa,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)s->p.max_connections,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
                            MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
                            MHD_OPTION_END);
    if (!s->d)
        return eos_err_set(err, EOS_IO, "cannot listen on %s port %d (in use or not allowed?)",
                           s->p.bind_addr, s->p.port);
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : s->p.port;
    return EOS_OK;
}

/* The catalog and the folder of scene segmentations. */
static eos_status open_catalog(eos_service *s, eos_err *err) {
    if (!s->p.catalog_uri) return EOS_OK;
    eos_ctx *ctx = NULL;
    eos_status st = eos_ctx_create(NULL, &ctx);
    if (st != EOS_OK) return eos_err_set(err, st, "cannot create a context");
    st = eos_catalog_open(ctx, s->p.catalog_uri, NULL, &s->cat);
    if (st != EOS_OK) eos_err_set(err, st, "catalog: %s", eos_ctx_errmsg(ctx));
    eos_ctx_free(ctx);
    if (st != EOS_OK) return st;
    const char *uri = s->p.catalog_uri;
    if (strncmp(uri, "sqlite:", 7) == 0) uri += 7;
    char dir[4096];
    if (s->p.results_dir) snprintf(dir, sizeof dir, "%s", s->p.results_dir);
    else snprintf(dir, sizeof dir, "%s.results", uri);
    s->results_dir = eos_strdup(dir);
    return s->results_dir ? EOS_OK : eos_err_set(err, EOS_NOMEM, "out of memory");
}

static void on_batch(void *cls, const svc_model *m, int n) {
    eos_service *s = cls;
    svc_metrics_batch(s->metrics, (int)(m - s->reg.models), n);
}

static eos_status start_batchers(eos_service *s, eos_err *err) {
    for (int i = 0; i < s->reg.n; i++) {
        svc_model *m = &s->reg.models[i];
        if (m->task == EOS_ANALYSIS_SEGMENT) continue;
        eos_status st = svc_batcher_start(&m->batcher, m, s->p.batch_max, s->p.batch_wait_us,
                                          s->p.engine_threads);
        if (st != EOS_OK) return eos_err_set(err, st, "cannot start the batcher of '%s'",
                                             m->name);
        pthread_mutex_lock(&m->batcher.mu);
        m->batcher.on_batch = on_batch;
        m->batcher.on_batch_cls = s;
        pthread_mutex_unlock(&m->batcher.mu);
    }
    return EOS_OK;
}

/* Metrics (labels: the route patterns and the model names), access control, the tiler. */
static eos_status start_extras(eos_service *s, eos_err *err) {
    int n_routes;
    const svc_route *routes = svc_routes(&n_routes);
    const char *pat[64], *names[1024];
    int n_models = s->reg.n < 1024 ? s->reg.n : 1024;
    for (int i = 0; i < n_routes && i < 64; i++) pat[i] = routes[i].pattern;
    for (int i = 0; i < n_models; i++) names[i] = s->reg.models[i].name;
    svc_metrics_params mp = { pat, n_routes < 64 ? n_routes : 64, names, n_models };
    EOS_TRY(svc_metrics_create(&mp, &s->metrics, err));
    svc_metrics_gauge_set(s->metrics, SVC_GAUGE_MODELS_LOADED, s->reg.n);
    if (s->p.api_key_file || s->p.rate_per_s > 0) {
        svc_access_params ap = { s->p.api_key_file, s->p.rate_per_s, s->p.rate_burst, 0, NULL,
                                 NULL };
        EOS_TRY(svc_access_create(&ap, &s->access, s->notes, sizeof s->notes, err));
    }
    if ((s->cat && !(s->tiler = svc_tiler_create())) || svc_jobs_create(s) != EOS_OK)
        return eos_err_set(err, EOS_NOMEM, "out of memory");
    return EOS_OK;
}

eos_status eos_service_create(eos_ctx *ctx, const eos_service_params *params,
                              eos_service **out) {
    eos__ctx_clear(ctx);
    eos_err err = { 0 };
    *out = NULL;
    eos_service_params p = params ? *params : eos_service_default_params();
    if (p.port < 0 || p.port > 65535 || p.n_workers < 0 || p.n_workers > 1024 ||
        p.queue_len < 0 || p.max_connections < 0 || p.engine_threads < 0 || p.max_pixels < 0 ||
        p.batch_max < 0 || p.batch_max > 1024 || p.batch_wait_us < 0 ||
        p.batch_wait_us > 1000000 || !(p.rate_per_s >= 0) || !(p.rate_burst >= 0)) {
        eos_err_set(&err, EOS_INVALID_ARG, "service parameters out of range");
        return eos__ctx_fail(ctx, &err);
    }
    fill_defaults(&p);
    eos_service *s = eos_calloc(1, sizeof *s);
    if (!s) {
        eos_err_set(&err, EOS_NOMEM, "out of memory");
        return eos__ctx_fail(ctx, &err);
    }
    s->p = p;
    s->log = ctx;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int pool = p.n_workers < 2 * (int)cores + 2 ? p.n_workers : 2 * (int)cores + 2;
    eos_status st = svc_registry_load(&s->reg, p.models_dir, pool, p.engine_threads);
    if (st != EOS_OK) eos_err_set(&err, st, "cannot load the models");
    if (st == EOS_OK) st = open_catalog(s, &err);
    if (st == EOS_OK) st = start_extras(s, &err);
    if (st == EOS_OK) st = start_batchers(s, &err);
    if (st == EOS_OK) st = start_daemon(s, &err);
    if (st != EOS_OK) {
        s->stopped = true;
        eos_service_free(s);
        return eos__ctx_fail(ctx, &err);
    }
    *out = s;
    return EOS_OK;
}

int eos_service_port(const eos_service *s) { return s->port; }

int eos_service_n_models(const eos_service *s) { return s->reg.n; }

const char *eos_service_notes(const eos_service *s) { return s->notes; }

void eos_service_stop(eos_service *s) {
    if (!s || s->stopped) return;
    s->stopped = true;
    MHD_socket ls = MHD_quiesce_daemon(s->d);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30;
    pthread_mutex_lock(&s->mu);
    while (s->in_flight > 0)
        if (pthread_cond_timedwait(&s->cv, &s->mu, &until) == ETIMEDOUT) break;
    pthread_mutex_unlock(&s->mu);
    MHD_stop_daemon(s->d);
    s->d = NULL;
    if (ls != MHD_INVALID_SOCKET) close(ls);
}

void eos_service_free(eos_service *s) {
    if (!s) return;
    eos_service_stop(s);
    svc_jobs_free(s);   /* cancels the running background jobs and waits for them */
    for (int i = 0; i < s->reg.n; i++) svc_batcher_stop(&s->reg.models[i].batcher);
    svc_registry_free(&s->reg);
    eos_catalog_close(s->cat);
    eos_free(s->results_dir);
    svc_metrics_free(s->metrics);
    svc_access_free(s->access);
    svc_tiler_free(s->tiler);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    eos_free(s);
}
