/*
 * src/data/data_internal.h - what the files of src/data share behind include/eosight/data.h:
 * the eos_dataset struct, the text helpers the label parsers use, image decoding into "views",
 * and the resampling kernels used by both augmentation and the loader.
 *
 * Files: text.c (label/split/class text files, CSV fields, a string map), classes.c (class
 * lists and mask colours), dataset.c (opening, item listing, accessors), decode.c (GDAL
 * decoding, mask colour lookup, the decoded-image cache, eos_dataset_load), warp.c (bilinear /
 * nearest resampling with mirror reflection, windows), augment.c, loader.c.
 *
 * A view is an item's decoded pixels in their storage type (u8, u16, i16 or f32), either
 * borrowed from the dataset's cache (cached entries are immutable and live as long as the
 * dataset) or owned by the view. Loader workers take views, cut or resample what they need
 * into f32 and release them: an image that is in the cache is never copied whole.
 */
#ifndef EOS_DATA_INTERNAL_H
#define EOS_DATA_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "eosight/data.h"

/* ------------------------------------------------------------------ text files */

/* A text file read whole into memory (NUL-terminated copy); lines are cut in place. */
typedef struct eos__text {
    char       *buf;
    size_t      len;
    size_t      pos;       /* next unread byte */
    int         line;      /* number (1-based) of the line last returned */
    const char *path;      /* borrowed, for messages */
} eos__text;

#define EOS_DATA_MAX_TEXT_BYTES ((size_t)1 << 30)   /* label files larger than 1 GiB: EOS_PARSE */

/* Read path. EOS_IO when it cannot be read, EOS_PARSE when it holds a NUL byte or is too
 * large, EOS_NOMEM. A UTF-8 byte order mark is skipped. */
eos_status eos__text_load(eos__text *t, const char *path, eos_err *err);
void       eos__text_free(eos__text *t);
/* Next line with '\r' and surrounding blanks stripped; blank lines are skipped. NULL at the
 * end. t->line is the line's number. */
char      *eos__text_next(eos__text *t);
/* Split a CSV line in place (RFC 4180 quotes, fields trimmed of blanks). At most max fields;
 * returns the count, or -1 for an unterminated quote or more than max fields. */
int        eos__csv_split(char *line, char sep, char **fields, int max);
/* Parse a whole decimal integer in [lo, hi]; false when s is anything else. */
bool       eos__parse_int(const char *s, int64_t lo, int64_t hi, int64_t *out);

/* A string -> int64 map (open addressing, FNV-1a). Keys are borrowed, not copied. */
typedef struct eos__strmap {
    const char **keys;
    int64_t     *vals;
    size_t       cap;    /* power of two */
    size_t       n;
} eos__strmap;

eos_status eos__strmap_init(eos__strmap *m, size_t n_expected);
void       eos__strmap_free(eos__strmap *m);
/* Insert key -> val. Returns the existing value when the key was already present (the map is
 * unchanged), -1 when inserted, -2 when out of memory. Keys must stay valid while the map is
 * used; values must be >= 0. */
int64_t    eos__strmap_put(eos__strmap *m, const char *key, int64_t val);
/* The value of key, or -1. */
int64_t    eos__strmap_get(const eos__strmap *m, const char *key);

/* Join a and b with '/' into a new eos_malloc'd string (NULL on failure). */
char *eos__path_join(const char *a, const char *b);
/* True when the file name ends in an image extension GDAL reads (.jpg .png .tif ...). */
bool  eos__is_image_name(const char *name);
/* A relative path that stays inside its folder: not empty, not absolute, no "." or ".."
 * component, no empty component. */
bool  eos__safe_relpath(const char *p);
bool  eos__is_dir(const char *path);
bool  eos__is_file(const char *path);

typedef enum eos__list_kind { EOS__LIST_DIRS, EOS__LIST_IMAGES } eos__list_kind;
/* The sub-folders, or the image files (by extension), of dir, sorted by strcmp, hidden entries
 * (".x") left out. *names (eos_malloc'd strings) is freed with eos__names_free. EOS_IO when
 * dir cannot be listed. */
eos_status eos__list_dir(const char *dir, eos__list_kind kind, char ***names, int64_t *n,
                         eos_err *err);
void       eos__names_free(char **names, int64_t n);

/* ------------------------------------------------------------------ the dataset */

typedef struct eos__item {
    char    *path;        /* image file */
    char    *mask_path;   /* segment: mask file, else NULL */
    char    *name;        /* path relative to the image folder (points into its own string) */
    int      label;       /* classify */
    int      w, h;        /* size once known (0: not yet), guarded by the dataset's mutex */
    /* cache entry: immutable once set, freed with the dataset */
    void    *c_img;
    uint8_t *c_mask;
    int      c_c, c_w, c_h;
} eos__item;

