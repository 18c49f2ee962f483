/*
 * tests/dataset/test_dataset.c - datasets (src/data/dataset.c, classes.c, decode.c, text.c) on
 * synthetic layouts written with GDAL into a temporary folder: class folders with and without
 * classes.txt and split files, TSV and CSV tags, segmentation with colour, palette and index
 * masks; every malformed file gives its documented status and a message naming file:line.
 */
#include "dataset/fixture.h"

#include "data/data_internal.h"

static char g_dir[256];
static eos_ctx *g_ctx;

static void setup(const char *tag) {
    test_tmpdir_create(g_dir, sizeof g_dir, tag);
    if (!g_ctx) eos_ctx_create(NULL, &g_ctx);
}

static eos_dataset_params params(eos_task task) {
    eos_dataset_params p;
    memset(&p, 0, sizeof p);
    p.task = task;
    return p;
}

/* Open g_dir (or a path under it) expecting want; on failure the message must contain `needle`. */
static eos_dataset *open_expect(const char *rel, const eos_dataset_params *p, eos_status want,
                                const char *needle) {
    char root[512];
    snprintf(root, sizeof root, "%s%s%s", g_dir, rel ? "/" : "", rel ? rel : "");
    eos_dataset *ds = NULL;
    eos_status st = eos_dataset_open(g_ctx, root, p, &ds);
    if (st != want)
        TEST_FAIL_("open %s -> %s, want %s (%s)", root, eos_status_name(st), eos_status_name(want),
                   eos_ctx_errmsg(g_ctx));
    if (st != EOS_OK && needle && !strstr(eos_ctx_errmsg(g_ctx), needle))
        TEST_FAIL_("message '%s' lacks '%s'", eos_ctx_errmsg(g_ctx), needle);
    return ds;
}

static void test_task_names(void) {
    eos_task t;
    EXPECT_STR_EQ(eos_task_name(EOS_TASK_CLASSIFY), "classify");
    EXPECT_STR_EQ(eos_task_name(EOS_TASK_TAG), "tag");
    EXPECT_STR_EQ(eos_task_name(EOS_TASK_SEGMENT), "segment");
    EXPECT_OK(eos_task_parse("segmentation", &t));
    EXPECT_EQ_INT(t, EOS_TASK_SEGMENT);
    EXPECT_OK(eos_task_parse("multilabel", &t));
    EXPECT_EQ_INT(t, EOS_TASK_TAG);
    EXPECT_OK(eos_task_parse("classification", &t));
    EXPECT_EQ_INT(t, EOS_TASK_CLASSIFY);
    EXPECT_STATUS(eos_task_parse("detect", &t), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_task_parse(NULL, &t), EOS_INVALID_ARG);
}

/* images/{b_dog,a_cat}/ with PNGs of known values; no classes.txt: classes are sorted folders. */
static void make_classify(void) {
    fx_flat_u8(g_dir, "images/b_dog/d1.png", "PNG", 6, 4, 3, 10);
    fx_flat_u8(g_dir, "images/b_dog/d0.png", "PNG", 6, 4, 3, 20);
    fx_flat_u8(g_dir, "images/a_cat/c0.png", "PNG", 6, 4, 3, 30);
    fx_write(g_dir, "images/a_cat/notes.txt", "not an image\n");
}

