/*
 * src/graph/passes.h - graph rewrites.
 *
 * Load time (on the model's graph, once, before it becomes immutable):
 *   - Identity and Dropout (inference) are removed: their consumers read the input directly.
 *   - BatchNormalization that follows a Conv (whose output nothing else reads) is folded into the
 *     Conv's weights and bias: W' = W * s, b' = (b - mean) * s + beta, s = gamma / sqrt(var + eps).
 * Plan time (on a session's copy, after shape inference):
 *   - Conv + Add(residual of the same shape) -> Conv with a fused sum (eos_fusion.sum_in);
 *   - Conv/ConvTranspose/Gemm/MatMul + activation (Relu, LeakyRelu, Clip with constant bounds,
 *     Sigmoid, Tanh, HardSigmoid, HardSwish) -> fused activation.
 * A fusion only happens when the intermediate value has exactly one reader and is not a graph
 * output, so no observable tensor disappears.
 */
#ifndef EOS_GRAPH_PASSES_H
#define EOS_GRAPH_PASSES_H

#include "core/err.h"
#include "graph/graph.h"

/* Load-time passes; g must be topologically sorted (and stays so). */
eos_status eos_graph_passes_load(eos_graph *g, eos_err *err);
/* Plan-time fusion; every value must have a concrete shape. */
eos_status eos_graph_fuse(eos_graph *g, eos_err *err);

#endif /* EOS_GRAPH_PASSES_H */
