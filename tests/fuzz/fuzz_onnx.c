/*
 * tests/fuzz/fuzz_onnx.c - libFuzzer target for the ONNX loader.
 *
 * Feeds arbitrary bytes to eos_model_load_from_memory (protobuf reader, importer, topological
 * sort and load-time passes) with no base directory, so external data is always refused and
 * the fuzzer never touches the file system. A load either succeeds or returns a status with a
 * message; ASan/UBSan turn any memory error into a crash. Seeds: tests/fuzz/corpus/onnx/
 * (regenerate with tests/onnx/gen_fuzz_seeds.py).
 *
 *     make fuzz      or      build-fuzz/fuzz_onnx -max_total_time=60 tests/fuzz/corpus/onnx
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "eosight/eosight.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    eos_ctx_params p = eos_ctx_default_params();
    p.log_level = EOS_LOG_NONE;
    p.backend = EOS_BACKEND_REF;
    eos_ctx *ctx = NULL;
    if (eos_ctx_create(&p, &ctx) != EOS_OK) return 0;
    eos_model *m = NULL;
    eos_status st = eos_model_load_from_memory(ctx, data, size, NULL, &m);
    if (st == EOS_OK) {
        /* touch what a caller would read after a successful load */
        for (int i = 0; i < eos_model_n_inputs(m); i++) {
            eos_io_info info;
            eos_model_input_info(m, i, &info);
        }
        for (int i = 0; i < eos_model_n_meta(m); i++) {
            const char *k, *v;
            eos_model_meta_at(m, i, &k, &v);
        }
        eos_model_free(m);
    } else if (!eos_ctx_errmsg(ctx)[0]) {
        __builtin_trap();   /* every failure must carry a message */
    }
    eos_ctx_free(ctx);
    return 0;
}
