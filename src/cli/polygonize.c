/*
 * src/cli/polygonize.c - the two commands that turn a predicted class mask into deliverables:
 *
 *   eosight polygonize MASK.tif OUT.{geojson,gpkg,csv} [...]   (eos_polygonize)
 *   eosight clean-mask IN.tif OUT.tif [...]                     (eos_mask_clean)
 *
 * polygonize streams (GDAL reads the mask scanline by scanline). clean-mask works in memory:
 * the mask (1 byte per pixel) plus one scratch mask of the same size, so it refuses masks of
 * more than CLEAN_MAX_PX pixels with a message. Reading and writing go through
 * eos_raster_open/read and eos_raster_writer; this file never includes GDAL headers.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "eosight/alloc.h"
#include "eosight/mask.h"
#include "eosight/raster.h"

#ifdef EOS_WITH_GDAL

#define CLEAN_MAX_PX   ((int64_t)1 << 31)   /* 2^31 px: about 4 GiB of memory while cleaning */
#define CLEAN_STRIP    1024                 /* rows per read/write call */
#define MAX_CLASS_NAMES 65536

/* Parse a finite number >= 0. */
static bool parse_nonneg(const char *s, double *out) {
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v) || v < 0) return false;
    *out = v;
    return true;
}

/* ------------------------------------------------------------------ polygonize */

static int polygonize_usage(FILE *f, int code) {
    fprintf(f,
            "usage: eosight polygonize MASK.tif OUT.{geojson,gpkg,csv} [options]\n\n"
            "Turns a class mask (band 1: one class index per pixel) into polygons, one per\n"
            "connected region of a class, holes kept, each with class_id, class_name and area_m2.\n"
            "  .geojson/.json  RFC 7946 GeoJSON: WGS 84 lon/lat, counter-clockwise exteriors\n"
            "                  (the mask must have a CRS and geotransform)\n"
            "  .gpkg           GeoPackage in the mask's CRS\n"
            "  .csv/.wkt       CSV with columns WKT,class_id,class_name,area_m2 (mask's CRS)\n"
            "Areas are planar in a projected CRS and on the WGS 84 ellipsoid (equal-area\n"
            "projection) for a geographic one. The mask's nodata pixels make no polygon.\n\n"
            "  --classes a,b,c    class names by class index (default: the mask's category\n"
            "                     names, else class_<id>)\n"
            "  --simplify M       simplify outlines with a tolerance of M metres (topology kept)\n"
            "  --min-area M2      drop polygons smaller than M2 square metres\n"
            "  --skip-background  emit no polygons of class 0\n"
            "  --8conn            pixels touching at a corner join one polygon (default: edges)\n"
            "  --nodata N|none    class value never emitted (default 255)\n");
    return code;
}

/* Split "a,b,c" into names (pointers into a copy of s). */
static bool split_classes(const char *s, char **copy, const char ***names, int *n) {
    int count = 1;
    for (const char *p = s; *p; p++) count += *p == ',';
    if (count > MAX_CLASS_NAMES) return false;
    *copy = eos_strdup(s);
    *names = eos_malloc((size_t)count * sizeof **names);
    if (!*copy || !*names) return false;
    char *p = *copy;
    for (int i = 0; i < count; i++) {
        (*names)[i] = p;
        char *comma = strchr(p, ',');
        if (comma) {
            *comma = '\0';
            p = comma + 1;
        }
    }
    *n = count;
    return true;
}

typedef struct poly_args {
    const char *mask, *out, *classes;
    eos_polygonize_params p;
} poly_args;

/* Returns 0 on success, else the exit code (the message printed). */
static int parse_polygonize(int argc, char **argv, poly_args *a) {
    a->p = eos_polygonize_default_params();
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) return polygonize_usage(stdout, -1);
        if (!strcmp(o, "--skip-background")) { a->p.skip_class0 = true; continue; }
        if (!strcmp(o, "--8conn")) { a->p.connected8 = true; continue; }
        if (o[0] != '-') {
            if (!a->mask) a->mask = o;
            else if (!a->out) a->out = o;
            else return cli_error(2, "polygonize: unexpected argument '%s'", o);
            continue;
        }
        if (!v) return cli_error(2, "polygonize: %s needs a value", o);
        i++;
        if (!strcmp(o, "--classes")) a->classes = v;
        else if (!strcmp(o, "--simplify") && parse_nonneg(v, &a->p.simplify_m)) continue;
        else if (!strcmp(o, "--min-area") && parse_nonneg(v, &a->p.min_area_m2)) continue;
        else if (!strcmp(o, "--nodata") && !strcmp(v, "none")) a->p.nodata = -1;
        else if (!strcmp(o, "--nodata") && cli_parse_int(v, 0, 2147483647L, &n))
            a->p.nodata = (int)n;
        else if (!strcmp(o, "--simplify") || !strcmp(o, "--min-area") || !strcmp(o, "--nodata"))
            return cli_error(2, "polygonize: bad value '%s' for %s", v, o);
        else return cli_error(2, "polygonize: unknown option '%s' (see --help)", o);
    }
    if (!a->mask || !a->out) return polygonize_usage(stderr, 2);
    return 0;
}

