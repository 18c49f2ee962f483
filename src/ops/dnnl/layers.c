/*
 * src/ops/dnnl/layers.c - the layout-transparent nodes on oneDNN: pooling, eltwise, binary
 * (numpy broadcasting), batch normalization, softmax, concat and resize.
 *
 * These primitives run on whatever layout their input already has (the producer's copy), so a
 * chain conv -> pool -> add -> relu -> conv stays in nChw16c without reorders. Eltwise, binary,
 * batch normalization and softmax work in place when their input dies at the node. Anything
 * whose semantics differ from ONNX in a corner (average pooling that counts ceil-mode padding,
 * nearest resize at non-integer ratios, older-opset softmax over several axes) is left to the
 * reference kernels.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "eosight/alloc.h"
#include "ops/dnnl/dn.h"
#include "ops/ops.h"

/* Finish a single-input, single-output primitive: src is x's copy `src_buf` (layout src_md),
 * the output gets layout dst_md (in place over src when x dies here and the layouts match). */
static eos_status add_unary(eos_plan *p, dn_ctx *c, int node, const_dnnl_primitive_desc_t pd,
                            int src_buf, const dnnl_memory_desc_t *src_md,
                            const dnnl_memory_desc_t *dst_md, bool inplace, const char *label,
                            eos_err *err) {
    const eos_node *n = &p->g.nodes[node];
    int reuse = -1, dbuf;
    if (inplace && dnnl_memory_desc_equal(src_md, dst_md))
        reuse = dn_value_reusable(p, c, n->in[0], node, src_md);
    EOS_TRY(dn_value_out(p, c, n->out[0], dst_md, reuse, &dbuf, err));
    dn_prim *s = NULL;
    EOS_TRY(dn_prim_new(p, c, node, NULL, pd, 2, &s, err));
    dn_prim_arg(s, DNNL_ARG_SRC, src_buf, src_md);
    dn_prim_arg(s, DNNL_ARG_DST, dbuf, dst_md);
    return dn_prim_add(p, s, label, err);
}

/* pd from an op descriptor with only the user-scratchpad attribute. */
static eos_status plain_pd(eos_plan *p, dn_ctx *c, int node, const void *desc,
                           dnnl_primitive_desc_t *pd, bool *ok, eos_err *err) {
    dnnl_primitive_attr_t attr;
    EOS_TRY(dn_make_attr(p, node, NULL, false, &attr, err));
    eos_status st = dn_pd_create(p, node, pd, desc, attr, c, ok, err);
    dnnl_primitive_attr_destroy(attr);
    return st;
}

/* The common end of pooling, eltwise and resampling: r is the op descriptor's init status (a
 * configuration oneDNN lacks falls back to the reference), then a plain-attribute pd and one
 * unary step from x's copy `from`. In place (dst layout = src layout) when inplace, else the
 * dst layout the pd chose. */
static eos_status finish_unary(eos_plan *p, dn_ctx *c, int node, dnnl_status_t r, const char *call,
                               const void *desc, const dn_copy *from, bool inplace, bool *done,
                               eos_err *err) {
    if (r != dnnl_success) return dn_unsupported(r) ? EOS_OK : dn_fail(p, node, call, r, err);
    dnnl_primitive_desc_t pd;
    bool ok;
    EOS_TRY(plain_pd(p, c, node, desc, &pd, &ok, err));
    if (!ok) return EOS_OK;
    const dnnl_memory_desc_t *dmd =
        inplace ? &from->md : dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    eos_status st = add_unary(p, c, node, pd, from->buf, &from->md, dmd, inplace,
                              p->g.nodes[node].op_type, err);
    dnnl_primitive_desc_destroy(pd);
    if (st == EOS_OK) *done = true;
    return st;
}

/* ------------------------------------------------------------------ pooling */

