/*
 * src/train/net_dnnl.c - oneDNN kernels for training: convolution and transposed convolution
 * (forward training, backward data, backward weights+bias), batch normalization (training
 * with batch statistics, inference with running statistics, backward), pooling (forward with
 * workspace, backward), ReLU (eltwise forward/backward from the output) and Gemm (sgemm).
 *
 * Activations are NHWC plain buffers (the layout the reference kernels use); oneDNN's
 * channels-last kernels run on them directly. Weights stay in ONNX layout in the parameter
 * arrays; each primitive may want its own blocked weight layout, reached by a reorder per
 * step (weights are small next to activations). Memory objects are created once with no data
 * and pointed at the right buffer before each execution (a gradient goes straight into its
 * value's buffer, or into the plan's scratch when another consumer already wrote it).
 *
 * Without oneDNN (EOS_WITH_DNNL off) every function leaves nodes to the reference kernels.
 */
#include <math.h>
#include <string.h>

#include "eosight/alloc.h"
#include "train/net_internal.h"

#ifndef EOS_WITH_DNNL

eos_status eos__tdn_init(eos_net *net, eos_err *err) { (void)net; (void)err; return EOS_OK; }
void eos__tdn_release(eos_net *net) { (void)net; }
eos_status eos__tdn_node(eos_net *net, tplan *p, tnode *t, eos_err *err) {
    (void)net; (void)p; (void)t; (void)err;
    return EOS_OK;
}
void eos__tdn_node_free(tnode *t) { (void)t; }
eos_status eos__tdn_fwd(eos_net *net, tplan *p, tnode *t, bool train, eos_err *err) {
    (void)net; (void)p; (void)t; (void)train;
    return eos_err_set(err, EOS_INTERNAL, "oneDNN not built");
}
eos_status eos__tdn_bwd(eos_net *net, tplan *p, tnode *t, eos_err *err) {
    (void)net; (void)p; (void)t;
    return eos_err_set(err, EOS_INTERNAL, "oneDNN not built");
}
bool eos__tdn_is_bf16(const tnode *t) { (void)t; return false; }

#else

#include <oneapi/dnnl/dnnl.h>

typedef struct tdn_ctx {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
} tdn_ctx;

#define TDN_MAX_ARGS 12

typedef struct tstep {
    dnnl_primitive_t prim;
    int              n;
    dnnl_exec_arg_t  args[TDN_MAX_ARGS];
} tstep;

typedef enum { TM_SRC = 0, TM_DST, TM_W, TM_B, TM_DSRC, TM_DDST, TM_DW, TM_DB, TM_WS,
               TM_MEAN, TM_VAR, TM_WUSER, TM_W2, TM_DWUSER, TM_RM, TM_RV, TM_SRCF, TM_DDSTF,
               TM_COUNT } tm_slot;

struct tdn {
    tstep   fwd, fwd_inf, bwd_d, bwd_w, r_w, r_w2, r_dw, r_src, r_ddst;
    dnnl_memory_t m[TM_COUNT];
    float  *w_buf, *w2_buf, *dw_buf, *db_buf, *ws_buf, *ds_buf, *dsh_buf;
    void   *src_b, *ddst_b;          /* bf16 copies of the input and of the output gradient */
    bool    bf16;
    bool    w_same, w2_same, dw_same;
};

static eos_status dfail(eos_err *err, const char *what, dnnl_status_t r) {
    return eos_err_set(err, r == dnnl_out_of_memory ? EOS_NOMEM : EOS_BACKEND,
                       "oneDNN %s failed (status %d)", what, (int)r);
}

eos_status eos__tdn_init(eos_net *net, eos_err *err) {
    if (net->params.reference) return EOS_OK;
    tdn_ctx *c = eos_calloc(1, sizeof *c);
    if (!c) return eos_err_set(err, EOS_NOMEM, "out of memory");
    dnnl_status_t r = dnnl_engine_create(&c->engine, dnnl_cpu, 0);
    if (r == dnnl_success) r = dnnl_stream_create(&c->stream, c->engine, dnnl_stream_default_flags);
    if (r != dnnl_success) {
        if (c->engine) dnnl_engine_destroy(c->engine);
        eos_free(c);
        return dfail(err, "engine", r);
    }
    net->dn_ctx = c;
    return EOS_OK;
}

void eos__tdn_release(eos_net *net) {
    tdn_ctx *c = net->dn_ctx;
    if (!c) return;
    dnnl_stream_destroy(c->stream);
    dnnl_engine_destroy(c->engine);
    eos_free(c);
    net->dn_ctx = NULL;
}

static void step_free(tstep *s) {
    if (s->prim) dnnl_primitive_destroy(s->prim);
    s->prim = NULL;
}

void eos__tdn_node_free(tnode *t) {
    tdn *d = t->dn;
    if (!d) return;
    step_free(&d->fwd); step_free(&d->fwd_inf); step_free(&d->bwd_d); step_free(&d->bwd_w);
    step_free(&d->r_w); step_free(&d->r_w2); step_free(&d->r_dw);
    step_free(&d->r_src); step_free(&d->r_ddst);
    eos_free(d->src_b); eos_free(d->ddst_b);
    for (int i = 0; i < TM_COUNT; i++)
        if (d->m[i]) dnnl_memory_destroy(d->m[i]);
    eos_free(d->w_buf); eos_free(d->w2_buf); eos_free(d->dw_buf); eos_free(d->db_buf);
    eos_free(d->ws_buf); eos_free(d->ds_buf); eos_free(d->dsh_buf);
    eos_free(d);
    t->dn = NULL;
}

/* ------------------------------------------------------------------ helpers */

