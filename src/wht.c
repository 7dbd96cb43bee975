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
 * Every pass applies up to three levels to 8 rows of 8-value vectors held in
 * registers (radix 8); the three lowest levels, inside a vector, are done
 * with lane shuffles.  With GCC's or Clang's vector extensions and
 * target_clones the vector code is compiled for AVX-512, AVX2 and the
 * baseline and chosen at load time; otherwise a plain-C 8-lane type is used.
 */
#include "config.h"

#include "spex/wht.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Block sizes, tuned on this project's machine (Zen 4: 32 KiB L1d, 1 MiB L2
 * per core; doc/benchmarks.md section 6).  SPEX_WHT_SELFTEST (defined only by
 * the test tests/test_wht_selftest) shrinks them and turns the vector
 * extensions off, so that small signals run through every branch of the
 * schedule in plain C. */
#ifndef SPEX_WHT_SELFTEST
enum {
    SUB = 11,   /* log2 values per L1 sub-block: 16 KiB */
    BLOCK = 17, /* log2 values per L2 block: 1 MiB */
    CHUNK = 20, /* log2 values per L3 chunk: 8 MiB */
    STRIP = 15  /* log2 values of the phase-3 scratch strip: 256 KiB */
};
#if defined(__has_builtin)
#if __has_builtin(__builtin_shufflevector)
#define WHT_VECTOR_EXT 1
#endif
#endif
#else
enum { SUB = 6, BLOCK = 7, CHUNK = 9, STRIP = 10 };
#endif
/* log2 of the rows a scratch strip holds with rows at least 8 values wide:
 * the most levels one phase-3 round does. */
enum { MAX_ROWS = STRIP - 3 };

#if defined(WHT_VECTOR_EXT) && defined(HAVE_TARGET_CLONES)
#define WHT_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define WHT_CLONES
#endif

#if defined(__GNUC__)
#define WHT_INLINE static inline __attribute__((always_inline))
#else
#define WHT_INLINE static inline
#endif

/* ---- 8-lane vectors ---------------------------------------------------- */

#ifdef WHT_VECTOR_EXT
typedef double v8 __attribute__((vector_size(64)));

/* Vectors go by pointer: passing 64-byte vectors by value would depend on
 * the instruction set (GCC's -Wpsabi). */
WHT_INLINE void v8_load(v8 *v, const double *p)
{
    memcpy(v, p, sizeof *v);
}

WHT_INLINE void v8_store(double *p, const v8 *v)
{
    memcpy(p, v, sizeof *v);
}

WHT_INLINE void v8_butterfly(v8 *a, v8 *c)
{
    v8 t = *a;
    *a = t + *c;
    *c = t - *c;
}

/* Levels 0, 1, 2 inside a vector: lane i pairs with lane i ^ 2^l; t holds
 * the partners, lane i gets x + t (a + c) if bit l of i is clear, else
 * t - x (a - c: t is the lower lane's value). */
WHT_INLINE void v8_lanes(v8 *v)
{
    v8 x = *v;
    v8 t = __builtin_shufflevector(x, x, 1, 0, 3, 2, 5, 4, 7, 6);
    x = __builtin_shufflevector(x + t, t - x, 0, 9, 2, 11, 4, 13, 6, 15);
    t = __builtin_shufflevector(x, x, 2, 3, 0, 1, 6, 7, 4, 5);
    x = __builtin_shufflevector(x + t, t - x, 0, 1, 10, 11, 4, 5, 14, 15);
    t = __builtin_shufflevector(x, x, 4, 5, 6, 7, 0, 1, 2, 3);
    *v = __builtin_shufflevector(x + t, t - x, 0, 1, 2, 3, 12, 13, 14, 15);
}
#else
typedef struct {
    double d[8];
} v8;

static void v8_load(v8 *v, const double *p)
{
    memcpy(v->d, p, sizeof v->d);
}

static void v8_store(double *p, const v8 *v)
{
    memcpy(p, v->d, sizeof v->d);
}

static void v8_butterfly(v8 *a, v8 *c)
{
    for (int i = 0; i < 8; i++) {
        double t = a->d[i];
        a->d[i] = t + c->d[i];
        c->d[i] = t - c->d[i];
    }
}

static void v8_lanes(v8 *v)
{
    for (int h = 1; h < 8; h *= 2)
        for (int i = 0; i < 8; i += 2 * h)
            for (int j = i; j < i + h; j++) {
                double a = v->d[j], c = v->d[j + h];
                v->d[j] = a + c;
                v->d[j + h] = a - c;
            }
}
#endif

/* ---- passes ------------------------------------------------------------ */

/* Levels 0, 1, 2 across 8 vectors (level l pairs vector i with i + 2^l),
 * in that order; the same for 4 vectors.  Separate variables rather than an
 * array: GCC keeps a 512-byte array in memory. */
