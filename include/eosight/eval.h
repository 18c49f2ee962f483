/*
 * eosight/eval.h - evaluate a trained model (ONNX with eosight metadata) on a labelled
 * dataset (data.h) with the inference engine, for the three tasks:
 *   classify  accuracy, per-class precision/recall/F1, confusion matrix
 *   tag       micro/macro F1 and F2 at the model's per-label thresholds (eosight.thresholds,
 *             0.5 when absent), plus the thresholds tuned on this data and the scores at them
 *   segment   pixel accuracy, per-class IoU, mIoU and Dice; large images are run tile by tile
 *             with overlap (only tile cores are scored), so any image size works in bounded
 *             memory
 * Normalisation comes from the model's eosight.norm.* keys; the model's class list must
 * match the dataset's (same names, same order) or evaluation refuses (EOS_INVALID_ARG).
 * The same function validates after each training epoch, so what training reports is what
 * `eosight eval` reports.
 */
#ifndef EOSIGHT_EVAL_H
#define EOSIGHT_EVAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "eosight/data.h"
#include "eosight/metrics.h"
#include "eosight/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One classify/tag batch as eos_eval_params.on_batch sees it; the pointers are valid during the
 * call only. */
typedef struct eos_eval_batch {
    int            n;          /* rows */
    const int64_t *index;      /* [n] dataset item of each row */
    const float   *features;   /* [n, feat_dim] row-major: the model output named feat_output for
                                  the untransformed inputs (also with TTA); NULL without one */
    int            feat_dim;
} eos_eval_batch;

/* Called after each batch, in dataset order. Any status other than EOS_OK stops evaluation,
 * which returns that status (message "stopped by the batch callback"). */
typedef eos_status (*eos_eval_batch_fn)(void *user, const eos_eval_batch *b);

typedef struct eos_eval_params {
    int      batch;           /* images per run (classify/tag); 0: 32 */
    int      n_threads;       /* engine threads; 0: all cores */
    int      loader_threads;  /* 0: 1 */
    bool     tta;             /* average the probabilities of the 4 rot90s (8 with flips when
                                 tta8; tta8 alone implies tta) of each input; dense outputs are
                                 turned back first. Non-square inputs use only the transforms
                                 that keep the shape (identity, rot180; with tta8 the flips) */
    bool     tta8;
    int      tile;            /* segment: square tile side in pixels (0: 512), rounded up to a
                                 multiple of 32 and down to what the image needs (a smaller
                                 image is one reflect-padded tile); a model input with fixed
                                 H, W uses that size instead */
    int      overlap;         /* segment: overlap between tiles (0: 64; none when one tile
                                 covers the image); even */
    int64_t  max_items;       /* 0: every item */
    bool     progress;        /* progress bar on stderr when it is a terminal */
    const bool *excluded;     /* segment: classes left out of the means (n_classes), may be NULL */
    /* classify/tag only (EOS_INVALID_ARG for segment): on_batch, when not NULL, sees every batch
     * with the values of the extra model output named feat_output (NULL: none; a name that is
     * not an output of the model is EOS_INVALID_ARG). eos_ood_calibrate (ood.h) collects the
     * penultimate features this way, preprocessed exactly as evaluation preprocesses. */
    const char       *feat_output;
    eos_eval_batch_fn on_batch;
    void             *user;        /* passed to on_batch */
} eos_eval_params;

typedef struct eos_eval_result {
    eos_task        task;
    int             n_classes;
    int64_t         items;
    double          seconds;
    eos_confusion  *cm;             /* classify/segment */
    eos_confusion_summary summary;  /* classify/segment */
    eos_multilabel *ml;             /* tag */
    float          *thresholds;     /* tag: the model's (n_classes) */
    float          *tuned;          /* tag: tuned on this data (F1) */
    eos_multilabel_summary at_model, at_tuned;   /* tag */
    bool           *excluded;       /* copy of params->excluded (or NULL) */
    char          **class_names;    /* n_classes, owned */
} eos_eval_result;

/* The task a model was trained for, from its eosight.task metadata ("classification" and
 * "cloud" -> classify, "multilabel" -> tag, "segmentation" -> segment; eosight's own names
 * too), so a caller can open the dataset for it. Errors (message in eos_ctx_errmsg(ctx)):
 * EOS_NOT_FOUND (no eosight.task), EOS_PARSE (another value), EOS_INVALID_ARG (NULL). */
eos_status eos_eval_model_task(eos_ctx *ctx, const eos_model *m, eos_task *out /* OUT */);

/* Run model m over every item of ds. Errors (message in eos_ctx_errmsg(ctx)): EOS_INVALID_ARG
 * (task/classes/bands of model and data disagree, naming the first difference), errors of the
 * loader and the engine. *out is zeroed first and owns what it holds afterwards. */
eos_status eos_evaluate(eos_ctx *ctx, const eos_model *m, const eos_dataset *ds,
                        const eos_eval_params *params, eos_eval_result *out /* OUT */);
/* The headline figure: accuracy (classify), micro-F1 at the model's thresholds (tag), mIoU
 * (segment). */
double eos_eval_score(const eos_eval_result *r);
/* Human-readable report (tables) and one JSON object (keys as metrics.h's JSON plus task,
 * items, seconds and score (eos_eval_score; absent when NaN); tag adds "tuned" with the
 * figures at tuned thresholds). The JSON string is eos_malloc'd: the caller frees it with
 * eos_free. Errors: EOS_INVALID_ARG, EOS_NOMEM. */
void eos_eval_print(const eos_eval_result *r, FILE *f);
eos_status eos_eval_json(const eos_eval_result *r, char **out /* OUT, eos_free */);
void eos_eval_result_free(eos_eval_result *r);

#ifdef __cplusplus
}
#endif
#endif /* EOSIGHT_EVAL_H */
