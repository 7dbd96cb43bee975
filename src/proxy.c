/* proxy.c -- ProxySPEX (ALGORITHMS.md section 7, doc/proxyspex.md):
 * uniform random masks -> evaluate -> XGBoost proxy -> its exact Fourier
 * spectrum -> keep the largest terms -> refit them on the true samples.
 *
 * Parallel shape.  Samples are cut into chunks of SPEX_PROXY_ROW_CHUNK and
 * ranks own contiguous blocks of chunks: each generates and evaluates its
 * own samples and later builds its own rows of the refinement.  Training is
 * one XGBoost process: rank 0 gathers the samples (bit-packed, n/8 bytes
 * each), trains with its threads while the other ranks sleep (they poll a
 * non-blocking broadcast instead of spinning, so a rank sharing rank 0's
 * cores does not slow it), and broadcasts the model as JSON.  Every rank
 * parses it; ranks expand blocks of fixed tree chunks and the chunk sums are
 * added in chunk order, so the spectrum is the same on any number of ranks.
 *
 * The proxy reads a mask as a sparse row (set bit = 1.0, unset = missing):
 * see proxy.h.  The tree readers take the split's threshold and default
 * direction from the model for both values and never assume either.
 */
#define _GNU_SOURCE /* sched_getaffinity and CPU_COUNT: the CPUs rank 0 may use */

#include "spex/proxy.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xgboost/c_api.h>

#include "spex/eval.h"
#include "spex/mask.h"
#include "spex/refine.h"
#include "spex/rng.h"
#include "spex/run.h"
#include "spex/signal.h"

#define PATH_NODES 256             /* longest root-to-leaf path the parser accepts */
#define TREE_EXPANSION_MAX (1u << 22) /* leaf-subset pairs one tree may expand to */
#define AUTO_KEEP_MAX 2000         /* keep_terms = 0: samples / 10, at most this */
#define CSR_BATCH_ENTRIES (1u << 22) /* set bits per training batch handed to XGBoost */
#define MAX_BIN 2                  /* a feature takes one value (1.0) besides missing */
#define ROW_BLOCK 64               /* row chunks per pass of the refinement's Gram loop */

_Static_assert(sizeof(size_t) == 8, "CSR row pointers are passed to XGBoost as <u8");

/* ---- samples ------------------------------------------------------------------ */

void spex_proxy_mask(uint64_t seed, int n, uint64_t i, uint64_t *mask)
{
    size_t words = spex_mask_words(n), quads = (words + 3) / 4;
    uint64_t r[4];
    for (size_t w = 0; w < words; w++) {
        if (w % 4 == 0)
            spex_rng_u64x4(seed, SPEX_STREAM_UNIFORM, i * quads + w / 4, r);
        mask[w] = r[w % 4];
    }
    if (n % 64)
        mask[words - 1] &= ((uint64_t)1 << (n % 64)) - 1;
}

int spex_proxy_default_samples(int n)
{
    long s = 10L * n;
    return s < 1000 ? 1000 : s > 10000 ? 10000 : (int)s;
}

/* ---- the model ------------------------------------------------------------------ */

void spex_proxy_model_free(spex_proxy_model *m)
{
    free(m->root);
    free(m->left);
    free(m->right);
    free(m->feature);
    free(m->value);
    free(m->default_left);
    memset(m, 0, sizeof *m);
}

/* A JSON number, or a string holding one ("5E-1", XGBoost 2 writes "[5E-1]"). */
static int json_number(const cJSON *v, double *out)
{
    if (cJSON_IsNumber(v)) {
        *out = v->valuedouble;
        return 0;
    }
    if (!cJSON_IsString(v) || v->valuestring == NULL)
        return -1;
    const char *s = v->valuestring + (v->valuestring[0] == '[');
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (end == s || errno == ERANGE || (*end != '\0' && strcmp(end, "]") != 0))
        return -1;
    *out = d;
    return 0;
}

static const cJSON *json_path(const cJSON *o, const char *const *keys)
{
    for (; o != NULL && *keys != NULL; keys++)
        o = cJSON_GetObjectItemCaseSensitive(o, *keys);
    return o;
}

/* Reads array `name` of tree t: exactly count numbers into out. */
static spex_status tree_array(const cJSON *tree, int t, const char *name, size_t count, double *out,
                              spex_error *err)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(tree, name), *v;
    size_t i = 0;
    if (!cJSON_IsArray(arr))
        return spex_error_set(err, SPEX_EINPUT, "proxy model: tree %d has no array '%s'", t, name);
    cJSON_ArrayForEach(v, arr)
    {
        double d = 0;
        if (cJSON_IsBool(v))
            d = cJSON_IsTrue(v) ? 1 : 0;
        else if (i >= count || json_number(v, &d) != 0)
            return spex_error_set(err, SPEX_EINPUT, "proxy model: tree %d: '%s' is not %zu numbers",
                                  t, name, count);
        if (i < count)
            out[i] = d;
        i++;
    }
    if (i != count)
        return spex_error_set(err, SPEX_EINPUT,
                              "proxy model: tree %d: '%s' has %zu entries, not %zu", t, name, i,
                              count);
    return SPEX_OK;
}

/* A string from the model, fit for a one-line message: at most len - 1
 * bytes, anything but printable ASCII shown as '?'. */
static void printable(const char *s, char *buf, size_t len)
{
    size_t i = 0;
    for (; s[i] != '\0' && i + 1 < len; i++)
        buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    buf[i] = '\0';
}

/* The learner's scalar parameters: one output, base score, features. */
static spex_status parse_learner(const cJSON *root, spex_proxy_model *m, const cJSON **trees,
                                 spex_error *err)
{
    static const char *const param_path[] = {"learner", "learner_model_param", NULL};
    static const char *const gb_path[] = {"learner", "gradient_booster", NULL};
    static const char *const trees_path[] = {"model", "trees", NULL};
    const cJSON *param = json_path(root, param_path), *gb = json_path(root, gb_path);
    double base, nfeat, ncls = 0, ntarget = 1;
    if (param == NULL || gb == NULL)
        return spex_error_set(err, SPEX_EINPUT,
                              "proxy model: not an XGBoost JSON model (no learner parameters)");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(gb, "name");
    if (!cJSON_IsString(name) || strcmp(name->valuestring, "gbtree") != 0) {
        char shown[48];
        printable(cJSON_IsString(name) ? name->valuestring : "?", shown, sizeof shown);
        return spex_error_set(err, SPEX_EINPUT,
                              "proxy model: booster '%s' is not supported (only gbtree: dart "
                              "scales trees by dropout weights, gblinear has none)",
                              shown);
    }
    if (json_number(cJSON_GetObjectItemCaseSensitive(param, "base_score"), &base) != 0 ||
        json_number(cJSON_GetObjectItemCaseSensitive(param, "num_feature"), &nfeat) != 0)
        return spex_error_set(err, SPEX_EINPUT, "proxy model: no base_score or num_feature");
    json_number(cJSON_GetObjectItemCaseSensitive(param, "num_class"), &ncls);
    json_number(cJSON_GetObjectItemCaseSensitive(param, "num_target"), &ntarget);
    if (ncls > 1 || ntarget > 1)
        return spex_error_set(err, SPEX_EINPUT,
                              "proxy model: %g classes / %g targets; only single-output models",
                              ncls, ntarget);
    if (!(nfeat >= 0 && nfeat <= 2097151) || !isfinite(base))
        return spex_error_set(err, SPEX_EINPUT, "proxy model: bad num_feature or base_score");
    /* XGBoost keeps the base score as a float and adds it to the margin. */
    m->base_score = (double)(float)base;
    m->n_features = (int)nfeat;
    *trees = json_path(gb, trees_path);
    if (!cJSON_IsArray(*trees))
        return spex_error_set(err, SPEX_EINPUT, "proxy model: no trees array");
    return SPEX_OK;
}

/* Checks tree t (nodes [off, off + count)): children in range, every node
 * reached at most once from the root (no cycles, no sharing), paths of at
 * most PATH_NODES nodes. */
static spex_status check_tree(const spex_proxy_model *m, int t, size_t off, size_t count,
                              spex_error *err)
{
    spex_status st = SPEX_OK;
    size_t cap = 2 * count + 1, top = 0;
    uint8_t *seen = calloc(count, 1);
    size_t *stack = malloc(cap * sizeof *stack);
    int *depth = malloc(cap * sizeof *depth);
    if (seen == NULL || stack == NULL || depth == NULL) {
        st = spex_error_set(err, SPEX_EINTERNAL, "out of memory checking tree %d", t);
        goto out;
    }
    stack[top] = off;
    depth[top++] = 1;
    while (top > 0) {
        size_t i = stack[--top];
        int d = depth[top];
        if (seen[i - off]++) {
            st = spex_error_set(err, SPEX_EINPUT, "proxy model: tree %d: node %zu is reached twice",
                                t, i - off);
            goto out;
        }
        if (d > PATH_NODES) {
            st = spex_error_set(err, SPEX_EINPUT,
                                "proxy model: tree %d: a path longer than %d nodes", t, PATH_NODES);
            goto out;
        }
        if (m->left[i] < 0)
            continue;
        if (top + 2 > cap) {
            st = spex_error_set(err, SPEX_EINPUT, "proxy model: tree %d: malformed children", t);
            goto out;
        }
        stack[top] = (size_t)m->left[i];
        depth[top++] = d + 1;
        stack[top] = (size_t)m->right[i];
        depth[top++] = d + 1;
    }
out:
    free(seen);
    free(stack);
    free(depth);
    return st;
}

