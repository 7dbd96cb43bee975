#!/bin/sh
# run.sh -- hostile inputs (issue "Hardening"; doc/hardening.md).
#
# Every outside input spex reads -- the study file, --set, the spectrum and
# names files, a result file for `spex show`, the exec worker's answers, a
# plugin, a checkpoint, a plan file for `spex decode`, the output directory
# and the disk under it -- fed truncated, empty, binary, huge, NaN/Inf, of
# the wrong shape or type, or for another study.  Each case runs spex on 2
# ranks (through rankrc.sh, which records how each rank ended) and checks,
# as DESIGN.md section 8 promises:
#   - the documented exit code (1 usage, 2 input, 3 oracle, 5 I/O);
#   - exactly one "spex: error:" line, and it matches the case's pattern
#     (naming the file:line, the key, or the rank);
#   - every rank exited by itself with that code (mpirun is told not to
#     end the job early, so a rank that hangs shows as the time limit);
#   - within the case's time limit, and no process of the case left behind
#     (each case's processes carry a marker in their environment);
#   - no result file and no temporary file left; the existing result
#     (keep.h5, the output of the failing cases) and any checkpoint or input
#     the case names are byte-for-byte intact.
# A case that cannot run here (the full-disk cases need to mount a tmpfs)
# is reported as SKIP with the reason and counted as not run.
. "$(dirname "$0")/../mpi/common.sh"

HERE="$srcdir/tests/hostile"
CRAFT="$PY $HERE/craft.py"
NP=2
SKIPS=0
SKIPPED=""
CASE=0
# Unmount the full-disk tmpfs before common.sh's trap removes $TMP.
trap 'umount "$TMP/full" 2>/dev/null; rm -rf "$TMP"' EXIT

skip() { SKIPS=$((SKIPS + 1)); SKIPPED="$SKIPPED; $1"; echo "SKIP: $1"; }

# Processes of case $1 still alive (their environment holds its marker).
leftovers() {
    grep -las "SPEX_HOSTILE_CASE=$1" /proc/[0-9]*/environ 2>/dev/null |
        sed 's,^/proc/\([0-9]*\)/environ$,\1,'
}

