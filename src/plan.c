/* plan.c -- the plan file of the two-phase flow: written collectively by
 * `spex plan`, checked by `spex decode` (doc/two-phase.md is the reference
 * for users, plan.h the summary).
 *
 * Writing follows the result file's rules, with the writer they share
 * (h5util.c): parallel HDF5 under "<path>.tmp-<pid of rank 0>", renamed
 * only when every rank finished; fixed-length strings; the study text as a
 * dataset; identical metadata calls on every rank, and errors agreed before
 * any collective transfer so that no rank waits alone.  The masks are never
 * all in one place: rank q takes the block spex_partition(Q, q, size) of
 * query rows and generates them with spex_design_masks in batches of at
 * most PLAN_BATCH_BYTES, one collective write per batch (every rank joins
 * every round, with an empty selection when its block is done).  The values
 * are written as NaN: a value nobody filled in is then recognisable.  Each
 * rank hashes the rows it writes (spex_plan_row_hash, XOR over rows); one
 * reduction gives the attributes masks_hash and test_masks_hash.
 *
 * Checking reads serially (the default driver) on every rank: rank 0 reads
 * the attributes and datasets' shapes and compares the design with the
 * study's; then every rank reads its block of both mask datasets, hashes
 * it and compares it row by row with the masks it generates for the same
 * rows, and one reduction gives the hashes of the whole datasets and the
 * first row that differs; then every rank scans its block of the values
 * for a NaN or an infinity.  The check costs (Q + T) / size rows of masks
 * and values per rank, read and generated once.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* getpid, gmtime_r */
#endif

#include "spex/plan.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "spex/assess.h"
#include "spex/design.h"
#include "spex/eval.h"
#include "spex/h5util.h"
#include "spex/mask.h"
#include "spex/run.h"

#ifndef SPEX_VERSION_STRING
#define SPEX_VERSION_STRING "0.1.0"
#endif

/* Bytes of packed masks one rank writes per collective round. */
#define PLAN_BATCH_BYTES ((size_t)16 << 20)
/* Values one rank reads per step while scanning for unfilled ones. */
#define PLAN_SCAN_VALUES ((size_t)1 << 20)
/* Bytes of packed masks one rank reads per step while checking them. */
#define PLAN_SCAN_BYTES ((size_t)4 << 20)

static const char MASK_LAYOUT[] =
    "feature i is bit i%8 of byte i/8; 1 = feature kept, 0 = masked; "
    "query q is design id q = ((c*(P+1)) + p)*2^b + l; test mask i is id 2^62 + i";

