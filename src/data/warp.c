/*
 * src/data/warp.c - the resampling kernels of src/data: windows cut from a decoded image with
 * mirror padding (patches, crops, whole images as f32), and one projective warp that serves
 * every geometric augmentation (rotation, shear, skew, random resized crop, composed into one
 * matrix so an image is interpolated once) as well as the loader's resize.
 *
 * Coordinates: pixel (x, y) covers [x, x+1) x [y, y+1); its centre (x + 0.5, y + 0.5) is what
 * the matrix maps, so an identity matrix reproduces the image exactly and a scaling by 2
 * matches PyTorch's bilinear interpolate with align_corners=False. Images are interpolated
 * bilinearly, masks by nearest neighbour (class indices must stay classes). Outside the
 * source, coordinates are mirror-reflected (edge pixel not repeated, as the raster layer pads)
 * or, for resizing, clamped to the edge.
 */
#include "data/data_internal.h"

#include <math.h>
#include <string.h>

int eos__reflect(int64_t i, int n) {
    if (i >= 0 && i < n) return (int)i;
    if (n <= 1) return 0;
    int64_t period = 2 * (int64_t)(n - 1);
    i %= period;
    if (i < 0) i += period;
    return (int)(i >= n ? period - i : i);
}

static inline int clampi(int64_t i, int n) { return (int)(i < 0 ? 0 : i >= n ? n - 1 : i); }

/* One output row: source row sy of an interleaved image, columns x0.. (reflected when not
 * inside), into the c band rows of dst. */
#define WINDOW_ROW(T)                                                                       \
    do {                                                                                    \
        const T *s = (const T *)src + (size_t)sy * (size_t)w * (size_t)c;                  \
        if (c == 3 && inside) {                                                             \
            const T *p = s + (size_t)x0 * 3;                                               \
            for (int x = 0; x < ow; x++, p += 3) {                                          \
                d[x] = (float)p[0];                                                         \
                d[plane + x] = (float)p[1];                                                 \
                d[2 * plane + x] = (float)p[2];                                             \
            }                                                                               \
        } else {                                                                            \
            for (int x = 0; x < ow; x++) {                                                  \
                int sx = inside ? x0 + x : eos__reflect((int64_t)x0 + x, w);                \
                const T *p = s + (size_t)sx * (size_t)c;                                   \
                for (int b = 0; b < c; b++) d[(size_t)b * plane + x] = (float)p[b];         \
            }                                                                               \
        }                                                                                   \
    } while (0)

void eos__window_f32(const void *src, eos_dtype st, int c, int h, int w, int x0, int y0, int ow,
                     int oh, float *dst) {
    bool inside = x0 >= 0 && (int64_t)x0 + ow <= w;
    size_t plane = (size_t)oh * (size_t)ow;
    for (int y = 0; y < oh; y++) {
        int sy = eos__reflect((int64_t)y0 + y, h);
        float *d = dst + (size_t)y * (size_t)ow;
        switch (st) {
        case EOS_DTYPE_U8:  WINDOW_ROW(uint8_t); break;
        case EOS_DTYPE_U16: WINDOW_ROW(uint16_t); break;
        case EOS_DTYPE_I16: WINDOW_ROW(int16_t); break;
        default:            WINDOW_ROW(float); break;
        }
    }
}

void eos__window_u8(const uint8_t *src, int h, int w, int x0, int y0, int ow, int oh,
                    uint8_t *dst) {
    bool inside = x0 >= 0 && (int64_t)x0 + ow <= w;
    for (int y = 0; y < oh; y++) {
        const uint8_t *s = src + (size_t)eos__reflect((int64_t)y0 + y, h) * (size_t)w;
        uint8_t *d = dst + (size_t)y * (size_t)ow;
        if (inside) memcpy(d, s + x0, (size_t)ow);
        else
            for (int x = 0; x < ow; x++) d[x] = s[eos__reflect((int64_t)x0 + x, w)];
    }
}

/* Source coordinate of an output pixel centre, made finite and bounded (a projective map may
 * send points to infinity; reflection is periodic, so the bound changes nothing visible). */
static inline void map_point(const double m[9], int x, int y, double *sx, double *sy) {
    double px = x + 0.5, py = y + 0.5;
    double X = m[0] * px + m[1] * py + m[2];
    double Y = m[3] * px + m[4] * py + m[5];
    double Z = m[6] * px + m[7] * py + m[8];
    if (fabs(Z) < 1e-9) Z = Z < 0 ? -1e-9 : 1e-9;
    double u = X / Z - 0.5, v = Y / Z - 0.5;
    *sx = u == u ? fmax(-1e7, fmin(1e7, u)) : 0.0;
    *sy = v == v ? fmax(-1e7, fmin(1e7, v)) : 0.0;
}