# hcase CODE PATTERN ARGS...: spex ARGS on $NP ranks must exit with CODE
# (an extended regex: "2|5" allows either), print exactly one error line
# matching PATTERN (for CODE 0: a line matching PATTERN anywhere), have
# every rank exit with CODE, and leave the files named in PROTECT (default
# keep.h5) intact and no *.tmp-* files.  Settings for one case, reset
# after it: LIMIT (seconds, default 45), PROTECT, RANKS=any (a crashing
# rank: skip the per-rank check), MSG=anywhere (the pattern may be any
# line, e.g. mpirun's), DURING (a command run in the background once the
# run prints "queries on", after DELAY seconds).
hcase() {
    code=$1 pat=$2
    shift 2
    CASE=$((CASE + 1))
    tag="$$-$CASE-end"
    : "${LIMIT:=45}" "${PROTECT=keep.h5}" "${RANKS:=each}" "${DURING:=}" "${DELAY:=0.5}" "${MSG:=line}"
    # Copies of the protected files, outside any small file system.
    rm -rf "$TMP/.protect"
    mkdir -p "$TMP/.protect"
    for f in $PROTECT; do [ -e "$f" ] && cp "$f" "$TMP/.protect/$(echo "$f" | tr / _)"; done
    rm -rf rc out.txt
    mkdir rc
    : > out.txt
    if [ -n "$DURING" ]; then
        (
            i=0
            while ! grep -q "queries on" out.txt 2>/dev/null && [ $i -lt 600 ]; do
                sleep 0.1
                i=$((i + 1))
            done
            sleep "$DELAY"
            eval "$DURING"
        ) &
        during=$!
    fi
    t0=$(date +%s)
    # mpirun would end the other ranks as soon as one exits non-zero (even
    # one that is past MPI_Finalize and exiting with the same code): told
    # not to, it lets every rank show that it ends by itself, and a rank
    # that hangs shows as the time limit.
    SPEX_HOSTILE_CASE=$tag timeout -k 5 "$LIMIT" "$MPIRUN" --oversubscribe -np "$NP" \
        --mca orte_abort_on_non_zero_status 0 \
        sh "$HERE/rankrc.sh" "$TMP/rc" "$SPEX" "$@" >out.txt 2>&1 &
    job=$!
    # A rank killed by a signal (a crash: its record is 128 + the signal)
    # leaves the others waiting for it, and this mpirun does not end them:
    # after 2 s of grace, end the job (the crash is what the case reports).
    crashed=""
    while kill -0 "$job" 2>/dev/null; do
        if [ -z "$crashed" ] && [ -n "$(cat rc/rank.* 2>/dev/null | awk '$1 >= 128')" ]; then
            crashed=$(date +%s)
        fi
        if [ -n "$crashed" ] && [ $(( $(date +%s) - crashed )) -ge 2 ]; then
            kill -TERM $(pgrep -P "$job") 2>/dev/null
            break
        fi
        sleep 0.1
    done
    wait "$job"
    mrc=$?
    t=$(( $(date +%s) - t0 ))
    [ -n "$DURING" ] && wait "$during" 2>/dev/null
    # The job's code: the one every rank exited with, else mpirun's (a
    # rank killed by a signal, the time limit).
    rc=$mrc
    codes=$(cat rc/rank.* 2>/dev/null | sort -u)
    if [ "$(ls rc | wc -l)" -eq "$NP" ] && [ "$(echo "$codes" | wc -l)" -eq 1 ] &&
       { [ "$mrc" -eq 0 ] || [ "$mrc" -eq "$codes" ]; }; then
        rc=$codes
    fi
    why=""
    echo "$rc" | grep -qxE "$code" || why="$why exit $rc (want $code);"
    if [ "$code" = 0 ] || [ "$MSG" = anywhere ]; then
        grep -aqE "$pat" out.txt || why="$why no line matches '$pat';"
    else
        nerr=$(grep -ac "spex: error" out.txt)
        nmatch=$(grep -a "spex: error" out.txt | grep -acE "$pat")
        [ "$nerr" -eq 1 ] && [ "$nmatch" -eq 1 ] ||
            why="$why $nerr error lines, $nmatch match '$pat';"
    fi
    if [ "$RANKS" = each ]; then
        r=0
        while [ $r -lt "$NP" ]; do
            got=$(cat "rc/rank.$r" 2>/dev/null || echo none)
            [ "$got" = "$rc" ] || why="$why rank $r ended with '$got' (not by itself?);"
            r=$((r + 1))
        done
    fi
    [ "$mrc" -eq 124 ] || [ "$mrc" -eq 137 ] && why="$why hit the ${LIMIT} s limit;"
    for f in $PROTECT; do
        orig="$TMP/.protect/$(echo "$f" | tr / _)"
        if [ -e "$orig" ] && ! cmp -s "$f" "$orig"; then
            why="$why $f changed or removed;"
        fi
    done
    tmps=$(ls ./*.tmp-* ./*/*.tmp-* 2>/dev/null)
    [ -z "$tmps" ] || { why="$why temporary files left: $tmps;"; rm -f $tmps; }
    [ "$code" = 0 ] || [ ! -e result.h5 ] || { why="$why result.h5 written;"; rm -f result.h5; }
    left=""
    for try in 1 2 3 4 5 6; do
        left=$(leftovers "$tag")
        [ -z "$left" ] && break
        sleep 0.5
    done
    if [ -n "$left" ]; then
        why="$why processes left: $left;"
        kill -9 $left 2>/dev/null
    fi
    name="$(echo "$*" | cut -c1-110)"
    if [ -z "$why" ]; then
        pass "[$t s] exit $rc: $pat"
    else
        fail "[$t s] spex $name:$why"
        grep -av "^ *$" out.txt | grep -av -- "------" | head -8 | sed 's/^/  | /'
    fi
    PROTECT=keep.h5
    unset LIMIT RANKS DURING DELAY MSG
}

T_START=$(date +%s)

# ---- fixtures ---------------------------------------------------------------------
# SMALL: a quick study (64 features, 8 terms); keep.h5 is its result, the
# output every failing case names and must leave intact.
SMALL="--set features.n=64 --set oracle.terms=8 --set method.max_order=2 --set method.b=4 --set output.test_masks=64 --set study.checkpoint=none"
spexrun $NP run $SMALL -q -o keep.h5 || { fail "fixture: keep.h5"; cat out.txt; finish; exit 1; }
printf 'n%s\n' $(seq 0 63) > names64.txt
spexrun $NP run $SMALL --set features.names=names64.txt -q -o named.h5 ||
    { fail "fixture: named.h5"; cat out.txt; }
VALID="[features]\nn = 64\n[oracle]\nkind = sparse\nterms = 8\n[method]\nname = spex\nmax_order = 2\nb = 4\n[output]\ntest_masks = 0\n"

