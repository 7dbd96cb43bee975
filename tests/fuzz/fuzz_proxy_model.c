/* fuzz_proxy_model.c -- the XGBoost JSON model read by ProxySPEX and its
 * exact Fourier extraction (spex_proxy_model_parse,
 * spex_proxy_extract_trees in src/proxy.c).
 *
 * Input: 1 byte (bit 0: zero_missing, how an unset bit reaches the trees),
 * then the JSON text.  Checks: the parser returns ok or an input error
 * (exit code 2) whose message starts "proxy model"; an accepted model has
 * its roots, children and split features in range, so evaluating it on
 * random masks terminates; the extraction returns ok, or a usage or
 * internal error when the expansion is too large; and when every path can
 * be expanded completely (num_feature <= 12, all terms up to order 12
 * kept), the extracted spectrum reproduces the model exactly: for random
 * masks x, base_score + sum_k F(k) (-1)^{|k & x|} equals the model's margin.
 */
#include "fuzz_common.h"

#include <math.h>

#include "spex/mask.h"
#include "spex/proxy.h"

#define EXACT_FEATURES 12

static double spectrum_at(const spex_spectrum *s, const uint64_t *mask, double *scale)
{
    double v = 0;
    *scale = 0;
    for (size_t i = 0; i < s->count; i++) {
        const spex_term *t = &s->terms[i];
        int sign = 0;
        for (int q = 0; q < t->order; q++)
            sign ^= spex_mask_get(mask, t->feat[q]);
        v += sign ? -t->coef : t->coef;
        *scale += fabs(t->coef);
    }
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    spex_proxy_model m;
    spex_error err;
    spex_error_clear(&err);
    spex_status st = spex_proxy_model_parse((const char *)data + 1, size - 1, data[0] & 1, &m,
                                            &err);
    fuzz_check_status(st, &err, FUZZ_CODE(SPEX_EINPUT), "spex_proxy_model_parse");
    if (st != SPEX_OK) {
        FUZZ_ASSERT(strncmp(err.msg, "proxy model", 11) == 0, "message: %s", err.msg);
        return 0;
    }
    FUZZ_ASSERT(m.n_features >= 0 && m.n_trees >= 0, "%d features, %d trees", m.n_features,
                m.n_trees);
    for (int t = 0; t < m.n_trees; t++)
        FUZZ_ASSERT(m.root[t] < m.n_nodes, "root of tree %d is node %zu of %zu", t, m.root[t],
                    m.n_nodes);
    for (size_t i = 0; i < m.n_nodes; i++)
        if (m.left[i] >= 0)
            FUZZ_ASSERT((size_t)m.left[i] < m.n_nodes && m.right[i] >= 0 &&
                            (size_t)m.right[i] < m.n_nodes && m.feature[i] >= 0 &&
                            m.feature[i] < m.n_features,
                        "node %zu: children %d %d, feature %d", i, m.left[i], m.right[i],
                        m.feature[i]);

    int n = m.n_features > 0 ? m.n_features : 1;
    int exact = m.n_features <= EXACT_FEATURES;
    spex_spectrum s;
    spex_error_clear(&err);
    st = spex_proxy_extract_trees(&m, 0, m.n_trees, exact ? EXACT_FEATURES : 2, &s, &err);
    fuzz_check_status(st, &err, FUZZ_CODE(SPEX_EUSAGE) | FUZZ_CODE(SPEX_EINTERNAL),
                      "spex_proxy_extract_trees");
    size_t words = spex_mask_words(n);
    uint64_t *mask = calloc(words, sizeof *mask);
    uint32_t rng = (uint32_t)size * 2654435761u;
    for (int r = 0; r < 8; r++) {
        for (size_t w = 0; w < words; w++) {
            rng = rng * 1664525u + 1013904223u;
            mask[w] = (uint64_t)rng << 32 | (rng * 2654435761u);
        }
        if (n % 64)
            mask[words - 1] &= ((uint64_t)1 << (n % 64)) - 1;
        double f = spex_proxy_model_eval(&m, mask);
        FUZZ_ASSERT(isfinite(f) || m.n_trees > 0, "margin %g", f);
        if (st == SPEX_OK && exact && isfinite(f)) {
            double scale;
            double g = m.base_score + spectrum_at(&s, mask, &scale);
            FUZZ_ASSERT(fabs(f - g) <= 1e-9 * (scale + fabs(f) + 1),
                        "extraction is not exact: model %.17g, spectrum %.17g (%zu terms)", f, g,
                        s.count);
        }
    }
    free(mask);
    if (st == SPEX_OK)
        spex_spectrum_free(&s);
    spex_proxy_model_free(&m);
    return 0;
}
