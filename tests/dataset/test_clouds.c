/*
 * tests/dataset/test_clouds.c - synthetic clouds (src/data/clouds.c, include/eosight/clouds.h):
 * determinism from the generator, the reported cloud fraction against the mask and the drawn
 * cover, clear images left byte-identical, haze raising the mean and lowering contrast, thick
 * cloud brightness and tint, shadows darker than the ground, cast in the direction away from
 * the sun and never drawn over cloud, the mix of scenes the defaults draw, value ranges,
 * argument checks and allocation failure.
 */
#include "common/test.h"

#include "eosight/clouds.h"

/* A textured RGB test image: smooth gradients plus a checker, values 20..180. */
static void fill_scene(uint8_t *rgb, int w, int h, int salt) {
    int64_t n = (int64_t)w * h;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int64_t i = (int64_t)y * w + x;
            int chk = ((x / 4 + y / 4 + salt) & 1) * 40;
            rgb[i] = (uint8_t)(20 + (x * 60) / w + chk);
            rgb[n + i] = (uint8_t)(40 + (y * 60) / h + chk);
            rgb[2 * n + i] = (uint8_t)(60 + ((x + y) * 40) / (w + h) + chk + salt % 20);
        }
}

static double band_mean(const uint8_t *p, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += p[i];
    return s / (double)n;
}

static double band_std(const uint8_t *p, int64_t n) {
    double m = band_mean(p, n), s = 0;
    for (int64_t i = 0; i < n; i++) s += (p[i] - m) * (p[i] - m);
    return sqrt(s / (double)n);
}

static int64_t count_ones(const uint8_t *m, int64_t n) {
    int64_t c = 0;
    for (int64_t i = 0; i < n; i++) c += m[i];
    return c;
}

/* ------------------------------------------------------------------ determinism */

static void test_deterministic(void) {
    enum { W = 48, H = 40, N = W * H };
    static uint8_t in[3 * N], a[3 * N], b[3 * N], ma[N], mb[N];
    fill_scene(in, W, H, 3);
    eos_cloud_params p = eos_cloud_default_params();
    p.p_no_cloud = 0;
    p.p_haze = 1;
    int differ = 0;
    for (uint64_t seed = 0; seed < 8; seed++) {
        eos_rng r1, r2;
        eos_rng_seed(&r1, seed);
        eos_rng_seed(&r2, seed);
        eos_cloud_info i1, i2;
        ASSERT_OK(eos_cloud_composite(NULL, in, W, H, &p, &r1, a, ma, &i1));
        ASSERT_OK(eos_cloud_composite(NULL, in, W, H, &p, &r2, b, mb, &i2));
        EXPECT_TRUE(memcmp(a, b, sizeof a) == 0);
        EXPECT_TRUE(memcmp(ma, mb, sizeof ma) == 0);
        EXPECT_TRUE(memcmp(&i1, &i2, sizeof i1) == 0);
        EXPECT_TRUE(memcmp(&r1, &r2, sizeof r1) == 0);
        eos_rng r3;
        eos_rng_seed(&r3, seed + 100);
        ASSERT_OK(eos_cloud_composite(NULL, in, W, H, &p, &r3, b, mb, NULL));
        differ += memcmp(a, b, sizeof a) != 0;
    }
    EXPECT_EQ_INT(differ, 8);
}

/* The generator advances the same whatever the pixels (callers' streams stay aligned). */
static void test_draw_count_independent_of_pixels(void) {
    enum { W = 16, H = 16, N = W * H };
    static uint8_t in1[3 * N], in2[3 * N], out[3 * N];
    fill_scene(in1, W, H, 0);
    memset(in2, 200, sizeof in2);
    eos_cloud_params p = eos_cloud_default_params();
    for (uint64_t seed = 0; seed < 20; seed++) {
        eos_rng r1, r2;
        eos_rng_seed(&r1, seed);
        eos_rng_seed(&r2, seed);
        ASSERT_OK(eos_cloud_composite(NULL, in1, W, H, &p, &r1, out, NULL, NULL));
        ASSERT_OK(eos_cloud_composite(NULL, in2, W, H, &p, &r2, out, NULL, NULL));
        EXPECT_EQ_INT(eos_rng_u64(&r1), eos_rng_u64(&r2));
    }
}

