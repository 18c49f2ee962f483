/*
 * eosight/catalog.h - the scene catalog: which rasters exist, where they lie on the Earth, when
 * they were taken, and the predictions made on them.
 *
 * A catalog is a small database of scenes (raster files on local disk) and predictions. Adding
 * a scene reads only its headers and hashes its bytes; queries answer "which scenes cover this
 * point / intersect this box / were taken in this period" from a spatial index, without opening
 * any raster. `eosight catalog` is the command over this API; the HTTP service shares one
 * catalog between its worker threads and records each prediction it makes.
 *
 * Back-ends. A catalog is opened from a URI; the scheme picks the back-end:
 *     "PATH" or "sqlite:PATH"     embedded SQLite file (created on first use), R*Tree index
 *     "postgresql://..."          reserved for a PostgreSQL/PostGIS back-end (EOS_UNSUPPORTED)
 * Callers see only this header, so a new back-end needs no change on their side.
 *
 * Coordinates are WGS 84 longitude/latitude in degrees, longitude first, as everywhere in
 * eosight (eosight/geo.h). Footprints follow eos_geo_footprint: rings whose longitudes are
 * continuous (a scene across the antimeridian has longitudes beyond 180 on one side) and
 * bounding boxes {west, south, east, north} with west > east for such scenes. Queries handle
 * both.
 *
 * Times are instants in UTC, as whole seconds since 1970-01-01T00:00:00Z (int64_t) and as text
 * "YYYY-MM-DDTHH:MM:SSZ". A scene's acquisition time comes from its metadata or its file name
 * (eos_catalog_add); a scene without one has has_time == false and is left out of any query
 * that names a time range.
 *
 * Errors: every function returns an eos_status; the detail of a failure ("scene 12 does not
 * exist", "x.tif: not a raster GDAL can read") is kept on the handle (eos_catalog_errmsg).
 * Errors of the storage itself (a locked or corrupt database, a full disk) are EOS_IO.
 *
 * Thread safety: one eos_catalog may be shared by any number of threads. Every operation takes
 * a mutex inside the handle for the time it touches the database, so operations on one handle
 * run one after another (the slow part of eos_catalog_add, reading and hashing the raster,
 * runs outside the mutex). Other processes may use the same catalog file at the same time
 * (SQLite WAL mode: readers never block the writer; writers wait up to the busy timeout).
 * Results (eos_catalog_scene, eos_catalog_prediction arrays) belong to the caller and may be
 * used on any thread.
 *
 * Typical use:
 *
 *     eos_catalog *cat;
 *     if (eos_catalog_open(ctx, "scenes.sqlite", NULL, &cat)) die(eos_ctx_errmsg(ctx));
 *     int64_t id; bool added;
 *     eos_catalog_add(cat, "S2A_20200518T103021_B04.tif", &id, &added);
 *     eos_catalog_query q = eos_catalog_point_query(8.55, 47.37);   // lon, lat
 *     eos_catalog_scene *s; size_t n;
 *     if (eos_catalog_find(cat, &q, &s, &n) == EOS_OK) {
 *         for (size_t i = 0; i < n; i++) printf("%lld %s\n", (long long)s[i].id, s[i].path);
 *         eos_catalog_scenes_free(s, n);
 *     }
 *     eos_catalog_close(cat);
 */
#ifndef EOSIGHT_CATALOG_H
#define EOSIGHT_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eosight/geo.h"
#include "eosight/model.h"
#include "eosight/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eos_catalog eos_catalog;

#define EOS_CATALOG_MAX_LIMIT    10000                 /* most results one query returns */
#define EOS_CATALOG_MAX_RESULT   ((size_t)16 << 20)    /* bytes of one prediction's JSON */
#define EOS_CATALOG_MAX_MODEL    256                   /* bytes of a model name */
#define EOS_CATALOG_TIME_LEN     21                    /* "YYYY-MM-DDTHH:MM:SSZ" + NUL */

/* ------------------------------------------------------------------ opening */

typedef struct eos_catalog_params {
    bool create;            /* create the catalog when missing (default true); false gives
                               EOS_NOT_FOUND for a missing file */
    bool read_only;         /* open read-only (default false): writes give EOS_INVALID_ARG */
    int  busy_timeout_ms;   /* how long a write waits for another process's write (default
                               5000; 0 fails at once with EOS_IO) */
} eos_catalog_params;

eos_catalog_params eos_catalog_default_params(void);

