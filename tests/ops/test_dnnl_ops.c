/*
 * tests/ops/test_dnnl_ops.c - the oneDNN back-end against the reference back-end, per operator
 * and on small mixed graphs (ggml test-backend-ops style).
 *
 * Each case builds a tiny unfused ONNX-like graph, plans it once with eos_backend_ref() and once
 * with eos_backend_dnnl() (so shape inference and fusion run as in a session), runs both on the
 * same random inputs and compares every output with a normalised mean squared error under a
 * per-case tolerance. Each case also states which labels must have been lowered to oneDNN
 * primitives, so a silent fall-back to the reference cannot make a test pass, and the oneDNN plan
 * is run twice (in-place steps must not corrupt inputs or constants).
 */
#include <float.h>
#include <string.h>

#include "common/test.h"
#include "graph/graph.h"
#include "graph/passes.h"
#include "graph/plan.h"
#include "ops/ops.h"

#ifdef EOS_WITH_DNNL
#include "ops/dnnl/dn.h"

/* ------------------------------------------------------------------ graph builder */

#define TG_MAX_IN 4
#define TG_MAX_OUT 4

typedef struct tg {
    eos_graph  g;
    int        n_in, in[TG_MAX_IN];
    float     *in_data[TG_MAX_IN];
    int        n_out, out[TG_MAX_OUT];
    int        last_node;
    uint64_t   seed;
    int        n_wino;      /* after a check: Winograd convolutions in the oneDNN plan */
} tg;

static void tg_init(tg *t) {
    memset(t, 0, sizeof *t);
    eos_graph_init(&t->g);
    t->g.opset = 17;
    t->seed = 1;
}

static void tg_free(tg *t) {
    for (int i = 0; i < t->n_in; i++) free(t->in_data[i]);
    eos_graph_free(&t->g);
}

static int tg_val(tg *t, int ndim, const int64_t *dims) {
    int v = eos_graph_add_value(&t->g, "");
    eos_value *val = &t->g.values[v];
    val->dtype = ndim >= 0 ? EOS_DTYPE_F32 : EOS_DTYPE_UNDEFINED;
    val->ndim = ndim;
    for (int i = 0; i < ndim; i++) val->dims[i] = dims[i];
    return v;
}

static int64_t numel_of(int ndim, const int64_t *dims) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= dims[i];
    return n;
}

/* A graph input of shape dims filled with uniform values in [lo, hi). */
static int tg_input(tg *t, int ndim, const int64_t *dims, float lo, float hi) {
    int v = tg_val(t, ndim, dims);
    char name[16];
    snprintf(name, sizeof name, "in%d", t->n_in);
    t->g.values[v].name = eos_arena_strdup(&t->g.arena, name);
    t->g.values[v].flags |= EOS_VAL_INPUT;
    int64_t n = numel_of(ndim, dims);
    float *d = malloc((size_t)(n ? n : 1) * sizeof(float));
    test_fill_uniform(d, n, lo, hi, t->seed++);
    t->in[t->n_in] = v;
    t->in_data[t->n_in++] = d;
    return v;
}

/* A random f32 constant. */
static int tg_const(tg *t, int ndim, const int64_t *dims, float lo, float hi) {
    int v = tg_val(t, ndim, dims);
    int64_t n = numel_of(ndim, dims);
    float *d = malloc((size_t)(n ? n : 1) * sizeof(float));
    test_fill_uniform(d, n, lo, hi, t->seed++);
    eos_graph_set_const(&t->g, v, d, (size_t)n * sizeof(float));
    t->g.values[v].flags |= EOS_VAL_CONST;
    free(d);
    return v;
}

static int tg_scalar(tg *t, float x) {
    int v = tg_val(t, 0, NULL);
    eos_graph_set_const(&t->g, v, &x, sizeof x);
    t->g.values[v].flags |= EOS_VAL_CONST;
    return v;
}

static int tg_const_f(tg *t, int ndim, const int64_t *dims, const float *data) {
    int v = tg_val(t, ndim, dims);
    eos_graph_set_const(&t->g, v, data, (size_t)numel_of(ndim, dims) * sizeof(float));
    t->g.values[v].flags |= EOS_VAL_CONST;
    return v;
}

/* A node with one (shape-less) output; returns the output value. in[i] == -1: omitted. */
static int tg_node(tg *t, eos_op op, int n_in, const int *in) {
    int out = tg_val(t, -1, NULL);
    int id = eos_graph_add_node(&t->g, op, n_in, 1);
    eos_node *n = &t->g.nodes[id];
    char name[32];
    snprintf(name, sizeof name, "%s_%d", eos_op_name(op), id);
    n->name = eos_arena_strdup(&t->g.arena, name);
    n->op_type = eos_op_name(op);
    n->opset = 17;
    for (int i = 0; i < n_in; i++) n->in[i] = in[i];
    n->out[0] = out;
    t->last_node = id;
    return out;
}

static eos_attr *tg_attr(tg *t, const char *name, eos_attr_type type) {
    eos_node *nd = &t->g.nodes[t->last_node];
    eos_attr *a = eos_arena_alloc(&t->g.arena, sizeof(eos_attr) * (size_t)(nd->n_attrs + 1));
    if (nd->n_attrs) memcpy(a, nd->attrs, sizeof(eos_attr) * (size_t)nd->n_attrs);
    nd->attrs = a;
    a += nd->n_attrs++;
    memset(a, 0, sizeof *a);
    a->name = name;
    a->type = type;
    a->tensor = -1;
    return a;
}

/* Attributes on the last node added. */
static void tg_ints(tg *t, const char *name, int n, const int64_t *v) {
    eos_attr *a = tg_attr(t, name, EOS_ATTR_INTS);
    int64_t *copy = eos_arena_alloc(&t->g.arena, sizeof(int64_t) * (size_t)(n ? n : 1));
    memcpy(copy, v, sizeof(int64_t) * (size_t)n);
    a->ints = copy;
    a->n = n;
}
static void tg_int(tg *t, const char *name, int64_t v) { tg_attr(t, name, EOS_ATTR_INT)->i = v; }
static void tg_float(tg *t, const char *name, float v) { tg_attr(t, name, EOS_ATTR_FLOAT)->f = v; }
static void tg_str(tg *t, const char *name, const char *s) {
    tg_attr(t, name, EOS_ATTR_STRING)->s = s;
}
static void tg_opset(tg *t, int opset) { t->g.nodes[t->last_node].opset = opset; }

static void tg_output(tg *t, int v) { t->out[t->n_out++] = v; }

/* Conv helper: x, weights [co, ci/group, kh, kw] random, optional bias; attributes. */
typedef struct conv_cfg {
    int64_t co, kh, kw, stride, dil, group;
    int64_t pads[4];
    bool    bias;
    bool    transposed;
    int64_t out_pad;
} conv_cfg;

