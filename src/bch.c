/* bch.c -- binary BCH codes as SPEX delays (ALGORITHMS.md section 4).
 *
 * A code for n positions and t errors lives in GF(2^m), m the smallest
 * m >= 2 with N = 2^m - 1 >= n and N >= 2t + 1; alpha is a root of the
 * primitive polynomial of degree m in the table below, and elements are
 * m-bit integers in the polynomial basis 1, alpha, ..., alpha^(m-1).  The
 * create step builds antilog/log tables (exp[e] = alpha^e); everything after
 * is table look-ups, so the object is read-only and may be shared by threads.
 *
 * Delays: row p = h*m + r (j = 2h + 1 odd, r a bit) has at position i bit r
 * of alpha^(j i).  For a set k of positions, y = D k therefore holds the odd
 * syndromes S_j = sum_{i in k} alpha^(j i) bit by bit.
 *
 * Decoding: the even syndromes follow from S_2j = S_j^2; Berlekamp-Massey
 * gives the shortest LFSR (length L, connection polynomial Lambda) that
 * generates S_1..S_2t.  If some k with |k| <= t has syndromes S, Lambda is its
 * error locator prod_{i in k} (1 - alpha^i x).  Conversely, when L <= t and
 * Lambda has L distinct roots, the syndromes are sums of L distinct powers
 * X_l^j with coefficients forced to 1 by S_2j = S_j^2, so the decoded set
 * encodes to y exactly; anything else is reported as -1.
 *
 * Roots are found in the reciprocal polynomial f(x) = x^L Lambda(1/x), whose
 * roots are the X_l = alpha^i themselves, without scanning the n positions
 * (a Chien search costs O(n t) per call; here the cost is independent of n):
 *   - L = 1: X = S_1, position log S_1.
 *   - f splits into distinct linear factors over GF(2^m) iff
 *     x^(2^m) = x mod f; that test costs m squarings mod f and rejects most
 *     garbage syndromes (multi-ton bins) early.
 *   - Berlekamp's trace algorithm then splits f: Tr(beta X) is 0 or 1 on each
 *     root, so gcd(g, Tr(beta x) mod g) splits any factor g whose roots
 *     disagree; beta runs over the basis alpha^0..alpha^(m-1), and since the
 *     trace form is non-degenerate some basis beta separates any two roots.
 * Positions are the logs of the roots; a root at a position >= n (the code is
 * shortened) makes the word undecodable.
 */
#include "spex/bch.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define BCH_MIN_M 2
/* Tables of 2^m uint32 (antilog and log): 16 MiB at m = 21. */
#define BCH_MAX_M 21
#define BCH_MAX_N ((1 << BCH_MAX_M) - 1)
/* Decoding works on the stack; SPEX_MAX_ORDER (config.h) is well below. */
#define BCH_MAX_T 64

/* Primitive polynomials over GF(2) (bit k = coefficient of x^k), the ones
 * tabulated in Lin & Costello, "Error Control Coding".  They define the
 * delays, so changing one changes every design built with that m. */
static const uint32_t BCH_PRIMITIVE_POLY[BCH_MAX_M + 1] = {
    [2] = 0x7,         /* x^2 + x + 1 */
    [3] = 0xB,         /* x^3 + x + 1 */
    [4] = 0x13,        /* x^4 + x + 1 */
    [5] = 0x25,        /* x^5 + x^2 + 1 */
    [6] = 0x43,        /* x^6 + x + 1 */
    [7] = 0x89,        /* x^7 + x^3 + 1 */
    [8] = 0x11D,       /* x^8 + x^4 + x^3 + x^2 + 1 */
    [9] = 0x211,       /* x^9 + x^4 + 1 */
    [10] = 0x409,      /* x^10 + x^3 + 1 */
    [11] = 0x805,      /* x^11 + x^2 + 1 */
    [12] = 0x1053,     /* x^12 + x^6 + x^4 + x + 1 */
    [13] = 0x201B,     /* x^13 + x^4 + x^3 + x + 1 */
    [14] = 0x4443,     /* x^14 + x^10 + x^6 + x + 1 */
    [15] = 0x8003,     /* x^15 + x + 1 */
    [16] = 0x1100B,    /* x^16 + x^12 + x^3 + x + 1 */
    [17] = 0x20009,    /* x^17 + x^3 + 1 */
    [18] = 0x40081,    /* x^18 + x^7 + 1 */
    [19] = 0x80027,    /* x^19 + x^5 + x^2 + x + 1 */
    [20] = 0x100009,   /* x^20 + x^3 + 1 */
    [21] = 0x200005,   /* x^21 + x^2 + 1 */
};

