/*
 * src/analysis/image.c - eos_analyze_image and friends (include/eosight/analysis.h): whole
 * images and patch grids through classify, tag and cloud models, with optional cloud
 * screening of the cells, the grid written as GeoTIFF and GeoJSON, and the JSON report.
 *
 * A window of the image (any size) becomes a model input the way training made one: read in
 * the bands' storage type, normalised per the contract, resized bilinearly (half-pixel
 * centres) to the input size. The part of a window outside the image is mirrored, and only
 * pixels inside the image and valid count toward the window's valid share.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis_internal.h"
#include "core/strbuf.h"
#include "data/data_internal.h"
#include "eosight/alloc.h"

#define WHOLE_MAX_PX  (4096LL * 4096LL)   /* largest image classified whole */

double eos__raster_gsd_m(const eos_raster *r) {
    eos_raster_info info;
    eos_raster_get_info(r, &info);
    const eos_georef *g = &info.georef;
    if (!g->has_transform) return 0;
    const double *gt = g->transform.gt;
    double sx = hypot(gt[1], gt[4]), sy = hypot(gt[2], gt[5]), s = 0.5 * (sx + sy);
    if (!g->crs) return 0;
    if (eos_crs_is_geographic(g->crs)) {
        double lat = gt[3] + 0.5 * (double)info.width_px * gt[4] + 0.5 * (double)info.height_px * gt[5];
        double m_per_deg = 111320.0 * sqrt(fabs(cos(lat * 3.14159265358979323846 / 180.0)));
        return s * m_per_deg;   /* geometric mean of the E-W and N-S metres per degree */
    }
    return s * eos_crs_linear_units_m(g->crs);
}

eos_image_params eos_image_default_params(void) {
    eos_image_params p;
    memset(&p, 0, sizeof p);
    p.tta = 1;
    p.batch = 32;
    p.min_valid = 0.5;
    p.skip_cloudy = 1.1;   /* never */
    return p;
}

int eos_parse_thresholds(const char *text, float *out, int max) {
    int n = 0;
    const char *p = text;
    if (!text || !*text) return -1;
    for (;;) {
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (errno || end == p || !(v >= 0 && v <= 1) || n == max) return -1;
        out[n++] = (float)v;
        if (*end == '\0') return n;
        if (*end != ',') return -1;
        p = end + 1;
    }
}

void eos_image_result_free(eos_image_result *res) {
    if (!res) return;
    eos_free(res->probs);
    eos_free(res->cell_class);
    eos_free(res->cell_probs);
    eos_free(res->cell_ood);
    eos_free(res->class_share);
    eos_free(res->thresholds);
    memset(res, 0, sizeof *res);
}

/* ------------------------------------------------------------------ model inputs */

eos_status eos_analyzer_read_input(eos_analyzer *a, eos_raster *r, int64_t x0, int64_t y0, int w,
                                   int h, float *dst, double *valid_share) {
    eos_err err;
    eos_err_clear(&err);
    const eos_contract *c = &a->contract;
    int ih = c->in_h ? c->in_h : h, iw = c->in_w ? c->in_w : w;
    size_t n = (size_t)c->n_bands * (size_t)h * (size_t)w;
    bool same = ih == h && iw == w;
    if ((!same && !eos__grow_f(&a->buf, &a->buf_cap, n)) ||
        !eos__grow_u8(&a->valid, &a->valid_cap, (size_t)h * (size_t)w))
        return eos__analysis_fail(a, &(eos_err){ EOS_NOMEM, "out of memory for a window" });
    eos_status st = eos_raster_read_norm(r, x0, y0, w, h, &c->norm, same ? dst : a->buf, a->valid,
                                         EOS_PAD_REFLECT);
    if (st != EOS_OK) {
        eos_err_set(&err, st, "%s", eos_raster_errmsg(r));
        return eos__analysis_fail(a, &err);
    }
    if (!same) eos__resize(a->buf, NULL, c->n_bands, h, w, dst, NULL, ih, iw);
    if (valid_share) {
        eos_raster_info info;
        eos_raster_get_info(r, &info);
        int64_t cnt = 0;
        for (int y = 0; y < h; y++) {
            int64_t yy = y0 + y;
            if (yy < 0 || yy >= info.height_px) continue;
            const uint8_t *v = a->valid + (size_t)y * (size_t)w;
            for (int x = 0; x < w; x++) {
                int64_t xx = x0 + x;
                cnt += xx >= 0 && xx < info.width_px && v[x];
            }
        }
        *valid_share = (double)cnt / ((double)w * (double)h);
    }
    return EOS_OK;
}

