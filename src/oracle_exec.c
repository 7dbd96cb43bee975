/* oracle_exec.c -- the exec backend: one worker process per rank, fed over
 * pipes (protocol v1, DESIGN.md section 5; the user's view is
 * doc/oracles.md).
 *
 * At create every rank starts `/bin/sh -c oracle.command` with its stdin and
 * stdout on two pipes (stderr is the rank's own, so the worker's messages
 * reach the job log) and the environment SPEX_RANK, SPEX_SIZE,
 * SPEX_LOCAL_RANK, SPEX_LOCAL_SIZE and SPEX_N added, and queues the header
 * `spex 1 n=<n> format=<text|bits>\n`.  Each batch is `batch <count>\n`
 * followed by count masks (text: n '0'/'1' characters and '\n'; bits:
 * (n+7)/8 bytes, feature i in byte i/8 bit i%8); the worker answers count
 * lines, one decimal value each.  Calls larger than oracle.batch are split.
 * At destroy stdin is closed (EOF: the worker exits) and the worker gets
 * EXEC_GRACE_SECONDS to do so before SIGKILL.
 *
 * One poll() loop per batch writes masks and reads answers at the same
 * time, with non-blocking ends, under a deadline of oracle.timeout: a
 * worker that answers while spex is still writing never deadlocks against
 * the pipe buffers, and nothing blocks forever.  Masks are encoded a chunk
 * at a time into one buffer allocated at create, so memory does not grow
 * with the batch.
 *
 * Every way a worker can misbehave -- exits or crashes, the shell cannot
 * find the command (status 127), hangs past the timeout, prints too few,
 * too many, malformed or non-finite values -- is an SPEX_EORACLE error
 * naming the rank, the command and how far the worker got.  The failing
 * worker is killed at once (its process group, which also takes any
 * children of the shell); the error goes back through eval, and eval.c
 * agrees it across ranks, so other ranks finish their share and every rank
 * exits with the same code.
 *
 * SIGPIPE: writing to a worker that has exited raises SIGPIPE, whose
 * default action would kill spex with no message.  Rather than ignore it
 * for the whole process (state that belongs to the application), a batch
 * blocks SIGPIPE in the calling thread only -- SIGPIPE from write() is
 * directed at the writing thread -- takes EPIPE from write() instead,
 * consumes the signal it caused, and restores the thread's mask.  The
 * worker itself starts with default signal dispositions and an empty mask.
 *
 * Workers are started with posix_spawn rather than fork: glibc implements
 * it with vfork semantics, so the (possibly large, MPI-registered) memory
 * of the rank is never copied, which is what Open MPI's fork warnings are
 * about.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spex/mask.h"
#include "spex/oracle.h"

extern char **environ;

#define EXEC_CHUNK (64 * 1024)    /* mask bytes encoded ahead of the pipe */
#define EXEC_LINE_MAX 4096        /* longest answer line accepted, '\n' included */
#define EXEC_INBUF (64 * 1024)    /* answer buffer; > EXEC_LINE_MAX */
#define EXEC_GRACE_SECONDS 10.0   /* destroy: time to exit after EOF on stdin */
#define EXEC_REAP_SECONDS 2.0     /* output ended: time to collect the exit status */
#define EXEC_SHOWN_MAX 240        /* command characters quoted in messages */

typedef struct exec_state {
    pid_t pid;          /* worker, leader of its own process group; -1 once reaped */
    int to_fd;          /* our end of the worker's stdin; -1 when closed */
    int from_fd;        /* our end of the worker's stdout; -1 when closed */
    int rank;
    int n;
    spex_mask_format format;
    size_t mask_len;    /* bytes per mask on the wire */
    size_t max_batch;   /* masks per protocol batch */
    double timeout;     /* seconds per batch */
    char shown[EXEC_SHOWN_MAX + 8]; /* the command as quoted in messages */
    char *out;          /* encoded bytes waiting for the pipe: out[out_pos..out_len) */
    size_t out_cap, out_pos, out_len;
    char *in;           /* answer bytes not yet parsed: in[0..in_len) */
    size_t in_len;
    unsigned long long answered; /* values received in all finished batches */
    unsigned long long batches;  /* protocol batches started */
    int failed;         /* an earlier error: the worker is gone or killed */
} exec_state;

