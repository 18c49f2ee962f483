/*
 * eosight/mask.h - class masks after prediction: clean-up and vectorisation.
 *
 * A class mask is a single band of class indices, one byte per pixel, row-major, width x height
 * (class 0..254; 255 is nodata unless the caller says otherwise). Binary masks are the same
 * with values 0/1.
 *
 * Clean-up (the Dstl-winning pipelines did this before polygonising) works on masks in memory:
 * morphological opening and closing with a disk of a given radius, and removal of connected
 * objects and holes smaller than an area. For class masks each operation is applied to each
 * class's binary mask in turn (class order), see eos_mask_clean.
 *
 * Vectorisation polygonises a class mask raster file with GDAL (streaming: the mask is never
 * held in memory whole), optionally simplifies, drops small polygons, computes each polygon's
 * area in square metres, and writes GeoJSON (RFC 7946: WGS 84 lon/lat, right-hand rings),
 * GeoPackage (source CRS) or CSV with a WKT column (source CRS). Holes are kept.
 *
 * Thread safety: all functions are re-entrant; they share no state.
 */
#ifndef EOSIGHT_MASK_H
#define EOSIGHT_MASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eosight/geo.h"
#include "eosight/model.h"
#include "eosight/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define EOS_MASK_NODATA 255

/* ------------------------------------------------------------------ binary morphology */

/* Binary erosion, dilation, opening (erode then dilate) and closing (dilate then erode) of a
 * 0/1 mask with a disk of radius_px (pixels within Euclidean distance <= radius_px of the
 * centre; radius 0 is the identity). Pixels outside the image count as background for
 * dilation and as foreground for erosion (objects touching the edge are not eaten from
 * outside). Any nonzero input pixel is foreground; the output is 0/1. dst may alias src.
 * Cost grows linearly with the radius (8192 x 8192 at radius 5: about 0.1 s); radii above
 * width + height act as width + height. Errors: EOS_INVALID_ARG (NULL, sizes <= 0, a negative
 * radius, or one above 32767 after that clamp), EOS_NOMEM. */
eos_status eos_mask_erode (const uint8_t *src, int64_t width, int64_t height, int radius_px,
                           uint8_t *dst /* OUT */);
eos_status eos_mask_dilate(const uint8_t *src, int64_t width, int64_t height, int radius_px,
                           uint8_t *dst /* OUT */);
eos_status eos_mask_open  (const uint8_t *src, int64_t width, int64_t height, int radius_px,
                           uint8_t *dst /* OUT */);
eos_status eos_mask_close (const uint8_t *src, int64_t width, int64_t height, int radius_px,
                           uint8_t *dst /* OUT */);

/* Remove 8-connected foreground objects of fewer than min_px pixels (set to 0), and fill
 * 4-connected background holes (regions not touching the image border) of fewer than
 * max_hole_px pixels (set to 1). Either threshold may be 0 to skip it. In place; the result
 * is 0/1 (any nonzero input is foreground). Objects are removed first and holes measured
 * afterwards, so a small object inside a hole counts as part of it. No label image is used:
 * extra memory is a fill stack, small in practice and at most 4 bytes per pixel. Errors:
 * EOS_INVALID_ARG, EOS_NOMEM (the mask is then 0/1 but only partly cleaned). */
eos_status eos_mask_remove_small(uint8_t *mask, int64_t width, int64_t height, int64_t min_px,
                                 int64_t max_hole_px);

/* ------------------------------------------------------------------ class masks */

typedef struct eos_mask_clean_params {
    int     open_radius_px;    /* 0: no opening */
    int     close_radius_px;   /* 0: no closing */
    int64_t min_object_px;     /* objects smaller than this lose their class; 0: keep all */
    int64_t min_hole_px;       /* holes smaller than this are filled; 0: keep all */
    uint8_t nodata;            /* never changed, never assigned; default EOS_MASK_NODATA */
    uint8_t background;        /* class removed pixels fall back to when no neighbour class
                                * can take them; default 0 */
} eos_mask_clean_params;

eos_mask_clean_params eos_mask_clean_default_params(void);

/* Convert areas in square metres to pixel counts for a raster's geotransform and CRS
 * (pixel area from the transform's determinant, times the CRS's linear unit squared; for a
 * geographic CRS the area of a pixel at the raster centre on the WGS 84 ellipsoid).
 * Returns ceil(area_m2 / pixel_area_m2) (quotients within 1e-12 of an integer count as it);
 * 0 for area_m2 <= 0. Without georeferencing (g NULL or !has_transform) a pixel counts as
 * 1 m2; with a transform but no CRS, map units count as metres. */
