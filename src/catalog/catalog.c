/*
 * src/catalog/catalog.c - the front of include/eosight/catalog.h: opening by URI, argument
 * checks, the handle's mutex and error text, and dispatch to a back-end's function table
 * (catalog_internal.h).
 *
 * Every public operation checks its arguments first (so back-ends see only valid requests),
 * then takes the mutex for exactly the time it calls the back-end. eos_catalog_add is split
 * in three: hash the file (no lock), look the hash up (lock), describe the raster (no lock:
 * this is the slow part), store (lock; the back-end looks the hash up again inside its
 * transaction, so two threads or processes adding the same file still make one scene).
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "catalog/catalog_internal.h"
#include "eosight/alloc.h"

struct eos_catalog {
    pthread_mutex_t        mu;
    void                  *be;
    const eos__catalog_vt *vt;
    bool                   read_only;
    char                   errmsg[EOS_ERR_MSG_MAX];   /* last failure, under mu */
    eos__catalog_hook      hook;                      /* test builds: inside add's transaction */
    void                  *hook_user;
};

/* ------------------------------------------------------------------ helpers */

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void lock(eos_catalog *c) { pthread_mutex_lock(&c->mu); }

/* The calling thread's last failure and the handle it was on: eos_catalog_errmsg answers a
 * thread its own failure when threads share a handle. The handle pointer only identifies it
 * (a freed handle's address reused by a new one could show a stale text: a new handle's
 * first failure overwrites it). */
static _Thread_local struct {
    const eos_catalog *cat;
    char               msg[EOS_ERR_MSG_MAX];
} t_last;

/* Record a failure (mutex held) and release the mutex; returns st. */
static eos_status unlock_with(eos_catalog *c, eos_status st, const eos_err *err) {
    if (st != EOS_OK) {
        snprintf(c->errmsg, sizeof c->errmsg, "%s", err->msg[0] ? err->msg : eos_status_str(st));
        t_last.cat = c;
        snprintf(t_last.msg, sizeof t_last.msg, "%s", c->errmsg);
    }
    pthread_mutex_unlock(&c->mu);
    return st;
}

/* Record a failure found before the back-end was called. */
static eos_status fail(eos_catalog *c, const eos_err *err) {
    lock(c);
    return unlock_with(c, err->status ? err->status : EOS_INTERNAL, err);
}

static eos_status check_page(int64_t offset, int64_t limit, eos_err *err) {
    if (offset < 0) return eos_err_set(err, EOS_INVALID_ARG, "offset %lld < 0", (long long)offset);
    if (limit < 1 || limit > EOS_CATALOG_MAX_LIMIT)
        return eos_err_set(err, EOS_INVALID_ARG, "limit %lld outside 1..%d", (long long)limit,
                           EOS_CATALOG_MAX_LIMIT);
    return EOS_OK;
}

eos_catalog_scene *eos__scene_list_push(eos__scene_list *l) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        eos_catalog_scene *v = eos_realloc(l->v, cap * sizeof *v);
        if (!v) return NULL;
        l->v = v;
        l->cap = cap;
    }
    memset(&l->v[l->n], 0, sizeof l->v[l->n]);
    return &l->v[l->n++];
}

eos_catalog_prediction *eos__pred_list_push(eos__pred_list *l) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        eos_catalog_prediction *v = eos_realloc(l->v, cap * sizeof *v);
        if (!v) return NULL;
        l->v = v;
        l->cap = cap;
    }
    memset(&l->v[l->n], 0, sizeof l->v[l->n]);
    return &l->v[l->n++];
}

/* ------------------------------------------------------------------ opening */

eos_catalog_params eos_catalog_default_params(void) {
    eos_catalog_params p;
    memset(&p, 0, sizeof p);
    p.create = true;
    p.busy_timeout_ms = 5000;
    return p;
}