eos_status dn_lower_pool(eos_plan *p, dn_ctx *c, int node, bool *done, eos_err *err) {
    const eos_node *n = &p->g.nodes[node];
    int x = n->in[0], y = n->out[0];
    *done = false;
    if (n->n_out != 1) return EOS_OK; /* MaxPool's Indices output */
    const eos_value *xv = &p->g.values[x], *yv = &p->g.values[y];
    eos_pool_params pp;
    EOS_TRY(eos_pool_params_get(n, xv->ndim, xv->dims, &pp, err));
    dnnl_dims_t strides, kernel, dil, pl, pr;
    for (int i = 0; i < pp.n_spatial; i++) {
        int64_t dk = (pp.kernel[i] - 1) * pp.dilation[i] + 1;
        strides[i] = pp.stride[i];
        kernel[i] = pp.kernel[i];
        dil[i] = pp.dilation[i] - 1;
        pl[i] = pp.pad_begin[i];
        pr[i] = pp.pad_end[i];
        if ((pp.in_sp[i] + pl[i] + pr[i] - dk) / pp.stride[i] + 1 != pp.out_sp[i]) {
            /* ceil_mode: extend the right padding so oneDNN's floor formula gives out_sp */
            pr[i] = (pp.out_sp[i] - 1) * pp.stride[i] + dk - pp.in_sp[i] - pl[i];
            if (pp.count_include_pad && pr[i] > pp.pad_end[i]) return EOS_OK;
        }
        if (pr[i] < 0) return EOS_OK;
    }
    dnnl_alg_kind_t alg = pp.is_max ? dnnl_pooling_max
                          : pp.count_include_pad ? dnnl_pooling_avg_include_padding
                                                 : dnnl_pooling_avg_exclude_padding;
    const dn_copy *src = dn_value_main(p, c, x);
    if (!src) return eos_err_set(err, EOS_INTERNAL, "dnnl: pooling input missing");
    dn_copy from = *src;
    dnnl_memory_desc_t dst;
    dn_any_md(&dst, yv->ndim, yv->dims);
    dnnl_pooling_v2_desc_t d;
    dnnl_status_t r = dnnl_pooling_v2_forward_desc_init(&d, dnnl_forward_inference, alg, &from.md,
                                                        &dst, strides, kernel, dil, pl, pr);
    return finish_unary(p, c, node, r, "dnnl_pooling_v2_forward_desc_init", &d, &from, false, done, err);
}

/* ------------------------------------------------------------------ eltwise */

/* Scalar constant input i of n into *out; false when absent (out untouched) or not constant. */
static bool const_scalar(const eos_plan *p, const eos_node *n, int i, float *out, bool *bad) {
    if (i >= n->n_in || n->in[i] < 0) return false;
    const eos_value *v = &p->g.values[n->in[i]];
    if (!v->data || v->dtype != EOS_DTYPE_F32 || eos_value_numel(v) != 1) {
        *bad = true;
        return false;
    }
    *out = *(const float *)v->data;
    return true;
}

/* ONNX eltwise op -> oneDNN algorithm; false when not expressible as one eltwise. */
static bool eltwise_alg(const eos_plan *p, const eos_node *n, dnnl_alg_kind_t *alg, float *alpha,
                        float *beta) {
    *alpha = *beta = 0.0f;
    switch (n->op) {
    case EOS_OP_RELU: *alg = dnnl_eltwise_relu; return true;
    case EOS_OP_LEAKY_RELU:
        *alg = dnnl_eltwise_relu;
        *alpha = eos_attr_float(n, "alpha", 0.01f);
        return true;
    case EOS_OP_SIGMOID: *alg = dnnl_eltwise_logistic; return true;
    case EOS_OP_TANH: *alg = dnnl_eltwise_tanh; return true;
    case EOS_OP_HARD_SWISH: *alg = dnnl_eltwise_hardswish; return true;
    case EOS_OP_EXP: *alg = dnnl_eltwise_exp; return true;
    case EOS_OP_SQRT: *alg = dnnl_eltwise_sqrt; return true;
    case EOS_OP_NEG: *alg = dnnl_eltwise_linear; *alpha = -1.0f; return true;
    case EOS_OP_CLIP: {
        *alg = dnnl_eltwise_clip_v2;
        *alpha = -INFINITY;
        *beta = INFINITY;
        if (n->opset < 11) {
            *alpha = eos_attr_float(n, "min", -INFINITY);
            *beta = eos_attr_float(n, "max", INFINITY);
            return true;
        }
        bool bad = false;
        const_scalar(p, n, 1, alpha, &bad);
        const_scalar(p, n, 2, beta, &bad);
        return !bad;
    }
    default: return false;
    }
}

eos_status dn_lower_eltwise(eos_plan *p, dn_ctx *c, int node, bool *done, eos_err *err) {
    const eos_node *n = &p->g.nodes[node];
    int x = n->in[0];
    *done = false;
    dnnl_alg_kind_t alg;
    float alpha, beta;
    if (!eltwise_alg(p, n, &alg, &alpha, &beta)) return EOS_OK;
    const dn_copy *src = dn_value_main(p, c, x);
    if (!src) return eos_err_set(err, EOS_INTERNAL, "dnnl: eltwise input missing");
    dn_copy from = *src;
    dnnl_eltwise_desc_t d;
    dnnl_status_t r = dnnl_eltwise_forward_desc_init(&d, dnnl_forward_inference, alg, &from.md,
                                                     alpha, beta);
    return finish_unary(p, c, node, r, "dnnl_eltwise_forward_desc_init", &d, &from, true, done, err);
}

