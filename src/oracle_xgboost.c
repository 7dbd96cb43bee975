/* oracle_xgboost.c -- value functions backed by XGBoost models
 * (DESIGN.md section 5; the user's view is doc/oracles-xgboost.md).
 *
 * Three kinds share one data reader, one model reader and one definition of
 * a value (the prediction, as margin or probability, or its loss against a
 * label; value_of below):
 *
 *   xgboost        feature attribution.  x = the explained row of
 *                  oracle.data.  A mask keeps feature i (bit 1: x_i) or
 *                  gives it the baseline's value (bit 0).  With baseline =
 *                  interventional the value is the mean over background rows
 *                  b of the value of the hybrid row (x on kept, b on masked).
 *   xgboost-train  data attribution.  Feature i is training row i; a query
 *                  trains a booster on the kept rows (nthread 1, exact tree
 *                  method: deterministic) and returns its value on one test
 *                  row.  No kept row: the untrained model's (base_score's)
 *                  value.
 *   xgboost-trees  component attribution.  Feature j is a group of
 *                  oracle.tree_group boosting rounds; a query sums only the
 *                  kept trees (plus the base margin) and returns the mean
 *                  value over the validation rows.
 *
 * Speed.  For xgboost, expanding masks into float rows and calling XGBoost
 * costs more than the trees themselves.  The native engine walks the trees
 * (flattened from the model's JSON) directly on the bit mask: at a split on
 * feature f it reads x_f or b_f by the mask's bit f.  It mirrors XGBoost's
 * arithmetic (float inputs, "v < cond" goes left, a missing value follows
 * default_left, leaves summed in float in tree order onto the base margin),
 * and at creation its values on the empty and full masks and on 62
 * pseudo-random ones are compared with XGBoost's own; engine = auto falls
 * back to XGBoost on any disagreement and on models it cannot walk
 * (categorical splits, dart, gblinear, a transform it does not know).  For
 * xgboost-trees each tree's leaf value on each validation row is cached once
 * (XGBoost's pred_leaf, leaf values from the JSON model) and checked to
 * reproduce XGBoost's margin with all trees; a query then costs
 * O(validation rows x kept trees).
 *
 * Every rank reads the files and loads the model itself (they are small next
 * to the design; no communication).  XGBoost runs with nthread = 1, as the
 * ranks are the parallelism.  Errors in the study are SPEX_EUSAGE, in the
 * files SPEX_EINPUT; both name the key and the file.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cJSON.h>
#include <hdf5.h>
#include <xgboost/c_api.h>

#include "spex/h5util.h"
#include "spex/mask.h"
#include "spex/oracle.h"

/* Masks checked native against XGBoost at creation. */
#define CHECK_MASKS 64
/* Largest float buffer of expanded rows for the xgboost engine (16 MB). */
#define ROWS_FLOATS_MAX ((size_t)1 << 22)
/* Probabilities are clipped to [EPS, 1 - EPS] in logloss. */
#define LOGLOSS_EPS 1e-15

/* ---- messages ---------------------------------------------------------- */

/* XGBoost's last error, first line, without its "[hh:mm:ss] file:line: "
 * prefix (the stack trace after it is no use to a user). */
static const char *xgb_message(char *buf, size_t size)
{
    const char *m = XGBGetLastError();
    if (m == NULL)
        m = "(no message)";
    if (m[0] == '[') {
        const char *close = strchr(m, ']');
        if (close != NULL) {
            m = close + 1;
            while (*m == ' ')
                m++;
            /* "./src/learner.cc:792: " */
            const char *colon = strstr(m, ": ");
            const char *nl = strchr(m, '\n');
            if (colon != NULL && (nl == NULL || colon < nl) && strchr(m, ' ') > colon)
                m = colon + 2;
        }
    }
    size_t len = strcspn(m, "\n");
    if (len >= size)
        len = size - 1;
    memcpy(buf, m, len);
    buf[len] = '\0';
    while (len > 0 && isspace((unsigned char)buf[len - 1]))
        buf[--len] = '\0';
    return buf;
}

/* ---- data files ---------------------------------------------------------- */

/* Rows of feature values (label column removed) and optional labels. */
typedef struct xgb_table {
    size_t rows;
    int cols;
    double *x;    /* rows x cols, row-major; NaN = missing */
    double *y;    /* rows labels, or NULL when no label was asked for */
    char **names; /* cols column names (CSV header), or NULL (HDF5) */
} xgb_table;

static void table_free(xgb_table *t)
{
    free(t->x);
    free(t->y);
    if (t->names != NULL)
        for (int j = 0; j < t->cols; j++)
            free(t->names[j]);
    free(t->names);
    memset(t, 0, sizeof *t);
}

/* Trims blanks (and a pair of double quotes) in place. */
static char *trim_field(char *s, bool unquote)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t len = strlen(s);
    while (len > 0 && isspace((unsigned char)s[len - 1]))
        s[--len] = '\0';
    if (unquote && len >= 2 && s[0] == '"' && s[len - 1] == '"') {
        s[len - 1] = '\0';
        s++;
    }
    return s;
}

/* Splits line at commas into fields (pointers into line); returns the count,
 * or -1 when there are more than max. */
static int split_commas(char *line, char **fields, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == max)
            return -1;
        fields[n++] = p;
        char *c = strchr(p, ',');
        if (c == NULL)
            return n;
        *c = '\0';
        p = c + 1;
    }
}

static int count_commas(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == ',';
    return n;
}

/* A CSV value: a number, or missing (empty, NA, NaN, nan). */
static bool parse_value(const char *s, double *v)
{
    if (*s == '\0' || strcmp(s, "NA") == 0 || strcasecmp(s, "nan") == 0) {
        *v = NAN;
        return true;
    }
    char *end;
    *v = strtod(s, &end);
    return *end == '\0';
}

static spex_status csv_read(const char *path, const char *key, const char *label, xgb_table *t,
                            spex_error *err)
{
    spex_status st = SPEX_OK;
    char *line = NULL, **fields = NULL;
    size_t linecap = 0, cap = 0;
    long lineno = 1;
    int label_col = -1, nf = 0;
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return spex_error_set(err, SPEX_EINPUT, "%s = '%s': cannot read: %s", key, path,
                              strerror(errno));
    ssize_t len = getline(&line, &linecap, f);
    if (len <= 0) {
        st = spex_error_set(err, SPEX_EINPUT,
                            "%s = '%s' is empty (a CSV data file starts with a header line)", key,
                            path);
        goto out;
    }
    nf = count_commas(line) + 1;
    fields = malloc((size_t)nf * sizeof *fields);
    SPEX_ALLOC_CHECK(fields, err, "CSV fields");
    split_commas(line, fields, nf);
    for (int j = 0; j < nf; j++)
        fields[j] = trim_field(fields[j], true);
    t->cols = nf;
    if (label[0] != '\0') {
        for (int j = 0; j < nf; j++)
            if (strcmp(fields[j], label) == 0)
                label_col = j;
        if (label_col < 0) {
            st = spex_error_set(err, SPEX_EINPUT, "%s = '%s' has no column '%s' (oracle.label)",
                                key, path, label);
            goto out;
        }
        t->cols = nf - 1;
    }
    if (t->cols < 1) {
        st = spex_error_set(err, SPEX_EINPUT, "%s = '%s' has no feature columns", key, path);
        goto out;
    }
    t->names = calloc((size_t)t->cols, sizeof *t->names);
    SPEX_ALLOC_CHECK(t->names, err, "column names");
    for (int j = 0, c = 0; j < nf; j++) {
        if (j == label_col)
            continue;
        t->names[c] = strdup(fields[j]);
        SPEX_ALLOC_CHECK(t->names[c], err, "a column name");
        c++;
    }
    while ((len = getline(&line, &linecap, f)) >= 0) {
        lineno++;
        char *s = trim_field(line, false);
        if (*s == '\0')
            continue;
        int got = count_commas(s) + 1;
        if (got != nf) {
            st = spex_error_set(err, SPEX_EINPUT,
                                "%s = '%s', line %ld: %d fields, the header has %d", key, path,
                                lineno, got, nf);
            goto out;
        }
        if (t->rows == cap) {
            cap = cap ? 2 * cap : 256;
            double *x = realloc(t->x, cap * (size_t)t->cols * sizeof *x);
            SPEX_ALLOC_CHECK(x, err, "data rows");
            t->x = x;
            if (label_col >= 0) {
                double *y = realloc(t->y, cap * sizeof *y);
                SPEX_ALLOC_CHECK(y, err, "labels");
                t->y = y;
            }
        }
        split_commas(s, fields, nf);
        double *row = t->x + t->rows * (size_t)t->cols;
        for (int j = 0, c = 0; j < nf; j++) {
            double v;
            const char *txt = trim_field(fields[j], false);
            if (!parse_value(txt, &v)) {
                st = spex_error_set(err, SPEX_EINPUT,
                                    "%s = '%s', line %ld, column %d: '%s' is not a number", key,
                                    path, lineno, j + 1, txt);
                goto out;
            }
            if (j == label_col) {
                if (isnan(v)) {
                    st = spex_error_set(err, SPEX_EINPUT,
                                        "%s = '%s', line %ld: the label '%s' is missing", key, path,
                                        lineno, label);
                    goto out;
                }
                t->y[t->rows] = v;
            } else {
                row[c++] = v;
            }
        }
        t->rows++;
    }
    if (t->rows == 0)
        st = spex_error_set(err, SPEX_EINPUT, "%s = '%s' has a header but no data rows", key, path);
out:
    free(fields);
    free(line);
    fclose(f);
    return st;
}

/* Reads a dataset of rank `rank` as doubles into new memory. */
static spex_status h5_read_doubles(hid_t fid, const char *path, const char *key, const char *name,
                                   int rank, hsize_t *dims, double **out, spex_error *err)
{
    spex_status st = SPEX_OK;
    hid_t d = -1, sp = -1;
    *out = NULL;
    d = H5Lexists(fid, name, H5P_DEFAULT) > 0 ? H5Dopen2(fid, name, H5P_DEFAULT) : -1;
    if (d < 0) {
        st = spex_error_set(err, SPEX_EINPUT, "%s = '%s' has no dataset '%s'", key, path, name);
        goto out;
    }
    sp = H5Dget_space(d);
    if (sp < 0 || H5Sget_simple_extent_ndims(sp) != rank ||
        H5Sget_simple_extent_dims(sp, dims, NULL) < 0) {
        st = spex_error_set(err, SPEX_EINPUT, "%s = '%s': dataset '%s' is not %d-dimensional", key,
                            path, name, rank);
        goto out;
    }
    size_t count = 1;
    for (int i = 0; i < rank; i++)
        count *= (size_t)dims[i];
    *out = malloc((count ? count : 1) * sizeof **out);
    SPEX_ALLOC_CHECK(*out, err, "an HDF5 dataset");
    if (count > 0 && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out) < 0)
        st = spex_error_set(err, SPEX_EINPUT, "%s = '%s': dataset '%s' is not numeric", key, path,
                            name);