static uint64_t mix64(uint64_t z)
{
    z ^= z >> 30;
    z *= 0xbf58476d1ce4e5b9ULL;
    z ^= z >> 27;
    z *= 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t spex_plan_row_hash(uint64_t row, const uint8_t *bytes, size_t nbytes)
{
    uint64_t h = mix64(row ^ 0x9e3779b97f4a7c15ULL);
    for (size_t k = 0; k < nbytes; k += 8) {
        uint64_t w = 0;
        for (size_t j = 0; j < 8 && k + j < nbytes; j++)
            w |= (uint64_t)bytes[k + j] << (8 * j);
        h = mix64(h ^ w);
    }
    return h;
}

/* XOR of the row hashes of count packed rows from row `first`. */
static uint64_t rows_hash(uint64_t first, size_t count, const uint8_t *bytes, size_t nbytes)
{
    uint64_t h = 0;
    for (size_t i = 0; i < count; i++)
        h ^= spex_plan_row_hash(first + i, bytes + i * nbytes, nbytes);
    return h;
}

spex_status spex_plan_params_of(const spex_config *cfg, spex_plan_params *p, spex_error *err)
{
    memset(p, 0, sizeof *p);
    if (cfg->method != SPEX_METHOD_SPEX)
        return spex_error_set(err, SPEX_EUSAGE,
                              "the two-phase flow (spex plan, spex decode, oracle.kind = hdf5) "
                              "serves method.name = spex only, not %s",
                              spex_config_enum_name("method.name", cfg->method));
    int b;
    /* As spex_run_study chooses it: the plan must be the design run uses. */
    spex_status st = spex_run_b(cfg, &b, err);
    if (st != SPEX_OK)
        return st;
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

/* The datasets of a plan. */
typedef struct plan_layout {
    hid_t g_study, g_queries, g_test;
    hid_t d_config, q_masks, q_values, t_masks, t_values;
} plan_layout;

static void plan_layout_close(plan_layout *l)
{
    spex_h5_close_id(&l->d_config);
    spex_h5_close_id(&l->q_masks);
    spex_h5_close_id(&l->q_values);
    spex_h5_close_id(&l->t_masks);
    spex_h5_close_id(&l->t_values);
    spex_h5_close_id(&l->g_study);
    spex_h5_close_id(&l->g_queries);
    spex_h5_close_id(&l->g_test);
}

/* Collective.  Attributes, groups and datasets: identical calls with
 * identical values on every rank. */
static void plan_layout_create(spex_h5w *w, hid_t fid, const spex_config *cfg,
                               const spex_plan_params *p, const char *config,
                               const char *created, plan_layout *l)
{
    hsize_t nbytes = ((hsize_t)p->n + 7) / 8;
    hsize_t qdims[2] = {p->queries, nbytes}, tdims[2] = {p->test_masks, nbytes};
    int64_t seed = p->seed;
    const char *delays = spex_config_enum_name("method.delays", p->delays);

    spex_h5w_attr_str(w, fid, NULL, "format", SPEX_PLAN_FORMAT, sizeof SPEX_PLAN_FORMAT);
    spex_h5w_attr_i32(w, fid, NULL, "format_version", SPEX_PLAN_FORMAT_VERSION);
    spex_h5w_attr_str(w, fid, NULL, "spex_version", SPEX_VERSION_STRING,
                      sizeof SPEX_VERSION_STRING);
    spex_h5w_attr_str(w, fid, NULL, "study", cfg->study_name, sizeof cfg->study_name);
    spex_h5w_attr_str(w, fid, NULL, "created", created, strlen(created) + 1);
    spex_h5w_attr_str(w, fid, NULL, "method", "spex", sizeof "spex");
    spex_h5w_attr_i32(w, fid, NULL, "n_features", p->n);
    spex_h5w_attr_i32(w, fid, NULL, "mask_bytes", (int32_t)nbytes);
    spex_h5w_attr_i32(w, fid, NULL, "b", p->b);
    spex_h5w_attr_i32(w, fid, NULL, "groups", p->groups);
    spex_h5w_attr_i32(w, fid, NULL, "max_order", p->max_order);
    spex_h5w_attr_str(w, fid, NULL, "delays", delays, strlen(delays) + 1);
    spex_h5w_attr_i32(w, fid, NULL, "delays_count", p->delays_count);
    spex_h5w_attr_u64(w, fid, NULL, "queries", p->queries);
    spex_h5w_attr(w, fid, NULL, "seed", H5T_STD_I64LE, H5T_NATIVE_INT64, &seed);
    spex_h5w_attr_u64(w, fid, NULL, "test_masks", p->test_masks);
    spex_h5w_attr_u64(w, fid, NULL, "test_id_base", SPEX_TEST_ID_BASE);
    spex_h5w_attr_str(w, fid, NULL, "mask_layout", MASK_LAYOUT, sizeof MASK_LAYOUT);

    l->g_study = spex_h5w_group(w, fid, "/study");
    l->d_config = spex_h5w_text_dataset(w, fid, "/study/config", config);
    l->g_queries = spex_h5w_group(w, fid, "/queries");
    l->q_masks = spex_h5w_dataset(w, fid, "/queries/masks", H5T_STD_U8LE, 2, qdims);
    l->q_values = spex_h5w_dataset(w, fid, "/queries/values", H5T_IEEE_F64LE, 1, qdims);
    l->g_test = spex_h5w_group(w, fid, "/test");
    l->t_masks = spex_h5w_dataset(w, fid, "/test/masks", H5T_STD_U8LE, 2, tdims);
    l->t_values = spex_h5w_dataset(w, fid, "/test/values", H5T_IEEE_F64LE, 1, tdims);
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

/* Local.  Packed masks of rows [a, a + cnt) of one part of a plan (d !=
 * NULL: the design's queries; d == NULL: the test masks of seed) into
 * bytes, through masks (cnt * words words). */
static void plan_rows(const spex_design *d, uint64_t seed, int n, uint64_t a, size_t cnt,
                      uint64_t *masks, uint8_t *bytes)
{
    size_t words = spex_mask_words(n), nbytes = ((size_t)n + 7) / 8;
    if (d != NULL) {
        design_ids(d, a, cnt, masks);
    } else {
        for (size_t i = 0; i < cnt; i++)
            spex_assess_mask(seed, n, a + i, masks + i * words);
    }
    for (size_t i = 0; i < cnt; i++)
        spex_mask_to_bytes(masks + i * words, n, bytes + i * nbytes);
}

/* Collective on w->comm.  Writes this rank's block of one mask/value pair of
 * datasets (rows: d != NULL, the design's queries; d == NULL, the test
 * masks of seed) in rounds of at most `rows` rows, and XORs the hashes of
 * the rows it wrote into *hash.  Every rank takes the same number of
 * rounds and the ranks agree on errors before each. */
static void plan_write_rows(spex_h5w *w, const spex_design *d, uint64_t seed, int n,
                            uint64_t total, hid_t dmask, hid_t dval, const char *what,
                            size_t rows, spex_progress *prog, double *done, double scale,
                            uint64_t *hash)
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
        if (spex_error_agree(w->comm, w->err) != SPEX_OK)
            break;
        size_t a = lo + r * rows;
        size_t cnt = a < hi ? (hi - a < rows ? hi - a : rows) : 0;
        if (a > hi)
            a = hi;
        plan_rows(d, seed, n, a, cnt, masks, bytes);
        *hash ^= rows_hash(a, cnt, bytes, nbytes);
        spex_h5w_rows(w, dmask, mname, H5T_NATIVE_UINT8, nbytes, a, a + cnt, bytes);
        spex_h5w_rows(w, dval, vname, H5T_NATIVE_DOUBLE, 0, a, a + cnt, nan);
        *done += (double)cnt;
        spex_progress_update(prog, *done * scale);
    }
    free(masks);
    free(bytes);
    free(nan);
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
    spex_h5w w;
    spex_h5_quiet quiet;
    double t0 = spex_now();

    spex_h5w_init(&w, comm, tmp, err);
    spex_h5_quiet_begin(&quiet);
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

    SPEX_CHECK(spex_h5w_create(&w));
    plan_layout_create(&w, w.fid, cfg, &p, config, created, &l);
    if (spex_error_agree(comm, err) == SPEX_OK)
        spex_h5w_text(&w, l.d_config, "/study/config", config);

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
    uint64_t hash[2] = {0, 0};
    plan_write_rows(&w, d, 0, p.n, p.queries, l.q_masks, l.q_values, "queries", rows, &prog,
                    &done, scale, &hash[0]);
    plan_write_rows(&w, NULL, (uint64_t)p.seed, p.n, p.test_masks, l.t_masks, l.t_values,
                    "test", rows, &prog, &done, scale, &hash[1]);
    /* The blocks' hashes combine in any order: the same on any rank count. */
    MPI_Allreduce(MPI_IN_PLACE, hash, 2, MPI_UINT64_T, MPI_BXOR, comm);
    if (spex_error_agree(comm, err) == SPEX_OK) {
        spex_h5w_attr_u64(&w, w.fid, NULL, "masks_hash", hash[0]);
        spex_h5w_attr_u64(&w, w.fid, NULL, "test_masks_hash", hash[1]);
    }

out:
    plan_layout_close(&l);
    spex_h5w_close(&w);
    st = spex_h5w_publish(&w, path);
    if (st == SPEX_OK)
        spex_log_printf(log, 1,
                        "  wrote %s in %.2f s: fill /queries/values (and /test/values), then\n"
                        "  spex decode STUDY --values %s -o RESULT.h5  (doc/two-phase.md)\n",
                        path, spex_now() - t0, path);
    spex_design_destroy(d);
    free(config);
    spex_h5_quiet_end(&quiet);
    return st;
}

/* ---- checking ------------------------------------------------------------------ */

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
static spex_status pr_check_dataset(spex_h5r *rd, hid_t fid, const char *name, uint64_t rows,
                                    uint64_t width)
{
    spex_status st = SPEX_OK;
    hid_t d = -1, t = -1, space = -1;
    if (H5Lexists(fid, name, H5P_DEFAULT) <= 0 || (d = H5Dopen2(fid, name, H5P_DEFAULT)) < 0)
        return spex_h5r_corrupt(rd, "dataset %s is missing", name);
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
        st = spex_h5r_corrupt(rd, "dataset %s is %s, expected %s", name, got, want);
    }
    spex_h5_close_id(&space);
    spex_h5_close_id(&t);
    spex_h5_close_id(&d);
    return st;
}

