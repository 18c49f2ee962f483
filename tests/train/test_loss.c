/*
 * tests/train/test_loss.c - the losses of train.h: values against hand-computed numbers and
 * against PyTorch (golden constants below), gradients against PyTorch's autograd and against
 * central finite differences of the loss itself for every kind and option, ignore handling,
 * argument errors, and bit-identical results for 1 and 2 threads on a batch of many blocks.
 *
 * Finite differences: eos_loss_compute works in double from float logits, so the loss is a
 * smooth function of the float inputs accurate to ~1e-15; a central difference with step
 * h = 2^-10, divided by the step actually taken in float, is accurate to ~1e-8, below the
 * tolerance (1e-6 + 1e-5 |fd|) and far above what a wrong gradient term produces.
 */
#include "common/test.h"

#include "eosight/train.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* ------------------------------------------------------------------ shared input */

/* The fixed input of the golden tests: 4 rows, 3 classes, row 2 ignored (255). */
static const float GX[12] = { 1.0f, -0.5f, 2.0f, 0.2f, 0.3f, -1.0f, -2.0f, 1.5f, 0.5f,
                              0.0f, 0.25f, -0.75f };
static const int32_t GT[4] = { 2, 0, 255, 1 };
static const float GW[3] = { 0.5f, 2.0f, 1.0f };
static const float GTF[12] = { 1, 0, 1, 0, 0, 1, 1, 1, 0, 0.25f, 1, 0 };
static const float GPW[3] = { 1.0f, 3.0f, 0.5f };

/* Golden values from Debian's python3-torch (1.13), float64, made with:
 *
 *   import torch, torch.nn.functional as F
 *   x = torch.tensor([[1.0, -0.5, 2.0], [0.2, 0.3, -1.0], [-2.0, 1.5, 0.5], [0.0, 0.25, -0.75]],
 *                    dtype=torch.float64, requires_grad=True)
 *   t = torch.tensor([2, 0, 255, 1]); w = torch.tensor([0.5, 2.0, 1.0], dtype=torch.float64)
 *   tf = torch.tensor([[1,0,1],[0,0,1],[1,1,0],[0.25,1,0]], dtype=torch.float64)
 *   pw = torch.tensor([1.0, 3.0, 0.5], dtype=torch.float64)
 *   def show(name, l): g, = torch.autograd.grad(l, x); print(name, l.item(), g.flatten().tolist())
 *   show("ce", F.cross_entropy(x, t, ignore_index=255))
 *   show("ce_w", F.cross_entropy(x, t, weight=w, ignore_index=255))
 *   show("ce_ls", F.cross_entropy(x, t, ignore_index=255, label_smoothing=0.1))
 *   show("ce_w_ls", F.cross_entropy(x, t, weight=w, ignore_index=255, label_smoothing=0.1))
 *   show("bce", F.binary_cross_entropy_with_logits(x, tf))
 *   show("bce_pw", F.binary_cross_entropy_with_logits(x, tf, pos_weight=pw))
 *   def sfl(inputs, targets, alpha, gamma):   # torchvision.ops.sigmoid_focal_loss, mean
 *       p = torch.sigmoid(inputs)
 *       ce = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
 *       p_t = p * targets + (1 - p) * (1 - targets)
 *       loss = ce * ((1 - p_t) ** gamma)
 *       if alpha >= 0: loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss
 *       return loss.mean()
 *   show("focal_sig", sfl(x, tf, 0.25, 2.0)); show("focal_sig_noalpha", sfl(x, tf, -1, 1.5))
 *   def ffl(inputs, target, weight, gamma):    # softmax focal: sum w_t (1-p_t)^g (-log p_t) / sum w_t
 *       keep = target != 255; lp = F.log_softmax(inputs[keep], 1); tk = target[keep]
 *       lpt = lp.gather(1, tk[:, None])[:, 0]
 *       wt = weight[tk] if weight is not None else torch.ones_like(lpt)
 *       return (-(wt * (1 - lpt.exp()) ** gamma * lpt)).sum() / wt.sum()
 *   show("focal_soft", ffl(x, t, None, 2.0)); show("focal_soft_w", ffl(x, t, w, 0.5))
 *   def dice(inputs, target, s):               # train.h's Dice definition
 *       keep = target != 255; p = F.softmax(inputs[keep], 1); tk = target[keep]
 *       oh = F.one_hot(tk, 3).double(); I = (p * oh).sum(0); P = p.sum(0); T = oh.sum(0)
 *       pres = (T > 0) | (F.one_hot(p.argmax(1), 3).sum(0) > 0)
 *       return 1 - ((2 * I + s) / (P + T + s))[pres].mean()
 *   show("dice", dice(x, t, 1.0))
 *   show("ce_dice", F.cross_entropy(x, t, weight=w, ignore_index=255, label_smoothing=0.1)
 *                   + 0.7 * dice(x, t, 1.0))
 *   def bdice(inputs, tf, s):
 *       p = torch.sigmoid(inputs); I = (p * tf).sum(0); P = p.sum(0); T = tf.sum(0)
 *       pres = (T > 0) | ((inputs > 0).sum(0) > 0)
 *       return 1 - ((2 * I + s) / (P + T + s))[pres].mean()
 *   show("bce_dice", F.binary_cross_entropy_with_logits(x, tf, pos_weight=pw) + 0.5 * bdice(x, tf, 0.5))
 */