out:
    if (sp >= 0)
        H5Sclose(sp);
    if (d >= 0)
        H5Dclose(d);
    return st;
}

static spex_status h5_table_read(const char *path, const char *key, const char *dataset,
                                 const char *label, xgb_table *t, spex_error *err)
{
    spex_status st = SPEX_OK;
    hsize_t dims[2] = {0, 0}, ldim = 0;
    spex_h5_quiet quiet;
    spex_h5_quiet_begin(&quiet);
    hid_t fid = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (fid < 0) {
        st = spex_error_set(err, SPEX_EINPUT, "%s = '%s': cannot open as HDF5", key, path);
        goto out;
    }
    SPEX_CHECK(h5_read_doubles(fid, path, key, dataset, 2, dims, &t->x, err));
    if (dims[0] == 0 || dims[1] == 0 || dims[1] > INT32_MAX) {
        st = spex_error_set(err, SPEX_EINPUT, "%s = '%s': dataset '%s' is %llu x %llu", key, path,
                            dataset, (unsigned long long)dims[0], (unsigned long long)dims[1]);
        goto out;
    }
    t->rows = (size_t)dims[0];
    t->cols = (int)dims[1];
    if (label[0] != '\0') {
        SPEX_CHECK(h5_read_doubles(fid, path, key, label, 1, &ldim, &t->y, err));
        if (ldim != dims[0]) {
            st = spex_error_set(err, SPEX_EINPUT,
                                "%s = '%s': label dataset '%s' has %llu entries, '%s' has %llu "
                                "rows",
                                key, path, label, (unsigned long long)ldim, dataset,
                                (unsigned long long)dims[0]);
            goto out;
        }
        for (size_t r = 0; r < t->rows; r++)
            if (isnan(t->y[r])) {
                st = spex_error_set(err, SPEX_EINPUT, "%s = '%s': label %zu in '%s' is missing",
                                    key, path, r, label);
                goto out;
            }
    }
out:
    if (fid >= 0)
        H5Fclose(fid);
    spex_h5_quiet_end(&quiet);
    return st;
}

/* Collective: no.  Reads path (named by key in messages): HDF5 when the
 * file starts with HDF5's signature, CSV otherwise.  label "" = none. */
static spex_status table_read(const spex_config *cfg, const char *path, const char *key,
                              xgb_table *t, spex_error *err)
{
    static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    unsigned char head[8] = {0};
    memset(t, 0, sizeof *t);
    if (path[0] == '\0')
        return spex_error_set(err, SPEX_EUSAGE, "%s is empty: oracle.kind = %s needs a data file",
                              key, spex_config_enum_name("oracle.kind", (int)cfg->oracle_kind));
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return spex_error_set(err, SPEX_EINPUT, "%s = '%s': cannot read: %s", key, path,
                              strerror(errno));
    size_t got = fread(head, 1, sizeof head, f);
    fclose(f);
    spex_status st;
    if (got == sizeof head && memcmp(head, sig, sizeof sig) == 0)
        st = h5_table_read(path, key, cfg->dataset, cfg->label, t, err);
    else
        st = csv_read(path, key, cfg->label, t, err);
    if (st != SPEX_OK)
        table_free(t);
    return st;
}

/* ---- the model ------------------------------------------------------------ */

/* One tree node, packed so that a walk touches one cache line per level. */
typedef struct xgb_node {
    int32_t left, right; /* children in the same tree; left = -1: a leaf */
    int32_t feat;        /* split feature */
    float cond;          /* split threshold; the value of a leaf */
} xgb_node;

/* What XGBoost does to a margin to make its "value" prediction. */
typedef enum { XF_IDENTITY, XF_SIGMOID, XF_EXP, XF_SOFTMAX, XF_UNKNOWN } xgb_transform;

typedef struct xgb_model {
    BoosterHandle h;
    int num_feature;
    int groups;        /* margins per row: num_class, or 1 */
    int ntrees, per_round, rounds;
    char objective[64];
    char booster[16];
    xgb_transform transform;
    bool probability;  /* the objective's value is a probability (logloss) */
    bool walkable;     /* gbtree, numerical splits, valid trees */
    char why_not[96];  /* why not walkable */
    /* Flattened trees: node k of tree t is tree_start[t] + k.  A leaf has
     * left = -1 and its value in cond. */
    int32_t *tree_start; /* ntrees + 1 */
    int32_t *tree_group; /* ntrees: output group (class) of each tree */
    xgb_node *node;
    uint8_t *dleft;      /* a missing value goes left */
    int nnames;
    char **names;      /* feature names stored in the model, or NULL */
} xgb_model;

static void model_free(xgb_model *m)
{
    if (m->h != NULL)
        XGBoosterFree(m->h);
    free(m->tree_start);
    free(m->tree_group);
    free(m->node);
    free(m->dleft);
    for (int i = 0; i < m->nnames; i++)
        free(m->names[i]);
    free(m->names);
    memset(m, 0, sizeof *m);
}

static xgb_transform transform_of(const char *objective, bool *probability)
{
    static const char *const identity[] = {"reg:squarederror", "reg:squaredlogerror",
                                           "reg:pseudohubererror", "reg:absoluteerror",
                                           "reg:linear", "binary:logitraw", "rank:pairwise",
                                           "rank:ndcg", "rank:map", NULL};
    static const char *const expo[] = {"count:poisson", "reg:gamma", "reg:tweedie", "survival:cox",
                                       NULL};
    *probability = false;
    if (strcmp(objective, "binary:logistic") == 0 || strcmp(objective, "reg:logistic") == 0) {
        *probability = true;
        return XF_SIGMOID;
    }
    if (strcmp(objective, "multi:softprob") == 0) {
        *probability = true;
        return XF_SOFTMAX;
    }
    for (int i = 0; identity[i]; i++)
        if (strcmp(objective, identity[i]) == 0)
            return XF_IDENTITY;
    for (int i = 0; expo[i]; i++)
        if (strcmp(objective, expo[i]) == 0)
            return XF_EXP;
    return XF_UNKNOWN;
}

static const cJSON *jget(const cJSON *o, const char *name)
{
    return o ? cJSON_GetObjectItemCaseSensitive(o, name) : NULL;
}

/* A node's child or feature index as read: converting anything outside
 * int32's range (or NaN, or an infinity from "1e999") would be undefined. */
static bool fits_int32(double v)
{
    return v >= (double)INT32_MIN && v <= (double)INT32_MAX;
}

/* XGBoost writes model parameters as strings ("5E-1", "0"). */
static bool jnumber(const cJSON *o, double *v)
{
    if (cJSON_IsNumber(o)) {
        *v = o->valuedouble;
        return true;
    }
    if (cJSON_IsString(o)) {
        char *end;
        *v = strtod(o->valuestring, &end);
        return end != o->valuestring && *end == '\0';
    }
    return false;
}

/* Array of numbers of length n (or NULL when absent or of another length). */
static const cJSON *jarray(const cJSON *o, const char *name, int n)
{
    const cJSON *a = jget(o, name);
    return cJSON_IsArray(a) && cJSON_GetArraySize(a) == n ? a : NULL;
}

/* Every node reached exactly once from the root: no cycles, no sharing, no
 * index out of range, so a walk ends within num_nodes steps. */
static bool tree_is_valid(const xgb_node *node, int nodes, int32_t *stack, uint8_t *seen)
{
    int top = 0;
    memset(seen, 0, (size_t)nodes);
    stack[top++] = 0;
    while (top > 0) {
        int32_t k = stack[--top];
        if (k < 0 || k >= nodes || seen[k])
            return false;
        seen[k] = 1;
        if (node[k].left == -1)
            continue;
        if (top + 2 > nodes + 1)
            return false;
        stack[top++] = node[k].left;
        stack[top++] = node[k].right;
    }
    return true;
}

