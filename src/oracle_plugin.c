/* oracle_plugin.c -- the plugin backend: a shared object exporting
 * spex_plugin_v1 (the interface is at the end of include/spex.h; the
 * user's view is doc/oracles.md).
 *
 * Every rank dlopens oracle.plugin (RTLD_NOW, so that a missing symbol of
 * the plugin fails here with the loader's message rather than in the middle
 * of a run; RTLD_LOCAL, so that two plugins cannot capture each other's
 * symbols), checks the struct's abi and functions, and calls init with the
 * run's context.  Each eval converts spex's word-packed masks into the
 * byte-packed layout of the files into a buffer of oracle.batch masks
 * allocated here once, and calls the plugin in chunks of at most that many.
 * Values are preset to NaN, so a plugin that forgets to write one is caught
 * by spex_oracle_eval's finiteness check rather than producing garbage.
 *
 * Failures to load (no file, not a plugin, another ABI) are usage errors
 * naming the path; the plugin's own failures carry its message, its name
 * and the rank.  create is collective only for the node-local rank; the
 * caller (spex_oracle_create) agrees errors across ranks.  A plugin runs
 * inside spex: there is no timeout, and a crash in it ends the rank (use
 * the exec backend for isolation).
 */
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spex.h"

#define PLUGIN_ERRBUF 512 /* plugin's message; the rest of spex_error is our prefix */

typedef struct plugin_state {
    void *handle;             /* from dlopen */
    const spex_plugin *api;   /* the plugin's exported struct */
    void *pstate;             /* the plugin's own state from init */
    int ran_init;             /* init was called: the plugin's code has run */
    int initialized;          /* init succeeded: destroy is owed */
    int rank;
    size_t mask_bytes, max_batch;
    uint8_t *bytes;           /* max_batch byte-packed masks */
    unsigned long long calls; /* eval calls made, for messages */
    char path[SPEX_PATH_MAX];
    char name[64];            /* api->name, copied (safe to print) */
    char errbuf[PLUGIN_ERRBUF];
} plugin_state;

/* The plugin's message, made one printable line (it reaches the user
 * verbatim). */
