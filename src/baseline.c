/* baseline.c -- the regression baselines (include/spex/baseline.h,
 * doc/baselines.md): LIME, Banzhaf values and Faith-Banzhaf of order 2,
 * fitted on the queries of the study's SPEX design.
 *
 * Each rank generates and evaluates its own contiguous block of the design's
 * query ids (whole row chunks, as spex_proxy_refine_weighted wants them), so
 * a query gets the same id, and with the synthetic oracle the same noise, as
 * in a SPEX run.  The features are ranked by an exact integer marginal
 * correlation, the terms chosen from that ranking, and the weighted
 * least-squares problem solved by the refinement of src/proxy.c (exact
 * integer Gram matrix, right-hand side summed in a fixed chunk order,
 * ScaLAPACK), so the result does not depend on the number of ranks.
 */
#include "spex/baseline.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spex/design.h"
#include "spex/mask.h"
#include "spex/proxy.h"
#include "spex/run.h"
#include "spex/signal.h"

_Static_assert(SPEX_PROXY_REFINE_TERMS_MAX == 10000,
               "method.baseline_features' range in src/config.c is this limit - 1");
_Static_assert(SPEX_BASELINE_WEIGHT_SCALE + 1 <= SPEX_PROXY_WEIGHT_BITS,
               "a LIME weight of 1 fits the weighted refinement");

/* y is quantized to integers of at most 2^Y_BITS in size for the ranking:
 * sums of up to 2^32 of them are exact in int64. */
#define Y_BITS 30

uint32_t spex_baseline_lime_weight(int kept, int n, double width)
{
    double dist = kept > 0 ? 1.0 - sqrt((double)kept / (double)n) : 1.0;
    double w = exp(-dist * dist / (2.0 * width * width));
    return (uint32_t)lround(ldexp(w, SPEX_BASELINE_WEIGHT_SCALE));
}

static int popcount64(uint64_t x)
{
    int c = 0;
    for (; x; x &= x - 1)
        c++;
    return c;
}

/* The fitted terms: k1 first-order terms, the pairs of the top k2
 * features, total with the constant.  Automatic sizes (0) keep the number
 * of fitted terms near rows / SPEX_BASELINE_ROWS_PER_TERM (faith-banzhaf:
 * half of them first-order, half pairs), so that fitting noise costs
 * little R^2. */
static void term_counts(const spex_baseline_params *p, size_t *k1, size_t *k2, size_t *total)
{
    int faith = p->method == SPEX_METHOD_FAITH_BANZHAF;
    uint64_t budget = p->rows / SPEX_BASELINE_ROWS_PER_TERM;
    budget = budget < 2 ? 2 : budget > SPEX_PROXY_REFINE_TERMS_MAX - 1 ? SPEX_PROXY_REFINE_TERMS_MAX - 1 : budget;
    size_t n = (size_t)p->n;
    *k1 = p->features > 0 ? (size_t)p->features : (size_t)(faith ? budget / 2 : budget);
    *k1 = *k1 < n ? *k1 : n;
    *k2 = 0;
    if (faith && p->pairs > 0)
        *k2 = (size_t)p->pairs;
    else if (faith)
        while ((*k2 + 1) * *k2 / 2 <= budget / 2)
            (*k2)++;
    *k2 = *k2 < n ? *k2 : n;
    *total = 1 + *k1 + *k2 * (*k2 - (*k2 > 0)) / 2;
}

static spex_status check_terms(const spex_baseline_params *p, spex_error *err)
{
    size_t k1, k2, K;
    term_counts(p, &k1, &k2, &K);
    if (K > SPEX_PROXY_REFINE_TERMS_MAX)
        return spex_error_set(err, SPEX_EUSAGE,
                              "method.baseline_features = %d and method.baseline_pairs = %d give "
                              "%zu terms; the baseline's normal equations hold at most %d: lower "
                              "them",
                              p->features, p->pairs, K, SPEX_PROXY_REFINE_TERMS_MAX);
    return SPEX_OK;
}

typedef struct scored {
    int64_t score; /* |sum_q yq chi_i(x_q)| in quantized units */
    int feature;
} scored;

static int cmp_scored(const void *pa, const void *pb)
{
    const scored *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return a->feature - b->feature;
}

/* Collective on comm.  order[0..n-1]: every feature, largest |marginal
 * correlation| first (ties: lower index first).  The sums are integers, so
 * the ranking is exact and the same on any number of ranks. */
