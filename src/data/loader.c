/*
 * src/data/loader.c - the batch loader (include/eosight/data.h, "loader"): worker threads that
 * decode, fit, augment and normalise items into a ring of batch slots ahead of the consumer.
 *
 * Work is handed out one item ("unit") at a time in epoch order, so every thread helps with the
 * next batch and the first batch of an epoch is ready as early as possible. Unit k belongs to
 * batch k / batch_size and is written to row k % batch_size of that batch's slot; a slot is
 * ready when all its rows are. There are n_ahead + 1 slots: the one the consumer holds (valid
 * until its next call) and n_ahead being filled. A worker may only start a unit whose batch has
 * a free slot, which bounds memory at n_ahead + 1 batches whatever the dataset size.
 *
 * Determinism: the order of an epoch comes from a generator derived from (seed, epoch), each
 * item's random choices (crop window, patch, augmentation) from one derived from (seed, epoch,
 * item) - or (seed, epoch, patch number) for the patch sampler - and results land in fixed
 * rows, so neither the number of threads nor their timing changes a single bit. A failing item
 * marks its batch; the consumer gets the error of the lowest failing row of that batch.
 */
#include "data/data_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "eosight/alloc.h"

#define LOADER_SEED_MIX 0x6c6f61646572ull   /* "loader": keeps our streams apart from others */
#define MAX_THREADS     64
#define MAX_AHEAD       64
#define TARGET_TRIES    20

typedef struct slot {
    eos_batch  b;
    int64_t    batch;       /* batch index held, -1 none */
    int        n_done;
    eos_status st;
    int64_t    err_unit;
    char       msg[EOS_ERR_MSG_MAX];
} slot;

/* Per-worker buffers, grown as needed. */
typedef struct scratch {
    float   *work, *src;
    uint8_t *mask;
    size_t   work_cap, src_cap, mask_cap;
} scratch;

struct eos_loader {
    const eos_dataset *ds;
    eos_loader_params  p;
    eos_augment        aug;
    bool               has_aug;
    eos_norm           norm;
    bool               has_norm;
    int                c, h, w;          /* output */
    bool               patches;          /* segmentation patch sampler */
    float              value_max;
    int64_t            n_units, n_batches;

    double            *cum_area;         /* patch sampler: prefix sums of item areas */
    bool               target[256];
    float              target_share;

    int64_t           *order;            /* n_units items of the current epoch (when used) */
    int                epoch;

    pthread_mutex_t    mu;
    pthread_cond_t     cv_work, cv_done;
    pthread_t         *threads;
    int                n_threads, n_started;
    bool               stop, open;       /* open: an epoch is running */
    int64_t            next_unit, taken, active;
    int                n_slots;
    slot              *slots;
    char               errmsg[EOS_ERR_MSG_MAX];
};

/* ------------------------------------------------------------------ helpers */

static bool grow_f(float **p, size_t *cap, size_t n) {
    if (n <= *cap) return true;
    eos_free(*p);
    *p = eos_malloc(n * sizeof **p);
    *cap = *p ? n : 0;
    return *p != NULL;
}

static bool grow_u8(uint8_t **p, size_t *cap, size_t n) {
    if (n <= *cap) return true;
    eos_free(*p);
    *p = eos_malloc(n);
    *cap = *p ? n : 0;
    return *p != NULL;
}

static int window_start(eos_rng *rng, bool random, int have, int want) {
    if (have <= want) return (have - want) / 2;   /* centred, mirror padding around */
    return random ? (int)eos_rng_below(rng, (uint64_t)(have - want + 1)) : (have - want) / 2;
}

static float value_max_of(eos_dtype t) {
    return t == EOS_DTYPE_U8 ? 255.0f : t == EOS_DTYPE_U16 ? 10000.0f : 1.0f;
}

/* ------------------------------------------------------------------ one unit */

