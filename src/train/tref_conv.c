/*
 * src/train/tref_conv.c - reference training kernels for Conv and ConvTranspose on NHWC
 * tensors (see tref.h): forward, and backward to the input, the weight and the bias.
 *
 * Both operators are described by one relation between two activations, called A and B here:
 * position i of A and position o of B are joined through kernel tap k when
 *     i = o * stride - pad_begin + k * dilation.
 * For Conv, A is the input and B the output; for ConvTranspose, B is the input and A the
 * output (ONNX defines it as the gradient of Conv). In both cases the weight is
 * [C_B, C_A / group, KH, KW]: Conv's [C_out, C_in/group] and ConvTranspose's
 * [C_in, C_out/group]. So three routines cover everything:
 *   a_to_b  B[o, cb] = sum over taps and the group's A channels of W * A    (gather per o)
 *   b_to_a  A[i, ca] = sum over taps and the group's B channels of W * B    (gather per i)
 *   corr    W[cb, j, k] += sum over all joined (i, o) of B[o, cb] * A[i, ca(j)]
 * Conv forward is a_to_b, its input gradient b_to_a; ConvTranspose is the other way round;
 * the weight gradient is corr for both with (A, B) = (x, dy) or (dy, x).
 *
 * Every output element is a sum in double over its taps and channels (or, for corr, over a
 * tile of weight elements walked along all pixels), so results do not depend on the loop order
 * of an optimised implementation beyond float rounding. Nothing is allocated: the double
 * accumulators are fixed-size tiles on the stack, which is why the functions need no status.
 * Inner loops run over contiguous channels of the activations; depthwise convolution (one
 * channel per group on both sides) takes a plain channel-to-channel loop instead of the
 * per-group ones, which would have length 1.
 */
#include <string.h>

#include "train/tref.h"

#define TILE 512                      /* doubles per stack accumulator tile */

/* The A/B relation with its sizes (see above). */
typedef struct rel {
    int64_t n, ca, ha, wa, cb, hb, wb;
    int64_t kh, kw, sh, sw, dh, dw, pt, pl, group;
    int64_t cag, cbg;                 /* channels per group on each side */
} rel;

static rel rel_from(const eos_tconv *p) {
    rel r = { .n = p->n, .kh = p->kh, .kw = p->kw, .sh = p->sh, .sw = p->sw, .dh = p->dh,
              .dw = p->dw, .pt = p->pt, .pl = p->pl, .group = p->group };
    if (!p->transposed) {
        r.ca = p->c_in, r.ha = p->h_in, r.wa = p->w_in;
        r.cb = p->c_out, r.hb = p->h_out, r.wb = p->w_out;
    } else {
        r.ca = p->c_out, r.ha = p->h_out, r.wa = p->w_out;
        r.cb = p->c_in, r.hb = p->h_in, r.wb = p->w_in;
    }
    r.cag = r.ca / r.group;
    r.cbg = r.cb / r.group;
    return r;
}