int64_t eos_mask_area_to_px(const eos_georef *g, int64_t width_px, int64_t height_px,
                            double area_m2);

/* The area of one pixel in square metres, as eos_mask_area_to_px computes it (for a geographic
 * CRS: at the centre of the width_px x height_px raster; pass a transform moved to a row and
 * height 1 for that row's pixels). 1 without georeferencing. Pure, thread-safe. */
double eos_georef_pixel_area_m2(const eos_georef *g, int64_t width_px, int64_t height_px);

/* Clean a class mask in place. For each class c present (ascending; the background and
 * nodata classes are not cleaned themselves), on the binary mask (mask == c): closing, then
 * opening, then removal of small objects and filling of small holes.
 * Pixels a step adds to c take class c (nodata pixels are never overwritten); pixels a step
 * removes from c take the most frequent other class among their 8 neighbours after the step
 * (background when none). Neighbours that are nodata, c, or themselves removed by the step do
 * not vote; ties go to the smallest class. The result is deterministic (independent of scan
 * order). Memory: one scratch mask of width * height bytes plus the morphology scratch.
 * Errors: EOS_INVALID_ARG (NULL, sizes, negative parameters), EOS_NOMEM. */
eos_status eos_mask_clean(uint8_t *mask, int64_t width, int64_t height,
                          const eos_mask_clean_params *params);

/* ------------------------------------------------------------------ vectors */

typedef enum eos_vector_format {
    EOS_VECTOR_AUTO    = 0,   /* from the extension: .geojson/.json, .gpkg, .csv/.wkt */
    EOS_VECTOR_GEOJSON = 1,   /* RFC 7946: EPSG:4326 lon/lat, CCW exteriors, 7 decimals */
    EOS_VECTOR_GPKG    = 2,   /* source CRS */
    EOS_VECTOR_WKT_CSV = 3    /* CSV: WKT,class_id,class_name,area_m2; source CRS */
} eos_vector_format;

typedef struct eos_polygonize_params {
    eos_vector_format  format;
    const char *const *class_names;   /* n_classes names; NULL: the mask's category names
                                       * (GDAL's list) where non-empty, else "class_<id>" */
    int                n_classes;
    bool               skip_class0;   /* do not emit polygons of class 0 (background) */
    int                nodata;        /* class value never emitted; -1: none; default 255 */
    double             simplify_m;    /* Douglas-Peucker tolerance in metres (topology kept);
                                       * 0: none (polygons follow pixel edges exactly) */
    double             min_area_m2;   /* drop polygons smaller than this; 0: keep all */
    bool               connected8;    /* 8-connectivity; default false (4) */
} eos_polygonize_params;

eos_polygonize_params eos_polygonize_default_params(void);

/* Statistics of one polygonize call. */
typedef struct eos_polygonize_stats {
    int64_t n_features;       /* written */
    int64_t n_dropped;        /* below min_area_m2 (or empty after simplification) */
    double  total_area_m2;    /* of the written features */
} eos_polygonize_stats;

/* Polygonise band 1 of the class-mask raster at mask_path and write the features to out_path.
 * Each feature carries class_id (integer), class_name (string) and area_m2 (real): area in the
 * source CRS when it is projected in linear units, else in an equal-area projection (Lambert
 * azimuthal equal-area centred on the feature), computed before any reprojection. Pixels the
 * band's own nodata value or mask marks invalid make no polygon either. The mask must have an
 * integer pixel type, and must be georeferenced for GeoJSON (EOS_INVALID_ARG otherwise);
 * without a CRS, simplify_m and areas are in map units (pixels when there is no transform
 * either). Thread-safe for different outputs. stats may be NULL.
 * Errors: EOS_IO, EOS_PARSE (mask not readable), EOS_INVALID_ARG, with a message in
 * eos_ctx_errmsg(ctx). The output is written to "out_path.part" and renamed on success. */
eos_status eos_polygonize(eos_ctx *ctx, const char *mask_path, const char *out_path,
                          const eos_polygonize_params *params,
                          eos_polygonize_stats *stats /* OUT, may be NULL */);

#ifdef __cplusplus
}
#endif
#endif /* EOSIGHT_MASK_H */
