/*
 * src/geo/morph.c - clean-up of masks in memory: binary morphology with a disk, removal of small
 * objects and holes, per-class cleaning, and areas in m2 to pixel counts (include/eosight/mask.h).
 *
 * Morphology. A pixel is within the disk of radius r around p when dx^2 + dy^2 <= r^2, so the
 * disk is 2r+1 horizontal spans with half-widths w(dy) = floor(sqrt(r^2 - dy^2)). Dilation asks
 * "is there a foreground pixel in row y+dy within w(dy) columns of x, for some dy?". We keep,
 * for each of the 2r+1 rows around the output row, the prefix counts of its foreground pixels
 * (one linear pass per input row) in a ring buffer; the count in [x - w, x + w] is then one
 * subtraction, and an output row is 2r+1 element-wise subtractions OR-ed together, in blocks
 * the compiler vectorises. Cost: O(width * height * (2r+1)) cheap operations (8192 x 8192 with
 * r = 5: about 0.1 s on one core), scratch min(2r+1, height) * (width + 2r + 32) * 2 bytes.
 * Erosion is dilation of the complement: counts of background pixels, answer negated. Pixels
 * outside the image are never counted, which gives exactly the edge semantics of mask.h
 * (outside = background for dilation, foreground for erosion). Each input row is turned into
 * counts before the output row it could overwrite is written, so dst may alias src. Radii are
 * clamped to width + height (any larger disk covers the image from every pixel); more than
 * 32767 after that is refused (16-bit counts).
 *
 * Small objects and holes. Components are found by a scanline flood fill with an explicit stack
 * (never recursion) that marks pixels in the mask itself with temporary values, so no label image
 * is needed: a maximal run is marked when it is pushed, and the stack holds only the start index
 * of each run (8 bytes per run, at most 4 bytes per pixel in the worst, checkerboard, case and
 * tiny in practice). Temporary values: 2 = object kept, 4 = object to remove, 3 = background
 * region kept, 5 = hole to fill. Objects are removed first and holes are measured afterwards
 * (a speck removed inside a hole makes the hole larger), as scikit-image's pipelines do.
 *
 * Class masks. Each step runs on a scratch binary mask of one class; its result is applied in
 * two passes: additions first, then every removed pixel is assigned by a vote of its
 * neighbours read from the mask with all of the step's removed pixels still holding the class
 * (so they do not vote and the order of the scan does not matter), written to the scratch and
 * copied back. The background and nodata classes are not cleaned themselves.
 */
#include <math.h>
#include <string.h>

#include "core/err.h"
#include "eosight/alloc.h"
#include "eosight/mask.h"

/* Radii larger than this (after clamping to width + height, beyond which every radius gives the
 * same result) do not fit the 16-bit window counts. */
#define MORPH_MAX_RADIUS 32767
/* Scratch rows are padded to a multiple of this many elements and processed in blocks of it,
 * so that -O2 (GCC's "very cheap" vectoriser, which wants no scalar epilogue) vectorises them. */
#define MORPH_LANES 32

static bool dims_ok(int64_t width, int64_t height) {
    return width > 0 && height > 0 && width <= INT64_MAX / height &&
           (uint64_t)(width * height) <= (uint64_t)SIZE_MAX / 4;
}

/* ------------------------------------------------------------------ morphology */

typedef struct morph_scratch {
    int64_t   r;
    int64_t   n_pad;       /* width rounded up to MORPH_LANES */
    int64_t   row_len;     /* elements per ring row: n_pad + 2r + 1 */
    int64_t   n_ring;      /* rows held: min(2r+1, height) */
    uint16_t *ring;        /* n_ring rows of shifted prefix counts */
    uint16_t *acc;         /* n_pad: OR of the window counts of one output row */
    int64_t  *wtab;        /* half-width of the disk's span at |dy| */
} morph_scratch;

static int64_t isqrt64(int64_t v) {
    int64_t s = (int64_t)sqrt((double)v);
    while (s > 0 && s * s > v) s--;
    while ((s + 1) * (s + 1) <= v) s++;
    return s;
}

/* Prefix counts of the target pixels of one row (nonzero when fg, zero when !fg), shifted by r:
 * a[k] = number of targets at columns < k - r, so the targets in columns [x - w, x + w] number
 * a[x + w + 1 + r] - a[x - w + r]. Modulo 2^16, which is exact for windows of <= 65535 px. */