/* ------------------------------------------------------------------ binary */

static bool same_dims(int nd, const int64_t *a, const int64_t *b) {
    for (int i = 0; i < nd; i++)
        if (a[i] != b[i]) return false;
    return true;
}

static void expand(const eos_value *v, int nd, int64_t *out) {
    int pad = nd - v->ndim;
    for (int i = 0; i < nd; i++) out[i] = i < pad ? 1 : v->dims[i - pad];
}

/* The binary pd for src0 layout md0 and src1 md1 (dst as src0); *ok false if unavailable. */
static eos_status binary_pd(eos_plan *p, dn_ctx *c, int node, dnnl_alg_kind_t alg,
                            const dnnl_memory_desc_t *md0, const dnnl_memory_desc_t *md1,
                            dnnl_primitive_desc_t *pd, bool *ok, eos_err *err) {
    dnnl_binary_desc_t d;
    *ok = false;
    dnnl_status_t r = dnnl_binary_desc_init(&d, alg, md0, md1, md0);
    if (r != dnnl_success) {
        if (dn_unsupported(r)) return EOS_OK;
        return dn_fail(p, node, "dnnl_binary_desc_init", r, err);
    }
    return plain_pd(p, c, node, &d, pd, ok, err);
}

eos_status dn_lower_binary(eos_plan *p, dn_ctx *c, int node, bool *done, eos_err *err) {
    const eos_node *n = &p->g.nodes[node];
    int a = n->in[0], b = n->in[1], y = n->out[0];
    *done = false;
    const eos_value *yv = &p->g.values[y];
    int nd = yv->ndim;
    if (nd < 1 || nd > DNNL_MAX_NDIMS || eos_value_numel(yv) <= 0) return EOS_OK;
    dnnl_alg_kind_t alg = n->op == EOS_OP_ADD ? dnnl_binary_add
                          : n->op == EOS_OP_SUB ? dnnl_binary_sub
                          : n->op == EOS_OP_MUL ? dnnl_binary_mul : dnnl_binary_div;
    int64_t ad[DNNL_MAX_NDIMS], bd[DNNL_MAX_NDIMS];
    expand(&p->g.values[a], nd, ad);
    expand(&p->g.values[b], nd, bd);
    bool a_full = same_dims(nd, ad, yv->dims), b_full = same_dims(nd, bd, yv->dims);
    bool commutes = alg == dnnl_binary_add || alg == dnnl_binary_mul;
    if (!a_full && b_full && commutes) { /* oneDNN broadcasts src1 only */
        int t = a; a = b; b = t;
        memcpy(bd, ad, sizeof bd);
        a_full = true;
        b_full = false;
    }
    if (!a_full || p->g.values[a].ndim != nd) return EOS_OK;
    const dn_copy *src0 = dn_value_main(p, c, a);
    if (!src0) return eos_err_set(err, EOS_INTERNAL, "dnnl: binary input missing");
    dnnl_memory_desc_t md0 = src0->md, md1;
    if (b_full) md1 = md0; else dn_plain_md_dims(&md1, nd, bd);
    dnnl_primitive_desc_t pd;
    bool ok;
    EOS_TRY(binary_pd(p, c, node, alg, &md0, &md1, &pd, &ok, err));
    if (!ok && !dn_is_plain(p, a, &md0)) { /* retry on plain data */
        dn_plain_md(p, a, &md0);
        if (b_full) md1 = md0;
        EOS_TRY(binary_pd(p, c, node, alg, &md0, &md1, &pd, &ok, err));
    }
    if (!ok) return EOS_OK;
    int b0 = -1, b1 = -1, dbuf = -1;
    dn_prim *s = NULL;
    eos_status st = dn_value_get(p, c, a, &md0, &b0, err);
    if (st == EOS_OK) {
        if (b_full) st = dn_value_get(p, c, b, &md1, &b1, err);
        else if (!(st = dn_value_plain(p, c, b, err))) b1 = eos_plan_value_buf(p, b);
    }
    if (st == EOS_OK) {
        int reuse = dn_value_reusable(p, c, a, node, &md0);
        st = dn_value_out(p, c, y, &md0, reuse, &dbuf, err);
    }
    if (st == EOS_OK) st = dn_prim_new(p, c, node, NULL, pd, 3, &s, err);
    dnnl_primitive_desc_destroy(pd);
    if (st != EOS_OK) return st;
    dn_prim_arg(s, DNNL_ARG_SRC_0, b0, &md0);
    dn_prim_arg(s, DNNL_ARG_SRC_1, b1, &md1);
    dn_prim_arg(s, DNNL_ARG_DST, dbuf, &md0);
    EOS_TRY(dn_prim_add(p, s, n->op_type, err));
    *done = true;
    return EOS_OK;
}

