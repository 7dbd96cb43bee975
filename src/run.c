/* run.c -- the SPEX pipeline for one study (DESIGN.md section 1):
 * design -> evaluate -> transform -> decode, timing each stage and filling
 * the in-memory result.  Writing the file is the caller's (h5io.h).
 *
 * Ranks own contiguous blocks of signals: they evaluate and transform them
 * with no communication; spex_peel_run then moves values to bin owners and
 * peels.  Tolerances for the noise-free tests are relative to the largest
 * |f| seen, a maximum, so they are the same on any number of ranks.
 */
#include "spex/run.h"

#include <math.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "spex/assess.h"
#include "spex/baseline.h"
#include "spex/design.h"
#include "spex/refine.h"
#include "spex/eval.h"
#include "spex/peel.h"
#include "spex/proxy.h"
#include "spex/wht.h"

#ifndef SPEX_VERSION_STRING
#define SPEX_VERSION_STRING "0.1.0"
#endif

/* Relative tolerances of the noise-free singleton tests: far above double
 * rounding (exact spectra come out right to 1e-15); and, when every value
 * is a float32 number (a model predicting in single precision), above
 * float32 rounding (6e-8), which must not make a piecewise-constant
 * model's bins look like multi-tons. */
#define SPEX_EXACT_RTOL 1e-9
#define SPEX_EXACT_RTOL_FLOAT32 1e-6

/* Physical memory of this node in bytes (0 when unknown). */
static double node_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    return pages > 0 && page > 0 ? (double)pages * (double)page : 0;
}

static void iso8601_now(char *buf, size_t len)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Checks, before allocating, that this rank's share fits in memory: a
 * design that cannot fit is a usage error, not a crash. */
static spex_status check_memory(MPI_Comm comm, const spex_design *d, size_t held,
                                spex_error *err)
{
    int size;
    MPI_Comm_size(comm, &size);
    /* held values + send/receive buffers + the bin-owned copy, all doubles */
    double need = 8.0 * ((double)held * 3.0 + (double)spex_design_queries(d) / (double)size);
    double have = node_memory();
    if (have > 0 && need > 0.8 * have)
        return spex_error_set(err, SPEX_EUSAGE,
                              "design too large: about %.1f GiB per rank for 2^%d bins x %zu "
                              "signals, this node has %.1f GiB; lower method.b or use more ranks",
                              need / 1073741824.0, d->b, spex_design_signals(d),
                              have / 1073741824.0);
    return SPEX_OK;
}

/* Parses output.indices ("sii,fsii", "none") into distinct kinds. */
static spex_status parse_indices(const char *list, spex_index_kind *kinds, int *count,
                                 spex_error *err)
{
    char buf[SPEX_NAME_MAX];
    *count = 0;
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *tok = strtok_r(buf, ", ", &save); tok;
         tok = strtok_r(NULL, ", ", &save)) {
        if (strcmp(tok, "none") == 0)
            continue;
        spex_index_kind k;
        spex_error e;
        spex_error_clear(&e);
        if (spex_convert_index_parse(tok, &k, &e) != SPEX_OK)
            return spex_error_set(err, SPEX_EUSAGE, "output.indices: %s", e.msg);
        int seen = 0;
        for (int i = 0; i < *count; i++)
            seen |= kinds[i] == k;
        if (!seen)
            kinds[(*count)++] = k;
    }
    return SPEX_OK;
}

/* Local.  Mobius expansion, values and interaction indices of the final
 * Fourier terms (ALGORITHMS.md section 2): all linear, no new queries. */
