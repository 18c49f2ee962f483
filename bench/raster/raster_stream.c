/*
 * bench/raster/raster_stream.c - the memory/throughput benchmark of tiled raster processing.
 *
 *   eos_bench_raster make  OUT.tif  --size W,H --bands N        synthetic u16 scene, tiled
 *   eos_bench_raster run   IN.tif OUT.tif --op copy|threshold [--tile 512] [--overlap 0]
 *                          [--ahead 2] [--compress NONE|DEFLATE|...]
 *
 * `run` streams IN through eos_tile_reader (bounded: n_ahead + 1 tiles) -> a per-pixel operator
 * -> eos_raster_writer_write_tile, i.e. exactly the read -> predict -> write loop a whole-scene
 * segmentation does, with the model replaced by:
 *   copy       every band unchanged (u16 in, u16 out): raw I/O through eosight
 *   threshold  NDVI from bands 4 (NIR) and 3 (red) > 0.3 -> u8 class mask, nodata 255 where the
 *              input is nodata
 * It prints one JSON line: seconds, MB read (uncompressed), MB written (uncompressed), MB/s,
 * peak RSS in MiB (getrusage), tiles. bench/raster/run.sh wraps it with gdal_translate as the
 * reference for raw I/O speed.
 *
 * `make` writes a scene whose content compresses like real imagery (smooth fields plus noise),
 * tile by tile through eos_raster_writer, so it also measures the writer on a huge file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "eosight/eosight.h"
#include "eosight/raster.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double peak_rss_mib(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;   /* ru_maxrss is KiB on Linux */
}

static int die(const char *what, const char *msg) {
    fprintf(stderr, "eos_bench_raster: %s: %s\n", what, msg);
    return 1;
}

static uint32_t hash32(uint32_t x) {
    x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16;
    return x;
}

/* Smooth "fields" of 250 px plus +-64 noise, in 0..10000 like reflectance DN. */
static uint16_t synth_px(int64_t x, int64_t y, int b) {
    uint32_t field = hash32((uint32_t)(x / 250) * 7919u + (uint32_t)(y / 250) * 104729u + (uint32_t)b);
    uint32_t noise = hash32((uint32_t)x * 2654435761u ^ (uint32_t)y * 40503u ^ (uint32_t)b << 28);
    return (uint16_t)(500 + field % 8000 + noise % 128);
}

static int cmd_make(const char *out, int64_t w, int64_t h, int n_bands) {
    eos_raster_writer_params p = eos_raster_writer_default_params();
    eos_crs *crs = NULL;
    if (eos_crs_from_epsg(NULL, 32633, &crs) != EOS_OK) return die(out, "cannot create EPSG:32633");
    p.width_px = w;
    p.height_px = h;
    p.n_bands = n_bands;
    p.dtype = EOS_DTYPE_U16;
    p.compress = "NONE";
    p.block_px = 512;
    p.georef.has_transform = true;
    p.georef.transform = (eos_geotransform){ { 300000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0 } };
    p.georef.crs = crs;
    eos_ctx *ctx = NULL;
    eos_ctx_create(NULL, &ctx);
    eos_raster_writer *wr;
    if (eos_raster_writer_create(ctx, out, &p, &wr) != EOS_OK)
        return die(out, eos_ctx_errmsg(ctx));
    int rows = 512;
    uint16_t *buf = eos_malloc((size_t)n_bands * (size_t)rows * (size_t)w * 2);
    if (!buf) return die(out, "out of memory");
    double t0 = now_s();
    for (int64_t y0 = 0; y0 < h; y0 += rows) {
        int nr = (int)(h - y0 < rows ? h - y0 : rows);
        for (int b = 0; b < n_bands; b++)
            for (int y = 0; y < nr; y++)
                for (int64_t x = 0; x < w; x++)
                    buf[((size_t)b * (size_t)nr + (size_t)y) * (size_t)w + (size_t)x] = synth_px(x, y0 + y, b);
        if (eos_raster_writer_write(wr, 0, y0, (int)w, nr, EOS_DTYPE_U16, buf) != EOS_OK)
            return die(out, eos_raster_writer_errmsg(wr));
        fprintf(stderr, "\rmake: %3d%%", (int)(100 * (y0 + nr) / h));
    }
    if (eos_raster_writer_close(ctx, wr) != EOS_OK) return die(out, eos_ctx_errmsg(ctx));
    fprintf(stderr, "\n");
    double mb = (double)w * (double)h * n_bands * 2 / 1e6;
    printf("{\"op\":\"make\",\"seconds\":%.2f,\"mb_written\":%.1f,\"mb_per_s\":%.1f,"
           "\"peak_rss_mib\":%.1f}\n", now_s() - t0, mb, mb / (now_s() - t0), peak_rss_mib());
    eos_free(buf);
    eos_crs_free(crs);
    eos_ctx_free(ctx);
    return 0;
}

