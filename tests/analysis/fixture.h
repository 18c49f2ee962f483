/*
 * tests/analysis/fixture.h - what the tests of src/analysis share (header-only, static
 * inline): synthetic GeoTIFF scenes written with GDAL (UTM 33N, 10 m pixels, a known origin),
 * tiny ONNX models written with tests/common/onnx_builder.h into a temporary folder, and
 * wrappers that report failures of the analysis calls with their messages:
 *   point   a 1x1 identity convolution: a pixel's logits are its band values, so its class is
 *           its brightest band (segmentation)
 *   gap     GlobalAveragePool + Flatten: an image's logits are its band means (classify, tag)
 *   cloud   1x1 convolution + GAP: cloudy logit = mean of band 3 - 5, clear logit = 0
 */
#ifndef EOS_TESTS_ANALYSIS_FIXTURE_H
#define EOS_TESTS_ANALYSIS_FIXTURE_H

#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include "common/onnx_builder.h"
#include "common/test.h"
#include "eosight/analysis.h"

/* ------------------------------------------------------------------ fixtures */

/* Every scene: EPSG:32633, 10 m pixels, upper-left corner at (431230, 5001240). */
static const double k_gt[6] = { 431230.0, 10.0, 0.0, 5001240.0, 0.0, -10.0 };
#define K_EPSG 32633
#define K_PX_M2 100.0

typedef struct fx {
    char     dir[256];
    eos_ctx *ctx;
} fx;

static inline bool fx_open(fx *f, const char *tag) {
    GDALAllRegister();
    test_tmpdir_create(f->dir, sizeof f->dir, tag);
    return eos_ctx_create(NULL, &f->ctx) == EOS_OK;
}

static inline void fx_close(fx *f) {
    eos_ctx_free(f->ctx);
    test_tmpdir_remove(f->dir);
}

/* dir/name into buf (512 bytes). */
static inline char *fx_path(const fx *f, const char *name, char *buf) {
    snprintf(buf, 512, "%s/%s", f->dir, name);
    return buf;
}

typedef struct scene_opts {
    GDALDataType type;              /* storage type (GDT_Float32 when 0) */
    const double *nodata;           /* per band; NULL: none; NaN entries: none for that band */
    const GDALColorInterp *ci;      /* per band colour interpretation; NULL: GDAL's default */
    const char *const *desc;        /* per band description; NULL: none */
    int epsg;                       /* CRS; 0: K_EPSG */
    const double *gt;               /* geotransform; NULL: k_gt */
} scene_opts;

/* A GeoTIFF of nb bands, w x h, from CHW float values (converted to the storage type). */
static inline bool write_scene(const char *path, int nb, int w, int h, const float *chw,
                               const scene_opts *o) {
    scene_opts d = { 0 };
    if (!o) o = &d;
    GDALDataType t = o->type ? o->type : GDT_Float32;
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path, w, h, nb, t, NULL);
    if (!ds) return false;
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
    bool ok = OSRImportFromEPSG(srs, o->epsg ? o->epsg : K_EPSG) == OGRERR_NONE &&
              GDALSetSpatialRef(ds, srs) == CE_None &&
              GDALSetGeoTransform(ds, (double *)(o->gt ? o->gt : k_gt)) == CE_None;
    OSRDestroySpatialReference(srs);
    for (int b = 0; ok && b < nb; b++) {
        GDALRasterBandH band = GDALGetRasterBand(ds, b + 1);
        if (o->nodata && !isnan(o->nodata[b])) GDALSetRasterNoDataValue(band, o->nodata[b]);
        if (o->ci) GDALSetRasterColorInterpretation(band, o->ci[b]);
        if (o->desc) GDALSetDescription(band, o->desc[b]);
        ok = GDALRasterIO(band, GF_Write, 0, 0, w, h, (void *)(chw + (size_t)b * w * h), w, h,
                          GDT_Float32, 0, 0) == CE_None;
    }
    GDALClose(ds);
    return ok;
}

/* Band `band` of a raster as bytes (w x h must be its size; checked). */
static inline bool read_u8(const char *path, int band, int w, int h, uint8_t *buf) {
    GDALDatasetH ds = GDALOpen(path, GA_ReadOnly);
    if (!ds) return false;
    bool ok = GDALGetRasterXSize(ds) == w && GDALGetRasterYSize(ds) == h &&
              band <= GDALGetRasterCount(ds) &&
              GDALRasterIO(GDALGetRasterBand(ds, band), GF_Read, 0, 0, w, h, buf, w, h, GDT_Byte,
                           0, 0) == CE_None;
    GDALClose(ds);
    return ok;
}

/* The raster's geotransform equals want (exactly) and its CRS is EPSG:32633. */
static inline void expect_georef(const char *path, const double want[6]) {
    GDALDatasetH ds = GDALOpen(path, GA_ReadOnly);
    if (!ds) {
        TEST_FAIL_("cannot open %s", path);
        return;
    }
    double gt[6];
    if (GDALGetGeoTransform(ds, gt) != CE_None) TEST_FAIL_("%s: no geotransform", path);
    for (int i = 0; i < 6; i++)
        if (gt[i] != want[i])
            TEST_FAIL_("%s: geotransform[%d] = %.17g, want %.17g", path, i, gt[i], want[i]);
    OGRSpatialReferenceH want_srs = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(want_srs, K_EPSG);
    OGRSpatialReferenceH srs = GDALGetSpatialRef(ds);
    if (!srs || !OSRIsSame(srs, want_srs)) TEST_FAIL_("%s: CRS is not EPSG:%d", path, K_EPSG);
    OSRDestroySpatialReference(want_srs);
    GDALClose(ds);
}

