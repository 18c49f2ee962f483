/*
 * eosight/data.h - labelled imagery for training and evaluation: datasets in the layouts of
 * ../shared/data, augmentation applied identically to image and mask, and a batch loader whose
 * threads decode and augment ahead of the training step.
 *
 * Dataset layouts (DIR is what `eosight train --data DIR` / `eosight eval --data DIR` get):
 *
 *   classify  DIR/images/<class>/<file>  (or DIR/<class>/<file>: a plain ImageFolder, where
 *                                        the folders splits/ and masks/ are not classes)
 *             DIR/classes.txt            one class per line, index = line number from 0; or
 *                                        every line "<index> <name>" (eurosat-rgb's form)
 *                                        (absent: the sub-folder names, sorted)
 *             DIR/splits/NAME.txt        optional; lines "<class>/<file>[ <index>]" (a given
 *                                        index must be the class's); without a split every
 *                                        image (by extension) of the class folders, in class
 *                                        order, then file name order
 *   tag       the same images, plus DIR/multilabels.tsv (a header "IMAGE\LABEL<TAB>l1<TAB>...",
 *             then "<name without extension><TAB>0|1...") or a CSV "image,tags" with
 *             space-separated tags (the Planet format; the image column is a path relative to
 *             DIR/images or DIR, with or without extension). Split files as for classify.
 *             Labels: the TSV header's, or the CSV's distinct tags sorted by strcmp. A label
 *             row is matched to an image by its path without extension, else by file stem
 *             (a stem shared by two images is then an error). Without a split the items are
 *             the label rows, in file order (images without a row are not items); with one,
 *             the split's lines, each of which needs a row. The file type is told by the
 *             header: a TAB makes it TSV.
 *   segment   DIR/images/<name>.<ext> and DIR/masks/<name>.png (same size; any image
 *             extension is found), DIR/classes.csv "id,name,hex,r,g,b" for colour masks
 *             (columns are found by their header names: "name,r,g,b" or "id,name,hex" work;
 *             without a header the order above), or DIR/classes.txt (names only: masks are
 *             then class indices). Palette masks are decoded to RGB first when the classes
 *             have colours; other single-band masks are read as class indices (values of no
 *             class become EOS_IGNORE_INDEX). Mask pixels whose colour is not in the table
 *             (e.g. black) become EOS_IGNORE_INDEX. DIR/splits/NAME.txt lists basenames
 *             (an extension is dropped); without a split every image of DIR/images.
 *
 * Text files: UTF-8 (a byte order mark is skipped), LF or CRLF, blank lines skipped, fields
 * trimmed; CSV fields may be quoted. Paths in them must be relative and stay inside the
 * dataset (no "..", no leading '/'). Every listed image is checked to exist at open.
 *
 * Images are anything GDAL reads (JPEG, PNG, GeoTIFF with any band count and type). Alpha
 * bands are left out, as the raster layer's default band selection does; nodata values are
 * read as they are. A sample is f32 CHW in the image's own values (digital numbers: 0..255 for
 * 8-bit); normalisation (eos_norm, raster.h) is the loader's last step, so what is stored in
 * the model metadata is exactly what inference applies.
 *
 * Thread safety: a dataset is immutable after open (its decode cache is internal and guarded
 * by a mutex); eos_dataset_load may be called from many threads at once. A loader is used from
 * one thread (its worker threads are internal).
 */
#ifndef EOSIGHT_DATA_H
#define EOSIGHT_DATA_H

#include <stdbool.h>
#include <stdint.h>

#include "eosight/model.h"
#include "eosight/raster.h"
#include "eosight/rng.h"
#include "eosight/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Mask value (and target index) that losses and metrics skip. */
#define EOS_IGNORE_INDEX 255
#define EOS_DATA_MAX_CLASSES 254

typedef enum eos_task {
    EOS_TASK_CLASSIFY = 0,   /* one class per image */
    EOS_TASK_TAG,            /* any number of labels per image */
    EOS_TASK_SEGMENT         /* one class per pixel */
} eos_task;