typedef struct golden {
    const char *name;
    double      loss;
    double      grad[12];
} golden;

static const golden GOLD[] = {
    { "ce", 0.6711929876866832,
      { 0.0845720605450084, 0.018870577413490425, -0.1034426379584988, -0.19481182253708257,
        0.1530899452599182, 0.041721877277164345, 0, 0, 0, 0.12093103485656083,
        -0.178054810911158, 0.05712377605459713 } },
    { "ce_w", 0.6681265280172276,
      { 0.07249033761000721, 0.01617478064013465, -0.08866511825014183, -0.0834907810873211,
        0.06560997653996493, 0.017880804547356147, 0, 0, 0, 0.20731034546839,
        -0.30523681870484226, 0.09792647323645222 } },
    { "ce_ls", 0.7361929876866833,
      { 0.07346094943389729, 0.007759466302379314, -0.0812204157362766, -0.17258960031486034,
        0.1419788341488071, 0.03061076616605324, 0, 0, 0, 0.10981992374544973,
        -0.15583258868893576, 0.04601266494348602 } },
    { "ce_w_ls", 0.7410522216032207,
      { 0.06893660514160259, -0.0026032587301488127, -0.06633334641145372, -0.0660514566608687,
        0.05531035436434123, 0.010741102296527447, 0, 0, 0, 0.19391050964530235,
        -0.27823290363975967, 0.08432239399445719 } },
    { "bce", 0.736533196989097,
      { -0.02241178511416626, 0.03146172239984545, -0.009933576835176474, 0.04581949977603983,
        0.04787020973430492, -0.06092154821916707, -0.07339975649815687, -0.015202126983863029,
        0.05187161093348788, 0.020833333333333332, -0.03648529159285016, 0.026735108402050584 } },
    { "bce_pw", 0.8060840758593132,
      { -0.02241178511416626, 0.03146172239984545, -0.004966788417588237, 0.04581949977603983,
        0.04787020973430492, -0.030460774109583536, -0.07339975649815687, -0.04560638095158909,
        0.05187161093348788, 0.020833333333333332, -0.1094558747785505, 0.026735108402050584 } },
    { "focal_sig", 0.12397473721586721,
      { -0.001095440207865846, 0.00862106233443215, -0.00010147792073734961, 0.023966666671771494,
        0.026844154286609405, -0.01600489006665245, -0.02243153605101004, -0.0003548146921507485,
        0.03288448886716144, 0.00776788529010381, -0.004334507898434674, 0.005444353876799291 } },
    { "focal_sig_noalpha", 0.36763446310600645,
      { -0.007118414981050009, 0.015855288170222772, -0.0009839638211096013, 0.0369917490791326,
        0.040628645742539465, -0.06567626879983501, -0.08687252929055964, -0.002788307112080746,
        0.048049243949063326, 0.015023962383207894, -0.022294663470092846, 0.010826575611645973 } },
    { "focal_soft", 0.18456191759803162,
      { 0.021594657424338252, 0.0048184193694430725, -0.026413076793781312, -0.14963548473748065,
        0.11758879861124313, 0.0320466861262375, 0, 0, 0, 0.08048076596036424,
        -0.11849718793901792, 0.03801642197865365 } },
    { "focal_soft_w", 0.4740789023485959,
      { 0.05705421818403214, 0.012730516840546546, -0.06978473502457866, -0.08375386092014865,
        0.06581671387593382, 0.017937147044214823, 0, 0, 0, 0.20198623973487628,
        -0.29739778349956003, 0.09541154376468368 } },
    { "dice", 0.3171547748455512,
      { 0.03503225962868559, 0.008158182211167271, -0.04319044183985284, -0.055724188287801145,
        0.042165484604931275, 0.01355870368286987, 0, 0, 0, 0.035365185634948997,
        -0.05593448050044758, 0.020569294865498584 } },
    { "ce_dice", 0.9630605639951065,
      { 0.0934591868816825, 0.003107468817668278, -0.0965666556993507, -0.10505838846232951,
        0.08482619358779311, 0.020232194874536355, 0, 0, 0, 0.21866613958976663,
        -0.31738703999007295, 0.0987209004003062 } },
    { "bce_dice", 1.0042352060853794,
      { -0.03279195355149518, 0.036930227913581054, -0.010264424116746468, 0.0504945692787314,
        0.053558722536232777, -0.040381174412303385, -0.07894291495939282, -0.052425129184554,
        0.05706922305964908, 0.021075114846920328, -0.12070874950967712, 0.03155432445270895 } },
};

