/*
 * src/analysis/ood_internal.h - what the two halves of the out-of-distribution code share:
 * src/analysis/ood.c (the eosight.ood.* metadata, scoring) and src/analysis/ood_calibrate.c
 * (rewriting the graph, statistics, writing the calibrated model). Public side: eosight/ood.h.
 */
#ifndef EOS_ANALYSIS_OOD_INTERNAL_H
#define EOS_ANALYSIS_OOD_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "eosight/ood.h"

/* eosight.ood.method values. */
#define EOS_OOD_METHOD_FULL "mahalanobis"
#define EOS_OOD_METHOD_DIAG "mahalanobis-diag"

/* Everything the metadata says, in the form the calibration produces it: centroids
 * [n_centroids, dim] row-major; whiten the lower triangle of W row by row (row i holds
 * W[i][0..i], starting at i (i + 1) / 2) when full, else its diagonal (dim values). */
typedef struct eos__ood_spec {
    const char  *output;
    bool         full;
    int          dim, n_centroids;
    const float *centroids;
    const float *whiten;
    double       scale, threshold;
} eos__ood_spec;

/* Floats in the whitening matrix of a spec. */
int64_t eos__ood_whiten_len(bool full, int dim);

/* Make an eos_ood from a spec (copied; nothing is checked but allocation): EOS_NOMEM. */
eos_status eos__ood_build(const eos__ood_spec *s, eos_ood **out /* OUT */, eos_err *err);
/* min_k || W (f - m_k) || without the scale (NaN for non-finite features). */
double eos__ood_distance(const eos_ood *o, const float *features,
                         int *nearest /* OUT, may be NULL */);
/* Scale and threshold of an eos_ood (calibration sets them last). */
void eos__ood_set_scale(eos_ood *o, double scale, double threshold);

/* base64 (RFC 4648, with padding) of n little-endian f32 values, NUL-terminated, from
 * eos_malloc (caller frees); NULL when out of memory. */
char *eos__b64_encode_f32(const float *v, int64_t n);

#endif /* EOS_ANALYSIS_OOD_INTERNAL_H */
