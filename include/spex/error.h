/* error.h -- status codes and error messages shared by every module.
 *
 * A function that can fail returns spex_status (0 = ok) and fills a
 * spex_error with one line naming what is wrong and where.  The codes double
 * as the process exit codes (DESIGN.md section 8).  Before a collective
 * phase is left, ranks agree on failure with spex_error_agree(), so that the
 * message is printed once (by rank 0) and every rank exits with one code.
 */
#ifndef SPEX_ERROR_H
#define SPEX_ERROR_H

#include <mpi.h>

typedef enum spex_status {
    SPEX_OK = 0,
    SPEX_EUSAGE = 1,       /* command line or study file */
    SPEX_EINPUT = 2,       /* input data: spectrum, names, plan files */
    SPEX_EORACLE = 3,      /* the value function failed or misbehaved */
    SPEX_ENUMERIC = 4,     /* numerical failure */
    SPEX_EIO = 5,          /* reading or writing files */
    SPEX_EINTERNAL = 70,   /* a bug or resource exhaustion */
    SPEX_EINTERRUPTED = 75 /* stopped by a signal, checkpoint written */
} spex_status;

#define SPEX_ERROR_MSG_MAX 1024

typedef struct spex_error {
    spex_status code;
    char msg[SPEX_ERROR_MSG_MAX];
} spex_error;

/* Local.  Clears err. */
void spex_error_clear(spex_error *err);

/* Local.  Records code and a printf-style message in err (the first error
 * wins: a later call does not overwrite an earlier one) and returns code. */
spex_status spex_error_set(spex_error *err, spex_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Collective on comm.  Every rank passes its own err (possibly clear).
 * Afterwards every rank holds the error of the lowest failing rank (code and
 * message), or all are clear.  Returns the agreed code. */
spex_status spex_error_agree(MPI_Comm comm, spex_error *err);

/* Local.  Human name of a status code ("usage", "oracle", ...). */
const char *spex_status_name(spex_status code);

/* Evaluate expr (a spex_status); on failure jump to the function's `out`
 * label with `st` holding the status.  Functions using it declare
 * `spex_status st = SPEX_OK;` and end with `out:` cleanup. */
#define SPEX_CHECK(expr)                                                       \
    do {                                                                       \
        st = (expr);                                                           \
        if (st != SPEX_OK)                                                     \
            goto out;                                                          \
    } while (0)

/* Allocation helper: on NULL record an internal error naming what. */
#define SPEX_ALLOC_CHECK(ptr, err, what)                                       \
    do {                                                                       \
        if ((ptr) == NULL) {                                                   \
            st = spex_error_set((err), SPEX_EINTERNAL,                         \
                                "out of memory allocating %s", (what));        \
            goto out;                                                          \
        }                                                                      \
    } while (0)

#endif
