#!/bin/sh
# oracle_exec.sh -- the exec oracle (src/oracle_exec.c, doc/oracles.md):
# spex recovers a known sparse function through a Python worker (1 and 2
# ranks, text and bits formats, Fourier and Mobius terms, a worker that
# answers while spex is still writing), the worker sees its environment, and
# every way a worker can fail ends in one line naming the rank and command,
# exit 3 on every rank, no result file and no hang.
. "$(dirname "$0")/common.sh"

WORKER="$PY $srcdir/tools/worker-example.py"
# Failure cases must end long before the harness's own timeout.
SPEX_TEST_TIMEOUT=60
# n = 100 (13 bytes per mask in bits format), t = 3, b = 6:
# 3 groups x (7*3 + 1) delays x 64 bins = 4224 queries, batches of 64.
SMALL="--set features.n=100 --set oracle.kind=exec --set method.max_order=3 --set method.b=6"

# ---- recovery ----------------------------------------------------------------
"$srcdir/tools/make-spectrum" --n 100 --terms 20 --min-order 0 --max-order 3 --coef 0.5:2 \
    --seed 11 -o spec.txt
for k in 1 2; do
    for fmt in text bits; do
        spexrun $k run $SMALL --set oracle.format=$fmt \
            --set oracle.command="$WORKER --spectrum spec.txt" -o ex-$k-$fmt.h5
        rc=$?
        if [ $rc -eq 0 ] && $PY "$srcdir/tests/check_result.py" ex-$k-$fmt.h5 spec.txt \
                --queries 4224 >check.txt 2>&1; then
            pass "np=$k format=$fmt recovers the worker's 20 terms: $(cat check.txt)"
        else
            fail "np=$k format=$fmt recovery (exit $rc)"
            cat out.txt check.txt | sed 's/^/  | /' | tail -20
        fi
    done
done

# The worker's built-in toy model in the Mobius basis (AND interactions):
# spex finds its exact Fourier expansion.
printf '1.0\n1.5 0 1\n-2.0 2 5 7\n0.5 3\n' > toy.txt
spexrun 2 run --set features.n=20 --set oracle.kind=exec --set oracle.format=bits \
    --set oracle.command="$WORKER --basis mobius" --set method.max_order=3 --set method.b=5 \
    -o toy.h5
if [ $? -eq 0 ] && $PY "$srcdir/tests/check_result.py" toy.h5 toy.txt --basis mobius \
        >check.txt 2>&1; then
    pass "toy Mobius model through the worker: $(cat check.txt)"
else
    fail "toy Mobius model"; cat out.txt check.txt | sed 's/^/  | /' | tail -20
fi

# Batches of 8192 masks (1.6 MB of text in, 160 kB of values out, both far
# over a pipe's buffer) with a worker that answers each mask at once: spex
# must read while it writes, or both sides block forever.
"$srcdir/tools/make-spectrum" --n 200 --terms 6 --min-order 0 --max-order 1 --seed 3 -o lin.txt
spexrun 1 run --set features.n=200 --set oracle.kind=exec --set oracle.batch=16384 \
    --set oracle.timeout=60 --set oracle.command="$WORKER --eager --spectrum lin.txt" \
    --set method.max_order=1 --set method.groups=1 --set method.b=13 -o eager.h5
if [ $? -eq 0 ] && $PY "$srcdir/tests/check_result.py" eager.h5 lin.txt >check.txt 2>&1; then
    pass "no pipe deadlock with 8192-mask batches and an eager worker: $(cat check.txt)"
else
    fail "eager worker, large batches"; cat out.txt check.txt | sed 's/^/  | /' | tail -20
fi

# The environment: SPEX_RANK, SPEX_SIZE, SPEX_LOCAL_RANK, SPEX_N.
spexrun 2 run $SMALL --set oracle.command="env | grep '^SPEX_' | sed 's/^/ENV /' >&2; \
$WORKER --spectrum spec.txt" -o env.h5
if [ $? -eq 0 ] && grep -q "ENV SPEX_RANK=1" out.txt && grep -q "ENV SPEX_SIZE=2" out.txt &&
        grep -q "ENV SPEX_LOCAL_RANK=1" out.txt && grep -q "ENV SPEX_N=100" out.txt; then
    pass "the worker's environment has SPEX_RANK, SPEX_SIZE, SPEX_LOCAL_RANK, SPEX_N"
else
    fail "worker environment"; sed 's/^/  | /' out.txt | tail -20
fi

# ---- failures ------------------------------------------------------------------
# bad.py MODE: answers like a real worker except for one planned fault.
cat > bad.py <<'EOF'
import os, sys
mode = sys.argv[1]
inp, out = sys.stdin.buffer, sys.stdout.buffer
header = inp.readline()
batch = 0
while True:
    line = inp.readline()
    if not line:
        sys.exit(0)
    batch += 1
    count = int(line.split()[1])
    for _ in range(count):
        inp.readline()
    vals = [b"1.0"] * count
    if mode == "abc" and batch == 3:
        vals[16] = b"abc"
    if mode == "nan":
        vals[0] = b"nan"
    if mode == "huge":
        vals[5] = b"1e999"
    if mode == "extra":
        vals.append(b"2.0")
    if mode == "long":
        vals[0] = b"7" * 5000
    if mode in ("fewer-exit", "fewer-wait"):
        vals.pop()
    out.write(b"\n".join(vals) + b"\n")
    out.flush()
    if mode == "fewer-exit":
        sys.exit(0)
    if mode == "fewer-wait":
        open("fewer.pid", "w").write("%d\n" % os.getpid())
        inp.read()
EOF
BAD="$PY bad.py"

