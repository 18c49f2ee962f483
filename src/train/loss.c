/*
 * src/train/loss.c - the training losses of include/eosight/train.h: softmax cross-entropy
 * (class weights, ignore_index, label smoothing), binary cross-entropy with logits (pos_weight),
 * focal loss (softmax and sigmoid forms), soft Dice and the CE+Dice / BCE+Dice sums, each
 * returning the mean loss and its gradient with respect to the logits.
 *
 * Semantics follow PyTorch exactly (torch.nn.CrossEntropyLoss, BCEWithLogitsLoss,
 * torchvision.ops.sigmoid_focal_loss); the formulas, and the Dice definition, are written out
 * in train.h. Every row is computed in double from float logits: log-sum-exp for softmax,
 * softplus for BCE, and 1 - p taken as the sum of the other classes' probabilities (or as
 * sigmoid(-x)) so focal weights keep their precision when p is close to 1.
 *
 * Rows are processed in fixed blocks of ROW_BLOCK rows, in parallel with OpenMP; each block
 * writes its partial sums to its own slot and the slots are added in block order, so the
 * result does not depend on the number of threads (the same seed gives the same loss curve).
 * Losses are two passes: one for the normaliser (sum of weights, or the Dice statistics), one
 * for the loss and the gradient.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/err.h"
#include "eosight/alloc.h"
#include "eosight/data.h"
#include "eosight/train.h"

#define ROW_BLOCK 2048

#ifdef _OPENMP
#define LOSS_PRAGMA_(x) _Pragma(#x)
#define OMP_FOR_BLOCKS(nb) LOSS_PRAGMA_(omp parallel for schedule(static) if ((nb) > 1))
#else
#define OMP_FOR_BLOCKS(nb)
#endif

/* Everything one call works on. */
typedef struct lctx {
    const eos_loss_params *p;
    const float   *x;        /* logits [rows, c] */
    int64_t        rows;
    int            c;
    const int32_t *t;        /* int targets or NULL */
    const float   *tf;       /* f32 targets or NULL */
    float         *dx;       /* gradient or NULL */
    int64_t        nb;       /* blocks of ROW_BLOCK rows */
    double        *part;     /* nb * part_k partial sums */
    int            part_k;
    double        *prob;     /* nb * c: one softmax row per block */
} lctx;

void eos_loss_params_default(eos_loss_params *p, eos_loss_kind kind) {
    memset(p, 0, sizeof *p);
    p->kind = kind;
    p->ignore_index = EOS_IGNORE_INDEX;
    p->focal_gamma = 2.0f;
    p->focal_alpha = -1.0f;
    p->dice_weight = 1.0f;
    p->dice_smooth = 1.0f;
}

/* ------------------------------------------------------------------ small helpers */

static inline int64_t blk_end(const lctx *L, int64_t b) {
    int64_t e = (b + 1) * ROW_BLOCK;
    return e < L->rows ? e : L->rows;
}

/* Sum of column k of the block partials, in block order. */
static double part_sum(const lctx *L, int k) {
    double s = 0;
    for (int64_t b = 0; b < L->nb; b++) s += L->part[b * L->part_k + k];
    return s;
}

static inline double cls_w(const lctx *L, int k) {
    return L->p->class_weight ? (double)L->p->class_weight[k] : 1.0;
}

static inline bool row_kept(const lctx *L, int64_t i) { return L->t[i] != L->p->ignore_index; }

/* Softmax of one row into pr[c] (each exponential taken once); returns the log-sum-exp. */
static inline double row_softmax(const float *xi, int c, double *pr) {
    double m = xi[0], s = 0;
    for (int j = 1; j < c; j++)
        if (xi[j] > m) m = xi[j];
    for (int j = 0; j < c; j++) s += pr[j] = exp((double)xi[j] - m);
    const double inv = 1.0 / s;
    for (int j = 0; j < c; j++) pr[j] *= inv;
    return m + log(s);
}

/* The softmax scratch row of block b. */
static inline double *blk_prob(const lctx *L, int64_t b) { return L->prob + b * L->c; }

/* log(1 + exp(v)) without overflow. */
static inline double softplus(double v) { return (v > 0 ? v : 0) + log1p(exp(-fabs(v))); }

/* 1 / (1 + exp(-v)) without overflow. */
static inline double sigmoid(double v) {
    if (v >= 0) return 1.0 / (1.0 + exp(-v));
    double e = exp(v);
    return e / (1.0 + e);
}

/* One gradient element: set to g, or g added to it when acc. */
static inline void put_grad(float *d, bool acc, double g) { *d = acc ? *d + (float)g : (float)g; }

