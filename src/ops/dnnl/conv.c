/*
 * src/ops/dnnl/conv.c - the compute-heavy nodes on oneDNN: Conv and ConvTranspose (convolution /
 * deconvolution), Gemm (inner product) and MatMul (matmul).
 *
 * Convolutions are created with dnnl_format_tag_any for source, weights and destination, so
 * oneDNN picks its fastest layouts (nChw16c activations, OIhw16i16o weights on AVX-512; plain
 * nchw source for 3-channel first layers). The source is reordered only when the input's existing
 * copy has another layout; constant weights are reordered once, here, into memory the step owns.
 * Fused activations become eltwise post-ops and a fused residual the `sum` post-op, in the order
 * [sum, eltwise] so that y = act(conv(x) + b + residual), which is what eos_fusion specifies.
 *
 * ONNX -> oneDNN geometry: dilation d becomes d - 1; ConvTranspose's output_padding is folded
 * into the right padding (padding_r = pad_end - output_padding); ConvTranspose weights
 * [C_in, C_out/group, k...] are described with strides as the logical [group, C_out/group,
 * C_in/group, k...] tensor oneDNN expects, so no host-side transposition is needed.
 */
#include <stdlib.h>
#include <string.h>

#include "eosight/alloc.h"
#include "ops/dnnl/dn.h"
#include "ops/ops.h"
#include "ops/x86/smallconv.h"

/* Input index of the bias: input 2 unless omitted or taken by the fused residual. */
static int bias_input(const eos_node *n) {
    if (n->n_in <= 2 || n->fuse.sum_in == 2) return -1;
    return n->in[2];
}

/* Weights layouts: want (logical dims, format any) and have (the ONNX tensor's actual layout). */
static void conv_weight_mds(const eos_conv_params *cp, dnnl_memory_desc_t *want,
                            dnnl_memory_desc_t *have) {
    int ns = cp->n_spatial, g1 = cp->group > 1 ? 1 : 0, nd = ns + 2 + g1;
    int64_t ocg = cp->c_out / cp->group, icg = cp->c_in / cp->group, ksz = 1;
    dnnl_dims_t d, s;
    if (g1) d[0] = cp->group;
    d[g1] = g1 ? ocg : cp->c_out;
    d[g1 + 1] = icg;
    for (int i = 0; i < ns; i++) {
        d[g1 + 2 + i] = cp->kernel[i];
        ksz *= cp->kernel[i];
    }
    memset(want, 0, sizeof *want);
    dnnl_memory_desc_init_by_tag(want, nd, d, dnnl_f32, dnnl_format_tag_any);
    if (!cp->transposed) {
        int64_t dims64[DNNL_MAX_NDIMS];
        for (int i = 0; i < nd; i++) dims64[i] = d[i];
        /* [C_out, C_in/g, k...] is [g, C_out/g, C_in/g, k...] row-major */
        dn_plain_md_dims(have, nd, dims64);
        return;
    }
    /* ConvTranspose W: [C_in, C_out/g, k...] with C_in = g * icg + i */
    int64_t sp = 1;
    for (int i = ns - 1; i >= 0; i--) {
        s[g1 + 2 + i] = sp;
        sp *= cp->kernel[i];
    }
    if (g1) s[0] = icg * ocg * ksz;
    s[g1] = ksz;                 /* output channel within the group */
    s[g1 + 1] = ocg * ksz;       /* input channel within the group */
    memset(have, 0, sizeof *have);
    dnnl_memory_desc_init_by_strides(have, nd, d, dnnl_f32, s);
}

