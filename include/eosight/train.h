/*
 * eosight/train.h - training on the engine: losses, optimisers, learning-rate schedules,
 * architectures and trainable networks.
 *
 * A trainable network (eos_net) is the engine's graph IR with its weights made trainable:
 * built in C from an architecture (eos_arch) or imported from ONNX; trained with reverse-mode
 * autograd (oneDNN backward primitives where they exist, reference C otherwise); saved as
 * ONNX with eosight metadata (docs/model-metadata.md) and as a checkpoint that resumes
 * exactly.
 *
 * Layout conventions of this header: logits and their gradients are "rows x classes":
 * [rows, C] row-major, where rows = N for image-level tasks and N*H*W (in N, H, W order) for
 * segmentation. Targets: int32 class indices per row (EOS_IGNORE_INDEX, data.h, skips a row)
 * or f32 0/1 per row and class (multi-label).
 */
#ifndef EOSIGHT_TRAIN_H
#define EOSIGHT_TRAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eosight/model.h"
#include "eosight/rng.h"
#include "eosight/status.h"
#include "eosight/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ losses */

typedef enum eos_loss_kind {
    EOS_LOSS_CE = 0,     /* softmax cross-entropy, int targets */
    EOS_LOSS_BCE,        /* sigmoid binary cross-entropy with logits, f32 0/1 targets */
    EOS_LOSS_DICE,       /* soft Dice on softmax probabilities (int targets), 1 - mean over
                            classes present in target or prediction of 2|P.T|/(|P|+|T|)
                            (exact formula below) */
    EOS_LOSS_CE_DICE,    /* CE + dice_weight * Dice */
    EOS_LOSS_BCE_DICE,   /* BCE + dice_weight * soft Dice on sigmoid probabilities (f32 targets) */
    EOS_LOSS_FOCAL       /* focal loss: softmax form with int targets, sigmoid form with f32
                            targets; -alpha_t (1-p_t)^gamma log p_t */
} eos_loss_kind;

/* The exact formulas (x logits, p probabilities, rows i, classes j, kept rows: target not
 * ignore_index; w_j = class_weight[j] or 1; t_i the int target of row i):
 *   CE     torch.nn.CrossEntropyLoss(weight, ignore_index, label_smoothing=eps), mean:
 *          sum_i [(1-eps) w_ti (-log p_i,ti) + eps/C sum_j w_j (-log p_ij)] / sum_i w_ti.
 *   BCE    torch.nn.BCEWithLogitsLoss(pos_weight), mean over rows*C of
 *          (1-t) x + (1 + (pw_j-1) t) log(1 + e^-x) (soft targets in [0, 1] allowed).
 *   FOCAL  softmax (int targets): sum_i w_ti (1-p_i,ti)^gamma (-log p_i,ti) / sum_i w_ti
 *          (class_weight plays alpha_t; focal_alpha, label_smoothing unused).
 *          sigmoid (f32 targets): torchvision.ops.sigmoid_focal_loss(alpha=focal_alpha,
 *          gamma), mean over rows*C: alpha_t BCE(x, t) (1-p_t)^gamma, p_t = p t + (1-p)(1-t),
 *          alpha_t = alpha t + (1-alpha)(1-t), or 1 when alpha < 0 (pos_weight unused).
 *   DICE   per class over the whole batch (kept rows only): I_j = sum_i p_ij [t_i = j],
 *          P_j = sum_i p_ij, T_j = #{i: t_i = j}, D_j = (2 I_j + s) / (P_j + T_j + s) with
 *          s = dice_smooth; loss = 1 - mean of D_j over the classes with T_j > 0 or that are
 *          the arg-max of at least one kept row (0 when there is none). Class weights and
 *          smoothing are not used.
 *   BCE_DICE's Dice: the same with p = sigmoid(x), I_j = sum_i p_ij t_ij, T_j = sum_i t_ij,
 *          over all rows; a class is in the mean when T_j > 0 or some x_ij > 0.
 * Every partial sum is taken over fixed blocks of rows added in order, so results do not
 * depend on the number of threads. */

