/* spectrum.c -- sparse spectra: storage, ordering, the spectrum file
 * format, synthetic generation, exact Fourier <-> Mobius conversion and
 * comparison against a known truth.
 *
 * Conversions (ALGORITHMS.md section 1):
 *   Mobius -> Fourier: F(k) = (-1)^|k| sum_{T >= k} m(T) 2^-|T|
 *   Fourier -> Mobius: m(T) = (-2)^|T| sum_{k >= T} F(k)
 * Each input term of order d contributes to its 2^d subsets; contributions
 * are accumulated by sorting (set, value) pairs and summing runs, so the
 * result does not depend on input order beyond floating-point summation in
 * sorted order.
 */
#include "spex/spectrum.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spex/rng.h"

void spex_spectrum_init(spex_spectrum *s)
{
    s->count = s->cap = 0;
    s->terms = NULL;
}

void spex_spectrum_free(spex_spectrum *s)
{
    free(s->terms);
    spex_spectrum_init(s);
}

spex_status spex_spectrum_push(spex_spectrum *s, const spex_term *t, spex_error *err)
{
    if (s->count == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        spex_term *p = realloc(s->terms, cap * sizeof *p);
        if (p == NULL)
            return spex_error_set(err, SPEX_EINTERNAL, "out of memory growing a spectrum to %zu terms",
                                  cap);
        s->terms = p;
        s->cap = cap;
    }
    s->terms[s->count++] = *t;
    return SPEX_OK;
}

int spex_term_cmp_set(const spex_term *a, const spex_term *b)
{
    if (a->order != b->order)
        return a->order < b->order ? -1 : 1;
    for (int q = 0; q < a->order; q++)
        if (a->feat[q] != b->feat[q])
            return a->feat[q] < b->feat[q] ? -1 : 1;
    return 0;
}

static int cmp_set(const void *a, const void *b) { return spex_term_cmp_set(a, b); }

static int cmp_ranked(const void *pa, const void *pb)
{
    const spex_term *a = pa, *b = pb;
    double x = fabs(a->coef), y = fabs(b->coef);
    if (x != y)
        return x > y ? -1 : 1;
    return spex_term_cmp_set(a, b);
}

void spex_spectrum_sort_by_set(spex_spectrum *s)
{
    if (s->count > 1)
        qsort(s->terms, s->count, sizeof *s->terms, cmp_set);
}

void spex_spectrum_sort_ranked(spex_spectrum *s)
{
    if (s->count > 1)
        qsort(s->terms, s->count, sizeof *s->terms, cmp_ranked);
}

long spex_spectrum_find(const spex_spectrum *s, const spex_term *key)
{
    size_t lo = 0, hi = s->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = spex_term_cmp_set(&s->terms[mid], key);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static int cmp_int32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* ---- the spectrum file ---------------------------------------------------- */

/* Parses one non-comment line into t; returns 0 or writes a message. */
static int parse_term_line(char *line, int n, spex_term *t, char *msg, size_t msglen)
{
    char *p = line, *end;
    memset(t, 0, sizeof *t);
    errno = 0;
    double c = strtod(p, &end);
    if (end == p || (*end && !isspace((unsigned char)*end))) {
        snprintf(msg, msglen, "expected a coefficient, found '%.40s'", p);
        return -1;
    }
    if (!isfinite(c) || errno == ERANGE) {
        snprintf(msg, msglen, "coefficient '%.*s' is not a finite number", (int)(end - p), p);
        return -1;
    }
    t->coef = c;
    t->order = 0;
    p = end;
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '\0')
            break;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (end == p || (*end && !isspace((unsigned char)*end))) {
            snprintf(msg, msglen, "expected a feature index, found '%.40s'", p);
            return -1;
        }
        if (errno == ERANGE || v < 0 || v >= n) {
            snprintf(msg, msglen, "feature index %.*s out of range 0..%d", (int)(end - p), p, n - 1);
            return -1;
        }
        if (t->order == SPEX_MAX_ORDER) {
            snprintf(msg, msglen, "more than %d features in one term", SPEX_MAX_ORDER);
            return -1;
        }
        t->feat[t->order++] = (int32_t)v;
        p = end;
    }
    qsort(t->feat, (size_t)t->order, sizeof t->feat[0], cmp_int32);
    for (int q = 1; q < t->order; q++)
        if (t->feat[q] == t->feat[q - 1]) {
            snprintf(msg, msglen, "feature index %d repeated in one term", (int)t->feat[q]);
            return -1;
        }
    return 0;
}