struct spex_bch {
    int n, t, m;
    uint32_t N;    /* 2^m - 1, the order of alpha */
    uint32_t *exp; /* exp[e] = alpha^e, 0 <= e < N */
    uint32_t *log; /* log[a] = e with alpha^e = a, 1 <= a <= N; log[0] = N,
                      which is no position, so a zero root is rejected */
};

/* ---- field arithmetic ------------------------------------------------------ */

static inline uint32_t gf_mul(const spex_bch *c, uint32_t a, uint32_t b)
{
    if (a == 0 || b == 0)
        return 0;
    uint32_t e = c->log[a] + c->log[b];
    return c->exp[e >= c->N ? e - c->N : e];
}

/* b != 0 */
static inline uint32_t gf_div(const spex_bch *c, uint32_t a, uint32_t b)
{
    if (a == 0)
        return 0;
    uint32_t e = c->log[a] + c->N - c->log[b];
    return c->exp[e >= c->N ? e - c->N : e];
}

/* ---- creation -------------------------------------------------------------- */

static int bch_choose_m(int n, int t)
{
    int m = BCH_MIN_M;
    while (((int64_t)1 << m) - 1 < n || ((int64_t)1 << m) - 1 < 2 * (int64_t)t + 1)
        m++;
    return m;
}

/* Fills exp/log by stepping a -> alpha a.  A polynomial that is not
 * primitive revisits an element before N steps; the table is fixed, so that
 * would be a bug, but it is cheap to rule out here. */
static spex_status bch_build_tables(spex_bch *c, spex_error *err)
{
    uint32_t poly = BCH_PRIMITIVE_POLY[c->m];
    uint32_t top = (uint32_t)1 << c->m;
    for (uint32_t a = 0; a <= c->N; a++)
        c->log[a] = c->N; /* not reached yet */
    uint32_t a = 1;
    for (uint32_t e = 0; e < c->N; e++) {
        if (c->log[a] != c->N)
            return spex_error_set(err, SPEX_EINTERNAL,
                                  "BCH: polynomial 0x%x of degree %d is not primitive",
                                  (unsigned)poly, c->m);
        c->exp[e] = a;
        c->log[a] = e;
        a <<= 1;
        if (a & top)
            a ^= poly;
    }
    return SPEX_OK;
}

spex_status spex_bch_create(int n, int t, spex_bch **out, spex_error *err)
{
    spex_status st = SPEX_OK;
    spex_bch *c = NULL;
    *out = NULL;
    if (n < 1)
        return spex_error_set(err, SPEX_EUSAGE, "BCH delays need at least 1 feature (n = %d)", n);
    if (n > BCH_MAX_N)
        return spex_error_set(err, SPEX_EUSAGE,
                              "BCH delays support at most %d features (n = %d)", BCH_MAX_N, n);
    if (t < 1 || t > BCH_MAX_T)
        return spex_error_set(err, SPEX_EUSAGE,
                              "BCH delays decode orders t from 1 to %d (t = %d)", BCH_MAX_T,
                              t);
    c = calloc(1, sizeof *c);
    SPEX_ALLOC_CHECK(c, err, "the BCH code");
    c->n = n;
    c->t = t;
    c->m = bch_choose_m(n, t);
    c->N = ((uint32_t)1 << c->m) - 1;
    c->exp = malloc((size_t)c->N * sizeof *c->exp);
    SPEX_ALLOC_CHECK(c->exp, err, "the BCH antilog table");
    c->log = malloc(((size_t)c->N + 1) * sizeof *c->log);
    SPEX_ALLOC_CHECK(c->log, err, "the BCH log table");
    SPEX_CHECK(bch_build_tables(c, err));
    *out = c;
    c = NULL;
out:
    spex_bch_destroy(c);
    return st;
}

void spex_bch_destroy(spex_bch *code)
{
    if (code == NULL)
        return;
    free(code->exp);
    free(code->log);
    free(code);
}

int spex_bch_m(const spex_bch *code)
{
    return code->m;
}

int spex_bch_rows(const spex_bch *code)
{
    return code->m * code->t;
}

/* ---- delays and encoding --------------------------------------------------- */

int spex_bch_delay_bit(const spex_bch *code, int p, int i)
{
    assert(p >= 0 && p < code->m * code->t && i >= 0 && i < code->n);
    uint64_t j = 2 * (uint64_t)(p / code->m) + 1;
    uint32_t e = (uint32_t)((j * (uint64_t)i) % code->N);
    return (int)((code->exp[e] >> (p % code->m)) & 1);
}

