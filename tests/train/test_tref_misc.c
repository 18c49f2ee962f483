/*
 * tests/train/test_tref_misc.c - reference training kernels (src/train/tref.h): Resize
 * (nearest and bilinear, half_pixel / align_corners / asymmetric, integer and non-integer
 * factors, down-sampling), Concat, broadcasting Add/Mul/Sub, Softmax, Dropout and the
 * NHWC <-> NCHW copies.
 *
 * As in test_tref_layers.c: forward against a double formula written here and against the
 * inference reference of src/ops/ref (NCHW through eos_op_ref, Resize-13 with sizes and
 * nearest_mode floor), backward against central differences of L = sum(r * y) in double with
 * the x1.01 negative control, second backward call doubles, NULL gradients skipped. Dropout is
 * checked statistically (keep rate within 4.5 sigma of 1 - ratio) and its backward through the
 * mask of its forward.
 */
#include "ops/op_test.h"
#include "train/tref_check.h"

/* ------------------------------------------------------------------ resize */

typedef struct rs_ctx {
    eos_tresize mode;
    eos_tcoord coord;
    int64_t n, c, hi, wi, ho, wo;
    float *r;
    double *xd, *yd;
} rs_ctx;

/* Source coordinate in double: the definitions of the three modes, written independently. */
static double rs_coord(eos_tcoord m, int64_t in, int64_t out, int64_t o) {
    if (m == EOS_TCOORD_ALIGN_CORNERS) return out == 1 ? 0.0 : (double)o * (in - 1) / (out - 1);
    if (m == EOS_TCOORD_HALF_PIXEL) return (o + 0.5) * in / out - 0.5;
    return (double)o * in / out;
}

/* Up to two (index, weight) taps of output o on one axis. */
static int rs_taps(const rs_ctx *c, int64_t in, int64_t out, int64_t o, int64_t *idx, double *w) {
    double x = rs_coord(c->coord, in, out, o);
    if (c->mode == EOS_TRESIZE_NEAREST) {
        double f = floor(x);
        idx[0] = f < 0 ? 0 : (f > in - 1 ? in - 1 : (int64_t)f);
        w[0] = 1.0;
        return 1;
    }
    x = x < 0 ? 0 : (x > in - 1 ? in - 1 : x);
    idx[0] = (int64_t)floor(x);
    idx[1] = idx[0] + 1 < in ? idx[0] + 1 : in - 1;
    w[1] = x - idx[0];
    w[0] = 1.0 - w[1];
    return 2;
}

static double rs_loss(void *v) {
    rs_ctx *c = v;
    for (int64_t b = 0; b < c->n; b++)
    for (int64_t oy = 0; oy < c->ho; oy++)
    for (int64_t ox = 0; ox < c->wo; ox++) {
        int64_t iy[2], ix[2];
        double wy[2], wx[2];
        int ny = rs_taps(c, c->hi, c->ho, oy, iy, wy), nx = rs_taps(c, c->wi, c->wo, ox, ix, wx);
        for (int64_t j = 0; j < c->c; j++) {
            double s = 0.0;
            for (int a = 0; a < ny; a++)
                for (int e = 0; e < nx; e++)
                    s += wy[a] * wx[e] * c->xd[((b * c->hi + iy[a]) * c->wi + ix[e]) * c->c + j];
            c->yd[((b * c->ho + oy) * c->wo + ox) * c->c + j] = s;
        }
    }
    return tc_project(c->yd, c->r, c->n * c->ho * c->wo * c->c);
}

