/* fuzz_h5_struct.c -- structure-aware fuzzing of spex's HDF5 readers.
 *
 * Random bytes rarely make an HDF5 file that opens: its metadata carries
 * checksums.  This harness instead writes a well-formed HDF5 file whose
 * *content* comes from the input, starting from what spex itself writes and
 * letting the input, object by object, keep it, drop it, change its type
 * class (integer, float, string), its width, signedness or byte order, its
 * string padding (fixed or variable length, with or without a terminator),
 * its shape (scalar, 1-D, 2-D, other lengths, an array where a scalar
 * belongs, a huge unwritten chunked extent) or its values (0, -1, extremes,
 * NaN, infinities, raw bits, random text).  Then it runs the reader:
 *
 *   byte 0 % 3 = 0  result file: spex_h5_read_result, then spex_show of every
 *                   output (fourier, mobius, values, interaction indices)
 *   byte 0 % 3 = 1  checkpoint: spex_ckpt_load for a small design
 *   byte 0 % 3 = 2  plan file: spex_plan_check, then the hdf5 oracle
 *                   (spex_oracle_hdf5_create) evaluating every query and
 *                   test row
 *
 * Checks: no memory error (ASan), no undefined behaviour (UBSan), statuses
 * from the documented set (input 2 or I/O 5) with one-line messages, and
 * accepted data within its invariants.  With the input all zero (or empty)
 * every object is kept, and every reader must accept the file.
 */
#include "fuzz_common.h"

#include <hdf5.h>
#include <math.h>

#include "spex.h"

/* ---- input bytes ------------------------------------------------------------ */

typedef struct fz {
    const uint8_t *p;
    size_t n;
} fz;

static unsigned fz_u8(fz *f)
{
    if (f->n == 0)
        return 0;
    f->n--;
    return *f->p++;
}

static uint64_t fz_u64(fz *f)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)fz_u8(f) << (8 * i);
    return v;
}

/* ---- one object: what spex writes, and the input's variation of it ---------- */

typedef enum { C_INT, C_FLOAT, C_STR } vclass;

typedef struct obj {
    vclass cls;
    hid_t itype;            /* file type of C_INT (spex's choice) */
    int ndims;              /* 0: scalar */
    hsize_t dims[2];
    const double *num;      /* default numbers, cycled; NULL: 0, 1, 2, ... */
    const char *const *str; /* default strings, cycled */
    size_t nvals;
} obj;

enum {
    V_KEEP_LAST = 8, /* 0..8: keep as spex writes it */
    V_OMIT,
    V_CLASS,
    V_SHAPE,
    V_VALUE,
    V_VALUE_AND_SHAPE,
    V_TYPE,
    V_ARRAY,
    V_COUNT
};

#define MAX_ELEMS 4096

/* Set when the input changed any object: until then the file is exactly
 * what spex writes, and the reader must accept it. */
static int varied;

static const double SPECIAL[] = {0,           1,           -1,          2,
                                 16,          17,          255,         -2147483648.0,
                                 2147483647.0, 4294967296.0, 1e18,      -1e18,
                                 NAN,         INFINITY,    -INFINITY,   0.5,
                                 1e308,       -0.0,        9.2233720368547758e18, 65536};

