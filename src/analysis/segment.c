/*
 * src/analysis/segment.c - eos_segment_scene (include/eosight/analysis.h): sliding-window
 * segmentation of a scene of any size.
 *
 * Windows of S x S pixels step by S - overlap; window (i, j) reads [i * step - overlap / 2,
 * + S) (the part outside the scene mirrored), so each window owns a core of step x step and
 * shares overlap / 2 pixels with each neighbour on either side. Class probabilities of
 * overlapping windows are blended with weights w(y) * w(x), w(i) = min(1, (min(i, S - 1 - i)
 * + 0.5) / overlap): linear ramps across each overlap that sum to about one, so there is no
 * seam where one window's prediction hands over to the next.
 *
 * Memory: the scene is processed one row of windows at a time. An accumulator of S rows x
 * scene width x (classes + 1) floats holds the weighted sums; after a window row, the rows no
 * later window touches are final (argmax, counts, areas, rows of the outputs) and the
 * overlap rows move up. Post-processing (eos_mask_clean) needs the class mask whole (one byte
 * per pixel); without it the mask streams to the writer too.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analysis/analysis_internal.h"
#include "core/strbuf.h"
#include "data/data_internal.h"
#include "eosight/alloc.h"

#define SEG_ALIGN   32
#define SEG_MAX_WIN 4096

eos_segment_params eos_segment_default_params(void) {
    eos_segment_params p;
    memset(&p, 0, sizeof p);
    p.overlap = -1;
    p.batch = 4;
    p.tta = 1;
    p.clean = eos_mask_clean_default_params();
    p.clean.nodata = EOS_ANALYSIS_NODATA;
    p.skip_cloudy = 1.1;
    return p;
}

void eos_segment_result_free(eos_segment_result *res) {
    if (!res) return;
    eos_free(res->pixels);
    eos_free(res->area_m2);
    memset(res, 0, sizeof *res);
}

typedef struct seg_run {
    eos_analyzer *a;
    eos_raster   *r;
    const eos_segment_params *p;
    eos_segment_result *out;
    eos_raster_info info;
    int64_t  W, H;
    int      S, ovl, step, C, nb;
    int64_t  nx, ny;
    float   *ramp;                 /* S weights */
    float   *x;                    /* batch inputs [batch, nb, S, S] */
    float   *probs;                /* batch outputs [batch, C, S, S] */
    uint8_t *wvalid;               /* batch validity [batch, S, S] */
    int64_t *wx;                   /* window column of each batch entry */
    float   *acc;                  /* [C + 1][S][W]: weighted sums, then the weight sum */
    uint8_t *valid;                /* [S][W] source validity of the strip */
    uint8_t *skip;                 /* [S][W] cores of windows left out as cloudy */
    int64_t  acc_y0;               /* scene row of accumulator row 0 */
    int64_t  done_y;               /* rows finalised so far */
    uint8_t *rowbuf;               /* final classes of a strip [S][W] */
    uint8_t *probbuf;              /* [C][S][W] u8 probabilities of a strip */
    uint8_t *mask;                 /* the whole mask when post-processing */
    eos_raster_writer *wmask, *wprob;
    double   entropy_sum;
    int64_t  entropy_n;
    float   *cloud_x;
    eos_progress prog;
} seg_run;

/* ------------------------------------------------------------------ set-up */

static int round_up(int v, int m) { return (v + m - 1) / m * m; }

