/*
 * tests/train/test_net_bf16.c - the bf16 convolution path computes exactly what the f32 path
 * computes when every value it rounds is representable in bfloat16.
 *
 * A chain Conv 3x3 -> depthwise Conv 3x3 -> ConvTranspose 2x2/2 with weights, inputs and the
 * upstream gradient in {-1, 0, 1}: every activation and gradient the bf16 path converts stays a
 * small integer (|v| <= 256, exact in bf16's 8-bit mantissa) and accumulation is f32, so
 * logits and every weight gradient must agree bit for bit with the f32 path. This checks the
 * bf16 plumbing (conversions, layouts, buffers) precisely, which the tolerance-based
 * comparison in test_net.c cannot.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/onnx_builder.h"
#include "common/test.h"
#include "eosight/train.h"

static void tern(float *x, int64_t n, uint64_t seed) {
    for (int64_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = (float)((int)((seed >> 33) % 3) - 1);
    }
}

static bool write_model(const char *path) {
    static float w1[4 * 2 * 9], w2[4 * 1 * 9], w3[4 * 2 * 4], b1[4] = {1, 0, -1, 0};
    tern(w1, 72, 1);
    tern(w2, 36, 2);
    tern(w3, 32, 3);
    onnxb *b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 4, (int64_t[]){-1, 2, 8, 8});
    onnxb_init_f32(b, "w1", 4, (int64_t[]){4, 2, 3, 3}, w1);
    onnxb_init_f32(b, "b1", 1, (int64_t[]){4}, b1);
    onnxb_init_f32(b, "w2", 4, (int64_t[]){4, 1, 3, 3}, w2);
    onnxb_init_f32(b, "w3", 4, (int64_t[]){4, 2, 2, 2}, w3);
    int n = onnxb_node(b, "Conv", "c1", ONNXB_NAMES("x", "w1", "b1"), ONNXB_NAMES("y1"));
    onnxb_attr_ints(b, n, "pads", 4, (int64_t[]){1, 1, 1, 1});
    n = onnxb_node(b, "Conv", "c2", ONNXB_NAMES("y1", "w2"), ONNXB_NAMES("y2"));
    onnxb_attr_ints(b, n, "pads", 4, (int64_t[]){1, 1, 1, 1});
    onnxb_attr_int(b, n, "group", 4);
    n = onnxb_node(b, "ConvTranspose", "c3", ONNXB_NAMES("y2", "w3"), ONNXB_NAMES("y3"));
    onnxb_attr_ints(b, n, "strides", 2, (int64_t[]){2, 2});
    onnxb_output(b, "y3", EOS_DTYPE_F32, 4, (int64_t[]){-1, 2, 16, 16});
    void *buf;
    size_t size;
    bool ok = onnxb_finish(b, &buf, &size) == EOS_OK;
    onnxb_free(b);
    if (!ok) return false;
    FILE *f = fopen(path, "wb");
    ok = f && fwrite(buf, 1, size, f) == size;
    if (f) fclose(f);
    eos_free(buf);
    return ok;
}

static int g_bf16_used;

static void run(eos_ctx *ctx, const char *path, bool bf16, float **out, int64_t *n_out,
                float **grads, int64_t *n_grads) {
    eos_net_params p = eos_net_default_params();
    p.bf16 = bf16;
    p.n_threads = 1;
    eos_net *net = NULL;
    ASSERT_OK(eos_net_load(ctx, path, &p, &net));
    float x[2 * 2 * 8 * 8];
    tern(x, 256, 4);
    const float *lg;
    int64_t rows;
    ASSERT_OK(eos_net_forward(net, x, 2, 8, 8, true, &lg, &rows));
    int n_conv = 0, n_bf16 = eos_net_bf16_layers(net, &n_conv);
    printf("  bf16=%d: %d of %d convolutions in bf16\n", bf16, n_bf16, n_conv);
    EXPECT_EQ_INT(n_conv, 3);
    if (!bf16) EXPECT_EQ_INT(n_bf16, 0);
    g_bf16_used = bf16 ? n_bf16 : g_bf16_used;
    *n_out = rows * 2;
    *out = eos_malloc(sizeof(float) * (size_t)*n_out);
    memcpy(*out, lg, sizeof(float) * (size_t)*n_out);
    float *dl = eos_malloc(sizeof(float) * (size_t)*n_out);
    tern(dl, *n_out, 5);
    ASSERT_OK(eos_net_backward(net, dl));
    eos_free(dl);
    eos_param_ref refs[8];
    int np = eos_net_n_params(net);
    ASSERT_EQ_INT(np, 4);
    eos_net_param_refs(net, refs);
    *n_grads = 0;
    for (int i = 0; i < np; i++) *n_grads += refs[i].n;
    *grads = eos_malloc(sizeof(float) * (size_t)*n_grads);
    int64_t o = 0;
    for (int i = 0; i < np; i++) {
        memcpy(*grads + o, refs[i].g, sizeof(float) * (size_t)refs[i].n);
        o += refs[i].n;
    }
    eos_net_free(net);
}

static void test_bf16_exact_on_representable_values(void) {
    char dir[256], path[300];
    test_tmpdir_create(dir, sizeof dir, "bf16");
    snprintf(path, sizeof path, "%s/chain.onnx", dir);
    ASSERT_TRUE(write_model(path));
    eos_ctx *ctx = NULL;
    ASSERT_OK(eos_ctx_create(NULL, &ctx));
    float *o32 = NULL, *o16 = NULL, *g32 = NULL, *g16 = NULL;
    int64_t no32, no16, ng32, ng16;
    run(ctx, path, false, &o32, &no32, &g32, &ng32);
    run(ctx, path, true, &o16, &no16, &g16, &ng16);
    if (o32 && o16 && g32 && g16) {
        EXPECT_EQ_INT(no32, no16);
        EXPECT_EQ_INT(ng32, ng16);
        double maxo = 0, maxg = 0;
        for (int64_t i = 0; i < no32; i++) maxo = fmax(maxo, fabs((double)o32[i]));
        for (int64_t i = 0; i < ng32; i++) maxg = fmax(maxg, fabs((double)g32[i]));
        printf("  |logits| <= %g, |grads| <= %g\n", maxo, maxg);
        EXPECT_TRUE(maxo > 10 && maxg > 10);   /* the chain is not trivially zero */
        EXPECT_TRUE(memcmp(o32, o16, sizeof(float) * (size_t)no32) == 0);
        EXPECT_TRUE(memcmp(g32, g16, sizeof(float) * (size_t)ng32) == 0);
    }
    eos_net_params dp = eos_net_default_params();
    if (!dp.bf16) printf("  SKIP-ish: this CPU has no bf16 (the bf16 run fell back to f32)\n");
    else EXPECT_EQ_INT(g_bf16_used, 3);
    eos_free(o32); eos_free(o16); eos_free(g32); eos_free(g16);
    eos_ctx_free(ctx);
    test_tmpdir_remove(dir);
}

TEST_MAIN(TEST(test_bf16_exact_on_representable_values))
