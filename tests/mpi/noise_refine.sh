#!/bin/sh
# noise_refine.sh -- noisy recovery, refinement, faithfulness and the
# derived outputs, checked with an independent reader (h5py) against the
# spectrum files.
. "$(dirname "$0")/common.sh"

# score FILE SPEC: prints "F1 R2 R2_peeled" (support F1 of /fourier vs SPEC).
score() {
    $PY - "$1" "$2" <<'PYEOF'
import sys, h5py
truth = set()
for line in open(sys.argv[2]):
    p = line.split()
    if p and not p[0].startswith("#"):
        truth.add(tuple(sorted(int(x) for x in p[1:])))
f = h5py.File(sys.argv[1], "r")
got = set(tuple(int(x) for x in row[:o]) for o, row in zip(f["fourier/order"][...], f["fourier/features"][...]))
tp = len(got & truth)
prec = tp / len(got) if got else 0.0
rec = tp / len(truth)
f1 = 2 * prec * rec / (prec + rec) if tp else 0.0
print("%.4f %.6f %.6f" % (f1, f.attrs["faithfulness_r2"], f["diagnostics"].attrs["r2_peeled"]))
PYEOF
}

# Issue figure: n = 10,000, 100 terms up to order 4, 20 dB: R^2 >= 0.95, F1 >= 0.9.
"$srcdir/tools/make-spectrum" --n 10000 --terms 100 --min-order 1 --max-order 4 --seed 11 -o s100.txt
for snr in 20 10; do
    spexrun 2 run --set features.n=10000 --set oracle.spectrum=s100.txt --set oracle.snr_db=$snr \
        --set method.max_order=4 --set method.b=8 -o n$snr.h5
    set -- $(score n$snr.h5 s100.txt)
    if [ "$snr" = 20 ]; then
        $PY -c "import sys; sys.exit(not ($1 >= 0.9 and $2 >= 0.95))" &&
            pass "20 dB: F1 $1 >= 0.9, R^2 $2 >= 0.95 (peeled $3)" ||
            { fail "20 dB: F1 $1, R^2 $2"; tail out.txt; }
    else
        [ -n "${1:-}" ] && pass "10 dB (reported): F1 $1, R^2 $2 (peeled $3)" || fail "10 dB run"
    fi
done

# 50 large terms over 2,000 small "tail" terms (about 1% of the energy):
# the 50 are found, and refinement does not lose faithfulness.
"$srcdir/tools/make-spectrum" --n 10000 --terms 50 --max-order 3 --seed 5 -o big.txt
$PY - <<'PYEOF'
import random
rng = random.Random(9)
big = [l for l in open("big.txt") if not l.startswith("#")]
keys = set(tuple(sorted(int(x) for x in l.split()[1:])) for l in big)
out = open("tail.txt", "w")
out.writelines(big)
while len(keys) < 50 + 2000:
    k = tuple(sorted(rng.sample(range(10000), rng.randint(1, 3))))
    if k not in keys:
        keys.add(k)
        out.write("%.17g %s\n" % (rng.choice((-1, 1)) * rng.uniform(0.015, 0.025), " ".join(map(str, k))))
PYEOF
spexrun 2 run --set features.n=10000 --set oracle.spectrum=tail.txt --set method.max_order=3 \
    --set method.b=9 -o tail.h5
$PY - <<'PYEOF' && pass "tail: 50 large terms found; R^2 refined >= peeled ($(cat r2.txt))" ||
import h5py
big = set()
for l in open("big.txt"):
    if not l.startswith("#"):
        big.add(tuple(sorted(int(x) for x in l.split()[1:])))
f = h5py.File("tail.h5", "r")
got = set(tuple(int(x) for x in row[:o]) for o, row in zip(f["fourier/order"][...], f["fourier/features"][...]))
r2, r2p = f.attrs["faithfulness_r2"], f["diagnostics"].attrs["r2_peeled"]
open("r2.txt", "w").write("%.5f vs %.5f" % (r2, r2p))
assert big <= got, "missing %d of the 50" % len(big - got)
assert r2 >= r2p - 1e-9, (r2, r2p)
PYEOF
    { fail "tail spectrum"; tail out.txt; }

# Derived outputs: Mobius expansion of a known function, Shapley values,
# indices; spex show --index reads them.
printf '2.0 3 9\n-1.0 4\n0.5 1 2 5\n' > mob.txt
spexrun 1 run --set features.n=16 --set oracle.spectrum=mob.txt --set oracle.basis=mobius \
    --set method.max_order=3 --set method.b=4 -o mob.h5
$PY - <<'PYEOF' && pass "mobius + shapley values match the Mobius spectrum exactly" || fail "derived outputs"
import h5py, numpy as np
f = h5py.File("mob.h5", "r")
m = {tuple(int(x) for x in row[:o]): c for o, row, c in
     zip(f["mobius/order"][...], f["mobius/features"][...], f["mobius/coef"][...]) if abs(c) > 1e-12}
assert set(m) == {(3, 9), (4,), (1, 2, 5)}, m
assert abs(m[(3, 9)] - 2.0) < 1e-12 and abs(m[(4,)] + 1.0) < 1e-12 and abs(m[(1, 2, 5)] - 0.5) < 1e-12
phi = f["values/shapley"][...]
want = np.zeros(16); want[[3, 9]] += 1.0; want[4] -= 1.0; want[[1, 2, 5]] += 0.5 / 3
assert np.allclose(phi, want, atol=1e-12), phi
assert "sii" in f["indices"] and "fsii" in f["indices"]
PYEOF
spexrun 1 show mob.h5 --index shapley && grep -q "Shapley values" out.txt && pass "show --index shapley" ||
    { fail "show --index shapley"; cat out.txt; }
spexrun 1 show mob.h5 --index sii && grep -q "3 x 9" out.txt && pass "show --index sii" ||
    { fail "show --index sii"; cat out.txt; }
expect_fail 1 1 "error: .*bogus" show mob.h5 --index bogus
finish