static void row_prefix(const uint8_t *row, int64_t width, bool fg, const morph_scratch *s,
                       uint16_t *a) {
    uint16_t c = 0;
    int64_t k = 0;
    for (; k <= s->r; k++) a[k] = 0;
    if (fg)
        for (int64_t x = 0; x < width; x++) a[k++] = c = (uint16_t)(c + (row[x] != 0));
    else
        for (int64_t x = 0; x < width; x++) a[k++] = c = (uint16_t)(c + (row[x] == 0));
    for (; k < s->row_len; k++) a[k] = c;
}

/* OR into acc the number of targets within w columns of each x. */
static void span_test(const uint16_t *a, const morph_scratch *s, int64_t w,
                      uint16_t *restrict acc) {
    const uint16_t *restrict hi = a + w + 1 + s->r, *restrict lo = a + s->r - w;
    for (int64_t b = 0; b < s->n_pad; b += MORPH_LANES)
        for (int k = 0; k < MORPH_LANES; k++)
            acc[b + k] |= (uint16_t)(hi[b + k] - lo[b + k]);
}

static eos_status scratch_init(morph_scratch *s, int64_t width, int64_t height, int64_t r) {
    memset(s, 0, sizeof *s);
    s->r = r;
    s->n_pad = (width + MORPH_LANES - 1) / MORPH_LANES * MORPH_LANES;
    s->row_len = s->n_pad + 2 * r + 1;
    s->n_ring = 2 * r + 1 < height ? 2 * r + 1 : height;
    int64_t n_w = r + 1 < height ? r + 1 : height;
    s->ring = eos_malloc((size_t)s->n_ring * (size_t)s->row_len * sizeof *s->ring);
    s->acc = eos_malloc((size_t)s->n_pad * sizeof *s->acc);
    s->wtab = eos_malloc((size_t)n_w * sizeof *s->wtab);
    if (!s->ring || !s->acc || !s->wtab) return EOS_NOMEM;
    for (int64_t dy = 0; dy < n_w; dy++) s->wtab[dy] = isqrt64(r * r - dy * dy);
    return EOS_OK;
}

static void scratch_free(morph_scratch *s) {
    eos_free(s->ring);
    eos_free(s->acc);
    eos_free(s->wtab);
}

/* Output row y from the acc of its window counts: found = some count nonzero. */
static void emit_row(const uint16_t *acc, int64_t width, bool dilate, uint8_t *out) {
    if (dilate)
        for (int64_t x = 0; x < width; x++) out[x] = acc[x] != 0;
    else
        for (int64_t x = 0; x < width; x++) out[x] = acc[x] == 0;
}

/* Dilation (dilate = true) or erosion of src into dst with a disk of radius r. */
static eos_status morph(const uint8_t *src, int64_t width, int64_t height, int radius_px,
                        uint8_t *dst, bool dilate) {
    if (!src || !dst || radius_px < 0 || !dims_ok(width, height)) return EOS_INVALID_ARG;
    int64_t r = radius_px < width + height ? radius_px : width + height;
    if (r > MORPH_MAX_RADIUS) return EOS_INVALID_ARG;
    morph_scratch s;
    eos_status st = scratch_init(&s, width, height, r);
    if (st) {
        scratch_free(&s);
        return st;
    }
    size_t w = (size_t)width, rl = (size_t)s.row_len;
    int64_t next = 0;   /* next input row to turn into counts */
    for (int64_t y = 0; y < height; y++) {
        int64_t lo = y - r < 0 ? 0 : y - r, hi = y + r < height ? y + r : height - 1;
        for (; next <= hi; next++)
            row_prefix(src + (size_t)next * w, width, dilate, &s,
                       s.ring + (size_t)(next % s.n_ring) * rl);
        memset(s.acc, 0, (size_t)s.n_pad * sizeof *s.acc);
        for (int64_t yy = lo; yy <= hi; yy++)
            span_test(s.ring + (size_t)(yy % s.n_ring) * rl, &s, s.wtab[yy > y ? yy - y : y - yy],
                      s.acc);
        emit_row(s.acc, width, dilate, dst + (size_t)y * w);
    }
    scratch_free(&s);
    return EOS_OK;
}

eos_status eos_mask_dilate(const uint8_t *src, int64_t width, int64_t height, int radius_px,
                           uint8_t *dst) {
    return morph(src, width, height, radius_px, dst, true);
}

eos_status eos_mask_erode(const uint8_t *src, int64_t width, int64_t height, int radius_px,
                          uint8_t *dst) {
    return morph(src, width, height, radius_px, dst, false);
}

eos_status eos_mask_open(const uint8_t *src, int64_t width, int64_t height, int radius_px,
                         uint8_t *dst) {
    eos_status st = morph(src, width, height, radius_px, dst, false);
    return st ? st : morph(dst, width, height, radius_px, dst, true);
}

