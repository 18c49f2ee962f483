/*
 * src/train/arch.c - the model builders of arch.h: ResNet-18/34/50, U-Net and CloudNet as
 * graphs (built with src/graph/build.h), their Kaiming initialisation, and their MAC counts.
 *
 * Every builder walks the network once through small layer helpers that add the nodes and, at
 * the same time, follow the channel count and the spatial size the recorded input size
 * (in_h x in_w) would have at that point, adding each Conv / ConvTranspose / Gemm's dense
 * multiply-accumulates. eos__arch_macs runs the same walk with parameters left without data,
 * so the count can never drift from the topology that is built.
 *
 * Names follow PyTorch's module paths (torchvision's ResNet, the U-Net of
 * ../shared/bench/models.py), so parameter names equal PyTorch state_dict keys
 * ("layer1.0.conv1.weight", "downs.0.1.running_var"); nodes without parameters get names of
 * their own ("layer1.0.add", "pool2", "cat0").
 *
 * Initialisation runs after the walk, node by node: each parameter tensor draws from its own
 * generator eos_rng_derive(seed, hash of its name, 0), so its bits depend only on the seed,
 * its name and its shape: another class count or a dropout layer leaves the backbone as it
 * was.
 */
#include "train/arch.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "graph/build.h"

/* Ranges accepted for the fields of eos_arch. */
#define MAX_IN_CH     4096
#define MAX_CLASSES   1000000
#define MAX_WIDTH     1024
#define MAX_SIZE_PX   65536
#define MAX_DEPTH     8

/* ------------------------------------------------------------------ public names and defaults */

static const char *const k_names[] = { "resnet18", "resnet34", "resnet50", "unet", "cloudnet" };
#define N_KINDS ((int)(sizeof k_names / sizeof k_names[0]))

void eos_arch_default(eos_arch *a, eos_arch_kind kind) {
    memset(a, 0, sizeof *a);
    a->kind = kind;
    a->in_ch = 3;
    a->n_classes = 10;
    a->in_h = a->in_w = 64;
    a->stem = EOS_STEM_IMAGENET;
    a->width = kind == EOS_ARCH_CLOUDNET ? 16 : 64;
    a->dropout = 0.0f;
    a->zero_init_residual = false;
    a->depth = 4;
    a->base = 64;
    a->const_width = false;
    a->bilinear = false;
}

const char *eos_arch_name(eos_arch_kind k) {
    return (int)k >= 0 && (int)k < N_KINDS ? k_names[k] : "?";
}

eos_status eos_arch_parse(const char *s, eos_arch_kind *out) {
    for (int i = 0; s && i < N_KINDS; i++)
        if (!strcasecmp(s, k_names[i])) {
            *out = (eos_arch_kind)i;
            return EOS_OK;
        }
    return EOS_INVALID_ARG;
}

/* ------------------------------------------------------------------ validation */

static eos_status check_range(const char *what, long long v, long long lo, long long hi,
                              eos_err *err) {
    if (v >= lo && v <= hi) return EOS_OK;
    return eos_err_set(err, EOS_INVALID_ARG, "architecture: %s is %lld, must be %lld..%lld", what,
                       v, lo, hi);
}

static eos_status check_arch(const eos_arch *a, eos_err *err) {
    if (!a) return eos_err_set(err, EOS_INVALID_ARG, "architecture: NULL");
    if ((int)a->kind < 0 || (int)a->kind >= N_KINDS)
        return eos_err_set(err, EOS_INVALID_ARG, "architecture: unknown kind %d", (int)a->kind);
    EOS_TRY(check_range("in_ch", a->in_ch, 1, MAX_IN_CH, err));
    EOS_TRY(check_range("n_classes", a->n_classes, 1, MAX_CLASSES, err));
    EOS_TRY(check_range("in_h", a->in_h, 1, MAX_SIZE_PX, err));
    EOS_TRY(check_range("in_w", a->in_w, 1, MAX_SIZE_PX, err));
    if (a->kind == EOS_ARCH_UNET) {
        EOS_TRY(check_range("depth", a->depth, 1, MAX_DEPTH, err));
        long long top = a->const_width ? a->base : (long long)a->base << a->depth;
        EOS_TRY(check_range("base", a->base, 1, MAX_WIDTH, err));
        EOS_TRY(check_range("base << depth (bottleneck channels)", top, 1, MAX_WIDTH * 16, err));
        int64_t m = (int64_t)1 << a->depth;
        if (a->in_h % m || a->in_w % m)
            return eos_err_set(err, EOS_INVALID_ARG, "architecture: a U-Net of depth %d needs in_h "
                               "and in_w divisible by %lld, got %dx%d", a->depth, (long long)m,
                               a->in_h, a->in_w);
        return EOS_OK;
    }
    EOS_TRY(check_range("width", a->width, 1, MAX_WIDTH, err));
    if ((int)a->stem < EOS_STEM_IMAGENET || (int)a->stem > EOS_STEM_S1)
        return eos_err_set(err, EOS_INVALID_ARG, "architecture: unknown stem %d", (int)a->stem);
    if (!(a->dropout >= 0.0f && a->dropout < 1.0f))
        return eos_err_set(err, EOS_INVALID_ARG, "architecture: dropout %g must be in [0, 1)",
                           (double)a->dropout);
    return EOS_OK;
}

