/* result.c -- the in-memory result of a run, and the feature-names file.
 *
 * A spex_result is plain data: the ranked Fourier spectrum plus the
 * metadata and diagnostics that h5io.c writes to the result file (DESIGN.md
 * section 7, doc/file-formats.md).  This file only initializes and frees it,
 * names the pipeline stages, and reads the names file of [features] names:
 * one name per line, exactly features.n lines, so that line i + 1 names
 * feature i; and the positions file of [features] positions (NAME
 * CHROMOSOME POSITION lines, in the same order).
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* getline */
#endif

#include "spex/result.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest name a names file may hold, in bytes (not counting the NUL). */
#define NAME_MAX_BYTES 63

static const char *const STAGE_NAMES[SPEX_STAGE_COUNT] = {
    [SPEX_STAGE_DESIGN] = "design",       [SPEX_STAGE_EVALUATE] = "evaluate",
    [SPEX_STAGE_TRANSFORM] = "transform", [SPEX_STAGE_DECODE] = "decode",
    [SPEX_STAGE_REFINE] = "refine",       [SPEX_STAGE_ASSESS] = "assess",
    [SPEX_STAGE_WRITE] = "write",
};

const char *spex_stage_name(int stage)
{
    if (stage < 0 || stage >= SPEX_STAGE_COUNT)
        return "unknown";
    return STAGE_NAMES[stage];
}

void spex_result_init(spex_result *r)
{
    memset(r, 0, sizeof *r);
    r->faithfulness_r2 = NAN;
    r->r2_peeled = NAN;
    r->config = NULL;
    r->names = NULL;
    r->chromosomes = NULL;
    r->positions = NULL;
    spex_spectrum_init(&r->fourier);
    spex_spectrum_init(&r->mobius);
    for (int i = 0; i < SPEX_INDEX_KIND_COUNT; i++)
        spex_spectrum_init(&r->index[i]);
}

void spex_result_free(spex_result *r)
{
    free(r->config);
    spex_spectrum_free(&r->fourier);
    spex_names_free(r->names, r->n_features);
    spex_names_free(r->chromosomes, r->n_features);
    free(r->positions);
    free(r->peak_rss_kib);
    spex_spectrum_free(&r->mobius);
    free(r->shapley);
    free(r->banzhaf);
    for (int i = 0; i < SPEX_INDEX_KIND_COUNT; i++)
        spex_spectrum_free(&r->index[i]);
    spex_result_init(r);
}