spex_status spex_spectrum_read(const char *path, int n, spex_spectrum *out, spex_error *err)
{
    spex_status st = SPEX_OK;
    struct line_term {
        spex_term t;
        size_t line;
    } *pairs = NULL;
    size_t *lines = NULL, cap = 0;
    char *line = NULL;
    size_t linecap = 0;
    long lineno = 0;
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return spex_error_set(err, SPEX_EINPUT, "cannot read spectrum file '%s': %s", path,
                              strerror(errno));
    spex_spectrum_init(out);
    ssize_t len;
    while ((len = getline(&line, &linecap, f)) >= 0) {
        lineno++;
        if ((size_t)len != strlen(line)) {
            st = spex_error_set(err, SPEX_EINPUT, "%s:%ld: NUL byte in a text line", path, lineno);
            goto out;
        }
        /* The line end is not part of the term (nor of a message quoting it). */
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '\0' || *p == '#')
            continue;
        spex_term t;
        char msg[200];
        if (parse_term_line(p, n, &t, msg, sizeof msg) != 0) {
            st = spex_error_set(err, SPEX_EINPUT, "%s:%ld: %s", path, lineno, msg);
            goto out;
        }
        SPEX_CHECK(spex_spectrum_push(out, &t, err));
        if (out->count > cap) {
            cap = out->cap;
            size_t *nl = realloc(lines, cap * sizeof *nl);
            SPEX_ALLOC_CHECK(nl, err, "spectrum line numbers");
            lines = nl;
        }
        lines[out->count - 1] = (size_t)lineno;
    }
    if (ferror(f)) {
        st = spex_error_set(err, SPEX_EINPUT, "error reading spectrum file '%s'", path);
        goto out;
    }
    /* A feature set given twice is almost surely a mistake in the file: say
     * where both are rather than silently adding them.  Sorting (term, line)
     * pairs by set puts repeats side by side. */
    pairs = malloc((out->count ? out->count : 1) * sizeof *pairs);
    SPEX_ALLOC_CHECK(pairs, err, "spectrum line index");
    for (size_t i = 0; i < out->count; i++) {
        pairs[i].t = out->terms[i];
        pairs[i].line = lines[i];
    }
    qsort(pairs, out->count, sizeof *pairs, cmp_set); /* t is the first member */
    for (size_t i = 1; i < out->count; i++)
        if (spex_term_cmp_set(&pairs[i].t, &pairs[i - 1].t) == 0) {
            size_t x = pairs[i - 1].line, y = pairs[i].line;
            st = spex_error_set(err, SPEX_EINPUT, "%s:%zu: feature set repeats line %zu", path,
                                x > y ? x : y, x < y ? x : y);
            goto out;
        }
    for (size_t i = 0; i < out->count; i++)
        out->terms[i] = pairs[i].t;
out:
    if (st != SPEX_OK)
        spex_spectrum_free(out);
    free(pairs);
    free(lines);
    free(line);
    fclose(f);
    return st;
}

/* ---- synthetic spectra ---------------------------------------------------- */

/* Removes adjacent repeats from a spectrum sorted by set (keeps the first). */
static void drop_repeats(spex_spectrum *s)
{
    size_t w = 0;
    for (size_t i = 0; i < s->count; i++)
        if (w == 0 || spex_term_cmp_set(&s->terms[w - 1], &s->terms[i]) != 0)
            s->terms[w++] = s->terms[i];
    s->count = w;
}

/* Draws one term from counter ctr: 4 words per draw, as many draws as the
 * order needs (a repeated feature is redrawn). */
static void draw_term(int n, int max_order, double cmin, double cmax, uint64_t seed,
                      uint64_t *ctr, spex_term *t)
{
    uint64_t w[4];
    memset(t, 0, sizeof *t);
    spex_rng_u64x4(seed, SPEX_STREAM_SPECTRUM, (*ctr)++, w);
    t->order = max_order > 0 ? 1 + (int)(w[0] % (uint64_t)max_order) : 0;
    if (t->order > n)
        t->order = n;
    double mag = cmin + (cmax - cmin) * ((double)(w[1] >> 11) * 0x1.0p-53);
    t->coef = (w[2] & 1) ? -mag : mag;
    int have = 0;
    while (have < t->order) {
        spex_rng_u64x4(seed, SPEX_STREAM_SPECTRUM, (*ctr)++, w);
        for (int q = 0; q < 4 && have < t->order; q++) {
            int32_t f = (int32_t)(w[q] % (uint64_t)n);
            int dup = 0;
            for (int r = 0; r < have; r++)
                dup |= t->feat[r] == f;
            if (!dup)
                t->feat[have++] = f;
        }
    }
    qsort(t->feat, (size_t)t->order, sizeof t->feat[0], cmp_int32);
}

