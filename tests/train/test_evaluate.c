/*
 * tests/train/test_evaluate.c - eos_evaluate (include/eosight/eval.h) on synthetic datasets
 * written with GDAL into a temporary directory, scored by tiny ONNX models whose predictions
 * are known by construction:
 *   gap    GlobalAveragePool + Flatten: the logits of an image are its band means, so the
 *          predicted class is the band with the largest mean (rotation-invariant)
 *   point  a 1x1 identity convolution: per-pixel logits are the pixel's band values
 * Confusion matrices, F1 and thresholds are compared with values worked out by hand (or, for
 * random segmentation images, counted directly from the arrays written to disk).
 */
#include "common/onnx_builder.h"
#include "common/test.h"
#include "eosight/eval.h"

#ifdef EOS_WITH_GDAL

#include <gdal.h>
#include <sys/stat.h>

/* ------------------------------------------------------------------ fixtures */

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static void mkdirs(const char *root, const char *rel) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    for (char *s = p + strlen(root) + 1; *s; s++) {
        if (*s != '/') continue;
        *s = '\0';
        mkdir(p, 0777);
        *s = '/';
    }
    mkdir(p, 0777);
}

/* A Float32 GeoTIFF of nb bands, h x w, from CHW values. */
static bool write_tif(const char *path, int nb, int h, int w, const float *chw) {
    GDALAllRegister();
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path, w, h, nb, GDT_Float32, NULL);
    if (!ds) return false;
    bool ok = true;
    for (int b = 0; b < nb; b++)
        ok = ok && GDALRasterIO(GDALGetRasterBand(ds, b + 1), GF_Write, 0, 0, w, h,
                                (void *)(chw + (size_t)b * h * w), w, h, GDT_Float32, 0, 0) == CE_None;
    GDALClose(ds);
    return ok;
}

/* A constant image: band b = v[b]. */
static bool write_const(const char *root, const char *rel, int size, const float v[3]) {
    char path[1024];
    float *px = malloc(sizeof(float) * 3 * size * size);
    for (int b = 0; b < 3; b++)
        for (int i = 0; i < size * size; i++) px[b * size * size + i] = v[b];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    bool ok = write_tif(path, 3, size, size, px);
    free(px);
    return ok;
}

/* A single-band index PNG. */
static bool write_mask_png(const char *path, int h, int w, const uint8_t *m) {
    GDALAllRegister();
    GDALDatasetH mem = GDALCreate(GDALGetDriverByName("MEM"), "", w, h, 1, GDT_Byte, NULL);
    if (!mem) return false;
    bool ok = GDALRasterIO(GDALGetRasterBand(mem, 1), GF_Write, 0, 0, w, h, (void *)m, w, h,
                           GDT_Byte, 0, 0) == CE_None;
    GDALDatasetH png = ok ? GDALCreateCopy(GDALGetDriverByName("PNG"), path, mem, FALSE, NULL,
                                           NULL, NULL) : NULL;
    ok = ok && png;
    if (png) GDALClose(png);
    GDALClose(mem);
    return ok;
}

/* Model metadata as alternating key, value strings (NULL-terminated). */
static eos_model *load_model(eos_ctx *ctx, onnxb *b, const char *const *meta) {
    for (int i = 0; meta && meta[i]; i += 2) onnxb_meta(b, meta[i], meta[i + 1]);
    void *buf;
    size_t size;
    eos_model *m = NULL;
    if (onnxb_finish(b, &buf, &size) == EOS_OK) {
        if (eos_model_load_from_memory(ctx, buf, size, NULL, &m) != EOS_OK)
            fprintf(stderr, "  model: %s\n", eos_ctx_errmsg(ctx));
        eos_free(buf);
    }
    onnxb_free(b);
    return m;
}

/* x [N, 3, H, W] -> GlobalAveragePool -> Flatten -> [N, 3], then the unary op `last` (e.g.
 * "Sigmoid") when not NULL. */
static eos_model *gap_model_op(eos_ctx *ctx, const char *last, const char *const *meta) {
    onnxb *b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 4, (int64_t[]){ -1, 3, -1, -1 });
    onnxb_node(b, "GlobalAveragePool", "gap", ONNXB_NAMES("x"), ONNXB_NAMES("g"));
    onnxb_node(b, "Flatten", "flat", ONNXB_NAMES("g"), ONNXB_NAMES(last ? "l" : "y"));
    if (last) onnxb_node(b, last, "last", ONNXB_NAMES("l"), ONNXB_NAMES("y"));
    onnxb_output(b, "y", EOS_DTYPE_F32, 2, (int64_t[]){ -1, 3 });
    return load_model(ctx, b, meta);
}

