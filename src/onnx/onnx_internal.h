/*
 * src/onnx/onnx_internal.h - what the importer's files share (onnx_parse.c: ModelProto,
 * GraphProto, ValueInfoProto; onnx_node.c: NodeProto, AttributeProto, Constant folding;
 * onnx_tensor.c: TensorProto and external data). Not for use outside src/onnx/.
 *
 * Every function takes the parse context, returns an eos_status and leaves the message in
 * c->err (never NULL inside the importer). Descriptions passed as `what` name the object in
 * messages ("initializer 'conv1.weight'", "attribute 'value' of node 'c0'") and are also used as
 * the `where` of wire-format readers, so byte-level errors name the object too.
 */
#ifndef EOS_ONNX_ONNX_INTERNAL_H
#define EOS_ONNX_ONNX_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "graph/graph.h"
#include "onnx/onnx.h"
#include "onnx/pb.h"

/* Room for a description of an object in messages (names are shortened to fit). */
#define EOS_ONNX_WHAT_MAX 192

typedef struct eos_onnx_ctx {
    eos_graph     *g;
    eos_err       *err;
    const uint8_t *base;       /* the whole input; byte offsets count from here */
    const char    *base_dir;   /* root for external data files, or NULL */
} eos_onnx_ctx;

/* A copy of s fit for an error message: at most ~60 bytes (cut with "..."), bytes outside
 * printable ASCII replaced by '?'. Writes into buf (cap >= 16) and returns it. */
const char *eos_onnx_show(char *buf, size_t cap, const char *s);

/* EOS_PARSE unless field f (of the message read by r) has wire type `wire`; field_name is the
 * schema name ("dims"). */
eos_status eos_onnx_want_wire(eos_onnx_ctx *c, const eos_pb *r, const eos_pb_field *f, int wire,
                              const char *field_name);

/* Copy the LEN field f as a NUL-terminated arena string. Refuses embedded NUL bytes
 * (EOS_PARSE) and strings longer than max_len bytes (EOS_LIMIT); max_len 0 means no limit.
 * what describes the string ("name of graph input #2"). */
eos_status eos_onnx_string(eos_onnx_ctx *c, const eos_pb *r, const eos_pb_field *f,
                           size_t max_len, const char *what, const char **out);

/* eos_graph_add_value with the value-count limit: the new id, or -1 with c->err set
 * (EOS_LIMIT / EOS_NOMEM). */
int eos_onnx_new_value(eos_onnx_ctx *c, const char *name);

/* Decode the TensorProto in LEN field f into value v: dtype, ndim, dims and owned constant
 * data (flag EOS_VAL_CONST). The TensorProto's own name is ignored (see eos_onnx_tensor_name). */
eos_status eos_onnx_tensor(eos_onnx_ctx *c, const eos_pb *r, const eos_pb_field *f,
                           const char *what, int v);

/* The name (field 8) of the TensorProto in f as an arena string ("" when absent). */
eos_status eos_onnx_tensor_name(eos_onnx_ctx *c, const eos_pb *r, const eos_pb_field *f,
                                const char *what, const char **name);

/* Import the NodeProto in f, the index-th node of the graph: a graph node, or a constant value
 * for a Constant node. */
eos_status eos_onnx_node(eos_onnx_ctx *c, const eos_pb *r, const eos_pb_field *f, int index);

#endif /* EOS_ONNX_ONNX_INTERNAL_H */