/* The back-end a URI names, and the path it hands over. */
static eos_status pick_backend(const char *uri, const char **path, eos_err *err) {
    if (!uri || !*uri) return eos_err_set(err, EOS_INVALID_ARG, "empty catalog URI");
    if (!strncmp(uri, "sqlite:", 7)) {
        *path = uri + 7;
        if (!**path) return eos_err_set(err, EOS_INVALID_ARG, "'sqlite:' needs a file path");
        return EOS_OK;
    }
    if (!strncmp(uri, "postgresql://", 13) || !strncmp(uri, "postgres://", 11))
        return eos_err_set(err, EOS_UNSUPPORTED, "catalog '%.200s': this eosight was built "
                           "without the PostgreSQL/PostGIS back-end", uri);
    const char *colon = strstr(uri, "://");
    if (colon)
        return eos_err_set(err, EOS_UNSUPPORTED, "catalog '%.200s': unknown scheme '%.*s' "
                           "(use a file path or sqlite:PATH)", uri, (int)(colon - uri), uri);
    *path = uri;
    return EOS_OK;
}

eos_status eos_catalog_open(eos_ctx *ctx, const char *uri, const eos_catalog_params *params,
                            eos_catalog **out) {
    eos__ctx_clear(ctx);
    eos_err err;
    eos_err_clear(&err);
    if (!out) return EOS_INVALID_ARG;
    *out = NULL;
    eos_catalog_params p = params ? *params : eos_catalog_default_params();
    const char *path = NULL;
    if (pick_backend(uri, &path, &err) != EOS_OK) return eos__ctx_fail(ctx, &err);
    if (p.busy_timeout_ms < 0) {
        eos_err_set(&err, EOS_INVALID_ARG, "busy timeout %d ms < 0", p.busy_timeout_ms);
        return eos__ctx_fail(ctx, &err);
    }
    eos_catalog *c = eos_calloc(1, sizeof *c);
    if (!c || pthread_mutex_init(&c->mu, NULL) != 0) {
        eos_free(c);
        eos_err_set(&err, EOS_NOMEM, "out of memory opening a catalog");
        return eos__ctx_fail(ctx, &err);
    }
    c->read_only = p.read_only;
    if (eos__catalog_sqlite_open(path, &p, &c->be, &c->vt, &err) != EOS_OK) {
        pthread_mutex_destroy(&c->mu);
        eos_free(c);
        return eos__ctx_fail(ctx, &err);
    }
    *out = c;
    return EOS_OK;
}

void eos_catalog_close(eos_catalog *cat) {
    if (!cat) return;
    cat->vt->close(cat->be);
    pthread_mutex_destroy(&cat->mu);
    eos_free(cat);
}

const char *eos_catalog_backend(const eos_catalog *cat) { return cat ? cat->vt->name : ""; }

const char *eos_catalog_errmsg(eos_catalog *cat, char *buf, size_t size) {
    if (!buf || !size) return buf;
    buf[0] = '\0';
    if (!cat) return buf;
    if (t_last.cat == cat) {   /* this thread failed on this handle: its own text */
        snprintf(buf, size, "%s", t_last.msg);
        return buf;
    }
    lock(cat);
    snprintf(buf, size, "%s", cat->errmsg);
    pthread_mutex_unlock(&cat->mu);
    return buf;
}

void eos__catalog_set_add_hook(eos_catalog *cat, eos__catalog_hook hook, void *user) {
    lock(cat);
    cat->hook = hook;
    cat->hook_user = user;
    pthread_mutex_unlock(&cat->mu);
}

/* ------------------------------------------------------------------ scenes */