static int tg_conv(tg *t, int x, int64_t ci, const conv_cfg *c) {
    int64_t wd[4];
    if (c->transposed) {
        wd[0] = ci; wd[1] = c->co / c->group;
    } else {
        wd[0] = c->co; wd[1] = ci / c->group;
    }
    wd[2] = c->kh;
    wd[3] = c->kw;
    float bound = 1.0f / sqrtf((float)(wd[1] * c->kh * c->kw));
    int w = tg_const(t, 4, wd, -bound, bound);
    int b = c->bias ? tg_const(t, 1, &c->co, -0.5f, 0.5f) : -1;
    int in[3] = { x, w, b };
    int y = tg_node(t, c->transposed ? EOS_OP_CONV_TRANSPOSE : EOS_OP_CONV, c->bias ? 3 : 2, in);
    int64_t ks[2] = { c->kh, c->kw }, st[2] = { c->stride, c->stride }, dl[2] = { c->dil, c->dil };
    tg_ints(t, "kernel_shape", 2, ks);
    tg_ints(t, "strides", 2, st);
    tg_ints(t, "dilations", 2, dl);
    tg_ints(t, "pads", 4, c->pads);
    if (c->group != 1) tg_int(t, "group", c->group);
    if (c->transposed && c->out_pad) {
        int64_t op[2] = { c->out_pad, c->out_pad };
        tg_ints(t, "output_padding", 2, op);
    }
    return y;
}

static int tg_unary(tg *t, eos_op op, int x) { return tg_node(t, op, 1, &x); }
static int tg_binary(tg *t, eos_op op, int a, int b) {
    int in[2] = { a, b };
    return tg_node(t, op, 2, in);
}

/* ------------------------------------------------------------------ running and checking */

/* Number of oneDNN primitive steps (not reorders) labelled label. */
static int count_dnnl(const eos_plan *p, const char *label) {
    int n = 0;
    for (int s = 0; s < p->n_steps; s++)
        if (p->steps[s].free_state == dn_prim_free && p->steps[s].node >= 0 &&
            !strcmp(p->steps[s].label, label))
            n++;
    return n;
}

/* Number of oneDNN primitive steps whose implementation name contains impl. */
static int count_impl(const eos_plan *p, const char *impl) {
    int n = 0;
    for (int s = 0; s < p->n_steps; s++) {
        if (p->steps[s].free_state != dn_prim_free) continue;
        const dn_prim *st = p->steps[s].state;
        const_dnnl_primitive_desc_t pd = NULL;
        const char *name = NULL;
        if (dnnl_primitive_get_primitive_desc(st->prim, &pd) == dnnl_success &&
            dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name) == dnnl_success &&
            name && strstr(name, impl))
            n++;
    }
    return n;
}

static int count_label(const eos_plan *p, const char *label) {
    int n = 0;
    for (int s = 0; s < p->n_steps; s++)
        if (!strcmp(p->steps[s].label, label)) n++;
    return n;
}

/* Finish t's graph (inputs/outputs, toposort, load passes) and its input tensors. */
static bool tg_finish(tg *t, eos_tensor *in) {
    t->g.inputs = eos_arena_alloc(&t->g.arena, sizeof(int) * TG_MAX_IN);
    t->g.outputs = eos_arena_alloc(&t->g.arena, sizeof(int) * TG_MAX_OUT);
    memcpy(t->g.inputs, t->in, sizeof t->in);
    memcpy(t->g.outputs, t->out, sizeof t->out);
    t->g.n_inputs = t->n_in;
    t->g.n_outputs = t->n_out;
    eos_err err;
    eos_err_clear(&err);
    eos_status st = eos_graph_toposort(&t->g, &err);
    if (st == EOS_OK) st = eos_graph_passes_load(&t->g, &err);
    if (st) fprintf(stderr, "  graph: %s\n", err.msg);
    for (int i = 0; i < t->n_in; i++) {
        in[i] = eos_value_tensor(&t->g.values[t->in[i]]);
        in[i].data = t->in_data[i];
    }
    return st == EOS_OK;
}

/* Plan graph t on back-end be and run it once. Plan-time fusion currently writes through the
 * node output arrays a plan shares with the model graph, so they are restored afterwards and
 * the next plan starts from the same graph. */
static eos_plan *tg_plan(tg *t, const eos_tensor *in, const eos_backend_impl *be, int n_threads) {
    eos_err err;
    eos_err_clear(&err);
    eos_plan *p = NULL;
    int n_nodes = t->g.n_nodes, *outs = malloc(sizeof(int) * (size_t)(n_nodes + 1));
    for (int i = 0; i < n_nodes; i++) outs[i] = t->g.nodes[i].out[0];
    eos_status st = eos_plan_create(&t->g, in, t->n_in, be, n_threads, &p, &err);
    for (int i = 0; i < n_nodes; i++) t->g.nodes[i].out[0] = outs[i];
    free(outs);
    if (st) fprintf(stderr, "  %s plan: %s\n", be->name, err.msg);
    if (st == EOS_OK && (st = eos_plan_run(p, in, t->n_in, &err)))
        fprintf(stderr, "  %s run: %s\n", be->name, err.msg);
    if (st) {
        TEST_FAIL_("planning or running on %s failed", be->name);
        eos_plan_free(p);
        return NULL;
    }
    return p;
}

/* Compare output o of two plans (first n_out outputs). */
static void compare_outputs(const eos_plan *pd, const eos_plan *pr, int n_out, double tol,
                            int run) {
    for (int o = 0; o < n_out; o++) {
        eos_tensor a = eos_plan_output(pd, o), b = eos_plan_output(pr, o);
        EXPECT_TRUE(eos_tensor_same_shape(&a, &b));
        int64_t n = eos_tensor_numel(&b);
        double e = test_nmse(a.data, b.data, n);
        if (!(e <= tol)) {
            TEST_FAIL_("output %d (run %d): nmse %.3g > %.3g", o, run, e, tol);
            const float *fa = a.data, *fb = b.data;
            for (int64_t i = 0; i < n && i < 6; i++)
                fprintf(stderr, "    [%lld] dnnl %.6g ref %.6g\n", (long long)i, fa[i], fb[i]);
        }
    }
}

/* Plan and run graph t on dnnl (n_threads) and graph r (t itself when NULL; same inputs, same
 * leading outputs) on ref; compare the outputs with NMSE < tol, twice (the dnnl plan is run
 * again to catch in-place steps that corrupt inputs or constants), and require at least want_n
 * dnnl primitive steps labelled want (want NULL: no requirement; want_n 0: require none, i.e. a
 * reference fall-back). Returns the dnnl plan's reorder count through *n_reorders. */
