/*
 * tests/train/test_tref_layers.c - reference training kernels (src/train/tref.h): batch
 * normalisation, every activation, max/average pooling, global average pooling and Gemm.
 *
 * Each operator's forward is compared with a double-precision formula written here and with
 * the inference reference kernel of src/ops/ref (NCHW, through eos_op_ref); its backward with
 * central differences of L = sum(r * y) in double (tref_check.h, with the x1.01 negative
 * control); a second backward call must double the gradients and NULL gradients are skipped.
 * Values that are not differentiable everywhere (max pool, the piecewise activations) are
 * tested away from their kinks by finite differences and on the kinks by hand (PyTorch's
 * conventions); BatchNorm's running statistics are checked against values computed by hand.
 */
#include <float.h>

#include "ops/op_test.h"
#include "train/tref_check.h"

/* ------------------------------------------------------------------ batch normalization */

typedef struct bn_ctx {
    int64_t rows, c;
    float eps;
    float *x, *gamma, *beta, *r;
    double *xd, *gd, *bd, *yd;
} bn_ctx;

static void bn_naive(const bn_ctx *b, double *y, double *mean, double *invstd) {
    for (int64_t j = 0; j < b->c; j++) {
        double m = 0.0, v = 0.0;
        for (int64_t i = 0; i < b->rows; i++) m += b->xd[i * b->c + j];
        m /= (double)b->rows;
        for (int64_t i = 0; i < b->rows; i++) v += (b->xd[i * b->c + j] - m) * (b->xd[i * b->c + j] - m);
        v /= (double)b->rows;
        double is = 1.0 / sqrt(v + b->eps);
        for (int64_t i = 0; i < b->rows; i++)
            y[i * b->c + j] = b->gd[j] * (b->xd[i * b->c + j] - m) * is + b->bd[j];
        if (mean) mean[j] = m;
        if (invstd) invstd[j] = is;
    }
}

static double bn_loss(void *v) {
    bn_ctx *b = v;
    bn_naive(b, b->yd, NULL, NULL);
    return tc_project(b->yd, b->r, b->rows * b->c);
}

/* Training-mode y equals the inference BatchNormalization of src/ops/ref with the batch
 * statistics (var recovered from invstd). x is [n, hw, c] NHWC. */
static void bn_vs_ops_ref(int64_t n, int64_t hw, int64_t c, const float *x, const float *gamma,
                          const float *beta, float eps, const float *mean, const float *invstd,
                          const float *y) {
    op_node t;
    eos_err err;
    op_init(&t, EOS_OP_BATCH_NORM, 5, 1, 15);
    op_float(&t, "epsilon", eps);
    float *xc = tc_zeros(n * hw * c), *yc = tc_zeros(n * hw * c), *var = tc_zeros(c);
    ASSERT_TRUE(xc && yc && var);
    for (int64_t j = 0; j < c; j++) var[j] = (float)(1.0 / ((double)invstd[j] * invstd[j]) - eps);
    tc_nhwc_to_nchw(n, hw, 1, c, x, xc);
    eos_tensor in[5] = { op_t(EOS_DTYPE_F32, 4, D(n, c, hw, 1), xc), op_t(EOS_DTYPE_F32, 1, D(c), gamma),
                         op_t(EOS_DTYPE_F32, 1, D(c), beta), op_t(EOS_DTYPE_F32, 1, D(c), mean),
                         op_t(EOS_DTYPE_F32, 1, D(c), var) }, out[1];
    eos_status st = op_run(&t.n, in, out, &err);
    EXPECT_OK(st);
    if (st == EOS_OK) {
        tc_nchw_to_nhwc(n, c, hw, 1, out[0].data, yc);
        printf("    %-40s fwd vs ops/ref max rel err %.2e\n", "bn",
               tc_cmpf("bn vs ops/ref", y, yc, n * hw * c, 1e-5));
        op_free(out, 1);
    }
    eos_free(xc);
    eos_free(yc);
    eos_free(var);
}

