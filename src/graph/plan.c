/*
 * src/graph/plan.c - planning and running a graph for concrete input shapes (see plan.h for the
 * stages). This file owns the generic parts: graph copy, shape inference with constant folding,
 * buffer bookkeeping, liveness-based memory planning, the run loop, and the `ref` back-end (one
 * reference-kernel step per node on plain buffers).
 */
#include "graph/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eosight/alloc.h"
#include "graph/passes.h"
#include "ops/ops.h"

/* Plan-time folding evaluates nodes whose inputs are all constant; bigger results than this stay
 * as runtime nodes (ConstantOfShape of an image-sized tensor, say). */
#define FOLD_MAX_BYTES ((size_t)64 << 20)

/* ------------------------------------------------------------------ buffers and steps */

int eos_plan_new_buf(eos_plan *p, size_t nbytes, uint32_t flags) {
    if (p->n_bufs == p->cap_bufs) {
        int cap = p->cap_bufs ? p->cap_bufs * 2 : 128;
        eos_buf *nb = eos_realloc(p->bufs, (size_t)cap * sizeof *nb);
        if (!nb) return -1;
        p->bufs = nb;
        p->cap_bufs = cap;
    }
    int id = p->n_bufs++;
    eos_buf *b = &p->bufs[id];
    memset(b, 0, sizeof *b);
    b->nbytes = nbytes;
    b->flags = flags;
    b->value = -1;
    b->first = b->last = -2;
    b->alias = id;
    b->offset = -1;
    return id;
}

int eos_plan_value_buf(eos_plan *p, int v) {
    if (v < 0 || v >= p->g.n_values) return -1;
    if (p->val_buf[v] >= 0) return p->val_buf[v];
    const eos_value *val = &p->g.values[v];
    eos_tensor t = eos_value_tensor(val);
    if (val->ndim < 0 || eos_tensor_numel(&t) < 0) return -1;
    size_t nb = eos_tensor_nbytes(&t);
    uint32_t flags = 0;
    if (val->data) flags |= EOS_BUF_CONST;
    if (val->flags & EOS_VAL_INPUT) flags |= EOS_BUF_INPUT;
    if (val->flags & EOS_VAL_OUTPUT) flags |= EOS_BUF_OUTPUT;
    int b = eos_plan_new_buf(p, nb, flags);
    if (b < 0) return -1;
    p->bufs[b].value = v;
    if (val->data) p->bufs[b].ptr = val->data;
    p->val_buf[v] = b;
    return b;
}

static int find_root(eos_plan *p, int b) {
    while (p->bufs[b].alias != b) {
        p->bufs[b].alias = p->bufs[p->bufs[b].alias].alias;
        b = p->bufs[b].alias;
    }
    return b;
}

void eos_plan_alias(eos_plan *p, int a, int b) {
    int ra = find_root(p, a), rb = find_root(p, b);
    if (ra == rb) return;
    p->bufs[rb].alias = ra;
    p->bufs[ra].flags |= p->bufs[rb].flags & (EOS_BUF_INPUT | EOS_BUF_OUTPUT);
}

eos_status eos_plan_add_step(eos_plan *p, eos_step_fn exec, void *state,
                             void (*free_state)(void *), int node, const int *bufs, int n_bufs,
                             const char *label) {
    if (p->n_steps == p->cap_steps) {
        int cap = p->cap_steps ? p->cap_steps * 2 : 128;
        eos_step *ns = eos_realloc(p->steps, (size_t)cap * sizeof *ns);
        if (!ns) {
            if (free_state) free_state(state);
            return EOS_NOMEM;
        }
        p->steps = ns;
        p->cap_steps = cap;
    }
    int *copy = eos_arena_alloc(&p->arena, (size_t)(n_bufs ? n_bufs : 1) * sizeof(int));
    if (!copy) {
        if (free_state) free_state(state);
        return EOS_NOMEM;
    }
    if (n_bufs) memcpy(copy, bufs, (size_t)n_bufs * sizeof(int));
    eos_step *s = &p->steps[p->n_steps++];
    s->exec = exec;
    s->state = state;
    s->free_state = free_state;
    s->node = node;
    s->n_bufs = n_bufs;
    s->bufs = copy;
    s->label = label ? label : "";
    return EOS_OK;
}