static void tg_check_vs(tg *t, tg *r, double tol, const char *want, int want_n, int n_threads,
                        int *n_reorders) {
    eos_tensor in[TG_MAX_IN], rin[TG_MAX_IN];
    if (!r) r = t;
    ASSERT_TRUE(tg_finish(t, in));
    if (r != t) ASSERT_TRUE(tg_finish(r, rin));
    else memcpy(rin, in, sizeof in);
    eos_plan *pr = tg_plan(r, rin, eos_backend_ref(), 1);
    eos_plan *pd = pr ? tg_plan(t, in, eos_backend_dnnl(), n_threads) : NULL;
    if (pd) compare_outputs(pd, pr, t->n_out < r->n_out ? t->n_out : r->n_out, tol, 0);
    if (pd) {
        eos_err err;
        eos_err_clear(&err);
        eos_status st = eos_plan_run(pd, in, t->n_in, &err);
        if (st) fprintf(stderr, "  dnnl run 2: %s\n", err.msg);
        EXPECT_OK(st);
        if (!st) compare_outputs(pd, pr, t->n_out < r->n_out ? t->n_out : r->n_out, tol, 1);
    }
    if (pd && want) {
        int got = count_dnnl(pd, want);
        if (want_n == 0 && got != 0)
            TEST_FAIL_("'%s' ran on oneDNN (%d steps), expected the reference", want, got);
        if (want_n > 0 && got < want_n)
            TEST_FAIL_("'%s' on oneDNN: %d steps, want >= %d", want, got, want_n);
    }
    if (pd && n_reorders) *n_reorders = count_label(pd, "reorder");
    if (pd) t->n_wino = count_impl(pd, "wino");
    eos_plan_free(pr);
    eos_plan_free(pd);
}

static void tg_check_ex(tg *t, double tol, const char *want, int want_n, int n_threads,
                        int *n_reorders) {
    tg_check_vs(t, NULL, tol, want, want_n, n_threads, n_reorders);
}

static void tg_check(tg *t, double tol, const char *want, int want_n) {
    tg_check_ex(t, tol, want, want_n, 2, NULL);
}

#define CONV_TOL 1e-7
#define ELT_TOL 1e-9

static bool have_dnnl(void) { return eos_backend_dnnl() != NULL; }
#define NEED_DNNL() do { if (!have_dnnl()) TEST_SKIP("oneDNN back-end not available"); } while (0)

/* ------------------------------------------------------------------ convolution */

typedef struct conv_case {
    const char *name;
    int64_t     n, ci, h, w;
    conv_cfg    c;
} conv_case;

static const conv_case k_conv_cases[] = {
    { "first layer 3ch 7x7 s2", 1, 3, 23, 19,
      { 16, 7, 7, 2, 1, 1, { 3, 3, 3, 3 }, false, false, 0 } },
    { "13 bands 3x3", 2, 13, 9, 9, { 32, 3, 3, 1, 1, 1, { 1, 1, 1, 1 }, true, false, 0 } },
    { "1x1 odd spatial", 1, 16, 7, 5, { 24, 1, 1, 1, 1, 1, { 0, 0, 0, 0 }, true, false, 0 } },
    { "1x1 stride 2", 3, 32, 9, 11, { 64, 1, 1, 2, 1, 1, { 0, 0, 0, 0 }, false, false, 0 } },
    { "3x3 stride 2", 1, 16, 9, 11, { 32, 3, 3, 2, 1, 1, { 1, 1, 1, 1 }, true, false, 0 } },
    { "groups 2", 1, 8, 6, 7, { 12, 3, 3, 1, 1, 2, { 1, 1, 1, 1 }, true, false, 0 } },
    { "depthwise", 2, 16, 8, 8, { 16, 3, 3, 1, 1, 16, { 1, 1, 1, 1 }, true, false, 0 } },
    { "depthwise stride 2", 1, 32, 9, 9, { 32, 3, 3, 2, 1, 32, { 1, 1, 1, 1 }, false, false, 0 } },
    { "dilation 2", 1, 16, 10, 9, { 16, 3, 3, 1, 2, 1, { 2, 2, 2, 2 }, true, false, 0 } },
    { "asymmetric pads", 1, 5, 8, 7, { 7, 3, 2, 1, 1, 1, { 0, 1, 2, 0 }, true, false, 0 } },
    { "5x5 stride 3 odd channels", 2, 3, 17, 14,
      { 5, 5, 5, 3, 1, 1, { 2, 1, 2, 1 }, true, false, 0 } },
    { "1x1 output", 1, 64, 3, 3, { 10, 3, 3, 1, 1, 1, { 0, 0, 0, 0 }, true, false, 0 } },
    { "deconv 2x2 s2 (U-Net)", 1, 32, 5, 6, { 16, 2, 2, 2, 1, 1, { 0, 0, 0, 0 }, true, true, 0 } },
    { "deconv 3x3 s2 p1 outpad 1", 2, 8, 5, 4,
      { 6, 3, 3, 2, 1, 1, { 1, 1, 1, 1 }, true, true, 1 } },
    { "deconv groups 2", 1, 8, 4, 5, { 8, 3, 3, 1, 1, 2, { 1, 1, 1, 1 }, false, true, 0 } },
    { "deconv dilation 2", 1, 4, 5, 5, { 6, 3, 3, 2, 2, 1, { 0, 0, 0, 0 }, true, true, 1 } },
};

static void test_conv_shapes(void) {
    NEED_DNNL();
    for (size_t i = 0; i < sizeof k_conv_cases / sizeof k_conv_cases[0]; i++) {
        const conv_case *cc = &k_conv_cases[i];
        tg t;
        tg_init(&t);
        int64_t xd[4] = { cc->n, cc->ci, cc->h, cc->w };
        int x = tg_input(&t, 4, xd, -1, 1);
        tg_output(&t, tg_conv(&t, x, cc->ci, &cc->c));
        int before = test_failures_;
        tg_check(&t, CONV_TOL, cc->c.transposed ? "ConvTranspose" : "Conv", 1);
        if (test_failures_ != before) fprintf(stderr, "  in case '%s'\n", cc->name);
        tg_free(&t);
    }
}

static void test_conv_1d(void) {
    NEED_DNNL();
    tg t;
    tg_init(&t);
    int64_t xd[3] = { 2, 6, 17 }, wd[3] = { 8, 6, 3 }, bd[1] = { 8 };
    int x = tg_input(&t, 3, xd, -1, 1);
    int in[3] = { x, tg_const(&t, 3, wd, -0.3f, 0.3f), tg_const(&t, 1, bd, -1, 1) };
    int y = tg_node(&t, EOS_OP_CONV, 3, in);
    int64_t pads[2] = { 1, 2 }, st[1] = { 2 };
    tg_ints(&t, "pads", 2, pads);
    tg_ints(&t, "strides", 1, st);
    tg_output(&t, tg_unary(&t, EOS_OP_RELU, y));
    tg_check(&t, CONV_TOL, "Conv", 1);
    tg_free(&t);
}

static void test_conv_same_upper(void) {
    NEED_DNNL();
    tg t;
    tg_init(&t);
    int64_t xd[4] = { 1, 16, 9, 10 }, wd[4] = { 16, 16, 3, 3 };
    int x = tg_input(&t, 4, xd, -1, 1);
    int in[2] = { x, tg_const(&t, 4, wd, -0.2f, 0.2f) };
    tg_node(&t, EOS_OP_CONV, 2, in);
    int64_t st[2] = { 2, 2 };
    tg_ints(&t, "strides", 2, st);
    tg_str(&t, "auto_pad", "SAME_UPPER");
    tg_output(&t, t.g.nodes[t.last_node].out[0]);
    tg_check(&t, CONV_TOL, "Conv", 1);
    tg_free(&t);
}

