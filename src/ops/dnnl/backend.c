/*
 * src/ops/dnnl/backend.c - the oneDNN back-end: engine/stream context, primitive steps, the
 * copies (layouts) of each value, and the lowering loop that dispatches nodes to conv.c and
 * layers.c or to reference steps.
 *
 * Lowering keeps activations in whatever layout oneDNN picked for the convolution that produced
 * them and only reorders where a consumer needs another layout: a reference step (plain), a
 * graph output (plain), or a primitive whose descriptor asked for something else. See dn.h for
 * the bookkeeping and docs/dnnl-backend.md for the design.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include <oneapi/dnnl/dnnl_debug.h>

#include "eosight/alloc.h"
#include "ops/dnnl/dn.h"
#include "ops/ops.h"

/* ------------------------------------------------------------------ context */

static void ctx_unref(dn_ctx *c) {
    if (!c || --c->refs > 0) return;
    if (c->stream) dnnl_stream_destroy(c->stream);
    if (c->engine) dnnl_engine_destroy(c->engine);
    eos_free(c->vals);
    eos_free(c->prims);
    eos_free(c->tuned);
    eos_free(c);
}

/* Drop the lowering-only state (value copies, bind list). */
static void ctx_drop_lowering(dn_ctx *c) {
    eos_free(c->vals);
    c->vals = NULL;
    eos_free(c->prims);
    c->prims = NULL;
    c->n_prims = c->cap_prims = 0;
    eos_free(c->tuned);
    c->tuned = NULL;
    c->n_tuned = 0;
}

static void set_threads(const eos_plan *p) {
#ifdef _OPENMP
    if (p->n_threads > 0) omp_set_num_threads(p->n_threads);
#else
    (void)p;
#endif
}

static eos_status be_init(eos_plan *p, eos_err *err) {
    dn_ctx *c = eos_calloc(1, sizeof *c);
    if (!c) return eos_err_set(err, EOS_NOMEM, "out of memory creating the oneDNN context");
    c->refs = 1;
    p->be_state = c;
    /* primitives choose their blocking for the thread count they will run with */
    set_threads(p);
    dnnl_status_t r = dnnl_engine_create(&c->engine, dnnl_cpu, 0);
    if (r != dnnl_success) return dn_fail(p, -1, "dnnl_engine_create", r, err);
    r = dnnl_stream_create(&c->stream, c->engine, dnnl_stream_default_flags);
    if (r != dnnl_success) return dn_fail(p, -1, "dnnl_stream_create", r, err);
    c->vals = eos_calloc((size_t)p->g.n_values + 1, sizeof *c->vals);
    c->tuned = eos_calloc(DN_MAX_TUNED, sizeof *c->tuned);
    if (!c->vals || !c->tuned)
        return eos_err_set(err, EOS_NOMEM, "out of memory creating the oneDNN context");
    const char *mode = getenv("EOS_DNNL_CONV");
    if (!mode || !*mode || !strcmp(mode, "auto")) c->conv_mode = DN_CONV_AUTO;
    else if (!strcmp(mode, "direct")) c->conv_mode = DN_CONV_DIRECT;
    else if (!strcmp(mode, "winograd")) c->conv_mode = DN_CONV_WINOGRAD;
    else if (!strcmp(mode, "tune")) c->conv_mode = DN_CONV_TUNE;
    else return eos_err_set(err, EOS_INVALID_ARG, "EOS_DNNL_CONV='%s': expected auto, direct, "
                            "winograd or tune", mode);
    return EOS_OK;
}

static void be_release(eos_plan *p) {
    ctx_unref(p->be_state);
    p->be_state = NULL;
}

static eos_status be_begin_run(eos_plan *p, eos_err *err) {
    (void)err;
    set_threads(p);
    return EOS_OK;
}

/* ------------------------------------------------------------------ helpers */

