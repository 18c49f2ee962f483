/*
 * eosight/analysis.h - the analyses users run on imagery: classify scenes, tag them, screen
 * clouds, segment land cover over scenes of any size. The CLI commands (`eosight classify`,
 * `tag`, `clouds`, `segment`, `models`) and the service are thin shells over these calls.
 *
 * The model contract. Every eosight model is one ONNX file whose metadata
 * (docs/model-metadata.md) says what it takes and gives: task, class names (and colours),
 * input bands in order, per-band scaling, native patch size and ground-sample distance,
 * per-class thresholds. eos_analyzer_open reads it into an eos_contract;
 * eos_analyzer_open_raster opens an image for a model (selecting the model's bands by name
 * when the file names them, so a BGR file is read as RGB) and eos_contract_check compares the
 * image with the contract: band count, storage type and the value range against the expected
 * scaling (the /10000 reflectance mistake), ground-sample distance. Mismatches that would give
 * garbage refuse; the rest warn.
 *
 * Images and scenes. eos_analyze_image classifies (classify, tag, cloud models) either the
 * whole image, resized to the model's input as in training, or, for a scene larger than the
 * model's window, a grid of windows (a "patch grid"): one prediction per cell, the class share
 * of the scene, optional GeoTIFF/GeoJSON outputs of the grid. The window is the ground the
 * model saw in training: input size x model GSD / image GSD when both are known, else
 * eosight.window_px, else the input size.
 * eos_segment_scene runs a segmentation model window by window (configurable window and
 * overlap, batched), blends overlapping windows with linear ramps so tile borders leave no
 * seams, optionally averages flips/rot90s (TTA) and scales, post-processes, and writes a class
 * Cloud-Optimized GeoTIFF, probabilities, polygons, an overlay picture and per-class areas.
 * Memory is bounded by a strip of windows (width x window x classes floats), not the scene
 * size, except post-processing, which holds the class mask (1 byte per pixel).
 *
 * Nodata in, nodata out: pixels the raster marks invalid (nodata value, mask, alpha, NaN)
 * come out as class 255 (EOS_ANALYSIS_NODATA) and count in no area; grid cells that are
 * mostly invalid are nodata cells.
 *
 * Out-of-distribution: models calibrated with `eosight calibrate` (eosight/ood.h) carry class
 * centroids of their penultimate features; each image prediction then has an ood_score and is
 * marked uncertain above the model's threshold.
 *
 * Thread safety: an eos_analyzer runs one analysis at a time (it owns an inference session);
 * use one per thread. Results are plain data owned by the caller.
 */
#ifndef EOSIGHT_ANALYSIS_H
#define EOSIGHT_ANALYSIS_H

#include <stdbool.h>
#include <stdint.h>

#include "eosight/geo.h"
#include "eosight/mask.h"
#include "eosight/model.h"
#include "eosight/raster.h"
#include "eosight/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define EOS_ANALYSIS_NODATA   255    /* class value of nodata pixels and cells */
#define EOS_ANALYSIS_SKIPPED  254    /* grid cells / windows left out as cloudy */
#define EOS_ANALYSIS_MAX_CLASSES 250

typedef enum eos_analysis_task {
    EOS_ANALYSIS_CLASSIFY = 0,   /* eosight.task classification: one class per image */
    EOS_ANALYSIS_TAG      = 1,   /* multilabel: labels above per-class thresholds */
    EOS_ANALYSIS_CLOUD    = 2,   /* cloud: clear/cloudy screening (a classifier) */
    EOS_ANALYSIS_SEGMENT  = 3    /* segmentation: one class per pixel */
} eos_analysis_task;

/* "classify", "tag", "cloud", "segment". */
const char *eos_analysis_task_name(eos_analysis_task t);

/* ------------------------------------------------------------------ the model contract */

/* What a model's metadata promises, read-only once loaded. Arrays have n_classes / n_bands
 * entries and belong to the analyzer. */