static void rs_vs_ops_ref(const rs_ctx *c, const float *x, const float *y) {
    static const char *coords[] = { "half_pixel", "align_corners", "asymmetric" };
    op_node t;
    eos_err err;
    op_init(&t, EOS_OP_RESIZE, 4, 1, 13);
    op_str(&t, "mode", c->mode == EOS_TRESIZE_NEAREST ? "nearest" : "linear");
    op_str(&t, "coordinate_transformation_mode", coords[c->coord]);
    op_str(&t, "nearest_mode", "floor");
    int64_t nx = c->n * c->c * c->hi * c->wi, ny = c->n * c->c * c->ho * c->wo;
    int64_t sizes[4] = { c->n, c->c, c->ho, c->wo };
    float *xc = tc_zeros(nx), *yr = tc_zeros(ny);
    ASSERT_TRUE(xc && yr);
    tc_nhwc_to_nchw(c->n, c->hi, c->wi, c->c, x, xc);
    eos_tensor in[4] = { op_t(EOS_DTYPE_F32, 4, D(c->n, c->c, c->hi, c->wi), xc), op_none(),
                         op_none(), op_t(EOS_DTYPE_I64, 1, D(4), sizes) }, out[1];
    eos_status st = op_run(&t.n, in, out, &err);
    EXPECT_OK(st);
    if (st == EOS_OK) {
        EXPECT_SHAPE(out[0], c->n, c->c, c->ho, c->wo);
        tc_nchw_to_nhwc(c->n, c->c, c->ho, c->wo, out[0].data, yr);
        printf("    %-40s fwd vs ops/ref max rel err %.2e\n", "resize",
               tc_cmpf("resize vs ops/ref", y, yr, ny, 1e-6));
        op_free(out, 1);
    }
    eos_free(xc);
    eos_free(yr);
}

static void rs_case(const char *name, eos_tresize mode, eos_tcoord coord, int64_t hi, int64_t wi,
                    int64_t ho, int64_t wo, uint64_t seed) {
    rs_ctx c = { mode, coord, 2, 3, hi, wi, ho, wo, NULL, NULL, NULL };
    int64_t nx = c.n * hi * wi * c.c, ny = c.n * ho * wo * c.c;
    printf("  %s\n", name);
    float *x = tc_rand(nx, -1, 1, seed), *y = tc_zeros(ny), *dx = tc_zeros(nx), *dx2 = tc_zeros(nx);
    c.r = tc_rand(ny, -1, 1, seed + 1);
    c.xd = tc_dup(x, nx);
    c.yd = eos_malloc((size_t)ny * sizeof *c.yd);
    ASSERT_TRUE(x && y && dx && dx2 && c.r && c.xd && c.yd);
    eos_tref_resize_fwd(mode, coord, c.n, c.c, hi, wi, ho, wo, x, y);
    rs_loss(&c);
    tc_cmp(name, y, c.yd, ny, 1e-6);
    rs_vs_ops_ref(&c, x, y);
    eos_tref_resize_bwd(mode, coord, c.n, c.c, hi, wi, ho, wo, c.r, dx);
    tc_grad(name, rs_loss, &c, c.xd, nx, dx, TC_H, TC_TOL);
    memcpy(dx2, dx, (size_t)nx * sizeof *dx);
    eos_tref_resize_bwd(mode, coord, c.n, c.c, hi, wi, ho, wo, c.r, dx2);
    tc_twice(name, dx2, dx, nx);
    eos_free(x); eos_free(y); eos_free(dx); eos_free(dx2);
    eos_free(c.r); eos_free(c.xd); eos_free(c.yd);
}

