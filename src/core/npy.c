/*
 * src/core/npy.c - NumPy .npy reader and writer (see include/eosight/npy.h).
 *
 * Format: magic "\x93NUMPY", version (major, minor), a little-endian header length (2 bytes in
 * v1, 4 bytes in v2/v3), then a Python dict literal such as
 *     {'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 64, 64), }
 * padded with spaces and a newline, then the raw C-order data. The header parser below accepts
 * exactly that dict shape (keys in any order, single or double quotes) and nothing else.
 */
#include "eosight/npy.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eosight/alloc.h"

static eos_status fail(char *errbuf, size_t n, eos_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static eos_status fail(char *errbuf, size_t n, eos_status st, const char *fmt, ...) {
    if (errbuf && n) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errbuf, n, fmt, ap);
        va_end(ap);
    }
    return st;
}

static const struct { const char *descr; eos_dtype t; } k_descr[] = {
    { "<f4", EOS_DTYPE_F32 }, { "<f8", EOS_DTYPE_F64 }, { "|u1", EOS_DTYPE_U8 },
    { "|i1", EOS_DTYPE_I8 },  { "<u2", EOS_DTYPE_U16 }, { "<i2", EOS_DTYPE_I16 },
    { "<i4", EOS_DTYPE_I32 }, { "<i8", EOS_DTYPE_I64 }, { "|b1", EOS_DTYPE_BOOL },
    { "<f2", EOS_DTYPE_F16 }, { "<u1", EOS_DTYPE_U8 },  { "<i1", EOS_DTYPE_I8 },
    { "<b1", EOS_DTYPE_BOOL },
};

typedef struct cursor { const char *p, *end; } cursor;

static void skip_ws(cursor *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) c->p++;
}

static int eat(cursor *c, char ch) {
    skip_ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

/* Quoted string into out (at most cap-1 chars). */
static int read_str(cursor *c, char *out, size_t cap) {
    skip_ws(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) return 0;
    char q = *c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != q) {
        if (n + 1 >= cap) return 0;
        out[n++] = *c->p++;
    }
    if (c->p >= c->end) return 0;
    c->p++;
    out[n] = '\0';
    return 1;
}

static eos_status parse_header(const char *h, size_t len, eos_tensor *t, int *fortran, char *errbuf,
                               size_t errn) {
    cursor c = { h, h + len };
    char key[32], descr[16] = "";
    int have_descr = 0, have_order = 0, have_shape = 0;
    if (!eat(&c, '{')) return fail(errbuf, errn, EOS_PARSE, "npy: header is not a dict");
    while (!eat(&c, '}')) {
        if (!read_str(&c, key, sizeof key) || !eat(&c, ':'))
            return fail(errbuf, errn, EOS_PARSE, "npy: malformed header dict");
        skip_ws(&c);
        if (!strcmp(key, "descr")) {
            if (!read_str(&c, descr, sizeof descr)) return fail(errbuf, errn, EOS_PARSE, "npy: bad descr");
            have_descr = 1;
        } else if (!strcmp(key, "fortran_order")) {
            if ((size_t)(c.end - c.p) >= 4 && !strncmp(c.p, "True", 4)) { *fortran = 1; c.p += 4; }
            else if ((size_t)(c.end - c.p) >= 5 && !strncmp(c.p, "False", 5)) { *fortran = 0; c.p += 5; }
            else return fail(errbuf, errn, EOS_PARSE, "npy: bad fortran_order");
            have_order = 1;
        } else if (!strcmp(key, "shape")) {
            if (!eat(&c, '(')) return fail(errbuf, errn, EOS_PARSE, "npy: bad shape");
            t->ndim = 0;
            while (!eat(&c, ')')) {
                skip_ws(&c);
                if (c.p >= c.end || !isdigit((unsigned char)*c.p))
                    return fail(errbuf, errn, EOS_PARSE, "npy: bad shape entry");
                int64_t v = 0;
                while (c.p < c.end && isdigit((unsigned char)*c.p)) {
                    if (v > (INT64_MAX - 9) / 10) return fail(errbuf, errn, EOS_PARSE, "npy: dim too large");
                    v = v * 10 + (*c.p++ - '0');
                }
                if (c.p < c.end && *c.p == 'L') c.p++;
                if (t->ndim >= EOS_MAX_DIMS)
                    return fail(errbuf, errn, EOS_LIMIT, "npy: more than %d dims", EOS_MAX_DIMS);
                t->dims[t->ndim++] = v;
                eat(&c, ',');
            }
            have_shape = 1;
        } else {
            return fail(errbuf, errn, EOS_PARSE, "npy: unexpected header key '%s'", key);
        }
        eat(&c, ',');
    }
    if (!have_descr || !have_order || !have_shape)
        return fail(errbuf, errn, EOS_PARSE, "npy: header lacks descr, fortran_order or shape");
    t->dtype = EOS_DTYPE_UNDEFINED;
    for (size_t i = 0; i < sizeof k_descr / sizeof k_descr[0]; i++)
        if (!strcmp(descr, k_descr[i].descr)) t->dtype = k_descr[i].t;
    if (t->dtype == EOS_DTYPE_UNDEFINED)
        return fail(errbuf, errn, EOS_UNSUPPORTED, "npy: element type '%s' is not supported (little-endian "
                    "f2/f4/f8, u1/i1/u2/i2/i4/i8, b1 are)", descr);
    if (*fortran) return fail(errbuf, errn, EOS_UNSUPPORTED, "npy: Fortran-order arrays are not supported");
    return EOS_OK;
}

