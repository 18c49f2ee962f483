/*
 * src/train/net_save.c - saving a trainable net: ONNX export (weights written back into the
 * graph's constants, then src/onnx/onnx_write.c) and the exact-resume checkpoint format.
 *
 * Checkpoint layout (little-endian):
 *   "EOSCKPT1"  u32 n_tensors  u64 blob_size
 *   n_tensors x { u32 name_len, name bytes, u64 n_floats, n_floats x f32 }   (every parameter
 *                                                  and BN statistic, in the net's order)
 *   blob bytes
 *   u32 CRC-32 (IEEE) of everything before it
 * Written to PATH.part and renamed, so a crash leaves the previous checkpoint intact.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/file.h"
#include "eosight/alloc.h"
#include "onnx/onnx_write.h"
#include "train/net_internal.h"

static void sync_graph(eos_net *net) {
    for (int i = 0; i < net->n_params_; i++) {
        tparam *t = &net->params_[i];
        memcpy(net->g.values[t->value].data, t->w, (size_t)t->n * sizeof(float));
    }
}

eos_status eos_net_save_onnx(eos_net *net, const char *path, const char *const *keys,
                             const char *const *values, int n_meta) {
    eos_err err = {0};
    net->errmsg[0] = '\0';
    sync_graph(net);
    eos_status st = eos__onnx_write_file(&net->g, keys, values, n_meta, "eosight", path, &err);
    if (st != EOS_OK) snprintf(net->errmsg, sizeof net->errmsg, "%s", err.msg);
    return st;
}

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
static void crc_fill(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}
static void crc_init(void) { pthread_once(&crc_once, crc_fill); }

static uint32_t crc_update(uint32_t crc, const void *buf, size_t n) {
    const uint8_t *b = buf;
    crc = ~crc;
    for (size_t i = 0; i < n; i++) crc = crc_table[(crc ^ b[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

typedef struct wctx {
    FILE    *f;
    uint32_t crc;
    bool     bad;
} wctx;

static void wr(wctx *w, const void *p, size_t n) {
    if (w->bad || n == 0) return;
    if (fwrite(p, 1, n, w->f) != n) w->bad = true;
    w->crc = crc_update(w->crc, p, n);
}

__attribute__((format(printf, 3, 4)))
static eos_status ckpt_fail(eos_net *net, eos_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(net->errmsg, sizeof net->errmsg, fmt, ap);
    va_end(ap);
    return st;
}

eos_status eos_net_save_checkpoint(eos_net *net, const char *path, const void *blob,
                                   size_t blob_size) {
    crc_init();
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.part", path) >= (int)sizeof tmp)
        return ckpt_fail(net, EOS_INVALID_ARG, "checkpoint path too long: %s", path);
    wctx w = {fopen(tmp, "wb"), 0, false};
    if (!w.f) return ckpt_fail(net, EOS_IO, "cannot create checkpoint '%s'", tmp);
    uint32_t n = (uint32_t)net->n_params_;
    uint64_t bs = blob_size;
    wr(&w, "EOSCKPT1", 8);
    wr(&w, &n, 4);
    wr(&w, &bs, 8);
    for (int i = 0; i < net->n_params_; i++) {
        tparam *t = &net->params_[i];
        const char *name = net->g.values[t->value].name;
        uint32_t nl = (uint32_t)strlen(name);
        uint64_t nf = (uint64_t)t->n;
        wr(&w, &nl, 4);
        wr(&w, name, nl);
        wr(&w, &nf, 8);
        wr(&w, t->w, (size_t)t->n * sizeof(float));
    }
    wr(&w, blob, blob_size);
    uint32_t crc = w.crc;
    if (!w.bad && fwrite(&crc, 1, 4, w.f) != 4) w.bad = true;
    if (fflush(w.f) != 0) w.bad = true;
    if (fclose(w.f) != 0) w.bad = true;
    if (w.bad || rename(tmp, path) != 0) {
        remove(tmp);
        return ckpt_fail(net, EOS_IO, "cannot write checkpoint '%s'", path);
    }
    return EOS_OK;
}

typedef struct rctx {
    const uint8_t *b;
    size_t         n, off;
} rctx;

static bool rd(rctx *r, void *dst, size_t n) {
    if (n > r->n - r->off) return false;
    memcpy(dst, r->b + r->off, n);
    r->off += n;
    return true;
}

eos_status eos_net_load_checkpoint(eos_net *net, const char *path, void **blob, size_t *blob_size) {
    crc_init();
    *blob = NULL;
    *blob_size = 0;
    uint8_t *buf = NULL;
    size_t fsz = 0;
    eos_err e = {0};
    if (eos__read_file(path, "checkpoint", (size_t)1 << 40, &buf, &fsz, &e) != EOS_OK)
        return ckpt_fail(net, e.status, "%s", e.msg);
    if (fsz < 24) {
        eos_free(buf);
        return ckpt_fail(net, EOS_PARSE, "'%s' is not an eosight checkpoint", path);
    }
    long sz = (long)fsz;
    eos_status st = EOS_OK;
    uint32_t crc;
    memcpy(&crc, buf + sz - 4, 4);
    if (memcmp(buf, "EOSCKPT1", 8) != 0)
        st = ckpt_fail(net, EOS_PARSE, "'%s' is not an eosight checkpoint", path);
    else if (crc_update(0, buf, (size_t)sz - 4) != crc)
        st = ckpt_fail(net, EOS_PARSE, "checkpoint '%s' is corrupt (CRC mismatch)", path);
    rctx r = {buf, (size_t)sz - 4, 8};
    uint32_t n = 0;
    uint64_t bs = 0;
    if (st == EOS_OK && (!rd(&r, &n, 4) || !rd(&r, &bs, 8)))
        st = ckpt_fail(net, EOS_PARSE, "checkpoint '%s' is truncated", path);
    if (st == EOS_OK && n != (uint32_t)net->n_params_) {
        snprintf(net->errmsg, sizeof net->errmsg, "checkpoint '%s' has %u tensors, the net %d",
                 path, n, net->n_params_);
        st = EOS_SHAPE;
    }
    /* validate everything before touching the weights */
    size_t start = r.off;
    for (int pass = 0; st == EOS_OK && pass < 2; pass++) {
        r.off = start;
        for (int i = 0; st == EOS_OK && i < net->n_params_; i++) {
            tparam *t = &net->params_[i];
            const char *name = net->g.values[t->value].name;
            uint32_t nl;
            uint64_t nf;
            char nm[1024];
            if (!rd(&r, &nl, 4) || nl >= sizeof nm || !rd(&r, nm, nl) || !rd(&r, &nf, 8)) {
                st = ckpt_fail(net, EOS_PARSE, "checkpoint '%s' is truncated", path);
                break;
            }
            nm[nl] = '\0';
            if (strcmp(nm, name) != 0 || nf != (uint64_t)t->n) {
                st = ckpt_fail(net, EOS_SHAPE, "checkpoint '%.200s': tensor %d is '%.100s' (%llu "
                               "floats), the net has '%.100s' (%lld)", path, i, nm,
                               (unsigned long long)nf, name, (long long)t->n);
                break;
            }
            if (nf * 4 > r.n - r.off) {
                st = ckpt_fail(net, EOS_PARSE, "checkpoint '%s' is truncated", path);
                break;
            }
            if (pass == 1) memcpy(t->w, r.b + r.off, (size_t)nf * 4);
            r.off += (size_t)nf * 4;
        }
        if (st == EOS_OK && pass == 0 && bs != r.n - r.off)
            st = ckpt_fail(net, EOS_PARSE, "checkpoint '%s' has a bad blob size", path);
    }
    if (st == EOS_OK && bs > 0) {
        *blob = eos_malloc((size_t)bs);
        if (!*blob) st = ckpt_fail(net, EOS_NOMEM, "out of memory reading '%s'", path);
        else {
            memcpy(*blob, r.b + r.off, (size_t)bs);
            *blob_size = (size_t)bs;
        }
    }
    eos_free(buf);
    return st;
}
