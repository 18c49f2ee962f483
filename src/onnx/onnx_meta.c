/*
 * src/onnx/onnx_meta.c - metadata edits on ONNX bytes (src/onnx/onnx_meta.h). ModelProto field
 * 14 is `repeated StringStringEntryProto metadata_props` (key = 1, value = 2).
 */
#include <string.h>

#include "eosight/alloc.h"
#include "onnx/onnx_meta.h"
#include "onnx/pb.h"

typedef struct obuf { uint8_t *p; size_t n, cap; bool oom; } obuf;

static void put(obuf *b, const void *d, size_t n) {
    if (b->oom) return;
    if (b->n + n > b->cap) {
        size_t cap = (b->n + n) * 2 + 256;
        uint8_t *q = eos_realloc(b->p, cap);
        if (!q) {
            b->oom = true;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void put_varint(obuf *b, uint64_t v) {
    uint8_t t[10];
    int k = 0;
    do {
        t[k++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    put(b, t, (size_t)k);
}

static void put_str(obuf *b, uint32_t num, const char *s) {
    size_t n = strlen(s);
    put_varint(b, (uint64_t)num << 3 | EOS_PB_LEN);
    put_varint(b, n);
    put(b, s, n);
}

/* The key of metadata entry f, or NULL when it has none; *klen its length. */
static eos_status entry_key(const eos_pb *r, const eos_pb_field *f, const uint8_t **key,
                            size_t *klen, eos_err *err) {
    eos_pb e;
    eos_pb_sub(&e, r, f, "metadata_props entry");
    eos_pb_field ef;
    int rc;
    *key = NULL;
    *klen = 0;
    while ((rc = eos_pb_next(&e, &ef, err)) > 0)
        if (ef.num == 1 && ef.wire == EOS_PB_LEN) {
            *key = ef.data;
            *klen = ef.len;
        }
    return rc < 0 ? err->status : EOS_OK;
}

static bool listed(const uint8_t *key, size_t klen, const char *const *keys, int n) {
    for (int i = 0; key && i < n; i++)
        if (strlen(keys[i]) == klen && !memcmp(keys[i], key, klen)) return true;
    return false;
}

eos_status eos__onnx_edit_meta(const uint8_t *in, size_t len, const char *const *keys,
                               const char *const *values, int n, uint8_t **out, size_t *out_len,
                               eos_err *err) {
    if (!in || !out || !out_len || n < 0 || (n && (!keys || !values)))
        return eos_err_set(err, EOS_INVALID_ARG, "eos__onnx_edit_meta: bad arguments");
    *out = NULL;
    *out_len = 0;
    eos_pb r;
    eos_pb_init(&r, in, in, len, "ModelProto");
    obuf b = { 0 };
    eos_pb_field f;
    int rc;
    const uint8_t *start = in;
    bool graph = false;
    while ((rc = eos_pb_next(&r, &f, err)) > 0) {
        const uint8_t *next = r.p;   /* end of this field */
        bool drop = false;
        graph |= f.num == 7;
        if (f.num == 14 && f.wire == EOS_PB_LEN) {
            const uint8_t *key;
            size_t klen;
            eos_status st = entry_key(&r, &f, &key, &klen, err);
            if (st != EOS_OK) {
                eos_free(b.p);
                return st;
            }
            drop = listed(key, klen, keys, n);
        }
        if (!drop) put(&b, start, (size_t)(next - start));
        start = next;
    }
    if (rc < 0 || !graph) {
        eos_free(b.p);
        return rc < 0 ? err->status : eos_err_set(err, EOS_PARSE, "not an ONNX model (no graph)");
    }
    for (int i = 0; i < n; i++) {
        /* edits apply in order: only the last edit of a key counts (an unset removes it) */
        bool later = false;
        for (int j = i + 1; j < n && !later; j++) later = !strcmp(keys[i], keys[j]);
        if (later || !values[i]) continue;
        obuf e = { 0 };
        put_str(&e, 1, keys[i]);
        put_str(&e, 2, values[i]);
        put_varint(&b, 14u << 3 | EOS_PB_LEN);
        put_varint(&b, e.n);
        put(&b, e.p, e.n);
        b.oom |= e.oom;
        eos_free(e.p);
    }
    if (b.oom) {
        eos_free(b.p);
        return eos_err_set(err, EOS_NOMEM, "out of memory");
    }
    *out = b.p;
    *out_len = b.n;
    return EOS_OK;
}