typedef struct run_opts {
    const char *op, *compress;
    int tile, overlap, ahead;
} run_opts;

/* NDVI > 0.3 -> 1, else 0; nodata -> 255. Tile-sized buffers. */
static void op_threshold(const uint16_t *in, const uint8_t *valid, int n_px, uint8_t *out) {
    const uint16_t *red = in + (size_t)2 * (size_t)n_px, *nir = in + (size_t)3 * (size_t)n_px;
    for (int i = 0; i < n_px; i++) {
        float r = red[i], n = nir[i];
        float s = n + r;
        out[i] = !valid[i] ? 255 : (s > 0 && (n - r) > 0.3f * s) ? 1 : 0;
    }
}

static int cmd_run(const char *in, const char *out, const run_opts *o) {
    eos_ctx *ctx = NULL;
    eos_ctx_create(NULL, &ctx);
    eos_raster *r;
    if (eos_raster_open(ctx, in, NULL, &r) != EOS_OK) return die(in, eos_ctx_errmsg(ctx));
    eos_raster_info info;
    eos_raster_get_info(r, &info);
    bool thr = !strcmp(o->op, "threshold");
    if (thr && info.n_selected < 4) return die(in, "threshold needs 4 bands (B,G,R,NIR)");

    eos_raster_writer_params p = eos_raster_writer_default_params();
    p.width_px = info.width_px;
    p.height_px = info.height_px;
    p.n_bands = thr ? 1 : info.n_selected;
    p.dtype = thr ? EOS_DTYPE_U8 : EOS_DTYPE_U16;
    p.georef = info.georef;
    p.compress = o->compress;
    p.block_px = 512;
    static const eos_rgba colors[2] = { { 200, 160, 100, 255 }, { 30, 160, 40, 255 } };
    static const char *const names[2] = { "bare", "vegetation" };
    if (thr) {
        p.has_nodata = true;
        p.nodata = 255;
        p.colors = colors;
        p.class_names = names;
        p.n_classes = 2;
    }
    eos_raster_writer *wr;
    if (eos_raster_writer_create(ctx, out, &p, &wr) != EOS_OK) return die(out, eos_ctx_errmsg(ctx));

    eos_tile_grid grid;
    if (eos_tile_grid_init(&grid, info.width_px, info.height_px, o->tile, o->tile, o->overlap))
        return die("grid", "bad tile size or overlap");
    eos_tile_reader_params tp = eos_tile_reader_default_params();
    tp.dtype = EOS_DTYPE_U16;
    tp.n_ahead = o->ahead;
    eos_tile_reader *tr;
    if (eos_tile_reader_create(r, &grid, &tp, &tr) != EOS_OK) return die("tiles", "cannot create reader");
    uint8_t *mask = eos_malloc((size_t)o->tile * (size_t)o->tile);

    double t0 = now_s();
    int64_t n = eos_tile_grid_count(&grid), k = 0;
    for (;;) {
        eos_tile t;
        const void *data;
        const uint8_t *valid;
        bool done;
        if (eos_tile_reader_next(tr, &t, &data, &valid, &done) != EOS_OK)
            return die(in, eos_raster_errmsg(r));
        if (done) break;
        eos_status st;
        if (thr) {
            op_threshold(data, valid, t.read_w * t.read_h, mask);
            st = eos_raster_writer_write_tile(wr, &grid, &t, 1, EOS_DTYPE_U8, mask);
        } else {
            st = eos_raster_writer_write_tile(wr, &grid, &t, info.n_selected, EOS_DTYPE_U16, data);
        }
        if (st != EOS_OK) return die(out, eos_raster_writer_errmsg(wr));
        if (++k % 64 == 0 || k == n) fprintf(stderr, "\rrun: %3d%%", (int)(100 * k / n));
    }
    fprintf(stderr, "\n");
    eos_tile_reader_free(tr);
    if (eos_raster_writer_close(ctx, wr) != EOS_OK) return die(out, eos_ctx_errmsg(ctx));
    double secs = now_s() - t0;
    double px = (double)info.width_px * (double)info.height_px;
    double mb_in = px * info.n_selected * 2 / 1e6, mb_out = px * (thr ? 1 : info.n_selected * 2) / 1e6;
    printf("{\"op\":\"%s\",\"width\":%lld,\"height\":%lld,\"bands\":%d,\"tile\":%d,\"overlap\":%d,"
           "\"ahead\":%d,\"compress\":\"%s\",\"tiles\":%lld,\"seconds\":%.2f,\"mb_read\":%.1f,"
           "\"mb_written\":%.1f,\"mb_per_s\":%.1f,\"peak_rss_mib\":%.1f}\n",
           o->op, (long long)info.width_px, (long long)info.height_px, info.n_selected, o->tile,
           o->overlap, o->ahead, o->compress, (long long)n, secs, mb_in, mb_out,
           (mb_in + mb_out) / secs, peak_rss_mib());
    eos_free(mask);
    eos_raster_close(r);
    eos_ctx_free(ctx);
    return 0;
}

