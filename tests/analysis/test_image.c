/*
 * tests/analysis/test_image.c - eos_analyze_image, the model contract and metadata edits
 * (include/eosight/analysis.h, src/onnx/onnx_meta.h) on synthetic images whose answers are
 * known by construction (fixtures: tests/analysis/fixture.h). Covered: whole images (softmax
 * of the band means), patch grids over a two-class scene with nodata (cells, shares, the grid
 * GeoTIFF and GeoJSON against coordinates computed with OGR), a fixed-batch model, per-label
 * tag thresholds, cloud screening of grid cells and of segmentation windows, the contract
 * check (band count, 8-bit vs 16-bit scaling, reflectance, bands by name), malformed
 * contracts, and byte-exact metadata edits.
 */
#include "common/test.h"

#ifdef EOS_WITH_GDAL

#include "analysis/fixture.h"
#include "common/geo_oracle.h"
#include "onnx/onnx_meta.h"

static const char *const k_cloud_meta[] = {
    "eosight.task", "cloud", "eosight.classes", "clear,cloudy", "eosight.input_size", "8,8", NULL
};

/* ------------------------------------------------------------------ f. images and grids */

static const char *const k_gap3_meta[] = {
    "eosight.task", "classification", "eosight.classes", "a,b,c", "eosight.input_size", "16,16",
    NULL
};

/* Whole images through the GAP model: probabilities are the softmax of the band means, for an
 * image of the input's size and for one twice as large resized to it (a 2:1 bilinear
 * reduction with half-pixel centres averages 2x2 blocks, so the means stay). */
static void test_image_whole(void) {
    fx f;
    ASSERT_TRUE(fx_open(&f, "whole"));
    char model[512], img[512];
    eos_analyzer *a = NULL;
    float px[3 * 32 * 32];
    if (!gap_model(fx_path(&f, "gap3.onnx", model), 3, k_gap3_meta) ||
        !(a = open_an(f.ctx, model))) {
        TEST_FAIL_("fixtures");
        eos_analyzer_free(a);
        fx_close(&f);
        return;
    }
    for (int k = 0; k < 2; k++) {
        int s = k ? 32 : 16;
        test_fill_uniform(px, 3 * s * s, 0.0f, 3.0f, 40 + k);
        px[2 * s * s + 5] += 100.0f;   /* c wins: mean of band 3 up by 100 / s^2 */
        double z[3] = { 0, 0, 0 }, want[3];
        for (int b = 0; b < 3; b++) {
            for (int i = 0; i < s * s; i++) z[b] += px[b * s * s + i];
            z[b] /= s * s;
        }
        softmax(z, 3, want);
        eos_raster *r = NULL;
        eos_image_params p = eos_image_default_params();
        p.grid = k ? EOS_GRID_WHOLE : EOS_GRID_AUTO;
        eos_image_result res;
        if (!write_scene(fx_path(&f, k ? "w32.tif" : "w16.tif", img), 3, s, s, px, NULL) ||
            !(r = open_img(a, f.ctx, img)) || !analyze(a, r, &p, &res)) {
            eos_raster_close(r);
            continue;
        }
        EXPECT_TRUE(!res.grid);
        EXPECT_EQ_INT(res.cells_x * res.cells_y, 1);
        EXPECT_EQ_INT(res.n_cells_valid, 1);
        EXPECT_EQ_INT(res.top, 2);
        for (int c = 0; c < 3; c++) EXPECT_NEAR(res.probs[c], want[c], 1e-5);
        EXPECT_TRUE(isnan(res.ood_score) && !res.uncertain);
        char *js = NULL;
        EXPECT_OK(eos_image_result_json(a, &res, 2, &js));
        /* top-2 listed, sorted */
        EXPECT_TRUE(js && strstr(js, "\"task\":\"classify\",\"classes\":[{\"name\":\"c\"") &&
                    strstr(js, "\"top\":\"c\"") && !strstr(js, "\"grid\""));
        int n_names = 0;
        for (const char *q = js; q && (q = strstr(q, "\"name\":")); q++) n_names++;
        EXPECT_EQ_INT(n_names, 2);
        eos_free(js);
        eos_image_result_free(&res);
        eos_raster_close(r);
    }
    eos_analyzer_free(a);
    fx_close(&f);
}

/* Lon/lat of map point (x, y) of the scene's CRS, by OGR directly. */
static void utm_to_lonlat(double x, double y, double *lon, double *lat) {
    oracle_lonlat(K_EPSG, x, y, lon, lat);
}

/* The GeoJSON grid: one feature per cell (col, row), its ring the cell's corners (upper-left,
 * lower-left, lower-right, upper-right, upper-left: counter-clockwise) in lon/lat, its class
 * or status as in cls. */
static void expect_grid_geojson(const char *path, int nx, int ny, int win,
                                const uint8_t *cls, const char *const *names) {
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR, NULL, NULL, NULL);
    if (!ds) {
        TEST_FAIL_("cannot open %s", path);
        return;
    }
    OGRLayerH l = GDALDatasetGetLayer(ds, 0);
    EXPECT_EQ_INT(OGR_L_GetFeatureCount(l, TRUE), nx * ny);
    OGRFeatureH ft;
    int bad = 0;
    while ((ft = OGR_L_GetNextFeature(l)) != NULL) {
        int cx = OGR_F_GetFieldAsInteger(ft, OGR_F_GetFieldIndex(ft, "col"));
        int cy = OGR_F_GetFieldAsInteger(ft, OGR_F_GetFieldIndex(ft, "row"));
        const char *status = OGR_F_GetFieldAsString(ft, OGR_F_GetFieldIndex(ft, "status"));
        int ic = OGR_F_GetFieldIndex(ft, "class");
        const char *name = ic >= 0 && OGR_F_IsFieldSetAndNotNull(ft, ic)
                               ? OGR_F_GetFieldAsString(ft, ic) : "";
        if (cx < 0 || cx >= nx || cy < 0 || cy >= ny) {
            bad++;
            OGR_F_Destroy(ft);
            continue;
        }
        int c = cls[cy * nx + cx];
        const char *want_status = c == EOS_ANALYSIS_NODATA ? "nodata" : c == EOS_ANALYSIS_SKIPPED
                                  ? "cloudy" : "ok";
        if (strcmp(status, want_status) || (c < 250 && strcmp(name, names[c]))) {
            if (!bad++) TEST_FAIL_("cell (%d, %d): status %s class '%s', want %s", cx, cy,
                                   status, name, want_status);
        }
        OGRGeometryH ring = OGR_G_GetGeometryRef(OGR_F_GetGeometryRef(ft), 0);
        static const int corner[5][2] = { { 0, 0 }, { 0, 1 }, { 1, 1 }, { 1, 0 }, { 0, 0 } };
        if (!ring || OGR_G_GetPointCount(ring) != 5) {
            bad++;
        } else {
            for (int k = 0; k < 5; k++) {
                double lon, lat;
                utm_to_lonlat(k_gt[0] + (cx + corner[k][0]) * win * k_gt[1],
                              k_gt[3] + (cy + corner[k][1]) * win * k_gt[5], &lon, &lat);
                double x = OGR_G_GetX(ring, k), y = OGR_G_GetY(ring, k);
                if ((fabs(x - lon) > 2e-7 || fabs(y - lat) > 2e-7) && !bad++)
                    TEST_FAIL_("cell (%d, %d) point %d: %.8f %.8f, want %.8f %.8f", cx, cy, k, x,
                               y, lon, lat);
            }
        }
        OGR_F_Destroy(ft);
    }
    EXPECT_EQ_INT(bad, 0);
    GDALClose(ds);
}

