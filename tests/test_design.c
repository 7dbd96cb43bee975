/* test_design.c -- the aliasing design against brute force.
 *
 * The aliasing identity (ALGORITHMS.md section 3) is checked with no use of
 * the design's own bin or parity helpers: F is the brute-force WHT of f over
 * all 2^n masks, M_c k is computed bit by bit from the masks spex produces,
 * and U_{c,p}(j) is the definition (2^-b sum_l u(l) (-1)^(j.l)).
 */
#include <string.h>

#include "spex/design.h"
#include "spex/mask.h"
#include "spex/oracle.h"
#include "spex/rng.h"
#include "spex/wht.h"
#include "testutil.h"

/* A dense-ish random function of n <= 12 features: 25 random terms. */
static spex_oracle *make_oracle(int n, uint64_t seed)
{
    spex_spectrum s;
    spex_error err;
    spex_error_clear(&err);
    spex_spectrum_generate(n, 25, 4, 0.5, 2.0, seed, &s, &err);
    spex_oracle *o = NULL;
    spex_oracle_sparse_create(n, &s, SPEX_BASIS_FOURIER, 0, 0, 0, &o, &err);
    spex_spectrum_free(&s);
    return o;
}

static double eval1(spex_oracle *o, const uint64_t *m)
{
    double v;
    spex_error err;
    spex_error_clear(&err);
    spex_oracle_eval(o, 1, m, 0, &v, &err);
    return v;
}

static void check_aliasing(int n, int b, int C, int t, spex_delays_kind dk)
{
    spex_error err;
    spex_error_clear(&err);
    spex_oracle *o = make_oracle(n, 11 + (uint64_t)n);
    spex_design *d = NULL;
    CU_ASSERT_FATAL(spex_design_create(n, b, C, t, dk, 5, &d, &err) == SPEX_OK);
    size_t N = (size_t)1 << n, B = (size_t)1 << b, words = d->words;

    /* Brute-force spectrum of f over all 2^n masks. */
    double *F = malloc(N * sizeof *F);
    uint64_t m[1];
    for (size_t x = 0; x < N; x++) {
        m[0] = x;
        F[x] = eval1(o, m);
    }
    spex_wht_execute(F, n);
    for (size_t k = 0; k < N; k++)
        F[k] /= (double)N;

    uint64_t *masks = malloc(B * words * sizeof *masks);
    double *u = malloc(B * sizeof *u);
    double worst = 0;
    for (int c = 0; c < C; c++) {
        /* Column i of M_c: bit j of (mask of l = e_j, p = 0) at feature i. */
        uint64_t col[64] = {0};
        spex_design_masks(d, c, 0, 0, B, masks);
        for (int j = 0; j < b; j++)
            for (int i = 0; i < n; i++)
                col[i] |= (uint64_t)spex_mask_get(masks + ((size_t)1 << j) * words, i) << j;
        for (int p = 0; p <= d->P; p++) {
            spex_design_masks(d, c, p, 0, B, masks);
            uint64_t dp = masks[0]; /* l = 0: the delay itself */
            for (size_t l = 0; l < B; l++)
                u[l] = eval1(o, masks + l * words);
            for (size_t j = 0; j < B; j++) {
                double U = 0;
                for (size_t l = 0; l < B; l++)
                    U += (__builtin_popcountll(j & l) & 1) ? -u[l] : u[l];
                U /= (double)B;
                double expect = 0;
                for (size_t k = 0; k < N; k++) {
                    uint64_t mk = 0;
                    for (int i = 0; i < n; i++)
                        if ((k >> i) & 1)
                            mk ^= col[i];
                    if (mk == j)
                        expect += (__builtin_popcountll(dp & k) & 1) ? -F[k] : F[k];
                }
                worst = fmax(worst, fabs(U - expect));
            }
        }
    }
    CU_ASSERT(worst < 1e-10);
    free(F);
    free(masks);
    free(u);
    spex_design_destroy(d);
    spex_oracle_destroy(o);
}

static void test_aliasing_identity_n10_bch(void) { check_aliasing(10, 4, 2, 3, SPEX_DELAYS_BCH); }
static void test_aliasing_identity_n12_bch(void) { check_aliasing(12, 5, 3, 2, SPEX_DELAYS_BCH); }
static void test_aliasing_identity_n8_identity(void)
{
    check_aliasing(8, 3, 2, 4, SPEX_DELAYS_IDENTITY);
}

