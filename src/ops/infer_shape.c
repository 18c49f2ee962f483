/*
 * src/ops/infer_shape.c - shape inference for data-movement operators (Flatten, Reshape,
 * Transpose, Squeeze, Unsqueeze, Concat, Split, Slice, Gather, Shape, ConstantOfShape,
 * Identity, Dropout, Pad) and the Slice / Pad / Transpose decoders the reference kernels share.
 *
 * These ops work on any element type (they move bytes). Their shape-carrying inputs (Reshape
 * shape, Slice starts/ends/axes/steps, Split sizes, Squeeze/Unsqueeze axes, Pad pads,
 * ConstantOfShape shape) must be constant when shapes are inferred; i64 and i32 are accepted.
 * Attribute-vs-input forms follow each op's opset history (see docs/operators.md).
 */
#include <string.h>

#include "ops/infer_common.h"

static void copy_shape(eos_tensor *t, eos_dtype dt, const eos_tensor *src) {
    t->dtype = dt;
    t->ndim = src->ndim;
    for (int i = 0; i < src->ndim; i++) t->dims[i] = src->dims[i];
}

/* Element i of an integer tensor known to be i64 or i32. */
static int64_t int_at(const eos_tensor *t, int64_t i) {
    return t->dtype == EOS_DTYPE_I64 ? ((const int64_t *)t->data)[i]
                                     : ((const int32_t *)t->data)[i];
}

/* Axes list from attribute `name` (opset < from_opset) or input `idx` (later). *given tells
 * whether any axes were specified. */
static eos_status axes_list(const eos_node *n, const eos_tensor *in, int n_in, int idx,
                            int from_opset, int64_t *axes, int *count, bool *given, eos_err *err) {
    *count = 0;
    *given = false;
    if (n->opset > 0 && n->opset < from_opset) {
        int64_t cnt;
        const int64_t *a = eos_attr_ints(n, "axes", &cnt);
        if (!a) return EOS_OK;
        if (cnt > EOS_MAX_DIMS) return eos__node_err(err, EOS_LIMIT, n, "too many axes");
        memcpy(axes, a, (size_t)cnt * sizeof *a);
        *count = (int)cnt;
        *given = true;
        return EOS_OK;
    }
    if (!eos__has(in, n_in, idx)) return EOS_OK;
    EOS_TRY(eos__const_ints(n, &in[idx], "axes", axes, EOS_MAX_DIMS, count, err));
    *given = true;
    return EOS_OK;
}

/* ------------------------------------------------------------------ reshaping */

eos_status eos__infer_flatten(const eos_node *n, const eos_tensor *in, int n_in,
                              eos_tensor *out, int n_out, eos_err *err) {
    int r = in[0].ndim, axis;
    EOS_TRY(eos__axis_attr(n, "axis", 1, r, true, &axis, err));
    int64_t a = 1, b = 1;
    for (int i = 0; i < r; i++) {
        if (i < axis) a *= in[0].dims[i];
        else b *= in[0].dims[i];
    }
    out[0].dtype = in[0].dtype;
    out[0].ndim = 2;
    out[0].dims[0] = a;
    out[0].dims[1] = b;
    return EOS_OK;
}