/* Reads tree t into nodes [off, off + count) of m. */
static spex_status parse_tree(const cJSON *tree, int t, size_t off, size_t count,
                              spex_proxy_model *m, double *tmp, spex_error *err)
{
    spex_status st = SPEX_OK;
    SPEX_CHECK(tree_array(tree, t, "left_children", count, tmp, err));
    for (size_t i = 0; i < count; i++) {
        if (tmp[i] >= (double)count || (tmp[i] < 0 && tmp[i] != -1) || tmp[i] != floor(tmp[i]))
            return spex_error_set(err, SPEX_EINPUT, "proxy model: tree %d: bad child of node %zu",
                                  t, i);
        m->left[off + i] = tmp[i] < 0 ? -1 : (int32_t)(off + (size_t)tmp[i]);
    }
    SPEX_CHECK(tree_array(tree, t, "right_children", count, tmp, err));
    for (size_t i = 0; i < count; i++) {
        if (tmp[i] >= (double)count || (tmp[i] < 0) != (m->left[off + i] < 0) ||
            tmp[i] != floor(tmp[i]))
            return spex_error_set(err, SPEX_EINPUT, "proxy model: tree %d: bad child of node %zu",
                                  t, i);
        m->right[off + i] = tmp[i] < 0 ? -1 : (int32_t)(off + (size_t)tmp[i]);
    }
    SPEX_CHECK(tree_array(tree, t, "split_indices", count, tmp, err));
    for (size_t i = 0; i < count; i++) {
        if (m->left[off + i] >= 0 && !(tmp[i] >= 0 && tmp[i] < m->n_features))
            return spex_error_set(err, SPEX_EINPUT,
                                  "proxy model: tree %d: node %zu splits on feature %g of %d", t, i,
                                  tmp[i], m->n_features);
        m->feature[off + i] = m->left[off + i] >= 0 ? (int32_t)tmp[i] : -1;
    }
    /* Thresholds and leaf values share one array, as in XGBoost's nodes. */
    SPEX_CHECK(tree_array(tree, t, "split_conditions", count, tmp, err));
    for (size_t i = 0; i < count; i++) {
        m->value[off + i] = (float)tmp[i];
        if (!isfinite(m->value[off + i]))
            return spex_error_set(err, SPEX_EINPUT, "proxy model: tree %d: node %zu value %g", t,
                                  i, tmp[i]);
    }
    SPEX_CHECK(tree_array(tree, t, "default_left", count, tmp, err));
    for (size_t i = 0; i < count; i++)
        m->default_left[off + i] = tmp[i] != 0;
    if (cJSON_GetObjectItemCaseSensitive(tree, "split_type") != NULL) {
        SPEX_CHECK(tree_array(tree, t, "split_type", count, tmp, err));
        for (size_t i = 0; i < count; i++)
            if (m->left[off + i] >= 0 && tmp[i] != 0)
                return spex_error_set(err, SPEX_EINPUT,
                                      "proxy model: tree %d: node %zu is a categorical split", t,
                                      i);
    }
    st = check_tree(m, t, off, count, err);
out:
    return st;
}

/* Number of nodes of a tree: the length of its left_children. */
static size_t tree_nodes(const cJSON *tree)
{
    return (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(tree, "left_children"));
}

spex_status spex_proxy_model_parse(const char *json, size_t len, int zero_missing,
                                   spex_proxy_model *m, spex_error *err)
{
    spex_status st = SPEX_OK;
    double *tmp = NULL;
    const cJSON *trees = NULL, *tree;
    memset(m, 0, sizeof *m);
    m->zero_missing = zero_missing;
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (root == NULL)
        return spex_error_set(err, SPEX_EINPUT, "proxy model: not valid JSON");
    SPEX_CHECK(parse_learner(root, m, &trees, err));
    size_t total = 0, most = 1;
    int t = 0;
    cJSON_ArrayForEach(tree, trees)
    {
        size_t c = tree_nodes(tree);
        if (c == 0) {
            st = spex_error_set(err, SPEX_EINPUT, "proxy model: tree %d has no nodes", t);
            goto out;
        }
        total += c;
        most = c > most ? c : most;
        t++;
    }
    if (total > INT32_MAX) {
        st = spex_error_set(err, SPEX_EINPUT, "proxy model: %zu nodes are too many", total);
        goto out;
    }
    m->n_trees = t;
    m->n_nodes = total;
    m->root = malloc(((size_t)t + 1) * sizeof *m->root);
    m->left = malloc((total + 1) * sizeof *m->left);
    m->right = malloc((total + 1) * sizeof *m->right);
    m->feature = malloc((total + 1) * sizeof *m->feature);
    m->value = malloc((total + 1) * sizeof *m->value);
    m->default_left = malloc(total + 1);
    tmp = malloc(most * sizeof *tmp);
    if (!m->root || !m->left || !m->right || !m->feature || !m->value || !m->default_left || !tmp) {
        st = spex_error_set(err, SPEX_EINTERNAL, "out of memory for a proxy model of %zu nodes",
                            total);
        goto out;
    }
    size_t off = 0;
    t = 0;
    cJSON_ArrayForEach(tree, trees)
    {
        size_t c = tree_nodes(tree);
        m->root[t] = off;
        SPEX_CHECK(parse_tree(tree, t, off, c, m, tmp, err));
        off += c;
        t++;
    }
out:
    cJSON_Delete(root);
    free(tmp);
    if (st != SPEX_OK)
        spex_proxy_model_free(m);
    return st;
}

/* The child of split node i when its feature's bit is `bit`: XGBoost goes
 * left when x < threshold and a missing value goes the default way. */
static size_t node_child(const spex_proxy_model *m, size_t i, int bit)
{
    int left;
    if (bit)
        left = 1.0f < m->value[i];
    else
        left = m->zero_missing ? m->default_left[i] : 0.0f < m->value[i];
    return (size_t)(left ? m->left[i] : m->right[i]);
}

/* The leaf value tree t gives the mask. */
static float tree_leaf(const spex_proxy_model *m, int t, const uint64_t *mask)
{
    size_t i = m->root[t];
    while (m->left[i] >= 0)
        i = node_child(m, i, spex_mask_get(mask, m->feature[i]));
    return m->value[i];
}

double spex_proxy_model_eval(const spex_proxy_model *m, const uint64_t *mask)
{
    double v = m->base_score;
    for (int t = 0; t < m->n_trees; t++)
        v += (double)tree_leaf(m, t, mask);
    return v;
}

/* ---- exact Fourier extraction ----------------------------------------------------- */

/* A term with its position in a fixed summation order. */
typedef struct keyed {
    spex_term t;
    uint64_t seq;
} keyed;

typedef struct keyed_list {
    keyed *e;
    size_t count, cap;
} keyed_list;

static int keyed_push(keyed_list *l, const spex_term *t)
{
    if (l->count == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 1024;
        keyed *e = realloc(l->e, cap * sizeof *e);
        if (e == NULL)
            return -1;
        l->e = e;
        l->cap = cap;
    }
    l->e[l->count].t = *t;
    l->e[l->count].seq = l->count;
    l->count++;
    return 0;
}

static int cmp_keyed(const void *pa, const void *pb)
{
    const keyed *a = pa, *b = pb;
    int c = spex_term_cmp_set(&a->t, &b->t);
    if (c != 0)
        return c;
    return (a->seq > b->seq) - (a->seq < b->seq);
}

/* Sorts by (set, seq) and sums each set's coefficients in seq order into
 * out (sorted by set); sums that are exactly zero are dropped.  The result
 * depends only on the entries and their seq, never on qsort's stability. */
static spex_status sum_by_set(keyed *e, size_t count, spex_spectrum *out, spex_error *err)
{
    spex_status st = SPEX_OK;
    spex_spectrum_init(out);
    if (count > 1)
        qsort(e, count, sizeof *e, cmp_keyed);
    for (size_t i = 0; i < count;) {
        spex_term acc = e[i].t;
        size_t j = i + 1;
        for (; j < count && spex_term_cmp_set(&e[j].t, &acc) == 0; j++)
            acc.coef += e[j].t.coef;
        if (acc.coef != 0.0)
            SPEX_CHECK(spex_spectrum_push(out, &acc, err));
        i = j;
    }
out:
    if (st != SPEX_OK)
        spex_spectrum_free(out);
    return st;
}

/* Depth-first expansion of one tree: the distinct constraints x_j = u_j on
 * the current path and the leaf-subset terms emitted so far. */
typedef struct expansion {
    const spex_proxy_model *m;
    int max_order;
    int depth;
    int32_t feat[PATH_NODES];
    uint8_t val[PATH_NODES];
    keyed_list out;
} expansion;

/* Emits leaf value v times the expansion of prod_j (1 + (-1)^u_j chi_j)/2
 * over the path's constraints, subsets of at most max_order features. */
static int expand_leaf(expansion *x, float v)
{
    int d = x->depth;
    int32_t f[PATH_NODES];
    uint8_t u[PATH_NODES];
    if (v == 0.0f)
        return 0;
    /* Sorted by feature, so that each subset comes out ascending. */
    for (int q = 0; q < d; q++) {
        int p = q;
        for (; p > 0 && f[p - 1] > x->feat[q]; p--) {
            f[p] = f[p - 1];
            u[p] = u[p - 1];
        }
        f[p] = x->feat[q];
        u[p] = x->val[q];
    }
    double base = ldexp((double)v, -d);
    int rmax = d < x->max_order ? d : x->max_order;
    spex_term t;
    memset(&t, 0, sizeof t);
    for (int r = 0; r <= rmax; r++) {
        int idx[SPEX_MAX_ORDER];
        for (int q = 0; q < r; q++)
            idx[q] = q;
        for (;;) {
            int sign = 0;
            t.order = r;
            for (int q = 0; q < r; q++) {
                t.feat[q] = f[idx[q]];
                sign ^= u[idx[q]];
            }
            t.coef = sign ? -base : base;
            if (x->out.count >= TREE_EXPANSION_MAX || keyed_push(&x->out, &t) != 0)
                return -1;
            int q = r - 1;
            while (q >= 0 && idx[q] == d - r + q)
                q--;
            if (q < 0)
                break;
            idx[q]++;
            for (int s = q + 1; s < r; s++)
                idx[s] = idx[s - 1] + 1;
        }
    }
    return 0;
}

