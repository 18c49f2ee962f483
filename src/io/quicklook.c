/*
 * src/io/quicklook.c - RGB quicklooks and class-mask overlays (include/eosight/raster.h,
 * "quicklooks").
 *
 * A quicklook reads the whole raster once, decimated to at most max_px on its longest side
 * (eos_raster_read_decimated uses overviews when the file has them), as f32. Each displayed
 * band is stretched linearly between two percentiles of its valid pixels, taken from a
 * histogram: one bin per integer value when the band holds integers spanning fewer than 65536
 * values (exact percentiles for u8/u16/i16 data), else 4096 equal bins between the minimum and
 * the maximum. The p-th percentile is the smallest bin value v such that at least p% of the
 * valid pixels are <= v (p = 0 gives the minimum, p = 100 the maximum); a value x then shows as
 * round(255 * (x - lo) / (hi - lo)), clamped. Nodata pixels are black.
 *
 * The overlay blends class colours over that picture and draws a legend with the built-in
 * bitmap font (font5x7.h). Pictures are small (max_px^2 x 3 bytes) and are saved through the
 * raster writer as PNG or JPEG.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"
#include "eosight/alloc.h"
#include "eosight/mask.h"
#include "eosight/raster.h"
#include "io/font5x7.h"

#define QL_MAX_PX         8192
#define QL_MAX_READ_BYTES ((size_t)1 << 30)   /* decimated read of all selected bands */
#define QL_INT_BINS       65536                /* exact histogram up to this many values */
#define QL_FLOAT_BINS     4096
#define QL_LABEL_MAX      40                   /* legend label characters */

eos_quicklook_params eos_quicklook_default_params(void) {
    eos_quicklook_params p;
    memset(&p, 0, sizeof p);
    p.max_px = 1024;
    p.p_lo = 2;
    p.p_hi = 98;
    p.quality = 90;
    return p;
}

/* An RGB picture: 3 x h x w bytes, band-sequential like every buffer of raster.h. */
typedef struct picture {
    int      w, h;
    uint8_t *rgb;
} picture;

/* The decimated read of one raster: n_sel x h x w floats and h x w validity bytes. */
typedef struct decimated {
    int      n_sel, w, h;
    float   *v;
    uint8_t *valid;
} decimated;

static void decimated_free(decimated *d) {
    eos_free(d->v);
    eos_free(d->valid);
    memset(d, 0, sizeof *d);
}

static void put_px(picture *pic, int x, int y, uint8_t r, uint8_t g, uint8_t b) {
    if (x < 0 || y < 0 || x >= pic->w || y >= pic->h) return;
    size_t plane = (size_t)pic->w * (size_t)pic->h, i = (size_t)y * (size_t)pic->w + (size_t)x;
    pic->rgb[i] = r;
    pic->rgb[plane + i] = g;
    pic->rgb[2 * plane + i] = b;
}

static uint8_t to_byte(double x) {
    if (!(x > 0)) return 0;
    if (x >= 255) return 255;
    return (uint8_t)(x + 0.5);
}

/* ------------------------------------------------------------------ parameters and bands */

static eos_status check_params(const eos_quicklook_params *in, eos_quicklook_params *p,
                               eos_err *err) {
    *p = in ? *in : eos_quicklook_default_params();
    if (p->max_px == 0) p->max_px = 1024;
    if (p->quality == 0) p->quality = 90;
    if (p->max_px < 1 || p->max_px > QL_MAX_PX)
        return eos_err_set(err, EOS_INVALID_ARG, "quicklook: max_px %d is outside [1, %d]",
                           p->max_px, QL_MAX_PX);
    if (!(p->p_lo >= 0 && p->p_lo < p->p_hi && p->p_hi <= 100))
        return eos_err_set(err, EOS_INVALID_ARG, "quicklook: stretch percentiles %g, %g must "
                           "satisfy 0 <= low < high <= 100", p->p_lo, p->p_hi);
    if (p->quality < 1 || p->quality > 100)
        return eos_err_set(err, EOS_INVALID_ARG, "quicklook: quality %d is outside [1, 100]",
                           p->quality);
    return EOS_OK;
}

/* Position of file band `band` in the selection of r, or -1. */
static int selection_index(const int *sel, int n_sel, int band) {
    for (int i = 0; i < n_sel; i++)
        if (sel[i] == band) return i;
    return -1;
}

