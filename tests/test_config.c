/* test_config.c -- the study parser: defaults, every error path with its
 * message (file:line and key) and code, --set overrides, path resolution,
 * the dump round trip, the embedded default study and the help listing.
 */
#if !defined(_POSIX_C_SOURCE) && !defined(_XOPEN_SOURCE)
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#endif

#include "spex/config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

/* Required keys only, on lines 1..6. */
#define MINIMAL "[features]\nn = 20\n[oracle]\nkind = sparse\n[method]\nname = spex\n"

static spex_status load(spex_config *cfg, const char *text, spex_error *err)
{
    spex_config_defaults(cfg);
    spex_error_clear(err);
    return spex_config_load_string(cfg, text, "study.ini", NULL, err);
}

/* The message holds every non-NULL piece; on failure it is printed. */
static void check_message(const spex_error *err, const char *a, const char *b, const char *c)
{
    CU_ASSERT_EQUAL(err->code, SPEX_EUSAGE);
    const char *want[] = {a, b, c};
    for (int i = 0; i < 3; i++) {
        if (want[i] == NULL)
            continue;
        bool found = strstr(err->msg, want[i]) != NULL;
        CU_ASSERT(found);
        if (!found)
            fprintf(stderr, "\n    wanted '%s' in '%s'\n", want[i], err->msg);
    }
}

static void expect_load_error(const char *text, const char *a, const char *b, const char *c)
{
    spex_config cfg;
    spex_error err;
    CU_ASSERT_EQUAL(load(&cfg, text, &err), SPEX_EUSAGE);
    check_message(&err, a, b, c);
}

static void expect_set_error(const char *assignment, const char *a, const char *b)
{
    spex_config cfg;
    spex_error err;
    spex_config_defaults(&cfg);
    spex_error_clear(&err);
    CU_ASSERT_EQUAL(spex_config_set(&cfg, assignment, &err), SPEX_EUSAGE);
    char prefix[256];
    snprintf(prefix, sizeof prefix, "--set %s: ", assignment);
    /* messages show control characters as '?' */
    for (char *c = prefix; *c; c++)
        if (*c > 0 && *c < 32)
            *c = '?';
    CU_ASSERT(strncmp(err.msg, prefix, strlen(prefix)) == 0);
    check_message(&err, a, b, NULL);
}

static void expect_finish_error(const char *text, const char *a, const char *b, const char *c)
{
    spex_config cfg;
    spex_error err;
    CU_ASSERT_EQUAL_FATAL(load(&cfg, text, &err), SPEX_OK);
    CU_ASSERT_EQUAL(spex_config_finish(&cfg, &err), SPEX_EUSAGE);
    check_message(&err, a, b, c);
}

/* ---- defaults and a clean load ---------------------------------------------- */

static void test_defaults_fill_every_optional_key(void)
{
    spex_config cfg;
    spex_config_defaults(&cfg);
    CU_ASSERT_STRING_EQUAL(cfg.study_name, "study");
    CU_ASSERT_EQUAL(cfg.seed, 1);
    CU_ASSERT_STRING_EQUAL(cfg.output, "spex-result.h5");
    CU_ASSERT_STRING_EQUAL(cfg.names, "");
    CU_ASSERT_STRING_EQUAL(cfg.spectrum, "");
    CU_ASSERT_EQUAL(cfg.basis, SPEX_BASIS_FOURIER);
    CU_ASSERT_EQUAL(cfg.terms, 100);
    CU_ASSERT_EQUAL(cfg.oracle_max_order, 4);
    CU_ASSERT_EQUAL(cfg.coef_min, 0.5);
    CU_ASSERT_EQUAL(cfg.coef_max, 2.0);
    CU_ASSERT_EQUAL(cfg.oracle_seed, -1);
    CU_ASSERT_EQUAL(cfg.noise_sigma, 0.0);
    CU_ASSERT_EQUAL(cfg.cost_us, 0.0);
    CU_ASSERT_EQUAL(cfg.batch, 4096);
    CU_ASSERT_EQUAL(cfg.max_order, 4);
    CU_ASSERT_EQUAL(cfg.b, 0);
    CU_ASSERT_EQUAL(cfg.groups, 3);
    CU_ASSERT_EQUAL(cfg.delays, SPEX_DELAYS_BCH);
    CU_ASSERT_EQUAL(cfg.budget, 0);
    CU_ASSERT_EQUAL(cfg.sparsity, 100);
    CU_ASSERT_EQUAL(cfg.top_k, 20);
    CU_ASSERT_STRING_EQUAL(cfg.origin, "");
    /* Required keys are marked unset, optional ones as defaults. */
    CU_ASSERT_EQUAL(cfg.key_line[spex_config_key_index("features.n")], SPEX_KEY_UNSET);
    CU_ASSERT_EQUAL(cfg.key_line[spex_config_key_index("oracle.kind")], SPEX_KEY_UNSET);
    CU_ASSERT_EQUAL(cfg.key_line[spex_config_key_index("method.name")], SPEX_KEY_UNSET);
    CU_ASSERT_EQUAL(cfg.key_line[spex_config_key_index("method.b")], 0);
    CU_ASSERT_EQUAL(cfg.key_line[spex_config_key_index("study.name")], 0);
}

