/* main.c -- the spex command line.
 *
 *   spex run   [STUDY.ini] [--set section.key=value ...] [-o FILE]
 *   spex plan  [STUDY.ini] [--set ...] -o PLAN.h5
 *   spex decode [STUDY.ini] [--set ...] --values PLAN.h5 [-o FILE]
 *   spex show  RESULT.h5 [--top N]
 *   spex --help | --version | keys
 *
 * MPI starts here and MPI_COMM_WORLD is named here only; everything below
 * takes the communicator as an argument.  Errors: one line from rank 0 on
 * stderr, and every rank exits with the same code (DESIGN.md section 8).
 */
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "spex.h"

static void print_usage(FILE *out)
{
    fprintf(out,
            "usage: spex run [STUDY.ini] [--set section.key=value ...] [-o FILE] [-q]\n"
            "       spex plan [STUDY.ini] [--set section.key=value ...] -o PLAN.h5\n"
            "       spex decode [STUDY.ini] [--set ...] --values PLAN.h5 [-o FILE] [-q]\n"
            "       spex show RESULT.h5 [--top N] [--index NAME]\n"
            "       spex keys            list every study key, its type and default\n"
            "       spex --help | --version\n"
            "\n"
            "spex finds the few feature interactions that drive a black-box function of n\n"
            "binary features (sparse Walsh-Hadamard recovery, SPEX), in parallel with MPI:\n"
            "  mpirun -np 4 spex run study.ini -o result.h5\n"
            "\n"
            "run   runs a study; without STUDY.ini, the embedded default study (a synthetic\n"
            "      function of 10,000 features with 100 known interactions, which spex must\n"
            "      recover exactly).  Any key can be overridden: --set method.b=10\n"
            "      -o FILE      result file (default: study.output)\n"
            "      -q           quiet: only errors\n"
            "plan  writes the study's query masks to PLAN.h5 (all values NaN) for evaluation\n"
            "      elsewhere, e.g. on GPUs with h5py (doc/two-phase.md)\n"
            "decode  runs the study with the values of a filled plan (oracle.kind = hdf5)\n"
            "show  prints the ranked interactions of a result file\n"
            "      --top N      how many (default 20; 0 = all)\n"
            "      --index NAME fourier (default), mobius, shapley, banzhaf-values, or an\n"
            "                   interaction index: sii, stii, fsii, banzhaf, fbii\n"
            "\n"
            "Exit codes: 0 ok, 1 usage or study, 2 input data, 3 value function, 4 numerical,\n"
            "5 file i/o, 70 internal, 75 stopped by a signal (checkpoint written: rerun to\n"
            "resume).  Documentation: README.md and doc/ in the source tree.\n");
}

/* Rank 0 reads the study file and broadcasts its text, so that a job of
 * many ranks touches the file system once. */
static spex_status read_study_text(MPI_Comm comm, const char *path, char **text, spex_error *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    long len = 0;
    *text = NULL;
    if (rank == 0) {
        FILE *f = fopen(path, "rb");
        if (f == NULL) {
            spex_error_set(err, SPEX_EUSAGE, "cannot read study file '%s': %s", path, strerror(errno));
        } else {
            struct stat sb;
            if (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode)) {
                spex_error_set(err, SPEX_EUSAGE, "cannot read study file '%s': %s", path,
                               strerror(EISDIR));
            } else if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 &&
                       fseek(f, 0, SEEK_SET) == 0) {
                if (len > (1L << 24)) {
                    spex_error_set(err, SPEX_EUSAGE, "study file '%s' is over 16 MiB", path);
                } else if ((*text = malloc((size_t)len + 1)) == NULL) {
                    spex_error_set(err, SPEX_EINTERNAL, "out of memory reading '%s'", path);
                } else if (fread(*text, 1, (size_t)len, f) != (size_t)len) {
                    spex_error_set(err, SPEX_EUSAGE, "cannot read study file '%s'", path);
                } else {
                    (*text)[len] = '\0';
                    if (strlen(*text) != (size_t)len)
                        spex_error_set(err, SPEX_EUSAGE, "study file '%s' contains a NUL byte",
                                       path);
                }
            } else {
                spex_error_set(err, SPEX_EUSAGE, "cannot read study file '%s': %s", path,
                               strerror(errno));
            }
            fclose(f);
        }
    }
    if (spex_error_agree(comm, err) != SPEX_OK) {
        free(*text);
        *text = NULL;
        return err->code;
    }
    MPI_Bcast(&len, 1, MPI_LONG, 0, comm);
    if (rank != 0) {
        *text = malloc((size_t)len + 1);
        if (*text == NULL)
            spex_error_set(err, SPEX_EINTERNAL, "out of memory for the study text");
    }
    if (spex_error_agree(comm, err) != SPEX_OK) {
        free(*text);
        *text = NULL;
        return err->code;
    }
    MPI_Bcast(*text, (int)len + 1, MPI_CHAR, 0, comm);
    return SPEX_OK;
}