/* The loss parameters of golden case `name`. */
static eos_loss_params gold_params(const char *name) {
    eos_loss_params p;
    const bool w = strstr(name, "_w") != NULL, ls = strstr(name, "_ls") != NULL;
    if (!strncmp(name, "ce_dice", 7)) {
        eos_loss_params_default(&p, EOS_LOSS_CE_DICE);
        p.class_weight = GW;
        p.label_smoothing = 0.1f;
        p.dice_weight = 0.7f;
    } else if (!strncmp(name, "ce", 2)) {
        eos_loss_params_default(&p, EOS_LOSS_CE);
        p.class_weight = w ? GW : NULL;
        p.label_smoothing = ls ? 0.1f : 0.0f;
    } else if (!strncmp(name, "bce_dice", 8)) {
        eos_loss_params_default(&p, EOS_LOSS_BCE_DICE);
        p.pos_weight = GPW;
        p.dice_weight = 0.5f;
        p.dice_smooth = 0.5f;
    } else if (!strncmp(name, "bce", 3)) {
        eos_loss_params_default(&p, EOS_LOSS_BCE);
        p.pos_weight = strstr(name, "_pw") ? GPW : NULL;
    } else if (!strcmp(name, "focal_sig")) {
        eos_loss_params_default(&p, EOS_LOSS_FOCAL);
        p.focal_alpha = 0.25f;
    } else if (!strcmp(name, "focal_sig_noalpha")) {
        eos_loss_params_default(&p, EOS_LOSS_FOCAL);
        p.focal_gamma = 1.5f;
    } else if (!strncmp(name, "focal_soft", 10)) {
        eos_loss_params_default(&p, EOS_LOSS_FOCAL);
        p.class_weight = w ? GW : NULL;
        p.focal_gamma = w ? 0.5f : 2.0f;
    } else {
        eos_loss_params_default(&p, EOS_LOSS_DICE);
    }
    return p;
}

static bool gold_int(const char *name) {
    return !strncmp(name, "ce", 2) || !strncmp(name, "focal_soft", 10) || !strcmp(name, "dice");
}

