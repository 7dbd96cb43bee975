/* test_proxy.c -- ProxySPEX pieces against independent computations.
 *
 * Tree extraction: the spectrum read from an ensemble must equal the
 * brute-force Walsh-Hadamard transform (a plain O(4^n) sum here) of the
 * ensemble over all 2^n masks, for ensembles trained through XGBoost's C
 * API on random data and for a hand-written model whose spectrum is worked
 * out by hand.  The ensemble's values come from two places:
 *  - spex_proxy_model_eval, a double-precision tree walk: the extraction
 *    must match its transform to 1e-12 (both are exact up to rounding of a
 *    few additions of exactly representable numbers);
 *  - XGBoost's own predictions (XGBoosterPredictFromDense), which sum the
 *    base score and T leaf values in float32: each prediction is within
 *    (T + 1) 2^-24 S of the exact sum, S = |base| + sum_t max |leaf_t| (a
 *    bound on every partial sum), and a Fourier coefficient, an average of
 *    +-predictions, inherits the same bound.  The tests use twice it.
 * Agreement with XGBoost is what proves that the split semantics (x <
 * threshold goes left, missing values follow default_left) are read right.
 *
 * Refinement: the coefficients must equal the dense least-squares solution
 * (normal equations built from every row, Gaussian elimination here).
 */
#include <float.h>
#include <stdint.h>
#include <string.h>
#include <xgboost/c_api.h>

#include "spex/mask.h"
#include "spex/proxy.h"
#include "spex/rng.h"
#include "testutil.h"

/* ---- helpers ------------------------------------------------------------------ */

static uint64_t rng_state = 88172645463325252ULL;