static void bn_case(int64_t n, int64_t hw, int64_t c, uint64_t seed) {
    bn_ctx b = { .rows = n * hw, .c = c, .eps = 1e-5f };
    int64_t nx = b.rows * c;
    printf("  bn rows %lld c %lld\n", (long long)b.rows, (long long)c);
    b.x = tc_rand(nx, -2, 3, seed);
    b.gamma = tc_rand(c, 0.5f, 1.5f, seed + 1);
    b.beta = tc_rand(c, -1, 1, seed + 2);
    b.r = tc_rand(nx, -1, 1, seed + 3);
    b.xd = tc_dup(b.x, nx);
    b.gd = tc_dup(b.gamma, c);
    b.bd = tc_dup(b.beta, c);
    b.yd = eos_malloc((size_t)nx * sizeof *b.yd);
    double *md = eos_malloc((size_t)c * sizeof *md), *isd = eos_malloc((size_t)c * sizeof *isd);
    float *y = tc_zeros(nx), *sm = tc_zeros(c), *si = tc_zeros(c), *dx = tc_zeros(nx);
    float *dg = tc_zeros(c), *dbt = tc_zeros(c), *g2 = tc_zeros(nx);
    if (b.x && b.gamma && b.beta && b.r && b.xd && b.gd && b.bd && b.yd && md && isd && y && sm &&
        si && dx && dg && dbt && g2) {
        eos_tref_bn_fwd(b.rows, c, b.x, b.gamma, b.beta, b.eps, 0.9f, NULL, NULL, y, sm, si);
        bn_naive(&b, b.yd, md, isd);
        tc_cmp("bn forward", y, b.yd, nx, 1e-5);
        tc_cmp("bn save_mean", sm, md, c, 1e-6);
        tc_cmp("bn save_invstd", si, isd, c, 1e-6);
        bn_vs_ops_ref(n, hw, c, b.x, b.gamma, b.beta, b.eps, sm, si, y);
        eos_tref_bn_bwd(b.rows, c, b.x, b.gamma, sm, si, b.r, dx, dg, dbt);
        tc_grad("bn dx", bn_loss, &b, b.xd, nx, dx, TC_H, TC_TOL);
        tc_grad("bn dgamma", bn_loss, &b, b.gd, c, dg, TC_H, TC_TOL);
        tc_grad("bn dbeta", bn_loss, &b, b.bd, c, dbt, TC_H, TC_TOL);
        memcpy(g2, dx, (size_t)nx * sizeof *g2);
        float *g2g = tc_zeros(c), *g2b = tc_zeros(c);
        if (g2g && g2b) {
            memcpy(g2g, dg, (size_t)c * sizeof *g2g);
            memcpy(g2b, dbt, (size_t)c * sizeof *g2b);
            eos_tref_bn_bwd(b.rows, c, b.x, b.gamma, sm, si, b.r, g2, g2g, g2b);
            tc_twice("bn dx", g2, dx, nx);
            tc_twice("bn dgamma", g2g, dg, c);
            tc_twice("bn dbeta", g2b, dbt, c);
            memset(g2g, 0, (size_t)c * sizeof *g2g);
            eos_tref_bn_bwd(b.rows, c, b.x, b.gamma, sm, si, b.r, NULL, g2g, NULL);
            EXPECT_TRUE(memcmp(g2g, dg, (size_t)c * sizeof *dg) == 0);
        }
        eos_free(g2g);
        eos_free(g2b);
    } else {
        TEST_FAIL_("out of memory");
    }
    eos_free(b.x); eos_free(b.gamma); eos_free(b.beta); eos_free(b.r);
    eos_free(b.xd); eos_free(b.gd); eos_free(b.bd); eos_free(b.yd);
    eos_free(md); eos_free(isd); eos_free(y); eos_free(sm); eos_free(si); eos_free(dx);
    eos_free(dg); eos_free(dbt); eos_free(g2);
}

static void test_bn(void) {
    bn_case(2, 9, 3, 11);
    bn_case(1, 4, 520, 21);         /* channels past one 512-wide tile */
}

/* Running statistics by hand: channel 0 = 1, 2, 3, 4 (mean 2.5, biased var 1.25, unbiased
 * 5/3), channel 1 = 0, 0, 2, -2 (mean 0, var 2, unbiased 8/3); momentum 0.9 (ONNX). */
static void test_bn_running_stats(void) {
    const float x[8] = { 1, 0, 2, 0, 3, 2, 4, -2 }, gamma[2] = { 2, 1 }, beta[2] = { 0.5f, 0 };
    float rm[2] = { 1, -1 }, rv[2] = { 2, 0.5f }, y[8], sm[2], si[2];
    eos_tref_bn_fwd(4, 2, x, gamma, beta, 1e-5f, 0.9f, rm, rv, y, sm, si);
    EXPECT_NEAR(rm[0], 0.9 * 1 + 0.1 * 2.5, 1e-6);
    EXPECT_NEAR(rm[1], 0.9 * -1 + 0.1 * 0, 1e-6);
    EXPECT_NEAR(rv[0], 0.9 * 2 + 0.1 * 5.0 / 3.0, 1e-6);
    EXPECT_NEAR(rv[1], 0.9 * 0.5 + 0.1 * 8.0 / 3.0, 1e-6);
    EXPECT_NEAR(sm[0], 2.5, 1e-7);
    EXPECT_NEAR(sm[1], 0.0, 1e-7);
    EXPECT_NEAR(si[0], 1.0 / sqrt(1.25 + 1e-5), 1e-6);
    EXPECT_NEAR(si[1], 1.0 / sqrt(2.0 + 1e-5), 1e-6);
    EXPECT_NEAR(y[0], 2 * (1 - 2.5) / sqrt(1.25 + 1e-5) + 0.5, 1e-5);
    EXPECT_NEAR(y[7], -2 / sqrt(2.0 + 1e-5), 1e-5);
    /* without running buffers nothing else changes */
    float y2[8];
    eos_tref_bn_fwd(4, 2, x, gamma, beta, 1e-5f, 0.9f, NULL, NULL, y2, sm, si);
    EXPECT_TRUE(memcmp(y, y2, sizeof y) == 0);
}

