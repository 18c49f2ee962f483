/*
 * src/service/multipart.c - multipart/form-data bodies (RFC 7578, RFC 2046) parsed in place:
 * the boundary comes from the Content-Type value, the body is scanned once for delimiter lines
 * ("--BOUNDARY" at the start of the body or right after a LF), and each part's header block is
 * read line by line (unfolded into a bounded buffer) before its data, which stays in the body.
 * Header parameter values (boundary, name, filename) share one small tokenizer. Nothing here
 * allocates; the limits and the accepted syntax are documented in multipart.h.
 */
#include "service/multipart.h"

#include <string.h>

/* ------------------------------------------------------------------ small text helpers */

static int lower(int c) { return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c; }

/* Whether the first n bytes of a equal b (n bytes) ignoring ASCII case; stops at a's NUL. */
static bool ieq_n(const char *a, const char *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (a[i] == '\0' || lower((unsigned char)a[i]) != lower((unsigned char)b[i])) return false;
    return true;
}

/* Whether a (n bytes) is the NUL-terminated word w, ignoring case. */
static bool ieq_word(const char *a, size_t n, const char *w) {
    return strlen(w) == n && ieq_n(a, w, n);
}

static bool is_ws(char c) { return c == ' ' || c == '\t'; }

static const char *skip_ws(const char *p) {
    while (is_ws(*p)) p++;
    return p;
}

/* A token character of RFC 9110 (parameter names, unquoted values), loosely: anything printable
 * that is not a separator we act on. */
static bool is_tok(char c) {
    return (unsigned char)c > 0x20 && c != 0x7f && c != ';' && c != '=' && c != '"';
}

/* One "; name=value" parameter of a header value. The value is unquoted into val; val_len
 * counts every byte of the value, also those that did not fit. */
typedef struct mp_param {
    const char *name;
    size_t      name_len;
    char        val[SVC_MP_LINE_MAX + 1];
    size_t      val_len;
} mp_param;

static void param_put(mp_param *pm, char c) {
    if (pm->val_len < SVC_MP_LINE_MAX) pm->val[pm->val_len] = c;
    pm->val_len++;
}

/* Read a quoted string starting after its opening quote; returns the byte after the closing
 * quote, or NULL when unterminated. A backslash escapes only '"' and '\'. */
static const char *read_quoted(const char *p, mp_param *pm) {
    for (; *p && *p != '"'; p++) {
        if (*p == '\\' && (p[1] == '"' || p[1] == '\\')) p++;
        param_put(pm, *p);
    }
    return *p == '"' ? p + 1 : NULL;
}

/* Parse the next parameter at *pp. Returns 1 (one read, *pp advanced), 0 (no more) or -1
 * (malformed). A trailing ';' is tolerated. */
static int next_param(const char **pp, mp_param *pm) {
    const char *p = skip_ws(*pp);
    if (*p == '\0') return 0;
    if (*p != ';') return -1;
    p = skip_ws(p + 1);
    if (*p == '\0') return 0;
    pm->name = p;
    while (is_tok(*p)) p++;
    pm->name_len = (size_t)(p - pm->name);
    p = skip_ws(p);
    if (pm->name_len == 0 || *p != '=') return -1;
    p = skip_ws(p + 1);
    pm->val_len = 0;
    if (*p == '"') {
        p = read_quoted(p + 1, pm);
        if (!p) return -1;
    } else {
        while (is_tok(*p)) param_put(pm, *p++);
    }
    pm->val[pm->val_len < SVC_MP_LINE_MAX ? pm->val_len : SVC_MP_LINE_MAX] = '\0';
    *pp = p;
    return 1;
}

/* ------------------------------------------------------------------ Content-Type */

static const char k_form[] = "multipart/form-data";

/* The text after the media type when it is multipart/form-data, else NULL. */
static const char *after_form_type(const char *ct) {
    const char *p = skip_ws(ct);
    if (!ieq_n(p, k_form, sizeof k_form - 1)) return NULL;
    p = skip_ws(p + sizeof k_form - 1);
    return (*p == '\0' || *p == ';') ? p : NULL;
}

bool svc_mp_is_form(const char *content_type) {
    return content_type && after_form_type(content_type) != NULL;
}

