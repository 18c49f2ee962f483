/*
 * tests/train/test_net.c - trainable networks end to end: the oneDNN path (f32 and bf16)
 * against the reference kernels on whole ResNet and U-Net graphs, a finite-difference check
 * through a whole network, over-fitting a tiny dataset, determinism, checkpoints that resume
 * exactly, and ONNX export matching the inference engine.
 */
#include <math.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/test.h"
#include "eosight/train.h"
#include "train/net_internal.h"

static eos_ctx *g_ctx;

static eos_net *build(const eos_arch *a, bool reference, bool bf16, uint64_t seed) {
    eos_net_params np = eos_net_default_params();
    np.reference = reference;
    np.bf16 = bf16;
    np.n_threads = 1;   /* ctest runs tests side by side: no OpenMP oversubscription */
    eos_net *n = NULL;
    if (eos_net_build(g_ctx, a, seed, &np, &n) != EOS_OK) {
        fprintf(stderr, "build: %s\n", eos_ctx_errmsg(g_ctx));
        return NULL;
    }
    return n;
}

static void small_resnet(eos_arch *a) {
    eos_arch_default(a, EOS_ARCH_RESNET18);
    a->in_ch = 3;
    a->n_classes = 5;
    a->width = 8;
    a->stem = EOS_STEM_S2;
    a->in_h = a->in_w = 16;
}

static void small_unet(eos_arch *a, bool bilinear) {
    eos_arch_default(a, EOS_ARCH_UNET);
    a->in_ch = 3;
    a->n_classes = 4;
    a->depth = 2;
    a->base = 4;
    a->bilinear = bilinear;
    a->in_h = a->in_w = 16;
}

/* Run forward(train) + backward with a fixed random upstream gradient; copy logits and every
 * parameter gradient (concatenated) out. */
static bool fwd_bwd(eos_net *n, const float *x, int b, int h, int w, float **logits, int64_t *nl,
                    float **grads, int64_t *ng) {
    const float *lg;
    int64_t rows;
    if (eos_net_forward(n, x, b, h, w, true, &lg, &rows) != EOS_OK) {
        fprintf(stderr, "forward: %s\n", eos_net_errmsg(n));
        return false;
    }
    int c = eos_net_n_outputs(n);
    *nl = rows * c;
    *logits = eos_malloc(sizeof(float) * (size_t)*nl);
    memcpy(*logits, lg, sizeof(float) * (size_t)*nl);
    float *dl = eos_malloc(sizeof(float) * (size_t)*nl);
    test_fill_uniform(dl, *nl, -1, 1, 77);
    if (eos_net_backward(n, dl) != EOS_OK) {
        fprintf(stderr, "backward: %s\n", eos_net_errmsg(n));
        eos_free(dl);
        return false;
    }
    eos_free(dl);
    int np = eos_net_n_params(n);
    eos_param_ref refs[512];
    if (np > 512) return false;
    eos_net_param_refs(n, refs);
    *ng = 0;
    for (int i = 0; i < np; i++) *ng += refs[i].n;
    *grads = eos_malloc(sizeof(float) * (size_t)*ng);
    int64_t o = 0;
    for (int i = 0; i < np; i++) {
        memcpy(*grads + o, refs[i].g, sizeof(float) * (size_t)refs[i].n);
        o += refs[i].n;
    }
    return true;
}

