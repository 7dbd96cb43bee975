/* test_convert.c -- values and interaction indices against their definitions.
 *
 * Every check builds f on all 2^n masks from a random sparse Fourier
 * spectrum (f(x) = sum_k F(k) (-1)^|k & x|) and computes the quantity by
 * brute force from its DEFINITION over all subsets -- Mobius inversion,
 * Shapley and Banzhaf values as averages of marginal contributions, SII,
 * Banzhaf and Shapley-Taylor indices as averages of discrete derivatives,
 * Faith-Shapley and Faith-Banzhaf as (weighted, constrained) least-squares
 * fits solved here with a dense solver in long double -- never through the
 * Mobius formulas that src/convert.c implements.  Sets are bit masks here
 * (n <= 10), terms in the library.
 */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "spex/convert.h"
#include "spex/spectrum.h"
#include "testutil.h"

#define NMAX 10

/* ---- helpers ------------------------------------------------------------------ */

static int popc(uint32_t x) { return __builtin_popcount(x); }

static uint32_t term_mask(const spex_term *t)
{
    uint32_t m = 0;
    for (int q = 0; q < t->order; q++)
        m |= 1u << t->feat[q];
    return m;
}

static spex_term mask_term(uint32_t m, double coef)
{
    spex_term t;
    memset(&t, 0, sizeof t);
    for (int i = 0; m >> i; i++)
        if (m & (1u << i))
            t.feat[t.order++] = i;
    t.coef = coef;
    return t;
}

/* Value of the set m in a spectrum sorted by set (0 when absent). */
static double lookup(const spex_spectrum *s, uint32_t m)
{
    spex_term key = mask_term(m, 0.0);
    long at = spex_spectrum_find(s, &key);
    return at < 0 ? 0.0 : s->terms[at].coef;
}

static double factorial(int a)
{
    double r = 1.0;
    for (int i = 2; i <= a; i++)
        r *= i;
    return r;
}

static double choose(int a, int b) { return factorial(a) / (factorial(b) * factorial(a - b)); }

static int n_mismatch; /* printed mismatches, to keep a failing run readable */

static void check_close(double got, double want, double tol, const char *what, uint32_t set)
{
    int ok = fabs(got - want) <= tol * fmax(1.0, fabs(want));
    CU_ASSERT(ok);
    if (!ok && n_mismatch++ < 20)
        fprintf(stderr, "\n   %s set 0x%x: got %.15g want %.15g", what, set, got, want);
}

/* Output is sorted strictly by set, with |S| <= k and no exact zero. */
static void check_shape(const spex_spectrum *s, int k)
{
    for (size_t i = 0; i < s->count; i++) {
        CU_ASSERT(s->terms[i].order <= k);
        CU_ASSERT(s->terms[i].coef != 0.0);
        if (i > 0)
            CU_ASSERT(spex_term_cmp_set(&s->terms[i - 1], &s->terms[i]) < 0);
    }
}

/* A test function: its Fourier spectrum, f on all masks, the library's
 * Mobius spectrum and the brute-force Mobius coefficients. */
typedef struct fixture {
    int n;
    spex_spectrum four, mob;
    double f[1u << NMAX];
    double m[1u << NMAX];
} fixture;

/* Brute-force Mobius inversion: m(T) = sum_{S <= T} (-1)^{|T|-|S|} f(S). */
static void brute_mobius(const double *f, int n, double *m)
{
    for (uint32_t T = 0; T < (1u << n); T++) {
        double acc = 0.0;
        for (uint32_t S = T;; S = (S - 1) & T) {
            acc += ((popc(T) - popc(S)) & 1 ? -1.0 : 1.0) * f[S];
            if (S == 0)
                break;
        }
        m[T] = acc;
    }
}

