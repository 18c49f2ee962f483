/*
 * src/onnx/onnx_node.c - NodeProto and AttributeProto, and the folding of Constant nodes.
 *
 * A node is read twice: a first pass validates its fields and finds name, op_type, domain and
 * the counts of inputs, outputs and attributes (so messages can name the node even when its
 * name comes after the broken field, and arrays can be sized before they are filled); the
 * second pass resolves input/output names to value ids and decodes the attributes.
 *
 * Names are resolved in file order. An input naming a value not seen yet creates it (a forward
 * reference: the file need not be topologically sorted); the producer met later reuses that
 * value. An output whose value already has a producer, or is an initializer or graph input, is
 * refused here with a message naming both nodes; cycles and names nobody defines are left to
 * eos_graph_toposort. An empty output name (an unused optional output) gets an anonymous value.
 *
 * Constant nodes never become nodes: their attribute becomes the data of a constant value named
 * after the output, which is what every later stage wants to see.
 */
#include "onnx/onnx_internal.h"

#include <stdio.h>
#include <string.h>

#include "eosight/alloc.h"
#include "ops/ops.h"

/* AttributeProto.AttributeType */
enum {
    A_UNDEFINED = 0, A_FLOAT = 1, A_INT = 2, A_STRING = 3, A_TENSOR = 4, A_GRAPH = 5, A_FLOATS = 6,
    A_INTS = 7, A_STRINGS = 8, A_TENSORS = 9, A_GRAPHS = 10, A_SPARSE_TENSOR = 11,
    A_SPARSE_TENSORS = 12, A_TYPE_PROTO = 13, A_TYPE_PROTOS = 14
};

static const char *attr_type_name(int64_t t) {
    static const char *const names[] = {
        "UNDEFINED", "FLOAT", "INT", "STRING", "TENSOR", "GRAPH", "FLOATS", "INTS", "STRINGS",
        "TENSORS", "GRAPHS", "SPARSE_TENSOR", "SPARSE_TENSORS", "TYPE_PROTO", "TYPE_PROTOS",
    };
    return t >= 0 && t <= A_TYPE_PROTOS ? names[t] : "unknown";
}

/* ------------------------------------------------------------------ attributes */

/* What the first pass over an AttributeProto found. */
typedef struct attr_scan {
    const char    *name;
    int64_t        type;
    bool           has_f, has_i, has_s, has_t, has_ref;
    uint64_t       f_bits, i;
    eos_pb_field   s, t;
    int64_t        n_floats, n_ints, n_strings;
    int            n_other[A_TYPE_PROTOS + 1];   /* occurrences of unsupported kinds, by type */
} attr_scan;

static eos_status scan_attr(eos_onnx_ctx *c, eos_pb *r, attr_scan *a) {
    eos_pb_field f;
    int rc;
    int64_t n;
    while ((rc = eos_pb_next(r, &f, c->err)) > 0) {
        switch (f.num) {
        case 1:
            EOS_TRY(eos_onnx_want_wire(c, r, &f, EOS_PB_LEN, "name"));
            EOS_TRY(eos_onnx_string(c, r, &f, EOS_ONNX_MAX_NAME, "attribute name", &a->name));
            break;
        case 20:
            EOS_TRY(eos_onnx_want_wire(c, r, &f, EOS_PB_VARINT, "type"));
            a->type = (int64_t)f.u;
            break;
        case 2:
            EOS_TRY(eos_onnx_want_wire(c, r, &f, EOS_PB_I32, "f"));
            a->has_f = true;
            a->f_bits = f.u;
            break;
        case 3:
            EOS_TRY(eos_onnx_want_wire(c, r, &f, EOS_PB_VARINT, "i"));
            a->has_i = true;
            a->i = f.u;
            break;
        case 4:
            EOS_TRY(eos_onnx_want_wire(c, r, &f, EOS_PB_LEN, "s"));
            a->has_s = true;
            a->s = f;
            break;
        case 5:
            EOS_TRY(eos_onnx_want_wire(c, r, &f, EOS_PB_LEN, "t"));
            a->has_t = true;
            a->t = f;
            break;
        case 7:
            EOS_TRY(eos_pb_count(r, &f, EOS_PB_I32, &n, c->err));
            a->n_floats += n;
            break;
        case 8:
            EOS_TRY(eos_pb_count(r, &f, EOS_PB_VARINT, &n, c->err));
            a->n_ints += n;
            break;
        case 9:
            EOS_TRY(eos_onnx_want_wire(c, r, &f, EOS_PB_LEN, "strings"));
            a->n_strings++;
            break;
        case 6:  a->n_other[A_GRAPH]++; break;
        case 10: a->n_other[A_TENSORS]++; break;
        case 11: a->n_other[A_GRAPHS]++; break;
        case 14: a->n_other[A_TYPE_PROTO]++; break;
        case 15: a->n_other[A_TYPE_PROTOS]++; break;
        case 22: a->n_other[A_SPARSE_TENSOR]++; break;
        case 23: a->n_other[A_SPARSE_TENSORS]++; break;
        case 21: a->has_ref = true; break;
        default: break;
        }
    }
    return rc < 0 ? c->err->status : EOS_OK;
}

