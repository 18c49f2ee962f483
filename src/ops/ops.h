/*
 * src/ops/ops.h - operator definitions: names, arity, shape inference, reference kernels and the
 * parameter decoders that every back-end shares.
 *
 * Each operator has
 *   - a shape/type inference function: given the input values (shapes, and constant data where
 *     an input is constant, e.g. Reshape's shape), set each output's dtype, ndim and dims, or
 *     fail with a message. Inputs whose shape-carrying data is not constant at plan time give
 *     EOS_UNSUPPORTED ("Reshape: shape input must be constant").
 *   - a reference kernel in src/ops/ref/: portable scalar C on plain row-major tensors, the
 *     oracle every other back-end is tested against. Reference kernels honour node->fuse
 *     (fused activation and residual sum), so fused graphs can be checked against them too.
 *
 * Layout: all tensors handed to reference kernels are dense row-major; images are NCHW.
 * Compute is f32; shape-arithmetic ops (Shape, Gather, Concat, Slice, Add/Sub/Mul/Div, Equal,
 * Where, Cast, Unsqueeze, Squeeze, Reshape, ConstantOfShape, ReduceSum...) also accept i64
 * (and i32/bool where ONNX export produces them).
 *
 * Thread safety: everything here is reentrant.
 */
#ifndef EOS_OPS_OPS_H
#define EOS_OPS_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "graph/graph.h"
#include "ops/op_list.h"

/* ------------------------------------------------------------------ table */

/* ONNX op_type -> op (EOS_OP_UNKNOWN when unsupported). */
eos_op      eos_op_from_name(const char *op_type);
/* op -> ONNX op_type ("?" when out of range). */
const char *eos_op_name(eos_op op);
/* Allowed input/output counts from the table. */
void        eos_op_arity(eos_op op, int *min_in, int *max_in, int *min_out, int *max_out);

/* Infer dtype/ndim/dims of every output of n. in[i] is NULL for an omitted optional input; an
 * input with data != NULL is constant and its data may be read. out[j] are the output values to
 * fill. Errors name the node: EOS_SHAPE, EOS_TYPE, EOS_UNSUPPORTED, EOS_INVALID_ARG. */
eos_status eos_op_infer(const eos_node *n, const eos_value *const *in, eos_value *const *out,
                        eos_err *err);

/* Run the reference kernel of n. in has n->n_in entries (an omitted input has data == NULL and
 * dtype UNDEFINED); out has n->n_out entries whose dtype, shape and data (preallocated, size as
 * inferred) are set by the caller. Inputs and outputs never alias, except that out[0] may
 * alias in[node->fuse.sum_in] (the residual), which kernels must allow. */
eos_status eos_op_ref(const eos_node *n, const eos_tensor *in, eos_tensor *out, eos_err *err);

/* Apply a fused activation to one value (reference semantics). */
static inline float eos_act_apply(eos_act act, float alpha, float beta, float x);

/* ------------------------------------------------------------------ shared parameter decoders */

#define EOS_MAX_SPATIAL 3

/* Conv / ConvTranspose geometry, resolved for concrete shapes (auto_pad applied).
 * x: [N, C_in, spatial...], w: Conv [C_out, C_in/group, k...], ConvTranspose [C_in, C_out/group, k...]. */
typedef struct eos_conv_params {
    int     n_spatial;                    /* 1, 2 or 3 */
    bool    transposed;
    int64_t n_batch, c_in, c_out, group;
    int64_t in_sp[EOS_MAX_SPATIAL];       /* input spatial sizes */
    int64_t out_sp[EOS_MAX_SPATIAL];      /* output spatial sizes */
    int64_t kernel[EOS_MAX_SPATIAL];
    int64_t stride[EOS_MAX_SPATIAL];
    int64_t dilation[EOS_MAX_SPATIAL];    /* ONNX dilation (1 = dense) */
    int64_t pad_begin[EOS_MAX_SPATIAL];
    int64_t pad_end[EOS_MAX_SPATIAL];
    int64_t out_pad[EOS_MAX_SPATIAL];     /* ConvTranspose output_padding */
} eos_conv_params;