static void test_golden_pytorch(void) {
    for (size_t k = 0; k < sizeof GOLD / sizeof GOLD[0]; k++) {
        const golden *g = &GOLD[k];
        eos_loss_params p = gold_params(g->name);
        const bool it = gold_int(g->name);
        double loss = -1;
        float dx[12];
        ASSERT_OK(eos_loss_compute(&p, GX, 4, 3, it ? GT : NULL, it ? NULL : GTF, &loss, dx));
        if (fabs(loss - g->loss) > 1e-6) TEST_FAIL_("%s: loss %.12g, torch %.12g", g->name, loss, g->loss);
        for (int i = 0; i < 12; i++)
            if (fabs(dx[i] - g->grad[i]) > 2e-7)
                TEST_FAIL_("%s: grad[%d] %.9g, torch %.9g", g->name, i, dx[i], g->grad[i]);
        double loss2 = -1;
        ASSERT_OK(eos_loss_compute(&p, GX, 4, 3, it ? GT : NULL, it ? NULL : GTF, &loss2, NULL));
        EXPECT_TRUE(loss2 == loss);   /* no gradient: the same loss */
    }
}

/* ------------------------------------------------------------------ hand-computed values */

static void test_hand_values(void) {
    const float x3[3] = { 0, 0, 0 };
    const int32_t t1 = 1;
    eos_loss_params p;
    double l;
    float g[3];
    /* uniform logits: CE = log 3, with or without weights and smoothing (both terms log 3) */
    eos_loss_params_default(&p, EOS_LOSS_CE);
    EXPECT_OK(eos_loss_compute(&p, x3, 1, 3, &t1, NULL, &l, g));
    EXPECT_NEAR(l, log(3.0), 1e-12);
    EXPECT_NEAR(g[0], 1.0 / 3, 1e-7);
    EXPECT_NEAR(g[1], -2.0 / 3, 1e-7);
    p.class_weight = GW;
    p.label_smoothing = 0.3f;
    EXPECT_OK(eos_loss_compute(&p, x3, 1, 3, &t1, NULL, &l, NULL));
    /* (1-eps) w1 log3 + eps/3 (0.5+2+1) log3, over w1 = 2 */
    EXPECT_NEAR(l, (0.7 * 2 * log(3.0) + 0.1 * 3.5 * log(3.0)) / 2, 1e-7);
    /* BCE at x = 0: log 2 whatever the target; gradient (p - t) / n */
    const float x2[2] = { 0, 0 }, tf2[2] = { 1, 0 };
    eos_loss_params_default(&p, EOS_LOSS_BCE);
    EXPECT_OK(eos_loss_compute(&p, x2, 1, 2, NULL, tf2, &l, g));
    EXPECT_NEAR(l, log(2.0), 1e-12);
    EXPECT_NEAR(g[0], -0.25, 1e-7);
    EXPECT_NEAR(g[1], 0.25, 1e-7);
    /* BCE is stable for huge logits: x = 100, t = 0 -> 100; x = -100, t = 0 -> ~0 */
    const float xb[2] = { 100, -100 }, tz[2] = { 0, 0 };
    EXPECT_OK(eos_loss_compute(&p, xb, 1, 2, NULL, tz, &l, g));
    EXPECT_NEAR(l, 50.0, 1e-9);
    EXPECT_NEAR(g[0], 0.5, 1e-7);
    /* CE is stable too: logits 1000 apart */
    const float xc[2] = { 1000, 0 };
    const int32_t t0 = 0;
    eos_loss_params_default(&p, EOS_LOSS_CE);
    EXPECT_OK(eos_loss_compute(&p, xc, 1, 2, &t0, NULL, &l, g));
    EXPECT_NEAR(l, 0, 1e-12);
    EXPECT_TRUE(isfinite(g[0]) && isfinite(g[1]));
    const int32_t tw = 1;
    EXPECT_OK(eos_loss_compute(&p, xc, 1, 2, &tw, NULL, &l, g));
    EXPECT_NEAR(l, 1000.0, 1e-9);
    /* Dice, one row [0, 0], target 0, smooth 1: only class 0 is present (target and arg-max,
     * the first of equal maxima): D0 = (2*0.5 + 1) / (0.5 + 1 + 1) = 0.8 -> loss 0.2 */
    eos_loss_params_default(&p, EOS_LOSS_DICE);
    EXPECT_OK(eos_loss_compute(&p, x2, 1, 2, &t0, NULL, &l, NULL));
    EXPECT_NEAR(l, 0.2, 1e-12);
    /* softmax focal with gamma 0 is CE */
    eos_loss_params_default(&p, EOS_LOSS_FOCAL);
    p.focal_gamma = 0;
    EXPECT_OK(eos_loss_compute(&p, x3, 1, 3, &t1, NULL, &l, g));
    EXPECT_NEAR(l, log(3.0), 1e-12);
    /* gamma 2 at p_t = 1/3: (2/3)^2 log 3 */
    p.focal_gamma = 2;
    EXPECT_OK(eos_loss_compute(&p, x3, 1, 3, &t1, NULL, &l, g));
    EXPECT_NEAR(l, 4.0 / 9 * log(3.0), 1e-12);
}