/* A two-class scene cut into a grid of 16-px windows, the window taken from the model's GSD
 * (8 px input at 20 m = 16 px at 10 m). 84 x 48 px: 6 x 3 cells, the last column only 4 px
 * inside the scene (25 % valid: nodata); columns [0, 48) class a (bands 5, 1), [48, 84) class
 * b (1, 4); cell (4, 2) all nodata; cell (0, 0) a quarter nodata (still a: the model sees
 * zeros there, band means 3.75, 0.75). */
/* The two halves the service's micro-batcher uses: eos_analyze_prepare reads the input,
 * eos_analyze_batch runs several images at once (here on an analyzer sharing the model,
 * eos_analyzer_open_shared), eos_image_result_whole makes the result:
 * the same probabilities, class and JSON as eos_analyze_image image by image. A grid image is
 * not prepared (whole == false). */
static void test_prepare_whole(void) {
    fx f;
    ASSERT_TRUE(fx_open(&f, "prepare"));
    char model[512], img[512];
    eos_analyzer *a = NULL;
    if (!gap_model(fx_path(&f, "gap3.onnx", model), 3, k_gap3_meta) ||
        !(a = open_an(f.ctx, model))) {
        TEST_FAIL_("fixtures");
        eos_analyzer_free(a);
        fx_close(&f);
        return;
    }
    float px[3 * 20 * 20], x[3][3 * 16 * 16], probs[3 * 3], ood[3];
    double share[3];
    char *want[3] = { NULL, NULL, NULL };
    eos_image_params p = eos_image_default_params();
    for (int k = 0; k < 3; k++) {   /* 16, 18 and 20 px images: all whole (< 1.5 windows) */
        int s = 16 + 2 * k;
        test_fill_uniform(px, 3 * s * s, 0.0f, 3.0f, 70 + k);
        char name[32];
        snprintf(name, sizeof name, "p%d.tif", k);
        eos_raster *r = NULL;
        eos_image_result res;
        bool whole = false;
        if (!write_scene(fx_path(&f, name, img), 3, s, s, px, NULL) ||
            !(r = open_img(a, f.ctx, img))) {
            TEST_FAIL_("image %d", k);
            continue;
        }
        EXPECT_OK(eos_analyze_prepare(a, r, &p, x[k], &share[k], &whole));
        EXPECT_TRUE(whole);
        EXPECT_NEAR(share[k], 1.0, 0);
        if (analyze(a, r, &p, &res)) {
            EXPECT_OK(eos_image_result_json(a, &res, 0, &want[k]));
            eos_image_result_free(&res);
        }
        eos_raster_close(r);
    }
    /* the batch runs on a second analyzer sharing a's loaded model */
    eos_analyzer *b = NULL;
    eos_analyzer_params bp = { 1 };
    EXPECT_OK(eos_analyzer_open_shared(f.ctx, a, &bp, &b));
    EXPECT_TRUE(b && eos_analyzer_model(b) == eos_analyzer_model(a));
    EXPECT_TRUE(b && !strcmp(eos_analyzer_name(b), "gap3"));
    if (b) EXPECT_OK(eos_analyze_batch(b, &x[0][0], 3, 1, probs, ood));
    eos_analyzer_free(b);   /* before a, whose model it shares */
    for (int k = 0; k < 3; k++) {
        eos_image_result res;
        char *got = NULL;
        EXPECT_OK(eos_image_result_whole(a, &p, probs + 3 * k, ood[k], share[k], &res));
        EXPECT_OK(eos_image_result_json(a, &res, 0, &got));
        char *t1 = want[k] ? strstr(want[k], ",\"seconds\"") : NULL;   /* timing differs */
        char *t2 = got ? strstr(got, ",\"seconds\"") : NULL;
        if (t1) *t1 = '\0';
        if (t2) *t2 = '\0';
        if (!want[k] || !got || strcmp(want[k], got) != 0)
            TEST_FAIL_("image %d: batched %s, alone %s", k, got ? got : "-",
                       want[k] ? want[k] : "-");
        eos_free(got);
        eos_free(want[k]);
        eos_image_result_free(&res);
    }
    /* below min_valid: nodata, no class */
    eos_image_result res;
    EXPECT_OK(eos_image_result_whole(a, &p, probs, ood[0], 0.2, &res));
    EXPECT_EQ_INT(res.n_cells_valid, 0);
    EXPECT_EQ_INT(res.cell_class[0], EOS_ANALYSIS_NODATA);
    eos_image_result_free(&res);
    /* a grid image is left to eos_analyze_image */
    float big[3 * 64 * 16];
    test_fill_uniform(big, 3 * 64 * 16, 0.0f, 3.0f, 77);
    eos_raster *r = NULL;
    bool whole = true;
    double sh = -1;
    if (write_scene(fx_path(&f, "grid.tif", img), 3, 64, 16, big, NULL) &&
        (r = open_img(a, f.ctx, img))) {
        EXPECT_OK(eos_analyze_prepare(a, r, &p, x[0], &sh, &whole));
        EXPECT_TRUE(!whole);
    }
    eos_raster_close(r);
    /* the threshold parser */
    float t[4];
    EXPECT_EQ_INT(eos_parse_thresholds("0.3", t, 4), 1);
    EXPECT_NEAR(t[0], 0.3, 1e-7);
    EXPECT_EQ_INT(eos_parse_thresholds("0,1,0.25", t, 4), 3);
    EXPECT_NEAR(t[2], 0.25, 1e-7);
    EXPECT_EQ_INT(eos_parse_thresholds("1.5", t, 4), -1);
    EXPECT_EQ_INT(eos_parse_thresholds("0.1,", t, 4), -1);
    EXPECT_EQ_INT(eos_parse_thresholds("", t, 4), -1);
    EXPECT_EQ_INT(eos_parse_thresholds("a", t, 4), -1);
    EXPECT_EQ_INT(eos_parse_thresholds("0.1,0.2,0.3,0.4,0.5", t, 4), -1);
    eos_analyzer_free(a);
    fx_close(&f);
}

