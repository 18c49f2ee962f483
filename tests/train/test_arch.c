/*
 * tests/train/test_arch.c - the model builders (src/train/arch.h): parameter counts and MACs
 * against PyTorch's (torchvision resnet18/34/50, ../shared/bench/models.py's UNet, a PyTorch
 * transcription of CloudNet; the figures were computed with torch and models.count_macs), the
 * graph contract (names, input/output, ops, attributes as the importer writes them),
 * initialisation statistics and determinism, argument checks, and forward passes of small
 * variants through the reference back-end.
 */
#include "common/test.h"

#include "graph/build.h"
#include "graph/plan.h"
#include "ops/ops.h"
#include "train/arch.h"

static eos_arch arch_of(eos_arch_kind kind, int n_classes) {
    eos_arch a;
    eos_arch_default(&a, kind);
    a.n_classes = n_classes;
    return a;
}

/* Build a into g; fails the test (returns false) with the builder's message on error. */
static bool build(const eos_arch *a, uint64_t seed, eos_graph *g) {
    eos_err err = { 0 };
    eos_graph_init(g);
    eos_status st = eos__arch_build(a, seed, g, &err);
    if (st != EOS_OK) {
        TEST_FAIL_("eos__arch_build(%s): %s: %s", eos_arch_name(a->kind), eos_status_name(st), err.msg);
        eos_graph_free(g);
        return false;
    }
    return true;
}

static int value_named(const eos_graph *g, const char *name) { return eos_graph_find_value(g, name); }

/* ------------------------------------------------------------------ names and defaults */

static void test_names(void) {
    for (int k = EOS_ARCH_RESNET18; k <= EOS_ARCH_CLOUDNET; k++) {
        eos_arch_kind got = (eos_arch_kind)-1;
        EXPECT_OK(eos_arch_parse(eos_arch_name((eos_arch_kind)k), &got));
        EXPECT_EQ_INT(got, k);
    }
    eos_arch_kind got;
    EXPECT_OK(eos_arch_parse("ResNet50", &got));
    EXPECT_EQ_INT(got, EOS_ARCH_RESNET50);
    EXPECT_STR_EQ(eos_arch_name(EOS_ARCH_UNET), "unet");
    EXPECT_STATUS(eos_arch_parse("resnet101", &got), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_arch_parse("", &got), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_arch_parse(NULL, &got), EOS_INVALID_ARG);
    EXPECT_STR_EQ(eos_arch_name((eos_arch_kind)42), "?");
}

static void test_defaults(void) {
    eos_arch a;
    eos_arch_default(&a, EOS_ARCH_RESNET18);
    EXPECT_EQ_INT(a.in_ch, 3);
    EXPECT_EQ_INT(a.n_classes, 10);
    EXPECT_EQ_INT(a.in_h, 64);
    EXPECT_EQ_INT(a.in_w, 64);
    EXPECT_EQ_INT(a.stem, EOS_STEM_IMAGENET);
    EXPECT_EQ_INT(a.width, 64);
    EXPECT_EQ_INT(a.depth, 4);
    EXPECT_EQ_INT(a.base, 64);
    EXPECT_TRUE(!a.bilinear && !a.const_width && !a.zero_init_residual && a.dropout == 0.0f);
    eos_arch_default(&a, EOS_ARCH_CLOUDNET);
    EXPECT_EQ_INT(a.width, 16);
}

/* ------------------------------------------------------------------ counts against PyTorch */

/* Parameter count of a from the structure walk, and (full) of the built graph. */
static void expect_params_(const eos_arch *a, int64_t want, bool full) {
    int64_t got = eos__arch_params(a);
    if (got != want)
        TEST_FAIL_("%s (width %d, base %d, %d classes): %lld parameters, PyTorch has %lld",
                   eos_arch_name(a->kind), a->width, a->base, a->n_classes, (long long)got,
                   (long long)want);
    eos_graph g;
    if (!full || !build(a, 1, &g)) return;
    EXPECT_EQ_INT(eos__arch_n_params(&g), want);
    eos_graph_free(&g);
}

static void expect_params(const eos_arch *a, int64_t want) { expect_params_(a, want, false); }

