/*
 * src/ops/x86/avx512/smallconv.c - AVX-512 kernel for weight-bound small-spatial convolutions
 * (see src/ops/x86/smallconv.h). This translation unit is compiled with -mavx512f; callers
 * check eos_smallconv_available() before using it.
 *
 * Inner loop: for one block of 16 output channels, the weights of that block are one contiguous
 * stream [c_in/16][k_h][k_w][16 in][16 out]; every 64-byte weight vector is multiplied with one
 * broadcast input value per output pixel (P <= 16 accumulators in registers). The input is
 * copied once per run into a zero-padded buffer so that the loop has no bounds checks; the
 * wasted multiplications with padding are free on layers that wait for weights anyway.
 */
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include "eosight/alloc.h"
#include "ops/x86/smallconv.h"

#define MAX_PX 16
#ifndef PREFETCH_FLOATS
#define PREFETCH_FLOATS 1024   /* 4 KiB ahead in the weight stream */
#endif

struct eos_smallconv {
    eos_conv_params cp;
    eos_fusion      fuse;
    int64_t         cb, ob;            /* c_in/16, c_out/16 */
    int64_t         hp, wp;            /* padded input height/width */
    int             n_px;              /* n_batch * out_h * out_w */
    int64_t         x_off[MAX_PX];     /* per pixel: offset of its window in the padded input */
    int64_t         y_off[MAX_PX];     /* per pixel: offset in y of block 0 */
    float          *w;                 /* packed weights */
    float          *bias;              /* c_out floats (zeros when none) */
};

bool eos_smallconv_available(void) {
    const char *cpu = getenv("EOS_CPU");
    if (cpu && !strcmp(cpu, "generic")) return false;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}

bool eos_smallconv_applicable(const eos_conv_params *cp, const eos_fusion *f) {
    if (cp->transposed || cp->n_spatial != 2 || cp->group != 1) return false;
    if (cp->c_in % 16 || cp->c_out % 16) return false;
    int64_t px = cp->n_batch * cp->out_sp[0] * cp->out_sp[1];
    if (px < 1 || px > MAX_PX) return false;
    for (int d = 0; d < 2; d++)
        if (cp->dilation[d] != 1 || cp->kernel[d] > 7 || cp->stride[d] > 4) return false;
    /* weight-bound: at least 256 KB of weights (smaller layers stay in cache for oneDNN) */
    if (cp->c_in * cp->c_out * cp->kernel[0] * cp->kernel[1] * 4 < 256 * 1024) return false;
    switch (f->act) {
    case EOS_ACT_NONE: case EOS_ACT_RELU: case EOS_ACT_LEAKY_RELU: case EOS_ACT_CLIP: break;
    default: return false;
    }
    return eos_smallconv_available();
}

eos_status eos_smallconv_create(const eos_conv_params *cp, const float *w, const float *bias,
                                const eos_fusion *f, eos_smallconv **out, eos_err *err) {
    *out = NULL;
    eos_smallconv *k = eos_calloc(1, sizeof *k);
    if (!k) return eos_err_set(err, EOS_NOMEM, "out of memory");
    k->cp = *cp;
    k->fuse = *f;
    k->cb = cp->c_in / 16;
    k->ob = cp->c_out / 16;
    k->hp = cp->in_sp[0] + cp->pad_begin[0] + cp->pad_end[0];
    k->wp = cp->in_sp[1] + cp->pad_begin[1] + cp->pad_end[1];
    /* the padded extent must hold every window (pad_end may be smaller than what stride needs) */
    int64_t need_h = (cp->out_sp[0] - 1) * cp->stride[0] + cp->kernel[0];
    int64_t need_w = (cp->out_sp[1] - 1) * cp->stride[1] + cp->kernel[1];
    if (need_h > k->hp) k->hp = need_h;
    if (need_w > k->wp) k->wp = need_w;
    int64_t kh = cp->kernel[0], kw = cp->kernel[1];
    size_t wn = (size_t)(cp->c_out * cp->c_in * kh * kw);
    k->w = eos_malloc(wn * sizeof(float));
    k->bias = eos_calloc((size_t)cp->c_out, sizeof(float));
    if (!k->w || !k->bias) {
        eos_smallconv_free(k);
        return eos_err_set(err, EOS_NOMEM, "out of memory packing convolution weights");
    }
    for (int64_t o = 0; o < cp->c_out; o++)
        for (int64_t i = 0; i < cp->c_in; i++)
            for (int64_t y = 0; y < kh; y++)
                for (int64_t x = 0; x < kw; x++) {
                    int64_t dst = ((((o / 16 * k->cb + i / 16) * kh + y) * kw + x) * 16 + i % 16) * 16 + o % 16;
                    k->w[dst] = w[((o * cp->c_in + i) * kh + y) * kw + x];
                }
    if (bias) memcpy(k->bias, bias, (size_t)cp->c_out * sizeof(float));
    int p = 0;
    for (int64_t n = 0; n < cp->n_batch; n++)
        for (int64_t oy = 0; oy < cp->out_sp[0]; oy++)
            for (int64_t ox = 0; ox < cp->out_sp[1]; ox++, p++) {
                k->x_off[p] = ((n * k->cb * k->hp + oy * cp->stride[0]) * k->wp + ox * cp->stride[1]) * 16;
                k->y_off[p] = ((n * k->ob * cp->out_sp[0] + oy) * cp->out_sp[1] + ox) * 16;
            }
    k->n_px = p;
    *out = k;
    return EOS_OK;
}

