/* mask.c -- conversions between word-packed masks and the byte-packed file
 * layout. */
#include "spex/mask.h"

#include <string.h>

void spex_mask_to_bytes(const uint64_t *m, int n, uint8_t *bytes)
{
    size_t nb = ((size_t)n + 7) / 8;
    for (size_t b = 0; b < nb; b++)
        bytes[b] = (uint8_t)(m[b / 8] >> (8 * (b % 8)));
}

void spex_mask_from_bytes(const uint8_t *bytes, int n, uint64_t *m)
{
    size_t words = spex_mask_words(n);
    size_t nb = ((size_t)n + 7) / 8;
    memset(m, 0, words * sizeof *m);
    for (size_t b = 0; b < nb; b++)
        m[b / 8] |= (uint64_t)bytes[b] << (8 * (b % 8));
    if (n % 64)
        m[words - 1] &= ((uint64_t)1 << (n % 64)) - 1;
}
