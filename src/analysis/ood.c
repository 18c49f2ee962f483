/*
 * src/analysis/ood.c - out-of-distribution scores at inference (include/eosight/ood.h): the
 * eosight.ood.* metadata read and checked into an eos_ood, and the score of one image's
 * features. Calibration, which writes that metadata, is src/analysis/ood_calibrate.c.
 *
 * Metadata is hostile input like any other part of a model file: every number is parsed
 * strictly, every base64 string is decoded only after its length matched the size its other
 * keys imply (so no allocation is sized by a number from the file without that check), and
 * every float must be finite. The whitening matrix is kept in double and the centroids are
 * whitened once at load (W m_k), so a score costs one triangular matrix-vector product
 * (D^2 / 2 multiply-adds) plus K D for the distances.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/ood_internal.h"
#include "eosight/alloc.h"

#define OOD_PREFIX "eosight.ood."
#define OOD_STACK  2048     /* doubles of scratch on the stack before eos_malloc is used */

struct eos_ood {
    char    *output;
    char     method[32];
    bool     full;
    int      dim, n_cent;
    float   *cent;       /* [n_cent, dim] */
    double  *w;          /* full: packed lower triangle; else the diagonal */
    double  *wcent;      /* [n_cent, dim]: W m_k */
    double   scale, threshold;
};

/* ------------------------------------------------------------------ base64 */

static const char k_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *eos__b64_encode_f32(const float *v, int64_t n) {
    size_t bytes = (size_t)n * 4, len = (bytes + 2) / 3 * 4;
    char *out = eos_malloc(len + 1);
    if (!out) return NULL;
    size_t o = 0;
    uint32_t acc = 0;
    int have = 0;
    for (size_t i = 0; i < bytes; i++) {
        uint32_t u;
        memcpy(&u, &v[i / 4], 4);
        acc = acc << 8 | ((u >> (8 * (i % 4))) & 0xffu);   /* little-endian byte i % 4 */
        if (++have == 3) {
            for (int k = 3; k >= 0; k--) out[o++] = k_b64[(acc >> (6 * k)) & 63];
            acc = 0;
            have = 0;
        }
    }
    if (have) {
        acc <<= 8 * (3 - have);
        for (int k = 3; k > 2 - have; k--) out[o++] = k_b64[(acc >> (6 * k)) & 63];
        for (int k = have; k < 3; k++) out[o++] = '=';
    }
    out[o] = '\0';
    return out;
}

static int b64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Bytes that the base64 string s (strict: padded, no blanks) decodes to, or -1. */
static int64_t b64_size(const char *s, size_t len) {
    if (len % 4) return -1;
    size_t pad = len && s[len - 1] == '=' ? (len > 1 && s[len - 2] == '=' ? 2 : 1) : 0;
    return (int64_t)(len / 4 * 3 - pad);
}

/* Decode s into n little-endian floats (n * 4 == b64_size): false on a bad character or a
 * non-finite value. */
static bool b64_decode_f32(const char *s, size_t len, float *v, int64_t n) {
    size_t bytes = (size_t)n * 4, o = 0;
    uint8_t *b = (uint8_t *)v;   /* assembled in place, then byte order fixed below */
    for (size_t i = 0; i < len; i += 4) {
        uint32_t acc = 0;
        int n_pad = 0;
        for (int k = 0; k < 4; k++) {
            char c = s[i + k];
            int d = c == '=' && i + 4 == len && k >= 2 ? 0 : b64_value(c);
            if (d < 0) return false;
            if (c == '=') n_pad++;
            else if (n_pad) return false;   /* data after padding */
            acc = acc << 6 | (uint32_t)d;
        }
        for (int k = 0; k < 3 - n_pad && o < bytes; k++) b[o++] = (uint8_t)(acc >> (16 - 8 * k));
    }
    for (int64_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 |
                     (uint32_t)b[4 * i + 2] << 16 | (uint32_t)b[4 * i + 3] << 24;
        memcpy(&v[i], &u, 4);
        if (!isfinite(v[i])) return false;
    }
    return o == bytes;
}

/* ------------------------------------------------------------------ building */