/* ---- small helpers --------------------------------------------------------- */

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void sleep_seconds(double s)
{
    struct timespec t = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&t, NULL);
}

/* Copies text into dst (len bytes) for quoting in a one-line message:
 * control characters become '?', and long text is cut with "...". */
static void quote_text(char *dst, size_t len, const char *text, size_t tlen)
{
    size_t at = 0, keep = len - 4;
    for (size_t i = 0; i < tlen && at < keep; i++) {
        unsigned char c = (unsigned char)text[i];
        dst[at++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    if (at < tlen) {
        memcpy(dst + at, "...", 3);
        at += 3;
    }
    dst[at] = '\0';
}

/* "after 4096 values (0 of 4096 in batch 2)": how far the worker got. */
static void progress_text(const exec_state *s, size_t got, size_t count, char *buf, size_t len)
{
    snprintf(buf, len, "after %llu values (%zu of %zu in batch %llu)", s->answered + got, got,
             count, s->batches);
}

/* A pipe whose ends are close-on-exec (a second worker must not inherit
 * the first one's pipes, or the first never sees EOF) and not among fds
 * 0..2, so that the child's dup2 onto 0 and 1 cannot clobber them. */
static int pipe_cloexec(int fds[2])
{
    if (pipe(fds) != 0) {
        fds[0] = fds[1] = -1;
        return -1;
    }
    for (int k = 0; k < 2; k++) {
        int fd = fcntl(fds[k], F_DUPFD_CLOEXEC, 3);
        if (fd < 0) {
            int e = errno;
            close(fds[0]);
            close(fds[1]);
            fds[0] = fds[1] = -1;
            errno = e;
            return -1;
        }
        close(fds[k]);
        fds[k] = fd;
    }
    return 0;
}

/* ---- SIGPIPE, kept to this thread --------------------------------------------- */

typedef struct sigpipe_guard {
    sigset_t old_mask;
    int was_pending; /* SIGPIPE pending before: not ours to consume */
} sigpipe_guard;

static void sigpipe_block(sigpipe_guard *g)
{
    sigset_t pipe_set, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &g->old_mask);
    g->was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
}

static void sigpipe_restore(sigpipe_guard *g)
{
    sigset_t pipe_set, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    if (!g->was_pending && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
        /* Raised by our own write to a dead worker: consume it, so that
         * unblocking does not deliver it. */
        struct timespec zero = {0, 0};
        while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
            ;
    }
    pthread_sigmask(SIG_SETMASK, &g->old_mask, NULL);
}

/* ---- the worker process ----------------------------------------------------- */

/* Kills the worker's process group (the shell and anything it started) and
 * reaps it.  After SIGKILL waitpid returns promptly. */
static void exec_kill(exec_state *s)
{
    if (s->pid > 0) {
        kill(-s->pid, SIGKILL);
        kill(s->pid, SIGKILL);
        while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
            ;
        s->pid = -1;
    }
}

static void exec_close_fds(exec_state *s)
{
    if (s->to_fd >= 0)
        close(s->to_fd);
    if (s->from_fd >= 0)
        close(s->from_fd);
    s->to_fd = s->from_fd = -1;
}

/* Waits up to limit seconds for the worker to exit.  Returns 1 with its wait
 * status, 0 while it is still running, -1 when it cannot be waited for
 * (errno: ECHILD when someone else reaped it). */
static int exec_reap(exec_state *s, double limit, int *status)
{
    double until = now_seconds() + limit;
    for (;;) {
        pid_t r = waitpid(s->pid, status, WNOHANG);
        if (r == s->pid) {
            s->pid = -1;
            return 1;
        }
        if (r < 0 && errno != EINTR) {
            s->pid = -1;
            return -1;
        }
        if (now_seconds() >= until)
            return 0;
        sleep_seconds(0.005);
    }
}

/* Builds the worker's environment: ours without any inherited SPEX_RANK
 * etc., plus the run's values.  Returns new memory (the array and its
 * strings in one block) or NULL. */
static char **exec_environment(int rank, int size, int local_rank, int local_size, int n)
{
    static const char *const names[] = {"SPEX_RANK=", "SPEX_SIZE=", "SPEX_LOCAL_RANK=",
                                        "SPEX_LOCAL_SIZE=", "SPEX_N="};
    const int values[] = {rank, size, local_rank, local_size, n};
    enum { NVARS = 5, VAR_LEN = 32 };
    size_t count = 0;
    while (environ != NULL && environ[count] != NULL)
        count++;
    char **env = malloc((count + NVARS + 1) * sizeof *env + NVARS * VAR_LEN);
    if (env == NULL)
        return NULL;
    char *text = (char *)(env + count + NVARS + 1);
    size_t at = 0;
    for (size_t i = 0; i < count; i++) {
        int ours = 0;
        for (int v = 0; v < NVARS; v++)
            ours |= strncmp(environ[i], names[v], strlen(names[v])) == 0;
        if (!ours)
            env[at++] = environ[i];
    }
    for (int v = 0; v < NVARS; v++) {
        char *var = text + (size_t)v * VAR_LEN;
        snprintf(var, VAR_LEN, "%s%d", names[v], values[v]);
        env[at++] = var;
    }
    env[at] = NULL;
    return env;
}

/* Starts /bin/sh -c command with stdin and stdout on pipes, in its own
 * process group, with default signal handling. */
static spex_status exec_spawn(exec_state *s, const char *command, char **env, spex_error *err)
{
    spex_status st = SPEX_OK;
    int to_child[2] = {-1, -1}, from_child[2] = {-1, -1};
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    int have_fa = 0, have_attr = 0, rc;
    char sh[] = "sh", dash_c[] = "-c";
    char *cmd = strdup(command);
    char *argv[] = {sh, dash_c, cmd, NULL};
    const char *what = "pipe";

    SPEX_ALLOC_CHECK(cmd, err, "the worker command");
    if (pipe_cloexec(to_child) != 0 || pipe_cloexec(from_child) != 0) {
        rc = errno;
        goto fail;
    }
    what = "posix_spawn";
    if ((rc = posix_spawn_file_actions_init(&fa)) != 0)
        goto fail;
    have_fa = 1;
    if ((rc = posix_spawnattr_init(&attr)) != 0)
        goto fail;
    have_attr = 1;
    /* Dispositions that spex or MPI set to "ignore" would survive exec;
     * the worker starts clean. */
    sigset_t defaults, none;
    sigemptyset(&defaults);
    sigemptyset(&none);
    const int sigs[] = {SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGCHLD};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaddset(&defaults, sigs[i]);
    if ((rc = posix_spawn_file_actions_adddup2(&fa, to_child[0], 0)) != 0 ||
        (rc = posix_spawn_file_actions_adddup2(&fa, from_child[1], 1)) != 0 ||
        (rc = posix_spawnattr_setsigdefault(&attr, &defaults)) != 0 ||
        (rc = posix_spawnattr_setsigmask(&attr, &none)) != 0 ||
        (rc = posix_spawnattr_setpgroup(&attr, 0)) != 0 ||
        (rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK |
                                                  POSIX_SPAWN_SETPGROUP)) != 0)
        goto fail;
    pid_t pid;
    if ((rc = posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, env)) != 0)
        goto fail;
    s->pid = pid;
    /* Only the worker keeps its ends; ours never block. */
    close(to_child[0]);
    close(from_child[1]);
    to_child[0] = from_child[1] = -1;
    s->to_fd = to_child[1];
    s->from_fd = from_child[0];
    fcntl(s->to_fd, F_SETFL, fcntl(s->to_fd, F_GETFL) | O_NONBLOCK);
    fcntl(s->from_fd, F_SETFL, fcntl(s->from_fd, F_GETFL) | O_NONBLOCK);
    goto out;