bool eos_plan_value_dies_at(const eos_plan *p, int v, int node) {
    if (v < 0) return false;
    const eos_value *val = &p->g.values[v];
    if (val->flags & (EOS_VAL_OUTPUT | EOS_VAL_INPUT | EOS_VAL_CONST)) return false;
    return p->last_use[v] <= node;
}

/* ------------------------------------------------------------------ the ref back-end */

typedef struct ref_step {
    int         node;
    eos_tensor *in, *out;    /* shapes filled at lower time, data at each run */
    int        *in_buf, *out_buf;
} ref_step;

static void ref_step_free(void *st) {
    ref_step *r = st;
    if (!r) return;
    eos_free(r->in);
    eos_free(r->out);
    eos_free(r->in_buf);
    eos_free(r->out_buf);
    eos_free(r);
}

/* Prefix err's message with the node, unless the op already named it (ops' errors do). */
static eos_status node_prefix(eos_err *err, const eos_node *n) {
    char tag[160];
    snprintf(tag, sizeof tag, "node '%s' (", n->name);
    if (!strncmp(err->msg, tag, strlen(tag))) return err->status;
    return eos_err_prefix(err, "node '%s' (%s): ", n->name, n->op_type);
}

static eos_status ref_step_exec(eos_plan *p, const eos_step *s, eos_err *err) {
    ref_step *r = s->state;
    const eos_node *n = &p->g.nodes[r->node];
    for (int i = 0; i < n->n_in; i++)
        r->in[i].data = r->in_buf[i] >= 0 ? p->bufs[r->in_buf[i]].ptr : NULL;
    for (int i = 0; i < n->n_out; i++) r->out[i].data = p->bufs[r->out_buf[i]].ptr;
    eos_status st = eos_op_ref(n, r->in, r->out, err);
    if (st != EOS_OK) return node_prefix(err, n);
    return EOS_OK;
}

eos_status eos_plan_add_ref_step(eos_plan *p, int node, eos_err *err) {
    const eos_node *n = &p->g.nodes[node];
    ref_step *r = eos_calloc(1, sizeof *r);
    if (!r) return eos_err_set(err, EOS_NOMEM, "out of memory planning node '%s'", n->name);
    r->node = node;
    r->in = eos_calloc((size_t)n->n_in + 1, sizeof(eos_tensor));
    r->out = eos_calloc((size_t)n->n_out + 1, sizeof(eos_tensor));
    r->in_buf = eos_calloc((size_t)n->n_in + 1, sizeof(int));
    r->out_buf = eos_calloc((size_t)n->n_out + 1, sizeof(int));
    int *bufs = eos_calloc((size_t)(n->n_in + n->n_out) + 1, sizeof(int));
    int n_bufs = 0;
    if (!r->in || !r->out || !r->in_buf || !r->out_buf || !bufs) goto oom;
    for (int i = 0; i < n->n_in; i++) {
        r->in_buf[i] = -1;
        if (n->in[i] < 0) continue;
        r->in[i] = eos_value_tensor(&p->g.values[n->in[i]]);
        r->in_buf[i] = eos_plan_value_buf(p, n->in[i]);
        if (r->in_buf[i] < 0) goto oom;
        bufs[n_bufs++] = r->in_buf[i];
    }
    for (int i = 0; i < n->n_out; i++) {
        r->out[i] = eos_value_tensor(&p->g.values[n->out[i]]);
        r->out_buf[i] = eos_plan_value_buf(p, n->out[i]);
        if (r->out_buf[i] < 0) goto oom;
        bufs[n_bufs++] = r->out_buf[i];
    }
    if (n->fuse.sum_in >= 0 && n->fuse.sum_in < n->n_in) {
        int rv = n->in[n->fuse.sum_in];
        int rb = r->in_buf[n->fuse.sum_in];
        bool read_elsewhere = false; /* y = conv(x) + x: x is still read while y is written */
        for (int i = 0; i < n->n_in; i++)
            if (i != n->fuse.sum_in && n->in[i] == rv) read_elsewhere = true;
        if (rv >= 0 && !read_elsewhere && eos_plan_value_dies_at(p, rv, node) &&
            p->bufs[rb].nbytes == p->bufs[r->out_buf[0]].nbytes)
            eos_plan_alias(p, rb, r->out_buf[0]);
    }
    eos_status st = eos_plan_add_step(p, ref_step_exec, r, ref_step_free, node, bufs, n_bufs,
                                      n->op_type);
    eos_free(bufs);
    if (st) return eos_err_set(err, st, "out of memory planning node '%s'", n->name);
    return EOS_OK;
oom:
    eos_free(bufs);
    ref_step_free(r);
    return eos_err_set(err, EOS_NOMEM, "out of memory planning node '%s' (%s)", n->name, n->op_type);
}

