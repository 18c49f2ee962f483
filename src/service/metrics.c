/*
 * src/service/metrics.c - Prometheus metrics of the service (see metrics.h).
 *
 * Every series lives in a dense array indexed by label numbers fixed at creation: requests by
 * [route][method][code], images by [model][task], histograms by [route] or [model] with one
 * slot per bucket (non-cumulative; the render sums them up). Counters and gauges are relaxed
 * C11 atomics, so recording a request is an index computation and an atomic add; histograms
 * take one mutex, which the render also holds while it writes them, so a scrape never sees a
 * _count that disagrees with its buckets. Route and model labels are deduplicated at creation
 * and "other" gets a label of its own.
 */
#include "service/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/strbuf.h"
#include "eosight/alloc.h"

#define MAX_ROUTES 1000
#define MAX_MODELS 4096

static const double k_dur_le[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
static const double k_batch_le[] = { 1, 2, 4, 8, 16, 32, 64 };
#define N_DUR   ((int)(sizeof k_dur_le / sizeof k_dur_le[0]))
#define N_BATCH ((int)(sizeof k_batch_le / sizeof k_batch_le[0]))

static const char *const k_methods[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS",
                                         "PATCH", "other" };
#define N_METHODS ((int)(sizeof k_methods / sizeof k_methods[0]))

static const unsigned k_codes[] = { 200, 201, 202, 204, 206, 301, 302, 304, 307, 308, 400,
                                    401, 403, 404, 405, 406, 408, 409, 411, 413, 414, 415,
                                    416, 422, 429, 431, 500, 501, 502, 503, 504 };
#define N_CODES ((int)(sizeof k_codes / sizeof k_codes[0]) + 1)   /* + "other" */

#define N_TASKS 5   /* classify tag cloud segment other */

/* Labels of one kind: unique values, "other" among them; map[i]: label of input i. */
typedef struct label_set {
    char **v;
    int    n, other;
    int   *map;
    int    n_in;
} label_set;

/* A family of histograms, one per label, sharing bucket bounds. */
typedef struct hist_set {
    const double *le;
    int           n_le;
    uint64_t     *b;       /* [label][n_le + 1]: the last slot is above every bound */
    uint64_t     *count;
    double       *sum;
} hist_set;

struct svc_metrics {
    label_set             routes, models;
    atomic_uint_fast64_t *req;      /* [route][method][code] */
    atomic_uint_fast64_t *images;   /* [model][task] */
    atomic_int_fast64_t   gauge[SVC_GAUGE_COUNT_];
    pthread_mutex_t       mu;       /* the histograms */
    hist_set              dur, batch;
    double                start_time;
};

/* ------------------------------------------------------------------ creation */

static int label_find(const label_set *ls, const char *s) {
    for (int i = 0; i < ls->n; i++)
        if (strcmp(ls->v[i], s) == 0) return i;
    return -1;
}

/* Add s unless present; its index, or -1 on OOM. */
static int label_add(label_set *ls, const char *s) {
    int i = label_find(ls, s);
    if (i >= 0) return i;
    ls->v[ls->n] = eos_strdup(s);
    return ls->v[ls->n] ? ls->n++ : -1;
}

static eos_status labels_make(label_set *ls, const char *const *in, int n_in, eos_err *err) {
    ls->v = eos_calloc((size_t)n_in + 1, sizeof *ls->v);
    ls->map = eos_calloc((size_t)n_in + 1, sizeof *ls->map);
    if (!ls->v || !ls->map) return eos_err_set(err, EOS_NOMEM, "out of memory for metrics");
    ls->n_in = n_in;
    for (int i = 0; i < n_in; i++)
        if ((ls->map[i] = label_add(ls, in[i])) < 0)
            return eos_err_set(err, EOS_NOMEM, "out of memory for metrics");
    if ((ls->other = label_add(ls, "other")) < 0)
        return eos_err_set(err, EOS_NOMEM, "out of memory for metrics");
    return EOS_OK;
}

static void labels_free(label_set *ls) {
    for (int i = 0; ls->v && i < ls->n; i++) eos_free(ls->v[i]);
    eos_free(ls->v);
    eos_free(ls->map);
}

static eos_status hist_make(hist_set *h, const double *le, int n_le, int n_labels,
                            eos_err *err) {
    h->le = le;
    h->n_le = n_le;
    h->b = eos_calloc((size_t)n_labels * (size_t)(n_le + 1), sizeof *h->b);
    h->count = eos_calloc((size_t)n_labels, sizeof *h->count);
    h->sum = eos_calloc((size_t)n_labels, sizeof *h->sum);
    if (!h->b || !h->count || !h->sum)
        return eos_err_set(err, EOS_NOMEM, "out of memory for metrics");
    return EOS_OK;
}

static void hist_free(hist_set *h) {
    eos_free(h->b);
    eos_free(h->count);
    eos_free(h->sum);
}

static atomic_uint_fast64_t *counters_make(size_t n) {
    atomic_uint_fast64_t *c = eos_malloc(n * sizeof *c);
    for (size_t i = 0; c && i < n; i++) atomic_init(&c[i], 0);
    return c;
}

/* The process start as Unix time: boot time (/proc/stat btime) + start ticks
 * (/proc/self/stat field 22); the creation time when /proc cannot tell. */
static double process_start_time(void) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    double fallback = (double)now.tv_sec + 1e-9 * (double)now.tv_nsec;
    char buf[1024];
    FILE *f = fopen("/proc/self/stat", "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    unsigned long long ticks = 0;
    for (int field = 2; p && field < 22; field++) p = strchr(p + 1, ' ');   /* p: before 22 */
    if (!p || sscanf(p, " %llu", &ticks) != 1) return fallback;
    long long btime = -1;
    f = fopen("/proc/stat", "r");
    char line[256];
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "btime %lld", &btime) == 1) break;
    if (f) fclose(f);
    long hz = sysconf(_SC_CLK_TCK);
    if (btime < 0 || hz <= 0) return fallback;
    return (double)btime + (double)ticks / (double)hz;
}

