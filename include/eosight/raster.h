/*
 * eosight/raster.h - reading and writing geospatial rasters (through GDAL).
 *
 * Everything eosight reads or writes as imagery goes through this header: GeoTIFF and COG,
 * Sentinel-2 JPEG 2000 bands, multispectral stacks, plain PNG/JPEG crops, and anything else
 * GDAL opens. The implementation lives in src/io/ and is the only place that includes GDAL's
 * raster headers; GDAL errors are translated there into eos_status + message.
 *
 * Pixel buffers are band-sequential (planar), row-major, matching the CHW part of NCHW model
 * input tensors:
 *     buf[(b * height + y) * width + x]     b: selected band (0-based), y: row, x: column
 * Validity masks are one byte per pixel, row-major: 1 = valid, 0 = nodata (a pixel is nodata
 * when ANY selected band equals its nodata value or is NaN, or when GDAL's mask band or an
 * alpha band marks it transparent). Later stages make predictions on nodata pixels nodata.
 *
 * Band numbers in this API are 1-based, as in GDAL and in every GIS tool users know.
 *
 * Memory: reads are windowed; nothing here reads a whole scene unless the caller asks for a
 * window that large. GDAL's block cache is capped (EOS_GDAL_CACHE_MB, default 256 MB) so tiled
 * processing of scenes far larger than RAM stays bounded.
 *
 * Thread safety: an eos_raster or eos_raster_writer belongs to one thread at a time (GDAL
 * dataset handles are not thread-safe). Different handles, even on the same file, may be used
 * from different threads at once.
 */
#ifndef EOSIGHT_RASTER_H
#define EOSIGHT_RASTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eosight/geo.h"
#include "eosight/model.h"
#include "eosight/status.h"
#include "eosight/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eos_raster        eos_raster;
typedef struct eos_raster_writer eos_raster_writer;

#define EOS_RASTER_MAX_BANDS 256   /* bands one eos_raster may select or stack */

/* ------------------------------------------------------------------ opening */

typedef struct eos_raster_open_params {
    /* Band selection, comma-separated: 1-based indices ("4,3,2") or band names ("B04,B03,B02")
     * matched case-insensitively against each band's description, then its colour
     * interpretation ("Red"), then for stacked files the band name taken from the file name
     * (see eos_raster_open_stack). NULL or "": all bands in file order. Entries are trimmed
     * of spaces; an entry of digits only is an index; a band may be listed more than once;
     * at most EOS_RASTER_MAX_BANDS entries (EOS_LIMIT). */
    const char *bands;
    /* Drop alpha bands from "all bands" selection (they still feed the validity mask).
     * Default true. */
    bool        skip_alpha;
} eos_raster_open_params;

eos_raster_open_params eos_raster_default_open_params(void);

/* Open a raster file (anything GDAL reads; /vsi paths allowed) read-only. params may be NULL.
 * Errors: EOS_IO (missing/unreadable file, a directory), EOS_PARSE (not a raster GDAL
 * understands, a corrupt header, no bands; for a container such as HDF the message names a
 * subdataset to open instead), EOS_NOT_FOUND (a requested band name does not exist: the
 * message lists the bands), EOS_INVALID_ARG (band index out of range, empty list entry),
 * EOS_LIMIT (more than EOS_RASTER_MAX_BANDS bands selected, also by default), EOS_UNSUPPORTED
 * (complex pixel types), each with a message in eos_ctx_errmsg(ctx) naming the file (ctx may
 * be NULL). A CRS GDAL reads but cannot express again is reported as none. The file is read
 * lazily: opening reads headers only. Free with eos_raster_close(). */
eos_status eos_raster_open(eos_ctx *ctx, const char *path, const eos_raster_open_params *params,
                           eos_raster **out /* OUT */);

/* Same from bytes in memory (copied into a private /vsimem/ file, removed at close; buf may be
 * freed after the call). name_hint names the raster in messages and gives GDAL an extension to
 * guess from ("x.png"); only its file name part is used; may be NULL. Used by the service and
 * fuzzers: because the bytes may come from anywhere, only image formats that cannot refer to
 * other files are accepted (GeoTIFF, PNG, JPEG, JPEG 2000, GIF, BMP, WEBP); a VRT, WMS or
 * similar description gives EOS_PARSE. */