/* ------------------------------------------------------------------ activations */

typedef struct act_case {
    const char *name;
    eos_tact    a;
    eos_act     ref;             /* the inference activation with the same semantics */
    float       alpha, beta;
    float       kinks[2];
    int         n_kinks;
} act_case;

static const act_case ACTS[] = {
    { "relu",         EOS_TACT_RELU,         EOS_ACT_RELU,         0, 0, { 0, 0 }, 1 },
    { "leaky_relu",   EOS_TACT_LEAKY_RELU,   EOS_ACT_LEAKY_RELU,   0.1f, 0, { 0, 0 }, 1 },
    { "sigmoid",      EOS_TACT_SIGMOID,      EOS_ACT_SIGMOID,      0, 0, { 0, 0 }, 0 },
    { "tanh",         EOS_TACT_TANH,         EOS_ACT_TANH,         0, 0, { 0, 0 }, 0 },
    { "clip",         EOS_TACT_CLIP,         EOS_ACT_CLIP,         -1, 2, { -1, 2 }, 2 },
    { "hard_swish",   EOS_TACT_HARD_SWISH,   EOS_ACT_HARD_SWISH,   0, 0, { -3, 3 }, 2 },
    { "hard_sigmoid", EOS_TACT_HARD_SIGMOID, EOS_ACT_HARD_SIGMOID, 0.2f, 0.5f, { -2.5f, 2.5f }, 2 },
};

typedef struct act_ctx {
    const act_case *ac;
    int64_t n;
    float *r;
    double *xd, *yd;
} act_ctx;

/* Independent double formulas. */
static double act_naive(const act_case *ac, double x) {
    switch (ac->a) {
    case EOS_TACT_RELU:         return fmax(x, 0.0);
    case EOS_TACT_LEAKY_RELU:   return x < 0 ? ac->alpha * x : x;
    case EOS_TACT_SIGMOID:      return 0.5 * (1.0 + tanh(0.5 * x));
    case EOS_TACT_TANH:         return (exp(2 * x) - 1) / (exp(2 * x) + 1);
    case EOS_TACT_CLIP:         return fmin(fmax(x, ac->alpha), ac->beta);
    case EOS_TACT_HARD_SWISH:   return x * fmin(fmax(x + 3.0, 0.0), 6.0) / 6.0;
    case EOS_TACT_HARD_SIGMOID: return fmin(fmax((double)ac->alpha * x + ac->beta, 0.0), 1.0);
    }
    return x;
}

static double act_loss(void *v) {
    act_ctx *c = v;
    for (int64_t i = 0; i < c->n; i++) c->yd[i] = act_naive(c->ac, c->xd[i]);
    return tc_project(c->yd, c->r, c->n);
}

static void act_case_run(const act_case *ac, uint64_t seed) {
    enum { N = 96 };
    float x[N], y[N], r[N], dx[N], dx2[N], dxn[N];
    double xd[N], yd[N];
    test_fill_uniform(x, N, -4.5f, 4.5f, seed);
    test_fill_uniform(r, N, -1, 1, seed + 1);
    for (int i = 0; i < N; i++)            /* keep finite differences off the kinks */
        for (int k = 0; k < ac->n_kinks; k++)
            if (fabsf(x[i] - ac->kinks[k]) < 0.02f) x[i] += 0.05f;
    for (int i = 0; i < N; i++) xd[i] = x[i];
    act_ctx c = { ac, N, r, xd, yd };
    printf("  %s\n", ac->name);
    eos_tref_act_fwd(ac->a, ac->alpha, ac->beta, N, x, y);
    act_loss(&c);
    tc_cmp(ac->name, y, yd, N, 1e-6);
    for (int i = 0; i < N; i++)
        if (y[i] != eos_act_apply(ac->ref, ac->alpha, ac->beta, x[i])) {
            TEST_FAIL_("%s(%g) = %g, inference reference %g", ac->name, (double)x[i],
                       (double)y[i], (double)eos_act_apply(ac->ref, ac->alpha, ac->beta, x[i]));
            break;
        }
    memset(dx, 0, sizeof dx);
    memset(dxn, 0, sizeof dxn);
    eos_tref_act_bwd(ac->a, ac->alpha, ac->beta, N, x, y, r, dx);
    eos_tref_act_bwd(ac->a, ac->alpha, ac->beta, N, x, NULL, r, dxn);   /* y not given */
    tc_grad(ac->name, act_loss, &c, xd, N, dx, TC_H, TC_TOL);
    EXPECT_TRUE(test_max_rel_err(dxn, dx, N) < 1e-6);
    memcpy(dx2, dx, sizeof dx);
    eos_tref_act_bwd(ac->a, ac->alpha, ac->beta, N, x, y, r, dx2);
    tc_twice(ac->name, dx2, dx, N);
}

