/*
 * tests/core/test_core.c - status table, allocation wrapper (counting, caps, injected failures),
 * arena, element types and conversions.
 */
#include "common/test.h"
#include "core/arena.h"
#include "core/err.h"

static void test_status_table(void) {
    EXPECT_STR_EQ(eos_status_name(EOS_OK), "OK");
    EXPECT_STR_EQ(eos_status_name(EOS_NOMEM), "NOMEM");
    EXPECT_STR_EQ(eos_status_str(EOS_NOMEM), "out of memory");
    EXPECT_STR_EQ(eos_status_name((eos_status)999), "UNKNOWN");
    for (int s = 0; s < EOS_STATUS_COUNT_; s++) EXPECT_TRUE(strcmp(eos_status_name((eos_status)s), "UNKNOWN"));
}

static void test_err_prefix(void) {
    eos_err e;
    eos_err_clear(&e);
    EXPECT_EQ_INT(eos_err_set(&e, EOS_SHAPE, "got %d dims", 3), EOS_SHAPE);
    eos_err_prefix(&e, "node '%s': ", "conv1");
    EXPECT_STR_EQ(e.msg, "node 'conv1': got 3 dims");
    EXPECT_EQ_INT(e.status, EOS_SHAPE);
}

static void test_alloc_counts_and_alignment(void) {
    eos_alloc_stats a, b;
    eos_alloc_get_stats(&a);
    char *p = eos_malloc(1000);
    ASSERT_TRUE(p);
    EXPECT_EQ_INT((uintptr_t)p % EOS_ALLOC_ALIGN, 0);
    eos_alloc_get_stats(&b);
    EXPECT_EQ_INT(b.live_bytes - a.live_bytes, 1000);
    EXPECT_EQ_INT(b.live_count - a.live_count, 1);
    memset(p, 7, 1000);
    p = eos_realloc(p, 5000);
    ASSERT_TRUE(p);
    EXPECT_EQ_INT(p[999], 7);
    EXPECT_EQ_INT((uintptr_t)p % EOS_ALLOC_ALIGN, 0);
    eos_free(p);
    eos_alloc_get_stats(&b);
    EXPECT_EQ_INT(b.live_bytes, a.live_bytes);
    eos_free(NULL);
    EXPECT_TRUE(eos_calloc((size_t)1 << 62, 16) == NULL); /* overflow */
}

static void test_alloc_limit_and_injection(void) {
    eos_alloc_stats st;
    eos_alloc_get_stats(&st);
    eos_alloc_set_limit(st.live_bytes + 4096);
    void *p = eos_malloc(8192);
    EXPECT_TRUE(p == NULL);
    void *q = eos_malloc(1024);
    EXPECT_TRUE(q != NULL);
    eos_free(q);
    eos_alloc_set_limit(0);
    eos_alloc_fail_after(2);
    void *a = eos_malloc(8), *b = eos_malloc(8), *c = eos_malloc(8);
    EXPECT_TRUE(a && b && !c);
    eos_alloc_fail_after(-1);
    c = eos_malloc(8);
    EXPECT_TRUE(c != NULL);
    eos_free(a); eos_free(b); eos_free(c);
}

static void test_arena(void) {
    eos_arena a;
    eos_arena_init(&a, 256);
    char *s = eos_arena_strdup(&a, "hello");
    EXPECT_STR_EQ(s, "hello");
    void *big = eos_arena_alloc(&a, 100000);
    ASSERT_TRUE(big);
    EXPECT_EQ_INT((uintptr_t)big % 64, 0);
    for (int i = 0; i < 1000; i++) ASSERT_TRUE(eos_arena_alloc(&a, 24));
    EXPECT_STR_EQ(s, "hello");
    eos_arena_free(&a);
}

static void test_dtype_table(void) {
    EXPECT_EQ_INT(eos_dtype_size(EOS_DTYPE_F32), 4);
    EXPECT_EQ_INT(eos_dtype_size(EOS_DTYPE_BF16), 2);
    EXPECT_EQ_INT(eos_dtype_size(EOS_DTYPE_I64), 8);
    EXPECT_EQ_INT(eos_dtype_from_onnx(1), EOS_DTYPE_F32);
    EXPECT_EQ_INT(eos_dtype_from_onnx(16), EOS_DTYPE_BF16);
    EXPECT_EQ_INT(eos_dtype_from_onnx(8), EOS_DTYPE_UNDEFINED); /* strings */
    EXPECT_EQ_INT(eos_dtype_to_onnx(EOS_DTYPE_U16), 4);
    EXPECT_EQ_INT(eos_dtype_from_name("u16"), EOS_DTYPE_U16);
    eos_tensor t = { EOS_DTYPE_F32, 4, { 2, 3, 4, 5 }, NULL };
    EXPECT_EQ_INT(eos_tensor_numel(&t), 120);
    EXPECT_EQ_INT(eos_tensor_nbytes(&t), 480);
    t.dims[1] = INT64_MAX / 2;
    EXPECT_EQ_INT(eos_tensor_numel(&t), -1);
    char buf[64];
    int64_t d[3] = { 1, -1, 64 };
    EXPECT_STR_EQ(eos_shape_str(3, d, buf, sizeof buf), "[1x?x64]");
}

