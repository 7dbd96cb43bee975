#!/bin/sh
# proxyspex.sh -- method.name = proxyspex end to end: faithfulness on a
# hierarchical function from few samples, the same /fourier on 1, 2 and 3
# ranks and for 1 or 2 training threads, the refinement modes, and the
# usage errors of its keys.  Checked with h5py against the spectrum file.
. "$(dirname "$0")/common.sh"

# 8 random terms of order <= 3 over 200 features with all their subsets
# (about 30 terms).  SPEX would need 3 groups x 25 delays x 2^6 bins = 4,800
# queries for it; ProxySPEX gets 1,500.
"$srcdir/tools/make-spectrum" --n 200 --terms 8 --min-order 1 --max-order 3 --hierarchical \
    --seed 4 -o h.txt
P="--set features.n=200 --set oracle.spectrum=h.txt --set oracle.snr_db=30 \
   --set method.name=proxyspex --set method.max_order=3 --set method.samples=1500"

# check FILE MIN_R2: R^2 >= MIN_R2, refined >= before refinement, the
# attributes of a proxyspex result; prints "R2 R2_before found/true".
check() {
    $PY - "$1" "$2" <<'PYEOF'
import sys, h5py
f = h5py.File(sys.argv[1], "r")
truth = set()
for line in open("h.txt"):
    p = line.split()
    if p and not p[0].startswith("#"):
        truth.add(tuple(sorted(int(x) for x in p[1:])))
got = set(tuple(int(x) for x in row[:o])
          for o, row in zip(f["fourier/order"][...], f["fourier/features"][...]))
r2, r2b = f.attrs["faithfulness_r2"], f["diagnostics"].attrs["r2_peeled"]
method = f.attrs["method"]
assert (method.decode() if isinstance(method, bytes) else str(method)) == "proxyspex", method
assert int(f.attrs["queries"]) == 1500, f.attrs["queries"]
assert int(f.attrs["max_order"]) == 3 and max(f["fourier/order"][...]) <= 3
assert r2 >= float(sys.argv[2]), r2
# /proxy: the training record, consistent with the run and with itself
p = f["proxy"].attrs
assert int(p["train_samples"]) + int(p["holdout_samples"]) == 1500, dict(p)
assert 1 <= int(p["trees"]) <= int(p["rounds"]) and int(p["depth"]) >= 1, dict(p)
assert int(p["terms_kept"]) <= int(p["terms_extracted"]), dict(p)
assert int(p["terms_kept"]) + 1 >= len(f["fourier/coef"]) - 1, dict(p)
assert 0 <= float(p["holdout_seconds"]) <= float(p["train_seconds"]), dict(p)
if int(p["holdout_samples"]) > 0:
    assert p["holdout_rmse"] > 0 and p["holdout_r2"] <= 1, dict(p)
print("%.4f %.4f %d/%d" % (r2, r2b, len(got & truth), len(truth)))
PYEOF
}

for k in 1 2 3; do
    spexrun $k run $P --set method.threads=1 -o p$k.h5 ||
        { fail "run on $k ranks"; sed 's/^/  | /' out.txt | tail; }
done
r=$(check p2.h5 0.9) && pass "np=2: R^2 >= 0.9 from 1500 samples (R^2, before refit, found: $r)" ||
    { fail "np=2 faithfulness: $r"; tail out.txt; }
for k in 2 3; do
    for d in /fourier/order /fourier/features /fourier/coef /mobius/coef; do
        if "$H5DIFF" -p 1e-12 p1.h5 p$k.h5 $d $d >diff.txt 2>&1; then
            pass "np=1 vs np=$k: $d equal to 1e-12"
        else
            fail "np=1 vs np=$k: $d differs"; head diff.txt
        fi
    done
done

# Without method.threads, rank 0 trains on the CPUs of the ranks on its node
# (mpirun binds each rank to a core; the others wait while it trains).
spexrun 2 run $P -o auto.h5 &&
    $PY - "$(nproc)" <<'PYEOF' && pass "np=2: training threads = the node ranks' CPUs" ||
import sys, h5py
t = int(h5py.File("auto.h5", "r")["proxy"].attrs["threads"])
assert t >= min(2, int(sys.argv[1])), t
PYEOF
    { fail "np=2 training threads"; grep proxyspex out.txt; }
