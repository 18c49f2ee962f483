/*
 * src/ops/dnnl/tune.c - plan-time measurement of convolution candidates.
 *
 * For a 3x3 stride-1 convolution oneDNN offers direct kernels (brgemm on nhwc, jit on nChw16c)
 * and Winograd kernels (F(2x2,3x3) and F(4x4,3x3) on nChw16c). Winograd needs 2.25-4x fewer
 * multiplications and measures 1.5-2.8x faster on this class of CPU for mid-sized layers, but
 * loses on tiny spatial extents (2x2 outputs) and when it forces layout changes around it. No
 * static rule captured that well, so conv.c asks this file to run each candidate primitive a
 * few times on scratch memory, at plan time, with the plan's thread count, and charges each
 * candidate the reorders it would add (input into its source layout, residual into its
 * destination layout). Results are cached per plan by problem, so repeated blocks are measured
 * once. Cost: a few executions of each candidate, up to seconds for big models. Opt-in
 * (EOS_DNNL_CONV=tune): the default is the fixed rule in conv.c, which is deterministic and free.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "eosight/alloc.h"
#include "ops/dnnl/dn.h"
#include "ops/ops.h"

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

/* A memory object over new zeroed memory of layout md (kept in *ptr for freeing). */
static dnnl_status_t scratch_mem(dn_ctx *c, const dnnl_memory_desc_t *md, dnnl_memory_t *m,
                                 void **ptr) {
    size_t n = dnnl_memory_desc_get_size(md);
    *m = NULL;
    *ptr = eos_calloc(1, n ? n : 64);
    if (!*ptr) return dnnl_out_of_memory;
    return dnnl_memory_create(m, md, c->engine, *ptr);
}

/* Best-of-a-few wall time of one execution of prim with args (after one warm-up run). */
static dnnl_status_t time_exec(dn_ctx *c, dnnl_primitive_t prim, int n_args,
                               const dnnl_exec_arg_t *args, double *ms) {
    dnnl_status_t r = dnnl_primitive_execute(prim, c->stream, n_args, args);
    double best = 1e30, start = now_ms();
    for (int i = 0; r == dnnl_success && i < 5; i++) {
        double t0 = now_ms();
        r = dnnl_primitive_execute(prim, c->stream, n_args, args);
        double t = now_ms() - t0;
        if (t < best) best = t;
        if (i >= 1 && now_ms() - start > 30.0) break;
    }
    *ms = best;
    return r;
}

#define TUNE_MAX_ARGS 6

typedef struct tune_run {
    dnnl_memory_t mem[TUNE_MAX_ARGS];
    void         *ptr[TUNE_MAX_ARGS];
    int           n;
} tune_run;

static void tune_run_free(tune_run *t) {
    for (int i = 0; i < t->n; i++) {
        if (t->mem[i]) dnnl_memory_destroy(t->mem[i]);
        eos_free(t->ptr[i]);
    }
    t->n = 0;
}

/* Time the primitive of pd with scratch memory for each (args[i], mds[i]); NULL or empty mds
 * are skipped. */
static dnnl_status_t time_pd(dn_ctx *c, const_dnnl_primitive_desc_t pd, int n, const int *args,
                             const dnnl_memory_desc_t *const *mds, double *ms) {
    tune_run t;
    dnnl_exec_arg_t ea[TUNE_MAX_ARGS];
    dnnl_primitive_t prim = NULL;
    memset(&t, 0, sizeof t);
    dnnl_status_t r = dnnl_primitive_create(&prim, pd);
    for (int i = 0; r == dnnl_success && i < n && t.n < TUNE_MAX_ARGS; i++) {
        if (!mds[i] || dnnl_memory_desc_get_size(mds[i]) == 0) continue;
        r = scratch_mem(c, mds[i], &t.mem[t.n], &t.ptr[t.n]);
        ea[t.n].arg = args[i];
        ea[t.n].memory = t.mem[t.n];
        t.n++;
    }
    if (r == dnnl_success) r = time_exec(c, prim, t.n, ea, ms);
    tune_run_free(&t);
    if (prim) dnnl_primitive_destroy(prim);
    return r;
}

static const dnnl_memory_desc_t *query(const_dnnl_primitive_desc_t pd, dnnl_query_t q, int i) {
    return dnnl_primitive_desc_query_md(pd, q, i);
}

/* Time a reorder from layout a to layout b. */
static dnnl_status_t time_reorder(dn_ctx *c, const dnnl_memory_desc_t *a,
                                  const dnnl_memory_desc_t *b, double *ms) {
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_status_t r = dnnl_primitive_attr_create(&attr);
    if (r == dnnl_success)
        r = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (r == dnnl_success)
        r = dnnl_reorder_primitive_desc_create(&pd, a, c->engine, b, c->engine, attr);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (r != dnnl_success) return r;
    const int args[3] = { DNNL_ARG_FROM, DNNL_ARG_TO, DNNL_ARG_SCRATCHPAD };
    const dnnl_memory_desc_t *mds[3] = { a, b, query(pd, dnnl_query_scratchpad_md, 0) };
    r = time_pd(c, pd, 3, args, mds, ms);
    dnnl_primitive_desc_destroy(pd);
    return r;
}

