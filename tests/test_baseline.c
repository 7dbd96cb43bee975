/* test_baseline.c -- the regression baselines (src/baseline.c) against
 * brute force on small n: every one of the 2^n masks as a row.
 *
 * On all 2^n masks the characters are orthogonal, so the unweighted fits
 * have exact known answers: Banzhaf's linear fit returns F(empty) and
 * F({i}) of any function, Faith-Banzhaf of order 2 its Fourier terms of
 * order <= 2 (ALGORITHMS.md sections 2 and 9), which converted to Mobius
 * must equal the FBII index of the true spectrum.  LIME's weighted fit is
 * checked against dense weighted normal equations solved by Gaussian
 * elimination, and the feature ranking against the known coefficients.
 */
#include <stdlib.h>
#include <string.h>

#include "spex/baseline.h"
#include "spex/convert.h"
#include "spex/mask.h"
#include "spex/proxy.h"
#include "testutil.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static double next_unit(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng_state >> 11) * 0x1.0p-53;
}

static void push_term(spex_spectrum *s, double coef, int order, const int *feat)
{
    spex_term t;
    spex_error err;
    memset(&t, 0, sizeof t);
    t.order = order;
    for (int q = 0; q < order; q++)
        t.feat[q] = feat[q];
    t.coef = coef;
    spex_error_clear(&err);
    CU_ASSERT_FATAL(spex_spectrum_push(s, &t, &err) == SPEX_OK);
}

/* A function of n features with terms of orders 0..3 (a fixed set). */
static void known_spectrum(int n, spex_spectrum *f)
{
    static const int T[][4] = {{0}, {1, 2}, {1, 5}, {2, 1, 4}, {2, 0, 6}, {2, 3, 5},
                               {3, 0, 2, 7}, {3, 1, 3, 6}, {1, 0}, {2, 2, 7}};
    spex_spectrum_init(f);
    for (size_t i = 0; i < sizeof T / sizeof T[0]; i++) {
        int feat[3];
        for (int q = 0; q < T[i][0]; q++)
            feat[q] = T[i][1 + q] % n;
        push_term(f, (i % 2 ? -1.0 : 1.0) * (0.5 + 0.25 * (double)i), T[i][0], feat);
    }
}

static double eval(const spex_spectrum *f, const uint64_t *mask)
{
    double v = 0;
    for (size_t k = 0; k < f->count; k++)
        v += spex_mask_parity(mask, f->terms[k].feat, f->terms[k].order) ? -f->terms[k].coef
                                                                           : f->terms[k].coef;
    return v;
}

/* All 2^n masks (n <= 16, one word each) and f on them. */
static void all_subsets(int n, const spex_spectrum *f, uint64_t **masks, double **y)
{
    size_t m = (size_t)1 << n;
    *masks = malloc(m * sizeof **masks);
    *y = malloc(m * sizeof **y);
    for (size_t x = 0; x < m; x++) {
        (*masks)[x] = x;
        (*y)[x] = eval(f, &(*masks)[x]);
    }
}

/* The coefficient of set (order, feat) in s, or 0 when absent. */
static double coef_of(const spex_spectrum *s, int order, int a, int b)
{
    for (size_t k = 0; k < s->count; k++) {
        const spex_term *t = &s->terms[k];
        if (t->order == order && (order < 1 || t->feat[0] == a) && (order < 2 || t->feat[1] == b))
            return t->coef;
    }
    return 0.0;
}

static spex_status fit(spex_method_name method, int n, int features, int pairs, size_t m,
                       const uint64_t *masks, const double *y, spex_spectrum *out,
                       spex_error *err)
{
    spex_baseline_params p = {method, n, features, pairs, 0.25, 0.0, m};
    spex_spectrum_init(out);
    spex_error_clear(err);
    return spex_baseline_fit(MPI_COMM_SELF, &p, 0, m, masks, y, out, err);
}

static void test_banzhaf_all_subsets_gives_first_order_fourier_n8(void)
{
    int n = 8;
    spex_spectrum f, got;
    spex_error err;
    uint64_t *masks;
    double *y;
    known_spectrum(n, &f);
    all_subsets(n, &f, &masks, &y);
    CU_ASSERT_FATAL(fit(SPEX_METHOD_BANZHAF, n, n, 0, (size_t)1 << n, masks, y, &got, &err) ==
                    SPEX_OK);
    CU_ASSERT_EQUAL(got.count, (size_t)n + 1);
    ASSERT_CLOSE(coef_of(&got, 0, 0, 0), coef_of(&f, 0, 0, 0), 1e-12);
    for (int i = 0; i < n; i++)
        ASSERT_CLOSE(coef_of(&got, 1, i, 0), coef_of(&f, 1, i, 0), 1e-12);
    spex_spectrum_free(&f);
    spex_spectrum_free(&got);
    free(masks);
    free(y);
}

/* Faith-Banzhaf of order 2 = the Fourier terms of order <= 2; in the
 * Mobius basis it is the FBII index of order 2 of the true function. */
