/*
 * src/service/tiles.c - XYZ map tiles of the catalog's rasters (tiles.h): Web Mercator tile
 * boxes, and 256 x 256 RGBA PNG tiles warped from rasters in any CRS with GDAL.
 *
 * One tile is painted raster by raster into an RGBA buffer ("over" compositing, later rasters
 * on top) and encoded once with GDAL's PNG driver through a /vsimem file of a unique name.
 * Each raster goes through these steps:
 *   1. open it (every call opens its own handles: GDAL datasets are not shared between
 *      threads) and fetch its display choice from the tiler's cache, or compute it: the bands
 *      to show, their stretch (percentiles of GDAL's approximate histogram, computed on a
 *      second handle opened with GDAL's .aux.xml side files off, so nothing is written next to
 *      the raster), the colour table, the lon/lat footprint box and the overview sizes;
 *   2. find the windows of the tile the footprint covers (modulo 360 degrees of longitude:
 *      two windows for a scene across the antimeridian on a tile that holds both map edges);
 *      only those pixels are warped, so a projection that misbehaves far from a scene (UTM on
 *      the other side of the world) cannot paint ghosts elsewhere;
 *   3. pick the level to read: the coarsest overview not coarser than the tile (reopened with
 *      the OVERVIEW_LEVEL open option). When even that is 4 times finer than the tile, either
 *      the file's preview (a copy decimated to 1024 px, read once and kept in memory, shared
 *      by reference count) when the tile is coarser than it, or a virtual raster (VRT) that
 *      decimates the level by nearest neighbour to about twice the tile's resolution. A VRT
 *      also picks the shown bands out of a multispectral stack;
 *   4. GDALWarp into a MEM dataset in EPSG:3857 with the window's geotransform (Float32 bands
 *      plus an alpha band: nodata, masks and the outside stay alpha 0), then map the values to
 *      colours (stretch or class colours) and composite them into the tile.
 * A tile no raster reaches is answered with the tiler's one encoded empty PNG.
 */
#include "service/tiles.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <cpl_conv.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <gdal_utils.h>
#include <ogr_srs_api.h>

#include "core/err.h"
#include "eosight/alloc.h"
#include "eosight/analysis.h"
#include "eosight/geo.h"
#include "eosight/raster.h"
#include "io/gdal_util.h"

#define TILE_PI        3.14159265358979323846
#define EARTH_R_M      6378137.0
#define MERC_MAX_LAT   85.05112877980659     /* latitude of y = SVC_MERC_HALF */
#define TILE_NPX       (SVC_TILE_PX * SVC_TILE_PX)
#define MAX_OVERVIEWS  24
#define FOOTPRINT_EDGE 16        /* footprint points per raster edge */
#define DARK_P98       80.0      /* 8-bit pictures darker than this get stretched */
#define DECIMATE_AT    4.0       /* read decimated when the level is this much finer */
#define WARP_MEM_MB    "64"
#define PREVIEW_PX     1024      /* longest side of a preview */
#define PREVIEW_BYTES  ((size_t)128 << 20)   /* previews kept, all files together */
#ifndef PNG_ZLEVEL
#define PNG_ZLEVEL     "3"       /* zlib level: twice as fast as 6, PNGs 10% larger */
#endif

/* How the values of the warped bands become colours. */
typedef enum disp_mode {
    MODE_RGB,       /* three bands, each stretched */
    MODE_GREY,      /* one band, stretched */
    MODE_PALETTE    /* one band of class / palette indices */
} disp_mode;

/* The display choice of one file for one kind. */
typedef struct disp {
    disp_mode mode;
    int       n_show;                 /* 3 (RGB) or 1 */
    int       bands[3];               /* shown bands, 1-based */
    int       alpha_band;             /* the alpha band, 0 when none */
    double    lo[3], hi[3];           /* stretch: lo shows as 0, hi as 255 */
    int       n_colors;               /* colour table entries (palette mode) */
    uint8_t   colors[256][4];
    bool      has_nodata;             /* band 1's nodata value (palette mode) */
    double    nodata;
    int64_t   width, height;
    bool      has_box;                /* footprint box known */
    double    lon0, lon1, lat0, lat1; /* lon continuous: lon1 may pass 180 (antimeridian) */
    int       n_ovr;
    double    ovr_factor[MAX_OVERVIEWS];   /* width / overview width, by overview index */
} disp;

typedef struct cache_entry {
    char         *path;
    svc_tile_kind kind;
    int64_t       mtime_ns, size;
    uint64_t      used;
    disp          d;
} cache_entry;

/* A decimated copy of a raster's shown bands in memory (PREVIEW_PX on its longest side) for
 * the zoomed-out tiles of a file without overviews coarse enough: one read of the file then
 * serves all of them. Immutable once ready; shared between threads by reference count (the
 * cache holds one reference while the preview is listed). */
typedef struct preview {
    struct preview *next;
    char           *path;
    svc_tile_kind   kind;
    int64_t         mtime_ns, size;
    uint64_t        used;
    int             refs;
    bool            listed, ready, failed;
    int             w, h, n_bands;          /* the shown bands, in display order */
    GDALDataType    type;
    uint8_t        *pixels;                 /* n_bands planes of w x h values of `type` */
    uint8_t        *alpha;                  /* w x h (alpha band or mask), or NULL */
    size_t          bytes;
    double          gt[6];
    char           *wkt;
    bool            has_nodata[3];
    double          nodata[3];
} preview;

/* One raster of the tile being drawn. */
typedef struct raster_job {
    const char   *path;
    svc_tile_kind kind;
    int64_t       mtime_ns, size;   /* the file's version: part of the cache keys */
    GDALDatasetH  ds;               /* opened at full resolution */
    disp          d;
} raster_job;

struct svc_tiler {
    pthread_mutex_t mu;
    pthread_cond_t  cv;               /* a preview became ready or failed */
    preview        *previews;
    size_t          preview_bytes;
    cache_entry     entries[SVC_TILER_CACHE];
    int             n_entries;
    uint64_t        clock, seq;
    int64_t         hits, misses, previews_built;
    char           *merc_wkt;
    uint8_t        *empty_png;        /* the encoded fully transparent tile, made on first use */
    size_t          empty_len;
};

/* A window of the tile, in tile pixels. */
typedef struct win {
    int x0, y0, w, h;
} win;

/* ------------------------------------------------------------------ tile boxes */

bool svc_tile_valid(int z, int x, int y) {
    if (z < 0 || z > SVC_TILE_MAX_Z) return false;
    int n = 1 << z;
    return x >= 0 && y >= 0 && x < n && y < n;
}

static double merc_y_of_lat(double lat_deg) {
    if (lat_deg > MERC_MAX_LAT) lat_deg = MERC_MAX_LAT;
    if (lat_deg < -MERC_MAX_LAT) lat_deg = -MERC_MAX_LAT;
    return EARTH_R_M * log(tan(TILE_PI / 4 + lat_deg * TILE_PI / 360));
}

static double lat_of_merc_y(double y_m) { return atan(sinh(y_m / EARTH_R_M)) * 180 / TILE_PI; }

