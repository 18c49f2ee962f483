/*
 * src/train/net.c - trainable networks: parameters from a graph, planning for an input shape,
 * forward in training or inference mode, and reverse-mode backward (see net_internal.h).
 *
 * Every node runs either its oneDNN primitives (net_dnnl.c) or the reference training kernels
 * (tref.h); both honour the same layouts (NHWC activations), so they can be mixed per node and
 * compared node by node.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "eosight/alloc.h"
#include "onnx/onnx.h"
#include "ops/ops.h"
#include "train/arch.h"
#include "train/net_internal.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* Whether the CPU computes bfloat16 natively (AMX or AVX512-BF16), from /proc/cpuinfo. */
static bool cpu_has_bf16(void) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return false;
    char line[8192];
    bool yes = false;
    while (!yes && fgets(line, sizeof line, f))
        if (!strncmp(line, "flags", 5) && (strstr(line, " amx_bf16") || strstr(line, " avx512_bf16")))
            yes = true;
    fclose(f);
    return yes;
}

eos_net_params eos_net_default_params(void) {
    eos_net_params p = {0};
    p.seed = 1;
    const char *e = getenv("EOS_TRAIN_BF16");
    p.bf16 = e && *e ? strcmp(e, "0") != 0 : cpu_has_bf16();
    return p;
}

/* ------------------------------------------------------------------ parameters */

static bool is_float_const(const eos_graph *g, int v) {
    return v >= 0 && (g->values[v].flags & EOS_VAL_CONST) && g->values[v].data &&
           g->values[v].dtype == EOS_DTYPE_F32;
}

static eos_status add_param(eos_net *net, int v, tparam_role role, eos_err *err) {
    if (net->value_param[v] >= 0) return EOS_OK;   /* shared: first role wins */
    const eos_value *val = &net->g.values[v];
    int64_t n = eos_value_numel(val);
    if (n <= 0) return eos_err_set(err, EOS_SHAPE, "parameter '%s' has no size", val->name);
    tparam *np = eos_realloc(net->params_, sizeof(tparam) * (size_t)(net->n_params_ + 1));
    if (!np) return eos_err_set(err, EOS_NOMEM, "out of memory for parameters");
    net->params_ = np;
    tparam *t = &np[net->n_params_];
    memset(t, 0, sizeof *t);
    t->value = v;
    t->role = role;
    t->n = n;
    t->trainable = role != TP_BN_MEAN && role != TP_BN_VAR;
    t->w = eos_malloc((size_t)n * sizeof(float));
    t->g = t->trainable ? eos_calloc((size_t)n, sizeof(float)) : NULL;
    if (!t->w || (t->trainable && !t->g)) {
        eos_free(t->w);
        eos_free(t->g);
        return eos_err_set(err, EOS_NOMEM, "out of memory for parameter '%s'", val->name);
    }
    memcpy(t->w, val->data, (size_t)n * sizeof(float));
    net->value_param[v] = net->n_params_++;
    return EOS_OK;
}

static bool node_trainable(eos_op op) {
    switch (op) {
    case EOS_OP_CONV: case EOS_OP_CONV_TRANSPOSE: case EOS_OP_BATCH_NORM: case EOS_OP_RELU:
    case EOS_OP_LEAKY_RELU: case EOS_OP_CLIP: case EOS_OP_SIGMOID: case EOS_OP_TANH:
    case EOS_OP_HARD_SIGMOID: case EOS_OP_HARD_SWISH: case EOS_OP_MAX_POOL:
    case EOS_OP_AVERAGE_POOL: case EOS_OP_GLOBAL_AVERAGE_POOL: case EOS_OP_GEMM:
    case EOS_OP_FLATTEN: case EOS_OP_RESHAPE: case EOS_OP_ADD: case EOS_OP_MUL:
    case EOS_OP_CONCAT: case EOS_OP_RESIZE: case EOS_OP_UPSAMPLE: case EOS_OP_DROPOUT:
    case EOS_OP_SOFTMAX: case EOS_OP_IDENTITY:
        return true;
    default:
        return false;
    }
}

static eos_status collect_params(eos_net *net, eos_err *err) {
    eos_graph *g = &net->g;
    net->value_param = eos_malloc(sizeof(int) * (size_t)(g->n_values > 0 ? g->n_values : 1));
    if (!net->value_param) return eos_err_set(err, EOS_NOMEM, "out of memory");
    for (int v = 0; v < g->n_values; v++) net->value_param[v] = -1;
    for (int i = 0; i < g->n_nodes; i++) {
        const eos_node *n = &g->nodes[i];
        if (!node_trainable(n->op))
            return eos_err_set(err, EOS_UNSUPPORTED,
                               "node '%s' (%s): the trainer has no backward for this operator",
                               n->name, n->op_type);
        if (n->fuse.act != EOS_ACT_NONE || n->fuse.sum_in >= 0)
            return eos_err_set(err, EOS_UNSUPPORTED, "node '%s': fused nodes cannot be trained",
                               n->name);
        switch (n->op) {
        case EOS_OP_CONV: case EOS_OP_CONV_TRANSPOSE: case EOS_OP_GEMM:
            if (is_float_const(g, n->in[1])) EOS_TRY(add_param(net, n->in[1], TP_WEIGHT, err));
            if (n->n_in > 2 && is_float_const(g, n->in[2]))
                EOS_TRY(add_param(net, n->in[2], TP_BIAS, err));
            break;
        case EOS_OP_BATCH_NORM:
            for (int k = 1; k <= 4; k++)
                if (!is_float_const(g, n->in[k]))
                    return eos_err_set(err, EOS_UNSUPPORTED,
                                       "node '%s': BatchNormalization needs constant parameters",
                                       n->name);
            EOS_TRY(add_param(net, n->in[1], TP_BN_SCALE, err));
            EOS_TRY(add_param(net, n->in[2], TP_BN_SHIFT, err));
            EOS_TRY(add_param(net, n->in[3], TP_BN_MEAN, err));
            EOS_TRY(add_param(net, n->in[4], TP_BN_VAR, err));
            break;
        default:
            break;
        }
    }
    return EOS_OK;
}

float *eos__tparam_grad(eos_net *net, int v) {
    int k = v >= 0 ? net->value_param[v] : -1;
    return k >= 0 ? net->params_[k].g : NULL;
}

