/*
 * tests/graph/test_plan.c - the planner on hand-built graphs: BatchNorm folding, fusion,
 * constant folding of shape sub-graphs, liveness-based memory reuse, re-planning, and the
 * numerical equivalence of fused and unfused execution (checked against a direct formula).
 */
#include "common/test.h"
#include "graph/graph.h"
#include "graph/passes.h"
#include "graph/plan.h"
#include "ops/ops.h"

/* ------------------------------------------------------------------ helpers */

static int val(eos_graph *g, const char *name, eos_dtype t, int ndim, const int64_t *dims) {
    int v = eos_graph_add_value(g, name);
    g->values[v].dtype = t;
    g->values[v].ndim = ndim;
    for (int i = 0; i < ndim; i++) g->values[v].dims[i] = dims[i];
    return v;
}

static int cst(eos_graph *g, const char *name, int ndim, const int64_t *dims, const float *data) {
    int v = val(g, name, EOS_DTYPE_F32, ndim, dims);
    eos_tensor t = eos_value_tensor(&g->values[v]);
    eos_graph_set_const(g, v, data, eos_tensor_nbytes(&t));
    return v;
}

static int node(eos_graph *g, eos_op op, const char *name, int n_in, const int *in, int n_out, const int *out) {
    int id = eos_graph_add_node(g, op, n_in, n_out);
    eos_node *n = &g->nodes[id];
    n->name = name;
    n->op_type = eos_op_name(op);
    n->opset = 17;
    for (int i = 0; i < n_in; i++) n->in[i] = in[i];
    for (int i = 0; i < n_out; i++) n->out[i] = out[i];
    return id;
}

static void set_io(eos_graph *g, int n_in, const int *in, int n_out, const int *out) {
    g->inputs = eos_arena_alloc(&g->arena, sizeof(int) * (size_t)n_in);
    g->outputs = eos_arena_alloc(&g->arena, sizeof(int) * (size_t)n_out);
    for (int i = 0; i < n_in; i++) { g->inputs[i] = in[i]; g->values[in[i]].flags |= EOS_VAL_INPUT; }
    for (int i = 0; i < n_out; i++) g->outputs[i] = out[i];
    g->n_inputs = n_in;
    g->n_outputs = n_out;
    g->opset = 17;
}

static void set_ints(eos_graph *g, int node_id, const char *name, int n, const int64_t *v) {
    eos_node *nd = &g->nodes[node_id];
    eos_attr *a = eos_arena_alloc(&g->arena, sizeof(eos_attr) * (size_t)(nd->n_attrs + 1));
    if (nd->n_attrs) memcpy(a, nd->attrs, sizeof(eos_attr) * (size_t)nd->n_attrs);
    int64_t *copy = eos_arena_alloc(&g->arena, sizeof(int64_t) * (size_t)n);
    memcpy(copy, v, sizeof(int64_t) * (size_t)n);
    a[nd->n_attrs].name = name;
    a[nd->n_attrs].type = EOS_ATTR_INTS;
    a[nd->n_attrs].ints = copy;
    a[nd->n_attrs].n = n;
    a[nd->n_attrs].tensor = -1;
    nd->attrs = a;
    nd->n_attrs++;
}

/* conv 3x3 pad 1 (C -> C), reference by formula, then BN, relu, + residual x */
#define C 4
#define H 5
#define W 6

static void direct_block(const float *x, const float *w, const float *bn, float *y) {
    /* bn: gamma[C], beta[C], mean[C], var[C]; y = relu(bn(conv(x)) + x) */
    for (int o = 0; o < C; o++)
        for (int i = 0; i < H; i++)
            for (int j = 0; j < W; j++) {
                double acc = 0;
                for (int c = 0; c < C; c++)
                    for (int ki = 0; ki < 3; ki++)
                        for (int kj = 0; kj < 3; kj++) {
                            int ii = i + ki - 1, jj = j + kj - 1;
                            if (ii < 0 || jj < 0 || ii >= H || jj >= W) continue;
                            acc += (double)x[(c * H + ii) * W + jj] * w[((o * C + c) * 3 + ki) * 3 + kj];
                        }
                double s = bn[o] / sqrt(bn[3 * C + o] + 1e-5);
                double v = (acc - bn[2 * C + o]) * s + bn[C + o] + x[(o * H + i) * W + j];
                y[(o * H + i) * W + j] = (float)(v > 0 ? v : 0);
            }
}

