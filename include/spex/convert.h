/* convert.h -- values and interaction indices from a recovered spectrum.
 *
 * Everything here is a linear map of the sparse spectrum SPEX recovered, so
 * it costs no new queries.  The route is Fourier -> Mobius (complete
 * expansion, spex_convert_mobius) and then, from the Mobius coefficients,
 * Shapley and Banzhaf values (spex_convert_values) or one of five interaction
 * indices (spex_convert_index).  Convention (as in SHAP-IQ): the value of a
 * coalition S is f(mask keeping exactly the features in S).  The formulas are
 * ALGORITHMS.md section 2; doc/interaction-indices.md explains each output
 * for users and gives the cost.
 */
#ifndef SPEX_CONVERT_H
#define SPEX_CONVERT_H

#include "spex/error.h"
#include "spex/spectrum.h"

/* The interaction indices spex_convert_index computes.  For each, the value
 * of a set S (|S| = s) in terms of Mobius coefficients m(T), sums over
 * T containing S, k the order argument:
 *   SII      Shapley interaction index       sum m(T) / (|T| - s + 1)
 *   STII     Shapley-Taylor index of order k s < k: m(S);
 *                                            s = k: sum m(T) / C(|T|, k)
 *   FSII     Faith-Shapley index of order k  Shapley-kernel weighted
 *                                            least-squares fit of order k
 *   BANZHAF  Banzhaf interaction index       sum m(T) / 2^(|T| - s)
 *   FBII     Faith-Banzhaf index of order k  uniform least-squares fit of
 *                                            order k (truncated Fourier) */
typedef enum spex_index_kind {
    SPEX_INDEX_SII = 0,
    SPEX_INDEX_STII = 1,
    SPEX_INDEX_FSII = 2,
    SPEX_INDEX_BANZHAF = 3,
    SPEX_INDEX_FBII = 4
} spex_index_kind;

#define SPEX_INDEX_KIND_COUNT 5

/* Local.  Complete Mobius expansion of a Fourier spectrum:
 * m(T) = (-2)^|T| sum_{k >= T} F(k).  Writes a new spectrum to *mobius
 * (caller frees with spex_spectrum_free), sorted by set; sets whose value
 * sums to exactly 0 are left out.  A Fourier term of order d feeds its 2^d
 * subsets; memory is proportional to the number of distinct output sets.
 * Errors: SPEX_EINPUT for a term whose order is outside 0..SPEX_MAX_ORDER or
 * whose features are not strictly ascending and non-negative;
 * SPEX_EINTERNAL when out of memory.  On error *mobius is empty. */
spex_status spex_convert_mobius(const spex_spectrum *fourier, spex_spectrum *mobius,
                                spex_error *err);

/* Local.  Shapley values phi_i = sum_{T containing i} m(T) / |T| and Banzhaf values
 * beta_i = sum_{T containing i} m(T) / 2^(|T|-1) of the n features, from a Mobius
 * spectrum.  shapley and banzhaf are arrays of length n, either may be NULL;
 * they are overwritten.  Cost: sum of the orders of the terms.
 * Errors: SPEX_EUSAGE for n < 1, SPEX_EINPUT for a term with a feature
 * outside 0..n-1 or not strictly ascending (outputs then untouched). */
spex_status spex_convert_values(const spex_spectrum *mobius, int n, double *shapley,
                                double *banzhaf, spex_error *err);

/* Local.  The interaction index `kind` of every set S with |S| <= order_k
 * (the empty set included) whose value is not exactly 0, from a Mobius
 * spectrum over n features.  Every such S is a subset of some term of the
 * spectrum, so only those subsets are visited.  For SII and BANZHAF the value
 * of S does not depend on order_k (it only bounds the output); for STII, FSII
 * and FBII order_k is the order of the index.  Writes a new spectrum to *out
 * (caller frees), sorted by set; spex_spectrum_sort_ranked ranks it.
 * Cost: a Mobius term of order t visits sum_{s <= order_k} C(t, s) subsets
 * (fewer for STII); memory is proportional to the number of distinct output
 * sets.  Errors: SPEX_EUSAGE for n < 1, an unknown kind or order_k outside
 * 1..SPEX_MAX_ORDER; SPEX_EINPUT for a bad term (as spex_convert_values);
 * SPEX_EINTERNAL when out of memory.  On error *out is empty. */
spex_status spex_convert_index(const spex_spectrum *mobius, int n, spex_index_kind kind,
                               int order_k, spex_spectrum *out, spex_error *err);

/* Local.  Short lower-case name of an index kind ("sii", "stii", "fsii",
 * "banzhaf", "fbii"), or "unknown". */
const char *spex_convert_index_name(spex_index_kind kind);

/* Local.  One-line description of an index kind for help text. */
const char *spex_convert_index_describe(spex_index_kind kind);

/* Local.  Parses a kind name as given by spex_convert_index_name,
 * case-insensitively ("bii" is accepted for "banzhaf").  SPEX_EUSAGE with a
 * message listing the valid names when the name is unknown. */
spex_status spex_convert_index_parse(const char *name, spex_index_kind *kind, spex_error *err);

#endif