eos_status eos_analyze_batch(eos_analyzer *a, const float *x, int n, int tta, float *probs,
                             float *ood) {
    eos_err err;
    eos_err_clear(&err);
    const eos_contract *c = &a->contract;
    if (!x || !probs || n < 1 || c->task == EOS_ANALYSIS_SEGMENT)
        return eos__analysis_fail(a, &(eos_err){ EOS_INVALID_ARG, "eos_analyze_batch: bad "
                                                 "arguments or a segmentation model" });
    a->run.n_tta = tta >= 8 ? 8 : tta >= 4 ? 4 : 1;
    a->run.argmax_only = false;
    eos_status st = eos__runner_run(&a->run, x, n, c->n_bands, c->in_h, c->in_w, false, probs, &err);
    if (st != EOS_OK) return eos__analysis_fail(a, &err);
    if (ood) eos__analysis_ood_scores(a, n, ood);
    return EOS_OK;
}

/* ------------------------------------------------------------------ grid */

typedef struct grid_run {
    eos_analyzer *a;
    eos_raster   *r;
    const eos_image_params *p;
    eos_image_result *out;
    int64_t       W, H;
    int           win;            /* grid: square window side */
    int           win_w, win_h;   /* the window each cell reads */
    float        *x, *cx;         /* batch inputs: model, cloud model */
    float        *cp;             /* cloud probabilities of a batch */
    int64_t      *idx;            /* cell index of each batch entry */
} grid_run;

/* The grid window in image pixels: params; else, when both GSDs are known, the input size
 * scaled by the model's GSD over the image's; else eosight.window_px; else the input size. */
static int grid_window(const eos_analyzer *a, eos_raster *r, const eos_image_params *p) {
    const eos_contract *c = &a->contract;
    if (p->window_px > 0) return p->window_px;
    double g = eos__raster_gsd_m(r);
    int in = c->in_w > c->in_h ? c->in_w : c->in_h;
    if (c->gsd_m > 0 && g > 0) {
        double w = in * c->gsd_m / g;
        return w < 8 ? 8 : w > 16384 ? 16384 : (int)lround(w);
    }
    return c->window_px > 0 ? c->window_px : in;
}

/* Cloud probabilities of the batch's windows under p->clouds. */
static eos_status cloud_batch(grid_run *g, int n, eos_err *err) {
    eos_analyzer *cl = g->p->clouds;
    const eos_contract *cc = &cl->contract;
    size_t per = (size_t)cc->n_bands * (size_t)cc->in_h * (size_t)cc->in_w;
    for (int k = 0; k < n; k++) {
        int64_t i = g->idx[k], cx = i % g->out->cells_x, cy = i / g->out->cells_x;
        EOS_TRY(eos_analyzer_read_input(cl, g->p->clouds_raster ? g->p->clouds_raster : g->r,
                                        cx * g->win_w, cy * g->win_h, g->win_w, g->win_h,
                                        g->cx + (size_t)k * per, NULL) != EOS_OK
                    ? eos_err_set(err, cl->err.status, "cloud model: %s", cl->err.msg)
                    : EOS_OK);
    }
    float *probs = eos_malloc((size_t)n * (size_t)cc->n_classes * sizeof *probs);
    if (!probs) return eos_err_set(err, EOS_NOMEM, "out of memory");
    eos_status st = eos_analyze_batch(cl, g->cx, n, 1, probs, NULL);
    if (st != EOS_OK) eos_err_set(err, st, "cloud model: %s", cl->err.msg);
    for (int k = 0; st == EOS_OK && k < n; k++)
        g->cp[k] = probs[(size_t)k * (size_t)cc->n_classes + (size_t)cc->cloudy_class];
    eos_free(probs);
    return st;
}