/* The op descriptor of a (de)convolution; returns the oneDNN status of the init call. */
static dnnl_status_t conv_desc(const eos_conv_params *cp, dnnl_alg_kind_t alg,
                               const dnnl_memory_desc_t *src, const dnnl_memory_desc_t *dst_want,
                               const eos_value *y, const dnnl_memory_desc_t *wei,
                               const dnnl_memory_desc_t *bias, dnnl_convolution_desc_t *cd,
                               dnnl_deconvolution_desc_t *dd) {
    /* a given source layout asks for the same layout at the output (with "any" some kernels,
     * e.g. nhwc deconvolution, are only found as reference implementations) */
    dnnl_memory_desc_t dst;
    if (dst_want) dst = *dst_want;
    else if (src->format_kind == dnnl_format_kind_any || !dn_md_like(src, y->ndim, y->dims, &dst))
        dn_any_md(&dst, y->ndim, y->dims);
    dnnl_dims_t strides, dil, pl, pr;
    for (int i = 0; i < cp->n_spatial; i++) {
        strides[i] = cp->stride[i];
        dil[i] = cp->dilation[i] - 1;
        pl[i] = cp->pad_begin[i];
        pr[i] = cp->pad_end[i] - (cp->transposed ? cp->out_pad[i] : 0);
    }
    if (cp->transposed)
        return dnnl_dilated_deconvolution_forward_desc_init(dd, dnnl_forward_inference,
                                                            dnnl_deconvolution_direct, src, wei,
                                                            bias, &dst, strides, dil, pl, pr);
    return dnnl_dilated_convolution_forward_desc_init(cd, dnnl_forward_inference,
                                                      alg, src, wei, bias,
                                                      &dst, strides, dil, pl, pr);
}

/* Steps for a primitive with src/weights/bias/dst (conv, deconv, inner product) once pd exists:
 * source reorder if needed, weights reordered now, residual placed, then the compute step. */
static eos_status add_weighted(eos_plan *p, dn_ctx *c, int node, const_dnnl_primitive_desc_t pd,
                               int x, const dnnl_memory_desc_t *w_have, const void *w_data,
                               int bias, const char *label, eos_err *err) {
    const eos_node *n = &p->g.nodes[node];
    const dnnl_memory_desc_t *src_md = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
    const dnnl_memory_desc_t *wei_md = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    const dnnl_memory_desc_t *dst_md = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    if (!src_md || !wei_md || !dst_md)
        return eos_err_set(err, EOS_BACKEND, "node '%s' (%s): dnnl_primitive_desc_query_md failed",
                           n->name, n->op_type);
    int sbuf, dbuf;
    EOS_TRY(dn_value_get(p, c, x, src_md, &sbuf, err));
    void *wei = NULL;
    EOS_TRY(dn_reorder_const(p, c, node, w_have, w_data, wei_md, &wei, err));
    eos_status st = dn_dst_with_sum(p, c, node, dst_md, &dbuf, err);
    dn_prim *s = NULL;
    if (st == EOS_OK) st = dn_prim_new(p, c, node, NULL, pd, 4, &s, err);
    if (st != EOS_OK) {
        eos_free(wei);
        return st;
    }
    s->owned = wei;
    dn_prim_arg(s, DNNL_ARG_SRC, sbuf, src_md);
    st = dn_prim_arg_ptr(p, s, DNNL_ARG_WEIGHTS, wei_md, wei, err);
    if (st != EOS_OK) {
        dn_prim_free(s);
        return st;
    }
    if (bias >= 0) {
        dnnl_memory_desc_t bmd;
        int64_t nb = eos_value_numel(&p->g.values[bias]);
        dn_plain_md_dims(&bmd, 1, &nb);
        int bb = eos_plan_value_buf(p, bias);
        if (bb < 0) {
            dn_prim_free(s);
            return eos_err_set(err, EOS_NOMEM, "out of memory lowering to oneDNN");
        }
        dn_prim_arg(s, DNNL_ARG_BIAS, bb, &bmd);
    }
    dn_prim_arg(s, DNNL_ARG_DST, dbuf, dst_md);
    return dn_prim_add(p, s, label, err);
}

/* True when pd's implementation is one of oneDNN's slow reference kernels. */
static bool is_ref_impl(const_dnnl_primitive_desc_t pd) {
    const char *impl = NULL;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) != dnnl_success || !impl)
        return false;
    return strncmp(impl, "ref", 3) == 0;
}

/* The (de)convolution pd for source layout src (format any or a given layout); *pd NULL when
 * oneDNN has no implementation. */
