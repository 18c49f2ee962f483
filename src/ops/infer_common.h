/*
 * src/ops/infer_common.h - internal helpers shared by the shape-inference files (infer_*.c), the
 * parameter decoders (params.c) and the reference kernels (src/ops/ref/). Not part of any API.
 *
 * Inside src/ops every operator sees its inputs as an array of eos_tensor descriptors:
 *   - in[i].dtype == EOS_DTYPE_UNDEFINED  the optional input i is omitted (or i >= n_in);
 *   - in[i].data == NULL                  the input is present but not constant (plan time);
 *   - shapes are always concrete (eos_op_infer checks this before calling in).
 * Shape inference fills out[j].dtype/ndim/dims; reference kernels get the same descriptors
 * with data, so the decoders below (Slice, Pad, Split, reductions...) serve both.
 *
 * n_in passed to the per-op functions counts the node's own inputs only: a fused residual
 * (node->fuse.sum_in, appended by the fusion pass) is excluded, see eos__n_op_in().
 */
#ifndef EOS_OPS_INFER_COMMON_H
#define EOS_OPS_INFER_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#include "ops/ops.h"

/* Per-op shape inference: in has n_in descriptors, out has n_out to fill. */
typedef eos_status (*eos__infer_fn)(const eos_node *n, const eos_tensor *in, int n_in,
                                    eos_tensor *out, int n_out, eos_err *err);

/* ------------------------------------------------------------------ errors and inputs */

