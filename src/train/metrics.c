/*
 * src/train/metrics.c - evaluation metrics (include/eosight/metrics.h): the confusion matrix of
 * classification and segmentation with per-class precision/recall/F1/IoU, multi-label scores
 * with per-label threshold tuning, and both rendered as JSON and as a text table.
 *
 * The confusion matrix keeps one extra column per truth row for predictions outside
 * [0, n_classes): they count in the row's support (and as misses) but in no class's
 * predictions. Excluded classes (Unlabeled in segmentation) behave like an ignore label for
 * everybody else: their truth rows count neither in accuracy nor as false positives of the
 * other classes; their own per-class figures are still reported, from the whole matrix.
 *
 * The multi-label accumulator stores every (score, truth) pair, because threshold tuning needs
 * them all; rows are stored as floats and bytes.
 */
#include "eosight/metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"
#include "eosight/alloc.h"

#define CM_MAX_CLASSES 4096
#define ML_MAX_LABELS  4096
#define ML_MAX_VALUES  ((int64_t)1 << 32)   /* rows * labels kept by one accumulator */

struct eos_confusion {
    int      n;
    int64_t *m;        /* n rows x (n + 1) columns; column n: prediction out of range */
};

struct eos_multilabel {
    int      n;
    int64_t  rows, cap;
    float   *score;    /* rows x n */
    uint8_t *truth;    /* rows x n, 0/1 */
};

/* ------------------------------------------------------------------ confusion matrix */

eos_confusion *eos_confusion_create(int n_classes) {
    if (n_classes < 1 || n_classes > CM_MAX_CLASSES) return NULL;
    eos_confusion *cm = eos_calloc(1, sizeof *cm);
    if (!cm) return NULL;
    cm->n = n_classes;
    cm->m = eos_calloc((size_t)n_classes * (size_t)(n_classes + 1), sizeof *cm->m);
    if (!cm->m) {
        eos_free(cm);
        return NULL;
    }
    return cm;
}

void eos_confusion_free(eos_confusion *cm) {
    if (!cm) return;
    eos_free(cm->m);
    eos_free(cm);
}

void eos_confusion_reset(eos_confusion *cm) {
    if (cm) memset(cm->m, 0, (size_t)cm->n * (size_t)(cm->n + 1) * sizeof *cm->m);
}

static inline void cm_add1(eos_confusion *cm, int64_t t, int64_t p, int ignore_index) {
    if (t == ignore_index || t < 0 || t >= cm->n) return;
    cm->m[t * (cm->n + 1) + (p >= 0 && p < cm->n ? p : cm->n)]++;
}

void eos_confusion_add(eos_confusion *cm, const int32_t *truth, const int32_t *pred, int64_t n,
                       int ignore_index) {
    if (!cm || !truth || !pred) return;
    for (int64_t i = 0; i < n; i++) cm_add1(cm, truth[i], pred[i], ignore_index);
}

void eos_confusion_add_u8(eos_confusion *cm, const uint8_t *truth, const uint8_t *pred, int64_t n,
                          int ignore_index) {
    if (!cm || !truth || !pred) return;
    for (int64_t i = 0; i < n; i++) cm_add1(cm, truth[i], pred[i], ignore_index);
}

int64_t eos_confusion_count(const eos_confusion *cm, int truth, int pred) {
    if (!cm || truth < 0 || truth >= cm->n || pred < 0 || pred >= cm->n) return 0;
    return cm->m[(int64_t)truth * (cm->n + 1) + pred];
}

int64_t eos_confusion_total(const eos_confusion *cm) {
    if (!cm) return 0;
    int64_t s = 0;
    for (int64_t i = 0; i < (int64_t)cm->n * (cm->n + 1); i++) s += cm->m[i];
    return s;
}

static int64_t cm_row_sum(const eos_confusion *cm, int t) {
    int64_t s = 0;
    for (int j = 0; j <= cm->n; j++) s += cm->m[(int64_t)t * (cm->n + 1) + j];
    return s;
}

/* Predictions of class c, over the truth rows that are not excluded (all rows when c itself
 * is excluded). */
