/* wht-bench.c -- how fast is the binary Walsh-Hadamard transform, and how
 * close to this machine's memory bandwidth does it run?
 *
 *   wht-bench [--b 10,12,14,16,17,18,20,22,24] [--reps 5] [--dist-b 22] [--stream-b 22,24]
 *             [--fftw measure|estimate|patient] [--kernels spex,textbook,fftw]
 *
 * Three measurements, each printed as one JSON line on stdout (rank 0):
 *   (a) "wht-local": spex_wht_execute against a plain radix-2 loop and
 *       against FFTW's rank-b r2r transform of size-2 dimensions (R2HC of
 *       length 2 is the butterfly (a, c) -> (a + c, a - c), so the rank-b
 *       transform is the WHT).  Each result is checked against the plain
 *       loop; FFTW's planning time is reported apart from its execution.
 *   (b) "stream": single-core copy / in-place scale / triad over arrays of
 *       2^B doubles for each B of --stream-b (STREAM byte counting: no
 *       write-allocate), and, in the "wht-local" lines, each kernel's
 *       effective bandwidth, counted as the bytes of the fewest passes a
 *       two-phase blocked kernel needs (2 passes, each reading and writing
 *       the array: 4 * 8 * 2^b bytes; 1 pass for b <= 17, a signal that fits
 *       the 1 MiB L2 and spex's one-block size), as a % of the best and of
 *       the triad STREAM figure measured on arrays of the same size (when
 *       there is one), from medians and from minima.
 *   (c) "wht-dist": spex_wht_execute_dist of 2^dist-b points over
 *       MPI_COMM_WORLD (a power of two ranks), its time (slowest rank), the
 *       time of its local phase, the time of the local kernel on the whole
 *       signal on rank 0, and a bit-for-bit comparison of the gathered result
 *       with the local kernel's.
 * (a) and (b) run only in a 1-rank job, so that no other rank competes for
 * the core and the memory bus; (c) runs on any power-of-two number of ranks.
 *
 * Inputs are pseudo-random doubles in [-1, 1) (splitmix64 of the global
 * index), refilled before every timed repetition; small transforms repeat
 * `inner` times inside one timing.  Times are medians and minima over
 * --reps (on a loaded machine the minimum is the figure to trust).
 */
#include <fftw3.h>
#include <math.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "spex/wht.h"

enum { MAX_BS = 32, MAX_REPS = 1000 };

typedef struct {
    int bs[MAX_BS];
    int nb;
    int reps;
    int dist_b;
    int stream_bs[MAX_BS];
    int nsb;
    unsigned fftw_flags;
    const char *fftw_name;
    int kernels[3]; /* which of spex, textbook, fftw to time */
} options;

static void print_usage(FILE *out)
{
    fprintf(out,
            "usage: wht-bench [--b 10,12,14,16,17,18,20,22,24] [--reps 5] [--dist-b 22]\n"
            "                 [--stream-b 22,24]\n"
            "                 [--fftw measure|estimate|patient] [--kernels spex,textbook,fftw]\n"
            "Times the Walsh-Hadamard transform; prints one JSON line per measurement.\n"
            "  --b LIST      sizes 2^b of the local comparison spex / textbook / FFTW (1..28)\n"
            "  --reps R      timed repetitions, medians and minima reported (default 5)\n"
            "  --dist-b B    size 2^B of the distributed transform (default 22; 0: skip)\n"
            "  --stream-b L  STREAM on arrays of 2^B doubles, B in L (default 22,24)\n"
            "  --fftw FLAG   FFTW planner flag (default measure)\n"
            "  --kernels L   the kernels to time (default all three; all are checked)\n"
            "Run with 1 rank for the local kernels and STREAM; with 2^r ranks only the\n"
            "distributed transform is measured:\n"
            "  mpirun -np 1 wht-bench && mpirun -np 2 wht-bench\n");
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

/* A comma-separated list of integers in lo..hi. */
static int parse_list(const char *s, int lo, int hi, int *v, int *count)
{
    char buf[256];
    if (strlen(s) >= sizeof buf)
        return -1;
    strcpy(buf, s);
    *count = 0;
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        if (*count == MAX_BS || parse_int(tok, lo, hi, &v[*count]) != 0)
            return -1;
        (*count)++;
    }
    return *count > 0 ? 0 : -1;
}

