/*
 * src/ops/ref/ref_eltwise.c - reference kernels for elementwise operators: activations and the
 * other unary ops, Clip, the broadcasting binary ops (Add, Sub, Mul, Div, Pow, PRelu, Equal),
 * Where and Cast.
 *
 * Broadcasting walks the output row by row (a row = the last axis); each input gets an offset
 * per row and a stride along the row (0 when broadcast), which keeps the inner loops simple
 * enough for the compiler to vectorise the common same-shape and per-channel cases.
 * Integer arithmetic wraps like two's complement (no UB); integer Div truncates toward zero
 * (C and onnxruntime semantics) and fails with EOS_INVALID_ARG on a zero divisor.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "ops/ref/ref.h"

/* ------------------------------------------------------------------ broadcast walker */

typedef struct bcast {
    int     r, k;
    int64_t dims[EOS_MAX_DIMS];
    int64_t st[3][EOS_MAX_DIMS];
    int64_t inner, rows;
} bcast;

static void bcast_init(bcast *b, const eos_tensor *out, const eos_tensor *const *ins, int k) {
    memset(b, 0, sizeof *b);
    b->k = k;
    b->r = out->ndim > 0 ? out->ndim : 1;
    for (int i = 0; i < b->r; i++) b->dims[i] = out->ndim > 0 ? out->dims[i] : 1;
    for (int j = 0; j < k; j++) {
        if (out->ndim > 0) eos__bcast_strides(b->r, b->dims, ins[j], b->st[j]);
        else b->st[j][0] = 0;
    }
    b->inner = b->dims[b->r - 1];
    b->rows = 1;
    for (int i = 0; i < b->r - 1; i++) b->rows *= b->dims[i];
}

/* Offsets (elements) of row `row` in each input. */
static void bcast_row(const bcast *b, int64_t row, int64_t *off) {
    for (int j = 0; j < b->k; j++) off[j] = 0;
    for (int i = b->r - 2; i >= 0; i--) {
        int64_t c = row % b->dims[i];
        row /= b->dims[i];
        for (int j = 0; j < b->k; j++) off[j] += c * b->st[j][i];
    }
}

/* ------------------------------------------------------------------ unary */

static float unary_f32(eos_op op, float x, float alpha, float beta) {
    switch (op) {
    case EOS_OP_RELU:         return x > 0.0f ? x : 0.0f;
    case EOS_OP_LEAKY_RELU:   return x >= 0.0f ? x : alpha * x;
    case EOS_OP_SIGMOID:      return 1.0f / (1.0f + expf(-x));
    case EOS_OP_TANH:         return tanhf(x);
    case EOS_OP_HARD_SIGMOID: return eos_act_apply(EOS_ACT_HARD_SIGMOID, alpha, beta, x);
    case EOS_OP_HARD_SWISH:   return eos_act_apply(EOS_ACT_HARD_SWISH, 0, 0, x);
    case EOS_OP_SQRT:         return sqrtf(x);
    case EOS_OP_EXP:          return expf(x);
    case EOS_OP_NEG:          return -x;
    default:                  return x;
    }
}