static eos_model *gap_model(eos_ctx *ctx, bool sigmoid, const char *const *meta) {
    return gap_model_op(ctx, sigmoid ? "Sigmoid" : NULL, meta);
}

/* x [N, 3, H, W] -> 1x1 identity Conv -> [N, 3, H, W]. */
static eos_model *point_model(eos_ctx *ctx, const char *const *meta) {
    static const float eye[9] = { 1, 0, 0, 0, 1, 0, 0, 0, 1 };
    onnxb *b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 4, (int64_t[]){ -1, 3, -1, -1 });
    onnxb_init_f32(b, "w", 4, (int64_t[]){ 3, 3, 1, 1 }, eye);
    onnxb_node(b, "Conv", "conv", ONNXB_NAMES("x", "w"), ONNXB_NAMES("y"));
    onnxb_output(b, "y", EOS_DTYPE_F32, 4, (int64_t[]){ -1, 3, -1, -1 });
    return load_model(ctx, b, meta);
}

static eos_dataset *open_ds(eos_ctx *ctx, const char *root, eos_task task,
                            const char *const *ignore, int n_ignore) {
    eos_dataset_params p = { 0 };
    p.task = task;
    p.ignore_classes = ignore;
    p.n_ignore_classes = n_ignore;
    eos_dataset *ds = NULL;
    if (eos_dataset_open(ctx, root, &p, &ds) != EOS_OK)
        fprintf(stderr, "  dataset: %s\n", eos_ctx_errmsg(ctx));
    return ds;
}

/* Classify: 7 constant 16x16 images in classes a, b, c; band means (the gap model's logits). */
static const struct { const char *rel; float v[3]; } k_cls[] = {
    { "images/a/0.tif", { 5, 1, 1 } },   /* -> a */
    { "images/a/1.tif", { 1, 5, 1 } },   /* -> b */
    { "images/a/2.tif", { 4, 2, 0 } },   /* -> a */
    { "images/b/0.tif", { 0, 3, 1 } },   /* -> b */
    { "images/b/1.tif", { 0, 1, 3 } },   /* -> c (b with mean 0,0,3 normalisation) */
    { "images/c/0.tif", { 1, 0, 9 } },   /* -> c */
    { "images/c/1.tif", { 9, 0, 1 } },   /* -> a */
};

static bool make_classify(const char *root) {
    mkdirs(root, "images/a");
    mkdirs(root, "images/b");
    mkdirs(root, "images/c");
    char p[1024];
    snprintf(p, sizeof p, "%s/classes.txt", root);
    write_text(p, "a\nb\nc\n");
    for (size_t i = 0; i < sizeof k_cls / sizeof k_cls[0]; i++)
        if (!write_const(root, k_cls[i].rel, 16, k_cls[i].v)) return false;
    return true;
}

static const char *const k_cls_meta[] = {
    "eosight.task", "classification", "eosight.classes", "a,b,c", "eosight.bands", "r,g,b",
    "eosight.input_size", "8,8", NULL
};

static void expect_cm(const eos_confusion *cm, const int want[3][3]) {
    for (int t = 0; t < 3; t++)
        for (int p = 0; p < 3; p++)
            if (eos_confusion_count(cm, t, p) != want[t][p])
                TEST_FAIL_("confusion[%d][%d] = %lld, want %d", t, p,
                           (long long)eos_confusion_count(cm, t, p), want[t][p]);
}

/* ------------------------------------------------------------------ classify */