static spex_status rank_features(MPI_Comm comm, int n, size_t count, size_t words,
                                 const uint64_t *masks, const double *y, int *order,
                                 spex_error *err)
{
    double ymax = 0;
    for (size_t r = 0; r < count; r++)
        ymax = fmax(ymax, fabs(y[r]));
    MPI_Allreduce(MPI_IN_PLACE, &ymax, 1, MPI_DOUBLE, MPI_MAX, comm);
    double scale = ymax > 0 ? ldexp(1.0, Y_BITS) / ymax : 0;
    /* acc[i]: sum of yq over the rows keeping feature i; acc[n]: over all. */
    int64_t *acc = calloc((size_t)n + 1, sizeof *acc);
    scored *s = malloc((size_t)n * sizeof *s);
    if (acc == NULL || s == NULL)
        spex_error_set(err, SPEX_EINTERNAL, "out of memory ranking %d features", n);
    if (spex_error_agree(comm, err) != SPEX_OK)
        goto out;
    for (size_t r = 0; r < count; r++) {
        int64_t v = (int64_t)llround(y[r] * scale);
        const uint64_t *x = masks + r * words;
        acc[n] += v;
        for (size_t w = 0; w < words; w++)
            for (uint64_t bits = x[w]; bits; bits &= bits - 1)
                acc[w * 64 + (size_t)__builtin_ctzll(bits)] += v;
    }
    MPI_Allreduce(MPI_IN_PLACE, acc, n + 1, MPI_INT64_T, MPI_SUM, comm);
    /* sum_q yq chi_i(x_q) = sum_q yq - 2 sum_{q keeps i} yq */
    for (int i = 0; i < n; i++) {
        int64_t c = acc[n] - 2 * acc[i];
        s[i].score = c < 0 ? -c : c;
        s[i].feature = i;
    }
    qsort(s, (size_t)n, sizeof *s, cmp_scored);
    for (int i = 0; i < n; i++)
        order[i] = s[i].feature;
out:
    free(acc);
    free(s);
    return err->code;
}

static int cmp_int(const void *pa, const void *pb)
{
    int a = *(const int *)pa, b = *(const int *)pb;
    return (a > b) - (a < b);
}

/* The constant, the first-order terms of the top k1 features and the pairs
 * of the top k2, each group sorted by set. */
static spex_status build_terms(const int *order, size_t k1, size_t k2, spex_spectrum *out,
                               spex_error *err)
{
    spex_status st = SPEX_OK;
    size_t top = k1 > k2 ? k1 : k2;
    int *pick = malloc((top + 1) * sizeof *pick);
    if (pick == NULL)
        return spex_error_set(err, SPEX_EINTERNAL, "out of memory for %zu features", top);
    spex_term t;
    memset(&t, 0, sizeof t);
    SPEX_CHECK(spex_spectrum_push(out, &t, err));
    memcpy(pick, order, k1 * sizeof *pick);
    qsort(pick, k1, sizeof *pick, cmp_int);
    t.order = 1;
    for (size_t i = 0; i < k1; i++) {
        t.feat[0] = pick[i];
        SPEX_CHECK(spex_spectrum_push(out, &t, err));
    }
    memcpy(pick, order, k2 * sizeof *pick);
    qsort(pick, k2, sizeof *pick, cmp_int);
    t.order = 2;
    for (size_t i = 0; i < k2; i++)
        for (size_t j = i + 1; j < k2; j++) {
            t.feat[0] = pick[i];
            t.feat[1] = pick[j];
            SPEX_CHECK(spex_spectrum_push(out, &t, err));
        }
out:
    free(pick);
    return st;
}

