/* refine.c -- least-squares refinement of the recovered coefficients
 * (ALGORITHMS.md section 8; the normal equations of the aliasing design are
 * derived in include/spex/refine.h).
 *
 * Everything is computed in units of 2^b (the Gram matrix and right-hand
 * side divided by 2^b), which leaves the least-squares solution unchanged
 * and keeps the Gram matrix integer-valued, hence exact.  The right-hand
 * side is assembled from per-(term, signal) contributions that each have a
 * single owner, summed afterwards in a fixed order, so its value does not
 * depend on how signals are spread over ranks.
 */
#include "spex/refine.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ScaLAPACK and BLACS (Fortran and C interfaces of libscalapack-openmpi). */
extern int Csys2blacs_handle(MPI_Comm comm);
extern void Cfree_blacs_system_handle(int handle);
extern void Cblacs_gridinit(int *ctx, const char *order, int nprow, int npcol);
extern void Cblacs_gridinfo(int ctx, int *nprow, int *npcol, int *myrow, int *mycol);
extern void Cblacs_gridexit(int ctx);
extern void descinit_(int *desc, const int *m, const int *n, const int *mb, const int *nb,
                      const int *irsrc, const int *icsrc, const int *ictxt, const int *lld,
                      int *info);
extern int numroc_(const int *n, const int *nb, const int *iproc, const int *isrcproc,
                   const int *nprocs);
extern void pdposv_(const char *uplo, const int *n, const int *nrhs, double *a, const int *ia,
                    const int *ja, const int *desca, double *b, const int *ib, const int *jb,
                    const int *descb, int *info);

/* The most square grid: nprow the largest divisor of size <= sqrt(size). */
static void grid_shape(int size, int *nprow, int *npcol)
{
    int r = 1;
    for (int q = 1; q * q <= size; q++)
        if (size % q == 0)
            r = q;
    *nprow = r;
    *npcol = size / r;
}

spex_status spex_refine_solve(MPI_Comm comm, int K, size_t nnz, const int *gi, const int *gj,
                              const double *gv, double *r, spex_error *err)
{
    spex_status st = SPEX_OK;
    int size, nprow, npcol, myrow, mycol;
    const int zero = 0, one = 1;
    MPI_Comm_size(comm, &size);
    if (K <= 0)
        return SPEX_OK;
    grid_shape(size, &nprow, &npcol);
    int sys = Csys2blacs_handle(comm), ctx = sys;
    Cblacs_gridinit(&ctx, "Row", nprow, npcol);
    Cblacs_gridinfo(ctx, &nprow, &npcol, &myrow, &mycol);
    int nb = K < 64 ? K : 64;
    int mloc = numroc_(&K, &nb, &myrow, &zero, &nprow);
    int nloc = numroc_(&K, &nb, &mycol, &zero, &npcol);
    int lld = mloc > 1 ? mloc : 1, info = 0;
    int descA[9], descB[9];
    descinit_(descA, &K, &K, &nb, &nb, &zero, &zero, &ctx, &lld, &info);
    descinit_(descB, &K, &one, &nb, &nb, &zero, &zero, &ctx, &lld, &info);
    double *A = calloc((size_t)lld * (size_t)(nloc > 0 ? nloc : 1), sizeof *A);
    double *B = calloc((size_t)lld, sizeof *B);
    double *x = calloc((size_t)K, sizeof *x);
    if (A == NULL || B == NULL || x == NULL)
        spex_error_set(err, SPEX_EINTERNAL, "out of memory for a %d x %d refinement system", K, K);
    if (spex_error_agree(comm, err) != SPEX_OK) {
        st = err->code;
        goto out;
    }
    /* Global (i, j) lives on process (i/nb mod nprow, j/nb mod npcol) at
     * local (i/(nb nprow) nb + i mod nb, likewise j). */
    for (size_t e = 0; e < nnz; e++) {
        int i = gi[e], j = gj[e];
        if (j > i || (i / nb) % nprow != myrow || (j / nb) % npcol != mycol)
            continue;
        int li = i / (nb * nprow) * nb + i % nb, lj = j / (nb * npcol) * nb + j % nb;
        A[(size_t)lj * (size_t)lld + (size_t)li] += gv[e];
    }
    if (mycol == 0)
        for (int li = 0; li < mloc; li++)
            B[li] = r[(li / nb * nprow + myrow) * nb + li % nb];
    pdposv_("L", &K, &one, A, &one, &one, descA, B, &one, &one, descB, &info);
    if (info != 0) {
        st = spex_error_set(err, SPEX_ENUMERIC,
                            "refinement: the normal equations are not positive definite "
                            "(pdposv info %d); try refine.name = ridge",
                            info);
        goto out;
    }
    /* Process column 0 holds the solution; each entry has one owner, so
     * the sum is exact. */
    if (mycol == 0)
        for (int li = 0; li < mloc; li++)
            x[(li / nb * nprow + myrow) * nb + li % nb] = B[li];
    MPI_Allreduce(x, r, K, MPI_DOUBLE, MPI_SUM, comm);
out:
    free(A);
    free(B);
    free(x);
    Cblacs_gridexit(ctx);
    Cfree_blacs_system_handle(sys);
    return st;
}

/* The nonzeros of the Gram matrix, growing. */
typedef struct gram {
    int *i, *j;
    double *v;
    size_t n, cap;
} gram;

