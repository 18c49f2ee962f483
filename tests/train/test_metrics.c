/*
 * tests/train/test_metrics.c - metrics.h on hand-made cases: a 4-class confusion matrix with
 * an out-of-range prediction, a class only predicted and a class absent (NaN), with and
 * without an excluded class; multi-label micro/macro/per-sample scores and threshold tuning
 * on a tiny table worked out by hand; the JSON and text renderings.
 */
#include "common/test.h"

#include "eosight/metrics.h"

/* Truth/prediction pairs giving (rows truth, columns prediction)
 *   row 0: 5 1 0 0  + one prediction 7 (out of range)   support 7
 *   row 1: 2 3 1 0                                      support 6
 *   rows 2, 3: nothing
 * plus pairs that must be skipped (truth 255 = ignore, truth 9 out of range). */
static const int32_t CT[] = { 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 255, 9, 255 };
static const int32_t CP[] = { 0, 0, 0, 0, 0, 1, 7, 0, 0, 1, 1, 1, 2, 0, 0, 3 };
#define N_PAIRS ((int64_t)(sizeof CT / sizeof CT[0]))

static eos_confusion *make_cm(void) {
    eos_confusion *cm = eos_confusion_create(4);
    if (cm) eos_confusion_add(cm, CT, CP, N_PAIRS, 255);
    return cm;
}

static void test_confusion_counts(void) {
    EXPECT_TRUE(eos_confusion_create(0) == NULL);
    eos_confusion *cm = make_cm();
    ASSERT_TRUE(cm != NULL);
    EXPECT_EQ_INT(eos_confusion_count(cm, 0, 0), 5);
    EXPECT_EQ_INT(eos_confusion_count(cm, 0, 1), 1);
    EXPECT_EQ_INT(eos_confusion_count(cm, 1, 0), 2);
    EXPECT_EQ_INT(eos_confusion_count(cm, 1, 2), 1);
    EXPECT_EQ_INT(eos_confusion_count(cm, 3, 3), 0);
    EXPECT_EQ_INT(eos_confusion_count(cm, 0, 7), 0);
    EXPECT_EQ_INT(eos_confusion_total(cm), 13);
    /* the byte variant fills the same matrix */
    uint8_t t8[N_PAIRS], p8[N_PAIRS];
    for (int64_t i = 0; i < N_PAIRS; i++) {
        t8[i] = (uint8_t)CT[i];
        p8[i] = (uint8_t)CP[i];
    }
    eos_confusion *cm8 = eos_confusion_create(4);
    ASSERT_TRUE(cm8 != NULL);
    eos_confusion_add_u8(cm8, t8, p8, N_PAIRS, 255);
    for (int t = 0; t < 4; t++)
        for (int p = 0; p < 4; p++) EXPECT_EQ_INT(eos_confusion_count(cm8, t, p), eos_confusion_count(cm, t, p));
    EXPECT_EQ_INT(eos_confusion_total(cm8), 13);
    eos_confusion_reset(cm8);
    EXPECT_EQ_INT(eos_confusion_total(cm8), 0);
    eos_confusion_free(cm8);
    eos_confusion_free(cm);
    eos_confusion_free(NULL);
}

