/* mask.h -- bit-packed masks over n features.
 *
 * Feature i lives in word i/64, bit i%64 of a little-endian uint64_t array
 * (DESIGN.md section 3).  Bits at positions >= n are always zero.  A term
 * (interaction) is a sorted list of feature indices; its parity against a
 * mask is the Fourier character's sign bit.
 */
#ifndef SPEX_MASK_H
#define SPEX_MASK_H

#include <stddef.h>
#include <stdint.h>

/* Local.  Number of 64-bit words for n features. */
static inline size_t spex_mask_words(int n) { return ((size_t)n + 63) / 64; }

/* Local.  Bit i of a mask. */
static inline int spex_mask_get(const uint64_t *m, int i)
{
    return (int)((m[i >> 6] >> (i & 63)) & 1u);
}

static inline void spex_mask_set(uint64_t *m, int i) { m[i >> 6] |= (uint64_t)1 << (i & 63); }

static inline void spex_mask_flip(uint64_t *m, int i) { m[i >> 6] ^= (uint64_t)1 << (i & 63); }

/* Local.  Parity of |{i in feat} cap S(m)|: 0 or 1. */
static inline int spex_mask_parity(const uint64_t *m, const int32_t *feat, int order)
{
    int p = 0;
    for (int q = 0; q < order; q++)
        p ^= spex_mask_get(m, feat[q]);
    return p;
}

/* Local.  1 when every feature of feat is kept in m. */
static inline int spex_mask_contains(const uint64_t *m, const int32_t *feat, int order)
{
    for (int q = 0; q < order; q++)
        if (!spex_mask_get(m, feat[q]))
            return 0;
    return 1;
}

/* Local.  dst ^= src over words. */
static inline void spex_mask_xor(uint64_t *restrict dst, const uint64_t *restrict src, size_t words)
{
    for (size_t w = 0; w < words; w++)
        dst[w] ^= src[w];
}

/* Local.  Packs a mask into bytes (feature i -> byte i/8, bit i%8), the
 * file layout. */
void spex_mask_to_bytes(const uint64_t *m, int n, uint8_t *bytes);

/* Local.  Unpacks bytes into a mask (bits past n are cleared). */
void spex_mask_from_bytes(const uint8_t *bytes, int n, uint64_t *m);

#endif
