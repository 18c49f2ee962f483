/*
 * tests/core/test_npy.c - .npy round trips for every element type, and bad input.
 */
#include <unistd.h>

#include "common/test.h"

static void tmp_path(char *buf, size_t n, const char *tag) {
    snprintf(buf, n, "/tmp/eos_test_npy_%d_%s.npy", (int)getpid(), tag);
}

static void test_roundtrip_types(void) {
    eos_dtype types[] = { EOS_DTYPE_F32, EOS_DTYPE_F64, EOS_DTYPE_U8, EOS_DTYPE_I8, EOS_DTYPE_U16,
                          EOS_DTYPE_I16, EOS_DTYPE_I32, EOS_DTYPE_I64, EOS_DTYPE_BOOL, EOS_DTYPE_F16 };
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        eos_tensor t = { types[k], 3, { 2, 3, 5 }, NULL };
        size_t nb = eos_tensor_nbytes(&t);
        unsigned char *d = eos_malloc(nb);
        for (size_t i = 0; i < nb; i++) d[i] = (unsigned char)(i * 37 + k);
        if (types[k] == EOS_DTYPE_BOOL) for (size_t i = 0; i < nb; i++) d[i] &= 1;
        t.data = d;
        char path[256], msg[256];
        tmp_path(path, sizeof path, eos_dtype_name(types[k]));
        ASSERT_OK(eos_npy_write(path, &t, msg, sizeof msg));
        eos_tensor r;
        ASSERT_OK(eos_npy_read(path, &r, msg, sizeof msg));
        EXPECT_EQ_INT(r.dtype, types[k]);
        EXPECT_EQ_INT(r.ndim, 3);
        EXPECT_EQ_INT(r.dims[2], 5);
        EXPECT_TRUE(memcmp(r.data, d, nb) == 0);
        eos_free(r.data);
        eos_free(d);
        unlink(path);
    }
}

static void test_scalar_and_1d(void) {
    float v = 3.5f;
    eos_tensor t = { EOS_DTYPE_F32, 0, { 0 }, &v };
    char path[256], msg[256];
    tmp_path(path, sizeof path, "scalar");
    ASSERT_OK(eos_npy_write(path, &t, msg, sizeof msg));
    eos_tensor r;
    ASSERT_OK(eos_npy_read(path, &r, msg, sizeof msg));
    EXPECT_EQ_INT(r.ndim, 0);
    EXPECT_NEAR(*(float *)r.data, 3.5, 0);
    eos_free(r.data);
    float w[4] = { 1, 2, 3, 4 };
    eos_tensor t1 = { EOS_DTYPE_F32, 1, { 4 }, w };
    ASSERT_OK(eos_npy_write(path, &t1, msg, sizeof msg));
    ASSERT_OK(eos_npy_read(path, &r, msg, sizeof msg));
    EXPECT_EQ_INT(r.ndim, 1);
    EXPECT_EQ_INT(r.dims[0], 4);
    eos_free(r.data);
    unlink(path);
}

static eos_status parse(const char *header, size_t payload, char *msg) {
    unsigned char buf[512];
    size_t hl = strlen(header);
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (unsigned char)hl;
    buf[9] = 0;
    memcpy(buf + 10, header, hl);
    memset(buf + 10 + hl, 0, payload);
    eos_tensor t;
    eos_status st = eos_npy_from_memory(buf, 10 + hl + payload, &t, msg, 256);
    if (st == EOS_OK) eos_free(t.data);
    return st;
}

static void test_bad_input(void) {
    char msg[256];
    eos_tensor t;
    EXPECT_STATUS(eos_npy_from_memory("", 0, &t, msg, sizeof msg), EOS_PARSE);
    EXPECT_STATUS(eos_npy_from_memory("hello world!", 12, &t, msg, sizeof msg), EOS_PARSE);
    EXPECT_OK(parse("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 24, msg));
    EXPECT_STATUS(parse("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 20, msg), EOS_PARSE);
    EXPECT_TRUE(strstr(msg, "24") != NULL);
    EXPECT_STATUS(parse("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8, msg), EOS_UNSUPPORTED);
    EXPECT_STATUS(parse("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", 8, msg), EOS_UNSUPPORTED);
    /* a huge declared size on a tiny payload: refused before any allocation */
    eos_alloc_stats a, b;
    eos_alloc_get_stats(&a);
    EXPECT_STATUS(parse("{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000, 100000), }", 8, msg),
                  EOS_PARSE);
    eos_alloc_get_stats(&b);
    EXPECT_EQ_INT(b.total_count, a.total_count);
    EXPECT_STATUS(parse("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4), }", 8, msg),
                  EOS_LIMIT);
    EXPECT_STATUS(parse("{'descr': '<f4', 'shape': (2,), }", 8, msg), EOS_PARSE);
    EXPECT_STATUS(parse("{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }", 4, msg), EOS_LIMIT);
    EXPECT_STATUS(parse("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }", 8, msg), EOS_PARSE);
    EXPECT_STATUS(eos_npy_read("/nonexistent/x.npy", &t, msg, sizeof msg), EOS_IO);
    /* truncations of a valid file never crash */
    unsigned char buf[256];
    const char *h = "{'descr': '<i2', 'fortran_order': False, 'shape': (3,), }";
    size_t hl = strlen(h);
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (unsigned char)hl;
    buf[9] = 0;
    memcpy(buf + 10, h, hl);
    memset(buf + 10 + hl, 1, 6);
    for (size_t cut = 0; cut < 10 + hl + 6; cut++)
        EXPECT_TRUE(eos_npy_from_memory(buf, cut, &t, msg, sizeof msg) != EOS_OK);
    ASSERT_OK(eos_npy_from_memory(buf, 10 + hl + 6, &t, msg, sizeof msg));
    eos_free(t.data);
}

TEST_MAIN(TEST(test_roundtrip_types), TEST(test_scalar_and_1d), TEST(test_bad_input))
