/*
 * tests/ops/test_infer.c - operator table, parameter decoders and shape/type inference:
 * broadcasting, conv/pool geometry (auto_pad SAME_UPPER vs SAME_LOWER, ceil_mode,
 * ConvTranspose output_padding/output_shape), Slice clamping, Reshape 0/-1, and the opset
 * differences of Softmax, Squeeze/Unsqueeze, Split, Pad and the reductions. Expected shapes
 * are worked out by hand from the ONNX formulas (noted next to each case).
 */
#include <stdint.h>

#include "ops/op_test.h"

static float g_f[64];   /* dummy data for inputs that must merely be present */

/* ------------------------------------------------------------------ table */

static void test_op_table(void) {
    EXPECT_EQ_INT(eos_op_from_name("Conv"), EOS_OP_CONV);
    EXPECT_EQ_INT(eos_op_from_name("Equal"), EOS_OP_EQUAL);
    EXPECT_EQ_INT(eos_op_from_name("conv"), EOS_OP_UNKNOWN);
    EXPECT_EQ_INT(eos_op_from_name("LSTM"), EOS_OP_UNKNOWN);
    EXPECT_EQ_INT(eos_op_from_name(NULL), EOS_OP_UNKNOWN);
    EXPECT_STR_EQ(eos_op_name(EOS_OP_GLOBAL_AVERAGE_POOL), "GlobalAveragePool");
    EXPECT_STR_EQ(eos_op_name(EOS_OP_UNKNOWN), "?");
    EXPECT_STR_EQ(eos_op_name(EOS_OP_COUNT_), "?");
    for (int op = 1; op < EOS_OP_COUNT_; op++)
        EXPECT_EQ_INT(eos_op_from_name(eos_op_name((eos_op)op)), op);
    int a, b, c, d;
    eos_op_arity(EOS_OP_BATCH_NORM, &a, &b, &c, &d);
    EXPECT_EQ_INT(a, 5);
    EXPECT_EQ_INT(b, 5);
    EXPECT_EQ_INT(c, 1);
    EXPECT_EQ_INT(d, 3);
    eos_op_arity(EOS_OP_COUNT_, &a, &b, &c, &d);
    EXPECT_EQ_INT(b, 0);
}

/* ------------------------------------------------------------------ broadcasting, types */

static void test_broadcast(void) {
    op_node t;
    eos_err err;
    eos_tensor out[1];
    op_init(&t, EOS_OP_ADD, 2, 1, 14);
    eos_tensor in[2] = { op_t(EOS_DTYPE_F32, 3, D(2, 1, 4), NULL),
                         op_t(EOS_DTYPE_F32, 2, D(3, 1), NULL) };
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 2, 3, 4);
    EXPECT_EQ_INT(out[0].dtype, EOS_DTYPE_F32);

    in[1] = op_t(EOS_DTYPE_F32, 0, NULL, NULL);                 /* scalar */
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 2, 1, 4);

    in[1] = op_t(EOS_DTYPE_F32, 2, D(3, 3), NULL);              /* 4 vs 3: no */
    EXPECT_STATUS(op_infer(&t.n, in, out, &err), EOS_SHAPE);
    EXPECT_TRUE(strstr(err.msg, "node 't' (Add)") != NULL);

    in[1] = op_t(EOS_DTYPE_I64, 1, D(4), NULL);                 /* f32 + i64: no */
    EXPECT_STATUS(op_infer(&t.n, in, out, &err), EOS_TYPE);

    in[0] = op_t(EOS_DTYPE_I64, 1, D(1), NULL);                 /* i64 + i64: shape arithmetic */
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    EXPECT_EQ_INT(out[0].dtype, EOS_DTYPE_I64);
    EXPECT_SHAPE(out[0], 4);

    op_init(&t, EOS_OP_EQUAL, 2, 1, 13);
    in[0] = op_t(EOS_DTYPE_I64, 2, D(2, 1), NULL);
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    EXPECT_EQ_INT(out[0].dtype, EOS_DTYPE_BOOL);
    EXPECT_SHAPE(out[0], 2, 4);

    op_init(&t, EOS_OP_WHERE, 3, 1, 16);
    eos_tensor w[3] = { op_t(EOS_DTYPE_BOOL, 3, D(5, 1, 1), NULL),
                        op_t(EOS_DTYPE_I64, 1, D(3), NULL), op_t(EOS_DTYPE_I64, 2, D(2, 1), NULL) };
    ASSERT_OK(op_infer(&t.n, w, out, &err));
    EXPECT_SHAPE(out[0], 5, 2, 3);
    EXPECT_EQ_INT(out[0].dtype, EOS_DTYPE_I64);
    w[0].dtype = EOS_DTYPE_F32;
    EXPECT_STATUS(op_infer(&t.n, w, out, &err), EOS_TYPE);

    op_init(&t, EOS_OP_PRELU, 2, 1, 16);                        /* slope [C,1,1] -> x */
    eos_tensor pr[2] = { op_t(EOS_DTYPE_F32, 4, D(1, 3, 4, 4), NULL),
                         op_t(EOS_DTYPE_F32, 3, D(3, 1, 1), NULL) };
    ASSERT_OK(op_infer(&t.n, pr, out, &err));
    EXPECT_SHAPE(out[0], 1, 3, 4, 4);
    pr[1] = op_t(EOS_DTYPE_F32, 5, D(2, 1, 3, 1, 1), NULL);    /* would grow x */
    EXPECT_STATUS(op_infer(&t.n, pr, out, &err), EOS_SHAPE);

    op_init(&t, EOS_OP_RELU, 1, 1, 14);
    eos_tensor ri = op_t(EOS_DTYPE_I64, 1, D(3), NULL);
    EXPECT_STATUS(op_infer(&t.n, &ri, out, &err), EOS_TYPE);
    op_init(&t, EOS_OP_CAST, 1, 1, 13);
    op_int(&t, "to", 2);                                        /* UINT8 */
    ASSERT_OK(op_infer(&t.n, &ri, out, &err));
    EXPECT_EQ_INT(out[0].dtype, EOS_DTYPE_U8);
    EXPECT_SHAPE(out[0], 3);
    op_init(&t, EOS_OP_CAST, 1, 1, 13);
    op_int(&t, "to", 8);                                        /* STRING */
    EXPECT_STATUS(op_infer(&t.n, &ri, out, &err), EOS_UNSUPPORTED);
}