/* ------------------------------------------------------------------ creation */

static eos_status net_finish(eos_net *net, eos_err *err) {
    eos_graph *g = &net->g;
    if (g->n_inputs != 1 || g->n_outputs != 1)
        return eos_err_set(err, EOS_UNSUPPORTED, "a trainable model needs exactly one input and "
                           "one output (this one has %d and %d)", g->n_inputs, g->n_outputs);
    net->input = g->inputs[0];
    net->output = g->outputs[0];
    const eos_value *in = &g->values[net->input];
    if (in->ndim != 4 || in->dtype != EOS_DTYPE_F32 || in->dims[1] <= 0)
        return eos_err_set(err, EOS_UNSUPPORTED,
                           "input '%s' must be f32 [N, C, H, W] with a known C", in->name);
    net->in_ch = (int)in->dims[1];
    EOS_TRY(collect_params(net, err));
    eos_rng_seed(&net->rng, net->params.seed);
    return eos__tdn_init(net, err);
}

/* Start of eos_net_build / eos_net_load: clear ctx, check arguments, allocate an empty net. */
static eos_status net_alloc(eos_ctx *ctx, const void *what, const eos_net_params *params,
                            eos_net **out, const char *fn) {
    eos__ctx_clear(ctx);
    eos_err err = {0};
    if (!what || !out) {
        eos_err_set(&err, EOS_INVALID_ARG, "%s: NULL argument", fn);
        return eos__ctx_fail(ctx, &err);
    }
    *out = NULL;
    eos_net *net = eos_calloc(1, sizeof *net);
    if (!net) {
        eos_err_set(&err, EOS_NOMEM, "out of memory");
        return eos__ctx_fail(ctx, &err);
    }
    net->ctx = ctx;
    net->params = params ? *params : eos_net_default_params();
    eos_graph_init(&net->g);
    *out = net;
    return EOS_OK;
}

eos_status eos_net_build(eos_ctx *ctx, const eos_arch *a, uint64_t seed,
                         const eos_net_params *params, eos_net **out) {
    eos_net *net;
    EOS_TRY(net_alloc(ctx, a, params, &net, "eos_net_build"));
    eos_err err = {0};
    eos_status st = eos__arch_build(a, seed, &net->g, &err);
    if (st == EOS_OK) st = net_finish(net, &err);
    if (st != EOS_OK) {
        eos_net_free(net);
        return eos__ctx_fail(ctx, &err);
    }
    net->n_out = a->n_classes;
    *out = net;
    return EOS_OK;
}

/* Fine-tuning trains output 0: further outputs (the penultimate features that `eosight
 * calibrate` adds) stop being outputs, and the eosight.ood.* keys describing them go too, since
 * they would not fit the fine-tuned weights. */
static void keep_first_output(eos_graph *g) {
    for (int i = 1; i < g->n_outputs; i++)
        g->values[g->outputs[i]].flags &= ~(uint32_t)EOS_VAL_OUTPUT;
    if (g->n_outputs > 1) g->n_outputs = 1;
    int k = 0;
    for (int i = 0; i < g->n_meta; i++) {
        if (!strncmp(g->meta_keys[i], "eosight.ood.", 12)) continue;
        g->meta_keys[k] = g->meta_keys[i];
        g->meta_values[k++] = g->meta_values[i];
    }
    g->n_meta = k;
}

eos_status eos_net_load(eos_ctx *ctx, const char *path, const eos_net_params *params,
                        eos_net **out) {
    eos_net *net;
    EOS_TRY(net_alloc(ctx, path, params, &net, "eos_net_load"));
    eos_err err = {0};
    uint8_t *buf = NULL;
    size_t len = 0;
    eos_status st = eos__read_file(path, "model file", (size_t)2 << 30, &buf, &len, &err);
    if (st == EOS_OK) {
        st = eos_onnx_parse(buf, len, NULL, &net->g, &err);
        eos_free(buf);
    }
    if (st == EOS_OK) st = eos_graph_toposort(&net->g, &err);
    if (st == EOS_OK) keep_first_output(&net->g);
    if (st == EOS_OK) st = net_finish(net, &err);
    if (st != EOS_OK) {
        eos_err_prefix(&err, "%s: ", path);
        eos_net_free(net);
        return eos__ctx_fail(ctx, &err);
    }
    const eos_value *o = &net->g.values[net->output];
    net->n_out = o->ndim >= 2 ? (int)o->dims[1] : -1;
    *out = net;
    return EOS_OK;
}

/* Free a plan and the value buffers it owns (n_values: the graph's value count). */
static void plan_free(tplan *p, int n_values) {
    if (!p) return;
    for (int v = 0; p->vals && v < n_values; v++)
        if (p->vals[v].owned) {
            eos_free(p->vals[v].x);
            eos_free(p->vals[v].g);
        }
    if (p->nodes) {
        for (int i = 0; i < p->n_nodes; i++) {
            tnode *t = &p->nodes[i];
            eos__tdn_node_free(t);
            eos_free(t->save_mean);
            eos_free(t->save_invstd);
            eos_free(t->argmax);
            eos_free(t->mask);
            eos_free(t->ins);
        }
    }
    eos_free(p->nodes);
    eos_free(p->scratch);
    eos_free(p->xin);
    eos_free(p->out_rows);
    eos_free(p->vals);
    eos_free(p);
}

/* Plans keep pointers into a value table sized at planning; they are freed before the
 * graph. */
void eos_net_free(eos_net *net) {
    if (!net) return;
    for (int i = 0; i < EOS_NET_MAX_PLANS; i++) plan_free(net->plans[i], net->g.n_values);
    for (int i = 0; i < net->n_params_; i++) {
        eos_free(net->params_[i].w);
        eos_free(net->params_[i].g);
    }
    eos_free(net->params_);
    eos_free(net->value_param);
    eos__tdn_release(net);
    eos_graph_free(&net->g);
    eos_free(net);
}

int eos_net_n_params(const eos_net *net) {
    int k = 0;
    for (int i = 0; i < net->n_params_; i++) k += net->params_[i].trainable;
    return k;
}

int64_t eos_net_n_weights(const eos_net *net) {
    int64_t k = 0;
    for (int i = 0; i < net->n_params_; i++)
        if (net->params_[i].trainable) k += net->params_[i].n;
    return k;
}

