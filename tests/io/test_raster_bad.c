/*
 * tests/io/test_raster_bad.c - hostile and mistaken input to the raster reader (src/io/raster*.c).
 *
 * Truncated GeoTIFFs (open may succeed, reads must fail with EOS_IO and a message naming the
 * file and window), text files (EOS_PARSE), headers claiming 100000 x 100000 pixels on tiny files
 * (a sparse tiled GeoTIFF, and a striped one whose size tags are patched), where reads must
 * fail cleanly or return nodata while eosight allocates no more than the window (eos_alloc's
 * peak), band lists naming bands that do not exist, bad windows, and an allocation-failure loop
 * over open and read.
 */
#include <cpl_conv.h>
#include <gdal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/test.h"
#include "eosight/raster.h"

static char g_dir[256];

static const char *tmp_path(const char *name) {
    static char path[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(path[k], sizeof path[k], "%s/%s", g_dir, name);
    return path[k];
}

static const char *make_tif(const char *name, int w, int h, int nb, char **opts) {
    const char *path = tmp_path(name);
    GDALAllRegister();
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path, w, h, nb, GDT_UInt16, opts);
    if (!ds) return NULL;
    double gt[6] = { 300000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0 };
    GDALSetGeoTransform(ds, gt);
    uint16_t *px = malloc((size_t)w * h * nb * 2);
    for (size_t i = 0; i < (size_t)w * h * nb; i++) px[i] = (uint16_t)(i * 2654435761u >> 7);
    CPLErr e = GDALDatasetRasterIO(ds, GF_Write, 0, 0, w, h, px, w, h, GDT_UInt16, nb, NULL, 0, 0, 0);
    for (int b = 1; b <= nb; b++) {
        char d[16];
        snprintf(d, sizeof d, "B%02d", b + 1);
        GDALSetDescription(GDALGetRasterBand(ds, b), d);
    }
    free(px);
    GDALClose(ds);
    return e == CE_None ? path : NULL;
}

static eos_status open_msg(const char *path, const char *bands, eos_raster **r, char *msg, size_t n) {
    eos_ctx *ctx;
    if (eos_ctx_create(NULL, &ctx) != EOS_OK) return EOS_NOMEM;
    eos_raster_open_params p = eos_raster_default_open_params();
    p.bands = bands;
    eos_status st = eos_raster_open(ctx, path, &p, r);
    snprintf(msg, n, "%s", eos_ctx_errmsg(ctx));
    eos_ctx_free(ctx);
    return st;
}

/* ------------------------------------------------------------------ damaged files */

static void check_truncated(const char *path, off_t keep) {
    ASSERT_TRUE(path != NULL);
    ASSERT_EQ_INT(truncate(path, keep), 0);
    eos_raster *r = NULL;
    char msg[512];
    eos_status st = open_msg(path, NULL, &r, msg, sizeof msg);
    if (st != EOS_OK) {
        EXPECT_TRUE(st == EOS_PARSE || st == EOS_IO);
        EXPECT_TRUE(strstr(msg, path) != NULL);
        return;
    }
    eos_raster_info in;
    eos_raster_get_info(r, &in);
    size_t n = (size_t)in.width_px * in.height_px * in.n_selected;
    uint16_t *buf = malloc(n * 2);
    uint8_t *valid = malloc((size_t)in.width_px * in.height_px);
    st = eos_raster_read(r, 0, 0, (int)in.width_px, (int)in.height_px, EOS_DTYPE_U16, buf, valid,
                         EOS_PAD_REFLECT);
    EXPECT_STATUS(st, EOS_IO);
    const char *m = eos_raster_errmsg(r);
    if (!strstr(m, path) || !strstr(m, "window")) TEST_FAIL_("message: '%s'", m);
    /* the handle stays usable: a window in the intact part still reads */
    EXPECT_OK(eos_raster_read(r, 0, 0, 8, 2, EOS_DTYPE_U16, buf, valid, EOS_PAD_REFLECT));
    EXPECT_STR_EQ(eos_raster_errmsg(r), "");
    free(buf);
    free(valid);
    eos_raster_close(r);
}

