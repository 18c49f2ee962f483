/*
 * tests/io/test_norm.c - normalisation to model input (src/io/norm.c).
 *
 * eos_norm_apply is checked against values computed here in double precision from the formula in
 * raster.h, for every source type, with and without a clip and a validity mask.
 * eos_norm_from_model reads eosight.norm.* from models built in memory with
 * tests/common/onnx_builder.h, including malformed lists (EOS_PARSE) and lists of the wrong
 * length (EOS_SHAPE). eos_raster_read_norm is compared with eos_raster_read + eos_norm_apply on
 * synthetic GeoTIFFs (u16 with nodata holes, f32), including padded windows.
 */
#include <gdal.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/onnx_builder.h"
#include "common/test.h"
#include "eosight/raster.h"

static char g_dir[256];

/* x = DN * scale + offset; clip; (x - mean) / std, in double */
static double ref_norm(const eos_norm *n, int b, double dn) {
    double x = dn * n->scale[b] + n->offset[b];
    if (n->has_clip) x = x < n->clip_lo ? n->clip_lo : x > n->clip_hi ? n->clip_hi : x;
    return (x - n->mean[b]) / n->std[b];
}

static eos_norm sample_norm(bool clip) {
    eos_norm n;
    eos_norm_identity(&n, 2);
    n.scale[0] = 0.0001;  n.offset[0] = 0.0;   n.mean[0] = 0.5; n.std[0] = 0.25;
    n.scale[1] = 0.001;   n.offset[1] = -0.1;  n.mean[1] = 0.2; n.std[1] = 0.5;
    n.has_clip = clip;
    n.clip_lo = 0.0;
    n.clip_hi = 0.3;
    return n;
}

static void test_identity(void) {
    eos_norm n;
    eos_norm_identity(&n, 3);
    EXPECT_EQ_INT(n.n_bands, 3);
    EXPECT_NEAR(n.scale[2], 1, 0);
    EXPECT_NEAR(n.std[2], 1, 0);
    EXPECT_NEAR(n.mean[2], 0, 0);
    EXPECT_TRUE(!n.has_clip);
    uint8_t src[6] = { 0, 1, 2, 3, 254, 255 };
    float dst[6];
    eos_norm_identity(&n, 3);
    ASSERT_OK(eos_norm_apply(&n, EOS_DTYPE_U8, src, 2, NULL, dst));
    for (int i = 0; i < 6; i++) EXPECT_NEAR(dst[i], src[i], 0);
}

static void test_u16_hand_computed(void) {
    /* 2 bands x 4 px: band 0 DN 0, 5000, 10000, 65535; band 1 DN 100, 250, 400, 1000 */
    uint16_t src[8] = { 0, 5000, 10000, 65535, 100, 250, 400, 1000 };
    const float want[8] = {
        -2.0f, 0.0f, 2.0f, (float)((6.5535 - 0.5) / 0.25),          /* (DN*1e-4 - 0.5)/0.25 */
        -0.4f, -0.1f, 0.2f, 1.4f,                                   /* (DN*1e-3 - 0.1 - 0.2)/0.5 */
    };
    eos_norm n = sample_norm(false);
    float dst[8];
    ASSERT_OK(eos_norm_apply(&n, EOS_DTYPE_U16, src, 4, NULL, dst));
    for (int i = 0; i < 8; i++) EXPECT_NEAR(dst[i], want[i], 1e-5);
    /* clip to [0, 0.3] after scale/offset */
    n.has_clip = true;
    const float want_clip[8] = { -2.0f, -0.8f, -0.8f, -0.8f, -0.4f, -0.1f, 0.2f, 0.2f };
    ASSERT_OK(eos_norm_apply(&n, EOS_DTYPE_U16, src, 4, NULL, dst));
    for (int i = 0; i < 8; i++) EXPECT_NEAR(dst[i], want_clip[i], 1e-5);
    /* invalid pixels are 0 in every band */
    uint8_t valid[4] = { 1, 0, 1, 0 };
    ASSERT_OK(eos_norm_apply(&n, EOS_DTYPE_U16, src, 4, valid, dst));
    EXPECT_NEAR(dst[0], -2.0, 1e-6);
    EXPECT_NEAR(dst[1], 0, 0);
    EXPECT_NEAR(dst[3], 0, 0);
    EXPECT_NEAR(dst[5], 0, 0);
    EXPECT_NEAR(dst[6], 0.2, 1e-6);
    EXPECT_NEAR(dst[7], 0, 0);
}

