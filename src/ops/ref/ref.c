/*
 * src/ops/ref/ref.c - eos_op_ref: the reference-kernel dispatch (see ops.h).
 *
 * Before a kernel runs, the inputs are checked (present inputs carry data) and shape inference
 * is re-run on the actual inputs (Shape reads only dims, so its input may lack data: the planner
 * folds Shape on activations); every output must have exactly the inferred dtype and shape
 * and preallocated data. This costs little next to the kernels and means a kernel can index
 * its buffers without further checks, whatever the caller got wrong. Outputs that overlap
 * inputs (beyond out[0] == the fused residual, or exact in-place elementwise ops) are computed
 * out of place and copied back. The fused residual
 * (node->fuse.sum_in) must have the output's shape; only Conv, ConvTranspose, Gemm and MatMul
 * may carry fused post-operations.
 */
#include <stdint.h>
#include <string.h>

#include "eosight/alloc.h"
#include "ops/ref/ref.h"

void eos__bcast_strides(int r, const int64_t *out_dims, const eos_tensor *t, int64_t *strides) {
    int64_t s = 1;
    for (int i = r - 1; i >= 0; i--) {
        int ti = i - (r - t->ndim);
        if (ti < 0) {
            strides[i] = 0;
            continue;
        }
        strides[i] = (t->dims[ti] == 1 && out_dims[i] != 1) ? 0 : s;
        s *= t->dims[ti];
    }
}

static const eos__ref_fn k_ref[EOS_OP_COUNT_] = {
    [EOS_OP_CONV]                = eos__ref_conv,
    [EOS_OP_CONV_TRANSPOSE]      = eos__ref_conv_transpose,
    [EOS_OP_BATCH_NORM]          = eos__ref_batch_norm,
    [EOS_OP_RELU]                = eos__ref_unary,
    [EOS_OP_LEAKY_RELU]          = eos__ref_unary,
    [EOS_OP_PRELU]               = eos__ref_binary,
    [EOS_OP_CLIP]                = eos__ref_clip,
    [EOS_OP_SIGMOID]             = eos__ref_unary,
    [EOS_OP_TANH]                = eos__ref_unary,
    [EOS_OP_HARD_SIGMOID]        = eos__ref_unary,
    [EOS_OP_HARD_SWISH]          = eos__ref_unary,
    [EOS_OP_SOFTMAX]             = eos__ref_softmax,
    [EOS_OP_LOG_SOFTMAX]         = eos__ref_softmax,
    [EOS_OP_MAX_POOL]            = eos__ref_pool,
    [EOS_OP_AVERAGE_POOL]        = eos__ref_pool,
    [EOS_OP_GLOBAL_AVERAGE_POOL] = eos__ref_pool,
    [EOS_OP_GLOBAL_MAX_POOL]     = eos__ref_pool,
    [EOS_OP_GEMM]                = eos__ref_gemm,
    [EOS_OP_MATMUL]              = eos__ref_matmul,
    [EOS_OP_FLATTEN]             = eos__ref_copy,
    [EOS_OP_RESHAPE]             = eos__ref_copy,
    [EOS_OP_TRANSPOSE]           = eos__ref_transpose,
    [EOS_OP_SQUEEZE]             = eos__ref_copy,
    [EOS_OP_UNSQUEEZE]           = eos__ref_copy,
    [EOS_OP_CONCAT]              = eos__ref_concat,
    [EOS_OP_SPLIT]               = eos__ref_split,
    [EOS_OP_SLICE]               = eos__ref_slice,
    [EOS_OP_GATHER]              = eos__ref_gather,
    [EOS_OP_SHAPE]               = eos__ref_shape,
    [EOS_OP_CONSTANT_OF_SHAPE]   = eos__ref_const_of_shape,
    [EOS_OP_IDENTITY]            = eos__ref_copy,
    [EOS_OP_DROPOUT]             = eos__ref_copy,
    [EOS_OP_ADD]                 = eos__ref_binary,
    [EOS_OP_SUB]                 = eos__ref_binary,
    [EOS_OP_MUL]                 = eos__ref_binary,
    [EOS_OP_DIV]                 = eos__ref_binary,
    [EOS_OP_POW]                 = eos__ref_binary,
    [EOS_OP_SQRT]                = eos__ref_unary,
    [EOS_OP_EXP]                 = eos__ref_unary,
    [EOS_OP_NEG]                 = eos__ref_unary,
    [EOS_OP_RESIZE]              = eos__ref_resize,
    [EOS_OP_UPSAMPLE]            = eos__ref_resize,
    [EOS_OP_PAD]                 = eos__ref_pad,
    [EOS_OP_REDUCE_MEAN]         = eos__ref_reduce,
    [EOS_OP_REDUCE_SUM]          = eos__ref_reduce,
    [EOS_OP_ARGMAX]              = eos__ref_argmax,
    [EOS_OP_CAST]                = eos__ref_cast,
    [EOS_OP_WHERE]               = eos__ref_where,
    [EOS_OP_EQUAL]               = eos__ref_binary,
};

