/*
 * tests/dataset/test_loader.c - the batch loader (src/data/loader.c) on synthetic datasets whose
 * pixels encode the item (or their own coordinates): every item once per epoch, identical
 * batches whatever the thread count, normalisation, resize and crop against hand-computed
 * values, the segmentation patch sampler's target share and patch/mask alignment, errors, and
 * memory bounded by n_ahead.
 */
#include "dataset/fixture.h"

#include "data/data_internal.h"

enum { N_ITEMS = 50, SZ = 8 };

static char g_dir[256];

/* Item i: images/c<i%2>/<i>.png, 8x8x3, band b pixel (x, y) = (i + 40 * b + x + y) % 256. */
static int pixel(int i, int b, int x, int y) { return (i + 40 * b + x + y) % 256; }

static void make_classify(int n) {
    uint8_t img[3 * SZ * SZ];
    for (int i = 0; i < n; i++) {
        for (int b = 0; b < 3; b++)
            for (int y = 0; y < SZ; y++)
                for (int x = 0; x < SZ; x++)
                    img[(b * SZ + y) * SZ + x] = (uint8_t)pixel(i, b, x, y);
        char rel[64];
        snprintf(rel, sizeof rel, "images/c%d/%03d.png", i % 2, i);
        fx_image(g_dir, rel, "PNG", SZ, SZ, 3, GDT_Byte, img, NULL, 0);
    }
}

static eos_dataset *open_ds(eos_task task, int64_t cache_mb) {
    eos_dataset_params p;
    memset(&p, 0, sizeof p);
    p.task = task;
    p.cache_mb = cache_mb;
    eos_dataset *ds = NULL;
    eos_ctx *ctx;
    eos_ctx_create(NULL, &ctx);
    if (eos_dataset_open(ctx, g_dir, &p, &ds) != EOS_OK)
        TEST_FAIL_("open %s: %s", g_dir, eos_ctx_errmsg(ctx));
    eos_ctx_free(ctx);
    return ds;
}

static eos_loader_params lparams(int batch, int threads) {
    eos_loader_params p;
    memset(&p, 0, sizeof p);
    p.batch = batch;
    p.n_threads = threads;
    p.seed = 1234;
    p.target_share = -1;
    return p;
}

/* Item number of dataset row `index` (names are "c?/NNN.png"). */
static int item_no(const eos_dataset *ds, int64_t index) {
    return atoi(eos_dataset_item_name(ds, index) + 3);
}

static void test_epoch_covers_every_item(void) {
    test_tmpdir_create(g_dir, sizeof g_dir, "ld_cover");
    make_classify(N_ITEMS);
    eos_dataset *ds = open_ds(EOS_TASK_CLASSIFY, 0);
    ASSERT_TRUE(ds != NULL);
    eos_loader_params p = lparams(7, 2);
    p.shuffle = true;
    eos_loader *l;
    ASSERT_OK(eos_loader_create(NULL, ds, &p, &l));
    EXPECT_EQ_INT(eos_loader_n_batches(l), 8);
    int64_t first[2][N_ITEMS];
    for (int epoch = 0; epoch < 2; epoch++) {
        int count[N_ITEMS] = { 0 }, pos = 0;
        ASSERT_OK(eos_loader_start_epoch(l, epoch));
        eos_batch b;
        for (;;) {
            ASSERT_OK(eos_loader_next(l, &b));
            if (b.n == 0) break;
            EXPECT_TRUE(b.c == 3 && b.h == SZ && b.w == SZ && b.y && !b.tags && !b.mask);
            for (int r = 0; r < b.n; r++) {
                int64_t idx = b.index[r];
                ASSERT_TRUE(idx >= 0 && idx < N_ITEMS);
                count[idx]++;
                first[epoch][pos++] = idx;
                EXPECT_EQ_INT(b.y[r], eos_dataset_label(ds, idx));
                int it = item_no(ds, idx);
                const float *x = b.x + (size_t)r * 3 * SZ * SZ;
                EXPECT_NEAR(x[0], pixel(it, 0, 0, 0), 0);
                EXPECT_NEAR(x[2 * SZ * SZ + 3 * SZ + 5], pixel(it, 2, 5, 3), 0);
            }
        }
        EXPECT_EQ_INT(pos, N_ITEMS);
        for (int i = 0; i < N_ITEMS; i++) EXPECT_EQ_INT(count[i], 1);
        ASSERT_OK(eos_loader_next(l, &b));   /* stays at the end */
        EXPECT_EQ_INT(b.n, 0);
    }
    EXPECT_TRUE(memcmp(first[0], first[1], sizeof first[0]) != 0);
    eos_loader_free(l);
    /* drop_last: 7 full batches, 49 distinct items; no shuffle: dataset order */
    p.drop_last = true;
    p.shuffle = false;
    ASSERT_OK(eos_loader_create(NULL, ds, &p, &l));
    EXPECT_EQ_INT(eos_loader_n_batches(l), 7);
    ASSERT_OK(eos_loader_start_epoch(l, 3));
    int seen = 0;
    eos_batch b;
    while (eos_loader_next(l, &b) == EOS_OK && b.n > 0) {
        EXPECT_EQ_INT(b.n, 7);
        for (int r = 0; r < b.n; r++) EXPECT_EQ_INT(b.index[r], seen++);
    }
    EXPECT_EQ_INT(seen, 49);
    /* a new epoch in the middle of one starts cleanly */
    ASSERT_OK(eos_loader_start_epoch(l, 4));
    ASSERT_OK(eos_loader_next(l, &b));
    ASSERT_OK(eos_loader_start_epoch(l, 5));
    ASSERT_OK(eos_loader_next(l, &b));
    EXPECT_EQ_INT(b.index[0], 0);
    eos_loader_free(l);
    eos_dataset_free(ds);
    test_tmpdir_remove(g_dir);
}

