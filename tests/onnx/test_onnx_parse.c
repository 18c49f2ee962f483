/*
 * tests/onnx/test_onnx_parse.c - the ONNX importer (src/onnx/) on models built with
 * tests/common/onnx_builder.h: round trips of every attribute kind and tensor encoding, opset
 * handling, Constant folding, metadata, external data and symbolic dims; then malformed and
 * hostile input (truncation at every byte, random bytes and mutations, huge dims, bad paths,
 * unsupported ops, wrong arity, allocation failures), and the real ResNet-18 export when
 * ../shared is present.
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/onnx_builder.h"
#include "common/test.h"
#include "onnx/onnx.h"

/* ------------------------------------------------------------------ helpers */

/* Parse buf through a private copy of exactly `size` bytes, so ASan sees any over-read. */
static eos_status parse_bytes(const void *buf, size_t size, const char *base_dir, eos_graph *g,
                              eos_err *err) {
    void *copy = malloc(size ? size : 1);
    if (size) memcpy(copy, buf, size);
    eos_graph_init(g);
    eos_status st = eos_onnx_parse(copy, size, base_dir, g, err);
    free(copy);
    return st;
}

/* Finish b, parse it, free b. The graph must be freed by the caller. */
static eos_status parse_b(onnxb *b, const char *base_dir, eos_graph *g, eos_err *err) {
    void *buf;
    size_t size;
    eos_status st = onnxb_finish(b, &buf, &size);
    onnxb_free(b);
    if (st) {
        eos_graph_init(g);
        return eos_err_set(err, st, "builder failed");
    }
    st = parse_bytes(buf, size, base_dir, g, err);
    eos_free(buf);
    return st;
}

/* Parse, expect status `want` and (when sub is not NULL) that the message contains sub. */
static void expect_fail(onnxb *b, const char *base_dir, eos_status want, const char *sub,
                        const char *what) {
    eos_graph g;
    eos_err err;
    eos_status st = parse_b(b, base_dir, &g, &err);
    if (st != want)
        TEST_FAIL_("%s: got %s, want %s (%s)", what, eos_status_name(st), eos_status_name(want),
                   st ? err.msg : "");
    else if (sub && !strstr(err.msg, sub))
        TEST_FAIL_("%s: message \"%s\" lacks \"%s\"", what, err.msg, sub);
    else if (getenv("EOS_TEST_VERBOSE"))
        printf("  %-36s %s: %s\n", what, eos_status_name(st), err.msg);
    eos_graph_free(&g);
}

static const eos_value *val(const eos_graph *g, const char *name) {
    int v = eos_graph_find_value(g, name);
    return v >= 0 ? &g->values[v] : NULL;
}

/* A small valid model: x -> Conv(w, b) -> Relu -> y, with attributes and metadata. */
static onnxb *small_model(void) {
    static const float w[2 * 1 * 3 * 3] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, -1, -2, -3, -4, -5, -6, -7, -8, -9 };
    static const float bias[2] = { 0.5f, -0.5f };
    onnxb *b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 4, (int64_t[]){ -1, 1, 5, 5 });
    onnxb_init_f32(b, "w", 4, (int64_t[]){ 2, 1, 3, 3 }, w);
    onnxb_init_f32(b, "b", 1, (int64_t[]){ 2 }, bias);
    int n = onnxb_node(b, "Conv", "conv0", ONNXB_NAMES("x", "w", "b"), ONNXB_NAMES("c"));
    onnxb_attr_ints(b, n, "pads", 4, (int64_t[]){ 1, 1, 1, 1 });
    onnxb_attr_ints(b, n, "kernel_shape", 2, (int64_t[]){ 3, 3 });
    onnxb_node(b, "Relu", "relu0", ONNXB_NAMES("c"), ONNXB_NAMES("y"));
    onnxb_output(b, "y", EOS_DTYPE_F32, 4, (int64_t[]){ -1, 2, 5, 5 });
    onnxb_meta(b, "eosight.task", "segmentation");
    return b;
}

/* ------------------------------------------------------------------ round trips */

static void test_small_model(void) {
    eos_graph g;
    eos_err err;
    ASSERT_OK(parse_b(small_model(), NULL, &g, &err));
    EXPECT_EQ_INT(g.opset, 17);
    ASSERT_EQ_INT(g.n_nodes, 2);
    EXPECT_EQ_INT(g.nodes[0].op, EOS_OP_CONV);
    EXPECT_STR_EQ(g.nodes[0].name, "conv0");
    EXPECT_STR_EQ(g.nodes[0].op_type, "Conv");
    EXPECT_EQ_INT(g.nodes[0].opset, 17);
    EXPECT_EQ_INT(g.nodes[1].op, EOS_OP_RELU);
    EXPECT_EQ_INT(g.nodes[0].n_in, 3);
    EXPECT_EQ_INT(g.nodes[0].in[1], eos_graph_find_value(&g, "w"));
    EXPECT_EQ_INT(g.nodes[1].in[0], g.nodes[0].out[0]);   /* c links the two nodes */
    ASSERT_EQ_INT(g.n_inputs, 1);
    const eos_value *x = &g.values[g.inputs[0]];
    EXPECT_STR_EQ(x->name, "x");
    EXPECT_TRUE(x->flags & EOS_VAL_INPUT);
    EXPECT_EQ_INT(x->dtype, EOS_DTYPE_F32);
    EXPECT_EQ_INT(x->ndim, 4);
    EXPECT_EQ_INT(x->dims[0], -1);
    EXPECT_EQ_INT(x->dims[3], 5);
    const eos_value *w = val(&g, "w");
    ASSERT_TRUE(w && w->data && (w->flags & EOS_VAL_CONST) && w->data_owned);
    EXPECT_EQ_INT(w->ndim, 4);
    EXPECT_EQ_INT(((uintptr_t)w->data) % 64, 0);
    EXPECT_NEAR(((const float *)w->data)[17], -9.0f, 0);
    ASSERT_EQ_INT(g.n_outputs, 1);
    EXPECT_STR_EQ(g.values[g.outputs[0]].name, "y");
    EXPECT_TRUE(g.values[g.outputs[0]].flags & EOS_VAL_OUTPUT);
    EXPECT_EQ_INT(g.values[g.outputs[0]].dims[1], 2);
    int64_t n;
    const int64_t *pads = eos_attr_ints(&g.nodes[0], "pads", &n);
    ASSERT_TRUE(pads != NULL);
    EXPECT_EQ_INT(n, 4);
    EXPECT_EQ_INT(pads[3], 1);
    ASSERT_EQ_INT(g.n_meta, 1);
    EXPECT_STR_EQ(g.meta_keys[0], "eosight.task");
    EXPECT_STR_EQ(g.meta_values[0], "segmentation");
    eos_graph_free(&g);
}