static void test_confusion_scores(void) {
    eos_confusion *cm = make_cm();
    ASSERT_TRUE(cm != NULL);
    eos_class_scores s[4];
    eos_confusion_summary sum;
    eos_confusion_summarize(cm, NULL, s, &sum);
    /* class 0: tp 5, support 7, predicted 7 */
    EXPECT_NEAR(s[0].precision, 5.0 / 7, 1e-15);
    EXPECT_NEAR(s[0].recall, 5.0 / 7, 1e-15);
    EXPECT_NEAR(s[0].f1, 5.0 / 7, 1e-15);
    EXPECT_NEAR(s[0].iou, 5.0 / 9, 1e-15);
    EXPECT_EQ_INT(s[0].support, 7);
    /* class 1: tp 3, support 6, predicted 4 */
    EXPECT_NEAR(s[1].precision, 0.75, 1e-15);
    EXPECT_NEAR(s[1].recall, 0.5, 1e-15);
    EXPECT_NEAR(s[1].f1, 0.6, 1e-15);
    EXPECT_NEAR(s[1].iou, 3.0 / 7, 1e-15);
    /* class 2: predicted once, never true: all 0, not NaN */
    EXPECT_NEAR(s[2].precision, 0, 0);
    EXPECT_NEAR(s[2].recall, 0, 0);
    EXPECT_NEAR(s[2].f1, 0, 0);
    EXPECT_NEAR(s[2].iou, 0, 0);
    /* class 3: neither: NaN, left out of the means */
    EXPECT_TRUE(isnan(s[3].precision) && isnan(s[3].recall) && isnan(s[3].f1) && isnan(s[3].iou));
    EXPECT_EQ_INT(s[3].support, 0);
    EXPECT_NEAR(sum.accuracy, 8.0 / 13, 1e-15);
    EXPECT_EQ_INT(sum.counted, 13);
    EXPECT_NEAR(sum.macro_f1, (5.0 / 7 + 0.6 + 0) / 3, 1e-15);
    EXPECT_NEAR(sum.miou, (5.0 / 9 + 3.0 / 7 + 0) / 3, 1e-15);
    EXPECT_NEAR(sum.mean_dice, sum.macro_f1, 0);
    eos_confusion_free(cm);
}

/* Excluding class 1: its truth rows vanish from accuracy and from the other classes'
 * predictions (class 0 loses the 2 false positives of row 1, class 2 its only prediction and
 * becomes NaN); class 1's own figures stay those of the whole matrix. */
static void test_confusion_excluded(void) {
    eos_confusion *cm = make_cm();
    ASSERT_TRUE(cm != NULL);
    const bool ex[4] = { false, true, false, false };
    eos_class_scores s[4];
    eos_confusion_summary sum;
    eos_confusion_summarize(cm, ex, s, &sum);
    EXPECT_NEAR(s[0].precision, 1.0, 1e-15);
    EXPECT_NEAR(s[0].recall, 5.0 / 7, 1e-15);
    EXPECT_NEAR(s[0].f1, 10.0 / 12, 1e-15);
    EXPECT_NEAR(s[0].iou, 5.0 / 7, 1e-15);
    EXPECT_NEAR(s[1].precision, 0.75, 1e-15);
    EXPECT_NEAR(s[1].iou, 3.0 / 7, 1e-15);
    EXPECT_TRUE(isnan(s[2].f1) && isnan(s[2].iou));
    EXPECT_NEAR(sum.accuracy, 5.0 / 7, 1e-15);
    EXPECT_EQ_INT(sum.counted, 7);
    EXPECT_NEAR(sum.macro_f1, 10.0 / 12, 1e-15);
    EXPECT_NEAR(sum.miou, 5.0 / 7, 1e-15);
    /* everything excluded: NaN figures, nothing counted */
    const bool all[4] = { true, true, true, true };
    eos_confusion_summarize(cm, all, NULL, &sum);
    EXPECT_TRUE(isnan(sum.accuracy) && isnan(sum.macro_f1) && isnan(sum.miou));
    EXPECT_EQ_INT(sum.counted, 0);
    eos_confusion_free(cm);
}

/* Read a whole stream written by a table printer. */
static char *slurp(FILE *f) {
    long n = ftell(f);
    rewind(f);
    char *s = eos_malloc((size_t)n + 1);
    if (!s) return NULL;
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = '\0';
    return s;
}