/* "classify", "tag", "segment". */
const char *eos_task_name(eos_task t);
/* Parse those names (and "classification", "multilabel", "segmentation"); EOS_INVALID_ARG. */
eos_status eos_task_parse(const char *s, eos_task *out /* OUT */);

/* ------------------------------------------------------------------ datasets */

typedef struct eos_dataset eos_dataset;

typedef struct eos_dataset_params {
    eos_task    task;
    const char *split;        /* NULL: every image; else DIR/splits/<split>.txt must exist */
    const char *labels;       /* tag: labels file (TSV or CSV as above); NULL: DIR/multilabels.tsv */
    const char *const *ignore_classes;  /* segment: class names whose pixels become
                                           EOS_IGNORE_INDEX (the class keeps its index and
                                           name; a name of no class: EOS_INVALID_ARG) */
    int         n_ignore_classes;
    int64_t     cache_mb;     /* decoded images kept in memory up to this many MiB (0: none);
                                 kept in their storage type (8-bit images as bytes, 16-bit as
                                 16-bit), masks as one byte per pixel; the first images loaded
                                 fill it and stay, so later epochs skip decoding them */
} eos_dataset_params;

/* Open the dataset at root (a directory; for tag also accepted: a CSV file whose images are
 * relative to its directory). params NULL: classify, no split, no cache. Lists the items and
 * reads the label files; images are decoded lazily (only the first image's header is read,
 * for the band count). Errors (message in eos_ctx_errmsg(ctx), naming the file and line):
 * EOS_IO (missing directory/file), EOS_PARSE (malformed label/split/class file, unknown class,
 * duplicate item or class name, a first image GDAL cannot read), EOS_INVALID_ARG (empty
 * dataset, more than EOS_DATA_MAX_CLASSES classes, bad params), EOS_LIMIT (a first image too
 * large to decode whole), EOS_NOMEM. Free with eos_dataset_free (NULL is a no-op). */
eos_status eos_dataset_open(eos_ctx *ctx, const char *root, const eos_dataset_params *params,
                            eos_dataset **out /* OUT */);
void eos_dataset_free(eos_dataset *ds);

eos_task    eos_dataset_task(const eos_dataset *ds);
int64_t     eos_dataset_size(const eos_dataset *ds);
int         eos_dataset_n_classes(const eos_dataset *ds);     /* classes, or labels for tag */
const char *eos_dataset_class_name(const eos_dataset *ds, int c);
/* Segment: the class's mask colour (from classes.csv); false when it has none. */
bool        eos_dataset_class_color(const eos_dataset *ds, int c, uint8_t rgb[3] /* OUT */);
/* Band count of the first image (every image must have it: checked at load). */
int         eos_dataset_n_bands(const eos_dataset *ds);
/* Item name (path relative to the dataset's image folder). */
const char *eos_dataset_item_name(const eos_dataset *ds, int64_t i);
/* Classify: the item's class index. */
int         eos_dataset_label(const eos_dataset *ds, int64_t i);
/* Tag: n_classes bytes of 0/1. */
const uint8_t *eos_dataset_tags(const eos_dataset *ds, int64_t i);

/* One decoded item. img: c*h*w floats (CHW, raw values); mask: h*w class indices (segment
 * only, else NULL). Owned by the sample; free with eos_sample_free. */
typedef struct eos_sample {
    int      c, h, w;
    float   *img;
    uint8_t *mask;
} eos_sample;

/* Decode item i. Thread-safe. Errors: EOS_IO/EOS_PARSE naming the file, EOS_SHAPE when the
 * band count differs from the dataset's or the mask size from the image's, EOS_LIMIT for an
 * image of more than 2^30 values, EOS_INVALID_ARG for i out of range, EOS_NOMEM; message in
 * err_msg (err_cap bytes, may be NULL). *out is zeroed on failure. */
eos_status eos_dataset_load(const eos_dataset *ds, int64_t i, eos_sample *out /* OUT */,
                            char *err_msg, int err_cap);