static void check_attrs(bool packed) {
    static const float t[6] = { 1, 2, 3, 4, 5, 6 };
    onnxb *b = onnxb_new(13);
    onnxb_set_packed(b, packed);
    onnxb_input(b, "x", EOS_DTYPE_F32, 2, (int64_t[]){ 2, 3 });
    int n = onnxb_node(b, "Relu", "r", ONNXB_NAMES("x"), ONNXB_NAMES("y"));
    onnxb_attr_int(b, n, "i", -7);
    onnxb_attr_float(b, n, "f", 0.25f);
    onnxb_attr_string(b, n, "s", "nearest");
    onnxb_attr_ints(b, n, "is", 3, (int64_t[]){ 1, -2, 1LL << 40 });
    onnxb_attr_floats(b, n, "fs", 2, (float[]){ 1.5f, -3.0f });
    onnxb_attr_strings(b, n, "ss", 2, (const char *const[]){ "a", "bc" });
    onnxb_attr_tensor(b, n, "t", EOS_DTYPE_F32, 2, (int64_t[]){ 2, 3 }, t);
    onnxb_attr_ints(b, n, "empty", 0, NULL);
    onnxb_output(b, "y", EOS_DTYPE_F32, 2, (int64_t[]){ 2, 3 });
    eos_graph g;
    eos_err err;
    ASSERT_OK(parse_b(b, NULL, &g, &err));
    ASSERT_EQ_INT(g.n_nodes, 1);
    const eos_node *nd = &g.nodes[0];
    EXPECT_EQ_INT(nd->n_attrs, 8);
    EXPECT_EQ_INT(eos_attr_int(nd, "i", 0), -7);
    EXPECT_NEAR(eos_attr_float(nd, "f", 0), 0.25, 0);
    EXPECT_STR_EQ(eos_attr_str(nd, "s", NULL), "nearest");
    int64_t cnt;
    const int64_t *is = eos_attr_ints(nd, "is", &cnt);
    ASSERT_TRUE(is && cnt == 3);
    EXPECT_EQ_INT(is[1], -2);
    EXPECT_EQ_INT(is[2], 1LL << 40);
    const float *fs = eos_attr_floats(nd, "fs", &cnt);
    ASSERT_TRUE(fs && cnt == 2);
    EXPECT_NEAR(fs[1], -3.0, 0);
    const eos_attr *ss = eos_node_attr(nd, "ss");
    ASSERT_TRUE(ss && ss->type == EOS_ATTR_STRINGS && ss->n == 2);
    EXPECT_STR_EQ(ss->strings[1], "bc");
    const eos_attr *ta = eos_node_attr(nd, "t");
    ASSERT_TRUE(ta && ta->type == EOS_ATTR_TENSOR);
    EXPECT_EQ_INT(ta->t_dtype, EOS_DTYPE_F32);
    EXPECT_EQ_INT(ta->t_ndim, 2);
    EXPECT_EQ_INT(ta->t_dims[1], 3);
    ASSERT_TRUE(ta->t_data != NULL && ta->tensor >= 0);
    EXPECT_NEAR(((const float *)ta->t_data)[5], 6.0, 0);
    EXPECT_TRUE(g.values[ta->tensor].data == ta->t_data);
    EXPECT_TRUE(g.values[ta->tensor].flags & EOS_VAL_CONST);
    const eos_attr *em = eos_node_attr(nd, "empty");
    ASSERT_TRUE(em && em->type == EOS_ATTR_INTS);
    EXPECT_EQ_INT(em->n, 0);
    eos_graph_free(&g);
}

static void test_attr_kinds_packed(void) { check_attrs(true); }
static void test_attr_kinds_unpacked(void) { check_attrs(false); }

/* An attribute written without its `type` field (IR version 1 files): inferred from the value. */
static void test_attr_type_inferred(void) {
    onnxb *b = onnxb_new(11);
    onnxb_input(b, "x", EOS_DTYPE_F32, 1, (int64_t[]){ 4 });
    int n = onnxb_node(b, "Softmax", "sm", ONNXB_NAMES("x"), ONNXB_NAMES("y"));
    /* attribute { name: "axis" (1), i: 0 (3) } without type (20) */
    static const uint8_t attr[] = { 0x2a, 8, 0x0a, 4, 'a', 'x', 'i', 's', 0x18, 0 };
    onnxb_node_raw(b, n, attr, sizeof attr);
    onnxb_output(b, "y", EOS_DTYPE_F32, 1, (int64_t[]){ 4 });
    eos_graph g;
    eos_err err;
    ASSERT_OK(parse_b(b, NULL, &g, &err));
    const eos_attr *a = eos_node_attr(&g.nodes[0], "axis");
    ASSERT_TRUE(a != NULL);
    EXPECT_EQ_INT(a->type, EOS_ATTR_INT);
    EXPECT_EQ_INT(a->i, 0);
    eos_graph_free(&g);
}

/* One initializer per dtype and encoding; checks the stored bytes. */
static void check_tensor(eos_dtype dt, const void *data, int64_t n, bool typed, bool packed) {
    onnxb *b = onnxb_new(17);
    onnxb_set_packed(b, packed);
    onnxb_input(b, "x", EOS_DTYPE_F32, 1, (int64_t[]){ 1 });
    int64_t dims[2] = { 1, n };
    if (typed) onnxb_init_typed(b, "t", dt, 2, dims, data, n);
    else onnxb_init_raw(b, "t", dt, 2, dims, data, (size_t)n * eos_dtype_size(dt));
    onnxb_node(b, "Identity", "id", ONNXB_NAMES("x"), ONNXB_NAMES("y"));
    onnxb_output(b, "y", EOS_DTYPE_F32, -1, NULL);
    eos_graph g;
    eos_err err;
    eos_status st = parse_b(b, NULL, &g, &err);
    if (st) {
        TEST_FAIL_("%s typed=%d packed=%d: %s", eos_dtype_name(dt), typed, packed, err.msg);
        eos_graph_free(&g);
        return;
    }
    const eos_value *t = val(&g, "t");
    if (!t || t->dtype != dt || t->ndim != 2 || t->dims[1] != n || !t->data ||
        memcmp(t->data, data, (size_t)n * eos_dtype_size(dt)))
        TEST_FAIL_("%s typed=%d packed=%d: wrong tensor", eos_dtype_name(dt), typed, packed);
    eos_graph_free(&g);
}

