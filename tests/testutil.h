/* testutil.h -- a CUnit main for spex unit tests.
 *
 * A unit test file defines `static const test_case TESTS[]` (name,
 * function) terminated by {NULL, NULL} and then uses SPEX_TEST_MAIN("suite").
 * The program initializes MPI (it runs as a singleton), runs the suite
 * verbosely and exits non-zero when any assertion failed.
 */
#ifndef SPEX_TESTUTIL_H
#define SPEX_TESTUTIL_H

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct test_case {
    const char *name;
    void (*fn)(void);
} test_case;

#define SPEX_TEST_MAIN(suite_name)                                                     \
    int main(int argc, char **argv)                                                    \
    {                                                                                  \
        MPI_Init(&argc, &argv);                                                        \
        if (CU_initialize_registry() != CUE_SUCCESS)                                   \
            return 99;                                                                 \
        CU_pSuite s = CU_add_suite(suite_name, NULL, NULL);                            \
        for (const test_case *tc = TESTS; tc->name; tc++)                              \
            CU_add_test(s, tc->name, tc->fn);                                          \
        CU_basic_set_mode(CU_BRM_VERBOSE);                                             \
        CU_basic_run_tests();                                                          \
        unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed(); \
        CU_cleanup_registry();                                                         \
        MPI_Finalize();                                                                \
        return failed ? 1 : 0;                                                         \
    }

/* |a - b| <= tol * max(1, |b|) */
#define ASSERT_CLOSE(a, b, tol) CU_ASSERT(fabs((a) - (b)) <= (tol) * fmax(1.0, fabs(b)))

/* Solves the dense K x K system G x = r in place by Gaussian elimination
 * with partial pivoting (G row-major, destroyed): the independent
 * reference the least-squares tests compare against. */
static inline void test_gauss_solve(int K, double *G, double *r)
{
    for (int c = 0; c < K; c++) {
        int piv = c;
        for (int i = c + 1; i < K; i++)
            if (fabs(G[i * K + c]) > fabs(G[piv * K + c]))
                piv = i;
        for (int j = 0; j < K; j++) {
            double t = G[c * K + j];
            G[c * K + j] = G[piv * K + j];
            G[piv * K + j] = t;
        }
        double t = r[c];
        r[c] = r[piv];
        r[piv] = t;
        for (int i = c + 1; i < K; i++) {
            double f = G[i * K + c] / G[c * K + c];
            for (int j = c; j < K; j++)
                G[i * K + j] -= f * G[c * K + j];
            r[i] -= f * r[c];
        }
    }
    for (int c = K - 1; c >= 0; c--) {
        for (int j = c + 1; j < K; j++)
            r[c] -= G[c * K + j] * r[j];
        r[c] /= G[c * K + c];
    }
}

#endif
