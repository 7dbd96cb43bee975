/* oracle_plugin.c -- placeholder, being written. */
#include "spex/oracle.h"

spex_status spex_oracle_plugin_create(MPI_Comm comm, const spex_config *cfg, spex_oracle **out,
                                      spex_error *err)
{
    *out = NULL;
    return spex_error_set(err, SPEX_EUSAGE, "oracle.kind = plugin is not available yet");
}
