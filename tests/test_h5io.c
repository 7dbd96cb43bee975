/* test_h5io.c -- the result file, the names file and `spex show`.
 *
 * Ground truth is independent of the code under test: hand-made results
 * are written and read back field by field; h5dump (the HDF5 project's own
 * reader) must see the documented layout and values; the directory must
 * hold exactly the final file afterwards; failed writes must leave an
 * older file untouched; damaged files are made with the plain HDF5 API.
 * Runs as an MPI singleton: the parallel write is exercised with one rank
 * here; across rank counts it is for the MPI integration tests (h5diff of
 * files written on 1..4 ranks, DESIGN.md section 9).
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* mkdtemp, getpid, popen */
#endif

#include <dirent.h>
#include <errno.h>
#include <hdf5.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spex.h"
#include "testutil.h"

#define H5DUMP "/usr/bin/h5dump"

/* ---- helpers ------------------------------------------------------------ */

/* A fresh directory per test, removed (one level deep) by tdir_remove. */
static void tdir_make(char *dir, size_t cap)
{
    snprintf(dir, cap, "/tmp/spex-test-h5io-XXXXXX");
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
}

static void tdir_remove(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    char p[1024];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (unlink(p) != 0)
            rmdir(p);
    }
    closedir(d);
    rmdir(dir);
}

/* Number of entries in dir (without . and ..); the one entry's name in
 * first when there is exactly one. */
static int tdir_count(const char *dir, char *first, size_t cap)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (n++ == 0 && first != NULL)
            snprintf(first, cap, "%s", e->d_name);
    }
    closedir(d);
    return n;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    CU_ASSERT_FATAL(f != NULL);
    fputs(text, f);
    fclose(f);
}

static char *dup_str(const char *s)
{
    char *p = malloc(strlen(s) + 1);
    CU_ASSERT_FATAL(p != NULL);
    memcpy(p, s, strlen(s) + 1);
    return p;
}

static void push(spex_result *r, double coef, int order, const int *feat)
{
    spex_term t;
    spex_error err;
    memset(&t, 0, sizeof t);
    spex_error_clear(&err);
    t.order = order;
    for (int j = 0; j < order; j++)
        t.feat[j] = feat[j];
    t.coef = coef;
    CU_ASSERT_FATAL(spex_spectrum_push(&r->fourier, &t, &err) == SPEX_OK);
}

static const char *const NAMES[6] = {"age", "income", "zip code", "height", "weight", "x5"};

/* Four ranked terms over 6 features, max_order 3: the constant, a term of
 * the maximal order, and two in between; every metadata field set to a
 * value distinguishable from its default. */
static void sample_result(spex_result *r, int with_names)
{
    spex_result_init(r);
    snprintf(r->method, sizeof r->method, "spex");
    r->n_features = 6;
    r->max_order = 3;
    r->queries = 5000000000ULL; /* above 2^32 */
    r->seed = -1234567890123LL;
    r->ranks = 1;
    snprintf(r->created, sizeof r->created, "2024-05-01T12:34:56Z");
    r->wall_seconds = 3.25;
    r->faithfulness_r2 = 0.9875;
    r->b = 4;
    r->groups = 3;
    r->delays_count = 7;
    snprintf(r->delays, sizeof r->delays, "bch");
    r->config = dup_str("[study]\nname = sample\nseed = 7\n\n[features]\nn = 6\n");
    push(r, 2.5, 0, NULL);
    push(r, -1.75, 3, (const int[]){0, 2, 5});
    push(r, 0.375, 1, (const int[]){4});
    push(r, -0.0625, 2, (const int[]){1, 3});
    if (with_names) {
        r->names = calloc(6, sizeof *r->names);
        CU_ASSERT_FATAL(r->names != NULL);
        for (int i = 0; i < 6; i++)
            r->names[i] = dup_str(NAMES[i]);
    }
    const double secs[SPEX_STAGE_COUNT] = {0.5, 1.5, 2.25, 0.125, 0.0625};
    memcpy(r->stage_seconds, secs, sizeof secs);
    r->peel_rounds = 4;
    r->bins_zero = 10;
    r->bins_single = 20;
    r->bins_multi = 30;
    r->bins_unresolved = 2;
}

static int same_double(double a, double b) { return (isnan(a) && isnan(b)) || a == b; }

