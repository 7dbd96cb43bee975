/* plan.c -- the plan file of the two-phase flow: written collectively by
 * `spex plan`, checked by `spex decode` (doc/two-phase.md is the reference
 * for users, plan.h the summary).
 *
 * Writing follows the result file's rules (h5io.c): parallel HDF5 under
 * "<path>.tmp-<pid of rank 0>", renamed only when every rank finished;
 * fixed-length strings; the study text as a dataset; identical metadata
 * calls on every rank, and errors agreed before any collective transfer so
 * that no rank waits alone.  The masks are never all in one place: rank q
 * takes the block spex_partition(Q, q, size) of query rows and generates
 * them with spex_design_masks in batches of at most PLAN_BATCH_BYTES, one
 * collective write per batch (every rank joins every round, with an empty
 * selection when its block is done).  The values are written as NaN: a
 * value nobody filled in is then recognisable.
 *
 * Checking reads serially (the default driver) on every rank: rank 0 reads
 * the attributes and datasets' shapes and compares the design with the
 * study's, then every rank scans its block of the values for a NaN or an
 * infinity, so the scan costs Q / size reads per rank.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* getpid, fsync */
#endif

#include "spex/plan.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "spex/assess.h"
#include "spex/design.h"
#include "spex/eval.h"
#include "spex/mask.h"

#ifndef SPEX_VERSION_STRING
#define SPEX_VERSION_STRING "0.1.0"
#endif

/* Bytes of packed masks one rank writes per collective round. */
#define PLAN_BATCH_BYTES ((size_t)16 << 20)
/* Values one rank reads per step while scanning for unfilled ones. */
#define PLAN_SCAN_VALUES ((size_t)1 << 20)

static const char MASK_LAYOUT[] =
    "feature i is bit i%8 of byte i/8; 1 = feature kept, 0 = masked; "
    "query q is design id q = ((c*(P+1)) + p)*2^b + l; test mask i is id 2^62 + i";

/* ---- shared helpers --------------------------------------------------------- */

/* HDF5's own stack printing is off while spex works on a file: spex reports
 * one line of its own. */
typedef struct h5_quiet {
    H5E_auto2_t func;
    void *data;
} h5_quiet;