static void test_confusion_render(void) {
    eos_confusion *cm = make_cm();
    ASSERT_TRUE(cm != NULL);
    const char *names[4] = { "Build\"ing", "line\nbreak", "bad \xff byte", NULL };
    const bool ex[4] = { false, true, false, false };
    char *js = NULL;
    ASSERT_OK(eos_confusion_json(cm, names, ex, &js));
    ASSERT_TRUE(js != NULL);
    EXPECT_TRUE(strstr(js, "\"accuracy\":0.714285714285714") != NULL);
    EXPECT_TRUE(strstr(js, "\"pixel_accuracy\":0.714285714285714") != NULL);
    EXPECT_TRUE(strstr(js, "\"macro_f1\":0.833333333333333") != NULL);
    EXPECT_TRUE(strstr(js, "\"miou\":0.714285714285714") != NULL);
    EXPECT_TRUE(strstr(js, "\"mean_dice\":0.833333333333333") != NULL);
    EXPECT_TRUE(strstr(js, "\"name\":\"Build\\\"ing\"") != NULL);
    EXPECT_TRUE(strstr(js, "\"name\":\"line\\u000abreak\"") != NULL);
    EXPECT_TRUE(strstr(js, "\"name\":\"bad \\ufffd byte\"") != NULL);
    EXPECT_TRUE(strstr(js, "{\"name\":\"3\",\"precision\":null,\"recall\":null,\"f1\":null,"
                           "\"iou\":null,\"support\":0,\"excluded\":false}") != NULL);
    EXPECT_TRUE(strstr(js, "\"support\":6,\"excluded\":true") != NULL);
    EXPECT_TRUE(strstr(js, "\"confusion\":[[5,1,0,0],[2,3,1,0],[0,0,0,0],[0,0,0,0]]}") != NULL);
    eos_free(js);
    EXPECT_STATUS(eos_confusion_json(NULL, NULL, NULL, &js), EOS_INVALID_ARG);
    FILE *f = tmpfile();
    ASSERT_TRUE(f != NULL);
    ASSERT_OK(eos_confusion_table(cm, names, ex, f));
    char *txt = slurp(f);
    fclose(f);
    ASSERT_TRUE(txt != NULL);
    EXPECT_TRUE(strstr(txt, "accuracy 0.7143  macro F1 0.8333  mIoU 0.7143") != NULL);
    EXPECT_TRUE(strstr(txt, "(excluded)") != NULL);
    EXPECT_TRUE(strstr(txt, "     2       3       1       0\n") != NULL);   /* truth row 1 */
    eos_free(txt);
    eos_confusion_free(cm);
}

/* ------------------------------------------------------------------ multi-label */

/* 3 rows x 3 labels at 0.5 (label 2 never true, never predicted):
 *   label 0: predicted 1 1 0, truth 1 0 1 -> tp 1 fp 1 fn 1: F1 0.5, F2 0.5
 *   label 1: predicted 0 1 0, truth 0 1 0 -> tp 1: F1 1, F2 1
 *   micro: tp 2 fp 1 fn 1 -> P = R = F1 = F2 = 2/3; macro (labels 0, 1): 0.75
 *   rows: F2 1, 5/6 (tp 1 fp 1), 0 (tp 0 fn 1) -> samples F2 11/18 */
static const float MS[9] = { 0.9f, 0.2f, 0.1f, 0.6f, 0.7f, 0.3f, 0.1f, 0.4f, 0.2f };
static const float MT[9] = { 1, 0, 0, 0, 1, 0, 1, 0, 0 };

