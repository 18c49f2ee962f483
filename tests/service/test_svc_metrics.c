/*
 * tests/service/test_svc_metrics.c - the service's Prometheus metrics (src/service/metrics.c;
 * named test_svc_ because tests/train/test_metrics.c holds the evaluation metrics' target):
 * known observations are recorded, the exposition text is rendered and parsed back, and every
 * value is compared with counts worked out by hand: cumulative buckets (inclusive upper
 * bounds), +Inf, _sum, _count, labels of unknown routes / methods / codes / models ("other"),
 * escaping of label values, the text's structure (# HELP / # TYPE before each family, no
 * duplicate series), and counts from several threads at once.
 */
#include <pthread.h>
#include <time.h>

#include "common/test.h"

#include "service/metrics.h"

/* ------------------------------------------------------------------ a small exposition parser */

#define MAX_SAMPLES 512

typedef struct expo {
    int  n;
    char key[MAX_SAMPLES][256];   /* name{labels} as written */
    char val[MAX_SAMPLES][64];
} expo;

static expo g_expo;

/* The family a sample name belongs to (histogram suffixes removed) into fam. */
static void family_of(const char *name, size_t n, char *fam, size_t size) {
    static const char *const suf[] = { "_bucket", "_sum", "_count" };
    snprintf(fam, size, "%.*s", (int)n, name);
    for (int i = 0; i < 3; i++) {
        size_t sl = strlen(suf[i]), fl = strlen(fam);
        if (fl > sl && strcmp(fam + fl - sl, suf[i]) == 0) {
            fam[fl - sl] = '\0';
            return;
        }
    }
}

/* Parse text into g_expo; false (with a test failure) when its structure is wrong. */
static bool expo_parse(const char *text) {
    g_expo.n = 0;
    char typed[64][128];
    int n_typed = 0;
    char last_help[128] = "";
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        if (!nl) { TEST_FAIL_("text does not end with a newline"); return false; }
        char line[512];
        snprintf(line, sizeof line, "%.*s", (int)(nl - p), p);
        p = nl + 1;
        if (strncmp(line, "# HELP ", 7) == 0) {
            sscanf(line + 7, "%127s", last_help);
            continue;
        }
        if (strncmp(line, "# TYPE ", 7) == 0) {
            char fam[128], type[32];
            if (sscanf(line + 7, "%127s %31s", fam, type) != 2 || strcmp(fam, last_help) != 0) {
                TEST_FAIL_("TYPE without its HELP: %s", line);
                return false;
            }
            if (n_typed < 64) snprintf(typed[n_typed++], 128, "%s", fam);
            continue;
        }
        char *sp = strrchr(line, ' ');
        if (!sp || g_expo.n == MAX_SAMPLES) { TEST_FAIL_("bad line: %s", line); return false; }
        *sp = '\0';
        size_t name_len = strcspn(line, "{");
        char fam[128];
        family_of(line, name_len, fam, sizeof fam);
        bool ok = false;
        for (int i = 0; i < n_typed; i++) ok |= strcmp(typed[i], fam) == 0;
        if (!ok) { TEST_FAIL_("sample before its # TYPE: %s", line); return false; }
        for (int i = 0; i < g_expo.n; i++)
            if (strcmp(g_expo.key[i], line) == 0) {
                TEST_FAIL_("duplicate %s", line);
                return false;
            }
        if (strlen(line) >= 256 || strlen(sp + 1) >= 64) {
            TEST_FAIL_("over-long line: %s", line);
            return false;
        }
        memcpy(g_expo.key[g_expo.n], line, strlen(line) + 1);
        memcpy(g_expo.val[g_expo.n], sp + 1, strlen(sp + 1) + 1);
        g_expo.n++;
    }
    return true;
}

/* The value text of a series, or NULL. */
static const char *expo_get(const char *key) {
    for (int i = 0; i < g_expo.n; i++)
        if (strcmp(g_expo.key[i], key) == 0) return g_expo.val[i];
    return NULL;
}

static int expo_count_prefix(const char *prefix) {
    int n = 0;
    for (int i = 0; i < g_expo.n; i++) n += strncmp(g_expo.key[i], prefix, strlen(prefix)) == 0;
    return n;
}

#define EXPECT_SAMPLE(key, want)                                                          \
    do {                                                                                  \
        const char *v_ = expo_get(key);                                                   \
        if (!v_ || strcmp(v_, (want)) != 0)                                               \
            TEST_FAIL_("%s = %s, want %s", (key), v_ ? v_ : "(absent)", (want));          \
    } while (0)

/* ------------------------------------------------------------------ tests */

static const char *const k_routes[] = { "/healthz", "/v1/classify", "/v1/scenes/{id}",
                                        "/v1/classify", "we\"ird\\ \n" };
