/*
 * src/ops/infer_common.c - eos_op_infer: the dispatch table from op to shape-inference
 * function, and the helpers every inference file shares (node-named errors, constant integer
 * inputs, axes, broadcasting). See infer_common.h for the descriptor conventions.
 *
 * eos_op_infer turns the eos_value inputs into eos_tensor descriptors (checking that every
 * present input has a concrete shape), runs the per-op function into a scratch array and
 * copies dtype/rank/dims into the output values that exist.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "eosight/alloc.h"
#include "ops/infer_common.h"

/* ------------------------------------------------------------------ helpers */

const char *eos__op_type(const eos_node *n) {
    if (n->op_type && n->op_type[0]) return n->op_type;
    return eos_op_name(n->op);
}

eos_status eos__node_err(eos_err *err, eos_status st, const eos_node *n, const char *fmt, ...) {
    if (!err) return st;
    char msg[EOS_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return eos_err_set(err, st, "node '%s' (%s): %s", n->name ? n->name : "", eos__op_type(n), msg);
}

int eos__n_op_in(const eos_node *n) {
    if (n->fuse.sum_in >= 0 && n->fuse.sum_in < n->n_in) return n->fuse.sum_in;
    return n->n_in;
}

int64_t eos__numel(const eos_tensor *t) {
    int64_t k = 1;
    for (int i = 0; i < t->ndim; i++) k *= t->dims[i];
    return k;
}

eos_status eos__const_ints(const eos_node *n, const eos_tensor *t, const char *what,
                           int64_t *dst, int max, int *count, eos_err *err) {
    if (t->dtype != EOS_DTYPE_I64 && t->dtype != EOS_DTYPE_I32)
        return eos__node_err(err, EOS_TYPE, n, "%s input must be i64 or i32, not %s", what,
                             eos_dtype_name(t->dtype));
    int64_t k = eos__numel(t);
    if (!t->data && k > 0)
        return eos__node_err(err, EOS_UNSUPPORTED, n, "%s input must be constant at plan time",
                             what);
    if (k > max)
        return eos__node_err(err, EOS_LIMIT, n, "%s input has %lld values (at most %d)", what,
                             (long long)k, max);
    for (int64_t i = 0; i < k; i++)
        dst[i] = t->dtype == EOS_DTYPE_I64 ? ((const int64_t *)t->data)[i]
                                           : ((const int32_t *)t->data)[i];
    *count = (int)k;
    return EOS_OK;
}

eos_status eos__const_floats(const eos_node *n, const eos_tensor *t, const char *what,
                             float *dst, int max, int *count, eos_err *err) {
    if (t->dtype != EOS_DTYPE_F32 && t->dtype != EOS_DTYPE_F64 && t->dtype != EOS_DTYPE_F16 &&
        t->dtype != EOS_DTYPE_BF16)
        return eos__node_err(err, EOS_TYPE, n, "%s input must be floating point, not %s", what,
                             eos_dtype_name(t->dtype));
    int64_t k = eos__numel(t);
    if (!t->data && k > 0)
        return eos__node_err(err, EOS_UNSUPPORTED, n, "%s input must be constant at plan time",
                             what);
    if (k > max)
        return eos__node_err(err, EOS_LIMIT, n, "%s input has %lld values (at most %d)", what,
                             (long long)k, max);
    if (k > 0) eos_convert(dst, EOS_DTYPE_F32, t->data, t->dtype, k);
    *count = (int)k;
    return EOS_OK;
}

eos_status eos__axis(const eos_node *n, int64_t a, int r, const char *what, int *out,
                     eos_err *err) {
    if (a < -(int64_t)r || a >= r)
        return eos__node_err(err, EOS_INVALID_ARG, n, "%s %lld out of range for rank %d", what,
                             (long long)a, r);
    *out = (int)(a < 0 ? a + r : a);
    return EOS_OK;
}

eos_status eos__axes_mask(const eos_node *n, const int64_t *axes, int count, int r,
                          const char *what, bool *mask, eos_err *err) {
    for (int i = 0; i < EOS_MAX_DIMS; i++) mask[i] = false;
    for (int i = 0; i < count; i++) {
        int a = 0;
        EOS_TRY(eos__axis(n, axes[i], r, what, &a, err));
        if (mask[a])
            return eos__node_err(err, EOS_INVALID_ARG, n, "%s repeats axis %d", what, a);
        mask[a] = true;
    }
    return EOS_OK;
}

eos_status eos__axis_attr(const eos_node *n, const char *name, int64_t dflt, int r,
                          bool allow_r, int *axis, eos_err *err) {
    int64_t a = eos_attr_int(n, name, dflt);
    if (allow_r && a == r) {
        *axis = r;
        return EOS_OK;
    }
    if (allow_r && a == -(int64_t)r - 1)
        return eos__node_err(err, EOS_INVALID_ARG, n, "%s %lld out of range for rank %d", name,
                             (long long)a, r);
    return eos__axis(n, a, r, name, axis, err);
}

eos_status eos__broadcast(const eos_node *n, int na, const int64_t *a, int nb, const int64_t *b,
                          int *nout, int64_t *out, eos_err *err) {
    int r = na > nb ? na : nb;
    for (int i = 0; i < r; i++) {
        int ia = i - (r - na), ib = i - (r - nb);
        int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
        if (da != db && da != 1 && db != 1) {
            char sa[96], sb[96];
            return eos__node_err(err, EOS_SHAPE, n, "shapes %s and %s do not broadcast",
                                 eos_shape_str(na, a, sa, sizeof sa),
                                 eos_shape_str(nb, b, sb, sizeof sb));
        }
        out[i] = da == 1 ? db : da;
    }
    *nout = r;
    return EOS_OK;
}

eos_status eos__need_f32(const eos_node *n, const eos_tensor *in, int i, eos_err *err) {
    if (in[i].dtype != EOS_DTYPE_F32)
        return eos__node_err(err, EOS_TYPE, n, "input %d must be f32, not %s", i,
                             eos_dtype_name(in[i].dtype));
    return EOS_OK;
}

void eos__value_from_tensor(eos_value *v, const eos_tensor *t) {
    memset(v, 0, sizeof *v);
    v->name = "";
    v->dtype = t->dtype;
    v->ndim = t->ndim;
    for (int i = 0; i < t->ndim; i++) v->dims[i] = t->dims[i];
    v->data = t->data;
    v->producer = -1;
}

/* ------------------------------------------------------------------ dispatch */

static eos_status infer_constant(const eos_node *n, const eos_tensor *in, int n_in,
                                 eos_tensor *out, int n_out, eos_err *err) {
    return eos__node_err(err, EOS_INTERNAL, n, "Constant nodes must be folded at load time");
}

static const eos__infer_fn k_infer[EOS_OP_COUNT_] = {
    [EOS_OP_CONV]                = eos__infer_conv,
    [EOS_OP_CONV_TRANSPOSE]      = eos__infer_conv,
    [EOS_OP_BATCH_NORM]          = eos__infer_batch_norm,
    [EOS_OP_RELU]                = eos__infer_unary_f32,
    [EOS_OP_LEAKY_RELU]          = eos__infer_unary_f32,
    [EOS_OP_PRELU]               = eos__infer_prelu,
    [EOS_OP_CLIP]                = eos__infer_clip,
    [EOS_OP_SIGMOID]             = eos__infer_unary_f32,
    [EOS_OP_TANH]                = eos__infer_unary_f32,
    [EOS_OP_HARD_SIGMOID]        = eos__infer_unary_f32,
    [EOS_OP_HARD_SWISH]          = eos__infer_unary_f32,
    [EOS_OP_SOFTMAX]             = eos__infer_softmax,
    [EOS_OP_LOG_SOFTMAX]         = eos__infer_softmax,
    [EOS_OP_MAX_POOL]            = eos__infer_pool,
    [EOS_OP_AVERAGE_POOL]        = eos__infer_pool,
    [EOS_OP_GLOBAL_AVERAGE_POOL] = eos__infer_pool,
    [EOS_OP_GLOBAL_MAX_POOL]     = eos__infer_pool,
    [EOS_OP_GEMM]                = eos__infer_gemm,
    [EOS_OP_MATMUL]              = eos__infer_matmul,
    [EOS_OP_FLATTEN]             = eos__infer_flatten,
    [EOS_OP_RESHAPE]             = eos__infer_reshape,
    [EOS_OP_TRANSPOSE]           = eos__infer_transpose,
    [EOS_OP_SQUEEZE]             = eos__infer_squeeze,
    [EOS_OP_UNSQUEEZE]           = eos__infer_unsqueeze,
    [EOS_OP_CONCAT]              = eos__infer_concat,
    [EOS_OP_SPLIT]               = eos__infer_split,
    [EOS_OP_SLICE]               = eos__infer_slice,
    [EOS_OP_GATHER]              = eos__infer_gather,
    [EOS_OP_SHAPE]               = eos__infer_shape,
    [EOS_OP_CONSTANT]            = infer_constant,
    [EOS_OP_CONSTANT_OF_SHAPE]   = eos__infer_const_of_shape,
    [EOS_OP_IDENTITY]            = eos__infer_identity,
    [EOS_OP_DROPOUT]             = eos__infer_identity,
    [EOS_OP_ADD]                 = eos__infer_binary,
    [EOS_OP_SUB]                 = eos__infer_binary,
    [EOS_OP_MUL]                 = eos__infer_binary,
    [EOS_OP_DIV]                 = eos__infer_binary,
    [EOS_OP_POW]                 = eos__infer_binary,
    [EOS_OP_SQRT]                = eos__infer_unary_f32,
    [EOS_OP_EXP]                 = eos__infer_unary_f32,
    [EOS_OP_NEG]                 = eos__infer_neg,
    [EOS_OP_RESIZE]              = eos__infer_resize,
    [EOS_OP_UPSAMPLE]            = eos__infer_resize,
    [EOS_OP_PAD]                 = eos__infer_pad,
    [EOS_OP_REDUCE_MEAN]         = eos__infer_reduce,
    [EOS_OP_REDUCE_SUM]          = eos__infer_reduce,
    [EOS_OP_ARGMAX]              = eos__infer_argmax,
    [EOS_OP_CAST]                = eos__infer_cast,
    [EOS_OP_WHERE]               = eos__infer_where,
    [EOS_OP_EQUAL]               = eos__infer_binary,
};

eos_status eos__infer_tensors(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                              int n_out, eos_err *err) {
    if ((int)n->op <= 0 || (int)n->op >= EOS_OP_COUNT_ || !k_infer[n->op])
        return eos__node_err(err, EOS_UNSUPPORTED, n, "no shape inference for this operator");
    int min_in, max_in, min_out, max_out;
    eos_op_arity(n->op, &min_in, &max_in, &min_out, &max_out);
    if (n_in < min_in || n_in > max_in || n_out < min_out || n_out > max_out)
        return eos__node_err(err, EOS_INVALID_ARG, n, "%d inputs and %d outputs (allowed %d..%d "
                             "and %d..%d)", n_in, n_out, min_in, max_in, min_out, max_out);
    for (int i = 0; i < min_in; i++)
        if (in[i].dtype == EOS_DTYPE_UNDEFINED)
            return eos__node_err(err, EOS_INVALID_ARG, n, "required input %d is missing", i);
    for (int j = 0; j < n_out; j++) memset(&out[j], 0, sizeof out[j]);
    return k_infer[n->op](n, in, n_in, out, n_out, err);
}

/* Bound on the product of an input's dims with zero dims counted as 1 (2^40, far beyond any
 * memory): a zero-size constant may carry absurd other dims (0 x 2^62), and shape inference adds
 * and multiplies dims (Flatten, Concat of up to 65535 inputs, Split) with no overflow checks of
 * its own. Real sizes are limited by the plan (eos_plan.max_bytes). */
#define MAX_DIM_PRODUCT ((int64_t)1 << 40)

static bool dims_bounded(int ndim, const int64_t *dims) {
    int64_t prod = 1;
    for (int d = 0; d < ndim; d++) {
        int64_t k = dims[d] > 0 ? dims[d] : 1;
        if (prod > MAX_DIM_PRODUCT / k) return false;
        prod *= k;
    }
    return true;
}

/* Value -> descriptor, checking the shape is concrete. */
static eos_status value_desc(const eos_node *n, const eos_value *v, int i, eos_tensor *t,
                             eos_err *err) {
    memset(t, 0, sizeof *t);
    if (!v) return EOS_OK;                         /* omitted: dtype UNDEFINED */
    if (v->dtype == EOS_DTYPE_UNDEFINED || eos_dtype_size(v->dtype) == 0)
        return eos__node_err(err, EOS_TYPE, n, "input %d has no element type", i);
    if (v->ndim < 0 || v->ndim > EOS_MAX_DIMS)
        return eos__node_err(err, EOS_SHAPE, n, "input %d ('%s') has unknown rank", i,
                             v->name ? v->name : "");
    for (int d = 0; d < v->ndim; d++)
        if (v->dims[d] < 0)
            return eos__node_err(err, EOS_SHAPE, n, "input %d ('%s') has unknown dim %d", i,
                                 v->name ? v->name : "", d);
    *t = eos_value_tensor(v);
    if (eos_tensor_numel(t) < 0 || !dims_bounded(v->ndim, v->dims))
        return eos__node_err(err, EOS_LIMIT, n, "input %d ('%s') is too large", i,
                             v->name ? v->name : "");
    return EOS_OK;
}

eos_status eos_op_infer(const eos_node *n, const eos_value *const *in, eos_value *const *out,
                        eos_err *err) {
    int n_in = eos__n_op_in(n), n_out = n->n_out;
    eos_tensor in_small[8], out_small[4];
    eos_tensor *ti = in_small, *to = out_small;
    if (n_in > 8 && !(ti = eos_malloc((size_t)n_in * sizeof *ti)))
        return eos__node_err(err, EOS_NOMEM, n, "out of memory");
    if (n_out > 4 && !(to = eos_malloc((size_t)n_out * sizeof *to))) {
        if (ti != in_small) eos_free(ti);
        return eos__node_err(err, EOS_NOMEM, n, "out of memory");
    }
    eos_status st = EOS_OK;
    for (int i = 0; i < n_in && st == EOS_OK; i++) st = value_desc(n, in[i], i, &ti[i], err);
    if (st == EOS_OK) st = eos__infer_tensors(n, ti, n_in, to, n_out, err);
    for (int j = 0; j < n_out && st == EOS_OK; j++) {
        if (!out[j]) continue;
        out[j]->dtype = to[j].dtype;
        out[j]->ndim = to[j].ndim;
        for (int d = 0; d < EOS_MAX_DIMS; d++) out[j]->dims[d] = d < to[j].ndim ? to[j].dims[d] : 0;
    }
    if (ti != in_small) eos_free(ti);
    if (to != out_small) eos_free(to);
    return st;
}
