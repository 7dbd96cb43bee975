/* fuzz_xgb_model.c -- the XGBoost model's JSON as spex reads it
 * (model_load and model_flatten in src/oracle_xgboost.c; the trees of the
 * native engine and of xgboost-trees).
 *
 * The reader is static, so this harness includes oracle_xgboost.c.  Input:
 * 1 byte choosing the path and the model's shape (bit 7: the whole file
 * through XGBoost's own loader, XGBoosterLoadModel, then spex's reading of
 * XGBoost's re-exported JSON, as a run does; otherwise the JSON object is
 * handed straight to model_flatten as the "model" member of
 * gradient_booster, with num_feature 1..8 and 1..4 output groups, which
 * reaches the flattening with values XGBoost would normally have vetted),
 * then the JSON text.  Checks: ok or an input error (exit code 2) naming
 * the model; a model accepted as walkable has every split feature below
 * num_feature and every tree a proper tree: walks with random masks end
 * and land on leaves of their tree, and fast_build's chains agree.
 */
#include "../../src/oracle_xgboost.c"

#include "fuzz_common.h"

static void walk_check(const xgb_model *m, int n, uint32_t seed)
{
    float x[64], b[64], margin0[8] = {0}, out[8], out2[8];
    uint64_t mask[1];
    for (int i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = (float)(seed >> 16) / 4096.0f - 8.0f;
        b[i] = (seed & 4) ? NAN : (float)(seed & 0xff) / 32.0f - 4.0f;
    }
    xgb_fast *fast = fast_build(m, x, b);
    FUZZ_ASSERT(fast != NULL, "fast_build failed");
    for (int r = 0; r < 8; r++) {
        seed = seed * 1664525u + 1013904223u;
        mask[0] = ((uint64_t)seed << 32 | seed) & (n == 64 ? ~0ull : ((1ull << n) - 1));
        walk_margins(m, margin0, mask, x, b, out);
        fast_margins(m, fast, margin0, mask, out2);
        for (int g = 0; g < m->groups; g++)
            FUZZ_ASSERT((isnan(out[g]) && isnan(out2[g])) || out[g] == out2[g],
                        "walk and fast walk differ in group %d: %g vs %g", g, out[g], out2[g]);
    }
    free(fast);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 262144)
        return 0;
    unsigned mode = data[0];
    spex_error err;
    spex_error_clear(&err);
    xgb_model m;
    memset(&m, 0, sizeof m);
    spex_status st;
    if (mode & 0x80) {
        const char *path = fuzz_write_file("model.json", data + 1, size - 1);
        st = model_load(path, &m, &err);
        fuzz_check_status(st, &err, FUZZ_CODE(SPEX_EINPUT), "model_load");
    } else {
        cJSON *root = cJSON_ParseWithLength((const char *)data + 1, size - 1);
        m.num_feature = 1 + (int)(mode & 7);
        m.groups = 1 + (int)((mode >> 3) & 3);
        st = model_flatten(&m, root, "fuzz.json", &err);
        cJSON_Delete(root);
        fuzz_check_status(st, &err, FUZZ_CODE(SPEX_EINPUT), "model_flatten");
    }
    if (st != SPEX_OK) {
        FUZZ_ASSERT(strstr(err.msg, ".json") != NULL, "message does not name the model: %s",
                    err.msg);
        model_free(&m);
        return 0;
    }
    if (m.walkable && m.ntrees > 0 && m.num_feature >= 1 && m.num_feature <= 64 && m.groups <= 8) {
        for (int t = 0; t < m.ntrees; t++)
            FUZZ_ASSERT(m.tree_group[t] >= 0 && m.tree_group[t] < m.groups,
                        "tree %d in group %d of %d", t, m.tree_group[t], m.groups);
        walk_check(&m, m.num_feature, mode * 2654435761u);
    }
    model_free(&m);
    return 0;
}