static void test_unknown_shapes_and_constant(void) {
    op_node t;
    eos_err err;
    op_init(&t, EOS_OP_RELU, 1, 1, 14);
    eos_value v = { .name = "x", .dtype = EOS_DTYPE_F32, .ndim = 2, .dims = { -1, 3 } };
    eos_value o = { .ndim = -1 };
    const eos_value *pin[1] = { &v };
    eos_value *pout[1] = { &o };
    EXPECT_STATUS(eos_op_infer(&t.n, pin, pout, &err), EOS_SHAPE);
    v.ndim = -1;
    EXPECT_STATUS(eos_op_infer(&t.n, pin, pout, &err), EOS_SHAPE);
    v.ndim = 2;
    v.dims[0] = 2;
    ASSERT_OK(eos_op_infer(&t.n, pin, pout, &err));
    EXPECT_EQ_INT(o.ndim, 2);
    EXPECT_EQ_INT(o.dims[1], 3);

    op_init(&t, EOS_OP_CONSTANT, 0, 1, 13);
    EXPECT_STATUS(eos_op_infer(&t.n, pin, pout, &err), EOS_INTERNAL);

    op_init(&t, EOS_OP_BATCH_NORM, 5, 3, 14);                   /* training outputs */
    eos_tensor bn[5] = { op_t(EOS_DTYPE_F32, 4, D(1, 2, 3, 3), NULL) };
    for (int i = 1; i < 5; i++) bn[i] = op_t(EOS_DTYPE_F32, 1, D(2), NULL);
    eos_tensor out[3];
    EXPECT_STATUS(op_infer(&t.n, bn, out, &err), EOS_UNSUPPORTED);
    t.n.n_out = 1;
    ASSERT_OK(op_infer(&t.n, bn, out, &err));
    EXPECT_SHAPE(out[0], 1, 2, 3, 3);
    bn[3] = op_t(EOS_DTYPE_F32, 1, D(3), NULL);
    EXPECT_STATUS(op_infer(&t.n, bn, out, &err), EOS_SHAPE);
}

/* ------------------------------------------------------------------ conv / pool geometry */

static void test_conv_same_pads(void) {
    op_node t;
    eos_err err;
    eos_conv_params p;
    /* in 5, k 2, s 1: out 5, total pad 1 -> UPPER (0, 1), LOWER (1, 0) */
    op_init(&t, EOS_OP_CONV, 2, 1, 11);
    op_str(&t, "auto_pad", "SAME_UPPER");
    ASSERT_OK(eos_conv_params_get(&t.n, 4, D(1, 3, 5, 5), 4, D(8, 3, 2, 2), false, &p, &err));
    EXPECT_EQ_INT(p.out_sp[0], 5);
    EXPECT_EQ_INT(p.pad_begin[0], 0);
    EXPECT_EQ_INT(p.pad_end[0], 1);
    EXPECT_EQ_INT(p.c_out, 8);
    op_init(&t, EOS_OP_CONV, 2, 1, 11);
    op_str(&t, "auto_pad", "SAME_LOWER");
    ASSERT_OK(eos_conv_params_get(&t.n, 4, D(1, 3, 5, 5), 4, D(8, 3, 2, 2), false, &p, &err));
    EXPECT_EQ_INT(p.pad_begin[1], 1);
    EXPECT_EQ_INT(p.pad_end[1], 0);
    /* in 5, k 3, s 2: out ceil(5/2) = 3, total (3-1)*2 + 3 - 5 = 2 -> (1, 1) */
    static const int64_t s2[] = { 2, 2 };
    op_init(&t, EOS_OP_CONV, 2, 1, 11);
    op_str(&t, "auto_pad", "SAME_UPPER");
    op_ints(&t, "strides", s2, 2);
    ASSERT_OK(eos_conv_params_get(&t.n, 4, D(1, 3, 5, 6), 4, D(8, 3, 3, 3), false, &p, &err));
    EXPECT_EQ_INT(p.out_sp[0], 3);
    EXPECT_EQ_INT(p.pad_begin[0], 1);
    EXPECT_EQ_INT(p.pad_end[0], 1);
    /* width 6: out 3, total (3-1)*2 + 3 - 6 = 1 -> (0, 1) */
    EXPECT_EQ_INT(p.out_sp[1], 3);
    EXPECT_EQ_INT(p.pad_begin[1], 0);
    EXPECT_EQ_INT(p.pad_end[1], 1);
    /* VALID ignores pads */
    static const int64_t pads[] = { 3, 3, 3, 3 };
    op_init(&t, EOS_OP_CONV, 2, 1, 11);
    op_str(&t, "auto_pad", "VALID");
    op_ints(&t, "pads", pads, 4);
    ASSERT_OK(eos_conv_params_get(&t.n, 4, D(1, 3, 5, 5), 4, D(8, 3, 3, 3), false, &p, &err));
    EXPECT_EQ_INT(p.out_sp[0], 3);
    EXPECT_EQ_INT(p.pad_begin[0], 0);
    op_init(&t, EOS_OP_CONV, 2, 1, 11);
    op_str(&t, "auto_pad", "SAME_MIDDLE");
    EXPECT_STATUS(eos_conv_params_get(&t.n, 4, D(1, 3, 5, 5), 4, D(8, 3, 3, 3), false, &p, &err),
                  EOS_INVALID_ARG);
}

