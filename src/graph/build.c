/*
 * src/graph/build.c - building graphs in C exactly as the ONNX importer builds them from a
 * file (see build.h for the conventions and the sticky-error style).
 *
 * The importer sizes every arena array once because it counts before it fills; a builder
 * cannot, so the small arena arrays that grow here (graph inputs/outputs, metadata, a node's
 * attributes) are re-allocated in the arena with doubling capacity. The old copies stay in the
 * arena until the graph is freed, which costs a few kilobytes for a ResNet-50.
 */
#include "graph/build.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "eosight/alloc.h"
#include "ops/ops.h"

/* Attribute capacity of a node when its first attribute is added. */
#define ATTRS_FIRST 8

void eos__gb_init(eos__gb *b, eos_graph *g, int opset, eos_err *err) {
    memset(b, 0, sizeof *b);
    b->g = g;
    b->err = err;
    g->opset = opset > 0 ? opset : 17;
}

eos_status eos__gb_fail(eos__gb *b, eos_status st, const char *fmt, ...) {
    if (b->st) return b->st;
    b->st = st;
    if (b->err) {
        char msg[EOS_ERR_MSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        eos_err_set(b->err, st, "%s", msg);
    }
    return st;
}

static void fail_nomem(eos__gb *b, const char *what) {
    eos__gb_fail(b, EOS_NOMEM, "out of memory building the graph (%s)", what);
}

const char *eos__gb_fmt(eos__gb *b, const char *fmt, ...) {
    if (b->st) return NULL;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    const char *s = eos_arena_strdup(&b->g->arena, buf);
    if (!s) fail_nomem(b, buf);
    return s;
}

/* An arena array of n elements of size esz with room for one more: capacities are 4, 8, 16...
 * so the array is full when n is 0 or a power of two >= 4. */
static void *arena_grow(eos_graph *g, void *old, int n, size_t esz) {
    bool full = n == 0 || (n >= 4 && (n & (n - 1)) == 0);
    if (!full) return old;
    size_t cap = n ? (size_t)n * 2 : 4;
    void *p = eos_arena_alloc(&g->arena, cap * esz);
    if (p && n) memcpy(p, old, (size_t)n * esz);
    return p;
}

/* ------------------------------------------------------------------ values */

static int new_value(eos__gb *b, const char *name) {
    if (b->st || !name) return -1;
    if (eos_graph_find_value(b->g, name) >= 0) {
        eos__gb_fail(b, EOS_INVALID_ARG, "graph builder: value name '%s' is used twice", name);
        return -1;
    }
    int v = eos_graph_add_value(b->g, name);
    if (v < 0) fail_nomem(b, name);
    return v;
}

static void set_shape(eos_value *val, eos_dtype dt, int ndim, const int64_t *dims) {
    val->dtype = dt;
    val->ndim = ndim;
    for (int i = 0; i < ndim && i < EOS_MAX_DIMS; i++) val->dims[i] = dims[i];
}

int eos__gb_input(eos__gb *b, const char *name, eos_dtype dt, int ndim, const int64_t *dims) {
    int v = new_value(b, name);
    if (v < 0) return -1;
    eos_graph *g = b->g;
    int *in = arena_grow(g, g->inputs, g->n_inputs, sizeof(int));
    if (!in) {
        fail_nomem(b, name);
        return -1;
    }
    g->inputs = in;
    g->inputs[g->n_inputs++] = v;
    set_shape(&g->values[v], dt, ndim, dims);
    g->values[v].flags |= EOS_VAL_INPUT;
    return v;
}

void eos__gb_output(eos__gb *b, int v, eos_dtype dt, int ndim, const int64_t *dims) {
    if (b->st || v < 0) return;
    eos_graph *g = b->g;
    int *out = arena_grow(g, g->outputs, g->n_outputs, sizeof(int));
    if (!out) {
        fail_nomem(b, "graph outputs");
        return;
    }
    g->outputs = out;
    g->outputs[g->n_outputs++] = v;
    set_shape(&g->values[v], dt, ndim, dims);
    g->values[v].flags |= EOS_VAL_OUTPUT;
}

static int64_t numel_of(int ndim, const int64_t *dims) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= dims[i];
    return n;
}

