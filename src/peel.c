/* peel.c -- singleton detection and parallel peeling (ALGORITHMS.md
 * sections 4 and 5).
 *
 * Data: after spex_peel_run's all-to-all, this rank owns the global bins
 * g in [g_lo, g_hi) (g = c 2^b + j) and holds their P+1 values contiguously,
 * U[(g - g_lo)(P+1) + p].
 *
 * A bin is a zero-ton when every |U_p| <= zero_tol.  Otherwise it is a
 * singleton candidate only if all |U_p| agree (a lone term has
 * |U_p| = |F(k)| for every delay); the signs give y_p = d_p . k, the code
 * decodes k, and the candidate is accepted only after verification:
 * M_c k = j, and every U_p within single_tol of F^ (-1)^(d_p . k), with
 * F^ the mean over p of U_p (-1)^(d_p . k).
 *
 * Rounds: classify changed bins, all-gather accepted singletons (in order
 * of g, because ranks own ascending ranges of g), drop sets already
 * recovered, and subtract each new term from every bin it lands in
 * (one per group) that this rank owns.  Every rank applies the same
 * subtractions in the same order, so the outcome does not depend on the
 * number of ranks.
 */
#include "spex/peel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "spex/eval.h"

/* ---- classification --------------------------------------------------------- */

/* Decodes bits y into term and verifies it against the bin's values:
 * M_c k = j, then the least-squares coefficient F = mean_p U_p s_p
 * (s_p = (-1)^(d_p . k)) and the residual sum_p (U_p - F s_p)^2.
 * Returns the residual, or -1 when y decodes to nothing in this bin. */
static double decode_verify(const spex_design *d, int c, uint64_t j, const double *U,
                            const uint8_t *y, spex_term *term)
{
    int P = d->P;
    int order = spex_design_decode(d, y, term->feat);
    if (order < 0 || order > d->t)
        return -1;
    term->order = order;
    if (spex_design_bin(d, c, term->feat, order) != j)
        return -1;
    double est = 0;
    for (int p = 0; p <= P; p++)
        est += spex_design_delay_parity(d, p, term->feat, order) ? -U[p] : U[p];
    est /= (double)(P + 1);
    double res = 0;
    for (int p = 0; p <= P; p++) {
        double e = U[p] - (spex_design_delay_parity(d, p, term->feat, order) ? -est : est);
        res += e * e;
    }
    term->coef = est;
    return res;
}

/* Noise-free classification: tolerances are amplitudes. */
static spex_bin_kind classify_exact(const spex_design *d, int c, uint64_t j, const double *U,
                                    const spex_peel_params *pp, uint8_t *y, spex_term *term)
{
    int P = d->P;
    double amax = 0;
    for (int p = 0; p <= P; p++)
        amax = fmax(amax, fabs(U[p]));
    if (amax <= pp->zero_tol)
        return SPEX_BIN_ZERO;
    /* A lone term has |U_p| = |F| for every delay: this rejects most
     * multi-tons before any decoding. */
    double a0 = fabs(U[0]);
    for (int p = 1; p <= P; p++)
        if (fabs(fabs(U[p]) - a0) > 2 * pp->single_tol)
            return SPEX_BIN_MULTI;
    for (int p = 1; p <= P; p++)
        y[p - 1] = (uint8_t)((U[p] < 0) != (U[0] < 0));
    double res = decode_verify(d, c, j, U, y, term);
    if (res < 0 || sqrt(res) > pp->single_tol)
        return SPEX_BIN_MULTI;
    return SPEX_BIN_SINGLE;
}

typedef struct reliability {
    double mag;
    int p;
} reliability;

static int cmp_reliability(const void *a, const void *b)
{
    const reliability *x = a, *y = b;
    if (x->mag != y->mag)
        return x->mag < y->mag ? -1 : 1;
    return x->p - y->p;
}

/* Noisy classification (ALGORITHMS.md section 6).  Each U_p is F s_p plus
 * noise of variance nu^2 = pp->noise_var.  A zero-ton's mean energy is
 * nu^2 chi^2_{P+1}/(P+1); a singleton's residual is nu^2 chi^2_P.  Bits come
 * from the signs relative to a hypothesis on the sign of F (U_0's sign first,
 * then the other); Chase decoding flips every subset of the pp->chase least
 * reliable bits (smallest |U_p|) and keeps the verified candidate with the
 * smallest residual. */
