/* proxy.c -- placeholder, being written (ProxySPEX). */
#include "spex/proxy.h"

spex_status spex_proxy_run(MPI_Comm comm, const spex_config *cfg, spex_oracle *o,
                           const spex_log *log, spex_result *res, spex_error *err)
{
    spex_error_set(err, SPEX_EUSAGE, "method.name = proxyspex is not available yet");
    return spex_error_agree(comm, err);
}