/* terms random Fourier terms of order 1..max_order plus a constant. */
static void fixture_make(fixture *fx, int n, int terms, int max_order, uint64_t seed)
{
    spex_error err;
    spex_error_clear(&err);
    fx->n = n;
    CU_ASSERT_EQUAL_FATAL(
        spex_spectrum_generate(n, terms, max_order, 0.2, 1.0, seed, &fx->four, &err), SPEX_OK);
    spex_term c = mask_term(0, 0.75 - 0.1 * (double)(seed % 7));
    CU_ASSERT_EQUAL_FATAL(spex_spectrum_push(&fx->four, &c, &err), SPEX_OK);
    spex_spectrum_sort_by_set(&fx->four);
    for (uint32_t x = 0; x < (1u << n); x++) {
        double v = 0.0;
        for (size_t i = 0; i < fx->four.count; i++) {
            const spex_term *t = &fx->four.terms[i];
            v += (popc(term_mask(t) & x) & 1 ? -1.0 : 1.0) * t->coef;
        }
        fx->f[x] = v;
    }
    brute_mobius(fx->f, n, fx->m);
    CU_ASSERT_EQUAL_FATAL(spex_convert_mobius(&fx->four, &fx->mob, &err), SPEX_OK);
}

static void fixture_free(fixture *fx)
{
    spex_spectrum_free(&fx->four);
    spex_spectrum_free(&fx->mob);
}

/* The random cases every brute-force test runs: n in {5, 8, 10}, orders up
 * to 5 or 6 (n = 5 allows the full set as a term). */
static const struct {
    int n, terms, max_order;
    uint64_t seed;
} CASES[] = {{5, 6, 5, 11}, {5, 10, 5, 12}, {8, 12, 6, 21}, {8, 16, 5, 22}, {10, 20, 6, 31},
             {10, 12, 6, 32}};
#define NCASES (sizeof CASES / sizeof CASES[0])

/* Delta_S f(T) = sum_{L <= S} (-1)^{s-|L|} f(T u L), T disjoint from S. */
static double delta(const double *f, uint32_t S, uint32_t T)
{
    double acc = 0.0;
    for (uint32_t L = S;; L = (L - 1) & S) {
        acc += ((popc(S) - popc(L)) & 1 ? -1.0 : 1.0) * f[T | L];
        if (L == 0)
            break;
    }
    return acc;
}

/* Runs the library's index of the given kind and order on fx and compares
 * it, for every set of size <= k, with want(S). */
static void compare_index(fixture *fx, spex_index_kind kind, int k,
                          double (*want)(const fixture *, int k, uint32_t S), double tol)
{
    spex_spectrum out;
    spex_error err;
    spex_error_clear(&err);
    CU_ASSERT_EQUAL_FATAL(spex_convert_index(&fx->mob, fx->n, kind, k, &out, &err), SPEX_OK);
    check_shape(&out, k);
    for (uint32_t S = 0; S < (1u << fx->n); S++)
        if (popc(S) <= k)
            check_close(lookup(&out, S), want(fx, k, S), tol, spex_convert_index_name(kind), S);
    spex_spectrum_free(&out);
}

/* ---- dense least squares (long double) ------------------------------------------ */

/* Solves A x = b (A is d x d, row-major) by Gaussian elimination with
 * partial pivoting; A and b are overwritten, x returned in b. */
static int solve(long double *A, long double *b, int d)
{
    for (int c = 0; c < d; c++) {
        int p = c;
        for (int r = c + 1; r < d; r++)
            if (fabsl(A[r * d + c]) > fabsl(A[p * d + c]))
                p = r;
        if (A[p * d + c] == 0.0L)
            return -1;
        if (p != c) {
            for (int j = 0; j < d; j++) {
                long double tmp = A[c * d + j];
                A[c * d + j] = A[p * d + j];
                A[p * d + j] = tmp;
            }
            long double tmp = b[c];
            b[c] = b[p];
            b[p] = tmp;
        }
        for (int r = c + 1; r < d; r++) {
            long double q = A[r * d + c] / A[c * d + c];
            if (q == 0.0L)
                continue;
            for (int j = c; j < d; j++)
                A[r * d + j] -= q * A[c * d + j];
            b[r] -= q * b[c];
        }
    }
    for (int c = d - 1; c >= 0; c--) {
        long double acc = b[c];
        for (int j = c + 1; j < d; j++)
            acc -= A[c * d + j] * b[j];
        b[c] = acc / A[c * d + c];
    }
    return 0;
}

/* The least-squares fit of f(S) by sum_{T <= S, |T| <= k} I(T):
 * shapley_kernel = 0: unweighted over all 2^n masks (Faith-Banzhaf);
 * shapley_kernel = 1: weights (n-1)/(C(n,s) s (n-s)) on 0 < |S| < n, with
 * the empty and full sets as exact constraints (Faith-Shapley), solved as
 * the KKT system [G C; C^T 0].  I is indexed by mask. */