static void test_load_records_values_and_lines(void)
{
    spex_config cfg;
    spex_error err;
    const char *text = "; a study\n"
                       "[study]\n"
                       "name = my study\n"
                       "seed = 42\n"
                       "\n"
                       MINIMAL
                       "[oracle]\n"
                       "basis = mobius\n"
                       "coef_min = 0.25\n"
                       "[method]\n"
                       "delays = identity\n"
                       "budget = 123456789012\n";
    CU_ASSERT_EQUAL_FATAL(load(&cfg, text, &err), SPEX_OK);
    CU_ASSERT_EQUAL(spex_config_finish(&cfg, &err), SPEX_OK);
    CU_ASSERT_STRING_EQUAL(cfg.study_name, "my study");
    CU_ASSERT_EQUAL(cfg.seed, 42);
    CU_ASSERT_EQUAL(cfg.n, 20);
    CU_ASSERT_EQUAL(cfg.oracle_kind, SPEX_ORACLE_SPARSE);
    CU_ASSERT_EQUAL(cfg.method, SPEX_METHOD_SPEX);
    CU_ASSERT_EQUAL(cfg.basis, SPEX_BASIS_MOBIUS);
    CU_ASSERT_EQUAL(cfg.coef_min, 0.25);
    CU_ASSERT_EQUAL(cfg.delays, SPEX_DELAYS_IDENTITY);
    CU_ASSERT_EQUAL(cfg.budget, INT64_C(123456789012));
    CU_ASSERT_STRING_EQUAL(cfg.origin, "study.ini");
    CU_ASSERT_EQUAL(cfg.key_line[spex_config_key_index("study.name")], 3);
    CU_ASSERT_EQUAL(cfg.key_line[spex_config_key_index("study.seed")], 4);
    CU_ASSERT_EQUAL(cfg.key_line[spex_config_key_index("features.n")], 7);
    CU_ASSERT_EQUAL(cfg.key_line[spex_config_key_index("method.budget")], 17);
    CU_ASSERT_EQUAL(cfg.key_line[spex_config_key_index("method.b")], 0);
}

static void test_indented_keys_are_not_continuations(void)
{
    /* libinih alone would read "max_order = 3" as more of name's value. */
    spex_config cfg;
    spex_error err;
    const char *text = "[features]\n  n = 20\n  [ method ]\n  name = spex\n  max_order = 3\n";
    CU_ASSERT_EQUAL_FATAL(load(&cfg, text, &err), SPEX_OK);
    CU_ASSERT_EQUAL(cfg.max_order, 3);
    CU_ASSERT_EQUAL(cfg.key_line[spex_config_key_index("method.max_order")], 5);
}

static void test_comments_crlf_bom_and_colon(void)
{
    spex_config cfg;
    spex_error err;
    const char *text = "\xEF\xBB\xBF; comment\r\n"
                       "# another\r\n"
                       "[features] ; the features\r\n"
                       "n: 12 ; twelve\r\n"
                       "[study]\r\n"
                       "name = a;b\r\n";
    CU_ASSERT_EQUAL_FATAL(load(&cfg, text, &err), SPEX_OK);
    CU_ASSERT_EQUAL(cfg.n, 12);
    CU_ASSERT_EQUAL(cfg.key_line[spex_config_key_index("features.n")], 4);
    /* ';' not after whitespace is part of the value. */
    CU_ASSERT_STRING_EQUAL(cfg.study_name, "a;b");
    CU_ASSERT_EQUAL(load(&cfg, "[study]\nname = a\tb\n", &err), SPEX_OK);
    CU_ASSERT_STRING_EQUAL(cfg.study_name, "a\tb");
    expect_load_error("[features]\nn = 10;ten\n", "study.ini:2: ", "features.n = '10;ten'",
                      "not an integer");
}

/* ---- errors in a study file -------------------------------------------------- */

static void test_unknown_section_without_keys(void)
{
    /* libinih never reports a section that has no keys; the scan does. */
    expect_load_error("[study]\nname = x\n[bogus]\n", "study.ini:3: ", "unknown section [bogus]",
                      NULL);
    expect_load_error("[features]\nn = 3\n[]\n", "study.ini:3: ", "unknown section []", NULL);
}

