/* rng.c -- Philox-4x64-10 behind a (seed, stream, counter) interface. */
#include "spex/rng.h"

#include <math.h>
#include <Random123/philox.h>

void spex_rng_u64x4(uint64_t seed, uint64_t stream, uint64_t counter, uint64_t out[4])
{
    philox4x64_ctr_t c = {{counter, stream, 0, 0}};
    philox4x64_key_t k = {{seed, 0x5bd1e995a1b2c3d4ULL}};
    philox4x64_ctr_t r = philox4x64(c, k);
    for (int i = 0; i < 4; i++)
        out[i] = r.v[i];
}

uint64_t spex_rng_u64(uint64_t seed, uint64_t stream, uint64_t counter)
{
    uint64_t w[4];
    spex_rng_u64x4(seed, stream, counter, w);
    return w[0];
}

static double to_unit(uint64_t w)
{
    return (double)(w >> 11) * 0x1.0p-53;
}

double spex_rng_uniform(uint64_t seed, uint64_t stream, uint64_t counter)
{
    return to_unit(spex_rng_u64(seed, stream, counter));
}

double spex_rng_normal(uint64_t seed, uint64_t stream, uint64_t counter)
{
    uint64_t w[4];
    spex_rng_u64x4(seed, stream, counter, w);
    /* u1 in (0, 1] so that log(u1) is finite. */
    double u1 = 1.0 - to_unit(w[0]);
    double u2 = to_unit(w[1]);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}
