/*
 * src/data/augment.c - data augmentation (include/eosight/data.h, "augmentation"): the 8
 * flips/rot90s as exact permutations, rotation, shear, perspective skew and random resized crop
 * composed into one projective matrix (warp.c interpolates once, the mask by nearest neighbour
 * with the same matrix so image and mask stay aligned), then colour jitter, per-band gain and
 * offset, and Gaussian noise on the image only.
 *
 * Determinism: every operation draws one uniform number for its "does it apply" test whether
 * or not its probability is 0, then its parameters only when it applies, so a given generator
 * state gives one result. All random choices that touch the image geometry are made before
 * scratch memory is allocated: on EOS_NOMEM the image and mask are still untouched.
 */
#include "data/data_internal.h"

#include <math.h>
#include <string.h>

#include "eosight/alloc.h"

#define PI 3.14159265358979323846

void eos_augment_none(eos_augment *a) { memset(a, 0, sizeof *a); }

void eos_augment_default(eos_augment *a, eos_task task, int n_bands) {
    eos_augment_none(a);
    a->p_d4 = 1.0f;
    if (task == EOS_TASK_SEGMENT) {
        a->p_rotate = 0.25f;
        a->max_rotate_deg = 180.0f;
        a->p_shear = 0.25f;
        a->max_shear_deg = 10.0f;
        a->p_skew = 0.25f;
        a->skew = 0.1f;
        return;
    }
    a->p_scale = 0.5f;
    a->scale_min = 0.6f;
    a->scale_max = 1.0f;
    if (n_bands == 3) {
        a->p_color = 0.5f;
        a->brightness = 0.2f;
        a->contrast = 0.2f;
    } else {
        a->p_gain = 0.5f;
        a->gain = 0.2f;
        a->offset = 0.02f;
    }
}

/* ------------------------------------------------------------------ D4 */

void eos__d4_apply(int op, float *img, int c, int h, int w, uint8_t *mask, float *scratch,
                   uint8_t *mask_scratch) {
    bool fx = op & 1, fy = op & 2, t = op & 4;
    size_t plane = (size_t)h * (size_t)w;
    memcpy(scratch, img, (size_t)c * plane * sizeof *img);
    if (mask) memcpy(mask_scratch, mask, plane);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            int u = fy ? h - 1 - y : y, v = fx ? w - 1 - x : x;
            int sy = t ? v : u, sx = t ? u : v;
            size_t o = (size_t)y * (size_t)w + (size_t)x, s = (size_t)sy * (size_t)w + (size_t)sx;
            for (int b = 0; b < c; b++) img[(size_t)b * plane + o] = scratch[(size_t)b * plane + s];
            if (mask) mask[o] = mask_scratch[s];
        }
    }
}

/* ------------------------------------------------------------------ geometry */

static void mat_mul(double m[9], const double r[9]) {
    double t[9];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            t[3 * i + j] = m[3 * i] * r[j] + m[3 * i + 1] * r[3 + j] + m[3 * i + 2] * r[6 + j];
    memcpy(m, t, sizeof t);
}

/* Output -> source: rotation by `deg` about the image centre. */
static void rotation(double m[9], double deg, int h, int w) {
    double a = deg * PI / 180.0, c = cos(a), s = sin(a), cx = w / 2.0, cy = h / 2.0;
    const double r[9] = { c, -s, cx - c * cx + s * cy, s, c, cy - s * cx - c * cy, 0, 0, 1 };
    mat_mul(m, r);
}

static void shear(double m[9], bool along_x, double deg, int h, int w) {
    double t = tan(deg * PI / 180.0);
    const double sx[9] = { 1, t, -t * h / 2.0, 0, 1, 0, 0, 0, 1 };
    const double sy[9] = { 1, 0, 0, t, 1, -t * w / 2.0, 0, 0, 1 };
    mat_mul(m, along_x ? sx : sy);
}

/* Perspective: the output frame maps onto the quad q (corners (0,0), (w,0), (w,h), (0,h) of the
 * frame moved), through Heckbert's square-to-quad mapping after scaling the frame to the unit
 * square. False when the quad is degenerate. */
