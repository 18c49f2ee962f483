/*
 * tests/dataset/fixture.h - helpers shared by the tests of src/data (header-only, static inline):
 * writing text files and small images (PNG, JPEG, GeoTIFF; palette images) with GDAL into a
 * temporary dataset folder, so each test builds exactly the layout it checks.
 */
#ifndef EOS_TESTS_DATA_FIXTURE_H
#define EOS_TESTS_DATA_FIXTURE_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <gdal.h>

#include "common/test.h"

/* mkdir -p of the folder part of path (the last component is a file name). */
static inline void fx_mkdirs(const char *path) {
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        mkdir(buf, 0755);
        *p = '/';
    }
}

/* Write n bytes to dir/rel (folders created). */
static inline void fx_write_n(const char *dir, const char *rel, const void *bytes, size_t n) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    fx_mkdirs(path);
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
        abort();
    }
    fwrite(bytes, 1, n, f);
    fclose(f);
}

/* Write text to dir/rel (folders created). */
static inline void fx_write(const char *dir, const char *rel, const char *text) {
    fx_write_n(dir, rel, text, strlen(text));
}

/* Write an image dir/rel with GDAL driver `driver` ("PNG", "JPEG", "GTiff") from band-sequential
 * data of type t (bands x h x w); colors (n_colors RGB triples) makes band 1 a palette band. */
static inline void fx_image(const char *dir, const char *rel, const char *driver, int w, int h,
                            int bands, GDALDataType t, const void *data, const uint8_t *colors,
                            int n_colors) {
    GDALAllRegister();
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    fx_mkdirs(path);
    GDALDatasetH mem = GDALCreate(GDALGetDriverByName("MEM"), "", w, h, bands, t, NULL);
    int es = GDALGetDataTypeSizeBytes(t);
    for (int b = 0; b < bands; b++) {
        GDALRasterBandH band = GDALGetRasterBand(mem, b + 1);
        const char *p = (const char *)data + (size_t)b * (size_t)w * (size_t)h * (size_t)es;
        if (GDALRasterIO(band, GF_Write, 0, 0, w, h, (void *)p, w, h, t, 0, 0) != CE_None) abort();
    }
    if (colors) {
        GDALColorTableH ct = GDALCreateColorTable(GPI_RGB);
        for (int i = 0; i < n_colors; i++) {
            GDALColorEntry e = { colors[3 * i], colors[3 * i + 1], colors[3 * i + 2], 255 };
            GDALSetColorEntry(ct, i, &e);
        }
        GDALSetRasterColorTable(GDALGetRasterBand(mem, 1), ct);
        GDALDestroyColorTable(ct);
    }
    const char *opts[] = { "QUALITY=95", NULL };
    GDALDatasetH out = GDALCreateCopy(GDALGetDriverByName(driver), path, mem, FALSE,
                                      !strcmp(driver, "JPEG") ? (char **)opts : NULL, NULL, NULL);
    if (!out) {
        fprintf(stderr, "cannot create %s\n", path);
        abort();
    }
    GDALClose(out);
    GDALClose(mem);
    char aux[1100];
    snprintf(aux, sizeof aux, "%s.aux.xml", path);
    remove(aux);
}

/* A u8 image whose every band b has the value base + b everywhere. */
static inline void fx_flat_u8(const char *dir, const char *rel, const char *driver, int w, int h,
                              int bands, int base) {
    size_t n = (size_t)w * (size_t)h;
    uint8_t *d = malloc(n * (size_t)bands);
    for (int b = 0; b < bands; b++) memset(d + (size_t)b * n, (base + b) & 255, n);
    fx_image(dir, rel, driver, w, h, bands, GDT_Byte, d, NULL, 0);
    free(d);
}

#endif /* EOS_TESTS_DATA_FIXTURE_H */