static eos_status seg_geometry(seg_run *s, eos_err *err) {
    const eos_contract *c = &s->a->contract;
    const eos_segment_params *p = s->p;
    eos_io_info in;
    eos_model_input_info(s->a->model, 0, &in);
    bool fixed = in.dims[2] > 0 && in.dims[3] > 0;
    if (fixed && in.dims[2] != in.dims[3])
        return eos_err_set(err, EOS_UNSUPPORTED, "the model input is fixed at %lld x %lld: "
                           "windows are square", (long long)in.dims[2], (long long)in.dims[3]);
    int S = fixed ? (int)in.dims[2] : p->window > 0 ? p->window : 256;
    if (!fixed && (S % SEG_ALIGN || S < SEG_ALIGN || S > SEG_MAX_WIN))
        return eos_err_set(err, EOS_INVALID_ARG, "window %d: must be a multiple of %d in %d..%d",
                           S, SEG_ALIGN, SEG_ALIGN, SEG_MAX_WIN);
    if (p->window > 0 && fixed && p->window != S)
        return eos_err_set(err, EOS_INVALID_ARG, "the model's input is fixed at %d pixels: "
                           "window %d is not possible", S, p->window);
    int ovl = p->overlap >= 0 ? p->overlap : S / 4;
    if (ovl % 2 || ovl >= S || ovl > S / 2)
        return eos_err_set(err, EOS_INVALID_ARG, "overlap %d: must be even and at most half the "
                           "window (%d)", ovl, S);
    int64_t m = s->W > s->H ? s->W : s->H;
    if (!fixed && m <= S) {   /* one window covers the scene */
        S = round_up((int)m, SEG_ALIGN);
        ovl = 0;
    }
    s->S = S;
    s->ovl = ovl;
    s->step = S - ovl;
    s->nx = (s->W + s->step - 1) / s->step;
    s->ny = (s->H + s->step - 1) / s->step;
    s->C = c->n_classes;
    s->nb = c->n_bands;
    return EOS_OK;
}

static eos_status seg_alloc(seg_run *s, eos_err *err) {
    size_t S = (size_t)s->S, W = (size_t)s->W, B = (size_t)(s->p->batch > 0 ? s->p->batch : 4);
    size_t plane = S * S;
    s->ramp = eos_malloc(S * sizeof *s->ramp);
    s->x = eos_malloc(B * (size_t)s->nb * plane * sizeof *s->x);
    s->probs = eos_malloc(B * (size_t)s->C * plane * sizeof *s->probs);
    s->wvalid = eos_malloc(B * plane);
    s->wx = eos_malloc(B * sizeof *s->wx);
    s->acc = eos_calloc((size_t)(s->C + 1) * S * W, sizeof *s->acc);
    s->valid = eos_calloc(S * W, 1);
    s->skip = eos_calloc(S * W, 1);
    s->rowbuf = eos_malloc(S * W);
    if (!s->ramp || !s->x || !s->probs || !s->wvalid || !s->wx || !s->acc || !s->valid ||
        !s->skip || !s->rowbuf)
        return eos_err_set(err, EOS_NOMEM, "out of memory for a strip of %zu x %zu pixels "
                           "(%d classes)", S, W, s->C);
    if (s->p->probs_path && !(s->probbuf = eos_malloc((size_t)s->C * S * W)))
        return eos_err_set(err, EOS_NOMEM, "out of memory for probabilities");
    if (s->p->post && !(s->mask = eos_malloc((size_t)s->W * (size_t)s->H)))
        return eos_err_set(err, EOS_NOMEM, "out of memory: post-processing holds the %lld x %lld "
                           "mask", (long long)s->W, (long long)s->H);
    for (int i = 0; i < s->S; i++) {
        int d = i < s->S - 1 - i ? i : s->S - 1 - i;
        s->ramp[i] = s->ovl > 0 ? fminf(1.0f, ((float)d + 0.5f) / (float)s->ovl) : 1.0f;
    }
    return EOS_OK;
}

/* ------------------------------------------------------------------ outputs */

static bool ends_with(const char *s, const char *suf) {
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && !strcasecmp(s + n - m, suf);
}

static eos_status open_writer(seg_run *s, const char *path, int bands, bool classes,
                              eos_raster_writer **w, eos_err *err) {
    const eos_contract *c = &s->a->contract;
    eos_raster_writer_params wp = eos_raster_writer_default_params();
    wp.format = ends_with(path, ".png") ? EOS_RASTER_PNG : classes ? EOS_RASTER_COG
                                                                    : EOS_RASTER_GTIFF;
    wp.width_px = s->W;
    wp.height_px = s->H;
    wp.n_bands = bands;
    wp.dtype = EOS_DTYPE_U8;
    wp.georef = s->info.georef;
    wp.has_nodata = classes;
    wp.nodata = EOS_ANALYSIS_NODATA;
    if (classes) {
        wp.colors = c->colors;
        wp.class_names = c->class_names;
        wp.n_classes = c->n_classes;
    } else {
        wp.band_names = c->class_names;
    }
    eos_status st = eos_raster_writer_create(s->a->ctx, path, &wp, w);
    if (st != EOS_OK) return eos_err_set(err, st, "%s", eos_ctx_errmsg(s->a->ctx));
    return EOS_OK;
}

