/*
 * src/train/tref_layers.c - reference training kernels for everything but convolution (see
 * tref.h): batch normalisation, activations, pooling, global average pooling, Gemm, Resize,
 * Concat, broadcasting Add/Mul/Sub, Softmax, Dropout and the NHWC <-> NCHW copies.
 *
 * Tensors are NHWC, so the inner loops run over the contiguous channels. Reductions (batch
 * statistics, bias and weight gradients, pooling sums) accumulate in double, in fixed-size
 * tiles of channels on the stack: nothing is allocated, which is why these functions need no
 * status. Conventions where a derivative is not defined follow PyTorch: ReLU, Clip (hardtanh),
 * HardSigmoid get 0 on their kinks, LeakyReLU the slope at 0, HardSwish x/3 + 1/2 on [-3, 3];
 * max pooling sends the gradient to the first maximum of a window (window scan order).
 * Edge cases the header leaves open: a pooling window with no input tap (pads as large as the
 * kernel) gives -FLT_MAX (max, argmax -1, no gradient) or 0 (average), as src/ops/ref does;
 * batch norm over a single row keeps the biased variance (0) for the running update, where
 * PyTorch refuses the batch; dropout with ratio >= 1 drops everything.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "train/tref.h"

#define TILE 512                      /* doubles per stack accumulator tile */

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* acc[0..len) += column sums of rows x [rows, stride] from column c0 (weighted by wt if given). */
static void col_sums(int64_t rows, int64_t stride, int64_t c0, int64_t len, const float *x,
                     const float *wt, double *acc) {
    for (int64_t i = 0; i < rows; i++) {
        const float *r = x + i * stride + c0;
        if (wt) {
            const float *q = wt + i * stride + c0;
            for (int64_t j = 0; j < len; j++) acc[j] += (double)r[j] * q[j];
        } else {
            for (int64_t j = 0; j < len; j++) acc[j] += r[j];
        }
    }
}

/* ------------------------------------------------------------------ batch normalization */

/* Batch mean and biased variance of channels [c0, c0+len), two passes in double. */
static void bn_stats(int64_t rows, int64_t c, int64_t c0, int64_t len, const float *x,
                     double *mean, double *var) {
    memset(mean, 0, (size_t)len * sizeof *mean);
    memset(var, 0, (size_t)len * sizeof *var);
    col_sums(rows, c, c0, len, x, NULL, mean);
    for (int64_t j = 0; j < len; j++) mean[j] /= (double)rows;
    for (int64_t i = 0; i < rows; i++) {
        const float *r = x + i * c + c0;
        for (int64_t j = 0; j < len; j++) {
            double d = r[j] - mean[j];
            var[j] += d * d;
        }
    }
    for (int64_t j = 0; j < len; j++) var[j] /= (double)rows;
}

void eos_tref_bn_fwd(int64_t n_rows, int64_t c, const float *x, const float *gamma, const float *beta,
                     float eps, float momentum, float *running_mean, float *running_var,
                     float *y, float *save_mean, float *save_invstd) {
    double mean[TILE], var[TILE];
    /* a single row has no unbiased variance; PyTorch refuses it, we keep the biased one */
    double unbias = n_rows > 1 ? (double)n_rows / (double)(n_rows - 1) : 1.0;
    for (int64_t c0 = 0; c0 < c; c0 += TILE) {
        int64_t len = min64(c - c0, TILE);
        bn_stats(n_rows, c, c0, len, x, mean, var);
        double a[TILE], b[TILE];
        for (int64_t j = 0; j < len; j++) {
            double invstd = 1.0 / sqrt(var[j] + eps);
            a[j] = gamma[c0 + j] * invstd;
            b[j] = beta[c0 + j] - mean[j] * a[j];
            if (save_mean) save_mean[c0 + j] = (float)mean[j];
            if (save_invstd) save_invstd[c0 + j] = (float)invstd;
            if (running_mean)
                running_mean[c0 + j] = (float)(momentum * running_mean[c0 + j] +
                                               (1.0 - momentum) * mean[j]);
            if (running_var)
                running_var[c0 + j] = (float)(momentum * running_var[c0 + j] +
                                              (1.0 - momentum) * var[j] * unbias);
        }
        for (int64_t i = 0; i < n_rows; i++) {
            const float *xr = x + i * c + c0;
            float *yr = y + i * c + c0;
            for (int64_t j = 0; j < len; j++) yr[j] = (float)(xr[j] * a[j] + b[j]);
        }
    }
}

