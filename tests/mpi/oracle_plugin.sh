#!/bin/sh
# oracle_plugin.sh -- the plugin oracle (src/oracle_plugin.c, the interface
# at the end of include/spex.h, doc/oracles.md): exact recovery through
# tools/plugin-example.c on 1 and 2 ranks; the minimal plugin printed in
# doc/oracles.md builds with the documented command and works; every
# loading and plugin failure gives one line naming the plugin, the right
# exit code on every rank and no result file.
. "$(dirname "$0")/common.sh"

: "${builddir:=$(cd "$(dirname "$SPEX")/.." && pwd)}"
PLUGIN="$builddir/tools/.libs/plugin-example.so"
MPICC=${MPICC:-mpicc}
SPEX_TEST_TIMEOUT=60
[ -f "$PLUGIN" ] || { fail "no $PLUGIN (make check builds it)"; finish; exit 1; }

# ---- recovery ----------------------------------------------------------------
# n = 1000, t = 4, b = 8: 3 groups x (10*4 + 1) delays x 256 bins = 31488 queries.
"$srcdir/tools/make-spectrum" --n 1000 --terms 60 --min-order 0 --max-order 4 --coef 0.5:2 \
    --seed 5 -o spec.txt
for k in 1 2; do
    spexrun $k run --set features.n=1000 --set oracle.kind=plugin --set oracle.plugin="$PLUGIN" \
        --set oracle.plugin_args="spectrum=spec.txt" --set method.max_order=4 --set method.b=8 \
        -o pl$k.h5
    rc=$?
    if [ $rc -eq 0 ] && $PY "$srcdir/tests/check_result.py" pl$k.h5 spec.txt --queries 31488 \
            >check.txt 2>&1; then
        pass "np=$k recovers the plugin's 60 terms: $(cat check.txt)"
    else
        fail "np=$k plugin recovery (exit $rc)"; cat out.txt check.txt | sed 's/^/  | /' | tail -20
    fi
done

# Inline terms in the Mobius basis; n = 13 is not a multiple of 8.
printf '0.25\n1.5 0 12\n-2 3 4 8\n1 7\n' > inline.txt
spexrun 2 run --set features.n=13 --set oracle.kind=plugin --set oracle.plugin="$PLUGIN" \
    --set oracle.plugin_args="basis=mobius term=0.25: term=1.5:0,12 term=-2:3,4,8 term=1:7" \
    --set method.max_order=3 --set method.b=5 -o inline.h5
if [ $? -eq 0 ] && $PY "$srcdir/tests/check_result.py" inline.h5 inline.txt --basis mobius \
        >check.txt 2>&1; then
    pass "inline Mobius terms, n = 13: $(cat check.txt)"
else
    fail "inline Mobius terms"; cat out.txt check.txt | sed 's/^/  | /' | tail -20
fi