static spex_bin_kind classify_noisy(const spex_design *d, int c, uint64_t j, const double *U,
                                    const spex_peel_params *pp, uint8_t *y, reliability *rel,
                                    spex_term *term)
{
    int P = d->P;
    double P1 = (double)(P + 1), slack = 5.0 * sqrt(2.0 / P1);
    double energy = 0;
    for (int p = 0; p <= P; p++)
        energy += U[p] * U[p];
    if (energy <= P1 * pp->noise_var * (1.0 + slack))
        return SPEX_BIN_ZERO;
    double limit = P1 * pp->noise_var * (1.0 + slack);

    for (int p = 1; p <= P; p++) {
        rel[p - 1].mag = fabs(U[p]);
        rel[p - 1].p = p;
    }
    int L = pp->chase < P ? pp->chase : P;
    if (L > 0)
        qsort(rel, (size_t)P, sizeof *rel, cmp_reliability);
    double best = -1;
    spex_term cand;
    for (int hyp = 0; hyp < 2 && best < 0; hyp++) {
        int neg = (U[0] < 0) ^ hyp; /* hypothesis: F < 0 */
        for (uint32_t flip = 0; flip < (1u << L); flip++) {
            for (int p = 1; p <= P; p++)
                y[p - 1] = (uint8_t)((U[p] < 0) != neg);
            for (int q = 0; q < L; q++)
                if (flip & (1u << q))
                    y[rel[q].p - 1] ^= 1;
            memset(&cand, 0, sizeof cand);
            double res = decode_verify(d, c, j, U, y, &cand);
            if (res < 0 || res > limit)
                continue;
            if (best < 0 || res < best) {
                best = res;
                *term = cand;
            }
            /* The hard decision verified: no need to search further. */
            if (flip == 0)
                break;
        }
    }
    return best < 0 ? SPEX_BIN_MULTI : SPEX_BIN_SINGLE;
}

/* Scratch for classification: the delay bits and their reliabilities. */
typedef struct scratch {
    uint8_t *y;
    reliability *rel;
} scratch;

static int scratch_init(scratch *s, int P)
{
    s->y = malloc((size_t)(P > 0 ? P : 1));
    s->rel = malloc((size_t)(P > 0 ? P : 1) * sizeof *s->rel);
    return s->y && s->rel ? 0 : -1;
}

static void scratch_free(scratch *s)
{
    free(s->y);
    free(s->rel);
}

static spex_bin_kind classify(const spex_design *d, int c, uint64_t j, const double *U,
                              const spex_peel_params *pp, scratch *sc, spex_term *term)
{
    memset(term, 0, sizeof *term);
    if (pp->noise_var > 0)
        return classify_noisy(d, c, j, U, pp, sc->y, sc->rel, term);
    return classify_exact(d, c, j, U, pp, sc->y, term);
}

spex_bin_kind spex_peel_classify(const spex_design *d, int c, uint64_t j, const double *U,
                                 const spex_peel_params *pp, spex_term *term)
{
    scratch sc;
    spex_bin_kind k = SPEX_BIN_MULTI;
    memset(term, 0, sizeof *term);
    if (scratch_init(&sc, d->P) == 0)
        k = classify(d, c, j, U, pp, &sc, term);
    scratch_free(&sc);
    return k;
}

/* ---- a set of recovered feature sets (open addressing) -------------------- */

typedef struct term_set {
    size_t cap;   /* power of two */
    size_t used;
    long *slot;   /* index into the spectrum, -1 empty */
    const spex_spectrum *spec;
} term_set;

static uint64_t term_hash(const spex_term *t)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)t->order;
    for (int q = 0; q < t->order; q++)
        h = (h ^ (uint64_t)(uint32_t)t->feat[q]) * 1099511628211ULL;
    return h ^ (h >> 29);
}