static int64_t cm_col_sum(const eos_confusion *cm, int c, const bool *excluded) {
    bool all = excluded && excluded[c];
    int64_t s = 0;
    for (int t = 0; t < cm->n; t++)
        if (all || !excluded || !excluded[t]) s += cm->m[(int64_t)t * (cm->n + 1) + c];
    return s;
}

/* a / b where b counts events; when b is 0 the ratio is 0 if `other` (the class exists on the
 * other side) and NaN otherwise. */
static double ratio(int64_t a, int64_t b, int64_t other) {
    if (b > 0) return (double)a / (double)b;
    return other > 0 ? 0.0 : NAN;
}

static eos_class_scores class_scores(const eos_confusion *cm, int c, const bool *excluded) {
    eos_class_scores s;
    const int64_t tp = cm->m[(int64_t)c * (cm->n + 1) + c];
    const int64_t sup = cm_row_sum(cm, c), pred = cm_col_sum(cm, c, excluded);
    s.support = sup;
    s.precision = ratio(tp, pred, sup);
    s.recall = ratio(tp, sup, pred);
    s.f1 = sup + pred > 0 ? 2.0 * (double)tp / (double)(sup + pred) : NAN;
    s.iou = sup + pred > 0 ? (double)tp / (double)(sup + pred - tp) : NAN;
    return s;
}

void eos_confusion_summarize(const eos_confusion *cm, const bool *excluded,
                             eos_class_scores *scores, eos_confusion_summary *sum) {
    if (!cm) return;
    double f1 = 0, iou = 0;
    int n_mean = 0;
    int64_t correct = 0, counted = 0;
    for (int c = 0; c < cm->n; c++) {
        eos_class_scores s = class_scores(cm, c, excluded);
        if (scores) scores[c] = s;
        if (excluded && excluded[c]) continue;
        correct += cm->m[(int64_t)c * (cm->n + 1) + c];
        counted += s.support;
        if (isnan(s.f1)) continue;
        f1 += s.f1;
        iou += s.iou;
        n_mean++;
    }
    if (!sum) return;
    sum->counted = counted;
    sum->accuracy = counted > 0 ? (double)correct / (double)counted : NAN;
    sum->macro_f1 = n_mean > 0 ? f1 / n_mean : NAN;
    sum->miou = n_mean > 0 ? iou / n_mean : NAN;
    sum->mean_dice = sum->macro_f1;
}

/* ------------------------------------------------------------------ multi-label */

eos_multilabel *eos_multilabel_create(int n_labels) {
    if (n_labels < 1 || n_labels > ML_MAX_LABELS) return NULL;
    eos_multilabel *ml = eos_calloc(1, sizeof *ml);
    if (ml) ml->n = n_labels;
    return ml;
}

void eos_multilabel_free(eos_multilabel *ml) {
    if (!ml) return;
    eos_free(ml->score);
    eos_free(ml->truth);
    eos_free(ml);
}

static eos_status ml_reserve(eos_multilabel *ml, int64_t rows) {
    if (rows <= ml->cap) return EOS_OK;
    int64_t cap = ml->cap ? ml->cap : 64;
    while (cap < rows) cap *= 2;
    size_t nv = (size_t)cap * (size_t)ml->n;
    float *s = eos_realloc(ml->score, nv * sizeof *s);
    if (!s) return EOS_NOMEM;
    ml->score = s;
    uint8_t *t = eos_realloc(ml->truth, nv);
    if (!t) return EOS_NOMEM;
    ml->truth = t;
    ml->cap = cap;
    return EOS_OK;
}

