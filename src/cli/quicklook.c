/*
 * src/cli/quicklook.c - `eosight quicklook IMAGE OUT.png [--bands 4,3,2] [--max-size N]
 * [--stretch LO,HI] [--mask MASK.tif [--alpha A]] [--quality Q]`
 *
 * A picture of a scene for a human: eos_quicklook_rgb, or eos_quicklook_overlay when --mask is
 * given. The mask's classes (colours and names) come from its colour table and category names
 * through eos_raster_class_table; a mask without them is drawn with a built-in palette.
 * The image is opened with just the --bands selection, so only those bands are read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "eosight/raster.h"

#ifdef EOS_WITH_GDAL

#define MAX_CLASSES 65536

static void help(FILE *f) {
    fprintf(f,
            "usage: eosight quicklook IMAGE OUT.png|OUT.jpg [--bands LIST] [--max-size N]\n"
            "                         [--stretch LO,HI] [--mask MASK.tif [--alpha A]]\n"
            "                         [--quality Q]\n\n"
            "Renders IMAGE (anything GDAL reads) as an RGB picture, decimated so its longest side\n"
            "is N px (default 1024), each band stretched between the LO and HI percentiles of its\n"
            "valid pixels (default 2,98; 8-bit data with 0,100 is shown as is). Nodata is\n"
            "black.\n\n"
            "  --bands LIST     three bands for R,G,B or one for grey, by number (4,3,2) or name\n"
            "                   (B04,B03,B02); default: the Red/Green/Blue bands, else 1,2,3,\n"
            "                   else 1 as grey\n"
            "  --max-size N     longest side of the picture in pixels (1..8192)\n"
            "  --stretch LO,HI  percentiles, 0 <= LO < HI <= 100\n"
            "  --mask MASK.tif  blend a class mask of the same extent over the picture, with a\n"
            "                   legend; colours and names from the mask's colour table and\n"
            "                   category names (as `eosight` writes them)\n"
            "  --alpha A        opacity of the mask colours, 0..1 (default 0.5)\n"
            "  --quality Q      JPEG quality 1..100 (default 90)\n");
}

static bool parse_pair(const char *s, double *a, double *b) {
    char *end;
    *a = strtod(s, &end);
    if (end == s || *end != ',') return false;
    const char *p = end + 1;
    *b = strtod(p, &end);
    return end != p && !*end;
}

static bool parse_unit(const char *s, double *out) {
    char *end;
    *out = strtod(s, &end);
    return end != s && !*end && *out >= 0 && *out <= 1;
}

typedef struct ql_args {
    const char *image, *out, *bands, *mask;
    double      alpha;
    eos_quicklook_params p;
} ql_args;

/* Parse one option (argv[*i] with its value in argv[*i + 1]); returns 0 or an exit code. */
static int parse_option(int argc, char **argv, int *i, ql_args *a) {
    const char *opt = argv[*i];
    if (*i + 1 >= argc) return cli_error(2, "%s needs a value (see --help)", opt);
    const char *v = argv[++*i];
    long n;
    if (!strcmp(opt, "--bands")) {
        a->bands = v;
    } else if (!strcmp(opt, "--max-size")) {
        if (!cli_parse_int(v, 1, 8192, &n)) return cli_error(2, "bad --max-size '%s' (1..8192)", v);
        a->p.max_px = (int)n;
    } else if (!strcmp(opt, "--stretch")) {
        if (!parse_pair(v, &a->p.p_lo, &a->p.p_hi) || !(a->p.p_lo >= 0) ||
            !(a->p.p_lo < a->p.p_hi) || !(a->p.p_hi <= 100))
            return cli_error(2, "bad --stretch '%s' (LO,HI with 0 <= LO < HI <= 100)", v);
    } else if (!strcmp(opt, "--mask")) {
        a->mask = v;
    } else if (!strcmp(opt, "--alpha")) {
        if (!parse_unit(v, &a->alpha)) return cli_error(2, "bad --alpha '%s' (0..1)", v);
    } else if (!strcmp(opt, "--quality")) {
        if (!cli_parse_int(v, 1, 100, &n)) return cli_error(2, "bad --quality '%s' (1..100)", v);
        a->p.quality = (int)n;
    } else {
        return cli_error(2, "unknown option '%s' (see --help)", opt);
    }
    return 0;
}

static int parse_args(int argc, char **argv, ql_args *a) {
    memset(a, 0, sizeof *a);
    a->alpha = -1;
    a->p = eos_quicklook_default_params();
    int n_pos = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            help(stdout);
            return -1;
        }
        if (argv[i][0] == '-' && argv[i][1]) {
            int rc = parse_option(argc, argv, &i, a);
            if (rc) return rc;
        } else if (n_pos < 2) {
            *(n_pos++ ? &a->out : &a->image) = argv[i];
        } else {
            return cli_error(2, "unexpected argument '%s' (see --help)", argv[i]);
        }
    }
    if (n_pos != 2) {
        help(stderr);
        return 2;
    }
    if (a->alpha >= 0 && !a->mask) return cli_error(2, "--alpha needs --mask");
    if (a->alpha < 0) a->alpha = 0.5;
    return 0;
}