/* ------------------------------------------------------------------ layer walk */

/* A feature map during the walk: its value, channels, and spatial size at in_h x in_w. */
typedef struct feat {
    int     v;
    int64_t c, h, w;
} feat;

typedef struct walk {
    eos__gb         gb;
    const eos_arch *a;
    double          macs;
} walk;

static int64_t conv_out(int64_t n, int k, int s, int p) {
    int64_t o = (n + 2 * p - k) / s + 1;
    return o > 0 ? o : 0;
}

static feat conv(walk *w, const char *name, feat x, int64_t c_out, int k, int s, int p, bool bias) {
    feat y = { eos__gb_conv(&w->gb, name, x.v, (int)x.c, (int)c_out, k, s, p, bias), c_out,
               conv_out(x.h, k, s, p), conv_out(x.w, k, s, p) };
    w->macs += (double)c_out * (double)(y.h * y.w) * (double)x.c * k * k;
    return y;
}

/* 2x2 stride-2 transposed conv (with bias): every input pixel scatters a k x k x c_out patch. */
static feat up_transpose(walk *w, const char *name, feat x, int64_t c_out) {
    feat y = { eos__gb_conv_transpose(&w->gb, name, x.v, (int)x.c, (int)c_out, 2, 2, true), c_out,
               x.h * 2, x.w * 2 };
    w->macs += (double)x.c * (double)(x.h * x.w) * (double)c_out * 4;
    return y;
}

static feat bn(walk *w, const char *name, feat x) {
    x.v = eos__gb_bn(&w->gb, name, x.v, (int)x.c);
    return x;
}

static feat relu(walk *w, const char *name, feat x) {
    x.v = eos__gb_relu(&w->gb, name, x.v);
    return x;
}

/* Zero the scale of BN node `name` (zero_init_residual). */
static void zero_bn_scale(walk *w, const char *name) {
    const char *pn = eos__gb_fmt(&w->gb, "%s.weight", name);
    int v = pn ? eos_graph_find_value(w->gb.g, pn) : -1;
    if (v < 0 || !w->gb.g->values[v].data) return;
    memset(w->gb.g->values[v].data, 0, (size_t)w->gb.g->values[v].dims[0] * sizeof(float));
}

/* GAP -> Flatten -> [Dropout] -> Gemm "fc" writing "logits". */
static feat classifier(walk *w, feat x) {
    x.v = eos__gb_global_avg_pool(&w->gb, "avgpool", x.v);
    x.v = eos__gb_flatten(&w->gb, "flatten", x.v, 1);
    if (w->a->dropout > 0.0f) x.v = eos__gb_dropout(&w->gb, "dropout", x.v, w->a->dropout);
    eos__gb_name_next(&w->gb, "logits");
    x.v = eos__gb_gemm(&w->gb, "fc", x.v, (int)x.c, w->a->n_classes);
    w->macs += (double)x.c * w->a->n_classes;
    x.c = w->a->n_classes;
    x.h = x.w = 1;
    return x;
}

/* ------------------------------------------------------------------ ResNet */

/* torchvision's BasicBlock (bottleneck false) or Bottleneck (stride on the 3x3 conv), main
 * path first, then the 1x1 conv + BN downsample when the shape changes. */
