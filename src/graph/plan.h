/*
 * src/graph/plan.h - execution plans: how a session turns a graph into steps over buffers.
 *
 * Planning a session for concrete input shapes goes through these stages (plan.c):
 *
 *   1. copy    the model's graph is copied shallowly into the plan (values and nodes arrays;
 *              names, attributes and constant data stay borrowed from the model).
 *   2. infer   nodes in order: eos_op_infer sets every output shape; a node whose inputs are all
 *              constant (Shape always) is evaluated with its reference kernel and its outputs
 *              become constants: this folds the Shape->Gather->Concat->Reshape sub-graphs that
 *              exporters emit. Folded nodes are removed.
 *   3. fuse    Conv/ConvTranspose/Gemm/MatMul + activation, Conv + residual Add (+ activation)
 *              are merged into eos_node.fuse (src/graph/passes.c).
 *   4. lower   the back-end appends steps for every node (eos_backend_impl.lower). A step is a
 *              function and state that reads and writes buffers. The ref back-end adds one
 *              reference step per node on plain buffers; dnnl adds primitives on its own blocked
 *              buffers plus reorder steps where a plain tensor is needed, and ref steps for ops
 *              it does not cover.
 *   5. memory  buffer lifetimes (first/last step touching each alias group) are computed and
 *              every group gets an offset in one arena: greedy best-fit by decreasing size over
 *              overlapping lifetimes (liveness-based reuse).
 *   6. bind    the arena is allocated once; the back-end's bind() sees final pointers.
 *
 * Running = copy inputs into their buffers, run steps in order, read outputs from their plain
 * buffers. Buffers:
 *   - every value has at most one plain (row-major) buffer, eos_plan_value_buf(); constants'
 *     plain buffers point at the constant data and are not in the arena;
 *   - back-ends may create further buffers (blocked layouts, scratch) with eos_plan_new_buf;
 *   - eos_plan_alias(a, b) makes two buffers share memory (in-place ops, residual sums): the
 *     caller guarantees their live ranges only touch at one step.
 *
 * A plan belongs to one session and one thread at a time.
 */
#ifndef EOS_GRAPH_PLAN_H
#define EOS_GRAPH_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/err.h"
#include "graph/graph.h"

typedef struct eos_plan eos_plan;
typedef struct eos_step eos_step;

enum {
    EOS_BUF_CONST  = 1u << 0,   /* points at constant data (not in the arena) */
    EOS_BUF_INPUT  = 1u << 1,   /* graph input: live from before the first step */
    EOS_BUF_OUTPUT = 1u << 2,   /* graph output: live until after the last step */
    EOS_BUF_EXTERN = 1u << 3    /* memory owned elsewhere (back-end), ptr preset, not planned */
};

typedef struct eos_buf {
    size_t   nbytes;
    uint32_t flags;
    int      value;        /* value whose plain data this is, or -1 */
    int      first, last;  /* step range (computed by the memory stage) */
    int      alias;        /* union-find parent (itself when a root) */
    int64_t  offset;       /* offset in the arena, -1 when not planned */
    void    *ptr;          /* valid after bind */
} eos_buf;

/* A step's function. Runs on the plan's thread; may use p->n_threads worker threads through the
 * back-end's own runtime. */
typedef eos_status (*eos_step_fn)(eos_plan *p, const eos_step *s, eos_err *err);

struct eos_step {
    eos_step_fn  exec;
    void        *state;                 /* owned: released with free_state (may be NULL) */
    void       (*free_state)(void *state);
    int          node;                  /* node id, or -1 for reorders/copies */
    int          n_bufs;
    int         *bufs;                  /* every buffer read or written (for liveness) */
    const char  *label;                 /* short name for profiles: "Conv", "reorder" */
};

/* A kernel back-end: lowers a fused, shape-inferred graph to steps. */
typedef struct eos_backend_impl {
    const char *name;
    /* Create p->be_state (may stay NULL). */
    eos_status (*init)(eos_plan *p, eos_err *err);
    /* Append steps for all of p->g's nodes, in order. */
    eos_status (*lower)(eos_plan *p, eos_err *err);
    /* Called once after every buffer has its final ptr. */
    eos_status (*bind)(eos_plan *p, eos_err *err);
    /* Called at the start of every run (e.g. set the OpenMP thread count). May be NULL. */
    eos_status (*begin_run)(eos_plan *p, eos_err *err);
    /* Release p->be_state (steps' own states are freed separately). */
    void       (*release)(eos_plan *p);
} eos_backend_impl;

