/*
 * src/graph/passes.c - load-time simplification and plan-time fusion (see passes.h).
 *
 * Nodes are never deleted in place while iterating; a pass marks them dead (op = UNKNOWN) and
 * compact() squeezes them out at the end, which keeps the topological order.
 */
#include "graph/passes.h"

#include <math.h>
#include <string.h>

#include "eosight/alloc.h"

static void compact(eos_graph *g) {
    int k = 0;
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].op != EOS_OP_UNKNOWN) g->nodes[k++] = g->nodes[i];
    g->n_nodes = k;
    for (int v = 0; v < g->n_values; v++) g->values[v].producer = -1;
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_out; j++)
            if (g->nodes[i].out[j] >= 0) g->values[g->nodes[i].out[j]].producer = i;
}

static bool is_graph_output(const eos_graph *g, int v) {
    for (int i = 0; i < g->n_outputs; i++)
        if (g->outputs[i] == v) return true;
    return false;
}

/* Readers of every value: count[v], and one reader (the last seen) in reader[v]. */
typedef struct readers { int *count, *reader; } readers;

static eos_status readers_build(const eos_graph *g, readers *r, eos_err *err) {
    r->count = eos_calloc((size_t)g->n_values + 1, sizeof(int));
    r->reader = eos_calloc((size_t)g->n_values + 1, sizeof(int));
    if (!r->count || !r->reader) {
        eos_free(r->count);
        eos_free(r->reader);
        return eos_err_set(err, EOS_NOMEM, "out of memory in graph passes");
    }
    for (int i = 0; i < g->n_nodes; i++) {
        if (g->nodes[i].op == EOS_OP_UNKNOWN) continue;
        for (int j = 0; j < g->nodes[i].n_in; j++) {
            int v = g->nodes[i].in[j];
            if (v >= 0) {
                r->count[v]++;
                r->reader[v] = i;
            }
        }
    }
    return EOS_OK;
}

static void readers_free(readers *r) {
    eos_free(r->count);
    eos_free(r->reader);
}

/* The single node reading v, or -1 when v has several/no readers or is a graph output. */
static int sole_reader(const eos_graph *g, const readers *r, int v) {
    if (v < 0 || r->count[v] != 1 || is_graph_output(g, v)) return -1;
    return r->reader[v];
}

/* ------------------------------------------------------------------ load time */

static void remove_identities(eos_graph *g) {
    for (int i = 0; i < g->n_nodes; i++) {
        eos_node *n = &g->nodes[i];
        if (n->op != EOS_OP_IDENTITY && n->op != EOS_OP_DROPOUT) continue;
        int src = n->in[0], dst = n->out[0];
        if (src < 0 || is_graph_output(g, dst)) continue;
        if (n->op == EOS_OP_DROPOUT && n->n_out > 1) {
            /* the mask output must be unread */
            bool used = false;
            for (int k = 0; k < g->n_nodes && !used; k++)
                for (int j = 0; j < g->nodes[k].n_in; j++) used |= g->nodes[k].in[j] == n->out[1];
            if (used || is_graph_output(g, n->out[1])) continue;
        }
        for (int k = i + 1; k < g->n_nodes; k++)
            for (int j = 0; j < g->nodes[k].n_in; j++)
                if (g->nodes[k].in[j] == dst) g->nodes[k].in[j] = src;
        n->op = EOS_OP_UNKNOWN;
    }
}

static bool const_f32_vec(const eos_graph *g, int v, int64_t len) {
    if (v < 0) return false;
    const eos_value *val = &g->values[v];
    return val->data && val->dtype == EOS_DTYPE_F32 && eos_value_numel(val) == len;
}

