/* h5io.c -- the result file: written collectively with parallel HDF5, read
 * back serially.
 *
 * Layout (format "spex-result", format_version 1; doc/file-formats.md is
 * the reference for users): root attributes with the run's metadata, the
 * effective study as the scalar string dataset /study/config, the ranked
 * spectrum as the row datasets /fourier/{order,features,coef}, the feature
 * names as /features/name when known, and /diagnostics (the dataset
 * stage_seconds with the stage names as its attribute, plus scalar
 * attributes for peeling).
 *
 * Writing is collective: every rank holds the same result; rank q writes
 * rows [K q / size, K (q + 1) / size) of each row dataset in one collective
 * transfer, and every rank writes the same attribute values (parallel HDF5
 * requires metadata to be identical everywhere).  Two facts of HDF5 1.10
 * shape the file: variable-length strings cannot be written in parallel, so
 * every string is fixed-length; attributes over 64 KiB fail, so the study
 * text is a dataset.  The file is written under "<path>.tmp-<pid of rank
 * 0>" and renamed to path only after every rank finished without error, so
 * a file at path is always complete and an older file there survives a
 * failed write.
 *
 * HDF5 calls never sit in a branch only some ranks take: the ranks agree on
 * errors (spex_error_agree) after creating the file, after creating the
 * layout, and at the end, so a failure on one rank cannot leave another
 * waiting in a collective.  The collective writer, the publishing of the
 * temporary file and the attribute readers are shared with the plan and
 * checkpoint files (h5util.c); what is here is the result's own layout.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* getpid */
#endif

#include "spex/h5io.h"

#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spex.h"
#include "spex/h5util.h"

#define FORMAT_NAME "spex-result"
#define FORMAT_VERSION 1

/* ---- writing ------------------------------------------------------------ */

/* This rank's rows, packed the way the datasets store them. */
typedef struct h5w_slice {
    uint64_t lo, hi;      /* terms */
    int32_t *order;
    int32_t *features;    /* (hi - lo) x width, padded with -1 */
    double *coef;
    uint64_t name_lo, name_hi;
    char *names;          /* (name_hi - name_lo) x name_len, NUL-padded */
    size_t name_len;      /* bytes per name, NUL included */
    uint64_t pos_lo, pos_hi;
    char *chroms;         /* (pos_hi - pos_lo) x chrom_len, NUL-padded */
    size_t chrom_len;     /* bytes per chromosome, NUL included */
    uint64_t stage_lo, stage_hi;
} h5w_slice;

static void h5w_slice_free(h5w_slice *s)
{
    free(s->order);
    free(s->features);
    free(s->coef);
    free(s->names);
    free(s->chroms);
}

/* Local.  Packs this rank's rows of /features/chromosome (the width from
 * all of them, so that the type is the same on every rank); nothing when
 * r has no positions. */
static spex_status h5w_slice_pack_positions(const spex_result *r, int rank, int size,
                                            h5w_slice *s, spex_error *err)
{
    spex_status st = SPEX_OK;
    if (r->positions == NULL)
        return SPEX_OK;
    if (r->chromosomes == NULL)
        return spex_error_set(err, SPEX_EINTERNAL, "result has positions but no chromosomes");
    size_t longest = 1;
    for (int i = 0; i < r->n_features; i++) {
        if (r->chromosomes[i] == NULL)
            return spex_error_set(err, SPEX_EINTERNAL, "result chromosome %d is NULL", i);
        size_t len = strlen(r->chromosomes[i]);
        longest = len > longest ? len : longest;
    }
    s->chrom_len = longest + 1;
    spex_h5_block_range((uint64_t)r->n_features, rank, size, &s->pos_lo, &s->pos_hi);
    size_t nrows = (size_t)(s->pos_hi - s->pos_lo);
    s->chroms = calloc((nrows ? nrows : 1) * s->chrom_len, 1);
    SPEX_ALLOC_CHECK(s->chroms, err, "the feature chromosomes");
    for (size_t i = 0; i < nrows; i++)
        memcpy(s->chroms + i * s->chrom_len, r->chromosomes[s->pos_lo + i],
               strlen(r->chromosomes[s->pos_lo + i]));
out:
    return st;
}

/* Local.  Checks this rank's rows of r (a bad term is a bug of the caller:
 * the reader would reject the file) and packs them. */
static spex_status h5w_slice_pack(const spex_result *r, int rank, int size, hsize_t width,
                                  h5w_slice *s, spex_error *err)
{
    spex_status st = SPEX_OK;
    spex_h5_block_range(r->fourier.count, rank, size, &s->lo, &s->hi);
    size_t rows = (size_t)(s->hi - s->lo);
    s->order = malloc((rows ? rows : 1) * sizeof *s->order);
    s->features = malloc((rows ? rows : 1) * (size_t)width * sizeof *s->features);
    s->coef = malloc((rows ? rows : 1) * sizeof *s->coef);
    SPEX_ALLOC_CHECK(s->order, err, "the result rows");
    SPEX_ALLOC_CHECK(s->features, err, "the result rows");
    SPEX_ALLOC_CHECK(s->coef, err, "the result rows");
    for (size_t i = 0; i < rows; i++) {
        const spex_term *t = &r->fourier.terms[s->lo + i];
        if (t->order < 0 || t->order > r->max_order) {
            st = spex_error_set(err, SPEX_EINTERNAL,
                                "result term %llu has order %d, max_order is %d",
                                (unsigned long long)(s->lo + i), (int)t->order, r->max_order);
            goto out;
        }
        for (int j = 0; j < (int)width; j++) {
            int32_t f = j < t->order ? t->feat[j] : -1;
            if (j < t->order && (f < 0 || f >= r->n_features || (j > 0 && f <= t->feat[j - 1]))) {
                st = spex_error_set(err, SPEX_EINTERNAL,
                                    "result term %llu: features are not ascending indices "
                                    "below n_features %d",
                                    (unsigned long long)(s->lo + i), r->n_features);
                goto out;
            }
            s->features[i * width + (size_t)j] = f;
        }
        s->order[i] = t->order;
        s->coef[i] = t->coef;
    }

    spex_h5_block_range(SPEX_STAGE_COUNT, rank, size, &s->stage_lo, &s->stage_hi);

    SPEX_CHECK(h5w_slice_pack_positions(r, rank, size, s, err));
    if (r->names == NULL)
        goto out;
    /* Every rank computes the width from all names, so the dataset type is
     * the same everywhere. */
    size_t longest = 1;
    for (int i = 0; i < r->n_features; i++) {
        if (r->names[i] == NULL) {
            st = spex_error_set(err, SPEX_EINTERNAL, "result name %d is NULL", i);
            goto out;
        }
        size_t len = strlen(r->names[i]);
        longest = len > longest ? len : longest;
    }
    s->name_len = longest + 1;
    spex_h5_block_range((uint64_t)r->n_features, rank, size, &s->name_lo, &s->name_hi);
    size_t nrows = (size_t)(s->name_hi - s->name_lo);
    s->names = calloc((nrows ? nrows : 1) * s->name_len, 1);
    SPEX_ALLOC_CHECK(s->names, err, "the feature names");
    for (size_t i = 0; i < nrows; i++)
        memcpy(s->names + i * s->name_len, r->names[s->name_lo + i],
               strlen(r->names[s->name_lo + i]));
out:
    return st;
}