static eos_status ref_lower(eos_plan *p, eos_err *err) {
    for (int i = 0; i < p->g.n_nodes; i++) EOS_TRY(eos_plan_add_ref_step(p, i, err));
    return EOS_OK;
}

static const eos_backend_impl k_ref_backend = {
    .name = "ref", .init = NULL, .lower = ref_lower, .bind = NULL, .begin_run = NULL, .release = NULL,
};

const eos_backend_impl *eos_backend_ref(void) { return &k_ref_backend; }

#ifndef EOS_WITH_DNNL
const eos_backend_impl *eos_backend_dnnl(void) { return NULL; }
#endif

/* ------------------------------------------------------------------ infer and fold */

/* EOS_LIMIT unless value v fits the plan's byte limit. Zero dims count as 1 here, so that a
 * zero-size tensor with absurd other dims (0 x 1e15) is refused too: later shape arithmetic on
 * its dims could otherwise overflow. `where` prefixes the message ("node 'c' (Conv): "). */
static eos_status check_value_size(const eos_plan *p, const eos_value *v, const char *where,
                                   eos_err *err) {
    size_t es = eos_dtype_size(v->dtype);
    uint64_t limit = (uint64_t)p->max_bytes / (es ? es : 1), prod = 1;
    bool ok = v->ndim >= 0 && v->ndim <= EOS_MAX_DIMS;
    for (int d = 0; ok && d < v->ndim; d++) {
        uint64_t k = v->dims[d] > 0 ? (uint64_t)v->dims[d] : 1;
        if (v->dims[d] < 0 || prod > limit / k) ok = false;
        else prod *= k;
    }
    if (ok) return EOS_OK;
    char shape[128];
    eos_shape_str(v->ndim < 0 ? 0 : v->ndim, v->dims, shape, sizeof shape);
    return eos_err_set(err, EOS_LIMIT, "%s'%s' (%s %s) exceeds the plan's limit of %zu bytes",
                       where, v->name ? v->name : "", eos_dtype_name(v->dtype), shape,
                       p->max_bytes);
}

static eos_status fold_shape(eos_plan *p, const eos_node *n, eos_err *err) {
    const eos_value *x = &p->g.values[n->in[0]];
    int64_t r = x->ndim, start = eos_attr_int(n, "start", 0), end = eos_attr_int(n, "end", r);
    if (start < 0) start += r;
    if (end < 0) end += r;
    start = start < 0 ? 0 : (start > r ? r : start);
    end = end < 0 ? 0 : (end > r ? r : end);
    int64_t cnt = end > start ? end - start : 0;
    eos_value *o = &p->g.values[n->out[0]];
    o->dtype = EOS_DTYPE_I64;
    o->ndim = 1;
    o->dims[0] = cnt;
    int64_t tmp[EOS_MAX_DIMS] = { 0 };
    for (int64_t i = 0; i < cnt; i++) tmp[i] = x->dims[start + i];
    if (eos_graph_set_const(&p->g, n->out[0], tmp, (size_t)(cnt ? cnt : 1) * 8))
        return eos_err_set(err, EOS_NOMEM, "out of memory");
    return EOS_OK;
}

static bool all_inputs_const(const eos_plan *p, const eos_node *n) {
    for (int i = 0; i < n->n_in; i++)
        if (n->in[i] >= 0 && !p->g.values[n->in[i]].data) return false;
    return true;
}

