/*
 * tests/fuzz/fuzz_labels.c - libFuzzer target for the dataset label parsers (src/data/text.c,
 * classes.c, dataset.c): class lists, split files, TSV and CSV tag files, classes.csv colour
 * tables.
 *
 * Input: byte 0 picks the task (bits 0-1: classify, tag, segment), the labels file name (bit 2:
 * CSV instead of TSV for tags, classes.csv instead of classes.txt for segments) and whether a
 * split is used (bit 3); the rest is cut at the first two 0x1E bytes (ASCII record separator)
 * into the class/label file, the split file and, for tags, a classes.txt. The files are written
 * into a small dataset made once per process in a temporary folder (two class folders of PNGs,
 * flat images with an RGB and a palette mask), the dataset is opened, and when that succeeds
 * every accessor is called and the first items decoded. Seeds: tests/fuzz/corpus/labels/.
 *
 *     build-fuzz/fuzz_labels -max_total_time=60 tests/fuzz/corpus/labels
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gdal.h>

#include "eosight/eosight.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char g_dir[64];

static void path_of(char *buf, size_t n, const char *rel) { snprintf(buf, n, "%s/%s", g_dir, rel); }

static void write_file(const char *rel, const void *p, size_t n) {
    char path[256];
    path_of(path, sizeof path, rel);
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (n) fwrite(p, 1, n, f);
    fclose(f);
}

static void png(const char *rel, int bands, const uint8_t *px, const uint8_t *palette) {
    char path[256];
    path_of(path, sizeof path, rel);
    GDALDatasetH mem = GDALCreate(GDALGetDriverByName("MEM"), "", 4, 4, bands, GDT_Byte, NULL);
    for (int b = 0; b < bands; b++)
        if (GDALRasterIO(GDALGetRasterBand(mem, b + 1), GF_Write, 0, 0, 4, 4, (void *)(px + 16 * b),
                         4, 4, GDT_Byte, 0, 0) != CE_None)
            abort();
    if (palette) {
        GDALColorTableH ct = GDALCreateColorTable(GPI_RGB);
        for (int i = 0; i < 4; i++) {
            GDALColorEntry e = { palette[3 * i], palette[3 * i + 1], palette[3 * i + 2], 255 };
            GDALSetColorEntry(ct, i, &e);
        }
        GDALSetRasterColorTable(GDALGetRasterBand(mem, 1), ct);
        GDALDestroyColorTable(ct);
    }
    GDALDatasetH out =
        GDALCreateCopy(GDALGetDriverByName("PNG"), path, mem, FALSE, NULL, NULL, NULL);
    if (!out) abort();
    GDALClose(out);
    GDALClose(mem);
}

static void cleanup(void) {
    static const char *const files[] = {
        "images/a/x1.png", "images/a/x2.png", "images/b/y1.png", "images/z1.png", "images/z2.png",
        "masks/z1.png", "masks/z2.png", "classes.txt", "classes.csv", "multilabels.tsv",
        "labels.csv", "splits/s.txt", NULL
    };
    char path[256];
    for (int i = 0; files[i]; i++) {
        path_of(path, sizeof path, files[i]);
        remove(path);
    }
    static const char *const dirs[] = { "images/a", "images/b", "images", "masks", "splits", NULL };
    for (int i = 0; dirs[i]; i++) {
        path_of(path, sizeof path, dirs[i]);
        rmdir(path);
    }
    rmdir(g_dir);
}

static void make_dataset(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/eos_fuzz_labels_XXXXXX");
    if (!mkdtemp(g_dir)) abort();
    atexit(cleanup);
    GDALAllRegister();
    const char *const dirs[] = { "images", "images/a", "images/b", "masks", "splits", NULL };
    char path[256];
    for (int i = 0; dirs[i]; i++) {
        path_of(path, sizeof path, dirs[i]);
        mkdir(path, 0755);
    }
    uint8_t px[3 * 16];
    for (int i = 0; i < 48; i++) px[i] = (uint8_t)(i * 5);
    png("images/a/x1.png", 3, px, NULL);
    png("images/a/x2.png", 3, px, NULL);
    png("images/b/y1.png", 3, px, NULL);
    png("images/z1.png", 3, px, NULL);
    png("images/z2.png", 3, px, NULL);
    uint8_t rgb[3 * 16];
    for (int i = 0; i < 16; i++) {
        rgb[i] = (uint8_t)(i % 2 ? 60 : 132);
        rgb[16 + i] = (uint8_t)(i % 2 ? 16 : 41);
        rgb[32 + i] = (uint8_t)(i % 2 ? 152 : 246);
    }
    png("masks/z1.png", 3, rgb, NULL);
    const uint8_t pal[12] = { 0, 0, 0, 60, 16, 152, 132, 41, 246, 1, 2, 3 };
    uint8_t idx[16];
    for (int i = 0; i < 16; i++) idx[i] = (uint8_t)(i % 4);
    png("masks/z2.png", 1, idx, pal);
}

/* Cut data at the next 0x1E (or its end). */
static const uint8_t *next_part(const uint8_t **p, const uint8_t *end, size_t *n) {
    const uint8_t *s = *p;
    const uint8_t *e = s < end ? memchr(s, 0x1E, (size_t)(end - s)) : NULL;
    *n = (size_t)((e ? e : end) - s);
    *p = e ? e + 1 : end;
    return s;
}