static inline int edge_index(int64_t i, int n, eos__edge e) {
    if (i >= 0 && i < n) return (int)i;
    return e == EOS__EDGE_REFLECT ? eos__reflect(i, n) : clampi(i, n);
}

void eos__warp(const double m[9], const float *src, const uint8_t *src_mask, int c, int h, int w,
               float *dst, uint8_t *dst_mask, int oh, int ow, eos__edge edge) {
    size_t splane = (size_t)h * (size_t)w, dplane = (size_t)oh * (size_t)ow;
    for (int y = 0; y < oh; y++) {
        for (int x = 0; x < ow; x++) {
            double sx, sy;
            map_point(m, x, y, &sx, &sy);
            size_t o = (size_t)y * (size_t)ow + (size_t)x;
            if (src_mask && dst_mask) {
                int nx = edge_index((int64_t)floor(sx + 0.5), w, edge);
                int ny = edge_index((int64_t)floor(sy + 0.5), h, edge);
                dst_mask[o] = src_mask[(size_t)ny * (size_t)w + (size_t)nx];
            }
            if (!src || !dst) continue;
            double fx0 = floor(sx), fy0 = floor(sy);
            float ax = (float)(sx - fx0), ay = (float)(sy - fy0);
            int x0 = edge_index((int64_t)fx0, w, edge), x1 = edge_index((int64_t)fx0 + 1, w, edge);
            int y0 = edge_index((int64_t)fy0, h, edge), y1 = edge_index((int64_t)fy0 + 1, h, edge);
            size_t i00 = (size_t)y0 * (size_t)w + (size_t)x0,
                   i01 = (size_t)y0 * (size_t)w + (size_t)x1;
            size_t i10 = (size_t)y1 * (size_t)w + (size_t)x0,
                   i11 = (size_t)y1 * (size_t)w + (size_t)x1;
            for (int b = 0; b < c; b++) {
                const float *s = src + (size_t)b * splane;
                float top = s[i00] + ax * (s[i01] - s[i00]);
                float bot = s[i10] + ax * (s[i11] - s[i10]);
                dst[(size_t)b * dplane + o] = top + ay * (bot - top);
            }
        }
    }
}

/* Source taps of one axis for a resize from n to m pixels (half-pixel centres, edge clamp). */
static void resize_taps(int n, int m, int *i0, int *i1, float *t) {
    double scale = (double)n / m;
    for (int k = 0; k < m; k++) {
        double s = (k + 0.5) * scale - 0.5, f = floor(s);
        i0[k] = clampi((int64_t)f, n);
        i1[k] = clampi((int64_t)f + 1, n);
        t[k] = (float)(s - f);
    }
}

void eos__resize(const float *src, const uint8_t *src_mask, int c, int h, int w, float *dst,
                 uint8_t *dst_mask, int oh, int ow) {
    if (oh > 4096 || ow > 4096) {   /* the taps live on the stack; larger outputs warp */
        const double m[9] = { (double)w / ow, 0, 0, 0, (double)h / oh, 0, 0, 0, 1 };
        eos__warp(m, src, src_mask, c, h, w, dst, dst_mask, oh, ow, EOS__EDGE_CLAMP);
        return;
    }
    int x0[4096], x1[4096], y0[4096], y1[4096];
    float ax[4096], ay[4096];
    resize_taps(w, ow, x0, x1, ax);
    resize_taps(h, oh, y0, y1, ay);
    for (int b = 0; src && dst && b < c; b++) {
        const float *s = src + (size_t)b * (size_t)h * (size_t)w;
        float *d = dst + (size_t)b * (size_t)oh * (size_t)ow;
        for (int y = 0; y < oh; y++) {
            const float *r0 = s + (size_t)y0[y] * (size_t)w, *r1 = s + (size_t)y1[y] * (size_t)w;
            float *o = d + (size_t)y * (size_t)ow;
            for (int x = 0; x < ow; x++) {
                float top = r0[x0[x]] + ax[x] * (r0[x1[x]] - r0[x0[x]]);
                float bot = r1[x0[x]] + ax[x] * (r1[x1[x]] - r1[x0[x]]);
                o[x] = top + ay[y] * (bot - top);
            }
        }
    }
    if (!src_mask || !dst_mask) return;
    for (int y = 0; y < oh; y++) {
        /* nearest: the nearer of the two taps (ties to the upper, as floor(s + 0.5)) */
        const uint8_t *r = src_mask + (size_t)(ay[y] < 0.5f ? y0[y] : y1[y]) * (size_t)w;
        for (int x = 0; x < ow; x++)
            dst_mask[(size_t)y * (size_t)ow + (size_t)x] = r[ax[x] < 0.5f ? x0[x] : x1[x]];
    }
}
