/*
 * eosight/metrics.h - evaluation metrics for the three tasks: confusion matrices (scene
 * classification and segmentation), multi-label scores with per-label threshold tuning, and
 * their rendering as a text table and as JSON.
 *
 * Accumulators are plain handles fed batch by batch; nothing here is thread-safe per handle.
 */
#ifndef EOSIGHT_METRICS_H
#define EOSIGHT_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "eosight/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ confusion matrix */

typedef struct eos_confusion eos_confusion;

/* n_classes x n_classes counts (row = truth, column = prediction); n_classes in [1, 4096].
 * NULL on OOM / bad n. */
eos_confusion *eos_confusion_create(int n_classes);
void eos_confusion_free(eos_confusion *cm);
void eos_confusion_reset(eos_confusion *cm);
/* Add n (truth, prediction) pairs; truth == ignore_index (or outside [0, C)) is skipped,
 * a prediction outside [0, C) counts as wrong (column dropped). */
void eos_confusion_add(eos_confusion *cm, const int32_t *truth, const int32_t *pred, int64_t n,
                       int ignore_index);
/* Same for byte labels (segmentation masks). */
void eos_confusion_add_u8(eos_confusion *cm, const uint8_t *truth, const uint8_t *pred, int64_t n,
                          int ignore_index);
int64_t eos_confusion_count(const eos_confusion *cm, int truth, int pred);
int64_t eos_confusion_total(const eos_confusion *cm);

/* Per-class and overall figures. Classes listed in `excluded` (may be NULL) are left out of
 * the means (e.g. Unlabeled in segmentation) and their rows are not counted in accuracy. A
 * class with no truth and no prediction has NaN precision/recall/IoU and is left out of the
 * macro means.
 *
 * Exactly: with tp = M[c][c], support = row sum (predictions out of range included) and
 * predicted = column sum over the truth rows of classes that are not excluded (an excluded
 * truth row is treated like an ignored pixel: it is nobody's false positive), precision =
 * tp / predicted, recall = tp / support, f1 = 2 tp / (support + predicted), iou = tp /
 * (support + predicted - tp). A ratio whose denominator is 0 is 0 when the class has truth or
 * predictions, NaN when it has neither. An excluded class's own figures are computed over the
 * whole matrix (reported, never averaged). accuracy = sum of tp / sum of support over the
 * classes not excluded (NaN when nothing was counted); macro_f1, miou (and mean_dice, equal to
 * macro_f1) average the non-NaN figures of the classes not excluded (NaN when none). */
typedef struct eos_class_scores {
    double precision, recall, f1, iou;
    int64_t support;       /* truth count */
} eos_class_scores;

typedef struct eos_confusion_summary {
    double accuracy;       /* correct / counted (pixel accuracy for segmentation) */
    double macro_f1, miou, mean_dice;   /* dice == F1 per class */
    int64_t counted;
} eos_confusion_summary;

/* scores: n_classes entries (may be NULL). */
void eos_confusion_summarize(const eos_confusion *cm, const bool *excluded,
                             eos_class_scores *scores /* OUT */, eos_confusion_summary *sum /* OUT */);

/* The summary as one JSON object in *out (eos_malloc'd, caller frees with eos_free):
 *   {"n_classes", "counted", "accuracy", "pixel_accuracy" (= accuracy), "macro_f1", "miou",
 *    "mean_dice", "per_class": [{"name", "precision", "recall", "f1", "iou", "support",
 *    "excluded"}...], "confusion": [[counts of truth row 0 by prediction]...]}
 * NaN figures are null; names are JSON-escaped (bytes that are not UTF-8 become U+FFFD).
 * class_names (n_classes, may be NULL, entries may be NULL) default to the class index as a
 * string; excluded may be NULL. Errors: EOS_INVALID_ARG (NULL cm/out), EOS_NOMEM. */
eos_status eos_confusion_json(const eos_confusion *cm, const char *const *class_names,
                              const bool *excluded, char **out /* OUT */);