/* Open (and on first use create) the catalog at uri: a file path, "sqlite:PATH", or
 * "postgresql://..." (not built: EOS_UNSUPPORTED). params may be NULL for the defaults.
 * A new SQLite catalog gets the current schema; an existing one is checked: a database that is
 * not an eosight catalog, or one written by a newer eosight (a higher schema version), is
 * refused with EOS_PARSE / EOS_UNSUPPORTED. Errors, with the detail in eos_ctx_errmsg(ctx)
 * (ctx may be NULL): EOS_INVALID_ARG (empty uri, negative timeout), EOS_NOT_FOUND (missing
 * file and !create), EOS_IO (cannot open or create it), EOS_PARSE, EOS_UNSUPPORTED, EOS_NOMEM.
 * Free with eos_catalog_close(). */
eos_status eos_catalog_open(eos_ctx *ctx, const char *uri, const eos_catalog_params *params,
                            eos_catalog **out /* OUT */);

/* Close the handle once no other thread uses it. NULL is a no-op. */
void eos_catalog_close(eos_catalog *cat);

/* The back-end's name: "sqlite". */
const char *eos_catalog_backend(const eos_catalog *cat);

/* Copy the detail of the last failed call on cat into buf (at most size bytes, NUL-terminated;
 * "" when nothing failed) and return buf. Safe from any thread. When threads share the handle,
 * a thread that has failed on it gets its own last failure; one that never failed on it gets
 * the most recent failure of any thread. */
const char *eos_catalog_errmsg(eos_catalog *cat, char *buf, size_t size);

/* ------------------------------------------------------------------ scenes */

typedef struct eos_catalog_band {
    char name[64];   /* the band's description, else its colour interpretation ("Red"), else "" */
    char type[16];   /* GDAL data type name: "Byte", "UInt16", "Float32", ... */
} eos_catalog_band;

/* One scene as the catalog knows it. Every pointer is owned by the struct: free one struct
 * filled by eos_catalog_get with eos_catalog_scene_clear, arrays from queries with
 * eos_catalog_scenes_free. */
typedef struct eos_catalog_scene {
    int64_t           id;             /* > 0, assigned at add, never reused */
    char             *path;           /* absolute path of the file when it was added */
    char             *crs;            /* "EPSG:<code>" when the CRS has one, else its WKT */
    int               epsg;           /* EPSG code, 0 when none */
    int64_t           width_px, height_px;
    int               n_bands;
    eos_catalog_band *bands;          /* n_bands entries, band 1 first */
    bool              has_time;       /* the acquisition time is known */
    int64_t           time_s;         /* acquisition time, Unix seconds UTC (0 when unknown) */
    char              time[EOS_CATALOG_TIME_LEN];   /* same as text, "" when unknown */
    char             *time_source;    /* where it came from: "metadata:TIFFTAG_DATETIME",
                                         "filename", or NULL */
    char              hash[72];       /* "sha256:" + 64 hex digits of the file's bytes */
    double            bbox[4];        /* {west, south, east, north} in lon/lat degrees */
    eos_lonlat_ring   footprint;      /* outline in lon/lat, 8 points per edge, closed */
    int64_t           added_ms;       /* when it was added, Unix milliseconds */
} eos_catalog_scene;

/* Register the raster at raster_path (a local file GDAL reads, with a CRS and a geotransform).
 * The catalog stores its absolute path, SHA-256 content hash, footprint and bounding box in
 * WGS 84 (eos_geo_footprint, 8 points per edge), CRS, size, bands, and acquisition time. The
 * time is the first of these metadata items that eos_catalog_parse_time accepts:
 * IMAGERY:ACQUISITIONDATETIME, ACQUISITION_DATETIME, ACQUISITION_DATE, SENSING_TIME,
 * DATATAKE_1_DATATAKE_SENSING_START, PRODUCT_START_TIME, DATE_ACQUIRED (+ SCENE_CENTER_TIME),
 * TIFFTAG_DATETIME; else a date found in the file name (eos_catalog_time_from_name); else none.
 * A file whose hash is already in the catalog is not added again: *added is false and
 * *scene_id is the existing scene's id (whatever path it was added under). Each add is one
 * transaction: a crash leaves either the whole scene or nothing. The raster is read and hashed
 * outside the handle's mutex. scene_id and added may be NULL.
 * Errors: EOS_INVALID_ARG (NULL or empty path, a /vsi path, a directory, a raster without CRS
 * or geotransform, a read-only catalog), EOS_NOT_FOUND (missing file), EOS_IO (unreadable
 * file, database errors), EOS_PARSE (not a raster GDAL reads), EOS_UNSUPPORTED (a footprint
 * that cannot be expressed in WGS 84), EOS_LIMIT (more than 65536 bands), EOS_NOMEM; the
 * message names the file. */