static void test_image_grid(void) {
    enum { W = 84, H = 48, NX = 6, NY = 3 };
    static const uint8_t want_cls[NY * NX] = {
        0, 0, 0, 1, 1, 255,
        0, 0, 0, 1, 1, 255,
        0, 0, 0, 1, 255, 255,
    };
    static const char *const meta[] = {
        "eosight.task", "classification", "eosight.classes", "a,b", "eosight.input_size", "8,8",
        "eosight.gsd_m", "20", NULL
    };
    static const char *const names[] = { "a", "b" };
    fx f;
    ASSERT_TRUE(fx_open(&f, "grid"));
    char model[512], scene[512], tif[512], gj[512];
    float px[2 * W * H];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            bool a_side = x < 48;
            bool nd = (x >= 64 && x < 80 && y >= 32) || (x < 8 && y < 8);
            px[y * W + x] = nd ? -9999.0f : a_side ? 5.0f : 1.0f;
            px[W * H + y * W + x] = a_side ? 1.0f : 4.0f;
        }
    double nodata[2] = { -9999.0, NAN };
    scene_opts so = { .nodata = nodata };
    eos_analyzer *a = NULL;
    eos_raster *r = NULL;
    eos_image_result res;
    memset(&res, 0, sizeof res);
    if (!gap_model(fx_path(&f, "gap2.onnx", model), 2, meta) ||
        !write_scene(fx_path(&f, "grid.tif", scene), 2, W, H, px, &so)) {
        TEST_FAIL_("fixtures");
        goto done;
    }
    if (!(a = open_an(f.ctx, model)) || !(r = open_img(a, f.ctx, scene))) goto done;
    eos_image_params p = eos_image_default_params();
    p.batch = 4;
    p.grid_tif = fx_path(&f, "cells.tif", tif);
    p.grid_geojson = fx_path(&f, "cells.geojson", gj);
    if (!analyze(a, r, &p, &res)) goto done;
    EXPECT_EQ_INT(res.window_px, 16);
    if (!res.grid || res.cells_x != NX || res.cells_y != NY) {
        TEST_FAIL_("grid %d: %lld x %lld cells, want %d x %d", res.grid, (long long)res.cells_x,
                   (long long)res.cells_y, NX, NY);
        goto done;
    }
    EXPECT_EQ_INT(res.n_cells_valid, 14);
    EXPECT_EQ_INT(res.n_cells_nodata, 4);
    EXPECT_EQ_INT(res.n_cells_skipped, 0);
    EXPECT_TRUE(!memcmp(res.cell_class, want_cls, NX * NY));
    EXPECT_NEAR(res.class_share[0], 9.0 / 14, 1e-9);
    EXPECT_NEAR(res.class_share[1], 5.0 / 14, 1e-9);
    double pa[2], pa0[2], pb[2];
    softmax((double[]){ 5, 1 }, 2, pa);
    softmax((double[]){ 3.75, 0.75 }, 2, pa0);
    softmax((double[]){ 1, 4 }, 2, pb);
    EXPECT_NEAR(res.cell_probs[0], pa0[0], 1e-5);       /* cell (0, 0) */
    EXPECT_NEAR(res.cell_probs[2 * 1 + 0], pa[0], 1e-5);   /* cell (1, 0) */
    EXPECT_NEAR(res.cell_probs[2 * 9 + 1], pb[1], 1e-5);   /* cell (3, 1) */
    for (int c = 0; c < 2; c++)
        EXPECT_NEAR(res.probs[c], (8 * pa[c] + pa0[c] + 5 * pb[c]) / 14, 1e-5);
    EXPECT_EQ_INT(res.top, 0);
    char *js = NULL;
    EXPECT_OK(eos_image_result_json(a, &res, 0, &js));
    EXPECT_TRUE(js && strstr(js, "\"grid\":{\"window_px\":16,\"cells_x\":6,\"cells_y\":3,"
                             "\"valid\":14,\"nodata\":4,\"cloudy\":0"));
    eos_free(js);
    /* the grid GeoTIFF: one pixel per cell, the scene's CRS, the transform scaled by 16 */
    uint8_t cells[NX * NY];
    EXPECT_TRUE(read_u8(tif, 1, NX, NY, cells) && !memcmp(cells, want_cls, NX * NY));
    const double gt16[6] = { k_gt[0], 160, 0, k_gt[3], 0, -160 };
    expect_georef(tif, gt16);
    expect_grid_geojson(gj, NX, NY, 16, want_cls, names);
    eos_image_result_free(&res);
    /* an explicit window; and 1.5 windows or less is one whole image */
    p = eos_image_default_params();
    p.window_px = 42;
    if (analyze(a, r, &p, &res)) {
        EXPECT_TRUE(res.grid);
        EXPECT_EQ_INT(res.cells_x, 2);
        EXPECT_EQ_INT(res.cells_y, 2);   /* 48 rows: the second row of cells 6/42 inside */
        EXPECT_EQ_INT(res.n_cells_nodata, 2);
    }
    eos_image_result_free(&res);
    p.window_px = 60;
    if (analyze(a, r, &p, &res)) EXPECT_TRUE(!res.grid);
    eos_image_result_free(&res);
    /* a model exported with a fixed batch of 2 (batches of 3 windows run as 2 + 2 padded) */
    char fixed[512];
    onnxb *b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 4, (int64_t[]){ 2, 2, 8, 8 });
    onnxb_node(b, "GlobalAveragePool", "gap", ONNXB_NAMES("x"), ONNXB_NAMES("g"));
    onnxb_node(b, "Flatten", "flat", ONNXB_NAMES("g"), ONNXB_NAMES("y"));
    onnxb_output(b, "y", EOS_DTYPE_F32, 2, (int64_t[]){ 2, 2 });
    eos_analyzer *a2 = NULL;
    p = eos_image_default_params();
    p.batch = 3;
    if (save_model(b, fx_path(&f, "gap2_b2.onnx", fixed), meta) && (a2 = open_an(f.ctx, fixed)) &&
        analyze(a2, r, &p, &res)) {
        EXPECT_TRUE(res.cells_x == NX && res.cells_y == NY &&
                    !memcmp(res.cell_class, want_cls, NX * NY));
        EXPECT_NEAR(res.cell_probs[2 * 9 + 1], pb[1], 1e-5);
    }
    eos_analyzer_free(a2);
done:
    eos_image_result_free(&res);
    eos_raster_close(r);
    eos_analyzer_free(a);
    fx_close(&f);
}