void eos_net_param_refs(eos_net *net, eos_param_ref *refs) {
    int k = 0;
    for (int i = 0; i < net->n_params_; i++) {
        tparam *t = &net->params_[i];
        if (!t->trainable) continue;
        refs[k].w = t->w;
        refs[k].g = t->g;
        refs[k].n = t->n;
        refs[k].decay = t->role == TP_WEIGHT;
        k++;
    }
}

int eos_net_in_channels(const eos_net *net) { return net->in_ch; }
int eos_net_n_outputs(const eos_net *net) { return net->n_out; }
const char *eos_net_errmsg(const eos_net *net) { return net ? net->errmsg : "NULL net"; }

int eos_net_bf16_layers(const eos_net *net, int *n_conv) {
    int k = 0, c = 0;
    const tplan *p = net->cur;
    for (int i = 0; p && i < p->n_nodes; i++) {
        if (p->nodes[i].kind != TK_CONV) continue;
        c++;
        k += eos__tdn_is_bf16(&p->nodes[i]);
    }
    if (n_conv) *n_conv = c;
    return k;
}

void eos_net_out_hw(const eos_net *net, int *h, int *w) {
    *h = net->cur ? net->cur->out_h : 1;
    *w = net->cur ? net->cur->out_w : 1;
}

static eos_status net_fail(eos_net *net, const eos_err *err) {
    snprintf(net->errmsg, sizeof net->errmsg, "%s", err->msg);
    return err->status ? err->status : EOS_INTERNAL;
}

/* ------------------------------------------------------------------ planning */

static eos_status infer_shapes(eos_net *net, tplan *p, eos_value *tmp, eos_err *err) {
    eos_graph *g = &net->g;
    memcpy(tmp, g->values, sizeof(eos_value) * (size_t)g->n_values);
    eos_value *in = &tmp[net->input];
    in->dims[0] = p->batch;
    in->dims[2] = p->h;
    in->dims[3] = p->w;
    for (int i = 0; i < g->n_nodes; i++) {
        const eos_node *n = &g->nodes[i];
        const eos_value *ins[64];
        eos_value *outs[8];
        if (n->n_in > 64 || n->n_out > 8)
            return eos_err_set(err, EOS_UNSUPPORTED, "node '%s': too many inputs", n->name);
        for (int k = 0; k < n->n_in; k++) ins[k] = n->in[k] >= 0 ? &tmp[n->in[k]] : NULL;
        for (int k = 0; k < n->n_out; k++) outs[k] = &tmp[n->out[k]];
        EOS_TRY(eos_op_infer(n, ins, outs, err));
    }
    return EOS_OK;
}

static eos_status val_setup(eos_net *net, tplan *p, const eos_value *tmp, eos_err *err) {
    eos_graph *g = &net->g;
    for (int v = 0; v < g->n_values; v++) {
        tval *t = &p->vals[v];
        const eos_value *e = &tmp[v];
        t->param = net->value_param[v];
        t->ndim = e->ndim;
        t->numel = 1;
        for (int k = 0; k < e->ndim && k < 4; k++) {
            t->d[k] = e->dims[k];
            t->numel *= e->dims[k];
        }
        if (t->param >= 0) {
            t->x = net->params_[t->param].w;
            t->g = net->params_[t->param].g;
            t->need_grad = t->g != NULL;
        } else if (e->flags & EOS_VAL_CONST) {
            t->x = e->data;   /* read-only use (non-float constants are never read as floats) */
        }
    }
    /* need_grad propagates forward from trainable parameters */
    for (int i = 0; i < g->n_nodes; i++) {
        const eos_node *n = &g->nodes[i];
        bool ng = false;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0 && p->vals[n->in[k]].need_grad) ng = true;
        for (int k = 0; k < n->n_out; k++) p->vals[n->out[k]].need_grad = ng;
    }
    int64_t maxn = 0;
    for (int v = 0; v < g->n_values; v++) {
        tval *t = &p->vals[v];
        if (t->param >= 0 || (tmp[v].flags & EOS_VAL_CONST) || tmp[v].producer < 0) continue;
        if (t->ndim < 1 || t->ndim > 4 || t->numel <= 0)
            return eos_err_set(err, EOS_UNSUPPORTED, "value '%s': rank %d is not trainable here",
                               g->values[v].name, t->ndim);
        if (t->numel > ((int64_t)1 << 34))
            return eos_err_set(err, EOS_LIMIT, "value '%s' is too large", g->values[v].name);
        t->owned = true;
        t->x = eos_malloc((size_t)t->numel * sizeof(float));
        if (t->need_grad) t->g = eos_malloc((size_t)t->numel * sizeof(float));
        if (!t->x || (t->need_grad && !t->g))
            return eos_err_set(err, EOS_NOMEM, "out of memory for value '%s' (%lld floats)",
                               g->values[v].name, (long long)t->numel);
        if (t->numel > maxn) maxn = t->numel;
    }
    for (int i = 0; i < net->n_params_; i++)
        if (net->params_[i].n > maxn) maxn = net->params_[i].n;
    p->scratch_n = maxn;
    p->scratch = eos_malloc((size_t)maxn * sizeof(float));
    int64_t nin = (int64_t)p->batch * net->in_ch * p->h * p->w;
    p->xin = eos_malloc((size_t)nin * sizeof(float));
    if (!p->scratch || !p->xin) return eos_err_set(err, EOS_NOMEM, "out of memory");
    p->vals[net->input].x = p->xin;
    return EOS_OK;
}

static eos_tact act_of(const eos_node *n, float *alpha, float *beta) {
    *alpha = 0;
    *beta = 0;
    switch (n->op) {
    case EOS_OP_LEAKY_RELU: *alpha = eos_attr_float(n, "alpha", 0.01f); return EOS_TACT_LEAKY_RELU;
    case EOS_OP_SIGMOID: return EOS_TACT_SIGMOID;
    case EOS_OP_TANH: return EOS_TACT_TANH;
    case EOS_OP_HARD_SWISH: return EOS_TACT_HARD_SWISH;
    case EOS_OP_HARD_SIGMOID:
        *alpha = eos_attr_float(n, "alpha", 0.2f);
        *beta = eos_attr_float(n, "beta", 0.5f);
        return EOS_TACT_HARD_SIGMOID;
    case EOS_OP_CLIP:
        *alpha = -INFINITY;
        *beta = INFINITY;
        return EOS_TACT_CLIP;
    default: return EOS_TACT_RELU;
    }
}

