/* test_spectrum.c -- spectrum files, synthetic spectra, the exact
 * Fourier <-> Mobius conversions (against brute-force transforms over all
 * 2^n masks) and the sparse oracle. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "spex/mask.h"
#include "spex/oracle.h"
#include "spex/spectrum.h"
#include "spex/wht.h"
#include "testutil.h"

static char *write_tmp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/spex-test-spec-XXXXXX");
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

/* Reads text as a spectrum over n features; returns the status and leaves
 * the message in err. */
static spex_status read_text(const char *text, int n, spex_spectrum *s, spex_error *err)
{
    char *path = write_tmp(text);
    spex_error_clear(err);
    spex_status st = spex_spectrum_read(path, n, s, err);
    unlink(path);
    return st;
}

static void test_read_good_file(void)
{
    spex_spectrum s;
    spex_error err;
    CU_ASSERT_EQUAL_FATAL(read_text("# a comment\n\n  1.5\n-0.5 7 3\n2e-1 9\n", 10, &s, &err), SPEX_OK);
    CU_ASSERT_EQUAL_FATAL(s.count, 3);
    /* sorted by set: (), (9), (3 7) */
    CU_ASSERT_EQUAL(s.terms[0].order, 0);
    CU_ASSERT_EQUAL(s.terms[0].coef, 1.5);
    CU_ASSERT_EQUAL(s.terms[1].feat[0], 9);
    CU_ASSERT_EQUAL(s.terms[2].feat[0], 3);
    CU_ASSERT_EQUAL(s.terms[2].feat[1], 7);
    CU_ASSERT_EQUAL(s.terms[2].coef, -0.5);
    spex_spectrum_free(&s);
}

static void expect_error(const char *text, int n, const char *needle)
{
    spex_spectrum s;
    spex_error err;
    CU_ASSERT_EQUAL(read_text(text, n, &s, &err), SPEX_EINPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, needle));
    if (!strstr(err.msg, needle))
        fprintf(stderr, "\n   message was: %s (wanted '%s')\n", err.msg, needle);
    CU_ASSERT_EQUAL(s.count, 0);
}

static void test_read_errors_name_line(void)
{
    expect_error("1.0 1\n2.0 10\n", 10, ":2: feature index 10 out of range 0..9");
    expect_error("1.0 1\n\n2.0 -1\n", 10, ":3: feature index -1 out of range");
    expect_error("1.0 4 2 4\n", 10, ":1: feature index 4 repeated");
    expect_error("# c\nnan 1\n", 10, ":2: coefficient 'nan' is not a finite number");
    expect_error("inf 1\n", 10, ":1: coefficient 'inf' is not a finite number");
    expect_error("1e999 1\n", 10, ":1: coefficient '1e999' is not a finite number");
    expect_error("abc 1\n", 10, ":1: expected a coefficient");
    expect_error("1.0 2x\n", 10, ":1: expected a feature index");
    expect_error("1.0 3 5\n2.0\n0.5 5 3\n", 10, ":3: feature set repeats line 1");
    expect_error("1 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", 20, ":1: more than 16 features");
}

static void test_read_missing_file(void)
{
    spex_spectrum s;
    spex_error err;
    spex_error_clear(&err);
    CU_ASSERT_EQUAL(spex_spectrum_read("/nonexistent/spec.txt", 10, &s, &err), SPEX_EINPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "cannot read spectrum file '/nonexistent/spec.txt'"));
}

static void test_generate_distinct_in_range_deterministic(void)
{
    spex_spectrum a, b;
    spex_error err;
    spex_error_clear(&err);
    CU_ASSERT_FATAL(spex_spectrum_generate(50, 300, 3, 0.5, 2.0, 9, &a, &err) == SPEX_OK);
    CU_ASSERT_FATAL(spex_spectrum_generate(50, 300, 3, 0.5, 2.0, 9, &b, &err) == SPEX_OK);
    CU_ASSERT_EQUAL(a.count, 300);
    CU_ASSERT(memcmp(a.terms, b.terms, a.count * sizeof *a.terms) == 0);
    int ok = 1;
    for (size_t i = 0; i < a.count; i++) {
        const spex_term *t = &a.terms[i];
        ok &= t->order >= 1 && t->order <= 3;
        ok &= fabs(t->coef) >= 0.5 && fabs(t->coef) <= 2.0;
        for (int q = 0; q < t->order; q++)
            ok &= t->feat[q] >= 0 && t->feat[q] < 50 && (q == 0 || t->feat[q] > t->feat[q - 1]);
        if (i)
            ok &= spex_term_cmp_set(&a.terms[i - 1], t) < 0;
    }
    CU_ASSERT(ok);
    spex_spectrum_free(&a);
    spex_spectrum_free(&b);
    /* impossible: more terms than sets of order 1 over 5 features */
    CU_ASSERT_EQUAL(spex_spectrum_generate(5, 6, 1, 0.5, 2.0, 1, &a, &err), SPEX_EUSAGE);
}