/* Run the model on the n windows of the batch and store the cells' results. */
static eos_status grid_flush(grid_run *g, int n, eos_err *err) {
    if (n == 0) return EOS_OK;
    eos_analyzer *a = g->a;
    const eos_contract *c = &a->contract;
    int C = c->n_classes;
    size_t per = (size_t)c->n_bands * (size_t)c->in_h * (size_t)c->in_w;
    if (g->p->clouds) EOS_TRY(cloud_batch(g, n, err));
    /* compact away the cloudy cells */
    int m = 0;
    for (int k = 0; k < n; k++) {
        if (g->p->clouds && g->cp[k] >= g->p->skip_cloudy) {
            g->out->cell_class[g->idx[k]] = EOS_ANALYSIS_SKIPPED;
            g->out->n_cells_skipped++;
            continue;
        }
        if (m != k) {
            memmove(g->x + (size_t)m * per, g->x + (size_t)k * per, per * sizeof(float));
            g->idx[m] = g->idx[k];
        }
        m++;
    }
    if (m == 0) return EOS_OK;
    float *probs = eos_malloc((size_t)m * (size_t)C * sizeof *probs);
    float *ood = eos_malloc((size_t)m * sizeof *ood);
    eos_status st;
    if (!probs || !ood) {
        st = eos_err_set(err, EOS_NOMEM, "out of memory");
    } else if (g->p->run) {
        char msg[512] = "";
        st = g->p->run(g->p->run_ctx, g->x, m, g->p->tta, probs, ood, msg, sizeof msg);
        if (st != EOS_OK) eos_err_set(err, st, "%s", msg[0] ? msg : "the batch runner failed");
    } else {
        st = eos_analyze_batch(a, g->x, m, g->p->tta, probs, ood);
        if (st != EOS_OK) eos_err_set(err, st, "%s", a->err.msg);
    }
    for (int k = 0; st == EOS_OK && k < m; k++) {
        int64_t i = g->idx[k];
        const float *pk = probs + (size_t)k * (size_t)C;
        memcpy(g->out->cell_probs + i * C, pk, (size_t)C * sizeof *pk);
        g->out->cell_ood[i] = ood[k];
        int top = eos__argmax(pk, C, 1);
        g->out->cell_class[i] = (uint8_t)top;
        g->out->n_cells_valid++;
        if (c->task == EOS_ANALYSIS_TAG) {
            for (int j = 0; j < C; j++)
                g->out->class_share[j] += pk[j] >= g->out->thresholds[j];
        } else {
            g->out->class_share[top] += 1;
        }
        for (int j = 0; j < C; j++) g->out->probs[j] += pk[j];
    }
    eos_free(probs);
    eos_free(ood);
    return st;
}

static eos_status grid_cells(grid_run *g, eos_err *err) {
    eos_image_result *o = g->out;
    const eos_contract *c = &g->a->contract;
    int batch = g->p->batch > 0 ? g->p->batch : 32;
    size_t per = (size_t)c->n_bands * (size_t)c->in_h * (size_t)c->in_w;
    g->x = eos_malloc((size_t)batch * per * sizeof(float));
    g->idx = eos_malloc((size_t)batch * sizeof *g->idx);
    g->cp = eos_malloc((size_t)batch * sizeof *g->cp);
    if (g->p->clouds) {
        const eos_contract *cc = &g->p->clouds->contract;
        g->cx = eos_malloc((size_t)batch * (size_t)cc->n_bands * (size_t)cc->in_h *
                           (size_t)cc->in_w * sizeof(float));
    }
    if (!g->x || !g->idx || !g->cp || (g->p->clouds && !g->cx))
        return eos_err_set(err, EOS_NOMEM, "out of memory for a batch of %d windows", batch);
    int64_t n_cells = o->cells_x * o->cells_y;
    eos_progress prog;
    eos__progress_start(&prog, g->p->progress, eos_analysis_task_name(c->task), "cells", n_cells);
    double min_valid = g->p->min_valid > 0 ? g->p->min_valid : 0.5;
    int n = 0;
    for (int64_t i = 0; i < n_cells; i++) {
        int64_t cx = i % o->cells_x, cy = i / o->cells_x;
        double share;
        if (eos_analyzer_read_input(g->a, g->r, cx * g->win_w, cy * g->win_h, g->win_w, g->win_h,
                                    g->x + (size_t)n * per, &share) != EOS_OK)
            return eos_err_set(err, g->a->err.status, "%s", g->a->err.msg);
        if (share < min_valid) {
            o->cell_class[i] = EOS_ANALYSIS_NODATA;
            o->n_cells_nodata++;
        } else {
            g->idx[n++] = i;
        }
        if (n == batch || i == n_cells - 1) {
            EOS_TRY(grid_flush(g, n, err));
            n = 0;
            eos__progress_show(&prog, (double)(i + 1), false);
        }
    }
    eos__progress_show(&prog, (double)n_cells, true);
    return EOS_OK;
}

/* ------------------------------------------------------------------ grid outputs */

