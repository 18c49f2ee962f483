/*
 * tests/train/test_optim.c - optimisers and learning-rate schedules of train.h: 4-step
 * trajectories of SGD (plain, momentum + weight decay, Nesterov + clipping) and AdamW (with and
 * without clipping) against PyTorch, the gradient norm, the non-finite guard, state round
 * trips that resume bit for bit, and schedule values at hand-checked steps and against
 * PyTorch's OneCycleLR.
 */
#include "common/test.h"

#include "eosight/train.h"

#define TEST_PI 3.14159265358979323846

/* Two tensors: a (3 values, decayed) and b (2 values, not decayed). */
static const float W0[5] = { 0.5f, -1.0f, 2.0f, 0.0f, 3.0f };
static const float G[4][5] = { { 0.1f, -0.2f, 0.3f, 0.05f, -0.4f },
                               { 0.2f, 0.1f, -0.1f, -0.3f, 0.25f },
                               { -0.15f, 0.3f, 0.05f, 0.2f, -0.1f },
                               { 0.4f, -0.35f, 0.2f, 0.0f, 0.6f } };
static const float LR[4] = { 0.1f, 0.05f, 0.1f, 0.02f };

/* Weights after the 4 steps, from Debian's python3-torch (1.13):
 *
 *   import torch
 *   W0 = [0.5, -1.0, 2.0, 0.0, 3.0]
 *   G = [[0.1, -0.2, 0.3, 0.05, -0.4], [0.2, 0.1, -0.1, -0.3, 0.25],
 *        [-0.15, 0.3, 0.05, 0.2, -0.1], [0.4, -0.35, 0.2, 0.0, 0.6]]
 *   LR = [0.1, 0.05, 0.1, 0.02]
 *   def run(make, clip=0.0):
 *       a = torch.tensor(W0[:3], requires_grad=True); b = torch.tensor(W0[3:], requires_grad=True)
 *       opt = make(a, b)
 *       for k in range(4):
 *           a.grad = torch.tensor(G[k][:3]); b.grad = torch.tensor(G[k][3:])
 *           if clip > 0: torch.nn.utils.clip_grad_norm_([a, b], clip)
 *           for gr in opt.param_groups: gr['lr'] = LR[k]
 *           opt.step()
 *       return a.tolist() + b.tolist()
 *   sgd = lambda **kw: (lambda a, b: torch.optim.SGD([{'params': [a], 'weight_decay': kw.get('wd', 0)},
 *       {'params': [b], 'weight_decay': 0}], lr=0.1, momentum=kw.get('mom', 0),
 *       nesterov=kw.get('nest', False)))
 *   adamw = lambda **kw: (lambda a, b: torch.optim.AdamW([{'params': [a], 'weight_decay': kw['wd']},
 *       {'params': [b], 'weight_decay': 0}], lr=0.1))
 *   print(run(sgd())); print(run(sgd(mom=0.9, wd=0.01)))
 *   print(run(sgd(mom=0.9, wd=0.01, nest=True), clip=0.3))
 *   print(run(adamw(wd=0.1))); print(run(adamw(wd=0.1), clip=0.5))
 */
static const double SGD_PLAIN[5] = { 0.487000048160553, -1.0080000162124634, 1.9660000801086426,
                                     -0.009999999776482582, 3.0254998207092285 };
static const double SGD_MOM_WD[5] = { 0.45178213715553284, -0.9906207919120789, 1.922964096069336,
                                      0.011231002397835255, 3.0569820404052734 };
static const double SGD_NEST_CLIP[5] = { 0.4715813100337982, -1.0113005638122559,
                                         1.9353750944137573, -0.0018818196840584278,
                                         3.045001745223999 };
static const double ADAMW[5] = { 0.3022896647453308, -0.8973586559295654, 1.7761625051498413,
                                 -0.0627766102552414, 3.128706932067871 };
static const double ADAMW_CLIP[5] = { 0.30546635389328003, -0.9062812328338623, 1.780242681503296,
                                      -0.06143818795681, 3.1262521743774414 };

typedef struct fixture {
    float w[5], g[5];
    eos_param_ref refs[2];
} fixture;