/* Pixel area of scene row y in m2. */
static double row_area(const seg_run *s, int64_t y) {
    eos_georef g = s->info.georef;
    double *gt = g.transform.gt;
    gt[0] += (double)y * gt[2];
    gt[3] += (double)y * gt[5];
    return eos_georef_pixel_area_m2(&g, s->W, 1);
}

/* Finalise accumulator rows [0, n): classes, counts, areas, entropy, outputs. */
static eos_status finalize_rows(seg_run *s, int n, eos_err *err) {
    if (n <= 0) return EOS_OK;
    int64_t W = s->W, SW = (int64_t)s->S * W;
    const float *wsum = s->acc + (size_t)s->C * (size_t)SW;
    double inv_log = s->C > 1 ? 1.0 / log((double)s->C) : 0;
    for (int y = 0; y < n; y++) {
        double px_area = row_area(s, s->acc_y0 + y), ent = 0;
        int64_t ent_n = 0;
        for (int64_t x = 0; x < W; x++) {
            int64_t o = (int64_t)y * W + x;
            uint8_t cls = EOS_ANALYSIS_NODATA;
            if (s->valid[o] && !s->skip[o] && wsum[o] > 0) {
                float inv = 1.0f / wsum[o], best = -1;
                for (int c = 0; c < s->C; c++) {
                    float p = s->acc[(size_t)c * SW + o] * inv;
                    if (p > best) best = p, cls = (uint8_t)c;
                    if (p > 0) ent -= p * logf(p);
                    if (s->probbuf) s->probbuf[(size_t)c * SW + o] = (uint8_t)lrintf(fminf(p, 1.0f) * 255.0f);
                }
                ent_n++;
            } else if (s->probbuf) {
                for (int c = 0; c < s->C; c++) s->probbuf[(size_t)c * SW + o] = 0;
            }
            s->rowbuf[o] = cls;
            if (cls != EOS_ANALYSIS_NODATA) {
                s->out->pixels[cls]++;
                s->out->area_m2[cls] += px_area;
            } else {
                s->out->nodata_px++;
            }
        }
        s->entropy_sum += ent * inv_log;
        s->entropy_n += ent_n;
    }
    int64_t y0 = s->acc_y0;
    if (s->mask) memcpy(s->mask + (size_t)y0 * (size_t)W, s->rowbuf, (size_t)n * (size_t)W);
    else if (s->wmask && eos_raster_writer_write(s->wmask, 0, y0, (int)W, n, EOS_DTYPE_U8,
                                                 s->rowbuf) != EOS_OK)
        return eos_err_set(err, EOS_IO, "%s", eos_raster_writer_errmsg(s->wmask));
    if (s->wprob) {
        /* pack the strip's bands contiguously ([C][n][W]) for one write */
        for (int c = 1; c < s->C; c++)
            memmove(s->probbuf + (size_t)c * (size_t)n * (size_t)W,
                    s->probbuf + (size_t)c * (size_t)SW, (size_t)n * (size_t)W);
        if (eos_raster_writer_write(s->wprob, 0, y0, (int)W, n, EOS_DTYPE_U8, s->probbuf) != EOS_OK)
            return eos_err_set(err, EOS_IO, "%s", eos_raster_writer_errmsg(s->wprob));
    }
    s->done_y = y0 + n;
    return EOS_OK;
}

