/* test_bch.c -- BCH delays and decoding against independent computations.
 *
 * Ground truth here never uses the module's tables: field powers come from
 * shift-and-reduce multiplication with the standard primitive polynomials
 * (listed again below), encodings from XORs of single delay bits, and small
 * codes are checked exhaustively against a brute-force syndrome table of all
 * sets of at most t positions.
 */
#include "spex/bch.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define MAX_M 21
#define MAX_N ((1 << MAX_M) - 1)
#define MAX_T 64
#define MAX_ROWS (MAX_M * MAX_T)
#define SENTINEL ((int32_t)0x5a5a5a5a)

/* Lin & Costello's primitive polynomials; the delays are defined by them. */
static const uint32_t REF_POLY[MAX_M + 1] = {
    [2] = 0x7,       [3] = 0xB,       [4] = 0x13,      [5] = 0x25,      [6] = 0x43,
    [7] = 0x89,      [8] = 0x11D,     [9] = 0x211,     [10] = 0x409,    [11] = 0x805,
    [12] = 0x1053,   [13] = 0x201B,   [14] = 0x4443,   [15] = 0x8003,   [16] = 0x1100B,
    [17] = 0x20009,  [18] = 0x40081,  [19] = 0x80027,  [20] = 0x100009, [21] = 0x200005,
};

/* ---- helpers --------------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
    /* splitmix64 */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int rng_below(uint64_t *s, int bound)
{
    return (int)(rng_next(s) % (uint64_t)bound);
}

/* a * x mod poly */
static uint32_t ref_times_x(uint32_t a, int m)
{
    a <<= 1;
    if (a >> m)
        a ^= REF_POLY[m];
    return a;
}

/* a * b in GF(2^m) by shift-and-add. */
static uint32_t ref_mul(uint32_t a, uint32_t b, int m)
{
    uint32_t r = 0;
    for (; b; b >>= 1) {
        if (b & 1)
            r ^= a;
        a = ref_times_x(a, m);
    }
    return r;
}

static uint32_t ref_pow(uint32_t a, uint64_t e, int m)
{
    uint32_t r = 1;
    for (; e; e >>= 1) {
        if (e & 1)
            r = ref_mul(r, a, m);
        a = ref_mul(a, a, m);
    }
    return r;
}

