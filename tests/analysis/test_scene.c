/*
 * tests/analysis/test_scene.c - eos_segment_scene (include/eosight/analysis.h) on synthetic
 * scenes whose answers are known by construction (fixtures: tests/analysis/fixture.h; here
 * also conv3, reflect padding + a 3x3 convolution, a model with a receptive field). Covered:
 * the boundary and areas of a two-class scene under sliding windows, with and without TTA,
 * in UTM and in lon/lat (ellipsoidal row areas); odd scene shapes, window layouts, batches
 * and a fixed-batch model; multi-scale averaging and post-processing; tiled vs single-pass
 * segmentation; polygons across window borders; nodata in and out; the georeferencing of
 * every output.
 */
#include "common/test.h"

#include <unistd.h>

#ifdef EOS_WITH_GDAL

#include "analysis/fixture.h"

/* x [N, 2, H, W] -> Pad (reflect, 1) -> 3x3 Conv (2 -> 2, fixed pseudo-random weights). The
 * reflect padding is what the raster reader does past the scene's edges, so a single window
 * over the whole scene sees the same context at the scene border as the tiled windows do. */
static bool conv3_model(const char *path, const char *const *meta) {
    float w[2 * 2 * 3 * 3], bias[2] = { 0.1f, -0.1f };
    test_fill_uniform(w, 36, -0.5f, 0.5f, 12345);
    onnxb *b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 4, (int64_t[]){ -1, 2, -1, -1 });
    onnxb_init_i64(b, "pads", 1, (int64_t[]){ 8 }, (int64_t[]){ 0, 0, 1, 1, 0, 0, 1, 1 });
    onnxb_init_f32(b, "w", 4, (int64_t[]){ 2, 2, 3, 3 }, w);
    onnxb_init_f32(b, "bias", 1, (int64_t[]){ 2 }, bias);
    int n = onnxb_node(b, "Pad", "pad", ONNXB_NAMES("x", "pads"), ONNXB_NAMES("xp"));
    onnxb_attr_string(b, n, "mode", "reflect");
    onnxb_node(b, "Conv", "conv", ONNXB_NAMES("xp", "w", "bias"), ONNXB_NAMES("y"));
    onnxb_output(b, "y", EOS_DTYPE_F32, 4, (int64_t[]){ -1, 2, -1, -1 });
    return save_model(b, path, meta);
}

/* ------------------------------------------------------------------ a. two halves */

static const char *const k_seg2_meta[] = {
    "eosight.task", "segmentation", "eosight.classes", "left,right", "eosight.bands", "b0,b1",
    "eosight.colors", "#102030,#a0b0c0", NULL
};

/* Left of column `border` band 1 is the brighter (class 0), right of it band 2 (class 1); the
 * other band is noise, so the margin is at least 1 everywhere. */
static float *halves(int w, int h, int border, uint64_t seed) {
    size_t n = 2 * (size_t)w * (size_t)h;
    float *px = malloc(sizeof(float) * n), *noise = malloc(sizeof(float) * n);
    if (!px || !noise) {
        free(px);
        free(noise);
        return NULL;
    }
    test_fill_uniform(noise, 2 * (int64_t)w * h, 0.0f, 1.0f, seed);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x, plane = (size_t)w * h;
            bool left = x < border;
            px[i] = noise[i] + (left ? 2.0f : 0.0f);
            px[plane + i] = noise[plane + i] + (left ? 0.0f : 2.0f);
        }
    free(noise);
    return px;
}