/* Compare the dnnl path with the reference path on the same architecture and input. */
static void compare_paths(const eos_arch *a, bool bf16, double tol_logits, double tol_grads) {
    eos_net *r = build(a, true, false, 11), *d = build(a, false, bf16, 11);
    ASSERT_TRUE(r && d);
    int b = a->in_h >= 32 ? 8 : 4, h = a->in_h, w = a->in_w;
    int64_t nx = (int64_t)b * a->in_ch * h * w;
    float *x = eos_malloc(sizeof(float) * (size_t)nx);
    test_fill_uniform(x, nx, -1, 1, 5);
    float *lr, *ld, *gr, *gd;
    int64_t nlr, nld, ngr, ngd;
    ASSERT_TRUE(fwd_bwd(r, x, b, h, w, &lr, &nlr, &gr, &ngr));
    ASSERT_TRUE(fwd_bwd(d, x, b, h, w, &ld, &nld, &gd, &ngd));
    ASSERT_EQ_INT(nlr, nld);
    ASSERT_EQ_INT(ngr, ngd);
    double el = test_nmse(ld, lr, nlr), eg = test_nmse(gd, gr, ngr);
    printf("  %s bf16=%d: logits nmse %.3g, grads nmse %.3g (%lld weights)\n",
           eos_arch_name(a->kind), bf16, el, eg, (long long)ngr);
    EXPECT_TRUE(el <= tol_logits);
    EXPECT_TRUE(eg <= tol_grads);
    /* a second step with the same nets must agree too (running stats, reused buffers) */
    eos_free(lr); eos_free(ld); eos_free(gr); eos_free(gd);
    ASSERT_TRUE(fwd_bwd(r, x, b, h, w, &lr, &nlr, &gr, &ngr));
    ASSERT_TRUE(fwd_bwd(d, x, b, h, w, &ld, &nld, &gd, &ngd));
    EXPECT_TRUE(test_nmse(gd, gr, ngr) <= tol_grads);
    /* inference mode (running statistics) */
    const float *o1, *o2;
    int64_t rows;
    ASSERT_OK(eos_net_forward(r, x, b, h, w, false, &o1, &rows));
    ASSERT_OK(eos_net_forward(d, x, b, h, w, false, &o2, &rows));
    EXPECT_TRUE(test_nmse(o2, o1, rows * eos_net_n_outputs(r)) <= tol_logits);
    eos_free(lr); eos_free(ld); eos_free(gr); eos_free(gd);
    eos_free(x);
    eos_net_free(r);
    eos_net_free(d);
}

static void test_dnnl_matches_reference_resnet(void) {
    /* at 32x32 with batch 8 the last stage's BN normalises 32 values; at 16x16 x 4 it
     * normalises 4, which amplifies float rounding differences a hundredfold */
    eos_arch a;
    small_resnet(&a);
    a.in_h = a.in_w = 32;
    compare_paths(&a, false, 1e-10, 1e-9);
}

static void test_dnnl_matches_reference_unet(void) {
    eos_arch a;
    small_unet(&a, false);
    compare_paths(&a, false, 1e-10, 1e-9);
    small_unet(&a, true);
    compare_paths(&a, false, 1e-10, 1e-9);
}

static void test_bf16_close_to_reference(void) {
    /* bf16 keeps 8 mantissa bits (0.4 % per rounding). Through ~20 layers the logits move
     * by ~2 % (nmse ~5e-4), and weight gradients, sums over the batch with heavy
     * cancellation in BN's backward, by ~25 % (nmse ~0.08, cosine ~0.96): measured here,
     * bounded at about twice that. A wrong bf16 kernel gives nmse ~1. The over-fit test
     * below also runs in bf16. */
    eos_arch a;
    small_resnet(&a);
    a.in_h = a.in_w = 32;
    compare_paths(&a, true, 2e-3, 0.15);
    small_unet(&a, false);
    a.in_h = a.in_w = 32;
    compare_paths(&a, true, 2e-3, 0.15);
}