/* The datasets of the file, created before any row is written. */
typedef struct h5w_layout {
    hid_t g_study, g_fourier, g_features, g_diag, g_proxy;
    hid_t d_config, d_order, d_features, d_coef, d_names, d_seconds;
    hid_t d_chroms, d_pos;
} h5w_layout;

static void h5w_layout_close(h5w_layout *l)
{
    spex_h5_close_id(&l->d_config);
    spex_h5_close_id(&l->d_order);
    spex_h5_close_id(&l->d_features);
    spex_h5_close_id(&l->d_coef);
    spex_h5_close_id(&l->d_names);
    spex_h5_close_id(&l->d_chroms);
    spex_h5_close_id(&l->d_pos);
    spex_h5_close_id(&l->d_seconds);
    spex_h5_close_id(&l->g_study);
    spex_h5_close_id(&l->g_fourier);
    spex_h5_close_id(&l->g_features);
    spex_h5_close_id(&l->g_diag);
    spex_h5_close_id(&l->g_proxy);
}

static void h5w_root_attrs(spex_h5w *w, hid_t fid, const spex_result *r)
{
    const char *version = SPEX_VERSION_STRING;
    spex_h5w_attr_str(w, fid, "/", "format", FORMAT_NAME, sizeof FORMAT_NAME);
    spex_h5w_attr_i32(w, fid, "/", "format_version", FORMAT_VERSION);
    spex_h5w_attr_str(w, fid, "/", "spex_version", version, strlen(version) + 1);
    spex_h5w_attr_str(w, fid, "/", "method", r->method, sizeof r->method);
    spex_h5w_attr_i32(w, fid, "/", "n_features", r->n_features);
    spex_h5w_attr_i32(w, fid, "/", "max_order", r->max_order);
    spex_h5w_attr_u64(w, fid, "/", "queries", r->queries);
    int64_t seed = r->seed;
    spex_h5w_attr(w, fid, "/", "seed", H5T_STD_I64LE, H5T_NATIVE_INT64, &seed);
    spex_h5w_attr_i32(w, fid, "/", "ranks", r->ranks);
    spex_h5w_attr_str(w, fid, "/", "created", r->created, sizeof r->created);
    spex_h5w_attr_f64(w, fid, "/", "wall_seconds", r->wall_seconds);
    spex_h5w_attr_f64(w, fid, "/", "faithfulness_r2", r->faithfulness_r2);
    spex_h5w_attr_u64(w, fid, "/", "test_queries", r->test_queries);
    spex_h5w_attr_str(w, fid, "/", "refine", r->refine, sizeof r->refine);
    spex_h5w_attr_i32(w, fid, "/", "b", r->b);
    spex_h5w_attr_i32(w, fid, "/", "groups", r->groups);
    spex_h5w_attr_str(w, fid, "/", "delays", r->delays, sizeof r->delays);
    spex_h5w_attr_i32(w, fid, "/", "delays_count", r->delays_count);
    spex_h5w_attr_u64(w, fid, "/", "n_terms", (uint64_t)r->fourier.count);
}


/* Collective.  /proxy: the tree proxy's training (attributes only). */
static void h5w_proxy(spex_h5w *w, hid_t fid, const spex_proxy_diag *p, h5w_layout *l)
{
    static const char g[] = "/proxy";
    l->g_proxy = spex_h5w_group(w, fid, g);
    spex_h5w_attr_u64(w, l->g_proxy, g, "train_samples", p->train_samples);
    spex_h5w_attr_u64(w, l->g_proxy, g, "holdout_samples", p->holdout_samples);
    spex_h5w_attr_i32(w, l->g_proxy, g, "depth", p->depth);
    spex_h5w_attr_f64(w, l->g_proxy, g, "learning_rate", p->learning_rate);
    spex_h5w_attr_i32(w, l->g_proxy, g, "threads", p->threads);
    spex_h5w_attr_i32(w, l->g_proxy, g, "rounds", p->rounds);
    spex_h5w_attr_i32(w, l->g_proxy, g, "trees", p->trees);
    spex_h5w_attr_i32(w, l->g_proxy, g, "retrained", p->retrained);
    spex_h5w_attr_i32(w, l->g_proxy, g, "stages", p->stages);
    spex_h5w_attr_f64(w, l->g_proxy, g, "holdout_rmse", p->holdout_rmse);
    spex_h5w_attr_f64(w, l->g_proxy, g, "holdout_r2", p->holdout_r2);
    spex_h5w_attr_f64(w, l->g_proxy, g, "train_seconds", p->train_seconds);
    spex_h5w_attr_f64(w, l->g_proxy, g, "holdout_seconds", p->holdout_seconds);
    spex_h5w_attr_u64(w, l->g_proxy, g, "terms_extracted", p->terms_extracted);
    spex_h5w_attr_u64(w, l->g_proxy, g, "terms_kept", p->terms_kept);
}