static eos_status write_grid_tif(grid_run *g, eos_err *err) {
    eos_raster_info info;
    eos_raster_get_info(g->r, &info);
    const eos_contract *c = &g->a->contract;
    eos_raster_writer_params wp = eos_raster_writer_default_params();
    wp.format = EOS_RASTER_GTIFF;
    wp.width_px = g->out->cells_x;
    wp.height_px = g->out->cells_y;
    wp.n_bands = 1;
    wp.dtype = EOS_DTYPE_U8;
    wp.georef = info.georef;
    double *gt = wp.georef.transform.gt;
    gt[1] *= g->win; gt[2] *= g->win; gt[4] *= g->win; gt[5] *= g->win;
    wp.has_nodata = true;
    wp.nodata = EOS_ANALYSIS_NODATA;
    wp.block_px = 256;
    if (c->task != EOS_ANALYSIS_TAG) {
        wp.colors = c->colors;
        wp.class_names = c->class_names;
        wp.n_classes = c->n_classes;
    }
    eos_raster_writer *w;
    eos_status st = eos_raster_writer_create(g->a->ctx, g->p->grid_tif, &wp, &w);
    if (st != EOS_OK) return eos_err_set(err, st, "%s", eos_ctx_errmsg(g->a->ctx));
    st = eos_raster_writer_write(w, 0, 0, (int)g->out->cells_x, (int)g->out->cells_y,
                                 EOS_DTYPE_U8, g->out->cell_class);
    if (st != EOS_OK) {
        eos_err_set(err, st, "%s", eos_raster_writer_errmsg(w));
        eos_raster_writer_discard(w);
        return st;
    }
    st = eos_raster_writer_close(g->a->ctx, w);
    if (st != EOS_OK) return eos_err_set(err, st, "%s", eos_ctx_errmsg(g->a->ctx));
    return EOS_OK;
}

/* One cell as a GeoJSON feature (corners through the raster's georeferencing to WGS 84). */
static eos_status cell_feature(grid_run *g, const eos_georef *geo, int64_t i, eos_strbuf *b,
                               eos_err *err) {
    const eos_contract *c = &g->a->contract;
    int64_t cx = i % g->out->cells_x, cy = i / g->out->cells_x;
    double px[5] = { 0, 1, 1, 0, 0 }, py[5] = { 0, 0, 1, 1, 0 };
    eos_strbuf_puts(b, "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[");
    for (int k = 4; k >= 0; k--) {   /* counter-clockwise (RFC 7946) for a north-up raster */
        double lon, lat;
        eos_status st = eos_geo_pixel_to_lonlat(g->a->ctx, geo, (double)(cx + px[k]) * g->win,
                                                (double)(cy + py[k]) * g->win, &lon, &lat);
        if (st != EOS_OK) return eos_err_set(err, st, "%s", eos_ctx_errmsg(g->a->ctx));
        eos_strbuf_printf(b, "%s[%.7f,%.7f]", k == 4 ? "" : ",", lon, lat);
    }
    int cls = g->out->cell_class[i];
    eos_strbuf_printf(b, "]]},\"properties\":{\"col\":%lld,\"row\":%lld,", (long long)cx,
                      (long long)cy);
    if (cls == EOS_ANALYSIS_NODATA) {
        eos_strbuf_puts(b, "\"status\":\"nodata\"}}");
        return EOS_OK;
    }
    if (cls == EOS_ANALYSIS_SKIPPED) {
        eos_strbuf_puts(b, "\"status\":\"cloudy\"}}");
        return EOS_OK;
    }
    const float *p = g->out->cell_probs + i * c->n_classes;
    eos_strbuf_puts(b, "\"status\":\"ok\",\"class\":");
    eos_strbuf_json_str(b, c->class_names[cls]);
    eos_strbuf_printf(b, ",\"prob\":%.4f", p[cls]);
    if (c->task == EOS_ANALYSIS_TAG) {
        eos_strbuf_puts(b, ",\"labels\":[");
        int k = 0;
        for (int j = 0; j < c->n_classes; j++) {
            if (p[j] < g->out->thresholds[j]) continue;
            if (k++) eos_strbuf_puts(b, ",");
            eos_strbuf_json_str(b, c->class_names[j]);
        }
        eos_strbuf_puts(b, "]");
    }
    float o = g->out->cell_ood[i];
    if (isfinite(o)) eos_strbuf_printf(b, ",\"ood_score\":%.4f", o);
    eos_strbuf_puts(b, "}}");
    return EOS_OK;
}