# ---- the study file (exit 1) ----------------------------------------------------
: > study-empty.ini
hcase 1 "error: study-empty.ini: missing required key features.n" run study-empty.ini -o keep.h5
printf '[features]\nn = 64\n[oracle]\nkind = sparse\n[meth' > study-trunc.ini
hcase 1 "error: study-trunc.ini:5: section header '\[meth' has no closing" run study-trunc.ini -o keep.h5
$CRAFT garbage study-garbage.ini 3000 1
hcase 1 "error: .*study-garbage.ini" run study-garbage.ini -o keep.h5
# A NUL byte: the text after it must not be silently dropped.
{ printf "$VALID"; printf '\0[method]\nb = 99\n'; } > study-nul.ini
hcase 1 "error: .*study-nul.ini.*NUL" run study-nul.ini -o keep.h5
printf "$VALID" | sed 's/^terms = 8$/terms = 8\ncoef_min = nan/' > study-nan.ini
hcase 1 "error: study-nan.ini:6: oracle.coef_min = 'nan' is not a finite number" run study-nan.ini -o keep.h5
printf "$VALID" | sed 's/^terms = 8$/noise_sigma = -inf/' > study-inf.ini
hcase 1 "error: study-inf.ini:5: oracle.noise_sigma = '-inf' is not a finite number" run study-inf.ini -o keep.h5
printf "$VALID" | sed 's/^n = 64$/n = 99999999999999999999/' > study-huge.ini
hcase 1 "error: study-huge.ini:2: features.n = 99999999999999999999 is out of range" run study-huge.ini -o keep.h5
printf "$VALID" | sed 's/^n = 64$/n = 2097151/; s/^b = 4$/b = 30/; s/^terms = 8$/terms = 8/' > study-design.ini
hcase 1 "error: design too large: .* lower method.b" run study-design.ini -o keep.h5
printf "$VALID" | sed 's/^b = 4$/b = four/' > study-type.ini
hcase 1 "error: study-type.ini:9: method.b = 'four' is not an integer" run study-type.ini -o keep.h5
{ printf "$VALID"; printf '[study]\nname = %0250d\n' 0; } > study-long.ini
hcase 1 "error: study-long.ini:13: line longer than 199 characters" run study-long.ini -o keep.h5
{ printf "$VALID"; printf '[method]\nb = 5\n'; } > study-twice.ini
hcase 1 "error: study-twice.ini:13: method.b given twice \(first at line 9\)" run study-twice.ini -o keep.h5
mkdir -p study-dir.ini
hcase 1 "error: cannot read study file 'study-dir.ini'" run study-dir.ini -o keep.h5
hcase 1 "error: cannot read study file 'missing.ini': No such file" run missing.ini -o keep.h5

# ---- --set (exit 1) -----------------------------------------------------------------
hcase 1 "error: --set needs section.key=value" run $SMALL -o keep.h5 --set
hcase 1 "error: --set features.n=2097152: features.n = 2097152 is out of range 1..2097151" \
    run $SMALL --set features.n=2097152 -o keep.h5
hcase 1 "error: --set oracle.coef_max=inf: .* is not a finite number" \
    run $SMALL --set oracle.coef_max=inf -o keep.h5
hcase 1 "error: --set oracle.terms=10000001: .*out of range" run $SMALL --set oracle.terms=10000001 -o keep.h5
hcase 1 "error: .*oracle.terms \(10000000\) exceeds the 7 interactions" \
    run $SMALL --set features.n=3 --set oracle.terms=10000000 --set oracle.max_order=2 --set method.b=1 -o keep.h5
hcase 1 "error: design too large" run $SMALL --set features.n=2097151 --set method.b=30 -o keep.h5
hcase 1 "error: --set method.name=SPEX: method.name = 'SPEX' must be one of: spex" \
    run $SMALL --set method.name=SPEX -o keep.h5
# An empty output path is a usage error, found before any work.
hcase 1 "error: .*study.output" run $SMALL --set study.output= -q
# A value the effective study cannot carry: a newline (the message must
# still be one line) and a leading ';' (read back as a comment).
hcase 1 "error: --set oracle.command=a.b: .*control character" \
    run $SMALL --set "oracle.command=$(printf 'a\nb')" -o keep.h5
hcase 1 "error: --set study.name=;x: .*comment" run $SMALL --set "study.name=;x" -o keep.h5