/* Rank 0: the format, the design against the study's, the datasets. */
static spex_status pr_check_file(spex_h5r *rd, hid_t fid, const spex_config *cfg,
                                 const spex_plan_params *want, spex_plan_params *got)
{
    spex_status st = SPEX_OK;
    char format[64], delays[32];
    int version = 0;
    memset(got, 0, sizeof *got);
    if (spex_h5r_peek_str(fid, "format", format, sizeof format) != SPEX_OK ||
        strcmp(format, SPEX_PLAN_FORMAT) != 0) {
        if (format[0])
            return spex_error_set(rd->err, SPEX_EINPUT,
                                  "'%s' is not a spex plan file (its format is '%s')", rd->path,
                                  format);
        return spex_error_set(rd->err, SPEX_EINPUT, "'%s' is not a spex plan file", rd->path);
    }
    SPEX_CHECK(spex_h5r_attr_int(rd, fid, NULL, "format_version", &version));
    if (version != SPEX_PLAN_FORMAT_VERSION)
        return spex_h5r_corrupt(rd, "format_version %d, this spex reads %d", version,
                                SPEX_PLAN_FORMAT_VERSION);
    SPEX_CHECK(spex_h5r_attr_int(rd, fid, NULL, "n_features", &got->n));
    SPEX_CHECK(spex_h5r_attr_int(rd, fid, NULL, "b", &got->b));
    SPEX_CHECK(spex_h5r_attr_int(rd, fid, NULL, "groups", &got->groups));
    SPEX_CHECK(spex_h5r_attr_int(rd, fid, NULL, "max_order", &got->max_order));
    if (spex_h5r_peek_str(fid, "delays", delays, sizeof delays) != SPEX_OK)
        return spex_h5r_corrupt(rd, "attribute 'delays' is missing or not a string");
    SPEX_CHECK(spex_h5r_attr_int(rd, fid, NULL, "delays_count", &got->delays_count));
    SPEX_CHECK(spex_h5r_attr_num(rd, fid, NULL, "seed", H5T_INTEGER, H5T_NATIVE_INT64,
                                 &got->seed));
    SPEX_CHECK(spex_h5r_attr_num(rd, fid, NULL, "queries", H5T_INTEGER, H5T_NATIVE_UINT64,
                                 &got->queries));
    SPEX_CHECK(spex_h5r_attr_num(rd, fid, NULL, "test_masks", H5T_INTEGER, H5T_NATIVE_UINT64,
                                 &got->test_masks));
    SPEX_CHECK(spex_h5r_attr_num(rd, fid, NULL, "masks_hash", H5T_INTEGER, H5T_NATIVE_UINT64,
                                 &got->masks_hash));
    SPEX_CHECK(spex_h5r_attr_num(rd, fid, NULL, "test_masks_hash", H5T_INTEGER,
                                 H5T_NATIVE_UINT64, &got->test_hash));
    got->delays = strcmp(delays, "identity") == 0 ? SPEX_DELAYS_IDENTITY : SPEX_DELAYS_BCH;

    /* The parameters the design is made of, each named by its study key. */
    const char *chosen = cfg->b == 0 ? " (chosen from method.budget/sparsity)" : "";
    const char *wd = spex_config_enum_name("method.delays", want->delays);
    if (got->n != want->n)
        return spex_h5r_corrupt(rd, "planned for features.n = %d, this study has features.n = %d",
                                got->n, want->n);
    if (got->b != want->b)
        return spex_h5r_corrupt(rd, "planned for method.b = %d, this study has method.b = %d%s",
                                got->b, want->b, chosen);
    if (got->groups != want->groups)
        return spex_h5r_corrupt(
            rd, "planned for method.groups = %d, this study has method.groups = %d", got->groups,
            want->groups);
    if (got->max_order != want->max_order)
        return spex_h5r_corrupt(
            rd, "planned for method.max_order = %d, this study has method.max_order = %d",
            got->max_order, want->max_order);
    if (strcmp(delays, wd) != 0)
        return spex_h5r_corrupt(
            rd, "planned for method.delays = %s, this study has method.delays = %s", delays, wd);
    if (got->seed != want->seed)
        return spex_h5r_corrupt(
            rd, "planned for study.seed = %lld, this study has study.seed = %lld",
            (long long)got->seed, (long long)want->seed);
    if (got->delays_count != want->delays_count || got->queries != want->queries)
        return spex_h5r_corrupt(rd,
                                "has %llu queries (%d delays), this study's design %llu (%d "
                                "delays): written by another spex version?",
                                (unsigned long long)got->queries, got->delays_count,
                                (unsigned long long)want->queries, want->delays_count);
    /* Test mask i depends on (seed, i) only: any prefix of the plan's serves. */
    if (got->test_masks < want->test_masks)
        return spex_h5r_corrupt(rd,
                                "has %llu test masks, this study asks for output.test_masks = "
                                "%llu (use at most the plan's, or 0 to skip faithfulness)",
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
static spex_status pr_scan_values(spex_h5r *rd, hid_t fid, const char *name, uint64_t total,
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
        st = spex_h5r_corrupt(rd, "cannot open dataset %s", name);
        goto out;
    }
    for (size_t a = lo; a < hi; a += step) {
        hsize_t start = a, count = hi - a < step ? hi - a : step;
        mspace = H5Screate_simple(1, &count, NULL);
        if (mspace < 0 ||
            H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &start, NULL, &count, NULL) < 0 ||
            H5Dread(d, H5T_NATIVE_DOUBLE, mspace, fspace, H5P_DEFAULT, buf) < 0) {
            spex_h5_detail detail;
            st = spex_h5r_corrupt(rd, "cannot read %s[%zu..%llu]: truncated or damaged? (%s)",
                                  name, a, (unsigned long long)(a + count - 1),
                                  spex_h5_detail_get(&detail));
            goto out;
        }
        H5Sclose(mspace);
        mspace = -1;
        for (size_t i = 0; i < count; i++) {
            if (isnan(buf[i])) {
                st = spex_h5r_corrupt(rd, "%s[%zu] is NaN (not filled)", name, a + i);
                goto out;
            }
            if (!isfinite(buf[i])) {
                st = spex_h5r_corrupt(rd, "%s[%zu] is %g (values must be finite)", name, a + i,
                                      buf[i]);
                goto out;
            }
        }
    }
out:
    spex_h5_close_id(&mspace);
    spex_h5_close_id(&fspace);
    spex_h5_close_id(&d);
    free(buf);
    return st;
}

