/* fuzz_names.c -- the feature-names file (spex_names_read, src/result.c).
 *
 * Input: 1 byte choosing features.n (0..255), then the file's bytes.
 * Checks: ok, or an input error (exit code 2) naming the file; accepted
 * names are exactly n non-empty, unique strings of at most 63 bytes
 * without surrounding blanks, line ends or NUL.
 */
#include "fuzz_common.h"

#include "spex/result.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    int n = data[0];
    const char *path = fuzz_write_file("names.txt", data + 1, size - 1);
    char **names = NULL;
    spex_error err;
    spex_error_clear(&err);
    spex_status st = spex_names_read(path, n, &names, &err);
    fuzz_check_status(st, &err, FUZZ_CODE(SPEX_EINPUT), "spex_names_read");
    if (st != SPEX_OK) {
        FUZZ_ASSERT(names == NULL, "failed read returned names");
        FUZZ_ASSERT(strstr(err.msg, path) != NULL, "message does not name the file: %s",
                    err.msg);
        return 0;
    }
    FUZZ_ASSERT(names != NULL, "ok without names");
    for (int i = 0; i < n; i++) {
        const char *s = names[i];
        FUZZ_ASSERT(s != NULL, "name %d is NULL", i);
        size_t len = strlen(s);
        FUZZ_ASSERT(len >= 1 && len <= 63, "name %d has %zu bytes", i, len);
        FUZZ_ASSERT(s[0] != ' ' && s[0] != '\t' && s[len - 1] != ' ' && s[len - 1] != '\t',
                    "name %d has surrounding blanks", i);
        FUZZ_ASSERT(strchr(s, '\n') == NULL, "name %d holds a newline", i);
        for (int j = 0; j < i; j++)
            FUZZ_ASSERT(strcmp(names[j], s) != 0, "names %d and %d are equal", j, i);
    }
    spex_names_free(names, n);
    return 0;
}
