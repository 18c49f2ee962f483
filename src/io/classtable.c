/*
 * src/io/classtable.c - eos_raster_class_table: the colour table and category names of a class
 * mask (include/eosight/raster.h), so that commands can show a mask with the colours and names
 * it was written with (eos_raster_writer stores them) without including GDAL themselves.
 *
 * This is the one file outside the reading side that looks into the eos_raster handle
 * (raster_internal.h): it needs the GDAL band behind the first selected band.
 */
#include <stdio.h>
#include <string.h>

#include "eosight/raster.h"
#include "io/gdal_util.h"
#include "io/raster_internal.h"

/* Copy a name into 64 bytes without cutting a UTF-8 sequence in two. */
static void copy_name(char dst[64], const char *src) {
    size_t n = strlen(src);
    if (n > 63) {
        n = 63;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80) n--;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static int count_names(char **cats) {
    int n = 0;
    while (cats && cats[n]) n++;
    return n;
}

eos_status eos_raster_class_table(const eos_raster *r, eos_rgba *colors, char (*names)[64],
                                  int max, int *n) {
    if (n) *n = 0;
    if (!r || !n || max < 0) return EOS_INVALID_ARG;
    if (r->n_sel < 1) return EOS_OK;
    eos_gdal_quiet_begin();
    GDALRasterBandH band = GDALGetRasterBand(r->ds, r->sel[0]);
    GDALColorTableH ct = band ? GDALGetRasterColorTable(band) : NULL;
    char **cats = band ? GDALGetRasterCategoryNames(band) : NULL;
    int n_colors = ct ? GDALGetColorEntryCount(ct) : 0, n_names = count_names(cats);
    int count = n_names > 0 ? n_names : n_colors;
    if (count > max) count = max;
    for (int i = 0; i < count; i++) {
        if (colors) {
            const GDALColorEntry *e = i < n_colors ? GDALGetColorEntry(ct, i) : NULL;
            colors[i] = e ? (eos_rgba){ (uint8_t)e->c1, (uint8_t)e->c2, (uint8_t)e->c3,
                                        (uint8_t)e->c4 }
                          : (eos_rgba){ 0, 0, 0, 0 };
        }
        if (names) copy_name(names[i], i < n_names ? cats[i] : "");
    }
    eos_gdal_quiet_end();
    *n = count;
    return EOS_OK;
}