void spex_bch_delay_row(const spex_bch *code, int p, uint64_t *row, size_t words)
{
    assert(p >= 0 && p < code->m * code->t);
    assert(words >= ((size_t)code->n + 63) / 64);
    /* j <= 2t - 1 < N, so the exponent j*i mod N advances by one subtraction. */
    uint32_t j = 2 * (uint32_t)(p / code->m) + 1;
    int r = p % code->m;
    uint32_t e = 0;
    int i = 0;
    for (size_t w = 0; w < words; w++) {
        uint64_t bits = 0;
        for (int b = 0; b < 64 && i < code->n; b++, i++) {
            bits |= (uint64_t)((code->exp[e] >> r) & 1) << b;
            e += j;
            if (e >= code->N)
                e -= code->N;
        }
        row[w] = bits;
    }
}

void spex_bch_encode(const spex_bch *code, const int32_t *pos, int count, uint8_t *y)
{
    uint32_t S[BCH_MAX_T] = {0}; /* S[h] = S_(2h+1) */
    for (int k = 0; k < count; k++) {
        assert(pos[k] >= 0 && pos[k] < code->n);
        /* i < n <= N, so i and 2i mod N need no division. */
        uint32_t e = (uint32_t)pos[k];
        uint32_t step = 2 * e >= code->N ? 2 * e - code->N : 2 * e;
        for (int h = 0; h < code->t; h++) {
            S[h] ^= code->exp[e];
            e += step;
            if (e >= code->N)
                e -= code->N;
        }
    }
    for (int h = 0; h < code->t; h++)
        for (int r = 0; r < code->m; r++)
            y[h * code->m + r] = (uint8_t)((S[h] >> r) & 1);
}

/* ---- decoding: syndromes and Berlekamp-Massey ------------------------------ */

/* S[j] = S_j for j = 1..2t; returns whether any is non-zero. */
static int bch_syndromes(const spex_bch *c, const uint8_t *y, uint32_t *S)
{
    uint32_t any = 0;
    for (int h = 0; h < c->t; h++) {
        uint32_t s = 0;
        for (int r = 0; r < c->m; r++)
            s |= (uint32_t)(y[h * c->m + r] != 0) << r;
        S[2 * h + 1] = s;
        any |= s;
    }
    for (int j = 2; j <= 2 * c->t; j += 2)
        S[j] = gf_mul(c, S[j / 2], S[j / 2]);
    return any != 0;
}

/* Berlekamp-Massey over GF(2^m).  Writes the connection polynomial to
 * lambda[0..2t] and returns its LFSR length L, or -1 as soon as L > t (L
 * never decreases, and no set of <= t positions can then explain S).
 * deg lambda <= L throughout, so 2t + 1 coefficients always suffice. */
static int bch_locator(const spex_bch *c, const uint32_t *S, uint32_t *lambda)
{
    int len = 2 * c->t + 1;
    uint32_t B[2 * BCH_MAX_T + 1] = {0}, prev[2 * BCH_MAX_T + 1];
    memset(lambda, 0, (size_t)len * sizeof *lambda);
    lambda[0] = B[0] = 1;
    int L = 0, shift = 1;
    uint32_t b = 1;
    for (int k = 0; k < 2 * c->t; k++) {
        uint32_t d = S[k + 1];
        for (int i = 1; i <= L; i++)
            d ^= gf_mul(c, lambda[i], S[k + 1 - i]);
        if (d == 0) {
            shift++;
            continue;
        }
        uint32_t q = gf_div(c, d, b);
        int grow = 2 * L <= k;
        if (grow)
            memcpy(prev, lambda, (size_t)len * sizeof *lambda);
        for (int i = 0; i + shift < len; i++)
            lambda[i + shift] ^= gf_mul(c, q, B[i]);
        if (!grow) {
            shift++;
            continue;
        }
        L = k + 1 - L;
        if (L > c->t)
            return -1;
        memcpy(B, prev, (size_t)len * sizeof *B);
        b = d;
        shift = 1;
    }
    return L;
}

/* ---- decoding: polynomials over GF(2^m) ------------------------------------ */
/* Coefficients lowest first; a degree of -1 is the zero polynomial. */

static int bch_poly_degree(const uint32_t *a, int d)
{
    while (d >= 0 && a[d] == 0)
        d--;
    return d;
}