/* eos_err_set with the message prefixed by "node 'name' (OpType): ". Returns st. */
eos_status eos__node_err(eos_err *err, eos_status st, const eos_node *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The node's op_type for messages (falls back on the table name). */
const char *eos__op_type(const eos_node *n);

/* Number of the node's own inputs: n->n_in, or fuse.sum_in when a residual is fused (it is
 * appended after the regular inputs). */
int eos__n_op_in(const eos_node *n);

/* True when optional input i is present. */
static inline bool eos__has(const eos_tensor *in, int n_in, int i) {
    return i < n_in && in[i].dtype != EOS_DTYPE_UNDEFINED;
}

/* Element count of a descriptor with a valid shape (1 for scalars, 0 for empty). */
int64_t eos__numel(const eos_tensor *t);

/* Read the integer tensor t (i64 or i32; the whole tensor, any rank) into dst[0..max).
 * what names the input in messages ("shape", "axes"). Fails with EOS_UNSUPPORTED when t has
 * no data ("... must be constant at plan time"), EOS_TYPE for other dtypes, EOS_LIMIT when
 * it has more than max elements. */
eos_status eos__const_ints(const eos_node *n, const eos_tensor *t, const char *what,
                           int64_t *dst, int max, int *count, eos_err *err);
/* Same for floating-point tensors (f32, f64, f16, bf16) converted to float. */
eos_status eos__const_floats(const eos_node *n, const eos_tensor *t, const char *what,
                             float *dst, int max, int *count, eos_err *err);

/* Normalise axis a (may be negative) for rank r into *out in [0, r). EOS_INVALID_ARG when out
 * of range. */
eos_status eos__axis(const eos_node *n, int64_t a, int r, const char *what, int *out,
                     eos_err *err);
/* Normalise a list of axes into a mask of rank r; duplicates are an error. */
eos_status eos__axes_mask(const eos_node *n, const int64_t *axes, int count, int r,
                          const char *what, bool *mask, eos_err *err);

/* numpy (multidirectional) broadcast of the shapes of a and b into out->ndim/dims. */
eos_status eos__broadcast(const eos_node *n, int na, const int64_t *a, int nb, const int64_t *b,
                          int *nout, int64_t *out, eos_err *err);

/* Require dtype f32 for input i (EOS_TYPE otherwise). */
eos_status eos__need_f32(const eos_node *n, const eos_tensor *in, int i, eos_err *err);

/* ------------------------------------------------------------------ decoders shared with ref */

/* Slice resolved on the input shape: for every axis the first index, the step and the count
 * (axes not sliced: start 0, step 1, count dim). */
typedef struct eos__slice {
    int     ndim;
    int64_t start[EOS_MAX_DIMS], step[EOS_MAX_DIMS], count[EOS_MAX_DIMS];
} eos__slice;
eos_status eos__slice_get(const eos_node *n, const eos_tensor *in, int n_in, eos__slice *s,
                          eos_err *err);

/* Pad resolved on the input shape. Pads may be negative (crop). value holds the padding
 * element in the input's dtype (constant mode). */
typedef enum eos__pad_mode { EOS__PAD_CONSTANT, EOS__PAD_REFLECT, EOS__PAD_EDGE } eos__pad_mode;
typedef struct eos__pad {
    eos__pad_mode mode;
    int           ndim;
    int64_t       begin[EOS_MAX_DIMS], end[EOS_MAX_DIMS];
    unsigned char value[8];
} eos__pad;
eos_status eos__pad_get(const eos_node *n, const eos_tensor *in, int n_in, eos__pad *p,
                        eos_err *err);

/* ReduceMean / ReduceSum / ArgMax: which axes are reduced, and keepdims. noop: the reduction
 * is an identity (empty axes with noop_with_empty_axes). */
typedef struct eos__reduce {
    bool reduce[EOS_MAX_DIMS];
    bool keepdims;
    bool noop;
    bool select_last;   /* ArgMax */
    int  axis;          /* ArgMax */
} eos__reduce;
eos_status eos__reduce_get(const eos_node *n, const eos_tensor *in, int n_in, eos__reduce *r,
                           eos_err *err);

/* Transpose permutation for rank r (default: reversed). */
eos_status eos__perm_get(const eos_node *n, int r, int *perm, eos_err *err);

/* Softmax / LogSoftmax: the reduced range is [axis, end) coerced to 2-D before opset 13
 * (coerce2d true), the single axis from opset 13. */
eos_status eos__softmax_axis(const eos_node *n, int r, int *axis, bool *coerce2d, eos_err *err);

/* Concat / Gather / Split / Flatten axis for rank r (Flatten allows r itself). */
eos_status eos__axis_attr(const eos_node *n, const char *name, int64_t dflt, int r,
                          bool allow_r, int *axis, eos_err *err);

/* ------------------------------------------------------------------ per-family inference */

eos_status eos__infer_conv(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                           int n_out, eos_err *err);
eos_status eos__infer_pool(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                           int n_out, eos_err *err);
eos_status eos__infer_batch_norm(const eos_node *n, const eos_tensor *in, int n_in,
                                 eos_tensor *out, int n_out, eos_err *err);
eos_status eos__infer_gemm(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                           int n_out, eos_err *err);
eos_status eos__infer_matmul(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                             int n_out, eos_err *err);
eos_status eos__infer_softmax(const eos_node *n, const eos_tensor *in, int n_in,
                              eos_tensor *out, int n_out, eos_err *err);
eos_status eos__infer_resize(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                             int n_out, eos_err *err);

eos_status eos__infer_unary_f32(const eos_node *n, const eos_tensor *in, int n_in,
                                eos_tensor *out, int n_out, eos_err *err);
eos_status eos__infer_neg(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                          int n_out, eos_err *err);
eos_status eos__infer_clip(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                           int n_out, eos_err *err);
eos_status eos__infer_prelu(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                            int n_out, eos_err *err);
eos_status eos__infer_binary(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                             int n_out, eos_err *err);
eos_status eos__infer_where(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                            int n_out, eos_err *err);
eos_status eos__infer_cast(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                           int n_out, eos_err *err);

eos_status eos__infer_flatten(const eos_node *n, const eos_tensor *in, int n_in,
                              eos_tensor *out, int n_out, eos_err *err);
eos_status eos__infer_reshape(const eos_node *n, const eos_tensor *in, int n_in,
                              eos_tensor *out, int n_out, eos_err *err);
eos_status eos__infer_transpose(const eos_node *n, const eos_tensor *in, int n_in,
                                eos_tensor *out, int n_out, eos_err *err);
eos_status eos__infer_squeeze(const eos_node *n, const eos_tensor *in, int n_in,
                              eos_tensor *out, int n_out, eos_err *err);
eos_status eos__infer_unsqueeze(const eos_node *n, const eos_tensor *in, int n_in,
                                eos_tensor *out, int n_out, eos_err *err);
eos_status eos__infer_concat(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                             int n_out, eos_err *err);
eos_status eos__infer_split(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                            int n_out, eos_err *err);
eos_status eos__infer_slice(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                            int n_out, eos_err *err);
eos_status eos__infer_gather(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                             int n_out, eos_err *err);
eos_status eos__infer_shape(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                            int n_out, eos_err *err);
eos_status eos__infer_const_of_shape(const eos_node *n, const eos_tensor *in, int n_in,
                                     eos_tensor *out, int n_out, eos_err *err);
eos_status eos__infer_identity(const eos_node *n, const eos_tensor *in, int n_in,
                               eos_tensor *out, int n_out, eos_err *err);
eos_status eos__infer_pad(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                          int n_out, eos_err *err);

eos_status eos__infer_reduce(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                             int n_out, eos_err *err);
eos_status eos__infer_argmax(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                             int n_out, eos_err *err);

/* Shape inference on descriptors (the core of eos_op_infer; also used by eos_op_ref to check
 * the shapes it is handed). out has n_out entries. */
eos_status eos__infer_tensors(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                              int n_out, eos_err *err);

/* Copy a tensor descriptor into a value-like view (for eos_resize_params_get from kernels). */
void eos__value_from_tensor(eos_value *v, const eos_tensor *t);

#endif /* EOS_OPS_INFER_COMMON_H */
