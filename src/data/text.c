/*
 * src/data/text.c - the small text machinery behind dataset label files: whole-file reading with
 * a size bound, line iteration that keeps line numbers for messages ("splits/train.txt:12: ..."),
 * CSV field splitting, integer parsing, a string map for names, and path helpers.
 *
 * Label files come from users and fuzzers alike, so nothing here trusts them: a NUL byte, an
 * unterminated quote or a number with trailing junk is an error, never undefined behaviour.
 */
#define _DEFAULT_SOURCE   /* struct dirent's d_type */
#include "data/data_internal.h"

#include <ctype.h>
#include <dirent.h>
#include <stdlib.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "eosight/alloc.h"

/* ------------------------------------------------------------------ files and lines */

eos_status eos__text_load(eos__text *t, const char *path, eos_err *err) {
    memset(t, 0, sizeof *t);
    t->path = path;
    FILE *f = fopen(path, "rb");
    if (!f) return eos_err_set(err, EOS_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 4096, len = 0;
    char *buf = eos_malloc(cap);
    eos_status st = buf ? EOS_OK : eos_err_set(err, EOS_NOMEM, "%s: out of memory", path);
    while (st == EOS_OK) {
        if (len + 1 >= cap) {
            if (cap > EOS_DATA_MAX_TEXT_BYTES) {
                st = eos_err_set(err, EOS_PARSE, "%s: larger than 1 GiB", path);
                break;
            }
            char *nb = eos_realloc(buf, cap * 2);
            if (!nb) {
                st = eos_err_set(err, EOS_NOMEM, "%s: out of memory", path);
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - 1 - len, f);
        len += n;
        if (n == 0) {
            if (ferror(f)) st = eos_err_set(err, EOS_IO, "%s: read error", path);
            break;
        }
    }
    fclose(f);
    if (st != EOS_OK) {
        eos_free(buf);
        return st;
    }
    buf[len] = '\0';
    const char *nul = memchr(buf, 0, len);
    if (nul) {
        int line = 1;
        for (const char *p = buf; p < nul; p++) line += *p == '\n';
        eos_free(buf);
        return eos_err_set(err, EOS_PARSE, "%s:%d: NUL byte (not a text file)", path, line);
    }
    t->buf = buf;
    t->len = len;
    if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3)) t->pos = 3;
    return EOS_OK;
}

void eos__text_free(eos__text *t) {
    eos_free(t->buf);
    t->buf = NULL;
}

static bool blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

char *eos__text_next(eos__text *t) {
    while (t->buf && t->pos < t->len) {
        char *s = t->buf + t->pos;
        char *nl = memchr(s, '\n', t->len - t->pos);
        char *end = nl ? nl : t->buf + t->len;
        t->pos = (size_t)(end - t->buf) + (nl ? 1 : 0);
        t->line++;
        *end = '\0';
        while (end > s && blank(end[-1])) *--end = '\0';
        while (blank(*s)) s++;
        if (*s) return s;
    }
    return NULL;
}

static char *trim(char *s) {
    while (blank(*s)) s++;
    char *e = s + strlen(s);
    while (e > s && blank(e[-1])) *--e = '\0';
    return s;
}

/* One field starting at *p (a quoted one is unquoted in place); *p moves past the separator.
 * Returns false on an unterminated quote. */
static bool csv_field(char **p, char sep, char **field, bool *more) {
    char *s = *p;
    while (blank(*s) && *s != sep) s++;
    if (*s != '"') {
        char *e = strchr(s, sep);
        *more = e != NULL;
        if (e) *e = '\0';
        *field = trim(s);
        *p = e ? e + 1 : s + strlen(s);
        return true;
    }
    char *w = s, *r = s + 1;
    for (;;) {
        if (!*r) return false;
        if (*r == '"' && r[1] == '"') {
            *w++ = '"';
            r += 2;
        } else if (*r == '"') {
            r++;
            break;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
    while (blank(*r)) r++;
    if (*r && *r != sep) return false;
    *more = *r == sep;
    *field = s;
    *p = *r ? r + 1 : r;
    return true;
}

int eos__csv_split(char *line, char sep, char **fields, int max) {
    int n = 0;
    char *p = line;
    bool more = true;
    while (more) {
        if (n >= max) return -1;
        if (!csv_field(&p, sep, &fields[n], &more)) return -1;
        n++;
    }
    return n;
}

bool eos__parse_int(const char *s, int64_t lo, int64_t hi, int64_t *out) {
    if (!s || !*s) return false;
    bool neg = *s == '-';
    const char *p = s + (neg || *s == '+');
    if (!isdigit((unsigned char)*p)) return false;
    int64_t v = 0;
    for (; *p; p++) {
        if (!isdigit((unsigned char)*p)) return false;
        if (v > (INT64_MAX - 9) / 10) return false;
        v = v * 10 + (*p - '0');
    }
    if (neg) v = -v;
    if (v < lo || v > hi) return false;
    *out = v;
    return true;
}

/* ------------------------------------------------------------------ string map */

static uint64_t fnv1a(const char *s) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    return h;
}

eos_status eos__strmap_init(eos__strmap *m, size_t n_expected) {
    memset(m, 0, sizeof *m);
    size_t cap = 16;
    while (cap < 2 * n_expected + 2) {
        if (cap > ((size_t)1 << 40)) return EOS_NOMEM;
        cap *= 2;
    }
    m->keys = eos_calloc(cap, sizeof *m->keys);
    m->vals = eos_calloc(cap, sizeof *m->vals);
    m->cap = cap;
    if (!m->keys || !m->vals) {
        eos__strmap_free(m);
        return EOS_NOMEM;
    }
    return EOS_OK;
}

void eos__strmap_free(eos__strmap *m) {
    eos_free(m->keys);
    eos_free(m->vals);
    memset(m, 0, sizeof *m);
}

static size_t slot_of(const eos__strmap *m, const char *key) {
    size_t i = (size_t)fnv1a(key) & (m->cap - 1);
    while (m->keys[i] && strcmp(m->keys[i], key)) i = (i + 1) & (m->cap - 1);
    return i;
}

static bool grow(eos__strmap *m) {
    eos__strmap g;
    if (eos__strmap_init(&g, m->cap) != EOS_OK) return false;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        size_t j = slot_of(&g, m->keys[i]);
        g.keys[j] = m->keys[i];
        g.vals[j] = m->vals[i];
        g.n++;
    }
    eos__strmap_free(m);
    *m = g;
    return true;
}

