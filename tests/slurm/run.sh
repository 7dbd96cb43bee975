#!/bin/bash
# run.sh -- spex's batch scripts (jobs/) on a real, private, one-node Slurm
# (tools/slurm-local): each script submitted with sbatch --wait, its exit
# status and its result files checked; signals, checkpoints and requeueing
# at a time limit; the two-phase chain and its failure path.
#
#   tests/slurm/run.sh              (from a build directory; `make check-slurm`)
#
# Root only, with Debian's slurmctld slurmd slurm-client munge installed.  It
# starts the cluster and stops it again on any exit; a cluster already
# running in the same state directory is reused and left running.  Every
# wait has a timeout, and a watchdog ends the whole run after
# SPEX_SLURM_TEST_TIMEOUT seconds.  The last line is "N passed, N failed";
# the exit status is 0 only when nothing failed.
#
# Environment: SPEX (the binary) [./src/spex], srcdir (source tree) [this
# script's ../..], SPEX_SLURM_DIR [/tmp/spex-slurm-test], SPEX_SLURM_CPUS
# (CPUs the test node offers) [4], SPEX_SLURM_TEST_TIMEOUT [900],
# KEEP=1 keeps the work directory and leaves the cluster running.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
: "${srcdir:=$(cd "$HERE/../.." && pwd)}"
: "${SPEX:=$(pwd)/src/spex}" "${H5DIFF:=h5diff}"
SPEX=$(cd "$(dirname "$SPEX")" 2>/dev/null && pwd)/$(basename "$SPEX")
PY=/usr/bin/python3
JOBS=$srcdir/jobs
SLURM_LOCAL=$srcdir/tools/slurm-local
LIMIT=${SPEX_SLURM_TEST_TIMEOUT:-900}