/* Builds the effective study: the file (or the embedded default), then the
 * overrides in order, then the final checks.  Collective on comm. */
static spex_status load_study(MPI_Comm comm, const char *path, char **sets, int nsets,
                              const char *output, spex_config *cfg, spex_error *err)
{
    spex_status st = SPEX_OK;
    char *text = NULL;
    spex_config_defaults(cfg);
    if (path) {
        SPEX_CHECK(read_study_text(comm, path, &text, err));
        char dirbuf[SPEX_PATH_MAX];
        snprintf(dirbuf, sizeof dirbuf, "%s", path);
        st = spex_config_load_string(cfg, text, path, dirname(dirbuf), err);
        snprintf(cfg->origin, sizeof cfg->origin, "%s", path);
    } else {
        st = spex_config_load_string(cfg, spex_default_study, "(default study)", NULL, err);
        snprintf(cfg->origin, sizeof cfg->origin, "(default study)");
    }
    for (int i = 0; st == SPEX_OK && i < nsets; i++)
        st = spex_config_set(cfg, sets[i], err);
    if (st == SPEX_OK && output) {
        if (strlen(output) >= sizeof cfg->output)
            st = spex_error_set(err, SPEX_EUSAGE, "-o: path too long");
        else
            snprintf(cfg->output, sizeof cfg->output, "%s", output);
    }
    if (st == SPEX_OK)
        st = spex_config_finish(cfg, err);
out:
    free(text);
    return st;
}

static void format_features(const spex_term *t, char **names, char *buf, size_t len)
{
    size_t at = 0;
    if (t->order == 0) {
        snprintf(buf, len, "(constant)");
        return;
    }
    buf[0] = '\0';
    for (int q = 0; q < t->order && at < len; q++) {
        int w = names ? snprintf(buf + at, len - at, "%s%s", q ? " x " : "", names[t->feat[q]])
                      : snprintf(buf + at, len - at, "%s%d", q ? " x " : "", (int)t->feat[q]);
        if (w < 0)
            break;
        at += (size_t)w;
    }
}

