/*
 * tests/analysis/test_ood.c - out-of-distribution scores (include/eosight/ood.h): calibration
 * of tiny classifiers on synthetic datasets written with GDAL, checked against statistics
 * computed here by hand, and eos_ood_from_model against malformed metadata.
 *
 * The main fixture is "gap-gemm": x [N, 3, H, W] -> GlobalAveragePool -> Flatten -> Gemm ->
 * logits [N, 3]. Its penultimate features are the band means of the input, so for constant
 * images they are exactly the pixel values, and centroids, covariance, whitening and the
 * held-out quantile can be worked out independently in double precision (a 3 x 3 inverse).
 * A small ResNet-18 built by the trainer checks the graph rewrite on a real architecture:
 * logits bit-identical, features that reproduce the logits through the fc weights.
 */
#include "common/onnx_builder.h"
#include "common/test.h"
#include "eosight/ood.h"

#ifdef EOS_WITH_GDAL

#include <gdal.h>
#include <sys/stat.h>

#include "eosight/train.h"
#include "graph/graph.h"
#include "onnx/onnx.h"

/* ------------------------------------------------------------------ fixtures */

#define SZ 8    /* image side */

static const char *const k_classes[3] = { "a", "b", "c" };
static const double k_proto[3][3] = { { 4, 0, 0 }, { 0, 4, 0 }, { 0, 0, 4 } };
/* per-class offsets of the train (6) and val (4) images: multiples of 1/4, so the band means
 * of constant 8 x 8 images are exact */
static const double k_train_off[6][3] = {
    { 0.5, 0, 0.25 }, { -0.5, 0.25, 0 }, { 0, -0.5, 0.5 },
    { 0.25, 0.5, -0.5 }, { -0.25, -0.25, -0.25 }, { 0, 0, 0 }
};
static const double k_val_off[4][3] = {
    { 0.75, -0.5, 0 }, { -0.5, 0.75, 0.25 }, { 0, 0.25, -0.75 }, { 0.5, 0.5, 0.5 }
};

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static void mkdir2(const char *root, const char *rel) {
    char p[1024];
    if (snprintf(p, sizeof p, "%s/%s", root, rel) < (int)sizeof p) mkdir(p, 0777);
}

/* A constant Float32 GeoTIFF SZ x SZ, band b = v[b]. */
static bool write_const(const char *path, const double v[3]) {
    GDALAllRegister();
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path, SZ, SZ, 3, GDT_Float32, NULL);
    if (!ds) return false;
    float px[SZ * SZ];
    bool ok = true;
    for (int b = 0; b < 3; b++) {
        for (int i = 0; i < SZ * SZ; i++) px[i] = (float)v[b];
        ok = ok && GDALRasterIO(GDALGetRasterBand(ds, b + 1), GF_Write, 0, 0, SZ, SZ, px, SZ, SZ,
                                GDT_Float32, 0, 0) == CE_None;
    }
    GDALClose(ds);
    return ok;
}

/* The features (band means) of train item i (0..17) or val item i (0..11): class i / n. */
static void item_feature(bool val, int i, double f[3]) {
    int per = val ? 4 : 6, c = i / per, k = i % per;
    for (int d = 0; d < 3; d++) f[d] = k_proto[c][d] + (val ? k_val_off[k][d] : k_train_off[k][d]);
}

/* Classify dataset: images/<class>/<k>.tif, splits train (6 per class) and val (4). */
static bool make_classify(const char *root) {
    mkdir2(root, "images");
    mkdir2(root, "splits");
    char p[1024], line[64];
    snprintf(p, sizeof p, "%s/classes.txt", root);
    write_text(p, "a\nb\nc\n");
    char train[1024] = "", val[1024] = "";
    for (int c = 0; c < 3; c++) {
        snprintf(p, sizeof p, "images/%s", k_classes[c]);
        mkdir2(root, p);
        for (int k = 0; k < 10; k++) {
            double f[3];
            bool v = k >= 6;
            item_feature(v, c * (v ? 4 : 6) + (v ? k - 6 : k), f);
            snprintf(p, sizeof p, "%s/images/%s/%d.tif", root, k_classes[c], k);
            if (!write_const(p, f)) return false;
            snprintf(line, sizeof line, "%s/%d.tif %d\n", k_classes[c], k, c);
            strcat(v ? val : train, line);
        }
    }
    snprintf(p, sizeof p, "%s/splits/train.txt", root);
    write_text(p, train);
    snprintf(p, sizeof p, "%s/splits/val.txt", root);
    write_text(p, val);
    return true;
}

static const float k_fc_w[9] = { 2, 0, 0, 0, 2, 0, 0, 0, 2 };
static const float k_fc_b[3] = { 0.5f, -0.5f, 0.25f };

/* gap-gemm with metadata pairs (NULL-terminated); with_feat also declares the Flatten output
 * "feat" as a second graph output. */
