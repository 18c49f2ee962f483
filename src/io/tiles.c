/*
 * src/io/tiles.c - tiled reading of a scene of any size, with optional read-ahead, and writing
 * of tile cores (include/eosight/raster.h, "tiled reading").
 *
 * Memory is bounded by design: the reader owns a ring of n_ahead + 1 tile buffers and nothing
 * else grows with the scene; GDAL's block cache is capped in gdal_util.c. Tiles come in
 * row-major order, so consecutive reads share GDAL blocks along a row, and the next row of
 * tiles re-reads only the overlap from the cache.
 *
 * Read-ahead: with n_ahead > 0 one background thread owns the raster and fills slots in tile
 * order; the consumer takes slot k and holds it until its next call. The producer may run at
 * most n_ahead tiles ahead of the tile the consumer holds. The first read error stops the
 * producer; the consumer sees it when it reaches that tile, after every earlier tile.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "eosight/alloc.h"
#include "eosight/raster.h"

typedef struct tile_slot {
    eos_tile   tile;
    void      *data;
    uint8_t   *valid;
    eos_status status;
} tile_slot;

struct eos_tile_reader {
    eos_raster   *r;
    eos_tile_grid grid;
    eos_dtype     dtype;
    bool          use_norm;
    eos_norm      norm;
    int           n_slots;
    tile_slot    *slots;
    int64_t       n_tiles;

    /* read-ahead state, guarded by mu */
    bool            threaded;
    pthread_t       thread;
    pthread_mutex_t mu;
    pthread_cond_t  cv;
    int64_t         produced;   /* tiles filled (including a failed one) */
    int64_t         consumed;   /* tiles handed to the consumer */
    bool            stop;
};

eos_tile_reader_params eos_tile_reader_default_params(void) {
    eos_tile_reader_params p;
    memset(&p, 0, sizeof p);
    p.dtype = EOS_DTYPE_F32;
    p.norm = NULL;
    p.n_ahead = 1;
    return p;
}

/* Read tile i into slot s (called by the producer, or inline). */
static void fill_slot(eos_tile_reader *tr, int64_t i, tile_slot *s) {
    s->status = eos_tile_grid_tile(&tr->grid, i, &s->tile);
    if (s->status != EOS_OK) return;
    const eos_tile *t = &s->tile;
    if (tr->use_norm)
        s->status = eos_raster_read_norm(tr->r, t->read_x0, t->read_y0, t->read_w, t->read_h,
                                         &tr->norm, s->data, s->valid, EOS_PAD_REFLECT);
    else
        s->status = eos_raster_read(tr->r, t->read_x0, t->read_y0, t->read_w, t->read_h,
                                    tr->dtype, s->data, s->valid, EOS_PAD_REFLECT);
}

static void *producer_main(void *arg) {
    eos_tile_reader *tr = arg;
    for (int64_t i = 0; i < tr->n_tiles; i++) {
        pthread_mutex_lock(&tr->mu);
        /* the consumer holds tile consumed-1; slots of tiles < consumed-1 are free */
        while (!tr->stop && tr->produced - (tr->consumed > 0 ? tr->consumed - 1 : 0) >= tr->n_slots)
            pthread_cond_wait(&tr->cv, &tr->mu);
        bool stop = tr->stop;
        pthread_mutex_unlock(&tr->mu);
        if (stop) break;

        tile_slot *s = &tr->slots[i % tr->n_slots];
        fill_slot(tr, i, s);

        pthread_mutex_lock(&tr->mu);
        tr->produced = i + 1;
        pthread_cond_broadcast(&tr->cv);
        pthread_mutex_unlock(&tr->mu);
        if (s->status != EOS_OK) break;
    }
    return NULL;
}

static void free_slots(eos_tile_reader *tr) {
    if (!tr->slots) return;
    for (int i = 0; i < tr->n_slots; i++) {
        eos_free(tr->slots[i].data);
        eos_free(tr->slots[i].valid);
    }
    eos_free(tr->slots);
    tr->slots = NULL;
}

static eos_status alloc_slots(eos_tile_reader *tr, int n_sel) {
    size_t px = (size_t)tr->grid.tile_w * (size_t)tr->grid.tile_h;
    size_t bytes = px * (size_t)n_sel * eos_dtype_size(tr->dtype);
    tr->slots = eos_calloc((size_t)tr->n_slots, sizeof *tr->slots);
    if (!tr->slots) return EOS_NOMEM;
    for (int i = 0; i < tr->n_slots; i++) {
        tr->slots[i].data = eos_malloc(bytes);
        tr->slots[i].valid = eos_malloc(px);
        if (!tr->slots[i].data || !tr->slots[i].valid) return EOS_NOMEM;
    }
    return EOS_OK;
}

