/*
 * src/data/clouds.c - synthetic clouds, haze and shadows over clear 8-bit RGB imagery
 * (include/eosight/clouds.h), the training data of the cloud-screening model.
 *
 * Pipeline of one call: draw the scene (a fixed number of generator draws, whatever the
 * branches, so callers' streams stay aligned); evaluate the cloud noise field over the frame;
 * find the threshold that gives the drawn cover by quickselect on a copy of the field; then one
 * pass over the pixels computes the cloud opacity (smoothstep around the threshold), the shadow
 * opacity (the same field at the position shifted by the sun offset, so shadows may come from
 * clouds outside the frame), the haze veil, and writes the three bands.
 *
 * The noise is our own 2-D gradient noise: a hashed lattice of unit gradients (8 directions),
 * quintic fade, summed over octaves (lacunarity 2, gain 0.5). Coordinates are doubles so the
 * random offsets (up to 1000 periods) keep sub-pixel precision.
 */
#include "eosight/clouds.h"

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "eosight/alloc.h"

#define PI 3.14159265358979323846
#define MAX_OCTAVES 10
#define FINEST_PERIOD_PX 3.0
#define SHADOW_EDGE 1.6

/* Shadows are lit by the blue sky: red and green lose more light than blue. */
static const double k_shadow_band[3] = {1.0, 0.97, 0.88};

eos_cloud_params eos_cloud_default_params(void) {
    eos_cloud_params p;
    memset(&p, 0, sizeof p);
    p.version = EOS_CLOUD_PARAMS_VERSION;
    p.p_no_cloud = 0.2f;
    p.p_tiny = 0.25f;               /* of all images: 20 % of the 80 % that have cloud */
    p.tiny_min = 0.002f;
    p.tiny_max = 0.05f;
    p.cover_min = 0.0f;
    p.cover_max = 1.0f;
    p.p_haze = 0.35f;
    p.haze_min = 0.05f;
    p.haze_max = 0.4f;
    p.gsd_m = 10.0f;
    p.scale_min_m = 400.0f;
    p.scale_max_m = 6000.0f;
    p.edge_min = 0.08f;
    p.edge_max = 0.35f;
    p.bright_min = 205.0f;
    p.bright_max = 250.0f;
    p.texture_dn = 12.0f;
    p.p_shadow = 0.85f;
    p.shadow_min = 0.3f;
    p.shadow_max = 0.55f;
    p.sun_azimuth_min_deg = 120.0f;
    p.sun_azimuth_max_deg = 220.0f;
    p.sun_elevation_min_deg = 25.0f;
    p.sun_elevation_max_deg = 65.0f;
    p.height_min_m = 400.0f;
    p.height_max_m = 2000.0f;
    return p;
}

/* ------------------------------------------------------------------ parameter check */

static bool in01(float v) { return v >= 0.0f && v <= 1.0f; }

typedef struct range_rule {
    const char *name;
    float lo, hi;          /* inclusive bounds of both ends */
    size_t off_min, off_max;
} range_rule;

#define RULE(n, a, b, lo, hi) \
    { n, lo, hi, offsetof(eos_cloud_params, a), offsetof(eos_cloud_params, b) }

static const range_rule k_rules[] = {
    RULE("tiny", tiny_min, tiny_max, 0.0f, 1.0f),
    RULE("cover", cover_min, cover_max, 0.0f, 1.0f),
    RULE("haze", haze_min, haze_max, 0.0f, 0.99f),
    RULE("scale_m", scale_min_m, scale_max_m, 1e-3f, 1e7f),
    RULE("edge", edge_min, edge_max, 1e-3f, 10.0f),
    RULE("bright", bright_min, bright_max, 0.0f, 255.0f),
    RULE("shadow", shadow_min, shadow_max, 0.0f, 1.0f),
    RULE("sun_azimuth_deg", sun_azimuth_min_deg, sun_azimuth_max_deg, -720.0f, 720.0f),
    RULE("sun_elevation_deg", sun_elevation_min_deg, sun_elevation_max_deg, 1e-3f, 90.0f),
    RULE("height_m", height_min_m, height_max_m, 0.0f, 1e5f),
};