# ---- spectrum files (exit 2) ------------------------------------------------------
SPEC="--set features.n=100 --set method.max_order=3 --set method.b=5 --set output.test_masks=0 --set study.checkpoint=none"
: > spec-empty.txt
hcase 0 "recovered 0 terms" run $SPEC --set oracle.spectrum=spec-empty.txt -o spec-empty.h5
printf '1.5 3 1\n0.25 4\n-1e' > spec-trunc.txt
hcase 2 "error: spec-trunc.txt:3: expected a coefficient, found '-1e'$" run $SPEC --set oracle.spectrum=spec-trunc.txt -o keep.h5
$CRAFT garbage spec-garbage.txt 2000 2
hcase 2 "error: spec-garbage.txt:[0-9]+: " run $SPEC --set oracle.spectrum=spec-garbage.txt -o keep.h5
printf '1.0 2\nabc\n' > spec-word.txt
hcase 2 "error: spec-word.txt:2: expected a coefficient, found 'abc'$" run $SPEC --set oracle.spectrum=spec-word.txt -o keep.h5
printf '1.0 2\nnan 3\n' > spec-nan.txt
hcase 2 "error: spec-nan.txt:2: coefficient 'nan' is not a finite number" run $SPEC --set oracle.spectrum=spec-nan.txt -o keep.h5
printf '1.0 2\n1e999 3\n' > spec-inf.txt
hcase 2 "error: spec-inf.txt:2: coefficient '1e999' is not a finite number" run $SPEC --set oracle.spectrum=spec-inf.txt -o keep.h5
printf '0.5 1 2\n0.5 150\n' > spec-n.txt
hcase 2 "error: spec-n.txt:2: feature index 150 out of range 0..99" run $SPEC --set oracle.spectrum=spec-n.txt -o keep.h5
printf '0.5 99999999999999999999\n' > spec-huge.txt
hcase 2 "error: spec-huge.txt:1: feature index 99999999999999999999 out of range" run $SPEC --set oracle.spectrum=spec-huge.txt -o keep.h5
printf '0.5 %s\n' "$(seq -s ' ' 0 16)" > spec-order.txt
hcase 2 "error: spec-order.txt:1: more than 16 features in one term" run $SPEC --set oracle.spectrum=spec-order.txt -o keep.h5
printf '0.5 7 3 7\n' > spec-repeat.txt
hcase 2 "error: spec-repeat.txt:1: feature index 7 repeated in one term" run $SPEC --set oracle.spectrum=spec-repeat.txt -o keep.h5
printf '0.5 3 7\n# c\n0.25 7 3\n' > spec-twice.txt
hcase 2 "error: spec-twice.txt:3: feature set repeats line 1" run $SPEC --set oracle.spectrum=spec-twice.txt -o keep.h5
hcase 2 "error: cannot read spectrum file 'nothere.txt'" run $SPEC --set oracle.spectrum=nothere.txt -o keep.h5

# ---- names files (exit 2; a missing file is 5, "cannot read a file") ------------
NAMES="--set features.n=5 --set oracle.terms=5 --set oracle.max_order=2 --set method.max_order=2 --set method.b=2 --set output.test_masks=0 --set study.checkpoint=none"
: > names-empty.txt
hcase 2 "error: names-empty.txt: has 0 names, features.n is 5" run $NAMES --set features.names=names-empty.txt -o keep.h5
printf 'a\nb\nc\nd' > names-trunc.txt
hcase 2 "error: names-trunc.txt: has 4 names, features.n is 5" run $NAMES --set features.names=names-trunc.txt -o keep.h5
printf 'a\nb\nc\nd\ne\nf\n' > names-more.txt
hcase 2 "error: names-more.txt: has 6 names, features.n is 5" run $NAMES --set features.names=names-more.txt -o keep.h5
printf 'a\nb\0x\nc\nd\ne\n' > names-nul.txt
hcase 2 "error: names-nul.txt:2: contains a NUL byte" run $NAMES --set features.names=names-nul.txt -o keep.h5
printf 'a\n%0100d\nc\nd\ne\n' 7 > names-long.txt
hcase 2 "error: names-long.txt:2: name is 100 bytes long, at most 63" run $NAMES --set features.names=names-long.txt -o keep.h5
printf 'a\nb\nc\nb\ne\n' > names-twice.txt
hcase 2 "error: names-twice.txt:4: name 'b' repeats line 2" run $NAMES --set features.names=names-twice.txt -o keep.h5
printf 'a\n\nc\nd\ne\n' > names-gap.txt
hcase 2 "error: names-gap.txt:2: empty line" run $NAMES --set features.names=names-gap.txt -o keep.h5
hcase 5 "error: cannot open 'nothere.txt': No such file" run $NAMES --set features.names=nothere.txt -o keep.h5

# ---- result files for spex show (exit 2, or 5 when the file cannot be read) ------
: > show-empty.h5
PROTECT=show-empty.h5 hcase 2 "error: 'show-empty.h5' is not a spex result file \(not HDF5\)" show show-empty.h5
$CRAFT truncate keep.h5 show-trunc.h5 0.5
PROTECT=show-trunc.h5 hcase "2|5" "error: .*show-trunc.h5" show show-trunc.h5
$CRAFT garbage show-garbage.h5 20000 3
PROTECT=show-garbage.h5 hcase 2 "error: 'show-garbage.h5' is not a spex result file" show show-garbage.h5
$CRAFT foreign show-foreign.h5
PROTECT=show-foreign.h5 hcase 2 "error: 'show-foreign.h5' is not a spex result file" show show-foreign.h5
hcase 5 "error: cannot open 'nothere.h5': No such file" show nothere.h5
for k in order-float features-oob n-terms-huge max-order-99 version-2 coef-short; do
    $CRAFT result keep.h5 show-$k.h5 $k
