/*
 * src/graph/build.h - helpers that build a graph in C the way the ONNX importer would have
 * produced it from a file: node names, op_type strings and attributes in the graph's arena,
 * attribute records typed as the importer types them (INT, FLOAT, STRING, INTS with
 * tensor = -1), intermediate values with unknown dtype and shape, constants as owned f32 data
 * flagged EOS_VAL_CONST, every node at the graph's opset. A graph built here and the same
 * graph written to ONNX and read back are indistinguishable to every later stage.
 *
 * Errors are sticky, the way tests/common/onnx_builder.c handles them: the first failure
 * (allocation, a bad argument) is recorded in the builder and its eos_err, every later call
 * does nothing and returns -1, and the caller checks b->st once at the end. So a network can
 * be written as straight-line code:
 *
 *     eos__gb b;
 *     eos__gb_init(&b, g, 17, err);
 *     int x = eos__gb_input(&b, "input", EOS_DTYPE_F32, 4, (int64_t[]){-1, 3, -1, -1});
 *     x = eos__gb_conv(&b, "conv1", x, 3, 64, 7, 2, 3, false);
 *     x = eos__gb_bn(&b, "bn1", x, 64);
 *     ...
 *     if (b.st) return b.st;
 *
 * Naming: a node's output value takes the node's name (unique names make unique values),
 * unless eos__gb_name_next() gave the next output another name (graph outputs: "logits").
 * Parameters are "<node>.weight" / "<node>.bias" / "<node>.running_mean" / "<node>.running_var"
 * (PyTorch's state_dict keys when node names are PyTorch module paths); other constant inputs
 * are "<node>.<input>" ("up.scales", "dropout.ratio").
 *
 * Layer helpers write the attribute sets PyTorch's ONNX exporter writes (opset 17) and fill
 * parameters with their neutral values: weights and biases 0, BN scale 1, bias 0, mean 0,
 * var 1. Random initialisation is the caller's (src/train/arch.c). With b->no_data set,
 * parameters get their shape but no data and no EOS_VAL_CONST flag: enough to walk a network's
 * structure (MAC counts) without allocating its weights; such a graph cannot be planned.
 *
 * Not thread-safe (one builder, one graph).
 */
#ifndef EOS_GRAPH_BUILD_H
#define EOS_GRAPH_BUILD_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "graph/graph.h"

typedef struct eos__gb {
    eos_graph  *g;
    eos_err    *err;
    eos_status  st;         /* first failure; EOS_OK while all went well */
    bool        no_data;    /* parameters without data (structure walks only) */
    const char *next_name;  /* name for the next node output value, then cleared */
} eos__gb;

/* Start building into g (empty, from eos_graph_init). opset <= 0 means 17. err may be NULL. */
void eos__gb_init(eos__gb *b, eos_graph *g, int opset, eos_err *err);

/* Record a failure (when none is recorded yet) and return b->st. */
eos_status eos__gb_fail(eos__gb *b, eos_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* printf into a string of the graph's arena ("layer1.0.conv1"); NULL after a failure. */
const char *eos__gb_fmt(eos__gb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ------------------------------------------------------------------ values */

/* A graph input of dtype dt and shape dims (-1: symbolic). Returns its value id or -1. */
int eos__gb_input(eos__gb *b, const char *name, eos_dtype dt, int ndim, const int64_t *dims);
/* Declare value v a graph output with dtype dt and shape dims (as an ONNX ValueInfo would). */
void eos__gb_output(eos__gb *b, int v, eos_dtype dt, int ndim, const int64_t *dims);
/* A constant f32 value named `name` of shape dims, every element `fill`. Returns the id or -1.
 * With b->no_data the value has its shape but no data. */
int eos__gb_param(eos__gb *b, const char *name, int ndim, const int64_t *dims, float fill);
/* A constant f32 value holding a copy of data[0..numel(dims)) (always with data). */
int eos__gb_const_f32(eos__gb *b, const char *name, int ndim, const int64_t *dims,
                      const float *data);
/* The next node output value gets this name instead of the node's (copied). */
void eos__gb_name_next(eos__gb *b, const char *name);
/* Metadata entry (key/value copied; a key set twice keeps the last value). */
void eos__gb_meta(eos__gb *b, const char *key, const char *value);

/* ------------------------------------------------------------------ nodes and attributes */

/* A node of op named `name` reading in[0..n_in) (-1: omitted optional input) with one output
 * value. Returns the node id, or -1. */
int  eos__gb_node(eos__gb *b, eos_op op, const char *name, const int *in, int n_in);
/* The output value of node (its only output), or -1 for node -1. */
int  eos__gb_out(const eos__gb *b, int node);
void eos__gb_attr_int(eos__gb *b, int node, const char *name, int64_t v);
void eos__gb_attr_float(eos__gb *b, int node, const char *name, float v);
void eos__gb_attr_str(eos__gb *b, int node, const char *name, const char *v);
void eos__gb_attr_ints(eos__gb *b, int node, const char *name, int n, const int64_t *v);

/* ------------------------------------------------------------------ layers
 * Each returns the output value id (-1 after a failure). x is the input value; channel counts
 * size the parameters (the graph's spatial dims stay symbolic). */

/* Conv k x k, stride, symmetric padding pad, group 1; weight [c_out, c_in, k, k], bias [c_out]
 * when `bias`. Attributes dilations, group, kernel_shape, pads, strides. */
int eos__gb_conv(eos__gb *b, const char *name, int x, int c_in, int c_out, int k, int stride,
                 int pad, bool bias);
/* ConvTranspose k x k, stride, no padding; weight [c_in, c_out, k, k], bias [c_out]. */
int eos__gb_conv_transpose(eos__gb *b, const char *name, int x, int c_in, int c_out, int k,
                           int stride, bool bias);
/* BatchNormalization (epsilon 1e-5, momentum 0.9) over c channels; inputs x, .weight, .bias,
 * .running_mean, .running_var. */
int eos__gb_bn(eos__gb *b, const char *name, int x, int c);
int eos__gb_relu(eos__gb *b, const char *name, int x);
/* MaxPool k x k, stride, symmetric padding (ceil_mode 0). */
int eos__gb_maxpool(eos__gb *b, const char *name, int x, int k, int stride, int pad);
int eos__gb_add(eos__gb *b, const char *name, int x, int y);
/* Concat of xs[0..n) along axis. */
int eos__gb_concat(eos__gb *b, const char *name, const int *xs, int n, int axis);
/* Resize of a 4-D NCHW value by `scale` on H and W through a constant scales input
 * ("<name>.scales" = [1, 1, scale, scale]), roi omitted; mode "linear" or "nearest",
 * coordinate_transformation_mode half_pixel. */
int eos__gb_resize(eos__gb *b, const char *name, int x, float scale, const char *mode);
int eos__gb_global_avg_pool(eos__gb *b, const char *name, int x);
int eos__gb_flatten(eos__gb *b, const char *name, int x, int axis);
/* Gemm y = x W^T + bias (alpha 1, beta 1, transB 1); weight [n_out, n_in], bias [n_out]. */
int eos__gb_gemm(eos__gb *b, const char *name, int x, int n_in, int n_out);
/* Dropout with ratio as a constant scalar input "<name>.ratio"; one output. */
int eos__gb_dropout(eos__gb *b, const char *name, int x, float ratio);

#endif /* EOS_GRAPH_BUILD_H */