static eos_status check_fail(char *msg, int cap, const char *fmt, const char *name) {
    if (msg && cap > 0) snprintf(msg, (size_t)cap, fmt, name);
    return EOS_INVALID_ARG;
}

eos_status eos_cloud_params_check(const eos_cloud_params *p, char *msg, int msg_cap) {
    if (msg && msg_cap > 0) msg[0] = '\0';
    if (!p) return check_fail(msg, msg_cap, "cloud params: %s", "NULL");
    if (p->version != EOS_CLOUD_PARAMS_VERSION)
        return check_fail(msg, msg_cap, "cloud params: %s (use eos_cloud_default_params)",
                          "unknown version");
    const struct { const char *n; float v; } probs[] = {
        {"p_no_cloud", p->p_no_cloud}, {"p_tiny", p->p_tiny}, {"p_haze", p->p_haze},
        {"p_shadow", p->p_shadow}};
    for (size_t i = 0; i < sizeof probs / sizeof *probs; i++)
        if (!in01(probs[i].v))
            return check_fail(msg, msg_cap, "cloud params: %s must be in [0, 1]", probs[i].n);
    for (size_t i = 0; i < sizeof k_rules / sizeof *k_rules; i++) {
        const range_rule *r = &k_rules[i];
        float a = *(const float *)((const char *)p + r->off_min);
        float b = *(const float *)((const char *)p + r->off_max);
        if (!(a >= r->lo && a <= r->hi && b >= r->lo && b <= r->hi))
            return check_fail(msg, msg_cap, "cloud params: %s range outside its limits", r->name);
        if (a > b) return check_fail(msg, msg_cap, "cloud params: %s min > max", r->name);
    }
    if (!(p->gsd_m > 0.0f && p->gsd_m <= 1e5f))
        return check_fail(msg, msg_cap, "cloud params: %s must be in (0, 1e5]", "gsd_m");
    if (!(p->texture_dn >= 0.0f && p->texture_dn <= 255.0f))
        return check_fail(msg, msg_cap, "cloud params: %s must be in [0, 255]", "texture_dn");
    return EOS_OK;
}

/* ------------------------------------------------------------------ noise */

static uint32_t hash3(int32_t x, int32_t y, uint32_t seed) {
    uint32_t h = seed ^ ((uint32_t)x * 0x8da6b343u) ^ ((uint32_t)y * 0xd8163841u);
    h ^= h >> 16;
    h *= 0x7feb352du;
    h ^= h >> 15;
    h *= 0x846ca68bu;
    h ^= h >> 16;
    return h;
}

/* Dot product of lattice point (ix, iy)'s gradient with the offset (dx, dy). */
static double grad_dot(int32_t ix, int32_t iy, uint32_t seed, double dx, double dy) {
    static const double g[8][2] = {
        {1, 0}, {-1, 0}, {0, 1}, {0, -1},
        {0.70710678, 0.70710678}, {-0.70710678, 0.70710678},
        {0.70710678, -0.70710678}, {-0.70710678, -0.70710678}};
    const double *v = g[hash3(ix, iy, seed) & 7u];
    return v[0] * dx + v[1] * dy;
}

static double fade(double t) { return t * t * t * (t * (t * 6.0 - 15.0) + 10.0); }

/* Gradient noise at (x, y), about [-0.7, 0.7], 0 at lattice points. */
static double gnoise(double x, double y, uint32_t seed) {
    double fx = floor(x), fy = floor(y);
    int32_t ix = (int32_t)fx, iy = (int32_t)fy;
    double dx = x - fx, dy = y - fy;
    double n00 = grad_dot(ix, iy, seed, dx, dy);
    double n10 = grad_dot(ix + 1, iy, seed, dx - 1.0, dy);
    double n01 = grad_dot(ix, iy + 1, seed, dx, dy - 1.0);
    double n11 = grad_dot(ix + 1, iy + 1, seed, dx - 1.0, dy - 1.0);
    double u = fade(dx), v = fade(dy);
    double a = n00 + u * (n10 - n00), b = n01 + u * (n11 - n01);
    return a + v * (b - a);
}