eos_status eos_raster_open_from_memory(eos_ctx *ctx, const void *buf, size_t size,
                                       const char *name_hint, const eos_raster_open_params *params,
                                       eos_raster **out /* OUT */);

/* Stack single-band (or few-band) files of one scene into one raster, in the order given:
 * e.g. Sentinel-2's B02/B03/B04 at 10 m and B11 at 20 m. Files of coarser resolution are
 * resampled (bilinear; nearest for integer class rasters is not this function's job) onto the
 * grid of the finest one; all must share one CRS and overlap. The stack covers the union of
 * the files' extents (pixels outside a file read as 0, or its nodata). The stack is virtual
 * (a GDAL VRT in memory): nothing is read until a window is. Every band of a multi-band file
 * joins the stack, in file order. params->bands then selects among the stacked bands (by
 * index, or by the names derived from file names).
 * Band names from file names: the file name without directory and extension, without a
 * trailing resolution ("_10m", "_60m"), then the text after its last '_', or the whole stem
 * when it has none: "T32TQM_20230611T101559_B04_10m.jp2" -> "B04", "B8A.tif" -> "B8A". Band k
 * of a multi-band file is "<name>:<k>". A band's own description, when it has one, still
 * comes first (eos_band_info.name and selection).
 * Errors as eos_raster_open, plus EOS_INVALID_ARG for different CRSs, a file without a
 * geotransform or one that does not overlap the files before it, EOS_UNSUPPORTED for a
 * rotated geotransform, EOS_LIMIT for more than EOS_RASTER_MAX_BANDS bands in all. */
eos_status eos_raster_open_stack(eos_ctx *ctx, const char *const *paths, int n_paths,
                                 const eos_raster_open_params *params, eos_raster **out /* OUT */);

/* NULL is a no-op. */
void eos_raster_close(eos_raster *r);

/* Detail of the last failed call on r, or "". Owned by r. */
const char *eos_raster_errmsg(const eos_raster *r);

/* ------------------------------------------------------------------ description */

typedef struct eos_band_info {
    int       index;            /* 1-based band number in the FILE (or stack) */
    eos_dtype dtype;            /* storage type; EOS_DTYPE_UNDEFINED for u32 (read as f64) */
    char      gdal_type[16];    /* GDAL's name: "Byte", "UInt16", "Float32", ... */
    char      name[64];         /* description, else name from the file (stacks), else "" */
    char      color_interp[16]; /* "Red", "Green", "Blue", "Alpha", "Gray", "Undefined", ... */
    bool      has_nodata;
    double    nodata;           /* may be NaN */
    bool      is_alpha;
    int       block_w, block_h; /* natural block (tile or strip) size */
    int       n_overviews;
    double    scale, offset;    /* GDAL's band scale/offset metadata (1, 0 when absent) */
} eos_band_info;

typedef struct eos_raster_info {
    int64_t width_px, height_px;
    int     n_bands;             /* bands in the file (or stack), not the selection */
    int     n_selected;          /* bands the reads return */
    char    driver[32];          /* GDAL short driver name: "GTiff", "PNG", "JP2OpenJPEG", "VRT" */
    eos_georef georef;           /* crs borrowed from the raster */
    int     n_overviews;         /* overviews of band 1 */
    bool    has_mask;            /* a per-dataset mask, an alpha band or nodata exists */
} eos_raster_info;

/* Fill info (cannot fail on a valid handle). */
void eos_raster_get_info(const eos_raster *r, eos_raster_info *info /* OUT */);

/* Describe band `index` (1-based, of the file: not of the selection). EOS_INVALID_ARG out of
 * range. */
eos_status eos_raster_band_info(const eos_raster *r, int index, eos_band_info *out /* OUT */);

/* The 1-based file band numbers of the selection, in read order; returns n_selected. */
int eos_raster_selected_bands(const eos_raster *r, int *bands /* OUT: n_selected entries */);

