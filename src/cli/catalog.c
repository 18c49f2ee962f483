/*
 * src/cli/catalog.c - `eosight catalog add|find|list|show|predictions`: the scene catalog
 * (include/eosight/catalog.h) from the command line.
 *
 * The catalog file is --db FILE, else $EOSIGHT_CATALOG, else ./eosight-catalog.sqlite. `add`
 * creates it on first use; the other subcommands open it read-only and say so when it does not
 * exist. Text output is one line per scene (id, time, size, bands, CRS, path); --json prints
 * the same JSON the HTTP service answers. Note the argument orders: --point is LAT,LON (how
 * people say a position), --bbox is MINLON,MINLAT,MAXLON,MAXLAT (how GeoJSON writes a box).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "eosight/catalog.h"

#ifdef EOS_WITH_GDAL

#define CATALOG_DEFAULT_DB "eosight-catalog.sqlite"

typedef struct cat_opts {
    const char       *db;
    const char       *sub;           /* subcommand */
    const char      **args;          /* positional arguments after the subcommand */
    int               n_args;
    bool              json, help;
    bool              has_point, has_bbox;
    eos_catalog_query q;
} cat_opts;

static int catalog_usage(FILE *f, int code) {
    fprintf(f,
        "usage: eosight catalog add SCENE... [--db FILE]\n"
        "       eosight catalog find (--point LAT,LON | --bbox MINLON,MINLAT,MAXLON,MAXLAT)\n"
        "                            [--from TIME] [--to TIME] [--limit N] [--offset N] [--json]\n"
        "       eosight catalog list [--limit N] [--offset N] [--json]\n"
        "       eosight catalog show ID [--json]\n"
        "       eosight catalog predictions ID [--limit N] [--offset N] [--json]\n\n"
        "The scene catalog: which georeferenced rasters you have, where they lie and when they\n"
        "were taken, and the predictions the service made on them (docs/catalog.md).\n\n"
        "  add          register rasters: absolute path, footprint in WGS 84, CRS, size, bands,\n"
        "               acquisition time (from metadata, else a date in the file name) and a\n"
        "               SHA-256 of the bytes. Prints 'ID added|duplicate PATH' per file; a file\n"
        "               already there (same hash) is skipped; unreadable files are reported and\n"
        "               the others still added (exit 1 when any failed).\n"
        "  find         scenes whose footprint contains the point or intersects the box,\n"
        "               sorted by acquisition time (scenes without one last), then id\n"
        "  list         every scene in the order added\n"
        "  show         one scene in full, footprint included\n"
        "  predictions  the predictions recorded for a scene, newest first\n\n"
        "  --db FILE       the catalog (default: $EOSIGHT_CATALOG, else ./" CATALOG_DEFAULT_DB ")\n"
        "  --point LAT,LON a WGS 84 position, LATITUDE FIRST: --point 47.37,8.55 is Zurich\n"
        "  --bbox W,S,E,N  a lon/lat box, LONGITUDE FIRST (GeoJSON order); W > E crosses the\n"
        "                  antimeridian\n"
        "  --from/--to T   acquisition time range, inclusive, ISO 8601 (2020-05-18,\n"
        "                  2020-05-18T10:30:00Z); a date alone in --to means the end of that day.\n"
        "                  Scenes without a time are left out when either is given\n"
        "  --limit N       at most N results (default 100, at most %d)\n"
        "  --offset N      skip the first N results (paging)\n"
        "  --json          print JSON (the bodies of GET /v1/scenes...) instead of text\n",
        EOS_CATALOG_MAX_LIMIT);
    return code;
}

/* ------------------------------------------------------------------ option parsing */

static bool parse_doubles(const char *s, double *v, int n) {
    const char *p = s;
    for (int i = 0; i < n; i++) {
        char *end;
        v[i] = strtod(p, &end);
        if (end == p || !isfinite(v[i])) return false;
        p = end;
        if (i + 1 < n && *p++ != ',') return false;
    }
    return *p == '\0';
}

static int parse_point(cat_opts *o, const char *v) {
    double ll[2];
    if (!parse_doubles(v, ll, 2))
        return cli_error(2, "catalog: --point wants LAT,LON (two numbers), got '%s'", v);
    if (fabs(ll[0]) > 90 && fabs(ll[1]) <= 90)
        return cli_error(2, "catalog: --point '%s': latitude %g is out of range; --point is "
                         "LAT,LON (latitude first)", v, ll[0]);
    if (fabs(ll[0]) > 90 || fabs(ll[1]) > 180)
        return cli_error(2, "catalog: --point '%s' is not a latitude in [-90, 90] and a "
                         "longitude in [-180, 180]", v);
    o->has_point = true;
    o->q.where = EOS_CATALOG_POINT;
    o->q.lat_deg = ll[0];
    o->q.lon_deg = ll[1];
    return 0;
}

