/* wht_kernel.h -- the blocked WHT schedule of src/wht.c, for one vector type.
 *
 * Included by src/wht.c once per vector width, no include guard.  Before
 * including, wht.c defines:
 *   WHT_V            values per vector (2 or 4), WHT_LV its log2;
 *   WHT_NAME(f)      f with this instance's suffix;
 *   WHT_TARGET       attributes of the instance's entry points (a target,
 *                    or nothing);
 *   and, for the type WHT_NAME(vec): WHT_NAME(load), WHT_NAME(store),
 *   WHT_NAME(butterfly) and WHT_NAME(lanes) (levels 0 .. WHT_LV-1 inside one
 *   vector), all on vectors passed by pointer.
 * It defines WHT_NAME(execute), the whole schedule (wht.c's header comment),
 * built from three steps: WHT_NAME(block), WHT_NAME(chunk), WHT_NAME(columns).
 * A "row" below is a run of values that the butterflies of the levels in
 * hand treat as one: row r pairs with row r + 2^j at row level j.
 */

/* Levels j .. j+K-1 (K = 1, 2 or 3, a constant once inlined) of a strip of
 * `rows` rows, w values wide (w a multiple of WHT_V).  Reads the rows from
 * src (row stride ss values), writes them to dst (stride ds); src may be
 * dst.  Each step holds 2^K vectors, one per row, in registers and applies
 * the K levels to them in ascending order.  Separate variables rather than
 * an array: GCC keeps an array of vectors in memory. */
WHT_INLINE void WHT_NAME(pass_k)(const double *src, size_t ss, double *dst, size_t ds, size_t w,
                                 size_t rows, int j, const int K)
{
    size_t h = (size_t)1 << j, span = h << K, so = h * ss, dso = h * ds;
    for (size_t r0 = 0; r0 < rows; r0 += span)
        for (size_t r = r0; r < r0 + h; r++) {
            const double *s = src + r * ss;
            double *d = dst + r * ds;
            for (size_t c = 0; c < w; c += WHT_V) {
                WHT_NAME(vec) v0, v1, v2, v3, v4, v5, v6, v7;
                WHT_NAME(load)(&v0, s + c);
                WHT_NAME(load)(&v1, s + c + so);
                if (K == 1) {
                    WHT_NAME(butterfly)(&v0, &v1);
                } else if (K == 2) {
                    WHT_NAME(load)(&v2, s + c + 2 * so);
                    WHT_NAME(load)(&v3, s + c + 3 * so);
                    WHT_NAME(butterfly)(&v0, &v1);
                    WHT_NAME(butterfly)(&v2, &v3);
                    WHT_NAME(butterfly)(&v0, &v2);
                    WHT_NAME(butterfly)(&v1, &v3);
                    WHT_NAME(store)(d + c + 2 * dso, &v2);
                    WHT_NAME(store)(d + c + 3 * dso, &v3);
                } else {
                    WHT_NAME(load)(&v2, s + c + 2 * so);
                    WHT_NAME(load)(&v3, s + c + 3 * so);
                    WHT_NAME(load)(&v4, s + c + 4 * so);
                    WHT_NAME(load)(&v5, s + c + 5 * so);
                    WHT_NAME(load)(&v6, s + c + 6 * so);
                    WHT_NAME(load)(&v7, s + c + 7 * so);
                    WHT_NAME(butterfly)(&v0, &v1);
                    WHT_NAME(butterfly)(&v2, &v3);
                    WHT_NAME(butterfly)(&v4, &v5);
                    WHT_NAME(butterfly)(&v6, &v7);
                    WHT_NAME(butterfly)(&v0, &v2);
                    WHT_NAME(butterfly)(&v1, &v3);
                    WHT_NAME(butterfly)(&v4, &v6);
                    WHT_NAME(butterfly)(&v5, &v7);
                    WHT_NAME(butterfly)(&v0, &v4);
                    WHT_NAME(butterfly)(&v1, &v5);
                    WHT_NAME(butterfly)(&v2, &v6);
                    WHT_NAME(butterfly)(&v3, &v7);
                    WHT_NAME(store)(d + c + 2 * dso, &v2);
                    WHT_NAME(store)(d + c + 3 * dso, &v3);
                    WHT_NAME(store)(d + c + 4 * dso, &v4);
                    WHT_NAME(store)(d + c + 5 * dso, &v5);
                    WHT_NAME(store)(d + c + 6 * dso, &v6);
                    WHT_NAME(store)(d + c + 7 * dso, &v7);
                }
                WHT_NAME(store)(d + c, &v0);
                WHT_NAME(store)(d + c + dso, &v1);
            }
        }
}