/* The whole description as one JSON object (what `eosight info --json` prints):
 * { "path", "stack": [paths] (stacks only), "driver", "width", "height", "selected": [bands],
 *   "bands": [ {index, type, dtype, name, color_interp, nodata, alpha, block: [w,h],
 *   overviews, scale, offset} ... ], "crs": {"wkt", "epsg" (null when none), "name"} | null,
 *   "geotransform": [6] | null, "pixel_size": [x, y] | null, "footprint_wgs84":
 *   {"type":"Polygon", "coordinates": ...} | null, "bbox_wgs84": [w,s,e,n] | null,
 *   "overviews": [[w,h]...], "mask": bool }.
 * "type" is GDAL's type name, "dtype" eosight's ("f64" for types read as f64). "nodata" is a
 * number, null when the band has none, or the string "NaN" ("Infinity", "-Infinity"): JSON
 * has no such numbers. The footprint has 8 points per edge; it and the box are null when the
 * raster has no CRS or transform, or its corners cannot be transformed to WGS 84. Strings
 * from the file are escaped; bytes that are not UTF-8 become U+FFFD.
 * *json is allocated with eos_malloc; the caller frees it with eos_free. Errors:
 * EOS_INVALID_ARG, EOS_NOMEM. */
eos_status eos_raster_info_json(const eos_raster *r, char **json /* OUT */);

/* ------------------------------------------------------------------ reading */

/* What fills the parts of a window that lie outside the raster. */
typedef enum eos_pad_mode {
    EOS_PAD_REFLECT = 0,  /* mirror reflection (see eos_tile_grid); validity of the source */
    EOS_PAD_NODATA  = 1   /* zeros, marked invalid in the validity mask */
} eos_pad_mode;

/* Read the selected bands of the window [x0, x0 + w) x [y0, y0 + h) (pixel coordinates; may
 * extend past any edge, padding per `pad`) into buf as `dtype` (band-sequential, see the file
 * comment; n_selected * h * w elements). dtype is one of u8, u16, i16, i32, f32, f64. Values
 * are converted like GDAL's RasterIO (clamped and rounded to integer types). valid, when not
 * NULL, receives h * w bytes of the validity mask; nodata values are compared in the band's
 * storage type (before conversion), and NaN pixels of float bands are always invalid.
 * Passing valid == NULL skips all mask work; rasters with no nodata, mask or alpha skip it
 * anyway. A window may lie entirely outside the raster as long as the gap between them is at
 * most its own size (w columns, h rows): reflect padding then mirrors pixels as for any other
 * padding, nodata padding gives zeros. All selected bands are read by one GDAL call; padding
 * needs no allocation when the mirrored pixels lie in the part of the window that is on the
 * raster, else one scratch buffer of at most the window's size, kept on r.
 * Errors, with the detail in eos_raster_errmsg(r): EOS_INVALID_ARG (w or h <= 0, a window
 * farther outside than that, an unsupported dtype, NULL buf), EOS_LIMIT (a window whose byte
 * size overflows), EOS_NOMEM, EOS_IO (the file is truncated or a block is corrupt: message
 * names the file and window). r stays usable after an error. */
eos_status eos_raster_read(eos_raster *r, int64_t x0, int64_t y0, int w, int h, eos_dtype dtype,
                           void *buf /* OUT */, uint8_t *valid /* OUT, may be NULL */,
                           eos_pad_mode pad);

/* Read the whole selected raster decimated to fit in max_w x max_h (aspect kept, nearest
 * neighbour; overviews used when present; never enlarged). *w, *h receive the size read and
 * buf is packed for it: n_selected planes of *w x *h; buf must hold n_selected * max_w * max_h
 * elements of dtype. valid as for eos_raster_read. For quicklooks and statistics. Errors as
 * eos_raster_read. */
eos_status eos_raster_read_decimated(eos_raster *r, int max_w, int max_h, eos_dtype dtype,
                                     void *buf /* OUT */, uint8_t *valid /* OUT, may be NULL */,
                                     int *w /* OUT */, int *h /* OUT */);

/* ------------------------------------------------------------------ normalisation */

/* Per-band scaling from storage values (DN) to model input, as docs/model-metadata.md defines:
 *     x = DN * scale + offset;  if (has_clip) x = clamp(x, clip_lo, clip_hi);  x = (x - mean) / std
 * Invalid (nodata) pixels become 0 after normalisation, so they feed the model as the mean. */
typedef struct eos_norm {
    int    n_bands;
    double scale[EOS_RASTER_MAX_BANDS];
    double offset[EOS_RASTER_MAX_BANDS];
    double mean[EOS_RASTER_MAX_BANDS];
    double std[EOS_RASTER_MAX_BANDS];
    bool   has_clip;
    double clip_lo, clip_hi;
} eos_norm;

/* The identity for n_bands bands (scale 1, offset 0, mean 0, std 1, no clip). */
void eos_norm_identity(eos_norm *norm /* OUT */, int n_bands);