static onnxb *gap_gemm(const char *task, bool with_feat, const char *const *meta) {
    onnxb *b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 4, (int64_t[]){ -1, 3, -1, -1 });
    onnxb_init_f32(b, "fc.weight", 2, (int64_t[]){ 3, 3 }, k_fc_w);
    onnxb_init_f32(b, "fc.bias", 1, (int64_t[]){ 3 }, k_fc_b);
    onnxb_node(b, "GlobalAveragePool", "gap", ONNXB_NAMES("x"), ONNXB_NAMES("g"));
    onnxb_node(b, "Flatten", "flat", ONNXB_NAMES("g"), ONNXB_NAMES("feat"));
    int n = onnxb_node(b, "Gemm", "fc", ONNXB_NAMES("feat", "fc.weight", "fc.bias"),
                       ONNXB_NAMES("logits"));
    onnxb_attr_int(b, n, "transB", 1);
    onnxb_output(b, "logits", EOS_DTYPE_F32, 2, (int64_t[]){ -1, 3 });
    if (with_feat) onnxb_output(b, "feat", EOS_DTYPE_F32, 2, (int64_t[]){ -1, 3 });
    onnxb_meta(b, "eosight.task", task);
    onnxb_meta(b, "eosight.classes", "a,b,c");
    onnxb_meta(b, "eosight.bands", "r,g,b");
    onnxb_meta(b, "eosight.input_size", "8,8");
    onnxb_meta(b, "eosight.custom", "kept");
    for (int i = 0; meta && meta[i]; i += 2) onnxb_meta(b, meta[i], meta[i + 1]);
    return b;
}

static bool save_model(onnxb *b, const char *path) {
    bool ok = b && onnxb_save(b, path) == EOS_OK;
    onnxb_free(b);
    return ok;
}

static eos_dataset *open_ds(eos_ctx *ctx, const char *root, eos_task task, const char *split) {
    eos_dataset_params p = { 0 };
    p.task = task;
    p.split = split;
    eos_dataset *ds = NULL;
    if (eos_dataset_open(ctx, root, &p, &ds) != EOS_OK)
        fprintf(stderr, "  dataset: %s\n", eos_ctx_errmsg(ctx));
    return ds;
}

/* ------------------------------------------------------------------ hand computation */

typedef struct hand {
    double cent[3][3];
    double inv[3][3];    /* (S + eps I)^-1 */
    double t;            /* 0.99 quantile of the val distances (their maximum for 12 items) */
} hand;

static void inverse3(const double a[3][3], double r[3][3]) {
    double det = a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) -
                 a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) +
                 a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            int i1 = (j + 1) % 3, i2 = (j + 2) % 3, j1 = (i + 1) % 3, j2 = (i + 2) % 3;
            r[i][j] = (a[i1][j1] * a[i2][j2] - a[i1][j2] * a[i2][j1]) / det;
        }
}

static double hand_dist(const hand *h, const double f[3]) {
    double best = INFINITY;
    for (int c = 0; c < 3; c++) {
        double r[3], s = 0;
        for (int d = 0; d < 3; d++) r[d] = f[d] - h->cent[c][d];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) s += r[i] * h->inv[i][j] * r[j];
        if (s < best) best = s;
    }
    return sqrt(best);
}

static void hand_fit(hand *h) {
    memset(h, 0, sizeof *h);
    double f[3], S[3][3] = { { 0 } };
    for (int i = 0; i < 18; i++) {
        item_feature(false, i, f);
        for (int d = 0; d < 3; d++) h->cent[i / 6][d] += f[d] / 6;
    }
    for (int i = 0; i < 18; i++) {
        item_feature(false, i, f);
        for (int a = 0; a < 3; a++)
            for (int b = 0; b < 3; b++)
                S[a][b] += (f[a] - h->cent[i / 6][a]) * (f[b] - h->cent[i / 6][b]) / 18;
    }
    double eps = 1e-3 * (S[0][0] + S[1][1] + S[2][2]) / 3;
    for (int d = 0; d < 3; d++) S[d][d] += eps;
    inverse3(S, h->inv);
    h->t = 0;
    for (int i = 0; i < 12; i++) {
        item_feature(true, i, f);
        double d = hand_dist(h, f);
        if (d > h->t) h->t = d;
    }
}

/* ------------------------------------------------------------------ running models */

#define N_PROBE 34   /* 18 train + 12 val + 4 far-off images */

/* The probe batch: every dataset image, then far-off ones (bright, dark, noise, grey). */
static float *probe_batch(void) {
    float *x = eos_malloc(sizeof(float) * N_PROBE * 3 * SZ * SZ);
    if (!x) return NULL;
    for (int n = 0; n < N_PROBE; n++) {
        double f[3] = { 40, 40, 40 };
        if (n < 30) item_feature(n >= 18, n < 18 ? n : n - 18, f);
        else if (n == 31) f[0] = f[1] = f[2] = -4;
        else if (n == 33) f[0] = f[1] = f[2] = 1.5;
        for (int b = 0; b < 3; b++)
            for (int i = 0; i < SZ * SZ; i++) x[((size_t)n * 3 + b) * SZ * SZ + i] = (float)f[b];
        if (n == 32) test_fill_uniform(x + (size_t)n * 3 * SZ * SZ, 3 * SZ * SZ, -8, 8, 7);
    }
    return x;
}

