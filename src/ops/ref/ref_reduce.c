/*
 * src/ops/ref/ref_reduce.c - reference ReduceMean, ReduceSum and ArgMax.
 *
 * Reductions walk the input once in memory order; each input axis has a stride into the output
 * (0 when reduced), and sums accumulate in double (f32) or wrapping 64-bit integers (i64/i32)
 * before the final store. ArgMax views the input as [outer, axis, inner] and returns the first
 * (or with select_last_index the last) position of the maximum as i64.
 */
#include <string.h>

#include "eosight/alloc.h"
#include "ops/ref/ref.h"

/* Output stride of every input axis (0 for reduced axes). */
static void out_strides(const eos_tensor *x, const eos__reduce *r, int64_t *os) {
    int64_t s = 1;
    for (int i = x->ndim - 1; i >= 0; i--) {
        os[i] = r->reduce[i] ? 0 : s;
        if (!r->reduce[i]) s *= x->dims[i];
    }
}

static double load_num(const eos_tensor *t, int64_t i) {
    switch (t->dtype) {
    case EOS_DTYPE_F32: return ((const float *)t->data)[i];
    case EOS_DTYPE_I64: return (double)((const int64_t *)t->data)[i];
    default:            return ((const int32_t *)t->data)[i];
    }
}

static int64_t load_int(const eos_tensor *t, int64_t i) {
    return t->dtype == EOS_DTYPE_I64 ? ((const int64_t *)t->data)[i]
                                     : ((const int32_t *)t->data)[i];
}

eos_status eos__ref_reduce(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                           int n_out, eos_err *err) {
    eos__reduce r;
    EOS_TRY(eos__reduce_get(n, in, n_in, &r, err));
    const eos_tensor *x = &in[0];
    int64_t n_o = eos__numel(&out[0]), n_x = eos__numel(x);
    if (r.noop) {
        if (n_x > 0) memcpy(out[0].data, x->data, (size_t)n_x * eos_dtype_size(x->dtype));
        return EOS_OK;
    }
    bool is_f = x->dtype == EOS_DTYPE_F32;
    size_t acc_size = is_f ? sizeof(double) : sizeof(uint64_t);
    void *acc = eos_calloc((size_t)(n_o > 0 ? n_o : 1), acc_size);
    if (!acc) return eos__node_err(err, EOS_NOMEM, n, "out of memory");
    double *accf = acc;
    uint64_t *acci = acc;
    int64_t os[EOS_MAX_DIMS], idx[EOS_MAX_DIMS] = { 0 }, o = 0;
    out_strides(x, &r, os);
    for (int64_t i = 0; i < n_x; i++) {
        if (is_f) accf[o] += load_num(x, i);
        else acci[o] += (uint64_t)load_int(x, i);
        for (int a = x->ndim - 1; a >= 0; a--) {    /* odometer */
            o += os[a];
            if (++idx[a] < x->dims[a]) break;
            o -= os[a] * x->dims[a];
            idx[a] = 0;
        }
    }
    double div = n_o > 0 ? (double)n_x / (double)n_o : 1.0;
    for (int64_t j = 0; j < n_o; j++) {
        if (x->dtype == EOS_DTYPE_F32)
            ((float *)out[0].data)[j] = (float)(n->op == EOS_OP_REDUCE_MEAN ? accf[j] / div : accf[j]);
        else if (x->dtype == EOS_DTYPE_I64)
            ((int64_t *)out[0].data)[j] = (int64_t)acci[j];
        else
            ((int32_t *)out[0].data)[j] = (int32_t)(uint32_t)acci[j];
    }
    eos_free(acc);
    return EOS_OK;
}

eos_status eos__ref_argmax(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                           int n_out, eos_err *err) {
    eos__reduce r;
    EOS_TRY(eos__reduce_get(n, in, n_in, &r, err));
    const eos_tensor *x = &in[0];
    int64_t outer = 1, len = x->dims[r.axis], inner = 1;
    for (int i = 0; i < x->ndim; i++) {
        if (i < r.axis) outer *= x->dims[i];
        if (i > r.axis) inner *= x->dims[i];
    }
    int64_t *y = out[0].data;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            int64_t base = o * len * inner + i, best = 0;
            double bv = load_num(x, base);
            for (int64_t l = 1; l < len; l++) {
                double v = load_num(x, base + l * inner);
                if (v > bv || (r.select_last && v == bv)) {
                    bv = v;
                    best = l;
                }
            }
            y[o * inner + i] = best;
        }
    return EOS_OK;
}