/* What one rank found in its block of a mask dataset. */
typedef struct mask_scan {
    uint64_t file_hash;  /* XOR of the row hashes of the plan's rows */
    uint64_t first_diff; /* lowest row that is not the study's mask; UINT64_MAX: none */
} mask_scan;

/* Local.  Reads this rank's block of the `total` rows of /<what>/masks in
 * steps, hashes them and compares each row with the study's mask (d !=
 * NULL: the design's queries; NULL: the test masks of seed). */
static spex_status pr_scan_masks(spex_h5r *rd, hid_t fid, const spex_design *d, uint64_t seed,
                                 int n, const char *what, uint64_t total, int rank, int size,
                                 mask_scan *scan)
{
    spex_status st = SPEX_OK;
    size_t lo, hi, nbytes = ((size_t)n + 7) / 8, words = spex_mask_words(n);
    char name[64];
    hid_t ds = -1, fspace = -1, mspace = -1;
    uint64_t *masks = NULL;
    uint8_t *got = NULL, *want = NULL;
    scan->file_hash = 0;
    scan->first_diff = UINT64_MAX;
    spex_partition((size_t)total, rank, size, &lo, &hi);
    if (hi == lo)
        return SPEX_OK;
    size_t step = PLAN_SCAN_BYTES / (nbytes ? nbytes : 1);
    step = step < 1 ? 1 : step > hi - lo ? hi - lo : step;
    masks = malloc(step * words * sizeof *masks);
    got = malloc(step * nbytes);
    want = malloc(step * nbytes);
    SPEX_ALLOC_CHECK(masks && got && want ? masks : NULL, rd->err, "a block of plan masks");
    snprintf(name, sizeof name, "/%s/masks", what);
    ds = H5Dopen2(fid, name, H5P_DEFAULT);
    fspace = ds >= 0 ? H5Dget_space(ds) : -1;
    if (fspace < 0) {
        st = spex_h5r_corrupt(rd, "cannot open dataset %s", name);
        goto out;
    }
    for (size_t a = lo; a < hi; a += step) {
        hsize_t start[2] = {a, 0}, count[2] = {hi - a < step ? hi - a : step, nbytes};
        mspace = H5Screate_simple(2, count, NULL);
        if (mspace < 0 ||
            H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
            H5Dread(ds, H5T_NATIVE_UINT8, mspace, fspace, H5P_DEFAULT, got) < 0) {
            spex_h5_detail detail;
            st = spex_h5r_corrupt(rd, "cannot read %s[%zu..%llu]: truncated or damaged? (%s)",
                                  name, a, (unsigned long long)(a + count[0] - 1),
                                  spex_h5_detail_get(&detail));
            goto out;
        }
        H5Sclose(mspace);
        mspace = -1;
        size_t cnt = (size_t)count[0];
        plan_rows(d, seed, n, a, cnt, masks, want);
        scan->file_hash ^= rows_hash(a, cnt, got, nbytes);
        for (size_t i = 0; i < cnt && scan->first_diff == UINT64_MAX; i++)
            if (memcmp(got + i * nbytes, want + i * nbytes, nbytes) != 0)
                scan->first_diff = a + i;
    }
out:
    spex_h5_close_id(&mspace);
    spex_h5_close_id(&fspace);
    spex_h5_close_id(&ds);
    free(masks);
    free(got);
    free(want);
    return st;
}

