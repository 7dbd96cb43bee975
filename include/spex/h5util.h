/* h5util.h -- HDF5 helpers shared by spex's file formats: the result file
 * (h5io.c), the plan file (plan.c) and checkpoints (ckpt.c).
 *
 * Internal to libspex: spex.h does not include this header, and the
 * functions may change with the formats they serve.  Three groups:
 *
 *   - plumbing: silencing HDF5's own error printing, the innermost message
 *     of its error stack for the "(...)" part of spex's one-line errors,
 *     fixed-length string types, closing any identifier, block ranges;
 *   - a collective writer (spex_h5w): a file written with parallel HDF5
 *     under a temporary name, every failure recorded once as "cannot write
 *     '<tmp>': <what> failed (<HDF5 detail>)", and published by fsync and
 *     rename only when every rank finished without error;
 *   - serial readers (spex_h5r): opening a file read-only and reading
 *     scalar numeric and string attributes, a damaged file being an
 *     SPEX_EINPUT error "<path>: <what>".
 *
 * Parallel HDF5 requires every rank to make the same metadata calls (groups,
 * datasets, attributes) with the same values: the writer's functions that
 * create metadata are collective although they take no communicator.
 */
#ifndef SPEX_H5UTIL_H
#define SPEX_H5UTIL_H

#include <hdf5.h>
#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "spex/error.h"

/* ---- plumbing --------------------------------------------------------------- */

/* HDF5's automatic error printing, saved while it is off. */
typedef struct spex_h5_quiet {
    H5E_auto2_t func;
    void *data;
} spex_h5_quiet;

/* Local.  Turns HDF5's printing of its error stack off (spex reports one
 * line of its own instead) and saves the previous setting in q. */
void spex_h5_quiet_begin(spex_h5_quiet *q);

/* Local.  Restores the setting saved by spex_h5_quiet_begin. */
void spex_h5_quiet_end(const spex_h5_quiet *q);

/* Room for the detail of an HDF5 failure. */
typedef struct spex_h5_detail {
    char text[256];
} spex_h5_detail;

/* Local.  The innermost message on HDF5's error stack ("HDF5 error" when
 * there is none), kept in d; clears the stack.  Call it right after the
 * failing call: any later successful HDF5 call clears the stack. */
const char *spex_h5_detail_get(spex_h5_detail *d);

/* Local.  A new fixed-length, NUL-terminated string type of size bytes
 * (NUL included) in cset, or a negative id.  The caller closes it. */
hid_t spex_h5_string_type(size_t size, H5T_cset_t cset);

/* Local.  Closes *id whatever it identifies (file, group, dataset, datatype,
 * dataspace, attribute, property list) and sets it to -1; does nothing
 * for a negative id. */
void spex_h5_close_id(hid_t *id);

/* Local.  Rank's block [*lo, *hi) of total rows split over size ranks:
 * rows [total rank / size, total (rank + 1) / size). */
void spex_h5_block_range(uint64_t total, int rank, int size, uint64_t *lo, uint64_t *hi);

/* ---- writing: one file written collectively --------------------------------- */

/* A write goes: spex_h5w_init; spex_h5w_create; groups, datasets and
 * attributes; spex_error_agree; the collective transfers (spex_h5w_rows,
 * spex_h5w_scalar); then, on every path, spex_h5w_close and
 * spex_h5w_publish.  The functions between create and close record a
 * failure in w->err and return: they do not agree, so that the caller
 * decides where the ranks meet. */
typedef struct spex_h5w {
    MPI_Comm comm;
    int rank, size;
    const char *tmp;  /* the file being written, for messages */
    spex_error *err;  /* failures are recorded here (the first one wins) */
    hid_t fapl, dxpl; /* parallel access; collective transfers */
    hid_t fid;        /* the file, once created */
    int attempted;    /* H5Fcreate was called: tmp may exist */
} spex_h5w;

