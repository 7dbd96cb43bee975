/* result.h -- what a run found, in memory: the ranked spectrum plus the
 * metadata and diagnostics the result file records (DESIGN.md section 7).
 */
#ifndef SPEX_RESULT_H
#define SPEX_RESULT_H

#include <stdint.h>

#include "spex/convert.h"
#include "spex/error.h"
#include "spex/spectrum.h"

enum {
    SPEX_STAGE_DESIGN = 0,
    SPEX_STAGE_EVALUATE,
    SPEX_STAGE_TRANSFORM,
    SPEX_STAGE_DECODE,
    SPEX_STAGE_REFINE,
    SPEX_STAGE_ASSESS,
    SPEX_STAGE_WRITE,
    SPEX_STAGE_COUNT
};

/* Local.  "design", "evaluate", ... */
const char *spex_stage_name(int stage);

/* /proxy: how a ProxySPEX run's tree proxy was trained and read
 * (doc/file-formats.md); present = 0 for other methods (no group). */
typedef struct spex_proxy_diag {
    int present;
    uint64_t train_samples;   /* rows the early-stopping pass trained on */
    uint64_t holdout_samples; /* rows held out for early stopping (0: none) */
    int depth, threads, retrained, stages;
    double learning_rate;
    int rounds;               /* boosting rounds of the early-stopping pass */
    int trees;                /* trees in the final model */
    double holdout_rmse;      /* at the chosen round; NaN without holdout */
    double holdout_r2;        /* 1 - MSE / variance of the held-out values; NaN without */
    double train_seconds;     /* rank 0: building the matrices, boosting, hold-out RMSE */
    double holdout_seconds;   /* of which: the held-out RMSE of every round */
    uint64_t terms_extracted; /* non-constant terms of order <= max_order in the trees */
    uint64_t terms_kept;      /* of them kept for the refit (top-k / energy) */
} spex_proxy_diag;

typedef struct spex_result {
    /* Root attributes. */
    char method[32];
    int n_features;
    int max_order;
    uint64_t queries;
    int64_t seed;
    int ranks;
    char created[40];        /* ISO 8601, UTC */
    double wall_seconds;
    double faithfulness_r2;  /* NaN when not measured */
    uint64_t test_queries;   /* evaluations spent on faithfulness */
    uint64_t resumed_queries; /* queries taken from a checkpoint instead of evaluated */
    char checkpoint[4104];   /* checkpoint file used ("" none); removed after the write */
    double r2_peeled;        /* R^2 of the peeled estimates before refinement (NaN: none) */
    char refine[16];         /* "none", "ols" or "ridge" */
    int b, groups, delays_count; /* design: log2 bins, C, P+1 */
    char delays[16];         /* "bch" or "identity" */
    char *config;            /* effective study (INI text); owned */
    /* /fourier, ranked by |coef| descending. */
    spex_spectrum fourier;
    /* /mobius: the complete Mobius expansion of the Fourier terms, ranked. */
    spex_spectrum mobius;
    /* /values/shapley, /values/banzhaf: n_features values each, or NULL. */
    double *shapley, *banzhaf;
    /* /indices/<name>: interaction indices up to index_order, ranked. */
    int index_order;
    int n_indices;
    spex_index_kind index_kind[SPEX_INDEX_KIND_COUNT];
    spex_spectrum index[SPEX_INDEX_KIND_COUNT];
    /* /features/name, or NULL. n_features strings; owned. */
    char **names;
    /* /features/chromosome and /features/position, or NULL (both or
     * neither). n_features strings and values; owned. */
    char **chromosomes;
    int64_t *positions;
    /* /diagnostics */
    double stage_seconds[SPEX_STAGE_COUNT];
    int peel_rounds;
    double noise_sigma;      /* noise std per query used by decoding (0: noise-free mode) */
    uint64_t bins_zero, bins_single, bins_multi; /* classification at the end */
    uint64_t bins_unresolved;                    /* non-zero bins left after peeling */
    int64_t *peak_rss_kib;   /* peak resident memory of each rank (ranks values), or NULL;
                              * owned; written, not read back */
    spex_proxy_diag proxy;
} spex_result;

/* Local.  Zeroes r (faithfulness NaN, no names, empty spectrum). */
void spex_result_init(spex_result *r);

/* Local.  Frees what r owns and re-initializes it. */
void spex_result_free(spex_result *r);

/* Local.  Reads a names file: exactly n lines (a trailing empty line is
 * ignored), each a non-empty name of at most 63 bytes.  Errors name
 * file:line (SPEX_EINPUT).  *names is new memory: n strings and the array;
 * free with spex_names_free. */
spex_status spex_names_read(const char *path, int n, char ***names, spex_error *err);
void spex_names_free(char **names, int n);

/* Local.  Reads a positions file: after '#' comment lines, exactly n lines
 * of three fields separated by spaces or tabs, NAME CHROMOSOME POSITION
 * (line j names feature j; POSITION an integer in 0..2^62).  When names is
 * not NULL, NAME must equal names[j]; when it is NULL and names_out is not,
 * *names_out receives the names (checked like a names file).  Errors name
 * file:line (SPEX_EINPUT).  *chromosomes (n strings) and *positions are new
 * memory: free with spex_names_free and free. */
spex_status spex_positions_read(const char *path, int n, char *const *names, char ***names_out,
                                char ***chromosomes, int64_t **positions, spex_error *err);

#endif