static void test_truncated(void) {
    char *striped[] = { "TILED=NO", NULL };
    check_truncated(make_tif("trunc_strip.tif", 200, 150, 3, striped), 60000);
    char *tiled[] = { "TILED=YES", "BLOCKXSIZE=64", "BLOCKYSIZE=64", "COMPRESS=DEFLATE", NULL };
    const char *p = make_tif("trunc_tile.tif", 200, 150, 3, tiled);
    ASSERT_TRUE(p != NULL);
    struct stat sb;
    ASSERT_EQ_INT(stat(p, &sb), 0);
    check_truncated(p, sb.st_size * 2 / 3);
    /* cut inside the header: open fails */
    char msg[512];
    eos_raster *r = NULL;
    p = make_tif("trunc_head.tif", 20, 20, 1, striped);
    ASSERT_TRUE(p != NULL);
    ASSERT_EQ_INT(truncate(p, 6), 0);
    EXPECT_STATUS(open_msg(p, NULL, &r, msg, sizeof msg), EOS_PARSE);
    EXPECT_TRUE(r == NULL);
}

static void test_not_a_raster(void) {
    const char *p = tmp_path("notes.txt");
    FILE *f = fopen(p, "w");
    ASSERT_TRUE(f != NULL);
    fputs("this is a text file, not an image\n", f);
    fclose(f);
    char msg[512];
    eos_raster *r = (eos_raster *)1;
    EXPECT_STATUS(open_msg(p, NULL, &r, msg, sizeof msg), EOS_PARSE);
    EXPECT_TRUE(r == NULL);
    EXPECT_TRUE(strstr(msg, "notes.txt") != NULL);
    EXPECT_STATUS(open_msg(tmp_path("missing.tif"), NULL, &r, msg, sizeof msg), EOS_IO);
    EXPECT_TRUE(strstr(msg, "missing.tif") != NULL);
    EXPECT_STATUS(open_msg(g_dir, NULL, &r, msg, sizeof msg), EOS_IO);
    EXPECT_STATUS(open_msg("", NULL, &r, msg, sizeof msg), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_raster_open(NULL, NULL, NULL, &r), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_raster_open_from_memory(NULL, "GIF89a", 6, "x.gif", NULL, &r), EOS_PARSE);
    EXPECT_STATUS(eos_raster_open_from_memory(NULL, "hello", 5, NULL, NULL, &r), EOS_PARSE);
    EXPECT_TRUE(r == NULL);
}

/* ------------------------------------------------------------------ huge headers */

/* Patch ImageWidth (256) and ImageLength (257) of the first IFD of a little-endian classic TIFF
 * to LONG `v`. */
static bool patch_size(const char *path, uint32_t v) {
    FILE *f = fopen(path, "r+b");
    if (!f) return false;
    uint8_t h[8];
    bool ok = fread(h, 1, 8, f) == 8 && h[0] == 'I' && h[2] == 42;
    uint32_t ifd = h[4] | h[5] << 8 | h[6] << 16 | (uint32_t)h[7] << 24;
    uint8_t cnt[2];
    ok = ok && fseek(f, ifd, SEEK_SET) == 0 && fread(cnt, 1, 2, f) == 2;
    int n = cnt[0] | cnt[1] << 8, patched = 0;
    for (int i = 0; ok && i < n; i++) {
        uint8_t e[12];
        long at = (long)ifd + 2 + 12 * i;
        ok = fseek(f, at, SEEK_SET) == 0 && fread(e, 1, 12, f) == 12;
        int tag = e[0] | e[1] << 8;
        if (!ok || (tag != 256 && tag != 257)) continue;
        uint8_t ne[12] = { e[0], e[1], 4, 0, 1, 0, 0, 0, (uint8_t)v, (uint8_t)(v >> 8),
                           (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
        ok = fseek(f, at, SEEK_SET) == 0 && fwrite(ne, 1, 12, f) == 12;
        patched++;
    }
    fclose(f);
    return ok && patched == 2;
}

static void huge_reads(eos_raster *r) {
    eos_alloc_stats s0, s1;
    eos_alloc_reset_peak();
    eos_alloc_get_stats(&s0);
    uint16_t *buf = malloc(256 * 256 * 2);
    uint8_t *valid = malloc(256 * 256);
    const int64_t xy[3][2] = { { 50000, 50000 }, { -100, 99900 }, { 99990, -30 } };
    for (int k = 0; k < 3; k++) {
        eos_status st = eos_raster_read(r, xy[k][0], xy[k][1], 256, 256, EOS_DTYPE_U16, buf, valid,
                                        EOS_PAD_REFLECT);
        if (st != EOS_OK && st != EOS_IO) TEST_FAIL_("read %d: %s", k, eos_status_name(st));
        if (st == EOS_IO && !strstr(eos_raster_errmsg(r), "window"))
            TEST_FAIL_("message: %s", eos_raster_errmsg(r));
        if (st == EOS_OK) {
            int64_t nonzero = 0;
            for (int i = 0; i < 256 * 256; i++) nonzero += buf[i] != 0;
            EXPECT_EQ_INT(nonzero, 0);
        }
    }
    eos_alloc_get_stats(&s1);
    /* a 256 x 256 window (padding scratch included) needs well under 1 MB of ours */
    if (s1.peak_bytes - s0.live_bytes > (1 << 20))
        TEST_FAIL_("peak grew by %lld bytes", (long long)(s1.peak_bytes - s0.live_bytes));
    free(buf);
    free(valid);
}

static void test_huge_sparse(void) {
    const char *p = tmp_path("sparse.tif");
    char *opts[] = { "TILED=YES", "BLOCKXSIZE=1024", "BLOCKYSIZE=1024", "SPARSE_OK=TRUE", NULL };
    GDALAllRegister();
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), p, 100000, 100000, 1, GDT_UInt16, opts);
    ASSERT_TRUE(ds != NULL);
    GDALClose(ds);
    struct stat sb;
    ASSERT_EQ_INT(stat(p, &sb), 0);
    EXPECT_TRUE(sb.st_size < 200000);
    eos_raster *r = NULL;
    char msg[512];
    ASSERT_OK(open_msg(p, NULL, &r, msg, sizeof msg));
    eos_raster_info in;
    eos_raster_get_info(r, &in);
    EXPECT_EQ_INT(in.width_px, 100000);
    EXPECT_EQ_INT(in.height_px, 100000);
    huge_reads(r);
    eos_raster_close(r);
}

