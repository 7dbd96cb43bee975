/* config.c -- the study: INI text and --set overrides, checked against one
 * table of known keys.
 *
 * KEYS[] lists every key once: section, name, type, where it lives in
 * spex_config, its default (NULL: required), its range or choices and a line
 * of help.  Parsing, validation, `spex --help` (spex_config_print_keys) and
 * the effective-study dump all read that table; nothing about a key is
 * written anywhere else.
 *
 * Parsing goes through libinih (Debian r55), which has two traps: it reads
 * lines into a 200-byte buffer, silently cutting a longer line and parsing
 * its tail as the next line, and it never tells the handler the line number.
 * It also treats an indented line as the continuation of the previous value.
 * So load_string scans the text first.  The scan rejects over-long lines,
 * lines libinih would reject and unknown section headers (a section without
 * keys never reaches the handler), and hands libinih a normalized copy: the
 * same lines, trimmed, with rejected lines blanked.  It also records the
 * line number of every key line in order; libinih calls the handler once per
 * key line, in order, so the handler knows each key's line.  When several
 * lines are wrong, the first one is reported, "origin:line: message".
 *
 * Comments: a line starting with ';' or '#' is a comment; libinih also cuts
 * an inline comment at a ';' that follows whitespace ("n = 10 ; ten" is 10,
 * while "n = 10;ten" keeps ";ten" and fails as a number).
 */
#include "spex/config.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

/* Longest line libinih reads whole: its buffer holds the line, '\n', '\0'.
 * A line of exactly this length fits only without its '\n' (see
 * emit_line). */
#define LINE_CHARS (INI_MAX_LINE - 1)

/* Study files are a few hundred bytes; refuse to slurp a wrong argument. */
#define STUDY_FILE_MAX (16L * 1024 * 1024)

typedef enum { KEY_INT, KEY_INT64, KEY_DOUBLE, KEY_STRING, KEY_PATH, KEY_ENUM } key_type;

typedef struct key_def {
    const char *section;
    const char *key;
    key_type type;
    size_t offset, size;        /* the field in spex_config */
    const char *def;            /* default as written in a study; NULL: required */
    double min, max;            /* numbers (exact for every bound below) */
    bool min_open;              /* doubles: min itself is not allowed */
    const char *const *choices; /* enums: NULL-terminated, index = C value */
    const char *help;
} key_def;

static const char *const ORACLE_KINDS[] = {"sparse", "exec", "plugin", "hdf5", "xgboost",
                                            "xgboost-train", "xgboost-trees", NULL};
static const char *const FORMATS[] = {"text", "bits", NULL};
static const char *const BASES[] = {"fourier", "mobius", NULL};
static const char *const METHODS[] = {"spex", "proxyspex", "lime", "banzhaf", "faith-banzhaf",
                                       NULL};
static const char *const DELAYS[] = {"bch", "identity", NULL};
static const char *const BASELINE_QUERIES[] = {"design", "uniform", NULL};
static const char *const REFINES[] = {"none", "ols", "ridge", NULL};
static const char *const NONE_CHOICE[] = {"none", NULL}; /* doubles that may be off */
static const char *const XGB_OUTPUTS[] = {"margin", "probability", NULL};
static const char *const XGB_METRICS[] = {"prediction", "squared_error", "logloss", NULL};
static const char *const XGB_ENGINES[] = {"auto", "native", "xgboost", NULL};

/* Enum fields are read and written as int, and choices[] is indexed by the
 * C value. */
_Static_assert(sizeof(spex_oracle_kind) == sizeof(int), "enum field is an int");
_Static_assert(sizeof(spex_basis) == sizeof(int), "enum field is an int");
_Static_assert(sizeof(spex_method_name) == sizeof(int), "enum field is an int");
_Static_assert(sizeof(spex_delays_kind) == sizeof(int), "enum field is an int");
_Static_assert(SPEX_ORACLE_SPARSE == 0 && SPEX_ORACLE_EXEC == 1 && SPEX_ORACLE_PLUGIN == 2 &&
                   SPEX_ORACLE_HDF5 == 3 && SPEX_ORACLE_XGBOOST == 4 &&
                   SPEX_ORACLE_XGBOOST_TRAIN == 5 && SPEX_ORACLE_XGBOOST_TREES == 6,
               "ORACLE_KINDS[] order");
_Static_assert(SPEX_FORMAT_TEXT == 0 && SPEX_FORMAT_BITS == 1, "FORMATS[] order");
_Static_assert(sizeof(spex_mask_format) == sizeof(int), "enum field is an int");
_Static_assert(SPEX_BASIS_FOURIER == 0 && SPEX_BASIS_MOBIUS == 1, "BASES[] order");
_Static_assert(SPEX_METHOD_SPEX == 0 && SPEX_METHOD_PROXYSPEX == 1 && SPEX_METHOD_LIME == 2 &&
                   SPEX_METHOD_BANZHAF == 3 && SPEX_METHOD_FAITH_BANZHAF == 4,
               "METHODS[] order");
_Static_assert(SPEX_REFINE_NONE == 0 && SPEX_REFINE_OLS == 1 && SPEX_REFINE_RIDGE == 2,
               "REFINES[] order");
_Static_assert(sizeof(spex_refine_name) == sizeof(int), "enum field is an int");
_Static_assert(SPEX_DELAYS_BCH == 0 && SPEX_DELAYS_IDENTITY == 1, "DELAYS[] order");
_Static_assert(SPEX_BASELINE_DESIGN == 0 && SPEX_BASELINE_UNIFORM == 1, "BASELINE_QUERIES[] order");
_Static_assert(sizeof(spex_baseline_queries) == sizeof(int), "enum field is an int");
_Static_assert(sizeof(spex_xgb_output) == sizeof(int) && sizeof(spex_xgb_metric) == sizeof(int) &&
                   sizeof(spex_xgb_engine) == sizeof(int),
               "enum field is an int");
_Static_assert(SPEX_XGB_MARGIN == 0 && SPEX_XGB_PROBABILITY == 1, "XGB_OUTPUTS[] order");
_Static_assert(SPEX_XGB_PREDICTION == 0 && SPEX_XGB_SQUARED_ERROR == 1 && SPEX_XGB_LOGLOSS == 2,
               "XGB_METRICS[] order");
_Static_assert(SPEX_XGB_AUTO == 0 && SPEX_XGB_NATIVE == 1 && SPEX_XGB_XGBOOST == 2,
               "XGB_ENGINES[] order");

#define FIELD(f) offsetof(spex_config, f), sizeof(((spex_config *)0)->f)
#define NO_RANGE 0, 0, false

