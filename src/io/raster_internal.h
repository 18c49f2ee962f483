/*
 * src/io/raster_internal.h - the eos_raster handle, shared by the files that implement the
 * reading side of include/eosight/raster.h: raster.c (opening, band selection, description),
 * raster_read.c (windowed reads, padding, validity masks), raster_json.c (info as JSON) and
 * norm.c (normalised reads). Other parts of src/io use the public API only.
 *
 * What a read needs is worked out once at open and kept here: the selected bands as a GDAL
 * band map, and the "mask plan": which selected bands are compared against a nodata value or
 * checked for NaN, and which GDAL mask bands (per-dataset masks, per-band masks, alpha bands)
 * are read and ANDed into the validity mask. A raster whose plan is empty is all-valid and its
 * reads skip mask work entirely.
 */
#ifndef EOS_IO_RASTER_INTERNAL_H
#define EOS_IO_RASTER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gdal.h>

#include "core/err.h"
#include "eosight/raster.h"

/* How one selected band contributes to validity by value. */
typedef struct eos__nodata_check {
    int          sel;         /* position in the selection (0-based) */
    GDALDataType native;      /* the band's storage type */
    bool         has_value;   /* compare against `value` (in the native type) */
    bool         value_nan;   /* the nodata value is NaN */
    bool         check_nan;   /* float band: NaN pixels are invalid */
    double       value;       /* nodata, already rounded to the native type */
} eos__nodata_check;

struct eos_raster {
    GDALDatasetH ds;
    char        *path;              /* as given (first file for stacks), for messages/JSON */
    char        *mem_path;          /* /vsimem/ name when opened from memory, else NULL */
    void        *mem_copy;          /* the bytes behind mem_path (eos_malloc'd) */
    char       **stack_paths;       /* stacks: every file, n_stack entries; else NULL */
    int          n_stack;
    char       **vsimem_files;      /* per-band VRTs created for a stack, unlinked at close */
    int          n_vsimem_files;
    char       (*stack_names)[64];  /* stacks: band names from file names, n_bands entries */

    int64_t      width, height;
    int          n_bands;
    char         driver[32];
    eos_crs     *crs;               /* NULL when the raster has none */
    eos_georef   georef;

    int          n_sel;
    int          sel[EOS_RASTER_MAX_BANDS];        /* 1-based file bands, read order */
    GDALDataType sel_type[EOS_RASTER_MAX_BANDS];   /* storage type of each selected band */

    /* mask plan (see the file comment) */
    bool               all_valid;
    int                n_checks;
    eos__nodata_check  checks[EOS_RASTER_MAX_BANDS];
    int                n_mask_bands;
    GDALRasterBandH   *mask_bands;  /* read as bytes, 0 = invalid */

    /* scratch buffers, grown as needed, freed at close */
    void        *scratch;           /* padding / lossy nodata checks */
    size_t       scratch_cap;
    void        *mask_scratch;      /* mask band reads */
    size_t       mask_scratch_cap;
    void        *norm_scratch;      /* eos_raster_read_norm's source-type buffer */
    size_t       norm_scratch_cap;
    void        *index_map;         /* reflect padding: int32 source column/row per window one */
    size_t       index_map_cap;

    eos_err      err;               /* last failed call, eos_raster_errmsg */
};

/* Grow *buf to at least `bytes` (contents not kept). NULL when out of memory. */
void *eos__raster_grow(void **buf, size_t *cap, size_t bytes);

/* Fill out with the description of file band `index` (1-based, already range-checked). */
void eos__raster_band_info(const eos_raster *r, int index, eos_band_info *out);

#endif /* EOS_IO_RASTER_INTERNAL_H */
