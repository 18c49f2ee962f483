/*
 * src/ops/params.c - the parameter decoders every back-end shares (see ops.h): Conv and
 * ConvTranspose geometry, pooling geometry, Resize/Upsample scales and coordinate modes.
 *
 * Each decoder reads a node's attributes for concrete input shapes, applies the ONNX defaults
 * and auto_pad rules, validates everything (counts, signs, channel/group consistency, empty
 * outputs) and fails with a status and a message naming the node. Output sizes follow the
 * ONNX operator specification; where ONNX leaves room (pool ceil_mode windows that would start
 * in the right padding, ConvTranspose output_shape) we follow PyTorch / onnxruntime, see
 * docs/operators.md.
 */
#include <math.h>
#include <string.h>

#include "ops/infer_common.h"

typedef enum auto_pad { PAD_NOTSET, PAD_VALID, PAD_SAME_UPPER, PAD_SAME_LOWER } auto_pad;

static eos_status get_auto_pad(const eos_node *n, auto_pad *ap, eos_err *err) {
    const char *s = eos_attr_str(n, "auto_pad", "NOTSET");
    if (!strcmp(s, "NOTSET") || !s[0]) *ap = PAD_NOTSET;
    else if (!strcmp(s, "VALID")) *ap = PAD_VALID;
    else if (!strcmp(s, "SAME_UPPER")) *ap = PAD_SAME_UPPER;
    else if (!strcmp(s, "SAME_LOWER")) *ap = PAD_SAME_LOWER;
    else return eos__node_err(err, EOS_INVALID_ARG, n, "unknown auto_pad '%s'", s);
    return EOS_OK;
}

/* INTS attribute `name` of exactly `count` entries, each >= min_val, into dst; dst keeps dflt
 * when the attribute is absent. *present tells which. */
static eos_status get_ints(const eos_node *n, const char *name, int count, int64_t min_val,
                           int64_t dflt, int64_t *dst, bool *present, eos_err *err) {
    for (int i = 0; i < count; i++) dst[i] = dflt;
    if (present) *present = false;
    const eos_attr *a = eos_node_attr(n, name);
    if (!a) return EOS_OK;
    if (a->type != EOS_ATTR_INTS)
        return eos__node_err(err, EOS_INVALID_ARG, n, "attribute %s must be a list of ints", name);
    if (a->n != count)
        return eos__node_err(err, EOS_INVALID_ARG, n, "attribute %s has %lld values, expected %d",
                             name, (long long)a->n, count);
    for (int i = 0; i < count; i++) {
        if (a->ints[i] < min_val)
            return eos__node_err(err, EOS_INVALID_ARG, n, "attribute %s[%d] = %lld is below %lld",
                                 name, i, (long long)a->ints[i], (long long)min_val);
        dst[i] = a->ints[i];
    }
    if (present) *present = true;
    return EOS_OK;
}

/* SAME_* padding split of `total` (upper: the extra element goes to the end). */
static void split_same(int64_t total, bool upper, int64_t *begin, int64_t *end) {
    if (upper) {
        *begin = total / 2;
        *end = total - *begin;
    } else {
        *end = total / 2;
        *begin = total - *end;
    }
}

static eos_status check_dims(const eos_node *n, int ndim, const int64_t *dims, const char *what,
                             eos_err *err) {
    for (int i = 0; i < ndim; i++)
        if (dims[i] < (i == 0 ? 0 : 1))
            return eos__node_err(err, EOS_SHAPE, n, "%s dim %d is %lld", what, i,
                                 (long long)dims[i]);
    return EOS_OK;
}

/* a * b + c into *r for the non-negative geometry of one axis; false on int64 overflow
 * (attributes such as strides, dilations and pads are any int64 the file says). */
static bool mul_add(int64_t a, int64_t b, int64_t c, int64_t *r) {
    return !__builtin_mul_overflow(a, b, r) && !__builtin_add_overflow(*r, c, r);
}

/* Dilated kernel extent (k - 1) * dilation + 1 and padded input in + pad_begin + pad_end. */
static eos_status axis_extents(const eos_node *n, int i, int64_t in, int64_t k, int64_t dil,
                               int64_t pb, int64_t pe, int64_t *dk, int64_t *padded,
                               eos_err *err) {
    if (!mul_add(k - 1, dil, 1, dk) || !mul_add(1, pb, in, padded) ||
        !mul_add(1, pe, *padded, padded))
        return eos__node_err(err, EOS_LIMIT, n, "spatial axis %d: kernel %lld, dilation %lld and "
                             "pads (%lld, %lld) overflow 64-bit sizes", i, (long long)k,
                             (long long)dil, (long long)pb, (long long)pe);
    return EOS_OK;
}