typedef struct eos_contract {
    eos_analysis_task task;
    int          n_classes;
    const char *const *class_names;
    const eos_rgba *colors;        /* segmentation: eosight.colors, else a built-in palette */
    const float *thresholds;       /* tag: eosight.thresholds (0.5 each when absent); cloud:
                                    * the cloudy probability above which an image is cloudy */
    int          cloudy_class;     /* cloud: index of the class named "cloudy" (else 1) */
    int          n_bands;
    const char *const *band_names; /* eosight.bands; NULL when the model does not say */
    eos_norm     norm;             /* eosight.norm.* */
    int          in_h, in_w;       /* eosight.input_size or the fixed input dims; 0: any */
    double       gsd_m;            /* eosight.gsd_m; 0: unknown */
    int          window_px;        /* eosight.window_px: image pixels one input covers; 0 */
    eos_dtype    dtype;            /* eosight.dtype: the training imagery's storage type;
                                    * EOS_DTYPE_UNDEFINED when the model does not say */
    bool         has_ood;          /* calibrated for out-of-distribution scores */
} eos_contract;

/* ------------------------------------------------------------------ analyzer */

typedef struct eos_analyzer eos_analyzer;

typedef struct eos_analyzer_params {
    int n_threads;       /* engine threads; 0: all cores */
} eos_analyzer_params;

/* Load a model and read its contract. The model must have one 4-D image input and eosight.task
 * metadata (models without it are refused with a message saying what to add); class names
 * default to "class_<i>" when eosight.classes is absent. params may be NULL.
 * Errors: the loader's (EOS_IO, EOS_PARSE ...), EOS_INVALID_ARG for a contract that
 * contradicts the graph (class count vs output size, band count vs input channels), EOS_PARSE
 * for malformed metadata values, with the message in eos_ctx_errmsg(ctx). */
eos_status eos_analyzer_open(eos_ctx *ctx, const char *model_path,
                             const eos_analyzer_params *params, eos_analyzer **out /* OUT */);
/* Another analyzer of src's model, sharing its loaded weights (no second load from disk,
 * no second copy in memory) with its own session and scratch, so that several threads can
 * analyse with the same model at once (one analyzer each). src must outlive it: free the
 * shared analyzers first. Errors as eos_analyzer_open. */
eos_status eos_analyzer_open_shared(eos_ctx *ctx, const eos_analyzer *src,
                                    const eos_analyzer_params *params,
                                    eos_analyzer **out /* OUT */);
void eos_analyzer_free(eos_analyzer *a);

const eos_contract *eos_analyzer_contract(const eos_analyzer *a);
const eos_model *eos_analyzer_model(const eos_analyzer *a);
/* The model's file name without directory and .onnx (e.g. "eurosat-rgb-scene"). */
const char *eos_analyzer_name(const eos_analyzer *a);
/* Detail of the last failed call on a, or "". */
const char *eos_analyzer_errmsg(const eos_analyzer *a);

/* The contract as a JSON object (what `eosight models --json` and GET /v1/models/{name} show):
 * name, task, classes [{name, color?, threshold?}], bands, norm, input_size, gsd_m,
 * window_px, dtype, ood, and the training provenance keys present. *json from eos_malloc. */
eos_status eos_contract_json(const eos_analyzer *a, char **json /* OUT */);

/* ------------------------------------------------------------------ checking an image */

#define EOS_CHECK_MAX_MSGS 8

typedef struct eos_check {
    bool refuse;                               /* predicting would give garbage */
    int  n_msgs;
    char msgs[EOS_CHECK_MAX_MSGS][320];        /* refusals first, then warnings */
} eos_check;

/* Open an image for a's model: the model's bands selected by name (description or colour
 * interpretation) when every one is found in the file, else all bands in file order (the
 * band count is then checked by eos_contract_check). Errors as eos_raster_open. */
eos_status eos_analyzer_open_raster(eos_analyzer *a, eos_ctx *ctx, const char *path,
                                    eos_raster **out /* OUT */);
/* The same for an image held in memory (the service's uploads). */
eos_status eos_analyzer_open_raster_mem(eos_analyzer *a, eos_ctx *ctx, const void *buf,
                                        size_t size, eos_raster **out /* OUT */);

/* Compare an opened image with the contract. Refuses: a band count that differs; values far
 * outside the range the scaling expects (integer DN up to 10000 for a model trained on 8-bit
 * imagery, or reflectance already in 0..1 for a model that divides by 10000), judged on a
 * decimated read of the image. Warns: a storage type other than the training imagery's that
 * is still in range, a GSD more than 1.5x off the model's, bands named differently. Never
 * fails for a readable image: *out says. Errors: read errors (EOS_IO) of r. */
eos_status eos_contract_check(eos_analyzer *a, eos_raster *r, eos_check *out /* OUT */);

/* ------------------------------------------------------------------ images and patch grids */