/* Every fusable activation after a conv (and a ConvTranspose, and a Gemm). */
static void test_conv_fused_act(void) {
    NEED_DNNL();
    static const eos_op acts[] = { EOS_OP_RELU, EOS_OP_LEAKY_RELU, EOS_OP_CLIP, EOS_OP_CLIP,
                                   EOS_OP_SIGMOID, EOS_OP_TANH, EOS_OP_HARD_SIGMOID,
                                   EOS_OP_HARD_SWISH };
    for (int k = 0; k < (int)(sizeof acts / sizeof acts[0]); k++) {
        for (int tr = 0; tr < 2; tr++) {
            tg t;
            tg_init(&t);
            int64_t xd[4] = { 1, 16, 6, 7 };
            int x = tg_input(&t, 4, xd, -2, 2);
            conv_cfg c = { 16, 3, 3, 1, 1, 1, { 1, 1, 1, 1 }, true, tr == 1, 0 };
            int y = tg_conv(&t, x, 16, &c);
            if (acts[k] == EOS_OP_CLIP) {
                int in[3] = { y, tg_scalar(&t, k == 2 ? 0.0f : -0.5f),
                              tg_scalar(&t, k == 2 ? 6.0f : 0.25f) };
                y = tg_node(&t, EOS_OP_CLIP, 3, in);
            } else {
                y = tg_unary(&t, acts[k], y);
                if (acts[k] == EOS_OP_LEAKY_RELU) tg_float(&t, "alpha", 0.1f);
                if (acts[k] == EOS_OP_HARD_SIGMOID) {
                    tg_float(&t, "alpha", 0.3f);
                    tg_float(&t, "beta", 0.4f);
                }
            }
            tg_output(&t, y);
            int before = test_failures_;
            tg_check(&t, CONV_TOL, tr ? "ConvTranspose" : "Conv", 1);
            if (test_failures_ != before)
                fprintf(stderr, "  act %s tr %d\n", eos_op_name(acts[k]), tr);
            tg_free(&t);
        }
    }
}

/* y = relu(conv(a) + a) where a is an intermediate that dies at the conv: the residual is the
 * conv's own input, so the output must not be written in place over it. The reference runs the
 * same graph with a kept alive as a second output (the ref back-end aliases out to a residual
 * that dies without checking that the node still reads it as x). */
static void build_sum_self(tg *t, bool keep_a) {
    tg_init(t);
    int64_t xd[4] = { 1, 16, 5, 6 };
    int x = tg_input(t, 4, xd, -1, 1);
    conv_cfg c = { 16, 3, 3, 1, 1, 1, { 1, 1, 1, 1 }, true, false, 0 };
    int a = tg_unary(t, EOS_OP_RELU, tg_conv(t, x, 16, &c));
    int y = tg_binary(t, EOS_OP_ADD, tg_conv(t, a, 16, &c), a);
    tg_output(t, tg_unary(t, EOS_OP_RELU, y));
    if (keep_a) tg_output(t, a);
}

static void test_conv_sum_self(void) {
    NEED_DNNL();
    tg t, r;
    build_sum_self(&t, false);
    build_sum_self(&r, true);
    tg_check_vs(&t, &r, CONV_TOL, "Conv", 2, 2, NULL);
    tg_free(&t);
    tg_free(&r);
}

/* The ResNet basic block: residual dies at the second conv (in-place alias path). */
static void test_conv_sum_inplace(void) {
    NEED_DNNL();
    tg t;
    tg_init(&t);
    int64_t xd[4] = { 2, 16, 7, 9 };
    int x = tg_input(&t, 4, xd, -1, 1);
    conv_cfg c = { 16, 3, 3, 1, 1, 1, { 1, 1, 1, 1 }, true, false, 0 };
    int a = tg_unary(&t, EOS_OP_RELU, tg_conv(&t, x, 16, &c));    /* block input */
    int b = tg_unary(&t, EOS_OP_RELU, tg_conv(&t, a, 16, &c));
    int y = tg_unary(&t, EOS_OP_RELU, tg_binary(&t, EOS_OP_ADD, tg_conv(&t, b, 16, &c), a));
    tg_output(&t, y);
    tg_check(&t, CONV_TOL, "Conv", 3);
    tg_free(&t);
}

/* Residual still needed after the conv (copy path), residual from a graph input (never
 * written), and the downsample variant (residual from a 1x1 stride-2 conv). */
static void test_conv_sum_copy(void) {
    NEED_DNNL();
    tg t;
    tg_init(&t);
    int64_t xd[4] = { 1, 16, 8, 8 };
    int x = tg_input(&t, 4, xd, -1, 1);
    conv_cfg c = { 16, 3, 3, 1, 1, 1, { 1, 1, 1, 1 }, true, false, 0 };
    int a = tg_unary(&t, EOS_OP_RELU, tg_conv(&t, x, 16, &c));
    int s1 = tg_binary(&t, EOS_OP_ADD, tg_conv(&t, a, 16, &c), a);    /* a read again below */
    int s2 = tg_binary(&t, EOS_OP_ADD, s1, a);
    int s3 = tg_binary(&t, EOS_OP_ADD, tg_conv(&t, s2, 16, &c), x);   /* residual: graph input */
    conv_cfg ds = { 32, 1, 1, 2, 1, 1, { 0, 0, 0, 0 }, false, false, 0 };
    conv_cfg c2 = { 32, 3, 3, 2, 1, 1, { 1, 1, 1, 1 }, true, false, 0 };
    int d = tg_conv(&t, s3, 16, &ds);
    int y = tg_unary(&t, EOS_OP_RELU, tg_binary(&t, EOS_OP_ADD, d, tg_conv(&t, s3, 16, &c2)));
    tg_output(&t, y);
    tg_output(&t, s3);
    tg_check(&t, CONV_TOL, "Conv", 5);
    tg_free(&t);
}

/* Winograd convolutions: forced on, measured (tune), and the default rule (on for a 64 -> 64
 * layer at 12x12, off for 2x2 outputs), each with a residual and a fused activation. */
static void build_wino(tg *t, int64_t ch, int64_t hw) {
    tg_init(t);
    int64_t xd[4] = { 2, ch, hw, hw };
    int x = tg_input(t, 4, xd, -1, 1);
    conv_cfg c = { ch, 3, 3, 1, 1, 1, { 1, 1, 1, 1 }, true, false, 0 };
    int a = tg_unary(t, EOS_OP_RELU, tg_conv(t, x, ch, &c));
    int b = tg_binary(t, EOS_OP_ADD, tg_conv(t, a, ch, &c), a);
    tg_output(t, tg_unary(t, EOS_OP_RELU, b));
}

