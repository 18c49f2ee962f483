/*
 * tests/ops/test_ref_eltwise.c - reference elementwise kernels with hand-computed values:
 * broadcasting binary ops (f32 and integer shape arithmetic, integer Div truncation), Pow,
 * PRelu, Equal, Where, activations, Clip across opsets, Cast (f32 -> u8 saturating).
 */
#include "ops/op_test.h"

static void run_binary(eos_op op, eos_tensor a, eos_tensor b, eos_tensor *out, eos_err *err,
                       eos_status *st) {
    op_node t;
    op_init(&t, op, 2, 1, 14);
    eos_tensor in[2] = { a, b };
    *st = op_run(&t.n, in, out, err);
}

static void test_broadcast_f32(void) {
    eos_err err;
    eos_status st;
    eos_tensor out[1];
    static const float a[6] = { 1, 2, 3, 4, 5, 6 }, b[2] = { 10, 20 };
    /* [2,1,3] + [2,1] -> [2,2,3]: out[i][j][k] = a[i][k] + b[j] */
    run_binary(EOS_OP_ADD, op_t(EOS_DTYPE_F32, 3, D(2, 1, 3), a), op_t(EOS_DTYPE_F32, 2, D(2, 1), b),
               out, &err, &st);
    ASSERT_OK(st);
    EXPECT_SHAPE(out[0], 2, 2, 3);
    EXPECT_F32_ARRAY(out[0].data,
                     ((const float[]){ 11, 12, 13, 21, 22, 23, 14, 15, 16, 24, 25, 26 }), 12, 0);
    op_free(out, 1);
    /* per-channel [1,2,3] * [2,1] -> [1,2,3] */
    run_binary(EOS_OP_MUL, op_t(EOS_DTYPE_F32, 3, D(1, 2, 3), a), op_t(EOS_DTYPE_F32, 2, D(2, 1), b),
               out, &err, &st);
    ASSERT_OK(st);
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ 10, 20, 30, 80, 100, 120 }), 6, 0);
    op_free(out, 1);
    /* scalar - tensor, tensor / row vector */
    run_binary(EOS_OP_SUB, op_t(EOS_DTYPE_F32, 0, NULL, b), op_t(EOS_DTYPE_F32, 1, D(3), a), out,
               &err, &st);
    ASSERT_OK(st);
    EXPECT_SHAPE(out[0], 3);
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ 9, 8, 7 }), 3, 0);
    op_free(out, 1);
    run_binary(EOS_OP_DIV, op_t(EOS_DTYPE_F32, 2, D(3, 2), a), op_t(EOS_DTYPE_F32, 1, D(2), b), out,
               &err, &st);
    ASSERT_OK(st);
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ 0.1f, 0.1f, 0.3f, 0.2f, 0.5f, 0.3f }), 6, 1e-7);
    op_free(out, 1);
    /* Pow with f32, i64 and fractional exponents */
    static const float two = 2, half = 0.5f;
    static const int64_t three = 3;
    run_binary(EOS_OP_POW, op_t(EOS_DTYPE_F32, 1, D(3), a), op_t(EOS_DTYPE_F32, 0, NULL, &two), out,
               &err, &st);
    ASSERT_OK(st);
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ 1, 4, 9 }), 3, 0);
    op_free(out, 1);
    run_binary(EOS_OP_POW, op_t(EOS_DTYPE_F32, 1, D(3), a), op_t(EOS_DTYPE_I64, 1, D(1), &three),
               out, &err, &st);
    ASSERT_OK(st);
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ 1, 8, 27 }), 3, 0);
    op_free(out, 1);
    run_binary(EOS_OP_POW, op_t(EOS_DTYPE_F32, 1, D(4), a), op_t(EOS_DTYPE_F32, 0, NULL, &half),
               out, &err, &st);
    ASSERT_OK(st);
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ 1, 1.41421356f, 1.73205081f, 2 }), 4, 1e-6);
    op_free(out, 1);
}

