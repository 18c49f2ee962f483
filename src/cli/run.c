/*
 * src/cli/run.c - `eosight run MODEL.onnx --input [NAME=]x.npy ... --output-dir DIR`
 *
 * Inputs are matched to graph inputs by name (NAME=file) or, without a name, in graph order.
 * Every graph output is written as DIR/<output name>.npy (characters outside [A-Za-z0-9._-] in
 * the name become '_').
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"

#define MAX_INPUTS 64

static void help(FILE *f) {
    fprintf(f,
            "usage: eosight run MODEL.onnx --input [NAME=]FILE.npy [--input ...] --output-dir DIR\n"
            "                   [--backend ref|dnnl] [--threads N] [--quiet]\n\n"
            "Runs the model once. One --input per graph input, by name or in graph order; inputs of\n"
            "another element type than the model declares are converted. Every graph output is\n"
            "written as DIR/<output name>.npy and listed on stdout with its shape.\n");
}

static void safe_name(const char *in, char *out, size_t cap) {
    size_t n = 0;
    for (; *in && n + 1 < cap; in++) {
        char c = *in;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
        out[n++] = ok ? c : '_';
    }
    out[n] = '\0';
    if (!n || !strcmp(out, ".") || !strcmp(out, "..")) snprintf(out, cap, "output");
}

int cli_run(int argc, char **argv) {
    const char *model_path = NULL, *out_dir = NULL;
    const char *in_arg[MAX_INPUTS];
    int n_in_arg = 0, quiet = 0;
    long threads = 0;
    eos_backend_kind be = EOS_BACKEND_AUTO;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { help(stdout); return 0; }
        if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) { quiet = 1; continue; }
        if (a[0] == '-' && i + 1 >= argc) return cli_error(2, "%s needs a value (see --help)", a);
        if (!strcmp(a, "--input") || !strcmp(a, "-i")) {
            if (n_in_arg >= MAX_INPUTS) return cli_error(2, "at most %d inputs", MAX_INPUTS);
            in_arg[n_in_arg++] = argv[++i];
        } else if (!strcmp(a, "--output-dir") || !strcmp(a, "-o")) {
            out_dir = argv[++i];
        } else if (!strcmp(a, "--backend")) {
            if (!cli_parse_backend(argv[++i], &be)) return cli_error(2, "unknown back-end '%s'", argv[i]);
        } else if (!strcmp(a, "--threads")) {
            if (!cli_parse_int(argv[++i], 1, 1024, &threads)) return cli_error(2, "bad --threads '%s'", argv[i]);
        } else if (a[0] == '-') {
            return cli_error(2, "unknown option '%s' (see eosight run --help)", a);
        } else if (!model_path) {
            model_path = a;
        } else {
            return cli_error(2, "unexpected argument '%s'", a);
        }
    }
    if (!model_path || !out_dir) {
        help(stderr);
        return 2;
    }
    eos_ctx *ctx;
    eos_model *m;
    int rc = cli_load_model(model_path, be, &ctx, &m);
    if (rc) return rc;
    int n = eos_model_n_inputs(m);
    eos_tensor inputs[MAX_INPUTS];
    memset(inputs, 0, sizeof inputs);
    eos_session *s = NULL;
    rc = 1;
    if (n > MAX_INPUTS) { cli_error(1, "model has more than %d inputs", MAX_INPUTS); goto done; }
    if (n_in_arg != n) {
        cli_error(2, "the model has %d input%s, %d --input given", n, n == 1 ? "" : "s", n_in_arg);
        for (int i = 0; i < n; i++) {
            eos_io_info io;
            char sh[128];
            eos_model_input_info(m, i, &io);
            fprintf(stderr, "  input %d: %s %s %s\n", i, io.name, eos_dtype_name(io.dtype),
                    eos_shape_str(io.ndim, io.dims, sh, sizeof sh));
        }
        rc = 2;
        goto done;
    }
    for (int k = 0; k < n_in_arg; k++) {
        const char *arg = in_arg[k], *eq = strchr(arg, '='), *file = eq ? eq + 1 : arg;
        int idx = k;
        if (eq) {
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)(eq - arg), arg);
            idx = eos_model_input_index(m, name);
            if (idx < 0) { cli_error(2, "the model has no input named '%s'", name); rc = 2; goto done; }
        }
        if (inputs[idx].data) { cli_error(2, "input %d given twice", idx); rc = 2; goto done; }
        char msg[512];
        if (eos_npy_read(file, &inputs[idx], msg, sizeof msg) != EOS_OK) { cli_error(1, "%s", msg); goto done; }
    }
    eos_session_params sp = eos_session_default_params();
    sp.n_threads = (int)threads;
    if (eos_session_create(m, &sp, &s) != EOS_OK) { cli_error(1, "cannot create a session"); goto done; }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    eos_status st = eos_session_run(s, inputs, n);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (st) { cli_error(1, "%s (%s)", eos_session_errmsg(s), eos_status_name(st)); goto done; }
    if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
        cli_error(1, "cannot create '%s': %s", out_dir, strerror(errno));
        goto done;
    }
    for (int i = 0; i < eos_model_n_outputs(m); i++) {
        eos_io_info io;
        eos_tensor y;
        eos_model_output_info(m, i, &io);
        eos_session_output(s, i, &y);
        char name[256], path[4096], msg[512], sh[128];
        safe_name(io.name, name, sizeof name);
        snprintf(path, sizeof path, "%s/%s.npy", out_dir, name);
        if (eos_npy_write(path, &y, msg, sizeof msg) != EOS_OK) { cli_error(1, "%s", msg); goto done; }
        if (!quiet)
            printf("%s %s %s -> %s\n", io.name, eos_dtype_name(y.dtype), eos_shape_str(y.ndim, y.dims, sh, sizeof sh), path);
    }
    if (!quiet)
        fprintf(stderr, "eosight: ran on %s in %.1f ms (first run includes planning)\n",
                eos_backend_name(eos_session_backend(s)),
                (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
    rc = 0;
done:
    for (int i = 0; i < MAX_INPUTS; i++) eos_free(inputs[i].data);
    eos_session_free(s);
    eos_model_free(m);
    eos_ctx_free(ctx);
    return rc;
}
