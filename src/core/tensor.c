/*
 * src/core/tensor.c - element types: sizes, names, ONNX codes and conversions (see tensor.h).
 *
 * eos_convert goes through double for every pair, which is exact for all of our types except
 * i64 values beyond 2^53; those are copied directly when source and target are both integer.
 */
#include "eosight/tensor.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const struct { const char *name; size_t size; int onnx; } k_types[EOS_DTYPE_COUNT_] = {
    [EOS_DTYPE_UNDEFINED] = { "undefined", 0, 0 },
#define EOS_DTYPE_ROW_(e, name, size, onnx) [EOS_DTYPE_##e] = { name, size, onnx },
    EOS_DTYPE_MAP(EOS_DTYPE_ROW_)
#undef EOS_DTYPE_ROW_
};

static int valid(eos_dtype t) { return (int)t > 0 && (int)t < EOS_DTYPE_COUNT_; }

size_t eos_dtype_size(eos_dtype t) { return valid(t) ? k_types[t].size : 0; }
const char *eos_dtype_name(eos_dtype t) { return valid(t) ? k_types[t].name : "undefined"; }
int eos_dtype_to_onnx(eos_dtype t) { return valid(t) ? k_types[t].onnx : 0; }

eos_dtype eos_dtype_from_name(const char *name) {
    for (int t = 1; name && t < EOS_DTYPE_COUNT_; t++)
        if (!strcmp(name, k_types[t].name)) return (eos_dtype)t;
    return EOS_DTYPE_UNDEFINED;
}

eos_dtype eos_dtype_from_onnx(int onnx_type) {
    for (int t = 1; t < EOS_DTYPE_COUNT_; t++)
        if (k_types[t].onnx == onnx_type) return (eos_dtype)t;
    return EOS_DTYPE_UNDEFINED;
}

int64_t eos_tensor_numel(const eos_tensor *t) {
    if (t->ndim < 0 || t->ndim > EOS_MAX_DIMS) return -1;
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) {
        if (t->dims[i] < 0) return -1;
        if (t->dims[i] && n > INT64_MAX / t->dims[i]) return -1;
        n *= t->dims[i];
    }
    return n;
}

size_t eos_tensor_nbytes(const eos_tensor *t) {
    int64_t n = eos_tensor_numel(t);
    size_t es = eos_dtype_size(t->dtype);
    if (n < 0 || es == 0 || (uint64_t)n > SIZE_MAX / es) return 0;
    return (size_t)n * es;
}

bool eos_tensor_same_shape(const eos_tensor *a, const eos_tensor *b) {
    if (a->ndim != b->ndim) return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->dims[i] != b->dims[i]) return false;
    return true;
}

char *eos_shape_str(int ndim, const int64_t *dims, char *buf, size_t buf_size) {
    if (!buf_size) return buf;
    size_t o = 0;
    buf[0] = '\0';
    o += (size_t)snprintf(buf + o, buf_size - o, "[");
    for (int i = 0; i < ndim && o < buf_size; i++) {
        if (dims[i] < 0)
            o += (size_t)snprintf(buf + o, buf_size - o, "%s?", i ? "x" : "");
        else
            o += (size_t)snprintf(buf + o, buf_size - o, "%s%lld", i ? "x" : "", (long long)dims[i]);
    }
    if (o < buf_size) snprintf(buf + o, buf_size - o, "]");
    return buf;
}

/* ------------------------------------------------------------------ half floats */

float eos_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else { /* subnormal: normalise */
            exp = 127 - 15 + 1;
            while (!(man & 0x400)) { man <<= 1; exp--; }
            man &= 0x3ff;
            bits = sign | (exp << 23) | (man << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (man << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t eos_f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000;
    int32_t exp = (int32_t)((x >> 23) & 0xff);
    uint32_t man = x & 0x7fffff;
    if (exp == 255) return (uint16_t)(sign | 0x7c00 | (man ? 0x200 : 0));
    int32_t e = exp - 127 + 15;
    if (e >= 31) return (uint16_t)(sign | 0x7c00);
    if (e <= 0) {
        if (e < -10) return (uint16_t)sign;
        man |= 0x800000;
        uint32_t shift = (uint32_t)(14 - e);
        uint32_t half = man >> shift, rem = man & ((1u << shift) - 1), mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = sign | ((uint32_t)e << 10) | (man >> 13);
    uint32_t rem = man & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (half & 1))) half++; /* may carry into exp: correct */
    return (uint16_t)half;
}

float eos_bf16_to_f32(uint16_t b) {
    uint32_t x = (uint32_t)b << 16;
    float f;
    memcpy(&f, &x, 4);
    return f;
}

uint16_t eos_f32_to_bf16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffff) > 0x7f800000) return (uint16_t)((x >> 16) | 0x40); /* quiet NaN */
    x += 0x7fff + ((x >> 16) & 1);
    return (uint16_t)(x >> 16);
}

