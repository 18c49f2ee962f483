/*
 * src/ops/dnnl/dn.h - internals shared by the oneDNN back-end's files (not a public header).
 *
 * The back-end (backend.c) walks the plan's nodes in order. For every value it tracks the copies
 * that exist at the current point of lowering: a copy is a plan buffer plus the oneDNN memory
 * descriptor of its layout. The plain row-major copy, when present, always lives in the value's
 * plain buffer (eos_plan_value_buf); other copies (nChw16c and friends, chosen by oneDNN through
 * dnnl_format_tag_any) live in buffers made with eos_plan_new_buf. The first copy is the one the
 * producer wrote; consumers that accept any layout (pooling, eltwise, binary, concat) use it, and
 * consumers that want another layout get it through dn_value_get(), which adds a reorder step the
 * first time and remembers the new copy for later readers.
 *
 * Steps: every oneDNN primitive (reorders included) becomes one dn_prim step. Primitive
 * descriptors and primitives are made while lowering; memory objects for plan buffers are made
 * in bind(), once the arena exists, so a run is only dnnl_primitive_execute() per step. Constant
 * weights are reordered once at lowering into memory the step owns. Scratchpads are plan buffers
 * (dnnl_scratchpad_mode_user), so they share the arena with activations.
 *
 * The engine/stream context is reference-counted: the plan's be_state holds one reference and
 * every step another, so the release order of steps and back-end state does not matter.
 */
#ifndef EOS_OPS_DNNL_DN_H
#define EOS_OPS_DNNL_DN_H

#include <stdbool.h>
#include <stddef.h>

#include <oneapi/dnnl/dnnl.h>

#include "graph/plan.h"

/* ------------------------------------------------------------------ context and values */

#define DN_MAX_COPIES 3

typedef struct dn_copy {
    int                buf;   /* plan buffer id */
    dnnl_memory_desc_t md;    /* layout of the data in that buffer */
} dn_copy;

typedef struct dn_value {
    int     n_copies;
    dn_copy copies[DN_MAX_COPIES];   /* copies[0]: the producer's layout */
} dn_value;

typedef struct dn_prim dn_prim;

/* Convolution algorithm policy (environment variable EOS_DNNL_CONV, read when planning). */
typedef enum dn_conv_mode {
    DN_CONV_AUTO = 0,     /* "auto" (default): Winograd where a fixed rule says it pays */
    DN_CONV_DIRECT,       /* "direct": never Winograd */
    DN_CONV_WINOGRAD,     /* "winograd": Winograd wherever oneDNN has it */
    DN_CONV_TUNE          /* "tune": measure the candidates per layer at plan time */
} dn_conv_mode;

#define DN_MAX_TUNED 256

typedef struct dn_tuned {
    char key[256];        /* problem (shapes, fusion, input layout) */
    int  choice;          /* index of the winning candidate */
} dn_tuned;

typedef struct dn_ctx {
    int            refs;
    dnnl_engine_t  engine;
    dnnl_stream_t  stream;
    dn_conv_mode   conv_mode;
    bool           prefer_blocked;             /* plan has Winograd layers: favour nChw16c */
    /* lowering state: valid from init to bind */
    dn_value      *vals;                       /* [g.n_values] */
    dn_prim      **prims; int n_prims, cap_prims;  /* steps whose memory bind() creates */
    dn_tuned      *tuned; int n_tuned;         /* [DN_MAX_TUNED] measured choices */
} dn_ctx;

/* ------------------------------------------------------------------ primitive steps */

struct dn_prim {
    dn_ctx             *ctx;
    dnnl_primitive_t    prim;
    int                 node;        /* node id, or -1 for reorders */
    const char         *what;        /* value name for reorders (messages) */
    int                 n_args, cap_args;
    int                *bufs;        /* [cap_args] plan buffer per argument, -1: memory preset */
    dnnl_memory_desc_t *mds;         /* [cap_args] */
    dnnl_exec_arg_t    *exec;        /* [cap_args] argument index and memory object */
    void               *owned;       /* reordered constant weights (eos_malloc) */
    bool                overflow;    /* more arguments given than room was made for (a bug) */
};