/* Rows of one section are consecutive; that order is the order of the
 * dump and of the help listing. */
static const key_def KEYS[] = {
    {"study", "name", KEY_STRING, FIELD(study_name), "study", NO_RANGE, NULL,
     "name of the study, stored in the result file"},
    {"study", "seed", KEY_INT64, FIELD(seed), "1", 0, INFINITY, false, NULL,
     "seed of every random draw; same seed, same result"},
    {"study", "output", KEY_PATH, FIELD(output), "spex-result.h5", NO_RANGE, NULL,
     "result file (HDF5)"},
    {"study", "checkpoint", KEY_PATH, FIELD(checkpoint), "", NO_RANGE, NULL,
     "checkpoint of the evaluations; empty: <output>.ckpt; none: no checkpoints"},
    {"study", "checkpoint_interval", KEY_DOUBLE, FIELD(checkpoint_interval), "600", 0, INFINITY,
     false, NULL, "seconds between periodic checkpoints during evaluation; 0: only on signals"},

    {"features", "n", KEY_INT, FIELD(n), NULL, 1, 2097151, false, NULL,
     "number of features (the BCH delays support up to 2^21 - 1)"},
    {"features", "names", KEY_PATH, FIELD(names), "", NO_RANGE, NULL,
     "file with one feature name per line; empty: features are numbered 0..n-1"},
    {"features", "positions", KEY_PATH, FIELD(positions), "", NO_RANGE, NULL,
     "file of 'NAME CHROMOSOME POSITION' lines, one per feature (genomic positions "
     "for /features/position); empty: none"},

    {"oracle", "kind", KEY_ENUM, FIELD(oracle_kind), NULL, NO_RANGE, ORACLE_KINDS,
     "value function; sparse: a known sparse spectrum (from a file or generated)"},
    {"oracle", "spectrum", KEY_PATH, FIELD(spectrum), "", NO_RANGE, NULL,
     "sparse: spectrum file; empty: generate random terms (keys below)"},
    {"oracle", "basis", KEY_ENUM, FIELD(basis), "fourier", NO_RANGE, BASES,
     "sparse: basis of the spectrum file or of the generated terms"},
    {"oracle", "terms", KEY_INT, FIELD(terms), "100", 0, 10000000, false, NULL,
     "sparse, generated: number of nonzero terms"},
    {"oracle", "max_order", KEY_INT, FIELD(oracle_max_order), "4", 0, SPEX_MAX_ORDER, false, NULL,
     "sparse, generated: largest order of a term"},
    {"oracle", "coef_min", KEY_DOUBLE, FIELD(coef_min), "0.5", 0, INFINITY, true, NULL,
     "sparse, generated: smallest |coefficient|"},
    {"oracle", "coef_max", KEY_DOUBLE, FIELD(coef_max), "2.0", 0, INFINITY, true, NULL,
     "sparse, generated: largest |coefficient|"},
    {"oracle", "seed", KEY_INT64, FIELD(oracle_seed), "-1", -1, INFINITY, false, NULL,
     "sparse, generated: seed of the terms; xgboost-train: training seed; -1: study.seed"},
    {"oracle", "noise_sigma", KEY_DOUBLE, FIELD(noise_sigma), "0", 0, INFINITY, false, NULL,
     "sparse: standard deviation of Gaussian noise added to each value"},
    {"oracle", "snr_db", KEY_DOUBLE, FIELD(snr_db), "none", -100, 300, false, NONE_CHOICE,
     "sparse: Gaussian noise at this signal-to-noise ratio (dB, signal = variance of f); none: off"},
    {"oracle", "cost_us", KEY_DOUBLE, FIELD(cost_us), "0", 0, INFINITY, false, NULL,
     "sparse: busy work per query in microseconds (benchmarks)"},
    {"oracle", "batch", KEY_INT, FIELD(batch), "4096", 1, 1048576, false, NULL,
     "masks per oracle call"},
    {"oracle", "command", KEY_STRING, FIELD(command), "", NO_RANGE, NULL,
     "exec: worker command line, run through /bin/sh, one worker per rank"},
    {"oracle", "format", KEY_ENUM, FIELD(format), "text", NO_RANGE, FORMATS,
     "exec: how masks are sent to the worker: text (n '0'/'1' per line) or bits (packed)"},
    {"oracle", "timeout", KEY_DOUBLE, FIELD(timeout), "600", 0.001, INFINITY, false, NULL,
     "exec: seconds a worker may take to answer one batch"},
    {"oracle", "plugin", KEY_PATH, FIELD(plugin), "", NO_RANGE, NULL,
     "plugin: shared object exporting spex_plugin_v1 (include/spex.h)"},
    {"oracle", "plugin_args", KEY_STRING, FIELD(plugin_args), "", NO_RANGE, NULL,
     "plugin: text handed to the plugin's init function"},
    {"oracle", "values", KEY_PATH, FIELD(values), "", NO_RANGE, NULL,
     "hdf5: plan file whose values were filled in (spex plan, then spex decode --values)"},
    {"oracle", "model", KEY_PATH, FIELD(model), "", NO_RANGE, NULL,
     "xgboost, xgboost-trees: XGBoost model file (JSON, UBJSON or binary, from save_model)"},
    {"oracle", "data", KEY_PATH, FIELD(data), "", NO_RANGE, NULL,
     "xgboost*: CSV (header line) or HDF5 rows: instance and background / training rows / "
     "validation rows"},
    {"oracle", "dataset", KEY_STRING, FIELD(dataset), "X", NO_RANGE, NULL,
     "xgboost*, HDF5 data files: the 2-D dataset of feature values"},
    {"oracle", "label", KEY_STRING, FIELD(label), "", NO_RANGE, NULL,
     "xgboost*: label column (CSV) or 1-D dataset (HDF5), not a feature; empty: no labels"},
    {"oracle", "test", KEY_PATH, FIELD(test), "", NO_RANGE, NULL,
     "xgboost-train: file of test rows, same columns as oracle.data"},
    {"oracle", "instance", KEY_INT64, FIELD(instance), "0", 0, INFINITY, false, NULL,
     "xgboost: row of oracle.data explained; xgboost-train: row of oracle.test predicted"},
    {"oracle", "baseline", KEY_STRING, FIELD(baseline), "mean", NO_RANGE, NULL,
     "xgboost: masked features take: a row index of oracle.data, mean (column means of the "
     "background) or interventional (value averaged over background rows)"},
    {"oracle", "background", KEY_INT64, FIELD(background), "0", 0, INFINITY, false, NULL,
     "xgboost: background = the first this many rows of oracle.data; 0: all rows"},
    {"oracle", "output", KEY_ENUM, FIELD(xgb_output), "margin", NO_RANGE, XGB_OUTPUTS,
     "xgboost*: model output used: margin (raw score) or probability (objective's transform)"},
    {"oracle", "class", KEY_INT, FIELD(xgb_class), "0", 0, 1000000, false, NULL,
     "xgboost*: multi-class models: the class whose output is the value"},
    {"oracle", "metric", KEY_ENUM, FIELD(metric), "prediction", NO_RANGE, XGB_METRICS,
     "xgboost*: value of a query: the prediction, or its squared_error or logloss vs the label"},
    {"oracle", "engine", KEY_ENUM, FIELD(engine), "auto", NO_RANGE, XGB_ENGINES,
     "xgboost: native (tree walk on bit masks, checked against XGBoost), xgboost, or auto"},
    {"oracle", "tree_group", KEY_INT, FIELD(tree_group), "1", 1, 1000000000, false, NULL,
     "xgboost-trees: boosting rounds per feature"},
    {"oracle", "train_rounds", KEY_INT, FIELD(train_rounds), "10", 1, 1000000, false, NULL,
     "xgboost-train: boosting rounds per query"},
    {"oracle", "train_depth", KEY_INT, FIELD(train_depth), "3", 1, 64, false, NULL,
     "xgboost-train: max_depth of the trees"},
    {"oracle", "train_eta", KEY_DOUBLE, FIELD(train_eta), "0.3", 0, 1, true, NULL,
     "xgboost-train: learning rate (eta)"},
    {"oracle", "train_objective", KEY_STRING, FIELD(train_objective), "reg:squarederror",
     NO_RANGE, NULL, "xgboost-train: XGBoost objective (reg:squarederror, binary:logistic, ...)"},

    {"method", "name", KEY_ENUM, FIELD(method), NULL, NO_RANGE, METHODS,
     "recovery method"},
    {"method", "max_order", KEY_INT, FIELD(max_order), "4", 1, SPEX_MAX_ORDER, false, NULL,
     "largest interaction order decoded (t)"},
    {"method", "b", KEY_INT, FIELD(b), "0", 0, 30, false, NULL,
     "log2 of bins per group; 0 = choose from budget/sparsity"},
    {"method", "groups", KEY_INT, FIELD(groups), "3", 1, 16, false, NULL,
     "number of subsampling groups (C)"},
    {"method", "delays", KEY_ENUM, FIELD(delays), "bch", NO_RANGE, DELAYS,
     "delays: bch (m t + 1 delays, m = ceil(log2(n + 1))) or identity (n + 1 delays, small n)"},
    {"method", "budget", KEY_INT64, FIELD(budget), "0", 0, INFINITY, false, NULL,
     "most queries allowed when b is chosen; 0 = no limit"},
    {"method", "sparsity", KEY_INT, FIELD(sparsity), "100", 1, 100000000, false, NULL,
     "expected number of nonzero terms, used when b is chosen"},
    {"method", "ranks_per_signal", KEY_INT, FIELD(ranks_per_signal), "0", 0, 65536, false, NULL,
     "ranks sharing one signal's transform (a power of two); 0 = 1 unless signals < ranks"},
    {"method", "noise_sigma", KEY_DOUBLE, FIELD(method_sigma), "none", 0, INFINITY, false,
     NONE_CHOICE, "standard deviation of f's noise, if known; none: estimated from the bins"},
    {"method", "chase", KEY_INT, FIELD(chase), "4", 0, 10, false, NULL,
     "noisy decoding: flip up to this many least reliable delay bits (2^chase tries)"},
    {"method", "max_terms", KEY_INT, FIELD(max_terms), "0", 0, 100000000, false, NULL,
     "stop peeling after this many terms; 0 = 2 x groups x 2^b"},
    {"method", "samples", KEY_INT, FIELD(samples), "0", 0, 100000000, false, NULL,
     "proxyspex: uniform random masks evaluated (queries); 0 = 10 n within 1000..10000"},
    {"method", "holdout", KEY_DOUBLE, FIELD(holdout), "0.2", 0, 0.9, false, NULL,
     "proxyspex: share of the samples held out for early stopping; 0 = none"},
    {"method", "trees", KEY_INT, FIELD(trees), "1000", 1, 1000000, false, NULL,
     "proxyspex: most boosting rounds (trees) of the XGBoost proxy"},
    {"method", "depth", KEY_INT, FIELD(depth), "0", 0, SPEX_MAX_ORDER, false, NULL,
     "proxyspex: depth of the proxy's trees; 0 = method.max_order"},
    {"method", "learning_rate", KEY_DOUBLE, FIELD(learning_rate), "0.1", 0, 1, true, NULL,
     "proxyspex: XGBoost learning rate (eta)"},
    {"method", "early_stopping", KEY_INT, FIELD(early_stopping), "50", 1, 1000000, false, NULL,
     "proxyspex: stop after this many rounds without a better held-out RMSE"},
    {"method", "retrain", KEY_INT, FIELD(retrain), "1", 0, 1, false, NULL,
     "proxyspex: 1 = then train again on all samples for the rounds chosen; 0 = keep that model"},
    {"method", "threads", KEY_INT, FIELD(threads), "0", 0, 4096, false, NULL,
     "proxyspex: training threads (rank 0 trains); 0 = the CPUs rank 0 may use"},
    {"method", "keep_terms", KEY_INT, FIELD(keep_terms), "0", 0, 1000000, false, NULL,
     "proxyspex: most non-constant terms refined; 0 = samples / 10, at most 2000"},
    {"method", "keep_energy", KEY_DOUBLE, FIELD(keep_energy), "1", 0, 1, true, NULL,
     "proxyspex: keep the fewest top terms holding this share of the proxy's energy"},
    {"method", "baseline_features", KEY_INT, FIELD(baseline_features), "0", 0, 9999, false,
     NULL,
     "lime, banzhaf, faith-banzhaf: features fitted, those of largest marginal correlation with "
     "f (all when n <= this); 0 = queries / 50 (faith-banzhaf: / 100)"},
    {"method", "baseline_queries", KEY_ENUM, FIELD(baseline_queries), "design", NO_RANGE,
     BASELINE_QUERIES,
     "lime, banzhaf, faith-banzhaf: design = SPEX's queries for this study; uniform = as many "
     "uniform random masks"},
    {"method", "baseline_pairs", KEY_INT, FIELD(baseline_pairs), "0", 0, 141, false, NULL,
     "faith-banzhaf: fit all pairs of the top this many features of that ranking; 0 = as many "
     "pairs as fit in queries / 100"},
    {"method", "lime_width", KEY_DOUBLE, FIELD(lime_width), "0.25", 0, INFINITY, true, NULL,
     "lime: kernel width: weight exp(-D^2 / (2 width^2)), D = 1 - sqrt(kept / n)"},
    {"method", "stages", KEY_INT, FIELD(stages), "2", 1, 10, false, NULL,
     "proxyspex: proxies trained; each after the first fits the residual of the refit so far"},

    {"refine", "name", KEY_ENUM, FIELD(refine), "ols", NO_RANGE, REFINES,
     "refit the recovered terms by least squares on all queries: none, ols or ridge"},
    {"refine", "lambda", KEY_DOUBLE, FIELD(ridge_lambda), "1e-3", 0, INFINITY, false, NULL,
     "ridge: penalty, relative to the number of queries"},

    {"output", "test_masks", KEY_INT, FIELD(test_masks), "10000", 0, 100000000, false, NULL,
     "held-out uniform random masks for faithfulness (R^2); 0 = skip"},
    {"output", "indices", KEY_STRING, FIELD(indices), "sii,stii,fsii,banzhaf,fbii", NO_RANGE, NULL,
     "interaction indices to write (comma list of sii, stii, fsii, banzhaf, fbii; or none)"},
    {"output", "index_order", KEY_INT, FIELD(index_order), "2", 1, 16, false, NULL,
     "largest order of the interaction indices (k)"},
    {"output", "top_k", KEY_INT, FIELD(top_k), "20", 0, 1000000, false, NULL,
     "terms printed in the summary"},
};

