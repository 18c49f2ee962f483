/*
 * tests/graph/test_hostile_models.c - models that load (or almost load) but are wrong once
 * shapes are concrete, through the public API: load, create a one-thread ref session, run.
 *
 * Each case builds a tiny model with the ONNX builder and checks that the first failing stage
 * (load, or run, which plans) returns the expected status with a message naming the node (or
 * the input / value at fault), and that nothing crashes: absurd conv geometry, groups, weight
 * ranks, BatchNorm vectors, Gemm / MatMul / Concat / Reshape / Split shapes, out-of-range
 * Gather indices at run time, Slice step 0, Pad crops beyond the axis, Resize scales, huge
 * ConstantOfShape, cycles, missing initializers, huge declared input dims, the session's
 * max_arena_bytes guard. Cases found by tests/fuzz/fuzz_model_run.c are kept here as
 * regressions (marked "fuzz").
 */
#include "common/onnx_builder.h"
#include "common/test.h"

/* ------------------------------------------------------------------ harness */

enum { MSG_MAX = 1024 };

typedef struct run_opts {
    const eos_tensor *inputs;   /* NULL: one zero-filled input per graph input, declared shape */
    int               n_inputs;
    size_t            max_arena_bytes;
} run_opts;

static eos_ctx *new_ctx(void) {
    eos_ctx_params p = eos_ctx_default_params();
    p.log_level = EOS_LOG_NONE;
    p.backend = EOS_BACKEND_REF;
    eos_ctx *ctx = NULL;
    return eos_ctx_create(&p, &ctx) == EOS_OK ? ctx : NULL;
}

/* Zero-filled inputs at the declared shapes (symbolic dims 1). */
static eos_status default_inputs(const eos_model *m, eos_tensor *in, int max) {
    int n = eos_model_n_inputs(m);
    if (n > max) return EOS_LIMIT;
    for (int i = 0; i < n; i++) {
        eos_io_info info;
        eos_status st = eos_model_input_info(m, i, &info);
        if (st) return st;
        memset(&in[i], 0, sizeof in[i]);
        in[i].dtype = info.dtype;
        in[i].ndim = info.ndim < 0 ? 0 : info.ndim;
        for (int d = 0; d < in[i].ndim; d++) in[i].dims[d] = info.dims[d] > 0 ? info.dims[d] : 1;
        size_t nb = eos_tensor_nbytes(&in[i]);
        if (nb > ((size_t)1 << 24)) return EOS_LIMIT;
        in[i].data = eos_calloc(1, nb ? nb : 1);
        if (!in[i].data) return EOS_NOMEM;
    }
    return EOS_OK;
}

/* Load b (freed here) and, when it loads, run it once. Returns the first failure's status and
 * copies its message and stage ("load" / "run") out; EOS_OK when everything worked. */
static eos_status load_and_run(onnxb *b, const run_opts *o, char *msg, size_t msg_size,
                               const char **stage) {
    void *buf = NULL;
    size_t size = 0;
    msg[0] = '\0';
    *stage = "build";
    eos_status st = onnxb_finish(b, &buf, &size);
    onnxb_free(b);
    if (st) return st;
    eos_ctx *ctx = new_ctx();
    if (!ctx) {
        eos_free(buf);
        return EOS_NOMEM;
    }
    eos_model *m = NULL;
    *stage = "load";
    st = eos_model_load_from_memory(ctx, buf, size, NULL, &m);
    eos_free(buf);
    if (st) {
        snprintf(msg, msg_size, "%s", eos_ctx_errmsg(ctx));
        eos_ctx_free(ctx);
        return st;
    }
    eos_tensor own[8];
    memset(own, 0, sizeof own);
    const eos_tensor *in = o && o->inputs ? o->inputs : own;
    int n_in = o && o->inputs ? o->n_inputs : eos_model_n_inputs(m);
    *stage = "inputs";
    st = o && o->inputs ? EOS_OK : default_inputs(m, own, 8);
    eos_session_params sp = eos_session_default_params();
    sp.n_threads = 1;
    sp.backend = EOS_BACKEND_REF;
    sp.max_arena_bytes = o ? o->max_arena_bytes : 0;
    eos_session *s = NULL;
    if (st == EOS_OK) st = eos_session_create(m, &sp, &s);
    if (st == EOS_OK) {
        *stage = "run";
        st = eos_session_run(s, in, n_in);
        snprintf(msg, msg_size, "%s", eos_session_errmsg(s));
    }
    eos_session_free(s);
    for (int i = 0; i < 8; i++) eos_free(own[i].data);
    eos_model_free(m);
    eos_ctx_free(ctx);
    return st;
}