static void test_activations(void) {
    for (size_t i = 0; i < sizeof ACTS / sizeof ACTS[0]; i++) act_case_run(&ACTS[i], 40 + 3 * i);
}

/* Derivatives on the kinks, by hand (PyTorch): relu'(0) = 0, leaky'(0) = slope, clip (hardtanh)
 * 0 on both bounds, hard_swish'(-3) = -1/2 and (3) = 3/2 (x/3 + 1/2 on [-3, 3]), hard_sigmoid
 * 0 where alpha*x + beta hits 0 or 1. */
static float dact_at(eos_tact a, float alpha, float beta, float x) {
    float dy = 1, dx = 0, y;
    eos_tref_act_fwd(a, alpha, beta, 1, &x, &y);
    eos_tref_act_bwd(a, alpha, beta, 1, &x, &y, &dy, &dx);
    return dx;
}

static void test_activation_kinks(void) {
    EXPECT_NEAR(dact_at(EOS_TACT_RELU, 0, 0, 0), 0, 0);
    EXPECT_NEAR(dact_at(EOS_TACT_RELU, 0, 0, 1e-30f), 1, 0);
    EXPECT_NEAR(dact_at(EOS_TACT_LEAKY_RELU, 0.1f, 0, 0), 0.1f, 0);
    EXPECT_NEAR(dact_at(EOS_TACT_LEAKY_RELU, 0.1f, 0, -2), 0.1f, 0);
    EXPECT_NEAR(dact_at(EOS_TACT_CLIP, 0, 6, 0), 0, 0);
    EXPECT_NEAR(dact_at(EOS_TACT_CLIP, 0, 6, 6), 0, 0);
    EXPECT_NEAR(dact_at(EOS_TACT_CLIP, 0, 6, 3), 1, 0);
    EXPECT_NEAR(dact_at(EOS_TACT_HARD_SWISH, 0, 0, -3), -0.5, 1e-7);
    EXPECT_NEAR(dact_at(EOS_TACT_HARD_SWISH, 0, 0, 3), 1.5, 1e-7);
    EXPECT_NEAR(dact_at(EOS_TACT_HARD_SWISH, 0, 0, -3.5f), 0, 0);
    EXPECT_NEAR(dact_at(EOS_TACT_HARD_SWISH, 0, 0, 3.5f), 1, 0);
    EXPECT_NEAR(dact_at(EOS_TACT_HARD_SIGMOID, 0.2f, 0.5f, -2.5f), 0, 0);
    EXPECT_NEAR(dact_at(EOS_TACT_HARD_SIGMOID, 0.2f, 0.5f, 2.5f), 0, 0);
    EXPECT_NEAR(dact_at(EOS_TACT_HARD_SIGMOID, 0.2f, 0.5f, 1), 0.2f, 0);
    EXPECT_NEAR(dact_at(EOS_TACT_SIGMOID, 0, 0, 0), 0.25, 1e-7);
    EXPECT_NEAR(dact_at(EOS_TACT_TANH, 0, 0, 0), 1, 1e-7);
}

/* ------------------------------------------------------------------ pooling */

typedef struct pool_ctx {
    eos_tpool p;
    int64_t nx, ny;
    float *r;
    double *xd, *yd;
} pool_ctx;

static void pool_naive(const eos_tpool *p, const double *x, double *y) {
    for (int64_t n = 0; n < p->n; n++)
    for (int64_t oy = 0; oy < p->h_out; oy++)
    for (int64_t ox = 0; ox < p->w_out; ox++)
    for (int64_t c = 0; c < p->c; c++) {
        double best = -INFINITY, sum = 0.0;
        int64_t cnt = 0, cnt_pad = 0;
        for (int64_t ky = 0; ky < p->kh; ky++)
        for (int64_t kx = 0; kx < p->kw; kx++) {
            int64_t iy = oy * p->sh - p->pt + ky, ix = ox * p->sw - p->pl + kx;
            if (iy >= -p->pt && iy < p->h_in + p->pb && ix >= -p->pl && ix < p->w_in + p->pr)
                cnt_pad++;
            if (iy < 0 || iy >= p->h_in || ix < 0 || ix >= p->w_in) continue;
            double v = x[((n * p->h_in + iy) * p->w_in + ix) * p->c + c];
            best = v > best ? v : best;
            sum += v;
            cnt++;
        }
        y[((n * p->h_out + oy) * p->w_out + ox) * p->c + c] =
            p->is_max ? best : sum / (double)(p->count_include_pad ? cnt_pad : cnt);
    }
}

