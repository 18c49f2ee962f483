/*
 * src/analysis/infer.c - the model-running pieces shared by evaluation and the analyses
 * (src/analysis/infer.h): comma lists, D4 transforms, the TTA runner and the progress bar.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analysis/infer.h"
#include "eosight/alloc.h"

#ifdef _OPENMP
#include <omp.h>
int eos__infer_threads(int n) { return n > 0 ? n : omp_get_max_threads(); }
#else
int eos__infer_threads(int n) { return n > 0 ? n : 1; }
#endif

/* ------------------------------------------------------------------ comma lists */

int eos__list_len(const char *s) {
    if (!*s) return 0;
    int n = 1;
    for (; *s; s++) n += *s == ',';
    return n;
}

void eos__list_at(const char *s, int i, const char **p, size_t *len) {
    for (; i > 0; i--) s = strchr(s, ',') + 1;
    const char *e = strchr(s, ',');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    while (n && (*s == ' ' || *s == '\t')) s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    *p = s;
    *len = n;
}

bool eos__list_num(const char *s, int i, double *v) {
    const char *p;
    size_t n;
    eos__list_at(s, i, &p, &n);
    char buf[64], *end;
    if (n == 0 || n >= sizeof buf) return false;
    memcpy(buf, p, n);
    buf[n] = '\0';
    *v = strtod(buf, &end);
    return *end == '\0' && isfinite(*v);
}

/* ------------------------------------------------------------------ D4 transforms */

/* Where out[y][x] of D4 element t reads from in (h x w). */
static void d4_src(int t, int h, int w, int y, int x, int *sy, int *sx) {
    int yy = y, xx = x;
    switch (t & 3) {
    case 1: yy = x; xx = w - 1 - y; break;
    case 2: yy = h - 1 - y; xx = w - 1 - x; break;
    case 3: yy = h - 1 - x; xx = y; break;
    default: break;
    }
    if (t & 4) xx = w - 1 - xx;
    *sy = yy;
    *sx = xx;
}

/* Every D4 map is affine: in-plane source offset of out[y][x] = base + y * dy + x * dx. */
typedef struct d4_map { int64_t base, dy, dx; } d4_map;

static d4_map d4_affine(int t, int h, int w) {
    int y0, x0, y1, x1, y2, x2;
    d4_src(t, h, w, 0, 0, &y0, &x0);
    d4_src(t, h, w, 0, 1, &y1, &x1);
    d4_src(t, h, w, 1, 0, &y2, &x2);
    d4_map m;
    m.base = (int64_t)y0 * w + x0;
    m.dx = (int64_t)y1 * w + x1 - m.base;
    m.dy = (int64_t)y2 * w + x2 - m.base;
    return m;
}

void eos__tta_apply(int t, const float *src, float *dst, int64_t n_planes, int h, int w, int nt) {
    d4_map m = d4_affine(t, h, w);
    int64_t rows = n_planes * h, plane = (int64_t)h * w;
    (void)nt;
    EOS_OMP_FOR(nt, rows * w)
    for (int64_t r = 0; r < rows; r++) {
        int64_t p = r / h, y = r % h;
        const float *s = src + p * plane + m.base + y * m.dy;
        float *d = dst + r * w;
        for (int64_t x = 0; x < w; x++) d[x] = s[x * m.dx];
    }
}

/* Each output row scatters to distinct pixels, so rows run in parallel. */
void eos__tta_scatter_add(int t, const float *src, float *acc, int64_t n_planes, int h, int w,
                         int nt) {
    d4_map m = d4_affine(t, h, w);
    int64_t rows = n_planes * h, plane = (int64_t)h * w;
    (void)nt;
    EOS_OMP_FOR(nt, rows * w)
    for (int64_t r = 0; r < rows; r++) {
        int64_t p = r / h, y = r % h;
        float *a = acc + p * plane + m.base + y * m.dy;
        const float *s = src + r * w;
        for (int64_t x = 0; x < w; x++) a[x * m.dx] += s[x];
    }
}

