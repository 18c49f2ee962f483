/*
 * src/service/routes_catalog.c - the catalog routes of the service:
 *   GET /v1/scenes                     ?bbox=W,S,E,N | point=LAT,LON, from=, to=, limit=,
 *                                      offset=, format=geojson
 *   GET /v1/scenes/{id}                one scene
 *   GET /v1/scenes/{id}/predictions    its predictions, newest first (limit=, offset=)
 *   GET /v1/tiles/{z}/{x}/{y}.png      XYZ map tiles of the catalog's scenes (tiles.c)
 * All answer 404 when the server runs without a catalog.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eosight/alloc.h"
#include "service/service_internal.h"
#include "service/tiles.h"

static enum MHD_Result no_catalog(svc_call *k) {
    return svc_send_error(k, 404, NULL, "this server has no scene catalog (start it with "
                          "--catalog FILE)");
}

/* limit= (1 .. EOS_CATALOG_MAX_LIMIT, default 100) and offset= (>= 0); answers 400 itself. */
static bool paging(svc_call *k, long *limit, long *offset, enum MHD_Result *ret) {
    if (svc_opt_int(k, "limit", 1, EOS_CATALOG_MAX_LIMIT, 100, limit) &&
        svc_opt_int(k, "offset", 0, 1L << 40, 0, offset))
        return true;
    *ret = svc_send_error(k, 400, NULL, "limit must be in 1..%d and offset >= 0",
                          EOS_CATALOG_MAX_LIMIT);
    return false;
}

/* "a,b" or "a,b,c,d" of finite numbers into v; false otherwise. */
static bool parse_numbers(const char *s, double *v, int n) {
    for (int i = 0; i < n; i++) {
        char *end;
        errno = 0;
        v[i] = strtod(s, &end);
        if (errno || end == s || !isfinite(v[i])) return false;
        if (i + 1 < n && *end != ',') return false;
        s = end + (i + 1 < n);
        if (i + 1 == n && *end) return false;
    }
    return true;
}

static bool parse_time_opt(svc_call *k, const char *key, bool *has, int64_t *t,
                           enum MHD_Result *ret) {
    const char *v = svc_opt(k, key);
    *has = false;
    if (!v) return true;
    bool date_only = false;
    if (!eos_catalog_parse_time(v, t, &date_only)) {
        *ret = svc_send_error(k, 400, NULL, "%s='%s' is not a date or time (e.g. 2020-05-18 or "
                              "2020-05-18T10:30:00Z)", key, v);
        return false;
    }
    if (date_only && strcmp(key, "to") == 0) *t += 86399;   /* the whole day */
    *has = true;
    return true;
}

/* The query of GET /v1/scenes; answers 400 itself. */
static bool scenes_query(svc_call *k, eos_catalog_query *q, enum MHD_Result *ret) {
    const char *bbox = svc_opt(k, "bbox"), *point = svc_opt(k, "point");
    double v[4];
    memset(q, 0, sizeof *q);
    if (bbox && point) {
        *ret = svc_send_error(k, 400, NULL, "give bbox or point, not both");
        return false;
    }
    if (bbox) {
        if (!parse_numbers(bbox, v, 4)) {
            *ret = svc_send_error(k, 400, NULL, "bbox must be WEST,SOUTH,EAST,NORTH in degrees");
            return false;
        }
        *q = eos_catalog_bbox_query(v[0], v[1], v[2], v[3]);
    } else if (point) {
        if (!parse_numbers(point, v, 2)) {
            *ret = svc_send_error(k, 400, NULL, "point must be LAT,LON in degrees");
            return false;
        }
        *q = eos_catalog_point_query(v[1], v[0]);
    } else {
        *q = eos_catalog_point_query(0, 0);
        q->where = EOS_CATALOG_ANYWHERE;
    }
    long limit, offset;
    if (!paging(k, &limit, &offset, ret)) return false;
    q->limit = limit;
    q->offset = offset;
    return parse_time_opt(k, "from", &q->has_from, &q->from_s, ret) &&
           parse_time_opt(k, "to", &q->has_to, &q->to_s, ret);
}