static void test_classify_folders(void) {
    setup("ds_cls");
    make_classify();
    eos_dataset_params p = params(EOS_TASK_CLASSIFY);
    eos_dataset *ds = open_expect(NULL, &p, EOS_OK, NULL);
    if (ds) {
        EXPECT_EQ_INT(eos_dataset_size(ds), 3);
        EXPECT_EQ_INT(eos_dataset_n_classes(ds), 2);
        EXPECT_STR_EQ(eos_dataset_class_name(ds, 0), "a_cat");
        EXPECT_STR_EQ(eos_dataset_class_name(ds, 1), "b_dog");
        EXPECT_STR_EQ(eos_dataset_item_name(ds, 0), "a_cat/c0.png");
        EXPECT_STR_EQ(eos_dataset_item_name(ds, 1), "b_dog/d0.png");
        EXPECT_STR_EQ(eos_dataset_item_name(ds, 2), "b_dog/d1.png");
        EXPECT_EQ_INT(eos_dataset_label(ds, 0), 0);
        EXPECT_EQ_INT(eos_dataset_label(ds, 2), 1);
        EXPECT_EQ_INT(eos_dataset_label(ds, 3), -1);
        EXPECT_TRUE(eos_dataset_tags(ds, 0) == NULL);
        EXPECT_EQ_INT(eos_dataset_n_bands(ds), 3);
        eos_sample s;
        char msg[256];
        EXPECT_OK(eos_dataset_load(ds, 1, &s, msg, sizeof msg));
        EXPECT_EQ_INT(s.c, 3);
        EXPECT_EQ_INT(s.h, 4);
        EXPECT_EQ_INT(s.w, 6);
        EXPECT_TRUE(s.mask == NULL);
        if (s.img) {
            EXPECT_NEAR(s.img[0], 20, 0);
            EXPECT_NEAR(s.img[24], 21, 0);
            EXPECT_NEAR(s.img[71], 22, 0);
        }
        eos_sample_free(&s);
        EXPECT_STATUS(eos_dataset_load(ds, 3, &s, msg, sizeof msg), EOS_INVALID_ARG);
        eos_dataset_free(ds);
    }
    /* classes.txt fixes the order; "<index> <name>" lines as eurosat-rgb writes them */
    fx_write(g_dir, "classes.txt", "0 b_dog\n1 a_cat\n");
    ds = open_expect(NULL, &p, EOS_OK, NULL);
    if (ds) {
        EXPECT_STR_EQ(eos_dataset_class_name(ds, 0), "b_dog");
        EXPECT_STR_EQ(eos_dataset_item_name(ds, 0), "b_dog/d0.png");
        EXPECT_EQ_INT(eos_dataset_label(ds, 2), 1);
        eos_dataset_free(ds);
    }
    fx_write(g_dir, "classes.txt", "1 b_dog\n0 a_cat\n\n");
    ds = open_expect(NULL, &p, EOS_OK, NULL);
    if (ds) {
        EXPECT_STR_EQ(eos_dataset_class_name(ds, 0), "a_cat");
        eos_dataset_free(ds);
    }
    fx_write(g_dir, "classes.txt", "0 b_dog\n0 a_cat\n");
    open_expect(NULL, &p, EOS_PARSE, "classes.txt:2: class index 0 given twice");
    fx_write(g_dir, "classes.txt", "b_dog\nb_dog\n");
    open_expect(NULL, &p, EOS_PARSE, "duplicate class name 'b_dog'");
    fx_write(g_dir, "classes.txt", "");
    open_expect(NULL, &p, EOS_INVALID_ARG, "no classes");
    fx_write(g_dir, "classes.txt", "x\ny\n");
    open_expect(NULL, &p, EOS_INVALID_ARG, "no images");
    test_tmpdir_remove(g_dir);
}

static void test_classify_split(void) {
    setup("ds_split");
    make_classify();
    fx_write(g_dir, "classes.txt", "a_cat\nb_dog\n");
    eos_dataset_params p = params(EOS_TASK_CLASSIFY);
    p.split = "train";
    fx_write(g_dir, "splits/train.txt", "b_dog/d1.png 1\r\n\r\na_cat/c0.png\n");
    eos_dataset *ds = open_expect(NULL, &p, EOS_OK, NULL);
    if (ds) {
        EXPECT_EQ_INT(eos_dataset_size(ds), 2);
        EXPECT_STR_EQ(eos_dataset_item_name(ds, 0), "b_dog/d1.png");
        EXPECT_EQ_INT(eos_dataset_label(ds, 0), 1);
        EXPECT_EQ_INT(eos_dataset_label(ds, 1), 0);
        eos_dataset_free(ds);
    }
    fx_write(g_dir, "splits/train.txt", "b_dog/d1.png 1\na_cat/c0.png 1\n");
    open_expect(NULL, &p, EOS_PARSE, "train.txt:2: index 1, but class 'a_cat' is 0");
    fx_write(g_dir, "splits/train.txt", "b_dog/d1.png\nzebra/z.png\n");
    open_expect(NULL, &p, EOS_PARSE, "train.txt:2: unknown class 'zebra'");
    fx_write(g_dir, "splits/train.txt", "b_dog/d1.png\nb_dog/d1.png\n");
    open_expect(NULL, &p, EOS_PARSE, "train.txt:2: duplicate item 'b_dog/d1.png'");
    fx_write(g_dir, "splits/train.txt", "b_dog/d9.png\n");
    open_expect(NULL, &p, EOS_IO, "train.txt:1: image");
    fx_write(g_dir, "splits/train.txt", "b_dog/../a_cat/c0.png\n");
    open_expect(NULL, &p, EOS_PARSE, "train.txt:1:");
    fx_write(g_dir, "splits/train.txt", "/etc/passwd\n");
    open_expect(NULL, &p, EOS_PARSE, "train.txt:1:");
    fx_write(g_dir, "splits/train.txt", "");
    open_expect(NULL, &p, EOS_INVALID_ARG, "no images");
    p.split = "nope";
    open_expect(NULL, &p, EOS_IO, "nope.txt");
    p.split = "../x";
    open_expect(NULL, &p, EOS_INVALID_ARG, "split name");
    test_tmpdir_remove(g_dir);
}