static void test_multilabel_summary(void) {
    EXPECT_TRUE(eos_multilabel_create(0) == NULL);
    eos_multilabel *ml = eos_multilabel_create(3);
    ASSERT_TRUE(ml != NULL);
    ASSERT_OK(eos_multilabel_add(ml, MS, MT, 2));
    ASSERT_OK(eos_multilabel_add(ml, MS + 6, MT + 6, 1));
    EXPECT_EQ_INT(eos_multilabel_rows(ml), 3);
    eos_multilabel_summary s;
    double f1[3];
    eos_multilabel_summarize(ml, NULL, &s, f1);
    EXPECT_NEAR(f1[0], 0.5, 1e-15);
    EXPECT_NEAR(f1[1], 1.0, 1e-15);
    EXPECT_TRUE(isnan(f1[2]));
    EXPECT_NEAR(s.micro_f1, 2.0 / 3, 1e-15);
    EXPECT_NEAR(s.micro_f2, 2.0 / 3, 1e-15);
    EXPECT_NEAR(s.micro_precision, 2.0 / 3, 1e-15);
    EXPECT_NEAR(s.micro_recall, 2.0 / 3, 1e-15);
    EXPECT_NEAR(s.macro_f1, 0.75, 1e-15);
    EXPECT_NEAR(s.macro_f2, 0.75, 1e-15);
    EXPECT_NEAR(s.mean_f2_per_sample, 11.0 / 18, 1e-15);
    /* thresholds 0.05 for label 0 (all predicted: tp 2 fp 1), 0.75 for label 1 (none: fn 1) */
    const float thr[3] = { 0.05f, 0.75f, 0.5f };
    eos_multilabel_summarize(ml, thr, &s, f1);
    EXPECT_NEAR(f1[0], 0.8, 1e-15);
    EXPECT_NEAR(f1[1], 0.0, 0);
    EXPECT_NEAR(s.micro_f2, 10.0 / (10 + 4 + 1), 1e-15);
    EXPECT_NEAR(s.macro_f2, (10.0 / 11 + 0) / 2, 1e-15);
    /* bad input adds nothing */
    const float bad_t[3] = { 1, 0.5f, 0 }, bad_s[3] = { NAN, 0, 0 };
    EXPECT_STATUS(eos_multilabel_add(ml, MS, bad_t, 1), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_multilabel_add(ml, bad_s, MT, 1), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_multilabel_add(ml, NULL, MT, 1), EOS_INVALID_ARG);
    EXPECT_EQ_INT(eos_multilabel_rows(ml), 3);
    eos_multilabel_free(ml);
}

/* Threshold tuning on 6 rows x 3 labels.
 *   label 0: scores .9 .8 .7 .6 .3 .2, truth 1 1 0 0 1 0. Predicting score >= t:
 *     t .9: tp1 fp0 fn2 F1 .5   F2 .385      t .6: tp2 fp2 fn1 F1 .571 F2 .625
 *     t .8: tp2 fp0 fn1 F1 .8   F2 .714      t .3: tp3 fp2 fn0 F1 .75  F2 .882
 *     t .7: tp2 fp1 fn1 F1 .667 F2 .667      t .2: tp3 fp3 fn0 F1 .667 F2 .833
 *     -> F1 picks 0.8, F2 picks 0.3
 *   label 1: no positives -> 0.5
 *   label 2: scores .5 .5 .1 .1 .1 .1, truth 1 0 0 0 0 0: tied scores are one threshold;
 *     t .5: F1 2/3, t .1: F1 2/7 -> 0.5 */
static void test_multilabel_tune(void) {
    const float s[18] = { 0.9f, 0.1f, 0.5f, 0.8f, 0.2f, 0.5f, 0.7f, 0.3f, 0.1f,
                          0.6f, 0.4f, 0.1f, 0.3f, 0.5f, 0.1f, 0.2f, 0.6f, 0.1f };
    const float t[18] = { 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0 };
    eos_multilabel *ml = eos_multilabel_create(3);
    ASSERT_TRUE(ml != NULL);
    ASSERT_OK(eos_multilabel_add(ml, s, t, 6));
    float thr[3];
    eos_multilabel_tune(ml, 1.0, thr);
    EXPECT_NEAR(thr[0], 0.8f, 0);
    EXPECT_NEAR(thr[1], 0.5f, 0);
    EXPECT_NEAR(thr[2], 0.5f, 0);
    eos_multilabel_tune(ml, 2.0, thr);
    EXPECT_NEAR(thr[0], 0.3f, 0);
    EXPECT_NEAR(thr[1], 0.5f, 0);
    /* the tuned thresholds give the best F1 found above */
    eos_multilabel_tune(ml, 1.0, thr);
    double f1[3];
    eos_multilabel_summary sum;
    eos_multilabel_summarize(ml, thr, &sum, f1);
    EXPECT_NEAR(f1[0], 0.8, 1e-15);
    EXPECT_NEAR(f1[2], 2.0 / 3, 1e-15);
    eos_multilabel_free(ml);
    /* empty accumulator: 0.5 everywhere */
    ml = eos_multilabel_create(2);
    ASSERT_TRUE(ml != NULL);
    thr[0] = thr[1] = 0;
    eos_multilabel_tune(ml, 1.0, thr);
    EXPECT_NEAR(thr[0], 0.5f, 0);
    EXPECT_NEAR(thr[1], 0.5f, 0);
    eos_multilabel_free(ml);
}