eos_status eos_mask_close(const uint8_t *src, int64_t width, int64_t height, int radius_px,
                          uint8_t *dst) {
    eos_status st = morph(src, width, height, radius_px, dst, true);
    return st ? st : morph(dst, width, height, radius_px, dst, false);
}

/* ------------------------------------------------------------------ connected components */

enum {
    MARK_OBJ_KEEP  = 2,
    MARK_HOLE_KEEP = 3,
    MARK_OBJ_DROP  = 4,
    MARK_HOLE_FILL = 5
};

typedef struct fill_stack {
    int64_t *v;     /* start index (y * width + x0) of each marked run */
    size_t   n, cap;
} fill_stack;

typedef struct fill_job {
    uint8_t *m;
    int64_t  width, height;
    uint8_t  from, to;     /* pixels of value `from` connected to the seed become `to` */
    bool     conn8;
    int64_t  count;        /* OUT: pixels marked */
    bool     border;       /* OUT: the component touches the image border */
} fill_job;

static bool stack_push(fill_stack *s, int64_t idx) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4096;
        int64_t *v = eos_realloc(s->v, cap * sizeof *v);
        if (!v) return false;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = idx;
    return true;
}

/* Mark the maximal run of `from` pixels through column x of row y and push its start. */
static bool mark_run(fill_job *j, fill_stack *s, int64_t y, int64_t x, int64_t *x_end) {
    uint8_t *row = j->m + (size_t)(y * j->width);
    int64_t x0 = x, x1 = x;
    while (x0 > 0 && row[x0 - 1] == j->from) x0--;
    while (x1 + 1 < j->width && row[x1 + 1] == j->from) x1++;
    memset(row + x0, j->to, (size_t)(x1 - x0 + 1));
    j->count += x1 - x0 + 1;
    *x_end = x1;
    return stack_push(s, y * j->width + x0);
}

/* Push every run of `from` in row ny that touches columns [lo, hi]. */
static bool scan_row(fill_job *j, fill_stack *s, int64_t ny, int64_t lo, int64_t hi) {
    const uint8_t *row = j->m + (size_t)(ny * j->width);
    for (int64_t x = lo; x <= hi; x++) {
        if (row[x] != j->from) continue;
        if (!mark_run(j, s, ny, x, &x)) return false;
    }
    return true;
}

/* Flood fill from seed (which must hold `from`). Every `to` run in a row is exactly one marked
 * run (a horizontal neighbour of `from` would have been part of it), so a popped start index
 * is enough to find the run's end again. */
static eos_status flood_fill(fill_job *j, fill_stack *s, int64_t seed) {
    int64_t w = j->width, end, c = j->conn8 ? 1 : 0;
    j->count = 0;
    j->border = false;
    s->n = 0;
    if (!mark_run(j, s, seed / w, seed % w, &end)) return EOS_NOMEM;
    while (s->n) {
        int64_t idx = s->v[--s->n], y = idx / w, x0 = idx % w, x1 = x0;
        const uint8_t *row = j->m + (size_t)(y * w);
        while (x1 + 1 < w && row[x1 + 1] == j->to) x1++;
        if (y == 0 || y == j->height - 1 || x0 == 0 || x1 == w - 1) j->border = true;
        int64_t lo = x0 - c < 0 ? 0 : x0 - c, hi = x1 + c < w ? x1 + c : w - 1;
        if (y > 0 && !scan_row(j, s, y - 1, lo, hi)) return EOS_NOMEM;
        if (y + 1 < j->height && !scan_row(j, s, y + 1, lo, hi)) return EOS_NOMEM;
    }
    return EOS_OK;
}

/* Temporary marks back to 0/1: kept objects and filled holes are foreground. */
static void unmark(uint8_t *m, size_t n) {
    for (size_t i = 0; i < n; i++)
        m[i] = m[i] == 1 || m[i] == MARK_OBJ_KEEP || m[i] == MARK_HOLE_FILL;
}

/* One pass over the 8-connected objects (value 1) or the 4-connected background regions
 * (value 0): each is marked kept, then re-marked to drop (objects) or fill (holes not touching
 * the border) when it has fewer than `limit` pixels. */