typedef enum eos_grid_mode {
    EOS_GRID_AUTO  = 0,   /* a grid when the image exceeds 1.5 windows in either direction */
    EOS_GRID_WHOLE = 1,   /* always the whole image, resized to the input */
    EOS_GRID_ALWAYS = 2   /* always a grid of windows */
} eos_grid_mode;

typedef struct eos_image_params {
    int           tta;            /* 1 (none), 4 (rot90s) or 8 (with flips); 0: 1 */
    int           batch;          /* windows per run; 0: 32 */
    eos_grid_mode grid;
    int           window_px;      /* grid window in image pixels; 0: from the contract */
    double        min_valid;      /* a cell with a smaller share of valid pixels is nodata;
                                   * 0: 0.5 */
    /* Cloud screening of grid cells (and of the whole image): with clouds set, cells whose
     * cloudy probability under that cloud model is >= skip_cloudy are left out
     * (EOS_ANALYSIS_SKIPPED) and not classified. clouds_raster is the image opened for the
     * cloud model (eos_analyzer_open_raster(clouds, ...): its own band selection); NULL: the
     * image itself, which must then have the cloud model's band count. */
    eos_analyzer *clouds;
    eos_raster   *clouds_raster;
    double        skip_cloudy;
    /* Grid outputs (NULL: not written; asking for either makes EOS_GRID_AUTO a grid even for
     * a small image): a GeoTIFF of cell classes (one pixel per cell, the
     * scene's CRS, colour table and class names; nodata 255), and a GeoJSON of the cells
     * (WGS 84 polygons with class, probability, scores). */
    const char   *grid_tif;
    const char   *grid_geojson;
    bool          progress;       /* progress bar on stderr (terminals only) */
    /* Decision thresholds instead of the contract's (tag: a label is given at a probability
     * >= its threshold; cloud: the cloudy class's threshold makes an image cloudy): NULL the
     * contract's; n_thresholds 1 sets every class's, n_classes one per class (other counts,
     * or values outside [0, 1], are EOS_INVALID_ARG). */
    const float  *thresholds;
    int           n_thresholds;
    /* Who runs the model on each batch of windows: NULL runs it on the analyzer itself
     * (eos_analyze_batch); the service passes its micro-batcher, which runs windows of many
     * requests together. The runner gets n inputs as eos_analyze_batch does and must fill
     * n x n_classes probabilities and n OOD scores (NaN without calibration); a status other
     * than EOS_OK fails the analysis with the runner's message (run_errmsg). */
    eos_status  (*run)(void *run_ctx, const float *x, int n, int tta, float *probs, float *ood,
                       char *errmsg, size_t errmsg_size);
    void         *run_ctx;
} eos_image_params;

eos_image_params eos_image_default_params(void);

/* Parse thresholds given as text, "T" or "T1,T2,..." (numbers in [0, 1]), into out (at most
 * max). Returns their count, or -1 for malformed text, a value outside [0, 1] or more than max
 * values. For eos_image_params.thresholds from command lines and requests. Thread-safe. */
int eos_parse_thresholds(const char *text, float *out, int max);

typedef struct eos_image_result {
    eos_analysis_task task;
    int      n_classes;
    /* Whole-image scores: probabilities (softmax / sigmoid) of the image, or for a grid the
     * mean over valid, unskipped cells. */
    float   *probs;               /* n_classes */
    int      top;                 /* argmax of probs (classify/cloud) */
    bool     cloudy;              /* cloud: probs[cloudy_class] >= its threshold */
    bool     skipped;             /* whole image left out as cloudy (skip_cloudy) */
    double   ood_score;           /* NaN without calibration */
    bool     uncertain;           /* ood_score above the model's threshold */
    /* Grid (grid == true): cells in row-major order. */
    bool     grid;
    int      window_px;
    int64_t  cells_x, cells_y;
    uint8_t *cell_class;          /* class, or EOS_ANALYSIS_NODATA / _SKIPPED */
    float   *cell_probs;          /* cells x n_classes */
    float   *cell_ood;            /* cells; NaN without calibration */
    int64_t  n_cells_valid, n_cells_nodata, n_cells_skipped;
    double  *class_share;         /* classify/cloud: share of valid cells per class;
                                   * tag: share of valid cells carrying each label */
    float   *thresholds;          /* n_classes: the thresholds in effect (params, else the
                                   * contract's) */
    double   seconds;
} eos_image_result;