eos_status eos_catalog_add(eos_catalog *cat, const char *raster_path,
                           int64_t *scene_id /* OUT, may be NULL */,
                           bool *added /* OUT, may be NULL */);

/* Fill *out with scene `id`. EOS_NOT_FOUND when there is none. On success the caller clears
 * *out with eos_catalog_scene_clear; on error *out is zeroed. */
eos_status eos_catalog_get(eos_catalog *cat, int64_t id, eos_catalog_scene *out /* OUT */);

/* Scenes in id (ingest) order, skipping `offset` of them, at most `limit` (1 ..
 * EOS_CATALOG_MAX_LIMIT). *scenes is an array of *n structs (NULL when *n is 0); free it with
 * eos_catalog_scenes_free. */
eos_status eos_catalog_list(eos_catalog *cat, int64_t offset, int64_t limit,
                            eos_catalog_scene **scenes /* OUT */, size_t *n /* OUT */);

/* Number of scenes in the catalog. */
eos_status eos_catalog_count(eos_catalog *cat, int64_t *n /* OUT */);

/* ------------------------------------------------------------------ queries */

typedef enum eos_catalog_where {
    EOS_CATALOG_ANYWHERE = 0,   /* no spatial condition (a time range alone, or everything) */
    EOS_CATALOG_POINT    = 1,   /* scenes whose footprint contains (lon_deg, lat_deg) */
    EOS_CATALOG_BBOX     = 2    /* scenes whose footprint intersects bbox */
} eos_catalog_where;

typedef struct eos_catalog_query {
    eos_catalog_where where;
    double  lon_deg, lat_deg;   /* POINT: lon in [-180, 180], lat in [-90, 90] */
    double  bbox[4];            /* BBOX: {west, south, east, north}; west > east crosses the
                                   antimeridian; lons in [-180, 180], south <= north */
    bool    has_from, has_to;   /* time range, inclusive at both ends; a scene without a time */
    int64_t from_s, to_s;       /* is left out when either bound is set */
    bool    newest_first;       /* the reverse order: scenes without a time first, then the
                                   latest acquisition first (ties: highest id first) */
    int64_t offset;             /* results to skip (paging), >= 0 */
    int64_t limit;              /* at most this many results, 1 .. EOS_CATALOG_MAX_LIMIT */
} eos_catalog_query;

/* Queries with the defaults: no time range, offset 0, limit 100. */
eos_catalog_query eos_catalog_point_query(double lon_deg, double lat_deg);
eos_catalog_query eos_catalog_bbox_query(double west, double south, double east, double north);

/* The scenes that satisfy q, sorted by acquisition time (scenes without one last), then id (the
 * reverse with q->newest_first).
 * Point queries test the point against each footprint polygon exactly (a point on an edge
 * counts as inside); box queries keep footprints whose polygon intersects the box. The index
 * narrows candidates first, so queries do not read every scene. *scenes / *n as for
 * eos_catalog_list. Errors: EOS_INVALID_ARG (coordinates out of range or not finite, from >
 * to, offset/limit out of range), EOS_IO, EOS_NOMEM. */
eos_status eos_catalog_find(eos_catalog *cat, const eos_catalog_query *q,
                            eos_catalog_scene **scenes /* OUT */, size_t *n /* OUT */);

/* Free what one scene struct owns and zero it. NULL is a no-op. */
void eos_catalog_scene_clear(eos_catalog_scene *s);
/* Free an array of n scenes from eos_catalog_list / eos_catalog_find. NULL is a no-op. */
void eos_catalog_scenes_free(eos_catalog_scene *scenes, size_t n);

/* ------------------------------------------------------------------ predictions */

/* A pixel window of a scene (pixel coordinates as in eosight/geo.h). */
typedef struct eos_catalog_window {
    int64_t x, y, w, h;
} eos_catalog_window;

typedef struct eos_catalog_prediction {
    int64_t            id;          /* > 0 */
    int64_t            scene_id;
    bool               has_window;  /* false: the prediction is about the whole scene */
    eos_catalog_window window;
    char              *model;       /* model name as given */
    char              *result;      /* the result, a JSON text */
    int64_t            created_ms;  /* when it was recorded, Unix milliseconds */
} eos_catalog_prediction;

/* Record a prediction made by `model` on scene scene_id, or on the pixel window `tile` of it
 * (NULL: the whole scene), with its result as a JSON text (an object, an array or any JSON
 * value; at most EOS_CATALOG_MAX_RESULT bytes). The time is now. prediction_id may be NULL.
 * Errors: EOS_NOT_FOUND (no such scene), EOS_INVALID_ARG (a window not inside the scene or
 * empty, an empty model name or one over EOS_CATALOG_MAX_MODEL bytes, a read-only catalog),
 * EOS_PARSE (result is not JSON), EOS_LIMIT (result too long), EOS_IO, EOS_NOMEM. */