fail:
    st = spex_error_set(err, SPEX_EORACLE, "cannot start the exec worker on rank %d ('%s'): %s: %s",
                        s->rank, s->shown, what, strerror(rc));
    for (int k = 0; k < 2; k++) {
        if (to_child[k] >= 0)
            close(to_child[k]);
        if (from_child[k] >= 0)
            close(from_child[k]);
    }
out:
    if (have_fa)
        posix_spawn_file_actions_destroy(&fa);
    if (have_attr)
        posix_spawnattr_destroy(&attr);
    free(cmd);
    return st;
}

/* The worker's output ended (or it closed its input): find out why and
 * say so, with its exit status when it has one. */
static spex_status exec_gone(exec_state *s, size_t got, size_t count, spex_error *err)
{
    char prog[128];
    int status = 0;
    progress_text(s, got, count, prog, sizeof prog);
    int r = exec_reap(s, EXEC_REAP_SECONDS, &status);
    s->failed = 1;
    if (r == 0) {
        exec_kill(s);
        return spex_error_set(err, SPEX_EORACLE,
                              "exec worker on rank %d ('%s') closed its output but kept running, "
                              "%s; killed it",
                              s->rank, s->shown, prog);
    }
    if (r < 0)
        return spex_error_set(err, SPEX_EORACLE,
                              "exec worker on rank %d ('%s') ended its output %s (its exit status "
                              "is unavailable: %s)",
                              s->rank, s->shown, prog, strerror(errno));
    if (WIFSIGNALED(status))
        return spex_error_set(err, SPEX_EORACLE,
                              "exec worker on rank %d ('%s') was killed by signal %d (%s) %s",
                              s->rank, s->shown, WTERMSIG(status), strsignal(WTERMSIG(status)),
                              prog);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    const char *why = code == 127   ? " (the shell could not find the command)"
                      : code == 126 ? " (the shell could not execute the command)"
                                    : "";
    return spex_error_set(err, SPEX_EORACLE,
                          "exec worker on rank %d ('%s') exited with status %d%s %s", s->rank,
                          s->shown, code, why, prog);
}