static void test_resnet_params(void) {
    eos_arch a = arch_of(EOS_ARCH_RESNET18, 1000);
    expect_params(&a, 11689512);             /* torchvision resnet18 */
    a.kind = EOS_ARCH_RESNET34;
    expect_params(&a, 21797672);
    a.kind = EOS_ARCH_RESNET50;
    expect_params_(&a, 25557032, true);      /* and the graph really built */
    a = arch_of(EOS_ARCH_RESNET18, 10);
    expect_params(&a, 11181642);             /* models.py resnet18_64 */
    a.in_ch = 13;
    expect_params(&a, 11213002);             /* resnet18_64_13ch */
    a.in_ch = 3;
    a.stem = EOS_STEM_S2;                    /* conv1 3x3: 64*3*9 instead of 64*3*49 */
    expect_params(&a, 11173962);
}

static void test_unet_params(void) {
    eos_arch a = arch_of(EOS_ARCH_UNET, 6);
    a.base = 32;
    expect_params_(&a, 7763206, true);       /* models.py unet_256 */
    a.bilinear = true;
    expect_params(&a, 7240966);              /* UNet(3, 6, 32, up="bilinear") */
    a = arch_of(EOS_ARCH_UNET, 3);
    a.in_ch = 4;
    a.base = 16;
    expect_params(&a, 1942755);              /* UNet(4, 3, 16) */
}

static void test_cloudnet_params(void) {
    eos_arch a = arch_of(EOS_ARCH_CLOUDNET, 10);
    expect_params_(&a, 98970, true);
    a.n_classes = 0;
    EXPECT_EQ_INT(eos__arch_params(&a), -1);
}

static void expect_macs(const eos_arch *a, double want) {
    double got = eos__arch_macs(a);
    if (got != want)
        TEST_FAIL_("%s at %dx%d: %.0f MACs, PyTorch count %.0f", eos_arch_name(a->kind), a->in_h,
                   a->in_w, got, want);
}

static void test_macs(void) {
    eos_arch a = arch_of(EOS_ARCH_RESNET18, 1000);
    a.in_h = a.in_w = 224;
    expect_macs(&a, 1814073344.0);
    a.kind = EOS_ARCH_RESNET34;
    expect_macs(&a, 3663761408.0);
    a.kind = EOS_ARCH_RESNET50;
    expect_macs(&a, 4089184256.0);
    a = arch_of(EOS_ARCH_RESNET18, 10);
    expect_macs(&a, 148050944.0);            /* resnet18_64 */
    a.in_ch = 13;
    expect_macs(&a, 180163584.0);
    a.in_ch = 3;
    a.stem = EOS_STEM_S2;
    expect_macs(&a, 555422720.0);
    a.stem = EOS_STEM_S1;
    expect_macs(&a, 2221675520.0);
    a.kind = EOS_ARCH_RESNET50;
    a.stem = EOS_STEM_S2;
    expect_macs(&a, 1297829888.0);
    a = arch_of(EOS_ARCH_RESNET34, 10);
    expect_macs(&a, 299045888.0);
    a = arch_of(EOS_ARCH_UNET, 6);
    a.base = 32;
    a.in_h = a.in_w = 256;
    expect_macs(&a, 12081692672.0);          /* unet_256 */
    a.bilinear = true;
    expect_macs(&a, 12081692672.0);
    a = arch_of(EOS_ARCH_UNET, 3);
    a.in_ch = 4;
    a.base = 16;
    a.in_h = a.in_w = 128;
    expect_macs(&a, 761004032.0);
    a = arch_of(EOS_ARCH_CLOUDNET, 10);
    expect_macs(&a, 3982592.0);
    a.n_classes = 0;
    EXPECT_TRUE(eos__arch_macs(&a) < 0);
}

/* ------------------------------------------------------------------ graph contract */

/* Every node and value name unique (value names may be "" only for none); op_type and opset as
 * the importer sets them; attributes typed with tensor = -1. */