static void act_md_t(const tval *v, dnnl_data_type_t dt, dnnl_memory_desc_t *md) {
    dnnl_dims_t d = {0};
    if (v->ndim == 4) {
        d[0] = v->d[0]; d[1] = v->d[1]; d[2] = v->d[2]; d[3] = v->d[3];
        dnnl_memory_desc_init_by_tag(md, 4, d, dt, dnnl_nhwc);
    } else {
        d[0] = v->d[0]; d[1] = v->d[1];
        dnnl_memory_desc_init_by_tag(md, 2, d, dt, dnnl_nc);
    }
}

static void act_md(const tval *v, dnnl_memory_desc_t *md) { act_md_t(v, dnnl_f32, md); }

/* True when pd's implementation is oneDNN's reference code (far too slow for bf16). */
static bool pd_is_ref(const_dnnl_primitive_desc_t pd) {
    const char *impl = NULL;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) != dnnl_success || !impl)
        return false;
    return strncmp(impl, "ref", 3) == 0;
}

static eos_status mk_mem(tdn_ctx *c, tdn *d, tm_slot s, const dnnl_memory_desc_t *md, eos_err *err) {
    if (d->m[s]) return EOS_OK;
    dnnl_status_t r = dnnl_memory_create(&d->m[s], md, c->engine, DNNL_MEMORY_NONE);
    return r == dnnl_success ? EOS_OK : dfail(err, "memory_create", r);
}

static eos_status mk_prim(const_dnnl_primitive_desc_t pd, tstep *s, eos_err *err) {
    dnnl_status_t r = dnnl_primitive_create(&s->prim, pd);
    return r == dnnl_success ? EOS_OK : dfail(err, "primitive_create", r);
}

static void arg(tstep *s, tdn *d, int dnnl_arg, tm_slot slot) {
    if (s->n >= TDN_MAX_ARGS) return;
    s->args[s->n].arg = dnnl_arg;
    s->args[s->n].memory = d->m[slot];
    s->n++;
}

static eos_status run(tdn_ctx *c, tstep *s, eos_err *err) {
    dnnl_status_t r = dnnl_primitive_execute(s->prim, c->stream, s->n, s->args);
    if (r == dnnl_success) r = dnnl_stream_wait(c->stream);
    return r == dnnl_success ? EOS_OK : dfail(err, "execute", r);
}

static void bind(tdn *d, tm_slot s, const void *ptr) {
    if (d->m[s]) dnnl_memory_set_data_handle(d->m[s], (void *)ptr);
}

static float *alloc_md(const dnnl_memory_desc_t *md) {
    size_t sz = dnnl_memory_desc_get_size(md);
    return eos_malloc(sz > 0 ? sz : 64);
}

/* Reorder step src_md -> dst_md between slots; *same when no reorder is needed. */
static eos_status mk_reorder(tdn_ctx *c, tdn *d, const dnnl_memory_desc_t *src, tm_slot ss,
                             const dnnl_memory_desc_t *dst, tm_slot ds, tstep *s, float **buf,
                             bool *same, eos_err *err) {
    *same = dnnl_memory_desc_equal(src, dst) != 0;
    if (*same) return EOS_OK;
    dnnl_primitive_desc_t pd;
    dnnl_status_t r = dnnl_reorder_primitive_desc_create(&pd, src, c->engine, dst, c->engine, NULL);
    if (r != dnnl_success) return dfail(err, "reorder", r);
    eos_status st = mk_prim(pd, s, err);
    dnnl_primitive_desc_destroy(pd);
    EOS_TRY(st);
    EOS_TRY(mk_mem(c, d, ss, src, err));
    EOS_TRY(mk_mem(c, d, ds, dst, err));
    arg(s, d, DNNL_ARG_FROM, ss);
    arg(s, d, DNNL_ARG_TO, ds);
    if (buf) {
        *buf = alloc_md(ds == TM_DWUSER ? src : dst);
        if (!*buf) return eos_err_set(err, EOS_NOMEM, "out of memory");
    }
    return EOS_OK;
}

/* ------------------------------------------------------------------ convolution */

/* Convolution steps in f32, or with bf16 compute (AMX / AVX512-BF16): the input is converted
 * to a bf16 copy (kept for backward-weights), weights to bf16 per step, outputs and every
 * gradient stay f32. Returns EOS_OK with d->fwd.prim NULL when oneDNN cannot (or, for bf16,
 * only with its reference kernels). */
