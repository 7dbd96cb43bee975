/* oracle_hdf5.c -- values read from a filled plan file (oracle.kind = hdf5,
 * oracle.values = plan.h5; `spex decode`, doc/two-phase.md).
 *
 * At creation the ranks check the plan against the study together
 * (spex_plan_check: design parameters, shapes, every value finite); then
 * each rank opens the file read-only for itself and keeps it open.  A
 * batch of design ids [first, first + count) is rows [first, first + count)
 * of /queries/values, read with one hyperslab; test ids SPEX_TEST_ID_BASE
 * + i are rows i of /test/values.  The masks are not read again here:
 * spex_plan_check compared every one of them with the study's (and with
 * the plan's hashes) before the first batch.
 */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spex/assess.h"
#include "spex/h5util.h"
#include "spex/mask.h"
#include "spex/oracle.h"
#include "spex/plan.h"

/* Datasets of one part of the plan: 0 the design's queries, 1 the tests. */
enum { PART_QUERIES = 0, PART_TEST = 1 };
static const char *const PART_NAME[2] = {"queries", "test"};

typedef struct hdf5_state {
    char path[SPEX_PATH_MAX];
    hid_t fid;
    hid_t values[2];
    uint64_t rows[2];
} hdf5_state;

static void hdf5_destroy(spex_oracle *o)
{
    hdf5_state *s = o->state;
    if (s != NULL) {
        for (int i = 0; i < 2; i++) {
            if (s->values[i] >= 0)
                H5Dclose(s->values[i]);
        }
        if (s->fid >= 0)
            H5Fclose(s->fid);
        free(s);
    }
    free(o);
}

/* Reads `count` rows from `row` of dataset d (width elements of mtype per
 * row, 0 for a 1-D dataset) into buf.  Returns < 0 on failure. */
static herr_t read_rows(hid_t d, hid_t mtype, uint64_t row, size_t count, hsize_t width,
                        void *buf)
{
    hsize_t start[2] = {row, 0}, cnt[2] = {count, width};
    int nd = width > 0 ? 2 : 1;
    hid_t fspace = H5Dget_space(d), mspace = H5Screate_simple(nd, cnt, NULL);
    herr_t rc = fspace >= 0 && mspace >= 0 ? 0 : -1;
    if (rc >= 0)
        rc = H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, cnt, NULL);
    if (rc >= 0)
        rc = H5Dread(d, mtype, mspace, fspace, H5P_DEFAULT, buf);
    if (mspace >= 0)
        H5Sclose(mspace);
    if (fspace >= 0)
        H5Sclose(fspace);
    return rc;
}

static spex_status hdf5_eval(spex_oracle *o, size_t count, const uint64_t *masks,
                             uint64_t first_id, double *values, spex_error *err)
{
    spex_status st = SPEX_OK;
    hdf5_state *s = o->state;
    (void)masks; /* checked against the plan's rows by spex_plan_check */
    if (count == 0)
        return SPEX_OK;
    int part = first_id >= SPEX_TEST_ID_BASE ? PART_TEST : PART_QUERIES;
    uint64_t row = part == PART_TEST ? first_id - SPEX_TEST_ID_BASE : first_id;
    if (row >= s->rows[part] || count > s->rows[part] - row)
        return spex_error_set(err, SPEX_EINPUT,
                              "%s: rows %llu..%llu of /%s are asked for, the plan has %llu",
                              s->path, (unsigned long long)row,
                              (unsigned long long)(row + count - 1), PART_NAME[part],
                              (unsigned long long)s->rows[part]);
    spex_h5_quiet quiet;
    spex_h5_quiet_begin(&quiet);
    if (read_rows(s->values[part], H5T_NATIVE_DOUBLE, row, count, 0, values) < 0) {
        st = spex_error_set(err, SPEX_EIO, "%s: cannot read /%s/values[%llu..%llu]", s->path,
                            PART_NAME[part], (unsigned long long)row,
                            (unsigned long long)(row + count - 1));
    }
    H5Eclear2(H5E_DEFAULT);
    spex_h5_quiet_end(&quiet);
    return st;
}

/* Local.  This rank's own read-only handle on the checked plan. */
static spex_status hdf5_open(hdf5_state *s, spex_error *err)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
#if H5_VERSION_GE(1, 10, 7)
    if (fapl >= 0)
        H5Pset_file_locking(fapl, 1, 1);
#endif
    s->fid = H5Fopen(s->path, H5F_ACC_RDONLY, fapl >= 0 ? fapl : H5P_DEFAULT);
    if (fapl >= 0)
        H5Pclose(fapl);
    if (s->fid < 0)
        return spex_error_set(err, SPEX_EIO, "cannot open '%s'", s->path);
    for (int i = 0; i < 2; i++) {
        char name[64];
        snprintf(name, sizeof name, "/%s/values", PART_NAME[i]);
        s->values[i] = H5Dopen2(s->fid, name, H5P_DEFAULT);
        if (s->values[i] < 0)
            return spex_error_set(err, SPEX_EIO, "%s: cannot open /%s/values", s->path,
                                  PART_NAME[i]);
    }
    return SPEX_OK;
}

spex_status spex_oracle_hdf5_create(MPI_Comm comm, const spex_config *cfg, spex_oracle **out,
                                    spex_error *err)
{
    spex_status st = SPEX_OK;
    spex_plan_params plan;
    spex_oracle *o = NULL;
    hdf5_state *s = NULL;
    *out = NULL;
    /* The same verdict on every rank: no collective is skipped unevenly. */
    if (cfg->values[0] == '\0')
        return spex_error_set(err, SPEX_EUSAGE,
                              "oracle.kind = hdf5 needs oracle.values = the filled plan file "
                              "(spex decode STUDY --values PLAN.h5)");
    SPEX_CHECK(spex_plan_check(comm, cfg, cfg->values, &plan, err));

    o = calloc(1, sizeof *o);
    s = o != NULL ? calloc(1, sizeof *s) : NULL;
    if (s == NULL) {
        free(o);
        o = NULL;
        st = spex_error_set(err, SPEX_EINTERNAL, "out of memory creating the hdf5 oracle");
        goto out;
    }
    o->state = s;
    o->n = cfg->n;
    o->words = spex_mask_words(cfg->n);
    o->kind = "hdf5";
    o->eval = hdf5_eval;
    o->destroy = hdf5_destroy;
    o->truth = NULL;
    s->fid = -1;
    for (int i = 0; i < 2; i++)
        s->values[i] = -1;
    snprintf(s->path, sizeof s->path, "%s", cfg->values);
    s->rows[PART_QUERIES] = plan.queries;
    s->rows[PART_TEST] = plan.test_masks;
    spex_h5_quiet quiet;
    spex_h5_quiet_begin(&quiet);
    st = hdf5_open(s, err);
    H5Eclear2(H5E_DEFAULT);
    spex_h5_quiet_end(&quiet);
out:
    if (spex_error_agree(comm, err) != SPEX_OK) {
        if (o != NULL)
            hdf5_destroy(o);
        return err->code;
    }
    *out = o;
    return st;
}