static void check_graph_contract(const eos_graph *g) {
    for (int i = 0; i < g->n_nodes; i++) {
        const eos_node *n = &g->nodes[i];
        EXPECT_TRUE(n->name[0] != '\0');
        EXPECT_STR_EQ(n->op_type, eos_op_name(n->op));
        EXPECT_EQ_INT(n->opset, 17);
        EXPECT_EQ_INT(n->n_out, 1);
        EXPECT_TRUE(n->fuse.act == EOS_ACT_NONE && n->fuse.sum_in == -1);
        for (int j = 0; j < i; j++)
            if (!strcmp(g->nodes[j].name, n->name)) TEST_FAIL_("node name '%s' twice", n->name);
        for (int k = 0; k < n->n_attrs; k++) EXPECT_EQ_INT(n->attrs[k].tensor, -1);
        for (int k = 0; k < n->n_in; k++)   /* toposorted: inputs are produced earlier */
            if (n->in[k] >= 0 && g->values[n->in[k]].producer >= i)
                TEST_FAIL_("node '%s' not sorted", n->name);
    }
    for (int v = 0; v < g->n_values; v++) {
        EXPECT_TRUE(g->values[v].name[0] != '\0');
        EXPECT_EQ_INT(eos_graph_find_value(g, g->values[v].name), v);
    }
    EXPECT_EQ_INT(g->opset, 17);
}

static void test_resnet_graph(void) {
    eos_arch a = arch_of(EOS_ARCH_RESNET50, 7);
    a.width = 8;
    a.in_ch = 4;
    a.dropout = 0.25f;
    eos_graph g;
    if (!build(&a, 3, &g)) return;
    check_graph_contract(&g);
    ASSERT_EQ_INT(g.n_inputs, 1);
    ASSERT_EQ_INT(g.n_outputs, 1);
    const eos_value *in = &g.values[g.inputs[0]], *out = &g.values[g.outputs[0]];
    EXPECT_STR_EQ(in->name, "input");
    EXPECT_EQ_INT(in->dtype, EOS_DTYPE_F32);
    EXPECT_EQ_INT(in->ndim, 4);
    EXPECT_TRUE(in->dims[0] == -1 && in->dims[1] == 4 && in->dims[2] == -1 && in->dims[3] == -1);
    EXPECT_STR_EQ(out->name, "logits");
    EXPECT_EQ_INT(out->ndim, 2);
    EXPECT_TRUE(out->dims[0] == -1 && out->dims[1] == 7);
    /* 53 convs (1 + 16 * 3 + 4 downsample), as many BN, 16 adds, one Gemm */
    int n_op[EOS_OP_COUNT_] = { 0 };
    for (int i = 0; i < g.n_nodes; i++) n_op[g.nodes[i].op]++;
    EXPECT_EQ_INT(n_op[EOS_OP_CONV], 53);
    EXPECT_EQ_INT(n_op[EOS_OP_BATCH_NORM], 53);
    EXPECT_EQ_INT(n_op[EOS_OP_ADD], 16);
    EXPECT_EQ_INT(n_op[EOS_OP_MAX_POOL], 1);
    EXPECT_EQ_INT(n_op[EOS_OP_DROPOUT], 1);
    EXPECT_EQ_INT(n_op[EOS_OP_GEMM], 1);
    /* torchvision state_dict names and shapes */
    int v = value_named(&g, "layer2.0.conv2.weight");   /* stride on the 3x3 */
    ASSERT_TRUE(v >= 0);
    EXPECT_TRUE(g.values[v].dims[0] == 16 && g.values[v].dims[1] == 16 && g.values[v].dims[2] == 3);
    const eos_node *c2 = &g.nodes[g.values[value_named(&g, "layer2.0.conv2")].producer];
    int64_t cnt;
    const int64_t *s = eos_attr_ints(c2, "strides", &cnt);
    EXPECT_TRUE(s && cnt == 2 && s[0] == 2 && s[1] == 2);
    v = value_named(&g, "layer1.0.downsample.0.weight");  /* 8 -> 32 channels at stride 1 */
    ASSERT_TRUE(v >= 0);
    EXPECT_TRUE(g.values[v].dims[0] == 32 && g.values[v].dims[1] == 8 && g.values[v].dims[2] == 1);
    EXPECT_TRUE(value_named(&g, "layer1.1.downsample.0.weight") < 0);
    EXPECT_TRUE(value_named(&g, "layer4.2.bn3.running_var") >= 0);
    v = value_named(&g, "fc.weight");
    ASSERT_TRUE(v >= 0);
    EXPECT_TRUE(g.values[v].dims[0] == 7 && g.values[v].dims[1] == 256);
    v = value_named(&g, "dropout.ratio");
    ASSERT_TRUE(v >= 0);
    EXPECT_EQ_INT(g.values[v].ndim, 0);
    EXPECT_NEAR(((const float *)g.values[v].data)[0], 0.25, 0);
    const eos_node *bn = &g.nodes[g.values[value_named(&g, "bn1")].producer];
    EXPECT_EQ_INT(bn->n_in, 5);
    EXPECT_NEAR(eos_attr_float(bn, "epsilon", 0), 1e-5, 1e-12);
    EXPECT_NEAR(eos_attr_float(bn, "momentum", 0), 0.9, 1e-7);
    EXPECT_STR_EQ(g.values[bn->in[3]].name, "bn1.running_mean");
    ASSERT_EQ_INT(g.n_meta, 1);
    EXPECT_STR_EQ(g.meta_keys[0], "eosight.input_size");
    EXPECT_STR_EQ(g.meta_values[0], "64,64");
    eos_graph_free(&g);
}