int eos__tta_list(int n_tta, int h, int w, int *t) {
    int n = 0;
    bool sq = h == w;
    int all = n_tta >= 8 ? 8 : n_tta >= 4 ? 4 : 1;
    for (int k = 0; k < all; k++)
        if (sq || (k & 1) == 0) t[n++] = k;
    return n;
}

/* ------------------------------------------------------------------ runner */

bool eos__grow_f(float **buf, size_t *cap, size_t n) {
    if (n <= *cap) return true;
    float *b = eos_realloc(*buf, n * sizeof *b);
    if (!b) return false;
    *buf = b;
    *cap = n;
    return true;
}

bool eos__grow_u8(uint8_t **buf, size_t *cap, size_t n) {
    if (n <= *cap) return true;
    uint8_t *b = eos_realloc(*buf, n);
    if (!b) return false;
    *buf = b;
    *cap = n;
    return true;
}

eos_status eos__runner_init(eos_runner *r, const eos_model *m, int n_threads, eos_err *err) {
    eos_session_params sp = eos_session_default_params();
    sp.n_threads = n_threads;
    eos_status st = eos_session_create(m, &sp, &r->s);
    if (st != EOS_OK) return eos_err_set(err, st, "cannot create an inference session");
    eos_io_info in;
    r->fixed_n = 0;
    if (eos_model_n_inputs(m) > 0 && eos_model_input_info(m, 0, &in) == EOS_OK && in.ndim > 0 &&
        in.dims[0] > 0)
        r->fixed_n = in.dims[0] > INT32_MAX ? INT32_MAX : (int)in.dims[0];
    if (r->n_threads <= 0) r->n_threads = eos__infer_threads(n_threads);
    if (r->n_tta <= 0) r->n_tta = 1;
    return EOS_OK;
}

void eos__runner_free(eos_runner *r) {
    if (!r) return;
    eos_session_free(r->s);
    eos_free(r->xt);
    eos_free(r->p);
    eos_free(r->feat);
    r->s = NULL;
    r->xt = r->p = r->feat = NULL;
    r->xt_cap = r->p_cap = r->feat_cap = 0;
}

void eos__to_probs(float *y, int64_t n, int C, int64_t per, eos_out_kind kind, int nt) {
    if (kind == EOS_OUT_PROBS) return;
    int64_t total = n * C * per, cells = n * per;
    (void)nt;
    if (kind == EOS_OUT_SIGMOID) {
        EOS_OMP_FOR(nt, total)
        for (int64_t i = 0; i < total; i++) y[i] = 1.0f / (1.0f + expf(-y[i]));
        return;
    }
    EOS_OMP_FOR(nt, total)
    for (int64_t i = 0; i < cells; i++) {
        float *v = y + (i / per) * C * per + i % per;
        float mx = v[0], sum = 0;
        for (int c = 1; c < C; c++) mx = fmaxf(mx, v[c * per]);
        for (int c = 0; c < C; c++) sum += (v[c * per] = expf(v[c * per] - mx));
        for (int c = 0; c < C; c++) v[c * per] /= sum;
    }
}

/* The output must be [n, C] ([n, C, 1, 1] also) for image tasks, [n, C, h, w] when dense. */
static eos_status check_output(const eos_runner *r, const eos_tensor *y, int n, bool dense, int h,
                               int w, eos_err *err) {
    char got[128];
    eos_shape_str(y->ndim, y->dims, got, sizeof got);
    if (y->dtype != EOS_DTYPE_F32)
        return eos_err_set(err, EOS_TYPE, "the model's output is %s, not f32",
                           eos_dtype_name(y->dtype));
    bool ok = y->ndim >= 2 && y->dims[0] == n && y->dims[1] == r->n_classes;
    if (dense) ok = ok && y->ndim == 4 && y->dims[2] == h && y->dims[3] == w;
    else ok = ok && eos_tensor_numel(y) == (int64_t)n * r->n_classes;
    if (ok) return EOS_OK;
    if (dense)
        return eos_err_set(err, EOS_SHAPE, "the model's output is %s for a %d x %d input, expected "
                           "[%d x %d x %d x %d] (%d classes)", got, h, w, n, r->n_classes, h, w,
                           r->n_classes);
    return eos_err_set(err, EOS_SHAPE, "the model's output is %s, expected [%d x %d] (%d "
                       "classes)", got, n, r->n_classes, r->n_classes);
}

