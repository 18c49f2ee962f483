/*
 * tests/onnx/test_onnx_hostile.c - hostile and broken models through the public loader
 * (eos_model_load_from_memory / eos_model_load), which runs the ONNX importer, the topological
 * sort and the load-time passes. Each failure must be a clean status with a message in
 * eos_ctx_errmsg() that names the node or value at fault; nothing may crash or leak.
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/onnx_builder.h"
#include "common/test.h"

static eos_ctx *new_ctx(void) {
    eos_ctx_params p = eos_ctx_default_params();
    p.log_level = EOS_LOG_NONE;
    p.backend = EOS_BACKEND_REF;
    eos_ctx *ctx = NULL;
    if (eos_ctx_create(&p, &ctx)) return NULL;
    return ctx;
}

/* Load b (freed here) from memory; returns the status, the message is in ctx. */
static eos_status load_b(eos_ctx *ctx, onnxb *b, eos_model **m) {
    void *buf;
    size_t size;
    *m = NULL;
    eos_status st = onnxb_finish(b, &buf, &size);
    onnxb_free(b);
    if (st) return st;
    st = eos_model_load_from_memory(ctx, buf, size, NULL, m);
    eos_free(buf);
    return st;
}

/* Expect status `want` and a message containing every non-NULL string of subs. */
static void expect_load_fail(onnxb *b, eos_status want, const char *sub1, const char *sub2,
                             const char *what) {
    eos_ctx *ctx = new_ctx();
    if (!ctx) {
        TEST_FAIL_("no context");
        onnxb_free(b);
        return;
    }
    eos_model *m;
    eos_status st = load_b(ctx, b, &m);
    const char *msg = eos_ctx_errmsg(ctx);
    if (st != want)
        TEST_FAIL_("%s: got %s, want %s (%s)", what, eos_status_name(st), eos_status_name(want), msg);
    else if ((sub1 && !strstr(msg, sub1)) || (sub2 && !strstr(msg, sub2)))
        TEST_FAIL_("%s: message \"%s\" lacks \"%s\" / \"%s\"", what, msg, sub1 ? sub1 : "",
                   sub2 ? sub2 : "");
    else
        printf("  %-28s %s: %s\n", what, eos_status_name(st), msg);
    eos_model_free(m);
    eos_ctx_free(ctx);
}

static onnxb *relu_model(void) {
    onnxb *b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 4, (int64_t[]){ -1, 3, 8, 8 });
    onnxb_node(b, "Relu", "relu0", ONNXB_NAMES("x"), ONNXB_NAMES("y"));
    onnxb_output(b, "y", EOS_DTYPE_F32, 4, (int64_t[]){ -1, 3, 8, 8 });
    onnxb_meta(b, "eosight.task", "test");
    return b;
}

static void test_valid_model_loads(void) {
    eos_ctx *ctx = new_ctx();
    ASSERT_TRUE(ctx != NULL);
    eos_model *m;
    eos_status st = load_b(ctx, relu_model(), &m);
    if (st) TEST_FAIL_("%s: %s", eos_status_name(st), eos_ctx_errmsg(ctx));
    if (m) {
        EXPECT_EQ_INT(eos_model_n_inputs(m), 1);
        EXPECT_EQ_INT(eos_model_n_outputs(m), 1);
        eos_io_info info;
        EXPECT_OK(eos_model_input_info(m, 0, &info));
        EXPECT_STR_EQ(info.name, "x");
        EXPECT_EQ_INT(info.dims[0], -1);
        EXPECT_STR_EQ(eos_model_meta(m, "eosight.task"), "test");
    }
    eos_model_free(m);
    eos_ctx_free(ctx);
}