static void usage(void) {
    fprintf(stderr,
            "usage: eos_bench_raster make OUT.tif [--size W,H] [--bands N]\n"
            "       eos_bench_raster run IN.tif OUT.tif [--op copy|threshold] [--tile PX]\n"
            "                        [--overlap PX] [--ahead N] [--compress NONE|DEFLATE|LZW|ZSTD]\n");
}

int main(int argc, char **argv) {
    if (argc < 3) { usage(); return 2; }
    if (!strcmp(argv[1], "make")) {
        long long w = 30000, h = 30000;
        int bands = 4;
        for (int i = 3; i + 1 < argc; i += 2) {
            if (!strcmp(argv[i], "--size") && sscanf(argv[i + 1], "%lld,%lld", &w, &h) == 2) continue;
            if (!strcmp(argv[i], "--bands")) { bands = atoi(argv[i + 1]); continue; }
            usage();
            return 2;
        }
        if (w <= 0 || h <= 0 || bands <= 0 || bands > 64) { usage(); return 2; }
        return cmd_make(argv[2], w, h, bands);
    }
    if (!strcmp(argv[1], "run") && argc >= 4) {
        run_opts o = { "copy", "DEFLATE", 512, 0, 2 };
        for (int i = 4; i + 1 < argc; i += 2) {
            if (!strcmp(argv[i], "--op")) o.op = argv[i + 1];
            else if (!strcmp(argv[i], "--compress")) o.compress = argv[i + 1];
            else if (!strcmp(argv[i], "--tile")) o.tile = atoi(argv[i + 1]);
            else if (!strcmp(argv[i], "--overlap")) o.overlap = atoi(argv[i + 1]);
            else if (!strcmp(argv[i], "--ahead")) o.ahead = atoi(argv[i + 1]);
            else { usage(); return 2; }
        }
        if (strcmp(o.op, "copy") && strcmp(o.op, "threshold")) { usage(); return 2; }
        return cmd_run(argv[2], argv[3], &o);
    }
    usage();
    return 2;
}