/* Rank 0's human summary of a finished run. */
static void print_summary(const spex_log *log, const spex_config *cfg, const spex_result *r,
                          const spex_oracle *o, double write_seconds)
{
    spex_log_printf(log, 1, "  stages: design %.3f s, evaluate %.3f s, transform %.3f s, "
                            "decode %.3f s, refine %.3f s, assess %.3f s, write %.3f s\n",
                    r->stage_seconds[SPEX_STAGE_DESIGN], r->stage_seconds[SPEX_STAGE_EVALUATE],
                    r->stage_seconds[SPEX_STAGE_TRANSFORM], r->stage_seconds[SPEX_STAGE_DECODE],
                    r->stage_seconds[SPEX_STAGE_REFINE], r->stage_seconds[SPEX_STAGE_ASSESS],
                    write_seconds);
    int proxy = strcmp(r->method, "proxyspex") == 0;
    int baseline = cfg->method == SPEX_METHOD_LIME || cfg->method == SPEX_METHOD_BANZHAF ||
                   cfg->method == SPEX_METHOD_FAITH_BANZHAF;
    if (!isnan(r->faithfulness_r2) && baseline)
        spex_log_printf(log, 1, "  faithfulness: R^2 = %.6f on %llu held-out masks (%s fit by %s)\n",
                        r->faithfulness_r2, (unsigned long long)r->test_queries, r->method,
                        r->refine);
    else if (!isnan(r->faithfulness_r2))
        spex_log_printf(log, 1, "  faithfulness: R^2 = %.6f on %llu held-out masks (%s: %.6f; "
                                "refinement: %s)\n",
                        r->faithfulness_r2, (unsigned long long)r->test_queries,
                        proxy ? "proxy terms before the refit" : "peeled estimates",
                        r->r2_peeled, r->refine);
    if (r->noise_sigma > 0)
        spex_log_printf(log, 1, "  noise: sigma = %.4g per query (%s); noise-robust decoding\n",
                        r->noise_sigma, isnan(cfg->method_sigma) ? "estimated from the bins"
                                                                 : "method.noise_sigma");
    if (baseline)
        spex_log_printf(log, 1, "  baseline %s: %zu terms of order <= %d fitted on %s\n",
                        r->method, r->fourier.count, r->max_order,
                        cfg->baseline_queries == SPEX_BASELINE_UNIFORM
                            ? "uniform random masks (as many as the SPEX design's queries)"
                            : "the SPEX design's queries");
    else if (proxy)
        spex_log_printf(log, 1, "  kept %zu terms of the tree proxy's spectrum\n", r->fourier.count);
    else
        spex_log_printf(log, 1, "  recovered %zu terms in %d peeling rounds; %llu of %llu bins left "
                                "unresolved\n",
                        r->fourier.count, r->peel_rounds, (unsigned long long)r->bins_unresolved,
                        (unsigned long long)((uint64_t)r->groups << r->b));
    if (r->peak_rss_kib) {
        int64_t hi = 0;
        for (int q = 0; q < r->ranks; q++)
            hi = r->peak_rss_kib[q] > hi ? r->peak_rss_kib[q] : hi;
        spex_log_printf(log, 1, "  peak memory: %.1f MiB on the largest of %d rank%s\n",
                        (double)hi / 1024.0, r->ranks, r->ranks == 1 ? "" : "s");
    }
    if (r->bins_unresolved > 0)
        spex_log_printf(log, 1, "  warning: %llu bins still hold energy: the function may have "
                                "more terms than 2^%d bins resolve, or terms above order %d; try "
                                "a larger method.b or method.max_order\n",
                        (unsigned long long)r->bins_unresolved, r->b, r->max_order);
    size_t top = (size_t)cfg->top_k < r->fourier.count ? (size_t)cfg->top_k : r->fourier.count;
    if (top > 0) {
        spex_log_printf(log, 1, "  top %zu interactions (Fourier coefficients):\n", top);
        spex_log_printf(log, 1, "  %5s %5s  %-40s %14s\n", "rank", "order", "features", "coef");
        for (size_t i = 0; i < top; i++) {
            char feats[512];
            format_features(&r->fourier.terms[i], r->names, feats, sizeof feats);
            spex_log_printf(log, 1, "  %5zu %5d  %-40s %+14.6g\n", i + 1, r->fourier.terms[i].order,
                            feats, r->fourier.terms[i].coef);
        }
    }
    if (o->truth) {
        /* The synthetic oracle knows its spectrum: say how right we were. */
        double cmax = 0;
        for (size_t i = 0; i < o->truth->count; i++)
            cmax = fmax(cmax, fabs(o->truth->terms[i].coef));
        spex_recovery rec;
        spex_spectrum_compare(o->truth, &r->fourier, 1e-9 * cmax, &rec);
        spex_log_printf(log, 1, "  check against the known spectrum: %zu of %zu true terms found, "
                                "%zu false terms above 1e-9 of the largest, max relative "
                                "coefficient error %.2g\n",
                        rec.found, rec.true_terms, rec.false_terms, rec.max_rel_err);
    }
}

/* The arguments of `run` and `plan`: [STUDY] [--set k=v ...] [-o FILE] [-q]. */
typedef struct run_args {
    const char *study, *output;
    char **sets; /* argc + 1 slots; owned */
    int nsets, verbosity;
} run_args;

/* Local.  Parses args for command cmd ("run", "plan"); the same on every
 * rank, so errors need no agreement. */
static spex_status parse_run_args(const char *cmd, int argc, char **argv, run_args *ra,
                                  spex_error *err)
{
    memset(ra, 0, sizeof *ra);
    ra->verbosity = 1;
    ra->sets = calloc((size_t)argc + 1, sizeof *ra->sets);
    if (ra->sets == NULL)
        return spex_error_set(err, SPEX_EINTERNAL, "out of memory");
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--set") == 0 || strcmp(a, "-s") == 0) {
            if (i + 1 >= argc)
                return spex_error_set(err, SPEX_EUSAGE, "%s needs section.key=value", a);
            ra->sets[ra->nsets++] = argv[++i];
        } else if (strncmp(a, "--set=", 6) == 0) {
            ra->sets[ra->nsets++] = argv[i] + 6;
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            if (i + 1 >= argc)
                return spex_error_set(err, SPEX_EUSAGE, "%s needs a file name", a);
            ra->output = argv[++i];
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            ra->verbosity = 0;
        } else if (a[0] == '-' && a[1] != '\0') {
            if (strcmp(cmd, "run") == 0)
                return spex_error_set(err, SPEX_EUSAGE, "unknown option '%s' (see spex --help)", a);
            return spex_error_set(err, SPEX_EUSAGE, "unknown option '%s' for %s", a, cmd);
        } else if (ra->study == NULL) {
            ra->study = a;
        } else {
            return spex_error_set(err, SPEX_EUSAGE, "more than one study file: '%s' and '%s'",
                                  ra->study, a);
        }
    }
    return SPEX_OK;
}

