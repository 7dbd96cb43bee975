/* config.h -- the study: an INI file plus --set overrides, checked against
 * one table of known keys.
 *
 * The table in config.c (section, key, type, default, range, help) drives
 * parsing, validation, `spex --help` and the effective-study dump stored in
 * the result file (STYLE.md item 7).  Errors name file:line and the key.
 * Relative paths in a study file are resolved against the file's directory;
 * paths given with --set are taken as they are (relative to the working
 * directory).
 */
#ifndef SPEX_CONFIG_H
#define SPEX_CONFIG_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#include "spex/error.h"

#define SPEX_PATH_MAX 4096
#define SPEX_NAME_MAX 128
#define SPEX_MAX_ORDER 16 /* largest interaction order spex decodes */
#define SPEX_CONFIG_KEYS_MAX 96 /* rows the key table may have (key_line[]) */
/* key_line[] of a required key nobody has given yet. */
#define SPEX_KEY_UNSET INT_MIN

typedef enum {
    SPEX_ORACLE_SPARSE = 0,
    SPEX_ORACLE_EXEC = 1,
    SPEX_ORACLE_PLUGIN = 2,
    SPEX_ORACLE_HDF5 = 3,
    SPEX_ORACLE_XGBOOST = 4,
    SPEX_ORACLE_XGBOOST_TRAIN = 5,
    SPEX_ORACLE_XGBOOST_TREES = 6
} spex_oracle_kind;
typedef enum { SPEX_FORMAT_TEXT = 0, SPEX_FORMAT_BITS = 1 } spex_mask_format;
typedef enum { SPEX_BASIS_FOURIER = 0, SPEX_BASIS_MOBIUS = 1 } spex_basis;
typedef enum {
    SPEX_METHOD_SPEX = 0,
    SPEX_METHOD_PROXYSPEX = 1,
    SPEX_METHOD_LIME = 2,          /* baselines (doc/baselines.md) */
    SPEX_METHOD_BANZHAF = 3,
    SPEX_METHOD_FAITH_BANZHAF = 4
} spex_method_name;

/* Where the baselines' queries come from (method.baseline_queries). */
typedef enum { SPEX_BASELINE_DESIGN = 0, SPEX_BASELINE_UNIFORM = 1 } spex_baseline_queries;
typedef enum { SPEX_DELAYS_BCH = 0, SPEX_DELAYS_IDENTITY = 1 } spex_delays_kind;
typedef enum { SPEX_REFINE_NONE = 0, SPEX_REFINE_OLS = 1, SPEX_REFINE_RIDGE = 2 } spex_refine_name;
/* XGBoost oracles (doc/oracles-xgboost.md). */
typedef enum { SPEX_XGB_MARGIN = 0, SPEX_XGB_PROBABILITY = 1 } spex_xgb_output;
typedef enum {
    SPEX_XGB_PREDICTION = 0,
    SPEX_XGB_SQUARED_ERROR = 1,
    SPEX_XGB_LOGLOSS = 2
} spex_xgb_metric;
typedef enum { SPEX_XGB_AUTO = 0, SPEX_XGB_NATIVE = 1, SPEX_XGB_XGBOOST = 2 } spex_xgb_engine;