/* Many rows through the growing buffer: the counts stay exact. */
static void test_multilabel_many_rows(void) {
    eos_multilabel *ml = eos_multilabel_create(2);
    ASSERT_TRUE(ml != NULL);
    const float s[4] = { 0.9f, 0.1f, 0.2f, 0.8f }, t[4] = { 1, 0, 0, 0 };
    for (int k = 0; k < 500; k++) ASSERT_OK(eos_multilabel_add(ml, s, t, 2));
    EXPECT_EQ_INT(eos_multilabel_rows(ml), 1000);
    eos_multilabel_summary sum;
    eos_multilabel_summarize(ml, NULL, &sum, NULL);
    EXPECT_NEAR(sum.micro_precision, 0.5, 1e-15);   /* 500 tp, 500 fp (label 1) */
    EXPECT_NEAR(sum.micro_recall, 1.0, 1e-15);
    EXPECT_NEAR(sum.macro_f1, 1.0, 1e-15);          /* label 1 has no positives */
    eos_multilabel_free(ml);
}

static void test_multilabel_render(void) {
    eos_multilabel *ml = eos_multilabel_create(3);
    ASSERT_TRUE(ml != NULL);
    ASSERT_OK(eos_multilabel_add(ml, MS, MT, 3));
    const char *names[3] = { "clouds", "water \"deep\"", NULL };
    char *js = NULL;
    ASSERT_OK(eos_multilabel_json(ml, NULL, names, &js));
    ASSERT_TRUE(js != NULL);
    EXPECT_TRUE(strstr(js, "\"micro_f1\":0.6666666666666666") != NULL);
    EXPECT_TRUE(strstr(js, "\"macro_f1\":0.75,") != NULL);
    EXPECT_TRUE(strstr(js, "\"macro_f2\":0.75,") != NULL);
    EXPECT_TRUE(strstr(js, "\"micro_precision\":0.6666666666666666") != NULL);
    EXPECT_TRUE(strstr(js, "\"samples_f2\":0.611111111111111") != NULL);
    EXPECT_TRUE(strstr(js, "\"thresholds\":[0.5,0.5,0.5]") != NULL);
    EXPECT_TRUE(strstr(js, "{\"name\":\"clouds\",\"f1\":0.5,\"threshold\":0.5,\"support\":2}") != NULL);
    EXPECT_TRUE(strstr(js, "\"name\":\"water \\\"deep\\\"\",\"f1\":1,") != NULL);
    EXPECT_TRUE(strstr(js, "{\"name\":\"2\",\"f1\":null,\"threshold\":0.5,\"support\":0}]}") != NULL);
    eos_free(js);
    FILE *f = tmpfile();
    ASSERT_TRUE(f != NULL);
    ASSERT_OK(eos_multilabel_table(ml, NULL, names, f));
    char *txt = slurp(f);
    fclose(f);
    ASSERT_TRUE(txt != NULL);
    EXPECT_TRUE(strstr(txt, "micro F1 0.6667  macro F1 0.7500") != NULL);
    EXPECT_TRUE(strstr(txt, "samples F2 0.6111") != NULL);
    eos_free(txt);
    EXPECT_STATUS(eos_multilabel_json(ml, NULL, NULL, NULL), EOS_INVALID_ARG);
    eos_multilabel_free(ml);
}

TEST_MAIN(TEST(test_confusion_counts), TEST(test_confusion_scores), TEST(test_confusion_excluded),
          TEST(test_confusion_render), TEST(test_multilabel_summary), TEST(test_multilabel_tune),
          TEST(test_multilabel_many_rows), TEST(test_multilabel_render))
