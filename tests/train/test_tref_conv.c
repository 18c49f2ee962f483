/*
 * tests/train/test_tref_conv.c - reference training Conv / ConvTranspose (src/train/tref.h).
 *
 * For each geometry (1x1, 3x3, 5x5, stride 2, dilation 2, asymmetric pads, groups 2,
 * depthwise, no bias, channel counts past the kernels' 512-wide tiles; transposed 2x2 stride 2,
 * 3x3 stride 2 with output_padding, grouped/dilated/asymmetric transposed):
 *   - the forward equals the inference reference kernel of src/ops/ref (NCHW, run through
 *     eos_op_ref with ONNX attributes, layouts converted here), output shape included, and a
 *     naive double-precision formula written here;
 *   - dx, dw, db equal central differences of L = sum(r * y) in double (tref_check.h), and a
 *     1.01-scaled gradient is rejected;
 *   - a second backward call doubles every gradient; NULL gradients are skipped.
 * A deliberately wrong weight gradient (from the transposed tap order) must fail the check.
 */
#include "ops/op_test.h"
#include "train/tref_check.h"

typedef struct conv_case {
    const char *name;
    int64_t n, ci, h, w, co, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, group, oph, opw;
    bool transposed, no_bias;
} conv_case;

/* Problem data: float inputs, their double copies and the projection r over y. */
typedef struct conv_ctx {
    eos_tconv p;
    int64_t nx, nw, ny;
    float *x, *w, *b, *r;
    double *xd, *wd, *bd, *yd;
} conv_ctx;

static eos_tconv make_params(const conv_case *c) {
    eos_tconv p = { .n = c->n, .c_in = c->ci, .h_in = c->h, .w_in = c->w, .c_out = c->co,
                    .kh = c->kh, .kw = c->kw, .sh = c->sh, .sw = c->sw, .dh = c->dh, .dw = c->dw,
                    .pt = c->pt, .pl = c->pl, .pb = c->pb, .pr = c->pr, .group = c->group,
                    .transposed = c->transposed };
    int64_t ekh = (c->kh - 1) * c->dh + 1, ekw = (c->kw - 1) * c->dw + 1;
    if (!c->transposed) {
        p.h_out = (c->h + c->pt + c->pb - ekh) / c->sh + 1;
        p.w_out = (c->w + c->pl + c->pr - ekw) / c->sw + 1;
    } else {
        p.h_out = c->sh * (c->h - 1) + c->oph + ekh - c->pt - c->pb;
        p.w_out = c->sw * (c->w - 1) + c->opw + ekw - c->pl - c->pr;
    }
    return p;
}

/* Naive Conv in double, output-driven: y[n,o,oc] = b + sum w[oc,j,k] x[n, o*s-p+k*d, g*cig+j]. */
static void conv_naive(const eos_tconv *p, const double *x, const double *w, const double *b,
                       double *y) {
    int64_t cig = p->c_in / p->group, cog = p->c_out / p->group;
    for (int64_t n = 0; n < p->n; n++)
    for (int64_t oy = 0; oy < p->h_out; oy++)
    for (int64_t ox = 0; ox < p->w_out; ox++)
    for (int64_t oc = 0; oc < p->c_out; oc++) {
        double s = b ? b[oc] : 0.0;
        for (int64_t j = 0; j < cig; j++)
        for (int64_t ky = 0; ky < p->kh; ky++)
        for (int64_t kx = 0; kx < p->kw; kx++) {
            int64_t iy = oy * p->sh - p->pt + ky * p->dh, ix = ox * p->sw - p->pl + kx * p->dw;
            if (iy < 0 || iy >= p->h_in || ix < 0 || ix >= p->w_in) continue;
            s += w[((oc * cig + j) * p->kh + ky) * p->kw + kx] *
                 x[((n * p->h_in + iy) * p->w_in + ix) * p->c_in + (oc / cog) * cig + j];
        }
        y[((n * p->h_out + oy) * p->w_out + ox) * p->c_out + oc] = s;
    }
}