static feat res_block(walk *w, const char *pfx, feat x, int64_t planes, int stride,
                      bool bottleneck) {
    eos__gb *b = &w->gb;
    int64_t c_out = bottleneck ? planes * 4 : planes;
    const char *last_bn = eos__gb_fmt(b, "%s.%s", pfx, bottleneck ? "bn3" : "bn2");
    feat y;
    if (bottleneck) {
        y = conv(w, eos__gb_fmt(b, "%s.conv1", pfx), x, planes, 1, 1, 0, false);
        y = relu(w, eos__gb_fmt(b, "%s.relu1", pfx), bn(w, eos__gb_fmt(b, "%s.bn1", pfx), y));
        y = conv(w, eos__gb_fmt(b, "%s.conv2", pfx), y, planes, 3, stride, 1, false);
        y = relu(w, eos__gb_fmt(b, "%s.relu2", pfx), bn(w, eos__gb_fmt(b, "%s.bn2", pfx), y));
        y = bn(w, last_bn, conv(w, eos__gb_fmt(b, "%s.conv3", pfx), y, c_out, 1, 1, 0, false));
    } else {
        y = conv(w, eos__gb_fmt(b, "%s.conv1", pfx), x, planes, 3, stride, 1, false);
        y = relu(w, eos__gb_fmt(b, "%s.relu1", pfx), bn(w, eos__gb_fmt(b, "%s.bn1", pfx), y));
        y = bn(w, last_bn, conv(w, eos__gb_fmt(b, "%s.conv2", pfx), y, c_out, 3, 1, 1, false));
    }
    if (w->a->zero_init_residual) zero_bn_scale(w, last_bn);
    feat idt = x;
    if (stride != 1 || x.c != c_out) {
        idt = conv(w, eos__gb_fmt(b, "%s.downsample.0", pfx), x, c_out, 1, stride, 0, false);
        idt = bn(w, eos__gb_fmt(b, "%s.downsample.1", pfx), idt);
    }
    y.v = eos__gb_add(b, eos__gb_fmt(b, "%s.add", pfx), y.v, idt.v);
    return relu(w, eos__gb_fmt(b, "%s.relu", pfx), y);
}

static feat resnet_stem(walk *w, feat x) {
    int64_t c = w->a->width;
    switch (w->a->stem) {
    case EOS_STEM_IMAGENET:
        x = relu(w, "relu", bn(w, "bn1", conv(w, "conv1", x, c, 7, 2, 3, false)));
        x.v = eos__gb_maxpool(&w->gb, "maxpool", x.v, 3, 2, 1);
        x.h = conv_out(x.h, 3, 2, 1);
        x.w = conv_out(x.w, 3, 2, 1);
        return x;
    case EOS_STEM_S2:
        return relu(w, "relu", bn(w, "bn1", conv(w, "conv1", x, c, 3, 2, 1, false)));
    case EOS_STEM_S1:
        return relu(w, "relu", bn(w, "bn1", conv(w, "conv1", x, c, 3, 1, 1, false)));
    }
    return x;
}

static void build_resnet(walk *w, feat x) {
    static const int blocks[3][4] = { { 2, 2, 2, 2 }, { 3, 4, 6, 3 }, { 3, 4, 6, 3 } };
    int d = w->a->kind == EOS_ARCH_RESNET18 ? 0 : w->a->kind == EOS_ARCH_RESNET34 ? 1 : 2;
    bool bottleneck = w->a->kind == EOS_ARCH_RESNET50;
    x = resnet_stem(w, x);
    for (int l = 0; l < 4; l++)
        for (int i = 0; i < blocks[d][l]; i++) {
            const char *pfx = eos__gb_fmt(&w->gb, "layer%d.%d", l + 1, i);
            int stride = i == 0 && l > 0 ? 2 : 1;
            x = res_block(w, pfx, x, (int64_t)w->a->width << l, stride, bottleneck);
        }
    x = classifier(w, x);
    eos__gb_output(&w->gb, x.v, EOS_DTYPE_F32, 2, (const int64_t[]){ -1, w->a->n_classes });
}

/* ------------------------------------------------------------------ CloudNet */

static void build_cloudnet(walk *w, feat x) {
    for (int s = 0; s < 4; s++) {
        int64_t c = (int64_t)w->a->width << s;
        x = conv(w, eos__gb_fmt(&w->gb, "features.%d.0", s), x, c, 3, 2, 1, false);
        x = bn(w, eos__gb_fmt(&w->gb, "features.%d.1", s), x);
        x = relu(w, eos__gb_fmt(&w->gb, "features.%d.2", s), x);
    }
    x = classifier(w, x);
    eos__gb_output(&w->gb, x.v, EOS_DTYPE_F32, 2, (const int64_t[]){ -1, w->a->n_classes });
}

