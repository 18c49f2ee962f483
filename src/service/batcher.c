/*
 * src/service/batcher.c - the dynamic micro-batcher of one model. Requests decode their images
 * and read the model inputs on their own threads (eos_analyze_prepare, or eos_analyze_image with
 * this batcher as its runner), then queue the inputs here and wait. One thread per model takes
 * the queued jobs, up to max_batch inputs of one TTA setting, runs them through its own
 * analyzer as one batch and wakes the requests. When fewer than max_batch inputs wait while
 * other requests of the model are still being prepared, it waits for them up to wait_us after
 * the first job arrived: under load the batches fill up, alone a request runs at once.
 * Memory stays bounded: the jobs are those of admitted requests (n_workers at most), and the
 * batch buffers grow to max_batch inputs (or one larger job).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "eosight/alloc.h"
#include "service/service_internal.h"

static bool grow(float **p, size_t *cap, size_t n) {
    if (n <= *cap) return true;
    float *q = eos_realloc(*p, n * sizeof *q);
    if (!q) return false;
    *p = q;
    *cap = n;
    return true;
}

/* Take the jobs of the next batch off the queue (under mu): the first job and those after it
 * with the same TTA while the batch stays within max_batch inputs. */
static svc_job *take_batch(svc_batcher *b, int *n_inputs) {
    svc_job *first = b->head, *rest = first->next, *keep = NULL;
    svc_job **tail = &first->next, **keep_tail = &keep;
    int n = first->n;
    first->next = NULL;
    while (rest) {
        svc_job *j = rest;
        rest = rest->next;
        j->next = NULL;
        if (j->tta == first->tta && n + j->n <= b->max_batch) {
            *tail = j;
            tail = &j->next;
            n += j->n;
        } else {
            *keep_tail = j;
            keep_tail = &j->next;
        }
    }
    b->head = keep;
    b->tail = NULL;
    for (svc_job *j = keep; j; j = j->next) b->tail = j;
    b->queued -= n;
    *n_inputs = n;
    return first;
}

/* Run a batch (outside mu) and fill its jobs' outputs and statuses. */
static void run_batch(svc_batcher *b, svc_job *jobs, int n) {
    const svc_model *m = b->m;
    eos_status st = EOS_OK;
    char msg[256] = "";
    if (!b->a) {   /* opened on the first batch, in this thread */
        if (eos_ctx_create(NULL, &b->ctx) != EOS_OK) {
            st = EOS_NOMEM;
            snprintf(msg, sizeof msg, "cannot create a context");
        } else {
            eos_analyzer_params ap = { b->threads };
            st = eos_analyzer_open_shared(b->ctx, m->slots[0].a, &ap, &b->a);
            if (st != EOS_OK) snprintf(msg, sizeof msg, "cannot open model '%s': %s", m->name,
                                       eos_ctx_errmsg(b->ctx));
        }
    }
    const eos_contract *c = b->a ? eos_analyzer_contract(b->a) : NULL;
    size_t per = c ? (size_t)c->n_bands * (size_t)c->in_h * (size_t)c->in_w : 0;
    size_t C = c ? (size_t)c->n_classes : 0;
    /* Batches run in sizes 1, 2, 4, ... max_batch (padded with zeros, their outputs dropped),
     * so the analyzer's session meets a handful of shapes and keeps a plan for each instead of
     * re-planning for every size. A job larger than max_batch runs at its own size. */
    int run_n = 1;
    while (run_n < n) run_n *= 2;
    if (run_n > b->max_batch) run_n = n > b->max_batch ? n : b->max_batch;
    if (st == EOS_OK && (!grow(&b->x, &b->x_cap, (size_t)run_n * per) ||
                         !grow(&b->probs, &b->p_cap, (size_t)run_n * C))) {
        st = EOS_NOMEM;
        snprintf(msg, sizeof msg, "out of memory for a batch of %d images", n);
    }
    float *ood = NULL;
    if (st == EOS_OK && !(ood = eos_malloc((size_t)run_n * sizeof *ood))) {
        st = EOS_NOMEM;
        snprintf(msg, sizeof msg, "out of memory for a batch of %d images", n);
    }
    if (st == EOS_OK) {
        size_t off = 0;
        for (svc_job *j = jobs; j; j = j->next) {
            memcpy(b->x + off * per, j->x, (size_t)j->n * per * sizeof(float));
            off += (size_t)j->n;
        }
        memset(b->x + off * per, 0, (size_t)(run_n - n) * per * sizeof(float));
        st = eos_analyze_batch(b->a, b->x, run_n, jobs->tta, b->probs, ood);
        if (st != EOS_OK) snprintf(msg, sizeof msg, "%s", eos_analyzer_errmsg(b->a));
    }
    size_t off = 0;
    for (svc_job *j = jobs; j; j = j->next) {
        j->st = st;
        snprintf(j->msg, sizeof j->msg, "%s", msg);
        if (st == EOS_OK) {
            memcpy(j->probs, b->probs + off * C, (size_t)j->n * C * sizeof(float));
            if (j->ood) memcpy(j->ood, ood + off, (size_t)j->n * sizeof(float));
        }
        off += (size_t)j->n;
    }
    eos_free(ood);
}

