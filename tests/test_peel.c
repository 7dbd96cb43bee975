/* test_peel.c -- singleton detection and peeling on hand-built bins.
 *
 * Bin values are built directly from a known spectrum by the aliasing
 * identity, U_{c,p}(j) = sum_{M_c k = j} F(k) (-1)^(d_p . k), with the
 * design's matrices read off its masks (not its bin helper), so the
 * classifier and the peeling loop are checked against an independent
 * construction.
 */
#include <string.h>

#include "spex/design.h"
#include "spex/mask.h"
#include "spex/peel.h"
#include "spex/rng.h"
#include "testutil.h"

static spex_peel_params params(void)
{
    spex_peel_params pp = {1e-9, 1e-9, 0, 4, 100, 100000};
    return pp;
}

/* sig[(c (P+1) + p) 2^b + j] from the spectrum, via masks. */
static double *build_signals(const spex_design *d, const spex_spectrum *s)
{
    size_t B = (size_t)1 << d->b, P1 = (size_t)d->P + 1, w = d->words;
    double *sig = calloc((size_t)d->C * P1 * B, sizeof *sig);
    uint64_t *masks = malloc(B * w * sizeof *masks);
    for (int c = 0; c < d->C; c++)
        for (size_t p = 0; p < P1; p++) {
            spex_design_masks(d, c, (int)p, 0, B, masks);
            for (size_t q = 0; q < s->count; q++) {
                const spex_term *t = &s->terms[q];
                uint64_t j = 0;
                for (int r = 0; r < d->b; r++)
                    j |= (uint64_t)(spex_mask_parity(masks + ((size_t)1 << r) * w, t->feat, t->order) ^
                                    spex_mask_parity(masks, t->feat, t->order))
                         << r;
                int par = spex_mask_parity(masks, t->feat, t->order); /* d_p . k */
                sig[((size_t)c * P1 + p) * B + j] += par ? -t->coef : t->coef;
            }
        }
    free(masks);
    return sig;
}

static spex_term term3(int a, int b, int c, double coef)
{
    spex_term t;
    memset(&t, 0, sizeof t);
    t.order = 3;
    t.feat[0] = a;
    t.feat[1] = b;
    t.feat[2] = c;
    t.coef = coef;
    return t;
}

static void test_classify_zero_single_multi(void)
{
    spex_error err;
    spex_error_clear(&err);
    spex_design *d = NULL;
    CU_ASSERT_FATAL(spex_design_create(200, 5, 1, 3, SPEX_DELAYS_BCH, 17, &d, &err) == SPEX_OK);
    spex_spectrum s;
    spex_spectrum_init(&s);
    /* Find two distinct terms landing in the same bin of group 0, and a
     * third alone in its bin. */
    spex_term a = term3(3, 77, 150, 1.5), b, lone;
    uint64_t ja = spex_design_bin(d, 0, a.feat, 3);
    int found = 0;
    for (int i = 0; i < 100000 && !found; i++) {
        b = term3(i % 50, 50 + (i / 50) % 50, 120 + i % 77, -0.75);
        found = spex_design_bin(d, 0, b.feat, 3) == ja && spex_term_cmp_set(&a, &b) != 0;
    }
    CU_ASSERT_FATAL(found);
    lone = term3(10, 11, 12, 0.5);
    CU_ASSERT_FATAL(spex_design_bin(d, 0, lone.feat, 3) != ja);
    spex_spectrum_push(&s, &a, &err);
    spex_spectrum_push(&s, &b, &err);
    spex_spectrum_push(&s, &lone, &err);
    double *sig = build_signals(d, &s);
    size_t B = 32, P1 = (size_t)d->P + 1;
    double *U = malloc(P1 * sizeof *U);
    spex_peel_params pp = params();
    int zeros = 0, singles = 0, multis = 0;
    for (size_t j = 0; j < B; j++) {
        for (size_t p = 0; p < P1; p++)
            U[p] = sig[p * B + j];
        spex_term t;
        spex_bin_kind k = spex_peel_classify(d, 0, j, U, &pp, &t);
        if (j == ja) {
            CU_ASSERT_EQUAL(k, SPEX_BIN_MULTI);
            multis++;
        } else if (j == spex_design_bin(d, 0, lone.feat, 3)) {
            CU_ASSERT_EQUAL_FATAL(k, SPEX_BIN_SINGLE);
            CU_ASSERT_EQUAL(spex_term_cmp_set(&t, &lone), 0);
            ASSERT_CLOSE(t.coef, 0.5, 1e-12);
            singles++;
        } else {
            CU_ASSERT_EQUAL(k, SPEX_BIN_ZERO);
            zeros++;
        }
    }
    CU_ASSERT_EQUAL(zeros, 30);
    CU_ASSERT_EQUAL(singles, 1);
    CU_ASSERT_EQUAL(multis, 1);
    free(U);
    free(sig);
    spex_spectrum_free(&s);
    spex_design_destroy(d);
}

