/* signal.c -- recording SIGTERM / SIGUSR1 / SIGINT for a clean stop. */
#include "spex/signal.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t pending_signal = 0;

static void on_signal(int sig)
{
    if (pending_signal == 0)
        pending_signal = sig;
}

void spex_signal_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* Restart interrupted system calls: the stop happens at the next
     * batch boundary, not in the middle of I/O. */
    sa.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}

int spex_signal_pending(void) { return (int)pending_signal; }

const char *spex_signal_name(int sig)
{
    switch (sig) {
    case SIGTERM: return "SIGTERM";
    case SIGUSR1: return "SIGUSR1";
    case SIGINT: return "SIGINT";
    }
    return "a signal";
}