/* Scenes as a GeoJSON FeatureCollection of footprints (properties: the scene without it). */
static char *scenes_geojson(const eos_catalog_scene *sc, size_t n) {
    json_t *feats = json_array();
    for (size_t i = 0; feats && i < n; i++) {
        char *js = NULL;
        if (eos_catalog_scene_json(&sc[i], &js) != EOS_OK) continue;
        json_t *props = json_loads(js, 0, NULL);
        eos_free(js);
        if (!props) continue;
        json_t *geom = json_incref(json_object_get(props, "footprint"));
        json_object_del(props, "footprint");
        json_array_append_new(feats, json_pack("{s:s,s:I,s:o,s:o}", "type", "Feature", "id",
                                               (json_int_t)sc[i].id, "geometry",
                                               geom ? geom : json_null(), "properties", props));
    }
    json_t *v = feats ? json_pack("{s:s,s:o}", "type", "FeatureCollection", "features", feats)
                      : NULL;
    char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    return text;
}

enum MHD_Result svc_route_scenes(svc_call *k) {
    if (!k->s->cat) return no_catalog(k);
    enum MHD_Result ret = MHD_NO;
    eos_catalog_query q;
    if (!scenes_query(k, &q, &ret)) return ret;
    const char *format = svc_opt(k, "format");
    if (format && strcmp(format, "geojson") != 0 && strcmp(format, "json") != 0)
        return svc_send_error(k, 400, NULL, "format must be json or geojson");
    bool geojson = format && strcmp(format, "geojson") == 0;
    eos_catalog_scene *sc = NULL;
    size_t n = 0;
    char buf[512];
    eos_status st = q.where == EOS_CATALOG_ANYWHERE && !q.has_from && !q.has_to
                        ? eos_catalog_list(k->s->cat, q.offset, q.limit, &sc, &n)
                        : eos_catalog_find(k->s->cat, &q, &sc, &n);
    if (st != EOS_OK)
        return svc_send_error(k, st == EOS_INVALID_ARG ? 400 : 500, NULL, "%s",
                              eos_catalog_errmsg(k->s->cat, buf, sizeof buf));
    if (geojson) {
        char *text = scenes_geojson(sc, n);
        ret = text ? svc_send(k, 200, "application/geo+json", text, strlen(text))
                   : svc_send_error(k, 500, NULL, "out of memory");
        free(text);   /* jansson's allocation */
    } else {
        char *js = NULL;
        ret = eos_catalog_scenes_json(sc, n, &js) == EOS_OK
                  ? svc_send_text(k, 200, js)
                  : svc_send_error(k, 500, NULL, "out of memory");
        eos_free(js);
    }
    eos_catalog_scenes_free(sc, n);
    return ret;
}

enum MHD_Result svc_route_scene(svc_call *k) {
    if (!k->s->cat) return no_catalog(k);
    enum MHD_Result ret = MHD_NO;
    int64_t id;
    if (!svc_path_id(k, "scene", &id, &ret)) return ret;
    eos_catalog_scene sc;
    eos_status st = eos_catalog_get(k->s->cat, id, &sc);
    if (st == EOS_NOT_FOUND)
        return svc_send_error(k, 404, NULL, "no scene %lld in the catalog", (long long)id);
    if (st != EOS_OK) return svc_send_error(k, 500, NULL, "catalog read failed");
    char *js = NULL;
    ret = eos_catalog_scene_json(&sc, &js) == EOS_OK
              ? svc_send_text(k, 200, js)
              : svc_send_error(k, 500, NULL, "out of memory");
    eos_free(js);
    eos_catalog_scene_clear(&sc);
    return ret;
}

enum MHD_Result svc_route_scene_predictions(svc_call *k) {
    if (!k->s->cat) return no_catalog(k);
    enum MHD_Result ret = MHD_NO;
    int64_t id;
    long limit, offset;
    if (!svc_path_id(k, "scene", &id, &ret) || !paging(k, &limit, &offset, &ret)) return ret;
    eos_catalog_prediction *p = NULL;
    size_t n = 0;
    eos_status st = eos_catalog_predictions(k->s->cat, id, offset, limit, &p, &n);
    if (st == EOS_NOT_FOUND)
        return svc_send_error(k, 404, NULL, "no scene %lld in the catalog", (long long)id);
    if (st != EOS_OK) return svc_send_error(k, 500, NULL, "catalog read failed");
    char *js = NULL;
    ret = eos_catalog_predictions_json(p, n, &js) == EOS_OK
              ? svc_send_text(k, 200, js)
              : svc_send_error(k, 500, NULL, "out of memory");
    eos_free(js);
    eos_catalog_predictions_free(p, n);
    return ret;
}

