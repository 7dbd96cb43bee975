/* design.c -- the SPEX aliasing design (ALGORITHMS.md section 3).
 *
 * Query (c, p, l) is the mask x = M_c^T l XOR d_p: the XOR of the rows j of
 * M_c for the set bits j of l, then the delay.  Consecutive l differ in few
 * bits (on average two), so a run of masks costs about two row XORs each:
 * masks are cheap to regenerate and are never stored for the whole design.
 * M_c's rows come from the counter-based generator, so every rank builds the
 * same design from the seed alone.
 */
#include "spex/design.h"

#include <stdlib.h>
#include <string.h>

#include "spex/eval.h"
#include "spex/mask.h"
#include "spex/rng.h"

void spex_design_destroy(spex_design *d)
{
    if (d == NULL)
        return;
    free(d->M);
    free(d->D);
    spex_bch_destroy(d->bch);
    free(d);
}

int spex_design_delay_count(int n, int t, spex_delays_kind delays)
{
    if (delays == SPEX_DELAYS_IDENTITY)
        return n + 1;
    spex_bch *code = NULL;
    spex_error err;
    spex_error_clear(&err);
    if (spex_bch_create(n, t, &code, &err) != SPEX_OK)
        return -1;
    int p = spex_bch_rows(code) + 1;
    spex_bch_destroy(code);
    return p;
}

int spex_design_choose_b(int n, int t, int C, spex_delays_kind delays, int64_t budget, int sparsity)
{
    if (budget > 0) {
        int signals = C * spex_design_delay_count(n, t, delays);
        int b = 0;
        while (b < 30 && (int64_t)signals << (b + 1) <= budget)
            b++;
        return b; /* 0: not even b = 1 fits */
    }
    int b = 1;
    while (b < 30 && ((int64_t)1 << b) < 2 * (int64_t)sparsity)
        b++;
    return b;
}

/* Reduces v against the echelon basis (rows with leading bits lead[]);
 * returns 1 when v is independent of them (and adds it), else 0. */
static int add_independent(uint64_t *basis, int *lead, int *rank, uint64_t *v, size_t words)
{
    for (int r = 0; r < *rank; r++)
        if ((v[lead[r] >> 6] >> (lead[r] & 63)) & 1)
            for (size_t w = 0; w < words; w++)
                v[w] ^= basis[(size_t)r * words + w];
    for (size_t w = 0; w < words; w++)
        if (v[w]) {
            int bit = 0;
            while (!((v[w] >> bit) & 1))
                bit++;
            lead[*rank] = (int)(w * 64) + bit;
            memcpy(basis + (size_t)*rank * words, v, words * sizeof *v);
            (*rank)++;
            return 1;
        }
    return 0;
}

/* Draws each M_c with rows from (seed, stream of c, counter), redrawing a
 * row (with the next counters) while it depends on the rows before it:
 * a rank-deficient M_c would alias a nonzero k with the constant in that
 * group.  For n much larger than b a redraw practically never happens, so
 * the rows are the plain counter-based draws. */
static spex_status draw_matrices(spex_design *d, spex_error *err)
{
    spex_status st = SPEX_OK;
    size_t words = d->words;
    uint64_t tail = (d->n % 64) ? (((uint64_t)1 << (d->n % 64)) - 1) : ~(uint64_t)0;
    uint64_t *basis = malloc((size_t)d->b * words * sizeof *basis);
    uint64_t *v = malloc(words * sizeof *v);
    int *lead = malloc((size_t)d->b * sizeof *lead);
    if (!basis || !v || !lead) {
        st = spex_error_set(err, SPEX_EINTERNAL, "out of memory drawing the design");
        goto out;
    }
    for (int c = 0; c < d->C; c++) {
        int rank = 0;
        for (int j = 0; j < d->b; j++) {
            uint64_t *row = d->M + ((size_t)c * (size_t)d->b + (size_t)j) * words;
            for (int attempt = 0;; attempt++) {
                /* Row j's own counters first; redraws use blocks past the
                 * b regular ones, distinct for every (j, attempt). */
                uint64_t block = attempt == 0 ? (uint64_t)j
                                              : (uint64_t)d->b + (uint64_t)j * 1024 + (uint64_t)attempt;
                for (size_t w = 0; w < words; w++)
                    row[w] = spex_rng_u64(d->seed, SPEX_STREAM_DESIGN_M + ((uint64_t)c << 8),
                                          block * words + w);
                row[words - 1] &= tail;
                memcpy(v, row, words * sizeof *v);
                if (add_independent(basis, lead, &rank, v, words))
                    break;
                if (attempt == 1023) {
                    st = spex_error_set(err, SPEX_EUSAGE,
                                        "cannot draw %d independent rows over %d features: "
                                        "method.b must not exceed features.n",
                                        d->b, d->n);
                    goto out;
                }
            }
        }
    }
out:
    free(basis);
    free(v);
    free(lead);
    return st;
}

