/*
 * src/ops/ref/ref_shape.c - reference kernels for data-movement operators: Reshape, Flatten,
 * Squeeze, Unsqueeze, Identity, Dropout (plain copies), Transpose, Concat, Split, Slice,
 * Gather, Shape, ConstantOfShape and Pad.
 *
 * They move elements of any type as bytes. Transpose and Slice share one strided copy (the
 * output is dense, the input is walked with per-axis strides); Pad builds, per axis, the map
 * from output index to input index (-1 = padding value) and copies row by row.
 */
#include <string.h>

#include "eosight/alloc.h"
#include "ops/ref/ref.h"

/* Copy one element of es bytes (constant-size memcpy for the common sizes). */
static inline void copy_elem(char *d, const char *s, size_t es) {
    switch (es) {
    case 1: *d = *s; break;
    case 2: memcpy(d, s, 2); break;
    case 4: memcpy(d, s, 4); break;
    case 8: memcpy(d, s, 8); break;
    default: memcpy(d, s, es); break;
    }
}

/* dst (dense, shape dims[r]) <- src walked from element offset `base` with element strides. */
static void strided_copy(char *dst, const char *src, size_t es, int r, const int64_t *dims,
                         const int64_t *strides, int64_t base) {
    int64_t total = 1;
    for (int i = 0; i < r; i++) total *= dims[i];
    if (total == 0) return;
    if (r == 0) {
        copy_elem(dst, src + (size_t)base * es, es);
        return;
    }
    int64_t inner = dims[r - 1], st = strides[r - 1], rows = total / inner;
    int64_t idx[EOS_MAX_DIMS] = { 0 };
    int64_t off = base;
    for (int64_t row = 0; row < rows; row++) {
        const char *s = src + (size_t)off * es;
        if (st == 1) {
            memcpy(dst, s, (size_t)inner * es);
        } else {
            for (int64_t i = 0; i < inner; i++)
                copy_elem(dst + (size_t)i * es, s + (size_t)(i * st) * es, es);
        }
        dst += (size_t)inner * es;
        for (int a = r - 2; a >= 0; a--) {          /* odometer over the outer axes */
            off += strides[a];
            if (++idx[a] < dims[a]) break;
            off -= strides[a] * dims[a];
            idx[a] = 0;
        }
    }
}

static void dense_strides(int r, const int64_t *dims, int64_t *strides) {
    int64_t s = 1;
    for (int i = r - 1; i >= 0; i--) {
        strides[i] = s;
        s *= dims[i];
    }
}

eos_status eos__ref_copy(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                         int n_out, eos_err *err) {
    size_t nb = eos_tensor_nbytes(&out[0]);
    if (nb && out[0].data != in[0].data) memmove(out[0].data, in[0].data, nb);
    if (n_out > 1) memset(out[1].data, 1, (size_t)eos__numel(&out[1]));   /* Dropout mask */
    return EOS_OK;
}

eos_status eos__ref_transpose(const eos_node *n, const eos_tensor *in, int n_in,
                              eos_tensor *out, int n_out, eos_err *err) {
    int perm[EOS_MAX_DIMS], r = in[0].ndim;
    int64_t ist[EOS_MAX_DIMS], st[EOS_MAX_DIMS];
    EOS_TRY(eos__perm_get(n, r, perm, err));
    dense_strides(r, in[0].dims, ist);
    for (int i = 0; i < r; i++) st[i] = ist[perm[i]];
    strided_copy(out[0].data, in[0].data, eos_dtype_size(in[0].dtype), r, out[0].dims, st, 0);
    return EOS_OK;
}

eos_status eos__ref_slice(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                          int n_out, eos_err *err) {
    eos__slice s;
    EOS_TRY(eos__slice_get(n, in, n_in, &s, err));
    int64_t ist[EOS_MAX_DIMS], st[EOS_MAX_DIMS], base = 0;
    dense_strides(s.ndim, in[0].dims, ist);
    for (int i = 0; i < s.ndim; i++) {
        /* a step only matters when it is taken (count > 1, so |step| < dim: no overflow) */
        st[i] = s.count[i] > 1 ? ist[i] * s.step[i] : 0;
        if (s.count[i] > 0) base += s.start[i] * ist[i];
    }
    strided_copy(out[0].data, in[0].data, eos_dtype_size(in[0].dtype), s.ndim, s.count, st, base);
    return EOS_OK;
}

/* outer = product of dims before axis; inner bytes = product after axis times element size. */
static void axis_split(const eos_tensor *t, int axis, int64_t *outer, size_t *inner_bytes) {
    *outer = 1;
    int64_t inner = 1;
    for (int i = 0; i < t->ndim; i++) {
        if (i < axis) *outer *= t->dims[i];
        if (i > axis) inner *= t->dims[i];
    }
    *inner_bytes = (size_t)inner * eos_dtype_size(t->dtype);
}

eos_status eos__ref_concat(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                           int n_out, eos_err *err) {
    int axis;
    EOS_TRY(eos__axis_attr(n, "axis", 0, out[0].ndim, false, &axis, err));
    int64_t outer;
    size_t inner;
    axis_split(&out[0], axis, &outer, &inner);
    char *dst = out[0].data;
    for (int64_t o = 0; o < outer; o++) {
        for (int i = 0; i < n_in; i++) {
            size_t chunk = (size_t)in[i].dims[axis] * inner;
            if (!chunk) continue;
            memcpy(dst, (const char *)in[i].data + (size_t)o * chunk, chunk);
            dst += chunk;
        }
    }
    return EOS_OK;
}

