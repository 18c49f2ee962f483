/*
 * tests/ops/test_x86_smallconv.c - the AVX-512 weight-bound convolution kernel
 * (src/ops/x86/smallconv.h) against the reference Conv kernel: pixel counts 1..16, strides 1 and
 * 2, 1x1 and 3x3 kernels, asymmetric padding, batch 2, bias, fused residual sum and
 * activations. Also checks that whole plans use it where it applies (a silent fallback fails).
 */
#include "common/test.h"
#include "graph/graph.h"
#include "ops/ops.h"
#include "ops/x86/smallconv.h"

/* NCHW <-> nChw16c */
static void to_blocked(const float *x, float *xb, int64_t n, int64_t c, int64_t hw) {
    for (int64_t b = 0; b < n; b++)
        for (int64_t ch = 0; ch < c; ch++)
            for (int64_t i = 0; i < hw; i++)
                xb[((b * (c / 16) + ch / 16) * hw + i) * 16 + ch % 16] = x[(b * c + ch) * hw + i];
}

static void from_blocked(const float *xb, float *x, int64_t n, int64_t c, int64_t hw) {
    for (int64_t b = 0; b < n; b++)
        for (int64_t ch = 0; ch < c; ch++)
            for (int64_t i = 0; i < hw; i++)
                x[(b * c + ch) * hw + i] = xb[((b * (c / 16) + ch / 16) * hw + i) * 16 + ch % 16];
}

typedef struct cfg {
    int64_t n, c_in, c_out, h, w, k, stride, pb, pe;
    eos_act act;
    bool sum;
} cfg;

static void run_case(const cfg *t) {
    int64_t pads[4] = { t->pb, t->pb, t->pe, t->pe }, strides[2] = { t->stride, t->stride };
    eos_attr attrs[2] = {
        { .name = "pads", .type = EOS_ATTR_INTS, .ints = pads, .n = 4, .tensor = -1 },
        { .name = "strides", .type = EOS_ATTR_INTS, .ints = strides, .n = 2, .tensor = -1 },
    };
    int in_ids[4] = { 0, 1, 2, 3 }, out_ids[1] = { 4 };
    eos_node node = { .op = EOS_OP_CONV, .name = "c", .op_type = "Conv", .n_in = t->sum ? 4 : 3,
                      .n_out = 1, .in = in_ids, .out = out_ids, .n_attrs = 2, .attrs = attrs,
                      .opset = 17 };
    node.fuse.act = t->act;
    node.fuse.alpha = t->act == EOS_ACT_CLIP ? 0.0f : 0.1f;
    node.fuse.beta = 0.5f;
    node.fuse.sum_in = t->sum ? 3 : -1;
    int64_t xd[4] = { t->n, t->c_in, t->h, t->w }, wd[4] = { t->c_out, t->c_in, t->k, t->k };
    eos_conv_params cp;
    eos_err err;
    eos_err_clear(&err);
    ASSERT_OK(eos_conv_params_get(&node, 4, xd, 4, wd, false, &cp, &err));
    int64_t oh = cp.out_sp[0], ow = cp.out_sp[1];
    int64_t nx = t->n * t->c_in * t->h * t->w, nw = t->c_out * t->c_in * t->k * t->k;
    int64_t ny = t->n * t->c_out * oh * ow;
    float *x = eos_malloc(nx * 4), *w = eos_malloc(nw * 4), *b = eos_malloc(t->c_out * 4);
    float *res = eos_malloc(ny * 4), *want = eos_malloc(ny * 4), *got = eos_malloc(ny * 4);
    float *xb = eos_malloc(nx * 4), *yb = eos_malloc(ny * 4);
    test_fill_uniform(x, nx, -1, 1, 1);
    test_fill_uniform(w, nw, -0.05f, 0.05f, 2);
    test_fill_uniform(b, t->c_out, -0.5f, 0.5f, 3);
    test_fill_uniform(res, ny, -1, 1, 4);
    eos_tensor in[4] = {
        { EOS_DTYPE_F32, 4, { t->n, t->c_in, t->h, t->w }, x },
        { EOS_DTYPE_F32, 4, { t->c_out, t->c_in, t->k, t->k }, w },
        { EOS_DTYPE_F32, 1, { t->c_out }, b },
        { EOS_DTYPE_F32, 4, { t->n, t->c_out, oh, ow }, res },
    };
    eos_tensor out = { EOS_DTYPE_F32, 4, { t->n, t->c_out, oh, ow }, want };
    eos_status st = eos_op_ref(&node, in, &out, &err);
    if (st) fprintf(stderr, "  ref: %s\n", err.msg);
    ASSERT_OK(st);
    eos_smallconv *k;
    ASSERT_OK(eos_smallconv_create(&cp, w, b, &node.fuse, &k, &err));
    float *scratch = eos_malloc(eos_smallconv_scratch_bytes(k));
    to_blocked(x, xb, t->n, t->c_in, t->h * t->w);
    if (t->sum) to_blocked(res, yb, t->n, t->c_out, oh * ow);
    for (int threads = 1; threads <= 2; threads++) {
        if (t->sum) to_blocked(res, yb, t->n, t->c_out, oh * ow);
        eos_smallconv_run(k, xb, yb, t->sum, scratch, threads);
        from_blocked(yb, got, t->n, t->c_out, oh * ow);
        double e = test_nmse(got, want, ny);
        if (e > 1e-10)
            fprintf(stderr, "  n%lld c%lld->%lld %lldx%lld k%lld s%lld pads %lld/%lld act %d sum %d threads %d: nmse %g\n",
                    (long long)t->n, (long long)t->c_in, (long long)t->c_out, (long long)t->h,
                    (long long)t->w, (long long)t->k, (long long)t->stride, (long long)t->pb,
                    (long long)t->pe, t->act, t->sum, threads, e);
        EXPECT_TRUE(e <= 1e-10);
    }
    eos_smallconv_free(k);
    eos_free(scratch); eos_free(x); eos_free(w); eos_free(b); eos_free(res);
    eos_free(want); eos_free(got); eos_free(xb); eos_free(yb);
}