static eos_status conv_try(tdn_ctx *c, tplan *p, tnode *t, tdn *d, bool bf16, eos_err *err) {
    const eos_tconv *cv = &t->conv;
    tval *X = &p->vals[t->x], *Y = &p->vals[t->y];
    bool tr = cv->transposed, grouped = cv->group > 1;
    dnnl_data_type_t dt = bf16 ? dnnl_bf16 : dnnl_f32;
    dnnl_memory_desc_t srcf, dstf, srcc, dstc, wany, wanyf, wuser, bmd, *bp = NULL;
    act_md(X, &srcf);
    act_md(Y, &dstf);
    act_md_t(X, dt, &srcc);
    act_md_t(Y, dt, &dstc);
    dnnl_dims_t wd = {0};
    int wn;
    dnnl_format_tag_t wtag;
    if (grouped) {
        wn = 5;
        wd[0] = cv->group;
        wd[1] = cv->c_out / cv->group;
        wd[2] = cv->c_in / cv->group;
        wd[3] = cv->kh; wd[4] = cv->kw;
        wtag = tr ? dnnl_giohw : dnnl_goihw;
    } else {
        wn = 4;
        wd[0] = cv->c_out; wd[1] = cv->c_in; wd[2] = cv->kh; wd[3] = cv->kw;
        wtag = tr ? dnnl_iohw : dnnl_oihw;
    }
    dnnl_memory_desc_init_by_tag(&wuser, wn, wd, dnnl_f32, wtag);
    dnnl_memory_desc_init_by_tag(&wany, wn, wd, dt, dnnl_format_tag_any);
    dnnl_memory_desc_init_by_tag(&wanyf, wn, wd, dnnl_f32, dnnl_format_tag_any);
    if (t->b >= 0) {
        dnnl_dims_t bd = {cv->c_out};
        dnnl_memory_desc_init_by_tag(&bmd, 1, bd, dnnl_f32, dnnl_a);
        bp = &bmd;
    }
    dnnl_dims_t st = {cv->sh, cv->sw}, dil = {cv->dh - 1, cv->dw - 1};
    dnnl_dims_t pl = {cv->pt, cv->pl}, pr = {cv->pb, cv->pr};
    if (tr) {  /* output_padding is folded into the output size: shrink the right padding */
        pr[0] = (cv->h_in - 1) * cv->sh + (cv->kh - 1) * cv->dh + 1 - cv->pt - cv->h_out;
        pr[1] = (cv->w_in - 1) * cv->sw + (cv->kw - 1) * cv->dw + 1 - cv->pl - cv->w_out;
        if (pr[0] < 0 || pr[1] < 0) return EOS_OK;   /* reference kernels */
    }
    dnnl_status_t r;
    dnnl_primitive_desc_t fpd = NULL, dpd = NULL, wpd = NULL;
    dnnl_alg_kind_t alg = tr ? dnnl_deconvolution_direct : dnnl_convolution_direct;
    if (!tr) {
        dnnl_convolution_desc_t f, bd_, bw;
        r = dnnl_dilated_convolution_forward_desc_init(&f, dnnl_forward_training, alg, &srcc,
                                                       &wany, bp, &dstf, st, dil, pl, pr);
        if (r == dnnl_success) r = dnnl_primitive_desc_create(&fpd, &f, NULL, c->engine, NULL);
        if (r == dnnl_success && X->g) {
            r = dnnl_dilated_convolution_backward_data_desc_init(&bd_, alg, &srcf, &wany, &dstc,
                                                                 st, dil, pl, pr);
            if (r == dnnl_success) r = dnnl_primitive_desc_create(&dpd, &bd_, NULL, c->engine, fpd);
        }
        if (r == dnnl_success) {
            r = dnnl_dilated_convolution_backward_weights_desc_init(&bw, alg, &srcc, &wanyf, bp,
                                                                    &dstc, st, dil, pl, pr);
            if (r == dnnl_success) r = dnnl_primitive_desc_create(&wpd, &bw, NULL, c->engine, fpd);
        }
    } else {
        dnnl_deconvolution_desc_t f, bd_, bw;
        r = dnnl_dilated_deconvolution_forward_desc_init(&f, dnnl_forward_training, alg, &srcc,
                                                         &wany, bp, &dstf, st, dil, pl, pr);
        if (r == dnnl_success) r = dnnl_primitive_desc_create(&fpd, &f, NULL, c->engine, NULL);
        if (r == dnnl_success && X->g) {
            r = dnnl_dilated_deconvolution_backward_data_desc_init(&bd_, alg, &srcf, &wany, &dstc,
                                                                   st, dil, pl, pr);
            if (r == dnnl_success) r = dnnl_primitive_desc_create(&dpd, &bd_, NULL, c->engine, fpd);
        }
        if (r == dnnl_success) {
            r = dnnl_dilated_deconvolution_backward_weights_desc_init(&bw, alg, &srcc, &wanyf, bp,
                                                                      &dstc, st, dil, pl, pr);
            if (r == dnnl_success) r = dnnl_primitive_desc_create(&wpd, &bw, NULL, c->engine, fpd);
        }
    }
    bool decline = r != dnnl_success ||
                   (bf16 && (pd_is_ref(fpd) || (dpd && pd_is_ref(dpd)) || pd_is_ref(wpd)));
    if (decline) {
        if (fpd) dnnl_primitive_desc_destroy(fpd);
        if (dpd) dnnl_primitive_desc_destroy(dpd);
        if (wpd) dnnl_primitive_desc_destroy(wpd);
        if (r == dnnl_success || r == dnnl_unimplemented || r == dnnl_invalid_arguments) return EOS_OK;
        return dfail(err, "convolution descriptor", r);
    }
    d->bf16 = bf16;
    const dnnl_memory_desc_t *wf = dnnl_primitive_desc_query_md(fpd, dnnl_query_weights_md, 0);
    const dnnl_memory_desc_t *dwm = dnnl_primitive_desc_query_md(wpd, dnnl_query_diff_weights_md, 0);
    eos_status es = mk_prim(fpd, &d->fwd, err);
    if (es == EOS_OK && dpd) es = mk_prim(dpd, &d->bwd_d, err);
    if (es == EOS_OK) es = mk_prim(wpd, &d->bwd_w, err);
    if (es == EOS_OK) es = mk_mem(c, d, TM_SRC, &srcc, err);
    if (es == EOS_OK) es = mk_mem(c, d, TM_DST, &dstf, err);
    if (es == EOS_OK) es = mk_mem(c, d, TM_W, wf, err);
    if (es == EOS_OK) es = mk_mem(c, d, TM_WUSER, &wuser, err);
    if (es == EOS_OK) es = mk_mem(c, d, TM_DW, dwm, err);
    if (es == EOS_OK) es = mk_mem(c, d, TM_DWUSER, &wuser, err);
    if (es == EOS_OK) es = mk_mem(c, d, TM_DDST, &dstc, err);
    if (es == EOS_OK && bp) es = mk_mem(c, d, TM_B, bp, err);
    if (es == EOS_OK && bp) es = mk_mem(c, d, TM_DB, bp, err);
    if (es == EOS_OK && dpd) {
        const dnnl_memory_desc_t *w2 = dnnl_primitive_desc_query_md(dpd, dnnl_query_weights_md, 0);
        es = mk_mem(c, d, TM_DSRC, &srcf, err);
        if (es == EOS_OK) es = mk_mem(c, d, TM_W2, w2, err);
        if (es == EOS_OK)
            es = mk_reorder(c, d, &wuser, TM_WUSER, w2, TM_W2, &d->r_w2, &d->w2_buf, &d->w2_same, err);
    }
    if (es == EOS_OK)
        es = mk_reorder(c, d, &wuser, TM_WUSER, wf, TM_W, &d->r_w, &d->w_buf, &d->w_same, err);
    if (es == EOS_OK)
        es = mk_reorder(c, d, dwm, TM_DW, &wuser, TM_DWUSER, &d->r_dw, &d->dw_buf, &d->dw_same, err);
    if (es == EOS_OK && bf16) {
        bool same;
        es = mk_reorder(c, d, &srcf, TM_SRCF, &srcc, TM_SRC, &d->r_src, NULL, &same, err);
        if (es == EOS_OK)
            es = mk_reorder(c, d, &dstf, TM_DDSTF, &dstc, TM_DDST, &d->r_ddst, NULL, &same, err);
        d->src_b = eos_malloc(dnnl_memory_desc_get_size(&srcc));
        d->ddst_b = eos_malloc(dnnl_memory_desc_get_size(&dstc));
        if (es == EOS_OK && (!d->src_b || !d->ddst_b)) es = eos_err_set(err, EOS_NOMEM, "out of memory");
    }
    if (es == EOS_OK && bp) {
        d->db_buf = eos_malloc(sizeof(float) * (size_t)cv->c_out);
        if (!d->db_buf) es = eos_err_set(err, EOS_NOMEM, "out of memory");
    }
    dnnl_primitive_desc_destroy(fpd);
    if (dpd) dnnl_primitive_desc_destroy(dpd);
    dnnl_primitive_desc_destroy(wpd);
    EOS_TRY(es);
    arg(&d->fwd, d, DNNL_ARG_SRC, TM_SRC);
    arg(&d->fwd, d, DNNL_ARG_WEIGHTS, d->w_same ? TM_WUSER : TM_W);
    if (bp) arg(&d->fwd, d, DNNL_ARG_BIAS, TM_B);
    arg(&d->fwd, d, DNNL_ARG_DST, TM_DST);
    if (d->bwd_d.prim) {
        arg(&d->bwd_d, d, DNNL_ARG_DIFF_DST, TM_DDST);
        arg(&d->bwd_d, d, DNNL_ARG_WEIGHTS, d->w2_same ? TM_WUSER : TM_W2);
        arg(&d->bwd_d, d, DNNL_ARG_DIFF_SRC, TM_DSRC);
    }
    arg(&d->bwd_w, d, DNNL_ARG_SRC, TM_SRC);
    arg(&d->bwd_w, d, DNNL_ARG_DIFF_DST, TM_DDST);
    arg(&d->bwd_w, d, DNNL_ARG_DIFF_WEIGHTS, d->dw_same ? TM_DWUSER : TM_DW);
    if (bp) arg(&d->bwd_w, d, DNNL_ARG_DIFF_BIAS, TM_DB);
    return EOS_OK;
}