/* Any error: stop the worker now, so that it neither burns its node while
 * the other ranks finish nor holds up the exit. */
static spex_status exec_fail(exec_state *s, spex_status st)
{
    s->failed = 1;
    exec_kill(s);
    exec_close_fds(s);
    return st;
}

/* ---- one batch ----------------------------------------------------------------- */

/* Moves the bytes still waiting for the pipe to the front of the buffer. */
static void exec_compact(exec_state *s)
{
    if (s->out_pos > 0) {
        memmove(s->out, s->out + s->out_pos, s->out_len - s->out_pos);
        s->out_len -= s->out_pos;
        s->out_pos = 0;
    }
}

/* Appends whole masks masks[*next ..] to the output buffer while they fit. */
static void exec_encode(exec_state *s, const uint64_t *masks, size_t count, size_t *next)
{
    size_t words = spex_mask_words(s->n);
    exec_compact(s);
    while (*next < count && s->out_len + s->mask_len <= s->out_cap) {
        const uint64_t *m = masks + *next * words;
        char *dst = s->out + s->out_len;
        if (s->format == SPEX_FORMAT_BITS) {
            spex_mask_to_bytes(m, s->n, (uint8_t *)dst);
        } else {
            /* Word by word: the inner loop has no index arithmetic to
             * hoist, and masks of 10^4 features are 10^4 characters. */
            for (size_t w = 0; w < words; w++) {
                uint64_t x = m[w];
                int bits = s->n - 64 * (int)w < 64 ? s->n - 64 * (int)w : 64;
                char *d = dst + 64 * w;
                for (int b = 0; b < bits; b++)
                    d[b] = (char)('0' + ((x >> b) & 1));
            }
            dst[s->n] = '\n';
        }
        s->out_len += s->mask_len;
        (*next)++;
    }
}