static int parse_bbox(cat_opts *o, const char *v) {
    double b[4];
    if (!parse_doubles(v, b, 4))
        return cli_error(2, "catalog: --bbox wants MINLON,MINLAT,MAXLON,MAXLAT, got '%s'", v);
    if (fabs(b[0]) > 180 || fabs(b[2]) > 180 || fabs(b[1]) > 90 || fabs(b[3]) > 90 || b[1] > b[3])
        return cli_error(2, "catalog: --bbox '%s' is not MINLON,MINLAT,MAXLON,MAXLAT in degrees "
                         "(longitudes in [-180, 180], latitudes in [-90, 90], MINLAT <= MAXLAT)",
                         v);
    o->has_bbox = true;
    o->q.where = EOS_CATALOG_BBOX;
    memcpy(o->q.bbox, b, sizeof b);
    return 0;
}

static int parse_time_opt(const char *name, const char *v, bool end_of_day, int64_t *t) {
    bool date_only = false;
    if (!eos_catalog_parse_time(v, t, &date_only))
        return cli_error(2, "catalog: %s '%s' is not a time (ISO 8601: 2020-05-18 or "
                         "2020-05-18T10:30:00Z)", name, v);
    if (date_only && end_of_day) *t += 86399;
    return 0;
}

/* One option opt with its value v; 0, or 2 after a message. */
static int parse_valued(cat_opts *o, const char *opt, const char *v) {
    long n;
    if (!strcmp(opt, "--db")) {
        o->db = v;
    } else if (!strcmp(opt, "--point")) {
        return o->has_point || o->has_bbox ? cli_error(2, "catalog: one --point or --bbox")
                                           : parse_point(o, v);
    } else if (!strcmp(opt, "--bbox")) {
        return o->has_point || o->has_bbox ? cli_error(2, "catalog: one --point or --bbox")
                                           : parse_bbox(o, v);
    } else if (!strcmp(opt, "--from")) {
        o->q.has_from = true;
        return parse_time_opt("--from", v, false, &o->q.from_s);
    } else if (!strcmp(opt, "--to")) {
        o->q.has_to = true;
        return parse_time_opt("--to", v, true, &o->q.to_s);
    } else if (!strcmp(opt, "--limit")) {
        if (cli_int_opt("catalog", "--limit", v, 1, EOS_CATALOG_MAX_LIMIT, &n)) return 2;
        o->q.limit = n;
    } else if (!strcmp(opt, "--offset")) {
        if (cli_int_opt("catalog", "--offset", v, 0, 1000000000L, &n)) return 2;
        o->q.offset = n;
    } else {
        return cli_error(2, "catalog: unknown option '%s' (see eosight catalog --help)", opt);
    }
    return 0;
}

static int parse_args(int argc, char **argv, cat_opts *o) {
    memset(o, 0, sizeof *o);
    o->q = eos_catalog_point_query(0, 0);
    o->q.where = EOS_CATALOG_ANYWHERE;
    o->args = eos_calloc((size_t)argc, sizeof *o->args);
    if (!o->args) return cli_error(1, "out of memory");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            o->help = true;
        } else if (!strcmp(a, "--json")) {
            o->json = true;
        } else if (a[0] == '-' && a[1] == '-') {
            if (i + 1 >= argc) return cli_error(2, "catalog: %s needs a value", a);
            int rc = parse_valued(o, a, argv[++i]);
            if (rc) return rc;
        } else if (!o->sub) {
            o->sub = a;
        } else {
            o->args[o->n_args++] = a;
        }
    }
    if (!o->db) o->db = getenv("EOSIGHT_CATALOG");
    if (!o->db || !*o->db) o->db = CATALOG_DEFAULT_DB;
    return 0;
}

/* ------------------------------------------------------------------ opening, printing */

static int open_catalog(const cat_opts *o, bool for_writing, eos_catalog **cat) {
    eos_catalog_params p = eos_catalog_default_params();
    p.create = for_writing;
    p.read_only = !for_writing;
    eos_ctx *ctx = NULL;
    if (eos_ctx_create(NULL, &ctx) != EOS_OK) ctx = NULL;
    eos_status st = eos_catalog_open(ctx, o->db, &p, cat);
    int rc = 0;
    if (st == EOS_NOT_FOUND)
        rc = cli_error(1, "catalog: no catalog at '%s' (`eosight catalog add` creates one; --db "
                       "or $EOSIGHT_CATALOG choose another)", o->db);
    else if (st != EOS_OK)
        rc = cli_error(1, "catalog: %s (%s)", ctx ? eos_ctx_errmsg(ctx) : o->db,
                       eos_status_name(st));
    eos_ctx_free(ctx);
    return rc;
}