done
$CRAFT result named.h5 show-names-short.h5 names-short
PROTECT=show-order-float.h5 hcase 2 "error: show-order-float.h5: dataset /fourier/order is not integer" show show-order-float.h5
PROTECT=show-features-oob.h5 hcase 2 "error: show-features-oob.h5: /fourier/features row 0 is not 1 ascending indices below n_features 64" show show-features-oob.h5
# A count the datasets do not have: an input error, not "out of memory".
PROTECT=show-n-terms-huge.h5 hcase 2 "error: show-n-terms-huge.h5: " show show-n-terms-huge.h5
PROTECT=show-max-order-99.h5 hcase 2 "error: show-max-order-99.h5: attribute 'max_order' of / is 99, outside 0..16" show show-max-order-99.h5
PROTECT=show-version-2.h5 hcase 2 "error: 'show-version-2.h5' has format_version 2, this spex reads 1" show show-version-2.h5
PROTECT=show-coef-short.h5 hcase 2 "error: show-coef-short.h5: dataset /fourier/coef is not float" show show-coef-short.h5
PROTECT=show-names-short.h5 hcase 2 "error: show-names-short.h5: dataset /features/name is not string\[64\]" show show-names-short.h5
# The other outputs of the file: a feature outside n_features (names are
# looked up by it), a row count that disagrees, a short vector.
$CRAFT result named.h5 show-mobius-oob.h5 mobius-feature-oob
PROTECT=show-mobius-oob.h5 hcase 2 "error: show-mobius-oob.h5: .*mobius" show show-mobius-oob.h5 --index mobius
$CRAFT result named.h5 show-mobius-long.h5 mobius-order-long
LIMIT=15 PROTECT=show-mobius-long.h5 hcase 2 "error: show-mobius-long.h5: .*mobius" show show-mobius-long.h5 --index mobius
$CRAFT result named.h5 show-shapley.h5 shapley-short
PROTECT=show-shapley.h5 hcase 2 "error: show-shapley.h5: /values/shapley is not 64 float64 values" show show-shapley.h5 --index shapley

# ---- the exec worker (exit 3) ---------------------------------------------------------
EX="--set features.n=20 --set oracle.kind=exec --set method.max_order=1 --set method.b=3 --set method.groups=1 --set output.test_masks=0 --set oracle.timeout=2 --set study.checkpoint=none"
# answer.sh [VALUE]: a correct worker in sh; VALUE replaces every answer.
cat > answer.sh <<'EOF'
read header
while read cmd count; do
    i=0
    while [ $i -lt "$count" ]; do read mask; echo "${1:-1.0}"; i=$((i + 1)); done
done
EOF
hcase 3 "error: exec worker on rank [01] \('yes 1.0'\) printed more values than asked" \
    run $EX --set oracle.command='yes 1.0' -o keep.h5
hcase 3 "error: exec worker on rank [01] \('.*'\) exited with status 0 after 3 values \(3 of 8 in batch 1\)" \
    run $EX --set oracle.command='read h; read b; for i in 1 2 3; do read m; echo 1; done; exit 0' -o keep.h5
LIMIT=30 hcase 3 "error: exec worker on rank [01] \('sleep 10; sh answer.sh'\) took longer than oracle.timeout = 2 s" \
    run $EX --set oracle.command='sleep 10; sh answer.sh' -o keep.h5
hcase 3 "error: exec worker on rank 0 \('true'\) exited with status 0 after 0 values \(0 of 8 in batch 1\)" \
    run $EX --set oracle.command=true -o keep.h5
hcase 3 "error: exec worker on rank [01] \('sh answer.sh nan'\) printed a non-finite value 'nan' as value 1 of batch 1" \
    run $EX --set oracle.command='sh answer.sh nan' -o keep.h5
hcase 3 "error: exec worker on rank [01] \('sh answer.sh 1e999'\) printed a non-finite value '1e999'" \
    run $EX --set oracle.command='sh answer.sh 1e999' -o keep.h5
$CRAFT garbage worker-garbage.bin 300 4
hcase 3 "error: exec worker on rank [01] \('cat worker-garbage.bin; cat >/dev/null'\) (printed |took longer)" \
    run $EX --set oracle.command='cat worker-garbage.bin; cat >/dev/null' -o keep.h5