eos_status eos__ref_unary(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                          int n_out, eos_err *err) {
    int64_t cnt = eos__numel(&out[0]);
    if (in[0].dtype == EOS_DTYPE_I64) {               /* Neg only */
        const int64_t *x = in[0].data;
        int64_t *y = out[0].data;
        for (int64_t i = 0; i < cnt; i++) y[i] = (int64_t)(0u - (uint64_t)x[i]);
        return EOS_OK;
    }
    if (in[0].dtype == EOS_DTYPE_I32) {
        const int32_t *x = in[0].data;
        int32_t *y = out[0].data;
        for (int64_t i = 0; i < cnt; i++) y[i] = (int32_t)(0u - (uint32_t)x[i]);
        return EOS_OK;
    }
    float alpha = 0.0f, beta = 0.0f;
    if (n->op == EOS_OP_LEAKY_RELU) alpha = eos_attr_float(n, "alpha", 0.01f);
    if (n->op == EOS_OP_HARD_SIGMOID) {
        alpha = eos_attr_float(n, "alpha", 0.2f);
        beta = eos_attr_float(n, "beta", 0.5f);
    }
    const float *x = in[0].data;
    float *y = out[0].data;
    if (n->op == EOS_OP_RELU) {
        for (int64_t i = 0; i < cnt; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
        return EOS_OK;
    }
    for (int64_t i = 0; i < cnt; i++) y[i] = unary_f32(n->op, x[i], alpha, beta);
    return EOS_OK;
}

eos_status eos__ref_clip(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                         int n_out, eos_err *err) {
    float lo = -FLT_MAX, hi = FLT_MAX;
    if (n->opset > 0 && n->opset < 11) {
        lo = eos_attr_float(n, "min", lo);
        hi = eos_attr_float(n, "max", hi);
    } else {
        if (eos__has(in, n_in, 1)) lo = *(const float *)in[1].data;
        if (eos__has(in, n_in, 2)) hi = *(const float *)in[2].data;
    }
    int64_t cnt = eos__numel(&out[0]);
    const float *x = in[0].data;
    float *y = out[0].data;
    for (int64_t i = 0; i < cnt; i++) {
        float v = x[i] < lo ? lo : x[i];
        y[i] = v > hi ? hi : v;     /* ONNX: min > max gives max everywhere */
    }
    return EOS_OK;
}

/* ------------------------------------------------------------------ binary */

#define ROW_LOOP(TA, TB, TY, EXPR)                                                          \
    do {                                                                                    \
        const TA *pa_ = (const TA *)in[0].data;                                             \
        const TB *pb_ = (const TB *)in[1].data;                                             \
        TY *py_ = (TY *)out[0].data;                                                        \
        int64_t sa_ = bc.st[0][bc.r - 1], sb_ = bc.st[1][bc.r - 1], off_[3];                \
        for (int64_t row_ = 0; row_ < bc.rows; row_++) {                                    \
            bcast_row(&bc, row_, off_);                                                     \
            const TA *ra_ = pa_ + off_[0];                                                  \
            const TB *rb_ = pb_ + off_[1];                                                  \
            TY *ry_ = py_ + row_ * bc.inner;                                                \
            for (int64_t i_ = 0; i_ < bc.inner; i_++) {                                     \
                TA a = ra_[i_ * sa_];                                                       \
                TB b = rb_[i_ * sb_];                                                       \
                ry_[i_] = (EXPR);                                                           \
            }                                                                               \
        }                                                                                   \
    } while (0)

static eos_status binary_f32(const eos_node *n, const eos_tensor *in, eos_tensor *out,
                             const bcast *pbc) {
    bcast bc = *pbc;
    switch (n->op) {
    case EOS_OP_ADD:   ROW_LOOP(float, float, float, a + b); break;
    case EOS_OP_SUB:   ROW_LOOP(float, float, float, a - b); break;
    case EOS_OP_MUL:   ROW_LOOP(float, float, float, a * b); break;
    case EOS_OP_DIV:   ROW_LOOP(float, float, float, a / b); break;
    case EOS_OP_PRELU: ROW_LOOP(float, float, float, a < 0.0f ? a * b : a); break;
    case EOS_OP_EQUAL: ROW_LOOP(float, float, uint8_t, (uint8_t)(a == b)); break;
    case EOS_OP_POW:
        if (in[1].dtype == EOS_DTYPE_F32) ROW_LOOP(float, float, float, powf(a, b));
        else if (in[1].dtype == EOS_DTYPE_I64) ROW_LOOP(float, int64_t, float, powf(a, (float)b));
        else ROW_LOOP(float, int32_t, float, powf(a, (float)b));
        break;
    default: return EOS_INTERNAL;
    }
    return EOS_OK;
}

/* Integer ops on i64 or i32 (wrapping; Div truncating). T is the storage type, U its unsigned
 * twin for wrapping arithmetic. */
#define INT_BINARY(T, U)                                                                        \
    do {                                                                                        \
        switch (n->op) {                                                                        \
        case EOS_OP_ADD: ROW_LOOP(T, T, T, (T)((U)a + (U)b)); break;                           \
        case EOS_OP_SUB: ROW_LOOP(T, T, T, (T)((U)a - (U)b)); break;                           \
        case EOS_OP_MUL: ROW_LOOP(T, T, T, (T)((U)a * (U)b)); break;                           \
        case EOS_OP_EQUAL: ROW_LOOP(T, T, uint8_t, (uint8_t)(a == b)); break;                  \
        case EOS_OP_DIV: {                                                                      \
            int64_t nb_ = eos__numel(&in[1]);                                                   \
            for (int64_t i = 0; i < nb_; i++)                                                   \
                if (((const T *)in[1].data)[i] == 0)                                            \
                    return eos__node_err(err, EOS_INVALID_ARG, n, "integer division by zero");  \
            ROW_LOOP(T, T, T, (b == -1 ? (T)(0u - (U)a) : (T)(a / b)));                         \
            break;                                                                              \
        }                                                                                       \
        default: return eos__node_err(err, EOS_INTERNAL, n, "no integer kernel");              \
        }                                                                                       \
    } while (0)

eos_status eos__ref_binary(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                           int n_out, eos_err *err) {
    const eos_tensor *ins[2] = { &in[0], &in[1] };
    bcast bc;
    bcast_init(&bc, &out[0], ins, 2);
    if (eos__numel(&out[0]) == 0) return EOS_OK;
    switch (in[0].dtype) {
    case EOS_DTYPE_F32:
        if (binary_f32(n, in, out, &bc) != EOS_OK)
            return eos__node_err(err, EOS_INTERNAL, n, "no f32 kernel");
        return EOS_OK;
    case EOS_DTYPE_I64: INT_BINARY(int64_t, uint64_t); return EOS_OK;
    case EOS_DTYPE_I32: INT_BINARY(int32_t, uint32_t); return EOS_OK;
    case EOS_DTYPE_BOOL:
        if (n->op != EOS_OP_EQUAL) break;
        ROW_LOOP(uint8_t, uint8_t, uint8_t, (uint8_t)((a != 0) == (b != 0)));
        return EOS_OK;
    default: break;
    }
    return eos__node_err(err, EOS_TYPE, n, "no kernel for %s", eos_dtype_name(in[0].dtype));
}

/* ------------------------------------------------------------------ Where, Cast */

eos_status eos__ref_where(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                          int n_out, eos_err *err) {
    const eos_tensor *ins[3] = { &in[0], &in[1], &in[2] };
    bcast bc;
    bcast_init(&bc, &out[0], ins, 3);
    if (eos__numel(&out[0]) == 0) return EOS_OK;
    size_t es = eos_dtype_size(out[0].dtype);
    const uint8_t *c = in[0].data;
    const char *x = in[1].data, *y = in[2].data;
    char *o = out[0].data;
    int64_t sc = bc.st[0][bc.r - 1], sx = bc.st[1][bc.r - 1], sy = bc.st[2][bc.r - 1], off[3];
    for (int64_t row = 0; row < bc.rows; row++) {
        bcast_row(&bc, row, off);
        for (int64_t i = 0; i < bc.inner; i++) {
            const char *src = c[off[0] + i * sc] ? x + (size_t)(off[1] + i * sx) * es
                                                 : y + (size_t)(off[2] + i * sy) * es;
            memcpy(o + (size_t)(row * bc.inner + i) * es, src, es);
        }
    }
    return EOS_OK;
}

eos_status eos__ref_cast(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                         int n_out, eos_err *err) {
    int64_t cnt = eos__numel(&out[0]);
    if (cnt > 0) eos_convert(out[0].data, out[0].dtype, in[0].data, in[0].dtype, cnt);
    return EOS_OK;
}