/* All batches of two epochs, concatenated. */
static float *run_epochs(const eos_dataset *ds, const eos_loader_params *p, size_t *n_floats) {
    eos_loader *l;
    if (eos_loader_create(NULL, ds, p, &l) != EOS_OK) return NULL;
    size_t cap = 1 << 16, n = 0;
    float *all = malloc(cap * sizeof *all);
    for (int epoch = 0; epoch < 2; epoch++) {
        eos_loader_start_epoch(l, epoch);
        eos_batch b;
        while (eos_loader_next(l, &b) == EOS_OK && b.n > 0) {
            size_t k = (size_t)b.n * (size_t)(b.c * b.h * b.w);
            size_t extra = (size_t)b.n * (2 + (b.mask ? (size_t)(b.h * b.w) : 0));
            while (n + k + extra > cap) all = realloc(all, (cap *= 2) * sizeof *all);
            memcpy(all + n, b.x, k * sizeof *all);
            n += k;
            for (int r = 0; r < b.n; r++) {
                all[n++] = (float)b.index[r];
                all[n++] = b.y ? (float)b.y[r] : 0;
                for (int i = 0; b.mask && i < b.h * b.w; i++)
                    all[n++] = b.mask[(size_t)r * b.h * b.w + i];
            }
        }
    }
    eos_loader_free(l);
    *n_floats = n;
    return all;
}

static void test_threads_deterministic(void) {
    test_tmpdir_create(g_dir, sizeof g_dir, "ld_det");
    make_classify(24);
    eos_dataset *ds = open_ds(EOS_TASK_CLASSIFY, 0), *cached = open_ds(EOS_TASK_CLASSIFY, 16);
    ASSERT_TRUE(ds && cached);
    eos_augment a;
    eos_augment_default(&a, EOS_TASK_CLASSIFY, 3);
    a.p_rotate = a.p_noise = 0.5f;
    a.max_rotate_deg = 30;
    a.noise_std = 0.01f;
    eos_loader_params p = lparams(5, 1);
    p.shuffle = true;
    p.augment = &a;
    p.out_h = p.out_w = 6;
    p.fit = EOS_FIT_CROP;
    size_t n1, n3, nc, n4;
    float *x1 = run_epochs(ds, &p, &n1);
    p.n_threads = 3;
    p.n_ahead = 1;
    float *x3 = run_epochs(ds, &p, &n3);
    float *xc = run_epochs(cached, &p, &nc);
    p.seed = 99;
    float *x4 = run_epochs(ds, &p, &n4);
    ASSERT_TRUE(x1 && x3 && xc && x4);
    EXPECT_EQ_INT(n1, n3);
    EXPECT_TRUE(n1 == n3 && !memcmp(x1, x3, n1 * sizeof *x1));
    EXPECT_TRUE(n1 == nc && !memcmp(x1, xc, n1 * sizeof *x1));
    EXPECT_TRUE(n1 == n4 && memcmp(x1, x4, n1 * sizeof *x1) != 0);
    free(x1);
    free(x3);
    free(xc);
    free(x4);
    eos_dataset_free(ds);
    eos_dataset_free(cached);
    test_tmpdir_remove(g_dir);
}