static void least_squares_index(const fixture *fx, int k, int shapley_kernel, double *I)
{
    int n = fx->n, p = 0;
    int at[1u << NMAX];
    for (uint32_t S = 0; S < (1u << n); S++) {
        at[S] = -1;
        if (popc(S) <= k) {
            at[S] = p++;
        }
    }
    int d = p + (shapley_kernel ? 2 : 0);
    long double *A = calloc((size_t)d * (size_t)d, sizeof *A);
    long double *b = calloc((size_t)d, sizeof *b);
    int *row = malloc((size_t)p * sizeof *row);
    CU_ASSERT_PTR_NOT_NULL_FATAL(A);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_PTR_NOT_NULL_FATAL(row);
    uint32_t full = (1u << n) - 1;
    for (uint32_t S = 0; S <= full; S++) {
        long double wt = 1.0L;
        if (shapley_kernel) {
            int s = popc(S);
            if (s == 0 || s == n)
                continue;
            wt = (long double)(n - 1) / ((long double)choose(n, s) * s * (n - s));
        }
        int r = 0;
        for (uint32_t T = S;; T = (T - 1) & S) {
            if (at[T] >= 0)
                row[r++] = at[T];
            if (T == 0)
                break;
        }
        for (int i = 0; i < r; i++) {
            b[row[i]] += wt * fx->f[S];
            for (int j = 0; j < r; j++)
                A[row[i] * d + row[j]] += wt;
        }
    }
    if (shapley_kernel) {
        /* I(empty) = f(empty); sum of all I(T) = f(full). */
        A[at[0] * d + p] = A[p * d + at[0]] = 1.0L;
        b[p] = fx->f[0];
        for (int j = 0; j < p; j++)
            A[j * d + p + 1] = A[(p + 1) * d + j] = 1.0L;
        b[p + 1] = fx->f[full];
    }
    CU_ASSERT_EQUAL_FATAL(solve(A, b, d), 0);
    for (uint32_t S = 0; S <= full; S++)
        I[S] = at[S] >= 0 ? (double)b[at[S]] : 0.0;
    free(A);
    free(b);
    free(row);
}

/* ---- definitions ---------------------------------------------------------------- */

/* SII: sum_{T <= N\S} (n-t-s)! t! / (n-s+1)! Delta_S f(T). */
static double def_sii(const fixture *fx, int k, uint32_t S)
{
    int n = fx->n, s = popc(S);
    uint32_t rest = ((1u << n) - 1) & ~S;
    double acc = 0.0;
    for (uint32_t T = rest;; T = (T - 1) & rest) {
        int t = popc(T);
        acc += factorial(n - t - s) * factorial(t) / factorial(n - s + 1) * delta(fx->f, S, T);
        if (T == 0)
            break;
    }
    return acc;
}

/* Banzhaf interaction: 2^-(n-s) sum_{T <= N\S} Delta_S f(T). */
static double def_banzhaf(const fixture *fx, int k, uint32_t S)
{
    int n = fx->n, s = popc(S);
    uint32_t rest = ((1u << n) - 1) & ~S;
    double acc = 0.0;
    for (uint32_t T = rest;; T = (T - 1) & rest) {
        acc += delta(fx->f, S, T);
        if (T == 0)
            break;
    }
    return ldexp(acc, s - n);
}

/* STII of order k: s < k: Delta_S f(empty);
 * s = k: (k/n) sum_{T <= N\S} Delta_S f(T) / C(n-1, t). */
static double def_stii(const fixture *fx, int k, uint32_t S)
{
    int n = fx->n, s = popc(S);
    if (s < k)
        return delta(fx->f, S, 0);
    uint32_t rest = ((1u << n) - 1) & ~S;
    double acc = 0.0;
    for (uint32_t T = rest;; T = (T - 1) & rest) {
        acc += delta(fx->f, S, T) / choose(n - 1, popc(T));
        if (T == 0)
            break;
    }
    return (double)k / n * acc;
}

/* The least-squares indices are solved once per (fixture, k) and cached. */
static double lsq_cache[1u << NMAX];

static double def_cached(const fixture *fx, int k, uint32_t S) { return lsq_cache[S]; }

/* ---- tests ---------------------------------------------------------------------- */