typedef struct spex_config {
    /* [study] */
    char study_name[SPEX_NAME_MAX];
    int64_t seed;                 /* >= 0 */
    char output[SPEX_PATH_MAX];   /* result file */
    char checkpoint[SPEX_PATH_MAX]; /* "" = <output>.ckpt; "none" = off */
    double checkpoint_interval;   /* seconds; 0 = only on signals */
    /* [features] */
    int n;                        /* 1 .. 2^21 - 1 */
    char names[SPEX_PATH_MAX];    /* file, one feature name per line; "" none */
    char positions[SPEX_PATH_MAX]; /* file, NAME CHROMOSOME POSITION lines; "" none */
    /* [oracle] */
    spex_oracle_kind oracle_kind;
    char spectrum[SPEX_PATH_MAX]; /* sparse: spectrum file; "" = generate */
    spex_basis basis;             /* sparse: basis of the file / generated terms */
    int terms;                    /* sparse, generated: number of terms */
    int oracle_max_order;         /* sparse, generated: largest order */
    double coef_min, coef_max;    /* sparse, generated: |coef| range */
    int64_t oracle_seed;          /* sparse, generated: -1 = study seed
                                     (spex_config_finish resolves it) */
    double noise_sigma;           /* sparse: absolute Gaussian noise */
    double snr_db;                /* sparse: noise at this SNR; NaN = off */
    double cost_us;               /* sparse: busy work per query (benchmarks) */
    int batch;                    /* masks per oracle call */
    char command[SPEX_PATH_MAX];  /* exec: worker command (through /bin/sh) */
    spex_mask_format format;      /* exec: text or bits */
    double timeout;               /* exec: seconds per batch */
    char plugin[SPEX_PATH_MAX];   /* plugin: shared object */
    char plugin_args[SPEX_PATH_MAX]; /* plugin: text for its init */
    char values[SPEX_PATH_MAX];   /* hdf5: the filled plan file (doc/two-phase.md) */
    char model[SPEX_PATH_MAX];    /* xgboost, xgboost-trees: model file */
    char data[SPEX_PATH_MAX];     /* xgboost*: CSV or HDF5 data file */
    char dataset[SPEX_NAME_MAX];  /* xgboost*: HDF5 feature dataset */
    char label[SPEX_NAME_MAX];    /* xgboost*: label column / dataset; "" none */
    char test[SPEX_PATH_MAX];     /* xgboost-train: test rows */
    int64_t instance;             /* xgboost: explained row; -train: test row */
    char baseline[SPEX_NAME_MAX]; /* xgboost: row index, mean, interventional */
    int64_t background;           /* xgboost: background rows; 0 = all */
    spex_xgb_output xgb_output;   /* xgboost*: margin or probability */
    int xgb_class;                /* xgboost*: output of this class */
    spex_xgb_metric metric;       /* xgboost*: prediction or loss */
    spex_xgb_engine engine;       /* xgboost: tree walker or XGBoost */
    int tree_group;               /* xgboost-trees: boosting rounds per feature */
    int train_rounds;             /* xgboost-train: boosting rounds */
    int train_depth;              /* xgboost-train: max_depth */
    double train_eta;             /* xgboost-train: learning rate */
    char train_objective[SPEX_NAME_MAX]; /* xgboost-train: objective */
    /* [method] */
    spex_method_name method;
    int max_order;                /* t: largest order decoded */
    int b;                        /* log2 bins per group; 0 = choose */
    int groups;                   /* C */
    spex_delays_kind delays;
    int64_t budget;               /* max queries when b is chosen; 0 = none */
    int sparsity;                 /* expected terms when b is chosen */
    int ranks_per_signal;         /* r of the layout (design.h); 0 = choose */
    double method_sigma;          /* known noise std of f; NaN = estimate */
    int chase;                    /* Chase decoding: least reliable bits flipped */
    int max_terms;                /* peeling cap; 0 = 2 C 2^b */
    /* [method], proxyspex (doc/proxyspex.md) */
    int samples;                  /* uniform random masks evaluated; 0 = auto */
    double holdout;               /* share of samples held out for early stopping */
    int trees;                    /* most boosting rounds */
    int depth;                    /* tree depth; 0 = max_order */
    double learning_rate;         /* XGBoost eta */
    int early_stopping;           /* rounds without held-out improvement */
    int retrain;                  /* 1: then train on all samples */
    int threads;                  /* training threads on rank 0; 0 = its CPUs */
    int keep_terms;               /* non-constant terms refined; 0 = auto */
    double keep_energy;           /* share of the proxy's non-constant energy kept */
    /* [method], baselines (doc/baselines.md) */
    int baseline_features;        /* first-order features fitted */
    spex_baseline_queries baseline_queries; /* SPEX's design or uniform masks */
    int baseline_pairs;           /* faith-banzhaf: pairs of the top this many */
    double lime_width;            /* lime: kernel width */
    int stages;                   /* proxies trained: 2+ = later ones on the refit's residual */
    /* [refine] */
    spex_refine_name refine;
    double ridge_lambda;          /* ridge penalty relative to the query count */
    /* [output] */
    int test_masks;               /* held-out masks for faithfulness; 0 = skip */
    char indices[SPEX_NAME_MAX];  /* comma list of index names, or "none" */
    int index_order;              /* k of the interaction indices */
    int top_k;                    /* terms printed in the summary */

    /* Bookkeeping (not keys). */
    char origin[SPEX_PATH_MAX];   /* study file, or "(default study)" */
    /* Where each key (index: spex_config_key_index) got its value: line in
     * origin (> 0), 0 default, -1 --set, SPEX_KEY_UNSET required and not
     * given (its field is then 0). */
    int key_line[SPEX_CONFIG_KEYS_MAX];
} spex_config;

/* The embedded default study (INI text) run by `spex run` with no file. */
extern const char spex_default_study[];

/* Local.  Fills cfg with the table's defaults; required keys are left
 * unset (key_line SPEX_KEY_UNSET), origin is "". */
void spex_config_defaults(spex_config *cfg);

/* Local.  Parses INI text.  origin names it in messages ("study.ini");
 * basedir (may be NULL) resolves relative paths.  Unknown sections or keys,
 * malformed or out-of-range values, repeated keys and lines over 199
 * characters are errors "origin:line: ...", code SPEX_EUSAGE; the first
 * wrong line is reported.  Sets cfg->origin.  Keys given here override
 * earlier values; a key given twice in the same text is an error.  On error
 * cfg may be partly updated. */
spex_status spex_config_load_string(spex_config *cfg, const char *text, const char *origin,
                                    const char *basedir, spex_error *err);

/* Local.  Reads and parses a study file (see load_string); relative paths
 * in it are resolved against the file's directory; cfg->origin = path. */
spex_status spex_config_load_file(spex_config *cfg, const char *path, spex_error *err);

/* Local.  Applies one "section.key=value" override (allowed over a value
 * from a file); errors name "--set section.key=value". */
spex_status spex_config_set(spex_config *cfg, const char *assignment, spex_error *err);

/* Local.  Checks required keys and relations between keys (for example
 * oracle.max_order <= features.n).  Call after all loads and overrides.
 * Resolves oracle.seed = -1 to study.seed, so the dump records the seed
 * actually used. */
spex_status spex_config_finish(spex_config *cfg, spex_error *err);

/* Local.  The effective study as INI text (every key, its value, in table
 * order); load_string reads it back to the same values, except that a line
 * longer than 199 characters (a very long path) is rejected.  Returns new
 * memory the caller frees, or NULL when out of memory. */
char *spex_config_dump(const spex_config *cfg);

/* Local.  Writes the table of keys (section.key, type, default, help). */
void spex_config_print_keys(FILE *out);

/* Local.  Canonical string of an enum value of a key ("bch", "mobius");
 * key is "section.key".  NULL for an unknown key, a key that is not an
 * enum, or a value out of range. */
const char *spex_config_enum_name(const char *key, int value);

/* Local.  Row of "section.key" in the key table (the index into
 * key_line[]), or -1 when there is no such key. */
int spex_config_key_index(const char *key);

#endif
