/*
 * src/ops/infer_reduce.c - shape inference for ReduceMean, ReduceSum and ArgMax, and the
 * reduction decoder the reference kernels share.
 *
 * Axes come from the "axes" attribute before ReduceMean-18 / ReduceSum-13 and from the optional
 * second input afterwards; no axes means all axes, unless noop_with_empty_axes makes the op an
 * identity. ReduceMean is f32; ReduceSum and ArgMax also take i64 and i32; ArgMax outputs i64.
 */
#include <string.h>

#include "ops/infer_common.h"

eos_status eos__reduce_get(const eos_node *n, const eos_tensor *in, int n_in, eos__reduce *r,
                           eos_err *err) {
    memset(r, 0, sizeof *r);
    int rank = in[0].ndim;
    int64_t kd = eos_attr_int(n, "keepdims", 1);
    r->keepdims = kd != 0;
    if (n->op == EOS_OP_ARGMAX) {
        if (rank < 1) return eos__node_err(err, EOS_SHAPE, n, "input must have at least 1 dim");
        EOS_TRY(eos__axis_attr(n, "axis", 0, rank, false, &r->axis, err));
        r->reduce[r->axis] = true;
        r->select_last = eos_attr_int(n, "select_last_index", 0) != 0;
        return EOS_OK;
    }
    int from = n->op == EOS_OP_REDUCE_MEAN ? 18 : 13;
    int64_t axes[EOS_MAX_DIMS];
    int cnt = 0;
    if (n->opset > 0 && n->opset < from) {
        int64_t c;
        const int64_t *a = eos_attr_ints(n, "axes", &c);
        if (c > EOS_MAX_DIMS) return eos__node_err(err, EOS_LIMIT, n, "too many axes");
        if (a) memcpy(axes, a, (size_t)c * sizeof *a);
        cnt = (int)c;
    } else if (eos__has(in, n_in, 1)) {
        EOS_TRY(eos__const_ints(n, &in[1], "axes", axes, EOS_MAX_DIMS, &cnt, err));
    }
    if (cnt == 0) {
        bool noop = eos_attr_int(n, "noop_with_empty_axes", 0) != 0 &&
                    !(n->opset > 0 && n->opset < from);
        r->noop = noop;
        for (int i = 0; i < rank; i++) r->reduce[i] = !noop;
        return EOS_OK;
    }
    return eos__axes_mask(n, axes, cnt, rank, "axes", r->reduce, err);
}

static void reduced_shape(const eos_tensor *x, const eos__reduce *r, eos_tensor *out) {
    out->ndim = 0;
    for (int i = 0; i < x->ndim; i++) {
        if (!r->reduce[i]) out->dims[out->ndim++] = x->dims[i];
        else if (r->keepdims) out->dims[out->ndim++] = 1;
    }
}

eos_status eos__infer_reduce(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                             int n_out, eos_err *err) {
    eos_dtype t = in[0].dtype;
    if (t != EOS_DTYPE_F32 && (n->op == EOS_OP_REDUCE_MEAN ||
                               (t != EOS_DTYPE_I64 && t != EOS_DTYPE_I32)))
        return eos__node_err(err, EOS_TYPE, n, "input type %s is not supported", eos_dtype_name(t));
    eos__reduce r;
    EOS_TRY(eos__reduce_get(n, in, n_in, &r, err));
    out[0].dtype = t;
    reduced_shape(&in[0], &r, &out[0]);
    if (n->op == EOS_OP_REDUCE_MEAN)
        for (int i = 0; i < in[0].ndim; i++)
            if (r.reduce[i] && in[0].dims[i] == 0)
                return eos__node_err(err, EOS_SHAPE, n, "mean over an empty axis %d", i);
    return EOS_OK;
}

eos_status eos__infer_argmax(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                             int n_out, eos_err *err) {
    eos_dtype t = in[0].dtype;
    if (t != EOS_DTYPE_F32 && t != EOS_DTYPE_I64 && t != EOS_DTYPE_I32)
        return eos__node_err(err, EOS_TYPE, n, "input type %s is not supported", eos_dtype_name(t));
    eos__reduce r;
    EOS_TRY(eos__reduce_get(n, in, n_in, &r, err));
    if (in[0].dims[r.axis] == 0)
        return eos__node_err(err, EOS_SHAPE, n, "ArgMax over an empty axis");
    out[0].dtype = EOS_DTYPE_I64;
    reduced_shape(&in[0], &r, &out[0]);
    return EOS_OK;
}