/* d/dw of L = sum(r * logits) through a whole (reference) network vs central differences. */
static void test_whole_net_finite_differences(void) {
    eos_arch a;
    small_resnet(&a);
    a.width = 4;
    a.in_h = a.in_w = 32;
    eos_net *n = build(&a, true, false, 3);
    ASSERT_TRUE(n);
    int b = 8;
    int64_t nx = (int64_t)b * 3 * 32 * 32;
    static float x[8 * 3 * 32 * 32];
    test_fill_uniform(x, nx, -1, 1, 9);
    float *lg, *g;
    int64_t nl, ng;
    ASSERT_TRUE(fwd_bwd(n, x, b, 32, 32, &lg, &nl, &g, &ng));
    float *r = eos_malloc(sizeof(float) * (size_t)nl);
    test_fill_uniform(r, nl, -1, 1, 77);   /* the same upstream gradient fwd_bwd used */
    eos_param_ref refs[512];
    eos_net_param_refs(n, refs);
    int np = eos_net_n_params(n), checked = 0, bad = 0, skipped = 0;
    double se = 0, sa = 0;
    double worst = 0;
    int64_t off = 0;
    for (int i = 0; i < np; i++) {
        for (int64_t j = 0; j < refs[i].n; j += 1 + refs[i].n / 3) {
            float keep = refs[i].w[j];
            /* BN over few rows and ReLU kinks make these tiny networks strongly curved, so
             * the central difference is Richardson-extrapolated from steps h and h/2
             * (error O(h^4) instead of O(h^2)); points where the two steps disagree by more
             * than 20 % straddle a ReLU kink and are skipped (counted below). */
            double h = getenv("EOS_FD_EPS") ? atof(getenv("EOS_FD_EPS")) : 2e-4, d[2];
            for (int q = 0; q < 2; q++) {
                double eps = q ? h / 2 : h, lp = 0, lm = 0;
                const float *o;
                int64_t rows;
                refs[i].w[j] = keep + (float)eps;
                ASSERT_OK(eos_net_forward(n, x, b, 32, 32, true, &o, &rows));
                for (int64_t k = 0; k < nl; k++) lp += (double)r[k] * o[k];
                refs[i].w[j] = keep - (float)eps;
                ASSERT_OK(eos_net_forward(n, x, b, 32, 32, true, &o, &rows));
                for (int64_t k = 0; k < nl; k++) lm += (double)r[k] * o[k];
                refs[i].w[j] = keep;
                d[q] = (lp - lm) / ((double)((keep + (float)eps) - (keep - (float)eps)));
            }
            if (fabs(d[0] - d[1]) > 0.2 * fmax(1.0, fabs(d[1]))) {
                skipped++;
                continue;
            }
            double num = (4 * d[1] - d[0]) / 3, ana = g[off + j];
            double err = fabs(num - ana) / fmax(1.0, fabs(num));
            se += (num - ana) * (num - ana);
            sa += ana * ana;
            if (err > worst) worst = err;
            if (err > 3e-2) {
                bad++;
                if (getenv("EOS_TEST_VERBOSE")) printf("  param %d (%s) [%lld]: numeric %.6g analytic %.6g\n", i, n->g.values[n->params_[i].value].name, (long long)j, num, ana);
            }
            checked++;
        }
        off += refs[i].n;
    }
    double rel = sqrt(se / fmax(sa, 1e-30));
    printf("  %d weights checked (%d skipped at kinks), worst error %.3g, %d above 3e-2, "
           "relative L2 error %.3g\n", checked, skipped, worst, bad, rel);
    EXPECT_TRUE(checked > 120);
    /* The forward runs in float through ~20 layers: |L| ~ 5 carries ~1e-5 of rounding noise,
     * i.e. ~0.05-0.25 on each difference quotient (gradients here are 1-10), so single
     * weights are off by a few %. Measured: relative L2 error 0.018-0.022, at most 14 of 176
     * weights above 3e-2. A plumbing error (a missed accumulation, a wrong layout) shows as
     * tens of % or more. The precise per-operator checks are test_tref_*. */
    EXPECT_TRUE(bad <= checked / 8);
    EXPECT_TRUE(rel < 0.05);
    eos_free(r); eos_free(lg); eos_free(g);
    eos_net_free(n);
}

/* 16 random 8x8 images, 4 classes: AdamW must reach 100 % training accuracy. Returns the loss
 * curve in curve[steps]. */