static void test_ignore_and_errors(void) {
    const int32_t all_ign[4] = { 255, 255, 255, 255 }, bad[4] = { 0, 3, 1, 1 },
                  neg[4] = { 0, -1, 1, 1 };
    eos_loss_params p;
    double l = 7;
    float g[12];
    for (int k = 0; k < 12; k++) g[k] = 9;
    eos_loss_params_default(&p, EOS_LOSS_CE_DICE);
    EXPECT_OK(eos_loss_compute(&p, GX, 4, 3, all_ign, NULL, &l, g));
    EXPECT_NEAR(l, 0, 0);
    for (int k = 0; k < 12; k++) EXPECT_NEAR(g[k], 0, 0);
    /* kept rows whose class weight is 0: same as all ignored */
    const float w0[3] = { 0, 0, 0 };
    eos_loss_params_default(&p, EOS_LOSS_CE);
    p.class_weight = w0;
    for (int k = 0; k < 12; k++) g[k] = 9;
    EXPECT_OK(eos_loss_compute(&p, GX, 4, 3, GT, NULL, &l, g));
    EXPECT_NEAR(l, 0, 0);
    EXPECT_NEAR(g[0], 0, 0);
    /* ignore_index inside [0, C): rows of class 0 are skipped, 255 is then out of range */
    eos_loss_params_default(&p, EOS_LOSS_CE);
    p.ignore_index = 0;
    EXPECT_STATUS(eos_loss_compute(&p, GX, 4, 3, GT, NULL, &l, g), EOS_INVALID_ARG);
    const int32_t t_no255[4] = { 2, 0, 0, 1 };
    EXPECT_OK(eos_loss_compute(&p, GX, 4, 3, t_no255, NULL, &l, g));
    double l_ref;
    const int32_t t_ref[4] = { 2, 255, 255, 1 };
    p.ignore_index = 255;
    EXPECT_OK(eos_loss_compute(&p, GX, 4, 3, t_ref, NULL, &l_ref, NULL));
    EXPECT_NEAR(l, l_ref, 1e-15);
    EXPECT_NEAR(g[3], 0, 0);
    /* bad targets, bad arguments */
    EXPECT_STATUS(eos_loss_compute(&p, GX, 4, 3, bad, NULL, &l, g), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_loss_compute(&p, GX, 4, 3, neg, NULL, &l, g), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_loss_compute(&p, GX, 4, 0, GT, NULL, &l, g), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_loss_compute(&p, GX, 4, 3, NULL, GTF, &l, g), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_loss_compute(&p, NULL, 4, 3, GT, NULL, &l, g), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_loss_compute(NULL, GX, 4, 3, GT, NULL, &l, g), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_loss_compute(&p, GX, 4, 3, GT, NULL, NULL, g), EOS_INVALID_ARG);
    p.label_smoothing = 1.5f;
    EXPECT_STATUS(eos_loss_compute(&p, GX, 4, 3, GT, NULL, &l, g), EOS_INVALID_ARG);
    const float wneg[3] = { 1, -1, 1 };
    eos_loss_params_default(&p, EOS_LOSS_CE);
    p.class_weight = wneg;
    EXPECT_STATUS(eos_loss_compute(&p, GX, 4, 3, GT, NULL, &l, g), EOS_INVALID_ARG);
    eos_loss_params_default(&p, EOS_LOSS_BCE);
    EXPECT_STATUS(eos_loss_compute(&p, GX, 4, 3, GT, NULL, &l, g), EOS_INVALID_ARG);
    eos_loss_params_default(&p, EOS_LOSS_FOCAL);
    EXPECT_STATUS(eos_loss_compute(&p, GX, 4, 3, GT, GTF, &l, g), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_loss_compute(&p, GX, 4, 3, NULL, NULL, &l, g), EOS_INVALID_ARG);
    p.focal_gamma = -1;
    EXPECT_STATUS(eos_loss_compute(&p, GX, 4, 3, GT, NULL, &l, g), EOS_INVALID_ARG);
    /* zero rows: loss 0 */
    eos_loss_params_default(&p, EOS_LOSS_CE);
    EXPECT_OK(eos_loss_compute(&p, NULL, 0, 3, GT, NULL, &l, NULL));
    EXPECT_NEAR(l, 0, 0);
}