/* ------------------------------------------------------------------ conversion */

static double load(const void *p, eos_dtype t, int64_t i) {
    switch (t) {
    case EOS_DTYPE_F32:  return ((const float *)p)[i];
    case EOS_DTYPE_F64:  return ((const double *)p)[i];
    case EOS_DTYPE_F16:  return eos_f16_to_f32(((const uint16_t *)p)[i]);
    case EOS_DTYPE_BF16: return eos_bf16_to_f32(((const uint16_t *)p)[i]);
    case EOS_DTYPE_U8:   return ((const uint8_t *)p)[i];
    case EOS_DTYPE_I8:   return ((const int8_t *)p)[i];
    case EOS_DTYPE_U16:  return ((const uint16_t *)p)[i];
    case EOS_DTYPE_I16:  return ((const int16_t *)p)[i];
    case EOS_DTYPE_I32:  return ((const int32_t *)p)[i];
    case EOS_DTYPE_I64:  return (double)((const int64_t *)p)[i];
    case EOS_DTYPE_BOOL: return ((const uint8_t *)p)[i] != 0;
    default:             return 0;
    }
}

static double sat(double v, double lo, double hi) {
    if (isnan(v)) return 0;
    v = trunc(v);
    return v < lo ? lo : (v > hi ? hi : v);
}

static void store(void *p, eos_dtype t, int64_t i, double v) {
    switch (t) {
    case EOS_DTYPE_F32:  ((float *)p)[i] = (float)v; break;
    case EOS_DTYPE_F64:  ((double *)p)[i] = v; break;
    case EOS_DTYPE_F16:  ((uint16_t *)p)[i] = eos_f32_to_f16((float)v); break;
    case EOS_DTYPE_BF16: ((uint16_t *)p)[i] = eos_f32_to_bf16((float)v); break;
    case EOS_DTYPE_U8:   ((uint8_t *)p)[i] = (uint8_t)sat(v, 0, 255); break;
    case EOS_DTYPE_I8:   ((int8_t *)p)[i] = (int8_t)sat(v, -128, 127); break;
    case EOS_DTYPE_U16:  ((uint16_t *)p)[i] = (uint16_t)sat(v, 0, 65535); break;
    case EOS_DTYPE_I16:  ((int16_t *)p)[i] = (int16_t)sat(v, -32768, 32767); break;
    case EOS_DTYPE_I32:  ((int32_t *)p)[i] = (int32_t)sat(v, -2147483648.0, 2147483647.0); break;
    case EOS_DTYPE_I64:  ((int64_t *)p)[i] = (int64_t)sat(v, -9223372036854775808.0, 9223372036854774784.0); break;
    case EOS_DTYPE_BOOL: ((uint8_t *)p)[i] = v != 0; break;
    default: break;
    }
}

static int is_int(eos_dtype t) {
    return t == EOS_DTYPE_U8 || t == EOS_DTYPE_I8 || t == EOS_DTYPE_U16 || t == EOS_DTYPE_I16 ||
           t == EOS_DTYPE_I32 || t == EOS_DTYPE_I64 || t == EOS_DTYPE_BOOL;
}

static int64_t load_int(const void *p, eos_dtype t, int64_t i) {
    if (t == EOS_DTYPE_I64) return ((const int64_t *)p)[i];
    return (int64_t)load(p, t, i);
}

void eos_convert(void *dst, eos_dtype dt, const void *src, eos_dtype st, int64_t n) {
    if (dt == st) {
        memmove(dst, src, (size_t)n * eos_dtype_size(dt));
        return;
    }
    if (dt == EOS_DTYPE_F32 && st == EOS_DTYPE_U8) { /* the hot case for images */
        for (int64_t i = 0; i < n; i++) ((float *)dst)[i] = ((const uint8_t *)src)[i];
        return;
    }
    if (is_int(dt) && is_int(st)) {
        for (int64_t i = 0; i < n; i++) {
            int64_t v = load_int(src, st, i);
            if (dt == EOS_DTYPE_I64) ((int64_t *)dst)[i] = v;
            else store(dst, dt, i, (double)v);
        }
        return;
    }
    for (int64_t i = 0; i < n; i++) store(dst, dt, i, load(src, st, i));
}
