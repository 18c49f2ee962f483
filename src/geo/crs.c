/*
 * src/geo/crs.c - eos_crs: an immutable OSR spatial reference with its WKT, EPSG code and name
 * computed once at creation (include/eosight/geo.h).
 *
 * The OSR handle is set to the traditional GIS axis order (x = easting/longitude) at creation,
 * so no caller of eosight ever sees the EPSG database's lat/lon order for geographic CRSs.
 * The EPSG code comes from the definition's own authority or, failing that, from PROJ's
 * identification against its database (definitions given as PROJ strings or bare WKT).
 */
#include "geo/geo_internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>
#include <ogr_srs_api.h>

#include "eosight/alloc.h"
#include "io/gdal_util.h"

/* The code of an "EPSG" authority node on srs's root, else 0. */
static int epsg_authority(OGRSpatialReferenceH srs) {
    const char *auth = OSRGetAuthorityName(srs, NULL);
    const char *code = OSRGetAuthorityCode(srs, NULL);
    if (!auth || !code || strcmp(auth, "EPSG")) return 0;
    long v = strtol(code, NULL, 10);
    return v > 0 && v <= INT_MAX ? (int)v : 0;
}

/* srs's own EPSG code, or else the first EPSG entry PROJ's identification offers that OSR
 * deems equivalent up to the axis order of geographic CRSs (eosight always uses lon/lat, so
 * "+proj=longlat +datum=WGS84" and OGC:CRS84 are EPSG:4326 here). 0 when none: a PROJ string
 * without a datum, for instance, matches several EPSG CRSs only partially. Does not modify
 * srs (OSRAutoIdentifyEPSG would add an authority node, and knows only a few CRSs). */
static int identify_epsg(OGRSpatialReferenceH srs) {
    int epsg = epsg_authority(srs);
    if (epsg) return epsg;
    int n = 0, *conf = NULL;
    OGRSpatialReferenceH *m = OSRFindMatches(srs, NULL, &n, &conf);
    const char *opts[] = { "CRITERION=EQUIVALENT_EXCEPT_AXIS_ORDER_GEOGCRS",
                           "IGNORE_DATA_AXIS_TO_SRS_AXIS_MAPPING=YES", NULL };
    for (int i = 0; m && i < n && !epsg; i++) {
        int code = epsg_authority(m[i]);
        if (code && conf[i] >= 25 && OSRIsSameEx(srs, m[i], opts)) epsg = code;
    }
    OSRFreeSRSArray(m);
    CPLFree(conf);
    return epsg;
}

static eos_status crs_finish(OGRSpatialReferenceH srs, eos_err *err, eos_crs **out) {
    OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
    char *wkt = NULL;
    if (OSRExportToWkt(srs, &wkt) != OGRERR_NONE || !wkt) {
        CPLFree(wkt);
        OSRDestroySpatialReference(srs);
        return eos_gdal_fail(err, EOS_PARSE, "cannot express the CRS as WKT");
    }
    eos_crs *c = eos_calloc(1, sizeof *c);
    char *copy = c ? eos_strdup(wkt) : NULL;
    CPLFree(wkt);
    if (!copy) {
        eos_free(c);
        OSRDestroySpatialReference(srs);
        return eos_err_set(err, EOS_NOMEM, "out of memory creating a CRS");
    }
    c->srs = srs;
    c->wkt = copy;
    c->epsg = identify_epsg(srs);
    const char *name = OSRGetName(srs);
    snprintf(c->name, sizeof c->name, "%s", name ? name : "unnamed");
    c->geographic = OSRIsGeographic(srs) != 0;
    if (!c->geographic) {
        double m = OSRGetLinearUnits(srs, NULL);
        c->linear_units_m = m > 0 ? m : 1.0;
    }
    *out = c;
    return EOS_OK;
}

eos_status eos__crs_create(const char *definition, eos_err *err, eos_crs **out) {
    *out = NULL;
    if (!definition || !*definition) return eos_err_set(err, EOS_INVALID_ARG, "empty CRS definition");
    eos_gdal_init();
    eos_gdal_quiet_begin();
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    eos_status st = EOS_OK;
    if (!srs) {
        st = eos_err_set(err, EOS_NOMEM, "out of memory creating a CRS");
    } else if (OSRSetFromUserInput(srs, definition) != OGRERR_NONE) {
        OSRDestroySpatialReference(srs);
        st = eos_gdal_fail(err, EOS_PARSE, "not a CRS definition: '%.80s'", definition);
    } else {
        st = crs_finish(srs, err, out);
    }
    eos_gdal_quiet_end();
    return st;
}

eos_status eos_crs_create(eos_ctx *ctx, const char *definition, eos_crs **out) {
    eos_err err = { 0 };
    eos__ctx_clear(ctx);
    eos_status st = eos__crs_create(definition, &err, out);
    return st ? eos__ctx_fail(ctx, &err) : EOS_OK;
}

eos_status eos_crs_from_epsg(eos_ctx *ctx, int epsg, eos_crs **out) {
    char def[32];
    snprintf(def, sizeof def, "EPSG:%d", epsg);
    return eos_crs_create(ctx, def, out);
}

eos_status eos_crs_clone(const eos_crs *crs, eos_crs **out) {
    *out = NULL;
    if (!crs) return EOS_INVALID_ARG;
    eos_gdal_quiet_begin();
    OGRSpatialReferenceH srs = OSRClone(crs->srs);
    eos_status st = srs ? crs_finish(srs, NULL, out) : EOS_NOMEM;
    eos_gdal_quiet_end();
    return st;
}

void eos_crs_free(eos_crs *crs) {
    if (!crs) return;
    OSRDestroySpatialReference(crs->srs);
    eos_free(crs->wkt);
    eos_free(crs);
}

const char *eos_crs_wkt(const eos_crs *crs) { return crs->wkt; }
int eos_crs_epsg(const eos_crs *crs) { return crs->epsg; }
const char *eos_crs_name(const eos_crs *crs) { return crs->name; }
bool eos_crs_is_geographic(const eos_crs *crs) { return crs->geographic; }
double eos_crs_linear_units_m(const eos_crs *crs) { return crs->geographic ? 0.0 : crs->linear_units_m; }

bool eos_crs_equal(const eos_crs *a, const eos_crs *b) {
    if (!a || !b) return a == b;
    const char *opts[] = { "IGNORE_DATA_AXIS_TO_SRS_AXIS_MAPPING=YES", NULL };
    return OSRIsSameEx(a->srs, b->srs, opts) != 0;
}
