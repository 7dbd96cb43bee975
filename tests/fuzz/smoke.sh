#!/bin/sh
# smoke.sh -- build spex's libFuzzer harnesses and run each for a bounded
# time (`make fuzz-smoke`; doc/hardening.md).
#
# For every harness tests/fuzz/fuzz_<name>.c: compile it and the spex
# sources it needs with clang -fsanitize=fuzzer,address,undefined (through
# Open MPI's mpicc wrapper with OMPI_CC=clang, so that MPI, parallel HDF5,
# libinih and cJSON come from the same flags as the real build); replay
# every saved crash under tests/fuzz/regressions/<name>/ (each must now
# pass); then fuzz for FUZZ_SECONDS seconds from the seed corpus
# tests/fuzz/corpus/<name>/ (the raw HDF5 harnesses start from the file
# spex writes, made by the harness itself).  A harness fails when it does not build, when
# a regression input still crashes, or when fuzzing finds a crash (the
# input is saved under $FUZZ_WORK/crash/<name>/; copy it to
# tests/fuzz/regressions/<name>/ with the fix).  Prints executions and
# seconds per harness and, last, "N passed, N failed"; exits 1 on any
# failure.
#
# Environment: srcdir, builddir (from make), FUZZ_SECONDS (default 15 per
# harness), FUZZ_JOBS (harnesses fuzzed at once, default 2), FUZZ_ONLY
# (space-separated harness names), FUZZ_WORK (work directory, default
# $builddir/fuzz-work: objects, binaries, grown corpora, crashes, logs),
# FUZZ_SEED (libFuzzer's -seed; default 0, a new random seed each run:
# .ci/run fixes it, so that CI replays one reproducible exploration and a
# red CI always means a change, while longer random campaigns find new
# inputs: doc/hardening.md).
set -u
: "${srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${builddir:=$(pwd)}"
: "${FUZZ_SECONDS:=15}" "${FUZZ_JOBS:=2}" "${FUZZ_ONLY:=}" "${FUZZ_SEED:=0}"
: "${FUZZ_WORK:=$builddir/fuzz-work}"
FZ="$srcdir/tests/fuzz"
PASSES=0
FAILS=0
T_START=$(date +%s)

pass() { PASSES=$((PASSES + 1)); echo "PASS: $*"; }
fail() { FAILS=$((FAILS + 1)); echo "FAIL: $*"; }
finish() {
    echo "fuzz smoke: $(( $(date +%s) - T_START )) s in all; work files in $FUZZ_WORK"
    echo "$PASSES passed, $FAILS failed"
    [ "$FAILS" -eq 0 ]
    exit $?
}

# All of libspex goes into one archive; the linker takes the members a
# harness needs.  A harness that #includes a spex source file (to reach its
# static parser) defines that file's symbols itself, so the archive's copy
# is never pulled in.  fuzz_h5_{result,ckpt,plan} are fuzz_h5_struct.c compiled with
# FUZZ_H5_RAW = 0, 1, 2: the input is the whole file.
HARNESSES="config set spectrum names exec_answers h5_struct h5_result h5_ckpt h5_plan xgb_model
  xgb_csv proxy_model"
[ -n "$FUZZ_ONLY" ] && HARNESSES=$FUZZ_ONLY
# The library's sources, as Makefile.am lists them.
LIB_SOURCES=$(sed -n '/^libspex_la_SOURCES *=/,/[^\\]$/p' "$srcdir/Makefile.am" | tr -d '\\' |
    tr ' \t' '\n\n' | sed -n 's,^src/\(.*\)\.c$,\1,p' | tr '\n' ' ')
[ -n "$LIB_SOURCES" ] || { echo "no libspex_la_SOURCES in $srcdir/Makefile.am"; exit 1; }