# The minimal plugin of doc/oracles.md, built with the documented command.
awk '/<!-- minimal-plugin -->/ { on = 1; next } on && /^```c/ { grab = 1; next }
     grab && /^```/ { exit } grab { print }' "$srcdir/doc/oracles.md" > minimal.c
if [ -s minimal.c ] && $MPICC -shared -fPIC -I"$srcdir/include" -o minimal.so minimal.c \
        >cc.txt 2>&1; then
    printf '2.0 3\n-1.0 1 5\n' > minimal.txt
    spexrun 2 run --set features.n=20 --set oracle.kind=plugin --set oracle.plugin=minimal.so \
        --set method.max_order=2 --set method.b=4 -o minimal.h5
    if [ $? -eq 0 ] && $PY "$srcdir/tests/check_result.py" minimal.h5 minimal.txt \
            >check.txt 2>&1; then
        pass "doc/oracles.md's minimal plugin builds and is recovered: $(cat check.txt)"
    else
        fail "minimal plugin run"; cat out.txt check.txt | sed 's/^/  | /' | tail -20
    fi
else
    fail "doc/oracles.md's minimal plugin does not build"; sed 's/^/  | /' cc.txt minimal.c | head -30
fi

# ---- loading failures -------------------------------------------------------------
# Test plugins: variants of one source, chosen with -D.
cat > testplug.c <<'EOF'
#include <stdio.h>
#include <string.h>
#include "spex.h"
#ifndef ABI
#define ABI SPEX_PLUGIN_ABI
#endif
static int rank_of_state;
static int t_init(void **state, const spex_plugin_context *ctx, char *errbuf, size_t errlen)
{
    *state = &rank_of_state;
    rank_of_state = ctx->rank;
    if (strstr(ctx->args, "init-fail") && ctx->rank == 1) {
        snprintf(errbuf, errlen, "no GPU on rank %d\nsecond line", ctx->rank);
        return 42;
    }
    return 0;
}
static int t_eval(void *state, size_t count, const uint8_t *masks, uint64_t first_id,
                  double *values, char *errbuf, size_t errlen)
{
    static int calls;
    (void)masks;
    if (++calls == 3 && *(int *)state == 1) {
        snprintf(errbuf, errlen, "model crashed");
        return -1;
    }
    (void)first_id;
    for (size_t j = 0; j < count; j++)
        values[j] = 1.0;
    return 0;
}
#ifdef UNWRITTEN
static int t_nowrite(void *state, size_t count, const uint8_t *masks, uint64_t first_id,
                     double *values, char *errbuf, size_t errlen)
{
    (void)state; (void)count; (void)masks; (void)first_id; (void)values; (void)errbuf;
    (void)errlen;
    return 0;
}
#define EVAL t_nowrite
#elif defined(NO_EVAL)
#define EVAL NULL
#else
#define EVAL t_eval
#endif
#ifndef NO_SYMBOL
const spex_plugin spex_plugin_v1 = {ABI, "testplug", t_init, EVAL, NULL};
#else
int not_a_plugin(void);
int not_a_plugin(void) { return 0; }
#endif
EOF
build() { out=$1; shift; $MPICC -shared -fPIC -I"$srcdir/include" "$@" -o "$out" testplug.c ||
    fail "cannot build $out"; }
build ok.so
build abi2.so -DABI=2
build nosym.so -DNO_SYMBOL
build noeval.so -DNO_EVAL
build nowrite.so -DUNWRITTEN
echo "not a shared object" > text.so

PL="--set features.n=100 --set oracle.kind=plugin --set method.max_order=2 --set method.b=5"
for k in 1 2; do
    expect_fail $k 1 "error: oracle.plugin is empty" run $PL -o result.h5
    expect_fail $k 1 "error: cannot load plugin './nothere.so': ./nothere.so: cannot open shared object file" \
        run $PL --set oracle.plugin=nothere.so -o result.h5
    expect_fail $k 1 "error: cannot load plugin '$TMP/text.so': .*text.so: (invalid ELF header|file too short)" \
        run $PL --set oracle.plugin="$TMP/text.so" -o result.h5
    expect_fail $k 1 "error: plugin './nosym.so' does not export spex_plugin_v1" \
        run $PL --set oracle.plugin=nosym.so -o result.h5
    expect_fail $k 1 "error: plugin './abi2.so' was built for plugin ABI 2, this spex needs ABI 1" \
        run $PL --set oracle.plugin=abi2.so -o result.h5
    expect_fail $k 1 "error: plugin './noeval.so' \(testplug\) has no eval function" \
        run $PL --set oracle.plugin=noeval.so -o result.h5
    # The plugin's init messages, with the exit code it chose.
    expect_fail $k 2 "error: plugin '$PLUGIN' \(plugin-example\) failed to start on rank 0: cannot open spectrum file 'missing.txt': No such file" \
        run $PL --set oracle.plugin="$PLUGIN" --set oracle.plugin_args="spectrum=missing.txt" \
        -o result.h5
    expect_fail $k 1 "error: plugin '$PLUGIN' \(plugin-example\) failed to start on rank 0: unknown argument 'bogus=1'" \
        run $PL --set oracle.plugin="$PLUGIN" --set oracle.plugin_args="basis=mobius bogus=1" \
        -o result.h5
    expect_fail $k 1 "error: plugin '$PLUGIN' \(plugin-example\) failed to start on rank 0: oracle.plugin_args term: feature 100 is outside 0..99" \
        run $PL --set oracle.plugin="$PLUGIN" --set oracle.plugin_args="term=1:3,100" -o result.h5
    # Values that are not finite, from a plugin's bug or an unwritten value.
    expect_fail $k 3 "error: plugin oracle returned nan for query 777 on rank [0-9] \(values must be finite\)" \
        run $PL --set oracle.plugin="$PLUGIN" --set oracle.plugin_args="poison=777" -o result.h5
    expect_fail $k 3 "error: plugin oracle returned nan for query 0 on rank 0 \(values must be finite\)" \
        run $PL --set oracle.plugin=nowrite.so -o result.h5
done
# Failures on rank 1 only reach everyone: init (an unknown code becomes 3;
# the message is flattened to one line) and eval.
expect_fail 2 3 "error: plugin './ok.so' \(testplug\) failed to start on rank 1: no GPU on rank 1 second line$" \
    run $PL --set oracle.plugin=ok.so --set oracle.plugin_args=init-fail -o result.h5
expect_fail 2 3 "error: plugin './ok.so' \(testplug\) failed on rank 1 in call 3 \(queries [0-9]+\.\.[0-9]+\): model crashed" \
    run $PL --set oracle.plugin=ok.so -o result.h5
# ... and the same plugin works on one rank (it only fails on rank 1).
spexrun 1 run $PL --set oracle.plugin=ok.so -o ok.h5 && pass "test plugin runs on rank 0" ||
    { fail "test plugin on one rank"; sed 's/^/  | /' out.txt | tail; }

finish