static double pool_loss(void *v) {
    pool_ctx *c = v;
    pool_naive(&c->p, c->xd, c->yd);
    return tc_project(c->yd, c->r, c->ny);
}

/* MaxPool Indices of ops/ref are NCHW flat offsets (first maximum); ours NHWC flat offsets. */
static void check_indices(const eos_tpool *p, const int64_t *ref, const int64_t *argmax) {
    int64_t hw = p->h_in * p->w_in, ohw = p->h_out * p->w_out;
    for (int64_t n = 0; n < p->n; n++)
        for (int64_t c = 0; c < p->c; c++)
            for (int64_t o = 0; o < ohw; o++) {
                int64_t r = ref[(n * p->c + c) * ohw + o], want = (n * hw + r % hw) * p->c + c;
                int64_t got = argmax[(n * ohw + o) * p->c + c];
                if (got != want) {
                    TEST_FAIL_("argmax (n %lld, o %lld, c %lld): %lld, ops/ref %lld", (long long)n,
                               (long long)o, (long long)c, (long long)got, (long long)want);
                    return;
                }
            }
}

/* The same pool through src/ops/ref (MaxPool with Indices, or AveragePool) on NCHW data. */
static void pool_vs_ops_ref(const eos_tpool *p, const float *x, const float *y,
                            const int64_t *argmax) {
    op_node t;
    eos_err err;
    op_init(&t, p->is_max ? EOS_OP_MAX_POOL : EOS_OP_AVERAGE_POOL, 1, p->is_max ? 2 : 1, 13);
    int64_t ks[2] = { p->kh, p->kw }, st[2] = { p->sh, p->sw }, pads[4] = { p->pt, p->pl, p->pb, p->pr };
    op_ints(&t, "kernel_shape", ks, 2);
    op_ints(&t, "strides", st, 2);
    op_ints(&t, "pads", pads, 4);
    if (!p->is_max) op_int(&t, "count_include_pad", p->count_include_pad);
    int64_t nx = p->n * p->h_in * p->w_in * p->c, ny = p->n * p->h_out * p->w_out * p->c;
    float *xc = tc_zeros(nx), *yr = tc_zeros(ny);
    ASSERT_TRUE(xc && yr);
    tc_nhwc_to_nchw(p->n, p->h_in, p->w_in, p->c, x, xc);
    eos_tensor in[1] = { op_t(EOS_DTYPE_F32, 4, D(p->n, p->c, p->h_in, p->w_in), xc) }, out[2];
    eos_status st_ = op_run(&t.n, in, out, &err);
    EXPECT_OK(st_);
    if (st_ == EOS_OK) {
        EXPECT_SHAPE(out[0], p->n, p->c, p->h_out, p->w_out);
        tc_nchw_to_nhwc(p->n, p->c, p->h_out, p->w_out, out[0].data, yr);
        printf("    %-40s fwd vs ops/ref max rel err %.2e\n", p->is_max ? "max pool" : "avg pool",
               tc_cmpf("pool vs ops/ref", y, yr, ny, 1e-6));
        if (p->is_max && argmax) check_indices(p, out[1].data, argmax);
        op_free(out, p->is_max ? 2 : 1);
    }
    eos_free(xc);
    eos_free(yr);
}

/* Distinct input values (a shuffled ramp, gaps of 0.01) so a max never ties. */
static void distinct_values(float *x, int64_t n, uint64_t seed) {
    eos_rng r;
    eos_rng_seed(&r, seed);
    for (int64_t i = 0; i < n; i++) x[i] = -1.0f + 0.01f * (float)i;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)eos_rng_below(&r, (uint64_t)i + 1);
        float t = x[i];
        x[i] = x[j];
        x[j] = t;
    }
}

static void pool_case(const char *name, eos_tpool p, uint64_t seed) {
    pool_ctx c = { .p = p };
    c.nx = p.n * p.h_in * p.w_in * p.c;
    c.ny = p.n * p.h_out * p.w_out * p.c;
    printf("  %s\n", name);
    float *x = tc_zeros(c.nx), *y = tc_zeros(c.ny), *dx = tc_zeros(c.nx), *dx2 = tc_zeros(c.nx);
    int64_t *arg = eos_malloc((size_t)c.ny * sizeof *arg);
    c.r = tc_rand(c.ny, -1, 1, seed + 1);
    c.yd = eos_malloc((size_t)c.ny * sizeof *c.yd);
    if (x && y && dx && dx2 && arg && c.r && c.yd) {
        distinct_values(x, c.nx, seed);
        c.xd = tc_dup(x, c.nx);
        eos_tref_pool_fwd(&p, x, y, arg);
        pool_loss(&c);
        tc_cmp(name, y, c.yd, c.ny, 1e-6);
        pool_vs_ops_ref(&p, x, y, p.is_max ? arg : NULL);
        eos_tref_pool_bwd(&p, x, p.is_max ? arg : NULL, c.r, dx);
        tc_grad(name, pool_loss, &c, c.xd, c.nx, dx, TC_H, TC_TOL);
        eos_tref_pool_bwd(&p, x, NULL, c.r, dx2);            /* max: argmax recomputed */
        EXPECT_TRUE(memcmp(dx, dx2, (size_t)c.nx * sizeof *dx) == 0);
        eos_tref_pool_bwd(&p, x, p.is_max ? arg : NULL, c.r, dx2);
        tc_twice(name, dx2, dx, c.nx);
    } else {
        TEST_FAIL_("out of memory");
    }
    eos_free(x); eos_free(y); eos_free(dx); eos_free(dx2); eos_free(arg);
    eos_free(c.r); eos_free(c.xd); eos_free(c.yd);
}