/* A plain ImageFolder (no images/): class folders next to splits/, which is not a class. */
static void test_classify_plain_folder(void) {
    setup("ds_plain");
    fx_flat_u8(g_dir, "x/0.jpg", "JPEG", 8, 8, 3, 100);
    fx_flat_u8(g_dir, "y/0.tif", "GTiff", 8, 8, 3, 50);
    fx_write(g_dir, "splits/all.txt", "x/0.jpg\ny/0.tif\n");
    eos_dataset_params p = params(EOS_TASK_CLASSIFY);
    eos_dataset *ds = open_expect(NULL, &p, EOS_OK, NULL);
    if (ds) {
        EXPECT_EQ_INT(eos_dataset_n_classes(ds), 2);
        EXPECT_EQ_INT(eos_dataset_size(ds), 2);
        eos_sample s;
        EXPECT_OK(eos_dataset_load(ds, 0, &s, NULL, 0));
        if (s.img) EXPECT_NEAR(s.img[10], 100, 2);   /* JPEG: nearly exact for a flat image */
        eos_sample_free(&s);
        eos_dataset_free(ds);
    }
    test_tmpdir_remove(g_dir);
}

/* Band count and type: 16-bit GeoTIFFs decode to their values; a 1-band image among 3-band
 * ones is EOS_SHAPE at load; an alpha band is not a band. */
static void test_bands_and_types(void) {
    setup("ds_bands");
    uint16_t v[2 * 3 * 2];
    for (int i = 0; i < 12; i++) v[i] = (uint16_t)(1000 * i + 7);
    fx_image(g_dir, "images/a/0.tif", "GTiff", 3, 2, 2, GDT_UInt16, v, NULL, 0);
    fx_flat_u8(g_dir, "images/a/1.tif", "GTiff", 3, 2, 1, 5);
    eos_dataset_params p = params(EOS_TASK_CLASSIFY);
    eos_dataset *ds = open_expect(NULL, &p, EOS_OK, NULL);
    if (ds) {
        EXPECT_EQ_INT(eos_dataset_n_bands(ds), 2);
        eos_sample s;
        char msg[256];
        EXPECT_OK(eos_dataset_load(ds, 0, &s, msg, sizeof msg));
        for (int i = 0; s.img && i < 12; i++) EXPECT_NEAR(s.img[i], 1000 * i + 7, 0);
        eos_sample_free(&s);
        EXPECT_STATUS(eos_dataset_load(ds, 1, &s, msg, sizeof msg), EOS_SHAPE);
        EXPECT_TRUE(strstr(msg, "1.tif") != NULL);
        EXPECT_TRUE(strstr(msg, "1 bands") != NULL);
        eos_norm n;
        eos_dataset_free(ds);
        /* norm suggestion: 16-bit -> scale 1e-4, mean and std of the scaled values */
        remove(strcat(strcpy(msg, g_dir), "/images/a/1.tif"));
        ds = open_expect(NULL, &p, EOS_OK, NULL);
        ASSERT_TRUE(ds != NULL);
        EXPECT_OK(eos_dataset_norm_suggest(g_ctx, ds, 0, &n));
        EXPECT_NEAR(n.scale[0], 1e-4, 1e-12);
        double m0 = (7 + 1007 + 2007 + 3007 + 4007 + 5007) / 6.0 * 1e-4;
        EXPECT_NEAR(n.mean[0], m0, 1e-9);
        EXPECT_NEAR(n.mean[1], m0 + 0.6, 1e-9);
        EXPECT_NEAR(n.std[0], sqrt(35.0 / 12.0) * 0.1, 1e-9);
        eos_dataset_free(ds);
    }
    /* RGBA PNG: the alpha band is left out */
    uint8_t rgba[4 * 4];
    memset(rgba, 9, sizeof rgba);
    fx_image(g_dir, "images/b/0.png", "PNG", 2, 2, 4, GDT_Byte, rgba, NULL, 0);
    int nb, w, h;
    eos_dtype t;
    char path[512];
    snprintf(path, sizeof path, "%s/images/b/0.png", g_dir);
    EXPECT_OK(eos__image_probe(path, &nb, &t, &w, &h, NULL));
    EXPECT_EQ_INT(nb, 3);
    EXPECT_EQ_INT(t, EOS_DTYPE_U8);
    /* not an image */
    fx_write(g_dir, "images/c/0.png", "this is no PNG");
    eos_err err;
    EXPECT_STATUS(eos__image_probe(path + 0, &nb, &t, &w, &h, NULL), EOS_OK);
    snprintf(path, sizeof path, "%s/images/c/0.png", g_dir);
    EXPECT_STATUS(eos__image_probe(path, &nb, &t, &w, &h, &err), EOS_PARSE);
    EXPECT_TRUE(strstr(err.msg, "c/0.png") != NULL);
    test_tmpdir_remove(g_dir);
}