/* oneDNN 2.6's AMX bf16 backward-weights, run by two threads, now and then returns non-finite
 * weight gradients when the input map is smaller than the kernel (seen on a 3x3 stride-2
 * convolution of a 1x1 map: 3 runs in 24 of a small ResNet; never with one thread, never on
 * larger maps). Such layers cost nothing worth converting anyway, so they stay f32. */
static bool bf16_worth(const eos_tconv *cv) {
    return cv->h_in >= cv->kh && cv->w_in >= cv->kw;
}

static eos_status conv_make(eos_net *net, tdn_ctx *c, tplan *p, tnode *t, tdn *d, eos_err *err) {
    if (net->params.bf16 && bf16_worth(&t->conv)) {
        EOS_TRY(conv_try(c, p, t, d, true, err));
        if (d->fwd.prim) return EOS_OK;
    }
    return conv_try(c, p, t, d, false, err);
}

static eos_status conv_fwd(tdn_ctx *c, eos_net *net, tplan *p, tnode *t, eos_err *err) {
    tdn *d = t->dn;
    (void)net;
    bind(d, TM_WUSER, p->vals[t->w].x);
    if (!d->w_same) {
        bind(d, TM_W, d->w_buf);
        EOS_TRY(run(c, &d->r_w, err));
    }
    if (d->bf16) {
        bind(d, TM_SRCF, p->vals[t->x].x);
        bind(d, TM_SRC, d->src_b);
        EOS_TRY(run(c, &d->r_src, err));
    } else {
        bind(d, TM_SRC, p->vals[t->x].x);
    }
    bind(d, TM_DST, p->vals[t->y].x);
    if (t->b >= 0) bind(d, TM_B, p->vals[t->b].x);
    return run(c, &d->fwd, err);
}

