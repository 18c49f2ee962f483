/*
 * src/onnx/pb.c - protobuf wire-format reader (see pb.h).
 *
 * Everything here works on bounded byte ranges and reports malformed input as EOS_PARSE with
 * the absolute byte offset; nothing allocates and nothing recurses.
 */
#include "onnx/pb.h"

#include <string.h>

static size_t offset_of(const eos_pb *r, const uint8_t *p) { return (size_t)(p - r->base); }

void eos_pb_init(eos_pb *r, const uint8_t *base, const uint8_t *msg, size_t len,
                 const char *where) {
    r->base = base;
    r->p = msg;
    r->end = msg + len;
    r->where = where;
}

void eos_pb_sub(eos_pb *child, const eos_pb *r, const eos_pb_field *f, const char *where) {
    eos_pb_init(child, r->base, f->data, f->len, where);
}

const char *eos_pb_wire_name(int wire) {
    switch (wire) {
    case EOS_PB_VARINT: return "VARINT";
    case EOS_PB_I64:    return "I64";
    case EOS_PB_LEN:    return "LEN";
    case EOS_PB_I32:    return "I32";
    default:            return "invalid";
    }
}

/* Decode a varint from p..end without touching a reader; returns bytes used, 0 when truncated,
 * -1 when longer than 10 bytes or overflowing 64 bits. */
static int decode_varint(const uint8_t *p, const uint8_t *end, uint64_t *v) {
    uint64_t x = 0;
    for (int i = 0; i < 10; i++) {
        if (i >= end - p) return 0;
        uint8_t b = p[i];
        if (i == 9 && b > 1) return -1;   /* the 10th byte holds only bit 63 */
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *v = x;
            return i + 1;
        }
    }
    return -1;
}

eos_status eos_pb_read_varint(eos_pb *r, uint64_t *v, eos_err *err) {
    int n = decode_varint(r->p, r->end, v);
    if (n == 0)
        return eos_err_set(err, EOS_PARSE, "truncated varint at byte %zu in %s",
                           offset_of(r, r->p), r->where);
    if (n < 0)
        return eos_err_set(err, EOS_PARSE, "varint longer than 64 bits at byte %zu in %s",
                           offset_of(r, r->p), r->where);
    r->p += n;
    return EOS_OK;
}

static uint64_t load_le(const uint8_t *p, int n) {
    uint64_t x = 0;
    for (int i = n - 1; i >= 0; i--) x = (x << 8) | p[i];
    return x;
}

static eos_status read_fixed(eos_pb *r, int n, uint64_t *v, size_t tag_pos, eos_err *err) {
    if ((size_t)(r->end - r->p) < (size_t)n)
        return eos_err_set(err, EOS_PARSE, "truncated %d-byte value of the field at byte %zu in %s",
                           n, tag_pos, r->where);
    *v = load_le(r->p, n);
    r->p += n;
    return EOS_OK;
}

int eos_pb_next(eos_pb *r, eos_pb_field *f, eos_err *err) {
    if (r->p >= r->end) return 0;
    memset(f, 0, sizeof *f);
    f->pos = offset_of(r, r->p);
    uint64_t tag;
    if (eos_pb_read_varint(r, &tag, err)) return -1;
    uint64_t num = tag >> 3;
    f->wire = (int)(tag & 7);
    if (num == 0 || num > 536870911u) {
        eos_err_set(err, EOS_PARSE, "invalid field number %llu at byte %zu in %s",
                    (unsigned long long)num, f->pos, r->where);
        return -1;
    }
    f->num = (uint32_t)num;
    switch (f->wire) {
    case EOS_PB_VARINT:
        if (eos_pb_read_varint(r, &f->u, err)) return -1;
        return 1;
    case EOS_PB_I64:
        return read_fixed(r, 8, &f->u, f->pos, err) ? -1 : 1;
    case EOS_PB_I32:
        return read_fixed(r, 4, &f->u, f->pos, err) ? -1 : 1;
    case EOS_PB_LEN: {
        uint64_t len;
        if (eos_pb_read_varint(r, &len, err)) return -1;
        if (len > (uint64_t)(r->end - r->p)) {
            eos_err_set(err, EOS_PARSE,
                        "field %u at byte %zu declares %llu bytes but only %zu remain in %s",
                        f->num, f->pos, (unsigned long long)len, (size_t)(r->end - r->p), r->where);
            return -1;
        }
        f->data = r->p;
        f->len = (size_t)len;
        r->p += len;
        return 1;
    }
    case 3:
    case 4:
        eos_err_set(err, EOS_PARSE, "field %u at byte %zu in %s uses the unsupported group wire type %d",
                    f->num, f->pos, r->where, f->wire);
        return -1;
    default:
        eos_err_set(err, EOS_PARSE, "invalid wire type %d for field %u at byte %zu in %s",
                    f->wire, f->num, f->pos, r->where);
        return -1;
    }
}

/* ------------------------------------------------------------------ repeated scalars */

static int wire_size(int wire) { return wire == EOS_PB_I64 ? 8 : wire == EOS_PB_I32 ? 4 : 0; }

eos_status eos_pb_count(const eos_pb *r, const eos_pb_field *f, int wire, int64_t *n,
                        eos_err *err) {
    if (f->wire == wire) {
        *n = 1;
        return EOS_OK;
    }
    if (f->wire != EOS_PB_LEN)
        return eos_err_set(err, EOS_PARSE, "field %u at byte %zu in %s has wire type %s, expected %s",
                           f->num, f->pos, r->where, eos_pb_wire_name(f->wire), eos_pb_wire_name(wire));
    int sz = wire_size(wire);
    if (sz) {
        if (f->len % (size_t)sz)
            return eos_err_set(err, EOS_PARSE,
                               "packed field %u at byte %zu in %s has %zu bytes, not a multiple of %d",
                               f->num, f->pos, r->where, f->len, sz);
        *n = (int64_t)(f->len / (size_t)sz);
        return EOS_OK;
    }
    /* packed varints: every element ends with a byte below 0x80; decode to validate lengths */
    const uint8_t *p = f->data, *end = f->data + f->len;
    int64_t c = 0;
    while (p < end) {
        uint64_t v;
        int k = decode_varint(p, end, &v);
        if (k <= 0)
            return eos_err_set(err, EOS_PARSE, "%s varint at byte %zu in packed field %u of %s",
                               k == 0 ? "truncated" : "overlong", offset_of(r, p), f->num, r->where);
        p += k;
        c++;
    }
    *n = c;
    return EOS_OK;
}

void eos_pb_elems_init(eos_pb_elems *it, const eos_pb_field *f, int wire) {
    it->wire = wire;
    it->single = f->wire == wire;
    it->one = f->u;
    it->p = it->single ? NULL : f->data;
    it->end = it->single ? NULL : f->data + f->len;
}

bool eos_pb_elems_next(eos_pb_elems *it, uint64_t *v) {
    if (it->single) {
        it->single = false;
        it->p = it->end = NULL;
        *v = it->one;
        return true;
    }
    if (!it->p || it->p >= it->end) return false;
    int sz = wire_size(it->wire);
    if (sz) {
        *v = load_le(it->p, sz);
        it->p += sz;
        return true;
    }
    int k = decode_varint(it->p, it->end, v);
    if (k <= 0) return false;   /* cannot happen after eos_pb_count */
    it->p += k;
    return true;
}