static eos_status fold_node(eos_plan *p, const eos_node *n, eos_err *err) {
    eos_tensor in[16], out[4];
    if (n->n_in > 16 || n->n_out > 4) return EOS_UNSUPPORTED;
    for (int i = 0; i < n->n_in; i++) {
        memset(&in[i], 0, sizeof in[i]);
        if (n->in[i] >= 0) in[i] = eos_value_tensor(&p->g.values[n->in[i]]);
    }
    for (int i = 0; i < n->n_out; i++) {
        eos_value *o = &p->g.values[n->out[i]];
        eos_tensor t = eos_value_tensor(o);
        size_t nb = eos_tensor_nbytes(&t);
        if (eos_tensor_numel(&t) < 0 || nb > FOLD_MAX_BYTES) return EOS_UNSUPPORTED;
        if (nb > p->max_bytes - p->folded_bytes)
            return eos_err_set(err, EOS_LIMIT, "node '%s' (%s): constants folded at plan time "
                               "would exceed the plan's limit of %zu bytes", n->name, n->op_type,
                               p->max_bytes);
        p->folded_bytes += nb;
        /* zero bytes: keep a 1-byte allocation so data != NULL marks it constant */
        if (eos_graph_set_const(&p->g, n->out[i], NULL, 0)) return eos_err_set(err, EOS_NOMEM, "out of memory");
        if (nb) {
            eos_free(o->data);
            o->data = eos_calloc(1, nb);
            if (!o->data) return eos_err_set(err, EOS_NOMEM, "out of memory folding node '%s'", n->name);
        }
        out[i] = eos_value_tensor(o);
    }
    eos_status st = eos_op_ref(n, in, out, err);
    if (st) return eos_err_prefix(err, "node '%s' (%s), folding: ", n->name, n->op_type);
    return EOS_OK;
}

static eos_status infer_all(eos_plan *p, eos_err *err) {
    eos_graph *g = &p->g;
    const eos_value *in_p[64];
    eos_value *out_p[64];
    int kept = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        eos_node *n = &g->nodes[i];
        if (n->n_in > 64 || n->n_out > 64)
            return eos_err_set(err, EOS_LIMIT, "node '%s' (%s): more than 64 inputs or outputs",
                               n->name, n->op_type);
        for (int j = 0; j < n->n_in; j++) in_p[j] = n->in[j] >= 0 ? &g->values[n->in[j]] : NULL;
        for (int j = 0; j < n->n_out; j++) out_p[j] = &g->values[n->out[j]];
        eos_status st = eos_op_infer(n, in_p, out_p, err);
        if (st) return node_prefix(err, n);
        for (int j = 0; j < n->n_out; j++) {
            char where[EOS_ERR_MSG_MAX / 2];
            snprintf(where, sizeof where, "node '%.100s' (%.40s): output ", n->name, n->op_type);
            EOS_TRY(check_value_size(p, out_p[j], where, err));
            if (eos_value_numel(out_p[j]) < 0)
                return eos_err_set(err, EOS_INTERNAL, "node '%s' (%s): output '%s' has no concrete shape",
                                   n->name, n->op_type, out_p[j]->name);
        }
        bool folded = false;
        if (n->op == EOS_OP_SHAPE) {
            EOS_TRY(fold_shape(p, n, err));
            folded = true;
        } else if (all_inputs_const(p, n)) {
            st = fold_node(p, n, err);
            if (st == EOS_OK) folded = true;
            else if (st != EOS_UNSUPPORTED) return st;
            else for (int j = 0; j < n->n_out; j++) { /* keep it as a runtime node */
                eos_value *o = &g->values[n->out[j]];
                if (o->data_owned) eos_free(o->data);
                o->data = NULL;
                o->data_owned = false;
                o->flags &= ~(uint32_t)EOS_VAL_CONST;
            }
        }
        if (!folded) g->nodes[kept++] = *n;
    }
    g->n_nodes = kept;
    return EOS_OK;
}

/* ------------------------------------------------------------------ memory planning */

typedef struct span { int root; size_t size; int first, last; int64_t off; } span;

static int cmp_span_size(const void *a, const void *b) {
    const span *x = a, *y = b;
    if (x->size != y->size) return x->size < y->size ? 1 : -1;
    return x->first - y->first;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = ((const int64_t *)a)[0], y = ((const int64_t *)b)[0];
    return (x > y) - (x < y);
}

