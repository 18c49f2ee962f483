/*
 * src/train/sched.c - learning-rate schedules (include/eosight/train.h): constant, warm-up +
 * cosine, warm-up + step decay, and one-cycle.
 *
 * A schedule is a pure function of the 0-based step, computed in double. The linear warm-up
 * of COSINE and STEP is HuggingFace's (lr * step / warmup: 0 at step 0, lr at step warmup).
 * ONECYCLE is torch.optim.lr_scheduler.OneCycleLR with anneal_strategy='cos',
 * three_phase=False, div_factor=25 and final_div_factor = 1 / (25 * final_frac), i.e. its
 * phase ends at step warmup - 1 (peak) and total - 1 (lr * final_frac); both phases are
 * cosine-annealed as in PyTorch. Steps past the end hold the final value (PyTorch raises).
 * Momentum is not cycled (PyTorch's cycle_momentum); the optimiser keeps its own.
 */
#include <math.h>

#include "eosight/train.h"

#define SCHED_PI 3.14159265358979323846

/* PyTorch's _annealing_cos: from start (pct 0) to end (pct 1) along half a cosine. */
static double anneal_cos(double start, double end, double pct) {
    return end + (start - end) / 2.0 * (cos(SCHED_PI * pct) + 1.0);
}

static double onecycle(const eos_sched *s, double step) {
    const double lr = s->lr, initial = lr / 25.0, final_lr = lr * s->final_frac;
    const double end1 = (double)s->warmup - 1, end2 = (double)s->total - 1;
    if (step <= end1) {
        double den = end1;                      /* phase 1 starts at step 0 */
        return anneal_cos(initial, lr, den > 0 ? step / den : 1.0);
    }
    double den = end2 - end1, pct = den > 0 ? (step - end1) / den : 1.0;
    return anneal_cos(lr, final_lr, pct < 1 ? pct : 1.0);
}

static double cosine(const eos_sched *s, double step) {
    const double span = (double)(s->total - s->warmup);
    if (!(span > 0) || step >= (double)s->total) return s->lr * (double)s->final_frac;
    double pct = (step - (double)s->warmup) / span;
    return s->lr * (s->final_frac + (1.0 - s->final_frac) * 0.5 * (1.0 + cos(SCHED_PI * pct)));
}

float eos_sched_lr(const eos_sched *s, int64_t step) {
    if (!s) return 0.0f;
    if (step < 0) step = 0;
    const double t = (double)step;
    if (s->kind == EOS_SCHED_ONECYCLE) return (float)onecycle(s, t);
    if (s->kind == EOS_SCHED_CONSTANT) return s->lr;
    if (s->warmup > 0 && step < s->warmup) return (float)(s->lr * t / (double)s->warmup);
    if (s->kind == EOS_SCHED_COSINE) return (float)cosine(s, t);
    if (s->kind == EOS_SCHED_STEP && s->step_size > 0)
        return (float)(s->lr * pow(s->gamma, floor(t / (double)s->step_size)));
    return s->lr;
}