static int expand_node(expansion *x, size_t i)
{
    const spex_proxy_model *m = x->m;
    if (m->left[i] < 0)
        return expand_leaf(x, m->value[i]);
    size_t b0 = node_child(m, i, 0), b1 = node_child(m, i, 1);
    if (b0 == b1) /* both values go one way: no constraint */
        return expand_node(x, b0);
    int32_t j = m->feature[i];
    /* A feature tested again: only the branch its first test allows. */
    for (int q = 0; q < x->depth; q++)
        if (x->feat[q] == j)
            return expand_node(x, x->val[q] ? b1 : b0);
    int q = x->depth++;
    x->feat[q] = j;
    x->val[q] = 0;
    int rc = expand_node(x, b0);
    x->val[q] = 1;
    if (rc == 0)
        rc = expand_node(x, b1);
    x->depth--;
    return rc;
}

spex_status spex_proxy_extract_trees(const spex_proxy_model *m, int lo, int hi, int max_order,
                                     spex_spectrum *out, spex_error *err)
{
    spex_status st = SPEX_OK;
    expansion *x = calloc(1, sizeof *x);
    keyed_list chunk = {NULL, 0, 0};
    spex_spectrum tree;
    spex_spectrum_init(&tree);
    spex_spectrum_init(out);
    SPEX_ALLOC_CHECK(x, err, "a tree expansion");
    x->m = m;
    x->max_order = max_order < SPEX_MAX_ORDER ? max_order : SPEX_MAX_ORDER;
    for (int t = lo; t < hi; t++) {
        x->depth = 0;
        x->out.count = 0;
        if (expand_node(x, m->root[t]) != 0) {
            st = spex_error_set(err, SPEX_EUSAGE,
                                "proxy tree %d expands to more than %u leaf terms (or memory ran "
                                "out): lower method.depth or method.max_order",
                                t, TREE_EXPANSION_MAX);
            goto out;
        }
        SPEX_CHECK(sum_by_set(x->out.e, x->out.count, &tree, err));
        /* Trees add in tree order: seq runs on across the chunk. */
        for (size_t k = 0; k < tree.count; k++)
            if (keyed_push(&chunk, &tree.terms[k]) != 0) {
                st = spex_error_set(err, SPEX_EINTERNAL, "out of memory expanding trees");
                goto out;
            }
        spex_spectrum_free(&tree);
    }
    st = sum_by_set(chunk.e, chunk.count, out, err);
out:
    if (x != NULL)
        free(x->out.e);
    free(x);
    free(chunk.e);
    spex_spectrum_free(&tree);
    return st;
}

spex_status spex_proxy_extract(MPI_Comm comm, const spex_proxy_model *m, int max_order,
                               spex_spectrum *out, spex_error *err)
{
    spex_status st = SPEX_OK;
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    spex_spectrum mine, part;
    spex_spectrum_init(&mine);
    spex_spectrum_init(&part);
    spex_spectrum_init(out);
    int *counts = calloc((size_t)size, sizeof *counts);
    int *displs = calloc((size_t)size, sizeof *displs);
    keyed *all = NULL;
    spex_term *gathered = NULL;
    if (counts == NULL || displs == NULL)
        spex_error_set(err, SPEX_EINTERNAL, "out of memory merging spectra");
    /* Chunks of trees, contiguous blocks of chunks per rank: gathered in
     * rank order they are in chunk order. */
    size_t chunks = ((size_t)m->n_trees + SPEX_PROXY_TREE_CHUNK - 1) / SPEX_PROXY_TREE_CHUNK;
    size_t clo, chi;
    spex_partition(chunks, rank, size, &clo, &chi);
    for (size_t c = clo; c < chi && err->code == SPEX_OK; c++) {
        int lo = (int)(c * SPEX_PROXY_TREE_CHUNK), hi = lo + SPEX_PROXY_TREE_CHUNK;
        hi = hi < m->n_trees ? hi : m->n_trees;
        if (spex_proxy_extract_trees(m, lo, hi, max_order, &part, err) != SPEX_OK)
            break;
        for (size_t k = 0; k < part.count && err->code == SPEX_OK; k++)
            spex_spectrum_push(&mine, &part.terms[k], err);
        spex_spectrum_free(&part);
    }
    if (mine.count * sizeof(spex_term) > (size_t)INT_MAX)
        spex_error_set(err, SPEX_EUSAGE, "the proxy's spectrum is too large to merge (%zu terms on "
                       "rank %d): lower method.depth, method.max_order or method.trees",
                       mine.count, rank);
    if (spex_error_agree(comm, err) != SPEX_OK) {
        st = err->code;
        goto out;
    }
    int bytes = (int)(mine.count * sizeof(spex_term));
    MPI_Allgather(&bytes, 1, MPI_INT, counts, 1, MPI_INT, comm);
    size_t total = 0;
    for (int q = 0; q < size; q++) {
        displs[q] = (int)total;
        total += (size_t)counts[q];
        if (total > (size_t)INT_MAX)
            spex_error_set(err, SPEX_EUSAGE, "the proxy's spectrum is too large to merge: lower "
                           "method.depth, method.max_order or method.trees");
    }
    size_t nterms = total / sizeof(spex_term);
    if (err->code == SPEX_OK) {
        gathered = malloc((nterms ? nterms : 1) * sizeof *gathered);
        all = malloc((nterms ? nterms : 1) * sizeof *all);
        if (gathered == NULL || all == NULL)
            spex_error_set(err, SPEX_EINTERNAL, "out of memory for %zu proxy terms", nterms);
    }
    if (spex_error_agree(comm, err) != SPEX_OK) {
        st = err->code;
        goto out;
    }
    MPI_Allgatherv(mine.terms, bytes, MPI_BYTE, gathered, counts, displs, MPI_BYTE, comm);
    for (size_t k = 0; k < nterms; k++) {
        all[k].t = gathered[k];
        all[k].seq = k;
    }
    free(gathered);
    gathered = NULL;
    st = sum_by_set(all, nterms, out, err);
    /* The base score joins the constant after the trees. */
    if (st == SPEX_OK && (out->count == 0 || out->terms[0].order != 0)) {
        spex_term c;
        memset(&c, 0, sizeof c);
        st = spex_spectrum_push(out, &c, err);
        if (st == SPEX_OK) {
            memmove(out->terms + 1, out->terms, (out->count - 1) * sizeof *out->terms);
            out->terms[0] = c;
        }
    }
    if (st == SPEX_OK)
        out->terms[0].coef += m->base_score;
out:
    spex_spectrum_free(&mine);
    spex_spectrum_free(&part);
    free(counts);
    free(displs);
    free(all);
    free(gathered);
    return spex_error_agree(comm, err);
}

/* ---- keeping the largest terms -------------------------------------------------- */

static int cmp_ranked(const void *pa, const void *pb)
{
    const spex_term *a = pa, *b = pb;
    double x = fabs(a->coef), y = fabs(b->coef);
    if (x != y)
        return x > y ? -1 : 1;
    return spex_term_cmp_set(a, b);
}

spex_status spex_proxy_select(const spex_spectrum *all, int keep_terms, double keep_energy,
                              spex_spectrum *kept, spex_error *err)
{
    spex_status st = SPEX_OK;
    spex_term *rest = malloc((all->count + 1) * sizeof *rest), c;
    spex_spectrum_init(kept);
    SPEX_ALLOC_CHECK(rest, err, "the proxy's terms");
    memset(&c, 0, sizeof c);
    size_t nr = 0;
    double total = 0;
    for (size_t i = 0; i < all->count; i++) {
        if (all->terms[i].order == 0)
            c = all->terms[i];
        else {
            rest[nr++] = all->terms[i];
            total += all->terms[i].coef * all->terms[i].coef;
        }
    }
    if (nr > 1)
        qsort(rest, nr, sizeof *rest, cmp_ranked);
    size_t k = nr;
    if (keep_energy < 1) {
        double acc = 0;
        for (k = 0; k < nr && acc < keep_energy * total; k++)
            acc += rest[k].coef * rest[k].coef;
    }
    if (keep_terms >= 0 && k > (size_t)keep_terms)
        k = (size_t)keep_terms;
    SPEX_CHECK(spex_spectrum_push(kept, &c, err));
    for (size_t i = 0; i < k; i++)
        SPEX_CHECK(spex_spectrum_push(kept, &rest[i], err));
    spex_spectrum_sort_by_set(kept);
out:
    free(rest);
    if (st != SPEX_OK)
        spex_spectrum_free(kept);
    return st;
}

/* ---- training ------------------------------------------------------------------------ */

/* XGBoost's last error, first line only (the rest is a stack trace). */
static spex_status xgb_error(spex_error *err, const char *what)
{
    const char *msg = XGBGetLastError();
    int len = (int)strcspn(msg ? msg : "", "\n");
    return spex_error_set(err, SPEX_EINTERNAL, "XGBoost %s failed: %.*s", what,
                          len > 400 ? 400 : len, msg ? msg : "");
}

#define XGB_CHECK(call, what)                                                  \
    do {                                                                       \
        if ((call) != 0) {                                                     \
            st = xgb_error(err, (what));                                       \
            goto out;                                                          \
        }                                                                      \
    } while (0)

/* Batches of rows [lo, hi) as CSR of the set bits, for XGBoost's iterator
 * interface: the quantized matrix is built batch by batch, so neither a
 * dense float copy (n floats per sample) nor a full CSR copy ever exists. */