/* With xhat = (x - mean) * invstd and m rows:
 *   dbeta = sum dy, dgamma = sum dy * xhat,
 *   dx = gamma * invstd * (dy - dbeta / m - xhat * dgamma / m). */
void eos_tref_bn_bwd(int64_t n_rows, int64_t c, const float *x, const float *gamma,
                     const float *save_mean, const float *save_invstd, const float *dy,
                     float *dx, float *dgamma, float *dbeta) {
    double sdy[TILE], sdyx[TILE];
    for (int64_t c0 = 0; c0 < c; c0 += TILE) {
        int64_t len = min64(c - c0, TILE);
        memset(sdy, 0, sizeof sdy);
        memset(sdyx, 0, sizeof sdyx);
        for (int64_t i = 0; i < n_rows; i++) {
            const float *xr = x + i * c + c0, *dr = dy + i * c + c0;
            for (int64_t j = 0; j < len; j++) {
                double xhat = (xr[j] - (double)save_mean[c0 + j]) * save_invstd[c0 + j];
                sdy[j] += dr[j];
                sdyx[j] += dr[j] * xhat;
            }
        }
        for (int64_t j = 0; j < len; j++) {
            if (dbeta) dbeta[c0 + j] += (float)sdy[j];
            if (dgamma) dgamma[c0 + j] += (float)sdyx[j];
        }
        if (!dx) continue;
        for (int64_t i = 0; i < n_rows; i++) {
            const float *xr = x + i * c + c0, *dr = dy + i * c + c0;
            float *o = dx + i * c + c0;
            for (int64_t j = 0; j < len; j++) {
                double is = save_invstd[c0 + j];
                double xhat = (xr[j] - (double)save_mean[c0 + j]) * is;
                double g = dr[j] - (sdy[j] + xhat * sdyx[j]) / (double)n_rows;
                o[j] += (float)(gamma[c0 + j] * is * g);
            }
        }
    }
}

/* ------------------------------------------------------------------ activations */

static float clampf(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }

static float act1(eos_tact a, float alpha, float beta, float x) {
    switch (a) {
    case EOS_TACT_RELU:         return x > 0.0f ? x : 0.0f;
    case EOS_TACT_LEAKY_RELU:   return x >= 0.0f ? x : alpha * x;
    case EOS_TACT_SIGMOID:      return 1.0f / (1.0f + expf(-x));
    case EOS_TACT_TANH:         return tanhf(x);
    case EOS_TACT_CLIP:         return x < alpha ? alpha : (x > beta ? beta : x);
    case EOS_TACT_HARD_SWISH:   return x * clampf(x / 6.0f + 0.5f, 0.0f, 1.0f);
    case EOS_TACT_HARD_SIGMOID: return clampf(alpha * x + beta, 0.0f, 1.0f);
    }
    return x;
}

/* d act / dx at x (y = act(x) when known, else NULL). */
static float dact1(eos_tact a, float alpha, float beta, float x, const float *y) {
    switch (a) {
    case EOS_TACT_RELU:       return x > 0.0f ? 1.0f : 0.0f;
    case EOS_TACT_LEAKY_RELU: return x > 0.0f ? 1.0f : alpha;
    case EOS_TACT_SIGMOID: {
        float s = y ? *y : 1.0f / (1.0f + expf(-x));
        return s * (1.0f - s);
    }
    case EOS_TACT_TANH: {
        float t = y ? *y : tanhf(x);
        return 1.0f - t * t;
    }
    case EOS_TACT_CLIP:       return x > alpha && x < beta ? 1.0f : 0.0f;
    case EOS_TACT_HARD_SWISH: return x < -3.0f ? 0.0f : (x <= 3.0f ? x / 3.0f + 0.5f : 1.0f);
    case EOS_TACT_HARD_SIGMOID: {
        float v = alpha * x + beta;
        return v > 0.0f && v < 1.0f ? alpha : 0.0f;
    }
    }
    return 1.0f;
}

