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

#include "spex/convert.h"
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
    const spex_proxy_diag *p = &r->proxy;
    if (!p->present)
        return;
    fprintf(out, "proxy         %llu training + %llu held-out samples, depth %d, learning rate "
                 "%g, %d thread%s\n",
            (unsigned long long)p->train_samples, (unsigned long long)p->holdout_samples,
            p->depth, p->learning_rate, p->threads, p->threads == 1 ? "" : "s");
    fprintf(out, "              %d trees of %d rounds%s%s; held-out RMSE %.4g, R^2 %.4f; "
                 "trained in %.3g s (hold-out %.3g s)\n",
            p->trees, p->rounds, p->retrained ? ", retrained on all samples" : "",
            p->stages > 1 ? ", all stages" : "",
            p->holdout_rmse, p->holdout_r2, p->train_seconds, p->holdout_seconds);
    fprintf(out, "              %llu terms extracted, %llu kept\n",
            (unsigned long long)p->terms_extracted, (unsigned long long)p->terms_kept);
}

/* Loads the output named by index into list (ranked): a spectrum group, or
 * a per-feature value vector as order-1 terms. */
static spex_status load_output(const char *path, const spex_result *r, const char *index,
                               spex_spectrum *list, const char **title, spex_error *err)
{
    spex_status st = SPEX_OK;
    char group[64];
    double *v = NULL;
    spex_spectrum_init(list);
    if (index == NULL || strcmp(index, "fourier") == 0) {
        *title = "Fourier coefficients";
        for (size_t i = 0; i < r->fourier.count && st == SPEX_OK; i++)
            st = spex_spectrum_push(list, &r->fourier.terms[i], err);
        return st;
    }
    if (strcmp(index, "shapley") == 0 || strcmp(index, "banzhaf-values") == 0) {
        int shap = index[0] == 's';
        *title = shap ? "Shapley values" : "Banzhaf values";
        v = malloc((size_t)(r->n_features > 0 ? r->n_features : 1) * sizeof *v);
        SPEX_ALLOC_CHECK(v, err, "values");
        SPEX_CHECK(spex_h5_read_vector(path, shap ? "/values/shapley" : "/values/banzhaf",
                                       r->n_features, v, err));
        for (int i = 0; i < r->n_features; i++) {
            if (v[i] == 0.0)
                continue;
            spex_term t;
            memset(&t, 0, sizeof t);
            t.order = 1;
            t.feat[0] = i;
            t.coef = v[i];
            SPEX_CHECK(spex_spectrum_push(list, &t, err));
        }
        spex_spectrum_sort_ranked(list);
        goto out;
    }
    if (strcmp(index, "mobius") == 0) {
        *title = "Mobius (Harsanyi) coefficients";
        snprintf(group, sizeof group, "/mobius");
    } else {
        spex_index_kind k;
        if (spex_convert_index_parse(index, &k, err) != SPEX_OK) {
            st = spex_error_set(err, SPEX_EUSAGE, "--index '%s': use fourier, mobius, shapley, "
                                "banzhaf-values, sii, stii, fsii, banzhaf or fbii", index);
            goto out;
        }
        *title = spex_convert_index_describe(k);
        snprintf(group, sizeof group, "/indices/%s", spex_convert_index_name(k));
    }
    SPEX_CHECK(spex_h5_read_spectrum(path, group, list, err));
    /* The reader does not know n: check the indices before names are
     * looked up with them. */
    for (size_t i = 0; i < list->count; i++) {
        const spex_term *t = &list->terms[i];
        for (int j = 0; j < t->order; j++)
            if (t->feat[j] < 0 || t->feat[j] >= r->n_features || (j > 0 && t->feat[j] <= t->feat[j - 1])) {
                st = spex_error_set(err, SPEX_EINPUT,
                                    "%s: %s row %zu: features are not ascending indices below "
                                    "n_features %d",
                                    path, group, i, r->n_features);
                goto out;
            }
    }
out:
    if (st != SPEX_OK)
        spex_spectrum_free(list);
    free(v);
    return st;
}

spex_status spex_show(const char *path, int top, const char *index, FILE *out, spex_error *err)
{
    spex_status st = SPEX_OK;
    spex_result r;
    spex_spectrum list;
    const char *title = "";
    char **cells = NULL;
    size_t shown = 0;

    spex_spectrum_init(&list);
    spex_result_init(&r);
    SPEX_CHECK(spex_h5_read_result(path, &r, err));
    SPEX_CHECK(load_output(path, &r, index, &list, &title, err));
    shown = list.count;
    if (top > 0 && (size_t)top < shown)
        shown = (size_t)top;
    cells = calloc(shown > 0 ? shown : 1, sizeof *cells);
    SPEX_ALLOC_CHECK(cells, err, "the table");

    int w_rank = (int)strlen("rank"), w_order = (int)strlen("order");
    int w_feat = (int)strlen("features");
    if (digits(shown) > w_rank)
        w_rank = digits(shown);
    for (size_t i = 0; i < shown; i++) {
        cells[i] = show_features(&r, &list.terms[i]);
        SPEX_ALLOC_CHECK(cells[i], err, "the table");
        int len = (int)strlen(cells[i]);
        w_feat = len > w_feat ? len : w_feat;
    }

    show_summary(path, &r, out);
    fprintf(out, "\n%s:\n%*s  %*s  %-*s  %s\n", title, w_rank, "rank", w_order, "order", w_feat,
            "features", "value");
    for (size_t i = 0; i < shown; i++) {
        const spex_term *t = &list.terms[i];
        fprintf(out, "%*zu  %*d  %-*s  %+.6g\n", w_rank, i + 1, w_order, (int)t->order, w_feat,
                cells[i], t->coef);
    }
    if (list.count == 0)
        fprintf(out, "(no terms)\n");
    else if (shown < list.count)
        fprintf(out, "(showing %zu of %zu terms)\n", shown, list.count);
    if (fflush(out) != 0 || ferror(out))
        st = spex_error_set(err, SPEX_EIO, "cannot write the table of '%s': %s", path,
                            strerror(errno));
out:
    if (cells != NULL)
        for (size_t i = 0; i < shown; i++)
            free(cells[i]);
    free(cells);
    spex_spectrum_free(&list);
    spex_result_free(&r);
    return st;
}