/* Type of an attribute written without `type` (IR version 1 files): the one kind present. */
static int64_t infer_attr_type(const attr_scan *a) {
    int64_t t = A_UNDEFINED;
    int kinds = 0;
#define KIND_(cond, ty) if (cond) { t = ty; kinds++; }
    KIND_(a->has_f, A_FLOAT) KIND_(a->has_i, A_INT) KIND_(a->has_s, A_STRING)
    KIND_(a->has_t, A_TENSOR) KIND_(a->n_floats, A_FLOATS) KIND_(a->n_ints, A_INTS)
    KIND_(a->n_strings, A_STRINGS)
    for (int k = 0; k <= A_TYPE_PROTOS; k++) KIND_(a->n_other[k], k)
#undef KIND_
    return kinds == 1 ? t : A_UNDEFINED;
}

/* Second pass for the repeated kinds: fill floats / ints / strings. */
static eos_status fill_attr_lists(eos_onnx_ctx *c, const eos_pb *r0, eos_attr *out, const char *what) {
    eos_pb r = *r0;
    eos_pb_field f;
    int64_t i = 0;
    while (eos_pb_next(&r, &f, c->err) > 0) {   /* validated by scan_attr */
        eos_pb_elems it;
        uint64_t u;
        if (out->type == EOS_ATTR_FLOATS && f.num == 7) {
            eos_pb_elems_init(&it, &f, EOS_PB_I32);
            while (eos_pb_elems_next(&it, &u)) {
                uint32_t bits = (uint32_t)u;
                memcpy((float *)out->floats + i++, &bits, 4);
            }
        } else if (out->type == EOS_ATTR_INTS && f.num == 8) {
            eos_pb_elems_init(&it, &f, EOS_PB_VARINT);
            while (eos_pb_elems_next(&it, &u)) ((int64_t *)out->ints)[i++] = (int64_t)u;
        } else if (out->type == EOS_ATTR_STRINGS && f.num == 9) {
            EOS_TRY(eos_onnx_string(c, &r, &f, 0, what, &out->strings[i]));
            i++;
        }
    }
    return EOS_OK;
}

/* Decode the AttributeProto in f into *out. A TENSOR attribute's data goes into value
 * tensor_v, or a new anonymous constant value when tensor_v < 0. node: "node 'conv1'". */