static void test_resize(void) {
    const eos_tresize NN = EOS_TRESIZE_NEAREST, BL = EOS_TRESIZE_BILINEAR;
    rs_case("nearest x2 asymmetric", NN, EOS_TCOORD_ASYMMETRIC, 3, 4, 6, 8, 91);
    rs_case("nearest x2 half_pixel", NN, EOS_TCOORD_HALF_PIXEL, 3, 4, 6, 8, 92);
    rs_case("nearest 3x4 -> 5x7 asymmetric", NN, EOS_TCOORD_ASYMMETRIC, 3, 4, 5, 7, 93);
    rs_case("nearest 6x5 -> 4x3 asymmetric", NN, EOS_TCOORD_ASYMMETRIC, 6, 5, 4, 3, 94);
    rs_case("bilinear x2 half_pixel", BL, EOS_TCOORD_HALF_PIXEL, 3, 4, 6, 8, 95);
    rs_case("bilinear x2 align_corners", BL, EOS_TCOORD_ALIGN_CORNERS, 3, 4, 6, 8, 96);
    rs_case("bilinear x2 asymmetric", BL, EOS_TCOORD_ASYMMETRIC, 3, 4, 6, 8, 97);
    rs_case("bilinear 3x4 -> 5x7 half_pixel", BL, EOS_TCOORD_HALF_PIXEL, 3, 4, 5, 7, 98);
    rs_case("bilinear 3x4 -> 5x7 align_corners", BL, EOS_TCOORD_ALIGN_CORNERS, 3, 4, 5, 7, 99);
    rs_case("bilinear 5x6 -> 3x4 half_pixel", BL, EOS_TCOORD_HALF_PIXEL, 5, 6, 3, 4, 100);
    rs_case("bilinear 3x4 -> 1x4 align_corners", BL, EOS_TCOORD_ALIGN_CORNERS, 3, 4, 1, 4, 101);
}

/* Bilinear x2 half_pixel of a 1x2 row [0, 4] by hand: source x = o/2 - 1/4 clamped to [0, 1]
 * gives 0, 1, 3, 4; the gradient of output 1 (weights 3/4, 1/4) goes back in that ratio. */
static void test_resize_by_hand(void) {
    const float x[2] = { 0, 4 };
    float y[4], dy[4] = { 0, 1, 0, 0 }, dx[2] = { 0, 0 };
    eos_tref_resize_fwd(EOS_TRESIZE_BILINEAR, EOS_TCOORD_HALF_PIXEL, 1, 1, 1, 2, 1, 4, x, y);
    EXPECT_F32_ARRAY(y, ((const float[]){ 0, 1, 3, 4 }), 4, 1e-6);
    eos_tref_resize_bwd(EOS_TRESIZE_BILINEAR, EOS_TCOORD_HALF_PIXEL, 1, 1, 1, 2, 1, 4, dy, dx);
    EXPECT_F32_ARRAY(dx, ((const float[]){ 0.75f, 0.25f }), 2, 1e-7);
    /* nearest x2 asymmetric: every input gets the sum of its 2x2 block */
    const float x2[4] = { 1, 2, 3, 4 };
    float y2[16], dy2[16], dx2[4] = { 0 };
    for (int i = 0; i < 16; i++) dy2[i] = (float)i;
    eos_tref_resize_fwd(EOS_TRESIZE_NEAREST, EOS_TCOORD_ASYMMETRIC, 1, 1, 2, 2, 4, 4, x2, y2);
    EXPECT_F32_ARRAY(y2, ((const float[]){ 1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4 }), 16, 0);
    eos_tref_resize_bwd(EOS_TRESIZE_NEAREST, EOS_TCOORD_ASYMMETRIC, 1, 1, 2, 2, 4, 4, dy2, dx2);
    EXPECT_F32_ARRAY(dx2, ((const float[]){ 0 + 1 + 4 + 5, 2 + 3 + 6 + 7, 8 + 9 + 12 + 13,
                                            10 + 11 + 14 + 15 }), 4, 0);
}

/* ------------------------------------------------------------------ concat */