static bool skew_matrix(double m[9], const double q[8], int h, int w) {
    double x0 = q[0], y0 = q[1], x1 = q[2], y1 = q[3], x2 = q[4], y2 = q[5], x3 = q[6], y3 = q[7];
    double dx1 = x1 - x2, dx2 = x3 - x2, dx3 = x0 - x1 + x2 - x3;
    double dy1 = y1 - y2, dy2 = y3 - y2, dy3 = y0 - y1 + y2 - y3;
    double det = dx1 * dy2 - dx2 * dy1;
    if (fabs(det) < 1e-9) return false;
    double g = (dx3 * dy2 - dx2 * dy3) / det, k = (dx1 * dy3 - dx3 * dy1) / det;
    const double sq[9] = { x1 - x0 + g * x1, x3 - x0 + k * x3, x0,
                           y1 - y0 + g * y1, y3 - y0 + k * y3, y0, g, k, 1 };
    const double unit[9] = { 1.0 / w, 0, 0, 0, 1.0 / h, 0, 0, 0, 1 };
    mat_mul(m, sq);
    mat_mul(m, unit);
    return true;
}

/* Random resized crop: an area share in [smin, smax] and an aspect ratio in [3/4, 4/3]. */
static void crop_matrix(double m[9], eos_rng *rng, const eos_augment *a, int h, int w) {
    double smin = a->scale_min > 0 ? a->scale_min : 0.08, smax = a->scale_max;
    if (smin > 1) smin = 1;
    if (smax < smin) smax = smin;
    if (smax > 1) smax = 1;
    double s = eos_rng_range(rng, (float)smin, (float)smax);
    double r = exp(eos_rng_range(rng, (float)log(3.0 / 4.0), (float)log(4.0 / 3.0)));
    double cw = fmin(w, w * sqrt(s * r)), ch = fmin(h, h * sqrt(s / r));
    double x0 = eos_rng_range(rng, 0.0f, (float)(w - cw)),
           y0 = eos_rng_range(rng, 0.0f, (float)(h - ch));
    const double c[9] = { cw / w, 0, x0, 0, ch / h, y0, 0, 0, 1 };
    mat_mul(m, c);
}

typedef struct plan {
    int    d4;            /* 0: identity */
    bool   warp;
    double m[9];
    bool   color;
    float  bright, contrast, sat, hue;   /* factors 1 (hue 0) where not drawn */
} plan;

static bool hit(eos_rng *rng, float p) { return eos_rng_uniform(rng) < p; }

static float factor(eos_rng *rng, float amount) {
    if (!(amount > 0)) return 1.0f;
    return eos_rng_range(rng, fmaxf(0.0f, 1.0f - amount), 1.0f + amount);
}

static void draw_geometry(const eos_augment *a, eos_rng *rng, int h, int w, plan *p) {
    static const double id[9] = { 1, 0, 0, 0, 1, 0, 0, 0, 1 };
    memcpy(p->m, id, sizeof id);
    if (hit(rng, a->p_d4)) p->d4 = (int)eos_rng_below(rng, h == w ? 8 : 4);
    if (hit(rng, a->p_rotate)) {
        rotation(p->m, eos_rng_range(rng, -a->max_rotate_deg, a->max_rotate_deg), h, w);
        p->warp = true;
    }
    if (hit(rng, a->p_shear)) {
        bool along_x = eos_rng_below(rng, 2) == 0;
        shear(p->m, along_x, eos_rng_range(rng, -a->max_shear_deg, a->max_shear_deg), h, w);
        p->warp = true;
    }
    if (hit(rng, a->p_skew)) {
        float s = fminf(fabsf(a->skew), 0.45f);
        double q[8] = { 0, 0, w, 0, w, h, 0, h };
        for (int k = 0; k < 8; k++) q[k] += eos_rng_range(rng, -s, s) * (k % 2 ? h : w);
        p->warp = skew_matrix(p->m, q, h, w) || p->warp;
    }
    if (hit(rng, a->p_scale)) {
        crop_matrix(p->m, rng, a, h, w);
        p->warp = true;
    }
}

static void draw_color(const eos_augment *a, eos_rng *rng, int c, plan *p) {
    p->bright = p->contrast = p->sat = 1.0f;
    p->hue = 0.0f;
    if (!hit(rng, a->p_color) || c != 3) return;
    p->color = true;
    p->bright = factor(rng, a->brightness);
    p->contrast = factor(rng, a->contrast);
    p->sat = factor(rng, a->saturation);
    if (a->hue > 0) p->hue = eos_rng_range(rng, -a->hue, a->hue);
}

/* ------------------------------------------------------------------ colour */

static float grey(float r, float g, float b) { return 0.299f * r + 0.587f * g + 0.114f * b; }