struct eos_dataset {
    eos_task   task;
    char      *root;          /* the dataset directory */
    char      *img_dir;       /* DIR/images, or DIR for a plain ImageFolder */
    int        n_classes;
    char     **class_names;
    bool      *has_color;     /* per class (segment) */
    uint8_t  (*color)[3];
    uint8_t   *class_map;     /* segment: class -> target value (itself or EOS_IGNORE_INDEX) */
    uint32_t  *lut_rgb;       /* sorted colours (r << 16 | g << 8 | b) */
    uint8_t   *lut_cls;       /* their target values */
    int        n_lut;

    int64_t    n_items;
    eos__item *items;
    uint8_t   *tags;          /* tag: n_items * n_classes */

    int        n_bands;       /* of the first image */
    eos_dtype  dtype;         /* storage type images decode to: u8, u16, i16 or f32 */

    pthread_mutex_t mu;       /* guards item sizes and the cache */
    int64_t    cache_cap, cache_used;   /* bytes */
};

/* Build the class table of a segment dataset from classes.csv or classes.txt in ds->root,
 * and the colour lookup; apply params->ignore_classes. */
eos_status eos__classes_segment(eos_dataset *ds, const eos_dataset_params *p, eos_err *err);
/* Class list of a classify dataset: classes.txt, else the sub-folders of ds->img_dir. */
eos_status eos__classes_classify(eos_dataset *ds, eos_err *err);
/* Set ds->class_names from n strings (copied). Checks the count, empty and duplicate names. */
eos_status eos__classes_set(eos_dataset *ds, char *const *names, int n, const char *src,
                            eos_err *err);

/* ------------------------------------------------------------------ decoding */

typedef struct eos__view {
    int            c, h, w;
    eos_dtype      dtype;     /* of img */
    const void    *img;       /* h*w*c, pixel-interleaved; NULL when not asked for */
    const uint8_t *mask;      /* h*w target values (segment), NULL when not asked for */
    void          *own_img;   /* freed by eos__view_release */
    uint8_t       *own_mask;
} eos__view;

/* Decode item i (image and/or mask), from the cache when there, filling it when room is
 * left. Checks the band count against the dataset's and the mask size against the image's.
 * Errors as eos_dataset_load. Thread-safe. */
eos_status eos__dataset_view(const eos_dataset *ds, int64_t i, bool want_img, bool want_mask,
                             eos__view *v, eos_err *err);
void       eos__view_release(eos__view *v);
/* Width and height of item i (reads the file's header once). Thread-safe. */
eos_status eos__dataset_item_size(const eos_dataset *ds, int64_t i, int *w, int *h,
                                  eos_err *err);
/* Band count and storage type of an image file (header only). */
eos_status eos__image_probe(const char *path, int *n_bands, eos_dtype *dtype, int *w, int *h,
                            eos_err *err);
/* Free every cache entry (dataset teardown). */
void       eos__cache_free(eos_dataset *ds);

/* ------------------------------------------------------------------ resampling (warp.c) */

typedef enum eos__edge { EOS__EDGE_REFLECT = 0, EOS__EDGE_CLAMP } eos__edge;

/* Mirror-reflect index i into [0, n) (edge pixel not repeated: ... 2 1 | 0 1 2 ...). */
int  eos__reflect(int64_t i, int n);
/* Copy the window [x0, x0+ow) x [y0, y0+oh) of a pixel-interleaved h x w x c image of type st
 * (a view's layout) into band-sequential f32 dst (c x oh x ow), reflecting outside. */
void eos__window_f32(const void *src, eos_dtype st, int c, int h, int w, int x0, int y0,
                     int ow, int oh, float *dst);
/* Same for a mask (u8). */
void eos__window_u8(const uint8_t *src, int h, int w, int x0, int y0, int ow, int oh,
                    uint8_t *dst);
/* Resample: output pixel centre (x+0.5, y+0.5) maps through the 3x3 projective matrix m
 * (row-major) to source coordinates; image bilinear, mask nearest. Either may be NULL. */
void eos__warp(const double m[9], const float *src, const uint8_t *src_mask, int c, int h,
               int w, float *dst, uint8_t *dst_mask, int oh, int ow, eos__edge edge);
/* Bilinear resize (half-pixel centres, edge clamp) / nearest for the mask. */
void eos__resize(const float *src, const uint8_t *src_mask, int c, int h, int w, float *dst,
                 uint8_t *dst_mask, int oh, int ow);

/* ------------------------------------------------------------------ augmentation */

/* Apply D4 element `op` (0..7) to img (c x h x w) and mask (may be NULL), using scratch (c*h*w
 * floats, h*w bytes). With fx = op & 1, fy = op & 2, t = op & 4:
 *     out[y][x] = in[sy][sx],  u = fy ? h-1-y : y,  v = fx ? w-1-x : x,  (sy, sx) = t ? (v, u) :
 * (u, v) Ops 4..7 (transposing) need h == w. */
void eos__d4_apply(int op, float *img, int c, int h, int w, uint8_t *mask, float *scratch,
                   uint8_t *mask_scratch);

#endif /* EOS_DATA_INTERNAL_H */
