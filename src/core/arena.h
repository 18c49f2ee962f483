/*
 * src/core/arena.h - bump allocator for objects that live and die together (a parsed graph's
 * names, attributes and node arrays; a plan's bookkeeping). Chunks come from eos_malloc;
 * eos_arena_free releases everything at once. Not thread-safe.
 */
#ifndef EOS_CORE_ARENA_H
#define EOS_CORE_ARENA_H

#include <stddef.h>

typedef struct eos_arena_chunk eos_arena_chunk;
typedef struct eos_arena {
    eos_arena_chunk *head;
    size_t           chunk_size;  /* default size of new chunks */
    size_t           used_bytes;  /* total bytes handed out */
} eos_arena;

/* Initialise an empty arena (no allocation yet). chunk_size 0 means 64 KiB. */
void  eos_arena_init(eos_arena *a, size_t chunk_size);
/* n bytes aligned to 16 (64 for n >= 64); NULL on failure. Memory is zeroed. */
void *eos_arena_alloc(eos_arena *a, size_t n);
/* Copy of s (NULL in, NULL out); NULL on failure. */
char *eos_arena_strdup(eos_arena *a, const char *s);
/* Copy of n bytes of s followed by a NUL. */
char *eos_arena_strndup(eos_arena *a, const char *s, size_t n);
/* Release every chunk; the arena can be reused after eos_arena_init. */
void  eos_arena_free(eos_arena *a);

#endif /* EOS_CORE_ARENA_H */