/* Predict one image (see the file comment). r must have been opened for a
 * (eos_analyzer_open_raster) and pass eos_contract_check; a segmentation model is refused
 * (EOS_INVALID_ARG: use eos_segment_scene). params may be NULL. *out is filled; free it with
 * eos_image_result_free. Errors: EOS_INVALID_ARG (parameters, task), EOS_SHAPE (band count),
 * read errors of r, the engine's, writer errors; message in eos_analyzer_errmsg(a). */
eos_status eos_analyze_image(eos_analyzer *a, eos_raster *r, const eos_image_params *params,
                             eos_image_result *out /* OUT */);

/* Predict a batch of images already normalised and sized to the model input: x holds n
 * images [c, in_h, in_w] (f32). probs receives n x n_classes probabilities, ood (may be NULL)
 * n scores (NaN without calibration). For the service's micro-batcher. Errors as above. */
eos_status eos_analyze_batch(eos_analyzer *a, const float *x, int n, int tta,
                             float *probs /* OUT */, float *ood /* OUT, may be NULL */);

/* Read an image window [x0, x0 + w) x [y0, y0 + h) of r (reflect-padded past the edges) and
 * resize it to the model input, normalised: dst holds n_bands x in_h x in_w floats; *valid_share
 * the share of valid pixels. What eos_analyze_image feeds the model. */
eos_status eos_analyzer_read_input(eos_analyzer *a, eos_raster *r, int64_t x0, int64_t y0, int w,
                                   int h, float *dst /* OUT */, double *valid_share /* OUT */);

void eos_image_result_free(eos_image_result *res);

/* The grid window, in pixels of r, that eos_analyze_image uses with default parameters: the
 * model input scaled by the model's GSD over the image's when both are known, else
 * eosight.window_px, else the input size (0 for a model without a fixed input and neither
 * key). The service's -at routes cut their tile with it. */
int eos_analyzer_window_px(const eos_analyzer *a, eos_raster *r);

/* Micro-batching of whole images, in two halves around the model run (the service reads many
 * small uploads on several threads and runs them through one analyzer together).
 * eos_analyze_prepare checks r and params as eos_analyze_image does; when r would be predicted
 * whole (no grid; params asking for cloud screening or grid outputs never are) it reads the
 * model input into x (n_bands x in_h x in_w floats, the caller's), sets *whole and *valid_share
 * (the share of valid pixels); otherwise *whole is false, nothing is read, and the caller uses
 * eos_analyze_image. The analyzer is used for scratch only (not the engine).
 * eos_image_result_whole then fills *out from the image's probabilities and OOD score as
 * eos_analyze_image would have (an image with valid_share below params' min_valid is nodata:
 * probs are ignored); it only reads a's contract, so it may run on any thread while another
 * uses a. Errors as eos_analyze_image; EOS_NOMEM. */
eos_status eos_analyze_prepare(eos_analyzer *a, eos_raster *r, const eos_image_params *params,
                               float *x /* OUT */, double *valid_share /* OUT */,
                               bool *whole /* OUT */);
eos_status eos_image_result_whole(const eos_analyzer *a, const eos_image_params *params,
                                  const float *probs, float ood, double valid_share,
                                  eos_image_result *out /* OUT */);

/* The result as JSON: {"task","model","classes":[{"name","prob"}] (sorted, top_k of them;
 * 0: all), "top", "labels" (tag: those above threshold), "cloudy", "ood_score", "uncertain",
 * "grid": {...cells summary and class shares} }. *json from eos_malloc. */
eos_status eos_image_result_json(const eos_analyzer *a, const eos_image_result *res, int top_k,
                                 char **json /* OUT */);

/* ------------------------------------------------------------------ segmentation */