/* Run m on x ([n, 3, h, w]); copy output k into a new buffer (eos_free). */
static float *run_output(const eos_model *m, const float *x, int n, int h, int w, int k,
                         int64_t *numel) {
    eos_session_params sp = eos_session_default_params();
    sp.n_threads = 1;
    eos_session *s = NULL;
    float *out = NULL;
    eos_tensor in = { EOS_DTYPE_F32, 4, { n, 3, h, w }, (void *)x }, y;
    if (eos_session_create(m, &sp, &s) == EOS_OK && eos_session_run(s, &in, 1) == EOS_OK &&
        eos_session_output(s, k, &y) == EOS_OK) {
        *numel = eos_tensor_numel(&y);
        if ((out = eos_malloc((size_t)*numel * sizeof *out)))
            memcpy(out, y.data, (size_t)*numel * sizeof *out);
    } else {
        fprintf(stderr, "  run: %s\n", s ? eos_session_errmsg(s) : "no session");
    }
    eos_session_free(s);
    return out;
}

static eos_model *load(eos_ctx *ctx, const char *path) {
    eos_model *m = NULL;
    if (eos_model_load(ctx, path, &m) != EOS_OK)
        fprintf(stderr, "  load: %s\n", eos_ctx_errmsg(ctx));
    return m;
}

/* ------------------------------------------------------------------ classify */

typedef struct fixture {
    char       dir[256], in[300], out[300], ds_dir[300];
    eos_ctx   *ctx;
    eos_dataset *train, *val;
} fixture;

static bool fixture_open(fixture *fx, const char *tag, bool model) {
    memset(fx, 0, sizeof *fx);
    test_tmpdir_create(fx->dir, sizeof fx->dir, tag);
    snprintf(fx->in, sizeof fx->in, "%s/in.onnx", fx->dir);
    snprintf(fx->out, sizeof fx->out, "%s/out.onnx", fx->dir);
    snprintf(fx->ds_dir, sizeof fx->ds_dir, "%s/ds", fx->dir);
    mkdir(fx->ds_dir, 0777);
    if (eos_ctx_create(NULL, &fx->ctx) != EOS_OK || !make_classify(fx->ds_dir)) return false;
    if (model && !save_model(gap_gemm("classification", false, NULL), fx->in)) return false;
    fx->train = open_ds(fx->ctx, fx->ds_dir, EOS_TASK_CLASSIFY, "train");
    fx->val = open_ds(fx->ctx, fx->ds_dir, EOS_TASK_CLASSIFY, "val");
    return fx->train && fx->val;
}

static void fixture_close(fixture *fx) {
    eos_dataset_free(fx->train);
    eos_dataset_free(fx->val);
    eos_ctx_free(fx->ctx);
    test_tmpdir_remove(fx->dir);
}

static eos_ood_calib_params one_thread(void) {
    eos_ood_calib_params p = { 0 };
    p.n_threads = 1;
    p.batch = 5;   /* batches that straddle classes, a partial last one */
    return p;
}

/* Centroids and scale of the written model against the hand computation. */
static void check_stats(eos_ctx *ctx, const eos_model *m, const hand *h) {
    eos_ood *o = NULL;
    ASSERT_OK(eos_ood_from_model(ctx, m, &o));
    ASSERT_TRUE(o != NULL);
    EXPECT_EQ_INT(eos_ood_dim(o), 3);
    EXPECT_EQ_INT(eos_ood_n_centroids(o), 3);
    EXPECT_STR_EQ(eos_ood_method(o), "mahalanobis");
    EXPECT_STR_EQ(eos_ood_output_name(o), "features");
    EXPECT_EQ_INT(eos_ood_output_index(o, m), 1);
    EXPECT_NEAR(eos_ood_threshold(o), 1.0, 0);
    for (int c = 0; c < 3; c++)
        for (int d = 0; d < 3; d++) EXPECT_NEAR(eos_ood_centroid(o, c)[d], h->cent[c][d], 1e-6);
    EXPECT_TRUE(eos_ood_centroid(o, 3) == NULL && eos_ood_centroid(o, -1) == NULL);
    double scale = strtod(eos_model_meta(m, "eosight.ood.scale"), NULL);
    EXPECT_NEAR(scale * h->t, 1.0, 1e-5);
    /* scores of probes spread around the feature space */
    const double probes[4][3] = { { 4, 0, 0 }, { 1, 1, 1 }, { 3.5, 0.5, -0.25 }, { -2, 7, 3 } };
    for (int k = 0; k < 4; k++) {
        float f[3] = { (float)probes[k][0], (float)probes[k][1], (float)probes[k][2] };
        double want = hand_dist(h, probes[k]) / h->t, got = eos_ood_score(o, f);
        if (!(fabs(got - want) <= 1e-5 * want + 1e-9))
            TEST_FAIL_("probe %d: score %.9g, by hand %.9g", k, got, want);
    }
    float bad[3] = { 1, NAN, 0 };
    EXPECT_TRUE(isnan(eos_ood_score(o, bad)) && eos_ood_uncertain(o, eos_ood_score(o, bad)));
    EXPECT_EQ_INT(eos_ood_nearest(o, (const float[]){ 0.2f, 3.9f, 0.1f }), 1);
    EXPECT_TRUE(!eos_ood_uncertain(NULL, 5.0));
    eos_ood_free(o);
}