static void test_norm_and_fit(void) {
    test_tmpdir_create(g_dir, sizeof g_dir, "ld_fit");
    make_classify(2);
    eos_dataset *ds = open_ds(EOS_TASK_CLASSIFY, 0);
    ASSERT_TRUE(ds != NULL);
    eos_norm norm;
    eos_norm_identity(&norm, 3);
    for (int b = 0; b < 3; b++) {
        norm.scale[b] = 1.0 / 255.0;
        norm.mean[b] = 0.1 * (b + 1);
        norm.std[b] = 0.2;
    }
    eos_loader_params p = lparams(2, 1);
    p.norm = &norm;
    eos_loader *l;
    ASSERT_OK(eos_loader_create(NULL, ds, &p, &l));
    ASSERT_OK(eos_loader_start_epoch(l, 0));
    eos_batch b;
    ASSERT_OK(eos_loader_next(l, &b));
    ASSERT_EQ_INT(b.n, 2);
    for (int r = 0; r < 2; r++)
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < SZ * SZ; i++) {
                double v = pixel(item_no(ds, b.index[r]), c, i % SZ, i / SZ);
                EXPECT_NEAR(b.x[(size_t)(r * 3 + c) * SZ * SZ + i],
                            (v / 255.0 - 0.1 * (c + 1)) / 0.2, 1e-5);
            }
    eos_loader_free(l);
    /* resize 8 -> 4: 2x2 means; centre crop 8 -> 4: offset 2; crop 8 -> 10: mirror (offset -1) */
    p.norm = NULL;
    p.out_h = p.out_w = 4;
    for (int mode = 0; mode < 3; mode++) {
        p.fit = mode == 0 ? EOS_FIT_RESIZE : EOS_FIT_CROP;
        p.out_h = p.out_w = mode == 2 ? 10 : 4;
        ASSERT_OK(eos_loader_create(NULL, ds, &p, &l));
        ASSERT_OK(eos_loader_start_epoch(l, 0));
        ASSERT_OK(eos_loader_next(l, &b));
        int it = item_no(ds, b.index[0]), o = p.out_w;
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < o; y++)
                for (int x = 0; x < o; x++) {
                    double want;
                    if (mode == 0)
                        want =
                            (pixel(it, c, 2 * x, 2 * y) + pixel(it, c, 2 * x + 1, 2 * y) +
                             pixel(it, c, 2 * x, 2 * y + 1) + pixel(it, c, 2 * x + 1, 2 * y + 1)) /
                            4.0;
                    else if (mode == 1)
                        want = pixel(it, c, x + 2, y + 2);
                    else
                        want = pixel(it, c, eos__reflect(x - 1, SZ), eos__reflect(y - 1, SZ));
                    EXPECT_NEAR(b.x[(size_t)(c * o + y) * o + x], want, 1e-4);
                }
        eos_loader_free(l);
    }
    eos_dataset_free(ds);
    /* own size with images of different sizes: EOS_SHAPE naming the file */
    fx_flat_u8(g_dir, "images/c1/big.png", "PNG", 9, 8, 3, 1);
    ds = open_ds(EOS_TASK_CLASSIFY, 0);
    ASSERT_TRUE(ds != NULL);
    p = lparams(4, 2);
    ASSERT_OK(eos_loader_create(NULL, ds, &p, &l));
    ASSERT_OK(eos_loader_start_epoch(l, 0));
    EXPECT_STATUS(eos_loader_next(l, &b), EOS_SHAPE);
    EXPECT_TRUE(strstr(eos_loader_errmsg(l), "big.png: 9 x 8") != NULL);
    eos_loader_free(l);
    eos_dataset_free(ds);
    test_tmpdir_remove(g_dir);
}

/* One 256x256 image: band 0 = x, band 1 = y; mask 0 except an 8x8 square of class 1 at
 * (200..207, 40..47); a second, 64x64 image without the class. */
static void make_segment(void) {
    fx_write(g_dir, "classes.txt", "ground\nhut\n");
    enum { S = 256 };
    uint8_t *img = malloc(2 * S * S), *m = malloc(S * S);
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            img[y * S + x] = (uint8_t)x;
            img[S * S + y * S + x] = (uint8_t)y;
            m[y * S + x] = x >= 200 && x < 208 && y >= 40 && y < 48;
        }
    fx_image(g_dir, "images/big.tif", "GTiff", S, S, 2, GDT_Byte, img, NULL, 0);
    fx_image(g_dir, "masks/big.png", "PNG", S, S, 1, GDT_Byte, m, NULL, 0);
    memset(m, 0, 64 * 64);
    fx_image(g_dir, "images/small.tif", "GTiff", 64, 64, 2, GDT_Byte, img, NULL, 0);
    fx_image(g_dir, "masks/small.png", "PNG", 64, 64, 1, GDT_Byte, m, NULL, 0);
    free(img);
    free(m);
}