static void test_concat(void) {
    enum { N = 2, H = 2, W = 3, ROWS = N * H * W, C = 9 };
    const int64_t cp[3] = { 2, 3, 4 };
    float *x[3], *dx[3], y[ROWS * C], dy[ROWS * C], yr[ROWS * C];
    for (int i = 0; i < 3; i++) {
        x[i] = tc_rand(ROWS * cp[i], -1, 1, 200 + i);
        dx[i] = tc_zeros(ROWS * cp[i]);
        ASSERT_TRUE(x[i] && dx[i]);
    }
    eos_tref_concat_fwd(ROWS, 3, cp, (const float *const *)x, y);
    int64_t wrong = 0;                            /* by hand: row r = x0[r], x1[r], x2[r] */
    for (int64_t r = 0; r < ROWS; r++)
        for (int64_t j = 0; j < C; j++) {
            float want = j < 2 ? x[0][r * 2 + j] : (j < 5 ? x[1][r * 3 + j - 2] : x[2][r * 4 + j - 5]);
            wrong += y[r * C + j] != want;
        }
    EXPECT_EQ_INT(wrong, 0);
    /* ops/ref Concat on axis 1 of the NCHW views */
    float *xc[3], *yc = tc_zeros(ROWS * C);
    op_node t;
    eos_err err;
    op_init(&t, EOS_OP_CONCAT, 3, 1, 13);
    op_int(&t, "axis", 1);
    eos_tensor in[3], out[1];
    for (int i = 0; i < 3; i++) {
        xc[i] = tc_zeros(ROWS * cp[i]);
        ASSERT_TRUE(xc[i] && yc);
        tc_nhwc_to_nchw(N, H, W, cp[i], x[i], xc[i]);
        in[i] = op_t(EOS_DTYPE_F32, 4, D(N, cp[i], H, W), xc[i]);
    }
    eos_status st = op_run(&t.n, in, out, &err);
    EXPECT_OK(st);
    if (st == EOS_OK) {
        tc_nchw_to_nhwc(N, C, H, W, out[0].data, yr);
        EXPECT_TRUE(memcmp(y, yr, sizeof y) == 0);
        op_free(out, 1);
    }
    /* backward: each part gets its columns of dy; a NULL part is skipped; twice doubles */
    test_fill_uniform(dy, ROWS * C, -1, 1, 210);
    float *dxs[3] = { dx[0], NULL, dx[2] };
    eos_tref_concat_bwd(ROWS, 3, cp, dy, dxs);
    eos_tref_concat_bwd(ROWS, 3, cp, dy, dx);
    for (int64_t r = 0; r < ROWS; r++) {
        EXPECT_NEAR(dx[0][r * 2 + 1], 2.0 * dy[r * C + 1], 0);
        EXPECT_NEAR(dx[1][r * 3 + 2], dy[r * C + 4], 0);
        EXPECT_NEAR(dx[2][r * 4 + 3], 2.0 * dy[r * C + 8], 0);
    }
    for (int i = 0; i < 3; i++) {
        eos_free(x[i]);
        eos_free(dx[i]);
        eos_free(xc[i]);
    }
    eos_free(yc);
}

/* ------------------------------------------------------------------ binary */

typedef struct bin_ctx {
    int op;
    int64_t n, cb;
    float *r;
    double *ad, *bd, *yd;
} bin_ctx;

static double bin_loss(void *v) {
    bin_ctx *c = v;
    for (int64_t i = 0; i < c->n; i++) {
        double a = c->ad[i], b = c->bd[i % c->cb];
        c->yd[i] = c->op == 0 ? a + b : (c->op == 1 ? a * b : a - b);
    }
    return tc_project(c->yd, c->r, c->n);
}

static void bin_vs_ops_ref(int op, int64_t n, int64_t h, int64_t w, int64_t ch, bool per_channel,
                           const float *a, const float *b, const float *y) {
    static const eos_op ops[3] = { EOS_OP_ADD, EOS_OP_MUL, EOS_OP_SUB };
    int64_t total = n * h * w * ch;
    float *ac = tc_zeros(total), *bc = tc_zeros(total), *yr = tc_zeros(total);
    ASSERT_TRUE(ac && bc && yr);
    tc_nhwc_to_nchw(n, h, w, ch, a, ac);
    if (per_channel) memcpy(bc, b, (size_t)ch * sizeof *bc);
    else tc_nhwc_to_nchw(n, h, w, ch, b, bc);
    op_node t;
    eos_err err;
    op_init(&t, ops[op], 2, 1, 14);
    eos_tensor in[2] = { op_t(EOS_DTYPE_F32, 4, D(n, ch, h, w), ac),
                         per_channel ? op_t(EOS_DTYPE_F32, 4, D(1, ch, 1, 1), bc)
                                     : op_t(EOS_DTYPE_F32, 4, D(n, ch, h, w), bc) }, out[1];
    eos_status st = op_run(&t.n, in, out, &err);
    EXPECT_OK(st);
    if (st == EOS_OK) {
        tc_nchw_to_nhwc(n, ch, h, w, out[0].data, yr);
        tc_cmpf("binary vs ops/ref", y, yr, total, 0);
        op_free(out, 1);
    }
    eos_free(ac);
    eos_free(bc);
    eos_free(yr);
}

