/*
 * src/service/access.c - API keys and per-client rate limits for the service (see access.h).
 *
 * Keys live in a flat array of fixed SVC_KEY_MAX-byte, zero-padded slots so a lookup can
 * compare every byte of every slot with the same instructions whatever the key presented; the
 * match is selected without a branch. Key text is wiped before it is freed.
 *
 * The rate limiter keeps max_clients fixed entries allocated at creation: a hash table
 * (chained through entry indices, FNV-1a seeded per limiter so clients cannot aim at one
 * chain) finds a client, and a doubly linked list in "last seen" order gives the entry to
 * evict when the table is full. One mutex guards it all; a take is a hash, a short chain walk
 * and a few float operations.
 */
#include "service/access.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "eosight/alloc.h"

/* ------------------------------------------------------------------ helpers */

static void wipe(void *p, size_t n) {
    volatile unsigned char *v = p;
    while (n--) *v++ = 0;
}

static bool is_blank(char c) { return c == ' ' || c == '\t'; }

static int lower(int c) { return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c; }

/* ------------------------------------------------------------------ key table */

typedef struct key_ent {
    unsigned char key[SVC_KEY_MAX];   /* zero-padded */
    size_t        len;
    char          name[SVC_CLIENT_NAME_MAX];
    int           line;
} key_ent;

struct svc_keys {
    key_ent *e;
    int      n, cap;
};

void svc_keys_free(svc_keys *k) {
    if (!k) return;
    if (k->e) wipe(k->e, (size_t)k->cap * sizeof *k->e);
    eos_free(k->e);
    eos_free(k);
}

int svc_keys_count(const svc_keys *k) { return k ? k->n : 0; }

const char *svc_keys_name(const svc_keys *k, int i) {
    return (k && i >= 0 && i < k->n) ? k->e[i].name : NULL;
}

int svc_keys_line(const svc_keys *k, int i) {
    return (k && i >= 0 && i < k->n) ? k->e[i].line : 0;
}

/* A slot for one more key (growing the array) into *out. */
static eos_status keys_push(svc_keys *k, const char *source, key_ent **out, eos_err *err) {
    if (k->n == SVC_KEYS_MAX)
        return eos_err_set(err, EOS_LIMIT, "API key file '%s' holds more than %d keys", source,
                           SVC_KEYS_MAX);
    if (k->n == k->cap) {
        int cap = k->cap ? 2 * k->cap : 16;
        key_ent *e = eos_calloc((size_t)cap, sizeof *e);
        if (!e)
            return eos_err_set(err, EOS_NOMEM, "out of memory loading API key file '%s'",
                               source);
        if (k->n) memcpy(e, k->e, (size_t)k->n * sizeof *e);
        if (k->e) wipe(k->e, (size_t)k->cap * sizeof *k->e);
        eos_free(k->e);
        k->e = e;
        k->cap = cap;
    }
    *out = &k->e[k->n];
    return EOS_OK;
}

/* Check the key k (n bytes) of line `line`. */
static eos_status check_key(const char *key, size_t n, const char *source, int line,
                            eos_err *err) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c < 0x21 || c > 0x7e)
            return eos_err_set(err, EOS_PARSE, "API key file '%s' line %d: the key contains a "
                               "byte that is not printable ASCII (0x%02x at column %zu)",
                               source, line, c, i + 1);
    }
    if (n < SVC_KEY_MIN || n > SVC_KEY_MAX)
        return eos_err_set(err, EOS_PARSE, "API key file '%s' line %d: the key is %zu "
                           "characters long; keys have %d to %d", source, line, n, SVC_KEY_MIN,
                           SVC_KEY_MAX);
    return EOS_OK;
}

static eos_status check_name(const char *name, size_t n, const char *source, int line,
                             eos_err *err) {
    if (n > SVC_CLIENT_NAME_MAX - 1)
        return eos_err_set(err, EOS_PARSE, "API key file '%s' line %d: the client name is %zu "
                           "bytes long; at most %d are allowed", source, line, n,
                           SVC_CLIENT_NAME_MAX - 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return eos_err_set(err, EOS_PARSE, "API key file '%s' line %d: the client name "
                               "contains a control byte (0x%02x)", source, line, c);
    }
    return EOS_OK;
}