/* Share of patches holding class 1, checking each patch's mask against its coordinates. */
static double patch_share(const eos_dataset *ds, const eos_loader_params *p) {
    eos_loader *l;
    if (eos_loader_create(NULL, ds, p, &l) != EOS_OK) return -1;
    eos_loader_start_epoch(l, 0);
    int64_t hits = 0, n = 0, misaligned = 0;
    eos_batch b;
    while (eos_loader_next(l, &b) == EOS_OK && b.n > 0) {
        size_t px = (size_t)b.h * (size_t)b.w;
        for (int r = 0; r < b.n; r++) {
            const float *x = b.x + (size_t)r * 2 * px;
            const uint8_t *m = b.mask + (size_t)r * px;
            bool big = b.index[r] == 0, any = false;
            for (size_t i = 0; i < px; i++) {
                int gx = (int)x[i], gy = (int)x[px + i];
                int want = big && gx >= 200 && gx < 208 && gy >= 40 && gy < 48;
                misaligned += m[i] != want;
                any = any || m[i] == 1;
            }
            hits += any;
            n++;
        }
    }
    eos_loader_free(l);
    if (misaligned) TEST_FAIL_("%lld patch pixels misaligned", (long long)misaligned);
    return n == p->patches_per_epoch ? (double)hits / (double)n : -2;
}

static void test_patch_sampler(void) {
    test_tmpdir_create(g_dir, sizeof g_dir, "ld_patch");
    make_segment();
    eos_dataset *ds = open_ds(EOS_TASK_SEGMENT, 8);
    ASSERT_TRUE(ds != NULL);
    eos_loader_params p = lparams(50, 2);
    p.out_h = p.out_w = 32;
    p.patches_per_epoch = 2000;
    EXPECT_EQ_INT(eos_dataset_size(ds), 2);
    double s_default = patch_share(ds, &p);   /* target_share -1: 0.5, targets: all but class 0 */
    p.target_share = 0.5f;
    int hut = 1;
    p.target_classes = &hut;
    p.n_target_classes = 1;
    double s_half = patch_share(ds, &p);
    p.target_share = 0;
    double s_none = patch_share(ds, &p);
    p.target_share = 1;
    double s_all = patch_share(ds, &p);
    printf("  patch share: default %.3f, 0.5 %.3f, 0 %.3f, 1 %.3f\n", s_default, s_half, s_none,
           s_all);
    EXPECT_NEAR(s_default, 0.5, 0.1);
    EXPECT_NEAR(s_half, 0.5, 0.1);
    EXPECT_TRUE(s_none >= 0 && s_none < 0.1);
    /* every target patch from the big image finds the square; the small image has none */
    EXPECT_TRUE(s_all > 0.85);
    /* one patch per image, deterministic across thread counts */
    p.patches_per_epoch = 0;
    p.n_threads = 1;
    size_t n1, n3;
    float *a1 = run_epochs(ds, &p, &n1);
    p.n_threads = 3;
    float *a3 = run_epochs(ds, &p, &n3);
    EXPECT_TRUE(a1 && a3 && n1 == n3 && n1 == 2 * 2 * (2 * 32 * 32 + 2 + 32 * 32));
    EXPECT_TRUE(a1 && a3 && !memcmp(a1, a3, n1 * sizeof *a1));
    free(a1);
    free(a3);
    eos_dataset_free(ds);
    test_tmpdir_remove(g_dir);
}