static void test_tensor_encodings(void) {
    static const float f32[] = { 1.5f, -2.25f, 1e30f };
    static const int64_t i64[] = { -1, 0, INT64_MAX, INT64_MIN };
    static const double f64[] = { 3.25, -1e300 };
    static const int32_t i32[] = { INT32_MIN, -1, 7, INT32_MAX };
    static const int16_t i16[] = { -32768, 5, 32767 };
    static const uint16_t u16[] = { 0, 65535, 1234 };
    static const int8_t i8[] = { -128, 0, 127 };
    static const uint8_t u8[] = { 0, 200, 255 };
    static const uint8_t bl[] = { 1, 0, 1, 1 };
    static const uint16_t f16[] = { 0x3c00, 0xc000, 0x7bff };   /* 1, -2, 65504 */
    static const uint16_t bf16[] = { 0x3f80, 0xbf80 };
    struct { eos_dtype dt; const void *d; int64_t n; } cases[] = {
        { EOS_DTYPE_F32, f32, 3 }, { EOS_DTYPE_I64, i64, 4 }, { EOS_DTYPE_F64, f64, 2 },
        { EOS_DTYPE_I32, i32, 4 }, { EOS_DTYPE_I16, i16, 3 }, { EOS_DTYPE_U16, u16, 3 },
        { EOS_DTYPE_I8, i8, 3 },   { EOS_DTYPE_U8, u8, 3 },   { EOS_DTYPE_BOOL, bl, 4 },
        { EOS_DTYPE_F16, f16, 3 }, { EOS_DTYPE_BF16, bf16, 2 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        check_tensor(cases[i].dt, cases[i].d, cases[i].n, false, true);
        check_tensor(cases[i].dt, cases[i].d, cases[i].n, true, true);
        check_tensor(cases[i].dt, cases[i].d, cases[i].n, true, false);
    }
}

static onnxb *one_init_model(void) {
    onnxb *b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 1, (int64_t[]){ 1 });
    onnxb_node(b, "Identity", "id", ONNXB_NAMES("x"), ONNXB_NAMES("y"));
    onnxb_output(b, "y", EOS_DTYPE_F32, 1, (int64_t[]){ 1 });
    return b;
}

static void test_tensor_errors(void) {
    onnxb *b;
    b = one_init_model();
    onnxb_init_typed(b, "t", EOS_DTYPE_F32, 1, (int64_t[]){ 3 }, (float[]){ 1, 2 }, 2);
    expect_fail(b, NULL, EOS_PARSE, "'t'", "float_data count mismatch");

    b = one_init_model();
    onnxb_init_raw(b, "t", EOS_DTYPE_F32, 1, (int64_t[]){ 3 }, (float[]){ 1, 2, 3 }, 11);
    expect_fail(b, NULL, EOS_PARSE, "raw_data holds 11", "raw_data size mismatch");

    b = one_init_model();   /* f32 declared, data in int64_data */
    {
        static const uint8_t t[] = { 0x2a, 10, 0x08, 1, 0x10, 1, 0x42, 1, 't', 0x3a, 1, 5 };
        onnxb_graph_raw(b, t, sizeof t);
    }
    expect_fail(b, NULL, EOS_PARSE, "int64_data", "typed field of the wrong type");

    b = one_init_model();   /* u8 declared (2), int32_data 300 */
    {
        static const uint8_t t[] = { 0x2a, 11, 0x08, 1, 0x10, 2, 0x42, 1, 't', 0x2a, 2, 0xac, 0x02 };
        onnxb_graph_raw(b, t, sizeof t);
    }
    expect_fail(b, NULL, EOS_PARSE, "outside the range of u8", "int32_data out of range");

    b = one_init_model();   /* STRING tensor */
    {
        static const uint8_t t[] = { 0x2a, 8, 0x10, 8, 0x42, 1, 't', 0x32, 1, 'a' };
        onnxb_graph_raw(b, t, sizeof t);
    }
    expect_fail(b, NULL, EOS_UNSUPPORTED, "STRING", "string tensor");

    b = one_init_model();   /* data_type 0 */
    onnxb_init_raw(b, "t", EOS_DTYPE_UNDEFINED, 0, NULL, "", 0);
    expect_fail(b, NULL, EOS_PARSE, "no data_type", "data_type 0");

    b = one_init_model();   /* no data but 4 elements */
    onnxb_init_raw(b, "t", EOS_DTYPE_F32, 1, (int64_t[]){ 4 }, NULL, 0);
    expect_fail(b, NULL, EOS_PARSE, "raw_data holds 0", "empty raw_data");

    b = one_init_model();   /* negative dim */
    onnxb_init_raw(b, "t", EOS_DTYPE_F32, 2, (int64_t[]){ -2, 2 }, (float[]){ 1, 2, 3, 4 }, 16);
    expect_fail(b, NULL, EOS_PARSE, "negative dim", "negative dim");

    b = one_init_model();   /* too many dims */
    onnxb_init_raw(b, "t", EOS_DTYPE_F32, 9, (int64_t[]){ 1, 1, 1, 1, 1, 1, 1, 1, 1 }, (float[]){ 1 }, 4);
    expect_fail(b, NULL, EOS_LIMIT, "more than 8 dims", "9 dims");

    b = one_init_model();   /* element count overflows int64 */
    onnxb_init_raw(b, "t", EOS_DTYPE_F32, 3, (int64_t[]){ 1LL << 40, 1LL << 40, 1LL << 40 }, (float[]){ 1 }, 4);
    expect_fail(b, NULL, EOS_LIMIT, "too many elements", "overflowing dims");

    b = one_init_model();   /* duplicate initializer */
    onnxb_init_f32(b, "t", 1, (int64_t[]){ 1 }, (float[]){ 1 });
    onnxb_init_f32(b, "t", 1, (int64_t[]){ 1 }, (float[]){ 2 });
    expect_fail(b, NULL, EOS_PARSE, "defined twice", "duplicate initializer");
}

/* Zero-element tensors are legal, with or without a data field. */
static void test_zero_element_tensor(void) {
    onnxb *b = one_init_model();
    onnxb_init_raw(b, "e", EOS_DTYPE_F32, 2, (int64_t[]){ 0, 3 }, NULL, 0);
    onnxb_init_typed(b, "e2", EOS_DTYPE_I64, 1, (int64_t[]){ 0 }, NULL, 0);
    {   /* no data field at all */
        static const uint8_t t[] = { 0x2a, 9, 0x0a, 1, 0, 0x10, 1, 0x42, 2, 'e', '3' };
        onnxb_graph_raw(b, t, sizeof t);
    }
    eos_graph g;
    eos_err err;
    ASSERT_OK(parse_b(b, NULL, &g, &err));
    const eos_value *e = val(&g, "e"), *e2 = val(&g, "e2"), *e3 = val(&g, "e3");
    ASSERT_TRUE(e && e2 && e3);
    EXPECT_TRUE(e->data != NULL && (e->flags & EOS_VAL_CONST));
    EXPECT_EQ_INT(eos_value_numel(e), 0);
    EXPECT_EQ_INT(e2->dtype, EOS_DTYPE_I64);
    EXPECT_EQ_INT(eos_value_numel(e3), 0);
    eos_graph_free(&g);
}

