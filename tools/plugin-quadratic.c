/* plugin-quadratic.c -- a spex plugin that explains one prediction of a
 * small real model: a quadratic regression of disease progression on the
 * ten features of the diabetes data (inputs/diabetes/quadratic.txt, made by
 * tools/make-diabetes-example.py; inputs/diabetes-plugin.ini runs it).
 *
 * The model file holds the model, the explained row x and a baseline row b.
 * A mask builds z with z_i = x_i where feature i is kept (bit 1) and b_i
 * where it is masked; the value is
 *
 *   f(z) = intercept + sum_i linear_i u_i + sum_{pairs i <= j} w_ij u_i u_j,
 *   u_i = (z_i - mean_i) / scale_i,
 *
 * summed in exactly that order (the pairs in file order), as
 * tools/worker-quadratic.py does, so that the plugin and the exec worker
 * give the same numbers.
 *
 * oracle.plugin_args: model=FILE (a path relative to spex's working
 * directory).  The file: '#' comment lines, then lines of a keyword and
 * numbers: "n N", "names ..." (ignored here), "mean", "scale", "linear",
 * "x", "baseline" (N numbers each), "intercept C", "pair I J W".
 *
 * Build (make check builds it as tools/.libs/plugin-quadratic.so):
 *   mpicc -shared -fPIC -I<spex>/include -o plugin-quadratic.so plugin-quadratic.c
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spex.h"

#define QUAD_MAX_N 4096 /* features a model file may have */

typedef struct quad_pair {
    int i, j;
    double w;
} quad_pair;

typedef struct quad_state {
    int n;
    size_t mask_bytes;
    double *mean, *scale, *linear, *x, *baseline; /* n each */
    double intercept;
    quad_pair *pairs;
    size_t npairs, cap;
    double *u; /* n: scratch for one mask */
} quad_state;

static void quad_free(quad_state *s)
{
    if (s == NULL)
        return;
    free(s->mean);
    free(s->scale);
    free(s->linear);
    free(s->x);
    free(s->baseline);
    free(s->pairs);
    free(s->u);
    free(s);
}

/* Reads the n numbers after a keyword into v.  Returns 0 or -1. */
static int read_vector(const char *text, int n, double *v)
{
    const char *p = text;
    for (int i = 0; i < n; i++) {
        char *end;
        errno = 0;
        v[i] = strtod(p, &end);
        if (end == p || errno != 0)
            return -1;
        p = end;
    }
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    return *p == '\0' ? 0 : -1;
}

/* Parses the model file.  Returns 0, or an error code with errbuf filled. */
static int quad_load(quad_state *s, const char *path, int n, char *errbuf, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(errbuf, errlen, "model=%s: cannot open: %s", path, strerror(errno));
        return SPEX_EINPUT;
    }
    char line[1 << 16];
    int lineno = 0, rc = 0, have = 0; /* bits: mean scale linear x baseline intercept n */
    while (rc == 0 && fgets(line, sizeof line, f) != NULL) {
        lineno++;
        char key[32];
        int used = 0;
        if (line[0] == '#' || sscanf(line, "%31s%n", key, &used) != 1)
            continue;
        const char *rest = line + used;
        double *vec = NULL;
        int bit = 0;
        if (strcmp(key, "n") == 0) {
            int fn = 0;
            if (sscanf(rest, "%d", &fn) != 1 || fn < 1) {
                snprintf(errbuf, errlen, "model=%s, line %d: 'n' needs a positive number",
                         path, lineno);
                rc = SPEX_EINPUT;
            } else if (fn != n) {
                snprintf(errbuf, errlen, "model=%s, line %d: the model has %d features, "
                         "features.n = %d", path, lineno, fn, n);
                rc = SPEX_EUSAGE;
            }
            have |= 64;
            continue;
        } else if (strcmp(key, "names") == 0) {
            continue;
        } else if (strcmp(key, "mean") == 0) {
            vec = s->mean, bit = 1;
        } else if (strcmp(key, "scale") == 0) {
            vec = s->scale, bit = 2;
        } else if (strcmp(key, "linear") == 0) {
            vec = s->linear, bit = 4;
        } else if (strcmp(key, "x") == 0) {
            vec = s->x, bit = 8;
        } else if (strcmp(key, "baseline") == 0) {
            vec = s->baseline, bit = 16;
        } else if (strcmp(key, "intercept") == 0) {
            if (read_vector(rest, 1, &s->intercept) != 0)
                rc = SPEX_EINPUT;
            have |= 32;
        } else if (strcmp(key, "pair") == 0) {
            quad_pair p;
            char tail;
            if (sscanf(rest, "%d %d %lf %c", &p.i, &p.j, &p.w, &tail) != 3 || p.i < 0 ||
                p.j < p.i || p.j >= n) {
                snprintf(errbuf, errlen, "model=%s, line %d: expected 'pair I J W' with "
                         "0 <= I <= J < %d", path, lineno, n);
                rc = SPEX_EINPUT;
                continue;
            }
            if (s->npairs == s->cap) {
                size_t cap = s->cap ? 2 * s->cap : 64;
                quad_pair *np = realloc(s->pairs, cap * sizeof *np);
                if (np == NULL) {
                    snprintf(errbuf, errlen, "out of memory");
                    rc = SPEX_EORACLE;
                    continue;
                }
                s->pairs = np, s->cap = cap;
            }
            s->pairs[s->npairs++] = p;
        } else {
            snprintf(errbuf, errlen, "model=%s, line %d: unknown keyword '%s'", path, lineno,
                     key);
            rc = SPEX_EINPUT;
        }
        if (rc == 0 && vec != NULL) {
            if (read_vector(rest, n, vec) != 0)
                rc = SPEX_EINPUT;
            have |= bit;
        }
        if (rc == SPEX_EINPUT && errbuf[0] == '\0')
            snprintf(errbuf, errlen, "model=%s, line %d: '%s' needs %d numbers", path, lineno,
                     key, strcmp(key, "intercept") == 0 ? 1 : n);
    }
    fclose(f);
    if (rc == 0 && have != 127) {
        snprintf(errbuf, errlen, "model=%s: incomplete (needs n, mean, scale, linear, x, "
                 "baseline and intercept lines)", path);
        rc = SPEX_EINPUT;
    }
    for (int i = 0; rc == 0 && i < n; i++)
        if (!(s->scale[i] > 0)) {
            snprintf(errbuf, errlen, "model=%s: scale of feature %d is not positive", path, i);
            rc = SPEX_EINPUT;
        }
    return rc;
}