/* Expect status `want` at stage `want_stage` with a message containing `name`. */
static void expect_fail_at(onnxb *b, const run_opts *o, eos_status want, const char *want_stage,
                           const char *name, const char *what) {
    char msg[MSG_MAX];
    const char *stage;
    eos_status st = load_and_run(b, o, msg, sizeof msg, &stage);
    if (st != want || strcmp(stage, want_stage))
        TEST_FAIL_("%s: got %s at %s, want %s at %s (%s)", what, eos_status_name(st), stage,
                   eos_status_name(want), want_stage, msg);
    else if (name && !strstr(msg, name))
        TEST_FAIL_("%s: message \"%s\" does not name \"%s\"", what, msg, name);
    else
        printf("  %-34s %s at %s: %s\n", what, eos_status_name(st), stage, msg);
}

static void expect_run_fail(onnxb *b, eos_status want, const char *name, const char *what) {
    expect_fail_at(b, NULL, want, "run", name, what);
}

static void expect_ok(onnxb *b, const run_opts *o, const char *what) {
    char msg[MSG_MAX];
    const char *stage;
    eos_status st = load_and_run(b, o, msg, sizeof msg, &stage);
    if (st != EOS_OK) TEST_FAIL_("%s: %s at %s: %s", what, eos_status_name(st), stage, msg);
}

/* ------------------------------------------------------------------ model makers */

static const float k_w[64] = { 0.5f, -1.0f, 0.25f, 2.0f, 1.0f, 0.0f, -0.5f, 1.5f };

/* One f32 initializer of any small shape (data from k_w, so at most 64 elements). */
static void init_f32(onnxb *b, const char *name, int ndim, const int64_t *dims) {
    onnxb_init_f32(b, name, ndim, dims, k_w);
}

/* x [1, C, H, W] -> Conv(x, w [wdims]) named conv0 -> y. */
static onnxb *conv_model(int64_t c, int64_t h, int w_ndim, const int64_t *w_dims, int *node) {
    onnxb *b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 4, (int64_t[]){ 1, c, h, h });
    init_f32(b, "w", w_ndim, w_dims);
    *node = onnxb_node(b, "Conv", "conv0", ONNXB_NAMES("x", "w"), ONNXB_NAMES("y"));
    onnxb_output(b, "y", EOS_DTYPE_F32, -1, NULL);
    return b;
}

/* x [xdims] (f32) -> op named `name` with extra constant i64 input `ints` (when n > 0) -> y. */
static onnxb *op_with_ints(const char *op, const char *name, int x_ndim, const int64_t *x_dims,
                           int n, const int64_t *ints, int *node) {
    onnxb *b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, x_ndim, x_dims);
    if (n > 0) {
        onnxb_init_i64(b, "k", 1, (int64_t[]){ n }, ints);
        *node = onnxb_node(b, op, name, ONNXB_NAMES("x", "k"), ONNXB_NAMES("y"));
    } else {
        *node = onnxb_node(b, op, name, ONNXB_NAMES("x"), ONNXB_NAMES("y"));
    }
    onnxb_output(b, "y", EOS_DTYPE_F32, -1, NULL);
    return b;
}

/* ------------------------------------------------------------------ Conv family */