typedef struct eos_loss_params {
    eos_loss_kind kind;
    const float  *class_weight;     /* CE/focal(softmax): [C] weights, NULL = 1. The mean is
                                       sum(w_t * l) / sum(w_t) over non-ignored rows (PyTorch) */
    float         label_smoothing;  /* CE: target = (1-eps) one-hot + eps/C, in [0, 1] */
    int           ignore_index;     /* int targets equal to it are skipped (EOS_IGNORE_INDEX) */
    const float  *pos_weight;       /* BCE: [C] weight of positive terms, NULL = 1 */
    float         focal_gamma;      /* focal: gamma (2 usual) */
    float         focal_alpha;      /* focal sigmoid: alpha for positives (<0: none), <= 1 */
    float         dice_weight;      /* *_DICE: weight of the Dice term (1 usual) */
    float         dice_smooth;      /* Dice: added to numerator and denominator (1 usual) */
} eos_loss_params;

/* Defaults for a kind: no weights, smoothing 0, ignore EOS_IGNORE_INDEX (255), gamma 2,
 * alpha -1, dice weight 1, smooth 1. */
void eos_loss_params_default(eos_loss_params *p /* OUT */, eos_loss_kind kind);

/* Mean loss over rows (ignored rows excluded) into *loss, and, when dlogits != NULL, its
 * gradient with respect to logits ([rows, c], overwritten). Int targets (CE, DICE, CE_DICE,
 * softmax FOCAL) in target, f32 targets (BCE, BCE_DICE, sigmoid FOCAL) in target_f; the other
 * is NULL (FOCAL picks its form by which one is given and refuses both). Errors:
 * EOS_INVALID_ARG (NULL where needed, c < 1, a target outside [0, c) that is not
 * ignore_index, a parameter out of range: negative or non-finite weights, smoothing outside
 * [0, 1], gamma < 0, alpha > 1, dice_smooth < 0), EOS_NOMEM. A batch with every row ignored
 * (or whose kept rows all have class weight 0) gives loss 0 and zero gradient.
 * Thread-safe; parallel inside over rows (OpenMP). */
eos_status eos_loss_compute(const eos_loss_params *p, const float *logits, int64_t rows, int c,
                            const int32_t *target, const float *target_f, double *loss /* OUT */,
                            float *dlogits /* OUT, may be NULL */);

/* ------------------------------------------------------------------ optimisers */

typedef enum eos_optim_kind { EOS_OPTIM_SGD = 0, EOS_OPTIM_ADAMW } eos_optim_kind;

typedef struct eos_optim_params {
    eos_optim_kind kind;
    float momentum;        /* SGD (0.9 usual) */
    bool  nesterov;        /* SGD */
    float weight_decay;    /* SGD: L2 added to the gradient; AdamW: decoupled, lr*wd*w */
    float beta1, beta2, eps;  /* AdamW (0.9, 0.999, 1e-8) */
    float clip_norm;       /* > 0: scale gradients so their global L2 norm is at most this */
} eos_optim_params;

/* Defaults for a kind: SGD momentum 0.9, no Nesterov, weight decay 0; AdamW betas (0.9,
 * 0.999), eps 1e-8, weight decay 0.01 (torch.optim.AdamW's); no clipping.
 *
 * The updates are PyTorch's (g the gradient after clipping, t the step count from 1):
 *   SGD    d = g + wd w; buf = d on the first step, else momentum buf + d (dampening 0);
 *          w -= lr (d + momentum buf) with Nesterov, else lr buf (no buffer: w -= lr d).
 *   AdamW  w *= 1 - lr wd; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 *          w -= lr / (1 - b1^t) m / (sqrt(v) / sqrt(1 - b2^t) + eps).
 *   clip   torch.nn.utils.clip_grad_norm_: g *= clip / (norm + 1e-6) when that is below 1.
 * Parameters with decay false get wd = 0. Invalid settings (negative decay, momentum or clip,
 * Nesterov without momentum, betas outside [0, 1), eps < 0) make eos_optim_create fail with
 * EOS_INVALID_ARG. */