static void test_conv_winograd(void) {
    NEED_DNNL();
    static const struct { const char *mode; int64_t ch, hw; int min_wino, max_wino; } cases[] = {
        { "winograd", 64, 12, 2, 2 }, { "winograd", 32, 9, 2, 2 }, { "tune", 64, 12, 0, 2 },
        { "auto", 64, 12, 2, 2 }, { "auto", 64, 2, 0, 0 }, { "direct", 64, 12, 0, 0 },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        tg t;
        build_wino(&t, cases[k].ch, cases[k].hw);
        int before = test_failures_;
        setenv("EOS_DNNL_CONV", cases[k].mode, 1);
        tg_check(&t, 1e-9, "Conv", 2);
        unsetenv("EOS_DNNL_CONV");
        if (t.n_wino < cases[k].min_wino || t.n_wino > cases[k].max_wino)
            TEST_FAIL_("%d Winograd convolutions, want %d..%d", t.n_wino, cases[k].min_wino,
                       cases[k].max_wino);
        if (test_failures_ != before) fprintf(stderr, "  mode %s case %zu\n", cases[k].mode, k);
        tg_free(&t);
    }
    tg t;
    build_wino(&t, 16, 4);
    eos_tensor in[TG_MAX_IN];
    bool ok = tg_finish(&t, in);
    eos_plan *p = NULL;
    eos_err err;
    eos_err_clear(&err);
    setenv("EOS_DNNL_CONV", "bogus", 1);
    eos_status st = EOS_OK;
    if (ok) st = eos_plan_create(&t.g, in, t.n_in, eos_backend_dnnl(), 1, &p, &err);
    unsetenv("EOS_DNNL_CONV");
    EXPECT_TRUE(ok);
    EXPECT_STATUS(st, EOS_INVALID_ARG);
    EXPECT_TRUE(strstr(err.msg, "EOS_DNNL_CONV") != NULL);
    eos_plan_free(p);
    tg_free(&t);
}

/* ------------------------------------------------------------------ pooling */

typedef struct pool_case {
    const char *name;
    eos_op      op;
    int64_t     h, w, k, s, dil;
    int64_t     pads[4];
    int         ceil, include_pad;
    bool        expect_dnnl;
} pool_case;

static const pool_case k_pool_cases[] = {
    { "max 3x3 s2 p1 (ResNet)", EOS_OP_MAX_POOL, 15, 16, 3, 2, 1, { 1, 1, 1, 1 }, 0, 0, true },
    { "max 2x2 s2 odd", EOS_OP_MAX_POOL, 9, 7, 2, 2, 1, { 0, 0, 0, 0 }, 0, 0, true },
    { "max ceil", EOS_OP_MAX_POOL, 9, 8, 3, 2, 1, { 0, 0, 0, 0 }, 1, 0, true },
    { "max dilation 2", EOS_OP_MAX_POOL, 11, 10, 3, 1, 2, { 1, 1, 1, 1 }, 0, 0, true },
    { "avg exclude pad", EOS_OP_AVERAGE_POOL, 9, 10, 3, 2, 1, { 1, 1, 1, 1 }, 0, 0, true },
    { "avg include pad", EOS_OP_AVERAGE_POOL, 9, 10, 3, 2, 1, { 1, 0, 1, 2 }, 0, 1, true },
    { "avg ceil exclude", EOS_OP_AVERAGE_POOL, 10, 9, 3, 2, 1, { 0, 0, 0, 0 }, 1, 0, true },
    { "avg ceil include (ref)", EOS_OP_AVERAGE_POOL, 10, 9, 3, 2, 1, { 1, 1, 1, 1 }, 1, 1, false },
    { "global avg", EOS_OP_GLOBAL_AVERAGE_POOL, 7, 5, 0, 0, 0, { 0 }, 0, 0, true },
    { "global max", EOS_OP_GLOBAL_MAX_POOL, 6, 3, 0, 0, 0, { 0 }, 0, 0, true },
};

static void test_pool(void) {
    NEED_DNNL();
    for (size_t i = 0; i < sizeof k_pool_cases / sizeof k_pool_cases[0]; i++) {
        const pool_case *pc = &k_pool_cases[i];
        for (int blocked = 0; blocked < 2; blocked++) {
            tg t;
            tg_init(&t);
            int64_t xd[4] = { 2, 16, pc->h, pc->w };
            int x = tg_input(&t, 4, xd, -1, 1);
            if (blocked) { /* feed from a conv so the input is in oneDNN's blocked layout */
                conv_cfg c = { 16, 1, 1, 1, 1, 1, { 0, 0, 0, 0 }, true, false, 0 };
                x = tg_conv(&t, x, 16, &c);
            }
            tg_output(&t, tg_unary(&t, pc->op, x));
            if (pc->k) {
                int64_t ks[2] = { pc->k, pc->k }, st[2] = { pc->s, pc->s };
                int64_t dl[2] = { pc->dil, pc->dil };
                tg_ints(&t, "kernel_shape", 2, ks);
                tg_ints(&t, "strides", 2, st);
                tg_ints(&t, "pads", 4, pc->pads);
                if (pc->dil != 1) tg_ints(&t, "dilations", 2, dl);
                if (pc->ceil) tg_int(&t, "ceil_mode", 1);
                if (pc->include_pad) tg_int(&t, "count_include_pad", 1);
            }
            int before = test_failures_;
            tg_check(&t, ELT_TOL, eos_op_name(pc->op), pc->expect_dnnl ? 1 : 0);
            if (test_failures_ != before)
                fprintf(stderr, "  in case '%s' blocked %d\n", pc->name, blocked);
            tg_free(&t);
        }
    }
}

/* ------------------------------------------------------------------ eltwise */

static void test_eltwise(void) {
    NEED_DNNL();
    static const eos_op ops[] = { EOS_OP_RELU, EOS_OP_LEAKY_RELU, EOS_OP_CLIP, EOS_OP_SIGMOID,
                                  EOS_OP_TANH, EOS_OP_HARD_SWISH, EOS_OP_EXP, EOS_OP_SQRT,
                                  EOS_OP_NEG };
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        for (int blocked = 0; blocked < 2; blocked++) {
            tg t;
            tg_init(&t);
            int64_t xd[4] = { 2, 24, 5, 3 }; /* 24 channels: padded to 32 in nChw16c */
            bool pos = ops[k] == EOS_OP_SQRT;
            int x = tg_input(&t, 4, xd, pos ? 0.1f : -3.0f, 3.0f);
            if (blocked) {
                conv_cfg c = { 24, 1, 1, 1, 1, 1, { 0, 0, 0, 0 }, true, false, 0 };
                x = tg_conv(&t, x, 24, &c);
                if (pos) x = tg_unary(&t, EOS_OP_EXP, x);
                /* a second reader keeps x alive: the eltwise must not run in place */
                tg_output(&t, tg_unary(&t, EOS_OP_NEG, x));
            }
            int y;
            if (ops[k] == EOS_OP_CLIP) {
                int in[3] = { x, tg_scalar(&t, -0.5f), tg_scalar(&t, 1.5f) };
                y = tg_node(&t, EOS_OP_CLIP, 3, in);
            } else {
                y = tg_unary(&t, ops[k], x);
                if (ops[k] == EOS_OP_LEAKY_RELU) tg_float(&t, "alpha", 0.2f);
            }
            tg_output(&t, tg_unary(&t, EOS_OP_RELU, y)); /* and one in place */
            int before = test_failures_;
            tg_check(&t, 1e-10, eos_op_name(ops[k]), 1);
            if (test_failures_ != before)
                fprintf(stderr, "  op %s blocked %d\n", eos_op_name(ops[k]), blocked);
            tg_free(&t);
        }
    }
}

