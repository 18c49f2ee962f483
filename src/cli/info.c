/*
 * src/cli/info.c - `eosight info FILE [--json] [--bands LIST]`: what a raster is, in the spirit of
 * a compact gdalinfo: driver, size, CRS, geotransform, corners in map and lon/lat coordinates,
 * footprint box, and one line per band. --json prints eos_raster_info_json instead.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "eosight/raster.h"

#ifdef EOS_WITH_GDAL

static int info_usage(FILE *f, int code) {
    fprintf(f,
            "usage: eosight info FILE [--json] [--bands LIST]\n\n"
            "Describes a raster GDAL can read (GeoTIFF/COG, JPEG 2000, PNG, ...): driver, size,\n"
            "CRS (name and EPSG code), geotransform, pixel size, the corner coordinates in map\n"
            "units and in WGS 84 lon/lat, the lon/lat bounding box, whether a validity mask\n"
            "applies (nodata, per-dataset mask or alpha), and for each band its type, name,\n"
            "colour interpretation, nodata value, block size and overview count.\n\n"
            "  --json         print the description as one JSON object instead\n"
            "  --bands LIST   select bands as eosight reads them: 1-based indices (4,3,2) or\n"
            "                 names (B04,B03,B02) matched against descriptions and colours\n");
    return code;
}

static void print_corner(const eos_raster_info *in, const char *name, double col, double row) {
    const double *gt = in->georef.transform.gt;
    double x = gt[0] + col * gt[1] + row * gt[2], y = gt[3] + col * gt[4] + row * gt[5];
    printf("  %-12s (%16.4f, %16.4f)", name, x, y);
    double lon, lat;
    if (in->georef.crs &&
        eos_geo_pixel_to_lonlat(NULL, &in->georef, col, row, &lon, &lat) == EOS_OK)
        printf("  lon %12.7f, lat %11.7f", lon, lat);
    putchar('\n');
}

static void print_georef(const eos_raster_info *in) {
    const eos_crs *crs = in->georef.crs;
    if (crs && eos_crs_epsg(crs))
        printf("crs:       %s (EPSG:%d)\n", eos_crs_name(crs), eos_crs_epsg(crs));
    else if (crs) printf("crs:       %s (no EPSG code)\n", eos_crs_name(crs));
    else printf("crs:       none\n");
    if (!in->georef.has_transform) {
        printf("transform: none (pixel coordinates only)\n");
        return;
    }
    const double *gt = in->georef.transform.gt;
    printf("transform: [%.10g, %.10g, %.10g, %.10g, %.10g, %.10g]\n", gt[0], gt[1], gt[2], gt[3],
           gt[4], gt[5]);
    printf("pixel:     %.10g x %.10g %s\n", hypot(gt[1], gt[4]), hypot(gt[2], gt[5]),
           crs && eos_crs_is_geographic(crs) ? "degrees" : "map units");
    double w = (double)in->width_px, h = (double)in->height_px;
    printf("corners:   map x, y%s\n", crs ? " and lon/lat" : "");
    print_corner(in, "upper left", 0, 0);
    print_corner(in, "lower left", 0, h);
    print_corner(in, "upper right", w, 0);
    print_corner(in, "lower right", w, h);
    print_corner(in, "center", w / 2, h / 2);
    double bbox[4];
    if (crs &&
        eos_geo_footprint(NULL, &in->georef, in->width_px, in->height_px, 8, NULL, bbox) == EOS_OK)
        printf("bbox:      west %.7f, south %.7f, east %.7f, north %.7f (WGS 84)\n", bbox[0], bbox[1],
               bbox[2], bbox[3]);
}

static void print_band(const eos_raster *r, int b, bool selected) {
    eos_band_info bi;
    if (eos_raster_band_info(r, b, &bi) != EOS_OK) return;
    printf("  %c%3d  %-8s %-10s %-11s", selected ? '*' : ' ', bi.index, bi.gdal_type,
           bi.name[0] ? bi.name : "-", bi.color_interp);
    if (bi.has_nodata) printf(" nodata %-8.10g", bi.nodata);
    else printf(" %-15s", "no nodata");
    printf(" block %dx%d", bi.block_w, bi.block_h);
    if (bi.n_overviews) printf(", %d overviews", bi.n_overviews);
    if (bi.scale != 1.0 || bi.offset != 0.0) printf(", scale %g offset %g", bi.scale, bi.offset);
    if (bi.is_alpha) printf(", alpha");
    putchar('\n');
}

static void print_text(const char *path, const eos_raster *r) {
    eos_raster_info in;
    eos_raster_get_info(r, &in);
    printf("file:      %s\ndriver:    %s\n", path, in.driver);
    printf("size:      %lld x %lld px, %d band%s\n", (long long)in.width_px, (long long)in.height_px,
           in.n_bands, in.n_bands == 1 ? "" : "s");
    print_georef(&in);
    printf("mask:      %s\n", in.has_mask ? "yes (nodata, a mask band or alpha marks invalid pixels)"
                                          : "no (every pixel is valid)");
    int sel[EOS_RASTER_MAX_BANDS];
    int n_sel = eos_raster_selected_bands(r, sel);
    printf("bands:     (* = selected, %d of %d)\n", n_sel, in.n_bands);
    for (int b = 1; b <= in.n_bands; b++) {
        bool s = false;
        for (int i = 0; i < n_sel; i++) s = s || sel[i] == b;
        print_band(r, b, s);
    }
}

int cli_info(int argc, char **argv) {
    const char *path = NULL, *bands = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return info_usage(stdout, 0);
        if (!strcmp(argv[i], "--json")) json = true;
        else if (!strcmp(argv[i], "--bands") && i + 1 < argc) bands = argv[++i];
        else if (argv[i][0] == '-')
            return cli_error(2, "info: unknown option '%s' (see --help)", argv[i]);
        else if (path) return cli_error(2, "info: one FILE at a time");
        else path = argv[i];
    }
    if (!path) return info_usage(stderr, 2);
    eos_ctx *ctx;
    if (eos_ctx_create(NULL, &ctx) != EOS_OK)
        return cli_error(2, "cannot create a context (is EOS_BACKEND valid?)");
    eos_raster_open_params p = eos_raster_default_open_params();
    p.bands = bands;
    eos_raster *r;
    eos_status st = eos_raster_open(ctx, path, &p, &r);
    if (st != EOS_OK) {
        cli_error(1, "%s (%s)", eos_ctx_errmsg(ctx), eos_status_name(st));
        eos_ctx_free(ctx);
        return 1;
    }
    int rc = 0;
    if (json) {
        char *s;
        if (eos_raster_info_json(r, &s) == EOS_OK) {
            printf("%s\n", s);
            eos_free(s);
        } else {
            rc = cli_error(1, "out of memory describing '%s'", path);
        }
    } else {
        print_text(path, r);
    }
    eos_raster_close(r);
    eos_ctx_free(ctx);
    return rc;
}

#else /* !EOS_WITH_GDAL */

int cli_info(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return cli_error(1, "info: this eosight was built without GDAL (EOS_WITH_GDAL=OFF)");
}

#endif