/* The same as a text table on f: one line per class (precision, recall, F1, IoU, support; "-"
 * for NaN; excluded classes marked), the overall line, and the confusion matrix itself when
 * there are at most 64 classes. EOS_INVALID_ARG, EOS_NOMEM, EOS_IO (a write error on f). */
eos_status eos_confusion_table(const eos_confusion *cm, const char *const *class_names,
                               const bool *excluded, FILE *f);

/* ------------------------------------------------------------------ multi-label */

typedef struct eos_multilabel eos_multilabel;

/* n_labels in [1, 4096]; NULL on OOM / bad n. */
eos_multilabel *eos_multilabel_create(int n_labels);
void eos_multilabel_free(eos_multilabel *ml);
/* Add n rows of scores (probabilities in [0, 1]) and 0/1 truths, each [n, n_labels].
 * EOS_INVALID_ARG (NULL, a non-finite score, a truth other than 0 or 1: nothing is added),
 * EOS_LIMIT (more than 2^32 values in all), EOS_NOMEM. */
eos_status eos_multilabel_add(eos_multilabel *ml, const float *scores, const float *truth, int64_t n);
int64_t eos_multilabel_rows(const eos_multilabel *ml);

/* A label is predicted when its score >= its threshold. F-beta = (1+b^2) tp / ((1+b^2) tp +
 * b^2 fn + fp). Micro figures pool every (row, label); macro ones average the labels with at
 * least one positive; precision/recall with a zero denominator are 0 (NaN when there are
 * neither truths nor predictions at all). mean_f2_per_sample averages each row's F2 over all
 * rows, a row with neither truths nor predictions scoring 0 (scikit-learn's
 * fbeta_score(average="samples") with its default zero_division). */
typedef struct eos_multilabel_summary {
    double micro_f1, macro_f1, micro_f2, macro_f2;   /* macro over labels with any positive */
    double micro_precision, micro_recall;
    double mean_f2_per_sample;                        /* the Planet competition's score */
} eos_multilabel_summary;

/* Scores at per-label thresholds (n_labels; NULL = 0.5 for all); per_label_f1 (may be NULL)
 * gets each label's F1 (NaN when the label has neither positives nor predictions). */
void eos_multilabel_summarize(const eos_multilabel *ml, const float *thresholds,
                              eos_multilabel_summary *sum /* OUT */, double *per_label_f1 /* OUT */);
/* Per-label thresholds maximising each label's F-beta (beta 1 or 2) on the accumulated rows,
 * searched over the observed scores; a label with no positives gets 0.5. The threshold is
 * an observed score t (predicting score >= t); among equal F-beta the highest t wins. A beta
 * that is not positive is taken as 1. */
void eos_multilabel_tune(const eos_multilabel *ml, double beta, float *thresholds /* OUT */);

/* The summary at thresholds (NULL = 0.5) as one JSON object in *out (eos_malloc'd):
 *   {"n_labels", "rows", "micro_f1", "macro_f1", "micro_f2", "macro_f2", "micro_precision",
 *    "micro_recall", "samples_f2" (mean_f2_per_sample), "thresholds": [...],
 *    "per_label": [{"name", "f1", "threshold", "support"}...]}
 * NaN as null, names as in eos_confusion_json. EOS_INVALID_ARG, EOS_NOMEM. */
eos_status eos_multilabel_json(const eos_multilabel *ml, const float *thresholds,
                               const char *const *label_names, char **out /* OUT */);
/* The same as a text table on f (per label: threshold, F1, support; then the summary).
 * EOS_INVALID_ARG, EOS_NOMEM, EOS_IO. */
eos_status eos_multilabel_table(const eos_multilabel *ml, const float *thresholds,
                                const char *const *label_names, FILE *f);

#ifdef __cplusplus
}
#endif
#endif /* EOSIGHT_METRICS_H */