static spex_bch *make_code(int n, int t)
{
    spex_bch *code = NULL;
    spex_error err;
    spex_error_clear(&err);
    spex_status st = spex_bch_create(n, t, &code, &err);
    CU_ASSERT_EQUAL_FATAL(st, SPEX_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(code);
    return code;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* count distinct random positions below n, sorted. */
static void random_set(uint64_t *s, int n, int count, int32_t *set)
{
    for (int k = 0; k < count; k++) {
        int fresh;
        do {
            set[k] = rng_below(s, n);
            fresh = 1;
            for (int l = 0; l < k; l++)
                fresh &= set[l] != set[k];
        } while (!fresh);
    }
    qsort(set, (size_t)count, sizeof *set, cmp_i32);
}

/* y[p] = XOR over the set of delay_bit(p, i). */
static void ref_encode(const spex_bch *code, const int32_t *set, int count, uint8_t *y)
{
    int P = spex_bch_rows(code);
    for (int p = 0; p < P; p++) {
        int bit = 0;
        for (int k = 0; k < count; k++)
            bit ^= spex_bch_delay_bit(code, p, set[k]);
        y[p] = (uint8_t)bit;
    }
}

/* Decodes into a buffer guarded past t; returns the result and asserts the
 * guard is intact and the output ascending. */
static int guarded_decode(const spex_bch *code, const uint8_t *y, int t, int32_t *out)
{
    int32_t buf[MAX_T + 4];
    for (int k = 0; k < t + 4; k++)
        buf[k] = SENTINEL;
    int r = spex_bch_decode(code, y, buf);
    for (int k = t; k < t + 4; k++)
        CU_ASSERT_EQUAL(buf[k], SENTINEL);
    for (int k = 1; k < r; k++)
        CU_ASSERT(buf[k - 1] < buf[k]);
    if (r > 0)
        memcpy(out, buf, (size_t)r * sizeof *out);
    return r;
}

/* ---- field and delays ------------------------------------------------------ */

static void test_primitive_polys_have_order_2m_minus_1_for_m2_to_m21(void)
{
    for (int m = 2; m <= MAX_M; m++) {
        uint32_t N = ((uint32_t)1 << m) - 1, x = 1, early = 0;
        for (uint32_t k = 1; k < N; k++) {
            x = ref_times_x(x, m);
            early += x == 1;
        }
        CU_ASSERT_EQUAL(early, 0);
        CU_ASSERT_EQUAL(ref_times_x(x, m), 1);
    }
}

/* The code for each m uses exactly these polynomials: its rows j = 1 hold
 * alpha^i for every position i. */
static void test_code_alpha_powers_match_reference_m2_to_m21(void)
{
    for (int m = 2; m <= MAX_M; m++) {
        int n = 1 << (m - 1);
        spex_bch *code = make_code(n, 1);
        CU_ASSERT_EQUAL(spex_bch_m(code), m);
        size_t words = ((size_t)n + 63) / 64;
        uint64_t *rows = calloc((size_t)m * words, sizeof *rows);
        CU_ASSERT_PTR_NOT_NULL_FATAL(rows);
        for (int r = 0; r < m; r++)
            spex_bch_delay_row(code, r, rows + (size_t)r * words, words);
        int bad = 0;
        uint32_t x = 1;
        for (int i = 0; i < n; i++, x = ref_times_x(x, m)) {
            uint32_t v = 0;
            for (int r = 0; r < m; r++)
                v |= (uint32_t)((rows[(size_t)r * words + i / 64] >> (i % 64)) & 1) << r;
            bad += v != x;
        }
        CU_ASSERT_EQUAL(bad, 0);
        free(rows);
        spex_bch_destroy(code);
    }
}

static void test_m_is_smallest_with_room_for_n_and_2t_plus_1(void)
{
    static const int cases[][3] = {
        /* n, t, m */
        {1, 1, 2},   {3, 1, 2},     {4, 1, 3},     {7, 3, 3},      {7, 4, 4},
        {1, 8, 5},   {64, 2, 7},    {127, 5, 7},   {128, 5, 8},    {10000, 5, 14},
        {50000, 5, 16}, {65535, 1, 16}, {65536, 1, 17}, {1, 64, 8},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        spex_bch *code = make_code(cases[k][0], cases[k][1]);
        CU_ASSERT_EQUAL(spex_bch_m(code), cases[k][2]);
        CU_ASSERT_EQUAL(spex_bch_rows(code), cases[k][2] * cases[k][1]);
        spex_bch_destroy(code);
    }
}

static void test_delay_row_matches_delay_bit_and_zero_pads(void)
{
    static const int cases[][2] = {{1, 1}, {5, 2}, {63, 3}, {64, 3}, {65, 1},
                                   {1000, 5}, {4097, 8}, {50000, 5}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int n = cases[k][0];
        spex_bch *code = make_code(n, cases[k][1]);
        size_t need = ((size_t)n + 63) / 64, words = need + 2;
        uint64_t *row = malloc(words * sizeof *row);
        CU_ASSERT_PTR_NOT_NULL_FATAL(row);
        int bad = 0;
        for (int p = 0; p < spex_bch_rows(code); p++) {
            memset(row, 0xa5, words * sizeof *row);
            spex_bch_delay_row(code, p, row, words);
            for (int i = 0; i < n; i++)
                bad += (int)((row[i / 64] >> (i % 64)) & 1) != spex_bch_delay_bit(code, p, i);
            for (size_t i = (size_t)n; i < 64 * words; i++)
                bad += (int)((row[i / 64] >> (i % 64)) & 1);
        }
        CU_ASSERT_EQUAL(bad, 0);
        free(row);
        spex_bch_destroy(code);
    }
}

/* Row p = h*m + r at position i is bit r of alpha^((2h+1) i), alpha^e
 * computed by repeated multiplication; a single position encodes to it. */
static void test_row_p_is_bit_r_of_alpha_to_the_j_i(void)
{
    static const int cases[][2] = {{5, 5}, {100, 3}, {1000, 8}, {50000, 5}};
    uint8_t y[MAX_ROWS];
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int n = cases[k][0], t = cases[k][1];
        spex_bch *code = make_code(n, t);
        int m = spex_bch_m(code), bad = 0, bad_y = 0;
        uint32_t x = 1; /* alpha^i by repeated multiplication */
        for (int i = 0; i < n; i++, x = ref_times_x(x, m)) {
            if (n > 1000 && i % 97 != 0 && i < n - 3)
                continue;
            int32_t pos = i;
            spex_bch_encode(code, &pos, 1, y);
            for (int h = 0; h < t; h++) {
                uint32_t xj = ref_pow(x, (uint64_t)(2 * h + 1), m);
                for (int r = 0; r < m; r++) {
                    int bit = (int)((xj >> r) & 1);
                    bad += spex_bch_delay_bit(code, h * m + r, i) != bit;
                    bad_y += y[h * m + r] != bit;
                }
            }
        }
        CU_ASSERT_EQUAL(bad, 0);
        CU_ASSERT_EQUAL(bad_y, 0);
        spex_bch_destroy(code);
    }
}

static void test_encode_equals_xor_of_delay_bits(void)
{
    static const int cases[][2] = {{5, 2}, {64, 3}, {1000, 5}, {50000, 5}, {777, 8}};
    uint64_t s = 11;
    uint8_t y[MAX_ROWS], want[MAX_ROWS];
    int32_t set[MAX_T + 3];
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int n = cases[k][0], t = cases[k][1], bad = 0;
        spex_bch *code = make_code(n, t);
        int P = spex_bch_rows(code);
        for (int trial = 0; trial < 100; trial++) {
            int count = rng_below(&s, (t + 3 < n ? t + 3 : n) + 1);
            random_set(&s, n, count, set);
            spex_bch_encode(code, set, count, y);
            ref_encode(code, set, count, want);
            bad += memcmp(y, want, (size_t)P) != 0;
        }
        CU_ASSERT_EQUAL(bad, 0);
        spex_bch_destroy(code);
    }
}

