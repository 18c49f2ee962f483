/*
 * src/io/gdal_util.h - the one boundary between GDAL/OGR/OSR and the rest of eosight.
 *
 * Every file in src/io and src/geo that calls GDAL first calls eos_gdal_init() (idempotent,
 * thread-safe: registers drivers once and caps GDAL's block cache at EOS_GDAL_CACHE_MB,
 * default 256 MB, so tiled processing stays bounded in memory).
 *
 * GDAL reports errors through CPLError, which by default prints to stderr. eosight never lets
 * it print: calls are bracketed by eos_gdal_quiet_begin()/end() (a per-thread quiet handler;
 * the last message stays readable with CPLGetLastErrorMsg), and failures are translated once,
 * here, into an eos_status and message with eos_gdal_fail(), which appends GDAL's own text.
 */
#ifndef EOS_IO_GDAL_UTIL_H
#define EOS_IO_GDAL_UTIL_H

#include <gdal.h>

#include "core/err.h"
#include "eosight/tensor.h"

/* Register drivers and cap the cache, once per process. */
void eos_gdal_init(void);

/* Silence CPLError for this thread and reset the last error; pair with _end. Nestable. */
void eos_gdal_quiet_begin(void);
void eos_gdal_quiet_end(void);

/* eos_err_set(err, status, fmt...) followed by ": <GDAL's last error message>" when GDAL has
 * one. Returns status. */
eos_status eos_gdal_fail(eos_err *err, eos_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* GDAL pixel type <-> eosight dtype. GDT_UInt32, GDT_Int64, GDT_UInt64 and the complex types
 * have no eos_dtype: EOS_DTYPE_UNDEFINED. eos_gdal_type of a type GDAL lacks (bool, bf16, f16,
 * i8 in GDAL 3.6) is GDT_Unknown. */
eos_dtype    eos_gdal_to_dtype(GDALDataType t);
GDALDataType eos_gdal_type(eos_dtype d);

#endif /* EOS_IO_GDAL_UTIL_H */