void eos_tref_act_fwd(eos_tact a, float alpha, float beta, int64_t n, const float *x, float *y) {
    for (int64_t i = 0; i < n; i++) y[i] = act1(a, alpha, beta, x[i]);
}

void eos_tref_act_bwd(eos_tact a, float alpha, float beta, int64_t n, const float *x,
                      const float *y, const float *dy, float *dx) {
    for (int64_t i = 0; i < n; i++) dx[i] += dact1(a, alpha, beta, x[i], y ? &y[i] : NULL) * dy[i];
}

/* ------------------------------------------------------------------ pooling */

/* Window taps [lo, hi) of output position o on one axis that fall inside [0, n_in). */
static void tap_range(int64_t o, int64_t s, int64_t pad, int64_t k, int64_t n_in, int64_t *lo,
                      int64_t *hi) {
    int64_t start = o * s - pad;
    *lo = start < 0 ? -start : 0;
    *hi = n_in - start < k ? n_in - start : k;
    if (*hi < *lo) *hi = *lo;
}

/* Number of taps inside the padded extent [-pad_begin, n_in + pad_end) on one axis. */
static int64_t padded_taps(int64_t o, int64_t s, int64_t pb, int64_t pe, int64_t k, int64_t n_in) {
    int64_t lo, hi;
    tap_range(o, s, 0, k, n_in + pb + pe, &lo, &hi);
    return hi - lo;
}

/* Max over the window of output (n, oy, ox) for channels [c0, c0+len): first maximum wins;
 * arg = flat NHWC input index, -1 for a window without input taps (val -FLT_MAX). */
static void max_window(const eos_tpool *p, const float *x, int64_t n, int64_t oy, int64_t ox,
                       int64_t c0, int64_t len, float *val, int64_t *arg) {
    int64_t ly, hy, lx, hx;
    tap_range(oy, p->sh, p->pt, p->kh, p->h_in, &ly, &hy);
    tap_range(ox, p->sw, p->pl, p->kw, p->w_in, &lx, &hx);
    bool first = true;
    for (int64_t j = 0; j < len; j++) {
        val[j] = -FLT_MAX;
        arg[j] = -1;
    }
    for (int64_t ky = ly; ky < hy; ky++)
        for (int64_t kx = lx; kx < hx; kx++) {
            int64_t base = ((n * p->h_in + oy * p->sh - p->pt + ky) * p->w_in +
                            ox * p->sw - p->pl + kx) * p->c + c0;
            const float *xr = x + base;
            for (int64_t j = 0; j < len; j++)
                if (first || xr[j] > val[j]) {
                    val[j] = xr[j];
                    arg[j] = base + j;
                }
            first = false;
        }
}

/* Divisor of the average window of output (oy, ox). */
static int64_t avg_count(const eos_tpool *p, int64_t oy, int64_t ox) {
    if (p->count_include_pad)
        return padded_taps(oy, p->sh, p->pt, p->pb, p->kh, p->h_in) *
               padded_taps(ox, p->sw, p->pl, p->pr, p->kw, p->w_in);
    int64_t ly, hy, lx, hx;
    tap_range(oy, p->sh, p->pt, p->kh, p->h_in, &ly, &hy);
    tap_range(ox, p->sw, p->pl, p->kw, p->w_in, &lx, &hx);
    return (hy - ly) * (hx - lx);
}