/* ------------------------------------------------------------------ fractions */

static void test_fraction_matches_mask_and_cover(void) {
    enum { W = 64, H = 64, N = W * H };
    static uint8_t in[3 * N], out[3 * N], m[N];
    fill_scene(in, W, H, 1);
    eos_cloud_params p = eos_cloud_default_params();
    eos_rng r;
    eos_rng_seed(&r, 42);
    for (int k = 0; k < 60; k++) {
        eos_cloud_info inf;
        memset(m, 7, sizeof m);
        ASSERT_OK(eos_cloud_composite(NULL, in, W, H, &p, &r, out, m, &inf));
        int64_t ones = count_ones(m, N);
        for (int i = 0; i < N; i++)
            if (m[i] > 1) { TEST_FAIL_("mask value %d at %d", m[i], i); return; }
        EXPECT_NEAR(inf.cloud_fraction, (double)ones / N, 1e-7);
        EXPECT_NEAR(inf.cloud_fraction, inf.cover_drawn, 1.0 / N + 1e-6);
        EXPECT_TRUE(inf.cloud_fraction >= 0 && inf.cloud_fraction <= 1);
        EXPECT_TRUE(inf.shadow_fraction >= 0);
        EXPECT_TRUE(inf.shadow_fraction + inf.cloud_fraction <= 1.0f + 1e-6f);
        EXPECT_TRUE(inf.haze >= 0 && inf.haze < 1);
        EXPECT_TRUE(inf.mean_opacity >= 0 && inf.mean_opacity <= 1);
        /* the soft edge is centred on the threshold: mean opacity close to the fraction */
        EXPECT_NEAR(inf.mean_opacity, inf.cloud_fraction, 0.12);
    }
}

/* ------------------------------------------------------------------ clear and haze */

static void test_clear_is_unchanged(void) {
    enum { W = 30, H = 20, N = W * H };
    static uint8_t in[3 * N], keep[3 * N], out[3 * N], m[N];
    fill_scene(in, W, H, 5);
    memcpy(keep, in, sizeof in);
    eos_cloud_params p = eos_cloud_default_params();
    p.p_no_cloud = 1;
    p.p_haze = 0;
    eos_rng r;
    eos_rng_seed(&r, 9);
    eos_cloud_info inf;
    memset(m, 9, sizeof m);
    ASSERT_OK(eos_cloud_composite(NULL, in, W, H, &p, &r, out, m, &inf));
    EXPECT_TRUE(memcmp(out, in, sizeof in) == 0);
    EXPECT_EQ_INT(count_ones(m, N), 0);
    EXPECT_NEAR(inf.cloud_fraction, 0, 0);
    EXPECT_NEAR(inf.haze, 0, 0);
    EXPECT_NEAR(inf.shadow_fraction, 0, 0);
    EXPECT_NEAR(inf.shadow_dx_px, 0, 0);
    /* a cover range of 0 is clear too, and out may be the input itself */
    p.p_no_cloud = 0;
    p.cover_min = p.cover_max = 0;
    ASSERT_OK(eos_cloud_composite(NULL, in, W, H, &p, &r, in, NULL, &inf));
    EXPECT_TRUE(memcmp(in, keep, sizeof in) == 0);
}

static void test_haze_raises_mean_lowers_contrast(void) {
    enum { W = 64, H = 64, N = W * H };
    static uint8_t in[3 * N], out[3 * N], m[N];
    fill_scene(in, W, H, 2);
    eos_cloud_params p = eos_cloud_default_params();
    p.p_no_cloud = 1;
    p.p_haze = 1;
    p.haze_min = 0.2f;
    p.haze_max = 0.3f;
    eos_rng r;
    eos_rng_seed(&r, 11);
    for (int k = 0; k < 5; k++) {
        eos_cloud_info inf;
        ASSERT_OK(eos_cloud_composite(NULL, in, W, H, &p, &r, out, m, &inf));
        EXPECT_EQ_INT(count_ones(m, N), 0);
        EXPECT_TRUE(inf.haze > 0.1f && inf.haze < 0.45f);
        for (int b = 0; b < 3; b++) {
            double mi = band_mean(in + b * N, N), mo = band_mean(out + b * N, N);
            double si = band_std(in + b * N, N), so = band_std(out + b * N, N);
            EXPECT_TRUE(mo > mi + 10);
            EXPECT_TRUE(so < si * 0.9);
            /* a veil over everything: every pixel keeps some of its own light */
            EXPECT_TRUE(so > si * 0.3);
        }
    }
}