/* a -> Relu -> b -> Add(b, x) -> a: a cycle no topological order can satisfy. */
static void test_cycle(void) {
    onnxb *b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 1, (int64_t[]){ 4 });
    onnxb_node(b, "Relu", "loop_relu", ONNXB_NAMES("a"), ONNXB_NAMES("b"));
    onnxb_node(b, "Add", "loop_add", ONNXB_NAMES("b", "x"), ONNXB_NAMES("a"));
    onnxb_output(b, "b", EOS_DTYPE_F32, 1, (int64_t[]){ 4 });
    expect_load_fail(b, EOS_PARSE, "cycle", "loop_", "two-node cycle");

    b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 1, (int64_t[]){ 4 });
    onnxb_node(b, "Add", "self", ONNXB_NAMES("x", "s"), ONNXB_NAMES("s"));
    onnxb_output(b, "s", EOS_DTYPE_F32, 1, (int64_t[]){ 4 });
    expect_load_fail(b, EOS_PARSE, "cycle", "'self'", "node reading its own output");
}

/* A node reads a name that nothing defines (e.g. an initializer the exporter dropped). */
static void test_missing_initializer(void) {
    onnxb *b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 4, (int64_t[]){ 1, 3, 8, 8 });
    onnxb_node(b, "Conv", "conv0", ONNXB_NAMES("x", "conv0.weight"), ONNXB_NAMES("y"));
    onnxb_output(b, "y", EOS_DTYPE_F32, -1, NULL);
    expect_load_fail(b, EOS_PARSE, "'conv0'", "'conv0.weight'", "missing initializer");
}

static void test_duplicate_producers(void) {
    onnxb *b = relu_model();
    onnxb_node(b, "Sigmoid", "sig1", ONNXB_NAMES("x"), ONNXB_NAMES("y"));
    expect_load_fail(b, EOS_PARSE, "'relu0'", "'sig1'", "duplicate producers");

    b = relu_model();   /* a node writes a graph input */
    onnxb_node(b, "Sigmoid", "sig2", ONNXB_NAMES("y"), ONNXB_NAMES("x"));
    expect_load_fail(b, EOS_PARSE, "'sig2'", "graph input", "node overwrites input");
}

static void test_undefined_output(void) {
    onnxb *b = relu_model();
    onnxb_output(b, "nowhere", EOS_DTYPE_F32, -1, NULL);
    expect_load_fail(b, EOS_PARSE, "'nowhere'", NULL, "output nobody produces");
}

static void test_hostile_tensors_and_ops(void) {
    onnxb *b = relu_model();
    onnxb_init_raw(b, "big", EOS_DTYPE_F32, 2, (int64_t[]){ 100000, 100000 }, (float[]){ 1 }, 4);
    expect_load_fail(b, EOS_PARSE, "'big'", NULL, "huge dims, tiny data");

    b = relu_model();
    onnxb_node(b, "NonMaxSuppression", "nms", ONNXB_NAMES("y"), ONNXB_NAMES("z"));
    expect_load_fail(b, EOS_UNSUPPORTED, "'NonMaxSuppression'", "'nms'", "unsupported operator");

    b = relu_model();
    onnxb_node(b, "Gemm", "fc", ONNXB_NAMES("y"), ONNXB_NAMES("z"));
    expect_load_fail(b, EOS_PARSE, "'fc'", "Gemm", "wrong arity");

    b = relu_model();
    onnxb_init_external(b, "w", EOS_DTYPE_F32, 1, (int64_t[]){ 4 }, "../../etc/passwd", -1, -1);
    expect_load_fail(b, EOS_PARSE, "'w'", "relative path", "external path escape");

    b = relu_model();
    onnxb_init_external(b, "w", EOS_DTYPE_F32, 1, (int64_t[]){ 4 }, "w.bin", -1, -1);
    expect_load_fail(b, EOS_IO, "'w'", "base directory", "external data from memory");
}