static void test_conv_geometry(void) {
    op_node t;
    eos_err err;
    eos_conv_params p;
    eos_tensor out[1];
    /* in 7, k 3, dilation 2 (dk 5), stride 2, pads (1, 2): (7 + 3 - 5) / 2 + 1 = 3;
     * in 9, k 3, dilation 1, stride 1, pads (0, 0): 7 */
    static const int64_t st[] = { 2, 1 }, dl[] = { 2, 1 }, pads[] = { 1, 0, 2, 0 };
    op_init(&t, EOS_OP_CONV, 3, 1, 11);
    op_ints(&t, "strides", st, 2);
    op_ints(&t, "dilations", dl, 2);
    op_ints(&t, "pads", pads, 4);
    op_int(&t, "group", 2);
    eos_tensor in[3] = { op_t(EOS_DTYPE_F32, 4, D(2, 4, 7, 9), NULL),
                         op_t(EOS_DTYPE_F32, 4, D(6, 2, 3, 3), NULL),
                         op_t(EOS_DTYPE_F32, 1, D(6), NULL) };
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 2, 6, 3, 7);
    in[2] = op_t(EOS_DTYPE_F32, 1, D(5), NULL);                 /* bias size */
    EXPECT_STATUS(op_infer(&t.n, in, out, &err), EOS_SHAPE);
    in[2] = op_none();
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    in[1] = op_t(EOS_DTYPE_F32, 4, D(6, 4, 3, 3), NULL);        /* 4 x group 2 != 4 channels */
    EXPECT_STATUS(op_infer(&t.n, in, out, &err), EOS_SHAPE);
    in[1] = op_t(EOS_DTYPE_F32, 4, D(5, 2, 3, 3), NULL);        /* 5 outputs, 2 groups */
    EXPECT_STATUS(op_infer(&t.n, in, out, &err), EOS_SHAPE);
    in[1] = op_t(EOS_DTYPE_F32, 3, D(6, 2, 3), NULL);           /* rank mismatch */
    EXPECT_STATUS(op_infer(&t.n, in, out, &err), EOS_SHAPE);

    /* kernel_shape must agree with the weight; 1-D conv; too-small input */
    static const int64_t ks[] = { 5 };
    op_init(&t, EOS_OP_CONV, 2, 1, 11);
    op_ints(&t, "kernel_shape", ks, 1);
    EXPECT_STATUS(eos_conv_params_get(&t.n, 3, D(1, 1, 10), 3, D(1, 1, 3), false, &p, &err),
                  EOS_SHAPE);
    ASSERT_OK(eos_conv_params_get(&t.n, 3, D(1, 1, 10), 3, D(1, 1, 5), false, &p, &err));
    EXPECT_EQ_INT(p.n_spatial, 1);
    EXPECT_EQ_INT(p.out_sp[0], 6);
    EXPECT_STATUS(eos_conv_params_get(&t.n, 3, D(1, 1, 4), 3, D(1, 1, 5), false, &p, &err),
                  EOS_SHAPE);
    static const int64_t bad_st[] = { 0 };
    op_init(&t, EOS_OP_CONV, 2, 1, 11);
    op_ints(&t, "strides", bad_st, 1);
    EXPECT_STATUS(eos_conv_params_get(&t.n, 3, D(1, 1, 10), 3, D(1, 1, 5), false, &p, &err),
                  EOS_INVALID_ARG);
    /* 3-D */
    op_init(&t, EOS_OP_CONV, 2, 1, 11);
    ASSERT_OK(eos_conv_params_get(&t.n, 5, D(1, 2, 4, 5, 6), 5, D(3, 2, 2, 3, 1), false, &p, &err));
    EXPECT_EQ_INT(p.out_sp[0], 3);
    EXPECT_EQ_INT(p.out_sp[1], 3);
    EXPECT_EQ_INT(p.out_sp[2], 6);
}

static void test_conv_transpose_geometry(void) {
    op_node t;
    eos_err err;
    eos_conv_params p;
    eos_tensor out[1];
    /* in 3, k 3, s 2, pads (1, 1), output_padding 1: 2*(3-1) + 1 + 3 - 2 = 6 */
    static const int64_t st[] = { 2, 2 }, pads[] = { 1, 1, 1, 1 }, op1[] = { 1, 0 };
    op_init(&t, EOS_OP_CONV_TRANSPOSE, 2, 1, 11);
    op_ints(&t, "strides", st, 2);
    op_ints(&t, "pads", pads, 4);
    op_ints(&t, "output_padding", op1, 2);
    op_int(&t, "group", 2);
    eos_tensor in[2] = { op_t(EOS_DTYPE_F32, 4, D(1, 4, 3, 3), NULL),
                         op_t(EOS_DTYPE_F32, 4, D(4, 3, 3, 3), NULL) };
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 1, 6, 6, 5);                           /* C_out = 3 x group 2 */

    /* output_padding must be smaller than the stride */
    static const int64_t op2[] = { 2, 0 };
    op_init(&t, EOS_OP_CONV_TRANSPOSE, 2, 1, 11);
    op_ints(&t, "strides", st, 2);
    op_ints(&t, "output_padding", op2, 2);
    EXPECT_STATUS(op_infer(&t.n, in, out, &err), EOS_INVALID_ARG);

    /* output_shape: full size 2*(3-1) + 0 + 3 = 7; asking 6 -> total pad 1, NOTSET puts the
     * extra at the beginning (pads = total - total/2, total/2) */
    static const int64_t os[] = { 6, 7 };
    op_init(&t, EOS_OP_CONV_TRANSPOSE, 2, 1, 11);
    op_ints(&t, "strides", st, 2);
    op_ints(&t, "output_shape", os, 2);
    ASSERT_OK(eos_conv_params_get(&t.n, 4, D(1, 4, 3, 3), 4, D(4, 3, 3, 3), true, &p, &err));
    EXPECT_EQ_INT(p.out_sp[0], 6);
    EXPECT_EQ_INT(p.pad_begin[0], 1);
    EXPECT_EQ_INT(p.pad_end[0], 0);
    EXPECT_EQ_INT(p.out_sp[1], 7);
    EXPECT_EQ_INT(p.pad_begin[1], 0);
    /* SAME_UPPER: out = in * stride = 6, total 1, the extra at the end */
    op_init(&t, EOS_OP_CONV_TRANSPOSE, 2, 1, 11);
    op_ints(&t, "strides", st, 2);
    op_str(&t, "auto_pad", "SAME_UPPER");
    ASSERT_OK(eos_conv_params_get(&t.n, 4, D(1, 4, 3, 3), 4, D(4, 3, 3, 3), true, &p, &err));
    EXPECT_EQ_INT(p.out_sp[0], 6);
    EXPECT_EQ_INT(p.pad_begin[0], 0);
    EXPECT_EQ_INT(p.pad_end[0], 1);
    /* weight channels must match the input */
    op_init(&t, EOS_OP_CONV_TRANSPOSE, 2, 1, 11);
    EXPECT_STATUS(eos_conv_params_get(&t.n, 4, D(1, 5, 3, 3), 4, D(4, 3, 3, 3), true, &p, &err),
                  EOS_SHAPE);
}

