/* eval.h -- distributed evaluation of the SPEX design.
 *
 * Ranks own contiguous blocks of signals (spex_partition); each rank
 * generates only its own masks, batch by batch, and evaluates them with the
 * oracle.  No rank ever holds the masks of the whole design.
 */
#ifndef SPEX_EVAL_H
#define SPEX_EVAL_H

#include <mpi.h>
#include <stddef.h>

#include "spex/ckpt.h"
#include "spex/design.h"
#include "spex/error.h"
#include "spex/log.h"
#include "spex/oracle.h"

/* Local.  Block partition of [0, total) over size parts: contiguous,
 * in order, sizes differing by at most one (the first total % size parts
 * are one larger). */
void spex_partition(size_t total, int q, int size, size_t *lo, size_t *hi);

/* Local.  The part that owns index i of [0, total) under spex_partition. */
int spex_partition_owner(size_t total, int size, size_t i);

/* Collective on comm.  Evaluates this rank's part of the design (layout L:
 * slice [a, b) of signals [s_lo, s_hi)) into sig (spex_layout_count(L)
 * values, signal-major, l fastest), at most batch masks per oracle call.
 * With a checkpoint ck (may be NULL): resumes from it, saves it every
 * ck->interval seconds, and on SIGTERM/SIGUSR1/SIGINT (signal.h) every rank
 * finishes its batch, the checkpoint is written and SPEX_EINTERRUPTED (75)
 * returned.  Progress (whole-job counts) goes to log.  Errors are agreed
 * across ranks before returning. */
spex_status spex_eval_signals(MPI_Comm comm, const spex_design *d, const spex_layout *L,
                              spex_oracle *o, int batch, double *sig, spex_ckpt *ck,
                              const spex_log *log, spex_error *err);

#endif