/* ------------------------------------------------------------------ thick cloud */

static void test_overcast_is_bright_bluish_white(void) {
    enum { W = 64, H = 64, N = W * H };
    static uint8_t in[3 * N], out[3 * N], m[N];
    fill_scene(in, W, H, 4);
    eos_cloud_params p = eos_cloud_default_params();
    p.p_no_cloud = 0;
    p.p_tiny = 0;
    p.cover_min = p.cover_max = 1;
    p.p_haze = 0;
    p.edge_min = p.edge_max = 0.001f;
    eos_rng r;
    eos_rng_seed(&r, 5);
    for (int k = 0; k < 4; k++) {
        eos_cloud_info inf;
        ASSERT_OK(eos_cloud_composite(NULL, in, W, H, &p, &r, out, m, &inf));
        EXPECT_EQ_INT(count_ones(m, N), N);
        double mr = band_mean(out, N), mg = band_mean(out + N, N), mb = band_mean(out + 2 * N, N);
        EXPECT_TRUE(mr > 175 && mb <= 255);
        EXPECT_TRUE(mb > mr && mg >= mr);
        /* small texture, not noise: the spread stays a few tens of DN */
        EXPECT_TRUE(band_std(out + 2 * N, N) < 25);
    }
}

/* ------------------------------------------------------------------ shadows */

typedef struct shadow_case {
    uint8_t a[3 * 128 * 128], b[3 * 128 * 128], m[128 * 128], in[3 * 128 * 128];
    eos_cloud_info ia, ib;
} shadow_case;

/* Crisp clouds over flat grey, sun in the south-east (azimuth 135), 45 degrees up, clouds at
 * 200 m, 10 m pixels: shadows 20 px from their clouds towards the north-west. a: with shadows,
 * b: the same draw without. */
static void shadow_pair(shadow_case *c, uint64_t seed) {
    eos_cloud_params p = eos_cloud_default_params();
    p.p_no_cloud = 0;
    p.p_tiny = 0;
    p.cover_min = p.cover_max = 0.12f;
    p.p_haze = 0;
    p.scale_min_m = p.scale_max_m = 500;
    p.edge_min = p.edge_max = 0.001f;
    p.shadow_min = p.shadow_max = 0.5f;
    p.sun_azimuth_min_deg = p.sun_azimuth_max_deg = 135;
    p.sun_elevation_min_deg = p.sun_elevation_max_deg = 45;
    p.height_min_m = p.height_max_m = 200;
    memset(c->in, 128, sizeof c->in);
    eos_rng r;
    p.p_shadow = 1;
    eos_rng_seed(&r, seed);
    eos_cloud_composite(NULL, c->in, 128, 128, &p, &r, c->a, c->m, &c->ia);
    p.p_shadow = 0;
    eos_rng_seed(&r, seed);
    eos_cloud_composite(NULL, c->in, 128, 128, &p, &r, c->b, NULL, &c->ib);
}