eos_status eos_multilabel_add(eos_multilabel *ml, const float *scores, const float *truth, int64_t n) {
    if (!ml || n < 0 || (n > 0 && (!scores || !truth))) return EOS_INVALID_ARG;
    if (n > ML_MAX_VALUES / ml->n - ml->rows) return EOS_LIMIT;
    const int64_t nv = n * ml->n;
    for (int64_t i = 0; i < nv; i++)
        if (!isfinite(scores[i]) || (truth[i] != 0 && truth[i] != 1)) return EOS_INVALID_ARG;
    if (n == 0) return EOS_OK;
    eos_status st = ml_reserve(ml, ml->rows + n);
    if (st != EOS_OK) return st;
    memcpy(ml->score + ml->rows * ml->n, scores, (size_t)nv * sizeof *scores);
    for (int64_t i = 0; i < nv; i++) ml->truth[ml->rows * ml->n + i] = truth[i] != 0;
    ml->rows += n;
    return EOS_OK;
}

int64_t eos_multilabel_rows(const eos_multilabel *ml) { return ml ? ml->rows : 0; }

static inline float ml_thr(const float *thr, int j) { return thr ? thr[j] : 0.5f; }

/* F-beta from counts, NaN when there is nothing at all. */
static double fbeta(int64_t tp, int64_t fp, int64_t fn, double beta) {
    const double b2 = beta * beta, num = (1 + b2) * (double)tp;
    const double den = num + b2 * (double)fn + (double)fp;
    return den > 0 ? num / den : NAN;
}

/* Per-label counts at the thresholds: out[j*3 + 0..2] = tp, fp, fn. */
static void ml_counts(const eos_multilabel *ml, const float *thr, int64_t *out) {
    memset(out, 0, (size_t)ml->n * 3 * sizeof *out);
    for (int64_t i = 0; i < ml->rows; i++) {
        for (int j = 0; j < ml->n; j++) {
            const int64_t k = i * ml->n + j;
            const bool p = ml->score[k] >= ml_thr(thr, j), t = ml->truth[k];
            out[j * 3 + 0] += p && t;
            out[j * 3 + 1] += p && !t;
            out[j * 3 + 2] += !p && t;
        }
    }
}

/* Mean over rows of each row's F2 (0 for a row with neither truth nor prediction). */
static double ml_samples_f2(const eos_multilabel *ml, const float *thr) {
    if (ml->rows == 0) return NAN;
    double s = 0;
    for (int64_t i = 0; i < ml->rows; i++) {
        int64_t tp = 0, fp = 0, fn = 0;
        for (int j = 0; j < ml->n; j++) {
            const int64_t k = i * ml->n + j;
            const bool p = ml->score[k] >= ml_thr(thr, j), t = ml->truth[k];
            tp += p && t;
            fp += p && !t;
            fn += !p && t;
        }
        double f = fbeta(tp, fp, fn, 2.0);
        s += isnan(f) ? 0.0 : f;
    }
    return s / (double)ml->rows;
}

void eos_multilabel_summarize(const eos_multilabel *ml, const float *thresholds,
                              eos_multilabel_summary *sum, double *per_label_f1) {
    if (!ml) return;
    int64_t *cnt = eos_malloc((size_t)ml->n * 3 * sizeof *cnt);
    if (!cnt) {
        if (sum) sum->micro_f1 = sum->macro_f1 = sum->micro_f2 = sum->macro_f2 = NAN;
        if (sum) sum->micro_precision = sum->micro_recall = sum->mean_f2_per_sample = NAN;
        if (per_label_f1) for (int j = 0; j < ml->n; j++) per_label_f1[j] = NAN;
        return;
    }
    ml_counts(ml, thresholds, cnt);
    int64_t tp = 0, fp = 0, fn = 0;
    double f1 = 0, f2 = 0;
    int n_macro = 0;
    for (int j = 0; j < ml->n; j++) {
        const int64_t *c = cnt + j * 3;
        if (per_label_f1) per_label_f1[j] = fbeta(c[0], c[1], c[2], 1.0);
        tp += c[0];
        fp += c[1];
        fn += c[2];
        if (c[0] + c[2] == 0) continue;          /* macro: labels with any positive */
        f1 += fbeta(c[0], c[1], c[2], 1.0);
        f2 += fbeta(c[0], c[1], c[2], 2.0);
        n_macro++;
    }
    eos_free(cnt);
    if (!sum) return;
    sum->micro_f1 = fbeta(tp, fp, fn, 1.0);
    sum->micro_f2 = fbeta(tp, fp, fn, 2.0);
    sum->macro_f1 = n_macro > 0 ? f1 / n_macro : NAN;
    sum->macro_f2 = n_macro > 0 ? f2 / n_macro : NAN;
    sum->micro_precision = ratio(tp, tp + fp, tp + fn);
    sum->micro_recall = ratio(tp, tp + fn, tp + fp);
    sum->mean_f2_per_sample = ml_samples_f2(ml, thresholds);
}

