/*
 * tests/onnx/test_onnx_write.c - the ONNX writer (src/onnx/onnx_write.h).
 *
 * Round trips, three ways:
 *   - numerically: every architecture of src/train/arch.h (small widths), with random BN
 *     statistics and biases so that a swapped input would show, is run once as built (a plan on
 *     the reference back-end, BN not folded) and once written, loaded with
 *     eos_model_load_from_memory (BN folded, Dropout removed) and run in a session; on the
 *     reference back-end the outputs agree to 1e-5 of their scale, on dnnl to 1e-4;
 *   - structurally: the bytes read back with the importer give the same graph (node and value
 *     order, names, op types, attributes with their types and values, constant bits), and
 *     writing that graph again gives the same bytes;
 *   - on imported models: every golden model of tests/data/models is read, written, read back
 *     and run; the outputs are bit-identical to the original model's.
 * Plus metadata (given keys win over the graph's, one entry per key), symbolic dims, every
 * attribute kind, file writing through .part + rename, and refusals (fused nodes, bad args).
 */
#include "common/test.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/onnx_builder.h"
#include "graph/build.h"
#include "graph/plan.h"
#include "onnx/onnx.h"
#include "onnx/onnx_write.h"
#include "train/arch.h"

/* ------------------------------------------------------------------ helpers */

static float frand(uint64_t *s, float lo, float hi) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return lo + (hi - lo) * (float)((*s >> 40) & 0xffffff) / 16777216.0f;
}

static void fill(const eos_graph *g, int v, uint64_t *s, float lo, float hi) {
    if (v < 0) return;
    float *d = g->values[v].data;
    for (int64_t i = 0; i < eos_value_numel(&g->values[v]); i++) d[i] = frand(s, lo, hi);
}

/* BN scale/shift/mean/var and every bias random, so each lands where it must. */
static void randomize(eos_graph *g, uint64_t seed) {
    uint64_t s = seed;
    for (int i = 0; i < g->n_nodes; i++) {
        const eos_node *n = &g->nodes[i];
        if (n->op == EOS_OP_BATCH_NORM) {
            fill(g, n->in[1], &s, 0.5f, 1.5f);
            fill(g, n->in[2], &s, -0.5f, 0.5f);
            fill(g, n->in[3], &s, -0.5f, 0.5f);
            fill(g, n->in[4], &s, 0.5f, 2.0f);
        } else if ((n->op == EOS_OP_CONV || n->op == EOS_OP_CONV_TRANSPOSE || n->op == EOS_OP_GEMM) &&
                   n->n_in > 2) {
            fill(g, n->in[2], &s, -0.2f, 0.2f);
        }
    }
}

/* y's data copied into a new buffer (caller frees); *t gets y's shape with that buffer. */
static float *copy_out(eos_tensor y, eos_tensor *t) {
    size_t nb = (size_t)eos_tensor_numel(&y) * sizeof(float);
    float *d = eos_malloc(nb ? nb : 1);
    if (nb) memcpy(d, y.data, nb);
    *t = y;
    t->data = d;
    return d;
}

static float *run_graph(const eos_graph *g, const eos_tensor *x, eos_tensor *t) {
    eos_plan *p = NULL;
    eos_err err = { 0 };
    eos_status st = eos_plan_create(g, x, 1, eos_backend_ref(), 1, &p, &err);
    if (st == EOS_OK) st = eos_plan_run(p, x, 1, &err);
    float *d = NULL;
    if (st != EOS_OK) TEST_FAIL_("builder graph on ref: %s: %s", eos_status_name(st), err.msg);
    else d = copy_out(eos_plan_output(p, 0), t);
    eos_plan_free(p);
    return d;
}

static float *run_model(const eos_model *m, eos_backend_kind be, const eos_tensor *x, eos_tensor *t) {
    eos_session_params sp = eos_session_default_params();
    sp.backend = be;
    sp.n_threads = 2;
    eos_session *s = NULL;
    float *d = NULL;
    if (eos_session_create(m, &sp, &s) != EOS_OK) {
        TEST_FAIL_("session on %s", eos_backend_name(be));
        return NULL;
    }
    eos_tensor y;
    if (eos_session_run(s, x, 1) != EOS_OK)
        TEST_FAIL_("run on %s: %s", eos_backend_name(be), eos_session_errmsg(s));
    else if (eos_session_output(s, 0, &y) == EOS_OK) d = copy_out(y, t);
    eos_session_free(s);
    return d;
}

