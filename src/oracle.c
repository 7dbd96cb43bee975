/* oracle.c -- creating the oracle a study names, and the checks every
 * evaluation goes through (finite values). */
#include "spex/oracle.h"

#include <math.h>
#include <stdlib.h>

/* The noise standard deviation giving snr_db: the signal's power is the
 * variance of f over uniform masks, the sum of its non-constant squared
 * Fourier coefficients (Parseval). */
static spex_status snr_sigma(const spex_spectrum *spec, spex_basis basis, double snr_db,
                             double *sigma, spex_error *err)
{
    spex_spectrum four;
    const spex_spectrum *f = spec;
    spex_spectrum_init(&four);
    if (basis == SPEX_BASIS_MOBIUS) {
        spex_status st = spex_spectrum_mobius_to_fourier(spec, &four, err);
        if (st != SPEX_OK)
            return st;
        f = &four;
    }
    double power = 0;
    for (size_t i = 0; i < f->count; i++)
        if (f->terms[i].order > 0)
            power += f->terms[i].coef * f->terms[i].coef;
    spex_spectrum_free(&four);
    /* Noise on top of any absolute noise_sigma: variances add. */
    double add = power / pow(10.0, snr_db / 10.0);
    *sigma = sqrt(*sigma * *sigma + add);
    return SPEX_OK;
}

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
        double sigma = cfg->noise_sigma;
        if (st == SPEX_OK && !isnan(cfg->snr_db))
            st = snr_sigma(&spec, cfg->basis, cfg->snr_db, &sigma, err);
        if (st == SPEX_OK)
            st = spex_oracle_sparse_create(cfg->n, &spec, cfg->basis, sigma, oseed, cfg->cost_us,
                                           out, err);
        break;
    case SPEX_ORACLE_EXEC:
        st = spex_oracle_exec_create(comm, cfg, out, err);
        break;
    case SPEX_ORACLE_PLUGIN:
        st = spex_oracle_plugin_create(comm, cfg, out, err);
        break;
    case SPEX_ORACLE_HDF5:
        st = spex_oracle_hdf5_create(comm, cfg, out, err);
        break;
    case SPEX_ORACLE_XGBOOST:
    case SPEX_ORACLE_XGBOOST_TRAIN:
    case SPEX_ORACLE_XGBOOST_TREES:
        st = spex_oracle_xgboost_create(comm, cfg, out, err);
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
    MPI_Comm_rank(comm, &(*out)->rank);
    return st;
}

void spex_oracle_node_place(MPI_Comm comm, int *local_rank, int *local_size)
{
    MPI_Comm node;
    int rank;
    MPI_Comm_rank(comm, &rank);
    if (MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node) !=
        MPI_SUCCESS) {
        *local_rank = 0;
        *local_size = 1;
        return;
    }
    MPI_Comm_rank(node, local_rank);
    MPI_Comm_size(node, local_size);
    MPI_Comm_free(&node);
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
                                  "%s oracle returned %g for query %llu on rank %d (values must "
                                  "be finite)",
                                  o->kind, values[i], (unsigned long long)(first_id + i), o->rank);
    return SPEX_OK;
}