static eos_status metrics_init(svc_metrics *m, const svc_metrics_params *p, eos_err *err) {
    EOS_TRY(labels_make(&m->routes, p->routes, p->n_routes, err));
    EOS_TRY(labels_make(&m->models, p->models, p->n_models, err));
    m->req = counters_make((size_t)m->routes.n * N_METHODS * N_CODES);
    m->images = counters_make((size_t)m->models.n * N_TASKS);
    if (!m->req || !m->images) return eos_err_set(err, EOS_NOMEM, "out of memory for metrics");
    EOS_TRY(hist_make(&m->dur, k_dur_le, N_DUR, m->routes.n, err));
    EOS_TRY(hist_make(&m->batch, k_batch_le, N_BATCH, m->models.n, err));
    for (int g = 0; g < SVC_GAUGE_COUNT_; g++) atomic_init(&m->gauge[g], 0);
    m->start_time = process_start_time();
    return EOS_OK;
}

static bool strings_ok(const char *const *v, int n) {
    if (n > 0 && !v) return false;
    for (int i = 0; i < n; i++)
        if (!v[i]) return false;
    return true;
}

eos_status svc_metrics_create(const svc_metrics_params *p, svc_metrics **out, eos_err *err) {
    if (!p || !out || p->n_routes < 0 || p->n_models < 0 || p->n_routes > MAX_ROUTES ||
        p->n_models > MAX_MODELS || !strings_ok(p->routes, p->n_routes) ||
        !strings_ok(p->models, p->n_models))
        return eos_err_set(err, EOS_INVALID_ARG, "metrics: bad routes or models (at most %d "
                           "routes and %d models)", MAX_ROUTES, MAX_MODELS);
    *out = NULL;
    svc_metrics *m = eos_calloc(1, sizeof *m);
    if (!m) return eos_err_set(err, EOS_NOMEM, "out of memory for metrics");
    if (pthread_mutex_init(&m->mu, NULL) != 0) {
        eos_free(m);
        return eos_err_set(err, EOS_NOMEM, "cannot make the metrics mutex");
    }
    eos_status st = metrics_init(m, p, err);
    if (st != EOS_OK) {
        svc_metrics_free(m);
        return st;
    }
    *out = m;
    return EOS_OK;
}

