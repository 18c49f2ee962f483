/*
 * tests/ops/test_ref_norm.c - reference BatchNormalization, Softmax and LogSoftmax on
 * hand-computed values, including the opset-11 (coerce to 2-D) vs opset-13 (single axis)
 * Softmax semantics.
 */
#include "ops/op_test.h"

static void test_batch_norm(void) {
    /* ch0: (x - 1) / sqrt(4) * 1 + 0;  ch1: (x - 3) / sqrt(0.25) * 2 + 1 */
    static const float x[4] = { 1, 2, 3, 4 }, sc[2] = { 1, 2 }, b[2] = { 0, 1 };
    static const float mean[2] = { 1, 3 }, var[2] = { 4, 0.25f };
    op_node t;
    eos_err err;
    op_init(&t, EOS_OP_BATCH_NORM, 5, 1, 15);
    op_float(&t, "epsilon", 0);
    eos_tensor in[5] = { op_t(EOS_DTYPE_F32, 4, D(1, 2, 1, 2), x), op_t(EOS_DTYPE_F32, 1, D(2), sc),
                         op_t(EOS_DTYPE_F32, 1, D(2), b), op_t(EOS_DTYPE_F32, 1, D(2), mean),
                         op_t(EOS_DTYPE_F32, 1, D(2), var) }, out[1];
    ASSERT_OK(op_run(&t.n, in, out, &err));
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ 0, 0.5f, 1, 5 }), 4, 1e-6);
    op_free(out, 1);
    /* default epsilon 1e-5 on var 0: x / sqrt(1e-5) */
    static const float zero[2] = { 0, 0 }, one[2] = { 1, 1 };
    op_init(&t, EOS_OP_BATCH_NORM, 5, 1, 15);
    in[1] = op_t(EOS_DTYPE_F32, 1, D(2), one);
    in[2] = in[3] = in[4] = op_t(EOS_DTYPE_F32, 1, D(2), zero);
    ASSERT_OK(op_run(&t.n, in, out, &err));
    EXPECT_NEAR(((float *)out[0].data)[3], 4 / sqrt(1e-5), 1e-3);
    op_free(out, 1);
}

static void run_softmax(eos_op op, int opset, int64_t axis, const float *want) {
    static const float x[4] = { 1, 2, 3, 4 };
    op_node t;
    eos_err err;
    op_init(&t, op, 1, 1, opset);
    if (axis != 99) op_int(&t, "axis", axis);
    eos_tensor in = op_t(EOS_DTYPE_F32, 3, D(1, 2, 2), x), out[1];
    ASSERT_OK(op_run(&t.n, &in, out, &err));
    EXPECT_SHAPE(out[0], 1, 2, 2);
    EXPECT_F32_ARRAY(out[0].data, want, 4, 1e-6);
    op_free(out, 1);
}

static void test_softmax_opsets(void) {
    /* opset 13 default axis -1: each row [a, a+1] -> [0.268941, 0.731059] */
    run_softmax(EOS_OP_SOFTMAX, 13, 99, (const float[]){ 0.268941421f, 0.731058579f,
                                                         0.268941421f, 0.731058579f });
    /* opset 11 default axis 1: [1, 4] block, e^k / (e + e^2 + e^3 + e^4) */
    run_softmax(EOS_OP_SOFTMAX, 11, 99, (const float[]){ 0.0320586033f, 0.0871443187f,
                                                         0.236882818f, 0.643914260f });
    /* opset 13 axis 1: down the columns, [1, 3] and [2, 4] */
    run_softmax(EOS_OP_SOFTMAX, 13, 1, (const float[]){ 0.119202922f, 0.119202922f,
                                                        0.880797078f, 0.880797078f });
    /* opset 11 axis 2 equals opset 13 axis -1 (last axis) */
    run_softmax(EOS_OP_SOFTMAX, 11, 2, (const float[]){ 0.268941421f, 0.731058579f,
                                                        0.268941421f, 0.731058579f });
    run_softmax(EOS_OP_LOG_SOFTMAX, 13, 99, (const float[]){ -1.31326169f, -0.313261687f,
                                                             -1.31326169f, -0.313261687f });
    run_softmax(EOS_OP_LOG_SOFTMAX, 11, 99, (const float[]){ -3.44018984f, -2.44018984f,
                                                             -1.44018984f, -0.440189849f });
}

static void test_softmax_large(void) {
    /* large logits must not overflow: max subtraction */
    static const float x[3] = { 1000, 1001, 1002 };
    op_node t;
    eos_err err;
    op_init(&t, EOS_OP_SOFTMAX, 1, 1, 13);
    eos_tensor in = op_t(EOS_DTYPE_F32, 1, D(3), x), out[1];
    ASSERT_OK(op_run(&t.n, &in, out, &err));
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ 0.0900305732f, 0.244728471f, 0.665240956f }),
                     3, 1e-6);
    op_free(out, 1);
}

TEST_MAIN(TEST(test_batch_norm), TEST(test_softmax_opsets), TEST(test_softmax_large))
