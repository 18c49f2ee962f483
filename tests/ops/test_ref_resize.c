/*
 * tests/ops/test_ref_resize.c - reference Resize / Upsample against values worked out by hand:
 * bilinear with half_pixel, pytorch_half_pixel (differs for an output of length 1),
 * align_corners and asymmetric coordinates; nearest with asymmetric/floor (PyTorch) and the
 * four nearest_modes on a tie; cubic (independent Keys-kernel formula, with and without
 * exclude_outside); tf_crop_and_resize with extrapolation; Upsample-9.
 */
#include "ops/op_test.h"

static const float X4[4] = { 1, 2, 3, 4 };     /* [[1, 2], [3, 4]] */

/* Resize-13 of x with scales (or sizes when scales is NULL). */
static void run_resize(const eos_tensor *x, const float *scales, const int64_t *sizes,
                       const char *mode, const char *coord, const char *nearest, const float *want,
                       int n_want, double tol) {
    op_node t;
    eos_err err;
    op_init(&t, EOS_OP_RESIZE, sizes ? 4 : 3, 1, 13);
    if (mode) op_str(&t, "mode", mode);
    if (coord) op_str(&t, "coordinate_transformation_mode", coord);
    if (nearest) op_str(&t, "nearest_mode", nearest);
    int r = x->ndim;
    eos_tensor in[4] = { *x, op_none(), scales ? op_t(EOS_DTYPE_F32, 1, D(r), scales) : op_none(),
                         sizes ? op_t(EOS_DTYPE_I64, 1, D(r), sizes) : op_none() }, out[1];
    ASSERT_OK(op_run(&t.n, in, out, &err));
    EXPECT_EQ_INT(eos_tensor_numel(&out[0]), n_want);
    EXPECT_F32_ARRAY(out[0].data, want, n_want, tol);
    op_free(out, 1);
}

static void test_bilinear_modes(void) {
    static const float s2[4] = { 1, 1, 2, 2 };
    eos_tensor x = op_t(EOS_DTYPE_F32, 4, D(1, 1, 2, 2), X4);
    /* x[r][c] = 1 + c + 2r is linear, so y[i][j] = 1 + f(j) + 2 f(i) with f the 1-D source
     * coordinate clamped to [0, 1]:
     *   half_pixel  f(o) = clamp(o/2 - 1/4) = 0, .25, .75, 1
     *   align_corners f(o) = o/3; asymmetric f(o) = clamp(o/2) = 0, .5, 1, 1 */
    static const float f_hp[4] = { 0, 0.25f, 0.75f, 1 }, f_ac[4] = { 0, 1.0f / 3, 2.0f / 3, 1 };
    static const float f_as[4] = { 0, 0.5f, 1, 1 };
    const float *fs[3] = { f_hp, f_ac, f_as };
    const char *modes[3] = { "half_pixel", "align_corners", "asymmetric" };
    for (int m = 0; m < 3; m++) {
        float want[16];
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) want[i * 4 + j] = 1 + fs[m][j] + 2 * fs[m][i];
        run_resize(&x, s2, NULL, "linear", modes[m], NULL, want, 16, 1e-6);
    }
    /* pytorch_half_pixel equals half_pixel for outputs longer than 1 */
    float want[16];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) want[i * 4 + j] = 1 + f_hp[j] + 2 * f_hp[i];
    run_resize(&x, s2, NULL, "linear", "pytorch_half_pixel", NULL, want, 16, 1e-6);
    /* one output row: half_pixel samples between the rows (0.5), pytorch_half_pixel row 0 */
    static const int64_t sz[4] = { 1, 1, 1, 4 };
    run_resize(&x, NULL, sz, "linear", "half_pixel", NULL,
               (const float[]){ 2, 2.25f, 2.75f, 3 }, 4, 1e-6);
    run_resize(&x, NULL, sz, "linear", "pytorch_half_pixel", NULL,
               (const float[]){ 1, 1.25f, 1.75f, 2 }, 4, 1e-6);
}

static void test_nearest_modes(void) {
    static const float s2[4] = { 1, 1, 2, 2 };
    eos_tensor x = op_t(EOS_DTYPE_F32, 4, D(1, 1, 2, 2), X4);
    /* PyTorch nearest: asymmetric + floor, source o / 2 */
    run_resize(&x, s2, NULL, "nearest", "asymmetric", "floor",
               (const float[]){ 1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4 }, 16, 0);
    /* 4 -> 3 with half_pixel: sources 1/6, 1.5 (a tie), 17/6 */
    static const float v[4] = { 10, 20, 30, 40 };
    static const int64_t sz[4] = { 1, 1, 1, 3 };
    eos_tensor y = op_t(EOS_DTYPE_F32, 4, D(1, 1, 1, 4), v);
    run_resize(&y, NULL, sz, NULL, NULL, NULL, (const float[]){ 10, 20, 40 }, 3, 0);
    run_resize(&y, NULL, sz, "nearest", "half_pixel", "round_prefer_ceil",
               (const float[]){ 10, 30, 40 }, 3, 0);
    run_resize(&y, NULL, sz, "nearest", "half_pixel", "floor", (const float[]){ 10, 20, 30 }, 3, 0);
    run_resize(&y, NULL, sz, "nearest", "half_pixel", "ceil", (const float[]){ 20, 30, 40 }, 3, 0);
    /* asymmetric: sources 0, 4/3, 8/3 -> round_prefer_floor 0, 1, 3 */
    run_resize(&y, NULL, sz, "nearest", "asymmetric", NULL, (const float[]){ 10, 20, 40 }, 3, 0);
}