static eos_status check_boundary(const mp_param *pm, eos_err *err) {
    if (pm->val_len == 0) return eos_err_set(err, EOS_PARSE, "multipart boundary is empty");
    if (pm->val_len > SVC_MP_BOUNDARY_MAX)
        return eos_err_set(err, EOS_PARSE, "multipart boundary is %zu bytes long; at most %d "
                           "are allowed", pm->val_len, SVC_MP_BOUNDARY_MAX);
    for (size_t i = 0; i < pm->val_len; i++) {
        unsigned char c = (unsigned char)pm->val[i];
        if (c < 0x20 || c >= 0x7f)
            return eos_err_set(err, EOS_PARSE, "multipart boundary contains a byte that is "
                               "not printable ASCII (0x%02x)", c);
    }
    return EOS_OK;
}

eos_status svc_mp_boundary(const char *content_type, char *out, size_t size, eos_err *err) {
    if (!content_type || !out || size < SVC_MP_BOUNDARY_MAX + 1)
        return eos_err_set(err, EOS_INVALID_ARG, "svc_mp_boundary: bad arguments");
    out[0] = '\0';
    const char *p = after_form_type(content_type);
    if (!p)
        return eos_err_set(err, EOS_UNSUPPORTED, "request Content-Type is not "
                           "multipart/form-data");
    mp_param pm;
    int r;
    while ((r = next_param(&p, &pm)) == 1) {
        if (!ieq_word(pm.name, pm.name_len, "boundary")) continue;
        EOS_TRY(check_boundary(&pm, err));
        memcpy(out, pm.val, pm.val_len + 1);
        return EOS_OK;
    }
    if (r < 0)
        return eos_err_set(err, EOS_PARSE, "malformed parameters in the multipart/form-data "
                           "Content-Type");
    return eos_err_set(err, EOS_PARSE, "multipart/form-data Content-Type has no boundary "
                       "parameter");
}

/* ------------------------------------------------------------------ delimiters */

typedef struct mp_scan {
    const uint8_t *b;
    size_t         len;
    char           delim[2 + SVC_MP_BOUNDARY_MAX + 1];   /* "--" + boundary */
    size_t         dlen;
    eos_err       *err;
} mp_scan;

/* Whether a delimiter line starts at d: "--BOUNDARY" then "--" (close) or padding and a line
 * end. *next: the byte after it (after the line end; after "--" for a close delimiter). */
static bool delim_at(const mp_scan *sc, size_t d, size_t *next, bool *close) {
    if (sc->len - d < sc->dlen || memcmp(sc->b + d, sc->delim, sc->dlen) != 0) return false;
    size_t a = d + sc->dlen;
    if (sc->len - a >= 2 && sc->b[a] == '-' && sc->b[a + 1] == '-') {
        *close = true;
        *next = a + 2;
        return true;
    }
    while (a < sc->len && (sc->b[a] == ' ' || sc->b[a] == '\t')) a++;
    if (a < sc->len && sc->b[a] == '\n') {
        *next = a + 1;
    } else if (sc->len - a >= 2 && sc->b[a] == '\r' && sc->b[a + 1] == '\n') {
        *next = a + 2;
    } else {
        return false;
    }
    *close = false;
    return true;
}

/* The first delimiter line starting at or after from, at the body's start or after a LF. */
static bool find_delim(const mp_scan *sc, size_t from, size_t *d_out, size_t *next,
                       bool *close) {
    size_t d = from;
    for (;;) {
        if ((d == 0 || sc->b[d - 1] == '\n') && delim_at(sc, d, next, close)) {
            *d_out = d;
            return true;
        }
        const uint8_t *nl = d < sc->len ? memchr(sc->b + d, '\n', sc->len - d) : NULL;
        if (!nl) return false;
        d = (size_t)(nl - sc->b) + 1;
    }
}

/* ------------------------------------------------------------------ part headers */

/* Copy at most SVC_MP_NAME_MAX - 1 bytes of a filename, cut at a UTF-8 character boundary. */
static void copy_filename(svc_mp_part *part, const mp_param *pm) {
    size_t n = pm->val_len < SVC_MP_LINE_MAX ? pm->val_len : SVC_MP_LINE_MAX;
    if (n > SVC_MP_NAME_MAX - 1) {
        n = SVC_MP_NAME_MAX - 1;
        while (n > 0 && ((unsigned char)pm->val[n] & 0xC0) == 0x80) n--;
        part->filename_truncated = true;
    }
    memcpy(part->filename, pm->val, n);
    part->filename[n] = '\0';
    part->has_filename = true;
}

