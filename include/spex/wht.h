/* wht.h -- Walsh-Hadamard transforms of length 2^b.
 *
 * The kernel is unnormalized and in place: x <- H x with
 * H_{jl} = (-1)^(j.l).  Radix-8 passes on SIMD vectors, blocked for each
 * cache level, the top levels in column strips (src/wht.c).  Every element
 * meets its butterflies in ascending level order, always, so the result is
 * bit for bit the textbook radix-2 loop's and the distributed transform
 * reproduces the local one exactly.
 */
#ifndef SPEX_WHT_H
#define SPEX_WHT_H

#include <mpi.h>
#include <stddef.h>

#include "spex/design.h"
#include "spex/error.h"

/* Local.  In-place unnormalized WHT of x[0 .. 2^b - 1]. */
void spex_wht_execute(double *x, int b);

/* Local.  Reference O(4^b) transform for tests: y = H x. */
void spex_wht_brute(const double *x, double *y, int b);

/* Collective on comm.  In-place unnormalized WHT of a length-2^b signal
 * spread over the ranks of comm in equal contiguous blocks: comm's size must
 * be a power of two 2^r <= 2^b; each rank holds 2^(b-r) consecutive values,
 * rank q the block starting at q 2^(b-r).  Gives the local kernel's result,
 * bit for bit.  Needs scratch of the local block's size (up to 512 MiB) per
 * rank; returns -1 on every rank if one cannot have it, or if the sizes do
 * not fit. */
int spex_wht_execute_dist(double *x, int b, MPI_Comm comm);

/* Collective on comm.  Transforms every signal this rank holds under
 * layout L in place, normalized: U = 2^-b H u (ALGORITHMS.md section 3).
 * With L->r > 1 the ranks of each group run the distributed transform
 * together.  Errors are agreed. */
spex_status spex_wht_signals(MPI_Comm comm, const spex_design *d, const spex_layout *L,
                             double *sig, spex_error *err);

#endif