static void test_shadows_offset_away_from_sun(void) {
    enum { W = 128, N = W * W };
    shadow_case *c = calloc(1, sizeof *c);
    ASSERT_TRUE(c);
    int64_t back = 0, fwd = 0, n_back = 0, n_fwd = 0, n_dark = 0;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        shadow_pair(c, seed);
        EXPECT_NEAR(c->ia.shadow_dx_px, -20 * sqrt(0.5), 1e-3);
        EXPECT_NEAR(c->ia.shadow_dy_px, -20 * sqrt(0.5), 1e-3);
        int dx = (int)lrint(c->ia.shadow_dx_px), dy = (int)lrint(c->ia.shadow_dy_px);
        int64_t dark = 0;
        for (int y = 0; y < W; y++)
            for (int x = 0; x < W; x++) {
                int i = y * W + x;
                EXPECT_TRUE(c->b[i] >= 128);          /* without shadows nothing darkens */
                if (c->m[i] || c->a[i] >= 100) continue;
                dark++;
                /* the cloud casting it sits at p - d, not at p + d */
                int xs = x - dx, ys = y - dy, xf = x + dx, yf = y + dy;
                if (xs >= 0 && ys >= 0 && xs < W && ys < W) { n_back++; back += c->m[ys * W + xs]; }
                if (xf >= 0 && yf >= 0 && xf < W && yf < W) { n_fwd++; fwd += c->m[yf * W + xf]; }
            }
        EXPECT_TRUE(dark > 0);
        EXPECT_NEAR((double)dark / N, c->ia.shadow_fraction, 0.01);
        n_dark += dark;
    }
    ASSERT_TRUE(n_back > 100 && n_fwd > 100);
    double share_back = (double)back / n_back, share_fwd = (double)fwd / n_fwd;
    EXPECT_TRUE(share_back > 0.9);
    EXPECT_TRUE(share_fwd < 0.4);
    EXPECT_TRUE(n_dark > 200);
    free(c);
}

static void test_shadows_darken_ground_not_cloud(void) {
    enum { W = 128, N = W * W };
    shadow_case *c = calloc(1, sizeof *c);
    ASSERT_TRUE(c);
    shadow_pair(c, 7);
    int64_t cloud_px = 0, cloud_same = 0, shadow_px = 0;
    double sum_r = 0, sum_b = 0;
    for (int i = 0; i < N; i++) {
        if (c->m[i]) {
            cloud_px++;
            cloud_same += abs((int)c->a[i] - (int)c->b[i]) <= 1;
        } else if (c->a[i] < c->b[i]) {
            shadow_px++;
            sum_r += c->a[i];
            sum_b += c->a[2 * N + i];
            /* multiplicative: no pixel darker than the strongest darkening allows */
            EXPECT_TRUE(c->a[i] >= 128 * 0.5 - 1);
        }
    }
    ASSERT_TRUE(cloud_px > 0 && shadow_px > 0);
    EXPECT_TRUE(cloud_same >= cloud_px * 99 / 100);          /* shadow hidden under cloud */
    EXPECT_TRUE(sum_r / shadow_px < 128 * 0.8);               /* shadows are dark */
    EXPECT_TRUE(sum_b >= sum_r);                              /* lit by the blue sky */
    free(c);
}

/* ------------------------------------------------------------------ defaults */

static void test_default_mix_of_scenes(void) {
    enum { W = 32, H = 32, N = W * H };
    static uint8_t in[3 * N], out[3 * N];
    fill_scene(in, W, H, 6);
    eos_cloud_params p = eos_cloud_default_params();
    EXPECT_OK(eos_cloud_params_check(&p, NULL, 0));
    eos_rng r;
    eos_rng_seed(&r, 3);
    int none = 0, haze_only = 0, tiny = 0, half = 0, overcast = 0, shadows = 0;
    for (int k = 0; k < 300; k++) {
        eos_cloud_info inf;
        ASSERT_OK(eos_cloud_composite(NULL, in, W, H, &p, &r, out, NULL, &inf));
        if (inf.cloud_fraction == 0 && inf.haze == 0) none++;
        if (inf.cloud_fraction == 0 && inf.haze > 0) haze_only++;
        if (inf.cloud_fraction > 0 && inf.cloud_fraction <= 0.05f) tiny++;
        if (inf.cloud_fraction > 0.3f && inf.cloud_fraction < 0.7f) half++;
        if (inf.cloud_fraction >= 0.9f) overcast++;
        if (inf.shadow_fraction > 0) shadows++;
    }
    EXPECT_TRUE(none > 20);
    EXPECT_TRUE(haze_only > 5);
    EXPECT_TRUE(tiny > 30);
    EXPECT_TRUE(half > 30);
    EXPECT_TRUE(overcast > 5);
    EXPECT_TRUE(shadows > 50);
}

/* ------------------------------------------------------------------ errors */