static void test_huge_patched(void) {
    char *striped[] = { "TILED=NO", NULL };
    const char *p = make_tif("patched.tif", 16, 16, 1, striped);
    ASSERT_TRUE(p != NULL);
    ASSERT_TRUE(patch_size(p, 100000));
    eos_raster *r = NULL;
    char msg[512];
    eos_status st = open_msg(p, NULL, &r, msg, sizeof msg);
    if (st != EOS_OK) {
        EXPECT_TRUE(st == EOS_PARSE || st == EOS_IO);
        return;
    }
    eos_raster_info in;
    eos_raster_get_info(r, &in);
    EXPECT_EQ_INT(in.width_px, 100000);
    huge_reads(r);
    eos_raster_close(r);
}

/* ------------------------------------------------------------------ mistaken arguments */

static void test_bad_bands(void) {
    const char *p = make_tif("bands.tif", 20, 10, 3, NULL);
    ASSERT_TRUE(p != NULL);
    struct { const char *list; eos_status want; const char *msg; } cases[] = {
        { "4", EOS_INVALID_ARG, "band 4 requested, the raster has 3 bands" },
        { "0", EOS_INVALID_ARG, "band 0 requested" },
        { "1,99999999999", EOS_INVALID_ARG, "band 99999999999 requested" },
        { "B99", EOS_NOT_FOUND, "no band named 'B99' (bands: 1=B02, 2=B03, 3=B04)" },
        { "-1", EOS_NOT_FOUND, "no band named '-1'" },
        { "1,,2", EOS_INVALID_ARG, "empty entry" },
        { "1,", EOS_INVALID_ARG, "empty entry" },
        { " ", EOS_INVALID_ARG, "empty entry" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        eos_raster *r = (eos_raster *)1;
        char msg[512];
        eos_status st = open_msg(p, cases[i].list, &r, msg, sizeof msg);
        if (st != cases[i].want || !strstr(msg, cases[i].msg) || !strstr(msg, "bands.tif"))
            TEST_FAIL_("'%s': %s '%s', want %s '%s'", cases[i].list, eos_status_name(st), msg,
                       eos_status_name(cases[i].want), cases[i].msg);
        EXPECT_TRUE(r == NULL);
    }
    /* more than EOS_RASTER_MAX_BANDS entries */
    char big[2048] = "1";
    for (int i = 0; i < EOS_RASTER_MAX_BANDS; i++) strcat(big, ",2");
    eos_raster *r;
    char msg[512];
    EXPECT_STATUS(open_msg(p, big, &r, msg, sizeof msg), EOS_LIMIT);
}

static void test_bad_windows(void) {
    const char *p = make_tif("win.tif", 20, 10, 2, NULL);
    ASSERT_TRUE(p != NULL);
    eos_raster *r;
    char msg[512];
    ASSERT_OK(open_msg(p, NULL, &r, msg, sizeof msg));
    uint16_t buf[2 * 64];
    uint8_t valid[64];
    struct { int64_t x0, y0; int w, h; } bad[] = {
        { 0, 0, 0, 4 }, { 0, 0, 4, 0 }, { 0, 0, -3, 4 },
        { 100, 0, 8, 8 },        /* right of the raster by 80 > 8 */
        { 0, -50, 8, 8 },        /* above by 42 */
        { -20, 0, 8, 8 },        /* left by 12 */
        { INT64_MAX - 4, 0, 8, 8 }, { 0, INT64_MIN, 8, 8 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (int pad = 0; pad < 2; pad++) {
            eos_status st = eos_raster_read(r, bad[i].x0, bad[i].y0, bad[i].w, bad[i].h, EOS_DTYPE_U16,
                                            buf, valid, (eos_pad_mode)pad);
            if (st != EOS_INVALID_ARG || !strstr(eos_raster_errmsg(r), "win.tif"))
                TEST_FAIL_("window %zu: %s '%s'", i, eos_status_name(st), eos_raster_errmsg(r));
        }
    }
    EXPECT_TRUE(strstr(eos_raster_errmsg(r), "window") != NULL);
    /* outside by less than its size: allowed */
    EXPECT_OK(eos_raster_read(r, 24, 0, 8, 8, EOS_DTYPE_U16, buf, valid, EOS_PAD_REFLECT));
    EXPECT_STATUS(eos_raster_read(r, 0, 0, 4, 4, EOS_DTYPE_F16, buf, valid, EOS_PAD_REFLECT), EOS_INVALID_ARG);
    EXPECT_TRUE(strstr(eos_raster_errmsg(r), "f16") != NULL);
    EXPECT_STATUS(eos_raster_read(r, 0, 0, 4, 4, EOS_DTYPE_U16, NULL, valid, EOS_PAD_REFLECT), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_raster_read(r, 0, 0, 4, 4, EOS_DTYPE_U16, buf, valid, (eos_pad_mode)7), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_raster_read(NULL, 0, 0, 4, 4, EOS_DTYPE_U16, buf, valid, EOS_PAD_REFLECT), EOS_INVALID_ARG);
    int w, h;
    EXPECT_STATUS(eos_raster_read_decimated(r, -1, 4, EOS_DTYPE_U16, buf, valid, &w, &h), EOS_INVALID_ARG);
    eos_raster_close(r);
}

/* Every allocation of open, read and JSON fails in turn: a status, never a crash or a leak. */
static void test_alloc_failures(void) {
    const char *p = make_tif("oom.tif", 40, 30, 3, NULL);
    ASSERT_TRUE(p != NULL);
    eos_alloc_stats s0, s1;
    eos_alloc_get_stats(&s0);
    int n_ok = 0;
    for (int n = 0; n < 60; n++) {
        eos_alloc_fail_after(n);
        eos_raster *r = NULL;
        eos_status st = eos_raster_open(NULL, p, NULL, &r);
        if (st == EOS_OK) {
            uint16_t buf[3 * 16 * 16];
            uint8_t valid[256];
            eos_status rs = eos_raster_read(r, -8, -8, 16, 16, EOS_DTYPE_U16, buf, valid, EOS_PAD_REFLECT);
            if (rs != EOS_OK && rs != EOS_NOMEM) TEST_FAIL_("read with %d allocations: %s", n, eos_status_name(rs));
            char *json = NULL;
            eos_status js = eos_raster_info_json(r, &json);
            if (js != EOS_OK && js != EOS_NOMEM) TEST_FAIL_("json with %d allocations: %s", n, eos_status_name(js));
            eos_free(json);
            eos_raster_close(r);
            n_ok += rs == EOS_OK && js == EOS_OK;
        } else if (st != EOS_NOMEM) {
            TEST_FAIL_("open with %d allocations: %s", n, eos_status_name(st));
        }
    }
    eos_alloc_fail_after(-1);
    eos_alloc_get_stats(&s1);
    EXPECT_EQ_INT(s1.live_bytes, s0.live_bytes);
    EXPECT_TRUE(n_ok > 0);
}

static void setup(void) {
    test_tmpdir_create(g_dir, sizeof g_dir, "rbad");
}

static void teardown(void) {
    test_tmpdir_remove(g_dir);
}

int main(int argc, char **argv) {
    static const test_case cases[] = {
        TEST(test_truncated),    TEST(test_not_a_raster), TEST(test_huge_sparse),
        TEST(test_huge_patched), TEST(test_bad_bands),    TEST(test_bad_windows),
        TEST(test_alloc_failures),
    };
    setup();
    int rc = test_run_all(cases, (int)(sizeof cases / sizeof cases[0]), argc, argv);
    teardown();
    return rc;
}
