/*
 * tests/common/geo_oracle.h - an independent coordinate oracle for tests (header-only): a
 * point of an EPSG CRS to WGS 84 longitude/latitude through OGR/PROJ directly, never through
 * src/geo, so tests of eosight's own transforms compare against something else.
 */
#ifndef EOS_TESTS_GEO_ORACLE_H
#define EOS_TESTS_GEO_ORACLE_H

#include <math.h>
#include <ogr_srs_api.h>

/* lon/lat (degrees) of map point (x, y) of EPSG:epsg; NaN when OGR cannot transform it. */
static inline void oracle_lonlat(int epsg, double x, double y, double *lon, double *lat) {
    OGRSpatialReferenceH a = OSRNewSpatialReference(NULL), b = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(a, epsg);
    OSRImportFromEPSG(b, 4326);
    OSRSetAxisMappingStrategy(a, OAMS_TRADITIONAL_GIS_ORDER);
    OSRSetAxisMappingStrategy(b, OAMS_TRADITIONAL_GIS_ORDER);
    OGRCoordinateTransformationH ct = OCTNewCoordinateTransformation(a, b);
    if (!ct || !OCTTransform(ct, 1, &x, &y, NULL)) x = y = NAN;
    *lon = x;
    *lat = y;
    OCTDestroyCoordinateTransformation(ct);
    OSRDestroySpatialReference(a);
    OSRDestroySpatialReference(b);
}

#endif /* EOS_TESTS_GEO_ORACLE_H */
