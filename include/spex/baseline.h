/* baseline.h -- the regression baselines SPEX is compared with
 * (ALGORITHMS.md section 9; doc/baselines.md): method.name = lime, banzhaf
 * or faith-banzhaf.
 *
 * They evaluate f on the very queries SPEX would make for the same study
 * (the aliasing design of spex_run_design, same query ids, hence the same
 * noise), and fit by least squares, in the Fourier basis chi_k(x) =
 * (-1)^(k.x), the constant plus
 *  - banzhaf:       the first-order terms (the linear fit; Banzhaf value
 *                   beta_i = -2 F({i}));
 *  - lime:          the same terms, each query weighted by LIME's kernel
 *                   exp(-D^2 / (2 width^2)), D = 1 - sqrt(|x| / n) the
 *                   cosine distance of the mask to the full input;
 *  - faith-banzhaf: the first-order terms and the pairs (Faith-Banzhaf of
 *                   order 2: the unweighted fit by terms of order <= 2).
 * At large n the fit cannot hold every feature (n pairs alone are
 * n(n-1)/2): features are ranked by the size of their marginal correlation
 * with f on the queries, sum_q y_q chi_i(x_q) (computed exactly in
 * integers, so the ranking is the same on any number of ranks), the top
 * method.baseline_features enter as first-order terms and all pairs of the
 * top method.baseline_pairs as second-order terms.  Both default to sizes
 * that fit about one term per SPEX_BASELINE_ROWS_PER_TERM queries.  The normal equations
 * are spex_proxy_refine_weighted's (exact integer Gram matrix, ScaLAPACK).
 */
#ifndef SPEX_BASELINE_H
#define SPEX_BASELINE_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "spex/config.h"
#include "spex/error.h"
#include "spex/log.h"
#include "spex/oracle.h"
#include "spex/result.h"
#include "spex/spectrum.h"

/* LIME weights are rounded to multiples of 2^-SPEX_BASELINE_WEIGHT_SCALE
 * (integers for the exact Gram matrix); a weight of 1 is 2^16. */
#define SPEX_BASELINE_WEIGHT_SCALE 16

/* Automatic sizes fit about one term per this many rows. */
#define SPEX_BASELINE_ROWS_PER_TERM 50

/* What to fit. */
typedef struct spex_baseline_params {
    spex_method_name method; /* SPEX_METHOD_LIME, _BANZHAF or _FAITH_BANZHAF */
    int n;                   /* features */
    int features;            /* first-order terms: the top min(features, n); 0: auto */
    int pairs;               /* faith-banzhaf: pairs of the top min(pairs, n); 0: auto */
    double width;            /* lime: kernel width */
    double lambda;           /* ridge penalty relative to the total weight; 0: none */
    uint64_t rows;           /* rows of the fit on all ranks (for the automatic sizes) */
} spex_baseline_params;

/* Collective on comm.  The baseline pipeline: fills res like
 * spex_run_study does (queries = the SPEX design's). */
spex_status spex_baseline_run(MPI_Comm comm, const spex_config *cfg, spex_oracle *o,
                              const spex_log *log, spex_result *res, spex_error *err);

/* Local.  LIME's weight of a mask keeping `kept` of n features, as an
 * integer: round(2^16 exp(-D^2 / (2 width^2))), D = 1 - sqrt(kept / n)
 * (D = 1 for the empty mask). */
uint32_t spex_baseline_lime_weight(int kept, int n, double width);

/* Collective on comm.  Fits the baseline p to this rank's rows
 * [first, first + count) of all the rows (masks of spex_mask_words(p->n)
 * words, values y; first a multiple of SPEX_PROXY_ROW_CHUNK, ranks in
 * order).  *out (empty on entry) receives the fitted Fourier terms sorted
 * by set: the constant, the first-order terms, the pairs; identical on
 * every rank.  SPEX_EUSAGE when the terms exceed what the normal equations
 * hold (SPEX_PROXY_REFINE_TERMS_MAX), SPEX_ENUMERIC when they are
 * singular. */
spex_status spex_baseline_fit(MPI_Comm comm, const spex_baseline_params *p, size_t first,
                              size_t count, const uint64_t *masks, const double *y,
                              spex_spectrum *out, spex_error *err);

#endif