void svc_tile_bounds(int z, int x, int y, double merc[4], double lonlat[4]) {
    double size = 2 * SVC_MERC_HALF / (double)(1 << z);
    double west = -SVC_MERC_HALF + x * size, north = SVC_MERC_HALF - y * size;
    double east = west + size, south = north - size;
    if (merc) {
        merc[0] = west;
        merc[1] = south;
        merc[2] = east;
        merc[3] = north;
    }
    if (lonlat) {
        lonlat[0] = west / SVC_MERC_HALF * 180;
        lonlat[1] = lat_of_merc_y(south);
        lonlat[2] = east / SVC_MERC_HALF * 180;
        lonlat[3] = lat_of_merc_y(north);
    }
}

/* ------------------------------------------------------------------ the tiler */

svc_tiler *svc_tiler_create(void) {
    eos_gdal_init();
    svc_tiler *t = eos_calloc(1, sizeof *t);
    if (!t) return NULL;
    if (pthread_mutex_init(&t->mu, NULL) != 0) {
        eos_free(t);
        return NULL;
    }
    if (pthread_cond_init(&t->cv, NULL) != 0) {
        pthread_mutex_destroy(&t->mu);
        eos_free(t);
        return NULL;
    }
    eos_gdal_quiet_begin();
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    char *wkt = NULL;
    if (srs && OSRImportFromEPSG(srs, 3857) == OGRERR_NONE && OSRExportToWkt(srs, &wkt) == 0)
        t->merc_wkt = eos_strdup(wkt);
    CPLFree(wkt);
    OSRDestroySpatialReference(srs);
    eos_gdal_quiet_end();
    if (!t->merc_wkt) {
        svc_tiler_free(t);
        return NULL;
    }
    return t;
}

static void preview_free(preview *p) {
    eos_free(p->path);
    eos_free(p->pixels);
    eos_free(p->alpha);
    eos_free(p->wkt);
    eos_free(p);
}

void svc_tiler_free(svc_tiler *t) {
    if (!t) return;
    for (int i = 0; i < t->n_entries; i++) eos_free(t->entries[i].path);
    while (t->previews) {
        preview *next = t->previews->next;
        preview_free(t->previews);
        t->previews = next;
    }
    eos_free(t->merc_wkt);
    eos_free(t->empty_png);
    pthread_cond_destroy(&t->cv);
    pthread_mutex_destroy(&t->mu);
    eos_free(t);
}

void svc_tiler_get_stats(svc_tiler *t, svc_tiler_stats *out) {
    pthread_mutex_lock(&t->mu);
    out->hits = t->hits;
    out->misses = t->misses;
    out->previews_built = t->previews_built;
    out->preview_bytes = (int64_t)t->preview_bytes;
    pthread_mutex_unlock(&t->mu);
}

static bool cache_get(svc_tiler *t, raster_job *job) {
    bool found = false;
    pthread_mutex_lock(&t->mu);
    for (int i = 0; i < t->n_entries && !found; i++) {
        cache_entry *e = &t->entries[i];
        if (e->kind != job->kind || e->mtime_ns != job->mtime_ns || e->size != job->size ||
            strcmp(e->path, job->path))
            continue;
        job->d = e->d;
        e->used = ++t->clock;
        found = true;
    }
    if (found) t->hits++;
    else t->misses++;
    pthread_mutex_unlock(&t->mu);
    return found;
}

/* The slot for (path, kind): its current entry (however old), a free one, or the least
 * recently used. */
static cache_entry *cache_slot(svc_tiler *t, const char *path, svc_tile_kind kind) {
    for (int i = 0; i < t->n_entries; i++)
        if (t->entries[i].kind == kind && !strcmp(t->entries[i].path, path)) return &t->entries[i];
    if (t->n_entries < SVC_TILER_CACHE) return &t->entries[t->n_entries++];
    cache_entry *old = &t->entries[0];
    for (int i = 1; i < t->n_entries; i++)
        if (t->entries[i].used < old->used) old = &t->entries[i];
    return old;
}

static void cache_put(svc_tiler *t, const raster_job *job) {
    char *copy = eos_strdup(job->path);
    if (!copy) return;   /* not remembered: the next tile computes it again */
    pthread_mutex_lock(&t->mu);
    cache_entry *e = cache_slot(t, job->path, job->kind);
    eos_free(e->path);
    e->path = copy;
    e->kind = job->kind;
    e->mtime_ns = job->mtime_ns;
    e->size = job->size;
    e->used = ++t->clock;
    e->d = job->d;
    pthread_mutex_unlock(&t->mu);
}

/* ------------------------------------------------------------------ choosing bands */

/* Does a band description name `want` ("B04", "B04_10m", "B04 (red)" do; "B041" does not)? */
static bool desc_names(const char *desc, const char *want) {
    size_t n = strlen(want);
    if (strncasecmp(desc, want, n)) return false;
    char c = desc[n];
    return !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
}

/* Bands (1-based, among the first n_data) matching three colour interpretations or three
 * descriptions; false unless all three are found. */
static bool find_rgb(GDALDatasetH ds, int n_data, const GDALColorInterp *interp,
                     const char *const *names, int out[3]) {
    for (int c = 0; c < 3; c++) {
        out[c] = 0;
        for (int b = 1; b <= n_data && !out[c]; b++) {
            GDALRasterBandH h = GDALGetRasterBand(ds, b);
            if (interp ? GDALGetRasterColorInterpretation(h) == interp[c]
                       : desc_names(GDALGetDescription(h), names[c]))
                out[c] = b;
        }
        if (!out[c]) return false;
    }
    return true;
}

/* The colour table of band b. GeoTIFF pads every table to 2^bits entries with black, so the
 * classes are those the category names list when there are any, else the table without its
 * trailing black entries. */
static void read_palette(GDALRasterBandH b, disp *d) {
    GDALColorTableH ct = GDALGetRasterColorTable(b);
    int n = ct ? GDALGetColorEntryCount(ct) : 0;
    d->n_colors = n > 256 ? 256 : n;
    for (int i = 0; i < d->n_colors; i++) {
        GDALColorEntry e;
        if (!GDALGetColorEntryAsRGB(ct, i, &e)) memset(&e, 0, sizeof e);
        d->colors[i][0] = (uint8_t)e.c1;
        d->colors[i][1] = (uint8_t)e.c2;
        d->colors[i][2] = (uint8_t)e.c3;
        d->colors[i][3] = (uint8_t)e.c4;
    }
    int n_names = CSLCount(GDALGetRasterCategoryNames(b));
    if (n_names > 0 && n_names < d->n_colors) d->n_colors = n_names;
    while (n_names == 0 && d->n_colors > 0 && !d->colors[d->n_colors - 1][0] &&
           !d->colors[d->n_colors - 1][1] && !d->colors[d->n_colors - 1][2])
        d->n_colors--;
    int has = 0;
    d->nodata = GDALGetRasterNoDataValue(b, &has);
    d->has_nodata = has && isfinite(d->nodata);
}

