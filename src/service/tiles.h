/*
 * src/service/tiles.h - the XYZ map tiles behind GET /v1/tiles/{z}/{x}/{y}.png: 256 x 256 RGBA
 * PNG pictures of the catalog's rasters in Web Mercator, the scheme OpenStreetMap and Leaflet
 * use.
 *
 * Tile scheme. Zoom z (0 .. SVC_TILE_MAX_Z) cuts the Web Mercator square (EPSG:3857, x and y
 * in [-20037508.342789244, 20037508.342789244] m, latitudes up to +-85.0511287798 degrees) into
 * 2^z x 2^z tiles; tile (x, y) has column x counted from the west (180 W) and row y counted from
 * the north (y = 0 at the top). Pixel (0, 0) of a tile PNG is its north-west corner; each pixel
 * is a square of (2 * 20037508.342789244 / 2^z / 256) m of Mercator x and y.
 *
 * Rendering. svc_tile_render warps each raster into the tile with GDAL's warper (any CRS the
 * file declares: UTM, EPSG:4326, ...), reading overviews when the file has them, and paints
 * the rasters in the order given, later ones over earlier ones; pixels no raster covers, and a
 * raster's nodata and masked pixels, stay transparent (alpha 0). Two kinds:
 *   SVC_TILE_IMAGE    imagery. Shown bands: those whose colour interpretation is Red, Green and
 *                     Blue; else those described "B04", "B03", "B02" (Sentinel-2), else "red",
 *                     "green", "blue" (case-insensitive; "B04_10m" counts as "B04"); else
 *                     bands 1, 2, 3; a single band (with or without an alpha band) is grey,
 *                     and a single paletted band is drawn in its colour table. A last band
 *                     whose colour interpretation is Alpha is the transparency. 8-bit bands
 *                     are shown as they are unless the picture is very dark (the brightest
 *                     shown band's 98th percentile below 80), other types are stretched, each
 *                     band linearly between its 2nd and 98th percentiles (from GDAL's
 *                     approximate histogram: an overview, or a sample of the blocks).
 *                     Bilinear resampling.
 *   SVC_TILE_CLASSES  a class mask (band 1): class c in the band's colour table's colour (its
 *                     alpha kept), classes beyond the table in eos_class_palette(c); 255
 *                     (EOS_ANALYSIS_NODATA) and the band's nodata value transparent.
 *                     Nearest-neighbour resampling. The table has as many classes as the band
 *                     has category names, else it ends at its last entry that is not black
 *                     (GeoTIFF pads colour tables with black to 256 entries).
 * The display choice of a file (bands, stretch, colour table, footprint) is computed once and
 * cached in the tiler (up to SVC_TILER_CACHE files, least recently used first out), keyed by
 * path, kind, modification time and size, so a file that changes is looked at again. Nothing
 * is written next to the rasters (GDAL's .aux.xml side files are off while statistics are
 * computed).
 *
 * Cost. A tile reads no more of a raster than it needs. The tile's part of the raster is found
 * from the raster's footprint first (a tile beside a raster reads nothing but its header). The
 * level read is the coarsest overview not coarser than the tile (GDAL's OVERVIEW_LEVEL open
 * option). When even that level is 4 or more times finer than the tile (a zoomed-out tile of
 * a file without overviews):
 *   - a tile coarser than the raster's preview, a copy of its shown bands decimated to 1024 px
 *     on the longest side, is drawn from the preview. The tiler reads a file's preview once
 *     (nearest neighbour: GDAL reads only the rows of a striped file, or the blocks of a tiled
 *     one, that hold sampled pixels, and uses overviews when there are some) and keeps it in
 *     memory, at most 128 MB of previews, least recently used dropped first; threads that need
 *     a preview being read wait for it rather than read the file again;
 *   - a finer tile reads its part of the level decimated by nearest neighbour to about twice
 *     the tile's resolution (a VRT), so GDAL reads only the sampled rows or blocks under it.
 * A large file without overviews thus costs one decimated read per tiler, then tiles cost
 * about the same at every zoom. Decimated pictures are a little noisier than those made from
 * averaged overviews: build overviews (gdaladdo, or write COGs) for large scenes. (A raster
 * placed by GCPs alone has no footprint here: it is warped into the whole tile from full
 * resolution.)
 *
 * Antimeridian. Each raster is warped only into the part of the tile that its lon/lat
 * footprint covers (taken modulo 360 degrees, so a scene across the antimeridian is drawn on
 * both edges of the map, and never smeared across the world). Geographic rasters whose
 * longitudes go past 180 work too (GDAL wraps the longitudes around the raster's centre).
 *
 * Thread safety: any number of threads may call svc_tile_render on one tiler at once; the
 * cache is under a mutex, and every call opens its own GDAL datasets. svc_tiler_free must not
 * run concurrently with other calls on the tiler.
 */