/* Every prefix of a valid model loads or fails cleanly with a message. */
static void test_truncated_loads(void) {
    void *buf;
    size_t size;
    onnxb *b = relu_model();
    onnxb_init_f32(b, "unused", 1, (int64_t[]){ 2 }, (float[]){ 1, 2 });
    ASSERT_OK(onnxb_finish(b, &buf, &size));
    onnxb_free(b);
    eos_ctx *ctx = new_ctx();
    ASSERT_TRUE(ctx != NULL);
    for (size_t len = 0; len < size; len++) {
        void *copy = malloc(len ? len : 1);
        memcpy(copy, buf, len);
        eos_model *m = NULL;
        eos_status st = eos_model_load_from_memory(ctx, copy, len, NULL, &m);
        free(copy);
        if (st != EOS_OK && !eos_ctx_errmsg(ctx)[0]) TEST_FAIL_("prefix %zu: %s without a message", len,
                                                                 eos_status_name(st));
        if (st != EOS_OK && st != EOS_PARSE) TEST_FAIL_("prefix %zu: %s (%s)", len, eos_status_name(st),
                                                        eos_ctx_errmsg(ctx));
        eos_model_free(m);
    }
    eos_ctx_free(ctx);
    eos_free(buf);
}

/* eos_model_load resolves external data next to the model file. */
static void test_external_data_from_file(void) {
    char dir[] = "/tmp/eos_onnx_modelXXXXXX";
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    char model[128], data[128];
    snprintf(model, sizeof model, "%s/m.onnx", dir);
    snprintf(data, sizeof data, "%s/weights.bin", dir);
    float w[4] = { 1, 2, 3, 4 };
    FILE *f = fopen(data, "wb");
    ASSERT_TRUE(f != NULL);
    fwrite(w, 1, sizeof w, f);
    fclose(f);
    onnxb *b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 1, (int64_t[]){ 4 });
    onnxb_init_external(b, "w", EOS_DTYPE_F32, 1, (int64_t[]){ 4 }, "weights.bin", 0, 16);
    onnxb_node(b, "Add", "add", ONNXB_NAMES("x", "w"), ONNXB_NAMES("y"));
    onnxb_output(b, "y", EOS_DTYPE_F32, 1, (int64_t[]){ 4 });
    EXPECT_OK(onnxb_save(b, model));
    onnxb_free(b);
    eos_ctx *ctx = new_ctx();
    eos_model *m = NULL;
    eos_status st = eos_model_load(ctx, model, &m);
    if (st) TEST_FAIL_("%s: %s", eos_status_name(st), eos_ctx_errmsg(ctx));
    eos_model_free(m);
    eos_ctx_free(ctx);
    unlink(model);
    unlink(data);
    rmdir(dir);
}

/* The fuzz seeds (tests/onnx/gen_fuzz_seeds.py, written by the onnx package) load as expected. */
static void test_fuzz_seeds_load(void) {
    static const struct { const char *file; eos_status want; } seeds[] = {
        { "attrs_all.onnx", EOS_OK },     { "constants.onnx", EOS_OK },
        { "conv_relu.onnx", EOS_OK },     { "res_block.onnx", EOS_OK },
        { "shape_ops.onnx", EOS_OK },     { "typed_fields_ir3.onnx", EOS_OK },
        { "external_ref.onnx", EOS_IO },  /* refers to weights.bin, which is not there */
    };
    eos_ctx *ctx = new_ctx();
    ASSERT_TRUE(ctx != NULL);
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, "tests/fuzz/corpus/onnx/%s", seeds[i].file);
        eos_model *m = NULL;
        eos_status st = eos_model_load(ctx, path, &m);
        if (st != seeds[i].want)
            TEST_FAIL_("%s: %s, want %s (%s)", path, eos_status_name(st), eos_status_name(seeds[i].want),
                       eos_ctx_errmsg(ctx));
        eos_model_free(m);
    }
    eos_ctx_free(ctx);
}

TEST_MAIN(TEST(test_valid_model_loads), TEST(test_cycle), TEST(test_missing_initializer),
          TEST(test_duplicate_producers), TEST(test_undefined_output),
          TEST(test_hostile_tensors_and_ops), TEST(test_truncated_loads),
          TEST(test_external_data_from_file), TEST(test_fuzz_seeds_load))