/* ------------------------------------------------------------------ finite differences */

#define FD_ROWS 37
#define FD_C 5

static double fd_loss(const eos_loss_params *p, const float *x, const int32_t *t, const float *tf) {
    double l = NAN;
    if (eos_loss_compute(p, x, FD_ROWS, FD_C, t, tf, &l, NULL) != EOS_OK) return NAN;
    return l;
}

/* Central differences of the loss at every logit (x is restored). */
static void fd_grad(const eos_loss_params *p, float *x, const int32_t *t, const float *tf,
                    double *fd) {
    const float h = 1.0f / 1024;
    for (int k = 0; k < FD_ROWS * FD_C; k++) {
        const float x0 = x[k];
        x[k] = x0 + h;
        const float xp = x[k];
        const double lp = fd_loss(p, x, t, tf);
        x[k] = x0 - h;
        const float xm = x[k];
        const double lm = fd_loss(p, x, t, tf);
        x[k] = x0;
        fd[k] = (lp - lm) / ((double)xp - (double)xm);
    }
}

/* Largest |g - fd| / (1e-6 + 1e-5 |fd|) over every logit (> 1 fails); *at gets its index. */
static double fd_ratio(const float *g, const double *fd, int *at) {
    double worst = 0;
    *at = 0;
    for (int k = 0; k < FD_ROWS * FD_C; k++) {
        const double r = fabs(g[k] - fd[k]) / (1e-6 + 1e-5 * fabs(fd[k]));
        if (!(r <= worst)) {
            worst = r;
            *at = k;
        }
    }
    return worst;
}

/* Analytic gradient of p against finite differences of p (or of p_fd when not NULL, for the
 * test that a wrong gradient is caught). Returns the worst ratio. */
static double fd_compare(const eos_loss_params *p, const eos_loss_params *p_fd, float *x,
                         const int32_t *t, const float *tf, int *at, float *g, double *fd) {
    double l;
    if (eos_loss_compute(p, x, FD_ROWS, FD_C, t, tf, &l, g) != EOS_OK) return INFINITY;
    fd_grad(p_fd ? p_fd : p, x, t, tf, fd);
    return fd_ratio(g, fd, at);
}

static double fd_check(const char *what, const eos_loss_params *p, float *x, const int32_t *t,
                       const float *tf) {
    float g[FD_ROWS * FD_C];
    double fd[FD_ROWS * FD_C];
    int k;
    double r = fd_compare(p, NULL, x, t, tf, &k, g, fd);
    if (!(r <= 1.0)) TEST_FAIL_("%s: gradient[%d] %.9g vs finite difference %.9g", what, k, g[k], fd[k]);
    return r;
}