static void avg_window(const eos_tpool *p, const float *x, int64_t n, int64_t oy, int64_t ox,
                       int64_t c0, int64_t len, float *y) {
    double acc[TILE];
    int64_t ly, hy, lx, hx, cnt = avg_count(p, oy, ox);
    tap_range(oy, p->sh, p->pt, p->kh, p->h_in, &ly, &hy);
    tap_range(ox, p->sw, p->pl, p->kw, p->w_in, &lx, &hx);
    memset(acc, 0, (size_t)len * sizeof *acc);
    for (int64_t ky = ly; ky < hy; ky++)
        for (int64_t kx = lx; kx < hx; kx++) {
            const float *xr = x + ((n * p->h_in + oy * p->sh - p->pt + ky) * p->w_in +
                                   ox * p->sw - p->pl + kx) * p->c + c0;
            for (int64_t j = 0; j < len; j++) acc[j] += xr[j];
        }
    for (int64_t j = 0; j < len; j++) y[j] = cnt ? (float)(acc[j] / (double)cnt) : 0.0f;
}

void eos_tref_pool_fwd(const eos_tpool *p, const float *x, float *y, int64_t *argmax) {
    int64_t arg[TILE];
    for (int64_t n = 0; n < p->n; n++)
        for (int64_t oy = 0; oy < p->h_out; oy++)
            for (int64_t ox = 0; ox < p->w_out; ox++) {
                int64_t o = ((n * p->h_out + oy) * p->w_out + ox) * p->c;
                for (int64_t c0 = 0; c0 < p->c; c0 += TILE) {
                    int64_t len = min64(p->c - c0, TILE);
                    if (!p->is_max) {
                        avg_window(p, x, n, oy, ox, c0, len, y + o + c0);
                        continue;
                    }
                    max_window(p, x, n, oy, ox, c0, len, y + o + c0, arg);
                    if (argmax) memcpy(argmax + o + c0, arg, (size_t)len * sizeof *arg);
                }
            }
}

static void avg_window_bwd(const eos_tpool *p, int64_t n, int64_t oy, int64_t ox,
                           const float *dy, float *dx) {
    int64_t ly, hy, lx, hx, cnt = avg_count(p, oy, ox);
    if (!cnt) return;
    tap_range(oy, p->sh, p->pt, p->kh, p->h_in, &ly, &hy);
    tap_range(ox, p->sw, p->pl, p->kw, p->w_in, &lx, &hx);
    float inv = (float)(1.0 / (double)cnt);
    for (int64_t ky = ly; ky < hy; ky++)
        for (int64_t kx = lx; kx < hx; kx++) {
            float *d = dx + ((n * p->h_in + oy * p->sh - p->pt + ky) * p->w_in +
                             ox * p->sw - p->pl + kx) * p->c;
            for (int64_t j = 0; j < p->c; j++) d[j] += dy[j] * inv;
        }
}

void eos_tref_pool_bwd(const eos_tpool *p, const float *x, const int64_t *argmax, const float *dy,
                       float *dx) {
    float val[TILE];
    int64_t arg[TILE];
    for (int64_t n = 0; n < p->n; n++)
        for (int64_t oy = 0; oy < p->h_out; oy++)
            for (int64_t ox = 0; ox < p->w_out; ox++) {
                int64_t o = ((n * p->h_out + oy) * p->w_out + ox) * p->c;
                if (!p->is_max) {
                    avg_window_bwd(p, n, oy, ox, dy + o, dx);
                    continue;
                }
                for (int64_t c0 = 0; c0 < p->c; c0 += TILE) {
                    int64_t len = min64(p->c - c0, TILE);
                    const int64_t *a = argmax ? argmax + o + c0 : arg;
                    if (!argmax) max_window(p, x, n, oy, ox, c0, len, val, arg);
                    for (int64_t j = 0; j < len; j++)
                        if (a[j] >= 0) dx[a[j]] += dy[o + c0 + j];
                }
            }
}