static float const_scalar(const tplan *p, const eos_graph *g, int v, float dflt) {
    if (v < 0 || !(g->values[v].flags & EOS_VAL_CONST) || !g->values[v].data) return dflt;
    const eos_value *e = &g->values[v];
    if (e->dtype == EOS_DTYPE_F32) return *(const float *)e->data;
    if (e->dtype == EOS_DTYPE_F64) return (float)*(const double *)e->data;
    (void)p;
    return dflt;
}

static eos_status node_setup(eos_net *net, tplan *p, int i, tnode *t, eos_err *err) {
    const eos_graph *g = &net->g;
    const eos_node *n = &g->nodes[i];
    t->id = i;
    t->n = n;
    t->x = n->in[0];
    t->y = n->out[0];
    t->w = t->b = -1;
    tval *x = &p->vals[t->x], *y = &p->vals[t->y];
    switch (n->op) {
    case EOS_OP_CONV: case EOS_OP_CONV_TRANSPOSE: {
        bool tr = n->op == EOS_OP_CONV_TRANSPOSE;
        const eos_value *wv = &g->values[n->in[1]];
        eos_conv_params cp;
        EOS_TRY(eos_conv_params_get(n, x->ndim, x->d, wv->ndim, wv->dims, tr, &cp, err));
        if (cp.n_spatial != 2 || !is_float_const(g, n->in[1]))
            return eos_err_set(err, EOS_UNSUPPORTED, "node '%s': only 2-D convolutions with "
                               "constant weights can be trained", n->name);
        t->kind = TK_CONV;
        t->w = n->in[1];
        t->b = n->n_in > 2 ? n->in[2] : -1;
        eos_tconv *c = &t->conv;
        c->n = cp.n_batch; c->c_in = cp.c_in; c->h_in = cp.in_sp[0]; c->w_in = cp.in_sp[1];
        c->c_out = cp.c_out; c->h_out = cp.out_sp[0]; c->w_out = cp.out_sp[1];
        c->kh = cp.kernel[0]; c->kw = cp.kernel[1]; c->sh = cp.stride[0]; c->sw = cp.stride[1];
        c->dh = cp.dilation[0]; c->dw = cp.dilation[1];
        c->pt = cp.pad_begin[0]; c->pl = cp.pad_begin[1];
        c->pb = cp.pad_end[0]; c->pr = cp.pad_end[1];
        c->group = cp.group;
        c->transposed = tr;
        break;
    }
    case EOS_OP_BATCH_NORM:
        t->kind = TK_BN;
        if (t->fuse_relu) {
            for (int j = i + 1; j < g->n_nodes; j++)
                if (g->nodes[j].n_in == 1 && g->nodes[j].in[0] == n->out[0]) {
                    t->y = g->nodes[j].out[0];
                    break;
                }
        }
        t->eps = eos_attr_float(n, "epsilon", 1e-5f);
        t->momentum = eos_attr_float(n, "momentum", 0.9f);
        t->save_mean = eos_malloc(sizeof(float) * (size_t)x->d[1]);
        t->save_invstd = eos_malloc(sizeof(float) * (size_t)x->d[1]);
        if (!t->save_mean || !t->save_invstd) return eos_err_set(err, EOS_NOMEM, "out of memory");
        break;
    case EOS_OP_RELU: case EOS_OP_LEAKY_RELU: case EOS_OP_SIGMOID: case EOS_OP_TANH:
    case EOS_OP_HARD_SWISH: case EOS_OP_HARD_SIGMOID: case EOS_OP_CLIP:
        t->kind = TK_ACT;
        t->act = act_of(n, &t->alpha, &t->beta);
        if (n->op == EOS_OP_CLIP) {
            if (n->opset < 11) {
                t->alpha = eos_attr_float(n, "min", -INFINITY);
                t->beta = eos_attr_float(n, "max", INFINITY);
            } else {
                t->alpha = const_scalar(p, g, n->n_in > 1 ? n->in[1] : -1, -INFINITY);
                t->beta = const_scalar(p, g, n->n_in > 2 ? n->in[2] : -1, INFINITY);
            }
        }
        break;
    case EOS_OP_MAX_POOL: case EOS_OP_AVERAGE_POOL: {
        eos_pool_params pp;
        EOS_TRY(eos_pool_params_get(n, x->ndim, x->d, &pp, err));
        if (pp.n_spatial != 2 || pp.dilation[0] != 1 || pp.dilation[1] != 1)
            return eos_err_set(err, EOS_UNSUPPORTED, "node '%s': only 2-D undilated pooling "
                               "can be trained", n->name);
        t->kind = TK_POOL;
        eos_tpool *q = &t->pool;
        q->n = pp.n_batch; q->c = pp.channels; q->h_in = pp.in_sp[0]; q->w_in = pp.in_sp[1];
        q->h_out = pp.out_sp[0]; q->w_out = pp.out_sp[1];
        q->kh = pp.kernel[0]; q->kw = pp.kernel[1]; q->sh = pp.stride[0]; q->sw = pp.stride[1];
        q->pt = pp.pad_begin[0]; q->pl = pp.pad_begin[1]; q->pb = pp.pad_end[0]; q->pr = pp.pad_end[1];
        q->is_max = pp.is_max;
        q->count_include_pad = pp.count_include_pad;
        if (q->is_max) {
            t->argmax = eos_malloc(sizeof(int64_t) * (size_t)y->numel);
            if (!t->argmax) return eos_err_set(err, EOS_NOMEM, "out of memory");
        }
        break;
    }
    case EOS_OP_GLOBAL_AVERAGE_POOL:
        t->kind = TK_GAP;
        break;
    case EOS_OP_FLATTEN: case EOS_OP_RESHAPE:
        if (y->ndim != 2 || y->d[0] != x->d[0])
            return eos_err_set(err, EOS_UNSUPPORTED, "node '%s': only [N, ...] -> [N, K] "
                               "reshapes can be trained", n->name);
        t->kind = TK_FLATTEN;
        break;
    case EOS_OP_GEMM: {
        if (eos_attr_int(n, "transA", 0) != 0 || !is_float_const(g, n->in[1]) || x->ndim != 2)
            return eos_err_set(err, EOS_UNSUPPORTED, "node '%s': Gemm needs transA = 0, a 2-D "
                               "input and constant B", n->name);
        t->kind = TK_GEMM;
        t->w = n->in[1];
        t->b = n->n_in > 2 ? n->in[2] : -1;
        t->trans_b = eos_attr_int(n, "transB", 0) != 0;
        t->g_alpha = eos_attr_float(n, "alpha", 1.0f);
        t->g_beta = eos_attr_float(n, "beta", 1.0f);
        if (t->b >= 0 && p->vals[t->b].numel != y->d[1])
            return eos_err_set(err, EOS_UNSUPPORTED, "node '%s': Gemm bias must be [N]", n->name);
        break;
    }
    case EOS_OP_ADD: case EOS_OP_MUL: {
        t->kind = n->op == EOS_OP_ADD ? TK_ADD : TK_MUL;
        t->w = n->in[1];
        const tval *b = &p->vals[t->w];
        if (t->fuse_relu && b->numel != x->numel) {   /* only the same-shape add fuses */
            for (int j = i + 1; j < g->n_nodes; j++)
                if (g->nodes[j].n_in == 1 && g->nodes[j].in[0] == n->out[0]) {
                    p->nodes[j].nop = false;
                    break;
                }
            t->fuse_relu = false;
        }
        if (t->fuse_relu) {
            for (int j = i + 1; j < g->n_nodes; j++)
                if (g->nodes[j].n_in == 1 && g->nodes[j].in[0] == n->out[0]) {
                    t->y = g->nodes[j].out[0];
                    y = &p->vals[t->y];
                    break;
                }
        }
        if (!(b->numel == x->numel || (x->ndim >= 2 && b->numel == x->d[1])) ||
            x->numel != y->numel)
            return eos_err_set(err, EOS_UNSUPPORTED, "node '%s': only same-shape or "
                               "per-channel %s can be trained", n->name, n->op_type);
        if (b->numel != x->numel && b->x == NULL && !b->owned)
            return eos_err_set(err, EOS_UNSUPPORTED, "node '%s': bad operand", n->name);
        break;
    }
    case EOS_OP_CONCAT: {
        int64_t axis = eos_attr_int(n, "axis", 1);
        if (axis < 0) axis += x->ndim;
        if (axis != 1)
            return eos_err_set(err, EOS_UNSUPPORTED, "node '%s': only channel concat can be "
                               "trained", n->name);
        t->kind = TK_CONCAT;
        t->n_in = n->n_in;
        t->ins = eos_malloc(sizeof(int) * (size_t)n->n_in);
        if (!t->ins) return eos_err_set(err, EOS_NOMEM, "out of memory");
        for (int k = 0; k < n->n_in; k++) t->ins[k] = n->in[k];
        break;
    }
    case EOS_OP_RESIZE: case EOS_OP_UPSAMPLE: {
        const char *mode = eos_attr_str(n, "mode", "nearest");
        const char *ct = eos_attr_str(n, "coordinate_transformation_mode", "half_pixel");
        if (x->ndim != 4 || y->d[0] != x->d[0] || y->d[1] != x->d[1])
            return eos_err_set(err, EOS_UNSUPPORTED, "node '%s': only spatial resizes can be "
                               "trained", n->name);
        t->kind = TK_RESIZE;
        if (!strcmp(mode, "nearest")) {
            t->rmode = EOS_TRESIZE_NEAREST;
            const char *nm = eos_attr_str(n, "nearest_mode", "round_prefer_floor");
            if (strcmp(nm, "floor") != 0 || strcmp(ct, "asymmetric") != 0) {
                if (n->op != EOS_OP_UPSAMPLE)
                    return eos_err_set(err, EOS_UNSUPPORTED, "node '%s': nearest resize must be "
                                       "asymmetric/floor (PyTorch's) to be trained", n->name);
            }
            t->rcoord = EOS_TCOORD_ASYMMETRIC;
        } else if (!strcmp(mode, "linear") || !strcmp(mode, "bilinear")) {
            t->rmode = EOS_TRESIZE_BILINEAR;
            if (!strcmp(ct, "align_corners")) t->rcoord = EOS_TCOORD_ALIGN_CORNERS;
            else if (!strcmp(ct, "asymmetric")) t->rcoord = EOS_TCOORD_ASYMMETRIC;
            else if (!strcmp(ct, "half_pixel") || !strcmp(ct, "pytorch_half_pixel"))
                t->rcoord = EOS_TCOORD_HALF_PIXEL;
            else
                return eos_err_set(err, EOS_UNSUPPORTED, "node '%s': coordinate mode '%s' "
                                   "cannot be trained", n->name, ct);
        } else {
            return eos_err_set(err, EOS_UNSUPPORTED, "node '%s': %s resize cannot be trained",
                               n->name, mode);
        }
        break;
    }
    case EOS_OP_DROPOUT:
        t->kind = TK_DROPOUT;
        t->ratio = n->n_in > 1 ? const_scalar(p, g, n->in[1], 0.5f) : eos_attr_float(n, "ratio", 0.5f);
        if (!(t->ratio >= 0 && t->ratio < 1))
            return eos_err_set(err, EOS_INVALID_ARG, "node '%s': dropout ratio %g", n->name,
                               (double)t->ratio);
        t->mask = eos_malloc((size_t)x->numel);
        if (!t->mask) return eos_err_set(err, EOS_NOMEM, "out of memory");
        break;
    case EOS_OP_SOFTMAX: {
        int64_t axis = eos_attr_int(n, "axis", n->opset >= 13 ? -1 : 1);
        if (axis < 0) axis += x->ndim;
        if (x->ndim == 4 ? axis != 1 : axis != x->ndim - 1)
            return eos_err_set(err, EOS_UNSUPPORTED, "node '%s': softmax must run over "
                               "channels to be trained", n->name);
        t->kind = TK_SOFTMAX;
        break;
    }
    case EOS_OP_IDENTITY:
        t->kind = TK_IDENTITY;
        break;
    default:
        return eos_err_set(err, EOS_UNSUPPORTED, "node '%s' (%s): no training kernel", n->name,
                           n->op_type);
    }
    if (t->nop) return EOS_OK;
    if (!net->params.reference) EOS_TRY(eos__tdn_node(net, p, t, err));
    return EOS_OK;
}