static void zero_rows(const lctx *L, int64_t r0, int64_t r1, bool acc) {
    if (!L->dx || acc) return;
    memset(L->dx + r0 * L->c, 0, (size_t)(r1 - r0) * (size_t)L->c * sizeof(float));
}

/* ------------------------------------------------------------------ validation */

static bool finite_nonneg(const float *v, int c) {
    if (!v) return true;
    for (int j = 0; j < c; j++)
        if (!isfinite(v[j]) || v[j] < 0) return false;
    return true;
}

static bool needs_int(const eos_loss_params *p, const int32_t *t) {
    switch (p->kind) {
    case EOS_LOSS_CE: case EOS_LOSS_DICE: case EOS_LOSS_CE_DICE: return true;
    case EOS_LOSS_FOCAL: return t != NULL;
    default: return false;
    }
}

static eos_status check_params(const eos_loss_params *p, int c) {
    if ((int)p->kind < EOS_LOSS_CE || p->kind > EOS_LOSS_FOCAL) return EOS_INVALID_ARG;
    if (!(p->label_smoothing >= 0 && p->label_smoothing <= 1)) return EOS_INVALID_ARG;
    if (!(p->focal_gamma >= 0 && isfinite(p->focal_gamma))) return EOS_INVALID_ARG;
    if (!(p->focal_alpha <= 1) || isnan(p->focal_alpha)) return EOS_INVALID_ARG;
    if (!(p->dice_smooth >= 0 && isfinite(p->dice_smooth))) return EOS_INVALID_ARG;
    if (!isfinite(p->dice_weight)) return EOS_INVALID_ARG;
    if (!finite_nonneg(p->class_weight, c) || !finite_nonneg(p->pos_weight, c))
        return EOS_INVALID_ARG;
    return EOS_OK;
}

/* Target pass for int targets: flags a target outside [0, c) that is not ignore_index, and
 * leaves per block [sum of class weights of kept rows, kept rows, bad targets] in part. */
static eos_status check_targets(lctx *L) {
    const int c = L->c;
    OMP_FOR_BLOCKS(L->nb)
    for (int64_t b = 0; b < L->nb; b++) {
        double w = 0, kept = 0, bad = 0;
        for (int64_t i = b * ROW_BLOCK; i < blk_end(L, b); i++) {
            int32_t k = L->t[i];
            if (k == L->p->ignore_index) continue;
            if (k < 0 || k >= c) {
                bad++;
                continue;
            }
            w += cls_w(L, k);
            kept++;
        }
        double *o = L->part + b * L->part_k;
        o[0] = w;
        o[1] = kept;
        o[2] = bad;
    }
    return part_sum(L, 2) > 0 ? EOS_INVALID_ARG : EOS_OK;
}

/* ------------------------------------------------------------------ cross-entropy */

/* PyTorch's CrossEntropyLoss(weight, ignore_index, label_smoothing=eps), reduction mean:
 *   loss = sum_i [(1-eps) w_t (-logp_t) + eps/C sum_j w_j (-logp_j)] / sum_i w_t
 * over kept rows; d/dx_j = [(1-eps) w_t (p_j - [j=t]) + eps/C (p_j sum_k w_k - w_j)] / W. */
static double ce_part(const lctx *L, double inv_w, bool acc) {
    const int c = L->c;
    const double eps = L->p->label_smoothing, es = eps / c;
    double sw = 0;
    for (int j = 0; j < c; j++) sw += cls_w(L, j);
    OMP_FOR_BLOCKS(L->nb)
    for (int64_t b = 0; b < L->nb; b++) {
        double acc_l = 0;
        for (int64_t i = b * ROW_BLOCK; i < blk_end(L, b); i++) {
            if (!row_kept(L, i)) {
                zero_rows(L, i, i + 1, acc);
                continue;
            }
            const float *xi = L->x + i * c;
            const int k = L->t[i];
            const double wt = cls_w(L, k);
            double *pr = blk_prob(L, b), lse = row_softmax(xi, c, pr), smooth = 0;
            if (eps > 0)
                for (int j = 0; j < c; j++) smooth -= cls_w(L, j) * ((double)xi[j] - lse);
            acc_l += (1 - eps) * wt * (lse - xi[k]) + es * smooth;
            if (!L->dx) continue;
            float *di = L->dx + i * c;
            for (int j = 0; j < c; j++) {
                double g = (1 - eps) * wt * (pr[j] - (j == k)) + es * (pr[j] * sw - cls_w(L, j));
                put_grad(di + j, acc, g * inv_w);
            }
        }
        L->part[b * L->part_k] = acc_l;
    }
    return part_sum(L, 0) * inv_w;
}