/* Make a step for the primitive described by pd (the primitive is created here), with room for
 * max_args arguments besides the scratchpad, which is added from pd automatically. node is used
 * in messages; what names the value for reorders (node -1). */
eos_status dn_prim_new(eos_plan *p, dn_ctx *c, int node, const char *what,
                       const_dnnl_primitive_desc_t pd, int max_args, dn_prim **out, eos_err *err);
/* Argument bound to plan buffer buf with layout md (memory made at bind). */
void dn_prim_arg(dn_prim *s, int arg, int buf, const dnnl_memory_desc_t *md);
/* Argument with a memory object made now over ptr (owned by the caller or the step). */
eos_status dn_prim_arg_ptr(eos_plan *p, dn_prim *s, int arg, const dnnl_memory_desc_t *md,
                           void *ptr, eos_err *err);
/* Append s as a plan step labelled label. On failure s is freed. */
eos_status dn_prim_add(eos_plan *p, dn_prim *s, const char *label, eos_err *err);
/* Release a step's state (its free_state). */
void dn_prim_free(void *state);

/* ------------------------------------------------------------------ helpers */

/* Map a failing oneDNN call to EOS_BACKEND: "node 'conv3' (Conv): <call>: unimplemented". */
eos_status dn_fail(const eos_plan *p, int node, const char *call, dnnl_status_t r, eos_err *err);
/* True when r means "this configuration is not available" (fall back to the reference). */
static inline bool dn_unsupported(dnnl_status_t r) {
    return r == dnnl_unimplemented || r == dnnl_invalid_arguments;
}

/* Plain row-major f32 layout for ndim/dims (a scalar becomes [1]). */
void dn_plain_md_dims(dnnl_memory_desc_t *md, int ndim, const int64_t *dims);
/* Plain layout of value v. */
void dn_plain_md(const eos_plan *p, int v, dnnl_memory_desc_t *md);
/* "Any" layout (format chosen by the primitive) of f32 ndim/dims. */
void dn_any_md(dnnl_memory_desc_t *md, int ndim, const int64_t *dims);
/* The layout `like` has (an activation format: plain, channels-last or channel-blocked by
 * 4/8/16) for other dims; false when like's format is none of those. */
bool dn_md_like(const dnnl_memory_desc_t *like, int ndim, const int64_t *dims,
                dnnl_memory_desc_t *out);
/* True when md is the plain layout of value v. */
bool dn_is_plain(const eos_plan *p, int v, const dnnl_memory_desc_t *md);
/* True when buffer b (and its alias group) is an ordinary arena buffer nobody outside this back-
 * end sees: not an input, output, constant or extern buffer. */
bool dn_buf_private(const eos_plan *p, int b);

/* Primitive attributes with the user scratchpad and post-ops: optional sum (residual), then the
 * fused activation of f (may be NULL). */
eos_status dn_make_attr(const eos_plan *p, int node, const eos_fusion *f, bool with_sum,
                        dnnl_primitive_attr_t *out, eos_err *err);
/* Create a primitive descriptor; *ok is false (and EOS_OK returned) when oneDNN has no
 * implementation, so the caller falls back to the reference step. */
eos_status dn_pd_create(const eos_plan *p, int node, dnnl_primitive_desc_t *pd, const void *op_desc,
                        const_dnnl_primitive_attr_t attr, dn_ctx *c, bool *ok, eos_err *err);

/* ------------------------------------------------------------------ value copies */

/* The producer's copy of v (constants and graph inputs: their plain buffer). NULL on OOM or when
 * v has not been produced yet (a bug). */
const dn_copy *dn_value_main(eos_plan *p, dn_ctx *c, int v);
/* The copy of v with layout md, or NULL. */
const dn_copy *dn_value_find(dn_ctx *c, int v, const dnnl_memory_desc_t *md);
/* Buffer holding v in layout md; adds a reorder step (and remembers the copy) when needed. */
eos_status dn_value_get(eos_plan *p, dn_ctx *c, int v, const dnnl_memory_desc_t *md, int *buf,
                        eos_err *err);
