/*
 * tests/fuzz/fuzz_model_run.c - libFuzzer target for planning and running hostile models.
 *
 * fuzz_onnx.c stops after loading; models that load fine can still be absurd once shapes are
 * concrete: kernels larger than the padded input, zero strides, groups that do not divide the
 * channels, Reshape to a wrong element count, indices out of range, huge ConstantOfShape... This
 * target loads the bytes (ref back-end, no logging, no base directory so external data is
 * refused), builds one input per graph input from its declared shape (symbolic, unknown or
 * non-positive dims become 1, unknown rank becomes a scalar, an undefined type becomes f32;
 * inputs over 1 Mi elements are skipped), fills them with zeros or a byte pattern chosen by the
 * last input byte, plans and runs a one-thread session with a 4 MiB arena limit, reads every
 * output byte, and frees everything. A failure must carry a message; ASan/UBSan turn memory
 * errors and undefined behaviour into crashes.
 *
 * Seeds: tests/fuzz/corpus/model_run/ (one tiny model per operator family, written by
 * tests/fuzz/gen_model_run_seeds.py).
 *
 *     build-fuzz/fuzz_model_run -max_total_time=300 -rss_limit_mb=2048 -timeout=10 \
 *         corpus-dir tests/fuzz/corpus/model_run
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "eosight/eosight.h"

#define MAX_INPUT_ELEMS ((int64_t)1 << 20)
/* Small on purpose: the reference kernels are scalar and run ~30x slower under ASan, UBSan and
 * coverage, so a 4 MiB arena keeps legitimate work (a cubic Resize to 1 Mi elements) under the
 * 10 s timeout while every size limit stays reachable. */
#define ARENA_LIMIT     ((size_t)4 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Concrete descriptor for graph input i; false when it is too big to feed. */
static bool make_input(const eos_model *m, int i, eos_tensor *t) {
    eos_io_info info;
    memset(t, 0, sizeof *t);
    if (eos_model_input_info(m, i, &info) != EOS_OK) return false;
    t->dtype = eos_dtype_size(info.dtype) ? info.dtype : EOS_DTYPE_F32;
    t->ndim = info.ndim < 0 || info.ndim > EOS_MAX_DIMS ? 0 : info.ndim;
    int64_t n = 1;
    for (int d = 0; d < t->ndim; d++) {
        t->dims[d] = info.dims[d] > 0 ? info.dims[d] : 1;
        if (t->dims[d] > MAX_INPUT_ELEMS || n * t->dims[d] > MAX_INPUT_ELEMS) return false;
        n *= t->dims[d];
    }
    return true;
}

static void fill(void *buf, size_t nbytes, uint8_t mode) {
    uint8_t *b = buf;
    if (!(mode & 1)) {
        memset(b, 0, nbytes);
        return;
    }
    for (size_t k = 0; k < nbytes; k++) b[k] = (uint8_t)(k * 37u + mode);
}

static void run_model(const eos_model *m, uint8_t mode) {
    int n_in = eos_model_n_inputs(m);
    eos_tensor *in = eos_calloc((size_t)n_in + 1, sizeof *in);
    if (!in) return;
    bool ok = true;
    for (int i = 0; i < n_in && ok; i++) {
        ok = make_input(m, i, &in[i]);
        size_t nb = ok ? eos_tensor_nbytes(&in[i]) : 0;
        if (ok && !(in[i].data = eos_malloc(nb ? nb : 1))) ok = false;
        if (ok) fill(in[i].data, nb, mode);
    }
    eos_session_params sp = eos_session_default_params();
    sp.n_threads = 1;
    sp.backend = EOS_BACKEND_REF;
    sp.max_arena_bytes = ARENA_LIMIT;
    eos_session *s = NULL;
    if (ok && eos_session_create(m, &sp, &s) == EOS_OK) {
        eos_status st = eos_session_run(s, in, n_in);
        if (st != EOS_OK && !eos_session_errmsg(s)[0]) __builtin_trap();
        for (int i = 0; st == EOS_OK && i < eos_model_n_outputs(m); i++) {
            eos_tensor y;
            if (eos_session_output(s, i, &y) != EOS_OK) __builtin_trap();
            size_t nb = eos_tensor_nbytes(&y);
            if (nb && !y.data) __builtin_trap();
            unsigned sum = 0;   /* touch every byte so ASan checks the buffer's extent */
            for (size_t k = 0; k < nb; k++) sum += ((const uint8_t *)y.data)[k];
            __asm__ volatile("" : : "r"(sum));
        }
    }
    eos_session_free(s);
    for (int i = 0; i < n_in; i++) eos_free(in[i].data);
    eos_free(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    eos_ctx_params p = eos_ctx_default_params();
    p.log_level = EOS_LOG_NONE;
    p.backend = EOS_BACKEND_REF;
    eos_ctx *ctx = NULL;
    if (eos_ctx_create(&p, &ctx) != EOS_OK) return 0;
    eos_model *m = NULL;
    eos_status st = eos_model_load_from_memory(ctx, data, size, NULL, &m);
    if (st == EOS_OK) {
        run_model(m, size ? data[size - 1] : 0);
        eos_model_free(m);
    } else if (!eos_ctx_errmsg(ctx)[0]) {
        __builtin_trap();
    }
    eos_ctx_free(ctx);
    return 0;
}
