#!/bin/sh
# faults.sh -- a rank killed mid-run (issue "Hardening", item 3;
# doc/hardening.md).
#
# One rank of a 2-rank job gets SIGKILL (no chance to clean up) while the
# job is evaluating, decoding and writing its result.  Each time:
#   - the job ends within FAULT_LIMIT seconds of the kill (mpirun ends the
#     other rank; nothing of the job is left running);
#   - no result file appears under the final name;
#   - the last periodic checkpoint (study.checkpoint_interval = 0.3 s) is a
#     whole spex checkpoint of this study;
#   - running the same command again resumes from it and writes a result
#     identical (h5diff: /fourier, /mobius, /values, /indices) to an
#     uninterrupted run's.
# A fourth kill lands while a periodic checkpoint is being written: the
# previous checkpoint must be the one left, whole.
# The ranks are found as the children of this test's mpirun (never by name:
# other jobs on the machine may run spex).  Evaluation is slowed with
# oracle.cost_us so that the kill lands in it.  Decoding and writing take
# milliseconds at any size a test can afford, so those kills are placed
# with gdb: attached to the rank, a breakpoint at the stage's entry
# (spex_peel_run) or at the first H5Dwrite inside spex_h5_write_result,
# then SIGKILL from the breakpoint.  Without gdb (or ptrace) those
# cases are reported as SKIP and counted as not run.
. "$(dirname "$0")/../mpi/common.sh"

: "${FAULT_LIMIT:=30}"
SKIPS=0
SKIPPED=""
skip() { SKIPS=$((SKIPS + 1)); SKIPPED="$SKIPPED; $1"; echo "SKIP: $1"; }
T_START=$(date +%s)

# 888 queries of 3 ms each (about 1.4 s per rank), periodic checkpoints.
F="--set features.n=300 --set oracle.terms=10 --set method.b=3 --set oracle.cost_us=3000
   --set oracle.batch=8 --set output.test_masks=200 --set study.checkpoint_interval=0.3"

spexrun 2 run $F -q -o ref.h5 || { fail "reference run"; cat out.txt; finish; exit 1; }

# start NAME: the faulty job in the background (output in NAME.log).
start() {
    timeout -k 5 120 "$MPIRUN" --oversubscribe -np 2 "$SPEX" run $F -o "$1.h5" >"$1.log" 2>&1 &
    BG=$!
}
# rank_pid K: the pid of rank K of the background job (the mpirun child of
# `timeout` whose environment says so), waiting for it to exist.
rank_pid() {
    i=0
    while [ $i -lt 200 ]; do
        for m in $(pgrep -P "$BG"); do
            for p in $(pgrep -P "$m"); do
                if tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1"; then
                    echo "$p"
                    return 0
                fi
            done
        done
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}
# check_ckpt FILE: a whole checkpoint of F, with some values evaluated.
check_ckpt() {
    $PY - "$1" <<'EOF'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    fmt = f.attrs["format"]
    fmt = fmt.decode() if isinstance(fmt, bytes) else str(fmt)
    v = f["values"][...]
    ok = fmt == "spex-checkpoint" and v.shape == (888,) and 0 < np.isfinite(v).sum() <= 888
    print("%d of %d values" % (np.isfinite(v).sum(), v.shape[0]))
    sys.exit(0 if ok else 1)
EOF
}
# after_kill NAME T_KILL WHAT: checks of a killed job, its checkpoint and
# its rerun.
after_kill() {
    name=$1 t_kill=$2 what=$3
    wait "$BG"
    rc=$?
    t_end=$(( $(date +%s) - t_kill ))
    if [ "$rc" -ne 0 ] && [ "$t_end" -le "$FAULT_LIMIT" ] && [ "$rc" -ne 124 ]; then
        pass "$what: job ended $t_end s after the kill (exit $rc)"
    else
        fail "$what: job ended $t_end s after the kill with exit $rc"
        sed 's/^/  | /' "$name.log" | tail -5
    fi
    left=$(pgrep -P "$BG" 2>/dev/null)
    [ -z "$left" ] || { fail "$what: processes left: $left"; kill -9 $left; }
    [ ! -e "$name.h5" ] && pass "$what: no result file" || fail "$what: $name.h5 exists"
    if [ -f "$name.h5.ckpt" ] && got=$(check_ckpt "$name.h5.ckpt"); then
        pass "$what: checkpoint intact ($got)"
    else
        fail "$what: no whole checkpoint ($got)"
        return
    fi
    spexrun 2 run $F -o "$name.h5"
    rc=$?
    resumed=$(grep -o "resuming from checkpoint [^:]*: [0-9]* of [0-9]*" out.txt)
    same=1
    for g in /fourier /mobius /values /indices; do
        "$H5DIFF" ref.h5 "$name.h5" "$g" "$g" >/dev/null 2>&1 || same=0
    done
    if [ "$rc" -eq 0 ] && [ -n "$resumed" ] && [ "$same" -eq 1 ] && [ ! -e "$name.h5.ckpt" ]; then
        pass "$what: rerun $resumed, result identical to the uninterrupted run"
    else
        fail "$what: rerun (exit $rc, '${resumed:-no resume}', identical=$same)"
        sed 's/^/  | /' out.txt | tail -5
    fi
    rm -f "$name".h5.tmp-*
}