static spex_status derive_outputs(const spex_config *cfg, spex_result *res, spex_error *err)
{
    spex_status st = SPEX_OK;
    SPEX_CHECK(spex_convert_mobius(&res->fourier, &res->mobius, err));
    spex_spectrum_sort_ranked(&res->mobius);
    res->shapley = calloc((size_t)cfg->n, sizeof *res->shapley);
    res->banzhaf = calloc((size_t)cfg->n, sizeof *res->banzhaf);
    SPEX_ALLOC_CHECK(res->shapley, err, "Shapley values");
    SPEX_ALLOC_CHECK(res->banzhaf, err, "Banzhaf values");
    SPEX_CHECK(spex_convert_values(&res->mobius, cfg->n, res->shapley, res->banzhaf, err));
    res->index_order = cfg->index_order;
    for (int i = 0; i < res->n_indices; i++) {
        SPEX_CHECK(spex_convert_index(&res->mobius, cfg->n, res->index_kind[i], cfg->index_order,
                                      &res->index[i], err));
        spex_spectrum_sort_ranked(&res->index[i]);
    }
out:
    return st;
}

spex_status spex_run_b(const spex_config *cfg, int *b, spex_error *err)
{
    *b = cfg->b;
    if (*b == 0)
        *b = spex_design_choose_b(cfg->n, cfg->max_order, cfg->groups, cfg->delays, cfg->budget,
                                  cfg->sparsity);
    if (*b == 0)
        return spex_error_set(err, SPEX_EUSAGE,
                              "method.budget = %lld is below the smallest design (b = 1): "
                              "raise the budget or lower method.max_order",
                              (long long)cfg->budget);
    return SPEX_OK;
}

spex_status spex_run_design(const spex_config *cfg, spex_design **d, spex_error *err)
{
    int b;
    *d = NULL;
    spex_status st = spex_run_b(cfg, &b, err);
    if (st != SPEX_OK)
        return st;
    return spex_design_create(cfg->n, b, cfg->groups, cfg->max_order, cfg->delays,
                              (uint64_t)cfg->seed, d, err);
}

spex_status spex_run_finish(MPI_Comm comm, const spex_config *cfg, spex_oracle *o,
                            const spex_spectrum *before, spex_result *res, spex_error *err)
{
    spex_status st = SPEX_OK;
    double t0 = spex_now();
    if (res->n_indices == 0)
        SPEX_CHECK(parse_indices(cfg->indices, res->index_kind, &res->n_indices, err));
    if (cfg->test_masks > 0) {
        const spex_spectrum *specs[2] = {&res->fourier, before};
        double r2[2] = {NAN, NAN};
        int nspec = before != NULL ? 2 : 1;
        SPEX_CHECK(spex_assess_r2(comm, o, specs, nspec, cfg->test_masks, (uint64_t)cfg->seed,
                                  cfg->batch, r2, err));
        res->faithfulness_r2 = r2[0];
        res->r2_peeled = r2[nspec - 1];
        res->test_queries = (uint64_t)cfg->test_masks;
    }
    res->stage_seconds[SPEX_STAGE_ASSESS] = spex_now() - t0;
    spex_spectrum_sort_ranked(&res->fourier);
    derive_outputs(cfg, res, err);
out:
    return spex_error_agree(comm, err);
}

spex_status spex_run_stamp(MPI_Comm comm, spex_result *res, spex_error *err)
{
    int size;
    MPI_Comm_size(comm, &size);
    res->ranks = size;
    iso8601_now(res->created, sizeof res->created);
    /* Peak resident memory of every rank, for the diagnostics. */
    struct rusage ru;
    int64_t rss = getrusage(RUSAGE_SELF, &ru) == 0 ? (int64_t)ru.ru_maxrss : -1;
    free(res->peak_rss_kib);
    res->peak_rss_kib = malloc((size_t)size * sizeof *res->peak_rss_kib);
    if (res->peak_rss_kib == NULL)
        spex_error_set(err, SPEX_EINTERNAL, "out of memory");
    if (spex_error_agree(comm, err) != SPEX_OK)
        return err->code;
    MPI_Allgather(&rss, 1, MPI_INT64_T, res->peak_rss_kib, 1, MPI_INT64_T, comm);
    /* Rank 0's clock speaks for the file: parallel HDF5 needs identical
     * attribute values on every rank. */
    MPI_Bcast(res->created, (int)sizeof res->created, MPI_CHAR, 0, comm);
    MPI_Bcast(res->stage_seconds, SPEX_STAGE_COUNT, MPI_DOUBLE, 0, comm);
    MPI_Bcast(&res->wall_seconds, 1, MPI_DOUBLE, 0, comm);
    return SPEX_OK;
}

