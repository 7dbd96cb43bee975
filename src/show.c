/* show.c -- `spex show`: a result file as a summary and a ranked table.
 *
 * Reads the file with spex_h5_read_result (so a damaged file is reported
 * the same way everywhere) and prints the run's metadata, then one row per
 * Fourier term in the file's order (already ranked by |coef|): rank, order,
 * the features (names joined with " x " when the file has them, indices
 * otherwise, "(constant)" for the empty set) and the coefficient.  Columns
 * are sized to the rows shown, so the table stays aligned for any names.
 */
#include "spex/show.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spex/h5io.h"
#include "spex/result.h"

/* The features of t as text, in new memory. */
static char *show_features(const spex_result *r, const spex_term *t)
{
    if (t->order == 0) {
        char *s = malloc(sizeof "(constant)");
        if (s != NULL)
            memcpy(s, "(constant)", sizeof "(constant)");
        return s;
    }
    size_t len = 1;
    char index[16];
    for (int j = 0; j < t->order; j++) {
        len += j > 0 ? 3 : 0;
        if (r->names != NULL)
            len += strlen(r->names[t->feat[j]]);
        else
            len += (size_t)snprintf(index, sizeof index, "%d", (int)t->feat[j]);
    }
    char *s = malloc(len);
    if (s == NULL)
        return NULL;
    size_t at = 0;
    for (int j = 0; j < t->order; j++) {
        if (r->names != NULL)
            at += (size_t)snprintf(s + at, len - at, "%s%s", j > 0 ? " x " : "",
                                   r->names[t->feat[j]]);
        else
            at += (size_t)snprintf(s + at, len - at, "%s%d", j > 0 ? " x " : "",
                                   (int)t->feat[j]);
    }
    return s;
}

static int digits(size_t v)
{
    int d = 1;
    while (v >= 10) {
        v /= 10;
        d++;
    }
    return d;
}

static void show_summary(const char *path, const spex_result *r, FILE *out)
{
    fprintf(out, "result        %s\n", path);
    fprintf(out, "method        %s\n", r->method);
    fprintf(out, "features      %d%s\n", r->n_features, r->names != NULL ? " (named)" : "");
    fprintf(out, "max order     %d\n", r->max_order);
    fprintf(out, "queries       %llu\n", (unsigned long long)r->queries);
    fprintf(out, "terms         %zu\n", r->fourier.count);
    if (!isnan(r->faithfulness_r2))
        fprintf(out, "faithfulness  R^2 = %.6f\n", r->faithfulness_r2);
    fprintf(out, "created       %s (%d rank%s, %.3g s)\n", r->created, r->ranks,
            r->ranks == 1 ? "" : "s", r->wall_seconds);
}

spex_status spex_show(const char *path, int top, FILE *out, spex_error *err)
{
    spex_status st = SPEX_OK;
    spex_result r;
    char **cells = NULL;
    size_t shown = 0;

    SPEX_CHECK(spex_h5_read_result(path, &r, err));
    shown = r.fourier.count;
    if (top > 0 && (size_t)top < shown)
        shown = (size_t)top;
    cells = calloc(shown > 0 ? shown : 1, sizeof *cells);
    SPEX_ALLOC_CHECK(cells, err, "the table");

    int w_rank = (int)strlen("rank"), w_order = (int)strlen("order");
    int w_feat = (int)strlen("features");
    if (digits(shown) > w_rank)
        w_rank = digits(shown);
    for (size_t i = 0; i < shown; i++) {
        cells[i] = show_features(&r, &r.fourier.terms[i]);
        SPEX_ALLOC_CHECK(cells[i], err, "the table");
        int len = (int)strlen(cells[i]);
        w_feat = len > w_feat ? len : w_feat;
    }

    show_summary(path, &r, out);
    fprintf(out, "\n%*s  %*s  %-*s  %s\n", w_rank, "rank", w_order, "order", w_feat, "features",
            "coefficient");
    for (size_t i = 0; i < shown; i++) {
        const spex_term *t = &r.fourier.terms[i];
        fprintf(out, "%*zu  %*d  %-*s  %+.6g\n", w_rank, i + 1, w_order, (int)t->order, w_feat,
                cells[i], t->coef);
    }
    if (r.fourier.count == 0)
        fprintf(out, "(no terms)\n");
    else if (shown < r.fourier.count)
        fprintf(out, "(showing %zu of %zu terms)\n", shown, r.fourier.count);
    if (fflush(out) != 0 || ferror(out))
        st = spex_error_set(err, SPEX_EIO, "cannot write the table of '%s': %s", path,
                            strerror(errno));
out:
    if (cells != NULL)
        for (size_t i = 0; i < shown; i++)
            free(cells[i]);
    free(cells);
    spex_result_free(&r);
    return st;
}