static int cmd_run(MPI_Comm comm, int argc, char **argv, spex_error *err)
{
    spex_status st = SPEX_OK;
    run_args ra;
    spex_config cfg;
    spex_oracle *o = NULL;
    spex_result res;
    spex_result_init(&res);
    spex_log log;
    SPEX_CHECK(parse_run_args("run", argc, argv, &ra, err));
    spex_log_init(&log, comm, ra.verbosity);
    /* Argument errors are identical on every rank; from here on ranks agree. */
    SPEX_CHECK(load_study(comm, ra.study, ra.sets, ra.nsets, ra.output, &cfg, err));
    spex_log_printf(&log, 1, "spex %s: study '%s' from %s\n", SPEX_VERSION_STRING, cfg.study_name,
                    cfg.origin);
    SPEX_CHECK(spex_oracle_create(comm, &cfg, &o, err));
    if (cfg.names[0]) {
        spex_names_read(cfg.names, cfg.n, &res.names, err);
        res.n_features = cfg.n; /* so that spex_result_free frees every name */
        SPEX_CHECK(spex_error_agree(comm, err));
    }
    if (cfg.positions[0]) {
        /* Names from this file when the study gave no names file. */
        spex_positions_read(cfg.positions, cfg.n, res.names, res.names ? NULL : &res.names,
                            &res.chromosomes, &res.positions, err);
        res.n_features = cfg.n;
        SPEX_CHECK(spex_error_agree(comm, err));
    }
    spex_signal_install();
    SPEX_CHECK(spex_run_study(comm, &cfg, o, &log, &res, err));
    res.config = spex_config_dump(&cfg);
    if (res.config == NULL)
        spex_error_set(err, SPEX_EINTERNAL, "out of memory");
    SPEX_CHECK(spex_error_agree(comm, err));
    /* The write stage is not known while its own file is written. */
    res.stage_seconds[SPEX_STAGE_WRITE] = NAN;
    double t0 = spex_now();
    SPEX_CHECK(spex_h5_write_result(comm, cfg.output, &res, err));
    double tw = spex_now() - t0;
    if (res.checkpoint[0]) {
        /* The result supersedes the checkpoint. */
        spex_ckpt ck = {res.checkpoint, NULL, 0, 0};
        spex_ckpt_remove(comm, &ck);
    }
    print_summary(&log, &cfg, &res, o, tw);
    spex_log_printf(&log, 1, "  wrote %s (%.2f s in all)\n", cfg.output, res.wall_seconds + tw);
out:
    spex_result_free(&res);
    spex_oracle_destroy(o);
    free(ra.sets);
    return st;
}

/* spex plan [STUDY] [--set ...] -o PLAN.h5: the study's queries, for values
 * computed elsewhere (doc/two-phase.md). */
static int cmd_plan(MPI_Comm comm, int argc, char **argv, spex_error *err)
{
    spex_status st = SPEX_OK;
    run_args ra;
    spex_config cfg;
    spex_log log;
    SPEX_CHECK(parse_run_args("plan", argc, argv, &ra, err));
    if (ra.output == NULL) {
        st = spex_error_set(err, SPEX_EUSAGE, "plan needs the plan file to write: -o PLAN.h5");
        goto out;
    }
    spex_log_init(&log, comm, ra.verbosity);
    /* study.output stays the result's name: the plan file is not a result. */
    SPEX_CHECK(load_study(comm, ra.study, ra.sets, ra.nsets, NULL, &cfg, err));
    spex_log_printf(&log, 1, "spex %s: study '%s' from %s\n", SPEX_VERSION_STRING, cfg.study_name,
                    cfg.origin);
    SPEX_CHECK(spex_plan_write(comm, &cfg, ra.output, &log, err));
out:
    free(ra.sets);
    return st;
}

/* spex decode [STUDY] [--set ...] --values PLAN.h5 [-o RESULT.h5]: spex run
 * with the values of a filled plan (oracle.kind = hdf5, oracle.values). */