# Nothing of an enclosing Slurm job (if this runs inside one) may leak into
# the jobs of the private cluster.
for v in $(env | sed -n 's/^\(SLURM_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$v"; done
export SPEX_SLURM_DIR=${SPEX_SLURM_DIR:-/tmp/spex-slurm-test}
# Four CPUs on a two-core machine: the time-limit job (one task, asleep)
# runs beside the two-task jobs instead of in front of them.
export SPEX_SLURM_CPUS=${SPEX_SLURM_CPUS:-4}
export SPEX

PASSES=0 FAILS=0 SKIPS=0
pass() { PASSES=$((PASSES + 1)); echo "PASS: $*"; }
fail() { FAILS=$((FAILS + 1)); echo "FAIL: $*"; }
skip() { SKIPS=$((SKIPS + 1)); echo "SKIP: $*"; }
# show FILE: the end of a log, indented, after a failure.
show() { [ -f "$1" ] && tail -n "${2:-15}" "$1" | sed 's/^/  | /'; }

STARTED=0 WATCHDOG="" DONE=0
TMP=$(mktemp -d /tmp/spex-slurm-test.XXXXXX) || exit 1

# finish: stop what this run started, then the summary as the last line.
finish() {
    [ "$DONE" = 1 ] && return
    DONE=1
    trap - EXIT TERM INT HUP
    [ -n "$WATCHDOG" ] && kill "$WATCHDOG" 2>/dev/null
    # sbatch --wait still running in the background (after a failure).
    for p in $(jobs -p); do kill "$p" 2>/dev/null; done
    if [ "$STARTED" = 1 ] && [ "${KEEP:-0}" != 1 ]; then
        "$SLURM_LOCAL" stop 2>&1 | sed 's/^/  /'
    fi
    cd / || true
    if [ "${KEEP:-0}" = 1 ]; then echo "  kept $TMP"; else rm -rf "$TMP"; fi
    echo "$PASSES passed, $FAILS failed, $SKIPS skipped"
    [ "$FAILS" -eq 0 ]
    exit
}
trap 'finish' EXIT
trap 'fail "interrupted or out of time (${LIMIT} s, SPEX_SLURM_TEST_TIMEOUT)"; finish' TERM INT HUP

cd "$TMP" || exit 1

# ---- preconditions and the cluster ----------------------------------------------
if [ "$(id -u)" != 0 ]; then
    fail "must run as root (slurmd starts the jobs)"
    finish
fi
for b in sbatch scontrol squeue scancel slurmctld slurmd munged mpirun; do
    command -v "$b" >/dev/null || { fail "no $b: apt-get install slurmctld slurmd slurm-client munge"; finish; }
done
[ -x "$SPEX" ] || { fail "no spex binary at $SPEX (set SPEX)"; finish; }

# The watchdog: TERM to this shell after LIMIT seconds (the trap finishes).
(
    sleep "$LIMIT" &
    nap=$!
    trap 'kill $nap; exit 0' TERM
    wait $nap && kill -TERM $$
) </dev/null >/dev/null 2>&1 &
WATCHDOG=$!

if "$SLURM_LOCAL" status >/dev/null 2>&1; then
    echo "  reusing the cluster running in $SPEX_SLURM_DIR"
else
    t0=$(date +%s.%N)
    if ! SPEX_SLURM_TIMEOUT=60 timeout 120 "$SLURM_LOCAL" start >env.txt 2>start.txt; then
        fail "tools/slurm-local start"
        show start.txt 30
        STARTED=1
        finish
    fi
    STARTED=1
    secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    if [ "$(cat env.txt)" = "export SLURM_CONF=$SPEX_SLURM_DIR/etc/slurm.conf" ]; then
        pass "slurm-local start: up in $secs s, stdout is the export line only"
    else
        fail "slurm-local start printed more than the export line"; show env.txt
    fi
    out=$("$SLURM_LOCAL" start 2>/dev/null) && [ "$out" = "$(cat env.txt)" ] &&
        pass "slurm-local start again: no-op, same export line" || fail "second start"
fi
eval "$("$SLURM_LOCAL" env)"
"$SLURM_LOCAL" status >/dev/null 2>&1 && pass "slurm-local status: daemons up, node usable" ||
    { fail "slurm-local status"; finish; }

# ---- helpers ------------------------------------------------------------------------

# submit NAME TIMEOUT SBATCH-ARGS...: sbatch --wait in the background, log
# NAME.log (sbatch's -o), sbatch's own output in NAME.sbatch; sets BG, and
# JOB once sbatch printed it.
submit() {
    local name=$1 t=$2 i
    shift 2
    JOB=""
    T0=$(date +%s.%N)
    timeout -k 5 "$t" sbatch --parsable --wait -o "$TMP/$name.log" "$@" >"$name.sbatch" 2>&1 &
    BG=$!
    for i in $(seq 100); do
        JOB=$(sed -n '1s/^\([0-9][0-9]*\).*/\1/p' "$name.sbatch" 2>/dev/null)
        [ -n "$JOB" ] && return 0
        kill -0 "$BG" 2>/dev/null || break
        sleep 0.1
    done
    return 1
}
# finish_job: waits for the background sbatch; sets RC and SECS; cancels the
# job if sbatch timed out.
finish_job() {
    wait "$BG"
    RC=$?
    SECS=$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    if [ "$RC" = 124 ] || [ "$RC" = 137 ]; then
        echo "  job $JOB: sbatch --wait timed out; cancelling"
        scancel "$JOB" 2>/dev/null
    fi
}
# run_job NAME TIMEOUT SBATCH-ARGS...: submit and wait.
run_job() {
    submit "$@" || { RC=99; SECS=0; show "$1.sbatch"; return; }
    finish_job
}
# wait_log FILE PATTERN SECONDS: until the log has a line matching PATTERN.
wait_log() {
    local deadline=$((SECONDS + $3))
    until grep -qE "$2" "$1" 2>/dev/null; do
        [ "$SECONDS" -ge "$deadline" ] && return 1
        sleep 0.2
    done
}
# h5check FILE PYTHON-EXPR...: asserts on the result file with h5py (f is the file).
h5check() {
    local file=$1
    shift
    "$PY" - "$file" "$@" <<'EOF'
import sys, h5py
f = h5py.File(sys.argv[1], "r")
for expr in sys.argv[2:]:
    assert eval(expr), expr
EOF
}
# same_fourier A B: identical recovered terms.
same_fourier() { "$H5DIFF" "$1" "$2" /fourier /fourier >/dev/null 2>&1; }

# A stand-in for spex: the first attempt of a job waits for USR1 or TERM and
# exits 75 as spex does; a requeued attempt writes its -o file and exits 0.
cat >stub-spex <<'EOF'
#!/bin/bash
out=${!#}
if [ "${SLURM_RESTART_COUNT:-0}" = 0 ]; then
    trap 'echo "stub: USR1 after $SECONDS s"; exit 75' USR1
    trap 'echo "stub: TERM after $SECONDS s"; exit 75' TERM
    sleep 600 &
    wait
    exit 1
fi
echo "stub: attempt $SLURM_RESTART_COUNT, done" && : >"$out"
EOF
chmod +x stub-spex

# ---- 1. the time limit: --signal=B:USR1, exit 75, requeue (in the background) ---------
# Slurm checks time limits about every 30 s, so USR1 "50 s before the end of a
# 1-minute limit" comes 10-40 s after the start.
TL_T0=$(date +%s)
SPEX=$TMP/stub-spex SPEX_OUTPUT=timelimit.out \
    submit timelimit 240 -n 1 --time=1 --signal=B:USR1@50 "$JOBS/spex-study.sbatch"
TL_BG=$BG TL_JOB=$JOB TL_T0N=$T0

# ---- 2. spex-study.sbatch with mpirun --------------------------------------------------
SPEX_OUTPUT=study-mpirun.h5 run_job study-mpirun 180 -n 2 "$JOBS/spex-study.sbatch"
if [ "$RC" = 0 ] && [ -s study-mpirun.h5 ] &&
    grep -q "100 of 100 true terms found" study-mpirun.log &&
    "$SPEX" show study-mpirun.h5 --top 3 >show.txt 2>&1 && grep -q "R^2" show.txt &&
    h5check study-mpirun.h5 'f.attrs["ranks"] == 2' 'f["fourier/coef"].shape[0] == 100'; then
    pass "spex-study.sbatch, mpirun, 2 tasks: default study exact, result read by spex show and h5py (job $JOB, $SECS s)"
else
    fail "spex-study.sbatch with mpirun (exit $RC)"; show study-mpirun.log; show show.txt 5
fi

# ---- 3. spex-study.sbatch with srun --mpi=pmix ------------------------------------------
SPEX_LAUNCHER=srun SPEX_OUTPUT=study-srun.h5 run_job study-srun 180 -n 2 "$JOBS/spex-study.sbatch"
if [ "$RC" = 0 ] && [ -s study-srun.h5 ] && grep -q "srun --mpi=pmix" study-srun.log &&
    h5check study-srun.h5 'f.attrs["ranks"] == 2' && same_fourier study-mpirun.h5 study-srun.h5; then
    pass "spex-study.sbatch, srun --mpi=pmix, 2 tasks: same result as mpirun (job $JOB, $SECS s)"
else
    fail "spex-study.sbatch with srun (exit $RC)"; show study-srun.log
fi

# ---- 4. errors come back as spex's exit status ------------------------------------------
SPEX_OUTPUT=bad.h5 run_job study-bad 120 -n 2 "$JOBS/spex-study.sbatch" --set features.n=0
if [ "$RC" = 1 ] && grep -q "spex: error: --set features.n=0" study-bad.log && [ ! -e bad.h5 ]; then
    pass "a bad study: sbatch --wait returns spex's exit 1, one error line in the log ($SECS s)"
else
    fail "bad study (exit $RC, expected 1)"; show study-bad.log
fi

# ---- 5. spex-array.sbatch: one instance per index ----------------------------------------
SMALL="--set features.n=2000"
# shellcheck disable=SC2086
run_job array 240 -n 1 --array=0-2 -o "$TMP/array-%A_%a.log" "$JOBS/spex-array.sbatch" $SMALL
arr=$JOB
ok=1
for i in 0 1 2; do
    f=results/result-$i.h5
    if ! [ -s "$f" ] || ! h5check "$f" "f.attrs['seed'] == $i" 'f.attrs["ranks"] == 1' ||
        ! "$SPEX" show "$f" --top 1 >/dev/null 2>&1; then
        ok=0
        echo "  $f missing or wrong"
        show "array-${arr}_$i.log"
    fi
done
if [ "$RC" = 0 ] && [ $ok = 1 ] && ! same_fourier results/result-0.h5 results/result-1.h5 &&
    ! same_fourier results/result-1.h5 results/result-2.h5; then
    pass "spex-array.sbatch --array=0-2: results/result-{0,1,2}.h5, study.seed = index, different spectra (job $arr, $SECS s)"
else
    fail "array job (exit $RC)"
fi
# Resubmitting the whole array redoes only the missing element.
rm -f results/result-1.h5
touch -d '1 hour ago' results/result-0.h5 results/result-2.h5
# shellcheck disable=SC2086
run_job array-again 240 -n 1 --array=0-2 -o "$TMP/again-%A_%a.log" "$JOBS/spex-array.sbatch" $SMALL
if [ "$RC" = 0 ] && [ -s results/result-1.h5 ] &&
    [ "$(find results -name 'result-*.h5' -mmin -30 | wc -l)" = 1 ] &&
    [ "$(cat again-*.log | grep -c 'exists: nothing to do')" = 2 ]; then
    pass "array resubmitted: only the missing result-1.h5 is redone (SPEX_SKIP_DONE) ($SECS s)"
else
    fail "array resubmission (exit $RC)"; cat again-*.log | tail -n 20 | sed 's/^/  | /'
fi

# An element that stops with 75 is requeued alone and resumes; the others
# run once.  (The stand-in waits for USR1 in element 1 only.)
cat >stub-array <<'EOF2'
#!/bin/bash
out=${!#}
if [ "${SLURM_RESTART_COUNT:-0}" = 0 ] && [ "$SLURM_ARRAY_TASK_ID" = 1 ]; then
    trap 'exit 75' USR1
    sleep 600 &
    wait
    exit 1
fi
echo "stub: element $SLURM_ARRAY_TASK_ID, attempt ${SLURM_RESTART_COUNT:-0}" && : >"$out"
EOF2
chmod +x stub-array
SPEX=$TMP/stub-array SPEX_RESULTS=requeued submit array-requeue 180 -n 1 --array=0-2 \
    -o "$TMP/requeue-%A_%a.log" "$JOBS/spex-array.sbatch"
wait_log "requeue-${JOB}_1.log" 'restart 0' 30 && sleep 1 && scancel --signal=USR1 --batch "${JOB}_1"
finish_job
if [ "$RC" = 0 ] && [ "$(ls requeued 2>/dev/null | wc -l)" = 3 ] &&
    grep -q "requeued: element 1 will start again" "requeue-${JOB}_1.log" &&
    grep -q "stub: element 1, attempt 1" "requeue-${JOB}_1.log" &&
    [ "$(cat "requeue-${JOB}_0.log" "requeue-${JOB}_2.log" | grep -c 'restart 0')" = 2 ] &&
    ! grep -q 'restart 1' "requeue-${JOB}_0.log" "requeue-${JOB}_2.log"; then
    pass "array element 1 stopped with 75: requeued alone (${JOB}_1), resumed; elements 0 and 2 ran once ($SECS s)"
else
    fail "array element requeue (exit $RC)"; cat requeue-*.log | grep -v '^ ' | tail -n 20 | sed 's/^/  | /'
fi

# ---- 6. USR1 to a running spex: checkpoint, exit 75, requeue, resume ---------------------
# The default study with 600 us of work per query: 13 s of evaluation on two
# idle cores (more on busy ones).  USR1 comes after the first progress line
# (spex prints one every 10 s), so the job log must show both; batches of
# 256 queries, so that spex stops within 0.1 s.
if "$SPEX" keys 2>&1 | grep -q 'study.checkpoint '; then
    PROGRESS='^ *evaluate: [0-9]+/43776 \([0-9.]+%, [0-9.]+/s, ETA [0-9]+ s\)'
    SPEX_OUTPUT=ckpt.h5 submit ckpt 300 -n 2 "$JOBS/spex-study.sbatch" \
        --set oracle.cost_us=600 --set oracle.batch=256 --set output.test_masks=1000
    if wait_log ckpt.log "$PROGRESS" 90; then
        pass "progress line in the job log after 10 s: '$(grep -m1 -oE 'evaluate: [0-9]+/43776 .*' ckpt.log)'"
    else
        fail "no 'evaluate: done/total (rate, ETA)' line in the job log within 90 s"
    fi
    sent=$(date +%s)
    scancel --signal=USR1 --batch "$JOB"
    finish_job
    stop_at=$(sed -n 's/.*spex exited with 75 at \([0-9:]*\).*/\1/p' ckpt.log | head -1)
    latency=$([ -n "$stop_at" ] && echo $(($(date -d "$stop_at" +%s) - sent)))
    if [ "$RC" = 0 ] && [ -s ckpt.h5 ] && [ ! -e ckpt.h5.ckpt ] &&
        grep -q "stopped by SIGUSR1 with [0-9]* of 43776 queries evaluated; checkpoint written" ckpt.log &&
        grep -q "requeued: job $JOB will start again" ckpt.log &&
        grep -q "restart 1" ckpt.log && grep -q "resuming from checkpoint ckpt.h5.ckpt" ckpt.log &&
        same_fourier study-mpirun.h5 ckpt.h5; then
        pass "USR1 (as --signal=B:USR1 sends it): spex stopped within ${latency:-?} s with exit 75, job requeued, resumed to the uninterrupted result (job $JOB, $SECS s)"
    else
        fail "checkpoint and requeue (exit $RC)"; show ckpt.log 40
    fi
else
    skip "checkpoint/requeue with spex: this spex has no study.checkpoint key"
fi

# ---- 7. a job submitted --no-requeue: exit 75 stays, the log says what to do ----------------
SPEX=$TMP/stub-spex SPEX_OUTPUT=noreq.out submit noreq 120 -n 1 --no-requeue "$JOBS/spex-study.sbatch"
wait_log noreq.log 'spex-study.*restart 0' 30 && sleep 1 && scancel --signal=USR1 --batch "$JOB"
finish_job
if [ "$RC" = 75 ] && grep -q "submitted with --no-requeue: resubmit with SPEX_OUTPUT=noreq.out" noreq.log; then
    pass "--no-requeue: sbatch --wait returns 75 and the log says how to resume ($SECS s)"
else
    fail "--no-requeue (exit $RC, expected 75)"; show noreq.log
fi

# ---- 8. two phases: plan -> evaluate -> decode, chained -----------------------------------
if "$SPEX" --help 2>&1 | grep -q 'spex plan' && [ -f "$srcdir/tools/fill-plan.py" ]; then
    "$srcdir/tools/make-spectrum" --n 1500 --terms 50 --min-order 0 --max-order 3 --seed 21 \
        -o spec.txt
    STUDY="--set features.n=1500 --set oracle.spectrum=$TMP/spec.txt --set method.max_order=3 \
--set method.b=7 --set output.test_masks=300"
    export SPEX_EVALUATE="$PY $srcdir/tools/fill-plan.py -q \"\$PLAN\" --spectrum $TMP/spec.txt"
    t0=$(date +%s.%N)
    # shellcheck disable=SC2086
    SPEX_WORKDIR=two SPEX_PLAN_SBATCH="-n 2 -t 5" SPEX_EVALUATE_SBATCH="-n 1 -t 5" \
        SPEX_DECODE_SBATCH="-n 2 -t 5" timeout -k 5 300 "$JOBS/spex-two-phase.sh" --wait $STUDY \
        >two.txt 2>&1
    rc=$?
    secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    # The reference: the same study run in one go with the sparse oracle.
    SPEX_OUTPUT=direct.h5 run_job direct 120 -n 2 "$JOBS/spex-study.sbatch" $STUDY
    if [ "$rc" = 0 ] && [ -s two/result.h5 ] && grep -q "result: $TMP/two/result.h5" two.txt &&
        [ "$RC" = 0 ] && same_fourier direct.h5 two/result.h5 &&
        [ "$(ls two/plan-*.out two/evaluate-*.out two/decode-*.out 2>/dev/null | wc -l)" = 3 ]; then
        pass "spex-two-phase.sh --wait: plan, fill-plan.py, decode chained; result equals spex run's ($secs s)"
    else
        fail "two-phase chain (exit $rc)"; show two.txt 30; show direct.log 5
    fi
    # A failing evaluate step: the decode job never runs, the driver says which step failed.
    SPEX_EVALUATE='echo "model not found" >&2; exit 3' SPEX_WORKDIR=two-bad \
        SPEX_PLAN_SBATCH="-n 2 -t 5" SPEX_EVALUATE_SBATCH="-n 1 -t 5" SPEX_DECODE_SBATCH="-n 2 -t 5" \
        timeout -k 5 300 "$JOBS/spex-two-phase.sh" --wait $STUDY >two-bad.txt 2>&1
    rc=$?
    if [ "$rc" = 1 ] && grep -q "evaluate (job [0-9]*) failed" two-bad.txt &&
        grep -q "model not found" two-bad.txt && [ ! -e two-bad/result.h5 ] &&
        ! ls two-bad/decode-*.out >/dev/null 2>&1; then
        pass "two-phase with a failing evaluate step: exit 1, names the step, decode cancelled"
    else
        fail "two-phase failure path (exit $rc)"; show two-bad.txt 20
    fi
    unset SPEX_EVALUATE
else
    skip "two-phase: this spex has no 'spex plan' or tools/fill-plan.py is missing"
fi

# ---- 1 (end). the time-limit job ---------------------------------------------------------
BG=$TL_BG JOB=$TL_JOB T0=$TL_T0N
finish_job
sig=$(sed -n 's/^stub: USR1 after \([0-9]*\) s/\1/p' timelimit.log | head -1)
done_at=$(sed -n 's/.*spex exited with 0 at \([0-9:]*\).*/\1/p' timelimit.log | tail -1)
SECS=$([ -n "$done_at" ] && echo $(($(date -d "$done_at" +%s) - TL_T0)))
if [ "$RC" = 0 ] && [ -e timelimit.out ] && grep -q "got SIGUSR1" timelimit.log &&
    grep -q "requeued: job $JOB" timelimit.log && grep -q "stub: attempt 1, done" timelimit.log; then
    pass "time limit 1 min with --signal=B:USR1@50: USR1 forwarded after ${sig:-?} s, exit 75, requeued, second attempt done ${SECS:-?} s after submission (job $JOB)"
else
    fail "time limit / USR1 / requeue (exit $RC)"; show timelimit.log 20
fi

# ---- stop: nothing of the cluster or its jobs may remain --------------------------------
if [ "$STARTED" = 1 ] && [ "${KEEP:-0}" != 1 ]; then
    "$SLURM_LOCAL" stop 2>stop.txt
    STARTED=0
    left=""
    for p in /proc/[0-9]*; do
        grep -qzxF "SPEX_SLURM_TAG=$SPEX_SLURM_DIR" "$p/environ" 2>/dev/null || continue
        grep -q '^State:[[:space:]]*Z' "$p/status" 2>/dev/null || left="$left ${p#/proc/}"
    done
    if [ -z "$left" ] && ! "$SLURM_LOCAL" status >/dev/null 2>&1; then
        pass "slurm-local stop: daemons and job processes gone"
    else
        fail "slurm-local stop left:$left"; show stop.txt
    fi
fi
finish