static void test_unknown_section_with_keys(void)
{
    expect_load_error("[features]\nn = 3\n\n[refinery]\nname = ols\n", "study.ini:4: ",
                      "unknown section [refinery]", NULL);
}

static void test_unknown_key(void)
{
    expect_load_error("[features]\nn = 3\n[oracle]\nkind = sparse\n\n[method]\nfoo = 1\n",
                      "study.ini:7: ", "unknown key 'foo' in section [method]", NULL);
}

static void test_key_before_any_section(void)
{
    expect_load_error("; top\nn = 3\n", "study.ini:2: ", "key 'n' before any [section]", NULL);
}

static void test_malformed_integer(void)
{
    expect_load_error("[method]\n\n\n\nb = abc\n", "study.ini:5: ", "method.b = 'abc'",
                      "is not an integer");
    expect_load_error("[method]\nb = 4x\n", "study.ini:2: ", "method.b = '4x'", "not an integer");
    expect_load_error("[method]\nb = 1.5\n", "study.ini:2: ", "method.b = '1.5'",
                      "not an integer");
    expect_load_error("[method]\nb =\n", "study.ini:2: ", "method.b = ''", "not an integer");
}

static void test_integer_out_of_range(void)
{
    expect_load_error("[method]\n\n\n\nb = 40\n", "study.ini:5: ",
                      "method.b = 40 is out of range 0..30", NULL);
    expect_load_error("[features]\nn = 0\n", "study.ini:2: ", "features.n = 0",
                      "out of range 1..2097151");
    expect_load_error("[features]\nn = 16777217\n", "study.ini:2: ", "features.n = 16777217",
                      "out of range");
    expect_load_error("[study]\nseed = -1\n", "study.ini:2: ", "study.seed = -1",
                      "out of range (must be >= 0)");
    expect_load_error("[oracle]\nseed = -2\n", "study.ini:2: ", "oracle.seed = -2", ">= -1");
    /* Beyond int64: strtoll overflows. */
    expect_load_error("[method]\nbudget = 99999999999999999999\n", "study.ini:2: ",
                      "method.budget = 99999999999999999999", "out of range");
    /* Beyond int, inside int64: the range check, not a wrap-around. */
    expect_load_error("[output]\ntop_k = 4294967316\n", "study.ini:2: ", "output.top_k",
                      "out of range 0..1000000");
}

static void test_bad_real(void)
{
    expect_load_error("[oracle]\ncoef_min = abc\n", "study.ini:2: ", "oracle.coef_min = 'abc'",
                      "is not a number");
    expect_load_error("[oracle]\ncoef_min = 0\n", "study.ini:2: ", "oracle.coef_min = 0",
                      "out of range (must be > 0)");
    expect_load_error("[oracle]\nnoise_sigma = nan\n", "study.ini:2: ", "oracle.noise_sigma",
                      "not a finite number");
    expect_load_error("[oracle]\ncost_us = 1e999\n", "study.ini:2: ", "oracle.cost_us",
                      "not a finite number");
    expect_load_error("[oracle]\nnoise_sigma = -0.1\n", "study.ini:2: ", "oracle.noise_sigma",
                      ">= 0");
}

static void test_bad_enum(void)
{
    expect_load_error("[oracle]\n\n\n\n\n\n\n\nbasis = x\n", "study.ini:9: ",
                      "oracle.basis = 'x' must be one of: fourier, mobius", NULL);
    expect_load_error("[method]\ndelays = BCH\n", "study.ini:2: ", "method.delays = 'BCH'",
                      "bch, identity");
}

static void test_repeated_key(void)
{
    expect_load_error("[features]\nn = 3\n[study]\n[features]\nn = 4\n", "study.ini:5: ",
                      "features.n given twice (first at line 2)", NULL);
}

static void test_line_over_199_chars(void)
{
    char text[1024];
    char name[256];
    memset(name, 'x', 200);
    name[200] = '\0';
    /* Line 4: "name = " + 200 characters. */
    snprintf(text, sizeof text, "[study]\nseed = 2\n\nname = %s\n[features]\nn = 3\n", name);
    expect_load_error(text, "study.ini:4: ", "line longer than 199 characters", NULL);
    /* A long comment is just as wrong: libinih would parse its tail. */
    snprintf(text, sizeof text, "[study]\n;%s\n", name);
    expect_load_error(text, "study.ini:2: ", "line longer than 199", NULL);
}