static void test_mobius_matches_inversion(void)
{
    for (size_t c = 0; c < NCASES; c++) {
        fixture fx;
        fixture_make(&fx, CASES[c].n, CASES[c].terms, CASES[c].max_order, CASES[c].seed);
        check_shape(&fx.mob, fx.n);
        for (uint32_t T = 0; T < (1u << fx.n); T++)
            check_close(lookup(&fx.mob, T), fx.m[T], 1e-10, "mobius", T);
        /* Same sets as the sort-based conversion in spectrum.c. */
        spex_spectrum ref;
        spex_error err;
        spex_error_clear(&err);
        CU_ASSERT_EQUAL_FATAL(spex_spectrum_fourier_to_mobius(&fx.four, &ref, &err), SPEX_OK);
        CU_ASSERT_EQUAL(ref.count, fx.mob.count);
        for (size_t i = 0; i < ref.count && i < fx.mob.count; i++) {
            CU_ASSERT_EQUAL(spex_term_cmp_set(&ref.terms[i], &fx.mob.terms[i]), 0);
            check_close(fx.mob.terms[i].coef, ref.terms[i].coef, 1e-12, "mobius-vs-spectrum",
                        term_mask(&ref.terms[i]));
        }
        spex_spectrum_free(&ref);
        fixture_free(&fx);
    }
}

static void test_values_match_marginal_averages(void)
{
    for (size_t c = 0; c < NCASES; c++) {
        fixture fx;
        fixture_make(&fx, CASES[c].n, CASES[c].terms, CASES[c].max_order, CASES[c].seed);
        int n = fx.n;
        double phi[NMAX], beta[NMAX];
        spex_error err;
        spex_error_clear(&err);
        CU_ASSERT_EQUAL_FATAL(spex_convert_values(&fx.mob, n, phi, beta, &err), SPEX_OK);
        for (int i = 0; i < n; i++) {
            double sh = 0.0, bz = 0.0;
            for (uint32_t S = 0; S < (1u << n); S++) {
                if (S & (1u << i))
                    continue;
                int s = popc(S);
                double marg = fx.f[S | (1u << i)] - fx.f[S];
                sh += factorial(s) * factorial(n - s - 1) / factorial(n) * marg;
                bz += marg;
            }
            check_close(phi[i], sh, 1e-10, "shapley", 1u << i);
            check_close(beta[i], ldexp(bz, 1 - n), 1e-10, "banzhaf value", 1u << i);
        }
        /* Either output may be omitted. */
        double only[NMAX];
        CU_ASSERT_EQUAL(spex_convert_values(&fx.mob, n, NULL, only, &err), SPEX_OK);
        CU_ASSERT_EQUAL(memcmp(only, beta, (size_t)n * sizeof *only), 0);
        CU_ASSERT_EQUAL(spex_convert_values(&fx.mob, n, only, NULL, &err), SPEX_OK);
        CU_ASSERT_EQUAL(memcmp(only, phi, (size_t)n * sizeof *only), 0);
        fixture_free(&fx);
    }
}

static void run_definition(spex_index_kind kind, double (*want)(const fixture *, int, uint32_t))
{
    for (size_t c = 0; c < NCASES; c++) {
        fixture fx;
        fixture_make(&fx, CASES[c].n, CASES[c].terms, CASES[c].max_order, CASES[c].seed);
        for (int k = 1; k <= 3; k++)
            compare_index(&fx, kind, k, want, 1e-11);
        fixture_free(&fx);
    }
}

static void test_sii_matches_definition(void) { run_definition(SPEX_INDEX_SII, def_sii); }

static void test_banzhaf_index_matches_definition(void)
{
    run_definition(SPEX_INDEX_BANZHAF, def_banzhaf);
}

static void test_stii_matches_definition(void) { run_definition(SPEX_INDEX_STII, def_stii); }

static void run_least_squares(spex_index_kind kind, int shapley_kernel)
{
    for (size_t c = 0; c < NCASES; c++) {
        fixture fx;
        fixture_make(&fx, CASES[c].n, CASES[c].terms, CASES[c].max_order, CASES[c].seed);
        for (int k = 1; k <= 3; k++) {
            least_squares_index(&fx, k, shapley_kernel, lsq_cache);
            compare_index(&fx, kind, k, def_cached, 1e-9);
        }
        fixture_free(&fx);
    }
}

static void test_fsii_matches_weighted_least_squares(void)
{
    run_least_squares(SPEX_INDEX_FSII, 1);
}

