/* test_wht.c -- the WHT kernel against independent references: the
 * O(4^b) definition sum_l (-1)^(j.l) x_l, and the textbook radix-2 loop
 * (bit-for-bit, which the distributed transform relies on). */
#include <string.h>

#include "spex/rng.h"
#include "spex/wht.h"
#include "testutil.h"

static void fill(double *x, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++)
        x[i] = 2.0 * spex_rng_uniform(seed, 99, i) - 1.0;
}

/* The plain loop: levels ascending, butterflies (a, c) -> (a + c, a - c). */
static void textbook(double *x, int b)
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

static void test_wht_matches_definition_b0_to_10(void)
{
    for (int b = 0; b <= 10; b++) {
        size_t n = (size_t)1 << b;
        double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
        fill(x, n, (uint64_t)b);
        spex_wht_brute(x, y, b);
        spex_wht_execute(x, b);
        double worst = 0;
        for (size_t i = 0; i < n; i++)
            worst = fmax(worst, fabs(x[i] - y[i]));
        CU_ASSERT(worst <= 1e-12 * (double)n);
        free(x);
        free(y);
    }
}

static void test_wht_bitwise_equal_to_textbook_loop_up_to_b20(void)
{
    for (int b = 1; b <= 20; b++) {
        size_t n = (size_t)1 << b;
        double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
        fill(x, n, 1000 + (uint64_t)b);
        memcpy(y, x, n * sizeof *x);
        spex_wht_execute(x, b);
        textbook(y, b);
        CU_ASSERT(memcmp(x, y, n * sizeof *x) == 0);
        free(x);
        free(y);
    }
}

static void test_wht_twice_is_n_times_identity(void)
{
    int b = 13;
    size_t n = (size_t)1 << b;
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    fill(x, n, 7);
    memcpy(y, x, n * sizeof *x);
    spex_wht_execute(x, b);
    spex_wht_execute(x, b);
    double worst = 0;
    for (size_t i = 0; i < n; i++)
        worst = fmax(worst, fabs(x[i] / (double)n - y[i]));
    CU_ASSERT(worst < 1e-12);
    free(x);
    free(y);
}

static void test_wht_delta_gives_characters(void)
{
    /* H e_l = ((-1)^(j.l))_j: a single spike becomes one character. */
    int b = 9;
    size_t n = (size_t)1 << b, l = 0x15b;
    double *x = calloc(n, sizeof *x);
    x[l] = 1.0;
    spex_wht_execute(x, b);
    int ok = 1;
    for (size_t j = 0; j < n; j++)
        ok &= x[j] == ((__builtin_popcountll(j & l) & 1) ? -1.0 : 1.0);
    CU_ASSERT(ok);
    free(x);
}

static const test_case TESTS[] = {
    {"wht_matches_definition_b0_to_10", test_wht_matches_definition_b0_to_10},
    {"wht_bitwise_equal_to_textbook_loop_up_to_b20", test_wht_bitwise_equal_to_textbook_loop_up_to_b20},
    {"wht_twice_is_n_times_identity", test_wht_twice_is_n_times_identity},
    {"wht_delta_gives_characters", test_wht_delta_gives_characters},
    {NULL, NULL}};

SPEX_TEST_MAIN("wht")