static eos_status conv_pd(eos_plan *p, dn_ctx *c, int node, const eos_conv_params *cp,
                          dnnl_alg_kind_t alg, const dnnl_memory_desc_t *src,
                          const dnnl_memory_desc_t *dst, const dnnl_memory_desc_t *wei,
                          const dnnl_memory_desc_t *bias, dnnl_primitive_desc_t *pd, eos_err *err) {
    const eos_node *n = &p->g.nodes[node];
    dnnl_convolution_desc_t cd;
    dnnl_deconvolution_desc_t dd;
    *pd = NULL;
    dnnl_status_t r = conv_desc(cp, alg, src, dst, &p->g.values[n->out[0]], wei, bias, &cd, &dd);
    if (r != dnnl_success) {
        if (dn_unsupported(r)) return EOS_OK;
        return dn_fail(p, node, cp->transposed ? "dnnl_deconvolution_forward_desc_init"
                                               : "dnnl_convolution_forward_desc_init", r, err);
    }
    dnnl_primitive_attr_t attr;
    EOS_TRY(dn_make_attr(p, node, &n->fuse, n->fuse.sum_in >= 0, &attr, err));
    bool ok;
    const void *desc = cp->transposed ? (const void *)&dd : (const void *)&cd;
    eos_status st = dn_pd_create(p, node, pd, desc, attr, c, &ok, err);
    dnnl_primitive_attr_destroy(attr);
    return st;
}

/* The default rule for Winograd, from per-layer measurements of oneDNN 2.6 on AVX-512 (1 and 2
 * threads, batch 1-16, the 3x3 layers of ResNet-18/50 and the U-Net, weights in and out of
 * cache): F(4x4,3x3) and F(2x2,3x3) beat the best direct kernel by 1.4-2.8x once a layer has
 * enough output pixels to amortise its weights, which Winograd makes 1.8x (2x3) to 4x (4x3)
 * bigger. Below 64 output pixels per layer (batch x height x width: the 7x7, 4x4 and 2x2 layers
 * of ResNets at batch 1) the layer is bound by reading weights and Winograd is 0.5-1.0x; on
 * outputs under 4x4 its tiles are mostly padding; F(2x2,3x3) on thin layers (C_in * C_out under
 * 4096, e.g. 32 -> 32 channels at 256x256) is 0.9x: the transforms dominate. */
static bool wino_pays(const eos_conv_params *cp, const_dnnl_primitive_desc_t w) {
    int64_t px = cp->n_batch;
    for (int i = 0; i < cp->n_spatial; i++) {
        if (cp->out_sp[i] < 4) return false;
        px *= cp->out_sp[i];
    }
    if (px < 64) return false;
    const char *impl = NULL;
    if (dnnl_primitive_desc_query(w, dnnl_query_impl_info_str, 0, &impl) != dnnl_success || !impl)
        return false;
    if (strstr(impl, "2x3") && cp->c_in * cp->c_out < 4096) return false;
    return true;
}

/* The channel-blocked-by-16 layout (nChw16c) of value v; false for other ranks. */
static bool blocked16_md(const eos_value *v, dnnl_memory_desc_t *md) {
    dnnl_format_tag_t tag = v->ndim == 3 ? dnnl_aBc16b : v->ndim == 4 ? dnnl_aBcd16b
                          : v->ndim == 5 ? dnnl_aBcde16b : dnnl_format_tag_undef;
    dnnl_dims_t d;
    for (int i = 0; i < v->ndim; i++) d[i] = v->dims[i];
    return tag != dnnl_format_tag_undef &&
           dnnl_memory_desc_init_by_tag(md, v->ndim, d, dnnl_f32, tag) == dnnl_success;
}

/* In a plan whose Winograd layers run on nChw16c, a direct convolution for which oneDNN would
 * pick nhwc is asked for nChw16c output instead (when a real kernel exists), so the network
 * does not change layout at every Winograd layer and its residual sums. */
static eos_status prefer_blocked(eos_plan *p, dn_ctx *c, int node, const eos_conv_params *cp,
                                 const dnnl_memory_desc_t *wei, const dnnl_memory_desc_t *bias,
                                 dnnl_primitive_desc_t *pd, eos_err *err) {
    const eos_node *n = &p->g.nodes[node];
    const eos_value *xv = &p->g.values[n->in[0]];
    dnnl_memory_desc_t want, any;
    if (!blocked16_md(&p->g.values[n->out[0]], &want)) return EOS_OK;
    const dnnl_memory_desc_t *got = dnnl_primitive_desc_query_md(*pd, dnnl_query_dst_md, 0);
    if (!got || dnnl_memory_desc_equal(got, &want)) return EOS_OK;
    dn_any_md(&any, xv->ndim, xv->dims);
    dnnl_primitive_desc_t alt = NULL;
    EOS_TRY(conv_pd(p, c, node, cp, dnnl_convolution_direct, &any, &want, wei, bias, &alt, err));
    if (!alt) return EOS_OK;
    if (is_ref_impl(alt)) {
        dnnl_primitive_desc_destroy(alt);
        return EOS_OK;
    }
    dnnl_primitive_desc_destroy(*pd);
    *pd = alt;
    return EOS_OK;
}