/* One line [p, e) (no line end) of the file. */
static eos_status keys_line(svc_keys *k, const char *p, const char *e, const char *source,
                            int line, eos_err *err) {
    while (p < e && is_blank(*p)) p++;
    while (e > p && is_blank(e[-1])) e--;
    if (p == e || *p == '#') return EOS_OK;
    const char *kend = p;
    while (kend < e && !is_blank(*kend)) kend++;
    size_t kl = (size_t)(kend - p);
    EOS_TRY(check_key(p, kl, source, line, err));
    const char *name = kend;
    while (name < e && is_blank(*name)) name++;
    EOS_TRY(check_name(name, (size_t)(e - name), source, line, err));
    for (int i = 0; i < k->n; i++)
        if (k->e[i].len == kl && memcmp(k->e[i].key, p, kl) == 0)
            return eos_err_set(err, EOS_PARSE, "API key file '%s' line %d: the same key as "
                               "line %d", source, line, k->e[i].line);
    key_ent *ent = NULL;
    EOS_TRY(keys_push(k, source, &ent, err));
    memset(ent, 0, sizeof *ent);
    memcpy(ent->key, p, kl);
    ent->len = kl;
    memcpy(ent->name, name, (size_t)(e - name));
    ent->line = line;
    k->n++;
    return EOS_OK;
}

static eos_status keys_parse(svc_keys *k, const char *text, size_t len, const char *source,
                             eos_err *err) {
    if (len > SVC_KEYS_FILE_MAX)
        return eos_err_set(err, EOS_LIMIT, "API key file '%s' is %zu bytes; at most %d are "
                           "allowed", source, len, SVC_KEYS_FILE_MAX);
    size_t pos = 0;
    for (int line = 1; pos < len; line++) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t e = nl ? (size_t)(nl - text) : len, le = e;
        if (le > pos && text[le - 1] == '\r') le--;
        EOS_TRY(keys_line(k, text + pos, text + le, source, line, err));
        pos = e + 1;
    }
    if (k->n == 0)
        return eos_err_set(err, EOS_PARSE, "API key file '%s' holds no key", source);
    return EOS_OK;
}

eos_status svc_keys_from_memory(const char *text, size_t len, const char *source,
                                svc_keys **out, eos_err *err) {
    if (!out || (!text && len))
        return eos_err_set(err, EOS_INVALID_ARG, "svc_keys_from_memory: bad arguments");
    *out = NULL;
    if (!source) source = "(memory)";
    svc_keys *k = eos_calloc(1, sizeof *k);
    if (!k) return eos_err_set(err, EOS_NOMEM, "out of memory loading API key file '%s'", source);
    eos_status st = keys_parse(k, text, len, source, err);
    if (st != EOS_OK) {
        svc_keys_free(k);
        return st;
    }
    *out = k;
    return EOS_OK;
}

static void perm_warning(const char *path, mode_t mode, char *warning, size_t size) {
    if (!warning || size == 0) return;
    warning[0] = '\0';
    if (mode & (S_IRGRP | S_IROTH | S_IWGRP | S_IWOTH))
        snprintf(warning, size, "API key file '%s' can be read or written by other users "
                 "(mode 0%03o): chmod 600 it", path, (unsigned)(mode & 0777));
}

/* Read the whole file f (st_size bytes) into a buffer of ours. */
static eos_status read_all(FILE *f, const char *path, size_t size, char **out, eos_err *err) {
    char *buf = eos_malloc(size + 1);
    if (!buf) return eos_err_set(err, EOS_NOMEM, "out of memory reading '%s'", path);
    size_t got = fread(buf, 1, size, f);
    if (got != size || ferror(f)) {
        wipe(buf, size);
        eos_free(buf);
        return eos_err_set(err, EOS_IO, "cannot read API key file '%s'", path);
    }
    *out = buf;
    return EOS_OK;
}

