/* design.h -- the SPEX aliasing design (ALGORITHMS.md section 3).
 *
 * C groups, each a random b x n matrix M_c over GF(2) from
 * (seed, SPEX_STREAM_DESIGN_M + (c << 8), counter); delays d_0 = 0 and
 * d_1..d_P (BCH parity rows or identity).  Query (c, p, l), l in [0, 2^b),
 * is the mask M_c^T l XOR d_p; its global id is
 * ((c * (P + 1)) + p) * 2^b + l, so signal s = c*(P+1) + p is the
 * contiguous block of ids [s 2^b, (s+1) 2^b).  Masks are produced on demand,
 * never stored for the whole design.
 */
#ifndef SPEX_DESIGN_H
#define SPEX_DESIGN_H

#include <stddef.h>
#include <stdint.h>

#include "spex/bch.h"
#include "spex/config.h"
#include "spex/error.h"

typedef struct spex_design {
    int n;              /* features */
    size_t words;       /* words per mask */
    int b;              /* log2 bins per group */
    int C;              /* groups */
    int P;              /* delays besides d_0 */
    int t;              /* largest order decoded */
    spex_delays_kind delays;
    uint64_t seed;
    uint64_t *M;        /* C*b rows of words: row j of M_c at (c*b + j)*words */
    uint64_t *D;        /* BCH: P rows of words (d_1..d_P); identity: NULL */
    spex_bch *bch;      /* BCH delays only */
} spex_design;

/* Local.  Builds the design (the same on every rank for the same inputs).
 * Identity delays need P = n.  Returns new memory. */
spex_status spex_design_create(int n, int b, int C, int t, spex_delays_kind delays,
                               uint64_t seed, spex_design **out, spex_error *err);

/* Local. */
void spex_design_destroy(spex_design *d);

/* Local.  Signals (C*(P+1)), bins per signal (2^b), queries (their product). */
size_t spex_design_signals(const spex_design *d);
size_t spex_design_bins(const spex_design *d);
uint64_t spex_design_queries(const spex_design *d);

/* Local.  Number of delays P+1 for given n, t and delay kind (to choose b
 * from a budget before building the design). */
int spex_design_delay_count(int n, int t, spex_delays_kind delays);

/* Local.  Writes count consecutive masks of signal (c, p), l = l0 .. l0+count-1,
 * into masks (count * words words).  Costs about two row XORs per mask. */
void spex_design_masks(const spex_design *d, int c, int p, uint64_t l0, size_t count,
                       uint64_t *masks);

/* Local.  The bin M_c k of a term in group c. */
uint64_t spex_design_bin(const spex_design *d, int c, const int32_t *feat, int order);

/* Local.  The bit d_p . k (p = 0..P; d_0 = 0). */
int spex_design_delay_parity(const spex_design *d, int p, const int32_t *feat, int order);

/* Local.  Decodes the P bits y = (d_p . k)_{p=1..P} (y[0] is d_1's bit) into
 * k: writes ascending features to feat (room for t) and returns the order,
 * or -1 when y is not D k for any k of order <= t. */
int spex_design_decode(const spex_design *d, const uint8_t *y, int32_t *feat);

/* Local.  Chooses b: the largest b with C*(P+1)*2^b <= budget when budget > 0,
 * else the smallest b with 2^b >= 2 * sparsity (peeling with 3 groups is
 * reliable below about 0.8 terms per bin); clamped to [1, 30]. */
int spex_design_choose_b(int n, int t, int C, spex_delays_kind delays, int64_t budget,
                         int sparsity);

/* How the design's values are spread over the ranks of a communicator.
 * Ranks form G = size / r groups of r ranks (r a power of two); group g owns
 * a contiguous block of signals (spex_partition of the C(P+1) signals over
 * G), and rank i of the group holds slice i of each: l (before the
 * transform) or j (after it) in [a, b) = [i 2^b / r, (i+1) 2^b / r).  With
 * r = 1 every rank holds whole signals and transforms them alone; r > 1
 * serves designs with fewer signals than ranks, or signals too large for
 * one rank, with the distributed WHT.  Ranks past G r hold nothing. */
typedef struct spex_layout {
    int r;             /* ranks per signal */
    int groups;        /* G */
    int group;         /* this rank's group, or -1 when it holds nothing */
    size_t s_lo, s_hi; /* this rank's signals */
    size_t a, b;       /* this rank's slice of each signal */
} spex_layout;

/* Local.  The layout of rank q of size with r ranks per signal; r = 0
 * chooses: 1 when there are at least as many signals as ranks, else the
 * largest power of two r <= size / signals (and <= 2^b). */
void spex_layout_of(const spex_design *d, int r, int q, int size, spex_layout *L);

/* Local.  Values this rank holds: (s_hi - s_lo) (b - a). */
size_t spex_layout_count(const spex_layout *L);

#endif
