/*
 * eosight/model.h - contexts, models and inference sessions.
 *
 * Three handles, from the longest-lived to the shortest:
 *
 *   eos_ctx      process-level settings: log callback, default back-end, last error text
 *                of loads done through it. Create one per application (or per thread that
 *                loads models, since its error text is per context).
 *   eos_model    a loaded network: graph, weights and metadata. Immutable after load and
 *                shareable: any number of sessions on any threads may use one model at once.
 *   eos_session  what runs a model: the execution plan for the current input shapes, an arena
 *                holding every intermediate tensor, back-end primitives and a thread count.
 *                A session belongs to one thread at a time.
 *
 * Typical use:
 *
 *     eos_ctx *ctx;     eos_ctx_create(NULL, &ctx);
 *     eos_model *m;     if (eos_model_load(ctx, "net.onnx", &m)) die(eos_ctx_errmsg(ctx));
 *     eos_session *s;   eos_session_create(m, NULL, &s);
 *     eos_tensor x = { EOS_DTYPE_F32, 4, {1, 3, 64, 64}, pixels };
 *     if (eos_session_run(s, &x, 1)) die(eos_session_errmsg(s));
 *     eos_tensor y;     eos_session_output(s, 0, &y);   // borrowed until the next run
 *     eos_session_free(s); eos_model_free(m); eos_ctx_free(ctx);
 *
 * Inputs may have dims that the model leaves symbolic (batch "N", any H/W for fully
 * convolutional nets); a session plans for each new combination of input shapes and keeps
 * the plans of the last 8 combinations (each with its own arena, max_arena_bytes each), so
 * alternating between a few shapes does not re-plan.
 */
#ifndef EOSIGHT_MODEL_H
#define EOSIGHT_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eosight/log.h"
#include "eosight/status.h"
#include "eosight/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eos_ctx     eos_ctx;
typedef struct eos_model   eos_model;
typedef struct eos_session eos_session;

/* Kernel back-ends. AUTO picks dnnl when built, else ref; the environment variable
 * EOS_BACKEND=ref|dnnl overrides AUTO (never an explicit choice). */
typedef enum eos_backend_kind {
    EOS_BACKEND_AUTO = 0,
    EOS_BACKEND_REF  = 1,   /* portable scalar C: the oracle for tests */
    EOS_BACKEND_DNNL = 2    /* oneDNN: blocked layouts, fused post-ops */
} eos_backend_kind;

/* "auto", "ref", "dnnl". */
const char *eos_backend_name(eos_backend_kind b);
/* True when the back-end was compiled in (ref and auto always are). */
bool eos_backend_available(eos_backend_kind b);

/* ------------------------------------------------------------------ context */

typedef struct eos_ctx_params {
    eos_log_fn       log_fn;      /* NULL: eos_log_stderr */
    void            *log_user;    /* passed to log_fn */
    eos_log_level    log_level;   /* messages below this level are dropped (default WARN) */
    eos_backend_kind backend;     /* default for sessions created from models of this context */
} eos_ctx_params;

/* Defaults as documented above. */
eos_ctx_params eos_ctx_default_params(void);

/* Create a context; params may be NULL for defaults. Free with eos_ctx_free().
 * Errors: EOS_NOMEM; EOS_INVALID_ARG for an unknown EOS_BACKEND value or a back-end that
 * was not built. */
eos_status eos_ctx_create(const eos_ctx_params *params, eos_ctx **out /* OUT */);
/* Free a context after every model loaded through it. NULL is a no-op. */
void eos_ctx_free(eos_ctx *ctx);
/* Detail of the last failed call made through ctx (model loads), or "" . The string is owned by
 * ctx and valid until the next call through ctx. Not thread-safe with concurrent loads. */
const char *eos_ctx_errmsg(const eos_ctx *ctx);
/* The back-end sessions use when they ask for AUTO (EOS_BACKEND applied). */
eos_backend_kind eos_ctx_backend(const eos_ctx *ctx);

/* ------------------------------------------------------------------ model */

/* Load an ONNX model (opset 11-18) from a file. External data files named by the model are
 * read relative to the model's directory. The model is checked completely: protobuf structure,
 * tensor sizes, graph topology (no cycles, every input defined), supported operators; a
 * problem gives EOS_PARSE / EOS_UNSUPPORTED / EOS_LIMIT with a message naming the node.
 * Free with eos_model_free() after every session that uses it. */