/* A fractal field: octaves of gradient noise, base period period_px pixels, shifted by
 * (ox, oy) base periods, normalised by the sum of the amplitudes. */
typedef struct field {
    double   period_px, ox, oy;
    int      octaves;
    uint32_t seed;
} field;

static double fbm(const field *f, double x_px, double y_px) {
    double x = x_px / f->period_px + f->ox, y = y_px / f->period_px + f->oy;
    double sum = 0.0, amp = 1.0, norm = 0.0;
    for (int o = 0; o < f->octaves; o++) {
        sum += amp * gnoise(x, y, f->seed + (uint32_t)o * 0x9e3779b9u);
        norm += amp;
        amp *= 0.5;
        x = x * 2.0 + 17.3;
        y = y * 2.0 - 9.1;
    }
    return sum / norm;
}

static int octaves_for(double period_px) {
    int n = 1;
    while (n < MAX_OCTAVES && period_px / (double)(1 << n) >= FINEST_PERIOD_PX) n++;
    return n;
}

/* ------------------------------------------------------------------ the scene */

typedef struct scene {
    float  cover, haze, edge, bright, shadow;
    float  tint[3], haze_rgb[3];
    float  texture_dn;
    bool   has_shadow;
    double sdx, sdy;          /* shadow offset from its cloud, pixels */
    double sun_ux, sun_uy;    /* unit vector towards the sun in the image plane */
    field  cloud, tex, hazef;
} scene;

static float pick(bool take, float a, float b) { return take ? a : b; }

/* Every draw is made whatever the branch: the number of draws is fixed. */
static void draw_scene(const eos_cloud_params *p, eos_rng *r, int w, int h, scene *s) {
    float u_mode = eos_rng_uniform(r);
    float c_tiny = eos_rng_range(r, p->tiny_min, p->tiny_max);
    float c_any = eos_rng_range(r, p->cover_min, p->cover_max);
    s->cover = u_mode < p->p_no_cloud ? 0.0f
                                      : pick(u_mode < p->p_no_cloud + p->p_tiny, c_tiny, c_any);
    float u_haze = eos_rng_uniform(r);
    float hz = eos_rng_range(r, p->haze_min, p->haze_max);
    s->haze = u_haze < p->p_haze ? hz : 0.0f;
    double scale_m = exp(eos_rng_range(r, logf(p->scale_min_m), logf(p->scale_max_m)));
    s->edge = eos_rng_range(r, p->edge_min, p->edge_max);
    s->bright = eos_rng_range(r, p->bright_min, p->bright_max);
    float blue = eos_rng_range(r, 0.01f, 0.05f);
    s->tint[0] = 1.0f - blue;
    s->tint[1] = 1.0f - 0.5f * blue;
    s->tint[2] = 1.0f;
    float hb = eos_rng_range(r, 175.0f, 225.0f), hblue = eos_rng_range(r, 0.03f, 0.1f);
    s->haze_rgb[0] = hb * (1.0f - hblue);
    s->haze_rgb[1] = hb * (1.0f - 0.5f * hblue);
    s->haze_rgb[2] = hb;
    s->texture_dn = p->texture_dn;
    float u_sh = eos_rng_uniform(r);
    s->shadow = eos_rng_range(r, p->shadow_min, p->shadow_max);
    double az = eos_rng_range(r, p->sun_azimuth_min_deg, p->sun_azimuth_max_deg) * PI / 180.0;
    double el = eos_rng_range(r, p->sun_elevation_min_deg, p->sun_elevation_max_deg) * PI / 180.0;
    double hgt = eos_rng_range(r, p->height_min_m, p->height_max_m);
    s->has_shadow = u_sh < p->p_shadow && s->shadow > 0.0f;
    s->sun_ux = sin(az);
    s->sun_uy = -cos(az);                          /* y grows southwards */
    double len_px = hgt / tan(el) / p->gsd_m;
    if (len_px > 1e6) len_px = 1e6;
    s->sdx = s->has_shadow ? -len_px * s->sun_ux : 0.0;
    s->sdy = s->has_shadow ? -len_px * s->sun_uy : 0.0;
    double frame = (double)(w > h ? w : h);
    s->cloud.period_px = scale_m / p->gsd_m;
    s->tex.period_px = s->cloud.period_px / 8.0 > 4.0 ? s->cloud.period_px / 8.0 : 4.0;
    s->hazef.period_px = 3.0 * frame > 64.0 ? 3.0 * frame : 64.0;
    s->cloud.octaves = octaves_for(s->cloud.period_px);
    s->tex.octaves = 3;
    s->hazef.octaves = 3;
    field *fs[3] = {&s->cloud, &s->tex, &s->hazef};
    for (int i = 0; i < 3; i++) {
        fs[i]->ox = eos_rng_range(r, 0.0f, 1000.0f);
        fs[i]->oy = eos_rng_range(r, 0.0f, 1000.0f);
        fs[i]->seed = (uint32_t)(eos_rng_u64(r) >> 32);
    }
}