static void build_block(eos_graph *g, const float *w, const float *bn) {
    eos_graph_init(g);
    int64_t xd[4] = { 1, C, H, W }, wd[4] = { C, C, 3, 3 }, cd[1] = { C };
    int x = val(g, "x", EOS_DTYPE_F32, 4, xd);
    xd[0] = -1; /* symbolic batch */
    g->values[x].dims[0] = -1;
    int wv = cst(g, "w", 4, wd, w);
    int ga = cst(g, "gamma", 1, cd, bn), be = cst(g, "beta", 1, cd, bn + C);
    int me = cst(g, "mean", 1, cd, bn + 2 * C), va = cst(g, "var", 1, cd, bn + 3 * C);
    int c1 = val(g, "c1", EOS_DTYPE_UNDEFINED, -1, NULL), b1 = val(g, "b1", EOS_DTYPE_UNDEFINED, -1, NULL);
    int s1 = val(g, "s1", EOS_DTYPE_UNDEFINED, -1, NULL), y = val(g, "y", EOS_DTYPE_UNDEFINED, -1, NULL);
    int conv = node(g, EOS_OP_CONV, "conv", 2, (int[]){ x, wv }, 1, &c1);
    int64_t pads[4] = { 1, 1, 1, 1 };
    set_ints(g, conv, "pads", 4, pads);
    node(g, EOS_OP_BATCH_NORM, "bn", 5, (int[]){ c1, ga, be, me, va }, 1, &b1);
    node(g, EOS_OP_ADD, "add", 2, (int[]){ b1, x }, 1, &s1);
    node(g, EOS_OP_RELU, "relu", 1, &s1, 1, &y);
    set_io(g, 1, &x, 1, &y);
}

static void make_block_data(float *w, float *bn, float *x, int n_x) {
    test_fill_uniform(w, C * C * 9, -0.3f, 0.3f, 1);
    test_fill_uniform(bn, C, 0.5f, 1.5f, 2);
    test_fill_uniform(bn + C, C, -0.2f, 0.2f, 3);
    test_fill_uniform(bn + 2 * C, C, -0.2f, 0.2f, 4);
    test_fill_uniform(bn + 3 * C, C, 0.5f, 2.0f, 5);
    test_fill_uniform(x, n_x, -1, 1, 6);
}

static void test_bn_fold_and_fusion(void) {
    float w[C * C * 9], bn[4 * C], x[2 * C * H * W], want[2 * C * H * W];
    make_block_data(w, bn, x, 2 * C * H * W);
    eos_graph g;
    build_block(&g, w, bn);
    eos_err err;
    eos_err_clear(&err);
    ASSERT_OK(eos_graph_toposort(&g, &err));
    ASSERT_OK(eos_graph_passes_load(&g, &err));
    EXPECT_EQ_INT(g.n_nodes, 3); /* conv(+bn folded), add, relu */
    EXPECT_EQ_INT(g.nodes[0].op, EOS_OP_CONV);
    EXPECT_EQ_INT(g.nodes[0].n_in, 3); /* gained a bias */
    eos_tensor in = { EOS_DTYPE_F32, 4, { 2, C, H, W }, x };
    eos_plan *p;
    eos_status st = eos_plan_create(&g, &in, 1, eos_backend_ref(), 1, &p, &err);
    if (st) fprintf(stderr, "  plan: %s\n", err.msg);
    ASSERT_OK(st);
    EXPECT_EQ_INT(p->g.n_nodes, 1); /* everything fused into the conv */
    EXPECT_EQ_INT(p->g.nodes[0].fuse.act, EOS_ACT_RELU);
    EXPECT_TRUE(p->g.nodes[0].fuse.sum_in >= 0);
    st = eos_plan_run(p, &in, 1, &err);
    if (st) fprintf(stderr, "  run: %s\n", err.msg);
    ASSERT_OK(st);
    eos_tensor y = eos_plan_output(p, 0);
    EXPECT_EQ_INT(y.ndim, 4);
    EXPECT_EQ_INT(y.dims[0], 2);
    for (int b = 0; b < 2; b++) direct_block(x + b * C * H * W, w, bn, want + b * C * H * W);
    double e = test_max_rel_err(y.data, want, 2 * C * H * W);
    EXPECT_TRUE(e < 1e-5);
    if (e >= 1e-5) fprintf(stderr, "  max rel err %g\n", e);
    /* the model's graph is untouched by planning */
    EXPECT_EQ_INT(g.n_nodes, 3);
    eos_plan_free(p);
    eos_graph_free(&g);
}