/* a (degree da) mod b (degree db >= 0, any leading coefficient), in place;
 * returns the degree of the remainder. */
static int bch_poly_mod(const spex_bch *c, uint32_t *a, int da, const uint32_t *b, int db)
{
    for (int k = da; k >= db; k--) {
        if (a[k] == 0)
            continue;
        uint32_t q = gf_div(c, a[k], b[db]);
        for (int l = 0; l <= db; l++)
            a[k - db + l] ^= gf_mul(c, q, b[l]);
    }
    return bch_poly_degree(a, db - 1);
}

/* u <- u^2 mod f, f monic of degree d >= 1, deg u < d.  Squaring is the
 * Frobenius map in characteristic 2: (sum u_k x^k)^2 = sum u_k^2 x^(2k). */
static void bch_poly_sqr_mod(const spex_bch *c, uint32_t *u, const uint32_t *f, int d)
{
    uint32_t w[2 * BCH_MAX_T] = {0};
    for (int k = 0; k < d; k++)
        w[2 * k] = gf_mul(c, u[k], u[k]);
    bch_poly_mod(c, w, 2 * d - 2, f, d);
    memcpy(u, w, (size_t)d * sizeof *u);
}

/* The monic gcd of g (monic, degree dg >= 1) and r (degree dr < dg, maybe
 * -1) into out; returns its degree. */
static int bch_poly_gcd(const spex_bch *c, const uint32_t *g, int dg, const uint32_t *r, int dr,
                        uint32_t *out)
{
    uint32_t a[BCH_MAX_T + 1], b[BCH_MAX_T + 1];
    memcpy(a, g, (size_t)(dg + 1) * sizeof *a);
    memcpy(b, r, (size_t)(dr + 1) * sizeof *b);
    int da = dg, db = dr;
    uint32_t *pa = a, *pb = b;
    while (db >= 0) {
        da = bch_poly_mod(c, pa, da, pb, db);
        uint32_t *tp = pa;
        pa = pb;
        pb = tp;
        int td = da;
        da = db;
        db = td;
    }
    for (int k = 0; k <= da; k++)
        out[k] = gf_div(c, pa[k], pa[da]);
    return da;
}

/* q = g / h for monic h dividing g (degrees dg >= dh). */
static void bch_poly_div_exact(const spex_bch *c, const uint32_t *g, int dg, const uint32_t *h,
                               int dh, uint32_t *q)
{
    uint32_t rem[BCH_MAX_T + 1];
    memcpy(rem, g, (size_t)(dg + 1) * sizeof *rem);
    for (int k = dg; k >= dh; k--) {
        uint32_t lead = rem[k];
        q[k - dh] = lead;
        for (int l = 0; l <= dh; l++)
            rem[k - dh + l] ^= gf_mul(c, lead, h[l]);
    }
}

/* ---- decoding: roots of the locator ---------------------------------------- */

/* xp[k] = x^(2^k) mod f for k = 0..m-1 (f monic, degree L >= 2); returns
 * whether x^(2^m) = x mod f, i.e. f has L distinct roots in GF(2^m). */
static int bch_splits(const spex_bch *c, const uint32_t *f, int L, uint32_t xp[][BCH_MAX_T])
{
    uint32_t u[BCH_MAX_T] = {0};
    u[1] = 1;
    for (int k = 0; k < c->m; k++) {
        memcpy(xp[k], u, (size_t)L * sizeof *u);
        bch_poly_sqr_mod(c, u, f, L);
    }
    if (u[1] != 1 || u[0] != 0)
        return 0;
    for (int k = 2; k < L; k++)
        if (u[k] != 0)
            return 0;
    return 1;
}

/* T = Tr(beta x) mod f = sum_k beta^(2^k) x^(2^k) mod f, from the xp table. */
static void bch_trace_poly(const spex_bch *c, uint32_t xp[][BCH_MAX_T], int L, uint32_t beta,
                           uint32_t *T)
{
    memset(T, 0, (size_t)L * sizeof *T);
    for (int k = 0; k < c->m; k++) {
        for (int l = 0; l < L; l++)
            T[l] ^= gf_mul(c, beta, xp[k][l]);
        beta = gf_mul(c, beta, beta);
    }
}

/* Appends g (monic, degree dg) split by T = Tr(beta x) mod f into the list
 * (coefficients back to back in buf at *off, degrees in deg at *count):
 * as gcd(g, T) and g / gcd when that is a proper factor, else g itself. */