#define NKEYS ((int)(sizeof KEYS / sizeof KEYS[0]))
_Static_assert(sizeof KEYS / sizeof KEYS[0] <= SPEX_CONFIG_KEYS_MAX,
               "grow SPEX_CONFIG_KEYS_MAX (key_line[])");

const char spex_default_study[] =
    "; spex default study: what `spex run` does without a study file.\n"
    ";\n"
    "; The value function is synthetic: 100 random interactions of order up\n"
    "; to 4 among 10000 features (Fourier basis, |coefficient| in [0.5, 2]).\n"
    "; spex recovers them from queries of the function alone, and because\n"
    "; the true spectrum is known the summary can check what it found.\n"
    ";\n"
    "; To make your own study, copy this text to a file, edit it and run\n"
    "; `spex run FILE.ini`; `spex --help` lists every key and its default,\n"
    "; and `--set section.key=value` overrides any key.\n"
    "\n"
    "[study]\n"
    "name = default\n"
    "seed = 1\n"
    "\n"
    "[features]\n"
    "n = 10000\n"
    "\n"
    "[oracle]\n"
    "; a sparse function with a known spectrum, generated from the seed\n"
    "kind = sparse\n"
    "terms = 100\n"
    "max_order = 4\n"
    "\n"
    "[method]\n"
    "name = spex\n"
    "; decode interactions up to this order\n"
    "max_order = 4\n"
    "\n"
    "[output]\n"
    "; strongest terms printed in the summary\n"
    "top_k = 10\n";