/* Local, the same verdict on every rank (from reduced numbers).  The
 * masks of one part against the study's and the plan's hash attribute. */
static spex_status pr_masks_verdict(spex_h5r *rd, const char *what, const char *attr,
                                    uint64_t stored, const mask_scan *scan)
{
    if (scan->first_diff != UINT64_MAX)
        return spex_h5r_corrupt(
            rd, "/%s/masks[%llu] is not the mask this study asks for: %s", what,
            (unsigned long long)scan->first_diff,
            scan->file_hash != stored
                ? "the masks were changed after spex plan wrote them (they no longer match "
                  "the plan's hash)"
                : "the plan was written for another study or by another spex version");
    if (scan->file_hash != stored)
        return spex_h5r_corrupt(rd,
                                "attribute %s = 0x%016llx does not match /%s/masks (0x%016llx): "
                                "the plan was changed after spex plan wrote it",
                                attr, (unsigned long long)stored, what,
                                (unsigned long long)scan->file_hash);
    return SPEX_OK;
}

/* Collective on comm.  Every mask of the plan (both parts, all rows)
 * against the study's: each rank its block, then one reduction. */
static spex_status pr_check_masks(MPI_Comm comm, spex_h5r *rd, hid_t fid,
                                  const spex_plan_params *plan, int rank, int size)
{
    spex_design *d = NULL;
    mask_scan q = {0, UINT64_MAX}, t = {0, UINT64_MAX};
    if (spex_design_create(plan->n, plan->b, plan->groups, plan->max_order, plan->delays,
                           (uint64_t)plan->seed, &d, rd->err) == SPEX_OK &&
        pr_scan_masks(rd, fid, d, 0, plan->n, "queries", plan->queries, rank, size, &q) ==
            SPEX_OK)
        pr_scan_masks(rd, fid, NULL, (uint64_t)plan->seed, plan->n, "test", plan->test_masks,
                      rank, size, &t);
    spex_design_destroy(d);
    if (spex_error_agree(comm, rd->err) != SPEX_OK)
        return rd->err->code;
    uint64_t hash[2] = {q.file_hash, t.file_hash}, first[2] = {q.first_diff, t.first_diff};
    MPI_Allreduce(MPI_IN_PLACE, hash, 2, MPI_UINT64_T, MPI_BXOR, comm);
    MPI_Allreduce(MPI_IN_PLACE, first, 2, MPI_UINT64_T, MPI_MIN, comm);
    q = (mask_scan){hash[0], first[0]};
    t = (mask_scan){hash[1], first[1]};
    if (pr_masks_verdict(rd, "queries", "masks_hash", plan->masks_hash, &q) == SPEX_OK)
        pr_masks_verdict(rd, "test", "test_masks_hash", plan->test_hash, &t);
    return rd->err->code;
}

