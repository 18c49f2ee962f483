/*
 * tests/geo/test_morph.c - mask clean-up in memory (src/geo/morph.c).
 *
 * Erosion, dilation, opening and closing are compared pixel by pixel with a brute-force
 * reference (every pixel of the disk visited) on random masks of odd sizes, densities and radii
 * 0..4 (plus radii larger than the image), in place and out of place. Edge semantics, small
 * object/hole removal and per-class cleaning are checked on hand-drawn masks whose results are
 * worked out by hand in the comments; area conversion against a UTM and an EPSG:4326 georef,
 * the latter against the WGS 84 ellipsoid formula.
 */
#include <time.h>

#include "common/test.h"
#include "eosight/alloc.h"
#include "eosight/mask.h"

/* ------------------------------------------------------------------ brute-force reference */

/* Dilation (want = 1) or erosion (want = 0): a pixel of the result differs from `want`'s
 * default when some pixel of the disk, inside the image, holds `want`. */
static void ref_morph(const uint8_t *src, int w, int h, int r, uint8_t *dst, bool dilate) {
    int64_t r2 = (int64_t)r * r;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            bool found = false;
            for (int yy = 0; yy < h && !found; yy++) {
                for (int xx = 0; xx < w && !found; xx++) {
                    int64_t dx = xx - x, dy = yy - y;
                    if (dx * dx + dy * dy > r2) continue;
                    bool fg = src[yy * w + xx] != 0;
                    found = dilate ? fg : !fg;
                }
            }
            dst[y * w + x] = (uint8_t)(dilate ? found : !found);
        }
    }
}

static uint64_t g_rng = 88172645463325252ull;
static uint32_t rnd(void) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (uint32_t)(g_rng >> 32);
}

typedef eos_status (*morph_fn)(const uint8_t *, int64_t, int64_t, int, uint8_t *);

/* Reference for op 0..3 = erode, dilate, open, close. */
static void ref_op(int op, const uint8_t *src, int w, int h, int r, uint8_t *dst, uint8_t *tmp) {
    switch (op) {
    case 0: ref_morph(src, w, h, r, dst, false); break;
    case 1: ref_morph(src, w, h, r, dst, true); break;
    case 2: ref_morph(src, w, h, r, tmp, false); ref_morph(tmp, w, h, r, dst, true); break;
    default: ref_morph(src, w, h, r, tmp, true); ref_morph(tmp, w, h, r, dst, false); break;
    }
}

static int count_diff(const uint8_t *a, const uint8_t *b, int n) {
    int d = 0;
    for (int i = 0; i < n; i++) d += a[i] != b[i];
    return d;
}

static void check_random(int w, int h, int r, int density_pct) {
    static const morph_fn fns[4] = { eos_mask_erode, eos_mask_dilate, eos_mask_open,
                                     eos_mask_close };
    static const char *names[4] = { "erode", "dilate", "open", "close" };
    int n = w * h;
    uint8_t *src = malloc((size_t)n), *got = malloc((size_t)n), *want = malloc((size_t)n),
            *tmp = malloc((size_t)n);
    for (int i = 0; i < n; i++) src[i] = (uint8_t)((int)(rnd() % 100) < density_pct);
    for (int op = 0; op < 4; op++) {
        ref_op(op, src, w, h, r, want, tmp);
        EXPECT_OK(fns[op](src, w, h, r, got));
        int d = count_diff(got, want, n);
        if (d) TEST_FAIL_("%s %dx%d r=%d density %d%%: %d pixels differ", names[op], w, h, r,
                          density_pct, d);
        memcpy(got, src, (size_t)n);   /* in place */
        EXPECT_OK(fns[op](got, w, h, r, got));
        d = count_diff(got, want, n);
        if (d) TEST_FAIL_("%s in place %dx%d r=%d: %d pixels differ", names[op], w, h, r, d);
    }
    free(src); free(got); free(want); free(tmp);
}

static void test_morph_vs_reference(void) {
    static const int sizes[][2] = { { 1, 1 }, { 1, 9 }, { 9, 1 }, { 2, 3 }, { 5, 7 },
                                    { 13, 11 }, { 31, 17 }, { 17, 33 }, { 64, 5 }, { 47, 47 } };
    static const int dens[] = { 3, 50, 90 };
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int r = 0; r <= 4; r++)
            for (size_t d = 0; d < sizeof dens / sizeof dens[0]; d++)
                check_random(sizes[s][0], sizes[s][1], r, dens[d]);
    /* radii as large as or larger than the image */
    check_random(13, 11, 9, 5);
    check_random(13, 11, 17, 5);
    check_random(7, 5, 1000, 10);
    check_random(7, 5, 2000000000, 10);
}