static int cmp_desc(const void *a, const void *b) {
    const float x = *(const float *)a, y = *(const float *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Best threshold for label j among its observed scores; pairs is scratch of 2 * rows floats. */
static float tune_label(const eos_multilabel *ml, int j, double beta, float *pairs) {
    int64_t n_pos = 0;
    for (int64_t i = 0; i < ml->rows; i++) {
        pairs[2 * i] = ml->score[i * ml->n + j];
        pairs[2 * i + 1] = ml->truth[i * ml->n + j];
        n_pos += ml->truth[i * ml->n + j];
    }
    if (n_pos == 0) return 0.5f;
    qsort(pairs, (size_t)ml->rows, 2 * sizeof(float), cmp_desc);
    int64_t tp = 0, fp = 0;
    double best = -1;
    float best_thr = 0.5f;
    for (int64_t i = 0; i < ml->rows; i++) {
        if (pairs[2 * i + 1] != 0) tp++;
        else fp++;
        if (i + 1 < ml->rows && pairs[2 * i + 2] == pairs[2 * i]) continue;   /* tied scores */
        double f = fbeta(tp, fp, n_pos - tp, beta);
        if (f > best) {
            best = f;
            best_thr = pairs[2 * i];
        }
    }
    return best_thr;
}

void eos_multilabel_tune(const eos_multilabel *ml, double beta, float *thresholds) {
    if (!ml || !thresholds) return;
    if (!(beta > 0 && isfinite(beta))) beta = 1.0;
    float *pairs = ml->rows > 0 ? eos_malloc((size_t)ml->rows * 2 * sizeof *pairs) : NULL;
    for (int j = 0; j < ml->n; j++) thresholds[j] = pairs ? tune_label(ml, j, beta, pairs) : 0.5f;
    eos_free(pairs);
}

/* ------------------------------------------------------------------ JSON */

/* ,"key":value with NaN as null; put_fields does n of them. */
static void put_field(eos_strbuf *b, const char *key, double v) {
    eos_strbuf_put(b, ",", 1);
    eos_strbuf_json_str(b, key);
    eos_strbuf_put(b, ":", 1);
    eos_strbuf_json_num(b, v);
}

static void put_fields(eos_strbuf *b, const char *const *keys, const double *vals, int n) {
    for (int k = 0; k < n; k++) put_field(b, keys[k], vals[k]);
}

static void put_name(eos_strbuf *b, const char *const *names, int i) {
    if (names && names[i]) {
        eos_strbuf_json_str(b, names[i]);
    } else {
        eos_strbuf_printf(b, "\"%d\"", i);
    }
}

static void json_class(eos_strbuf *b, const eos_class_scores *s, const char *const *names, int c,
                       bool excl) {
    eos_strbuf_puts(b, "{\"name\":");
    put_name(b, names, c);
    put_field(b, "precision", s->precision);
    put_field(b, "recall", s->recall);
    put_field(b, "f1", s->f1);
    put_field(b, "iou", s->iou);
    eos_strbuf_printf(b, ",\"support\":%lld,\"excluded\":%s}", (long long)s->support,
                      excl ? "true" : "false");
}

eos_status eos_confusion_json(const eos_confusion *cm, const char *const *class_names,
                              const bool *excluded, char **out) {
    if (!out) return EOS_INVALID_ARG;
    *out = NULL;
    if (!cm) return EOS_INVALID_ARG;
    eos_class_scores *sc = eos_malloc((size_t)cm->n * sizeof *sc);
    if (!sc) return EOS_NOMEM;
    eos_confusion_summary sum;
    eos_confusion_summarize(cm, excluded, sc, &sum);
    eos_strbuf b = EOS_STRBUF_INIT;
    eos_strbuf_printf(&b, "{\"n_classes\":%d,\"counted\":%lld", cm->n, (long long)sum.counted);
    const char *const keys[] = { "accuracy", "pixel_accuracy", "macro_f1", "miou", "mean_dice" };
    const double vals[] = { sum.accuracy, sum.accuracy, sum.macro_f1, sum.miou, sum.mean_dice };
    put_fields(&b, keys, vals, 5);
    eos_strbuf_puts(&b, ",\"per_class\":[");
    for (int c = 0; c < cm->n; c++) {
        if (c) eos_strbuf_put(&b, ",", 1);
        json_class(&b, &sc[c], class_names, c, excluded && excluded[c]);
    }
    eos_strbuf_puts(&b, "],\"confusion\":[");
    for (int t = 0; t < cm->n; t++) {
        eos_strbuf_puts(&b, t ? ",[" : "[");
        for (int p = 0; p < cm->n; p++)
            eos_strbuf_printf(&b, p ? ",%lld" : "%lld",
                              (long long)cm->m[(int64_t)t * (cm->n + 1) + p]);
        eos_strbuf_put(&b, "]", 1);
    }
    eos_strbuf_puts(&b, "]}");
    eos_free(sc);
    return eos_strbuf_take(&b, out);
}

/* Per-label positives (support). */
static void ml_support(const eos_multilabel *ml, int64_t *sup) {
    memset(sup, 0, (size_t)ml->n * sizeof *sup);
    for (int64_t i = 0; i < ml->rows * ml->n; i++) sup[i % ml->n] += ml->truth[i];
}

/* Summary, per-label F1 and support in one scratch block: f1 [n] doubles, sup [n] int64. */
static eos_status ml_report_data(const eos_multilabel *ml, const float *thr,
                                 eos_multilabel_summary *sum, double **f1, int64_t **sup) {
    *f1 = eos_malloc((size_t)ml->n * (sizeof **f1 + sizeof **sup));
    if (!*f1) return EOS_NOMEM;
    *sup = (int64_t *)(*f1 + ml->n);
    eos_multilabel_summarize(ml, thr, sum, *f1);
    ml_support(ml, *sup);
    return EOS_OK;
}

eos_status eos_multilabel_json(const eos_multilabel *ml, const float *thr,
                               const char *const *names, char **out) {
    if (!out) return EOS_INVALID_ARG;
    *out = NULL;
    if (!ml) return EOS_INVALID_ARG;
    eos_multilabel_summary s;
    double *f1;
    int64_t *sup;
    if (ml_report_data(ml, thr, &s, &f1, &sup) != EOS_OK) return EOS_NOMEM;
    eos_strbuf b = EOS_STRBUF_INIT;
    eos_strbuf_printf(&b, "{\"n_labels\":%d,\"rows\":%lld", ml->n, (long long)ml->rows);
    const char *const keys[] = { "micro_f1", "macro_f1", "micro_f2", "macro_f2",
                                 "micro_precision", "micro_recall", "samples_f2" };
    const double vals[] = { s.micro_f1, s.macro_f1, s.micro_f2, s.macro_f2, s.micro_precision,
                            s.micro_recall, s.mean_f2_per_sample };
    put_fields(&b, keys, vals, 7);
    eos_strbuf_puts(&b, ",\"thresholds\":[");
    for (int j = 0; j < ml->n; j++) {
        if (j) eos_strbuf_put(&b, ",", 1);
        eos_strbuf_json_num(&b, ml_thr(thr, j));
    }
    eos_strbuf_puts(&b, "],\"per_label\":[");
    for (int j = 0; j < ml->n; j++) {
        eos_strbuf_puts(&b, j ? ",{\"name\":" : "{\"name\":");
        put_name(&b, names, j);
        put_field(&b, "f1", f1[j]);
        put_field(&b, "threshold", ml_thr(thr, j));
        eos_strbuf_printf(&b, ",\"support\":%lld}", (long long)sup[j]);
    }
    eos_strbuf_puts(&b, "]}");
    eos_free(f1);
    return eos_strbuf_take(&b, out);
}

/* ------------------------------------------------------------------ text tables */

/* A figure in a 9-wide column, "-" for NaN. */
static void put_fig(FILE *f, double v) {
    if (isnan(v)) fprintf(f, " %9s", "-");
    else fprintf(f, " %9.4f", v);
}

static const char *name_or_index(const char *const *names, int i, char *buf, size_t n) {
    if (names && names[i]) return names[i];
    snprintf(buf, n, "%d", i);
    return buf;
}

static void table_matrix(const eos_confusion *cm, FILE *f) {
    fprintf(f, "\nconfusion matrix (rows: truth, columns: prediction)\n%6s", "");
    for (int p = 0; p < cm->n; p++) fprintf(f, " %7d", p);
    fputc('\n', f);
    for (int t = 0; t < cm->n; t++) {
        fprintf(f, "%6d", t);
        for (int p = 0; p < cm->n; p++) fprintf(f, " %7lld", (long long)cm->m[(int64_t)t * (cm->n + 1) + p]);
        fputc('\n', f);
    }
}

eos_status eos_confusion_table(const eos_confusion *cm, const char *const *class_names,
                               const bool *excluded, FILE *f) {
    if (!cm || !f) return EOS_INVALID_ARG;
    eos_class_scores *sc = eos_malloc((size_t)cm->n * sizeof *sc);
    if (!sc) return EOS_NOMEM;
    eos_confusion_summary sum;
    eos_confusion_summarize(cm, excluded, sc, &sum);
    fprintf(f, "%4s %-24s %9s %9s %9s %9s %10s\n", "#", "class", "precision", "recall", "f1",
            "iou", "support");
    for (int c = 0; c < cm->n; c++) {
        char buf[16];
        fprintf(f, "%4d %-24.24s", c, name_or_index(class_names, c, buf, sizeof buf));
        put_fig(f, sc[c].precision);
        put_fig(f, sc[c].recall);
        put_fig(f, sc[c].f1);
        put_fig(f, sc[c].iou);
        fprintf(f, " %10lld%s\n", (long long)sc[c].support, excluded && excluded[c] ? "  (excluded)" : "");
    }
    fprintf(f, "\naccuracy %.4f  macro F1 %.4f  mIoU %.4f  mean Dice %.4f  (%lld counted)\n",
            sum.accuracy, sum.macro_f1, sum.miou, sum.mean_dice, (long long)sum.counted);
    if (cm->n <= 64) table_matrix(cm, f);
    eos_free(sc);
    return ferror(f) ? EOS_IO : EOS_OK;
}

eos_status eos_multilabel_table(const eos_multilabel *ml, const float *thr,
                                const char *const *names, FILE *f) {
    if (!ml || !f) return EOS_INVALID_ARG;
    eos_multilabel_summary s;
    double *f1;
    int64_t *sup;
    if (ml_report_data(ml, thr, &s, &f1, &sup) != EOS_OK) return EOS_NOMEM;
    fprintf(f, "%4s %-24s %9s %9s %10s\n", "#", "label", "threshold", "f1", "support");
    for (int j = 0; j < ml->n; j++) {
        char buf[16];
        fprintf(f, "%4d %-24.24s", j, name_or_index(names, j, buf, sizeof buf));
        put_fig(f, ml_thr(thr, j));
        put_fig(f, f1[j]);
        fprintf(f, " %10lld\n", (long long)sup[j]);
    }
    fprintf(f, "\nmicro F1 %.4f  macro F1 %.4f  micro F2 %.4f  macro F2 %.4f\n", s.micro_f1,
            s.macro_f1, s.micro_f2, s.macro_f2);
    fprintf(f, "micro precision %.4f  micro recall %.4f  samples F2 %.4f  (%lld rows)\n",
            s.micro_precision, s.micro_recall, s.mean_f2_per_sample, (long long)ml->rows);
    eos_free(f1);
    return ferror(f) ? EOS_IO : EOS_OK;
}