eos_status dn_fail(const eos_plan *p, int node, const char *call, dnnl_status_t r, eos_err *err) {
    const char *why = dnnl_status2str(r);
    if (node >= 0 && node < p->g.n_nodes) {
        const eos_node *n = &p->g.nodes[node];
        return eos_err_set(err, r == dnnl_out_of_memory ? EOS_NOMEM : EOS_BACKEND,
                           "node '%s' (%s): %s: %s", n->name, n->op_type, call, why);
    }
    return eos_err_set(err, r == dnnl_out_of_memory ? EOS_NOMEM : EOS_BACKEND, "oneDNN: %s: %s",
                       call, why);
}

void dn_plain_md_dims(dnnl_memory_desc_t *md, int ndim, const int64_t *dims) {
    dnnl_dims_t d, s;
    int nd = ndim > 0 ? ndim : 1;
    for (int i = 0; i < nd; i++) d[i] = ndim > 0 ? dims[i] : 1;
    dnnl_dim_t stride = 1;
    for (int i = nd - 1; i >= 0; i--) {
        s[i] = stride;
        stride *= d[i] > 0 ? d[i] : 1;
    }
    memset(md, 0, sizeof *md);
    dnnl_memory_desc_init_by_strides(md, nd, d, dnnl_f32, s);
}

void dn_plain_md(const eos_plan *p, int v, dnnl_memory_desc_t *md) {
    const eos_value *val = &p->g.values[v];
    dn_plain_md_dims(md, val->ndim, val->dims);
}

void dn_any_md(dnnl_memory_desc_t *md, int ndim, const int64_t *dims) {
    dnnl_dims_t d;
    for (int i = 0; i < ndim; i++) d[i] = dims[i];
    memset(md, 0, sizeof *md);
    dnnl_memory_desc_init_by_tag(md, ndim, d, dnnl_f32, dnnl_format_tag_any);
}

bool dn_md_like(const dnnl_memory_desc_t *like, int ndim, const int64_t *dims,
                dnnl_memory_desc_t *out) {
    static const dnnl_format_tag_t tags3[] = { dnnl_abc, dnnl_acb, dnnl_aBc16b, dnnl_aBc8b,
                                               dnnl_aBc4b };
    static const dnnl_format_tag_t tags4[] = { dnnl_abcd, dnnl_acdb, dnnl_aBcd16b, dnnl_aBcd8b,
                                               dnnl_aBcd4b };
    static const dnnl_format_tag_t tags5[] = { dnnl_abcde, dnnl_acdeb, dnnl_aBcde16b,
                                               dnnl_aBcde8b, dnnl_aBcde4b };
    const dnnl_format_tag_t *tags = ndim == 3 ? tags3 : ndim == 4 ? tags4
                                  : ndim == 5 ? tags5 : NULL;
    if (!tags || like->ndims != ndim) return false;
    dnnl_dims_t d;
    for (int i = 0; i < ndim; i++) d[i] = dims[i];
    for (int t = 0; t < 5; t++) {
        dnnl_memory_desc_t probe;
        dnnl_status_t r = dnnl_memory_desc_init_by_tag(&probe, ndim, like->dims, dnnl_f32, tags[t]);
        if (r != dnnl_success || !dnnl_memory_desc_equal(&probe, like)) continue;
        return dnnl_memory_desc_init_by_tag(out, ndim, d, dnnl_f32, tags[t]) == dnnl_success;
    }
    return false;
}

bool dn_is_plain(const eos_plan *p, int v, const dnnl_memory_desc_t *md) {
    dnnl_memory_desc_t pl;
    dn_plain_md(p, v, &pl);
    return dnnl_memory_desc_equal(&pl, md) != 0;
}

bool dn_buf_private(const eos_plan *p, int b) {
    const uint32_t shared = EOS_BUF_INPUT | EOS_BUF_OUTPUT | EOS_BUF_CONST | EOS_BUF_EXTERN;
    for (int guard = 0; b >= 0 && guard < p->n_bufs; guard++) {
        if (p->bufs[b].flags & shared) return false;
        if (p->bufs[b].alias == b) return true;
        b = p->bufs[b].alias;
    }
    return false;
}

