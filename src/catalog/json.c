/*
 * src/catalog/json.c - scenes and predictions as JSON, the bodies of GET /v1/scenes,
 * /v1/scenes/{id} and /v1/scenes/{id}/predictions and of `eosight catalog ... --json`.
 * Built with the library's one JSON writer (src/core/strbuf.h), so every string is escaped
 * and valid UTF-8 whatever the catalog holds. A prediction's result is inserted as the JSON
 * text it is: the back-end accepted it only after checking that it parses.
 */
#include <stdio.h>
#include <string.h>

#include "catalog/catalog_internal.h"
#include "core/strbuf.h"

static void time_ms_text(int64_t ms, char out[32]) {
    int64_t s = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    char t[EOS_CATALOG_TIME_LEN];
    eos_catalog_format_time(s, t);
    size_t n = strlen(t);
    if (n && t[n - 1] == 'Z') t[n - 1] = '\0';
    snprintf(out, 32, "%s.%03dZ", t, (int)(ms - s * 1000));
}

static void put_footprint(eos_strbuf *b, const eos_lonlat_ring *r) {
    eos_strbuf_puts(b, "{\"type\":\"Polygon\",\"coordinates\":[[");
    for (size_t i = 0; i < r->n; i++) {
        eos_strbuf_puts(b, i ? ",[" : "[");
        eos_strbuf_json_num(b, r->lon_deg[i]);
        eos_strbuf_puts(b, ",");
        eos_strbuf_json_num(b, r->lat_deg[i]);
        eos_strbuf_puts(b, "]");
    }
    eos_strbuf_puts(b, "]]}");
}

static void put_scene(eos_strbuf *b, const eos_catalog_scene *s) {
    eos_strbuf_printf(b, "{\"id\":%lld,\"path\":", (long long)s->id);
    eos_strbuf_json_str(b, s->path);
    eos_strbuf_puts(b, ",\"crs\":");
    eos_strbuf_json_str(b, s->crs);
    if (s->epsg > 0) eos_strbuf_printf(b, ",\"epsg\":%d", s->epsg);
    else eos_strbuf_puts(b, ",\"epsg\":null");
    eos_strbuf_printf(b, ",\"width\":%lld,\"height\":%lld,\"bands\":[", (long long)s->width_px,
                      (long long)s->height_px);
    for (int i = 0; i < s->n_bands && s->bands; i++) {
        eos_strbuf_puts(b, i ? ",{\"name\":" : "{\"name\":");
        eos_strbuf_json_str(b, s->bands[i].name);
        eos_strbuf_puts(b, ",\"type\":");
        eos_strbuf_json_str(b, s->bands[i].type);
        eos_strbuf_puts(b, "}");
    }
    eos_strbuf_puts(b, "],\"time\":");
    if (s->has_time) eos_strbuf_json_str(b, s->time);
    else eos_strbuf_puts(b, "null");
    eos_strbuf_puts(b, ",\"time_source\":");
    if (s->time_source) eos_strbuf_json_str(b, s->time_source);
    else eos_strbuf_puts(b, "null");
    eos_strbuf_puts(b, ",\"hash\":");
    eos_strbuf_json_str(b, s->hash);
    eos_strbuf_puts(b, ",\"bbox\":[");
    for (int i = 0; i < 4; i++) {
        if (i) eos_strbuf_puts(b, ",");
        eos_strbuf_json_num(b, s->bbox[i]);
    }
    eos_strbuf_puts(b, "],\"footprint\":");
    if (s->footprint.n) put_footprint(b, &s->footprint);
    else eos_strbuf_puts(b, "null");
    char added[32];
    time_ms_text(s->added_ms, added);
    eos_strbuf_puts(b, ",\"added\":");
    eos_strbuf_json_str(b, added);
    eos_strbuf_puts(b, "}");
}

eos_status eos_catalog_scene_json(const eos_catalog_scene *s, char **json) {
    if (!json) return EOS_INVALID_ARG;
    *json = NULL;
    if (!s) return EOS_INVALID_ARG;
    eos_strbuf b = EOS_STRBUF_INIT;
    put_scene(&b, s);
    return eos_strbuf_take(&b, json);
}

eos_status eos_catalog_scenes_json(const eos_catalog_scene *scenes, size_t n, char **json) {
    if (!json) return EOS_INVALID_ARG;
    *json = NULL;
    if (!scenes && n) return EOS_INVALID_ARG;
    eos_strbuf b = EOS_STRBUF_INIT;
    eos_strbuf_printf(&b, "{\"count\":%zu,\"scenes\":[", n);
    for (size_t i = 0; i < n; i++) {
        if (i) eos_strbuf_puts(&b, ",");
        put_scene(&b, &scenes[i]);
    }
    eos_strbuf_puts(&b, "]}");
    return eos_strbuf_take(&b, json);
}

static void put_prediction(eos_strbuf *b, const eos_catalog_prediction *p) {
    eos_strbuf_printf(b, "{\"id\":%lld,\"scene_id\":%lld,\"window\":", (long long)p->id,
                      (long long)p->scene_id);
    if (p->has_window)
        eos_strbuf_printf(b, "{\"x\":%lld,\"y\":%lld,\"w\":%lld,\"h\":%lld}",
                          (long long)p->window.x, (long long)p->window.y,
                          (long long)p->window.w, (long long)p->window.h);
    else
        eos_strbuf_puts(b, "null");
    eos_strbuf_puts(b, ",\"model\":");
    eos_strbuf_json_str(b, p->model);
    char created[32];
    time_ms_text(p->created_ms, created);
    eos_strbuf_puts(b, ",\"created\":");
    eos_strbuf_json_str(b, created);
    eos_strbuf_puts(b, ",\"result\":");
    eos_strbuf_puts(b, p->result && *p->result ? p->result : "null");
    eos_strbuf_puts(b, "}");
}

eos_status eos_catalog_predictions_json(const eos_catalog_prediction *preds, size_t n,
                                        char **json) {
    if (!json) return EOS_INVALID_ARG;
    *json = NULL;
    if (!preds && n) return EOS_INVALID_ARG;
    eos_strbuf b = EOS_STRBUF_INIT;
    eos_strbuf_printf(&b, "{\"count\":%zu,\"predictions\":[", n);
    for (size_t i = 0; i < n; i++) {
        if (i) eos_strbuf_puts(&b, ",");
        put_prediction(&b, &preds[i]);
    }
    eos_strbuf_puts(&b, "]}");
    return eos_strbuf_take(&b, json);
}
