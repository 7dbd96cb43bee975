/* convert.c -- values and interaction indices from a sparse spectrum.
 *
 * Input is a recovered Fourier spectrum; spex_convert_mobius expands it into
 * Mobius (Harsanyi) coefficients, m(T) = (-2)^|T| sum_{k >= T} F(k)
 * (ALGORITHMS.md section 1).  Values and indices are then linear in m
 * (section 2): every output set S is a subset of a Mobius term T, and T
 * contributes m(T) * w(s, t) to S, with a weight that depends only on the
 * sizes s = |S| and t = |T| (and the order k of the index):
 *
 *   SII      1 / (t - s + 1)
 *   BANZHAF  2^-(t - s)
 *   STII     t < k: 1 when S = T;  t >= k: 1 / C(t, k) when s = k;  else 0
 *   FSII     t <= k: 1 when S = T;  t > k, s > 0:
 *            (-1)^(k-s) s/(k+s) C(k,s) C(t-1,k) / C(t+k-1,k+s);  else 0
 *   FBII     t <= k: 1 when S = T;  t > k:
 *            (-1)^(k-s) 2^-(t-s) C(t-s-1, k-s)
 *
 * The FBII weight is the truncation of the Fourier expansion to order k
 * written in the Mobius basis: inserting F(j) = (-1)^|j| sum_{T >= j} m(T)
 * 2^-|T| into m'(S) = (-2)^s sum_{S <= j, |j| <= k} F(j), the alternating sum
 * over S <= j <= T, |j| <= k is (-1)^(k-s) C(t-s-1, k-s) when t > k.
 *
 * Contributions are summed in an open-addressing hash table keyed by the
 * feature set (compensated summation), so memory grows with the number of
 * distinct output sets, not with the number of contributions, and the
 * result is sorted by set at the end.
 */
#include "spex/convert.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* C(a, b); FSII needs up to C(2 * SPEX_MAX_ORDER - 1, .), exact in a double. */
static double binom(int a, int b)
{
    if (b < 0 || b > a)
        return 0.0;
    double r = 1.0;
    for (int i = 1; i <= b; i++)
        r = r * (double)(a - b + i) / (double)i; /* exact: each prefix is C(a-b+i, i) */
    return r;
}

/* ---- input checks ------------------------------------------------------------ */

/* Every term has order 0..SPEX_MAX_ORDER and strictly ascending features in
 * 0..n-1 (no upper bound when n <= 0). */
static spex_status check_terms(const spex_spectrum *s, int n, const char *what, spex_error *err)
{
    for (size_t i = 0; i < s->count; i++) {
        const spex_term *t = &s->terms[i];
        if (t->order < 0 || t->order > SPEX_MAX_ORDER)
            return spex_error_set(err, SPEX_EINPUT, "%s term %zu has order %d, outside 0..%d",
                                  what, i, (int)t->order, SPEX_MAX_ORDER);
        for (int q = 0; q < t->order; q++) {
            int32_t f = t->feat[q];
            if (f < 0 || (n > 0 && f >= n))
                return spex_error_set(err, SPEX_EINPUT,
                                      "%s term %zu has feature %d, outside 0..%d", what, i,
                                      (int)f, n > 0 ? n - 1 : INT32_MAX);
            if (q > 0 && f <= t->feat[q - 1])
                return spex_error_set(err, SPEX_EINPUT,
                                      "%s term %zu: features not strictly ascending", what, i);
        }
        if (!isfinite(t->coef))
            return spex_error_set(err, SPEX_EINPUT, "%s term %zu has a non-finite coefficient",
                                  what, i);
    }
    return SPEX_OK;
}

/* ---- accumulation by set ------------------------------------------------------ */

typedef struct acc_slot {
    spex_term t; /* t.order < 0: empty slot */
    double comp; /* Neumaier compensation for t.coef */
} acc_slot;

typedef struct accum {
    acc_slot *slot;
    size_t cap, used; /* cap a power of two; used <= cap / 2 */
} accum;

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

static uint64_t hash_set(const int32_t *feat, int order)
{
    uint64_t h = mix64((uint64_t)order + 0x9e3779b97f4a7c15ULL);
    for (int q = 0; q < order; q++)
        h = mix64(h ^ (uint64_t)(uint32_t)feat[q]);
    return h;
}