/* A tile coordinate capture. */
static bool tile_coord(const char *v, long *out) {
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < 0) return false;
    *out = x;
    return true;
}

enum MHD_Result svc_route_tile(svc_call *k) {
    if (!k->s->cat) return no_catalog(k);
    long z, x, y, scene;
    if (!tile_coord(k->rq->caps[0], &z) || !tile_coord(k->rq->caps[1], &x) ||
        !tile_coord(k->rq->caps[2], &y) || z > SVC_TILE_MAX_Z ||
        !svc_tile_valid((int)z, (int)x, (int)y))
        return svc_send_error(k, 400, NULL, "no tile %s/%s/%s: z must be 0..%d and x, y in "
                              "0..2^z-1", k->rq->caps[0], k->rq->caps[1], k->rq->caps[2],
                              SVC_TILE_MAX_Z);
    if (!svc_opt_int(k, "scene", 1, 1L << 62, 0, &scene))
        return svc_send_error(k, 400, NULL, "scene must be a scene id");
    const char *layer = svc_opt(k, "layer");
    bool seg = layer && strcmp(layer, "segmentation") == 0;
    if (layer && !seg && strcmp(layer, "image") != 0)
        return svc_send_error(k, 400, NULL, "layer must be image or segmentation");
    if (seg && !scene)
        return svc_send_error(k, 400, NULL, "layer=segmentation needs scene=ID");
    double merc[4], ll[4];
    svc_tile_bounds((int)z, (int)x, (int)y, merc, ll);
    eos_catalog_scene *sc = NULL, one;
    size_t n = 0;
    eos_status st;
    char mask[4200];
    const char *paths[SVC_TILE_MAX_RASTERS];
    int n_paths = 0, n_missing = 0;
    if (scene) {   /* one scene: its image, or its kept segmentation */
        st = eos_catalog_get(k->s->cat, scene, &one);
        if (st == EOS_NOT_FOUND)
            return svc_send_error(k, 404, NULL, "no scene %ld in the catalog", scene);
        if (st != EOS_OK) return svc_send_error(k, 500, NULL, "catalog read failed");
        snprintf(mask, sizeof mask, "%s/scene-%ld.tif", k->s->results_dir, scene);
        if (seg && access(mask, R_OK) != 0) {
            eos_catalog_scene_clear(&one);
            return svc_send_error(k, 404, NULL, "scene %ld has no segmentation yet (POST "
                                  "/v1/scenes/%ld/segment makes one)", scene, scene);
        }
        paths[n_paths++] = seg ? mask : one.path;
    } else {       /* the newest scenes meeting the tile, drawn oldest first (newest on top) */
        eos_catalog_query q = eos_catalog_bbox_query(ll[0], ll[1], ll[2], ll[3]);
        q.limit = SVC_TILE_MAX_RASTERS;
        q.newest_first = true;
        st = eos_catalog_find(k->s->cat, &q, &sc, &n);
        if (st != EOS_OK) return svc_send_error(k, 500, NULL, "catalog query failed");
        for (size_t i = n; i-- > 0;) {   /* a scene whose file went away is left out */
            if (access(sc[i].path, R_OK) == 0) paths[n_paths++] = sc[i].path;
            else n_missing++;
        }
    }
    uint8_t *png = NULL;
    size_t len = 0;
    char msg[512] = "";
    st = svc_tile_render(k->s->tiler, paths, n_paths, seg ? SVC_TILE_CLASSES : SVC_TILE_IMAGE,
                         (int)z, (int)x, (int)y, &png, &len, msg, sizeof msg);
    if (n_missing)   /* the operator sees it in the log; the map shows the other scenes */
        fprintf(stderr, "eosight serve: tile %ld/%ld/%ld: %d catalog scene%s no longer "
                "readable, left out\n", z, x, y, n_missing, n_missing == 1 ? " is" : "s are");
    enum MHD_Result ret = st == EOS_OK ? svc_send(k, 200, "image/png", png, len)
                                       : svc_send_error(k, 500, NULL, "tile %ld/%ld/%ld: %s", z,
                                                        x, y, msg);
    eos_free(png);
    if (scene) eos_catalog_scene_clear(&one);
    eos_catalog_scenes_free(sc, n);
    return ret;
}