static eos_status conv_bwd(tdn_ctx *c, eos_net *net, tplan *p, tnode *t, eos_err *err) {
    tdn *d = t->dn;
    (void)net;
    tval *X = &p->vals[t->x], *Y = &p->vals[t->y];
    if (d->bf16) {
        bind(d, TM_DDSTF, Y->g);
        bind(d, TM_DDST, d->ddst_b);
        EOS_TRY(run(c, &d->r_ddst, err));
        bind(d, TM_SRC, d->src_b);
    } else {
        bind(d, TM_DDST, Y->g);
        bind(d, TM_SRC, X->x);
    }
    if (X->g && d->bwd_d.prim) {
        bind(d, TM_WUSER, p->vals[t->w].x);
        if (!d->w2_same) {
            bind(d, TM_W2, d->w2_buf);
            EOS_TRY(run(c, &d->r_w2, err));
        }
        bool acc;
        float *dx = eos__tgrad_dst(p, t->x, &acc);
        bind(d, TM_DSRC, dx);
        EOS_TRY(run(c, &d->bwd_d, err));
        eos__tgrad_commit(p, t->x, acc);
    }
    tval *W = &p->vals[t->w];
    if (W->g) {
        bool acc;
        float *dw = eos__tgrad_dst(p, t->w, &acc);
        if (d->dw_same) {
            bind(d, TM_DWUSER, dw);
        } else {
            bind(d, TM_DW, d->dw_buf);
        }
        if (t->b >= 0) bind(d, TM_DB, d->db_buf);
        EOS_TRY(run(c, &d->bwd_w, err));
        if (!d->dw_same) {
            bind(d, TM_DWUSER, dw);
            EOS_TRY(run(c, &d->r_dw, err));
        }
        eos__tgrad_commit(p, t->w, acc);
        if (t->b >= 0 && p->vals[t->b].g) {
            float *db = eos__tgrad_dst(p, t->b, &acc);
            if (acc) {
                for (int64_t i = 0; i < t->conv.c_out; i++) p->vals[t->b].g[i] += d->db_buf[i];
            } else {
                memcpy(db, d->db_buf, sizeof(float) * (size_t)t->conv.c_out);
            }
        }
    }
    return EOS_OK;
}

/* ------------------------------------------------------------------ batch normalization */

static eos_status bn_make(tdn_ctx *c, tplan *p, tnode *t, tdn *d, eos_err *err) {
    tval *X = &p->vals[t->x];
    dnnl_memory_desc_t md;
    act_md(X, &md);
    unsigned fl = dnnl_use_scale | dnnl_use_shift | (t->fuse_relu ? dnnl_fuse_norm_relu : 0u);
    dnnl_batch_normalization_desc_t f, fi, b;
    dnnl_primitive_desc_t fpd = NULL, ipd = NULL, bpd = NULL;
    dnnl_status_t r = dnnl_batch_normalization_forward_desc_init(&f, dnnl_forward_training, &md,
                                                                 t->eps, fl);
    if (r == dnnl_success) r = dnnl_primitive_desc_create(&fpd, &f, NULL, c->engine, NULL);
    if (r == dnnl_success)
        r = dnnl_batch_normalization_forward_desc_init(&fi, dnnl_forward_inference, &md, t->eps,
                                                       fl | dnnl_use_global_stats);
    if (r == dnnl_success) r = dnnl_primitive_desc_create(&ipd, &fi, NULL, c->engine, NULL);
    if (r == dnnl_success)
        r = dnnl_batch_normalization_backward_desc_init(&b, dnnl_backward, &md, &md, t->eps, fl);
    if (r == dnnl_success) r = dnnl_primitive_desc_create(&bpd, &b, NULL, c->engine, fpd);
    eos_status es = EOS_OK;
    if (r != dnnl_success) {
        es = (r == dnnl_unimplemented) ? EOS_OK : dfail(err, "batch normalization", r);
    } else {
        es = mk_prim(fpd, &d->fwd, err);
        if (es == EOS_OK) es = mk_prim(ipd, &d->fwd_inf, err);
        if (es == EOS_OK) es = mk_prim(bpd, &d->bwd_d, err);
        dnnl_memory_desc_t cm;
        dnnl_dims_t cd = {X->d[1]};
        dnnl_memory_desc_init_by_tag(&cm, 1, cd, dnnl_f32, dnnl_a);
        tm_slot slots[] = {TM_W, TM_B, TM_MEAN, TM_VAR, TM_DW, TM_DB, TM_RM, TM_RV};
        for (size_t i = 0; es == EOS_OK && i < sizeof slots / sizeof *slots; i++)
            es = mk_mem(c, d, slots[i], &cm, err);
        if (es == EOS_OK) es = mk_mem(c, d, TM_SRC, &md, err);
        if (es == EOS_OK) es = mk_mem(c, d, TM_DST, &md, err);
        if (es == EOS_OK) es = mk_mem(c, d, TM_DSRC, &md, err);
        if (es == EOS_OK) es = mk_mem(c, d, TM_DDST, &md, err);
        d->ds_buf = eos_malloc(sizeof(float) * (size_t)X->d[1]);
        d->dsh_buf = eos_malloc(sizeof(float) * (size_t)X->d[1]);
        if (es == EOS_OK && (!d->ds_buf || !d->dsh_buf)) es = eos_err_set(err, EOS_NOMEM, "out of memory");
        const dnnl_memory_desc_t *ws = dnnl_primitive_desc_query_md(fpd, dnnl_query_workspace_md, 0);
        if (es == EOS_OK && ws && dnnl_memory_desc_get_size(ws) > 0) {
            es = mk_mem(c, d, TM_WS, ws, err);
            d->ws_buf = alloc_md(ws);
            if (es == EOS_OK && !d->ws_buf) es = eos_err_set(err, EOS_NOMEM, "out of memory");
        }
    }
    if (fpd) dnnl_primitive_desc_destroy(fpd);
    if (ipd) dnnl_primitive_desc_destroy(ipd);
    if (bpd) dnnl_primitive_desc_destroy(bpd);
    EOS_TRY(es);
    if (!d->fwd.prim) return EOS_OK;
    tstep *s = &d->fwd;
    arg(s, d, DNNL_ARG_SRC, TM_SRC); arg(s, d, DNNL_ARG_DST, TM_DST);
    arg(s, d, DNNL_ARG_SCALE, TM_W); arg(s, d, DNNL_ARG_SHIFT, TM_B);
    arg(s, d, DNNL_ARG_MEAN, TM_MEAN); arg(s, d, DNNL_ARG_VARIANCE, TM_VAR);
    if (d->ws_buf) arg(s, d, DNNL_ARG_WORKSPACE, TM_WS);
    s = &d->fwd_inf;
    arg(s, d, DNNL_ARG_SRC, TM_SRC); arg(s, d, DNNL_ARG_DST, TM_DST);
    arg(s, d, DNNL_ARG_SCALE, TM_W); arg(s, d, DNNL_ARG_SHIFT, TM_B);
    arg(s, d, DNNL_ARG_MEAN, TM_RM); arg(s, d, DNNL_ARG_VARIANCE, TM_RV);
    s = &d->bwd_d;
    arg(s, d, DNNL_ARG_SRC, TM_SRC); arg(s, d, DNNL_ARG_MEAN, TM_MEAN);
    arg(s, d, DNNL_ARG_VARIANCE, TM_VAR); arg(s, d, DNNL_ARG_DIFF_DST, TM_DDST);
    arg(s, d, DNNL_ARG_SCALE, TM_W); arg(s, d, DNNL_ARG_SHIFT, TM_B);
    arg(s, d, DNNL_ARG_DIFF_SRC, TM_DSRC);
    arg(s, d, DNNL_ARG_DIFF_SCALE, TM_DW); arg(s, d, DNNL_ARG_DIFF_SHIFT, TM_DB);
    if (d->ws_buf) arg(s, d, DNNL_ARG_WORKSPACE, TM_WS);
    return EOS_OK;
}