/* BN -> ReLU or Add -> ReLU where the ReLU is the only reader (and no graph output): the BN or
 * Add node computes both (oneDNN's fused norm+relu; a fused residual add+relu), one pass over
 * the activation less each way. */
static void mark_bn_relu(eos_net *net, tplan *p) {
    const eos_graph *g = &net->g;
    for (int i = 0; i < g->n_nodes; i++) {
        const eos_node *n = &g->nodes[i];
        if ((n->op != EOS_OP_BATCH_NORM && n->op != EOS_OP_ADD) || n->out[0] == net->output)
            continue;
        if (n->op == EOS_OP_ADD && n->in[0] == n->in[1]) continue;
        if (eos_graph_n_consumers(g, n->out[0]) != 1) continue;
        for (int j = i + 1; j < g->n_nodes; j++) {
            const eos_node *m = &g->nodes[j];
            bool reads = false;
            for (int k = 0; k < m->n_in; k++) reads |= m->in[k] == n->out[0];
            if (!reads) continue;
            if (m->op == EOS_OP_RELU && m->n_in == 1) {
                p->nodes[i].fuse_relu = true;
                p->nodes[j].nop = true;
            }
            break;
        }
    }
}

static eos_status plan_make(eos_net *net, int batch, int h, int w, tplan **out, eos_err *err) {
    eos_graph *g = &net->g;
    tplan *p = eos_calloc(1, sizeof *p);
    eos_value *tmp = eos_malloc(sizeof(eos_value) * (size_t)g->n_values);
    if (!p || !tmp) {
        eos_free(p);
        eos_free(tmp);
        return eos_err_set(err, EOS_NOMEM, "out of memory");
    }
    p->batch = batch;
    p->h = h;
    p->w = w;
    eos_status st = EOS_OK;
    p->vals = eos_calloc((size_t)g->n_values, sizeof(tval));
    p->nodes = eos_calloc((size_t)(g->n_nodes > 0 ? g->n_nodes : 1), sizeof(tnode));
    if (!p->vals || !p->nodes) st = eos_err_set(err, EOS_NOMEM, "out of memory");
    if (st == EOS_OK) st = infer_shapes(net, p, tmp, err);
    if (st == EOS_OK) st = val_setup(net, p, tmp, err);
    if (st == EOS_OK) mark_bn_relu(net, p);
    for (int i = 0; st == EOS_OK && i < g->n_nodes; i++) {
        p->n_nodes = i + 1;
        st = node_setup(net, p, i, &p->nodes[i], err);
    }
    if (st == EOS_OK) {
        const tval *o = &p->vals[net->output];
        p->out_h = o->ndim == 4 ? (int)o->d[2] : 1;
        p->out_w = o->ndim == 4 ? (int)o->d[3] : 1;
        p->rows = (int64_t)batch * p->out_h * p->out_w;
        int64_t c = o->numel / p->rows;
        if (net->n_out < 0) net->n_out = (int)c;
        if (c != net->n_out || o->ndim < 2)
            st = eos_err_set(err, EOS_SHAPE, "output '%s' is not [N, %d(, H, W)]",
                             g->values[net->output].name, net->n_out);
    }
    eos_free(tmp);
    if (st != EOS_OK) {
        plan_free(p, g->n_values);
        return st;
    }
    *out = p;
    return EOS_OK;
}