static int term_set_init(term_set *s, const spex_spectrum *spec)
{
    s->cap = 1024;
    s->used = 0;
    s->spec = spec;
    s->slot = malloc(s->cap * sizeof *s->slot);
    if (s->slot == NULL)
        return -1;
    memset(s->slot, 0xff, s->cap * sizeof *s->slot);
    return 0;
}

/* Index of the slot holding t, or of the empty slot where it belongs. */
static size_t term_set_probe(const term_set *s, const spex_term *t)
{
    size_t i = term_hash(t) & (s->cap - 1);
    while (s->slot[i] >= 0 && spex_term_cmp_set(&s->spec->terms[s->slot[i]], t) != 0)
        i = (i + 1) & (s->cap - 1);
    return i;
}

static int term_set_has(const term_set *s, const spex_term *t)
{
    return s->slot[term_set_probe(s, t)] >= 0;
}

/* Records spectrum index idx (its term must not be present yet). */
static int term_set_add(term_set *s, long idx)
{
    if (2 * (s->used + 1) > s->cap) {
        term_set bigger = {2 * s->cap, 0, NULL, s->spec};
        bigger.slot = malloc(bigger.cap * sizeof *bigger.slot);
        if (bigger.slot == NULL)
            return -1;
        memset(bigger.slot, 0xff, bigger.cap * sizeof *bigger.slot);
        for (size_t i = 0; i < s->cap; i++)
            if (s->slot[i] >= 0) {
                bigger.slot[term_set_probe(&bigger, &s->spec->terms[s->slot[i]])] = s->slot[i];
                bigger.used++;
            }
        free(s->slot);
        *s = bigger;
    }
    s->slot[term_set_probe(s, &s->spec->terms[idx])] = idx;
    s->used++;
    return 0;
}

/* ---- redistribution: signal ownership -> bin ownership ---------------------- */

/* Bins of signal s (group c = s / (P+1)) that lie in the global bin range
 * [lo, hi) and in the slice [a, b): j in [*ja, *jb). */
static void clip(size_t s, size_t P1, size_t B, size_t lo, size_t hi, size_t a, size_t b,
                 size_t *ja, size_t *jb)
{
    size_t base = (s / P1) * B;
    size_t x = lo > base ? lo - base : 0, y = hi < base + B ? hi - base : B;
    if (hi <= base || lo >= base + B)
        x = y = 0;
    if (x < a)
        x = a;
    if (y > b)
        y = b;
    *ja = x;
    *jb = y > x ? y : x;
}

/* Moves this rank's transformed values (layout L) to the owners of their
 * bins; U receives the P+1 values of each bin in [g_lo, g_hi).  Both sides
 * walk the pieces in the same order (signal, then j), so no index travels. */