/* Parses the complete lines in the input buffer into values[*got ..]. */
static spex_status exec_parse(exec_state *s, double *values, size_t count, size_t *got,
                              spex_error *err)
{
    size_t start = 0;
    char *nl;
    while ((nl = memchr(s->in + start, '\n', s->in_len - start)) != NULL) {
        char *line = s->in + start;
        size_t len = (size_t)(nl - line);
        char shown[48];
        start += len + 1;
        if (len >= EXEC_LINE_MAX)
            return spex_error_set(err, SPEX_EORACLE,
                                  "exec worker on rank %d ('%s') printed a line over %d bytes as "
                                  "value %zu of batch %llu",
                                  s->rank, s->shown, EXEC_LINE_MAX - 1, *got + 1, s->batches);
        if (*got == count) {
            quote_text(shown, sizeof shown, line, len);
            return spex_error_set(err, SPEX_EORACLE,
                                  "exec worker on rank %d ('%s') printed more values than asked: "
                                  "'%s' after all %zu values of batch %llu",
                                  s->rank, s->shown, shown, count, s->batches);
        }
        *nl = '\0';
        char *end;
        errno = 0;
        double v = strtod(line, &end);
        while (end > line && end < nl && (*end == ' ' || *end == '\t' || *end == '\r'))
            end++;
        if (end == line || end != nl) {
            quote_text(shown, sizeof shown, line, len);
            return spex_error_set(err, SPEX_EORACLE,
                                  "exec worker on rank %d ('%s') printed '%s' as value %zu of "
                                  "batch %llu (not a number)",
                                  s->rank, s->shown, shown, *got + 1, s->batches);
        }
        if (!isfinite(v)) {
            quote_text(shown, sizeof shown, line, len);
            return spex_error_set(err, SPEX_EORACLE,
                                  "exec worker on rank %d ('%s') printed a non-finite value '%s' "
                                  "as value %zu of batch %llu",
                                  s->rank, s->shown, shown, *got + 1, s->batches);
        }
        values[(*got)++] = v;
    }
    memmove(s->in, s->in + start, s->in_len - start);
    s->in_len -= start;
    if (s->in_len >= EXEC_LINE_MAX)
        return spex_error_set(err, SPEX_EORACLE,
                              "exec worker on rank %d ('%s') printed a line over %d bytes as "
                              "value %zu of batch %llu",
                              s->rank, s->shown, EXEC_LINE_MAX - 1, *got + 1, s->batches);
    return SPEX_OK;
}

/* Reads what the worker has printed (without blocking) and parses it.
 * Sets *eof when its output has ended. */