static void test_pool_geometry(void) {
    op_node t;
    eos_err err;
    eos_pool_params p;
    eos_tensor out[2];
    static const int64_t k3[] = { 3, 3 }, s2[] = { 2, 2 };
    /* in 6, k 3, s 2: floor (6-3)/2 + 1 = 2, ceil ceil(3/2) + 1 = 3 */
    op_init(&t, EOS_OP_MAX_POOL, 1, 1, 12);
    op_ints(&t, "kernel_shape", k3, 2);
    op_ints(&t, "strides", s2, 2);
    ASSERT_OK(eos_pool_params_get(&t.n, 4, D(1, 1, 6, 7), &p, &err));
    EXPECT_EQ_INT(p.out_sp[0], 2);
    EXPECT_EQ_INT(p.out_sp[1], 3);
    op_int(&t, "ceil_mode", 1);
    ASSERT_OK(eos_pool_params_get(&t.n, 4, D(1, 1, 6, 7), &p, &err));
    EXPECT_EQ_INT(p.out_sp[0], 3);
    EXPECT_EQ_INT(p.out_sp[1], 3);                              /* (7-3)/2 exact */
    /* k 1, s 2, pads (0, 1), in 5: ceil gives ceil(5/2)+1 = 4 windows, but the 4th would start
     * at 6 >= 5 + 0 (inside the end padding) and is dropped -> 3 */
    static const int64_t k1[] = { 1 }, s21[] = { 2 }, p01[] = { 0, 1 };
    op_init(&t, EOS_OP_AVERAGE_POOL, 1, 1, 12);
    op_ints(&t, "kernel_shape", k1, 1);
    op_ints(&t, "strides", s21, 1);
    op_ints(&t, "pads", p01, 2);
    op_int(&t, "ceil_mode", 1);
    ASSERT_OK(eos_pool_params_get(&t.n, 3, D(1, 1, 5), &p, &err));
    EXPECT_EQ_INT(p.out_sp[0], 3);
    EXPECT_TRUE(!p.is_max);
    /* SAME_LOWER for pools */
    op_init(&t, EOS_OP_MAX_POOL, 1, 1, 12);
    op_ints(&t, "kernel_shape", k3, 2);
    op_ints(&t, "strides", s2, 2);
    op_str(&t, "auto_pad", "SAME_LOWER");
    ASSERT_OK(eos_pool_params_get(&t.n, 4, D(1, 1, 6, 6), &p, &err));
    EXPECT_EQ_INT(p.out_sp[0], 3);                              /* total (3-1)*2+3-6 = 1 */
    EXPECT_EQ_INT(p.pad_begin[0], 1);
    EXPECT_EQ_INT(p.pad_end[0], 0);
    /* kernel_shape is required; Indices output */
    op_init(&t, EOS_OP_MAX_POOL, 1, 2, 12);
    eos_tensor x = op_t(EOS_DTYPE_F32, 4, D(2, 3, 8, 8), NULL);
    EXPECT_STATUS(op_infer(&t.n, &x, out, &err), EOS_INVALID_ARG);
    op_ints(&t, "kernel_shape", k3, 2);
    ASSERT_OK(op_infer(&t.n, &x, out, &err));
    EXPECT_SHAPE(out[0], 2, 3, 6, 6);
    EXPECT_EQ_INT(out[1].dtype, EOS_DTYPE_I64);
    EXPECT_SHAPE(out[1], 2, 3, 6, 6);
    op_int(&t, "storage_order", 1);
    EXPECT_STATUS(op_infer(&t.n, &x, out, &err), EOS_UNSUPPORTED);
    /* global */
    op_init(&t, EOS_OP_GLOBAL_AVERAGE_POOL, 1, 1, 12);
    ASSERT_OK(op_infer(&t.n, &x, out, &err));
    EXPECT_SHAPE(out[0], 2, 3, 1, 1);
    eos_tensor x2 = op_t(EOS_DTYPE_F32, 2, D(2, 3), NULL);
    EXPECT_STATUS(op_infer(&t.n, &x2, out, &err), EOS_SHAPE);
}

/* ------------------------------------------------------------------ gemm / matmul */

static void test_gemm_matmul(void) {
    op_node t;
    eos_err err;
    eos_tensor out[1];
    op_init(&t, EOS_OP_GEMM, 3, 1, 13);
    op_int(&t, "transA", 1);
    op_int(&t, "transB", 1);
    eos_tensor g[3] = { op_t(EOS_DTYPE_F32, 2, D(4, 3), NULL), op_t(EOS_DTYPE_F32, 2, D(5, 4), NULL),
                        op_t(EOS_DTYPE_F32, 1, D(5), NULL) };
    ASSERT_OK(op_infer(&t.n, g, out, &err));
    EXPECT_SHAPE(out[0], 3, 5);
    g[2] = op_t(EOS_DTYPE_F32, 2, D(3, 1), NULL);
    ASSERT_OK(op_infer(&t.n, g, out, &err));
    g[2] = op_t(EOS_DTYPE_F32, 1, D(3), NULL);                  /* [3] does not broadcast to [3,5] */
    EXPECT_STATUS(op_infer(&t.n, g, out, &err), EOS_SHAPE);
    op_init(&t, EOS_OP_GEMM, 2, 1, 13);
    EXPECT_STATUS(op_infer(&t.n, g, out, &err), EOS_SHAPE);     /* K 3 vs 5 without trans */

    op_init(&t, EOS_OP_MATMUL, 2, 1, 13);
    eos_tensor m[2] = { op_t(EOS_DTYPE_F32, 4, D(2, 1, 3, 4), NULL),
                        op_t(EOS_DTYPE_F32, 3, D(5, 4, 6), NULL) };
    ASSERT_OK(op_infer(&t.n, m, out, &err));
    EXPECT_SHAPE(out[0], 2, 5, 3, 6);
    m[0] = op_t(EOS_DTYPE_F32, 1, D(4), NULL);                  /* 1-D x 3-D */
    ASSERT_OK(op_infer(&t.n, m, out, &err));
    EXPECT_SHAPE(out[0], 5, 6);
    m[1] = op_t(EOS_DTYPE_F32, 1, D(4), NULL);                  /* dot product -> scalar */
    ASSERT_OK(op_infer(&t.n, m, out, &err));
    EXPECT_EQ_INT(out[0].ndim, 0);
    m[0] = op_t(EOS_DTYPE_F32, 2, D(3, 4), NULL);               /* matrix x vector */
    ASSERT_OK(op_infer(&t.n, m, out, &err));
    EXPECT_SHAPE(out[0], 3);
    m[1] = op_t(EOS_DTYPE_F32, 2, D(3, 4), NULL);
    EXPECT_STATUS(op_infer(&t.n, m, out, &err), EOS_SHAPE);
}

/* ------------------------------------------------------------------ reshaping ops */

