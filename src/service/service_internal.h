/*
 * src/service/service_internal.h - what the files of the HTTP service share:
 *   - the model registry (models.c): models found at start-up, each with a pool of analyzers
 *     borrowed one request at a time and a micro-batcher (batcher.c) that runs the windows of
 *     many requests through one analyzer together;
 *   - the service object and one request's state (service.c: daemon, admission, dispatch);
 *   - answering (http.c): JSON errors, bytes, the HTTP status table, query parameters, the
 *     route patterns;
 *   - the route handlers: analysis routes (routes_analysis.c: classify/tag/clouds/segment, the
 *     -at routes on catalog tiles) and catalog routes (routes_catalog.c: scenes, predictions,
 *     map tiles).
 */
#ifndef EOS_SERVICE_INTERNAL_H
#define EOS_SERVICE_INTERNAL_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "eosight/analysis.h"
#include "eosight/catalog.h"
#include "eosight/service.h"

/* ------------------------------------------------------------------ models and batching */

typedef struct svc_slot {
    eos_analyzer *a;
    eos_ctx      *ctx;       /* the slot's own context: error messages of its calls */
    bool          busy;
} svc_slot;

/* One request's part of a batch: n inputs, their outputs, and the outcome. */
typedef struct svc_job {
    const float    *x;
    int             n, tta;
    float          *probs, *ood;
    eos_status      st;
    char            msg[256];
    bool            done;
    struct svc_job *next;
} svc_job;

typedef struct svc_model svc_model;

/* The micro-batcher of one model: a thread that takes queued jobs, up to max_batch inputs of
 * one TTA setting, waiting up to wait_us after the first for more while requests of the model
 * are still being prepared, runs them as one batch on its own analyzer and wakes the
 * requests. */
typedef struct svc_batcher {
    svc_model      *m;
    pthread_t       thread;
    bool            started, stop;
    pthread_mutex_t mu;
    pthread_cond_t  cv;           /* jobs queued, preparing changed, stop */
    pthread_cond_t  cv_done;      /* a batch finished */
    svc_job        *head, *tail;
    int             queued;       /* inputs queued */
    int             preparing;    /* requests of the model that will submit soon */
    int             max_batch, wait_us;
    int             threads;      /* engine threads of the batcher's analyzer */
    eos_analyzer   *a;
    eos_ctx        *ctx;
    char            open_msg[256];   /* why the analyzer did not open */
    float          *x, *probs, *ood;
    size_t          x_cap, p_cap;
    /* statistics (under mu) */
    int64_t         batches, inputs;
    void          (*on_batch)(void *cls, const svc_model *m, int n);
    void           *on_batch_cls;
} svc_batcher;

struct svc_model {
    char              name[128];
    char             *path;
    eos_analysis_task task;
    char             *contract_json;   /* eos_contract_json of the model */
    pthread_mutex_t   mu;
    pthread_cond_t    cv;
    int               threads;         /* engine threads of each pool analyzer (1 for batched
                                        * models: they only decode) */
    int               n_slots;         /* pool size; slots are opened on first need */
    svc_slot         *slots;
    svc_batcher       batcher;         /* classify/tag/cloud models */
};

typedef struct svc_registry {
    svc_model *models;   /* sorted by name */
    int        n;
} svc_registry;

/* Find every *.onnx of dir (or of the model search path when dir is NULL) that opens as an
 * eosight model; each gets a pool of pool_size analyzers of engine_threads threads. Files that
 * do not open are skipped. Errors: EOS_NOMEM. */
eos_status svc_registry_load(svc_registry *reg, const char *dir, int pool_size,
                             int engine_threads);
void svc_registry_free(svc_registry *reg);
svc_model *svc_registry_find(svc_registry *reg, const char *name);
/* The task's default model (eos_analysis_default_model) when loaded, else the first model (by
 * name) of the task, or NULL. */
svc_model *svc_registry_first(svc_registry *reg, eos_analysis_task task);

/* Borrow a free analyzer of m (opening one when the pool has room, waiting otherwise). NULL
 * when opening failed (message in msg). */
svc_slot *svc_model_borrow(svc_model *m, char *msg, size_t size);
void svc_model_return(svc_model *m, svc_slot *slot);

/* Start the batcher of m (its thread; the analyzer opens on the first batch, with
 * engine_threads threads). Errors: EOS_NOMEM / EOS_IO (thread). */
eos_status svc_batcher_start(svc_batcher *b, svc_model *m, int max_batch, int wait_us,
                             int engine_threads);
/* Stop the thread after the queued jobs ran, free everything. Safe on a never-started one. */
void svc_batcher_stop(svc_batcher *b);
/* A request of the model will submit soon (delta +1) or will not any more (-1): the batcher
 * waits for such requests, up to wait_us, before running a short batch. */
void svc_batcher_preparing(svc_batcher *b, int delta);
/* Queue n inputs and wait for their outputs: the eos_image_params.run runner (run_ctx is the
 * batcher). */
eos_status svc_batcher_run(void *batcher, const float *x, int n, int tta, float *probs,
                           float *ood, char *errmsg, size_t errmsg_size);

/* ------------------------------------------------------------------ the service */

struct eos_service {
    eos_service_params p;
    svc_registry       reg;
    eos_catalog       *cat;       /* NULL without a catalog */
    char              *results_dir;   /* where scene segmentations are kept (with a catalog) */
    struct svc_metrics *metrics;
    struct svc_access  *access;
    struct svc_tiler   *tiler;
    struct MHD_Daemon *d;
    int                port;
    pthread_mutex_t    mu;
    pthread_cond_t     cv;
    int                running, waiting;   /* analyses running / waiting for a worker */
    int                in_flight;          /* requests between first call and completion */
    bool               stopped;
    eos_ctx           *log;                /* the creator's context: log lines */
    struct svc_jobs   *jobs;               /* background jobs (jobs.c) */
    char               notes[512];         /* start-up warnings (eos_service_notes) */
};