static void fixture_init(fixture *f) {
    memcpy(f->w, W0, sizeof f->w);
    memset(f->g, 0, sizeof f->g);
    f->refs[0] = (eos_param_ref){ f->w, f->g, 3, true };
    f->refs[1] = (eos_param_ref){ f->w + 3, f->g + 3, 2, false };
}

/* Steps k0..k1-1 of the fixed gradient sequence. */
static void run_steps(eos_optim *o, fixture *f, int k0, int k1) {
    for (int k = k0; k < k1; k++) {
        memcpy(f->g, G[k], sizeof f->g);
        EXPECT_OK(eos_optim_step(o, LR[k], NULL));
    }
}

static void check_trajectory(const char *what, const eos_optim_params *p, const double *want) {
    fixture f;
    fixture_init(&f);
    eos_optim *o = NULL;
    ASSERT_OK(eos_optim_create(p, f.refs, 2, &o));
    run_steps(o, &f, 0, 4);
    for (int i = 0; i < 5; i++)
        if (fabs(f.w[i] - want[i]) > 2e-7 * (1 + fabs(want[i])))
            TEST_FAIL_("%s: w[%d] %.9g, torch %.9g", what, i, f.w[i], want[i]);
    eos_optim_free(o);
}

static void test_sgd_torch(void) {
    eos_optim_params p;
    eos_optim_params_default(&p, EOS_OPTIM_SGD);
    p.momentum = 0;
    check_trajectory("sgd", &p, SGD_PLAIN);
    p.momentum = 0.9f;
    p.weight_decay = 0.01f;
    check_trajectory("sgd momentum wd", &p, SGD_MOM_WD);
    p.nesterov = true;
    p.clip_norm = 0.3f;
    check_trajectory("sgd nesterov wd clip", &p, SGD_NEST_CLIP);
}

static void test_adamw_torch(void) {
    eos_optim_params p;
    eos_optim_params_default(&p, EOS_OPTIM_ADAMW);
    p.weight_decay = 0.1f;
    check_trajectory("adamw", &p, ADAMW);
    p.clip_norm = 0.5f;
    check_trajectory("adamw clip", &p, ADAMW_CLIP);
}

/* Hand-checked first steps: SGD w -= lr g; AdamW's first step moves every weight by lr
 * (m / sqrt(v) = sign(g) after bias correction), minus the decoupled decay. */
static void test_hand_steps(void) {
    fixture f;
    fixture_init(&f);
    eos_optim_params p;
    eos_optim_params_default(&p, EOS_OPTIM_ADAMW);
    p.weight_decay = 0.5f;
    p.eps = 0;
    eos_optim *o;
    ASSERT_OK(eos_optim_create(&p, f.refs, 2, &o));
    memcpy(f.g, G[0], sizeof f.g);
    double norm = 0;
    ASSERT_OK(eos_optim_step(o, 0.1f, &norm));
    EXPECT_NEAR(norm, sqrt(0.01 + 0.04 + 0.09 + 0.0025 + 0.16), 1e-7);
    EXPECT_NEAR(f.w[0], 0.5 * (1 - 0.05) - 0.1, 1e-7);      /* decayed tensor */
    EXPECT_NEAR(f.w[1], -1.0 * (1 - 0.05) + 0.1, 1e-7);
    EXPECT_NEAR(f.w[3], 0.0 - 0.1, 1e-7);                    /* decay false */
    EXPECT_NEAR(f.w[4], 3.0 + 0.1, 1e-7);
    eos_optim_free(o);
    /* clipping to 0.1 of a gradient of norm 0.5: g scaled by 0.1 / (0.5 + 1e-6) */
    fixture_init(&f);
    eos_optim_params_default(&p, EOS_OPTIM_SGD);
    p.momentum = 0;
    p.clip_norm = 0.1f;
    ASSERT_OK(eos_optim_create(&p, f.refs, 2, &o));
    const float g5[5] = { 0.3f, 0.4f, 0, 0, 0 };
    memcpy(f.g, g5, sizeof f.g);
    ASSERT_OK(eos_optim_step(o, 1.0f, &norm));
    EXPECT_NEAR(norm, 0.5, 1e-7);
    EXPECT_NEAR(f.w[0], 0.5 - 0.3 * (0.1 / (0.5 + 1e-6)), 1e-7);
    EXPECT_NEAR(f.w[1], -1.0 - 0.4 * (0.1 / (0.5 + 1e-6)), 1e-7);
    eos_optim_free(o);
}

