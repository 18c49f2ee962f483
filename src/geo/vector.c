/*
 * src/geo/vector.c - class mask raster -> polygons with class and area (eos_polygonize in
 * include/eosight/mask.h), written as GeoJSON, GeoPackage or CSV/WKT through OGR.
 *
 * Flow: GDALPolygonize reads band 1 of the mask scanline by scanline (the raster is never held
 * whole) into an OGR "Memory" layer, one polygon per connected region, holes included; the
 * band's own mask (nodata, per-dataset mask or alpha) keeps nodata pixels out. Each raw polygon
 * is then taken one at a time: skipped when its class is the nodata value (or 0 with
 * skip_class0), simplified, measured, dropped when smaller than min_area_m2, and written. The
 * memory layer is the only copy of all polygons; the output driver streams to disk.
 *
 * Units, stated once:
 *   simplify_m   projected CRS: metres / linear unit. Geographic CRS: metres / (metres per
 *                degree) at the feature's latitude (centre of its envelope), taking the larger
 *                of the meridian and parallel scales so no vertex moves more than simplify_m in
 *                any direction. No CRS: map units taken as metres (pixels without a transform).
 *   area_m2      projected CRS: planar area * linear_units_m^2. Geographic CRS: planar area in
 *                a Lambert azimuthal equal-area projection on WGS 84 ("+proj=laea +datum=WGS84")
 *                centred near the feature: projections are cached per 0.5 degree cell and
 *                centred on the cell, which changes areas by far less than 1e-6 relative
 *                (LAEA is equal-area everywhere; only the straightness of pixel edges differs)
 *                and saves building a PROJ transformation per polygon. No CRS: map units^2
 *                (pixels without a transform), as eos_mask_area_to_px counts them.
 *
 * GeoJSON is written with the GeoJSON driver's RFC7946=YES layer option, which reprojects from
 * the layer's CRS to WGS 84 lon/lat, winds exterior rings counter-clockwise and splits at the
 * antimeridian; COORDINATE_PRECISION=7 (about 1 cm). Outputs go to a temporary name and are
 * renamed on success: "out.part" for GeoJSON and GeoPackage (the driver is named explicitly, so
 * the extension does not matter), "out.part.csv" for CSV (the CSV driver writes a directory
 * for names not ending in .csv). CSV strings are quoted only when they need it
 * (STRING_QUOTING=IF_NEEDED), so class_id and area_m2 read as numbers.
 *
 * Class names: params->class_names by class index; when it is NULL, the band's category names
 * (GDAL's list, which eos_raster_writer writes for class masks) where non-empty; else
 * "class_<id>".
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <gdal_alg.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include "core/err.h"
#include "eosight/alloc.h"
#include "eosight/mask.h"
#include "io/gdal_util.h"

#define LAEA_CELL_DEG 0.5
#define LAEA_CACHE    64

eos_polygonize_params eos_polygonize_default_params(void) {
    eos_polygonize_params p;
    memset(&p, 0, sizeof p);
    p.format = EOS_VECTOR_AUTO;
    p.nodata = EOS_MASK_NODATA;
    return p;
}

/* ------------------------------------------------------------------ the mask */

typedef struct poly_src {
    const char          *path;
    GDALDatasetH         ds;
    GDALRasterBandH      band;
    OGRSpatialReferenceH srs;           /* clone with traditional GIS order; NULL when none */
    bool                 has_transform;
    bool                 geographic;
    double               units_m;       /* metres per map unit (1 without a projected CRS) */
    char               **categories;    /* borrowed from the band; may be NULL */
    int                  n_categories;
} poly_src;

static bool is_integer_type(GDALDataType t) {
    return t == GDT_Byte || t == GDT_UInt16 || t == GDT_Int16 || t == GDT_UInt32 ||
           t == GDT_Int32;
}

/* EOS_IO when the file cannot be read at all, EOS_PARSE when it is not a raster. */
static eos_status open_failed(const char *path, eos_err *err) {
    VSILFILE *f = VSIFOpenL(path, "rb");
    if (!f) return eos_err_set(err, EOS_IO, "mask '%s': cannot open (no such file?)", path);
    VSIFCloseL(f);
    return eos_gdal_fail(err, EOS_PARSE, "mask '%s': not a raster GDAL reads", path);
}