/* ------------------------------------------------------------------ binary */

static void test_binary(void) {
    NEED_DNNL();
    static const eos_op ops[] = { EOS_OP_ADD, EOS_OP_SUB, EOS_OP_MUL, EOS_OP_DIV };
    /* second operand shapes: full, channel vector, scalar, [H, W], [1, C, 1, 1], [N,1,1,1] */
    static const int64_t shapes[6][5] = {
        { 4, 2, 20, 5, 6 }, { 3, 20, 1, 1, 0 }, { 0, 0, 0, 0, 0 }, { 2, 5, 6, 0, 0 },
        { 4, 1, 20, 1, 1 }, { 4, 2, 1, 1, 1 },
    };
    for (size_t k = 0; k < 4; k++) {
        for (int sh = 0; sh < 6; sh++) {
            for (int swap = 0; swap < 2; swap++) {
                tg t;
                tg_init(&t);
                int64_t xd[4] = { 2, 20, 5, 6 };
                int x = tg_input(&t, 4, xd, -1, 1);
                conv_cfg c = { 20, 1, 1, 1, 1, 1, { 0, 0, 0, 0 }, true, false, 0 };
                /* exp keeps divisors away from zero */
                int a = tg_unary(&t, EOS_OP_EXP, tg_conv(&t, x, 20, &c));
                int nd = (int)shapes[sh][0];
                int b = sh == 0 ? tg_unary(&t, EOS_OP_EXP, tg_conv(&t, x, 20, &c))
                                : tg_const(&t, nd, &shapes[sh][1], 0.5f, 2.0f);
                int y = swap ? tg_binary(&t, ops[k], b, a) : tg_binary(&t, ops[k], a, b);
                tg_output(&t, y);
                /* src0 must be the full-shape operand: Sub/Div with a broadcast first operand
                 * stay on the reference */
                bool dn = sh == 0 || !swap || ops[k] == EOS_OP_ADD || ops[k] == EOS_OP_MUL;
                int before = test_failures_;
                tg_check(&t, ELT_TOL, eos_op_name(ops[k]), dn ? 1 : 0);
                if (test_failures_ != before)
                    fprintf(stderr, "  op %s shape %d swap %d\n", eos_op_name(ops[k]), sh, swap);
                tg_free(&t);
            }
        }
    }
}

/* Two graph inputs broadcast against each other both ways: reference. Same-shape plain inputs:
 * oneDNN on plain data. */
static void test_binary_plain(void) {
    NEED_DNNL();
    tg t;
    tg_init(&t);
    int64_t ad[3] = { 3, 1, 5 }, bd[2] = { 4, 1 }, cd[3] = { 3, 4, 5 };
    int a = tg_input(&t, 3, ad, -1, 1), b = tg_input(&t, 2, bd, -1, 1);
    int c = tg_input(&t, 3, cd, -1, 1);
    int y = tg_binary(&t, EOS_OP_MUL, a, b);          /* [3,4,5] from both sides: ref */
    tg_output(&t, tg_binary(&t, EOS_OP_SUB, y, c));   /* plain full shape: dnnl */
    tg_check(&t, ELT_TOL, "Sub", 1);
    tg_free(&t);
}

/* ------------------------------------------------------------------ normalization, softmax */

static void test_batchnorm(void) {
    NEED_DNNL();
    for (int blocked = 0; blocked < 2; blocked++) {
        tg t;
        tg_init(&t);
        int64_t xd[4] = { 2, 12, 5, 7 }, cd[1] = { 12 };
        int x = tg_input(&t, 4, xd, -1, 1);
        if (blocked) {   /* conv -> relu -> BN: not foldable into the conv */
            conv_cfg c = { 12, 3, 3, 1, 1, 1, { 1, 1, 1, 1 }, true, false, 0 };
            x = tg_unary(&t, EOS_OP_RELU, tg_conv(&t, x, 12, &c));
        }
        int in[5] = { x, tg_const(&t, 1, cd, 0.5f, 1.5f), tg_const(&t, 1, cd, -0.5f, 0.5f),
                      tg_const(&t, 1, cd, -0.2f, 0.2f), tg_const(&t, 1, cd, 0.5f, 2.0f) };
        tg_output(&t, tg_node(&t, EOS_OP_BATCH_NORM, 5, in));
        tg_float(&t, "epsilon", 1e-3f);
        tg_check(&t, 1e-10, "BatchNormalization", 1);
        tg_free(&t);
    }
}

static void test_softmax(void) {
    NEED_DNNL();
    struct { int nd; int64_t dims[4]; int64_t axis; int opset; eos_op op; bool dn; } cases[] = {
        { 2, { 3, 10 }, 1, 13, EOS_OP_SOFTMAX, true },
        { 2, { 3, 10 }, 1, 11, EOS_OP_SOFTMAX, true },
        { 4, { 2, 6, 3, 4 }, 1, 13, EOS_OP_SOFTMAX, true },
        { 4, { 2, 6, 3, 4 }, -1, 13, EOS_OP_LOG_SOFTMAX, true },
        { 4, { 2, 6, 3, 4 }, 1, 11, EOS_OP_SOFTMAX, false },   /* coerced to 2-D: reference */
        { 3, { 2, 5, 7 }, 2, 11, EOS_OP_LOG_SOFTMAX, true },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        tg t;
        tg_init(&t);
        int x = tg_input(&t, cases[k].nd, cases[k].dims, -4, 4);
        tg_output(&t, tg_unary(&t, cases[k].op, x));
        tg_int(&t, "axis", cases[k].axis);
        tg_opset(&t, cases[k].opset);
        int before = test_failures_;
        tg_check(&t, 1e-10, eos_op_name(cases[k].op), cases[k].dn ? 1 : 0);
        if (test_failures_ != before) fprintf(stderr, "  softmax case %zu\n", k);
        tg_free(&t);
    }
}

/* ------------------------------------------------------------------ concat */

