/*
 * tests/common/onnx_builder.c - protobuf writer for ONNX test models (see onnx_builder.h).
 *
 * Each part of the model is kept as already-encoded protobuf fields in its own growable
 * buffer (opset imports, metadata, initializers, inputs, outputs, one buffer pair per node);
 * onnxb_finish concatenates them in field-number order, wrapping the graph and the nodes in
 * their length-delimited envelopes. Field numbers are those of onnx.proto.
 */
#include "common/onnx_builder.h"

#include <stdio.h>
#include <string.h>

#include "eosight/alloc.h"

typedef struct obuf {
    uint8_t *p;
    size_t   n, cap;
} obuf;

typedef struct onode {
    obuf io;       /* input (1) and output (2) fields */
    obuf attrs;    /* attribute (5) fields */
    obuf extra;    /* raw bytes */
    char *name, *op_type, *domain;
} onode;

struct onnxb {
    bool    failed;
    bool    packed;
    int64_t ir_version;
    char   *producer, *producer_version, *graph_name;
    obuf    opsets, meta, inits, inputs, outputs, graph_extra, model_extra;
    onode  *nodes;
    int     n_nodes, cap_nodes;
};

/* ------------------------------------------------------------------ encoding */

static void put(onnxb *b, obuf *o, const void *d, size_t n) {
    if (b->failed || !n) return;
    if (o->n + n > o->cap) {
        size_t cap = o->cap ? o->cap : 64;
        while (cap < o->n + n) cap *= 2;
        uint8_t *p = eos_realloc(o->p, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        o->p = p;
        o->cap = cap;
    }
    memcpy(o->p + o->n, d, n);
    o->n += n;
}

static void put_varint(onnxb *b, obuf *o, uint64_t v) {
    uint8_t tmp[10];
    int n = 0;
    do {
        tmp[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v) tmp[n] |= 0x80;
        n++;
    } while (v);
    put(b, o, tmp, (size_t)n);
}

static void put_tag(onnxb *b, obuf *o, uint32_t field, int wire) {
    put_varint(b, o, ((uint64_t)field << 3) | (uint64_t)wire);
}

static void put_int_field(onnxb *b, obuf *o, uint32_t field, int64_t v) {
    put_tag(b, o, field, 0);
    put_varint(b, o, (uint64_t)v);
}

static void put_bytes_field(onnxb *b, obuf *o, uint32_t field, const void *d, size_t n) {
    put_tag(b, o, field, 2);
    put_varint(b, o, n);
    put(b, o, d, n);
}

static void put_str_field(onnxb *b, obuf *o, uint32_t field, const char *s) {
    put_bytes_field(b, o, field, s, strlen(s));
}

static void put_le(onnxb *b, obuf *o, uint64_t v, int n) {
    uint8_t tmp[8];
    for (int i = 0; i < n; i++) tmp[i] = (uint8_t)(v >> (8 * i));
    put(b, o, tmp, (size_t)n);
}

/* A repeated scalar field (wire 0 varint, 1 fixed64, 5 fixed32) of n raw values, packed or not. */
static void put_repeated(onnxb *b, obuf *o, uint32_t field, int wire, const uint64_t *v, int64_t n) {
    int fixed = wire == 1 ? 8 : wire == 5 ? 4 : 0;
    if (!b->packed) {
        for (int64_t i = 0; i < n; i++) {
            put_tag(b, o, field, wire);
            if (fixed) put_le(b, o, v[i], fixed);
            else put_varint(b, o, v[i]);
        }
        return;
    }
    obuf tmp = { 0 };
    for (int64_t i = 0; i < n; i++) {
        if (fixed) put_le(b, &tmp, v[i], fixed);
        else put_varint(b, &tmp, v[i]);
    }
    put_bytes_field(b, o, field, tmp.p, tmp.n);
    eos_free(tmp.p);
}

static char *dup(onnxb *b, const char *s) {
    if (!s) return NULL;
    char *d = eos_strdup(s);
    if (!d) b->failed = true;
    return d;
}

static uint64_t *u64_array(onnxb *b, int64_t n) {
    uint64_t *u = eos_malloc((size_t)(n > 0 ? n : 1) * sizeof *u);
    if (!u) b->failed = true;
    return u;
}

/* ------------------------------------------------------------------ life cycle */

onnxb *onnxb_new(int opset) {
    onnxb *b = eos_calloc(1, sizeof *b);
    if (!b) return NULL;
    b->packed = true;
    b->ir_version = 8;
    if (opset > 0) onnxb_opset_import(b, "", opset);
    return b;
}

static void obuf_free(obuf *o) { eos_free(o->p); }

void onnxb_free(onnxb *b) {
    if (!b) return;
    for (int i = 0; i < b->n_nodes; i++) {
        onode *n = &b->nodes[i];
        obuf_free(&n->io); obuf_free(&n->attrs); obuf_free(&n->extra);
        eos_free(n->name); eos_free(n->op_type); eos_free(n->domain);
    }
    eos_free(b->nodes);
    obuf_free(&b->opsets); obuf_free(&b->meta); obuf_free(&b->inits); obuf_free(&b->inputs);
    obuf_free(&b->outputs); obuf_free(&b->graph_extra); obuf_free(&b->model_extra);
    eos_free(b->producer); eos_free(b->producer_version); eos_free(b->graph_name);
    eos_free(b);
}

/* ------------------------------------------------------------------ model-level fields */

void onnxb_opset_import(onnxb *b, const char *domain, int64_t version) {
    obuf e = { 0 };
    put_str_field(b, &e, 1, domain);
    put_int_field(b, &e, 2, version);
    put_bytes_field(b, &b->opsets, 8, e.p, e.n);
    obuf_free(&e);
}

void onnxb_ir_version(onnxb *b, int64_t ir_version) { b->ir_version = ir_version; }

void onnxb_producer(onnxb *b, const char *name, const char *version) {
    eos_free(b->producer);
    eos_free(b->producer_version);
    b->producer = dup(b, name);
    b->producer_version = dup(b, version);
}

void onnxb_meta(onnxb *b, const char *key, const char *value) {
    obuf e = { 0 };
    put_str_field(b, &e, 1, key);
    put_str_field(b, &e, 2, value);
    put_bytes_field(b, &b->meta, 14, e.p, e.n);
    obuf_free(&e);
}

void onnxb_graph_name(onnxb *b, const char *name) {
    eos_free(b->graph_name);
    b->graph_name = dup(b, name);
}

void onnxb_set_packed(onnxb *b, bool packed) { b->packed = packed; }

/* ------------------------------------------------------------------ value infos */

static void value_info(onnxb *b, obuf *dst, uint32_t field, const char *name, eos_dtype dt,
                       int ndim, const int64_t *dims) {
    obuf vi = { 0 }, type = { 0 }, tensor = { 0 }, shape = { 0 };
    put_str_field(b, &vi, 1, name);
    if (dt != EOS_DTYPE_UNDEFINED) {
        put_int_field(b, &tensor, 1, eos_dtype_to_onnx(dt));
        if (ndim >= 0) {
            for (int i = 0; i < ndim; i++) {
                obuf dim = { 0 };
                char param[16];
                if (dims[i] >= 0) {
                    put_int_field(b, &dim, 1, dims[i]);
                } else if (dims[i] == -1) {
                    if (i == 0) snprintf(param, sizeof param, "N");
                    else snprintf(param, sizeof param, "d%d", i);
                    put_str_field(b, &dim, 2, param);
                }
                put_bytes_field(b, &shape, 1, dim.p, dim.n);
                obuf_free(&dim);
            }
            put_bytes_field(b, &tensor, 2, shape.p, shape.n);
        }
        put_bytes_field(b, &type, 1, tensor.p, tensor.n);
        put_bytes_field(b, &vi, 2, type.p, type.n);
    }
    put_bytes_field(b, dst, field, vi.p, vi.n);
    obuf_free(&vi); obuf_free(&type); obuf_free(&tensor); obuf_free(&shape);
}

void onnxb_input(onnxb *b, const char *name, eos_dtype dt, int ndim, const int64_t *dims) {
    value_info(b, &b->inputs, 11, name, dt, ndim, dims);
}

void onnxb_output(onnxb *b, const char *name, eos_dtype dt, int ndim, const int64_t *dims) {
    value_info(b, &b->outputs, 12, name, dt, ndim, dims);
}

/* ------------------------------------------------------------------ tensors */

static int64_t numel(int ndim, const int64_t *dims) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= dims[i];
    return n;
}