/* Naive ConvTranspose in double, output-driven: every input i and tap k with
 * o = i*s - p + k*d contributes x[n,i,ic] * w[ic, oc % cog, k] (ic in oc's group). */
static void conv_t_naive(const eos_tconv *p, const double *x, const double *w, const double *b,
                         double *y) {
    int64_t cig = p->c_in / p->group, cog = p->c_out / p->group;
    for (int64_t n = 0; n < p->n; n++)
    for (int64_t oy = 0; oy < p->h_out; oy++)
    for (int64_t ox = 0; ox < p->w_out; ox++)
    for (int64_t oc = 0; oc < p->c_out; oc++) {
        double s = b ? b[oc] : 0.0;
        for (int64_t iy = 0; iy < p->h_in; iy++)
        for (int64_t ix = 0; ix < p->w_in; ix++)
        for (int64_t ky = 0; ky < p->kh; ky++)
        for (int64_t kx = 0; kx < p->kw; kx++) {
            if (iy * p->sh - p->pt + ky * p->dh != oy || ix * p->sw - p->pl + kx * p->dw != ox)
                continue;
            for (int64_t j = 0; j < cig; j++) {
                int64_t ic = (oc / cog) * cig + j;
                s += x[((n * p->h_in + iy) * p->w_in + ix) * p->c_in + ic] *
                     w[((ic * cog + oc % cog) * p->kh + ky) * p->kw + kx];
            }
        }
        y[((n * p->h_out + oy) * p->w_out + ox) * p->c_out + oc] = s;
    }
}

static double conv_loss(void *vctx) {
    conv_ctx *c = vctx;
    if (c->p.transposed) conv_t_naive(&c->p, c->xd, c->wd, c->bd, c->yd);
    else conv_naive(&c->p, c->xd, c->wd, c->bd, c->yd);
    return tc_project(c->yd, c->r, c->ny);
}

static bool ctx_init(conv_ctx *c, const conv_case *cc, uint64_t seed) {
    memset(c, 0, sizeof *c);
    c->p = make_params(cc);
    const eos_tconv *p = &c->p;
    c->nx = p->n * p->c_in * p->h_in * p->w_in;
    c->nw = p->transposed ? p->c_in * (p->c_out / p->group) * p->kh * p->kw
                          : p->c_out * (p->c_in / p->group) * p->kh * p->kw;
    c->ny = p->n * p->c_out * p->h_out * p->w_out;
    c->x = tc_rand(c->nx, -1, 1, seed);
    c->w = tc_rand(c->nw, -1, 1, seed + 1);
    c->b = cc->no_bias ? NULL : tc_rand(p->c_out, -1, 1, seed + 2);
    c->r = tc_rand(c->ny, -1, 1, seed + 3);
    c->xd = tc_dup(c->x, c->nx);
    c->wd = tc_dup(c->w, c->nw);
    c->bd = tc_dup(c->b, p->c_out);
    c->yd = eos_malloc((size_t)c->ny * sizeof *c->yd);
    return c->x && c->w && (c->b || cc->no_bias) && c->r && c->xd && c->wd &&
           (c->bd || cc->no_bias) && c->yd;
}

static void ctx_free(conv_ctx *c) {
    eos_free(c->x); eos_free(c->w); eos_free(c->b); eos_free(c->r);
    eos_free(c->xd); eos_free(c->wd); eos_free(c->bd); eos_free(c->yd);
}