static eos_status open_mask(const char *path, poly_src *s, eos_err *err) {
    s->path = path;
    s->ds = GDALOpenEx(path, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!s->ds) return open_failed(path, err);
    if (GDALGetRasterCount(s->ds) < 1)
        return eos_err_set(err, EOS_PARSE, "mask '%s' has no raster band", path);
    s->band = GDALGetRasterBand(s->ds, 1);
    GDALDataType t = GDALGetRasterDataType(s->band);
    if (!is_integer_type(t))
        return eos_err_set(err, EOS_INVALID_ARG, "mask '%s' band 1 is %s: class masks hold "
                           "integer class indices", path, GDALGetDataTypeName(t));
    double gt[6];
    s->has_transform = GDALGetGeoTransform(s->ds, gt) == CE_None;
    OGRSpatialReferenceH srs = GDALGetSpatialRef(s->ds);
    s->units_m = 1.0;
    if (srs && s->has_transform) {
        s->srs = OSRClone(srs);
        if (!s->srs) return eos_err_set(err, EOS_NOMEM, "out of memory copying a CRS");
        OSRSetAxisMappingStrategy(s->srs, OAMS_TRADITIONAL_GIS_ORDER);
        s->geographic = OSRIsGeographic(s->srs) != 0;
        if (!s->geographic) {
            double u = OSRGetLinearUnits(s->srs, NULL);
            s->units_m = u > 0 ? u : 1.0;
        }
    }
    s->categories = GDALGetRasterCategoryNames(s->band);
    s->n_categories = CSLCount(s->categories);
    return EOS_OK;
}

static void close_mask(poly_src *s) {
    if (s->srs) OSRDestroySpatialReference(s->srs);
    if (s->ds) GDALClose(s->ds);
}

/* Polygonise band 1 into a new in-memory layer with one integer field, class_id. */
static eos_status polygonize_raw(const poly_src *s, bool connected8, GDALDatasetH *mem,
                                 OGRLayerH *layer, eos_err *err) {
    GDALDriverH drv = GDALGetDriverByName("Memory");
    *mem = drv ? GDALCreate(drv, "", 0, 0, 0, GDT_Unknown, NULL) : NULL;
    *layer = *mem ? GDALDatasetCreateLayer(*mem, "raw", s->srs, wkbPolygon, NULL) : NULL;
    if (!*layer) return eos_gdal_fail(err, EOS_NOMEM, "cannot create an in-memory layer");
    OGRFieldDefnH fd = OGR_Fld_Create("class_id", OFTInteger);
    OGRErr oe = OGR_L_CreateField(*layer, fd, TRUE);
    OGR_Fld_Destroy(fd);
    if (oe != OGRERR_NONE) return eos_gdal_fail(err, EOS_NOMEM, "cannot add a field");
    GDALRasterBandH mask = NULL;
    if (!(GDALGetMaskFlags(s->band) & GMF_ALL_VALID)) mask = GDALGetMaskBand(s->band);
    char *opts[] = { connected8 ? "8CONNECTED=8" : NULL, NULL };
    if (GDALPolygonize(s->band, mask, *layer, 0, opts, NULL, NULL) != CE_None)
        return eos_gdal_fail(err, EOS_IO, "mask '%s': polygonising failed", s->path);
    return EOS_OK;
}

/* ------------------------------------------------------------------ the output */

typedef struct poly_out {
    eos_vector_format fmt;
    char             *tmp;      /* temporary path, eos_malloc'd */
    GDALDatasetH      ds;
    OGRLayerH         layer;
    bool              in_transaction;
} poly_out;

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcasecmp(s + n - m, suffix);
}

