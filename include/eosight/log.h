/*
 * eosight/log.h - logging through a callback the application can replace (ggml_log_set).
 *
 * The library never prints to stdout. Each eos_ctx carries a log callback and a minimum
 * level; the default callback writes "eosight: LEVEL: message" to stderr for WARN and above.
 * Callbacks may be called from any thread that uses the context's models or sessions, so
 * they must be thread-safe.
 */
#ifndef EOSIGHT_LOG_H
#define EOSIGHT_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum eos_log_level {
    EOS_LOG_DEBUG = 0,
    EOS_LOG_INFO  = 1,
    EOS_LOG_WARN  = 2,
    EOS_LOG_ERROR = 3,
    EOS_LOG_NONE  = 4
} eos_log_level;

/* msg is NUL-terminated without a trailing newline; user is the pointer given with the callback. */
typedef void (*eos_log_fn)(eos_log_level level, const char *msg, void *user);

/* The default callback: writes to stderr. */
void eos_log_stderr(eos_log_level level, const char *msg, void *user);

/* "DEBUG", "INFO", "WARN", "ERROR". */
const char *eos_log_level_name(eos_log_level level);

#ifdef __cplusplus
}
#endif
#endif /* EOSIGHT_LOG_H */