eos_status eos__ref_split(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                          int n_out, eos_err *err) {
    int axis;
    EOS_TRY(eos__axis_attr(n, "axis", 0, in[0].ndim, false, &axis, err));
    int64_t outer;
    size_t inner;
    axis_split(&in[0], axis, &outer, &inner);
    const char *src = in[0].data;
    for (int64_t o = 0; o < outer; o++) {
        for (int j = 0; j < n_out; j++) {
            size_t chunk = (size_t)out[j].dims[axis] * inner;
            if (!chunk) continue;
            memcpy((char *)out[j].data + (size_t)o * chunk, src, chunk);
            src += chunk;
        }
    }
    return EOS_OK;
}

eos_status eos__ref_gather(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                           int n_out, eos_err *err) {
    int axis;
    EOS_TRY(eos__axis_attr(n, "axis", 0, in[0].ndim, false, &axis, err));
    int64_t outer, d = in[0].dims[axis], k = eos__numel(&in[1]);
    size_t inner;
    axis_split(&in[0], axis, &outer, &inner);
    const char *src = in[0].data;
    char *dst = out[0].data;
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t i = 0; i < k; i++) {
            int64_t v = in[1].dtype == EOS_DTYPE_I64 ? ((const int64_t *)in[1].data)[i]
                                                     : ((const int32_t *)in[1].data)[i];
            if (v < -d || v >= d)
                return eos__node_err(err, EOS_INVALID_ARG, n, "index %lld out of range for dim "
                                     "%lld", (long long)v, (long long)d);
            if (v < 0) v += d;
            if (inner) memcpy(dst, src + (size_t)(o * d + v) * inner, inner);
            dst += inner;
        }
    }
    return EOS_OK;
}

eos_status eos__ref_shape(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                          int n_out, eos_err *err) {
    int64_t r = in[0].ndim, b = eos_attr_int(n, "start", 0);
    if (b < 0) b += r;
    if (b < 0) b = 0;
    int64_t *y = out[0].data;
    for (int64_t i = 0; i < out[0].dims[0]; i++) y[i] = in[0].dims[b + i];
    return EOS_OK;
}

eos_status eos__ref_const_of_shape(const eos_node *n, const eos_tensor *in, int n_in,
                                   eos_tensor *out, int n_out, eos_err *err) {
    const eos_attr *v = eos_node_attr(n, "value");
    unsigned char zero[8] = { 0 };
    const void *val = v ? v->t_data : zero;
    size_t es = eos_dtype_size(out[0].dtype);
    int64_t k = eos__numel(&out[0]);
    char *y = out[0].data;
    for (int64_t i = 0; i < k; i++) memcpy(y + (size_t)i * es, val, es);
    return EOS_OK;
}

/* ------------------------------------------------------------------ Pad */

/* Input index for output index o along an axis of size d with begin pad b (-1: pad value). */
static int64_t pad_src(eos__pad_mode mode, int64_t o, int64_t b, int64_t d) {
    int64_t i = o - b;
    if (i >= 0 && i < d) return i;
    if (mode == EOS__PAD_CONSTANT) return -1;
    if (mode == EOS__PAD_EDGE) return i < 0 ? 0 : d - 1;
    if (d == 1) return 0;
    int64_t period = 2 * (d - 1);          /* reflect without repeating the edge */
    i %= period;
    if (i < 0) i += period;
    return i < d ? i : period - i;
}

eos_status eos__ref_pad(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                        int n_out, eos_err *err) {
    eos__pad p;
    EOS_TRY(eos__pad_get(n, in, n_in, &p, err));
    int r = p.ndim;
    int64_t total = eos__numel(&out[0]);
    size_t es = eos_dtype_size(in[0].dtype);
    char *y = out[0].data;
    const char *x = in[0].data;
    if (total == 0) return EOS_OK;
    if (r == 0) {
        copy_elem(y, x, es);
        return EOS_OK;
    }
    int64_t n_map = 0, ist[EOS_MAX_DIMS], mofs[EOS_MAX_DIMS];
    for (int i = 0; i < r; i++) {
        mofs[i] = n_map;
        n_map += out[0].dims[i];
    }
    int64_t *map = eos_malloc((size_t)n_map * sizeof *map);
    if (!map) return eos__node_err(err, EOS_NOMEM, n, "out of memory");
    for (int i = 0; i < r; i++)
        for (int64_t o = 0; o < out[0].dims[i]; o++)
            map[mofs[i] + o] = pad_src(p.mode, o, p.begin[i], in[0].dims[i]);
    dense_strides(r, in[0].dims, ist);
    int64_t inner = out[0].dims[r - 1], rows = total / inner;
    const int64_t *last = map + mofs[r - 1];
    for (int64_t row = 0; row < rows; row++) {
        int64_t rem = row, off = 0;
        bool pad_row = false;
        for (int a = r - 2; a >= 0; a--) {
            int64_t c = rem % out[0].dims[a];
            rem /= out[0].dims[a];
            int64_t s = map[mofs[a] + c];
            if (s < 0) pad_row = true;
            else off += s * ist[a];
        }
        char *dy = y + (size_t)(row * inner) * es;
        for (int64_t i = 0; i < inner; i++) {
            const char *src = (pad_row || last[i] < 0) ? (const char *)p.value
                                                       : x + (size_t)(off + last[i]) * es;
            copy_elem(dy + (size_t)i * es, src, es);
        }
    }
    eos_free(map);
    return EOS_OK;
}