typedef struct csr_iter {
    DMatrixHandle proxy;
    int n;
    size_t words, lo, hi, pos, batch;
    const uint64_t *masks;
    const float *label;
    size_t *indptr;
    uint32_t *indices;
    float *ones;
    int failed;
} csr_iter;

static void csr_reset(DataIterHandle h)
{
    csr_iter *it = h;
    it->pos = it->lo;
}

static void array_interface(char *buf, size_t len, const void *data, size_t count, const char *type)
{
    snprintf(buf, len, "{\"data\": [%" PRIuPTR ", true], \"shape\": [%zu], \"typestr\": \"%s\", "
                       "\"version\": 3}",
             (uintptr_t)data, count, type);
}

static int csr_next(DataIterHandle h)
{
    csr_iter *it = h;
    if (it->failed || it->pos >= it->hi)
        return 0;
    size_t cnt = it->hi - it->pos < it->batch ? it->hi - it->pos : it->batch, nnz = 0;
    for (size_t r = 0; r < cnt; r++) {
        const uint64_t *x = it->masks + (it->pos + r) * it->words;
        it->indptr[r] = nnz;
        for (size_t w = 0; w < it->words; w++)
            for (uint64_t bits = x[w]; bits; bits &= bits - 1)
                it->indices[nnz++] = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(bits));
    }
    it->indptr[cnt] = nnz;
    char ip[192], ix[192], iv[192];
    array_interface(ip, sizeof ip, it->indptr, cnt + 1, "<u8");
    array_interface(ix, sizeof ix, it->indices, nnz, "<u4");
    array_interface(iv, sizeof iv, it->ones, nnz, "<f4");
    if (XGProxyDMatrixSetDataCSR(it->proxy, ip, ix, iv, (bst_ulong)it->n) != 0 ||
        XGDMatrixSetFloatInfo(it->proxy, "label", it->label + it->pos, (bst_ulong)cnt) != 0) {
        it->failed = 1;
        return 0;
    }
    it->pos += cnt;
    return 1;
}

/* The held-out RMSE, one new tree per round.  After round r the new tree
 * alone is sliced off the booster (XGBoosterSlice), read with the same
 * parser as the final model and walked on the bit-packed held-out masks;
 * its leaf values are added to each row's running prediction.  A round thus
 * costs one tree times the held-out rows, whatever the number of rounds or
 * features (XGBoost's own prediction, even from its cache, rebuilds every
 * row's feature vector each round: O(set bits), 57 million entries a round
 * for 4,000 held-out rows of 28,501 features).  The squared errors are
 * summed in row order in double, so early stopping does not depend on
 * threads. */
typedef struct holdout_eval {
    size_t rows, words;
    const uint64_t *masks; /* the held-out rows */
    const double *y;
    double *pred;          /* running margin of each row (base score + trees) */
    double mean, var;      /* of y: for the held-out R^2 */
} holdout_eval;

static spex_status holdout_step(BoosterHandle b, int round, holdout_eval *h, double *rmse,
                                spex_error *err)
{
    spex_status st = SPEX_OK;
    BoosterHandle one = NULL;
    spex_proxy_model tree;
    memset(&tree, 0, sizeof tree);
    bst_ulong blen;
    const char *buf;
    XGB_CHECK(XGBoosterSlice(b, round, round + 1, 1, &one), "slicing the new tree");
    XGB_CHECK(XGBoosterSaveModelToBuffer(one, "{\"format\": \"json\"}", &blen, &buf),
              "saving the new tree");
    SPEX_CHECK(spex_proxy_model_parse(buf, (size_t)blen, 1, &tree, err));
    if (tree.n_trees != 1) {
        st = spex_error_set(err, SPEX_EINTERNAL, "round %d sliced to %d trees, not 1", round,
                            tree.n_trees);
        goto out;
    }
    double s = 0;
    for (size_t i = 0; i < h->rows; i++) {
        if (round == 0)
            h->pred[i] = tree.base_score;
        h->pred[i] += (double)tree_leaf(&tree, 0, h->masks + i * h->words);
        double e = h->pred[i] - h->y[i];
        s += e * e;
    }
    *rmse = sqrt(s / (double)h->rows);
out:
    spex_proxy_model_free(&tree);
    if (one)
        XGBoosterFree(one);
    return st;
}