static eos_status disposition(svc_mp_part *part, int idx, const char *v, eos_err *err) {
    const char *p = v;
    while (is_tok(*p)) p++;
    if (!ieq_word(v, (size_t)(p - v), "form-data"))
        return eos_err_set(err, EOS_PARSE, "multipart part %d: Content-Disposition is '%.*s', "
                           "not form-data", idx, (int)(p - v < 64 ? p - v : 64), v);
    mp_param pm;
    int r;
    while ((r = next_param(&p, &pm)) == 1) {
        if (ieq_word(pm.name, pm.name_len, "name")) {
            if (pm.val_len > SVC_MP_NAME_MAX - 1)
                return eos_err_set(err, EOS_LIMIT, "multipart part %d: field name is %zu bytes "
                                   "long; at most %d are allowed", idx, pm.val_len,
                                   SVC_MP_NAME_MAX - 1);
            memcpy(part->name, pm.val, pm.val_len + 1);
        } else if (ieq_word(pm.name, pm.name_len, "filename")) {
            copy_filename(part, &pm);
        }
    }
    if (r < 0)
        return eos_err_set(err, EOS_PARSE, "multipart part %d: malformed Content-Disposition "
                           "parameters", idx);
    if (part->name[0] == '\0')
        return eos_err_set(err, EOS_PARSE, "multipart part %d has no field name "
                           "(Content-Disposition: form-data; name=\"...\")", idx);
    return EOS_OK;
}

/* One unfolded header line (NUL-terminated, n bytes). */
static eos_status header_line(svc_mp_part *part, int idx, char *line, size_t n, bool *have_cd,
                              eos_err *err) {
    char *colon = memchr(line, ':', n);
    size_t nl = colon ? (size_t)(colon - line) : 0;
    while (nl > 0 && is_ws(line[nl - 1])) nl--;
    if (nl == 0)
        return eos_err_set(err, EOS_PARSE, "multipart part %d: malformed header line (no "
                           "'Name:' before the value)", idx);
    char *v = (char *)skip_ws(colon + 1), *end = line + n;
    while (end > v && is_ws(end[-1])) *--end = '\0';
    if (ieq_word(line, nl, "Content-Disposition")) {
        if (*have_cd)
            return eos_err_set(err, EOS_PARSE, "multipart part %d has two Content-Disposition "
                               "headers", idx);
        *have_cd = true;
        return disposition(part, idx, v, err);
    }
    if (ieq_word(line, nl, "Content-Type") && *v) {
        size_t vl = (size_t)(end - v);
        if (vl > SVC_MP_TYPE_MAX - 1)
            return eos_err_set(err, EOS_LIMIT, "multipart part %d: Content-Type is %zu bytes "
                               "long; at most %d are allowed", idx, vl, SVC_MP_TYPE_MAX - 1);
        memcpy(part->content_type, v, vl + 1);
    }
    return EOS_OK;
}