/* Make v's plain buffer hold its data (reorder step if needed). */
eos_status dn_value_plain(eos_plan *p, dn_ctx *c, int v, eos_err *err);
/* Buffer for output value v in layout md, recorded as v's only copy. When reuse >= 0 is a
 * private buffer and the new buffer is private too, the two are aliased (in-place op). */
eos_status dn_value_out(eos_plan *p, dn_ctx *c, int v, const dnnl_memory_desc_t *md, int reuse,
                        int *buf, eos_err *err);
/* If v dies at node and has a private copy in layout md, that copy's buffer (for in-place
 * writing), else -1. */
int dn_value_reusable(const eos_plan *p, dn_ctx *c, int v, int node, const dnnl_memory_desc_t *md);
/* Add a reorder step from (src_buf, src_md) to (dst_buf, dst_md); what names the value. */
eos_status dn_add_reorder(eos_plan *p, dn_ctx *c, const char *what, int src_buf,
                          const dnnl_memory_desc_t *src_md, int dst_buf,
                          const dnnl_memory_desc_t *dst_md, eos_err *err);
/* Reorder constant data src (layout src_md) into new eos_malloc'd memory of layout dst_md, now. */
eos_status dn_reorder_const(const eos_plan *p, dn_ctx *c, int node,
                            const dnnl_memory_desc_t *src_md, const void *src,
                            const dnnl_memory_desc_t *dst_md, void **out, eos_err *err);

/* Output buffer for a node computing y = op(...) [+ in[sum_in]]: without a residual this is
 * dn_value_out(y, md, reuse=-1); with one, the residual is made to sit in the returned buffer
 * (aliased when it dies here, else copied by a reorder step) for the `sum` post-op. */
eos_status dn_dst_with_sum(eos_plan *p, dn_ctx *c, int node, const dnnl_memory_desc_t *md,
                           int *buf, eos_err *err);

/* Index of the fastest of n candidate convolution pds for node, measured now on scratch memory
 * (each charged with the reorders it adds); cached per problem in c. */
eos_status dn_tune_pick(eos_plan *p, dn_ctx *c, int node, const dnnl_primitive_desc_t *cands,
                        int n, int *best, eos_err *err);

/* Does the plan have convolutions that will likely run Winograd (so nChw16c should be the
 * common activation layout)? A quick geometric scan, done before lowering. */
bool dn_plan_prefers_blocked(const eos_plan *p, const dn_ctx *c);

/* ------------------------------------------------------------------ per-op lowering */

/* Each returns EOS_OK with *done false when the node is outside what oneDNN covers here (the
 * caller then adds a reference step); steps are only added once the node is known to be done. */
eos_status dn_lower_conv(eos_plan *p, dn_ctx *c, int node, bool *done, eos_err *err);
eos_status dn_lower_gemm(eos_plan *p, dn_ctx *c, int node, bool *done, eos_err *err);
eos_status dn_lower_matmul(eos_plan *p, dn_ctx *c, int node, bool *done, eos_err *err);
eos_status dn_lower_pool(eos_plan *p, dn_ctx *c, int node, bool *done, eos_err *err);
eos_status dn_lower_eltwise(eos_plan *p, dn_ctx *c, int node, bool *done, eos_err *err);
eos_status dn_lower_binary(eos_plan *p, dn_ctx *c, int node, bool *done, eos_err *err);
eos_status dn_lower_batchnorm(eos_plan *p, dn_ctx *c, int node, bool *done, eos_err *err);
eos_status dn_lower_softmax(eos_plan *p, dn_ctx *c, int node, bool *done, eos_err *err);
eos_status dn_lower_concat(eos_plan *p, dn_ctx *c, int node, bool *done, eos_err *err);
eos_status dn_lower_resize(eos_plan *p, dn_ctx *c, int node, bool *done, eos_err *err);

/* True when value v exists (not omitted) and is f32. */
static inline bool dn_is_f32(const eos_plan *p, int v) {
    return v >= 0 && p->g.values[v].dtype == EOS_DTYPE_F32;
}
/* True when value v is a constant (data known at plan time). */
static inline bool dn_is_const(const eos_plan *p, int v) {
    return v >= 0 && p->g.values[v].data != NULL;
}

#endif /* EOS_OPS_DNNL_DN_H */