spexrun 1 run $P -o show.h5 && "$SPEX" show show.h5 >show.txt 2>&1 &&
    grep -q "terms extracted" show.txt && grep -q "held-out RMSE" show.txt &&
    pass "spex show prints the proxy's training" || { fail "spex show /proxy"; cat show.txt; }

# Training threads do not change the model (XGBoost hist is deterministic
# here, and early stopping sums the held-out errors itself).
spexrun 1 run $P --set method.threads=2 -o t2.h5 &&
    "$H5DIFF" -p 1e-12 p1.h5 t2.h5 /fourier/coef /fourier/coef >diff.txt 2>&1 &&
    pass "1 vs 2 training threads: same /fourier" ||
    { fail "threads change /fourier"; head diff.txt; }

# One stage (the paper's method: no residual proxy) works too and says so.
spexrun 2 run $P --set method.stages=1 -o s1.h5 && r=$(check s1.h5 0.9) &&
    $PY -c "import h5py; assert int(h5py.File('s1.h5', 'r')['proxy'].attrs['stages']) == 1" &&
    $PY -c "import h5py; assert int(h5py.File('p1.h5', 'r')['proxy'].attrs['stages']) == 2" &&
    pass "method.stages = 1 and 2 (R^2, before refit, found: $r)" ||
    { fail "method.stages"; tail out.txt; }

# Refinement modes: none keeps the proxy's own coefficients (and is worse
# here), ridge stays close to ols.
spexrun 2 run $P --set refine.name=none -o none.h5 && r=$(check none.h5 -10) &&
    pass "refine.name = none runs (R^2, -, found: $r)" || { fail "refine none"; tail out.txt; }
spexrun 2 run $P --set refine.name=ridge --set refine.lambda=1e-4 -o ridge.h5 &&
    r=$(check ridge.h5 0.9) && pass "refine.name = ridge (R^2, before refit, found: $r)" ||
    { fail "refine ridge"; tail out.txt; }

# No early stopping, a count and an energy cap on the kept terms.
spexrun 2 run $P --set method.holdout=0 --set method.trees=200 --set method.keep_terms=60 \
    --set method.keep_energy=0.999 -o caps.h5 &&
    $PY -c "import h5py; f = h5py.File('caps.h5', 'r'); assert len(f['fourier/coef']) <= 61" &&
    pass "holdout 0, keep_terms 60: at most 61 terms" || { fail "keep caps"; tail out.txt; }
grep -q "200 trees kept of 200 rounds" out.txt && pass "holdout 0 trains all rounds" ||
    { fail "holdout 0 rounds"; grep proxyspex out.txt; }

# Usage errors: too few samples for the holdout or for training.
expect_fail 2 1 "error: method.samples = 20 with method.holdout = 0.2 holds out 4 samples" \
    run $P --set method.samples=20 -o result.h5
expect_fail 1 1 "error: method.samples = 30 leaves 3 samples to train on" \
    run $P --set method.samples=30 --set method.holdout=0.9 -o result.h5
expect_fail 1 1 "error: .*method.learning_rate = 0 is out of range" \
    run $P --set method.learning_rate=0 -o result.h5

# SIGUSR1 (what Slurm sends before a time limit, forwarded by mpirun) stops
# the run between batches or boosting rounds: exit 75, one message, no file.
"$srcdir/tools/make-spectrum" --n 1000 --terms 20 --max-order 4 --hierarchical --seed 3 -o s.txt
"$MPIRUN" --oversubscribe -np 2 "$SPEX" run --set features.n=1000 --set oracle.spectrum=s.txt \
    --set method.name=proxyspex --set method.samples=8000 -o sig.h5 >out.txt 2>&1 &
job=$!
sleep 3
kill -USR1 $job
wait $job
rc=$?
n=$(grep -c "stopped by SIGUSR1 while .*run the same command again" out.txt)
[ "$rc" -eq 75 ] && [ "$n" -eq 1 ] && [ ! -e sig.h5 ] && pass "SIGUSR1: exit 75, one message" ||
    { fail "SIGUSR1: exit $rc, $n messages"; tail out.txt; }
finish