eos_status eos__infer_reshape(const eos_node *n, const eos_tensor *in, int n_in,
                              eos_tensor *out, int n_out, eos_err *err) {
    int64_t shape[EOS_MAX_DIMS];
    int cnt;
    EOS_TRY(eos__const_ints(n, &in[1], "shape", shape, EOS_MAX_DIMS, &cnt, err));
    bool allowzero = n->opset >= 14 && eos_attr_int(n, "allowzero", 0) != 0;
    int infer_at = -1;
    int64_t known = 1, total = eos__numel(&in[0]);
    for (int i = 0; i < cnt; i++) {
        int64_t s = shape[i];
        if (s == 0 && !allowzero) {
            if (i >= in[0].ndim)
                return eos__node_err(err, EOS_SHAPE, n, "shape[%d] = 0 copies a dim the input "
                                     "(rank %d) does not have", i, in[0].ndim);
            s = in[0].dims[i];
        } else if (s == -1) {
            if (infer_at >= 0)
                return eos__node_err(err, EOS_SHAPE, n, "shape has more than one -1");
            infer_at = i;
            continue;
        } else if (s < 0) {
            return eos__node_err(err, EOS_SHAPE, n, "shape[%d] = %lld", i, (long long)s);
        }
        out[0].dims[i] = s;
        if (s && known > INT64_MAX / s) return eos__node_err(err, EOS_LIMIT, n, "shape too large");
        known *= s;
    }
    if (infer_at >= 0) {
        if (known == 0 || total % known)
            return eos__node_err(err, EOS_SHAPE, n, "cannot infer -1: %lld elements into blocks "
                                 "of %lld", (long long)total, (long long)known);
        out[0].dims[infer_at] = total / known;
    } else if (known != total) {
        char a[96], b[96];
        return eos__node_err(err, EOS_SHAPE, n, "cannot reshape %s (%lld elements) to %s",
                             eos_shape_str(in[0].ndim, in[0].dims, a, sizeof a), (long long)total,
                             eos_shape_str(cnt, shape, b, sizeof b));
    }
    out[0].dtype = in[0].dtype;
    out[0].ndim = cnt;
    return EOS_OK;
}

eos_status eos__perm_get(const eos_node *n, int r, int *perm, eos_err *err) {
    int64_t cnt;
    const int64_t *p = eos_attr_ints(n, "perm", &cnt);
    if (!p) {
        for (int i = 0; i < r; i++) perm[i] = r - 1 - i;
        return EOS_OK;
    }
    if (cnt != r)
        return eos__node_err(err, EOS_INVALID_ARG, n, "perm has %lld entries for rank %d",
                             (long long)cnt, r);
    bool seen[EOS_MAX_DIMS] = { false };
    for (int i = 0; i < r; i++) {
        if (p[i] < 0 || p[i] >= r || seen[p[i]])
            return eos__node_err(err, EOS_INVALID_ARG, n, "perm is not a permutation of 0..%d",
                                 r - 1);
        seen[p[i]] = true;
        perm[i] = (int)p[i];
    }
    return EOS_OK;
}

eos_status eos__infer_transpose(const eos_node *n, const eos_tensor *in, int n_in,
                                eos_tensor *out, int n_out, eos_err *err) {
    int perm[EOS_MAX_DIMS];
    EOS_TRY(eos__perm_get(n, in[0].ndim, perm, err));
    out[0].dtype = in[0].dtype;
    out[0].ndim = in[0].ndim;
    for (int i = 0; i < in[0].ndim; i++) out[0].dims[i] = in[0].dims[perm[i]];
    return EOS_OK;
}

eos_status eos__infer_squeeze(const eos_node *n, const eos_tensor *in, int n_in,
                              eos_tensor *out, int n_out, eos_err *err) {
    int64_t axes[EOS_MAX_DIMS];
    int cnt = 0, r = in[0].ndim;
    bool given, mask[EOS_MAX_DIMS];
    EOS_TRY(axes_list(n, in, n_in, 1, 13, axes, &cnt, &given, err));
    if (given && cnt > 0) {
        EOS_TRY(eos__axes_mask(n, axes, cnt, r, "axes", mask, err));
        for (int i = 0; i < r; i++)
            if (mask[i] && in[0].dims[i] != 1)
                return eos__node_err(err, EOS_SHAPE, n, "cannot squeeze axis %d of size %lld", i,
                                     (long long)in[0].dims[i]);
    } else {
        for (int i = 0; i < r; i++) mask[i] = in[0].dims[i] == 1;
    }
    out[0].dtype = in[0].dtype;
    out[0].ndim = 0;
    for (int i = 0; i < r; i++)
        if (!mask[i]) out[0].dims[out[0].ndim++] = in[0].dims[i];
    return EOS_OK;
}