static void test_conv_geometry(void) {
    int nd;
    onnxb *b = conv_model(1, 3, 4, (int64_t[]){ 1, 1, 5, 5 }, &nd);
    expect_run_fail(b, EOS_SHAPE, "conv0", "conv kernel > padded input");

    b = conv_model(1, 4, 4, (int64_t[]){ 1, 1, 3, 3 }, &nd);
    onnxb_attr_ints(b, nd, "strides", 2, (int64_t[]){ 0, 1 });
    expect_run_fail(b, EOS_INVALID_ARG, "conv0", "conv zero stride");

    b = conv_model(1, 4, 4, (int64_t[]){ 1, 1, 3, 3 }, &nd);
    onnxb_attr_ints(b, nd, "strides", 2, (int64_t[]){ -2, 1 });
    expect_run_fail(b, EOS_INVALID_ARG, "conv0", "conv negative stride");

    b = conv_model(1, 4, 4, (int64_t[]){ 1, 1, 3, 3 }, &nd);
    onnxb_attr_ints(b, nd, "pads", 4, (int64_t[]){ 0, -1, 0, 0 });
    expect_run_fail(b, EOS_INVALID_ARG, "conv0", "conv negative pad");

    b = conv_model(1, 4, 4, (int64_t[]){ 1, 1, 3, 3 }, &nd);
    onnxb_attr_ints(b, nd, "kernel_shape", 2, (int64_t[]){ 2, 2 });
    expect_run_fail(b, EOS_SHAPE, "conv0", "conv kernel_shape != weight");

    b = conv_model(3, 4, 4, (int64_t[]){ 2, 1, 1, 1 }, &nd);
    onnxb_attr_int(b, nd, "group", 2);
    expect_run_fail(b, EOS_SHAPE, "conv0", "conv group does not divide C");

    b = conv_model(2, 4, 4, (int64_t[]){ 2, 1, 1, 1 }, &nd);
    onnxb_attr_int(b, nd, "group", 0);
    expect_run_fail(b, EOS_INVALID_ARG, "conv0", "conv group 0");

    b = conv_model(2, 4, 4, (int64_t[]){ 2, 2, 1, 1 }, &nd);
    onnxb_attr_int(b, nd, "group", 2);
    expect_run_fail(b, EOS_SHAPE, "conv0", "conv weight C_in x group != C");

    b = conv_model(1, 4, 3, (int64_t[]){ 1, 1, 3 }, &nd);
    expect_run_fail(b, EOS_SHAPE, "conv0", "conv weight rank mismatch");

    /* bias of the wrong length */
    b = conv_model(1, 4, 4, (int64_t[]){ 2, 1, 1, 1 }, &nd);
    init_f32(b, "bias", 1, (int64_t[]){ 3 });
    onnxb_node(b, "Conv", "conv1", ONNXB_NAMES("x", "w", "bias"), ONNXB_NAMES("y2"));
    onnxb_output(b, "y2", EOS_DTYPE_F32, -1, NULL);
    expect_run_fail(b, EOS_SHAPE, "conv1", "conv bias length");
}

/* fuzz: absurd strides / dilations / pads must not overflow int64 (UB) in the geometry. */
static void test_conv_pool_overflow(void) {
    int nd;
    onnxb *b = conv_model(1, 4, 4, (int64_t[]){ 1, 1, 3, 3 }, &nd);
    onnxb_attr_ints(b, nd, "dilations", 2, (int64_t[]){ INT64_MAX / 2 + 1, 1 });
    expect_run_fail(b, EOS_LIMIT, "conv0", "conv huge dilation");

    b = conv_model(1, 4, 4, (int64_t[]){ 1, 1, 3, 3 }, &nd);
    onnxb_attr_ints(b, nd, "pads", 4, (int64_t[]){ INT64_MAX - 1, 0, 4, 0 });
    expect_run_fail(b, EOS_LIMIT, "conv0", "conv huge pads");

    b = conv_model(1, 4, 4, (int64_t[]){ 1, 1, 3, 3 }, &nd);
    onnxb_attr_ints(b, nd, "strides", 2, (int64_t[]){ INT64_MAX, INT64_MAX });
    onnxb_attr_string(b, nd, "auto_pad", "SAME_UPPER");
    expect_ok(b, NULL, "conv huge stride SAME_UPPER");

    onnxb *t = onnxb_new(17);
    onnxb_input(t, "x", EOS_DTYPE_F32, 4, (int64_t[]){ 1, 1, 3, 3 });
    init_f32(t, "w", 4, (int64_t[]){ 1, 1, 2, 2 });
    nd = onnxb_node(t, "ConvTranspose", "convt0", ONNXB_NAMES("x", "w"), ONNXB_NAMES("y"));
    onnxb_attr_ints(t, nd, "strides", 2, (int64_t[]){ INT64_MAX / 2, 1 });
    onnxb_output(t, "y", EOS_DTYPE_F32, -1, NULL);
    expect_run_fail(t, EOS_LIMIT, "convt0", "conv-transpose huge stride");

    b = op_with_ints("MaxPool", "pool0", 4, (int64_t[]){ 1, 1, 4, 4 }, 0, NULL, &nd);
    onnxb_attr_ints(b, nd, "kernel_shape", 2, (int64_t[]){ 2, 2 });
    onnxb_attr_ints(b, nd, "pads", 4, (int64_t[]){ INT64_MAX, 0, INT64_MAX, 0 });
    expect_run_fail(b, EOS_LIMIT, "pool0", "maxpool huge pads");

    b = op_with_ints("AveragePool", "pool1", 4, (int64_t[]){ 1, 1, 4, 4 }, 0, NULL, &nd);
    onnxb_attr_ints(b, nd, "kernel_shape", 2, (int64_t[]){ 2, 2 });
    onnxb_attr_ints(b, nd, "strides", 2, (int64_t[]){ INT64_MAX, 3 });
    onnxb_attr_int(b, nd, "ceil_mode", 1);
    expect_ok(b, NULL, "avgpool huge stride ceil_mode");

    /* a kernel of 2^40 taps with pads to match: one window, must not loop over the taps */
    b = op_with_ints("AveragePool", "pool3", 4, (int64_t[]){ 1, 1, 4, 4 }, 0, NULL, &nd);
    onnxb_attr_ints(b, nd, "kernel_shape", 2, (int64_t[]){ (int64_t)1 << 40, 2 });
    onnxb_attr_ints(b, nd, "pads", 4, (int64_t[]){ (int64_t)1 << 40, 0, 0, 0 });
    onnxb_attr_int(b, nd, "count_include_pad", 1);
    expect_ok(b, NULL, "avgpool 2^40-tap kernel");

    b = op_with_ints("MaxPool", "pool2", 4, (int64_t[]){ 1, 1, 4, 4 }, 0, NULL, &nd);
    onnxb_attr_ints(b, nd, "kernel_shape", 2, (int64_t[]){ 5, 5 });
    expect_run_fail(b, EOS_SHAPE, "pool2", "pool kernel > input");
}