static void test_classify(void) {
    char dir[256];
    test_tmpdir_create(dir, sizeof dir, "evalcls");
    eos_ctx *ctx;
    ASSERT_OK(eos_ctx_create(NULL, &ctx));
    eos_model *m = gap_model(ctx, false, k_cls_meta);
    eos_dataset *ds = make_classify(dir) ? open_ds(ctx, dir, EOS_TASK_CLASSIFY, NULL, 0) : NULL;
    if (m && ds) {
        eos_eval_params p = { .batch = 2 };   /* 4 batches, the last one partial */
        eos_eval_result r;
        eos_status st = eos_evaluate(ctx, m, ds, &p, &r);
        if (st != EOS_OK) TEST_FAIL_("eos_evaluate: %s", eos_ctx_errmsg(ctx));
        if (st == EOS_OK) {
            static const int want[3][3] = { { 2, 1, 0 }, { 0, 1, 1 }, { 1, 0, 1 } };
            expect_cm(r.cm, want);
            EXPECT_EQ_INT(r.items, 7);
            EXPECT_EQ_INT(r.task, EOS_TASK_CLASSIFY);
            EXPECT_NEAR(r.summary.accuracy, 4.0 / 7.0, 1e-12);
            EXPECT_NEAR(eos_eval_score(&r), 4.0 / 7.0, 1e-12);
            /* F1 a: tp 2, support 3, predicted 3; b: 1, 2, 2; c: 1, 2, 2 */
            EXPECT_NEAR(r.summary.macro_f1, (4.0 / 6 + 2.0 / 4 + 2.0 / 4) / 3, 1e-12);
            EXPECT_STR_EQ(r.class_names[2], "c");
            char *js = NULL;
            EXPECT_OK(eos_eval_json(&r, &js));
            EXPECT_TRUE(js && strstr(js, "\"task\":\"classify\"") && strstr(js, "\"items\":7") &&
                        strstr(js, "\"accuracy\"") && js[0] == '{' && js[strlen(js) - 1] == '}');
            eos_free(js);
        }
        eos_eval_result_free(&r);
        p.max_items = 3;   /* a/0, a/1, a/2 */
        if (eos_evaluate(ctx, m, ds, &p, &r) == EOS_OK) {
            static const int want[3][3] = { { 2, 1, 0 }, { 0, 0, 0 }, { 0, 0, 0 } };
            expect_cm(r.cm, want);
            EXPECT_EQ_INT(r.items, 3);
        } else {
            TEST_FAIL_("max_items: %s", eos_ctx_errmsg(ctx));
        }
        eos_eval_result_free(&r);
    }
    ASSERT_TRUE(m && ds);
    eos_model_free(m);
    /* the model's normalisation is applied: mean 0,0,3 turns b/1 (0,1,3) into (0,1,0) -> b
     * and leaves c/0 (1,0,9 -> 1,0,6) a c */
    const char *const meta2[] = { "eosight.task", "classification", "eosight.classes", "a,b,c",
                                  "eosight.norm.mean", "0,0,3", NULL };
    m = gap_model(ctx, false, meta2);
    eos_eval_result r;
    if (m && eos_evaluate(ctx, m, ds, NULL, &r) == EOS_OK) {
        static const int want[3][3] = { { 2, 1, 0 }, { 0, 2, 0 }, { 1, 0, 1 } };
        expect_cm(r.cm, want);
        eos_eval_result_free(&r);
    } else {
        TEST_FAIL_("normalised model: %s", eos_ctx_errmsg(ctx));
    }
    eos_model_free(m);
    eos_dataset_free(ds);
    eos_ctx_free(ctx);
    test_tmpdir_remove(dir);
}

/* TTA on a rotation-invariant model changes nothing. */
static void test_classify_tta(void) {
    char dir[256];
    test_tmpdir_create(dir, sizeof dir, "evaltta");
    eos_ctx *ctx;
    ASSERT_OK(eos_ctx_create(NULL, &ctx));
    eos_model *m = gap_model(ctx, false, k_cls_meta);
    eos_dataset *ds = make_classify(dir) ? open_ds(ctx, dir, EOS_TASK_CLASSIFY, NULL, 0) : NULL;
    for (int k = 0; m && ds && k < 2; k++) {
        eos_eval_params p = { .batch = 3, .tta = true, .tta8 = k == 1 };
        eos_eval_result r;
        if (eos_evaluate(ctx, m, ds, &p, &r) == EOS_OK) {
            static const int want[3][3] = { { 2, 1, 0 }, { 0, 1, 1 }, { 1, 0, 1 } };
            expect_cm(r.cm, want);
        } else {
            TEST_FAIL_("tta: %s", eos_ctx_errmsg(ctx));
        }
        eos_eval_result_free(&r);
    }
    EXPECT_TRUE(m && ds);
    eos_model_free(m);
    eos_dataset_free(ds);
    eos_ctx_free(ctx);
    test_tmpdir_remove(dir);
}

/* Model and data that disagree are refused, naming the difference. */
static void expect_refused(eos_ctx *ctx, const eos_dataset *ds, const char *const *meta,
                           eos_status want, const char *needle) {
    eos_model *m = gap_model(ctx, false, meta);
    if (!m) {
        TEST_FAIL_("model not built");
        return;
    }
    eos_eval_result r;
    eos_status st = eos_evaluate(ctx, m, ds, NULL, &r);
    if (st != want || !strstr(eos_ctx_errmsg(ctx), needle))
        TEST_FAIL_("%s: got %s '%s', want %s naming '%s'", meta[3], eos_status_name(st),
                   eos_ctx_errmsg(ctx), eos_status_name(want), needle);
    EXPECT_TRUE(r.cm == NULL && r.class_names == NULL);
    eos_eval_result_free(&r);
    eos_model_free(m);
}