static eos_status bn_fwd(tdn_ctx *c, tplan *p, tnode *t, bool train, eos_err *err) {
    tdn *d = t->dn;
    const eos_node *n = t->n;
    tval *X = &p->vals[t->x];
    bind(d, TM_SRC, X->x);
    bind(d, TM_DST, p->vals[t->y].x);
    bind(d, TM_W, p->vals[n->in[1]].x);
    bind(d, TM_B, p->vals[n->in[2]].x);
    float *rm = p->vals[n->in[3]].x, *rv = p->vals[n->in[4]].x;
    if (!train) {
        bind(d, TM_RM, rm);
        bind(d, TM_RV, rv);
        return run(c, &d->fwd_inf, err);
    }
    bind(d, TM_MEAN, t->save_mean);
    bind(d, TM_VAR, t->save_invstd);   /* holds the batch variance on this path */
    if (d->ws_buf) bind(d, TM_WS, d->ws_buf);
    EOS_TRY(run(c, &d->fwd, err));
    int64_t rows = X->ndim == 4 ? X->d[0] * X->d[2] * X->d[3] : X->d[0];
    float m = t->momentum, unb = rows > 1 ? (float)rows / (float)(rows - 1) : 1.0f;
    for (int64_t k = 0; k < X->d[1]; k++) {
        rm[k] = m * rm[k] + (1 - m) * t->save_mean[k];
        rv[k] = m * rv[k] + (1 - m) * t->save_invstd[k] * unb;
    }
    return EOS_OK;
}

static void grad_small(tplan *p, int v, const float *src, int64_t n) {
    if (v < 0 || !p->vals[v].g) return;
    bool acc;
    float *dst = eos__tgrad_dst(p, v, &acc);
    if (acc) {
        for (int64_t i = 0; i < n; i++) p->vals[v].g[i] += src[i];
    } else {
        memcpy(dst, src, sizeof(float) * (size_t)n);
    }
}

static eos_status bn_bwd(tdn_ctx *c, tplan *p, tnode *t, eos_err *err) {
    tdn *d = t->dn;
    const eos_node *n = t->n;
    tval *X = &p->vals[t->x];
    bind(d, TM_SRC, X->x);
    bind(d, TM_MEAN, t->save_mean);
    bind(d, TM_VAR, t->save_invstd);
    bind(d, TM_DDST, p->vals[t->y].g);
    bind(d, TM_W, p->vals[n->in[1]].x);
    bind(d, TM_B, p->vals[n->in[2]].x);
    bind(d, TM_DW, d->ds_buf);
    bind(d, TM_DB, d->dsh_buf);
    if (d->ws_buf) bind(d, TM_WS, d->ws_buf);
    bool acc = false;
    float *dx = X->g ? eos__tgrad_dst(p, t->x, &acc) : p->scratch;
    bind(d, TM_DSRC, dx);
    EOS_TRY(run(c, &d->bwd_d, err));
    if (X->g) eos__tgrad_commit(p, t->x, acc);
    grad_small(p, n->in[1], d->ds_buf, X->d[1]);
    grad_small(p, n->in[2], d->dsh_buf, X->d[1]);
    return EOS_OK;
}

/* ------------------------------------------------------------------ pooling */

