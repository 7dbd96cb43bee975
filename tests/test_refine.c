/* test_refine.c -- refinement and faithfulness against brute force.
 *
 * The refined coefficients must equal the least-squares solution computed
 * the slow way: every query mask generated, the dense +-1 design matrix
 * built, and its normal equations solved by Gaussian elimination here.
 * R^2 is recomputed from the oracle's values directly.
 */
#include <string.h>

#include "spex/assess.h"
#include "spex/design.h"
#include "spex/mask.h"
#include "spex/oracle.h"
#include "spex/refine.h"
#include "spex/wht.h"
#include "testutil.h"

static void check_refine(double sigma, double lambda)
{
    spex_error err;
    spex_error_clear(&err);
    int n = 40, b = 4, C = 2, t = 2;
    spex_spectrum truth, support;
    spex_spectrum_generate(n, 10, t, 0.5, 2.0, 21, &truth, &err);
    /* support: the truth plus two terms absent from it */
    spex_spectrum_generate(n, 12, t, 0.5, 2.0, 21, &support, &err);
    spex_spectrum copy;
    spex_spectrum_generate(n, 10, t, 0.5, 2.0, 21, &copy, &err);
    spex_oracle *o = NULL;
    CU_ASSERT_FATAL(spex_oracle_sparse_create(n, &copy, SPEX_BASIS_FOURIER, sigma, 5, 0, &o, &err) ==
                    SPEX_OK);
    spex_spectrum_free(&copy);
    spex_design *d = NULL;
    CU_ASSERT_FATAL(spex_design_create(n, b, C, t, SPEX_DELAYS_BCH, 3, &d, &err) == SPEX_OK);
    size_t S = spex_design_signals(d), B = spex_design_bins(d), Q = S * B, w = d->words;
    int K = (int)support.count;
    uint64_t *masks = malloc(Q * w * sizeof *masks);
    double *y = malloc(Q * sizeof *y), *sig = malloc(Q * sizeof *sig);
    for (size_t s = 0; s < S; s++)
        spex_design_masks(d, (int)(s / (size_t)(d->P + 1)), (int)(s % (size_t)(d->P + 1)), 0, B,
                          masks + s * B * w);
    spex_oracle_eval(o, Q, masks, 0, y, &err);
    memcpy(sig, y, Q * sizeof *y);
    for (size_t s = 0; s < S; s++) {
        spex_wht_execute(sig + s * B, b);
        for (size_t j = 0; j < B; j++)
            sig[s * B + j] /= (double)B;
    }
    /* Dense normal equations from the masks. */
    double *G = calloc((size_t)K * (size_t)K, sizeof *G), *r = calloc((size_t)K, sizeof *r);
    for (size_t q = 0; q < Q; q++)
        for (int i = 0; i < K; i++) {
            const spex_term *ti = &support.terms[i];
            double ai = spex_mask_parity(masks + q * w, ti->feat, ti->order) ? -1 : 1;
            r[i] += ai * y[q];
            for (int j = 0; j < K; j++) {
                const spex_term *tj = &support.terms[j];
                G[i * K + j] += ai * (spex_mask_parity(masks + q * w, tj->feat, tj->order) ? -1 : 1);
            }
        }
    for (int i = 0; i < K; i++)
        G[i * K + i] += lambda * (double)Q;
    test_gauss_solve(K, G, r);

    spex_layout L;
    spex_layout_of(d, 1, 0, 1, &L);
    CU_ASSERT_FATAL(spex_refine_spex(MPI_COMM_WORLD, d, &L, sig, lambda, &support, &err) == SPEX_OK);
    double worst = 0;
    for (int i = 0; i < K; i++)
        worst = fmax(worst, fabs(support.terms[i].coef - r[i]));
    CU_ASSERT(worst < 1e-10);
    if (sigma == 0 && lambda == 0) {
        /* exact data: the extra terms get 0, the true ones their value */
        spex_recovery rec;
        spex_spectrum_compare(&truth, &support, 1e-10, &rec);
        CU_ASSERT_EQUAL(rec.found, 10);
        CU_ASSERT_EQUAL(rec.false_terms, 0);
        CU_ASSERT(rec.max_rel_err < 1e-10);
    }
    free(G);
    free(r);
    free(masks);
    free(y);
    free(sig);
    spex_spectrum_free(&truth);
    spex_spectrum_free(&support);
    spex_design_destroy(d);
    spex_oracle_destroy(o);
}

static void test_refine_ols_exact_data_matches_dense_lsq(void) { check_refine(0, 0); }
static void test_refine_ols_noisy_matches_dense_lsq(void) { check_refine(0.3, 0); }
static void test_refine_ridge_noisy_matches_dense_lsq(void) { check_refine(0.3, 0.01); }

