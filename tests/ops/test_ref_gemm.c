/*
 * tests/ops/test_ref_gemm.c - reference Gemm (every transA/transB combination, alpha, beta,
 * broadcast C, fused activation + residual) and MatMul (batched with broadcasting, 1-D
 * operands) against hand-computed values and a naive triple loop written here.
 */
#include "ops/op_test.h"

static const float A[6] = { 1, 2, 3, 4, 5, 6 };           /* [2, 3] */
static const float AT[6] = { 1, 4, 2, 5, 3, 6 };          /* [3, 2] */
static const float B[6] = { 1, 0, 0, 1, 1, 1 };           /* [3, 2] */
static const float BT[6] = { 1, 0, 1, 0, 1, 1 };          /* [2, 3] */

static void test_gemm_trans(void) {
    /* A B = [[4, 5], [10, 11]]; 2 * AB + 0.5 * [10, 20] = [[13, 20], [25, 32]] */
    static const float c[2] = { 10, 20 }, want[4] = { 13, 20, 25, 32 };
    eos_err err;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            op_node t;
            op_init(&t, EOS_OP_GEMM, 3, 1, 13);
            op_int(&t, "transA", ta);
            op_int(&t, "transB", tb);
            op_float(&t, "alpha", 2);
            op_float(&t, "beta", 0.5f);
            eos_tensor in[3] = { ta ? op_t(EOS_DTYPE_F32, 2, D(3, 2), AT)
                                    : op_t(EOS_DTYPE_F32, 2, D(2, 3), A),
                                 tb ? op_t(EOS_DTYPE_F32, 2, D(2, 3), BT)
                                    : op_t(EOS_DTYPE_F32, 2, D(3, 2), B),
                                 op_t(EOS_DTYPE_F32, 1, D(2), c) }, out[1];
            ASSERT_OK(op_run(&t.n, in, out, &err));
            EXPECT_SHAPE(out[0], 2, 2);
            EXPECT_F32_ARRAY(out[0].data, want, 4, 0);
            op_free(out, 1);
        }
    /* C as a column [2, 1], no alpha/beta */
    static const float col[2] = { 1, -1 };
    op_node t;
    op_init(&t, EOS_OP_GEMM, 3, 1, 13);
    eos_tensor in[3] = { op_t(EOS_DTYPE_F32, 2, D(2, 3), A), op_t(EOS_DTYPE_F32, 2, D(3, 2), B),
                         op_t(EOS_DTYPE_F32, 2, D(2, 1), col) }, out[1];
    ASSERT_OK(op_run(&t.n, in, out, &err));
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ 5, 6, 9, 10 }), 4, 0);
    op_free(out, 1);
}

static void test_gemm_fused(void) {
    /* y = leaky_relu(A B - [[10, 0], [0, 20]] residual, 0.5): AB - r = [[-6, 5], [10, -9]] */
    static const float r[4] = { 10, 0, 0, 20 };
    op_node t;
    eos_err err;
    op_init(&t, EOS_OP_GEMM, 3, 1, 13);
    t.n.fuse = (eos_fusion){ EOS_ACT_LEAKY_RELU, 0.5f, 0, 2 };
    float neg[4];
    for (int i = 0; i < 4; i++) neg[i] = -r[i];
    eos_tensor in[3] = { op_t(EOS_DTYPE_F32, 2, D(2, 3), A), op_t(EOS_DTYPE_F32, 2, D(3, 2), B),
                         op_t(EOS_DTYPE_F32, 2, D(2, 2), neg) }, out[1];
    ASSERT_OK(op_run(&t.n, in, out, &err));
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ -3, 5, 10, -4.5f }), 4, 0);
    op_free(out, 1);
    /* MatMul with sigmoid and the output aliasing the residual */
    op_init(&t, EOS_OP_MATMUL, 3, 1, 13);
    t.n.fuse = (eos_fusion){ EOS_ACT_SIGMOID, 0, 0, 2 };
    in[2].data = neg;
    out[0] = op_t(EOS_DTYPE_F32, 2, D(2, 2), neg);
    ASSERT_OK(eos_op_ref(&t.n, in, out, &err));
    EXPECT_F32_ARRAY(neg, ((const float[]){ 0.00247262316f, 0.993307149f, 0.999954602f,
                                            0.000123394576f }), 4, 1e-7);
}

static void naive_matmul(const float *a, const float *b, int64_t m, int64_t k, int64_t n,
                         float *y) {
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double s = 0;
            for (int64_t p = 0; p < k; p++) s += (double)a[i * k + p] * b[p * n + j];
            y[i * n + j] = (float)s;
        }
}

static void test_matmul_batched(void) {
    /* a [2, 1, 2, 3], b [3, 3, 4] -> [2, 3, 2, 4]; y[i, j] = a[i, 0] @ b[j] */
    float a[12], b[36], want[48];
    test_fill_uniform(a, 12, -1, 1, 5);
    test_fill_uniform(b, 36, -1, 1, 6);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++) naive_matmul(a + i * 6, b + j * 12, 2, 3, 4, want + (i * 3 + j) * 8);
    op_node t;
    eos_err err;
    op_init(&t, EOS_OP_MATMUL, 2, 1, 13);
    eos_tensor in[2] = { op_t(EOS_DTYPE_F32, 4, D(2, 1, 2, 3), a),
                         op_t(EOS_DTYPE_F32, 3, D(3, 3, 4), b) }, out[1];
    ASSERT_OK(op_run(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 2, 3, 2, 4);
    EXPECT_F32_ARRAY(out[0].data, want, 48, 1e-6);
    op_free(out, 1);
    /* 1-D operands: [3] x [3, 2] = [4, 5]; [2, 3] x [3] of ones = [6, 15]; [3] . [3] = 14 */
    static const float ones[3] = { 1, 1, 1 };
    in[0] = op_t(EOS_DTYPE_F32, 1, D(3), A);
    in[1] = op_t(EOS_DTYPE_F32, 2, D(3, 2), B);
    ASSERT_OK(op_run(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 2);
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ 4, 5 }), 2, 0);
    op_free(out, 1);
    in[0] = op_t(EOS_DTYPE_F32, 2, D(2, 3), A);
    in[1] = op_t(EOS_DTYPE_F32, 1, D(3), ones);
    ASSERT_OK(op_run(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 2);
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ 6, 15 }), 2, 0);
    op_free(out, 1);
    in[0] = op_t(EOS_DTYPE_F32, 1, D(3), A);
    in[1] = op_t(EOS_DTYPE_F32, 1, D(3), A);
    ASSERT_OK(op_run(&t.n, in, out, &err));
    EXPECT_EQ_INT(out[0].ndim, 0);
    EXPECT_NEAR(((float *)out[0].data)[0], 14, 0);
    op_free(out, 1);
    /* [3] x [2, 3, 2]: the vector against every batch */
    in[1] = op_t(EOS_DTYPE_F32, 3, D(2, 3, 2), b);
    ASSERT_OK(op_run(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 2, 2);
    naive_matmul(A, b, 1, 3, 2, want);
    naive_matmul(A, b + 6, 1, 3, 2, want + 2);
    EXPECT_F32_ARRAY(out[0].data, want, 4, 1e-6);
    op_free(out, 1);
}

TEST_MAIN(TEST(test_gemm_trans), TEST(test_gemm_fused), TEST(test_matmul_batched))