hcase 3 "error: exec worker on rank [01] \('.*'\) printed a line over 4095 bytes as value 1 of batch 1" \
    run $EX --set oracle.command='read h; read b; head -c 5000 /dev/zero | tr "\\0" 7; cat >/dev/null' -o keep.h5
hcase 3 "error: exec worker on rank [01] \('exec >&-; sleep 60'\) closed its output but kept running" \
    run $EX --set oracle.command='exec >&-; sleep 60' -o keep.h5
# Ignores SIGTERM and leaves a child holding its output: killed with its
# process group at the timeout, nothing left running.
LIMIT=30 hcase 3 "error: exec worker on rank [01] \('.*'\) took longer than oracle.timeout = 2 s" \
    run $EX --set oracle.command='trap "" TERM; sleep 60 & read h; read b; sleep 60' -o keep.h5
hcase 3 "error: exec worker on rank [01] \('read h; read b; kill -SEGV [$][$]'\) was killed by signal 11" \
    run $EX --set oracle.command='read h; read b; kill -SEGV $$' -o keep.h5
hcase 3 "error: exec worker on rank 1 \('.*'\) printed 'abc' as value 1 of batch 1 \(not a number\)" \
    run $EX --set oracle.command='if [ "$SPEX_RANK" = 1 ]; then sh answer.sh abc; else sh answer.sh; fi' -o keep.h5
hcase 3 "error: exec worker on rank 0 \('no-such-worker-xyz'\) exited with status 127" \
    run $EX --set oracle.command=no-such-worker-xyz -o keep.h5

# ---- plugins (exit 1 to load, 3 when it fails) ---------------------------------------
PL="--set features.n=20 --set oracle.kind=plugin --set method.max_order=1 --set method.b=3 --set method.groups=1 --set output.test_masks=0 --set study.checkpoint=none"
cat > plug.c <<'EOF'
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include "spex.h"
static int init(void **s, const spex_plugin_context *c, char *e, size_t n)
{
    (void)s; (void)e; (void)n;
#ifdef CRASH_INIT
    raise(SIGSEGV);
#endif
    return 0;
}
static int eval(void *s, size_t count, const uint8_t *m, uint64_t id, double *v, char *e, size_t n)
{
    (void)s; (void)m; (void)id;
    for (size_t i = 0; i < count; i++)
        v[i] = 1.0;
#ifdef NAN_EVAL
    v[count - 1] = NAN;
#endif
#ifdef FAIL_EVAL
    snprintf(e, n, "device lost");
    return 1;
#endif
    (void)e; (void)n;
    return 0;
}
SPEX_PLUGIN_EXPORT const spex_plugin spex_plugin_v1 = {ABI, "hostile", init, eval, NULL};
EOF
# Built as doc/oracles.md says (spex.h includes mpi.h).
CCP="mpicc -shared -fPIC -I$srcdir/include -o"
$CCP crash.so -DABI=1 -DCRASH_INIT plug.c && $CCP nan.so -DABI=1 -DNAN_EVAL plug.c &&
    $CCP fail.so -DABI=1 -DFAIL_EVAL plug.c && $CCP abi9.so -DABI=9 plug.c ||
    fail "cannot build the test plugins"
printf 'not a shared object\n' > text.so
: > empty.so
hcase 1 "error: cannot load plugin '\./text.so': \./text.so: (invalid ELF header|file too short)" \
    run $PL --set oracle.plugin=text.so -o keep.h5
hcase 1 "error: cannot load plugin '\./empty.so': \./empty.so: file too short" \
    run $PL --set oracle.plugin=empty.so -o keep.h5
hcase 1 "error: plugin '\./abi9.so' was built for plugin ABI 9, this spex needs ABI 1" \
    run $PL --set oracle.plugin=abi9.so -o keep.h5
hcase 3 "error: plugin oracle returned nan for query [0-9]+ on rank [01] \(values must be finite\)" \
    run $PL --set oracle.plugin=nan.so -o keep.h5
hcase 3 "error: plugin '\./fail.so' \(hostile\) failed on rank [01] in call 1 .*: device lost" \
    run $PL --set oracle.plugin=fail.so -o keep.h5
# A plugin that crashes takes its rank with it (doc/oracles.md: use exec
# for isolation): mpirun ends the job with the signal; nothing is written
# and nothing is left running.  (In the sanitizer build, ASan's own SEGV
# handler is off for this case: the signal is the plugin's, not a bug of
# spex, and must not count as a sanitizer report.)
san_saved=${ASAN_OPTIONS-}
[ -n "$san_saved" ] && export ASAN_OPTIONS="$san_saved:handle_segv=0"
RANKS=any MSG=anywhere hcase "1|1[0-9][0-9]" "Segmentation fault|signal 11|SEGV" run $PL --set oracle.plugin=./crash.so -o keep.h5
[ -n "$san_saved" ] && export ASAN_OPTIONS="$san_saved"