/* ------------------------------------------------------------------ edges and shapes */

static int count_ones(const uint8_t *m, int n) {
    int c = 0;
    for (int i = 0; i < n; i++) c += m[i] != 0;
    return c;
}

static void test_morph_shapes_and_edges(void) {
    uint8_t m[49] = { 0 }, out[49];
    m[3 * 7 + 3] = 1;
    /* disk r=2: 5 (dy 0) + 2*3 (dy +-1, w = floor(sqrt 3) = 1) + 2*1 (dy +-2) = 13 pixels */
    ASSERT_OK(eos_mask_dilate(m, 7, 7, 2, out));
    EXPECT_EQ_INT(count_ones(out, 49), 13);
    EXPECT_EQ_INT(out[1 * 7 + 3], 1);
    EXPECT_EQ_INT(out[2 * 7 + 2], 1);    /* (1,1): 2 <= 4 */
    EXPECT_EQ_INT(out[1 * 7 + 2], 0);    /* (1,2): 5 > 4 */
    /* r=1 is a plus: 5 pixels; r=0 the identity */
    ASSERT_OK(eos_mask_dilate(m, 7, 7, 1, out));
    EXPECT_EQ_INT(count_ones(out, 49), 5);
    ASSERT_OK(eos_mask_dilate(m, 7, 7, 0, out));
    EXPECT_EQ_INT(count_diff(out, m, 49), 0);
    /* a corner pixel dilated with r=2 is clipped: quarter of the disk = 3 + 2 + 1 = 6 */
    memset(m, 0, sizeof m);
    m[0] = 1;
    ASSERT_OK(eos_mask_dilate(m, 7, 7, 2, out));
    EXPECT_EQ_INT(count_ones(out, 49), 6);
    /* erosion: outside counts as foreground, so an all-ones image stays all ones, and a
     * full-width band of 3 rows loses nothing at its left/right ends */
    memset(m, 1, sizeof m);
    ASSERT_OK(eos_mask_erode(m, 7, 7, 3, out));
    EXPECT_EQ_INT(count_ones(out, 49), 49);
    memset(m, 0, sizeof m);
    memset(m + 2 * 7, 1, 3 * 7);
    ASSERT_OK(eos_mask_erode(m, 7, 7, 1, out));
    EXPECT_EQ_INT(count_ones(out, 49), 7);   /* only the middle row survives, whole */
    for (int x = 0; x < 7; x++) EXPECT_EQ_INT(out[3 * 7 + x], 1);
    /* opening (r=1, a plus) of a 3x3 block in the corner: erosion keeps the 2x2 corner block
     * (its outside neighbours count as foreground), dilation grows it back to the block minus
     * its inner corner (2,2), which no plus inside the block reaches. The edges are not eaten. */
    memset(m, 0, sizeof m);
    for (int y = 0; y < 3; y++)
        for (int x = 0; x < 3; x++) m[y * 7 + x] = 1;
    ASSERT_OK(eos_mask_open(m, 7, 7, 1, out));
    EXPECT_EQ_INT(count_ones(out, 49), 8);
    EXPECT_EQ_INT(out[0], 1);
    EXPECT_EQ_INT(out[2 * 7 + 2], 0);
    /* bad arguments */
    EXPECT_STATUS(eos_mask_erode(m, 7, 7, -1, out), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_mask_dilate(m, 0, 7, 1, out), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_mask_open(NULL, 7, 7, 1, out), EOS_INVALID_ARG);
    EXPECT_STATUS(eos_mask_close(m, 7, 7, 1, NULL), EOS_INVALID_ARG);
}