/* Tags: each label against its own threshold. Band means logit(0.55), logit(0.45): label 0
 * at 0.55 with threshold 0.6 is off, label 1 at 0.45 with threshold 0.4 on; with the default
 * thresholds (0.5) it is the other way round. */
static void test_tag(void) {
    fx f;
    ASSERT_TRUE(fx_open(&f, "tag"));
    char m1[512], m2[512], img[512];
    static const char *const meta1[] = {
        "eosight.task", "multilabel", "eosight.classes", "l0,l1", "eosight.input_size", "16,16",
        "eosight.thresholds", "0.6,0.4", NULL
    };
    static const char *const meta2[] = {
        "eosight.task", "multilabel", "eosight.classes", "l0,l1", "eosight.input_size", "16,16",
        NULL
    };
    float px[2 * 48 * 16];
    const float l55 = (float)log(0.55 / 0.45);
    for (int i = 0; i < 48 * 16; i++) px[i] = l55, px[48 * 16 + i] = -l55;
    eos_analyzer *a1 = NULL, *a2 = NULL;
    eos_raster *r = NULL;
    if (!gap_model(fx_path(&f, "tag1.onnx", m1), 2, meta1) ||
        !gap_model(fx_path(&f, "tag2.onnx", m2), 2, meta2) ||
        !write_scene(fx_path(&f, "t.tif", img), 2, 48, 16, px, NULL)) {
        TEST_FAIL_("fixtures");
    } else if ((a1 = open_an(f.ctx, m1)) && (a2 = open_an(f.ctx, m2)) &&
               (r = open_img(a1, f.ctx, img))) {
        EXPECT_NEAR(eos_analyzer_contract(a1)->thresholds[0], 0.6, 1e-7);
        EXPECT_NEAR(eos_analyzer_contract(a2)->thresholds[1], 0.5, 1e-7);
        eos_image_params p = eos_image_default_params();
        p.grid = EOS_GRID_WHOLE;
        eos_image_result res;
        char *js = NULL;
        if (analyze(a1, r, &p, &res)) {
            EXPECT_NEAR(res.probs[0], 0.55, 1e-5);
            EXPECT_NEAR(res.probs[1], 0.45, 1e-5);
            EXPECT_OK(eos_image_result_json(a1, &res, 0, &js));
            EXPECT_TRUE(js && strstr(js, "\"labels\":[\"l1\"]"));
            eos_free(js);
            js = NULL;
            eos_image_result_free(&res);
        }
        if (analyze(a2, r, &p, &res)) {
            EXPECT_OK(eos_image_result_json(a2, &res, 0, &js));
            EXPECT_TRUE(js && strstr(js, "\"labels\":[\"l0\"]"));
            eos_free(js);
            eos_image_result_free(&res);
        }
        /* thresholds given by the caller: 0.5 for both (l0 only), one per class */
        float t1[1] = { 0.5f }, t2[2] = { 0.9f, 0.3f }, t3[3] = { 0.1f, 0.1f, 0.1f };
        p.thresholds = t1;
        p.n_thresholds = 1;
        if (analyze(a1, r, &p, &res)) {
            EXPECT_NEAR(res.thresholds[1], 0.5, 1e-7);
            EXPECT_OK(eos_image_result_json(a1, &res, 0, &js));
            EXPECT_TRUE(js && strstr(js, "\"labels\":[\"l0\"]"));
            eos_free(js);
            js = NULL;
            eos_image_result_free(&res);
        }
        p.thresholds = t2;
        p.n_thresholds = 2;
        if (analyze(a1, r, &p, &res)) {
            EXPECT_OK(eos_image_result_json(a1, &res, 0, &js));
            EXPECT_TRUE(js && strstr(js, "\"labels\":[\"l1\"]"));
            eos_free(js);
            js = NULL;
            eos_image_result_free(&res);
        }
        p.thresholds = t3;   /* 3 for 2 classes */
        p.n_thresholds = 3;
        EXPECT_STATUS(eos_analyze_image(a1, r, &p, &res), EOS_INVALID_ARG);
        t3[0] = 1.5f;        /* out of range */
        p.n_thresholds = 1;
        EXPECT_STATUS(eos_analyze_image(a1, r, &p, &res), EOS_INVALID_ARG);
        p.thresholds = NULL;
        p.n_thresholds = 0;
        p.grid = EOS_GRID_ALWAYS;   /* 3 cells of 16 px: each carries l1 and not l0 */
        if (analyze(a1, r, &p, &res)) {
            EXPECT_EQ_INT(res.cells_x * res.cells_y, 3);
            EXPECT_NEAR(res.class_share[0], 0.0, 1e-12);
            EXPECT_NEAR(res.class_share[1], 1.0, 1e-12);
            eos_image_result_free(&res);
        }
    }
    eos_raster_close(r);
    eos_analyzer_free(a1);
    eos_analyzer_free(a2);
    fx_close(&f);
}

/* Cloud screening. A 3-band scene: clear where band 3 is 0 (classes: band 1 = 3 > band 2 = 1,
 * class a), cloud where band 3 is 10 (the classifier would call it c). The cloud model says
 * cloudy with p = sigmoid(mean(band 3) - 5): 0.993 on a cloud, 0.007 on clear ground. */
static void fill_cloud_scene(float *px, int w, int h, bool (*cloud)(int x, int y)) {
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x, plane = (size_t)w * h;
            px[i] = 3;
            px[plane + i] = 1;
            px[2 * plane + i] = cloud(x, y) ? 10.0f : 0.0f;
        }
}

static bool grid_cloud(int x, int y) {   /* cells (1, 0) and (2, 1) of 16 px */
    return (x / 16 == 1 && y / 16 == 0) || (x / 16 == 2 && y / 16 == 1);
}

static bool seg_cloud(int x, int y) { return x < 64 && y < 64; }   /* window (0, 0) of 64 px */