static spex_status set_params(BoosterHandle b, const spex_proxy_params *p, double base,
                              spex_error *err)
{
    spex_status st = SPEX_OK;
    char depth[32], eta[32], threads[32], seed[32], bs[32], bins[32];
    snprintf(depth, sizeof depth, "%d", p->depth);
    snprintf(eta, sizeof eta, "%.17g", p->learning_rate);
    snprintf(threads, sizeof threads, "%d", p->threads);
    snprintf(seed, sizeof seed, "%d", (int)(p->seed % 2147483647u));
    snprintf(bs, sizeof bs, "%.9g", base);
    snprintf(bins, sizeof bins, "%d", MAX_BIN);
    const char *kv[][2] = {{"booster", "gbtree"},   {"objective", "reg:squarederror"},
                           {"tree_method", "hist"}, {"max_depth", depth},
                           {"eta", eta},            {"nthread", threads},
                           {"seed", seed},          {"base_score", bs},
                           {"max_bin", bins},       {"verbosity", "0"}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        XGB_CHECK(XGBoosterSetParam(b, kv[i][0], kv[i][1]), "setting a parameter");
out:
    return st;
}

/* Buffers and handles of one training. */
typedef struct trainer {
    const spex_proxy_params *p;
    csr_iter it;          /* batches for XGBoost's iterator */
    DMatrixHandle dtrain;
    BoosterHandle b;
} trainer;

static void trainer_release(trainer *t)
{
    if (t->b)
        XGBoosterFree(t->b);
    if (t->dtrain)
        XGDMatrixFree(t->dtrain);
    t->b = NULL;
    t->dtrain = NULL;
}

/* A booster over rows [lo, hi) (quantized, built batch by batch), boosting
 * from the mean of their values. */
static spex_status trainer_start(trainer *t, size_t lo, size_t hi, const double *y,
                                 spex_error *err)
{
    spex_status st = SPEX_OK;
    char conf[128];
    snprintf(conf, sizeof conf, "{\"missing\": NaN, \"nthread\": %d, \"max_bin\": %d}",
             t->p->threads, MAX_BIN);
    t->it.lo = t->it.pos = lo;
    t->it.hi = hi;
    XGB_CHECK(XGQuantileDMatrixCreateFromCallback(&t->it, t->it.proxy, NULL, csr_reset, csr_next,
                                                  conf, &t->dtrain),
              "building the training matrix");
    if (t->it.failed) {
        st = xgb_error(err, "reading a batch");
        goto out;
    }
    XGB_CHECK(XGBoosterCreate(&t->dtrain, 1, &t->b), "creating the booster");
    double base = 0;
    for (size_t i = lo; i < hi; i++)
        base += y[i];
    SPEX_CHECK(set_params(t->b, t->p, base / (double)(hi - lo), err));
out:
    return st;
}

/* A SIGTERM/SIGUSR1 (a Slurm time limit) stops training between rounds.
 * There is no checkpoint: a run is deterministic, so running it again
 * redoes the same work. */
static spex_status check_signal(int round, spex_error *err)
{
    int sig = spex_signal_pending();
    if (sig == 0)
        return SPEX_OK;
    return spex_error_set(err, SPEX_EINTERRUPTED,
                          "stopped by %s while training the proxy (round %d); proxyspex keeps no "
                          "checkpoint: run the same command again to start over",
                          spex_signal_name(sig), round);
}

/* Boosts on rows [0, rows - holdout), stopping when the held-out RMSE has
 * not improved for early_stopping rounds; fit->trees is the best round
 * count (all rounds without holdout). */
static spex_status boost_early_stopping(trainer *t, size_t rows, size_t holdout, size_t words,
                                        const uint64_t *masks, const double *y,
                                        spex_proxy_fit *fit, spex_error *err)
{
    spex_status st = SPEX_OK;
    size_t ntrain = rows - holdout;
    double best_rmse = INFINITY;
    int best_round = -1;
    holdout_eval h = {holdout, words, masks + ntrain * words, y + ntrain, NULL, 0, 0};
    if (holdout > 0) {
        SPEX_ALLOC_CHECK(h.pred = malloc(holdout * sizeof *h.pred), err, "held-out predictions");
        for (size_t i = 0; i < holdout; i++)
            h.mean += h.y[i];
        h.mean /= (double)holdout;
        for (size_t i = 0; i < holdout; i++)
            h.var += (h.y[i] - h.mean) * (h.y[i] - h.mean);
        h.var /= (double)holdout;
    }
    SPEX_CHECK(trainer_start(t, 0, ntrain, y, err));
    for (int r = 0; r < t->p->trees; r++) {
        SPEX_CHECK(check_signal(r, err));
        double t0 = spex_now();
        XGB_CHECK(XGBoosterUpdateOneIter(t->b, r, t->dtrain), "a boosting round");
        fit->boost_seconds += spex_now() - t0;
        fit->rounds = r + 1;
        if (holdout == 0)
            continue;
        double rmse = INFINITY;
        t0 = spex_now();
        SPEX_CHECK(holdout_step(t->b, r, &h, &rmse, err));
        fit->holdout_seconds += spex_now() - t0;
        if (rmse < best_rmse) {
            best_rmse = rmse;
            best_round = r;
        } else if (r - best_round >= t->p->early_stopping) {
            break;
        }
    }
    fit->trees = holdout > 0 ? best_round + 1 : fit->rounds;
    fit->holdout_rmse = holdout > 0 ? best_rmse : NAN;
    fit->holdout_r2 = holdout > 0 && h.var > 0 ? 1 - best_rmse * best_rmse / h.var : NAN;
out:
    free(h.pred);
    return st;
}

/* The model's JSON text (new memory), first `trees` rounds of b. */
static spex_status save_json(BoosterHandle b, int trees, int rounds, char **json, size_t *len,
                             spex_error *err)
{
    spex_status st = SPEX_OK;
    BoosterHandle part = NULL, keep = b;
    if (trees < rounds) {
        XGB_CHECK(XGBoosterSlice(b, 0, trees, 1, &part), "keeping the best rounds");
        keep = part;
    }
    bst_ulong blen;
    const char *buf;
    XGB_CHECK(XGBoosterSaveModelToBuffer(keep, "{\"format\": \"json\"}", &blen, &buf),
              "saving the model");
    *json = malloc((size_t)blen + 1);
    SPEX_ALLOC_CHECK(*json, err, "the model text");
    memcpy(*json, buf, (size_t)blen);
    (*json)[blen] = '\0';
    *len = (size_t)blen;
out:
    if (part)
        XGBoosterFree(part);
    return st;
}

spex_status spex_proxy_train(int n, size_t rows, size_t holdout, size_t words,
                             const uint64_t *masks, const double *y, const spex_proxy_params *p,
                             char **json, size_t *len, spex_proxy_fit *fit, spex_error *err)
{
    spex_status st = SPEX_OK;
    size_t batch = CSR_BATCH_ENTRIES / (size_t)n;
    batch = batch < 1 ? 1 : batch > 4096 ? 4096 : batch;
    float *label = malloc((rows + 1) * sizeof *label);
    size_t *indptr = malloc((batch + 1) * sizeof *indptr);
    uint32_t *indices = malloc(batch * (size_t)n * sizeof *indices);
    float *ones = malloc(batch * (size_t)n * sizeof *ones);
    trainer t;
    memset(&t, 0, sizeof t);
    *json = NULL;
    *len = 0;
    double t_start = spex_now();
    memset(fit, 0, sizeof *fit);
    fit->holdout_rmse = fit->holdout_r2 = NAN;
    if (!label || !indptr || !indices || !ones) {
        st = spex_error_set(err, SPEX_EINTERNAL, "out of memory for training batches");
        goto out;
    }
    for (size_t i = 0; i < rows; i++)
        label[i] = (float)y[i];
    for (size_t i = 0; i < batch * (size_t)n; i++)
        ones[i] = 1.0f;
    t.p = p;
    csr_iter it = {NULL, n, words, 0, 0, 0, batch, masks, label, indptr, indices, ones, 0};
    t.it = it;
    XGB_CHECK(XGProxyDMatrixCreate(&t.it.proxy), "creating a proxy DMatrix");
    SPEX_CHECK(boost_early_stopping(&t, rows, holdout, words, masks, y, fit, err));
    if (holdout == 0 || !p->retrain) {
        st = save_json(t.b, fit->trees, fit->rounds, json, len, err);
        goto out;
    }
    /* The held-out samples have chosen the number of rounds; now they
     * train too (the refit uses every sample as well). */
    trainer_release(&t);
    SPEX_CHECK(trainer_start(&t, 0, rows, y, err));
    for (int r = 0; r < fit->trees; r++) {
        SPEX_CHECK(check_signal(r, err));
        double t0 = spex_now();
        XGB_CHECK(XGBoosterUpdateOneIter(t.b, r, t.dtrain), "a boosting round");
        fit->boost_seconds += spex_now() - t0;
    }
    fit->retrained = 1;
    st = save_json(t.b, fit->trees, fit->trees, json, len, err);
out:
    fit->train_seconds = spex_now() - t_start;
    trainer_release(&t);
    if (t.it.proxy)
        XGDMatrixFree(t.it.proxy);
    free(label);
    free(indptr);
    free(indices);
    free(ones);
    return st;
}

/* ---- refinement ---------------------------------------------------------------------- */

static inline int popcount64(uint64_t x)
{
    x = x - ((x >> 1) & 0x5555555555555555ULL);
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
    return (int)((x * 0x0101010101010101ULL) >> 56);
}

/* This rank's part of the normal equations.  A column of the +-1 design
 * matrix over one chunk of rows is one word of parity bits.  With integer
 * row weights w_q split into bit slices (slice[c][s] holds bit s of every
 * row's weight; unit weights are one slice, the rows present),
 * (A^T W A)_{k,k'} over the chunk is W_c - 2 sum_s 2^s popcount(slice_s &
 * (col_k ^ col_k')), W_c the chunk's total weight: an integer (exact,
 * whatever the reduction order).  part[c K + k] is sum_{q in chunk c} w_q
 * chi_k(x_q) y_q, summed in row order. */
static void refine_local(size_t count, size_t words, const uint64_t *masks, const double *y,
                         const uint32_t *w, int nslices, const spex_spectrum *terms,
                         int64_t *gram, double *part, uint64_t *col)
{
    size_t K = terms->count, nch = (count + SPEX_PROXY_ROW_CHUNK - 1) / SPEX_PROXY_ROW_CHUNK;
    int64_t total[ROW_BLOCK];
    uint64_t slice[ROW_BLOCK][SPEX_PROXY_WEIGHT_BITS];
    for (size_t c0 = 0; c0 < nch; c0 += ROW_BLOCK) {
        size_t nb = nch - c0 < ROW_BLOCK ? nch - c0 : ROW_BLOCK;
        memset(col, 0, K * nb * sizeof *col);
        memset(slice, 0, sizeof slice);
        for (size_t c = 0; c < nb; c++) {
            size_t r0 = (c0 + c) * SPEX_PROXY_ROW_CHUNK, r1 = r0 + SPEX_PROXY_ROW_CHUNK;
            r1 = r1 < count ? r1 : count;
            total[c] = 0;
            double *pc = part + (c0 + c) * K;
            for (size_t r = r0; r < r1; r++) {
                const uint64_t *x = masks + r * words;
                uint64_t bit = (uint64_t)1 << (r - r0);
                uint32_t wr = w ? w[r] : 1;
                double wy = (double)wr * y[r];
                total[c] += wr;
                for (int s = 0; s < nslices; s++)
                    if ((wr >> s) & 1)
                        slice[c][s] |= bit;
                for (size_t k = 0; k < K; k++) {
                    const spex_term *t = &terms->terms[k];
                    if (spex_mask_parity(x, t->feat, t->order)) {
                        col[k * nb + c] |= bit;
                        pc[k] -= wy;
                    } else {
                        pc[k] += wy;
                    }
                }
            }
        }
        size_t at = 0;
        for (size_t k = 0; k < K; k++) {
            const uint64_t *a = col + k * nb;
            for (size_t k2 = 0; k2 <= k; k2++) {
                const uint64_t *b = col + k2 * nb;
                int64_t acc = 0;
                for (size_t c = 0; c < nb; c++) {
                    uint64_t diff = a[c] ^ b[c];
                    int64_t off = 0;
                    for (int s = 0; s < nslices; s++)
                        off += (int64_t)popcount64(slice[c][s] & diff) << s;
                    acc += total[c] - 2 * off;
                }
                gram[at++] += acc;
            }
        }
    }
}

/* r <- r - G x for the symmetric G given by its packed lower triangle g
 * (row k: entries (k, 0..k)), accumulated in long double. */
static void residual(size_t K, const double *g, const double *x, double *r)
{
    for (size_t k = 0; k < K; k++) {
        long double acc = r[k];
        const double *row = g + k * (k + 1) / 2;
        for (size_t j = 0; j <= k; j++)
            acc -= (long double)row[j] * x[j];
        for (size_t j = k + 1; j < K; j++)
            acc -= (long double)g[j * (j + 1) / 2 + k] * x[j];
        r[k] = (double)acc;
    }
}

spex_status spex_proxy_refine(MPI_Comm comm, size_t first, size_t count, size_t words,
                              const uint64_t *masks, const double *y, double lambda,
                              spex_spectrum *terms, spex_error *err)
{
    return spex_proxy_refine_weighted(comm, first, count, words, masks, y, NULL, lambda, terms,
                                      err);
}

spex_status spex_proxy_refine_weighted(MPI_Comm comm, size_t first, size_t count, size_t words,
                                       const uint64_t *masks, const double *y, const uint32_t *w,
                                       double lambda, spex_spectrum *terms, spex_error *err)
{
    spex_status st = SPEX_OK;
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    size_t K = terms->count, tri = K * (K + 1) / 2;
    size_t nch = (count + SPEX_PROXY_ROW_CHUNK - 1) / SPEX_PROXY_ROW_CHUNK;
    int64_t *gram = NULL;
    double *part = NULL, *chunks = NULL, *rhs = NULL, *gv = NULL, *x = NULL;
    uint64_t *col = NULL;
    int *gi = NULL, *gj = NULL, *counts = NULL, *displs = NULL;
    /* Bit slices of the weights: as many as the largest weight needs. */
    uint32_t wmax = w ? 0 : 1;
    for (size_t r = 0; w && r < count; r++)
        wmax = w[r] > wmax ? w[r] : wmax;
    MPI_Allreduce(MPI_IN_PLACE, &wmax, 1, MPI_UINT32_T, MPI_MAX, comm);
    int nslices = 0;
    while (nslices < 32 && (wmax >> nslices) != 0)
        nslices++;
    if (K > SPEX_PROXY_REFINE_TERMS_MAX)
        spex_error_set(err, SPEX_EUSAGE, "refining %zu terms is more than %d: lower "
                       "method.keep_terms", K, SPEX_PROXY_REFINE_TERMS_MAX);
    else if (nslices > SPEX_PROXY_WEIGHT_BITS)
        spex_error_set(err, SPEX_EINTERNAL, "refinement weight %" PRIu32 " has more than %d bits",
                       wmax, SPEX_PROXY_WEIGHT_BITS);
    else if (count > 0 && first % SPEX_PROXY_ROW_CHUNK != 0)
        spex_error_set(err, SPEX_EINTERNAL, "refinement rows start at %zu, not a chunk boundary",
                       first);
    if (spex_error_agree(comm, err) != SPEX_OK)
        return err->code;
    if (K == 0)
        return SPEX_OK;
    /* total_rows: the total weight (the row count for unit weights). */
    uint64_t rows = 0, total_rows = 0, total_chunks = 0, mych = nch;
    for (size_t r = 0; r < count; r++)
        rows += w ? w[r] : 1;
    MPI_Allreduce(&rows, &total_rows, 1, MPI_UINT64_T, MPI_SUM, comm);
    MPI_Allreduce(&mych, &total_chunks, 1, MPI_UINT64_T, MPI_SUM, comm);
    gram = calloc(tri, sizeof *gram);
    part = calloc(nch * K + 1, sizeof *part);
    col = malloc(K * ROW_BLOCK * sizeof *col);
    rhs = malloc(K * sizeof *rhs);
    counts = malloc((size_t)size * sizeof *counts);
    displs = malloc((size_t)size * sizeof *displs);
    if (rank == 0)
        chunks = malloc(((size_t)total_chunks * K + 1) * sizeof *chunks);
    if (!gram || !part || !col || !rhs || !counts || !displs || (rank == 0 && !chunks))
        spex_error_set(err, SPEX_EINTERNAL, "out of memory refining %zu terms", K);
    else if ((size_t)total_chunks * K > (size_t)INT_MAX || tri > (size_t)INT_MAX)
        spex_error_set(err, SPEX_EUSAGE, "refining %zu terms over %" PRIu64 " samples is too large "
                       "a reduction: lower method.keep_terms", K, total_rows);
    if (spex_error_agree(comm, err) != SPEX_OK) {
        st = err->code;
        goto out;
    }
    refine_local(count, words, masks, y, w, nslices, terms, gram, part, col);
    MPI_Allreduce(MPI_IN_PLACE, gram, (int)tri, MPI_INT64_T, MPI_SUM, comm);

    /* Chunk sums to rank 0 in rank order (= chunk order), added in order. */
    int mine = (int)(nch * K);
    MPI_Gather(&mine, 1, MPI_INT, counts, 1, MPI_INT, 0, comm);
    if (rank == 0)
        for (int q = 0, at = 0; q < size; q++) {
            displs[q] = at;
            at += counts[q];
        }
    MPI_Gatherv(part, mine, MPI_DOUBLE, chunks, counts, displs, MPI_DOUBLE, 0, comm);
    if (rank == 0)
        for (size_t k = 0; k < K; k++) {
            double acc = 0;
            for (size_t c = 0; c < (size_t)total_chunks; c++)
                acc += chunks[c * K + k];
            rhs[k] = acc;
        }
    MPI_Bcast(rhs, (int)K, MPI_DOUBLE, 0, comm);

    gi = malloc(tri * sizeof *gi);
    gj = malloc(tri * sizeof *gj);
    gv = malloc(tri * sizeof *gv);
    x = malloc(K * sizeof *x);
    if (!gi || !gj || !gv || !x)
        spex_error_set(err, SPEX_EINTERNAL, "out of memory for a %zu x %zu Gram matrix", K, K);
    if (spex_error_agree(comm, err) != SPEX_OK) {
        st = err->code;
        goto out;
    }
    size_t at = 0;
    for (size_t k = 0; k < K; k++)
        for (size_t k2 = 0; k2 <= k; k2++, at++) {
            gi[at] = (int)k;
            gj[at] = (int)k2;
            gv[at] = (double)gram[at] + (k == k2 ? lambda * (double)total_rows : 0.0);
        }
    memcpy(x, rhs, K * sizeof *x);
    SPEX_CHECK(spex_refine_solve(comm, (int)K, tri, gi, gj, gv, x, err));
    /* One step of iterative refinement, the residual summed in long double
     * in a fixed order: pdposv's rounding depends on the process grid, and
     * this makes each coefficient the same on any number of ranks to about
     * 1e-15 of itself rather than of the largest. */
    residual(K, gv, x, rhs);
    SPEX_CHECK(spex_refine_solve(comm, (int)K, tri, gi, gj, gv, rhs, err));
    for (size_t k = 0; k < K; k++)
        terms->terms[k].coef = x[k] + rhs[k];
out:
    free(gram);
    free(part);
    free(chunks);
    free(col);
    free(rhs);
    free(x);
    free(gi);
    free(gj);
    free(gv);
    free(counts);
    free(displs);
    return spex_error_agree(comm, err);
}

/* ---- the pipeline -------------------------------------------------------------------- */

/* What a run derives from the study, identical on every rank. */
typedef struct proxy_plan {
    size_t m, h;          /* samples, held out */
    size_t words;
    size_t lo, hi;        /* this rank's samples */
    int depth, order;     /* tree depth, largest order kept */
    int keep;             /* most non-constant terms kept */
    int threads;          /* XGBoost threads on rank 0 */
    int node_ranks;       /* ranks on rank 0's node (their CPUs train) */
    int widen;            /* rank 0: train on train_cpus instead of its own mask */
    cpu_set_t train_cpus; /* rank 0: its CPUs and those of the ranks on its node */
} proxy_plan;

/* A positive integer from the environment, or 0. */
static int env_count(const char *name)
{
    const char *v = getenv(name);
    char *end;
    if (v == NULL || *v == '\0')
        return 0;
    errno = 0;
    long c = strtol(v, &end, 10);
    return errno == 0 && *end == '\0' && c > 0 && c <= 1 << 20 ? (int)c : 0;
}

/* Collective.  Training threads (set on every rank; the CPUs on rank 0).
 * method.threads > 0 is used as given.  Otherwise rank 0 trains on the
 * CPUs of every rank on its node: they only wait while it trains, and
 * mpirun binds each rank to its own core (Slurm gives each task its
 * cpus-per-task), so rank 0's own mask alone would be one core.  The union
 * of the node's affinity masks is counted, at most SLURM_CPUS_PER_TASK per
 * node rank when Slurm says so. */
static void plan_threads(MPI_Comm comm, const spex_config *cfg, proxy_plan *pl)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm node;
    MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
    int node_rank, node_size;
    MPI_Comm_rank(node, &node_rank);
    MPI_Comm_size(node, &node_size);
    /* Rank 0 is rank 0 of its node (split keeps the order); only its node's
     * reduction is used. */
    cpu_set_t mine;
    CPU_ZERO(&mine);
    if (sched_getaffinity(0, sizeof mine, &mine) != 0)
        CPU_ZERO(&mine);
    CPU_ZERO(&pl->train_cpus);
    MPI_Reduce(&mine, &pl->train_cpus, (int)sizeof mine, MPI_BYTE, MPI_BOR, 0, node);
    MPI_Comm_free(&node);
    if (rank == 0) {
        pl->node_ranks = node_size;
        int cpus = CPU_COUNT(&pl->train_cpus), own = CPU_COUNT(&mine);
        if (cpus <= 0 || own <= 0) {
            long c = sysconf(_SC_NPROCESSORS_ONLN);
            cpus = c > 0 ? (int)c : 1;
        } else {
            pl->widen = cpus > own;
        }
        int per_task = env_count("SLURM_CPUS_PER_TASK");
        if (per_task > 0 && cpus > per_task * node_size)
            cpus = per_task * node_size;
        pl->threads = cfg->threads > 0 ? cfg->threads : cpus;
        if (cfg->threads > 0)
            pl->widen = 0;
    }
    /* Rank 0 decides, everyone learns it. */
    MPI_Bcast(&pl->threads, 1, MPI_INT, 0, comm);
    MPI_Bcast(&pl->node_ranks, 1, MPI_INT, 0, comm);
}