static uint64_t next_u64(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static double next_unit(void) { return (double)(next_u64() >> 11) * 0x1.0p-53; }

/* Mask of integer x (bit i = feature i), n <= 64. */
static void mask_of(uint64_t x, uint64_t *mask) { mask[0] = x; }

/* Brute-force WHT: F(k) = 2^-n sum_x v(x) (-1)^{|k & x|}. */
static void brute_wht(int n, const double *v, double *F)
{
    size_t N = (size_t)1 << n;
    for (size_t k = 0; k < N; k++) {
        double s = 0;
        for (size_t x = 0; x < N; x++)
            s += __builtin_popcountll(k & x) & 1 ? -v[x] : v[x];
        F[k] = s / (double)N;
    }
}

/* The spectrum as a dense array over all 2^n sets. */
static void dense_of(const spex_spectrum *s, int n, double *F)
{
    memset(F, 0, ((size_t)1 << n) * sizeof *F);
    for (size_t i = 0; i < s->count; i++) {
        size_t k = 0;
        for (int q = 0; q < s->terms[i].order; q++)
            k |= (size_t)1 << s->terms[i].feat[q];
        F[k] += s->terms[i].coef;
    }
}

/* XGBoost's predictions on all 2^n masks (dense 0/1 floats); missing is
 * "0.0" (an unset bit is missing, the proxy's encoding) or "NaN". */
static int xgb_predict_all(BoosterHandle b, int n, const char *missing, double *out)
{
    size_t N = (size_t)1 << n;
    float *X = malloc(N * (size_t)n * sizeof *X);
    for (size_t x = 0; x < N; x++)
        for (int j = 0; j < n; j++)
            X[x * (size_t)n + (size_t)j] = (float)((x >> j) & 1);
    char values[256], conf[256];
    snprintf(values, sizeof values,
             "{\"data\": [%llu, true], \"shape\": [%zu, %d], \"typestr\": \"<f4\", \"version\": 3}",
             (unsigned long long)(uintptr_t)X, N, n);
    snprintf(conf, sizeof conf,
             "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, \"iteration_end\": 0, "
             "\"strict_shape\": false, \"cache_id\": 0, \"missing\": %s}",
             missing);
    bst_ulong const *shape;
    bst_ulong dim;
    const float *pred;
    int rc = XGBoosterPredictFromDense(b, values, conf, NULL, &shape, &dim, &pred);
    if (rc == 0)
        for (size_t x = 0; x < N; x++)
            out[x] = pred[x];
    free(X);
    return rc;
}

/* Twice the float32 accumulation bound (see the file comment). */
static double float_tolerance(const spex_proxy_model *m)
{
    double s = fabs(m->base_score);
    for (int t = 0; t < m->n_trees; t++) {
        size_t end = t + 1 < m->n_trees ? m->root[t + 1] : m->n_nodes;
        double most = 0;
        for (size_t i = m->root[t]; i < end; i++)
            if (m->left[i] < 0)
                most = fmax(most, fabs((double)m->value[i]));
        s += most;
    }
    return 2.0 * (m->n_trees + 1) * ldexp(1.0, -24) * s;
}

/* Checks the extracted spectrum of a model (JSON) against the walk's and
 * XGBoost's transforms; max_order < n also checks the truncation. */
static void check_model(const char *json, size_t len, int n, int zero_missing, int max_order)
{
    spex_error err;
    spex_error_clear(&err);
    spex_proxy_model m;
    CU_ASSERT_FATAL(spex_proxy_model_parse(json, len, zero_missing, &m, &err) == SPEX_OK);
    spex_spectrum s;
    CU_ASSERT_FATAL(spex_proxy_extract(MPI_COMM_SELF, &m, max_order, &s, &err) == SPEX_OK);
    size_t N = (size_t)1 << n;
    double *walk = malloc(N * sizeof *walk), *xgb = malloc(N * sizeof *xgb);
    double *Fw = malloc(N * sizeof *Fw), *Fx = malloc(N * sizeof *Fx), *Fs = malloc(N * sizeof *Fs);
    for (size_t x = 0; x < N; x++) {
        uint64_t mask[1];
        mask_of(x, mask);
        walk[x] = spex_proxy_model_eval(&m, mask);
    }
    BoosterHandle b;
    CU_ASSERT_FATAL(XGBoosterCreate(NULL, 0, &b) == 0);
    CU_ASSERT_FATAL(XGBoosterLoadModelFromBuffer(b, json, len) == 0);
    CU_ASSERT_FATAL(xgb_predict_all(b, n, zero_missing ? "0.0" : "NaN", xgb) == 0);
    XGBoosterFree(b);
    double ftol = float_tolerance(&m), scale = 0, worst_point = 0, worst_w = 0, worst_x = 0;
    for (size_t x = 0; x < N; x++) {
        worst_point = fmax(worst_point, fabs(walk[x] - xgb[x]));
        scale = fmax(scale, fabs(walk[x]));
    }
    brute_wht(n, walk, Fw);
    brute_wht(n, xgb, Fx);
    dense_of(&s, n, Fs);
    for (size_t k = 0; k < N; k++) {
        int order = __builtin_popcountll(k);
        double want = order <= max_order ? Fw[k] : 0.0;
        worst_w = fmax(worst_w, fabs(Fs[k] - want));
        if (order <= max_order)
            worst_x = fmax(worst_x, fabs(Fs[k] - Fx[k]));
    }
    CU_ASSERT(worst_point <= ftol);
    CU_ASSERT(worst_w <= 1e-12 * fmax(1.0, scale));
    CU_ASSERT(worst_x <= ftol);
    if (!(worst_w <= 1e-12 * fmax(1.0, scale)) || !(worst_x <= ftol) || !(worst_point <= ftol))
        printf("\n  n=%d trees=%d: walk vs xgb %.3g, spectrum vs walk %.3g, vs xgb %.3g "
               "(tol %.3g)\n",
               n, m.n_trees, worst_point, worst_w, worst_x, ftol);
    for (size_t i = 0; i < s.count; i++)
        CU_ASSERT(s.terms[i].order <= max_order);
    spex_spectrum_free(&s);
    spex_proxy_model_free(&m);
    free(walk);
    free(xgb);
    free(Fw);
    free(Fx);
    free(Fs);
}

/* Random training data: m masks over n features and y = a few random
 * products of bits plus noise. */
static void random_data(int n, size_t m, uint64_t *masks, double *y)
{
    int a = (int)(next_u64() % (uint64_t)n), b = (int)(next_u64() % (uint64_t)n);
    int c = (int)(next_u64() % (uint64_t)n);
    for (size_t i = 0; i < m; i++) {
        masks[i] = next_u64() & ((n == 64 ? 0 : (uint64_t)1 << n) - 1);
        int xa = (int)(masks[i] >> a) & 1, xb = (int)(masks[i] >> b) & 1;
        int xc = (int)(masks[i] >> c) & 1;
        y[i] = 2.0 * xa - 1.5 * (xa ^ xb) + 0.7 * xb * xc + 0.3 * (next_unit() - 0.5);
    }
}

/* ---- tests ------------------------------------------------------------------------ */

/* One tree over 3 features, read with an unset bit as missing:
 *   node 0: x0 < 2 (1 goes left), missing right   -> x0 = 1: node 1, x0 = 0: node 2
 *   node 1: x1 < 0.5 (1 goes right), missing left -> x1 = 0: node 3, x1 = 1: leaf -1
 *   node 3: x0 again (x0 = 1 on this path)        -> leaf 3 (leaf 100 unreachable)
 *   node 2: x2 < 0.5, missing right: both values go right -> leaf 2 (leaf 50 never)
 * so f = 0.5 + [x0=0] 2 + [x0=1][x1=0] 3 - [x0=1][x1=1], and by hand
 *   f = 2 + 0.5 chi_0 + chi_1 - chi_01.
 * Read with unset bits as the value 0 (0 < 2 goes left too): f = 0.5 + (x1 ?
 * -1 : 3) = 1.5 + 2 chi_1. */
static const char HAND_MODEL[] =
    "{\"learner\": {\"attributes\": {}, \"feature_names\": [], \"feature_types\": [],"
    " \"gradient_booster\": {\"model\": {\"gbtree_model_param\": {\"num_parallel_tree\": \"1\","
    " \"num_trees\": \"1\", \"size_leaf_vector\": \"0\"}, \"tree_info\": [0], \"trees\": [{"
    " \"base_weights\": [0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0], \"categories\": [],"
    " \"categories_nodes\": [], \"categories_segments\": [], \"categories_sizes\": [],"
    " \"default_left\": [0, 1, 0, 0, 0, 0, 0, 0, 0], \"id\": 0,"
    " \"left_children\": [1, 3, 7, 5, -1, -1, -1, -1, -1],"
    " \"right_children\": [2, 4, 8, 6, -1, -1, -1, -1, -1],"
    " \"loss_changes\": [0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0],"
    " \"parents\": [2147483647, 0, 0, 1, 1, 3, 3, 2, 2],"
    " \"split_conditions\": [2.0, 0.5, 0.5, 2.0, -1.0, 3.0, 100.0, 50.0, 2.0],"
    " \"split_indices\": [0, 1, 2, 0, 0, 0, 0, 0, 0], \"split_type\": [0,0,0,0,0,0,0,0,0],"
    " \"sum_hessian\": [1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0],"
    " \"tree_param\": {\"num_deleted\": \"0\", \"num_feature\": \"3\", \"num_nodes\": \"9\","
    " \"size_leaf_vector\": \"0\"}}]}, \"name\": \"gbtree\"},"
    " \"learner_model_param\": {\"base_score\": \"5E-1\", \"boost_from_average\": \"1\","
    " \"num_class\": \"0\", \"num_feature\": \"3\", \"num_target\": \"1\"},"
    " \"objective\": {\"name\": \"reg:squarederror\", \"reg_loss_param\": {\"scale_pos_weight\":"
    " \"1\"}}}, \"version\": [1, 7, 4]}";

static void expect_spectrum(const spex_spectrum *s, int n, const double *want)
{
    double *F = malloc(((size_t)1 << n) * sizeof *F);
    dense_of(s, n, F);
    for (size_t k = 0; k < (size_t)1 << n; k++)
        CU_ASSERT_DOUBLE_EQUAL(F[k], want[k], 1e-15);
    free(F);
}

static void test_hand_model_missing_is_zero(void)
{
    spex_error err;
    spex_error_clear(&err);
    spex_proxy_model m;
    CU_ASSERT_FATAL(spex_proxy_model_parse(HAND_MODEL, strlen(HAND_MODEL), 1, &m, &err) == SPEX_OK);
    CU_ASSERT_EQUAL(m.n_trees, 1);
    CU_ASSERT_EQUAL(m.n_features, 3);
    /* Sets as bit masks: {} 0, {0} 1, {1} 2, {0,1} 3, ... */
    const double want[8] = {2.0, 0.5, 1.0, -1.0, 0, 0, 0, 0};
    const double f[8] = {2.5, 3.5, 2.5, -0.5, 2.5, 3.5, 2.5, -0.5};
    for (uint64_t x = 0; x < 8; x++)
        CU_ASSERT_DOUBLE_EQUAL(spex_proxy_model_eval(&m, &x), f[x], 0);
    spex_spectrum s;
    CU_ASSERT_FATAL(spex_proxy_extract_trees(&m, 0, 1, 16, &s, &err) == SPEX_OK);
    /* extract_trees leaves out the base score */
    for (size_t i = 0; i < s.count; i++)
        if (s.terms[i].order == 0)
            s.terms[i].coef += 0.5;
    expect_spectrum(&s, 3, want);
    spex_spectrum_free(&s);
    spex_proxy_model_free(&m);
    check_model(HAND_MODEL, strlen(HAND_MODEL), 3, 1, 16);
}

static void test_hand_model_zero_is_a_value(void)
{
    spex_error err;
    spex_error_clear(&err);
    spex_proxy_model m;
    CU_ASSERT_FATAL(spex_proxy_model_parse(HAND_MODEL, strlen(HAND_MODEL), 0, &m, &err) == SPEX_OK);
    const double want[8] = {1.5, 0, 2.0, 0, 0, 0, 0, 0};
    spex_spectrum s;
    CU_ASSERT_FATAL(spex_proxy_extract(MPI_COMM_SELF, &m, 16, &s, &err) == SPEX_OK);
    expect_spectrum(&s, 3, want);
    spex_spectrum_free(&s);
    spex_proxy_model_free(&m);
    check_model(HAND_MODEL, strlen(HAND_MODEL), 3, 0, 16);
}

/* Ensembles trained by spex_proxy_train (sparse rows, unset = missing). */
static void test_trained_ensembles_match_brute_force(void)
{
    const int ns[] = {4, 7, 10, 12}, depths[] = {2, 4, 6, 5};
    for (int c = 0; c < 4; c++) {
        int n = ns[c];
        size_t m = 400, h = c % 2 ? 80 : 0;
        uint64_t *masks = malloc(m * sizeof *masks);
        double *y = malloc(m * sizeof *y);
        random_data(n, m, masks, y);
        spex_proxy_params p = {depths[c], 40, 5, 2, c == 3, 0.3, 7};
        char *json = NULL;
        size_t len = 0;
        spex_proxy_fit fit;
        spex_error err;
        spex_error_clear(&err);
        CU_ASSERT_FATAL(spex_proxy_train(n, m, h, 1, masks, y, &p, &json, &len, &fit, &err) ==
                        SPEX_OK);
        CU_ASSERT(fit.trees >= 1 && fit.trees <= fit.rounds && fit.rounds <= 40);
        CU_ASSERT(h == 0 ? isnan(fit.holdout_rmse) : fit.holdout_rmse < 1.0);
        check_model(json, len, n, 1, 16);
        check_model(json, len, n, 1, 2); /* truncated at order 2 */
        free(json);
        free(masks);
        free(y);
    }
}

/* The held-out RMSE that early stopping uses (one new tree per round, walked
 * on the packed masks) against XGBoost's own predictions: the kept model's
 * RMSE is XGBoost's, and no shorter prefix of it is better. */
static void test_holdout_rmse_matches_xgboost(void)
{
    int n = 10;
    size_t m = 600, h = 150, ntrain = m - h;
    uint64_t *masks = malloc(m * sizeof *masks);
    double *y = malloc(m * sizeof *y);
    float *X = malloc(h * (size_t)n * sizeof *X);
    random_data(n, m, masks, y);
    for (size_t i = 0; i < h; i++)
        for (int j = 0; j < n; j++)
            X[i * (size_t)n + (size_t)j] = (float)((masks[ntrain + i] >> j) & 1);
    char values[256], conf[256];
    snprintf(values, sizeof values,
             "{\"data\": [%llu, true], \"shape\": [%zu, %d], \"typestr\": \"<f4\", "
             "\"version\": 3}",
             (unsigned long long)(uintptr_t)X, h, n);
    for (int stop = 3; stop <= 60; stop += 57) {
        spex_proxy_params p = {3, 60, stop, 1, 0, 0.3, 11};
        char *json = NULL;
        size_t len = 0;
        spex_proxy_fit fit;
        spex_error err;
        spex_error_clear(&err);
        CU_ASSERT_FATAL(spex_proxy_train(n, m, h, 1, masks, y, &p, &json, &len, &fit, &err) ==
                        SPEX_OK);
        CU_ASSERT(fit.trees <= fit.rounds && fit.holdout_seconds >= 0 && !fit.retrained);
        CU_ASSERT(fit.rounds == 60 || fit.rounds == fit.trees + stop);
        BoosterHandle b;
        CU_ASSERT_FATAL(XGBoosterCreate(NULL, 0, &b) == 0);
        CU_ASSERT_FATAL(XGBoosterLoadModelFromBuffer(b, json, len) == 0);
        double kept = NAN, best_prefix = INFINITY;
        for (int r = 1; r <= fit.trees; r++) {
            snprintf(conf, sizeof conf,
                     "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, "
                     "\"iteration_end\": %d, \"strict_shape\": false, \"cache_id\": 0, "
                     "\"missing\": 0.0}",
                     r);
            bst_ulong const *shape;
            bst_ulong dim;
            const float *pred;
            CU_ASSERT_FATAL(XGBoosterPredictFromDense(b, values, conf, NULL, &shape, &dim, &pred) ==
                            0);
            double ss = 0;
            for (size_t i = 0; i < h; i++)
                ss += ((double)pred[i] - y[ntrain + i]) * ((double)pred[i] - y[ntrain + i]);
            double rmse = sqrt(ss / (double)h);
            if (r == fit.trees)
                kept = rmse;
            else
                best_prefix = fmin(best_prefix, rmse);
        }
        /* float32 predictions: agreement to about 1e-6 of the RMSE */
        CU_ASSERT(fabs(fit.holdout_rmse - kept) <= 1e-5 * kept);
        CU_ASSERT(best_prefix >= kept * (1 - 1e-5));
        double var = 0, mean = 0;
        for (size_t i = 0; i < h; i++)
            mean += y[ntrain + i] / (double)h;
        for (size_t i = 0; i < h; i++)
            var += (y[ntrain + i] - mean) * (y[ntrain + i] - mean) / (double)h;
        CU_ASSERT(fabs(fit.holdout_r2 - (1 - kept * kept / var)) <= 1e-4);
        XGBoosterFree(b);
        free(json);
    }
    free(X);
    free(masks);
    free(y);
}

/* A model trained on dense 0/1 rows (zeros are values, not missing). */
static void test_dense_trained_ensemble_matches_brute_force(void)
{
    int n = 9;
    size_t m = 500;
    uint64_t *masks = malloc(m * sizeof *masks);
    double *y = malloc(m * sizeof *y);
    float *X = malloc(m * (size_t)n * sizeof *X), *label = malloc(m * sizeof *label);
    random_data(n, m, masks, y);
    for (size_t i = 0; i < m; i++) {
        label[i] = (float)y[i];
        for (int j = 0; j < n; j++)
            X[i * (size_t)n + (size_t)j] = (float)((masks[i] >> j) & 1);
    }
    DMatrixHandle d;
    BoosterHandle b;
    CU_ASSERT_FATAL(XGDMatrixCreateFromMat(X, m, (bst_ulong)n, NAN, &d) == 0);
    CU_ASSERT_FATAL(XGDMatrixSetFloatInfo(d, "label", label, m) == 0);
    CU_ASSERT_FATAL(XGBoosterCreate(&d, 1, &b) == 0);
    XGBoosterSetParam(b, "tree_method", "hist");
    XGBoosterSetParam(b, "max_depth", "5");
    XGBoosterSetParam(b, "nthread", "1");
    XGBoosterSetParam(b, "verbosity", "0");
    for (int r = 0; r < 25; r++)
        CU_ASSERT_FATAL(XGBoosterUpdateOneIter(b, r, d) == 0);
    bst_ulong len;
    const char *buf;
    CU_ASSERT_FATAL(XGBoosterSaveModelToBuffer(b, "{\"format\": \"json\"}", &len, &buf) == 0);
    char *json = malloc(len + 1);
    memcpy(json, buf, len);
    check_model(json, len, n, 0, 16);
    free(json);
    XGBoosterFree(b);
    XGDMatrixFree(d);
    free(masks);
    free(y);
    free(X);
    free(label);
}

/* More trees than one extraction chunk: the chunked sum equals the sum of
 * single trees, and the spectrum is sorted by set. */
static void test_extract_over_chunks_equals_tree_sum(void)
{
    int n = 8;
    size_t m = 300;
    uint64_t *masks = malloc(m * sizeof *masks);
    double *y = malloc(m * sizeof *y);
    random_data(n, m, masks, y);
    spex_proxy_params p = {3, 3 * SPEX_PROXY_TREE_CHUNK + 5, 5, 1, 0, 0.1, 3};
    char *json = NULL;
    size_t len = 0;
    spex_proxy_fit fit;
    spex_error err;
    spex_error_clear(&err);
    CU_ASSERT_FATAL(spex_proxy_train(n, m, 0, 1, masks, y, &p, &json, &len, &fit, &err) == SPEX_OK);
    spex_proxy_model mod;
    CU_ASSERT_FATAL(spex_proxy_model_parse(json, len, 1, &mod, &err) == SPEX_OK);
    CU_ASSERT_EQUAL(mod.n_trees, p.trees);
    spex_spectrum all;
    CU_ASSERT_FATAL(spex_proxy_extract(MPI_COMM_SELF, &mod, 16, &all, &err) == SPEX_OK);
    for (size_t i = 1; i < all.count; i++)
        CU_ASSERT(spex_term_cmp_set(&all.terms[i - 1], &all.terms[i]) < 0);
    double *F = calloc(256, sizeof *F), *G = malloc(256 * sizeof *G);
    F[0] = mod.base_score;
    for (int t = 0; t < mod.n_trees; t++) {
        spex_spectrum one;
        CU_ASSERT_FATAL(spex_proxy_extract_trees(&mod, t, t + 1, 16, &one, &err) == SPEX_OK);
        dense_of(&one, n, G);
        for (int k = 0; k < 256; k++)
            F[k] += G[k];
        spex_spectrum_free(&one);
    }
    dense_of(&all, n, G);
    for (int k = 0; k < 256; k++)
        CU_ASSERT_DOUBLE_EQUAL(G[k], F[k], 1e-12);
    free(F);
    free(G);
    spex_spectrum_free(&all);
    spex_proxy_model_free(&mod);
    free(json);
    free(masks);
    free(y);
}

static void push_term(spex_spectrum *s, double coef, int order, int f0, int f1)
{
    spex_term t;
    spex_error err;
    memset(&t, 0, sizeof t);
    t.order = order;
    t.feat[0] = f0;
    t.feat[1] = f1;
    t.coef = coef;
    spex_error_clear(&err);
    spex_spectrum_push(s, &t, &err);
}

static void test_select_by_count_and_energy(void)
{
    spex_spectrum all, kept;
    spex_error err;
    spex_error_clear(&err);
    spex_spectrum_init(&all);
    push_term(&all, 5.0, 0, 0, 0);
    push_term(&all, 0.1, 1, 2, 0);
    push_term(&all, -3.0, 1, 4, 0);
    push_term(&all, 2.0, 2, 1, 3);
    push_term(&all, 1.0, 2, 2, 5);
    spex_spectrum_sort_by_set(&all);
    /* energies 9, 4, 1, 0.01 of 14.01 */
    CU_ASSERT(spex_proxy_select(&all, 1000, 1.0, &kept, &err) == SPEX_OK);
    CU_ASSERT_EQUAL(kept.count, 5);
    spex_spectrum_free(&kept);
    CU_ASSERT(spex_proxy_select(&all, 2, 1.0, &kept, &err) == SPEX_OK);
    CU_ASSERT_EQUAL(kept.count, 3); /* constant + {4} + {1,3} */
    CU_ASSERT_EQUAL(kept.terms[0].order, 0);
    CU_ASSERT_DOUBLE_EQUAL(kept.terms[0].coef, 5.0, 0);
    CU_ASSERT_EQUAL(kept.terms[1].feat[0], 4);
    CU_ASSERT_EQUAL(kept.terms[2].order, 2);
    spex_spectrum_free(&kept);
    CU_ASSERT(spex_proxy_select(&all, 1000, 0.9, &kept, &err) == SPEX_OK);
    CU_ASSERT_EQUAL(kept.count, 3); /* 13/14.01 >= 0.9 > 9/14.01 */
    spex_spectrum_free(&kept);
    CU_ASSERT(spex_proxy_select(&all, 0, 1.0, &kept, &err) == SPEX_OK);
    CU_ASSERT_EQUAL(kept.count, 1); /* the constant alone */
    spex_spectrum_free(&kept);
    spex_spectrum_free(&all);
}

static void check_refine(double lambda)
{
    int n = 150;
    size_t words = spex_mask_words(n), m = 1000; /* not a multiple of the row chunk */
    uint64_t *masks = malloc(m * words * sizeof *masks);
    double *y = malloc(m * sizeof *y);
    for (size_t i = 0; i < m; i++)
        spex_proxy_mask(5, n, i, masks + i * words);
    spex_spectrum terms;
    spex_error err;
    spex_error_clear(&err);
    CU_ASSERT_FATAL(spex_spectrum_generate(n, 14, 3, 0.5, 2.0, 9, &terms, &err) == SPEX_OK);
    push_term(&terms, 0.0, 0, 0, 0);
    spex_spectrum_sort_by_set(&terms);
    for (size_t i = 0; i < m; i++) {
        y[i] = 3.0 + 0.2 * (next_unit() - 0.5);
        for (size_t k = 0; k < terms.count; k++) {
            const spex_term *t = &terms.terms[k];
            y[i] += (spex_mask_parity(masks + i * words, t->feat, t->order) ? -1 : 1) * t->coef *
                    (0.9 + 0.2 * next_unit());
        }
    }
    int K = (int)terms.count;
    double *G = calloc((size_t)K * (size_t)K, sizeof *G), *r = calloc((size_t)K, sizeof *r);
    for (size_t i = 0; i < m; i++) {
        double a[32];
        for (int k = 0; k < K; k++)
            a[k] = spex_mask_parity(masks + i * words, terms.terms[k].feat, terms.terms[k].order)
                       ? -1.0
                       : 1.0;
        for (int k = 0; k < K; k++) {
            r[k] += a[k] * y[i];
            for (int j = 0; j < K; j++)
                G[k * K + j] += a[k] * a[j];
        }
    }
    for (int k = 0; k < K; k++)
        G[k * K + k] += lambda * (double)m;
    test_gauss_solve(K, G, r);
    CU_ASSERT_FATAL(spex_proxy_refine(MPI_COMM_SELF, 0, m, words, masks, y, lambda, &terms, &err) ==
                    SPEX_OK);
    for (int k = 0; k < K; k++)
        ASSERT_CLOSE(terms.terms[k].coef, r[k], 1e-12);
    spex_spectrum_free(&terms);
    free(G);
    free(r);
    free(masks);
    free(y);
}

static void test_refine_matches_dense_least_squares(void) { check_refine(0.0); }
static void test_refine_ridge_matches_dense(void) { check_refine(0.05); }

static void test_refine_rejects_unaligned_rows(void)
{
    spex_spectrum terms;
    spex_error err;
    uint64_t mask[1] = {0};
    double y[1] = {1};
    spex_spectrum_init(&terms);
    push_term(&terms, 0.0, 0, 0, 0);
    spex_error_clear(&err);
    CU_ASSERT(spex_proxy_refine(MPI_COMM_SELF, 3, 1, 1, mask, y, 0, &terms, &err) ==
              SPEX_EINTERNAL);
    spex_spectrum_free(&terms);
}

/* A broken copy of HAND_MODEL: replace `from` by `to` once. */
static void expect_rejected(const char *from, const char *to, const char *msg_part)
{
    char buf[sizeof HAND_MODEL + 64];
    const char *at = strstr(HAND_MODEL, from);
    CU_ASSERT_FATAL(at != NULL);
    size_t pre = (size_t)(at - HAND_MODEL);
    snprintf(buf, sizeof buf, "%.*s%s%s", (int)pre, HAND_MODEL, to, at + strlen(from));
    spex_proxy_model m;
    spex_error err;
    spex_error_clear(&err);
    CU_ASSERT(spex_proxy_model_parse(buf, strlen(buf), 1, &m, &err) == SPEX_EINPUT);
    CU_ASSERT(strstr(err.msg, msg_part) != NULL);
    if (strstr(err.msg, msg_part) == NULL)
        printf("\n  message for %s -> %s: %s\n", from, to, err.msg);
}

static void test_parse_rejects_what_it_cannot_expand(void)
{
    expect_rejected("\"name\": \"gbtree\"", "\"name\": \"dart\"", "dart");
    expect_rejected("\"split_type\": [0,0,0", "\"split_type\": [0,1,0", "categorical");
    expect_rejected("\"left_children\": [1, 3, 7, 5", "\"left_children\": [1, 3, 7, 0",
                    "reached twice");
    expect_rejected("\"right_children\": [2, 4, 8", "\"right_children\": [2, 4, 9", "bad child");
    expect_rejected("\"split_indices\": [0, 1, 2", "\"split_indices\": [0, 1, 7", "feature 7");
    expect_rejected("\"num_target\": \"1\"", "\"num_target\": \"2\"", "single-output");
    expect_rejected("{\"learner\"", "[{\"learner\"", "JSON");
}

static void test_sample_masks(void)
{
    int n = 100;
    uint64_t a[2], b[2], ones = 0;
    for (uint64_t i = 0; i < 200; i++) {
        spex_proxy_mask(11, n, i, a);
        spex_proxy_mask(11, n, i, b);
        CU_ASSERT(a[0] == b[0] && a[1] == b[1]);
        CU_ASSERT((a[1] >> 36) == 0); /* bits past n are clear */
        ones += (uint64_t)__builtin_popcountll(a[0]) + (uint64_t)__builtin_popcountll(a[1]);
    }
    CU_ASSERT(ones > 9000 && ones < 11000); /* 10000 expected */
    spex_proxy_mask(12, n, 0, b);
    spex_proxy_mask(11, n, 0, a);
    CU_ASSERT(a[0] != b[0]);
    CU_ASSERT_EQUAL(spex_proxy_default_samples(10), 1000);
    CU_ASSERT_EQUAL(spex_proxy_default_samples(300), 3000);
    CU_ASSERT_EQUAL(spex_proxy_default_samples(10000), 10000);
}

static const test_case TESTS[] = {
    {"hand_model_missing_is_zero", test_hand_model_missing_is_zero},
    {"hand_model_zero_is_a_value", test_hand_model_zero_is_a_value},
    {"trained_ensembles_match_brute_force", test_trained_ensembles_match_brute_force},
    {"dense_trained_ensemble_matches_brute_force", test_dense_trained_ensemble_matches_brute_force},
    {"holdout_rmse_matches_xgboost", test_holdout_rmse_matches_xgboost},
    {"extract_over_chunks_equals_tree_sum", test_extract_over_chunks_equals_tree_sum},
    {"select_by_count_and_energy", test_select_by_count_and_energy},
    {"refine_matches_dense_least_squares", test_refine_matches_dense_least_squares},
    {"refine_ridge_matches_dense", test_refine_ridge_matches_dense},
    {"refine_rejects_unaligned_rows", test_refine_rejects_unaligned_rows},
    {"parse_rejects_what_it_cannot_expand", test_parse_rejects_what_it_cannot_expand},
    {"sample_masks", test_sample_masks},
    {NULL, NULL}};

SPEX_TEST_MAIN("proxy")
