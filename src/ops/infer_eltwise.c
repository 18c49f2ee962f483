/*
 * src/ops/infer_eltwise.c - shape inference for elementwise operators: activations and other
 * unary ops, Clip, PRelu, the broadcasting binary ops (Add, Sub, Mul, Div, Pow, Equal), Where
 * and Cast.
 *
 * Types: activations are f32; Add/Sub/Mul/Div also run on i64 and i32 (shape arithmetic),
 * Neg on f32/i64/i32, Equal on f32/i64/i32/bool (output bool), Pow on an f32 base with an f32
 * or integer exponent, Where on any element type with a bool condition.
 */
#include <string.h>

#include "ops/infer_common.h"

static void copy_shape(eos_tensor *t, eos_dtype dt, const eos_tensor *src) {
    t->dtype = dt;
    t->ndim = src->ndim;
    for (int i = 0; i < src->ndim; i++) t->dims[i] = src->dims[i];
}

eos_status eos__infer_unary_f32(const eos_node *n, const eos_tensor *in, int n_in,
                                eos_tensor *out, int n_out, eos_err *err) {
    EOS_TRY(eos__need_f32(n, in, 0, err));
    copy_shape(&out[0], EOS_DTYPE_F32, &in[0]);
    return EOS_OK;
}

static bool is_arith(eos_dtype t) {
    return t == EOS_DTYPE_F32 || t == EOS_DTYPE_I64 || t == EOS_DTYPE_I32;
}

eos_status eos__infer_neg(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                          int n_out, eos_err *err) {
    if (!is_arith(in[0].dtype))
        return eos__node_err(err, EOS_TYPE, n, "input must be f32, i64 or i32, not %s",
                             eos_dtype_name(in[0].dtype));
    copy_shape(&out[0], in[0].dtype, &in[0]);
    return EOS_OK;
}

eos_status eos__infer_clip(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                           int n_out, eos_err *err) {
    EOS_TRY(eos__need_f32(n, in, 0, err));
    for (int i = 1; i < n_in; i++) {
        if (!eos__has(in, n_in, i)) continue;
        EOS_TRY(eos__need_f32(n, in, i, err));
        if (eos__numel(&in[i]) != 1)
            return eos__node_err(err, EOS_SHAPE, n, "%s must be a scalar", i == 1 ? "min" : "max");
    }
    copy_shape(&out[0], EOS_DTYPE_F32, &in[0]);
    return EOS_OK;
}

eos_status eos__infer_prelu(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                            int n_out, eos_err *err) {
    EOS_TRY(eos__need_f32(n, in, 0, err));
    EOS_TRY(eos__need_f32(n, in, 1, err));
    int r;
    int64_t dims[EOS_MAX_DIMS];
    EOS_TRY(eos__broadcast(n, in[0].ndim, in[0].dims, in[1].ndim, in[1].dims, &r, dims, err));
    if (r != in[0].ndim || memcmp(dims, in[0].dims, (size_t)r * sizeof dims[0]))
        return eos__node_err(err, EOS_SHAPE, n, "slope does not broadcast to the input shape");
    copy_shape(&out[0], EOS_DTYPE_F32, &in[0]);
    return EOS_OK;
}

eos_status eos__infer_binary(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                             int n_out, eos_err *err) {
    eos_dtype a = in[0].dtype, b = in[1].dtype, o = a;
    if (n->op == EOS_OP_POW) {
        if (a != EOS_DTYPE_F32 || !is_arith(b))
            return eos__node_err(err, EOS_TYPE, n, "Pow needs an f32 base and an f32/i64/i32 "
                                 "exponent, got %s and %s", eos_dtype_name(a), eos_dtype_name(b));
    } else if (n->op == EOS_OP_EQUAL) {
        if (a != b || (!is_arith(a) && a != EOS_DTYPE_BOOL))
            return eos__node_err(err, EOS_TYPE, n, "operands must be the same type among f32, "
                                 "i64, i32, bool; got %s and %s", eos_dtype_name(a),
                                 eos_dtype_name(b));
        o = EOS_DTYPE_BOOL;
    } else if (a != b || !is_arith(a)) {
        return eos__node_err(err, EOS_TYPE, n, "operands must be the same type among f32, i64, "
                             "i32; got %s and %s", eos_dtype_name(a), eos_dtype_name(b));
    }
    out[0].dtype = o;
    return eos__broadcast(n, in[0].ndim, in[0].dims, in[1].ndim, in[1].dims, &out[0].ndim,
                          out[0].dims, err);
}

eos_status eos__infer_where(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                            int n_out, eos_err *err) {
    if (in[0].dtype != EOS_DTYPE_BOOL)
        return eos__node_err(err, EOS_TYPE, n, "condition must be bool, not %s",
                             eos_dtype_name(in[0].dtype));
    if (in[1].dtype != in[2].dtype)
        return eos__node_err(err, EOS_TYPE, n, "X and Y differ in type (%s, %s)",
                             eos_dtype_name(in[1].dtype), eos_dtype_name(in[2].dtype));
    int r;
    int64_t dims[EOS_MAX_DIMS];
    EOS_TRY(eos__broadcast(n, in[1].ndim, in[1].dims, in[2].ndim, in[2].dims, &r, dims, err));
    out[0].dtype = in[1].dtype;
    return eos__broadcast(n, in[0].ndim, in[0].dims, r, dims, &out[0].ndim, out[0].dims, err);
}

eos_status eos__infer_cast(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                           int n_out, eos_err *err) {
    const eos_attr *a = eos_node_attr(n, "to");
    if (!a || a->type != EOS_ATTR_INT)
        return eos__node_err(err, EOS_INVALID_ARG, n, "attribute 'to' (int) is required");
    eos_dtype to = eos_dtype_from_onnx((int)a->i);
    if (to == EOS_DTYPE_UNDEFINED)
        return eos__node_err(err, EOS_UNSUPPORTED, n, "cast to ONNX type %lld is not supported",
                             (long long)a->i);
    copy_shape(&out[0], to, &in[0]);
    return EOS_OK;
}
