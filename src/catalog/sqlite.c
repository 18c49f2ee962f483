/*
 * src/catalog/sqlite.c - the SQLite back-end of the scene catalog: one database file, created
 * on first use, with an R*Tree index on the scenes' lon/lat boxes.
 *
 * Schema (version 1, in PRAGMA user_version; PRAGMA application_id 'EOSC' marks the file as a
 * catalog):
 *   scenes       one row per scene: path, hash (UNIQUE), CRS, size, band count, acquisition
 *                time (Unix seconds, NULL when unknown) and where it came from, bbox (west,
 *                south, east, north) and the footprint ring as a BLOB of little-endian
 *                float64 (lon, lat) pairs (geom.c), time added (Unix ms)
 *   scene_bands  (scene_id, idx) -> name, GDAL type; rows go with their scene (ON DELETE CASCADE)
 *   scene_rtree  R*Tree (id, min_lon, max_lon, min_lat, max_lat) with the same id as scenes;
 *                a box across the antimeridian is stored as one range beyond 180 (geom.c)
 *   predictions  scene_id (foreign key), pixel window or NULLs, model, result JSON, time (ms)
 * Every write is one transaction (BEGIN IMMEDIATE ... COMMIT), so a crash leaves whole scenes
 * only; WAL journaling lets readers in other processes go on while one writes; foreign keys are
 * enforced; a busy timeout makes a second writer wait instead of failing.
 *
 * Queries go through the R*Tree for candidates (one indexed lookup per longitude shift: -360,
 * 0, +360), join scenes for the time range and order, and test the footprint exactly in C
 * (geom.c) before counting a row toward offset and limit.
 *
 * The connection is opened without SQLite's own mutexes: the front (catalog.c) serialises every
 * call, which is also what keeps a transaction's statements together.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "catalog/catalog_internal.h"
#include "eosight/alloc.h"

#define SCHEMA_VERSION 1
#define APPLICATION_ID 0x454f5343   /* "EOSC" */
#define MAX_BANDS_STORED 65536

typedef struct sq {
    sqlite3 *db;
} sq;

static const char k_schema[] =
    "CREATE TABLE scenes ("
    " id INTEGER PRIMARY KEY,"
    " path TEXT NOT NULL,"
    " hash TEXT NOT NULL UNIQUE,"
    " crs TEXT NOT NULL,"
    " epsg INTEGER,"
    " width INTEGER NOT NULL CHECK (width > 0),"
    " height INTEGER NOT NULL CHECK (height > 0),"
    " n_bands INTEGER NOT NULL CHECK (n_bands >= 0),"
    " acq_time INTEGER,"
    " time_source TEXT,"
    " west REAL NOT NULL, south REAL NOT NULL, east REAL NOT NULL, north REAL NOT NULL,"
    " footprint BLOB NOT NULL,"
    " added_ms INTEGER NOT NULL);"
    "CREATE INDEX scenes_time ON scenes (acq_time, id);"
    "CREATE INDEX scenes_path ON scenes (path);"
    "CREATE TABLE scene_bands ("
    " scene_id INTEGER NOT NULL REFERENCES scenes (id) ON DELETE CASCADE,"
    " idx INTEGER NOT NULL,"
    " name TEXT NOT NULL,"
    " type TEXT NOT NULL,"
    " PRIMARY KEY (scene_id, idx)) WITHOUT ROWID;"
    "CREATE VIRTUAL TABLE scene_rtree USING rtree (id, min_lon, max_lon, min_lat, max_lat);"
    "CREATE TABLE predictions ("
    " id INTEGER PRIMARY KEY,"
    " scene_id INTEGER NOT NULL REFERENCES scenes (id) ON DELETE CASCADE,"
    " win_x INTEGER, win_y INTEGER, win_w INTEGER, win_h INTEGER,"
    " model TEXT NOT NULL,"
    " result TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL);"
    "CREATE INDEX predictions_scene ON predictions (scene_id, created_ms, id);";

#define SCENE_COLS                                                                            \
    "s.id, s.path, s.hash, s.crs, s.epsg, s.width, s.height, s.n_bands, s.acq_time, "        \
    "s.time_source, s.west, s.south, s.east, s.north, s.footprint, s.added_ms"