void spex_proxy_row_block(size_t m, int q, int size, size_t *lo, size_t *hi)
{
    size_t chunks = (m + SPEX_PROXY_ROW_CHUNK - 1) / SPEX_PROXY_ROW_CHUNK, clo, chi;
    spex_partition(chunks, q, size, &clo, &chi);
    *lo = clo * SPEX_PROXY_ROW_CHUNK;
    *hi = chi * SPEX_PROXY_ROW_CHUNK < m ? chi * SPEX_PROXY_ROW_CHUNK : m;
    *lo = *lo < *hi ? *lo : *hi;
}

static spex_status make_plan(MPI_Comm comm, const spex_config *cfg, proxy_plan *pl,
                             spex_error *err)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    pl->m = (size_t)(cfg->samples > 0 ? cfg->samples : spex_proxy_default_samples(cfg->n));
    pl->h = (size_t)floor(cfg->holdout * (double)pl->m);
    pl->words = spex_mask_words(cfg->n);
    pl->depth = cfg->depth > 0 ? cfg->depth : cfg->max_order;
    pl->order = cfg->max_order;
    pl->keep = cfg->keep_terms > 0 ? cfg->keep_terms
                                   : (int)(pl->m / 10 < AUTO_KEEP_MAX ? pl->m / 10 : AUTO_KEEP_MAX);
    plan_threads(comm, cfg, pl);
    spex_proxy_row_block(pl->m, rank, size, &pl->lo, &pl->hi);
    if (cfg->holdout > 0 && pl->h < SPEX_PROXY_MIN_ROWS)
        return spex_error_set(err, SPEX_EUSAGE,
                              "method.samples = %zu with method.holdout = %g holds out %zu "
                              "samples; early stopping needs at least %d: raise method.samples or "
                              "set method.holdout = 0",
                              pl->m, cfg->holdout, pl->h, SPEX_PROXY_MIN_ROWS);
    if (pl->m - pl->h < SPEX_PROXY_MIN_ROWS)
        return spex_error_set(err, SPEX_EUSAGE,
                              "method.samples = %zu leaves %zu samples to train on; at least %d "
                              "are needed",
                              pl->m, pl->m - pl->h, SPEX_PROXY_MIN_ROWS);
    /* Rank 0 holds every sample (bit-packed) and XGBoost's matrices: about
     * 9 bytes per set bit in all (measured), and half the bits are set. */
    double need = 8.0 * (double)pl->m * (double)pl->words +
                  9.0 * 0.5 * (double)pl->m * (double)cfg->n;
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    double have = pages > 0 && page > 0 ? (double)pages * (double)page : 0;
    if (have > 0 && need > 0.8 * have)
        return spex_error_set(err, SPEX_EUSAGE,
                              "training on %zu samples of %d features needs about %.1f GiB on rank "
                              "0, this node has %.1f GiB: lower method.samples",
                              pl->m, cfg->n, need / 1073741824.0, have / 1073741824.0);
    if (pl->m * pl->words > (size_t)INT_MAX)
        return spex_error_set(err, SPEX_EUSAGE,
                              "method.samples = %zu masks of %d features are too many to gather "
                              "for training",
                              pl->m, cfg->n);
    return SPEX_OK;
}

