/*
 * src/ops/x86/smallconv.h - direct convolution for weight-bound layers: few output pixels
 * (batch x height x width <= 16), many channels, on the channel-blocked nChw16c layout.
 *
 * At batch 1 the deep layers of a ResNet on 64 px patches (512 -> 512 channels at 2x2, 256 ->
 * 256 at 4x4) spend their time reading weights, not multiplying: 9.4 MB of weights for 4 output
 * pixels. oneDNN's kernels read them at about half of what one core can stream from the last-
 * level cache; this kernel streams each weight exactly once, in the order it is stored, keeping
 * one accumulator register per output pixel (<= 16), and splits output-channel blocks between
 * threads so that each thread streams its own part.
 *
 * Layouts:
 *   x       nChw16c: [n_batch][c_in/16][in_h][in_w][16]
 *   y       nChw16c: [n_batch][c_out/16][out_h][out_w][16]
 *   weights packed at create time: [c_out/16][c_in/16][k_h][k_w][16 in][16 out]
 *   scratch the zero-padded input, eos_smallconv_scratch_bytes() bytes
 * y = act(conv(x, w) + bias [+ y_old]) where y_old is y's content before the call (the fused
 * residual, see eos_fusion). Only NONE, RELU, LEAKY_RELU and CLIP activations are done here.
 *
 * The kernel object is immutable after create; run is reentrant given distinct y and scratch.
 * Threads: run uses the OpenMP runtime's threads (n_threads of them), like oneDNN; it creates
 * none of its own.
 */
#ifndef EOS_OPS_X86_SMALLCONV_H
#define EOS_OPS_X86_SMALLCONV_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "graph/graph.h"
#include "ops/ops.h"

typedef struct eos_smallconv eos_smallconv;

/* True when this CPU runs the kernel (AVX-512F) and it is not disabled with EOS_CPU=generic. */
bool eos_smallconv_available(void);
/* True when the kernel handles this geometry and fusion and the layer is weight-bound enough
 * for it to pay (see the file comment). */
bool eos_smallconv_applicable(const eos_conv_params *cp, const eos_fusion *f);
/* Pack weights w ([c_out][c_in][k_h][k_w], f32) and bias (c_out floats, or NULL). */
eos_status eos_smallconv_create(const eos_conv_params *cp, const float *w, const float *bias,
                                const eos_fusion *f, eos_smallconv **out, eos_err *err);
size_t eos_smallconv_scratch_bytes(const eos_smallconv *k);
/* Compute y (see the file comment); with_sum adds y's previous content. */
void eos_smallconv_run(const eos_smallconv *k, const float *x, float *y, bool with_sum,
                       float *scratch, int n_threads);
void eos_smallconv_free(eos_smallconv *k);

#endif /* EOS_OPS_X86_SMALLCONV_H */
