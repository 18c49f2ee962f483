/*
 * src/core/strbuf.h - a growing, NUL-terminated string with JSON helpers: the one builder behind
 * every JSON text the library writes (eos_raster_info_json, the metrics and evaluation reports).
 *
 * Appending never fails loudly: the first allocation that fails marks the buffer out of memory,
 * every later append is a no-op, and eos_strbuf_take reports EOS_NOMEM. A caller therefore
 * appends a whole document without checking each call and looks at the status once. The text
 * comes from eos_malloc/eos_realloc, so the caller frees what it takes with eos_free.
 *
 * Usage:
 *     eos_strbuf b = EOS_STRBUF_INIT;
 *     eos_strbuf_puts(&b, "{\"name\":");
 *     eos_strbuf_json_str(&b, name);              // escaped, always valid UTF-8
 *     eos_strbuf_printf(&b, ",\"n\":%d}", n);
 *     return eos_strbuf_take(&b, out);           // EOS_OK or EOS_NOMEM
 *
 * A buffer belongs to one thread at a time; the functions keep no other state. Knows nothing of
 * GDAL or any other dependency (src/core).
 */
#ifndef EOS_CORE_STRBUF_H
#define EOS_CORE_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

#include "eosight/status.h"

typedef struct eos_strbuf {
    char  *p;     /* the text, NUL-terminated; NULL until something is appended; owned */
    size_t len;   /* bytes of text, without the NUL */
    size_t cap;   /* bytes allocated at p */
    bool   oom;   /* an allocation failed: sticky, appends are no-ops, take gives EOS_NOMEM */
} eos_strbuf;

/* An empty buffer; nothing is allocated until the first append. A zeroed struct is the same. */
#define EOS_STRBUF_INIT { NULL, 0, 0, false }

/* Append n bytes of s (which may contain NULs; s may be NULL when n is 0). */
void eos_strbuf_put(eos_strbuf *b, const char *s, size_t n);
/* Append the NUL-terminated string s. */
void eos_strbuf_puts(eos_strbuf *b, const char *s);
/* Append printf-formatted text, whatever its length (no truncation: the buffer grows to the
 * exact size first). A format that vsnprintf cannot encode appends nothing. */
void eos_strbuf_printf(eos_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append s as a JSON string literal, quotes included. '"' and '\' are escaped with a backslash,
 * control characters (bytes below 0x20) as \u00XX with lowercase hex, and every byte that does
 * not start a well-formed UTF-8 sequence (RFC 3629: no overlong forms, no surrogates, nothing
 * above U+10FFFF) becomes \ufffd, one per byte, so the output is valid UTF-8 whatever s holds.
 * Everything else, DEL and non-ASCII characters included, is copied as is. NULL is "". */
void eos_strbuf_json_str(eos_strbuf *b, const char *s);
/* Append a finite v as a JSON number in the shortest of %.15g and %.17g that reads back as v
 * exactly; NaN and infinities, which JSON cannot express, as null. */
void eos_strbuf_json_num(eos_strbuf *b, double v);

/* Hand the text over: on success *out is the eos_malloc'd text ("" when nothing was appended;
 * the caller frees it with eos_free) and EOS_OK is returned. After an allocation failure at
 * any point, or when even the empty string cannot be allocated, *out is NULL and the result is
 * EOS_NOMEM. Either way b is empty afterwards (EOS_STRBUF_INIT) and may be reused. */
eos_status eos_strbuf_take(eos_strbuf *b, char **out /* OUT, eos_free */);
/* Release the text and reset b to empty. NULL is a no-op. */
void eos_strbuf_free(eos_strbuf *b);

#endif /* EOS_CORE_STRBUF_H */