/* A comma-separated list of kernel names: use[k] = 1 for each. */
static int parse_kernels(const char *s, int use[3])
{
    static const char *const names[3] = {"spex", "textbook", "fftw"};
    char buf[64];
    if (strlen(s) >= sizeof buf)
        return -1;
    strcpy(buf, s);
    use[0] = use[1] = use[2] = 0;
    int count = 0;
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        int k = 0;
        while (k < 3 && strcmp(tok, names[k]) != 0)
            k++;
        if (k == 3)
            return -1;
        use[k] = 1;
        count++;
    }
    return count > 0 ? 0 : -1;
}

static int parse_options(int argc, char **argv, options *o)
{
    static const int default_bs[] = {10, 12, 14, 16, 17, 18, 20, 22, 24};
    memcpy(o->bs, default_bs, sizeof default_bs);
    o->nb = (int)(sizeof default_bs / sizeof *default_bs);
    o->reps = 5;
    o->dist_b = 22;
    o->stream_bs[0] = 22;
    o->stream_bs[1] = 24;
    o->nsb = 2;
    o->fftw_flags = FFTW_MEASURE;
    o->fftw_name = "measure";
    o->kernels[0] = o->kernels[1] = o->kernels[2] = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return 1;
        if (v == NULL)
            return -1;
        if (strcmp(a, "--b") == 0)
            bad = parse_list(v, 1, 28, o->bs, &o->nb);
        else if (strcmp(a, "--reps") == 0)
            bad = parse_int(v, 1, MAX_REPS, &o->reps);
        else if (strcmp(a, "--dist-b") == 0)
            bad = parse_int(v, 0, 30, &o->dist_b);
        else if (strcmp(a, "--stream-b") == 0)
            bad = parse_list(v, 10, 28, o->stream_bs, &o->nsb);
        else if (strcmp(a, "--kernels") == 0)
            bad = parse_kernels(v, o->kernels);
        else if (strcmp(a, "--fftw") == 0) {
            o->fftw_name = v;
            if (strcmp(v, "measure") == 0)
                o->fftw_flags = FFTW_MEASURE;
            else if (strcmp(v, "estimate") == 0)
                o->fftw_flags = FFTW_ESTIMATE;
            else if (strcmp(v, "patient") == 0)
                o->fftw_flags = FFTW_PATIENT;
            else
                bad = -1;
        } else
            bad = -1;
        if (bad)
            return -1;
        i++;
    }
    return 0;
}

/* ---- data, clocks, statistics ----------------------------------------- */

static uint64_t splitmix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* x[i] = the value of global index first + i, uniform in [-1, 1): any rank
 * can fill its block of the signal that rank 0 fills whole. */
static void fill(double *x, size_t n, size_t first)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (double)(splitmix64(first + i) >> 11) * 0x1p-52 - 1.0;
}

static double *alloc_doubles(size_t n)
{
    size_t bytes = (n * sizeof(double) + 63) / 64 * 64;
    double *x = aligned_alloc(64, bytes);
    if (x == NULL) {
        fprintf(stderr, "wht-bench: out of memory for %zu doubles\n", n);
        MPI_Abort(MPI_COMM_WORLD, 70);
    }
    memset(x, 0, bytes); /* first touch outside the timings */
    return x;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, int k)
{
    double s[MAX_REPS];
    memcpy(s, v, (size_t)k * sizeof *v);
    qsort(s, (size_t)k, sizeof *s, cmp_double);
    return k % 2 ? s[k / 2] : 0.5 * (s[k / 2 - 1] + s[k / 2]);
}

static double minimum(const double *v, int k)
{
    double m = v[0];
    for (int i = 1; i < k; i++)
        m = v[i] < m ? v[i] : m;
    return m;
}

/* Largest |x - y| over the largest |y|: 0 when the results agree exactly. */
static double rel_diff(const double *x, const double *y, size_t n)
{
    double d = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        d = fmax(d, fabs(x[i] - y[i]));
        m = fmax(m, fabs(y[i]));
    }
    return m > 0 ? d / m : d;
}

/* ---- (a) the local kernels --------------------------------------------- */

/* The textbook radix-2 loop: levels ascending, butterflies in place. */
static void wht_textbook(double *x, int b)
{
    size_t n = (size_t)1 << b;
    for (size_t h = 1; h < n; h <<= 1)
        for (size_t i = 0; i < n; i += h << 1)
            for (size_t j = i; j < i + h; j++) {
                double a = x[j], c = x[j + h];
                x[j] = a + c;
                x[j + h] = a - c;
            }
}

/* A rank-b r2r plan of size-2 R2HC dimensions, in place on x. */
static fftw_plan plan_fftw(double *x, int b, unsigned flags)
{
    int dims[32];
    fftw_r2r_kind kinds[32];
    for (int d = 0; d < b; d++) {
        dims[d] = 2;
        kinds[d] = FFTW_R2HC;
    }
    return fftw_plan_r2r(b, dims, x, x, kinds, flags);
}

