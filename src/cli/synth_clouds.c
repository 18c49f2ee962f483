/*
 * src/cli/synth_clouds.c - `eosight synth-clouds`: a clear/cloudy training set made by
 * compositing synthetic clouds, haze and shadows (include/eosight/clouds.h) over the images of
 * an 8-bit RGB ImageFolder dataset, written in the layout `eosight train --task classify`
 * reads.
 *
 * Output: OUT/images/{clear,cloudy}/<split>-<n>-<source stem>.png, OUT/classes.txt,
 * OUT/splits/{train,val,test}.txt, OUT/fractions.tsv (what was composited into every image)
 * and OUT/README.md (the command and the method). Train and val composites come from the
 * source's train and val splits, test composites only from its test split, so the test set's
 * ground never appeared in training. A split asked for more images than its source split has
 * reuses the source images in a fresh random order per pass, with new clouds each time.
 *
 * Classes are balanced by construction: image n of a split is meant to be cloudy or clear by
 * a fixed pattern (cloudy share --cloudy-share), its clouds are drawn from the ranges of that
 * class, and it is re-drawn (same generator stream, up to MAX_TRIES) until the composited
 * cloud fraction puts it in the intended class. The label written is always the one measured
 * on the composite. Everything is a function of --seed: the run is repeatable.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"

#ifdef EOS_WITH_GDAL

#include "analysis/infer.h"
#include "eosight/clouds.h"
#include "eosight/data.h"

#define MAX_TRIES 32
#define N_SPLITS 3

static const char *const k_splits[N_SPLITS] = {"train", "val", "test"};
static const char *const k_classes[2] = {"clear", "cloudy"};

static void help(FILE *f) {
    fprintf(f,
"usage: eosight synth-clouds --source DIR --out DIR [options]\n\n"
"Makes a clear/cloudy training set for cloud screening from clear 8-bit RGB images: each\n"
"output image is a source image with synthetic clouds, haze and cloud shadows composited\n"
"over it (fractal noise clouds with soft edges, bright bluish-white tops, a whitish haze veil,\n"
"shadows offset by a random sun angle and cloud height). An image is `cloudy` when the share\n"
"of its pixels under opaque cloud (opacity >= 0.5) is at least the threshold, else `clear`.\n"
"The labels are synthetic: see docs/training.md, \"Synthetic cloud data\".\n\n"
"Source (DIR): an ImageFolder dataset as `eosight train --task classify` reads it, with\n"
"splits/train.txt, splits/val.txt and splits/test.txt (those with a count > 0). Train and val\n"
"composites are made from the train and val split images, test composites only from the test\n"
"split images. Every source image must have 3 bands of 8-bit values (RGB).\n\n"
"Output (DIR): images/clear/*.png, images/cloudy/*.png, classes.txt, splits/{train,val,\n"
"test}.txt, fractions.tsv (file, cloud_fraction, haze, shadow_fraction, label, split,\n"
"source) and README.md. Train on it with:\n"
"  eosight train --task classify --data DIR --out clouds.onnx --meta eosight.task=cloud\n\n"
"Options:\n"
"  --source DIR         source dataset (required)\n"
"  --out DIR            output dataset; must be absent or empty unless --force (required)\n"
"  --train N            composites made from the source train split (default 16000)\n"
"  --val N              ... from the val split (default 2000)\n"
"  --test N             ... from the test split (default 3000); 0 leaves a split out\n"
"  --seed S             random seed (default 1); the same seed gives the same dataset\n"
"  --threshold T        cloudy when the cloud fraction >= T (default 0.1: a common scene\n"
"                       filter; patches under it are mostly usable ground, and the clear\n"
"                       class still sees small clouds, the cloudy class partial cover)\n"
"  --haze-cloudy H      also call an image cloudy when its mean haze opacity >= H (default:\n"
"                       off; haze alone is clear, since the ground stays visible under it)\n"
"  --cloudy-share F     share of cloudy images (default 0.5: balanced classes)\n"
"  --gsd M              ground-sample distance of the source, metres (default 10, Sentinel-2);\n"
"                       sets the size of clouds and the length of shadows in pixels\n"
"  --force              write into a non-empty output folder, replacing the files this\n"
"                       command writes (other files are left alone)\n"
"  --quiet              no progress bar or summary\n");
}

/* ------------------------------------------------------------------ options */

