/*
 * src/service/jobs.c - background jobs of the service: a long request (today POST
 * /v1/scenes/{id}/segment?async=1; a whole Sentinel-2 tile takes a minute or more) answers 202
 * at once with a job id, runs on its own thread, and GET /v1/jobs/{id} reports its state,
 * its progress (segmentation windows done / total) and, once finished, the answer the route
 * would have given (status and body).
 *
 * A job runs the route's own handler on a svc_call without a connection: the options of the
 * request are copied as form fields, the answer is captured (http.c) instead of sent. It
 * takes a worker like any analysis (svc_admit), so jobs and requests share the bounded work
 * queue. At most MAX_JOBS jobs are remembered; a new one replaces the oldest finished one, and
 * is refused with 503 when all are unfinished. Stopping the service cancels the running jobs
 * (their progress callback answers false) and waits for their threads.
 */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eosight/alloc.h"
#include "service/service_internal.h"

#define MAX_JOBS 64

typedef enum job_state { JOB_FREE = 0, JOB_QUEUED, JOB_RUNNING, JOB_DONE } job_state;

typedef struct job {
    int64_t         id;
    job_state       state;
    char            route[64];     /* the route pattern, for the report */
    int64_t         scene_id;      /* the {id} capture (checked by the route) */
    int64_t         done, total;   /* progress */
    double          t_submit, t_start, t_end;
    svc_capture     cap;           /* the answer, once done */
    svc_req         rq;            /* the options (fields) and captures */
    const svc_route *r;
    struct svc_jobs *jobs;
} job;

typedef struct svc_jobs {
    eos_service    *s;
    pthread_mutex_t mu;
    pthread_cond_t  cv;            /* a thread ended */
    job             slot[MAX_JOBS];
    int64_t         next_id;
    int             n_threads;     /* job threads alive */
    bool            stopping;
} svc_jobs;

eos_status svc_jobs_create(eos_service *s) {
    svc_jobs *j = eos_calloc(1, sizeof *j);
    if (!j) return EOS_NOMEM;
    j->s = s;
    j->next_id = 1;
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    s->jobs = j;
    return EOS_OK;
}

void svc_jobs_free(eos_service *s) {
    svc_jobs *j = s->jobs;
    if (!j) return;
    pthread_mutex_lock(&j->mu);
    j->stopping = true;   /* running jobs see it at their next progress report */
    while (j->n_threads > 0) pthread_cond_wait(&j->cv, &j->mu);
    pthread_mutex_unlock(&j->mu);
    for (int i = 0; i < MAX_JOBS; i++) eos_free(j->slot[i].cap.body);
    pthread_mutex_destroy(&j->mu);
    pthread_cond_destroy(&j->cv);
    eos_free(j);
    s->jobs = NULL;
}

/* The progress callback of a job's segmentation: record, and cancel when stopping. */
static bool job_progress(void *user, int64_t done, int64_t total) {
    job *jb = user;
    svc_jobs *j = jb->jobs;
    pthread_mutex_lock(&j->mu);
    jb->done = done;
    jb->total = total;
    bool go_on = !j->stopping;
    pthread_mutex_unlock(&j->mu);
    return go_on;
}

static void *job_main(void *arg) {
    job *jb = arg;
    svc_jobs *j = jb->jobs;
    eos_service *s = j->s;
    svc_capture cap = { 0 };
    svc_call k = { s, NULL, &jb->rq, jb->r, 0, &cap, job_progress, jb };
    bool admitted = svc_admit(s);
    pthread_mutex_lock(&j->mu);
    bool run = admitted && !j->stopping;
    if (run) {
        jb->state = JOB_RUNNING;
        jb->t_start = svc_now();
    }
    pthread_mutex_unlock(&j->mu);
    if (run) jb->r->fn(&k);
    else svc_send_error(&k, 503, NULL, "the job could not start: the server is busy or stopping");
    if (admitted) svc_release(s);
    pthread_mutex_lock(&j->mu);
    jb->cap = cap;
    jb->state = JOB_DONE;
    jb->t_end = svc_now();
    j->n_threads--;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

/* Copy the request's query arguments (but async) as the job's form fields. */
static enum MHD_Result copy_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value) {
    (void)kind;
    svc_req *rq = cls;
    if (!key || strcmp(key, "async") == 0) return MHD_YES;
    if (rq->n_fields == 16 || strlen(key) >= sizeof rq->field_name[0] ||
        (value && strlen(value) >= sizeof rq->field_val[0]))
        return MHD_YES;   /* the route's own checks saw the real request before */
    snprintf(rq->field_name[rq->n_fields], sizeof rq->field_name[0], "%s", key);
    snprintf(rq->field_val[rq->n_fields], sizeof rq->field_val[0], "%s", value ? value : "");
    rq->n_fields++;
    return MHD_YES;
}