static void test_masks_any_start_match_from_zero(void)
{
    spex_error err;
    spex_error_clear(&err);
    spex_design *d = NULL;
    int n = 300, b = 7;
    CU_ASSERT_FATAL(spex_design_create(n, b, 3, 4, SPEX_DELAYS_BCH, 9, &d, &err) == SPEX_OK);
    size_t B = (size_t)1 << b, w = d->words;
    uint64_t *all = malloc(B * w * sizeof *all), *one = malloc(w * sizeof *one);
    int ok = 1;
    for (int p = 0; p <= d->P; p += 5) {
        spex_design_masks(d, 2, p, 0, B, all);
        for (size_t l = 0; l < B; l += 3) {
            spex_design_masks(d, 2, p, l, 1, one);
            ok &= memcmp(one, all + l * w, w * sizeof *one) == 0;
            /* no bits past n */
            ok &= (one[w - 1] >> (n % 64)) == 0;
        }
    }
    CU_ASSERT(ok);
    free(all);
    free(one);
    spex_design_destroy(d);
}

static void test_bin_and_parity_match_masks(void)
{
    /* M_c k from spex_design_bin equals the bits read off the masks, and
     * d_p . k equals the parity of the l = 0 mask over k. */
    spex_error err;
    spex_error_clear(&err);
    spex_design *d = NULL;
    int n = 1000, b = 6;
    CU_ASSERT_FATAL(spex_design_create(n, b, 2, 3, SPEX_DELAYS_BCH, 3, &d, &err) == SPEX_OK);
    size_t B = (size_t)1 << b, w = d->words;
    uint64_t *masks = malloc(B * w * sizeof *masks);
    int ok = 1;
    for (int trial = 0; trial < 50; trial++) {
        int32_t k[3] = {(int32_t)(spex_rng_u64(1, 1, (uint64_t)trial) % 300),
                        (int32_t)(300 + spex_rng_u64(1, 2, (uint64_t)trial) % 300),
                        (int32_t)(600 + spex_rng_u64(1, 3, (uint64_t)trial) % 400)};
        int c = trial % 2;
        spex_design_masks(d, c, 0, 0, B, masks);
        uint64_t j = 0;
        for (int r = 0; r < b; r++)
            j |= (uint64_t)spex_mask_parity(masks + ((size_t)1 << r) * w, k, 3) << r;
        ok &= spex_design_bin(d, c, k, 3) == j;
        for (int p = 0; p <= d->P; p++) {
            spex_design_masks(d, c, p, 0, 1, masks);
            ok &= spex_design_delay_parity(d, p, k, 3) == spex_mask_parity(masks, k, 3);
        }
    }
    CU_ASSERT(ok);
    free(masks);
    spex_design_destroy(d);
}

static void test_query_count_formula(void)
{
    spex_error err;
    spex_error_clear(&err);
    spex_design *d = NULL;
    /* n = 16384 -> m = 15; t = 5 -> P = 75; 3 x 76 x 2^8 = 58,368. */
    CU_ASSERT_FATAL(spex_design_create(16384, 8, 3, 5, SPEX_DELAYS_BCH, 1, &d, &err) == SPEX_OK);
    CU_ASSERT_EQUAL(d->P, 75);
    CU_ASSERT_EQUAL(spex_design_queries(d), 58368);
    spex_design_destroy(d);
    /* n = 10,000 -> m = 14; t = 5, b = 10: 3 x 71 x 1024 = 218,112. */
    CU_ASSERT_FATAL(spex_design_create(10000, 10, 3, 5, SPEX_DELAYS_BCH, 1, &d, &err) == SPEX_OK);
    CU_ASSERT_EQUAL(spex_design_queries(d), 218112);
    spex_design_destroy(d);
    CU_ASSERT_EQUAL(spex_design_delay_count(1000, 4, SPEX_DELAYS_BCH), 41);
    CU_ASSERT_EQUAL(spex_design_delay_count(20, 4, SPEX_DELAYS_IDENTITY), 21);
}