static bool has_bytes(const uint8_t *buf, size_t len, const char *s) {
    size_t n = strlen(s);
    for (size_t i = 0; i + n <= len; i++)
        if (!memcmp(buf + i, s, n)) return true;
    return false;
}

static double max_abs(const float *a, int64_t n) {
    double m = 0;
    for (int64_t i = 0; i < n; i++) m = fabs(a[i]) > m ? fabs(a[i]) : m;
    return m;
}

static double max_diff(const float *a, const float *b, int64_t n) {
    double m = 0;
    for (int64_t i = 0; i < n; i++) m = fabs((double)a[i] - b[i]) > m ? fabs((double)a[i] - b[i]) : m;
    return m;
}

/* ------------------------------------------------------------------ structural comparison */

static const char *vname(const eos_graph *g, int v) { return v < 0 ? "" : g->values[v].name; }

static bool same_attr(const eos_attr *a, const eos_attr *b) {
    if (strcmp(a->name, b->name) || a->type != b->type) return false;
    switch (a->type) {
    case EOS_ATTR_INT: return a->i == b->i;
    case EOS_ATTR_FLOAT: return !memcmp(&a->f, &b->f, sizeof a->f);
    case EOS_ATTR_STRING: return !strcmp(a->s, b->s);
    case EOS_ATTR_INTS:
        return a->n == b->n && (!a->n || !memcmp(a->ints, b->ints, (size_t)a->n * 8));
    case EOS_ATTR_FLOATS:
        return a->n == b->n && (!a->n || !memcmp(a->floats, b->floats, (size_t)a->n * 4));
    case EOS_ATTR_STRINGS:
        if (a->n != b->n) return false;
        for (int64_t i = 0; i < a->n; i++)
            if (strcmp(a->strings[i], b->strings[i])) return false;
        return true;
    case EOS_ATTR_TENSOR: {
        if (a->t_dtype != b->t_dtype || a->t_ndim != b->t_ndim) return false;
        int64_t n = 1;
        for (int i = 0; i < a->t_ndim; i++) {
            if (a->t_dims[i] != b->t_dims[i]) return false;
            n *= a->t_dims[i];
        }
        return !memcmp(a->t_data, b->t_data, (size_t)n * eos_dtype_size(a->t_dtype));
    }
    default: return true;
    }
}

static bool same_value(const eos_value *a, const eos_value *b) {
    if (strcmp(a->name, b->name) || a->ndim != b->ndim) return false;
    if (a->dtype != b->dtype && a->dtype != EOS_DTYPE_UNDEFINED) return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->dims[i] != b->dims[i]) return false;
    if (!a->data != !b->data) return false;
    return !a->data || !memcmp(a->data, b->data, (size_t)eos_value_numel(a) * eos_dtype_size(a->dtype));
}

