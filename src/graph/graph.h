/*
 * src/graph/graph.h - the graph IR every front-end produces and every back-end consumes.
 *
 * A graph is a list of values (tensors: graph inputs, constants, intermediates) and a list of
 * nodes (operators) that read and write values by index. The ONNX importer builds one; load-time
 * passes (src/graph/passes.c) rewrite it; a session copies it shallowly and plans it for concrete
 * input shapes (src/graph/plan.h).
 *
 * Conventions:
 *  - Value and node ids are indices into g->values / g->nodes. An omitted optional node input
 *    is -1 (ONNX's empty name).
 *  - After eos_graph_toposort() nodes are in an order where every input is produced earlier.
 *  - Shapes: ndim == -1 means rank unknown; dims[i] == -1 means that axis is unknown or
 *    symbolic (e.g. batch "N") until planning.
 *  - Constant values (initializers, Constant nodes folded at load, plan-time folds) have data
 *    != NULL, stored row-major, 64-byte aligned. data_owned says whether this graph frees it.
 *  - Names, attributes and node input/output arrays live in g->arena and die with the graph.
 *
 * Not thread-safe; a graph inside a loaded model is never modified again.
 */
#ifndef EOS_GRAPH_GRAPH_H
#define EOS_GRAPH_GRAPH_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/err.h"
#include "eosight/tensor.h"
#include "ops/op_list.h"

/* ------------------------------------------------------------------ attributes */

typedef enum eos_attr_type {
    EOS_ATTR_UNDEFINED = 0,
    EOS_ATTR_FLOAT,
    EOS_ATTR_INT,
    EOS_ATTR_STRING,
    EOS_ATTR_TENSOR,   /* value id of a constant value in the same graph (Constant's "value") */
    EOS_ATTR_FLOATS,
    EOS_ATTR_INTS,
    EOS_ATTR_STRINGS
} eos_attr_type;

typedef struct eos_attr {
    const char   *name;
    eos_attr_type type;
    int64_t       i;        /* INT */
    float         f;        /* FLOAT */
    const char   *s;        /* STRING (NUL-terminated; may contain no NUL inside) */
    int           tensor;   /* TENSOR: value id of a constant value holding it (-1 if none) */
    eos_dtype     t_dtype;  /* TENSOR: element type, rank, dims and data (owned by the graph) */
    int           t_ndim;
    int64_t       t_dims[EOS_MAX_DIMS];
    const void   *t_data;
    int64_t       n;        /* element count for FLOATS / INTS / STRINGS */
    const float  *floats;
    const int64_t *ints;
    const char  **strings;
} eos_attr;

/* ------------------------------------------------------------------ values and nodes */

enum {
    EOS_VAL_INPUT  = 1u << 0,  /* graph input fed by the caller */
    EOS_VAL_OUTPUT = 1u << 1,  /* graph output */
    EOS_VAL_CONST  = 1u << 2   /* initializer or folded constant: data != NULL */
};

typedef struct eos_value {
    const char *name;
    eos_dtype   dtype;
    int         ndim;                  /* -1: unknown rank */
    int64_t     dims[EOS_MAX_DIMS];    /* -1: unknown / symbolic */
    void       *data;                  /* constants only */
    bool        data_owned;            /* free data with the graph */
    int         producer;              /* node id, or -1 */
    uint32_t    flags;                 /* EOS_VAL_* */
} eos_value;

/* Activation functions that can be fused after Conv / ConvTranspose / Gemm / MatMul. */
typedef enum eos_act {
    EOS_ACT_NONE = 0,
    EOS_ACT_RELU,
    EOS_ACT_LEAKY_RELU,    /* alpha = negative slope */
    EOS_ACT_CLIP,          /* alpha = min, beta = max */
    EOS_ACT_SIGMOID,
    EOS_ACT_TANH,
    EOS_ACT_HARD_SIGMOID,  /* max(0, min(1, alpha*x + beta)) */
    EOS_ACT_HARD_SWISH     /* x * max(0, min(1, x/6 + 1/2)) */
} eos_act;