static void test_two_halves(void) {
    enum { W = 300, H = 200, BORDER = 137 };   /* 64-px windows, overlap 16: 7 x 5 windows */
    fx f;
    ASSERT_TRUE(fx_open(&f, "halves"));
    char model[512], scene[512], mask[512];
    float *px = halves(W, H, BORDER, 1);
    uint8_t *got = malloc((size_t)W * H), *want = malloc((size_t)W * H);
    eos_analyzer *a = NULL;
    eos_raster *r = NULL;
    if (!px || !got || !want || !point_model(fx_path(&f, "point2.onnx", model), 2, k_seg2_meta) ||
        !write_scene(fx_path(&f, "halves.tif", scene), 2, W, H, px, NULL))
        TEST_FAIL_("fixtures");
    else if ((a = open_an(f.ctx, model)) && (r = open_img(a, f.ctx, scene))) {
        double want_entropy = 0;   /* mean entropy / log 2 of the pixels' softmax */
        for (int i = 0; i < W * H; i++) {
            want[i] = i % W < BORDER ? 0 : 1;
            double p0 = 1.0 / (1.0 + exp((double)px[W * H + i] - (double)px[i]));
            want_entropy -= (p0 * log(p0) + (1 - p0) * log(1 - p0)) / log(2.0) / (W * H);
        }
        for (int tta = 1; tta <= 4; tta += 3) {
            eos_segment_params p = eos_segment_default_params();
            p.window = 64;
            p.overlap = 16;
            p.batch = 3;          /* 7 windows a row: batches of 3, 3, 1 */
            p.tta = tta;
            p.mask_path = fx_path(&f, tta == 1 ? "mask1.tif" : "mask4.tif", mask);
            eos_segment_result res;
            if (!segment(a, r, &p, &res)) continue;
            EXPECT_EQ_INT(res.width_px, W);
            EXPECT_EQ_INT(res.height_px, H);
            EXPECT_EQ_INT(res.pixels[0], BORDER * H);
            EXPECT_EQ_INT(res.pixels[1], (W - BORDER) * H);
            EXPECT_EQ_INT(res.nodata_px, 0);
            EXPECT_NEAR(res.area_m2[0], 2740000.0, 1e-3);   /* 137 x 200 px of 100 m2 */
            EXPECT_NEAR(res.area_m2[1], 3260000.0, 1e-3);   /* 163 x 200 px */
            EXPECT_EQ_INT(res.windows, 35);
            EXPECT_EQ_INT(res.windows_nodata + res.windows_cloudy, 0);
            EXPECT_NEAR(res.mean_entropy, want_entropy, 1e-4);
            char *js = NULL;
            EXPECT_OK(eos_segment_result_json(a, &res, &js));
            EXPECT_TRUE(js && strstr(js, "\"name\":\"left\",\"color\":\"#102030\",\"pixels\":27400,"
                                         "\"area_m2\":2740000.000"));
            EXPECT_TRUE(js && strstr(js, "\"georeferenced\":true"));
            eos_free(js);
            eos_segment_result_free(&res);
            if (!read_u8(mask, 1, W, H, got)) {
                TEST_FAIL_("cannot read %s", mask);
                continue;
            }
            expect_mask(tta == 1 ? "two halves" : "two halves, TTA 4", got, want, W, H);
            /* the mask is a COG with nodata 255 and the model's colours */
            GDALDatasetH ds = GDALOpen(mask, GA_ReadOnly);
            if (!ds) continue;
            const char *layout = GDALGetMetadataItem(ds, "LAYOUT", "IMAGE_STRUCTURE");
            EXPECT_TRUE(layout && !strcmp(layout, "COG"));
            GDALRasterBandH band = GDALGetRasterBand(ds, 1);
            int has = 0;
            EXPECT_NEAR(GDALGetRasterNoDataValue(band, &has), 255, 0);
            EXPECT_TRUE(has);
            GDALColorTableH ct = GDALGetRasterColorTable(band);
            const GDALColorEntry *e = ct ? GDALGetColorEntry(ct, 1) : NULL;
            EXPECT_TRUE(e && e->c1 == 0xa0 && e->c2 == 0xb0 && e->c3 == 0xc0);
            GDALClose(ds);
        }
    }
    eos_raster_close(r);
    eos_analyzer_free(a);
    free(px);
    free(got);
    free(want);
    fx_close(&f);
}

/* Area of a cell dlon_deg wide between latitudes lat1 and lat2 on the WGS 84 ellipsoid (the
 * authalic formula: b^2 dlon / 2 [q(lat2) - q(lat1)]). */
static double ellipsoid_cell_m2(double dlon_deg, double lat1, double lat2) {
    const double a = 6378137.0, f = 1 / 298.257223563, b = a * (1 - f), e2 = f * (2 - f);
    const double e = sqrt(e2), rad = 3.14159265358979323846 / 180;
    double q[2], lat[2] = { lat1 * rad, lat2 * rad };
    for (int i = 0; i < 2; i++) {
        double s = sin(lat[i]);
        q[i] = s / (1 - e2 * s * s) + log((1 + e * s) / (1 - e * s)) / (2 * e);
    }
    return fabs(b * b * dlon_deg * rad / 2 * (q[1] - q[0]));
}

/* Two halves, north and south, in WGS 84 lon/lat: 0.01 degree pixels at 60 N, about
 * 557 m x 1117 m, shrinking towards the north, so the northern class covers less ground than
 * its pixel count at the scene's mean pixel area says. Areas add up row by row, each row's
 * pixels by the ellipsoid's area of that row. */
/* The progress callback sees 0, then every row of windows (5 rows of 7), and stops the run
 * when it answers false: EOS_CANCELLED, and no mask left under the output name. */
typedef struct prog_log { int64_t calls, last_done, total, stop_after; } prog_log;

static bool on_prog(void *user, int64_t done, int64_t total) {
    prog_log *l = user;
    l->calls++;
    l->last_done = done;
    l->total = total;
    return l->calls <= l->stop_after;
}

static void test_progress_cancel(void) {
    enum { W = 300, H = 200, BORDER = 137 };
    fx f;
    ASSERT_TRUE(fx_open(&f, "progress"));
    char model[512], scene[512], mask[512];
    float *px = halves(W, H, BORDER, 3);
    eos_analyzer *a = NULL;
    eos_raster *r = NULL;
    if (!px || !point_model(fx_path(&f, "point2.onnx", model), 2, k_seg2_meta) ||
        !write_scene(fx_path(&f, "halves.tif", scene), 2, W, H, px, NULL)) {
        TEST_FAIL_("fixtures");
    } else if ((a = open_an(f.ctx, model)) && (r = open_img(a, f.ctx, scene))) {
        eos_segment_params p = eos_segment_default_params();
        p.window = 64;
        p.overlap = 16;
        p.mask_path = fx_path(&f, "mask.tif", mask);
        prog_log l = { 0, 0, 0, 100 };
        p.on_progress = on_prog;
        p.progress_user = &l;
        eos_segment_result res;
        if (segment(a, r, &p, &res)) eos_segment_result_free(&res);
        EXPECT_EQ_INT(l.calls, 6);   /* 0, then 5 rows */
        EXPECT_EQ_INT(l.last_done, 35);
        EXPECT_EQ_INT(l.total, 35);
        unlink(mask);
        l = (prog_log){ 0, 0, 0, 2 };   /* stop after the second row */
        EXPECT_STATUS(eos_segment_scene(a, r, &p, &res), EOS_CANCELLED);
        EXPECT_EQ_INT(l.calls, 3);
        EXPECT_EQ_INT(l.last_done, 14);
        EXPECT_TRUE(access(mask, F_OK) != 0);
    }
    eos_raster_close(r);
    eos_analyzer_free(a);
    free(px);
    fx_close(&f);
}