/* Reads the trees of a gbtree model's JSON into flat arrays. */
static spex_status model_flatten(xgb_model *m, const cJSON *model, const char *path,
                                 spex_error *err)
{
    spex_status st = SPEX_OK;
    const cJSON *trees = jget(model, "trees"), *info = jget(model, "tree_info");
    double npar = 1;
    int32_t *stack = NULL;
    uint8_t *seen = NULL;
    if (!cJSON_IsArray(trees) || !cJSON_IsArray(info) ||
        cJSON_GetArraySize(trees) != cJSON_GetArraySize(info) ||
        !jnumber(jget(jget(model, "gbtree_model_param"), "num_parallel_tree"), &npar) || npar < 1 ||
        npar * m->groups > 1 << 30)
        return spex_error_set(err, SPEX_EINPUT,
                              "oracle.model = '%s': the model's JSON has no readable trees", path);
    m->ntrees = cJSON_GetArraySize(trees);
    m->per_round = (int)npar * m->groups;
    m->rounds = m->ntrees / m->per_round;
    if (m->rounds * m->per_round != m->ntrees)
        return spex_error_set(err, SPEX_EINPUT,
                              "oracle.model = '%s': %d trees are not whole rounds of %d", path,
                              m->ntrees, m->per_round);
    size_t total = 0;
    int maxnodes = 1;
    for (int t = 0; t < m->ntrees; t++) {
        const cJSON *lc = jget(cJSON_GetArrayItem(trees, t), "left_children");
        int nn = cJSON_IsArray(lc) ? cJSON_GetArraySize(lc) : 0;
        if (nn < 1)
            return spex_error_set(err, SPEX_EINPUT, "oracle.model = '%s': tree %d has no nodes",
                                  path, t);
        total += (size_t)nn;
        if (nn > maxnodes)
            maxnodes = nn;
    }
    if (total > INT32_MAX)
        return spex_error_set(err, SPEX_EINPUT, "oracle.model = '%s': too many nodes (%zu)", path,
                              total);
    m->tree_start = malloc(((size_t)m->ntrees + 1) * sizeof *m->tree_start);
    m->tree_group = malloc(((size_t)m->ntrees + 1) * sizeof *m->tree_group);
    m->node = malloc((total + 1) * sizeof *m->node);
    m->dleft = malloc(total + 1);
    stack = malloc(((size_t)maxnodes + 2) * sizeof *stack);
    seen = malloc((size_t)maxnodes);
    if (!m->tree_start || !m->tree_group || !m->node || !m->dleft || !stack || !seen) {
        st = spex_error_set(err, SPEX_EINTERNAL, "out of memory reading %zu tree nodes", total);
        goto out;
    }
    m->walkable = true;
    size_t at = 0;
    for (int t = 0; t < m->ntrees; t++) {
        const cJSON *tr = cJSON_GetArrayItem(trees, t);
        int nn = cJSON_GetArraySize(jget(tr, "left_children"));
        const cJSON *lc = jarray(tr, "left_children", nn), *rc = jarray(tr, "right_children", nn),
                    *si = jarray(tr, "split_indices", nn), *sc = jarray(tr, "split_conditions", nn),
                    *dl = jarray(tr, "default_left", nn), *ty = jget(tr, "split_type");
        double g = -1;
        if (!lc || !rc || !si || !sc || !dl || !jnumber(cJSON_GetArrayItem(info, t), &g) ||
            g < 0 || g >= m->groups) {
            st = spex_error_set(err, SPEX_EINPUT, "oracle.model = '%s': tree %d is malformed",
                                path, t);
            goto out;
        }
        m->tree_start[t] = (int32_t)at;
        m->tree_group[t] = (int32_t)g;
        for (int k = 0; k < nn; k++) {
            double l, r, f, c, d, type = 0;
            if (!jnumber(cJSON_GetArrayItem(lc, k), &l) ||
                !jnumber(cJSON_GetArrayItem(rc, k), &r) ||
                !jnumber(cJSON_GetArrayItem(si, k), &f) ||
                !jnumber(cJSON_GetArrayItem(sc, k), &c) ||
                !jnumber(cJSON_GetArrayItem(dl, k), &d) || !fits_int32(l) ||
                !fits_int32(r) || !fits_int32(f)) {
                st = spex_error_set(err, SPEX_EINPUT,
                                    "oracle.model = '%s': node %d of tree %d is malformed", path, k,
                                    t);
                goto out;
            }
            if (cJSON_IsArray(ty) && cJSON_GetArraySize(ty) == nn)
                jnumber(cJSON_GetArrayItem(ty, k), &type);
            xgb_node *nd = &m->node[at + (size_t)k];
            nd->left = l < 0 ? -1 : (int32_t)l;
            nd->right = r < 0 ? -1 : (int32_t)r;
            nd->feat = (int32_t)f;
            nd->cond = (float)c;
            m->dleft[at + (size_t)k] = d != 0;
            if (l >= 0 && (type != 0 || f < 0 || f >= m->num_feature) && m->walkable) {
                m->walkable = false;
                snprintf(m->why_not, sizeof m->why_not, "%s in tree %d",
                         type != 0 ? "a categorical split" : "a split on an unknown feature", t);
            }
        }
        if (m->walkable && !tree_is_valid(m->node + at, nn, stack, seen)) {
            m->walkable = false;
            snprintf(m->why_not, sizeof m->why_not, "tree %d is not a proper tree", t);
        }
        at += (size_t)nn;
    }
    m->tree_start[m->ntrees] = (int32_t)at;
out:
    free(stack);
    free(seen);
    return st;
}

/* XGBoost 1.7 trusts a JSON model's structure: a repeated tree id, a child
 * or a split feature out of range crashes it (in loading, saving or
 * predicting) instead of failing.  So the trees of a JSON model file are
 * checked here first: ids 0..T-1 once each, T = num_trees = tree_info's
 * length, every node array num_nodes long, children and split features in
 * range, categorical segments inside their category list.  Returns a
 * reason, or NULL when the model is sound. */
static const char *json_trees_unsound(const cJSON *root, char *why, size_t size)
{
    const cJSON *learner = jget(root, "learner"), *gb = jget(learner, "gradient_booster");
    const cJSON *name = jget(gb, "name"), *model = NULL;
    double nfeat = 0, ntrees = -1;
    if (!cJSON_IsObject(learner) || !cJSON_IsString(name) ||
        !jnumber(jget(jget(learner, "learner_model_param"), "num_feature"), &nfeat))
        return "no learner, booster or num_feature";
    if (strcmp(name->valuestring, "gbtree") == 0)
        model = jget(gb, "model");
    else if (strcmp(name->valuestring, "dart") == 0)
        model = jget(jget(gb, "gbtree"), "model");
    else
        return NULL;
    const cJSON *trees = jget(model, "trees"), *info = jget(model, "tree_info");
    if (!cJSON_IsArray(trees) || !cJSON_IsArray(info) ||
        !jnumber(jget(jget(model, "gbtree_model_param"), "num_trees"), &ntrees))
        return "no trees, tree_info or num_trees";
    int T = cJSON_GetArraySize(trees);
    if (ntrees != T || cJSON_GetArraySize(info) != T)
        return "num_trees, tree_info and trees disagree";
    uint8_t *seen = calloc((size_t)T + 1, 1);
    if (seen == NULL)
        return "out of memory";
    static const char *const arrays[] = {"left_children", "right_children", "parents",
                                         "split_indices", "split_conditions", "default_left",
                                         "base_weights", "loss_changes", "sum_hessian",
                                         "split_type", NULL};
    const char *bad = NULL;
    for (int t = 0; t < T && bad == NULL; t++) {
        const cJSON *tr = cJSON_GetArrayItem(trees, t);
        double id = -1, nodes = -1;
        snprintf(why, size, "tree %d is malformed", t);
        bad = why;
        if (!jnumber(jget(tr, "id"), &id) || id != floor(id) || id < 0 || id >= T ||
            seen[(int)id] || !jnumber(jget(jget(tr, "tree_param"), "num_nodes"), &nodes) ||
            nodes < 1 || nodes > INT32_MAX)
            break;
        seen[(int)id] = 1;
        int nn = (int)nodes, k = 0;
        for (k = 0; arrays[k] != NULL; k++) {
            const cJSON *a = jget(tr, arrays[k]);
            /* split_type and sum_hessian may be absent from older models */
            if (a == NULL && k >= 8)
                continue;
            if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != nn)
                break;
        }
        if (arrays[k] != NULL)
            break;
        const cJSON *lc = jget(tr, "left_children"), *rc = jget(tr, "right_children");
        const cJSON *si = jget(tr, "split_indices"), *pa = jget(tr, "parents");
        for (k = 0; k < nn; k++) {
            double l = 0, r = 0, f = 0, p = 0;
            if (!jnumber(cJSON_GetArrayItem(lc, k), &l) ||
                !jnumber(cJSON_GetArrayItem(rc, k), &r) || !jnumber(cJSON_GetArrayItem(si, k), &f) ||
                !jnumber(cJSON_GetArrayItem(pa, k), &p))
                break;
            /* XGBoost indexes its nodes by a parent without checking it: a
             * node's parent is another node, the root's is "none" (INT32_MAX,
             * or -1). */
            if (!(p == INT32_MAX || p == -1 || (p >= 0 && p < nn && p == floor(p))))
                break;
            if (l == -1 && r == -1)
                continue;
            if (l < 1 || l >= nn || r < 1 || r >= nn || f < 0 || f >= nfeat)
                break;
        }
        if (k < nn)
            break;
        const cJSON *cats = jget(tr, "categories"), *segs = jget(tr, "categories_segments"),
                    *sizes = jget(tr, "categories_sizes"), *cnodes = jget(tr, "categories_nodes");
        int nseg = cJSON_IsArray(segs) ? cJSON_GetArraySize(segs) : 0;
        if (cJSON_GetArraySize(sizes) != nseg || cJSON_GetArraySize(cnodes) != nseg)
            break;
        for (k = 0; k < nseg; k++) {
            double a = -1, b = -1, c = -1;
            if (!jnumber(cJSON_GetArrayItem(segs, k), &a) ||
                !jnumber(cJSON_GetArrayItem(sizes, k), &b) ||
                !jnumber(cJSON_GetArrayItem(cnodes, k), &c) || a < 0 || b < 0 || c < 0 ||
                c >= nn || a + b > cJSON_GetArraySize(cats))
                break;
        }
        if (k < nseg)
            break;
        bad = NULL;
    }
    free(seen);
    return bad;
}

/* Local.  When path is a JSON model (text starting with '{' and a key),
 * checks it with json_trees_unsound before XGBoost reads it. */
static spex_status json_model_check(const char *path, spex_error *err)
{
    spex_status st = SPEX_OK;
    char *text = NULL, why[64];
    cJSON *root = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return spex_error_set(err, SPEX_EINPUT, "oracle.model = '%s': cannot read: %s", path,
                              strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0 || ftell(f) < 0) {
        st = spex_error_set(err, SPEX_EINPUT, "oracle.model = '%s': cannot read its size", path);
        goto out;
    }
    size_t len = (size_t)ftell(f);
    rewind(f);
    text = malloc(len + 1);
    SPEX_ALLOC_CHECK(text, err, "the model file");
    if (fread(text, 1, len, f) != len) {
        st = spex_error_set(err, SPEX_EINPUT, "oracle.model = '%s': read error", path);
        goto out;
    }
    text[len] = '\0';
    size_t k = 0;
    while (k < len && isspace((unsigned char)text[k]))
        k++;
    if (k >= len || text[k] != '{')
        goto out; /* not JSON: UBJSON or binary, XGBoost's to judge */
    k++;
    while (k < len && isspace((unsigned char)text[k]))
        k++;
    if (k >= len || (text[k] != '"' && text[k] != '}'))
        goto out; /* UBJSON also starts with '{' */
    root = cJSON_ParseWithLength(text, len);
    if (root == NULL) {
        st = spex_error_set(err, SPEX_EINPUT, "oracle.model = '%s' is not valid JSON", path);
        goto out;
    }
    const char *bad = json_trees_unsound(root, why, sizeof why);
    if (bad != NULL)
        st = spex_error_set(err, SPEX_EINPUT,
                            "oracle.model = '%s' is not a sound XGBoost model (%s)", path, bad);
out:
    cJSON_Delete(root);
    free(text);
    fclose(f);
    return st;
}

/* Local.  Loads oracle.model; reads its parameters and (gbtree, dart) its
 * trees from the JSON form XGBoost writes of it. */