static void test_batch_norm_lengths(void) {
    onnxb *b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 4, (int64_t[]){ 1, 3, 2, 2 });
    init_f32(b, "s", 1, (int64_t[]){ 3 });
    init_f32(b, "bb", 1, (int64_t[]){ 2 });
    init_f32(b, "m", 1, (int64_t[]){ 3 });
    init_f32(b, "v", 1, (int64_t[]){ 3 });
    onnxb_node(b, "BatchNormalization", "bn0", ONNXB_NAMES("x", "s", "bb", "m", "v"),
               ONNXB_NAMES("y"));
    onnxb_output(b, "y", EOS_DTYPE_F32, -1, NULL);
    char msg[MSG_MAX];
    const char *stage;
    eos_status st = load_and_run(b, NULL, msg, sizeof msg, &stage);
    if (st != EOS_SHAPE || !strstr(msg, "bn0"))
        TEST_FAIL_("BatchNorm vector length: %s at %s (%s)", eos_status_name(st), stage, msg);
    else
        printf("  %-34s %s at %s: %s\n", "BatchNorm vector length", eos_status_name(st), stage,
               msg);
}

/* ------------------------------------------------------------------ matrix and shape ops */

static void test_gemm_matmul_concat(void) {
    onnxb *b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 2, (int64_t[]){ 2, 3 });
    init_f32(b, "w", 2, (int64_t[]){ 4, 5 });
    onnxb_node(b, "Gemm", "gemm0", ONNXB_NAMES("x", "w"), ONNXB_NAMES("y"));
    onnxb_output(b, "y", EOS_DTYPE_F32, -1, NULL);
    expect_run_fail(b, EOS_SHAPE, "gemm0", "Gemm inner dims");

    b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 3, (int64_t[]){ 2, 2, 3 });
    init_f32(b, "w", 3, (int64_t[]){ 3, 3, 2 });
    onnxb_node(b, "MatMul", "mm0", ONNXB_NAMES("x", "w"), ONNXB_NAMES("y"));
    onnxb_output(b, "y", EOS_DTYPE_F32, -1, NULL);
    expect_run_fail(b, EOS_SHAPE, "mm0", "MatMul batch broadcast");

    b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 2, (int64_t[]){ 2, 3 });
    init_f32(b, "c", 3, (int64_t[]){ 2, 3, 1 });
    int nd = onnxb_node(b, "Concat", "cat0", ONNXB_NAMES("x", "c"), ONNXB_NAMES("y"));
    onnxb_attr_int(b, nd, "axis", 0);
    onnxb_output(b, "y", EOS_DTYPE_F32, -1, NULL);
    expect_run_fail(b, EOS_SHAPE, "cat0", "Concat rank mismatch");

    b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 2, (int64_t[]){ 2, 3 });
    init_f32(b, "c", 2, (int64_t[]){ 2, 3 });
    nd = onnxb_node(b, "Concat", "cat1", ONNXB_NAMES("x", "c"), ONNXB_NAMES("y"));
    onnxb_attr_int(b, nd, "axis", 2);
    onnxb_output(b, "y", EOS_DTYPE_F32, -1, NULL);
    expect_run_fail(b, EOS_INVALID_ARG, "cat1", "Concat axis out of range");

    b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 1, (int64_t[]){ 3 });
    onnxb_init_i64(b, "c", 1, (int64_t[]){ 3 }, (int64_t[]){ 1, 2, 3 });
    nd = onnxb_node(b, "Add", "add0", ONNXB_NAMES("x", "c"), ONNXB_NAMES("y"));
    onnxb_output(b, "y", EOS_DTYPE_F32, -1, NULL);
    expect_run_fail(b, EOS_TYPE, "add0", "Add f32 + i64");
}