static void test_geographic_areas(void) {
    enum { W = 90, H = 120, BORDER = 50 };   /* rows [0, 50): class 0 */
    static const double gt[6] = { 10.0, 0.01, 0, 60.6, 0, -0.01 };
    fx f;
    ASSERT_TRUE(fx_open(&f, "geog"));
    char model[512], scene[512];
    float *px = malloc(sizeof(float) * 2 * W * H);
    if (px) test_fill_uniform(px, 2 * W * H, 0.0f, 1.0f, 31);
    for (int i = 0; px && i < W * H; i++) px[(i / W < BORDER ? 0 : W * H) + i] += 2.0f;
    scene_opts so = { .epsg = 4326, .gt = gt };
    eos_analyzer *a = NULL;
    eos_raster *r = NULL;
    if (!px || !point_model(fx_path(&f, "point2.onnx", model), 2, k_seg2_meta) ||
        !write_scene(fx_path(&f, "geog.tif", scene), 2, W, H, px, &so)) {
        TEST_FAIL_("fixtures");
    } else if ((a = open_an(f.ctx, model)) && (r = open_img(a, f.ctx, scene))) {
        double want[2] = { 0, 0 };
        for (int y = 0; y < H; y++)
            want[y >= BORDER] += W * ellipsoid_cell_m2(0.01, gt[3] - (y + 1) * 0.01,
                                                       gt[3] - y * 0.01);
        eos_segment_params p = eos_segment_default_params();
        p.window = 64;
        p.overlap = 16;
        eos_segment_result res;
        if (segment(a, r, &p, &res)) {
            EXPECT_EQ_INT(res.pixels[0], BORDER * W);
            for (int c = 0; c < 2; c++)
                if (fabs(res.area_m2[c] / want[c] - 1) > 1e-6)
                    TEST_FAIL_("class %d: %.3f m2, want %.3f m2 (relative error %.2g)", c,
                               res.area_m2[c], want[c], res.area_m2[c] / want[c] - 1);
            eos_segment_result_free(&res);
        }
    }
    eos_raster_close(r);
    eos_analyzer_free(a);
    free(px);
    fx_close(&f);
}

/* Odd scene shapes (a single column or row, sizes that divide nothing), window layouts, batch
 * sizes, TTA 8 and a model with a fixed input: a pointwise model gives the exact answer in
 * every case. */
static void test_window_shapes(void) {
    static const int shapes[][2] = { { 1, 150 }, { 150, 1 }, { 33, 65 }, { 97, 31 }, { 140, 100 } };
    static const int cfg[][4] = {   /* window, overlap, batch, tta */
        { 32, 0, 1, 1 }, { 64, 16, 4, 8 }, { 64, 32, 256, 4 }, { 96, 2, 2, 1 }
    };
    fx f;
    ASSERT_TRUE(fx_open(&f, "shapes"));
    char model[512], fixed[512], scene[512], mask[512];
    static const char *const fmeta[] = { "eosight.task", "segmentation", "eosight.classes",
                                         "left,right", NULL };
    onnxb *b = point_builder(2);   /* the same, with the input fixed at 64 x 64 */
    onnxb_free(b);
    b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 4, (int64_t[]){ 1, 2, 64, 64 });
    onnxb_init_f32(b, "w", 4, (int64_t[]){ 2, 2, 1, 1 }, (float[]){ 1, 0, 0, 1 });
    onnxb_node(b, "Conv", "conv", ONNXB_NAMES("x", "w"), ONNXB_NAMES("y"));
    onnxb_output(b, "y", EOS_DTYPE_F32, 4, (int64_t[]){ 1, 2, 64, 64 });
    eos_analyzer *a = NULL, *af = NULL;
    if (!point_model(fx_path(&f, "point2.onnx", model), 2, k_seg2_meta) ||
        !save_model(b, fx_path(&f, "fixed.onnx", fixed), fmeta) || !(a = open_an(f.ctx, model)) ||
        !(af = open_an(f.ctx, fixed))) {
        TEST_FAIL_("fixtures");
        goto done;
    }
    EXPECT_EQ_INT(eos_analyzer_contract(af)->in_h, 64);
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        int w = shapes[k][0], h = shapes[k][1];
        float *px = halves(w, h, w > 1 ? w / 2 : 1, 10 + k);
        uint8_t *got = malloc((size_t)w * h), *want = malloc((size_t)w * h);
        eos_raster *r = NULL;
        snprintf(scene, sizeof scene, "%s/shape%zu.tif", f.dir, k);
        if (!px || !got || !want || !write_scene(scene, 2, w, h, px, NULL) ||
            !(r = open_img(a, f.ctx, scene))) {
            TEST_FAIL_("fixtures %d x %d", w, h);
        } else {
            for (int i = 0; i < w * h; i++) want[i] = i % w < (w > 1 ? w / 2 : 1) ? 0 : 1;
            for (size_t c = 0; c <= sizeof cfg / sizeof cfg[0]; c++) {
                bool fx_in = c == sizeof cfg / sizeof cfg[0];   /* last: the fixed model */
                eos_segment_params p = eos_segment_default_params();
                if (!fx_in) {
                    p.window = cfg[c][0];
                    p.overlap = cfg[c][1];
                    p.batch = cfg[c][2];
                    p.tta = cfg[c][3];
                }
                p.mask_path = fx_path(&f, "shape_mask.tif", mask);
                eos_segment_result res;
                if (!segment(fx_in ? af : a, r, &p, &res)) continue;
                EXPECT_EQ_INT(res.pixels[0] + res.pixels[1], (int64_t)w * h);
                eos_segment_result_free(&res);
                char what[96];
                snprintf(what, sizeof what, "%d x %d, %s %d/%d", w, h,
                         fx_in ? "fixed 64" : "window", fx_in ? 64 : cfg[c][0],
                         fx_in ? 16 : cfg[c][1]);
                if (read_u8(mask, 1, w, h, got)) expect_mask(what, got, want, w, h);
                else TEST_FAIL_("%s: cannot read the mask", what);
            }
        }
        eos_raster_close(r);
        free(px);
        free(got);
        free(want);
    }