# ---- checkpoints (exit 2; the file is never changed or removed) -------------------
# A real checkpoint of CK, stopped by SIGUSR1 once the evaluation started.
CK="--set features.n=300 --set oracle.terms=10 --set method.b=3 --set oracle.cost_us=3000 --set oracle.batch=8 --set output.test_masks=0"
timeout -k 5 60 "$MPIRUN" --oversubscribe -np $NP "$SPEX" run $CK -o ck.h5 >bg.txt 2>&1 &
bg=$!
i=0
while ! grep -q "queries on" bg.txt && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
sleep 1
kill -USR1 $(pgrep -P $bg) 2>/dev/null
wait $bg
if [ -f ck.h5.ckpt ] && grep -q "stopped by SIGUSR1" bg.txt; then
    cp ck.h5.ckpt ck.good
    PROTECT=ck.h5.ckpt hcase 2 "error: checkpoint 'ck.h5.ckpt' belongs to another study" \
        run $CK --set study.seed=9 -o ck.h5
    # set_ckpt FILE: FILE in the checkpoint's place (same study, same path).
    : > ck.h5.ckpt
    PROTECT=ck.h5.ckpt hcase 2 "error: checkpoint 'ck.h5.ckpt' cannot be opened as HDF5" run $CK -o ck.h5
    $CRAFT truncate ck.good ck.h5.ckpt 0.6
    PROTECT=ck.h5.ckpt hcase 2 "error: checkpoint 'ck.h5.ckpt' cannot be opened as HDF5" run $CK -o ck.h5
    $CRAFT garbage ck.h5.ckpt 30000 5
    PROTECT=ck.h5.ckpt hcase 2 "error: checkpoint 'ck.h5.ckpt' cannot be opened as HDF5" run $CK -o ck.h5
    cp keep.h5 ck.h5.ckpt
    PROTECT=ck.h5.ckpt hcase 2 "error: 'ck.h5.ckpt' is not a spex checkpoint" run $CK -o ck.h5
    $CRAFT ckpt ck.good ck.h5.ckpt values-short
    PROTECT=ck.h5.ckpt hcase 2 "error: cannot read /values of checkpoint 'ck.h5.ckpt'" run $CK -o ck.h5
    # Infinite values cannot come from spex (oracle values are checked):
    # a damaged checkpoint, not to be resumed into a wrong result.
    $CRAFT ckpt ck.good ck.h5.ckpt inf
    PROTECT=ck.h5.ckpt hcase 2 "error: checkpoint 'ck.h5.ckpt'.*finite" run $CK -o ck.h5
    rm -f ck.h5
    # Attributes and the study text of another shape than spex writes.
    for k in format-array queries-array study-array; do
        $CRAFT ckpt ck.good ck.h5.ckpt $k
        PROTECT=ck.h5.ckpt hcase 2 "error: .*'ck.h5.ckpt' (is not a spex checkpoint|belongs to another study)" \
            run $CK -o ck.h5
    done
    rm -f ck.h5.ckpt
else
    fail "fixture: no checkpoint from SIGUSR1"
    sed 's/^/  | /' bg.txt | tail -5
fi

# ---- plan files for spex decode (exit 2; 5 when missing) ---------------------------
PLAN="--set features.n=40 --set method.max_order=2 --set method.b=3 --set output.test_masks=8 --set study.checkpoint=none"
spexrun $NP plan $PLAN -q -o plan.h5 || { fail "fixture: plan.h5"; cat out.txt; }
PROTECT=plan.h5 hcase 2 "error: plan.h5: /queries/values\[0\] is NaN \(not filled\)" decode $PLAN --values plan.h5 -o keep.h5
for k in nan inf values-short values-int masks-flipped; do $CRAFT plan plan.h5 plan-$k.h5 $k; done
PROTECT=plan-nan.h5 hcase 2 "error: plan-nan.h5: /queries/values\[7\] is NaN \(not filled\)" decode $PLAN --values plan-nan.h5 -o keep.h5
PROTECT=plan-inf.h5 hcase 2 "error: plan-inf.h5: /test/values\[1\] is -inf \(values must be finite\)" decode $PLAN --values plan-inf.h5 -o keep.h5
PROTECT=plan-values-short.h5 hcase 2 "error: plan-values-short.h5: dataset /queries/values is float64\[[0-9]+\], expected float64" \
    decode $PLAN --values plan-values-short.h5 -o keep.h5