/* Every source type: values -3..+120 where the type allows, against the double formula. */
static void test_all_types(void) {
    const eos_dtype types[] = { EOS_DTYPE_U8, EOS_DTYPE_I8, EOS_DTYPE_U16, EOS_DTYPE_I16,
                                EOS_DTYPE_I32, EOS_DTYPE_I64, EOS_DTYPE_F32, EOS_DTYPE_F64,
                                EOS_DTYPE_F16, EOS_DTYPE_BF16, EOS_DTYPE_BOOL };
    enum { N = 7 };
    const double vals[N] = { 0, 1, 2, 7, 100, 120, -3 };
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        eos_dtype t = types[k];
        bool is_unsigned = t == EOS_DTYPE_U8 || t == EOS_DTYPE_U16 || t == EOS_DTYPE_BOOL;
        int n_px = is_unsigned ? N - 1 : N;
        if (t == EOS_DTYPE_BOOL) n_px = 2;
        double dn[2 * N];
        union { uint8_t u8[2 * N]; int8_t i8[2 * N]; uint16_t u16[2 * N]; int16_t i16[2 * N];
                int32_t i32[2 * N]; int64_t i64[2 * N]; float f32[2 * N]; double f64[2 * N]; } s;
        for (int b = 0; b < 2; b++)
            for (int i = 0; i < n_px; i++) {
                double v = vals[i] + (t == EOS_DTYPE_BOOL ? 0 : b);
                int j = b * n_px + i;
                dn[j] = v;
                switch (t) {
                case EOS_DTYPE_U8: case EOS_DTYPE_BOOL: s.u8[j] = (uint8_t)v; break;
                case EOS_DTYPE_I8:   s.i8[j] = (int8_t)v; break;
                case EOS_DTYPE_U16:  s.u16[j] = (uint16_t)v; break;
                case EOS_DTYPE_I16:  s.i16[j] = (int16_t)v; break;
                case EOS_DTYPE_I32:  s.i32[j] = (int32_t)v; break;
                case EOS_DTYPE_I64:  s.i64[j] = (int64_t)v; break;
                case EOS_DTYPE_F32:  s.f32[j] = (float)v; break;
                case EOS_DTYPE_F64:  s.f64[j] = v; break;
                case EOS_DTYPE_F16:  s.u16[j] = eos_f32_to_f16((float)v); break;
                case EOS_DTYPE_BF16: s.u16[j] = eos_f32_to_bf16((float)v); break;
                default: break;
                }
            }
        for (int clip = 0; clip < 2; clip++) {
            eos_norm n = sample_norm(clip);
            n.scale[0] = 0.01;   /* keep values of a few units so f16/bf16 stay exact inputs */
            n.scale[1] = 0.02;
            float dst[2 * N];
            ASSERT_OK(eos_norm_apply(&n, t, &s, n_px, NULL, dst));
            for (int b = 0; b < 2; b++)
                for (int i = 0; i < n_px; i++) {
                    double want = ref_norm(&n, b, dn[b * n_px + i]);
                    if (fabs(dst[b * n_px + i] - want) > 1e-5 * (1 + fabs(want)))
                        TEST_FAIL_("%s clip %d band %d px %d: %g vs %g", eos_dtype_name(t), clip,
                                   b, i, dst[b * n_px + i], want);
                }
        }
    }
    eos_norm n = sample_norm(false);
    float dst[2];
    uint8_t src[2] = { 0 };
    EXPECT_STATUS(eos_norm_apply(&n, EOS_DTYPE_UNDEFINED, src, 1, NULL, dst), EOS_INVALID_ARG);
    n.std[1] = 0;
    EXPECT_STATUS(eos_norm_apply(&n, EOS_DTYPE_U8, src, 1, NULL, dst), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_norm_apply(NULL, EOS_DTYPE_U8, src, 1, NULL, dst), EOS_INVALID_ARG);
}

/* ------------------------------------------------------------------ from model metadata */

/* A Relu model x[1,3,4,4] -> y with the given metadata pairs (key, value, key, value, ..., NULL). */
static eos_model *model_with(eos_ctx *ctx, const char *const *kv) {
    onnxb *b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 4, (int64_t[]){ 1, 3, 4, 4 });
    onnxb_node(b, "Relu", "r", ONNXB_NAMES("x"), ONNXB_NAMES("y"));
    onnxb_output(b, "y", EOS_DTYPE_F32, 4, (int64_t[]){ 1, 3, 4, 4 });
    for (int i = 0; kv[i]; i += 2) onnxb_meta(b, kv[i], kv[i + 1]);
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

