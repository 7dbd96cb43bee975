/* signal.h -- stopping cleanly on SIGTERM / SIGUSR1 (Slurm time limits).
 *
 * The handlers only record which signal arrived; long stages poll
 * spex_signal_pending() between batches and the ranks agree (eval.c) to
 * stop at the same point, write a checkpoint and exit with 75.  The flag
 * is the one piece of process-wide state besides MPI itself: a signal
 * handler can reach nothing else.
 */
#ifndef SPEX_SIGNAL_H
#define SPEX_SIGNAL_H

/* Local.  Installs the handlers for SIGTERM, SIGUSR1 and SIGINT. */
void spex_signal_install(void);

/* Local.  The signal number that arrived since installation, or 0. */
int spex_signal_pending(void);

/* Local.  "SIGTERM", "SIGUSR1", ... */
const char *spex_signal_name(int sig);

#endif