static const char *const k_models[] = { "resnet18-eurosat", "cloudnet" };

static svc_metrics *make(void) {
    svc_metrics_params p = { k_routes, 5, k_models, 2 };
    svc_metrics *m = NULL;
    eos_err err = { 0 };
    if (svc_metrics_create(&p, &m, &err) != EOS_OK) TEST_FAIL_("create: %s", err.msg);
    return m;
}

static char *render(svc_metrics *m) {
    char *text = NULL;
    size_t len = 0;
    if (svc_metrics_render(m, &text, &len, NULL) != EOS_OK) return NULL;
    if (strlen(text) != len) TEST_FAIL_("render length %zu, text %zu", len, strlen(text));
    return text;
}

#define DUR "eosight_http_request_duration_seconds"
#define RT  "eosight_http_requests_total"

static void test_requests(void) {
    svc_metrics *m = make();
    ASSERT_TRUE(m);
    svc_metrics_request(m, 1, "POST", 200, 0.003);
    svc_metrics_request(m, 3, "POST", 200, 0.25);    /* the same pattern as 1; on a bound */
    svc_metrics_request(m, 1, "POST", 422, 12);      /* above every bound */
    svc_metrics_request(m, 1, "GET", 405, 0.005);    /* on the first bound */
    svc_metrics_request(m, -1, "BREW", 418, 0.1);    /* other, other, other */
    svc_metrics_request(m, 99, NULL, 200, 0.1);      /* other route, other method */
    svc_metrics_request(m, 2, "GET", 404, NAN);      /* counted as 0 s */
    svc_metrics_request(m, 4, "GET", 200, 1);
    char *text = render(m);
    ASSERT_TRUE(text);
    ASSERT_TRUE(expo_parse(text));
    EXPECT_SAMPLE(RT "{route=\"/v1/classify\",method=\"POST\",code=\"200\"}", "2");
    EXPECT_SAMPLE(RT "{route=\"/v1/classify\",method=\"POST\",code=\"422\"}", "1");
    EXPECT_SAMPLE(RT "{route=\"/v1/classify\",method=\"GET\",code=\"405\"}", "1");
    EXPECT_SAMPLE(RT "{route=\"other\",method=\"other\",code=\"other\"}", "1");
    EXPECT_SAMPLE(RT "{route=\"other\",method=\"other\",code=\"200\"}", "1");
    EXPECT_SAMPLE(RT "{route=\"/v1/scenes/{id}\",method=\"GET\",code=\"404\"}", "1");
    EXPECT_SAMPLE(RT "{route=\"we\\\"ird\\\\ \\n\",method=\"GET\",code=\"200\"}", "1");
    EXPECT_EQ_INT(expo_count_prefix(RT "{"), 7);

    /* /v1/classify: 0.003, 0.25, 12, 0.005 */
    static const char *const le[] = { "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
                                      "1", "2.5", "5", "10", "+Inf" };
    static const char *const cum[] = { "2", "2", "2", "2", "2", "3", "3", "3", "3", "3", "3",
                                       "4" };
    char key[256];
    for (int i = 0; i < 12; i++) {
        snprintf(key, sizeof key, DUR "_bucket{route=\"/v1/classify\",le=\"%s\"}", le[i]);
        EXPECT_SAMPLE(key, cum[i]);
    }
    EXPECT_SAMPLE(DUR "_count{route=\"/v1/classify\"}", "4");
    const char *sum = expo_get(DUR "_sum{route=\"/v1/classify\"}");
    ASSERT_TRUE(sum);
    double want = 0.003;
    want += 0.25;
    want += 12;
    want += 0.005;
    EXPECT_TRUE(strtod(sum, NULL) == want);   /* written so it reads back exactly */
    EXPECT_NEAR(strtod(sum, NULL), 12.258, 1e-12);
    /* other: 0.1 twice, on the 0.1 bound */
    EXPECT_SAMPLE(DUR "_bucket{route=\"other\",le=\"0.05\"}", "0");
    EXPECT_SAMPLE(DUR "_bucket{route=\"other\",le=\"0.1\"}", "2");
    EXPECT_SAMPLE(DUR "_sum{route=\"other\"}", "0.2");
    /* NaN counted as 0 s */
    EXPECT_SAMPLE(DUR "_bucket{route=\"/v1/scenes/{id}\",le=\"0.005\"}", "1");
    EXPECT_SAMPLE(DUR "_sum{route=\"/v1/scenes/{id}\"}", "0");
    /* 4 routes observed x (12 buckets + sum + count); /healthz never */
    EXPECT_EQ_INT(expo_count_prefix(DUR), 4 * 14);
    EXPECT_TRUE(expo_get(DUR "_count{route=\"/healthz\"}") == NULL);
    eos_free(text);
    svc_metrics_free(m);
}