/* Local.  Prepares w for writing tmp on comm; opens nothing. */
void spex_h5w_init(spex_h5w *w, MPI_Comm comm, const char *tmp, spex_error *err);

/* Collective on w->comm.  Sets up parallel access and creates (truncates)
 * w->tmp as w->fid.  A failed create is explained by the system where it
 * can (missing directory, permissions): "cannot create '<tmp>': <why>".
 * Errors are agreed; returns the agreed code. */
spex_status spex_h5w_create(spex_h5w *w);

/* Collective on w->comm.  Closes the file ("closing the file" failed is
 * recorded) and the property lists.  Errors are not agreed. */
void spex_h5w_close(spex_h5w *w);

/* Collective on w->comm.  After spex_h5w_close: when every rank finished
 * without error, rank 0 flushes w->tmp to disk and renames it to path
 * (spex_h5_publish); when any failed, rank 0 removes w->tmp if it may
 * exist, so that only a complete file carries the final name.  Errors are
 * agreed; returns the agreed code. */
spex_status spex_h5w_publish(spex_h5w *w, const char *path);

/* Local.  fsync of tmp, then rename(tmp, path): "cannot write '<tmp>':
 * <strerror>" or "cannot rename '<tmp>' to '<path>': <strerror>" as
 * SPEX_EIO. */
spex_status spex_h5_publish(const char *tmp, const char *path, spex_error *err);

/* Local.  Records "cannot write '<tmp>': <what> failed (<HDF5 detail>)" as
 * SPEX_EIO, what formatted from fmt. */
