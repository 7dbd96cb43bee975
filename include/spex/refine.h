/* refine.h -- least-squares refinement of recovered coefficients
 * (ALGORITHMS.md section 8), solved with ScaLAPACK.
 *
 * Given the support K (the recovered terms) and all SPEX queries, refine
 * minimizes sum_q (y_q - sum_k a_k chi_k(x_q))^2 + lambda Q |a|^2.  For the
 * aliasing design the normal equations need no pass over the queries:
 *   (A^T A)_{k,k'} = 2^b sum_c [M_c k = M_c k'] sum_p s_p(k) s_p(k'),
 *   (A^T y)_k      = 2^b sum_{c,p} s_p(k) U_{c,p}(M_c k),
 * with s_p(k) = (-1)^(d_p . k) and U the transformed signals, because the
 * queries of one signal are a coset of a subspace (ALGORITHMS.md section 3).
 * The Gram matrix is sparse (terms meet only where they share a bin); each
 * rank fills its own blocks of it on a 2-D block-cyclic process grid and
 * pdposv solves the system.
 */
#ifndef SPEX_REFINE_H
#define SPEX_REFINE_H

#include <mpi.h>

#include "spex/design.h"
#include "spex/error.h"
#include "spex/spectrum.h"

/* Collective on comm.  Replaces the coefficients of terms (identical on
 * every rank) by their least-squares values over all queries of design d;
 * sig holds this rank's transformed, normalized values under layout L.
 * lambda >= 0 is the ridge penalty relative to the query count (0: ordinary
 * least squares).  A singular system is an SPEX_ENUMERIC error. */
spex_status spex_refine_spex(MPI_Comm comm, const spex_design *d, const spex_layout *L,
                             const double *sig, double lambda, spex_spectrum *terms,
                             spex_error *err);

/* Collective on comm.  Solves the K x K symmetric positive definite system
 * G a = r with ScaLAPACK (pdposv on a 2-D block-cyclic grid over comm).
 * G is given by its nonzeros (rows gi, columns gj, values gv, both
 * triangles or only the lower one: entries with gj > gi are ignored),
 * identical on every rank; r is length K on every rank; the solution
 * overwrites r on every rank.  SPEX_ENUMERIC when G is not positive
 * definite. */
spex_status spex_refine_solve(MPI_Comm comm, int K, size_t nnz, const int *gi, const int *gj,
                              const double *gv, double *r, spex_error *err);

#endif