eos_status eos_catalog_add_prediction(eos_catalog *cat, int64_t scene_id,
                                      const eos_catalog_window *tile /* may be NULL */,
                                      const char *model, const char *result_json,
                                      int64_t *prediction_id /* OUT, may be NULL */);

/* The predictions of scene scene_id, newest first (then highest id first), skipping `offset`,
 * at most `limit` (1 .. EOS_CATALOG_MAX_LIMIT). *preds is an array of *n structs (NULL when
 * *n is 0); free it with eos_catalog_predictions_free. A scene without predictions gives
 * *n == 0; a scene that does not exist gives EOS_NOT_FOUND. */
eos_status eos_catalog_predictions(eos_catalog *cat, int64_t scene_id, int64_t offset,
                                   int64_t limit, eos_catalog_prediction **preds /* OUT */,
                                   size_t *n /* OUT */);

/* Free an array of n predictions. NULL is a no-op. */
void eos_catalog_predictions_free(eos_catalog_prediction *preds, size_t n);

/* ------------------------------------------------------------------ JSON */

/* A scene as one JSON object (what GET /v1/scenes/{id} answers):
 *   {"id", "path", "crs", "epsg" (null when none), "width", "height",
 *    "bands": [{"name", "type"}...], "time" ("2020-05-18T10:30:21Z" or null),
 *    "time_source" (string or null), "hash", "bbox": [w, s, e, n],
 *    "footprint": {"type": "Polygon", "coordinates": [[[lon, lat]...]]}, "added" (time text)}
 * Strings are escaped and always valid UTF-8. *json comes from eos_malloc; the caller frees it
 * with eos_free. Errors: EOS_INVALID_ARG (NULL), EOS_NOMEM. */
eos_status eos_catalog_scene_json(const eos_catalog_scene *s, char **json /* OUT */);

/* A list of scenes: {"count": n, "scenes": [scene objects as above]}. scenes may be NULL when
 * n is 0. */
eos_status eos_catalog_scenes_json(const eos_catalog_scene *scenes, size_t n,
                                   char **json /* OUT */);

/* Predictions: {"count": n, "predictions": [{"id", "scene_id", "window": {"x","y","w","h"} or
 * null, "model", "created" ("...T...Z" with milliseconds), "result": <the stored JSON>}]}. */
eos_status eos_catalog_predictions_json(const eos_catalog_prediction *preds, size_t n,
                                        char **json /* OUT */);

/* ------------------------------------------------------------------ times */

/* Parse a time text into Unix seconds UTC. Accepted: ISO 8601 dates and date-times in extended
 * or basic form ("2020-05-18", "20200518", "2020-05-18T10:30:21", "20200518T103021",
 * "2020-05-18 10:30", with optional fractional seconds, which are dropped, and an optional "Z"
 * or "+HH:MM" / "-HHMM" offset; no offset means UTC), and TIFF's "2020:05:18 10:30:21".
 * Surrounding spaces are ignored. Years 1900 .. 2999; every field is range-checked (February
 * 29 only in leap years). *date_only (may be NULL) is set when the text has no time of day.
 * Returns false, leaving *unix_s untouched, for anything else. Thread-safe. */
bool eos_catalog_parse_time(const char *text, int64_t *unix_s /* OUT */,
                            bool *date_only /* OUT, may be NULL */);

/* Find an acquisition date in a file name, the way Sentinel-2 and Landsat names carry one:
 * the first run of exactly 8 digits (not part of a longer number) that is a valid date
 * YYYYMMDD with a year in 1950 .. 2100, with the time when "THHMMSS" follows, or the first
 * "YYYY-MM-DD" likewise (optionally with "THH:MM:SS" or "THHMMSS"). Only the part after the
 * last '/' is looked at. "S2A_MSIL2A_20200518T103021_N0214_R108_T32TNS_20200518T131411" gives
 * 2020-05-18T10:30:21Z; "LC08_L2SP_196029_20200518_20200527_02_T1" 2020-05-18T00:00:00Z.
 * Returns false when there is none. Thread-safe. */
bool eos_catalog_time_from_name(const char *name, int64_t *unix_s /* OUT */);

/* Format Unix seconds as "YYYY-MM-DDTHH:MM:SSZ" into buf (EOS_CATALOG_TIME_LEN bytes). */
void eos_catalog_format_time(int64_t unix_s, char buf[EOS_CATALOG_TIME_LEN]);

#ifdef __cplusplus
}
#endif
#endif /* EOSIGHT_CATALOG_H */
