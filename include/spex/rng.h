/* rng.h -- counter-based random numbers.
 *
 * Every random draw in spex is a pure function of (seed, stream, counter),
 * computed with Philox-4x64-10 (Random123).  Any rank can therefore produce
 * any part of the design without communication, and results do not depend on
 * the number of ranks.  Streams separate independent uses (see SPEX_STREAM_*).
 */
#ifndef SPEX_RNG_H
#define SPEX_RNG_H

#include <stdint.h>

/* Stream identifiers.  A stream that needs an extra index (a group, a
 * signal) adds it: stream = SPEX_STREAM_X + (index << 8). */
enum {
    SPEX_STREAM_DESIGN_M = 1,   /* subsampling matrices, + (group << 8) */
    SPEX_STREAM_SPECTRUM = 2,   /* generated synthetic spectra */
    SPEX_STREAM_NOISE = 3,      /* per-query oracle noise */
    SPEX_STREAM_TEST_MASKS = 4, /* held-out masks for faithfulness */
    SPEX_STREAM_UNIFORM = 5     /* uniform random designs (proxy) */
};

/* Local.  64 random bits for (seed, stream, counter). */
uint64_t spex_rng_u64(uint64_t seed, uint64_t stream, uint64_t counter);

/* Local.  Four independent 64-bit words for (seed, stream, counter). */
void spex_rng_u64x4(uint64_t seed, uint64_t stream, uint64_t counter, uint64_t out[4]);

/* Local.  Uniform double in [0, 1) from 53 random bits. */
double spex_rng_uniform(uint64_t seed, uint64_t stream, uint64_t counter);

/* Local.  Standard normal deviate (Box-Muller on one counter's bits). */
double spex_rng_normal(uint64_t seed, uint64_t stream, uint64_t counter);

#endif
