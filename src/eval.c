/* eval.c -- evaluating this rank's share of the SPEX design, batch by batch.
 *
 * Signal s = (c, p) is the block of query ids [s 2^b, (s+1) 2^b).  A rank
 * generates a batch of masks into one reusable buffer, hands it to the
 * oracle, and writes the values straight into its signal array; the masks
 * of the whole design never exist anywhere.
 */
#include "spex/eval.h"

#include <math.h>
#include <stdlib.h>

#include "spex/signal.h"

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

/* Evaluates the not-yet-evaluated (NaN) runs of values in [l0, l0 + cnt)
 * of signal s (all of them when resuming is off). */
static spex_status eval_batch(const spex_design *d, spex_oracle *o, size_t s, uint64_t l0,
                              size_t cnt, int resume, double *row, uint64_t *masks, size_t *done,
                              spex_error *err)
{
    spex_status st = SPEX_OK;
    size_t bins = spex_design_bins(d);
    int c = (int)(s / (size_t)(d->P + 1)), p = (int)(s % (size_t)(d->P + 1));
    for (size_t i = 0; i < cnt;) {
        if (resume && !isnan(row[i])) {
            i++;
            continue;
        }
        size_t j = i + 1;
        while (j < cnt && (!resume || isnan(row[j])))
            j++;
        spex_design_masks(d, c, p, l0 + i, j - i, masks);
        SPEX_CHECK(spex_oracle_eval(o, j - i, masks, (uint64_t)s * bins + l0 + i, row + i, err));
        *done += j - i;
        i = j;
    }
out:
    return st;
}

enum { STOP_SIGNAL = 1, STOP_CHECKPOINT = 2, STOP_FAILED = 4 };

spex_status spex_eval_signals(MPI_Comm comm, const spex_design *d, const spex_layout *L,
                              spex_oracle *o, int batch, double *sig, spex_ckpt *ck,
                              const spex_log *log, spex_error *err)
{
    spex_status st = SPEX_OK;
    int rank;
    MPI_Comm_rank(comm, &rank);
    size_t width = L->b - L->a, words = d->words;
    size_t nb = (size_t)batch < width ? (size_t)batch : width;
    size_t per = nb ? (width + nb - 1) / nb : 0, nsig = L->s_hi - L->s_lo;
    uint64_t *masks = malloc((nb ? nb : 1) * words * sizeof *masks);
    if (masks == NULL)
        spex_error_set(err, SPEX_EINTERNAL, "out of memory for a batch of masks");
    if (spex_error_agree(comm, err) != SPEX_OK)
        goto done;
    if (ck != NULL)
        SPEX_CHECK(spex_ckpt_load(comm, ck, d, L, sig, err));
    size_t resumed_here = 0;
    for (size_t i = 0; ck != NULL && i < spex_layout_count(L); i++)
        resumed_here += !isnan(sig[i]);
    if (ck != NULL && ck->resumed > 0)
        spex_log_printf(log, 1, "  resuming from checkpoint %s: %llu of %llu queries already "
                                "evaluated\n",
                        ck->path, (unsigned long long)ck->resumed,
                        (unsigned long long)spex_design_queries(d));

    /* Ranks hold nearly equal numbers of batches; through the first
     * `common` of them they vote after every batch on stopping (a signal
     * anywhere), checkpointing (rank 0's timer) or failure, so that all
     * stop at the same batch and write one consistent checkpoint. */
    long mine_b = (long)(nsig * per), common = 0;
    MPI_Allreduce(&mine_b, &common, 1, MPI_LONG, MPI_MIN, comm);
    spex_progress prog;
    double total = (double)spex_design_queries(d), t_ckpt = spex_now();
    double share = (double)spex_layout_count(L);
    spex_progress_start(&prog, log, "evaluate", total);
    size_t done = 0;
    int stop = 0, failed = 0;
    for (long i = 0; i < mine_b && !stop; i++) {
        size_t s = L->s_lo + (size_t)i / per;
        uint64_t l0 = L->a + ((size_t)i % per) * nb;
        size_t cnt = L->b - l0 < nb ? L->b - l0 : nb;
        double *row = sig + (s - L->s_lo) * width + (l0 - L->a);
        if (!failed && eval_batch(d, o, s, l0, cnt, ck != NULL, row, masks, &done, err) != SPEX_OK)
            failed = 1;
        /* Rank 0 reports its own share scaled to the whole job. */
        if (share > 0)
            spex_progress_update(&prog, (double)(done + resumed_here) * total / share);
        int flags = (spex_signal_pending() ? STOP_SIGNAL : 0) | (failed ? STOP_FAILED : 0);
        if (i < common) {
            if (rank == 0 && ck != NULL && ck->interval > 0 && spex_now() - t_ckpt >= ck->interval)
                flags |= STOP_CHECKPOINT;
            int all = 0;
            MPI_Allreduce(&flags, &all, 1, MPI_INT, MPI_BOR, comm);
            flags = all;
            if (flags & STOP_CHECKPOINT && !(flags & (STOP_SIGNAL | STOP_FAILED))) {
                SPEX_CHECK(spex_ckpt_save(comm, ck, d, L, sig, err));
                t_ckpt = spex_now();
            }
        }
        stop = (flags & (STOP_SIGNAL | STOP_FAILED)) != 0;
    }
    /* Errors first (the failing rank's message), then a signal seen by any
     * rank after the common batches. */
    if (spex_error_agree(comm, err) != SPEX_OK)
        goto done;
    int sigl = spex_signal_pending(), sigall = 0;
    MPI_Allreduce(&sigl, &sigall, 1, MPI_INT, MPI_MAX, comm);
    if (sigall != 0) {
        uint64_t have = 0, mine = 0;
        for (size_t i = 0; i < spex_layout_count(L); i++)
            mine += !isnan(sig[i]);
        MPI_Allreduce(&mine, &have, 1, MPI_UINT64_T, MPI_SUM, comm);
        if (ck != NULL)
            SPEX_CHECK(spex_ckpt_save(comm, ck, d, L, sig, err));
        st = spex_error_set(err, SPEX_EINTERRUPTED,
                            "stopped by %s with %llu of %llu queries evaluated; %s%s%s",
                            spex_signal_name(sigall), (unsigned long long)have,
                            (unsigned long long)spex_design_queries(d),
                            ck ? "checkpoint written to " : "no checkpoint (study.checkpoint off)",
                            ck ? ck->path : "", ck ? ": run the same command again to resume" : "");
    }
out:
    spex_error_agree(comm, err);
done:
    free(masks);
    return err->code;
}