static spex_status model_load(const char *path, xgb_model *m, spex_error *err)
{
    spex_status st = SPEX_OK;
    char msg[512];
    cJSON *root = NULL;
    memset(m, 0, sizeof *m);
    if (path[0] == '\0')
        return spex_error_set(err, SPEX_EUSAGE, "oracle.model is empty: this oracle.kind needs a "
                                                "model file");
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return spex_error_set(err, SPEX_EINPUT, "oracle.model = '%s': cannot read: %s", path,
                              strerror(errno));
    unsigned char head[64];
    size_t got = fread(head, 1, sizeof head, f);
    fclose(f);
    /* XGBoost reads any file that is not JSON as its old binary format, and
     * a text file (a CSV given by mistake) then makes it allocate garbage
     * sizes.  Models are JSON or UBJSON ('{'), or binary (not all text). */
    size_t k = 0;
    while (k < got && isspace(head[k]))
        k++;
    bool text = got > 0;
    for (size_t i = 0; i < got; i++)
        if (!isprint(head[i]) && !isspace(head[i]))
            text = false;
    if (got == 0 || (text && k < got && head[k] != '{'))
        return spex_error_set(err, SPEX_EINPUT,
                              "oracle.model = '%s' is not an XGBoost model (%s)", path,
                              got == 0 ? "an empty file" : "a text file that is not JSON");
    st = json_model_check(path, err);
    if (st != SPEX_OK)
        return st;
    if (XGBoosterCreate(NULL, 0, &m->h) != 0)
        return spex_error_set(err, SPEX_EINTERNAL, "XGBoosterCreate: %s",
                              xgb_message(msg, sizeof msg));
    if (XGBoosterLoadModel(m->h, path) != 0) {
        st = spex_error_set(err, SPEX_EINPUT, "oracle.model = '%s' is not an XGBoost model: %s",
                            path, xgb_message(msg, sizeof msg));
        goto out;
    }
    XGBoosterSetParam(m->h, "nthread", "1");
    XGBoosterSetParam(m->h, "verbosity", "0");
    bst_ulong len = 0;
    const char *buf = NULL;
    if (XGBoosterSaveModelToBuffer(m->h, "{\"format\": \"json\"}", &len, &buf) != 0) {
        st = spex_error_set(err, SPEX_EINPUT, "oracle.model = '%s': cannot export it as JSON: %s",
                            path, xgb_message(msg, sizeof msg));
        goto out;
    }
    root = cJSON_ParseWithLength(buf, (size_t)len);
    const cJSON *learner = jget(root, "learner"), *lmp = jget(learner, "learner_model_param");
    const cJSON *gb = jget(learner, "gradient_booster");
    const cJSON *obj = jget(jget(learner, "objective"), "name");
    const cJSON *bname = jget(gb, "name");
    double nfeat = 0, ncls = 0, ntarget = 1;
    if (!learner || !jnumber(jget(lmp, "num_feature"), &nfeat) ||
        !jnumber(jget(lmp, "num_class"), &ncls) || !cJSON_IsString(obj) || !cJSON_IsString(bname) ||
        !(nfeat >= 0 && nfeat <= INT32_MAX) || !(ncls >= 0 && ncls <= 1 << 20)) {
        st = spex_error_set(err, SPEX_EINPUT, "oracle.model = '%s': unexpected JSON layout", path);
        goto out;
    }
    m->num_feature = (int)nfeat;
    /* Outputs per row: classes, or targets of a multi-output regression. */
    if (!jnumber(jget(lmp, "num_target"), &ntarget) || !(ntarget >= 1 && ntarget <= 1 << 20))
        ntarget = 1;
    m->groups = ncls > 1 ? (int)ncls : ntarget > 1 ? (int)ntarget : 1;
    snprintf(m->objective, sizeof m->objective, "%s", obj->valuestring);
    snprintf(m->booster, sizeof m->booster, "%s", bname->valuestring);
    m->transform = transform_of(m->objective, &m->probability);
    const cJSON *names = jget(learner, "feature_names");
    if (cJSON_IsArray(names) && cJSON_GetArraySize(names) == m->num_feature && m->num_feature > 0) {
        m->names = calloc((size_t)m->num_feature, sizeof *m->names);
        SPEX_ALLOC_CHECK(m->names, err, "feature names");
        m->nnames = m->num_feature;
        for (int i = 0; i < m->nnames; i++) {
            const cJSON *s = cJSON_GetArrayItem(names, i);
            m->names[i] = strdup(cJSON_IsString(s) ? s->valuestring : "");
            SPEX_ALLOC_CHECK(m->names[i], err, "a feature name");
        }
    }
    if (strcmp(m->booster, "gbtree") == 0) {
        SPEX_CHECK(model_flatten(m, jget(gb, "model"), path, err));
    } else if (strcmp(m->booster, "dart") == 0) {
        /* Dart scales trees by weight_drop: the trees are read (for the
         * rounds count) but not walked. */
        SPEX_CHECK(model_flatten(m, jget(jget(gb, "gbtree"), "model"), path, err));
        m->walkable = false;
        snprintf(m->why_not, sizeof m->why_not, "a dart booster");
    } else {
        snprintf(m->why_not, sizeof m->why_not, "a %s booster", m->booster);
    }
    if (m->walkable && m->transform == XF_UNKNOWN)
        snprintf(m->why_not, sizeof m->why_not, "objective %s", m->objective);
out:
    cJSON_Delete(root);
    if (st != SPEX_OK)
        model_free(m);
    return st;
}

/* Local.  XGBoost's prediction of rows (nrows x cols floats) into out
 * (nrows x width floats); type 0 = value (transformed), 1 = margin.  width
 * 0 asks XGBoost for it (returned through *width). */
static spex_status predict_dense(BoosterHandle h, const float *rows, size_t nrows, int cols,
                                 int type, int *width, float *out, spex_error *err)
{
    char arr[192], conf[192], msg[512];
    const bst_ulong *shape = NULL;
    bst_ulong dim = 0;
    const float *res = NULL;
    snprintf(arr, sizeof arr,
             "{\"data\": [%" PRIuPTR ", true], \"shape\": [%zu, %d], \"typestr\": \"<f4\", "
             "\"version\": 3}",
             (uintptr_t)rows, nrows, cols);
    /* cache_id 0: without it XGBoost 1.7 aborts in in-place prediction. */
    snprintf(conf, sizeof conf,
             "{\"type\": %d, \"training\": false, \"iteration_begin\": 0, \"iteration_end\": 0, "
             "\"strict_shape\": true, \"missing\": NaN, \"cache_id\": 0}",
             type);
    if (XGBoosterPredictFromDense(h, arr, conf, NULL, &shape, &dim, &res) != 0)
        return spex_error_set(err, SPEX_EORACLE, "XGBoost prediction failed: %s",
                              xgb_message(msg, sizeof msg));
    if (dim != 2 || shape[0] != nrows || shape[1] < 1 ||
        (*width > 0 && shape[1] != (bst_ulong)*width))
        return spex_error_set(err, SPEX_EORACLE,
                              "XGBoost returned predictions of an unexpected shape");
    *width = (int)shape[1];
    if (out != NULL)
        memcpy(out, res, nrows * (size_t)*width * sizeof *out);
    return SPEX_OK;
}

/* ---- values ---------------------------------------------------------------- */

/* How a prediction (margins, or the objective's values) becomes a value. */
typedef struct xgb_value {
    spex_xgb_metric metric;
    int cls;     /* the output used by prediction and squared_error */
    int width;   /* entries of a prediction */
    bool values; /* predictions are the objective's values (type 0) */
} xgb_value;

static double clip_probability(double p)
{
    return p < LOGLOSS_EPS ? LOGLOSS_EPS : p > 1 - LOGLOSS_EPS ? 1 - LOGLOSS_EPS : p;
}

/* Value of one row's prediction pred[width] against its label y. */
static double value_of(const xgb_value *v, const double *pred, double y)
{
    double p = pred[v->cls];
    switch (v->metric) {
    case SPEX_XGB_SQUARED_ERROR:
        return (y - p) * (y - p);
    case SPEX_XGB_LOGLOSS:
        if (v->width == 1) {
            double q = clip_probability(pred[0]);
            return -(y * log(q) + (1 - y) * log(1 - q));
        }
        return -log(clip_probability(pred[(int)y]));
    default:
        return p;
    }
}

/* In place: margins -> the objective's values.  The float version mirrors
 * XGBoost's own arithmetic (native engine); the double one serves
 * xgboost-trees, whose sums are spex's own and kept exact. */
static void apply_transform(xgb_transform tf, float *m, int width)
{
    switch (tf) {
    case XF_SIGMOID:
        for (int g = 0; g < width; g++)
            m[g] = 1.0f / (1.0f + expf(-m[g]));
        break;
    case XF_EXP:
        for (int g = 0; g < width; g++)
            m[g] = expf(m[g]);
        break;
    case XF_SOFTMAX: {
        float mx = m[0], sum = 0.0f;
        for (int g = 1; g < width; g++)
            mx = m[g] > mx ? m[g] : mx;
        for (int g = 0; g < width; g++) {
            m[g] = expf(m[g] - mx);
            sum += m[g];
        }
        for (int g = 0; g < width; g++)
            m[g] /= sum;
        break;
    }
    default:
        break;
    }
}

static void apply_transform_d(xgb_transform tf, double *m, int width)
{
    switch (tf) {
    case XF_SIGMOID:
        for (int g = 0; g < width; g++)
            m[g] = 1.0 / (1.0 + exp(-m[g]));
        break;
    case XF_EXP:
        for (int g = 0; g < width; g++)
            m[g] = exp(m[g]);
        break;
    case XF_SOFTMAX: {
        double mx = m[0], sum = 0.0;
        for (int g = 1; g < width; g++)
            mx = m[g] > mx ? m[g] : mx;
        for (int g = 0; g < width; g++) {
            m[g] = exp(m[g] - mx);
            sum += m[g];
        }
        for (int g = 0; g < width; g++)
            m[g] /= sum;
        break;
    }
    default:
        break;
    }
}

/* Value of one row's prediction given as floats (XGBoost's output). */
static double value_of_f(const xgb_value *v, const float *pred, double *scratch, double y)
{
    for (int g = 0; g < v->width; g++)
        scratch[g] = pred[g];
    return value_of(v, scratch, y);
}

/* Local.  Checks oracle.output / metric / class against the model and its
 * labels, and fills v (width from a trial prediction of row). */