static eos_status append_act(dnnl_post_ops_t po, const eos_fusion *f, dnnl_status_t *r) {
    switch (f->act) {
    case EOS_ACT_NONE: *r = dnnl_success; break;
    case EOS_ACT_RELU: *r = dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_relu, 0, 0); break;
    case EOS_ACT_LEAKY_RELU:
        *r = dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_relu, f->alpha, 0);
        break;
    case EOS_ACT_CLIP:
        *r = dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_clip_v2, f->alpha, f->beta);
        break;
    case EOS_ACT_SIGMOID:
        *r = dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_logistic, 0, 0);
        break;
    case EOS_ACT_TANH: *r = dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_tanh, 0, 0); break;
    case EOS_ACT_HARD_SIGMOID:   /* 2.6 has no hardsigmoid: linear then clip to [0, 1] */
        *r = dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_linear, f->alpha, f->beta);
        if (*r == dnnl_success)
            *r = dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_clip_v2, 0.0f, 1.0f);
        break;
    case EOS_ACT_HARD_SWISH:
        *r = dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_hardswish, 0, 0);
        break;
    default: *r = dnnl_unimplemented; break;
    }
    return EOS_OK;
}

eos_status dn_make_attr(const eos_plan *p, int node, const eos_fusion *f, bool with_sum,
                        dnnl_primitive_attr_t *out, eos_err *err) {
    *out = NULL;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    const char *call = "dnnl_primitive_attr_create";
    dnnl_status_t r = dnnl_primitive_attr_create(&attr);
    if (r == dnnl_success) {
        call = "dnnl_primitive_attr_set_scratchpad_mode";
        r = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    }
    if (r == dnnl_success && (with_sum || (f && f->act != EOS_ACT_NONE))) {
        call = "dnnl_post_ops_create";
        r = dnnl_post_ops_create(&po);
        if (r == dnnl_success && with_sum) {
            call = "dnnl_post_ops_append_sum";
            r = dnnl_post_ops_append_sum(po, 1.0f);
        }
        if (r == dnnl_success && f) {
            call = "dnnl_post_ops_append_eltwise";
            append_act(po, f, &r);
        }
        if (r == dnnl_success) {
            call = "dnnl_primitive_attr_set_post_ops";
            r = dnnl_primitive_attr_set_post_ops(attr, po);
        }
        if (po) dnnl_post_ops_destroy(po);
    }
    if (r != dnnl_success) {
        if (attr) dnnl_primitive_attr_destroy(attr);
        return dn_fail(p, node, call, r, err);
    }
    *out = attr;
    return EOS_OK;
}

eos_status dn_pd_create(const eos_plan *p, int node, dnnl_primitive_desc_t *pd, const void *op_desc,
                        const_dnnl_primitive_attr_t attr, dn_ctx *c, bool *ok, eos_err *err) {
    *pd = NULL;
    *ok = false;
    dnnl_status_t r = dnnl_primitive_desc_create(pd, op_desc, attr, c->engine, NULL);
    if (r == dnnl_success) {
        *ok = true;
        return EOS_OK;
    }
    *pd = NULL;
    if (dn_unsupported(r)) return EOS_OK;
    return dn_fail(p, node, "dnnl_primitive_desc_create", r, err);
}

/* ------------------------------------------------------------------ primitive steps */

void dn_prim_free(void *state) {
    dn_prim *s = state;
    if (!s) return;
    for (int i = 0; i < s->n_args; i++)
        if (s->exec && s->exec[i].memory) dnnl_memory_destroy(s->exec[i].memory);
    if (s->prim) dnnl_primitive_destroy(s->prim);
    eos_free(s->bufs);
    eos_free(s->mds);
    eos_free(s->exec);
    eos_free(s->owned);
    ctx_unref(s->ctx);
    eos_free(s);
}