/* a (built or imported) and b (a's bytes read back) describe the same network. */
static void expect_same_graph(const eos_graph *a, const eos_graph *b) {
    ASSERT_EQ_INT(b->n_nodes, a->n_nodes);
    ASSERT_EQ_INT(b->n_inputs, a->n_inputs);
    ASSERT_EQ_INT(b->n_outputs, a->n_outputs);
    EXPECT_EQ_INT(b->opset, a->opset);
    for (int i = 0; i < a->n_nodes; i++) {
        const eos_node *x = &a->nodes[i], *y = &b->nodes[i];
        if (x->op != y->op || strcmp(x->name, y->name) || strcmp(x->op_type, y->op_type) ||
            x->n_in != y->n_in || x->n_out != y->n_out || x->n_attrs != y->n_attrs) {
            TEST_FAIL_("node %d: '%s' (%s) became '%s' (%s)", i, x->name, x->op_type, y->name,
                       y->op_type);
            return;
        }
        for (int k = 0; k < x->n_in; k++) {
            if (strcmp(vname(a, x->in[k]), vname(b, y->in[k])))
                TEST_FAIL_("node '%s' input %d: '%s' vs '%s'", x->name, k, vname(a, x->in[k]),
                           vname(b, y->in[k]));
            if (x->in[k] >= 0 && !same_value(&a->values[x->in[k]], &b->values[y->in[k]]))
                TEST_FAIL_("node '%s' input '%s' differs", x->name, vname(a, x->in[k]));
        }
        for (int k = 0; k < x->n_out; k++)
            if (strcmp(vname(a, x->out[k]), vname(b, y->out[k])))
                TEST_FAIL_("node '%s' output %d: '%s' vs '%s'", x->name, k, vname(a, x->out[k]),
                           vname(b, y->out[k]));
        for (int k = 0; k < x->n_attrs; k++)
            if (!same_attr(&x->attrs[k], &y->attrs[k]))
                TEST_FAIL_("node '%s' attribute '%s' differs", x->name, x->attrs[k].name);
    }
    for (int i = 0; i < a->n_inputs; i++)
        EXPECT_TRUE(same_value(&a->values[a->inputs[i]], &b->values[b->inputs[i]]));
    for (int i = 0; i < a->n_outputs; i++)
        EXPECT_TRUE(same_value(&a->values[a->outputs[i]], &b->values[b->outputs[i]]));
}

/* Write g, read the bytes back, compare, write again: same bytes. Returns the first bytes
 * (caller frees) or NULL. */
static uint8_t *write_and_check(const eos_graph *g, const char *const *keys, const char *const *vals,
                                int n_meta, size_t *len) {
    eos_err err = { 0 };
    uint8_t *buf = NULL;
    eos_status st = eos__onnx_write(g, keys, vals, n_meta, "eosight-test", &buf, len, &err);
    if (st != EOS_OK) {
        TEST_FAIL_("eos__onnx_write: %s: %s", eos_status_name(st), err.msg);
        return NULL;
    }
    eos_graph g2;
    eos_graph_init(&g2);
    st = eos_onnx_parse(buf, *len, NULL, &g2, &err);
    if (st == EOS_OK) st = eos_graph_toposort(&g2, &err);
    if (st != EOS_OK) {
        TEST_FAIL_("reading the written bytes: %s: %s", eos_status_name(st), err.msg);
    } else {
        expect_same_graph(g, &g2);
        uint8_t *buf2 = NULL;
        size_t len2 = 0;
        EXPECT_OK(eos__onnx_write(&g2, NULL, NULL, 0, "eosight-test", &buf2, &len2, &err));
        EXPECT_EQ_INT(len2, *len);
        EXPECT_TRUE(buf2 && len2 == *len && !memcmp(buf, buf2, *len));
        eos_free(buf2);
    }
    eos_graph_free(&g2);
    return buf;
}

/* ------------------------------------------------------------------ architectures */