void eos_sample_free(eos_sample *s);

/* Suggest a normalisation from the data: scale 1/255 for 8-bit images, 1/10000 for 16-bit
 * (Sentinel-2 reflectance), else 1; then per-band mean and std of the scaled values over up to
 * max_items items (<= 0: all) spread evenly over the dataset (a std of 0 becomes 1). Errors
 * as eos_dataset_load, message in eos_ctx_errmsg(ctx). */
eos_status eos_dataset_norm_suggest(eos_ctx *ctx, const eos_dataset *ds, int64_t max_items,
                                    eos_norm *out /* OUT */);

/* ------------------------------------------------------------------ augmentation */

/* Every operation has a probability p_* (0 disables it). Geometric operations move image and
 * mask together (bilinear for the image, nearest for the mask; outside the source: mirror
 * reflection). Rotation, shear, skew and scale are composed into one projective map, so the
 * image is interpolated once. Colour operations touch the image only. value_max
 * (eos_augment_apply) is the value range's top (255 for 8-bit data) used to scale
 * brightness/offset/noise; colour jitter clamps its result to [0, value_max]. Order: D4,
 * geometry, colour, gain/offset, noise. */
typedef struct eos_augment {
    float p_d4;                       /* one of the 8 flips/rot90s, uniformly (non-square
                                         images: one of the 4 that keep the shape) */
    float p_rotate, max_rotate_deg;   /* rotation by U(-max, max) degrees */
    float p_shear, max_shear_deg;     /* x or y shear by U(-max, max) degrees */
    float p_skew, skew;               /* perspective skew: corners moved by up to skew*size */
    float p_scale, scale_min, scale_max;  /* random resized crop: area share in [min, max],
                                              aspect ratio in [3/4, 4/3], resized back */
    float p_color, brightness, contrast, saturation, hue;  /* RGB (3-band) jitter: factors
                                         U(1-x, 1+x) (contrast and saturation about the grey
                                         level); hue: shift by U(-hue, hue) turns of the colour
                                         circle. Other band counts: skipped */
    float p_gain, gain, offset;       /* per band: x*U(1-gain,1+gain) + U(-offset,offset)*value_max */
    float p_noise, noise_std;         /* Gaussian noise, std noise_std*value_max */
} eos_augment;

/* No augmentation (all probabilities 0). */
void eos_augment_none(eos_augment *a /* OUT */);
/* The recommended recipe for a task: D4 always; classify/tag add random resized crop
 * (p 0.5, 0.6..1), brightness/contrast 0.2 (p 0.5; for n_bands != 3 per-band gain 0.2 and
 * offset 0.02 instead); segment adds rotation 0-180 degrees, shear 10 degrees and skew 0.1
 * (p 0.25 each) the way the Augmentor pipeline of the deepsense.ai talk does. */
void eos_augment_default(eos_augment *a /* OUT */, eos_task task, int n_bands);

/* Apply a to img (c x h x w, in place) and mask (h x w, in place, may be NULL). The result is
 * a function of a, the generator's state and the data only. Scratch memory comes from
 * eos_malloc; EOS_NOMEM on failure (img and mask unchanged); EOS_INVALID_ARG for NULL
 * pointers or sizes < 1. Thread-safe for distinct images and generators. */
eos_status eos_augment_apply(const eos_augment *a, eos_rng *rng, float *img, int c, int h, int w,
                             uint8_t *mask, float value_max);

/* ------------------------------------------------------------------ loader */

typedef enum eos_fit_mode {
    EOS_FIT_RESIZE = 0,  /* bilinear resize to the output size (mask: nearest) */
    EOS_FIT_CROP         /* random crop when training (augment set), centre crop otherwise
                            (padding by mirror reflection where the image is smaller) */
} eos_fit_mode;