eos_status svc_keys_load(const char *path, svc_keys **out, char *warning, size_t warning_size,
                         eos_err *err) {
    if (warning && warning_size) warning[0] = '\0';
    if (!path || !out) return eos_err_set(err, EOS_INVALID_ARG, "svc_keys_load: bad arguments");
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return eos_err_set(err, EOS_IO, "cannot open API key file '%s'", path);
    struct stat sb;
    eos_status st = EOS_OK;
    char *text = NULL;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode))
        st = eos_err_set(err, EOS_IO, "API key file '%s' is not a regular file", path);
    else if (sb.st_size > SVC_KEYS_FILE_MAX)
        st = eos_err_set(err, EOS_LIMIT, "API key file '%s' is %lld bytes; at most %d are "
                         "allowed", path, (long long)sb.st_size, SVC_KEYS_FILE_MAX);
    else
        st = read_all(f, path, (size_t)sb.st_size, &text, err);
    fclose(f);
    if (st != EOS_OK) return st;
    st = svc_keys_from_memory(text, (size_t)sb.st_size, path, out, err);
    wipe(text, (size_t)sb.st_size);
    eos_free(text);
    if (st == EOS_OK) perm_warning(path, sb.st_mode, warning, warning_size);
    return st;
}

/* The key presented in the headers, trimmed, into buf (zero-padded); its length, or 0 when no
 * key was presented, or SVC_KEY_MAX + 1 when the presented one is too long to be any key. */
static size_t presented_key(const char *authorization, const char *x_api_key,
                            unsigned char buf[SVC_KEY_MAX]) {
    const char *p = NULL;
    if (authorization) {
        const char *a = authorization;
        while (is_blank(*a)) a++;
        static const char bearer[] = "bearer";
        size_t i = 0;
        while (i < sizeof bearer - 1 && lower((unsigned char)a[i]) == bearer[i]) i++;
        if (i == sizeof bearer - 1 && is_blank(a[i])) p = a + i;
    }
    if (!p) p = x_api_key;
    if (!p) return 0;
    while (is_blank(*p)) p++;
    size_t n = strlen(p);
    while (n > 0 && is_blank(p[n - 1])) n--;
    if (n > SVC_KEY_MAX) return SVC_KEY_MAX + 1;
    memcpy(buf, p, n);
    return n;
}

int svc_keys_lookup(const svc_keys *k, const char *authorization, const char *x_api_key) {
    if (!k) return -1;
    unsigned char cand[SVC_KEY_MAX] = { 0 };
    size_t cl = presented_key(authorization, x_api_key, cand);
    if (cl == 0 || cl > SVC_KEY_MAX) return -1;
    size_t match = 0;   /* index + 1 of the matching key; keys are unique */
    for (int i = 0; i < k->n; i++) {
        const key_ent *e = &k->e[i];
        size_t diff = e->len ^ cl;
        for (size_t j = 0; j < SVC_KEY_MAX; j++) diff |= (size_t)(e->key[j] ^ cand[j]);
        size_t eq = ((diff | (0 - diff)) >> (sizeof diff * 8 - 1)) ^ 1;   /* 1 iff diff == 0 */
        match |= ((size_t)i + 1) & (0 - eq);
    }
    wipe(cand, sizeof cand);
    return (int)match - 1;
}

/* ------------------------------------------------------------------ rate limiter */

typedef struct rl_ent {
    char     id[SVC_CLIENT_ID_MAX];
    uint64_t hash;
    double   tokens, t_last;
    int      hnext;        /* next entry of the hash chain, -1 */
    int      prev, next;   /* last-seen list: prev is more recent */
} rl_ent;

struct svc_ratelimit {
    pthread_mutex_t mu;
    double          rate, burst;
    int             max, n;
    rl_ent         *e;
    int            *bucket;      /* chain heads, -1 */
    size_t          n_buckets;   /* power of two */
    int             head, tail;  /* most / least recently seen, -1 */
    uint64_t        seed;
};