done:
    eos_analyzer_free(a);
    eos_analyzer_free(af);
    fx_close(&f);
}

/* Multi-scale averaging and post-processing. On a scene of two halves with isolated specks of
 * the other class: scales 0.5 and 2 (with 1) keep the halves; opening removes the specks, and
 * the counts and areas follow the cleaned mask. */
static void test_scales_and_post(void) {
    enum { W = 128, H = 96, BORDER = 61 };
    fx f;
    ASSERT_TRUE(fx_open(&f, "post"));
    char model[512], scene[512], mask[512];
    float *px = halves(W, H, BORDER, 21);
    uint8_t *got = malloc(W * H);
    eos_analyzer *a = NULL;
    eos_raster *r = NULL;
    int64_t n0 = (int64_t)BORDER * H;   /* class 0 pixels with the specks */
    for (int y = 8; px && y < H; y += 16)   /* single pixels of the other class, 5 px or more */
        for (int x = 8; x < W; x += 16) {     /* from the border */
            float *b0 = px + y * W + x, *b1 = b0 + W * H, t = *b0;
            *b0 = *b1;
            *b1 = t;
            n0 += x < BORDER ? -1 : 1;
        }
    if (!px || !got || !point_model(fx_path(&f, "point2.onnx", model), 2, k_seg2_meta) ||
        !write_scene(fx_path(&f, "specks.tif", scene), 2, W, H, px, NULL)) {
        TEST_FAIL_("fixtures");
    } else if ((a = open_an(f.ctx, model)) && (r = open_img(a, f.ctx, scene))) {
        eos_segment_params p = eos_segment_default_params();
        p.window = 64;
        p.overlap = 16;
        p.mask_path = fx_path(&f, "specks_mask.tif", mask);
        eos_segment_result res;
        if (segment(a, r, &p, &res)) {   /* plain: every speck is there */
            EXPECT_EQ_INT(res.pixels[0], n0);
            eos_segment_result_free(&res);
        }
        p.n_scales = 3;
        p.scales[0] = 1.0;
        p.scales[1] = 0.5;
        p.scales[2] = 2.0;
        if (segment(a, r, &p, &res) && read_u8(mask, 1, W, H, got)) {
            eos_segment_result_free(&res);
            int64_t bad = 0;   /* away from the specks and the border, the halves stay */
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    bool near_speck = abs(y % 16 - 8) <= 2 && abs(x % 16 - 8) <= 2;
                    if (!near_speck && abs(x - BORDER) > 2 && got[y * W + x] != (x >= BORDER) &&
                        bad++ < 5)
                        fprintf(stderr, "  multi-scale: (%d, %d) is %d\n", x, y, got[y * W + x]);
                }
            EXPECT_EQ_INT(bad, 0);
        }
        /* the class-1 specks are objects of 1 px, the class-0 ones holes in class 1 (class 0
         * is the background of eos_mask_clean: it is not cleaned itself) */
        p.n_scales = 0;
        p.post = true;
        for (int k = 0; k < 2; k++) {
            p.clean.open_radius_px = p.clean.close_radius_px = k ? 0 : 1;
            p.clean.min_object_px = p.clean.min_hole_px = k ? 2 : 0;
            if (!segment(a, r, &p, &res) || !read_u8(mask, 1, W, H, got)) continue;
            EXPECT_EQ_INT(res.pixels[0], BORDER * H);
            EXPECT_EQ_INT(res.pixels[1], (W - BORDER) * H);
            EXPECT_NEAR(res.area_m2[1], (W - BORDER) * H * K_PX_M2, 1e-6);
            eos_segment_result_free(&res);
            int64_t bad = 0;
            for (int i = 0; i < W * H; i++) bad += got[i] != (i % W >= BORDER);
            EXPECT_EQ_INT(bad, 0);
        }
        /* bad parameters are refused with a message */
        static const struct { int window, overlap, tta, batch; } badp[] = {
            { 48, 16, 1, 4 }, { 64, 15, 1, 4 }, { 64, 40, 1, 4 }, { 64, 16, 3, 4 },
            { 64, 16, 1, 999 }
        };
        for (size_t k = 0; k < sizeof badp / sizeof badp[0]; k++) {
            eos_segment_params q = eos_segment_default_params();
            q.window = badp[k].window;
            q.overlap = badp[k].overlap;
            q.tta = badp[k].tta;
            q.batch = badp[k].batch;
            EXPECT_STATUS(eos_segment_scene(a, r, &q, &res), EOS_INVALID_ARG);
            EXPECT_TRUE(eos_analyzer_errmsg(a)[0] != '\0');
        }
        eos_segment_params q = eos_segment_default_params();
        q.vector_path = mask;   /* polygons without a mask */
        EXPECT_STATUS(eos_segment_scene(a, r, &q, &res), EOS_INVALID_ARG);
    }
    eos_raster_close(r);
    eos_analyzer_free(a);
    free(px);
    free(got);
    fx_close(&f);
}