int64_t eos__ood_whiten_len(bool full, int dim) {
    return full ? (int64_t)dim * (dim + 1) / 2 : dim;
}

void eos_ood_free(eos_ood *o) {
    if (!o) return;
    eos_free(o->output);
    eos_free(o->cent);
    eos_free(o->w);
    eos_free(o->wcent);
    eos_free(o);
}

/* u = W f (u: dim doubles). */
static void whiten(const eos_ood *o, const double *f, double *u) {
    int d = o->dim;
    if (!o->full) {
        for (int i = 0; i < d; i++) u[i] = o->w[i] * f[i];
        return;
    }
    const double *row = o->w;
    for (int i = 0; i < d; i++) {
        double s = 0;
        for (int j = 0; j <= i; j++) s += row[j] * f[j];
        u[i] = s;
        row += i + 1;
    }
}

eos_status eos__ood_build(const eos__ood_spec *s, eos_ood **out, eos_err *err) {
    *out = NULL;
    int64_t nw = eos__ood_whiten_len(s->full, s->dim), nc = (int64_t)s->n_centroids * s->dim;
    eos_ood *o = eos_calloc(1, sizeof *o);
    double *f = eos_malloc((size_t)s->dim * sizeof *f);
    if (o) {
        o->output = eos_strdup(s->output);
        o->cent = eos_malloc((size_t)nc * sizeof *o->cent);
        o->w = eos_malloc((size_t)nw * sizeof *o->w);
        o->wcent = eos_malloc((size_t)nc * sizeof *o->wcent);
    }
    if (!o || !f || !o->output || !o->cent || !o->w || !o->wcent) {
        eos_free(f);
        eos_ood_free(o);
        return eos_err_set(err, EOS_NOMEM, "out of memory for the out-of-distribution model");
    }
    snprintf(o->method, sizeof o->method, "%s",
             s->full ? EOS_OOD_METHOD_FULL : EOS_OOD_METHOD_DIAG);
    o->full = s->full;
    o->dim = s->dim;
    o->n_cent = s->n_centroids;
    memcpy(o->cent, s->centroids, (size_t)nc * sizeof *o->cent);
    for (int64_t i = 0; i < nw; i++) o->w[i] = s->whiten[i];
    for (int k = 0; k < o->n_cent; k++) {
        for (int i = 0; i < o->dim; i++) f[i] = o->cent[(size_t)k * o->dim + i];
        whiten(o, f, o->wcent + (size_t)k * o->dim);
    }
    eos_free(f);
    o->scale = s->scale;
    o->threshold = s->threshold;
    *out = o;
    return EOS_OK;
}

void eos__ood_set_scale(eos_ood *o, double scale, double threshold) {
    o->scale = scale;
    o->threshold = threshold;
}

/* ------------------------------------------------------------------ scoring */

double eos__ood_distance(const eos_ood *o, const float *features, int *nearest) {
    int d = o->dim;
    double stack[OOD_STACK], *buf = 2 * (size_t)d <= OOD_STACK ? stack
                                   : eos_malloc(2 * (size_t)d * sizeof *buf);
    if (nearest) *nearest = -1;
    if (!buf) return NAN;
    double *f = buf, *u = buf + d, best = INFINITY;
    bool finite = true;
    for (int i = 0; i < d; i++) {
        f[i] = features[i];
        finite = finite && isfinite(f[i]);
    }
    if (finite) {
        whiten(o, f, u);
        for (int k = 0; k < o->n_cent; k++) {
            const double *c = o->wcent + (size_t)k * d;
            double s = 0;
            for (int i = 0; i < d; i++) s += (u[i] - c[i]) * (u[i] - c[i]);
            if (s < best) {
                best = s;
                if (nearest) *nearest = k;
            }
        }
    }
    if (buf != stack) eos_free(buf);
    return finite ? sqrt(best) : NAN;
}

double eos_ood_score(const eos_ood *o, const float *features) {
    if (!o || !features) return NAN;
    return o->scale * eos__ood_distance(o, features, NULL);
}

int eos_ood_nearest(const eos_ood *o, const float *features) {
    int k = -1;
    if (o && features) eos__ood_distance(o, features, &k);
    return k;
}

