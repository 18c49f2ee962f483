/*
 * tests/ops/test_ref_shape.c - reference data-movement kernels on hand-computed values:
 * Transpose, Slice with negative steps, Gather with negative indices, Concat, Split, Pad
 * (constant / reflect / edge, negative pads, opset-2 attribute form), Shape, ConstantOfShape,
 * Reshape/Squeeze copies and the Dropout mask.
 */
#include "ops/op_test.h"

static const float X12[12] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 };

static void test_transpose(void) {
    op_node t;
    eos_err err;
    op_init(&t, EOS_OP_TRANSPOSE, 1, 1, 13);
    eos_tensor in = op_t(EOS_DTYPE_F32, 2, D(2, 3), X12), out[1];
    ASSERT_OK(op_run(&t.n, &in, out, &err));
    EXPECT_SHAPE(out[0], 3, 2);
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ 0, 3, 1, 4, 2, 5 }), 6, 0);
    op_free(out, 1);
    /* [2, 3, 2] perm (2, 0, 1): y[k][i][j] = x[i][j][k] */
    static const int64_t perm[] = { 2, 0, 1 };
    op_ints(&t, "perm", perm, 3);
    in = op_t(EOS_DTYPE_F32, 3, D(2, 3, 2), X12);
    ASSERT_OK(op_run(&t.n, &in, out, &err));
    EXPECT_SHAPE(out[0], 2, 2, 3);
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ 0, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 11 }), 12, 0);
    op_free(out, 1);
    /* i64 elements */
    static const int64_t v[6] = { 1, 2, 3, 4, 5, 6 };
    op_init(&t, EOS_OP_TRANSPOSE, 1, 1, 13);
    in = op_t(EOS_DTYPE_I64, 2, D(3, 2), v);
    ASSERT_OK(op_run(&t.n, &in, out, &err));
    EXPECT_I64_ARRAY(out[0].data, ((const int64_t[]){ 1, 3, 5, 2, 4, 6 }), 6);
    op_free(out, 1);
}

static void test_slice(void) {
    /* x [3, 4] = 0..11; rows from -1 to the start backwards, columns 3, 1 (step -2) */
    int64_t st[2] = { -1, 3 }, en[2] = { INT64_MIN, 0 }, ax[2] = { 0, 1 }, sp[2] = { -1, -2 };
    op_node t;
    eos_err err;
    op_init(&t, EOS_OP_SLICE, 5, 1, 13);
    eos_tensor in[5] = { op_t(EOS_DTYPE_F32, 2, D(3, 4), X12), op_t(EOS_DTYPE_I64, 1, D(2), st),
                         op_t(EOS_DTYPE_I64, 1, D(2), en), op_t(EOS_DTYPE_I64, 1, D(2), ax),
                         op_t(EOS_DTYPE_I64, 1, D(2), sp) }, out[1];
    ASSERT_OK(op_run(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 3, 2);
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ 11, 9, 7, 5, 3, 1 }), 6, 0);
    op_free(out, 1);
    /* only axis 1 from 1 to INT64_MAX step 2 (i32 inputs) */
    int32_t st32 = 1, en32 = INT32_MAX, ax32 = -1, sp32 = 2;
    in[1] = op_t(EOS_DTYPE_I32, 1, D(1), &st32);
    in[2] = op_t(EOS_DTYPE_I32, 1, D(1), &en32);
    in[3] = op_t(EOS_DTYPE_I32, 1, D(1), &ax32);
    in[4] = op_t(EOS_DTYPE_I32, 1, D(1), &sp32);
    ASSERT_OK(op_run(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 3, 2);
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ 1, 3, 5, 7, 9, 11 }), 6, 0);
    op_free(out, 1);
    /* empty result */
    st32 = 3;
    en32 = 1;
    ASSERT_OK(op_run(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 3, 0);
    op_free(out, 1);
}