/* Show the selected bands: three as R,G,B, one as grey. */
static int set_bands(eos_raster *r, ql_args *a) {
    if (!a->bands) return 0;
    int sel[EOS_RASTER_MAX_BANDS];
    int n = eos_raster_selected_bands(r, sel);
    if (n != 1 && n != 3)
        return cli_error(2, "--bands '%s' selects %d bands: give 3 or 1", a->bands, n);
    for (int c = 0; c < 3; c++) a->p.bands[c] = n == 3 ? sel[c] : c == 0 ? sel[0] : 0;
    return 0;
}

/* Classes of the mask; colors/names stay NULL when the mask has none (built-in palette). */
typedef struct mask_classes {
    eos_rgba    *colors;
    char       (*names)[64];
    const char **name_ptrs;
    int          n;
} mask_classes;

static void mask_classes_free(mask_classes *mc) {
    eos_free(mc->colors);
    eos_free(mc->names);
    eos_free(mc->name_ptrs);
}

static int load_classes(eos_raster *mask, const char *path, mask_classes *mc) {
    memset(mc, 0, sizeof *mc);
    mc->colors = eos_malloc(MAX_CLASSES * sizeof *mc->colors);
    mc->names = eos_malloc(MAX_CLASSES * sizeof *mc->names);
    mc->name_ptrs = eos_malloc(MAX_CLASSES * sizeof *mc->name_ptrs);
    if (!mc->colors || !mc->names || !mc->name_ptrs) return cli_error(1, "out of memory");
    if (eos_raster_class_table(mask, mc->colors, mc->names, MAX_CLASSES, &mc->n) != EOS_OK)
        return cli_error(1, "%s: cannot read the class table", path);
    bool any_color = false;
    for (int i = 0; i < mc->n; i++) {
        any_color |= mc->colors[i].a != 0;
        mc->name_ptrs[i] = mc->names[i];
    }
    if (!any_color) {   /* no colour table: the quicklook's palette */
        eos_free(mc->colors);
        mc->colors = NULL;
    }
    if (mc->n == 0) {   /* no table at all: every class value a byte or u16 can hold */
        eos_band_info bi;
        int sel[EOS_RASTER_MAX_BANDS];
        eos_raster_selected_bands(mask, sel);
        bool u8 = eos_raster_band_info(mask, sel[0], &bi) == EOS_OK && bi.dtype == EOS_DTYPE_U8;
        mc->n = u8 ? 255 : MAX_CLASSES;
        eos_free(mc->name_ptrs);
        mc->name_ptrs = NULL;
    }
    return 0;
}

static int overlay(eos_ctx *ctx, eos_raster *img, const ql_args *a) {
    eos_raster *mask;
    if (eos_raster_open(ctx, a->mask, NULL, &mask) != EOS_OK)
        return cli_error(1, "%s", eos_ctx_errmsg(ctx));
    mask_classes mc;
    int rc = load_classes(mask, a->mask, &mc);
    if (!rc && eos_quicklook_overlay(ctx, img, mask, mc.colors, mc.name_ptrs, mc.n, a->alpha,
                                     &a->p, a->out) != EOS_OK)
        rc = cli_error(1, "%s", eos_ctx_errmsg(ctx));
    mask_classes_free(&mc);
    eos_raster_close(mask);
    return rc;
}

int cli_quicklook(int argc, char **argv) {
    ql_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc < 0 ? 0 : rc;
    eos_ctx *ctx;
    if (eos_ctx_create(NULL, &ctx) != EOS_OK) return cli_error(1, "cannot create a context");
    eos_raster_open_params op = eos_raster_default_open_params();
    op.bands = a.bands;
    eos_raster *img;
    if (eos_raster_open(ctx, a.image, &op, &img) != EOS_OK) {
        rc = cli_error(1, "%s", eos_ctx_errmsg(ctx));
        eos_ctx_free(ctx);
        return rc;
    }
    rc = set_bands(img, &a);
    if (!rc && a.mask) rc = overlay(ctx, img, &a);
    else if (!rc && eos_quicklook_rgb(ctx, img, &a.p, a.out) != EOS_OK)
        rc = cli_error(1, "%s", eos_ctx_errmsg(ctx));
    if (!rc) printf("%s\n", a.out);
    eos_raster_close(img);
    eos_ctx_free(ctx);
    return rc;
}

#else /* !EOS_WITH_GDAL */

int cli_quicklook(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return cli_error(1, "quicklook: this eosight was built without GDAL (EOS_WITH_GDAL=OFF)");
}

#endif