static bool fusable(eos_op op) {
    return op == EOS_OP_CONV || op == EOS_OP_CONV_TRANSPOSE || op == EOS_OP_GEMM ||
           op == EOS_OP_MATMUL;
}

static eos_status check_inputs(const eos_node *n, const eos_tensor *in, eos_err *err) {
    for (int i = 0; i < n->n_in; i++) {
        const eos_tensor *t = &in[i];
        if (t->dtype == EOS_DTYPE_UNDEFINED) continue;
        if (t->ndim < 0 || t->ndim > EOS_MAX_DIMS || eos_tensor_numel(t) < 0)
            return eos__node_err(err, EOS_SHAPE, n, "input %d has an invalid shape", i);
        if (!t->data && eos_tensor_numel(t) > 0 && n->op != EOS_OP_SHAPE)   /* Shape: dims only */
            return eos__node_err(err, EOS_INVALID_ARG, n, "input %d has no data", i);
    }
    int s = n->fuse.sum_in;
    if (n->fuse.act == EOS_ACT_NONE && s < 0) return EOS_OK;
    if (!fusable(n->op))
        return eos__node_err(err, EOS_INTERNAL, n, "fused post-operations on a non-fusable op");
    if (s >= 0 && (s >= n->n_in || in[s].dtype != EOS_DTYPE_F32))
        return eos__node_err(err, EOS_INTERNAL, n, "fused residual input %d is missing or not f32",
                             s);
    return EOS_OK;
}

static eos_status check_outputs(const eos_node *n, const eos_tensor *in, int n_in,
                                const eos_tensor *out, const eos_tensor *want, eos_err *err) {
    for (int j = 0; j < n->n_out; j++) {
        char a[96], b[96];
        if (out[j].dtype != want[j].dtype || !eos_tensor_same_shape(&out[j], &want[j]))
            return eos__node_err(err, EOS_SHAPE, n, "output %d is %s %s, expected %s %s", j,
                                 eos_dtype_name(out[j].dtype),
                                 eos_shape_str(out[j].ndim, out[j].dims, a, sizeof a),
                                 eos_dtype_name(want[j].dtype),
                                 eos_shape_str(want[j].ndim, want[j].dims, b, sizeof b));
        if (!out[j].data && eos_tensor_numel(&out[j]) > 0)
            return eos__node_err(err, EOS_INVALID_ARG, n, "output %d has no data", j);
    }
    int s = n->fuse.sum_in;
    if (s >= 0 && !eos_tensor_same_shape(&in[s], &out[0]))
        return eos__node_err(err, EOS_SHAPE, n, "fused residual shape differs from the output");
    (void)n_in;
    return EOS_OK;
}

static bool overlap(const void *a, size_t na, const void *b, size_t nb) {
    if (!a || !b || !na || !nb) return false;
    uintptr_t pa = (uintptr_t)a, pb = (uintptr_t)b;
    return pa < pb + nb && pb < pa + na;
}

/* Ops whose kernels read element k of an input before writing element k of out[0] and touch
 * nothing else at that point, so out[0] may be exactly the same buffer as an input of its
 * shape and type (in-place elementwise ops, copies). */