/* ------------------------------------------------------------------ focal, softmax form */

/* loss = sum_i w_t (1-p_t)^g (-log p_t) / sum_i w_t. With q = 1 - p_t and
 * f = g p_t q^(g-1) log p_t - q^g, d/dx_j = w_t f ([j=t] - p_j) / W. */
static double focal_softmax_part(const lctx *L, double inv_w, bool acc) {
    const int c = L->c;
    const double gam = L->p->focal_gamma;
    OMP_FOR_BLOCKS(L->nb)
    for (int64_t b = 0; b < L->nb; b++) {
        double acc_l = 0;
        for (int64_t i = b * ROW_BLOCK; i < blk_end(L, b); i++) {
            if (!row_kept(L, i)) {
                zero_rows(L, i, i + 1, acc);
                continue;
            }
            const float *xi = L->x + i * c;
            const int k = L->t[i];
            const double wt = cls_w(L, k);
            double *pr = blk_prob(L, b), lse = row_softmax(xi, c, pr), q = 0;
            for (int j = 0; j < c; j++)
                if (j != k) q += pr[j];
            const double logp = (double)xi[k] - lse, pt = pr[k];
            const double qg = gam > 0 ? pow(q, gam) : 1.0;
            acc_l += -wt * qg * logp;
            if (!L->dx) continue;
            double f = -qg;
            if (gam > 0 && q > 0) f += gam * pt * pow(q, gam - 1) * logp;
            float *di = L->dx + i * c;
            for (int j = 0; j < c; j++) {
                put_grad(di + j, acc, wt * f * ((j == k) - pr[j]) * inv_w);
            }
        }
        L->part[b * L->part_k] = acc_l;
    }
    return part_sum(L, 0) * inv_w;
}

/* ------------------------------------------------------------------ BCE and sigmoid focal */

/* BCEWithLogitsLoss(pos_weight), mean over rows*C:
 *   l = (1-t) x + (1 + (pw-1) t) softplus(-x),  dl/dx = (1-t) - (1 + (pw-1) t) sigmoid(-x). */
static double bce_part(const lctx *L, bool acc) {
    const int c = L->c;
    const double inv_n = 1.0 / ((double)L->rows * c);
    OMP_FOR_BLOCKS(L->nb)
    for (int64_t b = 0; b < L->nb; b++) {
        double acc_l = 0;
        for (int64_t e = b * ROW_BLOCK * c; e < blk_end(L, b) * c; e++) {
            const double x = L->x[e], t = L->tf[e];
            const double pw = L->p->pos_weight ? L->p->pos_weight[e % c] : 1.0;
            const double lw = 1 + (pw - 1) * t;
            acc_l += (1 - t) * x + lw * softplus(-x);
            if (L->dx) put_grad(L->dx + e, acc, ((1 - t) - lw * sigmoid(-x)) * inv_n);
        }
        L->part[b * L->part_k] = acc_l;
    }
    return part_sum(L, 0) * inv_n;
}

/* torchvision sigmoid_focal_loss, mean over rows*C: with p = sigmoid(x),
 * m = 1 - p_t = p (1-t) + (1-p) t, ce = softplus(x) - t x, a_t = alpha t + (1-alpha)(1-t)
 * (1 when alpha < 0): l = a_t ce m^g, dl/dx = a_t [(p-t) m^g + g ce m^(g-1) p (1-p) (1-2t)]. */
static double focal_sigmoid_part(const lctx *L, bool acc) {
    const int c = L->c;
    const double inv_n = 1.0 / ((double)L->rows * c);
    const double gam = L->p->focal_gamma, alpha = L->p->focal_alpha;
    OMP_FOR_BLOCKS(L->nb)
    for (int64_t b = 0; b < L->nb; b++) {
        double acc_l = 0;
        for (int64_t e = b * ROW_BLOCK * c; e < blk_end(L, b) * c; e++) {
            const double x = L->x[e], t = L->tf[e];
            const double p = sigmoid(x), q = sigmoid(-x);   /* q = 1 - p, precise near p = 1 */
            const double m = p * (1 - t) + q * t;
            const double ce = softplus(x) - t * x;
            const double at = alpha >= 0 ? alpha * t + (1 - alpha) * (1 - t) : 1.0;
            const double mg = gam > 0 ? pow(m, gam) : 1.0;
            acc_l += at * ce * mg;
            if (!L->dx) continue;
            double g = (p - t) * mg;
            if (gam > 0 && m > 0) g += gam * ce * pow(m, gam - 1) * p * q * (1 - 2 * t);
            put_grad(L->dx + e, acc, at * g * inv_n);
        }
        L->part[b * L->part_k] = acc_l;
    }
    return part_sum(L, 0) * inv_n;
}

