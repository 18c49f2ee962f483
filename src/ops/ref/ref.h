/*
 * src/ops/ref/ref.h - internal interface of the reference kernels: one entry point per operator
 * family (ref_<family>.c) and the small helpers they share. eos_op_ref (ref.c) checks inputs and
 * output shapes against shape inference before calling in, so kernels can trust that every
 * present input has data, every output has the inferred dtype/shape and preallocated data.
 *
 * Kernel signature: in has the node's n->n_in descriptors (the fused residual, when there is
 * one, at in[n->fuse.sum_in]); n_in counts the op's own inputs (eos__n_op_in).
 */
#ifndef EOS_OPS_REF_REF_H
#define EOS_OPS_REF_REF_H

#include "ops/infer_common.h"

typedef eos_status (*eos__ref_fn)(const eos_node *n, const eos_tensor *in, int n_in,
                                  eos_tensor *out, int n_out, eos_err *err);

/* The residual addend of a fused node (NULL when none). */
static inline const float *eos__ref_sum(const eos_node *n, const eos_tensor *in) {
    return n->fuse.sum_in >= 0 ? (const float *)in[n->fuse.sum_in].data : NULL;
}

/* Finish one output element of a fusable op: act(v + sum[i]). Reads sum[i] before the caller
 * writes the result, so out may alias sum. */
static inline float eos__ref_fused(const eos_node *n, float v, const float *sum, int64_t i) {
    if (sum) v += sum[i];
    return eos_act_apply(n->fuse.act, n->fuse.alpha, n->fuse.beta, v);
}

/* Element strides of t aligned to an output of rank r (right-aligned numpy broadcasting):
 * strides[i] is 0 where t is broadcast along axis i. */
void eos__bcast_strides(int r, const int64_t *out_dims, const eos_tensor *t, int64_t *strides);

eos_status eos__ref_conv(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                         int n_out, eos_err *err);
eos_status eos__ref_conv_transpose(const eos_node *n, const eos_tensor *in, int n_in,
                                   eos_tensor *out, int n_out, eos_err *err);
eos_status eos__ref_pool(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                         int n_out, eos_err *err);
eos_status eos__ref_gemm(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                         int n_out, eos_err *err);
eos_status eos__ref_matmul(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                           int n_out, eos_err *err);
eos_status eos__ref_batch_norm(const eos_node *n, const eos_tensor *in, int n_in,
                               eos_tensor *out, int n_out, eos_err *err);
eos_status eos__ref_softmax(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                            int n_out, eos_err *err);
eos_status eos__ref_unary(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                          int n_out, eos_err *err);
eos_status eos__ref_clip(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                         int n_out, eos_err *err);
eos_status eos__ref_binary(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                           int n_out, eos_err *err);
eos_status eos__ref_where(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                          int n_out, eos_err *err);
eos_status eos__ref_cast(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                         int n_out, eos_err *err);
eos_status eos__ref_copy(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                         int n_out, eos_err *err);
eos_status eos__ref_transpose(const eos_node *n, const eos_tensor *in, int n_in,
                              eos_tensor *out, int n_out, eos_err *err);
eos_status eos__ref_concat(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                           int n_out, eos_err *err);
eos_status eos__ref_split(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                          int n_out, eos_err *err);
eos_status eos__ref_slice(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                          int n_out, eos_err *err);
eos_status eos__ref_gather(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                           int n_out, eos_err *err);
eos_status eos__ref_shape(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                          int n_out, eos_err *err);
eos_status eos__ref_const_of_shape(const eos_node *n, const eos_tensor *in, int n_in,
                                   eos_tensor *out, int n_out, eos_err *err);
eos_status eos__ref_pad(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                        int n_out, eos_err *err);
eos_status eos__ref_resize(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                           int n_out, eos_err *err);
eos_status eos__ref_reduce(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                           int n_out, eos_err *err);
eos_status eos__ref_argmax(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                           int n_out, eos_err *err);

#endif /* EOS_OPS_REF_REF_H */