static void test_line_of_199_chars_keeps_line_numbers(void)
{
    /* A 199-character line is read whole, and later lines keep their numbers. */
    spex_config cfg;
    spex_error err;
    char text[1024], path[256];
    memset(path, 'p', 187);
    path[187] = '\0';
    snprintf(text, sizeof text, "[oracle]\nspectrum = /%s\n[method]\nfoo = 1\n", path);
    CU_ASSERT_EQUAL(strlen("spectrum = /") + strlen(path), 199);
    CU_ASSERT_EQUAL(load(&cfg, text, &err), SPEX_EUSAGE);
    check_message(&err, "study.ini:4: ", "unknown key 'foo'", NULL);
    CU_ASSERT_EQUAL(strlen(cfg.spectrum), 188);

    /* The same with CRLF endings and a 199-character comment. */
    char comment[256];
    memset(comment, 'c', 198);
    comment[198] = '\0';
    snprintf(text, sizeof text, "[method]\r\n;%s\r\nb = 99\r\n", comment);
    expect_load_error(text, "study.ini:3: ", "method.b = 99", NULL);
}

static void test_syntax_error_line(void)
{
    expect_load_error("[features]\nn = 3\njust some words\n", "study.ini:3: ",
                      "'just some words' is not 'key = value', '[section]' or a comment", NULL);
    /* '=' inside an inline comment does not count. */
    expect_load_error("[features]\nn ; = 3\n", "study.ini:2: ", "is not 'key = value'", NULL);
}

static void test_malformed_section_header(void)
{
    expect_load_error("[features]\nn = 3\n[method\nname = spex\n", "study.ini:3: ",
                      "section header '[method' has no closing ']'", NULL);
    expect_load_error("[method] name = spex\n", "study.ini:1: ",
                      "unexpected text 'name = spex' after section header", NULL);
}

static void test_first_wrong_line_is_reported(void)
{
    /* A handler error before a scan error, and the other way round. */
    expect_load_error("[method]\nfoo = 1\n\n\nwords\n", "study.ini:2: ", "unknown key 'foo'",
                      NULL);
    expect_load_error("[method]\nwords\n\n\nfoo = 1\n", "study.ini:2: ", "is not 'key = value'",
                      NULL);
    expect_load_error("[method]\nb = 99\n[nope]\n", "study.ini:2: ", "method.b = 99", NULL);
}

static void test_string_longer_than_field(void)
{
    char text[512], name[256];
    memset(name, 'n', 150);
    name[150] = '\0';
    snprintf(text, sizeof text, "[study]\nname = %s\n", name);
    expect_load_error(text, "study.ini:2: ", "study.name is longer than 127 characters", NULL);
}

/* ---- required keys and relations between keys ------------------------------- */

static void test_missing_required_key(void)
{
    expect_finish_error("[features]\n[oracle]\nkind = sparse\n[method]\nname = spex\n",
                        "study.ini: missing required key features.n in [features]", NULL, NULL);
    expect_finish_error("[features]\nn = 5\n[method]\nname = spex\n",
                        "study.ini: missing required key oracle.kind in [oracle]", NULL, NULL);
    expect_finish_error("[features]\nn = 5\n[oracle]\nkind = sparse\n",
                        "missing required key method.name in [method]", NULL, NULL);
    /* Nothing loaded: the message names the default study. */
    spex_config cfg;
    spex_error err;
    spex_config_defaults(&cfg);
    spex_error_clear(&err);
    CU_ASSERT_EQUAL(spex_config_finish(&cfg, &err), SPEX_EUSAGE);
    check_message(&err, "(default study): missing required key features.n", NULL, NULL);
}

static void test_cross_key_checks(void)
{
    expect_finish_error(MINIMAL "[oracle]\ncoef_min = 3\ncoef_max = 2.5\n",
                        "oracle.coef_min (3) exceeds oracle.coef_max (2.5)", NULL, NULL);
    expect_finish_error("[features]\nn = 3\n[oracle]\nkind = sparse\nterms = 2\n"
                        "[method]\nname = spex\nmax_order = 3\n",
                        "oracle.max_order (4) exceeds features.n (3)", NULL, NULL);
    expect_finish_error("[features]\nn = 3\n[oracle]\nkind = sparse\nterms = 2\nmax_order = 2\n"
                        "[method]\nname = spex\n",
                        "method.max_order (4) exceeds features.n (3)", NULL, NULL);
    expect_finish_error(MINIMAL "b = 21\n", "method.b (21) exceeds features.n (20)", NULL, NULL);
    /* 1 + 5 + 10 interactions of order <= 2 among 5 features. */
    expect_finish_error("[features]\nn = 5\n[oracle]\nkind = sparse\nterms = 17\nmax_order = 2\n"
                        "[method]\nname = spex\nmax_order = 2\n",
                        "oracle.terms (17) exceeds the 16 interactions", "oracle.max_order (2)",
                        "features.n (5)");
    /* ... which does not apply when the terms come from a file. */
    spex_config cfg;
    spex_error err;
    CU_ASSERT_EQUAL(load(&cfg,
                         "[features]\nn = 5\n[oracle]\nkind = sparse\nterms = 17\nmax_order = 2\n"
                         "spectrum = s.txt\n[method]\nname = spex\nmax_order = 2\n",
                         &err),
                    SPEX_OK);
    CU_ASSERT_EQUAL(spex_config_finish(&cfg, &err), SPEX_OK);
    /* Equal bounds are fine. */
    CU_ASSERT_EQUAL(load(&cfg, MINIMAL "[oracle]\ncoef_min = 2\ncoef_max = 2\n", &err), SPEX_OK);
    CU_ASSERT_EQUAL(spex_config_finish(&cfg, &err), SPEX_OK);
}

