/*
 * eosight/ood.h - out-of-distribution scores: how far an input lies from the data a model was
 * trained on, so that predictions on imagery unlike the training data (another sensor, another
 * resolution, another landscape) can be marked `uncertain` instead of trusted.
 *
 * Applies to classify, tag and cloud models whose output comes from a final Gemm (or MatMul
 * [+ Add]), the ResNet/CloudNet head "global average pooling -> Flatten -> Gemm": the input of
 * that Gemm, D values per image, are the penultimate-layer features f.
 *
 * Calibration (eos_ood_calibrate, `eosight calibrate`) runs the model over a labelled split
 * (the training data) and stores in the model:
 *   m_k  class centroids: the mean feature of the items of class k (classify and cloud models:
 *        by true label; tag models: every label present on an item counts the item for that
 *        label, so an item with two labels joins two means). Classes without items get none.
 *   W    a whitening matrix for the tied (shared) within-class covariance
 *            S = sum_i w_i (f_i - m_y(i)) (f_i - m_y(i))^T / sum_i w_i
 *        (tag: an item's residuals to each of its L labels' centroids, weight 1/L each):
 *        S + eps I = L L^T (Cholesky, eps = 1e-3 trace(S) / D, at least 1e-12) and W = L^-1,
 *        lower triangular ("mahalanobis"); or W = diag(1 / sqrt(S_jj + eps))
 *        ("mahalanobis-diag", used when D > EOS_OOD_MAX_FULL_DIM or asked for).
 * The score of one image is its Mahalanobis distance to the nearest centroid, scaled:
 *
 *     score(f) = scale * min_k || W (f - m_k) ||_2
 *
 * where scale = 1 / (the q-quantile, q = 0.99 by default, of the unscaled distances of a
 * held-out labelled split, e.g. validation). So a score of 1 is as far from the training data
 * as the 1 % most unusual held-out images, and the threshold (eosight.ood.threshold, written
 * as 1) flags about 1 % of in-distribution images; raise it in the metadata to flag fewer.
 * On EuroSAT, Mahalanobis distance with a tied covariance separated UC Merced aerial scenes
 * from EuroSAT test images better than cosine or Euclidean distance to centroids, k-nearest
 * neighbours, or maximum softmax probability (docs/model-metadata.md has the figures).
 *
 * Storage: the calibrated model is the same graph with the features added as a second graph
 * output (named "features" unless that name is taken), plus metadata keys eosight.ood.*
 * (docs/model-metadata.md): every other key, node and weight is kept, so the logits are
 * bit-identical. Matrices travel as base64 of little-endian f32.
 *
 * Use at inference:
 *
 *     eos_ood *o;                 // NULL when the model is not calibrated
 *     if (eos_ood_from_model(ctx, m, &o)) die(eos_ctx_errmsg(ctx));
 *     int fi = o ? eos_ood_output_index(o, m) : -1;
 *     ... eos_session_run(s, &x, 1); eos_session_output(s, fi, &feat);   // [n, D]
 *     double sc = eos_ood_score(o, (const float *)feat.data + i * eos_ood_dim(o));
 *     bool uncertain = eos_ood_uncertain(o, sc);
 *     eos_ood_free(o);
 *
 * Thread safety: an eos_ood is immutable after creation; any number of threads may score with
 * one at once.
 */
#ifndef EOSIGHT_OOD_H
#define EOSIGHT_OOD_H

#include <stdbool.h>
#include <stdint.h>

#include "eosight/data.h"
#include "eosight/model.h"
#include "eosight/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest feature dimension stored with a full whitening matrix (D (D+1) / 2 floats: 2 MiB of
 * f32 at 1024); larger ones use the diagonal form. */
#define EOS_OOD_MAX_FULL_DIM 1024
/* Largest feature dimension and centroid count accepted from metadata. */
#define EOS_OOD_MAX_DIM       65536
#define EOS_OOD_MAX_CENTROIDS 4096

typedef struct eos_ood eos_ood;   /* opaque: the parsed eosight.ood.* keys */

/* ------------------------------------------------------------------ scoring */

/* Read the model's eosight.ood.* metadata. *out = NULL and EOS_OK when the model has no key
 * starting with "eosight.ood."; else every key is checked (method known, dim and matrix sizes
 * consistent, base64 well-formed, every number finite, scale > 0, the output present in the
 * model with D values per row) and a problem is EOS_PARSE (EOS_UNSUPPORTED for an unknown
 * method) naming the key, with the message in eos_ctx_errmsg(ctx); EOS_NOMEM. The result does
 * not reference m; free it with eos_ood_free. */
