/* plan.c -- placeholder, being written (two-phase plan/decode). */
#include "spex/plan.h"

spex_status spex_plan_write(MPI_Comm comm, const spex_config *cfg, const char *path,
                            const spex_log *log, spex_error *err)
{
    spex_error_set(err, SPEX_EUSAGE, "spex plan is not available yet");
    return spex_error_agree(comm, err);
}