/* TensorProto header: dims (1), data_type (2), name (8, when not NULL). */
static void tensor_head(onnxb *b, obuf *t, const char *name, eos_dtype dt, int ndim,
                        const int64_t *dims) {
    if (ndim > 0) {
        uint64_t *u = u64_array(b, ndim);
        if (!u) return;
        for (int i = 0; i < ndim; i++) u[i] = (uint64_t)dims[i];
        put_repeated(b, t, 1, 0, u, ndim);
        eos_free(u);
    }
    put_int_field(b, t, 2, eos_dtype_to_onnx(dt));
    if (name) put_str_field(b, t, 8, name);
}

/* Typed data fields for n elements of dt. */
static void tensor_typed(onnxb *b, obuf *t, eos_dtype dt, const void *data, int64_t n) {
    uint64_t *u = u64_array(b, n);
    if (!u) return;
    uint32_t field = 5;   /* int32_data, varints */
    int wire = 0;
    for (int64_t i = 0; i < n; i++) {
        switch (dt) {
        case EOS_DTYPE_F32: {
            uint32_t bits;
            memcpy(&bits, (const float *)data + i, 4);
            u[i] = bits;
            break;
        }
        case EOS_DTYPE_I64:  u[i] = (uint64_t)((const int64_t *)data)[i]; break;
        case EOS_DTYPE_F64:  memcpy(&u[i], (const double *)data + i, 8); break;
        case EOS_DTYPE_I32:  u[i] = (uint64_t)(int64_t)((const int32_t *)data)[i]; break;
        case EOS_DTYPE_I16:  u[i] = (uint64_t)(int64_t)((const int16_t *)data)[i]; break;
        case EOS_DTYPE_I8:   u[i] = (uint64_t)(int64_t)((const int8_t *)data)[i]; break;
        case EOS_DTYPE_U16: case EOS_DTYPE_F16: case EOS_DTYPE_BF16:
            u[i] = ((const uint16_t *)data)[i];
            break;
        default:             u[i] = ((const uint8_t *)data)[i]; break;   /* u8, bool */
        }
    }
    if (dt == EOS_DTYPE_F32) { field = 4; wire = 5; }
    if (dt == EOS_DTYPE_I64) field = 7;
    if (dt == EOS_DTYPE_F64) { field = 10; wire = 1; }
    put_repeated(b, t, field, wire, u, n);
    eos_free(u);
}