void eos_tref_gap_fwd(int64_t n, int64_t hw, int64_t c, const float *x, float *y) {
    double acc[TILE];
    for (int64_t b = 0; b < n; b++)
        for (int64_t c0 = 0; c0 < c; c0 += TILE) {
            int64_t len = min64(c - c0, TILE);
            memset(acc, 0, sizeof acc);
            col_sums(hw, c, c0, len, x + b * hw * c, NULL, acc);
            for (int64_t j = 0; j < len; j++) y[b * c + c0 + j] = (float)(acc[j] / (double)hw);
        }
}

void eos_tref_gap_bwd(int64_t n, int64_t hw, int64_t c, const float *dy, float *dx) {
    float inv = (float)(1.0 / (double)hw);
    for (int64_t b = 0; b < n; b++)
        for (int64_t i = 0; i < hw; i++) {
            float *d = dx + (b * hw + i) * c;
            for (int64_t j = 0; j < c; j++) d[j] += dy[b * c + j] * inv;
        }
}

/* ------------------------------------------------------------------ dense */

/* dot product of u and v over len elements, in double */
static double dot(int64_t len, const float *u, const float *v) {
    double s = 0.0;
    for (int64_t i = 0; i < len; i++) s += (double)u[i] * v[i];
    return s;
}

/* out [m, n] = (accumulate ? out : 0) + alpha * a . b + beta * c (c [n] broadcast over rows,
 * may be NULL), with a [m, k] and b [k, n]: rows of b combined with unit stride, in double
 * tiles. */
static void gemm_nn(int64_t m, int64_t k, int64_t n, double alpha, const float *a, const float *b,
                    double beta, const float *c, float *out, bool accumulate) {
    double acc[TILE];
    for (int64_t r = 0; r < m; r++)
        for (int64_t j0 = 0; j0 < n; j0 += TILE) {
            int64_t len = min64(n - j0, TILE);
            memset(acc, 0, sizeof acc);
            for (int64_t p = 0; p < k; p++) {
                double av = a[r * k + p];
                const float *br = b + p * n + j0;
                for (int64_t j = 0; j < len; j++) acc[j] += av * br[j];
            }
            float *o = out + r * n + j0;
            for (int64_t j = 0; j < len; j++)
                o[j] = (float)((accumulate ? o[j] : 0.0) + alpha * acc[j] +
                               (c ? beta * c[j0 + j] : 0.0));
        }
}

void eos_tref_gemm_fwd(int64_t m, int64_t k, int64_t n, bool trans_b, float alpha, float beta,
                       const float *x, const float *b, const float *c, float *y) {
    if (!trans_b) {
        gemm_nn(m, k, n, alpha, x, b, beta, c, y, false);
        return;
    }
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++)
            y[i * n + j] = (float)(alpha * dot(k, x + i * k, b + j * k) + (c ? beta * c[j] : 0.0));
}

/* dx [m, k] += alpha * dy [m, n] . B^T, with B [k, n] (or [n, k] when trans_b). */
static void gemm_bwd_x(int64_t m, int64_t k, int64_t n, bool trans_b, float alpha,
                       const float *b, const float *dy, float *dx) {
    if (trans_b) {
        gemm_nn(m, n, k, alpha, dy, b, 0.0, NULL, dx, true);
        return;
    }
    for (int64_t i = 0; i < m; i++)
        for (int64_t p = 0; p < k; p++)
            dx[i * k + p] += (float)(alpha * dot(n, dy + i * n, b + p * n));
}

/* db += alpha * x^T . dy ([k, n]), or its transpose dy^T . x ([n, k]) when trans_b. Each row
 * of db is a sum over the m rows of outer products, accumulated in double tiles. */
