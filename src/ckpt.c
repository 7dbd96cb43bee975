/* ckpt.c -- evaluation checkpoints in HDF5 (format "spex-checkpoint" 1).
 *
 * Layout: root attributes format, format_version, queries; dataset /values
 * float64[queries] by global query id (NaN: not evaluated); dataset /study
 * (fixed-length string): the effective study.  Every rank's values are one
 * hyperslab of /values: its slice [a, b) of each of its signals, that is
 * start s_lo 2^b + a, stride 2^b, count s_hi - s_lo, block b - a.
 *
 * Written and read with the helpers of the result and plan files
 * (h5util.c), with two differences: a checkpoint's errors name only the
 * checkpoint (why HDF5 failed is not reported), and it is renamed without
 * an fsync.
 */
#include "spex/ckpt.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spex/h5util.h"

#define CKPT_FORMAT "spex-checkpoint"

/* The file selection of this rank's values. */
static hid_t ckpt_select(hid_t space, const spex_design *d, const spex_layout *L)
{
    hsize_t B = spex_design_bins(d);
    hsize_t start = (hsize_t)L->s_lo * B + L->a, stride = B, count = L->s_hi - L->s_lo,
            block = L->b - L->a;
    if (count == 0 || block == 0)
        H5Sselect_none(space);
    else
        H5Sselect_hyperslab(space, H5S_SELECT_SET, &start, &stride, &count, &block);
    return space;
}

static hid_t ckpt_fapl(MPI_Comm comm)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST);
    return fapl;
}

/* The study text of a checkpoint (new memory), NULL when /study is not a
 * single string. */
static char *read_study(spex_h5r *rd, hid_t fid)
{
    char *text = NULL;
    hid_t d = H5Dopen2(fid, "/study", H5P_DEFAULT);
    if (d >= 0 && spex_h5r_strings(rd, d, 0, "dataset /study", 1, &text) != SPEX_OK) {
        free(text);
        text = NULL;
    }
    spex_h5_close_id(&d);
    return text;
}

spex_status spex_ckpt_load(MPI_Comm comm, spex_ckpt *ck, const spex_design *d,
                           const spex_layout *L, double *sig, spex_error *err)
{
    size_t held = spex_layout_count(L);
    for (size_t i = 0; i < held; i++)
        sig[i] = NAN;
    ck->resumed = 0;
    int rank, exists = 0;
    MPI_Comm_rank(comm, &rank);
    if (ck->path == NULL)
        return SPEX_OK;
    if (rank == 0)
        exists = access(ck->path, F_OK) == 0;
    MPI_Bcast(&exists, 1, MPI_INT, 0, comm);
    if (!exists)
        return SPEX_OK;

    spex_h5_quiet quiet;
    spex_h5_quiet_begin(&quiet);
    hid_t fapl = ckpt_fapl(comm), fid = H5Fopen(ck->path, H5F_ACC_RDONLY, fapl);
    hid_t ds = -1, fs = -1, ms = -1, xfer = -1;
    char fmt[32] = "";
    uint64_t queries = 0;
    char *study = NULL;
    /* Why the format, size or study is unusable does not matter: the
     * verdict does. */
    spex_error ignored;
    spex_h5r rd = {ck->path, &ignored, "checkpoint"};
    spex_error_clear(&ignored);
    if (fid < 0) {
        spex_error_set(err, SPEX_EINPUT, "checkpoint '%s' cannot be opened as HDF5 (remove it to "
                       "start afresh)", ck->path);
        goto out;
    }
    spex_h5r_peek_str(fid, "format", fmt, sizeof fmt);
    if (spex_h5r_attr_num(&rd, fid, NULL, "queries", H5T_INTEGER, H5T_NATIVE_UINT64, &queries) !=
        SPEX_OK)
        queries = 0;
    study = read_study(&rd, fid);
    if (strcmp(fmt, CKPT_FORMAT) != 0) {
        spex_error_set(err, SPEX_EINPUT, "'%s' is not a spex checkpoint", ck->path);
        goto out;
    }
    if (queries != spex_design_queries(d) || study == NULL || strcmp(study, ck->study) != 0) {
        spex_error_set(err, SPEX_EINPUT,
                       "checkpoint '%s' belongs to another study (its effective study differs "
                       "from this one): remove it, or set study.checkpoint to another file",
                       ck->path);
        goto out;
    }
    ds = H5Dopen2(fid, "/values", H5P_DEFAULT);
    fs = ds >= 0 ? H5Dget_space(ds) : -1;
    hsize_t mdim = held ? held : 1;
    ms = H5Screate_simple(1, &mdim, NULL);
    if (held == 0)
        H5Sselect_none(ms);
    xfer = H5Pcreate(H5P_DATASET_XFER);
    H5Pset_dxpl_mpio(xfer, H5FD_MPIO_COLLECTIVE);
    if (ds < 0 || fs < 0 ||
        H5Dread(ds, H5T_NATIVE_DOUBLE, ms, ckpt_select(fs, d, L), xfer, sig) < 0)
        spex_error_set(err, SPEX_EINPUT, "cannot read /values of checkpoint '%s'", ck->path);
    for (size_t i = 0; err->code == SPEX_OK && i < held; i++)
        if (isinf(sig[i]))
            spex_error_set(err, SPEX_EINPUT, "checkpoint '%s' holds a non-finite value: it is "
                           "damaged (remove it to start afresh)", ck->path);
out:
    spex_h5_close_id(&xfer);
    spex_h5_close_id(&ms);
    spex_h5_close_id(&fs);
    spex_h5_close_id(&ds);
    spex_h5_close_id(&fid);
    spex_h5_close_id(&fapl);
    free(study);
    spex_h5_quiet_end(&quiet);
    if (spex_error_agree(comm, err) != SPEX_OK)
        return err->code;
    uint64_t mine = 0;
    for (size_t i = 0; i < held; i++)
        mine += !isnan(sig[i]);
    MPI_Allreduce(&mine, &ck->resumed, 1, MPI_UINT64_T, MPI_SUM, comm);
    return SPEX_OK;
}