/* This rank's samples, evaluated in batches; query id = sample index. */
static spex_status evaluate(const spex_config *cfg, const proxy_plan *pl, spex_oracle *o,
                            const spex_log *log, const uint64_t *masks, double *vals,
                            spex_error *err)
{
    spex_status st = SPEX_OK;
    size_t nb = (size_t)cfg->batch, mine = pl->hi - pl->lo;
    spex_progress prog;
    spex_progress_start(&prog, log, "evaluate", (double)pl->m);
    for (size_t i0 = pl->lo; i0 < pl->hi; i0 += nb) {
        size_t cnt = pl->hi - i0 < nb ? pl->hi - i0 : nb;
        SPEX_CHECK(spex_oracle_eval(o, cnt, masks + (i0 - pl->lo) * pl->words, i0,
                                    vals + (i0 - pl->lo), err));
        int sig = spex_signal_pending();
        if (sig != 0) {
            st = spex_error_set(err, SPEX_EINTERRUPTED,
                                "stopped by %s while evaluating samples; proxyspex keeps no "
                                "checkpoint: run the same command again to start over",
                                spex_signal_name(sig));
            goto out;
        }
        if (mine > 0)
            spex_progress_update(&prog, (double)(i0 + cnt - pl->lo) * (double)pl->m / (double)mine);
    }
out:
    return st;
}

/* Waits for req without spinning: a waiting rank may share rank 0's cores,
 * and Open MPI's blocking collectives poll at full speed. */
static void wait_idle(MPI_Request *req)
{
    struct timespec pause = {0, 2000000};
    int done = 0;
    for (;;) {
        MPI_Test(req, &done, MPI_STATUS_IGNORE);
        if (done)
            return;
        nanosleep(&pause, NULL);
    }
}

/* Gathers every sample to rank 0, trains there and broadcasts the model
 * (JSON text, NUL-terminated) to every rank. */
static spex_status train_on_root(MPI_Comm comm, const spex_config *cfg, const proxy_plan *pl,
                                 const uint64_t *masks, const double *vals, char **json,
                                 size_t *len, spex_proxy_fit *fit, spex_error *err)
{
    spex_status st = SPEX_OK;
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    uint64_t *all_masks = NULL;
    double *all_vals = NULL;
    int *cm = malloc((size_t)size * sizeof *cm), *dm = malloc((size_t)size * sizeof *dm);
    int *cv = malloc((size_t)size * sizeof *cv), *dv = malloc((size_t)size * sizeof *dv);
    *json = NULL;
    *len = 0;
    if (rank == 0) {
        all_masks = malloc((pl->m * pl->words + 1) * sizeof *all_masks);
        all_vals = malloc((pl->m + 1) * sizeof *all_vals);
    }
    if (!cm || !dm || !cv || !dv || (rank == 0 && (!all_masks || !all_vals)))
        spex_error_set(err, SPEX_EINTERNAL, "out of memory gathering %zu samples", pl->m);
    if (spex_error_agree(comm, err) != SPEX_OK) {
        st = err->code;
        goto out;
    }
    for (int q = 0; q < size; q++) {
        size_t lo, hi;
        spex_proxy_row_block(pl->m, q, size, &lo, &hi);
        cm[q] = (int)((hi - lo) * pl->words);
        dm[q] = (int)(lo * pl->words);
        cv[q] = (int)(hi - lo);
        dv[q] = (int)lo;
    }
    MPI_Gatherv(masks, cm[rank], MPI_UINT64_T, all_masks, cm, dm, MPI_UINT64_T, 0, comm);
    MPI_Gatherv(vals, cv[rank], MPI_DOUBLE, all_vals, cv, dv, MPI_DOUBLE, 0, comm);

    int64_t head[2] = {0, 0}; /* status, model length */
    if (rank == 0) {
        spex_proxy_params p = {pl->depth, cfg->trees, cfg->early_stopping, pl->threads,
                               cfg->retrain, cfg->learning_rate, (uint64_t)cfg->seed};
        /* Train on the node's CPUs (threads inherit the mask), then give
         * them back. */
        cpu_set_t own;
        int widened = pl->widen && sched_getaffinity(0, sizeof own, &own) == 0 &&
                      sched_setaffinity(0, sizeof pl->train_cpus, &pl->train_cpus) == 0;
        st = spex_proxy_train(cfg->n, pl->m, pl->h, pl->words, all_masks, all_vals, &p, json, len,
                              fit, err);
        if (widened)
            sched_setaffinity(0, sizeof own, &own);
        if (st == SPEX_OK && *len >= (size_t)INT_MAX)
            st = spex_error_set(err, SPEX_EUSAGE, "the proxy model is over 2 GiB of JSON: lower "
                                "method.trees");
        head[0] = st;
        head[1] = (int64_t)*len;
        free(all_masks);
        free(all_vals);
        all_masks = NULL;
        all_vals = NULL;
    }
    MPI_Request req;
    MPI_Ibcast(head, 2, MPI_INT64_T, 0, comm, &req);
    wait_idle(&req);
    if (head[0] != SPEX_OK && rank != 0)
        spex_error_set(err, (spex_status)head[0], "training failed on rank 0");
    if (spex_error_agree(comm, err) != SPEX_OK) {
        st = err->code;
        goto out;
    }
    MPI_Bcast(fit, (int)sizeof *fit, MPI_BYTE, 0, comm);
    *len = (size_t)head[1];
    if (rank != 0 && (*json = malloc(*len + 1)) == NULL)
        spex_error_set(err, SPEX_EINTERNAL, "out of memory for the proxy model");
    if (spex_error_agree(comm, err) != SPEX_OK) {
        st = err->code;
        goto out;
    }
    MPI_Bcast(*json, (int)*len + 1, MPI_CHAR, 0, comm);
out:
    free(all_masks);
    free(all_vals);
    free(cm);
    free(dm);
    free(cv);
    free(dv);
    return st;
}

static spex_status copy_spectrum(const spex_spectrum *from, spex_spectrum *to, spex_error *err)
{
    spex_status st = SPEX_OK;
    spex_spectrum_init(to);
    for (size_t i = 0; i < from->count && st == SPEX_OK; i++)
        st = spex_spectrum_push(to, &from->terms[i], err);
    return st;
}

/* Residual stage (method.stages >= 2): a new proxy trained on what the
 * refit so far leaves of each sample, y - sum_k a_k chi_k(x).  Terms the
 * first proxy missed stand out there: the refit has removed the terms it
 * found, so their signal is measured against a much smaller residual
 * variance.  Its largest terms join the support; all are refitted on y, and
 * when more than pl->keep are then held, the largest pl->keep of the refit
 * are kept and refitted again.  The residual of a sample is summed over the
 * terms in their fixed order, so it is the same on any number of ranks. */
static spex_status residual_stage(MPI_Comm comm, const spex_config *cfg, const proxy_plan *pl,
                                  const uint64_t *masks, const double *vals, spex_result *res,
                                  spex_proxy_fit *total, spex_error *err)
{
    spex_status st = SPEX_OK;
    size_t mine = pl->hi - pl->lo;
    double *resid = malloc((mine + 1) * sizeof *resid);
    double lambda = cfg->refine == SPEX_REFINE_RIDGE ? cfg->ridge_lambda : 0.0;
    char *json = NULL;
    size_t len = 0;
    spex_proxy_model model;
    spex_proxy_fit fit;
    spex_spectrum full, add, merged, pruned;
    memset(&model, 0, sizeof model);
    spex_spectrum_init(&full);
    spex_spectrum_init(&add);
    spex_spectrum_init(&merged);
    spex_spectrum_init(&pruned);
    if (resid == NULL)
        spex_error_set(err, SPEX_EINTERNAL, "out of memory for %zu residuals", mine);
    if (spex_error_agree(comm, err) != SPEX_OK)
        goto fail;
    for (size_t i = 0; i < mine; i++) {
        const uint64_t *x = masks + i * pl->words;
        double r = vals[i];
        for (size_t k = 0; k < res->fourier.count; k++) {
            const spex_term *t = &res->fourier.terms[k];
            r -= spex_mask_parity(x, t->feat, t->order) ? -t->coef : t->coef;
        }
        resid[i] = r;
    }
    SPEX_CHECK(train_on_root(comm, cfg, pl, masks, resid, &json, &len, &fit, err));
    spex_proxy_model_parse(json, len, 1, &model, err);
    if (spex_error_agree(comm, err) != SPEX_OK)
        goto fail;
    total->rounds += fit.rounds;
    total->trees += fit.trees;
    total->train_seconds += fit.train_seconds;
    total->boost_seconds += fit.boost_seconds;
    total->holdout_seconds += fit.holdout_seconds;
    SPEX_CHECK(spex_proxy_extract(comm, &model, pl->order, &full, err));
    spex_proxy_select(&full, pl->keep, cfg->keep_energy, &add, err);
    for (size_t k = 0; k < res->fourier.count && err->code == SPEX_OK; k++)
        spex_spectrum_push(&merged, &res->fourier.terms[k], err);
    spex_spectrum_sort_by_set(&merged);
    size_t held = merged.count;
    for (size_t k = 0; k < add.count && err->code == SPEX_OK; k++) {
        spex_spectrum sorted = merged; /* the sorted part: the terms held before */
        sorted.count = held;
        if (spex_spectrum_find(&sorted, &add.terms[k]) < 0)
            spex_spectrum_push(&merged, &add.terms[k], err);
    }
    spex_spectrum_sort_by_set(&merged);
    if (spex_error_agree(comm, err) != SPEX_OK)
        goto fail;
    /* Only the support matters to least squares: every coefficient is refitted. */
    SPEX_CHECK(spex_proxy_refine(comm, pl->lo, mine, pl->words, masks, vals, lambda, &merged,
                                 err));
    if (merged.count > (size_t)pl->keep + 1) {
        spex_proxy_select(&merged, pl->keep, 1.0, &pruned, err);
        if (spex_error_agree(comm, err) != SPEX_OK)
            goto fail;
        SPEX_CHECK(spex_proxy_refine(comm, pl->lo, mine, pl->words, masks, vals, lambda, &pruned,
                                     err));
        spex_spectrum_free(&merged);
        merged = pruned;
        spex_spectrum_init(&pruned);
    }
    spex_spectrum_free(&res->fourier);
    res->fourier = merged;
    spex_spectrum_init(&merged);
    goto out;
fail:
    st = err->code;
out:
    free(resid);
    free(json);
    spex_proxy_model_free(&model);
    spex_spectrum_free(&full);
    spex_spectrum_free(&add);
    spex_spectrum_free(&merged);
    spex_spectrum_free(&pruned);
    return spex_error_agree(comm, err);
}