static int quad_init(void **state, const spex_plugin_context *ctx, char *errbuf, size_t errlen)
{
    const char *a = strstr(ctx->args, "model=");
    if (a == NULL || (a != ctx->args && a[-1] != ' ')) {
        snprintf(errbuf, errlen, "oracle.plugin_args needs model=FILE (got '%s')", ctx->args);
        return SPEX_EUSAGE;
    }
    char path[4096];
    size_t len = strcspn(a + 6, " ");
    if (len == 0 || len >= sizeof path) {
        snprintf(errbuf, errlen, "oracle.plugin_args: model= needs a file name");
        return SPEX_EUSAGE;
    }
    memcpy(path, a + 6, len);
    path[len] = '\0';
    if (ctx->n > QUAD_MAX_N) {
        snprintf(errbuf, errlen, "features.n = %d is more than %d", ctx->n, QUAD_MAX_N);
        return SPEX_EUSAGE;
    }
    quad_state *s = calloc(1, sizeof *s);
    size_t n = (size_t)ctx->n;
    if (s != NULL) {
        s->mean = calloc(n, sizeof *s->mean);
        s->scale = calloc(n, sizeof *s->scale);
        s->linear = calloc(n, sizeof *s->linear);
        s->x = calloc(n, sizeof *s->x);
        s->baseline = calloc(n, sizeof *s->baseline);
        s->u = calloc(n, sizeof *s->u);
    }
    if (s == NULL || !s->mean || !s->scale || !s->linear || !s->x || !s->baseline || !s->u) {
        quad_free(s);
        snprintf(errbuf, errlen, "out of memory");
        return SPEX_EORACLE;
    }
    s->n = ctx->n;
    s->mask_bytes = ctx->mask_bytes;
    errbuf[0] = '\0';
    int rc = quad_load(s, path, ctx->n, errbuf, errlen);
    if (rc != 0) {
        quad_free(s);
        return rc;
    }
    *state = s;
    return 0;
}

static int quad_eval(void *state, size_t count, const uint8_t *masks, uint64_t first_id,
                     double *values, char *errbuf, size_t errlen)
{
    quad_state *s = state;
    for (size_t k = 0; k < count; k++) {
        const uint8_t *m = masks + k * s->mask_bytes;
        for (int i = 0; i < s->n; i++) {
            double z = (m[i / 8] >> (i % 8)) & 1 ? s->x[i] : s->baseline[i];
            s->u[i] = (z - s->mean[i]) / s->scale[i];
        }
        double y = s->intercept;
        for (int i = 0; i < s->n; i++)
            y += s->linear[i] * s->u[i];
        for (size_t p = 0; p < s->npairs; p++)
            y += s->pairs[p].w * s->u[s->pairs[p].i] * s->u[s->pairs[p].j];
        values[k] = y;
    }
    return 0;
}

static void quad_destroy(void *state) { quad_free(state); }

SPEX_PLUGIN_EXPORT const spex_plugin spex_plugin_v1 = {
    SPEX_PLUGIN_ABI, "quadratic", quad_init, quad_eval, quad_destroy,
};
