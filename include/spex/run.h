/* run.h -- the whole pipeline for one study: design, evaluate, transform,
 * decode, and the result record (writing is the caller's, see h5io.h). */
#ifndef SPEX_RUN_H
#define SPEX_RUN_H

#include <mpi.h>

#include "spex/config.h"
#include "spex/error.h"
#include "spex/log.h"
#include "spex/oracle.h"
#include "spex/result.h"

/* Collective on comm.  Runs cfg's method against oracle o and fills res
 * (replicated on every rank).  Errors are agreed across ranks. */
spex_status spex_run_study(MPI_Comm comm, const spex_config *cfg, spex_oracle *o,
                           const spex_log *log, spex_result *res, spex_error *err);

#endif