static eos_status prim_exec(eos_plan *p, const eos_step *st, eos_err *err) {
    const dn_prim *s = st->state;
    dnnl_status_t r = dnnl_primitive_execute(s->prim, s->ctx->stream, s->n_args, s->exec);
    if (r == dnnl_success) return EOS_OK;
    if (s->node >= 0) return dn_fail(p, s->node, "dnnl_primitive_execute", r, err);
    return eos_err_set(err, EOS_BACKEND, "reorder of '%s': dnnl_primitive_execute: %s", s->what,
                       dnnl_status2str(r));
}

eos_status dn_prim_new(eos_plan *p, dn_ctx *c, int node, const char *what,
                       const_dnnl_primitive_desc_t pd, int max_args, dn_prim **out, eos_err *err) {
    *out = NULL;
    dn_prim *s = eos_calloc(1, sizeof *s);
    int cap = max_args + 1;
    if (!s) return eos_err_set(err, EOS_NOMEM, "out of memory lowering to oneDNN");
    s->ctx = c;
    c->refs++;
    s->node = node;
    s->what = what ? what : "";
    s->cap_args = cap;
    s->bufs = eos_calloc((size_t)cap, sizeof *s->bufs);
    s->mds = eos_calloc((size_t)cap, sizeof *s->mds);
    s->exec = eos_calloc((size_t)cap, sizeof *s->exec);
    if (!s->bufs || !s->mds || !s->exec) {
        dn_prim_free(s);
        return eos_err_set(err, EOS_NOMEM, "out of memory lowering to oneDNN");
    }
    dnnl_status_t r = dnnl_primitive_create(&s->prim, pd);
    if (r != dnnl_success) {
        s->prim = NULL;
        dn_prim_free(s);
        return dn_fail(p, node, "dnnl_primitive_create", r, err);
    }
    const dnnl_memory_desc_t *sp = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    size_t sp_bytes = sp ? dnnl_memory_desc_get_size(sp) : 0;
    if (sp_bytes > 0) {
        int b = eos_plan_new_buf(p, sp_bytes, 0);
        if (b < 0) {
            dn_prim_free(s);
            return eos_err_set(err, EOS_NOMEM, "out of memory lowering to oneDNN");
        }
        dn_prim_arg(s, DNNL_ARG_SCRATCHPAD, b, sp);
    }
    *out = s;
    return EOS_OK;
}

void dn_prim_arg(dn_prim *s, int arg, int buf, const dnnl_memory_desc_t *md) {
    if (s->n_args >= s->cap_args) { /* a caller under-sized max_args: dn_prim_add reports it */
        s->overflow = true;
        return;
    }
    int i = s->n_args++;
    s->bufs[i] = buf;
    s->mds[i] = *md;
    s->exec[i].arg = arg;
    s->exec[i].memory = NULL;
}

eos_status dn_prim_arg_ptr(eos_plan *p, dn_prim *s, int arg, const dnnl_memory_desc_t *md,
                           void *ptr, eos_err *err) {
    if (s->n_args >= s->cap_args)
        return eos_err_set(err, EOS_INTERNAL, "dnnl: too many primitive arguments");
    dnnl_memory_t m = NULL;
    dnnl_status_t r = dnnl_memory_create(&m, md, s->ctx->engine, ptr);
    if (r != dnnl_success) return dn_fail(p, s->node, "dnnl_memory_create", r, err);
    int i = s->n_args++;
    s->bufs[i] = -1;
    s->mds[i] = *md;
    s->exec[i].arg = arg;
    s->exec[i].memory = m;
    return EOS_OK;
}