static void plan_drop(eos_net *net, int slot) {
    tplan *p = net->plans[slot];
    if (!p) return;
    plan_free(p, net->g.n_values);
    if (net->cur == p) net->cur = NULL;
    net->plans[slot] = NULL;
}

static eos_status plan_get(eos_net *net, int batch, int h, int w, tplan **out, eos_err *err) {
    int lru = 0;
    for (int i = 0; i < EOS_NET_MAX_PLANS; i++) {
        tplan *p = net->plans[i];
        if (p && p->batch == batch && p->h == h && p->w == w) {
            p->last_use = ++net->use_clock;
            *out = p;
            return EOS_OK;
        }
        if (!p) lru = i;
        else if (net->plans[lru] && p->last_use < net->plans[lru]->last_use) lru = i;
    }
    plan_drop(net, lru);
    tplan *p = NULL;
    EOS_TRY(plan_make(net, batch, h, w, &p, err));
    p->last_use = ++net->use_clock;
    net->plans[lru] = p;
    *out = p;
    return EOS_OK;
}

/* ------------------------------------------------------------------ gradients */

float *eos__tgrad_dst(tplan *p, int v, bool *accumulate) {
    tval *t = &p->vals[v];
    *accumulate = false;
    if (!t->g) return NULL;
    if (!t->g_set) {
        t->g_set = true;
        return t->g;
    }
    *accumulate = true;
    return p->scratch;
}

void eos__tgrad_commit(tplan *p, int v, bool accumulate) {
    if (!accumulate) return;
    tval *t = &p->vals[v];
    int64_t n = t->numel;
    float *g = t->g;
    const float *s = p->scratch;
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; i++) g[i] += s[i];
}

float *eos__tgrad_acc(tplan *p, int v) {
    if (v < 0) return NULL;
    tval *t = &p->vals[v];
    if (!t->g) return NULL;
    if (!t->g_set) {
        memset(t->g, 0, (size_t)t->numel * sizeof(float));
        t->g_set = true;
    }
    return t->g;
}

static int64_t rows_of(const tval *v) {
    return v->ndim == 4 ? v->d[0] * v->d[2] * v->d[3] : v->d[0];
}

static void copy_f(float *dst, const float *src, int64_t n) {
    memcpy(dst, src, (size_t)n * sizeof(float));
}

static void add_f(float *dst, const float *src, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; i++) dst[i] += src[i];
}

/* ------------------------------------------------------------------ reference forward */

static float *pw(eos_net *net, tplan *p, int v) {
    (void)net;
    return v >= 0 ? p->vals[v].x : NULL;
}

static void bn_infer(int64_t rows, int64_t c, const float *x, const float *gm, const float *bt,
                     const float *rm, const float *rv, float eps, float *y) {
#pragma omp parallel for schedule(static) if (rows * c > 65536)
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t k = 0; k < c; k++) {
            float s = gm[k] / sqrtf(rv[k] + eps);
            y[r * c + k] = (x[r * c + k] - rm[k]) * s + bt[k];
        }
    }
}