enum { K_SPEX, K_TEXTBOOK, K_FFTW, K_COUNT };
static const char *const kernel_names[K_COUNT] = {"spex", "textbook", "fftw"};

/* Seconds per transform of kernel k, `inner` transforms timed together. */
static double time_kernel(int k, double *x, int b, int inner, fftw_plan p)
{
    fill(x, (size_t)1 << b, 0);
    double t0 = MPI_Wtime();
    for (int i = 0; i < inner; i++) {
        if (k == K_SPEX)
            spex_wht_execute(x, b);
        else if (k == K_TEXTBOOK)
            wht_textbook(x, b);
        else
            fftw_execute(p);
    }
    return (MPI_Wtime() - t0) / inner;
}

/* The fewest read+write passes over the array a two-phase blocked kernel
 * makes: one when the whole signal is one in-cache block (b <= 17: 1 MiB,
 * this machine's L2 and spex's block), else two (up to b = 29, where a
 * column strip of 8 values per row still fits the L2).  The same model for
 * every kernel, so that effective bandwidths compare like with like. */
static int min_passes(int b)
{
    return b <= 17 ? 1 : 2;
}

/* STREAM figures on arrays of 2^b doubles, GB/s. */
typedef struct {
    int b;
    double best, triad;         /* from median times */
    double best_max, triad_max; /* from minimum times */
} stream_result;

static void bench_local(const options *o, int b, const stream_result *sr)
{
    size_t n = (size_t)1 << b;
    int inner = b >= 20 ? 1 : 1 << ((20 - b) / 2 < 6 ? (20 - b) / 2 : 6);
    double *ref = alloc_doubles(n), *x = alloc_doubles(n), *f = alloc_doubles(n);

    /* Correctness first, on the same input for all three. */
    fill(ref, n, 0);
    wht_textbook(ref, b);
    fill(x, n, 0);
    spex_wht_execute(x, b);
    double t0 = MPI_Wtime();
    fftw_plan p = plan_fftw(f, b, o->fftw_flags);
    double plan_seconds = MPI_Wtime() - t0;
    if (p == NULL) {
        fprintf(stderr, "wht-bench: FFTW could not plan a rank-%d transform\n", b);
        MPI_Abort(MPI_COMM_WORLD, 70);
    }
    fill(f, n, 0);
    fftw_execute(p);
    int equal[K_COUNT] = {memcmp(x, ref, n * sizeof *x) == 0, 1,
                          memcmp(f, ref, n * sizeof *f) == 0};
    double diff[K_COUNT] = {rel_diff(x, ref, n), 0, rel_diff(f, ref, n)};
    /* FFTW against spex's own kernel too; keep both results for the report. */
    int fftw_equal_spex = memcmp(f, x, n * sizeof *f) == 0;
    double *x_out = alloc_doubles(n), *f_out = alloc_doubles(n);
    memcpy(x_out, x, n * sizeof *x);
    memcpy(f_out, f, n * sizeof *f);

    /* Repetitions interleave the kernels, so that background load on the
     * machine hits all three alike. */
    static double sec[K_COUNT][MAX_REPS];
    for (int r = 0; r < o->reps; r++)
        for (int k = 0; k < K_COUNT; k++)
            if (o->kernels[k])
                sec[k][r] = time_kernel(k, k == K_FFTW ? f : x, b, inner, p);
    fftw_destroy_plan(p);

    double bytes = 2.0 * 8.0 * (double)n * min_passes(b);
    double spex_med = o->kernels[K_SPEX] ? median(sec[K_SPEX], o->reps) : 0;
    for (int k = 0; k < K_COUNT; k++) {
        if (!o->kernels[k])
            continue;
        double med = median(sec[k], o->reps), mn = minimum(sec[k], o->reps);
        printf("{\"bench\": \"wht-local\", \"kernel\": \"%s\", \"b\": %d, \"reps\": %d, "
               "\"inner\": %d, \"median_seconds\": %.6g, \"min_seconds\": %.6g, "
               "\"ns_per_point\": %.4g",
               kernel_names[k], b, o->reps, inner, med, mn, med * 1e9 / (double)n);
        if (spex_med > 0)
            printf(", \"vs_spex\": %.3f", med / spex_med);
        if (k == K_FFTW)
            printf(", \"fftw_flags\": \"%s\", \"plan_seconds\": %.6g, "
                   "\"bitwise_equal_spex\": %s, \"max_rel_diff_spex\": %.3g",
                   o->fftw_name, plan_seconds, fftw_equal_spex ? "true" : "false",
                   rel_diff(f_out, x_out, n));
        printf(", \"bitwise_equal_textbook\": %s, \"max_rel_diff_textbook\": %.3g, "
               "\"bytes_model\": \"%d pass%s x read+write x 8 B x 2^%d = %.0f bytes\", "
               "\"effective_gbs\": %.4g, \"effective_gbs_min_time\": %.4g",
               equal[k] ? "true" : "false", diff[k], min_passes(b), min_passes(b) > 1 ? "es" : "",
               b, bytes, bytes / med * 1e-9, bytes / mn * 1e-9);
        /* Medians against medians, minima against minima. */
        if (sr)
            printf(", \"pct_of_stream_best\": %.1f, \"pct_of_stream_triad\": %.1f, "
                   "\"pct_of_stream_best_min_time\": %.1f",
                   100.0 * bytes / med * 1e-9 / sr->best, 100.0 * bytes / med * 1e-9 / sr->triad,
                   100.0 * bytes / mn * 1e-9 / sr->best_max);
        printf("}\n");
    }
    fflush(stdout);
    free(ref);
    free(x);
    free(f);
    free(x_out);
    free(f_out);
}

