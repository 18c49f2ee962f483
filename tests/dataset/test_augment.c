/*
 * tests/dataset/test_augment.c - augmentation (src/data/augment.c, warp.c): the 8 D4 elements
 * against hand-computed permutations, image/mask alignment under every geometric operation
 * (the image encodes its own pixel coordinates, the mask a function of them), bit-identity at
 * zero probabilities, determinism from the generator, colour/gain/noise statistics, and
 * allocation failure leaving the data untouched.
 */
#include "common/test.h"

#include "data/data_internal.h"

/* in = [0 1 2; 3 4 5; 6 7 8]; out[y][x] for each op (see eos__d4_apply). */
static const float k_d4[8][9] = {
    { 0, 1, 2, 3, 4, 5, 6, 7, 8 },   /* identity */
    { 2, 1, 0, 5, 4, 3, 8, 7, 6 },   /* flip x */
    { 6, 7, 8, 3, 4, 5, 0, 1, 2 },   /* flip y */
    { 8, 7, 6, 5, 4, 3, 2, 1, 0 },   /* rot180 */
    { 0, 3, 6, 1, 4, 7, 2, 5, 8 },   /* transpose */
    { 6, 3, 0, 7, 4, 1, 8, 5, 2 },   /* rot90 clockwise */
    { 2, 5, 8, 1, 4, 7, 0, 3, 6 },   /* rot90 counter-clockwise */
    { 8, 5, 2, 7, 4, 1, 6, 3, 0 },   /* anti-transpose */
};

static void test_d4_hand_computed(void) {
    for (int op = 0; op < 8; op++) {
        float img[18], scratch[18];
        uint8_t mask[9], ms[9];
        for (int i = 0; i < 9; i++) {
            img[i] = (float)i;
            img[9 + i] = (float)(100 + i);
            mask[i] = (uint8_t)(10 * i);
        }
        eos__d4_apply(op, img, 2, 3, 3, mask, scratch, ms);
        for (int i = 0; i < 9; i++) {
            EXPECT_NEAR(img[i], k_d4[op][i], 0);
            EXPECT_NEAR(img[9 + i], 100 + k_d4[op][i], 0);
            EXPECT_EQ_INT(mask[i], 10 * (int)k_d4[op][i]);
        }
    }
    /* non-square flips: 2 x 3, flip x and flip y */
    float r[6] = { 0, 1, 2, 3, 4, 5 }, s[6];
    eos__d4_apply(1, r, 1, 2, 3, NULL, s, NULL);
    const float fx[6] = { 2, 1, 0, 5, 4, 3 };
    for (int i = 0; i < 6; i++) EXPECT_NEAR(r[i], fx[i], 0);
    eos__d4_apply(1, r, 1, 2, 3, NULL, s, NULL);
    eos__d4_apply(2, r, 1, 2, 3, NULL, s, NULL);
    const float fy[6] = { 3, 4, 5, 0, 1, 2 };
    for (int i = 0; i < 6; i++) EXPECT_NEAR(r[i], fy[i], 0);
}

/* Which D4 element maps `in` (h x w) to `out`; -1 when none. */
static int which_d4(const float *in, const float *out, int h, int w) {
    float tmp[64], s[64];
    for (int op = 0; op < (h == w ? 8 : 4); op++) {
        memcpy(tmp, in, sizeof(float) * (size_t)(h * w));
        eos__d4_apply(op, tmp, 1, h, w, NULL, s, NULL);
        if (!memcmp(tmp, out, sizeof(float) * (size_t)(h * w))) return op;
    }
    return -1;
}

/* p_d4 = 1 through eos_augment_apply: always one of the permutations, mask the same one, all 8
 * reached on squares and only the 4 shape-keeping ones otherwise. */
static void test_d4_random(void) {
    eos_augment a;
    eos_augment_none(&a);
    a.p_d4 = 1;
    for (int shape = 0; shape < 2; shape++) {
        int h = shape ? 3 : 4, w = shape ? 5 : 4, seen[8] = { 0 };
        for (int seed = 0; seed < 200; seed++) {
            float in[40], img[40];
            uint8_t mask[20];
            for (int i = 0; i < h * w; i++) {
                in[i] = (float)i;
                img[i] = (float)i;
                img[h * w + i] = (float)(50 + i);
                mask[i] = (uint8_t)i;
            }
            eos_rng rng;
            eos_rng_seed(&rng, (uint64_t)seed);
            ASSERT_OK(eos_augment_apply(&a, &rng, img, 2, h, w, mask, 255));
            int op = which_d4(in, img, h, w);
            ASSERT_TRUE(op >= 0);
            seen[op]++;
            for (int i = 0; i < h * w; i++) {
                EXPECT_NEAR(img[h * w + i], img[i] + 50, 0);
                EXPECT_EQ_INT(mask[i], (int)img[i]);
            }
        }
        for (int op = 0; op < 8; op++) {
            if (shape == 0 || op < 4) EXPECT_TRUE(seen[op] > 5);
            else EXPECT_EQ_INT(seen[op], 0);
        }
    }
}

