/*
 * src/io/gdal_util.c - GDAL initialisation, quiet error handling, type mapping (gdal_util.h).
 */
#include "io/gdal_util.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>
#include <cpl_error.h>

static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void init_once(void) {
    GDALAllRegister();
    long mb = 256;
    const char *env = getenv("EOS_GDAL_CACHE_MB");
    if (env && *env) {
        char *end;
        long v = strtol(env, &end, 10);
        if (end != env && !*end && v >= 8 && v <= (1L << 20)) mb = v;
    }
    GDALSetCacheMax64((GIntBig)mb << 20);
}

void eos_gdal_init(void) { pthread_once(&g_once, init_once); }

void eos_gdal_quiet_begin(void) {
    CPLPushErrorHandler(CPLQuietErrorHandler);
    CPLErrorReset();
}

void eos_gdal_quiet_end(void) { CPLPopErrorHandler(); }

eos_status eos_gdal_fail(eos_err *err, eos_status status, const char *fmt, ...) {
    char head[EOS_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    const char *g = CPLGetLastErrorMsg();
    if (g && *g) return eos_err_set(err, status, "%.250s: %.250s", head, g);
    return eos_err_set(err, status, "%s", head);
}

eos_dtype eos_gdal_to_dtype(GDALDataType t) {
    switch (t) {
    case GDT_Byte:    return EOS_DTYPE_U8;
    case GDT_UInt16:  return EOS_DTYPE_U16;
    case GDT_Int16:   return EOS_DTYPE_I16;
    case GDT_Int32:   return EOS_DTYPE_I32;
    case GDT_Float32: return EOS_DTYPE_F32;
    case GDT_Float64: return EOS_DTYPE_F64;
    default:          return EOS_DTYPE_UNDEFINED;
    }
}

GDALDataType eos_gdal_type(eos_dtype d) {
    switch (d) {
    case EOS_DTYPE_U8:  return GDT_Byte;
    case EOS_DTYPE_U16: return GDT_UInt16;
    case EOS_DTYPE_I16: return GDT_Int16;
    case EOS_DTYPE_I32: return GDT_Int32;
    case EOS_DTYPE_F32: return GDT_Float32;
    case EOS_DTYPE_F64: return GDT_Float64;
    default:            return GDT_Unknown;
    }
}
