/*
 * src/train/net_internal.h - the inside of eos_net (include/eosight/train.h): a graph made
 * trainable, and its plans.
 *
 * A net owns an eos_graph (from a builder or the ONNX importer). Parameters are the float
 * constants read by Conv/ConvTranspose (weight, bias), Gemm (B, C) and BatchNormalization
 * (scale, B trainable; mean, var as state); their values live in net-owned arrays (p->w) and
 * are written back into the graph's constants when the net is saved.
 *
 * A plan (tplan) is the net prepared for one input shape: every value gets a concrete shape
 * and a buffer (4-D activations are NHWC; 2-D are [N, C]), every node a tnode with its
 * geometry, the saved state backward needs, and its oneDNN primitives. Backward walks the
 * nodes in reverse; a value's gradient is "set" by its first writer (overwrite) and
 * accumulated by the others, so no gradient buffer is zeroed needlessly.
 *
 * Not thread-safe: one net, one caller.
 */
#ifndef EOS_TRAIN_NET_INTERNAL_H
#define EOS_TRAIN_NET_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "eosight/train.h"
#include "graph/graph.h"
#include "train/tref.h"

typedef enum tparam_role { TP_WEIGHT = 0, TP_BIAS, TP_BN_SCALE, TP_BN_SHIFT, TP_BN_MEAN, TP_BN_VAR } tparam_role;

typedef struct tparam {
    int         value;       /* graph value id */
    tparam_role role;
    float      *w;           /* n floats, eos_malloc */
    float      *g;           /* gradient (trainable only) */
    int64_t     n;
    bool        trainable;
} tparam;

typedef struct tval {
    int     ndim;
    int64_t d[4];            /* ONNX (NCHW) dims */
    int64_t numel;
    float  *x;               /* data: NHWC for 4-D; params point into tparam.w */
    float  *g;               /* gradient buffer, NULL when not needed */
    bool    need_grad;       /* depends on a trainable parameter */
    bool    g_set;           /* gradient written this backward */
    bool    owned;           /* x/g allocated by the plan */
    int     param;           /* tparam index or -1 */
} tval;

typedef enum tkind {
    TK_CONV = 0, TK_BN, TK_ACT, TK_POOL, TK_GAP, TK_FLATTEN, TK_GEMM, TK_ADD, TK_MUL, TK_CONCAT,
    TK_RESIZE, TK_DROPOUT, TK_SOFTMAX, TK_IDENTITY
} tkind;

typedef struct tdn tdn;      /* oneDNN state of a node (net_dnnl.c) */

typedef struct tnode {
    int           id;        /* graph node */
    const eos_node *n;
    tkind         kind;
    int           x, w, b, y;        /* value ids (w/b -1 when absent) */
    int           n_in;              /* concat/add: inputs */
    int          *ins;
    eos_tconv     conv;
    eos_tpool     pool;
    eos_tact      act;
    float         alpha, beta;
    float         eps, momentum;     /* BN */
    bool          trans_b;           /* Gemm */
    bool          fuse_relu;         /* BN: also applies the ReLU that alone reads its output
                                        (y is then the ReLU's output) */
    bool          nop;               /* a ReLU folded into the BN before it */
    float         g_alpha, g_beta;
    eos_tresize   rmode;
    eos_tcoord    rcoord;
    float         ratio;             /* dropout */
    /* saved for backward */
    float        *save_mean, *save_invstd;
    int64_t      *argmax;
    uint8_t      *mask;
    tdn          *dn;                /* NULL: reference kernels */
} tnode;

typedef struct tplan {
    int      batch, h, w;
    tval    *vals;                   /* [g.n_values] */
    tnode   *nodes;  int n_nodes;
    float   *scratch; int64_t scratch_n;  /* largest gradient, for accumulate-by-add */
    float   *xin;                    /* NHWC copy of the input */
    int      out_h, out_w;
    int64_t  rows;
    float   *out_rows;               /* output as rows x classes */
    bool     trained;                /* last forward was training mode */
    uint64_t last_use;
} tplan;

#define EOS_NET_MAX_PLANS 3

struct eos_net {
    eos_ctx     *ctx;
    eos_graph    g;
    eos_net_params params;
    int          input, output;      /* value ids */
    int          in_ch, n_out;
    tparam      *params_;  int n_params_;      /* all (trainable + BN state) */
    int         *value_param;                   /* [g.n_values] -> tparam index or -1 */
    tplan       *plans[EOS_NET_MAX_PLANS];
    tplan       *cur;
    uint64_t     use_clock;
    eos_rng      rng;
    void        *dn_ctx;                        /* engine + stream (net_dnnl.c) */
    char         errmsg[EOS_ERR_MSG_MAX];
};

/* ---- net_dnnl.c: oneDNN kernels for a tnode (all no-ops returning false without oneDNN) */
/* Create the engine/stream. */
eos_status eos__tdn_init(eos_net *net, eos_err *err);
void       eos__tdn_release(eos_net *net);
/* Try to make oneDNN primitives for node t of plan p; leaves t->dn NULL when oneDNN cannot
 * (the node then runs the reference kernels). */
eos_status eos__tdn_node(eos_net *net, tplan *p, tnode *t, eos_err *err);
void       eos__tdn_node_free(tnode *t);
/* Whether t's convolution computes in bf16. */
bool       eos__tdn_is_bf16(const tnode *t);
/* Run forward / backward of t with oneDNN (t->dn != NULL). dx_acc etc.: see net.c. */
eos_status eos__tdn_fwd(eos_net *net, tplan *p, tnode *t, bool train, eos_err *err);
eos_status eos__tdn_bwd(eos_net *net, tplan *p, tnode *t, eos_err *err);

/* ---- net.c helpers shared with net_dnnl.c */
/* Destination for x's gradient: x's own buffer when not yet set this pass (then marked set),
 * else the plan's scratch; *accumulate tells the caller to add scratch into x's gradient with
 * eos__tgrad_commit after writing. */
float *eos__tgrad_dst(tplan *p, int v, bool *accumulate);
void   eos__tgrad_commit(tplan *p, int v, bool accumulate);
/* Gradient of v for an accumulating (+=) kernel: zeroed the first time in a pass, NULL when v
 * (-1 allowed) has no gradient. */
float *eos__tgrad_acc(tplan *p, int v);
/* The gradient of parameter value v (tparam.g), NULL when it is not trainable. */
float *eos__tparam_grad(eos_net *net, int v);

#endif /* EOS_TRAIN_NET_INTERNAL_H */