static spex_status value_setup(const spex_config *cfg, const xgb_model *m, const float *row,
                               int cols, const double *labels, size_t nlabels, const char *lkey,
                               xgb_value *v, spex_error *err)
{
    v->metric = cfg->metric;
    v->cls = cfg->xgb_class;
    v->values = cfg->xgb_output == SPEX_XGB_PROBABILITY || cfg->metric == SPEX_XGB_LOGLOSS;
    v->width = 0;
    if (cfg->metric == SPEX_XGB_LOGLOSS && !m->probability)
        return spex_error_set(err, SPEX_EUSAGE,
                              "oracle.metric = logloss needs a model whose output is a probability "
                              "(binary:logistic, reg:logistic, multi:softprob); oracle.model is %s",
                              m->objective);
    if (cfg->metric != SPEX_XGB_PREDICTION && cfg->label[0] == '\0')
        return spex_error_set(err, SPEX_EUSAGE,
                              "oracle.label is empty: oracle.metric = %s compares with labels",
                              spex_config_enum_name("oracle.metric", (int)cfg->metric));
    spex_status st = predict_dense(m->h, row, 1, cols, v->values ? 0 : 1, &v->width, NULL, err);
    if (st != SPEX_OK)
        return st;
    if (cfg->metric != SPEX_XGB_LOGLOSS && v->cls >= v->width)
        return spex_error_set(err, SPEX_EUSAGE,
                              "oracle.class = %d is out of range: the model has %d output%s",
                              v->cls, v->width, v->width == 1 ? "" : "s");
    if (cfg->metric == SPEX_XGB_SQUARED_ERROR && v->width > 1)
        return spex_error_set(err, SPEX_EUSAGE,
                              "oracle.metric = squared_error needs a single-output model");
    if (cfg->metric == SPEX_XGB_LOGLOSS)
        for (size_t r = 0; r < nlabels; r++) {
            double y = labels[r];
            bool ok = v->width == 1 ? (y >= 0 && y <= 1)
                                    : (y >= 0 && y < v->width && y == floor(y));
            if (!ok)
                return spex_error_set(err, SPEX_EINPUT,
                                      "%s: label %g of row %zu is not a %s (oracle.metric = "
                                      "logloss)",
                                      lkey, y, r, v->width == 1 ? "probability in [0, 1]"
                                                                : "class index of the model");
        }
    return SPEX_OK;
}

/* Local.  Feature columns of table against the model's features. */
static spex_status check_columns(const xgb_model *m, const xgb_table *t, const char *key,
                                 const char *path, const char *model_path, spex_error *err)
{
    if (t->cols != m->num_feature)
        return spex_error_set(err, SPEX_EINPUT,
                              "%s = '%s' has %d feature column%s but oracle.model = '%s' has %d "
                              "features%s",
                              key, path, t->cols, t->cols == 1 ? "" : "s", model_path,
                              m->num_feature,
                              t->cols == m->num_feature + 1 && t->y == NULL
                                  ? " (is one column the label? name it in oracle.label)"
                                  : "");
    if (t->names != NULL && m->names != NULL)
        for (int j = 0; j < t->cols; j++)
            if (m->names[j][0] != '\0' && strcmp(m->names[j], t->names[j]) != 0)
                return spex_error_set(err, SPEX_EINPUT,
                                      "%s = '%s': feature column %d is '%s' but oracle.model = "
                                      "'%s' calls feature %d '%s'",
                                      key, path, j + 1, t->names[j], model_path, j, m->names[j]);
    return SPEX_OK;
}

/* ---- xgboost: feature attribution ------------------------------------------ */

/* A node with both decisions taken in advance for one instance and one
 * baseline row: child[bit of feat] (absolute indices); feat -1: a leaf. */
typedef struct xgb_fast {
    int32_t feat;
    int32_t child[2];
    float leaf;
} xgb_fast;

typedef struct feat_state {
    xgb_model model;
    xgb_value val;
    int n;
    int K;             /* baseline rows: 1, or the background rows */
    float *inst;       /* n */
    float *base;       /* K x n */
    double label;      /* the instance's label (losses) */
    float *margin0;    /* model.groups: base margin (native) */
    float *pred;       /* width scratch (native) */
    double *dpred;     /* width scratch */
    xgb_fast *fast;    /* K = 1: the trees with decisions precomputed */
    float *rows;       /* chunk x K x n floats (xgboost engine) */
    float *out;        /* chunk x K x width (xgboost engine) */
    size_t chunk;      /* masks per XGBoost call */
} feat_state;

static void feat_destroy(spex_oracle *o)
{
    feat_state *s = o->state;
    if (s) {
        model_free(&s->model);
        free(s->inst);
        free(s->base);
        free(s->margin0);
        free(s->pred);
        free(s->dpred);
        free(s->fast);
        free(s->rows);
        free(s->out);
        free(s);
    }
    free(o);
}

/* The direction XGBoost takes at node k for feature value v. */
static int32_t go(const xgb_model *m, size_t k, float v)
{
    const xgb_node *nd = &m->node[k];
    if (isnan(v))
        return m->dleft[k] ? nd->left : nd->right;
    return v < nd->cond ? nd->left : nd->right;
}

/* Margins of the row (kept: x, masked: b) into out[groups], as XGBoost sums
 * them: in float, tree by tree, onto the base margin. */
static void walk_margins(const xgb_model *m, const float *margin0, const uint64_t *mask,
                         const float *x, const float *b, float *out)
{
    for (int g = 0; g < m->groups; g++)
        out[g] = margin0[g];
    for (int t = 0; t < m->ntrees; t++) {
        const xgb_node *tree = m->node + m->tree_start[t], *nd = tree;
        while (nd->left >= 0) {
            int f = nd->feat;
            nd = tree + go(m, (size_t)(nd - m->node), spex_mask_get(mask, f) ? x[f] : b[f]);
        }
        out[m->tree_group[t]] += nd->cond;
    }
}

/* With one baseline row every split's two outcomes are known in advance,
 * so a walk is a chain of mask bits. */
static xgb_fast *fast_build(const xgb_model *m, const float *x, const float *b)
{
    size_t total = (size_t)m->tree_start[m->ntrees];
    xgb_fast *fast = malloc((total ? total : 1) * sizeof *fast);
    if (fast == NULL)
        return NULL;
    for (int t = 0; t < m->ntrees; t++) {
        size_t off = (size_t)m->tree_start[t];
        for (size_t k = off; k < (size_t)m->tree_start[t + 1]; k++) {
            const xgb_node *nd = &m->node[k];
            if (nd->left < 0) {
                fast[k].feat = -1;
                fast[k].child[0] = fast[k].child[1] = -1;
                fast[k].leaf = nd->cond;
                continue;
            }
            fast[k].feat = nd->feat;
            fast[k].child[0] = (int32_t)off + go(m, k, b[nd->feat]);
            fast[k].child[1] = (int32_t)off + go(m, k, x[nd->feat]);
            fast[k].leaf = 0;
        }
    }
    return fast;
}

static void fast_margins(const xgb_model *m, const xgb_fast *fast, const float *margin0,
                         const uint64_t *mask, float *out)
{
    for (int g = 0; g < m->groups; g++)
        out[g] = margin0[g];
    for (int t = 0; t < m->ntrees; t++) {
        const xgb_fast *nd = fast + m->tree_start[t];
        while (nd->feat >= 0)
            nd = fast + nd->child[spex_mask_get(mask, nd->feat)];
        out[m->tree_group[t]] += nd->leaf;
    }
}

static spex_status feat_eval_native(spex_oracle *o, size_t count, const uint64_t *masks,
                                    uint64_t first_id, double *values, spex_error *err)
{
    feat_state *s = o->state;
    const xgb_model *m = &s->model;
    for (size_t i = 0; i < count; i++) {
        const uint64_t *mask = masks + i * o->words;
        if (s->fast != NULL) {
            fast_margins(m, s->fast, s->margin0, mask, s->pred);
            if (s->val.values)
                apply_transform(m->transform, s->pred, s->val.width);
            values[i] = value_of_f(&s->val, s->pred, s->dpred, s->label);
            continue;
        }
        double acc = 0;
        for (int b = 0; b < s->K; b++) {
            walk_margins(m, s->margin0, mask, s->inst, s->base + (size_t)b * (size_t)s->n, s->pred);
            if (s->val.values)
                apply_transform(m->transform, s->pred, s->val.width);
            acc += value_of_f(&s->val, s->pred, s->dpred, s->label);
        }
        values[i] = acc / s->K;
    }
    return SPEX_OK;
}

static spex_status feat_eval_xgboost(spex_oracle *o, size_t count, const uint64_t *masks,
                                     uint64_t first_id, double *values, spex_error *err)
{
    feat_state *s = o->state;
    size_t n = (size_t)s->n, K = (size_t)s->K, w = (size_t)s->val.width;
    for (size_t i0 = 0; i0 < count; i0 += s->chunk) {
        size_t cnt = count - i0 < s->chunk ? count - i0 : s->chunk;
        for (size_t i = 0; i < cnt; i++) {
            const uint64_t *mask = masks + (i0 + i) * o->words;
            for (size_t b = 0; b < K; b++) {
                float *row = s->rows + (i * K + b) * n;
                const float *base = s->base + b * n;
                for (size_t f = 0; f < n; f++)
                    row[f] = spex_mask_get(mask, (int)f) ? s->inst[f] : base[f];
            }
        }
        int width = s->val.width;
        spex_status st = predict_dense(s->model.h, s->rows, cnt * K, s->n, s->val.values ? 0 : 1,
                                       &width, s->out, err);
        if (st != SPEX_OK)
            return st;
        for (size_t i = 0; i < cnt; i++) {
            double acc = 0;
            for (size_t b = 0; b < K; b++)
                acc += value_of_f(&s->val, s->out + (i * K + b) * w, s->dpred, s->label);
            values[i0 + i] = acc / (double)K;
        }
    }
    return SPEX_OK;
}

/* Local.  splitmix64: the check masks are fixed, not part of the study. */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Local.  Sets up the native engine and compares it with XGBoost on
 * CHECK_MASKS masks; *ok = false (with the worst case in why) when they
 * disagree. */