static int same_set(const spex_term *t, const int32_t *feat, int order)
{
    return t->order == order && memcmp(t->feat, feat, (size_t)order * sizeof *feat) == 0;
}

static spex_status accum_alloc(accum *a, size_t cap, spex_error *err)
{
    a->slot = malloc(cap * sizeof *a->slot);
    if (a->slot == NULL)
        return spex_error_set(err, SPEX_EINTERNAL,
                              "out of memory allocating an accumulator of %zu sets", cap);
    for (size_t i = 0; i < cap; i++)
        a->slot[i].t.order = -1;
    a->cap = cap;
    a->used = 0;
    return SPEX_OK;
}

static void accum_free(accum *a)
{
    free(a->slot);
    a->slot = NULL;
    a->cap = a->used = 0;
}

static acc_slot *accum_probe(acc_slot *slot, size_t cap, const int32_t *feat, int order)
{
    size_t i = (size_t)hash_set(feat, order) & (cap - 1);
    while (slot[i].t.order >= 0 && !same_set(&slot[i].t, feat, order))
        i = (i + 1) & (cap - 1);
    return &slot[i];
}

static spex_status accum_grow(accum *a, spex_error *err)
{
    accum b;
    if (a->cap > SIZE_MAX / 2 / sizeof *a->slot)
        return spex_error_set(err, SPEX_EINTERNAL, "accumulator size overflow");
    spex_status st = accum_alloc(&b, 2 * a->cap, err);
    if (st != SPEX_OK)
        return st;
    for (size_t i = 0; i < a->cap; i++)
        if (a->slot[i].t.order >= 0)
            *accum_probe(b.slot, b.cap, a->slot[i].t.feat, a->slot[i].t.order) = a->slot[i];
    b.used = a->used;
    accum_free(a);
    *a = b;
    return SPEX_OK;
}

/* Adds v to the set feat[0..order-1] (ascending). */
static spex_status accum_add(accum *a, const int32_t *feat, int order, double v, spex_error *err)
{
    acc_slot *p = accum_probe(a->slot, a->cap, feat, order);
    if (p->t.order < 0) {
        if (2 * (a->used + 1) > a->cap) {
            spex_status st = accum_grow(a, err);
            if (st != SPEX_OK)
                return st;
            p = accum_probe(a->slot, a->cap, feat, order);
        }
        memset(&p->t, 0, sizeof p->t);
        p->t.order = order;
        memcpy(p->t.feat, feat, (size_t)order * sizeof *feat);
        p->comp = 0.0;
        a->used++;
    }
    /* Neumaier summation: the signed weights of FSII and FBII cancel. */
    double s = p->t.coef + v;
    if (fabs(p->t.coef) >= fabs(v))
        p->comp += (p->t.coef - s) + v;
    else
        p->comp += (v - s) + p->t.coef;
    p->t.coef = s;
    return SPEX_OK;
}

/* Moves the non-zero sums into out (a new spectrum), sorted by set. */
static spex_status accum_finish(accum *a, spex_spectrum *out, spex_error *err)
{
    spex_spectrum_init(out);
    if (a->used == 0)
        return SPEX_OK;
    out->terms = malloc(a->used * sizeof *out->terms);
    if (out->terms == NULL)
        return spex_error_set(err, SPEX_EINTERNAL, "out of memory allocating %zu output terms",
                              a->used);
    out->cap = a->used;
    for (size_t i = 0; i < a->cap; i++) {
        acc_slot *p = &a->slot[i];
        if (p->t.order < 0)
            continue;
        double v = p->t.coef + p->comp;
        if (v != 0.0) {
            out->terms[out->count] = p->t;
            out->terms[out->count++].coef = v;
        }
    }
    spex_spectrum_sort_by_set(out);
    return SPEX_OK;
}

/* ---- Fourier -> Mobius -------------------------------------------------------- */