static void test_oracle_seed_follows_study_seed(void)
{
    spex_config cfg;
    spex_error err;
    CU_ASSERT_EQUAL_FATAL(load(&cfg, MINIMAL "[study]\nseed = 9\n", &err), SPEX_OK);
    CU_ASSERT_EQUAL(spex_config_finish(&cfg, &err), SPEX_OK);
    CU_ASSERT_EQUAL(cfg.oracle_seed, 9);
    CU_ASSERT_EQUAL_FATAL(load(&cfg, MINIMAL "[study]\nseed = 9\n[oracle]\nseed = 0\n", &err),
                          SPEX_OK);
    CU_ASSERT_EQUAL(spex_config_finish(&cfg, &err), SPEX_OK);
    CU_ASSERT_EQUAL(cfg.oracle_seed, 0);
}

/* ---- --set ------------------------------------------------------------------- */

static void test_set_malformed(void)
{
    expect_set_error("method.b", "expected section.key=value", NULL);
    expect_set_error("b=3", "expected section.key=value", NULL);
    expect_set_error(".b=3", "expected section.key=value", NULL);
    expect_set_error("method.=3", "expected section.key=value", NULL);
    expect_set_error("=3", "expected section.key=value", NULL);
}

static void test_set_unknown(void)
{
    expect_set_error("method.foo=1", "unknown key 'foo' in section [method]", NULL);
    expect_set_error("bogus.b=1", "unknown section [bogus]", NULL);
}

static void test_set_bad_value(void)
{
    expect_set_error("method.b=abc", "method.b = 'abc' is not an integer", NULL);
    expect_set_error("method.b=31", "method.b = 31 is out of range 0..30", NULL);
    expect_set_error("oracle.basis=walsh", "oracle.basis = 'walsh'", "fourier, mobius");
    expect_set_error("oracle.coef_max=-1", "oracle.coef_max = -1", "> 0");
    /* Values a study file could not carry back (the dump must load). */
    expect_set_error("study.name=a ;b", "study.name", "comment");
    expect_set_error("study.name=a\nb", "study.name", "control character");
}

static void test_set_overrides_file_value(void)
{
    spex_config cfg;
    spex_error err;
    CU_ASSERT_EQUAL_FATAL(load(&cfg, MINIMAL "b = 5\n", &err), SPEX_OK);
    int row = spex_config_key_index("method.b");
    CU_ASSERT_EQUAL(cfg.key_line[row], 7);
    CU_ASSERT_EQUAL(spex_config_set(&cfg, " method.b = 7 ", &err), SPEX_OK);
    CU_ASSERT_EQUAL(cfg.b, 7);
    CU_ASSERT_EQUAL(cfg.key_line[row], -1);
    /* --set may also give a required key, and may repeat. */
    spex_config_defaults(&cfg);
    CU_ASSERT_EQUAL(spex_config_set(&cfg, "features.n=30", &err), SPEX_OK);
    CU_ASSERT_EQUAL(spex_config_set(&cfg, "features.n=31", &err), SPEX_OK);
    CU_ASSERT_EQUAL(spex_config_set(&cfg, "oracle.kind=sparse", &err), SPEX_OK);
    CU_ASSERT_EQUAL(spex_config_set(&cfg, "method.name=spex", &err), SPEX_OK);
    CU_ASSERT_EQUAL(spex_config_set(&cfg, "study.name=a=b", &err), SPEX_OK);
    CU_ASSERT_EQUAL(spex_config_finish(&cfg, &err), SPEX_OK);
    CU_ASSERT_EQUAL(cfg.n, 31);
    CU_ASSERT_STRING_EQUAL(cfg.study_name, "a=b");
    CU_ASSERT_EQUAL(cfg.key_line[spex_config_key_index("features.n")], -1);
}