/* SAME_* auto padding: output ceil(in / s) and the total padding it needs (>= 0). */
static eos_status same_pads(const eos_node *n, int i, int64_t in, int64_t s, int64_t dk,
                            int64_t *out, int64_t *total, eos_err *err) {
    *out = in / s + (in % s != 0);
    if (!mul_add(*out > 0 ? *out - 1 : 0, s, dk, total))
        return eos__node_err(err, EOS_LIMIT, n, "spatial axis %d: SAME padding overflows", i);
    *total = *total > in ? *total - in : 0;
    return EOS_OK;
}

/* ------------------------------------------------------------------ Conv / ConvTranspose */

static eos_status conv_channels(const eos_node *n, const int64_t *x_dims, const int64_t *w_dims,
                                eos_conv_params *p, eos_err *err) {
    p->group = eos_attr_int(n, "group", 1);
    if (p->group < 1 || p->group > p->c_in)
        return eos__node_err(err, EOS_INVALID_ARG, n, "group %lld invalid for %lld input channels",
                             (long long)p->group, (long long)p->c_in);
    if (p->c_in % p->group)
        return eos__node_err(err, EOS_SHAPE, n, "%lld input channels not divisible by group %lld",
                             (long long)p->c_in, (long long)p->group);
    if (!p->transposed) {
        p->c_out = w_dims[0];
        if (w_dims[1] * p->group != p->c_in)
            return eos__node_err(err, EOS_SHAPE, n,
                                 "weight expects %lld input channels (x group %lld), input has %lld",
                                 (long long)w_dims[1], (long long)p->group, (long long)x_dims[1]);
        if (p->c_out % p->group)
            return eos__node_err(err, EOS_SHAPE, n, "%lld output channels not divisible by group %lld",
                                 (long long)p->c_out, (long long)p->group);
    } else {
        if (w_dims[0] != p->c_in)
            return eos__node_err(err, EOS_SHAPE, n, "weight has %lld input channels, input has %lld",
                                 (long long)w_dims[0], (long long)p->c_in);
        p->c_out = w_dims[1] * p->group;
    }
    return EOS_OK;
}

/* Conv output size and pads for spatial axis i. */
static eos_status conv_axis(const eos_node *n, eos_conv_params *p, int i, auto_pad ap,
                            eos_err *err) {
    int64_t in = p->in_sp[i], s = p->stride[i], dk, padded, total;
    if (ap != PAD_NOTSET) p->pad_begin[i] = p->pad_end[i] = 0;
    EOS_TRY(axis_extents(n, i, in, p->kernel[i], p->dilation[i], p->pad_begin[i], p->pad_end[i],
                         &dk, &padded, err));
    if (ap == PAD_SAME_UPPER || ap == PAD_SAME_LOWER) {
        EOS_TRY(same_pads(n, i, in, s, dk, &p->out_sp[i], &total, err));
        split_same(total, ap == PAD_SAME_UPPER, &p->pad_begin[i], &p->pad_end[i]);
        return EOS_OK;
    }
    int64_t num = padded - dk;
    if (num < 0)
        return eos__node_err(err, EOS_SHAPE, n,
                             "spatial axis %d: input %lld (+ pads %lld, %lld) is smaller than the "
                             "dilated kernel %lld", i, (long long)in, (long long)p->pad_begin[i],
                             (long long)p->pad_end[i], (long long)dk);
    p->out_sp[i] = num / s + 1;
    return EOS_OK;
}

