/*
 * tests/ops/test_ref_pool.c - reference pooling kernels on small hand-computed cases: MaxPool
 * with Indices (flat over N and C), ceil_mode, dilation; AveragePool with and without
 * count_include_pad (also combined with ceil_mode); global pools; 3-D.
 */
#include "ops/op_test.h"

static void test_maxpool_indices(void) {
    static const float x[32] = {
        1, 5, 2, 0,  3, 4, 8, 7,  9, 1, 0, 2,  6, 3, 4, 12,        /* channel 0 */
        9, 5, 8, 10, 7, 6, 2, 3,  1, 9, 10, 8, 4, 7, 6, -2,        /* channel 1 = 10 - x */
    };
    static const float want[8] = { 5, 8, 9, 12, 9, 10, 9, 10 };
    static const int64_t want_i[8] = { 1, 6, 8, 15, 16, 19, 25, 26 };
    static const int64_t k[] = { 2, 2 };
    op_node t;
    eos_err err;
    op_init(&t, EOS_OP_MAX_POOL, 1, 2, 12);
    op_ints(&t, "kernel_shape", k, 2);
    op_ints(&t, "strides", k, 2);
    eos_tensor in = op_t(EOS_DTYPE_F32, 4, D(1, 2, 4, 4), x), out[2];
    ASSERT_OK(op_run(&t.n, &in, out, &err));
    EXPECT_SHAPE(out[0], 1, 2, 2, 2);
    EXPECT_F32_ARRAY(out[0].data, want, 8, 0);
    EXPECT_I64_ARRAY(out[1].data, want_i, 8);
    op_free(out, 2);
}

static void test_maxpool_ceil_dilation(void) {
    static const float x[8] = { 3, 1, 4, 1, 5, 9, 2, 6 };
    static const int64_t k2[] = { 2 }, d3[] = { 3 };
    op_node t;
    eos_err err;
    eos_tensor in = op_t(EOS_DTYPE_F32, 3, D(1, 1, 5), x), out[1];
    /* x[:5] = 3 1 4 1 5, k 2, s 2: floor -> (3, 4); ceil adds the partial window (5) */
    op_init(&t, EOS_OP_MAX_POOL, 1, 1, 12);
    op_ints(&t, "kernel_shape", k2, 1);
    op_ints(&t, "strides", k2, 1);
    ASSERT_OK(op_run(&t.n, &in, out, &err));
    EXPECT_SHAPE(out[0], 1, 1, 2);
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ 3, 4 }), 2, 0);
    op_free(out, 1);
    op_int(&t, "ceil_mode", 1);
    ASSERT_OK(op_run(&t.n, &in, out, &err));
    EXPECT_SHAPE(out[0], 1, 1, 3);
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ 3, 4, 5 }), 3, 0);
    op_free(out, 1);
    /* dilation 3: windows (i, i+3) over all 8: (3,1) (1,5) (4,9) (1,2) (5,6) */
    op_init(&t, EOS_OP_MAX_POOL, 1, 1, 12);
    op_ints(&t, "kernel_shape", k2, 1);
    op_ints(&t, "dilations", d3, 1);
    in.dims[2] = 8;
    ASSERT_OK(op_run(&t.n, &in, out, &err));
    EXPECT_SHAPE(out[0], 1, 1, 5);
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ 3, 5, 9, 2, 6 }), 5, 0);
    op_free(out, 1);
}

