/*
 * src/core/rng.c - xoshiro256** (Blackman and Vigna) seeded through splitmix64; see
 * include/eosight/rng.h.
 */
#include "eosight/rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void eos_rng_seed(eos_rng *r, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

void eos_rng_derive(eos_rng *r, uint64_t seed, uint64_t a, uint64_t b) {
    uint64_t x = seed;
    uint64_t h = splitmix64(&x);
    x = h ^ (a * 0xd1b54a32d192ed03ull);
    h = splitmix64(&x);
    x = h ^ (b * 0x8cb92ba72f3d8dd7ull);
    eos_rng_seed(r, splitmix64(&x));
}

uint64_t eos_rng_u64(eos_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

float eos_rng_uniform(eos_rng *r) {
    return (float)(eos_rng_u64(r) >> 40) * (1.0f / 16777216.0f);
}

float eos_rng_range(eos_rng *r, float lo, float hi) {
    return lo + (hi - lo) * eos_rng_uniform(r);
}

uint64_t eos_rng_below(eos_rng *r, uint64_t n) {
    if (n == 0) return 0;
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t v;
    do v = eos_rng_u64(r); while (v >= limit);
    return v % n;
}

float eos_rng_normal(eos_rng *r) {
    double u1 = ((double)(eos_rng_u64(r) >> 11) + 1.0) * (1.0 / 9007199254740993.0);
    double u2 = (double)(eos_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

void eos_rng_shuffle(eos_rng *r, int64_t *idx, int64_t n) {
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)eos_rng_below(r, (uint64_t)i + 1);
        int64_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}