/* ---- the table ------------------------------------------------------------ */

static bool known_section(const char *s, size_t len)
{
    for (int i = 0; i < NKEYS; i++)
        if (strlen(KEYS[i].section) == len && memcmp(KEYS[i].section, s, len) == 0)
            return true;
    return false;
}

static int find_key(const char *sec, size_t seclen, const char *key, size_t keylen)
{
    for (int i = 0; i < NKEYS; i++)
        if (strlen(KEYS[i].section) == seclen && memcmp(KEYS[i].section, sec, seclen) == 0 &&
            strlen(KEYS[i].key) == keylen && memcmp(KEYS[i].key, key, keylen) == 0)
            return i;
    return -1;
}

int spex_config_key_index(const char *key)
{
    const char *dot = strchr(key, '.');
    if (dot == NULL)
        return -1;
    return find_key(key, (size_t)(dot - key), dot + 1, strlen(dot + 1));
}

static int choice_count(const key_def *k)
{
    int n = 0;
    while (k->choices[n] != NULL)
        n++;
    return n;
}

/* "0..30" for a bounded range, ">= 0" or "> 0" for one without a maximum. */
static void range_text(const key_def *k, char *buf, size_t size)
{
    if (isinf(k->max))
        snprintf(buf, size, "%s %.15g", k->min_open ? ">" : ">=", k->min);
    else
        snprintf(buf, size, "%.15g..%.15g", k->min, k->max);
}

/* ---- values ---------------------------------------------------------------- */

typedef enum { NUM_OK, NUM_BAD, NUM_RANGE } num_parse;

/* The whole string must be the number: no blanks, no trailing text. */
static num_parse parse_integer(const char *s, long long *out)
{
    if (*s == '\0' || isspace((unsigned char)*s))
        return NUM_BAD;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0')
        return NUM_BAD;
    if (errno == ERANGE)
        return NUM_RANGE;
    *out = v;
    return NUM_OK;
}

static num_parse parse_real(const char *s, double *out)
{
    if (*s == '\0' || isspace((unsigned char)*s))
        return NUM_BAD;
    char *end;
    double v = strtod(s, &end);
    if (*end != '\0')
        return NUM_BAD;
    /* Overflow gives an infinity; "nan" and "inf" parse but are no use. */
    if (!isfinite(v))
        return NUM_RANGE;
    *out = v;
    return NUM_OK;
}

static bool in_range(const key_def *k, double v)
{
    if (k->min_open ? !(v > k->min) : !(v >= k->min))
        return false;
    return v <= k->max;
}

/* Text a study file cannot carry faithfully: a control character other
 * than tab (no multi-line values) or an inline comment (libinih would cut
 * it off).  Rejecting it keeps every accepted value dumpable. */
static const char *unrepresentable(const char *s)
{
    for (const char *p = s; *p; p++) {
        if (iscntrl((unsigned char)*p) && *p != '\t')
            return "contains a control character";
        /* The dump writes "key = value": a ';' first follows a blank too. */
        if ((p == s || isspace((unsigned char)p[-1])) && strchr(INI_INLINE_COMMENT_PREFIXES, *p))
            return "contains a comment (whitespace then ';')";
    }
    return NULL;
}

/* Parses value into the field of KEYS[row].  Relative paths are joined to
 * basedir when it is given (and not "."). On error writes a message naming
 * the key to msg and returns false. */