static spex_status native_setup(spex_oracle *o, bool *ok, char *why, size_t whysize,
                                spex_error *err)
{
    spex_status st = SPEX_OK;
    feat_state *s = o->state;
    xgb_model *m = &s->model;
    size_t words = o->words;
    uint64_t *masks = calloc(CHECK_MASKS * words, sizeof *masks);
    double *a = malloc(CHECK_MASKS * sizeof *a), *b = malloc(CHECK_MASKS * sizeof *b);
    float *xm = malloc((size_t)m->groups * sizeof *xm);
    float *wm = malloc((size_t)m->groups * sizeof *wm);
    s->margin0 = calloc((size_t)m->groups, sizeof *s->margin0);
    s->pred = malloc((size_t)(m->groups > s->val.width ? m->groups : s->val.width) *
                     sizeof *s->pred);
    if (!masks || !a || !b || !xm || !wm || !s->margin0 || !s->pred) {
        st = spex_error_set(err, SPEX_EINTERNAL, "out of memory checking the native engine");
        goto out;
    }
    /* The base margin: XGBoost's margin of the instance minus its trees. */
    int groups = m->groups;
    SPEX_CHECK(predict_dense(m->h, s->inst, 1, s->n, 1, &groups, xm, err));
    for (int g = 0; g < m->groups; g++)
        s->margin0[g] = 0.0f;
    for (size_t w = 0; w < words; w++)
        masks[w] = ~(uint64_t)0;
    walk_margins(m, s->margin0, masks, s->inst, s->inst, wm);
    for (int g = 0; g < m->groups; g++)
        s->margin0[g] = (float)((double)xm[g] - (double)wm[g]);
    if (s->K == 1) {
        s->fast = fast_build(m, s->inst, s->base);
        SPEX_ALLOC_CHECK(s->fast, err, "precomputed trees");
    }

    /* Mask 0 empty, mask 1 full (set above), the rest random. */
    memset(masks, 0, words * sizeof *masks);
    uint64_t seed = 0x5EEDull;
    for (size_t i = 2; i < CHECK_MASKS; i++)
        for (int f = 0; f < s->n; f++)
            if (splitmix64(&seed) & 1)
                spex_mask_set(masks + i * words, f);
    SPEX_CHECK(feat_eval_native(o, CHECK_MASKS, masks, 0, a, err));
    SPEX_CHECK(feat_eval_xgboost(o, CHECK_MASKS, masks, 0, b, err));
    *ok = true;
    double worst = 0;
    for (size_t i = 0; i < CHECK_MASKS; i++) {
        double d = fabs(a[i] - b[i]) / (1.0 + fabs(b[i]));
        if (!(d <= 1e-5) && !(d <= worst)) {
            worst = isnan(d) ? INFINITY : d;
            *ok = false;
            snprintf(why, whysize, "check mask %zu: native %.9g, XGBoost %.9g", i, a[i], b[i]);
        }
    }
out:
    free(masks);
    free(a);
    free(b);
    free(xm);
    free(wm);
    return st;
}

/* Column means of the first K rows, skipping missing values. */
static void column_means(const xgb_table *t, size_t K, float *out)
{
    for (int j = 0; j < t->cols; j++) {
        double sum = 0;
        size_t cnt = 0;
        for (size_t r = 0; r < K; r++) {
            double v = t->x[r * (size_t)t->cols + (size_t)j];
            if (!isnan(v)) {
                sum += v;
                cnt++;
            }
        }
        out[j] = cnt ? (float)(sum / (double)cnt) : NAN;
    }
}

static void row_to_float(const xgb_table *t, size_t r, float *out)
{
    for (int j = 0; j < t->cols; j++)
        out[j] = (float)t->x[r * (size_t)t->cols + (size_t)j];
}

/* "17" -> 17; anything else -> -1. */
static long long parse_row_index(const char *s)
{
    if (*s == '\0')
        return -1;
    for (const char *p = s; *p; p++)
        if (!isdigit((unsigned char)*p))
            return -1;
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    return errno ? -1 : v;
}

static spex_status feat_create(const spex_config *cfg, spex_oracle *o, spex_error *err)
{
    spex_status st = SPEX_OK;
    feat_state *s = calloc(1, sizeof *s);
    xgb_table t;
    memset(&t, 0, sizeof t);
    if (s == NULL)
        return spex_error_set(err, SPEX_EINTERNAL, "out of memory creating the xgboost oracle");
    o->state = s;
    o->destroy = feat_destroy;
    SPEX_CHECK(model_load(cfg->model, &s->model, err));
    xgb_model *m = &s->model;
    if (cfg->n != m->num_feature) {
        st = spex_error_set(err, SPEX_EUSAGE,
                            "features.n = %d but oracle.model = '%s' has %d features", cfg->n,
                            cfg->model, m->num_feature);
        goto out;
    }
    SPEX_CHECK(table_read(cfg, cfg->data, "oracle.data", &t, err));
    SPEX_CHECK(check_columns(m, &t, "oracle.data", cfg->data, cfg->model, err));
    if ((uint64_t)cfg->instance >= t.rows) {
        st = spex_error_set(err, SPEX_EUSAGE,
                            "oracle.instance = %" PRId64 " is out of range: oracle.data = '%s' has "
                            "%zu rows (0..%zu)",
                            cfg->instance, cfg->data, t.rows, t.rows - 1);
        goto out;
    }
    size_t nbg = cfg->background > 0 ? (size_t)cfg->background : t.rows;
    if ((uint64_t)cfg->background > t.rows) {
        st = spex_error_set(err, SPEX_EUSAGE,
                            "oracle.background = %" PRId64 " exceeds the %zu rows of oracle.data = "
                            "'%s'",
                            cfg->background, t.rows, cfg->data);
        goto out;
    }
    s->n = cfg->n;
    long long brow = parse_row_index(cfg->baseline);
    bool interventional = strcmp(cfg->baseline, "interventional") == 0;
    if (brow < 0 && !interventional && strcmp(cfg->baseline, "mean") != 0) {
        st = spex_error_set(err, SPEX_EUSAGE,
                            "oracle.baseline = '%s' must be a row index of oracle.data, mean or "
                            "interventional",
                            cfg->baseline);
        goto out;
    }
    if (brow >= 0 && (size_t)brow >= t.rows) {
        st = spex_error_set(err, SPEX_EUSAGE,
                            "oracle.baseline = %lld is out of range: oracle.data = '%s' has %zu "
                            "rows (0..%zu)",
                            brow, cfg->data, t.rows, t.rows - 1);
        goto out;
    }
    s->K = interventional ? (int)(nbg < INT32_MAX ? nbg : INT32_MAX) : 1;
    s->inst = malloc((size_t)s->n * sizeof *s->inst);
    s->base = malloc((size_t)s->K * (size_t)s->n * sizeof *s->base);
    SPEX_ALLOC_CHECK(s->inst && s->base ? s->base : NULL, err, "baseline rows");
    row_to_float(&t, (size_t)cfg->instance, s->inst);
    if (interventional)
        for (int b = 0; b < s->K; b++)
            row_to_float(&t, (size_t)b, s->base + (size_t)b * (size_t)s->n);
    else if (brow >= 0)
        row_to_float(&t, (size_t)brow, s->base);
    else
        column_means(&t, nbg, s->base);
    s->label = t.y != NULL ? t.y[cfg->instance] : NAN;
    SPEX_CHECK(value_setup(cfg, m, s->inst, s->n, t.y ? t.y + cfg->instance : NULL,
                           t.y ? 1 : 0, "oracle.data", &s->val, err));

    /* Buffers of the xgboost engine (also used to check the native one). */
    size_t per_mask = (size_t)s->K * (size_t)s->n;
    s->chunk = per_mask >= ROWS_FLOATS_MAX ? 1 : ROWS_FLOATS_MAX / per_mask;
    if (s->chunk > (size_t)cfg->batch)
        s->chunk = (size_t)cfg->batch;
    if (s->chunk < CHECK_MASKS && per_mask * CHECK_MASKS <= ROWS_FLOATS_MAX)
        s->chunk = CHECK_MASKS;
    s->rows = malloc(s->chunk * per_mask * sizeof *s->rows);
    s->out = malloc(s->chunk * (size_t)s->K * (size_t)s->val.width * sizeof *s->out);
    s->dpred = malloc((size_t)s->val.width * sizeof *s->dpred);
    SPEX_ALLOC_CHECK(s->rows && s->out && s->dpred ? s->dpred : NULL, err, "rows for XGBoost");

    o->eval = feat_eval_xgboost;
    bool can = m->walkable && s->val.width == m->groups &&
               (!s->val.values || m->transform != XF_UNKNOWN);
    if (cfg->engine == SPEX_XGB_NATIVE && !can) {
        st = spex_error_set(err, SPEX_EUSAGE,
                            "oracle.engine = native cannot walk oracle.model = '%s' (%s); use "
                            "auto or xgboost",
                            cfg->model, m->why_not[0] ? m->why_not : "unsupported model");
        goto out;
    }
    if (cfg->engine != SPEX_XGB_XGBOOST && can) {
        bool ok = false;
        char why[256] = "";
        SPEX_CHECK(native_setup(o, &ok, why, sizeof why, err));
        if (ok) {
            o->eval = feat_eval_native;
        } else if (cfg->engine == SPEX_XGB_NATIVE) {
            st = spex_error_set(err, SPEX_EINTERNAL,
                                "oracle.engine = native disagrees with XGBoost on oracle.model = "
                                "'%s' (%s)",
                                cfg->model, why);
            goto out;
        }
    }
out:
    table_free(&t);
    return st;
}

/* ---- xgboost-train: data attribution ------------------------------------------ */

typedef struct train_state {
    xgb_table data;
    int cols;
    float *xbuf, *ybuf; /* kept rows and labels of one query */
    float *test;        /* the test row */
    double test_label;
    xgb_value val;
    double empty_value; /* value with no training row */
    char num_class[16]; /* "" or the number of classes (multi: objectives) */
    char depth[16], eta[32], seed[32], cols_text[16];
    const char *objective;
    int rounds;
} train_state;

static void train_destroy(spex_oracle *o)
{
    train_state *s = o->state;
    if (s) {
        table_free(&s->data);
        free(s->xbuf);
        free(s->ybuf);
        free(s->test);
        free(s);
    }
    free(o);
}

/* Local.  A booster with the study's settings on rows (x: rows x cols);
 * trained for `rounds` rounds (0: untrained). */
static spex_status train_booster(const train_state *s, const float *x, const float *y,
                                 size_t rows, int rounds, BoosterHandle *out, spex_error *err)
{
    char msg[512];
    DMatrixHandle dm = NULL;
    BoosterHandle h = NULL;
    *out = NULL;
    if (XGDMatrixCreateFromMat(x, (bst_ulong)rows, (bst_ulong)s->cols, NAN, &dm) != 0 ||
        XGDMatrixSetFloatInfo(dm, "label", y, (bst_ulong)rows) != 0 ||
        XGBoosterCreate(&dm, 1, &h) != 0)
        goto fail;
    const char *params[][2] = {{"objective", s->objective}, {"max_depth", s->depth},
                               {"eta", s->eta},             {"seed", s->seed},
                               {"nthread", "1"},            {"verbosity", "0"},
                               {"tree_method", "exact"},    {"num_class", s->num_class},
                               /* An untrained booster learns it from no DMatrix. */
                               {"num_feature", s->cols_text}};
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++)
        if (params[i][1][0] != '\0' && XGBoosterSetParam(h, params[i][0], params[i][1]) != 0)
            goto fail;
    for (int r = 0; r < rounds; r++)
        if (XGBoosterUpdateOneIter(h, r, dm) != 0)
            goto fail;
    XGDMatrixFree(dm);
    *out = h;
    return SPEX_OK;