static eos_status plan_memory(eos_plan *p, eos_err *err) {
    int nb = p->n_bufs;
    for (int b = 0; b < nb; b++) {
        p->bufs[b].first = INT32_MAX;
        p->bufs[b].last = -2;
    }
    for (int s = 0; s < p->n_steps; s++)
        for (int k = 0; k < p->steps[s].n_bufs; k++) {
            int r = find_root(p, p->steps[s].bufs[k]);
            if (s < p->bufs[r].first) p->bufs[r].first = s;
            if (s > p->bufs[r].last) p->bufs[r].last = s;
        }
    for (int b = 0; b < nb; b++) {
        int r = find_root(p, b);
        if (p->bufs[b].nbytes > p->bufs[r].nbytes) p->bufs[r].nbytes = p->bufs[b].nbytes;
        p->bufs[r].flags |= p->bufs[b].flags & (EOS_BUF_INPUT | EOS_BUF_OUTPUT);
    }
    span *sp = eos_calloc((size_t)nb + 1, sizeof *sp);
    int64_t *occ = eos_calloc(2 * (size_t)nb + 2, sizeof(int64_t));
    if (!sp || !occ) {
        eos_free(sp); eos_free(occ);
        return eos_err_set(err, EOS_NOMEM, "out of memory planning buffers");
    }
    int n = 0;
    for (int b = 0; b < nb; b++) {
        eos_buf *B = &p->bufs[b];
        if (find_root(p, b) != b || (B->flags & (EOS_BUF_CONST | EOS_BUF_EXTERN))) continue;
        if (B->flags & EOS_BUF_INPUT) B->first = -1;
        if (B->flags & EOS_BUF_OUTPUT) B->last = p->n_steps;
        if (B->last < -1) continue; /* never used */
        if (B->first == INT32_MAX) B->first = B->last;
        sp[n].root = b;
        sp[n].size = B->nbytes > p->max_bytes ? SIZE_MAX : (B->nbytes + 63) & ~(size_t)63;
        if (!sp[n].size) sp[n].size = 64;
        sp[n].first = B->first;
        sp[n].last = B->last;
        n++;
    }
    qsort(sp, (size_t)n, sizeof *sp, cmp_span_size);
    int64_t total = 0;
    for (int i = 0; i < n && (uint64_t)total <= p->max_bytes; i++) {
        if (sp[i].size > p->max_bytes) {        /* one buffer alone is over the limit */
            total = INT64_MAX;
            break;
        }
        /* offsets of already placed spans that overlap in time, sorted: first fit in the gaps */
        int m = 0;
        for (int j = 0; j < i; j++)
            if (sp[j].first <= sp[i].last && sp[i].first <= sp[j].last) {
                occ[2 * m] = sp[j].off;
                occ[2 * m + 1] = sp[j].off + (int64_t)sp[j].size;
                m++;
            }
        qsort(occ, (size_t)m, 2 * sizeof(int64_t), cmp_i64);
        int64_t off = 0;
        for (int j = 0; j < m; j++) {
            if (occ[2 * j] - off >= (int64_t)sp[i].size) break;
            if (occ[2 * j + 1] > off) off = occ[2 * j + 1];
        }
        sp[i].off = off;
        if (off + (int64_t)sp[i].size > total) total = off + (int64_t)sp[i].size;
    }
    for (int i = 0; i < n; i++) p->bufs[sp[i].root].offset = sp[i].off;
    eos_free(sp);
    eos_free(occ);
    if ((uint64_t)total > p->max_bytes)
        return eos_err_set(err, EOS_LIMIT, "the plan needs more than %zu bytes of activations "
                           "(its limit)", p->max_bytes);
    p->mem_bytes = (size_t)total;
    p->mem = total ? eos_malloc((size_t)total) : NULL;
    if (total && !p->mem)
        return eos_err_set(err, EOS_NOMEM, "out of memory: the plan needs %lld bytes of activations",
                           (long long)total);
    for (int b = 0; b < nb; b++) {
        eos_buf *B = &p->bufs[b];
        if (B->flags & (EOS_BUF_CONST | EOS_BUF_EXTERN)) continue;
        int r = find_root(p, b);
        B->ptr = p->bufs[r].offset >= 0 ? (char *)p->mem + p->bufs[r].offset : NULL;
    }
    return EOS_OK;
}

/* ------------------------------------------------------------------ create / run / free */

static eos_status copy_graph(eos_plan *p, const eos_graph *mg, eos_err *err) {
    eos_graph *g = &p->g;
    eos_graph_init(g);
    g->values = eos_malloc(((size_t)mg->n_values + 1) * sizeof(eos_value));
    g->nodes = eos_malloc(((size_t)mg->n_nodes + 1) * sizeof(eos_node));
    if (!g->values || !g->nodes) return eos_err_set(err, EOS_NOMEM, "out of memory copying the graph");
    memcpy(g->values, mg->values, (size_t)mg->n_values * sizeof(eos_value));
    if (mg->n_nodes) memcpy(g->nodes, mg->nodes, (size_t)mg->n_nodes * sizeof(eos_node));
    g->n_values = g->cap_values = mg->n_values;
    g->n_nodes = g->cap_nodes = mg->n_nodes;
    for (int v = 0; v < g->n_values; v++) g->values[v].data_owned = false;
    g->inputs = mg->inputs;
    g->n_inputs = mg->n_inputs;
    g->outputs = mg->outputs;
    g->n_outputs = mg->n_outputs;
    g->opset = mg->opset;
    return EOS_OK;
}