static const char *plugin_message(plugin_state *s)
{
    s->errbuf[sizeof s->errbuf - 1] = '\0';
    for (char *c = s->errbuf; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = ' ';
    return s->errbuf[0] ? s->errbuf : "(the plugin gave no message)";
}

static void plugin_destroy(spex_oracle *o)
{
    plugin_state *s = o->state;
    if (s != NULL) {
        if (s->initialized && s->api->destroy != NULL)
            s->api->destroy(s->pstate);
        /* No dlclose once init has run: a plugin's libraries may leave
         * threads behind (an OpenMP pool, a CUDA runtime), and unmapping
         * code they may still run is a classic crash at exit.  The object
         * stays loaded until the process ends; loading it again only takes
         * a reference. */
        if (s->handle != NULL && !s->ran_init)
            dlclose(s->handle);
        free(s->bytes);
        free(s);
    }
    free(o);
}

static spex_status plugin_eval(spex_oracle *o, size_t count, const uint64_t *masks,
                               uint64_t first_id, double *values, spex_error *err)
{
    plugin_state *s = o->state;
    for (size_t done = 0; done < count; done += s->max_batch) {
        size_t c = count - done < s->max_batch ? count - done : s->max_batch;
        for (size_t j = 0; j < c; j++)
            spex_mask_to_bytes(masks + (done + j) * o->words, o->n, s->bytes + j * s->mask_bytes);
        for (size_t j = 0; j < c; j++)
            values[done + j] = NAN;
        s->errbuf[0] = '\0';
        s->calls++;
        int rc = s->api->eval(s->pstate, c, s->bytes, first_id + done, values + done, s->errbuf,
                              sizeof s->errbuf);
        if (rc != 0)
            return spex_error_set(err, SPEX_EORACLE,
                                  "plugin '%s' (%s) failed on rank %d in call %llu (queries "
                                  "%llu..%llu): %s",
                                  s->path, s->name, s->rank, s->calls,
                                  (unsigned long long)(first_id + done),
                                  (unsigned long long)(first_id + done + c - 1), plugin_message(s));
    }
    return SPEX_OK;
}

spex_status spex_oracle_plugin_create(MPI_Comm comm, const spex_config *cfg, spex_oracle **out,
                                      spex_error *err)
{
    spex_status st = SPEX_OK;
    spex_oracle *o = NULL;
    plugin_state *s = NULL;
    int rank, size, local_rank, local_size;
    *out = NULL;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    spex_oracle_node_place(comm, &local_rank, &local_size);

    if (cfg->plugin[0] == '\0')
        return spex_error_set(err, SPEX_EUSAGE,
                              "oracle.plugin is empty: oracle.kind = plugin needs the path of "
                              "the plugin's shared object (doc/oracles.md)");
    o = calloc(1, sizeof *o);
    SPEX_ALLOC_CHECK(o, err, "the plugin oracle");
    s = calloc(1, sizeof *s);
    SPEX_ALLOC_CHECK(s, err, "the plugin oracle");
    o->state = s;
    o->n = cfg->n;
    o->words = spex_mask_words(cfg->n);
    o->kind = "plugin";
    o->eval = plugin_eval;
    o->destroy = plugin_destroy;
    s->rank = rank;
    s->mask_bytes = ((size_t)cfg->n + 7) / 8;
    s->max_batch = cfg->batch > 0 ? (size_t)cfg->batch : 1;
    snprintf(s->name, sizeof s->name, "?");
    /* A name without '/' would make dlopen search the library path, not
     * the working directory the user means. */
    if (strchr(cfg->plugin, '/') == NULL)
        snprintf(s->path, sizeof s->path, "./%.*s", (int)sizeof s->path - 3, cfg->plugin);
    else
        snprintf(s->path, sizeof s->path, "%s", cfg->plugin);

    dlerror();
    s->handle = dlopen(s->path, RTLD_NOW | RTLD_LOCAL);
    if (s->handle == NULL) {
        const char *why = dlerror();
        st = spex_error_set(err, SPEX_EUSAGE, "cannot load plugin '%s': %s", s->path,
                            why ? why : "dlopen failed");
        goto out;
    }
    dlerror();
    s->api = dlsym(s->handle, SPEX_PLUGIN_SYMBOL);
    if (s->api == NULL) {
        st = spex_error_set(err, SPEX_EUSAGE,
                            "plugin '%s' does not export %s (is it a spex plugin? see "
                            "doc/oracles.md)",
                            s->path, SPEX_PLUGIN_SYMBOL);
        goto out;
    }
    if (s->api->abi != SPEX_PLUGIN_ABI) {
        st = spex_error_set(err, SPEX_EUSAGE,
                            "plugin '%s' was built for plugin ABI %d, this spex needs ABI %d: "
                            "rebuild it against this spex's spex.h",
                            s->path, s->api->abi, SPEX_PLUGIN_ABI);
        goto out;
    }
    snprintf(s->name, sizeof s->name, "%s", s->api->name ? s->api->name : "unnamed");
    for (char *c = s->name; *c; c++)
        if ((unsigned char)*c < 0x20)
            *c = '?';
    if (s->api->init == NULL || s->api->eval == NULL) {
        st = spex_error_set(err, SPEX_EUSAGE, "plugin '%s' (%s) has no %s function", s->path,
                            s->name, s->api->init == NULL ? "init" : "eval");
        goto out;
    }
    s->bytes = malloc(s->max_batch * s->mask_bytes);
    SPEX_ALLOC_CHECK(s->bytes, err, "the plugin's mask buffer");

    spex_plugin_context ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.n = cfg->n;
    ctx.mask_bytes = s->mask_bytes;
    ctx.max_batch = s->max_batch;
    ctx.rank = rank;
    ctx.size = size;
    ctx.local_rank = local_rank;
    ctx.local_size = local_size;
    ctx.seed = (uint64_t)(cfg->oracle_seed >= 0 ? cfg->oracle_seed : cfg->seed);
    ctx.args = cfg->plugin_args;
    s->errbuf[0] = '\0';
    s->ran_init = 1;
    int rc = s->api->init(&s->pstate, &ctx, s->errbuf, sizeof s->errbuf);
    if (rc != 0) {
        /* The plugin may say whose fault it is; anything else is its own. */
        spex_status code = rc == SPEX_EUSAGE || rc == SPEX_EINPUT ? (spex_status)rc : SPEX_EORACLE;
        st = spex_error_set(err, code, "plugin '%s' (%s) failed to start on rank %d: %s", s->path,
                            s->name, rank, plugin_message(s));
        goto out;
    }
    s->initialized = 1;
    *out = o;
out:
    if (st != SPEX_OK && o != NULL)
        plugin_destroy(o);
    return st;
}