static void test_faith_banzhaf_all_subsets_matches_fbii_n8(void)
{
    int n = 8;
    spex_spectrum f, got, fm, gm, fbii;
    spex_error err;
    uint64_t *masks;
    double *y;
    known_spectrum(n, &f);
    all_subsets(n, &f, &masks, &y);
    CU_ASSERT_FATAL(fit(SPEX_METHOD_FAITH_BANZHAF, n, n, n, (size_t)1 << n, masks, y, &got,
                        &err) == SPEX_OK);
    CU_ASSERT_EQUAL(got.count, (size_t)(1 + n + n * (n - 1) / 2));
    for (int i = 0; i < n; i++) {
        ASSERT_CLOSE(coef_of(&got, 1, i, 0), coef_of(&f, 1, i, 0), 1e-12);
        for (int j = i + 1; j < n; j++)
            ASSERT_CLOSE(coef_of(&got, 2, i, j), coef_of(&f, 2, i, j), 1e-12);
    }
    spex_spectrum_init(&fm);
    spex_spectrum_init(&gm);
    spex_spectrum_init(&fbii);
    spex_error_clear(&err);
    CU_ASSERT_FATAL(spex_convert_mobius(&f, &fm, &err) == SPEX_OK);
    CU_ASSERT_FATAL(spex_convert_index(&fm, n, SPEX_INDEX_FBII, 2, &fbii, &err) == SPEX_OK);
    CU_ASSERT_FATAL(spex_convert_mobius(&got, &gm, &err) == SPEX_OK);
    for (int i = 0; i < n; i++) {
        ASSERT_CLOSE(coef_of(&gm, 1, i, 0), coef_of(&fbii, 1, i, 0), 1e-11);
        for (int j = i + 1; j < n; j++)
            ASSERT_CLOSE(coef_of(&gm, 2, i, j), coef_of(&fbii, 2, i, j), 1e-11);
    }
    spex_spectrum_free(&f);
    spex_spectrum_free(&got);
    spex_spectrum_free(&fm);
    spex_spectrum_free(&gm);
    spex_spectrum_free(&fbii);
    free(masks);
    free(y);
}

/* LIME: the weighted fit equals dense weighted normal equations (same
 * integer weights) on arbitrary values; the weights follow the kernel. */
static void test_lime_matches_dense_weighted_least_squares_n7(void)
{
    int n = 7, K = n + 1;
    size_t m = (size_t)1 << n;
    spex_spectrum f, got;
    spex_error err;
    uint64_t *masks;
    double *y;
    known_spectrum(n, &f);
    all_subsets(n, &f, &masks, &y);
    for (size_t x = 0; x < m; x++)
        y[x] += next_unit() - 0.5;
    double G[8 * 8] = {0}, r[8] = {0};
    for (size_t x = 0; x < m; x++) {
        double a[8], w = spex_baseline_lime_weight(__builtin_popcountll(masks[x]), n, 0.25);
        a[0] = 1;
        for (int i = 0; i < n; i++)
            a[1 + i] = (masks[x] >> i) & 1 ? -1.0 : 1.0;
        for (int k = 0; k < K; k++) {
            r[k] += w * a[k] * y[x];
            for (int j = 0; j < K; j++)
                G[k * K + j] += w * a[k] * a[j];
        }
    }
    test_gauss_solve(K, G, r);
    CU_ASSERT_FATAL(fit(SPEX_METHOD_LIME, n, n, 0, m, masks, y, &got, &err) == SPEX_OK);
    CU_ASSERT_EQUAL(got.count, (size_t)K);
    ASSERT_CLOSE(coef_of(&got, 0, 0, 0), r[0], 1e-12);
    for (int i = 0; i < n; i++)
        ASSERT_CLOSE(coef_of(&got, 1, i, 0), r[1 + i], 1e-12);
    /* The weights differ from the unweighted fit's: LIME is not Banzhaf. */
    spex_spectrum b;
    CU_ASSERT_FATAL(fit(SPEX_METHOD_BANZHAF, n, n, 0, m, masks, y, &b, &err) == SPEX_OK);
    CU_ASSERT(fabs(coef_of(&b, 0, 0, 0) - r[0]) > 1e-6);
    spex_spectrum_free(&b);
    spex_spectrum_free(&f);
    spex_spectrum_free(&got);
    free(masks);
    free(y);
}

static void test_lime_weight_follows_the_kernel(void)
{
    double one = 65536.0;
    CU_ASSERT_EQUAL(spex_baseline_lime_weight(100, 100, 0.25), 65536u);
    /* D = 1 - sqrt(1/4) = 0.5 */
    CU_ASSERT_EQUAL(spex_baseline_lime_weight(25, 100, 0.25), (uint32_t)lround(one * exp(-2.0)));
    CU_ASSERT_EQUAL(spex_baseline_lime_weight(0, 100, 0.25), (uint32_t)lround(one * exp(-8.0)));
    CU_ASSERT_EQUAL(spex_baseline_lime_weight(25, 100, 1.0), (uint32_t)lround(one * exp(-0.125)));
}

/* With fewer features than n, the fit keeps the features most correlated
 * with f (here the largest first-order coefficients), and the pairs of the
 * top ones. */