/* The forward through src/ops/ref (NCHW) on the same data, converted back to NHWC. */
static void check_vs_ops_ref(const conv_case *cc, const conv_ctx *c, const float *y) {
    const eos_tconv *p = &c->p;
    op_node t;
    eos_err err;
    op_init(&t, cc->transposed ? EOS_OP_CONV_TRANSPOSE : EOS_OP_CONV, c->b ? 3 : 2, 1, 13);
    int64_t ks[2] = { cc->kh, cc->kw }, st[2] = { cc->sh, cc->sw }, dl[2] = { cc->dh, cc->dw };
    int64_t pads[4] = { cc->pt, cc->pl, cc->pb, cc->pr }, op[2] = { cc->oph, cc->opw };
    op_ints(&t, "kernel_shape", ks, 2);
    op_ints(&t, "strides", st, 2);
    op_ints(&t, "dilations", dl, 2);
    op_ints(&t, "pads", pads, 4);
    op_int(&t, "group", cc->group);
    if (cc->transposed) op_ints(&t, "output_padding", op, 2);
    float *xc = tc_zeros(c->nx), *yr = tc_zeros(c->ny);
    ASSERT_TRUE(xc && yr);
    tc_nhwc_to_nchw(p->n, p->h_in, p->w_in, p->c_in, c->x, xc);
    int64_t wdims[4] = { cc->transposed ? p->c_in : p->c_out,
                         cc->transposed ? p->c_out / p->group : p->c_in / p->group, p->kh, p->kw };
    eos_tensor in[3] = { op_t(EOS_DTYPE_F32, 4, D(p->n, p->c_in, p->h_in, p->w_in), xc),
                         op_t(EOS_DTYPE_F32, 4, wdims, c->w),
                         op_t(EOS_DTYPE_F32, 1, D(p->c_out), c->b) }, out[1];
    eos_status st_ = op_run(&t.n, in, out, &err);
    EXPECT_OK(st_);
    if (st_ == EOS_OK) {
        EXPECT_SHAPE(out[0], p->n, p->c_out, p->h_out, p->w_out);
        if (eos_tensor_numel(&out[0]) == c->ny) {
            tc_nchw_to_nhwc(p->n, p->c_out, p->h_out, p->w_out, out[0].data, yr);
            double e = tc_cmpf("forward vs ops/ref", y, yr, c->ny, 1e-5);
            printf("    %-40s fwd vs ops/ref max rel err %.2e\n", cc->name, e);
        }
        op_free(out, 1);
    }
    eos_free(xc);
    eos_free(yr);
}

/* Second backward call doubles; NULL gradients skip (each alone gives the same values). */
static void check_accumulate(const conv_ctx *c, const float *dx, const float *dw, const float *db) {
    const eos_tconv *p = &c->p;
    float *gx = tc_zeros(c->nx), *gw = tc_zeros(c->nw), *gb = tc_zeros(p->c_out);
    ASSERT_TRUE(gx && gw && gb);
    memcpy(gx, dx, (size_t)c->nx * sizeof *gx);
    memcpy(gw, dw, (size_t)c->nw * sizeof *gw);
    memcpy(gb, db, (size_t)p->c_out * sizeof *gb);
    eos_tref_conv_bwd(p, c->x, c->w, c->r, gx, gw, c->b ? gb : NULL);
    tc_twice("dx", gx, dx, c->nx);
    tc_twice("dw", gw, dw, c->nw);
    if (c->b) tc_twice("db", gb, db, p->c_out);
    memset(gw, 0, (size_t)c->nw * sizeof *gw);
    eos_tref_conv_bwd(p, c->x, c->w, c->r, NULL, gw, NULL);
    EXPECT_TRUE(memcmp(gw, dw, (size_t)c->nw * sizeof *gw) == 0);
    memset(gx, 0, (size_t)c->nx * sizeof *gx);
    eos_tref_conv_bwd(p, c->x, c->w, c->r, gx, NULL, NULL);
    EXPECT_TRUE(memcmp(gx, dx, (size_t)c->nx * sizeof *gx) == 0);
    eos_free(gx);
    eos_free(gw);
    eos_free(gb);
}