/* One request: its body (limited to max_body_bytes), the matched route and its captures. */
typedef struct svc_req {
    char       *body;
    size_t      len, cap;
    bool        too_big;
    double      t0;             /* seconds (monotonic) at the first callback */
    int         route;          /* index into the route table, -1 none */
    unsigned    status;         /* status answered (for metrics) */
    char        method[16];
    char        path[160];      /* for the access log (cut) */
    char        caps[4][256];   /* path captures of the route pattern */
    /* multipart/form-data bodies: the image part and the text fields (http.c) */
    const char *image;          /* the image bytes: the body, or the form's "image" part */
    size_t      image_len;
    int         n_fields;
    char        field_name[16][64];
    char        field_val[16][256];
} svc_req;

/* ------------------------------------------------------------------ answering (http.c) */

typedef struct svc_route svc_route;

/* An answer kept instead of sent: the routes run by a background job (jobs.c) answer into
 * it (a svc_call without a connection). */
typedef struct svc_capture {
    unsigned status;
    char     content_type[64];
    char    *body;       /* eos_malloc, NUL-terminated */
    size_t   len;
} svc_capture;

typedef struct svc_call {
    eos_service            *s;
    struct MHD_Connection  *c;             /* NULL in a background job: answers go to cap */
    svc_req                *rq;
    const svc_route        *route;
    int                     retry_after;   /* Retry-After seconds of a 429 (0: 1) */
    svc_capture            *cap;
    /* a background job's progress (segmentation windows); false from it cancels */
    bool                  (*progress)(void *user, int64_t done, int64_t total);
    void                   *progress_user;
} svc_call;

/* Answer text / bytes with a content type; 503 and 429 get Retry-After: retry_after s. */
enum MHD_Result svc_send(svc_call *k, unsigned status, const char *content_type,
                         const void *data, size_t len);
/* Answer JSON text (copied). */
enum MHD_Result svc_send_text(svc_call *k, unsigned status, const char *json);
/* Answer {"error":{"code","message"}} with the status's code name. allow: the Allow header of a
 * 405 (or NULL). */
enum MHD_Result svc_send_error(svc_call *k, unsigned status, const char *allow,
                               const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The status a failed analysis call maps to. */
unsigned svc_status_http(eos_status st);
/* "bad_request", "not_found", ... for a status. */
const char *svc_http_code(unsigned status);
/* A request option (query parameter, or multipart form field when the body is a form) as a
 * string; NULL when absent. The form's fields live as long as the request. */
const char *svc_opt(svc_call *k, const char *key);
/* An integer option in [lo, hi]; def when absent; false when malformed or out of range. */
bool svc_opt_int(svc_call *k, const char *key, long lo, long hi, long def, long *out);
/* A double option in [lo, hi]. */
bool svc_opt_double(svc_call *k, const char *key, double lo, double hi, double def,
                    double *out);
/* The first path capture as a positive id ("scene", "job": named in the 400 message). */
bool svc_path_id(svc_call *k, const char *what, int64_t *id, enum MHD_Result *ret);
/* Seconds of a monotonic clock. */
double svc_now(void);

/* ------------------------------------------------------------------ routes */

typedef enum MHD_Result (*svc_handler)(svc_call *k);

struct svc_route {
    const char *method;     /* "GET" or "POST" */
    const char *pattern;    /* "/v1/scenes/{id}": {name} matches one non-empty path segment,
                             * "{y}.png" a segment ending in .png (captured without it) */
    svc_handler fn;
    int         arg;        /* the handler's argument (the task of analysis routes) */
    bool        analysis;   /* goes through admission (bounded work queue) */
    bool        query_key;  /* also takes the API key as ?api_key= (map tiles: the browser
                             * fetches them as images, which cannot send headers) */
};

/* The route table (service.c), n entries. */
const svc_route *svc_routes(int *n);
/* Match a path against a pattern; captures (at most 4, each < 256 bytes) into caps. */
bool svc_route_match(const char *pattern, const char *path, char caps[4][256]);

/* Admission to the bounded work queue: false when it is full (answer 503). */
bool svc_admit(eos_service *s);
void svc_release(eos_service *s);

/* routes_analysis.c */
enum MHD_Result svc_route_analyze(svc_call *k);        /* arg: task */
enum MHD_Result svc_route_analyze_at(svc_call *k);     /* arg: task */
enum MHD_Result svc_route_scene_segment(svc_call *k);

/* jobs.c: background jobs (POST /v1/scenes/{id}/segment?async=1, GET /v1/jobs/{id}) */
eos_status svc_jobs_create(eos_service *s);
/* Cancel the running jobs and wait for their threads; then free. */
void svc_jobs_free(eos_service *s);
/* Start the route k as a background job (its query options copied); answers 202 with the
 * job, or 503 when too many jobs are unfinished. */
enum MHD_Result svc_job_submit(svc_call *k);
enum MHD_Result svc_route_job(svc_call *k);

/* routes_catalog.c */
enum MHD_Result svc_route_scenes(svc_call *k);
enum MHD_Result svc_route_scene(svc_call *k);
enum MHD_Result svc_route_scene_predictions(svc_call *k);
enum MHD_Result svc_route_tile(svc_call *k);

#endif /* EOS_SERVICE_INTERNAL_H */