static void deadline_after(struct timespec *t, int us) {
    clock_gettime(CLOCK_MONOTONIC, t);
    t->tv_nsec += (long)us * 1000L;
    t->tv_sec += t->tv_nsec / 1000000000L;
    t->tv_nsec %= 1000000000L;
}

static void *batcher_main(void *arg) {
    svc_batcher *b = arg;
    pthread_mutex_lock(&b->mu);
    for (;;) {
        while (!b->head && !b->stop) pthread_cond_wait(&b->cv, &b->mu);
        if (!b->head) break;   /* stopping, nothing queued */
        struct timespec until;
        deadline_after(&until, b->wait_us);
        while (b->queued < b->max_batch && b->preparing > 0 && !b->stop)
            if (pthread_cond_timedwait(&b->cv, &b->mu, &until) == ETIMEDOUT) break;
        int n;
        svc_job *jobs = take_batch(b, &n);
        pthread_mutex_unlock(&b->mu);
        run_batch(b, jobs, n);
        pthread_mutex_lock(&b->mu);
        b->batches++;
        b->inputs += n;
        if (b->on_batch) b->on_batch(b->on_batch_cls, b->m, n);
        for (svc_job *j = jobs; j; j = j->next) j->done = true;
        pthread_cond_broadcast(&b->cv_done);
    }
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

eos_status svc_batcher_start(svc_batcher *b, svc_model *m, int max_batch, int wait_us,
                             int engine_threads) {
    memset(b, 0, sizeof *b);
    b->threads = engine_threads > 0 ? engine_threads : 1;
    b->m = m;
    b->max_batch = max_batch > 0 ? max_batch : 1;
    b->wait_us = wait_us;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, &ca);
    pthread_cond_init(&b->cv_done, NULL);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&b->thread, NULL, batcher_main, b) != 0) {
        pthread_mutex_destroy(&b->mu);
        pthread_cond_destroy(&b->cv);
        pthread_cond_destroy(&b->cv_done);
        return EOS_IO;
    }
    b->started = true;
    return EOS_OK;
}

void svc_batcher_stop(svc_batcher *b) {
    if (!b->started) return;
    pthread_mutex_lock(&b->mu);
    b->stop = true;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    pthread_join(b->thread, NULL);
    eos_analyzer_free(b->a);
    eos_ctx_free(b->ctx);
    eos_free(b->x);
    eos_free(b->probs);
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
    pthread_cond_destroy(&b->cv_done);
    b->started = false;
}

void svc_batcher_preparing(svc_batcher *b, int delta) {
    if (!b->started) return;
    pthread_mutex_lock(&b->mu);
    b->preparing += delta;
    if (delta < 0) pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

eos_status svc_batcher_run(void *batcher, const float *x, int n, int tta, float *probs,
                           float *ood, char *errmsg, size_t errmsg_size) {
    svc_batcher *b = batcher;
    svc_job job = { .x = x, .n = n, .tta = tta, .probs = probs, .ood = ood };
    pthread_mutex_lock(&b->mu);
    if (b->stop) {
        pthread_mutex_unlock(&b->mu);
        snprintf(errmsg, errmsg_size, "the service is stopping");
        return EOS_INVALID_ARG;
    }
    if (b->tail) b->tail->next = &job;
    else b->head = &job;
    b->tail = &job;
    b->queued += n;
    pthread_cond_broadcast(&b->cv);
    while (!job.done) pthread_cond_wait(&b->cv_done, &b->mu);
    pthread_mutex_unlock(&b->mu);
    if (job.st != EOS_OK) snprintf(errmsg, errmsg_size, "%s", job.msg);
    return job.st;
}
