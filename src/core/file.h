/*
 * src/core/file.h - reading a whole file into memory, the one way the library does it for
 * binary inputs (models, checkpoints).
 */
#ifndef EOS_CORE_FILE_H
#define EOS_CORE_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* Read path into a new buffer (*buf from eos_malloc, caller frees; at least 1 byte is
 * allocated, so an empty file gives a valid pointer and *len 0). what names the file in
 * messages ("model file", "checkpoint"). Errors: EOS_IO (cannot open / seek / short read),
 * EOS_LIMIT (larger than max_bytes), EOS_NOMEM; on error *buf is NULL. Thread-safe. */
eos_status eos__read_file(const char *path, const char *what, size_t max_bytes, uint8_t **buf,
                          size_t *len, eos_err *err);

#endif /* EOS_CORE_FILE_H */
