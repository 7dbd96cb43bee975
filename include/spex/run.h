/* run.h -- the whole pipeline for one study: design, evaluate, transform,
 * decode, and the result record (writing is the caller's, see h5io.h). */
#ifndef SPEX_RUN_H
#define SPEX_RUN_H

#include <mpi.h>

#include "spex/config.h"
#include "spex/design.h"
#include "spex/error.h"
#include "spex/log.h"
#include "spex/oracle.h"
#include "spex/result.h"

/* Collective on comm.  Runs cfg's method against oracle o and fills res
 * (replicated on every rank).  Errors are agreed across ranks. */
spex_status spex_run_study(MPI_Comm comm, const spex_config *cfg, spex_oracle *o,
                           const spex_log *log, spex_result *res, spex_error *err);

/* Local.  The study's b: method.b, or chosen from method.budget or
 * method.sparsity; a budget below the smallest design is a usage error. */
spex_status spex_run_b(const spex_config *cfg, int *b, spex_error *err);

/* Local.  The study's SPEX design (method.b, or b chosen from method.budget
 * or method.sparsity), the same on every rank; *d is new memory
 * (spex_design_destroy).  Also the query set of the baselines. */
spex_status spex_run_design(const spex_config *cfg, spex_design **d, spex_error *err);

/* Collective on comm.  The common tail of every method, given the final
 * Fourier terms in res->fourier: faithfulness R^2 on output.test_masks
 * held-out masks (also of `before`, the estimates before refinement, when
 * not NULL), ranking, and the Mobius expansion, Shapley/Banzhaf values and
 * interaction indices (output.indices).  Records the assess stage time. */
spex_status spex_run_finish(MPI_Comm comm, const spex_config *cfg, spex_oracle *o,
                            const spex_spectrum *before, spex_result *res, spex_error *err);

/* Collective on comm.  Stamps res for writing: ranks, creation time, each
 * rank's peak memory, and rank 0's timings broadcast (parallel HDF5 needs
 * identical attribute values everywhere).  Call last, after wall_seconds. */
spex_status spex_run_stamp(MPI_Comm comm, spex_result *res, spex_error *err);

#endif