eos_status eos_catalog_add(eos_catalog *cat, const char *raster_path, int64_t *scene_id,
                           bool *added) {
    if (scene_id) *scene_id = 0;
    if (added) *added = false;
    if (!cat) return EOS_INVALID_ARG;
    eos_err err;
    eos_err_clear(&err);
    if (cat->read_only) {
        eos_err_set(&err, EOS_INVALID_ARG, "cannot add '%.400s': the catalog is open read-only",
                    raster_path ? raster_path : "");
        return fail(cat, &err);
    }
    char *abs = NULL, hash[72];
    if (eos__catalog_hash_file(raster_path, &abs, hash, &err) != EOS_OK) return fail(cat, &err);
    int64_t id = 0;
    bool was_added = false;
    lock(cat);
    eos_status st = cat->vt->find_hash(cat->be, hash, &id, &err);
    pthread_mutex_unlock(&cat->mu);
    if (st == EOS_OK && id == 0) {
        eos_catalog_scene s;
        st = eos__catalog_describe(abs, hash, &s, &err);
        if (st == EOS_OK) {
            s.added_ms = now_ms();
            lock(cat);
            st = cat->vt->add_scene(cat->be, &s, cat->hook, cat->hook_user, &id, &was_added,
                                    &err);
            pthread_mutex_unlock(&cat->mu);
            eos_catalog_scene_clear(&s);
        }
    }
    eos_free(abs);
    if (st != EOS_OK) return fail(cat, &err);
    if (scene_id) *scene_id = id;
    if (added) *added = was_added;
    return EOS_OK;
}

eos_status eos_catalog_get(eos_catalog *cat, int64_t id, eos_catalog_scene *out) {
    if (!cat || !out) return EOS_INVALID_ARG;
    memset(out, 0, sizeof *out);
    eos_err err;
    eos_err_clear(&err);
    lock(cat);
    eos_status st = cat->vt->get_scene(cat->be, id, out, &err);
    if (st != EOS_OK) eos_catalog_scene_clear(out);
    return unlock_with(cat, st, &err);
}

eos_status eos_catalog_count(eos_catalog *cat, int64_t *n) {
    if (!cat || !n) return EOS_INVALID_ARG;
    *n = 0;
    eos_err err;
    eos_err_clear(&err);
    lock(cat);
    return unlock_with(cat, cat->vt->count_scenes(cat->be, n, &err), &err);
}

/* Hand a filled list to the caller, or free it on error. */
static eos_status give_scenes(eos_status st, eos__scene_list *l, eos_catalog_scene **scenes,
                              size_t *n) {
    if (st != EOS_OK || !l->n) {
        eos_catalog_scenes_free(l->v, l->n);
        return st;
    }
    *scenes = l->v;
    *n = l->n;
    return EOS_OK;
}

eos_status eos_catalog_list(eos_catalog *cat, int64_t offset, int64_t limit,
                            eos_catalog_scene **scenes, size_t *n) {
    if (!cat || !scenes || !n) return EOS_INVALID_ARG;
    *scenes = NULL;
    *n = 0;
    eos_err err;
    eos_err_clear(&err);
    if (check_page(offset, limit, &err) != EOS_OK) return fail(cat, &err);
    eos__scene_list l = { NULL, 0, 0 };
    lock(cat);
    eos_status st = cat->vt->list_scenes(cat->be, offset, limit, &l, &err);
    return unlock_with(cat, give_scenes(st, &l, scenes, n), &err);
}

/* ------------------------------------------------------------------ queries */

static eos_catalog_query default_query(void) {
    eos_catalog_query q;
    memset(&q, 0, sizeof q);
    q.limit = 100;
    return q;
}

eos_catalog_query eos_catalog_point_query(double lon_deg, double lat_deg) {
    eos_catalog_query q = default_query();
    q.where = EOS_CATALOG_POINT;
    q.lon_deg = lon_deg;
    q.lat_deg = lat_deg;
    return q;
}

eos_catalog_query eos_catalog_bbox_query(double west, double south, double east, double north) {
    eos_catalog_query q = default_query();
    q.where = EOS_CATALOG_BBOX;
    q.bbox[0] = west;
    q.bbox[1] = south;
    q.bbox[2] = east;
    q.bbox[3] = north;
    return q;
}