static eos_status resolve_format(const char *out_path, eos_vector_format fmt,
                                 eos_vector_format *out, eos_err *err) {
    if (fmt == EOS_VECTOR_AUTO) {
        if (ends_with(out_path, ".geojson") || ends_with(out_path, ".json"))
            fmt = EOS_VECTOR_GEOJSON;
        else if (ends_with(out_path, ".gpkg"))
            fmt = EOS_VECTOR_GPKG;
        else if (ends_with(out_path, ".csv") || ends_with(out_path, ".wkt"))
            fmt = EOS_VECTOR_WKT_CSV;
        else
            return eos_err_set(err, EOS_INVALID_ARG, "output '%s': unknown extension (use "
                               ".geojson, .json, .gpkg, .csv or .wkt)", out_path);
    }
    if (fmt != EOS_VECTOR_GEOJSON && fmt != EOS_VECTOR_GPKG && fmt != EOS_VECTOR_WKT_CSV)
        return eos_err_set(err, EOS_INVALID_ARG, "unknown vector format %d", (int)fmt);
    *out = fmt;
    return EOS_OK;
}

static eos_status add_field(OGRLayerH layer, const char *name, OGRFieldType t, eos_err *err) {
    OGRFieldDefnH fd = OGR_Fld_Create(name, t);
    OGRErr oe = OGR_L_CreateField(layer, fd, TRUE);
    OGR_Fld_Destroy(fd);
    return oe == OGRERR_NONE ? EOS_OK : eos_gdal_fail(err, EOS_IO, "cannot add field %s", name);
}

/* Layer name: the output's file name without directory and extension. */
static void layer_name(const char *out_path, char *name, size_t size) {
    const char *base = strrchr(out_path, '/');
    base = base ? base + 1 : out_path;
    snprintf(name, size, "%s", base);
    char *dot = strrchr(name, '.');
    if (dot && dot != name) *dot = '\0';
    if (!*name) snprintf(name, size, "polygons");
}

static eos_status create_output(const char *out_path, const poly_src *s, poly_out *o,
                                eos_err *err) {
    static const char *const drivers[] = { NULL, "GeoJSON", "GPKG", "CSV" };
    size_t n = strlen(out_path) + 16;
    o->tmp = eos_malloc(n);
    if (!o->tmp) return eos_err_set(err, EOS_NOMEM, "out of memory");
    snprintf(o->tmp, n, "%s%s", out_path, o->fmt == EOS_VECTOR_WKT_CSV ? ".part.csv" : ".part");
    VSIUnlink(o->tmp);   /* a leftover of an interrupted run */
    GDALDriverH drv = GDALGetDriverByName(drivers[o->fmt]);
    o->ds = drv ? GDALCreate(drv, o->tmp, 0, 0, 0, GDT_Unknown, NULL) : NULL;
    if (!o->ds) return eos_gdal_fail(err, EOS_IO, "cannot create '%s'", o->tmp);
    char name[256];
    layer_name(out_path, name, sizeof name);
    char **lco = NULL;
    if (o->fmt == EOS_VECTOR_GEOJSON) {
        lco = CSLSetNameValue(lco, "RFC7946", "YES");
        lco = CSLSetNameValue(lco, "COORDINATE_PRECISION", "7");
    } else if (o->fmt == EOS_VECTOR_WKT_CSV) {
        lco = CSLSetNameValue(lco, "GEOMETRY", "AS_WKT");
        lco = CSLSetNameValue(lco, "STRING_QUOTING", "IF_NEEDED");
    }
    OGRSpatialReferenceH srs = o->fmt == EOS_VECTOR_WKT_CSV ? NULL : s->srs;
    o->layer = GDALDatasetCreateLayer(o->ds, name, srs, wkbPolygon, lco);
    CSLDestroy(lco);
    if (!o->layer) return eos_gdal_fail(err, EOS_IO, "cannot create a layer in '%s'", o->tmp);
    EOS_TRY(add_field(o->layer, "class_id", OFTInteger, err));
    EOS_TRY(add_field(o->layer, "class_name", OFTString, err));
    EOS_TRY(add_field(o->layer, "area_m2", OFTReal, err));
    o->in_transaction = GDALDatasetStartTransaction(o->ds, FALSE) == OGRERR_NONE;
    return EOS_OK;
}