static void test_errors(void) {
    test_tmpdir_create(g_dir, sizeof g_dir, "ld_err");
    make_classify(4);
    eos_dataset *ds = open_ds(EOS_TASK_CLASSIFY, 0);
    ASSERT_TRUE(ds != NULL);
    eos_ctx *ctx;
    eos_ctx_create(NULL, &ctx);
    eos_loader *l = NULL;
    eos_loader_params p = lparams(0, 1);
    EXPECT_STATUS(eos_loader_create(ctx, ds, &p, &l), EOS_INVALID_ARG);
    EXPECT_TRUE(strstr(eos_ctx_errmsg(ctx), "batch") != NULL);
    p = lparams(2, 1);
    p.out_h = 4;
    EXPECT_STATUS(eos_loader_create(ctx, ds, &p, &l), EOS_INVALID_ARG);
    p = lparams(2, -1);
    EXPECT_STATUS(eos_loader_create(ctx, ds, &p, &l), EOS_INVALID_ARG);
    eos_norm n;
    eos_norm_identity(&n, 4);
    p = lparams(2, 1);
    p.norm = &n;
    EXPECT_STATUS(eos_loader_create(ctx, ds, &p, &l), EOS_INVALID_ARG);
    EXPECT_TRUE(strstr(eos_ctx_errmsg(ctx), "normalisation for 4 bands") != NULL);
    eos_norm_identity(&n, 3);
    n.std[1] = 0;
    EXPECT_STATUS(eos_loader_create(ctx, ds, &p, &l), EOS_INVALID_ARG);
    EXPECT_TRUE(l == NULL);
    p.norm = NULL;
    ASSERT_OK(eos_loader_create(ctx, ds, &p, &l));
    eos_batch b;
    EXPECT_STATUS(eos_loader_next(l, &b), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_loader_start_epoch(l, -1), EOS_INVALID_ARG);
    eos_loader_free(l);
    eos_dataset_free(ds);
    /* a file that stopped being an image: the batch holding it fails, naming it */
    fx_write(g_dir, "images/c1/003.png", "garbage");
    ds = open_ds(EOS_TASK_CLASSIFY, 0);
    ASSERT_TRUE(ds != NULL);
    fx_write(g_dir, "images/c0/000.png", "garbage");
    p.batch = 1;   /* items in order: c0/000, c0/002, c1/001, c1/003 */
    ASSERT_OK(eos_loader_create(ctx, ds, &p, &l));
    ASSERT_OK(eos_loader_start_epoch(l, 0));
    EXPECT_STATUS(eos_loader_next(l, &b), EOS_PARSE);
    EXPECT_TRUE(strstr(eos_loader_errmsg(l), "c0/000.png") != NULL);
    EXPECT_OK(eos_loader_next(l, &b));
    EXPECT_OK(eos_loader_next(l, &b));
    EXPECT_STATUS(eos_loader_next(l, &b), EOS_PARSE);
    EXPECT_TRUE(strstr(eos_loader_errmsg(l), "c1/003.png") != NULL);
    eos_loader_free(l);
    eos_loader_free(NULL);
    eos_dataset_free(ds);
    eos_ctx_free(ctx);
    test_tmpdir_remove(g_dir);
}

/* Memory: (n_ahead + 1) batch slots at creation, and an epoch over a dataset several times
 * larger than that adds only per-thread scratch. */
static void test_memory_bounded(void) {
    test_tmpdir_create(g_dir, sizeof g_dir, "ld_mem");
    enum { N = 120, S = 32 };
    uint8_t *img = calloc(3 * S * S, 1);
    for (int i = 0; i < N; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "images/c/%03d.tif", i);
        img[0] = (uint8_t)i;
        fx_image(g_dir, rel, "GTiff", S, S, 3, GDT_Byte, img, NULL, 0);
    }
    free(img);
    eos_dataset *ds = open_ds(EOS_TASK_CLASSIFY, 0);
    ASSERT_TRUE(ds != NULL);
    eos_augment a;
    eos_augment_default(&a, EOS_TASK_CLASSIFY, 3);
    eos_loader_params p = lparams(4, 2);
    p.n_ahead = 1;
    p.augment = &a;
    const int64_t slot = 4 * 3 * S * S * 4, all = (int64_t)N * 3 * S * S * 4;
    eos_alloc_stats s0, s1, s2;
    eos_alloc_get_stats(&s0);
    eos_loader *l;
    ASSERT_OK(eos_loader_create(NULL, ds, &p, &l));
    eos_alloc_get_stats(&s1);
    eos_alloc_reset_peak();
    ASSERT_OK(eos_loader_start_epoch(l, 0));
    eos_batch b;
    int64_t seen = 0;
    while (eos_loader_next(l, &b) == EOS_OK && b.n > 0) seen += b.n;
    eos_alloc_get_stats(&s2);
    EXPECT_EQ_INT(seen, N);
    int64_t at_create = s1.live_bytes - s0.live_bytes, during = s2.peak_bytes - s1.live_bytes;
    printf("  slots %lld B at creation, +%lld B peak during the epoch (data: %lld B)\n",
           (long long)at_create, (long long)during, (long long)all);
    EXPECT_TRUE(at_create >= 2 * slot && at_create < 3 * slot);
    EXPECT_TRUE(during < 2 * slot && during < all / 8);
    eos_loader_free(l);
    eos_dataset_free(ds);
    test_tmpdir_remove(g_dir);
}

TEST_MAIN(TEST(test_epoch_covers_every_item), TEST(test_threads_deterministic),
          TEST(test_norm_and_fit), TEST(test_patch_sampler), TEST(test_errors),
          TEST(test_memory_bounded))