static eos_status write_grid_geojson(grid_run *g, eos_err *err) {
    eos_raster_info info;
    eos_raster_get_info(g->r, &info);
    if (!info.georef.has_transform || !info.georef.crs)
        return eos_err_set(err, EOS_INVALID_ARG, "a GeoJSON grid needs a georeferenced image "
                           "(this one has no CRS or transform)");
    eos_strbuf b = EOS_STRBUF_INIT;
    eos_strbuf_puts(&b, "{\"type\":\"FeatureCollection\",\"features\":[\n");
    int64_t n = g->out->cells_x * g->out->cells_y;
    eos_status st = EOS_OK;
    for (int64_t i = 0; st == EOS_OK && i < n; i++) {
        if (i) eos_strbuf_puts(&b, ",\n");
        st = cell_feature(g, &info.georef, i, &b, err);
    }
    eos_strbuf_puts(&b, "\n]}\n");
    char *text = NULL;
    if (st == EOS_OK && (st = eos_strbuf_take(&b, &text)) != EOS_OK)
        eos_err_set(err, st, "out of memory");
    eos_strbuf_free(&b);
    if (st != EOS_OK) return st;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.part", g->p->grid_geojson);
    FILE *f = fopen(tmp, "wb");
    bool ok = f && fputs(text, f) >= 0;
    ok = f && fclose(f) == 0 && ok;
    eos_free(text);
    if (!ok || rename(tmp, g->p->grid_geojson) != 0) {
        remove(tmp);
        return eos_err_set(err, EOS_IO, "cannot write %s", g->p->grid_geojson);
    }
    return EOS_OK;
}

/* ------------------------------------------------------------------ eos_analyze_image */

/* The thresholds in effect: params' (one for all, or one per class), else the contract's. */
static void fill_thresholds(const eos_contract *c, const eos_image_params *p, float *t) {
    for (int j = 0; j < c->n_classes; j++)
        t[j] = p && p->thresholds ? p->thresholds[p->n_thresholds == 1 ? 0 : j] : c->thresholds[j];
}

static eos_status result_alloc(eos_image_result *o, int C, int64_t cells, eos_err *err) {
    o->n_classes = C;
    o->thresholds = eos_malloc((size_t)C * sizeof *o->thresholds);
    if (!o->thresholds) return eos_err_set(err, EOS_NOMEM, "out of memory");
    o->probs = eos_calloc((size_t)C, sizeof *o->probs);
    o->class_share = eos_calloc((size_t)C, sizeof *o->class_share);
    o->cell_class = eos_malloc((size_t)cells);
    o->cell_probs = eos_calloc((size_t)cells * (size_t)C, sizeof *o->cell_probs);
    o->cell_ood = eos_malloc((size_t)cells * sizeof *o->cell_ood);
    if (!o->probs || !o->class_share || !o->cell_class || !o->cell_probs || !o->cell_ood)
        return eos_err_set(err, EOS_NOMEM, "out of memory for %lld cells", (long long)cells);
    for (int64_t i = 0; i < cells; i++) o->cell_ood[i] = NAN;
    return EOS_OK;
}

/* Mean probabilities, shares and the whole-image decision from the cells. */
static void result_finish(const eos_analyzer *a, eos_image_result *o) {
    const eos_contract *c = &a->contract;
    int C = c->n_classes;
    double nv = (double)o->n_cells_valid;
    for (int j = 0; j < C; j++) {
        o->probs[j] = nv > 0 ? (float)(o->probs[j] / nv) : 0.0f;
        o->class_share[j] = nv > 0 ? o->class_share[j] / nv : 0.0;
    }
    o->top = eos__argmax(o->probs, C, 1);
    o->cloudy = c->task == EOS_ANALYSIS_CLOUD && nv > 0 &&
                o->probs[c->cloudy_class] >= o->thresholds[c->cloudy_class];
    o->skipped = nv == 0 && o->n_cells_skipped > 0;
    o->ood_score = NAN;
    if (!o->grid) {
        o->ood_score = o->cell_ood[0];
    } else if (nv > 0 && c->has_ood) {   /* the grid's median cell score */
        double s = 0;
        int64_t k = 0, n = o->cells_x * o->cells_y;
        for (int64_t i = 0; i < n; i++)
            if (isfinite(o->cell_ood[i])) s += o->cell_ood[i], k++;
        o->ood_score = k ? s / (double)k : NAN;
    }
    o->uncertain = isfinite(o->ood_score) && eos__analysis_ood_uncertain(a, o->ood_score);
}

