/*
 * src/ops/ref/ref_pool.c - reference MaxPool (with the optional Indices output), AveragePool,
 * GlobalAveragePool and GlobalMaxPool over 1-3 spatial dims.
 *
 * Geometry comes from eos_pool_params_get (global pools are one window over the whole plane).
 * Windows are walked per axis over their taps that fall inside the input. Conventions, matching
 * PyTorch and onnxruntime:
 *   - MaxPool of a window with no input tap (possible with large pads) is -FLT_MAX; Indices are
 *     flat offsets into the whole input tensor (N, C included; storage_order 0), first maximum.
 *   - AveragePool divides by the number of taps inside the input, or with count_include_pad by
 *     the number of taps inside the padded extent [-pad_begin, in + pad_end) (so a ceil_mode
 *     window hanging past the end padding is not divided by the full kernel size).
 */
#include <float.h>

#include "ops/ref/ref.h"

typedef struct pool3 {
    int64_t in[3], out[3], k[3], s[3], d[3], pb[3], pe[3];
} pool3;

static void to_pool3(const eos_pool_params *p, pool3 *g) {
    int off = 3 - p->n_spatial;
    for (int j = 0; j < 3; j++) {
        int a = j - off;
        g->in[j] = a < 0 ? 1 : p->in_sp[a];
        g->out[j] = a < 0 ? 1 : p->out_sp[a];
        g->k[j] = a < 0 ? 1 : p->kernel[a];
        g->s[j] = a < 0 ? 1 : p->stride[a];
        g->d[j] = a < 0 ? 1 : p->dilation[a];
        g->pb[j] = a < 0 ? 0 : p->pad_begin[a];
        g->pe[j] = a < 0 ? 0 : p->pad_end[a];
    }
}

/* The taps t in [0, k) of a window starting at `start` with dilation d whose position
 * start + t*d lies in [0, n), as [lo, hi). Computed, not searched: kernel_shape may be huge
 * when the pads are too. */
static void tap_range(int64_t start, int64_t k, int64_t d, int64_t n, int64_t *lo, int64_t *hi) {
    int64_t l = start >= 0 ? 0 : (-start) / d + ((-start) % d != 0);
    int64_t h = n - 1 - start < 0 ? 0 : (n - 1 - start) / d + 1;
    *lo = l;
    *hi = h < k ? h : k;
    if (*hi < *lo) *hi = *lo;
}

/* Taps of one window on axis j: how many lie inside the input, and inside the padded extent. */
static void axis_taps(const pool3 *g, int j, int64_t o, int64_t *n_in, int64_t *n_padded) {
    int64_t start = o * g->s[j] - g->pb[j], lo, hi;
    tap_range(start, g->k[j], g->d[j], g->in[j], &lo, &hi);
    *n_in = hi - lo;
    tap_range(start + g->pb[j], g->k[j], g->d[j], g->in[j] + g->pb[j] + g->pe[j], &lo, &hi);
    *n_padded = hi - lo;
}

static void pool_window(const pool3 *g, const eos_pool_params *p, const float *x, int64_t od,
                        int64_t oh, int64_t ow, float *val, int64_t *arg) {
    int64_t sd = od * g->s[0] - g->pb[0], sh = oh * g->s[1] - g->pb[1];
    int64_t sw = ow * g->s[2] - g->pb[2];
    double sum = 0.0;
    float best = -FLT_MAX;
    int64_t best_i = -1, count = 0, lo[3], hi[3];
    tap_range(sd, g->k[0], g->d[0], g->in[0], &lo[0], &hi[0]);
    tap_range(sh, g->k[1], g->d[1], g->in[1], &lo[1], &hi[1]);
    tap_range(sw, g->k[2], g->d[2], g->in[2], &lo[2], &hi[2]);
    for (int64_t kd = lo[0]; kd < hi[0]; kd++) {
        int64_t id = sd + kd * g->d[0];
        for (int64_t kh = lo[1]; kh < hi[1]; kh++) {
            int64_t ih = sh + kh * g->d[1];
            for (int64_t kw = lo[2]; kw < hi[2]; kw++) {
                int64_t iw = sw + kw * g->d[2];
                int64_t i = (id * g->in[1] + ih) * g->in[2] + iw;
                if (p->is_max) {
                    if (best_i < 0 || x[i] > best) {
                        best = x[i];
                        best_i = i;
                    }
                } else {
                    sum += x[i];
                    count++;
                }
            }
        }
    }
    if (p->is_max) {
        *val = best_i < 0 ? -FLT_MAX : best;
        *arg = best_i < 0 ? 0 : best_i;
        return;
    }
    if (p->count_include_pad) {
        count = 1;
        int64_t o3[3] = { od, oh, ow };
        for (int j = 0; j < 3; j++) {
            int64_t a, b;
            axis_taps(g, j, o3[j], &a, &b);
            count *= b;
        }
    }
    *val = count ? (float)(sum / (double)count) : 0.0f;
    *arg = 0;
}

eos_status eos__ref_pool(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                         int n_out, eos_err *err) {
    eos_pool_params p;
    EOS_TRY(eos_pool_params_get(n, in[0].ndim, in[0].dims, &p, err));
    pool3 g;
    to_pool3(&p, &g);
    int64_t in_plane = g.in[0] * g.in[1] * g.in[2], plane = g.out[0] * g.out[1] * g.out[2];
    const float *x = in[0].data;
    float *y = out[0].data;
    int64_t *idx = n_out > 1 ? out[1].data : NULL;
    for (int64_t c = 0; c < p.n_batch * p.channels; c++) {
        const float *xp = x + c * in_plane;
        int64_t o = c * plane;
        for (int64_t od = 0; od < g.out[0]; od++)
            for (int64_t oh = 0; oh < g.out[1]; oh++)
                for (int64_t ow = 0; ow < g.out[2]; ow++, o++) {
                    int64_t arg;
                    pool_window(&g, &p, xp, od, oh, ow, &y[o], &arg);
                    if (idx) idx[o] = c * in_plane + arg;
                }
    }
    return EOS_OK;
}
