/*
 * src/analysis/ood_hook.c - out-of-distribution scores of the analyses: the link between an
 * eos_analyzer and the calibration of eosight/ood.h. (Placeholder until ood.h lands: models
 * are reported as uncalibrated.)
 */
#include <math.h>

#include "analysis/analysis_internal.h"

eos_status eos__analysis_ood_init(eos_analyzer *a, eos_ctx *ctx, eos_err *err) {
    (void)ctx;
    (void)err;
    a->contract.has_ood = false;
    return EOS_OK;
}

void eos__analysis_ood_free(eos_analyzer *a) { (void)a; }

bool eos__analysis_ood_uncertain(const eos_analyzer *a, double score) {
    (void)a;
    (void)score;
    return false;
}

void eos__analysis_ood_scores(eos_analyzer *a, int n, float *scores) {
    (void)a;
    for (int i = 0; i < n; i++) scores[i] = NAN;
}