/* UC Merced style: images/<class>/<file>.png and multilabels.tsv keyed by file stem. */
static void make_tag(void) {
    fx_flat_u8(g_dir, "images/farm/farm01.png", "PNG", 4, 4, 3, 1);
    fx_flat_u8(g_dir, "images/farm/farm02.png", "PNG", 4, 4, 3, 2);
    fx_flat_u8(g_dir, "images/port/port01.png", "PNG", 4, 4, 3, 3);
    fx_write(g_dir, "classes.txt", "farm\nport\n");
}

static void test_tag_tsv(void) {
    setup("ds_tsv");
    make_tag();
    fx_write(g_dir, "multilabels.tsv", "IMAGE\\LABEL\tboat\tfield\ttrees\n"
                                       "port01\t1\t0\t0\nfarm01\t0\t1\t1\nfarm02\t0\t1\t0\n");
    eos_dataset_params p = params(EOS_TASK_TAG);
    eos_dataset *ds = open_expect(NULL, &p, EOS_OK, NULL);
    if (ds) {
        EXPECT_EQ_INT(eos_dataset_size(ds), 3);
        EXPECT_EQ_INT(eos_dataset_n_classes(ds), 3);
        EXPECT_STR_EQ(eos_dataset_class_name(ds, 2), "trees");
        EXPECT_STR_EQ(eos_dataset_item_name(ds, 0), "port/port01.png");
        const uint8_t *t = eos_dataset_tags(ds, 1);
        ASSERT_TRUE(t != NULL);
        EXPECT_TRUE(t[0] == 0 && t[1] == 1 && t[2] == 1);
        EXPECT_EQ_INT(eos_dataset_label(ds, 1), -1);
        eos_dataset_free(ds);
    }
    /* a split: items and order from the split, tags by stem */
    fx_write(g_dir, "splits/val.txt", "farm/farm02.png 0\nport/port01.png 1\n");
    p.split = "val";
    ds = open_expect(NULL, &p, EOS_OK, NULL);
    if (ds) {
        EXPECT_EQ_INT(eos_dataset_size(ds), 2);
        const uint8_t *t = eos_dataset_tags(ds, 0);
        EXPECT_TRUE(t && t[0] == 0 && t[1] == 1 && t[2] == 0);
        eos_dataset_free(ds);
    }
    fx_write(g_dir, "splits/val.txt", "farm/farm03.png\n");
    open_expect(NULL, &p, EOS_PARSE, "val.txt:1: no labels for 'farm/farm03.png'");
    p.split = NULL;
    fx_write(g_dir, "multilabels.tsv", "IMAGE\\LABEL\tboat\tfield\nport01\t1\t0\nfarm01\t0\t2\n");
    open_expect(NULL, &p, EOS_PARSE, "multilabels.tsv:3: label 'field' is '2'");
    fx_write(g_dir, "multilabels.tsv", "IMAGE\\LABEL\tboat\tfield\nport01\t1\nfarm01\t0\t1\n");
    open_expect(NULL, &p, EOS_PARSE, "multilabels.tsv:2: 2 fields, the header has 3");
    fx_write(g_dir, "multilabels.tsv", "IMAGE\\LABEL\tboat\nport01\t1\nport01\t0\n");
    open_expect(NULL, &p, EOS_PARSE, "multilabels.tsv:3: duplicate item 'port01' (also on line 2)");
    fx_write(g_dir, "multilabels.tsv", "IMAGE\\LABEL\tboat\nport09\t1\n");
    open_expect(NULL, &p, EOS_IO, "multilabels.tsv:2: no image 'port09'");
    fx_write(g_dir, "multilabels.tsv", "IMAGE\\LABEL\tboat\tboat\nport01\t1\t1\n");
    open_expect(NULL, &p, EOS_PARSE, "duplicate class name 'boat'");
    static const char nul[] = "IMAGE\\LABEL\tboat\nport01\t1\n\0x\n";
    fx_write_n(g_dir, "multilabels.tsv", nul, sizeof nul - 1);
    open_expect(NULL, &p, EOS_PARSE, "multilabels.tsv:3: NUL byte");
    p.labels = "/nonexistent/labels.tsv";
    open_expect(NULL, &p, EOS_IO, "labels.tsv");
    /* a stem shared by two images is ambiguous */
    p.labels = NULL;
    fx_flat_u8(g_dir, "images/port/farm01.png", "PNG", 4, 4, 3, 1);
    fx_write(g_dir, "multilabels.tsv", "IMAGE\\LABEL\tboat\nfarm01\t1\n");
    open_expect(NULL, &p, EOS_PARSE, "names more than one image");
    test_tmpdir_remove(g_dir);
}