/* ---- paths ------------------------------------------------------------------- */

static void test_relative_paths_use_basedir(void)
{
    spex_config cfg;
    spex_error err;
    const char *text = "[study]\noutput = out/r.h5\n[features]\nnames = /abs/names.txt\n"
                       "[oracle]\nspectrum = terms.txt\n";
    spex_config_defaults(&cfg);
    spex_error_clear(&err);
    CU_ASSERT_EQUAL_FATAL(spex_config_load_string(&cfg, text, "s.ini", "/data/study", &err),
                          SPEX_OK);
    CU_ASSERT_STRING_EQUAL(cfg.output, "/data/study/out/r.h5");
    CU_ASSERT_STRING_EQUAL(cfg.names, "/abs/names.txt");
    CU_ASSERT_STRING_EQUAL(cfg.spectrum, "/data/study/terms.txt");
    /* Without a basedir (or with ".") paths stay as written. */
    spex_config_defaults(&cfg);
    CU_ASSERT_EQUAL(spex_config_load_string(&cfg, text, "s.ini", NULL, &err), SPEX_OK);
    CU_ASSERT_STRING_EQUAL(cfg.spectrum, "terms.txt");
    spex_config_defaults(&cfg);
    CU_ASSERT_EQUAL(spex_config_load_string(&cfg, text, "s.ini", ".", &err), SPEX_OK);
    CU_ASSERT_STRING_EQUAL(cfg.spectrum, "terms.txt");
    /* Empty means "none", not the directory. */
    CU_ASSERT_EQUAL(spex_config_load_string(&cfg, "[oracle]\nspectrum =\n", "s.ini", "/d", &err),
                    SPEX_OK);
    CU_ASSERT_STRING_EQUAL(cfg.spectrum, "");
    /* --set takes paths as they are. */
    CU_ASSERT_EQUAL(spex_config_set(&cfg, "oracle.spectrum=rel.txt", &err), SPEX_OK);
    CU_ASSERT_STRING_EQUAL(cfg.spectrum, "rel.txt");
}

static void test_load_file_resolves_against_its_directory(void)
{
    char dir[] = "/tmp/spex_test_config_XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    char path[512];
    snprintf(path, sizeof path, "%s/study.ini", dir);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(MINIMAL "[oracle]\nspectrum = terms.txt\n[method]\nb = x\n", f);
    fclose(f);

    spex_config cfg;
    spex_error err;
    spex_config_defaults(&cfg);
    spex_error_clear(&err);
    CU_ASSERT_EQUAL(spex_config_load_file(&cfg, path, &err), SPEX_EUSAGE);
    char where[600];
    snprintf(where, sizeof where, "%s:10: ", path);
    check_message(&err, where, "method.b = 'x'", NULL);
    char want[700];
    snprintf(want, sizeof want, "%s/terms.txt", dir);
    CU_ASSERT_STRING_EQUAL(cfg.spectrum, want);
    CU_ASSERT_STRING_EQUAL(cfg.origin, path);

    /* An unreadable file. */
    char missing[600];
    snprintf(missing, sizeof missing, "%s/none.ini", dir);
    spex_error_clear(&err);
    CU_ASSERT_EQUAL(spex_config_load_file(&cfg, missing, &err), SPEX_EUSAGE);
    snprintf(want, sizeof want, "cannot read study file '%s': ", missing);
    check_message(&err, want, "No such file", NULL);
    spex_error_clear(&err);
    CU_ASSERT_EQUAL(spex_config_load_file(&cfg, dir, &err), SPEX_EUSAGE);
    check_message(&err, "cannot read study file", NULL, NULL);

    remove(path);
    rmdir(dir);
}

/* ---- dump, default study, help ------------------------------------------------- */

