/*
 * src/cli/meta.c - `eosight meta MODEL [--set KEY=VALUE]... [--unset KEY]... [-o OUT]`: show or
 * edit the metadata of an ONNX model (src/onnx/onnx_meta.h). The graph and weights are copied
 * byte for byte; only metadata_props change.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/file.h"
#include "onnx/onnx_meta.h"

#define META_MAX_EDITS 64
#define META_MAX_BYTES ((size_t)4 << 30)

static int meta_usage(FILE *f, int code) {
    fprintf(f,
        "usage: eosight meta MODEL.onnx [--set KEY=VALUE]... [--unset KEY]... [-o OUT.onnx]\n\n"
        "Without edits, prints the model's metadata (KEY = VALUE per line). With --set/--unset,\n"
        "writes the model with those metadata entries changed (to OUT, or in place through a\n"
        "temporary file) and everything else byte for byte the same. The eosight keys are\n"
        "listed in docs/model-metadata.md, e.g. --set eosight.gsd_m=10 --set eosight.dtype=u8.\n");
    return code;
}

static int write_atomic(const char *path, const uint8_t *buf, size_t n) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.part", path);
    FILE *f = fopen(tmp, "wb");
    bool ok = f && fwrite(buf, 1, n, f) == n;
    ok = f && fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        remove(tmp);
        return cli_error(1, "cannot write %s", path);
    }
    return 0;
}

int cli_meta(int argc, char **argv) {
    const char *model = NULL, *out = NULL, *keys[META_MAX_EDITS], *vals[META_MAX_EDITS];
    char *owned[META_MAX_EDITS];
    int n = 0, rc = 0;
    bool help = false;
    for (int i = 1; i < argc && !rc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            help = true;
            break;
        }
        if (o[0] != '-') {
            if (model) rc = cli_error(2, "meta: one model at a time");
            model = o;
        } else if (i + 1 >= argc) {
            rc = cli_error(2, "meta: %s needs a value", o);
        } else if (!strcmp(o, "-o") || !strcmp(o, "--out")) {
            out = argv[++i];
        } else if ((!strcmp(o, "--set") || !strcmp(o, "--unset")) && n < META_MAX_EDITS) {
            const char *v = argv[++i], *eq = strchr(v, '=');
            bool set = o[2] == 's';
            if (set && (!eq || eq == v)) {
                rc = cli_error(2, "meta: --set wants KEY=VALUE, got '%s'", v);
                break;
            }
            if (!(owned[n] = eos_strdup(v))) {
                rc = cli_error(1, "out of memory");
                break;
            }
            if (set) owned[n][eq - v] = '\0';
            keys[n] = owned[n];
            vals[n] = set ? owned[n] + (eq - v) + 1 : NULL;
            n++;
        } else {
            rc = cli_error(2, "meta: unknown option '%s' (or more than %d edits)", o, META_MAX_EDITS);
        }
    }
    if (help) {
        rc = meta_usage(stdout, 0);
    } else if (!rc && !model) {
        meta_usage(stderr, 2);
        rc = cli_error(2, "meta: no model given");
    } else if (!rc && n == 0) {   /* show */
        eos_ctx *ctx;
        eos_model *m;
        if ((rc = cli_load_model(model, EOS_BACKEND_AUTO, &ctx, &m)) == 0) {
            for (int i = 0; i < eos_model_n_meta(m); i++) {
                const char *k, *v;
                if (eos_model_meta_at(m, i, &k, &v) == EOS_OK) printf("%s = %s\n", k, v);
            }
            eos_model_free(m);
            eos_ctx_free(ctx);
        }
    } else if (!rc) {
        uint8_t *buf = NULL, *res = NULL;
        size_t len = 0, rlen = 0;
        eos_err err;
        eos_err_clear(&err);
        eos_status st = eos__read_file(model, "model", META_MAX_BYTES, &buf, &len, &err);
        if (st == EOS_OK) st = eos__onnx_edit_meta(buf, len, keys, vals, n, &res, &rlen, &err);
        if (st != EOS_OK) rc = cli_error(1, "%s: %s", model, err.msg);
        else rc = write_atomic(out ? out : model, res, rlen);
        eos_free(buf);
        eos_free(res);
    }
    for (int i = 0; i < n; i++) eos_free(owned[i]);
    return rc;
}