eos_status eos_ood_from_model(eos_ctx *ctx, const eos_model *m, eos_ood **out /* OUT */);
/* NULL is a no-op. */
void eos_ood_free(eos_ood *o);

/* Index of the model output holding the features (eosight.ood.output), -1 when m has none by
 * that name. */
int eos_ood_output_index(const eos_ood *o, const eos_model *m);
/* The output's name (owned by o). */
const char *eos_ood_output_name(const eos_ood *o);
/* Features per image, D. */
int eos_ood_dim(const eos_ood *o);
/* "mahalanobis" or "mahalanobis-diag" (owned by o). */
const char *eos_ood_method(const eos_ood *o);
/* Centroids (classes that had calibration items) and centroid k's D values (owned by o), NULL
 * when k is out of range. */
int eos_ood_n_centroids(const eos_ood *o);
const float *eos_ood_centroid(const eos_ood *o, int k);

/* The score of one image from its D features (formula above): >= 0; NaN when a feature is
 * not finite (or, for D > 1024, when 16 D bytes of scratch cannot be allocated). Thread-safe;
 * costs D (D + 1) / 2 + K D multiply-adds. */
double eos_ood_score(const eos_ood *o, const float *features);
/* Index of the nearest centroid of one image (the arg-min of the formula), -1 for
 * non-finite features. */
int eos_ood_nearest(const eos_ood *o, const float *features);
/* eosight.ood.threshold: scores above it are uncertain. */
double eos_ood_threshold(const eos_ood *o);
/* score > threshold, or score is NaN; false when o is NULL (a model without calibration). */
bool eos_ood_uncertain(const eos_ood *o, double score);

/* ------------------------------------------------------------------ calibration */

typedef struct eos_ood_calib_params {
    int     batch;            /* images per run; 0: 32 */
    int     n_threads;        /* engine threads; 0: all cores */
    int     loader_threads;   /* decoding threads; 0: 1 */
    double  quantile;         /* of held-out distances that becomes score 1; 0: 0.99; in (0, 1] */
    int64_t max_items;        /* per split; 0: all items */
    bool    diagonal;         /* "mahalanobis-diag" even when D <= EOS_OOD_MAX_FULL_DIM */
    bool    progress;         /* progress bars on stderr when it is a terminal */
} eos_ood_calib_params;

typedef struct eos_ood_calib_result {
    char    output[64];       /* the features' output name */
    char    method[32];
    int     dim;              /* D */
    int     n_classes;        /* of the model and the data */
    int     n_centroids;      /* classes with calibration items */
    int64_t n_fit, n_held;    /* items of each split used */
    double  raw_threshold;    /* the held-out quantile of unscaled distances (1 / scale) */
    double  threshold;        /* eosight.ood.threshold (1) */
    double  fit_flagged;      /* share of fit items scoring above the threshold */
    double  held_flagged;     /* share of held-out items scoring above it (about 1 - q) */
    double  held_score;       /* the model's accuracy (classify) or micro-F1 (tag) on held_out */
    double  seconds;
} eos_ood_calib_result;

/* Calibrate the model in model_path and write it, with the features output and the
 * eosight.ood.* keys, to out_path (through out_path.part + rename; out_path may equal
 * model_path). fit gives the centroids and the covariance, held_out the scale; both must be
 * opened for the model's task (classify or tag) with the model's classes, and are run exactly
 * as eos_evaluate runs them (same normalisation, input size and resizing; no TTA). A model
 * that already has a features output is re-calibrated in place of the old keys. params may be
 * NULL; out may be NULL. Errors (message in eos_ctx_errmsg(ctx)): EOS_UNSUPPORTED (no final
 * Gemm/MatMul, a segmentation model), EOS_INVALID_ARG (bad params; model and data disagree as
 * for eos_evaluate; a split without labelled items), EOS_LIMIT (more than 4 GiB of features:
 * use max_items), EOS_NUMERIC (non-finite features), EOS_IO (cannot write out_path), errors of
 * the model loader and the engine, EOS_NOMEM. */
eos_status eos_ood_calibrate(eos_ctx *ctx, const char *model_path, const eos_dataset *fit,
                             const eos_dataset *held_out, const eos_ood_calib_params *params,
                             const char *out_path,
                             eos_ood_calib_result *out /* OUT, may be NULL */);

#ifdef __cplusplus
}
#endif
#endif /* EOSIGHT_OOD_H */
