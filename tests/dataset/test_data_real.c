/*
 * tests/dataset/test_data_real.c - datasets on the real layouts of ../shared/data (skipped when
 * EOS_SHARED is absent): eurosat-rgb splits and classes, ucmerced classes and its 17 tags,
 * seg-dubai colour and palette masks (tile8_part003 is ~17 % black = ignore), and a short loader
 * run with decode throughput printed (the full numbers are in the task report).
 */
#include "common/test.h"

#include <time.h>

static eos_dataset *open_shared(const char *sub, eos_task task, const char *split) {
    const char *shared = test_shared_dir();
    if (!shared) return NULL;
    char root[512];
    snprintf(root, sizeof root, "%s/data/%s", shared, sub);
    eos_dataset_params p;
    memset(&p, 0, sizeof p);
    p.task = task;
    p.split = split;
    eos_ctx *ctx;
    eos_ctx_create(NULL, &ctx);
    eos_dataset *ds = NULL;
    if (eos_dataset_open(ctx, root, &p, &ds) != EOS_OK)
        TEST_FAIL_("open %s: %s", root, eos_ctx_errmsg(ctx));
    eos_ctx_free(ctx);
    return ds;
}

static bool have(const char *sub) {
    const char *shared = test_shared_dir();
    char path[512];
    snprintf(path, sizeof path, "%s/data/%s/README.md", shared ? shared : "/nonexistent", sub);
    FILE *f = fopen(path, "r");
    if (f) fclose(f);
    return f != NULL;
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void test_eurosat(void) {
    if (!have("eurosat-rgb")) TEST_SKIP("needs ../shared/data/eurosat-rgb: not present");
    eos_dataset *ds = open_shared("eurosat-rgb", EOS_TASK_CLASSIFY, "train");
    ASSERT_TRUE(ds != NULL);
    EXPECT_EQ_INT(eos_dataset_size(ds), 21600);   /* wc -l splits/train.txt */
    EXPECT_EQ_INT(eos_dataset_n_classes(ds), 10);
    EXPECT_STR_EQ(eos_dataset_class_name(ds, 0), "AnnualCrop");
    EXPECT_STR_EQ(eos_dataset_class_name(ds, 9), "SeaLake");
    EXPECT_STR_EQ(eos_dataset_item_name(ds, 0), "AnnualCrop/AnnualCrop_1.jpg");
    EXPECT_EQ_INT(eos_dataset_label(ds, 21599), 9);
    EXPECT_EQ_INT(eos_dataset_n_bands(ds), 3);
    int per_class[10] = { 0 };
    for (int64_t i = 0; i < eos_dataset_size(ds); i++) per_class[eos_dataset_label(ds, i)]++;
    EXPECT_EQ_INT(per_class[0], 2400);
    EXPECT_EQ_INT(per_class[5], 1600);
    /* a short loader run: 2 threads, default augmentation, decode rate printed */
    eos_augment a;
    eos_augment_default(&a, EOS_TASK_CLASSIFY, 3);
    eos_loader_params p;
    memset(&p, 0, sizeof p);
    p.batch = 32;
    p.shuffle = true;
    p.n_threads = 2;
    p.augment = &a;
    eos_loader *l;
    ASSERT_OK(eos_loader_create(NULL, ds, &p, &l));
    ASSERT_OK(eos_loader_start_epoch(l, 0));
    double t0 = now_s();
    int n = 0;
    eos_batch b;
    while (n < 1024 && eos_loader_next(l, &b) == EOS_OK && b.n > 0) {
        EXPECT_TRUE(b.c == 3 && b.h == 64 && b.w == 64);
        n += b.n;
    }
    printf("  eurosat: %d images through the loader at %.0f images/s\n", n, n / (now_s() - t0));
    EXPECT_EQ_INT(n, 1024);
    eos_loader_free(l);
    eos_dataset_free(ds);
    ds = open_shared("eurosat-rgb", EOS_TASK_CLASSIFY, "test");
    EXPECT_TRUE(ds && eos_dataset_size(ds) == 2700);
    eos_dataset_free(ds);
}

static void test_ucmerced(void) {
    if (!have("ucmerced")) TEST_SKIP("needs ../shared/data/ucmerced: not present");
    eos_dataset *ds = open_shared("ucmerced", EOS_TASK_TAG, NULL);
    ASSERT_TRUE(ds != NULL);
    EXPECT_EQ_INT(eos_dataset_size(ds), 1680);
    EXPECT_EQ_INT(eos_dataset_n_classes(ds), 17);
    EXPECT_STR_EQ(eos_dataset_class_name(ds, 0), "airplane");
    EXPECT_STR_EQ(eos_dataset_class_name(ds, 16), "water");
    EXPECT_STR_EQ(eos_dataset_item_name(ds, 0), "agricultural/agricultural02.jpg");
    const uint8_t *t = eos_dataset_tags(ds, 0);   /* agricultural02: field */
    ASSERT_TRUE(t != NULL);
    for (int k = 0; k < 17; k++) EXPECT_EQ_INT(t[k], k == 7);
    eos_dataset_free(ds);
    ds = open_shared("ucmerced", EOS_TASK_TAG, "val");
    EXPECT_TRUE(ds && eos_dataset_size(ds) == 336);
    eos_dataset_free(ds);
    ds = open_shared("ucmerced", EOS_TASK_CLASSIFY, "train");
    ASSERT_TRUE(ds != NULL);
    EXPECT_EQ_INT(eos_dataset_size(ds), 1344);
    EXPECT_EQ_INT(eos_dataset_n_classes(ds), 21);
    eos_sample s;
    char msg[256];
    EXPECT_OK(eos_dataset_load(ds, 0, &s, msg, sizeof msg));
    EXPECT_TRUE(s.c == 3 && s.h == 256 && s.w == 256);
    eos_sample_free(&s);
    eos_dataset_free(ds);
}

static void test_seg_dubai(void) {
    if (!have("seg-dubai")) TEST_SKIP("needs ../shared/data/seg-dubai: not present");
    eos_dataset *ds = open_shared("seg-dubai", EOS_TASK_SEGMENT, "test");
    ASSERT_TRUE(ds != NULL);
    EXPECT_EQ_INT(eos_dataset_size(ds), 9);
    EXPECT_EQ_INT(eos_dataset_n_classes(ds), 6);
    EXPECT_STR_EQ(eos_dataset_class_name(ds, 4), "Water");
    EXPECT_STR_EQ(eos_dataset_item_name(ds, 2), "tile8_part003.jpg");
    eos_sample s;
    char msg[256];
    ASSERT_OK(eos_dataset_load(ds, 2, &s, msg, sizeof msg));
    int64_t n = (int64_t)s.w * s.h, ign = 0, hist[6] = { 0 };
    for (int64_t i = 0; i < n; i++) {
        if (s.mask[i] == EOS_IGNORE_INDEX) ign++;
        else if (s.mask[i] < 6) hist[s.mask[i]]++;
        else TEST_FAIL_("mask value %d", s.mask[i]);
    }
    printf("  tile8_part003: %d x %d, %.1f %% ignore\n", s.w, s.h, 100.0 * ign / n);
    EXPECT_NEAR((double)ign / n, 0.17, 0.03);
    eos_sample_free(&s);
    eos_dataset_free(ds);
    /* every mask (RGB and palette ones) decodes to known classes: under 2 % ignore over all */
    ds = open_shared("seg-dubai", EOS_TASK_SEGMENT, "train");
    ASSERT_TRUE(ds != NULL);
    EXPECT_EQ_INT(eos_dataset_size(ds), 54);
    int64_t tot = 0, ig = 0;
    for (int64_t i = 0; i < eos_dataset_size(ds); i += 3) {
        if (eos_dataset_load(ds, i, &s, msg, sizeof msg) != EOS_OK) {
            TEST_FAIL_("%s", msg);
            continue;
        }
        for (int64_t k = 0; k < (int64_t)s.w * s.h; k++) ig += s.mask[k] == EOS_IGNORE_INDEX;
        tot += (int64_t)s.w * s.h;
        eos_sample_free(&s);
    }
    EXPECT_TRUE(tot > 0 && (double)ig / tot < 0.02);
    eos_dataset_free(ds);
}

TEST_MAIN(TEST(test_eurosat), TEST(test_ucmerced), TEST(test_seg_dubai))