static void test_from_model(void) {
    eos_ctx *ctx;
    ASSERT_OK(eos_ctx_create(NULL, &ctx));
    const char *kv[] = { "eosight.norm.scale", "0.0001", "eosight.norm.mean", "0.1,0.2,0.3",
                         "eosight.norm.std", " 0.5 , 0.25,2", "eosight.norm.clip", "0,1",
                         "eosight.norm.offset", "-0.1,0,1e-2", NULL };
    eos_model *m = model_with(ctx, kv);
    ASSERT_TRUE(m != NULL);
    eos_norm n;
    ASSERT_OK(eos_norm_from_model(ctx, m, 3, &n));
    EXPECT_EQ_INT(n.n_bands, 3);
    for (int b = 0; b < 3; b++) EXPECT_NEAR(n.scale[b], 0.0001, 0);
    EXPECT_NEAR(n.mean[1], 0.2, 0);
    EXPECT_NEAR(n.std[0], 0.5, 0);
    EXPECT_NEAR(n.std[2], 2, 0);
    EXPECT_NEAR(n.offset[0], -0.1, 0);
    EXPECT_NEAR(n.offset[2], 0.01, 0);
    EXPECT_TRUE(n.has_clip);
    EXPECT_NEAR(n.clip_lo, 0, 0);
    EXPECT_NEAR(n.clip_hi, 1, 0);
    eos_model_free(m);

    const char *none[] = { "eosight.task", "segmentation", NULL };   /* no keys: identity */
    m = model_with(ctx, none);
    ASSERT_TRUE(m != NULL);
    ASSERT_OK(eos_norm_from_model(ctx, m, 4, &n));
    EXPECT_EQ_INT(n.n_bands, 4);
    EXPECT_NEAR(n.scale[3], 1, 0);
    EXPECT_NEAR(n.std[3], 1, 0);
    EXPECT_TRUE(!n.has_clip);
    EXPECT_STATUS(eos_norm_from_model(ctx, m, 0, &n), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_norm_from_model(ctx, m, EOS_RASTER_MAX_BANDS + 1, &n), EOS_INVALID_ARG);
    eos_model_free(m);
    eos_ctx_free(ctx);
}

static void test_from_model_bad(void) {
    struct { const char *key, *value; eos_status want; const char *msg; } cases[] = {
        { "eosight.norm.mean", "0.1,abc,0.3", EOS_PARSE, "entry 2" },
        { "eosight.norm.mean", "0.1,0.2", EOS_SHAPE, "2 values for 3 input bands" },
        { "eosight.norm.mean", "0.1,0.2,0.3,0.4", EOS_SHAPE, "4 values" },
        { "eosight.norm.std", "1,0,1", EOS_PARSE, "band 2 has std 0" },
        { "eosight.norm.std", "-1", EOS_PARSE, "std" },
        { "eosight.norm.scale", "", EOS_PARSE, "eosight.norm.scale" },
        { "eosight.norm.scale", "1,,2", EOS_PARSE, "entry 2" },
        { "eosight.norm.scale", "1,2,3,", EOS_PARSE, "entry 4" },
        { "eosight.norm.scale", "nan", EOS_PARSE, "not a number" },
        { "eosight.norm.scale", "1e400", EOS_PARSE, "not a number" },
        { "eosight.norm.offset", "1 2 3", EOS_PARSE, "eosight.norm.offset" },
        { "eosight.norm.offset", "0x", EOS_PARSE, "eosight.norm.offset" },
        { "eosight.norm.clip", "0", EOS_SHAPE, "clip has 1 values" },
        { "eosight.norm.clip", "1,0", EOS_PARSE, "min 1 > max 0" },
    };
    eos_ctx *ctx;
    ASSERT_OK(eos_ctx_create(NULL, &ctx));
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *kv[] = { cases[i].key, cases[i].value, NULL };
        eos_model *m = model_with(ctx, kv);
        ASSERT_TRUE(m != NULL);
        eos_norm n;
        eos_status st = eos_norm_from_model(ctx, m, 3, &n);
        if (st != cases[i].want || !strstr(eos_ctx_errmsg(ctx), cases[i].msg))
            TEST_FAIL_("%s='%s': %s '%s', want %s '%s'", cases[i].key, cases[i].value,
                       eos_status_name(st), eos_ctx_errmsg(ctx), eos_status_name(cases[i].want),
                       cases[i].msg);
        EXPECT_NEAR(n.std[0], 1, 0);   /* identity after a failure */
        eos_model_free(m);
    }
    /* a long list is refused, not overflowed */
    char big[4096] = "1";
    for (int i = 1; i < 300; i++) strcat(big, ",1");
    const char *kv[] = { "eosight.norm.mean", big, NULL };
    eos_model *m = model_with(ctx, kv);
    ASSERT_TRUE(m != NULL);
    eos_norm n;
    EXPECT_STATUS(eos_norm_from_model(ctx, m, 3, &n), EOS_SHAPE);
    eos_model_free(m);
    eos_ctx_free(ctx);
}