double eos_ood_threshold(const eos_ood *o) { return o ? o->threshold : NAN; }
bool eos_ood_uncertain(const eos_ood *o, double score) {
    return o && (isnan(score) || score > o->threshold);
}
int eos_ood_dim(const eos_ood *o) { return o ? o->dim : 0; }
const char *eos_ood_output_name(const eos_ood *o) { return o ? o->output : ""; }
const char *eos_ood_method(const eos_ood *o) { return o ? o->method : ""; }
int eos_ood_n_centroids(const eos_ood *o) { return o ? o->n_cent : 0; }

const float *eos_ood_centroid(const eos_ood *o, int k) {
    if (!o || k < 0 || k >= o->n_cent) return NULL;
    return o->cent + (size_t)k * o->dim;
}

int eos_ood_output_index(const eos_ood *o, const eos_model *m) {
    return o && m ? eos_model_output_index(m, o->output) : -1;
}

/* ------------------------------------------------------------------ metadata */

static bool has_ood_keys(const eos_model *m) {
    for (int i = 0; i < eos_model_n_meta(m); i++) {
        const char *k, *v;
        if (eos_model_meta_at(m, i, &k, &v) == EOS_OK &&
            !strncmp(k, OOD_PREFIX, strlen(OOD_PREFIX)))
            return true;
    }
    return false;
}

/* The value of eosight.ood.<name>, which must be present. */
static eos_status need(const eos_model *m, const char *name, const char **v, eos_err *err) {
    char key[64];
    snprintf(key, sizeof key, OOD_PREFIX "%s", name);
    *v = eos_model_meta(m, key);
    if (!*v) return eos_err_set(err, EOS_PARSE, "the model has eosight.ood.* metadata but no %s",
                                key);
    return EOS_OK;
}

/* eosight.ood.<name> as a finite number (strtod's syntax, nothing after it). */
static eos_status need_num(const eos_model *m, const char *name, double *out, eos_err *err) {
    const char *s;
    EOS_TRY(need(m, name, &s, err));
    char *end;
    *out = strtod(s, &end);
    if (end == s || *end || !isfinite(*out))
        return eos_err_set(err, EOS_PARSE, "eosight.ood.%s is '%.40s', not a finite number",
                           name, s);
    return EOS_OK;
}

/* eosight.ood.<name>: base64 of n floats (n_per > 0: any positive multiple of n_per, up to
 * max_n, with the count in *n; else exactly *n). *v from eos_malloc. */
static eos_status need_floats(const eos_model *m, const char *name, int64_t n_per, int64_t max_n,
                              float **v, int64_t *n, eos_err *err) {
    const char *s;
    *v = NULL;
    EOS_TRY(need(m, name, &s, err));
    size_t len = strlen(s);
    int64_t bytes = b64_size(s, len);
    if (bytes < 0 || bytes % 4)
        return eos_err_set(err, EOS_PARSE, "eosight.ood.%s is not base64 of f32 values "
                           "(%zu characters)", name, len);
    int64_t got = bytes / 4;
    if (n_per > 0 ? (got == 0 || got % n_per || got > max_n) : got != *n)
        return eos_err_set(err, EOS_PARSE, "eosight.ood.%s holds %lld values, expected %s%lld",
                           name, (long long)got, n_per > 0 ? "a multiple of " : "",
                           (long long)(n_per > 0 ? n_per : *n));
    if (!(*v = eos_malloc((size_t)(got > 0 ? got : 1) * sizeof **v)))
        return eos_err_set(err, EOS_NOMEM, "out of memory for eosight.ood.%s", name);
    if (!b64_decode_f32(s, len, *v, got))
        return eos_err_set(err, EOS_PARSE, "eosight.ood.%s: malformed base64 or a non-finite "
                           "value", name);
    *n = got;
    return EOS_OK;
}

