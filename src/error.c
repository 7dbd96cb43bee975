/* error.c -- recording errors and agreeing on them across ranks. */
#include "spex/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void spex_error_clear(spex_error *err)
{
    err->code = SPEX_OK;
    err->msg[0] = '\0';
}

spex_status spex_error_set(spex_error *err, spex_status code, const char *fmt, ...)
{
    if (err == NULL || err->code != SPEX_OK)
        return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->code = code;
    return code;
}

spex_status spex_error_agree(MPI_Comm comm, spex_error *err)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    /* The lowest failing rank speaks for everyone. */
    int mine = err->code != SPEX_OK ? rank : size;
    int first = size;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm);
    if (first == size)
        return SPEX_OK;
    int code = err->code;
    MPI_Bcast(&code, 1, MPI_INT, first, comm);
    MPI_Bcast(err->msg, SPEX_ERROR_MSG_MAX, MPI_CHAR, first, comm);
    err->code = (spex_status)code;
    return err->code;
}

const char *spex_status_name(spex_status code)
{
    switch (code) {
    case SPEX_OK: return "ok";
    case SPEX_EUSAGE: return "usage";
    case SPEX_EINPUT: return "input";
    case SPEX_EORACLE: return "oracle";
    case SPEX_ENUMERIC: return "numerical";
    case SPEX_EIO: return "i/o";
    case SPEX_EINTERNAL: return "internal";
    case SPEX_EINTERRUPTED: return "interrupted";
    }
    return "unknown";
}