static void test_choose_b(void)
{
    CU_ASSERT_EQUAL(spex_design_choose_b(10000, 4, 3, SPEX_DELAYS_BCH, 0, 100), 8);
    CU_ASSERT_EQUAL(spex_design_choose_b(10000, 4, 3, SPEX_DELAYS_BCH, 0, 1000), 11);
    /* budget: 3 x 57 signals; 3*57*2^8 = 43,776 <= 50,000 < 87,552 */
    CU_ASSERT_EQUAL(spex_design_choose_b(10000, 4, 3, SPEX_DELAYS_BCH, 50000, 100), 8);
    CU_ASSERT_EQUAL(spex_design_choose_b(10000, 4, 3, SPEX_DELAYS_BCH, 100, 100), 0);
}

static void test_same_seed_same_design_other_seed_differs(void)
{
    spex_error err;
    spex_error_clear(&err);
    spex_design *a = NULL, *b = NULL, *c = NULL;
    spex_design_create(500, 6, 3, 3, SPEX_DELAYS_BCH, 42, &a, &err);
    spex_design_create(500, 6, 3, 3, SPEX_DELAYS_BCH, 42, &b, &err);
    spex_design_create(500, 6, 3, 3, SPEX_DELAYS_BCH, 43, &c, &err);
    size_t sz = 3 * 6 * a->words * sizeof(uint64_t);
    CU_ASSERT(memcmp(a->M, b->M, sz) == 0);
    CU_ASSERT(memcmp(a->M, c->M, sz) != 0);
    spex_design_destroy(a);
    spex_design_destroy(b);
    spex_design_destroy(c);
}

static void test_design_rejects_bad_parameters(void)
{
    spex_error err;
    spex_error_clear(&err);
    spex_design *d = NULL;
    CU_ASSERT_EQUAL(spex_design_create(100, 0, 3, 3, SPEX_DELAYS_BCH, 1, &d, &err), SPEX_EUSAGE);
    CU_ASSERT(strstr(err.msg, "b = 0") != NULL);
    CU_ASSERT_PTR_NULL(d);
}

/* Rank over GF(2) of b rows of one word, by elimination. */
static int gf2_rank(uint64_t *rows, int b)
{
    int rank = 0;
    for (int bit = 0; bit < 64 && rank < b; bit++) {
        int piv = -1;
        for (int r = rank; r < b; r++)
            if ((rows[r] >> bit) & 1)
                piv = r;
        if (piv < 0)
            continue;
        uint64_t t = rows[piv];
        rows[piv] = rows[rank];
        rows[rank] = t;
        for (int r = 0; r < b; r++)
            if (r != rank && ((rows[r] >> bit) & 1))
                rows[r] ^= rows[rank];
        rank++;
    }
    return rank;
}

static void test_subsampling_matrices_have_full_rank_even_when_b_equals_n(void)
{
    spex_error err;
    spex_error_clear(&err);
    for (uint64_t seed = 1; seed <= 40; seed++) {
        spex_design *d = NULL;
        CU_ASSERT_FATAL(spex_design_create(6, 6, 4, 2, SPEX_DELAYS_BCH, seed, &d, &err) == SPEX_OK);
        for (int c = 0; c < 4; c++) {
            uint64_t rows[6];
            memcpy(rows, d->M + (size_t)c * 6, sizeof rows);
            CU_ASSERT_EQUAL(gf2_rank(rows, 6), 6);
        }
        spex_design_destroy(d);
    }
}

static const test_case TESTS[] = {
    {"subsampling_matrices_have_full_rank_even_when_b_equals_n",
     test_subsampling_matrices_have_full_rank_even_when_b_equals_n},
    {"aliasing_identity_n10_bch", test_aliasing_identity_n10_bch},
    {"aliasing_identity_n12_bch", test_aliasing_identity_n12_bch},
    {"aliasing_identity_n8_identity", test_aliasing_identity_n8_identity},
    {"masks_any_start_match_from_zero", test_masks_any_start_match_from_zero},
    {"bin_and_parity_match_masks", test_bin_and_parity_match_masks},
    {"query_count_formula", test_query_count_formula},
    {"choose_b", test_choose_b},
    {"same_seed_same_design_other_seed_differs", test_same_seed_same_design_other_seed_differs},
    {"design_rejects_bad_parameters", test_design_rejects_bad_parameters},
    {NULL, NULL}};

SPEX_TEST_MAIN("design")