static void h5_quiet_begin(h5_quiet *q)
{
    H5Eget_auto2(H5E_DEFAULT, &q->func, &q->data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static void h5_quiet_end(const h5_quiet *q) { H5Eset_auto2(H5E_DEFAULT, q->func, q->data); }

/* The innermost message on HDF5's error stack (cleared afterwards). */
static herr_t detail_walk(unsigned n, const H5E_error2_t *e, void *data)
{
    if (n == 0 && e->desc != NULL)
        snprintf(data, 256, "%s", e->desc);
    return 0;
}

static const char *h5_detail(char buf[256])
{
    buf[0] = '\0';
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, detail_walk, buf);
    H5Eclear2(H5E_DEFAULT);
    if (buf[0] == '\0')
        snprintf(buf, 256, "HDF5 error");
    return buf;
}

static void close_obj(hid_t *id)
{
    if (*id >= 0)
        H5Oclose(*id);
    *id = -1;
}

static hid_t string_type(size_t size)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0)
        return t;
    if (H5Tset_size(t, size) < 0 || H5Tset_strpad(t, H5T_STR_NULLTERM) < 0 ||
        H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

spex_status spex_plan_params_of(const spex_config *cfg, spex_plan_params *p, spex_error *err)
{
    memset(p, 0, sizeof *p);
    if (cfg->method != SPEX_METHOD_SPEX)
        return spex_error_set(err, SPEX_EUSAGE,
                              "the two-phase flow (spex plan, spex decode, oracle.kind = hdf5) "
                              "serves method.name = spex only: ProxySPEX draws its own samples");
    int b = cfg->b;
    /* As spex_run_study chooses it: the plan must be the design run uses. */
    if (b == 0)
        b = spex_design_choose_b(cfg->n, cfg->max_order, cfg->groups, cfg->delays, cfg->budget,
                                 cfg->sparsity);
    if (b == 0)
        return spex_error_set(err, SPEX_EUSAGE,
                              "method.budget = %lld is below the smallest design (b = 1): raise "
                              "the budget or lower method.max_order",
                              (long long)cfg->budget);
    int dc = spex_design_delay_count(cfg->n, cfg->max_order, cfg->delays);
    if (dc < 1)
        return spex_error_set(err, SPEX_EUSAGE, "no %s delays for features.n = %d, "
                              "method.max_order = %d",
                              spex_config_enum_name("method.delays", cfg->delays), cfg->n,
                              cfg->max_order);
    p->n = cfg->n;
    p->b = b;
    p->groups = cfg->groups;
    p->max_order = cfg->max_order;
    p->delays = cfg->delays;
    p->delays_count = dc;
    p->seed = cfg->seed;
    p->queries = ((uint64_t)cfg->groups * (uint64_t)dc) << b;
    p->test_masks = (uint64_t)cfg->test_masks;
    return SPEX_OK;
}

/* ---- writing ------------------------------------------------------------------ */

typedef struct plan_writer {
    const char *tmp; /* the file being written, for messages */
    spex_error *err;
    int rank, size;
    hid_t dxpl;      /* collective transfers */
} plan_writer;

static void pw_fail(plan_writer *w, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Records "cannot write 'tmp': <what> failed (<HDF5 detail>)". */
static void pw_fail(plan_writer *w, const char *fmt, ...)
{
    char what[256], detail[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    spex_error_set(w->err, SPEX_EIO, "cannot write '%s': %s failed (%s)", w->tmp, what,
                   h5_detail(detail));
}

static void pw_attr(plan_writer *w, hid_t obj, const char *name, hid_t ftype, hid_t mtype,
                    const void *value)
{
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = space >= 0 ? H5Acreate2(obj, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT) : -1;
    if (a < 0 || H5Awrite(a, mtype, value) < 0)
        pw_fail(w, "writing attribute '%s'", name);
    if (a >= 0)
        H5Aclose(a);
    if (space >= 0)
        H5Sclose(space);
}

static void pw_attr_i32(plan_writer *w, hid_t obj, const char *name, int32_t v)
{
    pw_attr(w, obj, name, H5T_STD_I32LE, H5T_NATIVE_INT32, &v);
}

static void pw_attr_u64(plan_writer *w, hid_t obj, const char *name, uint64_t v)
{
    pw_attr(w, obj, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &v);
}

static void pw_attr_str(plan_writer *w, hid_t obj, const char *name, const char *s)
{
    hid_t t = string_type(strlen(s) + 1);
    if (t < 0)
        pw_fail(w, "preparing attribute '%s'", name);
    else
        pw_attr(w, obj, name, t, t, s);
    if (t >= 0)
        H5Tclose(t);
}

static hid_t pw_group(plan_writer *w, hid_t fid, const char *name)
{
    hid_t g = H5Gcreate2(fid, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        pw_fail(w, "creating group %s", name);
    return g;
}

/* A contiguous dataset, never pre-filled (every element is written). */
static hid_t pw_dataset(plan_writer *w, hid_t fid, const char *name, hid_t ftype, int ndims,
                        const hsize_t *dims)
{
    hid_t space = ndims == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(ndims, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t d = -1;
    if (space >= 0 && dcpl >= 0 && H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) >= 0)
        d = H5Dcreate2(fid, name, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (d < 0)
        pw_fail(w, "creating dataset %s", name);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (space >= 0)
        H5Sclose(space);
    return d;
}

/* Collective.  Writes rows [lo, hi) of d (width elements per row; 0 for a
 * 1-D dataset) from buf.  A rank without rows selects nothing but joins. */
static void pw_rows(plan_writer *w, hid_t d, const char *name, hid_t mtype, hsize_t width,
                    hsize_t lo, hsize_t hi, const void *buf)
{
    static const double no_rows = 0; /* HDF5 rejects a NULL buffer */
    hsize_t start[2] = {lo, 0}, count[2] = {hi - lo, width};
    hid_t fspace = H5Dget_space(d), mspace = -1;
    /* An empty dataset has no storage; its extent is the same everywhere. */
    if (fspace >= 0 && H5Sget_simple_extent_npoints(fspace) == 0) {
        H5Sclose(fspace);
        return;
    }
    mspace = H5Screate_simple(width > 0 ? 2 : 1, count, NULL);
    herr_t rc = fspace >= 0 && mspace >= 0 ? 0 : -1;
    if (rc >= 0 && hi > lo)
        rc = H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL);
    else if (rc >= 0)
        rc = H5Sselect_none(fspace) < 0 || H5Sselect_none(mspace) < 0 ? -1 : 0;
    if (rc < 0 || H5Dwrite(d, mtype, mspace, fspace, w->dxpl, hi > lo ? buf : &no_rows) < 0)
        pw_fail(w, "writing dataset %s", name);
    if (mspace >= 0)
        H5Sclose(mspace);
    if (fspace >= 0)
        H5Sclose(fspace);
}

/* The datasets of a plan. */
typedef struct plan_layout {
    hid_t g_study, g_queries, g_test;
    hid_t d_config, q_masks, q_values, t_masks, t_values;
} plan_layout;

static void plan_layout_close(plan_layout *l)
{
    close_obj(&l->d_config);
    close_obj(&l->q_masks);
    close_obj(&l->q_values);
    close_obj(&l->t_masks);
    close_obj(&l->t_values);
    close_obj(&l->g_study);
    close_obj(&l->g_queries);
    close_obj(&l->g_test);
}

/* Collective.  Attributes, groups and datasets: identical calls with
 * identical values on every rank. */
static void plan_layout_create(plan_writer *w, hid_t fid, const spex_config *cfg,
                               const spex_plan_params *p, const char *config,
                               const char *created, plan_layout *l)
{
    hsize_t nbytes = ((hsize_t)p->n + 7) / 8;
    hsize_t qdims[2] = {p->queries, nbytes}, tdims[2] = {p->test_masks, nbytes};
    int64_t seed = p->seed;

    pw_attr_str(w, fid, "format", SPEX_PLAN_FORMAT);
    pw_attr_i32(w, fid, "format_version", SPEX_PLAN_FORMAT_VERSION);
    pw_attr_str(w, fid, "spex_version", SPEX_VERSION_STRING);
    pw_attr_str(w, fid, "study", cfg->study_name);
    pw_attr_str(w, fid, "created", created);
    pw_attr_str(w, fid, "method", "spex");
    pw_attr_i32(w, fid, "n_features", p->n);
    pw_attr_i32(w, fid, "mask_bytes", (int32_t)nbytes);
    pw_attr_i32(w, fid, "b", p->b);
    pw_attr_i32(w, fid, "groups", p->groups);
    pw_attr_i32(w, fid, "max_order", p->max_order);
    pw_attr_str(w, fid, "delays", spex_config_enum_name("method.delays", p->delays));
    pw_attr_i32(w, fid, "delays_count", p->delays_count);
    pw_attr_u64(w, fid, "queries", p->queries);
    pw_attr(w, fid, "seed", H5T_STD_I64LE, H5T_NATIVE_INT64, &seed);
    pw_attr_u64(w, fid, "test_masks", p->test_masks);
    pw_attr_u64(w, fid, "test_id_base", SPEX_TEST_ID_BASE);
    pw_attr_str(w, fid, "mask_layout", MASK_LAYOUT);

    l->g_study = pw_group(w, fid, "/study");
    hid_t t = string_type(strlen(config) + 1);
    l->d_config = pw_dataset(w, fid, "/study/config", t, 0, NULL);
    if (t >= 0)
        H5Tclose(t);
    l->g_queries = pw_group(w, fid, "/queries");
    l->q_masks = pw_dataset(w, fid, "/queries/masks", H5T_STD_U8LE, 2, qdims);
    l->q_values = pw_dataset(w, fid, "/queries/values", H5T_IEEE_F64LE, 1, qdims);
    l->g_test = pw_group(w, fid, "/test");
    l->t_masks = pw_dataset(w, fid, "/test/masks", H5T_STD_U8LE, 2, tdims);
    l->t_values = pw_dataset(w, fid, "/test/values", H5T_IEEE_F64LE, 1, tdims);
}

/* Collective.  The scalar study text; rank 0 supplies it. */
static void plan_write_config(plan_writer *w, hid_t d, const char *config)
{
    hid_t t = string_type(strlen(config) + 1);
    hid_t fspace = H5Dget_space(d), mspace = H5Screate(H5S_SCALAR);
    herr_t rc = t >= 0 && fspace >= 0 && mspace >= 0 ? 0 : -1;
    if (rc >= 0 && w->rank != 0)
        rc = H5Sselect_none(fspace) < 0 || H5Sselect_none(mspace) < 0 ? -1 : 0;
    if (rc < 0 || H5Dwrite(d, t, mspace, fspace, w->dxpl, config) < 0)
        pw_fail(w, "writing dataset /study/config");
    if (mspace >= 0)
        H5Sclose(mspace);
    if (fspace >= 0)
        H5Sclose(fspace);
    if (t >= 0)
        H5Tclose(t);
}

/* Local.  Masks of design ids [id, id + count) into masks (count * words
 * words); the run may cross signal boundaries. */
static void design_ids(const spex_design *d, uint64_t id, size_t count, uint64_t *masks)
{
    uint64_t bins = spex_design_bins(d);
    size_t done = 0;
    while (done < count) {
        uint64_t s = id >> d->b, l = id & (bins - 1);
        size_t k = (size_t)(bins - l) < count - done ? (size_t)(bins - l) : count - done;
        spex_design_masks(d, (int)(s / (uint64_t)(d->P + 1)), (int)(s % (uint64_t)(d->P + 1)), l,
                          k, masks + done * d->words);
        done += k;
        id += k;
    }
}

/* Collective on comm.  Writes this rank's block of one mask/value pair of
 * datasets (rows: d != NULL, the design's queries; d == NULL, the test
 * masks of seed) in rounds of at most `rows` rows.  Every rank takes the
 * same number of rounds and the ranks agree on errors before each. */
static void plan_write_rows(plan_writer *w, MPI_Comm comm, const spex_design *d, uint64_t seed,
                            int n, uint64_t total, hid_t dmask, hid_t dval, const char *what,
                            size_t rows, spex_progress *prog, double *done, double scale)
{
    size_t lo, hi, words = spex_mask_words(n), nbytes = ((size_t)n + 7) / 8;
    spex_partition((size_t)total, w->rank, w->size, &lo, &hi);
    uint64_t *masks = malloc(rows * words * sizeof *masks);
    uint8_t *bytes = malloc(rows * nbytes);
    double *nan = malloc(rows * sizeof *nan);
    if (masks == NULL || bytes == NULL || nan == NULL)
        spex_error_set(w->err, SPEX_EINTERNAL, "out of memory for %zu plan rows", rows);
    for (size_t i = 0; nan != NULL && i < rows; i++)
        nan[i] = NAN;
    char mname[64], vname[64];
    snprintf(mname, sizeof mname, "/%s/masks", what);
    snprintf(vname, sizeof vname, "/%s/values", what);
    /* The largest block (spex_partition: the first ones are one longer). */
    size_t most = (size_t)total / (size_t)w->size + ((size_t)total % (size_t)w->size != 0);
    size_t rounds = (most + rows - 1) / rows;
    for (size_t r = 0; r < rounds; r++) {
        if (spex_error_agree(comm, w->err) != SPEX_OK)
            break;
        size_t a = lo + r * rows;
        size_t cnt = a < hi ? (hi - a < rows ? hi - a : rows) : 0;
        if (a > hi)
            a = hi;
        if (d != NULL) {
            design_ids(d, a, cnt, masks);
        } else {
            for (size_t i = 0; i < cnt; i++)
                spex_assess_mask(seed, n, a + i, masks + i * words);
        }
        for (size_t i = 0; i < cnt; i++)
            spex_mask_to_bytes(masks + i * words, n, bytes + i * nbytes);
        pw_rows(w, dmask, mname, H5T_NATIVE_UINT8, nbytes, a, a + cnt, bytes);
        pw_rows(w, dval, vname, H5T_NATIVE_DOUBLE, 0, a, a + cnt, nan);
        *done += (double)cnt;
        spex_progress_update(prog, *done * scale);
    }
    free(masks);
    free(bytes);
    free(nan);
}

/* Rank 0 only: flushes the finished file and gives it its name. */
static spex_status plan_publish(const char *tmp, const char *path, spex_error *err)
{
    int fd = open(tmp, O_RDONLY);
    if (fd < 0 || fsync(fd) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return spex_error_set(err, SPEX_EIO, "cannot write '%s': %s", tmp, strerror(e));
    }
    close(fd);
    if (rename(tmp, path) != 0)
        return spex_error_set(err, SPEX_EIO, "cannot rename '%s' to '%s': %s", tmp, path,
                              strerror(errno));
    return SPEX_OK;
}

spex_status spex_plan_write(MPI_Comm comm, const spex_config *cfg, const char *path,
                            const spex_log *log, spex_error *err)
{
    spex_status st = SPEX_OK;
    char tmp[SPEX_PATH_MAX + 32], created[32] = "";
    spex_plan_params p;
    spex_design *d = NULL;
    char *config = NULL;
    plan_layout l = {-1, -1, -1, -1, -1, -1, -1, -1};
    hid_t fapl = -1, fid = -1;
    plan_writer w = {tmp, err, 0, 1, -1};
    int attempted = 0; /* H5Fcreate was called: tmp may exist */
    h5_quiet quiet;
    double t0 = spex_now();

    MPI_Comm_rank(comm, &w.rank);
    MPI_Comm_size(comm, &w.size);
    h5_quiet_begin(&quiet);
    tmp[0] = '\0';

    /* One temporary name and one creation time for all ranks (parallel
     * HDF5 needs identical attribute values everywhere). */
    long pid = (long)getpid();
    MPI_Bcast(&pid, 1, MPI_LONG, 0, comm);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
    MPI_Bcast(created, (int)sizeof created, MPI_CHAR, 0, comm);

    if (strlen(path) >= SPEX_PATH_MAX)
        spex_error_set(err, SPEX_EUSAGE, "-o: plan file name is too long");
    else
        snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, pid);
    if (err->code == SPEX_OK && spex_plan_params_of(cfg, &p, err) == SPEX_OK &&
        spex_design_create(cfg->n, p.b, p.groups, p.max_order, p.delays, (uint64_t)p.seed, &d,
                           err) == SPEX_OK &&
        spex_design_queries(d) != p.queries)
        spex_error_set(err, SPEX_EINTERNAL, "plan: design has %llu queries, expected %llu",
                       (unsigned long long)spex_design_queries(d),
                       (unsigned long long)p.queries);
    if (err->code == SPEX_OK && (config = spex_config_dump(cfg)) == NULL)
        spex_error_set(err, SPEX_EINTERNAL, "out of memory");
    SPEX_CHECK(spex_error_agree(comm, err));

    size_t nbytes = ((size_t)p.n + 7) / 8;
    double total = (double)p.queries + (double)p.test_masks;
    spex_log_printf(log, 1,
                    "spex plan: %d features, max order %d, %d groups x %d delays x 2^%d bins = "
                    "%llu queries + %llu test masks, %.1f MiB of masks, on %d rank%s\n",
                    p.n, p.max_order, p.groups, p.delays_count, p.b,
                    (unsigned long long)p.queries, (unsigned long long)p.test_masks,
                    total * (double)(nbytes + 8) / 1048576.0, w.size, w.size == 1 ? "" : "s");

    fapl = H5Pcreate(H5P_FILE_ACCESS);
    w.dxpl = H5Pcreate(H5P_DATASET_XFER);
    if (fapl < 0 || w.dxpl < 0 || H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL) < 0 ||
        H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST) < 0 ||
        H5Pset_dxpl_mpio(w.dxpl, H5FD_MPIO_COLLECTIVE) < 0)
        pw_fail(&w, "setting up parallel HDF5");
    SPEX_CHECK(spex_error_agree(comm, err));

    attempted = 1;
    fid = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    if (fid < 0) {
        char detail[256];
        const char *why = h5_detail(detail);
        /* MPI-IO hides the reason; rank 0 asks the system. */
        if (w.rank == 0) {
            int fd = open(tmp, O_WRONLY | O_CREAT, 0666);
            if (fd < 0)
                why = strerror(errno);
            else
                close(fd);
        }
        spex_error_set(err, SPEX_EIO, "cannot create '%s': %s", tmp, why);
    }
    SPEX_CHECK(spex_error_agree(comm, err));

    plan_layout_create(&w, fid, cfg, &p, config, created, &l);
    if (spex_error_agree(comm, err) == SPEX_OK)
        plan_write_config(&w, l.d_config, config);

    /* Rows: each rank its block, generated batch by batch. */
    size_t rows = PLAN_BATCH_BYTES / (nbytes ? nbytes : 1);
    rows = rows < 1 ? 1 : rows > 65536 ? 65536 : rows;
    spex_progress prog;
    spex_progress_start(&prog, log, "plan", total);
    size_t lo, hi, tlo, thi;
    spex_partition((size_t)p.queries, w.rank, w.size, &lo, &hi);
    spex_partition((size_t)p.test_masks, w.rank, w.size, &tlo, &thi);
    double mine = (double)(hi - lo) + (double)(thi - tlo), done = 0;
    double scale = mine > 0 ? total / mine : 0; /* rank 0 speaks for the job */
    plan_write_rows(&w, comm, d, 0, p.n, p.queries, l.q_masks, l.q_values, "queries", rows, &prog,
                    &done, scale);
    plan_write_rows(&w, comm, NULL, (uint64_t)p.seed, p.n, p.test_masks, l.t_masks, l.t_values,
                    "test", rows, &prog, &done, scale);

out:
    plan_layout_close(&l);
    if (fid >= 0 && H5Fclose(fid) < 0)
        pw_fail(&w, "closing the file");
    if (w.dxpl >= 0)
        H5Pclose(w.dxpl);
    if (fapl >= 0)
        H5Pclose(fapl);
    if (spex_error_agree(comm, err) == SPEX_OK && w.rank == 0)
        plan_publish(tmp, path, err);
    /* Only a complete file may carry the final name. */
    if (spex_error_agree(comm, err) != SPEX_OK && w.rank == 0 && attempted)
        unlink(tmp);
    st = err->code;
    if (st == SPEX_OK)
        spex_log_printf(log, 1,
                        "  wrote %s in %.2f s: fill /queries/values (and /test/values), then\n"
                        "  spex decode STUDY --values %s -o RESULT.h5  (doc/two-phase.md)\n",
                        path, spex_now() - t0, path);
    spex_design_destroy(d);
    free(config);
    h5_quiet_end(&quiet);
    return st;
}

/* ---- checking ------------------------------------------------------------------ */

typedef struct plan_reader {
    const char *path;
    spex_error *err;
} plan_reader;

static spex_status pr_bad(plan_reader *rd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Records "<path>: <what>" as an input error. */
static spex_status pr_bad(plan_reader *rd, const char *fmt, ...)
{
    char what[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    H5Eclear2(H5E_DEFAULT);
    return spex_error_set(rd->err, SPEX_EINPUT, "%s: %s", rd->path, what);
}

/* Local.  Opens a plan read-only with the default (serial) driver.  The
 * system says best why a file cannot be read; HDF5 why it is not usable. */
static spex_status pr_open(plan_reader *rd, hid_t *fid)
{
    char detail[256];
    *fid = -1;
    FILE *probe = fopen(rd->path, "rb");
    if (probe == NULL)
        return spex_error_set(rd->err, SPEX_EIO, "cannot open '%s': %s", rd->path,
                              strerror(errno));
    fclose(probe);
    if (H5Fis_hdf5(rd->path) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return spex_error_set(rd->err, SPEX_EINPUT, "'%s' is not a spex plan file (not HDF5)",
                              rd->path);
    }
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
#if H5_VERSION_GE(1, 10, 7)
    /* Cluster file systems often lack flock: lock where possible only. */
    if (fapl >= 0)
        H5Pset_file_locking(fapl, 1, 1);
#endif
    *fid = H5Fopen(rd->path, H5F_ACC_RDONLY, fapl >= 0 ? fapl : H5P_DEFAULT);
    /* Before any other call: a successful HDF5 call clears the stack. */
    if (*fid < 0)
        spex_error_set(rd->err, SPEX_EINPUT,
                       "'%s' cannot be opened as HDF5: truncated or damaged? (%s)", rd->path,
                       h5_detail(detail));
    if (fapl >= 0)
        H5Pclose(fapl);
    return *fid < 0 ? rd->err->code : SPEX_OK;
}

/* A scalar numeric root attribute, converted to mtype (class cls). */
static spex_status pr_attr_num(plan_reader *rd, hid_t fid, const char *name, H5T_class_t cls,
                               hid_t mtype, void *out)
{
    spex_status st = SPEX_OK;
    hid_t a = -1, t = -1, space = -1;
    if (H5Aexists(fid, name) <= 0)
        return pr_bad(rd, "attribute '%s' is missing (not a complete spex plan)", name);
    a = H5Aopen(fid, name, H5P_DEFAULT);
    t = a >= 0 ? H5Aget_type(a) : -1;
    space = a >= 0 ? H5Aget_space(a) : -1;
    if (t < 0 || space < 0 || H5Tget_class(t) != cls ||
        H5Sget_simple_extent_npoints(space) != 1 || H5Aread(a, mtype, out) < 0)
        st = pr_bad(rd, "attribute '%s' is not a single %s", name,
                    cls == H5T_INTEGER ? "integer" : "string");
    if (space >= 0)
        H5Sclose(space);
    if (t >= 0)
        H5Tclose(t);
    if (a >= 0)
        H5Aclose(a);
    return st;
}

static spex_status pr_attr_int(plan_reader *rd, hid_t fid, const char *name, int *v)
{
    int32_t x = 0;
    spex_status st = pr_attr_num(rd, fid, name, H5T_INTEGER, H5T_NATIVE_INT32, &x);
    *v = x;
    return st;
}

/* A string root attribute into buf (cap bytes); absent or not a string:
 * buf is "" and the result SPEX_EINPUT, without recording an error. */
static spex_status pr_attr_str(hid_t fid, const char *name, char *buf, size_t cap)
{
    spex_status st = SPEX_EINPUT;
    hid_t a = -1, t = -1, mt = -1, space = -1;
    buf[0] = '\0';
    if (H5Aexists(fid, name) <= 0)
        goto out;
    a = H5Aopen(fid, name, H5P_DEFAULT);
    t = a >= 0 ? H5Aget_type(a) : -1;
    space = a >= 0 ? H5Aget_space(a) : -1;
    if (t < 0 || space < 0 || H5Tget_class(t) != H5T_STRING || H5Tis_variable_str(t) > 0 ||
        H5Sget_simple_extent_npoints(space) != 1 || H5Tget_size(t) + 1 > cap)
        goto out;
    mt = string_type(H5Tget_size(t) + 1);
    if (mt >= 0 && H5Aread(a, mt, buf) >= 0)
        st = SPEX_OK;
out:
    H5Eclear2(H5E_DEFAULT);
    if (mt >= 0)
        H5Tclose(mt);
    if (space >= 0)
        H5Sclose(space);
    if (t >= 0)
        H5Tclose(t);
    if (a >= 0)
        H5Aclose(a);
    if (st != SPEX_OK)
        buf[0] = '\0';
    return st;
}

/* "float64[100]" / "uint8[10][2]" / "a string": what a dataset is. */
static void describe(hid_t t, hid_t space, char *buf, size_t cap)
{
    H5T_class_t cls = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
    size_t bits = t >= 0 ? 8 * H5Tget_size(t) : 0;
    int at;
    if (cls == H5T_FLOAT)
        at = snprintf(buf, cap, "float%zu", bits);
    else if (cls == H5T_INTEGER)
        at = snprintf(buf, cap, "%sint%zu", H5Tget_sign(t) == H5T_SGN_NONE ? "u" : "", bits);
    else
        at = snprintf(buf, cap, "%s", cls == H5T_STRING ? "string" : "of another type");
    hsize_t dims[H5S_MAX_RANK];
    int nd = space >= 0 ? H5Sget_simple_extent_dims(space, dims, NULL) : -1;
    for (int i = 0; i < nd && at > 0 && (size_t)at < cap; i++)
        at += snprintf(buf + at, cap - (size_t)at, "[%llu]", (unsigned long long)dims[i]);
    if (nd == 0 && at > 0 && (size_t)at < cap)
        snprintf(buf + at, cap - (size_t)at, " scalar");
}

/* Checks that dataset name is integer of 1 byte (width > 0: masks) or
 * floating point (width 0: values) with the extent [rows] or [rows][width]. */
static spex_status pr_check_dataset(plan_reader *rd, hid_t fid, const char *name, uint64_t rows,
                                    uint64_t width)
{
    spex_status st = SPEX_OK;
    hid_t d = -1, t = -1, space = -1;
    if (H5Lexists(fid, name, H5P_DEFAULT) <= 0 || (d = H5Dopen2(fid, name, H5P_DEFAULT)) < 0)
        return pr_bad(rd, "dataset %s is missing", name);
    t = H5Dget_type(d);
    space = H5Dget_space(d);
    hsize_t dims[H5S_MAX_RANK];
    int nd = space >= 0 ? H5Sget_simple_extent_dims(space, dims, NULL) : -1;
    H5T_class_t cls = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
    int ok = width > 0 ? cls == H5T_INTEGER && H5Tget_size(t) == 1 && nd == 2 &&
                             dims[0] == rows && dims[1] == width
                       : cls == H5T_FLOAT && nd == 1 && dims[0] == rows;
    if (!ok) {
        char want[64], got[128];
        if (width > 0)
            snprintf(want, sizeof want, "uint8[%llu][%llu]", (unsigned long long)rows,
                     (unsigned long long)width);
        else
            snprintf(want, sizeof want, "float64[%llu]", (unsigned long long)rows);
        describe(t, space, got, sizeof got);
        st = pr_bad(rd, "dataset %s is %s, expected %s", name, got, want);
    }
    if (space >= 0)
        H5Sclose(space);
    if (t >= 0)
        H5Tclose(t);
    H5Dclose(d);
    return st;
}

/* Rank 0: the format, the design against the study's, the datasets. */
static spex_status pr_check_file(plan_reader *rd, hid_t fid, const spex_config *cfg,
                                 const spex_plan_params *want, spex_plan_params *got)
{
    spex_status st = SPEX_OK;
    char format[64], delays[32];
    int version = 0;
    memset(got, 0, sizeof *got);
    if (pr_attr_str(fid, "format", format, sizeof format) != SPEX_OK ||
        strcmp(format, SPEX_PLAN_FORMAT) != 0) {
        if (format[0])
            return spex_error_set(rd->err, SPEX_EINPUT,
                                  "'%s' is not a spex plan file (its format is '%s')", rd->path,
                                  format);
        return spex_error_set(rd->err, SPEX_EINPUT, "'%s' is not a spex plan file", rd->path);
    }
    SPEX_CHECK(pr_attr_int(rd, fid, "format_version", &version));
    if (version != SPEX_PLAN_FORMAT_VERSION)
        return pr_bad(rd, "format_version %d, this spex reads %d", version,
                      SPEX_PLAN_FORMAT_VERSION);
    SPEX_CHECK(pr_attr_int(rd, fid, "n_features", &got->n));
    SPEX_CHECK(pr_attr_int(rd, fid, "b", &got->b));
    SPEX_CHECK(pr_attr_int(rd, fid, "groups", &got->groups));
    SPEX_CHECK(pr_attr_int(rd, fid, "max_order", &got->max_order));
    if (pr_attr_str(fid, "delays", delays, sizeof delays) != SPEX_OK)
        return pr_bad(rd, "attribute 'delays' is missing or not a string");
    SPEX_CHECK(pr_attr_int(rd, fid, "delays_count", &got->delays_count));
    SPEX_CHECK(pr_attr_num(rd, fid, "seed", H5T_INTEGER, H5T_NATIVE_INT64, &got->seed));
    SPEX_CHECK(pr_attr_num(rd, fid, "queries", H5T_INTEGER, H5T_NATIVE_UINT64, &got->queries));
    SPEX_CHECK(pr_attr_num(rd, fid, "test_masks", H5T_INTEGER, H5T_NATIVE_UINT64,
                           &got->test_masks));
    got->delays = strcmp(delays, "identity") == 0 ? SPEX_DELAYS_IDENTITY : SPEX_DELAYS_BCH;

    /* The parameters the design is made of, each named by its study key. */
    const char *chosen = cfg->b == 0 ? " (chosen from method.budget/sparsity)" : "";
    const char *wd = spex_config_enum_name("method.delays", want->delays);
    if (got->n != want->n)
        return pr_bad(rd, "planned for features.n = %d, this study has features.n = %d", got->n,
                      want->n);
    if (got->b != want->b)
        return pr_bad(rd, "planned for method.b = %d, this study has method.b = %d%s", got->b,
                      want->b, chosen);
    if (got->groups != want->groups)
        return pr_bad(rd, "planned for method.groups = %d, this study has method.groups = %d",
                      got->groups, want->groups);
    if (got->max_order != want->max_order)
        return pr_bad(rd,
                      "planned for method.max_order = %d, this study has method.max_order = %d",
                      got->max_order, want->max_order);
    if (strcmp(delays, wd) != 0)
        return pr_bad(rd, "planned for method.delays = %s, this study has method.delays = %s",
                      delays, wd);
    if (got->seed != want->seed)
        return pr_bad(rd, "planned for study.seed = %lld, this study has study.seed = %lld",
                      (long long)got->seed, (long long)want->seed);
    if (got->delays_count != want->delays_count || got->queries != want->queries)
        return pr_bad(rd,
                      "has %llu queries (%d delays), this study's design %llu (%d delays): "
                      "written by another spex version?",
                      (unsigned long long)got->queries, got->delays_count,
                      (unsigned long long)want->queries, want->delays_count);
    /* Test mask i depends on (seed, i) only: any prefix of the plan's serves. */
    if (got->test_masks < want->test_masks)
        return pr_bad(rd,
                      "has %llu test masks, this study asks for output.test_masks = %llu (use "
                      "at most the plan's, or 0 to skip faithfulness)",
                      (unsigned long long)got->test_masks,
                      (unsigned long long)want->test_masks);

    uint64_t nbytes = ((uint64_t)got->n + 7) / 8;
    SPEX_CHECK(pr_check_dataset(rd, fid, "/queries/masks", got->queries, nbytes));
    SPEX_CHECK(pr_check_dataset(rd, fid, "/queries/values", got->queries, 0));
    SPEX_CHECK(pr_check_dataset(rd, fid, "/test/masks", got->test_masks, nbytes));
    SPEX_CHECK(pr_check_dataset(rd, fid, "/test/values", got->test_masks, 0));
out:
    return st;
}

/* Local.  Scans this rank's block of the first `total` values of dataset
 * name for one that is not finite; reports the first. */
static spex_status pr_scan_values(plan_reader *rd, hid_t fid, const char *name, uint64_t total,
                                  int rank, int size)
{
    spex_status st = SPEX_OK;
    size_t lo, hi;
    hid_t d = -1, fspace = -1, mspace = -1;
    double *buf = NULL;
    spex_partition((size_t)total, rank, size, &lo, &hi);
    if (hi == lo)
        return SPEX_OK;
    size_t step = hi - lo < PLAN_SCAN_VALUES ? hi - lo : PLAN_SCAN_VALUES;
    buf = malloc(step * sizeof *buf);
    SPEX_ALLOC_CHECK(buf, rd->err, "a block of plan values");
    d = H5Dopen2(fid, name, H5P_DEFAULT);
    fspace = d >= 0 ? H5Dget_space(d) : -1;
    if (fspace < 0) {
        st = pr_bad(rd, "cannot open dataset %s", name);
        goto out;
    }
    for (size_t a = lo; a < hi; a += step) {
        hsize_t start = a, count = hi - a < step ? hi - a : step;
        mspace = H5Screate_simple(1, &count, NULL);
        if (mspace < 0 ||
            H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &start, NULL, &count, NULL) < 0 ||
            H5Dread(d, H5T_NATIVE_DOUBLE, mspace, fspace, H5P_DEFAULT, buf) < 0) {
            char detail[256];
            st = pr_bad(rd, "cannot read %s[%zu..%llu]: truncated or damaged? (%s)", name, a,
                        (unsigned long long)(a + count - 1), h5_detail(detail));
            goto out;
        }
        H5Sclose(mspace);
        mspace = -1;
        for (size_t i = 0; i < count; i++) {
            if (isnan(buf[i])) {
                st = pr_bad(rd, "%s[%zu] is NaN (not filled)", name, a + i);
                goto out;
            }
            if (!isfinite(buf[i])) {
                st = pr_bad(rd, "%s[%zu] is %g (values must be finite)", name, a + i, buf[i]);
                goto out;
            }
        }
    }
out:
    if (mspace >= 0)
        H5Sclose(mspace);
    if (fspace >= 0)
        H5Sclose(fspace);
    if (d >= 0)
        H5Dclose(d);
    free(buf);
    return st;
}

spex_status spex_plan_check(MPI_Comm comm, const spex_config *cfg, const char *path,
                            spex_plan_params *plan, spex_error *err)
{
    spex_plan_params want;
    plan_reader rd = {path, err};
    hid_t fid = -1;
    h5_quiet quiet;
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    memset(plan, 0, sizeof *plan);
    h5_quiet_begin(&quiet);

    /* The study is the same on every rank, so is this verdict. */
    spex_plan_params_of(cfg, &want, err);
    if (err->code == SPEX_OK && rank == 0 && pr_open(&rd, &fid) == SPEX_OK)
        pr_check_file(&rd, fid, cfg, &want, plan);
    if (fid >= 0)
        H5Fclose(fid);
    fid = -1;
    if (spex_error_agree(comm, err) != SPEX_OK)
        goto out;
    MPI_Bcast(plan, (int)sizeof *plan, MPI_BYTE, 0, comm);

    /* Every rank its block: the queries first, so that an unfilled query
     * is reported before an unfilled test mask, and the lowest index wins
     * (blocks are in rank order and the agreed error is the lowest rank's). */
    if (pr_open(&rd, &fid) == SPEX_OK)
        pr_scan_values(&rd, fid, "/queries/values", plan->queries, rank, size);
    if (spex_error_agree(comm, err) == SPEX_OK && fid >= 0)
        pr_scan_values(&rd, fid, "/test/values", want.test_masks, rank, size);
    spex_error_agree(comm, err);
out:
    if (fid >= 0)
        H5Fclose(fid);
    h5_quiet_end(&quiet);
    return err->code;
}