static spex_status exec_read(exec_state *s, double *values, size_t count, size_t *got, int *eof,
                             spex_error *err)
{
    spex_status st = SPEX_OK;
    *eof = 0;
    for (;;) {
        ssize_t r = read(s->from_fd, s->in + s->in_len, EXEC_INBUF - s->in_len);
        if (r > 0) {
            s->in_len += (size_t)r;
            SPEX_CHECK(exec_parse(s, values, count, got, err));
            continue;
        }
        if (r == 0) {
            *eof = 1;
            break;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            break;
        st = spex_error_set(err, SPEX_EORACLE,
                            "exec worker on rank %d ('%s'): reading its output: %s", s->rank,
                            s->shown, strerror(errno));
        break;
    }
out:
    return st;
}

/* Before a batch: anything the worker printed since the last one is a
 * value nobody asked for, and EOF means it exited in between. */
static spex_status exec_check_idle(exec_state *s, size_t count, spex_error *err)
{
    ssize_t r;
    while ((r = read(s->from_fd, s->in, EXEC_INBUF)) < 0 && errno == EINTR)
        ;
    if (r > 0) {
        char shown[48];
        quote_text(shown, sizeof shown, s->in, (size_t)r);
        return spex_error_set(err, SPEX_EORACLE,
                              "exec worker on rank %d ('%s') printed more values than asked: "
                              "'%s' after all values of batch %llu",
                              s->rank, s->shown, shown, s->batches - 1);
    }
    if (r == 0)
        return exec_gone(s, 0, count, err);
    return SPEX_OK;
}

/* One protocol batch: count <= max_batch masks out, count values in. */
static spex_status exec_batch(exec_state *s, size_t count, const uint64_t *masks, double *values,
                              spex_error *err)
{
    spex_status st = SPEX_OK;
    char prog[128];
    size_t next = 0, got = 0;
    int input_closed = 0;
    sigpipe_guard guard;
    sigpipe_block(&guard);
    s->batches++;
    SPEX_CHECK(exec_check_idle(s, count, err));
    exec_compact(s);
    s->out_len += (size_t)snprintf(s->out + s->out_len, s->out_cap - s->out_len, "batch %zu\n",
                                   count);
    double deadline = now_seconds() + s->timeout;
    while (got < count) {
        if (s->out_pos == s->out_len && next < count)
            exec_encode(s, masks, count, &next);
        int writing = !input_closed && s->out_pos < s->out_len;
        struct pollfd fds[2] = {{s->from_fd, POLLIN, 0}, {s->to_fd, POLLOUT, 0}};
        double left = deadline - now_seconds();
        if (left <= 0) {
            progress_text(s, got, count, prog, sizeof prog);
            st = spex_error_set(err, SPEX_EORACLE,
                                "exec worker on rank %d ('%s') took longer than oracle.timeout "
                                "= %g s on a batch%s; killed it %s",
                                s->rank, s->shown, s->timeout,
                                input_closed ? " (it had closed its input)" : "", prog);
            goto out;
        }
        double ms = ceil(left * 1000.0);
        int rc = poll(fds, writing ? 2 : 1, ms > 1e9 ? 1000000000 : (int)ms);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            st = spex_error_set(err, SPEX_EORACLE, "exec worker on rank %d ('%s'): poll: %s",
                                s->rank, s->shown, strerror(errno));
            goto out;
        }
        if (writing && fds[1].revents != 0) {
            ssize_t w = write(s->to_fd, s->out + s->out_pos, s->out_len - s->out_pos);
            if (w > 0) {
                s->out_pos += (size_t)w;
            } else if (w < 0 && errno == EPIPE) {
                /* It stopped reading; its output (below) tells why. */
                input_closed = 1;
            } else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                st = spex_error_set(err, SPEX_EORACLE,
                                    "exec worker on rank %d ('%s'): writing masks: %s", s->rank,
                                    s->shown, strerror(errno));
                goto out;
            }
        }
        if (fds[0].revents != 0) {
            int eof;
            SPEX_CHECK(exec_read(s, values, count, &got, &eof, err));
            if (eof && got < count) {
                st = exec_gone(s, got, count, err);
                goto out;
            }
        }
    }
    if (next < count || s->out_pos < s->out_len) {
        st = spex_error_set(err, SPEX_EORACLE,
                            "exec worker on rank %d ('%s') answered all %zu values of batch %llu "
                            "before reading all its masks",
                            s->rank, s->shown, count, s->batches);
        goto out;
    }
    if (s->in_len > 0) {
        char shown[48];
        quote_text(shown, sizeof shown, s->in, s->in_len);
        st = spex_error_set(err, SPEX_EORACLE,
                            "exec worker on rank %d ('%s') printed more values than asked: '%s' "
                            "after all %zu values of batch %llu",
                            s->rank, s->shown, shown, count, s->batches);
        goto out;
    }
    s->answered += count;
out:
    sigpipe_restore(&guard);
    return st == SPEX_OK ? SPEX_OK : exec_fail(s, st);
}

static spex_status exec_eval(spex_oracle *o, size_t count, const uint64_t *masks,
                             uint64_t first_id, double *values, spex_error *err)
{
    exec_state *s = o->state;
    if (s->failed)
        return spex_error_set(err, SPEX_EORACLE,
                              "exec worker on rank %d ('%s') is no longer running (an earlier "
                              "error stopped it)",
                              s->rank, s->shown);
    /* Protocol batches never exceed oracle.batch, whatever the caller asks. */
    for (size_t done = 0; done < count; done += s->max_batch) {
        size_t c = count - done < s->max_batch ? count - done : s->max_batch;
        spex_status st = exec_batch(s, c, masks + done * o->words, values + done, err);
        if (st != SPEX_OK)
            return st;
    }
    return SPEX_OK;
}

/* ---- create and destroy --------------------------------------------------------- */

