/*
 * src/ops/ref/ref_resize.c - reference Resize / Upsample: nearest (every nearest_mode), n-linear
 * and cubic interpolation with every coordinate_transformation_mode, on any rank.
 *
 * Interpolation is separable, so for each axis and each output index a small table of taps
 * (input offset, weight; 1 for nearest, 2 for linear, 4 for cubic) is built first; an output
 * element is then the sum over the product of its axes' taps. Coordinates are computed in
 * float exactly as onnxruntime does, so nearest-neighbour ties break the same way.
 *   linear: the source coordinate is clamped to [0, in-1] (edge replication);
 *   cubic:  taps at floor(x)-1 .. floor(x)+2 with coefficient cubic_coeff_a, indices clamped
 *           to the edge, or with exclude_outside dropped and the weights renormalised;
 *   tf_crop_and_resize: a source coordinate outside [0, in-1] gives extrapolation_value.
 */
#include <math.h>
#include <string.h>

#include "eosight/alloc.h"
#include "ops/ref/ref.h"

#define MAX_TAPS 4

typedef struct axis_taps {
    int      n_taps;
    int64_t *off;       /* [out * MAX_TAPS] element offsets into the input */
    float   *w;         /* [out * MAX_TAPS] */
    uint8_t *outside;   /* [out] tf_crop_and_resize extrapolation */
} axis_taps;

static float src_coord(const eos_resize_params *p, int a, int64_t o, float roi_s, float roi_e) {
    float s = p->scales[a], li = (float)p->in_dims[a], lo = (float)p->out_dims[a], x = (float)o;
    switch (p->coord) {
    case EOS_COORD_HALF_PIXEL:         return (x + 0.5f) / s - 0.5f;
    case EOS_COORD_PYTORCH_HALF_PIXEL: return lo > 1.0f ? (x + 0.5f) / s - 0.5f : 0.0f;
    case EOS_COORD_ALIGN_CORNERS:      return lo == 1.0f ? 0.0f : x * (li - 1.0f) / (lo - 1.0f);
    case EOS_COORD_ASYMMETRIC:         return x / s;
    case EOS_COORD_TF_CROP_AND_RESIZE:
        return lo > 1.0f ? roi_s * (li - 1.0f) + x * (roi_e - roi_s) * (li - 1.0f) / (lo - 1.0f)
                         : 0.5f * (roi_s + roi_e) * (li - 1.0f);
    }
    return x;
}

static int64_t nearest_index(eos_resize_nearest m, float x) {
    switch (m) {
    case EOS_NEAREST_ROUND_PREFER_FLOOR:
        return x == (float)(int64_t)x + 0.5f ? (int64_t)floorf(x) : (int64_t)roundf(x);
    case EOS_NEAREST_ROUND_PREFER_CEIL: return (int64_t)roundf(x);
    case EOS_NEAREST_FLOOR:             return (int64_t)floorf(x);
    case EOS_NEAREST_CEIL:              return (int64_t)ceilf(x);
    }
    return (int64_t)x;
}

static int64_t clampi(int64_t v, int64_t n) { return v < 0 ? 0 : (v >= n ? n - 1 : v); }

static void cubic_coeffs(float a, float t, float *c) {
    float t1 = t + 1.0f, t2 = 1.0f - t, t3 = 2.0f - t;
    c[0] = ((a * t1 - 5.0f * a) * t1 + 8.0f * a) * t1 - 4.0f * a;
    c[1] = ((a + 2.0f) * t - (a + 3.0f)) * t * t + 1.0f;
    c[2] = ((a + 2.0f) * t2 - (a + 3.0f)) * t2 * t2 + 1.0f;
    c[3] = ((a * t3 - 5.0f * a) * t3 + 8.0f * a) * t3 - 4.0f * a;
}

