/*
 * src/train/arch.h - model builders: ResNet-18/34/50, U-Net and CloudNet as eos_graph (the
 * engine's IR, exactly what the ONNX importer would produce for the same network), with
 * Kaiming-initialised weights stored as constant values.
 *
 * Graph contract: one input "input" [N, in_ch, H, W] f32 (N, H, W symbolic: dims -1) and one
 * output "logits" ([N, n_classes] for ResNet/CloudNet, [N, n_classes, H, W] for U-Net). Nodes
 * use only Conv, BatchNormalization (epsilon 1e-5, momentum 0.9 in ONNX's convention), Relu,
 * MaxPool, Add, Concat, ConvTranspose, Resize (bilinear, half_pixel, scales input), Dropout
 * (ratio as a constant input), GlobalAveragePool, Flatten and Gemm (transB = 1), with opset 17
 * semantics; every node has a unique name and every value a unique name; parameters are named
 * "<node>.weight", "<node>.bias", "<bn>.running_mean"... Convolutions followed by BN have no
 * bias. BatchNormalization inputs are X, scale, B, input_mean, input_var (constants).
 * The graph's metadata holds "eosight.input_size" = "<in_h>,<in_w>".
 *
 * Node names are PyTorch module paths, so parameter names equal the state_dict keys of the
 * same network in PyTorch (torchvision's resnet18/34/50; UNet of ../shared/bench/models.py):
 *
 *   ResNet    conv1, bn1, relu, [maxpool], layer<s>.<i>.{conv1,bn1,relu1,conv2,bn2,[relu2,conv3,
 *             bn3],downsample.0,downsample.1,add,relu}, avgpool, flatten, [dropout], fc.
 *             Stems (conv1 to `width` channels, no bias, bn1, relu): IMAGENET conv 7x7/2 pad 3
 *             + max-pool 3x3/2 pad 1; S2 conv 3x3/2 pad 1; S1 conv 3x3/1 pad 1. Stage s
 *             (1..4) has width << (s-1) "planes" (BasicBlock output = planes, Bottleneck
 *             output = 4 planes, stride on its 3x3 conv), stride 2 in the first block of
 *             stages 2..4; a 1x1 conv + BN downsample where the shape changes. Blocks:
 *             2-2-2-2 (18, basic), 3-4-6-3 (34 basic, 50 bottleneck).
 *             With width 64, 1000 classes and 3 bands: 11,689,512 / 21,797,672 / 25,557,032
 *             parameters, as torchvision.
 *   U-Net     f_l = base << l (const_width: base), l = 0..depth. Encoder level l:
 *             downs.<l>.{0..5} = DoubleConv (3x3 conv no bias, BN, ReLU, twice) to f_l, then
 *             pool<l> 2x2/2 max-pool; bottleneck.{0..5} DoubleConv to f_depth; decoder step i
 *             (level l = depth-1-i): ups.<i> 2x2/2 ConvTranspose with bias f_{l+1} -> f_l, or
 *             (bilinear) ups.<i>.0 Resize x2 + ups.<i>.1 1x1 conv with bias f_{l+1} -> f_l;
 *             cat<i> = Concat(up, skip_l) on channels; dec.<i>.{0..5} DoubleConv to f_l;
 *             head 1x1 conv with bias to n_classes. H and W must be multiples of 2^depth.
 *             base 32, depth 4, 3 bands, 6 classes: 7,763,206 parameters (models.py unet_256).
 *   CloudNet  features.<s>.{0,1,2} for s = 0..3: 3x3 conv stride 2 pad 1 (no bias) to
 *             width << s channels, BN, ReLU; then avgpool, flatten, [dropout], fc. Width 16,
 *             3 bands, 10 classes: 98,970 parameters and 3,982,592 MACs per 64x64 image.
 *
 * Initialisation (PyTorch's torchvision recipe): conv weights Kaiming normal, fan_out, ReLU
 * gain: N(0, 2 / fan_out) with fan_out = C_out * k * k (Conv [C_out, C_in, k, k] and
 * ConvTranspose [C_in, C_out, k, k] alike); conv biases 0; BN scale 1, bias 0, running mean 0,
 * var 1 (the last BN of each residual block has scale 0 when a->zero_init_residual); Gemm
 * weight and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)). Each parameter tensor draws from
 * eos_rng_derive(seed, FNV-1a 64 hash of its name, 0), element by element in row-major order.
 * Deterministic: the same (arch, seed) gives the same bits, and a tensor's bits depend only on
 * the seed, its name and its shape (the backbone does not change with the class count).
 */
#ifndef EOS_TRAIN_ARCH_H
#define EOS_TRAIN_ARCH_H

#include <stdint.h>

#include "core/err.h"
#include "eosight/train.h"
#include "graph/graph.h"

/* Build a into g (initialised by the caller with eos_graph_init; the graph is toposorted on
 * return). Errors: EOS_INVALID_ARG (in_ch/n_classes/width/depth/base out of range, with a
 * message), EOS_NOMEM. On error g holds whatever was added; the caller frees it. */
eos_status eos__arch_build(const eos_arch *a, uint64_t seed, eos_graph *g, eos_err *err);

/* Multiply-accumulates per image of a at in_h x in_w (dense, for reports): every Conv output
 * element times C_in * k * k, every ConvTranspose input element times C_out * k * k, Gemm
 * K * N (the count of ../shared/bench/models.py). -1 when a is invalid. Allocates no weights. */
double eos__arch_macs(const eos_arch *a);

/* Trainable parameters of a (eos__arch_n_params of its graph, from a walk that allocates no
 * weights); -1 when a is invalid. */
int64_t eos__arch_params(const eos_arch *a);

/* Trainable parameters of a graph as PyTorch counts them: the constant weight and bias of
 * Conv / ConvTranspose / Gemm and scale and B of BatchNormalization (running statistics are
 * not parameters). Works on imported graphs too. */
int64_t eos__arch_n_params(const eos_graph *g);

#endif /* EOS_TRAIN_ARCH_H */