static void test_nonfinite_and_errors(void) {
    fixture f;
    fixture_init(&f);
    eos_optim_params p;
    eos_optim_params_default(&p, EOS_OPTIM_ADAMW);
    eos_optim *o;
    ASSERT_OK(eos_optim_create(&p, f.refs, 2, &o));
    run_steps(o, &f, 0, 1);
    float before[5];
    memcpy(before, f.w, sizeof before);
    const int64_t n = eos_optim_state_size(o);
    EXPECT_EQ_INT(n, 3 + 2 * 5);
    float st0[13], st1[13];
    eos_optim_state_get(o, st0);
    EXPECT_NEAR(st0[1], 1, 0);   /* one step */
    f.g[2] = NAN;
    double norm = 0;
    EXPECT_STATUS(eos_optim_step(o, 0.1f, &norm), EOS_NUMERIC);
    EXPECT_TRUE(isnan(norm));
    f.g[2] = INFINITY;
    EXPECT_STATUS(eos_optim_step(o, 0.1f, NULL), EOS_NUMERIC);
    EXPECT_TRUE(memcmp(before, f.w, sizeof before) == 0);
    eos_optim_state_get(o, st1);
    EXPECT_TRUE(memcmp(st0, st1, sizeof st0) == 0);   /* state and step untouched */
    f.g[2] = 0;
    EXPECT_STATUS(eos_optim_step(o, NAN, NULL), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_optim_step(o, -1, NULL), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_optim_state_set(o, st0, n - 1), EOS_SHAPE);
    st1[0] = EOS_OPTIM_SGD;
    EXPECT_STATUS(eos_optim_state_set(o, st1, n), EOS_INVALID_ARG);
    st1[0] = EOS_OPTIM_ADAMW;
    st1[1] = 0.5f;
    EXPECT_STATUS(eos_optim_state_set(o, st1, n), EOS_INVALID_ARG);
    eos_optim_free(o);
    /* bad settings and refs */
    eos_optim *bad = (eos_optim *)&f;
    p.beta1 = 1.0f;
    EXPECT_STATUS(eos_optim_create(&p, f.refs, 2, &bad), EOS_INVALID_ARG);
    EXPECT_TRUE(bad == NULL);
    eos_optim_params_default(&p, EOS_OPTIM_SGD);
    p.momentum = 0;
    p.nesterov = true;
    EXPECT_STATUS(eos_optim_create(&p, f.refs, 2, &bad), EOS_INVALID_ARG);
    eos_optim_params_default(&p, EOS_OPTIM_SGD);
    p.weight_decay = -1;
    EXPECT_STATUS(eos_optim_create(&p, f.refs, 2, &bad), EOS_INVALID_ARG);
    eos_optim_params_default(&p, EOS_OPTIM_SGD);
    eos_param_ref r = { NULL, f.g, 3, true };
    EXPECT_STATUS(eos_optim_create(&p, &r, 1, &bad), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_optim_create(&p, NULL, 1, &bad), EOS_INVALID_ARG);
    /* no parameters at all is fine */
    ASSERT_OK(eos_optim_create(&p, NULL, 0, &bad));
    EXPECT_OK(eos_optim_step(bad, 0.1f, &norm));
    EXPECT_NEAR(norm, 0, 0);
    eos_optim_free(bad);
    eos_optim_free(NULL);
}

/* Two steps, save, a fresh optimiser with the saved state, two more steps: the same bits as
 * four steps in one go (momentum's "first step" rule included). */
static void resume_case(const eos_optim_params *p) {
    fixture a, b;
    fixture_init(&a);
    eos_optim *oa, *ob;
    ASSERT_OK(eos_optim_create(p, a.refs, 2, &oa));
    run_steps(oa, &a, 0, 2);
    const int64_t n = eos_optim_state_size(oa);
    float *st = eos_malloc((size_t)n * sizeof *st);
    ASSERT_TRUE(st != NULL);
    eos_optim_state_get(oa, st);
    fixture_init(&b);
    memcpy(b.w, a.w, sizeof b.w);
    ASSERT_OK(eos_optim_create(p, b.refs, 2, &ob));
    ASSERT_OK(eos_optim_state_set(ob, st, n));
    run_steps(oa, &a, 2, 4);
    run_steps(ob, &b, 2, 4);
    EXPECT_TRUE(memcmp(a.w, b.w, sizeof a.w) == 0);
    eos_free(st);
    eos_optim_free(oa);
    eos_optim_free(ob);
}