eos_status eos_model_load(eos_ctx *ctx, const char *path, eos_model **out /* OUT */);

/* Same from bytes in memory (copied as needed; buf may be freed after the call). External data
 * is resolved relative to base_dir, or refused when base_dir is NULL. */
eos_status eos_model_load_from_memory(eos_ctx *ctx, const void *buf, size_t size,
                                      const char *base_dir, eos_model **out /* OUT */);

/* NULL is a no-op. The caller must have freed every session of this model. */
void eos_model_free(eos_model *m);

/* Graph inputs (initializers excluded) and outputs, in graph order. */
int eos_model_n_inputs(const eos_model *m);
int eos_model_n_outputs(const eos_model *m);

/* Name, element type and declared shape of an input/output. Symbolic or unknown dims are -1.
 * Strings are owned by the model. Returns EOS_INVALID_ARG for an index out of range. */
typedef struct eos_io_info {
    const char *name;
    eos_dtype   dtype;
    int         ndim;
    int64_t     dims[EOS_MAX_DIMS];
} eos_io_info;
eos_status eos_model_input_info(const eos_model *m, int i, eos_io_info *out /* OUT */);
eos_status eos_model_output_info(const eos_model *m, int i, eos_io_info *out /* OUT */);
/* Index of the input/output with this name, or -1. */
int eos_model_input_index(const eos_model *m, const char *name);
int eos_model_output_index(const eos_model *m, const char *name);

/* ONNX metadata_props. eos_model_meta returns the value for key, or NULL; the string is owned
 * by the model. Keys used by eosight are described in docs/model-metadata.md (prefix
 * "eosight."). eos_model_meta_at enumerates all pairs (i < eos_model_n_meta). */
const char *eos_model_meta(const eos_model *m, const char *key);
int         eos_model_n_meta(const eos_model *m);
eos_status  eos_model_meta_at(const eos_model *m, int i, const char **key /* OUT */,
                              const char **value /* OUT */);

/* Number of nodes after load-time graph passes (BatchNorm folding etc.), and of operators the
 * loaded file contained. For diagnostics. */
int eos_model_n_nodes(const eos_model *m);

/* ------------------------------------------------------------------ session */

typedef struct eos_session_params {
    int              n_threads;   /* <= 0: number of online CPUs */
    eos_backend_kind backend;     /* AUTO: the context's choice */
    /* Memory guard against hostile or mistaken shapes, in bytes; 0 = the default of 16 GiB.
     * Planning fails with EOS_LIMIT (and a message naming the node) instead of allocating when
     * the activation arena, any single tensor, or all constants folded at plan time together
     * would exceed it. */
    size_t           max_arena_bytes;
} eos_session_params;

eos_session_params eos_session_default_params(void);

/* Create a session running model m. params may be NULL. The model must outlive the session.
 * Planning happens on the first run (and again whenever input shapes change).
 * Errors: EOS_NOMEM, EOS_INVALID_ARG (back-end not built). */
eos_status eos_session_create(const eos_model *m, const eos_session_params *params,
                              eos_session **out /* OUT */);
/* NULL is a no-op. */
void eos_session_free(eos_session *s);

/* Run the model on n_inputs tensors given in graph-input order. Inputs of another element type
 * than declared are converted; shapes must match the declared dims where those are fixed.
 * Errors: EOS_SHAPE / EOS_TYPE / EOS_INVALID_ARG with a message (eos_session_errmsg);
 * EOS_LIMIT when the plan would exceed max_arena_bytes; EOS_NOMEM; EOS_BACKEND when a kernel
 * fails. The session stays usable after an error. */
eos_status eos_session_run(eos_session *s, const eos_tensor *inputs, int n_inputs);

/* The i-th output of the last successful run. The tensor's data is borrowed from the session
 * and valid until the next eos_session_run or eos_session_free. */
eos_status eos_session_output(const eos_session *s, int i, eos_tensor *out /* OUT */);

/* Detail of the session's last error, or "". Owned by the session. */
const char *eos_session_errmsg(const eos_session *s);

/* The back-end this session runs on, and the bytes its arena holds for intermediates. */
eos_backend_kind eos_session_backend(const eos_session *s);
size_t eos_session_arena_bytes(const eos_session *s);

#ifdef __cplusplus
}
#endif
#endif /* EOSIGHT_MODEL_H */