/* Auto choice among the selected bands: Red/Green/Blue colour interpretations, else the first
 * three, else the first as grey. */
static void auto_bands(const eos_raster *r, const int *sel, int n_sel, int idx[3]) {
    static const char *const k_interp[3] = { "Red", "Green", "Blue" };
    int found = 0;
    for (int c = 0; c < 3; c++) {
        idx[c] = -1;
        for (int i = 0; i < n_sel && idx[c] < 0; i++) {
            eos_band_info bi;
            if (eos_raster_band_info(r, sel[i], &bi) == EOS_OK &&
                !strcasecmp(bi.color_interp, k_interp[c]))
                idx[c] = i;
        }
        found += idx[c] >= 0;
    }
    if (found == 3) return;
    for (int c = 0; c < 3; c++) idx[c] = n_sel >= 3 ? c : 0;
}

/* idx[c]: position in r's selection of the band shown as channel c (R, G, B). */
static eos_status choose_bands(const eos_raster *r, const eos_quicklook_params *p, int idx[3],
                               eos_err *err) {
    int sel[EOS_RASTER_MAX_BANDS];
    int n_sel = eos_raster_selected_bands(r, sel);
    if (n_sel < 1)
        return eos_err_set(err, EOS_INVALID_ARG, "quicklook: the raster selects no band");
    const int *b = p->bands;
    if (!b[0] && !b[1] && !b[2]) {
        auto_bands(r, sel, n_sel, idx);
        return EOS_OK;
    }
    bool grey = b[0] > 0 && !b[1] && !b[2];
    if (!grey && (b[0] <= 0 || b[1] <= 0 || b[2] <= 0))
        return eos_err_set(err, EOS_INVALID_ARG, "quicklook: bands %d,%d,%d: give three bands "
                           "(R,G,B), one (grey) or none (auto)", b[0], b[1], b[2]);
    for (int c = 0; c < 3; c++) {
        int band = grey ? b[0] : b[c];
        idx[c] = selection_index(sel, n_sel, band);
        if (idx[c] < 0)
            return eos_err_set(err, EOS_INVALID_ARG, "quicklook: band %d is not among the %d "
                               "band(s) selected when the raster was opened", band, n_sel);
    }
    return EOS_OK;
}

/* ------------------------------------------------------------------ decimated reading */

/* Size of the picture of a width x height raster: longest side max_px, never enlarged. */
static void target_size(int64_t width, int64_t height, int max_px, int *w, int *h) {
    int64_t longest = width > height ? width : height;
    if (longest <= max_px) {
        *w = (int)width;
        *h = (int)height;
        return;
    }
    double s = (double)max_px / (double)longest;
    *w = (int)fmax(1, floor((double)width * s + 0.5));
    *h = (int)fmax(1, floor((double)height * s + 0.5));
}

static eos_status read_decimated(eos_raster *r, int tw, int th, eos_dtype dtype, decimated *d,
                                 eos_err *err) {
    memset(d, 0, sizeof *d);
    int sel[EOS_RASTER_MAX_BANDS];
    d->n_sel = eos_raster_selected_bands(r, sel);
    size_t px = (size_t)tw * (size_t)th, bytes = (size_t)d->n_sel * px * sizeof(float);
    if (bytes > QL_MAX_READ_BYTES)
        return eos_err_set(err, EOS_LIMIT, "quicklook: reading %d bands at %d x %d px needs %zu "
                           "MB; open the raster with only the bands to show, or lower max_px",
                           d->n_sel, tw, th, bytes >> 20);
    d->v = eos_malloc(bytes);
    d->valid = eos_malloc(px);
    if (!d->v || !d->valid) {
        decimated_free(d);
        return eos_err_set(err, EOS_NOMEM, "quicklook: out of memory (%zu MB)", bytes >> 20);
    }
    eos_status st = eos_raster_read_decimated(r, tw, th, dtype, d->v, d->valid, &d->w, &d->h);
    if (st == EOS_OK && (d->w < 1 || d->h < 1 || d->w > tw || d->h > th))
        st = eos_err_set(err, EOS_INTERNAL, "quicklook: decimated read returned %d x %d for "
                         "%d x %d", d->w, d->h, tw, th);
    else if (st != EOS_OK)
        eos_err_set(err, st, "%s", eos_raster_errmsg(r));
    if (st) decimated_free(d);
    return st;
}

/* ------------------------------------------------------------------ stretch */

