/*
 * src/service/metrics.h - the service's Prometheus metrics, rendered for GET /metrics in the
 * text exposition format 0.0.4 (content type SVC_METRICS_CONTENT_TYPE):
 *
 *   eosight_http_requests_total{route,method,code}        counter
 *   eosight_http_request_duration_seconds{route}          histogram, buckets 0.005 .. 10 s
 *   eosight_queue_depth, eosight_requests_in_flight,
 *   eosight_models_loaded                                 gauges
 *   eosight_batch_size{model}                             histogram, buckets 1 2 4 8 16 32 64
 *   eosight_images_analyzed_total{model,task}             counter
 *   process_resident_memory_bytes, process_virtual_memory_bytes, process_cpu_seconds_total,
 *   process_start_time_seconds                            (Linux /proc; left out elsewhere)
 *
 * Cardinality is bounded by construction: label values come from fixed sets. route is one of
 * the route patterns given at creation ("/v1/scenes/{id}", never a raw URL) or "other";
 * method one of GET HEAD POST PUT DELETE OPTIONS PATCH or "other"; code one of 200 201 202
 * 204 206 301 302 304 307 308 400 401 403 404 405 406 408 409 411 413 414 415 416 422 429 431
 * 500 501 502 503 504 or "other"; model one of the names given at creation or "other";
 * task one of classify tag cloud segment or "other". Recording calls take indices into the
 * arrays given at creation (-1 or out of range: "other"), so the hot path does no string
 * work for routes and models.
 *
 * Series that were never recorded are not rendered (a family with none shows its # HELP and
 * # TYPE lines only); gauges are always rendered. Histogram buckets are cumulative with le
 * upper bounds inclusive, ending with le="+Inf", then _sum and _count. Label values are
 * escaped (\\, \", \n); numbers are written in the shortest form that reads back exactly.
 *
 * Thread safety: every recording function and svc_metrics_render may be called from any
 * number of threads at once: counters and gauges are C11 atomics, the histograms share one
 * mutex (so a render sees each histogram's buckets, _sum and _count consistent).
 * _create and _free must not race with other calls.
 */
#ifndef EOS_SERVICE_METRICS_H
#define EOS_SERVICE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "eosight/analysis.h"

#define SVC_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

typedef struct svc_metrics svc_metrics;

typedef struct svc_metrics_params {
    /* Route patterns, in the order of the route table: svc_metrics_request's route index i
     * gets label routes[i]. Duplicates share one series. May be NULL when n_routes is 0. */
    const char *const *routes;
    int                n_routes;
    /* Model names (the registry's): model index i gets label models[i]. */
    const char *const *models;
    int                n_models;
} svc_metrics_params;

typedef enum svc_gauge {
    SVC_GAUGE_QUEUE_DEPTH = 0,   /* eosight_queue_depth: requests waiting for a worker */
    SVC_GAUGE_IN_FLIGHT,         /* eosight_requests_in_flight: requests being served */
    SVC_GAUGE_MODELS_LOADED,     /* eosight_models_loaded */
    SVC_GAUGE_COUNT_
} svc_gauge;

/* Make the metrics; the label strings are copied. Errors: EOS_INVALID_ARG (negative counts,
 * NULL arrays or strings, more than 1000 routes or 100 000 models), EOS_NOMEM. Free with
 * svc_metrics_free. */
eos_status svc_metrics_create(const svc_metrics_params *p, svc_metrics **out /* OUT */,
                              eos_err *err);
/* NULL is a no-op. */
void svc_metrics_free(svc_metrics *m);

/* The index of a route pattern / model name as given at creation (the first when repeated),
 * or -1. Linear in the number of labels. */
int svc_metrics_route_index(const svc_metrics *m, const char *pattern);
int svc_metrics_model_index(const svc_metrics *m, const char *name);

/* One answered request: counts eosight_http_requests_total{route,method,code} and observes
 * seconds (NaN or negative: counted as 0) in eosight_http_request_duration_seconds{route}.
 * method: the request method (NULL counts as "other"). */
void svc_metrics_request(svc_metrics *m, int route, const char *method, unsigned code,
                         double seconds);
/* One batch of n images run by model (eosight_batch_size{model}). */
void svc_metrics_batch(svc_metrics *m, int model, int n);
/* n images analysed by model for task (eosight_images_analyzed_total{model,task}); n <= 0
 * is ignored. */
void svc_metrics_images(svc_metrics *m, int model, eos_analysis_task task, int64_t n);
/* Set a gauge, or add delta (negative to decrease) to it. */
void svc_metrics_gauge_set(svc_metrics *m, svc_gauge g, int64_t value);
void svc_metrics_gauge_add(svc_metrics *m, svc_gauge g, int64_t delta);

/* Render everything as exposition text into *text (eos_malloc'd, NUL-terminated; the caller
 * frees it with eos_free) of *len bytes (len may be NULL). Errors: EOS_INVALID_ARG,
 * EOS_NOMEM. */
eos_status svc_metrics_render(svc_metrics *m, char **text /* OUT */, size_t *len /* OUT */,
                              eos_err *err);

#endif /* EOS_SERVICE_METRICS_H */