static eos_status check_image_params(const eos_image_params *p, eos_err *err) {
    if (p->tta != 0 && p->tta != 1 && p->tta != 4 && p->tta != 8)
        return eos_err_set(err, EOS_INVALID_ARG, "tta %d: expected 1, 4 or 8", p->tta);
    if (p->batch < 0 || p->batch > 4096)
        return eos_err_set(err, EOS_INVALID_ARG, "batch %d outside 0..4096", p->batch);
    if (p->window_px < 0 || p->window_px > 16384)
        return eos_err_set(err, EOS_INVALID_ARG, "window %d outside 0..16384", p->window_px);
    if (!(p->min_valid >= 0 && p->min_valid <= 1))
        return eos_err_set(err, EOS_INVALID_ARG, "min_valid must be in [0, 1]");
    for (int j = 0; p->thresholds && j < p->n_thresholds; j++)
        if (!(p->thresholds[j] >= 0 && p->thresholds[j] <= 1))
            return eos_err_set(err, EOS_INVALID_ARG, "threshold %g is outside 0..1",
                               (double)p->thresholds[j]);
    if (p->clouds && p->clouds->contract.task != EOS_ANALYSIS_CLOUD)
        return eos_err_set(err, EOS_INVALID_ARG, "the cloud screening model '%s' is a %s model, "
                           "not a cloud model", p->clouds->name,
                           eos_analysis_task_name(p->clouds->contract.task));
    return EOS_OK;
}

/* The raster the cloud model reads must have its band count and the image's size. */
static eos_status check_cloud_raster(const grid_run *g, eos_err *err) {
    if (!g->p->clouds) return EOS_OK;
    eos_raster_info ci;
    eos_raster_get_info(g->p->clouds_raster ? g->p->clouds_raster : g->r, &ci);
    if (ci.n_selected != g->p->clouds->contract.n_bands)
        return eos_err_set(err, EOS_SHAPE, "the cloud model '%s' takes %d bands, the image as "
                           "opened for it has %d (open it with eos_analyzer_open_raster for the "
                           "cloud model)", g->p->clouds->name, g->p->clouds->contract.n_bands,
                           ci.n_selected);
    if (ci.width_px != g->W || ci.height_px != g->H)
        return eos_err_set(err, EOS_INVALID_ARG, "the image opened for the cloud model is not the "
                           "same image (size %lld x %lld)", (long long)ci.width_px,
                           (long long)ci.height_px);
    return EOS_OK;
}

/* The checks of every analysis of an image, and whether it is a grid (*grid). */
static eos_status analyze_setup(grid_run *g, bool *grid, eos_err *err) {
    eos_analyzer *a = g->a;
    const eos_contract *c = &a->contract;
    if (c->task == EOS_ANALYSIS_SEGMENT)
        return eos_err_set(err, EOS_INVALID_ARG, "'%s' is a segmentation model: use segment",
                           a->name);
    EOS_TRY(check_image_params(g->p, err));
    if (g->p->thresholds && g->p->n_thresholds != 1 && g->p->n_thresholds != c->n_classes)
        return eos_err_set(err, EOS_INVALID_ARG, "%d thresholds given: give one, or one per "
                           "class (%d)", g->p->n_thresholds, c->n_classes);
    eos_raster_info info;
    eos_raster_get_info(g->r, &info);
    if (info.n_selected != c->n_bands)
        return eos_err_set(err, EOS_SHAPE, "the image has %d bands, the model takes %d",
                           info.n_selected, c->n_bands);
    g->W = info.width_px;
    g->H = info.height_px;
    g->win = grid_window(a, g->r, g->p);
    EOS_TRY(check_cloud_raster(g, err));
    bool outputs = g->p->grid_tif || g->p->grid_geojson;
    *grid = g->p->grid == EOS_GRID_ALWAYS ||
            (g->p->grid == EOS_GRID_AUTO &&
             (outputs || g->W > g->win * 3 / 2 || g->H > g->win * 3 / 2));
    if (!*grid && outputs)
        return eos_err_set(err, EOS_INVALID_ARG, "grid outputs were asked for, but the image is "
                           "classified whole");
    if (!*grid && g->W * g->H > WHOLE_MAX_PX)
        return eos_err_set(err, EOS_LIMIT, "the image is %lld x %lld: too large to classify "
                           "whole; use a grid", (long long)g->W, (long long)g->H);
    return EOS_OK;
}