/* The same for a k known only at run time. */
WHT_INLINE void WHT_NAME(pass)(const double *src, size_t ss, double *dst, size_t ds, size_t w,
                               size_t rows, int j, int k)
{
    if (k == 3)
        WHT_NAME(pass_k)(src, ss, dst, ds, w, rows, j, 3);
    else if (k == 2)
        WHT_NAME(pass_k)(src, ss, dst, ds, w, rows, j, 2);
    else
        WHT_NAME(pass_k)(src, ss, dst, ds, w, rows, j, 1);
}

/* Row levels 0 .. g-1 of a strip, in place, in passes of up to three. */
WHT_INLINE void WHT_NAME(strip)(double *x, size_t stride, size_t w, size_t rows, int g)
{
    for (int j = 0; j < g; j += 3)
        WHT_NAME(pass)(x, stride, x, stride, w, rows, j, g - j < 3 ? g - j : 3);
}

/* Levels 0 .. WHT_LV+2 of 8 WHT_V contiguous values: WHT_LV inside each of
 * the 8 vectors, then three across them. */
WHT_INLINE void WHT_NAME(first)(double *x)
{
    WHT_NAME(vec) v0, v1, v2, v3, v4, v5, v6, v7;
    WHT_NAME(load)(&v0, x);
    WHT_NAME(load)(&v1, x + WHT_V);
    WHT_NAME(load)(&v2, x + 2 * WHT_V);
    WHT_NAME(load)(&v3, x + 3 * WHT_V);
    WHT_NAME(load)(&v4, x + 4 * WHT_V);
    WHT_NAME(load)(&v5, x + 5 * WHT_V);
    WHT_NAME(load)(&v6, x + 6 * WHT_V);
    WHT_NAME(load)(&v7, x + 7 * WHT_V);
    WHT_NAME(lanes)(&v0);
    WHT_NAME(lanes)(&v1);
    WHT_NAME(lanes)(&v2);
    WHT_NAME(lanes)(&v3);
    WHT_NAME(lanes)(&v4);
    WHT_NAME(lanes)(&v5);
    WHT_NAME(lanes)(&v6);
    WHT_NAME(lanes)(&v7);
    WHT_NAME(butterfly)(&v0, &v1);
    WHT_NAME(butterfly)(&v2, &v3);
    WHT_NAME(butterfly)(&v4, &v5);
    WHT_NAME(butterfly)(&v6, &v7);
    WHT_NAME(butterfly)(&v0, &v2);
    WHT_NAME(butterfly)(&v1, &v3);
    WHT_NAME(butterfly)(&v4, &v6);
    WHT_NAME(butterfly)(&v5, &v7);
    WHT_NAME(butterfly)(&v0, &v4);
    WHT_NAME(butterfly)(&v1, &v5);
    WHT_NAME(butterfly)(&v2, &v6);
    WHT_NAME(butterfly)(&v3, &v7);
    WHT_NAME(store)(x, &v0);
    WHT_NAME(store)(x + WHT_V, &v1);
    WHT_NAME(store)(x + 2 * WHT_V, &v2);
    WHT_NAME(store)(x + 3 * WHT_V, &v3);
    WHT_NAME(store)(x + 4 * WHT_V, &v4);
    WHT_NAME(store)(x + 5 * WHT_V, &v5);
    WHT_NAME(store)(x + 6 * WHT_V, &v6);
    WHT_NAME(store)(x + 7 * WHT_V, &v7);
}

