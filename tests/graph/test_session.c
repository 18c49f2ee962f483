/*
 * tests/graph/test_session.c - the public model/session API on a committed golden model:
 * sharing one model between sessions on several threads, re-planning on a new batch size,
 * error messages, and SQLite-style out-of-memory loops over loading, planning and running
 * (every injected failure must come back as a status, never a crash or a leak).
 */
#include <pthread.h>

#include "common/test.h"

static char g_model_path[512], g_input_path[512];

static bool have_model(void) {
    snprintf(g_model_path, sizeof g_model_path, "%s/models/resnet_block/model.onnx", test_data_dir());
    snprintf(g_input_path, sizeof g_input_path, "%s/models/resnet_block/input.npy", test_data_dir());
    FILE *f = fopen(g_model_path, "rb");
    if (f) fclose(f);
    return f != NULL;
}

typedef struct job {
    const eos_model *m;
    const eos_tensor *x;
    float *out;
    int64_t n_out;
    eos_status st;
    char msg[512];
} job;

static void *worker(void *arg) {
    job *j = arg;
    eos_session *s;
    eos_session_params sp = eos_session_default_params();
    sp.n_threads = 1;
    j->st = eos_session_create(j->m, &sp, &s);
    if (j->st) return NULL;
    for (int rep = 0; rep < 3 && !j->st; rep++) {
        j->st = eos_session_run(s, j->x, 1);
        if (j->st) {
            snprintf(j->msg, sizeof j->msg, "%s", eos_session_errmsg(s));
            break;
        }
        eos_tensor y;
        eos_session_output(s, 0, &y);
        j->n_out = eos_tensor_numel(&y);
        memcpy(j->out, y.data, sizeof(float) * (size_t)j->n_out);
    }
    eos_session_free(s);
    return NULL;
}

static void test_shared_model_threads(void) {
    if (!have_model()) TEST_SKIP("tests/data/models/resnet_block missing");
    eos_ctx *ctx;
    eos_model *m;
    ASSERT_OK(eos_ctx_create(NULL, &ctx));
    ASSERT_OK(eos_model_load(ctx, g_model_path, &m));
    eos_tensor x;
    char msg[256];
    ASSERT_OK(eos_npy_read(g_input_path, &x, msg, sizeof msg));
    enum { N = 4 };
    job jobs[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        jobs[i] = (job){ m, &x, eos_malloc(1 << 20), 0, EOS_OK, "" };
        pthread_create(&th[i], NULL, worker, &jobs[i]);
    }
    for (int i = 0; i < N; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < N; i++) {
        EXPECT_OK(jobs[i].st);
        if (jobs[i].st) fprintf(stderr, "  thread %d: %s\n", i, jobs[i].msg);
        EXPECT_EQ_INT(jobs[i].n_out, jobs[0].n_out);
        if (jobs[i].n_out == jobs[0].n_out && jobs[0].n_out > 0)
            EXPECT_TRUE(memcmp(jobs[i].out, jobs[0].out, sizeof(float) * (size_t)jobs[0].n_out) == 0);
    }
    for (int i = 0; i < N; i++) eos_free(jobs[i].out);
    eos_free(x.data);
    eos_model_free(m);
    eos_ctx_free(ctx);
}

