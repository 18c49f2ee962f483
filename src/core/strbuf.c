/*
 * src/core/strbuf.c - the growing string and its JSON helpers (see strbuf.h).
 *
 * Capacity doubles from 1 KiB, so a report of n bytes costs O(log n) reallocations. printf
 * formats straight into the spare capacity and, when that is too small, a second time after
 * growing to the exact length vsnprintf reported. The UTF-8 check follows the Unicode
 * standard's table of well-formed byte sequences (Table 3-7): text from files (band
 * descriptions, CRS names, class names) reaches JSON readers that reject anything else.
 */
#include "core/strbuf.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eosight/alloc.h"

#define STRBUF_MIN_CAP 1024

/* Make room for extra more bytes plus the NUL; false (and oom set) when that cannot be had. */
static bool reserve(eos_strbuf *b, size_t extra) {
    if (b->oom) return false;
    if (extra > SIZE_MAX - 1 - b->len) {
        b->oom = true;
        return false;
    }
    const size_t need = b->len + extra + 1;
    if (need <= b->cap) return true;
    size_t cap = b->cap ? b->cap : STRBUF_MIN_CAP;
    while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = eos_realloc(b->p, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

void eos_strbuf_put(eos_strbuf *b, const char *s, size_t n) {
    if (!reserve(b, n)) return;
    if (n) memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void eos_strbuf_puts(eos_strbuf *b, const char *s) { eos_strbuf_put(b, s, strlen(s)); }

void eos_strbuf_printf(eos_strbuf *b, const char *fmt, ...) {
    if (b->oom) return;
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    const size_t room = b->cap - b->len;   /* 0 before the first allocation */
    const int k = vsnprintf(room ? b->p + b->len : NULL, room, fmt, ap);
    va_end(ap);
    if (k >= 0 && (size_t)k >= room && reserve(b, (size_t)k))
        vsnprintf(b->p + b->len, (size_t)k + 1, fmt, again);
    va_end(again);
    if (k < 0 || b->oom) {
        if (b->p) b->p[b->len] = '\0';   /* undo a partial write into the spare room */
        return;
    }
    b->len += (size_t)k;
}

/* Bytes in the well-formed UTF-8 sequence at s (1..4), 0 when s does not start one. s is
 * NUL-terminated, and a NUL fails every continuation test, so no byte past it is read. */
static int utf8_len(const unsigned char *s) {
    const unsigned c = s[0];
    if (c < 0x80) return 1;
    if (c < 0xc2) return 0;                          /* continuation byte, overlong 2-byte */
    if (c < 0xe0) return (s[1] & 0xc0) == 0x80 ? 2 : 0;
    unsigned lo = 0x80, hi = 0xbf;
    int n;
    if (c < 0xf0) {
        n = 3;
        if (c == 0xe0) lo = 0xa0;                    /* overlong */
        if (c == 0xed) hi = 0x9f;                    /* UTF-16 surrogates */
    } else if (c < 0xf5) {
        n = 4;
        if (c == 0xf0) lo = 0x90;                    /* overlong */
        if (c == 0xf4) hi = 0x8f;                    /* above U+10FFFF */
    } else {
        return 0;
    }
    if (s[1] < lo || s[1] > hi) return 0;
    for (int i = 2; i < n; i++)
        if ((s[i] & 0xc0) != 0x80) return 0;
    return n;
}

void eos_strbuf_json_str(eos_strbuf *b, const char *s) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    eos_strbuf_put(b, "\"", 1);
    while (*p) {
        const unsigned char *run = p;   /* copy plain characters in one go */
        int n;
        while ((n = utf8_len(p)) > 0 && *p >= 0x20 && *p != '"' && *p != '\\') p += n;
        eos_strbuf_put(b, (const char *)run, (size_t)(p - run));
        if (!*p) break;
        if (n == 0) {
            eos_strbuf_put(b, "\\ufffd", 6);
        } else if (*p == '"' || *p == '\\') {
            const char esc[2] = { '\\', (char)*p };
            eos_strbuf_put(b, esc, 2);
        } else {
            const char esc[6] = { '\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15] };
            eos_strbuf_put(b, esc, 6);
        }
        p++;
    }
    eos_strbuf_put(b, "\"", 1);
}

void eos_strbuf_json_num(eos_strbuf *b, double v) {
    if (!isfinite(v)) {
        eos_strbuf_put(b, "null", 4);
        return;
    }
    char tmp[40];
    snprintf(tmp, sizeof tmp, "%.15g", v);
    if (strtod(tmp, NULL) != v) snprintf(tmp, sizeof tmp, "%.17g", v);
    eos_strbuf_puts(b, tmp);
}

eos_status eos_strbuf_take(eos_strbuf *b, char **out) {
    *out = NULL;
    if (!b->oom && !b->p) reserve(b, 0);   /* nothing appended: hand over "" */
    if (b->oom) {
        eos_strbuf_free(b);
        return EOS_NOMEM;
    }
    b->p[b->len] = '\0';
    *out = b->p;
    *b = (eos_strbuf)EOS_STRBUF_INIT;
    return EOS_OK;
}

void eos_strbuf_free(eos_strbuf *b) {
    if (!b) return;
    eos_free(b->p);
    *b = (eos_strbuf)EOS_STRBUF_INIT;
}