/* Close the output and rename it into place; on failure (or when st is already an error)
 * remove the temporary file. */
static eos_status finish_output(poly_out *o, const char *out_path, eos_status st,
                                eos_err *err) {
    if (o->ds && !st && o->in_transaction && GDALDatasetCommitTransaction(o->ds) != OGRERR_NONE)
        st = eos_gdal_fail(err, EOS_IO, "cannot write '%s'", o->tmp);
    if (o->ds) {
        CPLErrorReset();
        GDALClose(o->ds);
        if (!st && CPLGetLastErrorType() == CE_Failure)
            st = eos_gdal_fail(err, EOS_IO, "cannot finish '%s'", o->tmp);
    }
    if (!st && VSIRename(o->tmp, out_path) != 0)
        st = eos_err_set(err, EOS_IO, "cannot rename '%s' to '%s'", o->tmp, out_path);
    if (st && o->tmp) VSIUnlink(o->tmp);
    eos_free(o->tmp);
    return st;
}

/* ------------------------------------------------------------------ areas and tolerances */

typedef struct laea_entry {
    int64_t                       key;
    OGRSpatialReferenceH          srs;
    OGRCoordinateTransformationH  ct;
} laea_entry;

typedef struct laea_cache {
    laea_entry e[LAEA_CACHE];
    int        n, next;    /* entries used; next one to evict */
} laea_cache;

static void laea_cache_free(laea_cache *c) {
    for (int i = 0; i < c->n; i++) {
        OCTDestroyCoordinateTransformation(c->e[i].ct);
        OSRDestroySpatialReference(c->e[i].srs);
    }
}

/* The transformation from the source CRS to an LAEA centred on the 0.5 degree cell holding
 * (lon, lat). */
static OGRCoordinateTransformationH laea_for(laea_cache *c, OGRSpatialReferenceH src,
                                             double lon, double lat) {
    int64_t ky = (int64_t)floor(lat / LAEA_CELL_DEG), kx = (int64_t)floor(lon / LAEA_CELL_DEG);
    int64_t key = ky * 100000 + kx;
    for (int i = 0; i < c->n; i++)
        if (c->e[i].key == key) return c->e[i].ct;
    double lat0 = ((double)ky + 0.5) * LAEA_CELL_DEG, lon0 = ((double)kx + 0.5) * LAEA_CELL_DEG;
    if (lat0 > 90) lat0 = 90;
    if (lat0 < -90) lat0 = -90;
    char def[160];
    snprintf(def, sizeof def, "+proj=laea +lat_0=%.6f +lon_0=%.6f +datum=WGS84 +units=m +no_defs",
             lat0, lon0);
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    if (!srs) return NULL;
    OGRCoordinateTransformationH ct = NULL;
    if (OSRSetFromUserInput(srs, def) == OGRERR_NONE) {
        OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
        ct = OCTNewCoordinateTransformation(src, srs);
    }
    if (!ct) {
        OSRDestroySpatialReference(srs);
        return NULL;
    }
    laea_entry *e;
    if (c->n < LAEA_CACHE) {
        e = &c->e[c->n++];
    } else {   /* evict the oldest */
        e = &c->e[c->next];
        c->next = (c->next + 1) % LAEA_CACHE;
        OCTDestroyCoordinateTransformation(e->ct);
        OSRDestroySpatialReference(e->srs);
    }
    e->key = key;
    e->srs = srs;
    e->ct = ct;
    return ct;
}

/* Metres per degree along the meridian and along the parallel at lat_deg (WGS 84); returns
 * the larger. */
static double metres_per_degree(double lat_deg) {
    const double a = 6378137.0, f = 1.0 / 298.257223563, e2 = f * (2.0 - f);
    const double d2r = 3.14159265358979323846 / 180.0;
    double s = sin(lat_deg * d2r), w = 1.0 - e2 * s * s;
    double m = a * (1.0 - e2) / (w * sqrt(w)) * d2r, n = a / sqrt(w) * cos(lat_deg * d2r) * d2r;
    return m > n ? m : n;
}