source_of() {
    case $1 in
        h5_result|h5_ckpt|h5_plan) echo "$FZ/fuzz_h5_struct.c" ;;
        *) echo "$FZ/fuzz_$1.c" ;;
    esac
}
defines_of() {
    case $1 in
        h5_result) echo "-DFUZZ_H5_RAW=0" ;;
        h5_ckpt) echo "-DFUZZ_H5_RAW=1" ;;
        h5_plan) echo "-DFUZZ_H5_RAW=2" ;;
    esac
}
options_of() {
    case $1 in
        config) echo "-max_len=4096 -dict=$FZ/study.dict" ;;
        set) echo "-max_len=1024 -dict=$FZ/study.dict" ;;
        spectrum|names|xgb_csv) echo "-max_len=4096" ;;
        exec_answers) echo "-max_len=16384" ;;
        h5_struct) echo "-max_len=2048" ;;
        h5_result|h5_ckpt|h5_plan) echo "-max_len=65536" ;;
        xgb_model|proxy_model) echo "-max_len=16384 -dict=$FZ/json.dict" ;;
    esac
}

mkdir -p "$FUZZ_WORK/obj" "$FUZZ_WORK/bin" "$FUZZ_WORK/log" "$FUZZ_WORK/dep" || exit 1
# The harnesses' scratch files (inputs written for parsers that take a
# path), in tmpfs when there is one; removed at the end, crashes included.
SPEX_FUZZ_TMPDIR=$(mktemp -d /dev/shm/spex-fuzz.XXXXXX 2>/dev/null || mktemp -d)
export SPEX_FUZZ_TMPDIR
trap 'rm -rf "$SPEX_FUZZ_TMPDIR"' EXIT

# ---- compiler ----------------------------------------------------------------
export OMPI_CC="${FUZZ_CC:-clang}"
CC="mpicc"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS="-std=c11 -g -O1 $SAN -D_XOPEN_SOURCE=700 -I$srcdir/include -I$builddir -Wno-unused-function"
PKGS="hdf5-openmpi libcjson inih"
CFLAGS="$CFLAGS $(pkg-config --cflags $PKGS 2>/dev/null)"
LIBS="$(pkg-config --libs $PKGS 2>/dev/null) -lfftw3 -lscalapack-openmpi -llapack -lblas -lxgboost -ldl -lm"

echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return 0; }' \
    > "$FUZZ_WORK/probe.c"
if ! $CC -fsanitize=fuzzer "$FUZZ_WORK/probe.c" -o "$FUZZ_WORK/probe" >"$FUZZ_WORK/log/probe.txt" 2>&1; then
    fail "cannot build with $OMPI_CC -fsanitize=fuzzer (install Debian's clang: tools/setup-debian)"
    sed 's/^/  | /' "$FUZZ_WORK/log/probe.txt" | head -5
    finish
fi

# ---- build: a generated Makefile, so that a rerun rebuilds only what changed --
echo "building with $($OMPI_CC --version | head -1) ($SAN)"
t0=$(date +%s)
{
    echo "export OMPI_CC = $OMPI_CC"
    echo "CC = $CC"
    echo "CFLAGS = $CFLAGS"
    echo "LIBS = $LIBS"
    echo "OBJS =$(for s in $LIB_SOURCES; do printf ' obj/%s.o' "$s"; done)"
    echo "all:$(for h in $HARNESSES; do printf ' bin/fuzz_%s' "$h"; done)"
    echo "obj/%.o: $srcdir/src/%.c"
    printf '\t$(CC) $(CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@ > log/cc-$*.txt 2>&1\n'
    echo "libspex-fuzz.a: \$(OBJS)"
    printf '\trm -f $@ && ar rcs $@ $(OBJS)\n'
    for h in $HARNESSES; do
        echo "bin/fuzz_$h: $(source_of "$h") libspex-fuzz.a"
        printf '\t$(CC) $(CFLAGS) -fsanitize=fuzzer %s -MMD -MP -MF dep/%s.d $< libspex-fuzz.a $(LIBS) -o $@ > log/build-%s.txt 2>&1\n' \
            "$(defines_of "$h")" "$h" "$h"
    done
    echo "-include obj/*.d dep/*.d"
} > "$FUZZ_WORK/Makefile"
mkdir -p "$FUZZ_WORK/dep"
make -C "$FUZZ_WORK" -k -j"$FUZZ_JOBS" -s all >"$FUZZ_WORK/log/make.txt" 2>&1
MAKE_RC=$?
for s in $LIB_SOURCES; do
    if [ ! -f "$FUZZ_WORK/obj/$s.o" ] || grep -q "error:" "$FUZZ_WORK/log/cc-$s.txt" 2>/dev/null; then
        fail "src/$s.c does not build for fuzzing"
        grep -m5 "error:" "$FUZZ_WORK/log/cc-$s.txt" | sed 's/^/  | /'
    fi
