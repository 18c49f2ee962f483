/*
 * tests/ops/test_ref_conv.c - reference Conv / ConvTranspose: small cases worked out by hand,
 * and random cases (groups, depthwise, dilation, stride, asymmetric pads, 1-D/2-D/3-D) checked
 * against a naive formula written here independently of the kernel (output-driven gather with
 * bounds checks for both Conv and ConvTranspose). Fused activation + residual, including the
 * residual aliasing the output.
 */
#include "ops/op_test.h"

/* ------------------------------------------------------------------ naive formulas */

typedef struct geo {
    int     ns;                              /* spatial dims */
    int64_t n, ci, co, g;
    int64_t in[3], out[3], k[3], s[3], d[3], pb[3];
} geo;

static int64_t vol(const int64_t *v, int ns) {
    int64_t p = 1;
    for (int i = 0; i < ns; i++) p *= v[i];
    return p;
}

/* spatial multi-index of linear index l (row-major over dims[ns]) */
static void unravel(int64_t l, const int64_t *dims, int ns, int64_t *idx) {
    for (int i = ns - 1; i >= 0; i--) {
        idx[i] = l % dims[i];
        l /= dims[i];
    }
}

static int64_t ravel(const int64_t *idx, const int64_t *dims, int ns) {
    int64_t l = 0;
    for (int i = 0; i < ns; i++) l = l * dims[i] + idx[i];
    return l;
}

/* Conv: y[n, oc, o] = b[oc] + sum_{ic, k} w[oc, ic, k] * x[n, g*cig + ic, o*s - pb + k*d] */
static void naive_conv(const geo *G, const float *x, const float *w, const float *b, float *y) {
    int64_t cig = G->ci / G->g, cog = G->co / G->g, ov = vol(G->out, G->ns);
    int64_t kv = vol(G->k, G->ns), iv = vol(G->in, G->ns);
    for (int64_t n = 0; n < G->n; n++)
        for (int64_t oc = 0; oc < G->co; oc++)
            for (int64_t ol = 0; ol < ov; ol++) {
                int64_t o[3], kk[3], ii[3];
                unravel(ol, G->out, G->ns, o);
                double acc = b ? b[oc] : 0.0;
                for (int64_t ic = 0; ic < cig; ic++)
                    for (int64_t kl = 0; kl < kv; kl++) {
                        unravel(kl, G->k, G->ns, kk);
                        bool ok = true;
                        for (int a = 0; a < G->ns; a++) {
                            ii[a] = o[a] * G->s[a] - G->pb[a] + kk[a] * G->d[a];
                            ok = ok && ii[a] >= 0 && ii[a] < G->in[a];
                        }
                        if (!ok) continue;
                        int64_t c = (oc / cog) * cig + ic;
                        acc += (double)w[(oc * cig + ic) * kv + kl] *
                               x[(n * G->ci + c) * iv + ravel(ii, G->in, G->ns)];
                    }
                y[(n * G->co + oc) * ov + ol] = (float)acc;
            }
}

/* ConvTranspose: y[n, oc, o] = b[oc] + sum over ic, k with o = i*s - pb + k*d of
 * x[n, ic, i] * w[ic, oc % cog, k] (ic in oc's group) */
static void naive_conv_t(const geo *G, const float *x, const float *w, const float *b, float *y) {
    int64_t cig = G->ci / G->g, cog = G->co / G->g, ov = vol(G->out, G->ns);
    int64_t kv = vol(G->k, G->ns), iv = vol(G->in, G->ns);
    for (int64_t n = 0; n < G->n; n++)
        for (int64_t oc = 0; oc < G->co; oc++)
            for (int64_t ol = 0; ol < ov; ol++) {
                int64_t o[3], kk[3], ii[3];
                unravel(ol, G->out, G->ns, o);
                double acc = b ? b[oc] : 0.0;
                for (int64_t icg = 0; icg < cig; icg++)
                    for (int64_t kl = 0; kl < kv; kl++) {
                        unravel(kl, G->k, G->ns, kk);
                        bool ok = true;
                        for (int a = 0; a < G->ns; a++) {
                            int64_t num = o[a] + G->pb[a] - kk[a] * G->d[a];
                            ok = ok && num >= 0 && num % G->s[a] == 0 && num / G->s[a] < G->in[a];
                            ii[a] = ok ? num / G->s[a] : 0;
                        }
                        if (!ok) continue;
                        int64_t ic = (oc / cog) * cig + icg;
                        acc += (double)w[(ic * cog + oc % cog) * kv + kl] *
                               x[(n * G->ci + ic) * iv + ravel(ii, G->in, G->ns)];
                    }
                y[(n * G->co + oc) * ov + ol] = (float)acc;
            }
}