static void test_fbii_matches_uniform_least_squares(void)
{
    run_least_squares(SPEX_INDEX_FBII, 0);
}

/* Efficiency, order-1 reductions, Banzhaf from Fourier, exactness at full
 * order and Faith-Banzhaf as truncated Fourier. */
static void test_identities(void)
{
    for (size_t c = 0; c < NCASES; c++) {
        fixture fx;
        fixture_make(&fx, CASES[c].n, CASES[c].terms, CASES[c].max_order, CASES[c].seed);
        int n = fx.n;
        uint32_t full = (1u << n) - 1;
        double phi[NMAX], beta[NMAX], sum = 0.0;
        spex_error err;
        spex_error_clear(&err);
        CU_ASSERT_EQUAL_FATAL(spex_convert_values(&fx.mob, n, phi, beta, &err), SPEX_OK);
        for (int i = 0; i < n; i++) {
            sum += phi[i];
            spex_term key = mask_term(1u << i, 0.0);
            long at = spex_spectrum_find(&fx.four, &key);
            check_close(beta[i], at < 0 ? 0.0 : -2.0 * fx.four.terms[at].coef, 1e-12,
                        "banzhaf = -2F(i)", 1u << i);
        }
        check_close(sum, fx.f[full] - fx.f[0], 1e-10, "shapley efficiency", full);
        /* Shapley from Fourier: a term k containing i gives -2 F(k) / |k|
         * when |k| is odd, nothing when it is even. */
        for (int i = 0; i < n; i++) {
            double sh = 0.0;
            for (size_t j = 0; j < fx.four.count; j++) {
                const spex_term *t = &fx.four.terms[j];
                if ((term_mask(t) >> i & 1) && (t->order & 1))
                    sh += -2.0 * t->coef / t->order;
            }
            check_close(phi[i], sh, 1e-10, "shapley from fourier", 1u << i);
        }

        /* Order 1: SII, STII, FSII give Shapley values; Banzhaf, FBII give
         * Banzhaf values. */
        const struct {
            spex_index_kind kind;
            const double *v;
        } one[] = {{SPEX_INDEX_SII, phi},
                   {SPEX_INDEX_STII, phi},
                   {SPEX_INDEX_FSII, phi},
                   {SPEX_INDEX_BANZHAF, beta},
                   {SPEX_INDEX_FBII, beta}};
        for (size_t j = 0; j < sizeof one / sizeof one[0]; j++) {
            spex_spectrum out;
            CU_ASSERT_EQUAL_FATAL(spex_convert_index(&fx.mob, n, one[j].kind, 1, &out, &err),
                                  SPEX_OK);
            for (int i = 0; i < n; i++)
                check_close(lookup(&out, 1u << i), one[j].v[i], 1e-10, "order-1 value", 1u << i);
            spex_spectrum_free(&out);
        }

        for (int k = 1; k <= 4; k++) {
            /* STII and FSII are efficient: their sum over |S| <= k is f(N). */
            spex_index_kind eff[] = {SPEX_INDEX_STII, SPEX_INDEX_FSII};
            for (int j = 0; j < 2; j++) {
                spex_spectrum out;
                CU_ASSERT_EQUAL_FATAL(spex_convert_index(&fx.mob, n, eff[j], k, &out, &err),
                                      SPEX_OK);
                double tot = 0.0;
                for (size_t i = 0; i < out.count; i++)
                    tot += out.terms[i].coef;
                check_close(tot, fx.f[full], 1e-10, "efficiency", full);
                spex_spectrum_free(&out);
            }
            /* Faith-Banzhaf of order k = Mobius form of the Fourier
             * expansion truncated to order k. */
            spex_spectrum trunc, tmob, out;
            spex_spectrum_init(&trunc);
            for (size_t i = 0; i < fx.four.count; i++)
                if (fx.four.terms[i].order <= k)
                    CU_ASSERT_EQUAL(spex_spectrum_push(&trunc, &fx.four.terms[i], &err), SPEX_OK);
            CU_ASSERT_EQUAL_FATAL(spex_convert_mobius(&trunc, &tmob, &err), SPEX_OK);
            CU_ASSERT_EQUAL_FATAL(spex_convert_index(&fx.mob, n, SPEX_INDEX_FBII, k, &out, &err),
                                  SPEX_OK);
            for (uint32_t S = 0; S <= full; S++)
                if (popc(S) <= k)
                    check_close(lookup(&out, S), lookup(&tmob, S), 1e-10, "fbii-truncation", S);
            spex_spectrum_free(&trunc);
            spex_spectrum_free(&tmob);
            spex_spectrum_free(&out);
        }

        /* At an order >= the highest Mobius order, STII, FSII and FBII are
         * the Mobius expansion itself. */
        for (int kind = SPEX_INDEX_STII; kind <= SPEX_INDEX_FBII; kind++) {
            if (kind == SPEX_INDEX_BANZHAF)
                continue;
            spex_spectrum out;
            CU_ASSERT_EQUAL_FATAL(
                spex_convert_index(&fx.mob, n, (spex_index_kind)kind, n, &out, &err), SPEX_OK);
            for (uint32_t S = 0; S <= full; S++)
                check_close(lookup(&out, S), fx.m[S], 1e-10, "full order = mobius", S);
            spex_spectrum_free(&out);
        }
        fixture_free(&fx);
    }
}