/* ---- (b) memory bandwidth --------------------------------------------- */

enum { S_COPY, S_SCALE, S_TRIAD, S_COUNT };
static const char *const stream_names[S_COUNT] = {"copy", "scale-in-place", "triad"};
/* STREAM counting: bytes read plus bytes written, per element. */
static const double stream_bytes[S_COUNT] = {16, 16, 24};

/* STREAM on arrays of 2^sb doubles; prints one line per kernel. */
static stream_result bench_stream(const options *o, int sb)
{
    size_t n = (size_t)1 << sb;
    double *a = alloc_doubles(n), *bb = alloc_doubles(n), *c = alloc_doubles(n);
    fill(a, n, 0);
    fill(bb, n, n);
    fill(c, n, 2 * n);
    static double sec[S_COUNT][MAX_REPS];
    const double s = 0.999;
    double sink = 0;
    for (int r = 0; r < o->reps + 1; r++) {
        double t[S_COUNT + 1];
        t[0] = MPI_Wtime();
        for (size_t i = 0; i < n; i++)
            c[i] = a[i];
        t[1] = MPI_Wtime();
        for (size_t i = 0; i < n; i++)
            bb[i] *= s;
        t[2] = MPI_Wtime();
        for (size_t i = 0; i < n; i++)
            a[i] = bb[i] + s * c[i];
        t[3] = MPI_Wtime();
        sink += a[r] + bb[r] + c[r];
        /* The first round warms the pages and the TLB; it is not counted. */
        for (int k = 0; r > 0 && k < S_COUNT; k++)
            sec[k][r - 1] = t[k + 1] - t[k];
    }
    stream_result res = {sb, 0, 0, 0, 0};
    for (int k = 0; k < S_COUNT; k++) {
        double med = median(sec[k], o->reps), mn = minimum(sec[k], o->reps);
        double gbs = stream_bytes[k] * (double)n / med * 1e-9;
        double gbs_max = stream_bytes[k] * (double)n / mn * 1e-9;
        res.best = gbs > res.best ? gbs : res.best;
        res.best_max = gbs_max > res.best_max ? gbs_max : res.best_max;
        if (k == S_TRIAD) {
            res.triad = gbs;
            res.triad_max = gbs_max;
        }
        printf("{\"bench\": \"stream\", \"kernel\": \"%s\", \"b\": %d, \"array_mib\": %.3g, "
               "\"reps\": %d, \"median_seconds\": %.6g, \"min_seconds\": %.6g, \"bytes\": %.0f, "
               "\"gbs\": %.4g, \"gbs_min_time\": %.4g, \"threads\": 1}\n",
               stream_names[k], sb, (double)n * 8 / 1048576.0, o->reps, med, mn,
               stream_bytes[k] * (double)n, gbs, gbs_max);
    }
    if (sink == 12345.678) /* keeps the loops from being optimized away */
        printf("{}\n");
    fflush(stdout);
    free(a);
    free(bb);
    free(c);
    return res;
}

/* ---- (c) the distributed transform ------------------------------------ */

/* A barrier that sleeps while it waits: ranks idling while rank 0 times the
 * local kernel alone must not spin on the other core. */
static void idle_barrier(MPI_Comm comm)
{
    MPI_Request req;
    int done = 0;
    const struct timespec ms = {0, 1000000};
    MPI_Ibarrier(comm, &req);
    for (;;) {
        MPI_Test(&req, &done, MPI_STATUS_IGNORE);
        if (done)
            break;
        nanosleep(&ms, NULL);
    }
}