/* Move accumulator rows [k, S) to the top and clear the rest. */
static void shift_rows(seg_run *s, int k) {
    size_t W = (size_t)s->W, S = (size_t)s->S, keep = (S - (size_t)k) * W;
    for (int c = 0; c <= s->C; c++) {
        float *p = s->acc + (size_t)c * S * W;
        memmove(p, p + (size_t)k * W, keep * sizeof *p);
        memset(p + keep, 0, (size_t)k * W * sizeof *p);
    }
    memmove(s->valid, s->valid + (size_t)k * W, keep);
    memset(s->valid + keep, 0, (size_t)k * W);
    memmove(s->skip, s->skip + (size_t)k * W, keep);
    memset(s->skip + keep, 0, (size_t)k * W);
    s->acc_y0 += k;
}

/* ------------------------------------------------------------------ windows */

/* Probabilities of the batch at the other scales, averaged into s->probs. */
static eos_status multi_scale(seg_run *s, int n, eos_err *err) {
    int S = s->S, ns = s->p->n_scales;
    size_t plane = (size_t)S * S;
    int used = 1;
    for (int k = 0; k < ns; k++) {
        double sc = s->p->scales[k];
        int S2 = round_up((int)lround(S * sc), SEG_ALIGN);
        if (S2 == S) continue;
        size_t p2 = (size_t)S2 * S2;
        float *xs = eos_malloc((size_t)n * (size_t)s->nb * p2 * sizeof *xs);
        float *ps = eos_malloc((size_t)n * (size_t)s->C * p2 * sizeof *ps);
        float *back = eos_malloc((size_t)s->C * plane * sizeof *back);
        eos_status st = xs && ps && back ? EOS_OK : eos_err_set(err, EOS_NOMEM, "out of memory "
                                                                "for scale %.2f", sc);
        for (int i = 0; st == EOS_OK && i < n; i++)
            eos__resize(s->x + (size_t)i * s->nb * plane, NULL, s->nb, S, S,
                        xs + (size_t)i * s->nb * p2, NULL, S2, S2);
        if (st == EOS_OK)
            st = eos__runner_run(&s->a->run, xs, n, s->nb, S2, S2, true, ps, err);
        for (int i = 0; st == EOS_OK && i < n; i++) {
            eos__resize(ps + (size_t)i * s->C * p2, NULL, s->C, S2, S2, back, NULL, S, S);
            float *dst = s->probs + (size_t)i * s->C * plane;
            for (size_t j = 0; j < (size_t)s->C * plane; j++) dst[j] += back[j];
        }
        eos_free(xs);
        eos_free(ps);
        eos_free(back);
        EOS_TRY(st);
        used++;
    }
    if (used > 1) {
        size_t tot = (size_t)n * (size_t)s->C * plane;
        for (size_t j = 0; j < tot; j++) s->probs[j] /= (float)used;
    }
    return EOS_OK;
}

/* Cloudy probability of window i of the batch under the cloud model. */
static eos_status window_cloudy(seg_run *s, int64_t x0, int64_t y0, bool *cloudy, eos_err *err) {
    eos_analyzer *cl = s->p->clouds;
    const eos_contract *cc = &cl->contract;
    size_t per = (size_t)cc->n_bands * (size_t)cc->in_h * (size_t)cc->in_w;
    if (!s->cloud_x && !(s->cloud_x = eos_malloc(per * sizeof(float))))
        return eos_err_set(err, EOS_NOMEM, "out of memory");
    float probs[EOS_ANALYSIS_MAX_CLASSES];
    eos_raster *cr = s->p->clouds_raster ? s->p->clouds_raster : s->r;
    if (eos_analyzer_read_input(cl, cr, x0, y0, s->S, s->S, s->cloud_x, NULL) != EOS_OK ||
        eos_analyze_batch(cl, s->cloud_x, 1, 1, probs, NULL) != EOS_OK)
        return eos_err_set(err, cl->err.status, "cloud model: %s", cl->err.msg);
    *cloudy = probs[cc->cloudy_class] >= s->p->skip_cloudy;
    return EOS_OK;
}