static void choose_image_bands(GDALDatasetH ds, disp *d) {
    static const GDALColorInterp k_rgb[3] = { GCI_RedBand, GCI_GreenBand, GCI_BlueBand };
    static const char *const k_s2[3] = { "B04", "B03", "B02" };
    static const char *const k_names[3] = { "red", "green", "blue" };
    int n = GDALGetRasterCount(ds), n_data = n;
    if (n >= 2 && GDALGetRasterColorInterpretation(GDALGetRasterBand(ds, n)) == GCI_AlphaBand) {
        d->alpha_band = n;
        n_data = n - 1;
    }
    d->mode = MODE_RGB;
    d->n_show = 3;
    if (find_rgb(ds, n_data, k_rgb, NULL, d->bands) || find_rgb(ds, n_data, NULL, k_s2, d->bands) ||
        find_rgb(ds, n_data, NULL, k_names, d->bands))
        return;
    if (n_data >= 3) {
        for (int c = 0; c < 3; c++) d->bands[c] = c + 1;
        return;
    }
    d->n_show = 1;
    d->bands[0] = 1;
    if (n_data < 1) d->alpha_band = 0;   /* a lone alpha band: show it as grey */
    GDALRasterBandH b = GDALGetRasterBand(ds, 1);
    d->mode = MODE_GREY;
    if (GDALGetRasterColorInterpretation(b) == GCI_PaletteIndex && GDALGetRasterColorTable(b)) {
        d->mode = MODE_PALETTE;
        read_palette(b, d);
    }
}

/* ------------------------------------------------------------------ statistics */

/* The value below which a fraction p of the histogram's count lies (bin centre). */
static double hist_value(const GUIntBig *h, int n_bins, GUIntBig total, double p, double lo,
                         double hi) {
    GUIntBig want = (GUIntBig)ceil(p * (double)total), sum = 0;
    if (want < 1) want = 1;
    int i = 0;
    for (; i < n_bins - 1; i++) {
        sum += h[i];
        if (sum >= want) break;
    }
    return lo + (i + 0.5) * (hi - lo) / n_bins;
}

/* The 2nd and 98th percentiles of a band's valid values, from GDAL's approximate minimum,
 * maximum and histogram (one bin per integer when the values are integers spanning at most
 * 65536 values, else 4096 bins). False when the band has no valid value or reading failed. */
static bool band_percentiles(GDALRasterBandH b, double *p2, double *p98) {
    double mm[2];
    if (GDALComputeRasterMinMax(b, TRUE, mm) != CE_None || !isfinite(mm[0]) ||
        !isfinite(mm[1]) || mm[1] < mm[0])
        return false;
    if (mm[1] == mm[0]) {
        *p2 = *p98 = mm[0];
        return true;
    }
    GDALDataType ty = GDALGetRasterDataType(b);
    bool integer = !GDALDataTypeIsFloating(ty) && !GDALDataTypeIsComplex(ty);
    int n_bins = 4096;
    double lo = mm[0], hi = mm[1];
    if (integer && mm[1] - mm[0] < 65536) {
        n_bins = (int)(mm[1] - mm[0]) + 1;
        lo = mm[0] - 0.5;
        hi = mm[1] + 0.5;
    }
    GUIntBig *h = eos_calloc((size_t)n_bins, sizeof *h);
    if (!h) return false;
    bool ok = GDALGetRasterHistogramEx(b, lo, hi, n_bins, h, TRUE, TRUE, GDALDummyProgress,
                                       NULL) == CE_None;
    GUIntBig total = 0;
    for (int i = 0; ok && i < n_bins; i++) total += h[i];
    if (ok && total > 0) {
        *p2 = hist_value(h, n_bins, total, 0.02, lo, hi);
        *p98 = hist_value(h, n_bins, total, 0.98, lo, hi);
    }
    eos_free(h);
    return ok && total > 0;
}

/* Stretch of the shown bands, read on `ds` (the handle without side files). */
static void image_stretch(GDALDatasetH ds, disp *d) {
    bool all_bytes = true, all_ok = true;
    double brightest = 0;
    for (int c = 0; c < d->n_show; c++) {
        GDALRasterBandH b = GDALGetRasterBand(ds, d->bands[c]);
        all_bytes = all_bytes && GDALGetRasterDataType(b) == GDT_Byte;
        double p2, p98;
        if (band_percentiles(b, &p2, &p98)) {
            d->lo[c] = p2;
            d->hi[c] = p98;
            brightest = fmax(brightest, p98);
        } else {
            all_ok = false;
            d->lo[c] = 0;
            d->hi[c] = 255;
        }
    }
    if (all_bytes && (!all_ok || brightest >= DARK_P98)) {
        for (int c = 0; c < d->n_show; c++) {
            d->lo[c] = 0;
            d->hi[c] = 255;
        }
    }
    for (int c = 0; c < d->n_show; c++)
        if (!(d->hi[c] > d->lo[c])) d->hi[c] = d->lo[c] + 1;
}

/* Open path with GDAL's .aux.xml side files off for this thread, so statistics and histograms
 * are not saved next to the raster, and compute the stretch there. */
static void stats_without_side_files(const char *path, disp *d) {
    char old[16] = "";
    const char *o = CPLGetThreadLocalConfigOption("GDAL_PAM_ENABLED", NULL);
    bool had = o != NULL;
    if (had) snprintf(old, sizeof old, "%s", o);
    CPLSetThreadLocalConfigOption("GDAL_PAM_ENABLED", "NO");
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
    bool ok = ds != NULL;
    for (int c = 0; ok && c < d->n_show; c++) ok = d->bands[c] <= GDALGetRasterCount(ds);
    if (ok) {
        image_stretch(ds, d);
    } else {
        for (int c = 0; c < d->n_show; c++) {
            d->lo[c] = 0;
            d->hi[c] = 255;
        }
    }
    if (ds) GDALClose(ds);
    CPLSetThreadLocalConfigOption("GDAL_PAM_ENABLED", had ? old : NULL);
}

/* ------------------------------------------------------------------ footprint, overviews */

static void footprint_box(GDALDatasetH ds, disp *d) {
    double gt[6];
    const char *wkt = GDALGetProjectionRef(ds);
    if (GDALGetGeoTransform(ds, gt) != CE_None || !wkt || !*wkt) return;
    eos_crs *crs = NULL;
    if (eos_crs_create(NULL, wkt, &crs) != EOS_OK) return;
    eos_georef g;
    memset(&g, 0, sizeof g);
    memcpy(g.transform.gt, gt, sizeof gt);
    g.crs = crs;
    g.has_transform = true;
    eos_lonlat_ring ring;
    double bbox[4];
    if (eos_geo_footprint(NULL, &g, d->width, d->height, FOOTPRINT_EDGE, &ring, bbox) == EOS_OK) {
        d->lon0 = d->lon1 = ring.lon_deg[0];
        for (size_t i = 1; i < ring.n; i++) {
            d->lon0 = fmin(d->lon0, ring.lon_deg[i]);
            d->lon1 = fmax(d->lon1, ring.lon_deg[i]);
        }
        if (bbox[0] == -180 && bbox[2] == 180) {   /* around a pole: every longitude */
            d->lon0 = -180;
            d->lon1 = 180;
        }
        d->lat0 = bbox[1];
        d->lat1 = bbox[3];
        d->has_box = isfinite(d->lon0) && isfinite(d->lon1) && isfinite(d->lat0) &&
                     isfinite(d->lat1);
        eos_free(ring.lon_deg);
        eos_free(ring.lat_deg);
    }
    eos_crs_free(crs);
}

