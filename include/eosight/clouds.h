/*
 * eosight/clouds.h - synthetic clouds, haze and cloud shadows composited over clear imagery, to
 * make training data for cloud screening where no labelled cloud data exists.
 *
 * What is drawn (one call, one image; every random choice comes from the caller's generator):
 *
 *   cloud field   fractal gradient ("Perlin") noise with octaves, at a feature size drawn in
 *                 metres and converted to pixels with gsd_m. It is thresholded at the
 *                 quantile that gives the drawn coverage inside the frame, with a soft edge
 *                 (smoothstep) around the threshold, into an opacity in [0, 1]. The threshold
 *                 is the middle of the edge: a pixel counts as cloud (mask 1) where its
 *                 opacity is at least 0.5, so the reported cloud fraction is the drawn
 *                 coverage up to rounding to whole pixels.
 *   thick cloud   bright, slightly bluish white (about 200-255 DN in 8-bit RGB), brighter in
 *                 its dense core and on the side facing the sun, with a finer noise texture
 *                 of a few DN; semi-transparent only at its soft edges.
 *   haze          a low-opacity whitish-blue veil over the whole frame whose opacity varies
 *                 slowly; it raises every band and lowers contrast (out = in*(1-a) + c*a).
 *   shadows       the same cloud field evaluated at positions shifted by the sun offset
 *                 (cloud height / tan(sun elevation) / gsd_m pixels, away from the sun's
 *                 azimuth), so shadows are cast by the clouds in the frame and by clouds just
 *                 outside it. They darken the ground multiplicatively (a share of the light is
 *                 diffuse skylight, so shadows are dark, not black) and lie under cloud and
 *                 haze, never on top of a cloud.
 *
 * Order per pixel: ground * (1 - shadow) -> haze veil -> thick cloud over it.
 *
 * Orientation: images are north-up (row 0 is the northern edge, x grows east), as Sentinel-2
 * tiles and the EuroSAT patches are; azimuths are in degrees clockwise from north.
 *
 * Scope and design for later: only 8-bit RGB, band-sequential (3 planes of h*w bytes), is
 * implemented. The geometry (opacity fields for cloud, haze and shadow) is computed once per
 * image independently of the bands, and only the last step turns it into 8-bit red, green and
 * blue; 16-bit reflectance or more bands need only a per-band cloud and haze brightness (for
 * Sentinel-2: clouds are bright from the blue to the SWIR bands, cirrus shows in B10) and a
 * wider value range in that step, which a later function with the same parameters can add.
 *
 * Limits (say them when using the data): the clouds are synthetic. They have no cloud-top
 * temperature, no parallax between bands, no cirrus band signature, and the clear source
 * scenes may hold faint real haze or cloud of their own.
 *
 * Thread safety: functions here keep no state; calls on different generators and buffers may
 * run at once.
 */
#ifndef EOSIGHT_CLOUDS_H
#define EOSIGHT_CLOUDS_H

#include <stdint.h>

#include "eosight/model.h"
#include "eosight/rng.h"
#include "eosight/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest image eos_cloud_composite accepts (w * h), e.g. a 10980 x 10980 Sentinel-2 tile. */
#define EOS_CLOUD_MAX_PIXELS ((int64_t)1 << 27)

/* How the random scene is drawn. Ranges [min, max] are sampled uniformly (log-uniformly for
 * scale_m) and may be equal to fix a value. Probabilities are in [0, 1]. */