static void test_morph_speed(void) {
#if defined(__SANITIZE_ADDRESS__)
    TEST_SKIP("timing is meaningless under sanitizers");
#else
    const int64_t w = 4096, h = 4096;
    uint8_t *m = eos_malloc((size_t)(w * h));
    ASSERT_TRUE(m);
    for (int64_t i = 0; i < w * h; i++) m[i] = (uint8_t)(rnd() % 16 == 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    EXPECT_OK(eos_mask_dilate(m, w, h, 5, m));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    printf("  dilate 4096x4096 r=5: %.3f s\n", s);
    EXPECT_TRUE(s < 2.0);   /* ~0.05 s on one core; generous for shared machines */
    eos_free(m);
#endif
}

/* ------------------------------------------------------------------ small objects and holes */

/* Parse a picture: '#' = 1, '.' = 0. */
static void draw(uint8_t *m, const char *const *rows, int h) {
    int w = (int)strlen(rows[0]);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) m[y * w + x] = rows[y][x] == '#';
}

static void expect_picture(const uint8_t *m, const char *const *rows, int h) {
    int w = (int)strlen(rows[0]);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if (m[y * w + x] != (rows[y][x] == '#'))
                TEST_FAIL_("pixel (%d, %d) is %d, want %c", x, y, m[y * w + x], rows[y][x]);
}

static void test_remove_small_objects(void) {
    /* objects of 1 px (A), 2 px diagonal (B: one 8-connected object), 4 px (D), 5 px (C) */
    static const char *const in[] = {
        "#.........",
        "..........",
        "...#....##",
        "....#...#.",
        "........#.",
        ".##.......",
        ".###......",
    };
    uint8_t m[70];
    draw(m, in, 7);
    ASSERT_OK(eos_mask_remove_small(m, 10, 7, 3, 0));   /* < 3 px go: A and B */
    static const char *const want3[] = {
        "..........",
        "..........",
        "........##",
        "........#.",
        "........#.",
        ".##.......",
        ".###......",
    };
    expect_picture(m, want3, 7);
    draw(m, in, 7);
    ASSERT_OK(eos_mask_remove_small(m, 10, 7, 5, 0));   /* < 5: only C stays */
    EXPECT_EQ_INT(count_ones(m, 70), 5);
    EXPECT_EQ_INT(m[6 * 10 + 3], 1);
    draw(m, in, 7);
    ASSERT_OK(eos_mask_remove_small(m, 10, 7, 2, 0));   /* < 2: only A goes; B is 2 px (8-conn) */
    EXPECT_EQ_INT(count_ones(m, 70), 1 + 2 + 4 + 5 - 1);
    EXPECT_EQ_INT(m[0], 0);
    EXPECT_EQ_INT(m[2 * 10 + 3], 1);
    draw(m, in, 7);
    ASSERT_OK(eos_mask_remove_small(m, 10, 7, 0, 0));   /* 0: nothing */
    EXPECT_EQ_INT(count_ones(m, 70), 12);
}

static void test_remove_small_holes(void) {
    /* hole H1 (1 px), hole H2 (2 px), a 1 px notch touching the border (N, never filled),
     * and H3: two background pixels touching only diagonally, i.e. two 1-px 4-connected holes */
    static const char *const in[] = {
        "#####.####",
        "#.########",
        "######..##",
        "##########",
        "###.######",
        "####.#####",
        "##########",
    };
    uint8_t m[70];
    draw(m, in, 7);
    ASSERT_OK(eos_mask_remove_small(m, 10, 7, 0, 2));   /* holes < 2 px: H1 and both H3 halves */
    static const char *const want[] = {
        "#####.####",
        "##########",
        "######..##",
        "##########",
        "##########",
        "##########",
        "##########",
    };
    expect_picture(m, want, 7);
    draw(m, in, 7);
    ASSERT_OK(eos_mask_remove_small(m, 10, 7, 0, 100));   /* every hole, never the notch */
    EXPECT_EQ_INT(count_ones(m, 70), 69);
    EXPECT_EQ_INT(m[5], 0);
    /* a background region touching the border is not a hole whatever its size */
    static const char *const edge[] = {
        "###",
        "#..",
        "###",
    };
    uint8_t e[9];
    draw(e, edge, 3);
    ASSERT_OK(eos_mask_remove_small(e, 3, 3, 0, 100));
    expect_picture(e, edge, 3);
}

