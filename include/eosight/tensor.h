/*
 * eosight/tensor.h - element types and the plain tensor descriptor used across the API.
 *
 * An eos_tensor is plain data: element type, rank, dimensions and a pointer to densely packed,
 * row-major (C order) elements. dims[0] is the slowest axis; images are NCHW:
 *     shape = [n_batch, n_bands, height_px, width_px]
 * The struct never owns its data: whoever filled `data` says who frees it (see each function).
 * Compute is f32; the other types are storage types (inputs, shape tensors, casts).
 *
 * Thread safety: the functions here are pure and thread-safe.
 */
#ifndef EOSIGHT_TENSOR_H
#define EOSIGHT_TENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Maximum rank of any tensor eosight handles (images need 4, volumes 5; shape arithmetic in
 * imported graphs occasionally uses more). */
#define EOS_MAX_DIMS 8

/* X(ENUM_SUFFIX, "name", element size in bytes, ONNX TensorProto.DataType) */
#define EOS_DTYPE_MAP(X)            \
    X(F32,  "f32",  4, 1)           \
    X(U8,   "u8",   1, 2)           \
    X(I8,   "i8",   1, 3)           \
    X(U16,  "u16",  2, 4)           \
    X(I16,  "i16",  2, 5)           \
    X(I32,  "i32",  4, 6)           \
    X(I64,  "i64",  8, 7)           \
    X(BOOL, "bool", 1, 9)           \
    X(F16,  "f16",  2, 10)          \
    X(F64,  "f64",  8, 11)          \
    X(BF16, "bf16", 2, 16)

typedef enum eos_dtype {
    EOS_DTYPE_UNDEFINED = 0,
#define EOS_DTYPE_ENUM_(e, name, size, onnx) EOS_DTYPE_##e,
    EOS_DTYPE_MAP(EOS_DTYPE_ENUM_)
#undef EOS_DTYPE_ENUM_
    EOS_DTYPE_COUNT_
} eos_dtype;

typedef struct eos_tensor {
    eos_dtype dtype;
    int       ndim;                 /* 0 (scalar) .. EOS_MAX_DIMS */
    int64_t   dims[EOS_MAX_DIMS];   /* dims[ndim..] are ignored */
    void     *data;                 /* row-major elements; never owned by the struct */
} eos_tensor;

/* Size in bytes of one element; 0 for EOS_DTYPE_UNDEFINED or out-of-range values. */
size_t      eos_dtype_size(eos_dtype t);
/* "f32", "u16", ... ; "undefined" for anything else. */
const char *eos_dtype_name(eos_dtype t);
/* Parse a name as printed by eos_dtype_name; EOS_DTYPE_UNDEFINED when unknown. */
eos_dtype   eos_dtype_from_name(const char *name);
/* ONNX TensorProto.DataType <-> eos_dtype; UNDEFINED / 0 when there is no mapping. */
eos_dtype   eos_dtype_from_onnx(int onnx_type);
int         eos_dtype_to_onnx(eos_dtype t);

/* Number of elements (1 for a scalar); -1 if a dim is negative or the product overflows. */
int64_t eos_tensor_numel(const eos_tensor *t);
/* numel * element size, or 0 on overflow/invalid. */
size_t  eos_tensor_nbytes(const eos_tensor *t);
/* Same rank and dims (dtype not compared). */
bool    eos_tensor_same_shape(const eos_tensor *a, const eos_tensor *b);
/* Write "[1x3x64x64]" (or "[]" for scalars) into buf (always NUL-terminated); returns buf. */
char   *eos_shape_str(int ndim, const int64_t *dims, char *buf, size_t buf_size);

/* Element conversions between storage and compute types (IEEE round-to-nearest-even). */
float    eos_f16_to_f32(uint16_t h);
uint16_t eos_f32_to_f16(float f);
float    eos_bf16_to_f32(uint16_t b);
uint16_t eos_f32_to_bf16(float f);

/* Convert n elements from src (type st) to dst (type dt). Float->int truncates toward zero and
 * saturates to the target range (NaN -> 0); float->bool is x != 0. Supports every pair of types. */
void eos_convert(void *dst, eos_dtype dt, const void *src, eos_dtype st, int64_t n);

#ifdef __cplusplus
}
#endif
#endif /* EOSIGHT_TENSOR_H */