/* ------------------------------------------------------------------ errors and statements */

static eos_status sq_fail(sqlite3 *db, int rc, eos_err *err, const char *what) {
    int prim = rc & 0xff;
    eos_status st = prim == SQLITE_NOMEM ? EOS_NOMEM
                  : prim == SQLITE_NOTADB ? EOS_PARSE
                  : prim == SQLITE_READONLY ? EOS_INVALID_ARG : EOS_IO;
    return eos_err_set(err, st, "catalog: %s: %s", what,
                       db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

static eos_status prep(sq *s, const char *sql, sqlite3_stmt **st, eos_err *err) {
    int rc = sqlite3_prepare_v2(s->db, sql, -1, st, NULL);
    if (rc != SQLITE_OK) {
        *st = NULL;
        return sq_fail(s->db, rc, err, "preparing a query");
    }
    return EOS_OK;
}

static eos_status exec(sq *s, const char *sql, eos_err *err) {
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? EOS_OK : sq_fail(s->db, rc, err, sql);
}

/* Run a one-row, one-integer query ("PRAGMA user_version"). */
static eos_status query_int(sq *s, const char *sql, int64_t *out, eos_err *err) {
    sqlite3_stmt *st;
    EOS_TRY(prep(s, sql, &st, err));
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? EOS_OK : sq_fail(s->db, rc, err, sql);
}

static void rollback(sq *s) { sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL); }

/* ------------------------------------------------------------------ opening and schema */

static eos_status create_schema(sq *s, eos_err *err) {
    EOS_TRY(exec(s, "BEGIN IMMEDIATE", err));
    int64_t version = 0, n_tables = 0;
    eos_status st = query_int(s, "PRAGMA user_version", &version, err);
    if (st == EOS_OK && version == 0)
        st = query_int(s, "SELECT count(*) FROM sqlite_master", &n_tables, err);
    if (st == EOS_OK && version == 0 && n_tables > 0)
        st = eos_err_set(err, EOS_PARSE, "database holds other tables: not an eosight catalog");
    if (st == EOS_OK && version == 0) st = exec(s, k_schema, err);
    if (st == EOS_OK && version == 0) {
        char pragma[96];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d; PRAGMA application_id = %d",
                 SCHEMA_VERSION, APPLICATION_ID);
        st = exec(s, pragma, err);
    }
    if (st == EOS_OK) return exec(s, "COMMIT", err);
    rollback(s);
    return st;
}

static eos_status check_schema(sq *s, bool read_only, eos_err *err) {
    int64_t version = 0, app = 0;
    EOS_TRY(query_int(s, "PRAGMA user_version", &version, err));
    EOS_TRY(query_int(s, "PRAGMA application_id", &app, err));
    if (version == 0 && !read_only) {
        EOS_TRY(create_schema(s, err));
        EOS_TRY(query_int(s, "PRAGMA user_version", &version, err));
        EOS_TRY(query_int(s, "PRAGMA application_id", &app, err));
    }
    if (app != APPLICATION_ID)
        return eos_err_set(err, EOS_PARSE, "not an eosight catalog (application_id %lld)",
                           (long long)app);
    if (version > SCHEMA_VERSION)
        return eos_err_set(err, EOS_UNSUPPORTED, "catalog schema version %lld is newer than "
                           "this eosight's (%d): upgrade eosight", (long long)version,
                           SCHEMA_VERSION);
    if (version < 1)
        return eos_err_set(err, EOS_PARSE, "catalog schema version %lld unknown",
                           (long long)version);
    return EOS_OK;
}

static eos_status configure(sq *s, const eos_catalog_params *p, eos_err *err) {
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, p->busy_timeout_ms);
    EOS_TRY(exec(s, "PRAGMA foreign_keys = ON", err));
    if (p->read_only) return EOS_OK;
    sqlite3_stmt *st;
    EOS_TRY(prep(s, "PRAGMA journal_mode = WAL", &st, err));
    int rc = sqlite3_step(st);
    const unsigned char *mode = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
    bool wal = mode && !strcmp((const char *)mode, "wal");
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW) return sq_fail(s->db, rc, err, "setting WAL journal mode");
    if (!wal) return eos_err_set(err, EOS_IO, "catalog: the file system refuses WAL mode");
    return exec(s, "PRAGMA synchronous = NORMAL", err);
}