static eos_tpool pool_geo(int64_t n, int64_t c, int64_t h, int64_t w, int64_t k, int64_t s,
                          int64_t pt, int64_t pl, int64_t pb, int64_t pr, bool is_max, bool cip) {
    eos_tpool p = { .n = n, .c = c, .h_in = h, .w_in = w, .kh = k, .kw = k, .sh = s, .sw = s,
                    .pt = pt, .pl = pl, .pb = pb, .pr = pr, .is_max = is_max,
                    .count_include_pad = cip };
    p.h_out = (h + pt + pb - k) / s + 1;
    p.w_out = (w + pl + pr - k) / s + 1;
    return p;
}

static void test_pool(void) {
    pool_case("max 3x3 s2 pad 1", pool_geo(2, 3, 5, 6, 3, 2, 1, 1, 1, 1, true, false), 61);
    pool_case("max 2x2 s2", pool_geo(1, 4, 4, 6, 2, 2, 0, 0, 0, 0, true, false), 62);
    pool_case("avg 3x3 s2 pad 1", pool_geo(2, 3, 5, 6, 3, 2, 1, 1, 1, 1, false, false), 63);
    pool_case("avg 3x3 s2 pad 1 count_include_pad", pool_geo(2, 3, 5, 6, 3, 2, 1, 1, 1, 1, false, true), 64);
    pool_case("avg 2x2 s1 asym pads count_include_pad", pool_geo(1, 2, 4, 3, 2, 1, 0, 1, 1, 0, false, true), 65);
    pool_case("max 3x3 s1 pad 1 c 520 (tiles)", pool_geo(1, 520, 2, 2, 3, 1, 1, 1, 1, 1, true, false), 66);
    pool_case("avg 3x3 s1 pad 1 c 520 (tiles)", pool_geo(1, 520, 2, 2, 3, 1, 1, 1, 1, 1, false, false), 67);
}

/* Ties and padding by hand: x = [[-1, -1], [-3, -2]] (one channel), 2x2 window, stride 1,
 * pad 1: 3x3 outputs. Padding never wins (all inputs negative); the tie between x[0][0] and
 * x[0][1] goes to the first in window order, as ops/ref's Indices. dy = 1 everywhere. */
static void test_max_pool_ties(void) {
    eos_tpool p = pool_geo(1, 1, 2, 2, 2, 1, 1, 1, 1, 1, true, false);
    const float x[4] = { -1, -1, -3, -2 };
    float y[9], dx[4] = { 0 }, dx2[4] = { 0 }, dy[9];
    int64_t arg[9];
    for (int i = 0; i < 9; i++) dy[i] = 1;
    eos_tref_pool_fwd(&p, x, y, arg);
    EXPECT_F32_ARRAY(y, ((const float[]){ -1, -1, -1, -1, -1, -1, -3, -2, -2 }), 9, 0);
    EXPECT_I64_ARRAY(arg, ((const int64_t[]){ 0, 0, 1, 0, 0, 1, 2, 3, 3 }), 9);
    pool_vs_ops_ref(&p, x, y, arg);
    eos_tref_pool_bwd(&p, x, arg, dy, dx);
    EXPECT_F32_ARRAY(dx, ((const float[]){ 4, 2, 1, 2 }), 4, 0);
    eos_tref_pool_bwd(&p, x, NULL, dy, dx2);
    EXPECT_F32_ARRAY(dx2, dx, 4, 0);
    /* an exact tie: all four equal, 2x2 window, no pad: the first element gets it */
    const float t[4] = { 5, 5, 5, 5 };
    eos_tpool q = pool_geo(1, 1, 2, 2, 2, 1, 0, 0, 0, 0, true, false);
    float ty, tdx[4] = { 0 }, one = 1;
    int64_t targ;
    eos_tref_pool_fwd(&q, t, &ty, &targ);
    EXPECT_EQ_INT(targ, 0);
    eos_tref_pool_bwd(&q, t, NULL, &one, tdx);
    EXPECT_F32_ARRAY(tdx, ((const float[]){ 1, 0, 0, 0 }), 4, 0);
}

