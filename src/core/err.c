/*
 * src/core/err.c - error detail records (see err.h).
 */
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

eos_status eos_err_set(eos_err *err, eos_status status, const char *fmt, ...) {
    if (!err) return status;
    err->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return status;
}

eos_status eos_err_prefix(eos_err *err, const char *fmt, ...) {
    if (!err) return EOS_INTERNAL;
    char head[EOS_ERR_MSG_MAX], old[EOS_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    size_t h = strlen(head);
    if (h >= sizeof err->msg) h = sizeof err->msg - 1;
    memcpy(err->msg, head, h);
    size_t rest = sizeof err->msg - 1 - h, o = strlen(old);
    if (o > rest) o = rest;
    memcpy(err->msg + h, old, o);
    err->msg[h + o] = '\0';
    if (err->status == EOS_OK) err->status = EOS_INTERNAL;
    return err->status;
}

void eos_err_clear(eos_err *err) {
    if (!err) return;
    err->status = EOS_OK;
    err->msg[0] = '\0';
}