static void test_reshape(void) {
    op_node t;
    eos_err err;
    eos_tensor out[1];
    int64_t shape[4];
    op_init(&t, EOS_OP_RESHAPE, 2, 1, 14);
    eos_tensor in[2] = { op_t(EOS_DTYPE_F32, 3, D(2, 3, 4), NULL),
                         op_t(EOS_DTYPE_I64, 1, D(2), shape) };
    shape[0] = 0, shape[1] = -1;                                /* [2, 12] */
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 2, 12);
    in[1].dims[0] = 3;
    shape[0] = -1, shape[1] = 0, shape[2] = 2;                  /* [4, 3, 2] */
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 4, 3, 2);
    shape[0] = -1, shape[1] = -1, shape[2] = 2;
    EXPECT_STATUS(op_infer(&t.n, in, out, &err), EOS_SHAPE);
    shape[0] = 5, shape[1] = -1, shape[2] = 1;                  /* 24 % 5 */
    EXPECT_STATUS(op_infer(&t.n, in, out, &err), EOS_SHAPE);
    shape[0] = 4, shape[1] = 3, shape[2] = 3;
    EXPECT_STATUS(op_infer(&t.n, in, out, &err), EOS_SHAPE);
    in[1].dims[0] = 4;
    shape[0] = 0, shape[1] = 0, shape[2] = 0, shape[3] = 1;     /* [2, 3, 4, 1] */
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 2, 3, 4, 1);
    shape[3] = 0;                                               /* 0 beyond the input rank */
    EXPECT_STATUS(op_infer(&t.n, in, out, &err), EOS_SHAPE);
    /* allowzero: 0 is a real 0 */
    int64_t z[2] = { 0, 5 };
    op_init(&t, EOS_OP_RESHAPE, 2, 1, 14);
    op_int(&t, "allowzero", 1);
    eos_tensor e[2] = { op_t(EOS_DTYPE_F32, 2, D(0, 3), NULL), op_t(EOS_DTYPE_I64, 1, D(2), z) };
    ASSERT_OK(op_infer(&t.n, e, out, &err));
    EXPECT_SHAPE(out[0], 0, 5);
    /* i32 shape input; non-constant shape */
    int32_t s32[2] = { -1, 6 };
    op_init(&t, EOS_OP_RESHAPE, 2, 1, 14);
    in[1] = op_t(EOS_DTYPE_I32, 1, D(2), s32);
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 4, 6);
    in[1].data = NULL;
    EXPECT_STATUS(op_infer(&t.n, in, out, &err), EOS_UNSUPPORTED);
    EXPECT_TRUE(strstr(err.msg, "constant at plan time") != NULL);
    in[1] = op_t(EOS_DTYPE_F32, 1, D(2), g_f);
    EXPECT_STATUS(op_infer(&t.n, in, out, &err), EOS_TYPE);

    op_init(&t, EOS_OP_FLATTEN, 1, 1, 13);
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 2, 12);
    op_int(&t, "axis", 0);
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 1, 24);
    op_init(&t, EOS_OP_FLATTEN, 1, 1, 13);
    op_int(&t, "axis", 3);
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 24, 1);
    op_init(&t, EOS_OP_FLATTEN, 1, 1, 13);
    op_int(&t, "axis", -1);
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 6, 4);
    op_init(&t, EOS_OP_FLATTEN, 1, 1, 13);
    op_int(&t, "axis", 4);
    EXPECT_STATUS(op_infer(&t.n, in, out, &err), EOS_INVALID_ARG);

    op_init(&t, EOS_OP_TRANSPOSE, 1, 1, 13);
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 4, 3, 2);
    static const int64_t perm[] = { 1, 2, 0 }, bad[] = { 1, 1, 0 };
    op_ints(&t, "perm", perm, 3);
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 3, 4, 2);
    op_init(&t, EOS_OP_TRANSPOSE, 1, 1, 13);
    op_ints(&t, "perm", bad, 3);
    EXPECT_STATUS(op_infer(&t.n, in, out, &err), EOS_INVALID_ARG);
}

static void test_squeeze_unsqueeze(void) {
    op_node t;
    eos_err err;
    eos_tensor out[1];
    eos_tensor x = op_t(EOS_DTYPE_F32, 4, D(1, 3, 1, 2), NULL);
    /* opset 11: axes attribute */
    static const int64_t ax[] = { -2 };
    op_init(&t, EOS_OP_SQUEEZE, 1, 1, 11);
    op_ints(&t, "axes", ax, 1);
    ASSERT_OK(op_infer(&t.n, &x, out, &err));
    EXPECT_SHAPE(out[0], 1, 3, 2);
    /* opset 13: the attribute is no longer read; no axes -> all size-1 dims */
    t.n.opset = 13;
    ASSERT_OK(op_infer(&t.n, &x, out, &err));
    EXPECT_SHAPE(out[0], 3, 2);
    int64_t axes[2] = { 0, 2 };
    op_init(&t, EOS_OP_SQUEEZE, 2, 1, 13);
    eos_tensor in[2] = { x, op_t(EOS_DTYPE_I64, 1, D(1), axes) };
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 3, 1, 2);
    axes[0] = 1;                                                /* size 3: cannot squeeze */
    EXPECT_STATUS(op_infer(&t.n, in, out, &err), EOS_SHAPE);
    in[1].data = NULL;
    EXPECT_STATUS(op_infer(&t.n, in, out, &err), EOS_UNSUPPORTED);
    in[1].dims[0] = 0;                                          /* empty axes: all size-1 dims */
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 3, 2);

    static const int64_t uax[] = { 0, -1 };
    op_init(&t, EOS_OP_UNSQUEEZE, 1, 1, 11);
    op_ints(&t, "axes", uax, 2);
    eos_tensor y = op_t(EOS_DTYPE_I64, 2, D(3, 4), NULL);
    ASSERT_OK(op_infer(&t.n, &y, out, &err));
    EXPECT_SHAPE(out[0], 1, 3, 4, 1);
    EXPECT_EQ_INT(out[0].dtype, EOS_DTYPE_I64);
    t.n.opset = 13;                                             /* needs the input now */
    EXPECT_STATUS(op_infer(&t.n, &y, out, &err), EOS_INVALID_ARG);
    int64_t ua[2] = { 1, 1 };
    op_init(&t, EOS_OP_UNSQUEEZE, 2, 1, 13);
    eos_tensor u[2] = { y, op_t(EOS_DTYPE_I64, 1, D(1), ua) };
    ASSERT_OK(op_infer(&t.n, u, out, &err));
    EXPECT_SHAPE(out[0], 3, 1, 4);
    u[1].dims[0] = 2;                                           /* duplicate axis */
    EXPECT_STATUS(op_infer(&t.n, u, out, &err), EOS_INVALID_ARG);
    eos_tensor s = op_t(EOS_DTYPE_I64, 0, NULL, NULL);          /* scalar -> [1] */
    u[0] = s;
    u[1].dims[0] = 1;
    ua[0] = 0;
    ASSERT_OK(op_infer(&t.n, u, out, &err));
    EXPECT_SHAPE(out[0], 1);
}