/* f over all 2^n masks from a spectrum in a basis, by the definition. */
static void brute_values(const spex_spectrum *s, spex_basis basis, int n, double *f)
{
    for (uint64_t x = 0; x < ((uint64_t)1 << n); x++) {
        double v = 0;
        for (size_t q = 0; q < s->count; q++) {
            const spex_term *t = &s->terms[q];
            if (basis == SPEX_BASIS_FOURIER)
                v += spex_mask_parity(&x, t->feat, t->order) ? -t->coef : t->coef;
            else
                v += spex_mask_contains(&x, t->feat, t->order) ? t->coef : 0;
        }
        f[x] = v;
    }
}

/* Dense coefficient vector of a spectrum, indexed by the set's bit mask. */
static void dense(const spex_spectrum *s, int n, double *c)
{
    memset(c, 0, ((size_t)1 << n) * sizeof *c);
    for (size_t q = 0; q < s->count; q++) {
        uint64_t k = 0;
        for (int r = 0; r < s->terms[q].order; r++)
            k |= (uint64_t)1 << s->terms[q].feat[r];
        c[k] += s->terms[q].coef;
    }
}

static void test_mobius_to_fourier_matches_brute_force_n6(void)
{
    int n = 6;
    size_t N = 64;
    spex_spectrum mob, four;
    spex_error err;
    spex_error_clear(&err);
    spex_spectrum_generate(n, 12, 5, 0.5, 2.0, 4, &mob, &err);
    CU_ASSERT_FATAL(spex_spectrum_mobius_to_fourier(&mob, &four, &err) == SPEX_OK);
    double f[64], F[64];
    brute_values(&mob, SPEX_BASIS_MOBIUS, n, f);
    spex_wht_execute(f, n);
    dense(&four, n, F);
    double worst = 0;
    for (size_t k = 0; k < N; k++)
        worst = fmax(worst, fabs(f[k] / (double)N - F[k]));
    CU_ASSERT(worst < 1e-12);
    spex_spectrum_free(&mob);
    spex_spectrum_free(&four);
}

static void test_fourier_to_mobius_matches_brute_force_n6(void)
{
    int n = 6;
    size_t N = 64;
    spex_spectrum four, mob;
    spex_error err;
    spex_error_clear(&err);
    spex_spectrum_generate(n, 12, 5, 0.5, 2.0, 5, &four, &err);
    CU_ASSERT_FATAL(spex_spectrum_fourier_to_mobius(&four, &mob, &err) == SPEX_OK);
    double f[64], m[64];
    brute_values(&four, SPEX_BASIS_FOURIER, n, f);
    /* Mobius transform by definition: m(T) = sum_{S <= T} (-1)^|T-S| f(S). */
    double expect[64];
    for (uint64_t T = 0; T < N; T++) {
        double s = 0;
        for (uint64_t S = 0; S < N; S++)
            if ((S & ~T) == 0)
                s += (__builtin_popcountll(T ^ S) & 1) ? -f[S] : f[S];
        expect[T] = s;
    }
    dense(&mob, n, m);
    double worst = 0;
    for (size_t k = 0; k < N; k++)
        worst = fmax(worst, fabs(expect[k] - m[k]));
    CU_ASSERT(worst < 1e-12);
    spex_spectrum_free(&four);
    spex_spectrum_free(&mob);
}