#ifndef EOS_SERVICE_TILES_H
#define EOS_SERVICE_TILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eosight/status.h"

#define SVC_TILE_PX          256       /* tile width and height in pixels */
#define SVC_TILE_MAX_Z       24        /* deepest zoom level */
#define SVC_TILE_MAX_RASTERS 256       /* most rasters one tile draws */
#define SVC_TILER_CACHE      256       /* files whose display choice the tiler remembers */
#define SVC_MERC_HALF        20037508.342789244   /* pi * 6378137 m: half the Mercator square */

typedef enum svc_tile_kind {
    SVC_TILE_IMAGE   = 0,   /* imagery: RGB or grey, stretched */
    SVC_TILE_CLASSES = 1    /* a class mask in its colour table's colours */
} svc_tile_kind;

/* True when 0 <= z <= SVC_TILE_MAX_Z and 0 <= x, y < 2^z. */
bool svc_tile_valid(int z, int x, int y);

/* The box of tile (z, x, y), which must be valid: merc = {west, south, east, north} in
 * EPSG:3857 metres, lonlat = {west, south, east, north} in WGS 84 degrees (the lon/lat box is
 * what eos_catalog_bbox_query takes). Either may be NULL. */
void svc_tile_bounds(int z, int x, int y, double merc[4] /* OUT */, double lonlat[4] /* OUT */);

typedef struct svc_tiler svc_tiler;

/* A tiler with an empty cache; NULL when out of memory. Calls eos_gdal_init. Free with
 * svc_tiler_free. */
svc_tiler *svc_tiler_create(void);
/* NULL is a no-op. */
void svc_tiler_free(svc_tiler *t);

/* Render tile (z, x, y) of the n_paths rasters `paths` (local files; the first drawn first,
 * so pass scenes oldest first to show the newest on top) as a 256 x 256 RGBA PNG. A raster that
 * does not reach the tile costs a look at its header (and, the first time, its statistics).
 * n_paths 0 gives a fully transparent tile. On success *png (from eos_malloc; the caller frees
 * it with eos_free) holds *png_len bytes. On failure *png is NULL, *png_len 0, and msg (at most
 * msg_size bytes, may be NULL) says why, naming the file:
 *   EOS_INVALID_ARG  an invalid tile, kind or argument; a raster without a geotransform and
 *                    CRS (or GCPs), which cannot be placed on the map
 *   EOS_LIMIT        n_paths over SVC_TILE_MAX_RASTERS
 *   EOS_NOT_FOUND    a file that does not exist
 *   EOS_PARSE        a file that is not a raster GDAL reads
 *   EOS_IO           reading or warping failed (a truncated or corrupt file)
 *   EOS_NOMEM
 * Any failing raster fails the whole tile (it is not skipped): the catalog only holds files
 * that were readable when they were added, so one that fails later is worth an error the
 * operator sees rather than a silently missing scene. */
eos_status svc_tile_render(svc_tiler *t, const char *const *paths, int n_paths,
                           svc_tile_kind kind, int z, int x, int y,
                           uint8_t **png /* OUT */, size_t *png_len /* OUT */,
                           char *msg, size_t msg_size);

/* What a tiler did since it was created (for /metrics and tests). */
typedef struct svc_tiler_stats {
    int64_t hits, misses;      /* display choices found in the cache / computed */
    int64_t previews_built;    /* previews read from files (failed reads included) */
    int64_t preview_bytes;     /* bytes of the previews kept now */
} svc_tiler_stats;

void svc_tiler_get_stats(svc_tiler *t, svc_tiler_stats *out /* OUT */);

#endif /* EOS_SERVICE_TILES_H */
