/*
 * tests/common/test.c - the harness runner and numeric helpers declared in test.h.
 */
#define _XOPEN_SOURCE 700   /* nftw */
#include "common/test.h"

#include <ftw.h>
#include <stdio.h>

#include "eosight/alloc.h"
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

int  test_failures_;
int  test_skipped_;
char test_skip_reason_[256];

int test_run_all(const test_case *cases, int n, int argc, char **argv) {
    int passed = 0, failed = 0, skipped = 0;
    const char *only = argc > 1 ? argv[1] : NULL;   /* run one test by (sub)name */
    for (int i = 0; i < n; i++) {
        if (only && !strstr(cases[i].name, only)) continue;
        test_failures_ = 0;
        test_skipped_ = 0;
        test_skip_reason_[0] = '\0';
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        cases[i].fn();
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
        if (test_failures_) {
            failed++;
            printf("FAIL %s (%d failure%s)\n", cases[i].name, test_failures_, test_failures_ > 1 ? "s" : "");
        } else if (test_skipped_) {
            skipped++;
            printf("SKIP %s: %s\n", cases[i].name, test_skip_reason_);
        } else {
            passed++;
            printf("ok   %s (%.1f ms)\n", cases[i].name, ms);
        }
        fflush(stdout);
    }
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    if (failed) return 1;
    if (skipped && !passed) return 77;
    return 0;
}

double test_nmse(const float *a, const float *b, int64_t n) {
    double num = 0, den = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = (double)a[i] - (double)b[i];
        num += d * d;
        den += (double)b[i] * (double)b[i];
    }
    if (num == 0) return 0;
    return den > 0 ? num / den : INFINITY;
}

double test_max_rel_err(const float *a, const float *b, int64_t n) {
    double mx = 0, mref = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d > mx || isnan(d)) mx = isnan(d) ? INFINITY : d;
        if (fabs((double)b[i]) > mref) mref = fabs((double)b[i]);
    }
    return mx / (mref > 1e-30 ? mref : 1e-30);
}

void test_fill_uniform(float *x, int64_t n, float lo, float hi, uint64_t seed) {
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (int64_t i = 0; i < n; i++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        x[i] = lo + (hi - lo) * (float)((s >> 11) * (1.0 / 9007199254740992.0));
    }
}

const char *test_data_dir(void) {
    const char *d = getenv("EOS_TEST_DATA");
    return d && *d ? d : "tests/data";
}

const char *test_shared_dir(void) {
    const char *d = getenv("EOS_SHARED");
    if (!d || !*d) d = "../shared";
    struct stat st;
    return stat(d, &st) == 0 && S_ISDIR(st.st_mode) ? d : NULL;
}

void test_tmpdir_create(char *buf, size_t size, const char *tag) {
    snprintf(buf, size, "/tmp/eos_%s_XXXXXX", tag);
    if (!mkdtemp(buf)) {
        perror("mkdtemp");
        abort();
    }
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st; (void)flag; (void)ftw;
    return remove(path);
}

void test_tmpdir_remove(const char *dir) {
    if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0) fprintf(stderr, "cannot remove %s\n", dir);
}

char *test_read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    *n = 0;
    if (!f) return NULL;
    char *b = NULL;
    long len = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (len >= 0 && fseek(f, 0, SEEK_SET) == 0 && (b = eos_malloc((size_t)len + 1)) != NULL) {
        if (fread(b, 1, (size_t)len, f) == (size_t)len) {
            b[len] = '\0';
            *n = (size_t)len;
        } else {
            eos_free(b);
            b = NULL;
        }
    }
    fclose(f);
    return b;
}