static void test_unet_graph(void) {
    eos_arch a = arch_of(EOS_ARCH_UNET, 5);
    a.base = 4;
    a.depth = 3;
    a.bilinear = true;
    a.in_h = 32;
    a.in_w = 48;
    eos_graph g;
    if (!build(&a, 3, &g)) return;
    check_graph_contract(&g);
    const eos_value *out = &g.values[g.outputs[0]];
    EXPECT_STR_EQ(out->name, "logits");
    EXPECT_TRUE(out->ndim == 4 && out->dims[0] == -1 && out->dims[1] == 5 && out->dims[2] == -1);
    int v = value_named(&g, "ups.0.1.weight");   /* 32 -> 16 after the deepest level */
    ASSERT_TRUE(v >= 0);
    EXPECT_TRUE(g.values[v].dims[0] == 16 && g.values[v].dims[1] == 32 && g.values[v].dims[2] == 1);
    EXPECT_TRUE(value_named(&g, "ups.0.1.bias") >= 0);
    v = value_named(&g, "dec.2.0.weight");       /* concat of 4 + 4 -> 4 */
    ASSERT_TRUE(v >= 0);
    EXPECT_TRUE(g.values[v].dims[0] == 4 && g.values[v].dims[1] == 8);
    v = value_named(&g, "ups.0.0.scales");
    ASSERT_TRUE(v >= 0);
    const float *sc = g.values[v].data;
    EXPECT_TRUE(sc[0] == 1 && sc[1] == 1 && sc[2] == 2 && sc[3] == 2);
    const eos_node *rs = &g.nodes[g.values[value_named(&g, "ups.0.0")].producer];
    EXPECT_EQ_INT(rs->in[1], -1);
    EXPECT_STR_EQ(eos_attr_str(rs, "mode", ""), "linear");
    EXPECT_STR_EQ(eos_attr_str(rs, "coordinate_transformation_mode", ""), "half_pixel");
    EXPECT_STR_EQ(g.meta_values[0], "32,48");
    eos_graph_free(&g);
    /* constant width, transposed */
    a.bilinear = false;
    a.const_width = true;
    if (!build(&a, 3, &g)) return;
    v = value_named(&g, "ups.0.weight");
    ASSERT_TRUE(v >= 0);
    EXPECT_TRUE(g.values[v].dims[0] == 4 && g.values[v].dims[1] == 4 && g.values[v].dims[2] == 2);
    EXPECT_TRUE(value_named(&g, "bottleneck.3.weight") >= 0);
    v = value_named(&g, "head.weight");
    EXPECT_TRUE(v >= 0 && g.values[v].dims[0] == 5 && g.values[v].dims[1] == 4);
    eos_graph_free(&g);
}

/* ------------------------------------------------------------------ initialisation */

static void moments(const float *x, int64_t n, double *mean, double *std) {
    double s = 0, s2 = 0;
    for (int64_t i = 0; i < n; i++) {
        s += x[i];
        s2 += (double)x[i] * x[i];
    }
    *mean = s / (double)n;
    *std = sqrt(s2 / (double)n - *mean * *mean);
}