static void test_remove_small_order(void) {
    /* a 1 px speck inside a 3x3 hole: removing the speck first makes a 9 px hole, which
     * max_hole_px 9 keeps and 10 fills */
    static const char *const in[] = {
        "#####",
        "#...#",
        "#.#.#",
        "#...#",
        "#####",
    };
    uint8_t m[25];
    draw(m, in, 5);
    ASSERT_OK(eos_mask_remove_small(m, 5, 5, 2, 9));
    EXPECT_EQ_INT(count_ones(m, 25), 16);
    draw(m, in, 5);
    ASSERT_OK(eos_mask_remove_small(m, 5, 5, 2, 10));
    EXPECT_EQ_INT(count_ones(m, 25), 25);
}

/* Brute-force labelling by BFS of the pixels equal to `value` (8- or 4-connected): lab[i] is
 * the first pixel of i's component, size[lab] its pixel count, border[lab] whether it touches
 * the image border. */
static void bfs_label(const uint8_t *m, int w, int h, uint8_t value, bool conn8, int *lab,
                      int *size, bool *border, int *queue) {
    for (int i = 0; i < w * h; i++) lab[i] = -1;
    for (int s = 0; s < w * h; s++) {
        if (m[s] != value || lab[s] >= 0) continue;
        int qh = 0, qt = 0;
        queue[qt++] = s;
        lab[s] = s;
        border[s] = false;
        while (qh < qt) {
            int p = queue[qh++], px = p % w, py = p / w;
            if (px == 0 || py == 0 || px == w - 1 || py == h - 1) border[s] = true;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    int xx = px + dx, yy = py + dy;
                    if ((!conn8 && dx && dy) || xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
                    int q = yy * w + xx;
                    if (m[q] == value && lab[q] < 0) { lab[q] = s; queue[qt++] = q; }
                }
        }
        size[s] = qt;
    }
}

/* Random masks: what remove_small keeps must agree with a BFS labelling: objects first, then
 * holes measured on the mask without the small objects. */
static void test_remove_small_random(void) {
    const int w = 61, h = 37, n = w * h;
    uint8_t *m = malloc((size_t)n), *orig = malloc((size_t)n), *want = malloc((size_t)n);
    int *lab = malloc(sizeof(int) * (size_t)n), *size = malloc(sizeof(int) * (size_t)n),
        *queue = malloc(sizeof(int) * (size_t)n);
    bool *border = malloc((size_t)n);
    int changed = 0;
    for (int trial = 0; trial < 8; trial++) {
        for (int i = 0; i < n; i++) orig[i] = (uint8_t)(rnd() % 100 < (trial < 4 ? 35u : 65u));
        int min_px = trial % 2 ? 4 + trial : 0, max_hole = 2 + trial;
        memcpy(m, orig, (size_t)n);
        ASSERT_OK(eos_mask_remove_small(m, w, h, min_px, max_hole));
        bfs_label(orig, w, h, 1, true, lab, size, border, queue);
        for (int i = 0; i < n; i++) want[i] = orig[i] && size[lab[i]] >= min_px;
        bfs_label(want, w, h, 0, false, lab, size, border, queue);
        for (int i = 0; i < n; i++)
            if (!want[i] && !border[lab[i]] && size[lab[i]] < max_hole) want[i] = 1;
        EXPECT_EQ_INT(count_diff(m, want, n), 0);
        changed += count_diff(m, orig, n);
    }
    EXPECT_TRUE(changed > 100);   /* the masks did have small objects and holes */
    free(m); free(orig); free(want); free(lab); free(size); free(queue); free(border);
}

/* ------------------------------------------------------------------ class masks */

static void test_clean_classes(void) {
    /* classes: 0 background, 1 and 2, 255 nodata.
     * Class 1: a 4x3 block with a 1 px hole at (2,1) holding class 2, plus a lone speck at
     * (7,0). Class 2: a 3x3 block at the bottom right, plus the speck inside class 1's hole.
     * Nodata at (0,5). Steps with min_object_px 2, min_hole_px 2 (no morphology):
     *  class 1: the speck (7,0) goes; its 8 neighbours after the step are (6,0)=0,(8,0)=0,
     *           (6,1)=0,(7,1)=0,(8,1)=0 -> background 0. The hole at (2,1) (one pixel of
     *           class 2: a 4-connected non-1 region of 1 px not touching the border) is filled
     *           -> class 1.
     *  class 2: the block stays (9 px); the former speck is gone already. */
    static const uint8_t in[6 * 9] = {
        1, 1, 1, 1, 0, 0, 0, 1, 0,
        1, 1, 2, 1, 0, 0, 0, 0, 0,
        1, 1, 1, 1, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 2, 2, 2,
        0, 0, 0, 0, 0, 0, 2, 2, 2,
        255, 0, 0, 0, 0, 0, 2, 2, 2,
    };
    uint8_t m[6 * 9];
    memcpy(m, in, sizeof m);
    eos_mask_clean_params p = eos_mask_clean_default_params();
    EXPECT_EQ_INT(p.nodata, 255);
    EXPECT_EQ_INT(p.background, 0);
    p.min_object_px = 2;
    p.min_hole_px = 2;
    ASSERT_OK(eos_mask_clean(m, 9, 6, &p));
    uint8_t want[6 * 9];
    memcpy(want, in, sizeof want);
    want[0 * 9 + 7] = 0;
    want[1 * 9 + 2] = 1;
    for (int i = 0; i < 54; i++)
        if (m[i] != want[i]) TEST_FAIL_("pixel (%d, %d): %d, want %d", i % 9, i / 9, m[i], want[i]);
}