static void test_empty_and_constant_spectra(void)
{
    spex_spectrum empty, cons, out;
    spex_error err;
    spex_error_clear(&err);
    spex_spectrum_init(&empty);
    spex_spectrum_init(&cons);
    double phi[4] = {9, 9, 9, 9}, beta[4] = {9, 9, 9, 9};

    CU_ASSERT_EQUAL(spex_convert_mobius(&empty, &out, &err), SPEX_OK);
    CU_ASSERT_EQUAL(out.count, 0);
    spex_spectrum_free(&out);
    CU_ASSERT_EQUAL(spex_convert_values(&empty, 4, phi, beta, &err), SPEX_OK);
    for (int i = 0; i < 4; i++)
        CU_ASSERT(phi[i] == 0.0 && beta[i] == 0.0);
    for (int kind = 0; kind < SPEX_INDEX_KIND_COUNT; kind++)
        for (int k = 1; k <= 3; k++) {
            CU_ASSERT_EQUAL(spex_convert_index(&empty, 4, (spex_index_kind)kind, k, &out, &err),
                            SPEX_OK);
            CU_ASSERT_EQUAL(out.count, 0);
            spex_spectrum_free(&out);
        }

    /* f = 2.5 everywhere: the Mobius and every index hold only the empty
     * set, with value 2.5; no feature gets credit. */
    spex_term c = mask_term(0, 2.5);
    CU_ASSERT_EQUAL_FATAL(spex_spectrum_push(&cons, &c, &err), SPEX_OK);
    spex_spectrum mob;
    CU_ASSERT_EQUAL_FATAL(spex_convert_mobius(&cons, &mob, &err), SPEX_OK);
    CU_ASSERT_EQUAL_FATAL(mob.count, 1);
    CU_ASSERT_EQUAL(mob.terms[0].order, 0);
    CU_ASSERT_EQUAL(mob.terms[0].coef, 2.5);
    CU_ASSERT_EQUAL(spex_convert_values(&mob, 4, phi, beta, &err), SPEX_OK);
    for (int i = 0; i < 4; i++)
        CU_ASSERT(phi[i] == 0.0 && beta[i] == 0.0);
    for (int kind = 0; kind < SPEX_INDEX_KIND_COUNT; kind++)
        for (int k = 1; k <= 3; k++) {
            CU_ASSERT_EQUAL(spex_convert_index(&mob, 4, (spex_index_kind)kind, k, &out, &err),
                            SPEX_OK);
            CU_ASSERT_EQUAL_FATAL(out.count, 1);
            CU_ASSERT_EQUAL(out.terms[0].order, 0);
            CU_ASSERT_EQUAL(out.terms[0].coef, 2.5);
            spex_spectrum_free(&out);
        }
    spex_spectrum_free(&mob);
    spex_spectrum_free(&cons);
}