static int overfit(bool reference, bool bf16, int steps, double *curve) {
    eos_arch a;
    small_resnet(&a);
    a.n_classes = 4;
    a.in_h = a.in_w = 8;
    eos_net *n = build(&a, reference, bf16, 21);
    if (!n) return -1;
    int b = 16;
    float x[16 * 3 * 8 * 8];
    int32_t y[16];
    test_fill_uniform(x, 16 * 3 * 64, -1, 1, 31);
    for (int i = 0; i < b; i++) y[i] = i % 4;
    eos_param_ref refs[512];
    eos_net_param_refs(n, refs);
    eos_optim_params op;
    eos_optim_params_default(&op, EOS_OPTIM_ADAMW);
    eos_optim *o = NULL;
    eos_optim_create(&op, refs, eos_net_n_params(n), &o);
    eos_loss_params lp;
    eos_loss_params_default(&lp, EOS_LOSS_CE);
    float dl[16 * 4];
    for (int s = 0; s < steps; s++) {
        const float *lg;
        int64_t rows;
        double loss;
        if (eos_net_forward(n, x, b, 8, 8, true, &lg, &rows) != EOS_OK) return -1;
        eos_loss_compute(&lp, lg, rows, 4, y, NULL, &loss, dl);
        if (curve) curve[s] = loss;
        if (eos_net_backward(n, dl) != EOS_OK) return -1;
        double gn = 0;
        eos_status st = eos_optim_step(o, 3e-3f, &gn);
        if (st != EOS_OK) {
            printf("  step %d: optimiser %s (gradient norm %g)\n", s, eos_status_name(st), gn);
            eos_optim_free(o);
            eos_net_free(n);
            return -1;
        }
    }
    const float *lg;
    int64_t rows;
    int correct = 0;
    eos_net_forward(n, x, b, 8, 8, false, &lg, &rows);
    for (int i = 0; i < b; i++) {
        int best = 0;
        for (int k = 1; k < 4; k++)
            if (lg[i * 4 + k] > lg[i * 4 + best]) best = k;
        correct += best == y[i];
    }
    eos_optim_free(o);
    eos_net_free(n);
    return correct;
}

static void test_overfit_tiny_dataset(void) {
    double c1[150], c2[150];
    int ok = overfit(false, false, 150, c1);
    printf("  loss %.4f -> %.4f, %d/16 correct\n", c1[0], c1[149], ok);
    EXPECT_EQ_INT(ok, 16);
    EXPECT_TRUE(c1[149] < 0.1 * c1[0]);
    /* same seed, same curve, bit for bit */
    EXPECT_EQ_INT(overfit(false, false, 150, c2), 16);
    EXPECT_TRUE(memcmp(c1, c2, sizeof c1) == 0);
    /* bf16 convolutions learn it too */
    EXPECT_EQ_INT(overfit(false, true, 150, c2), 16);
    printf("  bf16: loss %.4f -> %.4f\n", c2[0], c2[149]);
}

static void test_checkpoint_resume_exact(void) {
    char dir[256], ck[300];
    test_tmpdir_create(dir, sizeof dir, "net");
    snprintf(ck, sizeof ck, "%s/a.ckpt", dir);
    eos_arch a;
    small_resnet(&a);
    eos_net *n = build(&a, false, false, 5), *m = build(&a, false, false, 99);
    ASSERT_TRUE(n && m);
    float x[4 * 3 * 16 * 16];
    test_fill_uniform(x, 4 * 3 * 256, -1, 1, 2);
    const float *o;
    int64_t rows;
    ASSERT_OK(eos_net_forward(n, x, 4, 16, 16, true, &o, &rows));   /* moves BN statistics */
    const char blob[] = "optimiser state";
    ASSERT_OK(eos_net_save_checkpoint(n, ck, blob, sizeof blob));
    void *got = NULL;
    size_t gs = 0;
    ASSERT_OK(eos_net_load_checkpoint(m, ck, &got, &gs));
    EXPECT_EQ_INT((int)gs, (int)sizeof blob);
    EXPECT_TRUE(got && memcmp(got, blob, sizeof blob) == 0);
    eos_free(got);
    for (int i = 0; i < n->n_params_; i++)
        EXPECT_TRUE(memcmp(n->params_[i].w, m->params_[i].w, sizeof(float) * (size_t)n->params_[i].n) == 0);
    /* corrupt one byte: refused, weights untouched */
    FILE *f = fopen(ck, "r+b");
    ASSERT_TRUE(f);
    fseek(f, 40, SEEK_SET);
    fputc(0x5a, f);
    fclose(f);
    EXPECT_STATUS(eos_net_load_checkpoint(m, ck, &got, &gs), EOS_PARSE);
    /* a different architecture: refused with a name */
    eos_arch b2 = a;
    b2.n_classes = 6;
    eos_net *q = build(&b2, false, false, 5);
    ASSERT_OK(eos_net_save_checkpoint(n, ck, NULL, 0));
    EXPECT_STATUS(eos_net_load_checkpoint(q, ck, &got, &gs), EOS_SHAPE);
    EXPECT_TRUE(strstr(eos_net_errmsg(q), "tensor") != NULL);
    eos_net_free(q);
    eos_net_free(n);
    eos_net_free(m);
    test_tmpdir_remove(dir);
}