static double fz_number(fz *f)
{
    unsigned k = fz_u8(f);
    if (k < 160)
        return SPECIAL[k % (sizeof SPECIAL / sizeof SPECIAL[0])];
    if (k < 224)
        return (double)(int8_t)fz_u8(f);
    uint64_t bits = fz_u64(f);
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

/* Integers come from doubles: clamp what int64 cannot hold (no UB here). */
static int64_t to_i64(double v)
{
    if (isnan(v))
        return 0;
    if (v >= 9.2e18)
        return INT64_MAX;
    if (v <= -9.2e18)
        return INT64_MIN;
    return (int64_t)v;
}

/* Writes object `name` (an attribute of loc when is_attr, else a dataset
 * at path name in loc) as o, varied by the input. */
static void put(hid_t loc, const char *name, int is_attr, obj o, fz *f)
{
    unsigned v = fz_u8(f) % V_COUNT;
    if (v > V_KEEP_LAST)
        varied = 1;
    if (v == V_OMIT)
        return;
    vclass cls = o.cls;
    int nd = o.ndims, override = 0, big = 0, tv = -1;
    hsize_t dims[2] = {o.dims[0], o.dims[1]};
    if (v == V_CLASS)
        cls = (vclass)((cls + 1 + fz_u8(f) % 2) % 3);
    if (v == V_SHAPE || v == V_VALUE_AND_SHAPE) {
        unsigned s = fz_u8(f);
        switch (s % 6) {
        case 0: nd = 0; break;
        case 1: nd = 1; dims[0] = s >> 3; break;
        case 2: nd = 2; dims[0] = (s >> 3) % 8; dims[1] = fz_u8(f) % 20; break;
        case 3: /* one more or one less row */
            if (nd == 0)
                nd = 1, dims[0] = 1;
            dims[0] = (s & 8) ? dims[0] + 1 : (dims[0] ? dims[0] - 1 : 0);
            break;
        case 4: /* another width */
            if (nd == 2)
                dims[1] = fz_u8(f) % 20;
            else
                nd = 2, dims[1] = 1 + fz_u8(f) % 4;
            break;
        case 5: /* declared huge, never written: reading it materializes fill */
            if (!is_attr) {
                big = 1;
                if (nd == 0)
                    nd = 1;
                dims[0] = (hsize_t)1 << (16 + fz_u8(f) % 40);
            }
            break;
        }
    }
    if (v == V_VALUE || v == V_VALUE_AND_SHAPE)
        override = 1;
    if (v == V_TYPE)
        tv = (int)fz_u8(f);
    if (v == V_ARRAY && nd == 0)
        nd = 1, dims[0] = 2 + fz_u8(f) % 40;
    if (nd == 1)
        dims[1] = 1;
    hsize_t count = nd == 0 ? 1 : nd == 1 ? dims[0] : dims[0] * dims[1];
    if (!big && count > MAX_ELEMS) {
        dims[0] = nd == 2 && dims[1] > 0 ? MAX_ELEMS / dims[1] : MAX_ELEMS;
        count = nd == 2 ? dims[0] * dims[1] : dims[0];
    }

    /* The file type. */
    hid_t ftype = -1, mtype = -1;
    int vlen = 0;
    size_t slen = 1; /* fixed string size */
    char **strs = NULL;
    void *buf = NULL;
    if (cls == C_INT) {
        static const hid_t *const itypes[] = {&H5T_STD_I8LE_g,  &H5T_STD_U8LE_g,  &H5T_STD_I16LE_g,
                                              &H5T_STD_U32LE_g, &H5T_STD_I64LE_g, &H5T_STD_U64LE_g,
                                              &H5T_STD_I32BE_g, &H5T_STD_I32LE_g};
        H5open();
        ftype = H5Tcopy(tv >= 0 ? *itypes[tv % 8] : (o.itype >= 0 ? o.itype : H5T_STD_I32LE));
        mtype = H5Tcopy(H5T_NATIVE_INT64);
    } else if (cls == C_FLOAT) {
        ftype = H5Tcopy(tv >= 0 ? ((tv & 1) ? H5T_IEEE_F32LE : H5T_IEEE_F64BE) : H5T_IEEE_F64LE);
        mtype = H5Tcopy(H5T_NATIVE_DOUBLE);
    } else {
        /* Strings: the defaults, numbers as text, or the input's bytes. */
        size_t n = big ? 1 : (size_t)count;
        strs = calloc(n ? n : 1, sizeof *strs);
        for (size_t i = 0; i < n; i++) {
            char tmp[128];
            const char *s = tmp;
            if (override) {
                size_t len = fz_u8(f) % 80;
                for (size_t j = 0; j < len; j++)
                    tmp[j] = (char)(fz_u8(f) | 1); /* no NUL inside */
                tmp[len] = '\0';
            } else if (o.str != NULL) {
                s = o.str[i % o.nvals];
            } else if (o.num != NULL) {
                snprintf(tmp, sizeof tmp, "%g", o.num[i % o.nvals]);
            } else {
                snprintf(tmp, sizeof tmp, "%zu", i);
            }
            strs[i] = strdup(s);
            if (strlen(s) + 1 > slen)
                slen = strlen(s) + 1;
        }
        vlen = tv >= 0 && (tv & 3) == 1;
        ftype = H5Tcopy(H5T_C_S1);
        mtype = H5Tcopy(H5T_C_S1);
        /* spex writes UTF-8; h5py's fixed-length bytes are ASCII. */
        H5T_cset_t cset = tv >= 0 && (tv & 4) ? H5T_CSET_ASCII : H5T_CSET_UTF8;
        H5Tset_cset(ftype, cset);
        H5Tset_cset(mtype, cset);
        if (vlen) {
            H5Tset_size(ftype, H5T_VARIABLE);
            H5Tset_size(mtype, H5T_VARIABLE);
        } else {
            /* tv & 3 == 2: no room for the terminator (NULLPAD);
             * tv & 3 == 3: space padded. */
            size_t fsize = tv >= 0 && (tv & 3) == 2 && slen > 2 ? slen - 1 : slen;
            H5Tset_size(ftype, fsize);
            H5Tset_strpad(ftype, tv >= 0 && (tv & 3) == 2   ? H5T_STR_NULLPAD
                                 : tv >= 0 && (tv & 3) == 3 ? H5T_STR_SPACEPAD
                                                            : H5T_STR_NULLTERM);
            H5Tset_size(mtype, slen);
        }
    }

    if (!big) {
        size_t n = (size_t)count;
        if (cls == C_STR) {
            if (vlen) {
                buf = strs;
            } else {
                buf = calloc(n ? n : 1, slen);
                for (size_t i = 0; i < n; i++)
                    memcpy((char *)buf + i * slen, strs[i], strlen(strs[i]));
            }
        } else {
            buf = malloc((n ? n : 1) * 8);
            for (size_t i = 0; i < n; i++) {
                double x = override ? fz_number(f)
                           : o.num != NULL ? o.num[i % o.nvals]
                                           : (double)i;
                if (cls == C_INT)
                    ((int64_t *)buf)[i] = to_i64(x);
                else
                    ((double *)buf)[i] = x;
            }
        }
    }

    hid_t space = nd == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(nd, dims, NULL);
    if (is_attr) {
        hid_t a = H5Acreate2(loc, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
        if (a >= 0 && count > 0)
            H5Awrite(a, mtype, buf);
        if (a >= 0)
            H5Aclose(a);
    } else {
        hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
        if (big) {
            hsize_t chunk[2] = {1024, dims[1] ? dims[1] : 1};
            H5Pset_chunk(dcpl, nd, chunk);
        }
        hid_t d = H5Dcreate2(loc, name, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        if (d >= 0 && !big && count > 0)
            H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
        if (d >= 0)
            H5Dclose(d);
        H5Pclose(dcpl);
    }
    H5Sclose(space);
    H5Tclose(ftype);
    H5Tclose(mtype);
    int buf_is_strs = buf == (void *)strs;
    if (strs != NULL) {
        for (size_t i = 0; i < (big ? 1 : (size_t)count); i++)
            free(strs[i]);
        free(strs);
    }
    if (!buf_is_strs)
        free(buf);
}

static obj o_int(hid_t t, double v)
{
    static double store[64];
    static int at = 0;
    double *p = &store[at++ % 64];
    *p = v;
    obj o = {C_INT, t, 0, {1, 1}, p, NULL, 1};
    return o;
}

static obj o_float(double v)
{
    obj o = o_int(-1, v);
    o.cls = C_FLOAT;
    return o;
}

static obj o_str(const char *const *s)
{
    obj o = {C_STR, -1, 0, {1, 1}, NULL, s, 1};
    return o;
}

static obj o_rows(vclass cls, hid_t t, hsize_t rows, hsize_t width, const double *v, size_t nv)
{
    obj o = {cls, t, width ? 2 : 1, {rows, width ? width : 1}, v, NULL, nv};
    return o;
}

static hid_t group(hid_t fid, const char *name)
{
    return H5Gcreate2(fid, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
}

/* ---- the three files -------------------------------------------------------- */

#define N_FEAT 12
#define MAX_ORDER 2
#define CK_STUDY "; fuzz study\n[study]\nname = fuzz\n"

static const char *const S_RESULT[] = {"spex-result"};
static const char *const S_CKPT[] = {"spex-checkpoint"};
static const char *const S_PLAN[] = {"spex-plan"};
static const char *const S_VERSION[] = {"0.1.0"};
static const char *const S_SPEX[] = {"spex"};
static const char *const S_CREATED[] = {"2024-01-01T00:00:00Z"};
static const char *const S_OLS[] = {"ols"};
static const char *const S_BCH[] = {"bch"};
static const char *const S_CONFIG[] = {"[study]\nname = fuzz\n[features]\nn = 12\n"};
static const char *const S_NAMES[] = {"alpha", "beta", "gamma", "delta", "eps", "zeta",
                                      "eta", "theta", "iota", "kappa", "lambda", "mu"};
static const char *const S_STAGES[] = {"design", "evaluate", "transform", "decode",
                                       "refine", "assess", "write"};
static const char *const S_CK_STUDY[] = {CK_STUDY};

static const double TERM_ORDER[] = {2, 1, 0, 2};
static const double TERM_FEAT[] = {3, 7, 11, -1, -1, -1, 0, 11};
static const double TERM_COEF[] = {1.5, -0.75, 0.25, 0.125};

static void write_spectrum(hid_t fid, const char *g, fz *f)
{
    char name[64];
    hid_t gid = group(fid, g);
    snprintf(name, sizeof name, "%s/order", g);
    put(fid, name, 0, o_rows(C_INT, H5T_STD_I32LE, 4, 0, TERM_ORDER, 4), f);
    snprintf(name, sizeof name, "%s/features", g);
    put(fid, name, 0, o_rows(C_INT, H5T_STD_I32LE, 4, MAX_ORDER, TERM_FEAT, 8), f);
    snprintf(name, sizeof name, "%s/coef", g);
    put(fid, name, 0, o_rows(C_FLOAT, -1, 4, 0, TERM_COEF, 4), f);
    if (gid >= 0)
        H5Gclose(gid);
}

static void write_result(hid_t fid, fz *f)
{
    put(fid, "format", 1, o_str(S_RESULT), f);
    put(fid, "format_version", 1, o_int(H5T_STD_I32LE, 1), f);
    put(fid, "spex_version", 1, o_str(S_VERSION), f);
    put(fid, "method", 1, o_str(S_SPEX), f);
    put(fid, "n_features", 1, o_int(H5T_STD_I32LE, N_FEAT), f);
    put(fid, "max_order", 1, o_int(H5T_STD_I32LE, MAX_ORDER), f);
    put(fid, "queries", 1, o_int(H5T_STD_U64LE, 40), f);
    put(fid, "seed", 1, o_int(H5T_STD_I64LE, 1), f);
    put(fid, "ranks", 1, o_int(H5T_STD_I32LE, 1), f);
    put(fid, "created", 1, o_str(S_CREATED), f);
    put(fid, "wall_seconds", 1, o_float(0.5), f);
    put(fid, "faithfulness_r2", 1, o_float(0.99), f);
    put(fid, "test_queries", 1, o_int(H5T_STD_U64LE, 4), f);
    put(fid, "refine", 1, o_str(S_OLS), f);
    put(fid, "b", 1, o_int(H5T_STD_I32LE, 3), f);
    put(fid, "groups", 1, o_int(H5T_STD_I32LE, 1), f);
    put(fid, "delays", 1, o_str(S_BCH), f);
    put(fid, "delays_count", 1, o_int(H5T_STD_I32LE, 5), f);
    put(fid, "n_terms", 1, o_int(H5T_STD_U64LE, 4), f);

    hid_t g = group(fid, "/study");
    put(fid, "/study/config", 0, o_str(S_CONFIG), f);
    H5Gclose(g);
    write_spectrum(fid, "/fourier", f);
    g = group(fid, "/features");
    obj names = {C_STR, -1, 1, {N_FEAT, 1}, NULL, S_NAMES, N_FEAT};
    put(fid, "/features/name", 0, names, f);
    H5Gclose(g);

    g = group(fid, "/diagnostics");
    static const double secs[] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, NAN};
    put(fid, "/diagnostics/stage_seconds", 0, o_rows(C_FLOAT, -1, 7, 0, secs, 7), f);
    put(g, "peel_rounds", 1, o_int(H5T_STD_I32LE, 2), f);
    put(g, "bins_zero", 1, o_int(H5T_STD_U64LE, 4), f);
    put(g, "bins_single", 1, o_int(H5T_STD_U64LE, 3), f);
    put(g, "bins_multi", 1, o_int(H5T_STD_U64LE, 1), f);
    put(g, "bins_unresolved", 1, o_int(H5T_STD_U64LE, 0), f);
    put(g, "noise_sigma", 1, o_float(0), f);
    put(g, "r2_peeled", 1, o_float(0.9), f);
    hid_t d = H5Dopen2(fid, "/diagnostics/stage_seconds", H5P_DEFAULT);
    if (d >= 0) {
        obj st = {C_STR, -1, 1, {7, 1}, NULL, S_STAGES, 7};
        put(d, "stage_names", 1, st, f);
        H5Dclose(d);
    }
    H5Gclose(g);

    write_spectrum(fid, "/mobius", f);
    g = group(fid, "/values");
    static const double vals[] = {0.5, -0.25, 0, 1e-3};
    put(fid, "/values/shapley", 0, o_rows(C_FLOAT, -1, N_FEAT, 0, vals, 4), f);
    put(fid, "/values/banzhaf", 0, o_rows(C_FLOAT, -1, N_FEAT, 0, vals, 4), f);
    H5Gclose(g);
    g = group(fid, "/indices");
    put(g, "order", 1, o_int(H5T_STD_I32LE, 2), f);
    static const char *const idx[] = {"/indices/sii", "/indices/stii", "/indices/fsii",
                                      "/indices/banzhaf", "/indices/fbii"};
    for (int i = 0; i < 5; i++)
        write_spectrum(fid, idx[i], f);
    H5Gclose(g);
}

/* The checkpoint's design: n = 12, b = 3, one group, t = 1, BCH delays. */
static spex_design *ck_design;
static spex_layout ck_layout;
static uint64_t ck_queries;

static void write_ckpt(hid_t fid, fz *f)
{
    put(fid, "format", 1, o_str(S_CKPT), f);
    put(fid, "format_version", 1, o_int(H5T_STD_I32LE, 1), f);
    put(fid, "queries", 1, o_int(H5T_STD_U64LE, (double)ck_queries), f);
    put(fid, "/study", 0, o_str(S_CK_STUDY), f);
    static const double vals[] = {0.5, NAN, -2, 1e-300, NAN, 3};
    put(fid, "/values", 0, o_rows(C_FLOAT, -1, ck_queries, 0, vals, 6), f);
}

/* The plan's study and its rows, made once. */
static spex_config plan_cfg;
static spex_plan_params plan_params;
static double *plan_qmasks, *plan_tmasks; /* bytes as doubles, for put() */
static size_t plan_nbytes;

/* An exact uint64 attribute (put() goes through a double). */
static void put_u64(hid_t fid, const char *name, uint64_t v)
{
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(fid, name, H5T_STD_U64LE, space, H5P_DEFAULT, H5P_DEFAULT);
    if (a >= 0) {
        H5Awrite(a, H5T_NATIVE_UINT64, &v);
        H5Aclose(a);
    }
    H5Sclose(space);
}

/* The plan's masks_hash of rows rows of plan_nbytes bytes (as doubles). */
static uint64_t plan_hash(const double *rows, uint64_t nrows)
{
    uint8_t bytes[(N_FEAT + 7) / 8];
    uint64_t h = 0;
    for (uint64_t r = 0; r < nrows; r++) {
        for (size_t j = 0; j < plan_nbytes; j++)
            bytes[j] = (uint8_t)rows[r * plan_nbytes + j];
        h ^= spex_plan_row_hash(r, bytes, plan_nbytes);
    }
    return h;
}

static void write_plan(hid_t fid, fz *f)
{
    const spex_plan_params *p = &plan_params;
    static const char *const S_LAYOUT[] = {"feature i is bit i%8 of byte i/8"};
    static const char *const S_STUDY_NAME[] = {"fuzz"};
    put(fid, "format", 1, o_str(S_PLAN), f);
    put(fid, "format_version", 1, o_int(H5T_STD_I32LE, SPEX_PLAN_FORMAT_VERSION), f);
    put(fid, "spex_version", 1, o_str(S_VERSION), f);
    put(fid, "study", 1, o_str(S_STUDY_NAME), f);
    put_u64(fid, "masks_hash", plan_hash(plan_qmasks, p->queries));
    put_u64(fid, "test_masks_hash", plan_hash(plan_tmasks, p->test_masks));
    put(fid, "created", 1, o_str(S_CREATED), f);
    put(fid, "method", 1, o_str(S_SPEX), f);
    put(fid, "n_features", 1, o_int(H5T_STD_I32LE, p->n), f);
    put(fid, "mask_bytes", 1, o_int(H5T_STD_I32LE, (double)plan_nbytes), f);
    put(fid, "b", 1, o_int(H5T_STD_I32LE, p->b), f);
    put(fid, "groups", 1, o_int(H5T_STD_I32LE, p->groups), f);
    put(fid, "max_order", 1, o_int(H5T_STD_I32LE, p->max_order), f);
    put(fid, "delays", 1, o_str(S_BCH), f);
    put(fid, "delays_count", 1, o_int(H5T_STD_I32LE, p->delays_count), f);
    put(fid, "queries", 1, o_int(H5T_STD_U64LE, (double)p->queries), f);
    put(fid, "seed", 1, o_int(H5T_STD_I64LE, (double)p->seed), f);
    put(fid, "test_masks", 1, o_int(H5T_STD_U64LE, (double)p->test_masks), f);
    put(fid, "test_id_base", 1, o_int(H5T_STD_U64LE, (double)SPEX_TEST_ID_BASE), f);
    put(fid, "mask_layout", 1, o_str(S_LAYOUT), f);
    hid_t g = group(fid, "/study");
    put(fid, "/study/config", 0, o_str(S_CONFIG), f);
    H5Gclose(g);
    static const double vals[] = {0.25, -1, 3.5, 0, 1e-9};
    g = group(fid, "/queries");
    put(fid, "/queries/masks", 0,
        o_rows(C_INT, H5T_STD_U8LE, p->queries, plan_nbytes, plan_qmasks,
               (size_t)p->queries * plan_nbytes),
        f);
    put(fid, "/queries/values", 0, o_rows(C_FLOAT, -1, p->queries, 0, vals, 5), f);
    H5Gclose(g);
    g = group(fid, "/test");
    put(fid, "/test/masks", 0,
        o_rows(C_INT, H5T_STD_U8LE, p->test_masks, plan_nbytes, plan_tmasks,
               (size_t)p->test_masks * plan_nbytes),
        f);
    put(fid, "/test/values", 0, o_rows(C_FLOAT, -1, p->test_masks, 0, vals, 5), f);
    H5Gclose(g);
}

/* ---- the readers ------------------------------------------------------------ */

static FILE *devnull;

static void read_result(const char *path)
{
    spex_result r;
    spex_error err;
    spex_error_clear(&err);
    spex_status st = spex_h5_read_result(path, &r, &err);
    fuzz_check_status(st, &err, FUZZ_CODE(SPEX_EINPUT) | FUZZ_CODE(SPEX_EIO),
                      "spex_h5_read_result");
    FUZZ_ASSERT(varied || st == SPEX_OK, "spex's own result file refused: %s", err.msg);
    if (st != SPEX_OK)
        return;
    FUZZ_ASSERT(r.max_order >= 0 && r.max_order <= SPEX_MAX_ORDER && r.n_features >= 0,
                "accepted max_order %d, n_features %d", r.max_order, r.n_features);
    for (size_t i = 0; i < r.fourier.count; i++) {
        const spex_term *t = &r.fourier.terms[i];
        FUZZ_ASSERT(t->order >= 0 && t->order <= r.max_order, "term %zu order %d", i,
                    (int)t->order);
        for (int q = 0; q < t->order; q++)
            FUZZ_ASSERT(t->feat[q] >= 0 && t->feat[q] < r.n_features, "term %zu feature %d", i,
                        (int)t->feat[q]);
    }
    spex_result_free(&r);
    static const char *const outputs[] = {NULL,  "mobius", "shapley", "banzhaf-values", "sii",
                                          "stii", "fsii",  "banzhaf", "fbii"};
    for (size_t i = 0; i < sizeof outputs / sizeof outputs[0]; i++) {
        spex_error_clear(&err);
        st = spex_show(path, 0, outputs[i], devnull, &err);
        fuzz_check_status(st, &err, FUZZ_CODE(SPEX_EINPUT) | FUZZ_CODE(SPEX_EIO), "spex_show");
        FUZZ_ASSERT(varied || st == SPEX_OK, "spex show refused spex's own file: %s", err.msg);
    }
}

static void read_ckpt(const char *path)
{
    size_t held = spex_layout_count(&ck_layout);
    double *sig = malloc(held * sizeof *sig);
    spex_ckpt ck = {path, CK_STUDY, 0, 0};
    spex_error err;
    spex_error_clear(&err);
    spex_status st = spex_ckpt_load(MPI_COMM_SELF, &ck, ck_design, &ck_layout, sig, &err);
    fuzz_check_status(st, &err, FUZZ_CODE(SPEX_EINPUT), "spex_ckpt_load");
    FUZZ_ASSERT(varied || (st == SPEX_OK && ck.resumed > 0), "spex's own checkpoint refused: %s",
                err.msg);
    if (st == SPEX_OK)
        FUZZ_ASSERT(ck.resumed <= ck_queries, "resumed %llu of %llu",
                    (unsigned long long)ck.resumed, (unsigned long long)ck_queries);
    free(sig);
}

static void read_plan(const char *path)
{
    spex_plan_params got;
    spex_error err;
    spex_error_clear(&err);
    snprintf(plan_cfg.values, sizeof plan_cfg.values, "%s", path);
    spex_status st = spex_plan_check(MPI_COMM_SELF, &plan_cfg, path, &got, &err);
    fuzz_check_status(st, &err, FUZZ_CODE(SPEX_EINPUT) | FUZZ_CODE(SPEX_EIO), "spex_plan_check");
    FUZZ_ASSERT(varied || st == SPEX_OK, "a complete plan refused: %s", err.msg);
    if (st != SPEX_OK)
        return;
    FUZZ_ASSERT(got.queries == plan_params.queries && got.n == plan_params.n,
                "accepted a plan of another design");
    spex_oracle *o = NULL;
    spex_error_clear(&err);
    st = spex_oracle_create(MPI_COMM_SELF, &plan_cfg, &o, &err);
    fuzz_check_status(st, &err, FUZZ_CODE(SPEX_EINPUT) | FUZZ_CODE(SPEX_EIO), "hdf5 oracle");
    if (st != SPEX_OK)
        return;
    size_t words = spex_mask_words(plan_cfg.n), bins = spex_design_bins(ck_design);
    uint64_t *masks = calloc(bins * words, sizeof *masks);
    double *values = malloc(bins * sizeof *values);
    /* The design's queries, one signal per call, then the test rows. */
    for (size_t s = 0; st == SPEX_OK && s < spex_design_signals(ck_design); s++) {
        spex_design_masks(ck_design, (int)(s / (size_t)(ck_design->P + 1)),
                          (int)(s % (size_t)(ck_design->P + 1)), 0, bins, masks);
        st = spex_oracle_eval(o, bins, masks, s * bins, values, &err);
    }
    for (uint64_t i = 0; st == SPEX_OK && i < plan_params.test_masks; i++) {
        memset(masks, 0, words * sizeof *masks);
        spex_assess_mask((uint64_t)plan_cfg.seed, plan_cfg.n, i, masks);
        st = spex_oracle_eval(o, 1, masks, SPEX_TEST_ID_BASE + i, values, &err);
    }
    fuzz_check_status(st, &err, FUZZ_CODE(SPEX_EINPUT) | FUZZ_CODE(SPEX_EIO),
                      "hdf5 oracle eval");
    FUZZ_ASSERT(varied || st == SPEX_OK, "the values of a complete plan refused: %s", err.msg);
    spex_oracle_destroy(o);
    free(masks);
    free(values);
}

/* ---- libFuzzer -------------------------------------------------------------- */

static void write_file(const char *path, unsigned mode, fz *f);
static void read_file(const char *path, unsigned mode);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_mpi_init(argc, argv);
    devnull = fopen("/dev/null", "w");
    spex_error err;
    spex_error_clear(&err);
    /* The checkpoint's and the plan's design are the same. */
    if (spex_design_create(N_FEAT, 3, 1, 1, SPEX_DELAYS_BCH, 1, &ck_design, &err) != SPEX_OK)
        FUZZ_FAIL("design: %s", err.msg);
    spex_layout_of(ck_design, 1, 0, 1, &ck_layout);
    ck_queries = spex_design_queries(ck_design);

    spex_config_defaults(&plan_cfg);
    static const char *const sets[] = {"features.n=12",  "oracle.kind=hdf5", "method.name=spex",
                                       "method.b=3",     "method.groups=1",  "method.max_order=1",
                                       "output.test_masks=4", "study.seed=1"};
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
        if (spex_config_set(&plan_cfg, sets[i], &err) != SPEX_OK)
            FUZZ_FAIL("%s", err.msg);
    if (spex_config_finish(&plan_cfg, &err) != SPEX_OK ||
        spex_plan_params_of(&plan_cfg, &plan_params, &err) != SPEX_OK)
        FUZZ_FAIL("%s", err.msg);
    FUZZ_ASSERT(plan_params.queries == ck_queries, "plan and checkpoint designs differ");

    plan_nbytes = (N_FEAT + 7) / 8;
    size_t words = spex_mask_words(N_FEAT), bins = spex_design_bins(ck_design);
    uint64_t *m = calloc(words, sizeof *m);
    uint8_t bytes[8];
    plan_qmasks = malloc(ck_queries * plan_nbytes * sizeof *plan_qmasks);
    plan_tmasks = malloc(plan_params.test_masks * plan_nbytes * sizeof *plan_tmasks);
    for (uint64_t q = 0; q < ck_queries; q++) {
        uint64_t s = q / bins, l = q % bins;
        spex_design_masks(ck_design, (int)(s / (uint64_t)(ck_design->P + 1)),
                          (int)(s % (uint64_t)(ck_design->P + 1)), l, 1, m);
        spex_mask_to_bytes(m, N_FEAT, bytes);
        for (size_t j = 0; j < plan_nbytes; j++)
            plan_qmasks[q * plan_nbytes + j] = bytes[j];
    }
    for (uint64_t i = 0; i < plan_params.test_masks; i++) {
        memset(m, 0, words * sizeof *m);
        spex_assess_mask(1, N_FEAT, i, m);
        spex_mask_to_bytes(m, N_FEAT, bytes);
        for (size_t j = 0; j < plan_nbytes; j++)
            plan_tmasks[i * plan_nbytes + j] = bytes[j];
    }
    free(m);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    /* SPEX_FUZZ_WRITE_SEEDS=DIR: write the three files spex would write
     * (the all-keep input) as DIR/{result,ckpt,plan}.h5 and stop. */
    const char *seeds = getenv("SPEX_FUZZ_WRITE_SEEDS");
    if (seeds != NULL) {
        static const char *const names[] = {"result.h5", "ckpt.h5", "plan.h5"};
        for (unsigned mode = 0; mode < 3; mode++) {
            char path[1024];
            fz none = {NULL, 0};
            varied = 0;
            snprintf(path, sizeof path, "%s/%s", seeds, names[mode]);
            write_file(path, mode, &none);
            read_file(path, mode); /* must be accepted */
        }
        exit(0);
    }
    return 0;
}

/* Writes the file of mode (0 result, 1 checkpoint, 2 plan) from the input
 * bytes f; the empty input gives the file spex itself would write. */
static void write_file(const char *path, unsigned mode, fz *f)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST);
    hid_t fid = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (fid < 0)
        FUZZ_FAIL("cannot create %s", path);
    if (mode == 0)
        write_result(fid, f);
    else if (mode == 1)
        write_ckpt(fid, f);
    else
        write_plan(fid, f);
    if (H5Fclose(fid) < 0)
        FUZZ_FAIL("cannot close %s", path);
    H5Eclear2(H5E_DEFAULT);
}

