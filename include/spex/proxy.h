/* proxy.h -- ProxySPEX (ALGORITHMS.md section 7; doc/proxyspex.md).
 *
 * Evaluate f on m uniform random masks, fit a gradient-boosted tree
 * ensemble to them (the proxy, XGBoost hist), read the ensemble's Fourier
 * spectrum exactly from its trees, keep the largest terms and refit their
 * coefficients by least squares on the m true samples.
 *
 * Conventions shared by every function here:
 *  - Sample i is the mask of spex_proxy_mask(seed, n, i); its query id is i.
 *  - The proxy sees a mask as a sparse row: a set bit is the value 1.0, an
 *    unset bit is absent, i.e. a *missing* value that follows the split's
 *    default direction.  This halves the training memory; the tree readers
 *    below take the encoding as a flag (zero_missing) and never assume a
 *    direction (tests check them against XGBoost's own predictions).
 *  - Everything summed across ranks is summed in a fixed order that does not
 *    depend on the number of ranks: trees in fixed chunks of
 *    SPEX_PROXY_TREE_CHUNK, samples in fixed chunks of SPEX_PROXY_ROW_CHUNK
 *    (rank blocks of samples are aligned to them).
 */
#ifndef SPEX_PROXY_H
#define SPEX_PROXY_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "spex/config.h"
#include "spex/error.h"
#include "spex/log.h"
#include "spex/oracle.h"
#include "spex/result.h"
#include "spex/spectrum.h"

#define SPEX_PROXY_ROW_CHUNK 64   /* samples per refinement chunk (one word of bits) */
#define SPEX_PROXY_TREE_CHUNK 16  /* trees per extraction chunk */
#define SPEX_PROXY_MIN_ROWS 10    /* fewest training and held-out samples allowed */
#define SPEX_PROXY_REFINE_TERMS_MAX 10000 /* K x K normal equations, replicated per rank */
#define SPEX_PROXY_WEIGHT_BITS 20 /* largest row weight of a weighted refinement: 2^20 - 1 */

/* Collective on comm.  The ProxySPEX pipeline (method.name = proxyspex):
 * fills res like spex_run_study does. */
spex_status spex_proxy_run(MPI_Comm comm, const spex_config *cfg, spex_oracle *o,
                           const spex_log *log, spex_result *res, spex_error *err);

/* Local.  Sample mask i (spex_mask_words(n) words) for n features, from
 * (seed, SPEX_STREAM_UNIFORM, counter): every bit uniform. */
void spex_proxy_mask(uint64_t seed, int n, uint64_t i, uint64_t *mask);

/* Local.  Rows [lo, hi) of rank q of size among m rows: contiguous blocks
 * of whole SPEX_PROXY_ROW_CHUNK chunks (spex_partition of the chunks), as
 * spex_proxy_refine wants them. */
void spex_proxy_row_block(size_t m, int q, int size, size_t *lo, size_t *hi);

/* Local.  method.samples = 0: 10 n, at least 1,000 and at most 10,000. */
int spex_proxy_default_samples(int n);

/* ---- the proxy model --------------------------------------------------------- */

/* A tree ensemble read from an XGBoost JSON model (gbtree, one output).
 * Nodes of all trees live in flat arrays; tree t starts at node root[t]. */
typedef struct spex_proxy_model {
    int n_features;       /* learner_model_param.num_feature */
    int n_trees;
    size_t n_nodes;
    double base_score;    /* added to the margin once (float32 in XGBoost) */
    int zero_missing;     /* 1: an unset bit is a missing value; 0: the value 0.0 */
    size_t *root;         /* n_trees */
    int32_t *left, *right; /* global node index of the children; -1 at leaves */
    int32_t *feature;     /* split feature (unused at leaves) */
    float *value;         /* split threshold (go left when x < value), or leaf value */
    uint8_t *default_left; /* missing values go left */
} spex_proxy_model;

/* Local.  Parses XGBoost's JSON model (XGBoosterSaveModelToBuffer with
 * format json, XGBoost 1.x layout) into m.  Rejects what the extraction
 * cannot expand exactly: boosters other than gbtree, several outputs,
 * categorical splits, malformed or cyclic trees, paths longer than 256
 * nodes, non-finite values.  SPEX_EINPUT with a message naming the tree. */
spex_status spex_proxy_model_parse(const char *json, size_t len, int zero_missing,
                                   spex_proxy_model *m, spex_error *err);

/* Local.  Frees what m holds (a zeroed or freed model is fine). */
void spex_proxy_model_free(spex_proxy_model *m);

/* Local.  The ensemble's margin at a mask, in double precision (XGBoost
 * itself sums in float32). */
double spex_proxy_model_eval(const spex_proxy_model *m, const uint64_t *mask);