static void gemm_bwd_b(int64_t m, int64_t k, int64_t n, bool trans_b, float alpha,
                       const float *x, const float *dy, float *db) {
    const float *u = trans_b ? dy : x, *v = trans_b ? x : dy;     /* db = u^T . v */
    int64_t nu = trans_b ? n : k, nv = trans_b ? k : n;
    double acc[TILE];
    for (int64_t p = 0; p < nu; p++)
        for (int64_t j0 = 0; j0 < nv; j0 += TILE) {
            int64_t len = min64(nv - j0, TILE);
            memset(acc, 0, sizeof acc);
            for (int64_t i = 0; i < m; i++) {
                double uv = u[i * nu + p];
                const float *vr = v + i * nv + j0;
                for (int64_t j = 0; j < len; j++) acc[j] += uv * vr[j];
            }
            for (int64_t j = 0; j < len; j++) db[p * nv + j0 + j] += (float)(alpha * acc[j]);
        }
}

void eos_tref_gemm_bwd(int64_t m, int64_t k, int64_t n, bool trans_b, float alpha, float beta,
                       const float *x, const float *b, const float *dy, float *dx, float *db,
                       float *dc) {
    if (dx) gemm_bwd_x(m, k, n, trans_b, alpha, b, dy, dx);
    if (db) gemm_bwd_b(m, k, n, trans_b, alpha, x, dy, db);
    if (!dc) return;
    double acc[TILE];
    for (int64_t j0 = 0; j0 < n; j0 += TILE) {
        int64_t len = min64(n - j0, TILE);
        memset(acc, 0, sizeof acc);
        col_sums(m, n, j0, len, dy, NULL, acc);
        for (int64_t j = 0; j < len; j++) dc[j0 + j] += (float)(beta * acc[j]);
    }
}

/* ------------------------------------------------------------------ resize */

/* Up to two input taps of one output index on one axis. */
typedef struct rtaps {
    int64_t i0, i1;
    float   w0, w1;
} rtaps;

/* Source coordinate of output index o, computed in float as src/ops/ref/ref_resize.c (and
 * onnxruntime) do, so that nearest-neighbour choices agree bit for bit. */
static float src_coord(eos_tcoord coord, int64_t in, int64_t out, int64_t o) {
    float s = (float)out / (float)in, x = (float)o;
    switch (coord) {
    case EOS_TCOORD_HALF_PIXEL:    return (x + 0.5f) / s - 0.5f;
    case EOS_TCOORD_ALIGN_CORNERS: return out == 1 ? 0.0f : x * (float)(in - 1) / (float)(out - 1);
    case EOS_TCOORD_ASYMMETRIC:    return x / s;
    }
    return x;
}

static rtaps resize_taps(eos_tresize mode, eos_tcoord coord, int64_t in, int64_t out, int64_t o) {
    rtaps t;
    float x = src_coord(coord, in, out, o);
    if (in == out) x = (float)o;                       /* identity axis, as the reference */
    if (mode == EOS_TRESIZE_NEAREST) {
        int64_t i = (int64_t)floorf(x);
        t.i0 = t.i1 = i < 0 ? 0 : (i >= in ? in - 1 : i);
        t.w0 = 1.0f;
        t.w1 = 0.0f;
        return t;
    }
    float xc = clampf(x, 0.0f, (float)(in - 1));
    t.i0 = (int64_t)xc;
    t.i1 = t.i0 + 1 < in ? t.i0 + 1 : in - 1;
    float f = xc - (float)t.i0;
    t.w0 = t.i0 == t.i1 ? 0.5f : 1.0f - f;
    t.w1 = t.i0 == t.i1 ? 0.5f : f;
    return t;
}

