/* fuzz_config.c -- the study INI text (spex_config_load_string, src/config.c).
 *
 * Input: the text of a study file.  Checks: the parser returns ok or a
 * usage error (exit code 1) whose one-line message starts "fuzz.ini:<line>:"
 * with a line inside the text; an accepted study passes spex_config_finish
 * or fails it with a usage error; and the effective-study dump of an
 * accepted study (what the result file stores as /study/config and what a
 * checkpoint is matched by) loads back to the same dump.
 */
#include "fuzz_common.h"

#include <ctype.h>

#include "spex/config.h"

static void check_origin_line(const spex_error *err, const char *text)
{
    static const char prefix[] = "fuzz.ini:";
    FUZZ_ASSERT(strncmp(err->msg, prefix, sizeof prefix - 1) == 0,
                "message does not name the file: %s", err->msg);
    const char *p = err->msg + sizeof prefix - 1;
    if (!isdigit((unsigned char)*p))
        return; /* "fuzz.ini: too many lines" and the like: no line */
    long line = strtol(p, NULL, 10);
    long lines = 1;
    for (const char *c = text; *c; c++)
        lines += *c == '\n';
    FUZZ_ASSERT(line >= 1 && line <= lines, "line %ld outside the text's %ld lines: %s", line,
                lines, err->msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    char *text = malloc(size + 1);
    spex_config *cfg = malloc(sizeof *cfg), *again = malloc(sizeof *again);
    if (text == NULL || cfg == NULL || again == NULL)
        abort();
    memcpy(text, data, size);
    text[size] = '\0'; /* load_file rejects NUL bytes before this point */

    spex_error err;
    spex_error_clear(&err);
    spex_config_defaults(cfg);
    spex_status st = spex_config_load_string(cfg, text, "fuzz.ini", "studydir", &err);
    fuzz_check_status(st, &err, FUZZ_CODE(SPEX_EUSAGE), "spex_config_load_string");
    if (st != SPEX_OK) {
        check_origin_line(&err, text);
        goto out;
    }

    /* The dump of an accepted study is itself an accepted study with the
     * same dump (relative paths were joined once already: no basedir). */
    char *dump = spex_config_dump(cfg);
    FUZZ_ASSERT(dump != NULL, "spex_config_dump failed");
    spex_config_defaults(again);
    spex_error_clear(&err);
    st = spex_config_load_string(again, dump, "fuzz.ini", NULL, &err);
    /* Known limit, not checked: a value near 199 characters (a relative
     * path joined to the study's directory, a long --set) makes a dump
     * line libinih cannot read whole; spex then says so at that line. */
    if (st != SPEX_OK && strstr(err.msg, "line longer than") != NULL)
        goto skip_reload;
    FUZZ_ASSERT(st == SPEX_OK, "the dump of an accepted study does not load: %s\n%s", err.msg,
                dump);
    char *dump2 = spex_config_dump(again);
    FUZZ_ASSERT(dump2 != NULL && strcmp(dump, dump2) == 0,
                "the dump does not survive a reload:\n%s\n----\n%s", dump, dump2);
    free(dump2);
skip_reload:
    free(dump);

    spex_error_clear(&err);
    st = spex_config_finish(cfg, &err);
    fuzz_check_status(st, &err, FUZZ_CODE(SPEX_EUSAGE), "spex_config_finish");
out:
    free(again);
    free(cfg);
    free(text);
    return 0;
}