void onnxb_init_raw(onnxb *b, const char *name, eos_dtype dt, int ndim, const int64_t *dims,
                    const void *data, size_t nbytes) {
    obuf t = { 0 };
    tensor_head(b, &t, name, dt, ndim, dims);
    put_bytes_field(b, &t, 9, data, nbytes);
    put_bytes_field(b, &b->inits, 5, t.p, t.n);
    obuf_free(&t);
}

void onnxb_init_f32(onnxb *b, const char *name, int ndim, const int64_t *dims, const float *data) {
    onnxb_init_raw(b, name, EOS_DTYPE_F32, ndim, dims, data, (size_t)numel(ndim, dims) * 4);
}

void onnxb_init_i64(onnxb *b, const char *name, int ndim, const int64_t *dims, const int64_t *data) {
    onnxb_init_raw(b, name, EOS_DTYPE_I64, ndim, dims, data, (size_t)numel(ndim, dims) * 8);
}

void onnxb_init_typed(onnxb *b, const char *name, eos_dtype dt, int ndim, const int64_t *dims,
                      const void *data, int64_t n) {
    obuf t = { 0 };
    tensor_head(b, &t, name, dt, ndim, dims);
    tensor_typed(b, &t, dt, data, n);
    put_bytes_field(b, &b->inits, 5, t.p, t.n);
    obuf_free(&t);
}

static void ext_entry(onnxb *b, obuf *t, const char *key, const char *value) {
    obuf e = { 0 };
    put_str_field(b, &e, 1, key);
    put_str_field(b, &e, 2, value);
    put_bytes_field(b, t, 13, e.p, e.n);
    obuf_free(&e);
}