/* A free slot: never used, else the oldest finished job. Under mu. */
static job *take_slot(svc_jobs *j) {
    job *best = NULL;
    for (int i = 0; i < MAX_JOBS; i++) {
        job *c = &j->slot[i];
        if (c->state == JOB_FREE) return c;
        if (c->state == JOB_DONE && (!best || c->id < best->id)) best = c;
    }
    return best;
}

/* {"id","route","scene_id","status","progress":{"done","total","fraction"},"seconds",
 * "answer_status","result" | "error"}. Under mu. */
static char *job_json(const job *jb) {
    static const char *const names[] = { "free", "queued", "running", "done" };
    double now = svc_now();
    double secs = jb->state == JOB_DONE ? jb->t_end - jb->t_submit : now - jb->t_submit;
    bool ok = jb->state == JOB_DONE && jb->cap.status == 200;
    const char *state = jb->state == JOB_DONE ? (ok ? "done" : "failed") : names[jb->state];
    json_t *v = json_pack("{s:I,s:s,s:I,s:s,s:{s:I,s:I,s:f},s:f}", "id", (json_int_t)jb->id,
                          "route", jb->route, "scene_id", (json_int_t)jb->scene_id,
                          "status", state,
                          "progress", "done", (json_int_t)jb->done, "total",
                          (json_int_t)jb->total, "fraction",
                          jb->total > 0 ? (double)jb->done / (double)jb->total
                                        : (jb->state == JOB_DONE ? 1.0 : 0.0),
                          "seconds", secs);
    if (v && jb->state == JOB_DONE) {
        json_object_set_new(v, "answer_status", json_integer(jb->cap.status));
        json_t *body = jb->cap.body ? json_loads(jb->cap.body, 0, NULL) : NULL;
        if (ok) {
            json_object_set_new(v, "result", body ? body : json_null());
        } else {
            json_t *e = json_object_get(body, "error");
            json_object_set(v, "error", e ? e : json_null());
            json_decref(body);
        }
    }
    char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    return text;
}

enum MHD_Result svc_job_submit(svc_call *k) {
    svc_jobs *j = k->s->jobs;
    pthread_mutex_lock(&j->mu);
    job *jb = j->stopping ? NULL : take_slot(j);
    if (!jb) {
        pthread_mutex_unlock(&j->mu);
        return svc_send_error(k, 503, NULL, "%d background jobs are unfinished: try later",
                              MAX_JOBS);
    }
    eos_free(jb->cap.body);
    memset(jb, 0, sizeof *jb);
    jb->id = j->next_id++;
    jb->state = JOB_QUEUED;
    jb->jobs = j;
    jb->r = k->route;
    jb->t_submit = svc_now();
    snprintf(jb->route, sizeof jb->route, "%s", k->route->pattern);
    jb->scene_id = strtoll(k->rq->caps[0], NULL, 10);
    memcpy(jb->rq.caps, k->rq->caps, sizeof jb->rq.caps);
    jb->rq.route = k->rq->route;
    snprintf(jb->rq.method, sizeof jb->rq.method, "%s", k->rq->method);
    MHD_get_connection_values(k->c, MHD_GET_ARGUMENT_KIND, copy_arg, &jb->rq);
    for (int i = 0; i < k->rq->n_fields && jb->rq.n_fields < 16; i++) {   /* form fields */
        memcpy(jb->rq.field_name[jb->rq.n_fields], k->rq->field_name[i],
               sizeof k->rq->field_name[i]);
        memcpy(jb->rq.field_val[jb->rq.n_fields], k->rq->field_val[i],
               sizeof k->rq->field_val[i]);
        jb->rq.n_fields++;
    }
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_t th;
    bool started = pthread_create(&th, &at, job_main, jb) == 0;
    pthread_attr_destroy(&at);
    if (started) j->n_threads++;
    else jb->state = JOB_FREE;
    char *text = started ? job_json(jb) : NULL;
    pthread_mutex_unlock(&j->mu);
    if (!started) return svc_send_error(k, 503, NULL, "cannot start a background job");
    enum MHD_Result ret = text ? svc_send(k, 202, "application/json", text, strlen(text))
                               : svc_send_error(k, 500, NULL, "out of memory");
    free(text);   /* jansson's allocation */
    return ret;
}

enum MHD_Result svc_route_job(svc_call *k) {
    svc_jobs *j = k->s->jobs;
    int64_t id;
    enum MHD_Result ret;
    if (!svc_path_id(k, "job", &id, &ret)) return ret;
    pthread_mutex_lock(&j->mu);
    char *text = NULL;
    bool found = false;
    for (int i = 0; i < MAX_JOBS && !found; i++)
        if (j->slot[i].state != JOB_FREE && j->slot[i].id == id) {
            found = true;
            text = job_json(&j->slot[i]);
        }
    pthread_mutex_unlock(&j->mu);
    if (!found)
        return svc_send_error(k, 404, NULL, "no job %lld (the %d most recent jobs are kept)",
                              (long long)id, MAX_JOBS);
    ret = text ? svc_send_text(k, 200, text)
                               : svc_send_error(k, 500, NULL, "out of memory");
    free(text);   /* jansson's allocation */
    return ret;
}
