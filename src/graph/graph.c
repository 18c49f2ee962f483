/*
 * src/graph/graph.c - building, looking up and checking the graph IR (see graph.h).
 *
 * Values and nodes live in growable arrays (eos_realloc); everything hanging off them (names,
 * attributes, input/output id arrays) comes from the graph's arena. Name lookup is an
 * open-addressing hash of value ids, rebuilt when it passes half full.
 */
#include "graph/graph.h"

#include <string.h>

#include "eosight/alloc.h"

void eos_graph_init(eos_graph *g) {
    memset(g, 0, sizeof *g);
    eos_arena_init(&g->arena, 0);
}

void eos_graph_free(eos_graph *g) {
    if (!g) return;
    for (int i = 0; i < g->n_values; i++)
        if (g->values[i].data_owned) eos_free(g->values[i].data);
    eos_free(g->values);
    eos_free(g->nodes);
    eos_free(g->name_hash);
    eos_arena_free(&g->arena);
    memset(g, 0, sizeof *g);
}

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull;
    while (*s) h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

static void hash_put(int *tab, int cap, const eos_value *vals, int id) {
    uint64_t i = hash_str(vals[id].name) & (uint64_t)(cap - 1);
    while (tab[i] >= 0) {
        if (!strcmp(vals[tab[i]].name, vals[id].name)) break; /* newer value shadows older */
        i = (i + 1) & (uint64_t)(cap - 1);
    }
    tab[i] = id;
}

static int hash_grow(eos_graph *g) {
    int cap = g->hash_cap ? g->hash_cap * 2 : 64;
    int *tab = eos_malloc((size_t)cap * sizeof *tab);
    if (!tab) return -1;
    memset(tab, 0xff, (size_t)cap * sizeof *tab);
    for (int v = 0; v < g->n_values; v++)
        if (g->values[v].name[0]) hash_put(tab, cap, g->values, v);
    eos_free(g->name_hash);
    g->name_hash = tab;
    g->hash_cap = cap;
    return 0;
}

int eos_graph_add_value(eos_graph *g, const char *name) {
    if (g->n_values == g->cap_values) {
        int cap = g->cap_values ? g->cap_values * 2 : 64;
        eos_value *nv = eos_realloc(g->values, (size_t)cap * sizeof *nv);
        if (!nv) return -1;
        g->values = nv;
        g->cap_values = cap;
    }
    const char *nm = eos_arena_strdup(&g->arena, name ? name : "");
    if (!nm) return -1;
    int id = g->n_values;
    eos_value *v = &g->values[id];
    memset(v, 0, sizeof *v);
    v->name = nm;
    v->ndim = -1;
    v->producer = -1;
    g->n_values++;
    if (nm[0]) {
        if ((g->n_values + 1) * 2 > g->hash_cap && hash_grow(g)) {
            g->n_values--;
            return -1;
        }
        hash_put(g->name_hash, g->hash_cap, g->values, id);
    }
    return id;
}

int eos_graph_find_value(const eos_graph *g, const char *name) {
    if (!name || !name[0] || !g->hash_cap) return -1;
    uint64_t i = hash_str(name) & (uint64_t)(g->hash_cap - 1);
    while (g->name_hash[i] >= 0) {
        if (!strcmp(g->values[g->name_hash[i]].name, name)) return g->name_hash[i];
        i = (i + 1) & (uint64_t)(g->hash_cap - 1);
    }
    return -1;
}

int eos_graph_add_node(eos_graph *g, eos_op op, int n_in, int n_out) {
    if (n_in < 0 || n_out < 0) return -1;
    if (g->n_nodes == g->cap_nodes) {
        int cap = g->cap_nodes ? g->cap_nodes * 2 : 64;
        eos_node *nn = eos_realloc(g->nodes, (size_t)cap * sizeof *nn);
        if (!nn) return -1;
        g->nodes = nn;
        g->cap_nodes = cap;
    }
    eos_node *n = &g->nodes[g->n_nodes];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->name = "";
    n->op_type = "";
    n->n_in = n_in;
    n->n_out = n_out;
    n->in = eos_arena_alloc(&g->arena, (size_t)(n_in ? n_in : 1) * sizeof(int));
    n->out = eos_arena_alloc(&g->arena, (size_t)(n_out ? n_out : 1) * sizeof(int));
    if (!n->in || !n->out) return -1;
    for (int i = 0; i < n_in; i++) n->in[i] = -1;
    for (int i = 0; i < n_out; i++) n->out[i] = -1;
    n->fuse.sum_in = -1;
    return g->n_nodes++;
}