static void overview_factors(GDALDatasetH ds, disp *d) {
    GDALRasterBandH b = GDALGetRasterBand(ds, d->bands[0]);
    int n = GDALGetOverviewCount(b);
    d->n_ovr = 0;
    for (int i = 0; i < n && i < MAX_OVERVIEWS; i++) {
        GDALRasterBandH o = GDALGetOverview(b, i);
        int w = o ? GDALGetRasterBandXSize(o) : 0;
        d->ovr_factor[d->n_ovr++] = w > 0 ? (double)d->width / w : 1.0;
    }
}

/* The display choice of an opened raster for `kind`. */
static void compute_disp(const char *path, GDALDatasetH ds, svc_tile_kind kind, disp *d) {
    memset(d, 0, sizeof *d);
    d->width = GDALGetRasterXSize(ds);
    d->height = GDALGetRasterYSize(ds);
    if (kind == SVC_TILE_CLASSES) {
        d->mode = MODE_PALETTE;
        d->n_show = 1;
        d->bands[0] = 1;
        read_palette(GDALGetRasterBand(ds, 1), d);
    } else {
        choose_image_bands(ds, d);
        if (d->mode != MODE_PALETTE) stats_without_side_files(path, d);
    }
    footprint_box(ds, d);
    overview_factors(ds, d);
}

/* ------------------------------------------------------------------ where and how much */

/* Tile pixel column of a longitude, row of a latitude. */
static double col_of_lon(const double merc[4], double lon_deg) {
    double res = (merc[2] - merc[0]) / SVC_TILE_PX;
    return (lon_deg / 180 * SVC_MERC_HALF - merc[0]) / res;
}

static double row_of_lat(const double merc[4], double lat_deg) {
    double res = (merc[2] - merc[0]) / SVC_TILE_PX;
    return (merc[3] - merc_y_of_lat(lat_deg)) / res;
}

static int clamp_px(double v) {
    if (!(v > 0)) return 0;
    return v > SVC_TILE_PX ? SVC_TILE_PX : (int)v;
}

/* The windows of the tile that the raster's footprint covers (with a margin of 1% of the
 * footprint and 2 pixels); 0, 1 or 2 of them. */
static int tile_windows(const disp *d, const double merc[4], const double lonlat[4], win out[2]) {
    if (!d->has_box) {
        out[0] = (win){ 0, 0, SVC_TILE_PX, SVC_TILE_PX };
        return 1;
    }
    double m_lat = 0.01 * (d->lat1 - d->lat0), m_lon = 0.01 * (d->lon1 - d->lon0) + 1e-9;
    int r0 = clamp_px(floor(row_of_lat(merc, d->lat1 + m_lat)) - 2);
    int r1 = clamp_px(ceil(row_of_lat(merc, d->lat0 - m_lat)) + 2);
    if (d->lat1 + m_lat < lonlat[1] || d->lat0 - m_lat > lonlat[3] || r1 <= r0) return 0;
    if (d->lon1 - d->lon0 + 2 * m_lon >= 360) {
        out[0] = (win){ 0, r0, SVC_TILE_PX, r1 - r0 };
        return 1;
    }
    int n = 0;
    for (int k = -1; k <= 1; k++) {
        double a = fmax(d->lon0 - m_lon + 360.0 * k, lonlat[0]);
        double b = fmin(d->lon1 + m_lon + 360.0 * k, lonlat[2]);
        if (b <= a) continue;
        int c0 = clamp_px(floor(col_of_lon(merc, a)) - 2);
        int c1 = clamp_px(ceil(col_of_lon(merc, b)) + 2);
        if (c1 <= c0) continue;
        if (n > 0 && c0 <= out[n - 1].x0 + out[n - 1].w) {   /* overlaps the previous: merge */
            int end = c1 > out[n - 1].x0 + out[n - 1].w ? c1 : out[n - 1].x0 + out[n - 1].w;
            out[n - 1].w = end - out[n - 1].x0;
            continue;
        }
        if (n < 2) out[n++] = (win){ c0, r0, c1 - c0, r1 - r0 };
    }
    return n;
}

/* Raster pixels per tile pixel (the smaller of the two axes), 0 when unknown. */
static double pixels_per_tile_px(const disp *d, const double merc[4]) {
    if (!d->has_box) return 0;
    double res = (merc[2] - merc[0]) / SVC_TILE_PX;
    double span_x = (d->lon1 - d->lon0) / 180 * SVC_MERC_HALF / res;
    double span_y = (merc_y_of_lat(d->lat1) - merc_y_of_lat(d->lat0)) / res;
    if (!(span_x > 0) || !(span_y > 0)) return 0;
    return fmin((double)d->width / span_x, (double)d->height / span_y);
}

/* The coarsest overview not coarser than the tile (ratio raster px per tile px), -1: none. */
static int overview_level(const disp *d, double ratio) {
    int best = -1;
    for (int i = 0; i < d->n_ovr; i++)
        if (d->ovr_factor[i] <= ratio && (best < 0 || d->ovr_factor[i] > d->ovr_factor[best]))
            best = i;
    return best;
}

/* ------------------------------------------------------------------ opening */

static eos_status open_raster(const char *path, int ovr_level, GDALDatasetH *out, eos_err *err) {
    char opt[48];
    snprintf(opt, sizeof opt, "OVERVIEW_LEVEL=%d", ovr_level);
    const char *opts[] = { opt, NULL };
    *out = GDALOpenEx(path, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, ovr_level >= 0 ? opts : NULL,
                      NULL);
    if (!*out) {
        if (ovr_level >= 0) return eos_gdal_fail(err, EOS_IO, "%s: overview %d", path, ovr_level);
        return eos_gdal_fail(err, EOS_PARSE, "%s: not a raster GDAL can read", path);
    }
    return EOS_OK;
}

/* Refuse what cannot be drawn on a map: no band, no georeferencing. */
static eos_status check_raster(const char *path, GDALDatasetH ds, svc_tile_kind kind,
                               eos_err *err) {
    if (GDALGetRasterCount(ds) < 1 || GDALGetRasterXSize(ds) < 1 || GDALGetRasterYSize(ds) < 1)
        return eos_err_set(err, EOS_PARSE, "%s: the raster has no pixels or no band", path);
    double gt[6];
    bool geo = GDALGetGeoTransform(ds, gt) == CE_None && GDALGetSpatialRef(ds) != NULL;
    bool gcps = GDALGetGCPCount(ds) > 0 && GDALGetGCPSpatialRef(ds) != NULL;
    if (!geo && !gcps)
        return eos_err_set(err, EOS_INVALID_ARG, "%s: no geotransform and CRS (or GCPs): the "
                           "raster cannot be placed on the map", path);
    if (kind == SVC_TILE_CLASSES && GDALGetRasterCount(ds) != 1)
        return eos_err_set(err, EOS_INVALID_ARG, "%s: a class mask has one band, this raster "
                           "has %d", path, GDALGetRasterCount(ds));
    return EOS_OK;
}

/* The dataset to warp from: src itself, or a VRT of src that picks the shown bands (and the
 * alpha band last) and, with decimate > 1, samples every decimate-th pixel by nearest
 * neighbour. *vrt receives the VRT to close (NULL when src is used as it is). */