size_t eos_smallconv_scratch_bytes(const eos_smallconv *k) {
    return (size_t)(k->cp.n_batch * k->cb * k->hp * k->wp * 16) * sizeof(float);
}

void eos_smallconv_free(eos_smallconv *k) {
    if (!k) return;
    eos_free(k->w);
    eos_free(k->bias);
    eos_free(k);
}

static void pad_input(const eos_smallconv *k, const float *x, float *xp) {
    const eos_conv_params *cp = &k->cp;
    memset(xp, 0, eos_smallconv_scratch_bytes(k));
    int64_t ih = cp->in_sp[0], iw = cp->in_sp[1];
    for (int64_t n = 0; n < cp->n_batch; n++)
        for (int64_t c = 0; c < k->cb; c++)
            for (int64_t y = 0; y < ih; y++) {
                const float *src = x + ((n * k->cb + c) * ih + y) * iw * 16;
                float *dst = xp + (((n * k->cb + c) * k->hp + y + cp->pad_begin[0]) * k->wp +
                                   cp->pad_begin[1]) * 16;
                memcpy(dst, src, (size_t)iw * 16 * sizeof(float));
            }
}

static inline __m512 act(const eos_fusion *f, __m512 v) {
    switch (f->act) {
    case EOS_ACT_RELU: return _mm512_max_ps(v, _mm512_setzero_ps());
    case EOS_ACT_LEAKY_RELU: {
        __mmask16 neg = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ);
        return _mm512_mask_mul_ps(v, neg, v, _mm512_set1_ps(f->alpha));
    }
    case EOS_ACT_CLIP:
        return _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(f->alpha)), _mm512_set1_ps(f->beta));
    default: return v;
    }
}

/* One block of 16 output channels for P pixels; P is a compile-time constant at every call. */
static inline __attribute__((always_inline)) void block(const eos_smallconv *k, const float *xp,
                                                        float *y, bool with_sum, int64_t ob,
                                                        const int P) {
    const int64_t kh = k->cp.kernel[0], kw = k->cp.kernel[1];
    const int64_t plane = k->hp * k->wp * 16;
    __m512 acc[MAX_PX];
    __m512 b = _mm512_loadu_ps(k->bias + ob * 16);
#pragma GCC unroll 16
    for (int p = 0; p < P; p++) acc[p] = b;
    const float *w = k->w + ob * k->cb * kh * kw * 256;
    for (int64_t cb = 0; cb < k->cb; cb++) {
        for (int64_t ky = 0; ky < kh; ky++)
            for (int64_t kx = 0; kx < kw; kx++) {
                const float *xb = xp + cb * plane + (ky * k->wp + kx) * 16;
                for (int ci = 0; ci < 16; ci++) {
                    /* the dependency chains keep the out-of-order window from looking far
                     * enough ahead to cover cache latency: fetch the weight stream ahead */
                    _mm_prefetch((const char *)(w + PREFETCH_FLOATS), _MM_HINT_T0);
                    __m512 wv = _mm512_load_ps(w);
                    w += 16;
#pragma GCC unroll 16
                    for (int p = 0; p < P; p++)
                        acc[p] = _mm512_fmadd_ps(wv, _mm512_set1_ps(xb[k->x_off[p] + ci]), acc[p]);
                }
            }
    }
#pragma GCC unroll 16
    for (int p = 0; p < P; p++) {
        float *dst = y + k->y_off[p] + ob * k->cp.out_sp[0] * k->cp.out_sp[1] * 16;
        __m512 v = acc[p];
        if (with_sum) v = _mm512_add_ps(v, _mm512_loadu_ps(dst));
        _mm512_storeu_ps(dst, act(&k->fuse, v));
    }
}

#define CASE(P_) case P_: for (int64_t ob = lo; ob < hi; ob++) block(k, xp, y, with_sum, ob, P_); break;

static void blocks(const eos_smallconv *k, const float *xp, float *y, bool with_sum, int64_t lo,
                   int64_t hi) {
    switch (k->n_px) {
    CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6) CASE(7) CASE(8)
    CASE(9) CASE(10) CASE(11) CASE(12) CASE(13) CASE(14) CASE(15) CASE(16)
    default: break;
    }
}

void eos_smallconv_run(const eos_smallconv *k, const float *x, float *y, bool with_sum,
                       float *scratch, int n_threads) {
    pad_input(k, x, scratch);
    int nt = n_threads > 1 && k->ob > 1 ? n_threads : 1;
    if (nt > k->ob) nt = (int)k->ob;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static)
#else
    nt = 1;
#endif
    for (int t = 0; t < nt; t++) {
        int64_t lo = k->ob * t / nt, hi = k->ob * (t + 1) / nt;
        blocks(k, scratch, y, with_sum, lo, hi);
    }
}