/* Run the n windows of the batch (row j) and add them to the accumulator. */
static eos_status run_batch(seg_run *s, int64_t j, int n, eos_err *err) {
    if (n == 0) return EOS_OK;
    int S = s->S;
    size_t plane = (size_t)S * S;
    EOS_TRY(eos__runner_run(&s->a->run, s->x, n, s->nb, S, S, true, s->probs, err));
    if (s->p->n_scales > 1) EOS_TRY(multi_scale(s, n, err));
    int64_t wy0 = j * s->step - s->ovl / 2, W = s->W, SW = (int64_t)S * W;
    float *wsum = s->acc + (size_t)s->C * (size_t)SW;
    for (int i = 0; i < n; i++) {
        int64_t wx0 = s->wx[i] * s->step - s->ovl / 2;
        const float *pr = s->probs + (size_t)i * s->C * plane;
        const uint8_t *v = s->wvalid + (size_t)i * plane;
        for (int y = 0; y < S; y++) {
            int64_t sy = wy0 + y, ay = sy - s->acc_y0;
            if (sy < 0 || sy >= s->H || ay < 0 || ay >= S) continue;
            for (int x = 0; x < S; x++) {
                int64_t sx = wx0 + x;
                if (sx < 0 || sx >= W) continue;
                float w = s->ramp[y] * s->ramp[x];
                int64_t o = ay * W + sx;
                for (int c = 0; c < s->C; c++) s->acc[(size_t)c * SW + o] += w * pr[(size_t)c * plane + (size_t)y * S + x];
                wsum[o] += w;
                s->valid[o] |= v[(size_t)y * S + x];
            }
        }
    }
    return EOS_OK;
}

/* Mark the core of window (i, j) as left out. */
static void mark_core(seg_run *s, int64_t i, int64_t j) {
    int64_t x0 = i * s->step, x1 = x0 + s->step < s->W ? x0 + s->step : s->W;
    int64_t y0 = j * s->step, y1 = y0 + s->step < s->H ? y0 + s->step : s->H;
    for (int64_t y = y0; y < y1; y++) {
        int64_t ay = y - s->acc_y0;
        if (ay < 0 || ay >= s->S) continue;
        memset(s->skip + ay * s->W + x0, 1, (size_t)(x1 - x0));
    }
}

/* Read (or skip) window i of row j into batch slot *n. */
static eos_status add_window(seg_run *s, int64_t i, int64_t j, int *n, eos_err *err) {
    int S = s->S;
    size_t plane = (size_t)S * S;
    int64_t x0 = i * s->step - s->ovl / 2, y0 = j * s->step - s->ovl / 2;
    float *dst = s->x + (size_t)*n * s->nb * plane;
    uint8_t *v = s->wvalid + (size_t)*n * plane;
    eos_status st = eos_raster_read_norm(s->r, x0, y0, S, S, &s->a->contract.norm, dst, v,
                                         EOS_PAD_REFLECT);
    if (st != EOS_OK) return eos_err_set(err, st, "%s", eos_raster_errmsg(s->r));
    bool any = false;
    for (size_t k = 0; k < plane && !any; k++) any = v[k];
    if (!any) {   /* all nodata: nothing to predict */
        s->out->windows_nodata++;
        return EOS_OK;
    }
    if (s->p->clouds) {
        bool cloudy = false;
        EOS_TRY(window_cloudy(s, x0, y0, &cloudy, err));
        if (cloudy) {   /* its core becomes nodata, whatever the neighbours say */
            s->out->windows_cloudy++;
            mark_core(s, i, j);
            return EOS_OK;
        }
    }
    s->wx[(*n)++] = i;
    return EOS_OK;
}