spex_status spex_spectrum_generate(int n, int terms, int max_order, double cmin, double cmax,
                                   uint64_t seed, spex_spectrum *out, spex_error *err)
{
    spex_status st = SPEX_OK;
    uint64_t ctr = 0;
    spex_spectrum_init(out);
    if (max_order == 0 && terms > 1)
        return spex_error_set(err, SPEX_EUSAGE,
                              "oracle.terms = %d but oracle.max_order = 0 allows only the constant",
                              terms);
    /* Draw, sort, drop repeats; top up until the count is reached.  Bounded
     * so that an impossible request (more terms than sets) cannot spin. */
    for (int pass = 0; out->count < (size_t)terms; pass++) {
        if (pass > 64) {
            st = spex_error_set(err, SPEX_EUSAGE,
                                "cannot draw %d distinct terms of order <= %d over %d features",
                                terms, max_order, n);
            goto out;
        }
        size_t need = (size_t)terms - out->count;
        for (size_t i = 0; i < need; i++) {
            spex_term t;
            draw_term(n, max_order, cmin, cmax, seed, &ctr, &t);
            SPEX_CHECK(spex_spectrum_push(out, &t, err));
        }
        spex_spectrum_sort_by_set(out);
        drop_repeats(out);
    }
out:
    if (st != SPEX_OK)
        spex_spectrum_free(out);
    return st;
}

/* ---- conversions ------------------------------------------------------------ */

/* Adds, for every term of in and every subset T of its set, the value
 * coef * weight(|T|, |set|) to T; then merges equal sets. */
static spex_status expand_subsets(const spex_spectrum *in, double (*weight)(int sub, int full),
                                  spex_spectrum *out, spex_error *err)
{
    spex_status st = SPEX_OK;
    spex_spectrum_init(out);
    for (size_t i = 0; i < in->count; i++) {
        const spex_term *t = &in->terms[i];
        for (uint32_t sub = 0; sub < (1u << t->order); sub++) {
            spex_term u;
            memset(&u, 0, sizeof u);
            for (int q = 0; q < t->order; q++)
                if (sub & (1u << q))
                    u.feat[u.order++] = t->feat[q];
            u.coef = t->coef * weight(u.order, t->order);
            SPEX_CHECK(spex_spectrum_push(out, &u, err));
        }
    }
    spex_spectrum_sort_by_set(out);
    size_t w = 0;
    for (size_t i = 0; i < out->count;) {
        spex_term acc = out->terms[i];
        size_t j = i + 1;
        for (; j < out->count && spex_term_cmp_set(&out->terms[j], &acc) == 0; j++)
            acc.coef += out->terms[j].coef;
        if (acc.coef != 0.0)
            out->terms[w++] = acc;
        i = j;
    }
    out->count = w;
out:
    if (st != SPEX_OK)
        spex_spectrum_free(out);
    return st;
}

/* F(k) gets (-1)^|k| 2^-|T| m(T) from each T containing k. */
static double w_mobius_to_fourier(int sub, int full)
{
    return ((sub & 1) ? -1.0 : 1.0) * ldexp(1.0, -full);
}

/* m(T) gets (-2)^|T| F(k) from each k containing T. */
static double w_fourier_to_mobius(int sub, int full)
{
    (void)full;
    return ((sub & 1) ? -1.0 : 1.0) * ldexp(1.0, sub);
}

spex_status spex_spectrum_mobius_to_fourier(const spex_spectrum *mob, spex_spectrum *out,
                                            spex_error *err)
{
    return expand_subsets(mob, w_mobius_to_fourier, out, err);
}

spex_status spex_spectrum_fourier_to_mobius(const spex_spectrum *four, spex_spectrum *out,
                                            spex_error *err)
{
    return expand_subsets(four, w_fourier_to_mobius, out, err);
}

/* ---- comparison ------------------------------------------------------------- */

void spex_spectrum_compare(const spex_spectrum *truth, const spex_spectrum *found, double floor,
                           spex_recovery *rec)
{
    memset(rec, 0, sizeof *rec);
    rec->true_terms = truth->count;
    for (size_t i = 0; i < found->count; i++) {
        const spex_term *t = &found->terms[i];
        long at = spex_spectrum_find(truth, t);
        if (at < 0) {
            if (fabs(t->coef) > floor)
                rec->false_terms++;
            continue;
        }
        rec->found++;
        double c = truth->terms[at].coef;
        double rel = fabs(t->coef - c) / fabs(c);
        if (rel > rec->max_rel_err)
            rec->max_rel_err = rel;
    }
}