typedef struct synth_opts {
    const char *source, *out;
    long        count[N_SPLITS];
    uint64_t    seed;
    float       threshold, haze_cloudy, cloudy_share, gsd_m;
    bool        force, quiet;
} synth_opts;

static bool parse_unit(const char *s, double lo, double hi, float *out) {
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= lo && v <= hi)) return false;
    *out = (float)v;
    return true;
}

static bool parse_u64(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end || errno || s[0] == '-') return false;
    *out = v;
    return true;
}

static int parse_opts(int argc, char **argv, synth_opts *o) {
    memset(o, 0, sizeof *o);
    o->count[0] = 16000;
    o->count[1] = 2000;
    o->count[2] = 3000;
    o->seed = 1;
    o->threshold = 0.1f;
    o->cloudy_share = 0.5f;
    o->gsd_m = 10.0f;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = strcmp(a, "--force") && strcmp(a, "--quiet");
        if (takes && !v)
            return cli_error(2, "%s needs a value (see eosight synth-clouds --help)", a);
        if (takes) i++;
        int sp = -1;
        for (int k = 0; k < N_SPLITS; k++)
            if (!strncmp(a, "--", 2) && !strcmp(a + 2, k_splits[k])) sp = k;
        if (!strcmp(a, "--source")) o->source = v;
        else if (!strcmp(a, "--out")) o->out = v;
        else if (sp >= 0) {
            if (!cli_parse_int(v, 0, 10000000, &o->count[sp]))
                return cli_error(2, "bad %s '%s' (a count 0..10000000)", a, v);
        } else if (!strcmp(a, "--seed")) {
            if (!parse_u64(v, &o->seed)) return cli_error(2, "bad --seed '%s'", v);
        } else if (!strcmp(a, "--threshold")) {
            if (!parse_unit(v, 0.001, 1.0, &o->threshold))
                return cli_error(2, "bad --threshold '%s' (0.001..1)", v);
        } else if (!strcmp(a, "--haze-cloudy")) {
            if (!parse_unit(v, 0.01, 0.95, &o->haze_cloudy))
                return cli_error(2, "bad --haze-cloudy '%s' (0.01..0.95)", v);
        } else if (!strcmp(a, "--cloudy-share")) {
            if (!parse_unit(v, 0.0, 1.0, &o->cloudy_share))
                return cli_error(2, "bad --cloudy-share '%s' (0..1)", v);
        } else if (!strcmp(a, "--gsd")) {
            if (!parse_unit(v, 0.01, 10000.0, &o->gsd_m))
                return cli_error(2, "bad --gsd '%s' (0.01..10000 metres)", v);
        } else if (!strcmp(a, "--force")) o->force = true;
        else if (!strcmp(a, "--quiet")) o->quiet = true;
        else return cli_error(2, "unknown option '%s' (see eosight synth-clouds --help)", a);
    }
    if (!o->source || !o->out) return cli_error(2, "--source DIR and --out DIR are required");
    if (o->count[0] + o->count[1] + o->count[2] == 0)
        return cli_error(2, "--train, --val and --test are all 0: nothing to make");
    return 0;
}

/* ------------------------------------------------------------------ output folder */

static int make_dir(const char *path) {
    if (mkdir(path, 0777) == 0 || errno == EEXIST) {
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return 0;
    }
    return cli_error(1, "synth-clouds: cannot create folder %s: %s", path, strerror(errno));
}

static char *path_join(const char *a, const char *b) {
    size_t n = strlen(a) + strlen(b) + 2;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s/%s", a, b);
    return s;
}

/* 1 when dir exists and holds anything, 0 when absent or empty, -1 when unreadable. */
static int dir_non_empty(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? 0 : -1;
    int any = 0;
    struct dirent *e;
    while (!any && (e = readdir(d)))
        any = strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return any;
}

/* --force: remove the PNGs of images/<class>/ and the files this command writes. */
static void clear_previous(const char *out) {
    for (int c = 0; c < 2; c++) {
        char sub[64];
        snprintf(sub, sizeof sub, "images/%s", k_classes[c]);
        char *dir = path_join(out, sub);
        DIR *d = dir ? opendir(dir) : NULL;
        struct dirent *e;
        while (d && (e = readdir(d))) {
            size_t n = strlen(e->d_name);
            if (n < 5 || strcmp(e->d_name + n - 4, ".png")) continue;
            char *f = path_join(dir, e->d_name);
            if (f) unlink(f);
            free(f);
        }
        if (d) closedir(d);
        free(dir);
    }
    const char *files[] = {"classes.txt", "fractions.tsv", "README.md", "splits/train.txt",
                           "splits/val.txt", "splits/test.txt"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char *f = path_join(out, files[i]);
        if (f) unlink(f);
        free(f);
    }
}