/* ------------------------------------------------------------------ normalised reads */

static const char *make_tif(const char *name, int w, int h, int nb, GDALDataType t, bool holes) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    GDALAllRegister();
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path, w, h, nb, t, NULL);
    if (!ds) return NULL;
    double *px = malloc((size_t)w * h * nb * sizeof(double));
    for (int b = 0; b < nb; b++) {
        if (holes) GDALSetRasterNoDataValue(GDALGetRasterBand(ds, b + 1), 0);
        for (int i = 0; i < w * h; i++)
            px[(size_t)b * w * h + i] = holes && (i + b) % 13 == 0 ? 0 : (double)(i * 37 % 9000 + 1 + b * 100);
    }
    CPLErr e = GDALDatasetRasterIO(ds, GF_Write, 0, 0, w, h, px, w, h, GDT_Float64, nb, NULL, 0, 0, 0);
    free(px);
    GDALClose(ds);
    return e == CE_None ? path : NULL;
}

static void compare_read_norm(const char *path, int nb, int64_t x0, int64_t y0, int w, int h) {
    eos_raster *r;
    ASSERT_OK(eos_raster_open(NULL, path, NULL, &r));
    eos_norm n;
    eos_norm_identity(&n, nb);
    for (int b = 0; b < nb; b++) {
        n.scale[b] = 1e-4 * (b + 1);
        n.offset[b] = 0.01 * b;
        n.mean[b] = 0.3 + 0.1 * b;
        n.std[b] = 0.2 + 0.05 * b;
    }
    size_t plane = (size_t)w * h;
    float *got = malloc(plane * nb * 4), *got2 = malloc(plane * nb * 4);
    double *raw = malloc(plane * nb * 8);
    uint8_t *v1 = malloc(plane), *v2 = malloc(plane);
    ASSERT_OK(eos_raster_read_norm(r, x0, y0, w, h, &n, got, v1, EOS_PAD_REFLECT));
    ASSERT_OK(eos_raster_read_norm(r, x0, y0, w, h, &n, got2, NULL, EOS_PAD_REFLECT));
    ASSERT_OK(eos_raster_read(r, x0, y0, w, h, EOS_DTYPE_F64, raw, v2, EOS_PAD_REFLECT));
    int64_t bad = 0, n_invalid = 0;
    for (int b = 0; b < nb; b++)
        for (size_t i = 0; i < plane; i++) {
            double wv = v2[i] ? ref_norm(&n, b, raw[b * plane + i]) : 0.0;
            bad += fabs(got[b * plane + i] - wv) > 1e-5 * (1 + fabs(wv));
            bad += got2[b * plane + i] != got[b * plane + i];
        }
    for (size_t i = 0; i < plane; i++) {
        bad += v1[i] != v2[i];
        n_invalid += !v2[i];
    }
    EXPECT_EQ_INT(bad, 0);
    if (strstr(path, "u16")) EXPECT_TRUE(n_invalid > 0);
    /* wrong band count */
    eos_norm_identity(&n, nb + 1);
    EXPECT_STATUS(eos_raster_read_norm(r, x0, y0, w, h, &n, got, v1, EOS_PAD_REFLECT), EOS_SHAPE);
    EXPECT_TRUE(strstr(eos_raster_errmsg(r), "bands") != NULL);
    free(got);
    free(got2);
    free(raw);
    free(v1);
    free(v2);
    eos_raster_close(r);
}

static void test_read_norm(void) {
    const char *p = make_tif("u16.tif", 40, 30, 3, GDT_UInt16, true);
    ASSERT_TRUE(p != NULL);
    compare_read_norm(p, 3, 5, 4, 20, 16);
    compare_read_norm(p, 3, -6, -4, 52, 40);   /* reflect padding */
    p = make_tif("f32.tif", 25, 20, 2, GDT_Float32, false);
    ASSERT_TRUE(p != NULL);
    compare_read_norm(p, 2, 0, 0, 25, 20);
    p = make_tif("u8.tif", 25, 20, 1, GDT_Byte, true);
    ASSERT_TRUE(p != NULL);
    compare_read_norm(p, 1, 3, 3, 10, 10);
}

static void setup(void) {
    test_tmpdir_create(g_dir, sizeof g_dir, "norm");
}

static void teardown(void) {
    test_tmpdir_remove(g_dir);
}

int main(int argc, char **argv) {
    static const test_case cases[] = {
        TEST(test_identity),   TEST(test_u16_hand_computed), TEST(test_all_types),
        TEST(test_from_model), TEST(test_from_model_bad),    TEST(test_read_norm),
    };
    setup();
    int rc = test_run_all(cases, (int)(sizeof cases / sizeof cases[0]), argc, argv);
    teardown();
    return rc;
}