/* Decode Conv (transposed=false) or ConvTranspose attributes for input x and weight w shapes.
 * Handles kernel_shape/strides/dilations/pads/group/auto_pad (NOTSET, VALID, SAME_UPPER,
 * SAME_LOWER) and ConvTranspose output_padding/output_shape. Validates channel/group
 * consistency and positive output sizes. */
eos_status eos_conv_params_get(const eos_node *n, int x_ndim, const int64_t *x_dims, int w_ndim,
                               const int64_t *w_dims, bool transposed, eos_conv_params *p,
                               eos_err *err);

/* MaxPool / AveragePool / Global*Pool geometry for input x: [N, C, spatial...]. Global pools
 * come out as a pool over the whole spatial extent with stride 1 and no padding. */
typedef struct eos_pool_params {
    int     n_spatial;
    bool    is_max;
    bool    count_include_pad;            /* AveragePool */
    bool    ceil_mode;
    int64_t n_batch, channels;
    int64_t in_sp[EOS_MAX_SPATIAL], out_sp[EOS_MAX_SPATIAL];
    int64_t kernel[EOS_MAX_SPATIAL], stride[EOS_MAX_SPATIAL], dilation[EOS_MAX_SPATIAL];
    int64_t pad_begin[EOS_MAX_SPATIAL], pad_end[EOS_MAX_SPATIAL];
} eos_pool_params;

eos_status eos_pool_params_get(const eos_node *n, int x_ndim, const int64_t *x_dims,
                               eos_pool_params *p, eos_err *err);

/* Resize / Upsample, decoded for a concrete input shape and constant scales/sizes. */
typedef enum eos_resize_mode { EOS_RESIZE_NEAREST, EOS_RESIZE_LINEAR, EOS_RESIZE_CUBIC } eos_resize_mode;
typedef enum eos_resize_coord {
    EOS_COORD_HALF_PIXEL,          /* PyTorch align_corners=False (bilinear) */
    EOS_COORD_PYTORCH_HALF_PIXEL,
    EOS_COORD_ALIGN_CORNERS,
    EOS_COORD_ASYMMETRIC,          /* PyTorch nearest */
    EOS_COORD_TF_CROP_AND_RESIZE
} eos_resize_coord;
typedef enum eos_resize_nearest {
    EOS_NEAREST_ROUND_PREFER_FLOOR, EOS_NEAREST_ROUND_PREFER_CEIL, EOS_NEAREST_FLOOR, EOS_NEAREST_CEIL
} eos_resize_nearest;
typedef struct eos_resize_params {
    eos_resize_mode    mode;
    eos_resize_coord   coord;
    eos_resize_nearest nearest;
    float              cubic_a;
    int                ndim;
    int64_t            in_dims[EOS_MAX_DIMS], out_dims[EOS_MAX_DIMS];
    float              scales[EOS_MAX_DIMS];   /* out/in as used by the coordinate transform */
} eos_resize_params;

/* in[] as for eos_op_infer (constant scales/sizes/roi read from in[1..3], or Upsample's
 * scales input / attribute). */
eos_status eos_resize_params_get(const eos_node *n, const eos_value *const *in,
                                 eos_resize_params *p, eos_err *err);

/* ------------------------------------------------------------------ inline helpers */

#include <math.h>

static inline float eos_act_apply(eos_act act, float alpha, float beta, float x) {
    switch (act) {
    case EOS_ACT_NONE:         return x;
    case EOS_ACT_RELU:         return x > 0.0f ? x : 0.0f;
    case EOS_ACT_LEAKY_RELU:   return x >= 0.0f ? x : alpha * x;
    case EOS_ACT_CLIP:         return x < alpha ? alpha : (x > beta ? beta : x);
    case EOS_ACT_SIGMOID:      return 1.0f / (1.0f + expf(-x));
    case EOS_ACT_TANH:         return tanhf(x);
    case EOS_ACT_HARD_SIGMOID: { float y = alpha * x + beta; return y < 0 ? 0 : (y > 1 ? 1 : y); }
    case EOS_ACT_HARD_SWISH:   { float y = x / 6.0f + 0.5f; y = y < 0 ? 0 : (y > 1 ? 1 : y); return x * y; }
    }
    return x;
}

#endif /* EOS_OPS_OPS_H */