static eos_status parse_attr(eos_onnx_ctx *c, const eos_pb *nr, const eos_pb_field *f,
                             const char *node, int index, int tensor_v, eos_attr *out) {
    char what[EOS_ONNX_WHAT_MAX], shown[80];
    attr_scan a;
    memset(&a, 0, sizeof a);
    snprintf(what, sizeof what, "attribute #%d of %s", index, node);
    eos_pb r;
    eos_pb_sub(&r, nr, f, what);
    EOS_TRY(scan_attr(c, &r, &a));
    if (!a.name || !a.name[0]) return eos_err_set(c->err, EOS_PARSE, "%s has no name", what);
    snprintf(what, sizeof what, "attribute '%s' of %s", eos_onnx_show(shown, sizeof shown, a.name), node);
    if (a.has_ref)
        return eos_err_set(c->err, EOS_UNSUPPORTED, "%s refers to a function attribute (ref_attr_name)", what);
    int64_t type = a.type ? a.type : infer_attr_type(&a);
    memset(out, 0, sizeof *out);
    out->name = a.name;
    out->tensor = -1;
    switch (type) {
    case A_FLOAT: {
        uint32_t bits = (uint32_t)a.f_bits;
        out->type = EOS_ATTR_FLOAT;
        memcpy(&out->f, &bits, 4);
        return EOS_OK;
    }
    case A_INT:
        out->type = EOS_ATTR_INT;
        out->i = (int64_t)a.i;
        return EOS_OK;
    case A_STRING:
        out->type = EOS_ATTR_STRING;
        if (!a.has_s) {
            out->s = "";
            return EOS_OK;
        }
        return eos_onnx_string(c, &r, &a.s, 0, what, &out->s);
    case A_TENSOR: {
        if (!a.has_t) return eos_err_set(c->err, EOS_PARSE, "%s has type TENSOR but no tensor", what);
        int v = tensor_v >= 0 ? tensor_v : eos_onnx_new_value(c, "");
        if (v < 0) return c->err->status;
        EOS_TRY(eos_onnx_tensor(c, &r, &a.t, what, v));
        const eos_value *val = &c->g->values[v];
        out->type = EOS_ATTR_TENSOR;
        out->tensor = v;
        out->t_dtype = val->dtype;
        out->t_ndim = val->ndim;
        memcpy(out->t_dims, val->dims, sizeof out->t_dims);
        out->t_data = val->data;
        return EOS_OK;
    }
    case A_FLOATS: case A_INTS: case A_STRINGS: {
        size_t esz = type == A_FLOATS ? sizeof(float) : type == A_INTS ? sizeof(int64_t) : sizeof(char *);
        out->type = type == A_FLOATS ? EOS_ATTR_FLOATS : type == A_INTS ? EOS_ATTR_INTS : EOS_ATTR_STRINGS;
        out->n = type == A_FLOATS ? a.n_floats : type == A_INTS ? a.n_ints : a.n_strings;
        void *arr = eos_arena_alloc(&c->g->arena, (size_t)(out->n ? out->n : 1) * esz);
        if (!arr) return eos_err_set(c->err, EOS_NOMEM, "out of memory for %s", what);
        out->floats = arr;
        out->ints = arr;
        out->strings = arr;
        if (type != A_FLOATS) out->floats = NULL;
        if (type != A_INTS) out->ints = NULL;
        if (type != A_STRINGS) out->strings = NULL;
        eos_pb_sub(&r, nr, f, what);
        return fill_attr_lists(c, &r, out, what);
    }
    case A_GRAPH: case A_GRAPHS: case A_SPARSE_TENSOR: case A_SPARSE_TENSORS: case A_TENSORS:
    case A_TYPE_PROTO: case A_TYPE_PROTOS:
        return eos_err_set(c->err, EOS_UNSUPPORTED, "%s has type %s, which eosight does not support",
                           what, attr_type_name(type));
    case A_UNDEFINED:
        return eos_err_set(c->err, EOS_PARSE, "%s has no type and no single value to infer it from", what);
    default:
        return eos_err_set(c->err, EOS_PARSE, "%s has unknown type %lld", what, (long long)type);
    }
}

/* ------------------------------------------------------------------ nodes */

typedef struct node_scan {
    const char *name, *op_type, *domain;
    int         n_in, n_out, n_attrs;
} node_scan;