void svc_metrics_free(svc_metrics *m) {
    if (!m) return;
    labels_free(&m->routes);
    labels_free(&m->models);
    eos_free(m->req);
    eos_free(m->images);
    hist_free(&m->dur);
    hist_free(&m->batch);
    pthread_mutex_destroy(&m->mu);
    eos_free(m);
}

/* ------------------------------------------------------------------ recording */

static int label_of(const label_set *ls, int i) {
    return (i >= 0 && i < ls->n_in) ? ls->map[i] : ls->other;
}

int svc_metrics_route_index(const svc_metrics *m, const char *pattern) {
    if (!m || !pattern) return -1;
    int l = label_find(&m->routes, pattern);
    for (int i = 0; l >= 0 && i < m->routes.n_in; i++)
        if (m->routes.map[i] == l) return i;
    return -1;
}

int svc_metrics_model_index(const svc_metrics *m, const char *name) {
    if (!m || !name) return -1;
    int l = label_find(&m->models, name);
    for (int i = 0; l >= 0 && i < m->models.n_in; i++)
        if (m->models.map[i] == l) return i;
    return -1;
}

static int method_of(const char *method) {
    for (int i = 0; method && i < N_METHODS - 1; i++)
        if (strcmp(method, k_methods[i]) == 0) return i;
    return N_METHODS - 1;
}

static int code_of(unsigned code) {
    for (int i = 0; i < N_CODES - 1; i++)
        if (k_codes[i] == code) return i;
    return N_CODES - 1;
}

/* Observe v in histogram l of h (under m->mu). */
static void hist_observe(svc_metrics *m, hist_set *h, int l, double v) {
    int k = 0;
    while (k < h->n_le && !(v <= h->le[k])) k++;
    pthread_mutex_lock(&m->mu);
    h->b[(size_t)l * (size_t)(h->n_le + 1) + (size_t)k]++;
    h->count[l]++;
    h->sum[l] += v;
    pthread_mutex_unlock(&m->mu);
}

void svc_metrics_request(svc_metrics *m, int route, const char *method, unsigned code,
                         double seconds) {
    if (!m) return;
    int r = label_of(&m->routes, route);
    size_t i = ((size_t)r * N_METHODS + (size_t)method_of(method)) * N_CODES +
               (size_t)code_of(code);
    atomic_fetch_add_explicit(&m->req[i], 1, memory_order_relaxed);
    hist_observe(m, &m->dur, r, (seconds > 0) ? seconds : 0);
}

void svc_metrics_batch(svc_metrics *m, int model, int n) {
    if (!m) return;
    hist_observe(m, &m->batch, label_of(&m->models, model), n);
}

void svc_metrics_images(svc_metrics *m, int model, eos_analysis_task task, int64_t n) {
    if (!m || n <= 0) return;
    int t = ((int)task >= 0 && (int)task < N_TASKS - 1) ? (int)task : N_TASKS - 1;
    size_t i = (size_t)label_of(&m->models, model) * N_TASKS + (size_t)t;
    atomic_fetch_add_explicit(&m->images[i], (uint_fast64_t)n, memory_order_relaxed);
}

void svc_metrics_gauge_set(svc_metrics *m, svc_gauge g, int64_t value) {
    if (m && (int)g >= 0 && g < SVC_GAUGE_COUNT_)
        atomic_store_explicit(&m->gauge[g], value, memory_order_relaxed);
}