/* Post-operations fused into a node by the plan-time fusion pass. The fused node computes
 *     y = act(op(inputs) + in[sum_in])        (the sum only when sum_in >= 0)
 * where in[sum_in] is an extra input appended to the node's input list, of the output's shape. */
typedef struct eos_fusion {
    eos_act act;
    float   alpha, beta;
    int     sum_in;        /* index into node->in of the residual addend, or -1 */
} eos_fusion;

typedef struct eos_node {
    eos_op      op;
    const char *name;        /* may be "" ; never NULL */
    const char *op_type;     /* ONNX op_type as written in the file */
    int         n_in, n_out;
    int        *in;          /* value ids; -1 = omitted optional input */
    int        *out;         /* value ids */
    int         n_attrs;
    eos_attr   *attrs;
    eos_fusion  fuse;        /* act NONE, sum_in -1 unless fused */
    int         opset;       /* opset version of the node's domain (semantics of Softmax, Split,
                                Squeeze, Clip, Pad, Resize... differ across versions) */
} eos_node;

/* ------------------------------------------------------------------ graph */

typedef struct eos_graph {
    eos_arena  arena;
    eos_value *values;  int n_values, cap_values;
    eos_node  *nodes;   int n_nodes,  cap_nodes;
    int       *inputs;  int n_inputs;    /* graph inputs in declaration order (no initializers) */
    int       *outputs; int n_outputs;
    int        opset;                    /* default-domain opset version */
    int        n_meta;
    const char **meta_keys, **meta_values;
    /* name -> value id hash (open addressing); maintained by eos_graph_add_value */
    int       *name_hash; int hash_cap;
} eos_graph;

/* Initialise an empty graph. */
void eos_graph_init(eos_graph *g);
/* Free everything the graph owns (owned constant data included). */
void eos_graph_free(eos_graph *g);

/* Add a value named `name` (copied; "" or NULL for anonymous). Returns its id, or -1 on
 * allocation failure. Names are not required to be unique, but the lookup finds the last added. */
int eos_graph_add_value(eos_graph *g, const char *name);
/* Id of the value named `name`, or -1. */
int eos_graph_find_value(const eos_graph *g, const char *name);
/* Add a node with room for n_in inputs (set to -1) and n_out outputs. Returns id, -1 on OOM.
 * The node's name/op_type are set to "" until the caller sets them (arena strings). */
int eos_graph_add_node(eos_graph *g, eos_op op, int n_in, int n_out);

/* Give value v a new copy of nbytes of data (64-byte aligned, owned). dtype/shape are the
 * caller's to set. Returns EOS_NOMEM on failure. */
eos_status eos_graph_set_const(eos_graph *g, int v, const void *data, size_t nbytes);

/* Order nodes topologically (stable where possible) and check the graph: every non-omitted
 * node input is a graph input, a constant or produced by exactly one node; no cycles; outputs
 * are defined. Sets value->producer. Errors: EOS_PARSE with a message naming the node/value. */
eos_status eos_graph_toposort(eos_graph *g, eos_err *err);

/* Number of nodes that read value v (counting repeats), and whether v is a graph output. */
int  eos_graph_n_consumers(const eos_graph *g, int v);

/* ------------------------------------------------------------------ attribute access */

const eos_attr *eos_node_attr(const eos_node *n, const char *name);
int64_t      eos_attr_int(const eos_node *n, const char *name, int64_t dflt);
float        eos_attr_float(const eos_node *n, const char *name, float dflt);
const char  *eos_attr_str(const eos_node *n, const char *name, const char *dflt);
/* INTS attribute: returns the array and stores its length in *count; NULL (count 0) if absent. */
const int64_t *eos_attr_ints(const eos_node *n, const char *name, int64_t *count);
const float   *eos_attr_floats(const eos_node *n, const char *name, int64_t *count);

/* Shape of a value as an eos_tensor descriptor (data = value data, may be NULL). */
eos_tensor eos_value_tensor(const eos_value *v);
/* Element count of a value with a fully known shape, else -1. */
int64_t eos_value_numel(const eos_value *v);

#endif /* EOS_GRAPH_GRAPH_H */