done
[ "$FAILS" -eq 0 ] || finish
echo "  built in $(( $(date +%s) - t0 )) s"

# ---- harnesses -------------------------------------------------------------------
# Sanitizer settings as in the project's sanitizer build: leaks allocated
# inside MPI/HDF5/XGBoost are suppressed with tests/lsan.supp (which needs
# full stacks, hence the slow unwinder for the harnesses that start MPI);
# leaks in spex's own code never are.  Open MPI's own crash handlers are off
# (opal_signal) so that libFuzzer's see the crash and save the input.
ASAN_BASE="detect_leaks=1:detect_odr_violation=0:allocator_may_return_null=0"
export LSAN_OPTIONS="suppressions=$srcdir/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export OMPI_MCA_mca_base_component_disable_dlclose=1 OMPI_MCA_opal_signal=""
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# A singleton MPI process per harness: keep Open MPI off the network.
export OMPI_MCA_btl=self,vader
export HDF5_USE_FILE_LOCKING=FALSE
asan_of() {
    case $1 in
        h5_*) echo "$ASAN_BASE:fast_unwind_on_malloc=0" ;;
        *) echo "$ASAN_BASE" ;;
    esac
}

# fuzz H: FUZZ_SECONDS of fuzzing; results in log/fuzz-H.txt.
fuzz() {
    h=$1
    mkdir -p "$FUZZ_WORK/corpus/$h" "$FUZZ_WORK/crash/$h"
    seeds="$FZ/corpus/$h"
    [ -d "$seeds" ] || seeds="$FUZZ_WORK/seeds/$h"
    [ -d "$seeds" ] || seeds=""
    # shellcheck disable=SC2046
    ASAN_OPTIONS=$(asan_of "$h") timeout -k 10 $((FUZZ_SECONDS + 120)) "$FUZZ_WORK/bin/fuzz_$h" \
        -max_total_time="$FUZZ_SECONDS" -seed="$FUZZ_SEED" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
        -print_final_stats=1 -artifact_prefix="$FUZZ_WORK/crash/$h/" $(options_of "$h") \
        "$FUZZ_WORK/corpus/$h" $seeds >"$FUZZ_WORK/log/fuzz-$h.txt" 2>&1
    echo $? > "$FUZZ_WORK/log/fuzz-$h.rc"
}

stat_of() { sed -n "s/^stat::$1: *//p" "$FUZZ_WORK/log/fuzz-$2.txt" | tail -1; }