/* Fill taps for output index o of axis a (input stride `st`). */
static void fill_taps(const eos_resize_params *p, int a, int64_t o, int64_t st, float roi_s,
                      float roi_e, bool exclude_outside, axis_taps *t) {
    int64_t li = p->in_dims[a], *off = t->off + o * MAX_TAPS;
    float *w = t->w + o * MAX_TAPS, x = src_coord(p, a, o, roi_s, roi_e);
    t->outside[o] = p->coord == EOS_COORD_TF_CROP_AND_RESIZE &&
                    (x < 0.0f || x > (float)(li - 1));
    /* keep the integer casts below defined for absurd roi / scales (huge, infinite or NaN) */
    if (!(x > -0x1p40f)) x = -0x1p40f;
    else if (x > 0x1p40f) x = 0x1p40f;
    if (p->mode == EOS_RESIZE_NEAREST) {
        off[0] = clampi(nearest_index(p->nearest, x), li) * st;
        w[0] = 1.0f;
    } else if (p->mode == EOS_RESIZE_LINEAR) {
        float xc = x < 0.0f ? 0.0f : (x > (float)(li - 1) ? (float)(li - 1) : x);
        int64_t x0 = clampi((int64_t)xc, li), x1 = clampi(x0 + 1, li);
        float f = xc - (float)x0;
        off[0] = x0 * st;
        off[1] = x1 * st;
        w[0] = x0 == x1 ? 0.5f : 1.0f - f;
        w[1] = x0 == x1 ? 0.5f : f;
    } else {
        int64_t x0 = (int64_t)floorf(x);
        float c[4], sum = 0.0f;
        cubic_coeffs(p->cubic_a, x - (float)x0, c);
        for (int k = 0; k < 4; k++) {
            int64_t xi = x0 - 1 + k;
            if (exclude_outside && (xi < 0 || xi >= li)) c[k] = 0.0f;
            sum += c[k];
            off[k] = clampi(xi, li) * st;
        }
        for (int k = 0; k < 4; k++) w[k] = exclude_outside && sum != 0.0f ? c[k] / sum : c[k];
    }
}

/* ROI start/end per axis (tf_crop_and_resize only; else 0 / 1). */
static eos_status read_roi(const eos_node *n, const eos_tensor *in, int n_in,
                           const eos_resize_params *p, float *rs, float *re, eos_err *err) {
    for (int a = 0; a < p->ndim; a++) {
        rs[a] = 0.0f;
        re[a] = 1.0f;
    }
    if (p->coord != EOS_COORD_TF_CROP_AND_RESIZE) return EOS_OK;
    float roi[2 * EOS_MAX_DIMS];
    int cnt, axes[EOS_MAX_DIMS], n_axes = p->ndim;
    EOS_TRY(eos__const_floats(n, &in[1], "roi", roi, 2 * EOS_MAX_DIMS, &cnt, err));
    int64_t na;
    const int64_t *ax = eos_attr_ints(n, "axes", &na);
    for (int a = 0; a < p->ndim; a++) axes[a] = a;
    if (ax) {
        n_axes = (int)na;
        for (int i = 0; i < n_axes; i++) axes[i] = (int)(ax[i] < 0 ? ax[i] + p->ndim : ax[i]);
    }
    for (int i = 0; i < n_axes; i++) {
        rs[axes[i]] = roi[i];
        re[axes[i]] = roi[n_axes + i];
    }
    return EOS_OK;
}

