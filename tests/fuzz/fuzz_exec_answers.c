/* fuzz_exec_answers.c -- what an exec worker prints (src/oracle_exec.c).
 *
 * The answer parser (exec_parse, with exec_read around it) is static, so
 * this harness includes oracle_exec.c itself and drives it through a real
 * pipe, as a batch does: the worker's bytes arrive in chunks of fuzzed
 * sizes, then its output ends.  Input: 1 byte for the batch size (1..256),
 * 1 byte seeding the chunk sizes, then the worker's output.  Checks: each
 * read returns ok or an oracle error (exit code 3) naming rank 0 and the
 * command; never more values than asked; every value accepted is finite.
 */
#include "../../src/oracle_exec.c"

#include "fuzz_common.h"

#define COMMAND "fuzz-worker --flag"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 262144)
        return 0;
    size_t count = 1 + data[0];
    uint32_t rng = 0x9e3779b9u * (1u + data[1]);
    data += 2;
    size -= 2;

    exec_state s;
    memset(&s, 0, sizeof s);
    s.pid = -1;
    s.rank = 0;
    s.batches = 1;
    quote_text(s.shown, sizeof s.shown, COMMAND, strlen(COMMAND));
    s.in = malloc(EXEC_INBUF);
    double *values = malloc(count * sizeof *values);
    int fds[2];
    if (s.in == NULL || values == NULL || pipe(fds) != 0)
        abort();
    s.from_fd = fds[0];
    s.to_fd = -1;
    fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);

    spex_error err;
    spex_error_clear(&err);
    spex_status st = SPEX_OK;
    size_t got = 0, at = 0;
    int eof = 0;
    while (st == SPEX_OK) {
        if (at < size) {
            /* Chunks of 1..4096 bytes: a pipe holds that much without
             * blocking, and line ends fall anywhere in them. */
            rng = rng * 1664525u + 1013904223u;
            size_t chunk = 1 + (rng >> 8) % ((rng & 1) ? 4096 : 16);
            if (chunk > size - at)
                chunk = size - at;
            if (write(fds[1], data + at, chunk) != (ssize_t)chunk)
                abort();
            at += chunk;
        } else if (fds[1] >= 0) {
            close(fds[1]);
            fds[1] = -1;
        }
        st = exec_read(&s, values, count, &got, &eof, &err);
        FUZZ_ASSERT(got <= count, "%zu values taken for a batch of %zu", got, count);
        if (eof)
            break;
    }
    fuzz_check_status(st, &err, FUZZ_CODE(SPEX_EORACLE), "exec_read");
    if (st != SPEX_OK)
        FUZZ_ASSERT(strstr(err.msg, "rank 0 ('" COMMAND "')") != NULL,
                    "message does not name the rank and command: %s", err.msg);
    else
        FUZZ_ASSERT(s.in_len < EXEC_LINE_MAX, "%zu unparsed bytes kept", s.in_len);
    for (size_t i = 0; i < got; i++)
        FUZZ_ASSERT(isfinite(values[i]), "value %zu is %g", i, values[i]);

    if (fds[1] >= 0)
        close(fds[1]);
    close(fds[0]);
    free(values);
    free(s.in);
    return 0;
}
