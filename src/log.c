/* log.c -- rank-0 messages, timers and progress lines. */
#include "spex/log.h"

#include <stdarg.h>

void spex_log_init(spex_log *log, MPI_Comm comm, int verbosity)
{
    MPI_Comm_rank(comm, &log->rank);
    log->verbosity = verbosity;
    log->out = stdout;
}

void spex_log_printf(const spex_log *log, int level, const char *fmt, ...)
{
    if (log == NULL || log->rank != 0 || level > log->verbosity)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(log->out, fmt, ap);
    va_end(ap);
    fflush(log->out);
}

double spex_now(void) { return MPI_Wtime(); }

void spex_progress_start(spex_progress *p, const spex_log *log, const char *what, double total)
{
    p->log = log;
    p->what = what;
    p->total = total;
    p->start = p->last = spex_now();
    p->interval = 10.0;
}

void spex_progress_update(spex_progress *p, double done)
{
    double t = spex_now();
    if (t - p->last < p->interval || done >= p->total)
        return;
    p->last = t;
    double rate = done / (t - p->start);
    double eta = rate > 0 ? (p->total - done) / rate : 0;
    spex_log_printf(p->log, 1, "  %s: %.0f/%.0f (%.1f%%, %.0f/s, ETA %.0f s)\n", p->what, done,
                    p->total, 100.0 * done / p->total, rate, eta);
}
