/*
 * src/train/tref.h - reference training kernels: forward in training mode and backward for
 * every operator the trainer supports, in portable scalar C. They are the oracle the oneDNN
 * training path is tested against, and the fallback where oneDNN has no primitive; they are
 * themselves tested against central finite differences computed in double.
 *
 * Layout: every 4-D activation is NHWC (channels last), f32, dense: element (n, y, x, c) is at
 * ((n*H + y)*W + x)*C + c. 2-D activations are [N, C]. Weights keep their ONNX layouts:
 * Conv [Cout, Cin/group, KH, KW], ConvTranspose [Cin, Cout/group, KH, KW], Gemm B [K, N]
 * or [N, K] with trans_b. Backward functions ACCUMULATE into every gradient they write (+=),
 * so a value read by several nodes sums its gradients; callers zero gradients first.
 * A NULL gradient pointer means "not needed" and is skipped.
 *
 * Thread safety: reentrant; no internal state.
 */
#ifndef EOS_TRAIN_TREF_H
#define EOS_TRAIN_TREF_H

#include <stdbool.h>
#include <stdint.h>

#include "eosight/rng.h"

/* ------------------------------------------------------------------ convolution */

typedef struct eos_tconv {
    int64_t n, c_in, h_in, w_in;      /* input */
    int64_t c_out, h_out, w_out;      /* output */
    int64_t kh, kw, sh, sw, dh, dw;   /* kernel, stride, dilation (1 = dense) */
    int64_t pt, pl, pb, pr;           /* padding top/left/bottom/right (conv: of the input;
                                         transposed: as ONNX ConvTranspose pads) */
    int64_t group;
    bool    transposed;               /* ConvTranspose (output_padding folded into h_out/w_out) */
} eos_tconv;

/* y = conv(x, w) + b (b may be NULL). y is overwritten. */
void eos_tref_conv_fwd(const eos_tconv *p, const float *x, const float *w, const float *b, float *y);
/* dx += conv^T(dy, w); dw += corr(x, dy); db += sum(dy) (each may be NULL). */
void eos_tref_conv_bwd(const eos_tconv *p, const float *x, const float *w, const float *dy,
                       float *dx, float *dw, float *db);

/* ------------------------------------------------------------------ batch normalization */

/* Training mode over n_rows = N*H*W rows of c channels: batch mean/var (biased) normalise x;
 * y = gamma * xhat + beta. save_mean/save_invstd [c] receive the batch mean and 1/sqrt(var+eps).
 * When running_mean/var are non-NULL they are updated ONNX/PyTorch style:
 *   running = momentum * running + (1 - momentum) * batch   (var: unbiased, n/(n-1))
 * where momentum is ONNX's (0.9 = PyTorch momentum 0.1). */
void eos_tref_bn_fwd(int64_t n_rows, int64_t c, const float *x, const float *gamma, const float *beta,
                     float eps, float momentum, float *running_mean, float *running_var,
                     float *y, float *save_mean, float *save_invstd);
/* dx += ..., dgamma += sum(dy*xhat), dbeta += sum(dy) (training-mode gradients). */
void eos_tref_bn_bwd(int64_t n_rows, int64_t c, const float *x, const float *gamma,
                     const float *save_mean, const float *save_invstd, const float *dy,
                     float *dx, float *dgamma, float *dbeta);

/* ------------------------------------------------------------------ activations */

typedef enum eos_tact {
    EOS_TACT_RELU = 0, EOS_TACT_LEAKY_RELU, EOS_TACT_SIGMOID, EOS_TACT_TANH, EOS_TACT_CLIP,
    EOS_TACT_HARD_SWISH, EOS_TACT_HARD_SIGMOID
} eos_tact;

/* y = act(x) over n elements (alpha/beta: leaky slope; clip min/max; hard-sigmoid a, b). */
void eos_tref_act_fwd(eos_tact a, float alpha, float beta, int64_t n, const float *x, float *y);
/* dx += act'(x) * dy. Uses x (and y where cheaper: sigmoid/tanh; y may be NULL otherwise). */
void eos_tref_act_bwd(eos_tact a, float alpha, float beta, int64_t n, const float *x,
                      const float *y, const float *dy, float *dx);

/* ------------------------------------------------------------------ pooling */

typedef struct eos_tpool {
    int64_t n, c, h_in, w_in, h_out, w_out;
    int64_t kh, kw, sh, sw;
    int64_t pt, pl, pb, pr;
    bool    is_max;
    bool    count_include_pad;        /* average */
} eos_tpool;