/* ConvTranspose output size and pads for spatial axis i. out_shape < 0 when not given. */
static eos_status conv_transpose_axis(const eos_node *n, eos_conv_params *p, int i, auto_pad ap,
                                      int64_t out_shape, eos_err *err) {
    int64_t in = p->in_sp[i], s = p->stride[i], dk, padded, full, out;
    if (ap == PAD_VALID) p->pad_begin[i] = p->pad_end[i] = 0;
    EOS_TRY(axis_extents(n, i, in, p->kernel[i], p->dilation[i], p->pad_begin[i], p->pad_end[i],
                         &dk, &padded, err));
    /* output size with no padding: s * (in - 1) + output_padding + dk; SAME wants in * s */
    if (!mul_add(s, in - 1, p->out_pad[i], &full) || !mul_add(1, full, dk, &full) ||
        !mul_add(in, s, 0, &out))
        return eos__node_err(err, EOS_LIMIT, n, "spatial axis %d: stride %lld overflows 64-bit "
                             "sizes", i, (long long)s);
    if (out_shape >= 0 || ap == PAD_SAME_UPPER || ap == PAD_SAME_LOWER) {
        if (out_shape >= 0) out = out_shape;
        int64_t total = full - out;
        if (total < 0 && out_shape >= 0)
            return eos__node_err(err, EOS_UNSUPPORTED, n,
                                 "output_shape %lld on spatial axis %d exceeds the full transposed "
                                 "size %lld", (long long)out, i, (long long)full);
        if (total < 0) total = 0;
        split_same(total, ap == PAD_SAME_UPPER, &p->pad_begin[i], &p->pad_end[i]);
        p->out_sp[i] = full - p->pad_begin[i] - p->pad_end[i];
    } else {
        p->out_sp[i] = full - p->pad_begin[i] - p->pad_end[i];
    }
    if (p->out_sp[i] < 1)
        return eos__node_err(err, EOS_SHAPE, n, "spatial axis %d: output size %lld", i,
                             (long long)p->out_sp[i]);
    return EOS_OK;
}

eos_status eos_conv_params_get(const eos_node *n, int x_ndim, const int64_t *x_dims, int w_ndim,
                               const int64_t *w_dims, bool transposed, eos_conv_params *p,
                               eos_err *err) {
    memset(p, 0, sizeof *p);
    p->transposed = transposed;
    if (x_ndim < 3 || x_ndim > 2 + EOS_MAX_SPATIAL)
        return eos__node_err(err, EOS_SHAPE, n, "input must have 3 to 5 dims (N, C, spatial...), "
                             "has %d", x_ndim);
    if (w_ndim != x_ndim)
        return eos__node_err(err, EOS_SHAPE, n, "weight has %d dims, input has %d", w_ndim, x_ndim);
    EOS_TRY(check_dims(n, x_ndim, x_dims, "input", err));
    for (int i = 0; i < w_ndim; i++)
        if (w_dims[i] < 1)
            return eos__node_err(err, EOS_SHAPE, n, "weight dim %d is %lld", i, (long long)w_dims[i]);
    int k = x_ndim - 2;
    p->n_spatial = k;
    p->n_batch = x_dims[0];
    p->c_in = x_dims[1];
    EOS_TRY(conv_channels(n, x_dims, w_dims, p, err));

    bool has_ks;
    EOS_TRY(get_ints(n, "kernel_shape", k, 1, 1, p->kernel, &has_ks, err));
    for (int i = 0; i < k; i++) {
        if (has_ks && p->kernel[i] != w_dims[2 + i])
            return eos__node_err(err, EOS_SHAPE, n, "kernel_shape[%d] = %lld but weight has %lld",
                                 i, (long long)p->kernel[i], (long long)w_dims[2 + i]);
        p->kernel[i] = w_dims[2 + i];
        p->in_sp[i] = x_dims[2 + i];
    }
    EOS_TRY(get_ints(n, "strides", k, 1, 1, p->stride, NULL, err));
    EOS_TRY(get_ints(n, "dilations", k, 1, 1, p->dilation, NULL, err));
    int64_t pads[2 * EOS_MAX_SPATIAL];
    EOS_TRY(get_ints(n, "pads", 2 * k, 0, 0, pads, NULL, err));
    for (int i = 0; i < k; i++) {
        p->pad_begin[i] = pads[i];
        p->pad_end[i] = pads[k + i];
    }
    auto_pad ap;
    EOS_TRY(get_auto_pad(n, &ap, err));
    if (!transposed) {
        for (int i = 0; i < k; i++) EOS_TRY(conv_axis(n, p, i, ap, err));
        return EOS_OK;
    }

    EOS_TRY(get_ints(n, "output_padding", k, 0, 0, p->out_pad, NULL, err));
    for (int i = 0; i < k; i++)
        if (p->out_pad[i] >= p->stride[i] && p->out_pad[i] >= p->dilation[i])
            return eos__node_err(err, EOS_INVALID_ARG, n, "output_padding[%d] = %lld must be "
                                 "smaller than the stride or the dilation", i,
                                 (long long)p->out_pad[i]);
    int64_t out_shape[EOS_MAX_SPATIAL] = { -1, -1, -1 };
    const eos_attr *os = eos_node_attr(n, "output_shape");
    if (os) {
        if (os->type != EOS_ATTR_INTS || (os->n != k && os->n != k + 2))
            return eos__node_err(err, EOS_INVALID_ARG, n,
                                 "output_shape must list %d spatial sizes", k);
        for (int i = 0; i < k; i++) {
            out_shape[i] = os->ints[os->n - k + i];
            if (out_shape[i] < 1)
                return eos__node_err(err, EOS_INVALID_ARG, n, "output_shape[%d] = %lld", i,
                                     (long long)out_shape[i]);
        }
    }
    for (int i = 0; i < k; i++) EOS_TRY(conv_transpose_axis(n, p, i, ap, out_shape[i], err));
    return EOS_OK;
}