int64_t eos__strmap_put(eos__strmap *m, const char *key, int64_t val) {
    size_t i = slot_of(m, key);
    if (m->keys[i]) return m->vals[i];
    if (2 * (m->n + 1) > m->cap) {
        /* on allocation failure the map stays valid and simply fills further */
        if (grow(m)) i = slot_of(m, key);
        if (m->n + 1 >= m->cap) return -2;
    }
    m->keys[i] = key;
    m->vals[i] = val;
    m->n++;
    return -1;
}

int64_t eos__strmap_get(const eos__strmap *m, const char *key) {
    if (!m->cap) return -1;
    size_t i = slot_of(m, key);
    return m->keys[i] ? m->vals[i] : -1;
}

/* ------------------------------------------------------------------ paths */

char *eos__path_join(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    while (la > 1 && a[la - 1] == '/') la--;
    char *s = eos_malloc(la + lb + 2);
    if (!s) return NULL;
    memcpy(s, a, la);
    s[la] = '/';
    memcpy(s + la + 1, b, lb + 1);
    return s;
}

bool eos__is_image_name(const char *name) {
    static const char *const ext[] = { "jpg", "jpeg", "png", "tif", "tiff", "bmp", "gif",
                                       "jp2", "webp", NULL };
    if (name[0] == '.') return false;
    const char *dot = strrchr(name, '.');
    if (!dot) return false;
    for (int i = 0; ext[i]; i++)
        if (!strcasecmp(dot + 1, ext[i])) return true;
    return false;
}

bool eos__safe_relpath(const char *p) {
    if (!*p || *p == '/') return false;
    const char *s = p;
    for (;;) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
            return false;
        if (!e) return true;
        s = e + 1;
    }
}

bool eos__is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool eos__is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool entry_is_dir(const char *dir, const struct dirent *e) {
    if (e->d_type == DT_DIR) return true;
    if (e->d_type != DT_UNKNOWN && e->d_type != DT_LNK) return false;
    char *p = eos__path_join(dir, e->d_name);
    bool d = p && eos__is_dir(p);
    eos_free(p);
    return d;
}

void eos__names_free(char **names, int64_t n) {
    for (int64_t i = 0; names && i < n; i++) eos_free(names[i]);
    eos_free(names);
}

eos_status eos__list_dir(const char *dir, eos__list_kind kind, char ***names, int64_t *n,
                         eos_err *err) {
    *names = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return eos_err_set(err, EOS_IO, "%s: cannot list: %s", dir, strerror(errno));
    int64_t cap = 0, cnt = 0;
    char **v = NULL;
    eos_status st = EOS_OK;
    struct dirent *e;
    while (st == EOS_OK && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        bool is_dir = entry_is_dir(dir, e);
        if (kind == EOS__LIST_DIRS ? !is_dir : (is_dir || !eos__is_image_name(e->d_name)))
            continue;
        if (cnt == cap) {
            int64_t nc = cap ? cap * 2 : 64;
            char **nv = eos_realloc(v, (size_t)nc * sizeof *nv);
            if (!nv) {
                st = eos_err_set(err, EOS_NOMEM, "%s: out of memory listing", dir);
                break;
            }
            v = nv;
            cap = nc;
        }
        if (!(v[cnt] = eos_strdup(e->d_name))) st = eos_err_set(err, EOS_NOMEM, "out of memory");
        else cnt++;
    }
    closedir(d);
    if (st != EOS_OK) {
        eos__names_free(v, cnt);
        return st;
    }
    if (cnt) qsort(v, (size_t)cnt, sizeof *v, cmp_str);
    *names = v;
    *n = cnt;
    return EOS_OK;
}