static bool assign(spex_config *cfg, int row, const char *value, const char *basedir, char *msg,
                   size_t msgsize)
{
    const key_def *k = &KEYS[row];
    char *field = (char *)cfg + k->offset;
    char range[64];
    range_text(k, range, sizeof range);
    const char *range_fmt = isinf(k->max) ? "%s.%s = %s is out of range (must be %s)"
                                          : "%s.%s = %s is out of range %s";
    switch (k->type) {
    case KEY_INT:
    case KEY_INT64: {
        long long v = 0;
        num_parse r = parse_integer(value, &v);
        if (r == NUM_BAD) {
            snprintf(msg, msgsize, "%s.%s = '%s' is not an integer", k->section, k->key, value);
            return false;
        }
        if (r == NUM_RANGE || !in_range(k, (double)v)) {
            snprintf(msg, msgsize, range_fmt, k->section, k->key, value, range);
            return false;
        }
        if (k->type == KEY_INT) {
            int iv = (int)v; /* the table's ranges fit an int */
            memcpy(field, &iv, sizeof iv);
        } else {
            int64_t lv = (int64_t)v;
            memcpy(field, &lv, sizeof lv);
        }
        return true;
    }
    case KEY_DOUBLE: {
        double v = 0;
        /* A double key with choices (NONE_CHOICE) may be switched off. */
        if (k->choices != NULL && strcmp(value, "none") == 0) {
            v = NAN;
            memcpy(field, &v, sizeof v);
            return true;
        }
        num_parse r = parse_real(value, &v);
        if (r == NUM_BAD) {
            snprintf(msg, msgsize, "%s.%s = '%s' is not a number", k->section, k->key, value);
            return false;
        }
        if (r == NUM_RANGE) {
            snprintf(msg, msgsize, "%s.%s = '%s' is not a finite number", k->section, k->key,
                     value);
            return false;
        }
        if (!in_range(k, v)) {
            snprintf(msg, msgsize, range_fmt, k->section, k->key, value, range);
            return false;
        }
        memcpy(field, &v, sizeof v);
        return true;
    }
    case KEY_ENUM: {
        for (int i = 0; k->choices[i] != NULL; i++)
            if (strcmp(value, k->choices[i]) == 0) {
                memcpy(field, &i, sizeof i);
                return true;
            }
        int n = snprintf(msg, msgsize, "%s.%s = '%s' must be one of: ", k->section, k->key, value);
        for (int i = 0; k->choices[i] != NULL && n >= 0 && (size_t)n < msgsize; i++)
            n += snprintf(msg + n, msgsize - (size_t)n, "%s%s", i ? ", " : "", k->choices[i]);
        return false;
    }
    case KEY_STRING:
    case KEY_PATH: {
        const char *why = unrepresentable(value);
        if (why != NULL) {
            snprintf(msg, msgsize, "%s.%s = '%s' %s", k->section, k->key, value, why);
            return false;
        }
        bool join = k->type == KEY_PATH && basedir != NULL && strcmp(basedir, ".") != 0 &&
                    value[0] != '\0' && value[0] != '/';
        size_t len = strlen(value) + (join ? strlen(basedir) + 1 : 0);
        if (len >= k->size) {
            snprintf(msg, msgsize, "%s.%s is longer than %zu characters%s", k->section, k->key,
                     k->size - 1, join ? " (joined to the study file's directory)" : "");
            return false;
        }
        if (join)
            snprintf(field, k->size, "%s/%s", basedir, value);
        else
            memcpy(field, value, strlen(value) + 1);
        return true;
    }
    }
    return false;
}

/* Writes the canonical text of a key's value: what the dump stores and
 * what assign() turns back into the same field. */
static void value_text(const spex_config *cfg, int row, char *buf, size_t size)
{
    const key_def *k = &KEYS[row];
    const char *field = (const char *)cfg + k->offset;
    switch (k->type) {
    case KEY_INT: {
        int v;
        memcpy(&v, field, sizeof v);
        snprintf(buf, size, "%d", v);
        return;
    }
    case KEY_INT64: {
        int64_t v;
        memcpy(&v, field, sizeof v);
        snprintf(buf, size, "%" PRId64, v);
        return;
    }
    case KEY_DOUBLE: {
        double v;
        memcpy(&v, field, sizeof v);
        if (isnan(v)) {
            snprintf(buf, size, "none");
            return;
        }
        /* The shortest form that reads back as the same double. */
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(buf, size, "%.*g", prec, v);
            if (strtod(buf, NULL) == v)
                break;
        }
        return;
    }
    case KEY_ENUM: {
        int v;
        memcpy(&v, field, sizeof v);
        snprintf(buf, size, "%s", v >= 0 && v < choice_count(k) ? k->choices[v] : "?");
        return;
    }
    case KEY_STRING:
    case KEY_PATH:
        snprintf(buf, size, "%s", field);
        return;
    }
}

void spex_config_defaults(spex_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    for (int i = 0; i < NKEYS; i++) {
        if (KEYS[i].def == NULL) {
            cfg->key_line[i] = SPEX_KEY_UNSET;
            continue;
        }
        char msg[256];
        bool ok = assign(cfg, i, KEYS[i].def, NULL, msg, sizeof msg);
        assert(ok && "every default in KEYS[] is valid");
        (void)ok;
    }
}

/* ---- parsing INI text ------------------------------------------------------ */

typedef struct parse_ctx {
    spex_config *cfg;
    const char *basedir;
    const int *key_lines; /* line of the i-th key line of the text */
    int nkeys, next;      /* next: key lines the handler has seen */
    int seen[SPEX_CONFIG_KEYS_MAX]; /* line a key was given at in this text */
    char msg[SPEX_ERROR_MSG_MAX];   /* the handler's first error */
} parse_ctx;

/* libinih's handler: one call per key line, in order.  Returns 0 to make
 * ini_parse_string report the line; only the first message is kept. */
static int on_key(void *user, const char *section, const char *name, const char *value)
{
    parse_ctx *ctx = user;
    int line = ctx->next < ctx->nkeys ? ctx->key_lines[ctx->next] : 0;
    ctx->next++;
    if (ctx->msg[0] != '\0')
        return 0;
    char *msg = ctx->msg;
    size_t size = sizeof ctx->msg;
    if (line == 0) {
        snprintf(msg, size, "internal error: key lines out of step with libinih");
        return 0;
    }
    if (section[0] == '\0') {
        snprintf(msg, size, "key '%s' before any [section]", name);
        return 0;
    }
    if (!known_section(section, strlen(section))) {
        snprintf(msg, size, "unknown section [%s]", section);
        return 0;
    }
    int row = find_key(section, strlen(section), name, strlen(name));
    if (row < 0) {
        snprintf(msg, size, "unknown key '%s' in section [%s]", name, section);
        return 0;
    }
    if (ctx->seen[row] != 0) {
        snprintf(msg, size, "%s.%s given twice (first at line %d)", section, name,
                 ctx->seen[row]);
        return 0;
    }
    if (!assign(ctx->cfg, row, value, ctx->basedir, msg, size))
        return 0;
    ctx->seen[row] = line;
    ctx->cfg->key_line[row] = line;
    return 1;
}