static bool lon_ok(double v) { return isfinite(v) && v >= -180 && v <= 180; }
static bool lat_ok(double v) { return isfinite(v) && v >= -90 && v <= 90; }

static eos_status check_query(const eos_catalog_query *q, eos_err *err) {
    if (q->where == EOS_CATALOG_POINT && (!lon_ok(q->lon_deg) || !lat_ok(q->lat_deg)))
        return eos_err_set(err, EOS_INVALID_ARG, "point (lon %g, lat %g) is not a lon/lat in "
                           "[-180, 180] x [-90, 90]", q->lon_deg, q->lat_deg);
    if (q->where == EOS_CATALOG_BBOX &&
        (!lon_ok(q->bbox[0]) || !lon_ok(q->bbox[2]) || !lat_ok(q->bbox[1]) ||
         !lat_ok(q->bbox[3]) || q->bbox[1] > q->bbox[3]))
        return eos_err_set(err, EOS_INVALID_ARG, "box (%g, %g, %g, %g) is not west, south, east, "
                           "north in degrees with south <= north", q->bbox[0], q->bbox[1],
                           q->bbox[2], q->bbox[3]);
    if (q->where != EOS_CATALOG_ANYWHERE && q->where != EOS_CATALOG_POINT &&
        q->where != EOS_CATALOG_BBOX)
        return eos_err_set(err, EOS_INVALID_ARG, "unknown query kind %d", (int)q->where);
    if (q->has_from && q->has_to && q->from_s > q->to_s)
        return eos_err_set(err, EOS_INVALID_ARG, "time range ends before it starts");
    return check_page(q->offset, q->limit, err);
}

eos_status eos_catalog_find(eos_catalog *cat, const eos_catalog_query *q,
                            eos_catalog_scene **scenes, size_t *n) {
    if (!cat || !q || !scenes || !n) return EOS_INVALID_ARG;
    *scenes = NULL;
    *n = 0;
    eos_err err;
    eos_err_clear(&err);
    if (check_query(q, &err) != EOS_OK) return fail(cat, &err);
    eos__scene_list l = { NULL, 0, 0 };
    lock(cat);
    eos_status st = cat->vt->find_scenes(cat->be, q, &l, &err);
    return unlock_with(cat, give_scenes(st, &l, scenes, n), &err);
}

void eos_catalog_scene_clear(eos_catalog_scene *s) {
    if (!s) return;
    eos_free(s->path);
    eos_free(s->crs);
    eos_free(s->bands);
    eos_free(s->time_source);
    eos_free(s->footprint.lon_deg);
    eos_free(s->footprint.lat_deg);
    memset(s, 0, sizeof *s);
}

void eos_catalog_scenes_free(eos_catalog_scene *scenes, size_t n) {
    if (!scenes) return;
    for (size_t i = 0; i < n; i++) eos_catalog_scene_clear(&scenes[i]);
    eos_free(scenes);
}

/* ------------------------------------------------------------------ predictions */

static eos_status check_prediction(const eos_catalog_window *w, const char *model,
                                   const char *json, eos_err *err) {
    size_t n_model = model ? strnlen(model, EOS_CATALOG_MAX_MODEL + 1) : 0;
    if (!n_model || n_model > EOS_CATALOG_MAX_MODEL)
        return eos_err_set(err, EOS_INVALID_ARG, "model name must be 1..%d bytes",
                           EOS_CATALOG_MAX_MODEL);
    if (!json) return eos_err_set(err, EOS_INVALID_ARG, "no result JSON");
    if (strnlen(json, EOS_CATALOG_MAX_RESULT + 1) > EOS_CATALOG_MAX_RESULT)
        return eos_err_set(err, EOS_LIMIT, "result JSON longer than %zu bytes",
                           EOS_CATALOG_MAX_RESULT);
    if (w && (w->w < 1 || w->h < 1 || w->x < 0 || w->y < 0))
        return eos_err_set(err, EOS_INVALID_ARG, "window x %lld y %lld w %lld h %lld is empty "
                           "or starts outside the scene", (long long)w->x, (long long)w->y,
                           (long long)w->w, (long long)w->h);
    return EOS_OK;
}