spex_status spex_convert_mobius(const spex_spectrum *fourier, spex_spectrum *mobius,
                                spex_error *err)
{
    spex_status st = SPEX_OK;
    accum a = {NULL, 0, 0};
    spex_spectrum_init(mobius);
    SPEX_CHECK(check_terms(fourier, 0, "Fourier", err));
    SPEX_CHECK(accum_alloc(&a, 64, err));
    for (size_t i = 0; i < fourier->count; i++) {
        const spex_term *t = &fourier->terms[i];
        for (uint32_t sub = 0; sub < (1u << t->order); sub++) {
            int32_t feat[SPEX_MAX_ORDER];
            int s = 0;
            for (int q = 0; q < t->order; q++)
                if (sub & (1u << q))
                    feat[s++] = t->feat[q];
            /* m(T) gets (-2)^|T| F(k) from every k containing T. */
            double w = ldexp((s & 1) ? -1.0 : 1.0, s);
            SPEX_CHECK(accum_add(&a, feat, s, t->coef * w, err));
        }
    }
    SPEX_CHECK(accum_finish(&a, mobius, err));
out:
    accum_free(&a);
    if (st != SPEX_OK)
        spex_spectrum_free(mobius);
    return st;
}

/* ---- values ------------------------------------------------------------------- */

spex_status spex_convert_values(const spex_spectrum *mobius, int n, double *shapley,
                                double *banzhaf, spex_error *err)
{
    if (n < 1)
        return spex_error_set(err, SPEX_EUSAGE, "number of features must be positive, not %d",
                              n);
    spex_status st = check_terms(mobius, n, "Mobius", err);
    if (st != SPEX_OK)
        return st;
    if (shapley)
        memset(shapley, 0, (size_t)n * sizeof *shapley);
    if (banzhaf)
        memset(banzhaf, 0, (size_t)n * sizeof *banzhaf);
    for (size_t i = 0; i < mobius->count; i++) {
        const spex_term *t = &mobius->terms[i];
        if (t->order == 0)
            continue; /* the constant is shared by every coalition: no one's credit */
        double sh = t->coef / t->order, bz = ldexp(t->coef, 1 - t->order);
        for (int q = 0; q < t->order; q++) {
            if (shapley)
                shapley[t->feat[q]] += sh;
            if (banzhaf)
                banzhaf[t->feat[q]] += bz;
        }
    }
    return SPEX_OK;
}

/* ---- interaction indices ------------------------------------------------------ */

/* w[t][s]: the share of m(T), |T| = t, that goes to each subset S, |S| = s,
 * for s <= k (see the file comment). */
static void index_weights(spex_index_kind kind, int k,
                          double w[SPEX_MAX_ORDER + 1][SPEX_MAX_ORDER + 1])
{
    for (int t = 0; t <= SPEX_MAX_ORDER; t++)
        for (int s = 0; s <= SPEX_MAX_ORDER; s++) {
            double v = 0.0;
            if (s > t || s > k) {
                w[t][s] = 0.0;
                continue;
            }
            double sign = ((k - s) & 1) ? -1.0 : 1.0;
            switch (kind) {
            case SPEX_INDEX_SII:
                v = 1.0 / (double)(t - s + 1);
                break;
            case SPEX_INDEX_BANZHAF:
                v = ldexp(1.0, s - t);
                break;
            case SPEX_INDEX_STII:
                if (t < k)
                    v = s == t ? 1.0 : 0.0;
                else
                    v = s == k ? 1.0 / binom(t, k) : 0.0;
                break;
            case SPEX_INDEX_FSII:
                if (t <= k)
                    v = s == t ? 1.0 : 0.0;
                else if (s > 0)
                    v = sign * (double)s / (double)(k + s) * binom(k, s) * binom(t - 1, k) /
                        binom(t + k - 1, k + s);
                break;
            case SPEX_INDEX_FBII:
                if (t <= k)
                    v = s == t ? 1.0 : 0.0;
                else
                    v = sign * ldexp(1.0, s - t) * binom(t - s - 1, k - s);
                break;
            }
            w[t][s] = v;
        }
}