static void roundtrip_arch(const eos_arch *a, int64_t n, int64_t h, int64_t w) {
    eos_graph g;
    eos_graph_init(&g);
    eos_err err = { 0 };
    if (eos__arch_build(a, 9, &g, &err) != EOS_OK) {
        TEST_FAIL_("build %s: %s", eos_arch_name(a->kind), err.msg);
        eos_graph_free(&g);
        return;
    }
    randomize(&g, 1234);
    static const char *const keys[] = { "eosight.task", "eosight.input_size", "eosight.classes" };
    static const char *const vals[] = { "classification", "99,99", "a,b,c" };
    size_t len = 0;
    uint8_t *buf = write_and_check(&g, keys, vals, 3, &len);
    int64_t numel = n * a->in_ch * h * w;
    float *x = eos_malloc((size_t)numel * sizeof(float));
    test_fill_uniform(x, numel, -1, 1, 77);
    eos_tensor in = { EOS_DTYPE_F32, 4, { n, a->in_ch, h, w }, x };
    eos_tensor t_ref, t;
    float *ref = run_graph(&g, &in, &t_ref);
    eos_ctx *ctx = NULL;
    eos_model *m = NULL;
    EXPECT_OK(eos_ctx_create(NULL, &ctx));
    if (buf && ctx && eos_model_load_from_memory(ctx, buf, len, NULL, &m) != EOS_OK)
        TEST_FAIL_("loading the written %s: %s", eos_arch_name(a->kind), eos_ctx_errmsg(ctx));
    if (m && ref) {
        EXPECT_STR_EQ(eos_model_meta(m, "eosight.task"), "classification");
        EXPECT_STR_EQ(eos_model_meta(m, "eosight.input_size"), "99,99");   /* the given one wins */
        EXPECT_STR_EQ(eos_model_meta(m, "eosight.classes"), "a,b,c");
        EXPECT_EQ_INT(eos_model_n_meta(m), 3);
        EXPECT_TRUE(eos_model_n_nodes(m) < g.n_nodes);   /* BN folded at load */
        double scale = max_abs(ref, eos_tensor_numel(&t_ref));
        scale = scale > 1 ? scale : 1;
        for (int be = EOS_BACKEND_REF; be <= EOS_BACKEND_DNNL; be++) {
            if (!eos_backend_available((eos_backend_kind)be)) continue;
            float *y = run_model(m, (eos_backend_kind)be, &in, &t);
            if (!y) continue;
            EXPECT_TRUE(eos_tensor_same_shape(&t, &t_ref));
            double d = max_diff(y, ref, eos_tensor_numel(&t_ref)) / scale;
            double tol = be == EOS_BACKEND_REF ? 1e-5 : 1e-4;
            if (!(d <= tol))
                TEST_FAIL_("%s on %s: max |diff| / scale = %.3g (scale %.3g), tolerance %g",
                           eos_arch_name(a->kind), eos_backend_name((eos_backend_kind)be), d, scale,
                           tol);
            eos_free(y);
        }
    }
    eos_model_free(m);
    eos_ctx_free(ctx);
    eos_free(ref);
    eos_free(x);
    eos_free(buf);
    eos_graph_free(&g);
}

static void test_resnets(void) {
    eos_arch a;
    eos_arch_default(&a, EOS_ARCH_RESNET18);
    a.width = 8;
    a.stem = EOS_STEM_S2;
    a.n_classes = 5;
    roundtrip_arch(&a, 2, 32, 32);
    eos_arch_default(&a, EOS_ARCH_RESNET34);
    a.width = 4;
    a.in_ch = 13;
    roundtrip_arch(&a, 1, 64, 48);
    eos_arch_default(&a, EOS_ARCH_RESNET50);
    a.width = 4;
    a.stem = EOS_STEM_S1;
    a.dropout = 0.3f;
    roundtrip_arch(&a, 2, 16, 16);
}

static void test_unets(void) {
    eos_arch a;
    eos_arch_default(&a, EOS_ARCH_UNET);
    a.base = 4;
    a.depth = 3;
    a.n_classes = 6;
    roundtrip_arch(&a, 2, 32, 24);
    a.bilinear = true;
    a.const_width = true;
    a.in_ch = 5;
    roundtrip_arch(&a, 1, 16, 40);
}

static void test_cloudnet(void) {
    eos_arch a;
    eos_arch_default(&a, EOS_ARCH_CLOUDNET);
    a.n_classes = 2;
    a.dropout = 0.2f;
    roundtrip_arch(&a, 3, 64, 64);
}

/* ------------------------------------------------------------------ metadata, dims, attributes */