typedef struct stretch {
    double lo, hi;
    bool   identity;   /* 8-bit source shown as is */
} stretch;

/* Valid finite values of one band: min, max, count, and whether all are integers. */
static int64_t band_range(const float *v, const uint8_t *valid, size_t n, double *mn,
                          double *mx, bool *integral) {
    int64_t count = 0;
    *mn = INFINITY;
    *mx = -INFINITY;
    *integral = true;
    for (size_t i = 0; i < n; i++) {
        double x = v[i];
        if (!valid[i] || !isfinite(x)) continue;
        count++;
        if (x < *mn) *mn = x;
        if (x > *mx) *mx = x;
        if (x != floor(x)) *integral = false;
    }
    return count;
}

/* Smallest bin i whose cumulative count reaches p% of count. */
static int percentile_bin(const int64_t *hist, int n_bins, int64_t count, double p) {
    double target = p / 100.0 * (double)count;
    int64_t cum = 0;
    for (int i = 0; i < n_bins; i++) {
        cum += hist[i];
        if ((double)cum >= target && cum > 0) return i;
    }
    return n_bins - 1;
}

static eos_status band_stretch(const float *v, const uint8_t *valid, size_t n, double p_lo,
                               double p_hi, stretch *s, eos_err *err) {
    double mn, mx;
    bool integral;
    int64_t count = band_range(v, valid, n, &mn, &mx, &integral);
    s->identity = false;
    if (count == 0 || mx == mn) {
        s->lo = count ? mn : 0;
        s->hi = s->lo + 1;
        return EOS_OK;
    }
    bool exact = integral && mx - mn < QL_INT_BINS;
    int n_bins = exact ? (int)(mx - mn) + 1 : QL_FLOAT_BINS;
    double width = exact ? 1.0 : (mx - mn) / n_bins;
    int64_t *hist = eos_calloc((size_t)n_bins, sizeof *hist);
    if (!hist) return eos_err_set(err, EOS_NOMEM, "quicklook: out of memory (histogram)");
    for (size_t i = 0; i < n; i++) {
        double x = v[i];
        if (!valid[i] || !isfinite(x)) continue;
        int b = (int)((x - mn) / width);
        hist[b < 0 ? 0 : b >= n_bins ? n_bins - 1 : b]++;
    }
    int i_lo = percentile_bin(hist, n_bins, count, p_lo);
    int i_hi = percentile_bin(hist, n_bins, count, p_hi);
    eos_free(hist);
    s->lo = mn + i_lo * width;
    s->hi = exact ? mn + i_hi : fmin(mx, mn + (i_hi + 1) * width);
    if (s->hi <= s->lo) s->hi = s->lo + (exact ? 1 : width);
    return EOS_OK;
}

static uint8_t apply_stretch(const stretch *s, float x) {
    if (s->identity) return to_byte(x);
    return to_byte(255.0 * ((double)x - s->lo) / (s->hi - s->lo));
}

/* ------------------------------------------------------------------ the RGB picture */

static eos_status compose(const decimated *d, const int idx[3], const stretch st[3],
                          picture *pic, eos_err *err) {
    size_t plane = (size_t)d->w * (size_t)d->h;
    pic->w = d->w;
    pic->h = d->h;
    pic->rgb = eos_malloc(3 * plane);
    if (!pic->rgb) return eos_err_set(err, EOS_NOMEM, "quicklook: out of memory (picture)");
    for (int c = 0; c < 3; c++) {
        const float *v = d->v + (size_t)idx[c] * plane;
        uint8_t *out = pic->rgb + (size_t)c * plane;
        for (size_t i = 0; i < plane; i++)
            out[i] = d->valid[i] && isfinite(v[i]) ? apply_stretch(&st[c], v[i]) : 0;
    }
    return EOS_OK;
}

static eos_status stretches(eos_raster *r, const decimated *d, const int idx[3],
                            const eos_quicklook_params *p, stretch st[3], eos_err *err) {
    int sel[EOS_RASTER_MAX_BANDS];
    eos_raster_selected_bands(r, sel);
    size_t plane = (size_t)d->w * (size_t)d->h;
    for (int c = 0; c < 3; c++) {
        if (c > 0 && idx[c] == idx[c - 1]) {   /* grey: one band three times */
            st[c] = st[c - 1];
            continue;
        }
        eos_band_info bi;
        bool is_u8 = eos_raster_band_info(r, sel[idx[c]], &bi) == EOS_OK &&
                     bi.dtype == EOS_DTYPE_U8;
        if (is_u8 && p->p_lo == 0 && p->p_hi == 100) {
            st[c] = (stretch){ 0, 255, true };
            continue;
        }
        EOS_TRY(band_stretch(d->v + (size_t)idx[c] * plane, d->valid, plane, p->p_lo, p->p_hi,
                             &st[c], err));
    }
    return EOS_OK;
}