/* ------------------------------------------------------------------ pools */

static eos_status pool_axis(const eos_node *n, eos_pool_params *p, int i, auto_pad ap,
                            eos_err *err) {
    int64_t in = p->in_sp[i], s = p->stride[i], dk, padded, total;
    if (ap != PAD_NOTSET) p->pad_begin[i] = p->pad_end[i] = 0;
    EOS_TRY(axis_extents(n, i, in, p->kernel[i], p->dilation[i], p->pad_begin[i], p->pad_end[i],
                         &dk, &padded, err));
    if (ap == PAD_SAME_UPPER || ap == PAD_SAME_LOWER) {
        EOS_TRY(same_pads(n, i, in, s, dk, &p->out_sp[i], &total, err));
        split_same(total, ap == PAD_SAME_UPPER, &p->pad_begin[i], &p->pad_end[i]);
        return EOS_OK;
    }
    int64_t num = padded - dk;
    if (num < 0)
        return eos__node_err(err, EOS_SHAPE, n,
                             "spatial axis %d: input %lld (+ pads) is smaller than the kernel %lld",
                             i, (long long)in, (long long)dk);
    int64_t out = num / s + (p->ceil_mode && num % s != 0) + 1, last;
    /* PyTorch / onnxruntime: the last window must start inside the input or the left padding */
    if (p->ceil_mode && (!mul_add(out - 1, s, 0, &last) || last >= in + p->pad_begin[i])) out--;
    p->out_sp[i] = out;
    return EOS_OK;
}

eos_status eos_pool_params_get(const eos_node *n, int x_ndim, const int64_t *x_dims,
                               eos_pool_params *p, eos_err *err) {
    memset(p, 0, sizeof *p);
    if (x_ndim < 3 || x_ndim > 2 + EOS_MAX_SPATIAL)
        return eos__node_err(err, EOS_SHAPE, n, "input must have 3 to 5 dims (N, C, spatial...), "
                             "has %d", x_ndim);
    EOS_TRY(check_dims(n, x_ndim, x_dims, "input", err));
    int k = x_ndim - 2;
    p->n_spatial = k;
    p->n_batch = x_dims[0];
    p->channels = x_dims[1];
    p->is_max = n->op == EOS_OP_MAX_POOL || n->op == EOS_OP_GLOBAL_MAX_POOL;
    for (int i = 0; i < k; i++) p->in_sp[i] = x_dims[2 + i];

    if (n->op == EOS_OP_GLOBAL_AVERAGE_POOL || n->op == EOS_OP_GLOBAL_MAX_POOL) {
        for (int i = 0; i < k; i++) {
            p->kernel[i] = p->in_sp[i];
            p->stride[i] = p->dilation[i] = p->out_sp[i] = 1;
        }
        return EOS_OK;
    }
    if (n->op != EOS_OP_MAX_POOL && n->op != EOS_OP_AVERAGE_POOL)
        return eos__node_err(err, EOS_INTERNAL, n, "not a pooling operator");

    bool has_ks;
    EOS_TRY(get_ints(n, "kernel_shape", k, 1, 1, p->kernel, &has_ks, err));
    if (!has_ks)
        return eos__node_err(err, EOS_INVALID_ARG, n, "attribute kernel_shape is required");
    EOS_TRY(get_ints(n, "strides", k, 1, 1, p->stride, NULL, err));
    EOS_TRY(get_ints(n, "dilations", k, 1, 1, p->dilation, NULL, err));
    int64_t pads[2 * EOS_MAX_SPATIAL];
    EOS_TRY(get_ints(n, "pads", 2 * k, 0, 0, pads, NULL, err));
    for (int i = 0; i < k; i++) {
        p->pad_begin[i] = pads[i];
        p->pad_end[i] = pads[k + i];
    }
    int64_t ceil_mode = eos_attr_int(n, "ceil_mode", 0);
    int64_t cip = eos_attr_int(n, "count_include_pad", 0);
    if ((ceil_mode != 0 && ceil_mode != 1) || (cip != 0 && cip != 1))
        return eos__node_err(err, EOS_INVALID_ARG, n, "ceil_mode and count_include_pad must be 0 or 1");
    p->ceil_mode = ceil_mode == 1;
    p->count_include_pad = !p->is_max && cip == 1;
    auto_pad ap;
    EOS_TRY(get_auto_pad(n, &ap, err));
    for (int i = 0; i < k; i++) EOS_TRY(pool_axis(n, p, i, ap, err));
    return EOS_OK;
}