static void test_refusals(void) {
    char dir[256];
    test_tmpdir_create(dir, sizeof dir, "evalref");
    eos_ctx *ctx;
    ASSERT_OK(eos_ctx_create(NULL, &ctx));
    eos_dataset *ds = make_classify(dir) ? open_ds(ctx, dir, EOS_TASK_CLASSIFY, NULL, 0) : NULL;
    if (ds) {
        expect_refused(ctx, ds, (const char *const[]){ "eosight.task", "classification",
                       "eosight.classes", "a,b,x", NULL }, EOS_INVALID_ARG, "'x'");
        expect_refused(ctx, ds, (const char *const[]){ "eosight.task", "classification",
                       "eosight.classes", "a,c,b", NULL }, EOS_INVALID_ARG, "'c'");
        expect_refused(ctx, ds, (const char *const[]){ "eosight.task", "classification",
                       "eosight.classes", "a,b", NULL }, EOS_INVALID_ARG, "2 classes");
        expect_refused(ctx, ds, (const char *const[]){ "eosight.task", "segmentation",
                       "eosight.classes", "a,b,c", NULL }, EOS_INVALID_ARG, "segment");
        expect_refused(ctx, ds, (const char *const[]){ "eosight.task", "classification",
                       "eosight.bands", "r,g", NULL }, EOS_INVALID_ARG, "bands");
        expect_refused(ctx, ds, (const char *const[]){ "eosight.task", "classification",
                       "eosight.input_size", "8,x", NULL }, EOS_PARSE, "input_size");
        expect_refused(ctx, ds, (const char *const[]){ "eosight.task", "classification",
                       "eosight.output", "scores", NULL }, EOS_PARSE, "eosight.output");
        expect_refused(ctx, ds, (const char *const[]){ "eosight.task", "weather",
                       "eosight.classes", "a,b,c", NULL }, EOS_PARSE, "weather");
        expect_refused(ctx, ds, (const char *const[]){ "eosight.task", "classification",
                       "eosight.norm.std", "1,0,1", NULL }, EOS_PARSE, "std");
    }
    EXPECT_TRUE(ds != NULL);
    /* "cloud" is a classifier */
    eos_model *m = gap_model(ctx, false, (const char *const[]){ "eosight.task", "cloud", NULL });
    eos_task t = EOS_TASK_TAG;
    EXPECT_OK(eos_eval_model_task(ctx, m, &t));
    EXPECT_EQ_INT(t, EOS_TASK_CLASSIFY);
    eos_model_free(m);
    m = gap_model(ctx, false, NULL);
    EXPECT_STATUS(eos_eval_model_task(ctx, m, &t), EOS_NOT_FOUND);
    eos_eval_result r;
    eos_eval_params bad = { .overlap = 3 };
    EXPECT_STATUS(eos_evaluate(ctx, m, ds, &bad, &r), EOS_INVALID_ARG);
    eos_model_free(m);
    eos_dataset_free(ds);
    eos_ctx_free(ctx);
    test_tmpdir_remove(dir);
}

/* ------------------------------------------------------------------ tag */

/* Band means are the logits; thresholds 0.5, 0.5, 0.7. At them (sigmoid(0.5) = 0.62 < 0.7):
 *   t0 (2, -2, 0.5)   truth 1 0 1   predicted 1 0 0   tp 1, fn 1
 *   t1 (-1, 3, -3)    truth 0 1 1   predicted 0 1 0   tp 1, fn 1
 *   t2 (0.2, -0.5, 2) truth 1 0 0   predicted 1 0 1   tp 1, fp 1
 *   t3 (-2, -2, -2)   truth 0 0 0   predicted 0 0 0
 * micro: tp 3, fp 1, fn 2 -> F1 = 6 / 9. Label z tuned for F1: the lowest score, sigmoid(-3),
 * predicts all four rows (tp 2, fp 2: F1 2/3); every higher threshold scores less. */