static spex_status redistribute(MPI_Comm comm, const spex_design *d, const spex_layout *L,
                                const double *sig, double *U, spex_error *err)
{
    spex_status st = SPEX_OK;
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    size_t B = spex_design_bins(d), P1 = (size_t)d->P + 1, G = (size_t)d->C * B;
    size_t g_lo, g_hi, width = L->b - L->a;
    spex_partition(G, rank, size, &g_lo, &g_hi);

    int *scount = calloc((size_t)size, sizeof *scount), *sdisp = calloc((size_t)size, sizeof *sdisp);
    int *rcount = calloc((size_t)size, sizeof *rcount), *rdisp = calloc((size_t)size, sizeof *rdisp);
    spex_layout *lay = calloc((size_t)size, sizeof *lay);
    double *sbuf = NULL, *rbuf = NULL;
    size_t total_s = 0, total_r = 0, at = 0;
    if (!scount || !sdisp || !rcount || !rdisp || !lay) {
        st = spex_error_set(err, SPEX_EINTERNAL, "out of memory for all-to-all counts");
        goto agree;
    }
    for (int q = 0; q < size; q++)
        spex_layout_of(d, L->r, q, size, &lay[q]);
    for (int q = 0; q < size; q++) {
        size_t lo, hi, cnt = 0, ja, jb;
        spex_partition(G, q, size, &lo, &hi);
        for (size_t s = L->s_lo; s < L->s_hi; s++) {
            clip(s, P1, B, lo, hi, L->a, L->b, &ja, &jb);
            cnt += jb - ja;
        }
        scount[q] = (int)cnt;
        sdisp[q] = (int)total_s;
        total_s += cnt;
        cnt = 0;
        for (size_t s = lay[q].s_lo; s < lay[q].s_hi; s++) {
            clip(s, P1, B, g_lo, g_hi, lay[q].a, lay[q].b, &ja, &jb);
            cnt += jb - ja;
        }
        rcount[q] = (int)cnt;
        rdisp[q] = (int)total_r;
        total_r += cnt;
    }
    sbuf = malloc((total_s ? total_s : 1) * sizeof *sbuf);
    rbuf = malloc((total_r ? total_r : 1) * sizeof *rbuf);
    if (!sbuf || !rbuf) {
        st = spex_error_set(err, SPEX_EINTERNAL,
                            "out of memory for the bin redistribution (%zu values)", total_s + total_r);
        goto agree;
    }
    for (int q = 0; q < size; q++) {
        size_t lo, hi, ja, jb;
        spex_partition(G, q, size, &lo, &hi);
        for (size_t s = L->s_lo; s < L->s_hi; s++) {
            clip(s, P1, B, lo, hi, L->a, L->b, &ja, &jb);
            memcpy(sbuf + at, sig + (s - L->s_lo) * width + (ja - L->a), (jb - ja) * sizeof *sbuf);
            at += jb - ja;
        }
    }
agree:
    /* Every rank reaches the collective, even after a local failure. */
    if (spex_error_agree(comm, err) != SPEX_OK) {
        st = err->code;
        goto done;
    }
    MPI_Alltoallv(sbuf, scount, sdisp, MPI_DOUBLE, rbuf, rcount, rdisp, MPI_DOUBLE, comm);
    at = 0;
    for (int q = 0; q < size; q++)
        for (size_t s = lay[q].s_lo; s < lay[q].s_hi; s++) {
            size_t ja, jb, c = s / P1, p = s % P1;
            clip(s, P1, B, g_lo, g_hi, lay[q].a, lay[q].b, &ja, &jb);
            for (size_t j = ja; j < jb; j++)
                U[(c * B + j - g_lo) * P1 + p] = rbuf[at++];
        }
done:
    free(scount);
    free(sdisp);
    free(rcount);
    free(rdisp);
    free(lay);
    free(sbuf);
    free(rbuf);
    return st;
}

/* ---- the noise level -------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Collective on comm.  nu^2, the noise variance of one bin value, from the
 * mean energies of a deterministic sample of bins (every stride-th global
 * bin, the same on any number of ranks).  Most bins of a sparse function
 * hold no term, so a low quantile of the energies measures the noise: 0
 * when the lowest tenth are exactly quiet (a noise-free function), else the
 * first quartile corrected by the quartile of chi^2_{P+1}/(P+1)
 * (Wilson-Hilferty). */
static spex_status estimate_noise(MPI_Comm comm, const spex_design *d, size_t g_lo, size_t g_hi,
                                  const double *U, double quiet, double *nu2, spex_error *err)
{
    spex_status st = SPEX_OK;
    int size;
    MPI_Comm_size(comm, &size);
    size_t P1 = (size_t)d->P + 1, G = (size_t)d->C * spex_design_bins(d);
    size_t stride = G / 65536 + 1, n = 0;
    double *mine = malloc(((g_hi - g_lo) / stride + 2) * sizeof *mine), *all = NULL;
    int *counts = malloc((size_t)size * sizeof *counts), *displs = malloc((size_t)size * sizeof *displs);
    if (mine && counts && displs)
        for (size_t g = (g_lo + stride - 1) / stride * stride; g < g_hi; g += stride) {
            double e = 0;
            for (size_t p = 0; p < P1; p++)
                e += U[(g - g_lo) * P1 + p] * U[(g - g_lo) * P1 + p];
            mine[n++] = e / (double)P1;
        }
    else
        spex_error_set(err, SPEX_EINTERNAL, "out of memory estimating the noise");
    if (spex_error_agree(comm, err) != SPEX_OK) {
        st = err->code;
        goto out;
    }
    int cnt = (int)n, total = 0;
    MPI_Allgather(&cnt, 1, MPI_INT, counts, 1, MPI_INT, comm);
    for (int q = 0; q < size; q++) {
        displs[q] = total;
        total += counts[q];
    }
    all = malloc((size_t)(total ? total : 1) * sizeof *all);
    if (all == NULL)
        spex_error_set(err, SPEX_EINTERNAL, "out of memory estimating the noise");
    if (spex_error_agree(comm, err) != SPEX_OK) {
        st = err->code;
        goto out;
    }
    MPI_Allgatherv(mine, cnt, MPI_DOUBLE, all, counts, displs, MPI_DOUBLE, comm);
    qsort(all, (size_t)total, sizeof *all, cmp_double);
    *nu2 = 0;
    if (total > 0 && all[total / 10] > quiet * quiet) {
        double k = (double)P1, a = 2.0 / (9.0 * k);
        double q = 1.0 - a - 0.6745 * sqrt(a);
        *nu2 = all[total / 4] / (q * q * q);
    }
out:
    free(mine);
    free(all);
    free(counts);
    free(displs);
    return st;
}

