/* ckpt.h -- checkpoints of the evaluation stage (stop and resume).
 *
 * A checkpoint holds the values evaluated so far, indexed by global query
 * id (NaN where not evaluated yet), and the effective study text that
 * identifies the run.  Because it is indexed by query id and not by rank,
 * a run can resume on any number of ranks.  Written collectively with
 * parallel HDF5 to a temporary name and renamed, so a checkpoint on disk is
 * always whole; a kill during the write leaves the previous one intact.
 */
#ifndef SPEX_CKPT_H
#define SPEX_CKPT_H

#include <mpi.h>
#include <stdint.h>

#include "spex/design.h"
#include "spex/error.h"

typedef struct spex_ckpt {
    const char *path;  /* checkpoint file; NULL disables checkpointing */
    const char *study; /* effective study text: a checkpoint resumes only the same study */
    double interval;   /* seconds between periodic checkpoints; 0: only on signals */
    uint64_t resumed;  /* out: queries taken from an existing checkpoint */
} spex_ckpt;

/* Collective on comm.  Fills this rank's values (layout L) from an existing
 * checkpoint of the same study and NaN elsewhere; counts the values found
 * in ck->resumed (the same on every rank).  No file: all NaN.  A checkpoint
 * of another study or design is an SPEX_EINPUT error naming it. */
spex_status spex_ckpt_load(MPI_Comm comm, spex_ckpt *ck, const spex_design *d,
                           const spex_layout *L, double *sig, spex_error *err);

/* Collective on comm.  Writes every rank's values (NaN where not evaluated). */
spex_status spex_ckpt_save(MPI_Comm comm, const spex_ckpt *ck, const spex_design *d,
                           const spex_layout *L, const double *sig, spex_error *err);

/* Collective on comm.  Removes the checkpoint (after a complete result). */
void spex_ckpt_remove(MPI_Comm comm, const spex_ckpt *ck);

#endif