spex_status spex_convert_index(const spex_spectrum *mobius, int n, spex_index_kind kind,
                               int order_k, spex_spectrum *out, spex_error *err)
{
    spex_status st = SPEX_OK;
    accum a = {NULL, 0, 0};
    double w[SPEX_MAX_ORDER + 1][SPEX_MAX_ORDER + 1];
    spex_spectrum_init(out);
    if (n < 1) {
        st = spex_error_set(err, SPEX_EUSAGE, "number of features must be positive, not %d", n);
        goto out;
    }
    if ((int)kind < 0 || (int)kind >= SPEX_INDEX_KIND_COUNT) {
        st = spex_error_set(err, SPEX_EUSAGE, "unknown interaction index kind %d", (int)kind);
        goto out;
    }
    if (order_k < 1 || order_k > SPEX_MAX_ORDER) {
        st = spex_error_set(err, SPEX_EUSAGE, "%s: order %d outside 1..%d",
                            spex_convert_index_name(kind), order_k, SPEX_MAX_ORDER);
        goto out;
    }
    SPEX_CHECK(check_terms(mobius, n, "Mobius", err));
    index_weights(kind, order_k, w);
    SPEX_CHECK(accum_alloc(&a, 64, err));
    for (size_t i = 0; i < mobius->count; i++) {
        const spex_term *t = &mobius->terms[i];
        int to = t->order, smax = to < order_k ? to : order_k;
        for (int s = 0; s <= smax; s++) {
            if (w[to][s] == 0.0)
                continue;
            double c = t->coef * w[to][s];
            /* Visit the C(to, s) subsets of size s in lexicographic order of
             * positions pos[0] < ... < pos[s-1]. */
            int pos[SPEX_MAX_ORDER];
            int32_t feat[SPEX_MAX_ORDER];
            for (int q = 0; q < s; q++)
                pos[q] = q;
            for (;;) {
                for (int q = 0; q < s; q++)
                    feat[q] = t->feat[pos[q]];
                SPEX_CHECK(accum_add(&a, feat, s, c, err));
                int q = s - 1;
                while (q >= 0 && pos[q] == to - s + q)
                    q--;
                if (q < 0)
                    break;
                pos[q]++;
                for (int r = q + 1; r < s; r++)
                    pos[r] = pos[r - 1] + 1;
            }
        }
    }
    SPEX_CHECK(accum_finish(&a, out, err));
out:
    accum_free(&a);
    if (st != SPEX_OK)
        spex_spectrum_free(out);
    return st;
}

/* ---- names -------------------------------------------------------------------- */

static const char *const KIND_NAME[SPEX_INDEX_KIND_COUNT] = {"sii", "stii", "fsii", "banzhaf",
                                                             "fbii"};

static const char *const KIND_HELP[SPEX_INDEX_KIND_COUNT] = {
    "Shapley interaction index (Grabisch-Roubens): Shapley-weighted average "
    "interaction of S over all contexts",
    "Shapley-Taylor interaction index of order k: Mobius coefficients below k, "
    "the rest of the function shared among the sets of size k; sums to f(all)",
    "Faith-Shapley interaction index of order k: best order-k approximation "
    "under the Shapley kernel; sums to f(all)",
    "Banzhaf interaction index: average interaction of S over uniformly random "
    "contexts",
    "Faith-Banzhaf interaction index of order k: best order-k approximation on "
    "uniformly random masks (the Fourier expansion truncated to order k)"};

const char *spex_convert_index_name(spex_index_kind kind)
{
    if ((int)kind < 0 || (int)kind >= SPEX_INDEX_KIND_COUNT)
        return "unknown";
    return KIND_NAME[kind];
}

const char *spex_convert_index_describe(spex_index_kind kind)
{
    if ((int)kind < 0 || (int)kind >= SPEX_INDEX_KIND_COUNT)
        return "unknown interaction index";
    return KIND_HELP[kind];
}

spex_status spex_convert_index_parse(const char *name, spex_index_kind *kind, spex_error *err)
{
    if (name != NULL) {
        for (int i = 0; i < SPEX_INDEX_KIND_COUNT; i++)
            if (strcasecmp(name, KIND_NAME[i]) == 0) {
                *kind = (spex_index_kind)i;
                return SPEX_OK;
            }
        if (strcasecmp(name, "bii") == 0) {
            *kind = SPEX_INDEX_BANZHAF;
            return SPEX_OK;
        }
    }
    return spex_error_set(err, SPEX_EUSAGE,
                          "unknown interaction index '%s' (expected sii, stii, fsii, banzhaf or "
                          "fbii)",
                          name ? name : "(null)");
}