static void test_avgpool_pads(void) {
    static const float x[6] = { 1, 2, 3, 4, 5, 6 };
    static const int64_t k3[] = { 3 }, p11[] = { 1, 1 }, s2[] = { 2 }, k2[] = { 2 };
    op_node t;
    eos_err err;
    eos_tensor in = op_t(EOS_DTYPE_F32, 3, D(1, 1, 4), x), out[1];
    /* x 1 2 3 4, k 3, pads (1, 1): windows {p,1,2} {1,2,3} {2,3,4} {3,4,p} */
    op_init(&t, EOS_OP_AVERAGE_POOL, 1, 1, 11);
    op_ints(&t, "kernel_shape", k3, 1);
    op_ints(&t, "pads", p11, 2);
    ASSERT_OK(op_run(&t.n, &in, out, &err));
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ 1.5f, 2, 3, 3.5f }), 4, 1e-6);
    op_free(out, 1);
    op_int(&t, "count_include_pad", 1);
    ASSERT_OK(op_run(&t.n, &in, out, &err));
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ 1, 2, 3, 7.0f / 3 }), 4, 1e-6);
    op_free(out, 1);

    /* ceil_mode + pads (1, 1), k 3, s 2 on 1..6: windows start -1, 1, 3, 5; the last covers
     * 6, the end pad and one position past it: only 2 taps count even with pads included */
    in.dims[2] = 6;
    op_init(&t, EOS_OP_AVERAGE_POOL, 1, 1, 11);
    op_ints(&t, "kernel_shape", k3, 1);
    op_ints(&t, "pads", p11, 2);
    op_ints(&t, "strides", s2, 1);
    op_int(&t, "ceil_mode", 1);
    ASSERT_OK(op_run(&t.n, &in, out, &err));
    EXPECT_SHAPE(out[0], 1, 1, 4);
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ 1.5f, 3, 5, 6 }), 4, 1e-6);
    op_free(out, 1);
    op_int(&t, "count_include_pad", 1);
    ASSERT_OK(op_run(&t.n, &in, out, &err));
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ 1, 3, 5, 3 }), 4, 1e-6);
    op_free(out, 1);

    /* ceil_mode without pads, k 2, s 2 on 1..5: the partial last window holds 5 alone */
    in.dims[2] = 5;
    op_init(&t, EOS_OP_AVERAGE_POOL, 1, 1, 11);
    op_ints(&t, "kernel_shape", k2, 1);
    op_ints(&t, "strides", k2, 1);
    op_int(&t, "ceil_mode", 1);
    op_int(&t, "count_include_pad", 1);
    ASSERT_OK(op_run(&t.n, &in, out, &err));
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ 1.5f, 3.5f, 5 }), 3, 1e-6);
    op_free(out, 1);
}

static void test_global_and_3d(void) {
    static const float x[12] = { 1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, 7 };
    op_node t;
    eos_err err;
    eos_tensor in = op_t(EOS_DTYPE_F32, 4, D(1, 2, 2, 3), x), out[1];
    op_init(&t, EOS_OP_GLOBAL_AVERAGE_POOL, 1, 1, 1);
    ASSERT_OK(op_run(&t.n, &in, out, &err));
    EXPECT_SHAPE(out[0], 1, 2, 1, 1);
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ 3.5f, -8.0f / 6 }), 2, 1e-6);
    op_free(out, 1);
    op_init(&t, EOS_OP_GLOBAL_MAX_POOL, 1, 1, 1);
    ASSERT_OK(op_run(&t.n, &in, out, &err));
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ 6, 7 }), 2, 0);
    op_free(out, 1);

    /* 3-D average over 2x2x2 of 1..8 with stride 1 and the depth padded by one at the end */
    static const float v[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    static const int64_t k[] = { 2, 2, 2 }, pads[] = { 0, 0, 0, 1, 0, 0 };
    op_init(&t, EOS_OP_AVERAGE_POOL, 1, 1, 11);
    op_ints(&t, "kernel_shape", k, 3);
    op_ints(&t, "pads", pads, 6);
    in = op_t(EOS_DTYPE_F32, 5, D(1, 1, 2, 2, 2), v);
    ASSERT_OK(op_run(&t.n, &in, out, &err));
    EXPECT_SHAPE(out[0], 1, 1, 2, 1, 1);
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ 4.5f, 6.5f }), 2, 1e-6);
    op_free(out, 1);
}

TEST_MAIN(TEST(test_maxpool_indices), TEST(test_maxpool_ceil_dilation), TEST(test_avgpool_pads),
          TEST(test_global_and_3d))