int cli_polygonize(int argc, char **argv) {
    poly_args a;
    memset(&a, 0, sizeof a);
    int rc = parse_polygonize(argc, argv, &a);
    if (rc) return rc < 0 ? 0 : rc;
    char *copy = NULL;
    const char **names = NULL;
    if (a.classes && !split_classes(a.classes, &copy, &names, &a.p.n_classes)) {
        eos_free(copy);
        eos_free(names);
        return cli_error(2, "polygonize: --classes: too many names or out of memory");
    }
    a.p.class_names = names;
    eos_ctx *ctx;
    if (eos_ctx_create(NULL, &ctx) != EOS_OK) {
        eos_free(copy);
        eos_free(names);
        return cli_error(2, "cannot create a context (is EOS_BACKEND valid?)");
    }
    eos_polygonize_stats st;
    eos_status s = eos_polygonize(ctx, a.mask, a.out, &a.p, &st);
    if (s != EOS_OK) {
        rc = cli_error(s == EOS_INVALID_ARG ? 2 : 1, "%s (%s)", eos_ctx_errmsg(ctx),
                       eos_status_name(s));
    } else {
        printf("%s: %lld polygon%s, %.10g m2", a.out, (long long)st.n_features,
               st.n_features == 1 ? "" : "s", st.total_area_m2);
        if (st.n_dropped)
            printf(" (%lld smaller than --min-area dropped)", (long long)st.n_dropped);
        putchar('\n');
    }
    eos_ctx_free(ctx);
    eos_free(copy);
    eos_free(names);
    return rc;
}

/* ------------------------------------------------------------------ clean-mask */

static int clean_usage(FILE *f, int code) {
    fprintf(f,
            "usage: eosight clean-mask IN.tif OUT.tif [options]\n\n"
            "Cleans an 8-bit class mask (band 1) the way segmentation outputs are tidied before\n"
            "polygonising. For each class in turn (ascending; not background 0, not nodata):\n"
            "closing, opening, then removal of small objects and filling of small holes. Pixels\n"
            "taken from a class go to the most frequent neighbouring class. Nodata pixels (the\n"
            "band's nodata value, else 255) never change. OUT is a tiled GeoTIFF with IN's\n"
            "georeferencing, nodata, colours and class names.\n\n"
            "  --open R         opening with a disk of radius R px (removes thin spurs)\n"
            "  --close R        closing with a disk of radius R px (closes thin gaps)\n"
            "  --min-object A   objects (8-connected) smaller than A lose their class\n"
            "  --min-hole A     holes (4-connected, not touching the border) smaller than A\n"
            "                   are filled\n"
            "A is a pixel count (50) or an area in square metres (200m2: needs a georeferenced\n"
            "mask). The mask is cleaned in memory (about 2 bytes per pixel); masks of more than\n"
            "2^31 pixels are refused: clean tiles of them instead.\n");
    return code;
}

typedef struct clean_args {
    const char *in, *out;
    const char *min_object, *min_hole;   /* PX or Nm2, converted once the mask is open */
    eos_mask_clean_params p;
} clean_args;

static int parse_clean(int argc, char **argv, clean_args *a) {
    a->p = eos_mask_clean_default_params();
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) return clean_usage(stdout, -1);
        if (o[0] != '-') {
            if (!a->in) a->in = o;
            else if (!a->out) a->out = o;
            else return cli_error(2, "clean-mask: unexpected argument '%s'", o);
            continue;
        }
        if (!v) return cli_error(2, "clean-mask: %s needs a value", o);
        i++;
        bool radius = cli_parse_int(v, 0, 32767, &n);
        if (!strcmp(o, "--open") && radius) a->p.open_radius_px = (int)n;
        else if (!strcmp(o, "--close") && radius) a->p.close_radius_px = (int)n;
        else if (!strcmp(o, "--min-object")) a->min_object = v;
        else if (!strcmp(o, "--min-hole")) a->min_hole = v;
        else if (!strcmp(o, "--open") || !strcmp(o, "--close"))
            return cli_error(2, "clean-mask: bad radius '%s' for %s (0..32767 px)", v, o);
        else return cli_error(2, "clean-mask: unknown option '%s' (see --help)", o);
    }
    if (!a->in || !a->out) return clean_usage(stderr, 2);
    return 0;
}

