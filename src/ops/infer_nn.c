/*
 * src/ops/infer_nn.c - shape inference for the neural-network operators: Conv, ConvTranspose,
 * pools, BatchNormalization, Gemm, MatMul, Softmax/LogSoftmax and Resize/Upsample.
 * All of them compute in f32; geometry comes from the shared decoders in params.c.
 */
#include <string.h>

#include "ops/infer_common.h"

static void set_shape(eos_tensor *t, eos_dtype dt, int ndim, const int64_t *dims) {
    t->dtype = dt;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->dims[i] = dims[i];
}

eos_status eos__infer_conv(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                           int n_out, eos_err *err) {
    EOS_TRY(eos__need_f32(n, in, 0, err));
    EOS_TRY(eos__need_f32(n, in, 1, err));
    eos_conv_params p;
    EOS_TRY(eos_conv_params_get(n, in[0].ndim, in[0].dims, in[1].ndim, in[1].dims,
                                n->op == EOS_OP_CONV_TRANSPOSE, &p, err));
    if (eos__has(in, n_in, 2)) {
        EOS_TRY(eos__need_f32(n, in, 2, err));
        if (in[2].ndim != 1 || in[2].dims[0] != p.c_out)
            return eos__node_err(err, EOS_SHAPE, n, "bias must have shape [%lld]",
                                 (long long)p.c_out);
    }
    int64_t dims[EOS_MAX_DIMS] = { p.n_batch, p.c_out };
    for (int i = 0; i < p.n_spatial; i++) dims[2 + i] = p.out_sp[i];
    set_shape(&out[0], EOS_DTYPE_F32, 2 + p.n_spatial, dims);
    return EOS_OK;
}

eos_status eos__infer_pool(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                           int n_out, eos_err *err) {
    EOS_TRY(eos__need_f32(n, in, 0, err));
    eos_pool_params p;
    EOS_TRY(eos_pool_params_get(n, in[0].ndim, in[0].dims, &p, err));
    int64_t dims[EOS_MAX_DIMS] = { p.n_batch, p.channels };
    for (int i = 0; i < p.n_spatial; i++) dims[2 + i] = p.out_sp[i];
    set_shape(&out[0], EOS_DTYPE_F32, 2 + p.n_spatial, dims);
    if (n_out > 1) {
        if (eos_attr_int(n, "storage_order", 0) != 0)
            return eos__node_err(err, EOS_UNSUPPORTED, n,
                                 "Indices output with storage_order 1 is not supported");
        set_shape(&out[1], EOS_DTYPE_I64, 2 + p.n_spatial, dims);
    }
    return EOS_OK;
}

eos_status eos__infer_batch_norm(const eos_node *n, const eos_tensor *in, int n_in,
                                 eos_tensor *out, int n_out, eos_err *err) {
    if (n_out > 1 || eos_attr_int(n, "training_mode", 0) != 0)
        return eos__node_err(err, EOS_UNSUPPORTED, n, "training mode is not supported");
    if (eos_attr_int(n, "spatial", 1) != 1)
        return eos__node_err(err, EOS_UNSUPPORTED, n, "spatial=0 is not supported");
    for (int i = 0; i < 5; i++) EOS_TRY(eos__need_f32(n, in, i, err));
    if (in[0].ndim < 2)
        return eos__node_err(err, EOS_SHAPE, n, "input must have at least 2 dims (N, C, ...)");
    for (int i = 1; i < 5; i++)
        if (in[i].ndim != 1 || in[i].dims[0] != in[0].dims[1])
            return eos__node_err(err, EOS_SHAPE, n, "input %d must have shape [%lld]", i,
                                 (long long)in[0].dims[1]);
    set_shape(&out[0], EOS_DTYPE_F32, in[0].ndim, in[0].dims);
    return EOS_OK;
}