static eos_status analyze(grid_run *g, eos_err *err) {
    const eos_contract *c = &g->a->contract;
    eos_image_result *o = g->out;
    bool grid;
    EOS_TRY(analyze_setup(g, &grid, err));
    o->task = c->task;
    o->grid = grid;
    if (!grid) {   /* the whole image as one cell */
        o->cells_x = o->cells_y = 1;
    } else {
        if (g->win < 1)
            return eos_err_set(err, EOS_INVALID_ARG, "grid window of %d pixels", g->win);
        o->cells_x = (g->W + g->win - 1) / g->win;
        o->cells_y = (g->H + g->win - 1) / g->win;
        o->window_px = g->win;
    }
    EOS_TRY(result_alloc(o, c->n_classes, o->cells_x * o->cells_y, err));
    fill_thresholds(c, g->p, o->thresholds);
    g->win_w = grid ? g->win : (int)g->W;
    g->win_h = grid ? g->win : (int)g->H;
    EOS_TRY(grid_cells(g, err));
    result_finish(g->a, o);
    if (grid && g->p->grid_tif) EOS_TRY(write_grid_tif(g, err));
    if (grid && g->p->grid_geojson) EOS_TRY(write_grid_geojson(g, err));
    return EOS_OK;
}

eos_status eos_analyze_image(eos_analyzer *a, eos_raster *r, const eos_image_params *params,
                             eos_image_result *out) {
    eos_err err;
    eos_err_clear(&err);
    if (!a || !r || !out) return EOS_INVALID_ARG;
    memset(out, 0, sizeof *out);
    eos_image_params defaults = eos_image_default_params();
    grid_run g = { .a = a, .r = r, .p = params ? params : &defaults, .out = out };
    double t0 = eos__now_s();
    eos_status st = analyze(&g, &err);
    eos_free(g.x);
    eos_free(g.cx);
    eos_free(g.cp);
    eos_free(g.idx);
    out->seconds = eos__now_s() - t0;
    if (st == EOS_OK) return EOS_OK;
    eos_image_result_free(out);
    return eos__analysis_fail(a, &err);
}

int eos_analyzer_window_px(const eos_analyzer *a, eos_raster *r) {
    eos_image_params p = eos_image_default_params();
    return a && r ? grid_window(a, r, &p) : 0;
}

eos_status eos_analyze_prepare(eos_analyzer *a, eos_raster *r, const eos_image_params *params,
                               float *x, double *valid_share, bool *whole) {
    eos_err err;
    eos_err_clear(&err);
    if (!a || !r || !x || !valid_share || !whole) return EOS_INVALID_ARG;
    *whole = false;
    eos_image_params defaults = eos_image_default_params();
    grid_run g = { .a = a, .r = r, .p = params ? params : &defaults };
    bool grid;
    eos_status st = analyze_setup(&g, &grid, &err);
    if (st != EOS_OK) return eos__analysis_fail(a, &err);
    if (grid || g.p->clouds) return EOS_OK;
    EOS_TRY(eos_analyzer_read_input(a, r, 0, 0, (int)g.W, (int)g.H, x, valid_share));
    *whole = true;
    return EOS_OK;
}

eos_status eos_image_result_whole(const eos_analyzer *a, const eos_image_params *params,
                                  const float *probs, float ood, double valid_share,
                                  eos_image_result *out) {
    eos_err err;
    eos_err_clear(&err);
    if (!a || !probs || !out) return EOS_INVALID_ARG;
    memset(out, 0, sizeof *out);
    const eos_contract *c = &a->contract;
    int C = c->n_classes;
    if (params && params->thresholds && params->n_thresholds != 1 && params->n_thresholds != C)
        return EOS_INVALID_ARG;
    double min_valid = params && params->min_valid > 0 ? params->min_valid : 0.5;
    out->task = c->task;
    out->cells_x = out->cells_y = 1;
    if (result_alloc(out, C, 1, &err) != EOS_OK) {
        eos_image_result_free(out);
        return EOS_NOMEM;
    }
    fill_thresholds(c, params, out->thresholds);
    if (valid_share < min_valid) {
        out->cell_class[0] = EOS_ANALYSIS_NODATA;
        out->n_cells_nodata = 1;
    } else {
        int top = eos__argmax(probs, C, 1);
        memcpy(out->cell_probs, probs, (size_t)C * sizeof *probs);
        memcpy(out->probs, probs, (size_t)C * sizeof *probs);
        out->cell_ood[0] = ood;
        out->cell_class[0] = (uint8_t)top;
        out->n_cells_valid = 1;
        if (c->task == EOS_ANALYSIS_TAG) {
            for (int j = 0; j < C; j++) out->class_share[j] = probs[j] >= out->thresholds[j];
        } else {
            out->class_share[top] = 1;
        }
    }
    result_finish(a, out);
    return EOS_OK;
}