static eos_status warp_source(const char *path, GDALDatasetH src, const disp *d, int decimate,
                              GDALDatasetH *vrt, eos_err *err) {
    *vrt = NULL;
    int n_src = GDALGetRasterCount(src);
    bool identity = d->n_show + (d->alpha_band > 0) == n_src &&
                    (d->alpha_band == 0 || d->alpha_band == n_src);
    for (int c = 0; c < d->n_show; c++) identity = identity && d->bands[c] == c + 1;
    if (identity && decimate <= 1) return EOS_OK;
    char **argv = CSLAddString(NULL, "-of");
    argv = CSLAddString(argv, "VRT");
    char num[32];
    for (int c = 0; c < d->n_show + (d->alpha_band > 0); c++) {
        snprintf(num, sizeof num, "%d", c < d->n_show ? d->bands[c] : d->alpha_band);
        argv = CSLAddString(argv, "-b");
        argv = CSLAddString(argv, num);
    }
    if (decimate > 1) {
        int64_t w = (GDALGetRasterXSize(src) + decimate - 1) / decimate;
        int64_t h = (GDALGetRasterYSize(src) + decimate - 1) / decimate;
        argv = CSLAddString(argv, "-outsize");
        snprintf(num, sizeof num, "%lld", (long long)w);
        argv = CSLAddString(argv, num);
        snprintf(num, sizeof num, "%lld", (long long)h);
        argv = CSLAddString(argv, num);
        argv = CSLAddString(argv, "-r");
        argv = CSLAddString(argv, "nearest");
    }
    GDALTranslateOptions *o = argv ? GDALTranslateOptionsNew(argv, NULL) : NULL;
    CSLDestroy(argv);
    if (!o) return eos_err_set(err, EOS_NOMEM, "%s: building the band selection", path);
    int usage = 0;
    *vrt = GDALTranslate("", src, o, &usage);
    GDALTranslateOptionsFree(o);
    if (!*vrt) return eos_gdal_fail(err, EOS_IO, "%s: selecting bands", path);
    return EOS_OK;
}

/* ------------------------------------------------------------------ warping and painting */

/* Warp src into window w of the tile: (n_show + 1) x w.h x w.w floats into buf, the last
 * plane the alpha (0 .. 255). */
static eos_status warp_window(const svc_tiler *t, const char *path, GDALDatasetH src,
                              const disp *d, svc_tile_kind kind, const double merc[4], win w,
                              float *buf, eos_err *err) {
    int n_out = d->n_show + 1;
    GDALDatasetH dst = GDALCreate(GDALGetDriverByName("MEM"), "", w.w, w.h, n_out, GDT_Float32,
                                  NULL);
    if (!dst) return eos_gdal_fail(err, EOS_NOMEM, "%s: warp buffer", path);
    double res = (merc[2] - merc[0]) / SVC_TILE_PX;
    double gt[6] = { merc[0] + w.x0 * res, res, 0, merc[3] - w.y0 * res, 0, -res };
    GDALSetGeoTransform(dst, gt);
    GDALSetProjection(dst, t->merc_wkt);
    GDALSetRasterColorInterpretation(GDALGetRasterBand(dst, n_out), GCI_AlphaBand);
    bool nearest = d->mode == MODE_PALETTE;
    const char *argv[] = { "-r", nearest ? "near" : "bilinear", "-ovr", "NONE", "-wm", WARP_MEM_MB,
                           "-dstalpha", "-wo", "SKIP_NOSOURCE=YES", "-wo", "DST_ALPHA_MAX=255",
                           NULL, NULL, NULL };
    if (kind == SVC_TILE_CLASSES && !d->has_nodata) {   /* 255 is nodata in eosight's masks */
        argv[11] = "-srcnodata";
        argv[12] = "255";
    }
    GDALWarpAppOptions *o = GDALWarpAppOptionsNew((char **)argv, NULL);
    if (!o) {
        GDALClose(dst);
        return eos_gdal_fail(err, EOS_INTERNAL, "%s: warp options", path);
    }
    int usage = 0;
    GDALDatasetH r = GDALWarp(NULL, dst, 1, &src, o, &usage);
    GDALWarpAppOptionsFree(o);
    eos_status st = EOS_OK;
    if (!r)
        st = eos_gdal_fail(err, EOS_IO, "%s: warping into the tile failed", path);
    else if (GDALDatasetRasterIO(dst, GF_Read, 0, 0, w.w, w.h, buf, w.w, w.h, GDT_Float32, n_out,
                                 NULL, 0, 0, 0) != CE_None)
        st = eos_gdal_fail(err, EOS_IO, "%s: reading the warped tile", path);
    GDALClose(dst);
    return st;
}

static uint8_t stretch(float v, double lo, double hi) {
    double x = 255.0 * ((double)v - lo) / (hi - lo);
    if (!(x > 0)) return 0;
    return x >= 255 ? 255 : (uint8_t)(x + 0.5);
}

/* The colour of pixel i of a warped window (planes of `plane` floats); false: transparent. */
static bool pixel_color(const disp *d, svc_tile_kind kind, const float *buf, size_t plane,
                        size_t i, uint8_t c[4]) {
    float v = buf[i];
    if (d->mode == MODE_RGB) {
        for (int k = 0; k < 3; k++) c[k] = stretch(buf[k * plane + i], d->lo[k], d->hi[k]);
        c[3] = 255;
        return true;
    }
    if (d->mode == MODE_GREY) {
        c[0] = c[1] = c[2] = stretch(v, d->lo[0], d->hi[0]);
        c[3] = 255;
        return true;
    }
    if (!isfinite(v) || (d->has_nodata && (double)v == d->nodata)) return false;
    long cls = lrintf(v);
    if (cls < 0 || (kind == SVC_TILE_CLASSES && cls == EOS_ANALYSIS_NODATA)) return false;
    if (cls < d->n_colors) {
        memcpy(c, d->colors[cls], 4);
        return c[3] > 0;
    }
    if (kind != SVC_TILE_CLASSES || cls > 65535) return false;
    eos_rgba p = eos_class_palette((int)cls);
    c[0] = p.r;
    c[1] = p.g;
    c[2] = p.b;
    c[3] = 255;
    return true;
}

/* Paint colour c with opacity a (0 .. 1] over the straight-alpha RGBA pixel px. */
static void blend(uint8_t *px, const uint8_t c[3], double a) {
    if (a >= 1) {
        memcpy(px, c, 3);
        px[3] = 255;
        return;
    }
    double da = px[3] / 255.0, oa = a + da * (1 - a);
    if (!(oa > 0)) return;
    for (int k = 0; k < 3; k++) px[k] = (uint8_t)((c[k] * a + px[k] * da * (1 - a)) / oa + 0.5);
    px[3] = (uint8_t)(oa * 255 + 0.5);
}

static void paint(const disp *d, svc_tile_kind kind, const float *buf, win w, uint8_t *rgba) {
    size_t plane = (size_t)w.w * (size_t)w.h;
    const float *alpha = buf + (size_t)d->n_show * plane;
    for (int row = 0; row < w.h; row++) {
        for (int col = 0; col < w.w; col++) {
            size_t i = (size_t)row * (size_t)w.w + (size_t)col;
            double a = alpha[i] >= 255 ? 1.0 : alpha[i] / 255.0;
            uint8_t c[4];
            if (!(a > 0) || !pixel_color(d, kind, buf, plane, i, c)) continue;
            size_t o = 4 * ((size_t)(w.y0 + row) * SVC_TILE_PX + (size_t)(w.x0 + col));
            blend(rgba + o, c, a * c[3] / 255.0);
        }
    }
}