static bool make_tag(const char *root) {
    static const struct { const char *rel; float v[3]; } k[] = {
        { "images/t0.tif", { 2, -2, 0.5f } }, { "images/t1.tif", { -1, 3, -3 } },
        { "images/t2.tif", { 0.2f, -0.5f, 2 } }, { "images/t3.tif", { -2, -2, -2 } },
    };
    mkdirs(root, "images");
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        if (!write_const(root, k[i].rel, 8, k[i].v)) return false;
    char p[1024];
    snprintf(p, sizeof p, "%s/multilabels.tsv", root);
    write_text(p, "IMAGE\\LABEL\tx\ty\tz\nt0\t1\t0\t1\nt1\t0\t1\t1\nt2\t1\t0\t0\nt3\t0\t0\t0\n");
    return true;
}

static void test_tag(void) {
    char dir[256];
    test_tmpdir_create(dir, sizeof dir, "evaltag");
    eos_ctx *ctx;
    ASSERT_OK(eos_ctx_create(NULL, &ctx));
    eos_dataset *ds = make_tag(dir) ? open_ds(ctx, dir, EOS_TASK_TAG, NULL, 0) : NULL;
    for (int k = 0; ds && k < 3; k++) {
        /* k = 1: the graph ends in Sigmoid and says so; k = 2: with TTA */
        const char *const meta[] = { "eosight.task", "multilabel", "eosight.classes", "x,y,z",
                                     "eosight.thresholds", "0.5,0.5,0.7", "eosight.output",
                                     k == 1 ? "probabilities" : "logits", NULL };
        eos_model *m = gap_model(ctx, k == 1, meta);
        eos_eval_params p = { .tta = k == 2 };
        eos_eval_result r;
        if (m && eos_evaluate(ctx, m, ds, &p, &r) == EOS_OK) {
            EXPECT_EQ_INT(r.items, 4);
            EXPECT_NEAR(r.at_model.micro_f1, 6.0 / 9.0, 1e-9);
            EXPECT_NEAR(eos_eval_score(&r), 6.0 / 9.0, 1e-9);
            EXPECT_NEAR(r.thresholds[2], 0.7, 1e-7);
            EXPECT_NEAR(r.tuned[2], 1.0 / (1.0 + exp(3.0)), 1e-6);
            EXPECT_TRUE(r.at_tuned.micro_f1 >= r.at_model.micro_f1);
            char *js = NULL;
            EXPECT_OK(eos_eval_json(&r, &js));
            EXPECT_TRUE(js && strstr(js, "\"task\":\"tag\"") && strstr(js, "\"tuned\":{") &&
                        strstr(js, "\"micro_f1\""));
            eos_free(js);
            eos_eval_result_free(&r);
        } else {
            TEST_FAIL_("tag %d: %s", k, eos_ctx_errmsg(ctx));
        }
        eos_model_free(m);
    }
    EXPECT_TRUE(ds != NULL);
    const char *const bad[] = { "eosight.task", "multilabel", "eosight.thresholds", "0.5,2,0.5",
                                NULL };
    eos_model *m = gap_model(ctx, false, bad);
    eos_eval_result r;
    if (ds) EXPECT_STATUS(eos_evaluate(ctx, m, ds, NULL, &r), EOS_PARSE);
    eos_model_free(m);
    eos_dataset_free(ds);
    eos_ctx_free(ctx);
    test_tmpdir_remove(dir);
}

/* ------------------------------------------------------------------ segment */

typedef struct seg_img { const char *name; int h, w; float *px; uint8_t *mask; } seg_img;

/* Random band values; the mask agrees with the per-pixel argmax on about 2/3 of the pixels,
 * is a random class elsewhere, and 255 (ignored) on a few. */
static void seg_fill(seg_img *s, uint64_t seed) {
    size_t n = (size_t)s->h * s->w;
    s->px = malloc(sizeof(float) * 3 * n);
    s->mask = malloc(n);
    float *r = malloc(sizeof(float) * n);
    test_fill_uniform(s->px, 3 * (int64_t)n, -1.0f, 1.0f, seed);
    test_fill_uniform(r, (int64_t)n, 0.0f, 1.0f, seed + 1);
    for (size_t i = 0; i < n; i++) {
        int best = 0;
        for (int c = 1; c < 3; c++)
            if (s->px[c * n + i] > s->px[best * n + i]) best = c;
        s->mask[i] = r[i] < 0.05f ? 255 : r[i] < 0.7f ? (uint8_t)best : (uint8_t)((int)(r[i] * 30) % 3);
    }
    free(r);
}

/* The expected confusion of the point model on images normalised by subtracting mean[band],
 * counted directly. */