/* Logits bit-identical, features = band means, in-distribution scores <= 1, far-off > 1. */
static void check_runs(eos_ctx *ctx, const eos_model *before, const eos_model *after) {
    float *x = probe_batch();
    ASSERT_TRUE(x != NULL);
    eos_ood *o = NULL;
    int64_t n0 = 0, n1 = 0, nf = 0;
    float *l0 = run_output(before, x, N_PROBE, SZ, SZ, 0, &n0);
    float *l1 = run_output(after, x, N_PROBE, SZ, SZ, 0, &n1);
    float *feat = run_output(after, x, N_PROBE, SZ, SZ, 1, &nf);
    EXPECT_OK(eos_ood_from_model(ctx, after, &o));
    if (l0 && l1 && feat && o && n0 == n1 && nf == N_PROBE * 3) {
        EXPECT_TRUE(memcmp(l0, l1, (size_t)n0 * sizeof *l0) == 0);
        for (int n = 0; n < N_PROBE; n++) {
            for (int b = 0; b < 3; b++) {   /* the Gemm input, computed here */
                double mean = 0;
                for (int i = 0; i < SZ * SZ; i++) mean += x[((size_t)n * 3 + b) * SZ * SZ + i];
                mean /= SZ * SZ;
                EXPECT_NEAR(feat[n * 3 + b], mean, 1e-5);
            }
            double sc = eos_ood_score(o, feat + n * 3);
            if (n < 30 && !(sc <= 1.0)) TEST_FAIL_("in-distribution image %d scores %g", n, sc);
            if (n >= 30 && !(sc > 1.5)) TEST_FAIL_("far-off image %d scores only %g", n, sc);
            EXPECT_TRUE(eos_ood_uncertain(o, sc) == (n >= 30));
        }
    } else {
        TEST_FAIL_("runs failed");
    }
    eos_ood_free(o);
    eos_free(l0);
    eos_free(l1);
    eos_free(feat);
    eos_free(x);
}

static void test_classify_calibration(void) {
    fixture fx;
    if (!fixture_open(&fx, "oodcls", true)) {
        TEST_FAIL_("fixture");
        fixture_close(&fx);
        return;
    }
    hand h;
    hand_fit(&h);
    eos_ood_calib_params p = one_thread();
    eos_ood_calib_result r;
    eos_status st = eos_ood_calibrate(fx.ctx, fx.in, fx.train, fx.val, &p, fx.out, &r);
    if (st != EOS_OK) TEST_FAIL_("calibrate: %s", eos_ctx_errmsg(fx.ctx));
    eos_model *before = load(fx.ctx, fx.in), *after = st == EOS_OK ? load(fx.ctx, fx.out) : NULL;
    if (after && before) {
        EXPECT_EQ_INT(r.dim, 3);
        EXPECT_EQ_INT(r.n_centroids, 3);
        EXPECT_EQ_INT(r.n_classes, 3);
        EXPECT_EQ_INT(r.n_fit, 18);
        EXPECT_EQ_INT(r.n_held, 12);
        EXPECT_NEAR(r.raw_threshold, h.t, 1e-5 * h.t);
        EXPECT_NEAR(r.held_flagged, 0.0, 0);   /* the quantile is the maximum of 12 */
        EXPECT_NEAR(r.fit_flagged, 0.0, 0);
        EXPECT_NEAR(r.held_score, 1.0, 0);     /* every val image nearest its own prototype */
        EXPECT_STR_EQ(r.output, "features");
        EXPECT_EQ_INT(eos_model_n_outputs(after), 2);
        EXPECT_STR_EQ(eos_model_meta(after, "eosight.custom"), "kept");
        EXPECT_STR_EQ(eos_model_meta(after, "eosight.classes"), "a,b,c");
        EXPECT_STR_EQ(eos_model_meta(after, "eosight.ood.fit_items"), "18");
        check_stats(fx.ctx, after, &h);
        check_runs(fx.ctx, before, after);
    }
    /* re-calibrating the calibrated model keeps its features output and its scores */
    char again[320];
    snprintf(again, sizeof again, "%s/again.onnx", fx.dir);
    eos_ood_calib_result r2;
    EXPECT_OK(eos_ood_calibrate(fx.ctx, fx.out, fx.train, fx.val, &p, again, &r2));
    eos_model *m2 = load(fx.ctx, again);
    if (m2 && after) {
        EXPECT_EQ_INT(eos_model_n_outputs(m2), 2);
        const char *same[] = { "eosight.ood.scale", "eosight.ood.whiten", "eosight.ood.output" };
        for (int i = 0; i < 3; i++)
            EXPECT_STR_EQ(eos_model_meta(m2, same[i]), eos_model_meta(after, same[i]));
    }
    eos_model_free(m2);
    eos_model_free(before);
    eos_model_free(after);
    fixture_close(&fx);
}