static void test_replan_on_batch_change(void) {
    if (!have_model()) TEST_SKIP("tests/data/models/resnet_block missing");
    eos_ctx *ctx;
    eos_model *m;
    eos_session *s;
    ASSERT_OK(eos_ctx_create(NULL, &ctx));
    ASSERT_OK(eos_model_load(ctx, g_model_path, &m));
    ASSERT_OK(eos_session_create(m, NULL, &s));
    eos_tensor x;
    char msg[256];
    ASSERT_OK(eos_npy_read(g_input_path, &x, msg, sizeof msg));
    ASSERT_TRUE(x.dims[0] >= 2);
    ASSERT_OK(eos_session_run(s, &x, 1));
    eos_tensor y;
    ASSERT_OK(eos_session_output(s, 0, &y));
    int64_t per = eos_tensor_numel(&y) / y.dims[0];
    float *full = eos_malloc(sizeof(float) * (size_t)eos_tensor_numel(&y));
    memcpy(full, y.data, sizeof(float) * (size_t)eos_tensor_numel(&y));
    /* the second image alone */
    eos_tensor x1 = x;
    x1.dims[0] = 1;
    x1.data = (char *)x.data + eos_tensor_nbytes(&x) / (size_t)x.dims[0];
    ASSERT_OK(eos_session_run(s, &x1, 1));
    ASSERT_OK(eos_session_output(s, 0, &y));
    EXPECT_EQ_INT(y.dims[0], 1);
    EXPECT_TRUE(test_max_rel_err(y.data, full + per, per) < 1e-5);
    /* wrong rank: a clear error, and the session stays usable */
    eos_tensor bad = x;
    bad.ndim = 3;
    EXPECT_STATUS(eos_session_run(s, &bad, 1), EOS_SHAPE);
    EXPECT_TRUE(strlen(eos_session_errmsg(s)) > 0);
    EXPECT_OK(eos_session_run(s, &x1, 1));
    eos_tensor two[2] = { x1, x1 };
    EXPECT_STATUS(eos_session_run(s, two, 2), EOS_INVALID_ARG);
    eos_free(full);
    eos_free(x.data);
    eos_session_free(s);
    eos_model_free(m);
    eos_ctx_free(ctx);
}

static void test_load_errors(void) {
    eos_ctx *ctx;
    eos_model *m;
    ASSERT_OK(eos_ctx_create(NULL, &ctx));
    EXPECT_STATUS(eos_model_load(ctx, "/nonexistent/model.onnx", &m), EOS_IO);
    EXPECT_TRUE(strstr(eos_ctx_errmsg(ctx), "/nonexistent/model.onnx") != NULL);
    EXPECT_TRUE(m == NULL);
    EXPECT_TRUE(eos_model_load_from_memory(ctx, "", 0, NULL, &m) != EOS_OK);
    eos_ctx_free(ctx);
    eos_model_free(NULL);
    eos_session_free(NULL);
    eos_ctx_free(NULL);
}

/* Fail the k-th allocation for k = 0, 1, 2 ... until a whole load + run succeeds. */
static void test_oom_loop(void) {
    if (!have_model()) TEST_SKIP("tests/data/models/resnet_block missing");
    FILE *f = fopen(g_model_path, "rb");
    ASSERT_TRUE(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = eos_malloc((size_t)size);
    ASSERT_TRUE(fread(buf, 1, (size_t)size, f) == (size_t)size);
    fclose(f);
    eos_tensor x;
    char msg[256];
    ASSERT_OK(eos_npy_read(g_input_path, &x, msg, sizeof msg));
    eos_ctx_params cp = eos_ctx_default_params();
    cp.backend = EOS_BACKEND_REF;
    cp.log_level = EOS_LOG_NONE;
    int k, n_fail = 0;
    for (k = 0; k < 100000; k++) {
        eos_alloc_stats before, after;
        eos_alloc_get_stats(&before);
        eos_alloc_fail_after(k);
        eos_ctx *ctx = NULL;
        eos_model *m = NULL;
        eos_session *s = NULL;
        eos_status st = eos_ctx_create(&cp, &ctx);
        if (!st) st = eos_model_load_from_memory(ctx, buf, (size_t)size, NULL, &m);
        if (!st) st = eos_session_create(m, NULL, &s);
        if (!st) st = eos_session_run(s, &x, 1);
        eos_alloc_fail_after(-1);
        eos_session_free(s);
        eos_model_free(m);
        eos_ctx_free(ctx);
        eos_alloc_get_stats(&after);
        EXPECT_EQ_INT(after.live_bytes, before.live_bytes);
        if (after.live_bytes != before.live_bytes) break;
        if (st == EOS_OK) break;
        EXPECT_STATUS(st, EOS_NOMEM);
        if (st != EOS_NOMEM) { fprintf(stderr, "  k=%d\n", k); break; }
        n_fail++;
    }
    printf("     %d injected failures handled before a full success\n", n_fail);
    EXPECT_TRUE(n_fail > 10);
    eos_free(x.data);
    eos_free(buf);
}

TEST_MAIN(TEST(test_shared_model_threads), TEST(test_replan_on_batch_change), TEST(test_load_errors),
          TEST(test_oom_loop))