void eos_optim_params_default(eos_optim_params *p /* OUT */, eos_optim_kind kind);

/* One parameter tensor: weights w and gradient g of n floats; decay false exempts it from
 * weight decay (biases and normalisation parameters). */
typedef struct eos_param_ref {
    float      *w;
    const float *g;
    int64_t     n;
    bool        decay;
} eos_param_ref;

typedef struct eos_optim eos_optim;

/* Make an optimiser for n_params tensors (pointers kept: they must outlive it). State
 * (momentum, Adam moments) is zero. EOS_INVALID_ARG / EOS_NOMEM. */
eos_status eos_optim_create(const eos_optim_params *p, const eos_param_ref *params, int n_params,
                            eos_optim **out /* OUT */);
void eos_optim_free(eos_optim *o);
/* One update with learning rate lr (finite, >= 0, else EOS_INVALID_ARG). Returns the
 * gradient's global L2 norm before clipping in *grad_norm (may be NULL). A non-finite gradient
 * norm skips the update (state and step count untouched) and returns EOS_NUMERIC. */
eos_status eos_optim_step(eos_optim *o, float lr, double *grad_norm /* OUT, may be NULL */);
/* The optimiser state as one flat float array (for checkpoints): size in floats, copy out,
 * copy in (EOS_SHAPE when n differs; EOS_INVALID_ARG for the state of another optimiser kind
 * or a malformed step count, EOS_NUMERIC for a non-finite value). The step count travels too:
 * the layout is [kind, step mod 2^24, step / 2^24, buffers...]. */
int64_t    eos_optim_state_size(const eos_optim *o);
void       eos_optim_state_get(const eos_optim *o, float *dst /* OUT */);
eos_status eos_optim_state_set(eos_optim *o, const float *src, int64_t n);

/* ------------------------------------------------------------------ learning-rate schedules */

typedef enum eos_sched_kind {
    EOS_SCHED_CONSTANT = 0,
    EOS_SCHED_COSINE,      /* warm-up then cosine from lr to lr*final_frac */
    EOS_SCHED_STEP,        /* warm-up then lr * gamma^(floor(step / step_size)) */
    EOS_SCHED_ONECYCLE     /* warm-up from lr*0.04 to lr over warmup, then down to lr*final_frac
                              (PyTorch OneCycleLR with pct_start = warmup/total: both phases
                              cosine, as its default anneal_strategy 'cos') */
} eos_sched_kind;

/* Exactly, at step k (0-based): CONSTANT lr (no warm-up). COSINE and STEP: k < warmup gives
 * lr k / warmup; then COSINE lr (f + (1-f) (1 + cos(pi (k-warmup)/(total-warmup))) / 2) with
 * f = final_frac, lr f from k >= total on; STEP lr gamma^floor(k / step_size) (no decay when
 * step_size <= 0). ONECYCLE: torch.optim.lr_scheduler.OneCycleLR(max_lr=lr, total_steps=total,
 * pct_start=warmup/total, anneal_strategy='cos', div_factor=25, final_div_factor=
 * 1/(25 final_frac), three_phase=False): phase 1 from lr/25 at k = 0 to lr at k = warmup - 1,
 * phase 2 from there to lr final_frac at k = total - 1, each c(a, b, pct) = b + (a-b)(1 +
 * cos(pi pct))/2; k past total - 1 holds lr final_frac; a phase of length 0 gives its end
 * value. Momentum is not cycled (PyTorch's cycle_momentum is not reproduced). */