static void exercise(const eos_dataset *ds) {
    int nc = eos_dataset_n_classes(ds);
    for (int c = -1; c <= nc; c++) {
        uint8_t rgb[3];
        eos_dataset_class_name(ds, c);
        eos_dataset_class_color(ds, c, rgb);
    }
    for (int64_t i = 0; i < eos_dataset_size(ds); i++) {
        eos_dataset_item_name(ds, i);
        eos_dataset_label(ds, i);
        const uint8_t *t = eos_dataset_tags(ds, i);
        for (int k = 0; t && k < nc; k++)
            if (t[k] > 1) abort();
    }
    for (int64_t i = 0; i < eos_dataset_size(ds) && i < 2; i++) {
        eos_sample s;
        char msg[128];
        if (eos_dataset_load(ds, i, &s, msg, sizeof msg) == EOS_OK) {
            for (int k = 0; s.mask && k < s.w * s.h; k++)
                if (s.mask[k] >= nc && s.mask[k] != EOS_IGNORE_INDEX) abort();
            eos_sample_free(&s);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!g_dir[0]) make_dataset();
    if (size < 1) return 0;
    const uint8_t *p = data + 1, *end = data + size;
    size_t n0, n1, n2;
    const uint8_t *a = next_part(&p, end, &n0), *b = next_part(&p, end, &n1),
                  *c = next_part(&p, end, &n2);
    static const char *const extra[] = {"classes.txt", "classes.csv",  "multilabels.tsv",
                                        "labels.csv",  "splits/s.txt", NULL};
    char path[256];
    for (int i = 0; extra[i]; i++) {
        path_of(path, sizeof path, extra[i]);
        remove(path);
    }
    eos_dataset_params prm;
    memset(&prm, 0, sizeof prm);
    prm.task = (eos_task)(data[0] & 3) == 3 ? EOS_TASK_CLASSIFY : (eos_task)(data[0] & 3);
    bool csv = data[0] & 4;
    if (data[0] & 8) {
        write_file("splits/s.txt", b, n1);
        prm.split = "s";
    }
    const char *ign[] = { "Building" };
    if (data[0] & 16) {
        prm.ignore_classes = ign;
        prm.n_ignore_classes = 1;
    }
    if (data[0] & 32) prm.cache_mb = 1;
    switch (prm.task) {
    case EOS_TASK_CLASSIFY: write_file("classes.txt", a, n0); break;
    case EOS_TASK_TAG:
        write_file(csv ? "labels.csv" : "multilabels.tsv", a, n0);
        if (n2) write_file("classes.txt", c, n2);
        if (csv) {
            path_of(path, sizeof path, "labels.csv");
            prm.labels = path;
        }
        break;
    case EOS_TASK_SEGMENT: write_file(csv ? "classes.csv" : "classes.txt", a, n0); break;
    }
    eos_dataset *ds = NULL;
    if (eos_dataset_open(NULL, g_dir, &prm, &ds) == EOS_OK) {
        exercise(ds);
        eos_dataset_free(ds);
    }
    return 0;
}