static int prepare_out(const synth_opts *o) {
    int ne = dir_non_empty(o->out);
    if (ne < 0) return cli_error(1, "synth-clouds: cannot read the output folder %s: %s", o->out,
                                 strerror(errno));
    if (ne > 0 && !o->force)
        return cli_error(1, "synth-clouds: the output folder %s is not empty (use --force to "
                            "write into it)", o->out);
    if (ne > 0) clear_previous(o->out);
    const char *subs[] = {"", "images", "images/clear", "images/cloudy", "splits"};
    for (size_t i = 0; i < sizeof subs / sizeof *subs; i++) {
        char *p = path_join(o->out, subs[i]);
        int rc = p ? make_dir(p) : cli_error(1, "out of memory");
        free(p);
        if (rc) return rc;
    }
    return 0;
}

/* ------------------------------------------------------------------ one composite */

typedef struct synth_run {
    const synth_opts *o;
    eos_ctx          *ctx;
    eos_cloud_params  cls[2];      /* drawing ranges of the clear and the cloudy class */
    FILE             *fractions;
    int64_t           n_class[N_SPLITS][2];
    int64_t           n_forced;    /* images whose class differs from the intended one */
    eos_progress      pg;
    int64_t           done;
} synth_run;

static void class_params(const synth_opts *o, eos_cloud_params p[2]) {
    float t = o->threshold;
    for (int c = 0; c < 2; c++) {
        p[c] = eos_cloud_default_params();
        p[c].gsd_m = o->gsd_m;
        p[c].p_tiny = 0.0f;
    }
    /* clear: no cloud at all on a third, else small clouds under the threshold; haze on half */
    p[0].p_no_cloud = 0.35f;
    p[0].cover_min = t * 0.02f < 0.002f ? t * 0.02f : 0.002f;
    p[0].cover_max = t;
    p[0].p_haze = 0.5f;
    if (o->haze_cloudy > 0 && p[0].haze_max >= o->haze_cloudy) {
        p[0].haze_max = o->haze_cloudy * 0.9f;
        if (p[0].haze_min > p[0].haze_max) p[0].haze_min = p[0].haze_max;
    }
    /* cloudy: cover from the threshold to overcast, haze on a third */
    p[1].p_no_cloud = 0.0f;
    p[1].cover_min = t;
    p[1].cover_max = 1.0f;
    p[1].p_haze = 0.35f;
}

static int label_of(const synth_opts *o, const eos_cloud_info *inf) {
    if (inf->cloud_fraction >= o->threshold) return 1;
    return o->haze_cloudy > 0 && inf->haze >= o->haze_cloudy;
}

/* Item n of a split is meant cloudy when the running count of cloudy items steps up there. */
static int intended_class(double share, int64_t n) {
    return (int64_t)((double)(n + 1) * share) > (int64_t)((double)n * share);
}

/* Source sample -> 8-bit planes; EOS_PARSE naming the item when a value is not 0..255. */
static int to_bytes(const eos_sample *s, const char *item, uint8_t *rgb) {
    int64_t n = (int64_t)s->c * s->h * s->w;
    for (int64_t i = 0; i < n; i++) {
        float v = s->img[i];
        if (!(v >= 0.0f && v <= 255.0f))
            return cli_error(1, "synth-clouds: %s has the value %g: 8-bit RGB images are needed",
                             item, (double)v);
        rgb[i] = (uint8_t)(v + 0.5f);
    }
    return 0;
}

static int write_png(synth_run *r, const char *path, const uint8_t *rgb, int w, int h) {
    eos_raster_writer_params wp = eos_raster_writer_default_params();
    wp.format = EOS_RASTER_PNG;
    wp.width_px = w;
    wp.height_px = h;
    wp.n_bands = 3;
    eos_raster_writer *wr = NULL;
    if (eos_raster_writer_create(r->ctx, path, &wp, &wr) != EOS_OK)
        return cli_error(1, "synth-clouds: %s", eos_ctx_errmsg(r->ctx));
    if (eos_raster_writer_write(wr, 0, 0, w, h, EOS_DTYPE_U8, rgb) != EOS_OK) {
        cli_error(1, "synth-clouds: %s: %s", path, eos_raster_writer_errmsg(wr));
        eos_raster_writer_discard(wr);
        return 1;
    }
    if (eos_raster_writer_close(r->ctx, wr) != EOS_OK)
        return cli_error(1, "synth-clouds: %s", eos_ctx_errmsg(r->ctx));
    return 0;
}