static int64_t div_floor(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
static int64_t div_ceil(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

/* The B positions o in [0, n_b) whose A position o*s + c lies in [0, n_a), as [lo, hi). */
static void b_range(int64_t n_b, int64_t n_a, int64_t s, int64_t c, int64_t *lo, int64_t *hi) {
    int64_t l = div_ceil(-c, s), h = div_floor(n_a - 1 - c, s) + 1;
    *lo = l < 0 ? 0 : l;
    *hi = h > n_b ? n_b : h;
    if (*hi < *lo) *hi = *lo;
}

/* The B position joined to A position i by tap k on one axis, or -1. */
static int64_t b_pos(int64_t i, int64_t k, int64_t s, int64_t d, int64_t pad, int64_t n_b) {
    int64_t t = i + pad - k * d;
    if (t < 0 || t % s) return -1;
    t /= s;
    return t < n_b ? t : -1;
}

/* out = (accumulate ? out : 0) + (bias ? bias : 0) + acc, over len channels. */
static void store(float *out, const double *acc, const float *bias, int64_t len, bool accumulate) {
    for (int64_t c = 0; c < len; c++) {
        double v = acc[c] + (bias ? bias[c] : 0.0f);
        out[c] = accumulate ? out[c] + (float)v : (float)v;
    }
}

/* B[n, oy, ox, c0 .. c0+len) from A through the taps (len <= TILE). */
static void a_to_b_pixel(const rel *r, const float *a, const float *w, int64_t n, int64_t oy,
                         int64_t ox, int64_t c0, int64_t len, double *acc) {
    int64_t kvol = r->kh * r->kw;
    memset(acc, 0, (size_t)len * sizeof *acc);
    for (int64_t ky = 0; ky < r->kh; ky++) {
        int64_t iy = oy * r->sh - r->pt + ky * r->dh;
        if (iy < 0 || iy >= r->ha) continue;
        for (int64_t kx = 0; kx < r->kw; kx++) {
            int64_t ix = ox * r->sw - r->pl + kx * r->dw;
            if (ix < 0 || ix >= r->wa) continue;
            const float *ap = a + ((n * r->ha + iy) * r->wa + ix) * r->ca;
            if (r->cag == 1 && r->cbg == 1) {            /* depthwise: channel to channel */
                const float *ws = w + c0 * kvol + ky * r->kw + kx;
                for (int64_t c = 0; c < len; c++) acc[c] += (double)ap[c0 + c] * ws[c * kvol];
                continue;
            }
            for (int64_t c = 0; c < len; c++) {
                int64_t cb = c0 + c;
                const float *as = ap + (cb / r->cbg) * r->cag;
                const float *ws = w + cb * r->cag * kvol + ky * r->kw + kx;
                double s = 0.0;
                for (int64_t j = 0; j < r->cag; j++) s += (double)as[j] * ws[j * kvol];
                acc[c] += s;
            }
        }
    }
}

static void a_to_b(const rel *r, const float *a, const float *w, const float *bias, float *b,
                   bool accumulate) {
    double acc[TILE];
    for (int64_t n = 0; n < r->n; n++)
        for (int64_t oy = 0; oy < r->hb; oy++)
            for (int64_t ox = 0; ox < r->wb; ox++) {
                float *bp = b + ((n * r->hb + oy) * r->wb + ox) * r->cb;
                for (int64_t c0 = 0; c0 < r->cb; c0 += TILE) {
                    int64_t len = r->cb - c0 < TILE ? r->cb - c0 : TILE;
                    a_to_b_pixel(r, a, w, n, oy, ox, c0, len, acc);
                    store(bp + c0, acc, bias ? bias + c0 : NULL, len, accumulate);
                }
            }
}

/* A[n, iy, ix, c0 .. c0+len) from B through the taps (len <= TILE). */
static void b_to_a_pixel(const rel *r, const float *b, const float *w, int64_t n, int64_t iy,
                         int64_t ix, int64_t c0, int64_t len, double *acc) {
    int64_t kvol = r->kh * r->kw;
    memset(acc, 0, (size_t)len * sizeof *acc);
    for (int64_t ky = 0; ky < r->kh; ky++) {
        int64_t oy = b_pos(iy, ky, r->sh, r->dh, r->pt, r->hb);
        if (oy < 0) continue;
        for (int64_t kx = 0; kx < r->kw; kx++) {
            int64_t ox = b_pos(ix, kx, r->sw, r->dw, r->pl, r->wb);
            if (ox < 0) continue;
            const float *bp = b + ((n * r->hb + oy) * r->wb + ox) * r->cb;
            if (r->cag == 1 && r->cbg == 1) {            /* depthwise: channel to channel */
                const float *ws = w + c0 * kvol + ky * r->kw + kx;
                for (int64_t c = 0; c < len; c++) acc[c] += (double)bp[c0 + c] * ws[c * kvol];
                continue;
            }
            for (int64_t c = 0; c < len; c++) {
                int64_t ca = c0 + c, g = ca / r->cag, j = ca % r->cag;
                const float *bs = bp + g * r->cbg;
                const float *ws = w + (g * r->cbg * r->cag + j) * kvol + ky * r->kw + kx;
                double s = 0.0;
                for (int64_t cb = 0; cb < r->cbg; cb++) s += (double)bs[cb] * ws[cb * r->cag * kvol];
                acc[c] += s;
            }
        }
    }
}

static void b_to_a(const rel *r, const float *b, const float *w, const float *bias, float *a,
                   bool accumulate) {
    double acc[TILE];
    for (int64_t n = 0; n < r->n; n++)
        for (int64_t iy = 0; iy < r->ha; iy++)
            for (int64_t ix = 0; ix < r->wa; ix++) {
                float *ap = a + ((n * r->ha + iy) * r->wa + ix) * r->ca;
                for (int64_t c0 = 0; c0 < r->ca; c0 += TILE) {
                    int64_t len = r->ca - c0 < TILE ? r->ca - c0 : TILE;
                    b_to_a_pixel(r, b, w, n, iy, ix, c0, len, acc);
                    store(ap + c0, acc, bias ? bias + c0 : NULL, len, accumulate);
                }
            }
}

/* A tile of weight elements for one tap: groups [g0, g0+ng) x B channels [b0, b0+nb) of each
 * group x A channels [j0, j0+nj) of each group, accumulated in acc[(g*nb + cb)*nj + j]. */
typedef struct wtile {
    int64_t ky, kx, g0, ng, b0, nb, j0, nj;
} wtile;

static void corr_tile(const rel *r, const float *a, const float *b, const wtile *t, double *acc) {
    int64_t lo_y, hi_y, lo_x, hi_x;
    b_range(r->hb, r->ha, r->sh, t->ky * r->dh - r->pt, &lo_y, &hi_y);
    b_range(r->wb, r->wa, r->sw, t->kx * r->dw - r->pl, &lo_x, &hi_x);
    memset(acc, 0, (size_t)(t->ng * t->nb * t->nj) * sizeof *acc);
    for (int64_t n = 0; n < r->n; n++)
        for (int64_t oy = lo_y; oy < hi_y; oy++) {
            int64_t iy = oy * r->sh - r->pt + t->ky * r->dh;
            for (int64_t ox = lo_x; ox < hi_x; ox++) {
                int64_t ix = ox * r->sw - r->pl + t->kx * r->dw;
                const float *ap = a + ((n * r->ha + iy) * r->wa + ix) * r->ca;
                const float *bp = b + ((n * r->hb + oy) * r->wb + ox) * r->cb;
                if (r->cag == 1 && r->cbg == 1) {        /* depthwise: channel by channel */
                    for (int64_t g = 0; g < t->ng; g++)
                        acc[g] += (double)bp[t->g0 + g] * ap[t->g0 + g];
                    continue;
                }
                for (int64_t g = 0; g < t->ng; g++) {
                    const float *as = ap + (t->g0 + g) * r->cag + t->j0;
                    const float *bs = bp + (t->g0 + g) * r->cbg + t->b0;
                    for (int64_t cb = 0; cb < t->nb; cb++) {
                        double bv = bs[cb], *ac = acc + (g * t->nb + cb) * t->nj;
                        for (int64_t j = 0; j < t->nj; j++) ac[j] += bv * as[j];
                    }
                }
            }
        }
}

/* dw += corr(A, B), tap by tap, in tiles of at most TILE weight elements. The tile is shaped
 * after the problem: up to 64 A channels, then B channels, then whole groups (depthwise). */
static void corr(const rel *r, const float *a, const float *b, float *dw) {
    double acc[TILE];
    int64_t kvol = r->kh * r->kw;
    int64_t nj = r->cag < 64 ? r->cag : 64;
    int64_t nb = r->cbg < TILE / nj ? r->cbg : TILE / nj;
    int64_t ng = r->group < TILE / (nj * nb) ? r->group : TILE / (nj * nb);
    wtile t;
    for (t.ky = 0; t.ky < r->kh; t.ky++)
    for (t.kx = 0; t.kx < r->kw; t.kx++)
    for (t.g0 = 0; t.g0 < r->group; t.g0 += ng)
    for (t.b0 = 0; t.b0 < r->cbg; t.b0 += nb)
    for (t.j0 = 0; t.j0 < r->cag; t.j0 += nj) {
        t.ng = r->group - t.g0 < ng ? r->group - t.g0 : ng;
        t.nb = r->cbg - t.b0 < nb ? r->cbg - t.b0 : nb;
        t.nj = r->cag - t.j0 < nj ? r->cag - t.j0 : nj;
        corr_tile(r, a, b, &t, acc);
        for (int64_t g = 0; g < t.ng; g++)
            for (int64_t cb = 0; cb < t.nb; cb++)
                for (int64_t j = 0; j < t.nj; j++) {
                    int64_t cbo = (t.g0 + g) * r->cbg + t.b0 + cb;
                    float *d = dw + (cbo * r->cag + t.j0 + j) * kvol + t.ky * r->kw + t.kx;
                    *d += (float)acc[(g * t.nb + cb) * t.nj + j];
                }
    }
}

/* db[c] += sum over all pixels of dy[.., c] for a [rows, c] tensor. */
static void sum_rows(int64_t rows, int64_t c, const float *dy, float *db) {
    double acc[TILE];
    for (int64_t c0 = 0; c0 < c; c0 += TILE) {
        int64_t len = c - c0 < TILE ? c - c0 : TILE;
        memset(acc, 0, sizeof acc);
        for (int64_t i = 0; i < rows; i++) {
            const float *d = dy + i * c + c0;
            for (int64_t j = 0; j < len; j++) acc[j] += d[j];
        }
        for (int64_t j = 0; j < len; j++) db[c0 + j] += (float)acc[j];
    }
}

void eos_tref_conv_fwd(const eos_tconv *p, const float *x, const float *w, const float *b, float *y) {
    rel r = rel_from(p);
    if (!p->transposed) a_to_b(&r, x, w, b, y, false);
    else b_to_a(&r, x, w, b, y, false);
}

void eos_tref_conv_bwd(const eos_tconv *p, const float *x, const float *w, const float *dy,
                       float *dx, float *dw, float *db) {
    rel r = rel_from(p);
    if (!p->transposed) {
        if (dx) b_to_a(&r, dy, w, NULL, dx, true);
        if (dw) corr(&r, x, dy, dw);
        if (db) sum_rows(r.n * r.hb * r.wb, r.cb, dy, db);
    } else {
        if (dx) a_to_b(&r, dy, w, NULL, dx, true);
        if (dw) corr(&r, dy, x, dw);
        if (db) sum_rows(r.n * r.ha * r.wa, r.ca, dy, db);
    }
}