static void test_gather(void) {
    int64_t idx[2] = { -1, 0 };
    op_node t;
    eos_err err;
    op_init(&t, EOS_OP_GATHER, 2, 1, 13);
    op_int(&t, "axis", 1);
    eos_tensor in[2] = { op_t(EOS_DTYPE_F32, 2, D(2, 3), X12),
                         op_t(EOS_DTYPE_I64, 2, D(1, 2), idx) }, out[1];
    ASSERT_OK(op_run(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 2, 1, 2);
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ 2, 0, 5, 3 }), 4, 0);
    op_free(out, 1);
    /* Shape -> Gather(scalar index) -> the dims arithmetic exporters emit */
    static const int64_t shp[4] = { 1, 3, 64, 48 };
    int32_t i2 = -2;
    op_init(&t, EOS_OP_GATHER, 2, 1, 13);
    in[0] = op_t(EOS_DTYPE_I64, 1, D(4), shp);
    in[1] = op_t(EOS_DTYPE_I32, 0, NULL, &i2);
    ASSERT_OK(op_run(&t.n, in, out, &err));
    EXPECT_EQ_INT(out[0].ndim, 0);
    EXPECT_EQ_INT(((int64_t *)out[0].data)[0], 64);
    op_free(out, 1);
    i2 = 4;
    EXPECT_STATUS(op_run(&t.n, in, out, &err), EOS_INVALID_ARG);
}

static void test_concat_split(void) {
    static const float a[2] = { 1, 2 }, b[4] = { 3, 4, 5, 6 };
    op_node t;
    eos_err err;
    op_init(&t, EOS_OP_CONCAT, 2, 1, 13);
    op_int(&t, "axis", 1);
    eos_tensor in[2] = { op_t(EOS_DTYPE_F32, 2, D(2, 1), a), op_t(EOS_DTYPE_F32, 2, D(2, 2), b) };
    eos_tensor out[2];
    ASSERT_OK(op_run(&t.n, in, out, &err));
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ 1, 3, 4, 2, 5, 6 }), 6, 0);
    op_free(out, 1);

    int64_t sizes[2] = { 1, 2 };
    op_init(&t, EOS_OP_SPLIT, 2, 2, 13);
    op_int(&t, "axis", 1);
    in[0] = op_t(EOS_DTYPE_F32, 2, D(2, 3), X12);
    in[1] = op_t(EOS_DTYPE_I64, 1, D(2), sizes);
    ASSERT_OK(op_run(&t.n, in, out, &err));
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ 0, 3 }), 2, 0);
    EXPECT_F32_ARRAY(out[1].data, ((const float[]){ 1, 2, 4, 5 }), 4, 0);
    op_free(out, 2);
}

static void run_pad(const char *mode, const int64_t *pads, const eos_tensor *x, const void *cv,
                    const float *want, int n_want) {
    op_node t;
    eos_err err;
    op_init(&t, EOS_OP_PAD, cv ? 3 : 2, 1, 13);
    if (mode) op_str(&t, "mode", mode);
    eos_tensor in[3] = { *x, op_t(EOS_DTYPE_I64, 1, D(2 * x->ndim), pads),
                         op_t(x->dtype, 0, NULL, cv) }, out[1];
    ASSERT_OK(op_run(&t.n, in, out, &err));
    EXPECT_EQ_INT(eos_tensor_numel(&out[0]), n_want);
    EXPECT_F32_ARRAY(out[0].data, want, n_want, 0);
    op_free(out, 1);
}

static void test_pad(void) {
    static const float x[4] = { 1, 2, 3, 4 }, nine = 9;
    static const int64_t p23[2] = { 2, 3 }, neg[2] = { -1, 1 }, p2d[4] = { 1, 0, 0, 1 };
    eos_tensor v = op_t(EOS_DTYPE_F32, 1, D(4), x);
    run_pad(NULL, p23, &v, &nine, (const float[]){ 9, 9, 1, 2, 3, 4, 9, 9, 9 }, 9);
    run_pad("constant", p23, &v, NULL, (const float[]){ 0, 0, 1, 2, 3, 4, 0, 0, 0 }, 9);
    run_pad("reflect", p23, &v, NULL, (const float[]){ 3, 2, 1, 2, 3, 4, 3, 2, 1 }, 9);
    run_pad("edge", p23, &v, NULL, (const float[]){ 1, 1, 1, 2, 3, 4, 4, 4, 4 }, 9);
    run_pad(NULL, neg, &v, NULL, (const float[]){ 2, 3, 4, 0 }, 4);
    /* 2-D [[1, 2], [3, 4]], one row on top, one column on the right */
    eos_tensor m = op_t(EOS_DTYPE_F32, 2, D(2, 2), x);
    run_pad("edge", p2d, &m, NULL, (const float[]){ 1, 2, 2, 1, 2, 2, 3, 4, 4 }, 9);
    run_pad("reflect", p2d, &m, NULL, (const float[]){ 3, 4, 3, 1, 2, 1, 3, 4, 3 }, 9);
    run_pad(NULL, p2d, &m, &nine, (const float[]){ 9, 9, 9, 1, 2, 9, 3, 4, 9 }, 9);

    /* i64 with constant_value; opset 2 attribute form with value */
    static const int64_t xi[2] = { 5, 6 }, cv = -1;
    op_node t;
    eos_err err;
    op_init(&t, EOS_OP_PAD, 3, 1, 13);
    eos_tensor in[3] = { op_t(EOS_DTYPE_I64, 1, D(2), xi), op_t(EOS_DTYPE_I64, 1, D(2), p23),
                         op_t(EOS_DTYPE_I64, 0, NULL, &cv) }, out[1];
    ASSERT_OK(op_run(&t.n, in, out, &err));
    EXPECT_I64_ARRAY(out[0].data, ((const int64_t[]){ -1, -1, 5, 6, -1, -1, -1 }), 7);
    op_free(out, 1);
    static const int64_t ap[2] = { 1, 1 };
    op_init(&t, EOS_OP_PAD, 1, 1, 2);
    op_ints(&t, "pads", ap, 2);
    op_float(&t, "value", 0.5f);
    ASSERT_OK(op_run(&t.n, &v, out, &err));
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ 0.5f, 1, 2, 3, 4, 0.5f }), 6, 0);
    op_free(out, 1);
}

