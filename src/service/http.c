/*
 * src/service/http.c - answering HTTP requests for the service: the status table (HTTP status
 * codes are named here and nowhere else), JSON errors {"error":{"code","message"}}, bytes with a
 * content type, request options (query parameters or multipart form fields) and the matching
 * of route patterns ("/v1/scenes/{id}/predictions", "/v1/tiles/{z}/{x}/{y}.png").
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eosight/alloc.h"
#include "service/service_internal.h"

static const struct { unsigned status; const char *code; } k_http[] = {
    { 200, "ok" },                 { 400, "bad_request" },        { 401, "unauthorized" },
    { 404, "not_found" },          { 405, "method_not_allowed" }, { 413, "payload_too_large" },
    { 415, "unsupported_media_type" }, { 422, "unprocessable_entity" },
    { 429, "too_many_requests" },  { 500, "internal_error" },     { 503, "overloaded" },
};

const char *svc_http_code(unsigned status) {
    for (size_t i = 0; i < sizeof k_http / sizeof k_http[0]; i++)
        if (k_http[i].status == status) return k_http[i].code;
    return "error";
}

unsigned svc_status_http(eos_status st) {
    switch (st) {
    case EOS_IO: case EOS_PARSE: case EOS_UNSUPPORTED: case EOS_TYPE: return 415;
    case EOS_SHAPE: case EOS_INVALID_ARG: return 422;
    case EOS_LIMIT: return 413;
    case EOS_NOT_FOUND: return 404;
    default: return 500;
    }
}

double svc_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Queue an answer: the bytes (copied), Content-Type, Retry-After of 429/503, Allow of a 405,
 * the CORS origin when configured; the status is kept for the metrics. */
static enum MHD_Result respond(svc_call *k, unsigned status, const char *content_type,
                               const void *data, size_t len, const char *allow) {
    if (!k->c) {   /* a background job: keep the answer */
        svc_capture *cap = k->cap;
        eos_free(cap->body);
        cap->body = eos_malloc(len + 1);
        if (cap->body) {
            memcpy(cap->body, data, len);
            cap->body[len] = '\0';
        }
        cap->status = cap->body ? status : 500;
        cap->len = cap->body ? len : 0;
        snprintf(cap->content_type, sizeof cap->content_type, "%s", content_type);
        return MHD_YES;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)data,
                                                             MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", content_type);
    if (status == 503 || status == 429) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", k->retry_after > 0 ? k->retry_after : 1);
        MHD_add_response_header(r, "Retry-After", ra);
    }
    if (allow) MHD_add_response_header(r, "Allow", allow);
    if (k->s->p.cors_origin) {
        MHD_add_response_header(r, "Access-Control-Allow-Origin", k->s->p.cors_origin);
        MHD_add_response_header(r, "Vary", "Origin");
    }
    enum MHD_Result ret = MHD_queue_response(k->c, status, r);
    MHD_destroy_response(r);
    if (k->rq) k->rq->status = status;
    return ret;
}

enum MHD_Result svc_send(svc_call *k, unsigned status, const char *content_type,
                         const void *data, size_t len) {
    return respond(k, status, content_type, data, len, NULL);
}

enum MHD_Result svc_send_text(svc_call *k, unsigned status, const char *json) {
    return respond(k, status, "application/json", json, strlen(json), NULL);
}

enum MHD_Result svc_send_error(svc_call *k, unsigned status, const char *allow,
                               const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *v = json_pack("{s:{s:s,s:s}}", "error", "code", svc_http_code(status), "message",
                          msg);
    char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    static const char oom[] = "{\"error\":{\"code\":\"internal_error\",\"message\":"
                              "\"out of memory\"}}";
    enum MHD_Result ret = text ? respond(k, status, "application/json", text, strlen(text), allow)
                               : respond(k, 500, "application/json", oom, strlen(oom), NULL);
    free(text);   /* jansson's allocation */
    return ret;
}

/* ------------------------------------------------------------------ options */

const char *svc_opt(svc_call *k, const char *key) {
    const char *v = k->c ? MHD_lookup_connection_value(k->c, MHD_GET_ARGUMENT_KIND, key) : NULL;
    if (v || !k->rq) return v;
    for (int i = 0; i < k->rq->n_fields; i++)
        if (strcmp(k->rq->field_name[i], key) == 0) return k->rq->field_val[i];
    return NULL;
}

bool svc_opt_int(svc_call *k, const char *key, long lo, long hi, long def, long *out) {
    const char *v = svc_opt(k, key);
    *out = def;
    if (!v) return true;
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi) return false;
    *out = x;
    return true;
}

bool svc_opt_double(svc_call *k, const char *key, double lo, double hi, double def,
                    double *out) {
    const char *v = svc_opt(k, key);
    *out = def;
    if (!v) return true;
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(x) || x < lo || x > hi) return false;
    *out = x;
    return true;
}

bool svc_path_id(svc_call *k, const char *what, int64_t *id, enum MHD_Result *ret) {
    const char *v = k->rq->caps[0];
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end || x < 1) {
        *ret = svc_send_error(k, 400, NULL, "%s id '%s' is not a positive integer", what, v);
        return false;
    }
    *id = x;
    return true;
}

/* ------------------------------------------------------------------ route patterns */

/* Length of the path segment at p (up to '/' or the end). */
static size_t seg_len(const char *p) {
    const char *e = strchr(p, '/');
    return e ? (size_t)(e - p) : strlen(p);
}

bool svc_route_match(const char *pattern, const char *path, char caps[4][256]) {
    int n_caps = 0;
    const char *p = pattern, *u = path;
    while (*p && *u) {
        if (*p != '/' || *u != '/') return false;
        p++;
        u++;
        size_t pl = seg_len(p), ul = seg_len(u);
        if (pl > 0 && p[0] == '{') {
            const char *close = memchr(p, '}', pl);
            if (!close) return false;
            size_t suffix = pl - (size_t)(close + 1 - p);   /* "{y}.png": ".png" */
            if (ul <= suffix || strncmp(u + ul - suffix, close + 1, suffix) != 0) return false;
            size_t cl = ul - suffix;
            if (n_caps == 4 || cl >= 256) return false;
            memcpy(caps[n_caps], u, cl);
            caps[n_caps][cl] = '\0';
            n_caps++;
        } else if (pl != ul || strncmp(p, u, pl) != 0) {
            return false;
        }
        p += pl;
        u += ul;
    }
    return *p == '\0' && *u == '\0';
}