/* ------------------------------------------------------------------ global average pool */

typedef struct gap_ctx {
    int64_t n, hw, c;
    float *r;
    double *xd, *yd;
} gap_ctx;

static double gap_loss(void *v) {
    gap_ctx *g = v;
    for (int64_t b = 0; b < g->n; b++)
        for (int64_t j = 0; j < g->c; j++) {
            double s = 0.0;
            for (int64_t i = 0; i < g->hw; i++) s += g->xd[(b * g->hw + i) * g->c + j];
            g->yd[b * g->c + j] = s / (double)g->hw;
        }
    return tc_project(g->yd, g->r, g->n * g->c);
}

static void gap_case(int64_t n, int64_t h, int64_t w, int64_t c, uint64_t seed) {
    gap_ctx g = { n, h * w, c, NULL, NULL, NULL };
    int64_t nx = n * h * w * c, ny = n * c;
    printf("  gap %lldx%lld c %lld\n", (long long)h, (long long)w, (long long)c);
    float *x = tc_rand(nx, -1, 1, seed), *y = tc_zeros(ny), *dx = tc_zeros(nx), *dx2 = tc_zeros(nx);
    float *xc = tc_zeros(nx);
    g.r = tc_rand(ny, -1, 1, seed + 1);
    g.xd = tc_dup(x, nx);
    g.yd = eos_malloc((size_t)ny * sizeof *g.yd);
    ASSERT_TRUE(x && y && dx && dx2 && xc && g.r && g.xd && g.yd);
    eos_tref_gap_fwd(n, h * w, c, x, y);
    gap_loss(&g);
    tc_cmp("gap forward", y, g.yd, ny, 1e-6);
    op_node t;
    eos_err err;
    op_init(&t, EOS_OP_GLOBAL_AVERAGE_POOL, 1, 1, 13);
    tc_nhwc_to_nchw(n, h, w, c, x, xc);
    eos_tensor in[1] = { op_t(EOS_DTYPE_F32, 4, D(n, c, h, w), xc) }, out[1];
    eos_status st = op_run(&t.n, in, out, &err);
    EXPECT_OK(st);
    if (st == EOS_OK) {
        printf("    %-40s fwd vs ops/ref max rel err %.2e\n", "gap",
               tc_cmpf("gap vs ops/ref", y, out[0].data, ny, 1e-6));
        op_free(out, 1);
    }
    eos_tref_gap_bwd(n, h * w, c, g.r, dx);
    tc_grad("gap dx", gap_loss, &g, g.xd, nx, dx, TC_H, TC_TOL);
    memcpy(dx2, dx, (size_t)nx * sizeof *dx);
    eos_tref_gap_bwd(n, h * w, c, g.r, dx2);
    tc_twice("gap dx", dx2, dx, nx);
    eos_free(x); eos_free(y); eos_free(dx); eos_free(dx2); eos_free(xc);
    eos_free(g.r); eos_free(g.xd); eos_free(g.yd);
}

static void test_gap(void) {
    gap_case(2, 3, 4, 5, 71);
    gap_case(1, 2, 3, 520, 72);
}

/* ------------------------------------------------------------------ gemm */

typedef struct gemm_ctx {
    int64_t m, k, n;
    bool tb;
    float alpha, beta;
    float *r;
    double *xd, *bd, *cd, *yd;
} gemm_ctx;

static double gemm_loss(void *v) {
    gemm_ctx *g = v;
    for (int64_t i = 0; i < g->m; i++)
        for (int64_t j = 0; j < g->n; j++) {
            double s = 0.0;
            for (int64_t p = 0; p < g->k; p++)
                s += g->xd[i * g->k + p] * (g->tb ? g->bd[j * g->k + p] : g->bd[p * g->n + j]);
            g->yd[i * g->n + j] = g->alpha * s + (g->cd ? g->beta * g->cd[j] : 0.0);
        }
    return tc_project(g->yd, g->r, g->m * g->n);
}

static void gemm_vs_ops_ref(const gemm_ctx *g, const float *x, const float *b, const float *c,
                            const float *y) {
    op_node t;
    eos_err err;
    op_init(&t, EOS_OP_GEMM, c ? 3 : 2, 1, 13);
    op_int(&t, "transB", g->tb);
    op_float(&t, "alpha", g->alpha);
    op_float(&t, "beta", g->beta);
    eos_tensor in[3] = { op_t(EOS_DTYPE_F32, 2, D(g->m, g->k), x),
                         op_t(EOS_DTYPE_F32, 2, g->tb ? D(g->n, g->k) : D(g->k, g->n), b),
                         op_t(EOS_DTYPE_F32, 1, D(g->n), c) }, out[1];
    eos_status st = op_run(&t.n, in, out, &err);
    EXPECT_OK(st);
    if (st != EOS_OK) return;
    EXPECT_SHAPE(out[0], g->m, g->n);
    printf("    %-40s fwd vs ops/ref max rel err %.2e\n", "gemm",
           tc_cmpf("gemm vs ops/ref", y, out[0].data, g->m * g->n, 1e-6));
    op_free(out, 1);
}

