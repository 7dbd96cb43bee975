/* wht.c -- the binary Walsh-Hadamard transform, local and distributed.
 *
 * Local kernel, length N = 2^b, in place, unnormalized (x <- H x) with the
 * butterfly (a, c) -> (a + c, a - c) of the textbook radix-2 loop.
 *
 * Why the result is bit-for-bit the textbook loop's: a butterfly of level l
 * pairs elements i and i + 2^l (bit l of i clear); at every level each
 * element takes part in exactly one butterfly.  The textbook loop applies
 * levels 0, 1, ..., b-1 in turn, so every value it computes is fixed by the
 * data flow alone: any schedule that applies, to every element, the same
 * butterflies in the same ascending level order, computing a + c and a - c
 * exactly so (no reassociation, no fused operations), gives the same bits.
 * The schedule below only reorders independent butterflies and keeps values
 * in registers or a scratch strip between levels.  The distributed transform
 * relies on this too: it finishes the top levels with exchanges between
 * ranks, after the local kernel has done the low ones.
 *
 * The schedule keeps the signal's traffic to memory at two read+write passes
 * for b <= CHUNK + 3 (b <= 23), every level below in cache:
 *   1. blocks of 2^BLOCK contiguous values (1 MiB: the L2), levels
 *      0 .. BLOCK-1; inside a block, sub-blocks of 2^SUB values (16 KiB, in
 *      L1) take levels 0 .. SUB-1 first, then passes over the whole block;
 *   2. chunks of 2^CHUNK values (8 MiB, in L3): their blocks, then levels
 *      BLOCK .. CHUNK-1 in passes over the chunk (the chunk as rows of 2^BLOCK
 *      values; level BLOCK + j pairs rows r and r + 2^j);
 *   3. levels CHUNK .. b-1: the signal seen as a 2^(b-CHUNK) x 2^CHUNK
 *      matrix, a transform down its columns, a strip of columns at a time.
 *      Up to three levels are one pass over the array, in place.  More go
 *      through a contiguous scratch strip (first pass array -> scratch, last
 *      pass scratch -> array): rows 8 MiB apart share their cache sets, so
 *      an in-place strip of more than 8 rows would not stay in cache.  More
 *      than MAX_ROWS levels take several such rounds.
 * Every pass applies up to three levels to 8 rows of one vector each, held
 * in registers (radix 8); the lowest levels, inside a vector, are done with
 * lane shuffles.  The schedule is written once (src/wht_kernel.h) and
 * instantiated with GCC/Clang vector extensions for 4-lane vectors compiled
 * for AVX2 and for 2-lane vectors (the baseline: SSE2 on x86-64, NEON...);
 * spex_wht_execute picks at run time.  Without vector extensions a plain-C
 * 2-lane type takes their place.  (An 8-lane AVX-512 instance was no faster
 * on this project's Zen 4, which runs 512-bit operations as two 256-bit
 * halves: 7-10% slower in cache, the same at 2^22 and 2^24.)
 */
#include "config.h"

#include "spex/wht.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Block sizes, tuned on this project's machine (Zen 4: 32 KiB L1d, 1 MiB L2
 * per core, 32 MiB L3; doc/benchmarks.md section 6).  SPEX_WHT_SELFTEST,
 * defined only for the tests test_wht_selftest and test_wht_plain, shrinks
 * them so that small signals run through every branch of the schedule, and
 * keeps to the 2-lane (baseline) instance; SPEX_WHT_NO_VECTOR_EXT forces
 * the plain-C vectors. */
#ifndef SPEX_WHT_SELFTEST
enum {
    SUB = 11,   /* log2 values per L1 sub-block: 16 KiB */
    BLOCK = 17, /* log2 values per L2 block: 1 MiB */
    CHUNK = 20, /* log2 values per L3 chunk: 8 MiB */
    STRIP = 15  /* log2 values of the phase-3 scratch strip: 256 KiB */
};
#else
enum { SUB = 6, BLOCK = 7, CHUNK = 9, STRIP = 10 };
#endif
/* log2 of the rows a scratch strip holds with rows at least 8 values wide:
 * the most levels one phase-3 round does. */
enum { MAX_ROWS = STRIP - 3 };