void onnxb_init_external(onnxb *b, const char *name, eos_dtype dt, int ndim, const int64_t *dims,
                         const char *location, int64_t offset, int64_t length) {
    obuf t = { 0 };
    char num[32];
    tensor_head(b, &t, name, dt, ndim, dims);
    ext_entry(b, &t, "location", location);
    if (offset >= 0) {
        snprintf(num, sizeof num, "%lld", (long long)offset);
        ext_entry(b, &t, "offset", num);
    }
    if (length >= 0) {
        snprintf(num, sizeof num, "%lld", (long long)length);
        ext_entry(b, &t, "length", num);
    }
    put_int_field(b, &t, 14, 1);
    put_bytes_field(b, &b->inits, 5, t.p, t.n);
    obuf_free(&t);
}

/* ------------------------------------------------------------------ nodes */

int onnxb_node(onnxb *b, const char *op_type, const char *name, const char *const *in, int n_in,
               const char *const *out, int n_out) {
    if (b->failed) return -1;
    if (b->n_nodes == b->cap_nodes) {
        int cap = b->cap_nodes ? 2 * b->cap_nodes : 16;
        onode *nn = eos_realloc(b->nodes, (size_t)cap * sizeof *nn);
        if (!nn) {
            b->failed = true;
            return -1;
        }
        b->nodes = nn;
        b->cap_nodes = cap;
    }
    onode *n = &b->nodes[b->n_nodes];
    memset(n, 0, sizeof *n);
    for (int i = 0; i < n_in; i++) put_str_field(b, &n->io, 1, in[i]);
    for (int i = 0; i < n_out; i++) put_str_field(b, &n->io, 2, out[i]);
    n->name = dup(b, name);
    n->op_type = dup(b, op_type);
    return b->n_nodes++;
}

static onode *node_at(onnxb *b, int node) {
    return !b->failed && node >= 0 && node < b->n_nodes ? &b->nodes[node] : NULL;
}

void onnxb_node_domain(onnxb *b, int node, const char *domain) {
    onode *n = node_at(b, node);
    if (!n) return;
    eos_free(n->domain);
    n->domain = dup(b, domain);
}

/* Wrap the attribute fields in `a` (after name and type) as attribute field 5 of the node. */
static void add_attr(onnxb *b, int node, const char *name, int type, obuf *payload) {
    onode *n = node_at(b, node);
    if (n) {
        obuf a = { 0 };
        put_str_field(b, &a, 1, name);
        put(b, &a, payload->p, payload->n);
        put_int_field(b, &a, 20, type);
        put_bytes_field(b, &n->attrs, 5, a.p, a.n);
        obuf_free(&a);
    }
    obuf_free(payload);
}

void onnxb_attr_int(onnxb *b, int node, const char *name, int64_t v) {
    obuf p = { 0 };
    put_int_field(b, &p, 3, v);
    add_attr(b, node, name, 2, &p);
}

void onnxb_attr_float(onnxb *b, int node, const char *name, float v) {
    obuf p = { 0 };
    uint32_t bits;
    memcpy(&bits, &v, 4);
    put_tag(b, &p, 2, 5);
    put_le(b, &p, bits, 4);
    add_attr(b, node, name, 1, &p);
}

void onnxb_attr_string(onnxb *b, int node, const char *name, const char *v) {
    obuf p = { 0 };
    put_str_field(b, &p, 4, v);
    add_attr(b, node, name, 3, &p);
}

void onnxb_attr_ints(onnxb *b, int node, const char *name, int n, const int64_t *v) {
    obuf p = { 0 };
    uint64_t *u = u64_array(b, n);
    if (u) {
        for (int i = 0; i < n; i++) u[i] = (uint64_t)v[i];
        put_repeated(b, &p, 8, 0, u, n);
    }
    eos_free(u);
    add_attr(b, node, name, 7, &p);
}

void onnxb_attr_floats(onnxb *b, int node, const char *name, int n, const float *v) {
    obuf p = { 0 };
    uint64_t *u = u64_array(b, n);
    if (u) {
        for (int i = 0; i < n; i++) {
            uint32_t bits;
            memcpy(&bits, &v[i], 4);
            u[i] = bits;
        }
        put_repeated(b, &p, 7, 5, u, n);
    }
    eos_free(u);
    add_attr(b, node, name, 6, &p);
}