static int fail_on(eos_catalog *cat, eos_status st, const char *what) {
    char msg[512];
    return cli_error(1, "catalog %s: %s (%s)", what, eos_catalog_errmsg(cat, msg, sizeof msg),
                     eos_status_name(st));
}

static void print_scene_line(const eos_catalog_scene *s) {
    char crs[24];
    if (s->epsg > 0) snprintf(crs, sizeof crs, "EPSG:%d", s->epsg);
    else snprintf(crs, sizeof crs, "(WKT)");
    printf("%6lld  %-20s  %6lldx%-6lld  %3d  %-10s  %s\n", (long long)s->id,
           s->has_time ? s->time : "-", (long long)s->width_px, (long long)s->height_px,
           s->n_bands, crs, s->path);
}

static void print_scenes(const eos_catalog_scene *s, size_t n) {
    if (n)
        printf("%6s  %-20s  %-13s  %3s  %-10s  %s\n", "ID", "TIME", "SIZE", "BND", "CRS", "PATH");
    for (size_t i = 0; i < n; i++) print_scene_line(&s[i]);
}

/* Print and free *json once st (the call that made it) is known. */
static int print_json(eos_status st, char **json) {
    if (st != EOS_OK) return cli_error(1, "catalog: cannot write JSON (%s)", eos_status_name(st));
    puts(*json);
    eos_free(*json);
    return 0;
}

static void print_scene_full(const eos_catalog_scene *s) {
    printf("id:        %lld\npath:      %s\n", (long long)s->id, s->path);
    printf("crs:       %s\n", s->epsg > 0 ? s->crs : "(WKT, see --json)");
    printf("size:      %lld x %lld px, %d band%s\n", (long long)s->width_px,
           (long long)s->height_px, s->n_bands, s->n_bands == 1 ? "" : "s");
    for (int i = 0; i < s->n_bands; i++)
        printf("  band %-3d %-10s %s\n", i + 1, s->bands[i].type, s->bands[i].name);
    printf("time:      %s%s%s%s\n", s->has_time ? s->time : "unknown", s->time_source ? " (" : "",
           s->time_source ? s->time_source : "", s->time_source ? ")" : "");
    printf("bbox:      west %.7f, south %.7f, east %.7f, north %.7f\n", s->bbox[0], s->bbox[1],
           s->bbox[2], s->bbox[3]);
    printf("footprint: %zu points, upper left lon %.7f, lat %.7f\n", s->footprint.n,
           s->footprint.n ? s->footprint.lon_deg[0] : NAN,
           s->footprint.n ? s->footprint.lat_deg[0] : NAN);
    printf("hash:      %s\n", s->hash);
}

static int parse_id(const cat_opts *o, int64_t *id) {
    long v;
    if (o->n_args != 1) return cli_error(2, "catalog %s: give one scene ID", o->sub);
    if (!cli_parse_int(o->args[0], 1, 9007199254740991L, &v))
        return cli_error(2, "catalog %s: ID '%s' is not a positive number", o->sub, o->args[0]);
    *id = v;
    return 0;
}

/* ------------------------------------------------------------------ subcommands */

static int cmd_add(const cat_opts *o, eos_catalog *cat) {
    int n_added = 0, n_dup = 0, n_failed = 0;
    bool tty = isatty(2);
    for (int i = 0; i < o->n_args; i++) {
        if (tty) fprintf(stderr, "\r[%d/%d] %.60s\033[K", i + 1, o->n_args, o->args[i]);
        int64_t id = 0;
        bool added = false;
        eos_status st = eos_catalog_add(cat, o->args[i], &id, &added);
        if (tty) fputs("\r\033[K", stderr);
        if (st != EOS_OK) {
            fail_on(cat, st, "add");
            n_failed++;
            continue;
        }
        printf("%lld\t%s\t%s\n", (long long)id, added ? "added" : "duplicate", o->args[i]);
        fflush(stdout);
        n_added += added;
        n_dup += !added;
    }
    fprintf(stderr, "catalog add: %d added, %d already there, %d failed (%s)\n", n_added, n_dup,
            n_failed, o->db);
    return n_failed ? 1 : 0;
}

static int cmd_find(const cat_opts *o, eos_catalog *cat) {
    eos_catalog_scene *s = NULL;
    size_t n = 0;
    eos_status st = eos_catalog_find(cat, &o->q, &s, &n);
    if (st != EOS_OK) return fail_on(cat, st, "find");
    char *json = NULL;
    int rc = 0;
    if (o->json) rc = print_json(eos_catalog_scenes_json(s, n, &json), &json);
    else if (n) print_scenes(s, n);
    else fprintf(stderr, "catalog find: no scene matches\n");
    eos_catalog_scenes_free(s, n);
    return rc;
}