static eos_status ref_fwd(eos_net *net, tplan *p, tnode *t, bool train) {
    tval *X = &p->vals[t->x], *Y = &p->vals[t->y];
    const float *x = X->x;
    float *y = Y->x;
    switch (t->kind) {
    case TK_CONV:
        eos_tref_conv_fwd(&t->conv, x, pw(net, p, t->w), pw(net, p, t->b), y);
        break;
    case TK_BN: {
        const eos_node *n = t->n;
        int64_t c = X->d[1], rows = rows_of(X);
        float *gm = pw(net, p, n->in[1]), *bt = pw(net, p, n->in[2]);
        float *rm = pw(net, p, n->in[3]), *rv = pw(net, p, n->in[4]);
        if (train)
            eos_tref_bn_fwd(rows, c, x, gm, bt, t->eps, t->momentum, rm, rv, y, t->save_mean,
                            t->save_invstd);
        else
            bn_infer(rows, c, x, gm, bt, rm, rv, t->eps, y);
        if (t->fuse_relu) eos_tref_act_fwd(EOS_TACT_RELU, 0, 0, X->numel, y, y);
        break;
    }
    case TK_ACT:
        eos_tref_act_fwd(t->act, t->alpha, t->beta, X->numel, x, y);
        break;
    case TK_POOL:
        eos_tref_pool_fwd(&t->pool, x, y, t->argmax);
        break;
    case TK_GAP:
        eos_tref_gap_fwd(X->d[0], X->d[2] * X->d[3], X->d[1], x, y);
        break;
    case TK_FLATTEN:
        if (X->ndim == 4 && X->d[2] * X->d[3] > 1)
            eos_tref_nhwc_to_nchw(X->d[0], X->d[2], X->d[3], X->d[1], x, y);
        else
            copy_f(y, x, X->numel);
        break;
    case TK_GEMM:
        eos_tref_gemm_fwd(X->d[0], X->d[1], Y->d[1], t->trans_b, t->g_alpha, t->g_beta, x,
                          pw(net, p, t->w), pw(net, p, t->b), y);
        break;
    case TK_ADD: case TK_MUL:
        if (t->kind == TK_ADD && p->vals[t->w].numel == X->numel) {   /* residual: parallel */
            const float *b = p->vals[t->w].x;
            int64_t n = X->numel;
            if (t->fuse_relu) {
#pragma omp parallel for simd schedule(static) if (n > 65536)
                for (int64_t i = 0; i < n; i++) y[i] = fmaxf(x[i] + b[i], 0.0f);
            } else {
#pragma omp parallel for simd schedule(static) if (n > 65536)
                for (int64_t i = 0; i < n; i++) y[i] = x[i] + b[i];
            }
            break;
        }
        eos_tref_binary_fwd(t->kind == TK_ADD ? 0 : 1, X->numel, p->vals[t->w].numel, x,
                            p->vals[t->w].x, y);
        break;
    case TK_CONCAT: {
        int64_t cp[64];
        const float *xs[64];
        if (t->n_in > 64) return EOS_UNSUPPORTED;
        for (int k = 0; k < t->n_in; k++) {
            cp[k] = p->vals[t->ins[k]].d[1];
            xs[k] = p->vals[t->ins[k]].x;
        }
        eos_tref_concat_fwd(rows_of(Y), t->n_in, cp, xs, y);
        break;
    }
    case TK_RESIZE:
        eos_tref_resize_fwd(t->rmode, t->rcoord, X->d[0], X->d[1], X->d[2], X->d[3], Y->d[2],
                            Y->d[3], x, y);
        break;
    case TK_DROPOUT:
        if (train) eos_tref_dropout_fwd(X->numel, t->ratio, &net->rng, x, y, t->mask);
        else copy_f(y, x, X->numel);
        break;
    case TK_SOFTMAX:
        eos_tref_softmax_fwd(rows_of(X), X->d[1], x, y);
        break;
    case TK_IDENTITY:
        copy_f(y, x, X->numel);
        break;
    }
    return EOS_OK;
}

/* ------------------------------------------------------------------ reference backward */

/* Backward of a ReLU fused into the node that produced Y (BN or Add): dy where the output is
 * positive, 0 elsewhere, in the plan's scratch. */
static const float *relu_bwd_scratch(tplan *p, const tval *Y, const float *dy) {
    float *m = p->scratch;
    const float *yv = Y->x;
    int64_t ne = Y->numel;
#pragma omp parallel for simd schedule(static) if (ne > 65536)
    for (int64_t k = 0; k < ne; k++) m[k] = yv[k] > 0 ? dy[k] : 0.0f;
    return m;
}