static void test_refine_solve_random_spd(void)
{
    int K = 150;
    double *A = malloc((size_t)K * K * sizeof *A), *M = malloc((size_t)K * K * sizeof *M);
    double *r = malloc((size_t)K * sizeof *r), *x = malloc((size_t)K * sizeof *x);
    int *gi = malloc((size_t)K * K * sizeof *gi), *gj = malloc((size_t)K * K * sizeof *gj);
    /* A = M M^T + K I */
    for (int i = 0; i < K * K; i++)
        M[i] = sin(1.0 + i * 0.37);
    size_t nnz = 0;
    for (int i = 0; i < K; i++)
        for (int j = 0; j < K; j++) {
            double s = i == j ? K : 0;
            for (int l = 0; l < K; l++)
                s += M[i * K + l] * M[j * K + l];
            A[i * K + j] = s;
            gi[nnz] = i;
            gj[nnz] = j;
            nnz++;
        }
    for (int i = 0; i < K; i++)
        r[i] = x[i] = cos(i * 0.1);
    spex_error err;
    spex_error_clear(&err);
    CU_ASSERT_FATAL(spex_refine_solve(MPI_COMM_WORLD, K, nnz, gi, gj, A, r, &err) == SPEX_OK);
    double worst = 0;
    for (int i = 0; i < K; i++) {
        double s = 0;
        for (int j = 0; j < K; j++)
            s += A[i * K + j] * r[j];
        worst = fmax(worst, fabs(s - x[i]));
    }
    CU_ASSERT(worst < 1e-8);
    /* not positive definite: a numerical error, clearly said */
    for (size_t e = 0; e < nnz; e++)
        A[e] = -A[e];
    CU_ASSERT_EQUAL(spex_refine_solve(MPI_COMM_WORLD, K, nnz, gi, gj, A, x, &err), SPEX_ENUMERIC);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not positive definite"));
    free(A);
    free(M);
    free(r);
    free(x);
    free(gi);
    free(gj);
}

static void test_assess_r2_matches_direct_sums(void)
{
    spex_error err;
    spex_error_clear(&err);
    int n = 30, T = 500;
    spex_spectrum truth, half;
    spex_spectrum_generate(n, 8, 3, 0.5, 2.0, 4, &truth, &err);
    spex_spectrum_generate(n, 8, 3, 0.5, 2.0, 4, &half, &err);
    half.count = 4; /* a poorer expansion: half the terms */
    spex_spectrum copy;
    spex_spectrum_generate(n, 8, 3, 0.5, 2.0, 4, &copy, &err);
    spex_oracle *o = NULL;
    spex_oracle_sparse_create(n, &copy, SPEX_BASIS_FOURIER, 0.2, 9, 0, &o, &err);
    spex_spectrum_free(&copy);
    const spex_spectrum *specs[2] = {&truth, &half};
    double r2[2];
    CU_ASSERT_FATAL(spex_assess_r2(MPI_COMM_WORLD, o, specs, 2, T, 77, 64, r2, &err) == SPEX_OK);
    /* direct: same masks, same ids */
    double f[500], sf = 0, ss = 0, e0 = 0, e1 = 0;
    uint64_t m[1];
    for (int i = 0; i < T; i++) {
        spex_assess_mask(77, n, (uint64_t)i, m);
        spex_oracle_eval(o, 1, m, SPEX_TEST_ID_BASE + (uint64_t)i, &f[i], &err);
        sf += f[i];
        double g0 = 0, g1 = 0;
        for (size_t k = 0; k < truth.count; k++) {
            double c = spex_mask_parity(m, truth.terms[k].feat, truth.terms[k].order) ? -1 : 1;
            g0 += c * truth.terms[k].coef;
            if (k < 4)
                g1 += c * truth.terms[k].coef;
        }
        e0 += (f[i] - g0) * (f[i] - g0);
        e1 += (f[i] - g1) * (f[i] - g1);
    }
    for (int i = 0; i < T; i++)
        ss += (f[i] - sf / T) * (f[i] - sf / T);
    ASSERT_CLOSE(r2[0], 1 - e0 / ss, 1e-12);
    ASSERT_CLOSE(r2[1], 1 - e1 / ss, 1e-12);
    CU_ASSERT(r2[0] > r2[1]);
    CU_ASSERT(r2[0] > 0.9 && r2[0] < 1.0);
    half.count = 8;
    spex_spectrum_free(&truth);
    spex_spectrum_free(&half);
    spex_oracle_destroy(o);
}

static const test_case TESTS[] = {
    {"refine_ols_exact_data_matches_dense_lsq", test_refine_ols_exact_data_matches_dense_lsq},
    {"refine_ols_noisy_matches_dense_lsq", test_refine_ols_noisy_matches_dense_lsq},
    {"refine_ridge_noisy_matches_dense_lsq", test_refine_ridge_noisy_matches_dense_lsq},
    {"refine_solve_random_spd", test_refine_solve_random_spd},
    {"assess_r2_matches_direct_sums", test_assess_r2_matches_direct_sums},
    {NULL, NULL}};

SPEX_TEST_MAIN("refine")