eos_status eos__infer_gemm(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                           int n_out, eos_err *err) {
    EOS_TRY(eos__need_f32(n, in, 0, err));
    EOS_TRY(eos__need_f32(n, in, 1, err));
    if (in[0].ndim != 2 || in[1].ndim != 2)
        return eos__node_err(err, EOS_SHAPE, n, "A and B must be 2-D (have %d and %d dims)",
                             in[0].ndim, in[1].ndim);
    bool ta = eos_attr_int(n, "transA", 0) != 0, tb = eos_attr_int(n, "transB", 0) != 0;
    int64_t m = in[0].dims[ta ? 1 : 0], k = in[0].dims[ta ? 0 : 1];
    int64_t k2 = in[1].dims[tb ? 1 : 0], nn = in[1].dims[tb ? 0 : 1];
    if (k != k2)
        return eos__node_err(err, EOS_SHAPE, n, "inner dims differ: %lld vs %lld", (long long)k,
                             (long long)k2);
    int64_t dims[2] = { m, nn };
    if (eos__has(in, n_in, 2)) {
        EOS_TRY(eos__need_f32(n, in, 2, err));
        int r;
        int64_t bd[EOS_MAX_DIMS];
        if (in[2].ndim > 2)
            return eos__node_err(err, EOS_SHAPE, n, "C has %d dims", in[2].ndim);
        EOS_TRY(eos__broadcast(n, 2, dims, in[2].ndim, in[2].dims, &r, bd, err));
        if (bd[0] != m || bd[1] != nn)
            return eos__node_err(err, EOS_SHAPE, n, "C does not broadcast to [%lld, %lld]",
                                 (long long)m, (long long)nn);
    }
    set_shape(&out[0], EOS_DTYPE_F32, 2, dims);
    return EOS_OK;
}

eos_status eos__infer_matmul(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                             int n_out, eos_err *err) {
    EOS_TRY(eos__need_f32(n, in, 0, err));
    EOS_TRY(eos__need_f32(n, in, 1, err));
    int ra = in[0].ndim, rb = in[1].ndim;
    if (ra < 1 || rb < 1)
        return eos__node_err(err, EOS_SHAPE, n, "operands must have at least 1 dim");
    int64_t ka = in[0].dims[ra - 1], kb = in[1].dims[rb >= 2 ? rb - 2 : 0];
    if (ka != kb)
        return eos__node_err(err, EOS_SHAPE, n, "inner dims differ: %lld vs %lld", (long long)ka,
                             (long long)kb);
    int nb, r = 0;
    int64_t batch[EOS_MAX_DIMS], dims[EOS_MAX_DIMS];
    int ba = ra >= 2 ? ra - 2 : 0, bb = rb >= 2 ? rb - 2 : 0;
    EOS_TRY(eos__broadcast(n, ba, in[0].dims, bb, in[1].dims, &nb, batch, err));
    for (int i = 0; i < nb; i++) dims[r++] = batch[i];
    if (ra >= 2) dims[r++] = in[0].dims[ra - 2];
    if (rb >= 2) dims[r++] = in[1].dims[rb - 1];
    if (r > EOS_MAX_DIMS) return eos__node_err(err, EOS_LIMIT, n, "rank too large");
    set_shape(&out[0], EOS_DTYPE_F32, r, dims);
    return EOS_OK;
}

eos_status eos__softmax_axis(const eos_node *n, int r, int *axis, bool *coerce2d, eos_err *err) {
    *coerce2d = n->opset > 0 && n->opset < 13;
    if (r < 1) return eos__node_err(err, EOS_SHAPE, n, "input must have at least 1 dim");
    return eos__axis(n, eos_attr_int(n, "axis", *coerce2d ? 1 : -1), r, "axis", axis, err);
}

eos_status eos__infer_softmax(const eos_node *n, const eos_tensor *in, int n_in,
                              eos_tensor *out, int n_out, eos_err *err) {
    EOS_TRY(eos__need_f32(n, in, 0, err));
    int axis;
    bool c2d;
    EOS_TRY(eos__softmax_axis(n, in[0].ndim, &axis, &c2d, err));
    set_shape(&out[0], EOS_DTYPE_F32, in[0].ndim, in[0].dims);
    return EOS_OK;
}

eos_status eos__infer_resize(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                             int n_out, eos_err *err) {
    EOS_TRY(eos__need_f32(n, in, 0, err));
    eos_value vals[4];
    const eos_value *pv[4] = { NULL, NULL, NULL, NULL };
    for (int i = 0; i < n_in && i < 4; i++) {
        if (in[i].dtype == EOS_DTYPE_UNDEFINED) continue;
        eos__value_from_tensor(&vals[i], &in[i]);
        pv[i] = &vals[i];
    }
    eos_node tmp = *n;          /* the params decoder looks at n_in to find optional inputs */
    tmp.n_in = n_in;
    eos_resize_params p;
    EOS_TRY(eos_resize_params_get(&tmp, pv, &p, err));
    set_shape(&out[0], EOS_DTYPE_F32, p.ndim, p.out_dims);
    return EOS_OK;
}