/* ------------------------------------------------------------------ Resize / Upsample */

/* floor(v) as an output size: -1 for negative or NaN, INT64_MAX when beyond 2^62 (the size
 * checks that follow refuse both; a plain cast of such floats is undefined behaviour). */
static int64_t size_from_float(float v) {
    v = floorf(v);
    if (!(v >= 0.0f)) return -1;
    if (v >= 0x1p62f) return INT64_MAX;
    return (int64_t)v;
}

static eos_status parse_resize_attrs(const eos_node *n, eos_resize_params *p, bool legacy,
                                     eos_err *err) {
    const char *mode = eos_attr_str(n, "mode", "nearest");
    if (!strcmp(mode, "nearest")) p->mode = EOS_RESIZE_NEAREST;
    else if (!strcmp(mode, "linear") || !strcmp(mode, "bilinear") || !strcmp(mode, "trilinear"))
        p->mode = EOS_RESIZE_LINEAR;
    else if (!strcmp(mode, "cubic") && !legacy) p->mode = EOS_RESIZE_CUBIC;
    else return eos__node_err(err, EOS_UNSUPPORTED, n, "mode '%s' is not supported", mode);
    p->cubic_a = -0.75f;
    if (legacy) {                       /* Upsample, Resize-10: asymmetric, floor */
        p->coord = EOS_COORD_ASYMMETRIC;
        p->nearest = EOS_NEAREST_FLOOR;
        return EOS_OK;
    }
    const char *c = eos_attr_str(n, "coordinate_transformation_mode", "half_pixel");
    if (!strcmp(c, "half_pixel")) p->coord = EOS_COORD_HALF_PIXEL;
    else if (!strcmp(c, "pytorch_half_pixel")) p->coord = EOS_COORD_PYTORCH_HALF_PIXEL;
    else if (!strcmp(c, "align_corners")) p->coord = EOS_COORD_ALIGN_CORNERS;
    else if (!strcmp(c, "asymmetric")) p->coord = EOS_COORD_ASYMMETRIC;
    else if (!strcmp(c, "tf_crop_and_resize")) p->coord = EOS_COORD_TF_CROP_AND_RESIZE;
    else return eos__node_err(err, EOS_UNSUPPORTED, n,
                              "coordinate_transformation_mode '%s' is not supported", c);
    const char *nm = eos_attr_str(n, "nearest_mode", "round_prefer_floor");
    if (!strcmp(nm, "round_prefer_floor")) p->nearest = EOS_NEAREST_ROUND_PREFER_FLOOR;
    else if (!strcmp(nm, "round_prefer_ceil")) p->nearest = EOS_NEAREST_ROUND_PREFER_CEIL;
    else if (!strcmp(nm, "floor")) p->nearest = EOS_NEAREST_FLOOR;
    else if (!strcmp(nm, "ceil")) p->nearest = EOS_NEAREST_CEIL;
    else return eos__node_err(err, EOS_UNSUPPORTED, n, "nearest_mode '%s' is not supported", nm);
    p->cubic_a = eos_attr_float(n, "cubic_coeff_a", -0.75f);
    if (eos_attr_int(n, "antialias", 0) != 0)
        return eos__node_err(err, EOS_UNSUPPORTED, n, "antialias is not supported");
    return EOS_OK;
}