static void test_classify_constant_term_is_singleton_in_bin0(void)
{
    spex_error err;
    spex_error_clear(&err);
    spex_design *d = NULL;
    CU_ASSERT_FATAL(spex_design_create(100, 4, 1, 2, SPEX_DELAYS_BCH, 2, &d, &err) == SPEX_OK);
    size_t P1 = (size_t)d->P + 1;
    double *U = malloc(P1 * sizeof *U);
    for (size_t p = 0; p < P1; p++)
        U[p] = -3.25;
    spex_peel_params pp = params();
    spex_term t;
    CU_ASSERT_EQUAL(spex_peel_classify(d, 0, 0, U, &pp, &t), SPEX_BIN_SINGLE);
    CU_ASSERT_EQUAL(t.order, 0);
    CU_ASSERT_EQUAL(t.coef, -3.25);
    /* the same values in bin 5 cannot be the constant: multi-ton */
    CU_ASSERT_EQUAL(spex_peel_classify(d, 0, 5, U, &pp, &t), SPEX_BIN_MULTI);
    free(U);
    spex_design_destroy(d);
}

/* Peeling a random spectrum: everything recovered exactly when the load is
 * moderate, and never a false term when it is too high. */
static void peel_case(int n, int b, int C, int t, int terms, uint64_t seed, int expect_all)
{
    spex_error err;
    spex_error_clear(&err);
    spex_design *d = NULL;
    CU_ASSERT_FATAL(spex_design_create(n, b, C, t, SPEX_DELAYS_BCH, seed, &d, &err) == SPEX_OK);
    spex_spectrum truth, got;
    CU_ASSERT_FATAL(spex_spectrum_generate(n, terms, t, 0.5, 2.0, seed, &truth, &err) == SPEX_OK);
    spex_spectrum_init(&got);
    double *sig = build_signals(d, &truth);
    spex_peel_params pp = params();
    spex_peel_stats st;
    spex_layout L;
    spex_layout_of(d, 1, 0, 1, &L);
    CU_ASSERT_FATAL(spex_peel_run(MPI_COMM_WORLD, d, &L, sig, &pp, &got, &st, &err) == SPEX_OK);
    spex_recovery rec;
    spex_spectrum_compare(&truth, &got, 0, &rec);
    CU_ASSERT_EQUAL(rec.false_terms, 0);
    CU_ASSERT(rec.max_rel_err < 1e-9);
    if (expect_all) {
        CU_ASSERT_EQUAL(rec.found, (size_t)terms);
        CU_ASSERT_EQUAL(st.unresolved, 0);
        CU_ASSERT(st.rounds >= 2);
    } else {
        CU_ASSERT(rec.found < (size_t)terms);
        CU_ASSERT(st.unresolved > 0);
    }
    free(sig);
    spex_spectrum_free(&truth);
    spex_spectrum_free(&got);
    spex_design_destroy(d);
}

static void test_peel_recovers_100_terms_n1000(void) { peel_case(1000, 8, 3, 4, 100, 1, 1); }
static void test_peel_recovers_with_many_collisions(void) { peel_case(500, 6, 3, 3, 40, 7, 1); }
static void test_peel_overloaded_reports_unresolved_no_false_terms(void)
{
    peel_case(300, 4, 3, 3, 60, 3, 0);
}

/* b = n: every group is a bijection, so a dense function (all 2^n terms)
 * lands one term per bin and is recovered in one round. */
static void test_peel_dense_function_when_b_equals_n(void)
{
    spex_error err;
    spex_error_clear(&err);
    int n = 5;
    spex_design *d = NULL;
    CU_ASSERT_FATAL(spex_design_create(n, n, 3, n, SPEX_DELAYS_BCH, 8, &d, &err) == SPEX_OK);
    spex_spectrum truth, got;
    spex_spectrum_init(&truth);
    spex_spectrum_init(&got);
    for (uint32_t k = 0; k < (1u << n); k++) {
        spex_term t;
        memset(&t, 0, sizeof t);
        for (int i = 0; i < n; i++)
            if (k & (1u << i))
                t.feat[t.order++] = i;
        t.coef = 0.5 + 0.01 * k;
        spex_spectrum_push(&truth, &t, &err);
    }
    spex_spectrum_sort_by_set(&truth);
    double *sig = build_signals(d, &truth);
    spex_peel_params pp = params();
    spex_peel_stats st;
    spex_layout L;
    spex_layout_of(d, 1, 0, 1, &L);
    CU_ASSERT_FATAL(spex_peel_run(MPI_COMM_WORLD, d, &L, sig, &pp, &got, &st, &err) == SPEX_OK);
    spex_recovery rec;
    spex_spectrum_compare(&truth, &got, 0, &rec);
    CU_ASSERT_EQUAL(rec.found, 32);
    CU_ASSERT_EQUAL(rec.false_terms, 0);
    free(sig);
    spex_spectrum_free(&truth);
    spex_spectrum_free(&got);
    spex_design_destroy(d);
}

static const test_case TESTS[] = {
    {"peel_dense_function_when_b_equals_n", test_peel_dense_function_when_b_equals_n},
    {"classify_zero_single_multi", test_classify_zero_single_multi},
    {"classify_constant_term_is_singleton_in_bin0", test_classify_constant_term_is_singleton_in_bin0},
    {"peel_recovers_100_terms_n1000", test_peel_recovers_100_terms_n1000},
    {"peel_recovers_with_many_collisions", test_peel_recovers_with_many_collisions},
    {"peel_overloaded_reports_unresolved_no_false_terms",
     test_peel_overloaded_reports_unresolved_no_false_terms},
    {NULL, NULL}};

SPEX_TEST_MAIN("peel")