static void test_kind_names_round_trip(void)
{
    const char *names[] = {"sii", "stii", "fsii", "banzhaf", "fbii"};
    spex_error err;
    for (int kind = 0; kind < SPEX_INDEX_KIND_COUNT; kind++) {
        spex_index_kind got = (spex_index_kind)-1;
        spex_error_clear(&err);
        CU_ASSERT_STRING_EQUAL(spex_convert_index_name((spex_index_kind)kind), names[kind]);
        CU_ASSERT(strlen(spex_convert_index_describe((spex_index_kind)kind)) > 20);
        CU_ASSERT_EQUAL(spex_convert_index_parse(names[kind], &got, &err), SPEX_OK);
        CU_ASSERT_EQUAL(got, kind);
    }
    spex_index_kind got;
    CU_ASSERT_EQUAL(spex_convert_index_parse("FSII", &got, &err), SPEX_OK);
    CU_ASSERT_EQUAL(got, SPEX_INDEX_FSII);
    CU_ASSERT_EQUAL(spex_convert_index_parse("bii", &got, &err), SPEX_OK);
    CU_ASSERT_EQUAL(got, SPEX_INDEX_BANZHAF);
    CU_ASSERT_STRING_EQUAL(spex_convert_index_name((spex_index_kind)7), "unknown");
    spex_error_clear(&err);
    CU_ASSERT_EQUAL(spex_convert_index_parse("shap", &got, &err), SPEX_EUSAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "unknown interaction index 'shap'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "sii, stii, fsii, banzhaf or fbii"));
    spex_error_clear(&err);
    CU_ASSERT_EQUAL(spex_convert_index_parse(NULL, &got, &err), SPEX_EUSAGE);
}

/* Checks a call's status and that its message contains needle. */
static void expect(spex_status got, spex_error *err, spex_status code, const char *needle)
{
    CU_ASSERT_EQUAL(got, code);
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, needle));
    if (!strstr(err->msg, needle))
        fprintf(stderr, "\n   message was: %s (wanted '%s')", err->msg, needle);
    spex_error_clear(err);
}

static void test_bad_inputs(void)
{
    spex_spectrum s, out;
    spex_error err;
    double v[8];
    spex_error_clear(&err);
    spex_spectrum_init(&s);
    spex_term t = mask_term(0x6, 1.0); /* {1, 2} */
    CU_ASSERT_EQUAL_FATAL(spex_spectrum_push(&s, &t, &err), SPEX_OK);

    expect(spex_convert_values(&s, 0, v, v, &err), &err, SPEX_EUSAGE,
           "number of features must be positive, not 0");
    expect(spex_convert_index(&s, -3, SPEX_INDEX_SII, 2, &out, &err), &err, SPEX_EUSAGE,
           "number of features must be positive");
    CU_ASSERT_EQUAL(out.count, 0);
    expect(spex_convert_index(&s, 8, SPEX_INDEX_FSII, 0, &out, &err), &err, SPEX_EUSAGE,
           "fsii: order 0 outside 1..16");
    expect(spex_convert_index(&s, 8, SPEX_INDEX_STII, 17, &out, &err), &err, SPEX_EUSAGE,
           "stii: order 17 outside 1..16");
    expect(spex_convert_index(&s, 8, (spex_index_kind)9, 2, &out, &err), &err, SPEX_EUSAGE,
           "unknown interaction index kind 9");
    expect(spex_convert_values(&s, 2, v, v, &err), &err, SPEX_EINPUT,
           "Mobius term 0 has feature 2, outside 0..1");
    expect(spex_convert_index(&s, 2, SPEX_INDEX_SII, 2, &out, &err), &err, SPEX_EINPUT,
           "Mobius term 0 has feature 2, outside 0..1");
    CU_ASSERT_EQUAL(out.count, 0);

    s.terms[0].feat[0] = 5; /* {5, 2}: not ascending */
    expect(spex_convert_mobius(&s, &out, &err), &err, SPEX_EINPUT,
           "Fourier term 0: features not strictly ascending");
    CU_ASSERT_EQUAL(out.count, 0);
    s.terms[0].feat[0] = -1;
    expect(spex_convert_mobius(&s, &out, &err), &err, SPEX_EINPUT,
           "Fourier term 0 has feature -1");
    s.terms[0].feat[0] = 1;
    s.terms[0].order = 17;
    expect(spex_convert_mobius(&s, &out, &err), &err, SPEX_EINPUT,
           "Fourier term 0 has order 17, outside 0..16");
    s.terms[0].order = 2;
    s.terms[0].coef = NAN;
    expect(spex_convert_index(&s, 8, SPEX_INDEX_BANZHAF, 2, &out, &err), &err, SPEX_EINPUT,
           "non-finite coefficient");
    spex_spectrum_free(&s);
}

/* Many terms over many features: the hash accumulation agrees with the
 * sort-based conversion of spectrum.c and with direct sums for sampled sets,
 * including a term of the largest order. */