struct eos_plan {
    eos_graph               g;           /* shallow copy, shapes concrete after planning */
    eos_arena               arena;       /* plan-lifetime bookkeeping (step arrays, etc.) */
    const eos_backend_impl *be;
    void                   *be_state;
    int                     n_threads;
    eos_buf                *bufs;   int n_bufs, cap_bufs;
    int                    *val_buf;     /* [g.n_values] plain buffer id or -1 */
    eos_step               *steps;  int n_steps, cap_steps;
    void                   *mem;         /* the arena holding all planned buffers */
    size_t                  mem_bytes;
    int                    *last_use;    /* [g.n_values]: last node index reading the value, or
                                            g.n_nodes for graph outputs, -1 if unused */
    size_t                  max_bytes;   /* limit on the arena, any one tensor, and all folded
                                            constants together (EOS_LIMIT beyond) */
    size_t                  folded_bytes;/* constant data created by plan-time folding */
};

/* ------------------------------------------------------------------ for back-ends */

/* New buffer of nbytes (flags EOS_BUF_*). Returns id, or -1 on OOM. */
int eos_plan_new_buf(eos_plan *p, size_t nbytes, uint32_t flags);
/* The plain row-major buffer of value v, created on first request (constants: EOS_BUF_CONST
 * pointing at the data). Returns -1 on OOM or for a value without a known shape. */
int eos_plan_value_buf(eos_plan *p, int v);
/* Make buffers a and b share memory (sizes: the larger wins). */
void eos_plan_alias(eos_plan *p, int a, int b);
/* Append a step; bufs is copied. Returns EOS_NOMEM on failure (state is then freed). */
eos_status eos_plan_add_step(eos_plan *p, eos_step_fn exec, void *state,
                             void (*free_state)(void *), int node, const int *bufs, int n_bufs,
                             const char *label);
/* Append the reference step for node `node` on plain buffers of its inputs/outputs. When the
 * node has a fused residual (fuse.sum_in >= 0) and that input dies at this node, the output
 * buffer is aliased to it. */
eos_status eos_plan_add_ref_step(eos_plan *p, int node, eos_err *err);
/* True when value v is read by no node after node `node` and is not a graph output. */
bool eos_plan_value_dies_at(const eos_plan *p, int v, int node);
/* Memory of buffer b once bound. */
static inline void *eos_plan_buf_ptr(const eos_plan *p, int b) { return p->bufs[b].ptr; }

/* ------------------------------------------------------------------ for sessions */

/* Default memory limit of a plan (eos_session_params.max_arena_bytes == 0): 16 GiB. */
#define EOS_PLAN_MAX_BYTES_DEFAULT ((size_t)16 << 30)

/* Plan graph `model_g` for the given input shapes (one per graph input, in order) on back-end
 * be with n_threads. On success *out is a ready plan; free with eos_plan_free. The plan's memory
 * limit is EOS_PLAN_MAX_BYTES_DEFAULT. */
eos_status eos_plan_create(const eos_graph *model_g, const eos_tensor *inputs, int n_inputs,
                           const eos_backend_impl *be, int n_threads, eos_plan **out,
                           eos_err *err);
/* Same with a memory limit in bytes (0: the default): a graph whose activation arena, any
 * single tensor, or plan-time folded constants (together) would need more fails with EOS_LIMIT
 * and a message naming the node, before anything that size is allocated. */
eos_status eos_plan_create_limited(const eos_graph *model_g, const eos_tensor *inputs,
                                   int n_inputs, const eos_backend_impl *be, int n_threads,
                                   size_t max_bytes, eos_plan **out, eos_err *err);
/* Copy/convert inputs into their buffers and run every step. */
eos_status eos_plan_run(eos_plan *p, const eos_tensor *inputs, int n_inputs, eos_err *err);
/* Output i of the last run (plain, row-major; data borrowed from the plan). */
eos_tensor eos_plan_output(const eos_plan *p, int i);
void eos_plan_free(eos_plan *p);

/* The back-ends. eos_backend_dnnl() returns NULL when oneDNN was not built in. */
const eos_backend_impl *eos_backend_ref(void);
const eos_backend_impl *eos_backend_dnnl(void);

#endif /* EOS_GRAPH_PLAN_H */