typedef struct eos_segment_params {
    int     window;          /* window side in pixels (a multiple of 32); 0: the model's fixed
                              * input, else 256 */
    int     overlap;         /* pixels shared by neighbouring windows, even, < window; -1:
                              * window / 4. Blended with linear ramps over the overlap */
    int     batch;           /* windows per run; 0: 4 */
    int     tta;             /* 1, 4 or 8 */
    int     n_scales;        /* multi-scale averaging: 0 or 1 means scale 1 only */
    double  scales[4];       /* e.g. 0.75, 1, 1.25: each window resized by s (to a multiple
                              * of 32), run, probabilities resized back and averaged */
    bool    post;            /* apply clean (opening/closing, minimum object/hole) */
    eos_mask_clean_params clean;
    eos_analyzer *clouds;    /* skip windows whose cloudy probability >= skip_cloudy: their
                              * cores (step x step) become nodata */
    eos_raster *clouds_raster;   /* the scene opened for the cloud model; NULL: r */
    double  skip_cloudy;
    /* Outputs (NULL: not written). mask: single-band u8 class raster (COG when the name ends
     * in .tif/.tiff; PNG for .png), colour table and class names, nodata 255, the input's
     * georeferencing. probs: u8 per class, round(255 * p), one band per class named after it.
     * vector: polygons (GeoJSON .geojson/.json, GeoPackage .gpkg) of the final mask, so
     * polygons crossing window borders are one feature. overlay: PNG/JPEG of the image with
     * the mask blended (alpha 0.5) and a legend. */
    const char *mask_path, *probs_path, *vector_path, *overlay_path;
    bool    progress;
    /* Called after each row of windows with the windows done and their total (and once with 0
     * before the first); returning false stops the run with EOS_CANCELLED (no output file is
     * left). NULL: not called. Runs on the calling thread. */
    bool  (*on_progress)(void *user, int64_t done, int64_t total);
    void   *progress_user;
} eos_segment_params;

eos_segment_params eos_segment_default_params(void);

typedef struct eos_segment_result {
    int      n_classes;
    int64_t  width_px, height_px;
    int64_t *pixels;         /* n_classes: pixels of each class in the final mask */
    double  *area_m2;        /* n_classes (pixels x pixel area; geographic CRS: per row);
                              * without georeferencing a pixel counts as 1 m2 */
    bool     georeferenced;  /* the scene has a geotransform and a CRS: areas are real */
    int64_t  nodata_px;      /* nodata and skipped pixels */
    int64_t  windows;        /* in the grid */
    int64_t  windows_nodata; /* not run: no valid pixel */
    int64_t  windows_cloudy; /* not run: cloudy under the cloud model */
    int64_t  n_polygons;     /* when vector_path was written */
    double   mean_entropy;   /* mean predictive entropy / log(C) over valid pixels (0..1): an
                              * uncertainty score of the whole scene */
    double   seconds;
} eos_segment_result;

/* Segment a scene (see the file comment). At least mask_path must be given when vector_path
 * or overlay_path is (they are made from the written mask). Errors: EOS_INVALID_ARG
 * (parameters, a non-segmentation model), read, engine and writer errors, with the message in
 * eos_analyzer_errmsg(a). Outputs are written through temporary files: a failed run leaves no
 * partial file under an output name. */
eos_status eos_segment_scene(eos_analyzer *a, eos_raster *r, const eos_segment_params *params,
                             eos_segment_result *out /* OUT */);
void eos_segment_result_free(eos_segment_result *res);

/* {"model","width","height","classes":[{"name","color","pixels","area_m2" (null without
 * georeferencing),"share"}],
 * "nodata_px","windows","windows_nodata","windows_cloudy","polygons","mean_entropy",
 * "seconds"}. */
eos_status eos_segment_result_json(const eos_analyzer *a, const eos_segment_result *res,
                                   char **json /* OUT */);

/* ------------------------------------------------------------------ model search path */

/* Directories searched for models, in order: ./models, each entry of $EOSIGHT_MODELS
 * (colon-separated, read once per process, at most 16), the install prefix's
 * share/eosight/models. Fills at most max entries (static strings, valid for the process's
 * lifetime) and returns their count. Thread-safe. */
int eos_model_search_path(const char **dirs /* OUT */, int max);

/* The default model of a task: $EOSIGHT_MODEL_CLASSIFY, _TAG, _CLOUDS or _SEGMENT when set
 * and not empty, else "eurosat-rgb-scene", "ucmerced-tags", "clouds" or "dubai-landcover" (the
 * models of models/). A name for eos_model_find; the string lives as long as the process's
 * environment. Thread-safe as long as the environment is not changed meanwhile. */
const char *eos_analysis_default_model(eos_analysis_task task);

/* Resolve a model name or path: an existing file is itself; otherwise NAME or NAME.onnx in the
 * search path. Writes the path into buf. EOS_NOT_FOUND with a message listing the places
 * looked at. */
eos_status eos_model_find(eos_ctx *ctx, const char *name, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif /* EOSIGHT_ANALYSIS_H */
