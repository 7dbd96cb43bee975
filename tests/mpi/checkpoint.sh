#!/bin/bash
# checkpoint.sh -- clean stop on SIGUSR1/SIGTERM with a checkpoint, exit 75,
# no result file; resume to the identical result (also on another rank
# count); periodic checkpoints survive a SIGKILL; a checkpoint of another
# study is refused.
. "$(dirname "$0")/common.sh"

# The default study with 200 us of work per query: about 9 s of evaluation
# on one core, so there is time to interrupt it.
SLOW="--set oracle.cost_us=200"

# start_bg K ARGS...: spex on K ranks in the background, output in bg.txt.
start_bg() {
    k=$1; shift
    timeout -k 5 120 "$MPIRUN" --oversubscribe -np "$k" "$SPEX" "$@" >bg.txt 2>&1 &
    BG=$!
}
# signal_mpirun SIG / signal_ranks SIG: to the background job's mpirun (the
# child of `timeout`), or to its spex ranks (mpirun's children) -- never by
# name, so that nothing else on the machine is touched.
signal_mpirun() { kill -"$1" $(pgrep -P "$BG"); }
signal_ranks() { for m in $(pgrep -P "$BG"); do kill -"$1" $(pgrep -P "$m"); done; }

# Uninterrupted references.
spexrun 2 run $SLOW -q -o ref2.h5 || fail "reference run np=2"
spexrun 1 run $SLOW -q -o ref1.h5 || fail "reference run np=1"

# 1. SIGUSR1 to mpirun (as `#SBATCH --signal=B:USR1@...` does): exit 75.
start_bg 2 run $SLOW -o out.h5
sleep 2.5
signal_mpirun USR1
wait $BG; rc=$?
if [ $rc -eq 75 ] && grep -q "stopped by SIGUSR1 with [0-9]* of 43776 queries evaluated; checkpoint written to out.h5.ckpt" bg.txt &&
        [ -f out.h5.ckpt ] && [ ! -e out.h5 ]; then
    pass "SIGUSR1: exit 75, checkpoint written, no result ($(grep -o 'with [0-9]* of' bg.txt))"
else
    fail "SIGUSR1 stop (exit $rc)"; sed 's/^/  | /' bg.txt | head
fi

# 2. The same command resumes and gives the identical result.
spexrun 2 run $SLOW -o out.h5
if [ $? -eq 0 ] && grep -q "resuming from checkpoint out.h5.ckpt" out.txt && [ ! -e out.h5.ckpt ] &&
        "$H5DIFF" ref2.h5 out.h5 /fourier /fourier >/dev/null; then
    pass "resume: identical /fourier to the uninterrupted run, checkpoint removed"
else
    fail "resume after SIGUSR1"; sed 's/^/  | /' out.txt | tail
fi

# 3. SIGTERM to the ranks themselves (as Slurm does at the time limit);
#    resume on one rank instead of two.
start_bg 2 run $SLOW -o term.h5
sleep 2.5
signal_ranks TERM
wait $BG; rc=$?
if [ $rc -eq 75 ] && grep -q "stopped by SIGTERM" bg.txt && [ -f term.h5.ckpt ] && [ ! -e term.h5 ]; then
    pass "SIGTERM: exit 75, checkpoint written"
else
    fail "SIGTERM stop (exit $rc)"; sed 's/^/  | /' bg.txt | head
fi
spexrun 1 run $SLOW -o term.h5
if [ $? -eq 0 ] && grep -q "resuming from checkpoint" out.txt &&
        "$H5DIFF" -p 1e-12 ref1.h5 term.h5 /fourier /fourier >/dev/null; then
    pass "resume on 1 rank of a 2-rank checkpoint: same /fourier (1e-12)"
else
    fail "resume on another rank count"; sed 's/^/  | /' out.txt | tail
fi

# 4. A checkpoint of another study is refused, and left alone.
start_bg 2 run $SLOW -o other.h5
sleep 2.5
signal_mpirun USR1
wait $BG
cp other.h5.ckpt other.keep
expect_fail 2 2 "error: checkpoint 'other.h5.ckpt' belongs to another study" run $SLOW \
    --set study.seed=9 -o other.h5
cmp -s other.h5.ckpt other.keep && pass "foreign checkpoint left intact" || fail "checkpoint changed"

# 5. Periodic checkpoints survive a crash (SIGKILL, no chance to flush).
start_bg 2 run $SLOW --set study.checkpoint_interval=0.5 -o crash.h5
sleep 3
signal_ranks KILL
wait $BG
if [ -f crash.h5.ckpt ] && [ ! -e crash.h5 ]; then
    spexrun 2 run $SLOW --set study.checkpoint_interval=0.5 -o crash.h5
    if grep -q "resuming from checkpoint" out.txt &&
            "$H5DIFF" ref2.h5 crash.h5 /fourier /fourier >/dev/null; then
        pass "after SIGKILL: periodic checkpoint resumed to the identical result"
    else
        fail "resume after SIGKILL"; sed 's/^/  | /' out.txt | tail
    fi
else
    fail "no periodic checkpoint after SIGKILL"; ls -la
fi

# 6. Checkpoints off: still a clean stop with 75, and it says so.
start_bg 1 run $SLOW --set study.checkpoint=none -o off.h5
sleep 2
signal_mpirun USR1
wait $BG; rc=$?
[ $rc -eq 75 ] && grep -q "no checkpoint" bg.txt && [ ! -e off.h5.ckpt ] &&
    pass "checkpoint=none: exit 75, nothing written" || { fail "checkpoint=none (exit $rc)"; cat bg.txt; }
finish