/* The first of chars in [s, e), or e.  Like libinih, an inline comment (a
 * ';' after whitespace) ends the search. */
static const char *find_in_line(const char *s, const char *e, const char *chars)
{
    bool was_space = false;
    for (; s < e; s++) {
        if (strchr(chars, *s) != NULL)
            return s;
#if INI_ALLOW_INLINE_COMMENTS
        if (was_space && strchr(INI_INLINE_COMMENT_PREFIXES, *s) != NULL)
            return e;
#endif
        was_space = isspace((unsigned char)*s);
    }
    return e;
}

/* Appends the line [b, e) to the normalized text.  A line of exactly
 * LINE_CHARS goes without its '\n': libinih would read the '\n' as an extra
 * empty line and count every later line one too far. */
static char *emit_line(char *out, const char *b, const char *e)
{
    size_t len = (size_t)(e - b);
    memcpy(out, b, len);
    out += len;
    if (len != LINE_CHARS)
        *out++ = '\n';
    return out;
}

typedef struct scan_error {
    int line; /* first line the scan rejected, 0 none */
    char msg[SPEX_ERROR_MSG_MAX];
} scan_error;

static void scan_reject(scan_error *se, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void scan_reject(scan_error *se, int line, const char *fmt, ...)
{
    if (se->line != 0)
        return;
    se->line = line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(se->msg, sizeof se->msg, fmt, ap);
    va_end(ap);
}

/* Checks every line of text and writes the normalized copy to out (at least
 * strlen(text) + 2 bytes) and the line numbers of key lines to key_lines.
 * Returns the number of key lines. */
static int scan_text(const char *text, char *out, int *key_lines, scan_error *se)
{
    int nkeys = 0;
    int line = 0;
    for (const char *p = text; *p != '\0';) {
        line++;
        const char *eol = strchr(p, '\n');
        if (eol == NULL)
            eol = p + strlen(p);
        const char *b = p, *e = eol;
        p = *eol ? eol + 1 : eol;
        if (line == 1 && (unsigned char)b[0] == 0xEF && (unsigned char)b[1] == 0xBB &&
            (unsigned char)b[2] == 0xBF)
            b += 3;
        if (e > b && e[-1] == '\r')
            e--;
        if (e - b > LINE_CHARS) {
            scan_reject(se, line, "line longer than %d characters", LINE_CHARS);
            out = emit_line(out, b, b);
            continue;
        }
        while (b < e && isspace((unsigned char)*b))
            b++;
        while (e > b && isspace((unsigned char)e[-1]))
            e--;
        if (b == e || strchr(INI_START_COMMENT_PREFIXES, *b) != NULL) {
            out = emit_line(out, b, b);
            continue;
        }
        if (*b == '[') {
            const char *close = find_in_line(b + 1, e, "]");
            if (close == e) {
                scan_reject(se, line, "section header '%.*s' has no closing ']'", (int)(e - b), b);
                out = emit_line(out, b, b);
                continue;
            }
            const char *after = close + 1;
            while (after < e && isspace((unsigned char)*after))
                after++;
            if (after < e && strchr(INI_START_COMMENT_PREFIXES, *after) == NULL)
                scan_reject(se, line, "unexpected text '%.*s' after section header",
                            (int)(e - after), after);
            const char *nb = b + 1, *ne = close;
            while (nb < ne && isspace((unsigned char)*nb))
                nb++;
            while (ne > nb && isspace((unsigned char)ne[-1]))
                ne--;
            if (!known_section(nb, (size_t)(ne - nb)))
                scan_reject(se, line, "unknown section [%.*s]", (int)(ne - nb), nb);
            /* "[ method ]" reaches the handler as "method". */
            *out++ = '[';
            memcpy(out, nb, (size_t)(ne - nb));
            out += ne - nb;
            *out++ = ']';
            *out++ = '\n';
            continue;
        }
        if (find_in_line(b, e, "=:") == e) {
            scan_reject(se, line, "'%.*s' is not 'key = value', '[section]' or a comment",
                        (int)(e - b), b);
            out = emit_line(out, b, b);
            continue;
        }
        key_lines[nkeys++] = line;
        out = emit_line(out, b, e);
    }
    *out = '\0';
    return nkeys;
}

spex_status spex_config_load_string(spex_config *cfg, const char *text, const char *origin,
                                    const char *basedir, spex_error *err)
{
    spex_status st = SPEX_OK;
    char *norm = NULL;
    int *key_lines = NULL;
    parse_ctx *ctx = NULL;
    scan_error *se = NULL;
    if (origin == NULL)
        origin = "(study)";
    snprintf(cfg->origin, sizeof cfg->origin, "%s", origin);

    size_t len = strlen(text), nlines = 1;
    for (const char *p = text; *p; p++)
        nlines += *p == '\n';
    if (nlines > INT_MAX / 2) {
        st = spex_error_set(err, SPEX_EUSAGE, "%s: too many lines", origin);
        goto out;
    }
    /* Each line keeps at most its length plus '\n', and the last line may
     * gain a '\n' it did not have. */
    norm = malloc(len + 2);
    SPEX_ALLOC_CHECK(norm, err, "the study text");
    key_lines = malloc(nlines * sizeof *key_lines);
    SPEX_ALLOC_CHECK(key_lines, err, "the study lines");
    se = calloc(1, sizeof *se);
    SPEX_ALLOC_CHECK(se, err, "the study parser");
    ctx = calloc(1, sizeof *ctx);
    SPEX_ALLOC_CHECK(ctx, err, "the study parser");

    ctx->cfg = cfg;
    ctx->basedir = basedir;
    ctx->key_lines = key_lines;
    ctx->nkeys = scan_text(text, norm, key_lines, se);
    int rc = ini_parse_string(norm, on_key, ctx);
    if (rc < 0) {
        st = spex_error_set(err, SPEX_EINTERNAL, "%s: libinih failed (%d)", origin, rc);
        goto out;
    }
    /* Report whichever error comes first in the text. */
    if (se->line != 0 && (rc == 0 || se->line < rc)) {
        st = spex_error_set(err, SPEX_EUSAGE, "%s:%d: %s", origin, se->line, se->msg);
        goto out;
    }
    if (rc > 0) {
        st = spex_error_set(err, SPEX_EUSAGE, "%s:%d: %s", origin, rc,
                            ctx->msg[0] ? ctx->msg : "cannot parse this line");
        goto out;
    }
out:
    free(ctx);
    free(se);
    free(key_lines);
    free(norm);
    return st;
}

/* "dir" of "dir/name", "." of "name", "/" of "/name". */
static void dir_of(const char *path, char *dir, size_t size)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        snprintf(dir, size, ".");
    else if (slash == path)
        snprintf(dir, size, "/");
    else
        snprintf(dir, size, "%.*s", (int)(slash - path), path);
}