eos_status eos_npy_from_memory(const void *buf, size_t size, eos_tensor *out, char *errbuf,
                               size_t errbuf_size) {
    memset(out, 0, sizeof *out);
    const unsigned char *b = buf;
    if (!buf || size < 10 || memcmp(b, "\x93NUMPY", 6))
        return fail(errbuf, errbuf_size, EOS_PARSE, "npy: not a .npy file (bad magic)");
    int major = b[6];
    size_t hlen, off;
    if (major == 1) {
        hlen = (size_t)b[8] | (size_t)b[9] << 8;
        off = 10;
    } else if (major == 2 || major == 3) {
        if (size < 12) return fail(errbuf, errbuf_size, EOS_PARSE, "npy: truncated header");
        hlen = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
        off = 12;
    } else {
        return fail(errbuf, errbuf_size, EOS_UNSUPPORTED, "npy: format version %d is not supported", major);
    }
    if (hlen > size - off) return fail(errbuf, errbuf_size, EOS_PARSE, "npy: truncated header");
    eos_tensor t;
    memset(&t, 0, sizeof t);
    int fortran = 0;
    eos_status st = parse_header((const char *)b + off, hlen, &t, &fortran, errbuf, errbuf_size);
    if (st) return st;
    size_t nbytes = eos_tensor_nbytes(&t);
    int64_t numel = eos_tensor_numel(&t);
    if (numel < 0 || (numel > 0 && nbytes == 0))
        return fail(errbuf, errbuf_size, EOS_LIMIT, "npy: element count overflows");
    size_t avail = size - off - hlen;
    if (avail != nbytes)
        return fail(errbuf, errbuf_size, EOS_PARSE, "npy: header declares %zu data bytes, file holds %zu",
                    nbytes, avail);
    void *d = eos_malloc(nbytes ? nbytes : 1);
    if (!d) return fail(errbuf, errbuf_size, EOS_NOMEM, "npy: out of memory (%zu bytes)", nbytes);
    if (nbytes) memcpy(d, b + off + hlen, nbytes);
    t.data = d;
    *out = t;
    return EOS_OK;
}

eos_status eos_npy_read(const char *path, eos_tensor *out, char *errbuf, size_t errbuf_size) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) return fail(errbuf, errbuf_size, EOS_IO, "cannot open '%s': %s", path, strerror(errno));
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET)) {
        fclose(f);
        return fail(errbuf, errbuf_size, EOS_IO, "cannot read '%s'", path);
    }
    void *buf = eos_malloc(size ? (size_t)size : 1);
    if (!buf) {
        fclose(f);
        return fail(errbuf, errbuf_size, EOS_NOMEM, "out of memory reading '%s'", path);
    }
    size_t got = fread(buf, 1, (size_t)size, f);
    fclose(f);
    eos_status st = got == (size_t)size
                        ? eos_npy_from_memory(buf, (size_t)size, out, errbuf, errbuf_size)
                        : fail(errbuf, errbuf_size, EOS_IO, "short read on '%s'", path);
    eos_free(buf);
    if (st && errbuf && errbuf_size) {
        char tmp[256];
        snprintf(tmp, sizeof tmp, "%s", errbuf);
        snprintf(errbuf, errbuf_size, "%s: %s", path, tmp);
    }
    return st;
}

eos_status eos_npy_write(const char *path, const eos_tensor *t, char *errbuf, size_t errbuf_size) {
    const char *descr = NULL;
    for (size_t i = 0; i < sizeof k_descr / sizeof k_descr[0] && !descr; i++)
        if (k_descr[i].t == t->dtype) descr = k_descr[i].descr;
    if (!descr) return fail(errbuf, errbuf_size, EOS_UNSUPPORTED, "npy: cannot store %s", eos_dtype_name(t->dtype));
    if (t->ndim < 0 || t->ndim > EOS_MAX_DIMS) return fail(errbuf, errbuf_size, EOS_INVALID_ARG, "npy: bad rank");
    char shape[EOS_MAX_DIMS * 24 + 8] = "";
    size_t o = 0;
    for (int i = 0; i < t->ndim; i++)
        o += (size_t)snprintf(shape + o, sizeof shape - o, "%lld,%s", (long long)t->dims[i],
                              i + 1 < t->ndim ? " " : "");
    if (t->ndim > 1) shape[o - 1] = '\0'; /* "(1, 3)" rather than "(1, 3,)"; 1-D keeps its comma */
    char header[256];
    int hl = snprintf(header, sizeof header, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }",
                      descr, shape);
    if (hl < 0 || hl > 200) return fail(errbuf, errbuf_size, EOS_INTERNAL, "npy: header too long");
    size_t total = 10 + (size_t)hl + 1;
    size_t pad = (64 - total % 64) % 64;
    FILE *f = fopen(path, "wb");
    if (!f) return fail(errbuf, errbuf_size, EOS_IO, "cannot create '%s': %s", path, strerror(errno));
    unsigned char pre[10] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0 };
    size_t hlen = (size_t)hl + pad + 1;
    pre[8] = (unsigned char)(hlen & 0xff);
    pre[9] = (unsigned char)(hlen >> 8);
    size_t nbytes = eos_tensor_nbytes(t);
    int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(header, 1, (size_t)hl, f) == (size_t)hl;
    for (size_t i = 0; ok && i < pad; i++) ok = fputc(' ', f) != EOF;
    ok = ok && fputc('\n', f) != EOF;
    if (ok && nbytes) ok = fwrite(t->data, 1, nbytes, f) == nbytes;
    if (fclose(f) != 0) ok = 0;
    if (!ok) return fail(errbuf, errbuf_size, EOS_IO, "write error on '%s'", path);
    return EOS_OK;
}