static void assert_same_result(const spex_result *a, const spex_result *b)
{
    CU_ASSERT_STRING_EQUAL(a->method, b->method);
    CU_ASSERT_EQUAL(a->n_features, b->n_features);
    CU_ASSERT_EQUAL(a->max_order, b->max_order);
    CU_ASSERT_EQUAL(a->queries, b->queries);
    CU_ASSERT_EQUAL(a->seed, b->seed);
    CU_ASSERT_EQUAL(a->ranks, b->ranks);
    CU_ASSERT_STRING_EQUAL(a->created, b->created);
    CU_ASSERT(same_double(a->wall_seconds, b->wall_seconds));
    CU_ASSERT(same_double(a->faithfulness_r2, b->faithfulness_r2));
    CU_ASSERT_EQUAL(a->b, b->b);
    CU_ASSERT_EQUAL(a->groups, b->groups);
    CU_ASSERT_EQUAL(a->delays_count, b->delays_count);
    CU_ASSERT_STRING_EQUAL(a->delays, b->delays);
    CU_ASSERT_EQUAL(a->config == NULL, b->config == NULL);
    if (a->config != NULL && b->config != NULL)
        CU_ASSERT_STRING_EQUAL(a->config, b->config);
    CU_ASSERT_EQUAL_FATAL(a->fourier.count, b->fourier.count);
    for (size_t i = 0; i < a->fourier.count; i++) {
        const spex_term *x = &a->fourier.terms[i], *y = &b->fourier.terms[i];
        CU_ASSERT_EQUAL(x->order, y->order);
        for (int j = 0; j < x->order && j < SPEX_MAX_ORDER; j++)
            CU_ASSERT_EQUAL(x->feat[j], y->feat[j]);
        CU_ASSERT(x->coef == y->coef);
    }
    CU_ASSERT_EQUAL_FATAL(a->names == NULL, b->names == NULL);
    for (int i = 0; a->names != NULL && i < a->n_features; i++)
        CU_ASSERT_STRING_EQUAL(a->names[i], b->names[i]);
    for (int s = 0; s < SPEX_STAGE_COUNT; s++)
        CU_ASSERT(a->stage_seconds[s] == b->stage_seconds[s]);
    CU_ASSERT_EQUAL(a->peel_rounds, b->peel_rounds);
    CU_ASSERT_EQUAL(a->bins_zero, b->bins_zero);
    CU_ASSERT_EQUAL(a->bins_single, b->bins_single);
    CU_ASSERT_EQUAL(a->bins_multi, b->bins_multi);
    CU_ASSERT_EQUAL(a->bins_unresolved, b->bins_unresolved);
}

/* Every code path must close what it opened: no file or object of any
 * file may stay open after a call returns. */
static void assert_no_open_hdf5(void)
{
    CU_ASSERT_EQUAL(H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_ALL), 0);
}

static spex_status write_result(const char *path, const spex_result *r, spex_error *err)
{
    spex_error_clear(err);
    return spex_h5_write_result(MPI_COMM_WORLD, path, r, err);
}

