/*
 * tests/train/tref_check.h - the gradient-check machinery shared by the reference training
 * kernel tests (test_tref_*.c).
 *
 * Each test writes a double-precision forward of its operator over double copies of the
 * inputs and a loss L = sum(r * y) with a fixed random projection r, so dL/dy = r is what the
 * kernel's backward gets as dy. tc_grad then compares the kernel's float gradient with central
 * differences of L in double,
 *     fd_i = (L(v + h e_i) - L(v - h e_i)) / 2h,
 * by the normalised max error max|g - fd| / max|fd| (elements of a large tensor are sampled).
 * With h = 1e-4 the differences are good to about 1e-9 on smooth functions, so the measured
 * error is the kernel's own float rounding (~1e-7); tolerances are 1e-4 and every check also
 * proves it can fail: the same gradient scaled by 1.01 must be rejected.
 *
 * Static functions in a header: every test file gets its own copy.
 */
#ifndef EOS_TESTS_TRAIN_TREF_CHECK_H
#define EOS_TESTS_TRAIN_TREF_CHECK_H

#include "common/test.h"
#include "eosight/alloc.h"
#include "train/tref.h"

#define TC_TOL       1e-4           /* normalised max error allowed for a float gradient */
#define TC_H         1e-4           /* finite-difference step */
#define TC_MAX_PROBE 64             /* elements probed per tensor (all when fewer) */

typedef double (*tc_loss_fn)(void *ctx);

static inline float *tc_zeros(int64_t n) { return eos_calloc((size_t)(n > 0 ? n : 1), sizeof(float)); }

/* New array of n uniform values in [lo, hi) (caller frees with eos_free). */
static inline float *tc_rand(int64_t n, float lo, float hi, uint64_t seed) {
    float *x = tc_zeros(n);
    if (x) test_fill_uniform(x, n, lo, hi, seed);
    return x;
}

/* Double copy of x (NULL in, NULL out). */
static inline double *tc_dup(const float *x, int64_t n) {
    if (!x) return NULL;
    double *d = eos_malloc((size_t)(n > 0 ? n : 1) * sizeof *d);
    if (d)
        for (int64_t i = 0; i < n; i++) d[i] = x[i];
    return d;
}

/* sum r * y in double */
static inline double tc_project(const double *y, const float *r, int64_t n) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) s += y[i] * r[i];
    return s;
}

/* Index of the k-th probed element of an n-element tensor: all of them when n is small, else
 * TC_MAX_PROBE spread over the tensor (first and last included). */
static inline int64_t tc_probe_count(int64_t n) { return n < TC_MAX_PROBE ? n : TC_MAX_PROBE; }
static inline int64_t tc_probe(int64_t n, int64_t k) {
    if (n <= TC_MAX_PROBE) return k;
    if (k == TC_MAX_PROBE - 1) return n - 1;
    return (k * 7919 + (k * k) % 13) % n;
}

/* Normalised max error of s * g against fd over the probed elements. */
static inline double tc_err(const float *g, double s, const double *fd, int64_t n) {
    double mx = 0.0, mref = 0.0;
    for (int64_t k = 0; k < tc_probe_count(n); k++) {
        int64_t i = tc_probe(n, k);
        double d = fabs(s * g[i] - fd[k]);
        mx = isnan(d) || d > mx ? (isnan(d) ? INFINITY : d) : mx;
        mref = fabs(fd[k]) > mref ? fabs(fd[k]) : mref;
    }
    return mx / (mref > 1e-30 ? mref : 1e-30);
}

/* Central differences of the loss with respect to the probed elements of v[0..n) (v is the
 * double array the loss reads; restored afterwards), into a new array (eos_free). */
static inline double *tc_fd(tc_loss_fn loss, void *ctx, double *v, int64_t n, double h) {
    int64_t np = tc_probe_count(n);
    double *fd = eos_malloc((size_t)(np > 0 ? np : 1) * sizeof *fd);
    if (!fd) return NULL;
    for (int64_t k = 0; k < np; k++) {
        int64_t i = tc_probe(n, k);
        double v0 = v[i];
        v[i] = v0 + h;
        double lp = loss(ctx);
        v[i] = v0 - h;
        double lm = loss(ctx);
        v[i] = v0;
        fd[k] = (lp - lm) / (2.0 * h);
    }
    return fd;
}