/* ------------------------------------------------------------------ b. tiled == single pass */

/* A smooth random 2-band scene: sums of three plane waves per band, amplitude about 2. */
static void smooth_scene(float *px, int w, int h, uint64_t seed) {
    float prm[2 * 3 * 3];   /* per band and wave: fx, fy, phase */
    test_fill_uniform(prm, 18, 0.0f, 1.0f, seed);
    for (int b = 0; b < 2; b++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                double v = 0;
                for (int k = 0; k < 3; k++) {
                    const float *q = prm + (b * 3 + k) * 3;
                    double fx_ = 0.03 + 0.12 * q[0], fy_ = 0.03 + 0.12 * q[1];
                    v += 0.7 * sin(fx_ * x + fy_ * y + 6.3 * q[2]);
                }
                px[((size_t)b * h + y) * w + x] = (float)v;
            }
}

typedef struct seg_out { uint8_t *mask, *probs; } seg_out;

/* Segment with a window and overlap (window 0: one window over the scene) and read back the
 * mask and the 2-band u8 probabilities. */
static bool seg_read(const fx *f, eos_analyzer *a, eos_raster *r, int window, int overlap,
                     int w, int h, seg_out *o) {
    char mask[512], probs[512];
    eos_segment_params p = eos_segment_default_params();
    p.window = window;
    p.overlap = overlap;
    p.mask_path = fx_path(f, "cmp_mask.tif", mask);
    p.probs_path = fx_path(f, "cmp_probs.tif", probs);
    eos_segment_result res;
    if (!segment(a, r, &p, &res)) return false;
    if (window == 0) EXPECT_EQ_INT(res.windows, 1);
    eos_segment_result_free(&res);
    o->mask = malloc((size_t)w * h);
    o->probs = malloc((size_t)2 * w * h);
    return o->mask && o->probs && read_u8(mask, 1, w, h, o->mask) &&
           read_u8(probs, 1, w, h, o->probs) && read_u8(probs, 2, w, h, o->probs + (size_t)w * h);
}

static void seg_out_free(seg_out *o) {
    free(o->mask);
    free(o->probs);
    o->mask = o->probs = NULL;
}

/* Tiled vs single pass on the same scene: share of equal mask pixels, largest and mean
 * difference of the u8 probabilities. */
static void compare_runs(const seg_out *t, const seg_out *s, int n, double *agree, int *max_d,
                         double *mean_d) {
    int64_t same = 0, sum = 0;
    *max_d = 0;
    for (int i = 0; i < n; i++) same += t->mask[i] == s->mask[i];
    for (int i = 0; i < 2 * n; i++) {
        int d = abs((int)t->probs[i] - (int)s->probs[i]);
        sum += d;
        *max_d = d > *max_d ? d : *max_d;
    }
    *agree = (double)same / n;
    *mean_d = (double)sum / (2.0 * n);
}

/* Tolerance of the 3x3 model. Only a pixel on the outermost row or column of a window sees
 * context that differs from the scene's (the model's own reflect padding inside the window
 * instead of the neighbouring pixels); there it carries blend weight 0.5 / overlap (1/32 for
 * overlap 16) against 1 - 1/32 of the neighbouring window, which sees it with full context,
 * per axis: at most 1/16 of a blended probability comes from wrong context, and on this
 * smooth scene the wrong context is close to the right one. The u8 rounding adds up to one
 * level. Measured: at most 1 level (1/255) anywhere, 0.02 levels on average, 99.97 % equal
 * classes. Allowed: 3 levels at any pixel, 0.05 on average, 99.5 % equal classes (a pixel
 * whose two classes tie within the tolerance may flip). */