static eos_status set_input_shapes(eos_plan *p, const eos_tensor *inputs, int n_inputs, eos_err *err) {
    eos_graph *g = &p->g;
    if (n_inputs != g->n_inputs)
        return eos_err_set(err, EOS_INVALID_ARG, "the model has %d input%s, %d given", g->n_inputs,
                           g->n_inputs == 1 ? "" : "s", n_inputs);
    for (int i = 0; i < n_inputs; i++) {
        eos_value *v = &g->values[g->inputs[i]];
        const eos_tensor *t = &inputs[i];
        char want[128], got[128];
        eos_shape_str(v->ndim < 0 ? 0 : v->ndim, v->dims, want, sizeof want);
        eos_shape_str(t->ndim, t->dims, got, sizeof got);
        if (t->ndim < 0 || t->ndim > EOS_MAX_DIMS || eos_tensor_numel(t) < 0)
            return eos_err_set(err, EOS_SHAPE, "input '%s': invalid shape %s", v->name, got);
        if (v->ndim >= 0 && v->ndim != t->ndim)
            return eos_err_set(err, EOS_SHAPE, "input '%s': the model expects shape %s, got %s",
                               v->name, want, got);
        for (int d = 0; d < t->ndim; d++)
            if (v->ndim >= 0 && v->dims[d] >= 0 && v->dims[d] != t->dims[d])
                return eos_err_set(err, EOS_SHAPE, "input '%s': the model expects shape %s, got %s (axis %d)",
                                   v->name, want, got, d);
        if (v->dtype == EOS_DTYPE_UNDEFINED) v->dtype = t->dtype;
        v->ndim = t->ndim;
        memcpy(v->dims, t->dims, sizeof v->dims);
        EOS_TRY(check_value_size(p, v, "input ", err));
    }
    return EOS_OK;
}

static eos_status compute_last_use(eos_plan *p, eos_err *err) {
    eos_graph *g = &p->g;
    eos_free(p->last_use);
    p->last_use = eos_malloc(((size_t)g->n_values + 1) * sizeof(int));
    if (!p->last_use) return eos_err_set(err, EOS_NOMEM, "out of memory");
    for (int v = 0; v < g->n_values; v++) p->last_use[v] = -1;
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++)
            if (g->nodes[i].in[j] >= 0) p->last_use[g->nodes[i].in[j]] = i;
    for (int i = 0; i < g->n_outputs; i++) p->last_use[g->outputs[i]] = g->n_nodes;
    return EOS_OK;
}

static eos_status check_outputs(eos_plan *p, eos_err *err) {
    for (int i = 0; i < p->g.n_outputs; i++) {
        int v = p->g.outputs[i];
        if (eos_plan_value_buf(p, v) < 0)
            return eos_err_set(err, EOS_NOMEM, "out of memory for output '%s'", p->g.values[v].name);
        p->bufs[p->val_buf[v]].flags |= EOS_BUF_OUTPUT;
    }
    for (int i = 0; i < p->g.n_inputs; i++) {
        int b = eos_plan_value_buf(p, p->g.inputs[i]);
        if (b < 0) return eos_err_set(err, EOS_NOMEM, "out of memory for inputs");
        p->bufs[b].flags |= EOS_BUF_INPUT;
    }
    return EOS_OK;
}

static eos_status plan_build(eos_plan *p, const eos_graph *mg, const eos_tensor *inputs,
                             int n_inputs, eos_err *err) {
    EOS_TRY(copy_graph(p, mg, err));
    for (int i = 0; i < p->g.n_outputs; i++) p->g.values[p->g.outputs[i]].flags |= EOS_VAL_OUTPUT;
    EOS_TRY(set_input_shapes(p, inputs, n_inputs, err));
    EOS_TRY(infer_all(p, err));
    EOS_TRY(compute_last_use(p, err));
    EOS_TRY(eos_graph_fuse(&p->g, err));
    EOS_TRY(compute_last_use(p, err));
    p->val_buf = eos_malloc(((size_t)p->g.n_values + 1) * sizeof(int));
    if (!p->val_buf) return eos_err_set(err, EOS_NOMEM, "out of memory");
    for (int v = 0; v < p->g.n_values; v++) p->val_buf[v] = -1;
    /* input and output buffers first, so back-ends find them flagged */
    EOS_TRY(check_outputs(p, err));
    if (p->be->init) EOS_TRY(p->be->init(p, err));
    EOS_TRY(p->be->lower(p, err));
    EOS_TRY(plan_memory(p, err));
    if (p->be->bind) EOS_TRY(p->be->bind(p, err));
    return EOS_OK;
}

