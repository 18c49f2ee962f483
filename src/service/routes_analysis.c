/*
 * src/service/routes_analysis.c - the analysis routes of the service:
 *   POST /v1/classify|tag|clouds|segment   the image as the body (or a form's "image" part)
 *   POST /v1/{task}-at                     {"lat","lon"}: the catalog tile under a point
 *   POST /v1/scenes/{id}/segment           a whole catalog scene, mask kept for map tiles
 * Whole images of classify/tag/clouds go through the model's micro-batcher (batcher.c): the
 * request decodes and reads its input on a pool analyzer, gives it back, and waits for its
 * batch; grids run on the pool analyzer with the batcher as their runner. Segmentation runs on
 * a pool analyzer and writes its outputs into a private temporary folder, read back into the
 * answer and removed.
 */
#include <errno.h>
#include <gdal.h>
#include <gdal_utils.h>
#include <jansson.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eosight/alloc.h"
#include "service/metrics.h"
#include "service/service_internal.h"

/* ------------------------------------------------------------------ small helpers */

static void *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = eos_malloc((size_t)n + 1)) != NULL) {
            if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
                eos_free(buf);
                buf = NULL;
            } else {
                buf[n] = '\0';
                *len = (size_t)n;
            }
        }
    }
    fclose(f);
    return buf;
}

static char *base64(const unsigned char *p, size_t n) {
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = eos_malloc(4 * ((n + 2) / 3) + 1), *o = out;
    if (!out) return NULL;
    size_t i = 0;
    for (; i + 2 < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
        *o++ = t[v >> 18];
        *o++ = t[(v >> 12) & 63];
        *o++ = t[(v >> 6) & 63];
        *o++ = t[v & 63];
    }
    if (i < n) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0);
        *o++ = t[v >> 18];
        *o++ = t[(v >> 12) & 63];
        *o++ = i + 1 < n ? t[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    *o = '\0';
    return out;
}

/* A private temporary folder; removed by rm_tmpdir with the files named in it. */
static bool make_tmpdir(char *dir, size_t size) {
    const char *t = getenv("TMPDIR");
    snprintf(dir, size, "%s/eosight-serve-XXXXXX", t && *t ? t : "/tmp");
    return mkdtemp(dir) != NULL;
}