void svc_metrics_gauge_add(svc_metrics *m, svc_gauge g, int64_t delta) {
    if (m && (int)g >= 0 && g < SVC_GAUGE_COUNT_)
        atomic_fetch_add_explicit(&m->gauge[g], delta, memory_order_relaxed);
}

/* ------------------------------------------------------------------ rendering */

/* v in the shortest of %.15g / %.17g that reads back exactly; +Inf, -Inf, NaN. */
static void put_num(eos_strbuf *b, double v) {
    if (isnan(v)) {
        eos_strbuf_puts(b, "NaN");
        return;
    }
    if (isinf(v)) {
        eos_strbuf_puts(b, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    char s[40];
    snprintf(s, sizeof s, "%.15g", v);
    if (strtod(s, NULL) != v) snprintf(s, sizeof s, "%.17g", v);
    eos_strbuf_puts(b, s);
}

/* A label value between quotes with \, " and newline escaped. */
static void put_label(eos_strbuf *b, const char *s) {
    eos_strbuf_put(b, "\"", 1);
    for (const char *p = s; *p; p++) {
        if (*p == '\\') eos_strbuf_put(b, "\\\\", 2);
        else if (*p == '"') eos_strbuf_put(b, "\\\"", 2);
        else if (*p == '\n') eos_strbuf_put(b, "\\n", 2);
        else eos_strbuf_put(b, p, 1);
    }
    eos_strbuf_put(b, "\"", 1);
}

static void put_family(eos_strbuf *b, const char *name, const char *type, const char *help) {
    eos_strbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void render_requests(svc_metrics *m, eos_strbuf *b) {
    static const char name[] = "eosight_http_requests_total";
    put_family(b, name, "counter", "HTTP requests answered, by route pattern, method and "
               "status code.");
    for (int r = 0; r < m->routes.n; r++)
        for (int k = 0; k < N_METHODS; k++)
            for (int c = 0; c < N_CODES; c++) {
                size_t i = ((size_t)r * N_METHODS + (size_t)k) * N_CODES + (size_t)c;
                uint64_t v = atomic_load_explicit(&m->req[i], memory_order_relaxed);
                if (v == 0) continue;
                eos_strbuf_printf(b, "%s{route=", name);
                put_label(b, m->routes.v[r]);
                eos_strbuf_printf(b, ",method=\"%s\",code=", k_methods[k]);
                if (c < N_CODES - 1) eos_strbuf_printf(b, "\"%u\"", k_codes[c]);
                else eos_strbuf_puts(b, "\"other\"");
                eos_strbuf_printf(b, "} %llu\n", (unsigned long long)v);
            }
}

/* One family of histograms: the series of every label with at least one observation. */
static void render_hist(svc_metrics *m, eos_strbuf *b, const hist_set *h, const label_set *ls,
                        const char *name, const char *label, const char *help) {
    put_family(b, name, "histogram", help);
    pthread_mutex_lock(&m->mu);
    for (int l = 0; l < ls->n; l++) {
        if (h->count[l] == 0) continue;
        const uint64_t *bk = h->b + (size_t)l * (size_t)(h->n_le + 1);
        uint64_t cum = 0;
        for (int k = 0; k <= h->n_le; k++) {
            cum += bk[k];
            eos_strbuf_printf(b, "%s_bucket{%s=", name, label);
            put_label(b, ls->v[l]);
            eos_strbuf_puts(b, ",le=\"");
            put_num(b, k < h->n_le ? h->le[k] : INFINITY);
            eos_strbuf_printf(b, "\"} %llu\n", (unsigned long long)cum);
        }
        eos_strbuf_printf(b, "%s_sum{%s=", name, label);
        put_label(b, ls->v[l]);
        eos_strbuf_puts(b, "} ");
        put_num(b, h->sum[l]);
        eos_strbuf_printf(b, "\n%s_count{%s=", name, label);
        put_label(b, ls->v[l]);
        eos_strbuf_printf(b, "} %llu\n", (unsigned long long)h->count[l]);
    }
    pthread_mutex_unlock(&m->mu);
}

static void render_gauges(svc_metrics *m, eos_strbuf *b) {
    static const struct { const char *name, *help; } g[SVC_GAUGE_COUNT_] = {
        { "eosight_queue_depth", "Analysis requests waiting for a worker." },
        { "eosight_requests_in_flight", "Requests being received, analysed or answered." },
        { "eosight_models_loaded", "Models loaded by the service." },
    };
    for (int i = 0; i < SVC_GAUGE_COUNT_; i++) {
        put_family(b, g[i].name, "gauge", g[i].help);
        eos_strbuf_printf(b, "%s %lld\n", g[i].name,
                          (long long)atomic_load_explicit(&m->gauge[i], memory_order_relaxed));
    }
}

static void render_images(svc_metrics *m, eos_strbuf *b) {
    static const char name[] = "eosight_images_analyzed_total";
    static const char *const tasks[N_TASKS] = { "classify", "tag", "cloud", "segment", "other" };
    put_family(b, name, "counter", "Images analysed, by model and task.");
    for (int l = 0; l < m->models.n; l++)
        for (int t = 0; t < N_TASKS; t++) {
            uint64_t v = atomic_load_explicit(&m->images[(size_t)l * N_TASKS + (size_t)t],
                                              memory_order_relaxed);
            if (v == 0) continue;
            eos_strbuf_printf(b, "%s{model=", name);
            put_label(b, m->models.v[l]);
            eos_strbuf_printf(b, ",task=\"%s\"} %llu\n", tasks[t], (unsigned long long)v);
        }
}

static void render_process(svc_metrics *m, eos_strbuf *b) {
    long pages = 0, resident = 0, page = sysconf(_SC_PAGESIZE);
    FILE *f = fopen("/proc/self/statm", "r");
    int got = f ? fscanf(f, "%ld %ld", &pages, &resident) : 0;
    if (f) fclose(f);
    if (got == 2 && page > 0) {
        put_family(b, "process_resident_memory_bytes", "gauge", "Resident memory size in "
                   "bytes.");
        eos_strbuf_printf(b, "process_resident_memory_bytes %lld\n", (long long)resident * page);
        put_family(b, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
        eos_strbuf_printf(b, "process_virtual_memory_bytes %lld\n", (long long)pages * page);
    }
    struct timespec t;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t) == 0) {
        put_family(b, "process_cpu_seconds_total", "counter", "Total user and system CPU time "
                   "spent in seconds.");
        eos_strbuf_puts(b, "process_cpu_seconds_total ");
        put_num(b, (double)t.tv_sec + 1e-6 * (double)(t.tv_nsec / 1000));   /* microseconds */
        eos_strbuf_puts(b, "\n");
    }
    put_family(b, "process_start_time_seconds", "gauge", "Start time of the process since "
               "unix epoch in seconds.");
    eos_strbuf_puts(b, "process_start_time_seconds ");
    put_num(b, m->start_time);
    eos_strbuf_puts(b, "\n");
}

eos_status svc_metrics_render(svc_metrics *m, char **text, size_t *len, eos_err *err) {
    if (!m || !text) return eos_err_set(err, EOS_INVALID_ARG, "svc_metrics_render: bad arguments");
    *text = NULL;
    if (len) *len = 0;
    eos_strbuf b = EOS_STRBUF_INIT;
    render_requests(m, &b);
    render_hist(m, &b, &m->dur, &m->routes, "eosight_http_request_duration_seconds", "route",
                "Time from a request's arrival to its answer, by route pattern.");
    render_gauges(m, &b);
    render_hist(m, &b, &m->batch, &m->models, "eosight_batch_size", "model",
                "Images per batch run by a model's micro-batcher.");
    render_images(m, &b);
    render_process(m, &b);
    size_t n = b.len;
    if (eos_strbuf_take(&b, text) != EOS_OK)
        return eos_err_set(err, EOS_NOMEM, "out of memory rendering metrics");
    if (len) *len = n;
    return EOS_OK;
}