static eos_status scan_node(eos_onnx_ctx *c, eos_pb *r, node_scan *s) {
    eos_pb_field f;
    int rc;
    memset(s, 0, sizeof *s);
    s->name = s->domain = "";
    while ((rc = eos_pb_next(r, &f, c->err)) > 0) {
        int *count = NULL;
        const char **str = NULL, *field = NULL;
        switch (f.num) {
        case 1: count = &s->n_in; field = "input"; break;
        case 2: count = &s->n_out; field = "output"; break;
        case 5: count = &s->n_attrs; field = "attribute"; break;
        case 3: str = &s->name; field = "node name"; break;
        case 4: str = &s->op_type; field = "op_type"; break;
        case 7: str = &s->domain; field = "domain"; break;
        default: continue;
        }
        EOS_TRY(eos_onnx_want_wire(c, r, &f, EOS_PB_LEN, field));
        if (str) EOS_TRY(eos_onnx_string(c, r, &f, EOS_ONNX_MAX_NAME, field, str));
        else if (*count >= EOS_ONNX_MAX_VALUES)
            return eos_err_set(c->err, EOS_LIMIT, "%s has more than %d %ss", r->where,
                               EOS_ONNX_MAX_VALUES, field);
        else (*count)++;
    }
    return rc < 0 ? c->err->status : EOS_OK;
}

/* The value an output name refers to: existing (a forward reference) or new. Refuses names
 * that are already produced, constants or graph inputs. */
static eos_status output_value(eos_onnx_ctx *c, const char *name, const char *node, int node_id,
                               int *out) {
    char shown[80];
    if (!name[0]) {
        *out = eos_onnx_new_value(c, "");
        return *out < 0 ? c->err->status : EOS_OK;
    }
    int v = eos_graph_find_value(c->g, name);
    if (v < 0) {
        *out = eos_onnx_new_value(c, name);
        return *out < 0 ? c->err->status : EOS_OK;
    }
    const eos_value *val = &c->g->values[v];
    eos_onnx_show(shown, sizeof shown, name);
    if (val->flags & EOS_VAL_INPUT)
        return eos_err_set(c->err, EOS_PARSE, "%s writes '%s', which is a graph input", node, shown);
    if (val->flags & EOS_VAL_CONST)
        return eos_err_set(c->err, EOS_PARSE, "%s writes '%s', which is already an initializer or constant",
                           node, shown);
    if (val->producer >= 0) {
        char other[80];
        if (val->producer == node_id)
            return eos_err_set(c->err, EOS_PARSE, "%s lists output '%s' twice", node, shown);
        return eos_err_set(c->err, EOS_PARSE, "value '%s' is produced by two nodes: '%s' and %s", shown,
                           eos_onnx_show(other, sizeof other, c->g->nodes[val->producer].name), node);
    }
    *out = v;
    return EOS_OK;
}

/* Value id for an input name: -1 when empty (an omitted optional input), else existing or a
 * new forward reference. */
static eos_status input_value(eos_onnx_ctx *c, const char *name, int *out) {
    *out = -1;
    if (!name[0]) return EOS_OK;
    int v = eos_graph_find_value(c->g, name);
    if (v < 0 && (v = eos_onnx_new_value(c, name)) < 0) return c->err->status;
    *out = v;
    return EOS_OK;
}

/* Fill value v from Constant's scalar/list attribute a (value_float(s), value_int(s)). */
static eos_status constant_from_list(eos_onnx_ctx *c, const eos_attr *a, bool is_float, bool is_list,
                                     int v, const char *what) {
    eos_value *val = &c->g->values[v];
    val->dtype = is_float ? EOS_DTYPE_F32 : EOS_DTYPE_I64;
    val->ndim = is_list ? 1 : 0;
    val->dims[0] = is_list ? a->n : 1;
    const void *src = is_float ? (is_list ? (const void *)a->floats : (const void *)&a->f)
                               : (is_list ? (const void *)a->ints : (const void *)&a->i);
    size_t n = is_list ? (size_t)a->n : 1;
    if (eos_graph_set_const(c->g, v, src, n * (is_float ? sizeof(float) : sizeof(int64_t))))
        return eos_err_set(c->err, EOS_NOMEM, "out of memory for %s", what);
    return EOS_OK;
}

