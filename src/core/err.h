/*
 * src/core/err.h - the error detail that travels with an eos_status inside the library.
 *
 * Internal functions that can fail take an `eos_err *err` and return an eos_status; on failure
 * they fill err with a human-readable message via eos_err_set(), which returns the status so a
 * failure is one line:  return eos_err_set(err, EOS_SHAPE, "node '%s': ...", name);
 * Public handles (eos_ctx, eos_session) copy the text into their own errmsg buffer.
 * err may be NULL: the message is then dropped.
 */
#ifndef EOS_CORE_ERR_H
#define EOS_CORE_ERR_H

#include "eosight/status.h"

#define EOS_ERR_MSG_MAX 512

typedef struct eos_err {
    eos_status status;
    char       msg[EOS_ERR_MSG_MAX];
} eos_err;

/* Record status and a printf-style message; returns status. */
eos_status eos_err_set(eos_err *err, eos_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefix the existing message with more context ("node 'x': " + old message); returns
 * err->status (or EOS_INTERNAL if err has none). */
eos_status eos_err_prefix(eos_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Clear to EOS_OK / "". */
void eos_err_clear(eos_err *err);

/* Hand an error to a public context (eos_ctx_errmsg shows it afterwards) and return its status.
 * ctx may be NULL: the detail is dropped. Implemented with eos_ctx in src/graph/model.c. */
typedef struct eos_ctx eos_ctx;
eos_status eos__ctx_fail(eos_ctx *ctx, const eos_err *err);
/* Clear the context's message at the start of a public call that reports through it. */
void eos__ctx_clear(eos_ctx *ctx);

/* Propagate a failing status: `EOS_TRY(f(x, err));` */
#define EOS_TRY(expr)                                                                      \
    do {                                                                                   \
        eos_status eos_try_s_ = (expr);                                                    \
        if (eos_try_s_ != EOS_OK) return eos_try_s_;                                       \
    } while (0)

#endif /* EOS_CORE_ERR_H */
