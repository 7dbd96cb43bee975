/* oracle.h -- value functions: a batch of masks in, one double per mask out.
 *
 * Every backend fills the same struct of function pointers.  Masks are
 * word-packed (mask.h).  Each query carries a global id (its index in the
 * design) so that anything random about its value (noise) is a function of
 * (seed, id) and not of which rank evaluates it.
 */
#ifndef SPEX_ORACLE_H
#define SPEX_ORACLE_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "spex/config.h"
#include "spex/error.h"
#include "spex/spectrum.h"

typedef struct spex_oracle spex_oracle;

struct spex_oracle {
    int n;            /* features */
    int rank;         /* rank in the creating communicator, for messages */
    size_t words;     /* words per mask */
    const char *kind; /* "sparse", ... */
    void *state;
    /* Local.  Evaluates count masks (count * words words, contiguous) whose
     * global ids are first_id, first_id + 1, ...; writes count values. */
    spex_status (*eval)(spex_oracle *o, size_t count, const uint64_t *masks, uint64_t first_id,
                        double *values, spex_error *err);
    void (*destroy)(spex_oracle *o);
    /* Known Fourier spectrum sorted by set, or NULL (real models). */
    const spex_spectrum *truth;
};

/* Collective on comm.  Creates the oracle the study names.  Ranks agree on
 * failure (the error is the same on every rank). */
spex_status spex_oracle_create(MPI_Comm comm, const spex_config *cfg, spex_oracle **out,
                               spex_error *err);

/* Collective on comm.  This rank's place among the ranks of comm sharing
 * its node (the number to pick a GPU with; equal to
 * OMPI_COMM_WORLD_LOCAL_RANK for MPI_COMM_WORLD, but right for any
 * communicator and MPI).  0 of 1 when the split fails. */
void spex_oracle_node_place(MPI_Comm comm, int *local_rank, int *local_size);

/* Local.  Releases an oracle (NULL is fine). */
void spex_oracle_destroy(spex_oracle *o);

/* Local.  Evaluates and checks that every value is finite (a non-finite
 * value is an SPEX_EORACLE error naming the query id). */
spex_status spex_oracle_eval(spex_oracle *o, size_t count, const uint64_t *masks,
                             uint64_t first_id, double *values, spex_error *err);

/* Local.  The synthetic backend: f(x) = sum of the spectrum's terms in the
 * given basis, plus N(0, sigma^2) noise from (seed, SPEX_STREAM_NOISE, id),
 * plus cost_us of busy work per query.  Takes ownership of spec. */
spex_status spex_oracle_sparse_create(int n, spex_spectrum *spec, spex_basis basis, double sigma,
                                      uint64_t seed, double cost_us, spex_oracle **out,
                                      spex_error *err);

/* Collective on comm.  The exec backend: every rank starts one worker
 * process (cfg->command through /bin/sh) and streams batches over pipes,
 * protocol v1 (DESIGN.md section 5, doc/oracles.md). */
spex_status spex_oracle_exec_create(MPI_Comm comm, const spex_config *cfg, spex_oracle **out,
                                    spex_error *err);

/* Collective on comm.  The plugin backend: dlopen(cfg->plugin) and use its
 * exported spex_plugin_v1 (include/spex.h). */
spex_status spex_oracle_plugin_create(MPI_Comm comm, const spex_config *cfg, spex_oracle **out,
                                      spex_error *err);

/* Collective on comm.  Values precomputed into a plan file
 * (oracle.values = plan.h5, two-phase flow; doc/two-phase.md). */
spex_status spex_oracle_hdf5_create(MPI_Comm comm, const spex_config *cfg, spex_oracle **out,
                                    spex_error *err);

/* Collective on comm.  XGBoost value functions: oracle.kind = xgboost
 * (features of one instance), xgboost-train (training rows), xgboost-trees
 * (trees of a model); doc/oracles.md. */
spex_status spex_oracle_xgboost_create(MPI_Comm comm, const spex_config *cfg, spex_oracle **out,
                                       spex_error *err);

#endif