/* Fold BN node b into Conv node c. Returns true when done. */
static eos_status fold_bn(eos_graph *g, eos_node *c, eos_node *b, bool *done, eos_err *err) {
    *done = false;
    const eos_value *w = &g->values[c->in[1]];
    if (!w->data || w->dtype != EOS_DTYPE_F32 || w->ndim < 3) return EOS_OK;
    int64_t c_out = w->dims[0], per = eos_value_numel(w) / (c_out ? c_out : 1);
    if (c_out <= 0) return EOS_OK;
    for (int k = 1; k <= 4; k++)
        if (!const_f32_vec(g, b->in[k], c_out)) return EOS_OK;
    if (c->n_in > 2 && c->in[2] >= 0 && !const_f32_vec(g, c->in[2], c_out)) return EOS_OK;
    const float *gamma = g->values[b->in[1]].data, *beta = g->values[b->in[2]].data;
    const float *mean = g->values[b->in[3]].data, *var = g->values[b->in[4]].data;
    double eps = eos_attr_float(b, "epsilon", 1e-5f);
    const float *bias = (c->n_in > 2 && c->in[2] >= 0) ? g->values[c->in[2]].data : NULL;
    size_t wbytes = (size_t)eos_value_numel(w) * sizeof(float);
    float *nw = eos_malloc(wbytes), *nb = eos_malloc((size_t)c_out * sizeof(float));
    if (!nw || !nb) {
        eos_free(nw);
        eos_free(nb);
        return eos_err_set(err, EOS_NOMEM, "out of memory folding BatchNormalization");
    }
    const float *ow = w->data;
    for (int64_t o = 0; o < c_out; o++) {
        double s = gamma[o] / sqrt((double)var[o] + eps);
        for (int64_t k = 0; k < per; k++) nw[o * per + k] = (float)(ow[o * per + k] * s);
        nb[o] = (float)(((bias ? bias[o] : 0.0) - mean[o]) * s + beta[o]);
    }
    /* new values for the folded weight and bias (the originals may be shared) */
    int wv = eos_graph_add_value(g, ""), bv = eos_graph_add_value(g, "");
    if (wv < 0 || bv < 0) {
        eos_free(nw);
        eos_free(nb);
        return eos_err_set(err, EOS_NOMEM, "out of memory folding BatchNormalization");
    }
    w = &g->values[c->in[1]]; /* values may have moved */
    eos_value *W = &g->values[wv], *B = &g->values[bv];
    W->dtype = EOS_DTYPE_F32;
    W->ndim = w->ndim;
    memcpy(W->dims, w->dims, sizeof W->dims);
    W->data = nw;
    W->data_owned = true;
    W->flags = EOS_VAL_CONST;
    B->dtype = EOS_DTYPE_F32;
    B->ndim = 1;
    B->dims[0] = c_out;
    B->data = nb;
    B->data_owned = true;
    B->flags = EOS_VAL_CONST;
    int *in = eos_arena_alloc(&g->arena, 3 * sizeof(int));
    if (!in) return eos_err_set(err, EOS_NOMEM, "out of memory folding BatchNormalization");
    in[0] = c->in[0];
    in[1] = wv;
    in[2] = bv;
    c->in = in;
    c->n_in = 3;
    c->out[0] = b->out[0];
    b->op = EOS_OP_UNKNOWN;
    *done = true;
    return EOS_OK;
}

static eos_status fold_batchnorms(eos_graph *g, eos_err *err) {
    readers r;
    EOS_TRY(readers_build(g, &r, err));
    eos_status st = EOS_OK;
    for (int i = 0; i < g->n_nodes && st == EOS_OK; i++) {
        eos_node *c = &g->nodes[i];
        if (c->op != EOS_OP_CONV) continue;
        int bi = sole_reader(g, &r, c->out[0]);
        if (bi < 0 || g->nodes[bi].op != EOS_OP_BATCH_NORM || g->nodes[bi].in[0] != c->out[0]) continue;
        if (g->nodes[bi].n_out > 1) continue; /* training-mode outputs */
        bool done;
        st = fold_bn(g, c, &g->nodes[bi], &done, err);
    }
    readers_free(&r);
    return st;
}

eos_status eos_graph_passes_load(eos_graph *g, eos_err *err) {
    remove_identities(g);
    compact(g);
    EOS_TRY(fold_batchnorms(g, err));
    compact(g);
    return EOS_OK;
}

/* ------------------------------------------------------------------ plan time */

static bool scalar_const(const eos_graph *g, int v, float *out) {
    if (v < 0) return false;
    const eos_value *val = &g->values[v];
    if (!val->data || eos_value_numel(val) != 1) return false;
    if (val->dtype == EOS_DTYPE_F32) *out = *(const float *)val->data;
    else if (val->dtype == EOS_DTYPE_F64) *out = (float)*(const double *)val->data;
    else return false;
    return true;
}

/* Can node a be expressed as an eos_act? Fills act/alpha/beta. */
static bool as_activation(const eos_graph *g, const eos_node *a, eos_fusion *f) {
    switch (a->op) {
    case EOS_OP_RELU: f->act = EOS_ACT_RELU; return true;
    case EOS_OP_SIGMOID: f->act = EOS_ACT_SIGMOID; return true;
    case EOS_OP_TANH: f->act = EOS_ACT_TANH; return true;
    case EOS_OP_HARD_SWISH: f->act = EOS_ACT_HARD_SWISH; return true;
    case EOS_OP_LEAKY_RELU:
        f->act = EOS_ACT_LEAKY_RELU;
        f->alpha = eos_attr_float(a, "alpha", 0.01f);
        return true;
    case EOS_OP_HARD_SIGMOID:
        f->act = EOS_ACT_HARD_SIGMOID;
        f->alpha = eos_attr_float(a, "alpha", 0.2f);
        f->beta = eos_attr_float(a, "beta", 0.5f);
        return true;
    case EOS_OP_CLIP: {
        float lo = -INFINITY, hi = INFINITY;
        if (a->opset < 11) {
            lo = eos_attr_float(a, "min", -INFINITY);
            hi = eos_attr_float(a, "max", INFINITY);
        } else {
            if (a->n_in > 1 && a->in[1] >= 0 && !scalar_const(g, a->in[1], &lo)) return false;
            if (a->n_in > 2 && a->in[2] >= 0 && !scalar_const(g, a->in[2], &hi)) return false;
        }
        f->act = EOS_ACT_CLIP;
        f->alpha = lo;
        f->beta = hi;
        return true;
    }
    default: return false;
    }
}