static void exec_destroy(spex_oracle *o)
{
    exec_state *s = o->state;
    if (s != NULL) {
        if (s->pid > 0 && !s->failed) {
            /* EOF on stdin asks the worker to exit; drain its stdout so that
             * a last write cannot block it, and give it the grace period. */
            if (s->to_fd >= 0)
                close(s->to_fd);
            s->to_fd = -1;
            double until = now_seconds() + EXEC_GRACE_SECONDS;
            int status;
            while (s->pid > 0 && now_seconds() < until) {
                if (s->from_fd >= 0) {
                    struct pollfd p = {s->from_fd, POLLIN, 0};
                    char sink[4096];
                    if (poll(&p, 1, 20) > 0 && read(s->from_fd, sink, sizeof sink) == 0) {
                        close(s->from_fd);
                        s->from_fd = -1;
                    }
                }
                if (exec_reap(s, s->from_fd >= 0 ? 0.0 : 0.02, &status) != 0)
                    break;
            }
        }
        exec_kill(s);
        exec_close_fds(s);
        free(s->out);
        free(s->in);
        free(s);
    }
    free(o);
}

spex_status spex_oracle_exec_create(MPI_Comm comm, const spex_config *cfg, spex_oracle **out,
                                    spex_error *err)
{
    spex_status st = SPEX_OK;
    spex_oracle *o = NULL;
    exec_state *s = NULL;
    char **env = NULL;
    int rank, size, local_rank, local_size;
    *out = NULL;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    /* Collective, so before anything that may fail on some ranks only. */
    spex_oracle_node_place(comm, &local_rank, &local_size);

    if (cfg->command[strspn(cfg->command, " \t")] == '\0')
        return spex_error_set(err, SPEX_EUSAGE,
                              "oracle.command is empty: oracle.kind = exec needs the worker's "
                              "command line (doc/oracles.md)");
    o = calloc(1, sizeof *o);
    SPEX_ALLOC_CHECK(o, err, "the exec oracle");
    s = calloc(1, sizeof *s);
    SPEX_ALLOC_CHECK(s, err, "the exec oracle");
    o->state = s;
    o->n = cfg->n;
    o->words = spex_mask_words(cfg->n);
    o->kind = "exec";
    o->eval = exec_eval;
    o->destroy = exec_destroy;
    o->truth = NULL;
    s->pid = -1;
    s->to_fd = s->from_fd = -1;
    s->rank = rank;
    s->n = cfg->n;
    s->format = cfg->format;
    s->mask_len = cfg->format == SPEX_FORMAT_BITS ? ((size_t)cfg->n + 7) / 8 : (size_t)cfg->n + 1;
    s->max_batch = cfg->batch > 0 ? (size_t)cfg->batch : 1;
    s->timeout = cfg->timeout;
    quote_text(s->shown, sizeof s->shown, cfg->command, strlen(cfg->command));
    /* Room for a chunk, one whole mask, and the header and batch lines. */
    s->out_cap = EXEC_CHUNK + s->mask_len + 128;
    s->out = malloc(s->out_cap);
    SPEX_ALLOC_CHECK(s->out, err, "the exec oracle's mask buffer");
    s->in = malloc(EXEC_INBUF);
    SPEX_ALLOC_CHECK(s->in, err, "the exec oracle's answer buffer");
    env = exec_environment(rank, size, local_rank, local_size, cfg->n);
    SPEX_ALLOC_CHECK(env, err, "the worker's environment");

    SPEX_CHECK(exec_spawn(s, cfg->command, env, err));
    /* The header goes out now, so the worker can read n and the format
     * while spex builds its design; what the pipe does not take (nothing,
     * in practice: it is empty) leaves with the first batch. */
    s->out_len = (size_t)snprintf(s->out, s->out_cap, "spex 1 n=%d format=%s\n", cfg->n,
                                  cfg->format == SPEX_FORMAT_BITS ? "bits" : "text");
    sigpipe_guard guard;
    sigpipe_block(&guard);
    ssize_t w = write(s->to_fd, s->out, s->out_len);
    sigpipe_restore(&guard);
    if (w > 0)
        s->out_pos = (size_t)w;
    *out = o;
out:
    free(env);
    if (st != SPEX_OK && o != NULL) {
        if (s != NULL)
            s->failed = 1;
        exec_destroy(o);
    }
    return st;
}