/* ------------------------------------------------------------------ JSON */

typedef struct ranked { int c; float p; } ranked;

static int by_prob(const void *x, const void *y) {
    const ranked *a = x, *b = y;
    return (a->p < b->p) - (a->p > b->p);
}

eos_status eos_image_result_json(const eos_analyzer *a, const eos_image_result *res, int top_k,
                                 char **json) {
    if (!a || !res || !json || !res->probs) return EOS_INVALID_ARG;
    const eos_contract *c = &a->contract;
    int C = c->n_classes;
    ranked *rk = eos_malloc((size_t)C * sizeof *rk);
    if (!rk) return EOS_NOMEM;
    for (int j = 0; j < C; j++) rk[j] = (ranked){ j, res->probs[j] };
    qsort(rk, (size_t)C, sizeof *rk, by_prob);
    int k = top_k > 0 && top_k < C ? top_k : C;
    eos_strbuf b = EOS_STRBUF_INIT;
    eos_strbuf_puts(&b, "{\"model\":");
    eos_strbuf_json_str(&b, a->name);
    eos_strbuf_printf(&b, ",\"task\":\"%s\",\"classes\":[", eos_analysis_task_name(c->task));
    for (int j = 0; j < k; j++) {
        eos_strbuf_puts(&b, j ? ",{\"name\":" : "{\"name\":");
        eos_strbuf_json_str(&b, c->class_names[rk[j].c]);
        eos_strbuf_printf(&b, ",\"prob\":%.6f", rk[j].p);
        if (c->task == EOS_ANALYSIS_TAG)
            eos_strbuf_printf(&b, ",\"threshold\":%.4g", res->thresholds[rk[j].c]);
        eos_strbuf_puts(&b, "}");
    }
    eos_strbuf_puts(&b, "]");
    bool any = res->n_cells_valid > 0;
    if (c->task == EOS_ANALYSIS_TAG) {
        eos_strbuf_puts(&b, ",\"labels\":[");
        int n = 0;
        for (int j = 0; any && j < C; j++) {
            if (res->probs[rk[j].c] < res->thresholds[rk[j].c]) continue;
            if (n++) eos_strbuf_puts(&b, ",");
            eos_strbuf_json_str(&b, c->class_names[rk[j].c]);
        }
        eos_strbuf_puts(&b, "]");
    } else {
        eos_strbuf_puts(&b, ",\"top\":");
        if (any) eos_strbuf_json_str(&b, c->class_names[res->top]);
        else eos_strbuf_puts(&b, "null");
        eos_strbuf_printf(&b, ",\"prob\":%.6f", any ? res->probs[res->top] : 0.0);
    }
    if (c->task == EOS_ANALYSIS_CLOUD)
        eos_strbuf_printf(&b, ",\"cloudy\":%s,\"cloud_prob\":%.6f", res->cloudy ? "true" : "false",
                          res->probs[c->cloudy_class]);
    if (res->skipped) eos_strbuf_puts(&b, ",\"skipped\":\"cloudy\"");
    eos_strbuf_puts(&b, ",\"ood_score\":");
    eos_strbuf_json_num(&b, res->ood_score);
    eos_strbuf_printf(&b, ",\"uncertain\":%s", res->uncertain ? "true" : "false");
    if (res->grid) {
        eos_strbuf_printf(&b, ",\"grid\":{\"window_px\":%d,\"cells_x\":%lld,\"cells_y\":%lld,"
                          "\"valid\":%lld,\"nodata\":%lld,\"cloudy\":%lld,\"class_share\":[",
                          res->window_px, (long long)res->cells_x, (long long)res->cells_y,
                          (long long)res->n_cells_valid, (long long)res->n_cells_nodata,
                          (long long)res->n_cells_skipped);
        for (int j = 0; j < C; j++) {
            eos_strbuf_puts(&b, j ? ",{\"name\":" : "{\"name\":");
            eos_strbuf_json_str(&b, c->class_names[j]);
            eos_strbuf_printf(&b, ",\"share\":%.6f}", res->class_share[j]);
        }
        eos_strbuf_puts(&b, "]}");
    }
    eos_strbuf_printf(&b, ",\"seconds\":%.3f}", res->seconds);
    eos_free(rk);
    return eos_strbuf_take(&b, json);
}