/* A Constant node: its one attribute becomes the data of the value named by its output. */
static eos_status fold_constant(eos_onnx_ctx *c, const eos_pb *r, const node_scan *s,
                                const char *node) {
    char what[EOS_ONNX_WHAT_MAX];
    if (s->n_attrs != 1)
        return eos_err_set(c->err, EOS_PARSE, "%s (Constant) has %d attributes, expected exactly one",
                           node, s->n_attrs);
    eos_pb rr = *r;
    eos_pb_field f;
    const char *out_name = NULL;
    eos_pb_field attr_f;
    memset(&attr_f, 0, sizeof attr_f);
    while (eos_pb_next(&rr, &f, c->err) > 0) {   /* validated by scan_node */
        if (f.num == 2) EOS_TRY(eos_onnx_string(c, &rr, &f, EOS_ONNX_MAX_NAME, "output name", &out_name));
        if (f.num == 5) attr_f = f;
    }
    if (!out_name || !out_name[0])
        return eos_err_set(c->err, EOS_PARSE, "%s (Constant) has an empty output name", node);
    int v;
    EOS_TRY(output_value(c, out_name, node, -1, &v));
    eos_attr a;
    snprintf(what, sizeof what, "%s (Constant)", node);
    /* a TENSOR attribute lands in v whatever its name; a wrong name fails the load below */
    EOS_TRY(parse_attr(c, r, &attr_f, what, 0, v, &a));
    if (!strcmp(a.name, "value") && a.type == EOS_ATTR_TENSOR) return EOS_OK;
    if (!strcmp(a.name, "value_float") && a.type == EOS_ATTR_FLOAT)
        return constant_from_list(c, &a, true, false, v, what);
    if (!strcmp(a.name, "value_floats") && a.type == EOS_ATTR_FLOATS)
        return constant_from_list(c, &a, true, true, v, what);
    if (!strcmp(a.name, "value_int") && a.type == EOS_ATTR_INT)
        return constant_from_list(c, &a, false, false, v, what);
    if (!strcmp(a.name, "value_ints") && a.type == EOS_ATTR_INTS)
        return constant_from_list(c, &a, false, true, v, what);
    if (!strcmp(a.name, "value_string") || !strcmp(a.name, "value_strings") || !strcmp(a.name, "sparse_value"))
        return eos_err_set(c->err, EOS_UNSUPPORTED, "%s uses attribute '%s', which eosight does not support",
                           what, a.name);
    static const char *const kinds[] = { "UNDEFINED", "FLOAT", "INT", "STRING", "TENSOR", "FLOATS",
                                         "INTS", "STRINGS" };
    char shown[80];
    return eos_err_set(c->err, EOS_PARSE, "%s has attribute '%s' of type %s, which is not one of value, "
                       "value_float(s), value_int(s) with its type", what,
                       eos_onnx_show(shown, sizeof shown, a.name), kinds[a.type]);
}

/* Second pass over a regular node: inputs, outputs, attributes. */
static eos_status fill_node(eos_onnx_ctx *c, const eos_pb *r0, int id, const char *node) {
    eos_pb r = *r0;
    eos_pb_field f;
    int i_in = 0, i_out = 0, i_attr = 0;
    while (eos_pb_next(&r, &f, c->err) > 0) {   /* validated by scan_node */
        const char *name;
        eos_node *n = &c->g->nodes[id];
        if (f.num == 1) {
            EOS_TRY(eos_onnx_string(c, &r, &f, EOS_ONNX_MAX_NAME, "input name", &name));
            EOS_TRY(input_value(c, name, &n->in[i_in++]));
        } else if (f.num == 2) {
            int v;
            EOS_TRY(eos_onnx_string(c, &r, &f, EOS_ONNX_MAX_NAME, "output name", &name));
            EOS_TRY(output_value(c, name, node, id, &v));
            c->g->values[v].producer = id;
            n->out[i_out++] = v;
        } else if (f.num == 5) {
            eos_attr a;
            EOS_TRY(parse_attr(c, &r, &f, node, i_attr, -1, &a));
            n = &c->g->nodes[id];
            for (int k = 0; k < i_attr; k++)
                if (!strcmp(n->attrs[k].name, a.name)) {
                    char shown[80];
                    return eos_err_set(c->err, EOS_PARSE, "%s has attribute '%s' twice", node,
                                       eos_onnx_show(shown, sizeof shown, a.name));
                }
            n->attrs[i_attr++] = a;
        }
    }
    return EOS_OK;
}