static void test_shape_const_copy(void) {
    op_node t;
    eos_err err;
    eos_tensor out[2];
    eos_tensor x = op_t(EOS_DTYPE_F32, 4, D(1, 3, 8, 6), NULL);
    op_init(&t, EOS_OP_SHAPE, 1, 1, 15);
    ASSERT_OK(op_run(&t.n, &x, out, &err));
    EXPECT_I64_ARRAY(out[0].data, ((const int64_t[]){ 1, 3, 8, 6 }), 4);
    op_free(out, 1);
    op_int(&t, "start", -3);
    op_int(&t, "end", -1);
    ASSERT_OK(op_run(&t.n, &x, out, &err));
    EXPECT_SHAPE(out[0], 2);
    EXPECT_I64_ARRAY(out[0].data, ((const int64_t[]){ 3, 8 }), 2);
    op_free(out, 1);

    static const int64_t shp[2] = { 2, 2 }, seven = 7;
    op_init(&t, EOS_OP_CONSTANT_OF_SHAPE, 1, 1, 9);
    op_tensor1(&t, "value", EOS_DTYPE_I64, &seven);
    eos_tensor s = op_t(EOS_DTYPE_I64, 1, D(2), shp);
    ASSERT_OK(op_run(&t.n, &s, out, &err));
    EXPECT_I64_ARRAY(out[0].data, ((const int64_t[]){ 7, 7, 7, 7 }), 4);
    op_free(out, 1);
    op_init(&t, EOS_OP_CONSTANT_OF_SHAPE, 1, 1, 9);
    ASSERT_OK(op_run(&t.n, &s, out, &err));
    EXPECT_EQ_INT(out[0].dtype, EOS_DTYPE_F32);
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ 0, 0, 0, 0 }), 4, 0);
    op_free(out, 1);

    /* Reshape / Squeeze / Flatten move the same bytes; Dropout's mask is all true */
    int64_t target[2] = { 4, -1 };
    op_init(&t, EOS_OP_RESHAPE, 2, 1, 14);
    eos_tensor r[2] = { op_t(EOS_DTYPE_F32, 3, D(2, 3, 2), X12), op_t(EOS_DTYPE_I64, 1, D(2), target) };
    ASSERT_OK(op_run(&t.n, r, out, &err));
    EXPECT_SHAPE(out[0], 4, 3);
    EXPECT_F32_ARRAY(out[0].data, X12, 12, 0);
    op_free(out, 1);
    op_init(&t, EOS_OP_DROPOUT, 1, 2, 13);
    ASSERT_OK(op_run(&t.n, r, out, &err));
    EXPECT_F32_ARRAY(out[0].data, X12, 12, 0);
    const uint8_t *mask = out[1].data;
    int all = 1;
    for (int i = 0; i < 12; i++) all &= mask[i] == 1;
    EXPECT_TRUE(all);
    op_free(out, 2);
}

TEST_MAIN(TEST(test_transpose), TEST(test_slice), TEST(test_gather), TEST(test_concat_split),
          TEST(test_pad), TEST(test_shape_const_copy))