/* Levels 0 .. lev-1 of 2^lev contiguous values, 6 <= lev <= BLOCK.
 * Sub-blocks of 2^SUB values first, as rows of WHT_V values (element level
 * e >= WHT_LV is row level e - WHT_LV), then the levels above SUB with the
 * block as rows of 2^SUB values. */
WHT_TARGET static void WHT_NAME(block)(double *x, int lev)
{
    int sub = lev < SUB ? lev : SUB, rl = sub - WHT_LV;
    size_t n = (size_t)1 << lev, ns = (size_t)1 << sub;
    for (size_t s = 0; s < n; s += ns) {
        double *y = x + s;
        for (size_t i = 0; i < ns; i += 8 * WHT_V)
            WHT_NAME(first)(y + i);
        for (int j = 3; j < rl; j += 3)
            WHT_NAME(pass)(y, WHT_V, y, WHT_V, WHT_V, ns / WHT_V, j, rl - j < 3 ? rl - j : 3);
    }
    WHT_NAME(strip)(x, ns, ns, n / ns, lev - sub);
}

/* Levels 0 .. lev-1 of 2^lev contiguous values, BLOCK < lev <= CHUNK: its
 * blocks, then the levels above BLOCK with the chunk as rows of 2^BLOCK
 * values, in place. */
WHT_TARGET static void WHT_NAME(chunk)(double *x, int lev)
{
    size_t nb = (size_t)1 << BLOCK, n = (size_t)1 << lev;
    for (size_t i = 0; i < n; i += nb)
        WHT_NAME(block)(x + i, BLOCK);
    WHT_NAME(strip)(x, nb, nb, n / nb, lev - BLOCK);
}

/* Levels lo .. lo+g-1 (g <= MAX_ROWS) of the 2^b values x, the array seen as
 * 2^g-row matrices of 2^lo columns (one after another when lo + g < b), by
 * strips of w columns.  Up to three levels, or without scratch space, the
 * passes work in place; more go through the scratch strip (2^STRIP values):
 * first pass array -> scratch, middle passes in scratch, last pass scratch ->
 * array, levels ascending throughout. */
WHT_TARGET static void WHT_NAME(columns)(double *x, int b, int lo, int g, double *scratch)
{
    size_t cols = (size_t)1 << lo, rows = (size_t)1 << g, span = cols << g;
    size_t n = (size_t)1 << b;
    size_t w = (size_t)1 << (STRIP - g);
    if (w > cols)
        w = cols;
    for (size_t base = 0; base < n; base += span)
        for (size_t c0 = 0; c0 < cols; c0 += w) {
            double *p = x + base + c0;
            if (g <= 3 || scratch == NULL) {
                WHT_NAME(strip)(p, cols, w, rows, g);
                continue;
            }
            WHT_NAME(pass)(p, cols, scratch, w, w, rows, 0, 3);
            int j = 3;
            for (; g - j > 3; j += 3)
                WHT_NAME(pass)(scratch, w, scratch, w, w, rows, j, 3);
            WHT_NAME(pass)(scratch, w, p, cols, w, rows, j, g - j);
        }
}

/* Levels 0 .. b-1 of the 2^b values x, b >= 6; scratch holds 2^STRIP values
 * or is NULL. */
static void WHT_NAME(execute)(double *x, int b, double *scratch)
{
    if (b <= BLOCK) {
        WHT_NAME(block)(x, b);
        return;
    }
    int lo = b < CHUNK ? b : CHUNK;
    size_t n = (size_t)1 << b;
    for (size_t i = 0; i < n; i += (size_t)1 << lo)
        WHT_NAME(chunk)(x + i, lo);
    for (; lo < b; lo += MAX_ROWS)
        WHT_NAME(columns)(x, b, lo, b - lo < MAX_ROWS ? b - lo : MAX_ROWS, scratch);
}