void eos_tref_resize_fwd(eos_tresize mode, eos_tcoord coord, int64_t n, int64_t c, int64_t h_in,
                         int64_t w_in, int64_t h_out, int64_t w_out, const float *x, float *y) {
    for (int64_t b = 0; b < n; b++)
        for (int64_t oy = 0; oy < h_out; oy++) {
            rtaps ty = resize_taps(mode, coord, h_in, h_out, oy);
            for (int64_t ox = 0; ox < w_out; ox++) {
                rtaps tx = resize_taps(mode, coord, w_in, w_out, ox);
                const float *r0 = x + (b * h_in + ty.i0) * w_in * c;
                const float *r1 = x + (b * h_in + ty.i1) * w_in * c;
                const float *p00 = r0 + tx.i0 * c, *p01 = r0 + tx.i1 * c;
                const float *p10 = r1 + tx.i0 * c, *p11 = r1 + tx.i1 * c;
                double w00 = (double)ty.w0 * tx.w0, w01 = (double)ty.w0 * tx.w1;
                double w10 = (double)ty.w1 * tx.w0, w11 = (double)ty.w1 * tx.w1;
                float *o = y + ((b * h_out + oy) * w_out + ox) * c;
                for (int64_t j = 0; j < c; j++)
                    o[j] = (float)(w00 * p00[j] + w01 * p01[j] + w10 * p10[j] + w11 * p11[j]);
            }
        }
}

void eos_tref_resize_bwd(eos_tresize mode, eos_tcoord coord, int64_t n, int64_t c, int64_t h_in,
                         int64_t w_in, int64_t h_out, int64_t w_out, const float *dy, float *dx) {
    for (int64_t b = 0; b < n; b++)
        for (int64_t oy = 0; oy < h_out; oy++) {
            rtaps ty = resize_taps(mode, coord, h_in, h_out, oy);
            for (int64_t ox = 0; ox < w_out; ox++) {
                rtaps tx = resize_taps(mode, coord, w_in, w_out, ox);
                const float *d = dy + ((b * h_out + oy) * w_out + ox) * c;
                float *r0 = dx + (b * h_in + ty.i0) * w_in * c;
                float *r1 = dx + (b * h_in + ty.i1) * w_in * c;
                float *q[4] = { r0 + tx.i0 * c, r0 + tx.i1 * c, r1 + tx.i0 * c, r1 + tx.i1 * c };
                float w[4] = { ty.w0 * tx.w0, ty.w0 * tx.w1, ty.w1 * tx.w0, ty.w1 * tx.w1 };
                for (int t = 0; t < 4; t++) {
                    if (w[t] == 0.0f) continue;
                    for (int64_t j = 0; j < c; j++) q[t][j] += w[t] * d[j];
                }
            }
        }
}

/* ------------------------------------------------------------------ shape and arithmetic */

void eos_tref_concat_fwd(int64_t rows, int n_parts, const int64_t *c_parts, const float *const *x,
                         float *y) {
    int64_t c = 0;
    for (int i = 0; i < n_parts; i++) c += c_parts[i];
    for (int64_t r = 0; r < rows; r++) {
        float *o = y + r * c;
        for (int i = 0; i < n_parts; i++) {
            memcpy(o, x[i] + r * c_parts[i], (size_t)c_parts[i] * sizeof *o);
            o += c_parts[i];
        }
    }
}

void eos_tref_concat_bwd(int64_t rows, int n_parts, const int64_t *c_parts, const float *dy,
                         float *const *dx) {
    int64_t c = 0;
    for (int i = 0; i < n_parts; i++) c += c_parts[i];
    for (int64_t r = 0; r < rows; r++) {
        const float *d = dy + r * c;
        for (int i = 0; i < n_parts; i++) {
            if (dx[i]) {
                float *o = dx[i] + r * c_parts[i];
                for (int64_t j = 0; j < c_parts[i]; j++) o[j] += d[j];
            }
            d += c_parts[i];
        }
    }
}

/* b is viewed as one row of c_b values repeated over n / c_b rows (c_b == n: same shape). */
void eos_tref_binary_fwd(int op, int64_t n, int64_t c_b, const float *a, const float *b, float *y) {
    for (int64_t r = 0; r < n / c_b; r++) {
        const float *ar = a + r * c_b;
        float *yr = y + r * c_b;
        for (int64_t j = 0; j < c_b; j++)
            yr[j] = op == 0 ? ar[j] + b[j] : (op == 1 ? ar[j] * b[j] : ar[j] - b[j]);
    }
}