static void bin_case(int op, bool per_channel, uint64_t seed) {
    static const char *names[3] = { "add", "mul", "sub" };
    enum { NB = 2, H = 3, W = 2, CH = 5, TOTAL = NB * H * W * CH };
    char what[64];
    snprintf(what, sizeof what, "%s %s", names[op], per_channel ? "per-channel" : "same-shape");
    printf("  %s\n", what);
    int64_t cb = per_channel ? CH : TOTAL;
    float a[TOTAL], b[TOTAL], y[TOTAL], r[TOTAL], da[TOTAL] = { 0 }, db[TOTAL] = { 0 };
    float da2[TOTAL], db2[TOTAL];
    double ad[TOTAL], bd[TOTAL], yd[TOTAL];
    test_fill_uniform(a, TOTAL, -2, 2, seed);
    test_fill_uniform(b, cb, -2, 2, seed + 1);
    test_fill_uniform(r, TOTAL, -1, 1, seed + 2);
    for (int i = 0; i < TOTAL; i++) ad[i] = a[i];
    for (int i = 0; i < cb; i++) bd[i] = b[i];
    bin_ctx c = { op, TOTAL, cb, r, ad, bd, yd };
    eos_tref_binary_fwd(op, TOTAL, cb, a, b, y);
    bin_loss(&c);
    tc_cmp(what, y, yd, TOTAL, 1e-7);
    bin_vs_ops_ref(op, NB, H, W, CH, per_channel, a, b, y);
    eos_tref_binary_bwd(op, TOTAL, cb, a, b, r, da, db);
    tc_grad("da", bin_loss, &c, ad, TOTAL, da, TC_H, TC_TOL);
    tc_grad("db", bin_loss, &c, bd, cb, db, TC_H, TC_TOL);
    memcpy(da2, da, sizeof da);
    memcpy(db2, db, sizeof db);
    eos_tref_binary_bwd(op, TOTAL, cb, a, b, r, da2, db2);
    tc_twice("da", da2, da, TOTAL);
    tc_twice("db", db2, db, cb);
    memset(db2, 0, sizeof db2);
    eos_tref_binary_bwd(op, TOTAL, cb, a, b, r, NULL, db2);
    EXPECT_TRUE(memcmp(db2, db, (size_t)cb * sizeof *db) == 0);
}

static void test_binary(void) {
    for (int op = 0; op < 3; op++) {
        bin_case(op, false, 300 + 10 * op);
        bin_case(op, true, 400 + 10 * op);
    }
}

/* ------------------------------------------------------------------ softmax */

typedef struct sm_ctx {
    int64_t rows, c;
    float *r;
    double *xd, *yd;
} sm_ctx;

static double sm_loss(void *v) {
    sm_ctx *s = v;
    for (int64_t i = 0; i < s->rows; i++) {
        double z = 0.0;
        for (int64_t j = 0; j < s->c; j++) z += exp(s->xd[i * s->c + j]);
        for (int64_t j = 0; j < s->c; j++) s->yd[i * s->c + j] = exp(s->xd[i * s->c + j]) / z;
    }
    return tc_project(s->yd, s->r, s->rows * s->c);
}