static void test_sparse_oracle_values_and_truth(void)
{
    int n = 7;
    spex_spectrum s, copy;
    spex_error err;
    spex_error_clear(&err);
    spex_spectrum_generate(n, 10, 3, 0.5, 2.0, 8, &s, &err);
    spex_spectrum_generate(n, 10, 3, 0.5, 2.0, 8, &copy, &err);
    spex_oracle *o = NULL;
    CU_ASSERT_FATAL(spex_oracle_sparse_create(n, &s, SPEX_BASIS_MOBIUS, 0, 1, 0, &o, &err) == SPEX_OK);
    spex_spectrum_free(&s);
    double f[128], got[128];
    uint64_t masks[128];
    for (uint64_t x = 0; x < 128; x++)
        masks[x] = x;
    brute_values(&copy, SPEX_BASIS_MOBIUS, n, f);
    CU_ASSERT_FATAL(spex_oracle_eval(o, 128, masks, 0, got, &err) == SPEX_OK);
    CU_ASSERT(memcmp(f, got, sizeof f) == 0);
    /* its truth is the Fourier spectrum of the same function */
    double F[128];
    dense(o->truth, n, F);
    spex_wht_execute(f, n);
    double worst = 0;
    for (int k = 0; k < 128; k++)
        worst = fmax(worst, fabs(f[k] / 128.0 - F[k]));
    CU_ASSERT(worst < 1e-12);
    spex_oracle_destroy(o);
    spex_spectrum_free(&copy);
}

static void test_sparse_oracle_noise_depends_on_query_id_only(void)
{
    spex_spectrum s;
    spex_error err;
    spex_error_clear(&err);
    spex_spectrum_generate(20, 5, 2, 0.5, 2.0, 8, &s, &err);
    spex_oracle *o = NULL;
    spex_oracle_sparse_create(20, &s, SPEX_BASIS_FOURIER, 0.1, 77, 0, &o, &err);
    uint64_t m[4] = {1, 1, 1, 1};
    double a[4], b[2];
    spex_oracle_eval(o, 4, m, 100, a, &err);
    spex_oracle_eval(o, 2, m, 102, b, &err); /* ids 102, 103 alone */
    CU_ASSERT_EQUAL(a[2], b[0]);
    CU_ASSERT_EQUAL(a[3], b[1]);
    CU_ASSERT(a[0] != a[1]);
    spex_oracle_destroy(o);
    spex_spectrum_free(&s);
}

static void test_compare_counts(void)
{
    spex_spectrum truth, found;
    spex_error err;
    spex_error_clear(&err);
    spex_spectrum_generate(30, 10, 2, 0.5, 2.0, 3, &truth, &err);
    spex_spectrum_generate(30, 10, 2, 0.5, 2.0, 3, &found, &err);
    found.terms[0].coef *= 1.001;
    found.terms[1].feat[0] = (found.terms[1].feat[0] + 1) % 30; /* now (probably) false */
    spex_spectrum_sort_ranked(&found);
    spex_recovery rec;
    spex_spectrum_compare(&truth, &found, 0, &rec);
    CU_ASSERT_EQUAL(rec.true_terms, 10);
    CU_ASSERT(rec.found == 9 || rec.found == 10);
    CU_ASSERT_EQUAL(rec.found + rec.false_terms, 10);
    ASSERT_CLOSE(rec.max_rel_err, 0.001, 1e-9);
    spex_spectrum_free(&truth);
    spex_spectrum_free(&found);
}

static const test_case TESTS[] = {
    {"read_good_file", test_read_good_file},
    {"read_errors_name_line", test_read_errors_name_line},
    {"read_missing_file", test_read_missing_file},
    {"generate_distinct_in_range_deterministic", test_generate_distinct_in_range_deterministic},
    {"mobius_to_fourier_matches_brute_force_n6", test_mobius_to_fourier_matches_brute_force_n6},
    {"fourier_to_mobius_matches_brute_force_n6", test_fourier_to_mobius_matches_brute_force_n6},
    {"sparse_oracle_values_and_truth", test_sparse_oracle_values_and_truth},
    {"sparse_oracle_noise_depends_on_query_id_only", test_sparse_oracle_noise_depends_on_query_id_only},
    {"compare_counts", test_compare_counts},
    {NULL, NULL}};

SPEX_TEST_MAIN("spectrum")