fail:
    xgb_message(msg, sizeof msg);
    if (h != NULL)
        XGBoosterFree(h);
    if (dm != NULL)
        XGDMatrixFree(dm);
    return spex_error_set(err, SPEX_EORACLE, "XGBoost failed training on %zu rows: %s", rows, msg);
}

/* Local.  Value of booster h on the test row. */
static spex_status train_value(const train_state *s, BoosterHandle h, double *value,
                               spex_error *err)
{
    int width = s->val.width;
    float *p = malloc((size_t)width * sizeof *p);
    double *d = malloc((size_t)width * sizeof *d);
    spex_status st = SPEX_OK;
    if (p == NULL || d == NULL)
        st = spex_error_set(err, SPEX_EINTERNAL, "out of memory for a prediction");
    if (st == SPEX_OK)
        st = predict_dense(h, s->test, 1, s->cols, s->val.values ? 0 : 1, &width, p, err);
    if (st == SPEX_OK)
        *value = value_of_f(&s->val, p, d, s->test_label);
    free(p);
    free(d);
    return st;
}

static spex_status train_eval(spex_oracle *o, size_t count, const uint64_t *masks,
                              uint64_t first_id, double *values, spex_error *err)
{
    train_state *s = o->state;
    size_t cols = (size_t)s->cols;
    for (size_t i = 0; i < count; i++) {
        const uint64_t *mask = masks + i * o->words;
        size_t kept = 0;
        for (size_t r = 0; r < s->data.rows; r++)
            if (spex_mask_get(mask, (int)r)) {
                for (size_t j = 0; j < cols; j++)
                    s->xbuf[kept * cols + j] = (float)s->data.x[r * cols + j];
                s->ybuf[kept++] = (float)s->data.y[r];
            }
        if (kept == 0) {
            values[i] = s->empty_value;
            continue;
        }
        BoosterHandle h;
        spex_status st = train_booster(s, s->xbuf, s->ybuf, kept, s->rounds, &h, err);
        if (st == SPEX_OK) {
            st = train_value(s, h, &values[i], err);
            XGBoosterFree(h);
        }
        if (st != SPEX_OK) {
            /* Name the query: the message above says what XGBoost said. */
            spex_error e2;
            spex_error_clear(&e2);
            spex_error_set(&e2, st, "xgboost-train, query %llu: %s",
                           (unsigned long long)(first_id + i), err->msg);
            *err = e2;
            return st;
        }
    }
    return SPEX_OK;
}

static spex_status train_create(const spex_config *cfg, spex_oracle *o, spex_error *err)
{
    spex_status st = SPEX_OK;
    train_state *s = calloc(1, sizeof *s);
    xgb_table test;
    xgb_model shape; /* for value_setup: objective and a booster */
    BoosterHandle h = NULL;
    memset(&test, 0, sizeof test);
    memset(&shape, 0, sizeof shape);
    if (s == NULL)
        return spex_error_set(err, SPEX_EINTERNAL,
                              "out of memory creating the xgboost-train oracle");
    o->state = s;
    o->destroy = train_destroy;
    o->eval = train_eval;
    if (cfg->label[0] == '\0') {
        st = spex_error_set(err, SPEX_EUSAGE,
                            "oracle.label is empty: oracle.kind = xgboost-train trains on labels");
        goto out;
    }
    SPEX_CHECK(table_read(cfg, cfg->data, "oracle.data", &s->data, err));
    if ((size_t)cfg->n != s->data.rows) {
        st = spex_error_set(err, SPEX_EUSAGE,
                            "features.n = %d but oracle.data = '%s' has %zu training rows (one "
                            "feature each)",
                            cfg->n, cfg->data, s->data.rows);
        goto out;
    }
    if (cfg->test[0] == '\0') {
        st = spex_error_set(err, SPEX_EUSAGE,
                            "oracle.test is empty: oracle.kind = xgboost-train needs test rows");
        goto out;
    }
    SPEX_CHECK(table_read(cfg, cfg->test, "oracle.test", &test, err));
    s->cols = s->data.cols;
    if (test.cols != s->cols) {
        st = spex_error_set(err, SPEX_EINPUT,
                            "oracle.test = '%s' has %d feature columns but oracle.data = '%s' "
                            "has %d",
                            cfg->test, test.cols, cfg->data, s->cols);
        goto out;
    }
    if ((uint64_t)cfg->instance >= test.rows) {
        st = spex_error_set(err, SPEX_EUSAGE,
                            "oracle.instance = %" PRId64 " is out of range: oracle.test = '%s' has "
                            "%zu rows (0..%zu)",
                            cfg->instance, cfg->test, test.rows, test.rows - 1);
        goto out;
    }
    s->test = malloc((size_t)s->cols * sizeof *s->test);
    s->xbuf = malloc(s->data.rows * (size_t)s->cols * sizeof *s->xbuf);
    s->ybuf = malloc(s->data.rows * sizeof *s->ybuf);
    SPEX_ALLOC_CHECK(s->test && s->xbuf && s->ybuf ? s->ybuf : NULL, err, "training buffers");
    row_to_float(&test, (size_t)cfg->instance, s->test);
    s->test_label = test.y[cfg->instance];

    s->objective = cfg->train_objective;
    s->rounds = cfg->train_rounds;
    snprintf(s->depth, sizeof s->depth, "%d", cfg->train_depth);
    snprintf(s->cols_text, sizeof s->cols_text, "%d", s->cols);
    snprintf(s->eta, sizeof s->eta, "%.17g", cfg->train_eta);
    snprintf(s->seed, sizeof s->seed, "%" PRId64,
             cfg->oracle_seed >= 0 ? cfg->oracle_seed : cfg->seed);
    if (strncmp(s->objective, "multi:", 6) == 0) {
        double mx = 0;
        for (size_t r = 0; r < s->data.rows; r++) {
            double y = s->data.y[r];
            if (y < 0 || y != floor(y) || y > 1e6) {
                st = spex_error_set(err, SPEX_EINPUT,
                                    "oracle.data = '%s': label %g of row %zu is not a class index "
                                    "(oracle.train_objective = %s)",
                                    cfg->data, y, r, s->objective);
                goto out;
            }
            mx = y > mx ? y : mx;
        }
        snprintf(s->num_class, sizeof s->num_class, "%d", (int)mx + 1);
    }

    /* All rows once: a wrong setting fails here, as a study error. */
    for (size_t r = 0; r < s->data.rows; r++) {
        row_to_float(&s->data, r, s->xbuf + r * (size_t)s->cols);
        s->ybuf[r] = (float)s->data.y[r];
    }
    spex_error first;
    spex_error_clear(&first);
    if (train_booster(s, s->xbuf, s->ybuf, s->data.rows, 1, &h, &first) != SPEX_OK) {
        st = spex_error_set(err, SPEX_EUSAGE, "oracle.train_* settings (objective %s): %s",
                            s->objective, first.msg);
        goto out;
    }
    snprintf(shape.objective, sizeof shape.objective, "%s", s->objective);
    shape.transform = transform_of(s->objective, &shape.probability);
    shape.h = h;
    st = value_setup(cfg, &shape, s->test, s->cols, s->data.y, s->data.rows, "oracle.data",
                     &s->val, err);
    XGBoosterFree(h);
    h = NULL;
    if (st != SPEX_OK)
        goto out;
    if (cfg->metric == SPEX_XGB_LOGLOSS) {
        bool ok = s->val.width == 1 ? s->test_label >= 0 && s->test_label <= 1
                                    : s->test_label >= 0 && s->test_label < s->val.width &&
                                          s->test_label == floor(s->test_label);
        if (!ok) {
            st = spex_error_set(err, SPEX_EINPUT,
                                "oracle.test = '%s': label %g of row %" PRId64 " does not suit "
                                "oracle.metric = logloss",
                                cfg->test, s->test_label, cfg->instance);
            goto out;
        }
    }
    /* No training row: the untrained model (base_score only). */
    SPEX_CHECK(train_booster(s, s->test, s->ybuf, 1, 0, &h, err));
    SPEX_CHECK(train_value(s, h, &s->empty_value, err));
out:
    if (h != NULL)
        XGBoosterFree(h);
    table_free(&test);
    return st;
}

/* ---- xgboost-trees: component attribution ---------------------------------- */

typedef struct trees_state {
    xgb_model model;
    xgb_value val;
    size_t rows;
    double *leaf;     /* rows x ntrees: leaf value of each tree on each row */
    double *margin0;  /* groups: base margin */
    double *y;        /* rows labels, or NULL */
    int32_t *tfeat;   /* ntrees: the feature (round group) of each tree */
    int32_t *kept;    /* ntrees scratch */
    double *acc;      /* groups scratch: margins, then values */
} trees_state;

static void trees_destroy(spex_oracle *o)
{
    trees_state *s = o->state;
    if (s) {
        model_free(&s->model);
        free(s->leaf);
        free(s->margin0);
        free(s->y);
        free(s->tfeat);
        free(s->kept);
        free(s->acc);
        free(s);
    }
    free(o);
}

static spex_status trees_eval(spex_oracle *o, size_t count, const uint64_t *masks,
                              uint64_t first_id, double *values, spex_error *err)
{
    trees_state *s = o->state;
    const xgb_model *m = &s->model;
    size_t T = (size_t)m->ntrees;
    double *acc = s->acc;
    for (size_t i = 0; i < count; i++) {
        const uint64_t *mask = masks + i * o->words;
        size_t nk = 0;
        for (size_t t = 0; t < T; t++)
            if (spex_mask_get(mask, s->tfeat[t]))
                s->kept[nk++] = (int32_t)t;
        double sum = 0;
        for (size_t r = 0; r < s->rows; r++) {
            const double *leaf = s->leaf + r * T;
            for (int g = 0; g < m->groups; g++)
                acc[g] = s->margin0[g];
            for (size_t k = 0; k < nk; k++)
                acc[m->tree_group[s->kept[k]]] += leaf[s->kept[k]];
            if (s->val.values)
                apply_transform_d(m->transform, acc, m->groups);
            sum += value_of(&s->val, acc, s->y ? s->y[r] : 0.0);
        }
        values[i] = sum / (double)s->rows;
    }
    return SPEX_OK;
}