static void test_state_resume(void) {
    eos_optim_params p;
    eos_optim_params_default(&p, EOS_OPTIM_SGD);
    p.weight_decay = 0.01f;
    resume_case(&p);
    p.momentum = 0;
    resume_case(&p);
    eos_optim_params_default(&p, EOS_OPTIM_ADAMW);
    p.clip_norm = 0.5f;
    resume_case(&p);
    /* the step count survives past 2^24 */
    fixture f;
    fixture_init(&f);
    eos_optim *o;
    ASSERT_OK(eos_optim_create(&p, f.refs, 2, &o));
    float st[13] = { EOS_OPTIM_ADAMW, 5, 3 };
    ASSERT_OK(eos_optim_state_set(o, st, 13));
    run_steps(o, &f, 0, 1);
    eos_optim_state_get(o, st);
    EXPECT_NEAR(st[1], 6, 0);
    EXPECT_NEAR(st[2], 3, 0);
    eos_optim_free(o);
}

/* A parameter tensor of several blocks: the update equals the elementwise formula. */
static void test_large_tensor(void) {
    const int64_t n = 100000;
    float *w = eos_malloc((size_t)n * sizeof *w), *g = eos_malloc((size_t)n * sizeof *g);
    ASSERT_TRUE(w && g);
    test_fill_uniform(w, n, -1, 1, 5);
    test_fill_uniform(g, n, -1, 1, 6);
    eos_param_ref r = { w, g, n, true };
    eos_optim_params p;
    eos_optim_params_default(&p, EOS_OPTIM_SGD);
    p.momentum = 0;
    p.weight_decay = 0.5f;
    eos_optim *o;
    ASSERT_OK(eos_optim_create(&p, &r, 1, &o));
    double norm, ss = 0;
    for (int64_t i = 0; i < n; i++) ss += (double)g[i] * g[i];
    const float w7 = w[77777], g7 = g[77777];
    ASSERT_OK(eos_optim_step(o, 0.25f, &norm));
    EXPECT_NEAR(norm, sqrt(ss), 1e-9 * sqrt(ss));
    EXPECT_NEAR(w[77777], w7 - 0.25f * (g7 + 0.5f * w7), 1e-6);
    eos_optim_free(o);
    eos_free(w);
    eos_free(g);
}

/* ------------------------------------------------------------------ schedules */

static void test_sched_hand(void) {
    eos_sched s = { EOS_SCHED_CONSTANT, 0.5f, 3, 10, 0, 0, 0 };
    EXPECT_NEAR(eos_sched_lr(&s, 0), 0.5, 0);
    EXPECT_NEAR(eos_sched_lr(&s, 1000), 0.5, 0);
    /* cosine: warm-up 2, total 10 */
    s = (eos_sched){ EOS_SCHED_COSINE, 1.0f, 2, 10, 0, 0, 0 };
    EXPECT_NEAR(eos_sched_lr(&s, 0), 0.0, 1e-7);
    EXPECT_NEAR(eos_sched_lr(&s, 1), 0.5, 1e-7);
    EXPECT_NEAR(eos_sched_lr(&s, 2), 1.0, 1e-7);
    EXPECT_NEAR(eos_sched_lr(&s, 6), 0.5, 1e-7);    /* half-way down: (1 + cos(pi/2)) / 2 */
    EXPECT_NEAR(eos_sched_lr(&s, 4), 0.5 * (1 + cos(TEST_PI / 4)), 1e-7);
    EXPECT_NEAR(eos_sched_lr(&s, 10), 0.0, 1e-7);
    EXPECT_NEAR(eos_sched_lr(&s, 50), 0.0, 1e-7);
    s.final_frac = 0.1f;
    EXPECT_NEAR(eos_sched_lr(&s, 6), 0.55, 1e-7);
    EXPECT_NEAR(eos_sched_lr(&s, 10), 0.1, 1e-7);
    EXPECT_NEAR(eos_sched_lr(&s, -3), 0.0, 1e-7);   /* negative steps are step 0 */
    /* step: gamma 0.1 every 3 steps, with and without warm-up */
    s = (eos_sched){ EOS_SCHED_STEP, 1.0f, 0, 0, 3, 0.1f, 0 };
    EXPECT_NEAR(eos_sched_lr(&s, 0), 1.0, 1e-7);
    EXPECT_NEAR(eos_sched_lr(&s, 2), 1.0, 1e-7);
    EXPECT_NEAR(eos_sched_lr(&s, 3), 0.1, 1e-7);
    EXPECT_NEAR(eos_sched_lr(&s, 6), 0.01, 1e-8);
    s.warmup = 2;
    EXPECT_NEAR(eos_sched_lr(&s, 1), 0.5, 1e-7);
    EXPECT_NEAR(eos_sched_lr(&s, 2), 1.0, 1e-7);
    s.step_size = 0;
    EXPECT_NEAR(eos_sched_lr(&s, 100), 1.0, 1e-7);
    /* one-cycle by hand: lr/25 at 0, peak at warmup - 1, lr * final_frac at total - 1 */
    s = (eos_sched){ EOS_SCHED_ONECYCLE, 2.0f, 4, 20, 0, 0, 1e-3f };
    EXPECT_NEAR(eos_sched_lr(&s, 0), 0.08, 1e-7);
    EXPECT_NEAR(eos_sched_lr(&s, 3), 2.0, 1e-7);
    EXPECT_NEAR(eos_sched_lr(&s, 19), 0.002, 1e-8);
    EXPECT_NEAR(eos_sched_lr(&s, 40), 0.002, 1e-8);
    EXPECT_NEAR(eos_sched_lr(&s, 11), 0.002 + (2.0 - 0.002) / 2, 1e-6);   /* mid phase 2 */
}

