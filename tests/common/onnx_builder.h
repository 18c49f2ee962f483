/*
 * tests/common/onnx_builder.h - a tiny protobuf writer that builds ONNX ModelProto bytes in
 * memory, for tests and fuzz seeds (no protobuf library, no Python).
 *
 * Build a model by declaring inputs, initializers, nodes (with attributes) and outputs in any
 * order, then serialise it. Example - a single Conv:
 *
 *     onnxb *b = onnxb_new(17);                                  // opset 17, default domain
 *     onnxb_input(b, "x", EOS_DTYPE_F32, 4, (int64_t[]){-1, 3, 8, 8});   // -1: symbolic "N"
 *     onnxb_init_f32(b, "w", 4, (int64_t[]){4, 3, 3, 3}, weights);       // raw_data
 *     int n = onnxb_node(b, "Conv", "conv0", ONNXB_NAMES("x", "w"), ONNXB_NAMES("y"));
 *     onnxb_attr_ints(b, n, "pads", 4, (int64_t[]){1, 1, 1, 1});
 *     onnxb_output(b, "y", EOS_DTYPE_F32, 4, (int64_t[]){-1, 4, 8, 8});
 *     void *buf; size_t size;
 *     if (onnxb_finish(b, &buf, &size) == EOS_OK) {
 *         eos_model_load_from_memory(ctx, buf, size, NULL, &m);
 *         eos_free(buf);
 *     }
 *     onnxb_free(b);
 *
 * The bytes are laid out as real exporters write them (fields in field-number order, so a
 * graph's nodes come before its initializers and inputs). Repeated scalars are packed unless
 * onnxb_set_packed(b, false) is called; both encodings are valid ONNX.
 *
 * Names and dims arguments are copied; nothing the caller passes is kept. Allocation failures
 * are sticky: every later call is a no-op and onnxb_finish returns EOS_NOMEM. The builder does
 * no validation at all - it writes whatever it is told, which is what hostile tests need
 * (huge dims with tiny data, wrong arities, dangling names). Not thread-safe.
 */
#ifndef EOS_TESTS_ONNX_BUILDER_H
#define EOS_TESTS_ONNX_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eosight/status.h"
#include "eosight/tensor.h"

typedef struct onnxb onnxb;

/* A (const char *const *, int) argument pair from a list of names: ONNXB_NAMES("x", "w"). */
#define ONNXB_NAMES(...) \
    (const char *const[]){ __VA_ARGS__ }, (int)(sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *))

/* New model importing the default domain at `opset` (opset <= 0: no opset_import at all).
 * ir_version is 8. Returns NULL when out of memory. */
onnxb *onnxb_new(int opset);
/* Free the builder (NULL is a no-op). Buffers returned by onnxb_finish stay valid. */
void onnxb_free(onnxb *b);

/* ------------------------------------------------------------------ model-level fields */

/* Another opset_import entry (e.g. "com.microsoft", 1; or "" again to test duplicates). */
void onnxb_opset_import(onnxb *b, const char *domain, int64_t version);
void onnxb_ir_version(onnxb *b, int64_t ir_version);
void onnxb_producer(onnxb *b, const char *name, const char *version);
/* metadata_props entry. */
void onnxb_meta(onnxb *b, const char *key, const char *value);
void onnxb_graph_name(onnxb *b, const char *name);
/* Encode repeated scalars (ints/floats attributes, dims, typed tensor data) packed (default)
 * or one field per element. Applies to what is added afterwards. */
void onnxb_set_packed(onnxb *b, bool packed);

/* ------------------------------------------------------------------ graph inputs / outputs */

/* Graph input with tensor type dt and shape dims[0..ndim). dims[i] == -1 writes a symbolic
 * dim_param ("N" for axis 0, "d<i>" otherwise); dims[i] == -2 writes a dim with neither value
 * nor param. ndim < 0 writes no shape; dt == EOS_DTYPE_UNDEFINED writes no type at all. */