typedef struct poly_job {
    const poly_src              *src;
    const eos_polygonize_params *p;
    poly_out                     out;
    laea_cache                   laea;
    eos_polygonize_stats         stats;
} poly_job;

static eos_status feature_area(poly_job *j, OGRGeometryH g, double lon, double lat,
                               double *area, eos_err *err) {
    if (!j->src->geographic) {
        *area = OGR_G_Area(g) * j->src->units_m * j->src->units_m;
        return EOS_OK;
    }
    OGRCoordinateTransformationH ct = laea_for(&j->laea, j->src->srs, lon, lat);
    if (!ct)
        return eos_gdal_fail(err, EOS_UNSUPPORTED, "mask '%s': cannot project its CRS to an "
                             "equal-area CRS for areas", j->src->path);
    OGRGeometryH c = OGR_G_Clone(g);
    if (!c) return eos_err_set(err, EOS_NOMEM, "out of memory");
    OGRErr oe = OGR_G_Transform(c, ct);
    *area = oe == OGRERR_NONE ? OGR_G_Area(c) : NAN;
    OGR_G_DestroyGeometry(c);
    if (oe != OGRERR_NONE)
        return eos_gdal_fail(err, EOS_INVALID_ARG, "mask '%s': a polygon near lon %.4f lat %.4f "
                             "cannot be projected for its area", j->src->path, lon, lat);
    return EOS_OK;
}

/* Simplify *g in place (when asked) with the tolerance in map units. */
static eos_status simplify(poly_job *j, OGRGeometryH *g, double lat, eos_err *err) {
    if (!(j->p->simplify_m > 0)) return EOS_OK;
    double tol = j->p->simplify_m / j->src->units_m;
    if (j->src->geographic) tol = j->p->simplify_m / metres_per_degree(lat);
    OGRGeometryH s = OGR_G_SimplifyPreserveTopology(*g, tol);
    if (!s) return eos_gdal_fail(err, EOS_INTERNAL, "simplifying a polygon failed");
    OGR_G_DestroyGeometry(*g);
    *g = s;
    return EOS_OK;
}

/* ------------------------------------------------------------------ features */

static const char *class_name(const poly_job *j, int id, char *buf, size_t size) {
    const eos_polygonize_params *p = j->p;
    if (p->class_names) {
        if (id >= 0 && id < p->n_classes && p->class_names[id]) return p->class_names[id];
    } else if (id >= 0 && id < j->src->n_categories && j->src->categories[id][0]) {
        return j->src->categories[id];
    }
    snprintf(buf, size, "class_%d", id);
    return buf;
}

/* Write one polygon (takes ownership of g). */
static eos_status write_feature(poly_job *j, int id, OGRGeometryH g, double area,
                                eos_err *err) {
    OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(j->out.layer));
    if (!f) {
        OGR_G_DestroyGeometry(g);
        return eos_err_set(err, EOS_NOMEM, "out of memory");
    }
    char buf[32];
    OGR_F_SetFieldInteger(f, 0, id);
    OGR_F_SetFieldString(f, 1, class_name(j, id, buf, sizeof buf));
    OGR_F_SetFieldDouble(f, 2, area);
    OGR_F_SetGeometryDirectly(f, g);
    OGRErr oe = OGR_L_CreateFeature(j->out.layer, f);
    OGR_F_Destroy(f);
    if (oe != OGRERR_NONE) return eos_gdal_fail(err, EOS_IO, "cannot write '%s'", j->out.tmp);
    j->stats.n_features++;
    j->stats.total_area_m2 += area;
    return EOS_OK;
}