eos_status eos_tile_reader_create(eos_raster *r, const eos_tile_grid *grid,
                                  const eos_tile_reader_params *params, eos_tile_reader **out) {
    *out = NULL;
    eos_tile_reader_params p = params ? *params : eos_tile_reader_default_params();
    eos_raster_info info;
    if (!r || !grid) return EOS_INVALID_ARG;
    eos_raster_get_info(r, &info);
    if (grid->width_px != info.width_px || grid->height_px != info.height_px ||
        grid->n_tiles_x <= 0 || grid->n_tiles_y <= 0)
        return EOS_INVALID_ARG;   /* grid not initialised for this raster */
    if (eos_dtype_size(p.dtype) == 0 || p.n_ahead < 0 || p.n_ahead > 64) return EOS_INVALID_ARG;
    if (p.norm && (p.dtype != EOS_DTYPE_F32 || p.norm->n_bands != info.n_selected))
        return EOS_INVALID_ARG;

    eos_tile_reader *tr = eos_calloc(1, sizeof *tr);
    if (!tr) return EOS_NOMEM;
    tr->r = r;
    tr->grid = *grid;
    tr->dtype = p.dtype;
    tr->use_norm = p.norm != NULL;
    if (p.norm) tr->norm = *p.norm;
    tr->n_tiles = eos_tile_grid_count(grid);
    tr->n_slots = p.n_ahead + 1;
    if (alloc_slots(tr, info.n_selected) != EOS_OK) {
        free_slots(tr);
        eos_free(tr);
        return EOS_NOMEM;
    }
    if (p.n_ahead > 0) {
        pthread_mutex_init(&tr->mu, NULL);
        pthread_cond_init(&tr->cv, NULL);
        if (pthread_create(&tr->thread, NULL, producer_main, tr) != 0) {
            pthread_mutex_destroy(&tr->mu);
            pthread_cond_destroy(&tr->cv);
            free_slots(tr);
            eos_free(tr);
            return EOS_NOMEM;
        }
        tr->threaded = true;
    }
    *out = tr;
    return EOS_OK;
}

static void hand_out(const tile_slot *s, eos_tile *tile, const void **data, const uint8_t **valid) {
    *tile = s->tile;
    *data = s->data;
    *valid = s->valid;
}

eos_status eos_tile_reader_next(eos_tile_reader *tr, eos_tile *tile, const void **data,
                                const uint8_t **valid, bool *done) {
    *done = false;
    *data = NULL;
    *valid = NULL;
    if (!tr->threaded) {
        if (tr->consumed >= tr->n_tiles) { *done = true; return EOS_OK; }
        tile_slot *s = &tr->slots[0];
        fill_slot(tr, tr->consumed, s);
        if (s->status != EOS_OK) { tr->consumed = tr->n_tiles; return s->status; }
        tr->consumed++;
        hand_out(s, tile, data, valid);
        return EOS_OK;
    }
    pthread_mutex_lock(&tr->mu);
    if (tr->consumed >= tr->n_tiles) {
        pthread_mutex_unlock(&tr->mu);
        *done = true;
        return EOS_OK;
    }
    pthread_cond_broadcast(&tr->cv);   /* the previously held slot is free now */
    while (tr->produced <= tr->consumed) pthread_cond_wait(&tr->cv, &tr->mu);
    tile_slot *s = &tr->slots[tr->consumed % tr->n_slots];
    eos_status st = s->status;
    tr->consumed = st == EOS_OK ? tr->consumed + 1 : tr->n_tiles;
    pthread_cond_broadcast(&tr->cv);
    pthread_mutex_unlock(&tr->mu);
    if (st != EOS_OK) return st;
    hand_out(s, tile, data, valid);
    return EOS_OK;
}

void eos_tile_reader_free(eos_tile_reader *tr) {
    if (!tr) return;
    if (tr->threaded) {
        pthread_mutex_lock(&tr->mu);
        tr->stop = true;
        pthread_cond_broadcast(&tr->cv);
        pthread_mutex_unlock(&tr->mu);
        pthread_join(tr->thread, NULL);
        pthread_mutex_destroy(&tr->mu);
        pthread_cond_destroy(&tr->cv);
    }
    free_slots(tr);
    eos_free(tr);
}

eos_status eos_raster_writer_write_tile(eos_raster_writer *w, const eos_tile_grid *grid,
                                        const eos_tile *tile, int n_bands, eos_dtype dtype,
                                        const void *tile_buf) {
    size_t es = eos_dtype_size(dtype);
    if (!w || !grid || !tile || !tile_buf || es == 0 || n_bands <= 0) return EOS_INVALID_ARG;
    int half = grid->overlap / 2;
    if (tile->core_w <= 0 || tile->core_h <= 0 || half + tile->core_w > tile->read_w ||
        half + tile->core_h > tile->read_h)
        return EOS_INVALID_ARG;
    size_t row = (size_t)tile->core_w * es;
    uint8_t *core = eos_malloc((size_t)n_bands * (size_t)tile->core_h * row);
    if (!core) return EOS_NOMEM;
    const uint8_t *src = tile_buf;
    uint8_t *dst = core;
    for (int b = 0; b < n_bands; b++) {
        for (int y = 0; y < tile->core_h; y++) {
            size_t off = (((size_t)b * (size_t)tile->read_h + (size_t)(y + half)) *
                              (size_t)tile->read_w + (size_t)half) * es;
            memcpy(dst, src + off, row);
            dst += row;
        }
    }
    eos_status st = eos_raster_writer_write(w, tile->core_x0, tile->core_y0, tile->core_w,
                                            tile->core_h, dtype, core);
    eos_free(core);
    return st;
}