/* ---- decoding -------------------------------------------------------------- */

static void test_decode_zero_word_is_the_empty_set(void)
{
    spex_bch *code = make_code(1000, 5);
    uint8_t y[MAX_ROWS] = {0};
    int32_t out[MAX_T];
    CU_ASSERT_EQUAL(guarded_decode(code, y, 5, out), 0);
    spex_bch_destroy(code);
}

static void round_trip(int n, int t, int trials, uint64_t seed)
{
    spex_bch *code = make_code(n, t);
    uint64_t s = seed;
    uint8_t y[MAX_ROWS];
    int32_t set[MAX_T], out[MAX_T];
    int bad = 0;
    for (int trial = 0; trial < trials; trial++) {
        int count = rng_below(&s, (t < n ? t : n) + 1);
        random_set(&s, n, count, set);
        spex_bch_encode(code, set, count, y);
        int r = guarded_decode(code, y, t, out);
        bad += r != count || (r > 0 && memcmp(out, set, (size_t)r * sizeof *out) != 0);
    }
    CU_ASSERT_EQUAL(bad, 0);
    spex_bch_destroy(code);
}

static void test_round_trip_random_sets_up_to_t(void)
{
    static const int ns[] = {5, 64, 1000, 50000};
    static const int ts[] = {1, 2, 3, 5};
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 4; b++)
            round_trip(ns[a], ts[b], 400, (uint64_t)(100 * a + b + 1));
    round_trip(1000, 8, 400, 77);
    round_trip(50000, 16, 200, 78);
    round_trip(MAX_N, 5, 100, 79);
}

/* Every y of a small code: decode returns the unique set of <= t positions
 * encoding to y (found by enumerating all such sets), and -1 when none does. */