static void run_case(const conv_case *cc, uint64_t seed) {
    conv_ctx c;
    printf("  %s\n", cc->name);
    if (!ctx_init(&c, cc, seed)) {
        TEST_FAIL_("%s: out of memory", cc->name);
        ctx_free(&c);
        return;
    }
    const eos_tconv *p = &c.p;
    float *y = tc_zeros(c.ny), *dx = tc_zeros(c.nx), *dw = tc_zeros(c.nw);
    float *db = tc_zeros(p->c_out);
    if (!y || !dx || !dw || !db) {
        TEST_FAIL_("%s: out of memory", cc->name);
    } else {
        eos_tref_conv_fwd(p, c.x, c.w, c.b, y);
        conv_loss(&c);
        tc_cmp("forward vs naive double", y, c.yd, c.ny, 1e-5);
        check_vs_ops_ref(cc, &c, y);
        eos_tref_conv_bwd(p, c.x, c.w, c.r, dx, dw, c.b ? db : NULL);
        tc_grad("dx", conv_loss, &c, c.xd, c.nx, dx, TC_H, TC_TOL);
        tc_grad("dw", conv_loss, &c, c.wd, c.nw, dw, TC_H, TC_TOL);
        if (c.b) tc_grad("db", conv_loss, &c, c.bd, p->c_out, db, TC_H, TC_TOL);
        check_accumulate(&c, dx, dw, db);
    }
    eos_free(y);
    eos_free(dx);
    eos_free(dw);
    eos_free(db);
    ctx_free(&c);
}

/*                     name                      n  ci  h  w  co kh kw sh sw dh dw pt pl pb pr  g  oph opw */
static const conv_case CONV_CASES[] = {
    { "conv 1x1",                               2,  4, 4, 5,  3, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0, false, false },
    { "conv 3x3 pad 1",                         2,  3, 5, 4,  4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, false, false },
    { "conv 5x5 pad 2",                         1,  2, 6, 5,  3, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 1, 0, 0, false, false },
    { "conv 3x3 stride 2 pad 1",                2,  3, 7, 6,  2, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 0, 0, false, false },
    { "conv 3x3 dilation 2 pad 2",              1,  2, 7, 6,  3, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1, 0, 0, false, false },
    { "conv 3x2 asym pads 1,0,2,1 stride 2x1",  1,  2, 5, 6,  2, 3, 2, 2, 1, 1, 1, 1, 0, 2, 1, 1, 0, 0, false, false },
    { "conv 3x3 groups 2",                      2,  4, 4, 4,  6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, 0, 0, false, false },
    { "conv 3x3 depthwise stride 2",            2,  4, 6, 5,  4, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 4, 0, 0, false, false },
    { "conv 3x3 depthwise x2 no bias",          1,  3, 4, 4,  6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3, 0, 0, false, true  },
    { "conv 1x1 520 in (tiles)",                1,520, 2, 2,  6, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0, false, false },
    { "conv 3x3 520 out (tiles)",               1,  2, 3, 2,520, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, false, false },
    { "conv 3x3 depthwise 600 (tiles)",         1,600, 2, 3,600, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 600, 0, 0, false, false },
};

static const conv_case CONVT_CASES[] = {
    { "convT 2x2 stride 2",                     2,  3, 3, 4,  2, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 1, 0, 0, true, false },
    { "convT 3x3 stride 2 pad 1 outpad 1",      1,  2, 3, 3,  3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, false },
    { "convT 3x3 s2 asym pads groups 2",        2,  4, 3, 2,  6, 3, 3, 2, 2, 1, 1, 1, 0, 0, 1, 2, 1, 0, true, false },
    { "convT 3x2 dilation 2 stride 1x2 no bias",1,  2, 3, 3,  2, 3, 2, 1, 2, 2, 2, 1, 0, 2, 1, 1, 0, 1, true, true  },
    { "convT 2x2 s2 520 out (tiles)",           1,  3, 1, 2,520, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 1, 0, 0, true, false },
    { "convT 1x1 520 in (tiles)",               1,520, 2, 3,  5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0, true, false },
};

static void test_conv(void) {
    for (size_t i = 0; i < sizeof CONV_CASES / sizeof CONV_CASES[0]; i++)
        run_case(&CONV_CASES[i], 100 + 10 * i);
}

static void test_conv_transpose(void) {
    for (size_t i = 0; i < sizeof CONVT_CASES / sizeof CONVT_CASES[0]; i++)
        run_case(&CONVT_CASES[i], 300 + 10 * i);
}