bool dn_plan_prefers_blocked(const eos_plan *p, const dn_ctx *c) {
    if (c->conv_mode == DN_CONV_DIRECT) return false;
    for (int i = 0; i < p->g.n_nodes; i++) {
        const eos_node *n = &p->g.nodes[i];
        if (n->op != EOS_OP_CONV || n->n_in < 2 || n->in[1] < 0) continue;
        const eos_value *x = &p->g.values[n->in[0]], *w = &p->g.values[n->in[1]];
        eos_conv_params cp;
        if (eos_conv_params_get(n, x->ndim, x->dims, w->ndim, w->dims, false, &cp, NULL) != EOS_OK)
            continue;
        int64_t px = cp.n_batch;
        bool k3 = cp.group == 1 && cp.c_in * cp.c_out >= 4096;
        for (int d = 0; d < cp.n_spatial && k3; d++) {
            k3 = cp.kernel[d] == 3 && cp.stride[d] == 1 && cp.dilation[d] == 1 && cp.out_sp[d] >= 4;
            px *= cp.out_sp[d];
        }
        if (k3 && px >= 64) return true;
    }
    return false;
}

/* Candidate primitive descriptors for a (de)convolution, in order:
 *   A  direct, every layout chosen by oneDNN (format any; nChw16c output in plans that use
 *      Winograd, see prefer_blocked);
 *   B  direct on the layout the input already has, when that is not plain, differs from A's and
 *      has a real (non-reference) kernel: keeps e.g. a deconvolution after nChw16c layers in
 *      nChw16c instead of reordering around it;
 *   C  Winograd (3x3 stride-1 convolutions only; oneDNN says which).
 * Without C, B is taken over A (a reorder saved), else A. C is taken where wino_pays(), or
 * always / never when EOS_DNNL_CONV says "winograd" / "direct"; EOS_DNNL_CONV=tune measures
 * the candidates instead (tune.c). */
static eos_status conv_pick_pd(eos_plan *p, dn_ctx *c, int node, const eos_conv_params *cp,
                               const dnnl_memory_desc_t *wei, const dnnl_memory_desc_t *bias,
                               dnnl_primitive_desc_t *pd, eos_err *err) {
    const eos_node *n = &p->g.nodes[node];
    const eos_value *xv = &p->g.values[n->in[0]];
    dnnl_primitive_desc_t cand[3] = { NULL, NULL, NULL }, w = NULL;
    int n_cand = 0;
    *pd = NULL;
    dnnl_memory_desc_t any;
    dn_any_md(&any, xv->ndim, xv->dims);
    const dn_copy *have = dn_value_main(p, c, n->in[0]);
    if (!have) return eos_err_set(err, EOS_INTERNAL, "dnnl: convolution input missing");
    dnnl_memory_desc_t have_md = have->md;
    eos_status st = conv_pd(p, c, node, cp, dnnl_convolution_direct, &any, NULL, wei, bias,
                             &cand[0], err);
    /* a stem on plain input with 8+ bands: brgemm on nhwc is 1.4x the nchw-source jit kernel,
     * worth one reorder of its (smaller) output later */
    bool stem = dn_is_plain(p, n->in[0], &have_md) && cp->c_in >= 8;
    if (st == EOS_OK && cand[0] && c->prefer_blocked && !stem)
        st = prefer_blocked(p, c, node, cp, wei, bias, &cand[0], err);
    if (cand[0]) n_cand = 1;
    bool try_b = st == EOS_OK && !dn_is_plain(p, n->in[0], &have_md);
    if (try_b && n_cand) {
        const dnnl_memory_desc_t *chosen =
            dnnl_primitive_desc_query_md(cand[0], dnnl_query_src_md, 0);
        try_b = chosen && !dnnl_memory_desc_equal(chosen, &have_md) &&
                !dn_value_find(c, n->in[0], chosen);
    }
    if (try_b) {
        dnnl_primitive_desc_t alt = NULL;
        st = conv_pd(p, c, node, cp, dnnl_convolution_direct, &have_md, NULL, wei, bias, &alt, err);
        if (alt && is_ref_impl(alt) && n_cand) dnnl_primitive_desc_destroy(alt);
        else if (alt) cand[n_cand++] = alt;
    }
    bool wino_ok = !cp->transposed && cp->group == 1 && c->conv_mode != DN_CONV_DIRECT;
    for (int i = 0; i < cp->n_spatial && wino_ok; i++)
        wino_ok = cp->kernel[i] == 3 && cp->stride[i] == 1 && cp->dilation[i] == 1;
    if (st == EOS_OK && wino_ok)
        st = conv_pd(p, c, node, cp, dnnl_convolution_winograd, &any, NULL, wei, bias, &w, err);
    int pick = n_cand - 1;   /* B when there is one, else A */
    if (st == EOS_OK && w) {
        cand[n_cand++] = w;
        if (c->conv_mode == DN_CONV_TUNE) st = dn_tune_pick(p, c, node, cand, n_cand, &pick, err);
        else if (c->conv_mode == DN_CONV_WINOGRAD || wino_pays(cp, w)) pick = n_cand - 1;
    }
    for (int i = 0; i < n_cand; i++) {
        if (st == EOS_OK && i == pick) *pd = cand[i];
        else dnnl_primitive_desc_destroy(cand[i]);
    }
    return st;
}