static void test_reshape_split_slice_pad(void) {
    int nd;
    onnxb *b = op_with_ints("Reshape", "rs0", 2, (int64_t[]){ 2, 3 }, 2, (int64_t[]){ 4, 2 }, &nd);
    expect_run_fail(b, EOS_SHAPE, "rs0", "Reshape wrong element count");

    b = op_with_ints("Reshape", "rs1", 2, (int64_t[]){ 2, 3 }, 2, (int64_t[]){ -1, -1 }, &nd);
    expect_run_fail(b, EOS_SHAPE, "rs1", "Reshape two -1");

    b = op_with_ints("Reshape", "rs2", 2, (int64_t[]){ 2, 3 }, 3,
                     (int64_t[]){ INT64_MAX / 2, 4, -1 }, &nd);
    expect_run_fail(b, EOS_LIMIT, "rs2", "Reshape overflowing dims");

    b = onnxb_new(17);   /* Split has two outputs: built by hand */
    onnxb_input(b, "x", EOS_DTYPE_F32, 1, (int64_t[]){ 6 });
    onnxb_init_i64(b, "sp", 1, (int64_t[]){ 2 }, (int64_t[]){ 2, 2 });
    onnxb_node(b, "Split", "split0", ONNXB_NAMES("x", "sp"), ONNXB_NAMES("y0", "y1"));
    onnxb_output(b, "y0", EOS_DTYPE_F32, -1, NULL);
    onnxb_output(b, "y1", EOS_DTYPE_F32, -1, NULL);
    expect_run_fail(b, EOS_SHAPE, "split0", "Split sizes do not add up");

    b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 1, (int64_t[]){ 6 });
    onnxb_init_i64(b, "sp", 1, (int64_t[]){ 2 }, (int64_t[]){ 8, -2 });
    onnxb_node(b, "Split", "split1", ONNXB_NAMES("x", "sp"), ONNXB_NAMES("y0", "y1"));
    onnxb_output(b, "y0", EOS_DTYPE_F32, -1, NULL);
    onnxb_output(b, "y1", EOS_DTYPE_F32, -1, NULL);
    expect_run_fail(b, EOS_SHAPE, "split1", "Split negative size");

    b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 2, (int64_t[]){ 4, 4 });
    onnxb_init_i64(b, "st", 1, (int64_t[]){ 1 }, (int64_t[]){ 0 });
    onnxb_init_i64(b, "en", 1, (int64_t[]){ 1 }, (int64_t[]){ 3 });
    onnxb_init_i64(b, "ax", 1, (int64_t[]){ 1 }, (int64_t[]){ 1 });
    onnxb_init_i64(b, "sp", 1, (int64_t[]){ 1 }, (int64_t[]){ 0 });
    onnxb_node(b, "Slice", "slice0", ONNXB_NAMES("x", "st", "en", "ax", "sp"), ONNXB_NAMES("y"));
    onnxb_output(b, "y", EOS_DTYPE_F32, -1, NULL);
    expect_run_fail(b, EOS_INVALID_ARG, "slice0", "Slice step 0");

    b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 2, (int64_t[]){ 4, 4 });
    onnxb_init_i64(b, "st", 1, (int64_t[]){ 1 }, (int64_t[]){ INT64_MIN });
    onnxb_init_i64(b, "en", 1, (int64_t[]){ 1 }, (int64_t[]){ INT64_MAX });
    onnxb_init_i64(b, "ax", 1, (int64_t[]){ 1 }, (int64_t[]){ 7 });
    onnxb_node(b, "Slice", "slice1", ONNXB_NAMES("x", "st", "en", "ax"), ONNXB_NAMES("y"));
    onnxb_output(b, "y", EOS_DTYPE_F32, -1, NULL);
    expect_run_fail(b, EOS_INVALID_ARG, "slice1", "Slice axis out of range");

    /* huge steps (one element taken): the input stride x step must not overflow */
    b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 2, (int64_t[]){ 4, 4 });
    onnxb_init_i64(b, "st", 1, (int64_t[]){ 2 }, (int64_t[]){ 1, -1 });
    onnxb_init_i64(b, "en", 1, (int64_t[]){ 2 }, (int64_t[]){ 4, INT64_MIN });
    onnxb_init_i64(b, "sp", 1, (int64_t[]){ 2 }, (int64_t[]){ INT64_MAX, INT64_MIN });
    onnxb_node(b, "Slice", "slice2", ONNXB_NAMES("x", "st", "en", "", "sp"), ONNXB_NAMES("y"));
    onnxb_output(b, "y", EOS_DTYPE_F32, -1, NULL);
    expect_ok(b, NULL, "Slice INT64_MAX / INT64_MIN steps");

    b = op_with_ints("Pad", "pad0", 2, (int64_t[]){ 2, 3 }, 4, (int64_t[]){ -3, 0, 0, 0 }, &nd);
    expect_run_fail(b, EOS_SHAPE, "pad0", "Pad crop beyond the axis");

    b = op_with_ints("Pad", "pad1", 2, (int64_t[]){ 2, 3 }, 4,
                     (int64_t[]){ INT64_MAX, 0, INT64_MAX, 0 }, &nd);
    expect_run_fail(b, EOS_SHAPE, "pad1", "Pad overflowing pads");

    b = op_with_ints("Pad", "pad2", 2, (int64_t[]){ 2, 3 }, 4, (int64_t[]){ 0, 3, 0, 0 }, &nd);
    onnxb_attr_string(b, nd, "mode", "reflect");
    expect_run_fail(b, EOS_INVALID_ARG, "pad2", "Pad reflect >= axis");

    b = op_with_ints("Pad", "pad3", 2, (int64_t[]){ 2, 3 }, 3, (int64_t[]){ 1, 1, 1 }, &nd);
    expect_run_fail(b, EOS_SHAPE, "pad3", "Pad odd pads count");

    b = op_with_ints("Transpose", "tr0", 2, (int64_t[]){ 2, 3 }, 0, NULL, &nd);
    onnxb_attr_ints(b, nd, "perm", 2, (int64_t[]){ 0, 0 });
    expect_run_fail(b, EOS_INVALID_ARG, "tr0", "Transpose perm repeats");

    b = op_with_ints("Unsqueeze", "unsq0", 2, (int64_t[]){ 2, 3 }, 1, (int64_t[]){ 5 }, &nd);
    expect_run_fail(b, EOS_INVALID_ARG, "unsq0", "Unsqueeze axis out of range");

    b = op_with_ints("Softmax", "sm0", 2, (int64_t[]){ 2, 3 }, 0, NULL, &nd);
    onnxb_attr_int(b, nd, "axis", -3);
    expect_run_fail(b, EOS_INVALID_ARG, "sm0", "Softmax axis out of range");

    b = op_with_ints("ReduceSum", "rsum0", 2, (int64_t[]){ 2, 3 }, 2, (int64_t[]){ 1, -1 }, &nd);
    expect_run_fail(b, EOS_INVALID_ARG, "rsum0", "ReduceSum repeated axis");
}