static void exhaustive(int n, int t)
{
    spex_bch *code = make_code(n, t);
    int P = spex_bch_rows(code);
    CU_ASSERT_FATAL(P <= 20);
    size_t words = (size_t)1 << P;
    /* owner[y] = index of the set encoding to y, or -1 */
    int *owner = malloc(words * sizeof *owner);
    int32_t(*sets)[MAX_T] = malloc(sizeof(int32_t[MAX_T]) * 70000);
    int *sizes = malloc(70000 * sizeof *sizes);
    CU_ASSERT_FATAL(owner && sets && sizes);
    for (size_t w = 0; w < words; w++)
        owner[w] = -1;
    int nsets = 0, collisions = 0;
    uint8_t y[MAX_ROWS];
    for (int size = 0; size <= t && size <= n; size++) {
        int32_t c[MAX_T];
        for (int k = 0; k < size; k++)
            c[k] = k;
        for (;;) {
            CU_ASSERT_FATAL(nsets < 70000);
            memcpy(sets[nsets], c, (size_t)size * sizeof *c);
            sizes[nsets] = size;
            ref_encode(code, c, size, y);
            uint32_t w = 0;
            for (int p = 0; p < P; p++)
                w |= (uint32_t)y[p] << p;
            collisions += owner[w] != -1;
            owner[w] = nsets++;
            /* next combination of size positions below n */
            int k = size - 1;
            while (k >= 0 && c[k] == n - size + k)
                k--;
            if (k < 0)
                break;
            c[k]++;
            for (int l = k + 1; l < size; l++)
                c[l] = c[l - 1] + 1;
        }
    }
    CU_ASSERT_EQUAL(collisions, 0);
    int bad = 0;
    int32_t out[MAX_T];
    for (size_t w = 0; w < words; w++) {
        for (int p = 0; p < P; p++)
            y[p] = (uint8_t)((w >> p) & 1);
        int r = guarded_decode(code, y, t, out);
        int o = owner[w];
        if (o < 0)
            bad += r != -1;
        else
            bad += r != sizes[o] ||
                   (r > 0 && memcmp(out, sets[o], (size_t)r * sizeof *out) != 0);
    }
    CU_ASSERT_EQUAL(bad, 0);
    free(owner);
    free(sets);
    free(sizes);
    spex_bch_destroy(code);
}

static void test_decode_exhaustive_small_codes_match_brute_force(void)
{
    static const int cases[][2] = {{1, 1}, {3, 1}, {6, 3},  {7, 1},  {4, 4},
                                   {13, 2}, {15, 3}, {20, 3}, {31, 3}, {63, 2}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        exhaustive(cases[k][0], cases[k][1]);
}

/* Decoding y of a set larger than t (or random bits) either fails or gives a
 * set of <= t positions that really encodes to y. */
static void check_fail_or_consistent(const spex_bch *code, int t, const uint8_t *y, int *bad,
                                     int *failed)
{
    uint8_t again[MAX_ROWS];
    int32_t out[MAX_T];
    int P = spex_bch_rows(code);
    int r = guarded_decode(code, y, t, out);
    if (r < 0) {
        *bad += r != -1;
        (*failed)++;
        return;
    }
    spex_bch_encode(code, out, r, again);
    *bad += r > t || memcmp(again, y, (size_t)P) != 0;
}

/* The share of all 2^P words that are encodings of <= t positions.  When it
 * is small, words that are not encodings must mostly be rejected. */
static double decodable_fraction(const spex_bch *code, int n, int t)
{
    double sets = 0, binom = 1;
    for (int s = 0; s <= t && s <= n; s++) {
        sets += binom;
        binom = binom * (n - s) / (s + 1);
    }
    return sets / pow(2.0, spex_bch_rows(code));
}

static void test_decode_sets_beyond_t_fail_or_are_consistent(void)
{
    static const int ns[] = {5, 64, 1000, 50000};
    static const int ts[] = {1, 2, 3, 5};
    uint64_t s = 4242;
    uint8_t y[MAX_ROWS];
    int32_t set[MAX_T + 3];
    for (int a = 0; a < 4; a++) {
        for (int b = 0; b < 4; b++) {
            int n = ns[a], t = ts[b], bad = 0, failed = 0, tried = 0;
            spex_bch *code = make_code(n, t);
            for (int trial = 0; trial < 300; trial++) {
                int count = t + 1 + rng_below(&s, 3);
                if (count > n)
                    continue;
                random_set(&s, n, count, set);
                spex_bch_encode(code, set, count, y);
                check_fail_or_consistent(code, t, y, &bad, &failed);
                tried++;
            }
            CU_ASSERT_EQUAL(bad, 0);
            if (tried > 0 && decodable_fraction(code, n, t) < 0.01)
                CU_ASSERT(failed > tried * 9 / 10);
            spex_bch_destroy(code);
        }
    }
}

static void test_decode_random_words_fail_or_are_consistent(void)
{
    static const int cases[][2] = {{5, 1}, {64, 2}, {1000, 3}, {50000, 5}, {1000, 8},
                                   {100, 16}};
    uint64_t s = 99;
    uint8_t y[MAX_ROWS];
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int n = cases[k][0], t = cases[k][1], bad = 0, failed = 0;
        spex_bch *code = make_code(n, t);
        int P = spex_bch_rows(code);
        for (int trial = 0; trial < 2000; trial++) {
            for (int p = 0; p < P; p++)
                y[p] = (uint8_t)(rng_next(&s) & 1);
            check_fail_or_consistent(code, t, y, &bad, &failed);
        }
        CU_ASSERT_EQUAL(bad, 0);
        if (decodable_fraction(code, n, t) < 0.01)
            CU_ASSERT(failed > 2000 * 9 / 10);
        spex_bch_destroy(code);
    }
}