static void seg_expect(const seg_img *s, int n_img, const float mean[3], int64_t cm[3][3]) {
    memset(cm, 0, sizeof(int64_t) * 9);
    for (int k = 0; k < n_img; k++) {
        size_t n = (size_t)s[k].h * s[k].w;
        for (size_t i = 0; i < n; i++) {
            int best = 0;
            for (int c = 1; c < 3; c++)
                if (s[k].px[c * n + i] - mean[c] > s[k].px[best * n + i] - mean[best]) best = c;
            if (s[k].mask[i] != 255) cm[s[k].mask[i]][best]++;
        }
    }
}

static bool make_segment(const char *root, seg_img *s, int n_img) {
    mkdirs(root, "images");
    mkdirs(root, "masks");
    char p[1024];
    snprintf(p, sizeof p, "%s/classes.txt", root);
    write_text(p, "r\ng\nb\n");
    for (int k = 0; k < n_img; k++) {
        seg_fill(&s[k], 1234 + 17 * (uint64_t)k);
        snprintf(p, sizeof p, "%s/images/%s.tif", root, s[k].name);
        if (!write_tif(p, 3, s[k].h, s[k].w, s[k].px)) return false;
        snprintf(p, sizeof p, "%s/masks/%s.png", root, s[k].name);
        if (!write_mask_png(p, s[k].h, s[k].w, s[k].mask)) return false;
    }
    return true;
}

static void expect_seg(eos_ctx *ctx, const eos_model *m, const eos_dataset *ds,
                       const eos_eval_params *p, int64_t want[3][3], const char *what) {
    eos_eval_result r;
    if (eos_evaluate(ctx, m, ds, p, &r) != EOS_OK) {
        TEST_FAIL_("%s: %s", what, eos_ctx_errmsg(ctx));
        return;
    }
    int64_t tp = 0, total = 0;
    for (int t = 0; t < 3; t++) {
        for (int q = 0; q < 3; q++) {
            if (eos_confusion_count(r.cm, t, q) != want[t][q])
                TEST_FAIL_("%s: confusion[%d][%d] = %lld, want %lld", what, t, q,
                           (long long)eos_confusion_count(r.cm, t, q), (long long)want[t][q]);
            total += want[t][q];
        }
        tp += want[t][t];
    }
    EXPECT_EQ_INT(r.items, 2);
    EXPECT_NEAR(r.summary.accuracy, (double)tp / (double)total, 1e-12);
    double miou = 0;
    for (int c = 0; c < 3; c++) {
        int64_t row = 0, col = 0;
        for (int q = 0; q < 3; q++) row += want[c][q], col += want[q][c];
        miou += (double)want[c][c] / (double)(row + col - want[c][c]) / 3;
    }
    EXPECT_NEAR(r.summary.miou, miou, 1e-12);
    EXPECT_NEAR(eos_eval_score(&r), miou, 1e-12);
    eos_eval_result_free(&r);
}

static void test_segment(void) {
    char dir[256];
    test_tmpdir_create(dir, sizeof dir, "evalseg");
    eos_ctx *ctx;
    ASSERT_OK(eos_ctx_create(NULL, &ctx));
    seg_img s[2] = { { "big", 50, 70, NULL, NULL }, { "small", 20, 30, NULL, NULL } };
    bool made = make_segment(dir, s, 2);
    eos_dataset *ds = made ? open_ds(ctx, dir, EOS_TASK_SEGMENT, NULL, 0) : NULL;
    const char *const meta[] = { "eosight.task", "segmentation", "eosight.classes", "r,g,b", NULL };
    eos_model *m = point_model(ctx, meta);
    if (ds && m) {
        int64_t want[3][3];
        seg_expect(s, 2, (const float[3]){ 0, 0, 0 }, want);
        /* one tile per image (96 and 32 px) */
        expect_seg(ctx, m, ds, NULL, want, "whole images");
        /* 32 px tiles with 16 px overlap: 70 x 50 needs 5 x 4 tiles */
        eos_eval_params p = { .tile = 32, .overlap = 16 };
        expect_seg(ctx, m, ds, &p, want, "tiled");
        p.overlap = 0;   /* default 64, clamped to half the tile */
        expect_seg(ctx, m, ds, &p, want, "tiled, default overlap");
        p.tta = p.tta8 = true;   /* a pointwise model commutes with rotations and flips */
        expect_seg(ctx, m, ds, &p, want, "tiled with tta8");
        p.tile = 0;
        p.tta8 = false;
        expect_seg(ctx, m, ds, &p, want, "whole with tta");
        /* the model's normalisation is applied to the tiles */
        const char *const meta2[] = { "eosight.task", "segmentation", "eosight.norm.mean",
                                      "0,0.25,-0.125", NULL };
        eos_model *m2 = point_model(ctx, meta2);
        seg_expect(s, 2, (const float[3]){ 0, 0.25f, -0.125f }, want);
        p.tile = 32;
        if (m2) expect_seg(ctx, m2, ds, &p, want, "normalised, tiled with tta");
        EXPECT_TRUE(m2 != NULL);
        eos_model_free(m2);
    }
    EXPECT_TRUE(made && ds && m);
    eos_dataset_free(ds);
    eos_model_free(m);
    for (int k = 0; k < 2; k++) {
        free(s[k].px);
        free(s[k].mask);
    }
    eos_ctx_free(ctx);
    test_tmpdir_remove(dir);
}