static void sq_close(void *be) {
    sq *s = be;
    if (!s) return;
    sqlite3_close_v2(s->db);
    eos_free(s);
}

static const eos__catalog_vt k_sqlite_vt;

eos_status eos__catalog_sqlite_open(const char *path, const eos_catalog_params *p, void **be,
                                    const eos__catalog_vt **vt, eos_err *err) {
    *be = NULL;
    if (!sqlite3_threadsafe())
        return eos_err_set(err, EOS_UNSUPPORTED, "SQLite was built without thread support");
    struct stat sb;
    if ((!p->create || p->read_only) && stat(path, &sb) != 0)
        return eos_err_set(err, EOS_NOT_FOUND, "no catalog at '%.400s'", path);
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return eos_err_set(err, EOS_IO, "catalog '%.400s' is a directory", path);
    int flags = (p->read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) |
                (p->create && !p->read_only ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
    sq *s = eos_calloc(1, sizeof *s);
    if (!s) return eos_err_set(err, EOS_NOMEM, "out of memory opening a catalog");
    int rc = sqlite3_open_v2(path, &s->db, flags, NULL);
    eos_status st = rc == SQLITE_OK ? EOS_OK : sq_fail(s->db, rc, err, "opening");
    if (st == EOS_OK) st = configure(s, p, err);
    if (st == EOS_OK) st = check_schema(s, p->read_only, err);
    if (st != EOS_OK) {
        eos_err_prefix(err, "'%.300s': ", path);
        sq_close(s);
        return st;
    }
    *be = s;
    *vt = &k_sqlite_vt;
    return EOS_OK;
}

/* ------------------------------------------------------------------ reading scene rows */

static char *col_dup(sqlite3_stmt *st, int i) {
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? eos_strdup((const char *)t) : NULL;
}

static eos_status load_bands(sqlite3_stmt *bst, eos_catalog_scene *s, eos_err *err) {
    if (!s->n_bands) return EOS_OK;
    if (!(s->bands = eos_calloc((size_t)s->n_bands, sizeof *s->bands)))
        return eos_err_set(err, EOS_NOMEM, "out of memory reading scene %lld", (long long)s->id);
    sqlite3_reset(bst);
    sqlite3_bind_int64(bst, 1, s->id);
    int rc;
    while ((rc = sqlite3_step(bst)) == SQLITE_ROW) {
        int64_t idx = sqlite3_column_int64(bst, 0);
        const unsigned char *name = sqlite3_column_text(bst, 1);
        const unsigned char *type = sqlite3_column_text(bst, 2);
        if (idx < 1 || idx > s->n_bands || !name || !type)
            return eos_err_set(err, EOS_PARSE, "catalog: band row %lld of scene %lld is "
                               "malformed", (long long)idx, (long long)s->id);
        eos_catalog_band *b = &s->bands[idx - 1];
        snprintf(b->name, sizeof b->name, "%s", (const char *)name);
        snprintf(b->type, sizeof b->type, "%s", (const char *)type);
    }
    return rc == SQLITE_DONE ? EOS_OK
                             : sq_fail(sqlite3_db_handle(bst), rc, err, "reading bands");
}

/* Columns SCENE_COLS of the current row into s (bands not yet). */
static eos_status read_scene_row(sqlite3_stmt *st, eos_catalog_scene *s, eos_err *err) {
    memset(s, 0, sizeof *s);
    s->id = sqlite3_column_int64(st, 0);
    s->path = col_dup(st, 1);
    const unsigned char *hash = sqlite3_column_text(st, 2);
    s->crs = col_dup(st, 3);
    s->epsg = (int)sqlite3_column_int64(st, 4);
    s->width_px = sqlite3_column_int64(st, 5);
    s->height_px = sqlite3_column_int64(st, 6);
    int64_t n_bands = sqlite3_column_int64(st, 7);
    s->has_time = sqlite3_column_type(st, 8) != SQLITE_NULL;
    s->time_s = s->has_time ? sqlite3_column_int64(st, 8) : 0;
    s->time_source = col_dup(st, 9);
    for (int i = 0; i < 4; i++) s->bbox[i] = sqlite3_column_double(st, 10 + i);
    s->added_ms = sqlite3_column_int64(st, 15);
    if (!s->path || !s->crs || !hash || strlen((const char *)hash) >= sizeof s->hash ||
        s->width_px < 1 || s->height_px < 1 || n_bands < 0 || n_bands > MAX_BANDS_STORED)
        return eos_err_set(err, EOS_PARSE, "catalog: row of scene %lld is malformed",
                           (long long)s->id);
    s->n_bands = (int)n_bands;
    snprintf(s->hash, sizeof s->hash, "%s", (const char *)hash);
    if (s->has_time) eos_catalog_format_time(s->time_s, s->time);
    eos_status r = eos__ring_from_blob(sqlite3_column_blob(st, 14),
                                       (size_t)sqlite3_column_bytes(st, 14), &s->footprint, err);
    if (r != EOS_OK) eos_err_prefix(err, "scene %lld: ", (long long)s->id);
    return r;
}

/* Step st (selecting SCENE_COLS) and push every row that `keep` accepts (NULL: all) after
 * skipping `offset` of them, up to `limit`. */
typedef bool (*scene_filter)(const eos_catalog_scene *s, const eos_catalog_query *q);

static eos_status collect(sq *s, sqlite3_stmt *st, scene_filter keep, const eos_catalog_query *q,
                          int64_t offset, int64_t limit, eos__scene_list *out, eos_err *err) {
    sqlite3_stmt *bst;
    EOS_TRY(prep(s, "SELECT idx, name, type FROM scene_bands WHERE scene_id = ?", &bst, err));
    eos_status r = EOS_OK;
    int rc = SQLITE_DONE;
    while ((int64_t)out->n < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        eos_catalog_scene sc;
        if ((r = read_scene_row(st, &sc, err)) != EOS_OK) {
            eos_catalog_scene_clear(&sc);
            break;
        }
        bool match = !keep || keep(&sc, q);
        if (!match || offset > 0) {
            if (match) offset--;
            eos_catalog_scene_clear(&sc);
            continue;
        }
        eos_catalog_scene *slot = eos__scene_list_push(out);
        if (!slot) {
            eos_catalog_scene_clear(&sc);
            r = eos_err_set(err, EOS_NOMEM, "out of memory listing scenes");
            break;
        }
        *slot = sc;
        if ((r = load_bands(bst, slot, err)) != EOS_OK) break;
    }
    if (r == EOS_OK && (int64_t)out->n < limit && rc != SQLITE_DONE)
        r = sq_fail(s->db, rc, err, "reading scenes");
    sqlite3_finalize(bst);
    return r;
}

/* ------------------------------------------------------------------ scene operations */

static eos_status sq_find_hash(void *be, const char *hash, int64_t *id, eos_err *err) {
    sq *s = be;
    sqlite3_stmt *st;
    *id = 0;
    EOS_TRY(prep(s, "SELECT id FROM scenes WHERE hash = ?", &st, err));
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? EOS_OK : sq_fail(s->db, rc, err, "hash lookup");
}

static eos_status insert_scene_row(sq *s, const eos_catalog_scene *sc, int64_t *id, eos_err *err) {
    uint8_t *blob;
    size_t n_blob;
    EOS_TRY(eos__ring_to_blob(&sc->footprint, &blob, &n_blob, err));
    sqlite3_stmt *st;
    eos_status r = prep(s, "INSERT INTO scenes (path, hash, crs, epsg, width, height, n_bands, "
                        "acq_time, time_source, west, south, east, north, footprint, added_ms) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &st, err);
    if (r != EOS_OK) {
        eos_free(blob);
        return r;
    }
    sqlite3_bind_text(st, 1, sc->path, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, sc->hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, sc->crs, -1, SQLITE_STATIC);
    if (sc->epsg > 0) sqlite3_bind_int(st, 4, sc->epsg);
    sqlite3_bind_int64(st, 5, sc->width_px);
    sqlite3_bind_int64(st, 6, sc->height_px);
    sqlite3_bind_int(st, 7, sc->n_bands);
    if (sc->has_time) sqlite3_bind_int64(st, 8, sc->time_s);
    if (sc->time_source) sqlite3_bind_text(st, 9, sc->time_source, -1, SQLITE_STATIC);
    for (int i = 0; i < 4; i++) sqlite3_bind_double(st, 10 + i, sc->bbox[i]);
    sqlite3_bind_blob(st, 14, blob, (int)n_blob, SQLITE_STATIC);
    sqlite3_bind_int64(st, 15, sc->added_ms);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    eos_free(blob);
    if (rc != SQLITE_DONE) return sq_fail(s->db, rc, err, "storing a scene");
    *id = sqlite3_last_insert_rowid(s->db);
    return EOS_OK;
}

static eos_status insert_bands(sq *s, const eos_catalog_scene *sc, int64_t id, eos_err *err) {
    sqlite3_stmt *st;
    EOS_TRY(prep(s, "INSERT INTO scene_bands (scene_id, idx, name, type) VALUES (?, ?, ?, ?)",
                 &st, err));
    int rc = SQLITE_DONE;
    for (int i = 0; i < sc->n_bands && rc == SQLITE_DONE; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int(st, 2, i + 1);
        sqlite3_bind_text(st, 3, sc->bands[i].name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, sc->bands[i].type, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? EOS_OK : sq_fail(s->db, rc, err, "storing bands");
}

static eos_status insert_rtree(sq *s, const eos_catalog_scene *sc, int64_t id, eos_err *err) {
    double lo, hi;
    eos__lon_range(sc->bbox, &lo, &hi);
    sqlite3_stmt *st;
    EOS_TRY(prep(s, "INSERT INTO scene_rtree (id, min_lon, max_lon, min_lat, max_lat) "
                 "VALUES (?, ?, ?, ?, ?)", &st, err));
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_double(st, 2, lo);
    sqlite3_bind_double(st, 3, hi);
    sqlite3_bind_double(st, 4, sc->bbox[1]);
    sqlite3_bind_double(st, 5, sc->bbox[3]);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? EOS_OK : sq_fail(s->db, rc, err, "indexing a scene");
}

static eos_status sq_add_scene(void *be, const eos_catalog_scene *sc, eos__catalog_hook hook,
                               void *hook_user, int64_t *id, bool *added, eos_err *err) {
    sq *s = be;
    *added = false;
    EOS_TRY(exec(s, "BEGIN IMMEDIATE", err));
    eos_status r = sq_find_hash(be, sc->hash, id, err);
    if (r == EOS_OK && *id > 0) return exec(s, "COMMIT", err);   /* added meanwhile */
    if (r == EOS_OK) r = insert_scene_row(s, sc, id, err);
    if (r == EOS_OK) r = insert_bands(s, sc, *id, err);
    if (r == EOS_OK && hook) hook(hook_user);
    if (r == EOS_OK) r = insert_rtree(s, sc, *id, err);
    if (r == EOS_OK) r = exec(s, "COMMIT", err);
    if (r != EOS_OK) {
        rollback(s);
        *id = 0;
        return eos_err_prefix(err, "'%.300s': ", sc->path);
    }
    *added = true;
    return EOS_OK;
}

static eos_status sq_get_scene(void *be, int64_t id, eos_catalog_scene *out, eos_err *err) {
    sq *s = be;
    sqlite3_stmt *st;
    EOS_TRY(prep(s, "SELECT " SCENE_COLS " FROM scenes s WHERE s.id = ?", &st, err));
    sqlite3_bind_int64(st, 1, id);
    eos__scene_list l = { NULL, 0, 0 };
    eos_status r = collect(s, st, NULL, NULL, 0, 1, &l, err);
    sqlite3_finalize(st);
    if (r == EOS_OK && l.n == 0)
        r = eos_err_set(err, EOS_NOT_FOUND, "no scene %lld", (long long)id);
    if (r == EOS_OK) {
        *out = l.v[0];
        eos_free(l.v);
    } else {
        eos_catalog_scenes_free(l.v, l.n);
    }
    return r;
}

static eos_status sq_count(void *be, int64_t *n, eos_err *err) {
    return query_int(be, "SELECT count(*) FROM scenes", n, err);
}

static eos_status sq_list(void *be, int64_t offset, int64_t limit, eos__scene_list *out,
                          eos_err *err) {
    sq *s = be;
    sqlite3_stmt *st;
    EOS_TRY(prep(s, "SELECT " SCENE_COLS " FROM scenes s ORDER BY s.id LIMIT ? OFFSET ?", &st,
                 err));
    sqlite3_bind_int64(st, 1, limit);
    sqlite3_bind_int64(st, 2, offset);
    eos_status r = collect(s, st, NULL, NULL, 0, limit, out, err);
    sqlite3_finalize(st);
    return r;
}

/* ------------------------------------------------------------------ queries */

static bool keep_point(const eos_catalog_scene *s, const eos_catalog_query *q) {
    return eos__scene_contains(&s->footprint, s->bbox, q->lon_deg, q->lat_deg);
}

static bool keep_bbox(const eos_catalog_scene *s, const eos_catalog_query *q) {
    return eos__scene_intersects(&s->footprint, s->bbox, q->bbox);
}

/* One R*Tree lookup per longitude shift; parameters ?1..?4 are lo, hi, south, north. */
#define RTREE_HIT(shift)                                                                       \
    "SELECT id FROM scene_rtree WHERE min_lon <= ?2 + (" shift ") AND max_lon >= ?1 + ("     \
    shift ") AND min_lat <= ?4 AND max_lat >= ?3"

#define FIND_SPATIAL                                                                           \
    "SELECT " SCENE_COLS " FROM scenes s WHERE s.id IN (" RTREE_HIT("-360.0") " UNION "       \
    RTREE_HIT("0.0") " UNION " RTREE_HIT("360.0") ") AND (?5 IS NULL OR s.acq_time >= ?5) "   \
    "AND (?6 IS NULL OR s.acq_time <= ?6) "
#define FIND_ANYWHERE                                                                          \
    "SELECT " SCENE_COLS " FROM scenes s WHERE (?5 IS NULL OR s.acq_time >= ?5) "             \
    "AND (?6 IS NULL OR s.acq_time <= ?6) "
#define ORDER_OLDEST "ORDER BY s.acq_time IS NULL, s.acq_time, s.id"
#define ORDER_NEWEST "ORDER BY s.acq_time IS NULL DESC, s.acq_time DESC, s.id DESC"

/* [spatial][newest_first] */
static const char *const k_find[2][2] = {
    { FIND_ANYWHERE ORDER_OLDEST, FIND_ANYWHERE ORDER_NEWEST },
    { FIND_SPATIAL ORDER_OLDEST, FIND_SPATIAL ORDER_NEWEST },
};

static eos_status sq_find(void *be, const eos_catalog_query *q, eos__scene_list *out,
                          eos_err *err) {
    sq *s = be;
    sqlite3_stmt *st;
    bool spatial = q->where != EOS_CATALOG_ANYWHERE;
    EOS_TRY(prep(s, k_find[spatial][q->newest_first], &st, err));
    double lo = q->lon_deg, hi = q->lon_deg, south = q->lat_deg, north = q->lat_deg;
    if (q->where == EOS_CATALOG_BBOX) {
        eos__lon_range(q->bbox, &lo, &hi);
        south = q->bbox[1];
        north = q->bbox[3];
    }
    if (spatial) {
        sqlite3_bind_double(st, 1, lo);
        sqlite3_bind_double(st, 2, hi);
        sqlite3_bind_double(st, 3, south);
        sqlite3_bind_double(st, 4, north);
    }
    if (q->has_from) sqlite3_bind_int64(st, 5, q->from_s);
    if (q->has_to) sqlite3_bind_int64(st, 6, q->to_s);
    scene_filter keep = q->where == EOS_CATALOG_POINT ? keep_point
                      : q->where == EOS_CATALOG_BBOX ? keep_bbox : NULL;
    eos_status r = collect(s, st, keep, q, q->offset, q->limit, out, err);
    sqlite3_finalize(st);
    return r;
}

/* ------------------------------------------------------------------ predictions */

static eos_status check_json(sq *s, const char *json, eos_err *err) {
    sqlite3_stmt *st;
    EOS_TRY(prep(s, "SELECT json_valid(?)", &st, err));
    sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    bool valid = rc == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW) return sq_fail(s->db, rc, err, "checking a result");
    return valid ? EOS_OK : eos_err_set(err, EOS_PARSE, "prediction result is not valid JSON");
}

static eos_status sq_add_prediction(void *be, const eos_catalog_prediction *p, int64_t *id,
                                    eos_err *err) {
    sq *s = be;
    EOS_TRY(check_json(s, p->result, err));
    sqlite3_stmt *st;
    EOS_TRY(prep(s, "INSERT INTO predictions (scene_id, win_x, win_y, win_w, win_h, model, "
                 "result, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", &st, err));
    sqlite3_bind_int64(st, 1, p->scene_id);
    if (p->has_window) {
        sqlite3_bind_int64(st, 2, p->window.x);
        sqlite3_bind_int64(st, 3, p->window.y);
        sqlite3_bind_int64(st, 4, p->window.w);
        sqlite3_bind_int64(st, 5, p->window.h);
    }
    sqlite3_bind_text(st, 6, p->model, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, p->result, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, p->created_ms);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        return eos_err_set(err, EOS_NOT_FOUND, "no scene %lld", (long long)p->scene_id);
    if (rc != SQLITE_DONE) return sq_fail(s->db, rc, err, "storing a prediction");
    *id = sqlite3_last_insert_rowid(s->db);
    return EOS_OK;
}

static eos_status read_prediction(sqlite3_stmt *st, eos_catalog_prediction *p, eos_err *err) {
    p->id = sqlite3_column_int64(st, 0);
    p->scene_id = sqlite3_column_int64(st, 1);
    p->has_window = sqlite3_column_type(st, 2) != SQLITE_NULL;
    p->window.x = sqlite3_column_int64(st, 2);
    p->window.y = sqlite3_column_int64(st, 3);
    p->window.w = sqlite3_column_int64(st, 4);
    p->window.h = sqlite3_column_int64(st, 5);
    p->model = col_dup(st, 6);
    p->result = col_dup(st, 7);
    p->created_ms = sqlite3_column_int64(st, 8);
    if (!p->model || !p->result)
        return eos_err_set(err, EOS_NOMEM, "out of memory reading prediction %lld",
                           (long long)p->id);
    return EOS_OK;
}

static eos_status sq_list_predictions(void *be, int64_t scene_id, int64_t offset, int64_t limit,
                                      eos__pred_list *out, eos_err *err) {
    sq *s = be;
    sqlite3_stmt *st;
    EOS_TRY(prep(s, "SELECT id, scene_id, win_x, win_y, win_w, win_h, model, result, created_ms "
                 "FROM predictions WHERE scene_id = ? ORDER BY created_ms DESC, id DESC "
                 "LIMIT ? OFFSET ?", &st, err));
    sqlite3_bind_int64(st, 1, scene_id);
    sqlite3_bind_int64(st, 2, limit);
    sqlite3_bind_int64(st, 3, offset);
    eos_status r = EOS_OK;
    int rc = SQLITE_DONE;
    while (r == EOS_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        eos_catalog_prediction *p = eos__pred_list_push(out);
        r = p ? read_prediction(st, p, err)
              : eos_err_set(err, EOS_NOMEM, "out of memory listing predictions");
    }
    if (r == EOS_OK && rc != SQLITE_DONE) r = sq_fail(s->db, rc, err, "reading predictions");
    sqlite3_finalize(st);
    return r;
}

static const eos__catalog_vt k_sqlite_vt = {
    .name = "sqlite",
    .close = sq_close,
    .find_hash = sq_find_hash,
    .add_scene = sq_add_scene,
    .get_scene = sq_get_scene,
    .count_scenes = sq_count,
    .list_scenes = sq_list,
    .find_scenes = sq_find,
    .add_prediction = sq_add_prediction,
    .list_predictions = sq_list_predictions,
};