static bool inplace_safe(const eos_node *n, const eos_tensor *in, int i, const eos_tensor *out) {
    switch (n->op) {
    case EOS_OP_RELU: case EOS_OP_LEAKY_RELU: case EOS_OP_CLIP: case EOS_OP_SIGMOID:
    case EOS_OP_TANH: case EOS_OP_HARD_SIGMOID: case EOS_OP_HARD_SWISH: case EOS_OP_SQRT:
    case EOS_OP_EXP: case EOS_OP_NEG: case EOS_OP_ADD: case EOS_OP_SUB: case EOS_OP_MUL:
    case EOS_OP_DIV: case EOS_OP_POW: case EOS_OP_PRELU: case EOS_OP_BATCH_NORM:
    case EOS_OP_SOFTMAX: case EOS_OP_LOG_SOFTMAX: case EOS_OP_RESHAPE: case EOS_OP_FLATTEN:
    case EOS_OP_SQUEEZE: case EOS_OP_UNSQUEEZE: case EOS_OP_IDENTITY: case EOS_OP_DROPOUT:
        break;
    default:
        return false;
    }
    return in[i].data == out[0].data && in[i].dtype == out[0].dtype &&
           eos_tensor_numel(&in[i]) == eos_tensor_numel(&out[0]) &&
           (eos_tensor_same_shape(&in[i], &out[0]) || n->op == EOS_OP_RESHAPE ||
            n->op == EOS_OP_FLATTEN || n->op == EOS_OP_SQUEEZE || n->op == EOS_OP_UNSQUEEZE);
}

/* True when output j shares memory with an input other than the permitted exact alias of
 * out[0] and the fused residual (or an in-place elementwise input). */
static bool out_clashes(const eos_node *n, const eos_tensor *in, const eos_tensor *out, int j) {
    size_t nb = eos_tensor_nbytes(&out[j]);
    for (int i = 0; i < n->n_in; i++) {
        if (in[i].dtype == EOS_DTYPE_UNDEFINED) continue;
        if (j == 0 && i == n->fuse.sum_in && in[i].data == out[0].data) continue;
        if (j == 0 && inplace_safe(n, in, i, out)) continue;
        if (overlap(out[j].data, nb, in[i].data, eos_tensor_nbytes(&in[i]))) return true;
    }
    return false;
}

/* Run the kernel; outputs that overlap inputs in a way the kernels do not allow (a planner
 * aliasing y = conv(x) + x onto x, say) are computed into scratch memory and copied back, so the
 * reference stays correct whatever the buffer assignment. */
static eos_status run_kernel(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                             int n_out, eos_err *err) {
    int clash = -1;
    for (int j = 0; j < n_out && clash < 0; j++)
        if (out_clashes(n, in, out, j)) clash = j;
    if (clash < 0) return k_ref[n->op](n, in, n_in, out, n_out, err);
    eos_tensor small[4], *tmp = small;
    if (n_out > 4 && !(tmp = eos_malloc((size_t)n_out * sizeof *tmp)))
        return eos__node_err(err, EOS_NOMEM, n, "out of memory");
    eos_status st = EOS_OK;
    for (int j = 0; j < n_out; j++) {
        tmp[j] = out[j];
        size_t nb = eos_tensor_nbytes(&out[j]);
        if (st == EOS_OK && out_clashes(n, in, out, j) && !(tmp[j].data = eos_malloc(nb)))
            st = eos__node_err(err, EOS_NOMEM, n, "out of memory");
    }
    if (st == EOS_OK) st = k_ref[n->op](n, in, n_in, tmp, n_out, err);
    for (int j = 0; j < n_out; j++) {
        if (tmp[j].data == out[j].data) continue;
        if (st == EOS_OK && tmp[j].data) memcpy(out[j].data, tmp[j].data, eos_tensor_nbytes(&out[j]));
        eos_free(tmp[j].data);
    }
    if (tmp != small) eos_free(tmp);
    return st;
}

eos_status eos_op_ref(const eos_node *n, const eos_tensor *in, eos_tensor *out, eos_err *err) {
    if ((int)n->op <= 0 || (int)n->op >= EOS_OP_COUNT_)
        return eos__node_err(err, EOS_UNSUPPORTED, n, "unknown operator");
    if (n->op == EOS_OP_CONSTANT)
        return eos__node_err(err, EOS_INTERNAL, n, "Constant nodes must be folded at load time");
    if (!k_ref[n->op])
        return eos__node_err(err, EOS_UNSUPPORTED, n, "no reference kernel");
    EOS_TRY(check_inputs(n, in, err));
    int n_in = eos__n_op_in(n), n_out = n->n_out;
    eos_tensor small[4], *want = small;
    if (n_out > 4 && !(want = eos_malloc((size_t)n_out * sizeof *want)))
        return eos__node_err(err, EOS_NOMEM, n, "out of memory");
    eos_status st = eos__infer_tensors(n, in, n_in, want, n_out, err);
    if (st == EOS_OK) st = check_outputs(n, in, n_in, out, want, err);
    if (want != small) eos_free(want);
    if (st != EOS_OK) return st;
    return run_kernel(n, in, n_in, out, n_out, err);
}