/* Present and non-empty optional input i of a Resize node. */
static bool resize_has(const eos_node *n, const eos_value *const *in, int i) {
    if (i >= n->n_in || !in[i] || in[i]->dtype == EOS_DTYPE_UNDEFINED) return false;
    return eos_value_numel(in[i]) != 0;
}

static eos_status legacy_scales(const eos_node *n, const eos_value *const *in,
                                eos_resize_params *p, eos_err *err) {
    int cnt = 0;
    if (resize_has(n, in, 1)) {
        eos_tensor t = eos_value_tensor(in[1]);
        EOS_TRY(eos__const_floats(n, &t, "scales", p->scales, EOS_MAX_DIMS, &cnt, err));
    } else {
        int64_t na;
        const float *f = eos_attr_floats(n, "scales", &na);
        if (!f) return eos__node_err(err, EOS_INVALID_ARG, n, "scales are required");
        if (na > EOS_MAX_DIMS) na = EOS_MAX_DIMS + 1;
        for (int i = 0; i < na && i < EOS_MAX_DIMS; i++) p->scales[i] = f[i];
        cnt = (int)na;
    }
    if (cnt != p->ndim)
        return eos__node_err(err, EOS_SHAPE, n, "%d scales for an input of rank %d", cnt, p->ndim);
    for (int i = 0; i < p->ndim; i++) {
        if (!(p->scales[i] > 0.0f) || !isfinite(p->scales[i]))
            return eos__node_err(err, EOS_INVALID_ARG, n, "scale %d is %g", i, (double)p->scales[i]);
        p->out_dims[i] = size_from_float((float)p->in_dims[i] * p->scales[i]);
    }
    return EOS_OK;
}

/* opset-18 axes attribute -> list of distinct axes (all axes when absent). */
static eos_status resize_axes(const eos_node *n, int r, int *axes, int *n_axes, eos_err *err) {
    int64_t cnt;
    const int64_t *a = eos_attr_ints(n, "axes", &cnt);
    if (!a) {
        for (int i = 0; i < r; i++) axes[i] = i;
        *n_axes = r;
        return EOS_OK;
    }
    if (cnt > r) return eos__node_err(err, EOS_INVALID_ARG, n, "too many axes");
    bool mask[EOS_MAX_DIMS];
    EOS_TRY(eos__axes_mask(n, a, (int)cnt, r, "axes", mask, err));
    for (int i = 0; i < cnt; i++) EOS_TRY(eos__axis(n, a[i], r, "axes", &axes[i], err));
    *n_axes = (int)cnt;
    return EOS_OK;
}

static eos_status resize_from_sizes(const eos_node *n, const eos_value *sz, const int *axes,
                                    int n_axes, eos_resize_params *p, eos_err *err) {
    int64_t sizes[EOS_MAX_DIMS];
    int cnt;
    eos_tensor t = eos_value_tensor(sz);
    EOS_TRY(eos__const_ints(n, &t, "sizes", sizes, EOS_MAX_DIMS, &cnt, err));
    if (cnt != n_axes)
        return eos__node_err(err, EOS_SHAPE, n, "%d sizes for %d axes", cnt, n_axes);
    for (int i = 0; i < cnt; i++)
        if (sizes[i] < 1)
            return eos__node_err(err, EOS_INVALID_ARG, n, "sizes[%d] = %lld", i, (long long)sizes[i]);
    const char *pol = eos_attr_str(n, "keep_aspect_ratio_policy", "stretch");
    bool stretch = !strcmp(pol, "stretch");
    if (!stretch && strcmp(pol, "not_larger") && strcmp(pol, "not_smaller"))
        return eos__node_err(err, EOS_INVALID_ARG, n, "keep_aspect_ratio_policy '%s'", pol);
    float s_keep = 0.0f;
    for (int i = 0; i < cnt && !stretch; i++) {
        float s = (float)sizes[i] / (float)p->in_dims[axes[i]];
        if (i == 0 || (pol[4] == 'l' ? s < s_keep : s > s_keep)) s_keep = s;   /* not_[l]arger */
    }
    for (int i = 0; i < cnt; i++) {
        int a = axes[i];
        if (stretch) {
            p->out_dims[a] = sizes[i];
            p->scales[a] = (float)sizes[i] / (float)p->in_dims[a];
        } else {
            p->out_dims[a] = size_from_float(s_keep * (float)p->in_dims[a] + 0.5f);
            p->scales[a] = s_keep;
        }
    }
    return EOS_OK;
}