/* "Forest/Forest_12.jpg" -> "Forest_12" with anything but [A-Za-z0-9_.-] as '_'. */
static void stem_of(const char *item, char *out, size_t cap) {
    const char *b = strrchr(item, '/');
    b = b ? b + 1 : item;
    const char *dot = strrchr(b, '.');
    size_t n = dot && dot > b ? (size_t)(dot - b) : strlen(b);
    if (n > cap - 1) n = cap - 1;
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || c == '.';
        out[i] = ok ? c : '_';
    }
    out[n] = '\0';
}

typedef struct item_job {
    int         split;
    int64_t     n;          /* index within the split */
    const char *item;       /* source item name */
    FILE       *list;       /* the split file being written */
} item_job;

/* Composite until the intended class comes out, write the PNG and its lines. */
static int make_one(synth_run *r, const item_job *j, const eos_sample *s, const uint8_t *rgb,
                    uint8_t *out) {
    int want = intended_class(r->o->cloudy_share, j->n), got = -1;
    eos_rng rng;
    eos_rng_derive(&rng, r->o->seed, 1000u + (uint64_t)j->split, (uint64_t)j->n);
    eos_cloud_info inf;
    for (int t = 0; t < MAX_TRIES && got != want; t++) {
        if (eos_cloud_composite(r->ctx, rgb, s->w, s->h, &r->cls[want], &rng, out, NULL, &inf))
            return cli_error(1, "synth-clouds: %s: %s", j->item, eos_ctx_errmsg(r->ctx));
        got = label_of(r->o, &inf);
    }
    r->n_forced += got != want;
    char stem[96], rel[160];
    stem_of(j->item, stem, sizeof stem);
    snprintf(rel, sizeof rel, "%s/%s-%06lld-%s.png", k_classes[got], k_splits[j->split],
             (long long)j->n, stem);
    char *dir = path_join(r->o->out, "images");
    char *path = dir ? path_join(dir, rel) : NULL;
    free(dir);
    if (!path) return cli_error(1, "out of memory");
    int rc = write_png(r, path, out, s->w, s->h);
    free(path);
    if (rc) return rc;
    fprintf(j->list, "%s %d\n", rel, got);
    fprintf(r->fractions, "%s\t%.6f\t%.6f\t%.6f\t%s\t%s\t%s\n", rel, (double)inf.cloud_fraction,
            (double)inf.haze, (double)inf.shadow_fraction, k_classes[got], k_splits[j->split],
            j->item);
    r->n_class[j->split][got]++;
    return 0;
}

/* ------------------------------------------------------------------ one split */

/* The source order for pass `pass` over a split: a fresh permutation per pass. */
static void pass_order(const synth_opts *o, int split, int64_t pass, int64_t *idx, int64_t n) {
    for (int64_t i = 0; i < n; i++) idx[i] = i;
    eos_rng rng;
    eos_rng_derive(&rng, o->seed, (uint64_t)split, (uint64_t)pass);
    eos_rng_shuffle(&rng, idx, n);
}

static int make_item(synth_run *r, const eos_dataset *ds, item_job *j, int64_t src) {
    eos_sample s;
    char msg[512];
    if (eos_dataset_load(ds, src, &s, msg, (int)sizeof msg) != EOS_OK)
        return cli_error(1, "synth-clouds: %s", msg);
    int rc = 0;
    size_t n = (size_t)s.c * (size_t)s.h * (size_t)s.w;
    uint8_t *rgb = malloc(n), *out = malloc(n);
    j->item = eos_dataset_item_name(ds, src);
    if (!rgb || !out) rc = cli_error(1, "out of memory");
    if (!rc && s.c != 3)
        rc = cli_error(1, "synth-clouds: %s has %d bands: RGB (3 bands) is needed", j->item, s.c);
    if (!rc) rc = to_bytes(&s, j->item, rgb);
    if (!rc) rc = make_one(r, j, &s, rgb, out);
    free(rgb);
    free(out);
    eos_sample_free(&s);
    return rc;
}

