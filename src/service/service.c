/*
 * src/service/service.c - the HTTP server of `eosight serve` on libmicrohttpd (one thread per
 * connection): request bodies received under a byte limit, the route table, admission to the
 * bounded work queue (n_workers running, queue_len waiting, 503 beyond), the analysis routes
 * and JSON errors. HTTP status codes are chosen here and nowhere else (k_http below).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "eosight/alloc.h"
#include "eosight/service.h"
#include "service/service_internal.h"

struct eos_service {
    eos_service_params p;
    svc_registry       reg;
    struct MHD_Daemon *d;
    int                port;
    pthread_mutex_t    mu;
    pthread_cond_t     cv;
    int                running, waiting;   /* analyses running / waiting for a worker */
    int                in_flight;          /* requests between first call and completion */
    bool               stopped;
};

/* One request: its body, limited to max_body_bytes. */
typedef struct req {
    char  *body;
    size_t len, cap;
    bool   too_big;
} req;

/* ------------------------------------------------------------------ responses */

static const struct { unsigned status; const char *code; } k_http[] = {
    { 400, "bad_request" },        { 404, "not_found" },          { 405, "method_not_allowed" },
    { 413, "payload_too_large" },  { 415, "unsupported_media_type" },
    { 422, "unprocessable_entity" }, { 500, "internal_error" },   { 503, "overloaded" },
};

static const char *http_code(unsigned status) {
    for (size_t i = 0; i < sizeof k_http / sizeof k_http[0]; i++)
        if (k_http[i].status == status) return k_http[i].code;
    return "error";
}

/* The HTTP status for a failed analysis call. */
static unsigned status_http(eos_status st) {
    switch (st) {
    case EOS_IO: case EOS_PARSE: case EOS_UNSUPPORTED: case EOS_TYPE: return 415;
    case EOS_SHAPE: case EOS_INVALID_ARG: return 422;
    case EOS_LIMIT: return 413;
    default: return 500;
    }
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *text,
                                 const char *allow) {
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
                                                             MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json");
    if (status == 503) MHD_add_response_header(r, "Retry-After", "1");
    if (allow) MHD_add_response_header(r, "Allow", allow);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Send a jansson value (stolen). */
static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, json_t *v,
                                 const char *allow) {
    char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    if (!text) return send_text(c, 500, "{\"error\":{\"code\":\"internal_error\","
                                        "\"message\":\"out of memory\"}}", NULL);
    enum MHD_Result ret = send_text(c, status, text, allow);
    free(text);   /* jansson's allocation */
    return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *allow,
                                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *allow,
                                  const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return send_json(c, status, json_pack("{s:{s:s,s:s}}", "error", "code", http_code(status),
                                          "message", msg), allow);
}

/* ------------------------------------------------------------------ admission */

/* Take a worker, waiting in the queue when all are busy; false when the queue is full. */
static bool admit(eos_service *s) {
    pthread_mutex_lock(&s->mu);
    if (s->running >= s->p.n_workers) {
        if (s->waiting >= s->p.queue_len) {
            pthread_mutex_unlock(&s->mu);
            return false;
        }
        s->waiting++;
        while (s->running >= s->p.n_workers) pthread_cond_wait(&s->cv, &s->mu);
        s->waiting--;
    }
    s->running++;
    pthread_mutex_unlock(&s->mu);
    return true;
}

static void release(eos_service *s) {
    pthread_mutex_lock(&s->mu);
    s->running--;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* ------------------------------------------------------------------ routes */

static enum MHD_Result route_models(eos_service *s, struct MHD_Connection *c, const char *name) {
    json_t *list = json_array();
    for (int i = 0; list && i < s->reg.n; i++) {
        svc_model *m = &s->reg.models[i];
        if (name && strcmp(m->name, name) != 0) continue;
        json_t *v = json_loads(m->contract_json, 0, NULL);
        if (!v) v = json_pack("{s:s}", "name", m->name);
        if (name) {
            json_decref(list);
            return send_json(c, 200, v, NULL);
        }
        json_array_append_new(list, v);
    }
    if (name) {
        json_decref(list);
        return send_error(c, 404, NULL, "unknown model '%s' (GET /v1/models lists them)", name);
    }
    return send_json(c, 200, json_pack("{s:o}", "models", list), NULL);
}

/* A query integer in [lo, hi]; def when absent; false when malformed. */
static bool query_int(struct MHD_Connection *c, const char *key, long lo, long hi, long def,
                      long *out) {
    const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);
    *out = def;
    if (!v) return true;
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi) return false;
    *out = x;
    return true;
}