static eos_status pool_make(tdn_ctx *c, tplan *p, tnode *t, tdn *d, eos_err *err) {
    const eos_tpool *q = &t->pool;
    dnnl_memory_desc_t src, dst;
    act_md(&p->vals[t->x], &src);
    act_md(&p->vals[t->y], &dst);
    dnnl_alg_kind_t alg = q->is_max ? dnnl_pooling_max
                        : q->count_include_pad ? dnnl_pooling_avg_include_padding
                                               : dnnl_pooling_avg_exclude_padding;
    dnnl_dims_t st = {q->sh, q->sw}, k = {q->kh, q->kw}, dil = {0, 0};
    dnnl_dims_t pl = {q->pt, q->pl}, pr = {q->pb, q->pr};
    dnnl_pooling_v2_desc_t f, b;
    dnnl_primitive_desc_t fpd = NULL, bpd = NULL;
    dnnl_status_t r = dnnl_pooling_v2_forward_desc_init(&f, dnnl_forward_training, alg, &src, &dst,
                                                        st, k, dil, pl, pr);
    if (r == dnnl_success) r = dnnl_primitive_desc_create(&fpd, &f, NULL, c->engine, NULL);
    if (r == dnnl_success)
        r = dnnl_pooling_v2_backward_desc_init(&b, alg, &src, &dst, st, k, dil, pl, pr);
    if (r == dnnl_success) r = dnnl_primitive_desc_create(&bpd, &b, NULL, c->engine, fpd);
    eos_status es = EOS_OK;
    if (r != dnnl_success) {
        es = (r == dnnl_unimplemented || r == dnnl_invalid_arguments) ? EOS_OK
                                                                       : dfail(err, "pooling", r);
    } else {
        const dnnl_memory_desc_t *ws = dnnl_primitive_desc_query_md(fpd, dnnl_query_workspace_md, 0);
        bool has_ws = ws && dnnl_memory_desc_get_size(ws) > 0;
        es = mk_prim(fpd, &d->fwd, err);
        if (es == EOS_OK) es = mk_prim(bpd, &d->bwd_d, err);
        if (es == EOS_OK) es = mk_mem(c, d, TM_SRC, &src, err);
        if (es == EOS_OK) es = mk_mem(c, d, TM_DST, &dst, err);
        if (es == EOS_OK) es = mk_mem(c, d, TM_DSRC, &src, err);
        if (es == EOS_OK) es = mk_mem(c, d, TM_DDST, &dst, err);
        if (es == EOS_OK && has_ws) {
            es = mk_mem(c, d, TM_WS, ws, err);
            d->ws_buf = alloc_md(ws);
            if (es == EOS_OK && !d->ws_buf) es = eos_err_set(err, EOS_NOMEM, "out of memory");
        }
        if (es == EOS_OK) {
            arg(&d->fwd, d, DNNL_ARG_SRC, TM_SRC);
            arg(&d->fwd, d, DNNL_ARG_DST, TM_DST);
            if (has_ws) arg(&d->fwd, d, DNNL_ARG_WORKSPACE, TM_WS);
            arg(&d->bwd_d, d, DNNL_ARG_DIFF_DST, TM_DDST);
            arg(&d->bwd_d, d, DNNL_ARG_DIFF_SRC, TM_DSRC);
            if (has_ws) arg(&d->bwd_d, d, DNNL_ARG_WORKSPACE, TM_WS);
        }
    }
    if (fpd) dnnl_primitive_desc_destroy(fpd);
    if (bpd) dnnl_primitive_desc_destroy(bpd);
    return es;
}

/* ------------------------------------------------------------------ eltwise (ReLU) */

static eos_status relu_make(tdn_ctx *c, tplan *p, tnode *t, tdn *d, eos_err *err) {
    dnnl_memory_desc_t md;
    act_md(&p->vals[t->x], &md);
    dnnl_eltwise_desc_t f, b;
    dnnl_primitive_desc_t fpd = NULL, bpd = NULL;
    dnnl_status_t r = dnnl_eltwise_forward_desc_init(&f, dnnl_forward_training,
                                                     dnnl_eltwise_relu_use_dst_for_bwd, &md, 0, 0);
    if (r == dnnl_success) r = dnnl_primitive_desc_create(&fpd, &f, NULL, c->engine, NULL);
    if (r == dnnl_success)
        r = dnnl_eltwise_backward_desc_init(&b, dnnl_eltwise_relu_use_dst_for_bwd, &md, &md, 0, 0);
    if (r == dnnl_success) r = dnnl_primitive_desc_create(&bpd, &b, NULL, c->engine, fpd);
    eos_status es = EOS_OK;
    if (r != dnnl_success) {
        es = (r == dnnl_unimplemented) ? EOS_OK : dfail(err, "eltwise", r);
    } else {
        es = mk_prim(fpd, &d->fwd, err);
        if (es == EOS_OK) es = mk_prim(bpd, &d->bwd_d, err);
        if (es == EOS_OK) es = mk_mem(c, d, TM_SRC, &md, err);
        if (es == EOS_OK) es = mk_mem(c, d, TM_DST, &md, err);
        if (es == EOS_OK) es = mk_mem(c, d, TM_DSRC, &md, err);
        if (es == EOS_OK) es = mk_mem(c, d, TM_DDST, &md, err);
        if (es == EOS_OK) {
            arg(&d->fwd, d, DNNL_ARG_SRC, TM_SRC);
            arg(&d->fwd, d, DNNL_ARG_DST, TM_DST);
            arg(&d->bwd_d, d, DNNL_ARG_DST, TM_DST);
            arg(&d->bwd_d, d, DNNL_ARG_DIFF_DST, TM_DDST);
            arg(&d->bwd_d, d, DNNL_ARG_DIFF_SRC, TM_DSRC);
        }
    }
    if (fpd) dnnl_primitive_desc_destroy(fpd);
    if (bpd) dnnl_primitive_desc_destroy(bpd);
    return es;
}

/* Plain forward/backward for pooling and eltwise (same argument pattern). */
static eos_status simple_fwd(tdn_ctx *c, tplan *p, tnode *t, eos_err *err) {
    tdn *d = t->dn;
    bind(d, TM_SRC, p->vals[t->x].x);
    bind(d, TM_DST, p->vals[t->y].x);
    if (d->ws_buf) bind(d, TM_WS, d->ws_buf);
    return run(c, &d->fwd, err);
}

