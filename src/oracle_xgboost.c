/* oracle_xgboost.c -- placeholder, being written (XGBoost value functions). */
#include "spex/oracle.h"

spex_status spex_oracle_xgboost_create(MPI_Comm comm, const spex_config *cfg, spex_oracle **out,
                                       spex_error *err)
{
    *out = NULL;
    return spex_error_set(err, SPEX_EUSAGE, "oracle.kind = %s is not available yet",
                          spex_config_enum_name("oracle.kind", (int)cfg->oracle_kind));
}