static int open_source(synth_run *r, int split, eos_dataset **ds) {
    eos_dataset_params dp = {0};
    dp.task = EOS_TASK_CLASSIFY;
    dp.split = k_splits[split];
    if (eos_dataset_open(r->ctx, r->o->source, &dp, ds) != EOS_OK)
        return cli_error(1, "synth-clouds: source %s, split %s: %s", r->o->source,
                         k_splits[split], eos_ctx_errmsg(r->ctx));
    if (eos_dataset_n_bands(*ds) != 3) {
        cli_error(1, "synth-clouds: source %s has %d bands: RGB (3 bands) is needed",
                  r->o->source, eos_dataset_n_bands(*ds));
        eos_dataset_free(*ds);
        *ds = NULL;
        return 1;
    }
    return 0;
}

/* The first image of a split decodes to 8-bit values. */
static int check_first(const eos_dataset *ds) {
    eos_sample s;
    char msg[512];
    if (eos_dataset_size(ds) < 1) return 0;
    if (eos_dataset_load(ds, 0, &s, msg, (int)sizeof msg) != EOS_OK)
        return cli_error(1, "synth-clouds: %s", msg);
    size_t n = (size_t)s.c * (size_t)s.h * (size_t)s.w;
    uint8_t *rgb = malloc(n);
    int rc = rgb ? to_bytes(&s, eos_dataset_item_name(ds, 0), rgb) : cli_error(1, "out of memory");
    free(rgb);
    eos_sample_free(&s);
    return rc;
}

/* Open every split that is asked for and decode its first image before anything is written,
 * so a bad source leaves no output folder behind. */
static int check_sources(synth_run *r) {
    for (int s = 0; s < N_SPLITS; s++) {
        if (r->o->count[s] == 0) continue;
        eos_dataset *ds = NULL;
        int rc = open_source(r, s, &ds);
        if (!rc) rc = check_first(ds);
        eos_dataset_free(ds);
        if (rc) return rc;
    }
    return 0;
}

static int make_split(synth_run *r, int split, FILE *list) {
    eos_dataset *ds = NULL;
    int rc = open_source(r, split, &ds);
    if (rc) return rc;
    int64_t n_src = eos_dataset_size(ds);
    int64_t *idx = n_src > 0 ? malloc((size_t)n_src * sizeof *idx) : NULL;
    if (n_src <= 0) rc = cli_error(1, "synth-clouds: split %s of %s is empty", k_splits[split],
                                   r->o->source);
    else if (!idx) rc = cli_error(1, "out of memory");
    item_job j = {split, 0, NULL, list};
    for (; !rc && j.n < r->o->count[split]; j.n++) {
        if (j.n % n_src == 0) pass_order(r->o, split, j.n / n_src, idx, n_src);
        rc = make_item(r, ds, &j, idx[j.n % n_src]);
        eos__progress_show(&r->pg, (double)++r->done, false);
    }
    free(idx);
    eos_dataset_free(ds);
    if (!rc && !r->o->quiet)
        fprintf(stderr, "%s%s: %ld images (%lld clear, %lld cloudy) from %lld source images\n",
                r->pg.on ? "\n" : "", k_splits[split], r->o->count[split],
                (long long)r->n_class[split][0], (long long)r->n_class[split][1],
                (long long)n_src);
    return rc;
}

/* Write splits/<name>.txt.part, renamed into place when the split is complete. */
static int run_split(synth_run *r, int split) {
    char rel[64], fin[64];
    snprintf(rel, sizeof rel, "splits/%s.txt.part", k_splits[split]);
    snprintf(fin, sizeof fin, "splits/%s.txt", k_splits[split]);
    char *part = path_join(r->o->out, rel), *path = path_join(r->o->out, fin);
    if (!part || !path) {
        free(part);
        free(path);
        return cli_error(1, "out of memory");
    }
    FILE *f = fopen(part, "w");
    int rc = f ? make_split(r, split, f)
               : cli_error(1, "synth-clouds: cannot write %s: %s", part, strerror(errno));
    if (f && fclose(f) != 0 && !rc) rc = cli_error(1, "synth-clouds: cannot write %s", part);
    if (!rc && rename(part, path) != 0)
        rc = cli_error(1, "synth-clouds: cannot rename %s: %s", part, strerror(errno));
    if (rc) unlink(part);
    free(part);
    free(path);
    return rc;
}