static void test_init(void) {
    eos_arch a = arch_of(EOS_ARCH_RESNET18, 100);
    a.zero_init_residual = true;
    eos_graph g;
    if (!build(&a, 7, &g)) return;
    double mean, std;
    const eos_value *w = &g.values[value_named(&g, "layer4.1.conv2.weight")];   /* 512x512x3x3 */
    moments(w->data, eos_value_numel(w), &mean, &std);
    EXPECT_NEAR(std, sqrt(2.0 / (512 * 9)), 0.005 * sqrt(2.0 / (512 * 9)));
    EXPECT_NEAR(mean, 0.0, 0.005 * std);
    w = &g.values[value_named(&g, "conv1.weight")];    /* fan_out 64*49 */
    moments(w->data, eos_value_numel(w), &mean, &std);
    EXPECT_NEAR(std, sqrt(2.0 / (64 * 49)), 0.05 * sqrt(2.0 / (64 * 49)));
    w = &g.values[value_named(&g, "fc.weight")];       /* U(-1/sqrt(512), 1/sqrt(512)) */
    const float *d = w->data;
    float lo = 1, hi = -1, bound = (float)(1.0 / sqrt(512.0));
    for (int64_t i = 0; i < eos_value_numel(w); i++) {
        lo = d[i] < lo ? d[i] : lo;
        hi = d[i] > hi ? d[i] : hi;
    }
    EXPECT_TRUE(lo >= -bound && hi < bound && lo < -0.99f * bound && hi > 0.99f * bound);
    d = g.values[value_named(&g, "fc.bias")].data;
    EXPECT_TRUE(d[0] != 0.0f && fabsf(d[0]) < bound);
    d = g.values[value_named(&g, "layer3.1.bn2.weight")].data;    /* zero-init residual */
    EXPECT_TRUE(d[0] == 0.0f && d[255] == 0.0f);
    d = g.values[value_named(&g, "layer3.1.bn1.weight")].data;
    EXPECT_TRUE(d[0] == 1.0f);
    d = g.values[value_named(&g, "layer3.1.bn1.running_var")].data;
    EXPECT_TRUE(d[0] == 1.0f);
    d = g.values[value_named(&g, "layer3.1.bn1.running_mean")].data;
    EXPECT_TRUE(d[0] == 0.0f);
    eos_graph_free(&g);
}

/* Bytes of parameter `name` in g1 and g2 equal (both present, same size). */
static bool same_param(const eos_graph *g1, const eos_graph *g2, const char *name) {
    int a = eos_graph_find_value(g1, name), b = eos_graph_find_value(g2, name);
    if (a < 0 || b < 0 || eos_value_numel(&g1->values[a]) != eos_value_numel(&g2->values[b]))
        return false;
    return !memcmp(g1->values[a].data, g2->values[b].data,
                   (size_t)eos_value_numel(&g1->values[a]) * sizeof(float));
}

/* Same seed: same bits; another seed: other bits; a parameter's bits depend on the seed, its
 * name and shape only (not on the class count or a dropout layer). */
static void test_determinism(void) {
    eos_arch a = arch_of(EOS_ARCH_RESNET18, 10);
    a.width = 8;
    eos_graph g1, g2, g3, g4;
    if (!build(&a, 42, &g1)) return;
    if (!build(&a, 42, &g2)) {
        eos_graph_free(&g1);
        return;
    }
    a.n_classes = 3;
    if (!build(&a, 43, &g3)) {
        eos_graph_free(&g1);
        eos_graph_free(&g2);
        return;
    }
    a.dropout = 0.5f;
    if (!build(&a, 42, &g4)) {
        eos_graph_free(&g1);
        eos_graph_free(&g2);
        eos_graph_free(&g3);
        return;
    }
    EXPECT_EQ_INT(g1.n_values, g2.n_values);
    int same = 0, differ = 0, kept = 0, n_conv = 0;
    for (int v = 0; v < g1.n_values && v < g2.n_values; v++) {
        const eos_value *x = &g1.values[v], *y = &g2.values[v];
        EXPECT_STR_EQ(x->name, y->name);
        if (!x->data) continue;
        same += same_param(&g1, &g2, x->name);
        EXPECT_TRUE(same_param(&g1, &g2, x->name));
        if (x->ndim != 4) continue;
        n_conv++;
        differ += !same_param(&g1, &g3, x->name);
        kept += same_param(&g1, &g4, x->name);
    }
    EXPECT_TRUE(same > 50);
    EXPECT_EQ_INT(n_conv, 20);   /* resnet18: conv1 + 16 + 3 downsample */
    EXPECT_EQ_INT(differ, 20);   /* another seed */
    EXPECT_EQ_INT(kept, 20);     /* same seed, 3 classes and dropout: same backbone */
    EXPECT_TRUE(!same_param(&g1, &g4, "fc.weight"));   /* [10, 64] vs [3, 64] */
    eos_graph_free(&g1);
    eos_graph_free(&g2);
    eos_graph_free(&g3);
    eos_graph_free(&g4);
}