/* Keys cubic kernel, written from its textbook definition */
static double keys(double a, double d) {
    d = fabs(d);
    if (d <= 1) return (a + 2) * d * d * d - (a + 3) * d * d + 1;
    if (d < 2) return a * d * d * d - 5 * a * d * d + 8 * a * d - 4 * a;
    return 0;
}

static void test_cubic(void) {
    static const float v[4] = { 1, 5, 2, 8 }, s[4] = { 1, 1, 1, 2 };
    eos_tensor x = op_t(EOS_DTYPE_F32, 4, D(1, 1, 1, 4), v);
    for (int excl = 0; excl < 2; excl++) {
        float want[8];
        for (int o = 0; o < 8; o++) {
            double src = (o + 0.5) / 2 - 0.5, acc = 0, wsum = 0;
            int x0 = (int)floor(src);
            for (int k = x0 - 1; k <= x0 + 2; k++) {
                double w = keys(-0.5, src - k);
                if (excl && (k < 0 || k > 3)) w = 0;
                int kc = k < 0 ? 0 : (k > 3 ? 3 : k);
                acc += w * v[kc];
                wsum += w;
            }
            want[o] = (float)(excl ? acc / wsum : acc);
        }
        op_node t;
        eos_err err;
        op_init(&t, EOS_OP_RESIZE, 3, 1, 13);
        op_str(&t, "mode", "cubic");
        op_float(&t, "cubic_coeff_a", -0.5f);
        op_int(&t, "exclude_outside", excl);
        eos_tensor in[3] = { x, op_none(), op_t(EOS_DTYPE_F32, 1, D(4), s) }, out[1];
        ASSERT_OK(op_run(&t.n, in, out, &err));
        EXPECT_F32_ARRAY(out[0].data, want, 8, 1e-5);
        op_free(out, 1);
    }
}

static void test_tf_crop_and_upsample(void) {
    static const float v[4] = { 10, 20, 30, 40 };
    static const float roi[8] = { 0, 0, 0, -0.5f, 1, 1, 1, 1 };
    static const int64_t sz[4] = { 1, 1, 1, 3 };
    op_node t;
    eos_err err;
    /* sources -1.5 + 2.25 o = -1.5 (outside -> 7), 0.75, 3 */
    op_init(&t, EOS_OP_RESIZE, 4, 1, 13);
    op_str(&t, "mode", "linear");
    op_str(&t, "coordinate_transformation_mode", "tf_crop_and_resize");
    op_float(&t, "extrapolation_value", 7);
    eos_tensor in[4] = { op_t(EOS_DTYPE_F32, 4, D(1, 1, 1, 4), v), op_t(EOS_DTYPE_F32, 1, D(8), roi),
                         op_none(), op_t(EOS_DTYPE_I64, 1, D(4), sz) }, out[1];
    ASSERT_OK(op_run(&t.n, in, out, &err));
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ 7, 17.5f, 40 }), 3, 1e-5);
    op_free(out, 1);
    in[1] = op_none();                                          /* roi required */
    EXPECT_STATUS(op_run(&t.n, in, out, &err), EOS_INVALID_ARG);

    /* Upsample-9: asymmetric coordinates, nearest floor / linear */
    static const float s[4] = { 1, 1, 1, 2 };
    op_init(&t, EOS_OP_UPSAMPLE, 2, 1, 9);
    eos_tensor u[2] = { op_t(EOS_DTYPE_F32, 4, D(1, 1, 1, 2), X4), op_t(EOS_DTYPE_F32, 1, D(4), s) };
    ASSERT_OK(op_run(&t.n, u, out, &err));
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ 1, 1, 2, 2 }), 4, 0);
    op_free(out, 1);
    op_str(&t, "mode", "linear");
    ASSERT_OK(op_run(&t.n, u, out, &err));
    EXPECT_F32_ARRAY(out[0].data, ((const float[]){ 1, 1.5f, 2, 2 }), 4, 0);
    op_free(out, 1);
}

TEST_MAIN(TEST(test_bilinear_modes), TEST(test_nearest_modes), TEST(test_cubic),
          TEST(test_tf_crop_and_upsample))