/* ------------------------------------------------------------------ U-Net */

/* (3x3 conv without bias, BN, ReLU) twice: "<pfx>.0" .. "<pfx>.5" as models.py's DoubleConv. */
static feat double_conv(walk *w, const char *pfx, feat x, int64_t c) {
    eos__gb *b = &w->gb;
    x = conv(w, eos__gb_fmt(b, "%s.0", pfx), x, c, 3, 1, 1, false);
    x = relu(w, eos__gb_fmt(b, "%s.2", pfx), bn(w, eos__gb_fmt(b, "%s.1", pfx), x));
    x = conv(w, eos__gb_fmt(b, "%s.3", pfx), x, c, 3, 1, 1, false);
    return relu(w, eos__gb_fmt(b, "%s.5", pfx), bn(w, eos__gb_fmt(b, "%s.4", pfx), x));
}

/* Up-sampling from level l+1 to l: "ups.<i>" transposed conv, or "ups.<i>.0" bilinear Resize
 * x2 and "ups.<i>.1" 1x1 conv with bias. */
static feat up(walk *w, int i, feat x, int64_t c_out) {
    eos__gb *b = &w->gb;
    if (!w->a->bilinear) return up_transpose(w, eos__gb_fmt(b, "ups.%d", i), x, c_out);
    x.v = eos__gb_resize(b, eos__gb_fmt(b, "ups.%d.0", i), x.v, 2.0f, "linear");
    x.h *= 2;
    x.w *= 2;
    return conv(w, eos__gb_fmt(b, "ups.%d.1", i), x, c_out, 1, 1, 0, true);
}

static void build_unet(walk *w, feat x) {
    eos__gb *b = &w->gb;
    const eos_arch *a = w->a;
    int64_t f[MAX_DEPTH + 1];
    feat skip[MAX_DEPTH];
    for (int l = 0; l <= a->depth; l++) f[l] = a->const_width ? a->base : (int64_t)a->base << l;
    for (int l = 0; l < a->depth; l++) {
        x = double_conv(w, eos__gb_fmt(b, "downs.%d", l), x, f[l]);
        skip[l] = x;
        x.v = eos__gb_maxpool(b, eos__gb_fmt(b, "pool%d", l), x.v, 2, 2, 0);
        x.h /= 2;
        x.w /= 2;
    }
    x = double_conv(w, "bottleneck", x, f[a->depth]);
    for (int i = 0; i < a->depth; i++) {
        int l = a->depth - 1 - i;
        feat u = up(w, i, x, f[l]);
        x.v = eos__gb_concat(b, eos__gb_fmt(b, "cat%d", i), (const int[]){ u.v, skip[l].v }, 2, 1);
        x.c = u.c + skip[l].c;
        x.h = u.h;
        x.w = u.w;
        x = double_conv(w, eos__gb_fmt(b, "dec.%d", i), x, f[l]);
    }
    eos__gb_name_next(b, "logits");
    x = conv(w, "head", x, a->n_classes, 1, 1, 0, true);
    eos__gb_output(b, x.v, EOS_DTYPE_F32, 4, (const int64_t[]){ -1, a->n_classes, -1, -1 });
}

/* ------------------------------------------------------------------ walk and init */

/* Build a into g (with data unless no_data); *macs gets the dense MAC count. */
static eos_status walk_arch(const eos_arch *a, bool no_data, eos_graph *g, double *macs,
                            eos_err *err) {
    walk w;
    memset(&w, 0, sizeof w);
    eos__gb_init(&w.gb, g, 17, err);
    w.gb.no_data = no_data;
    w.a = a;
    const int64_t in_dims[4] = { -1, a->in_ch, -1, -1 };
    int in = eos__gb_input(&w.gb, "input", EOS_DTYPE_F32, 4, in_dims);
    feat x = { in, a->in_ch, a->in_h, a->in_w };
    switch (a->kind) {
    case EOS_ARCH_RESNET18: case EOS_ARCH_RESNET34: case EOS_ARCH_RESNET50:
        build_resnet(&w, x);
        break;
    case EOS_ARCH_UNET:
        build_unet(&w, x);
        break;
    case EOS_ARCH_CLOUDNET:
        build_cloudnet(&w, x);
        break;
    }
    char size[48];
    snprintf(size, sizeof size, "%d,%d", a->in_h, a->in_w);
    eos__gb_meta(&w.gb, "eosight.input_size", size);
    *macs = w.macs;
    return w.gb.st;
}

