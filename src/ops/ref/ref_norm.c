/*
 * src/ops/ref/ref_norm.c - reference BatchNormalization (inference), Softmax and LogSoftmax.
 *
 * BatchNormalization folds each channel into y = x * a + b with a = scale / sqrt(var + eps) and
 * b = bias - mean * a computed in double. Softmax subtracts the maximum and sums in double;
 * before opset 13 the input is viewed as 2-D [prod(d[:axis]), prod(d[axis:])] and normalised
 * over the whole second axis, from opset 13 over the single axis.
 */
#include <math.h>

#include "ops/ref/ref.h"

eos_status eos__ref_batch_norm(const eos_node *n, const eos_tensor *in, int n_in,
                               eos_tensor *out, int n_out, eos_err *err) {
    double eps = eos_attr_float(n, "epsilon", 1e-5f);
    const float *x = in[0].data, *scale = in[1].data, *bias = in[2].data;
    const float *mean = in[3].data, *var = in[4].data;
    float *y = out[0].data;
    int64_t nb = in[0].dims[0], c = in[0].dims[1], plane = 1;
    for (int i = 2; i < in[0].ndim; i++) plane *= in[0].dims[i];
    for (int64_t ch = 0; ch < c; ch++) {
        double a = scale[ch] / sqrt((double)var[ch] + eps), b = bias[ch] - mean[ch] * a;
        for (int64_t bi = 0; bi < nb; bi++) {
            int64_t o = (bi * c + ch) * plane;
            for (int64_t i = 0; i < plane; i++) y[o + i] = (float)(x[o + i] * a + b);
        }
    }
    return EOS_OK;
}

eos_status eos__ref_softmax(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                            int n_out, eos_err *err) {
    int axis;
    bool c2d;
    EOS_TRY(eos__softmax_axis(n, in[0].ndim, &axis, &c2d, err));
    int64_t outer = 1, len = 1, inner = 1;
    for (int i = 0; i < in[0].ndim; i++) {
        if (i < axis) outer *= in[0].dims[i];
        else if (i == axis || c2d) len *= in[0].dims[i];
        else inner *= in[0].dims[i];
    }
    bool logsm = n->op == EOS_OP_LOG_SOFTMAX;
    const float *x = in[0].data;
    float *y = out[0].data;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            const float *xs = x + o * len * inner + i;
            float *ys = y + o * len * inner + i;
            float mx = -INFINITY;
            for (int64_t l = 0; l < len; l++) mx = xs[l * inner] > mx ? xs[l * inner] : mx;
            double s = 0.0;
            for (int64_t l = 0; l < len; l++) s += exp((double)xs[l * inner] - mx);
            if (logsm) {
                double ls = log(s);
                for (int64_t l = 0; l < len; l++) ys[l * inner] = (float)(xs[l * inner] - mx - ls);
            } else {
                for (int64_t l = 0; l < len; l++)
                    ys[l * inner] = (float)(exp((double)xs[l * inner] - mx) / s);
            }
        }
    return EOS_OK;
}
