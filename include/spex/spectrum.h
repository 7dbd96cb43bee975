/* spectrum.h -- sparse spectra: lists of (interaction, coefficient).
 *
 * A term is an interaction (sorted, distinct feature indices; the empty set
 * is the constant) with a coefficient.  A spectrum is a growable array of
 * terms, used for the synthetic oracle's truth, for what SPEX recovers, and
 * for the Fourier <-> Mobius conversions (ALGORITHMS.md section 1).
 */
#ifndef SPEX_SPECTRUM_H
#define SPEX_SPECTRUM_H

#include <stddef.h>
#include <stdint.h>

#include "spex/config.h"
#include "spex/error.h"

typedef struct spex_term {
    int32_t order;                   /* number of features, 0..SPEX_MAX_ORDER */
    int32_t feat[SPEX_MAX_ORDER];    /* ascending; entries past order unused */
    double coef;
} spex_term;

typedef struct spex_spectrum {
    size_t count, cap;
    spex_term *terms;
} spex_spectrum;

/* Local.  An empty spectrum (no allocation until the first push). */
void spex_spectrum_init(spex_spectrum *s);
void spex_spectrum_free(spex_spectrum *s);

/* Local.  Appends a copy of t; SPEX_EINTERNAL when out of memory. */
spex_status spex_spectrum_push(spex_spectrum *s, const spex_term *t, spex_error *err);

/* Local.  Orders terms by (order, features) lexicographically. */
void spex_spectrum_sort_by_set(spex_spectrum *s);

/* Local.  Orders terms by |coef| descending, ties by (order, features):
 * the ranked order of result files. */
void spex_spectrum_sort_ranked(spex_spectrum *s);

/* Local.  Compares two terms' feature sets (order first, then indices). */
int spex_term_cmp_set(const spex_term *a, const spex_term *b);

/* Local.  Index of the term with this feature set in a spectrum sorted by
 * set, or -1. */
long spex_spectrum_find(const spex_spectrum *s, const spex_term *key);

/* Local.  Reads a spectrum file: each non-empty line not starting with '#'
 * holds a coefficient followed by zero or more distinct 0-based feature
 * indices < n.  Errors (file:line): malformed number, index out of range,
 * repeated index, non-finite coefficient, order above SPEX_MAX_ORDER, a
 * feature set given twice.  Code SPEX_EINPUT. */
spex_status spex_spectrum_read(const char *path, int n, spex_spectrum *out, spex_error *err);

/* Local.  Generates `terms` distinct random terms over n features with
 * orders uniform in 1..max_order and |coef| uniform in [cmin, cmax] with a
 * random sign, from (seed, SPEX_STREAM_SPECTRUM, counter). */
spex_status spex_spectrum_generate(int n, int terms, int max_order, double cmin, double cmax,
                                   uint64_t seed, spex_spectrum *out, spex_error *err);

/* Local.  Exact Mobius -> Fourier conversion:
 * F(k) = (-1)^|k| sum_{T >= k} m(T) 2^-|T|.  Output sorted by set, terms
 * with coefficient exactly 0 dropped. */
spex_status spex_spectrum_mobius_to_fourier(const spex_spectrum *mob, spex_spectrum *out,
                                            spex_error *err);

/* Local.  Exact Fourier -> Mobius conversion:
 * m(T) = (-2)^|T| sum_{k >= T} F(k).  Output sorted by set. */
spex_status spex_spectrum_fourier_to_mobius(const spex_spectrum *four, spex_spectrum *out,
                                            spex_error *err);

/* Comparison of a recovered spectrum against the truth. */
typedef struct spex_recovery {
    size_t true_terms;     /* terms in the truth */
    size_t found;          /* true terms present in the recovered spectrum */
    size_t false_terms;    /* recovered terms absent from the truth with |coef| > floor */
    double max_rel_err;    /* max |c_rec - c_true| / |c_true| over found terms */
} spex_recovery;

/* Local.  truth must be sorted by set.  floor: recovered terms absent from
 * the truth count as false only when |coef| > floor. */
void spex_spectrum_compare(const spex_spectrum *truth, const spex_spectrum *found, double floor,
                           spex_recovery *rec);

#endif