static void test_tiled_equals_single(void) {
    enum { W = 96, H = 80 };   /* the single pass: one 96 x 96 window (96 = max side, x32) */
    fx f;
    ASSERT_TRUE(fx_open(&f, "tiled"));
    char conv[512], point[512], scene[512];
    static const char *const meta[] = { "eosight.task", "segmentation", "eosight.classes",
                                        "p,q", NULL };
    float *px = malloc(sizeof(float) * 2 * W * H);
    eos_analyzer *a3 = NULL, *a1 = NULL;
    eos_raster *r = NULL;
    if (px) smooth_scene(px, W, H, 99);
    if (!px || !conv3_model(fx_path(&f, "conv3.onnx", conv), meta) ||
        !point_model(fx_path(&f, "point.onnx", point), 2, meta) ||
        !write_scene(fx_path(&f, "smooth.tif", scene), 2, W, H, px, NULL)) {
        TEST_FAIL_("fixtures");
    } else if ((a3 = open_an(f.ctx, conv)) && (a1 = open_an(f.ctx, point)) &&
               (r = open_img(a3, f.ctx, scene))) {
        static const int cfg[3][2] = { { 32, 16 }, { 64, 16 }, { 64, 32 } };
        seg_out single = { 0 }, tiled = { 0 };
        if (seg_read(&f, a3, r, 0, 0, W, H, &single)) {
            int64_t n0 = 0;   /* both classes occur */
            for (int i = 0; i < W * H; i++) n0 += single.mask[i] == 0;
            EXPECT_TRUE(n0 > W * H / 10 && n0 < W * H * 9 / 10);
            for (int k = 0; k < 3; k++) {
                if (!seg_read(&f, a3, r, cfg[k][0], cfg[k][1], W, H, &tiled)) break;
                double agree, mean_d;
                int max_d;
                compare_runs(&tiled, &single, W * H, &agree, &max_d, &mean_d);
                if (agree < 0.995 || max_d > 3 || mean_d > 0.05)
                    TEST_FAIL_("3x3 model, window %d overlap %d vs single pass: classes agree "
                               "%.4f, probabilities differ by up to %d/255 (mean %.3f)",
                               cfg[k][0], cfg[k][1], agree, max_d, mean_d);
                seg_out_free(&tiled);
            }
        }
        seg_out_free(&single);
        /* a pointwise model: tiling changes nothing at all */
        if (seg_read(&f, a1, r, 0, 0, W, H, &single)) {
            for (int k = 0; k < 3; k++) {
                if (!seg_read(&f, a1, r, cfg[k][0], cfg[k][1], W, H, &tiled)) break;
                EXPECT_TRUE(!memcmp(tiled.mask, single.mask, (size_t)W * H));
                double agree, mean_d;
                int max_d;
                compare_runs(&tiled, &single, W * H, &agree, &max_d, &mean_d);
                if (max_d)
                    TEST_FAIL_("1x1 model, window %d overlap %d: probabilities differ by up to "
                               "%d/255 (mean %.5f)", cfg[k][0], cfg[k][1], max_d, mean_d);
                seg_out_free(&tiled);
            }
        }
        seg_out_free(&single);
    }
    eos_raster_close(r);
    eos_analyzer_free(a3);
    eos_analyzer_free(a1);
    free(px);
    fx_close(&f);
}

/* ------------------------------------------------------------------ c. polygons */

typedef struct feat_count { int n[3]; double area[3]; double env[4]; int holes0; } feat_count;

/* Features per class_id (0, 1) of a vector file, the area of each class, the envelope of the
 * (last) class 1 feature and the interior rings of the class 0 feature. */
static bool count_features(const char *path, feat_count *c) {
    memset(c, 0, sizeof *c);
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR, NULL, NULL, NULL);
    if (!ds) return false;
    OGRLayerH l = GDALDatasetGetLayer(ds, 0);
    OGRFeatureH ft;
    while (l && (ft = OGR_L_GetNextFeature(l)) != NULL) {
        int id = OGR_F_GetFieldAsInteger(ft, OGR_F_GetFieldIndex(ft, "class_id"));
        int k = id == 0 || id == 1 ? id : 2;
        c->n[k]++;
        c->area[k] += OGR_F_GetFieldAsDouble(ft, OGR_F_GetFieldIndex(ft, "area_m2"));
        OGRGeometryH g = OGR_F_GetGeometryRef(ft);
        if (g && id == 1) {
            OGREnvelope e;
            OGR_G_GetEnvelope(g, &e);
            c->env[0] = e.MinX, c->env[1] = e.MinY, c->env[2] = e.MaxX, c->env[3] = e.MaxY;
        }
        if (g && id == 0) c->holes0 += OGR_G_GetGeometryCount(g) - 1;
        OGR_F_Destroy(ft);
    }
    GDALClose(ds);
    return true;
}

/* A water rectangle [40, 120) x [30, 100) crossing the borders of 64-px windows (overlap 16:
 * cores [0, 48) [48, 96) [96, 144) ...) on land comes out as one feature, in GeoJSON and in
 * GeoPackage (there in the scene's CRS, checked against the rectangle's map coordinates). */