static void test_concat_split(void) {
    op_node t;
    eos_err err;
    eos_tensor out[3];
    op_init(&t, EOS_OP_CONCAT, 3, 1, 13);
    op_int(&t, "axis", -1);
    eos_tensor in[3] = { op_t(EOS_DTYPE_F32, 2, D(2, 3), NULL), op_t(EOS_DTYPE_F32, 2, D(2, 0), NULL),
                         op_t(EOS_DTYPE_F32, 2, D(2, 5), NULL) };
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 2, 8);
    in[1] = op_t(EOS_DTYPE_F32, 2, D(3, 1), NULL);
    EXPECT_STATUS(op_infer(&t.n, in, out, &err), EOS_SHAPE);
    in[1] = op_t(EOS_DTYPE_I64, 2, D(2, 1), NULL);
    EXPECT_STATUS(op_infer(&t.n, in, out, &err), EOS_TYPE);
    op_init(&t, EOS_OP_CONCAT, 3, 1, 13);                       /* axis required */
    EXPECT_STATUS(op_infer(&t.n, in, out, &err), EOS_INVALID_ARG);

    eos_tensor x = op_t(EOS_DTYPE_F32, 2, D(4, 6), NULL);
    /* default: equal parts */
    op_init(&t, EOS_OP_SPLIT, 1, 3, 13);
    op_int(&t, "axis", 1);
    ASSERT_OK(op_infer(&t.n, &x, out, &err));
    EXPECT_SHAPE(out[2], 4, 2);
    op_init(&t, EOS_OP_SPLIT, 1, 3, 13);
    EXPECT_STATUS(op_infer(&t.n, &x, out, &err), EOS_SHAPE);    /* 4 into 3 */
    /* opset 11: split attribute */
    static const int64_t sp[] = { 1, 2, 3 };
    op_init(&t, EOS_OP_SPLIT, 1, 3, 11);
    op_int(&t, "axis", -1);
    op_ints(&t, "split", sp, 3);
    ASSERT_OK(op_infer(&t.n, &x, out, &err));
    EXPECT_SHAPE(out[0], 4, 1);
    EXPECT_SHAPE(out[2], 4, 3);
    /* opset 13: split input */
    int64_t sizes[3] = { 3, 0, 3 };
    op_init(&t, EOS_OP_SPLIT, 2, 3, 13);
    op_int(&t, "axis", 1);
    eos_tensor s[2] = { x, op_t(EOS_DTYPE_I64, 1, D(3), sizes) };
    ASSERT_OK(op_infer(&t.n, s, out, &err));
    EXPECT_SHAPE(out[1], 4, 0);
    sizes[1] = 1;                                               /* sums to 7 */
    EXPECT_STATUS(op_infer(&t.n, s, out, &err), EOS_SHAPE);
    /* opset 18: num_outputs with an uneven last chunk: 5 -> 2, 2, 1 */
    op_init(&t, EOS_OP_SPLIT, 1, 3, 18);
    op_int(&t, "num_outputs", 3);
    eos_tensor f = op_t(EOS_DTYPE_F32, 1, D(5), NULL);
    ASSERT_OK(op_infer(&t.n, &f, out, &err));
    EXPECT_SHAPE(out[0], 2);
    EXPECT_SHAPE(out[1], 2);
    EXPECT_SHAPE(out[2], 1);
}

static void test_slice(void) {
    op_node t;
    eos_err err;
    eos_tensor out[1];
    int64_t st[2], en[2], ax[2], sp[2];
    op_init(&t, EOS_OP_SLICE, 5, 1, 13);
    eos_tensor in[5] = { op_t(EOS_DTYPE_F32, 2, D(10, 6), NULL), op_t(EOS_DTYPE_I64, 1, D(1), st),
                         op_t(EOS_DTYPE_I64, 1, D(1), en), op_t(EOS_DTYPE_I64, 1, D(1), ax),
                         op_t(EOS_DTYPE_I64, 1, D(1), sp) };
    /* reverse everything: start -1, end INT64_MIN, step -1 -> 10 */
    st[0] = -1, en[0] = INT64_MIN, ax[0] = 0, sp[0] = -1;
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 10, 6);
    /* 8, 5, 2 */
    st[0] = 8, en[0] = 1, sp[0] = -3;
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 3, 6);
    /* 0, 3, 6, 9 with end INT64_MAX */
    st[0] = 0, en[0] = INT64_MAX, sp[0] = 3;
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 4, 6);
    /* start past the end -> empty; start clamps to 10 */
    st[0] = 20, en[0] = 30, sp[0] = 1;
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 0, 6);
    /* negative axis and huge negative step */
    st[0] = INT64_MAX, en[0] = -100, ax[0] = -1, sp[0] = INT64_MIN;
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 10, 1);
    /* step 0; duplicated axes; non-constant */
    sp[0] = 0;
    EXPECT_STATUS(op_infer(&t.n, in, out, &err), EOS_INVALID_ARG);
    sp[0] = 1;
    in[1].dims[0] = in[2].dims[0] = in[3].dims[0] = in[4].dims[0] = 2;
    st[1] = 0, en[1] = 1, ax[0] = 1, ax[1] = -1, sp[1] = 1;
    EXPECT_STATUS(op_infer(&t.n, in, out, &err), EOS_INVALID_ARG);
    ax[1] = 0;                                                  /* axis 1: [INT64_MAX:-100] -> 0 */
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 1, 0);
    in[2].data = NULL;
    EXPECT_STATUS(op_infer(&t.n, in, out, &err), EOS_UNSUPPORTED);
    /* axes and steps omitted */
    op_init(&t, EOS_OP_SLICE, 3, 1, 13);
    in[2].data = en;
    st[0] = 1, st[1] = -4, en[0] = -1, en[1] = 100;
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 8, 4);
    /* opset 1: attributes */
    static const int64_t a_st[] = { 2 }, a_en[] = { -2 }, a_ax[] = { 1 };
    op_init(&t, EOS_OP_SLICE, 1, 1, 9);
    op_ints(&t, "starts", a_st, 1);
    op_ints(&t, "ends", a_en, 1);
    op_ints(&t, "axes", a_ax, 1);
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 10, 2);
}

