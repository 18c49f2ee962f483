/*
 * eosight/service.h - the HTTP service behind `eosight serve`: a REST API over the analyses of
 * eosight/analysis.h, on libmicrohttpd, answering JSON (jansson).
 *
 * Routes (docs/service.md; GET /openapi.json is the OpenAPI 3.1 description, checked against
 * the route table by tests/service/test_service_api.c):
 *   GET  /healthz, /readyz, /metrics (Prometheus text), /openapi.json
 *   GET  /v1/models, /v1/models/{name}           the model contracts
 *   POST /v1/classify, /v1/tag, /v1/clouds, /v1/segment   the image as the raw body (any
 *        GDAL-readable format) or the "image" part of a multipart/form-data form; options in
 *        the query or the form (model, top_k, tta, window, overlap, outputs); segment answers
 *        JSON (class areas, GeoJSON polygons, optionally the mask as a PNG data URL) or the
 *        mask itself as PNG / GeoTIFF by the Accept header
 *   POST /v1/{classify,tag,clouds,segment}-at    {"lat","lon"}: the catalog tile under the point,
 *        the prediction recorded in the catalog
 *   GET  /v1/scenes, /v1/scenes/{id}, /v1/scenes/{id}/predictions; POST /v1/scenes/{id}/segment
 *   GET  /v1/tiles/{z}/{x}/{y}.png               XYZ map tiles of the catalog's rasters
 *   GET  / and /map (and /assets/...)            the web app (docs/web.md)
 * Errors are JSON {"error":{"code":"<name>","message":"..."}}: 400 bad parameters or form, 401
 * missing/unknown API key, 404 unknown model, route, scene or no scene at a point, 405 wrong
 * method (Allow), 413 body (checked while receiving: never more than max_body_bytes is
 * buffered) or pixel count over the limit, 415 undecodable image, 422 image refused by the
 * model contract (the reasons in the message), 429 over the rate limit and 503 queue full
 * (both with Retry-After). No endpoint fetches URLs; models are only those found at start-up.
 *
 * Threads: one thread per connection (at most max_connections); at most n_workers analyses
 * run at once and at most queue_len more wait for one; beyond that a request is answered 503 at
 * once. Each analysis decodes its image on an analyzer borrowed from its model's pool; the
 * model runs in the model's micro-batcher thread, several requests' images together. The
 * eos_service functions themselves are to be called from one thread.
 */
#ifndef EOSIGHT_SERVICE_H
#define EOSIGHT_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eosight/model.h"
#include "eosight/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eos_service eos_service;

typedef struct eos_service_params {
    const char *bind_addr;       /* IPv4 or IPv6 literal; NULL: "127.0.0.1" */
    int         port;            /* 0: any free port (read it with eos_service_port) */
    /* Where models are found: every *.onnx of models_dir; NULL: every *.onnx of the model
     * search path (eos_model_search_path), the first of a name winning. Files that are not
     * eosight models are skipped with a warning on the context's log. */
    const char *models_dir;
    size_t      max_body_bytes;  /* 0: 64 MiB */
    int64_t     max_pixels;      /* width x height of an uploaded image; 0: 100 megapixels */
    int         n_workers;       /* requests analysed at once (including those waiting for
                                  * their batch); 0: 32 */
    int         queue_len;       /* requests waiting for a worker; 0: 64 */
    int         max_connections; /* open connections; 0: 256 */
    int         engine_threads;  /* engine threads of each analyzer; 0: all cores */
    /* Micro-batching of classify/tag/clouds: up to batch_max images of several requests run
     * together; the batcher waits up to batch_wait_us after the first for more while other
     * requests of the model are being decoded. batch_max 1 turns batching off.
     * 0: 32 images, 2000 us. */
    int         batch_max;
    int         batch_wait_us;
    /* Scene catalog (eosight/catalog.h URI; created on first use); NULL: no catalog, and the
     * catalog routes answer 404. results_dir: where POST /v1/scenes/{id}/segment keeps masks;
     * NULL: "<catalog file>.results". */
    const char *catalog_uri;
    const char *results_dir;
    /* Access. api_key_file: one key per line (optionally followed by a client name); when
     * set, every /v1 route and /metrics need "Authorization: Bearer KEY" or "X-API-Key: KEY"
     * (401 otherwise). rate_per_s > 0: each client (key, or address without keys) may make
     * rate_per_s requests per second with bursts of rate_burst (0: 2 x rate), 429 beyond.
     * cors_origin: the Access-Control-Allow-Origin answered ("*" or an origin); NULL: no CORS
     * headers (browsers then refuse cross-origin calls). */
    const char *api_key_file;
    double      rate_per_s;
    double      rate_burst;
    const char *cors_origin;
    /* One line per answered request on stderr: time (UTC), client address, method, path,
     * status, milliseconds, bytes received. */
    bool        access_log;
} eos_service_params;

eos_service_params eos_service_default_params(void);

/* Load the models and start listening. params may be NULL (defaults). ctx is used for model
 * loading and log messages only and must outlive the service. Errors: EOS_INVALID_ARG (bad
 * parameters, an address that does not parse), EOS_IO (cannot listen on the address/port),
 * EOS_NOMEM; message in eos_ctx_errmsg(ctx). A service with no model starts (readyz says 503). */
eos_status eos_service_create(eos_ctx *ctx, const eos_service_params *params,
                              eos_service **out /* OUT */);
/* The port listened on (the one chosen by the system when params.port was 0). */
int eos_service_port(const eos_service *s);
/* Number of models loaded. */
int eos_service_n_models(const eos_service *s);
/* Warnings of the start-up for the operator (an API key file readable by others, ...), or "".
 * Owned by the service. */
const char *eos_service_notes(const eos_service *s);
/* Stop accepting connections, wait (up to 30 s) for requests in flight to be answered, stop.
 * Idempotent. */
void eos_service_stop(eos_service *s);
/* Stop (when running) and free everything. NULL is a no-op. */
void eos_service_free(eos_service *s);

#ifdef __cplusplus
}
#endif
#endif /* EOSIGHT_SERVICE_H */