static void test_integer_arith(void) {
    eos_err err;
    eos_status st;
    eos_tensor out[1];
    static const int64_t a[4] = { 7, -7, 7, -7 }, b[4] = { 2, 2, -2, -2 }, z[2] = { 1, 0 };
    run_binary(EOS_OP_DIV, op_t(EOS_DTYPE_I64, 1, D(4), a), op_t(EOS_DTYPE_I64, 1, D(4), b), out,
               &err, &st);
    ASSERT_OK(st);
    EXPECT_EQ_INT(out[0].dtype, EOS_DTYPE_I64);
    EXPECT_I64_ARRAY(out[0].data, ((const int64_t[]){ 3, -3, -3, 3 }), 4);   /* truncation */
    op_free(out, 1);
    run_binary(EOS_OP_DIV, op_t(EOS_DTYPE_I64, 1, D(2), a), op_t(EOS_DTYPE_I64, 1, D(2), z), out,
               &err, &st);
    EXPECT_EQ_INT(st, EOS_INVALID_ARG);
    static const int64_t big[2] = { INT64_MIN, INT64_MAX }, m1 = -1, one = 1;
    run_binary(EOS_OP_DIV, op_t(EOS_DTYPE_I64, 1, D(2), big), op_t(EOS_DTYPE_I64, 0, NULL, &m1),
               out, &err, &st);                     /* INT64_MIN / -1 wraps, no trap */
    ASSERT_OK(st);
    EXPECT_I64_ARRAY(out[0].data, ((const int64_t[]){ INT64_MIN, -INT64_MAX }), 2);
    op_free(out, 1);
    run_binary(EOS_OP_ADD, op_t(EOS_DTYPE_I64, 1, D(2), big), op_t(EOS_DTYPE_I64, 0, NULL, &one),
               out, &err, &st);
    ASSERT_OK(st);
    EXPECT_I64_ARRAY(out[0].data, ((const int64_t[]){ INT64_MIN + 1, INT64_MIN }), 2);
    op_free(out, 1);
    static const int32_t c[3] = { 2, 3, 4 }, d[1] = { -3 };
    run_binary(EOS_OP_MUL, op_t(EOS_DTYPE_I32, 1, D(3), c), op_t(EOS_DTYPE_I32, 1, D(1), d), out,
               &err, &st);
    ASSERT_OK(st);
    EXPECT_EQ_INT(((int32_t *)out[0].data)[0], -6);
    EXPECT_EQ_INT(((int32_t *)out[0].data)[2], -12);
    op_free(out, 1);
    /* Equal -> bool, and Where on i64 with broadcasting */
    run_binary(EOS_OP_EQUAL, op_t(EOS_DTYPE_I64, 1, D(4), a), op_t(EOS_DTYPE_I64, 0, NULL, &a[0]),
               out, &err, &st);
    ASSERT_OK(st);
    EXPECT_EQ_INT(out[0].dtype, EOS_DTYPE_BOOL);
    const uint8_t *eq = out[0].data;
    EXPECT_TRUE(eq[0] == 1 && eq[1] == 0 && eq[2] == 1 && eq[3] == 0);
    op_node t;
    op_init(&t, EOS_OP_WHERE, 3, 1, 16);
    static const int64_t yv[2] = { 100, 200 };
    eos_tensor w[3] = { op_t(EOS_DTYPE_BOOL, 2, D(4, 1), out[0].data),
                        op_t(EOS_DTYPE_I64, 0, NULL, &one), op_t(EOS_DTYPE_I64, 1, D(2), yv) };
    eos_tensor wo[1];
    ASSERT_OK(op_run(&t.n, w, wo, &err));
    EXPECT_SHAPE(wo[0], 4, 2);
    EXPECT_I64_ARRAY(wo[0].data, ((const int64_t[]){ 1, 1, 100, 200, 1, 1, 100, 200 }), 8);
    op_free(wo, 1);
    op_free(out, 1);
    static const float f[3] = { 1, 2, 3 }, g = 2;
    run_binary(EOS_OP_EQUAL, op_t(EOS_DTYPE_F32, 1, D(3), f), op_t(EOS_DTYPE_F32, 0, NULL, &g), out,
               &err, &st);
    ASSERT_OK(st);
    eq = out[0].data;
    EXPECT_TRUE(eq[0] == 0 && eq[1] == 1 && eq[2] == 0);
    op_free(out, 1);
}

