/*
 * src/train/optim.c - the optimisers of include/eosight/train.h: SGD (momentum, Nesterov,
 * L2 weight decay) and AdamW, with global gradient-norm clipping.
 *
 * The arithmetic is PyTorch's, step for step: torch.optim.SGD with dampening 0 (the momentum
 * buffer starts as a copy of the first gradient), torch.optim.AdamW (decoupled decay applied
 * first, bias-corrected moments, eps added after the square root of the corrected second
 * moment), and torch.nn.utils.clip_grad_norm_ (coefficient max_norm / (norm + 1e-6), applied
 * only when below 1). The gradients are const here, so clipping is a scale folded into the
 * update rather than a rewrite of g.
 *
 * All parameters are cut into blocks of OPT_BLOCK elements once, at creation; the gradient
 * norm sums per block (in double) and adds the blocks in order, and the update runs over the
 * blocks in parallel, so results do not depend on the number of threads.
 *
 * State (for checkpoints) is one float array: [kind, step mod 2^24, step / 2^24] and then the
 * buffers, parameter after parameter: SGD the momentum buffer (none when momentum is 0),
 * AdamW exp_avg for all parameters then exp_avg_sq for all parameters. Splitting the step
 * count keeps it exact in floats up to 2^48 steps.
 */
#include <math.h>
#include <string.h>

#include "core/err.h"
#include "eosight/alloc.h"
#include "eosight/train.h"

#define OPT_BLOCK 16384
#define OPT_HEADER 3
#define STEP_SPLIT 16777216.0   /* 2^24 */

#ifdef _OPENMP
#define OPT_PRAGMA_(x) _Pragma(#x)
#define OMP_FOR_BLOCKS(nb) OPT_PRAGMA_(omp parallel for schedule(static) if ((nb) > 1))
#else
#define OMP_FOR_BLOCKS(nb)
#endif

typedef struct oblock {
    int     param;     /* index into params */
    int64_t start;     /* first element; the block ends at min(start + OPT_BLOCK, n) */
    int64_t off;       /* offset of the parameter's buffer in buf */
} oblock;

struct eos_optim {
    eos_optim_params p;
    eos_param_ref   *params;    /* copy of the caller's refs (pointers borrowed) */
    int              n_params;
    int64_t          n_total;   /* sum of params[i].n */
    oblock          *blocks;
    int64_t          n_blocks;
    double          *part;      /* n_blocks partial sums of squares */
    float           *buf;       /* SGD: momentum [n_total]; AdamW: m [n_total], v [n_total] */
    int64_t          n_buf;
    int64_t          step;      /* completed steps */
};

void eos_optim_params_default(eos_optim_params *p, eos_optim_kind kind) {
    memset(p, 0, sizeof *p);
    p->kind = kind;
    p->momentum = kind == EOS_OPTIM_SGD ? 0.9f : 0.0f;
    p->beta1 = 0.9f;
    p->beta2 = 0.999f;
    p->eps = 1e-8f;
    p->weight_decay = kind == EOS_OPTIM_ADAMW ? 0.01f : 0.0f;
}

static bool in_unit(float v) { return v >= 0 && v < 1; }

static eos_status check_params(const eos_optim_params *p) {
    if (p->kind != EOS_OPTIM_SGD && p->kind != EOS_OPTIM_ADAMW) return EOS_INVALID_ARG;
    if (!(p->weight_decay >= 0 && isfinite(p->weight_decay))) return EOS_INVALID_ARG;
    if (!(p->clip_norm >= 0 && isfinite(p->clip_norm))) return EOS_INVALID_ARG;
    if (p->kind == EOS_OPTIM_SGD) {
        if (!(p->momentum >= 0 && isfinite(p->momentum))) return EOS_INVALID_ARG;
        if (p->nesterov && !(p->momentum > 0)) return EOS_INVALID_ARG;   /* as torch */
    } else {
        if (!in_unit(p->beta1) || !in_unit(p->beta2)) return EOS_INVALID_ARG;
        if (!(p->eps >= 0 && isfinite(p->eps))) return EOS_INVALID_ARG;
    }
    return EOS_OK;
}