/* Collective.  Groups, datasets and attributes: identical calls with
 * identical values on every rank. */
static void h5w_layout_create(spex_h5w *w, hid_t fid, const spex_result *r, hsize_t width,
                              const h5w_slice *s, h5w_layout *l)
{
    hsize_t k = r->fourier.count;
    hsize_t dims2[2] = {k, width};
    hsize_t nstages = SPEX_STAGE_COUNT;
    hsize_t nnames = (hsize_t)r->n_features;
    const char *config = r->config != NULL ? r->config : "";

    h5w_root_attrs(w, fid, r);

    l->g_study = spex_h5w_group(w, fid, "/study");
    l->d_config = spex_h5w_text_dataset(w, fid, "/study/config", config);

    l->g_fourier = spex_h5w_group(w, fid, "/fourier");
    l->d_order = spex_h5w_dataset(w, fid, "/fourier/order", H5T_STD_I32LE, 1, &k);
    l->d_features = spex_h5w_dataset(w, fid, "/fourier/features", H5T_STD_I32LE, 2, dims2);
    l->d_coef = spex_h5w_dataset(w, fid, "/fourier/coef", H5T_IEEE_F64LE, 1, &k);

    if (r->names != NULL || r->positions != NULL)
        l->g_features = spex_h5w_group(w, fid, "/features");
    if (r->names != NULL) {
        hid_t t = spex_h5_string_type(s->name_len, H5T_CSET_UTF8);
        l->d_names = spex_h5w_dataset(w, fid, "/features/name", t, 1, &nnames);
        spex_h5_close_id(&t);
    }
    if (r->positions != NULL) {
        hid_t t = spex_h5_string_type(s->chrom_len, H5T_CSET_UTF8);
        l->d_chroms = spex_h5w_dataset(w, fid, "/features/chromosome", t, 1, &nnames);
        spex_h5_close_id(&t);
        l->d_pos = spex_h5w_dataset(w, fid, "/features/position", H5T_STD_I64LE, 1, &nnames);
    }

    l->g_diag = spex_h5w_group(w, fid, "/diagnostics");
    l->d_seconds =
        spex_h5w_dataset(w, fid, "/diagnostics/stage_seconds", H5T_IEEE_F64LE, 1, &nstages);
    /* The stage names travel with the seconds they label. */
    size_t longest = 1;
    for (int i = 0; i < SPEX_STAGE_COUNT; i++) {
        size_t len = strlen(spex_stage_name(i));
        longest = len > longest ? len : longest;
    }
    char names[SPEX_STAGE_COUNT][32];
    memset(names, 0, sizeof names);
    for (int i = 0; i < SPEX_STAGE_COUNT; i++)
        memcpy(names[i], spex_stage_name(i), strlen(spex_stage_name(i)));
    hid_t t = spex_h5_string_type(sizeof names[0], H5T_CSET_UTF8);
    hid_t ft = spex_h5_string_type(longest + 1, H5T_CSET_UTF8);
    spex_h5w_attr_1d(w, l->d_seconds, "/diagnostics/stage_seconds", "stage_names", ft, t, nstages,
                     names);
    spex_h5_close_id(&ft);
    spex_h5_close_id(&t);
    spex_h5w_attr_i32(w, l->g_diag, "/diagnostics", "peel_rounds", r->peel_rounds);
    spex_h5w_attr_u64(w, l->g_diag, "/diagnostics", "bins_zero", r->bins_zero);
    spex_h5w_attr_u64(w, l->g_diag, "/diagnostics", "bins_single", r->bins_single);
    spex_h5w_attr_u64(w, l->g_diag, "/diagnostics", "bins_multi", r->bins_multi);
    spex_h5w_attr_u64(w, l->g_diag, "/diagnostics", "bins_unresolved", r->bins_unresolved);
    spex_h5w_attr_f64(w, l->g_diag, "/diagnostics", "noise_sigma", r->noise_sigma);
    spex_h5w_attr_f64(w, l->g_diag, "/diagnostics", "r2_peeled", r->r2_peeled);
    /* One value per rank: small enough for an attribute at any realistic
     * rank count (8 bytes a rank). */
    if (r->peak_rss_kib != NULL && r->ranks > 0)
        spex_h5w_attr_1d(w, l->g_diag, "/diagnostics", "peak_rss_kib", H5T_STD_I64LE,
                         H5T_NATIVE_INT64, (hsize_t)r->ranks, r->peak_rss_kib);
    if (r->proxy.present)
        h5w_proxy(w, fid, &r->proxy, l);
}

/* Collective.  Every rank writes its rows of every row dataset. */
static void h5w_layout_fill(spex_h5w *w, const spex_result *r, hsize_t width, const h5w_slice *s,
                            const h5w_layout *l)
{
    spex_h5w_text(w, l->d_config, "/study/config", r->config != NULL ? r->config : "");
    spex_h5w_rows(w, l->d_order, "/fourier/order", H5T_NATIVE_INT32, 0, s->lo, s->hi, s->order);
    spex_h5w_rows(w, l->d_features, "/fourier/features", H5T_NATIVE_INT32, width, s->lo, s->hi,
                  s->features);
    spex_h5w_rows(w, l->d_coef, "/fourier/coef", H5T_NATIVE_DOUBLE, 0, s->lo, s->hi, s->coef);
    if (r->names != NULL) {
        hid_t t = spex_h5_string_type(s->name_len, H5T_CSET_UTF8);
        spex_h5w_rows(w, l->d_names, "/features/name", t, 0, s->name_lo, s->name_hi, s->names);
        spex_h5_close_id(&t);
    }
    if (r->positions != NULL) {
        hid_t t = spex_h5_string_type(s->chrom_len, H5T_CSET_UTF8);
        spex_h5w_rows(w, l->d_chroms, "/features/chromosome", t, 0, s->pos_lo, s->pos_hi,
                      s->chroms);
        spex_h5_close_id(&t);
        spex_h5w_rows(w, l->d_pos, "/features/position", H5T_NATIVE_INT64, 0, s->pos_lo,
                      s->pos_hi, r->positions + s->pos_lo);
    }
    spex_h5w_rows(w, l->d_seconds, "/diagnostics/stage_seconds", H5T_NATIVE_DOUBLE, 0,
                  s->stage_lo, s->stage_hi, r->stage_seconds + s->stage_lo);
}