/* Planet style: a CSV "image_name,tags" of flat images/, labels = sorted distinct tags; the
 * dataset may be given as the CSV's path. */
static void test_tag_csv(void) {
    setup("ds_csv");
    fx_flat_u8(g_dir, "images/t_0.jpg", "JPEG", 8, 8, 3, 1);
    fx_flat_u8(g_dir, "images/t_1.jpg", "JPEG", 8, 8, 3, 2);
    fx_write(g_dir, "train.csv",
             "image_name,tags\nt_0,haze primary\n\"t_1.jpg\",\"clear  water primary\"\n");
    eos_dataset_params p = params(EOS_TASK_TAG);
    char csv[512];
    snprintf(csv, sizeof csv, "%s/train.csv", g_dir);
    eos_dataset *ds = open_expect("train.csv", &p, EOS_OK, NULL);
    if (ds) {
        EXPECT_EQ_INT(eos_dataset_n_classes(ds), 4);
        EXPECT_STR_EQ(eos_dataset_class_name(ds, 0), "clear");
        EXPECT_STR_EQ(eos_dataset_class_name(ds, 1), "haze");
        EXPECT_STR_EQ(eos_dataset_class_name(ds, 2), "primary");
        EXPECT_STR_EQ(eos_dataset_class_name(ds, 3), "water");
        const uint8_t *a = eos_dataset_tags(ds, 0), *b = eos_dataset_tags(ds, 1);
        EXPECT_TRUE(a && a[0] == 0 && a[1] == 1 && a[2] == 1 && a[3] == 0);
        EXPECT_TRUE(b && b[0] == 1 && b[1] == 0 && b[2] == 1 && b[3] == 1);
        EXPECT_STR_EQ(eos_dataset_item_name(ds, 1), "t_1.jpg");
        eos_dataset_free(ds);
    }
    p.labels = csv;
    ds = open_expect(NULL, &p, EOS_OK, NULL);
    eos_dataset_free(ds);
    fx_write(g_dir, "train.csv", "image_name,tags\nt_0,haze\n\"t_1,clear\n");
    open_expect(NULL, &p, EOS_PARSE, "train.csv:3:");
    fx_write(g_dir, "train.csv", "image_name,tags\nt_0,haze,extra\n");
    open_expect(NULL, &p, EOS_PARSE, "train.csv:2: 3 fields, the header has 2");
    fx_write(g_dir, "train.csv", "image_name,tags\n");
    open_expect(NULL, &p, EOS_INVALID_ARG, "no tags");
    fx_write(g_dir, "train.csv", "");
    open_expect(NULL, &p, EOS_INVALID_ARG, "empty");
    test_tmpdir_remove(g_dir);
}

/* ------------------------------------------------------------------ segmentation */

static const uint8_t k_colors[3][3] = { { 60, 16, 152 }, { 132, 41, 246 }, { 155, 155, 155 } };