spex_status spex_run_study(MPI_Comm comm, const spex_config *cfg, spex_oracle *o,
                           const spex_log *log, spex_result *res, spex_error *err)
{
    spex_status st = SPEX_OK;
    spex_design *d = NULL;
    double *sig = NULL;
    spex_spectrum peeled;
    char *study_text = NULL;
    spex_spectrum_init(&peeled);
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    double t_start = spex_now(), t0 = t_start;

    if (cfg->method == SPEX_METHOD_PROXYSPEX)
        return spex_proxy_run(comm, cfg, o, log, res, err);

    if (cfg->method == SPEX_METHOD_LIME || cfg->method == SPEX_METHOD_BANZHAF ||
        cfg->method == SPEX_METHOD_FAITH_BANZHAF)
        return spex_baseline_run(comm, cfg, o, log, res, err);

    /* ---- design ---- */
    int t = cfg->max_order;
    SPEX_CHECK(spex_run_design(cfg, &d, err));
    int b = d->b;
    int r = cfg->ranks_per_signal;
    if (r > 0 && ((r & (r - 1)) != 0 || r > size || (size_t)r > spex_design_bins(d))) {
        st = spex_error_set(err, SPEX_EUSAGE,
                            "method.ranks_per_signal = %d must be a power of two <= the number of "
                            "ranks (%d) and <= 2^b",
                            r, size);
        goto out;
    }
    spex_layout L;
    spex_layout_of(d, r, rank, size, &L);
    size_t held = spex_layout_count(&L);
    /* Node memory may differ between ranks: agree before going on. */
    if (check_memory(comm, d, held, err) == SPEX_OK &&
        (sig = malloc((held ? held : 1) * sizeof *sig)) == NULL)
        st = spex_error_set(err, SPEX_EINTERNAL, "out of memory for %zu values", held);
    if (spex_error_agree(comm, err) != SPEX_OK) {
        st = err->code;
        goto out;
    }
    spex_log_printf(log, 1,
                    "spex: %d features, max order %d, %d groups x %d delays x 2^%d bins = %llu "
                    "queries on %d rank%s\n",
                    cfg->n, t, d->C, d->P + 1, b, (unsigned long long)spex_design_queries(d), size,
                    size == 1 ? "" : "s");
    res->stage_seconds[SPEX_STAGE_DESIGN] = spex_now() - t0;

    /* ---- evaluate ---- */
    t0 = spex_now();
    /* The checkpoint: the study's own identity is its effective text. */
    char ckpath[SPEX_PATH_MAX + 8];
    if (cfg->checkpoint[0] == '\0')
        snprintf(ckpath, sizeof ckpath, "%s.ckpt", cfg->output);
    else
        snprintf(ckpath, sizeof ckpath, "%s", cfg->checkpoint);
    study_text = spex_config_dump(cfg);
    if (study_text == NULL)
        spex_error_set(err, SPEX_EINTERNAL, "out of memory");
    SPEX_CHECK(spex_error_agree(comm, err));
    spex_ckpt ck = {ckpath, study_text, cfg->checkpoint_interval, 0};
    /* "none" (possibly resolved against the study's directory) turns it off. */
    const char *base = strrchr(cfg->checkpoint, '/');
    int use_ck = strcmp(base ? base + 1 : cfg->checkpoint, "none") != 0;
    SPEX_CHECK(spex_eval_signals(comm, d, &L, o, cfg->batch, sig, use_ck ? &ck : NULL, log, err));
    res->resumed_queries = use_ck ? ck.resumed : 0;
    snprintf(res->checkpoint, sizeof res->checkpoint, "%s", use_ck ? ckpath : "");
    res->stage_seconds[SPEX_STAGE_EVALUATE] = spex_now() - t0;

    /* ---- transform ---- */
    t0 = spex_now();
    double amax = 0, gmax = 0;
    int f32 = 1, all_f32 = 1;
    for (size_t i = 0; i < held; i++) {
        amax = fmax(amax, fabs(sig[i]));
        f32 &= (double)(float)sig[i] == sig[i];
    }
    MPI_Allreduce(&f32, &all_f32, 1, MPI_INT, MPI_LAND, comm);
    MPI_Allreduce(&amax, &gmax, 1, MPI_DOUBLE, MPI_MAX, comm);
    SPEX_CHECK(spex_wht_signals(comm, d, &L, sig, err));
    res->stage_seconds[SPEX_STAGE_TRANSFORM] = spex_now() - t0;

    /* ---- decode ---- */
    t0 = spex_now();
    spex_peel_params pp;
    double tol = (all_f32 ? SPEX_EXACT_RTOL_FLOAT32 : SPEX_EXACT_RTOL) * (gmax > 0 ? gmax : 1.0);
    pp.zero_tol = tol;
    pp.single_tol = tol;
    /* Noise: known (method.noise_sigma, per query; a bin value averages
     * 2^b queries) or estimated from the bins when none. */
    pp.noise_var = isnan(cfg->method_sigma) ? -1.0
                                            : cfg->method_sigma * cfg->method_sigma * ldexp(1.0, -b);
    pp.chase = cfg->chase;
    pp.max_rounds = 1000;
    pp.max_terms = cfg->max_terms > 0 ? (size_t)cfg->max_terms
                                      : 2 * (size_t)d->C * spex_design_bins(d);
    spex_peel_stats ps;
    SPEX_CHECK(spex_peel_run(comm, d, &L, sig, &pp, &res->fourier, &ps, err));
    res->stage_seconds[SPEX_STAGE_DECODE] = spex_now() - t0;

    /* ---- refine ---- */
    t0 = spex_now();
    snprintf(res->refine, sizeof res->refine, "%s", spex_config_enum_name("refine.name", cfg->refine));
    if (cfg->refine != SPEX_REFINE_NONE) {
        peeled = res->fourier;
        spex_spectrum_init(&res->fourier);
        for (size_t i = 0; i < peeled.count && st == SPEX_OK; i++)
            st = spex_spectrum_push(&res->fourier, &peeled.terms[i], err);
        if (spex_error_agree(comm, err) != SPEX_OK) {
            st = err->code;
            goto out;
        }
        double lambda = cfg->refine == SPEX_REFINE_RIDGE ? cfg->ridge_lambda : 0.0;
        SPEX_CHECK(spex_refine_spex(comm, d, &L, sig, lambda, &res->fourier, err));
    }
    res->stage_seconds[SPEX_STAGE_REFINE] = spex_now() - t0;
    free(sig);
    sig = NULL;

    SPEX_CHECK(spex_run_finish(comm, cfg, o, cfg->refine != SPEX_REFINE_NONE ? &peeled : NULL,
                               res, err));

    /* ---- the record ---- */
    snprintf(res->method, sizeof res->method, "spex");
    res->n_features = cfg->n;
    res->max_order = t;
    res->queries = spex_design_queries(d);
    res->seed = cfg->seed;
    res->b = b;
    res->groups = d->C;
    res->delays_count = d->P + 1;
    snprintf(res->delays, sizeof res->delays, "%s",
             cfg->delays == SPEX_DELAYS_BCH ? "bch" : "identity");
    res->peel_rounds = ps.rounds;
    res->noise_sigma = sqrt(ps.noise_var * ldexp(1.0, b));
    res->bins_zero = ps.zero;
    res->bins_single = ps.single;
    res->bins_multi = ps.multi;
    res->bins_unresolved = ps.unresolved;
    res->wall_seconds = spex_now() - t_start;
    SPEX_CHECK(spex_run_stamp(comm, res, err));
out:
    free(sig);
    free(study_text);
    spex_spectrum_free(&peeled);
    spex_design_destroy(d);
    return spex_error_agree(comm, err);
}