/* ------------------------------------------------------------------ hand-computed cases */

static void test_conv_hand_asym_pads(void) {
    /* x 3x3 = 1..9, w [[1, 0], [0, -1]], pads top 1, left 0, bottom 0, right 1:
     * padded rows [0 0 0 0] [1 2 3 0] [4 5 6 0] [7 8 9 0]; y[i][j] = P[i][j] - P[i+1][j+1] */
    static const float x[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, w[4] = { 1, 0, 0, -1 };
    static const float want[9] = { -2, -3, 0, -4, -4, 3, -4, -4, 6 };
    static const int64_t pads[] = { 1, 0, 0, 1 };
    op_node t;
    eos_err err;
    op_init(&t, EOS_OP_CONV, 2, 1, 11);
    op_ints(&t, "pads", pads, 4);
    eos_tensor in[2] = { op_t(EOS_DTYPE_F32, 4, D(1, 1, 3, 3), x),
                         op_t(EOS_DTYPE_F32, 4, D(1, 1, 2, 2), w) }, out[1];
    ASSERT_OK(op_run(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 1, 1, 3, 3);
    EXPECT_F32_ARRAY(out[0].data, want, 9, 0);
    op_free(out, 1);
}

static void test_conv_hand_depthwise_stride_dilation(void) {
    /* 2 channels, group 2, 1-D, k 2, dilation 2, stride 2, bias (10, 20):
     * ch0 x = 1..5, w (1, 1): y[o] = x[2o] + x[2o+2] -> (1+3, 3+5) = (4, 8) + 10
     * ch1 x = 6..10, w (2, -1): 2*x[2o] - x[2o+2] -> (12-8, 16-10) = (4, 6) + 20 */
    static const float x[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, w[4] = { 1, 1, 2, -1 };
    static const float b[2] = { 10, 20 }, want[4] = { 14, 18, 24, 26 };
    static const int64_t s[] = { 2 }, d[] = { 2 };
    op_node t;
    eos_err err;
    op_init(&t, EOS_OP_CONV, 3, 1, 11);
    op_int(&t, "group", 2);
    op_ints(&t, "strides", s, 1);
    op_ints(&t, "dilations", d, 1);
    eos_tensor in[3] = { op_t(EOS_DTYPE_F32, 3, D(1, 2, 5), x),
                         op_t(EOS_DTYPE_F32, 3, D(2, 1, 2), w),
                         op_t(EOS_DTYPE_F32, 1, D(2), b) }, out[1];
    ASSERT_OK(op_run(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 1, 2, 2);
    EXPECT_F32_ARRAY(out[0].data, want, 4, 0);
    op_free(out, 1);
}

static void test_conv_transpose_hand(void) {
    /* x (1, 2), w (1, 1, 1), stride 2, output_padding 1: full size 2*1 + 1 + 3 = 6;
     * o = 2i + k: i=0 -> o 0..2 += 1, i=1 -> o 2..4 += 2, o 5 only bias */
    static const float x[2] = { 1, 2 }, w[3] = { 1, 1, 1 }, b[1] = { 0.5f };
    static const float want[6] = { 1.5f, 1.5f, 3.5f, 2.5f, 2.5f, 0.5f };
    static const float want_pad[5] = { 1.5f, 3.5f, 2.5f, 2.5f, 0.5f };
    static const int64_t s[] = { 2 }, op1[] = { 1 }, pads[] = { 1, 0 };
    op_node t;
    eos_err err;
    op_init(&t, EOS_OP_CONV_TRANSPOSE, 3, 1, 11);
    op_ints(&t, "strides", s, 1);
    op_ints(&t, "output_padding", op1, 1);
    eos_tensor in[3] = { op_t(EOS_DTYPE_F32, 3, D(1, 1, 2), x),
                         op_t(EOS_DTYPE_F32, 3, D(1, 1, 3), w),
                         op_t(EOS_DTYPE_F32, 1, D(1), b) }, out[1];
    ASSERT_OK(op_run(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 1, 1, 6);
    EXPECT_F32_ARRAY(out[0].data, want, 6, 0);
    op_free(out, 1);
    op_ints(&t, "pads", pads, 2);                   /* drop the first output */
    ASSERT_OK(op_run(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 1, 1, 5);
    EXPECT_F32_ARRAY(out[0].data, want_pad, 5, 0);
    op_free(out, 1);
}

/* ------------------------------------------------------------------ random vs naive */

typedef struct conv_case {
    int     ns;
    int64_t n, ci, co, g;
    int64_t in[3], k[3], s[3], d[3], pb[3], pe[3], op[3];
    bool    bias, transposed;
} conv_case;

static void run_case(const conv_case *c, uint64_t seed) {
    op_node t;
    eos_err err;
    int64_t st[3], dl[3], pads[6], opad[3], xd[5] = { c->n, c->ci }, wd[5];
    op_init(&t, c->transposed ? EOS_OP_CONV_TRANSPOSE : EOS_OP_CONV, c->bias ? 3 : 2, 1, 11);
    for (int a = 0; a < c->ns; a++) {
        st[a] = c->s[a], dl[a] = c->d[a], pads[a] = c->pb[a], pads[c->ns + a] = c->pe[a];
        opad[a] = c->op[a];
        xd[2 + a] = c->in[a];
        wd[2 + a] = c->k[a];
    }
    wd[0] = c->transposed ? c->ci : c->co;
    wd[1] = c->transposed ? c->co / c->g : c->ci / c->g;
    op_ints(&t, "strides", st, c->ns);
    op_ints(&t, "dilations", dl, c->ns);
    op_ints(&t, "pads", pads, 2 * c->ns);
    op_int(&t, "group", c->g);
    if (c->transposed) op_ints(&t, "output_padding", opad, c->ns);
    eos_tensor in[3] = { op_t(EOS_DTYPE_F32, 2 + c->ns, xd, NULL),
                         op_t(EOS_DTYPE_F32, 2 + c->ns, wd, NULL),
                         op_t(EOS_DTYPE_F32, 1, D(c->co), NULL) }, out[1];
    int64_t nx = eos_tensor_numel(&in[0]), nw = eos_tensor_numel(&in[1]);
    float *x = eos_malloc((size_t)nx * 4), *w = eos_malloc((size_t)nw * 4);
    float *b = eos_malloc((size_t)c->co * 4);
    test_fill_uniform(x, nx, -1, 1, seed);
    test_fill_uniform(w, nw, -1, 1, seed + 1);
    test_fill_uniform(b, c->co, -1, 1, seed + 2);
    in[0].data = x, in[1].data = w, in[2].data = b;
    eos_status st_ = op_run(&t.n, in, out, &err);
    if (st_ != EOS_OK) TEST_FAIL_("op_run: %s", err.msg);
    if (st_ == EOS_OK) {
        geo G = { .ns = c->ns, .n = c->n, .ci = c->ci, .co = c->co, .g = c->g };
        for (int a = 0; a < c->ns; a++) {
            G.in[a] = c->in[a], G.k[a] = c->k[a], G.s[a] = c->s[a], G.d[a] = c->d[a];
            G.pb[a] = c->pb[a], G.out[a] = out[0].dims[2 + a];
            int64_t dk = (c->k[a] - 1) * c->d[a] + 1, want;
            if (c->transposed) want = c->s[a] * (c->in[a] - 1) + c->op[a] + dk - c->pb[a] - c->pe[a];
            else want = (c->in[a] + c->pb[a] + c->pe[a] - dk) / c->s[a] + 1;
            EXPECT_EQ_INT(G.out[a], want);
        }
        int64_t ny = eos_tensor_numel(&out[0]);
        float *ref = eos_malloc((size_t)ny * 4);
        if (c->transposed) naive_conv_t(&G, x, w, c->bias ? b : NULL, ref);
        else naive_conv(&G, x, w, c->bias ? b : NULL, ref);
        EXPECT_F32_ARRAY(out[0].data, ref, ny, 1e-5);
        eos_free(ref);
        op_free(out, 1);
    }
    eos_free(x);
    eos_free(w);
    eos_free(b);
}

static void test_conv_random(void) {
    static const conv_case cases[] = {
        /* 2-D, groups 2, stride (2, 1), dilation (1, 2), asymmetric pads */
        { 2, 2, 4, 6, 2, { 9, 8 }, { 3, 3 }, { 2, 1 }, { 1, 2 }, { 1, 0 }, { 2, 3 }, { 0 }, true, false },
        /* depthwise 3x3 stride 2 pad 1 */
        { 2, 1, 5, 5, 5, { 7, 6 }, { 3, 3 }, { 2, 2 }, { 1, 1 }, { 1, 1 }, { 1, 1 }, { 0 }, true, false },
        /* depthwise with channel multiplier 2, no bias */
        { 2, 1, 3, 6, 3, { 5, 5 }, { 2, 3 }, { 1, 1 }, { 1, 1 }, { 0, 1 }, { 1, 0 }, { 0 }, false, false },
        /* 1x1 conv, stride 3 */
        { 2, 2, 7, 3, 1, { 10, 4 }, { 1, 1 }, { 3, 3 }, { 1, 1 }, { 0, 0 }, { 0, 0 }, { 0 }, true, false },
        /* 1-D and 3-D */
        { 1, 2, 3, 4, 1, { 17 }, { 5 }, { 3 }, { 2 }, { 4 }, { 1 }, { 0 }, true, false },
        { 3, 1, 2, 4, 2, { 5, 6, 4 }, { 3, 2, 2 }, { 1, 2, 1 }, { 1, 1, 2 }, { 1, 0, 1 }, { 0, 1, 1 }, { 0 }, true, false },
        /* ConvTranspose: stride 2 + output_padding, groups, dilation */
        { 2, 2, 4, 6, 2, { 4, 5 }, { 3, 3 }, { 2, 2 }, { 1, 1 }, { 1, 1 }, { 1, 1 }, { 1, 1 }, true, true },
        { 2, 1, 3, 2, 1, { 3, 4 }, { 4, 2 }, { 2, 3 }, { 1, 2 }, { 1, 0 }, { 2, 1 }, { 1, 2 }, false, true },
        { 1, 1, 2, 3, 1, { 6 }, { 3 }, { 1 }, { 3 }, { 2 }, { 0 }, { 2 }, true, true },
        { 3, 1, 2, 2, 2, { 2, 3, 2 }, { 2, 2, 3 }, { 2, 1, 2 }, { 1, 1, 1 }, { 0, 1, 1 }, { 0, 0, 1 }, { 1, 0, 1 }, true, true },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(&cases[i], 100 + 7 * i);
}

/* ------------------------------------------------------------------ fusion */

static void test_conv_fused_residual(void) {
    /* y = relu(conv(x) + b + r), also with y aliasing r, and without bias (r at index 2) */
    enum { C = 3, H = 5, W = 4 };
    float x[C * H * W], w[C * C * 9], b[C], r[C * H * W], plain[C * H * W], want[C * H * W];
    test_fill_uniform(x, C * H * W, -1, 1, 1);
    test_fill_uniform(w, C * C * 9, -1, 1, 2);
    test_fill_uniform(b, C, -1, 1, 3);
    test_fill_uniform(r, C * H * W, -2, 2, 4);
    static const int64_t pads[] = { 1, 1, 1, 1 };
    geo G = { .ns = 2, .n = 1, .ci = C, .co = C, .g = 1, .in = { H, W }, .out = { H, W },
              .k = { 3, 3 }, .s = { 1, 1 }, .d = { 1, 1 }, .pb = { 1, 1 } };
    naive_conv(&G, x, w, b, plain);
    for (int i = 0; i < C * H * W; i++) want[i] = plain[i] + r[i] > 0 ? plain[i] + r[i] : 0;

    op_node t;
    eos_err err;
    op_init(&t, EOS_OP_CONV, 4, 1, 11);
    op_ints(&t, "pads", pads, 4);
    t.n.fuse.act = EOS_ACT_RELU;
    t.n.fuse.sum_in = 3;
    eos_tensor in[4] = { op_t(EOS_DTYPE_F32, 4, D(1, C, H, W), x),
                         op_t(EOS_DTYPE_F32, 4, D(C, C, 3, 3), w), op_t(EOS_DTYPE_F32, 1, D(C), b),
                         op_t(EOS_DTYPE_F32, 4, D(1, C, H, W), r) }, out[1];
    ASSERT_OK(op_run(&t.n, in, out, &err));
    EXPECT_F32_ARRAY(out[0].data, want, C * H * W, 1e-5);
    op_free(out, 1);

    float alias[C * H * W];                          /* out[0] is the residual buffer */
    memcpy(alias, r, sizeof alias);
    in[3].data = alias;
    out[0] = op_t(EOS_DTYPE_F32, 4, D(1, C, H, W), alias);
    ASSERT_OK(eos_op_ref(&t.n, in, out, &err));
    EXPECT_F32_ARRAY(alias, want, C * H * W, 1e-5);

    /* y = relu(conv(x) + b + x) with x, the residual and y all one buffer: the reference must
     * not read inputs it has already overwritten */
    float self[C * H * W];
    memcpy(self, x, sizeof self);
    for (int i = 0; i < C * H * W; i++) {
        float v = plain[i] + x[i];
        want[i] = v > 0 ? v : 0;
    }
    in[0].data = self;
    in[3].data = self;
    out[0] = op_t(EOS_DTYPE_F32, 4, D(1, C, H, W), self);
    ASSERT_OK(eos_op_ref(&t.n, in, out, &err));
    EXPECT_F32_ARRAY(self, want, C * H * W, 1e-5);
    in[0].data = x;

    /* no bias: residual appended at index 2; activation clip(-0.5, 0.5) */
    naive_conv(&G, x, w, NULL, plain);
    for (int i = 0; i < C * H * W; i++) {
        float v = plain[i] + r[i];
        want[i] = v < -0.5f ? -0.5f : (v > 0.5f ? 0.5f : v);
    }
    op_init(&t, EOS_OP_CONV, 3, 1, 11);
    op_ints(&t, "pads", pads, 4);
    t.n.fuse = (eos_fusion){ EOS_ACT_CLIP, -0.5f, 0.5f, 2 };
    in[2] = op_t(EOS_DTYPE_F32, 4, D(1, C, H, W), r);
    ASSERT_OK(op_run(&t.n, in, out, &err));
    EXPECT_F32_ARRAY(out[0].data, want, C * H * W, 1e-5);
    op_free(out, 1);

    /* residual of the wrong shape; wrong output shape */
    in[2] = op_t(EOS_DTYPE_F32, 4, D(1, C, H, W - 1), r);
    EXPECT_STATUS(op_run(&t.n, in, out, &err), EOS_SHAPE);
    in[2] = op_t(EOS_DTYPE_F32, 4, D(1, C, H, W), r);
    out[0] = op_t(EOS_DTYPE_F32, 4, D(1, C, H, W - 1), want);
    EXPECT_STATUS(eos_op_ref(&t.n, in, out, &err), EOS_SHAPE);
}

static void test_conv_errors(void) {
    op_node t;
    eos_err err;
    float x[4] = { 0 }, w[4] = { 0 };
    eos_tensor in[2] = { op_t(EOS_DTYPE_F32, 4, D(1, 1, 2, 2), x),
                         op_t(EOS_DTYPE_F32, 4, D(1, 1, 2, 2), NULL) }, out[1];
    op_init(&t, EOS_OP_CONV, 2, 1, 11);
    out[0] = op_t(EOS_DTYPE_F32, 4, D(1, 1, 1, 1), x);
    EXPECT_STATUS(eos_op_ref(&t.n, in, out, &err), EOS_INVALID_ARG);   /* weight without data */
    in[1].data = w;
    out[0].data = NULL;
    EXPECT_STATUS(eos_op_ref(&t.n, in, out, &err), EOS_INVALID_ARG);   /* output without data */
    op_init(&t, EOS_OP_RELU, 1, 1, 14);                                 /* fusion on Relu */
    t.n.fuse.act = EOS_ACT_RELU;
    out[0] = op_t(EOS_DTYPE_F32, 4, D(1, 1, 2, 2), w);
    EXPECT_STATUS(eos_op_ref(&t.n, in, out, &err), EOS_INTERNAL);
}

TEST_MAIN(TEST(test_conv_hand_asym_pads), TEST(test_conv_hand_depthwise_stride_dilation),
          TEST(test_conv_transpose_hand), TEST(test_conv_random), TEST(test_conv_fused_residual),
          TEST(test_conv_errors))