static void test_meta_merge(void) {
    eos_graph g;
    eos_graph_init(&g);
    eos__gb b;
    eos__gb_init(&b, &g, 13, NULL);
    int x = eos__gb_input(&b, "x", EOS_DTYPE_F32, 3, (const int64_t[]){ -1, 7, -1 });
    eos__gb_name_next(&b, "y");
    x = eos__gb_relu(&b, "r", x);
    eos__gb_output(&b, x, EOS_DTYPE_F32, 3, (const int64_t[]){ -1, 7, -1 });
    eos__gb_meta(&b, "k1", "graph1");
    eos__gb_meta(&b, "k2", "graph2");
    ASSERT_OK(b.st);
    static const char *const keys[] = { "k3", "k2", "k3", "" };
    static const char *const vals[] = { "given3a", "given2", "given3b", "empty key" };
    size_t len;
    uint8_t *buf = write_and_check(&g, keys, vals, 4, &len);
    eos_ctx *ctx = NULL;
    eos_model *m = NULL;
    EXPECT_OK(eos_ctx_create(NULL, &ctx));
    if (buf && ctx) EXPECT_OK(eos_model_load_from_memory(ctx, buf, len, NULL, &m));
    if (m) {
        EXPECT_EQ_INT(eos_model_n_meta(m), 4);
        const char *k, *v;
        EXPECT_OK(eos_model_meta_at(m, 0, &k, &v));
        EXPECT_STR_EQ(k, "k1");
        EXPECT_STR_EQ(v, "graph1");
        EXPECT_OK(eos_model_meta_at(m, 1, &k, &v));
        EXPECT_STR_EQ(k, "k2");
        EXPECT_STR_EQ(v, "given2");
        EXPECT_OK(eos_model_meta_at(m, 2, &k, &v));
        EXPECT_STR_EQ(k, "k3");
        EXPECT_STR_EQ(v, "given3b");
        EXPECT_STR_EQ(eos_model_meta(m, ""), "empty key");
        eos_io_info io;
        EXPECT_OK(eos_model_input_info(m, 0, &io));
        EXPECT_TRUE(io.ndim == 3 && io.dims[0] == -1 && io.dims[1] == 7 && io.dims[2] == -1);
        EXPECT_OK(eos_model_output_info(m, 0, &io));
        EXPECT_STR_EQ(io.name, "y");
        EXPECT_TRUE(io.ndim == 3 && io.dims[0] == -1 && io.dims[1] == 7 && io.dims[2] == -1);
    }
    /* opset 13 kept; symbolic names as documented */
    if (buf) {
        EXPECT_TRUE(has_bytes(buf, len, "d0_2"));
        EXPECT_TRUE(has_bytes(buf, len, "o0_2"));
        EXPECT_TRUE(has_bytes(buf, len, "eosight-test"));
    }
    eos_model_free(m);
    eos_ctx_free(ctx);
    eos_free(buf);
    eos_graph_free(&g);
}

/* Every attribute kind, negative ints, an empty list, a TENSOR attribute and an anonymous
 * constant, through the importer's own reading of onnx_builder bytes. */
static void test_attr_kinds(void) {
    onnxb *ob = onnxb_new(17);
    ASSERT_TRUE(ob != NULL);
    onnxb_input(ob, "x", EOS_DTYPE_F32, 2, (const int64_t[]){ 3, 4 });
    int n = onnxb_node(ob, "Relu", "r", ONNXB_NAMES("x"), ONNXB_NAMES("y"));
    onnxb_attr_int(ob, n, "neg", -5);
    onnxb_attr_float(ob, n, "f", -0.0f);
    onnxb_attr_string(ob, n, "s", "caf\xc3\xa9");
    onnxb_attr_string(ob, n, "empty", "");
    onnxb_attr_ints(ob, n, "is", 3, (const int64_t[]){ -1, 0, INT64_MAX });
    onnxb_attr_ints(ob, n, "none", 0, NULL);
    onnxb_attr_floats(ob, n, "fs", 2, (const float[]){ 1.5f, -2.25f });
    onnxb_attr_strings(ob, n, "ss", 2, (const char *const[]){ "a", "" });
    int64_t shape[2] = { 3, 4 };
    onnxb_init_i64(ob, "shape", 1, (const int64_t[]){ 2 }, shape);
    n = onnxb_node(ob, "ConstantOfShape", "cos", ONNXB_NAMES("shape"), ONNXB_NAMES("c"));
    onnxb_attr_tensor(ob, n, "value", EOS_DTYPE_F32, 1, (const int64_t[]){ 1 },
                      (const float[]){ 2.5f });
    onnxb_node(ob, "Add", "add", ONNXB_NAMES("y", "c"), ONNXB_NAMES("z"));
    onnxb_output(ob, "z", EOS_DTYPE_F32, 2, (const int64_t[]){ 3, 4 });
    void *bytes;
    size_t size;
    ASSERT_OK(onnxb_finish(ob, &bytes, &size));
    onnxb_free(ob);
    eos_graph g;
    eos_graph_init(&g);
    eos_err err = { 0 };
    EXPECT_OK(eos_onnx_parse(bytes, size, NULL, &g, &err));
    EXPECT_OK(eos_graph_toposort(&g, &err));
    eos_free(bytes);
    size_t len;
    uint8_t *buf = write_and_check(&g, NULL, NULL, 0, &len);
    eos_free(buf);
    eos_graph_free(&g);
}