void onnxb_input(onnxb *b, const char *name, eos_dtype dt, int ndim, const int64_t *dims);
/* Graph output; same conventions (a partial ValueInfo is legal for outputs). */
void onnxb_output(onnxb *b, const char *name, eos_dtype dt, int ndim, const int64_t *dims);

/* ------------------------------------------------------------------ initializers */

/* f32 / i64 initializer stored in raw_data; data holds the product of dims elements. */
void onnxb_init_f32(onnxb *b, const char *name, int ndim, const int64_t *dims, const float *data);
void onnxb_init_i64(onnxb *b, const char *name, int ndim, const int64_t *dims, const int64_t *data);
/* Any type in raw_data, with exactly nbytes from data (which need not match dims). */
void onnxb_init_raw(onnxb *b, const char *name, eos_dtype dt, int ndim, const int64_t *dims,
                    const void *data, size_t nbytes);
/* Typed fields: n elements of dt read from data (native C type of dt: float, int64_t, double,
 * int32_t, int16_t, uint16_t (also f16/bf16 bits), int8_t, uint8_t (also bool)), written to
 * float_data (f32), int64_data (i64), double_data (f64) or int32_data (all others). */
void onnxb_init_typed(onnxb *b, const char *name, eos_dtype dt, int ndim, const int64_t *dims,
                      const void *data, int64_t n);
/* External data: data_location EXTERNAL with entries location, and offset / length when >= 0. */
void onnxb_init_external(onnxb *b, const char *name, eos_dtype dt, int ndim, const int64_t *dims,
                         const char *location, int64_t offset, int64_t length);

/* ------------------------------------------------------------------ nodes and attributes */

/* Node in the default domain; in[]/out[] names ("" for an omitted optional input). name may be
 * NULL for no name field. Returns the node's index for the attribute calls (-1 on OOM). */
int onnxb_node(onnxb *b, const char *op_type, const char *name, const char *const *in, int n_in,
               const char *const *out, int n_out);
/* Set the node's domain field. */
void onnxb_node_domain(onnxb *b, int node, const char *domain);

void onnxb_attr_int(onnxb *b, int node, const char *name, int64_t v);
void onnxb_attr_float(onnxb *b, int node, const char *name, float v);
void onnxb_attr_string(onnxb *b, int node, const char *name, const char *v);
void onnxb_attr_ints(onnxb *b, int node, const char *name, int n, const int64_t *v);
void onnxb_attr_floats(onnxb *b, int node, const char *name, int n, const float *v);
void onnxb_attr_strings(onnxb *b, int node, const char *name, int n, const char *const *v);
/* TENSOR attribute in raw_data (nbytes = elements x size of dt). */
void onnxb_attr_tensor(onnxb *b, int node, const char *name, eos_dtype dt, int ndim,
                       const int64_t *dims, const void *data);
/* GRAPH attribute holding an empty graph (to test refusal). */
void onnxb_attr_graph(onnxb *b, int node, const char *name);

/* A Constant node named after its output `name`, with a 'value' tensor in raw_data. */
void onnxb_constant(onnxb *b, const char *name, eos_dtype dt, int ndim, const int64_t *dims,
                    const void *data);

/* ------------------------------------------------------------------ raw escape hatches */

/* Append raw bytes (already protobuf-encoded fields) to a node, the graph or the model. */
void onnxb_node_raw(onnxb *b, int node, const void *bytes, size_t len);
void onnxb_graph_raw(onnxb *b, const void *bytes, size_t len);
void onnxb_model_raw(onnxb *b, const void *bytes, size_t len);

/* ------------------------------------------------------------------ output */

/* Serialise the model. *buf is eos_malloc'd (caller frees with eos_free); the builder stays
 * usable and may be finished again. Returns EOS_NOMEM after any allocation failure. */
eos_status onnxb_finish(onnxb *b, void **buf, size_t *size);
/* Serialise and write to path. EOS_IO when the file cannot be written. */
eos_status onnxb_save(onnxb *b, const char *path);

#endif /* EOS_TESTS_ONNX_BUILDER_H */
