/*
 * src/ops/ref/ref_gemm.c - reference Gemm (transA/transB, alpha, beta, broadcast C) and MatMul
 * (numpy semantics: batched with broadcasting, 1-D operands promoted and the added axis
 * removed), both with fused activation + residual.
 *
 * Products accumulate in double, one output row at a time: for non-transposed B the row is
 * built as a sum of scaled rows of B (unit stride), for transposed B as dot products.
 */
#include "eosight/alloc.h"
#include "ops/ref/ref.h"

/* acc[0..n) = row i of op(A) x op(B); A is m x k (or k x m when ta), B k x n (n x k when tb). */
static void gemm_row(const float *a, const float *b, int64_t i, int64_t m, int64_t k, int64_t n,
                     bool ta, bool tb, double *acc) {
    if (tb) {
        for (int64_t j = 0; j < n; j++) {
            double s = 0.0;
            const float *bj = b + j * k;
            for (int64_t p = 0; p < k; p++) s += (double)(ta ? a[p * m + i] : a[i * k + p]) * bj[p];
            acc[j] = s;
        }
        return;
    }
    for (int64_t j = 0; j < n; j++) acc[j] = 0.0;
    for (int64_t p = 0; p < k; p++) {
        double av = ta ? a[p * m + i] : a[i * k + p];
        const float *bp = b + p * n;
        for (int64_t j = 0; j < n; j++) acc[j] += av * bp[j];
    }
}

eos_status eos__ref_gemm(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                         int n_out, eos_err *err) {
    bool ta = eos_attr_int(n, "transA", 0) != 0, tb = eos_attr_int(n, "transB", 0) != 0;
    double alpha = eos_attr_float(n, "alpha", 1.0f), beta = eos_attr_float(n, "beta", 1.0f);
    int64_t m = out[0].dims[0], nn = out[0].dims[1], k = in[0].dims[ta ? 0 : 1];
    const float *c = eos__has(in, n_in, 2) ? in[2].data : NULL, *sum = eos__ref_sum(n, in);
    int64_t cs[2] = { 0, 0 };
    if (c) eos__bcast_strides(2, out[0].dims, &in[2], cs);
    float *y = out[0].data;
    double *acc = eos_malloc((size_t)(nn > 0 ? nn : 1) * sizeof *acc);
    if (!acc) return eos__node_err(err, EOS_NOMEM, n, "out of memory");
    for (int64_t i = 0; i < m; i++) {
        gemm_row(in[0].data, in[1].data, i, m, k, nn, ta, tb, acc);
        for (int64_t j = 0; j < nn; j++) {
            double v = alpha * acc[j];
            if (c) v += beta * c[i * cs[0] + j * cs[1]];
            y[i * nn + j] = eos__ref_fused(n, (float)v, sum, i * nn + j);
        }
    }
    eos_free(acc);
    return EOS_OK;
}

eos_status eos__ref_matmul(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                           int n_out, eos_err *err) {
    const eos_tensor *a = &in[0], *b = &in[1];
    int ra = a->ndim, rb = b->ndim;
    int64_t m = ra >= 2 ? a->dims[ra - 2] : 1, k = a->dims[ra - 1];
    int64_t nn = rb >= 2 ? b->dims[rb - 1] : 1;
    /* batch shapes of a, b and the output */
    eos_tensor ba = { .ndim = ra >= 2 ? ra - 2 : 0 }, bb = { .ndim = rb >= 2 ? rb - 2 : 0 };
    for (int i = 0; i < ba.ndim; i++) ba.dims[i] = a->dims[i];
    for (int i = 0; i < bb.ndim; i++) bb.dims[i] = b->dims[i];
    int nb = ba.ndim > bb.ndim ? ba.ndim : bb.ndim;
    int64_t bd[EOS_MAX_DIMS], sa[EOS_MAX_DIMS], sb[EOS_MAX_DIMS], n_batch = 1;
    for (int i = 0; i < nb; i++) {
        bd[i] = out[0].dims[i];
        n_batch *= bd[i];
    }
    eos__bcast_strides(nb, bd, &ba, sa);
    eos__bcast_strides(nb, bd, &bb, sb);
    const float *sum = eos__ref_sum(n, in), *pa = a->data, *pb = b->data;
    float *y = out[0].data;
    double *acc = eos_malloc((size_t)(nn > 0 ? nn : 1) * sizeof *acc);
    if (!acc) return eos__node_err(err, EOS_NOMEM, n, "out of memory");
    for (int64_t bi = 0; bi < n_batch; bi++) {
        int64_t rem = bi, oa = 0, ob = 0;
        for (int i = nb - 1; i >= 0; i--) {
            int64_t ci = rem % bd[i];
            rem /= bd[i];
            oa += ci * sa[i];
            ob += ci * sb[i];
        }
        const float *am = pa + oa * m * k, *bm = pb + ob * k * nn;
        for (int64_t i = 0; i < m; i++) {
            gemm_row(am, bm, i, m, k, nn, false, false, acc);
            int64_t o = (bi * m + i) * nn;
            for (int64_t j = 0; j < nn; j++) y[o + j] = eos__ref_fused(n, (float)acc[j], sum, o + j);
        }
    }
    eos_free(acc);
    return EOS_OK;
}