/* Values without names: a constant that a node reads gets "eos_anon_<id>", an unused anonymous
 * output stays "" (an omitted optional output). */
static void test_anonymous(void) {
    eos_graph g;
    eos_graph_init(&g);
    eos__gb b;
    eos__gb_init(&b, &g, 17, NULL);
    int x = eos__gb_input(&b, "x", EOS_DTYPE_F32, 1, (const int64_t[]){ 3 });
    ASSERT_OK(b.st);
    int c = eos_graph_add_value(&g, "");
    ASSERT_TRUE(c >= 0);
    g.values[c].dtype = EOS_DTYPE_F32;
    g.values[c].ndim = 1;
    g.values[c].dims[0] = 3;
    ASSERT_OK(eos_graph_set_const(&g, c, (const float[]){ 1, 2, 3 }, 3 * sizeof(float)));
    eos__gb_name_next(&b, "y");
    int n = eos__gb_node(&b, EOS_OP_ADD, "add", (const int[]){ x, c }, 2);
    eos__gb_output(&b, eos__gb_out(&b, n), EOS_DTYPE_F32, 1, (const int64_t[]){ 3 });
    n = eos_graph_add_node(&g, EOS_OP_DROPOUT, 1, 2);   /* second output unused, anonymous */
    ASSERT_TRUE(n >= 0);
    g.nodes[n].in[0] = x;
    g.nodes[n].out[0] = eos_graph_add_value(&g, "z");
    g.nodes[n].out[1] = eos_graph_add_value(&g, "");
    g.nodes[n].name = "drop";
    g.nodes[n].op_type = "Dropout";
    ASSERT_OK(b.st);
    eos_err err = { 0 };
    ASSERT_OK(eos_graph_toposort(&g, &err));
    uint8_t *buf = NULL;
    size_t len = 0;
    ASSERT_OK(eos__onnx_write(&g, NULL, NULL, 0, NULL, &buf, &len, &err));
    eos_graph g2;
    eos_graph_init(&g2);
    EXPECT_OK(eos_onnx_parse(buf, len, NULL, &g2, &err));
    int v = eos_graph_find_value(&g2, "eos_anon_1");
    EXPECT_TRUE(v >= 0 && (g2.values[v].flags & EOS_VAL_CONST) && g2.values[v].dims[0] == 3);
    if (v >= 0) EXPECT_NEAR(((const float *)g2.values[v].data)[2], 3, 0);
    ASSERT_EQ_INT(g2.n_nodes, 2);
    EXPECT_EQ_INT(g2.nodes[0].in[1], v);
    EXPECT_EQ_INT(g2.nodes[1].n_out, 2);
    EXPECT_STR_EQ(g2.values[g2.nodes[1].out[1]].name, "");
    eos_graph_free(&g2);
    eos_free(buf);
    eos_graph_free(&g);
}

/* ------------------------------------------------------------------ imported golden models */

static uint8_t *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n > 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = eos_malloc((size_t)n)) &&
            fread(buf, 1, (size_t)n, f) != (size_t)n) {
            eos_free(buf);
            buf = NULL;
        }
        *len = (size_t)n;
    }
    fclose(f);
    return buf;
}