/* "2 to 3", "exactly 1", "at least 1" for an arity range. */
static void arity_text(char *buf, size_t cap, int lo, int hi) {
    if (lo == hi) snprintf(buf, cap, "exactly %d", lo);
    else if (hi >= 65535) snprintf(buf, cap, "at least %d", lo);
    else snprintf(buf, cap, "%d to %d", lo, hi);
}

eos_status eos_onnx_node(eos_onnx_ctx *c, const eos_pb *gr, const eos_pb_field *f, int index) {
    char where[EOS_ONNX_WHAT_MAX], node[128], sname[80], sop[80], sdom[80];
    node_scan s;
    eos_pb r;
    EOS_TRY(eos_onnx_want_wire(c, gr, f, EOS_PB_LEN, "node"));
    snprintf(where, sizeof where, "NodeProto #%d", index);
    eos_pb_sub(&r, gr, f, where);
    EOS_TRY(scan_node(c, &r, &s));
    eos_onnx_show(sname, sizeof sname, s.name);
    if (s.name[0]) {
        snprintf(where, sizeof where, "NodeProto '%s'", sname);
        snprintf(node, sizeof node, "node '%s'", sname);
    } else {
        snprintf(node, sizeof node, "node #%d (unnamed)", index);
    }
    eos_pb_sub(&r, gr, f, where);
    if (!s.op_type || !s.op_type[0]) return eos_err_set(c->err, EOS_PARSE, "%s has no op_type", node);
    eos_onnx_show(sop, sizeof sop, s.op_type);
    eos_onnx_show(sdom, sizeof sdom, s.domain);
    if (s.domain[0] && strcmp(s.domain, "ai.onnx"))
        return eos_err_set(c->err, EOS_UNSUPPORTED, "unsupported operator '%s' in %s (domain '%s'): only the "
                           "default ONNX domain is supported", sop, node, sdom);
    eos_op op = eos_op_from_name(s.op_type);
    if (op == EOS_OP_UNKNOWN)
        return eos_err_set(c->err, EOS_UNSUPPORTED, "unsupported operator '%s' in %s (domain '%s')", sop, node, sdom);
    int min_in, max_in, min_out, max_out;
    eos_op_arity(op, &min_in, &max_in, &min_out, &max_out);
    if (s.n_in < min_in || s.n_in > max_in || s.n_out < min_out || s.n_out > max_out) {
        char want_in[48], want_out[48];
        arity_text(want_in, sizeof want_in, min_in, max_in);
        arity_text(want_out, sizeof want_out, min_out, max_out);
        return eos_err_set(c->err, EOS_PARSE, "%s (%s) has %d input%s and %d output%s; %s takes %s input%s "
                           "and gives %s output%s", node, sop, s.n_in, s.n_in == 1 ? "" : "s", s.n_out,
                           s.n_out == 1 ? "" : "s", sop, want_in, max_in == 1 ? "" : "s", want_out,
                           max_out == 1 ? "" : "s");
    }
    if (op == EOS_OP_CONSTANT) return fold_constant(c, &r, &s, node);
    if (c->g->n_nodes >= EOS_ONNX_MAX_NODES)
        return eos_err_set(c->err, EOS_LIMIT, "the model has more than %d nodes", EOS_ONNX_MAX_NODES);
    int id = eos_graph_add_node(c->g, op, s.n_in, s.n_out);
    if (id < 0) return eos_err_set(c->err, EOS_NOMEM, "out of memory adding %s", node);
    eos_node *n = &c->g->nodes[id];
    n->name = s.name;
    n->op_type = s.op_type;
    n->opset = c->g->opset;
    n->n_attrs = s.n_attrs;
    n->attrs = eos_arena_alloc(&c->g->arena, (size_t)(s.n_attrs ? s.n_attrs : 1) * sizeof(eos_attr));
    if (!n->attrs) return eos_err_set(c->err, EOS_NOMEM, "out of memory adding %s", node);
    return fill_node(c, &r, id, node);
}