spex_status spex_ckpt_save(MPI_Comm comm, const spex_ckpt *ck, const spex_design *d,
                           const spex_layout *L, const double *sig, spex_error *err)
{
    if (ck->path == NULL)
        return SPEX_OK;
    long pid = (long)getpid();
    MPI_Bcast(&pid, 1, MPI_LONG, 0, comm);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", ck->path, pid);
    /* The writer records what failed; a checkpoint reports only that it
     * could not be written. */
    spex_error failed;
    spex_error_clear(&failed);
    spex_h5w w;
    spex_h5w_init(&w, comm, tmp, &failed);
    spex_h5_quiet quiet;
    spex_h5_quiet_begin(&quiet);
    if (spex_h5w_create(&w) == SPEX_OK) {
        hsize_t Q = spex_design_queries(d);
        size_t held = spex_layout_count(L);
        hsize_t mdim = held ? held : 1;
        static const double none = 0;
        hid_t ft = spex_h5_string_type(sizeof CKPT_FORMAT, H5T_CSET_ASCII);
        spex_h5w_attr(&w, w.fid, NULL, "format", ft, ft, CKPT_FORMAT);
        spex_h5w_attr_i32(&w, w.fid, NULL, "format_version", 1);
        spex_h5w_attr_u64(&w, w.fid, NULL, "queries", Q);
        hid_t tt = spex_h5_string_type(strlen(ck->study) + 1, H5T_CSET_ASCII);
        hid_t s1 = H5Screate(H5S_SCALAR);
        hid_t dt = H5Dcreate2(w.fid, "/study", tt, s1, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        spex_h5w_scalar(&w, dt, "/study", tt, ck->study);
        hid_t fs = H5Screate_simple(1, &Q, NULL);
        hid_t ds = H5Dcreate2(w.fid, "/values", H5T_IEEE_F64LE, fs, H5P_DEFAULT, H5P_DEFAULT,
                              H5P_DEFAULT);
        hid_t ms = H5Screate_simple(1, &mdim, NULL);
        if (held == 0)
            H5Sselect_none(ms);
        if (ds < 0 || H5Dwrite(ds, H5T_NATIVE_DOUBLE, ms, ckpt_select(fs, d, L), w.dxpl,
                               held ? sig : &none) < 0)
            spex_h5w_fail(&w, "writing dataset /values");
        spex_h5_close_id(&ms);
        spex_h5_close_id(&ds);
        spex_h5_close_id(&fs);
        spex_h5_close_id(&dt);
        spex_h5_close_id(&s1);
        spex_h5_close_id(&tt);
        spex_h5_close_id(&ft);
    }
    spex_h5w_close(&w);
    spex_h5_quiet_end(&quiet);
    if (failed.code != SPEX_OK)
        spex_error_set(err, SPEX_EIO, "cannot write checkpoint '%s'", tmp);
    if (spex_error_agree(comm, err) == SPEX_OK && w.rank == 0 && rename(tmp, ck->path) != 0)
        spex_error_set(err, SPEX_EIO, "cannot rename checkpoint '%s' to '%s'", tmp, ck->path);
    if (spex_error_agree(comm, err) != SPEX_OK) {
        if (w.rank == 0)
            unlink(tmp);
        return err->code;
    }
    return SPEX_OK;
}

void spex_ckpt_remove(MPI_Comm comm, const spex_ckpt *ck)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    MPI_Barrier(comm);
    if (ck->path != NULL && rank == 0)
        unlink(ck->path);
}
