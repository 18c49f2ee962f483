/*
 * src/onnx/onnx_write.c - eos_graph -> ONNX ModelProto bytes (see onnx_write.h), the inverse of
 * the importer, with its own small protobuf encoder.
 *
 * Encoding in one paragraph: a field is a varint tag (number << 3 | wire type) and a payload;
 * sub-messages are LEN fields whose length precedes them. The writer appends a sub-message's
 * fields first and then inserts its length in front (moving the payload by the 1..10 bytes of
 * the varint), so nothing is sized twice and only three levels ever move (model > graph >
 * tensor); a ResNet-50 moves its 100 MB of weights about three times. Fields go in field-number
 * order and repeated scalars unpacked, as protobuf's own proto2 serializer writes onnx.proto, so
 * the bytes look like those of any exporter.
 *
 * What is written: ir_version 8, producer_name, the graph ("eosight": nodes in graph order,
 * initializers for the named constants that nodes or outputs read, in value order, then the
 * inputs and outputs with their ValueInfo), one opset_import for the default domain, and the
 * metadata. The importer reads these bytes back into the same graph (same value order, node
 * order, names, attributes and constant bits), so writing a re-read graph again gives the same
 * bytes.
 */
#include "onnx/onnx_write.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "eosight/alloc.h"
#include "ops/ops.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the ONNX writer stores raw_data as is and needs a little-endian host"
#endif

enum { W_VARINT = 0, W_LEN = 2, W_I32 = 5 };

/* AttributeProto.AttributeType */
enum {
    AT_FLOAT = 1, AT_INT = 2, AT_STRING = 3, AT_TENSOR = 4, AT_FLOATS = 6, AT_INTS = 7,
    AT_STRINGS = 8
};

/* Largest model written: protobuf messages (and the importer) stop at 2 GiB. */
#define MODEL_MAX_BYTES ((size_t)INT32_MAX)

/* ------------------------------------------------------------------ byte buffer */

typedef struct wbuf {
    uint8_t   *p;
    size_t     len, cap;
    eos_status st;      /* sticky: EOS_NOMEM / EOS_LIMIT */
} wbuf;