/* Local.  Caches leaf values: XGBoost's leaf index of every tree on every
 * row, the leaf's value from the flattened model; then the base margin, and
 * a check that base + all trees is XGBoost's margin on every row. */
static spex_status trees_cache(trees_state *s, const float *x, const char *path,
                               spex_error *err)
{
    spex_status st = SPEX_OK;
    char msg[512];
    xgb_model *m = &s->model;
    size_t T = (size_t)m->ntrees, R = s->rows;
    DMatrixHandle dm = NULL;
    const bst_ulong *shape = NULL;
    bst_ulong dim = 0;
    const float *res = NULL;
    float *margin = malloc(R * (size_t)m->groups * sizeof *margin);
    float *value = malloc(R * (size_t)m->groups * sizeof *value);
    double *sum = malloc(R * (size_t)m->groups * sizeof *sum);
    s->leaf = malloc((R * T > 0 ? R * T : 1) * sizeof *s->leaf);
    s->margin0 = calloc((size_t)m->groups, sizeof *s->margin0);
    if (!margin || !value || !sum || !s->leaf || !s->margin0) {
        st = spex_error_set(err, SPEX_EINTERNAL, "out of memory caching %zu x %zu leaf values", R,
                            T);
        goto out;
    }
    if (T > 0) {
        if (XGDMatrixCreateFromMat(x, (bst_ulong)R, (bst_ulong)m->num_feature, NAN, &dm) != 0 ||
            XGBoosterPredictFromDMatrix(m->h, dm,
                                        "{\"type\": 6, \"training\": false, \"iteration_begin\": "
                                        "0, \"iteration_end\": 0, \"strict_shape\": false}",
                                        &shape, &dim, &res) != 0) {
            st = spex_error_set(err, SPEX_EINPUT, "oracle.model = '%s': leaf prediction failed: %s",
                                path, xgb_message(msg, sizeof msg));
            goto out;
        }
        size_t total = 1;
        for (bst_ulong d = 0; d < dim; d++)
            total *= (size_t)shape[d];
        if (total != R * T) {
            st = spex_error_set(err, SPEX_EINPUT,
                                "oracle.model = '%s': leaf prediction has %zu entries, not %zu "
                                "rows x %zu trees",
                                path, total, R, T);
            goto out;
        }
        for (size_t r = 0; r < R; r++)
            for (size_t t = 0; t < T; t++) {
                double id = res[r * T + t];
                int32_t nodes = m->tree_start[t + 1] - m->tree_start[t];
                if (!(id >= 0 && id < nodes) ||
                    m->node[m->tree_start[t] + (int32_t)id].left != -1) {
                    st = spex_error_set(err, SPEX_EINPUT,
                                        "oracle.model = '%s': XGBoost's leaf %g of tree %zu is not "
                                        "a leaf of the model",
                                        path, id, t);
                    goto out;
                }
                s->leaf[r * T + t] = m->node[m->tree_start[t] + (int32_t)id].cond;
            }
    }
    int width = m->groups;
    SPEX_CHECK(predict_dense(m->h, x, R, m->num_feature, 1, &width, margin, err));
    double scale = 0;
    for (size_t r = 0; r < R; r++) {
        for (int g = 0; g < m->groups; g++)
            sum[r * (size_t)m->groups + (size_t)g] = 0;
        double mag = 0;
        for (size_t t = 0; t < T; t++) {
            sum[r * (size_t)m->groups + (size_t)m->tree_group[t]] += s->leaf[r * T + t];
            mag += fabs(s->leaf[r * T + t]);
        }
        scale = mag > scale ? mag : scale;
    }
    for (int g = 0; g < m->groups; g++) {
        double b = 0;
        for (size_t r = 0; r < R; r++) {
            size_t k = r * (size_t)m->groups + (size_t)g;
            b += (double)margin[k] - sum[k];
        }
        s->margin0[g] = b / (double)R;
    }
    /* XGBoost sums in float: allow its rounding, a few ulps per tree. */
    double tol = 1e-6 * ((double)T + 10) * (1 + scale + fabs(s->margin0[0]));
    for (size_t r = 0; r < R; r++)
        for (int g = 0; g < m->groups; g++) {
            size_t k = r * (size_t)m->groups + (size_t)g;
            double mine = s->margin0[g] + sum[k];
            if (!(fabs(mine - margin[k]) <= tol)) {
                st = spex_error_set(err, SPEX_EINPUT,
                                    "oracle.model = '%s': the cached leaf values do not reproduce "
                                    "XGBoost's margin (row %zu: %.9g vs %.9g)",
                                    path, r, mine, (double)margin[k]);
                goto out;
            }
        }
    /* The transform, when values are used, against XGBoost's own. */
    if (s->val.values) {
        width = m->groups;
        SPEX_CHECK(predict_dense(m->h, x, R, m->num_feature, 0, &width, value, err));
        for (size_t r = 0; r < R; r++) {
            double *p = s->acc;
            for (int g = 0; g < m->groups; g++)
                p[g] = s->margin0[g] + sum[r * (size_t)m->groups + (size_t)g];
            apply_transform_d(m->transform, p, m->groups);
            for (int g = 0; g < m->groups; g++) {
                double a = p[g], b = value[r * (size_t)m->groups + (size_t)g];
                if (!(fabs(a - b) <= 1e-5 * (1 + fabs(b)))) {
                    st = spex_error_set(err, SPEX_EINPUT,
                                        "oracle.model = '%s': the %s transform does not reproduce "
                                        "XGBoost's prediction (row %zu: %.9g vs %.9g)",
                                        path, m->objective, r, a, b);
                    goto out;
                }
            }
        }
    }
out:
    if (dm != NULL)
        XGDMatrixFree(dm);
    free(margin);
    free(value);
    free(sum);
    return st;
}

static spex_status trees_create(const spex_config *cfg, spex_oracle *o, spex_error *err)
{
    spex_status st = SPEX_OK;
    trees_state *s = calloc(1, sizeof *s);
    xgb_table t;
    float *x = NULL;
    memset(&t, 0, sizeof t);
    if (s == NULL)
        return spex_error_set(err, SPEX_EINTERNAL,
                              "out of memory creating the xgboost-trees oracle");
    o->state = s;
    o->destroy = trees_destroy;
    o->eval = trees_eval;
    SPEX_CHECK(model_load(cfg->model, &s->model, err));
    xgb_model *m = &s->model;
    if (strcmp(m->booster, "gbtree") != 0) {
        st = spex_error_set(err, SPEX_EUSAGE,
                            "oracle.kind = xgboost-trees needs a gbtree model; oracle.model = '%s' "
                            "is %s",
                            cfg->model, m->booster);
        goto out;
    }
    long long groups = ((long long)m->rounds + cfg->tree_group - 1) / cfg->tree_group;
    if (cfg->n != groups) {
        st = spex_error_set(err, SPEX_EUSAGE,
                            "features.n = %d but oracle.model = '%s' has %d boosting rounds, "
                            "%lld feature%s of oracle.tree_group = %d round%s",
                            cfg->n, cfg->model, m->rounds, groups, groups == 1 ? "" : "s",
                            cfg->tree_group, cfg->tree_group == 1 ? "" : "s");
        goto out;
    }
    SPEX_CHECK(table_read(cfg, cfg->data, "oracle.data", &t, err));
    SPEX_CHECK(check_columns(m, &t, "oracle.data", cfg->data, cfg->model, err));
    s->rows = t.rows;
    x = malloc(t.rows * (size_t)t.cols * sizeof *x);
    SPEX_ALLOC_CHECK(x, err, "validation rows");
    for (size_t r = 0; r < t.rows; r++)
        row_to_float(&t, r, x + r * (size_t)t.cols);
    SPEX_CHECK(value_setup(cfg, m, x, t.cols, t.y, t.y ? t.rows : 0, "oracle.data", &s->val, err));
    if (s->val.values && (m->transform == XF_UNKNOWN || s->val.width != m->groups)) {
        st = spex_error_set(err, SPEX_EUSAGE,
                            "oracle.kind = xgboost-trees cannot transform margins of objective %s; "
                            "use oracle.output = margin",
                            m->objective);
        goto out;
    }
    if (!s->val.values && s->val.width != m->groups) {
        st = spex_error_set(err, SPEX_EINPUT, "oracle.model = '%s': %d outputs but %d tree groups",
                            cfg->model, s->val.width, m->groups);
        goto out;
    }
    s->y = t.y;
    t.y = NULL;
    s->tfeat = malloc(((size_t)m->ntrees + 1) * sizeof *s->tfeat);
    s->kept = malloc(((size_t)m->ntrees + 1) * sizeof *s->kept);
    s->acc = malloc((size_t)m->groups * sizeof *s->acc);
    SPEX_ALLOC_CHECK(s->tfeat && s->kept && s->acc ? s->acc : NULL, err, "tree tables");
    for (int k = 0; k < m->ntrees; k++)
        s->tfeat[k] = (k / m->per_round) / cfg->tree_group;
    SPEX_CHECK(trees_cache(s, x, cfg->model, err));
out:
    free(x);
    table_free(&t);
    return st;
}

/* ---- creation ------------------------------------------------------------------ */

spex_status spex_oracle_xgboost_create(MPI_Comm comm, const spex_config *cfg, spex_oracle **out,
                                       spex_error *err)
{
    spex_status st = SPEX_OK;
    spex_oracle *o = calloc(1, sizeof *o);
    *out = NULL;
    if (o == NULL)
        return spex_error_set(err, SPEX_EINTERNAL, "out of memory creating the xgboost oracle");
    o->n = cfg->n;
    o->words = spex_mask_words(cfg->n);
    o->kind = spex_config_enum_name("oracle.kind", (int)cfg->oracle_kind);
    switch (cfg->oracle_kind) {
    case SPEX_ORACLE_XGBOOST:
        st = feat_create(cfg, o, err);
        break;
    case SPEX_ORACLE_XGBOOST_TRAIN:
        st = train_create(cfg, o, err);
        break;
    case SPEX_ORACLE_XGBOOST_TREES:
        st = trees_create(cfg, o, err);
        break;
    default:
        st = spex_error_set(err, SPEX_EINTERNAL, "oracle kind %d is not an XGBoost kind",
                            (int)cfg->oracle_kind);
    }
    if (st != SPEX_OK) {
        if (o->destroy != NULL)
            o->destroy(o);
        else
            free(o);
        return st;
    }
    *out = o;
    return SPEX_OK;
}
