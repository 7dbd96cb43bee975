/* h5io.h -- the result file (HDF5, format "spex-result", version 1).
 *
 * Layout (DESIGN.md section 7, doc/file-formats.md): root attributes, the
 * effective study as the dataset /study/config, /fourier/{order,features,
 * coef} ranked, /features/name when names are known, /diagnostics.  Written
 * with parallel HDF5 to "<path>.tmp-<pid>" and renamed to path only when
 * complete, so a half-written file never carries the final name.
 */
#ifndef SPEX_H5IO_H
#define SPEX_H5IO_H

#include <mpi.h>

#include "spex/error.h"
#include "spex/result.h"

/* Collective on comm.  Every rank passes the same r (replicated); each rank
 * writes a contiguous slice of the row datasets.  Errors are agreed. */
spex_status spex_h5_write_result(MPI_Comm comm, const char *path, const spex_result *r,
                                 spex_error *err);

/* Local.  Reads a result file written by spex_h5_write_result into r (which
 * the caller frees with spex_result_free).  A file that is not a spex
 * result, or of another format_version, is an SPEX_EINPUT error. */
spex_status spex_h5_read_result(const char *path, spex_result *r, spex_error *err);

/* Local.  Reads the ranked spectrum /<group>/{order,features,coef} of a
 * result file ("/fourier", "/mobius", "/indices/sii", ...) into out (new
 * memory).  A missing group is SPEX_EINPUT naming it. */
spex_status spex_h5_read_spectrum(const char *path, const char *group, spex_spectrum *out,
                                  spex_error *err);

/* Local.  Reads the float64 vector dataset name (length n) into v. */
spex_status spex_h5_read_vector(const char *path, const char *name, int n, double *v,
                                spex_error *err);

#endif