static eos_status seg_rows(seg_run *s, eos_err *err) {
    int B = s->p->batch > 0 ? s->p->batch : 4;
    s->acc_y0 = -(s->ovl / 2);
    eos__progress_start(&s->prog, s->p->progress, "segment", "windows", s->nx * s->ny);
    if (s->p->on_progress && !s->p->on_progress(s->p->progress_user, 0, s->nx * s->ny))
        return eos_err_set(err, EOS_CANCELLED, "segmentation cancelled");
    for (int64_t j = 0; j < s->ny; j++) {
        int n = 0;
        for (int64_t i = 0; i < s->nx; i++) {
            EOS_TRY(add_window(s, i, j, &n, err));
            s->out->windows++;
            if (n == B || i == s->nx - 1) {
                EOS_TRY(run_batch(s, j, n, err));
                n = 0;
            }
            eos__progress_show(&s->prog, (double)(j * s->nx + i + 1), false);
        }
        /* rows before the next window row's first row are final */
        int64_t next_y0 = (j + 1) * s->step - s->ovl / 2;
        int64_t end = j == s->ny - 1 ? s->H : (next_y0 < s->H ? next_y0 : s->H);
        if (s->acc_y0 < 0) shift_rows(s, (int)(0 - s->acc_y0));   /* rows above the scene */
        int k = (int)(end - s->acc_y0);
        EOS_TRY(finalize_rows(s, k, err));
        if (k > 0 && j < s->ny - 1) shift_rows(s, k);
        if (s->p->on_progress &&
            !s->p->on_progress(s->p->progress_user, (j + 1) * s->nx, s->nx * s->ny))
            return eos_err_set(err, EOS_CANCELLED, "segmentation cancelled after %lld of %lld "
                               "windows", (long long)((j + 1) * s->nx), (long long)(s->nx * s->ny));
    }
    eos__progress_show(&s->prog, (double)(s->nx * s->ny), true);
    return EOS_OK;
}

/* ------------------------------------------------------------------ after the windows */

static eos_status finish_mask(seg_run *s, eos_err *err) {
    if (s->mask) {
        eos_mask_clean_params cp = s->p->clean;
        cp.nodata = EOS_ANALYSIS_NODATA;
        eos_status st = eos_mask_clean(s->mask, s->W, s->H, &cp);
        if (st != EOS_OK) return eos_err_set(err, st, "post-processing failed");
        memset(s->out->pixels, 0, (size_t)s->C * sizeof *s->out->pixels);
        memset(s->out->area_m2, 0, (size_t)s->C * sizeof *s->out->area_m2);
        s->out->nodata_px = 0;
        for (int64_t y = 0; y < s->H; y++) {
            double a = row_area(s, y);
            const uint8_t *m = s->mask + (size_t)y * (size_t)s->W;
            for (int64_t x = 0; x < s->W; x++) {
                if (m[x] == EOS_ANALYSIS_NODATA) {
                    s->out->nodata_px++;
                    continue;
                }
                s->out->pixels[m[x]]++;
                s->out->area_m2[m[x]] += a;
            }
        }
        if (s->wmask && eos_raster_writer_write(s->wmask, 0, 0, (int)s->W, (int)s->H,
                                                EOS_DTYPE_U8, s->mask) != EOS_OK)
            return eos_err_set(err, EOS_IO, "%s", eos_raster_writer_errmsg(s->wmask));
    }
    return EOS_OK;
}

static eos_status close_writer(seg_run *s, eos_raster_writer **w, eos_err *err) {
    if (!*w) return EOS_OK;
    eos_status st = eos_raster_writer_close(s->a->ctx, *w);
    *w = NULL;
    if (st != EOS_OK) return eos_err_set(err, st, "%s", eos_ctx_errmsg(s->a->ctx));
    return EOS_OK;
}

static eos_status derived_outputs(seg_run *s, eos_err *err) {
    const eos_segment_params *p = s->p;
    const eos_contract *c = &s->a->contract;
    eos_ctx *ctx = s->a->ctx;
    if (p->vector_path) {
        eos_polygonize_params pp = eos_polygonize_default_params();
        pp.class_names = c->class_names;
        pp.n_classes = c->n_classes;
        pp.nodata = EOS_ANALYSIS_NODATA;
        eos_polygonize_stats ps;
        eos_status st = eos_polygonize(ctx, p->mask_path, p->vector_path, &pp, &ps);
        if (st != EOS_OK) return eos_err_set(err, st, "%s", eos_ctx_errmsg(ctx));
        s->out->n_polygons = ps.n_features;
    }
    if (p->overlay_path) {
        eos_raster *m;
        eos_status st = eos_raster_open(ctx, p->mask_path, NULL, &m);
        if (st != EOS_OK) return eos_err_set(err, st, "%s", eos_ctx_errmsg(ctx));
        st = eos_quicklook_overlay(ctx, s->r, m, c->colors, c->class_names, c->n_classes, 0.5,
                                   NULL, p->overlay_path);
        eos_raster_close(m);
        if (st != EOS_OK) return eos_err_set(err, st, "%s", eos_ctx_errmsg(ctx));
    }
    return EOS_OK;
}