spex_status spex_config_load_file(spex_config *cfg, const char *path, spex_error *err)
{
    spex_status st = SPEX_OK;
    char *text = NULL;
    char *dir = NULL;
    FILE *f = NULL;
    if (strlen(path) >= SPEX_PATH_MAX) {
        st = spex_error_set(err, SPEX_EUSAGE, "study file name '%.64s...' is too long", path);
        goto out;
    }
    f = fopen(path, "rb");
    if (f == NULL) {
        st = spex_error_set(err, SPEX_EUSAGE, "cannot read study file '%s': %s", path,
                            strerror(errno));
        goto out;
    }
    size_t cap = 4096, len = 0;
    text = malloc(cap);
    SPEX_ALLOC_CHECK(text, err, "the study file");
    for (;;) {
        len += fread(text + len, 1, cap - 1 - len, f);
        if (ferror(f)) {
            st = spex_error_set(err, SPEX_EUSAGE, "cannot read study file '%s': %s", path,
                                strerror(errno));
            goto out;
        }
        if (feof(f))
            break;
        if (cap > STUDY_FILE_MAX) {
            st = spex_error_set(err, SPEX_EUSAGE, "study file '%s' is larger than %ld bytes",
                                path, STUDY_FILE_MAX);
            goto out;
        }
        char *bigger = realloc(text, cap * 2);
        SPEX_ALLOC_CHECK(bigger, err, "the study file");
        text = bigger;
        cap *= 2;
    }
    text[len] = '\0';
    if (strlen(text) != len) {
        st = spex_error_set(err, SPEX_EUSAGE, "study file '%s' contains a NUL byte", path);
        goto out;
    }
    dir = malloc(SPEX_PATH_MAX);
    SPEX_ALLOC_CHECK(dir, err, "the study directory");
    dir_of(path, dir, SPEX_PATH_MAX);
    st = spex_config_load_string(cfg, text, path, dir, err);
out:
    if (f != NULL)
        fclose(f);
    free(dir);
    free(text);
    return st;
}

/* ---- overrides and checks --------------------------------------------------- */

spex_status spex_config_set(spex_config *cfg, const char *assignment, spex_error *err)
{
    /* Quoted in messages with control characters shown as '?'. */
    char shown[512];
    snprintf(shown, sizeof shown, "%s", assignment);
    for (char *c = shown; *c; c++)
        if (iscntrl((unsigned char)*c))
            *c = '?';
    const char *a = assignment;
    const char *eq = strchr(a, '=');
    const char *nb = a, *ne = eq ? eq : a + strlen(a);
    while (nb < ne && isspace((unsigned char)*nb))
        nb++;
    while (ne > nb && isspace((unsigned char)ne[-1]))
        ne--;
    const char *dot = memchr(nb, '.', (size_t)(ne - nb));
    if (eq == NULL || dot == NULL || dot == nb || dot + 1 == ne)
        return spex_error_set(err, SPEX_EUSAGE, "--set %s: expected section.key=value",
                              shown);
    if (!known_section(nb, (size_t)(dot - nb)))
        return spex_error_set(err, SPEX_EUSAGE, "--set %s: unknown section [%.*s]", shown,
                              (int)(dot - nb), nb);
    int row = find_key(nb, (size_t)(dot - nb), dot + 1, (size_t)(ne - dot - 1));
    if (row < 0)
        return spex_error_set(err, SPEX_EUSAGE, "--set %s: unknown key '%.*s' in section [%.*s]",
                              shown, (int)(ne - dot - 1), dot + 1, (int)(dot - nb), nb);

    /* The value, trimmed as libinih trims a value in a file. */
    const char *vb = eq + 1, *ve = vb + strlen(vb);
    while (vb < ve && isspace((unsigned char)*vb))
        vb++;
    while (ve > vb && isspace((unsigned char)ve[-1]))
        ve--;
    size_t vlen = (size_t)(ve - vb);
    char *value = malloc(vlen + 1);
    if (value == NULL)
        return spex_error_set(err, SPEX_EINTERNAL, "out of memory allocating --set %s",
                              shown);
    memcpy(value, vb, vlen);
    value[vlen] = '\0';
    char msg[SPEX_ERROR_MSG_MAX];
    bool ok = assign(cfg, row, value, NULL, msg, sizeof msg);
    free(value);
    for (char *c = msg; !ok && *c; c++) /* it quotes the value */
        if (iscntrl((unsigned char)*c))
            *c = '?';
    if (!ok)
        return spex_error_set(err, SPEX_EUSAGE, "--set %s: %s", shown, msg);
    cfg->key_line[row] = -1;
    return SPEX_OK;
}

/* Number of interactions of order 0..d among n features, saturating at cap. */
static long long count_interactions(int n, int d, long long cap)
{
    long long total = 0, c = 1; /* c = C(n, k) */
    for (int k = 0; k <= d && k <= n; k++) {
        if (k > 0) {
            /* C(n,k) = C(n,k-1) * (n-k+1) / k is exact in integers. */
            if (c > cap / (n - k + 1))
                return cap;
            c = c * (n - k + 1) / k;
        }
        total += c;
        if (total >= cap)
            return cap;
    }
    return total;
}