static void test_prelu(void) {
    static const float x[6] = { -1, 2, -3, -4, 5, -6 }, s[2] = { 0.1f, 0.5f };
    op_node t;
    eos_err err;
    op_init(&t, EOS_OP_PRELU, 2, 1, 16);
    eos_tensor in[2] = { op_t(EOS_DTYPE_F32, 3, D(1, 2, 3), x),
                         op_t(EOS_DTYPE_F32, 2, D(2, 1), s) }, out[1];
    ASSERT_OK(op_run(&t.n, in, out, &err));
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ -0.1f, 2, -0.3f, -2, 5, -3 }), 6, 1e-7);
    op_free(out, 1);
}

static void check_unary(eos_op op, const float *x, const float *want, int n, double tol) {
    op_node t;
    eos_err err;
    op_init(&t, op, 1, 1, 14);
    if (op == EOS_OP_LEAKY_RELU) op_float(&t, "alpha", 0.1f);
    eos_tensor in = op_t(EOS_DTYPE_F32, 1, D(n), x), out[1];
    ASSERT_OK(op_run(&t.n, &in, out, &err));
    EXPECT_F32_ARRAY(out[0].data, want, n, tol);
    op_free(out, 1);
}

static void test_unary(void) {
    static const float x[5] = { -3, -1, 0, 1, 3 };
    check_unary(EOS_OP_RELU, x, (const float[]){ 0, 0, 0, 1, 3 }, 5, 0);
    check_unary(EOS_OP_LEAKY_RELU, x, (const float[]){ -0.3f, -0.1f, 0, 1, 3 }, 5, 1e-7);
    check_unary(EOS_OP_SIGMOID, x, (const float[]){ 0.0474258732f, 0.268941421f, 0.5f,
                                                    0.731058579f, 0.952574127f }, 5, 1e-6);
    check_unary(EOS_OP_TANH, x, (const float[]){ -0.995054754f, -0.761594156f, 0, 0.761594156f,
                                                 0.995054754f }, 5, 1e-6);
    /* HardSigmoid defaults alpha 0.2, beta 0.5: clip(0.2 x + 0.5, 0, 1) */
    check_unary(EOS_OP_HARD_SIGMOID, x, (const float[]){ 0, 0.3f, 0.5f, 0.7f, 1 }, 5, 1e-6);
    /* HardSwish: x * clip(x/6 + 1/2, 0, 1) */
    check_unary(EOS_OP_HARD_SWISH, x, (const float[]){ 0, -1.0f / 3, 0, 2.0f / 3, 3 }, 5, 1e-6);
    check_unary(EOS_OP_EXP, x, (const float[]){ 0.0497870684f, 0.367879441f, 1, 2.71828183f,
                                                20.0855369f }, 5, 1e-5);
    check_unary(EOS_OP_NEG, x, (const float[]){ 3, 1, 0, -1, -3 }, 5, 0);
    check_unary(EOS_OP_SQRT, x + 2, (const float[]){ 0, 1, 1.73205081f }, 3, 1e-6);

    op_node t;
    eos_err err;
    static const int64_t xi[3] = { 5, -2, 0 };
    op_init(&t, EOS_OP_NEG, 1, 1, 13);
    eos_tensor in = op_t(EOS_DTYPE_I64, 1, D(3), xi), out[1];
    ASSERT_OK(op_run(&t.n, &in, out, &err));
    EXPECT_I64_ARRAY(out[0].data, ((const int64_t[]){ -5, 2, 0 }), 3);
    op_free(out, 1);
}

