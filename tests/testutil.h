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

#endif
