/*
 * src/onnx/onnx.h - the ONNX importer: protobuf bytes -> graph IR (src/graph/graph.h).
 *
 * The importer reads ModelProto with its own wire-format reader (src/onnx/pb.h); no protobuf
 * library is involved and every length, count and size in the file is checked before it is
 * used. What it produces:
 *   - g->opset: the version of the default domain ("" or "ai.onnx"), copied to every node;
 *   - constants: initializers and Constant nodes (the latter are folded into constant values
 *     named after the node's output and never become nodes);
 *   - graph inputs (initializers excluded) and outputs, with declared dtype and shape
 *     (symbolic or missing dims are -1, a missing shape is ndim -1);
 *   - one node per remaining NodeProto in file order (NOT sorted: the caller runs
 *     eos_graph_toposort, which also finds cycles and undefined inputs);
 *   - metadata_props as g->meta_keys / g->meta_values.
 * docs/onnx-import.md lists what is supported, the limits, and the rules for external data.
 */
#ifndef EOS_ONNX_ONNX_H
#define EOS_ONNX_ONNX_H

#include <stddef.h>

#include "core/err.h"
#include "graph/graph.h"

/* Limits against hostile files (a size or count beyond them gives EOS_LIMIT). */
#define EOS_ONNX_MAX_NODES    1000000
#define EOS_ONNX_MAX_VALUES   1000000
#define EOS_ONNX_MAX_NAME     65536      /* bytes in any name (values, nodes, ops, attributes) */

/* Parse the serialized ModelProto buf[0..size) into g, which the caller initialised with
 * eos_graph_init() and which must be empty. External tensor data is read from files relative
 * to base_dir; with base_dir NULL a model that references external data is refused (EOS_IO).
 * buf is not referenced after the call: everything is copied into g.
 *
 * Errors, with a message in err naming what and where (byte offset, node, tensor):
 *   EOS_PARSE        malformed protobuf, inconsistent sizes, duplicate definitions,
 *                    wrong operator arity, bad external-data paths;
 *   EOS_UNSUPPORTED  operator, domain, data type, attribute kind or opset eosight lacks;
 *   EOS_LIMIT        more nodes/values/dims or longer names than the limits above;
 *   EOS_IO           external data file missing or unreadable;
 *   EOS_NOMEM        allocation failure; EOS_INVALID_ARG for NULL g or buf.
 * On error g holds whatever was built so far and must still be released with eos_graph_free().
 * err may be NULL. Thread-safe for distinct graphs. */
eos_status eos_onnx_parse(const void *buf, size_t size, const char *base_dir, eos_graph *g,
                          eos_err *err);

#endif /* EOS_ONNX_ONNX_H */