/* An 4x3 image; its mask as RGB colours: class (x + y) % 3, pixel (3, 2) black. */
static void make_segment(void) {
    fx_write(g_dir, "classes.csv",
             "id,name,hex,r,g,b\n0,Building,#3C1098,60,16,152\n"
             "1,Land (unpaved area),#8429F6,132,41,246\n2,Unlabeled,#9B9B9B,155,155,155\n");
    fx_flat_u8(g_dir, "images/a.jpg", "JPEG", 4, 3, 3, 90);
    uint8_t rgb[3 * 12];
    for (int y = 0; y < 3; y++)
        for (int x = 0; x < 4; x++)
            for (int b = 0; b < 3; b++)
                rgb[b * 12 + y * 4 + x] = x == 3 && y == 2 ? 0 : k_colors[(x + y) % 3][b];
    fx_image(g_dir, "masks/a.png", "PNG", 4, 3, 3, GDT_Byte, rgb, NULL, 0);
    /* b: a palette mask (entries 0..3: black, class 2, class 0, class 1) */
    fx_flat_u8(g_dir, "images/b.png", "PNG", 4, 3, 3, 10);
    const uint8_t pal[4 * 3] = { 0, 0, 0, 155, 155, 155, 60, 16, 152, 132, 41, 246 };
    uint8_t idx[12];
    for (int i = 0; i < 12; i++) idx[i] = (uint8_t)(i % 4);
    fx_image(g_dir, "masks/b.png", "PNG", 4, 3, 1, GDT_Byte, idx, pal, 4);
    fx_write(g_dir, "splits/test.txt", "b\na.jpg\n");
}

static void test_segment_masks(void) {
    setup("ds_seg");
    make_segment();
    eos_dataset_params p = params(EOS_TASK_SEGMENT);
    eos_dataset *ds = open_expect(NULL, &p, EOS_OK, NULL);
    if (ds) {
        EXPECT_EQ_INT(eos_dataset_n_classes(ds), 3);
        EXPECT_STR_EQ(eos_dataset_class_name(ds, 1), "Land (unpaved area)");
        uint8_t rgb[3];
        EXPECT_TRUE(eos_dataset_class_color(ds, 1, rgb));
        EXPECT_TRUE(rgb[0] == 132 && rgb[1] == 41 && rgb[2] == 246);
        EXPECT_TRUE(!eos_dataset_class_color(ds, 3, rgb));
        EXPECT_STR_EQ(eos_dataset_item_name(ds, 0), "a.jpg");
        eos_sample s;
        char msg[256];
        EXPECT_OK(eos_dataset_load(ds, 0, &s, msg, sizeof msg));
        ASSERT_TRUE(s.mask != NULL);
        for (int y = 0; y < 3; y++)
            for (int x = 0; x < 4; x++)
                EXPECT_EQ_INT(s.mask[y * 4 + x], x == 3 && y == 2 ? EOS_IGNORE_INDEX : (x + y) % 3);
        eos_sample_free(&s);
        EXPECT_OK(eos_dataset_load(ds, 1, &s, msg, sizeof msg));
        const int want[4] = { EOS_IGNORE_INDEX, 2, 0, 1 };
        for (int i = 0; s.mask && i < 12; i++) EXPECT_EQ_INT(s.mask[i], want[i % 4]);
        eos_sample_free(&s);
        eos_dataset_free(ds);
    }
    /* the split's order; ignored class names map to EOS_IGNORE_INDEX */
    p.split = "test";
    const char *ign[] = { "Unlabeled" };
    p.ignore_classes = ign;
    p.n_ignore_classes = 1;
    ds = open_expect(NULL, &p, EOS_OK, NULL);
    if (ds) {
        EXPECT_STR_EQ(eos_dataset_item_name(ds, 0), "b.png");
        EXPECT_EQ_INT(eos_dataset_n_classes(ds), 3);
        eos_sample s;
        EXPECT_OK(eos_dataset_load(ds, 0, &s, NULL, 0));
        const int want[4] = { EOS_IGNORE_INDEX, EOS_IGNORE_INDEX, 0, 1 };
        for (int i = 0; s.mask && i < 12; i++) EXPECT_EQ_INT(s.mask[i], want[i % 4]);
        eos_sample_free(&s);
        eos_dataset_free(ds);
    }
    const char *bad[] = { "Water" };
    p.ignore_classes = bad;
    open_expect(NULL, &p, EOS_INVALID_ARG, "ignore class 'Water'");
    test_tmpdir_remove(g_dir);
}

/* Single-band masks without palette are class indices (out of range: ignore); classes.txt
 * names them. Cache: a second load is served from memory. */