eos_status eos_graph_set_const(eos_graph *g, int v, const void *data, size_t nbytes) {
    eos_value *val = &g->values[v];
    void *d = eos_malloc(nbytes ? nbytes : 1);
    if (!d) return EOS_NOMEM;
    if (nbytes) memcpy(d, data, nbytes);
    if (val->data_owned) eos_free(val->data);
    val->data = d;
    val->data_owned = true;
    val->flags |= EOS_VAL_CONST;
    return EOS_OK;
}

int eos_graph_n_consumers(const eos_graph *g, int v) {
    int c = 0;
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++) c += g->nodes[i].in[j] == v;
    return c;
}

/* Min-heap of ready node indices: Kahn's algorithm that prefers the original order. */
static void heap_push(int *h, int *n, int x) {
    int i = (*n)++;
    while (i > 0 && h[(i - 1) / 2] > x) { h[i] = h[(i - 1) / 2]; i = (i - 1) / 2; }
    h[i] = x;
}

static int heap_pop(int *h, int *n) {
    int top = h[0], x = h[--(*n)], i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && h[c + 1] < h[c]) c++;
        if (h[c] >= x) break;
        h[i] = h[c];
        i = c;
    }
    if (*n) h[i] = x;
    return top;
}

static eos_status check_producers(eos_graph *g, eos_err *err) {
    for (int v = 0; v < g->n_values; v++) g->values[v].producer = -1;
    for (int i = 0; i < g->n_nodes; i++) {
        const eos_node *n = &g->nodes[i];
        for (int j = 0; j < n->n_out; j++) {
            int o = n->out[j];
            if (o < 0 || o >= g->n_values) continue;
            if (g->values[o].producer >= 0)
                return eos_err_set(err, EOS_PARSE, "value '%s' is produced by two nodes ('%s' and '%s')",
                                   g->values[o].name, g->nodes[g->values[o].producer].name, n->name);
            if (g->values[o].flags & (EOS_VAL_CONST | EOS_VAL_INPUT))
                return eos_err_set(err, EOS_PARSE, "node '%s' (%s) overwrites graph input or initializer '%s'",
                                   n->name, n->op_type, g->values[o].name);
            g->values[o].producer = i;
        }
        for (int j = 0; j < n->n_in; j++)
            if (n->in[j] >= g->n_values)
                return eos_err_set(err, EOS_INTERNAL, "node '%s': input id out of range", n->name);
    }
    return EOS_OK;
}