static uint64_t fnv1a(uint64_t h, const char *s) {
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* The id as stored: the id itself, or a prefix and a hash of the whole for long ids. */
static void norm_id(const char *client, char out[SVC_CLIENT_ID_MAX]) {
    size_t n = strlen(client);
    if (n < SVC_CLIENT_ID_MAX) {
        memcpy(out, client, n + 1);
        return;
    }
    snprintf(out, SVC_CLIENT_ID_MAX, "%.40s~%016llx", client,
             (unsigned long long)fnv1a(0xcbf29ce484222325ULL, client));
}

eos_status svc_ratelimit_create(double rate_per_s, double burst, int max_clients,
                                svc_ratelimit **out, eos_err *err) {
    if (!out || !(rate_per_s > 0) || !isfinite(rate_per_s) || !(burst >= 1) ||
        !isfinite(burst) || max_clients < 1 || max_clients > 10000000)
        return eos_err_set(err, EOS_INVALID_ARG, "rate limit: need a rate > 0, a burst >= 1 "
                           "and 1 to 10000000 clients (got %g/s, burst %g, %d clients)",
                           rate_per_s, burst, max_clients);
    *out = NULL;
    svc_ratelimit *rl = eos_calloc(1, sizeof *rl);
    size_t nb = 16;
    while (nb < 2 * (size_t)max_clients) nb *= 2;
    if (rl) {
        rl->e = eos_calloc((size_t)max_clients, sizeof *rl->e);
        rl->bucket = eos_malloc(nb * sizeof *rl->bucket);
    }
    if (!rl || !rl->e || !rl->bucket || pthread_mutex_init(&rl->mu, NULL) != 0) {
        if (rl) eos_free(rl->e);
        if (rl) eos_free(rl->bucket);
        eos_free(rl);
        return eos_err_set(err, EOS_NOMEM, "out of memory for a rate limiter of %d clients",
                           max_clients);
    }
    for (size_t i = 0; i < nb; i++) rl->bucket[i] = -1;
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    rl->seed = 0xcbf29ce484222325ULL ^ ((uint64_t)t.tv_nsec << 20) ^ (uint64_t)t.tv_sec ^
               (uint64_t)(uintptr_t)rl;
    rl->n_buckets = nb;
    rl->rate = rate_per_s;
    rl->burst = burst;
    rl->max = max_clients;
    rl->head = rl->tail = -1;
    *out = rl;
    return EOS_OK;
}

void svc_ratelimit_free(svc_ratelimit *rl) {
    if (!rl) return;
    pthread_mutex_destroy(&rl->mu);
    eos_free(rl->e);
    eos_free(rl->bucket);
    eos_free(rl);
}

int svc_ratelimit_n_clients(svc_ratelimit *rl) {
    if (!rl) return 0;
    pthread_mutex_lock(&rl->mu);
    int n = rl->n;
    pthread_mutex_unlock(&rl->mu);
    return n;
}

static void lru_unlink(svc_ratelimit *rl, int i) {
    rl_ent *x = &rl->e[i];
    if (x->prev >= 0) rl->e[x->prev].next = x->next; else rl->head = x->next;
    if (x->next >= 0) rl->e[x->next].prev = x->prev; else rl->tail = x->prev;
}

static void lru_push_front(svc_ratelimit *rl, int i) {
    rl_ent *x = &rl->e[i];
    x->prev = -1;
    x->next = rl->head;
    if (rl->head >= 0) rl->e[rl->head].prev = i; else rl->tail = i;
    rl->head = i;
}

static void hash_unlink(svc_ratelimit *rl, int i) {
    int *p = &rl->bucket[rl->e[i].hash & (rl->n_buckets - 1)];
    while (*p != i) p = &rl->e[*p].hnext;
    *p = rl->e[i].hnext;
}

static int hash_find(const svc_ratelimit *rl, uint64_t h, const char *id) {
    for (int i = rl->bucket[h & (rl->n_buckets - 1)]; i >= 0; i = rl->e[i].hnext)
        if (rl->e[i].hash == h && strcmp(rl->e[i].id, id) == 0) return i;
    return -1;
}

/* The entry of id: found (moved to the front of the last-seen list) or made, evicting the
 * least recently seen client when the table is full. */
static rl_ent *rl_entry(svc_ratelimit *rl, const char *id, uint64_t h, double now_s) {
    int i = hash_find(rl, h, id);
    if (i >= 0) {
        lru_unlink(rl, i);
    } else {
        if (rl->n < rl->max) {
            i = rl->n++;
        } else {
            i = rl->tail;
            lru_unlink(rl, i);
            hash_unlink(rl, i);
        }
        rl_ent *x = &rl->e[i];
        memcpy(x->id, id, SVC_CLIENT_ID_MAX);
        x->hash = h;
        x->tokens = rl->burst;
        x->t_last = now_s;
        size_t b = h & (rl->n_buckets - 1);
        x->hnext = rl->bucket[b];
        rl->bucket[b] = i;
    }
    lru_push_front(rl, i);
    return &rl->e[i];
}

bool svc_ratelimit_take(svc_ratelimit *rl, const char *client, double now_s,
                        double *retry_after_s) {
    char id[SVC_CLIENT_ID_MAX] = { 0 };
    norm_id(client ? client : "", id);
    pthread_mutex_lock(&rl->mu);
    rl_ent *x = rl_entry(rl, id, fnv1a(rl->seed, id), now_s);
    double dt = now_s - x->t_last;
    if (dt > 0) {
        x->tokens = fmin(rl->burst, x->tokens + dt * rl->rate);
        x->t_last = now_s;
    }
    bool ok = x->tokens >= 1;
    double wait = 0;
    if (ok) x->tokens -= 1;
    else wait = (1 - x->tokens) / rl->rate;
    pthread_mutex_unlock(&rl->mu);
    if (retry_after_s) *retry_after_s = wait;
    return ok;
}

/* ------------------------------------------------------------------ access */

struct svc_access {
    svc_keys      *keys;
    svc_ratelimit *rl;
    double         rate, burst;
    double       (*now)(void *cls);
    void          *now_cls;
};

static double monotonic_s(void *cls) {
    (void)cls;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

eos_status svc_access_create(const svc_access_params *p, svc_access **out, char *warning,
                             size_t warning_size, eos_err *err) {
    if (warning && warning_size) warning[0] = '\0';
    if (!p || !out) return eos_err_set(err, EOS_INVALID_ARG, "svc_access_create: bad arguments");
    *out = NULL;
    if (!isfinite(p->rate_per_s) || !isfinite(p->burst))
        return eos_err_set(err, EOS_INVALID_ARG, "rate limit: the rate and burst must be "
                           "finite numbers");
    svc_access *a = eos_calloc(1, sizeof *a);
    if (!a) return eos_err_set(err, EOS_NOMEM, "out of memory");
    a->now = p->now ? p->now : monotonic_s;
    a->now_cls = p->now_cls;
    eos_status st = EOS_OK;
    if (p->key_file) st = svc_keys_load(p->key_file, &a->keys, warning, warning_size, err);
    if (st == EOS_OK && p->rate_per_s > 0) {
        a->rate = p->rate_per_s;
        a->burst = p->burst > 0 ? p->burst : 2 * p->rate_per_s;
        if (a->burst < 1) a->burst = 1;
        st = svc_ratelimit_create(a->rate, a->burst, p->max_clients > 0 ? p->max_clients : 10000,
                                  &a->rl, err);
    }
    if (st != EOS_OK) {
        svc_access_free(a);
        return st;
    }
    *out = a;
    return EOS_OK;
}

void svc_access_free(svc_access *a) {
    if (!a) return;
    svc_keys_free(a->keys);
    svc_ratelimit_free(a->rl);
    eos_free(a);
}

bool svc_access_keys_required(const svc_access *a) { return a && a->keys; }

svc_access_verdict svc_access_check(svc_access *a, const char *authorization,
                                    const char *x_api_key, const char *client_addr,
                                    svc_access_result *res) {
    memset(res, 0, sizeof *res);
    res->key = -1;
    char id[32];
    const char *client = client_addr ? client_addr : "";
    if (a && a->keys) {
        res->key = svc_keys_lookup(a->keys, authorization, x_api_key);
        if (res->key < 0) {
            unsigned char tmp[SVC_KEY_MAX];
            bool sent = presented_key(authorization, x_api_key, tmp) > 0;
            wipe(tmp, sizeof tmp);
            snprintf(res->message, sizeof res->message, "%s", sent ? "the API key is not valid"
                     : "this server needs an API key: send the header \"Authorization: Bearer "
                       "KEY\" or \"X-API-Key: KEY\"");
            return res->verdict = SVC_ACCESS_UNAUTHORIZED;
        }
        res->client_name = svc_keys_name(a->keys, res->key);
        snprintf(id, sizeof id, "key:%d", res->key);
        client = id;
    }
    if (a && a->rl && !svc_ratelimit_take(a->rl, client, a->now(a->now_cls), &res->retry_after_s)) {
        double c = ceil(res->retry_after_s);
        res->retry_after_header = c < 1 ? 1 : c > 86400 ? 86400 : (int)c;
        snprintf(res->message, sizeof res->message, "rate limit exceeded (%g requests per second, "
                 "bursts of %g): retry in %d s", a->rate, a->burst, res->retry_after_header);
        return res->verdict = SVC_ACCESS_LIMITED;
    }
    return res->verdict = SVC_ACCESS_ALLOW;
}
