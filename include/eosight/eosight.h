/*
 * eosight/eosight.h - the umbrella header: include this to use the library.
 *
 * eosight is a C11 library for deep learning on satellite and aerial imagery. Subsystem
 * headers (all under include/eosight/):
 *   status.h  status codes         alloc.h  allocation wrapper, counters, fault injection
 *   log.h     log callback          tensor.h element types, the plain tensor descriptor
 *   model.h   contexts, ONNX models, inference sessions
 *   npy.h     NumPy .npy read/write
 *   rng.h     the seeded pseudo-random generator (shuffling, augmentation, initialisation)
 *   geo.h     CRSs, pixel/map/lon-lat transforms, footprints, tile grids     } built with
 *   raster.h  raster reading (bands, windows, tiles, normalisation), writing } EOS_WITH_GDAL
 *   analysis.h  classify/tag/clouds/segment scenes, model contracts     }
 *   ood.h     out-of-distribution scores: calibration, `uncertain` flags     }
 *   mask.h    class-mask clean-up and polygonising to GeoJSON/GPKG/WKT        } (the default)
 *   data.h    labelled datasets, augmentation, batch loaders                 }
 *   clouds.h  synthetic clouds, haze and shadows over clear imagery          }
 *   catalog.h scene catalog: footprints, times, predictions (SQLite)         }
 */
#ifndef EOSIGHT_EOSIGHT_H
#define EOSIGHT_EOSIGHT_H

#define EOS_VERSION_MAJOR 0
#define EOS_VERSION_MINOR 1
#define EOS_VERSION_PATCH 0
#define EOS_VERSION_STRING "0.1.0"

#include "eosight/alloc.h"
#include "eosight/log.h"
#include "eosight/model.h"
#include "eosight/npy.h"
#include "eosight/rng.h"
#include "eosight/status.h"
#include "eosight/tensor.h"

/* Geospatial I/O: declared always, defined when the library was built with EOS_WITH_GDAL. */
#include "eosight/clouds.h"
#include "eosight/data.h"
#include "eosight/geo.h"
#include "eosight/mask.h"
#include "eosight/raster.h"
#include "eosight/analysis.h"
#include "eosight/ood.h"
#include "eosight/catalog.h"

#endif /* EOSIGHT_EOSIGHT_H */