/* Cost of candidate pd for node: the convolution plus the reorders it implies. */
static eos_status candidate_cost(eos_plan *p, dn_ctx *c, int node, const_dnnl_primitive_desc_t pd,
                                 double *ms, eos_err *err) {
    const eos_node *n = &p->g.nodes[node];
    const int args[5] = { DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_DST,
                          DNNL_ARG_SCRATCHPAD };
    const dnnl_memory_desc_t *src = query(pd, dnnl_query_src_md, 0);
    const dnnl_memory_desc_t *dst = query(pd, dnnl_query_dst_md, 0);
    const dnnl_memory_desc_t *mds[5] = { src, query(pd, dnnl_query_weights_md, 0),
                                         query(pd, dnnl_query_weights_md, 1), dst,
                                         query(pd, dnnl_query_scratchpad_md, 0) };
    double t_conv = 0, t_src = 0, t_res = 0;
    dnnl_status_t r = time_pd(c, pd, 5, args, mds, &t_conv);
    const dn_copy *have = dn_value_main(p, c, n->in[0]);
    if (r == dnnl_success && have && src && !dn_value_find(c, n->in[0], src)) {
        dnnl_memory_desc_t hm = have->md;
        r = time_reorder(c, &hm, src, &t_src);
    }
    if (r == dnnl_success && n->fuse.sum_in >= 0 && dst) {
        int rv = n->in[n->fuse.sum_in];
        const dn_copy *rc = dn_value_main(p, c, rv);
        if (rc && !dn_value_find(c, rv, dst)) {
            dnnl_memory_desc_t rm = rc->md;
            r = time_reorder(c, &rm, dst, &t_res);
        }
    }
    if (r != dnnl_success) return dn_fail(p, node, "plan-time measurement", r, err);
    *ms = t_conv + t_src + t_res;
    return EOS_OK;
}

/* Append "d0xd1x...:" for value v to key. */
static void key_dims(char *key, size_t n, const eos_value *v) {
    size_t len = strlen(key);
    for (int i = 0; i < v->ndim && len + 24 < n; i++)
        len += (size_t)snprintf(key + len, n - len, "%lldx", (long long)v->dims[i]);
    if (len + 2 < n) snprintf(key + len, n - len, ":");
}

/* Cache key of a convolution problem as seen by the tuner: shapes, fusion, input layout. */
static void tune_key(const eos_plan *p, dn_ctx *c, int node, char *key, size_t n) {
    const eos_node *nd = &p->g.nodes[node];
    const dn_copy *have = c->vals[nd->in[0]].n_copies ? &c->vals[nd->in[0]].copies[0] : NULL;
    snprintf(key, n, "%d:%d:%d:", (int)nd->op, nd->fuse.sum_in >= 0, (int)nd->fuse.act);
    key_dims(key, n, &p->g.values[nd->in[0]]);
    key_dims(key, n, &p->g.values[nd->in[1]]);
    key_dims(key, n, &p->g.values[nd->out[0]]);
    size_t len = strlen(key);
    if (have && have->md.format_kind == dnnl_blocked && len + 64 < n) {
        const dnnl_blocking_desc_t *b = &have->md.format_desc.blocking;
        for (int i = 0; i < have->md.ndims && len + 24 < n; i++)
            len += (size_t)snprintf(key + len, n - len, "s%lld", (long long)b->strides[i]);
        snprintf(key + len, n - len, "b%d:%lld", b->inner_nblks,
                 b->inner_nblks ? (long long)b->inner_blks[0] : 0LL);
    }
}

eos_status dn_tune_pick(eos_plan *p, dn_ctx *c, int node, const dnnl_primitive_desc_t *cands,
                        int n, int *best, eos_err *err) {
    *best = 0;
    if (n <= 1) return EOS_OK;
    char key[256];
    tune_key(p, c, node, key, sizeof key);
    for (int i = 0; i < c->n_tuned; i++)
        if (!strcmp(c->tuned[i].key, key) && c->tuned[i].choice < n) {
            *best = c->tuned[i].choice;
            return EOS_OK;
        }
    double best_ms = 1e30;
    for (int i = 0; i < n; i++) {
        double ms = 0;
        EOS_TRY(candidate_cost(p, c, node, cands[i], &ms, err));
        if (ms < best_ms) {
            best_ms = ms;
            *best = i;
        }
    }
    if (c->n_tuned < DN_MAX_TUNED) {
        snprintf(c->tuned[c->n_tuned].key, sizeof c->tuned[c->n_tuned].key, "%s", key);
        c->tuned[c->n_tuned++].choice = *best;
    }
    return EOS_OK;
}