/* ---- peeling ---------------------------------------------------------------- */

typedef struct candidate {
    uint64_t g;
    spex_term term;
} candidate;

/* Subtracts term (coefficient coef, delay signs sgn) from every bin it
 * lands in that this rank owns, marking them changed. */
static void subtract_term(const spex_design *d, const spex_term *t, const signed char *sgn,
                          size_t g_lo, size_t g_hi, double *U, unsigned char *dirty)
{
    size_t B = spex_design_bins(d), P1 = (size_t)d->P + 1;
    for (int c = 0; c < d->C; c++) {
        size_t g = (size_t)c * B + spex_design_bin(d, c, t->feat, t->order);
        if (g < g_lo || g >= g_hi)
            continue;
        double *u = U + (g - g_lo) * P1;
        for (size_t p = 0; p < P1; p++)
            u[p] -= sgn[p] * t->coef;
        dirty[g - g_lo] = 1;
    }
}

spex_status spex_peel_run(MPI_Comm comm, const spex_design *d, const spex_layout *L,
                          const double *sig, const spex_peel_params *pp, spex_spectrum *out,
                          spex_peel_stats *stats, spex_error *err)
{
    spex_status st = SPEX_OK;
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    size_t B = spex_design_bins(d), P1 = (size_t)d->P + 1, G = (size_t)d->C * B;
    size_t g_lo, g_hi;
    spex_partition(G, rank, size, &g_lo, &g_hi);
    size_t nloc = g_hi - g_lo;
    memset(stats, 0, sizeof *stats);

    double *U = malloc((nloc ? nloc : 1) * P1 * sizeof *U);
    unsigned char *dirty = malloc(nloc ? nloc : 1), *kind = malloc(nloc ? nloc : 1);
    signed char *sgn = malloc(P1);
    int *counts = malloc((size_t)size * sizeof *counts), *displs = malloc((size_t)size * sizeof *displs);
    candidate *mine = NULL, *all = NULL;
    size_t mine_cap = 0, all_cap = 0;
    term_set seen = {0, 0, NULL, out};
    spex_peel_params pr = *pp; /* with the noise level resolved */
    scratch sc = {NULL, NULL};
    int ok = U && dirty && kind && sgn && counts && displs && term_set_init(&seen, out) == 0 &&
             scratch_init(&sc, d->P) == 0;
    if (!ok)
        spex_error_set(err, SPEX_EINTERNAL, "out of memory for %zu bins of %zu values", nloc, P1);
    /* Ranks must agree before the collective inside redistribute(). */
    if (spex_error_agree(comm, err) != SPEX_OK) {
        st = err->code;
        goto out;
    }
    for (size_t i = 0; i < out->count; i++)
        if (term_set_add(&seen, (long)i) != 0)
            ok = 0;
    SPEX_CHECK(redistribute(comm, d, L, sig, U, err));
    if (pr.noise_var < 0)
        SPEX_CHECK(estimate_noise(comm, d, g_lo, g_hi, U, pp->zero_tol, &pr.noise_var, err));
    stats->noise_var = pr.noise_var;
    memset(dirty, 1, nloc);
    memset(kind, SPEX_BIN_MULTI, nloc);

    for (int round = 0; round < pp->max_rounds && out->count < pp->max_terms; round++) {
        size_t nmine = 0;
        for (size_t i = 0; i < nloc; i++) {
            if (!dirty[i])
                continue;
            dirty[i] = 0;
            size_t g = g_lo + i;
            spex_term t;
            kind[i] = (unsigned char)classify(d, (int)(g / B), g % B, U + i * P1, &pr, &sc, &t);
            if (kind[i] != SPEX_BIN_SINGLE)
                continue;
            if (nmine == mine_cap) {
                mine_cap = mine_cap ? 2 * mine_cap : 256;
                candidate *m = realloc(mine, mine_cap * sizeof *m);
                if (m == NULL) {
                    ok = 0;
                    break;
                }
                mine = m;
            }
            mine[nmine].g = g;
            mine[nmine].term = t;
            nmine++;
        }
        /* Agree on failure before the gather; then gather candidates in
         * rank order, which is ascending g. */
        if (!ok)
            spex_error_set(err, SPEX_EINTERNAL, "out of memory while peeling");
        if (spex_error_agree(comm, err) != SPEX_OK) {
            st = err->code;
            goto out;
        }
        int nm = (int)(nmine * sizeof(candidate));
        MPI_Allgather(&nm, 1, MPI_INT, counts, 1, MPI_INT, comm);
        size_t total = 0;
        for (int q = 0; q < size; q++) {
            displs[q] = (int)total;
            total += (size_t)counts[q];
        }
        size_t ncand = total / sizeof(candidate);
        if (ncand > all_cap) {
            candidate *a = realloc(all, ncand * sizeof *a);
            if (a == NULL)
                ok = 0;
            else {
                all = a;
                all_cap = ncand;
            }
        }
        if (!ok)
            spex_error_set(err, SPEX_EINTERNAL, "out of memory gathering %zu singletons", ncand);
        if (spex_error_agree(comm, err) != SPEX_OK) {
            st = err->code;
            goto out;
        }
        MPI_Allgatherv(mine, nm, MPI_BYTE, all, counts, displs, MPI_BYTE, comm);
        stats->rounds = round + 1;

        size_t fresh = 0;
        for (size_t i = 0; i < ncand && out->count < pp->max_terms; i++) {
            spex_term *t = &all[i].term;
            if (term_set_has(&seen, t))
                continue;
            if (spex_spectrum_push(out, t, err) != SPEX_OK ||
                term_set_add(&seen, (long)out->count - 1) != 0) {
                spex_error_set(err, SPEX_EINTERNAL, "out of memory storing recovered terms");
                break;
            }
            for (size_t p = 0; p < P1; p++)
                sgn[p] = spex_design_delay_parity(d, (int)p, t->feat, t->order) ? -1 : 1;
            subtract_term(d, t, sgn, g_lo, g_hi, U, dirty);
            fresh++;
        }
        if (spex_error_agree(comm, err) != SPEX_OK) {
            st = err->code;
            goto out;
        }
        if (fresh == 0)
            break;
    }

    /* Final classification of bins changed since they were last looked at,
     * for the statistics. */
    uint64_t cnt[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < nloc; i++) {
        if (dirty[i]) {
            spex_term t;
            size_t g = g_lo + i;
            kind[i] = (unsigned char)classify(d, (int)(g / B), g % B, U + i * P1, &pr, &sc, &t);
        }
        cnt[kind[i]]++;
    }
    cnt[3] = cnt[SPEX_BIN_SINGLE] + cnt[SPEX_BIN_MULTI];
    uint64_t sum[4];
    MPI_Allreduce(cnt, sum, 4, MPI_UINT64_T, MPI_SUM, comm);
    stats->zero = sum[SPEX_BIN_ZERO];
    stats->single = sum[SPEX_BIN_SINGLE];
    stats->multi = sum[SPEX_BIN_MULTI];
    stats->unresolved = sum[3];
out:
    free(U);
    free(dirty);
    free(kind);
    free(sgn);
    free(counts);
    free(displs);
    free(mine);
    free(all);
    free(seen.slot);
    scratch_free(&sc);
    return st;
}