typedef struct eos_cloud_params {
    int   version;                 /* EOS_CLOUD_PARAMS_VERSION (set by the defaults) */
    /* Coverage: with probability p_no_cloud no cloud at all (cover 0: no shadow either); else
     * with probability p_tiny a small cover in [tiny_min, tiny_max]; else a cover in
     * [cover_min, cover_max]. Covers are shares of the frame's pixels (0..1). */
    float p_no_cloud;
    float p_tiny, tiny_min, tiny_max;
    float cover_min, cover_max;
    /* Haze: with probability p_haze a veil of mean opacity in [haze_min, haze_max] (< 1). */
    float p_haze, haze_min, haze_max;
    /* Geometry: ground-sample distance of the image and the cloud field's largest feature size
     * (the base octave's period) in metres; octaves are added down to about 3 pixels. */
    float gsd_m;
    float scale_min_m, scale_max_m;
    float edge_min, edge_max;      /* half-width of the soft edge, in standard deviations of
                                      the noise field (0.05: crisp, 0.4: very soft) */
    /* Appearance, 8-bit DN: the cloud's brightest value and its texture amplitude. */
    float bright_min, bright_max;  /* 200..255 */
    float texture_dn;              /* +- DN of the fine texture (0: flat) */
    /* Shadows: with probability p_shadow; the darkening (share of light removed) in
     * [shadow_min, shadow_max]; the sun and cloud height set the offset. */
    float p_shadow, shadow_min, shadow_max;
    float sun_azimuth_min_deg, sun_azimuth_max_deg;
    float sun_elevation_min_deg, sun_elevation_max_deg;   /* (0, 90] */
    float height_min_m, height_max_m;                     /* cloud height above ground */
} eos_cloud_params;

#define EOS_CLOUD_PARAMS_VERSION 1

/* What one composite came out as. */
typedef struct eos_cloud_info {
    float cloud_fraction;          /* share of pixels with cloud opacity >= 0.5 (= the mask's
                                      share of ones) */
    float cover_drawn;             /* the cover that was drawn (target of the quantile) */
    float haze;                    /* mean haze opacity over the frame (0: none) */
    float shadow_fraction;         /* share of pixels in visible shadow: shadow opacity >= 0.5
                                      and cloud opacity < 0.5 */
    float shadow_dx_px, shadow_dy_px;  /* where shadows fall relative to their clouds, pixels
                                          (x east, y south); 0, 0 without shadows */
    float mean_opacity;            /* mean cloud opacity over the frame (soft edges included) */
} eos_cloud_info;

/* Defaults for 10 m Sentinel-2 RGB patches such as EuroSAT's 64 x 64 (640 m): 20 % no cloud,
 * 20 % tiny cover in (0, 5 %], else cover uniform in 0..100 %; haze on 35 % of images (mean
 * opacity 0.05-0.4); clouds 0.4-6 km features; brightness 205-250 DN, texture 10 DN; shadows
 * on 85 % of cloudy images, 35-65 % darker; sun azimuth 120-220 degrees (late-morning overpass
 * in the northern hemisphere), elevation 25-65 degrees; cloud heights 0.4-2 km. */
eos_cloud_params eos_cloud_default_params(void);

/* Check p: EOS_INVALID_ARG with the first offending field named in msg (msg_cap bytes, may be
 * NULL) for an unknown version, probabilities outside [0, 1], ranges with min > max, covers
 * outside [0, 1], haze >= 1, a gsd or scale <= 0, brightness outside 0..255, sun elevation
 * outside (0, 90] or non-finite values. */
eos_status eos_cloud_params_check(const eos_cloud_params *p, char *msg, int msg_cap);

/* Composite a random cloud scene over rgb (3 planes of h*w 8-bit values, band-sequential
 * R, G, B) into out (same layout; may be rgb itself). cloud_mask (h*w bytes, may be NULL)
 * receives 1 where cloud opacity >= 0.5, else 0; info (may be NULL) what was drawn. With
 * cover 0 and no haze drawn, out equals rgb exactly. The result is a function of rgb, p and
 * the generator's state only; the generator advances by a number of draws that does not
 * depend on the pixels. Scratch memory: 8 bytes per pixel, from eos_malloc, freed before
 * return. Errors (message in eos_ctx_errmsg(ctx); ctx may be NULL): EOS_INVALID_ARG (NULL
 * rgb/out/p/rng, w or h < 1, bad params as eos_cloud_params_check), EOS_LIMIT (w * h above
 * EOS_CLOUD_MAX_PIXELS), EOS_NOMEM; out, cloud_mask and info are untouched then. */
eos_status eos_cloud_composite(eos_ctx *ctx, const uint8_t *rgb, int w, int h,
                               const eos_cloud_params *p, eos_rng *rng, uint8_t *out /* OUT */,
                               uint8_t *cloud_mask /* OUT, may be NULL */,
                               eos_cloud_info *info /* OUT, may be NULL */);

#ifdef __cplusplus
}
#endif
#endif /* EOSIGHT_CLOUDS_H */