static void test_screening_keeps_the_largest_features_n12(void)
{
    int n = 12;
    spex_spectrum f, got;
    spex_error err;
    uint64_t *masks;
    double *y;
    spex_spectrum_init(&f);
    int a[2] = {3, 7};
    push_term(&f, 0.5, 0, a);
    push_term(&f, -0.25, 1, (int[]){1});
    push_term(&f, 2.0, 1, (int[]){3});
    push_term(&f, -1.5, 1, (int[]){7});
    push_term(&f, 1.0, 1, (int[]){10});
    push_term(&f, 0.75, 2, a);
    push_term(&f, 0.6, 2, (int[]){1, 10});
    all_subsets(n, &f, &masks, &y);
    CU_ASSERT_FATAL(fit(SPEX_METHOD_FAITH_BANZHAF, n, 3, 2, (size_t)1 << n, masks, y, &got, &err) ==
                    SPEX_OK);
    CU_ASSERT_EQUAL_FATAL(got.count, 5u);
    CU_ASSERT(got.terms[0].order == 0);
    CU_ASSERT(got.terms[1].order == 1 && got.terms[1].feat[0] == 3);
    CU_ASSERT(got.terms[2].order == 1 && got.terms[2].feat[0] == 7);
    CU_ASSERT(got.terms[3].order == 1 && got.terms[3].feat[0] == 10);
    CU_ASSERT(got.terms[4].order == 2 && got.terms[4].feat[0] == 3 && got.terms[4].feat[1] == 7);
    ASSERT_CLOSE(got.terms[1].coef, 2.0, 1e-12);
    ASSERT_CLOSE(got.terms[4].coef, 0.75, 1e-12);
    spex_spectrum_free(&f);
    spex_spectrum_free(&got);
    free(masks);
    free(y);
}

/* Automatic sizes: about rows / 50 terms.  4096 rows: 81 first-order
 * terms for banzhaf (all 12 features here); faith-banzhaf shares 81 as 40
 * + 40: all 12 features and the pairs of the top 9 (36 <= 40). */
static void test_automatic_sizes_follow_the_row_count_n12(void)
{
    int n = 12;
    spex_spectrum f, got;
    spex_error err;
    uint64_t *masks;
    double *y;
    known_spectrum(n, &f);
    all_subsets(n, &f, &masks, &y);
    CU_ASSERT_FATAL(fit(SPEX_METHOD_BANZHAF, n, 0, 0, (size_t)1 << n, masks, y, &got, &err) ==
                    SPEX_OK);
    CU_ASSERT_EQUAL(got.count, 13u);
    spex_spectrum_free(&got);
    CU_ASSERT_FATAL(fit(SPEX_METHOD_FAITH_BANZHAF, n, 0, 0, (size_t)1 << n, masks, y, &got,
                        &err) == SPEX_OK);
    CU_ASSERT_EQUAL(got.count, 1u + 12u + 36u);
    spex_spectrum_free(&got);
    /* 640 random rows: 12 terms, faith-banzhaf 6 features and the pairs
     * of the top 4. */
    for (size_t x = 0; x < 640; x++) {
        masks[x] = (uint64_t)(next_unit() * 4096.0);
        y[x] = eval(&f, &masks[x]);
    }
    CU_ASSERT_FATAL(fit(SPEX_METHOD_FAITH_BANZHAF, n, 0, 0, 640, masks, y, &got, &err) ==
                    SPEX_OK);
    CU_ASSERT_EQUAL(got.count, 1u + 6u + 6u);
    spex_spectrum_free(&got);
    spex_spectrum_free(&f);
    free(masks);
    free(y);
}

static void test_too_many_terms_is_a_usage_error(void)
{
    spex_spectrum got;
    spex_error err;
    uint64_t mask[64] = {0};
    double y[64] = {0};
    CU_ASSERT(fit(SPEX_METHOD_FAITH_BANZHAF, 20000, 9999, 141, 64, mask, y, &got, &err) ==
              SPEX_EUSAGE);
    CU_ASSERT(strstr(err.msg, "method.baseline_features = 9999") != NULL);
    CU_ASSERT(strstr(err.msg, "19870 terms") != NULL);
    CU_ASSERT_EQUAL(got.count, 0u);
    spex_spectrum_free(&got);
}

static const test_case TESTS[] = {
    {"banzhaf on all 2^8 masks = first-order Fourier", test_banzhaf_all_subsets_gives_first_order_fourier_n8},
    {"faith-banzhaf on all 2^8 masks = order <= 2 Fourier = FBII", test_faith_banzhaf_all_subsets_matches_fbii_n8},
    {"lime = dense weighted least squares, n = 7", test_lime_matches_dense_weighted_least_squares_n7},
    {"lime weights follow the kernel", test_lime_weight_follows_the_kernel},
    {"screening keeps the largest features, n = 12", test_screening_keeps_the_largest_features_n12},
    {"automatic sizes follow the row count, n = 12", test_automatic_sizes_follow_the_row_count_n12},
    {"too many terms is a usage error", test_too_many_terms_is_a_usage_error},
    {NULL, NULL},
};

SPEX_TEST_MAIN("baseline")