static int cmd_list(const cat_opts *o, eos_catalog *cat) {
    eos_catalog_scene *s = NULL;
    size_t n = 0;
    eos_status st = eos_catalog_list(cat, o->q.offset, o->q.limit, &s, &n);
    if (st != EOS_OK) return fail_on(cat, st, "list");
    char *json = NULL;
    int rc = 0;
    if (o->json) rc = print_json(eos_catalog_scenes_json(s, n, &json), &json);
    else print_scenes(s, n);
    eos_catalog_scenes_free(s, n);
    return rc;
}

static int cmd_show(const cat_opts *o, eos_catalog *cat) {
    int64_t id;
    if (parse_id(o, &id)) return 2;
    eos_catalog_scene s;
    eos_status st = eos_catalog_get(cat, id, &s);
    if (st != EOS_OK) return fail_on(cat, st, "show");
    char *json = NULL;
    int rc = 0;
    if (o->json) rc = print_json(eos_catalog_scene_json(&s, &json), &json);
    else print_scene_full(&s);
    eos_catalog_scene_clear(&s);
    return rc;
}

static void print_predictions(const eos_catalog_prediction *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char t[EOS_CATALOG_TIME_LEN], win[96];
        eos_catalog_format_time(p[i].created_ms / 1000, t);
        if (p[i].has_window)
            snprintf(win, sizeof win, "x%lld,y%lld,%lldx%lld", (long long)p[i].window.x,
                     (long long)p[i].window.y, (long long)p[i].window.w, (long long)p[i].window.h);
        else
            snprintf(win, sizeof win, "scene");
        printf("%lld\t%s\t%s\t%s\t%s\n", (long long)p[i].id, t, p[i].model, win, p[i].result);
    }
}

static int cmd_predictions(const cat_opts *o, eos_catalog *cat) {
    int64_t id;
    if (parse_id(o, &id)) return 2;
    eos_catalog_prediction *p = NULL;
    size_t n = 0;
    eos_status st = eos_catalog_predictions(cat, id, o->q.offset, o->q.limit, &p, &n);
    if (st != EOS_OK) return fail_on(cat, st, "predictions");
    char *json = NULL;
    int rc = 0;
    if (o->json) rc = print_json(eos_catalog_predictions_json(p, n, &json), &json);
    else if (n) print_predictions(p, n);
    else fprintf(stderr, "catalog predictions: none recorded for scene %lld\n", (long long)id);
    eos_catalog_predictions_free(p, n);
    return rc;
}

/* Usage errors are found before the catalog is opened. */
static int check_usage(const cat_opts *o) {
    int64_t id;
    if (!strcmp(o->sub, "add") && !o->n_args) return cli_error(2, "catalog add: no SCENE given");
    if ((!strcmp(o->sub, "show") || !strcmp(o->sub, "predictions")) && parse_id(o, &id)) return 2;
    if ((!strcmp(o->sub, "find") || !strcmp(o->sub, "list")) && o->n_args)
        return cli_error(2, "catalog %s: unexpected argument '%s'", o->sub, o->args[0]);
    if (!strcmp(o->sub, "find") && !o->has_point && !o->has_bbox && !o->q.has_from &&
        !o->q.has_to)
        return cli_error(2, "catalog find: give --point LAT,LON or --bbox W,S,E,N (and/or "
                         "--from/--to)");
    if (o->q.has_from && o->q.has_to && o->q.from_s > o->q.to_s)
        return cli_error(2, "catalog %s: --from is after --to", o->sub);
    return 0;
}

static const struct {
    const char *name;
    int (*fn)(const cat_opts *, eos_catalog *);
    bool writes;
} k_subcommands[] = {
    { "add", cmd_add, true },
    { "find", cmd_find, false },
    { "list", cmd_list, false },
    { "show", cmd_show, false },
    { "predictions", cmd_predictions, false },
};

int cli_catalog(int argc, char **argv) {
    cat_opts o;
    int rc = parse_args(argc, argv, &o);
    if (!rc && (o.help || !o.sub)) rc = catalog_usage(o.help ? stdout : stderr, o.help ? 0 : 2);
    else if (!rc) {
        size_t i = 0, n = sizeof k_subcommands / sizeof k_subcommands[0];
        while (i < n && strcmp(o.sub, k_subcommands[i].name)) i++;
        eos_catalog *cat = NULL;
        if (i == n) rc = cli_error(2, "catalog: unknown subcommand '%s' (add, find, list, show, "
                                   "predictions)", o.sub);
        else if (!(rc = check_usage(&o)) &&
                 !(rc = open_catalog(&o, k_subcommands[i].writes, &cat)))
            rc = k_subcommands[i].fn(&o, cat);
        eos_catalog_close(cat);
    }
    eos_free(o.args);
    return rc;
}

#else /* !EOS_WITH_GDAL */

int cli_catalog(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return cli_error(1, "catalog: this eosight was built without GDAL (EOS_WITH_GDAL=OFF)");
}

#endif