static void test_segment_index_masks_and_cache(void) {
    setup("ds_idx");
    fx_write(g_dir, "classes.txt", "bg\nroad\n");
    uint8_t img[2 * 5 * 5], m[25];
    for (int i = 0; i < 50; i++) img[i] = (uint8_t)(3 * i);
    for (int i = 0; i < 25; i++) m[i] = (uint8_t)(i % 3 == 2 ? 7 : i % 3);
    fx_image(g_dir, "images/p.tif", "GTiff", 5, 5, 2, GDT_Byte, img, NULL, 0);
    fx_image(g_dir, "masks/p.png", "PNG", 5, 5, 1, GDT_Byte, m, NULL, 0);
    eos_dataset_params p = params(EOS_TASK_SEGMENT);
    p.cache_mb = 1;
    eos_dataset *ds = open_expect(NULL, &p, EOS_OK, NULL);
    ASSERT_TRUE(ds != NULL);
    for (int pass = 0; pass < 2; pass++) {
        eos_sample s;
        EXPECT_OK(eos_dataset_load(ds, 0, &s, NULL, 0));
        for (int i = 0; s.mask && i < 25; i++)
            EXPECT_EQ_INT(s.mask[i], i % 3 == 2 ? EOS_IGNORE_INDEX : i % 3);
        for (int i = 0; s.img && i < 50; i++) EXPECT_NEAR(s.img[i], 3 * i, 0);
        eos_sample_free(&s);
        EXPECT_EQ_INT(ds->cache_used, 50 + 25);
        EXPECT_TRUE(ds->items[0].c_img != NULL);
    }
    eos_dataset_free(ds);
    /* a mask of another size */
    fx_image(g_dir, "masks/p.png", "PNG", 4, 5, 1, GDT_Byte, m, NULL, 0);
    ds = open_expect(NULL, &p, EOS_OK, NULL);
    ASSERT_TRUE(ds != NULL);
    eos_sample s;
    char msg[300];
    EXPECT_STATUS(eos_dataset_load(ds, 0, &s, msg, sizeof msg), EOS_SHAPE);
    EXPECT_TRUE(strstr(msg, "masks/p.png: mask is 4 x 5") != NULL);
    eos_dataset_free(ds);
    /* a colour mask with classes that have no colours */
    uint8_t rgb[3 * 25] = { 0 };
    fx_image(g_dir, "masks/p.png", "PNG", 5, 5, 3, GDT_Byte, rgb, NULL, 0);
    ds = open_expect(NULL, &p, EOS_OK, NULL);
    ASSERT_TRUE(ds != NULL);
    EXPECT_STATUS(eos_dataset_load(ds, 0, &s, msg, sizeof msg), EOS_PARSE);
    EXPECT_TRUE(strstr(msg, "classes have no colours") != NULL);
    eos_dataset_free(ds);
    remove(strcat(strcpy(msg, g_dir), "/masks/p.png"));
    open_expect(NULL, &p, EOS_IO, "no mask 'p'");
    test_tmpdir_remove(g_dir);
}

static void test_segment_bad_classes(void) {
    setup("ds_badcls");
    make_segment();
    eos_dataset_params p = params(EOS_TASK_SEGMENT);
    static const struct { const char *csv; eos_status st; const char *msg;
    } k[] = {
        {"id,name,hex\n0,a,#12345\n", EOS_PARSE, "classes.csv:2: colour '#12345' is not #RRGGBB"},
        {"id,name,hex\n0,a,#123456\n0,b,#123457\n", EOS_PARSE,
         "classes.csv:3: class id 0 given twice"},
        {"id,name,hex\n0,a,#123456\n1,b,#123456\n", EOS_PARSE, "have the same colour #123456"},
        {"id,name,hex\n0,a\n", EOS_PARSE, "classes.csv:2: 2 fields, the header has 3"},
        {"id,name,r,g,b\n0,a,1,2,256\n", EOS_PARSE, "classes.csv:2: colour component '256'"},
        {"id,name,hex,r,g,b\n0,a,#010203,1,2,4\n", EOS_PARSE,
         "classes.csv:2: hex colour and r,g,b disagree"},
        {"id,name\n0,a\n2,b\n", EOS_PARSE, "class id 2, but there are 2 classes"},
        {"id,colour\n0,#000000\n", EOS_PARSE, "classes.csv:1: header has no 'name' column"},
        {"id,name\nx,a\n", EOS_PARSE, "classes.csv:2: class id 'x'"},
        {"id,name\n0,\"a\n", EOS_PARSE, "classes.csv:2: unterminated quote"},
        {"0,a,#000001\n1,b,#000002\n", EOS_OK, NULL},
        {"name,r,g,b\nx,1,2,3\ny,4,5,6\n", EOS_OK, NULL},
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        fx_write(g_dir, "classes.csv", k[i].csv);
        eos_dataset *ds = open_expect(NULL, &p, k[i].st, k[i].msg);
        eos_dataset_free(ds);
    }
    /* 255 classes are too many */
    char *big = malloc(255 * 8 + 16);
    strcpy(big, "name\n");
    for (int i = 0; i < 255; i++) sprintf(big + strlen(big), "c%d\n", i);
    fx_write(g_dir, "classes.csv", big);
    open_expect(NULL, &p, EOS_INVALID_ARG, "more than 254 classes");
    free(big);
    remove(strcat(strcpy((char[300]){ 0 }, g_dir), "/classes.csv"));
    open_expect(NULL, &p, EOS_IO, "neither classes.csv nor classes.txt");
    test_tmpdir_remove(g_dir);
}