static void test_clean_vote_and_nodata(void) {
    /* Opening with r=1 removes the 1-px-wide tail of class 1 (column 3, rows 0..2 are a
     * vertical line attached to nothing wider). Each tail pixel votes among its neighbours
     * that are neither 1 nor nodata:
     *   row 0: (2,0)=2 (4,0)=3 (2,1)=2 (4,1)=3 -> tie 2:2, smallest class wins -> 2
     *   row 1: (2,0)=2,(4,0)=3,(2,1)=2,(4,1)=3,(2,2)=2,(4,2)=255 -> 2:3, 3:2 -> 2
     *   row 2: (2,1)=2,(4,1)=3,(2,2)=2,(4,2)=nodata,(2,3)..(4,3)=0,0,0 -> 0:3 -> 0
     * The nodata pixel itself is never changed. */
    static const uint8_t in[4 * 5] = {
        2, 2, 2, 1, 3,
        2, 2, 2, 1, 3,
        2, 2, 2, 1, 255,
        0, 0, 0, 0, 0,
    };
    uint8_t m[20];
    memcpy(m, in, sizeof m);
    eos_mask_clean_params p = eos_mask_clean_default_params();
    p.open_radius_px = 1;
    ASSERT_OK(eos_mask_clean(m, 5, 4, &p));
    /* class 2 is then rows 0..1 x cols 0..3 plus row 2 x cols 0..2; erosion r=1 keeps
     * rows 0..1 x cols 0..2 (outside counts as foreground; (3,0) and (3,1) touch class 3, row 2
     * touches row 3's background) and dilation gives exactly the same shape back.
     * class 3: the 1 px wide column at x=4 rows 0..1 touches the right and top edges: eroded
     * pixel (4,0) needs (3,0),(4,1) -> (3,0) is not 3 -> gone; everything vanishes -> its
     * pixels vote: (4,0): neighbours (3,0)=2 (after class 1), (3,1)=2, (4,1)=3 -> 2.
     * (4,1): (3,0)=2,(3,1)=2,(4,0)=3(removed,still 3),(3,2)=0,(4,2)=255 -> 2:2 0:1 -> 2. */
    static const uint8_t want[20] = {
        2, 2, 2, 2, 2,
        2, 2, 2, 2, 2,
        2, 2, 2, 0, 255,
        0, 0, 0, 0, 0,
    };
    for (int i = 0; i < 20; i++)
        if (m[i] != want[i]) TEST_FAIL_("pixel (%d, %d): %d, want %d", i % 5, i / 5, m[i], want[i]);
    p.open_radius_px = -1;
    EXPECT_STATUS(eos_mask_clean(m, 5, 4, &p), EOS_INVALID_ARG);
}

static void test_clean_closing_adds(void) {
    /* closing r=1 fills the one-pixel gap between two class-1 bars (a 0 pixel and, in the
     * second row, a nodata pixel that must stay nodata) */
    static const uint8_t in[3 * 5] = {
        1, 1, 0, 1, 1,
        1, 1, 255, 1, 1,
        1, 1, 0, 1, 1,
    };
    uint8_t m[15];
    memcpy(m, in, sizeof m);
    eos_mask_clean_params p = eos_mask_clean_default_params();
    p.close_radius_px = 1;
    ASSERT_OK(eos_mask_clean(m, 5, 3, &p));
    EXPECT_EQ_INT(m[2], 1);
    EXPECT_EQ_INT(m[7], 255);
    EXPECT_EQ_INT(m[12], 1);
}