/* ------------------------------------------------------------------ weight-bound small layers */

typedef struct small_step {
    eos_smallconv *k;
    int            x_buf, y_buf, scratch_buf;
    bool           with_sum;
} small_step;

static void small_step_free(void *st) {
    small_step *s = st;
    if (!s) return;
    eos_smallconv_free(s->k);
    eos_free(s);
}

static eos_status small_step_exec(eos_plan *p, const eos_step *st, eos_err *err) {
    const small_step *s = st->state;
    eos_smallconv_run(s->k, p->bufs[s->x_buf].ptr, p->bufs[s->y_buf].ptr, s->with_sum,
                      p->bufs[s->scratch_buf].ptr, p->n_threads);
    return EOS_OK;
}

/* Few output pixels, many channels: the layer waits for its weights, and our streaming kernel
 * (src/ops/x86) reads them faster than oneDNN's. Activations stay in nChw16c. */
static eos_status lower_small(eos_plan *p, dn_ctx *c, int node, const eos_conv_params *cp,
                              bool *done, eos_err *err) {
    const eos_node *n = &p->g.nodes[node];
    int b = bias_input(n);
    dnnl_memory_desc_t xmd, ymd;
    if (!blocked16_md(&p->g.values[n->in[0]], &xmd) || !blocked16_md(&p->g.values[n->out[0]], &ymd))
        return EOS_OK;
    small_step *s = eos_calloc(1, sizeof *s);
    if (!s) return eos_err_set(err, EOS_NOMEM, "out of memory");
    eos_status st = eos_smallconv_create(cp, p->g.values[n->in[1]].data,
                                         b >= 0 ? p->g.values[b].data : NULL, &n->fuse, &s->k, err);
    if (st == EOS_OK) st = dn_value_get(p, c, n->in[0], &xmd, &s->x_buf, err);
    if (st == EOS_OK) st = dn_dst_with_sum(p, c, node, &ymd, &s->y_buf, err);
    if (st == EOS_OK) {
        s->scratch_buf = eos_plan_new_buf(p, eos_smallconv_scratch_bytes(s->k), 0);
        if (s->scratch_buf < 0) st = eos_err_set(err, EOS_NOMEM, "out of memory");
    }
    if (st != EOS_OK) {
        small_step_free(s);
        return st;
    }
    s->with_sum = n->fuse.sum_in >= 0;
    int bufs[3] = { s->x_buf, s->y_buf, s->scratch_buf };
    st = eos_plan_add_step(p, small_step_exec, s, small_step_free, node, bufs, 3, "Conv(x86)");
    if (st) return eos_err_set(err, st, "out of memory");
    *done = true;
    return EOS_OK;
}