/* The scene exists (EOS_NOT_FOUND otherwise) and holds the window. Mutex held. */
static eos_status check_scene_window(eos_catalog *c, int64_t scene_id,
                                     const eos_catalog_window *w, eos_err *err) {
    eos_catalog_scene s;
    memset(&s, 0, sizeof s);
    EOS_TRY(c->vt->get_scene(c->be, scene_id, &s, err));
    bool inside = !w || (w->w <= s.width_px - w->x && w->h <= s.height_px - w->y);
    int64_t sw = s.width_px, sh = s.height_px;
    eos_catalog_scene_clear(&s);
    if (!inside)
        return eos_err_set(err, EOS_INVALID_ARG, "window x %lld y %lld w %lld h %lld is not "
                           "inside scene %lld (%lld x %lld px)", (long long)w->x,
                           (long long)w->y, (long long)w->w, (long long)w->h,
                           (long long)scene_id, (long long)sw, (long long)sh);
    return EOS_OK;
}

eos_status eos_catalog_add_prediction(eos_catalog *cat, int64_t scene_id,
                                      const eos_catalog_window *tile, const char *model,
                                      const char *result_json, int64_t *prediction_id) {
    if (prediction_id) *prediction_id = 0;
    if (!cat) return EOS_INVALID_ARG;
    eos_err err;
    eos_err_clear(&err);
    if (cat->read_only) {
        eos_err_set(&err, EOS_INVALID_ARG, "cannot record a prediction: the catalog is open "
                    "read-only");
        return fail(cat, &err);
    }
    if (check_prediction(tile, model, result_json, &err) != EOS_OK) return fail(cat, &err);
    eos_catalog_prediction p;
    memset(&p, 0, sizeof p);
    p.scene_id = scene_id;
    p.has_window = tile != NULL;
    if (tile) p.window = *tile;
    p.model = (char *)model;         /* borrowed for the call; the back-end copies */
    p.result = (char *)result_json;
    p.created_ms = now_ms();
    int64_t id = 0;
    lock(cat);
    eos_status st = check_scene_window(cat, scene_id, tile, &err);
    if (st == EOS_OK) st = cat->vt->add_prediction(cat->be, &p, &id, &err);
    if (st == EOS_OK && prediction_id) *prediction_id = id;
    return unlock_with(cat, st, &err);
}

eos_status eos_catalog_predictions(eos_catalog *cat, int64_t scene_id, int64_t offset,
                                   int64_t limit, eos_catalog_prediction **preds, size_t *n) {
    if (!cat || !preds || !n) return EOS_INVALID_ARG;
    *preds = NULL;
    *n = 0;
    eos_err err;
    eos_err_clear(&err);
    if (check_page(offset, limit, &err) != EOS_OK) return fail(cat, &err);
    eos__pred_list l = { NULL, 0, 0 };
    lock(cat);
    eos_status st = check_scene_window(cat, scene_id, NULL, &err);
    if (st == EOS_OK) st = cat->vt->list_predictions(cat->be, scene_id, offset, limit, &l, &err);
    if (st != EOS_OK || !l.n) {
        eos_catalog_predictions_free(l.v, l.n);
    } else {
        *preds = l.v;
        *n = l.n;
    }
    return unlock_with(cat, st, &err);
}

void eos_catalog_predictions_free(eos_catalog_prediction *preds, size_t n) {
    if (!preds) return;
    for (size_t i = 0; i < n; i++) {
        eos_free(preds[i].model);
        eos_free(preds[i].result);
    }
    eos_free(preds);
}