static void test_bad_arguments(void) {
    uint8_t in[3 * 16] = {0}, out[3 * 16];
    eos_cloud_params p = eos_cloud_default_params();
    eos_rng r;
    eos_rng_seed(&r, 1);
    eos_ctx *ctx = NULL;
    ASSERT_OK(eos_ctx_create(NULL, &ctx));
    EXPECT_STATUS(eos_cloud_composite(ctx, NULL, 4, 4, &p, &r, out, NULL, NULL), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_cloud_composite(ctx, in, 4, 4, NULL, &r, out, NULL, NULL), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_cloud_composite(ctx, in, 4, 4, &p, NULL, out, NULL, NULL), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_cloud_composite(ctx, in, 0, 4, &p, &r, out, NULL, NULL), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_cloud_composite(ctx, in, 30000, 30000, &p, &r, out, NULL, NULL), EOS_LIMIT);
    char msg[200];
    eos_cloud_params q = p;
    q.p_haze = 1.5f;
    EXPECT_STATUS(eos_cloud_params_check(&q, msg, (int)sizeof msg), EOS_INVALID_ARG);
    EXPECT_TRUE(strstr(msg, "p_haze") != NULL);
    q = p;
    q.cover_min = 0.8f;
    q.cover_max = 0.2f;
    EXPECT_STATUS(eos_cloud_composite(ctx, in, 4, 4, &q, &r, out, NULL, NULL), EOS_INVALID_ARG);
    EXPECT_TRUE(strstr(eos_ctx_errmsg(ctx), "cover") != NULL);
    q = p;
    q.sun_elevation_min_deg = 0;
    EXPECT_STATUS(eos_cloud_params_check(&q, msg, (int)sizeof msg), EOS_INVALID_ARG);
    EXPECT_TRUE(strstr(msg, "sun_elevation") != NULL);
    q = p;
    q.gsd_m = NAN;
    EXPECT_STATUS(eos_cloud_params_check(&q, msg, (int)sizeof msg), EOS_INVALID_ARG);
    q = p;
    q.haze_max = 1.0f;
    EXPECT_STATUS(eos_cloud_params_check(&q, msg, (int)sizeof msg), EOS_INVALID_ARG);
    q = p;
    q.version = 0;
    EXPECT_STATUS(eos_cloud_params_check(&q, msg, (int)sizeof msg), EOS_INVALID_ARG);
    eos_ctx_free(ctx);
}

static void test_nomem_leaves_outputs(void) {
    enum { W = 8, H = 8, N = W * H };
    uint8_t in[3 * N], out[3 * N], m[N];
    fill_scene(in, W, H, 0);
    memset(out, 77, sizeof out);
    memset(m, 77, sizeof m);
    eos_cloud_params p = eos_cloud_default_params();
    p.p_no_cloud = 0;
    eos_rng r, keep;
    eos_rng_seed(&r, 1);
    keep = r;
    eos_cloud_info inf;
    memset(&inf, 77, sizeof inf);
    eos_alloc_stats before, after;
    eos_alloc_get_stats(&before);
    eos_alloc_fail_after(0);
    eos_status st = eos_cloud_composite(NULL, in, W, H, &p, &r, out, m, &inf);
    eos_alloc_fail_after(-1);
    EXPECT_STATUS(st, EOS_NOMEM);
    EXPECT_TRUE(out[0] == 77 && out[3 * N - 1] == 77 && m[0] == 77 && m[N - 1] == 77);
    EXPECT_TRUE(memcmp(&r, &keep, sizeof r) == 0);
    EXPECT_TRUE(((const uint8_t *)&inf)[0] == 77);
    eos_alloc_get_stats(&after);
    EXPECT_EQ_INT(after.live_count, before.live_count);
}

TEST_MAIN(TEST(test_deterministic), TEST(test_draw_count_independent_of_pixels),
          TEST(test_fraction_matches_mask_and_cover), TEST(test_clear_is_unchanged),
          TEST(test_haze_raises_mean_lowers_contrast), TEST(test_overcast_is_bright_bluish_white),
          TEST(test_shadows_offset_away_from_sun), TEST(test_shadows_darken_ground_not_cloud),
          TEST(test_default_mix_of_scenes), TEST(test_bad_arguments),
          TEST(test_nomem_leaves_outputs))
