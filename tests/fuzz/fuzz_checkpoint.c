/*
 * tests/fuzz/fuzz_checkpoint.c - libFuzzer target for the checkpoint reader
 * (eos_net_load_checkpoint) against a tiny CloudNet (3 bands, 2 classes, width 4). Unless an
 * input already ends with its own CRC-32, the harness appends it, so the fuzzer reaches the
 * structure behind the checksum (tensor names, sizes, the blob size) instead of stopping at
 * the CRC check (the CRC check itself is covered by tests/train/test_net.c). Seeds:
 * tests/fuzz/corpus/checkpoint (a real checkpoint of that net, made by gen_checkpoint_seed.c).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "eosight/eosight.h"
#include "eosight/train.h"

static uint32_t crc32_ieee(const uint8_t *b, size_t n) {
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= b[i];
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
    }
    return ~c;
}

static eos_net *g_net;
static char g_path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!g_net) {
        eos_arch a;
        eos_arch_default(&a, EOS_ARCH_CLOUDNET);
        a.in_ch = 3;
        a.n_classes = 2;
        a.width = 4;
        eos_net_params p = eos_net_default_params();
        p.reference = true;
        if (eos_net_build(NULL, &a, 1, &p, &g_net) != EOS_OK) return 0;
        snprintf(g_path, sizeof g_path, "/tmp/fuzz_ckpt_%d.bin", (int)getpid());
    }
    FILE *f = fopen(g_path, "wb");
    if (!f) return 0;
    fwrite(data, 1, size, f);
    uint32_t tail = 0;
    if (size >= 4) memcpy(&tail, data + size - 4, 4);
    if (size < 4 || crc32_ieee(data, size - 4) != tail) {
        uint32_t crc = crc32_ieee(data, size);
        fwrite(&crc, 1, 4, f);
    }
    fclose(f);
    void *blob = NULL;
    size_t bs = 0;
    if (eos_net_load_checkpoint(g_net, g_path, &blob, &bs) == EOS_OK) eos_free(blob);
    unlink(g_path);
    return 0;
}