eos_status dn_lower_conv(eos_plan *p, dn_ctx *c, int node, bool *done, eos_err *err) {
    const eos_node *n = &p->g.nodes[node];
    bool tr = n->op == EOS_OP_CONV_TRANSPOSE;
    int x = n->in[0], w = n->in[1], b = bias_input(n);
    *done = false;
    if (!dn_is_const(p, w) || (b >= 0 && !dn_is_const(p, b))) return EOS_OK;
    const eos_value *xv = &p->g.values[x], *wv = &p->g.values[w];
    eos_conv_params cp;
    EOS_TRY(eos_conv_params_get(n, xv->ndim, xv->dims, wv->ndim, wv->dims, tr, &cp, err));
    if (b >= 0 && eos_value_numel(&p->g.values[b]) != cp.c_out) return EOS_OK;
    if (c->conv_mode == DN_CONV_AUTO && dn_is_f32(p, x) && dn_is_f32(p, w) &&
        eos_smallconv_applicable(&cp, &n->fuse)) {
        EOS_TRY(lower_small(p, c, node, &cp, done, err));
        if (*done) return EOS_OK;
    }
    dnnl_memory_desc_t wei_any, wei_have, bias_md;
    conv_weight_mds(&cp, &wei_any, &wei_have);
    if (b >= 0) dn_plain_md_dims(&bias_md, 1, &cp.c_out);
    dnnl_primitive_desc_t pd;
    EOS_TRY(conv_pick_pd(p, c, node, &cp, &wei_any, b >= 0 ? &bias_md : NULL, &pd, err));
    if (!pd) return EOS_OK;
    eos_status st = add_weighted(p, c, node, pd, x, &wei_have, wv->data, b, n->op_type, err);
    dnnl_primitive_desc_destroy(pd);
    if (st == EOS_OK) *done = true;
    return st;
}

/* Gemm as inner product: Y = A * B' + C with alpha = beta = 1, transA = 0, constant B and a bias
 * C of N elements. Other forms (scaled, transposed A, full C) stay on the reference. */
eos_status dn_lower_gemm(eos_plan *p, dn_ctx *c, int node, bool *done, eos_err *err) {
    const eos_node *n = &p->g.nodes[node];
    int a = n->in[0], bw = n->in[1], cb = bias_input(n), y = n->out[0];
    *done = false;
    const eos_value *av = &p->g.values[a], *bv = &p->g.values[bw], *yv = &p->g.values[y];
    if (av->ndim != 2 || bv->ndim != 2 || yv->ndim != 2 || !dn_is_const(p, bw)) return EOS_OK;
    if (eos_attr_float(n, "alpha", 1.0f) != 1.0f || eos_attr_int(n, "transA", 0) != 0)
        return EOS_OK;
    bool trans_b = eos_attr_int(n, "transB", 0) != 0;
    int64_t m = av->dims[0], k = av->dims[1], nn = yv->dims[1];
    if (cb >= 0) {
        const eos_value *cv = &p->g.values[cb];
        bool vec = cv->ndim == 1 || (cv->ndim == 2 && cv->dims[0] == 1);
        if (!dn_is_const(p, cb) || !vec || eos_value_numel(cv) != nn ||
            eos_attr_float(n, "beta", 1.0f) != 1.0f)
            return EOS_OK;
    }
    dnnl_memory_desc_t src, wei, dst, bias, have;
    int64_t sd[2] = { m, k }, wd[2] = { nn, k }, dd[2] = { m, nn };
    dn_any_md(&src, 2, sd);
    dn_any_md(&wei, 2, wd);
    dn_any_md(&dst, 2, dd);
    dn_plain_md_dims(&bias, 1, &nn);
    if (trans_b) {
        dn_plain_md_dims(&have, 2, wd);
    } else {   /* B is [K, N]: the [N, K] weights with strides {1, N} */
        dnnl_dims_t d = { nn, k }, s = { 1, nn };
        memset(&have, 0, sizeof have);
        dnnl_memory_desc_init_by_strides(&have, 2, d, dnnl_f32, s);
    }
    dnnl_inner_product_desc_t ipd;
    dnnl_status_t r = dnnl_inner_product_forward_desc_init(&ipd, dnnl_forward_inference, &src, &wei,
                                                           cb >= 0 ? &bias : NULL, &dst);
    if (r != dnnl_success) {
        if (dn_unsupported(r)) return EOS_OK;
        return dn_fail(p, node, "dnnl_inner_product_forward_desc_init", r, err);
    }
    dnnl_primitive_attr_t attr;
    EOS_TRY(dn_make_attr(p, node, &n->fuse, n->fuse.sum_in >= 0, &attr, err));
    dnnl_primitive_desc_t pd;
    bool ok;
    eos_status st = dn_pd_create(p, node, &pd, &ipd, attr, c, &ok, err);
    dnnl_primitive_attr_destroy(attr);
    if (st != EOS_OK || !ok) return st;
    st = add_weighted(p, c, node, pd, a, &have, bv->data, cb, "Gemm", err);
    dnnl_primitive_desc_destroy(pd);
    if (st == EOS_OK) *done = true;
    return st;
}

