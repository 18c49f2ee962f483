/*
 * src/analysis/analysis_internal.h - what the analysis files share: the eos_analyzer
 * structure and small helpers (include/eosight/analysis.h is the public side).
 */
#ifndef EOS_ANALYSIS_INTERNAL_H
#define EOS_ANALYSIS_INTERNAL_H

#include "analysis/infer.h"
#include "core/err.h"
#include "eosight/analysis.h"

struct eos_ood;

struct eos_analyzer {
    eos_ctx      *ctx;
    eos_model    *model;
    bool          owns_model;     /* false for eos_analyzer_open_shared */
    eos_contract  contract;
    char          name[128];
    int           n_threads;
    eos_runner    run;            /* session + TTA */
    char        **names, **bands;
    eos_rgba     *colors;
    float        *thresholds;
    struct eos_ood *ood;          /* NULL without calibration */
    eos_err       err;            /* last failure */
    /* scratch of eos_analyzer_read_input, grown as needed */
    float        *buf, *buf2;
    size_t        buf_cap, buf2_cap;
    uint8_t      *valid;
    size_t        valid_cap;
};

/* Record err as a's last failure and return its status. */
eos_status eos__analysis_fail(eos_analyzer *a, const eos_err *err);

/* Out-of-distribution set-up from the model's eosight.ood.* keys (src/analysis/image.c). */
eos_status eos__analysis_ood_init(eos_analyzer *a, eos_ctx *ctx, eos_err *err);
void eos__analysis_ood_free(eos_analyzer *a);
/* True when score is above the model's threshold. */
bool eos__analysis_ood_uncertain(const eos_analyzer *a, double score);
/* Scores of the last run's n images (NaN when not calibrated). */
void eos__analysis_ood_scores(eos_analyzer *a, int n, float *scores);

/* Ground-sample distance of r in metres (mean of the pixel's sides; geographic CRSs at the
 * raster centre); 0 when r is not georeferenced. */
double eos__raster_gsd_m(const eos_raster *r);


#endif /* EOS_ANALYSIS_INTERNAL_H */