int eos__gb_param(eos__gb *b, const char *name, int ndim, const int64_t *dims, float fill) {
    int v = new_value(b, name);
    if (v < 0) return -1;
    eos_value *val = &b->g->values[v];
    set_shape(val, EOS_DTYPE_F32, ndim, dims);
    if (b->no_data) return v;
    int64_t n = numel_of(ndim, dims);
    float *d = eos_malloc((size_t)(n ? n : 1) * sizeof(float));
    if (!d) {
        fail_nomem(b, name);
        return -1;
    }
    for (int64_t i = 0; i < n; i++) d[i] = fill;
    val->data = d;
    val->data_owned = true;
    val->flags |= EOS_VAL_CONST;
    return v;
}

int eos__gb_const_f32(eos__gb *b, const char *name, int ndim, const int64_t *dims,
                      const float *data) {
    bool no_data = b->no_data;
    b->no_data = false;
    int v = eos__gb_param(b, name, ndim, dims, 0.0f);
    b->no_data = no_data;
    if (v >= 0) memcpy(b->g->values[v].data, data, (size_t)numel_of(ndim, dims) * sizeof(float));
    return v;
}

void eos__gb_name_next(eos__gb *b, const char *name) {
    if (b->st) return;
    b->next_name = eos_arena_strdup(&b->g->arena, name);
    if (!b->next_name) fail_nomem(b, name);
}

void eos__gb_meta(eos__gb *b, const char *key, const char *value) {
    if (b->st) return;
    eos_graph *g = b->g;
    const char *k = eos_arena_strdup(&g->arena, key), *val = eos_arena_strdup(&g->arena, value);
    if (!k || !val) {
        fail_nomem(b, key);
        return;
    }
    for (int i = 0; i < g->n_meta; i++)
        if (!strcmp(g->meta_keys[i], key)) {
            g->meta_values[i] = val;
            return;
        }
    const char **keys = arena_grow(g, (void *)g->meta_keys, g->n_meta, sizeof(char *));
    const char **vals = arena_grow(g, (void *)g->meta_values, g->n_meta, sizeof(char *));
    if (!keys || !vals) {
        fail_nomem(b, key);
        return;
    }
    g->meta_keys = keys;
    g->meta_values = vals;
    g->meta_keys[g->n_meta] = k;
    g->meta_values[g->n_meta] = val;
    g->n_meta++;
}

/* ------------------------------------------------------------------ nodes and attributes */

int eos__gb_node(eos__gb *b, eos_op op, const char *name, const int *in, int n_in) {
    if (b->st || !name) return -1;
    for (int i = 0; i < n_in; i++)
        if (in[i] < -1 || in[i] >= b->g->n_values) {
            eos__gb_fail(b, EOS_INVALID_ARG, "graph builder: node '%s' reads no valid value", name);
            return -1;
        }
    const char *out_name = b->next_name ? b->next_name : name;
    b->next_name = NULL;
    int v = new_value(b, out_name);
    if (v < 0) return -1;
    int id = eos_graph_add_node(b->g, op, n_in, 1);
    const char *nm = eos_arena_strdup(&b->g->arena, name);
    const char *ot = eos_arena_strdup(&b->g->arena, eos_op_name(op));
    if (id < 0 || !nm || !ot) {
        fail_nomem(b, name);
        return -1;
    }
    eos_node *n = &b->g->nodes[id];
    n->name = nm;
    n->op_type = ot;
    n->opset = b->g->opset;
    for (int i = 0; i < n_in; i++) n->in[i] = in[i];
    n->out[0] = v;
    b->g->values[v].producer = id;
    return id;
}

int eos__gb_out(const eos__gb *b, int node) {
    return node < 0 || b->st ? -1 : b->g->nodes[node].out[0];
}