static void test_models_and_gauges(void) {
    svc_metrics *m = make();
    ASSERT_TRUE(m);
    EXPECT_EQ_INT(svc_metrics_model_index(m, "cloudnet"), 1);
    EXPECT_EQ_INT(svc_metrics_model_index(m, "nope"), -1);
    EXPECT_EQ_INT(svc_metrics_route_index(m, "/v1/classify"), 1);
    EXPECT_EQ_INT(svc_metrics_route_index(m, "/v1/scenes/{id}"), 2);
    EXPECT_EQ_INT(svc_metrics_route_index(m, "/v1/scenes/42"), -1);
    svc_metrics_batch(m, 0, 5);
    svc_metrics_batch(m, 0, 5);
    svc_metrics_batch(m, 0, 64);
    svc_metrics_batch(m, 0, 65);
    svc_metrics_batch(m, 1, 1);
    svc_metrics_images(m, 0, EOS_ANALYSIS_CLASSIFY, 3);
    svc_metrics_images(m, 0, EOS_ANALYSIS_CLASSIFY, 2);
    svc_metrics_images(m, 1, EOS_ANALYSIS_CLOUD, 7);
    svc_metrics_images(m, 7, EOS_ANALYSIS_SEGMENT, 1);
    svc_metrics_images(m, 0, (eos_analysis_task)99, 4);
    svc_metrics_images(m, 1, EOS_ANALYSIS_TAG, 0);   /* ignored */
    svc_metrics_gauge_set(m, SVC_GAUGE_QUEUE_DEPTH, 5);
    svc_metrics_gauge_add(m, SVC_GAUGE_QUEUE_DEPTH, -2);
    for (int i = 0; i < 3; i++) svc_metrics_gauge_add(m, SVC_GAUGE_IN_FLIGHT, 1);
    svc_metrics_gauge_add(m, SVC_GAUGE_IN_FLIGHT, -1);
    svc_metrics_gauge_set(m, SVC_GAUGE_MODELS_LOADED, 2);
    char *text = render(m);
    ASSERT_TRUE(text);
    ASSERT_TRUE(expo_parse(text));
    static const char *const le[] = { "1", "2", "4", "8", "16", "32", "64", "+Inf" };
    static const char *const cum[] = { "0", "0", "0", "2", "2", "2", "3", "4" };
    char key[256];
    for (int i = 0; i < 8; i++) {
        snprintf(key, sizeof key, "eosight_batch_size_bucket{model=\"resnet18-eurosat\","
                 "le=\"%s\"}", le[i]);
        EXPECT_SAMPLE(key, cum[i]);
        snprintf(key, sizeof key, "eosight_batch_size_bucket{model=\"cloudnet\",le=\"%s\"}",
                 le[i]);
        EXPECT_SAMPLE(key, "1");
    }
    EXPECT_SAMPLE("eosight_batch_size_sum{model=\"resnet18-eurosat\"}", "139");
    EXPECT_SAMPLE("eosight_batch_size_count{model=\"resnet18-eurosat\"}", "4");
    EXPECT_SAMPLE("eosight_batch_size_sum{model=\"cloudnet\"}", "1");
    EXPECT_TRUE(expo_get("eosight_batch_size_count{model=\"other\"}") == NULL);
    EXPECT_SAMPLE("eosight_images_analyzed_total{model=\"resnet18-eurosat\",task=\"classify\"}",
                  "5");
    EXPECT_SAMPLE("eosight_images_analyzed_total{model=\"cloudnet\",task=\"cloud\"}", "7");
    EXPECT_SAMPLE("eosight_images_analyzed_total{model=\"other\",task=\"segment\"}", "1");
    EXPECT_SAMPLE("eosight_images_analyzed_total{model=\"resnet18-eurosat\",task=\"other\"}",
                  "4");
    EXPECT_EQ_INT(expo_count_prefix("eosight_images_analyzed_total"), 4);
    EXPECT_SAMPLE("eosight_queue_depth", "3");
    EXPECT_SAMPLE("eosight_requests_in_flight", "2");
    EXPECT_SAMPLE("eosight_models_loaded", "2");
    /* nothing recorded for requests: the family is announced, without series */
    EXPECT_TRUE(strstr(text, "# TYPE eosight_http_requests_total counter\n") != NULL);
    EXPECT_TRUE(strstr(text, "# TYPE eosight_http_request_duration_seconds histogram\n"));
    EXPECT_EQ_INT(expo_count_prefix(RT), 0);
    /* process metrics (Linux) */
    const char *rss = expo_get("process_resident_memory_bytes");
    ASSERT_TRUE(rss);
    EXPECT_TRUE(strtod(rss, NULL) > 1e5);
    const char *start = expo_get("process_start_time_seconds");
    ASSERT_TRUE(start);
    double now = (double)time(NULL);
    EXPECT_TRUE(strtod(start, NULL) <= now + 1 && strtod(start, NULL) > now - 3600);
    EXPECT_TRUE(expo_get("process_cpu_seconds_total") != NULL);
    eos_free(text);
    svc_metrics_free(m);
}

