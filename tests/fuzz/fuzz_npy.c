/*
 * tests/fuzz/fuzz_npy.c - libFuzzer target for the .npy parser (eos_npy_from_memory).
 */
#include <stddef.h>
#include <stdint.h>

#include "eosight/eosight.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    eos_tensor t;
    char msg[256];
    if (eos_npy_from_memory(data, size, &t, msg, sizeof msg) == EOS_OK) eos_free(t.data);
    return 0;
}