/* ------------------------------------------------------------------ batch normalization */

eos_status dn_lower_batchnorm(eos_plan *p, dn_ctx *c, int node, bool *done, eos_err *err) {
    const eos_node *n = &p->g.nodes[node];
    int x = n->in[0];
    *done = false;
    const eos_value *xv = &p->g.values[x];
    if (n->n_out != 1 || xv->ndim < 2 || eos_attr_int(n, "training_mode", 0) != 0) return EOS_OK;
    int64_t ch = xv->dims[1];
    for (int i = 1; i < 5; i++) {
        int v = n->in[i];
        if (!dn_is_const(p, v) || eos_value_numel(&p->g.values[v]) != ch) return EOS_OK;
    }
    const dn_copy *src = dn_value_main(p, c, x);
    if (!src) return eos_err_set(err, EOS_INTERNAL, "dnnl: batch norm input missing");
    dn_copy from = *src;
    dnnl_batch_normalization_desc_t d;
    unsigned flags = dnnl_use_global_stats | dnnl_use_scale | dnnl_use_shift;
    float eps = eos_attr_float(n, "epsilon", 1e-5f);
    dnnl_status_t r = dnnl_batch_normalization_forward_desc_init(&d, dnnl_forward_inference,
                                                                 &from.md, eps, flags);
    if (r != dnnl_success) {
        if (dn_unsupported(r)) return EOS_OK;
        return dn_fail(p, node, "dnnl_batch_normalization_forward_desc_init", r, err);
    }
    dnnl_primitive_desc_t pd;
    bool ok;
    EOS_TRY(plain_pd(p, c, node, &d, &pd, &ok, err));
    if (!ok) return EOS_OK;
    int reuse = dn_value_reusable(p, c, x, node, &from.md), dbuf;
    dn_prim *s = NULL;
    eos_status st = dn_value_out(p, c, n->out[0], &from.md, reuse, &dbuf, err);
    if (st == EOS_OK) st = dn_prim_new(p, c, node, NULL, pd, 6, &s, err);
    dnnl_primitive_desc_destroy(pd);
    if (st != EOS_OK) return st;
    dnnl_memory_desc_t vmd;
    dn_plain_md_dims(&vmd, 1, &ch);
    static const int args[4] = { DNNL_ARG_SCALE, DNNL_ARG_SHIFT, DNNL_ARG_MEAN, DNNL_ARG_VARIANCE };
    dn_prim_arg(s, DNNL_ARG_SRC, from.buf, &from.md);
    dn_prim_arg(s, DNNL_ARG_DST, dbuf, &from.md);
    for (int i = 0; i < 4; i++) {
        int vb = eos_plan_value_buf(p, n->in[1 + i]);
        if (vb < 0) {
            dn_prim_free(s);
            return eos_err_set(err, EOS_NOMEM, "out of memory lowering to oneDNN");
        }
        dn_prim_arg(s, args[i], vb, &vmd);
    }
    EOS_TRY(dn_prim_add(p, s, n->op_type, err));
    *done = true;
    return EOS_OK;
}

/* ------------------------------------------------------------------ softmax */