/* Local.  Exact Fourier spectrum of trees [lo, hi) (without the base
 * score), terms of order <= max_order only, sorted by set; exact zeros are
 * dropped.  Each leaf reached under the distinct path constraints
 * x_j = u_j (j in J) contributes v 2^-|J| prod_{j in U} (-1)^u_j to every
 * U subset of J: the expansion of its indicator prod (1 + (-1)^u_j chi_j)/2
 * (ALGORITHMS.md section 7 unrolled; a feature tested twice on a path adds
 * no constraint, or makes the leaf unreachable).  Fails (SPEX_EUSAGE) when
 * one chunk of trees would expand to more than 2^26 leaf-subset pairs. */
spex_status spex_proxy_extract_trees(const spex_proxy_model *m, int lo, int hi, int max_order,
                                     spex_spectrum *out, spex_error *err);

/* Collective on comm.  The whole ensemble's spectrum (base score included
 * in the constant), terms of order <= max_order, sorted by set, identical
 * on every rank and for any number of ranks: ranks expand blocks of tree
 * chunks and the chunk sums are added in chunk order. */
spex_status spex_proxy_extract(MPI_Comm comm, const spex_proxy_model *m, int max_order,
                               spex_spectrum *out, spex_error *err);

/* Local.  The terms kept for refinement: the constant (0 when absent) and
 * the largest |coef| non-constant terms of all (sorted by set), as few as
 * hold keep_energy of the non-constant energy (1: all), at most keep_terms
 * of them.  kept is new, sorted by set. */
spex_status spex_proxy_select(const spex_spectrum *all, int keep_terms, double keep_energy,
                              spex_spectrum *kept, spex_error *err);

/* ---- training (rank 0) ---------------------------------------------------------- */

typedef struct spex_proxy_params {
    int depth;            /* max_depth */
    int trees;            /* most boosting rounds */
    int early_stopping;   /* rounds without a better held-out RMSE before stopping */
    int threads;          /* nthread (> 0) */
    int retrain;          /* 1: after early stopping, train again on all rows */
    double learning_rate; /* eta */
    uint64_t seed;
} spex_proxy_params;

typedef struct spex_proxy_fit {
    int rounds;           /* boosting rounds run (the early-stopping pass) */
    int trees;            /* trees in the model (best held-out round + 1, or rounds) */
    int retrained;        /* 1: the model was trained again on all rows for `trees` rounds */
    double holdout_rmse;  /* held-out RMSE at the best round; NaN without holdout */
    double holdout_r2;    /* 1 - MSE / variance of the held-out values there; NaN without */
    double train_seconds; /* all of spex_proxy_train */
    double boost_seconds; /* in XGBoosterUpdateOneIter, both passes */
    double holdout_seconds; /* computing the held-out RMSE (all rounds) */
} spex_proxy_fit;

/* Local.  Trains the proxy on rows [0, rows - holdout) of masks (words
 * words each, n features) and values y, stopping early on the last holdout
 * rows (holdout 0: all rounds); with p->retrain, a second booster then
 * trains on all rows for the number of rounds the first one chose.
 * Deterministic for fixed inputs and parameters (the held-out RMSE is
 * summed in row order, not by XGBoost's threads).  *json is the model (new
 * memory, free()), *len its length.  XGBoost failures are SPEX_EINTERNAL
 * errors quoting XGBoost. */
spex_status spex_proxy_train(int n, size_t rows, size_t holdout, size_t words,
                             const uint64_t *masks, const double *y, const spex_proxy_params *p,
                             char **json, size_t *len, spex_proxy_fit *fit, spex_error *err);

/* ---- refinement ----------------------------------------------------------------- */

/* Collective on comm.  Replaces the coefficients of terms (identical on
 * every rank) by the minimizer of sum_q (y_q - sum_k a_k chi_k(x_q))^2 +
 * lambda Q |a|^2 over all Q samples; this rank holds samples
 * [first, first + count) (masks of words words, values y), first a multiple
 * of SPEX_PROXY_ROW_CHUNK.  A^T A is integer and reduced exactly (bit
 * columns and popcounts); A^T y is summed per row chunk and the chunk sums
 * added in order on rank 0, so the system does not depend on the number of
 * ranks.  Solved with spex_refine_solve (SPEX_ENUMERIC when singular). */
spex_status spex_proxy_refine(MPI_Comm comm, size_t first, size_t count, size_t words,
                              const uint64_t *masks, const double *y, double lambda,
                              spex_spectrum *terms, spex_error *err);

/* Collective on comm.  spex_proxy_refine with integer row weights: the
 * minimizer of sum_q w_q (y_q - sum_k a_k chi_k(x_q))^2 + lambda W |a|^2,
 * W = sum_q w_q; w[i] (< 2^SPEX_PROXY_WEIGHT_BITS) weighs this rank's row
 * i, NULL: all 1 (spex_proxy_refine).  Integer weights keep A^T W A exact:
 * it is reduced from bit slices of the weights and popcounts. */
spex_status spex_proxy_refine_weighted(MPI_Comm comm, size_t first, size_t count, size_t words,
                                       const uint64_t *masks, const double *y, const uint32_t *w,
                                       double lambda, spex_spectrum *terms, spex_error *err);

#endif