static void test_onnx_export_matches_engine(void) {
    char dir[256], path[300];
    test_tmpdir_create(dir, sizeof dir, "net");
    snprintf(path, sizeof path, "%s/m.onnx", dir);
    eos_arch archs[2];
    small_resnet(&archs[0]);
    small_unet(&archs[1], false);
    for (int k = 0; k < 2; k++) {
        eos_net *n = build(&archs[k], false, false, 8);
        ASSERT_TRUE(n);
        float x[2 * 3 * 16 * 16];
        test_fill_uniform(x, 2 * 3 * 256, -1, 1, 4);
        const float *o;
        int64_t rows;
        for (int s = 0; s < 3; s++) ASSERT_OK(eos_net_forward(n, x, 2, 16, 16, true, &o, &rows));
        ASSERT_OK(eos_net_forward(n, x, 2, 16, 16, false, &o, &rows));
        const char *keys[] = {"eosight.task"}, *vals[] = {"classification"};
        ASSERT_OK(eos_net_save_onnx(n, path, keys, vals, 1));
        eos_model *m = NULL;
        ASSERT_OK(eos_model_load(g_ctx, path, &m));
        EXPECT_STR_EQ(eos_model_meta(m, "eosight.task"), "classification");
        eos_session *s = NULL;
        ASSERT_OK(eos_session_create(m, NULL, &s));
        eos_tensor in = {EOS_DTYPE_F32, 4, {2, 3, 16, 16}, x};
        ASSERT_OK(eos_session_run(s, &in, 1));
        eos_tensor out;
        ASSERT_OK(eos_session_output(s, 0, &out));
        int c = eos_net_n_outputs(n);
        /* engine output is NCHW; the net's rows are NHWC */
        int64_t hw = rows / 2;
        float *e = eos_malloc(sizeof(float) * (size_t)rows * c);
        const float *od = out.data;
        for (int64_t i = 0; i < 2; i++)
            for (int64_t p = 0; p < hw; p++)
                for (int ch = 0; ch < c; ch++) e[(i * hw + p) * c + ch] = od[(i * c + ch) * hw + p];
        double err = test_nmse(e, o, rows * c);
        printf("  %s export vs engine nmse %.3g\n", eos_arch_name(archs[k].kind), err);
        EXPECT_TRUE(err < 1e-9);
        eos_free(e);
        eos_session_free(s);
        eos_model_free(m);
        /* and back into a trainable net */
        eos_net *l = NULL;
        eos_net_params lp = eos_net_default_params();
        lp.bf16 = false;
        ASSERT_OK(eos_net_load(g_ctx, path, &lp, &l));
        EXPECT_EQ_INT(eos_net_n_params(l), eos_net_n_params(n));
        const float *o2;
        ASSERT_OK(eos_net_forward(l, x, 2, 16, 16, false, &o2, &rows));
        ASSERT_OK(eos_net_forward(n, x, 2, 16, 16, false, &o, &rows));
        double e2 = test_nmse(o2, o, rows * c);
        printf("  reloaded net vs original nmse %.3g\n", e2);
        EXPECT_TRUE(e2 < 1e-12);
        eos_net_free(l);
        eos_net_free(n);
    }
    test_tmpdir_remove(dir);
}

static void setup(void) {
    if (!g_ctx) eos_ctx_create(NULL, &g_ctx);
}

static void test_all_setup(void) { setup(); }
static void test_teardown(void) {
    eos_ctx_free(g_ctx);
    g_ctx = NULL;
}

TEST_MAIN(TEST(test_all_setup), TEST(test_dnnl_matches_reference_resnet),
          TEST(test_dnnl_matches_reference_unet), TEST(test_bf16_close_to_reference),
          TEST(test_whole_net_finite_differences), TEST(test_overfit_tiny_dataset),
          TEST(test_checkpoint_resume_exact), TEST(test_onnx_export_matches_engine),
          TEST(test_teardown))