/* ---- errors ---------------------------------------------------------------- */

static void expect_usage_error(int n, int t)
{
    spex_error err;
    /* A non-NULL marker: create must leave NULL behind on failure. */
    spex_bch *code = (spex_bch *)(void *)&err;
    spex_error_clear(&err);
    CU_ASSERT_EQUAL(spex_bch_create(n, t, &code, &err), SPEX_EUSAGE);
    CU_ASSERT_EQUAL(err.code, SPEX_EUSAGE);
    CU_ASSERT(strlen(err.msg) > 0);
    CU_ASSERT_PTR_NULL(code);
}

static void test_create_rejects_bad_n_and_t_with_usage_error(void)
{
    expect_usage_error(1000, 0);
    expect_usage_error(1000, -3);
    expect_usage_error(1000, MAX_T + 1);
    expect_usage_error(0, 5);
    expect_usage_error(-1, 5);
    expect_usage_error(MAX_N + 1, 5);
    expect_usage_error(1 << 24, 5);

    spex_error err;
    spex_error_clear(&err);
    spex_bch *code = NULL;
    spex_bch_create(MAX_N + 1, 1, &code, &err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "2097151"));
}

static void test_create_accepts_largest_n_and_t(void)
{
    spex_bch *code = make_code(MAX_N, 1);
    CU_ASSERT_EQUAL(spex_bch_m(code), MAX_M);
    spex_bch_destroy(code);
    code = make_code(10, MAX_T);
    CU_ASSERT_EQUAL(spex_bch_m(code), 8);
    spex_bch_destroy(code);
    round_trip(10, MAX_T, 50, 5);
    round_trip(300, MAX_T, 50, 6);
}

static void test_destroy_null_is_a_no_op(void)
{
    spex_bch_destroy(NULL);
    CU_PASS("destroy(NULL) returned");
}

static const test_case TESTS[] = {
    {"primitive_polys_have_order_2m_minus_1_for_m2_to_m21",
     test_primitive_polys_have_order_2m_minus_1_for_m2_to_m21},
    {"code_alpha_powers_match_reference_m2_to_m21",
     test_code_alpha_powers_match_reference_m2_to_m21},
    {"m_is_smallest_with_room_for_n_and_2t_plus_1",
     test_m_is_smallest_with_room_for_n_and_2t_plus_1},
    {"delay_row_matches_delay_bit_and_zero_pads", test_delay_row_matches_delay_bit_and_zero_pads},
    {"row_p_is_bit_r_of_alpha_to_the_j_i", test_row_p_is_bit_r_of_alpha_to_the_j_i},
    {"encode_equals_xor_of_delay_bits", test_encode_equals_xor_of_delay_bits},
    {"decode_zero_word_is_the_empty_set", test_decode_zero_word_is_the_empty_set},
    {"round_trip_random_sets_up_to_t", test_round_trip_random_sets_up_to_t},
    {"decode_exhaustive_small_codes_match_brute_force",
     test_decode_exhaustive_small_codes_match_brute_force},
    {"decode_sets_beyond_t_fail_or_are_consistent",
     test_decode_sets_beyond_t_fail_or_are_consistent},
    {"decode_random_words_fail_or_are_consistent",
     test_decode_random_words_fail_or_are_consistent},
    {"create_rejects_bad_n_and_t_with_usage_error",
     test_create_rejects_bad_n_and_t_with_usage_error},
    {"create_accepts_largest_n_and_t", test_create_accepts_largest_n_and_t},
    {"destroy_null_is_a_no_op", test_destroy_null_is_a_no_op},
    {NULL, NULL},
};

SPEX_TEST_MAIN("bch")