static void test_clouds(void) {
    fx f;
    ASSERT_TRUE(fx_open(&f, "clouds"));
    char mg[512], mc[512], mc2[512], ms[512], img[512], img2[512], mask[512];
    static const char *const gmeta[] = {
        "eosight.task", "classification", "eosight.classes", "a,b,c", "eosight.input_size", "8,8",
        "eosight.window_px", "16", NULL
    };
    static const char *const cmeta2[] = {   /* cloudy from p >= 0.05 */
        "eosight.task", "cloud", "eosight.classes", "clear,cloudy", "eosight.input_size", "8,8",
        "eosight.thresholds", "0.5,0.05", NULL
    };
    static const char *const smeta[] = {
        "eosight.task", "segmentation", "eosight.classes", "a,b,c", NULL
    };
    float *px = malloc(sizeof(float) * 3 * 128 * 128);
    eos_analyzer *ag = NULL, *cl = NULL, *cl2 = NULL, *as = NULL;
    eos_raster *r = NULL, *r2 = NULL;
    if (px) fill_cloud_scene(px, 64, 32, grid_cloud);
    bool ok = px && gap_model(fx_path(&f, "gap3.onnx", mg), 3, gmeta) &&
              cloud_model(fx_path(&f, "clouds.onnx", mc), k_cloud_meta) &&
              cloud_model(fx_path(&f, "clouds2.onnx", mc2), cmeta2) &&
              point_model(fx_path(&f, "seg3.onnx", ms), 3, smeta) &&
              write_scene(fx_path(&f, "cg.tif", img), 3, 64, 32, px, NULL);
    if (ok) fill_cloud_scene(px, 128, 128, seg_cloud);
    ok = ok && write_scene(fx_path(&f, "cs.tif", img2), 3, 128, 128, px, NULL);
    if (!ok || !(ag = open_an(f.ctx, mg)) || !(cl = open_an(f.ctx, mc)) ||
        !(cl2 = open_an(f.ctx, mc2)) || !(as = open_an(f.ctx, ms)) ||
        !(r = open_img(ag, f.ctx, img)) || !(r2 = open_img(as, f.ctx, img2))) {
        TEST_FAIL_("fixtures");
        goto done;
    }
    EXPECT_EQ_INT(eos_analyzer_contract(cl)->cloudy_class, 1);
    eos_image_params p = eos_image_default_params();
    eos_image_result res;
    /* grid of 4 x 2 cells: without screening the cloudy cells are c */
    if (analyze(ag, r, &p, &res)) {
        static const uint8_t want[8] = { 0, 2, 0, 0, 0, 0, 2, 0 };
        EXPECT_TRUE(res.grid && res.cells_x == 4 && res.cells_y == 2 &&
                    !memcmp(res.cell_class, want, 8));
        eos_image_result_free(&res);
    }
    p.clouds = cl;
    p.skip_cloudy = 0.5;
    if (analyze(ag, r, &p, &res)) {
        static const uint8_t want[8] = { 0, 254, 0, 0, 0, 0, 254, 0 };
        EXPECT_TRUE(res.cells_x == 4 && res.cells_y == 2 && !memcmp(res.cell_class, want, 8));
        EXPECT_EQ_INT(res.n_cells_skipped, 2);
        EXPECT_EQ_INT(res.n_cells_valid, 6);
        EXPECT_NEAR(res.class_share[0], 1.0, 1e-12);
        EXPECT_TRUE(!res.skipped);
        eos_image_result_free(&res);
    }
    /* the cloud model itself: cloudy fraction of the grid, and per-model thresholds */
    p = eos_image_default_params();
    p.grid = EOS_GRID_ALWAYS;
    p.window_px = 16;
    if (analyze(cl, r, &p, &res)) {
        EXPECT_NEAR(res.class_share[1], 0.25, 1e-12);
        EXPECT_NEAR(res.cell_probs[2 * 1 + 1], 1.0 / (1.0 + exp(-5.0)), 1e-5);
        eos_image_result_free(&res);
    }
    p.grid = EOS_GRID_WHOLE;   /* mean of band 3 over the resized image: 2.5 -> p 0.076 */
    if (analyze(cl, r, &p, &res)) {
        EXPECT_NEAR(res.probs[1], 1.0 / (1.0 + exp(2.5)), 1e-5);
        EXPECT_TRUE(!res.cloudy);
        eos_image_result_free(&res);
    }
    if (analyze(cl2, r, &p, &res)) {
        EXPECT_TRUE(res.cloudy);
        char *js = NULL;
        EXPECT_OK(eos_image_result_json(cl2, &res, 0, &js));
        EXPECT_TRUE(js && strstr(js, "\"cloudy\":true"));
        eos_free(js);
        eos_image_result_free(&res);
    }
    /* a classification model is no cloud screen */
    p.clouds = ag;
    p.skip_cloudy = 0.5;
    EXPECT_STATUS(eos_analyze_image(ag, r, &p, &res), EOS_INVALID_ARG);
    /* segmentation: the cloudy 64-px window is skipped and becomes nodata (no overlap) */
    eos_segment_params sp = eos_segment_default_params();
    sp.window = 64;
    sp.overlap = 0;
    sp.clouds = cl;
    sp.skip_cloudy = 0.5;
    sp.mask_path = fx_path(&f, "cs_mask.tif", mask);
    eos_segment_result sr;
    uint8_t *got = malloc(128 * 128), *want = malloc(128 * 128);
    if (got && want && segment(as, r2, &sp, &sr)) {
        EXPECT_EQ_INT(sr.windows, 4);
        EXPECT_EQ_INT(sr.windows_cloudy, 1);
        EXPECT_EQ_INT(sr.windows_nodata, 0);
        EXPECT_EQ_INT(sr.nodata_px, 64 * 64);
        EXPECT_EQ_INT(sr.pixels[0], 128 * 128 - 64 * 64);
        eos_segment_result_free(&sr);
        for (int i = 0; i < 128 * 128; i++) want[i] = seg_cloud(i % 128, i / 128) ? 255 : 0;
        if (read_u8(mask, 1, 128, 128, got)) expect_mask("cloudy window", got, want, 128, 128);
    }
    /* with overlap 16 (step 48) the skipped window (0, 0) owns the core [0, 48)^2: exactly that
     * is nodata, although its neighbours' windows reach into it */
    sp.overlap = 16;
    if (got && segment(as, r2, &sp, &sr)) {
        EXPECT_EQ_INT(sr.windows_cloudy, 1);
        EXPECT_EQ_INT(sr.nodata_px, 48 * 48);
        eos_segment_result_free(&sr);
        int64_t bad = 0;
        if (read_u8(mask, 1, 128, 128, got))
            for (int y = 0; y < 128; y++)
                for (int x = 0; x < 128; x++)
                    bad += (got[y * 128 + x] == 255) != (x < 48 && y < 48);
        EXPECT_EQ_INT(bad, 0);
    }
    free(got);
    free(want);
done:
    eos_raster_close(r);
    eos_raster_close(r2);
    eos_analyzer_free(ag);
    eos_analyzer_free(cl);
    eos_analyzer_free(cl2);
    eos_analyzer_free(as);
    free(px);
    fx_close(&f);
}

/* ------------------------------------------------------------------ g. contract checks */