void spex_h5w_fail(spex_h5w *w, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Collective on w->comm.  Attribute name of obj, a scalar of file type
 * ftype, written from value (memory type mtype).  where names obj in the
 * message ("writing attribute 'x' of /diagnostics"); NULL leaves it out. */
void spex_h5w_attr(spex_h5w *w, hid_t obj, const char *where, const char *name, hid_t ftype,
                   hid_t mtype, const void *value);

/* Collective on w->comm.  As spex_h5w_attr, a 1-D attribute of n elements. */
void spex_h5w_attr_1d(spex_h5w *w, hid_t obj, const char *where, const char *name, hid_t ftype,
                      hid_t mtype, hsize_t n, const void *value);

/* Collective on w->comm.  Scalar attributes: int32, uint64, float64
 * (little-endian in the file). */
void spex_h5w_attr_i32(spex_h5w *w, hid_t obj, const char *where, const char *name, int32_t v);
void spex_h5w_attr_u64(spex_h5w *w, hid_t obj, const char *where, const char *name, uint64_t v);
void spex_h5w_attr_f64(spex_h5w *w, hid_t obj, const char *where, const char *name, double v);

/* Collective on w->comm.  A UTF-8 string attribute from s, which holds at
 * most cap bytes (a char array, maybe unterminated): the string up to its
 * NUL or cap bytes, stored as a fixed-length string just long enough. */
void spex_h5w_attr_str(spex_h5w *w, hid_t obj, const char *where, const char *name, const char *s,
                       size_t cap);

/* Collective on w->comm.  Creates group name (absolute path); -1 on
 * failure (recorded). */
hid_t spex_h5w_group(spex_h5w *w, hid_t fid, const char *name);

/* Collective on w->comm.  Creates dataset name of ndims dimensions (0: a
 * scalar).  Storage is contiguous and never pre-filled: every element is
 * written afterwards.  -1 on failure (recorded). */
hid_t spex_h5w_dataset(spex_h5w *w, hid_t fid, const char *name, hid_t ftype, int ndims,
                       const hsize_t *dims);

/* Collective on w->comm.  Writes rows [lo, hi) of dataset d (width
 * elements of mtype per row; width 0 for a 1-D dataset) from buf, which
 * holds just those rows, in one collective transfer.  A rank without rows
 * selects nothing but still joins; an empty dataset is skipped by all. */
void spex_h5w_rows(spex_h5w *w, hid_t d, const char *name, hid_t mtype, hsize_t width, hsize_t lo,
                   hsize_t hi, const void *buf);

/* Collective on w->comm.  Writes scalar dataset d from buf (memory type
 * mtype); rank 0's value is the one written. */
void spex_h5w_scalar(spex_h5w *w, hid_t d, const char *name, hid_t mtype, const void *buf);

/* Collective on w->comm.  Creates the scalar UTF-8 string dataset name,
 * just long enough for text (text may exceed HDF5's 64 KiB attribute
 * limit); -1 on failure (recorded).  spex_h5w_text writes it. */
hid_t spex_h5w_text_dataset(spex_h5w *w, hid_t fid, const char *name, const char *text);

/* Collective on w->comm.  Writes text into d, made by spex_h5w_text_dataset
 * with the same text. */
void spex_h5w_text(spex_h5w *w, hid_t d, const char *name, const char *text);

/* ---- reading: one file read serially ---------------------------------------- */

typedef struct spex_h5r {
    const char *path; /* the file read, for messages */
    spex_error *err;  /* failures are recorded here (the first one wins) */
    const char *kind; /* "result", "plan": what the file should be, for messages */
} spex_h5r;

/* Local.  Opens rd->path read-only with the default (serial) driver, file
 * locking only where the file system supports it.  Errors, recorded:
 * SPEX_EIO "cannot open '<path>': <system reason>" when the system cannot
 * open the file; SPEX_EINPUT "'<path>' is not a spex <kind> file (not
 * HDF5)"; when HDF5 refuses the file, refused chooses the report:
 * SPEX_EIO "cannot open '<path>': <HDF5 detail>", SPEX_EINPUT "'<path>'
 * cannot be opened as HDF5: truncated or damaged? (<HDF5 detail>)".  *fid
 * is the file (the caller closes it) or -1. */
spex_status spex_h5r_open(spex_h5r *rd, spex_status refused, hid_t *fid);

/* Local.  Records "<path>: <what>" as SPEX_EINPUT (what formatted from
 * fmt), clears HDF5's error stack and returns SPEX_EINPUT. */
spex_status spex_h5r_corrupt(spex_h5r *rd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Local.  Reads attribute name of obj, a single number of class cls
 * (H5T_INTEGER or H5T_FLOAT), converted to mtype, into out.  where names
 * obj in messages ("attribute 'x' of / is missing"); NULL leaves it out
 * ("attribute 'x' is missing (not a complete spex <kind>)"). */
spex_status spex_h5r_attr_num(spex_h5r *rd, hid_t obj, const char *where, const char *name,
                              H5T_class_t cls, hid_t mtype, void *out);

/* Local.  spex_h5r_attr_num of a 32-bit integer into *v. */
spex_status spex_h5r_attr_int(spex_h5r *rd, hid_t obj, const char *where, const char *name,
                              int *v);

/* Local.  Reads the strings of an attribute (is_attr) or dataset obj,
 * fixed- or variable-length, scalar or 1-D with n elements, into
 * out[0..n-1] (new memory; the caller frees each).  what names obj in
 * messages ("dataset /features/name is not 6 strings"). */
spex_status spex_h5r_strings(spex_h5r *rd, hid_t obj, int is_attr, const char *what, size_t n,
                             char **out);

/* Local.  Reads string attribute name of obj (fixed- or variable-length)
 * into new memory *out (the caller frees it); missing is an error.  where
 * names obj in messages as for spex_h5r_attr_num. */
spex_status spex_h5r_attr_str(spex_h5r *rd, hid_t obj, const char *where, const char *name,
                              char **out);

/* Local.  A probe that records nothing: reads attribute name of obj, a
 * single fixed-length string (ASCII or UTF-8) of at most cap - 1 bytes,
 * into buf.  Anything else (absent, another type or shape, too long) leaves
 * buf "" and returns SPEX_EINPUT. */
spex_status spex_h5r_peek_str(hid_t obj, const char *name, char *buf, size_t cap);

#endif