/* Run the analysis on a borrowed analyzer; answers every outcome. */
static enum MHD_Result analyze(eos_service *s, struct MHD_Connection *c, svc_slot *slot,
                               const req *rq, int tta, int top_k) {
    eos_analyzer *a = slot->a;
    eos_raster *r = NULL;
    eos_status st = eos_analyzer_open_raster_mem(a, slot->ctx, rq->body, rq->len, &r);
    if (st != EOS_OK) {   /* GDAL's own detail names a private /vsimem/ path: cut it off */
        char msg[512];
        snprintf(msg, sizeof msg, "%s", eos_ctx_errmsg(slot->ctx));
        char *gdal = strstr(msg, ": `/vsimem/");
        if (gdal) *gdal = '\0';
        return send_error(c, st == EOS_NOMEM ? 500 : 415, NULL, "cannot decode the image: %s",
                          msg);
    }
    eos_raster_info info;
    eos_raster_get_info(r, &info);
    enum MHD_Result ret;
    eos_check chk;
    if (info.width_px * info.height_px > s->p.max_pixels) {
        ret = send_error(c, 413, NULL, "image of %lld x %lld pixels is over the limit of %lld "
                         "pixels", (long long)info.width_px, (long long)info.height_px,
                         (long long)s->p.max_pixels);
    } else if ((st = eos_contract_check(a, r, &chk)) != EOS_OK) {
        ret = send_error(c, status_http(st), NULL, "cannot read the image: %s",
                         eos_analyzer_errmsg(a));
    } else if (chk.refuse) {
        char msg[EOS_CHECK_MAX_MSGS * 330] = "";
        for (int i = 0; i < chk.n_msgs; i++) {
            size_t n = strlen(msg);
            snprintf(msg + n, sizeof msg - n, "%s%s", i ? "; " : "", chk.msgs[i]);
        }
        ret = send_error(c, 422, NULL, "image refused by model '%s': %s", eos_analyzer_name(a),
                         msg);
    } else {
        eos_image_params p = eos_image_default_params();
        p.tta = tta;
        eos_image_result res;
        char *js = NULL;
        if ((st = eos_analyze_image(a, r, &p, &res)) != EOS_OK) {
            ret = send_error(c, status_http(st), NULL, "analysis failed: %s",
                             eos_analyzer_errmsg(a));
        } else {
            st = eos_image_result_json(a, &res, top_k, &js);
            ret = st == EOS_OK ? send_text(c, 200, js, NULL)
                               : send_error(c, 500, NULL, "cannot write the result");
            eos_free(js);
            eos_image_result_free(&res);
        }
    }
    eos_raster_close(r);
    return ret;
}

static enum MHD_Result route_analysis(eos_service *s, struct MHD_Connection *c,
                                      eos_analysis_task task, const req *rq) {
    long top_k, tta;
    if (!query_int(c, "top_k", 0, EOS_ANALYSIS_MAX_CLASSES, task == EOS_ANALYSIS_CLASSIFY ? 5 : 0,
                   &top_k))
        return send_error(c, 400, NULL, "top_k must be an integer in 0..%d",
                          EOS_ANALYSIS_MAX_CLASSES);
    if (!query_int(c, "tta", 1, 8, 1, &tta) || (tta != 1 && tta != 4 && tta != 8))
        return send_error(c, 400, NULL, "tta must be 1, 4 or 8");
    const char *name = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "model");
    svc_model *m = name ? svc_registry_find(&s->reg, name) : svc_registry_first(&s->reg, task);
    if (!m && name)
        return send_error(c, 404, NULL, "unknown model '%s' (GET /v1/models lists them)", name);
    if (!m)
        return send_error(c, 404, NULL, "no %s model is loaded", eos_analysis_task_name(task));
    if (m->task != task)
        return send_error(c, 400, NULL, "model '%s' is a %s model, not a %s model", m->name,
                          eos_analysis_task_name(m->task), eos_analysis_task_name(task));
    if (rq->len == 0)
        return send_error(c, 400, NULL, "empty body: POST the image as the request body");
    if (!admit(s))
        return send_error(c, 503, NULL, "server busy: %d requests running and %d waiting",
                          s->p.n_workers, s->p.queue_len);
    char msg[512] = "";
    svc_slot *slot = svc_model_borrow(m, msg, sizeof msg);
    enum MHD_Result ret;
    if (!slot) {
        ret = send_error(c, 500, NULL, "cannot open model '%s': %s", m->name, msg);
    } else {
        ret = analyze(s, c, slot, rq, (int)tta, (int)top_k);
        svc_model_return(m, slot);
    }
    release(s);
    return ret;
}