eos_status eos__infer_unsqueeze(const eos_node *n, const eos_tensor *in, int n_in,
                                eos_tensor *out, int n_out, eos_err *err) {
    int64_t axes[EOS_MAX_DIMS];
    int cnt;
    bool given, mask[EOS_MAX_DIMS];
    EOS_TRY(axes_list(n, in, n_in, 1, 13, axes, &cnt, &given, err));
    if (!given) return eos__node_err(err, EOS_INVALID_ARG, n, "axes are required");
    int ro = in[0].ndim + cnt;
    if (ro > EOS_MAX_DIMS)
        return eos__node_err(err, EOS_LIMIT, n, "output rank %d exceeds %d", ro, EOS_MAX_DIMS);
    EOS_TRY(eos__axes_mask(n, axes, cnt, ro, "axes", mask, err));
    out[0].dtype = in[0].dtype;
    out[0].ndim = ro;
    for (int i = 0, j = 0; i < ro; i++) out[0].dims[i] = mask[i] ? 1 : in[0].dims[j++];
    return EOS_OK;
}

/* ------------------------------------------------------------------ joining and splitting */

eos_status eos__infer_concat(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                             int n_out, eos_err *err) {
    int r = in[0].ndim, axis;
    if (!eos_node_attr(n, "axis"))
        return eos__node_err(err, EOS_INVALID_ARG, n, "attribute axis is required");
    if (r < 1) return eos__node_err(err, EOS_SHAPE, n, "cannot concatenate scalars");
    EOS_TRY(eos__axis_attr(n, "axis", 0, r, false, &axis, err));
    copy_shape(&out[0], in[0].dtype, &in[0]);
    for (int i = 1; i < n_in; i++) {
        if (in[i].dtype != in[0].dtype)
            return eos__node_err(err, EOS_TYPE, n, "input %d is %s, input 0 is %s", i,
                                 eos_dtype_name(in[i].dtype), eos_dtype_name(in[0].dtype));
        if (in[i].ndim != r)
            return eos__node_err(err, EOS_SHAPE, n, "input %d has rank %d, input 0 has %d", i,
                                 in[i].ndim, r);
        for (int d = 0; d < r; d++)
            if (d != axis && in[i].dims[d] != in[0].dims[d])
                return eos__node_err(err, EOS_SHAPE, n, "input %d differs in dim %d (%lld vs %lld)",
                                     i, d, (long long)in[i].dims[d], (long long)in[0].dims[d]);
        out[0].dims[axis] += in[i].dims[axis];
    }
    return EOS_OK;
}

eos_status eos__infer_split(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                            int n_out, eos_err *err) {
    int r = in[0].ndim, axis;
    if (r < 1) return eos__node_err(err, EOS_SHAPE, n, "cannot split a scalar");
    EOS_TRY(eos__axis_attr(n, "axis", 0, r, false, &axis, err));
    int64_t d = in[0].dims[axis], sum = 0;
    for (int j = 0; j < n_out; j++) copy_shape(&out[j], in[0].dtype, &in[0]);
    int64_t cnt;
    const int64_t *sa = eos_attr_ints(n, "split", &cnt);
    bool old = n->opset > 0 && n->opset < 13;
    if (!old && eos__has(in, n_in, 1) && eos__numel(&in[1]) > 0) {
        const eos_tensor *t = &in[1];
        if (t->dtype != EOS_DTYPE_I64 && t->dtype != EOS_DTYPE_I32)
            return eos__node_err(err, EOS_TYPE, n, "split input must be i64 or i32");
        if (!t->data)
            return eos__node_err(err, EOS_UNSUPPORTED, n, "split input must be constant at plan time");
        if (eos__numel(t) != n_out)
            return eos__node_err(err, EOS_SHAPE, n, "split has %lld sizes for %d outputs",
                                 (long long)eos__numel(t), n_out);
        for (int j = 0; j < n_out; j++) out[j].dims[axis] = int_at(t, j);
    } else if (old && sa) {
        if (cnt != n_out)
            return eos__node_err(err, EOS_SHAPE, n, "split has %lld sizes for %d outputs",
                                 (long long)cnt, n_out);
        for (int j = 0; j < n_out; j++) out[j].dims[axis] = sa[j];
    } else if (eos_node_attr(n, "num_outputs")) {
        int64_t no = eos_attr_int(n, "num_outputs", 0);
        if (no != n_out)
            return eos__node_err(err, EOS_SHAPE, n, "num_outputs %lld but %d outputs",
                                 (long long)no, n_out);
        int64_t chunk = (d + n_out - 1) / n_out;
        for (int j = 0; j < n_out; j++) {
            int64_t rest = d - chunk * j;
            out[j].dims[axis] = rest < chunk ? (rest > 0 ? rest : 0) : chunk;
        }
    } else {
        if (d % n_out)
            return eos__node_err(err, EOS_SHAPE, n, "dim %lld does not split evenly into %d",
                                 (long long)d, n_out);
        for (int j = 0; j < n_out; j++) out[j].dims[axis] = d / n_out;
    }
    for (int j = 0; j < n_out; j++) {
        if (out[j].dims[axis] < 0 || out[j].dims[axis] > d)
            return eos__node_err(err, EOS_SHAPE, n, "split size %lld", (long long)out[j].dims[axis]);
        sum += out[j].dims[axis];
    }
    if (sum != d)
        return eos__node_err(err, EOS_SHAPE, n, "split sizes add up to %lld, dim is %lld",
                             (long long)sum, (long long)d);
    return EOS_OK;
}

