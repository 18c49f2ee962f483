/*
 * src/onnx/onnx_write.h - serialise an eos_graph as an ONNX ModelProto (IR version 8, the
 * default domain at the graph's opset, 17 when 0), the inverse of the importer: constants
 * become initializers (raw_data, little-endian), inputs/outputs get value_info with their
 * dtype and dims (dims < 0 become symbolic dim_param names: "N" on axis 0, "d<k>_<axis>" on the
 * other axes of input k, "o<k>_<axis>" on those of output k), node attributes are written with
 * their type, metadata_props from the given key/value pairs (graph meta entries are written too,
 * the given ones win on equal keys; each key is written once, with its last value). Only named
 * constants that a node or a graph output reads become initializers (an anonymous one gets the
 * name "eos_anon_<value id>"); fields go in field-number order, repeated scalars unpacked, as
 * protobuf serialises onnx.proto. Reading the bytes back with the importer gives the same
 * graph (value and node order, names, attributes, constant bits), so writing that graph again
 * gives the same bytes. Fused nodes (eos_node.fuse set) are refused: write graphs before
 * planning.
 */
#ifndef EOS_ONNX_ONNX_WRITE_H
#define EOS_ONNX_ONNX_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "graph/graph.h"

/* Serialise g into a new buffer (*buf from eos_malloc, caller frees; *len bytes). producer may
 * be NULL (no producer_name). Errors, with a message in err (may be NULL): EOS_UNSUPPORTED
 * (fused node, dtype ONNX cannot express, constant without data), EOS_LIMIT (more than 2 GiB),
 * EOS_INVALID_ARG (NULL graph, metadata arrays NULL with n_meta > 0), EOS_NOMEM. Reentrant;
 * g is only read. */
eos_status eos__onnx_write(const eos_graph *g, const char *const *meta_keys,
                           const char *const *meta_values, int n_meta, const char *producer,
                           uint8_t **buf /* OUT */, size_t *len /* OUT */, eos_err *err);

/* Same, written to path through path.part + rename (never a half-written file; the .part file
 * is removed on failure). EOS_IO naming the file and the system's reason. */
eos_status eos__onnx_write_file(const eos_graph *g, const char *const *meta_keys,
                                const char *const *meta_values, int n_meta, const char *producer,
                                const char *path, eos_err *err);

#endif /* EOS_ONNX_ONNX_WRITE_H */