#define WHT_RADIX8(v0, v1, v2, v3, v4, v5, v6, v7)                                                 \
    do {                                                                                           \
        v8_butterfly(&v0, &v1);                                                                    \
        v8_butterfly(&v2, &v3);                                                                    \
        v8_butterfly(&v4, &v5);                                                                    \
        v8_butterfly(&v6, &v7);                                                                    \
        v8_butterfly(&v0, &v2);                                                                    \
        v8_butterfly(&v1, &v3);                                                                    \
        v8_butterfly(&v4, &v6);                                                                    \
        v8_butterfly(&v5, &v7);                                                                    \
        v8_butterfly(&v0, &v4);                                                                    \
        v8_butterfly(&v1, &v5);                                                                    \
        v8_butterfly(&v2, &v6);                                                                    \
        v8_butterfly(&v3, &v7);                                                                    \
    } while (0)

#define WHT_RADIX4(v0, v1, v2, v3)                                                                 \
    do {                                                                                           \
        v8_butterfly(&v0, &v1);                                                                    \
        v8_butterfly(&v2, &v3);                                                                    \
        v8_butterfly(&v0, &v2);                                                                    \
        v8_butterfly(&v1, &v3);                                                                    \
    } while (0)

/* Levels j .. j+K-1 (K = 1, 2 or 3, a constant once inlined) of a strip of
 * `rows` rows, w values wide (w a multiple of 8): at level j, row r pairs
 * with row r + 2^j.  Reads the rows from src (row stride ss values), writes
 * them to dst (stride ds); src may be dst. */
WHT_INLINE void pass_rows_k(const double *src, size_t ss, double *dst, size_t ds, size_t w,
                            size_t rows, int j, const int K)
{
    size_t h = (size_t)1 << j, span = h << K, so = h * ss, dso = h * ds;
    for (size_t r0 = 0; r0 < rows; r0 += span)
        for (size_t r = r0; r < r0 + h; r++) {
            const double *s = src + r * ss;
            double *d = dst + r * ds;
            for (size_t c = 0; c < w; c += 8) {
                v8 v0, v1, v2, v3, v4, v5, v6, v7;
                v8_load(&v0, s + c);
                v8_load(&v1, s + c + so);
                if (K == 1) {
                    v8_butterfly(&v0, &v1);
                } else if (K == 2) {
                    v8_load(&v2, s + c + 2 * so);
                    v8_load(&v3, s + c + 3 * so);
                    WHT_RADIX4(v0, v1, v2, v3);
                    v8_store(d + c + 2 * dso, &v2);
                    v8_store(d + c + 3 * dso, &v3);
                } else {
                    v8_load(&v2, s + c + 2 * so);
                    v8_load(&v3, s + c + 3 * so);
                    v8_load(&v4, s + c + 4 * so);
                    v8_load(&v5, s + c + 5 * so);
                    v8_load(&v6, s + c + 6 * so);
                    v8_load(&v7, s + c + 7 * so);
                    WHT_RADIX8(v0, v1, v2, v3, v4, v5, v6, v7);
                    v8_store(d + c + 2 * dso, &v2);
                    v8_store(d + c + 3 * dso, &v3);
                    v8_store(d + c + 4 * dso, &v4);
                    v8_store(d + c + 5 * dso, &v5);
                    v8_store(d + c + 6 * dso, &v6);
                    v8_store(d + c + 7 * dso, &v7);
                }
                v8_store(d + c, &v0);
                v8_store(d + c + dso, &v1);
            }
        }
}

/* The same for a K known only at run time. */
WHT_INLINE void pass_rows(const double *src, size_t ss, double *dst, size_t ds, size_t w,
                          size_t rows, int j, int k)
{
    if (k == 3)
        pass_rows_k(src, ss, dst, ds, w, rows, j, 3);
    else if (k == 2)
        pass_rows_k(src, ss, dst, ds, w, rows, j, 2);
    else
        pass_rows_k(src, ss, dst, ds, w, rows, j, 1);
}

/* Levels j .. j+g-1 of a strip, in passes of up to three levels. */
WHT_INLINE void strip_levels(double *x, size_t stride, size_t w, size_t rows, int g)
{
    for (int j = 0; j < g; j += 3)
        pass_rows(x, stride, x, stride, w, rows, j, g - j < 3 ? g - j : 3);
}

/* Levels 0 .. 5 of 64 contiguous values: three inside each vector, three
 * across the 8 vectors. */
WHT_INLINE void levels0to5(double *x)
{
    v8 v0, v1, v2, v3, v4, v5, v6, v7;
    v8_load(&v0, x);
    v8_load(&v1, x + 8);
    v8_load(&v2, x + 16);
    v8_load(&v3, x + 24);
    v8_load(&v4, x + 32);
    v8_load(&v5, x + 40);
    v8_load(&v6, x + 48);
    v8_load(&v7, x + 56);
    v8_lanes(&v0);
    v8_lanes(&v1);
    v8_lanes(&v2);
    v8_lanes(&v3);
    v8_lanes(&v4);
    v8_lanes(&v5);
    v8_lanes(&v6);
    v8_lanes(&v7);
    WHT_RADIX8(v0, v1, v2, v3, v4, v5, v6, v7);
    v8_store(x, &v0);
    v8_store(x + 8, &v1);
    v8_store(x + 16, &v2);
    v8_store(x + 24, &v3);
    v8_store(x + 32, &v4);
    v8_store(x + 40, &v5);
    v8_store(x + 48, &v6);
    v8_store(x + 56, &v7);
}