eos_status dn_lower_softmax(eos_plan *p, dn_ctx *c, int node, bool *done, eos_err *err) {
    const eos_node *n = &p->g.nodes[node];
    int x = n->in[0];
    *done = false;
    const eos_value *xv = &p->g.values[x];
    int nd = xv->ndim;
    if (nd < 1) return EOS_OK;
    int64_t axis = eos_attr_int(n, "axis", n->opset >= 13 ? -1 : 1);
    if (axis < 0) axis += nd;
    if (axis < 0 || axis >= nd) return EOS_OK;
    /* before opset 13 the input is coerced to 2-D at axis: one axis only when it is the last */
    if (n->opset < 13 && axis != nd - 1) return EOS_OK;
    dnnl_memory_desc_t md;
    dn_plain_md(p, x, &md);
    dnnl_softmax_v2_desc_t d;
    dnnl_alg_kind_t alg = n->op == EOS_OP_SOFTMAX ? dnnl_softmax_accurate : dnnl_softmax_log;
    dnnl_status_t r = dnnl_softmax_v2_forward_desc_init(&d, dnnl_forward_inference, alg, &md, &md,
                                                        (int)axis);
    if (r != dnnl_success) {
        if (dn_unsupported(r)) return EOS_OK;
        return dn_fail(p, node, "dnnl_softmax_v2_forward_desc_init", r, err);
    }
    dnnl_primitive_desc_t pd;
    bool ok;
    EOS_TRY(plain_pd(p, c, node, &d, &pd, &ok, err));
    if (!ok) return EOS_OK;
    int sbuf = -1;
    eos_status st = dn_value_get(p, c, x, &md, &sbuf, err);
    if (st == EOS_OK) st = add_unary(p, c, node, pd, sbuf, &md, &md, true, n->op_type, err);
    dnnl_primitive_desc_destroy(pd);
    if (st == EOS_OK) *done = true;
    return st;
}

/* ------------------------------------------------------------------ concat */

/* oneDNN's fast concat needs one layout for all sources (else it runs a reference kernel): when
 * the inputs differ, bring them to the layout of the first non-plain input, reusing existing
 * copies. Layouts that cannot be matched are left as they are. */
static eos_status concat_common_layout(eos_plan *p, dn_ctx *c, const eos_node *n,
                                       dnnl_memory_desc_t *mds, int *bufs, eos_err *err) {
    int k = n->n_in, ref = -1;
    bool same = true;
    for (int i = 0; i < k; i++) {
        if (ref < 0 && !dn_is_plain(p, n->in[i], &mds[i])) ref = i;
        dnnl_memory_desc_t want;
        if (i > 0 && !(dn_md_like(&mds[0], mds[i].ndims, mds[i].dims, &want) &&
                       dnnl_memory_desc_equal(&want, &mds[i])))
            same = false;
    }
    if (same || ref < 0) return EOS_OK;
    for (int i = 0; i < k; i++) {
        const eos_value *v = &p->g.values[n->in[i]];
        dnnl_memory_desc_t want;
        if (i == ref || !dn_md_like(&mds[ref], v->ndim, v->dims, &want)) continue;
        if (dnnl_memory_desc_equal(&want, &mds[i])) continue;
        EOS_TRY(dn_value_get(p, c, n->in[i], &want, &bufs[i], err));
        mds[i] = want;
    }
    return EOS_OK;
}

eos_status dn_lower_concat(eos_plan *p, dn_ctx *c, int node, bool *done, eos_err *err) {
    const eos_node *n = &p->g.nodes[node];
    const eos_value *yv = &p->g.values[n->out[0]];
    *done = false;
    int nd = yv->ndim, k = n->n_in;
    int64_t axis = eos_attr_int(n, "axis", 0);
    if (axis < 0) axis += nd;
    if (nd < 1 || axis < 0 || axis >= nd || k < 1) return EOS_OK;
    for (int i = 0; i < k; i++)
        if (n->in[i] < 0 || eos_value_numel(&p->g.values[n->in[i]]) <= 0) return EOS_OK;
    dnnl_memory_desc_t *mds = eos_malloc((size_t)k * sizeof *mds);
    int *bufs = eos_malloc((size_t)k * sizeof *bufs);
    eos_status st = EOS_OK;
    if (!mds || !bufs) st = eos_err_set(err, EOS_NOMEM, "out of memory lowering to oneDNN");
    for (int i = 0; i < k && st == EOS_OK; i++) {
        const dn_copy *cp = dn_value_main(p, c, n->in[i]);
        if (!cp) st = eos_err_set(err, EOS_INTERNAL, "dnnl: concat input missing");
        else {
            mds[i] = cp->md;
            bufs[i] = cp->buf;
        }
    }
    if (st == EOS_OK) st = concat_common_layout(p, c, n, mds, bufs, err);
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_attr_t attr = NULL;
    if (st == EOS_OK) st = dn_make_attr(p, node, NULL, false, &attr, err);
    if (st == EOS_OK) {
        dnnl_memory_desc_t dst;
        dn_any_md(&dst, nd, yv->dims);
        dnnl_status_t r = dnnl_concat_primitive_desc_create(&pd, &dst, k, (int)axis, mds, attr,
                                                            c->engine);
        if (r != dnnl_success) {
            pd = NULL;
            if (!dn_unsupported(r))
                st = dn_fail(p, node, "dnnl_concat_primitive_desc_create", r, err);
        }
    }
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (st == EOS_OK && pd) {
        const dnnl_memory_desc_t *dmd = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
        int dbuf;
        dn_prim *s = NULL;
        st = dn_value_out(p, c, n->out[0], dmd, -1, &dbuf, err);
        if (st == EOS_OK) st = dn_prim_new(p, c, node, NULL, pd, k + 1, &s, err);
        if (st == EOS_OK) {
            for (int i = 0; i < k; i++) dn_prim_arg(s, DNNL_ARG_MULTIPLE_SRC + i, bufs[i], &mds[i]);
            dn_prim_arg(s, DNNL_ARG_DST, dbuf, dmd);
            st = dn_prim_add(p, s, n->op_type, err);
            if (st == EOS_OK) *done = true;
        }
    }
    if (pd) dnnl_primitive_desc_destroy(pd);
    eos_free(mds);
    eos_free(bufs);
    return st;
}