/* ------------------------------------------------------------------ models */

static inline bool save_model(onnxb *b, const char *path, const char *const *meta) {
    for (int i = 0; meta && meta[i]; i += 2) onnxb_meta(b, meta[i], meta[i + 1]);
    eos_status st = onnxb_save(b, path);
    onnxb_free(b);
    return st == EOS_OK;
}

/* x [N, nb, H, W] -> 1x1 identity Conv -> [N, nb, H, W]. */
static inline onnxb *point_builder(int nb) {
    float w[16 * 16] = { 0 };
    for (int i = 0; i < nb; i++) w[i * nb + i] = 1;
    onnxb *b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 4, (int64_t[]){ -1, nb, -1, -1 });
    onnxb_init_f32(b, "w", 4, (int64_t[]){ nb, nb, 1, 1 }, w);
    onnxb_node(b, "Conv", "conv", ONNXB_NAMES("x", "w"), ONNXB_NAMES("y"));
    onnxb_output(b, "y", EOS_DTYPE_F32, 4, (int64_t[]){ -1, nb, -1, -1 });
    return b;
}

static inline bool point_model(const char *path, int nb, const char *const *meta) {
    return save_model(point_builder(nb), path, meta);
}

/* x [N, nb, H, W] -> GlobalAveragePool -> Flatten -> [N, nb]: logits are the band means. */
static inline bool gap_model(const char *path, int nb, const char *const *meta) {
    onnxb *b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 4, (int64_t[]){ -1, nb, -1, -1 });
    onnxb_node(b, "GlobalAveragePool", "gap", ONNXB_NAMES("x"), ONNXB_NAMES("g"));
    onnxb_node(b, "Flatten", "flat", ONNXB_NAMES("g"), ONNXB_NAMES("y"));
    onnxb_output(b, "y", EOS_DTYPE_F32, 2, (int64_t[]){ -1, nb });
    return save_model(b, path, meta);
}

/* A cloud model on 3 bands: logits (clear, cloudy) = (0, mean(band 3) - 5). */
static inline bool cloud_model(const char *path, const char *const *meta) {
    static const float w[6] = { 0, 0, 0, 0, 0, 1 }, bias[2] = { 0, -5 };
    onnxb *b = onnxb_new(17);
    onnxb_input(b, "x", EOS_DTYPE_F32, 4, (int64_t[]){ -1, 3, -1, -1 });
    onnxb_init_f32(b, "w", 4, (int64_t[]){ 2, 3, 1, 1 }, w);
    onnxb_init_f32(b, "bias", 1, (int64_t[]){ 2 }, bias);
    onnxb_node(b, "Conv", "conv", ONNXB_NAMES("x", "w", "bias"), ONNXB_NAMES("c"));
    onnxb_node(b, "GlobalAveragePool", "gap", ONNXB_NAMES("c"), ONNXB_NAMES("g"));
    onnxb_node(b, "Flatten", "flat", ONNXB_NAMES("g"), ONNXB_NAMES("y"));
    onnxb_output(b, "y", EOS_DTYPE_F32, 2, (int64_t[]){ -1, 2 });
    return save_model(b, path, meta);
}

static inline eos_analyzer *open_an(eos_ctx *ctx, const char *path) {
    eos_analyzer_params p = { 2 };
    eos_analyzer *a = NULL;
    if (eos_analyzer_open(ctx, path, &p, &a) != EOS_OK)
        TEST_FAIL_("eos_analyzer_open %s: %s", path, eos_ctx_errmsg(ctx));
    return a;
}

static inline eos_raster *open_img(eos_analyzer *a, eos_ctx *ctx, const char *path) {
    eos_raster *r = NULL;
    if (eos_analyzer_open_raster(a, ctx, path, &r) != EOS_OK)
        TEST_FAIL_("eos_analyzer_open_raster %s: %s", path, eos_ctx_errmsg(ctx));
    return r;
}

static inline bool segment(eos_analyzer *a, eos_raster *r, const eos_segment_params *p,
                    eos_segment_result *res) {
    eos_status st = eos_segment_scene(a, r, p, res);
    if (st != EOS_OK) TEST_FAIL_("eos_segment_scene: %s: %s", eos_status_name(st),
                                 eos_analyzer_errmsg(a));
    return st == EOS_OK;
}

static inline bool analyze(eos_analyzer *a, eos_raster *r, const eos_image_params *p,
                    eos_image_result *res) {
    eos_status st = eos_analyze_image(a, r, p, res);
    if (st != EOS_OK) TEST_FAIL_("eos_analyze_image: %s: %s", eos_status_name(st),
                                 eos_analyzer_errmsg(a));
    return st == EOS_OK;
}

static inline void softmax(const double *z, int n, double *p) {
    double m = z[0], s = 0;
    for (int i = 1; i < n; i++) m = z[i] > m ? z[i] : m;
    for (int i = 0; i < n; i++) s += (p[i] = exp(z[i] - m));
    for (int i = 0; i < n; i++) p[i] /= s;
}

/* Compare a mask read from disk with the expected one; reports the first mismatch. */
static inline void expect_mask(const char *what, const uint8_t *got, const uint8_t *want, int w,
                               int h) {
    int64_t bad = 0, first = -1;
    for (int64_t i = 0; i < (int64_t)w * h; i++)
        if (got[i] != want[i] && bad++ == 0) first = i;
    if (bad)
        TEST_FAIL_("%s: %lld pixels differ; first at (x %lld, y %lld): %d, want %d", what,
                   (long long)bad, (long long)(first % w), (long long)(first / w), got[first],
                   want[first]);
}

#endif /* EOS_TESTS_ANALYSIS_FIXTURE_H */