/* ------------------------------------------------------------------ argument checks */

static void expect_invalid(const eos_arch *a, const char *needle) {
    eos_graph g;
    eos_graph_init(&g);
    eos_err err = { 0 };
    EXPECT_STATUS(eos__arch_build(a, 0, &g, &err), EOS_INVALID_ARG);
    if (!strstr(err.msg, needle)) TEST_FAIL_("message '%s' lacks '%s'", err.msg, needle);
    EXPECT_EQ_INT(g.n_nodes, 0);
    eos_graph_free(&g);
    EXPECT_TRUE(eos__arch_macs(a) < 0);
}

static void test_invalid(void) {
    eos_arch a = arch_of(EOS_ARCH_RESNET18, 10);
    a.in_ch = 0;
    expect_invalid(&a, "in_ch");
    a = arch_of(EOS_ARCH_RESNET34, -2);
    expect_invalid(&a, "n_classes");
    a = arch_of(EOS_ARCH_CLOUDNET, 2);
    a.width = 0;
    expect_invalid(&a, "width");
    a = arch_of(EOS_ARCH_RESNET18, 2);
    a.dropout = 1.0f;
    expect_invalid(&a, "dropout");
    a.dropout = NAN;
    expect_invalid(&a, "dropout");
    a = arch_of(EOS_ARCH_RESNET18, 2);
    a.stem = (eos_stem)9;
    expect_invalid(&a, "stem");
    a = arch_of(EOS_ARCH_UNET, 2);
    a.depth = 9;
    expect_invalid(&a, "depth");
    a = arch_of(EOS_ARCH_UNET, 2);
    a.in_h = 72;   /* not a multiple of 16 */
    expect_invalid(&a, "divisible by 16");
    a = arch_of(EOS_ARCH_UNET, 2);
    a.base = 0;
    expect_invalid(&a, "base");
    a = arch_of(EOS_ARCH_RESNET18, 2);
    a.kind = (eos_arch_kind)17;
    expect_invalid(&a, "kind");
}

/* ------------------------------------------------------------------ forward passes */

/* Run g on the reference back-end for x [n, c, h, w]; returns the output (caller frees). */
static float *run_ref(const eos_graph *g, const float *x, int64_t n, int64_t c, int64_t h, int64_t w,
                      eos_tensor *out) {
    eos_tensor in = { EOS_DTYPE_F32, 4, { n, c, h, w }, (void *)x };
    eos_plan *p = NULL;
    eos_err err = { 0 };
    eos_status st = eos_plan_create(g, &in, 1, eos_backend_ref(), 1, &p, &err);
    if (st == EOS_OK) st = eos_plan_run(p, &in, 1, &err);
    if (st != EOS_OK) {
        TEST_FAIL_("plan/run: %s: %s", eos_status_name(st), err.msg);
        eos_plan_free(p);
        return NULL;
    }
    *out = eos_plan_output(p, 0);
    size_t nb = (size_t)eos_tensor_numel(out) * sizeof(float);
    float *y = eos_malloc(nb);
    memcpy(y, out->data, nb);
    out->data = y;
    eos_plan_free(p);
    return y;
}