/* The generator of parameter v: (seed, FNV-1a hash of its name). */
static void param_rng(eos_rng *r, const eos_value *v, uint64_t seed) {
    uint64_t h = 1469598103934665603ull;
    for (const char *c = v->name; *c; c++) h = (h ^ (unsigned char)*c) * 1099511628211ull;
    eos_rng_derive(r, seed, h, 0);
}

/* Kaiming normal, fan_out mode, ReLU gain: N(0, 2 / fan_out). */
static void init_kaiming(eos_value *v, int64_t fan_out, uint64_t seed) {
    eos_rng r;
    param_rng(&r, v, seed);
    float std = (float)sqrt(2.0 / (double)fan_out), *d = v->data;
    int64_t n = eos_value_numel(v);
    for (int64_t i = 0; i < n; i++) d[i] = std * eos_rng_normal(&r);
}

static void init_uniform(eos_value *v, float bound, uint64_t seed) {
    eos_rng r;
    param_rng(&r, v, seed);
    float *d = v->data;
    int64_t n = eos_value_numel(v);
    for (int64_t i = 0; i < n; i++) d[i] = eos_rng_range(&r, -bound, bound);
}

static void init_params(eos_graph *g, uint64_t seed) {
    for (int i = 0; i < g->n_nodes; i++) {
        const eos_node *n = &g->nodes[i];
        eos_value *wt = n->n_in > 1 && n->in[1] >= 0 ? &g->values[n->in[1]] : NULL;
        if (n->op == EOS_OP_CONV)            /* [Cout, Cin, k, k]: fan_out = Cout k k */
            init_kaiming(wt, wt->dims[0] * wt->dims[2] * wt->dims[3], seed);
        else if (n->op == EOS_OP_CONV_TRANSPOSE)   /* [Cin, Cout, k, k]: fan_out = Cout k k */
            init_kaiming(wt, wt->dims[1] * wt->dims[2] * wt->dims[3], seed);
        else if (n->op == EOS_OP_GEMM) {     /* [N, K]: U(-1/sqrt(K), 1/sqrt(K)) for W and bias */
            float bound = (float)(1.0 / sqrt((double)wt->dims[1]));
            init_uniform(wt, bound, seed);
            init_uniform(&g->values[n->in[2]], bound, seed);
        }
    }
}

eos_status eos__arch_build(const eos_arch *a, uint64_t seed, eos_graph *g, eos_err *err) {
    EOS_TRY(check_arch(a, err));
    double macs;
    EOS_TRY(walk_arch(a, false, g, &macs, err));
    init_params(g, seed);
    return eos_graph_toposort(g, err);
}

double eos__arch_macs(const eos_arch *a) {
    if (check_arch(a, NULL)) return -1.0;
    eos_graph g;
    eos_graph_init(&g);
    double macs = 0.0;
    eos_status st = walk_arch(a, true, &g, &macs, NULL);
    eos_graph_free(&g);
    return st ? -1.0 : macs;
}

int64_t eos__arch_params(const eos_arch *a) {
    if (check_arch(a, NULL)) return -1;
    eos_graph g;
    eos_graph_init(&g);
    double macs;
    eos_status st = walk_arch(a, true, &g, &macs, NULL);
    int64_t n = st ? -1 : eos__arch_n_params(&g);
    eos_graph_free(&g);
    return n;
}

int64_t eos__arch_n_params(const eos_graph *g) {
    int64_t total = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const eos_node *n = &g->nodes[i];
        if (n->op != EOS_OP_CONV && n->op != EOS_OP_CONV_TRANSPOSE && n->op != EOS_OP_GEMM &&
            n->op != EOS_OP_BATCH_NORM)
            continue;
        for (int j = 1; j <= 2 && j < n->n_in; j++) {   /* weight, bias (BN: scale, B) */
            const eos_value *v = n->in[j] >= 0 ? &g->values[n->in[j]] : NULL;
            if (v && v->producer < 0 && !(v->flags & EOS_VAL_INPUT)) total += eos_value_numel(v);
        }
    }
    return total;
}