static void test_polygon_across_windows(void) {
    enum { W = 160, H = 128 };
    fx f;
    ASSERT_TRUE(fx_open(&f, "poly"));
    char model[512], scene[512], mask[512], vec[512];
    static const char *const meta[] = { "eosight.task", "segmentation", "eosight.classes",
                                        "land,water", NULL };
    float *px = malloc(sizeof(float) * 2 * W * H);
    eos_analyzer *a = NULL;
    eos_raster *r = NULL;
    for (int y = 0; px && y < H; y++)
        for (int x = 0; x < W; x++) {
            bool water = x >= 40 && x < 120 && y >= 30 && y < 100;
            px[y * W + x] = water ? 0.2f : 1.0f;
            px[W * H + y * W + x] = water ? 0.9f : 0.1f;
        }
    if (!px || !point_model(fx_path(&f, "point.onnx", model), 2, meta) ||
        !write_scene(fx_path(&f, "lake.tif", scene), 2, W, H, px, NULL)) {
        TEST_FAIL_("fixtures");
    } else if ((a = open_an(f.ctx, model)) && (r = open_img(a, f.ctx, scene))) {
        for (int k = 0; k < 2; k++) {
            eos_segment_params p = eos_segment_default_params();
            p.window = 64;
            p.overlap = 16;
            p.mask_path = fx_path(&f, "lake_mask.tif", mask);
            p.vector_path = fx_path(&f, k ? "lake.gpkg" : "lake.geojson", vec);
            eos_segment_result res;
            if (!segment(a, r, &p, &res)) continue;
            EXPECT_EQ_INT(res.windows, 12);        /* 4 x 3 windows */
            EXPECT_EQ_INT(res.n_polygons, 2);      /* the lake and the land around it */
            EXPECT_EQ_INT(res.pixels[1], 80 * 70);
            eos_segment_result_free(&res);
            feat_count c;
            if (!count_features(vec, &c)) {
                TEST_FAIL_("cannot read %s", vec);
                continue;
            }
            EXPECT_EQ_INT(c.n[1], 1);
            EXPECT_EQ_INT(c.n[0], 1);
            EXPECT_EQ_INT(c.n[2], 0);
            EXPECT_EQ_INT(c.holes0, 1);
            EXPECT_NEAR(c.area[1], 80 * 70 * K_PX_M2, 1e-3);
            EXPECT_NEAR(c.area[0], (W * H - 80 * 70) * K_PX_M2, 1e-3);
            if (k == 1) {   /* GeoPackage: map coordinates of the rectangle */
                EXPECT_NEAR(c.env[0], k_gt[0] + 40 * 10, 1e-6);
                EXPECT_NEAR(c.env[2], k_gt[0] + 120 * 10, 1e-6);
                EXPECT_NEAR(c.env[3], k_gt[3] - 30 * 10, 1e-6);
                EXPECT_NEAR(c.env[1], k_gt[3] - 100 * 10, 1e-6);
            }
        }
    }
    eos_raster_close(r);
    eos_analyzer_free(a);
    free(px);
    fx_close(&f);
}

/* ------------------------------------------------------------------ d. nodata */

/* Nodata in, nodata out: a UInt16 scene with nodata 0 (a block in band 1, scattered pixels in
 * band 2: a pixel is nodata when any band is), and a Float32 scene with nodata -9999 in band 1
 * and NaN (no nodata value) in band 2. The mask is 255 at exactly those pixels, which count in
 * no class and no area; their probabilities are 0. A window all nodata is not run. */
static void nodata_case(const fx *f, eos_analyzer *a, bool u16) {
    enum { W = 150, H = 110 };
    char scene[512], mask[512], probs[512];
    float *px = malloc(sizeof(float) * 2 * W * H);
    uint8_t *want = malloc(W * H), *got = malloc(W * H), *pb = malloc(2 * W * H);
    if (!px || !want || !got || !pb) {
        TEST_FAIL_("out of memory");
        goto done;
    }
    const float nd0 = u16 ? 0.0f : -9999.0f, nd1 = u16 ? 0.0f : NAN;
    int64_t n_nodata = 0, n_cls[2] = { 0, 0 };
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int i = y * W + x;
            bool cls1 = (x + 2 * y) % 7 < 3;   /* diagonal stripes */
            px[i] = cls1 ? 100.0f : 300.0f;
            px[W * H + i] = cls1 ? 200.0f : 50.0f;
            bool hole0 = x < 60 && y < 60;   /* covers window (0, 0) [-8, 56) entirely */
            bool hole1 = (x * 31 + y * 17) % 23 == 0;
            if (hole0) px[i] = nd0;
            if (hole1) px[W * H + i] = nd1;
            want[i] = hole0 || hole1 ? 255 : cls1;
            if (hole0 || hole1) n_nodata++;
            else n_cls[cls1]++;
        }
    double nodata[2] = { nd0, u16 ? 0.0 : NAN };
    scene_opts so = { .type = u16 ? GDT_UInt16 : GDT_Float32, .nodata = nodata };
    eos_raster *r = NULL;
    if (!write_scene(fx_path(f, u16 ? "nd16.tif" : "ndf.tif", scene), 2, W, H, px, &so) ||
        !(r = open_img(a, f->ctx, scene))) {
        TEST_FAIL_("fixtures");
        goto done;
    }
    eos_segment_params p = eos_segment_default_params();
    p.window = 64;
    p.overlap = 16;
    p.mask_path = fx_path(f, "nd_mask.tif", mask);
    p.probs_path = fx_path(f, "nd_probs.tif", probs);
    eos_segment_result res;
    if (segment(a, r, &p, &res)) {
        EXPECT_EQ_INT(res.nodata_px, n_nodata);
        EXPECT_EQ_INT(res.pixels[0], n_cls[0]);
        EXPECT_EQ_INT(res.pixels[1], n_cls[1]);
        EXPECT_NEAR(res.area_m2[0], (double)n_cls[0] * K_PX_M2, 1e-6);
        EXPECT_NEAR(res.area_m2[1], (double)n_cls[1] * K_PX_M2, 1e-6);
        EXPECT_EQ_INT(res.windows, 4 * 3);
        EXPECT_EQ_INT(res.windows_nodata, 1);
        EXPECT_EQ_INT(res.windows_cloudy, 0);
        eos_segment_result_free(&res);
        if (read_u8(mask, 1, W, H, got) && read_u8(probs, 1, W, H, pb) &&
            read_u8(probs, 2, W, H, pb + W * H)) {
            expect_mask(u16 ? "nodata (UInt16)" : "nodata (Float32, NaN)", got, want, W, H);
            int64_t bad = 0;
            for (int i = 0; i < W * H; i++)
                if (want[i] == 255) bad += pb[i] != 0 || pb[W * H + i] != 0;
                else bad += pb[i] + pb[W * H + i] < 254 || pb[i] + pb[W * H + i] > 256;
            EXPECT_EQ_INT(bad, 0);
        } else {
            TEST_FAIL_("cannot read the outputs");
        }
    }
    eos_raster_close(r);