typedef struct eos_sched {
    eos_sched_kind kind;
    float   lr;            /* peak learning rate */
    int64_t warmup;        /* warm-up steps (linear from 0 for COSINE/STEP) */
    int64_t total;         /* total steps (COSINE, ONECYCLE) */
    int64_t step_size;     /* STEP */
    float   gamma;         /* STEP */
    float   final_frac;    /* COSINE/ONECYCLE: final lr as a fraction of lr (0 usual; 1e-4 OneCycle) */
} eos_sched;

/* Learning rate at step (0-based). Pure function. */
float eos_sched_lr(const eos_sched *s, int64_t step);

/* ------------------------------------------------------------------ architectures */

typedef enum eos_arch_kind {
    EOS_ARCH_RESNET18 = 0, EOS_ARCH_RESNET34, EOS_ARCH_RESNET50,
    EOS_ARCH_UNET,
    EOS_ARCH_CLOUDNET      /* small fast classifier for cloud screening and quick models */
} eos_arch_kind;

typedef enum eos_stem {
    EOS_STEM_IMAGENET = 0, /* 7x7 stride-2 conv + 3x3 stride-2 max-pool (the usual ResNet) */
    EOS_STEM_S2,           /* 3x3 stride-2 conv, no max-pool (64 px patches) */
    EOS_STEM_S1            /* 3x3 stride-1 conv, no max-pool (highest resolution, 16x the MACs) */
} eos_stem;

typedef struct eos_arch {
    eos_arch_kind kind;
    int      in_ch;        /* input bands */
    int      n_classes;    /* outputs (classes, labels, or segmentation classes) */
    int      in_h, in_w;   /* recorded as eosight.input_size; the graph's H, W stay symbolic */
    /* ResNet / CloudNet */
    eos_stem stem;
    int      width;        /* ResNet: channels of the first stage (64 standard); CloudNet: 16.. */
    float    dropout;      /* before the classifier (0: none) */
    bool     zero_init_residual; /* ResNet: the last BN of each block starts with scale 0
                                    (torchvision's option; default false) */
    /* U-Net */
    int      depth;        /* down-sampling steps (4 classic) */
    int      base;         /* channels at full resolution (64 classic, 16/32 light) */
    bool     const_width;  /* deepsense.ai variant: every level has `base` channels */
    bool     bilinear;     /* bilinear Resize + conv instead of 2x2 transposed conv */
} eos_arch;

/* Defaults for a kind: in_ch 3, classes 10, 64x64, STEM_IMAGENET, width 64 (CloudNet 16),
 * dropout 0, zero_init_residual false, depth 4, base 64, transposed up-sampling. The
 * topologies, parameter names and initialisation are documented in src/train/arch.h. */
void eos_arch_default(eos_arch *a /* OUT */, eos_arch_kind kind);
/* "resnet18", "resnet34", "resnet50", "unet", "cloudnet" <-> kind. eos_arch_name gives "?" for
 * an unknown kind; eos_arch_parse ignores case and returns EOS_INVALID_ARG for other names. */
const char *eos_arch_name(eos_arch_kind k);
eos_status  eos_arch_parse(const char *s, eos_arch_kind *out /* OUT */);

/* ------------------------------------------------------------------ trainable networks */

typedef struct eos_net eos_net;

typedef struct eos_net_params {
    int  n_threads;        /* <= 0: OpenMP's default */
    bool reference;        /* true: reference C kernels only (the oracle; slow) */
    bool bf16;             /* convolutions compute in bfloat16 (f32 activations, gradients and
                              master weights; AMX/AVX512-BF16 CPUs, 10-30x faster there). The
                              default (eos_net_default_params) is true when the CPU has AMX
                              or AVX512-BF16, overridable with EOS_TRAIN_BF16=0/1. */
    uint64_t seed;         /* dropout stream */
} eos_net_params;

eos_net_params eos_net_default_params(void);

/* Build architecture a with weights initialised from seed. Errors (message in
 * eos_ctx_errmsg(ctx)): EOS_INVALID_ARG, EOS_NOMEM. */