#if defined(__has_builtin) && !defined(SPEX_WHT_NO_VECTOR_EXT)
#if __has_builtin(__builtin_shufflevector)
#define WHT_VECTOR_EXT 1
#endif
#endif
/* HAVE_TARGET_AVX2 (configure): target("avx2") and __builtin_cpu_supports. */
#if defined(WHT_VECTOR_EXT) && defined(HAVE_TARGET_AVX2) && !defined(SPEX_WHT_SELFTEST)
#define WHT_AVX2 1
#endif

#if defined(__GNUC__)
#define WHT_INLINE static inline __attribute__((always_inline))
#else
#define WHT_INLINE static inline
#endif

/* ---- vectors ----------------------------------------------------------- */
/* Vectors go by pointer: passing 16- or 32-byte vectors by value would
 * depend on the instruction set (GCC's -Wpsabi). */

#ifdef WHT_VECTOR_EXT
typedef double vec_v2 __attribute__((vector_size(16)));

WHT_INLINE void load_v2(vec_v2 *v, const double *p)
{
    memcpy(v, p, sizeof *v);
}

WHT_INLINE void store_v2(double *p, const vec_v2 *v)
{
    memcpy(p, v, sizeof *v);
}

WHT_INLINE void butterfly_v2(vec_v2 *a, vec_v2 *c)
{
    vec_v2 t = *a;
    *a = t + *c;
    *c = t - *c;
}

/* Level 0 inside a vector: t holds the lanes swapped; lane 0 gets x + t
 * (a + c), lane 1 gets t - x (a - c: t's lane 1 is a). */
WHT_INLINE void lanes_v2(vec_v2 *v)
{
    vec_v2 x = *v;
    vec_v2 t = __builtin_shufflevector(x, x, 1, 0);
    *v = __builtin_shufflevector(x + t, t - x, 0, 3);
}
#else
typedef struct {
    double d[2];
} vec_v2;

static void load_v2(vec_v2 *v, const double *p)
{
    memcpy(v->d, p, sizeof v->d);
}

static void store_v2(double *p, const vec_v2 *v)
{
    memcpy(p, v->d, sizeof v->d);
}

static void butterfly_v2(vec_v2 *a, vec_v2 *c)
{
    for (int i = 0; i < 2; i++) {
        double t = a->d[i];
        a->d[i] = t + c->d[i];
        c->d[i] = t - c->d[i];
    }
}

static void lanes_v2(vec_v2 *v)
{
    double a = v->d[0], c = v->d[1];
    v->d[0] = a + c;
    v->d[1] = a - c;
}
#endif

#ifdef WHT_AVX2
typedef double vec_v4 __attribute__((vector_size(32)));

WHT_INLINE void load_v4(vec_v4 *v, const double *p)
{
    memcpy(v, p, sizeof *v);
}

WHT_INLINE void store_v4(double *p, const vec_v4 *v)
{
    memcpy(p, v, sizeof *v);
}

WHT_INLINE void butterfly_v4(vec_v4 *a, vec_v4 *c)
{
    vec_v4 t = *a;
    *a = t + *c;
    *c = t - *c;
}

/* Levels 0 and 1 inside a vector: lane i pairs with lane i ^ 2^l; t holds
 * the partners, lane i gets x + t (a + c) if bit l of i is clear, else
 * t - x (a - c: t is the lower lane's value). */
WHT_INLINE void lanes_v4(vec_v4 *v)
{
    vec_v4 x = *v;
    vec_v4 t = __builtin_shufflevector(x, x, 1, 0, 3, 2);
    x = __builtin_shufflevector(x + t, t - x, 0, 5, 2, 7);
    t = __builtin_shufflevector(x, x, 2, 3, 0, 1);
    *v = __builtin_shufflevector(x + t, t - x, 0, 1, 6, 7);
}
#endif

/* ---- the schedule, per vector width ------------------------------------ */

#define WHT_V 2
#define WHT_LV 1
#define WHT_NAME(f) f##_v2
#define WHT_TARGET
#include "wht_kernel.h"
#undef WHT_V
#undef WHT_LV
#undef WHT_NAME
#undef WHT_TARGET

#ifdef WHT_AVX2
#define WHT_V 4
#define WHT_LV 2
#define WHT_NAME(f) f##_v4
#define WHT_TARGET __attribute__((target("avx2")))
#include "wht_kernel.h"
#undef WHT_V
#undef WHT_LV
#undef WHT_NAME
#undef WHT_TARGET
#endif

