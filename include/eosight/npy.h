/*
 * eosight/npy.h - NumPy .npy files (format versions 1.0, 2.0, 3.0), C order only.
 *
 * Element types: '<f4' f32, '<f8' f64, '|u1' u8, '|i1' i8, '<u2' u16, '<i2' i16, '<i4' i32,
 * '<i8' i64, '|b1' bool, '<f2' f16. Big-endian and Fortran-order arrays are refused with
 * EOS_UNSUPPORTED; malformed headers give EOS_PARSE; a declared size that does not match
 * the payload gives EOS_PARSE; more than EOS_MAX_DIMS dims gives EOS_LIMIT.
 *
 * Thread safety: functions are reentrant; they share nothing.
 */
#ifndef EOSIGHT_NPY_H
#define EOSIGHT_NPY_H

#include <stddef.h>

#include "eosight/status.h"
#include "eosight/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Parse a .npy image in memory. On success out->data is a new buffer the caller frees with
 * eos_free(). errbuf (may be NULL) receives a message on failure. */
eos_status eos_npy_from_memory(const void *buf, size_t size, eos_tensor *out /* OUT */,
                               char *errbuf, size_t errbuf_size);
/* Read a .npy file; as eos_npy_from_memory, plus EOS_IO when the file cannot be read. */
eos_status eos_npy_read(const char *path, eos_tensor *out /* OUT */, char *errbuf,
                        size_t errbuf_size);
/* Write t as a version 1.0 .npy file. EOS_UNSUPPORTED for bf16 (NumPy has no such type). */
eos_status eos_npy_write(const char *path, const eos_tensor *t, char *errbuf, size_t errbuf_size);

#ifdef __cplusplus
}
#endif
#endif /* EOSIGHT_NPY_H */
