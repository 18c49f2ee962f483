/*
 * src/geo/geo_internal.h - what src/geo and src/io share about CRS handles.
 *
 * eos_crs wraps an OSR handle whose axis mapping is OAMS_TRADITIONAL_GIS_ORDER (lon/east
 * first). It is immutable after creation; OSR handles are safe for concurrent reads.
 */
#ifndef EOS_GEO_INTERNAL_H
#define EOS_GEO_INTERNAL_H

#include <stdbool.h>

#include <ogr_srs_api.h>

#include "core/err.h"
#include "eosight/geo.h"

struct eos_crs {
    OGRSpatialReferenceH srs;
    char  *wkt;              /* WKT1 (GDAL's default export), eos_malloc'd */
    int    epsg;             /* 0 when unknown */
    char   name[128];
    bool   geographic;
    double linear_units_m;   /* projected CRSs */
};

/* eos_crs_create with an internal error record instead of a context. */
eos_status eos__crs_create(const char *definition, eos_err *err, eos_crs **out);

#endif /* EOS_GEO_INTERNAL_H */
