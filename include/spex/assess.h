/* assess.h -- faithfulness of a recovered expansion (ALGORITHMS.md
 * section 9): R^2 on held-out uniform random masks.
 *
 * Test mask i is drawn from (seed, SPEX_STREAM_TEST_MASKS, i); ranks
 * evaluate contiguous blocks of them with the oracle (query ids start at
 * SPEX_TEST_ID_BASE so that noise differs from the design's) and reduce
 * R^2 = 1 - sum (f - g)^2 / sum (f - mean f)^2 for each expansion g.
 */
#ifndef SPEX_ASSESS_H
#define SPEX_ASSESS_H

#include <mpi.h>
#include <stdint.h>

#include "spex/error.h"
#include "spex/oracle.h"
#include "spex/spectrum.h"

#define SPEX_TEST_ID_BASE ((uint64_t)1 << 62)

/* Local.  Writes test mask i (words words) for n features. */
void spex_assess_mask(uint64_t seed, int n, uint64_t i, uint64_t *mask);

/* Local.  The Fourier expansion's value at a mask. */
double spex_assess_eval(const spex_spectrum *fourier, const uint64_t *mask);

/* Collective on comm.  Evaluates T test masks (in batches of batch) and
 * the R^2 of each of the nspec Fourier expansions specs[] against them;
 * writes r2[0..nspec-1] (NaN when f is constant on the test set). */
spex_status spex_assess_r2(MPI_Comm comm, spex_oracle *o, const spex_spectrum *const *specs,
                           int nspec, int T, uint64_t seed, int batch, double *r2,
                           spex_error *err);

#endif
