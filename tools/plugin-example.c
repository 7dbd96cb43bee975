/* plugin-example.c -- an example spex plugin: a sparse function with known
 * terms, so that a run through the plugin path can be checked exactly.
 *
 * f(x) = sum over terms k of c_k chi_k(x), where chi_k(x) = (-1)^(number of
 * features of k present in x) in the Fourier basis (the default), or
 * [every feature of k present] in the Mobius basis (an "AND" interaction,
 * what a model's joint effect looks like).  The terms come from
 * oracle.plugin_args, words separated by spaces:
 *
 *   spectrum=FILE     terms in spex's spectrum format: per line a coefficient
 *                     and the term's 0-based features ("1.5 3 9")
 *   term=C:I,J,...    one term inline ("term=-2:4", "term=0.5:" constant)
 *   basis=fourier|mobius
 *   poison=ID         return NaN for query ID (to see spex reject it)
 *
 * With no terms given it is the toy function
 *   f = 1 + 1.5 chi_{0,1} - 2 chi_{2,5,7} + 0.5 chi_{3}   (needs n >= 8).
 *
 * Build (outside spex's tree):
 *   mpicc -shared -fPIC -I<spex>/include -o plugin-example.so plugin-example.c
 * Run:
 *   spex run --set oracle.kind=plugin --set oracle.plugin=./plugin-example.so \
 *            --set oracle.plugin_args="spectrum=spec.txt" --set features.n=100 ...
 *
 * It shows the parts of the interface (include/spex.h) a real plugin needs:
 * state allocated in init and freed in destroy, messages in errbuf with a
 * return code saying whose fault (SPEX_EUSAGE for bad arguments,
 * SPEX_EINPUT for an unreadable file), byte-packed masks, first_id.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spex.h"

typedef struct example_state {
    int n;
    int mobius;          /* basis: 0 Fourier, 1 Mobius */
    size_t nterms, cap;  /* terms held, allocated */
    size_t *start;       /* term q's features: feat[start[q] .. start[q+1]) */
    int *feat;
    size_t nfeat, feat_cap;
    double *coef;
    long long poison;    /* query id answered with NaN; -1 none */
} example_state;

static void example_free(example_state *s)
{
    if (s != NULL) {
        free(s->start);
        free(s->feat);
        free(s->coef);
        free(s);
    }
}

/* Appends a term; features are checked against n.  Returns 0, or an error
 * code with errbuf filled. */
static int add_term(example_state *s, double c, const int *f, int order, const char *where,
                    char *errbuf, size_t errlen)
{
    for (int q = 0; q < order; q++)
        if (f[q] < 0 || f[q] >= s->n) {
            snprintf(errbuf, errlen, "%s: feature %d is outside 0..%d", where, f[q], s->n - 1);
            return SPEX_EUSAGE;
        }
    if (s->nterms + 1 >= s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        size_t *start = realloc(s->start, (cap + 1) * sizeof *start);
        if (start != NULL)
            s->start = start;
        double *coef = realloc(s->coef, cap * sizeof *coef);
        if (coef != NULL)
            s->coef = coef;
        if (start == NULL || coef == NULL) {
            snprintf(errbuf, errlen, "out of memory");
            return SPEX_EORACLE;
        }
        s->cap = cap;
    }
    if (s->nfeat + (size_t)order > s->feat_cap) {
        size_t cap = 2 * (s->nfeat + (size_t)order) + 16;
        int *feat = realloc(s->feat, cap * sizeof *feat);
        if (feat == NULL) {
            snprintf(errbuf, errlen, "out of memory");
            return SPEX_EORACLE;
        }
        s->feat = feat;
        s->feat_cap = cap;
    }
    s->start[s->nterms] = s->nfeat;
    for (int q = 0; q < order; q++)
        s->feat[s->nfeat++] = f[q];
    s->coef[s->nterms++] = c;
    s->start[s->nterms] = s->nfeat;
    return 0;
}

/* Parses "C I J ..." (file) or "C:I,J,..." (inline); sep separates the
 * features. */
static int parse_term(example_state *s, const char *text, char sep, const char *where,
                      char *errbuf, size_t errlen)
{
    char *end;
    int f[64], order = 0;
    double c = strtod(text, &end);
    if (end == text || !isfinite(c)) {
        snprintf(errbuf, errlen, "%s: '%s' does not start with a finite coefficient", where, text);
        return SPEX_EUSAGE;
    }
    const char *p = end;
    if (sep == ',') {
        if (*p != ':') {
            snprintf(errbuf, errlen, "%s: expected COEF:I,J,... in '%s'", where, text);
            return SPEX_EUSAGE;
        }
        p++;
    }
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || (sep == ',' && *p == ','))
            p++;
        if (*p == '\0')
            break;
        long v = strtol(p, &end, 10);
        if (end == p || order == 64) {
            snprintf(errbuf, errlen, "%s: bad feature list in '%s'", where, text);
            return SPEX_EUSAGE;
        }
        f[order++] = (int)v;
        p = end;
    }
    return add_term(s, c, f, order, where, errbuf, errlen);
}