/* Copy the feature output of the last run into r->feat. */
static eos_status copy_features(eos_runner *r, int n, eos_err *err) {
    eos_tensor f;
    EOS_TRY(eos_session_output(r->s, r->feat_output, &f));
    int64_t numel = eos_tensor_numel(&f);
    if (f.dtype != EOS_DTYPE_F32 || f.ndim < 1 || f.dims[0] != n || numel % n)
        return eos_err_set(err, EOS_SHAPE, "the model's feature output is not f32 [%d x D]", n);
    r->feat_dim = (int)(numel / n);
    if (!eos__grow_f(&r->feat, &r->feat_cap, (size_t)numel))
        return eos_err_set(err, EOS_NOMEM, "out of memory for features");
    memcpy(r->feat, f.data, (size_t)numel * sizeof(float));
    return EOS_OK;
}

/* One run; dst gets the outputs as probabilities (raw when probs is false). */
static eos_status run_once(eos_runner *r, const float *x, int n, int c, int h, int w, bool dense,
                           bool probs, bool feats, float *dst, eos_err *err) {
    eos_tensor in = { EOS_DTYPE_F32, 4, { n, c, h, w }, (void *)x };
    eos_status st = eos_session_run(r->s, &in, 1);
    if (st != EOS_OK) return eos_err_set(err, st, "%s", eos_session_errmsg(r->s));
    eos_tensor y;
    EOS_TRY(eos_session_output(r->s, 0, &y));
    EOS_TRY(check_output(r, &y, n, dense, h, w, err));
    int64_t per = dense ? (int64_t)h * w : 1, total = (int64_t)n * r->n_classes * per;
    const float *src = y.data;
    int bad = 0;
    EOS_OMP_FOR_OR(r->n_threads, total, bad)
    for (int64_t i = 0; i < total; i++) {
        dst[i] = src[i];
        bad |= !isfinite(src[i]);
    }
    if (bad)
        return eos_err_set(err, EOS_NUMERIC, "the model produced NaN or infinite outputs");
    if (feats && r->feat_output >= 0) EOS_TRY(copy_features(r, n, err));
    if (probs) eos__to_probs(dst, n, r->n_classes, per, r->kind, r->n_threads);
    return EOS_OK;
}

/* Append the features of the first k images of the last run to *acc (*n_acc rows so far). */
static eos_status gather_features(const eos_runner *r, int k, float **acc, size_t *n_acc,
                                  eos_err *err) {
    size_t d = (size_t)r->feat_dim;
    float *f = eos_realloc(*acc, (*n_acc + (size_t)k) * d * sizeof *f);
    if (!f) return eos_err_set(err, EOS_NOMEM, "out of memory for features");
    memcpy(f + *n_acc * d, r->feat, (size_t)k * d * sizeof *f);
    *acc = f;
    *n_acc += (size_t)k;
    return EOS_OK;
}

/* n images through a model whose batch size is fixed at r->fixed_n: chunks of that size, the
 * last one padded with zero images (their outputs are dropped); features gathered. */
static eos_status run_chunked(eos_runner *r, const float *x, int n, int c, int h, int w,
                              bool dense, float *out, eos_err *err) {
    int B = r->fixed_n;
    size_t in_per = (size_t)c * (size_t)h * (size_t)w;
    size_t out_per = (size_t)r->n_classes * (dense ? (size_t)h * (size_t)w : 1);
    float *xb = NULL, *yb = NULL, *feat = NULL;
    size_t n_feat = 0;
    eos_status st = EOS_OK;
    if (n % B && (!(xb = eos_calloc((size_t)B * in_per, sizeof *xb)) ||
                  !(yb = eos_malloc((size_t)B * out_per * sizeof *yb))))
        st = eos_err_set(err, EOS_NOMEM, "out of memory for a batch of %d (the model's fixed "
                         "batch size)", B);
    for (int i = 0; st == EOS_OK && i < n; i += B) {
        int k = n - i < B ? n - i : B;
        const float *xi = x + (size_t)i * in_per;
        float *yi = out + (size_t)i * out_per;
        if (k < B) memcpy(xb, xi, (size_t)k * in_per * sizeof *xb);   /* only the last chunk */
        st = eos__runner_run(r, k < B ? xb : xi, B, c, h, w, dense, k < B ? yb : yi, err);
        if (st == EOS_OK && k < B) memcpy(yi, yb, (size_t)k * out_per * sizeof *yb);
        if (st == EOS_OK && r->feat_output >= 0) st = gather_features(r, k, &feat, &n_feat, err);
    }
    if (st == EOS_OK && feat) {
        eos_free(r->feat);
        r->feat = feat;
        r->feat_cap = n_feat * (size_t)r->feat_dim;
        feat = NULL;
    }
    eos_free(feat);
    eos_free(xb);
    eos_free(yb);
    return st;
}