/* Max: argmax (may be NULL) gets, per output element, the flat input index (n,y,x,c) chosen.
 * Padding never wins a max; average divides by the window inside the input unless
 * count_include_pad. */
void eos_tref_pool_fwd(const eos_tpool *p, const float *x, float *y, int64_t *argmax);
/* dx += ... (max: through argmax when given, else recomputed from x). */
void eos_tref_pool_bwd(const eos_tpool *p, const float *x, const int64_t *argmax, const float *dy,
                       float *dx);
/* Global average pool NHWC -> [N, C] and back. */
void eos_tref_gap_fwd(int64_t n, int64_t hw, int64_t c, const float *x, float *y);
void eos_tref_gap_bwd(int64_t n, int64_t hw, int64_t c, const float *dy, float *dx);

/* ------------------------------------------------------------------ dense */

/* Gemm as ONNX with transA = 0: y[m, n] = alpha * x[m, k] . B + beta * c[n] (bias broadcast over
 * rows; c may be NULL). B is [k, n], or [n, k] when trans_b. */
void eos_tref_gemm_fwd(int64_t m, int64_t k, int64_t n, bool trans_b, float alpha, float beta,
                       const float *x, const float *b, const float *c, float *y);
void eos_tref_gemm_bwd(int64_t m, int64_t k, int64_t n, bool trans_b, float alpha, float beta,
                       const float *x, const float *b, const float *dy, float *dx, float *db,
                       float *dc);

/* ------------------------------------------------------------------ resize */

typedef enum eos_tresize { EOS_TRESIZE_NEAREST = 0, EOS_TRESIZE_BILINEAR } eos_tresize;
typedef enum eos_tcoord {
    EOS_TCOORD_HALF_PIXEL = 0,   /* align_corners=False */
    EOS_TCOORD_ALIGN_CORNERS,
    EOS_TCOORD_ASYMMETRIC        /* PyTorch nearest */
} eos_tcoord;

/* NHWC resize of [n, h_in, w_in, c] to [n, h_out, w_out, c] with scale factors taken as
 * out/in (nearest uses floor after the coordinate transform, as PyTorch's nearest). */
void eos_tref_resize_fwd(eos_tresize mode, eos_tcoord coord, int64_t n, int64_t c, int64_t h_in,
                         int64_t w_in, int64_t h_out, int64_t w_out, const float *x, float *y);
void eos_tref_resize_bwd(eos_tresize mode, eos_tcoord coord, int64_t n, int64_t c, int64_t h_in,
                         int64_t w_in, int64_t h_out, int64_t w_out, const float *dy, float *dx);

/* ------------------------------------------------------------------ shape and arithmetic */

/* Concat along channels (NHWC, or [N, C] with rows = N and hw = 1): n_parts inputs with
 * c_parts[i] channels each, over rows = N*H*W. */
void eos_tref_concat_fwd(int64_t rows, int n_parts, const int64_t *c_parts, const float *const *x,
                         float *y);
void eos_tref_concat_bwd(int64_t rows, int n_parts, const int64_t *c_parts, const float *dy,
                         float *const *dx);

/* Element-wise a (op) b with b broadcast: b has either n elements (same shape) or c elements
 * (per channel, NHWC: index i % c). op: 0 add, 1 mul, 2 sub. */
void eos_tref_binary_fwd(int op, int64_t n, int64_t c_b, const float *a, const float *b, float *y);
void eos_tref_binary_bwd(int op, int64_t n, int64_t c_b, const float *a, const float *b,
                         const float *dy, float *da, float *db);

/* Softmax over the last axis of [rows, c]; backward from y. */
void eos_tref_softmax_fwd(int64_t rows, int64_t c, const float *x, float *y);
void eos_tref_softmax_bwd(int64_t rows, int64_t c, const float *y, const float *dy, float *dx);

/* Inverted dropout: keep with probability 1 - ratio, scale kept values by 1/(1 - ratio);
 * mask (n bytes) records the keeps. ratio 0: copy. */
void eos_tref_dropout_fwd(int64_t n, float ratio, eos_rng *rng, const float *x, float *y,
                          uint8_t *mask);
void eos_tref_dropout_bwd(int64_t n, float ratio, const uint8_t *mask, const float *dy, float *dx);

/* NHWC <-> NCHW copies (Flatten of a spatial tensor must follow ONNX's NCHW order). */
void eos_tref_nhwc_to_nchw(int64_t n, int64_t h, int64_t w, int64_t c, const float *src, float *dst);
void eos_tref_nchw_to_nhwc(int64_t n, int64_t c, int64_t h, int64_t w, const float *src, float *dst);

#endif /* EOS_TRAIN_TREF_H */