static void test_half_floats(void) {
    /* exact values, rounding to nearest even, subnormals, infinities */
    EXPECT_EQ_INT(eos_f32_to_f16(1.0f), 0x3c00);
    EXPECT_EQ_INT(eos_f32_to_f16(-2.0f), 0xc000);
    EXPECT_EQ_INT(eos_f32_to_f16(65504.0f), 0x7bff);
    EXPECT_EQ_INT(eos_f32_to_f16(1e6f), 0x7c00);
    EXPECT_EQ_INT(eos_f32_to_f16(5.9604645e-08f), 0x0001);
    EXPECT_EQ_INT(eos_f32_to_f16(1.0f + 1.0f / 2048), 0x3c00); /* tie -> even */
    EXPECT_EQ_INT(eos_f32_to_f16(1.0f + 3.0f / 2048), 0x3c02);
    EXPECT_NEAR(eos_f16_to_f32(0x3555), 0.33325195f, 1e-8);
    EXPECT_NEAR(eos_f16_to_f32(0x0001), 5.9604645e-08f, 1e-15);
    for (uint32_t h = 0; h < 0x7c00; h++) EXPECT_EQ_INT(eos_f32_to_f16(eos_f16_to_f32((uint16_t)h)), h);
    EXPECT_EQ_INT(eos_f32_to_bf16(1.0f), 0x3f80);
    EXPECT_EQ_INT(eos_f32_to_bf16(1.00390625f), 0x3f80); /* tie -> even */
    EXPECT_EQ_INT(eos_f32_to_bf16(1.01171875f), 0x3f82);
    EXPECT_NEAR(eos_bf16_to_f32(0x4049), 3.140625f, 0);
    EXPECT_TRUE(isnan(eos_bf16_to_f32(eos_f32_to_bf16(NAN))));
}

static void test_convert(void) {
    float f[6] = { -3.7f, 0.5f, 255.9f, 300.0f, NAN, 1e20f };
    uint8_t u8[6];
    eos_convert(u8, EOS_DTYPE_U8, f, EOS_DTYPE_F32, 6);
    EXPECT_EQ_INT(u8[0], 0);
    EXPECT_EQ_INT(u8[1], 0);
    EXPECT_EQ_INT(u8[2], 255);
    EXPECT_EQ_INT(u8[3], 255);
    EXPECT_EQ_INT(u8[4], 0);
    int16_t i16[6];
    eos_convert(i16, EOS_DTYPE_I16, f, EOS_DTYPE_F32, 6);
    EXPECT_EQ_INT(i16[0], -3);
    EXPECT_EQ_INT(i16[5], 32767);
    int64_t big[2] = { (int64_t)1 << 60, -5 }, back[2];
    int32_t i32[2];
    eos_convert(back, EOS_DTYPE_I64, big, EOS_DTYPE_I64, 2);
    EXPECT_TRUE(back[0] == big[0]);
    eos_convert(i32, EOS_DTYPE_I32, big, EOS_DTYPE_I64, 2);
    EXPECT_EQ_INT(i32[0], INT32_MAX);
    EXPECT_EQ_INT(i32[1], -5);
    uint16_t u16[3] = { 0, 10000, 65535 };
    float g[3];
    eos_convert(g, EOS_DTYPE_F32, u16, EOS_DTYPE_U16, 3);
    EXPECT_NEAR(g[2], 65535.0, 0);
    uint8_t b[3];
    eos_convert(b, EOS_DTYPE_BOOL, g, EOS_DTYPE_F32, 3);
    EXPECT_TRUE(!b[0] && b[1] && b[2]);
}

TEST_MAIN(TEST(test_status_table), TEST(test_err_prefix), TEST(test_alloc_counts_and_alignment),
          TEST(test_alloc_limit_and_injection), TEST(test_arena), TEST(test_dtype_table),
          TEST(test_half_floats), TEST(test_convert))