static bool reserve(wbuf *b, size_t n) {
    if (b->st) return false;
    if (n <= b->cap - b->len) return true;
    if (b->len > MODEL_MAX_BYTES || n > MODEL_MAX_BYTES - b->len) {
        b->st = EOS_LIMIT;
        return false;
    }
    size_t cap = b->cap ? b->cap : 65536;
    while (cap - b->len < n) cap *= 2;
    uint8_t *p = eos_realloc(b->p, cap);
    if (!p) {
        b->st = EOS_NOMEM;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

static void put_raw(wbuf *b, const void *d, size_t n) {
    if (!n || !reserve(b, n)) return;
    memcpy(b->p + b->len, d, n);
    b->len += n;
}

static int varint_enc(uint8_t *out, uint64_t v) {
    int k = 0;
    do {
        out[k++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    return k;
}

static void put_varint(wbuf *b, uint64_t v) {
    uint8_t tmp[10];
    put_raw(b, tmp, (size_t)varint_enc(tmp, v));
}

static void put_tag(wbuf *b, uint32_t num, int wire) {
    put_varint(b, (uint64_t)num << 3 | (uint64_t)wire);
}

static void put_int(wbuf *b, uint32_t num, int64_t v) {
    put_tag(b, num, W_VARINT);
    put_varint(b, (uint64_t)v);   /* negative: ten bytes of two's complement, as protobuf */
}

static void put_f32(wbuf *b, uint32_t num, float f) {
    uint32_t bits;
    memcpy(&bits, &f, 4);
    uint8_t le[4] = { (uint8_t)bits, (uint8_t)(bits >> 8), (uint8_t)(bits >> 16),
                      (uint8_t)(bits >> 24) };
    put_tag(b, num, W_I32);
    put_raw(b, le, 4);
}

static void put_bytes(wbuf *b, uint32_t num, const void *d, size_t n) {
    put_tag(b, num, W_LEN);
    put_varint(b, n);
    put_raw(b, d, n);
}

static void put_str(wbuf *b, uint32_t num, const char *s) { put_bytes(b, num, s, strlen(s)); }

/* Open sub-message field num; returns the payload start for msg_end. */
static size_t msg_begin(wbuf *b, uint32_t num) {
    put_tag(b, num, W_LEN);
    return b->len;
}

/* Close the sub-message started at `start`: insert its length before the payload. */
static void msg_end(wbuf *b, size_t start) {
    if (b->st) return;
    size_t n = b->len - start;
    uint8_t tmp[10];
    int k = varint_enc(tmp, n);
    if (!reserve(b, (size_t)k)) return;
    memmove(b->p + start + k, b->p + start, n);
    memcpy(b->p + start, tmp, (size_t)k);
    b->len += (size_t)k;
}

/* ------------------------------------------------------------------ writer state */

typedef struct wctx {
    const eos_graph *g;
    eos_err         *err;
    wbuf             b;
    const char     **names;     /* [n_values] name written for each value (synthesised for
                                   anonymous values that must be referenced) */
    bool            *used;      /* [n_values] read by a node or a graph output */
    char            *name_mem;  /* storage of synthesised names */
} wctx;

/* Names for every value: its own, "" for an anonymous value nobody reads (an unused optional
 * output), else "eos_anon_<id>" (with '_' appended until unique). */
static eos_status make_names(wctx *c) {
    const eos_graph *g = c->g;
    int n_anon = 0;
    c->names = eos_calloc((size_t)g->n_values + 1, sizeof(char *));
    c->used = eos_calloc((size_t)g->n_values + 1, sizeof(bool));
    if (!c->names || !c->used) return eos_err_set(c->err, EOS_NOMEM, "out of memory writing ONNX");
    for (int i = 0; i < g->n_outputs; i++) c->used[g->outputs[i]] = true;
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++)
            if (g->nodes[i].in[j] >= 0) c->used[g->nodes[i].in[j]] = true;
    for (int v = 0; v < g->n_values; v++) {
        c->names[v] = g->values[v].name;
        if (!c->names[v][0] && c->used[v]) n_anon++;
    }
    if (!n_anon) return EOS_OK;
    enum { SLOT = 48 };
    c->name_mem = eos_malloc((size_t)n_anon * SLOT);
    if (!c->name_mem) return eos_err_set(c->err, EOS_NOMEM, "out of memory writing ONNX");
    char *slot = c->name_mem;
    for (int v = 0; v < g->n_values; v++) {
        if (g->values[v].name[0] || !c->used[v]) continue;
        int k = snprintf(slot, SLOT, "eos_anon_%d", v);
        while (eos_graph_find_value(g, slot) >= 0 && k < SLOT - 1) slot[k++] = '_', slot[k] = '\0';
        c->names[v] = slot;
        slot += SLOT;
    }
    return EOS_OK;
}

/* ------------------------------------------------------------------ tensors and attributes */

/* TensorProto: dims (1), data_type (2), name (8, when given), raw_data (9). */
static eos_status put_tensor(wctx *c, uint32_t num, const char *name, eos_dtype dt, int ndim,
                             const int64_t *dims, const void *data, const char *what) {
    int onnx_type = eos_dtype_to_onnx(dt);
    if (!onnx_type)
        return eos_err_set(c->err, EOS_UNSUPPORTED, "%s has element type %s, which ONNX cannot "
                           "hold", what, eos_dtype_name(dt));
    if (!data) return eos_err_set(c->err, EOS_UNSUPPORTED, "%s has no data", what);
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= dims[i];
    size_t start = msg_begin(&c->b, num);
    for (int i = 0; i < ndim; i++) put_int(&c->b, 1, dims[i]);
    put_int(&c->b, 2, onnx_type);
    if (name && name[0]) put_str(&c->b, 8, name);
    put_bytes(&c->b, 9, data, (size_t)n * eos_dtype_size(dt));
    msg_end(&c->b, start);
    return EOS_OK;
}

static eos_status put_attr(wctx *c, const eos_node *n, const eos_attr *a) {
    char what[160];
    snprintf(what, sizeof what, "attribute '%.40s' of node '%.60s'", a->name, n->name);
    size_t start = msg_begin(&c->b, 5);
    put_str(&c->b, 1, a->name);
    int type = 0;
    switch (a->type) {
    case EOS_ATTR_FLOAT:  put_f32(&c->b, 2, a->f); type = AT_FLOAT; break;
    case EOS_ATTR_INT:    put_int(&c->b, 3, a->i); type = AT_INT; break;
    case EOS_ATTR_STRING: put_str(&c->b, 4, a->s ? a->s : ""); type = AT_STRING; break;
    case EOS_ATTR_TENSOR:
        EOS_TRY(put_tensor(c, 5, NULL, a->t_dtype, a->t_ndim, a->t_dims, a->t_data, what));
        type = AT_TENSOR;
        break;
    case EOS_ATTR_FLOATS:
        for (int64_t i = 0; i < a->n; i++) put_f32(&c->b, 7, a->floats[i]);
        type = AT_FLOATS;
        break;
    case EOS_ATTR_INTS:
        for (int64_t i = 0; i < a->n; i++) put_int(&c->b, 8, a->ints[i]);
        type = AT_INTS;
        break;
    case EOS_ATTR_STRINGS:
        for (int64_t i = 0; i < a->n; i++) put_str(&c->b, 9, a->strings[i]);
        type = AT_STRINGS;
        break;
    case EOS_ATTR_UNDEFINED:
        return eos_err_set(c->err, EOS_UNSUPPORTED, "%s has no type", what);
    }
    put_int(&c->b, 20, type);
    msg_end(&c->b, start);
    return EOS_OK;
}

/* ------------------------------------------------------------------ graph */

static eos_status put_node(wctx *c, const eos_node *n) {
    if (n->fuse.act != EOS_ACT_NONE || n->fuse.sum_in >= 0)
        return eos_err_set(c->err, EOS_UNSUPPORTED, "node '%s' (%s) has fused post-operations, "
                           "which ONNX cannot express: write graphs before planning", n->name,
                           n->op_type);
    size_t start = msg_begin(&c->b, 1);
    for (int i = 0; i < n->n_in; i++) put_str(&c->b, 1, n->in[i] < 0 ? "" : c->names[n->in[i]]);
    for (int i = 0; i < n->n_out; i++) put_str(&c->b, 2, n->out[i] < 0 ? "" : c->names[n->out[i]]);
    if (n->name && n->name[0]) put_str(&c->b, 3, n->name);
    put_str(&c->b, 4, n->op_type && n->op_type[0] ? n->op_type : eos_op_name(n->op));
    for (int i = 0; i < n->n_attrs; i++) EOS_TRY(put_attr(c, n, &n->attrs[i]));
    msg_end(&c->b, start);
    return EOS_OK;
}

/* ValueInfoProto of graph input/output k (field num): name, tensor type, shape. Symbolic dims:
 * axis 0 "N", other axes "d<k>_<axis>" (inputs) or "o<k>_<axis>" (outputs). */
static eos_status put_value_info(wctx *c, uint32_t num, int v, int k) {
    const eos_value *val = &c->g->values[v];
    size_t start = msg_begin(&c->b, num);
    put_str(&c->b, 1, c->names[v]);
    if (val->dtype != EOS_DTYPE_UNDEFINED) {
        int onnx_type = eos_dtype_to_onnx(val->dtype);
        if (!onnx_type)
            return eos_err_set(c->err, EOS_UNSUPPORTED, "graph %s '%s' has element type %s, "
                               "which ONNX cannot hold", num == 11 ? "input" : "output",
                               val->name, eos_dtype_name(val->dtype));
        size_t type = msg_begin(&c->b, 2), tensor = msg_begin(&c->b, 1);
        put_int(&c->b, 1, onnx_type);
        if (val->ndim >= 0) {
            size_t shape = msg_begin(&c->b, 2);
            for (int i = 0; i < val->ndim; i++) {
                size_t dim = msg_begin(&c->b, 1);
                if (val->dims[i] >= 0) {
                    put_int(&c->b, 1, val->dims[i]);
                } else {
                    char sym[32];
                    if (i == 0) snprintf(sym, sizeof sym, "N");
                    else snprintf(sym, sizeof sym, "%s%d_%d", num == 11 ? "d" : "o", k, i);
                    put_str(&c->b, 2, sym);
                }
                msg_end(&c->b, dim);
            }
            msg_end(&c->b, shape);
        }
        msg_end(&c->b, tensor);
        msg_end(&c->b, type);
    }
    msg_end(&c->b, start);
    return EOS_OK;
}

static eos_status put_graph(wctx *c) {
    const eos_graph *g = c->g;
    size_t start = msg_begin(&c->b, 7);
    for (int i = 0; i < g->n_nodes; i++) EOS_TRY(put_node(c, &g->nodes[i]));
    put_str(&c->b, 2, "eosight");
    for (int v = 0; v < g->n_values; v++) {
        const eos_value *val = &g->values[v];
        if (!(val->flags & EOS_VAL_CONST) || !c->used[v]) continue;
        char what[128];
        snprintf(what, sizeof what, "constant '%.80s'", c->names[v]);
        EOS_TRY(put_tensor(c, 5, c->names[v], val->dtype, val->ndim < 0 ? 0 : val->ndim, val->dims,
                           val->data, what));
    }
    for (int i = 0; i < g->n_inputs; i++) EOS_TRY(put_value_info(c, 11, g->inputs[i], i));
    for (int i = 0; i < g->n_outputs; i++) EOS_TRY(put_value_info(c, 12, g->outputs[i], i));
    msg_end(&c->b, start);
    return EOS_OK;
}

/* ------------------------------------------------------------------ model */

static void put_meta_entry(wctx *c, const char *key, const char *value) {
    size_t start = msg_begin(&c->b, 14);
    put_str(&c->b, 1, key);
    put_str(&c->b, 2, value ? value : "");
    msg_end(&c->b, start);
}

/* Index of the last given pair with this key, or -1. */
static int find_given(const char *const *keys, int n, const char *key) {
    for (int i = n - 1; i >= 0; i--)
        if (keys[i] && !strcmp(keys[i], key)) return i;
    return -1;
}

/* The graph's keys in order of first appearance, each once with its last value unless a given
 * pair has the same key (the given value wins); then the given keys the graph lacks. Of equal
 * keys the last value counts, as eos_model_meta reads them. */
static void put_meta(wctx *c, const char *const *keys, const char *const *values, int n) {
    const eos_graph *g = c->g;
    for (int i = 0; i < g->n_meta; i++) {
        const char *key = g->meta_keys[i];
        if (find_given(g->meta_keys, i, key) >= 0) continue;   /* written at its first place */
        int k = find_given(keys, n, key);
        put_meta_entry(c, key, k >= 0 ? values[k]
                                      : g->meta_values[find_given(g->meta_keys, g->n_meta, key)]);
    }
    for (int i = 0; i < n; i++) {
        if (!keys[i] || find_given(keys, n, keys[i]) != i) continue;
        if (find_given(g->meta_keys, g->n_meta, keys[i]) >= 0) continue;
        put_meta_entry(c, keys[i], values[i]);
    }
}

static eos_status put_model(wctx *c, const char *const *keys, const char *const *values, int n_meta,
                            const char *producer) {
    put_int(&c->b, 1, 8);
    if (producer && producer[0]) put_str(&c->b, 2, producer);
    EOS_TRY(put_graph(c));
    size_t op = msg_begin(&c->b, 8);
    put_str(&c->b, 1, "");
    put_int(&c->b, 2, c->g->opset > 0 ? c->g->opset : 17);
    msg_end(&c->b, op);
    put_meta(c, keys, values, n_meta);
    return EOS_OK;
}

eos_status eos__onnx_write(const eos_graph *g, const char *const *meta_keys,
                           const char *const *meta_values, int n_meta, const char *producer,
                           uint8_t **buf, size_t *len, eos_err *err) {
    *buf = NULL;
    *len = 0;
    if (!g || n_meta < 0 || (n_meta && (!meta_keys || !meta_values)))
        return eos_err_set(err, EOS_INVALID_ARG, "eos__onnx_write: NULL graph or metadata");
    wctx c;
    memset(&c, 0, sizeof c);
    c.g = g;
    c.err = err;
    eos_status st = make_names(&c);
    if (st == EOS_OK) st = put_model(&c, meta_keys, meta_values, n_meta, producer);
    if (st == EOS_OK && c.b.st == EOS_NOMEM)
        st = eos_err_set(err, EOS_NOMEM, "out of memory writing ONNX (%zu bytes so far)", c.b.len);
    else if (st == EOS_OK && c.b.st)
        st = eos_err_set(err, EOS_LIMIT, "the model is larger than 2 GiB, the most an ONNX file "
                         "holds without external data");
    eos_free(c.names);
    eos_free(c.used);
    eos_free(c.name_mem);
    if (st != EOS_OK) {
        eos_free(c.b.p);
        return st;
    }
    *buf = c.b.p;
    *len = c.b.len;
    return EOS_OK;
}

eos_status eos__onnx_write_file(const eos_graph *g, const char *const *meta_keys,
                                const char *const *meta_values, int n_meta, const char *producer,
                                const char *path, eos_err *err) {
    uint8_t *buf;
    size_t len;
    EOS_TRY(eos__onnx_write(g, meta_keys, meta_values, n_meta, producer, &buf, &len, err));
    size_t plen = strlen(path);
    char *part = eos_malloc(plen + 6);
    if (!part) {
        eos_free(buf);
        return eos_err_set(err, EOS_NOMEM, "out of memory writing '%s'", path);
    }
    memcpy(part, path, plen);
    memcpy(part + plen, ".part", 6);
    eos_status st = EOS_OK;
    FILE *f = fopen(part, "wb");
    if (!f) {
        st = eos_err_set(err, EOS_IO, "cannot create '%s': %s", part, strerror(errno));
    } else {
        bool ok = fwrite(buf, 1, len, f) == len;
        if (fclose(f) != 0) ok = false;
        if (!ok) st = eos_err_set(err, EOS_IO, "cannot write '%s': %s", part, strerror(errno));
        else if (rename(part, path) != 0)
            st = eos_err_set(err, EOS_IO, "cannot rename '%s' to '%s': %s", part, path,
                             strerror(errno));
        if (st != EOS_OK) remove(part);
    }
    eos_free(part);
    eos_free(buf);
    return st;
}