void onnxb_attr_strings(onnxb *b, int node, const char *name, int n, const char *const *v) {
    obuf p = { 0 };
    for (int i = 0; i < n; i++) put_str_field(b, &p, 9, v[i]);
    add_attr(b, node, name, 8, &p);
}

void onnxb_attr_tensor(onnxb *b, int node, const char *name, eos_dtype dt, int ndim,
                       const int64_t *dims, const void *data) {
    obuf p = { 0 }, t = { 0 };
    tensor_head(b, &t, NULL, dt, ndim, dims);
    put_bytes_field(b, &t, 9, data, (size_t)numel(ndim, dims) * eos_dtype_size(dt));
    put_bytes_field(b, &p, 5, t.p, t.n);
    obuf_free(&t);
    add_attr(b, node, name, 4, &p);
}

void onnxb_attr_graph(onnxb *b, int node, const char *name) {
    obuf p = { 0 };
    put_bytes_field(b, &p, 6, "", 0);
    add_attr(b, node, name, 5, &p);
}

void onnxb_constant(onnxb *b, const char *name, eos_dtype dt, int ndim, const int64_t *dims,
                    const void *data) {
    int n = onnxb_node(b, "Constant", name, NULL, 0, (const char *const[]){ name }, 1);
    onnxb_attr_tensor(b, n, "value", dt, ndim, dims, data);
}

void onnxb_node_raw(onnxb *b, int node, const void *bytes, size_t len) {
    onode *n = node_at(b, node);
    if (n) put(b, &n->extra, bytes, len);
}

void onnxb_graph_raw(onnxb *b, const void *bytes, size_t len) { put(b, &b->graph_extra, bytes, len); }
void onnxb_model_raw(onnxb *b, const void *bytes, size_t len) { put(b, &b->model_extra, bytes, len); }

/* ------------------------------------------------------------------ output */

static void encode_node(onnxb *b, obuf *g, const onode *n) {
    obuf e = { 0 };
    put(b, &e, n->io.p, n->io.n);
    if (n->name) put_str_field(b, &e, 3, n->name);
    if (n->op_type) put_str_field(b, &e, 4, n->op_type);
    put(b, &e, n->attrs.p, n->attrs.n);
    if (n->domain) put_str_field(b, &e, 7, n->domain);
    put(b, &e, n->extra.p, n->extra.n);
    put_bytes_field(b, g, 1, e.p, e.n);
    obuf_free(&e);
}

eos_status onnxb_finish(onnxb *b, void **buf, size_t *size) {
    *buf = NULL;
    *size = 0;
    if (!b || b->failed) return EOS_NOMEM;
    obuf g = { 0 }, m = { 0 };
    for (int i = 0; i < b->n_nodes; i++) encode_node(b, &g, &b->nodes[i]);
    put_str_field(b, &g, 2, b->graph_name ? b->graph_name : "test_graph");
    put(b, &g, b->inits.p, b->inits.n);
    put(b, &g, b->inputs.p, b->inputs.n);
    put(b, &g, b->outputs.p, b->outputs.n);
    put(b, &g, b->graph_extra.p, b->graph_extra.n);

    put_int_field(b, &m, 1, b->ir_version);
    put_str_field(b, &m, 2, b->producer ? b->producer : "eosight-tests");
    if (b->producer_version) put_str_field(b, &m, 3, b->producer_version);
    put_bytes_field(b, &m, 7, g.p, g.n);
    put(b, &m, b->opsets.p, b->opsets.n);
    put(b, &m, b->meta.p, b->meta.n);
    put(b, &m, b->model_extra.p, b->model_extra.n);
    obuf_free(&g);
    if (b->failed) {
        obuf_free(&m);
        return EOS_NOMEM;
    }
    *buf = m.p;
    *size = m.n;
    return EOS_OK;
}

eos_status onnxb_save(onnxb *b, const char *path) {
    void *buf;
    size_t size;
    eos_status st = onnxb_finish(b, &buf, &size);
    if (st) return st;
    FILE *f = fopen(path, "wb");
    if (!f) {
        eos_free(buf);
        return EOS_IO;
    }
    size_t w = fwrite(buf, 1, size, f);
    int rc = fclose(f);
    eos_free(buf);
    return w == size && rc == 0 ? EOS_OK : EOS_IO;
}
