/* oracle_sparse.c -- the synthetic value function with a known spectrum.
 *
 * f(x) = sum_k c_k chi_k(x) + noise, where chi_k(x) = (-1)^(k.x) in the
 * Fourier basis and chi_k(x) = [k subset of S(x)] in the Mobius basis.  The
 * truth it reports is always the Fourier spectrum (a Mobius spectrum is
 * converted exactly), because that is what SPEX recovers.  Terms are stored
 * flat (features in one int32 array) so that the per-query loop is a tight
 * scan over bit lookups.
 */
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "spex/mask.h"
#include "spex/oracle.h"
#include "spex/rng.h"

typedef struct sparse_state {
    spex_spectrum truth; /* Fourier, sorted by set */
    size_t nterms;
    int32_t *start;      /* term q's features: feat[start[q] .. start[q+1]) */
    int32_t *feat;
    double *coef;
    spex_basis basis;
    double sigma;
    uint64_t seed;
    double cost_us;
} sparse_state;

static void sparse_destroy(spex_oracle *o)
{
    sparse_state *s = o->state;
    if (s) {
        spex_spectrum_free(&s->truth);
        free(s->start);
        free(s->feat);
        free(s->coef);
        free(s);
    }
    free(o);
}

/* Burns cost_us microseconds of CPU to model an expensive model. */
static void busy_wait(double us)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &b);
        double el = (double)(b.tv_sec - a.tv_sec) * 1e6 + (double)(b.tv_nsec - a.tv_nsec) * 1e-3;
        if (el >= us)
            return;
    }
}

static spex_status sparse_eval(spex_oracle *o, size_t count, const uint64_t *masks,
                               uint64_t first_id, double *values, spex_error *err)
{
    const sparse_state *s = o->state;
    for (size_t i = 0; i < count; i++) {
        const uint64_t *m = masks + i * o->words;
        double v = 0.0;
        if (s->basis == SPEX_BASIS_FOURIER) {
            for (size_t q = 0; q < s->nterms; q++) {
                int par = spex_mask_parity(m, s->feat + s->start[q], s->start[q + 1] - s->start[q]);
                v += par ? -s->coef[q] : s->coef[q];
            }
        } else {
            for (size_t q = 0; q < s->nterms; q++)
                if (spex_mask_contains(m, s->feat + s->start[q], s->start[q + 1] - s->start[q]))
                    v += s->coef[q];
        }
        if (s->sigma > 0)
            v += s->sigma * spex_rng_normal(s->seed, SPEX_STREAM_NOISE, first_id + i);
        if (s->cost_us > 0)
            busy_wait(s->cost_us);
        values[i] = v;
    }
    return SPEX_OK;
}

spex_status spex_oracle_sparse_create(int n, spex_spectrum *spec, spex_basis basis, double sigma,
                                      uint64_t seed, double cost_us, spex_oracle **out,
                                      spex_error *err)
{
    spex_status st = SPEX_OK;
    spex_oracle *o = calloc(1, sizeof *o);
    sparse_state *s = calloc(1, sizeof *s);
    *out = NULL;
    if (o == NULL || s == NULL) {
        free(o);
        free(s);
        return spex_error_set(err, SPEX_EINTERNAL, "out of memory creating the sparse oracle");
    }
    o->state = s;
    o->n = n;
    o->words = spex_mask_words(n);
    o->kind = "sparse";
    o->eval = sparse_eval;
    o->destroy = sparse_destroy;
    spex_spectrum_init(&s->truth);
    s->basis = basis;
    s->sigma = sigma;
    s->seed = seed;
    s->cost_us = cost_us;

    size_t nfeat = 0;
    for (size_t q = 0; q < spec->count; q++)
        nfeat += (size_t)spec->terms[q].order;
    s->nterms = spec->count;
    s->start = malloc((spec->count + 1) * sizeof *s->start);
    s->feat = malloc((nfeat ? nfeat : 1) * sizeof *s->feat);
    s->coef = malloc((spec->count ? spec->count : 1) * sizeof *s->coef);
    if (s->start == NULL || s->feat == NULL || s->coef == NULL) {
        st = spex_error_set(err, SPEX_EINTERNAL, "out of memory storing %zu terms", spec->count);
        goto out;
    }
    size_t at = 0;
    for (size_t q = 0; q < spec->count; q++) {
        s->start[q] = (int32_t)at;
        for (int r = 0; r < spec->terms[q].order; r++)
            s->feat[at++] = spec->terms[q].feat[r];
        s->coef[q] = spec->terms[q].coef;
    }
    s->start[spec->count] = (int32_t)at;

    if (basis == SPEX_BASIS_MOBIUS) {
        SPEX_CHECK(spex_spectrum_mobius_to_fourier(spec, &s->truth, err));
    } else {
        s->truth = *spec;
        spex_spectrum_init(spec);
        spex_spectrum_sort_by_set(&s->truth);
    }
    o->truth = &s->truth;
    *out = o;
out:
    if (st != SPEX_OK)
        sparse_destroy(o);
    return st;
}