static void fd_inputs(float *x, int32_t *t, float *tf, float *w, float *pw) {
    test_fill_uniform(x, FD_ROWS * FD_C, -3, 3, 11);
    test_fill_uniform(tf, FD_ROWS * FD_C, 0, 1, 12);
    for (int k = 0; k < FD_ROWS * FD_C; k++) tf[k] = k % 7 == 3 ? 0.3f : tf[k] > 0.6f;
    for (int i = 0; i < FD_ROWS; i++) t[i] = i % 9 == 4 ? 255 : (int32_t)((i * 7 + i / 3) % FD_C);
    test_fill_uniform(w, FD_C, 0.2f, 2.5f, 13);
    test_fill_uniform(pw, FD_C, 0.3f, 4.0f, 14);
}

static void test_gradients_fd(void) {
    float x[FD_ROWS * FD_C], tf[FD_ROWS * FD_C], w[FD_C], pw[FD_C];
    int32_t t[FD_ROWS];
    fd_inputs(x, t, tf, w, pw);
    eos_loss_params p;
    double worst = 0, r;
#define FD(name, tt, ttf) do { r = fd_check(name, &p, x, tt, ttf); if (r > worst) worst = r; } while (0)
    eos_loss_params_default(&p, EOS_LOSS_CE);
    FD("ce", t, NULL);
    p.class_weight = w;
    FD("ce weights", t, NULL);
    p.label_smoothing = 0.15f;
    FD("ce weights smoothing", t, NULL);
    p.class_weight = NULL;
    FD("ce smoothing", t, NULL);
    p.ignore_index = 2;   /* targets 255 would be out of range: use a copy without them */
    int32_t t2[FD_ROWS];
    for (int i = 0; i < FD_ROWS; i++) t2[i] = t[i] == 255 ? 2 : t[i];
    FD("ce ignore 2", t2, NULL);
    eos_loss_params_default(&p, EOS_LOSS_BCE);
    FD("bce", NULL, tf);
    p.pos_weight = pw;
    FD("bce pos_weight", NULL, tf);
    eos_loss_params_default(&p, EOS_LOSS_FOCAL);
    FD("focal softmax g2", t, NULL);
    p.class_weight = w;
    p.focal_gamma = 0.5f;
    FD("focal softmax weights g0.5", t, NULL);
    eos_loss_params_default(&p, EOS_LOSS_FOCAL);
    p.focal_alpha = 0.25f;
    FD("focal sigmoid a0.25 g2", NULL, tf);
    p.focal_alpha = -1;
    p.focal_gamma = 1.5f;
    FD("focal sigmoid g1.5", NULL, tf);
    eos_loss_params_default(&p, EOS_LOSS_DICE);
    FD("dice", t, NULL);
    p.dice_smooth = 0;
    FD("dice smooth 0", t, NULL);
    eos_loss_params_default(&p, EOS_LOSS_CE_DICE);
    p.class_weight = w;
    p.label_smoothing = 0.1f;
    p.dice_weight = 0.7f;
    FD("ce+dice", t, NULL);
    eos_loss_params_default(&p, EOS_LOSS_BCE_DICE);
    p.pos_weight = pw;
    p.dice_weight = 1.3f;
    FD("bce+dice", NULL, tf);
#undef FD
    printf("  worst gradient error: %.4f of tolerance\n", worst);
}

/* The check has teeth: plausible gradient bugs (the smoothing term forgotten, gamma slightly
 * off, the Dice smoothing ignored, pos_weight dropped) are all flagged. Also proved once by
 * hand: scaling one term of ce_part's gradient by 1.01 makes test_gradients_fd fail. */