/* --ignore-class: the class's pixels are skipped and it is left out of the means. */
static void test_segment_ignore(void) {
    char dir[256];
    test_tmpdir_create(dir, sizeof dir, "evalign");
    eos_ctx *ctx;
    ASSERT_OK(eos_ctx_create(NULL, &ctx));
    seg_img s[2] = { { "big", 50, 70, NULL, NULL }, { "small", 20, 30, NULL, NULL } };
    const char *const ignore[] = { "g" };
    eos_dataset *ds = make_segment(dir, s, 2) ? open_ds(ctx, dir, EOS_TASK_SEGMENT, ignore, 1) : NULL;
    eos_model *m = point_model(ctx, (const char *const[]){ "eosight.task", "segmentation", NULL });
    if (ds && m) {
        int64_t want[3][3];
        seg_expect(s, 2, (const float[3]){ 0, 0, 0 }, want);
        for (int q = 0; q < 3; q++) want[1][q] = 0;
        bool excluded[3] = { false, true, false };
        eos_eval_params p = { .excluded = excluded, .tile = 32 };
        eos_eval_result r;
        if (eos_evaluate(ctx, m, ds, &p, &r) == EOS_OK) {
            for (int t = 0; t < 3; t++)
                for (int q = 0; q < 3; q++)
                    EXPECT_EQ_INT(eos_confusion_count(r.cm, t, q), want[t][q]);
            /* IoU of r and b: predictions of g on their pixels are errors of theirs */
            double miou = 0;
            for (int c = 0; c < 3; c += 2) {
                int64_t row = want[c][0] + want[c][1] + want[c][2];
                int64_t col = want[0][c] + want[2][c];
                miou += (double)want[c][c] / (double)(row + col - want[c][c]) / 2;
            }
            EXPECT_NEAR(r.summary.miou, miou, 1e-12);
            EXPECT_TRUE(r.excluded && r.excluded[1] && !r.excluded[0]);
            eos_eval_result_free(&r);
        } else {
            TEST_FAIL_("ignore: %s", eos_ctx_errmsg(ctx));
        }
    }
    EXPECT_TRUE(ds && m);
    eos_dataset_free(ds);
    eos_model_free(m);
    for (int k = 0; k < 2; k++) {
        free(s[k].px);
        free(s[k].mask);
    }
    eos_ctx_free(ctx);
    test_tmpdir_remove(dir);
}

/* ------------------------------------------------------------------ failures */

