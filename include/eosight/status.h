/*
 * eosight/status.h - status codes returned by every fallible eosight function.
 *
 * One X-macro table (EOS_STATUS_MAP) generates the enum, eos_status_name() and
 * eos_status_str(), so codes, names and messages never drift apart (the libuv
 * UV_ERRNO_MAP pattern). A status says what kind of failure happened; the detail
 * ("node 'conv3' (Conv): weight has 4 dims, input has 3") is stored on the handle
 * that failed and read with eos_ctx_errmsg() or eos_session_errmsg().
 *
 * Thread safety: all functions here are pure and thread-safe.
 */
#ifndef EOSIGHT_STATUS_H
#define EOSIGHT_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

/* X(ENUM_SUFFIX, "message") */
#define EOS_STATUS_MAP(X)                                                        \
    X(OK,            "success")                                                  \
    X(INVALID_ARG,   "invalid argument")                                         \
    X(NOMEM,         "out of memory")                                            \
    X(IO,            "input/output error")                                       \
    X(PARSE,         "malformed input")                                          \
    X(UNSUPPORTED,   "unsupported feature")                                      \
    X(SHAPE,         "incompatible tensor shapes")                               \
    X(TYPE,          "incompatible data types")                                  \
    X(NOT_FOUND,     "not found")                                                \
    X(LIMIT,         "a size or count limit was exceeded")                       \
    X(BACKEND,       "kernel back-end failure")                                  \
    X(INTERNAL,      "internal error (a bug in eosight)")                        \
    X(NUMERIC,       "non-finite numbers (NaN or infinity)")                       \
    X(CANCELLED,     "cancelled by the caller")

typedef enum eos_status {
#define EOS_STATUS_ENUM_(name, msg) EOS_##name,
    EOS_STATUS_MAP(EOS_STATUS_ENUM_)
#undef EOS_STATUS_ENUM_
    EOS_STATUS_COUNT_
} eos_status;

/* The enum name without prefix ("NOMEM"), or "UNKNOWN" for a value outside the table. */
const char *eos_status_name(eos_status s);

/* A short lower-case English message ("out of memory"), or "unknown status". */
const char *eos_status_str(eos_status s);

#ifdef __cplusplus
}
#endif
#endif /* EOSIGHT_STATUS_H */