eos_status eos_plan_create(const eos_graph *model_g, const eos_tensor *inputs, int n_inputs,
                           const eos_backend_impl *be, int n_threads, eos_plan **out,
                           eos_err *err) {
    return eos_plan_create_limited(model_g, inputs, n_inputs, be, n_threads, 0, out, err);
}

eos_status eos_plan_create_limited(const eos_graph *model_g, const eos_tensor *inputs,
                                   int n_inputs, const eos_backend_impl *be, int n_threads,
                                   size_t max_bytes, eos_plan **out, eos_err *err) {
    *out = NULL;
    if (!be) return eos_err_set(err, EOS_INVALID_ARG, "no back-end");
    eos_plan *p = eos_calloc(1, sizeof *p);
    if (!p) return eos_err_set(err, EOS_NOMEM, "out of memory creating a plan");
    eos_arena_init(&p->arena, 0);
    eos_graph_init(&p->g);
    p->be = be;
    p->n_threads = n_threads > 0 ? n_threads : 1;
    p->max_bytes = max_bytes ? max_bytes : EOS_PLAN_MAX_BYTES_DEFAULT;
    if (p->max_bytes > (size_t)INT64_MAX / 4) p->max_bytes = (size_t)INT64_MAX / 4;
    eos_status st = plan_build(p, model_g, inputs, n_inputs, err);
    if (st) {
        eos_plan_free(p);
        return st;
    }
    *out = p;
    return EOS_OK;
}

eos_status eos_plan_run(eos_plan *p, const eos_tensor *inputs, int n_inputs, eos_err *err) {
    if (n_inputs != p->g.n_inputs)
        return eos_err_set(err, EOS_INVALID_ARG, "the model has %d inputs, %d given", p->g.n_inputs, n_inputs);
    for (int i = 0; i < n_inputs; i++) {
        const eos_value *v = &p->g.values[p->g.inputs[i]];
        eos_tensor want = eos_value_tensor(v);
        if (!eos_tensor_same_shape(&want, &inputs[i]))
            return eos_err_set(err, EOS_SHAPE, "input '%s': shape differs from the planned one", v->name);
        if (!inputs[i].data && eos_tensor_numel(&inputs[i]) > 0)
            return eos_err_set(err, EOS_INVALID_ARG, "input '%s': data is NULL", v->name);
        if (eos_dtype_size(inputs[i].dtype) == 0)
            return eos_err_set(err, EOS_TYPE, "input '%s': undefined element type", v->name);
        int b = p->val_buf[p->g.inputs[i]];
        if (b >= 0 && p->bufs[b].ptr)
            eos_convert(p->bufs[b].ptr, v->dtype, inputs[i].data, inputs[i].dtype, eos_tensor_numel(&want));
    }
    if (p->be->begin_run) EOS_TRY(p->be->begin_run(p, err));
    for (int s = 0; s < p->n_steps; s++) EOS_TRY(p->steps[s].exec(p, &p->steps[s], err));
    return EOS_OK;
}

eos_tensor eos_plan_output(const eos_plan *p, int i) {
    int v = p->g.outputs[i];
    eos_tensor t = eos_value_tensor(&p->g.values[v]);
    int b = p->val_buf[v];
    t.data = b >= 0 ? p->bufs[b].ptr : p->g.values[v].data;
    return t;
}

void eos_plan_free(eos_plan *p) {
    if (!p) return;
    for (int s = 0; s < p->n_steps; s++)
        if (p->steps[s].free_state) p->steps[s].free_state(p->steps[s].state);
    if (p->be && p->be->release) p->be->release(p);
    eos_free(p->steps);
    eos_free(p->bufs);
    eos_free(p->val_buf);
    eos_free(p->last_use);
    eos_free(p->mem);
    eos_graph_free(&p->g);
    eos_arena_free(&p->arena);
    eos_free(p);
}
