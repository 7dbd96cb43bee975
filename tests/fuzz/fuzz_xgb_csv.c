/* fuzz_xgb_csv.c -- CSV data files of the XGBoost oracles (csv_read in
 * src/oracle_xgboost.c: oracle.data, oracle.test).
 *
 * csv_read is static: this harness includes oracle_xgboost.c.  Input: 1
 * byte choosing oracle.label (none, "y", or the header's first field),
 * then the file.  Checks: ok or an input error (exit code 2) naming the
 * key and file; an accepted table has at least one row and one column,
 * column names, and labels (when asked) that are numbers.
 */
#include "../../src/oracle_xgboost.c"

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    char label[64] = "";
    if (data[0] % 3 == 1) {
        snprintf(label, sizeof label, "y");
    } else if (data[0] % 3 == 2) {
        size_t i = 1;
        while (i < size && i < sizeof label && data[i] != ',' && data[i] != '\n' && data[i])
            i++;
        memcpy(label, data + 1, i - 1);
        label[i - 1] = '\0';
        if (label[0] == '\0')
            snprintf(label, sizeof label, "y");
    }
    const char *path = fuzz_write_file("data.csv", data + 1, size - 1);
    xgb_table t;
    memset(&t, 0, sizeof t);
    spex_error err;
    spex_error_clear(&err);
    spex_status st = csv_read(path, "oracle.data", label, &t, &err);
    fuzz_check_status(st, &err, FUZZ_CODE(SPEX_EINPUT), "csv_read");
    if (st != SPEX_OK) {
        FUZZ_ASSERT(strstr(err.msg, "oracle.data") != NULL, "message does not name the key: %s",
                    err.msg);
    } else {
        FUZZ_ASSERT(t.rows >= 1 && t.cols >= 1 && t.names != NULL, "%zu rows, %d columns",
                    t.rows, t.cols);
        for (int j = 0; j < t.cols; j++)
            FUZZ_ASSERT(t.names[j] != NULL, "column %d has no name", j);
        if (label[0] != '\0') {
            FUZZ_ASSERT(t.y != NULL, "no labels");
            for (size_t r = 0; r < t.rows; r++)
                FUZZ_ASSERT(!isnan(t.y[r]), "label %zu is missing", r);
        }
        volatile double sum = 0;
        for (size_t i = 0; i < t.rows * (size_t)t.cols; i++)
            sum += t.x[i]; /* every cell was written (ASan/MSan-visible) */
        (void)sum;
    }
    table_free(&t);
    return 0;
}