/* Old exporters list initializers among the graph inputs; those are constants, not inputs. */
static void test_initializer_listed_as_input(void) {
    onnxb *b = small_model();
    onnxb_input(b, "w", EOS_DTYPE_F32, 4, (int64_t[]){ 2, 1, 3, 3 });
    onnxb_input(b, "b", EOS_DTYPE_F32, 1, (int64_t[]){ 2 });
    eos_graph g;
    eos_err err;
    ASSERT_OK(parse_b(b, NULL, &g, &err));
    ASSERT_EQ_INT(g.n_inputs, 1);
    EXPECT_STR_EQ(g.values[g.inputs[0]].name, "x");
    EXPECT_TRUE(!(val(&g, "w")->flags & EOS_VAL_INPUT));
    eos_graph_free(&g);
}

static void test_constant_folding(void) {
    static const float cv[4] = { 1, 2, 3, 4 };
    onnxb *b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 2, (int64_t[]){ 2, 2 });
    /* the consumer comes first: a forward reference to the Constant's output */
    onnxb_node(b, "Add", "add", ONNXB_NAMES("x", "c"), ONNXB_NAMES("y"));
    onnxb_constant(b, "c", EOS_DTYPE_F32, 2, (int64_t[]){ 2, 2 }, cv);
    int n = onnxb_node(b, "Constant", "k1", NULL, 0, ONNXB_NAMES("cf"));
    onnxb_attr_float(b, n, "value_float", 2.5f);
    n = onnxb_node(b, "Constant", "k2", NULL, 0, ONNXB_NAMES("cfs"));
    onnxb_attr_floats(b, n, "value_floats", 3, (float[]){ 1, 2, 3 });
    n = onnxb_node(b, "Constant", "k3", NULL, 0, ONNXB_NAMES("ci"));
    onnxb_attr_int(b, n, "value_int", -4);
    n = onnxb_node(b, "Constant", "k4", NULL, 0, ONNXB_NAMES("cis"));
    onnxb_attr_ints(b, n, "value_ints", 2, (int64_t[]){ 7, 8 });
    onnxb_output(b, "y", EOS_DTYPE_F32, 2, (int64_t[]){ 2, 2 });
    eos_graph g;
    eos_err err;
    ASSERT_OK(parse_b(b, NULL, &g, &err));
    ASSERT_EQ_INT(g.n_nodes, 1);   /* Constants are not nodes */
    const eos_value *c = val(&g, "c");
    ASSERT_TRUE(c && (c->flags & EOS_VAL_CONST) && c->data);
    EXPECT_EQ_INT(g.nodes[0].in[1], eos_graph_find_value(&g, "c"));
    EXPECT_EQ_INT(c->ndim, 2);
    EXPECT_NEAR(((const float *)c->data)[3], 4.0, 0);
    const eos_value *cf = val(&g, "cf"), *cfs = val(&g, "cfs"), *ci = val(&g, "ci"), *cis = val(&g, "cis");
    ASSERT_TRUE(cf && cfs && ci && cis);
    EXPECT_EQ_INT(cf->dtype, EOS_DTYPE_F32);
    EXPECT_EQ_INT(cf->ndim, 0);
    EXPECT_NEAR(*(const float *)cf->data, 2.5, 0);
    EXPECT_EQ_INT(cfs->ndim, 1);
    EXPECT_EQ_INT(cfs->dims[0], 3);
    EXPECT_NEAR(((const float *)cfs->data)[2], 3.0, 0);
    EXPECT_EQ_INT(ci->dtype, EOS_DTYPE_I64);
    EXPECT_EQ_INT(*(const int64_t *)ci->data, -4);
    EXPECT_EQ_INT(cis->dims[0], 2);
    EXPECT_EQ_INT(((const int64_t *)cis->data)[1], 8);
    eos_graph_free(&g);

    b = one_init_model();
    n = onnxb_node(b, "Constant", "ks", NULL, 0, ONNXB_NAMES("cs"));
    onnxb_attr_string(b, n, "value_string", "hello");
    expect_fail(b, NULL, EOS_UNSUPPORTED, "value_string", "Constant value_string");

    b = one_init_model();
    n = onnxb_node(b, "Constant", "k2a", NULL, 0, ONNXB_NAMES("c2"));
    onnxb_attr_int(b, n, "value_int", 1);
    onnxb_attr_float(b, n, "value_float", 1);
    expect_fail(b, NULL, EOS_PARSE, "'k2a'", "Constant with two attributes");

    b = one_init_model();
    n = onnxb_node(b, "Constant", "kw", NULL, 0, ONNXB_NAMES("c3"));
    onnxb_attr_int(b, n, "value_float", 1);
    expect_fail(b, NULL, EOS_PARSE, "'kw'", "Constant attribute of the wrong type");

    b = one_init_model();   /* a Constant that redefines a graph input */
    onnxb_constant(b, "x", EOS_DTYPE_F32, 1, (int64_t[]){ 1 }, cv);
    expect_fail(b, NULL, EOS_PARSE, "graph input", "Constant over an input");
}

static void test_symbolic_dims_and_partial_outputs(void) {
    onnxb *b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_U8, 4, (int64_t[]){ -1, 3, -1, -2 });
    onnxb_input(b, "s", EOS_DTYPE_F32, -1, NULL);   /* no shape: rank unknown */
    onnxb_input(b, "z", EOS_DTYPE_F32, 0, NULL);    /* scalar */
    onnxb_node(b, "Relu", "r1", ONNXB_NAMES("x"), ONNXB_NAMES("y1"));
    onnxb_node(b, "Relu", "r2", ONNXB_NAMES("s"), ONNXB_NAMES("y2"));
    onnxb_output(b, "y1", EOS_DTYPE_UNDEFINED, -1, NULL);   /* no type at all */
    onnxb_output(b, "y2", EOS_DTYPE_F32, -1, NULL);
    eos_graph g;
    eos_err err;
    ASSERT_OK(parse_b(b, NULL, &g, &err));
    ASSERT_EQ_INT(g.n_inputs, 3);
    const eos_value *x = val(&g, "x");
    EXPECT_EQ_INT(x->dtype, EOS_DTYPE_U8);
    EXPECT_EQ_INT(x->ndim, 4);
    EXPECT_EQ_INT(x->dims[0], -1);
    EXPECT_EQ_INT(x->dims[1], 3);
    EXPECT_EQ_INT(x->dims[2], -1);
    EXPECT_EQ_INT(x->dims[3], -1);
    EXPECT_EQ_INT(val(&g, "s")->ndim, -1);
    EXPECT_EQ_INT(val(&g, "z")->ndim, 0);
    ASSERT_EQ_INT(g.n_outputs, 2);
    EXPECT_EQ_INT(val(&g, "y1")->dtype, EOS_DTYPE_UNDEFINED);
    EXPECT_EQ_INT(val(&g, "y1")->ndim, -1);
    EXPECT_EQ_INT(val(&g, "y2")->dtype, EOS_DTYPE_F32);
    eos_graph_free(&g);

    b = onnxb_new(17);   /* an input without a type */
    onnxb_input(b, "x", EOS_DTYPE_UNDEFINED, -1, NULL);
    onnxb_node(b, "Relu", "r1", ONNXB_NAMES("x"), ONNXB_NAMES("y"));
    onnxb_output(b, "y", EOS_DTYPE_F32, -1, NULL);
    expect_fail(b, NULL, EOS_PARSE, "'x'", "untyped input");
}