static void bch_split_factor(const spex_bch *c, const uint32_t *g, int dg, const uint32_t *T,
                             int L, uint32_t *buf, int *deg, int *off, int *count)
{
    int dh = dg;
    if (dg >= 2) {
        uint32_t r[BCH_MAX_T];
        memcpy(r, T, (size_t)L * sizeof *r);
        int dr = bch_poly_mod(c, r, bch_poly_degree(r, L - 1), g, dg);
        dh = bch_poly_gcd(c, g, dg, r, dr, buf + *off);
    }
    if (dh == 0 || dh == dg) {
        memcpy(buf + *off, g, (size_t)(dg + 1) * sizeof *g);
        *off += dg + 1;
        deg[(*count)++] = dg;
        return;
    }
    bch_poly_div_exact(c, g, dg, buf + *off, dh, buf + *off + dh + 1);
    deg[(*count)++] = dh;
    deg[(*count)++] = dg - dh;
    *off += dg + 2;
}

/* Splits f (monic, degree L >= 2, L distinct roots) into linear factors by
 * the trace algorithm and writes its roots to X; returns L, or -1 if the
 * basis ran out first (impossible for a split, square-free f). */
static int bch_trace_roots(const spex_bch *c, const uint32_t *f, int L,
                           uint32_t xp[][BCH_MAX_T], uint32_t *X)
{
    /* Factors are stored back to back, degree d taking d + 1 slots; L
     * factors of total degree L fit in 2L slots. */
    uint32_t buf[2][2 * BCH_MAX_T], T[BCH_MAX_T];
    int deg[2][BCH_MAX_T], count[2] = {1, 0}, cur = 0;
    memcpy(buf[0], f, (size_t)(L + 1) * sizeof *f);
    deg[0][0] = L;
    for (int bi = 0; bi < c->m && count[cur] < L; bi++) {
        bch_trace_poly(c, xp, L, c->exp[bi], T);
        int nxt = 1 - cur, in = 0, out = 0;
        count[nxt] = 0;
        for (int k = 0; k < count[cur]; k++) {
            int dg = deg[cur][k];
            bch_split_factor(c, buf[cur] + in, dg, T, L, buf[nxt], deg[nxt], &out, &count[nxt]);
            in += dg + 1;
        }
        cur = nxt;
    }
    if (count[cur] < L)
        return -1;
    /* Linear factors x + X: the root is X (characteristic 2). */
    for (int k = 0; k < L; k++)
        X[k] = buf[cur][2 * k];
    return L;
}

/* Positions of the L roots of the locator lambda (lambda[L] != 0) into
 * found; returns L, or -1 when lambda does not have L distinct roots at
 * positions below n. */
static int bch_locator_positions(const spex_bch *c, const uint32_t *lambda, int L,
                                 int32_t *found)
{
    uint32_t X[BCH_MAX_T];
    if (L == 1) {
        X[0] = lambda[1];
    } else {
        uint32_t f[BCH_MAX_T + 1];
        uint32_t xp[BCH_MAX_M][BCH_MAX_T];
        for (int k = 0; k <= L; k++)
            f[k] = lambda[L - k];
        if (!bch_splits(c, f, L, xp) || bch_trace_roots(c, f, L, xp, X) != L)
            return -1;
    }
    for (int k = 0; k < L; k++) {
        uint32_t i = c->log[X[k]];
        if (i >= (uint32_t)c->n)
            return -1;
        found[k] = (int32_t)i;
    }
    return L;
}

static void bch_sort_positions(int32_t *a, int count)
{
    for (int k = 1; k < count; k++) {
        int32_t v = a[k];
        int l = k;
        for (; l > 0 && a[l - 1] > v; l--)
            a[l] = a[l - 1];
        a[l] = v;
    }
}

int spex_bch_decode(const spex_bch *code, const uint8_t *y, int32_t *pos)
{
    uint32_t S[2 * BCH_MAX_T + 1], lambda[2 * BCH_MAX_T + 1];
    int32_t found[BCH_MAX_T];
    if (!bch_syndromes(code, y, S))
        return 0;
    int L = bch_locator(code, S, lambda);
    /* Non-zero syndromes give L >= 1; deg lambda < L means fewer than L
     * roots, so no set of L positions. */
    if (L < 1 || lambda[L] == 0)
        return -1;
    if (bch_locator_positions(code, lambda, L, found) != L)
        return -1;
    bch_sort_positions(found, L);
    memcpy(pos, found, (size_t)L * sizeof *pos);
    return L;
}