/* ------------------------------------------------------------------ threshold */

/* The k-th smallest of v[0..n) (0-based), reordering v. */
static float select_kth(float *v, int64_t n, int64_t k) {
    int64_t lo = 0, hi = n - 1;
    while (hi > lo) {
        int64_t mid = lo + (hi - lo) / 2;
        float a = v[lo], b = v[mid], c = v[hi];
        float piv = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < piv) i++;
            while (v[j] > piv) j--;
            if (i <= j) {
                float t = v[i];
                v[i] = v[j];
                v[j] = t;
                i++;
                j--;
            }
        }
        if (k <= j) hi = j;
        else if (k >= i) lo = i;
        else return v[k];
    }
    return v[k];
}

static double smoothstep(double e0, double e1, double x) {
    double t = (x - e0) / (e1 - e0);
    t = t < 0.0 ? 0.0 : t > 1.0 ? 1.0 : t;
    return t * t * (3.0 - 2.0 * t);
}

/* ------------------------------------------------------------------ compositing */

typedef struct frame_stats {
    double thr, half_edge, sigma, mean;
    bool   any_cloud, any_shadow;
} frame_stats;

/* Fill fld with the cloud field; threshold for the drawn cover (scratch: n floats). */
static frame_stats frame_field(const scene *s, int w, int h, float *fld, float *scratch) {
    int64_t n = (int64_t)w * h;
    double sum = 0.0, sq = 0.0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double v = fbm(&s->cloud, x + 0.5, y + 0.5);
            fld[(int64_t)y * w + x] = (float)v;
            sum += v;
            sq += v * v;
        }
    frame_stats fs = {0};
    fs.mean = sum / (double)n;
    double var = sq / (double)n - fs.mean * fs.mean;
    fs.sigma = sqrt(var > 0.0 ? var : 0.0);
    if (fs.sigma < 0.02) fs.sigma = 0.02;   /* tiny frames: an edge of sensible width */
    fs.half_edge = s->edge * fs.sigma;
    int64_t k = (int64_t)llround((double)s->cover * (double)n);
    fs.any_cloud = k > 0;
    fs.any_shadow = fs.any_cloud && s->has_shadow;
    if (!fs.any_cloud) return fs;
    memcpy(scratch, fld, (size_t)n * sizeof *fld);
    fs.thr = select_kth(scratch, n, n - k);     /* k values are >= thr */
    return fs;
}

/* Fill sh with the field that casts the shadows: the cloud field at the pixel minus the shadow
 * offset, standardised to the frame's mean and spread. Without that, a frame that sits in a
 * clear gap of a field much larger than itself (its threshold far below the field's typical
 * values) would be darkened by the shadows of the dense cloud around the gap; with it, the
 * clouds that cast shadows into the frame have, on average, the frame's own cover. The
 * correction is weighted by the share of the shifted window that lies outside the frame: for a
 * short offset the shadow is the in-frame cloud's shape moved by the offset. */