static eos_status build_tables(const eos_node *n, const eos_tensor *in, int n_in,
                               const eos_resize_params *p, axis_taps *tab, void **mem,
                               eos_err *err) {
    float rs[EOS_MAX_DIMS], re[EOS_MAX_DIMS];
    EOS_TRY(read_roi(n, in, n_in, p, rs, re, err));
    int64_t total = 0, st[EOS_MAX_DIMS], s = 1;
    for (int a = p->ndim - 1; a >= 0; a--) {
        st[a] = s;
        s *= p->in_dims[a];
        total += p->out_dims[a];
    }
    size_t per = MAX_TAPS * (sizeof(int64_t) + sizeof(float)) + 1;
    char *m = eos_malloc((size_t)total * per);
    if (!m) return eos__node_err(err, EOS_NOMEM, n, "out of memory");
    *mem = m;
    int64_t *m_off = (int64_t *)m;                     /* all offsets, then weights, then flags */
    float *m_w = (float *)(m + (size_t)total * MAX_TAPS * sizeof(int64_t));
    uint8_t *m_out = (uint8_t *)(m_w + total * MAX_TAPS);
    bool excl = eos_attr_int(n, "exclude_outside", 0) != 0;
    int taps = p->mode == EOS_RESIZE_NEAREST ? 1 : (p->mode == EOS_RESIZE_LINEAR ? 2 : 4);
    for (int a = 0; a < p->ndim; a++) {
        axis_taps *t = &tab[a];
        int64_t no = p->out_dims[a];
        t->off = m_off;
        t->w = m_w;
        t->outside = m_out;
        m_off += no * MAX_TAPS;
        m_w += no * MAX_TAPS;
        m_out += no;
        bool identity = p->in_dims[a] == no && p->scales[a] == 1.0f &&
                        p->coord != EOS_COORD_TF_CROP_AND_RESIZE;
        t->n_taps = identity ? 1 : taps;
        for (int64_t o = 0; o < no; o++) {
            if (identity) {
                t->off[o * MAX_TAPS] = o * st[a];
                t->w[o * MAX_TAPS] = 1.0f;
                t->outside[o] = 0;
            } else {
                fill_taps(p, a, o, st[a], rs[a], re[a], excl, t);
            }
        }
    }
    return EOS_OK;
}

eos_status eos__ref_resize(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                           int n_out, eos_err *err) {
    eos_value vals[4];
    const eos_value *pv[4] = { NULL, NULL, NULL, NULL };
    for (int i = 0; i < n_in && i < 4; i++) {
        if (in[i].dtype == EOS_DTYPE_UNDEFINED) continue;
        eos__value_from_tensor(&vals[i], &in[i]);
        pv[i] = &vals[i];
    }
    eos_node tmp = *n;
    tmp.n_in = n_in;
    eos_resize_params p;
    EOS_TRY(eos_resize_params_get(&tmp, pv, &p, err));
    axis_taps tab[EOS_MAX_DIMS];
    void *mem = NULL;
    EOS_TRY(build_tables(n, in, n_in, &p, tab, &mem, err));
    float extrap = eos_attr_float(n, "extrapolation_value", 0.0f);
    int active[EOS_MAX_DIMS], n_act = 0, combos = 1;
    for (int a = 0; a < p.ndim; a++)
        if (tab[a].n_taps > 1) {
            active[n_act++] = a;
            combos *= tab[a].n_taps;
        }
    const float *x = in[0].data;
    float *y = out[0].data;
    int64_t total = eos__numel(&out[0]), idx[EOS_MAX_DIMS] = { 0 };
    for (int64_t i = 0; i < total; i++) {
        bool outside = false;
        int64_t base = 0;
        for (int a = 0; a < p.ndim; a++) {
            outside |= tab[a].outside[idx[a]] != 0;
            if (tab[a].n_taps == 1) base += tab[a].off[idx[a] * MAX_TAPS];
        }
        double v = 0.0;
        for (int c = 0; c < combos && !outside; c++) {
            int rem = c;
            int64_t off = base;
            double w = 1.0;
            for (int k = n_act - 1; k >= 0; k--) {
                const axis_taps *t = &tab[active[k]];
                int tap = rem % t->n_taps;
                rem /= t->n_taps;
                off += t->off[idx[active[k]] * MAX_TAPS + tap];
                w *= t->w[idx[active[k]] * MAX_TAPS + tap];
            }
            v += w * x[off];
        }
        y[i] = outside ? extrap : (float)v;
        for (int a = p.ndim - 1; a >= 0; a--) {      /* odometer */
            if (++idx[a] < p.out_dims[a]) break;
            idx[a] = 0;
        }
    }
    eos_free(mem);
    return EOS_OK;
}