/* ------------------------------------------------------------------ previews */

/* Drop the cache's reference to p and unlist it (under t->mu). */
static void preview_unlist(svc_tiler *t, preview *p) {
    for (preview **pp = &t->previews; *pp; pp = &(*pp)->next) {
        if (*pp != p) continue;
        *pp = p->next;
        p->listed = false;
        if (p->ready) t->preview_bytes -= p->bytes;
        if (--p->refs == 0) preview_free(p);
        return;
    }
}

static void preview_release(svc_tiler *t, preview *p) {
    pthread_mutex_lock(&t->mu);
    if (--p->refs == 0) preview_free(p);
    pthread_mutex_unlock(&t->mu);
}

/* Unlist the least recently used ready previews (never keep) while over PREVIEW_BYTES. */
static void preview_evict(svc_tiler *t, const preview *keep) {
    while (t->preview_bytes > PREVIEW_BYTES) {
        preview *old = NULL;
        for (preview *p = t->previews; p; p = p->next)
            if (p != keep && p->ready && (!old || p->used < old->used)) old = p;
        if (!old) return;
        preview_unlist(t, old);
    }
}

/* Rows r0 .. r1 of the preview: the source rows they sample, all bands in one call (so a
 * pixel-interleaved, compressed block is decoded once for all bands while it sits in GDAL's
 * block cache), and the alpha / mask likewise. */
static bool preview_rows(const raster_job *job, preview *p, GDALRasterBandH mask, int r0,
                         int r1) {
    const disp *d = &job->d;
    double sy = (double)d->height / p->h;
    GDALRasterIOExtraArg ex;
    INIT_RASTERIO_EXTRA_ARG(ex);
    ex.eResampleAlg = GRIORA_NearestNeighbour;
    ex.bFloatingPointWindowValidity = TRUE;
    ex.dfXOff = 0;
    ex.dfXSize = (double)d->width;
    ex.dfYOff = r0 * sy;
    ex.dfYSize = (r1 - r0) * sy;
    int y0 = (int)floor(ex.dfYOff), y1 = (int)ceil(ex.dfYOff + ex.dfYSize);
    if (y1 > d->height) y1 = (int)d->height;
    GSpacing size = GDALGetDataTypeSizeBytes(p->type);
    size_t plane = (size_t)p->w * (size_t)p->h, at = (size_t)r0 * (size_t)p->w;
    int bands[3] = { d->bands[0], d->bands[1], d->bands[2] };
    if (GDALDatasetRasterIOEx(job->ds, GF_Read, 0, y0, (int)d->width, y1 - y0,
                              p->pixels + at * (size_t)size, p->w, r1 - r0, p->type, d->n_show,
                              bands, size, size * p->w, size * (GSpacing)plane, &ex) != CE_None)
        return false;
    return !mask || GDALRasterIOEx(mask, GF_Read, 0, y0, (int)d->width, y1 - y0, p->alpha + at,
                                   p->w, r1 - r0, GDT_Byte, 1, p->w, &ex) == CE_None;
}

/* Read the preview of job's raster: its shown bands decimated by nearest neighbour (GDAL
 * reads only the rows or blocks holding sampled pixels, and uses overviews when present),
 * and its alpha band or per-dataset mask as alpha, one block row of the source at a time. */
static eos_status preview_build(const raster_job *job, preview *p, eos_err *err) {
    const disp *d = &job->d;
    double f = (double)(d->width > d->height ? d->width : d->height) / PREVIEW_PX;
    p->w = (int)fmax(1, round((double)d->width / f));
    p->h = (int)fmax(1, round((double)d->height / f));
    p->n_bands = d->n_show;
    p->type = GDALGetRasterDataType(GDALGetRasterBand(job->ds, d->bands[0]));
    for (int c = 0; c < d->n_show; c++) {
        GDALRasterBandH b = GDALGetRasterBand(job->ds, d->bands[c]);
        if (GDALGetRasterDataType(b) != p->type) p->type = GDT_Float32;
        int has = 0;
        p->nodata[c] = GDALGetRasterNoDataValue(b, &has);
        p->has_nodata[c] = has != 0;
    }
    GDALRasterBandH b1 = GDALGetRasterBand(job->ds, d->bands[0]);
    GDALRasterBandH mask = d->alpha_band ? GDALGetRasterBand(job->ds, d->alpha_band)
                         : (GDALGetMaskFlags(b1) & GMF_PER_DATASET) ? GDALGetMaskBand(b1) : NULL;
    size_t plane = (size_t)p->w * (size_t)p->h;
    size_t data = plane * (size_t)d->n_show * (size_t)GDALGetDataTypeSizeBytes(p->type);
    p->bytes = data + (mask ? plane : 0);
    const char *wkt = GDALGetProjectionRef(job->ds);
    p->pixels = eos_malloc(data);
    p->alpha = mask ? eos_malloc(plane) : NULL;
    p->wkt = eos_strdup(wkt ? wkt : "");
    if (!p->pixels || (mask && !p->alpha) || !p->wkt)
        return eos_err_set(err, EOS_NOMEM, "%s: preview", job->path);
    int block_w = 0, block_h = 0;
    GDALGetBlockSize(b1, &block_w, &block_h);
    int step = (int)fmax(1, floor(block_h * (double)p->h / (double)d->height));
    for (int r = 0; r < p->h; r += step)
        if (!preview_rows(job, p, mask, r, r + step < p->h ? r + step : p->h))
            return eos_gdal_fail(err, EOS_IO, "%s: reading", job->path);
    double gt[6];
    if (GDALGetGeoTransform(job->ds, gt) != CE_None)
        return eos_err_set(err, EOS_INTERNAL, "%s: no geotransform", job->path);
    double sx = (double)d->width / p->w, sy = (double)d->height / p->h;
    double pgt[6] = { gt[0], gt[1] * sx, gt[2] * sy, gt[3], gt[4] * sx, gt[5] * sy };
    memcpy(p->gt, pgt, sizeof pgt);
    return EOS_OK;
}

/* The ready preview of job's raster, built now when the cache has none (threads that want the
 * same preview meanwhile wait for it); *out NULL when building failed (err says why). Release
 * with preview_release. */