/* Collective.  A ranked spectrum as /<group>/{order,features,coef}, each
 * rank writing its block of rows (features padded with -1 to width). */
static void h5w_spectrum(spex_h5w *w, hid_t fid, const char *group, const spex_spectrum *spec,
                         hsize_t width)
{
    char name[256];
    uint64_t lo, hi;
    hsize_t k = spec->count, dims2[2] = {k, width};
    spex_h5_block_range(k, w->rank, w->size, &lo, &hi);
    size_t rows = (size_t)(hi - lo);
    int32_t *order = malloc((rows ? rows : 1) * sizeof *order);
    int32_t *feat = malloc((rows ? rows : 1) * (size_t)width * sizeof *feat);
    double *coef = malloc((rows ? rows : 1) * sizeof *coef);
    if (!order || !feat || !coef)
        spex_h5w_fail(w, "out of memory packing %s", group);
    for (size_t i = 0; order && feat && coef && i < rows; i++) {
        const spex_term *t = &spec->terms[lo + i];
        order[i] = t->order;
        coef[i] = t->coef;
        for (hsize_t j = 0; j < width; j++)
            feat[i * width + j] = (int)j < t->order ? t->feat[j] : -1;
    }
    hid_t g = spex_h5w_group(w, fid, group);
    snprintf(name, sizeof name, "%s/order", group);
    hid_t d_order = spex_h5w_dataset(w, fid, name, H5T_STD_I32LE, 1, &k);
    spex_h5w_rows(w, d_order, name, H5T_NATIVE_INT32, 0, lo, hi, order);
    snprintf(name, sizeof name, "%s/features", group);
    hid_t d_feat = spex_h5w_dataset(w, fid, name, H5T_STD_I32LE, 2, dims2);
    spex_h5w_rows(w, d_feat, name, H5T_NATIVE_INT32, width, lo, hi, feat);
    snprintf(name, sizeof name, "%s/coef", group);
    hid_t d_coef = spex_h5w_dataset(w, fid, name, H5T_IEEE_F64LE, 1, &k);
    spex_h5w_rows(w, d_coef, name, H5T_NATIVE_DOUBLE, 0, lo, hi, coef);
    spex_h5_close_id(&d_order);
    spex_h5_close_id(&d_feat);
    spex_h5_close_id(&d_coef);
    spex_h5_close_id(&g);
    free(order);
    free(feat);
    free(coef);
}

/* Collective.  A vector of n doubles as a dataset, each rank its block. */
static void h5w_vector(spex_h5w *w, hid_t fid, const char *name, const double *v, uint64_t n)
{
    uint64_t lo, hi;
    hsize_t dim = n;
    spex_h5_block_range(n, w->rank, w->size, &lo, &hi);
    hid_t d = spex_h5w_dataset(w, fid, name, H5T_IEEE_F64LE, 1, &dim);
    spex_h5w_rows(w, d, name, H5T_NATIVE_DOUBLE, 0, lo, hi, v + lo);
    spex_h5_close_id(&d);
}

/* Collective.  The derived outputs: Mobius expansion, values, indices. */
static void h5w_derived(spex_h5w *w, hid_t fid, const spex_result *r, hsize_t width)
{
    h5w_spectrum(w, fid, "/mobius", &r->mobius, width);
    if (r->shapley != NULL && r->banzhaf != NULL) {
        hid_t g = spex_h5w_group(w, fid, "/values");
        h5w_vector(w, fid, "/values/shapley", r->shapley, (uint64_t)r->n_features);
        h5w_vector(w, fid, "/values/banzhaf", r->banzhaf, (uint64_t)r->n_features);
        spex_h5_close_id(&g);
    }
    if (r->n_indices > 0) {
        hid_t g = spex_h5w_group(w, fid, "/indices");
        spex_h5w_attr_i32(w, g, "/indices", "order", r->index_order);
        for (int i = 0; i < r->n_indices; i++) {
            char group[64];
            snprintf(group, sizeof group, "/indices/%s", spex_convert_index_name(r->index_kind[i]));
            hsize_t wi = r->index_order > 0 ? (hsize_t)r->index_order : 1;
            h5w_spectrum(w, fid, group, &r->index[i], wi);
        }
        spex_h5_close_id(&g);
    }
}

spex_status spex_h5_write_result(MPI_Comm comm, const char *path, const spex_result *r,
                                 spex_error *err)
{
    spex_status st = SPEX_OK;
    char tmp[SPEX_PATH_MAX + 32] = "";
    h5w_slice s;
    h5w_layout l = {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
    spex_h5_quiet quiet;
    spex_h5w w;

    memset(&s, 0, sizeof s);
    spex_h5w_init(&w, comm, tmp, err);
    spex_h5_quiet_begin(&quiet);

    /* One temporary name for all ranks, unique per run on rank 0's host. */
    long pid = (long)getpid();
    MPI_Bcast(&pid, 1, MPI_LONG, 0, comm);
    if (strlen(path) >= SPEX_PATH_MAX)
        spex_error_set(err, SPEX_EIO, "cannot write '%.64s...': path is too long", path);
    else
        snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, pid);

    hsize_t width = r->max_order > 0 ? (hsize_t)r->max_order : 1;
    if (err->code == SPEX_OK && (r->max_order < 0 || r->max_order > SPEX_MAX_ORDER ||
                                 r->n_features < 0))
        spex_error_set(err, SPEX_EINTERNAL, "result has max_order %d, n_features %d",
                       r->max_order, r->n_features);
    if (err->code == SPEX_OK)
        h5w_slice_pack(r, w.rank, w.size, width, &s, err);
    SPEX_CHECK(spex_error_agree(comm, err));
    SPEX_CHECK(spex_h5w_create(&w));

    h5w_layout_create(&w, w.fid, r, width, &s, &l);
    /* Agreed before the transfers: a rank whose layout failed must not
     * leave the others waiting in a collective write. */
    if (spex_error_agree(comm, err) == SPEX_OK)
        h5w_layout_fill(&w, r, width, &s, &l);
    if (spex_error_agree(comm, err) == SPEX_OK)
        h5w_derived(&w, w.fid, r, width);

out:
    h5w_layout_close(&l);
    spex_h5w_close(&w);
    h5w_slice_free(&s);
    st = spex_h5w_publish(&w, path);
    spex_h5_quiet_end(&quiet);
    return st;
}

