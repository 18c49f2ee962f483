/*
 * src/core/status.c - names and messages of eos_status, generated from EOS_STATUS_MAP.
 */
#include "eosight/status.h"

const char *eos_status_name(eos_status s) {
    switch (s) {
#define EOS_STATUS_NAME_(name, msg) case EOS_##name: return #name;
        EOS_STATUS_MAP(EOS_STATUS_NAME_)
#undef EOS_STATUS_NAME_
    default: return "UNKNOWN";
    }
}

const char *eos_status_str(eos_status s) {
    switch (s) {
#define EOS_STATUS_STR_(name, msg) case EOS_##name: return msg;
        EOS_STATUS_MAP(EOS_STATUS_STR_)
#undef EOS_STATUS_STR_
    default: return "unknown status";
    }
}