static void test_clip(void) {
    static const float x[5] = { -3, -1, 0, 1, 3 }, hi = 0.5f;
    op_node t;
    eos_err err;
    eos_tensor out[1];
    /* opset 6: attributes */
    op_init(&t, EOS_OP_CLIP, 1, 1, 6);
    op_float(&t, "min", -1.5f);
    op_float(&t, "max", 2);
    eos_tensor in[3] = { op_t(EOS_DTYPE_F32, 1, D(5), x), op_none(),
                         op_t(EOS_DTYPE_F32, 0, NULL, &hi) };
    ASSERT_OK(op_run(&t.n, in, out, &err));
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ -1.5f, -1, 0, 1, 2 }), 5, 0);
    op_free(out, 1);
    /* opset 13: inputs, min omitted, max 0.5 (attributes ignored) */
    t.n.opset = 13;
    t.n.n_in = 3;
    ASSERT_OK(op_run(&t.n, in, out, &err));
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ -3, -1, 0, 0.5f, 0.5f }), 5, 0);
    op_free(out, 1);
    in[2] = op_t(EOS_DTYPE_F32, 1, D(2), x);                    /* max must be a scalar */
    EXPECT_STATUS(op_run(&t.n, in, out, &err), EOS_SHAPE);
}

static void test_cast(void) {
    static const float x[6] = { -5, 0.7f, 254.6f, 255.9f, 300, NAN };
    op_node t;
    eos_err err;
    op_init(&t, EOS_OP_CAST, 1, 1, 13);
    op_int(&t, "to", 2);                                        /* UINT8 */
    eos_tensor in = op_t(EOS_DTYPE_F32, 1, D(6), x), out[1];
    ASSERT_OK(op_run(&t.n, &in, out, &err));
    const uint8_t *u = out[0].data;
    EXPECT_EQ_INT(u[0], 0);
    EXPECT_EQ_INT(u[1], 0);
    EXPECT_EQ_INT(u[2], 254);
    EXPECT_EQ_INT(u[3], 255);
    EXPECT_EQ_INT(u[4], 255);
    EXPECT_EQ_INT(u[5], 0);
    op_free(out, 1);
    op_init(&t, EOS_OP_CAST, 1, 1, 13);
    op_int(&t, "to", 7);                                        /* INT64: truncation */
    static const float y[3] = { -2.7f, 2.7f, 1e10f };
    in = op_t(EOS_DTYPE_F32, 1, D(3), y);
    ASSERT_OK(op_run(&t.n, &in, out, &err));
    EXPECT_I64_ARRAY(out[0].data, ((const int64_t[]){ -2, 2, 10000000000ll }), 3);
    op_free(out, 1);
}

static void test_in_place(void) {
    /* out[0] is the same buffer as an input: elementwise kernels run in place, a Transpose on
     * the same buffer is computed out of place and copied back */
    float v[6] = { -1, 2, -3, 4, -5, 6 };
    static const float bias[3] = { 10, 20, 30 };
    op_node t;
    eos_err err;
    op_init(&t, EOS_OP_RELU, 1, 1, 14);
    eos_tensor in[2] = { op_t(EOS_DTYPE_F32, 2, D(2, 3), v), op_t(EOS_DTYPE_F32, 1, D(3), bias) };
    eos_tensor out[1] = { op_t(EOS_DTYPE_F32, 2, D(2, 3), v) };
    ASSERT_OK(eos_op_ref(&t.n, in, out, &err));
    EXPECT_F32_ARRAY(v, ((const float[]){ 0, 2, 0, 4, 0, 6 }), 6, 0);
    op_init(&t, EOS_OP_ADD, 2, 1, 14);
    ASSERT_OK(eos_op_ref(&t.n, in, out, &err));
    EXPECT_F32_ARRAY(v, ((const float[]){ 10, 22, 30, 14, 20, 36 }), 6, 0);
    op_init(&t, EOS_OP_TRANSPOSE, 1, 1, 13);
    out[0] = op_t(EOS_DTYPE_F32, 2, D(3, 2), v);
    ASSERT_OK(eos_op_ref(&t.n, in, out, &err));
    EXPECT_F32_ARRAY(v, ((const float[]){ 10, 14, 22, 20, 30, 36 }), 6, 0);
}

TEST_MAIN(TEST(test_broadcast_f32), TEST(test_in_place), TEST(test_integer_arith), TEST(test_prelu), TEST(test_unary),
          TEST(test_clip), TEST(test_cast))