/* Run a model (bytes) on the ref back-end; outputs copied into outs (caller frees data). */
static int run_all_outputs(eos_ctx *ctx, const uint8_t *buf, size_t len, const eos_tensor *in,
                           eos_tensor *outs, int max_out) {
    eos_model *m = NULL;
    if (eos_model_load_from_memory(ctx, buf, len, NULL, &m) != EOS_OK) {
        TEST_FAIL_("load: %s", eos_ctx_errmsg(ctx));
        return 0;
    }
    eos_session_params sp = eos_session_default_params();
    sp.backend = EOS_BACKEND_REF;
    sp.n_threads = 1;
    eos_session *s = NULL;
    int n = 0;
    if (eos_session_create(m, &sp, &s) == EOS_OK && eos_session_run(s, in, 1) == EOS_OK) {
        for (; n < eos_model_n_outputs(m) && n < max_out; n++) {
            eos_tensor y;
            eos_session_output(s, n, &y);
            size_t nb = (size_t)eos_tensor_numel(&y) * eos_dtype_size(y.dtype);
            outs[n] = y;
            outs[n].data = eos_malloc(nb ? nb : 1);
            if (nb) memcpy(outs[n].data, y.data, nb);
        }
    } else {
        TEST_FAIL_("run: %s", s ? eos_session_errmsg(s) : "no session");
    }
    eos_session_free(s);
    eos_model_free(m);
    return n;
}

static void roundtrip_golden(eos_ctx *ctx, const char *dir) {
    char path[1100];
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    size_t size = 0;
    uint8_t *orig = read_all(path, &size);
    snprintf(path, sizeof path, "%s/input.npy", dir);
    eos_tensor in;
    char msg[256];
    if (!orig || eos_npy_read(path, &in, msg, sizeof msg) != EOS_OK) {
        eos_free(orig);
        return;   /* a case with several inputs: not this test's business */
    }
    eos_graph g;
    eos_graph_init(&g);
    eos_err err = { 0 };
    EXPECT_OK(eos_onnx_parse(orig, size, NULL, &g, &err));
    EXPECT_OK(eos_graph_toposort(&g, &err));
    size_t len = 0;
    uint8_t *buf = err.status ? NULL : write_and_check(&g, NULL, NULL, 0, &len);
    if (buf) {
        eos_tensor a[8], b[8];
        int na = run_all_outputs(ctx, orig, size, &in, a, 8);
        int nb = run_all_outputs(ctx, buf, len, &in, b, 8);
        EXPECT_EQ_INT(na, nb);
        for (int i = 0; i < na && i < nb; i++) {
            size_t bytes = (size_t)eos_tensor_numel(&a[i]) * eos_dtype_size(a[i].dtype);
            if (!eos_tensor_same_shape(&a[i], &b[i]) || a[i].dtype != b[i].dtype ||
                memcmp(a[i].data, b[i].data, bytes))
                TEST_FAIL_("%s: output %d differs after the round trip", dir, i);
        }
        for (int i = 0; i < na; i++) eos_free(a[i].data);
        for (int i = 0; i < nb; i++) eos_free(b[i].data);
    } else {
        TEST_FAIL_("%s: %s", dir, err.msg);
    }
    eos_free(buf);
    eos_free(in.data);
    eos_free(orig);
    eos_graph_free(&g);
}

static void test_golden_models(void) {
    char root[512];
    snprintf(root, sizeof root, "%.400s/models", test_data_dir());
    DIR *d = opendir(root);
    if (!d) TEST_SKIP("no %.200s", root);
    eos_ctx *ctx = NULL;
    EXPECT_OK(eos_ctx_create(NULL, &ctx));
    struct dirent *e;
    int n = 0;
    while (ctx && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char dir[1024];
        struct stat st;
        snprintf(dir, sizeof dir, "%s/%.256s", root, e->d_name);
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) continue;
        roundtrip_golden(ctx, dir);
        n++;
    }
    closedir(d);
    eos_ctx_free(ctx);
    EXPECT_TRUE(n >= 5);
}

/* ------------------------------------------------------------------ files and refusals */