/* The diagonal form and another quantile: scale from the hand-computed diagonal distances. */
static void test_diagonal_quantile(void) {
    fixture fx;
    if (!fixture_open(&fx, "ooddiag", true)) {
        TEST_FAIL_("fixture");
        fixture_close(&fx);
        return;
    }
    hand h;
    hand_fit(&h);
    double S[3] = { 0 }, f[3], d[12];
    for (int i = 0; i < 18; i++) {
        item_feature(false, i, f);
        for (int k = 0; k < 3; k++)
            S[k] += (f[k] - h.cent[i / 6][k]) * (f[k] - h.cent[i / 6][k]) / 18;
    }
    double eps = 1e-3 * (S[0] + S[1] + S[2]) / 3;
    memset(h.inv, 0, sizeof h.inv);
    for (int k = 0; k < 3; k++) h.inv[k][k] = 1 / (S[k] + eps);
    for (int i = 0; i < 12; i++) {
        item_feature(true, i, f);
        d[i] = hand_dist(&h, f);
    }
    for (int i = 0; i < 12; i++)   /* sort: the 0.5 quantile of 12 is the 6th smallest */
        for (int j = i + 1; j < 12; j++)
            if (d[j] < d[i]) { double t = d[i]; d[i] = d[j]; d[j] = t; }
    eos_ood_calib_params p = one_thread();
    p.diagonal = true;
    p.quantile = 0.5;
    eos_ood_calib_result r;
    eos_status st = eos_ood_calibrate(fx.ctx, fx.in, fx.train, fx.val, &p, fx.out, &r);
    if (st != EOS_OK) TEST_FAIL_("calibrate: %s", eos_ctx_errmsg(fx.ctx));
    if (st == EOS_OK) {
        EXPECT_STR_EQ(r.method, "mahalanobis-diag");
        EXPECT_NEAR(r.raw_threshold, d[5], 1e-5 * d[5]);
        EXPECT_NEAR(r.held_flagged, 0.5, 1e-12);
        eos_model *m = load(fx.ctx, fx.out);
        eos_ood *o = NULL;
        if (m && eos_ood_from_model(fx.ctx, m, &o) == EOS_OK && o) {
            float pr[3] = { 3, 1, 0.5f };
            double want = hand_dist(&h, (const double[]){ 3, 1, 0.5 }) / d[5];
            EXPECT_NEAR(eos_ood_score(o, pr), want, 1e-5 * want);
        } else {
            TEST_FAIL_("diagonal model: %s", eos_ctx_errmsg(fx.ctx));
        }
        eos_ood_free(o);
        eos_model_free(m);
    }
    fixture_close(&fx);
}

/* ------------------------------------------------------------------ tag */

/* Tag items: band means and labels (a, b; no item has c). */
static const struct { double f[3]; int a, b; } k_tag[] = {
    { { 4, 0, 0 }, 1, 0 }, { { 3, 1, 0 }, 1, 0 }, { { 2, 2, 0 }, 1, 1 },
    { { 0, 4, 1 }, 0, 1 }, { { 1, 3, 0 }, 0, 1 }, { { 0.5, 0, 2 }, 0, 0 },
};

static bool make_tag(const char *root) {
    mkdir2(root, "images");
    mkdir2(root, "images/x");
    char p[1024], tsv[1024] = "IMAGE\\LABEL\ta\tb\tc\n", line[64];
    for (size_t i = 0; i < sizeof k_tag / sizeof k_tag[0]; i++) {
        snprintf(p, sizeof p, "%s/images/x/t%zu.tif", root, i);
        if (!write_const(p, k_tag[i].f)) return false;
        snprintf(line, sizeof line, "t%zu\t%d\t%d\t0\n", i, k_tag[i].a, k_tag[i].b);
        strcat(tsv, line);
    }
    snprintf(p, sizeof p, "%s/multilabels.tsv", root);
    write_text(p, tsv);
    return true;
}

static void test_tag_centroids(void) {
    char dir[256], in[300], out[300];
    test_tmpdir_create(dir, sizeof dir, "oodtag");
    snprintf(in, sizeof in, "%s/in.onnx", dir);
    snprintf(out, sizeof out, "%s/out.onnx", dir);
    eos_ctx *ctx = NULL;
    eos_dataset *ds = NULL;
    eos_model *m = NULL;
    eos_ood *o = NULL;
    if (eos_ctx_create(NULL, &ctx) == EOS_OK && make_tag(dir) &&
        save_model(gap_gemm("multilabel", false, NULL), in))
        ds = open_ds(ctx, dir, EOS_TASK_TAG, NULL);
    ASSERT_TRUE(ds != NULL);
    eos_ood_calib_params p = one_thread();
    eos_status st = eos_ood_calibrate(ctx, in, ds, ds, &p, out, NULL);
    if (st != EOS_OK) TEST_FAIL_("calibrate: %s", eos_ctx_errmsg(ctx));
    if (st == EOS_OK && (m = load(ctx, out)) && eos_ood_from_model(ctx, m, &o) == EOS_OK && o) {
        /* label a: items 0, 1, 2; label b: items 2, 3, 4; c has none: no centroid */
        const double want[2][3] = { { 3, 1, 0 }, { 1, 3, 1.0 / 3 } };
        EXPECT_EQ_INT(eos_ood_n_centroids(o), 2);
        for (int k = 0; k < 2; k++)
            for (int d = 0; d < 3; d++) EXPECT_NEAR(eos_ood_centroid(o, k)[d], want[k][d], 1e-6);
    } else {
        TEST_FAIL_("tag model: %s", eos_ctx_errmsg(ctx));
    }
    eos_ood_free(o);
    eos_model_free(m);
    eos_dataset_free(ds);
    eos_ctx_free(ctx);
    test_tmpdir_remove(dir);
}