static const char k_area_forms[] = "pixels, or m2 as in 200m2";

/* "50" -> 50 px; "200m2" -> pixels covering 200 m2 for the mask's georeferencing. */
static int parse_area(const char *opt, const char *s, const eos_raster_info *info, int64_t *px) {
    char *end;
    double v = strtod(s, &end);
    if (end == s || !isfinite(v) || v < 0)
        return cli_error(2, "clean-mask: bad value '%s' for %s (%s)", s, opt, k_area_forms);
    if (!strcmp(end, "m2")) {
        if (!info->georef.has_transform || !info->georef.crs)
            return cli_error(1, "clean-mask: %s %s: the mask has no georeferencing; give pixels",
                             opt, s);
        *px = eos_mask_area_to_px(&info->georef, info->width_px, info->height_px, v);
        return 0;
    }
    if (*end || v != floor(v) || v > 9e18)
        return cli_error(2, "clean-mask: bad value '%s' for %s (%s)", s, opt, k_area_forms);
    *px = (int64_t)v;
    return 0;
}

typedef struct clean_mask {
    eos_raster      *r;
    eos_raster_info  info;
    uint8_t         *px;
    eos_rgba         colors[256];
    char             names[256][64];
    int              n_classes;
} clean_mask;

/* Open IN, check it is an 8-bit mask small enough, take its nodata value. */
static int open_clean_input(eos_ctx *ctx, clean_args *a, clean_mask *m) {
    eos_raster_open_params op = eos_raster_default_open_params();
    op.bands = "1";
    eos_status s = eos_raster_open(ctx, a->in, &op, &m->r);
    if (s) return cli_error(1, "%s (%s)", eos_ctx_errmsg(ctx), eos_status_name(s));
    eos_raster_get_info(m->r, &m->info);
    eos_band_info bi;
    if (eos_raster_band_info(m->r, 1, &bi) != EOS_OK || bi.dtype != EOS_DTYPE_U8)
        return cli_error(1, "clean-mask: '%s' band 1 is %s: clean-mask works on 8-bit (Byte) "
                         "class masks", a->in, bi.gdal_type);
    int64_t w = m->info.width_px, h = m->info.height_px;
    if (w > CLEAN_MAX_PX / h)
        return cli_error(1, "clean-mask: '%s' is %lld x %lld px, more than the 2^31 px cleaned "
                         "in memory; clean it in tiles", a->in, (long long)w, (long long)h);
    if (bi.has_nodata && bi.nodata >= 0 && bi.nodata <= 255 && bi.nodata == floor(bi.nodata))
        a->p.nodata = (uint8_t)bi.nodata;
    if (eos_raster_class_table(m->r, m->colors, m->names, 256, &m->n_classes) != EOS_OK)
        m->n_classes = 0;
    return 0;
}

/* Read the whole mask; invalid pixels (GDAL mask, alpha) become nodata. */
static int read_mask(clean_mask *m, uint8_t nodata) {
    int64_t w = m->info.width_px, h = m->info.height_px;
    m->px = eos_malloc((size_t)(w * h));
    uint8_t *valid = eos_malloc((size_t)w * CLEAN_STRIP);
    int rc = 0;
    if (!m->px || !valid) rc = cli_error(1, "clean-mask: out of memory for a %lld x %lld mask",
                                         (long long)w, (long long)h);
    for (int64_t y = 0; !rc && y < h; y += CLEAN_STRIP) {
        int rows = (int)(h - y < CLEAN_STRIP ? h - y : CLEAN_STRIP);
        uint8_t *dst = m->px + (size_t)(y * w);
        eos_status s = eos_raster_read(m->r, 0, y, (int)w, rows, EOS_DTYPE_U8, dst, valid,
                                       EOS_PAD_NODATA);
        if (s) rc = cli_error(1, "%s (%s)", eos_raster_errmsg(m->r), eos_status_name(s));
        for (int64_t i = 0; !rc && i < (int64_t)rows * w; i++)
            if (!valid[i]) dst[i] = nodata;
    }
    eos_free(valid);
    return rc;
}