typedef struct eos_loader_params {
    int            batch;          /* > 0 */
    int            out_h, out_w;   /* output size; 0: the images' own size (must all agree) */
    eos_fit_mode   fit;
    bool           shuffle;        /* new order each epoch from (seed, epoch) */
    bool           drop_last;      /* drop a final partial batch */
    uint64_t       seed;
    int            n_threads;      /* decode/augment threads; 0: 1; at most 64 */
    int            n_ahead;        /* batches prepared ahead; 0: 2; at most 64. Memory held:
                                      n_ahead + 1 batches plus per-thread scratch */
    const eos_augment *augment;    /* NULL: none (evaluation). Copied. Applied after fitting,
                                      with value_max 255 for 8-bit images, 10000 for 16-bit,
                                      else 1 */
    const eos_norm *norm;          /* applied last; NULL: identity. n_bands must match. Copied */
    /* Segmentation patch sampler (segment task with out_h/out_w set): an epoch is
     * patches_per_epoch random out_h x out_w patches drawn from images chosen with probability
     * proportional to their area; a target_share of them (default 0.5 when < 0) are re-drawn
     * (up to 20 tries) until they contain a pixel of one of target_classes (NULL: any class
     * other than the most frequent one in the dataset, counted over every mask at creation);
     * when none of the tries does, the patch is placed around a random target pixel of the
     * image, if it has one (so rare classes are found). Each patch is a target one with
     * probability target_share; 0 or 1 are allowed. 0 patches_per_epoch: one patch per
     * image, in epoch order. Patches reach past an image smaller than the patch by mirror
     * reflection. fit is not used. */
    int64_t        patches_per_epoch;
    float          target_share;
    const int     *target_classes;
    int            n_target_classes;
} eos_loader_params;

/* A batch, valid until the next eos_loader_next/start_epoch/free. x: [n, c, h, w] normalised f32.
 * classify: y[n]; tag: tags[n * n_classes] in {0, 1}; segment: mask[n * h * w] class indices
 * (EOS_IGNORE_INDEX to skip). index[n]: dataset item of each row. */
typedef struct eos_batch {
    int      n, c, h, w;
    float   *x;
    int32_t *y;
    float   *tags;
    uint8_t *mask;
    int64_t *index;
} eos_batch;

typedef struct eos_loader eos_loader;

/* Make a loader over ds (which must outlive it). Worker threads start at the first
 * eos_loader_start_epoch. The params struct is copied (augment and norm too). Errors, message
 * in eos_ctx_errmsg(ctx): EOS_INVALID_ARG (bad parameters, norm band count or a std <= 0, a
 * target class out of range), EOS_NOMEM, and read errors of the headers/masks the patch
 * sampler reads at creation. */
eos_status eos_loader_create(eos_ctx *ctx, const eos_dataset *ds, const eos_loader_params *params,
                             eos_loader **out /* OUT */);
/* Begin epoch `epoch` (>= 0): the order and every sample's augmentation are functions of
 * (seed, epoch, item) - (seed, epoch, patch number) for the patch sampler - never of thread
 * count or timing, so runs repeat exactly. May be called in the middle of an epoch (the rest
 * of it is dropped). Errors: EOS_INVALID_ARG (epoch < 0), EOS_NOMEM (no thread started). */
eos_status eos_loader_start_epoch(eos_loader *l, int epoch);
/* Batches in an epoch. */
int64_t eos_loader_n_batches(const eos_loader *l);
/* Next batch of the epoch; b->n == 0 at the end. A decode error in any item is returned here
 * (EOS_IO/EOS_PARSE/EOS_SHAPE) with the message (naming the file) in eos_loader_errmsg, for the
 * batch holding that item (the lowest failing row's message); the next call goes on with the
 * following batch. EOS_INVALID_ARG before the first eos_loader_start_epoch. */
eos_status eos_loader_next(eos_loader *l, eos_batch *b /* OUT */);
/* Detail of the last failed call on l, or "". Owned by l. */
const char *eos_loader_errmsg(const eos_loader *l);
/* Stop the threads and free. NULL is a no-op. */
void eos_loader_free(eos_loader *l);

#ifdef __cplusplus
}
#endif
#endif /* EOSIGHT_DATA_H */