eos_status dn_prim_add(eos_plan *p, dn_prim *s, const char *label, eos_err *err) {
    dn_ctx *c = s->ctx;
    if (s->overflow) {
        dn_prim_free(s);
        return eos_err_set(err, EOS_INTERNAL, "dnnl: '%s' step has more arguments than planned",
                           label);
    }
    int bufs[64], n_bufs = 0;
    for (int i = 0; i < s->n_args && n_bufs < 64; i++)
        if (s->bufs[i] >= 0) bufs[n_bufs++] = s->bufs[i];
    if (n_bufs == 64) {
        dn_prim_free(s);
        return eos_err_set(err, EOS_LIMIT, "dnnl: too many primitive arguments");
    }
    if (c->n_prims == c->cap_prims) {
        int cap = c->cap_prims ? 2 * c->cap_prims : 64;
        dn_prim **np = eos_realloc(c->prims, (size_t)cap * sizeof *np);
        if (!np) {
            dn_prim_free(s);
            return eos_err_set(err, EOS_NOMEM, "out of memory lowering to oneDNN");
        }
        c->prims = np;
        c->cap_prims = cap;
    }
    eos_status st = eos_plan_add_step(p, prim_exec, s, dn_prim_free, s->node, bufs, n_bufs, label);
    if (st != EOS_OK) return eos_err_set(err, st, "out of memory lowering to oneDNN");
    c->prims[c->n_prims++] = s;
    return EOS_OK;
}

static eos_status be_bind(eos_plan *p, eos_err *err) {
    dn_ctx *c = p->be_state;
    for (int k = 0; k < c->n_prims; k++) {
        dn_prim *s = c->prims[k];
        for (int i = 0; i < s->n_args; i++) {
            if (s->bufs[i] < 0 || s->exec[i].memory) continue;
            void *ptr = eos_plan_buf_ptr(p, s->bufs[i]);
            if (!ptr && dnnl_memory_desc_get_size(&s->mds[i]) > 0)
                return eos_err_set(err, EOS_INTERNAL, "dnnl: buffer %d of a step has no memory",
                                   s->bufs[i]);
            dnnl_status_t r = dnnl_memory_create(&s->exec[i].memory, &s->mds[i], c->engine, ptr);
            if (r != dnnl_success) {
                s->exec[i].memory = NULL;
                return dn_fail(p, s->node, "dnnl_memory_create", r, err);
            }
        }
    }
    ctx_drop_lowering(c);
    return EOS_OK;
}

/* ------------------------------------------------------------------ reorders */

static eos_status reorder_pd(const eos_plan *p, dn_ctx *c, int node, const dnnl_memory_desc_t *src,
                             const dnnl_memory_desc_t *dst, bool user_scratch,
                             dnnl_primitive_desc_t *pd, eos_err *err) {
    dnnl_primitive_attr_t attr = NULL;
    dnnl_status_t r = dnnl_primitive_attr_create(&attr);
    if (r == dnnl_success && user_scratch)
        r = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (r == dnnl_success)
        r = dnnl_reorder_primitive_desc_create(pd, src, c->engine, dst, c->engine, attr);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (r != dnnl_success) return dn_fail(p, node, "dnnl_reorder_primitive_desc_create", r, err);
    return EOS_OK;
}

eos_status dn_add_reorder(eos_plan *p, dn_ctx *c, const char *what, int src_buf,
                          const dnnl_memory_desc_t *src_md, int dst_buf,
                          const dnnl_memory_desc_t *dst_md, eos_err *err) {
    dnnl_primitive_desc_t pd = NULL;
    EOS_TRY(reorder_pd(p, c, -1, src_md, dst_md, true, &pd, err));
    dn_prim *s = NULL;
    eos_status st = dn_prim_new(p, c, -1, what, pd, 2, &s, err);
    dnnl_primitive_desc_destroy(pd);
    if (st != EOS_OK) return st;
    dn_prim_arg(s, DNNL_ARG_SRC, src_buf, src_md);
    dn_prim_arg(s, DNNL_ARG_DST, dst_buf, dst_md);
    return dn_prim_add(p, s, "reorder", err);
}