/* ------------------------------------------------------------------ a real architecture */

/* fc.weight / fc.bias of a written model, read with the importer. */
static bool read_fc(const char *path, int C, int D, float *w, float *b) {
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *buf = eos_malloc((size_t)n);
    bool ok = buf && fread(buf, 1, (size_t)n, f) == (size_t)n;
    fclose(f);
    eos_graph g;
    eos_graph_init(&g);
    ok = ok && eos_onnx_parse(buf, (size_t)n, NULL, &g, NULL) == EOS_OK;
    int vw = ok ? eos_graph_find_value(&g, "fc.weight") : -1;
    int vb = ok ? eos_graph_find_value(&g, "fc.bias") : -1;
    ok = vw >= 0 && vb >= 0 && eos_value_numel(&g.values[vw]) == (int64_t)C * D &&
         eos_value_numel(&g.values[vb]) == C;
    if (ok) {
        memcpy(w, g.values[vw].data, sizeof(float) * C * D);
        memcpy(b, g.values[vb].data, sizeof(float) * C);
    }
    eos_graph_free(&g);
    eos_free(buf);
    return ok;
}

static void test_resnet_rewrite(void) {
    fixture fx;
    if (!fixture_open(&fx, "oodres", false)) {
        TEST_FAIL_("fixture");
        fixture_close(&fx);
        return;
    }
    eos_arch a;
    eos_arch_default(&a, EOS_ARCH_RESNET18);
    a.n_classes = 3;
    a.width = 8;
    a.stem = EOS_STEM_S2;
    a.in_h = a.in_w = SZ;
    eos_net_params np = eos_net_default_params();
    np.n_threads = 1;
    eos_net *net = NULL;
    const char *keys[] = { "eosight.task", "eosight.classes", "eosight.bands",
                           "eosight.input_size" };
    const char *vals[] = { "classification", "a,b,c", "r,g,b", "8,8" };
    ASSERT_OK(eos_net_build(fx.ctx, &a, 3, &np, &net));
    EXPECT_OK(eos_net_save_onnx(net, fx.in, keys, vals, 4));
    eos_net_free(net);
    eos_ood_calib_params p = one_thread();
    eos_ood_calib_result r;
    eos_status st = eos_ood_calibrate(fx.ctx, fx.in, fx.train, fx.val, &p, fx.out, &r);
    if (st != EOS_OK) TEST_FAIL_("calibrate: %s", eos_ctx_errmsg(fx.ctx));
    eos_model *before = load(fx.ctx, fx.in), *after = st == EOS_OK ? load(fx.ctx, fx.out) : NULL;
    float *x = probe_batch(), w[3 * 64], b[3];
    int64_t n0 = 0, n1 = 0, nf = 0;
    if (before && after && x && r.dim == 64 && read_fc(fx.out, 3, 64, w, b)) {
        float *l0 = run_output(before, x, N_PROBE, SZ, SZ, 0, &n0);
        float *l1 = run_output(after, x, N_PROBE, SZ, SZ, 0, &n1);
        float *feat = run_output(after, x, N_PROBE, SZ, SZ, 1, &nf);
        EXPECT_TRUE(l0 && l1 && n0 == n1 && memcmp(l0, l1, (size_t)n0 * sizeof *l0) == 0);
        EXPECT_EQ_INT(nf, N_PROBE * 64);
        double worst = 0;   /* logits = features . fc.weight^T + fc.bias */
        for (int n = 0; feat && l1 && nf == N_PROBE * 64 && n < N_PROBE; n++)
            for (int c = 0; c < 3; c++) {
                double s = b[c];
                for (int d = 0; d < 64; d++) s += (double)feat[n * 64 + d] * w[c * 64 + d];
                double e = fabs(s - l1[n * 3 + c]) / (1 + fabs(s));
                if (e > worst) worst = e;
            }
        EXPECT_TRUE(feat && worst < 1e-5);
        EXPECT_NEAR(r.held_flagged, 0.0, 0);
        eos_free(l0);
        eos_free(l1);
        eos_free(feat);
    } else {
        TEST_FAIL_("resnet rewrite: dim %d", r.dim);
    }
    eos_free(x);
    eos_model_free(before);
    eos_model_free(after);
    fixture_close(&fx);
}