static void test_gather_indices(void) {
    /* constant indices: caught while planning */
    onnxb *b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 2, (int64_t[]){ 4, 3 });
    onnxb_init_i64(b, "idx", 1, (int64_t[]){ 2 }, (int64_t[]){ 1, 4 });
    onnxb_node(b, "Gather", "gather0", ONNXB_NAMES("x", "idx"), ONNXB_NAMES("y"));
    onnxb_output(b, "y", EOS_DTYPE_F32, -1, NULL);
    expect_run_fail(b, EOS_INVALID_ARG, "gather0", "Gather constant index");

    /* indices fed at run time: a kernel error, not a crash */
    b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 2, (int64_t[]){ 4, 3 });
    onnxb_input(b, "idx", EOS_DTYPE_I64, 1, (int64_t[]){ 2 });
    onnxb_node(b, "Gather", "gather1", ONNXB_NAMES("x", "idx"), ONNXB_NAMES("y"));
    onnxb_output(b, "y", EOS_DTYPE_F32, -1, NULL);
    float x[12] = { 0 };
    int64_t bad[2] = { 0, -5 };
    eos_tensor in[2] = { { EOS_DTYPE_F32, 2, { 4, 3 }, x }, { EOS_DTYPE_I64, 1, { 2 }, bad } };
    run_opts o = { in, 2, 0 };
    expect_fail_at(b, &o, EOS_INVALID_ARG, "run", "gather1", "Gather run-time index");

    int64_t huge[2] = { INT64_MIN, INT64_MAX };
    in[1].data = huge;
    b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 2, (int64_t[]){ 4, 3 });
    onnxb_input(b, "idx", EOS_DTYPE_I64, 1, (int64_t[]){ 2 });
    onnxb_node(b, "Gather", "gather2", ONNXB_NAMES("x", "idx"), ONNXB_NAMES("y"));
    onnxb_output(b, "y", EOS_DTYPE_F32, -1, NULL);
    expect_fail_at(b, &o, EOS_INVALID_ARG, "run", "gather2", "Gather INT64_MIN index");
}

