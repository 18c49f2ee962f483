/*
 * src/analysis/ood_hook.c - out-of-distribution scores of the analyses: an eos_analyzer whose
 * model was calibrated by `eosight calibrate` (include/eosight/ood.h) copies the feature output
 * of every run and scores each image against the stored class centroids.
 */
#include <math.h>

#include "analysis/analysis_internal.h"
#include "eosight/ood.h"

eos_status eos__analysis_ood_init(eos_analyzer *a, eos_ctx *ctx, eos_err *err) {
    a->contract.has_ood = false;
    if (a->contract.task == EOS_ANALYSIS_SEGMENT) return EOS_OK;
    eos_status st = eos_ood_from_model(ctx, a->model, &a->ood);
    if (st != EOS_OK) return eos_err_set(err, st, "%s", eos_ctx_errmsg(ctx));
    if (!a->ood) return EOS_OK;
    int idx = eos_ood_output_index(a->ood, a->model);
    if (idx < 0)
        return eos_err_set(err, EOS_INVALID_ARG, "eosight.ood.output names '%s', which is not an "
                           "output of the model", eos_ood_output_name(a->ood));
    a->run.feat_output = idx;
    a->contract.has_ood = true;
    return EOS_OK;
}

void eos__analysis_ood_free(eos_analyzer *a) {
    eos_ood_free(a->ood);
    a->ood = NULL;
}

bool eos__analysis_ood_uncertain(const eos_analyzer *a, double score) {
    return a->ood && eos_ood_uncertain(a->ood, score);
}

void eos__analysis_ood_scores(eos_analyzer *a, int n, float *scores) {
    bool ok = a->ood && a->run.feat && a->run.feat_dim == eos_ood_dim(a->ood);
    for (int i = 0; i < n; i++)
        scores[i] = ok ? (float)eos_ood_score(a->ood, a->run.feat + (size_t)i * a->run.feat_dim)
                       : NAN;
}