/* Models the calibration cannot use, and bad parameters: clear errors, no file written. */
static void test_refusals(void) {
    fixture fx;
    if (!fixture_open(&fx, "oodbad", false)) {
        TEST_FAIL_("fixture");
        fixture_close(&fx);
        return;
    }
    onnxb *b = onnxb_new(17);   /* no Gemm: GlobalAveragePool -> Flatten */
    onnxb_input(b, "x", EOS_DTYPE_F32, 4, (int64_t[]){ -1, 3, -1, -1 });
    onnxb_node(b, "GlobalAveragePool", "gap", ONNXB_NAMES("x"), ONNXB_NAMES("g"));
    onnxb_node(b, "Flatten", "flat", ONNXB_NAMES("g"), ONNXB_NAMES("y"));
    onnxb_output(b, "y", EOS_DTYPE_F32, 2, (int64_t[]){ -1, 3 });
    onnxb_meta(b, "eosight.task", "classification");
    ASSERT_TRUE(save_model(b, fx.in));
    eos_ood_calib_params p = one_thread();
    EXPECT_STATUS(eos_ood_calibrate(fx.ctx, fx.in, fx.train, fx.val, &p, fx.out, NULL),
                  EOS_UNSUPPORTED);
    EXPECT_TRUE(strstr(eos_ctx_errmsg(fx.ctx), "Gemm") != NULL);
    struct stat sb;
    EXPECT_TRUE(stat(fx.out, &sb) != 0);
    ASSERT_TRUE(save_model(gap_gemm("classification", false, NULL), fx.in));
    p.quantile = 1.5;
    EXPECT_STATUS(eos_ood_calibrate(fx.ctx, fx.in, fx.train, fx.val, &p, fx.out, NULL),
                  EOS_INVALID_ARG);
    p.quantile = 0;
    EXPECT_STATUS(eos_ood_calibrate(fx.ctx, fx.in, NULL, fx.val, &p, fx.out, NULL),
                  EOS_INVALID_ARG);
    char missing[320];
    snprintf(missing, sizeof missing, "%s/missing.onnx", fx.dir);
    EXPECT_STATUS(eos_ood_calibrate(fx.ctx, missing, fx.train, fx.val, &p, fx.out, NULL), EOS_IO);
    ASSERT_TRUE(save_model(gap_gemm("multilabel", false, NULL), fx.in));   /* task mismatch */
    EXPECT_STATUS(eos_ood_calibrate(fx.ctx, fx.in, fx.train, fx.val, &p, fx.out, NULL),
                  EOS_INVALID_ARG);
    EXPECT_TRUE(stat(fx.out, &sb) != 0);
    fixture_close(&fx);
}

/* ------------------------------------------------------------------ malformed metadata */

/* A valid set of keys for gap-gemm with its "feat" output (dim 3, 2 centroids), then one key
 * replaced; from_model must refuse it cleanly or (for harmless mutations) accept it. */
enum { K_METHOD, K_OUTPUT, K_DIM, K_CENT, K_WHITEN, K_SCALE, K_THRESH, K_N };
static const char *const k_keys[K_N] = {
    "eosight.ood.method", "eosight.ood.output", "eosight.ood.dim", "eosight.ood.centroids",
    "eosight.ood.whiten", "eosight.ood.scale", "eosight.ood.threshold"
};
/* centroids (1,0,0), (0,1,0); whiten = lower triangle of the identity, 6 floats */
static const char k_cent_b64[] = "AACAPwAAAAAAAAAAAAAAAAAAgD8AAAAA";
static const char k_white_b64[] = "AACAPwAAAAAAAIA/AAAAAAAAAAAAAIA/";

static eos_status from_meta(eos_ctx *ctx, int key, const char *value, eos_ood **o) {
    const char *v[K_N] = { "mahalanobis", "feat", "3", k_cent_b64, k_white_b64, "0.5", "1" };
    if (key >= 0) v[key] = value;
    const char *meta[2 * K_N + 1];
    int n = 0;
    for (int k = 0; k < K_N; k++) {
        if (!v[k]) continue;   /* NULL: key left out */
        meta[n++] = k_keys[k];
        meta[n++] = v[k];
    }
    meta[n] = NULL;
    onnxb *b = gap_gemm("classification", true, meta);
    void *buf = NULL;
    size_t size = 0;
    eos_model *m = NULL;
    *o = NULL;
    eos_status st = onnxb_finish(b, &buf, &size);
    if (st == EOS_OK) st = eos_model_load_from_memory(ctx, buf, size, NULL, &m);
    onnxb_free(b);
    eos_free(buf);
    if (st != EOS_OK) return EOS_INTERNAL;
    st = eos_ood_from_model(ctx, m, o);
    eos_model_free(m);
    return st;
}

static void test_valid_metadata(void) {
    eos_ctx *ctx;
    ASSERT_OK(eos_ctx_create(NULL, &ctx));
    eos_ood *o = NULL;
    ASSERT_OK(from_meta(ctx, -1, NULL, &o));
    ASSERT_TRUE(o != NULL);
    EXPECT_EQ_INT(eos_ood_n_centroids(o), 2);
    /* identity whitening, scale 0.5: half the Euclidean distance to (1,0,0) */
    EXPECT_NEAR(eos_ood_score(o, (const float[]){ 1, 0, 2 }), 1.0, 1e-12);
    EXPECT_NEAR(eos_ood_score(o, (const float[]){ 0, 4, 0 }), 1.5, 1e-12);
    EXPECT_EQ_INT(eos_ood_nearest(o, (const float[]){ 0, 4, 0 }), 1);
    eos_ood_free(o);
    /* no eosight.ood.* key at all: NULL, OK */
    onnxb *b = gap_gemm("classification", false, NULL);
    void *buf = NULL;
    size_t size = 0;
    eos_model *m = NULL;
    if (onnxb_finish(b, &buf, &size) == EOS_OK &&
        eos_model_load_from_memory(ctx, buf, size, NULL, &m) == EOS_OK) {
        o = (eos_ood *)1;
        EXPECT_OK(eos_ood_from_model(ctx, m, &o));
        EXPECT_TRUE(o == NULL);
    }
    eos_model_free(m);
    eos_free(buf);
    onnxb_free(b);
    eos_ctx_free(ctx);
}

