/* fuzz_spectrum.c -- the spectrum file (spex_spectrum_read, src/spectrum.c).
 *
 * Input: 3 bytes choosing features.n (1 .. 2^21 - 1, the key's range; small
 * values more often), then the file's bytes.  Checks: ok, or an input
 * error (exit code 2) naming "<path>:<line>:" (or the file); an accepted
 * spectrum has orders 0..16, ascending distinct features below n, finite
 * coefficients and no feature set twice.
 */
#include "fuzz_common.h"

#include <math.h>

#include "spex/spectrum.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3 || size > 65536)
        return 0;
    uint32_t raw = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16;
    /* Half the inputs get n < 256, where indices are often in range. */
    int n = (data[2] & 0x80) ? 1 + (int)(raw % 2097151u) : 1 + (int)(data[0]);
    const char *path = fuzz_write_file("spectrum.txt", data + 3, size - 3);

    spex_spectrum s;
    spex_error err;
    spex_error_clear(&err);
    spex_status st = spex_spectrum_read(path, n, &s, &err);
    fuzz_check_status(st, &err, FUZZ_CODE(SPEX_EINPUT), "spex_spectrum_read");
    if (st != SPEX_OK) {
        FUZZ_ASSERT(strstr(err.msg, path) != NULL, "message does not name the file: %s",
                    err.msg);
        FUZZ_ASSERT(s.count == 0 && s.terms == NULL, "failed read left terms behind");
        return 0;
    }
    for (size_t i = 0; i < s.count; i++) {
        const spex_term *t = &s.terms[i];
        FUZZ_ASSERT(t->order >= 0 && t->order <= SPEX_MAX_ORDER, "term %zu has order %d", i,
                    (int)t->order);
        FUZZ_ASSERT(isfinite(t->coef), "term %zu has coefficient %g", i, t->coef);
        for (int q = 0; q < t->order; q++)
            FUZZ_ASSERT(t->feat[q] >= 0 && t->feat[q] < n && (q == 0 || t->feat[q] > t->feat[q - 1]),
                        "term %zu: features not ascending below n = %d", i, n);
        if (i > 0)
            FUZZ_ASSERT(spex_term_cmp_set(&s.terms[i - 1], t) < 0,
                        "terms %zu and %zu not strictly ordered by set", i - 1, i);
    }
    spex_spectrum_free(&s);
    return 0;
}
