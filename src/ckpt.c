/* ckpt.c -- evaluation checkpoints in HDF5 (format "spex-checkpoint" 1).
 *
 * Layout: root attributes format, format_version, queries; dataset /values
 * float64[queries] by global query id (NaN: not evaluated); dataset /study
 * (fixed-length string): the effective study.  Every rank's values are one
 * hyperslab of /values: its slice [a, b) of each of its signals, that is
 * start s_lo 2^b + a, stride 2^b, count s_hi - s_lo, block b - a.
 */
#include "spex/ckpt.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* Reads a fixed-length string dataset into new memory (NULL on failure). */
static char *read_text(hid_t fid, const char *name)
{
    char *text = NULL;
    hid_t d = H5Dopen2(fid, name, H5P_DEFAULT);
    hid_t t = d >= 0 ? H5Dget_type(d) : -1;
    size_t len = t >= 0 ? H5Tget_size(t) : 0;
    if (len > 0 && H5Tget_class(t) == H5T_STRING && (text = calloc(len + 1, 1)) != NULL &&
        H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, text) < 0) {
        free(text);
        text = NULL;
    }
    if (t >= 0)
        H5Tclose(t);
    if (d >= 0)
        H5Dclose(d);
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

    H5E_auto2_t func;
    void *data;
    H5Eget_auto2(H5E_DEFAULT, &func, &data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t fapl = ckpt_fapl(comm), fid = H5Fopen(ck->path, H5F_ACC_RDONLY, fapl);
    hid_t ds = -1, fs = -1, ms = -1;
    char fmt[32] = "";
    uint64_t queries = 0;
    char *study = NULL;
    if (fid < 0) {
        spex_error_set(err, SPEX_EINPUT, "checkpoint '%s' cannot be opened as HDF5 (remove it to "
                       "start afresh)", ck->path);
        goto out;
    }
    hid_t a = H5Aopen(fid, "format", H5P_DEFAULT);
    hid_t at = a >= 0 ? H5Aget_type(a) : -1;
    if (a < 0 || H5Tget_size(at) >= sizeof fmt || H5Aread(a, at, fmt) < 0)
        fmt[0] = '\0';
    if (at >= 0)
        H5Tclose(at);
    if (a >= 0)
        H5Aclose(a);
    a = H5Aopen(fid, "queries", H5P_DEFAULT);
    if (a < 0 || H5Aread(a, H5T_NATIVE_UINT64, &queries) < 0)
        queries = 0;
    if (a >= 0)
        H5Aclose(a);
    study = read_text(fid, "/study");
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
    hid_t xfer = H5Pcreate(H5P_DATASET_XFER);
    H5Pset_dxpl_mpio(xfer, H5FD_MPIO_COLLECTIVE);
    if (ds < 0 || fs < 0 || H5Dread(ds, H5T_NATIVE_DOUBLE, ms, ckpt_select(fs, d, L), xfer, sig) < 0)
        spex_error_set(err, SPEX_EINPUT, "cannot read /values of checkpoint '%s'", ck->path);
    H5Pclose(xfer);
out:
    if (ms >= 0)
        H5Sclose(ms);
    if (fs >= 0)
        H5Sclose(fs);
    if (ds >= 0)
        H5Dclose(ds);
    if (fid >= 0)
        H5Fclose(fid);
    H5Pclose(fapl);
    free(study);
    H5Eset_auto2(H5E_DEFAULT, func, data);
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
    int rank;
    long pid = (long)getpid();
    MPI_Comm_rank(comm, &rank);
    MPI_Bcast(&pid, 1, MPI_LONG, 0, comm);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", ck->path, pid);
    H5E_auto2_t func;
    void *data;
    H5Eget_auto2(H5E_DEFAULT, &func, &data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t fapl = ckpt_fapl(comm), fid = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    int ok = fid >= 0;
    if (ok) {
        hsize_t Q = spex_design_queries(d), one = 1;
        uint64_t q64 = Q;
        int32_t version = 1;
        hid_t s1 = H5Screate(H5S_SCALAR), st = H5Tcopy(H5T_C_S1);
        H5Tset_size(st, sizeof CKPT_FORMAT);
        hid_t a = H5Acreate2(fid, "format", st, s1, H5P_DEFAULT, H5P_DEFAULT);
        ok &= a >= 0 && H5Awrite(a, st, CKPT_FORMAT) >= 0;
        H5Aclose(a);
        a = H5Acreate2(fid, "format_version", H5T_STD_I32LE, s1, H5P_DEFAULT, H5P_DEFAULT);
        ok &= a >= 0 && H5Awrite(a, H5T_NATIVE_INT32, &version) >= 0;
        H5Aclose(a);
        a = H5Acreate2(fid, "queries", H5T_STD_U64LE, s1, H5P_DEFAULT, H5P_DEFAULT);
        ok &= a >= 0 && H5Awrite(a, H5T_NATIVE_UINT64, &q64) >= 0;
        H5Aclose(a);
        hid_t tt = H5Tcopy(H5T_C_S1);
        H5Tset_size(tt, strlen(ck->study) + 1);
        hid_t dt = H5Dcreate2(fid, "/study", tt, s1, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        hid_t xfer = H5Pcreate(H5P_DATASET_XFER);
        H5Pset_dxpl_mpio(xfer, H5FD_MPIO_COLLECTIVE);
        ok &= dt >= 0 && H5Dwrite(dt, tt, H5S_ALL, H5S_ALL, xfer, ck->study) >= 0;
        H5Dclose(dt);
        H5Tclose(tt);
        hid_t fs = H5Screate_simple(1, &Q, NULL);
        hid_t ds = H5Dcreate2(fid, "/values", H5T_IEEE_F64LE, fs, H5P_DEFAULT, H5P_DEFAULT,
                              H5P_DEFAULT);
        size_t held = spex_layout_count(L);
        hsize_t mdim = held ? held : one;
        hid_t ms = H5Screate_simple(1, &mdim, NULL);
        if (held == 0)
            H5Sselect_none(ms);
        static const double none = 0;
        ok &= ds >= 0 &&
              H5Dwrite(ds, H5T_NATIVE_DOUBLE, ms, ckpt_select(fs, d, L), xfer, held ? sig : &none) >= 0;
        H5Sclose(ms);
        H5Sclose(fs);
        H5Dclose(ds);
        H5Pclose(xfer);
        H5Tclose(st);
        H5Sclose(s1);
        ok &= H5Fclose(fid) >= 0;
    }
    H5Pclose(fapl);
    H5Eset_auto2(H5E_DEFAULT, func, data);
    if (!ok)
        spex_error_set(err, SPEX_EIO, "cannot write checkpoint '%s'", tmp);
    if (spex_error_agree(comm, err) == SPEX_OK && rank == 0 && rename(tmp, ck->path) != 0)
        spex_error_set(err, SPEX_EIO, "cannot rename checkpoint '%s' to '%s'", tmp, ck->path);
    if (spex_error_agree(comm, err) != SPEX_OK) {
        if (rank == 0)
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