eos_status dn_reorder_const(const eos_plan *p, dn_ctx *c, int node,
                            const dnnl_memory_desc_t *src_md, const void *src,
                            const dnnl_memory_desc_t *dst_md, void **out, eos_err *err) {
    *out = NULL;
    size_t nbytes = dnnl_memory_desc_get_size(dst_md);
    void *dst = eos_calloc(1, nbytes ? nbytes : 1);
    if (!dst) return eos_err_set(err, EOS_NOMEM, "out of memory reordering weights");
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t prim = NULL;
    dnnl_memory_t ms = NULL, md = NULL;
    eos_status st = reorder_pd(p, c, node, src_md, dst_md, false, &pd, err);
    if (st != EOS_OK) {
        eos_free(dst);
        return st;
    }
    const char *call = "dnnl_primitive_create";
    dnnl_status_t r = dnnl_primitive_create(&prim, pd);
    if (r == dnnl_success) {
        call = "dnnl_memory_create";
        r = dnnl_memory_create(&ms, src_md, c->engine, (void *)src);
    }
    if (r == dnnl_success) r = dnnl_memory_create(&md, dst_md, c->engine, dst);
    if (r == dnnl_success) {
        dnnl_exec_arg_t args[2] = { { DNNL_ARG_FROM, ms }, { DNNL_ARG_TO, md } };
        call = "dnnl_primitive_execute";
        r = dnnl_primitive_execute(prim, c->stream, 2, args);
        if (r == dnnl_success) r = dnnl_stream_wait(c->stream);
    }
    if (md) dnnl_memory_destroy(md);
    if (ms) dnnl_memory_destroy(ms);
    if (prim) dnnl_primitive_destroy(prim);
    dnnl_primitive_desc_destroy(pd);
    if (r != dnnl_success) {
        eos_free(dst);
        return dn_fail(p, node, call, r, err);
    }
    *out = dst;
    return EOS_OK;
}

/* ------------------------------------------------------------------ value copies */

static void value_add_copy(dn_ctx *c, int v, int buf, const dnnl_memory_desc_t *md) {
    dn_value *dv = &c->vals[v];
    int i = dv->n_copies < DN_MAX_COPIES ? dv->n_copies++ : DN_MAX_COPIES - 1;
    dv->copies[i].buf = buf;
    dv->copies[i].md = *md;
}

const dn_copy *dn_value_main(eos_plan *p, dn_ctx *c, int v) {
    dn_value *dv = &c->vals[v];
    if (dv->n_copies > 0) return &dv->copies[0];
    const eos_value *val = &p->g.values[v];
    if (!val->data && !(val->flags & EOS_VAL_INPUT)) return NULL;
    int b = eos_plan_value_buf(p, v);
    if (b < 0) return NULL;
    dnnl_memory_desc_t md;
    dn_plain_md(p, v, &md);
    value_add_copy(c, v, b, &md);
    return &dv->copies[0];
}

const dn_copy *dn_value_find(dn_ctx *c, int v, const dnnl_memory_desc_t *md) {
    dn_value *dv = &c->vals[v];
    for (int i = 0; i < dv->n_copies; i++)
        if (dnnl_memory_desc_equal(&dv->copies[i].md, md)) return &dv->copies[i];
    return NULL;
}

static eos_status missing(const eos_plan *p, int v, eos_err *err) {
    return eos_err_set(err, EOS_INTERNAL, "dnnl: value '%s' is not available (read before it is "
                       "computed, or out of memory)", p->g.values[v].name);
}

eos_status dn_value_get(eos_plan *p, dn_ctx *c, int v, const dnnl_memory_desc_t *md, int *buf,
                        eos_err *err) {
    const dn_copy *src = dn_value_main(p, c, v);
    if (!src) return missing(p, v, err);
    const dn_copy *have = dn_value_find(c, v, md);
    if (have) {
        *buf = have->buf;
        return EOS_OK;
    }
    bool plain = dn_is_plain(p, v, md);
    int b = plain ? eos_plan_value_buf(p, v)
                  : eos_plan_new_buf(p, dnnl_memory_desc_get_size(md), 0);
    if (b < 0) return eos_err_set(err, EOS_NOMEM, "out of memory lowering to oneDNN");
    dn_copy from = *src;
    EOS_TRY(dn_add_reorder(p, c, p->g.values[v].name, from.buf, &from.md, b, md, err));
    value_add_copy(c, v, b, md);
    *buf = b;
    return EOS_OK;
}