static void check_forward(const eos_arch *a, int64_t n, int64_t h, int64_t w, int out_ndim,
                          const int64_t *out_dims) {
    eos_graph g;
    if (!build(a, 5, &g)) return;
    int64_t numel = n * a->in_ch * h * w;
    float *x = eos_malloc((size_t)numel * sizeof(float));
    test_fill_uniform(x, numel, -1, 1, 11);
    eos_tensor y;
    float *yd = run_ref(&g, x, n, a->in_ch, h, w, &y);
    if (yd) {
        EXPECT_EQ_INT(y.ndim, out_ndim);
        for (int i = 0; i < out_ndim; i++) EXPECT_EQ_INT(y.dims[i], out_dims[i]);
        int64_t m = eos_tensor_numel(&y), bad = 0;
        double mag = 0;
        for (int64_t i = 0; i < m; i++) {
            bad += !isfinite(yd[i]);
            mag += fabs(yd[i]);
        }
        EXPECT_EQ_INT(bad, 0);
        EXPECT_TRUE(mag > 0);   /* random weights give a non-zero output */
        /* sample 0 alone gives the rows of sample 0 (no cross-batch mixing in inference) */
        eos_tensor y1;
        float *y1d = run_ref(&g, x, 1, a->in_ch, h, w, &y1);
        if (y1d) EXPECT_TRUE(test_max_rel_err(y1d, yd, eos_tensor_numel(&y1)) < 1e-5);
        eos_free(y1d);
    }
    eos_free(yd);
    eos_free(x);
    eos_graph_free(&g);
}

static void test_forward(void) {
    eos_arch a = arch_of(EOS_ARCH_RESNET18, 4);
    a.width = 4;
    check_forward(&a, 2, 40, 36, 2, (const int64_t[]){ 2, 4 });
    a.kind = EOS_ARCH_RESNET50;
    a.stem = EOS_STEM_S2;
    a.dropout = 0.5f;
    check_forward(&a, 2, 16, 16, 2, (const int64_t[]){ 2, 4 });
    a = arch_of(EOS_ARCH_UNET, 3);
    a.base = 4;
    a.depth = 2;
    a.in_ch = 2;
    check_forward(&a, 2, 16, 24, 4, (const int64_t[]){ 2, 3, 16, 24 });
    a.bilinear = true;
    check_forward(&a, 2, 8, 8, 4, (const int64_t[]){ 2, 3, 8, 8 });
    a = arch_of(EOS_ARCH_CLOUDNET, 2);
    a.in_ch = 13;
    check_forward(&a, 2, 32, 32, 2, (const int64_t[]){ 2, 2 });
}

/* The structure walk of eos__arch_macs and the builder's graph agree: count MACs of the built
 * graph from the planned shapes. */
static void test_macs_match_graph(void) {
    eos_arch a = arch_of(EOS_ARCH_UNET, 3);
    a.base = 4;
    a.depth = 3;
    a.in_h = 32;
    a.in_w = 16;
    eos_graph g;
    if (!build(&a, 1, &g)) return;
    eos_tensor in = { EOS_DTYPE_F32, 4, { 1, 3, 32, 16 }, NULL };
    float *x = eos_calloc(3 * 32 * 16, sizeof(float));
    in.data = x;
    eos_plan *p = NULL;
    eos_err err = { 0 };
    if (eos_plan_create(&g, &in, 1, eos_backend_ref(), 1, &p, &err) != EOS_OK) {
        TEST_FAIL_("plan: %s", err.msg);
    } else {
        double macs = 0;
        for (int i = 0; i < p->g.n_nodes; i++) {
            const eos_node *n = &p->g.nodes[i];
            const eos_value *wv = n->n_in > 1 ? &p->g.values[n->in[1]] : NULL;
            double per = wv ? (double)(wv->dims[1] * wv->dims[2] * wv->dims[3]) : 0;
            if (n->op == EOS_OP_CONV)   /* output elements x C_in k k */
                macs += (double)eos_value_numel(&p->g.values[n->out[0]]) * per;
            else if (n->op == EOS_OP_CONV_TRANSPOSE)   /* input elements x C_out k k */
                macs += (double)eos_value_numel(&p->g.values[n->in[0]]) * per;
        }
        EXPECT_NEAR(macs, eos__arch_macs(&a), 0);
    }
    eos_plan_free(p);
    eos_free(x);
    eos_graph_free(&g);
}

TEST_MAIN(TEST(test_names), TEST(test_defaults), TEST(test_resnet_params), TEST(test_unet_params),
          TEST(test_cloudnet_params), TEST(test_macs), TEST(test_resnet_graph), TEST(test_unet_graph),
          TEST(test_init), TEST(test_determinism), TEST(test_invalid), TEST(test_forward),
          TEST(test_macs_match_graph))