static void test_metadata(void) {
    onnxb *b = small_model();
    onnxb_meta(b, "eosight.classes", "water,forest,urban");
    onnxb_meta(b, "empty", "");
    onnxb_producer(b, "pytorch", "1.13");
    eos_graph g;
    eos_err err;
    ASSERT_OK(parse_b(b, NULL, &g, &err));
    ASSERT_EQ_INT(g.n_meta, 3);
    EXPECT_STR_EQ(g.meta_keys[1], "eosight.classes");
    EXPECT_STR_EQ(g.meta_values[1], "water,forest,urban");
    EXPECT_STR_EQ(g.meta_values[2], "");
    eos_graph_free(&g);
}

/* ------------------------------------------------------------------ opsets and domains */

static onnxb *opset_model(int opset) {
    onnxb *b = onnxb_new(opset);
    onnxb_input(b, "x", EOS_DTYPE_F32, 1, (int64_t[]){ 4 });
    onnxb_node(b, "Relu", "r", ONNXB_NAMES("x"), ONNXB_NAMES("y"));
    onnxb_output(b, "y", EOS_DTYPE_F32, 1, (int64_t[]){ 4 });
    return b;
}

static void test_opsets(void) {
    int ok[] = { 7, 11, 18, 20 };
    for (int i = 0; i < 4; i++) {
        eos_graph g;
        eos_err err;
        EXPECT_OK(parse_b(opset_model(ok[i]), NULL, &g, &err));
        EXPECT_EQ_INT(g.opset, ok[i]);
        if (g.n_nodes) EXPECT_EQ_INT(g.nodes[0].opset, ok[i]);
        eos_graph_free(&g);
    }
    expect_fail(opset_model(6), NULL, EOS_UNSUPPORTED, "11-18", "opset 6");
    expect_fail(opset_model(21), NULL, EOS_UNSUPPORTED, "opset 21", "opset 21");
    expect_fail(opset_model(0), NULL, EOS_PARSE, "opset_import", "no opset");

    onnxb *b = opset_model(0);   /* "ai.onnx" spells the default domain too */
    onnxb_opset_import(b, "ai.onnx", 12);
    onnxb_opset_import(b, "com.microsoft", 1);
    eos_graph g;
    eos_err err;
    EXPECT_OK(parse_b(b, NULL, &g, &err));
    EXPECT_EQ_INT(g.opset, 12);
    eos_graph_free(&g);

    b = opset_model(13);
    onnxb_opset_import(b, "", 14);
    expect_fail(b, NULL, EOS_PARSE, "twice", "conflicting default opsets");

    b = opset_model(17);
    onnxb_opset_import(b, "com.microsoft", 1);
    int n = onnxb_node(b, "FusedConv", "fc", ONNXB_NAMES("x"), ONNXB_NAMES("z"));
    onnxb_node_domain(b, n, "com.microsoft");
    expect_fail(b, NULL, EOS_UNSUPPORTED, "'FusedConv' in node 'fc' (domain 'com.microsoft')", "custom domain");
}

static void test_unsupported_and_arity(void) {
    onnxb *b = opset_model(17);
    onnxb_node(b, "Foo", "bar", ONNXB_NAMES("x"), ONNXB_NAMES("z"));
    expect_fail(b, NULL, EOS_UNSUPPORTED, "unsupported operator 'Foo' in node 'bar' (domain '')", "unknown op");

    b = opset_model(17);
    onnxb_node(b, "Conv", "conv1", ONNXB_NAMES("x"), ONNXB_NAMES("z"));
    expect_fail(b, NULL, EOS_PARSE, "node 'conv1'", "Conv with one input");

    b = opset_model(17);
    onnxb_node(b, "Relu", "r2", ONNXB_NAMES("x"), ONNXB_NAMES("z1", "z2"));
    expect_fail(b, NULL, EOS_PARSE, "node 'r2'", "Relu with two outputs");

    b = opset_model(17);
    onnxb_node(b, "Relu", NULL, ONNXB_NAMES("x", "x"), ONNXB_NAMES("z1"));
    expect_fail(b, NULL, EOS_PARSE, "node #1 (unnamed)", "unnamed node with bad arity");

    b = opset_model(17);
    int n = onnxb_node(b, "Relu", "loop", ONNXB_NAMES("x"), ONNXB_NAMES("z"));
    onnxb_attr_graph(b, n, "body");
    expect_fail(b, NULL, EOS_UNSUPPORTED, "GRAPH", "graph attribute");

    b = opset_model(17);
    n = onnxb_node(b, "Relu", "dup", ONNXB_NAMES("x"), ONNXB_NAMES("z"));
    onnxb_attr_int(b, n, "a", 1);
    onnxb_attr_int(b, n, "a", 2);
    expect_fail(b, NULL, EOS_PARSE, "twice", "duplicate attribute");

    /* optional inputs: empty names are -1 */
    b = opset_model(17);
    onnxb_node(b, "Clip", "clip", ONNXB_NAMES("x", "", "mx"), ONNXB_NAMES("z"));
    onnxb_init_f32(b, "mx", 0, NULL, (float[]){ 6 });
    eos_graph g;
    eos_err err;
    ASSERT_OK(parse_b(b, NULL, &g, &err));
    ASSERT_EQ_INT(g.n_nodes, 2);
    EXPECT_EQ_INT(g.nodes[1].in[1], -1);
    EXPECT_EQ_INT(g.nodes[1].in[2], eos_graph_find_value(&g, "mx"));
    eos_graph_free(&g);
}