static void test_resize_scales(void) {
    const float zero[4] = { 1, 1, 0, 1 }, huge[4] = { 1, 1, 1e30f, 1 };
    const float *cases[2] = { zero, huge };
    const eos_status want[2] = { EOS_INVALID_ARG, EOS_LIMIT };
    const char *what[2] = { "Resize zero scale", "Resize huge scale (fuzz)" };
    for (int i = 0; i < 2; i++) {
        onnxb *b = onnxb_new(17);
        onnxb_input(b, "x", EOS_DTYPE_F32, 4, (int64_t[]){ 1, 1, 2, 2 });
        onnxb_init_f32(b, "roi", 1, (int64_t[]){ 0 }, NULL);
        onnxb_init_f32(b, "sc", 1, (int64_t[]){ 4 }, cases[i]);
        onnxb_node(b, "Resize", "resize0", ONNXB_NAMES("x", "roi", "sc"), ONNXB_NAMES("y"));
        onnxb_output(b, "y", EOS_DTYPE_F32, -1, NULL);
        expect_run_fail(b, want[i], "resize0", what[i]);
    }
    /* tf_crop_and_resize with an absurd roi: defined behaviour, finite output */
    onnxb *b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 4, (int64_t[]){ 1, 1, 2, 2 });
    onnxb_init_f32(b, "roi", 1, (int64_t[]){ 8 },
                   (const float[]){ 0, 0, -1e30f, 0, 1, 1, 1e30f, 1 });
    onnxb_init_f32(b, "sc", 1, (int64_t[]){ 4 }, (const float[]){ 1, 1, 1e-29f, 1 });
    int nd = onnxb_node(b, "Resize", "resize1", ONNXB_NAMES("x", "roi", "sc"), ONNXB_NAMES("y"));
    onnxb_attr_string(b, nd, "coordinate_transformation_mode", "tf_crop_and_resize");
    onnxb_output(b, "y", EOS_DTYPE_F32, -1, NULL);
    char msg[MSG_MAX];
    const char *stage;
    eos_status st = load_and_run(b, NULL, msg, sizeof msg, &stage);
    if (st != EOS_OK && !strstr(msg, "resize1"))
        TEST_FAIL_("Resize absurd roi: %s without the node name (%s)", eos_status_name(st), msg);
}

/* ------------------------------------------------------------------ sizes and limits */

static void test_huge_constant_of_shape(void) {
    int64_t shapes[2][3] = { { 1000000, 1000000, 1000000 }, { INT64_MAX, INT64_MAX, 2 } };
    for (int i = 0; i < 2; i++) {
        onnxb *b = onnxb_new(17);
        onnxb_input(b, "x", EOS_DTYPE_F32, 1, (int64_t[]){ 1 });
        onnxb_init_i64(b, "shape", 1, (int64_t[]){ 3 }, shapes[i]);
        onnxb_node(b, "ConstantOfShape", "cos0", ONNXB_NAMES("shape"), ONNXB_NAMES("c"));
        onnxb_node(b, "Add", "add0", ONNXB_NAMES("c", "x"), ONNXB_NAMES("y"));
        onnxb_output(b, "y", EOS_DTYPE_F32, -1, NULL);
        expect_run_fail(b, EOS_LIMIT, "cos0", i ? "ConstantOfShape overflow" : "ConstantOfShape 1e18");
    }
}

static void test_arena_limit(void) {
    /* a 1.5 MiB intermediate: refused under a 1 MiB limit, fine under the default */
    for (int i = 0; i < 2; i++) {
        onnxb *b = onnxb_new(17);
        onnxb_input(b, "x", EOS_DTYPE_F32, 2, (int64_t[]){ 512, 256 });
        int nd = onnxb_node(b, "Concat", "cat0", ONNXB_NAMES("x", "x", "x"), ONNXB_NAMES("c"));
        onnxb_attr_int(b, nd, "axis", 0);
        onnxb_node(b, "Sigmoid", "sig0", ONNXB_NAMES("c"), ONNXB_NAMES("y"));
        onnxb_output(b, "y", EOS_DTYPE_F32, -1, NULL);
        run_opts o = { NULL, 0, i ? 0 : (size_t)1 << 20 };
        if (i == 0) expect_fail_at(b, &o, EOS_LIMIT, "run", "cat0", "max_arena_bytes 1 MiB");
        else expect_ok(b, &o, "default arena limit");
    }
    /* the total arena, not one tensor: two live 1 MiB tensors under a 1.5 MiB limit */
    onnxb *b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 2, (int64_t[]){ 512, 512 });
    onnxb_node(b, "Relu", "relu0", ONNXB_NAMES("x"), ONNXB_NAMES("r"));
    onnxb_node(b, "Add", "add0", ONNXB_NAMES("r", "x"), ONNXB_NAMES("y"));
    onnxb_output(b, "y", EOS_DTYPE_F32, -1, NULL);
    run_opts o = { NULL, 0, (size_t)3 << 19 };
    expect_fail_at(b, &o, EOS_LIMIT, "run", "activations", "arena total over the limit");
}