/* A new attribute record on node, typed `type`, or NULL after a failure. */
static eos_attr *add_attr(eos__gb *b, int node, const char *name, eos_attr_type type) {
    if (b->st || node < 0) return NULL;
    eos_node *n = &b->g->nodes[node];
    if (n->n_attrs == 0 || (n->n_attrs >= ATTRS_FIRST && !(n->n_attrs & (n->n_attrs - 1)))) {
        int cap = n->n_attrs ? n->n_attrs * 2 : ATTRS_FIRST;
        eos_attr *a = eos_arena_alloc(&b->g->arena, (size_t)cap * sizeof *a);
        if (!a) {
            fail_nomem(b, name);
            return NULL;
        }
        if (n->n_attrs) memcpy(a, n->attrs, (size_t)n->n_attrs * sizeof *a);
        n->attrs = a;
    }
    eos_attr *a = &n->attrs[n->n_attrs];
    memset(a, 0, sizeof *a);
    a->name = eos_arena_strdup(&b->g->arena, name);
    if (!a->name) {
        fail_nomem(b, name);
        return NULL;
    }
    a->type = type;
    a->tensor = -1;
    n->n_attrs++;
    return a;
}

void eos__gb_attr_int(eos__gb *b, int node, const char *name, int64_t v) {
    eos_attr *a = add_attr(b, node, name, EOS_ATTR_INT);
    if (a) a->i = v;
}

void eos__gb_attr_float(eos__gb *b, int node, const char *name, float v) {
    eos_attr *a = add_attr(b, node, name, EOS_ATTR_FLOAT);
    if (a) a->f = v;
}

void eos__gb_attr_str(eos__gb *b, int node, const char *name, const char *v) {
    eos_attr *a = add_attr(b, node, name, EOS_ATTR_STRING);
    if (!a) return;
    a->s = eos_arena_strdup(&b->g->arena, v);
    if (!a->s) fail_nomem(b, name);
}

void eos__gb_attr_ints(eos__gb *b, int node, const char *name, int n, const int64_t *v) {
    eos_attr *a = add_attr(b, node, name, EOS_ATTR_INTS);
    if (!a) return;
    int64_t *arr = eos_arena_alloc(&b->g->arena, (size_t)(n ? n : 1) * sizeof(int64_t));
    if (!arr) {
        fail_nomem(b, name);
        return;
    }
    if (n) memcpy(arr, v, (size_t)n * sizeof(int64_t));
    a->n = n;
    a->ints = arr;
}

/* ------------------------------------------------------------------ layers */

/* "<node>.<what>" parameter name. */
static const char *pname(eos__gb *b, const char *node, const char *what) {
    return eos__gb_fmt(b, "%s.%s", node, what);
}

static void attr_pair(eos__gb *b, int node, const char *name, int64_t v) {
    eos__gb_attr_ints(b, node, name, 2, (const int64_t[]){ v, v });
}

static void attr_pads(eos__gb *b, int node, int64_t p) {
    eos__gb_attr_ints(b, node, "pads", 4, (const int64_t[]){ p, p, p, p });
}

int eos__gb_conv(eos__gb *b, const char *name, int x, int c_in, int c_out, int k, int stride,
                 int pad, bool bias) {
    int in[3] = { x, -1, -1 };
    const int64_t wdims[4] = { c_out, c_in, k, k };
    in[1] = eos__gb_param(b, pname(b, name, "weight"), 4, wdims, 0.0f);
    if (bias) in[2] = eos__gb_param(b, pname(b, name, "bias"), 1, (const int64_t[]){ c_out }, 0.0f);
    int n = eos__gb_node(b, EOS_OP_CONV, name, in, bias ? 3 : 2);
    attr_pair(b, n, "dilations", 1);
    eos__gb_attr_int(b, n, "group", 1);
    attr_pair(b, n, "kernel_shape", k);
    attr_pads(b, n, pad);
    attr_pair(b, n, "strides", stride);
    return eos__gb_out(b, n);
}

int eos__gb_conv_transpose(eos__gb *b, const char *name, int x, int c_in, int c_out, int k,
                           int stride, bool bias) {
    int in[3] = { x, -1, -1 };
    const int64_t wdims[4] = { c_in, c_out, k, k };
    in[1] = eos__gb_param(b, pname(b, name, "weight"), 4, wdims, 0.0f);
    if (bias) in[2] = eos__gb_param(b, pname(b, name, "bias"), 1, (const int64_t[]){ c_out }, 0.0f);
    int n = eos__gb_node(b, EOS_OP_CONV_TRANSPOSE, name, in, bias ? 3 : 2);
    attr_pair(b, n, "dilations", 1);
    eos__gb_attr_int(b, n, "group", 1);
    attr_pair(b, n, "kernel_shape", k);
    attr_pads(b, n, 0);
    attr_pair(b, n, "strides", stride);
    return eos__gb_out(b, n);
}