static eos_status simple_bwd(tdn_ctx *c, tplan *p, tnode *t, eos_err *err) {
    tdn *d = t->dn;
    tval *X = &p->vals[t->x];
    if (!X->g) return EOS_OK;
    bind(d, TM_DST, p->vals[t->y].x);
    bind(d, TM_DDST, p->vals[t->y].g);
    if (d->ws_buf) bind(d, TM_WS, d->ws_buf);
    bool acc;
    bind(d, TM_DSRC, eos__tgrad_dst(p, t->x, &acc));
    EOS_TRY(run(c, &d->bwd_d, err));
    eos__tgrad_commit(p, t->x, acc);
    return EOS_OK;
}

/* ------------------------------------------------------------------ Gemm (sgemm) */

static eos_status gemm_fwd(tplan *p, tnode *t, eos_err *err) {
    tval *X = &p->vals[t->x], *Y = &p->vals[t->y];
    int64_t m = X->d[0], k = X->d[1], n = Y->d[1];
    const float *B = p->vals[t->w].x;
    float *y = Y->x;
    if (t->b >= 0) {
        const float *cb = p->vals[t->b].x;
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) y[i * n + j] = t->g_beta * cb[j];
    }
    dnnl_status_t r = dnnl_sgemm('N', t->trans_b ? 'T' : 'N', m, n, k, t->g_alpha, X->x, k, B,
                                 t->trans_b ? k : n, t->b >= 0 ? 1.0f : 0.0f, y, n);
    return r == dnnl_success ? EOS_OK : dfail(err, "sgemm", r);
}

static eos_status gemm_bwd(tplan *p, tnode *t, eos_err *err) {
    tval *X = &p->vals[t->x], *Y = &p->vals[t->y];
    int64_t m = X->d[0], k = X->d[1], n = Y->d[1];
    const float *B = p->vals[t->w].x, *dy = Y->g;
    float a = t->g_alpha;
    dnnl_status_t r = dnnl_success;
    float *dx = eos__tgrad_acc(p, t->x), *dB = eos__tgrad_acc(p, t->w), *dc = eos__tgrad_acc(p, t->b);
    if (dx) {
        if (t->trans_b) r = dnnl_sgemm('N', 'N', m, k, n, a, dy, n, B, k, 1.0f, dx, k);
        else r = dnnl_sgemm('N', 'T', m, k, n, a, dy, n, B, n, 1.0f, dx, k);
    }
    if (r == dnnl_success && dB) {
        if (t->trans_b) r = dnnl_sgemm('T', 'N', n, k, m, a, dy, n, X->x, k, 1.0f, dB, k);
        else r = dnnl_sgemm('T', 'N', k, n, m, a, X->x, k, dy, n, 1.0f, dB, n);
    }
    if (dc)
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) dc[j] += t->g_beta * dy[i * n + j];
    return r == dnnl_success ? EOS_OK : dfail(err, "sgemm", r);
}

/* ------------------------------------------------------------------ dispatch */

bool eos__tdn_is_bf16(const tnode *t) { return t->dn && t->dn->bf16; }

eos_status eos__tdn_node(eos_net *net, tplan *p, tnode *t, eos_err *err) {
    tdn_ctx *c = net->dn_ctx;
    if (!c) return EOS_OK;
    bool want = false;
    switch (t->kind) {
    case TK_CONV: case TK_BN: case TK_POOL: case TK_GEMM: want = true; break;
    case TK_ACT: want = t->act == EOS_TACT_RELU; break;
    default: break;
    }
    if (!want) return EOS_OK;
    if (t->kind == TK_BN && p->vals[t->x].ndim != 4 && p->vals[t->x].ndim != 2) return EOS_OK;
    tdn *d = eos_calloc(1, sizeof *d);
    if (!d) return eos_err_set(err, EOS_NOMEM, "out of memory");
    t->dn = d;
    eos_status st = EOS_OK;
    switch (t->kind) {
    case TK_CONV: st = conv_make(net, c, p, t, d, err); break;
    case TK_BN: st = bn_make(c, p, t, d, err); break;
    case TK_POOL: st = pool_make(c, p, t, d, err); break;
    case TK_ACT: st = relu_make(c, p, t, d, err); break;
    case TK_GEMM: return EOS_OK;   /* sgemm needs no primitive */
    default: break;
    }
    if (st != EOS_OK || !d->fwd.prim) eos__tdn_node_free(t);   /* fall back to reference */
    return st;
}

eos_status eos__tdn_fwd(eos_net *net, tplan *p, tnode *t, bool train, eos_err *err) {
    tdn_ctx *c = net->dn_ctx;
    switch (t->kind) {
    case TK_CONV: return conv_fwd(c, net, p, t, err);
    case TK_BN: return bn_fwd(c, p, t, train, err);
    case TK_POOL: case TK_ACT: return simple_fwd(c, p, t, err);
    case TK_GEMM: return gemm_fwd(p, t, err);
    default: return eos_err_set(err, EOS_INTERNAL, "no oneDNN kernel");
    }
}

eos_status eos__tdn_bwd(eos_net *net, tplan *p, tnode *t, eos_err *err) {
    tdn_ctx *c = net->dn_ctx;
    switch (t->kind) {
    case TK_CONV: return conv_bwd(c, net, p, t, err);
    case TK_BN: return bn_bwd(c, p, t, err);
    case TK_POOL: case TK_ACT: return simple_bwd(c, p, t, err);
    case TK_GEMM: return gemm_bwd(p, t, err);
    default: return eos_err_set(err, EOS_INTERNAL, "no oneDNN kernel");
    }
}

#endif /* EOS_WITH_DNNL */