eos_status eos_graph_toposort(eos_graph *g, eos_err *err) {
    int nv = g->n_values, nn = g->n_nodes;
    EOS_TRY(check_producers(g, err));
    /* consumers of each value, CSR: node ids in cons[off[v] .. off[v+1]) */
    int64_t n_edges = 0;
    for (int i = 0; i < nn; i++) n_edges += g->nodes[i].n_in;
    int *off = eos_calloc((size_t)nv + 1, sizeof(int));
    int *cons = eos_malloc(((size_t)n_edges + 1) * sizeof(int));
    int *pending = eos_calloc((size_t)nn + 1, sizeof(int));
    int *heap = eos_malloc(((size_t)nn + 1) * sizeof(int));
    int *order = eos_malloc(((size_t)nn + 1) * sizeof(int));
    eos_node *sorted = eos_malloc(((size_t)nn + 1) * sizeof(eos_node));
    eos_status st = EOS_OK;
    if (!off || !cons || !pending || !heap || !order || !sorted) {
        st = eos_err_set(err, EOS_NOMEM, "out of memory sorting %d nodes", nn);
        goto done;
    }
    for (int i = 0; i < nn && st == EOS_OK; i++) {
        const eos_node *n = &g->nodes[i];
        for (int j = 0; j < n->n_in; j++) {
            int v = n->in[j];
            if (v < 0) continue;
            const eos_value *val = &g->values[v];
            if (val->producer >= 0) {
                pending[i]++;
                off[v + 1]++;
            } else if (!(val->flags & (EOS_VAL_CONST | EOS_VAL_INPUT))) {
                st = eos_err_set(err, EOS_PARSE, "node '%s' (%s) reads '%s', which no node, input or initializer defines",
                                 n->name, n->op_type, val->name);
            }
        }
    }
    if (st) goto done;
    for (int v = 0; v < nv; v++) off[v + 1] += off[v];
    {
        int *cur = eos_malloc(((size_t)nv + 1) * sizeof(int));
        if (!cur) { st = eos_err_set(err, EOS_NOMEM, "out of memory sorting %d nodes", nn); goto done; }
        memcpy(cur, off, (size_t)nv * sizeof(int));
        for (int i = 0; i < nn; i++)
            for (int j = 0; j < g->nodes[i].n_in; j++) {
                int v = g->nodes[i].in[j];
                if (v >= 0 && g->values[v].producer >= 0) cons[cur[v]++] = i;
            }
        eos_free(cur);
    }
    int n_heap = 0, n_done = 0;
    for (int i = 0; i < nn; i++)
        if (!pending[i]) heap_push(heap, &n_heap, i);
    while (n_heap) {
        int i = heap_pop(heap, &n_heap);
        order[n_done++] = i;
        const eos_node *n = &g->nodes[i];
        for (int j = 0; j < n->n_out; j++) {
            int o = n->out[j];
            if (o < 0) continue;
            for (int k = off[o]; k < off[o + 1]; k++)
                if (--pending[cons[k]] == 0) heap_push(heap, &n_heap, cons[k]);
        }
    }
    if (n_done < nn) {
        int bad = 0;
        while (bad < nn && !pending[bad]) bad++;
        st = eos_err_set(err, EOS_PARSE, "the graph has a cycle through node '%s' (%s)",
                         g->nodes[bad].name, g->nodes[bad].op_type);
        goto done;
    }
    for (int i = 0; i < nn; i++) sorted[i] = g->nodes[order[i]];
    if (nn) memcpy(g->nodes, sorted, (size_t)nn * sizeof(eos_node));   /* nodes NULL when nn 0 */
    for (int i = 0; i < nn; i++)
        for (int j = 0; j < g->nodes[i].n_out; j++)
            if (g->nodes[i].out[j] >= 0) g->values[g->nodes[i].out[j]].producer = i;
    for (int i = 0; i < g->n_outputs && st == EOS_OK; i++) {
        const eos_value *v = &g->values[g->outputs[i]];
        if (v->producer < 0 && !(v->flags & (EOS_VAL_CONST | EOS_VAL_INPUT)))
            st = eos_err_set(err, EOS_PARSE, "graph output '%s' is never produced", v->name);
    }
done:
    eos_free(off); eos_free(cons); eos_free(pending); eos_free(heap); eos_free(order); eos_free(sorted);
    return st;
}

/* ------------------------------------------------------------------ attributes */

const eos_attr *eos_node_attr(const eos_node *n, const char *name) {
    for (int i = 0; i < n->n_attrs; i++)
        if (!strcmp(n->attrs[i].name, name)) return &n->attrs[i];
    return NULL;
}

int64_t eos_attr_int(const eos_node *n, const char *name, int64_t dflt) {
    const eos_attr *a = eos_node_attr(n, name);
    return a && a->type == EOS_ATTR_INT ? a->i : dflt;
}

float eos_attr_float(const eos_node *n, const char *name, float dflt) {
    const eos_attr *a = eos_node_attr(n, name);
    if (a && a->type == EOS_ATTR_FLOAT) return a->f;
    if (a && a->type == EOS_ATTR_INT) return (float)a->i;
    return dflt;
}

const char *eos_attr_str(const eos_node *n, const char *name, const char *dflt) {
    const eos_attr *a = eos_node_attr(n, name);
    return a && a->type == EOS_ATTR_STRING ? a->s : dflt;
}

const int64_t *eos_attr_ints(const eos_node *n, const char *name, int64_t *count) {
    const eos_attr *a = eos_node_attr(n, name);
    if (a && a->type == EOS_ATTR_INTS) {
        *count = a->n;
        return a->ints;
    }
    *count = 0;
    return NULL;
}

const float *eos_attr_floats(const eos_node *n, const char *name, int64_t *count) {
    const eos_attr *a = eos_node_attr(n, name);
    if (a && a->type == EOS_ATTR_FLOATS) {
        *count = a->n;
        return a->floats;
    }
    *count = 0;
    return NULL;
}

eos_tensor eos_value_tensor(const eos_value *v) {
    eos_tensor t;
    memset(&t, 0, sizeof t);
    t.dtype = v->dtype;
    t.ndim = v->ndim < 0 ? 0 : v->ndim;
    for (int i = 0; i < t.ndim; i++) t.dims[i] = v->dims[i];
    t.data = v->data;
    return t;
}

int64_t eos_value_numel(const eos_value *v) {
    if (v->ndim < 0) return -1;
    eos_tensor t = eos_value_tensor(v);
    return eos_tensor_numel(&t);
}
