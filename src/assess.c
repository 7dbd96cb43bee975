/* assess.c -- R^2 of recovered expansions on held-out uniform random masks.
 *
 * The test values are evaluated once and every expansion is scored against
 * them.  Sums are reduced in two passes (mean first) so that R^2 keeps its
 * precision when f has a large constant part.
 */
#include "spex/assess.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "spex/eval.h"
#include "spex/mask.h"
#include "spex/rng.h"

void spex_assess_mask(uint64_t seed, int n, uint64_t i, uint64_t *mask)
{
    size_t words = spex_mask_words(n);
    for (size_t w = 0; w < words; w++)
        mask[w] = spex_rng_u64(seed, SPEX_STREAM_TEST_MASKS, i * words + w);
    if (n % 64)
        mask[words - 1] &= ((uint64_t)1 << (n % 64)) - 1;
}

double spex_assess_eval(const spex_spectrum *fourier, const uint64_t *mask)
{
    double v = 0;
    for (size_t k = 0; k < fourier->count; k++) {
        const spex_term *t = &fourier->terms[k];
        v += spex_mask_parity(mask, t->feat, t->order) ? -t->coef : t->coef;
    }
    return v;
}

spex_status spex_assess_r2(MPI_Comm comm, spex_oracle *o, const spex_spectrum *const *specs,
                           int nspec, int T, uint64_t seed, int batch, double *r2,
                           spex_error *err)
{
    spex_status st = SPEX_OK;
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    size_t lo, hi, words = o->words;
    spex_partition((size_t)T, rank, size, &lo, &hi);
    size_t mine = hi - lo, nb = (size_t)batch;
    double *f = malloc((mine ? mine : 1) * sizeof *f);
    uint64_t *masks = malloc(nb * words * sizeof *masks);
    /* acc[0] = sum f, acc[1] = sum (f - mean)^2, acc[2 + e] = sum (f - g_e)^2 */
    double *acc = calloc((size_t)nspec + 2, sizeof *acc), *tot = calloc((size_t)nspec + 2, sizeof *tot);
    if (!f || !masks || !acc || !tot) {
        st = spex_error_set(err, SPEX_EINTERNAL, "out of memory for %zu test masks", mine);
        goto out;
    }
    for (size_t i0 = lo; i0 < hi; i0 += nb) {
        size_t cnt = hi - i0 < nb ? hi - i0 : nb;
        for (size_t i = 0; i < cnt; i++)
            spex_assess_mask(seed, o->n, i0 + i, masks + i * words);
        SPEX_CHECK(spex_oracle_eval(o, cnt, masks, SPEX_TEST_ID_BASE + i0, f + (i0 - lo), err));
        for (size_t i = 0; i < cnt; i++)
            for (int e = 0; e < nspec; e++) {
                double r = f[i0 - lo + i] - spex_assess_eval(specs[e], masks + i * words);
                acc[2 + e] += r * r;
            }
    }
    for (size_t i = 0; i < mine; i++)
        acc[0] += f[i];
out:
    if (spex_error_agree(comm, err) != SPEX_OK) {
        st = err->code;
        goto done;
    }
    MPI_Allreduce(acc, tot, 1, MPI_DOUBLE, MPI_SUM, comm);
    double mean = T > 0 ? tot[0] / T : 0;
    for (size_t i = 0; i < mine; i++)
        acc[1] += (f[i] - mean) * (f[i] - mean);
    MPI_Allreduce(acc + 1, tot + 1, nspec + 1, MPI_DOUBLE, MPI_SUM, comm);
    for (int e = 0; e < nspec; e++)
        r2[e] = tot[1] > 0 ? 1.0 - tot[2 + e] / tot[1] : NAN;
done:
    free(f);
    free(masks);
    free(acc);
    free(tot);
    return st;
}