static void test_fd_has_teeth(void) {
    float x[FD_ROWS * FD_C], tf[FD_ROWS * FD_C], w[FD_C], pw[FD_C], g[FD_ROWS * FD_C];
    double fd[FD_ROWS * FD_C];
    int32_t t[FD_ROWS];
    int k;
    fd_inputs(x, t, tf, w, pw);
    eos_loss_params right, wrong;
    eos_loss_params_default(&right, EOS_LOSS_CE);
    right.label_smoothing = 0.1f;
    eos_loss_params_default(&wrong, EOS_LOSS_CE);
    EXPECT_TRUE(fd_compare(&wrong, &right, x, t, NULL, &k, g, fd) > 10);
    eos_loss_params_default(&right, EOS_LOSS_FOCAL);
    wrong = right;
    wrong.focal_gamma = 1.98f;
    printf("  gamma 1.98 for 2: %.1f\n", fd_compare(&wrong, &right, x, t, NULL, &k, g, fd));
    EXPECT_TRUE(fd_compare(&wrong, &right, x, t, NULL, &k, g, fd) > 1.5);
    eos_loss_params_default(&right, EOS_LOSS_DICE);
    wrong = right;
    wrong.dice_smooth = 1.01f;
    printf("  dice smooth 1.01 for 1: %.1f\n", fd_compare(&wrong, &right, x, t, NULL, &k, g, fd));
    EXPECT_TRUE(fd_compare(&wrong, &right, x, t, NULL, &k, g, fd) > 1.5);
    eos_loss_params_default(&right, EOS_LOSS_BCE);
    right.pos_weight = pw;
    eos_loss_params_default(&wrong, EOS_LOSS_BCE);
    EXPECT_TRUE(fd_compare(&wrong, &right, x, NULL, tf, &k, g, fd) > 10);
}

/* ------------------------------------------------------------------ many rows, threads */

/* CE (weights, smoothing) in plain double, for the multi-block batch. */
static double ce_ref(const float *x, const int32_t *t, int64_t rows, int c, const float *w, double eps) {
    double num = 0, den = 0;
    for (int64_t i = 0; i < rows; i++) {
        if (t[i] == 255) continue;
        double m = x[i * c], s = 0;
        for (int j = 1; j < c; j++) m = fmax(m, x[i * c + j]);
        for (int j = 0; j < c; j++) s += exp(x[i * c + j] - m);
        const double lse = m + log(s);
        double smooth = 0;
        for (int j = 0; j < c; j++) smooth += w[j] * (lse - x[i * c + j]);
        num += (1 - eps) * w[t[i]] * (lse - x[i * c + t[i]]) + eps / c * smooth;
        den += w[t[i]];
    }
    return num / den;
}

static void test_many_rows_threads(void) {
    const int64_t rows = 3 * 2048 + 123;
    const int c = 6;
    float *x = eos_malloc((size_t)(rows * c) * sizeof *x);
    float *g1 = eos_malloc((size_t)(rows * c) * sizeof *g1);
    float *g2 = eos_malloc((size_t)(rows * c) * sizeof *g2);
    int32_t *t = eos_malloc((size_t)rows * sizeof *t);
    ASSERT_TRUE(x && g1 && g2 && t);
    test_fill_uniform(x, rows * c, -4, 4, 21);
    for (int64_t i = 0; i < rows; i++) t[i] = i % 13 == 0 ? 255 : (int32_t)((i * 31 + i / 7) % c);
    const float w[6] = { 1, 0.5f, 2, 1.5f, 0.25f, 1 };
    eos_loss_params p;
    eos_loss_params_default(&p, EOS_LOSS_CE);
    p.class_weight = w;
    p.label_smoothing = 0.05f;
    double l1, l2;
    ASSERT_OK(eos_loss_compute(&p, x, rows, c, t, NULL, &l1, NULL));
    EXPECT_NEAR(l1, ce_ref(x, t, rows, c, w, (double)0.05f), 1e-12);
    p.kind = EOS_LOSS_CE_DICE;
#ifdef _OPENMP
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
#endif
    ASSERT_OK(eos_loss_compute(&p, x, rows, c, t, NULL, &l1, g1));
#ifdef _OPENMP
    omp_set_num_threads(2);
#endif
    ASSERT_OK(eos_loss_compute(&p, x, rows, c, t, NULL, &l2, g2));
#ifdef _OPENMP
    omp_set_num_threads(saved);
#endif
    EXPECT_TRUE(l1 == l2);
    EXPECT_TRUE(memcmp(g1, g2, (size_t)(rows * c) * sizeof *g1) == 0);
    eos_free(x);
    eos_free(g1);
    eos_free(g2);
    eos_free(t);
}

TEST_MAIN(TEST(test_golden_pytorch), TEST(test_hand_values), TEST(test_ignore_and_errors),
          TEST(test_gradients_fd), TEST(test_fd_has_teeth), TEST(test_many_rows_threads))