spex_status spex_design_create(int n, int b, int C, int t, spex_delays_kind delays,
                               uint64_t seed, spex_design **out, spex_error *err)
{
    spex_status st = SPEX_OK;
    *out = NULL;
    if (n < 1 || b < 1 || b > 30 || C < 1 || t < 0 || t > SPEX_MAX_ORDER)
        return spex_error_set(err, SPEX_EUSAGE,
                              "invalid design: n = %d, b = %d, groups = %d, max_order = %d", n, b,
                              C, t);
    spex_design *d = calloc(1, sizeof *d);
    SPEX_ALLOC_CHECK(d, err, "the design");
    d->n = n;
    d->words = spex_mask_words(n);
    d->b = b;
    d->C = C;
    d->t = t;
    d->delays = delays;
    d->seed = seed;

    d->M = calloc((size_t)C * (size_t)b * d->words, sizeof *d->M);
    SPEX_ALLOC_CHECK(d->M, err, "the subsampling matrices");
    SPEX_CHECK(draw_matrices(d, err));

    if (delays == SPEX_DELAYS_BCH) {
        if (t < 1) {
            st = spex_error_set(err, SPEX_EUSAGE, "BCH delays need method.max_order >= 1");
            goto out;
        }
        SPEX_CHECK(spex_bch_create(n, t, &d->bch, err));
        d->P = spex_bch_rows(d->bch);
        d->D = calloc((size_t)d->P * d->words, sizeof *d->D);
        SPEX_ALLOC_CHECK(d->D, err, "the delay matrix");
        for (int p = 0; p < d->P; p++)
            spex_bch_delay_row(d->bch, p, d->D + (size_t)p * d->words, d->words);
    } else {
        d->P = n;
    }
    *out = d;
out:
    if (st != SPEX_OK)
        spex_design_destroy(d);
    return st;
}

size_t spex_design_signals(const spex_design *d) { return (size_t)d->C * (size_t)(d->P + 1); }

size_t spex_design_bins(const spex_design *d) { return (size_t)1 << d->b; }

uint64_t spex_design_queries(const spex_design *d)
{
    return (uint64_t)spex_design_signals(d) << d->b;
}

static const uint64_t *m_row(const spex_design *d, int c, int j)
{
    return d->M + ((size_t)c * (size_t)d->b + (size_t)j) * d->words;
}

void spex_design_masks(const spex_design *d, int c, int p, uint64_t l0, size_t count,
                       uint64_t *masks)
{
    size_t words = d->words;
    if (count == 0)
        return;
    uint64_t *x = masks;
    memset(x, 0, words * sizeof *x);
    if (p > 0) {
        if (d->delays == SPEX_DELAYS_BCH)
            memcpy(x, d->D + (size_t)(p - 1) * words, words * sizeof *x);
        else
            spex_mask_set(x, p - 1);
    }
    for (int j = 0; j < d->b; j++)
        if ((l0 >> j) & 1)
            spex_mask_xor(x, m_row(d, c, j), words);
    for (size_t i = 1; i < count; i++) {
        uint64_t *y = masks + i * words;
        uint64_t l = l0 + i;
        uint64_t flips = (l - 1) ^ l;
        memcpy(y, y - words, words * sizeof *y);
        for (int j = 0; flips; j++, flips >>= 1)
            if (flips & 1)
                spex_mask_xor(y, m_row(d, c, j), words);
    }
}

uint64_t spex_design_bin(const spex_design *d, int c, const int32_t *feat, int order)
{
    uint64_t j = 0;
    for (int r = 0; r < d->b; r++)
        j |= (uint64_t)spex_mask_parity(m_row(d, c, r), feat, order) << r;
    return j;
}

int spex_design_delay_parity(const spex_design *d, int p, const int32_t *feat, int order)
{
    if (p == 0)
        return 0;
    if (d->delays == SPEX_DELAYS_BCH)
        return spex_mask_parity(d->D + (size_t)(p - 1) * d->words, feat, order);
    for (int q = 0; q < order; q++)
        if (feat[q] == p - 1)
            return 1;
    return 0;
}

int spex_design_decode(const spex_design *d, const uint8_t *y, int32_t *feat)
{
    if (d->delays == SPEX_DELAYS_BCH)
        return spex_bch_decode(d->bch, y, feat);
    int order = 0;
    for (int i = 0; i < d->n; i++)
        if (y[i]) {
            if (order == d->t)
                return -1;
            feat[order++] = i;
        }
    return order;
}

void spex_layout_of(const spex_design *d, int r, int q, int size, spex_layout *L)
{
    size_t S = spex_design_signals(d), B = spex_design_bins(d);
    if (r <= 0) {
        r = 1;
        while ((size_t)(2 * r) * S <= (size_t)size && (size_t)(2 * r) <= B)
            r *= 2;
    }
    memset(L, 0, sizeof *L);
    L->r = r;
    L->groups = size / r;
    L->group = q < L->groups * r ? q / r : -1;
    if (L->group < 0)
        return;
    size_t lo, hi;
    spex_partition(S, L->group, L->groups, &lo, &hi);
    L->s_lo = lo;
    L->s_hi = hi;
    int i = q % r;
    L->a = B / (size_t)r * (size_t)i;
    L->b = B / (size_t)r * (size_t)(i + 1);
}

size_t spex_layout_count(const spex_layout *L) { return (L->s_hi - L->s_lo) * (L->b - L->a); }
