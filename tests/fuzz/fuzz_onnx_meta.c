/*
 * tests/fuzz/fuzz_onnx_meta.c - libFuzzer target for eos__onnx_edit_meta (src/onnx/onnx_meta.h),
 * the metadata editor behind `eosight meta`: arbitrary bytes as the model, edited with three
 * fixed edit lists (sets only, unsets only, both with a key set twice). Beyond memory errors
 * (ASan/UBSan) it checks what the editor promises:
 *   - a failure carries a message and returns no output;
 *   - success is idempotent: editing the output again with the same edits gives the same
 *     bytes (entries of the edited keys are dropped wherever they were, the new ones appended);
 *   - unsetting every edited key in the output gives what unsetting them in the input gives,
 *     so the bytes outside the edited entries are copied unchanged;
 *   - the output ends with the appended entries, encoded as ModelProto field 14.
 * Seeds: tests/fuzz/corpus/onnx_meta (models with metadata) and tests/fuzz/corpus/onnx.
 *
 *     build-fuzz/fuzz_onnx_meta -runs=200000 tests/fuzz/corpus/onnx_meta tests/fuzz/corpus/onnx
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "eosight/alloc.h"
#include "onnx/onnx_meta.h"

typedef struct edits {
    int n;
    const char *keys[4];
    const char *vals[4];
} edits;

static const edits k_edits[3] = {
    { 2, { "eosight.task", "eosight.classes" }, { "segmentation", "a,b,c" } },
    { 2, { "eosight.task", "k" }, { NULL, NULL } },
    { 4, { "eosight.bands", "k", "eosight.bands", "" }, { "r,g,b", NULL, "x", "" } },
};

static void fail(void) { __builtin_trap(); }

static bool same(const uint8_t *a, size_t na, const uint8_t *b, size_t nb) {
    return na == nb && (na == 0 || !memcmp(a, b, na));
}

/* Every key of e, as an unset-only edit list. */
static edits unset_of(const edits *e) {
    edits u = { 0 };
    for (int i = 0; i < e->n; i++) u.keys[u.n++] = e->keys[i];
    return u;
}

/* Bytes of the appended entry key = value (both shorter than 128 bytes). */
static size_t entry_bytes(const char *key, const char *val, uint8_t *buf) {
    size_t k = strlen(key), v = strlen(val), n = 0;
    buf[n++] = 14 << 3 | 2;
    buf[n++] = (uint8_t)(2 + k + 2 + v);
    buf[n++] = 1 << 3 | 2;
    buf[n++] = (uint8_t)k;
    memcpy(buf + n, key, k);
    n += k;
    buf[n++] = 2 << 3 | 2;
    buf[n++] = (uint8_t)v;
    memcpy(buf + n, val, v);
    return n + v;
}

static void check_edit(const uint8_t *data, size_t size, const edits *e) {
    eos_err err;
    eos_err_clear(&err);
    uint8_t *out = (uint8_t *)1, *again = NULL, *u1 = NULL, *u2 = NULL;
    size_t n_out = 0, n_again = 0, n1 = 0, n2 = 0;
    eos_status st = eos__onnx_edit_meta(data, size, e->keys, e->vals, e->n, &out, &n_out, &err);
    if (st != EOS_OK) {
        if (!err.msg[0] || out != NULL || n_out != 0) fail();
        return;
    }
    if (!out && n_out) fail();
    /* idempotent */
    if (eos__onnx_edit_meta(out, n_out, e->keys, e->vals, e->n, &again, &n_again, &err) != EOS_OK ||
        !same(out, n_out, again, n_again))
        fail();
    /* removing every edited key: the same from the output as from the input */
    edits u = unset_of(e);
    eos_status s1 = eos__onnx_edit_meta(out, n_out, u.keys, u.vals, u.n, &u1, &n1, &err);
    eos_status s2 = eos__onnx_edit_meta(data, size, u.keys, u.vals, u.n, &u2, &n2, &err);
    if (s1 != EOS_OK || s2 != EOS_OK || !same(u1, n1, u2, n2)) fail();
    /* the output ends with the new entries, in order */
    uint8_t tail[4 * 160];
    size_t n_tail = 0;
    for (int i = 0; i < e->n; i++)
        if (e->vals[i]) n_tail += entry_bytes(e->keys[i], e->vals[i], tail + n_tail);
    if (n_out < n_tail || memcmp(out + n_out - n_tail, tail, n_tail)) fail();
    eos_free(out);
    eos_free(again);
    eos_free(u1);
    eos_free(u2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    for (int k = 0; k < 3; k++) check_edit(data, size, &k_edits[k]);
    return 0;
}
