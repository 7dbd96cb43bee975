/* wht.c -- the binary Walsh-Hadamard transform, local and distributed.
 *
 * Local kernel, length N = 2^b, in place, unnormalized (x <- H x).  Two
 * phases keep the data in cache (FFHT-style blocking):
 *   1. levels 0 .. lo-1 inside each contiguous block of 2^lo values;
 *   2. levels lo .. b-1 seen as a transform down the columns of a
 *      2^(b-lo) x 2^lo matrix, done for a strip of COLS columns at a time
 *      (all rows of one strip fit in L2), levels again ascending.
 * Every element meets the same butterflies (a, c) -> (a + c, a - c) in the
 * same ascending level order whatever the blocking, so the result is
 * bit-for-bit that of the textbook radix-2 loop, and the distributed
 * transform (which finishes the top levels with pairwise exchanges between
 * ranks) reproduces it exactly.
 */
#include "spex/wht.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { COLS = 16 };

/* Levels 0 .. lev-1 of a block of 2^lev contiguous values. */
static void wht_block(double *restrict x, int lev)
{
    size_t n = (size_t)1 << lev;
    if (lev >= 1)
        for (size_t i = 0; i < n; i += 2) {
            double a = x[i], c = x[i + 1];
            x[i] = a + c;
            x[i + 1] = a - c;
        }
    if (lev >= 2)
        for (size_t i = 0; i < n; i += 4) {
            double a0 = x[i], a1 = x[i + 1], c0 = x[i + 2], c1 = x[i + 3];
            x[i] = a0 + c0;
            x[i + 1] = a1 + c1;
            x[i + 2] = a0 - c0;
            x[i + 3] = a1 - c1;
        }
    for (int l = 2; l < lev; l++) {
        size_t h = (size_t)1 << l;
        for (size_t i = 0; i < n; i += 2 * h) {
            double *restrict p = x + i, *restrict q = x + i + h;
            for (size_t j = 0; j < h; j++) {
                double a = p[j], c = q[j];
                p[j] = a + c;
                q[j] = a - c;
            }
        }
    }
}

/* Levels lo .. b-1 for columns [c0, c0 + w) of the 2^(b-lo) x 2^lo view. */
static void wht_columns(double *restrict x, int b, int lo, size_t c0, size_t w)
{
    size_t cols = (size_t)1 << lo, rows = (size_t)1 << (b - lo);
    for (size_t h = 1; h < rows; h *= 2)
        for (size_t r = 0; r < rows; r += 2 * h)
            for (size_t k = r; k < r + h; k++) {
                double *restrict p = x + k * cols + c0;
                double *restrict q = x + (k + h) * cols + c0;
                for (size_t j = 0; j < w; j++) {
                    double a = p[j], c = q[j];
                    p[j] = a + c;
                    q[j] = a - c;
                }
            }
}

void spex_wht_execute(double *x, int b)
{
    if (b <= 0)
        return;
    /* 2^12 doubles (32 KiB) per block in phase 1; phase 2 strips of COLS
     * columns over 2^(b-lo) rows. */
    int lo = (b + 1) / 2;
    if (lo < 12)
        lo = b < 12 ? b : 12;
    size_t n = (size_t)1 << b, blk = (size_t)1 << lo;
    for (size_t i = 0; i < n; i += blk)
        wht_block(x + i, lo);
    if (lo == b)
        return;
    size_t w = blk < COLS ? blk : COLS;
    for (size_t c0 = 0; c0 < blk; c0 += w)
        wht_columns(x, b, lo, c0, w);
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
