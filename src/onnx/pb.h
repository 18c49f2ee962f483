/*
 * src/onnx/pb.h - a small reader for the protobuf wire format, enough to decode ONNX files
 * without a protobuf library.
 *
 * Wire format in one paragraph: a message is a sequence of fields; each field starts with a
 * varint tag = (field_number << 3) | wire_type, followed by its payload:
 *     0 VARINT  a base-128 varint (1..10 bytes, little-endian groups of 7 bits)
 *     1 I64     8 bytes little-endian (fixed64, double)
 *     2 LEN     a varint length, then that many bytes (strings, bytes, sub-messages, packed
 *               repeated scalars)
 *     5 I32     4 bytes little-endian (fixed32, float)
 * Wire types 3 and 4 (groups) are deprecated and refused; 6 and 7 do not exist.
 *
 * The reader never trusts a length: every read is checked against the end of the enclosing
 * message, and every error is EOS_PARSE with a message that says what went wrong, the absolute
 * byte offset in the input and which message was being read ("truncated varint at byte 1234 in
 * NodeProto 'conv1'"). Readers do not allocate. Nesting depth is bounded by the callers, which
 * only descend into the fixed ONNX schema (at most ~6 levels) and skip everything else.
 */
#ifndef EOS_ONNX_PB_H
#define EOS_ONNX_PB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

enum {
    EOS_PB_VARINT = 0,
    EOS_PB_I64    = 1,
    EOS_PB_LEN    = 2,
    EOS_PB_I32    = 5
};

/* A cursor over one message. `where` names the message in error texts and must outlive the
 * reader (callers keep it in a local buffer). */
typedef struct eos_pb {
    const uint8_t *base;     /* start of the whole input: byte offsets count from here */
    const uint8_t *p;        /* next byte to read */
    const uint8_t *end;      /* end of this message */
    const char    *where;    /* "NodeProto 'conv1'" */
} eos_pb;

/* One decoded field. For VARINT/I64/I32 the value is in u (I32 zero-extended); for LEN the
 * payload is data[0..len). pos is the byte offset of the field's tag in the whole input. */
typedef struct eos_pb_field {
    uint32_t       num;
    int            wire;
    uint64_t       u;
    const uint8_t *data;
    size_t         len;
    size_t         pos;
} eos_pb_field;

/* Reader over msg[0..len), which lies inside the input starting at base. */
void eos_pb_init(eos_pb *r, const uint8_t *base, const uint8_t *msg, size_t len,
                 const char *where);

/* Reader over the payload of LEN field f (found by parent r), named `where`. */
void eos_pb_sub(eos_pb *child, const eos_pb *r, const eos_pb_field *f, const char *where);

/* Read the next field into f. Returns 1 when a field was read, 0 at the end of the message and
 * -1 on malformed input (err holds EOS_PARSE and the message). Unknown fields need no special
 * handling: their payload has already been skipped when next is called again. */
int eos_pb_next(eos_pb *r, eos_pb_field *f, eos_err *err);

/* Read one varint at r->p (max 10 bytes, must fit 64 bits). EOS_PARSE when truncated/overlong. */
eos_status eos_pb_read_varint(eos_pb *r, uint64_t *v, eos_err *err);

/* ------------------------------------------------------------------ repeated scalars
 * A repeated scalar field may be sent unpacked (one field per element, wire type = the element's
 * wire type) or packed (one LEN field holding the elements back to back); a decoder must accept
 * both, even mixed. eos_pb_count validates one occurrence and counts its elements; after it
 * succeeded, eos_pb_elems walks the same occurrence without further checks. */

/* Count elements of occurrence f of a repeated scalar field whose elements have wire type
 * `wire` (VARINT, I64 or I32). EOS_PARSE when f has another wire type, a packed payload has a
 * length that is not a multiple of the element size, or holds a truncated varint. */
eos_status eos_pb_count(const eos_pb *r, const eos_pb_field *f, int wire, int64_t *n,
                        eos_err *err);

typedef struct eos_pb_elems {
    const uint8_t *p, *end;  /* packed payload still to read */
    int            wire;
    bool           single;   /* unpacked occurrence: one element in `one` */
    uint64_t       one;
} eos_pb_elems;

/* Start walking occurrence f (already validated by eos_pb_count with the same wire). */
void eos_pb_elems_init(eos_pb_elems *it, const eos_pb_field *f, int wire);
/* Next element as raw bits (VARINT value, I64 bits, I32 bits zero-extended); false at end. */
bool eos_pb_elems_next(eos_pb_elems *it, uint64_t *v);

/* "VARINT", "I64", "LEN", "I32", or "invalid". */
const char *eos_pb_wire_name(int wire);

#endif /* EOS_ONNX_PB_H */
