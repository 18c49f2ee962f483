/*
 * src/onnx/onnx_parse.c - ModelProto and GraphProto: opsets, metadata, initializers, graph inputs
 * and outputs (the nodes are in onnx_node.c, tensors in onnx_tensor.c).
 *
 * Protobuf writers emit fields in field-number order, so in a real file the graph (ModelProto
 * field 7) comes before opset_import (8), and a graph's nodes (GraphProto field 1) come before
 * its initializers (5) and inputs (11). The importer therefore reads each message in several
 * passes, one per kind of field, in the order the meaning requires:
 *     ModelProto: opset_import -> metadata_props -> graph
 *     GraphProto: (validate, count) -> initializers -> inputs -> nodes -> outputs
 * A pass over a message only skips the fields it does not handle, which costs one varint per
 * field, so the passes are cheap. The first pass over a message validates its wire format, so
 * later passes cannot meet malformed bytes at that level.
 */
#include "onnx/onnx_internal.h"

#include <stdio.h>
#include <string.h>

#include "eosight/alloc.h"

/* ------------------------------------------------------------------ shared helpers */

const char *eos_onnx_show(char *buf, size_t cap, const char *s) {
    size_t keep = cap - 4 < 60 ? cap - 4 : 60, i = 0;
    for (; s[i] && i < keep; i++) {
        unsigned char ch = (unsigned char)s[i];
        buf[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    if (s[i]) {
        memcpy(buf + i, "...", 3);
        i += 3;
    }
    buf[i] = '\0';
    return buf;
}

eos_status eos_onnx_want_wire(eos_onnx_ctx *c, const eos_pb *r, const eos_pb_field *f, int wire,
                              const char *field_name) {
    if (f->wire == wire) return EOS_OK;
    return eos_err_set(c->err, EOS_PARSE, "field %s (%u) at byte %zu in %s has wire type %s, expected %s",
                       field_name, f->num, f->pos, r->where, eos_pb_wire_name(f->wire),
                       eos_pb_wire_name(wire));
}

eos_status eos_onnx_string(eos_onnx_ctx *c, const eos_pb *r, const eos_pb_field *f,
                           size_t max_len, const char *what, const char **out) {
    if (max_len && f->len > max_len)
        return eos_err_set(c->err, EOS_LIMIT, "%s at byte %zu in %s is %zu bytes long, the limit is %zu",
                           what, f->pos, r->where, f->len, max_len);
    if (f->len && memchr(f->data, 0, f->len))
        return eos_err_set(c->err, EOS_PARSE, "%s at byte %zu in %s contains a NUL byte", what, f->pos,
                           r->where);
    char *s = eos_arena_strndup(&c->g->arena, (const char *)f->data, f->len);
    if (!s) return eos_err_set(c->err, EOS_NOMEM, "out of memory copying %s", what);
    *out = s;
    return EOS_OK;
}

int eos_onnx_new_value(eos_onnx_ctx *c, const char *name) {
    if (c->g->n_values >= EOS_ONNX_MAX_VALUES) {
        eos_err_set(c->err, EOS_LIMIT, "the model has more than %d values", EOS_ONNX_MAX_VALUES);
        return -1;
    }
    int v = eos_graph_add_value(c->g, name);
    if (v < 0) eos_err_set(c->err, EOS_NOMEM, "out of memory adding value %d", c->g->n_values);
    return v;
}

/* ------------------------------------------------------------------ value info */

typedef struct value_info {
    const char *name;
    bool        has_type;    /* a tensor_type with a non-zero elem_type */
    int64_t     elem_type;
    int         ndim;        /* -1 without shape */
    int64_t     dims[EOS_MAX_DIMS];
} value_info;

static eos_status parse_shape(eos_onnx_ctx *c, const eos_pb *r, const eos_pb_field *f,
                              const char *what, value_info *vi) {
    eos_pb s;
    eos_pb_sub(&s, r, f, what);
    eos_pb_field df;
    int rc;
    vi->ndim = 0;
    while ((rc = eos_pb_next(&s, &df, c->err)) > 0) {
        if (df.num != 1) continue;
        EOS_TRY(eos_onnx_want_wire(c, &s, &df, EOS_PB_LEN, "dim"));
        if (vi->ndim == EOS_MAX_DIMS)
            return eos_err_set(c->err, EOS_LIMIT, "%s has more than %d dims", what, EOS_MAX_DIMS);
        int64_t d = -1;   /* dim_param or nothing: symbolic / unknown */
        eos_pb dim;
        eos_pb_sub(&dim, &s, &df, what);
        eos_pb_field xf;
        while ((rc = eos_pb_next(&dim, &xf, c->err)) > 0) {
            if (xf.num == 1) {
                EOS_TRY(eos_onnx_want_wire(c, &dim, &xf, EOS_PB_VARINT, "dim_value"));
                d = (int64_t)xf.u;
                if (d < 0)
                    return eos_err_set(c->err, EOS_PARSE, "%s has negative dim %lld", what, (long long)d);
            } else if (xf.num == 2) {
                EOS_TRY(eos_onnx_want_wire(c, &dim, &xf, EOS_PB_LEN, "dim_param"));
                d = -1;
            }
        }
        if (rc < 0) return c->err->status;
        vi->dims[vi->ndim++] = d;
    }
    return rc < 0 ? c->err->status : EOS_OK;
}

static eos_status parse_tensor_type(eos_onnx_ctx *c, const eos_pb *r, const eos_pb_field *f,
                                    const char *what, value_info *vi) {
    eos_pb t;
    eos_pb_sub(&t, r, f, what);
    eos_pb_field tf;
    int rc;
    while ((rc = eos_pb_next(&t, &tf, c->err)) > 0) {
        if (tf.num == 1) {
            EOS_TRY(eos_onnx_want_wire(c, &t, &tf, EOS_PB_VARINT, "elem_type"));
            vi->elem_type = (int64_t)tf.u;
            vi->has_type = vi->elem_type != 0;
        } else if (tf.num == 2) {
            EOS_TRY(eos_onnx_want_wire(c, &t, &tf, EOS_PB_LEN, "shape"));
            EOS_TRY(parse_shape(c, &t, &tf, what, vi));
        }
    }
    return rc < 0 ? c->err->status : EOS_OK;
}

static eos_status parse_type(eos_onnx_ctx *c, const eos_pb *r, const eos_pb_field *f,
                             const char *what, value_info *vi) {
    eos_pb t;
    eos_pb_sub(&t, r, f, what);
    eos_pb_field tf;
    int rc;
    while ((rc = eos_pb_next(&t, &tf, c->err)) > 0) {
        const char *kind = NULL;
        switch (tf.num) {
        case 1:
            EOS_TRY(eos_onnx_want_wire(c, &t, &tf, EOS_PB_LEN, "tensor_type"));
            EOS_TRY(parse_tensor_type(c, &t, &tf, what, vi));
            break;
        case 4: kind = "a sequence"; break;
        case 5: kind = "a map"; break;
        case 8: kind = "a sparse tensor"; break;
        case 9: kind = "an optional"; break;
        default: break;
        }
        if (kind)
            return eos_err_set(c->err, EOS_UNSUPPORTED, "%s is %s; only dense tensors are supported",
                               what, kind);
    }
    return rc < 0 ? c->err->status : EOS_OK;
}

/* ValueInfoProto in f: name and, when present, tensor type and shape. kind: "graph input". */
static eos_status parse_value_info(eos_onnx_ctx *c, const eos_pb *r, const eos_pb_field *f,
                                   const char *kind, int index, value_info *vi) {
    char what[EOS_ONNX_WHAT_MAX], shown[80];
    memset(vi, 0, sizeof *vi);
    vi->ndim = -1;
    snprintf(what, sizeof what, "%s #%d", kind, index);
    eos_pb v;
    eos_pb_sub(&v, r, f, what);
    eos_pb_field vf;
    int rc;
    while ((rc = eos_pb_next(&v, &vf, c->err)) > 0)   /* the name first, for the messages */
        if (vf.num == 1) {
            EOS_TRY(eos_onnx_want_wire(c, &v, &vf, EOS_PB_LEN, "name"));
            EOS_TRY(eos_onnx_string(c, &v, &vf, EOS_ONNX_MAX_NAME, "name", &vi->name));
        }
    if (rc < 0) return c->err->status;
    if (!vi->name || !vi->name[0])
        return eos_err_set(c->err, EOS_PARSE, "%s has no name", what);
    snprintf(what, sizeof what, "%s '%s'", kind, eos_onnx_show(shown, sizeof shown, vi->name));
    eos_pb_sub(&v, r, f, what);
    while ((rc = eos_pb_next(&v, &vf, c->err)) > 0)
        if (vf.num == 2) {
            EOS_TRY(eos_onnx_want_wire(c, &v, &vf, EOS_PB_LEN, "type"));
            EOS_TRY(parse_type(c, &v, &vf, what, vi));
        }
    return rc < 0 ? c->err->status : EOS_OK;
}

/* dtype of a declared elem_type, EOS_UNSUPPORTED naming the value when eosight has none. */
static eos_status elem_dtype(eos_onnx_ctx *c, const value_info *vi, const char *kind, eos_dtype *dt) {
    char shown[80];
    *dt = vi->elem_type > 0 && vi->elem_type <= INT32_MAX ? eos_dtype_from_onnx((int)vi->elem_type)
                                                          : EOS_DTYPE_UNDEFINED;
    if (*dt == EOS_DTYPE_UNDEFINED)
        return eos_err_set(c->err, EOS_UNSUPPORTED, "%s '%s' has ONNX element type %lld, which eosight does not support",
                           kind, eos_onnx_show(shown, sizeof shown, vi->name), (long long)vi->elem_type);
    return EOS_OK;
}

static eos_status parse_input(eos_onnx_ctx *c, const eos_pb *r, const eos_pb_field *f, int index) {
    value_info vi;
    char shown[80];
    EOS_TRY(parse_value_info(c, r, f, "graph input", index, &vi));
    eos_onnx_show(shown, sizeof shown, vi.name);
    int v = eos_graph_find_value(c->g, vi.name);
    if (v >= 0 && (c->g->values[v].flags & EOS_VAL_CONST))
        return EOS_OK;   /* an initializer listed as input (IR < 4 exporters): a constant */
    if (v >= 0)
        return eos_err_set(c->err, EOS_PARSE, "graph input '%s' is declared twice", shown);
    if (!vi.has_type)
        return eos_err_set(c->err, EOS_PARSE, "graph input '%s' has no tensor element type", shown);
    eos_dtype dt;
    EOS_TRY(elem_dtype(c, &vi, "graph input", &dt));
    if ((v = eos_onnx_new_value(c, vi.name)) < 0) return c->err->status;
    eos_value *val = &c->g->values[v];
    val->dtype = dt;
    val->ndim = vi.ndim;
    memcpy(val->dims, vi.dims, sizeof vi.dims);
    val->flags |= EOS_VAL_INPUT;
    c->g->inputs[c->g->n_inputs++] = v;
    return EOS_OK;
}

static eos_status parse_output(eos_onnx_ctx *c, const eos_pb *r, const eos_pb_field *f, int index) {
    value_info vi;
    char shown[80];
    EOS_TRY(parse_value_info(c, r, f, "graph output", index, &vi));
    int v = eos_graph_find_value(c->g, vi.name);
    if (v >= 0 && (c->g->values[v].flags & EOS_VAL_OUTPUT))
        return eos_err_set(c->err, EOS_PARSE, "graph output '%s' is declared twice",
                           eos_onnx_show(shown, sizeof shown, vi.name));
    if (v < 0 && (v = eos_onnx_new_value(c, vi.name)) < 0) return c->err->status;
    eos_value *val = &c->g->values[v];
    if (!(val->flags & (EOS_VAL_CONST | EOS_VAL_INPUT))) {   /* those know their own type */
        if (vi.has_type) EOS_TRY(elem_dtype(c, &vi, "graph output", &val->dtype));
        val->ndim = vi.ndim;
        memcpy(val->dims, vi.dims, sizeof vi.dims);
    }
    val->flags |= EOS_VAL_OUTPUT;
    c->g->outputs[c->g->n_outputs++] = v;
    return EOS_OK;
}

/* ------------------------------------------------------------------ graph */

static eos_status parse_initializer(eos_onnx_ctx *c, const eos_pb *r, const eos_pb_field *f,
                                    int index) {
    char what[EOS_ONNX_WHAT_MAX], shown[80];
    const char *name;
    snprintf(what, sizeof what, "initializer #%d", index);
    EOS_TRY(eos_onnx_tensor_name(c, r, f, what, &name));
    if (!name[0]) return eos_err_set(c->err, EOS_PARSE, "initializer #%d has no name", index);
    snprintf(what, sizeof what, "initializer '%s'", eos_onnx_show(shown, sizeof shown, name));
    if (eos_graph_find_value(c->g, name) >= 0)
        return eos_err_set(c->err, EOS_PARSE, "%s is defined twice", what);
    int v = eos_onnx_new_value(c, name);
    if (v < 0) return c->err->status;
    return eos_onnx_tensor(c, r, f, what, v);
}

typedef struct graph_counts { int node, init, input, output; } graph_counts;

/* First pass: validate the GraphProto's fields, find its name, count each kind. */
static eos_status scan_graph(eos_onnx_ctx *c, eos_pb *gr, char *where, size_t where_cap,
                             graph_counts *n) {
    eos_pb_field f;
    int rc;
    char shown[80];
    memset(n, 0, sizeof *n);
    while ((rc = eos_pb_next(gr, &f, c->err)) > 0) {
        int *count = NULL;
        switch (f.num) {
        case 1:  count = &n->node; break;
        case 5:  count = &n->init; break;
        case 11: count = &n->input; break;
        case 12: count = &n->output; break;
        case 2: {
            const char *name;
            EOS_TRY(eos_onnx_want_wire(c, gr, &f, EOS_PB_LEN, "name"));
            EOS_TRY(eos_onnx_string(c, gr, &f, EOS_ONNX_MAX_NAME, "graph name", &name));
            snprintf(where, where_cap, "GraphProto '%s'", eos_onnx_show(shown, sizeof shown, name));
            break;
        }
        case 15:
            return eos_err_set(c->err, EOS_UNSUPPORTED, "%s has sparse initializers, which are not supported",
                               where);
        default: break;
        }
        if (!count) continue;
        EOS_TRY(eos_onnx_want_wire(c, gr, &f, EOS_PB_LEN, f.num == 1 ? "node" : f.num == 5 ? "initializer"
                                                          : f.num == 11 ? "input" : "output"));
        if (*count >= EOS_ONNX_MAX_NODES)
            return eos_err_set(c->err, EOS_LIMIT, "%s has more than %d entries in field %u", where,
                               EOS_ONNX_MAX_NODES, f.num);
        (*count)++;
    }
    return rc < 0 ? c->err->status : EOS_OK;
}

/* Run `fn` on every occurrence of field `num` of the graph, counting from 0. */
static eos_status graph_pass(eos_onnx_ctx *c, const eos_pb *gr, uint32_t num,
                             eos_status (*fn)(eos_onnx_ctx *, const eos_pb *, const eos_pb_field *, int)) {
    eos_pb r = *gr;
    eos_pb_field f;
    int i = 0;
    while (eos_pb_next(&r, &f, c->err) > 0)   /* validated by scan_graph */
        if (f.num == num) EOS_TRY(fn(c, &r, &f, i++));
    return EOS_OK;
}

static eos_status parse_graph(eos_onnx_ctx *c, const eos_pb *mr, const eos_pb_field *gf) {
    char where[EOS_ONNX_WHAT_MAX] = "GraphProto";
    eos_pb gr;
    graph_counts n;
    eos_pb_sub(&gr, mr, gf, where);
    EOS_TRY(scan_graph(c, &gr, where, sizeof where, &n));
    eos_pb_sub(&gr, mr, gf, where);   /* `where` now has the graph's name */
    c->g->inputs = eos_arena_alloc(&c->g->arena, (size_t)(n.input + 1) * sizeof(int));
    c->g->outputs = eos_arena_alloc(&c->g->arena, (size_t)(n.output + 1) * sizeof(int));
    if (!c->g->inputs || !c->g->outputs)
        return eos_err_set(c->err, EOS_NOMEM, "out of memory for graph inputs and outputs");
    EOS_TRY(graph_pass(c, &gr, 5, parse_initializer));
    EOS_TRY(graph_pass(c, &gr, 11, parse_input));
    EOS_TRY(graph_pass(c, &gr, 1, eos_onnx_node));
    EOS_TRY(graph_pass(c, &gr, 12, parse_output));
    if (n.output == 0) return eos_err_set(c->err, EOS_PARSE, "%s has no outputs", where);
    return EOS_OK;
}

/* ------------------------------------------------------------------ model */

/* OperatorSetIdProto: the default domain's version goes to *opset. */
static eos_status parse_opset(eos_onnx_ctx *c, const eos_pb *mr, const eos_pb_field *f,
                              int64_t *opset) {
    eos_pb r;
    eos_pb_sub(&r, mr, f, "OperatorSetIdProto");
    eos_pb_field of;
    const char *domain = "";
    int64_t version = 0;
    int rc;
    while ((rc = eos_pb_next(&r, &of, c->err)) > 0) {
        if (of.num == 1) {
            EOS_TRY(eos_onnx_want_wire(c, &r, &of, EOS_PB_LEN, "domain"));
            EOS_TRY(eos_onnx_string(c, &r, &of, EOS_ONNX_MAX_NAME, "opset domain", &domain));
        } else if (of.num == 2) {
            EOS_TRY(eos_onnx_want_wire(c, &r, &of, EOS_PB_VARINT, "version"));
            version = (int64_t)of.u;
        }
    }
    if (rc < 0) return c->err->status;
    if (domain[0] && strcmp(domain, "ai.onnx")) return EOS_OK;   /* other domains: nodes refuse */
    if (*opset && *opset != version)
        return eos_err_set(c->err, EOS_PARSE, "the model imports the default ONNX domain twice (opsets %lld and %lld)",
                           (long long)*opset, (long long)version);
    if (version < 7 || version > 20)
        return eos_err_set(c->err, EOS_UNSUPPORTED, "the model uses ONNX opset %lld; eosight reads opsets 7 to 20 "
                           "and targets 11-18", (long long)version);
    *opset = version;
    return EOS_OK;
}

static eos_status parse_meta(eos_onnx_ctx *c, const eos_pb *mr, const eos_pb_field *f, int i) {
    eos_pb r;
    char what[64];
    snprintf(what, sizeof what, "metadata_props #%d", i);
    eos_pb_sub(&r, mr, f, what);
    eos_pb_field ef;
    const char *key = "", *value = "";
    int rc;
    while ((rc = eos_pb_next(&r, &ef, c->err)) > 0) {
        if (ef.num != 1 && ef.num != 2) continue;
        EOS_TRY(eos_onnx_want_wire(c, &r, &ef, EOS_PB_LEN, ef.num == 1 ? "key" : "value"));
        EOS_TRY(eos_onnx_string(c, &r, &ef, ef.num == 1 ? EOS_ONNX_MAX_NAME : 0,
                                ef.num == 1 ? "metadata key" : "metadata value",
                                ef.num == 1 ? &key : &value));
    }
    if (rc < 0) return c->err->status;
    c->g->meta_keys[c->g->n_meta] = key;
    c->g->meta_values[c->g->n_meta] = value;
    c->g->n_meta++;
    return EOS_OK;
}

static eos_status parse_model(eos_onnx_ctx *c, size_t size) {
    eos_pb r;
    eos_pb_field f, graph;
    int rc, n_graph = 0, n_meta = 0;
    int64_t opset = 0;
    eos_pb_init(&r, c->base, c->base, size, "ModelProto");
    while ((rc = eos_pb_next(&r, &f, c->err)) > 0) {
        switch (f.num) {
        case 7:
            EOS_TRY(eos_onnx_want_wire(c, &r, &f, EOS_PB_LEN, "graph"));
            graph = f;
            n_graph++;
            break;
        case 8:
            EOS_TRY(eos_onnx_want_wire(c, &r, &f, EOS_PB_LEN, "opset_import"));
            EOS_TRY(parse_opset(c, &r, &f, &opset));
            break;
        case 14:
            EOS_TRY(eos_onnx_want_wire(c, &r, &f, EOS_PB_LEN, "metadata_props"));
            if (n_meta >= EOS_ONNX_MAX_VALUES)
                return eos_err_set(c->err, EOS_LIMIT, "more than %d metadata_props", EOS_ONNX_MAX_VALUES);
            n_meta++;
            break;
        case 1: case 5:
            EOS_TRY(eos_onnx_want_wire(c, &r, &f, EOS_PB_VARINT, f.num == 1 ? "ir_version" : "model_version"));
            break;
        case 2: case 3: case 4: case 6:
            EOS_TRY(eos_onnx_want_wire(c, &r, &f, EOS_PB_LEN, "producer/domain/doc_string"));
            break;
        default: break;   /* training_info, functions, unknown fields */
        }
    }
    if (rc < 0) return c->err->status;
    if (!n_graph) return eos_err_set(c->err, EOS_PARSE, "not an ONNX model: ModelProto has no graph");
    if (n_graph > 1) return eos_err_set(c->err, EOS_PARSE, "ModelProto has %d graph fields", n_graph);
    if (!opset)
        return eos_err_set(c->err, EOS_PARSE, "ModelProto has no opset_import for the default ONNX domain");
    c->g->opset = (int)opset;
    if (n_meta) {
        c->g->meta_keys = eos_arena_alloc(&c->g->arena, (size_t)n_meta * sizeof(char *));
        c->g->meta_values = eos_arena_alloc(&c->g->arena, (size_t)n_meta * sizeof(char *));
        if (!c->g->meta_keys || !c->g->meta_values)
            return eos_err_set(c->err, EOS_NOMEM, "out of memory for metadata");
        eos_pb_init(&r, c->base, c->base, size, "ModelProto");
        int i = 0;
        while (eos_pb_next(&r, &f, c->err) > 0)
            if (f.num == 14) EOS_TRY(parse_meta(c, &r, &f, i++));
    }
    return parse_graph(c, &r, &graph);
}

eos_status eos_onnx_parse(const void *buf, size_t size, const char *base_dir, eos_graph *g,
                          eos_err *err) {
    eos_err local;
    if (!err) err = &local;
    eos_err_clear(err);
    if (!g || (!buf && size)) return eos_err_set(err, EOS_INVALID_ARG, "eos_onnx_parse: NULL graph or buffer");
    if (g->n_values || g->n_nodes) return eos_err_set(err, EOS_INVALID_ARG, "eos_onnx_parse: graph is not empty");
    if (size == 0) return eos_err_set(err, EOS_PARSE, "not an ONNX model: the input is empty");
    eos_onnx_ctx c = { g, err, (const uint8_t *)buf, base_dir };
    return parse_model(&c, size);
}