/* dims of v padded with leading 1s to rank nd (numpy broadcasting). */
static void expand_dims(const eos_value *v, int nd, int64_t *out) {
    int pad = nd - v->ndim;
    for (int i = 0; i < nd; i++) out[i] = i < pad ? 1 : v->dims[i - pad];
}

/* MatMul on plain row-major tensors with the matmul primitive (batch dims broadcast). */
eos_status dn_lower_matmul(eos_plan *p, dn_ctx *c, int node, bool *done, eos_err *err) {
    const eos_node *n = &p->g.nodes[node];
    int a = n->in[0], b = n->in[1], y = n->out[0];
    *done = false;
    const eos_value *av = &p->g.values[a], *bv = &p->g.values[b], *yv = &p->g.values[y];
    int nd = yv->ndim;
    if (av->ndim < 2 || bv->ndim < 2 || nd < 2 || nd > DNNL_MAX_NDIMS) return EOS_OK;
    int64_t ad[DNNL_MAX_NDIMS], bd[DNNL_MAX_NDIMS];
    expand_dims(av, nd, ad);
    expand_dims(bv, nd, bd);
    dnnl_memory_desc_t amd, bmd, ymd;
    dn_plain_md_dims(&amd, nd, ad);
    dn_plain_md_dims(&bmd, nd, bd);
    dn_plain_md(p, y, &ymd);
    dnnl_matmul_desc_t mmd;
    dnnl_status_t r = dnnl_matmul_desc_init(&mmd, &amd, &bmd, NULL, &ymd);
    if (r != dnnl_success) {
        if (dn_unsupported(r)) return EOS_OK;
        return dn_fail(p, node, "dnnl_matmul_desc_init", r, err);
    }
    dnnl_primitive_attr_t attr;
    EOS_TRY(dn_make_attr(p, node, &n->fuse, n->fuse.sum_in >= 0, &attr, err));
    dnnl_primitive_desc_t pd;
    bool ok;
    eos_status st = dn_pd_create(p, node, &pd, &mmd, attr, c, &ok, err);
    dnnl_primitive_attr_destroy(attr);
    if (st != EOS_OK || !ok) return st;
    dn_prim *s = NULL;
    int ab = -1, bb = -1, yb = -1;
    if (!av->data) st = dn_value_plain(p, c, a, err);
    if (st == EOS_OK && !bv->data) st = dn_value_plain(p, c, b, err);
    if (st == EOS_OK) {
        ab = eos_plan_value_buf(p, a);
        bb = eos_plan_value_buf(p, b);
        if (ab < 0 || bb < 0) st = eos_err_set(err, EOS_NOMEM, "out of memory lowering to oneDNN");
    }
    if (st == EOS_OK) st = dn_dst_with_sum(p, c, node, &ymd, &yb, err);
    if (st == EOS_OK) st = dn_prim_new(p, c, node, NULL, pd, 3, &s, err);
    dnnl_primitive_desc_destroy(pd);
    if (st != EOS_OK) return st;
    dn_prim_arg(s, DNNL_ARG_SRC, ab, &amd);
    dn_prim_arg(s, DNNL_ARG_WEIGHTS, bb, &bmd);
    dn_prim_arg(s, DNNL_ARG_DST, yb, &ymd);
    EOS_TRY(dn_prim_add(p, s, "MatMul", err));
    *done = true;
    return EOS_OK;
}