/* Check img against the model written with meta (a 3-band GAP classifier unless nb says). */
static void check_case(const fx *f, const char *what, int nb, const char *const *meta,
                       const char *img, bool want_refuse, const char *want_text) {
    char model[512];
    eos_analyzer *a = NULL;
    eos_raster *r = NULL;
    snprintf(model, sizeof model, "%s/chk_%d.onnx", f->dir, nb);
    if (!gap_model(model, nb, meta) || !(a = open_an(f->ctx, model)) ||
        !(r = open_img(a, f->ctx, img))) {
        TEST_FAIL_("%s: fixtures", what);
    } else {
        eos_check chk;
        if (eos_contract_check(a, r, &chk) != EOS_OK) {
            TEST_FAIL_("%s: eos_contract_check failed: %s", what, eos_analyzer_errmsg(a));
        } else {
            if (chk.refuse != want_refuse)
                TEST_FAIL_("%s: refuse %d, want %d (%s)", what, chk.refuse, want_refuse,
                           chk.n_msgs ? chk.msgs[0] : "no message");
            if (want_text && (!chk.n_msgs || !strstr(chk.msgs[0], want_text)))
                TEST_FAIL_("%s: message '%s' lacks '%s'", what, chk.n_msgs ? chk.msgs[0] : "",
                           want_text);
            if (!want_text && !want_refuse && chk.n_msgs)
                TEST_FAIL_("%s: unexpected message '%s'", what, chk.msgs[0]);
        }
    }
    eos_raster_close(r);
    eos_analyzer_free(a);
}

static void test_contract_check(void) {
    fx f;
    ASSERT_TRUE(fx_open(&f, "contract"));
    char u16[512], u16s[512], f01[512], byte[512], bgr[512], desc[512];
    enum { S = 32 };
    float px[3 * S * S];
    bool ok = true;
    test_fill_uniform(px, 3 * S * S, 9000.0f, 11000.0f, 3);
    scene_opts so = { .type = GDT_UInt16 };
    ok = ok && write_scene(fx_path(&f, "u16.tif", u16), 3, S, S, px, &so);
    test_fill_uniform(px, 3 * S * S, 0.0f, 1.0f, 4);
    ok = ok && write_scene(fx_path(&f, "f01.tif", f01), 3, S, S, px, NULL);
    test_fill_uniform(px, 3 * S * S, 0.0f, 255.0f, 5);
    ok = ok && write_scene(fx_path(&f, "u16s.tif", u16s), 3, S, S, px, &so);
    so.type = GDT_Byte;
    ok = ok && write_scene(fx_path(&f, "byte.tif", byte), 3, S, S, px, &so);
    /* BGR: band 1 Blue = 9, band 2 Green = 1, band 3 Red = 2 (RGB order: 2, 1, 9) */
    static const GDALColorInterp ci[3] = { GCI_BlueBand, GCI_GreenBand, GCI_RedBand };
    for (int i = 0; i < S * S; i++) px[i] = 9, px[S * S + i] = 1, px[2 * S * S + i] = 2;
    so.ci = ci;
    ok = ok && write_scene(fx_path(&f, "bgr.tif", bgr), 3, S, S, px, &so);
    static const char *const dn[3] = { "B02", "B03", "B04" };
    scene_opts sd = { .desc = dn };
    ok = ok && write_scene(fx_path(&f, "desc.tif", desc), 3, S, S, px, &sd);
    if (!ok) {
        TEST_FAIL_("fixtures");
        fx_close(&f);
        return;
    }
#define BASE "eosight.task", "classification", "eosight.classes"
    static const char *const m8[] = { BASE, "a,b,c", "eosight.input_size", "16,16",
                                      "eosight.norm.scale", "0.00392156862745098", NULL };
    static const char *const m8d[] = { BASE, "a,b,c", "eosight.input_size", "16,16",
                                       "eosight.dtype", "u8", NULL };
    static const char *const m16[] = { BASE, "a,b,c", "eosight.input_size", "16,16",
                                       "eosight.norm.scale", "0.0001", NULL };
    static const char *const m2[] = { BASE, "a,b", "eosight.input_size", "16,16", NULL };
    check_case(&f, "8-bit model (scale 1/255) on UInt16 ~10000", 3, m8, u16, true, "8-bit");
    check_case(&f, "8-bit model (dtype u8) on UInt16 ~10000", 3, m8d, u16, true, "8-bit");
    check_case(&f, "8-bit model on 8-bit data", 3, m8, byte, false, NULL);
    check_case(&f, "/10000 model on Float32 0..1", 3, m16, f01, true, "10000");
    check_case(&f, "/10000 model on UInt16 DN", 3, m16, u16, false, NULL);
    check_case(&f, "2-band model, 3-band image", 2, m2, u16, true, "3 bands");
    check_case(&f, "8-bit model on UInt16 0..255 (a warning)", 3, m8d, u16s, false, "u16");
#undef BASE
    /* bands by name: a BGR file read as RGB (colour interpretation), and by description */
    static const char *const mrgb[] = { "eosight.task", "classification", "eosight.classes",
                                        "r,g,b", "eosight.bands", "Red,Green,Blue",
                                        "eosight.input_size", "16,16", NULL };
    static const char *const mdesc[] = { "eosight.task", "classification", "eosight.classes",
                                         "r,g,b", "eosight.bands", "B04,B03,B02",
                                         "eosight.input_size", "16,16", NULL };
    const char *const *bm[2] = { mrgb, mdesc };
    const char *imgs[2] = { bgr, desc };
    for (int k = 0; k < 2; k++) {
        char model[512];
        eos_analyzer *a = NULL;
        eos_raster *r = NULL;
        snprintf(model, sizeof model, "%s/named_%d.onnx", f.dir, k);
        if (!gap_model(model, 3, bm[k]) || !(a = open_an(f.ctx, model)) ||
            !(r = open_img(a, f.ctx, imgs[k]))) {
            eos_analyzer_free(a);
            continue;
        }
        int sel[3] = { 0, 0, 0 };
        EXPECT_EQ_INT(eos_raster_selected_bands(r, sel), 3);
        EXPECT_TRUE(sel[0] == 3 && sel[1] == 2 && sel[2] == 1);
        eos_check chk;
        EXPECT_OK(eos_contract_check(a, r, &chk));
        EXPECT_TRUE(!chk.refuse && chk.n_msgs == 0);
        if (chk.n_msgs) fprintf(stderr, "  %s\n", chk.msgs[0]);
        eos_image_result res;
        double want[3];
        softmax((double[]){ 2, 1, 9 }, 3, want);
        if (analyze(a, r, NULL, &res)) {
            EXPECT_EQ_INT(res.top, 2);
            for (int c = 0; c < 3; c++) EXPECT_NEAR(res.probs[c], want[c], 1e-5);
            eos_image_result_free(&res);
        }
        eos_raster_close(r);
        eos_analyzer_free(a);
    }
    fx_close(&f);
}

/* ------------------------------------------------------------------ h. malformed contracts */

