/* plan.h -- the two-phase flow: write the design's queries to a plan file,
 * let any program fill in the values, decode from the filled file
 * (DESIGN.md sections 4-5, doc/two-phase.md).
 *
 * A plan file (HDF5, format "spex-plan", format_version 1) holds, for the
 * study's SPEX design, the masks of all queries in design order (query q
 * is the design's id q = ((c (P+1)) + p) 2^b + l) as /queries/masks,
 * uint8[Q][ceil(n/8)] packed as in result files, and /queries/values,
 * float64[Q], all NaN until filled; the held-out test masks of
 * output.test_masks (id SPEX_TEST_ID_BASE + i) as /test/masks and
 * /test/values; root attributes with the design's parameters; and the
 * effective study as /study/config.  `spex decode` (oracle.kind = hdf5,
 * oracle.values = the filled plan) checks that the plan was made for its
 * study and that every value it needs is present and finite.
 */
#ifndef SPEX_PLAN_H
#define SPEX_PLAN_H

#include <mpi.h>
#include <stdint.h>

#include "spex/config.h"
#include "spex/error.h"
#include "spex/log.h"

#define SPEX_PLAN_FORMAT "spex-plan"
#define SPEX_PLAN_FORMAT_VERSION 1

/* The design a plan serves: what decode compares with its own study. */
typedef struct spex_plan_params {
    int n;                  /* features.n */
    int b;                  /* method.b as used (chosen when the study leaves it 0) */
    int groups;             /* method.groups */
    int max_order;          /* method.max_order */
    spex_delays_kind delays;/* method.delays */
    int delays_count;       /* P + 1 */
    int64_t seed;           /* study.seed */
    uint64_t queries;       /* groups x delays_count x 2^b */
    uint64_t test_masks;    /* output.test_masks */
} spex_plan_params;

/* Local.  The design parameters of a study's SPEX design, b chosen the way
 * `spex run` chooses it.  SPEX_EUSAGE for a method other than spex or a
 * design that cannot be built. */
spex_status spex_plan_params_of(const spex_config *cfg, spex_plan_params *p, spex_error *err);

/* Collective on comm.  `spex plan`: writes the plan of cfg's design to
 * path (parallel HDF5; under "<path>.tmp-<pid>", renamed when complete).
 * Each rank generates and writes its own block of rows, batch by batch.
 * Errors are agreed. */
spex_status spex_plan_write(MPI_Comm comm, const spex_config *cfg, const char *path,
                            const spex_log *log, spex_error *err);

/* Collective on comm.  Checks the filled plan at path against cfg: the
 * format, the design parameters (a mismatch names the study key), the
 * datasets' types and shapes, and that /queries/values and the first
 * output.test_masks values of /test/values are all finite (each rank
 * scans a block).  Fills *plan with the file's parameters.  Errors
 * (agreed): SPEX_EIO when the file cannot be opened, SPEX_EINPUT for
 * everything about its content. */
spex_status spex_plan_check(MPI_Comm comm, const spex_config *cfg, const char *path,
                            spex_plan_params *plan, spex_error *err);

#endif