/* ---- reading ------------------------------------------------------------ */

/* Reads a string attribute into a char array of the result. */
static spex_status h5r_attr_str_into(spex_h5r *rd, hid_t obj, const char *name, char *dst,
                                     size_t cap)
{
    char *s = NULL;
    spex_status st = spex_h5r_attr_str(rd, obj, "/", name, &s);
    if (st == SPEX_OK && (s == NULL || strlen(s) >= cap))
        st = spex_h5r_corrupt(rd, "attribute '%s' of / is longer than %zu bytes", name, cap - 1);
    else if (st == SPEX_OK)
        memcpy(dst, s, strlen(s) + 1);
    free(s);
    return st;
}

/* Opens dataset `name` and checks its class and extent (dims[i] as
 * expected; ndims 0 accepts a scalar). */
static hid_t h5r_dataset(spex_h5r *rd, hid_t fid, const char *name, H5T_class_t cls, int ndims,
                         const hsize_t *dims)
{
    hid_t d = -1, t = -1, space = -1;
    if (H5Lexists(fid, name, H5P_DEFAULT) <= 0 || (d = H5Dopen2(fid, name, H5P_DEFAULT)) < 0) {
        spex_h5r_corrupt(rd, "dataset %s is missing", name);
        goto out;
    }
    t = H5Dget_type(d);
    space = H5Dget_space(d);
    hsize_t got[H5S_MAX_RANK];
    int n = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    int ok = t >= 0 && H5Tget_class(t) == cls && n == ndims &&
             H5Sget_simple_extent_dims(space, got, NULL) >= 0;
    for (int i = 0; ok && i < ndims; i++)
        ok = got[i] == dims[i];
    if (!ok) {
        char shape[96] = "";
        for (int i = 0; i < ndims; i++)
            snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "[%llu]",
                     (unsigned long long)dims[i]);
        spex_h5r_corrupt(rd, "dataset %s is not %s%s", name,
                         cls == H5T_INTEGER ? "integer" : cls == H5T_FLOAT ? "float" : "string",
                         shape);
        H5Dclose(d);
        d = -1;
    }
out:
    if (space >= 0)
        H5Sclose(space);
    if (t >= 0)
        H5Tclose(t);
    return d;
}

