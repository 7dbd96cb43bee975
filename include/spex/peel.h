/* peel.h -- singleton detection and parallel peeling (ALGORITHMS.md
 * sections 4 and 5).
 *
 * After the transforms, bin j of group c holds the P+1 values
 * U_{c,p}(j) = sum_{k: M_c k = j} F(k) (-1)^(d_p . k).  Bins are owned by
 * ranks in contiguous blocks of the global bin index g = c 2^b + j.  Each
 * round every rank classifies its changed bins; new singletons are
 * all-gathered in order of g (so every rank sees the same list), duplicates
 * dropped, and every rank subtracts each new term from the bins it owns.
 * A round that finds nothing new ends peeling.
 */
#ifndef SPEX_PEEL_H
#define SPEX_PEEL_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "spex/design.h"
#include "spex/error.h"
#include "spex/spectrum.h"

typedef enum { SPEX_BIN_ZERO = 0, SPEX_BIN_SINGLE = 1, SPEX_BIN_MULTI = 2 } spex_bin_kind;

typedef struct spex_peel_params {
    /* Noise-free mode (noise_var == 0): */
    double zero_tol;   /* a bin with max_p |U_p| <= zero_tol is a zero-ton */
    double single_tol; /* a singleton's residual norm must be <= this */
    /* Noisy mode (noise_var > 0): thresholds from nu^2 = noise_var, the
     * noise variance of one bin value (sigma^2 / 2^b for noise of variance
     * sigma^2 on f); spex_peel_run estimates it when noise_var < 0. */
    double noise_var;
    int chase;         /* Chase decoding: flip subsets of this many weakest bits */
    int max_rounds;    /* hard cap on rounds */
    size_t max_terms;  /* stop once this many terms are recovered */
} spex_peel_params;

typedef struct spex_peel_stats {
    int rounds;
    double noise_var;             /* nu^2 used (0: noise-free mode) */
    uint64_t zero, single, multi; /* final classification of all bins */
    uint64_t unresolved;          /* bins not zero at the end */
} spex_peel_stats;

/* Local.  Classifies bin j of group c from its P+1 values U; for a
 * singleton fills term (features, order, coefficient estimate). */
spex_bin_kind spex_peel_classify(const spex_design *d, int c, uint64_t j, const double *U,
                                 const spex_peel_params *pp, spex_term *term);

/* Collective on comm.  sig holds this rank's transformed, normalized
 * values under layout L (design.h; every rank passes the same L->r).
 * Moves them to bin ownership (all-to-all) and peels.  Appends recovered
 * terms to out (identical on every rank, in order of discovery). */
spex_status spex_peel_run(MPI_Comm comm, const spex_design *d, const spex_layout *L,
                          const double *sig, const spex_peel_params *pp, spex_spectrum *out,
                          spex_peel_stats *stats, spex_error *err);

#endif