static int read_spectrum(example_state *s, const char *path, char *errbuf, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(errbuf, errlen, "cannot open spectrum file '%s': %s", path, strerror(errno));
        return SPEX_EINPUT;
    }
    char line[4096], where[300];
    int rc = 0, lineno = 0;
    while (rc == 0 && fgets(line, sizeof line, f) != NULL) {
        lineno++;
        const char *p = line + strspn(line, " \t");
        if (*p == '#' || *p == '\n' || *p == '\r' || *p == '\0')
            continue;
        snprintf(where, sizeof where, "%.280s:%d", path, lineno);
        rc = parse_term(s, p, ' ', where, errbuf, errlen);
        if (rc == SPEX_EUSAGE)
            rc = SPEX_EINPUT; /* a bad file is bad input data, not a bad argument */
    }
    fclose(f);
    return rc;
}

static int example_init(void **state, const spex_plugin_context *ctx, char *errbuf, size_t errlen)
{
    int rc = 0;
    example_state *s = calloc(1, sizeof *s);
    char *args = strdup(ctx->args);
    if (s == NULL || args == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        rc = SPEX_EORACLE;
        goto out;
    }
    s->n = ctx->n;
    s->poison = -1;
    char *save = NULL;
    for (char *w = strtok_r(args, " \t", &save); w != NULL && rc == 0;
         w = strtok_r(NULL, " \t", &save)) {
        if (strncmp(w, "spectrum=", 9) == 0) {
            rc = read_spectrum(s, w + 9, errbuf, errlen);
        } else if (strncmp(w, "term=", 5) == 0) {
            rc = parse_term(s, w + 5, ',', "oracle.plugin_args term", errbuf, errlen);
        } else if (strcmp(w, "basis=fourier") == 0 || strcmp(w, "basis=mobius") == 0) {
            s->mobius = w[6] == 'm';
        } else if (strncmp(w, "poison=", 7) == 0) {
            char *end;
            s->poison = strtoll(w + 7, &end, 10);
            if (end == w + 7 || *end != '\0' || s->poison < 0) {
                snprintf(errbuf, errlen, "poison= needs a query id, not '%s'", w + 7);
                rc = SPEX_EUSAGE;
            }
        } else {
            snprintf(errbuf, errlen,
                     "unknown argument '%s' (known: spectrum=FILE term=C:I,J,... "
                     "basis=fourier|mobius poison=ID)",
                     w);
            rc = SPEX_EUSAGE;
        }
    }
    if (rc == 0 && s->nterms == 0) {
        /* The documented toy function. */
        static const char *const toy[] = {"1:", "1.5:0,1", "-2:2,5,7", "0.5:3"};
        if (s->n < 8) {
            snprintf(errbuf, errlen, "the built-in toy function needs n >= 8 (n = %d)", s->n);
            rc = SPEX_EUSAGE;
        }
        for (size_t i = 0; rc == 0 && i < sizeof toy / sizeof toy[0]; i++)
            rc = parse_term(s, toy[i], ',', "toy", errbuf, errlen);
    }
out:
    free(args);
    if (rc != 0) {
        example_free(s);
        return rc;
    }
    *state = s;
    return 0;
}

static int example_eval(void *state, size_t count, const uint8_t *masks, uint64_t first_id,
                        double *values, char *errbuf, size_t errlen)
{
    const example_state *s = state;
    size_t mask_bytes = ((size_t)s->n + 7) / 8;
    for (size_t j = 0; j < count; j++) {
        const uint8_t *m = masks + j * mask_bytes;
        double v = 0.0;
        for (size_t q = 0; q < s->nterms; q++) {
            int present = 0, order = (int)(s->start[q + 1] - s->start[q]);
            for (size_t r = s->start[q]; r < s->start[q + 1]; r++)
                present += (m[s->feat[r] >> 3] >> (s->feat[r] & 7)) & 1;
            if (s->mobius)
                v += present == order ? s->coef[q] : 0.0;
            else
                v += present & 1 ? -s->coef[q] : s->coef[q];
        }
        values[j] = (long long)(first_id + j) == s->poison ? NAN : v;
    }
    return 0;
}

static void example_destroy(void *state) { example_free(state); }

SPEX_PLUGIN_EXPORT const spex_plugin spex_plugin_v1 = {
    SPEX_PLUGIN_ABI, "plugin-example", example_init, example_eval, example_destroy,
};