/* ------------------------------------------------------------------ Slice */

static eos_status slice_lists(const eos_node *n, const eos_tensor *in, int n_in, int64_t *starts,
                              int64_t *ends, int64_t *axes, int64_t *steps, int *cnt,
                              bool *has_axes, eos_err *err) {
    int c1, c2, c3 = 0, c4 = 0;
    *has_axes = false;
    if (n->opset > 0 && n->opset < 10) {
        int64_t a, b, c = 0;
        const int64_t *s = eos_attr_ints(n, "starts", &a), *e = eos_attr_ints(n, "ends", &b);
        const int64_t *x = eos_attr_ints(n, "axes", &c);
        if (!s || !e) return eos__node_err(err, EOS_INVALID_ARG, n, "starts and ends are required");
        if (a > EOS_MAX_DIMS || b > EOS_MAX_DIMS || c > EOS_MAX_DIMS)
            return eos__node_err(err, EOS_LIMIT, n, "too many slice axes");
        memcpy(starts, s, (size_t)a * 8);
        memcpy(ends, e, (size_t)b * 8);
        if (x) memcpy(axes, x, (size_t)c * 8);
        c1 = (int)a, c2 = (int)b, c3 = (int)c;
        *has_axes = x != NULL;
        for (int i = 0; i < c1; i++) steps[i] = 1;
        c4 = c1;
    } else {
        if (!eos__has(in, n_in, 1) || !eos__has(in, n_in, 2))
            return eos__node_err(err, EOS_INVALID_ARG, n, "starts and ends are required");
        EOS_TRY(eos__const_ints(n, &in[1], "starts", starts, EOS_MAX_DIMS, &c1, err));
        EOS_TRY(eos__const_ints(n, &in[2], "ends", ends, EOS_MAX_DIMS, &c2, err));
        if (eos__has(in, n_in, 3)) {
            EOS_TRY(eos__const_ints(n, &in[3], "axes", axes, EOS_MAX_DIMS, &c3, err));
            *has_axes = true;
        }
        if (eos__has(in, n_in, 4)) {
            EOS_TRY(eos__const_ints(n, &in[4], "steps", steps, EOS_MAX_DIMS, &c4, err));
        } else {
            for (int i = 0; i < c1; i++) steps[i] = 1;
            c4 = c1;
        }
    }
    if (c2 != c1 || (*has_axes && c3 != c1) || c4 != c1)
        return eos__node_err(err, EOS_SHAPE, n, "starts, ends, axes and steps differ in length "
                             "(%d, %d, %d, %d)", c1, c2, *has_axes ? c3 : c1, c4);
    *cnt = c1;
    return EOS_OK;
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

eos_status eos__slice_get(const eos_node *n, const eos_tensor *in, int n_in, eos__slice *s,
                          eos_err *err) {
    int64_t starts[EOS_MAX_DIMS], ends[EOS_MAX_DIMS], axes[EOS_MAX_DIMS], steps[EOS_MAX_DIMS];
    int cnt = 0, r = in[0].ndim;
    bool has_axes, mask[EOS_MAX_DIMS];
    EOS_TRY(slice_lists(n, in, n_in, starts, ends, axes, steps, &cnt, &has_axes, err));
    if (!has_axes)
        for (int i = 0; i < cnt; i++) axes[i] = i;
    if (cnt > r) return eos__node_err(err, EOS_SHAPE, n, "%d slice axes for rank %d", cnt, r);
    EOS_TRY(eos__axes_mask(n, axes, cnt, r, "axes", mask, err));
    s->ndim = r;
    for (int i = 0; i < r; i++) {
        s->start[i] = 0;
        s->step[i] = 1;
        s->count[i] = in[0].dims[i];
    }
    for (int i = 0; i < cnt; i++) {
        int a = (int)(axes[i] < 0 ? axes[i] + r : axes[i]);
        int64_t d = in[0].dims[a], st = steps[i], b = starts[i], e = ends[i];
        if (st == 0) return eos__node_err(err, EOS_INVALID_ARG, n, "step 0 on axis %d", a);
        if (b < 0) b += d;
        if (e < 0) e += d;
        int64_t c;
        if (st > 0) {
            b = clamp64(b, 0, d);
            e = clamp64(e, 0, d);
            c = e > b ? (e - b - 1) / st + 1 : 0;
        } else {
            b = clamp64(b, 0, d > 0 ? d - 1 : 0);
            e = clamp64(e, -1, d - 1);
            int64_t mag = st == INT64_MIN ? INT64_MAX : -st;
            c = (d > 0 && b > e) ? (b - e - 1) / mag + 1 : 0;
        }
        s->start[a] = b;
        s->step[a] = st;
        s->count[a] = c;
    }
    return EOS_OK;
}

eos_status eos__infer_slice(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                            int n_out, eos_err *err) {
    eos__slice s;
    if (in[0].ndim < 1) return eos__node_err(err, EOS_SHAPE, n, "cannot slice a scalar");
    EOS_TRY(eos__slice_get(n, in, n_in, &s, err));
    out[0].dtype = in[0].dtype;
    out[0].ndim = s.ndim;
    for (int i = 0; i < s.ndim; i++) out[0].dims[i] = s.count[i];
    return EOS_OK;
}

/* ------------------------------------------------------------------ Gather, Shape, constants */

eos_status eos__infer_gather(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                             int n_out, eos_err *err) {
    int r = in[0].ndim, ri = in[1].ndim, axis;
    if (r < 1) return eos__node_err(err, EOS_SHAPE, n, "data must have at least 1 dim");
    if (in[1].dtype != EOS_DTYPE_I64 && in[1].dtype != EOS_DTYPE_I32)
        return eos__node_err(err, EOS_TYPE, n, "indices must be i64 or i32, not %s",
                             eos_dtype_name(in[1].dtype));
    EOS_TRY(eos__axis_attr(n, "axis", 0, r, false, &axis, err));
    if (r - 1 + ri > EOS_MAX_DIMS)
        return eos__node_err(err, EOS_LIMIT, n, "output rank %d exceeds %d", r - 1 + ri,
                             EOS_MAX_DIMS);
    int64_t d = in[0].dims[axis];
    if (in[1].data) {
        int64_t k = eos__numel(&in[1]);
        for (int64_t i = 0; i < k; i++) {
            int64_t v = int_at(&in[1], i);
            if (v < -d || v >= d)
                return eos__node_err(err, EOS_INVALID_ARG, n, "index %lld out of range for "
                                     "dim %lld", (long long)v, (long long)d);
        }
    }
    out[0].dtype = in[0].dtype;
    out[0].ndim = r - 1 + ri;
    int o = 0;
    for (int i = 0; i < axis; i++) out[0].dims[o++] = in[0].dims[i];
    for (int i = 0; i < ri; i++) out[0].dims[o++] = in[1].dims[i];
    for (int i = axis + 1; i < r; i++) out[0].dims[o++] = in[0].dims[i];
    return EOS_OK;
}

eos_status eos__infer_shape(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                            int n_out, eos_err *err) {
    int64_t r = in[0].ndim, b = eos_attr_int(n, "start", 0), e = eos_attr_int(n, "end", r);
    if (b < 0) b += r;
    if (e < 0) e += r;
    b = clamp64(b, 0, r);
    e = clamp64(e, 0, r);
    out[0].dtype = EOS_DTYPE_I64;
    out[0].ndim = 1;
    out[0].dims[0] = e > b ? e - b : 0;
    return EOS_OK;
}

eos_status eos__infer_const_of_shape(const eos_node *n, const eos_tensor *in, int n_in,
                                     eos_tensor *out, int n_out, eos_err *err) {
    int64_t shape[EOS_MAX_DIMS];
    int cnt;
    if (in[0].ndim != 1) return eos__node_err(err, EOS_SHAPE, n, "shape input must be 1-D");
    EOS_TRY(eos__const_ints(n, &in[0], "shape", shape, EOS_MAX_DIMS, &cnt, err));
    eos_dtype dt = EOS_DTYPE_F32;
    const eos_attr *v = eos_node_attr(n, "value");
    if (v) {
        int64_t k = 1;
        for (int i = 0; i < v->t_ndim; i++) k *= v->t_dims[i];
        if (v->type != EOS_ATTR_TENSOR || eos_dtype_size(v->t_dtype) == 0 || !v->t_data || k != 1)
            return eos__node_err(err, EOS_INVALID_ARG, n, "value must be a one-element tensor");
        dt = v->t_dtype;
    }
    for (int i = 0; i < cnt; i++) {
        if (shape[i] < 0)
            return eos__node_err(err, EOS_SHAPE, n, "shape[%d] = %lld", i, (long long)shape[i]);
        out[0].dims[i] = shape[i];
    }
    out[0].dtype = dt;
    out[0].ndim = cnt;
    eos_tensor chk = out[0];
    if (eos_tensor_numel(&chk) < 0) return eos__node_err(err, EOS_LIMIT, n, "shape too large");
    return EOS_OK;
}

eos_status eos__infer_identity(const eos_node *n, const eos_tensor *in, int n_in,
                               eos_tensor *out, int n_out, eos_err *err) {
    if (n->op == EOS_OP_DROPOUT && eos__has(in, n_in, 2)) {
        const eos_tensor *t = &in[2];
        if (!t->data)
            return eos__node_err(err, EOS_UNSUPPORTED, n, "training_mode must be constant");
        if (t->dtype != EOS_DTYPE_BOOL || eos__numel(t) != 1)
            return eos__node_err(err, EOS_TYPE, n, "training_mode must be a bool scalar");
        if (*(const uint8_t *)t->data)
            return eos__node_err(err, EOS_UNSUPPORTED, n, "training mode is not supported");
    }
    copy_shape(&out[0], in[0].dtype, &in[0]);
    if (n_out > 1) copy_shape(&out[1], EOS_DTYPE_BOOL, &in[0]);
    return EOS_OK;
}

/* ------------------------------------------------------------------ Pad */

static eos_status pad_mode(const eos_node *n, eos__pad *p, eos_err *err) {
    const char *m = eos_attr_str(n, "mode", "constant");
    if (!strcmp(m, "constant")) p->mode = EOS__PAD_CONSTANT;
    else if (!strcmp(m, "reflect")) p->mode = EOS__PAD_REFLECT;
    else if (!strcmp(m, "edge")) p->mode = EOS__PAD_EDGE;
    else return eos__node_err(err, EOS_UNSUPPORTED, n, "pad mode '%s' is not supported", m);
    return EOS_OK;
}

/* Pads from the opset-11+ inputs (pads, constant_value, axes). */
static eos_status pad_inputs(const eos_node *n, const eos_tensor *in, int n_in, eos__pad *p,
                             eos_err *err) {
    int r = in[0].ndim, cnt, n_axes = r, axes[EOS_MAX_DIMS];
    int64_t pads[2 * EOS_MAX_DIMS];
    if (!eos__has(in, n_in, 1)) return eos__node_err(err, EOS_INVALID_ARG, n, "pads are required");
    EOS_TRY(eos__const_ints(n, &in[1], "pads", pads, 2 * EOS_MAX_DIMS, &cnt, err));
    for (int i = 0; i < r; i++) axes[i] = i;
    if (eos__has(in, n_in, 3)) {
        int64_t a[EOS_MAX_DIMS];
        bool mask[EOS_MAX_DIMS];
        EOS_TRY(eos__const_ints(n, &in[3], "axes", a, EOS_MAX_DIMS, &n_axes, err));
        EOS_TRY(eos__axes_mask(n, a, n_axes, r, "axes", mask, err));
        for (int i = 0; i < n_axes; i++) axes[i] = (int)(a[i] < 0 ? a[i] + r : a[i]);
    }
    if (cnt != 2 * n_axes)
        return eos__node_err(err, EOS_SHAPE, n, "pads has %d values for %d axes", cnt, n_axes);
    for (int i = 0; i < n_axes; i++) {
        p->begin[axes[i]] = pads[i];
        p->end[axes[i]] = pads[n_axes + i];
    }
    if (eos__has(in, n_in, 2)) {
        const eos_tensor *v = &in[2];
        if (v->dtype != in[0].dtype || eos__numel(v) != 1)
            return eos__node_err(err, EOS_TYPE, n, "constant_value must be one %s",
                                 eos_dtype_name(in[0].dtype));
        if (v->data) memcpy(p->value, v->data, eos_dtype_size(v->dtype));
    }
    return EOS_OK;
}

eos_status eos__pad_get(const eos_node *n, const eos_tensor *in, int n_in, eos__pad *p,
                        eos_err *err) {
    memset(p, 0, sizeof *p);
    int r = in[0].ndim;
    p->ndim = r;
    EOS_TRY(pad_mode(n, p, err));
    if (n->opset > 0 && n->opset < 11) {
        int64_t cnt;
        const int64_t *a = eos_attr_ints(n, n->opset < 2 ? "paddings" : "pads", &cnt);
        if (!a || cnt != 2 * r)
            return eos__node_err(err, EOS_INVALID_ARG, n, "pads must list %d values", 2 * r);
        for (int i = 0; i < r; i++) {
            p->begin[i] = a[i];
            p->end[i] = a[r + i];
        }
        float v = eos_attr_float(n, "value", 0.0f);
        eos_convert(p->value, in[0].dtype, &v, EOS_DTYPE_F32, 1);
    } else {
        EOS_TRY(pad_inputs(n, in, n_in, p, err));
    }
    for (int i = 0; i < r; i++) {
        int64_t d = in[0].dims[i], b = p->begin[i], e = p->end[i], size;
        if (b < -d || e < -d || __builtin_add_overflow(d, b, &size) ||
            __builtin_add_overflow(size, e, &size) || size < 0)
            return eos__node_err(err, EOS_SHAPE, n, "pads (%lld, %lld) on axis %d of size %lld",
                                 (long long)b, (long long)e, i, (long long)d);
        if (p->mode == EOS__PAD_REFLECT && (b > 0 || e > 0) && (b >= d || e >= d))
            return eos__node_err(err, EOS_INVALID_ARG, n, "reflect pads (%lld, %lld) must be "
                                 "smaller than axis %d (size %lld)", (long long)b, (long long)e,
                                 i, (long long)d);
        if (p->mode == EOS__PAD_EDGE && (b > 0 || e > 0) && d == 0)
            return eos__node_err(err, EOS_INVALID_ARG, n, "edge padding of an empty axis %d", i);
    }
    return EOS_OK;
}

eos_status eos__infer_pad(const eos_node *n, const eos_tensor *in, int n_in, eos_tensor *out,
                          int n_out, eos_err *err) {
    eos__pad p;
    EOS_TRY(eos__pad_get(n, in, n_in, &p, err));
    out[0].dtype = in[0].dtype;
    out[0].ndim = p.ndim;
    for (int i = 0; i < p.ndim; i++) out[0].dims[i] = in[0].dims[i] + p.begin[i] + p.end[i];
    return EOS_OK;
}