static void gemm_case(int64_t m, int64_t k, int64_t n, bool tb, float alpha, float beta,
                      bool with_c, uint64_t seed) {
    gemm_ctx g = { m, k, n, tb, alpha, beta, NULL, NULL, NULL, NULL, NULL };
    printf("  gemm %lldx%lldx%lld trans_b %d alpha %g beta %g%s\n", (long long)m, (long long)k,
           (long long)n, tb, (double)alpha, (double)beta, with_c ? "" : " no C");
    float *x = tc_rand(m * k, -1, 1, seed), *b = tc_rand(k * n, -1, 1, seed + 1);
    float *c = with_c ? tc_rand(n, -1, 1, seed + 2) : NULL, *y = tc_zeros(m * n);
    float *dx = tc_zeros(m * k), *db = tc_zeros(k * n), *dc = tc_zeros(n);
    float *gx = tc_zeros(m * k), *gb = tc_zeros(k * n), *gc = tc_zeros(n);
    g.r = tc_rand(m * n, -1, 1, seed + 3);
    g.xd = tc_dup(x, m * k);
    g.bd = tc_dup(b, k * n);
    g.cd = tc_dup(c, n);
    g.yd = eos_malloc((size_t)(m * n) * sizeof *g.yd);
    ASSERT_TRUE(x && b && (c || !with_c) && y && dx && db && dc && gx && gb && gc && g.r && g.xd &&
                g.bd && (g.cd || !with_c) && g.yd);
    eos_tref_gemm_fwd(m, k, n, tb, alpha, beta, x, b, c, y);
    gemm_loss(&g);
    tc_cmp("gemm forward", y, g.yd, m * n, 1e-6);
    gemm_vs_ops_ref(&g, x, b, c, y);
    eos_tref_gemm_bwd(m, k, n, tb, alpha, beta, x, b, g.r, dx, db, with_c ? dc : NULL);
    tc_grad("gemm dx", gemm_loss, &g, g.xd, m * k, dx, TC_H, TC_TOL);
    tc_grad("gemm dB", gemm_loss, &g, g.bd, k * n, db, TC_H, TC_TOL);
    if (with_c) tc_grad("gemm dC", gemm_loss, &g, g.cd, n, dc, TC_H, TC_TOL);
    memcpy(gx, dx, (size_t)(m * k) * sizeof *gx);
    memcpy(gb, db, (size_t)(k * n) * sizeof *gb);
    memcpy(gc, dc, (size_t)n * sizeof *gc);
    eos_tref_gemm_bwd(m, k, n, tb, alpha, beta, x, b, g.r, gx, gb, with_c ? gc : NULL);
    tc_twice("gemm dx", gx, dx, m * k);
    tc_twice("gemm dB", gb, db, k * n);
    tc_twice("gemm dC", gc, dc, n);
    memset(gb, 0, (size_t)(k * n) * sizeof *gb);
    eos_tref_gemm_bwd(m, k, n, tb, alpha, beta, x, b, g.r, NULL, gb, NULL);
    EXPECT_TRUE(memcmp(gb, db, (size_t)(k * n) * sizeof *gb) == 0);
    eos_free(x); eos_free(b); eos_free(c); eos_free(y); eos_free(dx); eos_free(db);
    eos_free(dc); eos_free(gx); eos_free(gb); eos_free(gc);
    eos_free(g.r); eos_free(g.xd); eos_free(g.bd); eos_free(g.cd); eos_free(g.yd);
}

static void test_gemm(void) {
    gemm_case(3, 4, 5, false, 1.0f, 1.0f, true, 81);
    gemm_case(3, 4, 5, true, 1.0f, 1.0f, true, 82);
    gemm_case(4, 6, 3, true, 0.5f, 2.0f, true, 83);
    gemm_case(2, 5, 4, false, -1.5f, 0.25f, true, 84);
    gemm_case(3, 4, 2, false, 1.0f, 1.0f, false, 85);
    gemm_case(3, 8, 600, false, 1.0f, 1.0f, true, 86);     /* rows past one 512-wide tile */
    gemm_case(3, 600, 4, true, 1.0f, 1.0f, true, 87);
}

TEST_MAIN(TEST(test_bn), TEST(test_bn_running_stats), TEST(test_activations),
          TEST(test_activation_kinks), TEST(test_pool), TEST(test_max_pool_ties), TEST(test_gap),
          TEST(test_gemm))