static eos_status check_params(const eos_segment_params *p, eos_err *err) {
    if (p->tta != 0 && p->tta != 1 && p->tta != 4 && p->tta != 8)
        return eos_err_set(err, EOS_INVALID_ARG, "tta %d: expected 1, 4 or 8", p->tta);
    if (p->batch < 0 || p->batch > 256)
        return eos_err_set(err, EOS_INVALID_ARG, "batch %d outside 0..256", p->batch);
    if (p->n_scales < 0 || p->n_scales > 4)
        return eos_err_set(err, EOS_INVALID_ARG, "%d scales: at most 4", p->n_scales);
    for (int k = 0; k < p->n_scales; k++)
        if (!(p->scales[k] >= 0.25 && p->scales[k] <= 4))
            return eos_err_set(err, EOS_INVALID_ARG, "scale %g outside 0.25..4", p->scales[k]);
    if ((p->vector_path || p->overlay_path) && !p->mask_path)
        return eos_err_set(err, EOS_INVALID_ARG, "polygons and the overlay are made from the "
                           "class mask: give a mask path too");
    if (p->clouds && p->clouds->contract.task != EOS_ANALYSIS_CLOUD)
        return eos_err_set(err, EOS_INVALID_ARG, "'%s' is not a cloud model", p->clouds->name);
    return EOS_OK;
}

/* The raster the cloud model reads must have its band count and the scene's size. */
static eos_status check_cloud_raster(seg_run *s, eos_err *err) {
    if (!s->p->clouds) return EOS_OK;
    eos_raster_info ci;
    eos_raster_get_info(s->p->clouds_raster ? s->p->clouds_raster : s->r, &ci);
    if (ci.n_selected != s->p->clouds->contract.n_bands)
        return eos_err_set(err, EOS_SHAPE, "the cloud model '%s' takes %d bands, the image as "
                           "opened for it has %d (open it with eos_analyzer_open_raster for the "
                           "cloud model)", s->p->clouds->name, s->p->clouds->contract.n_bands,
                           ci.n_selected);
    if (ci.width_px != s->W || ci.height_px != s->H)
        return eos_err_set(err, EOS_INVALID_ARG, "the image opened for the cloud model is not the "
                           "scene (size %lld x %lld)", (long long)ci.width_px, (long long)ci.height_px);
    return EOS_OK;
}

static eos_status segment(seg_run *s, eos_err *err) {
    const eos_contract *c = &s->a->contract;
    if (c->task != EOS_ANALYSIS_SEGMENT)
        return eos_err_set(err, EOS_INVALID_ARG, "'%s' is a %s model, not a segmentation model",
                           s->a->name, eos_analysis_task_name(c->task));
    EOS_TRY(check_params(s->p, err));
    eos_raster_get_info(s->r, &s->info);
    if (s->info.n_selected != c->n_bands)
        return eos_err_set(err, EOS_SHAPE, "the image has %d bands, the model takes %d",
                           s->info.n_selected, c->n_bands);
    s->W = s->info.width_px;
    s->H = s->info.height_px;
    EOS_TRY(check_cloud_raster(s, err));
    EOS_TRY(seg_geometry(s, err));
    EOS_TRY(seg_alloc(s, err));
    s->out->n_classes = s->C;
    s->out->width_px = s->W;
    s->out->georeferenced = s->info.georef.has_transform && s->info.georef.crs;
    s->out->height_px = s->H;
    s->out->pixels = eos_calloc((size_t)s->C, sizeof *s->out->pixels);
    s->out->area_m2 = eos_calloc((size_t)s->C, sizeof *s->out->area_m2);
    if (!s->out->pixels || !s->out->area_m2) return eos_err_set(err, EOS_NOMEM, "out of memory");
    s->a->run.n_tta = s->p->tta >= 8 ? 8 : s->p->tta >= 4 ? 4 : 1;
    s->a->run.argmax_only = false;
    if (s->p->mask_path) EOS_TRY(open_writer(s, s->p->mask_path, 1, true, &s->wmask, err));
    if (s->p->probs_path) EOS_TRY(open_writer(s, s->p->probs_path, s->C, false, &s->wprob, err));
    EOS_TRY(seg_rows(s, err));
    EOS_TRY(finish_mask(s, err));
    EOS_TRY(close_writer(s, &s->wmask, err));
    EOS_TRY(close_writer(s, &s->wprob, err));
    s->out->mean_entropy = s->entropy_n ? s->entropy_sum / (double)s->entropy_n : 0;
    return derived_outputs(s, err);
}