static void rm_tmpdir(const char *dir) {
    static const char *const names[] = { "mask.tif", "mask.png", "mask.png.aux.xml",
                                         "polygons.geojson", "window.vrt" };
    char path[4200];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* The model a request names (model=), else the task's default; answers 404/400 itself. */
static svc_model *pick_model(svc_call *k, eos_analysis_task task, const char *name,
                             enum MHD_Result *ret) {
    svc_model *m = name ? svc_registry_find(&k->s->reg, name)
                        : svc_registry_first(&k->s->reg, task);
    if (!m && name)
        *ret = svc_send_error(k, 404, NULL, "unknown model '%s' (GET /v1/models lists them)",
                              name);
    else if (!m)
        *ret = svc_send_error(k, 404, NULL, "no %s model is loaded",
                              eos_analysis_task_name(task));
    else if (m->task != task)
        *ret = svc_send_error(k, 400, NULL, "model '%s' is a %s model, not a %s model", m->name,
                              eos_analysis_task_name(m->task), eos_analysis_task_name(task));
    else
        return m;
    return NULL;
}

/* Count one analysed image of m in the metrics. */
static void count_image(svc_call *k, const svc_model *m) {
    svc_metrics_images(k->s->metrics, (int)(m - k->s->reg.models), m->task, 1);
}

/* Options of every analysis. */
typedef struct an_opts {
    long top_k, tta, window, overlap;
    float thresholds[EOS_ANALYSIS_MAX_CLASSES];
    int   n_thresholds;   /* 0: the contract's */
    bool polygons, mask_png;
    enum { OUT_JSON, OUT_PNG, OUT_TIFF } out;
} an_opts;

static bool parse_opts(svc_call *k, eos_analysis_task task, an_opts *o, enum MHD_Result *ret) {
    memset(o, 0, sizeof *o);
    if (!svc_opt_int(k, "top_k", 0, EOS_ANALYSIS_MAX_CLASSES,
                     task == EOS_ANALYSIS_CLASSIFY ? 5 : 0, &o->top_k)) {
        *ret = svc_send_error(k, 400, NULL, "top_k must be an integer in 0..%d",
                              EOS_ANALYSIS_MAX_CLASSES);
        return false;
    }
    if (!svc_opt_int(k, "tta", 1, 8, 1, &o->tta) || (o->tta != 1 && o->tta != 4 && o->tta != 8)) {
        *ret = svc_send_error(k, 400, NULL, "tta must be 1, 4 or 8");
        return false;
    }
    if (!svc_opt_int(k, "window", 0, 4096, 0, &o->window) || o->window % 32) {
        *ret = svc_send_error(k, 400, NULL, "window must be a multiple of 32 in 0..4096");
        return false;
    }
    if (!svc_opt_int(k, "overlap", -1, 4094, -1, &o->overlap) ||
        (o->overlap > 0 && o->overlap % 2)) {
        *ret = svc_send_error(k, 400, NULL, "overlap must be an even number of pixels");
        return false;
    }
    const char *th = svc_opt(k, "threshold");
    if (th && (task == EOS_ANALYSIS_CLASSIFY || task == EOS_ANALYSIS_SEGMENT)) {
        *ret = svc_send_error(k, 400, NULL, "threshold applies to tag and clouds only");
        return false;
    }
    if (th && (o->n_thresholds = eos_parse_thresholds(th, o->thresholds,
                                                      EOS_ANALYSIS_MAX_CLASSES)) < 1) {
        *ret = svc_send_error(k, 400, NULL, "threshold must be T or T1,T2,... (one per class), "
                              "each in 0..1");
        return false;
    }
    const char *outputs = svc_opt(k, "outputs");
    o->polygons = true;
    o->mask_png = false;
    if (outputs) {
        o->polygons = strstr(outputs, "polygons") != NULL;
        o->mask_png = strstr(outputs, "mask_png") != NULL;
    }
    const char *accept = k->c ? MHD_lookup_connection_value(k->c, MHD_HEADER_KIND, "Accept")
                              : NULL;
    o->out = OUT_JSON;
    if (accept && task == EOS_ANALYSIS_SEGMENT && !strstr(accept, "application/json")) {
        if (strstr(accept, "image/png")) o->out = OUT_PNG;
        else if (strstr(accept, "image/tiff")) o->out = OUT_TIFF;
    }
    return true;
}

/* Check an opened image: the pixel limit (uploads only: catalog scenes are local files, and
 * segmentation memory is bounded by one strip of windows whatever the size) and the model's
 * contract. true when it passed; otherwise the answer (413/415/422) is sent. */
static bool check_image(svc_call *k, svc_slot *slot, eos_raster *r, bool upload,
                        enum MHD_Result *ret) {
    eos_raster_info info;
    eos_raster_get_info(r, &info);
    eos_check chk;
    eos_status st;
    if (upload && info.width_px * info.height_px > k->s->p.max_pixels) {
        *ret = svc_send_error(k, 413, NULL, "image of %lld x %lld pixels is over the limit of "
                              "%lld pixels", (long long)info.width_px, (long long)info.height_px,
                              (long long)k->s->p.max_pixels);
    } else if ((st = eos_contract_check(slot->a, r, &chk)) != EOS_OK) {
        *ret = svc_send_error(k, svc_status_http(st), NULL, "cannot read the image: %s",
                              eos_analyzer_errmsg(slot->a));
    } else if (chk.refuse) {
        char msg[EOS_CHECK_MAX_MSGS * 330] = "";
        for (int i = 0; i < chk.n_msgs; i++) {
            size_t n = strlen(msg);
            snprintf(msg + n, sizeof msg - n, "%s%s", i ? "; " : "", chk.msgs[i]);
        }
        *ret = svc_send_error(k, 422, NULL, "image refused by model '%s': %s",
                              eos_analyzer_name(slot->a), msg);
    } else {
        return true;
    }
    return false;
}

/* ------------------------------------------------------------------ classify / tag / clouds */

/* Analyse an opened image with m: *json (eos_malloc) on success, else an answer is sent. The
 * slot is given back (and r closed) before waiting for the batch. */
static bool image_json(svc_call *k, svc_model *m, svc_slot **slotp, eos_raster **rp,
                       const an_opts *o, char **json, enum MHD_Result *ret) {
    svc_slot *slot = *slotp;
    eos_analyzer *a = slot->a;
    const eos_contract *c = eos_analyzer_contract(a);
    eos_image_params p = eos_image_default_params();
    p.tta = (int)o->tta;
    if (o->n_thresholds) {
        p.thresholds = o->thresholds;
        p.n_thresholds = o->n_thresholds;
    }
    p.run = svc_batcher_run;
    p.run_ctx = &m->batcher;
    if (o->n_thresholds > 1 && o->n_thresholds != c->n_classes) {
        svc_batcher_preparing(&m->batcher, -1);
        *ret = svc_send_error(k, 400, NULL, "%d thresholds given: give one, or one per class "
                              "(%d)", o->n_thresholds, c->n_classes);
        return false;
    }
    size_t per = (size_t)c->n_bands * (size_t)c->in_h * (size_t)c->in_w;
    float *x = eos_malloc((per ? per : 1) * sizeof *x);
    float *probs = eos_malloc((size_t)c->n_classes * sizeof *probs);
    double share = 0;
    bool whole = false;
    eos_status st = x && probs ? eos_analyze_prepare(a, *rp, &p, x, &share, &whole) : EOS_NOMEM;
    eos_image_result res;
    memset(&res, 0, sizeof res);
    svc_batcher_preparing(&m->batcher, -1);
    if (st == EOS_OK && whole) {   /* batched with other requests' images */
        eos_raster_close(*rp);
        *rp = NULL;
        svc_model_return(m, slot);
        *slotp = NULL;
        float ood = NAN;
        char msg[512] = "";
        st = svc_batcher_run(&m->batcher, x, 1, (int)o->tta, probs, &ood, msg, sizeof msg);
        if (st != EOS_OK) {
            *ret = svc_send_error(k, 500, NULL, "analysis failed: %s", msg);
        } else if ((st = eos_image_result_whole(a, &p, probs, ood, share, &res)) != EOS_OK) {
            *ret = svc_send_error(k, 500, NULL, "out of memory");
        }
    } else if (st == EOS_OK) {   /* a grid, on this analyzer, its batches through the batcher */
        if ((st = eos_analyze_image(a, *rp, &p, &res)) != EOS_OK)
            *ret = svc_send_error(k, svc_status_http(st), NULL, "analysis failed: %s",
                                  eos_analyzer_errmsg(a));
    } else {
        *ret = svc_send_error(k, svc_status_http(st), NULL, "analysis failed: %s",
                              st == EOS_NOMEM ? "out of memory" : eos_analyzer_errmsg(a));
    }
    if (st == EOS_OK && eos_image_result_json(a, &res, (int)o->top_k, json) != EOS_OK) {
        *ret = svc_send_error(k, 500, NULL, "cannot write the result");
        st = EOS_NOMEM;
    }
    eos_image_result_free(&res);
    eos_free(x);
    eos_free(probs);
    if (st == EOS_OK) count_image(k, m);
    return st == EOS_OK;
}

/* ------------------------------------------------------------------ segmentation */

/* gdal_translate src to dst with the options argv (NULL-terminated). */
static bool translate(const char *src_path, const char *dst_path, char **argv) {
    GDALDatasetH src = GDALOpen(src_path, GA_ReadOnly);
    if (!src) return false;
    GDALTranslateOptions *opt = GDALTranslateOptionsNew(argv, NULL);
    GDALDatasetH dst = opt ? GDALTranslate(dst_path, src, opt, NULL) : NULL;
    GDALTranslateOptionsFree(opt);
    bool ok = dst != NULL;
    if (dst) GDALClose(dst);
    GDALClose(src);
    return ok;
}

/* The mask PNG of a written mask GeoTIFF (its colour table kept). */
static bool mask_to_png(const char *tif, const char *png) {
    char *argv[] = { "-of", "PNG", "-q", NULL };
    return translate(tif, png, argv);
}

/* Segment an opened image; answers every outcome. prediction: when not NULL, receives the
 * result JSON text (eos_malloc) for the catalog instead of being answered (OUT_JSON only). */
static enum MHD_Result segment(svc_call *k, svc_slot *slot, eos_raster *r, const an_opts *o,
                               const char *keep_mask, char **result_out) {
    char dir[4096], mask[4200], png[4200], vec[4200];
    if (!make_tmpdir(dir, sizeof dir))
        return svc_send_error(k, 500, NULL, "cannot create a temporary folder: %s",
                              strerror(errno));
    snprintf(mask, sizeof mask, "%s/mask.tif", dir);
    snprintf(png, sizeof png, "%s/mask.png", dir);
    snprintf(vec, sizeof vec, "%s/polygons.geojson", dir);
    eos_segment_params p = eos_segment_default_params();
    p.tta = (int)o->tta;
    if (o->window) p.window = (int)o->window;
    if (o->overlap >= 0) p.overlap = (int)o->overlap;
    p.mask_path = keep_mask ? keep_mask : mask;
    p.on_progress = k->progress;
    p.progress_user = k->progress_user;
    /* polygons are lon/lat: only for a georeferenced image */
    eos_raster_info info;
    eos_raster_get_info(r, &info);
    bool georef = info.georef.has_transform && info.georef.crs;
    p.vector_path = o->out == OUT_JSON && o->polygons && georef ? vec : NULL;
    eos_segment_result res;
    enum MHD_Result ret;
    char *js = NULL;
    eos_status st = eos_segment_scene(slot->a, r, &p, &res);
    if (st != EOS_OK) {
        ret = svc_send_error(k, svc_status_http(st), NULL, "segmentation failed: %s",
                             eos_analyzer_errmsg(slot->a));
        rm_tmpdir(dir);
        return ret;
    }
    if (o->out != OUT_JSON) {
        bool as_png = o->out == OUT_PNG;
        size_t len = 0;
        void *bytes = as_png ? (mask_to_png(p.mask_path, png) ? read_file(png, &len) : NULL)
                             : read_file(p.mask_path, &len);
        ret = bytes ? svc_send(k, 200, as_png ? "image/png" : "image/tiff", bytes, len)
                    : svc_send_error(k, 500, NULL, "cannot read the written mask");
        eos_free(bytes);
    } else if (eos_segment_result_json(slot->a, &res, &js) != EOS_OK) {
        ret = svc_send_error(k, 500, NULL, "cannot write the result");
    } else {
        json_t *v = json_loads(js, 0, NULL);
        if (v && p.vector_path) {
            json_t *poly = json_load_file(vec, 0, NULL);
            json_object_set_new(v, "polygons", poly ? poly : json_null());
        } else if (v && o->polygons) {
            json_object_set_new(v, "polygons", json_null());
            json_object_set_new(v, "polygons_note", json_string(
                "the image has no georeferencing (CRS and geotransform): no lon/lat polygons"));
        }
        if (v && o->mask_png) {
            size_t len = 0;
            unsigned char *bytes = mask_to_png(p.mask_path, png) ? read_file(png, &len) : NULL;
            char *b64 = bytes ? base64(bytes, len) : NULL;
            if (b64) {
                char *url = eos_malloc(strlen(b64) + 32);
                if (url) {
                    sprintf(url, "data:image/png;base64,%s", b64);
                    json_object_set_new(v, "mask_png", json_string(url));
                    eos_free(url);
                }
            }
            eos_free(b64);
            eos_free(bytes);
        }
        char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
        json_decref(v);
        if (!text) {
            ret = svc_send_error(k, 500, NULL, "out of memory");
        } else if (result_out) {
            *result_out = eos_strdup(text);
            ret = MHD_YES;
        } else {
            ret = svc_send_text(k, 200, text);
        }
        free(text);   /* jansson's allocation */
    }
    eos_free(js);
    eos_segment_result_free(&res);
    rm_tmpdir(dir);
    return ret;
}

/* ------------------------------------------------------------------ POST /v1/{task} */

enum MHD_Result svc_route_analyze(svc_call *k) {
    eos_analysis_task task = (eos_analysis_task)k->route->arg;
    enum MHD_Result ret = MHD_NO;
    an_opts o;
    if (!parse_opts(k, task, &o, &ret)) return ret;
    svc_model *m = pick_model(k, task, svc_opt(k, "model"), &ret);
    if (!m) return ret;
    if (k->rq->image_len == 0)
        return svc_send_error(k, 400, NULL, "empty body: POST the image as the request body "
                              "or as the 'image' part of a multipart/form-data form");
    char msg[512] = "";
    bool batched = task != EOS_ANALYSIS_SEGMENT;
    if (batched) svc_batcher_preparing(&m->batcher, +1);
    svc_slot *slot = svc_model_borrow(m, msg, sizeof msg);
    if (!slot) {
        if (batched) svc_batcher_preparing(&m->batcher, -1);
        return svc_send_error(k, 500, NULL, "cannot open model '%s': %s", m->name, msg);
    }
    eos_raster *r = NULL;
    eos_status st = eos_analyzer_open_raster_mem(slot->a, slot->ctx, k->rq->image,
                                                 k->rq->image_len, &r);
    if (st != EOS_OK) {   /* GDAL's own detail names a private /vsimem/ path: cut it off */
        snprintf(msg, sizeof msg, "%s", eos_ctx_errmsg(slot->ctx));
        char *gdal = strstr(msg, ": `/vsimem/");
        if (gdal) *gdal = '\0';
        ret = svc_send_error(k, st == EOS_NOMEM ? 500 : 415, NULL, "cannot decode the image: %s",
                             msg);
    } else if (check_image(k, slot, r, true, &ret)) {
        if (batched) {
            char *js = NULL;
            bool ok = image_json(k, m, &slot, &r, &o, &js, &ret);
            batched = false;   /* image_json said it is no longer preparing */
            if (ok) ret = svc_send_text(k, 200, js);
            eos_free(js);
        } else {
            ret = segment(k, slot, r, &o, NULL, NULL);
            if (k->rq->status == 200) count_image(k, m);
        }
    }
    if (batched) svc_batcher_preparing(&m->batcher, -1);
    eos_raster_close(r);
    if (slot) svc_model_return(m, slot);
    return ret;
}

/* ------------------------------------------------------------------ POST /v1/{task}-at */

/* The newest scene covering (lon, lat): the latest acquisition time, else the latest added
 * (the first of a newest-first query, past the scenes without a time). */
static bool scene_at(eos_catalog *cat, double lon, double lat, eos_catalog_scene *out,
                     eos_status *st) {
    eos_catalog_query q = eos_catalog_point_query(lon, lat);
    q.limit = EOS_CATALOG_MAX_LIMIT;
    q.newest_first = true;
    eos_catalog_scene *s = NULL;
    size_t n = 0;
    if ((*st = eos_catalog_find(cat, &q, &s, &n)) != EOS_OK || n == 0) return false;
    size_t best = 0;
    while (best + 1 < n && !s[best].has_time) best++;   /* untimed scenes come first */
    if (!s[best].has_time) best = 0;                    /* none has a time: the latest added */
    *out = s[best];
    memset(&s[best], 0, sizeof s[best]);
    eos_catalog_scenes_free(s, n);
    return true;
}

/* A VRT of the window of path, at vrt. */
static bool window_vrt(const char *path, const eos_catalog_window *w, const char *vrt) {
    char xs[4][32];
    snprintf(xs[0], 32, "%lld", (long long)w->x);
    snprintf(xs[1], 32, "%lld", (long long)w->y);
    snprintf(xs[2], 32, "%lld", (long long)w->w);
    snprintf(xs[3], 32, "%lld", (long long)w->h);
    char *argv[] = { "-of", "VRT", "-q", "-srcwin", xs[0], xs[1], xs[2], xs[3], NULL };
    return translate(path, vrt, argv);
}

/* The body {"lat","lon","model"?}. */
static bool parse_point(svc_call *k, double *lat, double *lon, char *model, size_t msize,
                        enum MHD_Result *ret) {
    json_error_t e;
    json_t *v = k->rq->len ? json_loadb(k->rq->body, k->rq->len, 0, &e) : NULL;
    json_t *jl = json_object_get(v, "lat"), *jo = json_object_get(v, "lon"),
           *jm = json_object_get(v, "model");
    bool ok = json_is_number(jl) && json_is_number(jo) && (!jm || json_is_string(jm));
    if (ok) {
        *lat = json_number_value(jl);
        *lon = json_number_value(jo);
        ok = isfinite(*lat) && isfinite(*lon) && fabs(*lat) <= 90 && fabs(*lon) <= 180;
        snprintf(model, msize, "%s", jm ? json_string_value(jm) : "");
    }
    json_decref(v);
    if (!ok)
        *ret = svc_send_error(k, 400, NULL, "the body must be JSON {\"lat\": -90..90, \"lon\": "
                              "-180..180, \"model\": optional name}");
    return ok;
}

/* The tile of the scene under (lon, lat): the analysis grid's cell containing it. */
static bool tile_at(svc_call *k, svc_slot *slot, const eos_catalog_scene *sc, double lon,
                    double lat, eos_catalog_window *win, double bounds[4], enum MHD_Result *ret) {
    eos_raster *r = NULL;
    eos_status st = eos_analyzer_open_raster(slot->a, slot->ctx, sc->path, &r);
    if (st != EOS_OK) {
        *ret = svc_send_error(k, 500, NULL, "scene %lld cannot be read: %s", (long long)sc->id,
                              eos_ctx_errmsg(slot->ctx));
        return false;
    }
    eos_raster_info info;
    eos_raster_get_info(r, &info);
    int w = eos_analyzer_window_px(slot->a, r);
    if (w <= 0) w = 512;
    eos_tile_grid g;
    eos_tile t;
    bool ok = eos_tile_grid_init(&g, info.width_px, info.height_px, w, w, 0) == EOS_OK &&
              eos_tile_grid_at_lonlat(slot->ctx, &g, &info.georef, lon, lat, &t) == EOS_OK &&
              eos_tile_bounds(slot->ctx, &t, &info.georef, EOS_COORD_LONLAT, bounds) == EOS_OK;
    eos_raster_close(r);
    if (!ok) {
        *ret = svc_send_error(k, 404, NULL, "no tile of scene %lld at lat %.6f, lon %.6f",
                              (long long)sc->id, lat, lon);
        return false;
    }
    *win = (eos_catalog_window){ t.core_x0, t.core_y0, t.core_w, t.core_h };
    return true;
}

static _Atomic unsigned long g_vrt_seq;

/* Run the model on the window and answer {"scene","tile","prediction_id","result"}. */
static enum MHD_Result run_at(svc_call *k, svc_model *m, svc_slot **slotp,
                              const eos_catalog_scene *sc, const eos_catalog_window *win,
                              const double bounds[4], const an_opts *o) {
    char vrt[128];
    snprintf(vrt, sizeof vrt, "/vsimem/eosight-at-%lu.vrt", atomic_fetch_add(&g_vrt_seq, 1));
    enum MHD_Result ret = MHD_NO;
    eos_raster *r = NULL;
    char *result = NULL;
    if (!window_vrt(sc->path, win, vrt) ||
        eos_analyzer_open_raster((*slotp)->a, (*slotp)->ctx, vrt, &r) != EOS_OK) {
        ret = svc_send_error(k, 500, NULL, "cannot read the tile of scene %lld",
                             (long long)sc->id);
    } else if (check_image(k, *slotp, r, false, &ret)) {
        if (m->task == EOS_ANALYSIS_SEGMENT) {
            an_opts so = *o;
            so.out = OUT_JSON;
            ret = segment(k, *slotp, r, &so, NULL, &result);
            if (result) count_image(k, m);
        } else {
            svc_batcher_preparing(&m->batcher, +1);
            if (!image_json(k, m, slotp, &r, o, &result, &ret)) result = NULL;
        }
    }
    eos_raster_close(r);
    VSIUnlink(vrt);
    if (!result) return ret;
    int64_t pid = 0;
    eos_status st = eos_catalog_add_prediction(k->s->cat, sc->id, win, m->name, result, &pid);
    char *scene_js = NULL;
    eos_catalog_scene_json(sc, &scene_js);
    json_t *v = json_pack("{s:o?,s:{s:I,s:I,s:I,s:I,s:[f,f,f,f]},s:o?,s:o?,s:s}",
                          "scene", scene_js ? json_loads(scene_js, 0, NULL) : NULL,
                          "tile", "x", (json_int_t)win->x, "y", (json_int_t)win->y,
                          "w", (json_int_t)win->w, "h", (json_int_t)win->h,
                          "bounds", bounds[0], bounds[1], bounds[2], bounds[3],
                          "prediction_id", st == EOS_OK ? json_integer(pid) : json_null(),
                          "result", json_loads(result, 0, NULL), "model", m->name);
    char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    ret = text ? svc_send_text(k, 200, text) : svc_send_error(k, 500, NULL, "out of memory");
    free(text);   /* jansson's allocation */
    eos_free(scene_js);
    eos_free(result);
    return ret;
}

enum MHD_Result svc_route_analyze_at(svc_call *k) {
    eos_analysis_task task = (eos_analysis_task)k->route->arg;
    enum MHD_Result ret = MHD_NO;
    if (!k->s->cat)
        return svc_send_error(k, 404, NULL, "this server has no scene catalog (start it with "
                              "--catalog FILE)");
    an_opts o;
    double lat, lon;
    char name[160];
    if (!parse_opts(k, task, &o, &ret) || !parse_point(k, &lat, &lon, name, sizeof name, &ret))
        return ret;
    svc_model *m = pick_model(k, task, name[0] ? name : svc_opt(k, "model"), &ret);
    if (!m) return ret;
    eos_catalog_scene sc;
    eos_status st;
    if (!scene_at(k->s->cat, lon, lat, &sc, &st))
        return st == EOS_OK ? svc_send_error(k, 404, NULL, "no catalog scene covers lat %.6f, "
                                             "lon %.6f", lat, lon)
                            : svc_send_error(k, 500, NULL, "catalog query failed");
    char msg[512] = "";
    svc_slot *slot = svc_model_borrow(m, msg, sizeof msg);
    eos_catalog_window win;
    double bounds[4];
    if (!slot) {
        ret = svc_send_error(k, 500, NULL, "cannot open model '%s': %s", m->name, msg);
    } else if (tile_at(k, slot, &sc, lon, lat, &win, bounds, &ret)) {
        ret = run_at(k, m, &slot, &sc, &win, bounds, &o);
    }
    if (slot) svc_model_return(m, slot);
    eos_catalog_scene_clear(&sc);
    return ret;
}

/* ------------------------------------------------------------ POST /v1/scenes/{id}/segment */

enum MHD_Result svc_route_scene_segment(svc_call *k) {
    enum MHD_Result ret = MHD_NO;
    if (!k->s->cat)
        return svc_send_error(k, 404, NULL, "this server has no scene catalog (start it with "
                              "--catalog FILE)");
    int64_t id;
    an_opts o;
    long async;
    if (!svc_path_id(k, "scene", &id, &ret) || !parse_opts(k, EOS_ANALYSIS_SEGMENT, &o, &ret))
        return ret;
    if (!svc_opt_int(k, "async", 0, 1, 0, &async))
        return svc_send_error(k, 400, NULL, "async must be 0 or 1");
    o.out = OUT_JSON;
    if (!svc_opt(k, "outputs")) o.polygons = false;   /* a whole scene: only when asked */
    svc_model *m = pick_model(k, EOS_ANALYSIS_SEGMENT, svc_opt(k, "model"), &ret);
    if (!m) return ret;
    eos_catalog_scene sc;
    if (eos_catalog_get(k->s->cat, id, &sc) != EOS_OK)
        return svc_send_error(k, 404, NULL, "no scene %lld in the catalog", (long long)id);
    if (async && k->c) {   /* checked: run it in the background, answer 202 now */
        eos_catalog_scene_clear(&sc);
        return svc_job_submit(k);
    }
    char mask[4200], tmp[4300], msg[512] = "";
    snprintf(mask, sizeof mask, "%s/scene-%lld.tif", k->s->results_dir, (long long)id);
    snprintf(tmp, sizeof tmp, "%s.part-%lu.tif", mask, atomic_fetch_add(&g_vrt_seq, 1));
    mkdir(k->s->results_dir, 0755);
    svc_slot *slot = svc_model_borrow(m, msg, sizeof msg);
    eos_raster *r = NULL;
    char *result = NULL;
    if (!slot) {
        ret = svc_send_error(k, 500, NULL, "cannot open model '%s': %s", m->name, msg);
    } else if (eos_analyzer_open_raster(slot->a, slot->ctx, sc.path, &r) != EOS_OK) {
        ret = svc_send_error(k, 500, NULL, "scene %lld cannot be read: %s", (long long)id,
                             eos_ctx_errmsg(slot->ctx));
    } else if (check_image(k, slot, r, false, &ret)) {
        o.mask_png = false;
        ret = segment(k, slot, r, &o, tmp, &result);
        if (result) count_image(k, m);
    }
    eos_raster_close(r);
    if (slot) svc_model_return(m, slot);
    if (result && rename(tmp, mask) != 0) {
        eos_free(result);
        result = NULL;
        ret = svc_send_error(k, 500, NULL, "cannot keep the mask in %s: %s", k->s->results_dir,
                             strerror(errno));
    }
    unlink(tmp);
    if (result) {
        json_t *v = json_loads(result, 0, NULL);
        if (v) json_object_set_new(v, "scene_id", json_integer(id));
        if (v) json_object_set_new(v, "tiles", json_sprintf("/v1/tiles/{z}/{x}/{y}.png?scene=%lld"
                                                            "&layer=segmentation", (long long)id));
        char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
        json_decref(v);
        if (text) eos_catalog_add_prediction(k->s->cat, id, NULL, m->name, text, NULL);
        ret = text ? svc_send_text(k, 200, text) : svc_send_error(k, 500, NULL, "out of memory");
        free(text);   /* jansson's allocation */
        eos_free(result);
    }
    eos_catalog_scene_clear(&sc);
    return ret;
}