static void test_wrong_input_shape(void) {
    float w[C * C * 9], bn[4 * C], x[C * H * W];
    make_block_data(w, bn, x, C * H * W);
    eos_graph g;
    build_block(&g, w, bn);
    eos_err err;
    eos_err_clear(&err);
    ASSERT_OK(eos_graph_toposort(&g, &err));
    eos_tensor in = { EOS_DTYPE_F32, 4, { 1, C + 1, H, W }, x };
    eos_plan *p;
    EXPECT_STATUS(eos_plan_create(&g, &in, 1, eos_backend_ref(), 1, &p, &err), EOS_SHAPE);
    EXPECT_TRUE(strstr(err.msg, "'x'") != NULL);
    eos_tensor in3 = { EOS_DTYPE_F32, 3, { C, H, W }, x };
    EXPECT_STATUS(eos_plan_create(&g, &in3, 1, eos_backend_ref(), 1, &p, &err), EOS_SHAPE);
    EXPECT_STATUS(eos_plan_create(&g, &in3, 2, eos_backend_ref(), 1, &p, &err), EOS_INVALID_ARG);
    eos_graph_free(&g);
}

/* A chain of 12 unary ops: liveness lets two buffers serve them all. */
static void test_memory_reuse(void) {
    eos_graph g;
    eos_graph_init(&g);
    int64_t d[2] = { 1000, 100 };
    int prev = val(&g, "x", EOS_DTYPE_F32, 2, d), x = prev;
    int y = -1;
    for (int i = 0; i < 12; i++) {
        y = val(&g, "", EOS_DTYPE_UNDEFINED, -1, NULL);
        node(&g, i % 2 ? EOS_OP_NEG : EOS_OP_SIGMOID, "op", 1, &prev, 1, &y);
        prev = y;
    }
    set_io(&g, 1, &x, 1, &y);
    eos_err err;
    eos_err_clear(&err);
    ASSERT_OK(eos_graph_toposort(&g, &err));
    float *in_data = eos_malloc(sizeof(float) * 100000);
    test_fill_uniform(in_data, 100000, -2, 2, 9);
    eos_tensor in = { EOS_DTYPE_F32, 2, { 1000, 100 }, in_data };
    eos_plan *p;
    ASSERT_OK(eos_plan_create(&g, &in, 1, eos_backend_ref(), 1, &p, &err));
    /* input + output stay live throughout; intermediates ping-pong in two more buffers */
    EXPECT_TRUE(p->mem_bytes <= 4 * 400000 + 256);
    EXPECT_TRUE(p->mem_bytes >= 2 * 400000);
    ASSERT_OK(eos_plan_run(p, &in, 1, &err));
    eos_tensor out = eos_plan_output(p, 0);
    const float *o = out.data;
    for (int i = 0; i < 100000; i += 997) {
        double v = in_data[i];
        for (int k = 0; k < 12; k++) v = k % 2 ? -v : 1 / (1 + exp(-v));
        EXPECT_NEAR(o[i], v, 1e-6);
    }
    eos_plan_free(p);
    eos_free(in_data);
    eos_graph_free(&g);
}