static void test_create_args(void) {
    svc_metrics *m = NULL;
    svc_metrics_params none = { 0 };
    ASSERT_OK(svc_metrics_create(&none, &m, NULL));
    svc_metrics_request(m, 0, "GET", 200, 0.5);   /* every route is "other" */
    char *text = render(m);
    ASSERT_TRUE(text);
    ASSERT_TRUE(expo_parse(text));
    EXPECT_SAMPLE(RT "{route=\"other\",method=\"GET\",code=\"200\"}", "1");
    EXPECT_SAMPLE(DUR "_bucket{route=\"other\",le=\"0.25\"}", "0");
    EXPECT_SAMPLE(DUR "_bucket{route=\"other\",le=\"0.5\"}", "1");
    eos_free(text);
    svc_metrics_free(m);
    svc_metrics_free(NULL);
    svc_metrics_params bad = { NULL, 2, NULL, 0 };
    EXPECT_STATUS(svc_metrics_create(&bad, &m, NULL), EOS_INVALID_ARG);
    const char *const with_null[] = { "/a", NULL };
    svc_metrics_params bad2 = { with_null, 2, NULL, 0 };
    EXPECT_STATUS(svc_metrics_create(&bad2, &m, NULL), EOS_INVALID_ARG);
    svc_metrics_params neg = { NULL, 0, NULL, -1 };
    EXPECT_STATUS(svc_metrics_create(&neg, &m, NULL), EOS_INVALID_ARG);
    /* the routes were copied: the caller's strings may go */
    char r0[16] = "/tmp-route";
    const char *const mine[] = { r0 };
    svc_metrics_params p = { mine, 1, NULL, 0 };
    ASSERT_OK(svc_metrics_create(&p, &m, NULL));
    memset(r0, 'x', sizeof r0 - 1);
    svc_metrics_request(m, 0, "GET", 200, 0);
    text = render(m);
    ASSERT_TRUE(text);
    EXPECT_TRUE(strstr(text, "route=\"/tmp-route\"") != NULL);
    eos_free(text);
    svc_metrics_free(m);
}

typedef struct worker { svc_metrics *m; int id; } worker;

static void *worker_run(void *arg) {
    worker *w = arg;
    for (int i = 0; i < 5000; i++) {
        svc_metrics_request(w->m, 1, "POST", 200, 0.02);
        svc_metrics_batch(w->m, w->id % 2, 8);
        svc_metrics_gauge_add(w->m, SVC_GAUGE_IN_FLIGHT, 1);
        svc_metrics_gauge_add(w->m, SVC_GAUGE_IN_FLIGHT, -1);
        if (i % 1000 == 0) {   /* scrapes while counting */
            char *t = NULL;
            if (svc_metrics_render(w->m, &t, NULL, NULL) == EOS_OK) eos_free(t);
        }
    }
    return NULL;
}

static void test_threads(void) {
    svc_metrics *m = make();
    ASSERT_TRUE(m);
    pthread_t t[4];
    worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){ m, i };
        ASSERT_TRUE(pthread_create(&t[i], NULL, worker_run, &w[i]) == 0);
    }
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    char *text = render(m);
    ASSERT_TRUE(text);
    ASSERT_TRUE(expo_parse(text));
    EXPECT_SAMPLE(RT "{route=\"/v1/classify\",method=\"POST\",code=\"200\"}", "20000");
    EXPECT_SAMPLE(DUR "_count{route=\"/v1/classify\"}", "20000");
    EXPECT_SAMPLE(DUR "_bucket{route=\"/v1/classify\",le=\"0.01\"}", "0");
    EXPECT_SAMPLE(DUR "_bucket{route=\"/v1/classify\",le=\"0.025\"}", "20000");
    EXPECT_SAMPLE("eosight_batch_size_count{model=\"cloudnet\"}", "10000");
    EXPECT_SAMPLE("eosight_batch_size_sum{model=\"resnet18-eurosat\"}", "80000");
    EXPECT_SAMPLE("eosight_requests_in_flight", "0");
    eos_free(text);
    svc_metrics_free(m);
}

TEST_MAIN(TEST(test_requests), TEST(test_models_and_gauges), TEST(test_create_args),
          TEST(test_threads))