static void test_open_errors(void) {
    setup("ds_err");
    eos_dataset_params p = params(EOS_TASK_CLASSIFY);
    eos_dataset *ds = NULL;
    EXPECT_STATUS(eos_dataset_open(g_ctx, "/nonexistent/dir", &p, &ds), EOS_IO);
    EXPECT_TRUE(strstr(eos_ctx_errmsg(g_ctx), "/nonexistent/dir") != NULL);
    EXPECT_STATUS(eos_dataset_open(g_ctx, NULL, &p, &ds), EOS_INVALID_ARG);
    p.task = (eos_task)7;
    EXPECT_STATUS(eos_dataset_open(g_ctx, g_dir, &p, &ds), EOS_INVALID_ARG);
    p.task = EOS_TASK_CLASSIFY;
    p.cache_mb = -1;
    EXPECT_STATUS(eos_dataset_open(g_ctx, g_dir, &p, &ds), EOS_INVALID_ARG);
    p.cache_mb = 0;
    open_expect(NULL, &p, EOS_INVALID_ARG, "no classes.txt and no class folders");
    p.task = EOS_TASK_TAG;
    open_expect(NULL, &p, EOS_IO, "multilabels.tsv");
    p.task = EOS_TASK_SEGMENT;
    fx_write(g_dir, "classes.txt", "a\n");
    open_expect(NULL, &p, EOS_IO, "masks");
    eos_dataset_free(NULL);
    EXPECT_EQ_INT(eos_dataset_size(NULL), 0);
    test_tmpdir_remove(g_dir);
}

/* Allocation failures while opening never crash or leak. */
static void test_open_oom(void) {
    setup("ds_oom");
    make_tag();
    fx_write(g_dir, "multilabels.tsv", "IMAGE\\LABEL\tboat\tfield\nport01\t1\t0\nfarm01\t0\t1\n");
    eos_dataset_params p = params(EOS_TASK_TAG);
    int ok = 0;
    for (int n = 0; n < 400 && !ok; n++) {
        eos_alloc_fail_after(n);
        eos_dataset *ds = NULL;
        char root[300];
        snprintf(root, sizeof root, "%s", g_dir);
        eos_status st = eos_dataset_open(NULL, root, &p, &ds);
        eos_alloc_fail_after(-1);
        if (st == EOS_OK) {
            ok = 1;
            EXPECT_EQ_INT(eos_dataset_size(ds), 2);
        } else {
            EXPECT_TRUE(st == EOS_NOMEM || st == EOS_IO || st == EOS_PARSE);
        }
        eos_dataset_free(ds);
    }
    EXPECT_TRUE(ok);
    test_tmpdir_remove(g_dir);
}

static void test_cleanup(void) {
    eos_ctx_free(g_ctx);
    g_ctx = NULL;
}

TEST_MAIN(TEST(test_task_names), TEST(test_classify_folders), TEST(test_classify_split),
          TEST(test_classify_plain_folder), TEST(test_bands_and_types), TEST(test_tag_tsv),
          TEST(test_tag_csv), TEST(test_segment_masks), TEST(test_segment_index_masks_and_cache),
          TEST(test_segment_bad_classes), TEST(test_open_errors), TEST(test_open_oom),
          TEST(test_cleanup))