void spex_names_free(char **names, int n)
{
    if (names == NULL)
        return;
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* A name and the line it came from, for finding repeats by sorting. */
typedef struct name_line {
    const char *name;
    long line;
} name_line;

static int name_line_cmp(const void *pa, const void *pb)
{
    const name_line *a = pa, *b = pb;
    int c = strcmp(a->name, b->name);
    if (c != 0)
        return c;
    return (a->line > b->line) - (a->line < b->line);
}

/* Reports the repeated name whose second occurrence comes first in the
 * file, so that the message points at the line a reader reaches first.
 * Sorting keeps this O(n log n) for the 2^24 features a study may have. */
static spex_status names_check_repeats(const char *path, char **names, int n, spex_error *err)
{
    spex_status st = SPEX_OK;
    name_line *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    SPEX_ALLOC_CHECK(v, err, "the names index");
    for (int i = 0; i < n; i++) {
        v[i].name = names[i];
        v[i].line = (long)i + 1;
    }
    qsort(v, (size_t)n, sizeof *v, name_line_cmp);
    /* In sorted order each run of equal names lists its lines ascending:
     * the run's first entry is the original, its second the first repeat. */
    long first = 0, later = 0;
    int run = 0;
    for (int i = 1; i < n; i++) {
        if (strcmp(v[run].name, v[i].name) != 0) {
            run = i;
            continue;
        }
        if (i == run + 1 && (later == 0 || v[i].line < later)) {
            first = v[run].line;
            later = v[i].line;
        }
    }
    if (later != 0)
        st = spex_error_set(err, SPEX_EINPUT, "%s:%ld: name '%s' repeats line %ld", path, later,
                            names[later - 1], first);
out:
    free(v);
    return st;
}

/* Spaces and tabs around a name are layout, not part of it. */
static char *trim(char *s, size_t *len)
{
    size_t a = 0, b = *len;
    while (a < b && (s[a] == ' ' || s[a] == '\t'))
        a++;
    while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
        b--;
    s[b] = '\0';
    *len = b - a;
    return s + a;
}

/* Reads the next line of f (path, for messages) into *line, without its
 * line end (LF or CRLF) and trimmed of spaces and tabs: *text, *len.
 * *more = false at the end of the file.  A NUL byte or a read error is an
 * error naming the file (and line). */
static spex_status next_line(FILE *f, const char *path, char **line, size_t *cap, long *lineno,
                             char **text, size_t *len, bool *more, spex_error *err)
{
    ssize_t got = getline(line, cap, f);
    *more = got != -1;
    if (!*more) {
        if (ferror(f))
            return spex_error_set(err, SPEX_EIO, "cannot read '%s': %s", path, strerror(errno));
        return SPEX_OK;
    }
    (*lineno)++;
    char *s = *line;
    size_t n = (size_t)got;
    if (n > 0 && s[n - 1] == '\n')
        s[--n] = '\0';
    if (n > 0 && s[n - 1] == '\r')
        s[--n] = '\0';
    if (strlen(s) != n)
        return spex_error_set(err, SPEX_EINPUT, "%s:%ld: contains a NUL byte", path, *lineno);
    *text = trim(s, &n);
    *len = n;
    return SPEX_OK;
}

spex_status spex_names_read(const char *path, int n, char ***names, spex_error *err)
{
    spex_status st = SPEX_OK;
    char **v = NULL;
    char *line = NULL;
    size_t cap = 0;
    long count = 0, lineno = 0, pending_empty = 0;
    *names = NULL;

    if (n < 0)
        return spex_error_set(err, SPEX_EINTERNAL, "spex_names_read: n = %d", n);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return spex_error_set(err, SPEX_EIO, "cannot open '%s': %s", path, strerror(errno));
    v = calloc((size_t)n + 1, sizeof *v);
    SPEX_ALLOC_CHECK(v, err, "the feature names");

    char *name;
    size_t len;
    bool more;
    while ((st = next_line(f, path, &line, &cap, &lineno, &name, &len, &more, err)) == SPEX_OK &&
           more) {
        /* Empty lines at the end are an editor's habit; anywhere else they
         * would shift every later name onto the wrong feature. */
        if (len == 0) {
            if (pending_empty == 0)
                pending_empty = lineno;
            continue;
        }
        if (pending_empty != 0) {
            st = spex_error_set(err, SPEX_EINPUT, "%s:%ld: empty line (one name per line)",
                                path, pending_empty);
            goto out;
        }
        if (len > NAME_MAX_BYTES) {
            st = spex_error_set(err, SPEX_EINPUT,
                                "%s:%ld: name is %zu bytes long, at most %d are allowed", path,
                                lineno, len, NAME_MAX_BYTES);
            goto out;
        }
        if (count < n) {
            v[count] = malloc(len + 1);
            SPEX_ALLOC_CHECK(v[count], err, "a feature name");
            memcpy(v[count], name, len + 1);
        }
        count++;
    }
    if (st != SPEX_OK)
        goto out;
    if (count != n) {
        st = spex_error_set(err, SPEX_EINPUT, "%s: has %ld name%s, features.n is %d", path, count,
                            count == 1 ? "" : "s", n);
        goto out;
    }
    SPEX_CHECK(names_check_repeats(path, v, n, err));
    *names = v;
    v = NULL;
out:
    spex_names_free(v, n);
    free(line);
    fclose(f);
    return st;
}

/* Splits s at spaces and tabs into at most max fields; returns how many
 * there were (max + 1 when there were more). */
static int split_fields(char *s, char **field, int max)
{
    int k = 0;
    char *save = NULL;
    for (char *tok = strtok_r(s, " \t", &save); tok != NULL; tok = strtok_r(NULL, " \t", &save)) {
        if (k == max)
            return max + 1;
        field[k++] = tok;
    }
    return k;
}

static char *dup_field(const char *s)
{
    size_t len = strlen(s) + 1;
    char *d = malloc(len);
    if (d != NULL)
        memcpy(d, s, len);
    return d;
}

spex_status spex_positions_read(const char *path, int n, char *const *names, char ***names_out,
                                char ***chromosomes, int64_t **positions, spex_error *err)
{
    spex_status st = SPEX_OK;
    char **nm = NULL, **chr = NULL;
    int64_t *pos = NULL;
    char *line = NULL;
    size_t cap = 0;
    long count = 0, lineno = 0;
    *chromosomes = NULL;
    *positions = NULL;
    if (names_out != NULL)
        *names_out = NULL;

    if (n < 0)
        return spex_error_set(err, SPEX_EINTERNAL, "spex_positions_read: n = %d", n);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return spex_error_set(err, SPEX_EIO, "cannot open '%s': %s", path, strerror(errno));
    chr = calloc((size_t)n + 1, sizeof *chr);
    pos = calloc((size_t)n + 1, sizeof *pos);
    SPEX_ALLOC_CHECK(chr, err, "the feature chromosomes");
    SPEX_ALLOC_CHECK(pos, err, "the feature positions");
    if (names == NULL && names_out != NULL) {
        nm = calloc((size_t)n + 1, sizeof *nm);
        SPEX_ALLOC_CHECK(nm, err, "the feature names");
    }

    char *text;
    size_t len;
    bool more;
    while ((st = next_line(f, path, &line, &cap, &lineno, &text, &len, &more, err)) == SPEX_OK &&
           more) {
        if (len == 0 || text[0] == '#')
            continue;
        char *field[3];
        if (split_fields(text, field, 3) != 3) {
            st = spex_error_set(err, SPEX_EINPUT,
                                "%s:%ld: expected three fields, NAME CHROMOSOME POSITION", path,
                                lineno);
            goto out;
        }
        if (strlen(field[0]) > NAME_MAX_BYTES || strlen(field[1]) > NAME_MAX_BYTES) {
            st = spex_error_set(err, SPEX_EINPUT, "%s:%ld: a name or chromosome is longer "
                                "than %d bytes", path, lineno, NAME_MAX_BYTES);
            goto out;
        }
        char *end;
        errno = 0;
        long long p = strtoll(field[2], &end, 10);
        if (*end != '\0' || errno != 0 || p < 0 || p > (1LL << 62)) {
            st = spex_error_set(err, SPEX_EINPUT,
                                "%s:%ld: position '%s' is not an integer in 0..2^62", path,
                                lineno, field[2]);
            goto out;
        }
        if (count < n) {
            if (names != NULL && strcmp(names[count], field[0]) != 0) {
                st = spex_error_set(err, SPEX_EINPUT,
                                    "%s:%ld: name '%s', but the names file calls feature %ld '%s'",
                                    path, lineno, field[0], count, names[count]);
                goto out;
            }
            chr[count] = dup_field(field[1]);
            SPEX_ALLOC_CHECK(chr[count], err, "a chromosome");
            pos[count] = (int64_t)p;
            if (nm != NULL) {
                nm[count] = dup_field(field[0]);
                SPEX_ALLOC_CHECK(nm[count], err, "a feature name");
            }
        }
        count++;
    }
    if (st != SPEX_OK)
        goto out;
    if (count != n) {
        st = spex_error_set(err, SPEX_EINPUT, "%s: has %ld position%s, features.n is %d", path,
                            count, count == 1 ? "" : "s", n);
        goto out;
    }
    if (nm != NULL)
        SPEX_CHECK(names_check_repeats(path, nm, n, err));
    *chromosomes = chr;
    *positions = pos;
    chr = NULL;
    pos = NULL;
    if (nm != NULL) {
        *names_out = nm;
        nm = NULL;
    }
out:
    spex_names_free(nm, n);
    spex_names_free(chr, n);
    free(pos);
    free(line);
    fclose(f);
    return st;
}