# ---- 1. SIGKILL during evaluation ---------------------------------------------------
start eval
p=$(rank_pid 1) || fail "evaluation: rank 1 not found"
# Until at least two periodic checkpoints were written.
i=0
while [ ! -f eval.h5.ckpt ] && [ $i -lt 300 ]; do sleep 0.05; i=$((i + 1)); done
sleep 0.7
if grep -q "wrote\|error" eval.log; then
    fail "evaluation: the job ended before the kill (too fast a machine?)"
else
    kill -9 "$p"
    after_kill eval "$(date +%s)" "SIGKILL of rank 1 during evaluation"
fi

# ---- 2 and 3. SIGKILL at a breakpoint: decoding, writing ---------------------------
# gdb_kill PID WHAT GDB-COMMANDS...: attach, run to the breakpoints, then
# SIGKILL the rank from there; prints the stack it was killed at.
gdb_kill() {
    pid=$1
    shift
    timeout -k 5 90 gdb -p "$pid" -batch -nx "$@" -ex "bt 4" -ex "signal SIGKILL" \
        >gdb.log 2>&1
}
if ! command -v gdb >/dev/null 2>&1; then
    skip "SIGKILL during decoding and during writing (no gdb)"
else
    start decode
    p=$(rank_pid 0) || fail "decoding: rank 0 not found"
    gdb_kill "$p" -ex "break spex_peel_run" -ex "continue"
    t_kill=$(date +%s)
    if grep -qE "(#0 +|in )spex_peel_run" gdb.log; then
        pass "decoding: rank 0 stopped at spex_peel_run, after the evaluation"
        after_kill decode "$t_kill" "SIGKILL of rank 0 during decoding"
    elif grep -qiE "ptrace|not permitted" gdb.log; then
        skip "SIGKILL during decoding (gdb cannot attach: $(grep -m1 -iE 'ptrace|permitted' gdb.log))"
        wait "$BG"
    else
        fail "decoding: never reached the breakpoint"
        sed 's/^/  | /' gdb.log | tail -5
        wait "$BG"
    fi

    start write
    p=$(rank_pid 1) || fail "writing: rank 1 not found"
    gdb_kill "$p" -ex "break spex_h5_write_result" -ex "continue" -ex "break H5Dwrite" \
        -ex "continue"
    t_kill=$(date +%s)
    if grep -qE "(#0 +|in )H5Dwrite" gdb.log && grep -q "spex_h5_write_result" gdb.log; then
        tmp=$(ls write.h5.tmp-* 2>/dev/null)
        pass "writing: rank 1 stopped in H5Dwrite of spex_h5_write_result (${tmp:-no} partial file)"
        after_kill write "$t_kill" "SIGKILL of rank 1 during writing"
    elif grep -qiE "ptrace|not permitted" gdb.log; then
        skip "SIGKILL during writing (gdb cannot attach)"
        wait "$BG"
    else
        fail "writing: never reached the breakpoint"
        sed 's/^/  | /' gdb.log | tail -5
        wait "$BG"
    fi

    # While a periodic checkpoint is being written (its second one): the
    # first stays whole under its name (written to a temporary, renamed).
    start ckpt
    p=$(rank_pid 0) || fail "checkpoint write: rank 0 not found"
    gdb_kill "$p" -ex "break spex_ckpt_save" -ex "continue" -ex "continue" -ex "break H5Dwrite" \
        -ex "continue"
    t_kill=$(date +%s)
    if grep -qE "(#0 +|in )H5Dwrite" gdb.log && grep -q "spex_ckpt_save" gdb.log; then
        pass "checkpoint write: rank 0 stopped in H5Dwrite of its second spex_ckpt_save"
        after_kill ckpt "$t_kill" "SIGKILL of rank 0 while writing a checkpoint"
    elif grep -qiE "ptrace|not permitted" gdb.log; then
        skip "SIGKILL while writing a checkpoint (gdb cannot attach)"
        wait "$BG"
    else
        fail "checkpoint write: never reached the breakpoint"
        sed 's/^/  | /' gdb.log | tail -5
        wait "$BG"
    fi
fi

echo "faults: $(( $(date +%s) - T_START )) s; $SKIPS not run${SKIPPED:+ ($SKIPPED)}"
finish