/* Hue rotation by `turns` of the colour circle as one RGB matrix (rotation in YIQ). */
static void hue_matrix(float turns, float t[9]) {
    static const double yiq[9] = {0.299, 0.587, 0.114, 0.596, -0.274, -0.322, 0.211, -0.523, 0.312};
    static const double rgb[9] = { 1.0, 0.956, 0.621, 1.0, -0.272, -0.647, 1.0, -1.106, 1.703 };
    double a = turns * 2 * PI, c = cos(a), s = sin(a);
    double rot[9] = { 1, 0, 0, 0, c, -s, 0, s, c };
    double m[9];
    memcpy(m, rgb, sizeof m);
    mat_mul(m, rot);
    mat_mul(m, yiq);
    for (int i = 0; i < 9; i++) t[i] = (float)m[i];
}

static void apply_color(const plan *p, float *img, int h, int w, float value_max) {
    size_t n = (size_t)h * (size_t)w;
    float *R = img, *G = img + n, *B = img + 2 * n;
    if (p->bright != 1.0f)
        for (size_t i = 0; i < 3 * n; i++) img[i] *= p->bright;
    if (p->contrast != 1.0f) {
        double m = 0;
        for (size_t i = 0; i < n; i++) m += grey(R[i], G[i], B[i]);
        float mean = (float)(m / (double)n);
        for (size_t i = 0; i < 3 * n; i++) img[i] = (img[i] - mean) * p->contrast + mean;
    }
    if (p->sat != 1.0f) {
        for (size_t i = 0; i < n; i++) {
            float g = grey(R[i], G[i], B[i]);
            R[i] = g + (R[i] - g) * p->sat;
            G[i] = g + (G[i] - g) * p->sat;
            B[i] = g + (B[i] - g) * p->sat;
        }
    }
    if (p->hue != 0.0f) {
        float t[9];
        hue_matrix(p->hue, t);
        for (size_t i = 0; i < n; i++) {
            float r = R[i], g = G[i], b = B[i];
            R[i] = t[0] * r + t[1] * g + t[2] * b;
            G[i] = t[3] * r + t[4] * g + t[5] * b;
            B[i] = t[6] * r + t[7] * g + t[8] * b;
        }
    }
    if (value_max > 0)
        for (size_t i = 0; i < 3 * n; i++) img[i] = fminf(fmaxf(img[i], 0.0f), value_max);
}

static void apply_gain_noise(const eos_augment *a, eos_rng *rng, float *img, int c, int h, int w,
                             float value_max) {
    size_t n = (size_t)h * (size_t)w;
    if (hit(rng, a->p_gain)) {
        for (int b = 0; b < c; b++) {
            float g = factor(rng, a->gain);
            float o = a->offset > 0 ? eos_rng_range(rng, -a->offset, a->offset) * value_max : 0.0f;
            float *x = img + (size_t)b * n;
            for (size_t i = 0; i < n; i++) x[i] = x[i] * g + o;
        }
    }
    if (hit(rng, a->p_noise) && a->noise_std > 0) {
        float sd = a->noise_std * value_max;
        for (size_t i = 0; i < (size_t)c * n; i++) img[i] += sd * eos_rng_normal(rng);
    }
}

/* ------------------------------------------------------------------ apply */

eos_status eos_augment_apply(const eos_augment *a, eos_rng *rng, float *img, int c, int h, int w,
                             uint8_t *mask, float value_max) {
    if (!a || !rng || !img || c < 1 || h < 1 || w < 1 || (int64_t)c * h * w > ((int64_t)1 << 31))
        return EOS_INVALID_ARG;
    plan p;
    memset(&p, 0, sizeof p);
    draw_geometry(a, rng, h, w, &p);
    draw_color(a, rng, c, &p);
    size_t plane = (size_t)h * (size_t)w;
    if (p.d4 || p.warp) {
        float *scratch = eos_malloc((size_t)c * plane * sizeof *scratch);
        uint8_t *mscratch = mask ? eos_malloc(plane) : NULL;
        if (!scratch || (mask && !mscratch)) {
            eos_free(scratch);
            eos_free(mscratch);
            return EOS_NOMEM;
        }
        if (p.d4) eos__d4_apply(p.d4, img, c, h, w, mask, scratch, mscratch);
        if (p.warp) {
            memcpy(scratch, img, (size_t)c * plane * sizeof *img);
            if (mask) memcpy(mscratch, mask, plane);
            eos__warp(p.m, scratch, mask ? mscratch : NULL, c, h, w, img, mask, h, w,
                      EOS__EDGE_REFLECT);
        }
        eos_free(scratch);
        eos_free(mscratch);
    }
    if (p.color) apply_color(&p, img, h, w, value_max);
    apply_gain_noise(a, rng, img, c, h, w, value_max);
    return EOS_OK;
}