eos_status dn_value_plain(eos_plan *p, dn_ctx *c, int v, eos_err *err) {
    dnnl_memory_desc_t md;
    dn_plain_md(p, v, &md);
    int b;
    return dn_value_get(p, c, v, &md, &b, err);
}

eos_status dn_value_out(eos_plan *p, dn_ctx *c, int v, const dnnl_memory_desc_t *md, int reuse,
                        int *buf, eos_err *err) {
    bool plain = dn_is_plain(p, v, md);
    int b = plain ? eos_plan_value_buf(p, v)
                  : eos_plan_new_buf(p, dnnl_memory_desc_get_size(md), 0);
    if (b < 0) return eos_err_set(err, EOS_NOMEM, "out of memory lowering to oneDNN");
    if (reuse >= 0 && dn_buf_private(p, reuse) && dn_buf_private(p, b)) eos_plan_alias(p, reuse, b);
    c->vals[v].n_copies = 0;
    value_add_copy(c, v, b, md);
    *buf = b;
    return EOS_OK;
}

int dn_value_reusable(const eos_plan *p, dn_ctx *c, int v, int node, const dnnl_memory_desc_t *md) {
    if (!eos_plan_value_dies_at(p, v, node)) return -1;
    const dn_copy *cp = dn_value_find(c, v, md);
    if (!cp || !dn_buf_private(p, cp->buf)) return -1;
    return cp->buf;
}

eos_status dn_dst_with_sum(eos_plan *p, dn_ctx *c, int node, const dnnl_memory_desc_t *md,
                           int *buf, eos_err *err) {
    const eos_node *n = &p->g.nodes[node];
    int y = n->out[0];
    if (n->fuse.sum_in < 0) return dn_value_out(p, c, y, md, -1, buf, err);
    int r = n->in[n->fuse.sum_in];
    int reuse = dn_value_reusable(p, c, r, node, md);
    for (int i = 0; i < n->n_in; i++) /* y = conv(x) + x: x is still read while y is written */
        if (i != n->fuse.sum_in && n->in[i] == r) reuse = -1;
    EOS_TRY(dn_value_out(p, c, y, md, reuse, buf, err));
    if (reuse >= 0 && dn_buf_private(p, *buf)) return EOS_OK; /* aliased: already in place */
    const dn_copy *src = dn_value_main(p, c, r);
    if (!src) return missing(p, r, err);
    dn_copy from = *src;
    return dn_add_reorder(p, c, p->g.values[r].name, from.buf, &from.md, *buf, md, err);
}

/* ------------------------------------------------------------------ lowering */

static eos_status lower_ref(eos_plan *p, dn_ctx *c, int node, eos_err *err) {
    const eos_node *n = &p->g.nodes[node];
    for (int i = 0; i < n->n_in; i++) {
        int v = n->in[i];
        if (v < 0 || p->g.values[v].data) continue;
        EOS_TRY(dn_value_plain(p, c, v, err));
    }
    EOS_TRY(eos_plan_add_ref_step(p, node, err));
    for (int i = 0; i < n->n_out; i++) {
        int v = n->out[i];
        int b = eos_plan_value_buf(p, v);
        if (b < 0) return eos_err_set(err, EOS_NOMEM, "out of memory lowering to oneDNN");
        dnnl_memory_desc_t md;
        dn_plain_md(p, v, &md);
        c->vals[v].n_copies = 0;
        value_add_copy(c, v, b, &md);
    }
    return EOS_OK;
}

static bool nonempty_f32(const eos_plan *p, int v) {
    return dn_is_f32(p, v) && eos_value_numel(&p->g.values[v]) > 0;
}