/* Filter, simplify, measure and write one raw polygon feature. */
static eos_status process_feature(poly_job *j, OGRFeatureH raw, eos_err *err) {
    int id = OGR_F_GetFieldAsInteger(raw, 0);
    if ((j->p->nodata >= 0 && id == j->p->nodata) || (j->p->skip_class0 && id == 0))
        return EOS_OK;
    OGRGeometryH g = OGR_F_StealGeometry(raw);
    if (!g) return EOS_OK;
    OGREnvelope env;
    OGR_G_GetEnvelope(g, &env);
    double lon = 0.5 * (env.MinX + env.MaxX), lat = 0.5 * (env.MinY + env.MaxY), area = 0;
    eos_status st = simplify(j, &g, lat, err);
    if (!st && OGR_G_IsEmpty(g)) {
        j->stats.n_dropped++;
        OGR_G_DestroyGeometry(g);
        return EOS_OK;
    }
    if (!st) st = feature_area(j, g, lon, lat, &area, err);
    if (!st && area < j->p->min_area_m2) {
        j->stats.n_dropped++;
        OGR_G_DestroyGeometry(g);
        return EOS_OK;
    }
    if (st) {
        OGR_G_DestroyGeometry(g);
        return st;
    }
    return write_feature(j, id, g, area, err);
}

static eos_status write_all(poly_job *j, OGRLayerH raw, eos_err *err) {
    OGR_L_ResetReading(raw);
    OGRFeatureH f;
    while ((f = OGR_L_GetNextFeature(raw)) != NULL) {
        eos_status st = process_feature(j, f, err);
        OGR_F_Destroy(f);
        if (st) return st;
    }
    return EOS_OK;
}

/* ------------------------------------------------------------------ entry point */

static eos_status check_params(const eos_polygonize_params *p, eos_err *err) {
    if (p->n_classes < 0 || (p->n_classes > 0 && !p->class_names))
        return eos_err_set(err, EOS_INVALID_ARG, "n_classes %d without class_names",
                           p->n_classes);
    if (!(p->simplify_m >= 0) || !isfinite(p->simplify_m))
        return eos_err_set(err, EOS_INVALID_ARG, "simplify tolerance must be >= 0 m");
    if (!(p->min_area_m2 >= 0))
        return eos_err_set(err, EOS_INVALID_ARG, "min_area_m2 must be >= 0");
    return EOS_OK;
}

static eos_status polygonize(const char *mask_path, const char *out_path, poly_job *j,
                             eos_err *err) {
    poly_src src = { 0 };
    GDALDatasetH mem = NULL;
    OGRLayerH raw = NULL;
    j->src = &src;
    eos_status st = resolve_format(out_path, j->p->format, &j->out.fmt, err);
    if (!st) st = open_mask(mask_path, &src, err);
    if (!st && j->out.fmt == EOS_VECTOR_GEOJSON && !src.srs)
        st = eos_err_set(err, EOS_INVALID_ARG, "mask '%s' has no georeferencing (CRS and "
                         "geotransform): GeoJSON needs lon/lat; write .gpkg or .csv instead",
                         mask_path);
    if (!st) st = polygonize_raw(&src, j->p->connected8, &mem, &raw, err);
    if (!st) st = create_output(out_path, &src, &j->out, err);
    if (!st) st = write_all(j, raw, err);
    st = finish_output(&j->out, out_path, st, err);
    laea_cache_free(&j->laea);
    if (mem) GDALClose(mem);
    close_mask(&src);
    return st;
}

eos_status eos_polygonize(eos_ctx *ctx, const char *mask_path, const char *out_path,
                          const eos_polygonize_params *params, eos_polygonize_stats *stats) {
    eos_err err = { 0 };
    eos__ctx_clear(ctx);
    if (stats) memset(stats, 0, sizeof *stats);
    eos_polygonize_params defaults = eos_polygonize_default_params();
    poly_job j;
    memset(&j, 0, sizeof j);
    j.p = params ? params : &defaults;
    if (!mask_path || !out_path) {
        eos_err_set(&err, EOS_INVALID_ARG, "mask and output paths are required");
        return eos__ctx_fail(ctx, &err);
    }
    eos_status st = check_params(j.p, &err);
    if (!st) {
        eos_gdal_init();
        eos_gdal_quiet_begin();
        st = polygonize(mask_path, out_path, &j, &err);
        eos_gdal_quiet_end();
    }
    if (st) return eos__ctx_fail(ctx, &err);
    if (stats) *stats = j.stats;
    return EOS_OK;
}