spex_status spex_proxy_run(MPI_Comm comm, const spex_config *cfg, spex_oracle *o,
                           const spex_log *log, spex_result *res, spex_error *err)
{
    spex_status st = SPEX_OK;
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    double t_start = spex_now(), t0 = t_start;
    uint64_t *masks = NULL;
    double *vals = NULL;
    char *json = NULL;
    size_t json_len = 0;
    spex_proxy_model model;
    spex_proxy_fit fit = {.holdout_rmse = NAN, .holdout_r2 = NAN};
    spex_spectrum full, kept;
    memset(&model, 0, sizeof model);
    spex_spectrum_init(&full);
    spex_spectrum_init(&kept);
    proxy_plan pl;

    /* ---- design: this rank's uniform random masks ---- */
    make_plan(comm, cfg, &pl, err);
    if (spex_error_agree(comm, err) != SPEX_OK) {
        st = err->code;
        goto out;
    }
    size_t mine = pl.hi - pl.lo;
    masks = malloc((mine * pl.words + 1) * sizeof *masks);
    vals = malloc((mine + 1) * sizeof *vals);
    if (masks == NULL || vals == NULL)
        spex_error_set(err, SPEX_EINTERNAL, "out of memory for %zu samples", mine);
    if (spex_error_agree(comm, err) != SPEX_OK) {
        st = err->code;
        goto out;
    }
    spex_log_printf(log, 1,
                    "proxyspex: %d features, %zu uniform samples (%zu held out), XGBoost trees of "
                    "depth %d, orders <= %d, on %d rank%s\n",
                    cfg->n, pl.m, pl.h, pl.depth, pl.order, size, size == 1 ? "" : "s");
    for (size_t i = 0; i < mine; i++)
        spex_proxy_mask((uint64_t)cfg->seed, cfg->n, pl.lo + i, masks + i * pl.words);
    res->stage_seconds[SPEX_STAGE_DESIGN] = spex_now() - t0;

    /* ---- evaluate ---- */
    t0 = spex_now();
    evaluate(cfg, &pl, o, log, masks, vals, err);
    if (spex_error_agree(comm, err) != SPEX_OK) {
        st = err->code;
        goto out;
    }
    res->stage_seconds[SPEX_STAGE_EVALUATE] = spex_now() - t0;

    /* ---- transform: train the proxy on rank 0 ---- */
    t0 = spex_now();
    SPEX_CHECK(train_on_root(comm, cfg, &pl, masks, vals, &json, &json_len, &fit, err));
    spex_proxy_model_parse(json, json_len, 1, &model, err);
    if (err->code == SPEX_OK && model.n_features > cfg->n)
        spex_error_set(err, SPEX_EINTERNAL, "the proxy has %d features, the study %d",
                       model.n_features, cfg->n);
    if (spex_error_agree(comm, err) != SPEX_OK) {
        st = err->code;
        goto out;
    }
    free(json);
    json = NULL;
    res->stage_seconds[SPEX_STAGE_TRANSFORM] = spex_now() - t0;
    spex_log_printf(log, 1,
                    "proxyspex: %d trees kept of %d rounds (held-out RMSE %.4g, R^2 %.4f), %d "
                    "thread%s, %.2f s (boosting %.2f s, hold-out RMSE %.2f s)\n",
                    fit.trees, fit.rounds, fit.holdout_rmse, fit.holdout_r2, pl.threads,
                    pl.threads == 1 ? "" : "s",
                    res->stage_seconds[SPEX_STAGE_TRANSFORM], fit.boost_seconds,
                    fit.holdout_seconds);

    /* ---- decode: the proxy's exact spectrum, largest terms ---- */
    t0 = spex_now();
    SPEX_CHECK(spex_proxy_extract(comm, &model, pl.order, &full, err));
    spex_proxy_model_free(&model);
    spex_proxy_select(&full, pl.keep, cfg->keep_energy, &kept, err);
    if (spex_error_agree(comm, err) != SPEX_OK) {
        st = err->code;
        goto out;
    }
    spex_log_printf(log, 1, "proxyspex: proxy spectrum has %zu terms of order <= %d; keeping %zu\n",
                    full.count, pl.order, kept.count);
    /* Non-constant terms: the constant is always kept and always there. */
    res->proxy.terms_extracted = full.count > 0 ? (uint64_t)full.count - 1 : 0;
    res->proxy.terms_kept = kept.count > 0 ? (uint64_t)kept.count - 1 : 0;
    spex_spectrum_free(&full);
    res->stage_seconds[SPEX_STAGE_DECODE] = spex_now() - t0;

    /* ---- refine on the true samples ---- */
    t0 = spex_now();
    snprintf(res->refine, sizeof res->refine, "%s",
             spex_config_enum_name("refine.name", cfg->refine));
    spex_spectrum_free(&res->fourier);
    if (copy_spectrum(&kept, &res->fourier, err) != SPEX_OK)
        spex_error_set(err, SPEX_EINTERNAL, "out of memory");
    if (spex_error_agree(comm, err) != SPEX_OK) {
        st = err->code;
        goto out;
    }
    if (cfg->refine != SPEX_REFINE_NONE) {
        double lambda = cfg->refine == SPEX_REFINE_RIDGE ? cfg->ridge_lambda : 0.0;
        SPEX_CHECK(spex_proxy_refine(comm, pl.lo, mine, pl.words, masks, vals, lambda,
                                     &res->fourier, err));
    }
    res->stage_seconds[SPEX_STAGE_REFINE] = spex_now() - t0;
    /* Later stages: proxies of the residual (they train, extract and refit;
     * their time is counted in the refine stage). */
    for (int stage = 2; stage <= cfg->stages && cfg->refine != SPEX_REFINE_NONE; stage++) {
        t0 = spex_now();
        SPEX_CHECK(residual_stage(comm, cfg, &pl, masks, vals, res, &fit, err));
        res->stage_seconds[SPEX_STAGE_REFINE] += spex_now() - t0;
        spex_log_printf(log, 1, "proxyspex: stage %d (residual proxy): %zu terms after the refit\n",
                        stage, res->fourier.count);
    }
    free(masks);
    free(vals);
    masks = NULL;
    vals = NULL;

    SPEX_CHECK(spex_run_finish(comm, cfg, o, cfg->refine != SPEX_REFINE_NONE ? &kept : NULL, res,
                               err));

    /* ---- the record ---- */
    snprintf(res->method, sizeof res->method, "proxyspex");
    res->proxy.present = 1;
    res->proxy.train_samples = (uint64_t)(pl.m - pl.h);
    res->proxy.holdout_samples = (uint64_t)pl.h;
    res->proxy.depth = pl.depth;
    res->proxy.learning_rate = cfg->learning_rate;
    res->proxy.threads = pl.threads;
    res->proxy.rounds = fit.rounds;
    res->proxy.trees = fit.trees;
    res->proxy.retrained = fit.retrained;
    res->proxy.stages = cfg->refine != SPEX_REFINE_NONE ? cfg->stages : 1;
    res->proxy.holdout_rmse = fit.holdout_rmse;
    res->proxy.holdout_r2 = fit.holdout_r2;
    res->proxy.train_seconds = fit.train_seconds;
    res->proxy.holdout_seconds = fit.holdout_seconds;
    res->n_features = cfg->n;
    res->max_order = pl.order;
    res->queries = (uint64_t)pl.m;
    res->seed = cfg->seed;
    res->b = res->groups = res->delays_count = 0;
    res->delays[0] = '\0';
    res->peel_rounds = 0;
    res->noise_sigma = 0;
    res->bins_zero = res->bins_single = res->bins_multi = res->bins_unresolved = 0;
    res->wall_seconds = spex_now() - t_start;
    SPEX_CHECK(spex_run_stamp(comm, res, err));
out:
    free(masks);
    free(vals);
    free(json);
    spex_proxy_model_free(&model);
    spex_spectrum_free(&full);
    spex_spectrum_free(&kept);
    return spex_error_agree(comm, err);
}