/* ------------------------------------------------------------------ areas */

static void test_area_to_px(void) {
    eos_crs *utm = NULL, *wgs = NULL;
    ASSERT_OK(eos_crs_from_epsg(NULL, 32633, &utm));
    ASSERT_OK(eos_crs_from_epsg(NULL, 4326, &wgs));
    eos_georef g = { { { 500000, 10, 0, 1000, 0, -10 } }, utm, true };
    EXPECT_EQ_INT(eos_mask_area_to_px(&g, 100, 100, 100.0), 1);
    EXPECT_EQ_INT(eos_mask_area_to_px(&g, 100, 100, 150.0), 2);
    EXPECT_EQ_INT(eos_mask_area_to_px(&g, 100, 100, 1000.0), 10);
    EXPECT_EQ_INT(eos_mask_area_to_px(&g, 100, 100, 0.0), 0);
    EXPECT_EQ_INT(eos_mask_area_to_px(&g, 100, 100, -5.0), 0);

    /* 0.0001 deg pixels centred on the equator: the raster (100 x 100 px) spans
     * lat -0.005 .. 0.005, so the centre pixel spans lat -0.00005 .. 0.00005. Its area on the
     * ellipsoid is about dlon * N * dlat * M = 11.132 m x 11.057 m. */
    eos_georef geo = { { { 15.0, 0.0001, 0, 0.005, 0, -0.0001 } }, wgs, true };
    const double a = 6378137.0, f = 1.0 / 298.257223563, e2 = f * (2 - f);
    const double d = 0.0001 * 3.14159265358979323846 / 180.0;
    double m_rad = a * (1 - e2), n_rad = a;          /* M and N at the equator */
    double px = (d * n_rad) * (d * m_rad);
    EXPECT_NEAR(d * n_rad, 11.132, 0.001);
    EXPECT_NEAR(d * m_rad, 11.057, 0.001);
    /* 1000 px worth of area (minus a hair) -> 1000; plus 1e-6 relative -> 1001 */
    EXPECT_EQ_INT(eos_mask_area_to_px(&geo, 100, 100, px * 1000 * (1 - 1e-7)), 1000);
    EXPECT_EQ_INT(eos_mask_area_to_px(&geo, 100, 100, px * 1000 * (1 + 1e-6)), 1001);
    EXPECT_EQ_INT(eos_mask_area_to_px(&geo, 100, 100, px * 1000 * (1 - 1e-6)), 1000);
    /* at 60 deg N: M(60) * N(60) * cos 60 per radian^2, about 0.505 of the equator's */
    eos_georef north = { { { 15.0, 0.0001, 0, 60.005, 0, -0.0001 } }, wgs, true };
    double s60 = sin(60.0 * 3.14159265358979323846 / 180.0), w60 = 1 - e2 * s60 * s60;
    double px60 = d * d * (a * (1 - e2) / (w60 * sqrt(w60))) * (a / sqrt(w60)) * 0.5;
    EXPECT_NEAR(px60 / px, 0.5051, 0.0001);
    EXPECT_EQ_INT(eos_mask_area_to_px(&north, 100, 100, px60 * 1000 * (1 - 1e-7)), 1000);
    EXPECT_EQ_INT(eos_mask_area_to_px(&north, 100, 100, px60 * 1000 * (1 + 1e-6)), 1001);

    /* no georeferencing: a pixel counts as 1 m2 */
    eos_georef none = { { { 0, 1, 0, 0, 0, 1 } }, NULL, false };
    EXPECT_EQ_INT(eos_mask_area_to_px(&none, 10, 10, 7.5), 8);
    EXPECT_EQ_INT(eos_mask_area_to_px(NULL, 10, 10, 7.0), 7);
    eos_crs_free(utm);
    eos_crs_free(wgs);
}

TEST_MAIN(TEST(test_morph_vs_reference), TEST(test_morph_shapes_and_edges),
          TEST(test_morph_speed), TEST(test_remove_small_objects), TEST(test_remove_small_holes),
          TEST(test_remove_small_order), TEST(test_remove_small_random),
          TEST(test_clean_classes), TEST(test_clean_vote_and_nodata),
          TEST(test_clean_closing_adds), TEST(test_area_to_px))