static void shadow_field(const scene *s, const frame_stats *fs, int w, int h, float *sh) {
    int64_t n = (int64_t)w * h;
    double sum = 0.0, sq = 0.0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double v = fbm(&s->cloud, x + 0.5 - s->sdx, y + 0.5 - s->sdy);
            sh[(int64_t)y * w + x] = (float)v;
            sum += v;
            sq += v * v;
        }
    double mean = sum / (double)n, var = sq / (double)n - mean * mean;
    double sd = sqrt(var > 0.0 ? var : 0.0);
    /* the share of the shifted window inside the frame is kept as it is */
    double ox = 1.0 - fabs(s->sdx) / w, oy = 1.0 - fabs(s->sdy) / h;
    double keep = ox > 0.0 && oy > 0.0 ? ox * oy : 0.0;
    double gain = 1.0 + (fs->sigma / (sd > 0.02 ? sd : 0.02) - 1.0) * (1.0 - keep);
    double to = mean + (fs->mean - mean) * (1.0 - keep);
    for (int64_t i = 0; i < n; i++) sh[i] = (float)((sh[i] - mean) * gain + to);
}

typedef struct px_out {
    float    rgb[3];
    bool     cloud, shadow;
    double   alpha, haze;
} px_out;

/* Brightness factor of a cloud pixel: denser cores and sun-facing sides are brighter. */
static double cloud_shade(const scene *s, const frame_stats *fs, double x, double y, double v) {
    double dens = (v - fs->thr) / (2.5 * fs->sigma);
    dens = dens < 0.0 ? 0.0 : dens > 1.0 ? 1.0 : dens;
    double step = s->cloud.period_px * 0.03 > 1.0 ? s->cloud.period_px * 0.03 : 1.0;
    double toward = fbm(&s->cloud, x + s->sun_ux * step, y + s->sun_uy * step) - v;
    double lee = toward / fs->sigma;            /* > 0: the field rises towards the sun */
    lee = lee < -1.0 ? -1.0 : lee > 1.0 ? 1.0 : lee;
    return (0.82 + 0.18 * sqrt(dens)) * (1.0 - 0.07 * lee);
}

/* One pixel: v is the cloud field there, vs the shadow-casting field (used with shadows). */
static void composite_px(const scene *s, const frame_stats *fs, int x, int y, const float fv[2],
                         const float in[3], px_out *o) {
    double cx = x + 0.5, cy = y + 0.5, v = fv[0];
    double a = 0.0, ash = 0.0, ah = 0.0;
    if (fs->any_cloud) a = smoothstep(fs->thr - fs->half_edge, fs->thr + fs->half_edge, v);
    if (fs->any_shadow) {
        double pen = SHADOW_EDGE * fs->half_edge;    /* penumbra: softer than the cloud */
        ash = smoothstep(fs->thr - pen, fs->thr + pen, fv[1]);
        o->shadow = fv[1] >= fs->thr;
    }
    if (s->haze > 0.0f) {
        ah = s->haze * (1.0 + 1.2 * fbm(&s->hazef, cx, cy));
        ah = ah < 0.0 ? 0.0 : ah > 0.95 ? 0.95 : ah;
    }
    double shade = 0.0, tex = 0.0;
    if (a > 0.0) {
        shade = cloud_shade(s, fs, cx, cy, v);
        tex = s->texture_dn * 2.0 * fbm(&s->tex, cx, cy);
    }
    for (int b = 0; b < 3; b++) {
        double g = in[b] * (1.0 - s->shadow * k_shadow_band[b] * ash);
        g = g * (1.0 - ah) + s->haze_rgb[b] * ah;
        double c = s->bright * s->tint[b] * shade + tex;
        o->rgb[b] = (float)(g * (1.0 - a) + c * a);
    }
    o->cloud = fs->any_cloud && v >= fs->thr;
    o->alpha = a;
    o->haze = ah;
}

static uint8_t to_u8(float v) {
    if (!(v > 0.0f)) return 0;
    if (v >= 255.0f) return 255;
    return (uint8_t)(v + 0.5f);
}