/* ------------------------------------------------------------------ soft Dice */

/* Per-class coefficients of the Dice gradient: for the classes in the mean, with
 * D_c = (2 I_c + s) / (P_c + T_c + s) and n classes in the mean,
 * dLoss/dprob_ic = A_c - B_c t_ic with A_c = (2 I_c + s) / den^2 / n, B_c = 2 / den / n
 * (both 0 for classes outside the mean). Returns the Dice loss 1 - mean D_c. part columns:
 * I (c), P (c), T (c), predicted (c). */
static double dice_coeffs(const lctx *L, double *A, double *B) {
    const int c = L->c;
    const double s = L->p->dice_smooth;
    int n = 0;
    double sum_d = 0;
    for (int j = 0; j < c; j++) {
        double I = part_sum(L, j), P = part_sum(L, c + j), T = part_sum(L, 2 * c + j);
        A[j] = B[j] = 0;
        if (!(T > 0 || part_sum(L, 3 * c + j) > 0)) continue;
        double den = P + T + s;
        if (!(den > 0)) continue;                   /* s = 0 and nothing at all: skip */
        sum_d += (2 * I + s) / den;
        A[j] = (2 * I + s) / (den * den);
        B[j] = 2 / den;
        n++;
    }
    if (n == 0) return 0;
    for (int j = 0; j < c; j++) {
        A[j] /= n;
        B[j] /= n;
    }
    return 1 - sum_d / n;
}

/* Statistics of the softmax form (int targets, ignored rows left out). */
static void dice_softmax_stats(const lctx *L) {
    const int c = L->c;
    OMP_FOR_BLOCKS(L->nb)
    for (int64_t b = 0; b < L->nb; b++) {
        double *o = L->part + b * L->part_k;
        memset(o, 0, (size_t)L->part_k * sizeof *o);
        for (int64_t i = b * ROW_BLOCK; i < blk_end(L, b); i++) {
            if (!row_kept(L, i)) continue;
            const float *xi = L->x + i * c;
            const int k = L->t[i];
            double *pr = blk_prob(L, b);
            row_softmax(xi, c, pr);
            int am = 0;
            for (int j = 0; j < c; j++) {
                o[c + j] += pr[j];
                if (xi[j] > xi[am]) am = j;
            }
            o[k] += pr[k];
            o[2 * c + k] += 1;
            o[3 * c + am] = 1;
        }
    }
}

/* Statistics of the sigmoid form (f32 targets; predicted means x > 0). */
static void dice_sigmoid_stats(const lctx *L) {
    const int c = L->c;
    OMP_FOR_BLOCKS(L->nb)
    for (int64_t b = 0; b < L->nb; b++) {
        double *o = L->part + b * L->part_k;
        memset(o, 0, (size_t)L->part_k * sizeof *o);
        for (int64_t i = b * ROW_BLOCK; i < blk_end(L, b); i++) {
            for (int j = 0; j < c; j++) {
                double x = L->x[i * c + j], t = L->tf[i * c + j], pj = sigmoid(x);
                o[j] += pj * t;
                o[c + j] += pj;
                o[2 * c + j] += t;
                if (x > 0) o[3 * c + j] = 1;
            }
        }
    }
}

/* dL/dx_ij = w p_ij (a_ij - sum_k a_ik p_ik) with a_ik = A_k - B_k [t_i = k]. */
static void dice_softmax_grad(const lctx *L, const double *A, const double *B, double w, bool acc) {
    const int c = L->c;
    OMP_FOR_BLOCKS(L->nb)
    for (int64_t b = 0; b < L->nb; b++) {
        for (int64_t i = b * ROW_BLOCK; i < blk_end(L, b); i++) {
            if (!row_kept(L, i)) {
                zero_rows(L, i, i + 1, acc);
                continue;
            }
            const float *xi = L->x + i * c;
            const int k = L->t[i];
            double *pr = blk_prob(L, b), dot = 0;
            row_softmax(xi, c, pr);
            for (int j = 0; j < c; j++) dot += (A[j] - B[j] * (j == k)) * pr[j];
            for (int j = 0; j < c; j++)
                put_grad(L->dx + i * c + j, acc, w * pr[j] * (A[j] - B[j] * (j == k) - dot));
        }
    }
}