static void sm_case(int64_t rows, int64_t c, float spread, uint64_t seed) {
    sm_ctx s = { rows, c, NULL, NULL, NULL };
    int64_t n = rows * c;
    printf("  softmax %lld x %lld\n", (long long)rows, (long long)c);
    float *x = tc_rand(n, -spread, spread, seed), *y = tc_zeros(n), *dx = tc_zeros(n);
    float *dx2 = tc_zeros(n);
    s.r = tc_rand(n, -1, 1, seed + 1);
    s.xd = tc_dup(x, n);
    s.yd = eos_malloc((size_t)n * sizeof *s.yd);
    ASSERT_TRUE(x && y && dx && dx2 && s.r && s.xd && s.yd);
    eos_tref_softmax_fwd(rows, c, x, y);
    sm_loss(&s);
    tc_cmp("softmax forward", y, s.yd, n, 1e-6);
    op_node t;
    eos_err err;
    op_init(&t, EOS_OP_SOFTMAX, 1, 1, 13);
    op_int(&t, "axis", -1);
    eos_tensor in[1] = { op_t(EOS_DTYPE_F32, 2, D(rows, c), x) }, out[1];
    eos_status st = op_run(&t.n, in, out, &err);
    EXPECT_OK(st);
    if (st == EOS_OK) {
        printf("    %-40s fwd vs ops/ref max rel err %.2e\n", "softmax",
               tc_cmpf("softmax vs ops/ref", y, out[0].data, n, 1e-6));
        op_free(out, 1);
    }
    eos_tref_softmax_bwd(rows, c, y, s.r, dx);
    tc_grad("softmax dx", sm_loss, &s, s.xd, n, dx, TC_H, TC_TOL);
    memcpy(dx2, dx, (size_t)n * sizeof *dx);
    eos_tref_softmax_bwd(rows, c, y, s.r, dx2);
    tc_twice("softmax dx", dx2, dx, n);
    eos_free(x); eos_free(y); eos_free(dx); eos_free(dx2);
    eos_free(s.r); eos_free(s.xd); eos_free(s.yd);
}

static void test_softmax(void) {
    sm_case(5, 7, 3, 500);
    sm_case(2, 600, 5, 501);
    /* large logits stay finite (max subtracted) */
    const float x[3] = { 1000, 1001, 999 };
    float y[3];
    eos_tref_softmax_fwd(1, 3, x, y);
    double z = 1 + exp(1) + exp(-1);
    EXPECT_NEAR(y[1], exp(1) / z, 1e-6);
    EXPECT_NEAR(y[0] + y[1] + y[2], 1.0, 1e-6);
}

/* ------------------------------------------------------------------ dropout */

typedef struct do_ctx {
    int64_t n;
    double scale;
    const uint8_t *mask;
    float *r;
    double *xd, *yd;
} do_ctx;

static double do_loss(void *v) {
    do_ctx *d = v;
    for (int64_t i = 0; i < d->n; i++) d->yd[i] = d->mask[i] ? d->xd[i] * d->scale : 0.0;
    return tc_project(d->yd, d->r, d->n);
}

static void test_dropout_rate(void) {
    enum { N = 100000 };
    const float ratio = 0.3f;
    float *x = tc_rand(N, -1, 1, 600), *y = tc_zeros(N), *y2 = tc_zeros(N);
    uint8_t *mask = eos_malloc(N), *mask2 = eos_malloc(N);
    ASSERT_TRUE(x && y && y2 && mask && mask2);
    eos_rng rng;
    eos_rng_seed(&rng, 42);
    eos_tref_dropout_fwd(N, ratio, &rng, x, y, mask);
    int64_t kept = 0;
    bool values_ok = true;
    for (int64_t i = 0; i < N; i++) {
        kept += mask[i] != 0;
        values_ok &= mask[i] ? fabs(y[i] - x[i] / (1.0 - ratio)) <= 1e-6 : y[i] == 0.0f;
    }
    double p = (double)kept / N, sigma = sqrt(0.7 * 0.3 / N);
    printf("    keep rate %.4f (want 0.7 +- %.4f)\n", p, 4.5 * sigma);
    EXPECT_NEAR(p, 0.7, 4.5 * sigma);
    EXPECT_TRUE(values_ok);
    /* the same seed gives the same mask; another seed another one */
    eos_rng_seed(&rng, 42);
    eos_tref_dropout_fwd(N, ratio, &rng, x, y2, mask2);
    EXPECT_TRUE(memcmp(mask, mask2, N) == 0);
    eos_rng_seed(&rng, 43);
    eos_tref_dropout_fwd(N, ratio, &rng, x, y2, mask2);
    EXPECT_TRUE(memcmp(mask, mask2, N) != 0);
    /* ratio 0 is a copy with a full mask */
    eos_tref_dropout_fwd(N, 0.0f, &rng, x, y2, mask2);
    EXPECT_TRUE(memcmp(x, y2, N * sizeof *x) == 0);
    int64_t all = 0;
    for (int64_t i = 0; i < N; i++) all += mask2[i] == 1;
    EXPECT_EQ_INT(all, N);
    eos_free(x); eos_free(y); eos_free(y2); eos_free(mask); eos_free(mask2);
}