static eos_status resize_from_scales(const eos_node *n, const eos_value *const *in,
                                     const int *axes, int n_axes, eos_resize_params *p,
                                     eos_err *err) {
    float scales[EOS_MAX_DIMS], roi[2 * EOS_MAX_DIMS];
    int cnt;
    eos_tensor t = eos_value_tensor(in[2]);
    EOS_TRY(eos__const_floats(n, &t, "scales", scales, EOS_MAX_DIMS, &cnt, err));
    if (cnt != n_axes)
        return eos__node_err(err, EOS_SHAPE, n, "%d scales for %d axes", cnt, n_axes);
    bool tf = p->coord == EOS_COORD_TF_CROP_AND_RESIZE;
    if (tf) {
        int nr;
        eos_tensor rt = eos_value_tensor(in[1]);
        EOS_TRY(eos__const_floats(n, &rt, "roi", roi, 2 * EOS_MAX_DIMS, &nr, err));
        if (nr != 2 * n_axes)
            return eos__node_err(err, EOS_SHAPE, n, "roi has %d values for %d axes", nr, n_axes);
    }
    for (int i = 0; i < cnt; i++) {
        int a = axes[i];
        if (!(scales[i] > 0.0f) || !isfinite(scales[i]))
            return eos__node_err(err, EOS_INVALID_ARG, n, "scales[%d] is %g", i, (double)scales[i]);
        float extent = tf ? roi[n_axes + i] - roi[i] : 1.0f;
        p->scales[a] = scales[i];
        p->out_dims[a] = size_from_float((float)p->in_dims[a] * extent * scales[i]);
    }
    return EOS_OK;
}

eos_status eos_resize_params_get(const eos_node *n, const eos_value *const *in,
                                 eos_resize_params *p, eos_err *err) {
    memset(p, 0, sizeof *p);
    if (n->op != EOS_OP_RESIZE && n->op != EOS_OP_UPSAMPLE)
        return eos__node_err(err, EOS_INTERNAL, n, "not a Resize/Upsample node");
    if (n->n_in < 1 || !in[0] || in[0]->ndim < 1 || in[0]->ndim > EOS_MAX_DIMS)
        return eos__node_err(err, EOS_SHAPE, n, "input must have a known rank of 1 to %d",
                             EOS_MAX_DIMS);
    p->ndim = in[0]->ndim;
    for (int i = 0; i < p->ndim; i++) {
        if (in[0]->dims[i] < 1)
            return eos__node_err(err, EOS_SHAPE, n, "input dim %d is %lld", i,
                                 (long long)in[0]->dims[i]);
        p->in_dims[i] = p->out_dims[i] = in[0]->dims[i];
        p->scales[i] = 1.0f;
    }
    bool legacy = n->op == EOS_OP_UPSAMPLE || n->opset < 11;
    EOS_TRY(parse_resize_attrs(n, p, legacy, err));
    if (legacy) {
        EOS_TRY(legacy_scales(n, in, p, err));
    } else {
        int axes[EOS_MAX_DIMS], n_axes = 0;
        EOS_TRY(resize_axes(n, p->ndim, axes, &n_axes, err));
        bool has_scales = resize_has(n, in, 2), has_sizes = resize_has(n, in, 3);
        if (has_scales == has_sizes)
            return eos__node_err(err, EOS_INVALID_ARG, n,
                                 "exactly one of scales and sizes must be given");
        if (p->coord == EOS_COORD_TF_CROP_AND_RESIZE && !resize_has(n, in, 1))
            return eos__node_err(err, EOS_INVALID_ARG, n, "tf_crop_and_resize needs roi");
        if (has_sizes) EOS_TRY(resize_from_sizes(n, in[3], axes, n_axes, p, err));
        else EOS_TRY(resize_from_scales(n, in, axes, n_axes, p, err));
    }
    for (int i = 0; i < p->ndim; i++)
        if (p->out_dims[i] < 1)
            return eos__node_err(err, EOS_SHAPE, n, "output dim %d would be %lld", i,
                                 (long long)p->out_dims[i]);
    return EOS_OK;
}