static int gram_push(gram *g, int i, int j, double v)
{
    if (g->n == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 1024;
        int *ni = realloc(g->i, cap * sizeof *ni);
        if (ni)
            g->i = ni;
        int *nj = realloc(g->j, cap * sizeof *nj);
        if (nj)
            g->j = nj;
        double *nv = realloc(g->v, cap * sizeof *nv);
        if (nv)
            g->v = nv;
        if (!ni || !nj || !nv)
            return -1;
        g->cap = cap;
    }
    g->i[g->n] = i;
    g->j[g->n] = j;
    g->v[g->n] = v;
    g->n++;
    return 0;
}

typedef struct bin_of {
    uint64_t bin;
    int idx;
} bin_of;

static int cmp_bin_of(const void *a, const void *b)
{
    const bin_of *x = a, *y = b;
    if (x->bin != y->bin)
        return x->bin < y->bin ? -1 : 1;
    return x->idx - y->idx;
}

spex_status spex_refine_spex(MPI_Comm comm, const spex_design *d, const spex_layout *L,
                             const double *sig, double lambda, spex_spectrum *terms,
                             spex_error *err)
{
    spex_status st = SPEX_OK;
    int K = (int)terms->count, C = d->C;
    size_t P1 = (size_t)d->P + 1, S = spex_design_signals(d), width = L->b - L->a;
    signed char *sgn = malloc((size_t)K * P1 + 1);
    uint64_t *bins = malloc(((size_t)K * (size_t)C + 1) * sizeof *bins);
    bin_of *order = malloc(((size_t)K + 1) * sizeof *order);
    double *part = calloc((size_t)K * S + 1, sizeof *part), *sum = NULL, *rhs = NULL;
    gram g = {NULL, NULL, NULL, 0, 0};
    if (!sgn || !bins || !order || !part)
        spex_error_set(err, SPEX_EINTERNAL, "out of memory refining %d terms", K);
    if (spex_error_agree(comm, err) != SPEX_OK) {
        st = err->code;
        goto out;
    }
    if (K == 0)
        goto out;
    for (int k = 0; k < K; k++) {
        const spex_term *t = &terms->terms[k];
        for (size_t p = 0; p < P1; p++)
            sgn[(size_t)k * P1 + p] = spex_design_delay_parity(d, (int)p, t->feat, t->order) ? -1 : 1;
        for (int c = 0; c < C; c++)
            bins[(size_t)k * (size_t)C + (size_t)c] = spex_design_bin(d, c, t->feat, t->order);
    }

    /* Gram matrix (lower triangle, duplicates summed by the solver): terms
     * sharing bin j of group c meet in the P+1 queries sets of that bin. */
    for (int c = 0; c < C; c++) {
        for (int k = 0; k < K; k++) {
            order[k].bin = bins[(size_t)k * (size_t)C + (size_t)c];
            order[k].idx = k;
        }
        qsort(order, (size_t)K, sizeof *order, cmp_bin_of);
        for (int a = 0; a < K;) {
            int b = a + 1;
            while (b < K && order[b].bin == order[a].bin)
                b++;
            for (int u = a; u < b; u++)
                for (int v = a; v <= u; v++) {
                    int i = order[u].idx, j = order[v].idx;
                    if (j > i) {
                        int tmp = i;
                        i = j;
                        j = tmp;
                    }
                    double dot = 0;
                    for (size_t p = 0; p < P1; p++)
                        dot += sgn[(size_t)i * P1 + p] * sgn[(size_t)j * P1 + p];
                    if (gram_push(&g, i, j, dot) != 0) {
                        spex_error_set(err, SPEX_EINTERNAL, "out of memory for the Gram matrix");
                        goto agree;
                    }
                }
            a = b;
        }
    }
    /* Ridge: lambda Q on the diagonal of A^T A, in units of 2^b. */
    for (int k = 0; lambda > 0 && k < K; k++)
        if (gram_push(&g, k, k, lambda * (double)S) != 0) {
            spex_error_set(err, SPEX_EINTERNAL, "out of memory for the Gram matrix");
            goto agree;
        }

    /* Right-hand side: the (term, signal) contributions this rank holds. */
    for (size_t s = L->s_lo; s < L->s_hi; s++) {
        size_t c = s / P1, p = s % P1;
        const double *u = sig + (s - L->s_lo) * width;
        for (int k = 0; k < K; k++) {
            uint64_t j = bins[(size_t)k * (size_t)C + c];
            if (j >= L->a && j < L->b)
                part[(size_t)k * S + s] = sgn[(size_t)k * P1 + p] * u[j - L->a];
        }
    }
agree:
    if (spex_error_agree(comm, err) != SPEX_OK) {
        st = err->code;
        goto out;
    }
    sum = malloc((size_t)K * S * sizeof *sum);
    rhs = malloc((size_t)K * sizeof *rhs);
    if (sum == NULL || rhs == NULL)
        spex_error_set(err, SPEX_EINTERNAL, "out of memory for the refinement right-hand side");
    if (spex_error_agree(comm, err) != SPEX_OK) {
        st = err->code;
        goto out;
    }
    MPI_Allreduce(part, sum, (int)((size_t)K * S), MPI_DOUBLE, MPI_SUM, comm);
    for (int k = 0; k < K; k++) {
        double acc = 0;
        for (size_t s = 0; s < S; s++)
            acc += sum[(size_t)k * S + s];
        rhs[k] = acc;
    }
    SPEX_CHECK(spex_refine_solve(comm, K, g.n, g.i, g.j, g.v, rhs, err));
    for (int k = 0; k < K; k++)
        terms->terms[k].coef = rhs[k];
out:
    free(sgn);
    free(bins);
    free(order);
    free(part);
    free(sum);
    free(rhs);
    free(g.i);
    free(g.j);
    free(g.v);
    return st;
}