/* Append bytes [a, e) of the body to the unfolded line (refusing control bytes). */
static eos_status line_append(const mp_scan *sc, int idx, char *line, size_t *ll, size_t a,
                              size_t e) {
    if (*ll + (e - a) > SVC_MP_LINE_MAX)
        return eos_err_set(sc->err, EOS_LIMIT, "multipart part %d: a header line is longer "
                           "than %d bytes", idx, SVC_MP_LINE_MAX);
    for (size_t i = a; i < e; i++) {
        uint8_t c = sc->b[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return eos_err_set(sc->err, EOS_PARSE, "multipart part %d: a header line contains "
                               "a control byte (0x%02x)", idx, c);
        line[(*ll)++] = (char)c;
    }
    line[*ll] = '\0';
    return EOS_OK;
}

/* Read the header block of part idx (1-based) starting at pos; *data_start: the byte after
 * the blank line that ends it. */
static eos_status read_headers(const mp_scan *sc, size_t pos, svc_mp_part *part, int idx,
                               size_t *data_start) {
    char line[SVC_MP_LINE_MAX + 1];
    size_t ll = 0, start = pos;
    bool have = false, have_cd = false;
    for (;;) {
        const uint8_t *nl = pos < sc->len ? memchr(sc->b + pos, '\n', sc->len - pos) : NULL;
        if (!nl)
            return eos_err_set(sc->err, EOS_PARSE, "multipart part %d: its headers do not end "
                               "with a blank line", idx);
        size_t e = (size_t)(nl - sc->b), le = e;
        if (le > pos && sc->b[le - 1] == '\r') le--;
        if (e + 1 - start > SVC_MP_HEADERS_MAX)
            return eos_err_set(sc->err, EOS_LIMIT, "multipart part %d: headers longer than %d "
                               "bytes", idx, SVC_MP_HEADERS_MAX);
        bool folded = le > pos && (sc->b[pos] == ' ' || sc->b[pos] == '\t');
        if (folded && !have)
            return eos_err_set(sc->err, EOS_PARSE, "multipart part %d: a folded header line "
                               "continues no header", idx);
        if (!folded && have) {   /* the previous header is complete */
            EOS_TRY(header_line(part, idx, line, ll, &have_cd, sc->err));
            ll = 0;
        }
        if (le == pos) {         /* the blank line */
            *data_start = e + 1;
            break;
        }
        EOS_TRY(line_append(sc, idx, line, &ll, pos, le));
        have = true;
        pos = e + 1;
    }
    if (!have_cd)
        return eos_err_set(sc->err, EOS_PARSE, "multipart part %d has no Content-Disposition "
                           "header", idx);
    return EOS_OK;
}

/* ------------------------------------------------------------------ the body */

/* The end of a part's data that runs from start up to the delimiter at d: the line end before
 * the delimiter (LF or CRLF) belongs to the delimiter. */
static size_t data_end(const mp_scan *sc, size_t start, size_t d) {
    size_t e = d;
    if (e > start && sc->b[e - 1] == '\n') e--;
    if (e > start && sc->b[e - 1] == '\r') e--;
    return e;
}

static eos_status scan_parts(mp_scan *sc, svc_mp_part *parts, int max_parts, int *n_parts) {
    size_t d, next;
    bool close;
    if (!find_delim(sc, 0, &d, &next, &close))
        return eos_err_set(sc->err, EOS_PARSE, "multipart body does not contain the boundary "
                           "given in its Content-Type");
    int n = 0;
    while (!close) {
        if (n == max_parts)
            return eos_err_set(sc->err, EOS_LIMIT, "multipart body has more than %d parts",
                               max_parts);
        svc_mp_part *part = &parts[n];
        memset(part, 0, sizeof *part);
        memcpy(part->content_type, "text/plain", sizeof "text/plain");
        size_t start = next;
        EOS_TRY(read_headers(sc, next, part, n + 1, &start));
        if (!find_delim(sc, start, &d, &next, &close))
            return eos_err_set(sc->err, EOS_PARSE, "multipart body has no closing boundary");
        part->data = sc->b + start;
        part->len = data_end(sc, start, d) - start;
        n++;
    }
    *n_parts = n;
    return EOS_OK;
}

eos_status svc_mp_parse(const char *content_type, const void *body, size_t len,
                        svc_mp_part *parts, int max_parts, int *n_parts, eos_err *err) {
    if (n_parts) *n_parts = 0;
    if (!content_type || (!body && len > 0) || (!parts && max_parts > 0) || max_parts < 0 ||
        !n_parts)
        return eos_err_set(err, EOS_INVALID_ARG, "svc_mp_parse: bad arguments");
    mp_scan sc = { .b = body, .len = len, .err = err };
    char boundary[SVC_MP_BOUNDARY_MAX + 1];
    EOS_TRY(svc_mp_boundary(content_type, boundary, sizeof boundary, err));
    sc.dlen = 2 + strlen(boundary);
    memcpy(sc.delim, "--", 2);
    memcpy(sc.delim + 2, boundary, sc.dlen - 2 + 1);
    if (len == 0)
        return eos_err_set(err, EOS_PARSE, "multipart body is empty");
    return scan_parts(&sc, parts, max_parts, n_parts);
}

/* ------------------------------------------------------------------ fields */

const svc_mp_part *svc_mp_find(const svc_mp_part *parts, int n_parts, const char *name) {
    if (!parts || !name) return NULL;
    for (int i = 0; i < n_parts; i++)
        if (strcmp(parts[i].name, name) == 0) return &parts[i];
    return NULL;
}

eos_status svc_mp_text(const svc_mp_part *part, char *buf, size_t size, eos_err *err) {
    if (!part || !buf || size == 0)
        return eos_err_set(err, EOS_INVALID_ARG, "svc_mp_text: bad arguments");
    buf[0] = '\0';
    if (part->len >= size)
        return eos_err_set(err, EOS_LIMIT, "form field '%s' is longer than %zu bytes",
                           part->name, size - 1);
    if (part->len > 0 && memchr(part->data, '\0', part->len))
        return eos_err_set(err, EOS_PARSE, "form field '%s' contains a NUL byte", part->name);
    if (part->len > 0) memcpy(buf, part->data, part->len);
    buf[part->len] = '\0';
    return EOS_OK;
}
