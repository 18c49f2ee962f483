/*
 * tests/ops/test_ref_reduce.c - reference ReduceMean, ReduceSum and ArgMax on hand-computed
 * values: keepdims, several and negative axes, all axes, noop_with_empty_axes, integer sums,
 * ArgMax ties with select_last_index.
 */
#include "ops/op_test.h"

static const float X[6] = { 1, 2, 3, 4, 5, 9 };   /* [[1, 2, 3], [4, 5, 9]] */

static void test_reduce_mean_sum(void) {
    op_node t;
    eos_err err;
    eos_tensor out[1];
    static const int64_t a1[] = { -1 };
    op_init(&t, EOS_OP_REDUCE_MEAN, 1, 1, 13);
    op_ints(&t, "axes", a1, 1);
    eos_tensor x = op_t(EOS_DTYPE_F32, 2, D(2, 3), X);
    ASSERT_OK(op_run(&t.n, &x, out, &err));
    EXPECT_SHAPE(out[0], 2, 1);
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ 2, 6 }), 2, 1e-6);
    op_free(out, 1);
    op_int(&t, "keepdims", 0);
    t.attrs[0].ints = (const int64_t[]){ 0 };
    ASSERT_OK(op_run(&t.n, &x, out, &err));
    EXPECT_SHAPE(out[0], 3);
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ 2.5f, 3.5f, 6 }), 3, 1e-6);
    op_free(out, 1);
    /* all axes (no attribute), keepdims -> [1, 1] */
    op_init(&t, EOS_OP_REDUCE_MEAN, 1, 1, 13);
    ASSERT_OK(op_run(&t.n, &x, out, &err));
    EXPECT_SHAPE(out[0], 1, 1);
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ 4 }), 1, 1e-6);
    op_free(out, 1);

    /* ReduceSum-13 on i64 with the axes input; 3-D over (0, 2) */
    static const int64_t xi[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
    int64_t axes[2] = { 0, -1 };
    op_init(&t, EOS_OP_REDUCE_SUM, 2, 1, 13);
    eos_tensor in[2] = { op_t(EOS_DTYPE_I64, 3, D(2, 3, 2), xi), op_t(EOS_DTYPE_I64, 1, D(2), axes) };
    ASSERT_OK(op_run(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 1, 3, 1);
    /* column j sums x[0][j][*] + x[1][j][*]: (1+2+7+8, 3+4+9+10, 5+6+11+12) */
    EXPECT_I64_ARRAY(out[0].data, ((const int64_t[]){ 18, 26, 34 }), 3);
    op_free(out, 1);
    /* empty axes: everything, or nothing with noop_with_empty_axes */
    in[1].dims[0] = 0;
    op_int(&t, "keepdims", 0);
    ASSERT_OK(op_run(&t.n, in, out, &err));
    EXPECT_EQ_INT(out[0].ndim, 0);
    EXPECT_EQ_INT(((int64_t *)out[0].data)[0], 78);
    op_free(out, 1);
    op_int(&t, "noop_with_empty_axes", 1);
    ASSERT_OK(op_run(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 2, 3, 2);
    EXPECT_I64_ARRAY(out[0].data, xi, 12);
    op_free(out, 1);
    /* f32 ReduceSum through ReduceMean-18's input form */
    int64_t ax0 = 0;
    op_init(&t, EOS_OP_REDUCE_MEAN, 2, 1, 18);
    in[0] = x;
    in[1] = op_t(EOS_DTYPE_I64, 1, D(1), &ax0);
    ASSERT_OK(op_run(&t.n, in, out, &err));
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ 2.5f, 3.5f, 6 }), 3, 1e-6);
    op_free(out, 1);
}

static void test_argmax(void) {
    static const float v[8] = { 1, 7, 7, 0, 5, 5, 2, 5 };      /* [[1, 7, 7, 0], [5, 5, 2, 5]] */
    op_node t;
    eos_err err;
    eos_tensor out[1];
    eos_tensor x = op_t(EOS_DTYPE_F32, 2, D(2, 4), v);
    op_init(&t, EOS_OP_ARGMAX, 1, 1, 13);
    op_int(&t, "axis", 1);
    ASSERT_OK(op_run(&t.n, &x, out, &err));
    EXPECT_SHAPE(out[0], 2, 1);
    EXPECT_I64_ARRAY(out[0].data, ((const int64_t[]){ 1, 0 }), 2);
    op_free(out, 1);
    op_int(&t, "select_last_index", 1);
    op_int(&t, "keepdims", 0);
    ASSERT_OK(op_run(&t.n, &x, out, &err));
    EXPECT_SHAPE(out[0], 2);
    EXPECT_I64_ARRAY(out[0].data, ((const int64_t[]){ 2, 3 }), 2);
    op_free(out, 1);
    /* axis 0 (default): per column */
    op_init(&t, EOS_OP_ARGMAX, 1, 1, 13);
    ASSERT_OK(op_run(&t.n, &x, out, &err));
    EXPECT_SHAPE(out[0], 1, 4);
    EXPECT_I64_ARRAY(out[0].data, ((const int64_t[]){ 1, 0, 0, 1 }), 4);
    op_free(out, 1);
    /* i32 input */
    static const int32_t vi[3] = { -5, 3, -1 };
    x = op_t(EOS_DTYPE_I32, 1, D(3), vi);
    ASSERT_OK(op_run(&t.n, &x, out, &err));
    EXPECT_I64_ARRAY(out[0].data, ((const int64_t[]){ 1 }), 1);
    op_free(out, 1);
}

TEST_MAIN(TEST(test_reduce_mean_sum), TEST(test_argmax))