/* Normalised max error of the analytic gradient g against central differences. */
static inline double tc_grad_err(tc_loss_fn loss, void *ctx, double *v, int64_t n, const float *g,
                                 double h) {
    double *fd = tc_fd(loss, ctx, v, n, h);
    double err = fd ? tc_err(g, 1.0, fd, n) : INFINITY;
    eos_free(fd);
    return err;
}

/* Check the analytic gradient g of the loss with respect to v[0..n). Fails the current test
 * when the error exceeds tol, or when the 1.01-scaled gradient (the negative control) passes.
 * Prints and returns the error. */
static inline double tc_grad(const char *what, tc_loss_fn loss, void *ctx, double *v, int64_t n,
                             const float *g, double h, double tol) {
    double *fd = tc_fd(loss, ctx, v, n, h);
    if (!fd) {
        TEST_FAIL_("%s: out of memory", what);
        return INFINITY;
    }
    double err = tc_err(g, 1.0, fd, n), bad = tc_err(g, 1.01, fd, n);
    eos_free(fd);
    printf("    %-40s grad max rel err %.2e (x1.01: %.2e)\n", what, err, bad);
    if (!(err <= tol)) TEST_FAIL_("%s: gradient error %.3g > %.3g", what, err, tol);
    if (!(bad > tol)) TEST_FAIL_("%s: negative control (x1.01) not detected: %.3g", what, bad);
    return err;
}

/* Normalised max error of a float result against a double one; fails above tol. */
static inline double tc_cmp(const char *what, const float *got, const double *want, int64_t n,
                            double tol) {
    double mx = 0.0, mref = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs(got[i] - want[i]);
        mx = isnan(d) || d > mx ? (isnan(d) ? INFINITY : d) : mx;
        mref = fabs(want[i]) > mref ? fabs(want[i]) : mref;
    }
    double err = mx / (mref > 1e-30 ? mref : 1e-30);
    if (!(err <= tol)) TEST_FAIL_("%s: max rel err %.3g > %.3g", what, err, tol);
    return err;
}

/* The same with a float reference (ops/ref results). */
static inline double tc_cmpf(const char *what, const float *got, const float *want, int64_t n,
                             double tol) {
    double err = test_max_rel_err(got, want, n);
    if (!(err <= tol)) TEST_FAIL_("%s: max rel err %.3g > %.3g", what, err, tol);
    return err;
}

/* After a second backward call into the same buffers, g2 must be twice g1: exactly where a
 * kernel adds each gradient element once, up to float rounding (normalised 1e-6) where it
 * scatters several contributions into one element. */
static inline void tc_twice(const char *what, const float *g2, const float *g1, int64_t n) {
    double mx = 0.0, mref = 0.0;
    int64_t worst = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs(g2[i] - 2.0 * g1[i]);
        if (d > mx || isnan(d)) {
            mx = isnan(d) ? INFINITY : d;
            worst = i;
        }
        mref = fabs(2.0 * g1[i]) > mref ? fabs(2.0 * g1[i]) : mref;
    }
    if (!(mx <= 1e-6 * mref))
        TEST_FAIL_("%s: element %lld after two backward calls %.9g, want 2 x %.9g", what,
                   (long long)worst, (double)g2[worst], (double)g1[worst]);
}

/* Test-local layout copies (independent of the kernels under test). */
static inline void tc_nhwc_to_nchw(int64_t n, int64_t h, int64_t w, int64_t c, const float *s,
                                   float *d) {
    for (int64_t b = 0; b < n; b++)
        for (int64_t y = 0; y < h; y++)
            for (int64_t x = 0; x < w; x++)
                for (int64_t j = 0; j < c; j++)
                    d[((b * c + j) * h + y) * w + x] = s[((b * h + y) * w + x) * c + j];
}
static inline void tc_nchw_to_nhwc(int64_t n, int64_t c, int64_t h, int64_t w, const float *s,
                                   float *d) {
    for (int64_t b = 0; b < n; b++)
        for (int64_t y = 0; y < h; y++)
            for (int64_t x = 0; x < w; x++)
                for (int64_t j = 0; j < c; j++)
                    d[((b * h + y) * w + x) * c + j] = s[((b * c + j) * h + y) * w + x];
}

#endif /* EOS_TESTS_TRAIN_TREF_CHECK_H */
