/*
 * src/catalog/catalog_internal.h - what the files of src/catalog share: the back-end interface
 * behind include/eosight/catalog.h, and the back-end-neutral helpers (times, hashing,
 * footprint geometry, describing a raster).
 *
 * The public eos_catalog is a front (catalog.c) that validates arguments, holds the mutex and
 * the error text, and does the work every back-end would repeat: resolving paths, hashing
 * files, reading raster headers and footprints (scene.c), checking prediction windows. It then
 * calls one back-end through a table of function pointers, the way Redis's ae.c calls
 * ae_epoll.c or ae_kqueue.c. A back-end therefore only stores and queries: sqlite.c today, a
 * PostGIS one later (its find_scenes would be one ST_Intersects query). The front serialises
 * every call on one handle, so a back-end needs no locking of its own.
 */
#ifndef EOS_CATALOG_INTERNAL_H
#define EOS_CATALOG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "eosight/catalog.h"

/* A growing array of scenes or predictions that a back-end fills; the front hands v to the
 * caller. On error the front frees whatever was pushed. */
typedef struct eos__scene_list {
    eos_catalog_scene *v;
    size_t             n, cap;
} eos__scene_list;

typedef struct eos__pred_list {
    eos_catalog_prediction *v;
    size_t                  n, cap;
} eos__pred_list;

/* A new zeroed slot at the end of the list (NULL when out of memory). */
eos_catalog_scene      *eos__scene_list_push(eos__scene_list *l);
eos_catalog_prediction *eos__pred_list_push(eos__pred_list *l);

/* Called by a back-end inside the transaction of an add, after the scene's rows are written
 * and before the commit: the crash test kills the process there. */
typedef void (*eos__catalog_hook)(void *user);

/* The back-end interface. `be` is the back-end's own state. Every function reports failures
 * through err (EOS_IO for storage errors, EOS_NOT_FOUND, EOS_PARSE...) and is called with the
 * front's mutex held. Arguments were validated by the front (queries: ranges, limits; scenes:
 * complete; predictions: scene exists, window inside, model and result non-empty). */
typedef struct eos__catalog_vt {
    const char *name;
    void       (*close)(void *be);
    /* Id of the scene with this hash, 0 when none. */
    eos_status (*find_hash)(void *be, const char *hash, int64_t *id, eos_err *err);
    /* Store scene s (id ignored) in one transaction; an existing hash gives its id and
     * *added = false. hook, when not NULL, runs inside the transaction. */
    eos_status (*add_scene)(void *be, const eos_catalog_scene *s, eos__catalog_hook hook,
                            void *hook_user, int64_t *id, bool *added, eos_err *err);
    /* EOS_NOT_FOUND when there is no scene id. */
    eos_status (*get_scene)(void *be, int64_t id, eos_catalog_scene *out, eos_err *err);
    eos_status (*count_scenes)(void *be, int64_t *n, eos_err *err);
    eos_status (*list_scenes)(void *be, int64_t offset, int64_t limit, eos__scene_list *out,
                              eos_err *err);
    /* The complete query: spatial test, time range, order, offset, limit. */
    eos_status (*find_scenes)(void *be, const eos_catalog_query *q, eos__scene_list *out,
                              eos_err *err);
    /* Store p (id ignored); EOS_PARSE when p->result is not JSON. */
    eos_status (*add_prediction)(void *be, const eos_catalog_prediction *p, int64_t *id,
                                 eos_err *err);
    eos_status (*list_predictions)(void *be, int64_t scene_id, int64_t offset, int64_t limit,
                                   eos__pred_list *out, eos_err *err);
} eos__catalog_vt;

/* Open the SQLite back-end on the file at path (sqlite.c). */
eos_status eos__catalog_sqlite_open(const char *path, const eos_catalog_params *params,
                                    void **be, const eos__catalog_vt **vt, eos_err *err);

/* Test builds only: run hook inside the transaction of every later eos_catalog_add on cat
 * (NULL removes it). Not part of the public API. */
void eos__catalog_set_add_hook(eos_catalog *cat, eos__catalog_hook hook, void *user);

/* ------------------------------------------------------------------ scene.c */

/* Resolve the local file at path to its absolute path (symbolic links resolved; *abs is
 * eos_malloc'd) and hash its bytes (SHA-256, streamed): hash = "sha256:<64 hex>". Errors:
 * EOS_INVALID_ARG (empty, /vsi path, directory, not a regular file), EOS_NOT_FOUND, EOS_IO,
 * EOS_NOMEM, each naming the file. Thread-safe. */
eos_status eos__catalog_hash_file(const char *path, char **abs, char hash[72], eos_err *err);

/* Describe the raster at abs (from eos__catalog_hash_file, with its hash) for the catalog:
 * CRS, size, bands, footprint, bbox and acquisition time (see eos_catalog_add). Fills every
 * field of *out but id and added_ms; *out is cleared on error. Errors as eos_catalog_add.
 * Thread-safe (touches no handle). */
eos_status eos__catalog_describe(const char *abs, const char *hash, eos_catalog_scene *out,
                                 eos_err *err);

/* ------------------------------------------------------------------ sha256.c */

typedef struct eos__sha256 {
    uint32_t h[8];
    uint64_t n_bytes;
    uint8_t  block[64];
    size_t   n_block;
} eos__sha256;

void eos__sha256_init(eos__sha256 *s);
void eos__sha256_update(eos__sha256 *s, const void *data, size_t n);
/* The digest as 64 lowercase hex digits + NUL. */
void eos__sha256_final(eos__sha256 *s, char hex[65]);

/* ------------------------------------------------------------------ geom.c */

/* Footprint rings as stored: n (lon, lat) pairs of IEEE-754 doubles, little-endian, 16 bytes a
 * point. At most EOS__RING_MAX points. */
#define EOS__RING_MAX 4097
eos_status eos__ring_to_blob(const eos_lonlat_ring *r, uint8_t **blob, size_t *size,
                             eos_err *err);
/* Decode and validate (size a multiple of 16, 4 .. EOS__RING_MAX points, finite values). */
eos_status eos__ring_from_blob(const void *blob, size_t size, eos_lonlat_ring *r, eos_err *err);

/* True when the scene (ring + bbox as stored) contains the point / intersects the box. The box
 * is {west, south, east, north} and may have west > east (antimeridian). Handles rings with
 * longitudes beyond +-180 and footprints around a pole (bbox spanning every longitude up to a
 * pole: the bbox alone decides). */
bool eos__scene_contains(const eos_lonlat_ring *ring, const double bbox[4], double lon,
                         double lat);
bool eos__scene_intersects(const eos_lonlat_ring *ring, const double bbox[4],
                           const double box[4]);

/* The one continuous longitude range an index stores for a footprint or searches for a query
 * box given as {west, south, east, north}: [west, east] when west <= east, else [west,
 * east + 360] (the antimeridian); within [-180, 540]. */
void eos__lon_range(const double bbox[4], double *lo, double *hi);

#endif /* EOS_CATALOG_INTERNAL_H */