/* Alignment: channel 0 holds x, channel 1 holds y, the mask f(x, y). After an operation, where
 * the interpolated coordinates lie inside the image (bilinear reproduces them exactly there)
 * and are not half-way between pixels, the mask must be f of the rounded coordinates. */
static uint8_t f_xy(int x, int y) { return (uint8_t)((x * 7 + y * 13) % 250); }

static void check_aligned(const eos_augment *a, int h, int w, const char *what) {
    size_t n = (size_t)h * (size_t)w;
    float *img = malloc(2 * n * sizeof *img);
    uint8_t *mask = malloc(n);
    int checked = 0, bad = 0, changed = 0;
    for (int seed = 0; seed < 20; seed++) {
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                img[y * w + x] = (float)x;
                img[n + (size_t)(y * w + x)] = (float)y;
                mask[y * w + x] = f_xy(x, y);
            }
        eos_rng rng;
        eos_rng_seed(&rng, (uint64_t)seed + 1000);
        EXPECT_OK(eos_augment_apply(a, &rng, img, 2, h, w, mask, 255));
        for (size_t i = 0; i < n; i++) {
            float sx = img[i], sy = img[n + i];
            changed += fabsf(sx - (float)(i % (size_t)w)) > 0.01f;
            if (sx < 0 || sy < 0 || sx > w - 1 || sy > h - 1) continue;
            if (fabsf(sx - floorf(sx) - 0.5f) < 0.02f || fabsf(sy - floorf(sy) - 0.5f) < 0.02f)
                continue;
            checked++;
            bad += mask[i] != f_xy((int)floorf(sx + 0.5f), (int)floorf(sy + 0.5f));
        }
    }
    if (bad || checked < (int)(n * 20 / 4) || changed < (int)n)
        TEST_FAIL_("%s: %d of %d checked pixels misaligned, %d moved", what, bad, checked, changed);
    free(img);
    free(mask);
}

static void test_geometry_keeps_mask_aligned(void) {
    eos_augment a;
    eos_augment_none(&a);
    a.p_rotate = 1;
    a.max_rotate_deg = 180;
    check_aligned(&a, 40, 40, "rotate");
    check_aligned(&a, 30, 50, "rotate non-square");
    eos_augment_none(&a);
    a.p_shear = 1;
    a.max_shear_deg = 20;
    check_aligned(&a, 40, 40, "shear");
    eos_augment_none(&a);
    a.p_skew = 1;
    a.skew = 0.2f;
    check_aligned(&a, 40, 40, "skew");
    eos_augment_none(&a);
    a.p_scale = 1;
    a.scale_min = 0.3f;
    a.scale_max = 0.6f;
    check_aligned(&a, 40, 40, "random resized crop");
    eos_augment_default(&a, EOS_TASK_SEGMENT, 3);
    a.p_rotate = a.p_shear = a.p_skew = a.p_scale = 1;
    a.scale_min = 0.5f;
    a.scale_max = 0.9f;
    check_aligned(&a, 48, 48, "all together");
}

/* Rotation by exactly 90 degrees through the warp equals the D4 rotation (interior pixels). */
static void test_rotate_matches_rot90(void) {
    const int n = 9;
    float src[81], dst[81];
    for (int i = 0; i < n * n; i++) src[i] = (float)i;
    const double m[9] = { 0, -1, n, 1, 0, 0, 0, 0, 1 };   /* src = (n - py, px): out = rot90 */
    eos__warp(m, src, NULL, 1, n, n, dst, NULL, n, n, EOS__EDGE_REFLECT);
    float ref[81], s[81];
    memcpy(ref, src, sizeof ref);
    eos__d4_apply(6, ref, 1, n, n, NULL, s, NULL);
    int ok = 0;
    for (int i = 0; i < n * n; i++) ok += fabsf(dst[i] - ref[i]) < 1e-4f;
    EXPECT_EQ_INT(ok, n * n);
}

static void fill(float *img, size_t n, uint8_t *mask, size_t px) {
    for (size_t i = 0; i < n; i++) img[i] = (float)((i * 37) % 251);
    for (size_t i = 0; mask && i < px; i++) mask[i] = (uint8_t)(i % 7);
}

