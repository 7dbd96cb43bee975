/* log.h -- messages from rank 0, wall-clock timers and progress lines.
 *
 * Only rank 0 prints (STYLE.md).  A spex_log carries the communicator's rank
 * and a verbosity level; it is plain data passed to whoever reports.
 * Progress is printed as whole lines (batch logs, not terminals).
 */
#ifndef SPEX_LOG_H
#define SPEX_LOG_H

#include <mpi.h>
#include <stdio.h>

typedef struct spex_log {
    int rank;      /* rank in the communicator the run uses */
    int verbosity; /* 0 quiet, 1 normal, 2 verbose */
    FILE *out;     /* normally stdout */
} spex_log;

/* Local.  A log for this rank of comm. */
void spex_log_init(spex_log *log, MPI_Comm comm, int verbosity);

/* Local.  printf on rank 0 when level <= verbosity. */
void spex_log_printf(const spex_log *log, int level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Local.  Seconds since an arbitrary fixed point (MPI_Wtime). */
double spex_now(void);

/* Progress of a long stage: rank 0 prints "what: done/total (rate/s, ETA)"
 * at most every interval seconds. */
typedef struct spex_progress {
    const spex_log *log;
    const char *what;
    double total;
    double start, last, interval;
} spex_progress;

/* Local. */
void spex_progress_start(spex_progress *p, const spex_log *log, const char *what, double total);
/* Local.  done counts the whole job (rank 0 scales its own share). */
void spex_progress_update(spex_progress *p, double done);

#endif