/* Read eosight.norm.* from a model's metadata for its n_bands input bands (missing keys keep
 * the identity). Errors: EOS_PARSE (a list that is not finite numbers, a std <= 0, a clip
 * with min > max), EOS_SHAPE (a list whose length is not n_bands; a single value applies to
 * every band; a clip that is not two values), EOS_INVALID_ARG (n_bands outside
 * 1..EOS_RASTER_MAX_BANDS), each with a message in eos_ctx_errmsg(ctx) naming the key. On
 * error *norm is the identity. */
eos_status eos_norm_from_model(eos_ctx *ctx, const eos_model *m, int n_bands,
                               eos_norm *norm /* OUT */);

/* Normalise n_bands x n_px band-sequential values of type src_dtype (any eos_dtype) into f32
 * dst (may not alias src). valid (n_px bytes, may be NULL) zeroes invalid pixels in every
 * band. Errors: EOS_INVALID_ARG (NULL pointers, EOS_DTYPE_UNDEFINED, n_bands outside
 * 1..EOS_RASTER_MAX_BANDS, a std that is not > 0). Thread-safe. */
eos_status eos_norm_apply(const eos_norm *norm, eos_dtype src_dtype, const void *src,
                          int64_t n_px, const uint8_t *valid, float *dst /* OUT */);

/* Read a window (as eos_raster_read) straight into a normalised f32 CHW tensor body:
 * dst holds norm->n_bands * h * w floats; norm->n_bands must equal n_selected (EOS_SHAPE
 * otherwise). Invalid pixels are 0 in every band whether or not valid is given. The window is
 * read in the bands' storage type (f32 or f64 when they differ) into a scratch buffer kept on
 * r, grown as needed (f32 data is read straight into dst). Errors as eos_raster_read, with
 * the detail in eos_raster_errmsg(r). */
eos_status eos_raster_read_norm(eos_raster *r, int64_t x0, int64_t y0, int w, int h,
                                const eos_norm *norm, float *dst /* OUT */,
                                uint8_t *valid /* OUT, may be NULL */, eos_pad_mode pad);

/* ------------------------------------------------------------------ tiled reading */

typedef struct eos_tile_reader eos_tile_reader;

typedef struct eos_tile_reader_params {
    eos_dtype       dtype;      /* element type of tile buffers; F32 with norm for models */
    const eos_norm *norm;       /* copied; with dtype F32 tiles come normalised; may be NULL */
    int             n_ahead;    /* tiles read ahead by a background thread (0: read inline).
                                 * Memory held: (n_ahead + 1) tiles, whatever the scene size */
} eos_tile_reader_params;

eos_tile_reader_params eos_tile_reader_default_params(void);

/* Iterate over the tiles of `grid` (which must describe r's size) in row-major order. The
 * reader takes ownership of nothing; r must outlive it and must not be used by the caller
 * while the reader exists (the read-ahead thread owns it). Errors: EOS_INVALID_ARG, EOS_NOMEM. */
eos_status eos_tile_reader_create(eos_raster *r, const eos_tile_grid *grid,
                                  const eos_tile_reader_params *params,
                                  eos_tile_reader **out /* OUT */);

/* Next tile: *tile describes it, *data points at n_selected * tile_h * tile_w elements of
 * dtype, *valid at tile_h * tile_w validity bytes; both borrowed until the next call.
 * Returns EOS_OK with *done = false for each tile, then EOS_OK with *done = true at the end;
 * an error (EOS_IO ...) ends the iteration, message in eos_raster_errmsg(r). */
eos_status eos_tile_reader_next(eos_tile_reader *tr, eos_tile *tile /* OUT */,
                                const void **data /* OUT */, const uint8_t **valid /* OUT */,
                                bool *done /* OUT */);

/* Stops the read-ahead thread. NULL is a no-op. */
void eos_tile_reader_free(eos_tile_reader *tr);

/* Write the core of a tile (see eos_tile_grid) from a full tile buffer: tile_buf holds
 * n_bands * tile->read_h * tile->read_w elements of dtype, band-sequential, laid out like the
 * reader's tiles; the core (offset overlap/2 inside it) goes to (core_x0, core_y0) of w.
 * Writing every tile's core re-assembles the scene exactly. Errors as eos_raster_writer_write. */