/* A small case worked out by hand: 1x1 input channel, 3x3 input [1..9], 2x2 kernel of ones,
 * no pad: y = sums of 2x2 blocks; dw[k] = sum of the x under tap k (dy = 1). */
static void test_conv_by_hand(void) {
    eos_tconv p = { .n = 1, .c_in = 1, .h_in = 3, .w_in = 3, .c_out = 1, .h_out = 2, .w_out = 2,
                    .kh = 2, .kw = 2, .sh = 1, .sw = 1, .dh = 1, .dw = 1, .group = 1 };
    float x[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, w[4] = { 1, 1, 1, 1 }, b[1] = { 0.5f };
    float y[4], dy[4] = { 1, 1, 1, 1 }, dx[9] = { 0 }, dw[4] = { 0 }, db[1] = { 0 };
    eos_tref_conv_fwd(&p, x, w, b, y);
    EXPECT_F32_ARRAY(y, ((const float[]){ 12.5f, 16.5f, 24.5f, 28.5f }), 4, 1e-6);
    eos_tref_conv_bwd(&p, x, w, dy, dx, dw, db);
    EXPECT_F32_ARRAY(dx, ((const float[]){ 1, 2, 1, 2, 4, 2, 1, 2, 1 }), 9, 1e-6);
    EXPECT_F32_ARRAY(dw, ((const float[]){ 12, 16, 24, 28 }), 4, 1e-6);
    EXPECT_NEAR(db[0], 4.0, 1e-6);
    /* ConvTranspose 2x2 stride 2 of a 1x1 input 3 with w [1,2,3,4]: y = 3 w + b */
    eos_tconv q = { .n = 1, .c_in = 1, .h_in = 1, .w_in = 1, .c_out = 1, .h_out = 2, .w_out = 2,
                    .kh = 2, .kw = 2, .sh = 2, .sw = 2, .dh = 1, .dw = 1, .group = 1,
                    .transposed = true };
    float xt[1] = { 3 }, wt[4] = { 1, 2, 3, 4 }, yt[4];
    eos_tref_conv_fwd(&q, xt, wt, b, yt);
    EXPECT_F32_ARRAY(yt, ((const float[]){ 3.5f, 6.5f, 9.5f, 12.5f }), 4, 1e-6);
}

/* Negative control at the operator level: the weight gradient of a conv with its kernel taps
 * in reverse order (a classic flip bug) must be rejected by the same check. */
static void test_wrong_gradient_detected(void) {
    static const conv_case cc = { "conv 3x3 (wrong dw)", 1, 2, 4, 4, 2, 3, 3, 1, 1, 1, 1, 1, 1,
                                  1, 1, 1, 0, 0, false, false };
    conv_ctx c;
    ASSERT_TRUE(ctx_init(&c, &cc, 7));
    float *dw = tc_zeros(c.nw), *flip = tc_zeros(c.nw);
    if (dw && flip) {
        eos_tref_conv_bwd(&c.p, c.x, c.w, c.r, NULL, dw, NULL);
        int64_t kv = c.p.kh * c.p.kw;
        for (int64_t i = 0; i < c.nw; i++) flip[i] = dw[(i / kv) * kv + (kv - 1 - i % kv)];
        double good = tc_grad_err(conv_loss, &c, c.wd, c.nw, dw, TC_H);
        double bad = tc_grad_err(conv_loss, &c, c.wd, c.nw, flip, TC_H);
        printf("    dw %.2e, flipped dw %.2e (must exceed %.0e)\n", good, bad, TC_TOL);
        EXPECT_TRUE(good <= TC_TOL);
        EXPECT_TRUE(bad > TC_TOL);
    } else {
        TEST_FAIL_("out of memory");
    }
    eos_free(dw);
    eos_free(flip);
    ctx_free(&c);
}

TEST_MAIN(TEST(test_conv_by_hand), TEST(test_conv), TEST(test_conv_transpose),
          TEST(test_wrong_gradient_detected))
