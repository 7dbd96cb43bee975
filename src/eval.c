/* eval.c -- evaluating this rank's share of the SPEX design, batch by batch.
 *
 * Signal s = (c, p) is the block of query ids [s 2^b, (s+1) 2^b).  A rank
 * generates a batch of masks into one reusable buffer, hands it to the
 * oracle, and writes the values straight into its signal array; the masks
 * of the whole design never exist anywhere.
 */
#include "spex/eval.h"

#include <stdlib.h>

void spex_partition(size_t total, int q, int size, size_t *lo, size_t *hi)
{
    /* The first total % size parts get one extra element. */
    size_t base = total / (size_t)size, rem = total % (size_t)size, uq = (size_t)q;
    *lo = uq * base + (uq < rem ? uq : rem);
    *hi = *lo + base + (uq < rem ? 1 : 0);
}

int spex_partition_owner(size_t total, int size, size_t i)
{
    size_t base = total / (size_t)size, rem = total % (size_t)size;
    if (i < rem * (base + 1))
        return (int)(i / (base + 1));
    return (int)(rem + (i - rem * (base + 1)) / base);
}

spex_status spex_eval_signals(MPI_Comm comm, const spex_design *d, const spex_layout *L,
                              spex_oracle *o, int batch, double *sig, const spex_log *log,
                              spex_error *err)
{
    spex_status st = SPEX_OK;
    size_t bins = spex_design_bins(d), width = L->b - L->a;
    size_t words = d->words;
    size_t nb = (size_t)batch < width ? (size_t)batch : width;
    uint64_t *masks = malloc((nb ? nb : 1) * words * sizeof *masks);
    SPEX_ALLOC_CHECK(masks, err, "a batch of masks");

    spex_progress prog;
    double total = (double)spex_design_queries(d);
    double mine = (double)spex_layout_count(L);
    spex_progress_start(&prog, log, "evaluate", total);
    double done = 0;
    for (size_t s = L->s_lo; s < L->s_hi; s++) {
        int c = (int)(s / (size_t)(d->P + 1)), p = (int)(s % (size_t)(d->P + 1));
        double *row = sig + (s - L->s_lo) * width;
        for (size_t l0 = L->a; l0 < L->b; l0 += nb) {
            size_t cnt = L->b - l0 < nb ? L->b - l0 : nb;
            spex_design_masks(d, c, p, l0, cnt, masks);
            SPEX_CHECK(spex_oracle_eval(o, cnt, masks, (uint64_t)s * bins + l0,
                                        row + (l0 - L->a), err));
            done += (double)cnt;
            /* Rank 0 reports its own share scaled to the whole job. */
            if (mine > 0)
                spex_progress_update(&prog, done * total / mine);
        }
    }
out:
    free(masks);
    return spex_error_agree(comm, err);
}