void eos_tref_binary_bwd(int op, int64_t n, int64_t c_b, const float *a, const float *b,
                         const float *dy, float *da, float *db) {
    int64_t rows = n / c_b;
    if (da)
        for (int64_t r = 0; r < rows; r++) {
            const float *d = dy + r * c_b;
            float *o = da + r * c_b;
            for (int64_t j = 0; j < c_b; j++) o[j] += op == 1 ? d[j] * b[j] : d[j];
        }
    if (!db) return;
    double acc[TILE];
    double sign = op == 2 ? -1.0 : 1.0;
    for (int64_t c0 = 0; c0 < c_b; c0 += TILE) {
        int64_t len = min64(c_b - c0, TILE);
        memset(acc, 0, sizeof acc);
        col_sums(rows, c_b, c0, len, dy, op == 1 ? a : NULL, acc);
        for (int64_t j = 0; j < len; j++) db[c0 + j] += (float)(sign * acc[j]);
    }
}

void eos_tref_softmax_fwd(int64_t rows, int64_t c, const float *x, float *y) {
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * c;
        float *yr = y + r * c, mx = -INFINITY;
        for (int64_t j = 0; j < c; j++) mx = xr[j] > mx ? xr[j] : mx;
        double s = 0.0;
        for (int64_t j = 0; j < c; j++) s += exp((double)xr[j] - mx);
        for (int64_t j = 0; j < c; j++) yr[j] = (float)(exp((double)xr[j] - mx) / s);
    }
}

/* dx = y * (dy - sum(dy * y)) per row */
void eos_tref_softmax_bwd(int64_t rows, int64_t c, const float *y, const float *dy, float *dx) {
    for (int64_t r = 0; r < rows; r++) {
        const float *yr = y + r * c, *dr = dy + r * c;
        double s = dot(c, yr, dr);
        float *o = dx + r * c;
        for (int64_t j = 0; j < c; j++) o[j] += (float)(yr[j] * (dr[j] - s));
    }
}

void eos_tref_dropout_fwd(int64_t n, float ratio, eos_rng *rng, const float *x, float *y,
                          uint8_t *mask) {
    if (ratio <= 0.0f) {
        memcpy(y, x, (size_t)n * sizeof *y);
        if (mask) memset(mask, 1, (size_t)n);
        return;
    }
    float scale = ratio < 1.0f ? 1.0f / (1.0f - ratio) : 0.0f;
    for (int64_t i = 0; i < n; i++) {
        bool keep = ratio < 1.0f && eos_rng_uniform(rng) >= ratio;
        y[i] = keep ? x[i] * scale : 0.0f;
        if (mask) mask[i] = keep;
    }
}

void eos_tref_dropout_bwd(int64_t n, float ratio, const uint8_t *mask, const float *dy, float *dx) {
    if (ratio <= 0.0f) {
        for (int64_t i = 0; i < n; i++) dx[i] += dy[i];
        return;
    }
    float scale = ratio < 1.0f ? 1.0f / (1.0f - ratio) : 0.0f;
    for (int64_t i = 0; i < n; i++)
        if (mask[i]) dx[i] += dy[i] * scale;
}

void eos_tref_nhwc_to_nchw(int64_t n, int64_t h, int64_t w, int64_t c, const float *src, float *dst) {
    int64_t hw = h * w;
    for (int64_t b = 0; b < n; b++)
        for (int64_t p = 0; p < hw; p++) {
            const float *s = src + (b * hw + p) * c;
            for (int64_t j = 0; j < c; j++) dst[(b * c + j) * hw + p] = s[j];
        }
}

void eos_tref_nchw_to_nhwc(int64_t n, int64_t c, int64_t h, int64_t w, const float *src, float *dst) {
    int64_t hw = h * w;
    for (int64_t b = 0; b < n; b++)
        for (int64_t p = 0; p < hw; p++) {
            float *d = dst + (b * hw + p) * c;
            for (int64_t j = 0; j < c; j++) d[j] = src[(b * c + j) * hw + p];
        }
}
