/*
 * bench/train/train_step.c - images/s of one training step (forward in training mode,
 * softmax cross-entropy, backward, SGD with momentum) for an eosight architecture, the
 * counterpart of ../shared/bench/torch_bench.sh --train. Prints one JSON line.
 *
 *   eos_bench_train --arch resnet18|resnet34|resnet50|unet|cloudnet [--stem imagenet|s2|s1]
 *                   [--size N] [--batch B] [--classes K] [--base N] [--threads T]
 *                   [--bf16 0|1] [--runs R] [--warmup W] [--min-time S]
 *
 * The bench models of ../shared/bench/models.py: resnet18_64 = --arch resnet18 --stem imagenet
 * --size 64 --classes 10; unet_256 = --arch unet --base 32 --size 256 --classes 6.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eosight/eosight.h"
#include "eosight/train.h"
#include "train/arch.h"

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    eos_arch_kind kind = EOS_ARCH_RESNET18;
    eos_stem stem = EOS_STEM_IMAGENET;
    int size = 64, batch = 32, classes = 10, base = 32, threads = 2, runs = 20, warmup = 3;
    int bf16 = -1;
    double min_time = 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (!strcmp(a, "--arch")) {
            if (eos_arch_parse(v, &kind) != EOS_OK) { fprintf(stderr, "bad --arch\n"); return 2; }
        } else if (!strcmp(a, "--stem")) {
            stem = !strcmp(v, "s2") ? EOS_STEM_S2 : !strcmp(v, "s1") ? EOS_STEM_S1 : EOS_STEM_IMAGENET;
        } else if (!strcmp(a, "--size")) size = atoi(v);
        else if (!strcmp(a, "--batch")) batch = atoi(v);
        else if (!strcmp(a, "--classes")) classes = atoi(v);
        else if (!strcmp(a, "--base")) base = atoi(v);
        else if (!strcmp(a, "--threads")) threads = atoi(v);
        else if (!strcmp(a, "--bf16")) bf16 = atoi(v);
        else if (!strcmp(a, "--runs")) runs = atoi(v);
        else if (!strcmp(a, "--warmup")) warmup = atoi(v);
        else if (!strcmp(a, "--min-time")) min_time = atof(v);
        else { fprintf(stderr, "unknown option %s\n", a); return 2; }
    }
    if (size < 8 || batch < 1 || runs < 1 || runs > 10000) { fprintf(stderr, "bad arguments\n"); return 2; }
    eos_arch ar;
    eos_arch_default(&ar, kind);
    ar.in_ch = 3;
    ar.n_classes = classes;
    ar.in_h = ar.in_w = size;
    ar.stem = stem;
    if (kind == EOS_ARCH_UNET) ar.base = base;
    eos_ctx *ctx = NULL;
    eos_ctx_create(NULL, &ctx);
    eos_net_params np = eos_net_default_params();
    np.n_threads = threads;
    if (bf16 >= 0) np.bf16 = bf16 != 0;
    eos_net *net = NULL;
    if (eos_net_build(ctx, &ar, 1, &np, &net) != EOS_OK) {
        fprintf(stderr, "build: %s\n", eos_ctx_errmsg(ctx));
        return 1;
    }
    int64_t nx = (int64_t)batch * 3 * size * size;
    float *x = eos_malloc(sizeof(float) * (size_t)nx);
    for (int64_t i = 0; i < nx; i++) x[i] = (float)((i * 7919) % 1000) / 500.0f - 1.0f;
    int np_ = eos_net_n_params(net);
    eos_param_ref *refs = eos_malloc(sizeof *refs * (size_t)np_);
    eos_net_param_refs(net, refs);
    eos_optim_params op;
    eos_optim_params_default(&op, EOS_OPTIM_SGD);
    eos_optim *opt = NULL;
    eos_optim_create(&op, refs, np_, &opt);
    eos_loss_params lp;
    eos_loss_params_default(&lp, EOS_LOSS_CE);
    int64_t rows_max = (int64_t)batch * size * size;
    float *dl = eos_malloc(sizeof(float) * (size_t)(rows_max * classes));
    int32_t *y = eos_malloc(sizeof(int32_t) * (size_t)rows_max);
    for (int64_t i = 0; i < rows_max; i++) y[i] = (int32_t)(i % classes);
    double *t = eos_malloc(sizeof(double) * 100000);
    int n = 0;
    double t_start = 0;
    for (int it = 0; n < 100000; it++) {
        double t0 = now_s();
        const float *lg;
        int64_t rows;
        double loss;
        if (eos_net_forward(net, x, batch, size, size, true, &lg, &rows) != EOS_OK ||
            eos_loss_compute(&lp, lg, rows, classes, y, NULL, &loss, dl) != EOS_OK ||
            eos_net_backward(net, dl) != EOS_OK || eos_optim_step(opt, 1e-3f, NULL) != EOS_OK) {
            fprintf(stderr, "step failed: %s\n", eos_net_errmsg(net));
            return 1;
        }
        double dt = now_s() - t0;
        if (it == warmup) t_start = now_s();
        if (it >= warmup) t[n++] = dt;
        if (n >= runs && now_s() - t_start >= min_time) break;
    }
    qsort(t, (size_t)n, sizeof *t, cmp_d);
    double med = t[n / 2];
    double macs = eos__arch_macs(&ar);
    printf("{\"engine\":\"eosight\",\"task\":\"train_sgd\",\"arch\":\"%s\",\"size\":%d,\"batch\":%d,"
           "\"threads\":%d,\"bf16\":%s,\"runs\":%d,\"median_ms\":%.3f,\"img_per_s\":%.2f,"
           "\"gflops\":%.1f}\n", eos_arch_name(kind), size, batch, threads,
           np.bf16 ? "true" : "false", n, med * 1e3, batch / med,
           6.0 * macs * batch / med / 1e9);
    eos_free(t); eos_free(y); eos_free(dl); eos_free(refs); eos_free(x);
    eos_optim_free(opt);
    eos_net_free(net);
    eos_ctx_free(ctx);
    return 0;
}
