/* h5util.c -- HDF5 helpers shared by the result file (h5io.c), the plan
 * file (plan.c) and checkpoints (ckpt.c); h5util.h says what each does.
 *
 * Every spex file follows the same rules, and this file is where they
 * live.  HDF5 prints its whole error stack by default; spex turns that off
 * and reports one line with the innermost HDF5 message in parentheses.
 * Files are written with parallel HDF5 (HDF5 1.10: strings fixed-length,
 * because variable-length ones cannot be written in parallel; metadata
 * calls identical on every rank) under a temporary name, and renamed after
 * an fsync only when every rank finished without error.  A failing writer
 * call records its error and returns: the caller agrees on errors
 * (spex_error_agree) before any collective transfer, so a failure on one
 * rank never leaves another waiting.  Readers are serial and turn
 * anything unexpected in a file into an SPEX_EINPUT error naming it.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* fsync */
#endif

#include "spex/h5util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- plumbing --------------------------------------------------------------- */

void spex_h5_quiet_begin(spex_h5_quiet *q)
{
    H5Eget_auto2(H5E_DEFAULT, &q->func, &q->data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

void spex_h5_quiet_end(const spex_h5_quiet *q) { H5Eset_auto2(H5E_DEFAULT, q->func, q->data); }

/* Walking upward starts at the innermost failure: keep the first. */
static herr_t detail_walk(unsigned n, const H5E_error2_t *e, void *data)
{
    spex_h5_detail *d = data;
    if (n == 0 && e->desc != NULL)
        snprintf(d->text, sizeof d->text, "%s", e->desc);
    return 0;
}

const char *spex_h5_detail_get(spex_h5_detail *d)
{
    d->text[0] = '\0';
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, detail_walk, d);
    H5Eclear2(H5E_DEFAULT);
    if (d->text[0] == '\0')
        snprintf(d->text, sizeof d->text, "HDF5 error");
    return d->text;
}

hid_t spex_h5_string_type(size_t size, H5T_cset_t cset)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0)
        return t;
    if (H5Tset_size(t, size) < 0 || H5Tset_strpad(t, H5T_STR_NULLTERM) < 0 ||
        H5Tset_cset(t, cset) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

/* H5Oclose takes groups, datasets and named datatypes only: a file id
 * handed to it stays open (and keeps its file open), so each kind goes to
 * its own close function. */
void spex_h5_close_id(hid_t *id)
{
    if (*id < 0)
        return;
    switch (H5Iget_type(*id)) {
    case H5I_FILE:
        H5Fclose(*id);
        break;
    case H5I_DATATYPE:
        H5Tclose(*id);
        break;
    case H5I_DATASPACE:
        H5Sclose(*id);
        break;
    case H5I_ATTR:
        H5Aclose(*id);
        break;
    case H5I_GENPROP_LST:
        H5Pclose(*id);
        break;
    default:
        H5Oclose(*id);
        break;
    }
    *id = -1;
}

void spex_h5_block_range(uint64_t total, int rank, int size, uint64_t *lo, uint64_t *hi)
{
    *lo = total * (uint64_t)rank / (uint64_t)size;
    *hi = total * (uint64_t)(rank + 1) / (uint64_t)size;
}

/* ---- writing ---------------------------------------------------------------- */

void spex_h5w_init(spex_h5w *w, MPI_Comm comm, const char *tmp, spex_error *err)
{
    w->comm = comm;
    MPI_Comm_rank(comm, &w->rank);
    MPI_Comm_size(comm, &w->size);
    w->tmp = tmp;
    w->err = err;
    w->fapl = w->dxpl = w->fid = -1;
    w->attempted = 0;
}

void spex_h5w_fail(spex_h5w *w, const char *fmt, ...)
{
    char what[256];
    spex_h5_detail d;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    spex_error_set(w->err, SPEX_EIO, "cannot write '%s': %s failed (%s)", w->tmp, what,
                   spex_h5_detail_get(&d));
}

/* Explains a failed H5Fcreate.  MPI-IO reports only an error class and
 * clobbers errno, so rank 0 asks the system directly (missing directory,
 * permissions, a directory in the way); a file this creates is removed
 * with the failed write's temporary file. */
static void create_failed(spex_h5w *w)
{
    spex_h5_detail d;
    const char *why = spex_h5_detail_get(&d);
    if (w->rank == 0) {
        int fd = open(w->tmp, O_WRONLY | O_CREAT, 0666);
        if (fd < 0)
            why = strerror(errno);
        else
            close(fd);
    }
    spex_error_set(w->err, SPEX_EIO, "cannot create '%s': %s", w->tmp, why);
}

spex_status spex_h5w_create(spex_h5w *w)
{
    w->fapl = H5Pcreate(H5P_FILE_ACCESS);
    w->dxpl = H5Pcreate(H5P_DATASET_XFER);
    if (w->fapl < 0 || w->dxpl < 0 || H5Pset_fapl_mpio(w->fapl, w->comm, MPI_INFO_NULL) < 0 ||
        H5Pset_libver_bounds(w->fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST) < 0 ||
        H5Pset_dxpl_mpio(w->dxpl, H5FD_MPIO_COLLECTIVE) < 0)
        spex_h5w_fail(w, "setting up parallel HDF5");
    if (spex_error_agree(w->comm, w->err) != SPEX_OK)
        return w->err->code;
    w->attempted = 1;
    w->fid = H5Fcreate(w->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, w->fapl);
    if (w->fid < 0)
        create_failed(w);
    return spex_error_agree(w->comm, w->err);
}

void spex_h5w_close(spex_h5w *w)
{
    /* After a failed write (ENOSPC, EIO) parallel HDF5 1.10 cannot close
     * the file: ranks meet different collectives inside H5Fclose (a hang),
     * and HDF5's hook at MPI_Finalize crashes on the half-closed file.  The
     * file is garbage: rank 0 removes it, reports the agreed error, and the
     * job ends with its code. */
    if (w->fid >= 0 && spex_error_agree(w->comm, w->err) != SPEX_OK) {
        if (w->rank == 0) {
            unlink(w->tmp);
            fprintf(stderr, "spex: error: %s\n", w->err->msg);
            fflush(stderr);
        }
        MPI_Abort(w->comm, (int)w->err->code);
    }
    if (w->fid >= 0 && H5Fclose(w->fid) < 0)
        spex_h5w_fail(w, "closing the file");
    w->fid = -1;
    spex_h5_close_id(&w->dxpl);
    spex_h5_close_id(&w->fapl);
}

spex_status spex_h5_publish(const char *tmp, const char *path, spex_error *err)
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

spex_status spex_h5w_publish(spex_h5w *w, const char *path)
{
    if (spex_error_agree(w->comm, w->err) == SPEX_OK && w->rank == 0)
        spex_h5_publish(w->tmp, path, w->err);
    /* unlink (not remove) never deletes a directory that happens to sit
     * at the temporary name. */
    if (spex_error_agree(w->comm, w->err) != SPEX_OK && w->rank == 0 && w->attempted)
        unlink(w->tmp);
    return w->err->code;
}

/* Writes value into a new attribute of obj with dataspace space. */
static void attr_write(spex_h5w *w, hid_t obj, const char *where, const char *name, hid_t ftype,
                       hid_t mtype, hid_t space, const void *value)
{
    hid_t a = space >= 0 ? H5Acreate2(obj, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT) : -1;
    if (a < 0 || H5Awrite(a, mtype, value) < 0) {
        if (where != NULL)
            spex_h5w_fail(w, "writing attribute '%s' of %s", name, where);
        else
            spex_h5w_fail(w, "writing attribute '%s'", name);
    }
    spex_h5_close_id(&a);
    spex_h5_close_id(&space);
}

void spex_h5w_attr(spex_h5w *w, hid_t obj, const char *where, const char *name, hid_t ftype,
                   hid_t mtype, const void *value)
{
    attr_write(w, obj, where, name, ftype, mtype, H5Screate(H5S_SCALAR), value);
}

void spex_h5w_attr_1d(spex_h5w *w, hid_t obj, const char *where, const char *name, hid_t ftype,
                      hid_t mtype, hsize_t n, const void *value)
{
    attr_write(w, obj, where, name, ftype, mtype, H5Screate_simple(1, &n, NULL), value);
}

void spex_h5w_attr_i32(spex_h5w *w, hid_t obj, const char *where, const char *name, int32_t v)
{
    spex_h5w_attr(w, obj, where, name, H5T_STD_I32LE, H5T_NATIVE_INT32, &v);
}

void spex_h5w_attr_u64(spex_h5w *w, hid_t obj, const char *where, const char *name, uint64_t v)
{
    spex_h5w_attr(w, obj, where, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &v);
}

void spex_h5w_attr_f64(spex_h5w *w, hid_t obj, const char *where, const char *name, double v)
{
    spex_h5w_attr(w, obj, where, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v);
}

void spex_h5w_attr_str(spex_h5w *w, hid_t obj, const char *where, const char *name, const char *s,
                       size_t cap)
{
    const char *end = memchr(s, '\0', cap);
    size_t len = end != NULL ? (size_t)(end - s) : cap;
    char *buf = calloc(len + 1, 1);
    hid_t t = spex_h5_string_type(len + 1, H5T_CSET_UTF8);
    if (buf == NULL || t < 0) {
        if (where != NULL)
            spex_h5w_fail(w, "preparing attribute '%s' of %s", name, where);
        else
            spex_h5w_fail(w, "preparing attribute '%s'", name);
    } else {
        memcpy(buf, s, len);
        spex_h5w_attr(w, obj, where, name, t, t, buf);
    }
    spex_h5_close_id(&t);
    free(buf);
}

hid_t spex_h5w_group(spex_h5w *w, hid_t fid, const char *name)
{
    hid_t g = H5Gcreate2(fid, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        spex_h5w_fail(w, "creating group %s", name);
    return g;
}

hid_t spex_h5w_dataset(spex_h5w *w, hid_t fid, const char *name, hid_t ftype, int ndims,
                       const hsize_t *dims)
{
    hid_t space = ndims == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(ndims, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t d = -1;
    if (space >= 0 && dcpl >= 0 && H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) >= 0)
        d = H5Dcreate2(fid, name, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (d < 0)
        spex_h5w_fail(w, "creating dataset %s", name);
    spex_h5_close_id(&dcpl);
    spex_h5_close_id(&space);
    return d;
}

void spex_h5w_rows(spex_h5w *w, hid_t d, const char *name, hid_t mtype, hsize_t width, hsize_t lo,
                   hsize_t hi, const void *buf)
{
    static const double no_rows = 0; /* HDF5 rejects a NULL buffer */
    hsize_t start[2] = {lo, 0}, count[2] = {hi - lo, width};
    hid_t fspace = H5Dget_space(d), mspace = -1;
    /* An empty dataset has no storage to transfer to (HDF5 fails with
     * "addr overflow"); its extent is the same on every rank, so all skip. */
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
        spex_h5w_fail(w, "writing dataset %s", name);
    spex_h5_close_id(&mspace);
    spex_h5_close_id(&fspace);
}

void spex_h5w_scalar(spex_h5w *w, hid_t d, const char *name, hid_t mtype, const void *buf)
{
    hid_t fspace = H5Dget_space(d), mspace = H5Screate(H5S_SCALAR);
    herr_t rc = mtype >= 0 && fspace >= 0 && mspace >= 0 ? 0 : -1;
    if (rc >= 0 && w->rank != 0)
        rc = H5Sselect_none(fspace) < 0 || H5Sselect_none(mspace) < 0 ? -1 : 0;
    if (rc < 0 || H5Dwrite(d, mtype, mspace, fspace, w->dxpl, buf) < 0)
        spex_h5w_fail(w, "writing dataset %s", name);
    spex_h5_close_id(&mspace);
    spex_h5_close_id(&fspace);
}

hid_t spex_h5w_text_dataset(spex_h5w *w, hid_t fid, const char *name, const char *text)
{
    hid_t t = spex_h5_string_type(strlen(text) + 1, H5T_CSET_UTF8);
    hid_t d = spex_h5w_dataset(w, fid, name, t, 0, NULL);
    spex_h5_close_id(&t);
    return d;
}

void spex_h5w_text(spex_h5w *w, hid_t d, const char *name, const char *text)
{
    hid_t t = spex_h5_string_type(strlen(text) + 1, H5T_CSET_UTF8);
    spex_h5w_scalar(w, d, name, t, text);
    spex_h5_close_id(&t);
}

/* ---- reading ---------------------------------------------------------------- */

spex_status spex_h5r_corrupt(spex_h5r *rd, const char *fmt, ...)
{
    char what[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    H5Eclear2(H5E_DEFAULT);
    return spex_error_set(rd->err, SPEX_EINPUT, "%s: %s", rd->path, what);
}

spex_status spex_h5r_open(spex_h5r *rd, spex_status refused, hid_t *fid)
{
    spex_h5_detail d;
    *fid = -1;
    /* The system says best why a file cannot be read; HDF5 only that it
     * could not. */
    FILE *probe = fopen(rd->path, "rb");
    if (probe == NULL)
        return spex_error_set(rd->err, SPEX_EIO, "cannot open '%s': %s", rd->path,
                              strerror(errno));
    fclose(probe);
    if (H5Fis_hdf5(rd->path) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return spex_error_set(rd->err, SPEX_EINPUT, "'%s' is not a spex %s file (not HDF5)",
                              rd->path, rd->kind);
    }
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
#if H5_VERSION_GE(1, 10, 7)
    /* Cluster file systems often lack flock, and HDF5 would refuse to open
     * the file: lock where the file system supports it only. */
    if (fapl >= 0)
        H5Pset_file_locking(fapl, 1, 1);
#endif
    *fid = H5Fopen(rd->path, H5F_ACC_RDONLY, fapl >= 0 ? fapl : H5P_DEFAULT);
    /* Before any other call: a successful HDF5 call clears the stack. */
    if (*fid < 0 && refused == SPEX_EIO)
        spex_error_set(rd->err, SPEX_EIO, "cannot open '%s': %s", rd->path,
                       spex_h5_detail_get(&d));
    else if (*fid < 0)
        spex_error_set(rd->err, refused,
                       "'%s' cannot be opened as HDF5: truncated or damaged? (%s)", rd->path,
                       spex_h5_detail_get(&d));
    spex_h5_close_id(&fapl);
    return *fid < 0 ? rd->err->code : SPEX_OK;
}

spex_status spex_h5r_attr_num(spex_h5r *rd, hid_t obj, const char *where, const char *name,
                              H5T_class_t cls, hid_t mtype, void *out)
{
    spex_status st = SPEX_OK;
    hid_t a = -1, t = -1, space = -1;
    if (H5Aexists(obj, name) <= 0) {
        if (where != NULL)
            return spex_h5r_corrupt(rd, "attribute '%s' of %s is missing", name, where);
        return spex_h5r_corrupt(rd, "attribute '%s' is missing (not a complete spex %s)", name,
                                rd->kind);
    }
    a = H5Aopen(obj, name, H5P_DEFAULT);
    t = a >= 0 ? H5Aget_type(a) : -1;
    space = a >= 0 ? H5Aget_space(a) : -1;
    if (t < 0 || space < 0 || H5Tget_class(t) != cls || H5Sget_simple_extent_npoints(space) != 1 ||
        H5Aread(a, mtype, out) < 0) {
        const char *single = cls == H5T_INTEGER ? "integer" : "floating-point number";
        if (where != NULL)
            st = spex_h5r_corrupt(rd, "attribute '%s' of %s is not a single %s", name, where,
                                  single);
        else
            st = spex_h5r_corrupt(rd, "attribute '%s' is not a single %s", name, single);
    }
    spex_h5_close_id(&space);
    spex_h5_close_id(&t);
    spex_h5_close_id(&a);
    return st;
}

spex_status spex_h5r_attr_int(spex_h5r *rd, hid_t obj, const char *where, const char *name,
                              int *v)
{
    int32_t x = 0;
    spex_status st = spex_h5r_attr_num(rd, obj, where, name, H5T_INTEGER, H5T_NATIVE_INT32, &x);
    *v = x;
    return st;
}

/* Copies n strings of an HDF5 string buffer (fixed-length: size bytes
 * each, NUL-terminated by the memory type; or variable-length) to new
 * memory in out. */
static spex_status copy_strings(spex_h5r *rd, const char *buf, int vlen, size_t size, size_t n,
                                char **out)
{
    for (size_t i = 0; i < n; i++) {
        const char *s = vlen ? ((char *const *)(const void *)buf)[i] : buf + i * size;
        if (s == NULL)
            s = "";
        size_t len = strlen(s);
        out[i] = malloc(len + 1);
        if (out[i] == NULL)
            return spex_error_set(rd->err, SPEX_EINTERNAL, "out of memory reading '%s'",
                                  rd->path);
        memcpy(out[i], s, len + 1);
    }
    return SPEX_OK;
}

spex_status spex_h5r_strings(spex_h5r *rd, hid_t obj, int is_attr, const char *what, size_t n,
                             char **out)
{
    spex_status st = SPEX_OK;
    hid_t t = -1, space = -1, mtype = -1;
    char *buf = NULL;
    t = is_attr ? H5Aget_type(obj) : H5Dget_type(obj);
    space = is_attr ? H5Aget_space(obj) : H5Dget_space(obj);
    int ndims = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    hssize_t npoints = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    if (t < 0 || H5Tget_class(t) != H5T_STRING || ndims < 0 || ndims > 1 ||
        npoints != (hssize_t)n) {
        st = spex_h5r_corrupt(rd, "%s is not %zu string%s", what, n, n == 1 ? "" : "s");
        goto out;
    }
    int vlen = H5Tis_variable_str(t) > 0;
    size_t size = vlen ? sizeof(char *) : H5Tget_size(t) + 1;
    mtype = H5Tcopy(H5T_C_S1);
    buf = calloc(n > 0 ? n : 1, size);
    SPEX_ALLOC_CHECK(buf, rd->err, "strings of the result file");
    herr_t rc = mtype < 0 ? -1 : H5Tset_size(mtype, vlen ? H5T_VARIABLE : size);
    if (rc >= 0 && !vlen)
        rc = H5Tset_strpad(mtype, H5T_STR_NULLTERM);
    if (rc >= 0)
        rc = H5Tset_cset(mtype, H5Tget_cset(t));
    if (rc >= 0 && n > 0)
        rc = is_attr ? H5Aread(obj, mtype, buf)
                     : H5Dread(obj, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    if (rc < 0) {
        st = spex_h5r_corrupt(rd, "%s cannot be read", what);
        goto out;
    }
    st = copy_strings(rd, buf, vlen, size, n, out);
    if (vlen && n > 0)
        H5Dvlen_reclaim(mtype, space, H5P_DEFAULT, buf);
out:
    free(buf);
    spex_h5_close_id(&mtype);
    spex_h5_close_id(&space);
    spex_h5_close_id(&t);
    return st;
}

spex_status spex_h5r_attr_str(spex_h5r *rd, hid_t obj, const char *where, const char *name,
                              char **out)
{
    spex_status st = SPEX_OK;
    char what[128];
    *out = NULL;
    if (where != NULL)
        snprintf(what, sizeof what, "attribute '%s' of %s", name, where);
    else
        snprintf(what, sizeof what, "attribute '%s'", name);
    if (H5Aexists(obj, name) <= 0)
        return spex_h5r_corrupt(rd, "%s is missing", what);
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0)
        return spex_h5r_corrupt(rd, "%s cannot be opened", what);
    st = spex_h5r_strings(rd, a, 1, what, 1, out);
    spex_h5_close_id(&a);
    return st;
}

spex_status spex_h5r_peek_str(hid_t obj, const char *name, char *buf, size_t cap)
{
    spex_status st = SPEX_EINPUT;
    hid_t a = -1, t = -1, mt = -1, space = -1;
    buf[0] = '\0';
    if (H5Aexists(obj, name) <= 0)
        goto out;
    a = H5Aopen(obj, name, H5P_DEFAULT);
    t = a >= 0 ? H5Aget_type(a) : -1;
    space = a >= 0 ? H5Aget_space(a) : -1;
    if (t < 0 || space < 0 || H5Tget_class(t) != H5T_STRING || H5Tis_variable_str(t) > 0 ||
        H5Sget_simple_extent_npoints(space) != 1 || H5Tget_size(t) + 1 > cap)
        goto out;
    /* In the attribute's own character set: HDF5 converts neither ASCII to
     * UTF-8 nor back. */
    mt = spex_h5_string_type(H5Tget_size(t) + 1, H5Tget_cset(t));
    if (mt >= 0 && H5Aread(a, mt, buf) >= 0)
        st = SPEX_OK;
out:
    H5Eclear2(H5E_DEFAULT);
    spex_h5_close_id(&mt);
    spex_h5_close_id(&space);
    spex_h5_close_id(&t);
    spex_h5_close_id(&a);
    if (st != SPEX_OK)
        buf[0] = '\0';
    return st;
}