/* Output of a command (new memory), and its exit status in *status. */
static char *run_capture(const char *cmd, int *status)
{
    FILE *p = popen(cmd, "r");
    CU_ASSERT_FATAL(p != NULL);
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    CU_ASSERT_FATAL(buf != NULL);
    size_t got;
    while ((got = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += got;
        if (cap - len < 2) {
            cap *= 2;
            buf = realloc(buf, cap);
            CU_ASSERT_FATAL(buf != NULL);
        }
    }
    buf[len] = '\0';
    *status = pclose(p);
    return buf;
}

static int file_identical(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa != NULL && fb != NULL;
    while (same) {
        int ca = fgetc(fa), cb = fgetc(fb);
        same = ca == cb;
        if (ca == EOF || cb == EOF)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

static int copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    int c, ok = in != NULL && out != NULL;
    while (ok && (c = fgetc(in)) != EOF)
        fputc(c, out);
    if (in)
        fclose(in);
    if (out)
        fclose(out);
    return ok;
}

/* ---- result in memory ---------------------------------------------------- */

static void test_stage_names_cover_every_stage(void)
{
    CU_ASSERT_STRING_EQUAL(spex_stage_name(SPEX_STAGE_DESIGN), "design");
    CU_ASSERT_STRING_EQUAL(spex_stage_name(SPEX_STAGE_EVALUATE), "evaluate");
    CU_ASSERT_STRING_EQUAL(spex_stage_name(SPEX_STAGE_TRANSFORM), "transform");
    CU_ASSERT_STRING_EQUAL(spex_stage_name(SPEX_STAGE_DECODE), "decode");
    CU_ASSERT_STRING_EQUAL(spex_stage_name(SPEX_STAGE_WRITE), "write");
    CU_ASSERT_STRING_EQUAL(spex_stage_name(-1), "unknown");
    CU_ASSERT_STRING_EQUAL(spex_stage_name(SPEX_STAGE_COUNT), "unknown");
}

static void test_result_init_and_free_leave_empty(void)
{
    spex_result r;
    spex_result_init(&r);
    CU_ASSERT(isnan(r.faithfulness_r2));
    CU_ASSERT_PTR_NULL(r.names);
    CU_ASSERT_PTR_NULL(r.config);
    CU_ASSERT_EQUAL(r.fourier.count, 0);
    sample_result(&r, 1);
    spex_result_free(&r);
    CU_ASSERT(isnan(r.faithfulness_r2));
    CU_ASSERT_PTR_NULL(r.names);
    CU_ASSERT_PTR_NULL(r.config);
    CU_ASSERT_EQUAL(r.fourier.count, 0);
    CU_ASSERT_EQUAL(r.n_features, 0);
    spex_result_free(&r); /* freeing twice is harmless */
}

/* ---- writing and reading back ------------------------------------------- */

static void test_roundtrip_every_field_with_names(void)
{
    char dir[64], path[128], only[256];
    spex_result r, back;
    spex_error err;
    tdir_make(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/r.h5", dir);
    sample_result(&r, 1);
    CU_ASSERT_EQUAL_FATAL(write_result(path, &r, &err), SPEX_OK);
    CU_ASSERT_EQUAL(spex_h5_read_result(path, &back, &err), SPEX_OK);
    assert_same_result(&r, &back);
    /* Nothing but the final file: the temporary name is gone. */
    CU_ASSERT_EQUAL(tdir_count(dir, only, sizeof only), 1);
    CU_ASSERT_STRING_EQUAL(only, "r.h5");
    spex_result_free(&back);
    spex_result_free(&r);
    assert_no_open_hdf5();
    tdir_remove(dir);
}

static void test_roundtrip_empty_spectrum_no_names(void)
{
    char dir[64], path[128];
    spex_result r, back;
    spex_error err;
    tdir_make(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/empty.h5", dir);
    spex_result_init(&r); /* K = 0, max_order 0, no config, NaN faithfulness */
    r.n_features = 3;
    CU_ASSERT_EQUAL_FATAL(write_result(path, &r, &err), SPEX_OK);
    CU_ASSERT_EQUAL(spex_h5_read_result(path, &back, &err), SPEX_OK);
    assert_same_result(&r, &back);
    CU_ASSERT(isnan(back.faithfulness_r2));
    int status;
    char cmd[256];
    snprintf(cmd, sizeof cmd, H5DUMP " -H %s 2>&1", path);
    char *dump = run_capture(cmd, &status);
    CU_ASSERT_EQUAL(status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(dump, "DATASET \"features\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(dump, "DATASPACE  SIMPLE { ( 0, 1 ) / ( 0, 1 ) }"));
    free(dump);
    spex_result_free(&back);
    spex_result_free(&r);
    tdir_remove(dir);
}

/* The constant and the order-1 term alone: max_order 1 is the narrowest
 * features width that carries indices. */
static void test_roundtrip_max_order_one(void)
{
    char dir[64], path[128];
    spex_result r, back;
    spex_error err;
    tdir_make(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/one.h5", dir);
    spex_result_init(&r);
    r.n_features = 2;
    r.max_order = 1;
    push(&r, 1.0, 1, (const int[]){1});
    push(&r, -0.5, 0, NULL);
    CU_ASSERT_EQUAL_FATAL(write_result(path, &r, &err), SPEX_OK);
    CU_ASSERT_EQUAL(spex_h5_read_result(path, &back, &err), SPEX_OK);
    assert_same_result(&r, &back);
    spex_result_free(&back);
    spex_result_free(&r);
    tdir_remove(dir);
}

static void test_h5dump_sees_layout_and_values(void)
{
    char dir[64], path[128], cmd[256];
    spex_result r;
    spex_error err;
    int status;
    tdir_make(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/d.h5", dir);
    sample_result(&r, 1);
    CU_ASSERT_EQUAL_FATAL(write_result(path, &r, &err), SPEX_OK);

    snprintf(cmd, sizeof cmd, H5DUMP " -A %s 2>&1", path);
    char *attrs = run_capture(cmd, &status);
    CU_ASSERT_EQUAL(status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(attrs, "ATTRIBUTE \"format\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(attrs, "\"spex-result\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(attrs, "ATTRIBUTE \"n_terms\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(attrs, "5000000000"));
    CU_ASSERT_PTR_NOT_NULL(strstr(attrs, "-1234567890123"));
    CU_ASSERT_PTR_NOT_NULL(strstr(attrs, "\"design\", \"evaluate\", \"transform\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(attrs, "ATTRIBUTE \"bins_single\""));
    free(attrs);

    snprintf(cmd, sizeof cmd, H5DUMP " -d /fourier/coef -d /fourier/features %s 2>&1", path);
    char *data = run_capture(cmd, &status);
    CU_ASSERT_EQUAL(status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(data, "2.5, -1.75, 0.375, -0.0625"));
    CU_ASSERT_PTR_NOT_NULL(strstr(data, "(0,0): -1, -1, -1,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(data, "(1,0): 0, 2, 5,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(data, "(3,0): 1, 3, -1"));
    free(data);

    snprintf(cmd, sizeof cmd, H5DUMP " -d /features/name -d /study/config %s 2>&1", path);
    char *text = run_capture(cmd, &status);
    CU_ASSERT_EQUAL(status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"zip code\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "name = sample"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "SCALAR"));
    free(text);
    spex_result_free(&r);
    tdir_remove(dir);
}

/* A study text larger than the 64 KiB attribute limit of parallel HDF5. */
static void test_large_config_is_stored(void)
{
    char dir[64], path[128];
    spex_result r, back;
    spex_error err;
    tdir_make(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/big.h5", dir);
    sample_result(&r, 0);
    free(r.config);
    size_t len = 200000;
    r.config = malloc(len + 1);
    CU_ASSERT_FATAL(r.config != NULL);
    for (size_t i = 0; i < len; i++)
        r.config[i] = i % 40 == 39 ? '\n' : (char)('a' + i % 26);
    r.config[len] = '\0';
    CU_ASSERT_EQUAL_FATAL(write_result(path, &r, &err), SPEX_OK);
    CU_ASSERT_EQUAL(spex_h5_read_result(path, &back, &err), SPEX_OK);
    assert_same_result(&r, &back);
    spex_result_free(&back);
    spex_result_free(&r);
    tdir_remove(dir);
}

static void test_write_into_missing_directory_fails(void)
{
    char dir[64], path[160];
    spex_result r;
    spex_error err;
    tdir_make(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/no/such/dir/r.h5", dir);
    sample_result(&r, 0);
    CU_ASSERT_EQUAL(write_result(path, &r, &err), SPEX_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "cannot create '"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "/no/such/dir/r.h5.tmp-"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "No such file or directory"));
    CU_ASSERT_PTR_NULL(strchr(err.msg, '\n'));
    CU_ASSERT_EQUAL(tdir_count(dir, NULL, 0), 0);
    spex_result_free(&r);
    assert_no_open_hdf5();
    tdir_remove(dir);
}

/* Something that is not ours sits at the temporary name (a directory), so
 * the write fails after the target exists: the old file must survive
 * byte for byte and the obstacle must not be deleted. */
static void test_failed_write_keeps_existing_file(void)
{
    char dir[64], path[128], tmp[160], copy[160];
    spex_result r;
    spex_error err;
    tdir_make(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/r.h5", dir);
    snprintf(copy, sizeof copy, "%s/copy", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    sample_result(&r, 1);
    CU_ASSERT_EQUAL_FATAL(write_result(path, &r, &err), SPEX_OK);
    CU_ASSERT_FATAL(copy_file(path, copy));
    CU_ASSERT_EQUAL_FATAL(mkdir(tmp, 0700), 0);

    r.fourier.terms[0].coef = 99.0;
    CU_ASSERT_EQUAL(write_result(path, &r, &err), SPEX_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, tmp));
    CU_ASSERT(file_identical(path, copy));
    struct stat sb;
    CU_ASSERT(stat(tmp, &sb) == 0 && S_ISDIR(sb.st_mode));
    CU_ASSERT_EQUAL(tdir_count(dir, NULL, 0), 3); /* r.h5, copy, the directory */

    spex_result back;
    CU_ASSERT_EQUAL(spex_h5_read_result(path, &back, &err), SPEX_OK);
    CU_ASSERT(back.fourier.count == 4 && back.fourier.terms[0].coef == 2.5);
    spex_result_free(&back);
    spex_result_free(&r);
    assert_no_open_hdf5();
    tdir_remove(dir);
}

/* The target is a directory: the file is written completely, the rename
 * fails, and the temporary file must be removed again. */
static void test_rename_failure_removes_temp(void)
{
    char dir[64], path[128];
    spex_result r;
    spex_error err;
    tdir_make(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/target", dir);
    CU_ASSERT_EQUAL_FATAL(mkdir(path, 0700), 0);
    sample_result(&r, 0);
    CU_ASSERT_EQUAL(write_result(path, &r, &err), SPEX_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "cannot rename"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, path));
    char only[256];
    CU_ASSERT_EQUAL(tdir_count(dir, only, sizeof only), 1);
    CU_ASSERT_STRING_EQUAL(only, "target");
    spex_result_free(&r);
    assert_no_open_hdf5();
    tdir_remove(dir);
}

static void test_write_replaces_existing_file(void)
{
    char dir[64], path[128];
    spex_result r, back;
    spex_error err;
    tdir_make(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/r.h5", dir);
    write_text(path, "an older file, not even HDF5\n");
    sample_result(&r, 1);
    CU_ASSERT_EQUAL_FATAL(write_result(path, &r, &err), SPEX_OK);
    r.fourier.terms[1].coef = -1.875;
    snprintf(r.method, sizeof r.method, "second");
    CU_ASSERT_EQUAL_FATAL(write_result(path, &r, &err), SPEX_OK);
    CU_ASSERT_EQUAL(spex_h5_read_result(path, &back, &err), SPEX_OK);
    assert_same_result(&r, &back);
    CU_ASSERT_EQUAL(tdir_count(dir, NULL, 0), 1);
    spex_result_free(&back);
    spex_result_free(&r);
    tdir_remove(dir);
}

/* A term the reader would reject is a bug of the caller: nothing is
 * written. */
static void test_write_rejects_term_above_max_order(void)
{
    char dir[64], path[128];
    spex_result r;
    spex_error err;
    tdir_make(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/r.h5", dir);
    sample_result(&r, 0);
    r.max_order = 2; /* the sample has an order-3 term */
    CU_ASSERT_EQUAL(write_result(path, &r, &err), SPEX_EINTERNAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "order 3"));
    r.max_order = 3;
    r.fourier.terms[1].feat[1] = 0; /* {0, 0, 5}: not ascending */
    CU_ASSERT_EQUAL(write_result(path, &r, &err), SPEX_EINTERNAL);
    CU_ASSERT_EQUAL(tdir_count(dir, NULL, 0), 0);
    spex_result_free(&r);
    assert_no_open_hdf5();
    tdir_remove(dir);
}

/* ---- reading what is not a good result file ----------------------------- */

static void test_read_missing_file_is_io_error(void)
{
    spex_result r;
    spex_error err;
    spex_error_clear(&err);
    CU_ASSERT_EQUAL(spex_h5_read_result("/tmp/spex-no-such-file.h5", &r, &err), SPEX_EIO);
    CU_ASSERT_STRING_EQUAL(err.msg,
                           "cannot open '/tmp/spex-no-such-file.h5': No such file or directory");
    spex_result_free(&r);
}

static void test_read_text_file_is_input_error(void)
{
    char dir[64], path[128];
    spex_result r;
    spex_error err;
    tdir_make(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/t.h5", dir);
    write_text(path, "0.5 1 2\n");
    spex_error_clear(&err);
    CU_ASSERT_EQUAL(spex_h5_read_result(path, &r, &err), SPEX_EINPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "is not a spex result file"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, path));
    spex_result_free(&r);
    assert_no_open_hdf5();
    tdir_remove(dir);
}

static void test_read_hdf5_without_format_is_input_error(void)
{
    char dir[64], path[128], want[256];
    spex_result r;
    spex_error err;
    tdir_make(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/other.h5", dir);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CU_ASSERT_FATAL(f >= 0);
    hid_t g = H5Gcreate2(f, "/fourier", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(g);
    H5Fclose(f);
    spex_error_clear(&err);
    CU_ASSERT_EQUAL(spex_h5_read_result(path, &r, &err), SPEX_EINPUT);
    snprintf(want, sizeof want, "'%s' is not a spex result file", path);
    CU_ASSERT_STRING_EQUAL(err.msg, want);
    spex_result_free(&r);
    assert_no_open_hdf5();
    tdir_remove(dir);
}

/* Overwrites one element (or the scalar) of a dataset or root attribute. */
static void poke_attr_i32(const char *path, const char *name, int32_t v)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    CU_ASSERT_FATAL(f >= 0);
    hid_t a = H5Aopen(f, name, H5P_DEFAULT);
    CU_ASSERT(a >= 0 && H5Awrite(a, H5T_NATIVE_INT32, &v) >= 0);
    H5Aclose(a);
    H5Fclose(f);
}

static void poke_dataset_i32(const char *path, const char *name, hsize_t row, hsize_t col,
                             int32_t v)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    CU_ASSERT_FATAL(f >= 0);
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    hid_t fs = H5Dget_space(d);
    int nd = H5Sget_simple_extent_ndims(fs);
    hsize_t start[2] = {row, col}, one[2] = {1, 1};
    hid_t ms = H5Screate_simple(1, one, NULL);
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, one, NULL);
    CU_ASSERT(nd >= 1 && H5Dwrite(d, H5T_NATIVE_INT32, ms, fs, H5P_DEFAULT, &v) >= 0);
    H5Sclose(ms);
    H5Sclose(fs);
    H5Dclose(d);
    H5Fclose(f);
}

static void test_read_other_format_version_is_input_error(void)
{
    char dir[64], path[128], want[256];
    spex_result r, back;
    spex_error err;
    tdir_make(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/v2.h5", dir);
    sample_result(&r, 0);
    CU_ASSERT_EQUAL_FATAL(write_result(path, &r, &err), SPEX_OK);
    poke_attr_i32(path, "format_version", 2);
    spex_error_clear(&err);
    CU_ASSERT_EQUAL(spex_h5_read_result(path, &back, &err), SPEX_EINPUT);
    snprintf(want, sizeof want, "'%s' has format_version 2, this spex reads 1", path);
    CU_ASSERT_STRING_EQUAL(err.msg, want);
    spex_result_free(&back);
    spex_result_free(&r);
    assert_no_open_hdf5();
    tdir_remove(dir);
}

static void test_read_damaged_rows_name_the_dataset(void)
{
    char dir[64], path[128];
    spex_result r, back;
    spex_error err;
    tdir_make(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/bad.h5", dir);
    sample_result(&r, 1);

    /* Row 1 is {0, 2, 5}: make it {0, 2, 6} (6 >= n_features). */
    CU_ASSERT_EQUAL_FATAL(write_result(path, &r, &err), SPEX_OK);
    poke_dataset_i32(path, "/fourier/features", 1, 2, 6);
    spex_error_clear(&err);
    CU_ASSERT_EQUAL(spex_h5_read_result(path, &back, &err), SPEX_EINPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "/fourier/features row 1"));
    spex_result_free(&back);

    /* Row 3 is {1, 3, -1}: make it {3, 3, -1} (not ascending). */
    CU_ASSERT_EQUAL_FATAL(write_result(path, &r, &err), SPEX_OK);
    poke_dataset_i32(path, "/fourier/features", 3, 0, 3);
    spex_error_clear(&err);
    CU_ASSERT_EQUAL(spex_h5_read_result(path, &back, &err), SPEX_EINPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "/fourier/features row 3"));
    spex_result_free(&back);

    /* Padding must be -1: row 2 {4, -1, -1} -> {4, 5, -1} with order 1. */
    CU_ASSERT_EQUAL_FATAL(write_result(path, &r, &err), SPEX_OK);
    poke_dataset_i32(path, "/fourier/features", 2, 1, 5);
    spex_error_clear(&err);
    CU_ASSERT_EQUAL(spex_h5_read_result(path, &back, &err), SPEX_EINPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "/fourier/features row 2"));
    spex_result_free(&back);

    CU_ASSERT_EQUAL_FATAL(write_result(path, &r, &err), SPEX_OK);
    poke_dataset_i32(path, "/fourier/order", 0, 0, 4);
    spex_error_clear(&err);
    CU_ASSERT_EQUAL(spex_h5_read_result(path, &back, &err), SPEX_EINPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "/fourier/order row 0 is 4"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, path));
    spex_result_free(&back);

    /* n_terms disagreeing with the datasets is a shape error. */
    CU_ASSERT_EQUAL_FATAL(write_result(path, &r, &err), SPEX_OK);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t a = H5Aopen(f, "n_terms", H5P_DEFAULT);
    uint64_t k = 5;
    H5Awrite(a, H5T_NATIVE_UINT64, &k);
    H5Aclose(a);
    H5Fclose(f);
    spex_error_clear(&err);
    CU_ASSERT_EQUAL(spex_h5_read_result(path, &back, &err), SPEX_EINPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "attribute 'n_terms' of / is 5, /fourier/order has"));
    spex_result_free(&back);

    /* A missing dataset is named. */
    CU_ASSERT_EQUAL_FATAL(write_result(path, &r, &err), SPEX_OK);
    f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    H5Ldelete(f, "/diagnostics/stage_seconds", H5P_DEFAULT);
    H5Fclose(f);
    spex_error_clear(&err);
    CU_ASSERT_EQUAL(spex_h5_read_result(path, &back, &err), SPEX_EINPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "dataset /diagnostics/stage_seconds is missing"));
    spex_result_free(&back);

    spex_result_free(&r);
    assert_no_open_hdf5();
    tdir_remove(dir);
}

/* ---- names files --------------------------------------------------------- */

static spex_status names_from(const char *text, int n, char ***names, spex_error *err,
                              char *path, size_t cap, char *dir)
{
    snprintf(path, cap, "%s/names.txt", dir);
    write_text(path, text);
    spex_error_clear(err);
    return spex_names_read(path, n, names, err);
}

/* Asserts that reading text fails with SPEX_EINPUT and the message
 * "<path><suffix>". */
static void assert_names_error(const char *text, int n, const char *suffix)
{
    char dir[64], path[128], want[512];
    char **names = NULL;
    spex_error err;
    tdir_make(dir, sizeof dir);
    CU_ASSERT_EQUAL(names_from(text, n, &names, &err, path, sizeof path, dir), SPEX_EINPUT);
    CU_ASSERT_PTR_NULL(names);
    snprintf(want, sizeof want, "%s%s", path, suffix);
    CU_ASSERT_STRING_EQUAL(err.msg, want);
    if (strcmp(err.msg, want) != 0)
        fprintf(stderr, "\n  got:  %s\n  want: %s\n", err.msg, want);
    tdir_remove(dir);
}

static void test_names_read_accepts_crlf_and_final_newline(void)
{
    char dir[64], path[128];
    char **names = NULL;
    spex_error err;
    tdir_make(dir, sizeof dir);
    CU_ASSERT_EQUAL_FATAL(
        names_from("age\r\n  zip code \r\nx\n\n", 3, &names, &err, path, sizeof path, dir),
        SPEX_OK);
    CU_ASSERT_STRING_EQUAL(names[0], "age");
    CU_ASSERT_STRING_EQUAL(names[1], "zip code");
    CU_ASSERT_STRING_EQUAL(names[2], "x");
    spex_names_free(names, 3);
    /* No final newline at all. */
    CU_ASSERT_EQUAL_FATAL(names_from("a\nb", 2, &names, &err, path, sizeof path, dir), SPEX_OK);
    CU_ASSERT_STRING_EQUAL(names[1], "b");
    spex_names_free(names, 2);
    tdir_remove(dir);
}

static void test_names_read_rejects_wrong_count(void)
{
    assert_names_error("a\nb\n", 3, ": has 2 names, features.n is 3");
    assert_names_error("a\nb\nc\nd\n", 3, ": has 4 names, features.n is 3");
    assert_names_error("", 1, ": has 0 names, features.n is 1");
}

static void test_names_read_rejects_empty_line(void)
{
    assert_names_error("a\n\nb\n", 3, ":2: empty line (one name per line)");
    assert_names_error("a\n \t\r\nb\n", 3, ":2: empty line (one name per line)");
}

static void test_names_read_rejects_long_name(void)
{
    char text[200], name63[64], name64[65];
    memset(name63, 'n', 63);
    name63[63] = '\0';
    memset(name64, 'n', 64);
    name64[64] = '\0';
    snprintf(text, sizeof text, "a\n%s\n%s\n", name63, name64);
    assert_names_error(text, 3, ":3: name is 64 bytes long, at most 63 are allowed");
}

static void test_names_read_rejects_repeats(void)
{
    assert_names_error("a\nb\nc\nb\na\n", 5, ":4: name 'b' repeats line 2");
    assert_names_error("x\ny\nx\n", 3, ":3: name 'x' repeats line 1");
}

static void test_names_read_missing_file(void)
{
    char **names = NULL;
    spex_error err;
    spex_error_clear(&err);
    CU_ASSERT_EQUAL(spex_names_read("/tmp/spex-no-such-names.txt", 2, &names, &err), SPEX_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "cannot open '/tmp/spex-no-such-names.txt'"));
    CU_ASSERT_PTR_NULL(names);
}

/* ---- spex show ----------------------------------------------------------- */

/* Everything spex_show printed for the file. */
static char *show_capture(const char *path, int top, spex_status *st)
{
    FILE *f = tmpfile();
    spex_error err;
    CU_ASSERT_FATAL(f != NULL);
    spex_error_clear(&err);
    *st = spex_show(path, top, NULL, f, &err);
    long len = ftell(f);
    char *buf = calloc((size_t)len + 1, 1);
    CU_ASSERT_FATAL(buf != NULL);
    rewind(f);
    CU_ASSERT_EQUAL(fread(buf, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    return buf;
}

/* Every table row has its coefficient where the header's column starts. */
static void assert_table_aligned(const char *text, int rows)
{
    const char *head = strstr(text, "rank  order");
    CU_ASSERT_FATAL(head != NULL);
    const char *eol = strchr(head, '\n');
    const char *col = strstr(head, "value");
    CU_ASSERT_FATAL(eol != NULL && col != NULL && col < eol);
    size_t at = (size_t)(col - head);
    const char *line = eol + 1;
    for (int i = 0; i < rows; i++) {
        const char *next = strchr(line, '\n');
        CU_ASSERT_FATAL(next != NULL);
        CU_ASSERT((size_t)(next - line) > at && (line[at] == '+' || line[at] == '-'));
        line = next + 1;
    }
}

static void test_show_prints_names_ranked(void)
{
    char dir[64], path[128];
    spex_result r;
    spex_error err;
    spex_status st;
    tdir_make(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/s.h5", dir);
    sample_result(&r, 1);
    CU_ASSERT_EQUAL_FATAL(write_result(path, &r, &err), SPEX_OK);

    char *out = show_capture(path, 2, &st);
    CU_ASSERT_EQUAL(st, SPEX_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "method        spex"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "queries       5000000000"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "terms         4"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "R^2 = 0.987500"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "2024-05-01T12:34:56Z"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "   1      0  (constant)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "   2      3  age x zip code x x5  -1.75\n"));
    CU_ASSERT_PTR_NULL(strstr(out, "weight")); /* rank 3 is not shown */
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "(showing 2 of 4 terms)"));
    assert_table_aligned(out, 2);
    free(out);

    out = show_capture(path, 0, &st);
    CU_ASSERT_EQUAL(st, SPEX_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "   4      2  income x height"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "-0.0625"));
    CU_ASSERT_PTR_NULL(strstr(out, "showing"));
    assert_table_aligned(out, 4);
    free(out);
    spex_result_free(&r);
    assert_no_open_hdf5();
    tdir_remove(dir);
}

static void test_show_prints_indices_without_names(void)
{
    char dir[64], path[128];
    spex_result r;
    spex_error err;
    spex_status st;
    tdir_make(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/s.h5", dir);
    sample_result(&r, 0);
    r.faithfulness_r2 = NAN;
    CU_ASSERT_EQUAL_FATAL(write_result(path, &r, &err), SPEX_OK);
    char *out = show_capture(path, 10, &st);
    CU_ASSERT_EQUAL(st, SPEX_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "0 x 2 x 5"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "1 x 3"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "+0.375"));
    CU_ASSERT_PTR_NULL(strstr(out, "faithfulness"));
    CU_ASSERT_PTR_NULL(strstr(out, "showing"));
    assert_table_aligned(out, 4);
    free(out);
    spex_result_free(&r);
    tdir_remove(dir);
}

/* spex show of the outputs besides the Fourier table (spex_h5_read_spectrum,
 * spex_h5_read_vector) on a file that has them, lacks them, or is damaged:
 * every call closes the file again, on its error paths too. */
static void test_show_outputs_close_the_file(void)
{
    char dir[64], path[128], want[256];
    spex_result r;
    spex_error err;
    FILE *sink = tmpfile();
    CU_ASSERT_FATAL(sink != NULL);
    tdir_make(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/s.h5", dir);
    sample_result(&r, 1);
    CU_ASSERT_EQUAL_FATAL(write_result(path, &r, &err), SPEX_OK);

    spex_error_clear(&err);
    CU_ASSERT_EQUAL(spex_show(path, 0, "mobius", sink, &err), SPEX_OK);
    assert_no_open_hdf5();
    spex_error_clear(&err);
    CU_ASSERT_EQUAL(spex_show(path, 0, "sii", sink, &err), SPEX_EINPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "has no /indices/sii"));
    assert_no_open_hdf5();
    spex_error_clear(&err);
    CU_ASSERT_EQUAL(spex_show(path, 0, "shapley", sink, &err), SPEX_EINPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "has no /values/shapley"));
    assert_no_open_hdf5();

    /* Damaged: /mobius without its coefficients. */
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    CU_ASSERT_FATAL(f >= 0);
    H5Ldelete(f, "/mobius/coef", H5P_DEFAULT);
    H5Fclose(f);
    spex_error_clear(&err);
    CU_ASSERT_EQUAL(spex_show(path, 0, "mobius", sink, &err), SPEX_EINPUT);
    snprintf(want, sizeof want, "%s: dataset /mobius/coef is missing", path);
    CU_ASSERT_STRING_EQUAL(err.msg, want);
    assert_no_open_hdf5();

    fclose(sink);
    spex_result_free(&r);
    tdir_remove(dir);
}

static void test_show_missing_file_fails(void)
{
    spex_status st;
    char *out = show_capture("/tmp/spex-no-such-result.h5", 5, &st);
    CU_ASSERT_EQUAL(st, SPEX_EIO);
    CU_ASSERT_STRING_EQUAL(out, "");
    free(out);
}

static const test_case TESTS[] = {
    {"stage_names_cover_every_stage", test_stage_names_cover_every_stage},
    {"result_init_and_free_leave_empty", test_result_init_and_free_leave_empty},
    {"roundtrip_every_field_with_names", test_roundtrip_every_field_with_names},
    {"roundtrip_empty_spectrum_no_names", test_roundtrip_empty_spectrum_no_names},
    {"roundtrip_max_order_one", test_roundtrip_max_order_one},
    {"h5dump_sees_layout_and_values", test_h5dump_sees_layout_and_values},
    {"large_config_is_stored", test_large_config_is_stored},
    {"write_into_missing_directory_fails", test_write_into_missing_directory_fails},
    {"failed_write_keeps_existing_file", test_failed_write_keeps_existing_file},
    {"rename_failure_removes_temp", test_rename_failure_removes_temp},
    {"write_replaces_existing_file", test_write_replaces_existing_file},
    {"write_rejects_term_above_max_order", test_write_rejects_term_above_max_order},
    {"read_missing_file_is_io_error", test_read_missing_file_is_io_error},
    {"read_text_file_is_input_error", test_read_text_file_is_input_error},
    {"read_hdf5_without_format_is_input_error", test_read_hdf5_without_format_is_input_error},
    {"read_other_format_version_is_input_error",
     test_read_other_format_version_is_input_error},
    {"read_damaged_rows_name_the_dataset", test_read_damaged_rows_name_the_dataset},
    {"names_read_accepts_crlf_and_final_newline",
     test_names_read_accepts_crlf_and_final_newline},
    {"names_read_rejects_wrong_count", test_names_read_rejects_wrong_count},
    {"names_read_rejects_empty_line", test_names_read_rejects_empty_line},
    {"names_read_rejects_long_name", test_names_read_rejects_long_name},
    {"names_read_rejects_repeats", test_names_read_rejects_repeats},
    {"names_read_missing_file", test_names_read_missing_file},
    {"show_prints_names_ranked", test_show_prints_names_ranked},
    {"show_prints_indices_without_names", test_show_prints_indices_without_names},
    {"show_outputs_close_the_file", test_show_outputs_close_the_file},
    {"show_missing_file_fails", test_show_missing_file_fails},
    {NULL, NULL},
};

SPEX_TEST_MAIN("h5io")