spex_status spex_plan_check(MPI_Comm comm, const spex_config *cfg, const char *path,
                            spex_plan_params *plan, spex_error *err)
{
    spex_plan_params want;
    spex_h5r rd = {path, err, "plan"};
    hid_t fid = -1;
    spex_h5_quiet quiet;
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    memset(plan, 0, sizeof *plan);
    spex_h5_quiet_begin(&quiet);

    /* The study is the same on every rank, so is this verdict. */
    spex_plan_params_of(cfg, &want, err);
    if (err->code == SPEX_OK && rank == 0 && spex_h5r_open(&rd, SPEX_EINPUT, &fid) == SPEX_OK)
        pr_check_file(&rd, fid, cfg, &want, plan);
    spex_h5_close_id(&fid);
    if (spex_error_agree(comm, err) != SPEX_OK)
        goto out;
    MPI_Bcast(plan, (int)sizeof *plan, MPI_BYTE, 0, comm);

    /* Every rank its block: the masks first (is this the study's plan?),
     * then the values, the queries before the test masks, so that an
     * unfilled query is reported before an unfilled test mask, and the
     * lowest index wins (blocks are in rank order and the agreed error is
     * the lowest rank's). */
    spex_h5r_open(&rd, SPEX_EINPUT, &fid);
    if (spex_error_agree(comm, err) != SPEX_OK ||
        pr_check_masks(comm, &rd, fid, plan, rank, size) != SPEX_OK)
        goto out;
    pr_scan_values(&rd, fid, "/queries/values", plan->queries, rank, size);
    if (spex_error_agree(comm, err) == SPEX_OK && fid >= 0)
        pr_scan_values(&rd, fid, "/test/values", want.test_masks, rank, size);
    spex_error_agree(comm, err);
out:
    spex_h5_close_id(&fid);
    spex_h5_quiet_end(&quiet);
    return err->code;
}