static eos_status components_pass(uint8_t *m, int64_t width, int64_t height, bool objects,
                                  int64_t limit, fill_stack *s) {
    const uint8_t from = objects ? 1 : 0, mark = objects ? MARK_OBJ_KEEP : MARK_HOLE_KEEP;
    fill_job j = { m, width, height, from, mark, objects, 0, false };
    int64_t n = width * height;
    for (int64_t i = 0; i < n; i++) {
        if (m[i] != from) continue;
        j.from = from;
        j.to = mark;
        if (flood_fill(&j, s, i)) return EOS_NOMEM;
        if (j.count >= limit || (!objects && j.border)) continue;
        j.from = j.to;
        j.to = objects ? MARK_OBJ_DROP : MARK_HOLE_FILL;
        if (flood_fill(&j, s, i)) return EOS_NOMEM;
    }
    return EOS_OK;
}

eos_status eos_mask_remove_small(uint8_t *mask, int64_t width, int64_t height, int64_t min_px,
                                 int64_t max_hole_px) {
    if (!mask || !dims_ok(width, height) || min_px < 0 || max_hole_px < 0) return EOS_INVALID_ARG;
    size_t n = (size_t)(width * height);
    for (size_t i = 0; i < n; i++) mask[i] = mask[i] != 0;
    fill_stack s = { 0 };
    eos_status st = EOS_OK;
    if (min_px > 1) {
        st = components_pass(mask, width, height, true, min_px, &s);
        unmark(mask, n);
    }
    if (!st && max_hole_px > 1) {
        st = components_pass(mask, width, height, false, max_hole_px, &s);
        unmark(mask, n);
    }
    eos_free(s.v);
    return st;
}

/* ------------------------------------------------------------------ class masks */

eos_mask_clean_params eos_mask_clean_default_params(void) {
    eos_mask_clean_params p;
    memset(&p, 0, sizeof p);
    p.nodata = EOS_MASK_NODATA;
    p.background = 0;
    return p;
}

typedef struct clean_job {
    uint8_t      *mask;
    uint8_t      *bin;      /* scratch: binary mask of the class, then the new classes */
    int64_t       width, height;
    uint8_t       c;        /* class being cleaned */
    const eos_mask_clean_params *p;
} clean_job;

/* Most frequent class among the 8 neighbours of (x, y) that is neither c nor nodata; ties go
 * to the smallest class; background when there is none. */
static uint8_t vote(const clean_job *j, int64_t x, int64_t y) {
    uint8_t cls[8], cnt[8];
    int n = 0;
    for (int64_t dy = -1; dy <= 1; dy++) {
        for (int64_t dx = -1; dx <= 1; dx++) {
            int64_t xx = x + dx, yy = y + dy;
            if ((!dx && !dy) || xx < 0 || yy < 0 || xx >= j->width || yy >= j->height) continue;
            uint8_t k = j->mask[yy * j->width + xx];
            if (k == j->c || k == j->p->nodata) continue;
            int i = 0;
            while (i < n && cls[i] != k) i++;
            if (i == n) { cls[n] = k; cnt[n++] = 0; }
            cnt[i]++;
        }
    }
    uint8_t best = j->p->background;
    int best_n = 0;
    for (int i = 0; i < n; i++)
        if (cnt[i] > best_n || (cnt[i] == best_n && cls[i] < best)) {
            best = cls[i];
            best_n = cnt[i];
        }
    return best;
}

/* Apply the step's new binary mask (in j->bin) to the class mask: added pixels take class c
 * unless nodata; removed ones the neighbours' vote, computed on the mask after the additions
 * with all removed pixels still holding c (so the vote does not depend on scan order). */
static void apply_step(clean_job *j) {
    size_t n = (size_t)(j->width * j->height);
    uint8_t *m = j->mask, *b = j->bin;
    for (size_t i = 0; i < n; i++)
        if (b[i] && m[i] != j->c && m[i] != j->p->nodata) m[i] = j->c;
    for (int64_t y = 0; y < j->height; y++) {
        for (int64_t x = 0; x < j->width; x++) {
            size_t i = (size_t)(y * j->width + x);
            b[i] = m[i] == j->c && !b[i] ? vote(j, x, y) : m[i];
        }
    }
    memcpy(m, b, n);
}

static void class_binary(const clean_job *j) {
    size_t n = (size_t)(j->width * j->height);
    for (size_t i = 0; i < n; i++) j->bin[i] = j->mask[i] == j->c;
}

static eos_status clean_class(clean_job *j) {
    const eos_mask_clean_params *p = j->p;
    int64_t w = j->width, h = j->height;
    if (p->close_radius_px > 0) {
        class_binary(j);
        EOS_TRY(eos_mask_close(j->bin, w, h, p->close_radius_px, j->bin));
        apply_step(j);
    }
    if (p->open_radius_px > 0) {
        class_binary(j);
        EOS_TRY(eos_mask_open(j->bin, w, h, p->open_radius_px, j->bin));
        apply_step(j);
    }
    if (p->min_object_px > 1 || p->min_hole_px > 1) {
        class_binary(j);
        EOS_TRY(eos_mask_remove_small(j->bin, w, h, p->min_object_px, p->min_hole_px));
        apply_step(j);
    }
    return EOS_OK;
}