static void test_dump_round_trip(void)
{
    spex_config a, b;
    spex_error err;
    const char *text = "[study]\nname = round trip\nseed = 12345678901\noutput = /o/r.h5\n"
                       "[features]\nn = 300\nnames = n.txt\n"
                       "[oracle]\nkind = sparse\nbasis = mobius\nterms = 7\nmax_order = 3\n"
                       "coef_min = 0.1\ncoef_max = 3.3333333333333335\nnoise_sigma = 1e-300\n"
                       "cost_us = 2.5\nbatch = 17\nseed = 5\n"
                       "[method]\nname = spex\nmax_order = 3\nb = 6\ngroups = 4\n"
                       "delays = identity\nbudget = 99999\nsparsity = 8\n"
                       "[output]\ntop_k = 0\n";
    CU_ASSERT_EQUAL_FATAL(load(&a, text, &err), SPEX_OK);
    CU_ASSERT_EQUAL_FATAL(spex_config_finish(&a, &err), SPEX_OK);
    char *d1 = spex_config_dump(&a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d1);
    CU_ASSERT_PTR_NOT_NULL(strstr(d1, "[method]\nname = spex\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(d1, "delays = identity\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(d1, "coef_min = 0.1\n"));

    CU_ASSERT_EQUAL_FATAL(load(&b, d1, &err), SPEX_OK);
    CU_ASSERT_EQUAL_FATAL(spex_config_finish(&b, &err), SPEX_OK);
    /* Every key field is the same (the bookkeeping after them differs). */
    CU_ASSERT(memcmp(&a, &b, offsetof(spex_config, origin)) == 0);
    CU_ASSERT_STRING_EQUAL(b.study_name, "round trip");
    CU_ASSERT_EQUAL(b.coef_max, 3.3333333333333335);
    CU_ASSERT_EQUAL(b.noise_sigma, 1e-300);
    CU_ASSERT_EQUAL(b.seed, INT64_C(12345678901));
    CU_ASSERT_EQUAL(b.basis, SPEX_BASIS_MOBIUS);
    /* Every key of the table is in the dump. */
    for (int i = 0; i < SPEX_CONFIG_KEYS_MAX; i++)
        if (b.key_line[i] != 0)
            CU_ASSERT(b.key_line[i] > 0);
    CU_ASSERT(b.key_line[spex_config_key_index("output.top_k")] > 0);
    CU_ASSERT(b.key_line[spex_config_key_index("oracle.cost_us")] > 0);
    char *d2 = spex_config_dump(&b);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d2);
    CU_ASSERT_STRING_EQUAL(d1, d2);
    free(d2);
    free(d1);
}