/* Validate the refs, count elements and blocks. */
static eos_status count_params(const eos_param_ref *params, int n_params, int64_t *n_total,
                               int64_t *n_blocks) {
    *n_total = *n_blocks = 0;
    for (int i = 0; i < n_params; i++) {
        const eos_param_ref *r = &params[i];
        if (r->n < 0 || (r->n > 0 && (!r->w || !r->g))) return EOS_INVALID_ARG;
        if (r->n > INT64_MAX / 8 - *n_total) return EOS_INVALID_ARG;
        *n_total += r->n;
        *n_blocks += (r->n + OPT_BLOCK - 1) / OPT_BLOCK;
    }
    return EOS_OK;
}

static void fill_blocks(eos_optim *o) {
    int64_t k = 0, off = 0;
    for (int i = 0; i < o->n_params; i++) {
        for (int64_t s = 0; s < o->params[i].n; s += OPT_BLOCK) o->blocks[k++] = (oblock){ i, s, off };
        off += o->params[i].n;
    }
}

eos_status eos_optim_create(const eos_optim_params *p, const eos_param_ref *params, int n_params,
                            eos_optim **out) {
    if (!out) return EOS_INVALID_ARG;
    *out = NULL;
    if (!p || n_params < 0 || (n_params > 0 && !params)) return EOS_INVALID_ARG;
    EOS_TRY(check_params(p));
    int64_t n_total, n_blocks;
    EOS_TRY(count_params(params, n_params, &n_total, &n_blocks));
    eos_optim *o = eos_calloc(1, sizeof *o);
    if (!o) return EOS_NOMEM;
    o->p = *p;
    o->n_params = n_params;
    o->n_total = n_total;
    o->n_blocks = n_blocks;
    o->n_buf = p->kind == EOS_OPTIM_ADAMW ? 2 * n_total : p->momentum > 0 ? n_total : 0;
    bool ok = true;
    if (n_params > 0) ok = (o->params = eos_malloc((size_t)n_params * sizeof *params)) != NULL;
    if (ok && n_blocks > 0) {
        o->blocks = eos_malloc((size_t)n_blocks * sizeof *o->blocks);
        o->part = eos_malloc((size_t)n_blocks * sizeof *o->part);
        ok = o->blocks && o->part;
    }
    if (ok && o->n_buf > 0) ok = (o->buf = eos_calloc((size_t)o->n_buf, sizeof(float))) != NULL;
    if (!ok) {
        eos_optim_free(o);
        return EOS_NOMEM;
    }
    if (n_params > 0) memcpy(o->params, params, (size_t)n_params * sizeof *params);
    if (n_blocks > 0) fill_blocks(o);
    *out = o;
    return EOS_OK;
}

void eos_optim_free(eos_optim *o) {
    if (!o) return;
    eos_free(o->params);
    eos_free(o->blocks);
    eos_free(o->part);
    eos_free(o->buf);
    eos_free(o);
}

/* ------------------------------------------------------------------ step */

static inline int64_t blk_len(const eos_optim *o, const oblock *b) {
    int64_t e = b->start + OPT_BLOCK, n = o->params[b->param].n;
    return (e < n ? e : n) - b->start;
}

static double grad_norm(const eos_optim *o) {
    OMP_FOR_BLOCKS(o->n_blocks)
    for (int64_t k = 0; k < o->n_blocks; k++) {
        const oblock *b = &o->blocks[k];
        const float *g = o->params[b->param].g + b->start;
        const int64_t len = blk_len(o, b);
        /* eight independent partial sums: vectorisable, and still a fixed order */
        double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        int64_t i = 0;
        for (; i + 8 <= len; i += 8)
            for (int j = 0; j < 8; j++) acc[j] += (double)g[i + j] * g[i + j];
        double s = 0;
        for (; i < len; i++) s += (double)g[i] * g[i];
        for (int j = 0; j < 8; j++) s += acc[j];
        o->part[k] = s;
    }
    double s = 0;
    for (int64_t k = 0; k < o->n_blocks; k++) s += o->part[k];
    return sqrt(s);
}

/* torch.optim.SGD on one block: d = g*scale + wd*w; buf = d (first step) or mom*buf + d;
 * d = d + mom*buf (Nesterov) or buf; w -= lr*d. */