/* Shape -> Gather -> Unsqueeze -> Concat -> Reshape is folded at plan time. */
static void test_shape_subgraph_folds(void) {
    eos_graph g;
    eos_graph_init(&g);
    int64_t xd[4] = { -1, 3, 4, 5 }, one[1] = { 1 };
    int x = val(&g, "x", EOS_DTYPE_F32, 4, xd);
    int sh = val(&g, "sh", EOS_DTYPE_UNDEFINED, -1, NULL);
    int idx = val(&g, "idx", EOS_DTYPE_I64, 0, NULL);
    int64_t zero = 0, minus1[1] = { -1 };
    eos_graph_set_const(&g, idx, &zero, 8);
    int n0 = val(&g, "n0", EOS_DTYPE_UNDEFINED, -1, NULL);
    int ax = val(&g, "ax", EOS_DTYPE_I64, 1, one);
    eos_graph_set_const(&g, ax, &zero, 8);
    int n1 = val(&g, "n1", EOS_DTYPE_UNDEFINED, -1, NULL);
    int m1 = val(&g, "m1", EOS_DTYPE_I64, 1, one);
    eos_graph_set_const(&g, m1, minus1, 8);
    int shp = val(&g, "shp", EOS_DTYPE_UNDEFINED, -1, NULL);
    int y = val(&g, "y", EOS_DTYPE_UNDEFINED, -1, NULL);
    node(&g, EOS_OP_SHAPE, "shape", 1, &x, 1, &sh);
    node(&g, EOS_OP_GATHER, "gather", 2, (int[]){ sh, idx }, 1, &n0);
    node(&g, EOS_OP_UNSQUEEZE, "unsq", 2, (int[]){ n0, ax }, 1, &n1);
    int cc = node(&g, EOS_OP_CONCAT, "concat", 2, (int[]){ n1, m1 }, 1, &shp);
    eos_attr *a = eos_arena_alloc(&g.arena, sizeof *a);
    a->name = "axis";
    a->type = EOS_ATTR_INT;
    a->i = 0;
    a->tensor = -1;
    g.nodes[cc].attrs = a;
    g.nodes[cc].n_attrs = 1;
    node(&g, EOS_OP_RESHAPE, "reshape", 2, (int[]){ x, shp }, 1, &y);
    set_io(&g, 1, &x, 1, &y);
    eos_err err;
    eos_err_clear(&err);
    ASSERT_OK(eos_graph_toposort(&g, &err));
    float data[2 * 60];
    test_fill_uniform(data, 120, -1, 1, 3);
    eos_tensor in = { EOS_DTYPE_F32, 4, { 2, 3, 4, 5 }, data };
    eos_plan *p;
    eos_status st = eos_plan_create(&g, &in, 1, eos_backend_ref(), 1, &p, &err);
    if (st) fprintf(stderr, "  plan: %s\n", err.msg);
    ASSERT_OK(st);
    EXPECT_EQ_INT(p->g.n_nodes, 1); /* only the Reshape runs */
    ASSERT_OK(eos_plan_run(p, &in, 1, &err));
    eos_tensor out = eos_plan_output(p, 0);
    EXPECT_EQ_INT(out.ndim, 2);
    EXPECT_EQ_INT(out.dims[0], 2);
    EXPECT_EQ_INT(out.dims[1], 60);
    EXPECT_TRUE(memcmp(out.data, data, sizeof data) == 0);
    eos_plan_free(p);
    eos_graph_free(&g);
}

static void test_toposort_and_cycles(void) {
    eos_graph g;
    eos_graph_init(&g);
    int64_t d[1] = { 4 };
    int x = val(&g, "x", EOS_DTYPE_F32, 1, d);
    int a = val(&g, "a", EOS_DTYPE_UNDEFINED, -1, NULL), b = val(&g, "b", EOS_DTYPE_UNDEFINED, -1, NULL);
    /* declared out of order: b = relu(a) before a = neg(x) */
    node(&g, EOS_OP_RELU, "second", 1, &a, 1, &b);
    node(&g, EOS_OP_NEG, "first", 1, &x, 1, &a);
    set_io(&g, 1, &x, 1, &b);
    eos_err err;
    eos_err_clear(&err);
    ASSERT_OK(eos_graph_toposort(&g, &err));
    EXPECT_STR_EQ(g.nodes[0].name, "first");
    /* now make a cycle: first reads b */
    g.nodes[0].in[0] = b;
    EXPECT_STATUS(eos_graph_toposort(&g, &err), EOS_PARSE);
    EXPECT_TRUE(strstr(err.msg, "cycle") != NULL);
    /* an undefined input */
    int ghost = val(&g, "ghost", EOS_DTYPE_F32, 1, d);
    g.nodes[0].in[0] = ghost;
    EXPECT_STATUS(eos_graph_toposort(&g, &err), EOS_PARSE);
    EXPECT_TRUE(strstr(err.msg, "ghost") != NULL);
    eos_graph_free(&g);
}

TEST_MAIN(TEST(test_bn_fold_and_fusion), TEST(test_wrong_input_shape), TEST(test_memory_reuse),
          TEST(test_shape_subgraph_folds), TEST(test_toposort_and_cycles))