static eos_status preview_get(svc_tiler *t, const raster_job *job, preview **out,
                              eos_err *err) {
    *out = NULL;
    pthread_mutex_lock(&t->mu);
    preview *p = t->previews;
    while (p && (p->kind != job->kind || strcmp(p->path, job->path))) p = p->next;
    if (p && (p->mtime_ns != job->mtime_ns || p->size != job->size || p->failed)) {
        preview_unlist(t, p);   /* an older version of the file */
        p = NULL;
    }
    if (p) {
        p->refs++;
        while (!p->ready && !p->failed) pthread_cond_wait(&t->cv, &t->mu);
        p->used = ++t->clock;
        bool ok = p->ready;
        pthread_mutex_unlock(&t->mu);
        if (!ok) {
            preview_release(t, p);
            return eos_err_set(err, EOS_IO, "%s: reading the preview failed", job->path);
        }
        *out = p;
        return EOS_OK;
    }
    p = eos_calloc(1, sizeof *p);
    char *path = eos_strdup(job->path);
    if (!p || !path) {
        pthread_mutex_unlock(&t->mu);
        eos_free(p);
        eos_free(path);
        return eos_err_set(err, EOS_NOMEM, "%s: preview", job->path);
    }
    *p = (preview){ .next = t->previews, .path = path, .kind = job->kind,
                    .mtime_ns = job->mtime_ns, .size = job->size, .refs = 2,
                    .listed = true };
    t->previews = p;
    pthread_mutex_unlock(&t->mu);

    eos_status st = preview_build(job, p, err);
    pthread_mutex_lock(&t->mu);
    t->previews_built++;
    if (st == EOS_OK) {
        p->ready = true;
        p->used = ++t->clock;
        if (p->listed) {   /* else a newer version of the file replaced it meanwhile */
            t->preview_bytes += p->bytes;
            preview_evict(t, p);
        }
    } else {
        p->failed = true;
        preview_unlist(t, p);
    }
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
    if (st != EOS_OK) {
        preview_release(t, p);
        return st;
    }
    *out = p;
    return EOS_OK;
}

/* A MEM dataset over the preview's pixels (not copied: close it before releasing p). */
static GDALDatasetH preview_dataset(const preview *p) {
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("MEM"), "", p->w, p->h, 0, GDT_Byte, NULL);
    if (!ds) return NULL;
    size_t plane = (size_t)p->w * (size_t)p->h, size = (size_t)GDALGetDataTypeSizeBytes(p->type);
    bool ok = true;
    for (int c = 0; ok && c <= p->n_bands; c++) {
        if (c == p->n_bands && !p->alpha) break;
        uint8_t *data = c < p->n_bands ? p->pixels + (size_t)c * plane * size : p->alpha;
        GDALDataType type = c < p->n_bands ? p->type : GDT_Byte;
        char ptr[64], opt[80];
        ptr[CPLPrintPointer(ptr, data, (int)sizeof ptr - 1)] = '\0';
        snprintf(opt, sizeof opt, "DATAPOINTER=%s", ptr);
        char *opts[] = { opt, NULL };
        ok = GDALAddBand(ds, type, opts) == CE_None;
        GDALRasterBandH b = ok ? GDALGetRasterBand(ds, c + 1) : NULL;
        if (b && c < p->n_bands && p->has_nodata[c]) GDALSetRasterNoDataValue(b, p->nodata[c]);
        if (b && c == p->n_bands) GDALSetRasterColorInterpretation(b, GCI_AlphaBand);
    }
    double gt[6];
    memcpy(gt, p->gt, sizeof gt);
    if (!ok || GDALSetGeoTransform(ds, gt) != CE_None || GDALSetProjection(ds, p->wkt) != CE_None) {
        GDALClose(ds);
        return NULL;
    }
    return ds;
}

/* ------------------------------------------------------------------ one raster */