typedef struct frame_io {
    const uint8_t *in;
    uint8_t       *out, *mask;
    int            w, h;
} frame_io;

static void render(const scene *s, const frame_stats *fs, const float *fld, const float *sh,
                   const frame_io *io, eos_cloud_info *info) {
    int64_t n = (int64_t)io->w * io->h, n_cloud = 0, n_shadow = 0;
    double sum_a = 0.0, sum_h = 0.0;
    for (int y = 0; y < io->h; y++)
        for (int x = 0; x < io->w; x++) {
            int64_t i = (int64_t)y * io->w + x;
            float in[3] = {io->in[i], io->in[n + i], io->in[2 * n + i]};
            px_out o;
            memset(&o, 0, sizeof o);
            float fv[2] = {fld[i], fs->any_shadow ? sh[i] : 0.0f};
            composite_px(s, fs, x, y, fv, in, &o);
            for (int b = 0; b < 3; b++) io->out[(int64_t)b * n + i] = to_u8(o.rgb[b]);
            if (io->mask) io->mask[i] = o.cloud ? 1 : 0;
            n_cloud += o.cloud;
            n_shadow += o.shadow && !o.cloud;
            sum_a += o.alpha;
            sum_h += o.haze;
        }
    info->cloud_fraction = (float)((double)n_cloud / (double)n);
    info->shadow_fraction = (float)((double)n_shadow / (double)n);
    info->mean_opacity = (float)(sum_a / (double)n);
    info->haze = (float)(sum_h / (double)n);
}

static eos_status fail(eos_ctx *ctx, eos_status st, const char *msg) {
    eos_err e;
    eos_err_set(&e, st, "eos_cloud_composite: %s", msg);
    return eos__ctx_fail(ctx, &e);
}

eos_status eos_cloud_composite(eos_ctx *ctx, const uint8_t *rgb, int w, int h,
                               const eos_cloud_params *p, eos_rng *rng, uint8_t *out,
                               uint8_t *cloud_mask, eos_cloud_info *info) {
    eos__ctx_clear(ctx);
    if (!rgb || !out || !p || !rng) return fail(ctx, EOS_INVALID_ARG, "NULL argument");
    if (w < 1 || h < 1) return fail(ctx, EOS_INVALID_ARG, "image size below 1 x 1");
    if ((int64_t)w * h > EOS_CLOUD_MAX_PIXELS)
        return fail(ctx, EOS_LIMIT, "image larger than EOS_CLOUD_MAX_PIXELS");
    char msg[200];
    if (eos_cloud_params_check(p, msg, (int)sizeof msg) != EOS_OK)
        return fail(ctx, EOS_INVALID_ARG, msg);
    int64_t n = (int64_t)w * h;
    float *fld = eos_malloc((size_t)n * sizeof *fld);
    float *scratch = eos_malloc((size_t)n * sizeof *scratch);
    if (!fld || !scratch) {
        eos_free(fld);
        eos_free(scratch);
        return fail(ctx, EOS_NOMEM, "out of memory for the noise field");
    }
    scene s;
    draw_scene(p, rng, w, h, &s);
    eos_cloud_info inf = {0};
    inf.cover_drawn = s.cover;
    if (s.cover <= 0.0f && s.haze <= 0.0f) {
        if (out != rgb) memcpy(out, rgb, (size_t)n * 3);
        if (cloud_mask) memset(cloud_mask, 0, (size_t)n);
    } else {
        frame_stats fs = frame_field(&s, w, h, fld, scratch);
        if (fs.any_shadow) shadow_field(&s, &fs, w, h, scratch);
        frame_io io = {rgb, out, cloud_mask, w, h};
        render(&s, &fs, fld, scratch, &io, &inf);
        if (fs.any_shadow) {
            inf.shadow_dx_px = (float)s.sdx;
            inf.shadow_dy_px = (float)s.sdy;
        }
    }
    eos_free(fld);
    eos_free(scratch);
    if (info) *info = inf;
    return EOS_OK;
}