static spex_status h5r_numbers(spex_h5r *rd, hid_t fid, const char *name, H5T_class_t cls,
                               hid_t mtype, int ndims, const hsize_t *dims, void *buf)
{
    hid_t d = h5r_dataset(rd, fid, name, cls, ndims, dims);
    if (d < 0)
        return rd->err->code;
    hsize_t count = 1;
    for (int i = 0; i < ndims; i++)
        count *= dims[i];
    spex_status st = SPEX_OK;
    if (count > 0 && H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
        st = spex_h5r_corrupt(rd, "dataset %s cannot be read", name);
    H5Dclose(d);
    return st;
}

static spex_status h5r_root(spex_h5r *rd, hid_t fid, spex_result *r)
{
    spex_status st = SPEX_OK;
    SPEX_CHECK(h5r_attr_str_into(rd, fid, "method", r->method, sizeof r->method));
    SPEX_CHECK(spex_h5r_attr_int(rd, fid, "/", "n_features", &r->n_features));
    SPEX_CHECK(spex_h5r_attr_int(rd, fid, "/", "max_order", &r->max_order));
    SPEX_CHECK(spex_h5r_attr_num(rd, fid, "/", "queries", H5T_INTEGER, H5T_NATIVE_UINT64,
                                 &r->queries));
    SPEX_CHECK(spex_h5r_attr_num(rd, fid, "/", "seed", H5T_INTEGER, H5T_NATIVE_INT64, &r->seed));
    SPEX_CHECK(spex_h5r_attr_int(rd, fid, "/", "ranks", &r->ranks));
    SPEX_CHECK(h5r_attr_str_into(rd, fid, "created", r->created, sizeof r->created));
    SPEX_CHECK(spex_h5r_attr_num(rd, fid, "/", "wall_seconds", H5T_FLOAT, H5T_NATIVE_DOUBLE,
                                 &r->wall_seconds));
    SPEX_CHECK(spex_h5r_attr_num(rd, fid, "/", "faithfulness_r2", H5T_FLOAT, H5T_NATIVE_DOUBLE,
                                 &r->faithfulness_r2));
    SPEX_CHECK(spex_h5r_attr_int(rd, fid, "/", "b", &r->b));
    SPEX_CHECK(spex_h5r_attr_int(rd, fid, "/", "groups", &r->groups));
    SPEX_CHECK(h5r_attr_str_into(rd, fid, "delays", r->delays, sizeof r->delays));
    SPEX_CHECK(spex_h5r_attr_int(rd, fid, "/", "delays_count", &r->delays_count));
    if (r->n_features < 0)
        st = spex_h5r_corrupt(rd, "attribute 'n_features' of / is %d", r->n_features);
    else if (r->max_order < 0 || r->max_order > SPEX_MAX_ORDER)
        st = spex_h5r_corrupt(rd, "attribute 'max_order' of / is %d, outside 0..%d",
                              r->max_order, SPEX_MAX_ORDER);
out:
    return st;
}

static spex_status h5r_config(spex_h5r *rd, hid_t fid, spex_result *r)
{
    spex_status st = SPEX_OK;
    char *text = NULL;
    hid_t d = h5r_dataset(rd, fid, "/study/config", H5T_STRING, 0, NULL);
    if (d < 0)
        return rd->err->code;
    st = spex_h5r_strings(rd, d, 0, "dataset /study/config", 1, &text);
    H5Dclose(d);
    /* The writer stores "" when no study was recorded. */
    if (st == SPEX_OK && text[0] != '\0') {
        r->config = text;
        text = NULL;
    }
    free(text);
    return st;
}

/* The ranked rows, checked the way the decoder would have produced them. */
static spex_status h5r_fourier(spex_h5r *rd, hid_t fid, spex_result *r)
{
    spex_status st = SPEX_OK;
    uint64_t k = 0;
    int32_t *order = NULL, *features = NULL;
    double *coef = NULL;
    SPEX_CHECK(spex_h5r_attr_num(rd, fid, "/", "n_terms", H5T_INTEGER, H5T_NATIVE_UINT64, &k));
    hsize_t width = r->max_order > 0 ? (hsize_t)r->max_order : 1;
    hsize_t dims[2] = {k, width};
    /* The count comes from the file: check it against a dataset before
     * allocating for it (a damaged count is an input error, not OOM). */
    hid_t od = H5Lexists(fid, "/fourier/order", H5P_DEFAULT) > 0
                   ? H5Dopen2(fid, "/fourier/order", H5P_DEFAULT) : -1;
    hid_t os = od >= 0 ? H5Dget_space(od) : -1;
    hssize_t have = os >= 0 ? H5Sget_simple_extent_npoints(os) : -1;
    spex_h5_close_id(&os);
    spex_h5_close_id(&od);
    if (have < 0 || (uint64_t)have != k) {
        st = spex_h5r_corrupt(rd, "attribute 'n_terms' of / is %llu, /fourier/order has %lld rows",
                              (unsigned long long)k, (long long)have);
        goto out;
    }
    size_t rows = (size_t)k;
    order = malloc((rows ? rows : 1) * sizeof *order);
    features = malloc((rows ? rows : 1) * (size_t)width * sizeof *features);
    coef = malloc((rows ? rows : 1) * sizeof *coef);
    if (order == NULL || features == NULL || coef == NULL) {
        st = spex_error_set(rd->err, SPEX_EINTERNAL, "out of memory reading %llu terms of '%s'",
                            (unsigned long long)k, rd->path);
        goto out;
    }
    SPEX_CHECK(h5r_numbers(rd, fid, "/fourier/order", H5T_INTEGER, H5T_NATIVE_INT32, 1, dims,
                           order));
    SPEX_CHECK(h5r_numbers(rd, fid, "/fourier/features", H5T_INTEGER, H5T_NATIVE_INT32, 2, dims,
                           features));
    SPEX_CHECK(h5r_numbers(rd, fid, "/fourier/coef", H5T_FLOAT, H5T_NATIVE_DOUBLE, 1, dims,
                           coef));
    for (size_t i = 0; i < rows; i++) {
        spex_term t;
        memset(&t, 0, sizeof t);
        if (order[i] < 0 || order[i] > r->max_order) {
            st = spex_h5r_corrupt(rd, "/fourier/order row %zu is %d, outside 0..max_order %d",
                                  i, (int)order[i], r->max_order);
            goto out;
        }
        t.order = order[i];
        const int32_t *f = features + i * width;
        for (int j = 0; j < (int)width; j++) {
            int ok = j < t.order ? f[j] >= 0 && f[j] < r->n_features && (j == 0 || f[j] > f[j - 1])
                                 : f[j] == -1;
            if (!ok) {
                st = spex_h5r_corrupt(rd,
                                      "/fourier/features row %zu is not %d ascending indices "
                                      "below n_features %d padded with -1",
                                      i, (int)t.order, r->n_features);
                goto out;
            }
            if (j < t.order)
                t.feat[j] = f[j];
        }
        t.coef = coef[i];
        SPEX_CHECK(spex_spectrum_push(&r->fourier, &t, rd->err));
    }
out:
    free(order);
    free(features);
    free(coef);
    return st;
}

static spex_status h5r_names(spex_h5r *rd, hid_t fid, spex_result *r)
{
    spex_status st = SPEX_OK;
    if (H5Lexists(fid, "/features", H5P_DEFAULT) <= 0 ||
        H5Lexists(fid, "/features/name", H5P_DEFAULT) <= 0)
        return SPEX_OK;
    hsize_t n = (hsize_t)r->n_features;
    hid_t d = h5r_dataset(rd, fid, "/features/name", H5T_STRING, 1, &n);
    if (d < 0)
        return rd->err->code;
    r->names = calloc((size_t)n + 1, sizeof *r->names);
    if (r->names == NULL)
        st = spex_error_set(rd->err, SPEX_EINTERNAL, "out of memory reading names of '%s'",
                            rd->path);
    else
        st = spex_h5r_strings(rd, d, 0, "dataset /features/name", (size_t)n, r->names);
    H5Dclose(d);
    return st;
}

static spex_status h5r_diagnostics(spex_h5r *rd, hid_t fid, spex_result *r)
{
    spex_status st = SPEX_OK;
    hsize_t nstages = SPEX_STAGE_COUNT;
    hid_t g = -1;
    SPEX_CHECK(h5r_numbers(rd, fid, "/diagnostics/stage_seconds", H5T_FLOAT, H5T_NATIVE_DOUBLE,
                           1, &nstages, r->stage_seconds));
    g = H5Gopen2(fid, "/diagnostics", H5P_DEFAULT);
    if (g < 0) {
        st = spex_h5r_corrupt(rd, "group /diagnostics is missing");
        goto out;
    }
    SPEX_CHECK(spex_h5r_attr_int(rd, g, "/diagnostics", "peel_rounds", &r->peel_rounds));
    SPEX_CHECK(spex_h5r_attr_num(rd, g, "/diagnostics", "bins_zero", H5T_INTEGER,
                                 H5T_NATIVE_UINT64, &r->bins_zero));
    SPEX_CHECK(spex_h5r_attr_num(rd, g, "/diagnostics", "bins_single", H5T_INTEGER,
                                 H5T_NATIVE_UINT64, &r->bins_single));
    SPEX_CHECK(spex_h5r_attr_num(rd, g, "/diagnostics", "bins_multi", H5T_INTEGER,
                                 H5T_NATIVE_UINT64, &r->bins_multi));
    SPEX_CHECK(spex_h5r_attr_num(rd, g, "/diagnostics", "bins_unresolved", H5T_INTEGER,
                                 H5T_NATIVE_UINT64, &r->bins_unresolved));
out:
    if (g >= 0)
        H5Gclose(g);
    return st;
}

/* /proxy, when the file has it (ProxySPEX runs). */
static spex_status h5r_proxy(spex_h5r *rd, hid_t fid, spex_result *r)
{
    static const char g[] = "/proxy";
    spex_status st = SPEX_OK;
    spex_proxy_diag *p = &r->proxy;
    hid_t grp = -1;
    htri_t has = H5Lexists(fid, g, H5P_DEFAULT);
    if (has <= 0)
        return SPEX_OK;
    grp = H5Gopen2(fid, g, H5P_DEFAULT);
    if (grp < 0) {
        st = spex_h5r_corrupt(rd, "group /proxy cannot be opened");
        goto out;
    }
    SPEX_CHECK(spex_h5r_attr_num(rd, grp, g, "train_samples", H5T_INTEGER, H5T_NATIVE_UINT64,
                                 &p->train_samples));
    SPEX_CHECK(spex_h5r_attr_num(rd, grp, g, "holdout_samples", H5T_INTEGER, H5T_NATIVE_UINT64,
                                 &p->holdout_samples));
    SPEX_CHECK(spex_h5r_attr_int(rd, grp, g, "depth", &p->depth));
    SPEX_CHECK(spex_h5r_attr_num(rd, grp, g, "learning_rate", H5T_FLOAT, H5T_NATIVE_DOUBLE,
                                 &p->learning_rate));
    SPEX_CHECK(spex_h5r_attr_int(rd, grp, g, "threads", &p->threads));
    SPEX_CHECK(spex_h5r_attr_int(rd, grp, g, "rounds", &p->rounds));
    SPEX_CHECK(spex_h5r_attr_int(rd, grp, g, "trees", &p->trees));
    SPEX_CHECK(spex_h5r_attr_int(rd, grp, g, "retrained", &p->retrained));
    SPEX_CHECK(spex_h5r_attr_int(rd, grp, g, "stages", &p->stages));
    SPEX_CHECK(spex_h5r_attr_num(rd, grp, g, "holdout_rmse", H5T_FLOAT, H5T_NATIVE_DOUBLE,
                                 &p->holdout_rmse));
    SPEX_CHECK(spex_h5r_attr_num(rd, grp, g, "holdout_r2", H5T_FLOAT, H5T_NATIVE_DOUBLE,
                                 &p->holdout_r2));
    SPEX_CHECK(spex_h5r_attr_num(rd, grp, g, "train_seconds", H5T_FLOAT, H5T_NATIVE_DOUBLE,
                                 &p->train_seconds));
    SPEX_CHECK(spex_h5r_attr_num(rd, grp, g, "holdout_seconds", H5T_FLOAT, H5T_NATIVE_DOUBLE,
                                 &p->holdout_seconds));
    SPEX_CHECK(spex_h5r_attr_num(rd, grp, g, "terms_extracted", H5T_INTEGER, H5T_NATIVE_UINT64,
                                 &p->terms_extracted));
    SPEX_CHECK(spex_h5r_attr_num(rd, grp, g, "terms_kept", H5T_INTEGER, H5T_NATIVE_UINT64,
                                 &p->terms_kept));
    p->present = 1;
out:
    if (grp >= 0)
        H5Gclose(grp);
    return st;
}

/* The format attributes come first: anything else is "not a spex result"
 * rather than a list of missing datasets. */
static spex_status h5r_format(spex_h5r *rd, hid_t fid)
{
    spex_status st = SPEX_OK;
    char *format = NULL;
    int version = 0;
    /* A private error: why the attribute is unusable does not matter, the
     * verdict does. */
    spex_error detail;
    spex_h5r probe = {rd->path, &detail, rd->kind};
    spex_error_clear(&detail);
    if (spex_h5r_attr_str(&probe, fid, "/", "format", &format) != SPEX_OK || format == NULL ||
        strcmp(format, FORMAT_NAME) != 0 ||
        spex_h5r_attr_int(&probe, fid, "/", "format_version", &version) != SPEX_OK) {
        st = spex_error_set(rd->err, SPEX_EINPUT, "'%s' is not a spex result file", rd->path);
        goto out;
    }
    if (version != FORMAT_VERSION)
        st = spex_error_set(rd->err, SPEX_EINPUT, "'%s' has format_version %d, this spex reads %d",
                            rd->path, version, FORMAT_VERSION);
out:
    free(format);
    return st;
}

spex_status spex_h5_read_result(const char *path, spex_result *r, spex_error *err)
{
    spex_status st = SPEX_OK;
    spex_h5r rd = {path, err, "result"};
    hid_t fid = -1;
    spex_h5_quiet quiet;

    spex_result_init(r);
    spex_h5_quiet_begin(&quiet);
    SPEX_CHECK(spex_h5r_open(&rd, SPEX_EIO, &fid));
    SPEX_CHECK(h5r_format(&rd, fid));
    SPEX_CHECK(h5r_root(&rd, fid, r));
    SPEX_CHECK(h5r_config(&rd, fid, r));
    SPEX_CHECK(h5r_fourier(&rd, fid, r));
    SPEX_CHECK(h5r_names(&rd, fid, r));
    SPEX_CHECK(h5r_diagnostics(&rd, fid, r));
    SPEX_CHECK(h5r_proxy(&rd, fid, r));
out:
    spex_h5_close_id(&fid);
    if (st != SPEX_OK)
        spex_result_free(r);
    spex_h5_quiet_end(&quiet);
    return st;
}

/* ---- reading a single spectrum or vector ---------------------------------- */

spex_status spex_h5_read_spectrum(const char *path, const char *group, spex_spectrum *out,
                                  spex_error *err)
{
    spex_status st = SPEX_OK;
    char name[256];
    hid_t fid = -1, d[3] = {-1, -1, -1}, sp = -1;
    int32_t *order = NULL, *feat = NULL;
    double *coef = NULL;
    spex_h5_quiet quiet;
    spex_h5_quiet_begin(&quiet);
    spex_spectrum_init(out);
    fid = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (fid < 0) {
        st = spex_error_set(err, SPEX_EIO, "cannot open '%s'", path);
        goto out;
    }
    if (H5Lexists(fid, group, H5P_DEFAULT) <= 0) {
        st = spex_error_set(err, SPEX_EINPUT, "%s: has no %s (written by an older spex, or "
                            "not requested in output.indices)", path, group);
        goto out;
    }
    static const char *const parts[3] = {"order", "features", "coef"};
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof name, "%s/%s", group, parts[i]);
        d[i] = H5Dopen2(fid, name, H5P_DEFAULT);
        if (d[i] < 0) {
            st = spex_error_set(err, SPEX_EINPUT, "%s: dataset %s is missing", path, name);
            goto out;
        }
    }
    hsize_t dims[2] = {0, 0};
    sp = H5Dget_space(d[1]);
    if (sp < 0 || H5Sget_simple_extent_ndims(sp) != 2 ||
        H5Sget_simple_extent_dims(sp, dims, NULL) < 0 || dims[1] < 1 || dims[1] > SPEX_MAX_ORDER) {
        st = spex_error_set(err, SPEX_EINPUT, "%s: %s/features has the wrong shape", path, group);
        goto out;
    }
    size_t k = (size_t)dims[0], w = (size_t)dims[1];
    /* H5Dread fills the whole dataset into the buffer: order and coef must
     * have exactly the rows of features.  Features must name one of the
     * file's n_features (spex show looks their names up). */
    for (int i = 0; i < 3; i += 2) {
        hid_t s1 = H5Dget_space(d[i]);
        hsize_t rows = 0;
        int ok = s1 >= 0 && H5Sget_simple_extent_ndims(s1) == 1 &&
                 H5Sget_simple_extent_dims(s1, &rows, NULL) >= 0 && rows == dims[0];
        spex_h5_close_id(&s1);
        if (!ok) {
            st = spex_error_set(err, SPEX_EINPUT, "%s: %s/%s does not have the %zu rows of "
                                "%s/features", path, group, parts[i], k, group);
            goto out;
        }
    }
    int32_t nfeat = -1;
    hid_t an = H5Aexists(fid, "n_features") > 0 ? H5Aopen(fid, "n_features", H5P_DEFAULT) : -1;
    hid_t as = an >= 0 ? H5Aget_space(an) : -1;
    if (as < 0 || H5Sget_simple_extent_npoints(as) != 1 ||
        H5Aread(an, H5T_NATIVE_INT32, &nfeat) < 0)
        nfeat = -1;
    spex_h5_close_id(&as);
    spex_h5_close_id(&an);
    order = malloc((k ? k : 1) * sizeof *order);
    feat = malloc((k ? k : 1) * w * sizeof *feat);
    coef = malloc((k ? k : 1) * sizeof *coef);
    SPEX_ALLOC_CHECK(order && feat && coef ? order : NULL, err, "a spectrum");
    if (k > 0 && (H5Dread(d[0], H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, order) < 0 ||
                  H5Dread(d[1], H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, feat) < 0 ||
                  H5Dread(d[2], H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, coef) < 0)) {
        st = spex_error_set(err, SPEX_EINPUT, "%s: cannot read %s", path, group);
        goto out;
    }
    for (size_t i = 0; i < k; i++) {
        spex_term t;
        memset(&t, 0, sizeof t);
        if (order[i] < 0 || (size_t)order[i] > w) {
            st = spex_error_set(err, SPEX_EINPUT, "%s: %s row %zu has order %d", path, group, i,
                                (int)order[i]);
            goto out;
        }
        t.order = order[i];
        for (int j = 0; j < t.order; j++) {
            t.feat[j] = feat[i * w + (size_t)j];
            if (t.feat[j] < 0 || t.feat[j] >= nfeat || (j > 0 && t.feat[j] <= t.feat[j - 1])) {
                st = spex_error_set(err, SPEX_EINPUT, "%s: %s/features row %zu is not ascending "
                                    "indices below n_features %d", path, group, i, (int)nfeat);
                goto out;
            }
        }
        t.coef = coef[i];
        SPEX_CHECK(spex_spectrum_push(out, &t, err));
    }