READY=""
for h in $HARNESSES; do
    if [ ! -x "$FUZZ_WORK/bin/fuzz_$h" ] ||
       grep -qE "error:|undefined reference" "$FUZZ_WORK/log/build-$h.txt" 2>/dev/null; then
        fail "fuzz_$h does not build"
        grep -m5 -E "error|undefined reference" "$FUZZ_WORK/log/build-$h.txt" | sed 's/^/  | /'
        continue
    fi
    # One check per saved crash: it must now run clean.
    for f in "$FZ/regressions/$h"/*; do
        [ -f "$f" ] || continue
        log="$FUZZ_WORK/log/replay-$h-$(basename "$f").txt"
        if ASAN_OPTIONS=$(asan_of "$h") timeout -k 5 60 "$FUZZ_WORK/bin/fuzz_$h" -runs=1 "$f" \
                >"$log" 2>&1; then
            pass "fuzz_$h: saved crash regressions/$h/$(basename "$f") runs clean"
        else
            fail "fuzz_$h: saved crash regressions/$h/$(basename "$f") still fails"
            grep -a -m1 -E "ERROR: AddressSanitizer|runtime error|invariant violated|ERROR: libFuzzer" \
                "$log" | cut -c1-200 | sed 's/^/  | /'
        fi
    done
    READY="$READY $h"
done

# The raw HDF5 harnesses start from the file spex itself writes (result,
# checkpoint or plan): the harness writes it (SPEX_FUZZ_WRITE_SEEDS), so
# the seed follows the current format.  Random bytes alone rarely get past
# HDF5's checksummed superblock.
for h in $READY; do
    case $h in h5_result | h5_ckpt | h5_plan) ;; *) continue ;; esac
    d="$FUZZ_WORK/seeds/$h"
    rm -rf "$d"
    mkdir -p "$d"
    if SPEX_FUZZ_WRITE_SEEDS="$d" ASAN_OPTIONS=$(asan_of "$h") timeout -k 5 60 \
            "$FUZZ_WORK/bin/fuzz_$h" -runs=0 >"$FUZZ_WORK/log/seeds-$h.txt" 2>&1 &&
       [ -s "$d/${h#h5_}.h5" ]; then
        find "$d" -type f ! -name "${h#h5_}.h5" -exec rm -f {} +
    else
        fail "fuzz_$h: cannot write its seed file ${h#h5_}.h5"
        tail -3 "$FUZZ_WORK/log/seeds-$h.txt" | sed 's/^/  | /'
    fi
done

rm -f "$FUZZ_WORK/crash/"*/* 2>/dev/null
echo "fuzzing each harness for $FUZZ_SECONDS s, $FUZZ_JOBS at a time:"
# FUZZ_JOBS lanes, each fuzzing its share of the harnesses one after another.
lane=0
while [ "$lane" -lt "$FUZZ_JOBS" ]; do
    (
        i=0
        for h in $READY; do
            [ $((i % FUZZ_JOBS)) -eq "$lane" ] && fuzz "$h"
            i=$((i + 1))
        done
    ) &
    lane=$((lane + 1))
done
wait

printf '%-14s %12s %8s %10s %8s  %s\n' harness executions seconds exec/s corpus result
for h in $READY; do
    rc=$(cat "$FUZZ_WORK/log/fuzz-$h.rc" 2>/dev/null || echo 99)
    runs=$(stat_of number_of_executed_units "$h")
    rate=$(stat_of average_exec_per_sec "$h")
    secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$FUZZ_WORK/log/fuzz-$h.txt" | tail -1)
    corpus=$(ls "$FUZZ_WORK/corpus/$h" 2>/dev/null | wc -l)
    crash=$(ls "$FUZZ_WORK/crash/$h" 2>/dev/null | head -1)
    if [ "$rc" -eq 0 ] && [ -z "$crash" ]; then
        printf '%-14s %12s %8s %10s %8s  %s\n' "$h" "${runs:-?}" "${secs:-?}" "${rate:-?}" "$corpus" ok
        pass "fuzz_$h: ${runs:-?} executions in ${secs:-?} s, no crash"
    else
        printf '%-14s %12s %8s %10s %8s  %s\n' "$h" "${runs:-?}" "${secs:-?}" "${rate:-?}" "$corpus" CRASH
        fail "fuzz_$h: crash (exit $rc) after ${runs:-?} executions; input: $FUZZ_WORK/crash/$h/$crash"
        grep -a -m3 -E "ERROR: AddressSanitizer|runtime error|invariant violated|ERROR: libFuzzer|SUMMARY" \
            "$FUZZ_WORK/log/fuzz-$h.txt" | cut -c1-200 | sed 's/^/  | /'
        echo "  reproduce: $FUZZ_WORK/bin/fuzz_$h $FUZZ_WORK/crash/$h/$crash"
        echo "  then keep it: cp $FUZZ_WORK/crash/$h/$crash $FZ/regressions/$h/"
    fi
done
finish
