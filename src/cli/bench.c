/*
 * src/cli/bench.c - `eosight bench MODEL.onnx --batch N --threads T [--shape CxHxW]`
 *
 * Times eos_session_run on random inputs (uniform in [-1, 1), fixed seed) and prints one JSON
 * line: model, backend, batch, threads, shape, runs, median_ms, p90_ms, min_ms, mean_ms,
 * img_per_s (= batch / median), plan_ms (first run: planning + primitive creation) and
 * arena_bytes. Like the peer scripts in ../shared/bench, it runs at least --runs timed runs
 * after --warmup and keeps going until --min-time seconds have passed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"

#define MAX_RUNS 100000

static void help(FILE *f) {
    fprintf(f,
            "usage: eosight bench MODEL.onnx [--batch N] [--threads T] [--shape [N]xCxHxW]\n"
            "                     [--runs R] [--warmup W] [--min-time S] [--backend ref|dnnl]\n\n"
            "Prints one JSON line with median/p90 latency of one run and images/s (batch/median).\n"
            "--shape gives the first input's shape per image (CxHxW) or whole (NxCxHxW, N is replaced\n"
            "by --batch); by default the model's declared shape with its batch axis set to --batch.\n"
            "Defaults: --batch 1, --threads = all CPUs, --runs 30, --warmup 5, --min-time 0.\n");
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void fill(float *x, int64_t n, uint64_t seed) {
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (int64_t i = 0; i < n; i++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        x[i] = (float)((s >> 11) * (2.0 / 9007199254740992.0) - 1.0);
    }
}

int cli_bench(int argc, char **argv) {
    const char *model_path = NULL, *shape_arg = NULL;
    long batch = 1, threads = 0, runs = 30, warmup = 5;
    double min_time = 0;
    eos_backend_kind be = EOS_BACKEND_AUTO;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { help(stdout); return 0; }
        if (a[0] == '-' && i + 1 >= argc) return cli_error(2, "%s needs a value (see --help)", a);
        if (!strcmp(a, "--batch")) {
            if (!cli_parse_int(argv[++i], 1, 1 << 20, &batch)) return cli_error(2, "bad --batch '%s'", argv[i]);
        } else if (!strcmp(a, "--threads")) {
            if (!cli_parse_int(argv[++i], 1, 1024, &threads)) return cli_error(2, "bad --threads '%s'", argv[i]);
        } else if (!strcmp(a, "--runs")) {
            if (!cli_parse_int(argv[++i], 1, MAX_RUNS, &runs)) return cli_error(2, "bad --runs '%s'", argv[i]);
        } else if (!strcmp(a, "--warmup")) {
            if (!cli_parse_int(argv[++i], 0, 100000, &warmup)) return cli_error(2, "bad --warmup '%s'", argv[i]);
        } else if (!strcmp(a, "--min-time")) {
            char *end;
            min_time = strtod(argv[++i], &end);
            if (*end || min_time < 0 || min_time > 3600) return cli_error(2, "bad --min-time '%s'", argv[i]);
        } else if (!strcmp(a, "--shape")) {
            shape_arg = argv[++i];
        } else if (!strcmp(a, "--backend")) {
            if (!cli_parse_backend(argv[++i], &be)) return cli_error(2, "unknown back-end '%s'", argv[i]);
        } else if (a[0] == '-') {
            return cli_error(2, "unknown option '%s' (see eosight bench --help)", a);
        } else if (!model_path) {
            model_path = a;
        } else {
            return cli_error(2, "unexpected argument '%s'", a);
        }
    }
    if (!model_path) { help(stderr); return 2; }
    eos_ctx *ctx;
    eos_model *m;
    int rc = cli_load_model(model_path, be, &ctx, &m);
    if (rc) return rc;
    int n = eos_model_n_inputs(m);
    eos_tensor *in = calloc((size_t)n + 1, sizeof *in);
    double *times = malloc(MAX_RUNS * sizeof *times);
    eos_session *s = NULL;
    rc = 1;
    if (!in || !times) { cli_error(1, "out of memory"); goto done; }
    for (int i = 0; i < n; i++) {
        eos_io_info io;
        eos_model_input_info(m, i, &io);
        in[i].dtype = EOS_DTYPE_F32;
        in[i].ndim = io.ndim;
        memcpy(in[i].dims, io.dims, sizeof io.dims);
        if (i == 0 && shape_arg) {
            int64_t d[EOS_MAX_DIMS];
            int r = cli_parse_shape(shape_arg, d, EOS_MAX_DIMS);
            if (r < 1) { cli_error(2, "bad --shape '%s'", shape_arg); rc = 2; goto done; }
            if (io.ndim >= 0 && r == io.ndim - 1) {
                in[i].ndim = r + 1;
                memcpy(in[i].dims + 1, d, (size_t)r * sizeof d[0]);
            } else {
                in[i].ndim = r;
                memcpy(in[i].dims, d, (size_t)r * sizeof d[0]);
            }
        }
        if (in[i].ndim > 0) in[i].dims[0] = batch;
        for (int d = 0; d < in[i].ndim; d++)
            if (in[i].dims[d] < 0) {
                cli_error(2, "input '%s' has an unknown axis %d: give --shape", io.name, d);
                rc = 2;
                goto done;
            }
        int64_t cnt = eos_tensor_numel(&in[i]);
        if (cnt < 0 || cnt > ((int64_t)1 << 32)) { cli_error(2, "input '%s' is too large", io.name); goto done; }
        in[i].data = malloc((size_t)(cnt ? cnt : 1) * sizeof(float));
        if (!in[i].data) { cli_error(1, "out of memory"); goto done; }
        fill(in[i].data, cnt, 42 + (uint64_t)i);
    }
    eos_session_params sp = eos_session_default_params();
    sp.n_threads = (int)threads;
    if (eos_session_create(m, &sp, &s) != EOS_OK) { cli_error(1, "cannot create a session"); goto done; }
    double t_plan = now_ms();
    eos_status st = eos_session_run(s, in, n);
    t_plan = now_ms() - t_plan;
    if (st) { cli_error(1, "%s (%s)", eos_session_errmsg(s), eos_status_name(st)); goto done; }
    for (long w = 0; w < warmup; w++)
        if ((st = eos_session_run(s, in, n))) { cli_error(1, "%s", eos_session_errmsg(s)); goto done; }
    int n_runs = 0;
    double t_start = now_ms();
    while (n_runs < MAX_RUNS) {
        double t0 = now_ms();
        if ((st = eos_session_run(s, in, n))) { cli_error(1, "%s", eos_session_errmsg(s)); goto done; }
        times[n_runs++] = now_ms() - t0;
        if (n_runs >= runs && now_ms() - t_start >= min_time * 1e3) break;
    }
    double total = now_ms() - t_start;
    qsort(times, (size_t)n_runs, sizeof *times, cmp_double);
    double med = n_runs % 2 ? times[n_runs / 2] : 0.5 * (times[n_runs / 2 - 1] + times[n_runs / 2]);
    int i90 = (int)(0.9 * n_runs);
    if (i90 >= n_runs) i90 = n_runs - 1;
    const char *base = strrchr(model_path, '/');
    char sh[128];
    eos_shape_str(n ? in[0].ndim : 0, n ? in[0].dims : NULL, sh, sizeof sh);
    printf("{\"tool\":\"eosight\",\"model\":\"%s\",\"backend\":\"%s\",\"batch\":%ld,\"threads\":%d,"
           "\"shape\":\"%s\",\"runs\":%d,\"warmup\":%ld,\"median_ms\":%.3f,\"p90_ms\":%.3f,\"min_ms\":%.3f,"
           "\"mean_ms\":%.3f,\"img_per_s\":%.2f,\"plan_ms\":%.1f,\"arena_bytes\":%zu}\n",
           base ? base + 1 : model_path, eos_backend_name(eos_session_backend(s)), batch,
           sp.n_threads > 0 ? sp.n_threads : 0, sh, n_runs, warmup, med, times[i90], times[0],
           total / n_runs, batch * 1000.0 / med, t_plan, eos_session_arena_bytes(s));
    rc = 0;
done:
    for (int i = 0; in && i < n; i++) free(in[i].data);
    free(in);
    free(times);
    eos_session_free(s);
    eos_model_free(m);
    eos_ctx_free(ctx);
    return rc;
}