out:
    spex_h5_close_id(&sp);
    for (int i = 0; i < 3; i++)
        spex_h5_close_id(&d[i]);
    spex_h5_close_id(&fid);
    free(order);
    free(feat);
    free(coef);
    if (st != SPEX_OK)
        spex_spectrum_free(out);
    spex_h5_quiet_end(&quiet);
    return st;
}

spex_status spex_h5_read_vector(const char *path, const char *name, int n, double *v,
                                spex_error *err)
{
    spex_status st = SPEX_OK;
    hid_t fid = -1, d = -1, sp = -1;
    hsize_t dim = 0;
    spex_h5_quiet quiet;
    spex_h5_quiet_begin(&quiet);
    fid = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (fid < 0) {
        st = spex_error_set(err, SPEX_EIO, "cannot open '%s'", path);
        goto out;
    }
    d = H5Lexists(fid, name, H5P_DEFAULT) > 0 ? H5Dopen2(fid, name, H5P_DEFAULT) : -1;
    if (d < 0) {
        st = spex_error_set(err, SPEX_EINPUT, "%s: has no %s", path, name);
        goto out;
    }
    sp = H5Dget_space(d);
    if (sp < 0 || H5Sget_simple_extent_ndims(sp) != 1 ||
        H5Sget_simple_extent_dims(sp, &dim, NULL) < 0 || dim != (hsize_t)n ||
        (n > 0 && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0))
        st = spex_error_set(err, SPEX_EINPUT, "%s: %s is not %d float64 values", path, name, n);
out:
    spex_h5_close_id(&sp);
    spex_h5_close_id(&d);
    spex_h5_close_id(&fid);
    spex_h5_quiet_end(&quiet);
    return st;
}