static void test_gather_shape_cos(void) {
    op_node t;
    eos_err err;
    eos_tensor out[2];
    int64_t idx[4] = { 0, -1, 2, 1 };
    op_init(&t, EOS_OP_GATHER, 2, 1, 13);
    op_int(&t, "axis", -2);
    eos_tensor in[2] = { op_t(EOS_DTYPE_F32, 3, D(2, 3, 5), NULL),
                         op_t(EOS_DTYPE_I64, 2, D(2, 2), idx) };
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 2, 2, 2, 5);
    idx[2] = 3;                                                 /* out of range for dim 3 */
    EXPECT_STATUS(op_infer(&t.n, in, out, &err), EOS_INVALID_ARG);
    int64_t sc = -3;                                            /* scalar index drops the axis */
    in[1] = op_t(EOS_DTYPE_I64, 0, NULL, &sc);
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 2, 5);

    op_init(&t, EOS_OP_SHAPE, 1, 1, 15);
    eos_tensor x = op_t(EOS_DTYPE_F32, 4, D(1, 3, 8, 8), NULL);
    ASSERT_OK(op_infer(&t.n, &x, out, &err));
    EXPECT_SHAPE(out[0], 4);
    EXPECT_EQ_INT(out[0].dtype, EOS_DTYPE_I64);
    op_int(&t, "start", -3);
    op_int(&t, "end", -1);
    ASSERT_OK(op_infer(&t.n, &x, out, &err));
    EXPECT_SHAPE(out[0], 2);
    op_init(&t, EOS_OP_SHAPE, 1, 1, 15);
    op_int(&t, "start", 10);
    ASSERT_OK(op_infer(&t.n, &x, out, &err));
    EXPECT_SHAPE(out[0], 0);

    int64_t shp[2] = { 2, 3 }, one = 7;
    op_init(&t, EOS_OP_CONSTANT_OF_SHAPE, 1, 1, 9);
    eos_tensor s = op_t(EOS_DTYPE_I64, 1, D(2), shp);
    ASSERT_OK(op_infer(&t.n, &s, out, &err));
    EXPECT_SHAPE(out[0], 2, 3);
    EXPECT_EQ_INT(out[0].dtype, EOS_DTYPE_F32);
    op_tensor1(&t, "value", EOS_DTYPE_I64, &one);
    ASSERT_OK(op_infer(&t.n, &s, out, &err));
    EXPECT_EQ_INT(out[0].dtype, EOS_DTYPE_I64);
    shp[1] = -1;
    EXPECT_STATUS(op_infer(&t.n, &s, out, &err), EOS_SHAPE);

    op_init(&t, EOS_OP_DROPOUT, 1, 2, 13);
    ASSERT_OK(op_infer(&t.n, &x, out, &err));
    EXPECT_SHAPE(out[1], 1, 3, 8, 8);
    EXPECT_EQ_INT(out[1].dtype, EOS_DTYPE_BOOL);
    uint8_t train = 1;
    op_init(&t, EOS_OP_DROPOUT, 3, 1, 13);
    eos_tensor d[3] = { x, op_none(), op_t(EOS_DTYPE_BOOL, 0, NULL, &train) };
    EXPECT_STATUS(op_infer(&t.n, d, out, &err), EOS_UNSUPPORTED);
}

static void test_pad(void) {
    op_node t;
    eos_err err;
    eos_tensor out[1];
    int64_t pads[4] = { 1, 0, 2, -1 };
    op_init(&t, EOS_OP_PAD, 2, 1, 13);
    eos_tensor in[4] = { op_t(EOS_DTYPE_F32, 2, D(3, 4), NULL), op_t(EOS_DTYPE_I64, 1, D(4), pads) };
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 6, 3);
    op_init(&t, EOS_OP_PAD, 2, 1, 13);
    op_str(&t, "mode", "reflect");
    pads[0] = 3;                                                /* >= dim 3 */
    EXPECT_STATUS(op_infer(&t.n, in, out, &err), EOS_INVALID_ARG);
    pads[0] = 2;
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 7, 3);
    op_init(&t, EOS_OP_PAD, 2, 1, 13);
    op_str(&t, "mode", "wrap");
    EXPECT_STATUS(op_infer(&t.n, in, out, &err), EOS_UNSUPPORTED);
    /* opset 18 axes input: pads only for axis -1 */
    int64_t p2[2] = { 1, 1 }, ax = -1;
    op_init(&t, EOS_OP_PAD, 4, 1, 18);
    in[1] = op_t(EOS_DTYPE_I64, 1, D(2), p2);
    in[2] = op_none();
    in[3] = op_t(EOS_DTYPE_I64, 1, D(1), &ax);
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 3, 6);
    /* constant_value of another type */
    int64_t cv = 0;
    in[2] = op_t(EOS_DTYPE_I64, 0, NULL, &cv);
    EXPECT_STATUS(op_infer(&t.n, in, out, &err), EOS_TYPE);
    /* opset 2: attribute */
    static const int64_t ap[] = { 0, 1, 0, 1 };
    op_init(&t, EOS_OP_PAD, 1, 1, 2);
    op_ints(&t, "pads", ap, 4);
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 3, 6);
    op_init(&t, EOS_OP_PAD, 1, 1, 2);
    EXPECT_STATUS(op_infer(&t.n, in, out, &err), EOS_INVALID_ARG);
}

static void test_reduce_softmax(void) {
    op_node t;
    eos_err err;
    eos_tensor out[1];
    eos_tensor x = op_t(EOS_DTYPE_F32, 3, D(2, 3, 4), NULL);
    static const int64_t ax[] = { 1, -1 };
    op_init(&t, EOS_OP_REDUCE_MEAN, 1, 1, 13);                  /* attribute before 18 */
    op_ints(&t, "axes", ax, 2);
    ASSERT_OK(op_infer(&t.n, &x, out, &err));
    EXPECT_SHAPE(out[0], 2, 1, 1);
    op_int(&t, "keepdims", 0);
    ASSERT_OK(op_infer(&t.n, &x, out, &err));
    EXPECT_SHAPE(out[0], 2);
    op_init(&t, EOS_OP_REDUCE_MEAN, 1, 1, 13);                  /* no axes: all */
    ASSERT_OK(op_infer(&t.n, &x, out, &err));
    EXPECT_SHAPE(out[0], 1, 1, 1);
    int64_t axes[1] = { 0 };
    op_init(&t, EOS_OP_REDUCE_SUM, 2, 1, 13);                   /* input from 13 */
    op_int(&t, "keepdims", 0);
    eos_tensor in[2] = { op_t(EOS_DTYPE_I64, 3, D(2, 3, 4), NULL),
                         op_t(EOS_DTYPE_I64, 1, D(1), axes) };
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 3, 4);
    EXPECT_EQ_INT(out[0].dtype, EOS_DTYPE_I64);
    in[1].dims[0] = 0;                                          /* empty axes */
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    EXPECT_EQ_INT(out[0].ndim, 0);
    op_int(&t, "noop_with_empty_axes", 1);
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 2, 3, 4);
    in[1].data = NULL;                                          /* empty needs no data */
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 2, 3, 4);
    in[1].data = axes;
    op_init(&t, EOS_OP_REDUCE_MEAN, 2, 1, 18);
    EXPECT_STATUS(op_infer(&t.n, in, out, &err), EOS_TYPE);     /* i64 mean */

    op_init(&t, EOS_OP_ARGMAX, 1, 1, 13);
    op_int(&t, "axis", -1);
    op_int(&t, "keepdims", 0);
    ASSERT_OK(op_infer(&t.n, &x, out, &err));
    EXPECT_SHAPE(out[0], 2, 3);
    EXPECT_EQ_INT(out[0].dtype, EOS_DTYPE_I64);

    /* Softmax: opset 11 defaults to axis 1, which a 1-D input lacks; opset 13 uses -1 */
    eos_tensor v = op_t(EOS_DTYPE_F32, 1, D(5), NULL);
    op_init(&t, EOS_OP_SOFTMAX, 1, 1, 11);
    EXPECT_STATUS(op_infer(&t.n, &v, out, &err), EOS_INVALID_ARG);
    t.n.opset = 13;
    ASSERT_OK(op_infer(&t.n, &v, out, &err));
    EXPECT_SHAPE(out[0], 5);
}