static void read_file(const char *path, unsigned mode)
{
    if (mode == 0)
        read_result(path);
    else if (mode == 1)
        read_ckpt(path);
    else
        read_plan(path);
    /* A reader must close what it opens: an object left open keeps the
     * file open (HDF5's default close degree), and a long-lived process
     * (a library user) would leak handles and memory. */
    ssize_t open_ids = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
    if (open_ids != 0) {
        hid_t ids[16];
        ssize_t k = H5Fget_obj_ids(H5F_OBJ_ALL, H5F_OBJ_ALL, 16, ids);
        for (ssize_t i = 0; i < k; i++) {
            char name[256] = "?";
            H5Iget_name(ids[i], name, sizeof name);
            fprintf(stderr, "open HDF5 object %lld: type %d, name %s\n", (long long)ids[i],
                    (int)H5Iget_type(ids[i]), name);
        }
        FUZZ_FAIL("the %s reader left %zd HDF5 objects open",
                  mode == 0 ? "result" : mode == 1 ? "checkpoint" : "plan", open_ids);
    }
    /* spex restores HDF5's printing after each read: keep it quiet. */
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

#ifdef FUZZ_H5_RAW
/* The raw harnesses (fuzz_h5_result, fuzz_h5_ckpt, fuzz_h5_plan): this
 * file compiled with FUZZ_H5_RAW = the mode; the input is the file. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 262144)
        return 0;
    varied = 1;
    read_file(fuzz_write_file("raw.h5", data, size), FUZZ_H5_RAW);
    return 0;
}
#else
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0;
    fz f = {data, size};
    unsigned mode = fz_u8(&f) % 3;
    varied = 0;
    const char *path = fuzz_path("struct.h5");
    write_file(path, mode, &f);
    read_file(path, mode);
    return 0;
}
#endif