static void test_dropout_grad(void) {
    enum { N = 64 };
    float x[N], y[N], r[N], dx[N] = { 0 }, dx2[N], dx0[N] = { 0 };
    double xd[N], yd[N];
    uint8_t mask[N];
    eos_rng rng;
    eos_rng_seed(&rng, 7);
    test_fill_uniform(x, N, -1, 1, 610);
    test_fill_uniform(r, N, -1, 1, 611);
    for (int i = 0; i < N; i++) xd[i] = x[i];
    eos_tref_dropout_fwd(N, 0.5f, &rng, x, y, mask);
    do_ctx d = { N, 2.0, mask, r, xd, yd };
    eos_tref_dropout_bwd(N, 0.5f, mask, r, dx);
    for (int i = 0; i < N; i++)
        if (dx[i] != (mask[i] ? 2.0f * r[i] : 0.0f)) {
            TEST_FAIL_("dropout dx[%d] = %g with mask %d", i, (double)dx[i], mask[i]);
            break;
        }
    tc_grad("dropout dx", do_loss, &d, xd, N, dx, TC_H, TC_TOL);
    memcpy(dx2, dx, sizeof dx);
    eos_tref_dropout_bwd(N, 0.5f, mask, r, dx2);
    tc_twice("dropout dx", dx2, dx, N);
    eos_tref_dropout_bwd(N, 0.0f, NULL, r, dx0);            /* ratio 0: identity, no mask */
    EXPECT_TRUE(memcmp(dx0, r, sizeof r) == 0);
}

/* ------------------------------------------------------------------ layouts */

static void test_layouts(void) {
    /* n 1, h 1, w 2, c 3: NHWC [a0 b0 c0 a1 b1 c1] <-> NCHW [a0 a1 b0 b1 c0 c1] */
    const float nhwc[6] = { 1, 2, 3, 4, 5, 6 }, want[6] = { 1, 4, 2, 5, 3, 6 };
    float nchw[6], back[6];
    eos_tref_nhwc_to_nchw(1, 1, 2, 3, nhwc, nchw);
    EXPECT_F32_ARRAY(nchw, want, 6, 0);
    eos_tref_nchw_to_nhwc(1, 3, 1, 2, nchw, back);
    EXPECT_F32_ARRAY(back, nhwc, 6, 0);
    enum { N = 2, H = 3, W = 4, C = 5, T = N * H * W * C };
    float x[T], a[T], b[T], rt[T];
    test_fill_uniform(x, T, -1, 1, 700);
    eos_tref_nhwc_to_nchw(N, H, W, C, x, a);
    tc_nhwc_to_nchw(N, H, W, C, x, b);
    EXPECT_TRUE(memcmp(a, b, sizeof a) == 0);
    eos_tref_nchw_to_nhwc(N, C, H, W, a, rt);
    EXPECT_TRUE(memcmp(rt, x, sizeof x) == 0);
}

TEST_MAIN(TEST(test_resize), TEST(test_resize_by_hand), TEST(test_concat), TEST(test_binary),
          TEST(test_softmax), TEST(test_dropout_rate), TEST(test_dropout_grad), TEST(test_layouts))
