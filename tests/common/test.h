/*
 * tests/common/test.h - the tiny in-house test harness (libuv's task.h in spirit).
 *
 * A test file defines test functions and a table, then main runs them:
 *
 *     static void test_add(void) { EXPECT_EQ_INT(1 + 1, 2); }
 *     static void test_needs_data(void) { if (!have) { TEST_SKIP("no ../shared"); } ... }
 *     TEST_MAIN(TEST(test_add), TEST(test_needs_data))
 *
 * EXPECT_* record a failure and continue; ASSERT_* record and return from the test function.
 * The program prints one line per test and a closing "N passed, N failed, N skipped" line, and
 * exits 1 on any failure, 77 (CTest's skip code here) when every test skipped, else 0.
 */
#ifndef EOS_TESTS_TEST_H
#define EOS_TESTS_TEST_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eosight/eosight.h"

typedef struct test_case { const char *name; void (*fn)(void); } test_case;

extern int test_failures_;      /* failures in the current test */
extern int test_skipped_;       /* set by TEST_SKIP */
extern char test_skip_reason_[256];

int test_run_all(const test_case *cases, int n, int argc, char **argv);

/* Create a fresh directory /tmp/eos_<tag>_XXXXXX, its path written to buf (aborts when it cannot:
 * such a test cannot run at all), and remove it with everything inside. */
void test_tmpdir_create(char *buf, size_t size, const char *tag);
void test_tmpdir_remove(const char *dir);
/* The whole file at path, NUL-terminated (not counted in *n), from eos_malloc (free with
 * eos_free); NULL when it cannot be read. */
char *test_read_file(const char *path, size_t *n);

#define TEST(fn) { #fn, fn }
#define TEST_MAIN(...)                                                                    \
    int main(int argc, char **argv) {                                                     \
        static const test_case cases_[] = { __VA_ARGS__ };                                \
        return test_run_all(cases_, (int)(sizeof cases_ / sizeof cases_[0]), argc, argv); \
    }

#define TEST_FAIL_(...)                                                                   \
    do {                                                                                  \
        fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);                                 \
        fprintf(stderr, __VA_ARGS__);                                                     \
        fputc('\n', stderr);                                                              \
        test_failures_++;                                                                 \
    } while (0)

#define TEST_SKIP(...)                                                                    \
    do {                                                                                  \
        snprintf(test_skip_reason_, sizeof test_skip_reason_, __VA_ARGS__);               \
        test_skipped_ = 1;                                                                \
        return;                                                                           \
    } while (0)

#define EXPECT_TRUE(c) do { if (!(c)) TEST_FAIL_("expected true: %s", #c); } while (0)
#define ASSERT_TRUE(c) do { if (!(c)) { TEST_FAIL_("expected true: %s", #c); return; } } while (0)

#define EXPECT_EQ_INT(a, b)                                                               \
    do {                                                                                  \
        long long a_ = (long long)(a), b_ = (long long)(b);                               \
        if (a_ != b_) TEST_FAIL_("%s == %s: %lld vs %lld", #a, #b, a_, b_);               \
    } while (0)
#define ASSERT_EQ_INT(a, b)                                                               \
    do {                                                                                  \
        long long a_ = (long long)(a), b_ = (long long)(b);                               \
        if (a_ != b_) { TEST_FAIL_("%s == %s: %lld vs %lld", #a, #b, a_, b_); return; }   \
    } while (0)

#define EXPECT_NEAR(a, b, tol)                                                            \
    do {                                                                                  \
        double a_ = (double)(a), b_ = (double)(b);                                        \
        if (!(fabs(a_ - b_) <= (tol))) TEST_FAIL_("%s ~ %s: %.9g vs %.9g (tol %g)", #a, #b, a_, b_, (double)(tol)); \
    } while (0)

#define EXPECT_STR_EQ(a, b)                                                               \
    do {                                                                                  \
        const char *a_ = (a), *b_ = (b);                                                  \
        if (!a_ || !b_ || strcmp(a_, b_)) TEST_FAIL_("%s == %s: \"%s\" vs \"%s\"", #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
    } while (0)

/* status helpers: the message comes from whatever handle the caller names */
#define EXPECT_OK(expr)                                                                   \
    do {                                                                                  \
        eos_status s_ = (expr);                                                           \
        if (s_ != EOS_OK) TEST_FAIL_("%s -> %s", #expr, eos_status_name(s_));             \
    } while (0)
#define ASSERT_OK(expr)                                                                   \
    do {                                                                                  \
        eos_status s_ = (expr);                                                           \
        if (s_ != EOS_OK) { TEST_FAIL_("%s -> %s", #expr, eos_status_name(s_)); return; } \
    } while (0)
#define EXPECT_STATUS(expr, want)                                                         \
    do {                                                                                  \
        eos_status s_ = (expr);                                                           \
        if (s_ != (want)) TEST_FAIL_("%s -> %s, want %s", #expr, eos_status_name(s_), eos_status_name(want)); \
    } while (0)

/* ------------------------------------------------------------------ numeric helpers */

/* Normalised mean squared error sum((a-b)^2) / sum(b^2) (ggml test-backend-ops); 0 if both 0. */
double test_nmse(const float *a, const float *b, int64_t n);
/* max |a-b| / max(max|b|, 1e-30) */
double test_max_rel_err(const float *a, const float *b, int64_t n);
/* Fill with uniform values in [lo, hi) from a xorshift generator seeded with seed. */
void test_fill_uniform(float *x, int64_t n, float lo, float hi, uint64_t seed);

/* Directory with committed test data (EOS_TEST_DATA, default "tests/data"). */
const char *test_data_dir(void);
/* ../shared, or NULL when absent (EOS_SHARED overrides). Tests needing it must TEST_SKIP. */
const char *test_shared_dir(void);

#endif /* EOS_TESTS_TEST_H */