/* Fit a whole-image view into sc->work / sc->mask at the output size. */
static eos_status fit_view(const eos_loader *l, const eos__view *v, eos_rng *rng, scratch *sc,
                           eos_err *err, const char *path) {
    int c = v->c, h = l->h, w = l->w;
    size_t out_px = (size_t)h * (size_t)w;
    if (!grow_f(&sc->work, &sc->work_cap, (size_t)c * out_px) ||
        (v->mask && !grow_u8(&sc->mask, &sc->mask_cap, out_px)))
        return eos_err_set(err, EOS_NOMEM, "%s: out of memory", path);
    if (v->h == h && v->w == w) {
        eos__window_f32(v->img, v->dtype, c, v->h, v->w, 0, 0, w, h, sc->work);
        if (v->mask) memcpy(sc->mask, v->mask, out_px);
        return EOS_OK;
    }
    if (l->p.out_h == 0)
        return eos_err_set(err, EOS_SHAPE, "%s: %d x %d, the loader's images are %d x %d (set an "
                           "output size to resize or crop)", path, v->w, v->h, w, h);
    if (l->p.fit == EOS_FIT_CROP) {
        int x0 = window_start(rng, l->has_aug, v->w, w),
            y0 = window_start(rng, l->has_aug, v->h, h);
        eos__window_f32(v->img, v->dtype, c, v->h, v->w, x0, y0, w, h, sc->work);
        if (v->mask) eos__window_u8(v->mask, v->h, v->w, x0, y0, w, h, sc->mask);
        return EOS_OK;
    }
    size_t in_px = (size_t)v->h * (size_t)v->w;
    if (!grow_f(&sc->src, &sc->src_cap, (size_t)c * in_px))
        return eos_err_set(err, EOS_NOMEM, "%s: out of memory", path);
    eos__window_f32(v->img, v->dtype, c, v->h, v->w, 0, 0, v->w, v->h, sc->src);
    eos__resize(sc->src, v->mask, c, v->h, v->w, sc->work, v->mask ? sc->mask : NULL, h, w);
    return EOS_OK;
}

static bool window_has_target(const eos_loader *l, const uint8_t *m, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (l->target[m[i]]) return true;
    return false;
}