int eos__gb_bn(eos__gb *b, const char *name, int x, int c) {
    const int64_t dims[1] = { c };
    int in[5] = { x, -1, -1, -1, -1 };
    in[1] = eos__gb_param(b, pname(b, name, "weight"), 1, dims, 1.0f);
    in[2] = eos__gb_param(b, pname(b, name, "bias"), 1, dims, 0.0f);
    in[3] = eos__gb_param(b, pname(b, name, "running_mean"), 1, dims, 0.0f);
    in[4] = eos__gb_param(b, pname(b, name, "running_var"), 1, dims, 1.0f);
    int n = eos__gb_node(b, EOS_OP_BATCH_NORM, name, in, 5);
    eos__gb_attr_float(b, n, "epsilon", 1e-5f);
    eos__gb_attr_float(b, n, "momentum", 0.9f);
    return eos__gb_out(b, n);
}

int eos__gb_relu(eos__gb *b, const char *name, int x) {
    return eos__gb_out(b, eos__gb_node(b, EOS_OP_RELU, name, &x, 1));
}

int eos__gb_maxpool(eos__gb *b, const char *name, int x, int k, int stride, int pad) {
    int n = eos__gb_node(b, EOS_OP_MAX_POOL, name, &x, 1);
    eos__gb_attr_int(b, n, "ceil_mode", 0);
    attr_pair(b, n, "kernel_shape", k);
    attr_pads(b, n, pad);
    attr_pair(b, n, "strides", stride);
    return eos__gb_out(b, n);
}

int eos__gb_add(eos__gb *b, const char *name, int x, int y) {
    return eos__gb_out(b, eos__gb_node(b, EOS_OP_ADD, name, (const int[]){ x, y }, 2));
}

int eos__gb_concat(eos__gb *b, const char *name, const int *xs, int n_x, int axis) {
    int n = eos__gb_node(b, EOS_OP_CONCAT, name, xs, n_x);
    eos__gb_attr_int(b, n, "axis", axis);
    return eos__gb_out(b, n);
}

int eos__gb_resize(eos__gb *b, const char *name, int x, float scale, const char *mode) {
    int sc = eos__gb_const_f32(b, pname(b, name, "scales"), 1, (const int64_t[]){ 4 },
                               (const float[]){ 1.0f, 1.0f, scale, scale });
    int n = eos__gb_node(b, EOS_OP_RESIZE, name, (const int[]){ x, -1, sc }, 3);
    eos__gb_attr_str(b, n, "coordinate_transformation_mode", "half_pixel");
    eos__gb_attr_str(b, n, "mode", mode);
    return eos__gb_out(b, n);
}

int eos__gb_global_avg_pool(eos__gb *b, const char *name, int x) {
    return eos__gb_out(b, eos__gb_node(b, EOS_OP_GLOBAL_AVERAGE_POOL, name, &x, 1));
}

int eos__gb_flatten(eos__gb *b, const char *name, int x, int axis) {
    int n = eos__gb_node(b, EOS_OP_FLATTEN, name, &x, 1);
    eos__gb_attr_int(b, n, "axis", axis);
    return eos__gb_out(b, n);
}

int eos__gb_gemm(eos__gb *b, const char *name, int x, int n_in, int n_out) {
    int in[3] = { x, -1, -1 };
    in[1] = eos__gb_param(b, pname(b, name, "weight"), 2, (const int64_t[]){ n_out, n_in }, 0.0f);
    in[2] = eos__gb_param(b, pname(b, name, "bias"), 1, (const int64_t[]){ n_out }, 0.0f);
    int n = eos__gb_node(b, EOS_OP_GEMM, name, in, 3);
    eos__gb_attr_float(b, n, "alpha", 1.0f);
    eos__gb_attr_float(b, n, "beta", 1.0f);
    eos__gb_attr_int(b, n, "transB", 1);
    return eos__gb_out(b, n);
}

int eos__gb_dropout(eos__gb *b, const char *name, int x, float ratio) {
    int r = eos__gb_const_f32(b, pname(b, name, "ratio"), 0, NULL, (const float[]){ ratio });
    return eos__gb_out(b, eos__gb_node(b, EOS_OP_DROPOUT, name, (const int[]){ x, r }, 2));
}