/* The textbook loop, for signals of fewer than 64 values. */
static void wht_small(double *x, int b)
{
    size_t n = (size_t)1 << b;
    for (size_t h = 1; h < n; h *= 2)
        for (size_t i = 0; i < n; i += 2 * h)
            for (size_t j = i; j < i + h; j++) {
                double a = x[j], c = x[j + h];
                x[j] = a + c;
                x[j + h] = a - c;
            }
}

void spex_wht_execute(double *x, int b)
{
    if (b < 6) {
        wht_small(x, b);
        return;
    }
    /* Scratch only when a column strip needs more than one pass; if it
     * cannot be had, the in-place passes give the same result, more slowly. */
    double *scratch = b - CHUNK > 3 ? malloc(sizeof(double) << STRIP) : NULL;
#ifdef WHT_AVX2
    if (__builtin_cpu_supports("avx2"))
        execute_v4(x, b, scratch);
    else
#endif
        execute_v2(x, b, scratch);
    free(scratch);
}

void spex_wht_brute(const double *x, double *y, int b)
{
    size_t n = (size_t)1 << b;
    for (size_t j = 0; j < n; j++) {
        double s = 0;
        for (size_t l = 0; l < n; l++)
            s += (__builtin_popcountll(j & l) & 1) ? -x[l] : x[l];
        y[j] = s;
    }
}

int spex_wht_execute_dist(double *x, int b, MPI_Comm comm)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    int r = 0;
    while ((1 << r) < size)
        r++;
    if ((1 << r) != size || r > b)
        return -1;
    int lb = b - r;
    size_t n = (size_t)1 << lb;
    spex_wht_execute(x, lb);
    if (r == 0)
        return 0;
    /* The partner's values come in pieces of up to 2^26 (an int count),
     * each combined when it has arrived.  (Pieces of 2^17 or 2^19, combined
     * in cache, need less scratch but were 1.5-2x slower with 2 ranks on a
     * loaded machine: every piece waits for both ranks to be running.) */
    const size_t chunk = (size_t)1 << 26;
    size_t m = n < chunk ? n : chunk;
    double *y = malloc(m * sizeof *y);
    /* Agreed, so that no rank waits forever for a partner that gave up. */
    int ok = y != NULL;
    MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, comm);
    if (!ok) {
        free(y);
        return -1;
    }
    /* Level lb + e pairs rank q with q ^ 2^e; the lower rank of the pair
     * holds the butterfly's first operand. */
    for (int e = 0; e < r; e++) {
        int partner = rank ^ (1 << e), upper = (rank >> e) & 1;
        for (size_t off = 0; off < n; off += m) {
            double *xs = x + off;
            MPI_Sendrecv(xs, (int)m, MPI_DOUBLE, partner, e, y, (int)m, MPI_DOUBLE, partner, e,
                         comm, MPI_STATUS_IGNORE);
            if (upper)
                for (size_t i = 0; i < m; i++)
                    xs[i] = y[i] - xs[i];
            else
                for (size_t i = 0; i < m; i++)
                    xs[i] = xs[i] + y[i];
        }
    }
    free(y);
    return 0;
}

spex_status spex_wht_signals(MPI_Comm comm, const spex_design *d, const spex_layout *L,
                             double *sig, spex_error *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    size_t width = L->b - L->a;
    double scale = ldexp(1.0, -d->b);
    MPI_Comm sub = MPI_COMM_NULL;
    if (L->r > 1)
        MPI_Comm_split(comm, L->group >= 0 ? L->group : MPI_UNDEFINED, rank, &sub);
    for (size_t s = L->s_lo; s < L->s_hi; s++) {
        double *x = sig + (s - L->s_lo) * width;
        if (L->r == 1)
            spex_wht_execute(x, d->b);
        else if (spex_wht_execute_dist(x, d->b, sub) != 0)
            spex_error_set(err, SPEX_EINTERNAL, "distributed WHT failed (out of memory?)");
        for (size_t j = 0; j < width; j++)
            x[j] *= scale;
    }
    if (sub != MPI_COMM_NULL)
        MPI_Comm_free(&sub);
    return spex_error_agree(comm, err);
}