static void refused_model(const fx *f, const char *what, const char *const *meta, int n_out,
                          eos_status want, const char *want_text) {
    char model[512];
    snprintf(model, sizeof model, "%s/bad.onnx", f->dir);
    onnxb *b = onnxb_new(17);   /* GAP of 3 bands, n_out outputs declared */
    onnxb_input(b, "x", EOS_DTYPE_F32, 4, (int64_t[]){ -1, 3, -1, -1 });
    onnxb_node(b, "GlobalAveragePool", "gap", ONNXB_NAMES("x"), ONNXB_NAMES("g"));
    onnxb_node(b, "Flatten", "flat", ONNXB_NAMES("g"), ONNXB_NAMES("y"));
    onnxb_output(b, "y", EOS_DTYPE_F32, 2, (int64_t[]){ -1, n_out });
    if (!save_model(b, model, meta)) {
        TEST_FAIL_("%s: fixture", what);
        return;
    }
    eos_analyzer *a = NULL;
    eos_status st = eos_analyzer_open(f->ctx, model, NULL, &a);
    const char *msg = eos_ctx_errmsg(f->ctx);
    if (st != want) TEST_FAIL_("%s: %s, want %s (%s)", what, eos_status_name(st),
                               eos_status_name(want), msg);
    else if (!strstr(msg, want_text) || !strstr(msg, "bad.onnx"))
        TEST_FAIL_("%s: message '%s' lacks '%s' or the file name", what, msg, want_text);
    if (a) TEST_FAIL_("%s: an analyzer came back", what);
    eos_analyzer_free(a);
}

static void test_contract_refused(void) {
    fx f;
    ASSERT_TRUE(fx_open(&f, "refused"));
#define IN "eosight.input_size", "8,8"
    refused_model(&f, "unknown task", (const char *const[]){ "eosight.task", "detection", IN,
                  NULL }, 3, EOS_PARSE, "eosight.task");
    refused_model(&f, "no task", (const char *const[]){ "eosight.classes", "a,b,c", IN, NULL }, 3,
                  EOS_INVALID_ARG, "eosight.task");
    refused_model(&f, "4 classes, 3 outputs", (const char *const[]){ "eosight.task",
                  "classification", "eosight.classes", "a,b,c,d", IN, NULL }, 3, EOS_INVALID_ARG,
                  "4 classes");
    refused_model(&f, "bad colour", (const char *const[]){ "eosight.task", "segmentation",
                  "eosight.classes", "a,b,c", "eosight.colors", "#ff0000,#00ff00,#00gg00", NULL },
                  3, EOS_PARSE, "eosight.colors entry 3");
    refused_model(&f, "colour count", (const char *const[]){ "eosight.task", "segmentation",
                  "eosight.classes", "a,b,c", "eosight.colors", "#ff0000,#00ff00", NULL }, 3,
                  EOS_PARSE, "eosight.colors");
    refused_model(&f, "threshold > 1", (const char *const[]){ "eosight.task", "multilabel",
                  "eosight.classes", "a,b,c", "eosight.thresholds", "0.5,1.5,0.5", IN, NULL }, 3,
                  EOS_PARSE, "value 2");
    refused_model(&f, "threshold count", (const char *const[]){ "eosight.task", "multilabel",
                  "eosight.thresholds", "0.5,0.5", IN, NULL }, 3, EOS_PARSE, "2 values for 3");
    refused_model(&f, "threshold < 0", (const char *const[]){ "eosight.task", "cloud",
                  "eosight.classes", "a,b,c", "eosight.thresholds", "-0.1", IN, NULL }, 3,
                  EOS_PARSE, "eosight.thresholds");
    refused_model(&f, "threshold not a number", (const char *const[]){ "eosight.task",
                  "multilabel", "eosight.thresholds", "0.5,x,0.5", IN, NULL }, 3, EOS_PARSE,
                  "eosight.thresholds");
    refused_model(&f, "bands vs channels", (const char *const[]){ "eosight.task",
                  "classification", "eosight.bands", "r,g", IN, NULL }, 3, EOS_INVALID_ARG,
                  "eosight.bands");
    refused_model(&f, "no input size", (const char *const[]){ "eosight.task", "classification",
                  NULL }, 3, EOS_INVALID_ARG, "eosight.input_size");
    refused_model(&f, "bad input size", (const char *const[]){ "eosight.task", "classification",
                  "eosight.input_size", "8,x", NULL }, 3, EOS_PARSE, "eosight.input_size");
    refused_model(&f, "bad gsd", (const char *const[]){ "eosight.task", "classification", IN,
                  "eosight.gsd_m", "-10", NULL }, 3, EOS_PARSE, "eosight.gsd_m");
    refused_model(&f, "bad dtype", (const char *const[]){ "eosight.task", "classification", IN,
                  "eosight.dtype", "u12", NULL }, 3, EOS_PARSE, "eosight.dtype");
    refused_model(&f, "bad norm", (const char *const[]){ "eosight.task", "classification", IN,
                  "eosight.norm.std", "1,0,1", NULL }, 3, EOS_PARSE, "eosight.norm.std");
#undef IN
    /* not refused: defaults fill in */
    char model[512];
    eos_analyzer *a = NULL;
    if (gap_model(fx_path(&f, "ok.onnx", model), 3, (const char *const[]){ "eosight.task",
                  "segmentation", NULL }) && (a = open_an(f.ctx, model))) {
        const eos_contract *c = eos_analyzer_contract(a);
        EXPECT_EQ_INT(c->task, EOS_ANALYSIS_SEGMENT);
        EXPECT_EQ_INT(c->n_classes, 3);
        EXPECT_STR_EQ(c->class_names[2], "class_2");
        EXPECT_TRUE(c->band_names == NULL && c->n_bands == 3);
        EXPECT_STR_EQ(eos_analyzer_name(a), "ok");
        char *js = NULL;
        EXPECT_OK(eos_contract_json(a, &js));
        EXPECT_TRUE(js && strstr(js, "\"name\":\"ok\",\"task\":\"segment\"") &&
                    strstr(js, "\"bands\":[null,null,null]"));
        eos_free(js);
    }
    eos_analyzer_free(a);
    fx_close(&f);
}

/* ------------------------------------------------------------------ i. metadata edits */

