/* proxy.h -- placeholder, being written (ProxySPEX). */
#ifndef SPEX_PROXY_H
#define SPEX_PROXY_H

#include <mpi.h>

#include "spex/config.h"
#include "spex/error.h"
#include "spex/log.h"
#include "spex/oracle.h"
#include "spex/result.h"

/* Collective on comm.  The ProxySPEX pipeline (method.name = proxyspex):
 * fills res like spex_run_study does. */
spex_status spex_proxy_run(MPI_Comm comm, const spex_config *cfg, spex_oracle *o,
                           const spex_log *log, spex_result *res, spex_error *err);

#endif