static void test_zero_probability_is_identity(void) {
    eos_augment a;
    eos_augment_default(&a, EOS_TASK_CLASSIFY, 3);
    a.saturation = a.hue = 0.3f;
    a.max_rotate_deg = 90;
    a.max_shear_deg = 10;
    a.skew = 0.2f;
    a.gain = a.offset = a.noise_std = 0.1f;
    a.p_d4 = a.p_rotate = a.p_shear = a.p_skew = a.p_scale = a.p_color = a.p_gain = a.p_noise = 0;
    float img[3 * 20 * 16], ref[3 * 20 * 16];
    uint8_t mask[320], mref[320];
    fill(img, 960, mask, 320);
    memcpy(ref, img, sizeof ref);
    memcpy(mref, mask, sizeof mref);
    eos_rng rng;
    eos_rng_seed(&rng, 5);
    for (int k = 0; k < 50; k++) EXPECT_OK(eos_augment_apply(&a, &rng, img, 3, 20, 16, mask, 255));
    EXPECT_TRUE(!memcmp(img, ref, sizeof ref));
    EXPECT_TRUE(!memcmp(mask, mref, sizeof mref));
    eos_augment_none(&a);
    EXPECT_OK(eos_augment_apply(&a, &rng, img, 3, 20, 16, NULL, 255));
    EXPECT_TRUE(!memcmp(img, ref, sizeof ref));
    /* colour jitter needs 3 bands: 4-band images are left alone */
    eos_augment_none(&a);
    a.p_color = 1;
    a.brightness = 0.5f;
    EXPECT_OK(eos_augment_apply(&a, &rng, img, 4, 15, 16, NULL, 255));
    EXPECT_TRUE(!memcmp(img, ref, sizeof ref));
}

static void test_same_seed_same_output(void) {
    eos_augment a;
    eos_augment_default(&a, EOS_TASK_SEGMENT, 3);
    a.p_color = a.p_noise = a.p_gain = 0.5f;
    a.brightness = a.contrast = a.saturation = 0.2f;
    a.hue = 0.05f;
    a.noise_std = 0.01f;
    a.gain = 0.1f;
    float x1[3 * 32 * 32], x2[3 * 32 * 32], x3[3 * 32 * 32];
    uint8_t m1[1024], m2[1024], m3[1024];
    int differ = 0;
    for (int seed = 0; seed < 10; seed++) {
        fill(x1, sizeof x1 / 4, m1, 1024);
        fill(x2, sizeof x2 / 4, m2, 1024);
        fill(x3, sizeof x3 / 4, m3, 1024);
        eos_rng r1, r2, r3;
        eos_rng_derive(&r1, 42, 1, (uint64_t)seed);
        eos_rng_derive(&r2, 42, 1, (uint64_t)seed);
        eos_rng_derive(&r3, 43, 1, (uint64_t)seed);
        EXPECT_OK(eos_augment_apply(&a, &r1, x1, 3, 32, 32, m1, 255));
        EXPECT_OK(eos_augment_apply(&a, &r2, x2, 3, 32, 32, m2, 255));
        EXPECT_OK(eos_augment_apply(&a, &r3, x3, 3, 32, 32, m3, 255));
        EXPECT_TRUE(!memcmp(x1, x2, sizeof x1));
        EXPECT_TRUE(!memcmp(m1, m2, sizeof m1));
        differ += memcmp(x1, x3, sizeof x1) != 0;
    }
    EXPECT_TRUE(differ >= 8);
}