/* dL/dx_ij = w a_ij p_ij (1 - p_ij) with a_ij = A_j - B_j t_ij. */
static void dice_sigmoid_grad(const lctx *L, const double *A, const double *B, double w, bool acc) {
    const int c = L->c;
    OMP_FOR_BLOCKS(L->nb)
    for (int64_t b = 0; b < L->nb; b++) {
        for (int64_t e = b * ROW_BLOCK * c; e < blk_end(L, b) * c; e++) {
            const int j = (int)(e % c);
            const double x = L->x[e];
            put_grad(L->dx + e, acc, w * (A[j] - B[j] * L->tf[e]) * sigmoid(x) * sigmoid(-x));
        }
    }
}

/* Dice term times w (its weight in the sum); the gradient is accumulated when acc. */
static eos_status dice_part(const lctx *L, bool sigmoid_form, double w, bool acc, double *out) {
    const int c = L->c;
    double *A = eos_malloc(2 * (size_t)c * sizeof *A);
    if (!A) return EOS_NOMEM;
    double *B = A + c;
    if (sigmoid_form) dice_sigmoid_stats(L);
    else dice_softmax_stats(L);
    *out = w * dice_coeffs(L, A, B);
    if (L->dx && sigmoid_form) dice_sigmoid_grad(L, A, B, w, acc);
    else if (L->dx) dice_softmax_grad(L, A, B, w, acc);
    eos_free(A);
    return EOS_OK;
}

/* ------------------------------------------------------------------ entry point */

/* Losses normalised by the sum of target class weights; W = 0 (every row ignored) gives 0. */
static double weighted_mean_part(const lctx *L, bool focal, double w_sum) {
    if (!(w_sum > 0)) {
        zero_rows(L, 0, L->rows, false);
        return 0;
    }
    return focal ? focal_softmax_part(L, 1.0 / w_sum, false) : ce_part(L, 1.0 / w_sum, false);
}

static eos_status dispatch(lctx *L, double *loss) {
    const eos_loss_params *p = L->p;
    double w_sum = 0;
    if (L->t) {
        eos_status st = check_targets(L);
        if (st != EOS_OK) return st;
        w_sum = part_sum(L, 0);
    }
    switch (p->kind) {
    case EOS_LOSS_CE: *loss = weighted_mean_part(L, false, w_sum); return EOS_OK;
    case EOS_LOSS_BCE: *loss = bce_part(L, false); return EOS_OK;
    case EOS_LOSS_FOCAL:
        *loss = L->t ? weighted_mean_part(L, true, w_sum) : focal_sigmoid_part(L, false);
        return EOS_OK;
    case EOS_LOSS_DICE: return dice_part(L, false, 1.0, false, loss);
    case EOS_LOSS_CE_DICE: case EOS_LOSS_BCE_DICE: {
        bool sig = p->kind == EOS_LOSS_BCE_DICE;
        double first = sig ? bce_part(L, false) : weighted_mean_part(L, false, w_sum), d = 0;
        eos_status st = dice_part(L, sig, p->dice_weight, true, &d);
        *loss = first + d;
        return st;
    }
    }
    return EOS_INVALID_ARG;
}

eos_status eos_loss_compute(const eos_loss_params *p, const float *logits, int64_t rows, int c,
                            const int32_t *target, const float *target_f, double *loss,
                            float *dlogits) {
    if (!p || !loss || c < 1 || rows < 0 || (rows > 0 && !logits)) return EOS_INVALID_ARG;
    *loss = 0;
    if (rows > INT64_MAX / c / ROW_BLOCK) return EOS_INVALID_ARG;
    EOS_TRY(check_params(p, c));
    if (p->kind == EOS_LOSS_FOCAL && (!target) == (!target_f)) return EOS_INVALID_ARG;
    bool use_int = needs_int(p, target);
    if (use_int ? !target : !target_f) return EOS_INVALID_ARG;
    if (rows == 0) return EOS_OK;
    lctx L = { p, logits, rows, c, use_int ? target : NULL, use_int ? NULL : target_f, dlogits,
               (rows + ROW_BLOCK - 1) / ROW_BLOCK, NULL, 4 * c > 3 ? 4 * c : 3, NULL };
    L.part = eos_malloc((size_t)L.nb * (size_t)(L.part_k + c) * sizeof(double));
    if (!L.part) return EOS_NOMEM;
    L.prob = L.part + L.nb * L.part_k;
    eos_status st = dispatch(&L, loss);
    eos_free(L.part);
    if (st != EOS_OK) *loss = 0;
    return st;
}