eos_status eos_raster_writer_write_tile(eos_raster_writer *w, const eos_tile_grid *grid,
                                        const eos_tile *tile, int n_bands, eos_dtype dtype,
                                        const void *tile_buf);

/* ------------------------------------------------------------------ writing */

typedef enum eos_raster_format {
    EOS_RASTER_GTIFF = 0,   /* tiled GeoTIFF */
    EOS_RASTER_COG   = 1,   /* Cloud-Optimized GeoTIFF: tiled, overviews, COG layout */
    EOS_RASTER_PNG   = 2,   /* plain image (georeferencing in a .aux.xml / world file) */
    EOS_RASTER_JPEG  = 3
} eos_raster_format;

/* One entry of a colour table, 0..255 per channel. */
typedef struct eos_rgba { uint8_t r, g, b, a; } eos_rgba;

typedef struct eos_raster_writer_params {
    eos_raster_format format;
    int64_t     width_px, height_px;
    int         n_bands;
    eos_dtype   dtype;            /* u8, u16, i16, i32, f32, f64 */
    eos_georef  georef;           /* copied; crs may be NULL (no CRS written) */
    const char *compress;         /* "DEFLATE" (default when NULL), "LZW", "ZSTD", "NONE";
                                   * integer data gets the horizontal predictor, except class
                                   * masks with a colour table */
    int         block_px;         /* internal tile size, multiple of 16 in [16, 8192] (COG: at
                                   * least 128); 0: 512 */
    bool        has_nodata;
    double      nodata;           /* must be representable in dtype (an integer in range for
                                   * integer types; NaN allowed for f32/f64) */
    /* Single-band u8/u16 class masks: colour table entries (class i -> colors[i]) and category
     * names (GDAL's RAT-free category list, shown by QGIS and gdalinfo). May be NULL; when
     * either is given, n_classes (1..256 for u8, ..65536 for u16) entries are read from it.
     * NULL names are written as "". GDAL keeps category names in a "<path>.aux.xml" sidecar
     * (GeoTIFF cannot hold them); the writer moves it with the file. PNG: colours need u8;
     * JPEG: no colour table. COG overviews of a raster with colours use nearest neighbour
     * (class values stay classes), others average. */
    const eos_rgba    *colors;
    const char *const *class_names;
    int                n_classes;
    /* Band descriptions (n_bands entries), e.g. class names of a probability raster; NULL. */
    const char *const *band_names;
    int         quality;          /* JPEG quality 1..100; 0: 90. Other formats ignore it */
} eos_raster_writer_params;

eos_raster_writer_params eos_raster_writer_default_params(void);

/* Create a raster for writing. The data goes to a temporary file beside `path` ("path.part"),
 * renamed into place by a successful eos_raster_writer_close, so a crash never leaves a
 * half-written file under the final name. COG, PNG and JPEG output is written as a tiled
 * GeoTIFF and converted at close (COG with overviews) into a second temporary,
 * "path.part.out", which is then renamed. Memory stays bounded by GDAL's block cache whatever
 * the raster size. An existing file at `path` is replaced only by a successful close.
 * PNG holds 1..4 bands of u8/u16, JPEG 1 or 3 bands of u8. params->georef.crs is not kept
 * (it may be freed after the call). Errors: EOS_INVALID_ARG (bad params: message says
 * which), EOS_IO (cannot create the file), with detail in eos_ctx_errmsg(ctx). */
eos_status eos_raster_writer_create(eos_ctx *ctx, const char *path,
                                    const eos_raster_writer_params *params,
                                    eos_raster_writer **out /* OUT */);

/* Write a band-sequential window of `dtype` (n_bands * h * w elements) at (x0, y0); the window
 * must lie inside the raster. dtype may differ from the raster's (converted as GDAL's
 * RasterIO does). Errors: EOS_INVALID_ARG, EOS_IO (disk full ...), with the detail in
 * eos_raster_writer_errmsg(w). */
eos_status eos_raster_writer_write(eos_raster_writer *w, int64_t x0, int64_t y0, int width,
                                   int height, eos_dtype dtype, const void *buf);

/* Detail of the last failed call on w, or "". */
const char *eos_raster_writer_errmsg(const eos_raster_writer *w);

/* Flush, build overviews / the COG when asked, and rename into place. The handle is freed in
 * every case; on error the temporary file is removed and the message goes to ctx. */
eos_status eos_raster_writer_close(eos_ctx *ctx, eos_raster_writer *w);