static eos_status ref_bwd(eos_net *net, tplan *p, tnode *t) {
    tval *X = &p->vals[t->x], *Y = &p->vals[t->y];
    const float *x = X->x, *dy = Y->g;
    switch (t->kind) {
    case TK_CONV:
        eos_tref_conv_bwd(&t->conv, x, pw(net, p, t->w), dy, eos__tgrad_acc(p, t->x),
                          eos__tgrad_acc(p, t->w), eos__tgrad_acc(p, t->b));
        break;
    case TK_BN: {
        const eos_node *n = t->n;
        if (t->fuse_relu) dy = relu_bwd_scratch(p, Y, dy);
        eos_tref_bn_bwd(rows_of(X), X->d[1], x, pw(net, p, n->in[1]), t->save_mean,
                        t->save_invstd, dy, eos__tgrad_acc(p, t->x), eos__tgrad_acc(p, n->in[1]),
                        eos__tgrad_acc(p, n->in[2]));
        break;
    }
    case TK_ACT:
        eos_tref_act_bwd(t->act, t->alpha, t->beta, X->numel, x, Y->x, dy, eos__tgrad_acc(p, t->x));
        break;
    case TK_POOL:
        eos_tref_pool_bwd(&t->pool, x, t->argmax, dy, eos__tgrad_acc(p, t->x));
        break;
    case TK_GAP:
        eos_tref_gap_bwd(X->d[0], X->d[2] * X->d[3], X->d[1], dy, eos__tgrad_acc(p, t->x));
        break;
    case TK_FLATTEN: {
        float *dx = eos__tgrad_acc(p, t->x);
        if (!dx) break;
        if (X->ndim == 4 && X->d[2] * X->d[3] > 1) {
            eos_tref_nchw_to_nhwc(X->d[0], X->d[1], X->d[2], X->d[3], dy, p->scratch);
            add_f(dx, p->scratch, X->numel);
        } else {
            add_f(dx, dy, X->numel);
        }
        break;
    }
    case TK_GEMM:
        eos_tref_gemm_bwd(X->d[0], X->d[1], Y->d[1], t->trans_b, t->g_alpha, t->g_beta, x,
                          pw(net, p, t->w), dy, eos__tgrad_acc(p, t->x), eos__tgrad_acc(p, t->w),
                          eos__tgrad_acc(p, t->b));
        break;
    case TK_ADD: case TK_MUL:
        if (t->x == t->w) {   /* x + x, x * x */
            float *dx = eos__tgrad_acc(p, t->x);
            if (!dx) break;
            if (t->kind == TK_ADD) {
                add_f(dx, dy, X->numel);
                add_f(dx, dy, X->numel);
            } else {
                for (int64_t i = 0; i < X->numel; i++) dx[i] += 2.0f * x[i] * dy[i];
            }
            break;
        }
        if (t->kind == TK_ADD && p->vals[t->w].numel == X->numel) {   /* pass-through */
            if (t->fuse_relu) dy = relu_bwd_scratch(p, Y, dy);
            int ins[2] = {t->x, t->w};
            for (int k = 0; k < 2; k++) {
                if (!p->vals[ins[k]].g) continue;
                bool acc;
                float *d = eos__tgrad_dst(p, ins[k], &acc);
                if (acc) add_f(p->vals[ins[k]].g, dy, X->numel);
                else copy_f(d, dy, X->numel);
            }
            break;
        }
        eos_tref_binary_bwd(t->kind == TK_ADD ? 0 : 1, X->numel, p->vals[t->w].numel, x,
                            p->vals[t->w].x, dy, eos__tgrad_acc(p, t->x), eos__tgrad_acc(p, t->w));
        break;
    case TK_CONCAT: {
        int64_t cp[64];
        float *dxs[64];
        for (int k = 0; k < t->n_in; k++) {
            cp[k] = p->vals[t->ins[k]].d[1];
            dxs[k] = NULL;
        }
        /* the same value twice in one concat: gacc hands the same buffer out twice, which
         * the accumulating kernel handles */
        for (int k = 0; k < t->n_in; k++) dxs[k] = eos__tgrad_acc(p, t->ins[k]);
        eos_tref_concat_bwd(rows_of(Y), t->n_in, cp, dy, dxs);
        break;
    }
    case TK_RESIZE:
        eos_tref_resize_bwd(t->rmode, t->rcoord, X->d[0], X->d[1], X->d[2], X->d[3], Y->d[2],
                            Y->d[3], dy, eos__tgrad_acc(p, t->x));
        break;
    case TK_DROPOUT:
        eos_tref_dropout_bwd(X->numel, t->ratio, t->mask, dy, eos__tgrad_acc(p, t->x));
        break;
    case TK_SOFTMAX:
        eos_tref_softmax_bwd(rows_of(X), X->d[1], Y->x, dy, eos__tgrad_acc(p, t->x));
        break;
    case TK_IDENTITY: {
        float *dx = eos__tgrad_acc(p, t->x);
        if (dx) add_f(dx, dy, X->numel);
        break;
    }
    }
    return EOS_OK;
}

/* ------------------------------------------------------------------ public passes */

eos_status eos_net_forward(eos_net *net, const float *x, int batch, int h, int w, bool train,
                           const float **logits, int64_t *rows) {
    eos_err err = {0};
    net->errmsg[0] = '\0';
    if (!x || !logits || !rows || batch < 1 || h < 1 || w < 1) {
        eos_err_set(&err, EOS_INVALID_ARG, "eos_net_forward: bad arguments");
        return net_fail(net, &err);
    }
#ifdef _OPENMP
    if (net->params.n_threads > 0) omp_set_num_threads(net->params.n_threads);
#endif
    tplan *p;
    eos_status st = plan_get(net, batch, h, w, &p, &err);
    if (st != EOS_OK) return net_fail(net, &err);
    net->cur = p;
    eos_tref_nchw_to_nhwc(batch, net->in_ch, h, w, x, p->xin);
    for (int i = 0; i < p->n_nodes; i++) {
        tnode *t = &p->nodes[i];
        if (t->nop) continue;
        st = t->dn ? eos__tdn_fwd(net, p, t, train, &err) : ref_fwd(net, p, t, train);
        if (st != EOS_OK) {
            if (!err.msg[0]) eos_err_set(&err, st, "forward failed");
            eos_err_prefix(&err, "node '%s' (%s): ", t->n->name, t->n->op_type);
            return net_fail(net, &err);
        }
    }
    p->trained = train;
    *logits = p->vals[net->output].x;
    *rows = p->rows;
    return EOS_OK;
}

eos_status eos_net_backward(eos_net *net, const float *dlogits) {
    eos_err err = {0};
    tplan *p = net->cur;
    if (!p || !p->trained || !dlogits) {
        eos_err_set(&err, EOS_INVALID_ARG, "eos_net_backward: needs a training forward first");
        return net_fail(net, &err);
    }
    for (int v = 0; v < net->g.n_values; v++) p->vals[v].g_set = false;
    tval *o = &p->vals[net->output];
    if (!o->g) {
        eos_err_set(&err, EOS_INVALID_ARG, "the output does not depend on any parameter");
        return net_fail(net, &err);
    }
    copy_f(o->g, dlogits, o->numel);
    o->g_set = true;
    for (int i = p->n_nodes - 1; i >= 0; i--) {
        tnode *t = &p->nodes[i];
        if (t->nop) continue;
        tval *Y = &p->vals[t->y];
        if (!Y->g || !Y->g_set) continue;
        eos_status st = t->dn ? eos__tdn_bwd(net, p, t, &err) : ref_bwd(net, p, t);
        if (st != EOS_OK) {
            if (!err.msg[0]) eos_err_set(&err, st, "backward failed");
            eos_err_prefix(&err, "node '%s' (%s): ", t->n->name, t->n->op_type);
            return net_fail(net, &err);
        }
    }
    for (int i = 0; i < net->n_params_; i++) {
        tparam *t = &net->params_[i];
        if (t->trainable && !p->vals[t->value].g_set)
            memset(t->g, 0, (size_t)t->n * sizeof(float));
    }
    return EOS_OK;
}