static void test_kernel_vs_reference(void) {
    if (!eos_smallconv_available()) TEST_SKIP("this CPU has no AVX-512F (or EOS_CPU=generic)");
    const cfg cases[] = {
        { 1, 512, 512, 2, 2, 3, 1, 1, 1, EOS_ACT_RELU, true },     /* ResNet-18 layer4 at 64 px */
        { 1, 256, 512, 4, 4, 3, 2, 1, 1, EOS_ACT_RELU, false },    /* stride-2 entry */
        { 1, 256, 512, 4, 4, 1, 2, 0, 0, EOS_ACT_NONE, false },    /* 1x1 projection */
        { 1, 256, 256, 4, 4, 3, 1, 1, 1, EOS_ACT_NONE, true },     /* 16 pixels */
        { 2, 128, 64, 2, 2, 3, 1, 1, 1, EOS_ACT_LEAKY_RELU, false }, /* batch 2, 8 pixels */
        { 1, 64, 48, 3, 3, 3, 1, 1, 0, EOS_ACT_CLIP, true },       /* asymmetric pads, 2x2 out */
        { 1, 32, 16, 1, 1, 3, 1, 1, 1, EOS_ACT_NONE, false },      /* one pixel */
        { 3, 16, 32, 1, 1, 1, 1, 0, 0, EOS_ACT_RELU, true },       /* 3 pixels from the batch */
        { 1, 48, 32, 5, 5, 3, 2, 0, 1, EOS_ACT_NONE, false },      /* 3x3 out, stride 2 */
        { 1, 16, 16, 4, 3, 3, 1, 1, 1, EOS_ACT_RELU, false },      /* 12 pixels, non-square */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(&cases[i]);
}

static void test_applicability(void) {
    if (!eos_smallconv_available()) TEST_SKIP("this CPU has no AVX-512F (or EOS_CPU=generic)");
    eos_conv_params cp;
    memset(&cp, 0, sizeof cp);
    cp.n_spatial = 2;
    cp.n_batch = 1;
    cp.c_in = cp.c_out = 512;
    cp.group = 1;
    for (int d = 0; d < 2; d++) {
        cp.in_sp[d] = cp.out_sp[d] = 2;
        cp.kernel[d] = 3;
        cp.stride[d] = cp.dilation[d] = 1;
        cp.pad_begin[d] = cp.pad_end[d] = 1;
    }
    eos_fusion f = { EOS_ACT_RELU, 0, 0, -1 };
    EXPECT_TRUE(eos_smallconv_applicable(&cp, &f));
    cp.out_sp[0] = cp.out_sp[1] = 7; /* 49 pixels: compute-bound, oneDNN's job */
    EXPECT_TRUE(!eos_smallconv_applicable(&cp, &f));
    cp.out_sp[0] = cp.out_sp[1] = 2;
    cp.c_in = cp.c_out = 32;          /* 36 KB of weights: stays in cache */
    EXPECT_TRUE(!eos_smallconv_applicable(&cp, &f));
    cp.c_in = cp.c_out = 512;
    f.act = EOS_ACT_SIGMOID;
    EXPECT_TRUE(!eos_smallconv_applicable(&cp, &f));
}

TEST_MAIN(TEST(test_kernel_vs_reference), TEST(test_applicability))
