/* spex.h -- public C API of libspex.
 *
 * Library users include this one header.  It pulls in the module headers
 * (the headers under include/spex/); each function there says whether it is collective on
 * the communicator it takes ("Collective on comm.") or purely local
 * ("Local.").  Status codes double as the spex program's exit codes.
 */
#ifndef SPEX_H
#define SPEX_H

#define SPEX_VERSION_STRING "0.1.0"

#include "spex/error.h"
#include "spex/log.h"
#include "spex/rng.h"
#include "spex/mask.h"
#include "spex/config.h"
#include "spex/spectrum.h"
#include "spex/oracle.h"
#include "spex/bch.h"
#include "spex/design.h"
#include "spex/wht.h"
#include "spex/eval.h"
#include "spex/peel.h"
#include "spex/result.h"
#include "spex/h5io.h"
#include "spex/run.h"
#include "spex/show.h"
#include "spex/convert.h"
#include "spex/refine.h"
#include "spex/assess.h"
#include "spex/proxy.h"
#include "spex/plan.h"
#include "spex/ckpt.h"
#include "spex/signal.h"

/* ---- plugins: oracle.kind = plugin ------------------------------------------
 *
 * A plugin is a shared object that exports one constant object named
 * spex_plugin_v1 (SPEX_PLUGIN_SYMBOL) of type spex_plugin.  spex loads it on
 * every rank with dlopen(oracle.plugin, RTLD_NOW | RTLD_LOCAL), checks abi,
 * calls init once, eval once per batch, destroy once.  Build one with
 *     mpicc -shared -fPIC -I<spex prefix>/include -o my.so my.c
 * (a plugin needs no spex library: only this header's types and constants).
 * doc/oracles.md has a complete minimal plugin; tools/plugin-example.c a
 * fuller one.
 *
 * Masks are byte-packed as in spex's files: feature i of a mask is bit i%8
 * of byte i/8, 1 = feature present (kept), 0 = masked; bits past n are 0.
 * A batch of count masks is count * mask_bytes contiguous bytes.
 *
 * Ownership: spex owns every pointer it passes (ctx, args, masks, values,
 * errbuf); they are valid during the call only -- copy what you keep.  The
 * plugin owns *state and frees it in destroy.  spex calls the functions from
 * one thread of each MPI process, never concurrently.  A plugin must not
 * call MPI collectives (ranks reach eval a different number of times).
 *
 * Errors: a function returns 0 on success.  On failure it writes a one-line
 * message into errbuf (errlen bytes, NUL-terminated; spex clears it before
 * each call) and returns nonzero.  init may return SPEX_EUSAGE (bad args) or
 * SPEX_EINPUT (unreadable input data) to choose spex's exit code; any other
 * nonzero value, and any eval failure, is reported as SPEX_EORACLE.  spex
 * also rejects a non-finite value in values[] (a value left unwritten is
 * NaN and is rejected too).
 */
#include <stddef.h>
#include <stdint.h>

/* Version of the struct below; spex refuses a plugin with another abi. */
#define SPEX_PLUGIN_ABI 1
/* The name of the object a plugin exports. */
#define SPEX_PLUGIN_SYMBOL "spex_plugin_v1"

/* What a plugin learns about the run at init. */
typedef struct spex_plugin_context {
    int n;              /* features.n: bits per mask */
    size_t mask_bytes;  /* bytes per mask, (n + 7) / 8 */
    size_t max_batch;   /* eval never gets more masks than this (oracle.batch) */
    int rank, size;     /* this process among the run's ranks */
    int local_rank;     /* among the run's ranks on this node (choose a GPU) */
    int local_size;     /* the run's ranks on this node */
    uint64_t seed;      /* oracle.seed (study.seed when -1): for reproducible noise */
    const char *args;   /* oracle.plugin_args, "" when unset */
} spex_plugin_context;

typedef struct spex_plugin {
    int abi;          /* SPEX_PLUGIN_ABI */
    const char *name; /* short name for messages, e.g. "my-model" */
    /* Prepares to evaluate; stores the plugin's own data in *state (may
     * stay NULL).  When init fails, destroy is not called: clean up first. */
    int (*init)(void **state, const spex_plugin_context *ctx, char *errbuf, size_t errlen);
    /* Evaluates count masks (1 <= count <= ctx->max_batch) into
     * values[0 .. count-1].  first_id is the global index of the first
     * mask in spex's design (mask j is query first_id + j): the same query
     * has the same id on any number of ranks, so randomness derived from
     * (seed, id) keeps results rank-independent. */
    int (*eval)(void *state, size_t count, const uint8_t *masks, uint64_t first_id,
                double *values, char *errbuf, size_t errlen);
    /* Releases state (may be NULL if the plugin has nothing to free). */
    void (*destroy)(void *state);
} spex_plugin;

/* Put this on the exported object when building with -fvisibility=hidden:
 *     SPEX_PLUGIN_EXPORT const spex_plugin spex_plugin_v1 = { ... }; */
#if defined(__GNUC__)
#define SPEX_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define SPEX_PLUGIN_EXPORT
#endif

#endif
