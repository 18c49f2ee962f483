/*
 * src/core/log.c - the default log callback and level names. Contexts route their messages
 * through their own callback (src/graph/model.c, eos__log).
 */
#include "eosight/log.h"

#include <stdio.h>

const char *eos_log_level_name(eos_log_level level) {
    switch (level) {
    case EOS_LOG_DEBUG: return "DEBUG";
    case EOS_LOG_INFO:  return "INFO";
    case EOS_LOG_WARN:  return "WARN";
    case EOS_LOG_ERROR: return "ERROR";
    default:            return "NONE";
    }
}

void eos_log_stderr(eos_log_level level, const char *msg, void *user) {
    (void)user;
    fprintf(stderr, "eosight: %s: %s\n", eos_log_level_name(level), msg);
}