eos_status eos__runner_run(eos_runner *r, const float *x, int n, int c, int h, int w, bool dense,
                           float *out, eos_err *err) {
    if (r->fixed_n > 0 && n != r->fixed_n) return run_chunked(r, x, n, c, h, w, dense, out, err);
    int t[8], nt = eos__tta_list(r->n_tta, h, w, t), th = r->n_threads;
    int64_t per = dense ? (int64_t)h * w : 1;
    size_t n_out = (size_t)n * (size_t)r->n_classes * (size_t)per;
    size_t n_in = (size_t)n * (size_t)c * (size_t)h * (size_t)w;
    if (nt == 1) return run_once(r, x, n, c, h, w, dense, !r->argmax_only, true, out, err);
    if (!eos__grow_f(&r->xt, &r->xt_cap, n_in) || !eos__grow_f(&r->p, &r->p_cap, n_out))
        return eos_err_set(err, EOS_NOMEM, "out of memory for test-time augmentation");
    memset(out, 0, n_out * sizeof *out);
    for (int k = 0; k < nt; k++) {
        if (t[k]) eos__tta_apply(t[k], x, r->xt, (int64_t)n * c, h, w, th);
        EOS_TRY(run_once(r, t[k] ? r->xt : x, n, c, h, w, dense, true, t[k] == 0, r->p, err));
        if (dense) {
            eos__tta_scatter_add(t[k], r->p, out, (int64_t)n * r->n_classes, h, w, th);
        } else {
            for (size_t i = 0; i < n_out; i++) out[i] += r->p[i];
        }
    }
    EOS_OMP_FOR(th, n_out)
    for (size_t i = 0; i < n_out; i++) out[i] /= (float)nt;
    return EOS_OK;
}

int eos__argmax(const float *v, int n, int64_t stride) {
    int best = 0;
    for (int c = 1; c < n; c++)
        if (v[c * stride] > v[best * stride]) best = c;
    return best;
}

/* ------------------------------------------------------------------ progress */

double eos__now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void eos__progress_start(eos_progress *p, bool on, const char *label, const char *unit,
                         int64_t total) {
    p->on = on && isatty(STDERR_FILENO);
    p->t0 = p->last = eos__now_s();
    p->total = total;
    p->label = label ? label : "";
    p->unit = unit ? unit : "items";
}

void eos__progress_show(eos_progress *p, double done, bool final) {
    if (!p->on) return;
    double t = eos__now_s();
    if (!final && t - p->last < 0.2) return;
    p->last = t;
    double el = t - p->t0, rate = el > 0 ? done / el : 0;
    double eta = rate > 0 ? ((double)p->total - done) / rate : 0;
    int bar = p->total ? (int)(24.0 * done / (double)p->total) : 24;
    if (bar > 24) bar = 24;
    char b[25];
    for (int i = 0; i < 24; i++) b[i] = i < bar ? '#' : '.';
    b[24] = '\0';
    fprintf(stderr, "\r%s [%s] %lld/%lld  %.1f %s/s  ETA %d:%02d  ", p->label, b,
            (long long)done, (long long)p->total, rate, p->unit, (int)eta / 60, (int)eta % 60);
    if (final) fputc('\n', stderr);
    fflush(stderr);
}