static eos_status build_picture(eos_raster *r, const eos_quicklook_params *p, picture *pic,
                                eos_err *err) {
    memset(pic, 0, sizeof *pic);
    int idx[3];
    EOS_TRY(choose_bands(r, p, idx, err));
    eos_raster_info info;
    eos_raster_get_info(r, &info);
    int tw, th;
    target_size(info.width_px, info.height_px, p->max_px, &tw, &th);
    decimated d;
    EOS_TRY(read_decimated(r, tw, th, EOS_DTYPE_F32, &d, err));
    stretch st[3];
    eos_status s = stretches(r, &d, idx, p, st, err);
    if (s == EOS_OK) s = compose(&d, idx, st, pic, err);
    decimated_free(&d);
    return s;
}

/* ------------------------------------------------------------------ saving */

static eos_status format_of(const char *path, eos_raster_format *fmt, eos_err *err) {
    const char *dot = path ? strrchr(path, '.') : NULL;
    if (dot && !strcasecmp(dot, ".png")) *fmt = EOS_RASTER_PNG;
    else if (dot && (!strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg"))) *fmt = EOS_RASTER_JPEG;
    else
        return eos_err_set(err, EOS_INVALID_ARG, "quicklook '%s': the file name must end in "
                           ".png, .jpg or .jpeg", path ? path : "(null)");
    return EOS_OK;
}

/* Write pic through the raster writer; errors go to ctx. */
static eos_status save_picture(eos_ctx *ctx, const char *path, const picture *pic,
                               eos_raster_format fmt, int quality) {
    eos_raster_writer_params wp = eos_raster_writer_default_params();
    wp.format = fmt;
    wp.width_px = pic->w;
    wp.height_px = pic->h;
    wp.n_bands = 3;
    wp.dtype = EOS_DTYPE_U8;
    wp.quality = quality;
    eos_raster_writer *w;
    EOS_TRY(eos_raster_writer_create(ctx, path, &wp, &w));
    eos_status st = eos_raster_writer_write(w, 0, 0, pic->w, pic->h, EOS_DTYPE_U8, pic->rgb);
    if (st) {
        eos_err err;
        eos_err_set(&err, st, "%s", eos_raster_writer_errmsg(w));
        eos_raster_writer_discard(w);
        return eos__ctx_fail(ctx, &err);
    }
    return eos_raster_writer_close(ctx, w);
}

eos_status eos_quicklook_rgb(eos_ctx *ctx, eos_raster *r, const eos_quicklook_params *params,
                             const char *out_path) {
    eos_err err = { 0 };
    eos__ctx_clear(ctx);
    eos_quicklook_params p;
    eos_raster_format fmt;
    picture pic = { 0 };
    eos_status st = !r ? eos_err_set(&err, EOS_INVALID_ARG, "quicklook: no raster")
                       : check_params(params, &p, &err);
    if (!st) st = format_of(out_path, &fmt, &err);
    if (!st) st = build_picture(r, &p, &pic, &err);
    if (st) {
        eos_free(pic.rgb);
        return eos__ctx_fail(ctx, &err);
    }
    st = save_picture(ctx, out_path, &pic, fmt, p.quality);
    eos_free(pic.rgb);
    return st;
}

/* ------------------------------------------------------------------ overlay */

eos_rgba eos_class_palette(int c) {
    double h = fmod(c * 137.508, 360.0) / 60.0, s = 0.75, v = 0.95;
    double f = h - floor(h), p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
    double rgb[6][3] = { { v, t, p }, { q, v, p }, { p, v, t }, { p, q, v }, { t, p, v },
                         { v, p, q } };
    const double *o = rgb[(int)floor(h) % 6];
    return (eos_rgba){ to_byte(o[0] * 255), to_byte(o[1] * 255), to_byte(o[2] * 255), 255 };
}

typedef struct classes {
    const eos_rgba    *colors;       /* NULL: eos_class_palette */
    const char *const *names;        /* NULL or entries NULL: "class N" */
    int                n;
    double             alpha;
    uint8_t           *present;      /* n flags */
} classes;

static eos_rgba class_color(const classes *cl, int c) {
    return cl->colors ? cl->colors[c] : eos_class_palette(c);
}

/* Blend the class of each picture pixel (mask cell by nearest neighbour) over the picture. */
static void blend_mask(picture *pic, const decimated *m, classes *cl) {
    size_t plane = (size_t)pic->w * (size_t)pic->h;
    for (int y = 0; y < pic->h; y++) {
        int my = (int)(((int64_t)y * 2 + 1) * m->h / (2 * (int64_t)pic->h));
        for (int x = 0; x < pic->w; x++) {
            int mx = (int)(((int64_t)x * 2 + 1) * m->w / (2 * (int64_t)pic->w));
            size_t mi = (size_t)my * (size_t)m->w + (size_t)mx;
            float v = m->v[mi];
            if (!m->valid[mi] || !(v >= 0) || v >= cl->n || v == EOS_MASK_NODATA) continue;
            int c = (int)v;
            cl->present[c] = 1;
            eos_rgba col = class_color(cl, c);
            double a = cl->alpha * col.a / 255.0;
            uint8_t *px = pic->rgb + (size_t)y * (size_t)pic->w + (size_t)x;
            px[0] = to_byte((1 - a) * px[0] + a * col.r);
            px[plane] = to_byte((1 - a) * px[plane] + a * col.g);
            px[2 * plane] = to_byte((1 - a) * px[2 * plane] + a * col.b);
        }
    }
}

static void label_of(const classes *cl, int c, char *buf, size_t n) {
    const char *name = cl->names ? cl->names[c] : NULL;
    if (name && *name) snprintf(buf, n, "%s", name);
    else snprintf(buf, n, "class %d", c);
}

/* Draw text at (x, y) (top-left), glyph pixels as s x s squares, clipped to the picture. */
static void draw_text(picture *pic, int x, int y, const char *text, int n_chars, int s) {
    for (int i = 0; i < n_chars && text[i]; i++) {
        const uint8_t *g = eos__font_glyph((unsigned char)text[i]);
        for (int gy = 0; gy < EOS_FONT_H; gy++)
            for (int gx = 0; gx < EOS_FONT_W; gx++) {
                if (!(g[gy] & (0x10 >> gx))) continue;
                for (int dy = 0; dy < s; dy++)
                    for (int dx = 0; dx < s; dx++)
                        put_px(pic, x + (i * EOS_FONT_CELL_W + gx) * s + dx, y + gy * s + dy,
                               255, 255, 255);
            }
    }
}

/* Darken a rectangle (the legend's background) so white text reads on any picture. */
static void shade_rect(picture *pic, int x0, int y0, int w, int h) {
    size_t plane = (size_t)pic->w * (size_t)pic->h;
    for (int y = y0; y < y0 + h; y++)
        for (int x = x0; x < x0 + w; x++) {
            if (x < 0 || y < 0 || x >= pic->w || y >= pic->h) continue;
            uint8_t *px = pic->rgb + (size_t)y * (size_t)pic->w + (size_t)x;
            for (int c = 0; c < 3; c++)
                px[(size_t)c * plane] = (uint8_t)(px[(size_t)c * plane] * 3 / 10);
        }
}

static void fill_rect(picture *pic, int x0, int y0, int w, int h, eos_rgba col) {
    for (int y = y0; y < y0 + h; y++)
        for (int x = x0; x < x0 + w; x++) put_px(pic, x, y, col.r, col.g, col.b);
}

/* Legend geometry at scale s: padding, swatch side, row height, text column. */
typedef struct legend {
    int s, pad, swatch, row_h, text_x, n_rows, n_chars, x0, y0, w, h;
} legend;

static bool legend_layout(const picture *pic, const classes *cl, legend *lg) {
    lg->s = (pic->w > pic->h ? pic->w : pic->h) >= 800 ? 2 : 1;
    int s = lg->s, margin = 4 * s;
    lg->pad = 4 * s;
    lg->swatch = EOS_FONT_CELL_H * s;
    lg->row_h = lg->swatch + 2 * s;
    lg->text_x = lg->pad + lg->swatch + 4 * s;
    int longest = 0, n_present = 0;
    for (int c = 0; c < cl->n; c++) {
        if (!cl->present[c]) continue;
        char label[QL_LABEL_MAX + 1];
        label_of(cl, c, label, sizeof label);
        int len = (int)strlen(label);
        if (len > longest) longest = len;
        n_present++;
    }
    int room_w = pic->w - 2 * margin - lg->text_x - lg->pad;
    int room_h = pic->h - 2 * margin - 2 * lg->pad + 2 * s;
    int fit_chars = room_w / (EOS_FONT_CELL_W * s);
    lg->n_chars = longest < fit_chars ? longest : fit_chars;
    lg->n_rows = n_present < room_h / lg->row_h ? n_present : room_h / lg->row_h;
    if (n_present == 0 || lg->n_rows < 1 || lg->n_chars < 1) return false;
    lg->w = lg->text_x + lg->n_chars * EOS_FONT_CELL_W * s + lg->pad;
    lg->h = 2 * lg->pad + lg->n_rows * lg->row_h - 2 * s;
    lg->x0 = margin;
    lg->y0 = pic->h - margin - lg->h;
    return true;
}

/* The legend box in the lower-left corner: one swatch and name per class present. */
static void draw_legend(picture *pic, const classes *cl) {
    legend lg;
    if (!legend_layout(pic, cl, &lg)) return;
    shade_rect(pic, lg.x0, lg.y0, lg.w, lg.h);
    int row = 0;
    for (int c = 0; c < cl->n && row < lg.n_rows; c++) {
        if (!cl->present[c]) continue;
        int y = lg.y0 + lg.pad + row * lg.row_h;
        eos_rgba col = class_color(cl, c);
        fill_rect(pic, lg.x0 + lg.pad, y, lg.swatch, lg.swatch, col);
        char label[QL_LABEL_MAX + 1];
        label_of(cl, c, label, sizeof label);
        draw_text(pic, lg.x0 + lg.text_x, y + lg.s / 2, label, lg.n_chars, lg.s);
        row++;
    }
}

static eos_status check_overlay(eos_raster *image, eos_raster *mask, int n_classes,
                                double alpha, eos_err *err) {
    if (!image || !mask)
        return eos_err_set(err, EOS_INVALID_ARG, "quicklook overlay: image and mask are required");
    if (n_classes < 1 || n_classes > 65536)
        return eos_err_set(err, EOS_INVALID_ARG, "quicklook overlay: n_classes %d is outside "
                           "[1, 65536]", n_classes);
    if (!(alpha >= 0 && alpha <= 1))
        return eos_err_set(err, EOS_INVALID_ARG, "quicklook overlay: alpha %g is outside [0, 1]",
                           alpha);
    return EOS_OK;
}

static eos_status overlay_picture(eos_raster *mask, classes *cl, picture *pic, eos_err *err) {
    decimated m;
    EOS_TRY(read_decimated(mask, pic->w, pic->h, EOS_DTYPE_F32, &m, err));
    cl->present = eos_calloc((size_t)cl->n, 1);
    if (!cl->present) {
        decimated_free(&m);
        return eos_err_set(err, EOS_NOMEM, "quicklook overlay: out of memory");
    }
    blend_mask(pic, &m, cl);
    decimated_free(&m);
    draw_legend(pic, cl);
    return EOS_OK;
}

eos_status eos_quicklook_overlay(eos_ctx *ctx, eos_raster *image, eos_raster *mask,
                                 const eos_rgba *colors, const char *const *class_names,
                                 int n_classes, double alpha, const eos_quicklook_params *params,
                                 const char *out_path) {
    eos_err err = { 0 };
    eos__ctx_clear(ctx);
    eos_quicklook_params p;
    eos_raster_format fmt;
    picture pic = { 0 };
    classes cl = { colors, class_names, n_classes, alpha, NULL };
    eos_status st = check_overlay(image, mask, n_classes, alpha, &err);
    if (!st) st = check_params(params, &p, &err);
    if (!st) st = format_of(out_path, &fmt, &err);
    if (!st) st = build_picture(image, &p, &pic, &err);
    if (!st) st = overlay_picture(mask, &cl, &pic, &err);
    if (!st) st = save_picture(ctx, out_path, &pic, fmt, p.quality);
    else st = eos__ctx_fail(ctx, &err);
    eos_free(cl.present);
    eos_free(pic.rgb);
    return st;
}
