/*
 * src/core/arena.c - bump allocator over eos_malloc'd chunks (see arena.h).
 */
#include "core/arena.h"

#include <string.h>

#include "eosight/alloc.h"

struct eos_arena_chunk {
    eos_arena_chunk *next;
    size_t           size, used;
    /* payload follows, 64-byte aligned */
};

#define CHUNK_HDR ((sizeof(eos_arena_chunk) + 63) & ~(size_t)63)

void eos_arena_init(eos_arena *a, size_t chunk_size) {
    a->head = NULL;
    a->chunk_size = chunk_size ? chunk_size : 64 * 1024;
    a->used_bytes = 0;
}

void *eos_arena_alloc(eos_arena *a, size_t n) {
    if (n == 0) n = 1;
    size_t align = n >= 64 ? 64 : 16;
    eos_arena_chunk *c = a->head;
    if (c) {
        size_t off = (c->used + align - 1) & ~(align - 1);
        if (off <= c->size && c->size - off >= n) {
            c->used = off + n;
            a->used_bytes += n;
            char *p = (char *)c + CHUNK_HDR + off;
            memset(p, 0, n);
            return p;
        }
    }
    if (n > SIZE_MAX / 2) return NULL;
    size_t sz = n > a->chunk_size ? n : a->chunk_size;
    c = eos_malloc(CHUNK_HDR + sz);
    if (!c) return NULL;
    c->size = sz;
    c->used = n;
    /* big one-off chunks go behind the head so the head keeps its free room */
    if (a->head && n > a->chunk_size / 2) {
        c->next = a->head->next;
        a->head->next = c;
    } else {
        c->next = a->head;
        a->head = c;
    }
    a->used_bytes += n;
    char *p = (char *)c + CHUNK_HDR;
    memset(p, 0, n);
    return p;
}

char *eos_arena_strndup(eos_arena *a, const char *s, size_t n) {
    if (!s) return NULL;
    char *d = eos_arena_alloc(a, n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *eos_arena_strdup(eos_arena *a, const char *s) {
    return s ? eos_arena_strndup(a, s, strlen(s)) : NULL;
}

void eos_arena_free(eos_arena *a) {
    eos_arena_chunk *c = a->head;
    while (c) {
        eos_arena_chunk *n = c->next;
        eos_free(c);
        c = n;
    }
    a->head = NULL;
    a->used_bytes = 0;
}
