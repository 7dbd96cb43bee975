/* plan.h -- the two-phase flow: write the design's queries to a plan file,
 * let any program fill in the values, decode from the filled file
 * (DESIGN.md sections 4-5, doc/two-phase.md).
 *
 * A plan file (HDF5, format "spex-plan", format_version 2) holds, for the
 * study's SPEX design, the masks of all queries in design order (query q
 * is the design's id q = ((c (P+1)) + p) 2^b + l) as /queries/masks,
 * uint8[Q][ceil(n/8)] packed as in result files, and /queries/values,
 * float64[Q], all NaN until filled; the held-out test masks of
 * output.test_masks (id SPEX_TEST_ID_BASE + i) as /test/masks and
 * /test/values; root attributes with the design's parameters; and the
 * effective study as /study/config; and the hash of each mask dataset
 * (spex_plan_row_hash) as root attributes masks_hash and test_masks_hash.
 * `spex decode` (oracle.kind = hdf5, oracle.values = the filled plan)
 * checks that the plan was made for its study, mask by mask, and that
 * every value it needs is present and finite.
 */
#ifndef SPEX_PLAN_H
#define SPEX_PLAN_H

#include <mpi.h>
#include <stdint.h>

#include "spex/config.h"
#include "spex/error.h"
#include "spex/log.h"

#define SPEX_PLAN_FORMAT "spex-plan"
#define SPEX_PLAN_FORMAT_VERSION 2

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
    uint64_t masks_hash;    /* spex_plan_masks_hash of /queries/masks (as read from a plan) */
    uint64_t test_hash;     /* and of /test/masks */
} spex_plan_params;

/* Local.  The fingerprint of one row of a plan's mask dataset: row is the
 * row's index in its dataset, bytes its nbytes packed bytes.  A chain of
 * the SplitMix64 finaliser over the row index and the row's bytes read as
 * little-endian 64-bit words (the last one padded with zero bytes):
 *   h = mix(row ^ 0x9e3779b97f4a7c15); for each word w: h = mix(h ^ w)
 * Each step is a bijection, so changing any bit of a row changes its
 * hash.  A dataset's hash is the XOR of its rows' hashes: it does not
 * depend on the order the rows are visited in, so each rank hashes its
 * own block and one MPI_BXOR reduction combines them, on any number of
 * ranks.  doc/two-phase.md gives the same in Python. */
uint64_t spex_plan_row_hash(uint64_t row, const uint8_t *bytes, size_t nbytes);

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
 * datasets' types and shapes; every mask (each rank reads its block of
 * both mask datasets, hashes it and compares it with the masks the study
 * asks for; the XOR of the blocks' hashes must be the plan's masks_hash
 * and test_masks_hash); and that /queries/values and the first
 * output.test_masks values of /test/values are all finite (each rank
 * scans a block).  Fills *plan with the file's parameters.  Errors
 * (agreed): SPEX_EIO when the file cannot be opened, SPEX_EINPUT for
 * everything about its content. */
spex_status spex_plan_check(MPI_Comm comm, const spex_config *cfg, const char *path,
                            spex_plan_params *plan, spex_error *err);

#endif