/* PyTorch's OneCycleLR (cycle_momentum off), lr before each step, from:
 *
 *   import torch
 *   def oc(total, pct, final_frac, lr=1.0):
 *       p = torch.zeros(1, requires_grad=True); opt = torch.optim.SGD([p], lr=lr)
 *       s = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=total, pct_start=pct,
 *           anneal_strategy='cos', div_factor=25.0, final_div_factor=1.0/(25.0*final_frac),
 *           three_phase=False, cycle_momentum=False)
 *       out = []
 *       for k in range(total):
 *           out.append(opt.param_groups[0]['lr']); opt.step()
 *           if k < total - 1: s.step()
 *       return out
 *   print(oc(10, 0.3, 1e-4)); print(oc(8, 0.25, 0.01, lr=0.5))
 */
static void test_sched_onecycle_torch(void) {
    static const double a[10] = { 0.040000000000000036, 0.52, 1.0, 0.9504893855078144,
                                  0.8117637264392739, 0.6112993409314593, 0.38880065906854067,
                                  0.1883362735607262, 0.04961061449218561, 0.0001 };
    static const double b[8] = { 0.020000000000000018, 0.5, 0.4668412874366486, 0.37625, 0.2525,
                                 0.12875000000000006, 0.03815871256335142, 0.005 };
    eos_sched s = { EOS_SCHED_ONECYCLE, 1.0f, 3, 10, 0, 0, 1e-4f };
    for (int k = 0; k < 10; k++) EXPECT_NEAR(eos_sched_lr(&s, k), a[k], 1e-7 * (1 + a[k]));
    s = (eos_sched){ EOS_SCHED_ONECYCLE, 0.5f, 2, 8, 0, 0, 0.01f };
    for (int k = 0; k < 8; k++) EXPECT_NEAR(eos_sched_lr(&s, k), b[k], 1e-7 * (1 + b[k]));
    /* no warm-up: PyTorch's pct_start 0 starts phase 2 at step -1 */
    s = (eos_sched){ EOS_SCHED_ONECYCLE, 1.0f, 0, 4, 0, 0, 0 };
    EXPECT_NEAR(eos_sched_lr(&s, 0), 0.5 * (1 + cos(TEST_PI * 0.25)), 1e-7);
    EXPECT_NEAR(eos_sched_lr(&s, 3), 0.0, 1e-7);
}

TEST_MAIN(TEST(test_sgd_torch), TEST(test_adamw_torch), TEST(test_hand_steps),
          TEST(test_nonfinite_and_errors), TEST(test_state_resume), TEST(test_large_tensor),
          TEST(test_sched_hand), TEST(test_sched_onecycle_torch))