/* Open job->path and fetch or compute its display choice. */
static eos_status prepare(svc_tiler *t, raster_job *job, eos_err *err) {
    struct stat st;
    if (stat(job->path, &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return eos_err_set(err, EOS_NOT_FOUND, "%s: no such file", job->path);
        return eos_err_set(err, EOS_IO, "%s: %s", job->path, strerror(errno));
    }
    if (!S_ISREG(st.st_mode))
        return eos_err_set(err, EOS_INVALID_ARG, "%s: not a regular file", job->path);
    job->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    job->size = (int64_t)st.st_size;
    EOS_TRY(open_raster(job->path, -1, &job->ds, err));
    EOS_TRY(check_raster(job->path, job->ds, job->kind, err));
    if (!cache_get(t, job)) {
        compute_disp(job->path, job->ds, job->kind, &job->d);
        cache_put(t, job);
    }
    return EOS_OK;
}

static eos_status warp_windows(const svc_tiler *t, const raster_job *job, GDALDatasetH src,
                               const double merc[4], const win *ws, int n_ws, uint8_t *rgba,
                               eos_err *err) {
    float *buf = eos_malloc((size_t)(job->d.n_show + 1) * TILE_NPX * sizeof *buf);
    if (!buf) return eos_err_set(err, EOS_NOMEM, "%s: tile buffer", job->path);
    eos_status st = EOS_OK;
    for (int i = 0; st == EOS_OK && i < n_ws; i++) {
        st = warp_window(t, job->path, src, &job->d, job->kind, merc, ws[i], buf, err);
        if (st == EOS_OK) paint(&job->d, job->kind, buf, ws[i], rgba);
    }
    eos_free(buf);
    return st;
}

/* Zoomed out beyond the file's overviews: warp from the preview. *done false when there is
 * none to use (the caller then reads the file decimated). */
static eos_status draw_from_preview(svc_tiler *t, const raster_job *job, const double merc[4],
                                    const win *ws, int n_ws, uint8_t *rgba, bool *done,
                                    eos_err *err) {
    *done = false;
    preview *p = NULL;
    EOS_TRY(preview_get(t, job, &p, err));
    GDALDatasetH src = preview_dataset(p);
    eos_status st = EOS_OK;
    if (src) {
        st = warp_windows(t, job, src, merc, ws, n_ws, rgba, err);
        GDALClose(src);
        *done = true;
    }
    preview_release(t, p);
    return st;
}

/* Warp the raster into the windows of the tile it covers, from the level that suits the
 * tile's resolution: the file, an overview, the preview, or a decimated read. */
static eos_status draw_windows(svc_tiler *t, const raster_job *job, const double merc[4],
                               const win *ws, int n_ws, uint8_t *rgba, eos_err *err) {
    const disp *d = &job->d;
    double ratio = pixels_per_tile_px(d, merc);
    int level = ratio > 0 ? overview_level(d, ratio) : -1;
    double level_factor = level >= 0 ? d->ovr_factor[level] : 1.0;
    int decimate = ratio / level_factor >= DECIMATE_AT ? (int)(ratio / level_factor / 2) : 1;
    double preview_factor = (double)(d->width > d->height ? d->width : d->height) / PREVIEW_PX;
    if (decimate > 1 && preview_factor > 1 && ratio >= preview_factor) {
        bool done = false;
        eos_status st = draw_from_preview(t, job, merc, ws, n_ws, rgba, &done, err);
        if (st != EOS_OK || done) return st;
    }
    GDALDatasetH ovr = NULL, vrt = NULL;
    if (level >= 0 && open_raster(job->path, level, &ovr, err) != EOS_OK) {
        ovr = NULL;   /* the overview does not open on its own: decimate the full raster */
        decimate = ratio >= DECIMATE_AT ? (int)(ratio / 2) : 1;
    }
    eos_status st = warp_source(job->path, ovr ? ovr : job->ds, d, decimate, &vrt, err);
    if (st == EOS_OK)
        st = warp_windows(t, job, vrt ? vrt : ovr ? ovr : job->ds, merc, ws, n_ws, rgba, err);
    if (vrt) GDALClose(vrt);
    if (ovr) GDALClose(ovr);
    return st;
}

static eos_status draw_raster(svc_tiler *t, const char *path, svc_tile_kind kind,
                              const double merc[4], const double lonlat[4], uint8_t *rgba,
                              eos_err *err) {
    raster_job *job = eos_calloc(1, sizeof *job);
    if (!job) return eos_err_set(err, EOS_NOMEM, "%s: display choice", path);
    job->path = path;
    job->kind = kind;
    eos_status st = prepare(t, job, err);
    if (st == EOS_OK) {
        win ws[2];
        int n_ws = tile_windows(&job->d, merc, lonlat, ws);
        if (n_ws > 0) st = draw_windows(t, job, merc, ws, n_ws, rgba, err);
    }
    if (job->ds) GDALClose(job->ds);
    eos_free(job);
    return st;
}

/* ------------------------------------------------------------------ PNG */

static eos_status encode_png(svc_tiler *t, const uint8_t *rgba, uint8_t **png, size_t *len,
                             eos_err *err) {
    char name[96];
    pthread_mutex_lock(&t->mu);
    unsigned long long seq = ++t->seq;
    pthread_mutex_unlock(&t->mu);
    snprintf(name, sizeof name, "/vsimem/eos_tile_%p_%llu.png", (void *)t, seq);
    GDALDatasetH mem = GDALCreate(GDALGetDriverByName("MEM"), "", SVC_TILE_PX, SVC_TILE_PX, 4,
                                  GDT_Byte, NULL);
    if (!mem) return eos_gdal_fail(err, EOS_NOMEM, "tile picture");
    eos_status st = EOS_OK;
    if (GDALDatasetRasterIO(mem, GF_Write, 0, 0, SVC_TILE_PX, SVC_TILE_PX, (void *)rgba,
                            SVC_TILE_PX, SVC_TILE_PX, GDT_Byte, 4, NULL, 4, 4 * SVC_TILE_PX,
                            1) != CE_None)
        st = eos_gdal_fail(err, EOS_INTERNAL, "tile picture");
    GDALSetRasterColorInterpretation(GDALGetRasterBand(mem, 4), GCI_AlphaBand);
    char *opts[] = { "ZLEVEL=" PNG_ZLEVEL, NULL };
    GDALDatasetH out = st ? NULL : GDALCreateCopy(GDALGetDriverByName("PNG"), name, mem, FALSE,
                                                  opts, NULL, NULL);
    if (!st && !out) st = eos_gdal_fail(err, EOS_IO, "encoding the tile as PNG");
    if (out) GDALClose(out);
    GDALClose(mem);
    vsi_l_offset n = 0;
    GByte *bytes = VSIGetMemFileBuffer(name, &n, TRUE);
    char aux[112];
    snprintf(aux, sizeof aux, "%s.aux.xml", name);
    VSIUnlink(aux);
    if (!st && (!bytes || n == 0)) st = eos_err_set(err, EOS_IO, "encoding the tile as PNG");
    if (!st && !(*png = eos_malloc((size_t)n))) st = eos_err_set(err, EOS_NOMEM, "tile PNG");
    if (!st) {
        memcpy(*png, bytes, (size_t)n);
        *len = (size_t)n;
    }
    VSIFree(bytes);
    return st;
}

/* The encoded empty tile, made once per tiler. */
static eos_status empty_png(svc_tiler *t, uint8_t **png, size_t *len, eos_err *err) {
    pthread_mutex_lock(&t->mu);
    bool have = t->empty_png != NULL;
    pthread_mutex_unlock(&t->mu);
    if (!have) {
        uint8_t *rgba = eos_calloc(TILE_NPX, 4), *bytes = NULL;
        size_t n = 0;
        eos_status st = rgba ? encode_png(t, rgba, &bytes, &n, err)
                             : eos_err_set(err, EOS_NOMEM, "tile picture");
        eos_free(rgba);
        if (st) return st;
        pthread_mutex_lock(&t->mu);
        if (!t->empty_png) {
            t->empty_png = bytes;
            t->empty_len = n;
            bytes = NULL;
        }
        pthread_mutex_unlock(&t->mu);
        eos_free(bytes);
    }
    if (!(*png = eos_malloc(t->empty_len))) return eos_err_set(err, EOS_NOMEM, "tile PNG");
    memcpy(*png, t->empty_png, t->empty_len);   /* set once, never changed afterwards */
    *len = t->empty_len;
    return EOS_OK;
}

static bool all_transparent(const uint8_t *rgba) {
    for (size_t i = 0; i < TILE_NPX; i++)
        if (rgba[4 * i + 3]) return false;
    return true;
}

/* ------------------------------------------------------------------ rendering */

static eos_status check_args(const svc_tiler *t, const char *const *paths, int n_paths,
                             svc_tile_kind kind, int z, int x, int y, uint8_t **png,
                             size_t *png_len, eos_err *err) {
    if (!t || !png || !png_len || n_paths < 0 || (n_paths > 0 && !paths))
        return eos_err_set(err, EOS_INVALID_ARG, "tile: missing argument");
    if (kind != SVC_TILE_IMAGE && kind != SVC_TILE_CLASSES)
        return eos_err_set(err, EOS_INVALID_ARG, "tile: unknown kind %d", (int)kind);
    if (!svc_tile_valid(z, x, y))
        return eos_err_set(err, EOS_INVALID_ARG, "tile %d/%d/%d does not exist: zoom 0 .. %d, "
                           "x and y 0 .. 2^zoom - 1", z, x, y, SVC_TILE_MAX_Z);
    if (n_paths > SVC_TILE_MAX_RASTERS)
        return eos_err_set(err, EOS_LIMIT, "tile: %d rasters, at most %d are drawn", n_paths,
                           SVC_TILE_MAX_RASTERS);
    for (int i = 0; i < n_paths; i++)
        if (!paths[i] || !*paths[i])
            return eos_err_set(err, EOS_INVALID_ARG, "tile: raster %d has no path", i);
    return EOS_OK;
}

static eos_status render(svc_tiler *t, const char *const *paths, int n_paths,
                         svc_tile_kind kind, int z, int x, int y, uint8_t **png,
                         size_t *png_len, eos_err *err) {
    EOS_TRY(check_args(t, paths, n_paths, kind, z, x, y, png, png_len, err));
    double merc[4], lonlat[4];
    svc_tile_bounds(z, x, y, merc, lonlat);
    uint8_t *rgba = eos_calloc(TILE_NPX, 4);
    if (!rgba) return eos_err_set(err, EOS_NOMEM, "tile picture");
    eos_status st = EOS_OK;
    eos_gdal_quiet_begin();
    for (int i = 0; st == EOS_OK && i < n_paths; i++)
        st = draw_raster(t, paths[i], kind, merc, lonlat, rgba, err);
    if (st == EOS_OK)
        st = all_transparent(rgba) ? empty_png(t, png, png_len, err)
                                   : encode_png(t, rgba, png, png_len, err);
    eos_gdal_quiet_end();
    eos_free(rgba);
    return st;
}

eos_status svc_tile_render(svc_tiler *t, const char *const *paths, int n_paths,
                           svc_tile_kind kind, int z, int x, int y, uint8_t **png,
                           size_t *png_len, char *msg, size_t msg_size) {
    if (png) *png = NULL;
    if (png_len) *png_len = 0;
    if (msg && msg_size) msg[0] = '\0';
    eos_err err = { 0 };
    eos_status st = render(t, paths, n_paths, kind, z, x, y, png, png_len, &err);
    if (st != EOS_OK && msg && msg_size) snprintf(msg, msg_size, "%s", err.msg);
    return st;
}