static void test_duplicate_definitions(void) {
    onnxb *b = opset_model(17);
    onnxb_node(b, "Relu", "second", ONNXB_NAMES("x"), ONNXB_NAMES("y"));
    expect_fail(b, NULL, EOS_PARSE, "produced by two nodes: 'r' and node 'second'", "two producers");

    b = opset_model(17);
    onnxb_init_f32(b, "w", 1, (int64_t[]){ 1 }, (float[]){ 1 });
    onnxb_node(b, "Relu", "over", ONNXB_NAMES("x"), ONNXB_NAMES("w"));
    expect_fail(b, NULL, EOS_PARSE, "node 'over' writes 'w'", "node overwrites initializer");

    b = opset_model(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 1, (int64_t[]){ 4 });
    expect_fail(b, NULL, EOS_PARSE, "declared twice", "duplicate input");

    b = opset_model(17);
    onnxb_output(b, "y", EOS_DTYPE_F32, 1, (int64_t[]){ 4 });
    expect_fail(b, NULL, EOS_PARSE, "declared twice", "duplicate output");
}

/* ------------------------------------------------------------------ names */

static void test_names(void) {
    onnxb *b = opset_model(17);   /* output name with an embedded NUL */
    int n = onnxb_node(b, "Relu", "nul", ONNXB_NAMES("x"), NULL, 0);
    static const uint8_t out[] = { 0x12, 3, 'a', 0, 'b' };
    onnxb_node_raw(b, n, out, sizeof out);
    expect_fail(b, NULL, EOS_PARSE, "NUL", "NUL in a name");

    size_t big = EOS_ONNX_MAX_NAME + 1;
    char *name = malloc(big + 1);
    memset(name, 'n', big);
    name[big] = '\0';
    b = opset_model(17);
    onnxb_node(b, "Relu", name, ONNXB_NAMES("x"), ONNXB_NAMES("z"));
    expect_fail(b, NULL, EOS_LIMIT, "limit", "huge node name");
    name[big - 1] = '\0';   /* exactly at the limit: fine */
    b = opset_model(17);
    onnxb_node(b, "Relu", name, ONNXB_NAMES("x"), ONNXB_NAMES("z"));
    eos_graph g;
    eos_err err;
    EXPECT_OK(parse_b(b, NULL, &g, &err));
    eos_graph_free(&g);
    free(name);

    /* arbitrary bytes (UTF-8, control characters) are fine in names; messages show them safely */
    b = opset_model(17);
    onnxb_node(b, "Foo", "n\xc3\xa9\x01", ONNXB_NAMES("x"), ONNXB_NAMES("z"));
    expect_fail(b, NULL, EOS_UNSUPPORTED, "node 'n\?\?\?'", "odd bytes in a name");
}

/* ------------------------------------------------------------------ external data */

static void test_external_data(void) {
    char path[] = "/tmp/eos_onnx_extXXXXXX";
    int fd = mkstemp(path);
    ASSERT_TRUE(fd >= 0);
    float data[8 + 6];
    for (int i = 0; i < 14; i++) data[i] = (float)i * 0.5f;
    ASSERT_TRUE(write(fd, data, sizeof data) == (ssize_t)sizeof data);
    close(fd);
    const char *loc = strrchr(path, '/') + 1;
    int64_t dims[2] = { 2, 3 };

    onnxb *b = one_init_model();   /* 6 floats at byte offset 32 */
    onnxb_init_external(b, "t", EOS_DTYPE_F32, 2, dims, loc, 32, 24);
    onnxb_init_external(b, "u", EOS_DTYPE_F32, 1, (int64_t[]){ 14 }, loc, -1, -1);
    eos_graph g;
    eos_err err;
    eos_status st = parse_b(b, "/tmp", &g, &err);
    EXPECT_OK(st);
    if (st == EOS_OK) {
        const eos_value *t = val(&g, "t"), *u = val(&g, "u");
        ASSERT_TRUE(t && t->data && u && u->data);
        EXPECT_TRUE(!memcmp(t->data, data + 8, 24));
        EXPECT_TRUE(!memcmp(u->data, data, sizeof data));
    }
    eos_graph_free(&g);

    b = one_init_model();
    onnxb_init_external(b, "t", EOS_DTYPE_F32, 2, dims, loc, 32, 24);
    expect_fail(b, NULL, EOS_IO, "without a base directory", "base_dir NULL");

    b = one_init_model();
    onnxb_init_external(b, "t", EOS_DTYPE_F32, 2, dims, "../etc/passwd", 0, -1);
    expect_fail(b, "/tmp", EOS_PARSE, "relative path", "'..' in location");

    b = one_init_model();
    onnxb_init_external(b, "t", EOS_DTYPE_F32, 2, dims, "sub/../../x", 0, -1);
    expect_fail(b, "/tmp", EOS_PARSE, "relative path", "'..' inside location");

    b = one_init_model();
    onnxb_init_external(b, "t", EOS_DTYPE_F32, 2, dims, "/etc/passwd", 0, -1);
    expect_fail(b, "/tmp", EOS_PARSE, "relative path", "absolute location");

    b = one_init_model();
    onnxb_init_external(b, "t", EOS_DTYPE_F32, 2, dims, loc, 0, 20);
    expect_fail(b, "/tmp", EOS_PARSE, "length", "length mismatch");

    b = one_init_model();
    onnxb_init_external(b, "t", EOS_DTYPE_F32, 2, dims, loc, 40, -1);
    expect_fail(b, "/tmp", EOS_PARSE, "at offset 40", "file too short");

    b = one_init_model();   /* huge dims, small file: refused before allocating */
    onnxb_init_external(b, "t", EOS_DTYPE_F32, 2, (int64_t[]){ 100000, 100000 }, loc, -1, -1);
    expect_fail(b, "/tmp", EOS_PARSE, "needs 40000000000", "huge external tensor");

    b = one_init_model();
    onnxb_init_external(b, "t", EOS_DTYPE_F32, 2, dims, "no_such_file_eos.bin", -1, -1);
    expect_fail(b, "/tmp", EOS_IO, "cannot open", "missing file");

    b = one_init_model();
    onnxb_init_external(b, "t", EOS_DTYPE_F32, 2, dims, ".", -1, -1);
    expect_fail(b, "/tmp", EOS_IO, "not a regular file", "directory as data file");
    unlink(path);
}

/* ------------------------------------------------------------------ malformed input */