eos_status eos_segment_scene(eos_analyzer *a, eos_raster *r, const eos_segment_params *params,
                             eos_segment_result *out) {
    eos_err err;
    eos_err_clear(&err);
    if (!a || !r || !out) return EOS_INVALID_ARG;
    memset(out, 0, sizeof *out);
    eos_segment_params defaults = eos_segment_default_params();
    seg_run s = { .a = a, .r = r, .p = params ? params : &defaults, .out = out };
    double t0 = eos__now_s();
    eos_status st = segment(&s, &err);
    eos_raster_writer_discard(s.wmask);
    eos_raster_writer_discard(s.wprob);
    eos_free(s.ramp);
    eos_free(s.x);
    eos_free(s.probs);
    eos_free(s.wvalid);
    eos_free(s.wx);
    eos_free(s.acc);
    eos_free(s.valid);
    eos_free(s.skip);
    eos_free(s.rowbuf);
    eos_free(s.probbuf);
    eos_free(s.mask);
    eos_free(s.cloud_x);
    out->seconds = eos__now_s() - t0;
    if (st == EOS_OK) return EOS_OK;
    eos_segment_result_free(out);
    return eos__analysis_fail(a, &err);
}

eos_status eos_segment_result_json(const eos_analyzer *a, const eos_segment_result *res,
                                   char **json) {
    if (!a || !res || !json || !res->pixels) return EOS_INVALID_ARG;
    const eos_contract *c = &a->contract;
    int64_t valid = res->width_px * res->height_px - res->nodata_px;
    eos_strbuf b = EOS_STRBUF_INIT;
    eos_strbuf_puts(&b, "{\"model\":");
    eos_strbuf_json_str(&b, a->name);
    eos_strbuf_printf(&b, ",\"width\":%lld,\"height\":%lld,\"classes\":[", (long long)res->width_px,
                      (long long)res->height_px);
    for (int i = 0; i < res->n_classes; i++) {
        eos_strbuf_puts(&b, i ? ",{\"name\":" : "{\"name\":");
        eos_strbuf_json_str(&b, c->class_names[i]);
        eos_strbuf_printf(&b, ",\"color\":\"#%02x%02x%02x\",\"pixels\":%lld,\"area_m2\":",
                          c->colors[i].r, c->colors[i].g, c->colors[i].b,
                          (long long)res->pixels[i]);
        if (res->georeferenced) eos_strbuf_printf(&b, "%.3f", res->area_m2[i]);
        else eos_strbuf_puts(&b, "null");
        eos_strbuf_printf(&b, ",\"share\":%.6f}",
                          valid > 0 ? (double)res->pixels[i] / (double)valid : 0.0);
    }
    eos_strbuf_printf(&b, "],\"nodata_px\":%lld,\"windows\":%lld,\"windows_nodata\":%lld,"
                      "\"windows_cloudy\":%lld,\"polygons\":%lld,\"mean_entropy\":%.6f,"
                      "\"georeferenced\":%s,"
                      "\"seconds\":%.3f}", (long long)res->nodata_px, (long long)res->windows,
                      (long long)res->windows_nodata, (long long)res->windows_cloudy,
                      (long long)res->n_polygons,
                      res->mean_entropy, res->georeferenced ? "true" : "false", res->seconds);
    return eos_strbuf_take(&b, json);
}