# expect_exec_fail K PATTERN ARGS...: expect_fail with exit 3, and the run
# took under 40 s and printed exactly one error line.
expect_exec_fail() {
    k=$1 pat=$2; shift 2
    t0=$(date +%s)
    expect_fail "$k" 3 "$pat" "$@"
    t=$(( $(date +%s) - t0 ))
    errs=$(grep -c "spex: error" out.txt)
    if [ "$t" -lt 40 ] && [ "$errs" -eq 1 ]; then
        pass "  ... in ${t} s with one error line"
    else
        fail "  ... took ${t} s, $errs error lines"
    fi
}

for k in 1 2; do
    expect_fail $k 1 "error: oracle.command is empty" run $SMALL -o result.h5
    expect_fail $k 1 "error: oracle.command is empty" run $SMALL --set "oracle.command=  " \
        -o result.h5
    expect_exec_fail $k "error: exec worker on rank 0 \('no-such-worker-xyz --flag'\) exited with status 127 \(the shell could not find the command\) after 0 values \(0 of 64 in batch 1\)" \
        run $SMALL --set oracle.command="no-such-worker-xyz --flag" -o result.h5
done

# A worker that crashes on rank 1 only: rank 0 finishes its own share, then
# every rank exits 3 with rank 1's message, printed once.
expect_exec_fail 2 "error: exec worker on rank 1 \('.*worker-example.py --fail-rank 1 --spectrum spec.txt'\) exited with status 2 after 64 values \(0 of 64 in batch 2\)" \
    run $SMALL --set oracle.command="$WORKER --fail-rank 1 --spectrum spec.txt" -o result.h5

expect_exec_fail 1 "error: exec worker on rank 0 \('read h; read b; kill -9 [$][$]'\) was killed by signal 9 \(Killed\) after 0 values \(0 of 64 in batch 1\)" \
    run $SMALL --set oracle.command='read h; read b; kill -9 $$' -o result.h5

expect_exec_fail 1 "error: exec worker on rank 0 \('true'\) exited with status 0 after 0 values \(0 of 64 in batch 1\)" \
    run $SMALL --set oracle.command=true -o result.h5

# A worker that exits while spex writes a batch far larger than a pipe holds
# (64 masks of 2001 bytes): spex gets EPIPE, not a fatal SIGPIPE, and
# reports the exit.
expect_exec_fail 2 "error: exec worker on rank 0 \('head -c 1000 >/dev/null; exit 4'\) exited with status 4 after 0 values \(0 of 64 in batch 1\)" \
    run --set features.n=2000 --set oracle.kind=exec --set method.max_order=1 \
    --set method.groups=1 --set method.b=6 --set oracle.command='head -c 1000 >/dev/null; exit 4' \
    -o result.h5

# Hung workers (they record their pids, checked at the end).
expect_exec_fail 2 "error: exec worker on rank 0 \('echo [$][$] > hang[$]SPEX_RANK.pid; exec sleep 100'\) took longer than oracle.timeout = 2 s on a batch; killed it after 0 values \(0 of 64 in batch 1\)" \
    run $SMALL --set oracle.command='echo $$ > hang$SPEX_RANK.pid; exec sleep 100' \
    --set oracle.timeout=2 -o result.h5

expect_exec_fail 1 "error: exec worker on rank 0 \('.*bad.py fewer-wait'\) took longer than oracle.timeout = 1.5 s on a batch; killed it after 63 values \(63 of 64 in batch 1\)" \
    run $SMALL --set oracle.command="$BAD fewer-wait" --set oracle.timeout=1.5 -o result.h5

expect_exec_fail 1 "error: exec worker on rank 0 \('echo [$][$] > closed.pid; exec >&-; exec sleep 100'\) closed its output but kept running, after 0 values \(0 of 64 in batch 1\); killed it" \
    run $SMALL --set oracle.command='echo $$ > closed.pid; exec >&-; exec sleep 100' -o result.h5

# Wrong answers.
expect_exec_fail 1 "error: exec worker on rank 0 \('.*bad.py fewer-exit'\) exited with status 0 after 63 values \(63 of 64 in batch 1\)" \
    run $SMALL --set oracle.command="$BAD fewer-exit" -o result.h5

expect_exec_fail 2 "error: exec worker on rank 0 \('.*bad.py abc'\) printed 'abc' as value 17 of batch 3 \(not a number\)" \
    run $SMALL --set oracle.command="$BAD abc" -o result.h5

expect_exec_fail 2 "error: exec worker on rank 0 \('.*bad.py nan'\) printed a non-finite value 'nan' as value 1 of batch 1" \
    run $SMALL --set oracle.command="$BAD nan" -o result.h5

expect_exec_fail 1 "error: exec worker on rank 0 \('.*bad.py huge'\) printed a non-finite value '1e999' as value 6 of batch 1" \
    run $SMALL --set oracle.command="$BAD huge" -o result.h5

expect_exec_fail 2 "error: exec worker on rank 0 \('.*bad.py extra'\) printed more values than asked: '2.0' after all 64 values of batch 1" \
    run $SMALL --set oracle.command="$BAD extra" -o result.h5

expect_exec_fail 1 "error: exec worker on rank 0 \('.*bad.py long'\) printed a line over 4095 bytes as value 1 of batch 1" \
    run $SMALL --set oracle.command="$BAD long" -o result.h5

# No hung worker outlives its run.
sleep 1
left="" checked=0
for f in *.pid; do
    [ -f "$f" ] || continue
    checked=$((checked + 1))
    kill -0 "$(cat "$f")" 2>/dev/null && left="$left $f"
done
if [ "$checked" -ge 3 ] && [ -z "$left" ]; then
    pass "no hung worker left running ($checked checked)"
else
    fail "hung workers: $checked recorded, still running:$left"
fi

finish