/* ------------------------------------------------------------------ resize */

/* Does oneDNN resampling compute exactly what the ONNX attributes ask for? oneDNN maps output
 * index o to input coordinate (o + 0.5) * in / out - 0.5 for both algorithms; nearest rounds
 * it, which equals ONNX asymmetric+floor and half_pixel+round only at integer up-scales. */
static bool resize_matches(const eos_resize_params *rp, dnnl_alg_kind_t *alg) {
    if (rp->ndim < 3 || rp->ndim > 5) return false;
    if (rp->in_dims[0] != rp->out_dims[0] || rp->in_dims[1] != rp->out_dims[1]) return false;
    for (int i = 2; i < rp->ndim; i++) {
        int64_t in = rp->in_dims[i], out = rp->out_dims[i];
        if (rp->scales[i] != (float)out / (float)in) return false;
        if (rp->mode == EOS_RESIZE_NEAREST && out % in != 0) return false;
        if (rp->mode == EOS_RESIZE_LINEAR && rp->coord == EOS_COORD_PYTORCH_HALF_PIXEL && out == 1)
            return false;
    }
    if (rp->mode == EOS_RESIZE_LINEAR) {
        *alg = dnnl_resampling_linear;
        return rp->coord == EOS_COORD_HALF_PIXEL || rp->coord == EOS_COORD_PYTORCH_HALF_PIXEL;
    }
    if (rp->mode != EOS_RESIZE_NEAREST) return false;
    *alg = dnnl_resampling_nearest;
    if (rp->coord == EOS_COORD_ASYMMETRIC) return rp->nearest == EOS_NEAREST_FLOOR;
    return rp->coord == EOS_COORD_HALF_PIXEL && (rp->nearest == EOS_NEAREST_ROUND_PREFER_FLOOR ||
                                                 rp->nearest == EOS_NEAREST_ROUND_PREFER_CEIL);
}

eos_status dn_lower_resize(eos_plan *p, dn_ctx *c, int node, bool *done, eos_err *err) {
    const eos_node *n = &p->g.nodes[node];
    int x = n->in[0], y = n->out[0];
    *done = false;
    const eos_value *in[4] = { NULL, NULL, NULL, NULL };
    for (int i = 0; i < n->n_in && i < 4; i++)
        in[i] = n->in[i] >= 0 ? &p->g.values[n->in[i]] : NULL;
    eos_resize_params rp;
    eos_err tmp;
    if (eos_resize_params_get(n, in, &rp, &tmp) != EOS_OK) return EOS_OK; /* ref reports it */
    if (eos_attr_int(n, "exclude_outside", 0) != 0) return EOS_OK;
    dnnl_alg_kind_t alg;
    if (!resize_matches(&rp, &alg)) return EOS_OK;
    const dn_copy *src = dn_value_main(p, c, x);
    if (!src) return eos_err_set(err, EOS_INTERNAL, "dnnl: resize input missing");
    dn_copy from = *src;
    dnnl_memory_desc_t dst;
    dn_any_md(&dst, p->g.values[y].ndim, p->g.values[y].dims);
    dnnl_resampling_desc_t d;
    dnnl_status_t r = dnnl_resampling_forward_desc_init(&d, dnnl_forward_inference, alg, NULL,
                                                        &from.md, &dst);
    return finish_unary(p, c, node, r, "dnnl_resampling_forward_desc_init", &d, &from, false, done, err);
}