/* Item for patch k: by area, or the epoch order for one patch per image. */
static int64_t patch_item(const eos_loader *l, eos_rng *rng, int64_t k) {
    if (l->p.patches_per_epoch == 0) return l->order[k];
    int64_t n = eos_dataset_size(l->ds);
    double u = (double)(eos_rng_u64(rng) >> 11) * (1.0 / 9007199254740992.0) * l->cum_area[n - 1];
    int64_t lo = 0, hi = n - 1;
    while (lo < hi) {
        int64_t mid = (lo + hi) / 2;
        if (l->cum_area[mid] > u) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

/* Start of a window of `want` pixels over `have` that contains pixel `at`, at a random offset. */
static int window_around(eos_rng *rng, int at, int have, int want) {
    if (have <= want) return (have - want) / 2;
    int x0 = at - (int)eos_rng_below(rng, (uint64_t)want);
    return x0 < 0 ? 0 : x0 > have - want ? have - want : x0;
}

/* A random target pixel of the whole mask (false when it has none). */
static bool random_target_pixel(const eos_loader *l, const eos__view *v, eos_rng *rng, int *x,
                                int *y) {
    size_t n = (size_t)v->w * (size_t)v->h, count = 0;
    for (size_t i = 0; i < n; i++) count += l->target[v->mask[i]];
    if (count == 0) return false;
    size_t k = (size_t)eos_rng_below(rng, count);
    for (size_t i = 0; i < n; i++) {
        if (l->target[v->mask[i]] && k-- == 0) {
            *x = (int)(i % (size_t)v->w);
            *y = (int)(i / (size_t)v->w);
            return true;
        }
    }
    return false;
}

/* Cut a patch into sc->work / sc->mask. A target patch is re-drawn up to TARGET_TRIES times
 * until it holds a target pixel; when none did, it is placed around a random target pixel of
 * the image (rare classes would otherwise be missed), if the image has one. */
static eos_status cut_patch(const eos_loader *l, const eos__view *v, eos_rng *rng, bool want_target,
                            scratch *sc, const char *path, eos_err *err) {
    size_t px = (size_t)l->h * (size_t)l->w;
    if (!grow_f(&sc->work, &sc->work_cap, (size_t)v->c * px) ||
        !grow_u8(&sc->mask, &sc->mask_cap, px))
        return eos_err_set(err, EOS_NOMEM, "%s: out of memory", path);
    int x0 = 0, y0 = 0;
    bool found = !want_target;
    for (int t = 0; t < (want_target ? TARGET_TRIES : 1); t++) {
        x0 = window_start(rng, true, v->w, l->w);
        y0 = window_start(rng, true, v->h, l->h);
        eos__window_u8(v->mask, v->h, v->w, x0, y0, l->w, l->h, sc->mask);
        if (want_target && window_has_target(l, sc->mask, px)) {
            found = true;
            break;
        }
    }
    int tx, ty;
    if (!found && random_target_pixel(l, v, rng, &tx, &ty)) {
        x0 = window_around(rng, tx, v->w, l->w);
        y0 = window_around(rng, ty, v->h, l->h);
        eos__window_u8(v->mask, v->h, v->w, x0, y0, l->w, l->h, sc->mask);
    }
    eos__window_f32(v->img, v->dtype, v->c, v->h, v->w, x0, y0, l->w, l->h, sc->work);
    return EOS_OK;
}

/* Write sc->work (augmented, normalised) and the labels of item into row r of batch b. */
static eos_status emit(const eos_loader *l, eos_batch *b, int r, int64_t item, scratch *sc,
                       eos_rng *rng, const char *path, eos_err *err) {
    int c = l->c;
    size_t px = (size_t)l->h * (size_t)l->w;
    bool seg = l->ds->task == EOS_TASK_SEGMENT;
    if (l->has_aug &&
        eos_augment_apply(&l->aug, rng, sc->work, c, l->h, l->w, seg ? sc->mask : NULL,
                          l->value_max) != EOS_OK)
        return eos_err_set(err, EOS_NOMEM, "%s: out of memory augmenting", path);
    float *x = b->x + (size_t)r * (size_t)c * px;
    if (l->has_norm) eos_norm_apply(&l->norm, EOS_DTYPE_F32, sc->work, (int64_t)px, NULL, x);
    else memcpy(x, sc->work, (size_t)c * px * sizeof *x);
    b->index[r] = item;
    switch (l->ds->task) {
    case EOS_TASK_CLASSIFY: b->y[r] = eos_dataset_label(l->ds, item); break;
    case EOS_TASK_TAG: {
        int n = eos_dataset_n_classes(l->ds);
        const uint8_t *t = eos_dataset_tags(l->ds, item);
        for (int k = 0; k < n; k++) b->tags[(size_t)r * (size_t)n + (size_t)k] = t[k];
        break;
    }
    case EOS_TASK_SEGMENT: memcpy(b->mask + (size_t)r * px, sc->mask, px); break;
    }
    return EOS_OK;
}

static eos_status run_unit(const eos_loader *l, int64_t u, int epoch, eos_batch *b, scratch *sc,
                           eos_err *err) {
    uint64_t seed = l->p.seed ^ LOADER_SEED_MIX;
    eos_rng rng;
    int64_t item;
    bool want_target = false;
    if (l->patches) {
        eos_rng_derive(&rng, seed, (uint64_t)epoch,
                       l->p.patches_per_epoch ? (uint64_t)u : (uint64_t)l->order[u]);
        item = patch_item(l, &rng, u);
        want_target = eos_rng_uniform(&rng) < l->target_share;
    } else {
        item = l->order[u];
        eos_rng_derive(&rng, seed, (uint64_t)epoch, (uint64_t)item);
    }
    eos__view v;
    EOS_TRY(eos__dataset_view(l->ds, item, true, true, &v, err));
    const char *path = eos_dataset_item_name(l->ds, item);
    eos_status st = l->patches ? cut_patch(l, &v, &rng, want_target, sc, path, err)
                               : fit_view(l, &v, &rng, sc, err, path);
    eos__view_release(&v);
    if (st == EOS_OK) st = emit(l, b, (int)(u % l->p.batch), item, sc, &rng, path, err);
    return st;
}

/* ------------------------------------------------------------------ workers */

static bool can_claim(const eos_loader *l) {
    if (!l->open || l->next_unit >= l->n_units) return false;
    int64_t batch = l->next_unit / l->p.batch, held = l->taken > 0 ? l->taken - 1 : 0;
    return batch < held + l->n_slots;
}

/* Claim the next unit (mu held); initialises its slot when it is the batch's first. */
static int64_t claim(eos_loader *l, slot **s) {
    int64_t u = l->next_unit++, batch = u / l->p.batch;
    *s = &l->slots[batch % l->n_slots];
    if (u % l->p.batch == 0) {
        (*s)->batch = batch;
        (*s)->n_done = 0;
        int64_t left = l->n_units - u;
        (*s)->b.n = (int)(left < l->p.batch ? left : l->p.batch);
        (*s)->st = EOS_OK;
        (*s)->msg[0] = '\0';
    }
    l->active++;
    return u;
}

static void *worker_main(void *arg) {
    eos_loader *l = arg;
    scratch sc;
    memset(&sc, 0, sizeof sc);
    pthread_mutex_lock(&l->mu);
    for (;;) {
        while (!l->stop && !can_claim(l)) pthread_cond_wait(&l->cv_work, &l->mu);
        if (l->stop) break;
        slot *s;
        int64_t u = claim(l, &s);
        int epoch = l->epoch;
        pthread_mutex_unlock(&l->mu);

        eos_err err;
        eos_err_clear(&err);
        eos_status st = run_unit(l, u, epoch, &s->b, &sc, &err);

        pthread_mutex_lock(&l->mu);
        l->active--;
        if (st != EOS_OK && (s->st == EOS_OK || u < s->err_unit)) {
            s->st = st;
            s->err_unit = u;
            snprintf(s->msg, sizeof s->msg, "%s", err.msg);
        }
        s->n_done++;
        if (s->n_done == s->b.n || l->active == 0) pthread_cond_broadcast(&l->cv_done);
    }
    pthread_mutex_unlock(&l->mu);
    eos_free(sc.work);
    eos_free(sc.src);
    eos_free(sc.mask);
    return NULL;
}

/* ------------------------------------------------------------------ creation */

static eos_status alloc_slots(eos_loader *l, eos_err *err) {
    int B = l->p.batch, nl = eos_dataset_n_classes(l->ds);
    size_t px = (size_t)l->h * (size_t)l->w;
    eos_task task = eos_dataset_task(l->ds);
    l->slots = eos_calloc((size_t)l->n_slots, sizeof *l->slots);
    if (!l->slots) return eos_err_set(err, EOS_NOMEM, "out of memory for batch slots");
    for (int i = 0; i < l->n_slots; i++) {
        eos_batch *b = &l->slots[i].b;
        l->slots[i].batch = -1;
        b->c = l->c;
        b->h = l->h;
        b->w = l->w;
        b->x = eos_malloc((size_t)B * (size_t)l->c * px * sizeof(float));
        b->index = eos_malloc((size_t)B * sizeof *b->index);
        if (task == EOS_TASK_CLASSIFY) b->y = eos_malloc((size_t)B * sizeof *b->y);
        if (task == EOS_TASK_TAG) b->tags = eos_malloc((size_t)B * (size_t)nl * sizeof(float));
        if (task == EOS_TASK_SEGMENT) b->mask = eos_malloc((size_t)B * px);
        if (!b->x || !b->index || (task == EOS_TASK_CLASSIFY && !b->y) ||
            (task == EOS_TASK_TAG && !b->tags) || (task == EOS_TASK_SEGMENT && !b->mask))
            return eos_err_set(err, EOS_NOMEM,
                               "out of memory for %d batch slots of %d x %d x %d x %d", l->n_slots,
                               B, l->c, l->h, l->w);
    }
    return EOS_OK;
}

static eos_status check_params(const eos_dataset *ds, const eos_loader_params *p, eos_err *err) {
    if (p->batch <= 0)
        return eos_err_set(err, EOS_INVALID_ARG, "loader: batch %d must be > 0", p->batch);
    if (p->out_h < 0 || p->out_w < 0 || (p->out_h == 0) != (p->out_w == 0) || p->out_h > 65536 ||
        p->out_w > 65536)
        return eos_err_set(err, EOS_INVALID_ARG, "loader: output size %d x %d (both 0 or both > 0)",
                           p->out_w, p->out_h);
    if ((unsigned)p->fit > EOS_FIT_CROP)
        return eos_err_set(err, EOS_INVALID_ARG, "loader: bad fit mode");
    if (p->n_threads < 0 || p->n_threads > MAX_THREADS || p->n_ahead < 0 || p->n_ahead > MAX_AHEAD)
        return eos_err_set(err, EOS_INVALID_ARG,
                           "loader: n_threads %d and n_ahead %d must be in 0..%d", p->n_threads,
                           p->n_ahead, MAX_THREADS);
    if (p->patches_per_epoch < 0 || p->n_target_classes < 0 ||
        (p->n_target_classes > 0 && !p->target_classes) || p->target_share > 1 ||
        p->target_share != p->target_share)
        return eos_err_set(err, EOS_INVALID_ARG, "loader: bad patch sampler parameters");
    for (int i = 0; i < p->n_target_classes; i++)
        if (p->target_classes[i] < 0 || p->target_classes[i] >= eos_dataset_n_classes(ds))
            return eos_err_set(err, EOS_INVALID_ARG,
                               "loader: target class %d out of range (%d classes)",
                               p->target_classes[i], eos_dataset_n_classes(ds));
    if (p->norm) {
        if (p->norm->n_bands != eos_dataset_n_bands(ds))
            return eos_err_set(err, EOS_INVALID_ARG,
                               "loader: normalisation for %d bands, the "
                               "dataset's images have %d",
                               p->norm->n_bands, eos_dataset_n_bands(ds));
        for (int b = 0; b < p->norm->n_bands; b++)
            if (!(p->norm->std[b] > 0) || !isfinite(p->norm->scale[b]) ||
                !isfinite(p->norm->mean[b]))
                return eos_err_set(err, EOS_INVALID_ARG, "loader: band %d: std must be > 0, "
                                   "scale and mean finite", b + 1);
    }
    return EOS_OK;
}

/* Targets of the patch sampler: the given classes, else all but the most frequent one. */
static eos_status set_targets(eos_loader *l, eos_err *err) {
    const eos_loader_params *p = &l->p;
    l->target_share = p->target_share < 0 ? 0.5f : p->target_share;
    for (int i = 0; i < p->n_target_classes; i++) l->target[p->target_classes[i]] = true;
    if (p->n_target_classes > 0 || l->target_share == 0) return EOS_OK;
    int64_t hist[256] = { 0 };
    for (int64_t i = 0; i < eos_dataset_size(l->ds); i++) {
        eos__view v;
        EOS_TRY(eos__dataset_view(l->ds, i, false, true, &v, err));
        for (size_t k = 0, n = (size_t)v.w * (size_t)v.h; k < n; k++) hist[v.mask[k]]++;
        eos__view_release(&v);
    }
    int top = 0, nc = eos_dataset_n_classes(l->ds);
    for (int c = 0; c < nc; c++)
        if (hist[c] > hist[top]) top = c;
    for (int c = 0; c < nc; c++) l->target[c] = c != top;
    return EOS_OK;
}

static eos_status setup_patches(eos_loader *l, eos_err *err) {
    int64_t n = eos_dataset_size(l->ds);
    l->cum_area = eos_malloc((size_t)n * sizeof *l->cum_area);
    if (!l->cum_area) return eos_err_set(err, EOS_NOMEM, "out of memory");
    double sum = 0;
    for (int64_t i = 0; i < n; i++) {
        int w, h;
        EOS_TRY(eos__dataset_item_size(l->ds, i, &w, &h, err));
        sum += (double)w * (double)h;
        l->cum_area[i] = sum;
    }
    return set_targets(l, err);
}

static eos_status loader_init(eos_loader *l, eos_err *err) {
    const eos_dataset *ds = l->ds;
    eos_loader_params *p = &l->p;
    EOS_TRY(check_params(ds, p, err));
    if (p->augment) {
        l->aug = *p->augment;
        l->has_aug = true;
    }
    if (p->norm) {
        l->norm = *p->norm;
        l->has_norm = true;
    }
    l->c = eos_dataset_n_bands(ds);
    l->value_max = value_max_of(ds->dtype);
    l->h = p->out_h;
    l->w = p->out_w;
    if (p->out_h == 0) EOS_TRY(eos__dataset_item_size(ds, 0, &l->w, &l->h, err));
    if ((int64_t)p->batch * l->c * l->h * l->w > ((int64_t)1 << 31))
        return eos_err_set(err, EOS_INVALID_ARG,
                           "loader: a batch of %d x %d x %d x %d is too large", p->batch, l->c,
                           l->h, l->w);
    l->patches = eos_dataset_task(ds) == EOS_TASK_SEGMENT && p->out_h > 0;
    l->n_units =
        l->patches && p->patches_per_epoch > 0 ? p->patches_per_epoch : eos_dataset_size(ds);
    l->n_batches = p->drop_last ? l->n_units / p->batch : (l->n_units + p->batch - 1) / p->batch;
    l->n_threads = p->n_threads > 0 ? p->n_threads : 1;
    l->n_slots = (p->n_ahead > 0 ? p->n_ahead : 2) + 1;
    l->order = eos_malloc((size_t)(l->n_units > 0 ? l->n_units : 1) * sizeof *l->order);
    l->threads = eos_calloc((size_t)l->n_threads, sizeof *l->threads);
    if (!l->order || !l->threads) return eos_err_set(err, EOS_NOMEM, "out of memory");
    if (l->patches) EOS_TRY(setup_patches(l, err));
    return alloc_slots(l, err);
}

eos_status eos_loader_create(eos_ctx *ctx, const eos_dataset *ds, const eos_loader_params *params,
                             eos_loader **out) {
    eos__ctx_clear(ctx);
    if (out) *out = NULL;
    if (!ds || !params || !out)
        return eos__ctx_fail(ctx, &(eos_err){EOS_INVALID_ARG, "eos_loader_create: NULL argument"});
    eos_loader *l = eos_calloc(1, sizeof *l);
    if (!l) return eos__ctx_fail(ctx, &(eos_err){ EOS_NOMEM, "out of memory" });
    l->ds = ds;
    l->p = *params;
    l->epoch = -1;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv_work, NULL);
    pthread_cond_init(&l->cv_done, NULL);
    eos_err err;
    eos_err_clear(&err);
    eos_status st = loader_init(l, &err);
    if (st != EOS_OK) {
        eos_loader_free(l);
        return eos__ctx_fail(ctx, &err);
    }
    *out = l;
    return EOS_OK;
}

void eos_loader_free(eos_loader *l) {
    if (!l) return;
    pthread_mutex_lock(&l->mu);
    l->stop = true;
    pthread_cond_broadcast(&l->cv_work);
    pthread_mutex_unlock(&l->mu);
    for (int i = 0; i < l->n_started; i++) pthread_join(l->threads[i], NULL);
    for (int i = 0; l->slots && i < l->n_slots; i++) {
        eos_batch *b = &l->slots[i].b;
        eos_free(b->x);
        eos_free(b->y);
        eos_free(b->tags);
        eos_free(b->mask);
        eos_free(b->index);
    }
    eos_free(l->slots);
    eos_free(l->threads);
    eos_free(l->order);
    eos_free(l->cum_area);
    pthread_cond_destroy(&l->cv_work);
    pthread_cond_destroy(&l->cv_done);
    pthread_mutex_destroy(&l->mu);
    eos_free(l);
}

/* ------------------------------------------------------------------ epochs and batches */

int64_t eos_loader_n_batches(const eos_loader *l) { return l ? l->n_batches : 0; }

const char *eos_loader_errmsg(const eos_loader *l) { return l ? l->errmsg : ""; }

/* The epoch's item order (mu held, no unit in flight). */
static void make_order(eos_loader *l, int epoch) {
    int64_t n = eos_dataset_size(l->ds);
    if (l->patches && l->p.patches_per_epoch > 0) return;
    for (int64_t i = 0; i < n; i++) l->order[i] = i;
    if (!l->p.shuffle) return;
    eos_rng rng;
    eos_rng_derive(&rng, l->p.seed ^ LOADER_SEED_MIX, (uint64_t)epoch, UINT64_MAX);
    eos_rng_shuffle(&rng, l->order, n);
}

eos_status eos_loader_start_epoch(eos_loader *l, int epoch) {
    if (!l) return EOS_INVALID_ARG;
    if (epoch < 0) {
        snprintf(l->errmsg, sizeof l->errmsg, "epoch %d must be >= 0", epoch);
        return EOS_INVALID_ARG;
    }
    pthread_mutex_lock(&l->mu);
    l->open = false;
    while (l->active > 0) pthread_cond_wait(&l->cv_done, &l->mu);
    make_order(l, epoch);
    l->epoch = epoch;
    l->next_unit = 0;
    l->taken = 0;
    for (int i = 0; i < l->n_slots; i++) l->slots[i].batch = -1;
    l->open = true;
    eos_status st = EOS_OK;
    while (l->n_started < l->n_threads) {
        if (pthread_create(&l->threads[l->n_started], NULL, worker_main, l) != 0) {
            if (l->n_started == 0) {
                snprintf(l->errmsg, sizeof l->errmsg, "cannot start loader threads");
                st = EOS_NOMEM;
            }
            break;
        }
        l->n_started++;
    }
    pthread_cond_broadcast(&l->cv_work);
    pthread_mutex_unlock(&l->mu);
    return st;
}

eos_status eos_loader_next(eos_loader *l, eos_batch *b) {
    if (!l || !b) return EOS_INVALID_ARG;
    memset(b, 0, sizeof *b);
    l->errmsg[0] = '\0';
    pthread_mutex_lock(&l->mu);
    if (!l->open || l->n_started == 0) {
        pthread_mutex_unlock(&l->mu);
        snprintf(l->errmsg, sizeof l->errmsg, "no epoch started (call eos_loader_start_epoch)");
        return EOS_INVALID_ARG;
    }
    if (l->taken >= l->n_batches) {
        pthread_mutex_unlock(&l->mu);
        return EOS_OK;
    }
    int64_t batch = l->taken++;
    pthread_cond_broadcast(&l->cv_work);   /* the slot held until now is free */
    slot *s = &l->slots[batch % l->n_slots];
    while (!(s->batch == batch && s->n_done == s->b.n)) pthread_cond_wait(&l->cv_done, &l->mu);
    pthread_mutex_unlock(&l->mu);
    *b = s->b;
    if (s->st != EOS_OK) {
        snprintf(l->errmsg, sizeof l->errmsg, "%s", s->msg);
        return s->st;
    }
    return EOS_OK;
}