/* Levels 0 .. lev-1 of 2^lev contiguous values, 6 <= lev <= BLOCK.
 * Sub-blocks of 2^SUB values first (as rows of 8), then the levels above
 * SUB with the block as rows of 2^SUB values. */
WHT_CLONES static void wht_block(double *x, int lev)
{
    int sub = lev < SUB ? lev : SUB;
    size_t n = (size_t)1 << lev, ns = (size_t)1 << sub;
    for (size_t s = 0; s < n; s += ns) {
        double *y = x + s;
        for (size_t i = 0; i < ns; i += 64)
            levels0to5(y + i);
        /* Element level e >= 3 is row level e - 3 of rows of 8 values. */
        for (int j = 3; j < sub - 3; j += 3)
            pass_rows(y, 8, y, 8, 8, ns / 8, j, sub - 3 - j < 3 ? sub - 3 - j : 3);
    }
    strip_levels(x, ns, ns, n / ns, lev - sub);
}

/* Phase 3: levels lo .. lo+g-1 (g <= MAX_ROWS) of the 2^b values x, the
 * array seen as 2^g-row matrices of 2^lo columns (one after another when
 * lo + g < b), by strips of w columns.  With more than one pass per strip and
 * scratch space (2^STRIP values) the strip goes through the scratch; without
 * scratch the passes work in place (slower: the strip's rows share cache
 * sets). */
WHT_CLONES static void wht_columns(double *x, int b, int lo, int g, double *scratch)
{
    size_t cols = (size_t)1 << lo, rows = (size_t)1 << g, span = cols << g;
    size_t n = (size_t)1 << b;
    size_t w = (size_t)1 << (STRIP - g);
    if (w > cols)
        w = cols;
    for (size_t base = 0; base < n; base += span)
        for (size_t c0 = 0; c0 < cols; c0 += w) {
            double *p = x + base + c0;
            if (g <= 3 || scratch == NULL) {
                strip_levels(p, cols, w, rows, g);
                continue;
            }
            /* First pass array -> scratch, middle passes in scratch, last
             * pass scratch -> array; levels ascending throughout. */
            pass_rows(p, cols, scratch, w, w, rows, 0, 3);
            int j = 3;
            for (; g - j > 3; j += 3)
                pass_rows(scratch, w, scratch, w, w, rows, j, 3);
            pass_rows(scratch, w, p, cols, w, rows, j, g - j);
        }
}

/* Levels 0 .. lev-1 of 2^lev contiguous values, BLOCK < lev <= CHUNK: its
 * blocks, then the levels above BLOCK with the chunk as rows of 2^BLOCK
 * values, in place. */
WHT_CLONES static void wht_chunk(double *x, int lev)
{
    size_t nb = (size_t)1 << BLOCK, n = (size_t)1 << lev;
    for (size_t i = 0; i < n; i += nb)
        wht_block(x + i, BLOCK);
    strip_levels(x, nb, nb, n / nb, lev - BLOCK);
}

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
    if (b <= BLOCK) {
        wht_block(x, b);
        return;
    }
    int lo = b < CHUNK ? b : CHUNK;
    size_t n = (size_t)1 << b;
    for (size_t i = 0; i < n; i += (size_t)1 << lo)
        wht_chunk(x + i, lo);
    if (lo == b)
        return;
    /* Scratch only when a strip needs more than one pass; if it cannot be
     * had, the in-place passes give the same result, more slowly. */
    double *scratch = b - lo > 3 ? malloc(sizeof(double) << STRIP) : NULL;
    while (lo < b) {
        int g = b - lo < MAX_ROWS ? b - lo : MAX_ROWS;
        wht_columns(x, b, lo, g, scratch);
        lo += g;
    }
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
    double *y = malloc(n * sizeof *y);
    if (y == NULL)
        return -1;
    /* Level lb + e pairs rank q with q ^ 2^e; the lower rank of the pair
     * holds the butterfly's first operand. */
    const size_t chunk = (size_t)1 << 26;
    for (int e = 0; e < r; e++) {
        int partner = rank ^ (1 << e);
        for (size_t off = 0; off < n; off += chunk) {
            int cnt = (int)(n - off < chunk ? n - off : chunk);
            MPI_Sendrecv(x + off, cnt, MPI_DOUBLE, partner, e, y + off, cnt, MPI_DOUBLE, partner, e,
                         comm, MPI_STATUS_IGNORE);
        }
        if ((rank >> e) & 1)
            for (size_t i = 0; i < n; i++)
                x[i] = y[i] - x[i];
        else
            for (size_t i = 0; i < n; i++)
                x[i] = x[i] + y[i];
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