spex_status spex_config_finish(spex_config *cfg, spex_error *err)
{
    const char *origin = cfg->origin[0] ? cfg->origin : "(default study)";
    for (int i = 0; i < NKEYS; i++)
        if (KEYS[i].def == NULL && cfg->key_line[i] == SPEX_KEY_UNSET)
            return spex_error_set(err, SPEX_EUSAGE, "%s: missing required key %s.%s in [%s]",
                                  origin, KEYS[i].section, KEYS[i].key, KEYS[i].section);

    if (cfg->output[0] == '\0')
        return spex_error_set(err, SPEX_EUSAGE, "%s: study.output is empty: name the result file",
                              origin);
    if (cfg->coef_min > cfg->coef_max)
        return spex_error_set(err, SPEX_EUSAGE,
                              "%s: oracle.coef_min (%g) exceeds oracle.coef_max (%g)", origin,
                              cfg->coef_min, cfg->coef_max);
    /* The generated-spectrum keys concern the sparse oracle only. */
    bool sparse = cfg->oracle_kind == SPEX_ORACLE_SPARSE;
    if (sparse && cfg->oracle_max_order > cfg->n)
        return spex_error_set(err, SPEX_EUSAGE,
                              "%s: oracle.max_order (%d) exceeds features.n (%d)", origin,
                              cfg->oracle_max_order, cfg->n);
    if (cfg->max_order > cfg->n)
        return spex_error_set(err, SPEX_EUSAGE,
                              "%s: method.max_order (%d) exceeds features.n (%d)", origin,
                              cfg->max_order, cfg->n);
    /* 2^b bins per group cannot exceed the 2^n points of the domain. */
    if (cfg->b > cfg->n)
        return spex_error_set(err, SPEX_EUSAGE, "%s: method.b (%d) exceeds features.n (%d)",
                              origin, cfg->b, cfg->n);
    if (sparse && cfg->spectrum[0] == '\0') {
        long long avail = count_interactions(cfg->n, cfg->oracle_max_order, 1000000000000LL);
        if (cfg->terms > avail)
            return spex_error_set(err, SPEX_EUSAGE,
                                  "%s: oracle.terms (%d) exceeds the %lld interactions of order "
                                  "<= oracle.max_order (%d) among features.n (%d) features",
                                  origin, cfg->terms, avail, cfg->oracle_max_order, cfg->n);
    }
    if (cfg->oracle_seed == -1)
        cfg->oracle_seed = cfg->seed;
    return SPEX_OK;
}

/* ---- dump and help ------------------------------------------------------------ */

typedef struct text_buf {
    char *data;
    size_t len, cap;
    bool failed;
} text_buf;

static void text_printf(text_buf *t, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void text_printf(text_buf *t, const char *fmt, ...)
{
    if (t->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        t->failed = true;
        return;
    }
    if (t->len + (size_t)n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 1024;
        while (t->len + (size_t)n + 1 > cap)
            cap *= 2;
        char *bigger = realloc(t->data, cap);
        if (bigger == NULL) {
            t->failed = true;
            return;
        }
        t->data = bigger;
        t->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(t->data + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

char *spex_config_dump(const spex_config *cfg)
{
    text_buf t = {NULL, 0, 0, false};
    text_printf(&t, "; spex effective study: every key, defaults included.\n");
    if (cfg->origin[0] != '\0' && unrepresentable(cfg->origin) == NULL)
        text_printf(&t, "; read from %s\n", cfg->origin);
    char *value = malloc(SPEX_PATH_MAX + 64);
    if (value == NULL) {
        free(t.data);
        return NULL;
    }
    for (int i = 0; i < NKEYS; i++) {
        const key_def *k = &KEYS[i];
        if (i == 0 || strcmp(k->section, KEYS[i - 1].section) != 0)
            text_printf(&t, "\n[%s]\n", k->section);
        if (cfg->key_line[i] == SPEX_KEY_UNSET) {
            /* A comment, so that the dump of an unfinished study still loads. */
            text_printf(&t, "; %s = (required, not given)\n", k->key);
            continue;
        }
        value_text(cfg, i, value, SPEX_PATH_MAX + 64);
        text_printf(&t, "%s =%s%s\n", k->key, value[0] ? " " : "", value);
    }
    free(value);
    if (t.failed) {
        free(t.data);
        return NULL;
    }
    return t.data;
}

static void type_text(const key_def *k, char *buf, size_t size)
{
    char range[64];
    range_text(k, range, sizeof range);
    switch (k->type) {
    case KEY_INT:
    case KEY_INT64:
        snprintf(buf, size, "<int %s>", range);
        return;
    case KEY_DOUBLE:
        snprintf(buf, size, k->choices ? "<number %s|none>" : "<number %s>", range);
        return;
    case KEY_STRING:
        snprintf(buf, size, "<text>");
        return;
    case KEY_PATH:
        snprintf(buf, size, "<path>");
        return;
    case KEY_ENUM: {
        int n = snprintf(buf, size, "<");
        for (int i = 0; k->choices[i] != NULL && n >= 0 && (size_t)n < size; i++)
            n += snprintf(buf + n, size - (size_t)n, "%s%s", i ? "|" : "", k->choices[i]);
        if (n >= 0 && (size_t)n < size)
            snprintf(buf + n, size - (size_t)n, ">");
        return;
    }
    }
}

static void default_text(const key_def *k, char *buf, size_t size)
{
    if (k->def == NULL)
        snprintf(buf, size, "required");
    else if (k->def[0] == '\0')
        snprintf(buf, size, "default \"\"");
    else
        snprintf(buf, size, "default %s", k->def);
}

void spex_config_print_keys(FILE *out)
{
    char buf[256];
    int wname = 0, wtype = 0, wdef = 0;
    for (int i = 0; i < NKEYS; i++) {
        int w = (int)(strlen(KEYS[i].section) + 1 + strlen(KEYS[i].key));
        wname = w > wname ? w : wname;
        type_text(&KEYS[i], buf, sizeof buf);
        wtype = (int)strlen(buf) > wtype ? (int)strlen(buf) : wtype;
        default_text(&KEYS[i], buf, sizeof buf);
        wdef = (int)strlen(buf) > wdef ? (int)strlen(buf) : wdef;
    }
    for (int i = 0; i < NKEYS; i++) {
        const key_def *k = &KEYS[i];
        if (i > 0 && strcmp(k->section, KEYS[i - 1].section) != 0)
            fputc('\n', out);
        char name[128], type[256], def[256];
        snprintf(name, sizeof name, "%s.%s", k->section, k->key);
        type_text(k, type, sizeof type);
        default_text(k, def, sizeof def);
        fprintf(out, "  %-*s  %-*s  %-*s  %s\n", wname, name, wtype, type, wdef, def, k->help);
    }
}

const char *spex_config_enum_name(const char *key, int value)
{
    int row = spex_config_key_index(key);
    if (row < 0 || KEYS[row].type != KEY_ENUM)
        return NULL;
    if (value < 0 || value >= choice_count(&KEYS[row]))
        return NULL;
    return KEYS[row].choices[value];
}