/* ------------------------------------------------------------------ small files */

static int write_text(const char *out, const char *name, const char *text) {
    char *p = path_join(out, name);
    FILE *f = p ? fopen(p, "w") : NULL;
    int rc = 0;
    if (!f || fputs(text, f) < 0) rc = cli_error(1, "synth-clouds: cannot write %s/%s", out, name);
    if (f && fclose(f) != 0 && !rc)
        rc = cli_error(1, "synth-clouds: cannot write %s/%s", out, name);
    free(p);
    return rc;
}

static int write_readme(const synth_run *r, int argc, char **argv) {
    char *p = path_join(r->o->out, "README.md");
    FILE *f = p ? fopen(p, "w") : NULL;
    free(p);
    if (!f) return cli_error(1, "synth-clouds: cannot write %s/README.md", r->o->out);
    fprintf(f, "# Synthetic cloud-screening data\n\nMade by `eosight");
    for (int i = 0; i < argc; i++) fprintf(f, " %s", argv[i]);
    fprintf(f, "` from the clear images of `%s`.\n\n", r->o->source);
    fprintf(f, "Every image is a source image with synthetic clouds, haze and cloud shadows "
               "composited over it (include/eosight/clouds.h). Label `cloudy`: cloud fraction "
               ">= %g", (double)r->o->threshold);
    if (r->o->haze_cloudy > 0) fprintf(f, " or mean haze opacity >= %g", (double)r->o->haze_cloudy);
    fprintf(f, "; else `clear`. Train/val images come from the source's train/val splits, test "
               "images only from its test split. fractions.tsv lists what was composited into "
               "each image. These are synthetic labels, not observed clouds: see "
               "docs/training.md, \"Synthetic cloud data\".\n\n| split | clear | cloudy |\n"
               "| --- | --- | --- |\n");
    for (int s = 0; s < N_SPLITS; s++)
        if (r->o->count[s] > 0)
            fprintf(f, "| %s | %lld | %lld |\n", k_splits[s], (long long)r->n_class[s][0],
                    (long long)r->n_class[s][1]);
    return fclose(f) == 0 ? 0 : cli_error(1, "synth-clouds: cannot write %s/README.md", r->o->out);
}

static int run_all(synth_run *r) {
    int rc = write_text(r->o->out, "classes.txt", "clear\ncloudy\n");
    char *fp = rc ? NULL : path_join(r->o->out, "fractions.tsv");
    r->fractions = fp ? fopen(fp, "w") : NULL;
    free(fp);
    if (!rc && !r->fractions)
        rc = cli_error(1, "synth-clouds: cannot write %s/fractions.tsv", r->o->out);
    if (!rc)
        fputs("file\tcloud_fraction\thaze\tshadow_fraction\tlabel\tsplit\tsource\n", r->fractions);
    for (int s = 0; !rc && s < N_SPLITS; s++)
        if (r->o->count[s] > 0) rc = run_split(r, s);
    if (r->fractions && fclose(r->fractions) != 0 && !rc)
        rc = cli_error(1, "synth-clouds: cannot write %s/fractions.tsv", r->o->out);
    return rc;
}

int cli_synth_clouds(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            help(stdout);
            return 0;
        }
    synth_opts o;
    int rc = parse_opts(argc, argv, &o);
    if (rc) return rc;
    synth_run r;
    memset(&r, 0, sizeof r);
    r.o = &o;
    class_params(&o, r.cls);
    if (eos_ctx_create(NULL, &r.ctx) != EOS_OK) return cli_error(1, "out of memory");
    rc = check_sources(&r);
    if (!rc) rc = prepare_out(&o);
    if (rc) {
        eos_ctx_free(r.ctx);
        return rc;
    }
    eos__progress_start(&r.pg, !o.quiet, "synth-clouds", "images",
                        o.count[0] + o.count[1] + o.count[2]);
    rc = run_all(&r);
    if (!rc) rc = write_readme(&r, argc, argv);
    if (!rc && r.n_forced > 0 && !o.quiet)
        fprintf(stderr, "synth-clouds: %lld images came out in the other class than intended "
                        "(labelled as measured)\n", (long long)r.n_forced);
    eos_ctx_free(r.ctx);
    return rc;
}

#else

int cli_synth_clouds(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return cli_error(1, "synth-clouds: this eosight was built without GDAL (EOS_WITH_GDAL=OFF)");
}

#endif