static bool same_shape(const eos_value *a, const eos_value *b) {
    if (a->ndim != b->ndim || a->dtype != b->dtype) return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->dims[i] != b->dims[i]) return false;
    return true;
}

/* Point node n's first output at value v. The out array may be shared with the model's graph
 * (plans copy nodes shallowly), so it is replaced, never written in place. */
static eos_status set_out0(eos_graph *g, eos_node *n, int v, eos_err *err) {
    int *out = eos_arena_alloc(&g->arena, (size_t)n->n_out * sizeof(int));
    if (!out) return eos_err_set(err, EOS_NOMEM, "out of memory fusing");
    memcpy(out, n->out, (size_t)n->n_out * sizeof(int));
    out[0] = v;
    n->out = out;
    return EOS_OK;
}

/* Conv + Add(other) where other has the output's shape and is ready before the conv. */
static eos_status try_fuse_sum(eos_graph *g, readers *r, int ci, eos_err *err) {
    eos_node *c = &g->nodes[ci];
    int ai = sole_reader(g, r, c->out[0]);
    if (ai < 0) return EOS_OK;
    eos_node *a = &g->nodes[ai];
    if (a->op != EOS_OP_ADD || a->in[0] == a->in[1]) return EOS_OK;
    int other = a->in[0] == c->out[0] ? a->in[1] : a->in[0];
    const eos_value *ov = &g->values[other];
    if (!same_shape(ov, &g->values[c->out[0]]) || ov->dtype != EOS_DTYPE_F32) return EOS_OK;
    if (ov->producer >= ci) return EOS_OK; /* computed after the conv: cannot fuse here */
    if (ov->data) return EOS_OK;           /* a constant addend is a bias, not a residual */
    int n_in = c->n_in < 3 ? 4 : c->n_in + 1;
    int *in = eos_arena_alloc(&g->arena, (size_t)n_in * sizeof(int));
    if (!in) return eos_err_set(err, EOS_NOMEM, "out of memory fusing");
    for (int k = 0; k < n_in; k++) in[k] = k < c->n_in ? c->in[k] : -1;
    in[n_in - 1] = other;
    c->in = in;
    c->n_in = n_in;
    c->fuse.sum_in = n_in - 1;
    EOS_TRY(set_out0(g, c, a->out[0], err));
    g->values[a->out[0]].producer = ci;
    r->reader[other] = ci; /* the add's read of `other` moves to the conv */
    a->op = EOS_OP_UNKNOWN;
    return EOS_OK;
}

static eos_status try_fuse_act(eos_graph *g, readers *r, int ci, eos_err *err) {
    eos_node *c = &g->nodes[ci];
    if (c->fuse.act != EOS_ACT_NONE) return EOS_OK;
    int ai = sole_reader(g, r, c->out[0]);
    if (ai < 0) return EOS_OK;
    eos_node *a = &g->nodes[ai];
    if (a->in[0] != c->out[0]) return EOS_OK;
    eos_fusion f = c->fuse;
    if (!as_activation(g, a, &f)) return EOS_OK;
    if (g->values[a->out[0]].dtype != EOS_DTYPE_F32) return EOS_OK;
    c->fuse = f;
    EOS_TRY(set_out0(g, c, a->out[0], err));
    g->values[a->out[0]].producer = ci;
    a->op = EOS_OP_UNKNOWN;
    return EOS_OK;
}

eos_status eos_graph_fuse(eos_graph *g, eos_err *err) {
    for (int v = 0; v < g->n_values; v++) g->values[v].producer = -1;
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_out; j++)
            if (g->nodes[i].out[j] >= 0) g->values[g->nodes[i].out[j]].producer = i;
    readers r;
    EOS_TRY(readers_build(g, &r, err));
    eos_status st = EOS_OK;
    for (int i = 0; i < g->n_nodes && st == EOS_OK; i++) {
        eos_node *c = &g->nodes[i];
        bool conv = c->op == EOS_OP_CONV;
        bool other = c->op == EOS_OP_CONV_TRANSPOSE || c->op == EOS_OP_GEMM || c->op == EOS_OP_MATMUL;
        if (!conv && !other) continue;
        if (c->n_out != 1 || g->values[c->out[0]].dtype != EOS_DTYPE_F32) continue;
        if (conv) st = try_fuse_sum(g, &r, i, err);
        if (st == EOS_OK) st = try_fuse_act(g, &r, i, err);
    }
    readers_free(&r);
    compact(g);
    return st;
}