/* Abandon a raster being written: frees the handle and removes the temporary file. NULL is a
 * no-op. */
void eos_raster_writer_discard(eos_raster_writer *w);

/* The classes of a class mask as written by eos_raster_writer (or any GDAL raster with a
 * colour table or category names), from the FIRST SELECTED band of r: *n receives the number
 * of classes, which is the number of category names when the band has any, else the number of
 * colour table entries, else 0, and at most max. colors[i] (may be NULL) receives entry i of the
 * colour table, or {0, 0, 0, 0} (transparent) for classes it does not cover; names[i] (may be
 * NULL) receives category name i, cut to 63 bytes at a UTF-8 character boundary, or "". Both
 * arrays need max entries. Errors: EOS_INVALID_ARG (r or n NULL, max < 0). */
eos_status eos_raster_class_table(const eos_raster *r, eos_rgba *colors, char (*names)[64],
                                  int max, int *n /* OUT */);

/* The built-in colour of class c (c >= 0) for masks that come without colours: hues spaced by
 * the golden angle, so neighbouring classes differ. Pure, thread-safe. */
eos_rgba eos_class_palette(int c);

/* ------------------------------------------------------------------ quicklooks */

typedef struct eos_quicklook_params {
    int    max_px;           /* longest side of the picture; 0: 1024 */
    int    bands[3];         /* 1-based file bands for R, G, B; 0: auto (colour interpretation,
                              * else 1,2,3, else band 1 as grey) */
    double p_lo, p_hi;       /* percentile stretch per band; defaults 2, 98 (8-bit sources with
                              * p_lo 0 and p_hi 100 are shown unstretched) */
    int    quality;          /* JPEG quality; 0: 90 */
} eos_quicklook_params;

eos_quicklook_params eos_quicklook_default_params(void);

/* Render an RGB picture of r (a percentile stretch, per band, of the decimated scene; nodata
 * pixels black) to a PNG or JPEG chosen by the extension of out_path (.png, .jpg, .jpeg, any
 * case). params may be NULL.
 *   Bands: params->bands must be among the bands selected when r was opened (open r with just
 *   the bands to show: every selected band is read); bands = {b, 0, 0} shows band b as grey.
 *   Stretch: per displayed band, from a histogram of its valid pixels in the decimated picture
 *   (exact, one bin per value, for integer data spanning < 65536 values; 4096 bins otherwise).
 *   The p-th percentile is the smallest value v such that at least p% of the valid pixels are
 *   <= v; a value x shows as round(255 * (x - lo) / (hi - lo)) clamped to 0..255. A constant
 *   band shows black.
 *   Size: the longest side is max_px (1..8192), never enlarged; the decimated read of all
 *   selected bands may take at most 1 GiB (EOS_LIMIT beyond).
 * Errors: EOS_INVALID_ARG (parameters, extension, bands), EOS_LIMIT, read errors of r, writer
 * errors; detail in eos_ctx_errmsg(ctx). */
eos_status eos_quicklook_rgb(eos_ctx *ctx, eos_raster *r, const eos_quicklook_params *params,
                             const char *out_path);

/* The same picture with a class mask blended over it (alpha 0..1; nodata/255 class pixels not
 * drawn) and a legend box in the corner listing each class present with its colour and name.
 * mask is a raster of the same extent (any size: it is decimated alike, nearest neighbour).
 *   Classes: the first selected band of mask; values outside [0, n_classes) (1..65536) are not
 *   drawn. colors may be NULL (a built-in palette of distinct hues); class_names may be NULL,
 *   as may its entries ("class N" is shown).
 *   Blend: with a = alpha * colors[c].a / 255, each channel becomes
 *   round((1 - a) * picture + a * colour).
 *   Legend: lower-left corner, a darkened box with, per class present (ascending), a square
 *   swatch of the exact class colour and the name in a built-in 5x7 font (printable ASCII;
 *   other bytes show as '?'), scaled 2x when the picture's longest side is 800 px or more;
 *   names are cut to fit, and classes that do not fit in the picture's height are left out. */
eos_status eos_quicklook_overlay(eos_ctx *ctx, eos_raster *image, eos_raster *mask,
                                 const eos_rgba *colors, const char *const *class_names,
                                 int n_classes, double alpha, const eos_quicklook_params *params,
                                 const char *out_path);

#ifdef __cplusplus
}
#endif
#endif /* EOSIGHT_RASTER_H */
