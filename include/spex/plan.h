/* plan.h -- placeholder, being written (two-phase plan/decode). */
#ifndef SPEX_PLAN_H
#define SPEX_PLAN_H

#include <mpi.h>

#include "spex/config.h"
#include "spex/error.h"
#include "spex/log.h"

/* Collective on comm.  `spex plan`: writes the study's query masks to path. */
spex_status spex_plan_write(MPI_Comm comm, const spex_config *cfg, const char *path,
                            const spex_log *log, spex_error *err);

#endif