static const struct {
    const char *path;
    eos_analysis_task task;
} k_analysis_routes[] = {
    { "/v1/classify", EOS_ANALYSIS_CLASSIFY },
    { "/v1/tag", EOS_ANALYSIS_TAG },
    { "/v1/clouds", EOS_ANALYSIS_CLOUD },
};

static enum MHD_Result dispatch(eos_service *s, struct MHD_Connection *c, const char *url,
                                const char *method, const req *rq) {
    bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
    for (size_t i = 0; i < sizeof k_analysis_routes / sizeof k_analysis_routes[0]; i++) {
        if (strcmp(url, k_analysis_routes[i].path) != 0) continue;
        if (!post) return send_error(c, 405, "POST", "%s takes POST, not %s", url, method);
        return route_analysis(s, c, k_analysis_routes[i].task, rq);
    }
    bool health = strcmp(url, "/healthz") == 0, ready = strcmp(url, "/readyz") == 0;
    bool models = strcmp(url, "/v1/models") == 0;
    bool model = strncmp(url, "/v1/models/", 11) == 0 && url[11] && !strchr(url + 11, '/');
    if (!health && !ready && !models && !model)
        return send_error(c, 404, NULL, "no route %s %s", method, url);
    if (!get) return send_error(c, 405, "GET", "%s takes GET, not %s", url, method);
    if (health) return send_json(c, 200, json_pack("{s:s}", "status", "ok"), NULL);
    if (ready) {
        if (s->reg.n == 0) return send_error(c, 503, NULL, "no model is loaded");
        return send_json(c, 200, json_pack("{s:s,s:i}", "status", "ready", "models", s->reg.n),
                         NULL);
    }
    return route_models(s, c, model ? url + 11 : NULL);
}

/* ------------------------------------------------------------------ libmicrohttpd callbacks */

/* Append a chunk, or mark the request too big (dropping what was buffered). */
static void body_append(eos_service *s, req *rq, const char *data, size_t n) {
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

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
    eos_service *s = cls;
    req *rq = *con_cls;
    if (!rq) {
        rq = eos_calloc(1, sizeof *rq);
        if (!rq) return MHD_NO;
        *con_cls = rq;
        pthread_mutex_lock(&s->mu);
        s->in_flight++;
        pthread_mutex_unlock(&s->mu);
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > s->p.max_body_bytes)
            return send_error(c, 413, NULL, "body of %s bytes is over the limit of %zu bytes",
                              cl, s->p.max_body_bytes);
        return MHD_YES;
    }
    if (*upload_data_size) {
        body_append(s, rq, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (rq->too_big)
        return send_error(c, 413, NULL, "body over the limit of %zu bytes", s->p.max_body_bytes);
    return dispatch(s, c, url, method, rq);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    eos_service *s = cls;
    req *rq = *con_cls;
    if (!rq) return;
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
    if (!p->n_workers) p->n_workers = 4;
    if (!p->queue_len) p->queue_len = 16;
    if (!p->max_connections) p->max_connections = 64;
    if (!p->engine_threads) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        p->engine_threads = cores > p->n_workers ? (int)(cores / p->n_workers) : 1;
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
                            MHD_OPTION_END);
    if (!s->d)
        return eos_err_set(err, EOS_IO, "cannot listen on %s port %d (in use or not allowed?)",
                           s->p.bind_addr, s->p.port);
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : s->p.port;
    return EOS_OK;
}

eos_status eos_service_create(eos_ctx *ctx, const eos_service_params *params,
                              eos_service **out) {
    eos__ctx_clear(ctx);
    eos_err err = { 0 };
    *out = NULL;
    eos_service_params p = params ? *params : eos_service_default_params();
    if (p.port < 0 || p.port > 65535 || p.n_workers < 0 || p.n_workers > 256 ||
        p.queue_len < 0 || p.max_connections < 0 || p.engine_threads < 0 || p.max_pixels < 0) {
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
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    eos_status st = svc_registry_load(&s->reg, p.models_dir, p.n_workers, p.engine_threads);
    if (st != EOS_OK) eos_err_set(&err, st, "cannot load the models");
    else st = start_daemon(s, &err);
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
    svc_registry_free(&s->reg);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    eos_free(s);
}