static void test_huge_declared_input(void) {
    onnxb *b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 2, (int64_t[]){ 1000000, 1000000 });
    onnxb_node(b, "Relu", "relu0", ONNXB_NAMES("x"), ONNXB_NAMES("y"));
    onnxb_output(b, "y", EOS_DTYPE_F32, -1, NULL);
    float x[4] = { 0 };
    eos_tensor in = { EOS_DTYPE_F32, 2, { 2, 2 }, x };
    run_opts o = { &in, 1, 0 };
    expect_fail_at(b, &o, EOS_SHAPE, "run", "'x'", "huge declared dims, small input");

    /* and fed at that size (no data behind it): the limit, before any allocation */
    b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 2, (int64_t[]){ -1, -1 });
    onnxb_node(b, "Relu", "relu0", ONNXB_NAMES("x"), ONNXB_NAMES("y"));
    onnxb_output(b, "y", EOS_DTYPE_F32, -1, NULL);
    eos_tensor big = { EOS_DTYPE_F32, 2, { 1000000, 1000000 }, x };
    o.inputs = &big;
    expect_fail_at(b, &o, EOS_LIMIT, "run", "'x'", "1e12-element input");

    /* zero-size input with absurd other dims */
    b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 3, (int64_t[]){ -1, -1, -1 });
    onnxb_node(b, "Flatten", "flat0", ONNXB_NAMES("x"), ONNXB_NAMES("y"));
    onnxb_output(b, "y", EOS_DTYPE_F32, -1, NULL);
    eos_tensor zero = { EOS_DTYPE_F32, 3, { 0, INT64_MAX / 4, 1 << 30 }, x };
    o.inputs = &zero;
    expect_fail_at(b, &o, EOS_LIMIT, "run", "'x'", "0 x 2^61 x 2^30 input");
}

/* ------------------------------------------------------------------ graph structure */

static void test_graph_structure(void) {
    onnxb *b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 1, (int64_t[]){ 4 });
    onnxb_node(b, "Add", "addA", ONNXB_NAMES("x", "b"), ONNXB_NAMES("a"));
    onnxb_node(b, "Relu", "reluB", ONNXB_NAMES("a"), ONNXB_NAMES("b"));
    onnxb_output(b, "a", EOS_DTYPE_F32, -1, NULL);
    expect_fail_at(b, NULL, EOS_PARSE, "load", "cycle", "cyclic graph");

    b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 4, (int64_t[]){ 1, 1, 4, 4 });
    onnxb_node(b, "Conv", "conv0", ONNXB_NAMES("x", "w_missing"), ONNXB_NAMES("y"));
    onnxb_output(b, "y", EOS_DTYPE_F32, -1, NULL);
    expect_fail_at(b, NULL, EOS_PARSE, "load", "w_missing", "missing initializer");

    /* fuzz: a graph with no nodes whose output is its input */
    b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 1, (int64_t[]){ 3 });
    onnxb_output(b, "x", EOS_DTYPE_F32, 1, (int64_t[]){ 3 });
    expect_ok(b, NULL, "graph without nodes");

    /* rank-0 input into ops that need a rank */
    b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 0, NULL);
    int nd = onnxb_node(b, "Concat", "cat0", ONNXB_NAMES("x", "x"), ONNXB_NAMES("y"));
    onnxb_attr_int(b, nd, "axis", 0);
    onnxb_output(b, "y", EOS_DTYPE_F32, -1, NULL);
    expect_run_fail(b, EOS_SHAPE, "cat0", "Concat of scalars");
}

TEST_MAIN(TEST(test_conv_geometry), TEST(test_conv_pool_overflow), TEST(test_batch_norm_lengths),
          TEST(test_gemm_matmul_concat), TEST(test_reshape_split_slice_pad),
          TEST(test_gather_indices), TEST(test_resize_scales), TEST(test_huge_constant_of_shape),
          TEST(test_arena_limit), TEST(test_huge_declared_input), TEST(test_graph_structure))