static void test_dump_of_unfinished_study_loads(void)
{
    spex_config a, b;
    spex_error err;
    spex_config_defaults(&a);
    char *d = spex_config_dump(&a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_PTR_NOT_NULL(strstr(d, "; n = (required, not given)\n"));
    CU_ASSERT_EQUAL(load(&b, d, &err), SPEX_OK);
    CU_ASSERT_EQUAL(b.key_line[spex_config_key_index("features.n")], SPEX_KEY_UNSET);
    free(d);
}

static void test_default_study_loads_and_finishes(void)
{
    spex_config cfg;
    spex_error err;
    spex_config_defaults(&cfg);
    spex_error_clear(&err);
    CU_ASSERT_EQUAL_FATAL(
        spex_config_load_string(&cfg, spex_default_study, "(default study)", NULL, &err),
        SPEX_OK);
    CU_ASSERT_EQUAL_FATAL(spex_config_finish(&cfg, &err), SPEX_OK);
    CU_ASSERT_EQUAL(cfg.n, 10000);
    CU_ASSERT_STRING_EQUAL(cfg.study_name, "default");
    CU_ASSERT_EQUAL(cfg.seed, 1);
    CU_ASSERT_EQUAL(cfg.oracle_kind, SPEX_ORACLE_SPARSE);
    CU_ASSERT_EQUAL(cfg.terms, 100);
    CU_ASSERT_EQUAL(cfg.oracle_max_order, 4);
    CU_ASSERT_EQUAL(cfg.method, SPEX_METHOD_SPEX);
    CU_ASSERT_EQUAL(cfg.max_order, 4);
    CU_ASSERT_EQUAL(cfg.top_k, 10);
    CU_ASSERT_EQUAL(cfg.oracle_seed, 1);
    CU_ASSERT_STRING_EQUAL(cfg.origin, "(default study)");
}

static void test_enum_names(void)
{
    CU_ASSERT_STRING_EQUAL(spex_config_enum_name("method.delays", SPEX_DELAYS_BCH), "bch");
    CU_ASSERT_STRING_EQUAL(spex_config_enum_name("method.delays", SPEX_DELAYS_IDENTITY),
                           "identity");
    CU_ASSERT_STRING_EQUAL(spex_config_enum_name("oracle.basis", SPEX_BASIS_FOURIER), "fourier");
    CU_ASSERT_STRING_EQUAL(spex_config_enum_name("oracle.basis", SPEX_BASIS_MOBIUS), "mobius");
    CU_ASSERT_STRING_EQUAL(spex_config_enum_name("oracle.kind", SPEX_ORACLE_SPARSE), "sparse");
    CU_ASSERT_STRING_EQUAL(spex_config_enum_name("method.name", SPEX_METHOD_SPEX), "spex");
    CU_ASSERT_PTR_NULL(spex_config_enum_name("method.delays", 2));
    CU_ASSERT_PTR_NULL(spex_config_enum_name("method.delays", -1));
    CU_ASSERT_PTR_NULL(spex_config_enum_name("method.b", 0));
    CU_ASSERT_PTR_NULL(spex_config_enum_name("method.nope", 0));
    CU_ASSERT_PTR_NULL(spex_config_enum_name("delays", 0));
}

static void test_key_index(void)
{
    CU_ASSERT_EQUAL(spex_config_key_index("study.name"), 0);
    CU_ASSERT(spex_config_key_index("output.top_k") > spex_config_key_index("method.b"));
    CU_ASSERT_EQUAL(spex_config_key_index("method"), -1);
    CU_ASSERT_EQUAL(spex_config_key_index("method.bb"), -1);
    CU_ASSERT_EQUAL(spex_config_key_index("bogus.b"), -1);
}

static void test_print_keys_lists_every_key(void)
{
    FILE *f = tmpfile();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    spex_config_print_keys(f);
    rewind(f);
    char line[512];
    int keys = 0;
    bool saw_b = false, saw_n = false, saw_basis = false;
    while (fgets(line, sizeof line, f) != NULL) {
        if (line[0] == '\n')
            continue;
        keys++;
        if (strstr(line, "  method.b ") && strstr(line, "<int 0..30>") &&
            strstr(line, "default 0") && strstr(line, "log2 of bins per group"))
            saw_b = true;
        if (strstr(line, "  features.n ") && strstr(line, "required"))
            saw_n = true;
        if (strstr(line, "oracle.basis") && strstr(line, "<fourier|mobius>") &&
            strstr(line, "default fourier"))
            saw_basis = true;
    }
    fclose(f);
    /* One help line per key: as many as the dump has "key =" lines. */
    spex_config cfg;
    spex_config_defaults(&cfg);
    char *dump = spex_config_dump(&cfg);
    int dumped = 0;
    for (char *p = dump; p && (p = strstr(p, " =")) != NULL; p += 2)
        dumped++;
    free(dump);
    CU_ASSERT(keys >= 30);
    CU_ASSERT_EQUAL(keys, dumped);
    CU_ASSERT(saw_b);
    CU_ASSERT(saw_n);
    CU_ASSERT(saw_basis);
}

static const test_case TESTS[] = {
    {"defaults_fill_every_optional_key", test_defaults_fill_every_optional_key},
    {"load_records_values_and_lines", test_load_records_values_and_lines},
    {"indented_keys_are_not_continuations", test_indented_keys_are_not_continuations},
    {"comments_crlf_bom_and_colon", test_comments_crlf_bom_and_colon},
    {"unknown_section_without_keys", test_unknown_section_without_keys},
    {"unknown_section_with_keys", test_unknown_section_with_keys},
    {"unknown_key", test_unknown_key},
    {"key_before_any_section", test_key_before_any_section},
    {"malformed_integer", test_malformed_integer},
    {"integer_out_of_range", test_integer_out_of_range},
    {"bad_real", test_bad_real},
    {"bad_enum", test_bad_enum},
    {"repeated_key", test_repeated_key},
    {"line_over_199_chars", test_line_over_199_chars},
    {"line_of_199_chars_keeps_line_numbers", test_line_of_199_chars_keeps_line_numbers},
    {"syntax_error_line", test_syntax_error_line},
    {"malformed_section_header", test_malformed_section_header},
    {"first_wrong_line_is_reported", test_first_wrong_line_is_reported},
    {"string_longer_than_field", test_string_longer_than_field},
    {"missing_required_key", test_missing_required_key},
    {"cross_key_checks", test_cross_key_checks},
    {"oracle_seed_follows_study_seed", test_oracle_seed_follows_study_seed},
    {"set_malformed", test_set_malformed},
    {"set_unknown", test_set_unknown},
    {"set_bad_value", test_set_bad_value},
    {"set_overrides_file_value", test_set_overrides_file_value},
    {"relative_paths_use_basedir", test_relative_paths_use_basedir},
    {"load_file_resolves_against_its_directory", test_load_file_resolves_against_its_directory},
    {"dump_round_trip", test_dump_round_trip},
    {"dump_of_unfinished_study_loads", test_dump_of_unfinished_study_loads},
    {"default_study_loads_and_finishes", test_default_study_loads_and_finishes},
    {"enum_names", test_enum_names},
    {"key_index", test_key_index},
    {"print_keys_lists_every_key", test_print_keys_lists_every_key},
    {NULL, NULL},
};

SPEX_TEST_MAIN("config")