eos_status eos_mask_clean(uint8_t *mask, int64_t width, int64_t height,
                          const eos_mask_clean_params *params) {
    if (!mask || !params || !dims_ok(width, height)) return EOS_INVALID_ARG;
    if (params->open_radius_px < 0 || params->close_radius_px < 0 || params->min_object_px < 0 ||
        params->min_hole_px < 0)
        return EOS_INVALID_ARG;
    size_t n = (size_t)(width * height);
    bool present[256] = { false };
    for (size_t i = 0; i < n; i++) present[mask[i]] = true;
    clean_job j = { mask, eos_malloc(n), width, height, 0, params };
    if (!j.bin) return EOS_NOMEM;
    eos_status st = EOS_OK;
    for (int c = 0; c < 256 && !st; c++) {
        if (!present[c] || c == params->nodata || c == params->background) continue;
        j.c = (uint8_t)c;
        st = clean_class(&j);
    }
    eos_free(j.bin);
    return st;
}

/* ------------------------------------------------------------------ areas */

/* WGS 84 */
#define WGS84_A  6378137.0
#define WGS84_F  (1.0 / 298.257223563)

/* Area on the WGS 84 ellipsoid between the equator and latitude phi, per radian of longitude
 * (the authalic "q" function times b^2 / 2). */
static double ellipsoid_band(double phi_rad) {
    double e2 = WGS84_F * (2.0 - WGS84_F), e = sqrt(e2), b = WGS84_A * (1.0 - WGS84_F);
    double s = sin(phi_rad);
    double q = s / (1.0 - e2 * s * s) + log((1.0 + e * s) / (1.0 - e * s)) / (2.0 * e);
    return 0.5 * b * b * q;
}

/* Area of one pixel of a geographic raster at the raster's centre. North-up pixels use the
 * exact band formula; rotated ones the local scale M(phi) * N(phi) * cos(phi) * |det|. */
static double geographic_pixel_area(const eos_geotransform *t, int64_t width, int64_t height) {
    const double *gt = t->gt, d2r = 3.14159265358979323846 / 180.0;
    double lat = gt[3] + 0.5 * (double)width * gt[4] + 0.5 * (double)height * gt[5];
    double det = fabs(gt[1] * gt[5] - gt[2] * gt[4]);
    if (gt[2] == 0.0 && gt[4] == 0.0) {
        double half = 0.5 * fabs(gt[5]);
        return fabs(gt[1]) * d2r * fabs(ellipsoid_band((lat + half) * d2r) -
                                         ellipsoid_band((lat - half) * d2r));
    }
    double e2 = WGS84_F * (2.0 - WGS84_F), s = sin(lat * d2r), w = 1.0 - e2 * s * s;
    double m = WGS84_A * (1.0 - e2) / (w * sqrt(w)), nn = WGS84_A / sqrt(w);
    return det * d2r * d2r * m * nn * cos(lat * d2r);
}

double eos_georef_pixel_area_m2(const eos_georef *g, int64_t width_px, int64_t height_px) {
    double px_m2 = 1.0;   /* no georeferencing: a pixel counts as 1 m2 */
    if (g && g->has_transform) {
        const double *gt = g->transform.gt;
        px_m2 = fabs(gt[1] * gt[5] - gt[2] * gt[4]);
        if (g->crs && eos_crs_is_geographic(g->crs)) {
            px_m2 = geographic_pixel_area(&g->transform, width_px, height_px);
        } else if (g->crs) {
            double u = eos_crs_linear_units_m(g->crs);
            px_m2 *= u * u;
        }
    }
    return px_m2;
}

int64_t eos_mask_area_to_px(const eos_georef *g, int64_t width_px, int64_t height_px,
                            double area_m2) {
    if (!(area_m2 > 0)) return 0;
    double px_m2 = eos_georef_pixel_area_m2(g, width_px, height_px);
    if (!(px_m2 > 0) || !isfinite(px_m2)) return 0;
    double n = area_m2 / px_m2;
    n -= n * 1e-12;   /* 100 m2 over 100.0000000000001 m2 pixels is 1 pixel, not 2 */
    if (!(n < 9.2e18)) return INT64_MAX;
    return (int64_t)ceil(n);
}