static void bench_dist(const options *o, MPI_Comm comm)
{
    int rank, size, r = 0;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    while ((1 << r) < size)
        r++;
    int b = o->dist_b;
    if ((1 << r) != size || r > b) {
        if (rank == 0)
            fprintf(stderr,
                    "wht-bench: the distributed transform needs a power-of-two number "
                    "of ranks <= 2^%d, not %d\n",
                    b, size);
        MPI_Abort(comm, 1);
    }
    size_t n = (size_t)1 << b, nloc = n >> r;
    double *x = alloc_doubles(nloc);
    static double dist[MAX_REPS], phase[MAX_REPS], local[MAX_REPS];
    for (int k = 0; k < o->reps; k++) {
        fill(x, nloc, (size_t)rank * nloc);
        MPI_Barrier(comm);
        double t0 = MPI_Wtime();
        if (spex_wht_execute_dist(x, b, comm) != 0) {
            fprintf(stderr, "wht-bench: spex_wht_execute_dist failed on rank %d\n", rank);
            MPI_Abort(comm, 70);
        }
        double t = MPI_Wtime() - t0;
        MPI_Allreduce(&t, &dist[k], 1, MPI_DOUBLE, MPI_MAX, comm);
        /* The local phase alone: what the exchanges add is the rest. */
        fill(x, nloc, (size_t)rank * nloc);
        MPI_Barrier(comm);
        t0 = MPI_Wtime();
        spex_wht_execute(x, b - r);
        t = MPI_Wtime() - t0;
        MPI_Allreduce(&t, &phase[k], 1, MPI_DOUBLE, MPI_MAX, comm);
    }

    /* Bit-for-bit check: gather the distributed result on rank 0. */
    fill(x, nloc, (size_t)rank * nloc);
    spex_wht_execute_dist(x, b, comm);
    double *all = rank == 0 ? alloc_doubles(n) : NULL;
    double *ref = rank == 0 ? alloc_doubles(n) : NULL;
    MPI_Gather(x, (int)nloc, MPI_DOUBLE, all, (int)nloc, MPI_DOUBLE, 0, comm);
    if (rank == 0) {
        for (int k = 0; k < o->reps; k++) {
            fill(ref, n, 0);
            double t0 = MPI_Wtime();
            spex_wht_execute(ref, b);
            local[k] = MPI_Wtime() - t0;
        }
        int equal = memcmp(all, ref, n * sizeof *ref) == 0;
        double dm = median(dist, o->reps), lm = median(local, o->reps);
        double dmin = minimum(dist, o->reps), lmin = minimum(local, o->reps);
        printf("{\"bench\": \"wht-dist\", \"b\": %d, \"ranks\": %d, \"reps\": %d, "
               "\"median_seconds\": %.6g, \"min_seconds\": %.6g, "
               "\"local_phase_median_seconds\": %.6g, \"local_phase_min_seconds\": %.6g, "
               "\"local_kernel_median_seconds\": %.6g, \"local_kernel_min_seconds\": %.6g, "
               "\"speedup_vs_local\": %.3f, \"speedup_vs_local_min_time\": %.3f, "
               "\"bitwise_equal_local\": %s, \"max_rel_diff_local\": %.3g}\n",
               b, size, o->reps, dm, dmin, median(phase, o->reps), minimum(phase, o->reps), lm,
               lmin, lm / dm, lmin / dmin, equal ? "true" : "false", rel_diff(all, ref, n));
        fflush(stdout);
    }
    idle_barrier(comm);
    free(all);
    free(ref);
    free(x);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm comm = MPI_COMM_WORLD;
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    options o;
    int st = parse_options(argc, argv, &o);
    if (st != 0) {
        if (rank == 0)
            print_usage(st > 0 ? stdout : stderr);
        MPI_Finalize();
        return st > 0 ? 0 : 1;
    }
    if (size == 1) {
        stream_result sr[MAX_BS];
        for (int i = 0; i < o.nsb; i++)
            sr[i] = bench_stream(&o, o.stream_bs[i]);
        for (int i = 0; i < o.nb; i++) {
            const stream_result *same = NULL;
            for (int j = 0; j < o.nsb; j++)
                same = sr[j].b == o.bs[i] ? &sr[j] : same;
            bench_local(&o, o.bs[i], same);
        }
    }
    if (o.dist_b > 0)
        bench_dist(&o, comm);
    fftw_cleanup();
    MPI_Finalize();
    return 0;
}
