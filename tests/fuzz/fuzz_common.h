/* fuzz_common.h -- helpers shared by the libFuzzer harnesses in tests/fuzz/.
 *
 * Each harness feeds one outside input of spex (a study text, a --set
 * argument, a spectrum or names file, an HDF5 file, a worker's answers, a
 * model) to the parser that reads it and checks what the parser promises:
 * it returns, with a status code from its documented set and a one-line
 * message, or succeeds with data that satisfies its invariants.  A
 * violated promise calls FUZZ_FAIL, which aborts, so libFuzzer records the
 * input as a crash just like a sanitizer report.
 *
 * Files: parsers that take a path get the input written to a per-process
 * file under $SPEX_FUZZ_TMPDIR or /dev/shm (tmpfs: no disk traffic).
 */
#ifndef SPEX_FUZZ_COMMON_H
#define SPEX_FUZZ_COMMON_H

#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif

#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spex/error.h"

#define FUZZ_FAIL(...)                                                                       \
    do {                                                                                     \
        fprintf(stderr, "fuzz invariant violated at %s:%d: ", __FILE__, __LINE__);           \
        fprintf(stderr, __VA_ARGS__);                                                        \
        fputc('\n', stderr);                                                                 \
        abort();                                                                             \
    } while (0)

#define FUZZ_ASSERT(cond, ...)                                                               \
    do {                                                                                     \
        if (!(cond))                                                                         \
            FUZZ_FAIL(__VA_ARGS__);                                                          \
    } while (0)

/* The paths of this process's scratch files, one per suffix in use. */
#define FUZZ_MAX_FILES 8
static char fuzz_paths[FUZZ_MAX_FILES][128];

static void fuzz_remove_files(void)
{
    for (int i = 0; i < FUZZ_MAX_FILES; i++)
        if (fuzz_paths[i][0] != '\0')
            unlink(fuzz_paths[i]);
}

/* Local.  "<dir>/spex-fuzz-<pid>-<suffix>", dir = $SPEX_FUZZ_TMPDIR (smoke.sh
 * makes one per run and removes it, crashes included), else /dev/shm or
 * /tmp; the file is removed when the process exits normally. */
static const char *fuzz_path(const char *suffix)
{
    static int registered = 0;
    const char *dir = getenv("SPEX_FUZZ_TMPDIR");
    if (dir == NULL || dir[0] == '\0')
        dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    char want[128];
    snprintf(want, sizeof want, "%s/spex-fuzz-%ld-%s", dir, (long)getpid(), suffix);
    int free_slot = -1;
    for (int i = 0; i < FUZZ_MAX_FILES; i++) {
        if (strcmp(fuzz_paths[i], want) == 0)
            return fuzz_paths[i];
        if (fuzz_paths[i][0] == '\0' && free_slot < 0)
            free_slot = i;
    }
    if (free_slot < 0)
        FUZZ_FAIL("too many scratch files");
    memcpy(fuzz_paths[free_slot], want, sizeof want);
    if (!registered) {
        atexit(fuzz_remove_files);
        registered = 1;
    }
    return fuzz_paths[free_slot];
}

/* Local.  Writes data to the scratch file of suffix; returns its path. */
static const char *fuzz_write_file(const char *suffix, const uint8_t *data, size_t size)
{
    const char *path = fuzz_path(suffix);
    FILE *f = fopen(path, "wb");
    if (f == NULL || (size > 0 && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
        FUZZ_FAIL("cannot write scratch file %s", path);
    return path;
}

/* A set of status codes as bits: 1..5 as themselves, 70 (internal) as bit
 * 30, 75 (interrupted) and anything else as bit 31. */
#define FUZZ_CODE(c)                                                                         \
    ((unsigned)(c) < 30 ? 1u << (unsigned)(c) : (c) == SPEX_EINTERNAL ? 1u << 30 : 1u << 31)

/* Checks the error contract of DESIGN.md section 8: on failure the status
 * is one of the codes allowed for this parser (a FUZZ_CODE set),
 * err carries the same code and a non-empty message of one line. */
static void fuzz_check_status(spex_status st, const spex_error *err, unsigned allowed,
                              const char *what)
{
    if (st == SPEX_OK) {
        FUZZ_ASSERT(err->code == SPEX_OK, "%s: returned ok with error %d set: %s", what,
                    (int)err->code, err->msg);
        return;
    }
    FUZZ_ASSERT((allowed & FUZZ_CODE(st)) != 0,
                "%s: status %d is not one this parser may return: %s", what, (int)st, err->msg);
    FUZZ_ASSERT(err->code == st, "%s: status %d but err->code %d", what, (int)st,
                (int)err->code);
    FUZZ_ASSERT(err->msg[0] != '\0', "%s: status %d without a message", what, (int)st);
    FUZZ_ASSERT(strchr(err->msg, '\n') == NULL, "%s: message is not one line: %s", what,
                err->msg);
}


/* Harnesses whose parser needs MPI (collective readers, HDF5's MPI-IO
 * driver) initialize it once, as a singleton. */
static void fuzz_mpi_finalize(void)
{
    int fin = 0;
    MPI_Finalized(&fin);
    if (!fin)
        MPI_Finalize();
}

static void fuzz_mpi_init(int *argc, char ***argv)
{
    int done = 0;
    MPI_Initialized(&done);
    if (!done) {
        MPI_Init(argc, argv);
        atexit(fuzz_mpi_finalize);
    }
}

#endif
