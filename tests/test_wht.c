/* test_wht.c -- the WHT kernel against independent references: the
 * O(4^b) definition sum_l (-1)^(j.l) x_l, and the textbook radix-2 loop
 * (bit-for-bit, which the distributed transform relies on).
 *
 * Built three times: tests/test_wht against the library's kernel (on this
 * machine its AVX2 instance, blocks tuned for the machine; sizes up to 2^24
 * reach a phase-3 scratch strip), and tests/test_wht_selftest and
 * tests/test_wht_plain with src/wht.c compiled in with SPEX_WHT_SELFTEST
 * (tiny blocks and the baseline 2-lane instance; plain-C vectors for the
 * second), so that the same sizes run through every branch of the blocked
 * schedule: several phase-3 rounds, scratch strips of 1, 2 and 3 levels after
 * the first pass, and in-place strips. */
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

static void test_wht_bitwise_equal_to_textbook_loop_b0_to_24(void)
{
    for (int b = 0; b <= 24; b++) {
        size_t n = (size_t)1 << b;
        double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
        fill(x, n, 1000 + (uint64_t)b);
        memcpy(y, x, n * sizeof *x);
        spex_wht_execute(x, b);
        textbook(y, b);
        int same = memcmp(x, y, n * sizeof *x) == 0;
        if (!same)
            fprintf(stderr, "b = %d: spex_wht_execute differs from the textbook loop\n", b);
        CU_ASSERT(same);
        free(x);
        free(y);
    }
}

/* The API takes any double *: a signal that starts one double past a 64-byte
 * boundary (so no vector load or store is aligned), with guard values on both
 * sides that must come out untouched. */
static void test_wht_unaligned_signal_and_guards(void)
{
    static const int bs[] = {3, 6, 7, 12, 18, 21};
    const size_t guard = 16;
    for (size_t t = 0; t < sizeof bs / sizeof *bs; t++) {
        int b = bs[t];
        size_t n = (size_t)1 << b;
        double *buf = aligned_alloc(64, (n + 2 * guard) * sizeof *buf);
        double *y = malloc(n * sizeof *y);
        double *x = buf + guard + 1;
        for (size_t i = 0; i < n + 2 * guard; i++)
            buf[i] = -12345.0 - (double)i;
        fill(x, n, 77 + (uint64_t)b);
        memcpy(y, x, n * sizeof *x);
        spex_wht_execute(x, b);
        textbook(y, b);
        CU_ASSERT(memcmp(x, y, n * sizeof *x) == 0);
        int guards_ok = 1;
        for (size_t i = 0; i < guard + 1; i++)
            guards_ok &= buf[i] == -12345.0 - (double)i;
        for (size_t i = guard + 1 + n; i < n + 2 * guard; i++)
            guards_ok &= buf[i] == -12345.0 - (double)i;
        CU_ASSERT(guards_ok);
        free(buf);
        free(y);
    }
}

/* Signed zeros and infinities go through the butterflies as in the textbook
 * loop (an exact a + c and a - c, no fused or reassociated arithmetic). */
static void test_wht_special_values_bitwise(void)
{
    int b = 19;
    size_t n = (size_t)1 << b;
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    for (size_t i = 0; i < n; i++) {
        uint64_t r = spex_rng_u64(5, 6, i);
        x[i] = (r & 3) == 0 ? 0.0 : (r & 3) == 1 ? -0.0 : (double)(int64_t)(r >> 40) * 0x1p-10;
    }
    x[12345] = INFINITY;
    memcpy(y, x, n * sizeof *x);
    spex_wht_execute(x, b);
    textbook(y, b);
    CU_ASSERT(memcmp(x, y, n * sizeof *x) == 0);
    free(x);
    free(y);
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
    {"wht_bitwise_equal_to_textbook_loop_b0_to_24", test_wht_bitwise_equal_to_textbook_loop_b0_to_24},
    {"wht_unaligned_signal_and_guards", test_wht_unaligned_signal_and_guards},
    {"wht_special_values_bitwise", test_wht_special_values_bitwise},
    {"wht_twice_is_n_times_identity", test_wht_twice_is_n_times_identity},
    {"wht_delta_gives_characters", test_wht_delta_gives_characters},
    {NULL, NULL}};

SPEX_TEST_MAIN("wht")