eos_status eos_net_build(eos_ctx *ctx, const eos_arch *a, uint64_t seed,
                         const eos_net_params *params, eos_net **out /* OUT */);
/* Load an ONNX model for fine-tuning: its float initializers read by Conv, ConvTranspose,
 * Gemm and BatchNormalization become parameters (BN running statistics become state). The
 * model needs one 4-D f32 input; output 0 is trained (further outputs, such as the features
 * `eosight calibrate` adds, are dropped with their eosight.ood.* keys). Errors as
 * eos_model_load, plus EOS_UNSUPPORTED naming the first operator the trainer has no backward
 * for. */
eos_status eos_net_load(eos_ctx *ctx, const char *path, const eos_net_params *params,
                        eos_net **out /* OUT */);
void eos_net_free(eos_net *n);

/* Parameter tensors (trainable) and their total size. */
int     eos_net_n_params(const eos_net *n);
int64_t eos_net_n_weights(const eos_net *n);
/* Fill refs[0..eos_net_n_params) for an optimiser (gradient pointers are stable for the
 * life of the net). decay is false for biases and BN scale/shift. */
void    eos_net_param_refs(eos_net *n, eos_param_ref *refs /* OUT */);
/* Input bands and outputs per row of logits. */
int     eos_net_in_channels(const eos_net *n);
int     eos_net_n_outputs(const eos_net *n);

/* Forward pass on x [batch, C, H, W] (NCHW f32). train selects batch statistics, dropout
 * and keeping what backward needs; otherwise inference (running statistics). The first call
 * for a shape prepares kernels and buffers for it (a few recent shapes are kept). On success
 * *logits points to the output as rows x classes (rows = batch, or batch*H*W for dense
 * outputs, in N, H, W order), valid until the next forward; *rows gets the row count.
 * Errors: EOS_SHAPE (wrong channels, a size the network cannot take), EOS_NOMEM, EOS_BACKEND. */
eos_status eos_net_forward(eos_net *n, const float *x, int batch, int h, int w, bool train,
                           const float **logits /* OUT */, int64_t *rows /* OUT */);
/* Backward from dlogits (rows x classes, as forward's output) after a training forward:
 * parameter gradients are overwritten (not accumulated across calls). */
eos_status eos_net_backward(eos_net *n, const float *dlogits);
const char *eos_net_errmsg(const eos_net *n);

/* Convolution nodes of the last forward's plan that compute in bf16 (see
 * eos_net_params.bf16); *n_conv (may be NULL) gets the number of convolution nodes. */
int eos_net_bf16_layers(const eos_net *n, int *n_conv /* OUT, may be NULL */);

/* Dense output height/width of the last forward (1 x 1 for image-level outputs). */
void eos_net_out_hw(const eos_net *n, int *h /* OUT */, int *w /* OUT */);

/* Save as ONNX with the current weights and running statistics plus n_meta key/value
 * metadata pairs (docs/model-metadata.md). Written to path.part then renamed. EOS_IO. */
eos_status eos_net_save_onnx(eos_net *n, const char *path, const char *const *keys,
                             const char *const *values, int n_meta);

/* Weights, BN state and an opaque caller blob (optimiser state, epoch, RNG...) in one file:
 * "EOSCKPT1", then tensors by name with sizes and a trailing CRC-32; written via .part +
 * rename. Loading checks every name and size against the net (EOS_SHAPE naming the first
 * mismatch) and the CRC (EOS_PARSE). *blob from eos_malloc (caller frees). */
eos_status eos_net_save_checkpoint(eos_net *n, const char *path, const void *blob, size_t blob_size);
eos_status eos_net_load_checkpoint(eos_net *n, const char *path, void **blob /* OUT */,
                                   size_t *blob_size /* OUT */);

#ifdef __cplusplus
}
#endif
#endif /* EOSIGHT_TRAIN_H */
