/*
 * src/core/alloc.c - the allocation wrapper (see eosight/alloc.h).
 *
 * Every block carries a 64-byte header in front of the returned pointer: the size the caller
 * asked for and the offset back to the start of the underlying allocation (which the hooks
 * may give with only 16-byte alignment). Counters are C11 atomics: this is the one piece of
 * process-wide mutable state in eosight, and it is safe from any thread.
 */
#include "eosight/alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct hdr {
    size_t size;      /* bytes requested */
    size_t shift;     /* returned pointer - raw pointer */
    char   pad[EOS_ALLOC_ALIGN - 2 * sizeof(size_t)];
} hdr;

static _Atomic int64_t g_live, g_peak, g_live_count, g_total, g_failed, g_limit;
static _Atomic int64_t g_fail_after = -1;
static eos_alloc_hooks g_hooks = { malloc, realloc, free };

static int may_allocate(size_t n) {
    int64_t fa = atomic_load(&g_fail_after);
    if (fa >= 0) {
        if (fa == 0) return 0;
        atomic_fetch_sub(&g_fail_after, 1);
    }
    int64_t lim = atomic_load(&g_limit);
    if (lim > 0 && atomic_load(&g_live) + (int64_t)n > lim) return 0;
    return 1;
}

static void account(int64_t delta, int64_t count_delta) {
    int64_t now = atomic_fetch_add(&g_live, delta) + delta;
    atomic_fetch_add(&g_live_count, count_delta);
    int64_t peak = atomic_load(&g_peak);
    while (now > peak && !atomic_compare_exchange_weak(&g_peak, &peak, now)) {
    }
}

static void *finish(void *raw, size_t n) {
    uintptr_t base = (uintptr_t)raw + sizeof(hdr);
    uintptr_t aligned = (base + EOS_ALLOC_ALIGN - 1) & ~(uintptr_t)(EOS_ALLOC_ALIGN - 1);
    hdr *h = (hdr *)(aligned - sizeof(hdr));
    h->size = n;
    h->shift = aligned - (uintptr_t)raw;
    return (void *)aligned;
}

void *eos_malloc(size_t n) {
    if (n == 0 || n > SIZE_MAX - 2 * EOS_ALLOC_ALIGN - sizeof(hdr)) return NULL;
    if (!may_allocate(n)) {
        atomic_fetch_add(&g_failed, 1);
        return NULL;
    }
    void *raw = g_hooks.malloc_fn(n + sizeof(hdr) + EOS_ALLOC_ALIGN);
    if (!raw) {
        atomic_fetch_add(&g_failed, 1);
        return NULL;
    }
    atomic_fetch_add(&g_total, 1);
    account((int64_t)n, 1);
    return finish(raw, n);
}

void *eos_calloc(size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) return NULL;
    void *p = eos_malloc(count * size);
    if (p) memset(p, 0, count * size);
    return p;
}

void eos_free(void *p) {
    if (!p) return;
    hdr *h = (hdr *)((char *)p - sizeof(hdr));
    account(-(int64_t)h->size, -1);
    g_hooks.free_fn((char *)p - h->shift);
}

void *eos_realloc(void *p, size_t n) {
    if (!p) return eos_malloc(n);
    if (n == 0) return NULL;
    hdr *h = (hdr *)((char *)p - sizeof(hdr));
    /* A fresh aligned block keeps the alignment guarantee whatever the hooks do. */
    void *q = eos_malloc(n);
    if (!q) return NULL;
    memcpy(q, p, h->size < n ? h->size : n);
    eos_free(p);
    return q;
}

char *eos_strdup(const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = eos_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

void eos_alloc_get_stats(eos_alloc_stats *out) {
    out->live_bytes = atomic_load(&g_live);
    out->peak_bytes = atomic_load(&g_peak);
    out->live_count = atomic_load(&g_live_count);
    out->total_count = atomic_load(&g_total);
    out->failed_count = atomic_load(&g_failed);
}

void eos_alloc_reset_peak(void) { atomic_store(&g_peak, atomic_load(&g_live)); }
void eos_alloc_set_limit(int64_t max_bytes) { atomic_store(&g_limit, max_bytes > 0 ? max_bytes : 0); }
void eos_alloc_fail_after(int64_t n) { atomic_store(&g_fail_after, n < 0 ? -1 : n); }

void eos_alloc_set_hooks(const eos_alloc_hooks *hooks) {
    if (hooks && hooks->malloc_fn && hooks->free_fn) {
        g_hooks.malloc_fn = hooks->malloc_fn;
        g_hooks.realloc_fn = hooks->realloc_fn ? hooks->realloc_fn : realloc;
        g_hooks.free_fn = hooks->free_fn;
    } else {
        g_hooks.malloc_fn = malloc;
        g_hooks.realloc_fn = realloc;
        g_hooks.free_fn = free;
    }
}
