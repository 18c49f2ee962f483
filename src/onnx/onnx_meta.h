/*
 * src/onnx/onnx_meta.h - edit the metadata_props of an ONNX file without touching anything
 * else: every other top-level field of the ModelProto is copied byte for byte, so the graph
 * and its weights stay exactly as they were (used by `eosight meta`).
 */
#ifndef EOS_ONNX_ONNX_META_H
#define EOS_ONNX_ONNX_META_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* Rewrite the model in[0..len): entries whose key is one of keys[0..n) are dropped, then the
 * edits apply in order: for each key only its last edit counts, appending key = value when
 * that value is not NULL (NULL: the key is removed). Other metadata entries keep their
 * order. *out is from eos_malloc. Errors: EOS_PARSE
 * (not a protobuf message, a malformed metadata entry), EOS_NOMEM, EOS_INVALID_ARG. */
eos_status eos__onnx_edit_meta(const uint8_t *in, size_t len, const char *const *keys,
                               const char *const *values, int n, uint8_t **out /* OUT */,
                               size_t *out_len /* OUT */, eos_err *err);

#endif /* EOS_ONNX_ONNX_META_H */
