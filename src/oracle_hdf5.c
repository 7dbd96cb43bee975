/* oracle_hdf5.c -- placeholder, being written (values from a plan file). */
#include "spex/oracle.h"

spex_status spex_oracle_hdf5_create(MPI_Comm comm, const spex_config *cfg, spex_oracle **out,
                                    spex_error *err)
{
    *out = NULL;
    return spex_error_set(err, SPEX_EUSAGE, "oracle.kind = hdf5 is not available yet");
}