static void test_color_gain_noise(void) {
    enum { H = 16, W = 16, N = H * W };
    float img[3 * N], ref[3 * N];
    for (int i = 0; i < 3 * N; i++) ref[i] = 20.0f + (float)(i % 97);
    eos_rng rng;
    eos_rng_seed(&rng, 9);
    /* brightness only: every value scaled by one factor in [0.7, 1.3] */
    eos_augment a;
    eos_augment_none(&a);
    a.p_color = 1;
    a.brightness = 0.3f;
    memcpy(img, ref, sizeof img);
    EXPECT_OK(eos_augment_apply(&a, &rng, img, 3, H, W, NULL, 255));
    float f = img[0] / ref[0];
    EXPECT_TRUE(f >= 0.7f && f <= 1.3f && f != 1.0f);
    for (int i = 0; i < 3 * N; i++) EXPECT_NEAR(img[i], fminf(ref[i] * f, 255), 1e-3);
    /* contrast keeps the mean grey level (values far enough from 0 not to be clamped) */
    eos_augment_none(&a);
    a.p_color = 1;
    a.contrast = 0.5f;
    for (int i = 0; i < 3 * N; i++) ref[i] += 100.0f;
    memcpy(img, ref, sizeof img);
    EXPECT_OK(eos_augment_apply(&a, &rng, img, 3, H, W, NULL, 1e6f));
    double g0 = 0, g1 = 0;
    for (int i = 0; i < N; i++) {
        g0 += 0.299 * ref[i] + 0.587 * ref[N + i] + 0.114 * ref[2 * N + i];
        g1 += 0.299 * img[i] + 0.587 * img[N + i] + 0.114 * img[2 * N + i];
    }
    EXPECT_NEAR(g1 / N, g0 / N, 1e-2);
    /* gain/offset: each band an affine function of itself */
    eos_augment_none(&a);
    a.p_gain = 1;
    a.gain = 0.2f;
    a.offset = 0.1f;
    memcpy(img, ref, sizeof img);
    EXPECT_OK(eos_augment_apply(&a, &rng, img, 3, H, W, NULL, 100));
    for (int b = 0; b < 3; b++) {
        float *x = img + b * N, *r = ref + b * N;
        float g = (x[1] - x[0]) / (r[1] - r[0]), o = x[0] - g * r[0];
        EXPECT_TRUE(g >= 0.8f - 1e-4f && g <= 1.2f + 1e-4f && fabsf(o) <= 10.0f + 1e-3f);
        for (int i = 0; i < N; i++) EXPECT_NEAR(x[i], g * r[i] + o, 1e-3);
    }
    /* noise: std noise_std * value_max, mean 0 */
    eos_augment_none(&a);
    a.p_noise = 1;
    a.noise_std = 0.02f;
    memcpy(img, ref, sizeof img);
    EXPECT_OK(eos_augment_apply(&a, &rng, img, 3, H, W, NULL, 255));
    double s = 0, q = 0;
    for (int i = 0; i < 3 * N; i++) {
        double d = img[i] - ref[i];
        s += d;
        q += d * d;
    }
    EXPECT_NEAR(sqrt(q / (3 * N)), 0.02 * 255, 0.02 * 255 * 0.1);
    EXPECT_NEAR(s / (3 * N), 0, 0.5);
}

static void test_errors_and_oom(void) {
    eos_augment a;
    eos_augment_default(&a, EOS_TASK_SEGMENT, 3);
    a.p_rotate = 1;
    float img[3 * 8 * 8], ref[3 * 8 * 8];
    uint8_t mask[64], mref[64];
    fill(img, 192, mask, 64);
    memcpy(ref, img, sizeof ref);
    memcpy(mref, mask, sizeof mref);
    eos_rng rng;
    eos_rng_seed(&rng, 1);
    EXPECT_STATUS(eos_augment_apply(NULL, &rng, img, 3, 8, 8, mask, 255), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_augment_apply(&a, &rng, img, 0, 8, 8, mask, 255), EOS_INVALID_ARG);
    eos_alloc_fail_after(0);
    eos_status st = eos_augment_apply(&a, &rng, img, 3, 8, 8, mask, 255);
    eos_alloc_fail_after(-1);
    EXPECT_STATUS(st, EOS_NOMEM);
    EXPECT_TRUE(!memcmp(img, ref, sizeof ref));
    EXPECT_TRUE(!memcmp(mask, mref, sizeof mref));
}

/* The resampling helpers: reflection indices and a 2x bilinear downscale = 2x2 means. */
static void test_warp_helpers(void) {
    EXPECT_EQ_INT(eos__reflect(-1, 5), 1);
    EXPECT_EQ_INT(eos__reflect(-4, 5), 4);
    EXPECT_EQ_INT(eos__reflect(5, 5), 3);
    EXPECT_EQ_INT(eos__reflect(8, 5), 0);
    EXPECT_EQ_INT(eos__reflect(9, 5), 1);
    EXPECT_EQ_INT(eos__reflect(-1000001, 5), eos__reflect(-1000001 + 8 * 125001, 5));
    EXPECT_EQ_INT(eos__reflect(7, 1), 0);
    float src[16], dst[4];
    for (int i = 0; i < 16; i++) src[i] = (float)i;
    eos__resize(src, NULL, 1, 4, 4, dst, NULL, 2, 2);
    EXPECT_NEAR(dst[0], (0 + 1 + 4 + 5) / 4.0, 1e-6);
    EXPECT_NEAR(dst[3], (10 + 11 + 14 + 15) / 4.0, 1e-6);
    uint8_t u[6] = { 1, 2, 3, 4, 5, 6 };
    float w[12];
    eos__window_f32(u, EOS_DTYPE_U8, 1, 2, 3, -1, 0, 4, 3, w);
    const float want[12] = { 2, 1, 2, 3, 5, 4, 5, 6, 2, 1, 2, 3 };
    for (int i = 0; i < 12; i++) EXPECT_NEAR(w[i], want[i], 0);
}

TEST_MAIN(TEST(test_d4_hand_computed), TEST(test_d4_random), TEST(test_geometry_keeps_mask_aligned),
          TEST(test_rotate_matches_rot90), TEST(test_zero_probability_is_identity),
          TEST(test_same_seed_same_output), TEST(test_color_gain_noise), TEST(test_errors_and_oom),
          TEST(test_warp_helpers))