static void sgd_block(const eos_optim *o, const oblock *b, float lr, float scale) {
    const eos_param_ref *r = &o->params[b->param];
    const int64_t len = blk_len(o, b);
    const float wd = r->decay ? o->p.weight_decay : 0.0f, mom = o->p.momentum;
    float *w = r->w + b->start, *buf = o->buf ? o->buf + b->off + b->start : NULL;
    const float *g = r->g + b->start;
    for (int64_t i = 0; i < len; i++) {
        float d = g[i] * scale + wd * w[i];
        if (buf) {
            buf[i] = o->step == 0 ? d : mom * buf[i] + d;
            d = o->p.nesterov ? d + mom * buf[i] : buf[i];
        }
        w[i] -= lr * d;
    }
}

/* torch.optim.AdamW on one block (t = step count after this step). */
static void adamw_block(const eos_optim *o, const oblock *b, float lr, float scale) {
    const eos_param_ref *r = &o->params[b->param];
    const int64_t len = blk_len(o, b);
    const double t = (double)o->step + 1;
    const float b1 = o->p.beta1, b2 = o->p.beta2, eps = o->p.eps;
    const float decay = r->decay ? (float)(1.0 - (double)lr * o->p.weight_decay) : 1.0f;
    const float step_size = (float)(lr / (1.0 - pow(b1, t)));
    const float bc2_sqrt = (float)sqrt(1.0 - pow(b2, t));
    float *w = r->w + b->start;
    float *m = o->buf + b->off + b->start, *v = o->buf + o->n_total + b->off + b->start;
    const float *g = r->g + b->start;
    for (int64_t i = 0; i < len; i++) {
        const float gi = g[i] * scale;
        w[i] *= decay;
        m[i] = b1 * m[i] + (1 - b1) * gi;
        v[i] = b2 * v[i] + (1 - b2) * gi * gi;
        w[i] -= step_size * m[i] / (sqrtf(v[i]) / bc2_sqrt + eps);
    }
}

eos_status eos_optim_step(eos_optim *o, float lr, double *grad_norm_out) {
    if (grad_norm_out) *grad_norm_out = 0;
    if (!o || !(lr >= 0 && isfinite(lr))) return EOS_INVALID_ARG;
    const double norm = grad_norm(o);
    if (grad_norm_out) *grad_norm_out = norm;
    if (!isfinite(norm)) return EOS_NUMERIC;
    float scale = 1.0f;
    if (o->p.clip_norm > 0) {
        double coef = o->p.clip_norm / (norm + 1e-6);
        if (coef < 1) scale = (float)coef;
    }
    const bool adam = o->p.kind == EOS_OPTIM_ADAMW;
    OMP_FOR_BLOCKS(o->n_blocks)
    for (int64_t k = 0; k < o->n_blocks; k++) {
        if (adam) adamw_block(o, &o->blocks[k], lr, scale);
        else sgd_block(o, &o->blocks[k], lr, scale);
    }
    o->step++;
    return EOS_OK;
}

/* ------------------------------------------------------------------ state */

int64_t eos_optim_state_size(const eos_optim *o) { return o ? OPT_HEADER + o->n_buf : 0; }

void eos_optim_state_get(const eos_optim *o, float *dst) {
    if (!o || !dst) return;
    dst[0] = (float)o->p.kind;
    dst[1] = (float)fmod((double)o->step, STEP_SPLIT);
    dst[2] = (float)floor((double)o->step / STEP_SPLIT);
    if (o->n_buf > 0) memcpy(dst + OPT_HEADER, o->buf, (size_t)o->n_buf * sizeof(float));
}

static bool whole_below_split(float v) { return v >= 0 && v < STEP_SPLIT && v == floorf(v); }

eos_status eos_optim_state_set(eos_optim *o, const float *src, int64_t n) {
    if (!o || !src) return EOS_INVALID_ARG;
    if (n != eos_optim_state_size(o)) return EOS_SHAPE;
    if (src[0] != (float)o->p.kind) return EOS_INVALID_ARG;
    if (!whole_below_split(src[1]) || !whole_below_split(src[2])) return EOS_INVALID_ARG;
    for (int64_t i = 0; i < o->n_buf; i++)
        if (!isfinite(src[OPT_HEADER + i])) return EOS_NUMERIC;
    o->step = (int64_t)src[2] * (int64_t)STEP_SPLIT + (int64_t)src[1];
    if (o->n_buf > 0) memcpy(o->buf, src + OPT_HEADER, (size_t)o->n_buf * sizeof(float));
    return EOS_OK;
}