static void test_concat(void) {
    NEED_DNNL();
    for (int axis = 1; axis <= 2; axis++) {
        tg t;
        tg_init(&t);
        int64_t xd[4] = { 2, 16, 6, 5 }, pd[4] = { 2, 16, 6, 5 };
        int x = tg_input(&t, 4, xd, -1, 1);
        int plain = tg_input(&t, 4, pd, -1, 1);
        conv_cfg c1 = { 16, 3, 3, 1, 1, 1, { 1, 1, 1, 1 }, true, false, 0 };
        conv_cfg c2 = { 32, 1, 1, 1, 1, 1, { 0, 0, 0, 0 }, true, false, 0 };
        int a = tg_conv(&t, x, 16, &c1);
        int b = axis == 1 ? tg_conv(&t, x, 16, &c2) : tg_conv(&t, x, 16, &c1);
        int in[3] = { a, b, plain };
        int y = tg_node(&t, EOS_OP_CONCAT, 3, in);
        tg_int(&t, "axis", axis);
        conv_cfg c3 = { 8, 3, 3, 1, 1, 1, { 1, 1, 1, 1 }, true, false, 0 };
        tg_output(&t, tg_conv(&t, y, axis == 1 ? 64 : 16, &c3));
        tg_output(&t, y);
        tg_check(&t, CONV_TOL, "Concat", 1);
        tg_free(&t);
    }
}

/* ------------------------------------------------------------------ gemm, matmul */

static void test_gemm(void) {
    NEED_DNNL();
    for (int trans_b = 0; trans_b < 2; trans_b++) {
        for (int act = 0; act < 2; act++) {
            tg t;
            tg_init(&t);
            int64_t ad[2] = { 3, 37 }, bd[2], cd[1] = { 10 };
            bd[0] = trans_b ? 10 : 37;
            bd[1] = trans_b ? 37 : 10;
            int a = tg_input(&t, 2, ad, -1, 1);
            int in[3] = { a, tg_const(&t, 2, bd, -0.3f, 0.3f), tg_const(&t, 1, cd, -1, 1) };
            int y = tg_node(&t, EOS_OP_GEMM, 3, in);
            if (trans_b) tg_int(&t, "transB", 1);
            if (act) y = tg_unary(&t, EOS_OP_RELU, y);
            tg_output(&t, y);
            tg_check(&t, CONV_TOL, "Gemm", 1);
            tg_free(&t);
        }
    }
    /* scaled Gemm: reference */
    tg t;
    tg_init(&t);
    int64_t ad[2] = { 2, 5 }, bd[2] = { 5, 4 };
    int in[2] = { tg_input(&t, 2, ad, -1, 1), tg_const(&t, 2, bd, -1, 1) };
    tg_output(&t, tg_node(&t, EOS_OP_GEMM, 2, in));
    tg_float(&t, "alpha", 0.5f);
    tg_check(&t, CONV_TOL, "Gemm", 0);
    tg_free(&t);
}

static void test_matmul(void) {
    NEED_DNNL();
    struct { int na; int64_t a[3]; int nb; int64_t b[3]; bool bconst; } cases[] = {
        { 2, { 7, 13 }, 2, { 13, 5 }, true },
        { 2, { 7, 13 }, 2, { 13, 5 }, false },
        { 3, { 4, 3, 6 }, 3, { 4, 6, 2 }, false },
        { 3, { 4, 3, 6 }, 2, { 6, 9 }, true },
        { 3, { 1, 3, 6 }, 3, { 2, 6, 4 }, false },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        tg t;
        tg_init(&t);
        int a = tg_input(&t, cases[k].na, cases[k].a, -1, 1);
        int b = cases[k].bconst ? tg_const(&t, cases[k].nb, cases[k].b, -1, 1)
                                : tg_input(&t, cases[k].nb, cases[k].b, -1, 1);
        tg_output(&t, tg_unary(&t, EOS_OP_TANH, tg_binary(&t, EOS_OP_MATMUL, a, b)));
        int before = test_failures_;
        tg_check(&t, CONV_TOL, "MatMul", 1);
        if (test_failures_ != before) fprintf(stderr, "  matmul case %zu\n", k);
        tg_free(&t);
    }
}

/* ------------------------------------------------------------------ resize */

static void test_resize(void) {
    NEED_DNNL();
    struct { const char *mode, *coord, *nearest; int64_t h, w, oh, ow; bool dn; } cases[] = {
        { "linear", "half_pixel", NULL, 5, 6, 10, 12, true },
        { "linear", "half_pixel", NULL, 5, 6, 7, 13, true },
        { "linear", "half_pixel", NULL, 8, 9, 5, 4, true },
        { "linear", "pytorch_half_pixel", NULL, 4, 4, 8, 8, true },
        { "linear", "align_corners", NULL, 4, 5, 8, 10, false },
        { "nearest", "asymmetric", "floor", 4, 5, 8, 15, true },
        { "nearest", "asymmetric", "floor", 4, 4, 6, 6, false },
        { "nearest", "asymmetric", "round_prefer_floor", 4, 4, 8, 8, false },
        { "nearest", "half_pixel", "round_prefer_floor", 3, 4, 6, 12, true },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        for (int use_sizes = 0; use_sizes < 2; use_sizes++) {
            tg t;
            tg_init(&t);
            int64_t xd[4] = { 1, 16, cases[k].h, cases[k].w };
            int x = tg_input(&t, 4, xd, -1, 1);
            conv_cfg c = { 16, 1, 1, 1, 1, 1, { 0, 0, 0, 0 }, true, false, 0 };
            x = tg_conv(&t, x, 16, &c);
            int64_t four = 4;
            int sc = -1, sz = -1;
            if (use_sizes) {
                int64_t sizes[4] = { 1, 16, cases[k].oh, cases[k].ow };
                sz = tg_val(&t, 1, &four);
                t.g.values[sz].dtype = EOS_DTYPE_I64;
                eos_graph_set_const(&t.g, sz, sizes, sizeof sizes);
                t.g.values[sz].flags |= EOS_VAL_CONST;
            } else {
                float scales[4] = { 1, 1, (float)cases[k].oh / (float)cases[k].h,
                                    (float)cases[k].ow / (float)cases[k].w };
                sc = tg_const_f(&t, 1, &four, scales);
            }
            int in[4] = { x, -1, sc, sz };
            tg_output(&t, tg_node(&t, EOS_OP_RESIZE, use_sizes ? 4 : 3, in));
            tg_str(&t, "mode", cases[k].mode);
            tg_str(&t, "coordinate_transformation_mode", cases[k].coord);
            if (cases[k].nearest) tg_str(&t, "nearest_mode", cases[k].nearest);
            int before = test_failures_;
            tg_check(&t, 1e-10, "Resize", cases[k].dn ? 1 : 0);
            if (test_failures_ != before)
                fprintf(stderr, "  resize case %zu sizes %d\n", k, use_sizes);
            tg_free(&t);
        }
    }
}

/* ------------------------------------------------------------------ mixed graphs */

/* conv -> Transpose (reference) -> conv, conv -> Flatten (reference) -> Gemm, and a graph output
 * that is also read by later nodes. */