static void test_large_spectrum(void)
{
    spex_spectrum four, mob, ref, out;
    spex_error err;
    spex_error_clear(&err);
    CU_ASSERT_EQUAL_FATAL(spex_spectrum_generate(300, 20000, 6, 0.1, 1.0, 77, &four, &err),
                          SPEX_OK);
    spex_term big;
    memset(&big, 0, sizeof big);
    big.order = SPEX_MAX_ORDER;
    for (int q = 0; q < SPEX_MAX_ORDER; q++)
        big.feat[q] = 3 * q + 1;
    big.coef = 0.5;
    CU_ASSERT_EQUAL_FATAL(spex_spectrum_push(&four, &big, &err), SPEX_OK);
    clock_t c0 = clock();
    CU_ASSERT_EQUAL_FATAL(spex_convert_mobius(&four, &mob, &err), SPEX_OK);
    clock_t c1 = clock();
    CU_ASSERT_EQUAL_FATAL(spex_spectrum_fourier_to_mobius(&four, &ref, &err), SPEX_OK);
    CU_ASSERT_EQUAL_FATAL(ref.count, mob.count);
    for (size_t i = 0; i < ref.count; i++) {
        CU_ASSERT_EQUAL(spex_term_cmp_set(&ref.terms[i], &mob.terms[i]), 0);
        check_close(mob.terms[i].coef, ref.terms[i].coef, 1e-9, "large mobius", 0);
    }
    spex_spectrum_free(&ref);
    clock_t c2 = clock();
    CU_ASSERT_EQUAL_FATAL(spex_convert_index(&mob, 300, SPEX_INDEX_SII, 3, &out, &err), SPEX_OK);
    clock_t c3 = clock();
    fprintf(stderr, "\n   %zu Fourier -> %zu Mobius terms in %.2f s; SII(k=3): %zu sets in %.2f s",
            four.count, mob.count, (double)(c1 - c0) / CLOCKS_PER_SEC, out.count,
            (double)(c3 - c2) / CLOCKS_PER_SEC);
    check_shape(&out, 3);
    /* Direct sums SII(S) = sum_{T >= S} m(T) / (|T| - |S| + 1) for about
     * 300 output sets, the empty set among them. */
    for (size_t o = 0; o < out.count; o += out.count / 300 + 1) {
        const spex_term *S = &out.terms[o];
        long double acc = 0.0L, mag = 0.0L;
        for (size_t i = 0; i < mob.count; i++) {
            const spex_term *T = &mob.terms[i];
            int q = 0;
            for (int r = 0; r < T->order && q < S->order; r++)
                q += T->feat[r] == S->feat[q];
            if (q == S->order) {
                acc += (long double)T->coef / (T->order - S->order + 1);
                mag += fabsl((long double)T->coef);
            }
        }
        /* Sums over many large, cancelling Mobius terms: relative to their
         * magnitude. */
        CU_ASSERT(fabsl((long double)S->coef - acc) <= 1e-13L * mag);
        if (!(fabsl((long double)S->coef - acc) <= 1e-13L * mag))
            fprintf(stderr, "\n   large sii: got %.17g want %.17Lg (magnitude %.3Lg)", S->coef,
                    acc, mag);
    }
    spex_spectrum_free(&out);
    spex_spectrum_free(&mob);
    spex_spectrum_free(&four);
}

static const test_case TESTS[] = {
    {"test_mobius_matches_inversion", test_mobius_matches_inversion},
    {"test_values_match_marginal_averages", test_values_match_marginal_averages},
    {"test_sii_matches_definition", test_sii_matches_definition},
    {"test_banzhaf_index_matches_definition", test_banzhaf_index_matches_definition},
    {"test_stii_matches_definition", test_stii_matches_definition},
    {"test_fsii_matches_weighted_least_squares", test_fsii_matches_weighted_least_squares},
    {"test_fbii_matches_uniform_least_squares", test_fbii_matches_uniform_least_squares},
    {"test_identities", test_identities},
    {"test_empty_and_constant_spectra", test_empty_and_constant_spectra},
    {"test_kind_names_round_trip", test_kind_names_round_trip},
    {"test_bad_inputs", test_bad_inputs},
    {"test_large_spectrum", test_large_spectrum},
    {NULL, NULL}};

SPEX_TEST_MAIN("convert")