static int cmd_decode(MPI_Comm comm, int argc, char **argv, spex_error *err)
{
    spex_status st = SPEX_OK;
    const char *values = NULL;
    char *set_values = NULL;
    char **args = calloc((size_t)argc + 4, sizeof *args);
    int nargs = 0;
    if (args == NULL) {
        st = spex_error_set(err, SPEX_EINTERNAL, "out of memory");
        goto out;
    }
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--values") == 0) {
            if (i + 1 >= argc) {
                st = spex_error_set(err, SPEX_EUSAGE, "--values needs the filled plan file");
                goto out;
            }
            values = argv[++i];
        } else if (strncmp(argv[i], "--values=", 9) == 0) {
            values = argv[i] + 9;
        } else {
            if (strcmp(argv[i], "--set") == 0 || strcmp(argv[i], "-s") == 0 ||
                strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0)
                if (i + 1 < argc)
                    args[nargs++] = argv[i++]; /* keep an option's value with it */
            args[nargs++] = argv[i];
        }
    }
    if (values == NULL || values[0] == '\0') {
        st = spex_error_set(err, SPEX_EUSAGE,
                            "decode needs the filled plan: --values PLAN.h5 (see spex --help)");
        goto out;
    }
    size_t len = strlen("oracle.values=") + strlen(values) + 1;
    set_values = malloc(len);
    if (set_values == NULL) {
        st = spex_error_set(err, SPEX_EINTERNAL, "out of memory");
        goto out;
    }
    snprintf(set_values, len, "oracle.values=%s", values);
    /* Last, so that they win over the study and any --set. */
    args[nargs++] = "--set";
    args[nargs++] = "oracle.kind=hdf5";
    args[nargs++] = "--set";
    args[nargs++] = set_values;
    st = cmd_run(comm, nargs, args, err);
out:
    free(set_values);
    free(args);
    return st;
}

static int cmd_show(int argc, char **argv, spex_error *err)
{
    const char *path = NULL, *index = NULL;
    int top = 20;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--top") == 0 || strcmp(argv[i], "-n") == 0) {
            char *end;
            if (i + 1 >= argc)
                return spex_error_set(err, SPEX_EUSAGE, "--top needs a number");
            long v = strtol(argv[++i], &end, 10);
            if (*end || end == argv[i] || v < 0 || v > 1000000000)
                return spex_error_set(err, SPEX_EUSAGE, "--top '%s' is not a count", argv[i]);
            top = (int)v;
        } else if (strcmp(argv[i], "--index") == 0 || strcmp(argv[i], "-i") == 0) {
            if (i + 1 >= argc)
                return spex_error_set(err, SPEX_EUSAGE, "--index needs a name");
            index = argv[++i];
        } else if (argv[i][0] == '-') {
            return spex_error_set(err, SPEX_EUSAGE, "unknown option '%s' for show", argv[i]);
        } else if (path == NULL) {
            path = argv[i];
        } else {
            return spex_error_set(err, SPEX_EUSAGE, "show takes one result file");
        }
    }
    if (path == NULL)
        return spex_error_set(err, SPEX_EUSAGE, "show needs a result file: spex show RESULT.h5");
    return spex_show(path, top, index, stdout, err);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm comm = MPI_COMM_WORLD;
    int rank;
    MPI_Comm_rank(comm, &rank);
    spex_error err;
    spex_error_clear(&err);
    spex_status st = SPEX_OK;

    const char *cmd = argc > 1 ? argv[1] : NULL;
    if (cmd == NULL) {
        if (rank == 0)
            print_usage(stderr);
        st = SPEX_EUSAGE;
    } else if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        if (rank == 0)
            print_usage(stdout);
    } else if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        if (rank == 0)
            printf("spex %s\n", SPEX_VERSION_STRING);
    } else if (strcmp(cmd, "keys") == 0) {
        if (rank == 0)
            spex_config_print_keys(stdout);
    } else if (strcmp(cmd, "run") == 0) {
        st = cmd_run(comm, argc - 2, argv + 2, &err);
    } else if (strcmp(cmd, "plan") == 0) {
        st = cmd_plan(comm, argc - 2, argv + 2, &err);
    } else if (strcmp(cmd, "decode") == 0) {
        st = cmd_decode(comm, argc - 2, argv + 2, &err);
    } else if (strcmp(cmd, "show") == 0) {
        /* Reading is serial: rank 0 alone. */
        if (rank == 0)
            st = cmd_show(argc - 2, argv + 2, &err);
        st = spex_error_agree(comm, &err);
    } else {
        st = spex_error_set(&err, SPEX_EUSAGE, "unknown command '%s' (see spex --help)", cmd);
    }
    st = spex_error_agree(comm, &err) != SPEX_OK ? err.code : st;
    if (st == SPEX_EINTERRUPTED && rank == 0)
        fprintf(stderr, "spex: %s\n", err.msg);
    else if (st != SPEX_OK && rank == 0 && err.msg[0])
        fprintf(stderr, "spex: error: %s\n", err.msg);
    MPI_Finalize();
    return (int)st;
}