/* Outputs that do not fit the data, and NaN outputs, are errors naming the problem. */
static void test_bad_outputs(void) {
    char dir[256];
    test_tmpdir_create(dir, sizeof dir, "evalout");
    eos_ctx *ctx;
    ASSERT_OK(eos_ctx_create(NULL, &ctx));
    eos_dataset *ds = make_tag(dir) ? open_ds(ctx, dir, EOS_TASK_TAG, NULL, 0) : NULL;
    /* the band means are negative for some images: Sqrt gives NaN */
    eos_model *m = gap_model_op(ctx, "Sqrt", (const char *const[]){ "eosight.task", "multilabel",
                                NULL });
    eos_eval_result r;
    if (ds && m) {
        EXPECT_STATUS(eos_evaluate(ctx, m, ds, NULL, &r), EOS_NUMERIC);
        EXPECT_TRUE(strstr(eos_ctx_errmsg(ctx), "NaN") != NULL);
    }
    eos_model_free(m);
    /* a segmentation dataset with 2 classes, a model with 3 outputs and no class list */
    mkdirs(dir, "seg/images");
    mkdirs(dir, "seg/masks");
    char p[1024];
    snprintf(p, sizeof p, "%s/seg/classes.txt", dir);
    write_text(p, "land\nsea\n");
    float px[3 * 4 * 4] = { 0 };
    uint8_t mask[16] = { 0 };
    snprintf(p, sizeof p, "%s/seg/images/a.tif", dir);
    bool ok = write_tif(p, 3, 4, 4, px);
    snprintf(p, sizeof p, "%s/seg/masks/a.png", dir);
    ok = ok && write_mask_png(p, 4, 4, mask);
    snprintf(p, sizeof p, "%s/seg", dir);
    eos_dataset *sds = ok ? open_ds(ctx, p, EOS_TASK_SEGMENT, NULL, 0) : NULL;
    m = point_model(ctx, NULL);
    if (sds && m) {
        EXPECT_STATUS(eos_evaluate(ctx, m, sds, NULL, &r), EOS_SHAPE);
        EXPECT_TRUE(strstr(eos_ctx_errmsg(ctx), "2 classes") && strstr(eos_ctx_errmsg(ctx), "a.tif"));
    }
    EXPECT_TRUE(ds && sds && m);
    eos_model_free(m);
    eos_dataset_free(sds);
    eos_dataset_free(ds);
    eos_ctx_free(ctx);
    test_tmpdir_remove(dir);
}

/* Every allocation failure is an error status with nothing leaked (SQLite-style OOM loop). */
static void oom_loop(eos_ctx *ctx, const eos_model *m, const eos_dataset *ds,
                     const eos_eval_params *p, const char *what) {
    for (int64_t k = 0; k < 5000; k++) {
        eos_alloc_stats before, after;
        eos_alloc_get_stats(&before);
        eos_eval_result r;
        eos_alloc_fail_after(k);
        eos_status st = eos_evaluate(ctx, m, ds, p, &r);
        eos_alloc_fail_after(-1);
        if (st == EOS_OK) {
            EXPECT_TRUE(r.items > 0);
            eos_eval_result_free(&r);
            return;
        }
        EXPECT_TRUE(r.cm == NULL && r.ml == NULL && r.class_names == NULL);
        eos_alloc_get_stats(&after);
        if (after.live_count != before.live_count) {
            TEST_FAIL_("%s: %lld allocations leaked when allocation %lld failed (%s)", what,
                       (long long)(after.live_count - before.live_count), (long long)k,
                       eos_status_name(st));
            return;
        }
    }
    TEST_FAIL_("%s: still failing after 5000 allocations", what);
}

static void test_oom(void) {
    char dir[256], seg[300];
    test_tmpdir_create(dir, sizeof dir, "evaloom");
    eos_ctx_params cp = eos_ctx_default_params();
    cp.backend = EOS_BACKEND_REF;   /* quick to plan: the loop plans a session per step */
    eos_ctx *ctx;
    ASSERT_OK(eos_ctx_create(&cp, &ctx));
    eos_dataset *ds = make_classify(dir) ? open_ds(ctx, dir, EOS_TASK_CLASSIFY, NULL, 0) : NULL;
    eos_model *m = gap_model(ctx, false, k_cls_meta);
    eos_eval_params p = { .batch = 2, .tta = true, .max_items = 3 };
    if (ds && m) oom_loop(ctx, m, ds, &p, "classify");
    eos_model_free(m);
    eos_dataset_free(ds);
    seg_img s[1] = { { "one", 40, 36, NULL, NULL } };
    snprintf(seg, sizeof seg, "%s/seg", dir);
    mkdir(seg, 0777);
    ds = make_segment(seg, s, 1) ? open_ds(ctx, seg, EOS_TASK_SEGMENT, NULL, 0) : NULL;
    m = point_model(ctx, NULL);
    eos_eval_params q = { .tile = 32, .overlap = 8, .tta = true };
    if (ds && m) oom_loop(ctx, m, ds, &q, "segment");
    EXPECT_TRUE(ds && m);
    eos_model_free(m);
    eos_dataset_free(ds);
    free(s[0].px);
    free(s[0].mask);
    eos_ctx_free(ctx);
    test_tmpdir_remove(dir);
}

TEST_MAIN(TEST(test_classify), TEST(test_classify_tta), TEST(test_refusals), TEST(test_tag),
          TEST(test_segment), TEST(test_segment_ignore), TEST(test_bad_outputs), TEST(test_oom))

#else /* !EOS_WITH_GDAL */

int main(void) {
    puts("SKIP: eos_evaluate needs GDAL (EOS_WITH_GDAL)");
    return 77;
}

#endif