spex_status spex_baseline_fit(MPI_Comm comm, const spex_baseline_params *p, size_t first,
                              size_t count, const uint64_t *masks, const double *y,
                              spex_spectrum *out, spex_error *err)
{
    size_t words = spex_mask_words(p->n), k1, k2, K;
    int *order = NULL;
    uint32_t *w = NULL;
    term_counts(p, &k1, &k2, &K);
    check_terms(p, err);
    if (err->code == SPEX_OK && p->method != SPEX_METHOD_LIME && p->method != SPEX_METHOD_BANZHAF &&
        p->method != SPEX_METHOD_FAITH_BANZHAF)
        spex_error_set(err, SPEX_EINTERNAL, "baseline fit asked for method %d", (int)p->method);
    if (spex_error_agree(comm, err) != SPEX_OK)
        return err->code;
    order = malloc((size_t)p->n * sizeof *order);
    if (p->method == SPEX_METHOD_LIME)
        w = malloc((count + 1) * sizeof *w);
    if (order == NULL || (p->method == SPEX_METHOD_LIME && w == NULL))
        spex_error_set(err, SPEX_EINTERNAL, "out of memory for the baseline fit");
    if (spex_error_agree(comm, err) != SPEX_OK)
        goto out;
    if (k1 < (size_t)p->n || (k2 > 0 && k2 < (size_t)p->n)) {
        if (rank_features(comm, p->n, count, words, masks, y, order, err) != SPEX_OK)
            goto out;
    } else {
        for (int i = 0; i < p->n; i++)
            order[i] = i;
    }
    build_terms(order, k1, k2, out, err);
    if (spex_error_agree(comm, err) != SPEX_OK)
        goto out;
    for (size_t r = 0; w && r < count; r++) {
        int kept = 0;
        for (size_t q = 0; q < words; q++)
            kept += popcount64(masks[r * words + q]);
        w[r] = spex_baseline_lime_weight(kept, p->n, p->width);
    }
    spex_proxy_refine_weighted(comm, first, count, words, masks, y, w, p->lambda, out, err);
out:
    free(order);
    free(w);
    return spex_error_agree(comm, err);
}

/* Masks of design query ids [lo, hi), id = s 2^b + l with signal
 * s = c (P+1) + p. */
static void design_rows(const spex_design *d, uint64_t lo, uint64_t hi, uint64_t *masks)
{
    uint64_t bins = spex_design_bins(d);
    for (uint64_t id = lo; id < hi;) {
        uint64_t s = id / bins, l = id % bins;
        uint64_t cnt = bins - l < hi - id ? bins - l : hi - id;
        spex_design_masks(d, (int)(s / (uint64_t)(d->P + 1)), (int)(s % (uint64_t)(d->P + 1)), l,
                          (size_t)cnt, masks + (id - lo) * d->words);
        id += cnt;
    }
}

/* Per rank: the masks and values held, the normal equations of
 * spex_proxy_refine (packed int64 Gram matrix and its (i, j, value) copy:
 * 24 bytes per entry of a triangle) and the ScaLAPACK matrix. */
static spex_status check_memory(MPI_Comm comm, size_t rows, size_t words, size_t K,
                                spex_error *err)
{
    int size;
    MPI_Comm_size(comm, &size);
    double tri = 0.5 * (double)K * (double)(K + 1);
    double need = 8.0 * (double)rows * (double)(words + 2) + 24.0 * tri +
                  8.0 * (double)K * (double)K / size;
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    double have = pages > 0 && page > 0 ? (double)pages * (double)page : 0;
    if (have > 0 && need > 0.8 * have)
        spex_error_set(err, SPEX_EUSAGE,
                       "the baseline needs about %.1f GiB per rank (%zu queries of %zu words, %zu "
                       "terms), this node has %.1f GiB: lower method.b, method.baseline_features "
                       "or method.baseline_pairs, or use more ranks",
                       need / 1073741824.0, rows, words, K, have / 1073741824.0);
    return spex_error_agree(comm, err);
}

/* This rank's rows, evaluated in batches under their design query ids. */
static spex_status evaluate(const spex_config *cfg, spex_oracle *o, uint64_t lo, uint64_t hi,
                            size_t words, const uint64_t *masks, double *vals, spex_error *err)
{
    size_t nb = (size_t)cfg->batch;
    for (uint64_t i0 = lo; i0 < hi; i0 += nb) {
        size_t cnt = hi - i0 < nb ? (size_t)(hi - i0) : nb;
        if (spex_oracle_eval(o, cnt, masks + (i0 - lo) * words, i0, vals + (i0 - lo), err) !=
            SPEX_OK)
            return err->code;
        int sig = spex_signal_pending();
        if (sig != 0)
            return spex_error_set(err, SPEX_EINTERRUPTED,
                                  "stopped by %s while evaluating the baseline's queries; it keeps "
                                  "no checkpoint: run the same command again to start over",
                                  spex_signal_name(sig));
    }
    return SPEX_OK;
}

