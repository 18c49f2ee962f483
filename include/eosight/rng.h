/*
 * eosight/rng.h - the one pseudo-random generator of eosight (xoshiro256** seeded by
 * splitmix64), used for weight initialisation, shuffling, augmentation and dropout.
 *
 * Everything random in training derives from one user seed, so the same seed gives the same
 * run. Streams that must not depend on thread scheduling (per-sample augmentation) are made
 * with eos_rng_derive(seed, a, b), a fresh generator for the tuple (seed, a, b).
 *
 * The state is a plain struct owned by the caller; a generator is not thread-safe, separate
 * generators are independent.
 */
#ifndef EOSIGHT_RNG_H
#define EOSIGHT_RNG_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eos_rng {
    uint64_t s[4];
} eos_rng;

/* Seed from one 64-bit value (any value, 0 included). */
void     eos_rng_seed(eos_rng *r, uint64_t seed);
/* A generator for the tuple (seed, a, b): e.g. (run seed, epoch, sample index). */
void     eos_rng_derive(eos_rng *r, uint64_t seed, uint64_t a, uint64_t b);
/* Next 64 random bits. */
uint64_t eos_rng_u64(eos_rng *r);
/* Uniform in [0, 1) with 24 random bits. */
float    eos_rng_uniform(eos_rng *r);
/* Uniform in [lo, hi). */
float    eos_rng_range(eos_rng *r, float lo, float hi);
/* Uniform integer in [0, n) (n > 0; 0 when n <= 0), without modulo bias. */
uint64_t eos_rng_below(eos_rng *r, uint64_t n);
/* Standard normal (Box-Muller, one value per call). */
float    eos_rng_normal(eos_rng *r);
/* Fisher-Yates shuffle of idx[0..n). */
void     eos_rng_shuffle(eos_rng *r, int64_t *idx, int64_t n);

#ifdef __cplusplus
}
#endif
#endif /* EOSIGHT_RNG_H */
