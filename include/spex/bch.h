/* bch.h -- binary BCH code used as SPEX's delays (ALGORITHMS.md section 4).
 *
 * The code has length N = 2^m - 1 (m the smallest with 2^m - 1 >= n and
 * 2^m - 1 >= 2t + 1, m >= 2), designed distance 2t + 1, shortened to its first
 * n positions.  Its parity-check rows are the delays: for each odd
 * j in {1, 3, ..., 2t-1} and each bit r in 0..m-1, row p = ((j-1)/2)*m + r
 * has at position i the bit r of alpha^(j*i), alpha a root of the field's
 * primitive polynomial.  P = m*t rows in all.  For a set k of positions,
 * y = D k collects the odd syndromes S_j = sum_{i in k} alpha^(j i) bit by
 * bit; decoding recovers any k with |k| <= t (Berlekamp-Massey + Chien).
 */
#ifndef SPEX_BCH_H
#define SPEX_BCH_H

#include <stddef.h>
#include <stdint.h>

#include "spex/error.h"

typedef struct spex_bch spex_bch;

/* Local.  Creates the code for n positions correcting t errors
 * (1 <= t <= 64, 1 <= n <= 2^21 - 1 = 2097151; SPEX_EUSAGE otherwise).
 * Holds two tables of 2^m uint32 (16 MiB at m = 21).  Returns new memory;
 * free with spex_bch_destroy.  All other functions only read the code, so
 * threads may share it. */
spex_status spex_bch_create(int n, int t, spex_bch **out, spex_error *err);

/* Local. */
void spex_bch_destroy(spex_bch *code);

/* Local.  Field degree m, and the number of delay rows P = m*t. */
int spex_bch_m(const spex_bch *code);
int spex_bch_rows(const spex_bch *code);

/* Local.  Entry (row p, position i) of the delay matrix: 0 or 1. */
int spex_bch_delay_bit(const spex_bch *code, int p, int i);

/* Local.  Writes row p packed into words (feature i -> word i/64, bit i%64);
 * words must be at least ceil(n/64); bits past n are zero. */
void spex_bch_delay_row(const spex_bch *code, int p, uint64_t *row, size_t words);

/* Local.  The P bits y = D k for a set of positions (y[p] in {0,1}). */
void spex_bch_encode(const spex_bch *code, const int32_t *pos, int count, uint8_t *y);

/* Local.  Decodes y (P bits, y[p] in {0,1}) into the unique set k with
 * |k| <= t and D k = y.  Writes the positions ascending to pos (room for t)
 * and returns |k| (0 for y = 0), or -1 when no such set exists (a locator
 * whose degree differs from its number of roots in 0..n-1, or degree > t). */
int spex_bch_decode(const spex_bch *code, const uint8_t *y, int32_t *pos);

#endif