spex_status spex_baseline_run(MPI_Comm comm, const spex_config *cfg, spex_oracle *o,
                              const spex_log *log, spex_result *res, spex_error *err)
{
    spex_status st = SPEX_OK;
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    double t_start = spex_now(), t0 = t_start;
    spex_design *d = NULL;
    uint64_t *masks = NULL;
    double *vals = NULL;
    const char *name = spex_config_enum_name("method.name", cfg->method);
    spex_baseline_params p = {cfg->method, cfg->n, cfg->baseline_features, cfg->baseline_pairs,
                              cfg->lime_width,
                              cfg->refine == SPEX_REFINE_RIDGE ? cfg->ridge_lambda : 0.0, 0};
    size_t k1, k2, K;

    /* ---- design: the SPEX design's queries, this rank's block ---- */
    SPEX_CHECK(spex_run_design(cfg, &d, err));
    uint64_t Q = spex_design_queries(d);
    p.rows = Q;
    term_counts(&p, &k1, &k2, &K);
    SPEX_CHECK(check_terms(&p, err));
    size_t lo, hi, words = d->words;
    spex_proxy_row_block((size_t)Q, rank, size, &lo, &hi);
    size_t mine = hi - lo;
    SPEX_CHECK(check_memory(comm, mine, words, K, err));
    masks = malloc((mine * words + 1) * sizeof *masks);
    vals = malloc((mine + 1) * sizeof *vals);
    if (masks == NULL || vals == NULL)
        spex_error_set(err, SPEX_EINTERNAL, "out of memory for %zu queries", mine);
    if (spex_error_agree(comm, err) != SPEX_OK) {
        st = err->code;
        goto out;
    }
    char pairs[64] = "";
    if (k2 > 1)
        snprintf(pairs, sizeof pairs, " and the pairs of the top %zu", k2);
    spex_log_printf(log, 1,
                    "%s: %d features, %s %llu queries (%d groups x %d delays x 2^%d bins); "
                    "fitting the constant, %zu features%s (%zu terms) on %d rank%s\n",
                    name, cfg->n,
                    cfg->baseline_queries == SPEX_BASELINE_UNIFORM ? "uniform random masks as many "
                                                                     "as the SPEX design's"
                                                                   : "the SPEX design's",
                    (unsigned long long)Q, d->C, d->P + 1, d->b, k1, pairs, K, size,
                    size == 1 ? "" : "s");
    if (cfg->baseline_queries == SPEX_BASELINE_UNIFORM)
        for (size_t i = 0; i < mine; i++)
            spex_proxy_mask((uint64_t)cfg->seed, cfg->n, lo + i, masks + i * words);
    else
        design_rows(d, lo, hi, masks);
    res->stage_seconds[SPEX_STAGE_DESIGN] = spex_now() - t0;

    /* ---- evaluate ---- */
    t0 = spex_now();
    evaluate(cfg, o, lo, hi, words, masks, vals, err);
    if (spex_error_agree(comm, err) != SPEX_OK) {
        st = err->code;
        goto out;
    }
    res->stage_seconds[SPEX_STAGE_EVALUATE] = spex_now() - t0;

    /* ---- the fit (the refine stage: ranking, normal equations, solve) ---- */
    t0 = spex_now();
    SPEX_CHECK(spex_baseline_fit(comm, &p, lo, mine, masks, vals, &res->fourier, err));
    snprintf(res->refine, sizeof res->refine, "%s", p.lambda > 0 ? "ridge" : "ols");
    res->stage_seconds[SPEX_STAGE_REFINE] = spex_now() - t0;
    free(masks);
    free(vals);
    masks = NULL;
    vals = NULL;

    SPEX_CHECK(spex_run_finish(comm, cfg, o, NULL, res, err));

    /* ---- the record ---- */
    snprintf(res->method, sizeof res->method, "%s", name);
    res->n_features = cfg->n;
    res->max_order = k2 > 1 ? 2 : 1;
    res->queries = Q;
    res->seed = cfg->seed;
    res->b = d->b;
    res->groups = d->C;
    res->delays_count = d->P + 1;
    snprintf(res->delays, sizeof res->delays, "%s",
             cfg->delays == SPEX_DELAYS_BCH ? "bch" : "identity");
    res->peel_rounds = 0;
    res->noise_sigma = 0;
    res->bins_zero = res->bins_single = res->bins_multi = res->bins_unresolved = 0;
    res->wall_seconds = spex_now() - t_start;
    SPEX_CHECK(spex_run_stamp(comm, res, err));
out:
    free(masks);
    free(vals);
    spex_design_destroy(d);
    return spex_error_agree(comm, err);
}