/* A 3x3 convolution model with metadata (key, value pairs); its bytes from eos_malloc. */
static bool conv_bytes(const char *const *meta, uint8_t **buf, size_t *size) {
    float w[2 * 2 * 3 * 3];
    test_fill_uniform(w, 36, -1.0f, 1.0f, 77);
    onnxb *b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 4, (int64_t[]){ 1, 2, 8, 8 });
    onnxb_init_f32(b, "w", 4, (int64_t[]){ 2, 2, 3, 3 }, w);
    int n = onnxb_node(b, "Conv", "conv", ONNXB_NAMES("x", "w"), ONNXB_NAMES("y"));
    onnxb_attr_ints(b, n, "pads", 4, (int64_t[]){ 1, 1, 1, 1 });
    onnxb_output(b, "y", EOS_DTYPE_F32, 4, (int64_t[]){ 1, 2, 8, 8 });
    for (int i = 0; meta[i]; i += 2) onnxb_meta(b, meta[i], meta[i + 1]);
    void *p = NULL;
    bool ok = onnxb_finish(b, &p, size) == EOS_OK;
    onnxb_free(b);
    *buf = p;
    return ok;
}

static int n_meta_key(const eos_model *m, const char *key) {
    int n = 0;
    for (int i = 0; i < eos_model_n_meta(m); i++) {
        const char *k, *v;
        if (eos_model_meta_at(m, i, &k, &v) == EOS_OK && !strcmp(k, key)) n++;
    }
    return n;
}

/* Run a model on a fixed input; the output copied into y (2 x 8 x 8). */
static bool run_conv(eos_ctx *ctx, const uint8_t *buf, size_t size, float *y, eos_model **keep) {
    eos_model *m = NULL;
    eos_session *s = NULL;
    float x[2 * 8 * 8];
    test_fill_uniform(x, 128, -2.0f, 2.0f, 5);
    eos_tensor in = { EOS_DTYPE_F32, 4, { 1, 2, 8, 8 }, x }, out;
    bool ok = eos_model_load_from_memory(ctx, buf, size, NULL, &m) == EOS_OK &&
              eos_session_create(m, NULL, &s) == EOS_OK && eos_session_run(s, &in, 1) == EOS_OK &&
              eos_session_output(s, 0, &out) == EOS_OK && eos_tensor_numel(&out) == 128;
    if (ok) memcpy(y, out.data, sizeof(float) * 128);
    eos_session_free(s);
    *keep = m;
    return ok;
}

static void test_meta_edit(void) {
    eos_ctx *ctx;
    ASSERT_OK(eos_ctx_create(NULL, &ctx));
    static const char *const m_both[] = { "eosight.task", "segmentation", "k2", "v2", NULL };
    static const char *const m_task[] = { "eosight.task", "segmentation", NULL };
    uint8_t *both = NULL, *task = NULL, *out = NULL, *back = NULL;
    size_t n_both = 0, n_task = 0, n_out = 0, n_back = 0;
    eos_err err;
    eos_err_clear(&err);
    ASSERT_TRUE(conv_bytes(m_both, &both, &n_both) && conv_bytes(m_task, &task, &n_task));
    /* unset k2, set eosight.gsd_m = 10: the model without k2, plus the new entry at the end */
    const char *keys[2] = { "k2", "eosight.gsd_m" }, *vals[2] = { NULL, "10" };
    EXPECT_OK(eos__onnx_edit_meta(both, n_both, keys, vals, 2, &out, &n_out, &err));
    static const uint8_t entry[] = { 0x72, 19, 0x0a, 13, 'e', 'o', 's', 'i', 'g', 'h', 't', '.',
                                     'g', 's', 'd', '_', 'm', 0x12, 2, '1', '0' };
    EXPECT_EQ_INT(n_out, n_task + sizeof entry);
    EXPECT_TRUE(out && n_out == n_task + sizeof entry && !memcmp(out, task, n_task) &&
                !memcmp(out + n_task, entry, sizeof entry));
    /* and back: unsetting the new key gives the bytes of the model without it */
    EXPECT_OK(eos__onnx_edit_meta(out, n_out, keys + 1, vals, 1, &back, &n_back, &err));
    EXPECT_TRUE(back && n_back == n_task && !memcmp(back, task, n_task));
    eos_free(back);
    back = NULL;
    /* setting a key that exists replaces it */
    const char *k_task = "eosight.task", *v_cls = "classification";
    EXPECT_OK(eos__onnx_edit_meta(out, n_out, &k_task, &v_cls, 1, &back, &n_back, &err));
    /* the graph and weights compute the same, bit for bit */
    float y0[128], y1[128], y2[128];
    eos_model *m0 = NULL, *m1 = NULL, *m2 = NULL;
    EXPECT_TRUE(run_conv(ctx, both, n_both, y0, &m0));
    EXPECT_TRUE(run_conv(ctx, out, n_out, y1, &m1));
    EXPECT_TRUE(back && run_conv(ctx, back, n_back, y2, &m2));
    EXPECT_TRUE(!memcmp(y0, y1, sizeof y0) && !memcmp(y0, y2, sizeof y0));
    if (m1) {
        EXPECT_STR_EQ(eos_model_meta(m1, "eosight.gsd_m"), "10");
        EXPECT_TRUE(eos_model_meta(m1, "k2") == NULL);
        EXPECT_STR_EQ(eos_model_meta(m1, "eosight.task"), "segmentation");
    }
    if (m2) {
        EXPECT_EQ_INT(n_meta_key(m2, "eosight.task"), 1);
        EXPECT_STR_EQ(eos_model_meta(m2, "eosight.task"), "classification");
        EXPECT_STR_EQ(eos_model_meta(m2, "eosight.gsd_m"), "10");
    }
    eos_model_free(m0);
    eos_model_free(m1);
    eos_model_free(m2);
    eos_free(back);
    back = NULL;
    /* not a model */
    static const uint8_t junk[] = { 0xff, 0xff, 0xff, 0xff };
    EXPECT_TRUE(eos__onnx_edit_meta(junk, sizeof junk, keys, vals, 2, &back, &n_back, &err) !=
                EOS_OK);
    EXPECT_TRUE(back == NULL && err.msg[0]);
    eos_err_clear(&err);
    EXPECT_STATUS(eos__onnx_edit_meta(junk, 0, keys, vals, 2, &back, &n_back, &err), EOS_PARSE);
    eos_err_clear(&err);
    EXPECT_TRUE(eos__onnx_edit_meta(both, n_both - 3, keys, vals, 2, &back, &n_back, &err) !=
                EOS_OK);
    EXPECT_TRUE(back == NULL);
    eos_free(both);
    eos_free(task);
    eos_free(out);
    eos_ctx_free(ctx);
}

TEST_MAIN(TEST(test_image_whole), TEST(test_prepare_whole), TEST(test_image_grid), TEST(test_tag), TEST(test_clouds),
          TEST(test_contract_check), TEST(test_contract_refused), TEST(test_meta_edit))

#else

static void test_no_gdal(void) { TEST_SKIP("built without GDAL"); }
TEST_MAIN(TEST(test_no_gdal))

#endif