static int write_mask(eos_ctx *ctx, const clean_args *a, clean_mask *m) {
    eos_raster_writer_params wp = eos_raster_writer_default_params();
    wp.format = EOS_RASTER_GTIFF;
    wp.width_px = m->info.width_px;
    wp.height_px = m->info.height_px;
    wp.n_bands = 1;
    wp.dtype = EOS_DTYPE_U8;
    wp.georef = m->info.georef;
    wp.has_nodata = true;
    wp.nodata = a->p.nodata;
    const char *names[256];
    bool any_color = false, any_name = false;
    for (int i = 0; i < m->n_classes; i++) {
        names[i] = m->names[i];
        any_name = any_name || m->names[i][0];
        const eos_rgba *c = &m->colors[i];
        any_color = any_color || c->a || c->r || c->g || c->b;
    }
    if (any_color || any_name) {
        wp.n_classes = m->n_classes;
        wp.colors = any_color ? m->colors : NULL;
        wp.class_names = any_name ? names : NULL;
    }
    eos_raster_writer *w;
    eos_status s = eos_raster_writer_create(ctx, a->out, &wp, &w);
    if (s) return cli_error(1, "%s (%s)", eos_ctx_errmsg(ctx), eos_status_name(s));
    int64_t width = m->info.width_px, h = m->info.height_px;
    for (int64_t y = 0; y < h; y += CLEAN_STRIP) {
        int rows = (int)(h - y < CLEAN_STRIP ? h - y : CLEAN_STRIP);
        s = eos_raster_writer_write(w, 0, y, (int)width, rows, EOS_DTYPE_U8,
                                    m->px + (size_t)(y * width));
        if (s) {
            cli_error(1, "%s (%s)", eos_raster_writer_errmsg(w), eos_status_name(s));
            eos_raster_writer_discard(w);
            return 1;
        }
    }
    s = eos_raster_writer_close(ctx, w);
    return s ? cli_error(1, "%s (%s)", eos_ctx_errmsg(ctx), eos_status_name(s)) : 0;
}

static int clean_run(eos_ctx *ctx, clean_args *a, clean_mask *m) {
    int rc = open_clean_input(ctx, a, m);
    if (!rc && a->min_object)
        rc = parse_area("--min-object", a->min_object, &m->info, &a->p.min_object_px);
    if (!rc && a->min_hole)
        rc = parse_area("--min-hole", a->min_hole, &m->info, &a->p.min_hole_px);
    if (!rc) rc = read_mask(m, a->p.nodata);
    if (rc) return rc;
    eos_status s = eos_mask_clean(m->px, m->info.width_px, m->info.height_px, &a->p);
    if (s) return cli_error(1, "clean-mask: cleaning failed (%s)", eos_status_name(s));
    rc = write_mask(ctx, a, m);
    if (!rc)
        printf("%s: %lld x %lld px cleaned (close %d, open %d, min object %lld px, min hole "
               "%lld px, nodata %d)\n", a->out, (long long)m->info.width_px,
               (long long)m->info.height_px, a->p.close_radius_px, a->p.open_radius_px,
               (long long)a->p.min_object_px, (long long)a->p.min_hole_px, a->p.nodata);
    return rc;
}

int cli_clean_mask(int argc, char **argv) {
    clean_args a;
    memset(&a, 0, sizeof a);
    int rc = parse_clean(argc, argv, &a);
    if (rc) return rc < 0 ? 0 : rc;
    eos_ctx *ctx;
    if (eos_ctx_create(NULL, &ctx) != EOS_OK)
        return cli_error(2, "cannot create a context (is EOS_BACKEND valid?)");
    clean_mask *m = eos_calloc(1, sizeof *m);
    rc = m ? clean_run(ctx, &a, m) : cli_error(1, "out of memory");
    if (m) {
        eos_raster_close(m->r);
        eos_free(m->px);
        eos_free(m);
    }
    eos_ctx_free(ctx);
    return rc;
}

#else /* !EOS_WITH_GDAL */

int cli_polygonize(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return cli_error(1, "polygonize: this eosight was built without GDAL (EOS_WITH_GDAL=OFF)");
}

int cli_clean_mask(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return cli_error(1, "clean-mask: this eosight was built without GDAL (EOS_WITH_GDAL=OFF)");
}

#endif