static void test_malformed_metadata(void) {
    static const struct { int key; const char *value; } bad[] = {
        { K_METHOD, "cosine" }, { K_METHOD, "" }, { K_METHOD, NULL },
        { K_OUTPUT, "logitz" }, { K_OUTPUT, "" }, { K_OUTPUT, "x" },
        { K_DIM, "4" }, { K_DIM, "2" }, { K_DIM, "0" }, { K_DIM, "-3" }, { K_DIM, "3.5" },
        { K_DIM, "1e9" }, { K_DIM, "abc" }, { K_DIM, "" }, { K_DIM, "nan" }, { K_DIM, NULL },
        { K_CENT, "" }, { K_CENT, "!!!!" }, { K_CENT, "AAA" }, { K_CENT, "AAAA=AAA" },
        { K_CENT, "AACAPwAAAAAAAAAAAAAAAAAAgD8AAAA" },            /* truncated */
        { K_CENT, "AACAPwAAAAAAAAAAAAAAAAAAgD8AAAAAAAAAAA==" },  /* 7 floats */
        { K_CENT, "AADAfwAAAAAAAAAAAAAAAAAAgD8AAAAA" },          /* NaN */
        { K_CENT, "AACAfwAAAAAAAAAAAAAAAAAAgD8AAAAA" },          /* +inf */
        { K_CENT, "AACAPwAAAAAAAAAAAAAAAAAAgD8AAAAA====" },
        { K_CENT, "AACAPwAAAAAA AAAAAAAAAAAAgD8AAAA" },           /* blank */
        { K_WHITEN, "AACAPwAAAAAAAIA/AAAAAAAAAAA=" },             /* 5 floats */
        { K_WHITEN, "AACAPwAAAAAAAIA/AAAAAAAAAAAAAIC/" },         /* last diagonal -1 */
        { K_WHITEN, "AAAAAAAAAAAAAIA/AAAAAAAAAAAAAIA/" },         /* first diagonal 0 */
        { K_WHITEN, "AACAPwAAAAAAAIA/" },                          /* diag form, full method */
        { K_WHITEN, "AACAPwAAAAAAAIA/AAAAAAAAAAAAAIA/AAAAAAAAAAAAAIA/" },
        { K_SCALE, "0" }, { K_SCALE, "-1" }, { K_SCALE, "nan" }, { K_SCALE, "inf" },
        { K_SCALE, "1x" }, { K_SCALE, NULL }, { K_THRESH, "inf" }, { K_THRESH, "" },
        { K_THRESH, NULL },
    };
    eos_ctx *ctx;
    ASSERT_OK(eos_ctx_create(NULL, &ctx));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        eos_ood *o = NULL;
        eos_status st = from_meta(ctx, bad[i].key, bad[i].value, &o);
        if (st == EOS_OK || o != NULL || st == EOS_INTERNAL)
            TEST_FAIL_("%s = '%s' -> %s", k_keys[bad[i].key],
                       bad[i].value ? bad[i].value : "(absent)", eos_status_name(st));
        else if (!strstr(eos_ctx_errmsg(ctx), "eosight.ood."))
            TEST_FAIL_("message does not name the key: %s", eos_ctx_errmsg(ctx));
        eos_ood_free(o);
    }
    /* random single-character mutations of the matrices: refused, or scores stay finite */
    char s[64];
    uint64_t x = 88172645463325252ull;
    int accepted = 0;
    for (int it = 0; it < 300; it++) {
        int key = it % 2 ? K_WHITEN : K_CENT;
        snprintf(s, sizeof s, "%s", key == K_CENT ? k_cent_b64 : k_white_b64);
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t pos = (size_t)(x % strlen(s));
        s[pos] = (char)(32 + (x >> 20) % 95);
        if (x >> 40 & 1) s[strlen(s) - 1 - (x >> 32) % 3] = (char)(32 + (x >> 48) % 95);
        eos_ood *o = NULL;
        eos_status st = from_meta(ctx, key, s, &o);
        if (st == EOS_OK) {
            accepted++;
            double sc = eos_ood_score(o, (const float[]){ 0.5f, 0.25f, 3 });
            if (!(isfinite(sc) && sc >= 0)) TEST_FAIL_("mutation '%s' gives score %g", s, sc);
        } else if (st != EOS_PARSE) {
            TEST_FAIL_("mutation '%s' -> %s", s, eos_status_name(st));
        }
        eos_ood_free(o);
    }
    printf("  %d of 300 mutations accepted (finite values)\n", accepted);
    eos_ctx_free(ctx);
}

TEST_MAIN(TEST(test_classify_calibration), TEST(test_diagonal_quantile), TEST(test_tag_centroids),
          TEST(test_resnet_rewrite), TEST(test_refusals), TEST(test_valid_metadata),
          TEST(test_malformed_metadata))

#else

static void test_needs_gdal(void) { TEST_SKIP("built without GDAL"); }
TEST_MAIN(TEST(test_needs_gdal))

#endif