static void small_graph(eos_graph *g) {
    eos_graph_init(g);
    eos__gb b;
    eos__gb_init(&b, g, 17, NULL);
    int x = eos__gb_input(&b, "x", EOS_DTYPE_F32, 4, (const int64_t[]){ 1, 2, 4, 4 });
    x = eos__gb_conv(&b, "c", x, 2, 3, 3, 1, 1, true);
    eos__gb_name_next(&b, "y");
    x = eos__gb_relu(&b, "r", x);
    eos__gb_output(&b, x, EOS_DTYPE_F32, 4, (const int64_t[]){ 1, 3, 4, 4 });
    EXPECT_OK(b.st);
}

static void test_write_file(void) {
    char dir[256], path[512], part[520];
    test_tmpdir_create(dir, sizeof dir, "onnxw");
    snprintf(path, sizeof path, "%s/m.onnx", dir);
    snprintf(part, sizeof part, "%s.part", path);
    eos_graph g;
    small_graph(&g);
    eos_err err = { 0 };
    EXPECT_OK(eos__onnx_write_file(&g, NULL, NULL, 0, NULL, path, &err));
    EXPECT_TRUE(access(part, F_OK) != 0);
    eos_ctx *ctx = NULL;
    eos_model *m = NULL;
    EXPECT_OK(eos_ctx_create(NULL, &ctx));
    if (ctx) EXPECT_OK(eos_model_load(ctx, path, &m));
    if (m) EXPECT_EQ_INT(eos_model_n_nodes(m), 2);
    eos_model_free(m);
    eos_ctx_free(ctx);
    snprintf(path, sizeof path, "%s/missing/m.onnx", dir);
    EXPECT_STATUS(eos__onnx_write_file(&g, NULL, NULL, 0, NULL, path, &err), EOS_IO);
    EXPECT_TRUE(strstr(err.msg, "missing/m.onnx.part") != NULL);
    eos_graph_free(&g);
    test_tmpdir_remove(dir);
}

static void test_refusals(void) {
    eos_graph g;
    small_graph(&g);
    eos_err err = { 0 };
    uint8_t *buf = (uint8_t *)&err;
    size_t len = 5;
    g.nodes[0].fuse.act = EOS_ACT_RELU;
    EXPECT_STATUS(eos__onnx_write(&g, NULL, NULL, 0, NULL, &buf, &len, &err), EOS_UNSUPPORTED);
    EXPECT_TRUE(buf == NULL && len == 0);
    EXPECT_TRUE(strstr(err.msg, "'c'") && strstr(err.msg, "fused"));
    g.nodes[0].fuse.act = EOS_ACT_NONE;
    EXPECT_STATUS(eos__onnx_write(NULL, NULL, NULL, 0, NULL, &buf, &len, &err), EOS_INVALID_ARG);
    EXPECT_STATUS(eos__onnx_write(&g, NULL, NULL, 2, NULL, &buf, &len, &err), EOS_INVALID_ARG);
    /* an output without a declared type is written as a name only (ValueInfo without type) */
    g.values[g.outputs[0]].dtype = EOS_DTYPE_UNDEFINED;
    EXPECT_OK(eos__onnx_write(&g, NULL, NULL, 0, NULL, &buf, &len, &err));
    eos_free(buf);
    /* allocation failures are reported, never crash */
    g.values[g.outputs[0]].dtype = EOS_DTYPE_F32;
    for (int k = 0; k < 6; k++) {
        eos_alloc_fail_after(k);
        eos_status st = eos__onnx_write(&g, NULL, NULL, 0, NULL, &buf, &len, &err);
        eos_alloc_fail_after(-1);
        EXPECT_TRUE(st == EOS_NOMEM || st == EOS_OK);
        if (st == EOS_OK) eos_free(buf);
    }
    eos_graph_free(&g);
}

TEST_MAIN(TEST(test_resnets), TEST(test_unets), TEST(test_cloudnet), TEST(test_meta_merge),
          TEST(test_attr_kinds), TEST(test_anonymous), TEST(test_golden_models), TEST(test_write_file), TEST(test_refusals))