PROTECT=plan-values-int.h5 hcase 2 "error: plan-values-int.h5: dataset /queries/values is int32" decode $PLAN --values plan-values-int.h5 -o keep.h5
PROTECT=plan-masks-flipped.h5 hcase 2 "error: plan-masks-flipped.h5: /queries/masks\[0\] is not the mask this study asks for" \
    decode $PLAN --values plan-masks-flipped.h5 -o keep.h5
$CRAFT plan plan.h5 plan-fill.h5 fill
PROTECT=plan-fill.h5 hcase 2 "error: plan-fill.h5: planned for features.n = 40, this study has features.n = 41" \
    decode $PLAN --set features.n=41 --values plan-fill.h5 -o keep.h5
$CRAFT truncate plan-fill.h5 plan-trunc.h5 0.5
hcase 2 "error: 'plan-trunc.h5' cannot be opened as HDF5: truncated or damaged" decode $PLAN --values plan-trunc.h5 -o keep.h5
: > plan-empty.h5
hcase 2 "error: 'plan-empty.h5' is not a spex plan file \(not HDF5\)" decode $PLAN --values plan-empty.h5 -o keep.h5
hcase 2 "error: 'keep.h5' is not a spex plan file" decode $PLAN --values keep.h5 -o result.h5
hcase 5 "error: cannot open 'nothere.h5': No such file" decode $PLAN --values nothere.h5 -o keep.h5

# ---- the output directory ------------------------------------------------------------
# Removed while the study runs (it is only written at the end).
SLOW="--set features.n=300 --set oracle.terms=10 --set method.b=5 --set oracle.cost_us=1000 --set output.test_masks=0 --set study.checkpoint=none"
mkdir -p gone
PROTECT="" DURING="rm -rf gone" hcase 5 "error: cannot create 'gone/out.h5.tmp-[0-9]+': No such file or directory" \
    run $SLOW -o gone/out.h5
mkdir -p out-dir.h5
PROTECT="" hcase 5 "error: cannot rename 'out-dir.h5.tmp-[0-9]+' to 'out-dir.h5': Is a directory" run $SMALL -o out-dir.h5
PROTECT="" hcase 5 "error: cannot create '/proc/spex-hostile.h5.tmp-[0-9]+'" run $SMALL -o /proc/spex-hostile.h5

# ---- a full disk (a small tmpfs) ---------------------------------------------------------
# Parallel HDF5 (1.10) cannot close a file collectively once a write into it
# failed, so spex may end such a job with MPI_Abort and the code: these two
# cases do not require every rank to exit by itself, only the code, the one
# line, no file left and the old one intact, within the time limit.
mkdir -p full
if why=$(mount -t tmpfs -o size=128k tmpfs full 2>&1); then
    # The result does not fit: exit 5, no partial file, the old result intact.
    cp keep.h5 full/keep.h5
    head -c 60000 /dev/zero > full/filler
    BIG="--set features.n=5000 --set oracle.terms=20 --set method.b=5 --set output.test_masks=100 --set study.checkpoint=none"
    LIMIT=20 RANKS=any PROTECT=full/keep.h5 hcase 5 "error: cannot (write|create) 'full/keep.h5.tmp-[0-9]+'" \
        run $BIG -o full/keep.h5
    rm -f full/filler full/*.tmp-*
    # A periodic checkpoint that does not fit: exit 5, the previous
    # checkpoint of the same study intact.
    CKF="$CK --set method.b=5 --set study.checkpoint_interval=0.3"
    timeout -k 5 60 "$MPIRUN" --oversubscribe -np $NP "$SPEX" run $CKF -o full/ck.h5 >bg.txt 2>&1 &
    bg=$!
    i=0
    while ! grep -q "queries on" bg.txt && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    sleep 1
    kill -USR1 $(pgrep -P $bg) 2>/dev/null
    wait $bg
    if [ -f full/ck.h5.ckpt ]; then
        avail=$(df -k --output=avail full | tail -1)
        head -c $(( (avail - 4) * 1024 )) /dev/zero > full/filler 2>/dev/null
        LIMIT=20 RANKS=any PROTECT=full/ck.h5.ckpt hcase 5 "error: cannot write (checkpoint )?'full/ck.h5.ckpt.tmp-[0-9]+'" \
            run $CKF -o full/ck.h5
    else
        fail "fixture: no checkpoint in the tmpfs"
        sed 's/^/  | /' bg.txt | tail -5
    fi
    umount full
else
    skip "full disk: result and checkpoint writes (cannot mount a tmpfs: $why)"
fi

echo "hostile: $CASE cases in $(( $(date +%s) - T_START )) s; $SKIPS not run${SKIPPED:+ ($SKIPPED)}"
finish
