/*
 * src/ops/ref/ref_conv.c - reference Conv and ConvTranspose (1-3 spatial dims, groups,
 * dilations, strides, asymmetric pads, fused activation + residual).
 *
 * Both are direct convolutions over NC[D]HW tensors, written once for three spatial dims (1-D
 * and 2-D problems get leading axes of size 1). For each output channel the whole output plane
 * is accumulated in a double buffer: for every input channel and kernel tap, rows of the plane
 * are updated with one multiply-add per element over the valid output (Conv) or input
 * (ConvTranspose) range, computed up front so the inner loop has no branches. The result is
 * y = act(acc + bias + residual), the residual read before y is written (y may alias it).
 */
#include <string.h>

#include "eosight/alloc.h"
#include "ops/ref/ref.h"

/* Geometry padded to three spatial axes. */
typedef struct geo3 {
    int64_t in[3], out[3], k[3], s[3], d[3], pb[3];
} geo3;

static void to_geo3(const eos_conv_params *p, geo3 *g) {
    int off = 3 - p->n_spatial;
    for (int j = 0; j < 3; j++) {
        int a = j - off;
        g->in[j] = a < 0 ? 1 : p->in_sp[a];
        g->out[j] = a < 0 ? 1 : p->out_sp[a];
        g->k[j] = a < 0 ? 1 : p->kernel[a];
        g->s[j] = a < 0 ? 1 : p->stride[a];
        g->d[j] = a < 0 ? 1 : p->dilation[a];
        g->pb[j] = a < 0 ? 0 : p->pad_begin[a];
    }
}