static void test_mixed_chain(void) {
    NEED_DNNL();
    tg t;
    tg_init(&t);
    int64_t xd[4] = { 1, 8, 6, 6 };
    int x = tg_input(&t, 4, xd, -1, 1);
    conv_cfg c = { 16, 3, 3, 1, 1, 1, { 1, 1, 1, 1 }, true, false, 0 };
    int a = tg_unary(&t, EOS_OP_RELU, tg_conv(&t, x, 8, &c));
    tg_output(&t, a);                                    /* output read internally */
    int tr = tg_unary(&t, EOS_OP_TRANSPOSE, a);
    int64_t perm[4] = { 0, 1, 3, 2 };
    tg_ints(&t, "perm", 4, perm);
    int b = tg_conv(&t, tr, 16, &c);
    int p = tg_unary(&t, EOS_OP_GLOBAL_AVERAGE_POOL, b);
    int f = tg_unary(&t, EOS_OP_FLATTEN, p);
    int64_t wd[2] = { 5, 16 }, bd[1] = { 5 };
    int in[3] = { f, tg_const(&t, 2, wd, -1, 1), tg_const(&t, 1, bd, -1, 1) };
    tg_node(&t, EOS_OP_GEMM, 3, in);
    tg_int(&t, "transB", 1);
    tg_output(&t, t.g.nodes[t.last_node].out[0]);
    tg_output(&t, b);
    tg_check(&t, CONV_TOL, "Conv", 2);
    tg_free(&t);
}

/* A small U-Net: conv+BN+relu, maxpool, transposed conv up, skip concat, 1x1 head. */
static void test_mini_unet(void) {
    NEED_DNNL();
    tg t;
    tg_init(&t);
    int64_t xd[4] = { 2, 3, 16, 16 };
    int x = tg_input(&t, 4, xd, -1, 1);
    conv_cfg e1 = { 16, 3, 3, 1, 1, 1, { 1, 1, 1, 1 }, false, false, 0 };
    int64_t cd16[1] = { 16 };
    int h = tg_conv(&t, x, 3, &e1);
    int bn[5] = { h, tg_const(&t, 1, cd16, 0.5f, 1.5f), tg_const(&t, 1, cd16, -0.1f, 0.1f),
                  tg_const(&t, 1, cd16, -0.1f, 0.1f), tg_const(&t, 1, cd16, 0.5f, 1.5f) };
    int s1 = tg_unary(&t, EOS_OP_RELU, tg_node(&t, EOS_OP_BATCH_NORM, 5, bn));
    int p1 = tg_unary(&t, EOS_OP_MAX_POOL, s1);
    int64_t k2[2] = { 2, 2 };
    tg_ints(&t, "kernel_shape", 2, k2);
    tg_ints(&t, "strides", 2, k2);
    conv_cfg e2 = { 32, 3, 3, 1, 1, 1, { 1, 1, 1, 1 }, true, false, 0 };
    int m = tg_unary(&t, EOS_OP_RELU, tg_conv(&t, p1, 16, &e2));
    conv_cfg up = { 16, 2, 2, 2, 1, 1, { 0, 0, 0, 0 }, true, true, 0 };
    int u = tg_conv(&t, m, 32, &up);
    int cat_in[2] = { u, s1 };
    int cat = tg_node(&t, EOS_OP_CONCAT, 2, cat_in);
    tg_int(&t, "axis", 1);
    conv_cfg d1 = { 16, 3, 3, 1, 1, 1, { 1, 1, 1, 1 }, true, false, 0 };
    int d = tg_unary(&t, EOS_OP_RELU, tg_conv(&t, cat, 32, &d1));
    conv_cfg head = { 6, 1, 1, 1, 1, 1, { 0, 0, 0, 0 }, true, false, 0 };
    tg_output(&t, tg_conv(&t, d, 16, &head));
    int n_reorders = 0;
    tg_check_ex(&t, CONV_TOL, "Conv", 4, 2, &n_reorders);
    /* layouts change only where a kernel wants another one (the plain input into the first
     * conv, the plain output; one spare for a kernel choice of another oneDNN build): no reorder
     * ping-pong around pooling, the deconvolution, concat or the skip connection (8 or more) */
    if (n_reorders > 3) TEST_FAIL_("%d reorders in the mini U-Net, want <= 3", n_reorders);
    tg_free(&t);
}

/* Threads: the same graph planned with 1 thread gives the same result. */
static void test_one_thread(void) {
    NEED_DNNL();
    tg t;
    tg_init(&t);
    int64_t xd[4] = { 4, 16, 9, 9 };
    int x = tg_input(&t, 4, xd, -1, 1);
    conv_cfg c = { 32, 3, 3, 2, 1, 1, { 1, 1, 1, 1 }, true, false, 0 };
    tg_output(&t, tg_unary(&t, EOS_OP_RELU, tg_conv(&t, x, 16, &c)));
    tg_check_ex(&t, CONV_TOL, "Conv", 1, 1, NULL);
    tg_free(&t);
}

/* Non-f32 and unsupported nodes fall back to the reference; i64 shape arithmetic included. */
static void test_fallbacks(void) {
    NEED_DNNL();
    tg t;
    tg_init(&t);
    int64_t xd[4] = { 1, 4, 5, 5 };
    int x = tg_input(&t, 4, xd, -1, 1);
    int64_t pads[8] = { 0, 0, 1, 2, 0, 0, 2, 1 }, eight = 8;
    int pv = tg_val(&t, 1, &eight);
    t.g.values[pv].dtype = EOS_DTYPE_I64;
    eos_graph_set_const(&t.g, pv, pads, sizeof pads);
    int in[2] = { x, pv };
    int y = tg_node(&t, EOS_OP_PAD, 2, in);
    conv_cfg c = { 8, 3, 3, 1, 1, 1, { 0, 0, 0, 0 }, true, false, 0 };
    y = tg_conv(&t, y, 4, &c);
    int64_t sd[1] = { 1 };
    y = tg_binary(&t, EOS_OP_POW, y, tg_const(&t, 1, sd, 2, 2));
    tg_output(&t, y);
    tg_check(&t, CONV_TOL, "Conv", 1);
    tg_free(&t);
}

#else  /* !EOS_WITH_DNNL */

static void test_skip_without_dnnl(void) {
    TEST_SKIP("eosight was built without oneDNN (EOS_WITH_DNNL off)");
}

#endif

#ifdef EOS_WITH_DNNL
TEST_MAIN(TEST(test_conv_shapes), TEST(test_conv_1d), TEST(test_conv_same_upper),
          TEST(test_conv_fused_act), TEST(test_conv_sum_self), TEST(test_conv_sum_inplace),
          TEST(test_conv_sum_copy), TEST(test_conv_winograd), TEST(test_pool),
          TEST(test_eltwise), TEST(test_binary), TEST(test_binary_plain), TEST(test_batchnorm),
          TEST(test_softmax), TEST(test_concat), TEST(test_gemm), TEST(test_matmul),
          TEST(test_resize), TEST(test_mixed_chain), TEST(test_mini_unet), TEST(test_one_thread),
          TEST(test_fallbacks))
#else
TEST_MAIN(TEST(test_skip_without_dnnl))
#endif