/* Is every non-omitted input and output of n a non-empty f32 tensor (what every oneDNN path
 * here requires)? Resize's roi/scales/sizes are parameters, read by its decoder. */
static bool all_f32(const eos_plan *p, const eos_node *n) {
    int n_data = n->op == EOS_OP_RESIZE ? 1 : n->n_in;
    for (int i = 0; i < n_data; i++)
        if (n->in[i] >= 0 && !nonempty_f32(p, n->in[i])) return false;
    for (int i = 0; i < n->n_out; i++)
        if (!nonempty_f32(p, n->out[i])) return false;
    return true;
}

static eos_status lower_node(eos_plan *p, dn_ctx *c, int node, eos_err *err) {
    const eos_node *n = &p->g.nodes[node];
    bool done = false;
    if (all_f32(p, n)) {
        switch (n->op) {
        case EOS_OP_CONV:
        case EOS_OP_CONV_TRANSPOSE: EOS_TRY(dn_lower_conv(p, c, node, &done, err)); break;
        case EOS_OP_GEMM: EOS_TRY(dn_lower_gemm(p, c, node, &done, err)); break;
        case EOS_OP_MATMUL: EOS_TRY(dn_lower_matmul(p, c, node, &done, err)); break;
        case EOS_OP_MAX_POOL:
        case EOS_OP_AVERAGE_POOL:
        case EOS_OP_GLOBAL_AVERAGE_POOL:
        case EOS_OP_GLOBAL_MAX_POOL: EOS_TRY(dn_lower_pool(p, c, node, &done, err)); break;
        case EOS_OP_RELU:
        case EOS_OP_LEAKY_RELU:
        case EOS_OP_CLIP:
        case EOS_OP_SIGMOID:
        case EOS_OP_TANH:
        case EOS_OP_HARD_SWISH:
        case EOS_OP_EXP:
        case EOS_OP_SQRT:
        case EOS_OP_NEG: EOS_TRY(dn_lower_eltwise(p, c, node, &done, err)); break;
        case EOS_OP_ADD:
        case EOS_OP_SUB:
        case EOS_OP_MUL:
        case EOS_OP_DIV: EOS_TRY(dn_lower_binary(p, c, node, &done, err)); break;
        case EOS_OP_BATCH_NORM: EOS_TRY(dn_lower_batchnorm(p, c, node, &done, err)); break;
        case EOS_OP_SOFTMAX:
        case EOS_OP_LOG_SOFTMAX: EOS_TRY(dn_lower_softmax(p, c, node, &done, err)); break;
        case EOS_OP_CONCAT: EOS_TRY(dn_lower_concat(p, c, node, &done, err)); break;
        case EOS_OP_RESIZE: EOS_TRY(dn_lower_resize(p, c, node, &done, err)); break;
        default: break;
        }
    }
    if (!done) EOS_TRY(lower_ref(p, c, node, err));
    /* graph outputs end plain; do it now so blocked copies can die early */
    for (int i = 0; i < n->n_out; i++)
        if (p->g.values[n->out[i]].flags & EOS_VAL_OUTPUT)
            EOS_TRY(dn_value_plain(p, c, n->out[i], err));
    return EOS_OK;
}

static eos_status be_lower(eos_plan *p, eos_err *err) {
    dn_ctx *c = p->be_state;
    if (!c || !c->vals) return eos_err_set(err, EOS_INTERNAL, "dnnl: lower before init");
    c->prefer_blocked = dn_plan_prefers_blocked(p, c);
    for (int i = 0; i < p->g.n_nodes; i++) EOS_TRY(lower_node(p, c, i, err));
    return EOS_OK;
}

static const eos_backend_impl k_dnnl_backend = {
    .name = "dnnl",
    .init = be_init,
    .lower = be_lower,
    .bind = be_bind,
    .begin_run = be_begin_run,
    .release = be_release,
};

const eos_backend_impl *eos_backend_dnnl(void) { return &k_dnnl_backend; }
