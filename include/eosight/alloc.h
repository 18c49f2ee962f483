/*
 * eosight/alloc.h - the one allocation wrapper every part of eosight goes through.
 *
 * eos_malloc/eos_calloc/eos_realloc/eos_free count live bytes and allocations (Redis
 * zmalloc), can enforce a cap on live bytes, can fail on purpose after N successful
 * allocations (SQLite-style OOM testing), and can be routed to an application
 * allocator with eos_alloc_set_hooks() (libuv's uv_replace_allocator).
 *
 * These counters are the one process-wide mutable state eosight has; they are updated
 * atomically, so every function here is thread-safe. Configuration calls
 * (set_hooks, set_limit, fail_after) are meant for start-up and tests.
 *
 * Allocations are 64-byte aligned (cache lines, AVX-512 loads). eos_free(NULL) is a no-op.
 */
#ifndef EOSIGHT_ALLOC_H
#define EOSIGHT_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EOS_ALLOC_ALIGN 64

/* Allocate n bytes (64-byte aligned). Returns NULL on failure, on a cap breach, on an
 * injected failure, or for n == 0. Caller frees with eos_free(). */
void *eos_malloc(size_t n);
/* Zeroed array of count*size bytes; NULL on overflow or failure. */
void *eos_calloc(size_t count, size_t size);
/* Resize p (from eos_malloc) to n bytes, keeping min(old, n) bytes. On failure returns NULL
 * and p stays valid. eos_realloc(NULL, n) is eos_malloc(n). */
void *eos_realloc(void *p, size_t n);
/* Free p (from eos_malloc/eos_calloc/eos_realloc/eos_strdup). NULL is a no-op. */
void  eos_free(void *p);
/* Duplicate a NUL-terminated string (NULL in, NULL out). Caller frees with eos_free(). */
char *eos_strdup(const char *s);

typedef struct eos_alloc_stats {
    int64_t live_bytes;     /* bytes currently allocated */
    int64_t peak_bytes;     /* high-water mark of live_bytes since start or reset */
    int64_t live_count;     /* allocations currently live */
    int64_t total_count;    /* successful allocations since start */
    int64_t failed_count;   /* failed (real, capped or injected) allocations */
} eos_alloc_stats;

/* Snapshot of the counters. */
void eos_alloc_get_stats(eos_alloc_stats *out);
/* Reset peak_bytes to the current live_bytes. */
void eos_alloc_reset_peak(void);
/* Cap live bytes: allocations that would exceed max_bytes fail. 0 removes the cap. */
void eos_alloc_set_limit(int64_t max_bytes);
/* Fail every allocation after the next n successful ones; n < 0 disables injection. */
void eos_alloc_fail_after(int64_t n);

/* Application allocator. malloc_fn must return memory aligned to at least 16 bytes;
 * eosight adds its own header and aligns to 64. Pass NULL for all three to restore libc.
 * Must be called before any eosight allocation is live. */
typedef struct eos_alloc_hooks {
    void *(*malloc_fn)(size_t n);
    void *(*realloc_fn)(void *p, size_t n);
    void  (*free_fn)(void *p);
} eos_alloc_hooks;
void eos_alloc_set_hooks(const eos_alloc_hooks *hooks);

#ifdef __cplusplus
}
#endif
#endif /* EOSIGHT_ALLOC_H */