/* method, output, dim, scale, threshold. */
static eos_status read_scalars(const eos_model *m, eos__ood_spec *s, eos_err *err) {
    const char *method;
    double dim;
    EOS_TRY(need(m, "method", &method, err));
    if (strcmp(method, EOS_OOD_METHOD_FULL) && strcmp(method, EOS_OOD_METHOD_DIAG))
        return eos_err_set(err, EOS_UNSUPPORTED, "eosight.ood.method is '%.40s': this eosight "
                           "knows " EOS_OOD_METHOD_FULL " and " EOS_OOD_METHOD_DIAG, method);
    s->full = !strcmp(method, EOS_OOD_METHOD_FULL);
    EOS_TRY(need(m, "output", &s->output, err));
    EOS_TRY(need_num(m, "dim", &dim, err));
    int max_dim = s->full ? EOS_OOD_MAX_FULL_DIM : EOS_OOD_MAX_DIM;
    if (dim < 1 || dim > max_dim || dim != floor(dim))
        return eos_err_set(err, EOS_PARSE, "eosight.ood.dim is %g: expected a whole number in "
                           "1..%d for %s", dim, max_dim, method);
    s->dim = (int)dim;
    EOS_TRY(need_num(m, "scale", &s->scale, err));
    if (!(s->scale > 0))
        return eos_err_set(err, EOS_PARSE, "eosight.ood.scale is %g: must be > 0", s->scale);
    EOS_TRY(need_num(m, "threshold", &s->threshold, err));
    return EOS_OK;
}

/* The features output exists, is f32, and has dim values per row where its shape says. */
static eos_status check_output(const eos_model *m, const eos__ood_spec *s, eos_err *err) {
    int i = eos_model_output_index(m, s->output);
    if (i < 0)
        return eos_err_set(err, EOS_PARSE, "eosight.ood.output names '%.100s', which is not an "
                           "output of the model", s->output);
    eos_io_info info;
    EOS_TRY(eos_model_output_info(m, i, &info));
    int64_t per = 1;
    bool known = info.ndim >= 1;
    for (int k = 1; k < info.ndim; k++) {
        known = known && info.dims[k] > 0;
        per *= info.dims[k] > 0 ? info.dims[k] : 1;
    }
    if ((info.dtype != EOS_DTYPE_F32 && info.dtype != EOS_DTYPE_UNDEFINED) ||
        (known && per != s->dim))
        return eos_err_set(err, EOS_PARSE, "the output '%.100s' named by eosight.ood.output is "
                           "not f32 with %d values per image (eosight.ood.dim)", s->output,
                           s->dim);
    return EOS_OK;
}

static eos_status parse(const eos_model *m, eos_ood **out, eos_err *err) {
    eos__ood_spec s = { 0 };
    EOS_TRY(read_scalars(m, &s, err));
    EOS_TRY(check_output(m, &s, err));
    float *cent = NULL, *w = NULL;
    int64_t n_cent = 0, n_w = eos__ood_whiten_len(s.full, s.dim);
    eos_status st = need_floats(m, "centroids", s.dim, (int64_t)EOS_OOD_MAX_CENTROIDS * s.dim,
                                &cent, &n_cent, err);
    if (st == EOS_OK) st = need_floats(m, "whiten", 0, 0, &w, &n_w, err);
    for (int i = 0; st == EOS_OK && i < s.dim; i++) {
        float wii = w[s.full ? (int64_t)i * (i + 3) / 2 : i];
        if (!(wii > 0))
            st = eos_err_set(err, EOS_PARSE, "eosight.ood.whiten: diagonal entry %d is %g, "
                             "not > 0", i, (double)wii);
    }
    if (st == EOS_OK) {
        s.n_centroids = (int)(n_cent / s.dim);
        s.centroids = cent;
        s.whiten = w;
        st = eos__ood_build(&s, out, err);
    }
    eos_free(cent);
    eos_free(w);
    return st;
}

eos_status eos_ood_from_model(eos_ctx *ctx, const eos_model *m, eos_ood **out) {
    eos__ctx_clear(ctx);
    eos_err err = { 0 };
    if (!out) return EOS_INVALID_ARG;
    *out = NULL;
    if (!m) {
        eos_err_set(&err, EOS_INVALID_ARG, "eos_ood_from_model: NULL model");
        return eos__ctx_fail(ctx, &err);
    }
    if (!has_ood_keys(m)) return EOS_OK;
    eos_status st = parse(m, out, &err);
    return st == EOS_OK ? EOS_OK : eos__ctx_fail(ctx, &err);
}
