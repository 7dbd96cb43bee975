/* oracle.c -- creating the oracle a study names, and the checks every
 * evaluation goes through (finite values). */
#include "spex/oracle.h"

#include <math.h>
#include <stdlib.h>

spex_status spex_oracle_create(MPI_Comm comm, const spex_config *cfg, spex_oracle **out,
                               spex_error *err)
{
    spex_status st = SPEX_OK;
    spex_spectrum spec;
    spex_spectrum_init(&spec);
    *out = NULL;
    uint64_t oseed = (uint64_t)(cfg->oracle_seed >= 0 ? cfg->oracle_seed : cfg->seed);
    switch (cfg->oracle_kind) {
    case SPEX_ORACLE_SPARSE:
        /* Every rank reads or generates the (small) spectrum itself: it is
         * a few thousand terms at most, and this keeps ranks independent. */
        if (cfg->spectrum[0])
            st = spex_spectrum_read(cfg->spectrum, cfg->n, &spec, err);
        else
            st = spex_spectrum_generate(cfg->n, cfg->terms, cfg->oracle_max_order, cfg->coef_min,
                                        cfg->coef_max, oseed, &spec, err);
        if (st == SPEX_OK)
            st = spex_oracle_sparse_create(cfg->n, &spec, cfg->basis, cfg->noise_sigma, oseed,
                                           cfg->cost_us, out, err);
        break;
    case SPEX_ORACLE_EXEC:
        st = spex_oracle_exec_create(comm, cfg, out, err);
        break;
    case SPEX_ORACLE_PLUGIN:
        st = spex_oracle_plugin_create(comm, cfg, out, err);
        break;
    default:
        st = spex_error_set(err, SPEX_EINTERNAL, "oracle kind %d not built in", (int)cfg->oracle_kind);
    }
    spex_spectrum_free(&spec);
    if (spex_error_agree(comm, err) != SPEX_OK) {
        spex_oracle_destroy(*out);
        *out = NULL;
        return err->code;
    }
    return st;
}

void spex_oracle_destroy(spex_oracle *o)
{
    if (o != NULL && o->destroy != NULL)
        o->destroy(o);
}

spex_status spex_oracle_eval(spex_oracle *o, size_t count, const uint64_t *masks,
                             uint64_t first_id, double *values, spex_error *err)
{
    spex_status st = o->eval(o, count, masks, first_id, values, err);
    if (st != SPEX_OK)
        return st;
    for (size_t i = 0; i < count; i++)
        if (!isfinite(values[i]))
            return spex_error_set(err, SPEX_EORACLE,
                                  "%s oracle returned %g for query %llu (values must be finite)",
                                  o->kind, values[i], (unsigned long long)(first_id + i));
    return SPEX_OK;
}