static void test_resize_shapes(void) {
    op_node t;
    eos_err err;
    eos_tensor out[1];
    float scales[4] = { 1, 1, 2, 1.5f };
    int64_t sizes[4] = { 1, 3, 7, 9 };
    eos_tensor x = op_t(EOS_DTYPE_F32, 4, D(1, 3, 4, 5), NULL);
    op_init(&t, EOS_OP_RESIZE, 3, 1, 13);
    eos_tensor in[4] = { x, op_none(), op_t(EOS_DTYPE_F32, 1, D(4), scales), op_none() };
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 1, 3, 8, 7);                           /* floor(5 * 1.5) */
    op_init(&t, EOS_OP_RESIZE, 4, 1, 13);
    in[2] = op_t(EOS_DTYPE_F32, 1, D(0), NULL);                 /* empty scales, sizes given */
    in[3] = op_t(EOS_DTYPE_I64, 1, D(4), sizes);
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 1, 3, 7, 9);
    eos_resize_params p;
    eos_value vx = { .name = "", .dtype = EOS_DTYPE_F32, .ndim = 4, .dims = { 1, 3, 4, 5 } };
    eos_value vs = { .name = "", .dtype = EOS_DTYPE_I64, .ndim = 1, .dims = { 4 }, .data = sizes };
    const eos_value *pv[4] = { &vx, NULL, NULL, &vs };
    ASSERT_OK(eos_resize_params_get(&t.n, pv, &p, &err));
    EXPECT_NEAR(p.scales[2], 7.0 / 4.0, 1e-6);
    EXPECT_EQ_INT(p.coord, EOS_COORD_HALF_PIXEL);
    EXPECT_EQ_INT(p.nearest, EOS_NEAREST_ROUND_PREFER_FLOOR);
    EXPECT_EQ_INT(p.mode, EOS_RESIZE_NEAREST);
    /* keep_aspect_ratio_policy not_larger on axes (2, 3): scale min(7/4, 9/5) = 1.75 */
    static const int64_t axes[] = { 2, 3 };
    int64_t sz2[2] = { 7, 9 };
    op_init(&t, EOS_OP_RESIZE, 4, 1, 18);
    op_ints(&t, "axes", axes, 2);
    op_str(&t, "keep_aspect_ratio_policy", "not_larger");
    in[3] = op_t(EOS_DTYPE_I64, 1, D(2), sz2);
    ASSERT_OK(op_infer(&t.n, in, out, &err));
    EXPECT_SHAPE(out[0], 1, 3, 7, 9);                           /* round(5 * 1.75) = 9 */
    /* both or neither of scales / sizes */
    op_init(&t, EOS_OP_RESIZE, 4, 1, 13);
    in[2] = op_t(EOS_DTYPE_F32, 1, D(4), scales);
    in[3] = op_t(EOS_DTYPE_I64, 1, D(4), sizes);
    EXPECT_STATUS(op_infer(&t.n, in, out, &err), EOS_INVALID_ARG);
    in[2] = in[3] = op_none();
    EXPECT_STATUS(op_infer(&t.n, in, out, &err), EOS_INVALID_ARG);
    in[2] = op_t(EOS_DTYPE_F32, 1, D(4), NULL);                 /* not constant */
    EXPECT_STATUS(op_infer(&t.n, in, out, &err), EOS_UNSUPPORTED);
    op_init(&t, EOS_OP_RESIZE, 4, 1, 13);
    op_str(&t, "mode", "area");
    in[2] = op_t(EOS_DTYPE_F32, 1, D(4), scales);
    EXPECT_STATUS(op_infer(&t.n, in, out, &err), EOS_UNSUPPORTED);
    /* Upsample-7: scales attribute; nearest with asymmetric coordinates and floor */
    static const float us[] = { 1, 1, 2, 2 };
    op_init(&t, EOS_OP_UPSAMPLE, 1, 1, 7);
    op_floats(&t, "scales", us, 4);
    const eos_value *pu[1] = { &vx };
    ASSERT_OK(eos_resize_params_get(&t.n, pu, &p, &err));
    EXPECT_EQ_INT(p.out_dims[2], 8);
    EXPECT_EQ_INT(p.out_dims[3], 10);
    EXPECT_EQ_INT(p.coord, EOS_COORD_ASYMMETRIC);
    EXPECT_EQ_INT(p.nearest, EOS_NEAREST_FLOOR);
    ASSERT_OK(op_infer(&t.n, &x, out, &err));
    EXPECT_SHAPE(out[0], 1, 3, 8, 10);
    op_init(&t, EOS_OP_UPSAMPLE, 2, 1, 9);
    eos_tensor u[2] = { x, op_t(EOS_DTYPE_F32, 1, D(3), scales) };
    EXPECT_STATUS(op_infer(&t.n, u, out, &err), EOS_SHAPE);
}

TEST_MAIN(TEST(test_op_table), TEST(test_broadcast), TEST(test_unknown_shapes_and_constant),
          TEST(test_conv_same_pads), TEST(test_conv_geometry), TEST(test_conv_transpose_geometry),
          TEST(test_pool_geometry), TEST(test_gemm_matmul), TEST(test_reshape),
          TEST(test_squeeze_unsqueeze), TEST(test_concat_split), TEST(test_slice),
          TEST(test_gather_shape_cos), TEST(test_pad), TEST(test_reduce_softmax),
          TEST(test_resize_shapes))
