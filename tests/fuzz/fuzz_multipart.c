/*
 * tests/fuzz/fuzz_multipart.c - libFuzzer target for the multipart/form-data parser
 * (src/service/multipart.c). The input is split at its first LF: the text before it (at most
 * 300 bytes) is the Content-Type value, the rest is the body, copied to an exactly sized heap
 * block so ASan sees any read past its end. Beyond memory errors (ASan/UBSan) it checks what
 * the parser promises:
 *   - an accepted body gives 0 .. max_parts parts, each with a non-empty NUL-terminated name,
 *     a non-empty content type, filename "" unless has_filename, and data lying inside the
 *     body, after the previous part's data, and followed by its delimiter ([CR] LF "--"
 *     boundary, or "--" boundary right at the data's end when the data is empty);
 *   - svc_mp_find finds every part's name at or before the part, and svc_mp_text copies a
 *     field exactly (or refuses it with a message);
 *   - a refused body leaves *n_parts at 0 with a message and a status of the documented set.
 * Seeds: tests/fuzz/corpus/multipart.
 *
 *     build-fuzz/fuzz_multipart -max_total_time=60 tests/fuzz/corpus/multipart
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "service/multipart.h"

#define MAX_PARTS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_delim_follows(const uint8_t *body, size_t len, const svc_mp_part *p,
                                const char *boundary) {
    size_t e = (size_t)(p->data - body) + p->len, bl = strlen(boundary);
    if (e < len && body[e] == '\r') e++;
    if (e < len && body[e] == '\n') e++;
    if (len - e < 2 + bl || memcmp(body + e, "--", 2) != 0 || memcmp(body + e + 2, boundary, bl))
        abort();
}

static void check_part(const uint8_t *body, size_t len, const svc_mp_part *parts, int i,
                       const uint8_t **prev_end, const char *boundary) {
    const svc_mp_part *p = &parts[i];
    if (memchr(p->name, '\0', sizeof p->name) == NULL || p->name[0] == '\0') abort();
    if (memchr(p->filename, '\0', sizeof p->filename) == NULL) abort();
    if (memchr(p->content_type, '\0', sizeof p->content_type) == NULL) abort();
    if (p->content_type[0] == '\0') abort();
    if (!p->has_filename && (p->filename[0] || p->filename_truncated)) abort();
    if (!p->data || p->data < *prev_end || p->len > len ||
        (size_t)(p->data - body) > len - p->len)
        abort();
    *prev_end = p->data + p->len;
    check_delim_follows(body, len, p, boundary);
    const svc_mp_part *f = svc_mp_find(parts, i + 1, p->name);
    if (!f || f > p || strcmp(f->name, p->name) != 0) abort();
    char text[64];
    eos_err err = { 0 };
    eos_status st = svc_mp_text(p, text, sizeof text, &err);
    if (st == EOS_OK) {
        if (strlen(text) != p->len || memcmp(text, p->data, p->len) != 0) abort();
    } else if (text[0] != '\0' || err.msg[0] == '\0' || (st != EOS_LIMIT && st != EOS_PARSE)) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *nl = memchr(data, '\n', size < 301 ? size : 301);
    if (!nl) return 0;
    char ct[302];
    size_t cl = (size_t)(nl - data);
    memcpy(ct, data, cl);
    ct[cl] = '\0';
    size_t len = size - cl - 1;
    uint8_t *body = len ? malloc(len) : NULL;
    if (len && !body) return 0;
    if (len) memcpy(body, nl + 1, len);

    static svc_mp_part parts[MAX_PARTS];
    int n = -1;
    eos_err err = { 0 };
    eos_status st = svc_mp_parse(ct, body, len, parts, MAX_PARTS, &n, &err);
    if (st == EOS_OK) {
        char boundary[SVC_MP_BOUNDARY_MAX + 1];
        if (svc_mp_boundary(ct, boundary, sizeof boundary, NULL) != EOS_OK) abort();
        if (n < 0 || n > MAX_PARTS) abort();
        const uint8_t *prev_end = body;
        for (int i = 0; i < n; i++) check_part(body, len, parts, i, &prev_end, boundary);
    } else {
        if (n != 0 || err.msg[0] == '\0') abort();
        if (st != EOS_PARSE && st != EOS_LIMIT && st != EOS_UNSUPPORTED) abort();
    }
    free(body);
    return 0;
}