static void test_empty_and_garbage(void) {
    eos_graph g;
    eos_err err;
    EXPECT_STATUS(parse_bytes("", 0, NULL, &g, &err), EOS_PARSE);
    eos_graph_free(&g);
    eos_graph_init(&g);
    EXPECT_STATUS(eos_onnx_parse(NULL, 10, NULL, &g, &err), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_onnx_parse("x", 1, NULL, NULL, NULL), EOS_INVALID_ARG);
    eos_graph_free(&g);

    struct { const char *bytes; size_t n; const char *msg; } cases[] = {
        { "\x08", 1, "truncated varint at byte 1 in ModelProto" },
        { "\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12, "varint longer than 64 bits" },
        { "\x0b\x00", 2, "group wire type" },
        { "\x0e\x00", 2, "invalid wire type 6" },
        { "\x3a\x05\x01", 3, "declares 5 bytes but only 1 remain" },
        { "\x3a\x02\x0a\x05\x42\x02\x10\x11", 8, "in GraphProto" },
        { "\x0d\x01\x02", 3, "truncated 4-byte value" },
        { "\x00\x01", 2, "invalid field number 0" },
        { "\x3a\x00", 2, "opset_import" },
        { "\x42\x02\x10\x11", 4, "no graph" },
        { "\x3a\x00\x3a\x00", 4, "2 graph fields" },
        { "\x38\x01", 2, "wire type VARINT, expected LEN" },
        { "not a model at all, just text", 29, NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        eos_status st = parse_bytes(cases[i].bytes, cases[i].n, NULL, &g, &err);
        if (st != EOS_PARSE) TEST_FAIL_("case %zu: %s", i, eos_status_name(st));
        else if (cases[i].msg && !strstr(err.msg, cases[i].msg))
            TEST_FAIL_("case %zu: \"%s\" lacks \"%s\"", i, err.msg, cases[i].msg);
        eos_graph_free(&g);
    }
}

/* A message from deep inside names the node: a truncated varint in an attribute. */
static void test_error_names_node(void) {
    onnxb *b = opset_model(17);
    int n = onnxb_node(b, "Relu", "conv1", ONNXB_NAMES("x"), ONNXB_NAMES("z"));
    static const uint8_t bad[] = { 0x2a, 2, 0x18, 0x80 };   /* attribute i: truncated varint */
    onnxb_node_raw(b, n, bad, sizeof bad);
    expect_fail(b, NULL, EOS_PARSE, "truncated varint at byte", "truncated attribute varint");
    b = opset_model(17);
    n = onnxb_node(b, "Relu", "conv1", ONNXB_NAMES("x"), ONNXB_NAMES("z"));
    onnxb_node_raw(b, n, bad, sizeof bad);
    expect_fail(b, NULL, EOS_PARSE, "of node 'conv1'", "message names the node");
}

static void test_truncation_everywhere(void) {
    static const float t[4] = { 1, 2, 3, 4 };
    onnxb *b = small_model();
    int n = onnxb_node(b, "Relu", "extra", ONNXB_NAMES("y"), ONNXB_NAMES("y2"));
    onnxb_attr_tensor(b, n, "t", EOS_DTYPE_F32, 1, (int64_t[]){ 4 }, t);
    onnxb_attr_floats(b, n, "fs", 2, (float[]){ 1, 2 });
    onnxb_attr_string(b, n, "s", "abc");
    onnxb_init_typed(b, "ti", EOS_DTYPE_I64, 1, (int64_t[]){ 2 }, (int64_t[]){ -5, 300 }, 2);
    void *buf;
    size_t size;
    ASSERT_OK(onnxb_finish(b, &buf, &size));
    onnxb_free(b);
    eos_graph g;
    eos_err err;
    ASSERT_OK(parse_bytes(buf, size, NULL, &g, &err));
    eos_graph_free(&g);
    int n_parse = 0, n_ok = 0;
    for (size_t len = 0; len < size; len++) {
        eos_status st = parse_bytes(buf, len, NULL, &g, &err);
        eos_graph_free(&g);
        if (st == EOS_PARSE) n_parse++;
        else if (st == EOS_OK) n_ok++;
        else TEST_FAIL_("prefix of %zu bytes: unexpected %s (%s)", len, eos_status_name(st), err.msg);
    }
    printf("  %zu prefixes: %d EOS_PARSE, %d OK (cut at a field boundary of the last metadata)\n",
           size, n_parse, n_ok);
    EXPECT_TRUE(n_parse >= (int)size - 8);
    eos_free(buf);
}

static uint64_t rng_next(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void test_random_bytes_and_mutations(void) {
    uint64_t s = 0x9e3779b97f4a7c15ull;
    eos_graph g;
    eos_err err;
    uint8_t rnd[512];
    eos_alloc_stats before, after;
    eos_alloc_get_stats(&before);
    for (int it = 0; it < 3000; it++) {
        size_t len = 1 + rng_next(&s) % sizeof rnd;
        for (size_t i = 0; i < len; i++) rnd[i] = (uint8_t)rng_next(&s);
        eos_status st = parse_bytes(rnd, len, NULL, &g, &err);
        eos_graph_free(&g);
        if (st != EOS_PARSE && st != EOS_UNSUPPORTED && st != EOS_LIMIT && st != EOS_OK)
            TEST_FAIL_("random input %d: %s", it, eos_status_name(st));
    }
    void *buf;
    size_t size;
    onnxb *b = small_model();
    ASSERT_OK(onnxb_finish(b, &buf, &size));
    onnxb_free(b);
    uint8_t *m = malloc(size);
    int counts[EOS_STATUS_COUNT_] = { 0 };
    for (int it = 0; it < 3000; it++) {
        memcpy(m, buf, size);
        int flips = 1 + (int)(rng_next(&s) % 4);
        for (int k = 0; k < flips; k++) m[rng_next(&s) % size] = (uint8_t)rng_next(&s);
        eos_status st = parse_bytes(m, size, NULL, &g, &err);
        eos_graph_free(&g);
        if ((int)st < 0 || st >= EOS_STATUS_COUNT_ || st == EOS_INTERNAL || st == EOS_INVALID_ARG)
            TEST_FAIL_("mutation %d: %s", it, eos_status_name(st));
        else counts[st]++;
    }
    printf("  mutations: %d OK, %d PARSE, %d UNSUPPORTED, %d LIMIT, %d IO\n", counts[EOS_OK],
           counts[EOS_PARSE], counts[EOS_UNSUPPORTED], counts[EOS_LIMIT], counts[EOS_IO]);
    free(m);
    eos_free(buf);
    eos_alloc_get_stats(&after);
    EXPECT_EQ_INT(after.live_count, before.live_count);   /* nothing leaked */
}

/* A 100000 x 100000 f32 header on 4 bytes of data fails without allocating 40 GB. */
static void test_huge_dims_small_data(void) {
    eos_alloc_stats before, after;
    eos_alloc_reset_peak();
    eos_alloc_get_stats(&before);
    onnxb *b = one_init_model();
    onnxb_init_raw(b, "big", EOS_DTYPE_F32, 2, (int64_t[]){ 100000, 100000 }, (float[]){ 1 }, 4);
    expect_fail(b, NULL, EOS_PARSE, "initializer 'big'", "huge raw tensor");
    b = one_init_model();
    onnxb_init_typed(b, "big", EOS_DTYPE_F32, 2, (int64_t[]){ 100000, 100000 }, (float[]){ 1 }, 1);
    expect_fail(b, NULL, EOS_PARSE, "float_data holds 1", "huge typed tensor");
    b = one_init_model();
    onnxb_init_raw(b, "big", EOS_DTYPE_F64, 2, (int64_t[]){ 1LL << 20, 1LL << 20 }, NULL, 0);
    expect_fail(b, NULL, EOS_PARSE, "big", "huge tensor without data");
    eos_alloc_get_stats(&after);
    EXPECT_TRUE(after.peak_bytes - before.live_bytes < (64 << 20));
}

/* SQLite-style OOM loop: every allocation in turn fails; each run returns NOMEM and leaks nothing. */
static void test_allocation_failures(void) {
    void *buf;
    size_t size;
    onnxb *b = small_model();
    int n = onnxb_node(b, "Relu", "extra", ONNXB_NAMES("y"), ONNXB_NAMES("y2"));
    onnxb_attr_tensor(b, n, "t", EOS_DTYPE_F32, 1, (int64_t[]){ 1 }, (float[]){ 1 });
    onnxb_attr_strings(b, n, "ss", 2, (const char *const[]){ "a", "b" });
    onnxb_constant(b, "k", EOS_DTYPE_I64, 1, (int64_t[]){ 1 }, (int64_t[]){ 3 });
    for (int i = 0; i < 100; i++) {   /* past the initial capacity of the value/node arrays */
        char in[32], out[32];
        snprintf(in, sizeof in, i ? "chain%d" : "y2", i);
        snprintf(out, sizeof out, "chain%d", i + 1);
        onnxb_node(b, "Relu", out, ONNXB_NAMES(in), ONNXB_NAMES(out));
    }
    ASSERT_OK(onnxb_finish(b, &buf, &size));
    onnxb_free(b);
    eos_alloc_stats before, after;
    eos_alloc_get_stats(&before);
    int ok_at = -1;
    for (int k = 0; k < 2000 && ok_at < 0; k++) {
        eos_graph g;
        eos_err err;
        eos_graph_init(&g);
        eos_alloc_fail_after(k);
        eos_status st = eos_onnx_parse(buf, size, NULL, &g, &err);
        eos_alloc_fail_after(-1);
        eos_graph_free(&g);
        if (st == EOS_OK) ok_at = k;
        else if (st != EOS_NOMEM) TEST_FAIL_("fail_after(%d): %s (%s)", k, eos_status_name(st), err.msg);
    }
    eos_alloc_get_stats(&after);
    printf("  the parse makes %d allocations; failing each one in turn gave EOS_NOMEM\n", ok_at);
    EXPECT_TRUE(ok_at > 0);
    EXPECT_EQ_INT(after.live_count, before.live_count);
    eos_free(buf);
}

/* ------------------------------------------------------------------ a real export */

static void test_real_resnet18(void) {
    const char *shared = test_shared_dir();
    if (!shared) TEST_SKIP("../shared is absent (no resnet18_64.onnx)");
    char path[1024];
    snprintf(path, sizeof path, "%s/bench/models/resnet18_64.onnx", shared);
    FILE *f = fopen(path, "rb");
    if (!f) TEST_SKIP("%.200s is absent", path);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *buf = malloc((size_t)size);
    size_t got = fread(buf, 1, (size_t)size, f);
    fclose(f);
    ASSERT_EQ_INT(got, size);
    eos_graph g;
    eos_err err;
    eos_graph_init(&g);
    eos_status st = eos_onnx_parse(buf, (size_t)size, NULL, &g, &err);
    free(buf);
    if (st) TEST_FAIL_("%s: %s", eos_status_name(st), err.msg);
    int n_const = 0, n_op[EOS_OP_COUNT_] = { 0 };
    int64_t n_params = 0;
    for (int v = 0; v < g.n_values; v++)
        if (g.values[v].flags & EOS_VAL_CONST) {
            n_const++;
            n_params += eos_value_numel(&g.values[v]);
        }
    for (int i = 0; i < g.n_nodes; i++) n_op[g.nodes[i].op]++;
    printf("  resnet18_64.onnx: opset %d, %d nodes, %d initializers (%lld parameters), %d input, %d output\n",
           g.opset, g.n_nodes, n_const, (long long)n_params, g.n_inputs, g.n_outputs);
    printf("  Conv %d, Relu %d, Add %d, Identity %d, MaxPool %d, GlobalAveragePool %d, Flatten %d, Gemm %d\n",
           n_op[EOS_OP_CONV], n_op[EOS_OP_RELU], n_op[EOS_OP_ADD], n_op[EOS_OP_IDENTITY],
           n_op[EOS_OP_MAX_POOL], n_op[EOS_OP_GLOBAL_AVERAGE_POOL], n_op[EOS_OP_FLATTEN], n_op[EOS_OP_GEMM]);
    /* counts from onnx.load in Python: 65 nodes, 26 initializers, 11173002 parameters */
    EXPECT_EQ_INT(g.opset, 17);
    EXPECT_EQ_INT(g.n_nodes, 65);
    EXPECT_EQ_INT(n_const, 26);
    EXPECT_EQ_INT(n_params, 11173002);
    EXPECT_EQ_INT(n_op[EOS_OP_CONV], 20);
    EXPECT_EQ_INT(g.n_inputs, 1);
    EXPECT_EQ_INT(g.n_outputs, 1);
    if (g.n_inputs == 1) {
        const eos_value *x = &g.values[g.inputs[0]];
        EXPECT_STR_EQ(x->name, "input");
        EXPECT_EQ_INT(x->ndim, 4);
        EXPECT_EQ_INT(x->dims[0], -1);
        EXPECT_EQ_INT(x->dims[1], 3);
    }
    eos_graph_free(&g);
}

TEST_MAIN(TEST(test_small_model), TEST(test_attr_kinds_packed), TEST(test_attr_kinds_unpacked),
          TEST(test_attr_type_inferred), TEST(test_tensor_encodings), TEST(test_tensor_errors),
          TEST(test_zero_element_tensor), TEST(test_initializer_listed_as_input),
          TEST(test_constant_folding), TEST(test_symbolic_dims_and_partial_outputs),
          TEST(test_metadata), TEST(test_opsets), TEST(test_unsupported_and_arity),
          TEST(test_duplicate_definitions), TEST(test_names), TEST(test_external_data),
          TEST(test_empty_and_garbage), TEST(test_error_names_node), TEST(test_truncation_everywhere),
          TEST(test_random_bytes_and_mutations), TEST(test_huge_dims_small_data),
          TEST(test_allocation_failures), TEST(test_real_resnet18))