static int64_t div_floor(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
static int64_t div_ceil(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

/* The indices i in [0, n_i) with 0 <= i*s + c < n_o, as [lo, hi). */
static void valid_range(int64_t n_i, int64_t n_o, int64_t s, int64_t c, int64_t *lo, int64_t *hi) {
    int64_t l = div_ceil(-c, s), h = div_floor(n_o - 1 - c, s) + 1;
    *lo = l < 0 ? 0 : l;
    *hi = h > n_i ? n_i : h;
    if (*hi < *lo) *hi = *lo;
}

/* y[oc plane] = act(acc + bias + sum). */
static void write_plane(const eos_node *n, const double *acc, int64_t plane, float bias,
                        const float *sum, float *y, int64_t base) {
    for (int64_t i = 0; i < plane; i++)
        y[base + i] = eos__ref_fused(n, (float)(acc[i] + bias), sum, base + i);
}

/* One output channel of Conv: acc += sum over ic, taps of w * x. */
static void conv_channel(const geo3 *g, const float *x, int64_t cin_g, int64_t in_plane,
                         const float *w, double *acc) {
    int64_t kvol = g->k[0] * g->k[1] * g->k[2];
    for (int64_t ic = 0; ic < cin_g; ic++) {
        const float *xp = x + ic * in_plane, *wk = w + ic * kvol;
        for (int64_t kd = 0; kd < g->k[0]; kd++)
        for (int64_t kh = 0; kh < g->k[1]; kh++)
        for (int64_t kw = 0; kw < g->k[2]; kw++) {
            double wv = wk[(kd * g->k[1] + kh) * g->k[2] + kw];
            int64_t cd = kd * g->d[0] - g->pb[0], ch = kh * g->d[1] - g->pb[1];
            int64_t cw = kw * g->d[2] - g->pb[2], lo, hi, sw = g->s[2];
            valid_range(g->out[2], g->in[2], sw, cw, &lo, &hi);
            if (lo >= hi) continue;
            for (int64_t od = 0; od < g->out[0]; od++) {
                int64_t id = od * g->s[0] + cd;
                if (id < 0 || id >= g->in[0]) continue;
                for (int64_t oh = 0; oh < g->out[1]; oh++) {
                    int64_t ih = oh * g->s[1] + ch;
                    if (ih < 0 || ih >= g->in[1]) continue;
                    const float *xr = xp + (id * g->in[1] + ih) * g->in[2];
                    double *ar = acc + (od * g->out[1] + oh) * g->out[2];
                    if (sw == 1) {
                        const float *xs = xr + (lo + cw);
                        for (int64_t ow = lo; ow < hi; ow++) ar[ow] += wv * xs[ow - lo];
                    } else {
                        for (int64_t ow = lo; ow < hi; ow++) ar[ow] += wv * xr[ow * sw + cw];
                    }
                }
            }
        }
    }
}

eos_status eos__ref_conv(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                         int n_out, eos_err *err) {
    eos_conv_params p;
    EOS_TRY(eos_conv_params_get(n, in[0].ndim, in[0].dims, in[1].ndim, in[1].dims, false, &p, err));
    geo3 g;
    to_geo3(&p, &g);
    int64_t in_plane = g.in[0] * g.in[1] * g.in[2], plane = g.out[0] * g.out[1] * g.out[2];
    int64_t cin_g = p.c_in / p.group, cout_g = p.c_out / p.group;
    int64_t kvol = g.k[0] * g.k[1] * g.k[2];
    const float *x = in[0].data, *w = in[1].data;
    const float *bias = eos__has(in, n_in, 2) ? in[2].data : NULL, *sum = eos__ref_sum(n, in);
    float *y = out[0].data;
    double *acc = eos_malloc((size_t)plane * sizeof *acc);
    if (!acc) return eos__node_err(err, EOS_NOMEM, n, "out of memory");
    for (int64_t b = 0; b < p.n_batch; b++)
        for (int64_t oc = 0; oc < p.c_out; oc++) {
            int64_t grp = oc / cout_g;
            memset(acc, 0, (size_t)plane * sizeof *acc);
            conv_channel(&g, x + (b * p.c_in + grp * cin_g) * in_plane, cin_g, in_plane,
                         w + oc * cin_g * kvol, acc);
            write_plane(n, acc, plane, bias ? bias[oc] : 0.0f, sum, y, (b * p.c_out + oc) * plane);
        }
    eos_free(acc);
    return EOS_OK;
}

/* One output channel of ConvTranspose: scatter every input element through every tap. */
static void conv_t_channel(const geo3 *g, const float *x, int64_t cin_g, int64_t in_plane,
                           const float *w, int64_t w_ic_stride, double *acc) {
    for (int64_t ic = 0; ic < cin_g; ic++) {
        const float *xp = x + ic * in_plane, *wk = w + ic * w_ic_stride;
        for (int64_t kd = 0; kd < g->k[0]; kd++)
        for (int64_t kh = 0; kh < g->k[1]; kh++)
        for (int64_t kw = 0; kw < g->k[2]; kw++) {
            double wv = wk[(kd * g->k[1] + kh) * g->k[2] + kw];
            int64_t cd = kd * g->d[0] - g->pb[0], ch = kh * g->d[1] - g->pb[1];
            int64_t cw = kw * g->d[2] - g->pb[2], lo, hi, sw = g->s[2];
            valid_range(g->in[2], g->out[2], sw, cw, &lo, &hi);
            if (lo >= hi) continue;
            for (int64_t id = 0; id < g->in[0]; id++) {
                int64_t od = id * g->s[0] + cd;
                if (od < 0 || od >= g->out[0]) continue;
                for (int64_t ih = 0; ih < g->in[1]; ih++) {
                    int64_t oh = ih * g->s[1] + ch;
                    if (oh < 0 || oh >= g->out[1]) continue;
                    const float *xr = xp + (id * g->in[1] + ih) * g->in[2];
                    double *ar = acc + (od * g->out[1] + oh) * g->out[2];
                    for (int64_t iw = lo; iw < hi; iw++) ar[iw * sw + cw] += wv * xr[iw];
                }
            }
        }
    }
}

eos_status eos__ref_conv_transpose(const eos_node *n, const eos_tensor *in, int n_in,
                                   eos_tensor *out, int n_out, eos_err *err) {
    eos_conv_params p;
    EOS_TRY(eos_conv_params_get(n, in[0].ndim, in[0].dims, in[1].ndim, in[1].dims, true, &p, err));
    geo3 g;
    to_geo3(&p, &g);
    int64_t in_plane = g.in[0] * g.in[1] * g.in[2], plane = g.out[0] * g.out[1] * g.out[2];
    int64_t cin_g = p.c_in / p.group, cout_g = p.c_out / p.group;
    int64_t kvol = g.k[0] * g.k[1] * g.k[2];
    const float *x = in[0].data, *w = in[1].data;
    const float *bias = eos__has(in, n_in, 2) ? in[2].data : NULL, *sum = eos__ref_sum(n, in);
    float *y = out[0].data;
    double *acc = eos_malloc((size_t)plane * sizeof *acc);
    if (!acc) return eos__node_err(err, EOS_NOMEM, n, "out of memory");
    for (int64_t b = 0; b < p.n_batch; b++)
        for (int64_t oc = 0; oc < p.c_out; oc++) {
            int64_t grp = oc / cout_g, oc_g = oc % cout_g;
            memset(acc, 0, (size_t)plane * sizeof *acc);
            /* w: [c_in, cout_g, k...]; first input channel of the group, this output channel */
            conv_t_channel(&g, x + (b * p.c_in + grp * cin_g) * in_plane, cin_g, in_plane,
                           w + (grp * cin_g * cout_g + oc_g) * kvol, cout_g * kvol, acc);
            write_plane(n, acc, plane, bias ? bias[oc] : 0.0f, sum, y, (b * p.c_out + oc) * plane);
        }
    eos_free(acc);
    return EOS_OK;
}