done:
    free(px);
    free(want);
    free(got);
    free(pb);
}

static void test_nodata(void) {
    fx f;
    ASSERT_TRUE(fx_open(&f, "nodata"));
    char model[512];
    static const char *const meta[] = { "eosight.task", "segmentation", "eosight.classes",
                                        "a,b", NULL };
    eos_analyzer *a = NULL;
    if (!point_model(fx_path(&f, "point.onnx", model), 2, meta)) TEST_FAIL_("fixtures");
    else if ((a = open_an(f.ctx, model))) {
        nodata_case(&f, a, true);
        nodata_case(&f, a, false);
    }
    eos_analyzer_free(a);
    fx_close(&f);
}

/* ------------------------------------------------------------------ e. georeferencing */

/* The mask (COG) and the probabilities of a segmentation carry the scene's geotransform and
 * CRS. (The grid outputs of eos_analyze_image are checked in test_image_grid.) */
static void test_segment_georef(void) {
    enum { W = 70, H = 50 };
    fx f;
    ASSERT_TRUE(fx_open(&f, "georef"));
    char model[512], scene[512], mask[512], probs[512], png[512];
    float *px = halves(W, H, 30, 5);
    eos_analyzer *a = NULL;
    eos_raster *r = NULL;
    if (!px || !point_model(fx_path(&f, "point2.onnx", model), 2, k_seg2_meta) ||
        !write_scene(fx_path(&f, "g.tif", scene), 2, W, H, px, NULL)) {
        TEST_FAIL_("fixtures");
    } else if ((a = open_an(f.ctx, model)) && (r = open_img(a, f.ctx, scene))) {
        eos_segment_params p = eos_segment_default_params();
        p.window = 32;
        p.overlap = 8;
        p.mask_path = fx_path(&f, "g_mask.tif", mask);
        p.probs_path = fx_path(&f, "g_probs.tif", probs);
        eos_segment_result res;
        if (segment(a, r, &p, &res)) {
            eos_segment_result_free(&res);
            expect_georef(mask, k_gt);
            expect_georef(probs, k_gt);
            GDALDatasetH ds = GDALOpen(probs, GA_ReadOnly);
            if (ds) {   /* one band per class, named after it */
                EXPECT_EQ_INT(GDALGetRasterCount(ds), 2);
                EXPECT_STR_EQ(GDALGetDescription(GDALGetRasterBand(ds, 2)), "right");
                GDALClose(ds);
            }
        }
        /* a PNG mask keeps the georeferencing too (in a sidecar) */
        p.probs_path = NULL;
        p.mask_path = fx_path(&f, "g_mask.png", png);
        if (segment(a, r, &p, &res)) {
            eos_segment_result_free(&res);
            expect_georef(png, k_gt);
        }
        /* a failed run leaves no file under the output name */
        p.mask_path = fx_path(&f, "nowhere/m.tif", mask);
        EXPECT_TRUE(eos_segment_scene(a, r, &p, &res) != EOS_OK);
        EXPECT_TRUE(eos_analyzer_errmsg(a)[0] != '\0');
    }
    eos_raster_close(r);
    eos_analyzer_free(a);
    free(px);
    fx_close(&f);
}

TEST_MAIN(TEST(test_two_halves), TEST(test_progress_cancel), TEST(test_geographic_areas), TEST(test_window_shapes),
          TEST(test_scales_and_post), TEST(test_tiled_equals_single),
          TEST(test_polygon_across_windows), TEST(test_nodata), TEST(test_segment_georef))

#else

static void test_no_gdal(void) { TEST_SKIP("built without GDAL"); }
TEST_MAIN(TEST(test_no_gdal))

#endif
