/*
 * tests/fuzz/gen_checkpoint_seed.c - writes the seed checkpoint for fuzz_checkpoint: the
 * tiny CloudNet (3 bands, 2 classes, width 4, seed 1) with an 8-byte blob.
 *   cc -Iinclude gen_checkpoint_seed.c build/libeosight.a ... && ./a.out OUT
 */
#include <stdio.h>

#include "eosight/eosight.h"
#include "eosight/train.h"

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    eos_arch a;
    eos_arch_default(&a, EOS_ARCH_CLOUDNET);
    a.in_ch = 3;
    a.n_classes = 2;
    a.width = 4;
    eos_net_params p = eos_net_default_params();
    p.reference = true;
    eos_net *n = NULL;
    if (eos_net_build(NULL, &a, 1, &p, &n) != EOS_OK) return 1;
    int rc = eos_net_save_checkpoint(n, argv[1], "blobdata", 8) == EOS_OK ? 0 : 1;
    eos_net_free(n);
    return rc;
}
