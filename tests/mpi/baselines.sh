#!/bin/sh
# baselines.sh -- method.name = lime | banzhaf | faith-banzhaf end to end:
# exact answers on functions the baselines can represent (checked with
# h5py against the spectrum file), the same result on 1, 2 and 3 ranks,
# the keys, and the error for a fit too large to hold.
. "$(dirname "$0")/common.sh"

# coefs FILE SPEC: checks that /fourier holds every term of SPEC with its
# coefficient (1e-9 relative to the largest) and nothing else above 1e-9,
# that R^2 = 1, and prints the number of fitted terms.
coefs() {
    $PY - "$1" "$2" <<'PYEOF'
import sys, h5py
truth = {}
for line in open(sys.argv[2]):
    p = line.split()
    if p and not p[0].startswith("#"):
        truth[tuple(sorted(int(x) for x in p[1:]))] = float(p[0])
f = h5py.File(sys.argv[1], "r")
got = {tuple(int(x) for x in row[:o]): c for o, row, c in
       zip(f["fourier/order"][...], f["fourier/features"][...], f["fourier/coef"][...])}
big = max(abs(c) for c in truth.values())
for k, c in truth.items():
    assert abs(got.get(k, 0.0) - c) <= 1e-9 * big, (k, c, got.get(k))
for k, c in got.items():
    assert k in truth or abs(c) <= 1e-9 * big, (k, c)
assert abs(f.attrs["faithfulness_r2"] - 1) < 1e-9, f.attrs["faithfulness_r2"]
assert f.attrs["queries"] == 3 * f.attrs["delays_count"] * 2 ** f.attrs["b"]
m = f.attrs["method"]
print(len(got), m.decode() if isinstance(m, bytes) else m)
PYEOF
}

# A function of order <= 1: banzhaf and lime fit it exactly on the SPEX
# design's queries (and on uniform masks); faith-banzhaf fits one of
# order <= 2 exactly.
printf '1.5\n2.0 3\n-0.75 9\n0.5 17\n-1.25 20\n' > lin.txt
printf '1.5\n2.0 3\n-0.75 9\n0.6 3 9\n-0.4 5 20\n0.3 17 23\n' > quad.txt
common="--set features.n=24 --set oracle.kind=sparse --set method.max_order=2 --set method.b=5"
for m in banzhaf lime; do
    for q in design uniform; do
        spexrun 2 run $common --set oracle.spectrum=lin.txt --set method.name=$m \
            --set method.baseline_queries=$q -o $m-$q.h5 &&
            r=$(coefs $m-$q.h5 lin.txt) && pass "$m on $q queries: exact linear fit ($r terms)" ||
            { fail "$m on $q queries"; tail -5 out.txt; }
    done
done
spexrun 2 run $common --set oracle.spectrum=quad.txt --set method.name=faith-banzhaf \
    --set method.baseline_pairs=24 -o fb.h5 &&
    r=$(coefs fb.h5 quad.txt) && pass "faith-banzhaf: exact order-2 fit, all 276 pairs ($r terms)" ||
    { fail "faith-banzhaf exact"; tail -5 out.txt; }
grep -q "R^2 = 1.000000 on 10000 held-out masks (faith-banzhaf fit by ols)" out.txt &&
    pass "summary prints the baseline's R^2" || { fail "summary"; cat out.txt; }

# The linear baselines cannot represent the pairs: their R^2 is the share of
# the variance in order <= 1 (4.5625 of 5.1725, 0.882).
spexrun 1 run $common --set oracle.spectrum=quad.txt --set method.name=banzhaf \
    --set method.baseline_queries=uniform --set method.b=8 -o bq.h5
$PY - <<'PYEOF' && pass "banzhaf on a quadratic function: R^2 = order-1 variance share" ||
import h5py
r2 = h5py.File("bq.h5", "r").attrs["faithfulness_r2"]
share = (2.0**2 + 0.75**2) / (2.0**2 + 0.75**2 + 0.6**2 + 0.4**2 + 0.3**2)
assert abs(r2 - share) < 0.01, (r2, share)
PYEOF
    fail "banzhaf R^2 on a quadratic function"

# Rank-count independence on a noisy function with screening (features <
# n): the same terms, coefficients equal to 1e-12 relative.
"$srcdir/tools/make-spectrum" --n 1500 --terms 60 --min-order 0 --max-order 3 --seed 4 -o s.txt
for m in lime banzhaf faith-banzhaf; do
    for k in 1 2 3; do
        spexrun $k run --set features.n=1500 --set oracle.kind=sparse --set oracle.spectrum=s.txt \
            --set oracle.snr_db=10 --set method.max_order=3 --set method.b=7 --set method.name=$m \
            --set method.baseline_features=200 --set method.baseline_pairs=20 -o $m-$k.h5 ||
            { fail "$m on $k ranks"; tail -3 out.txt; }
    done
    $PY - $m <<'PYEOF' && pass "$m: 1, 2 and 3 ranks give the same fit" || fail "$m: rank counts differ"
import sys, h5py, numpy as np
m = sys.argv[1]
fs = [h5py.File("%s-%d.h5" % (m, k), "r") for k in (1, 2, 3)]
for f in fs[1:]:
    for d in ("fourier/order", "fourier/features"):
        assert (f[d][...] == fs[0][d][...]).all(), d
    a, b = fs[0]["fourier/coef"][...], f["fourier/coef"][...]
    assert np.max(np.abs(a - b)) <= 1e-12 * np.max(np.abs(a)), np.max(np.abs(a - b))
    assert abs(f.attrs["faithfulness_r2"] - fs[0].attrs["faithfulness_r2"]) < 1e-12
assert len(fs[0]["fourier/coef"]) == 1 + 200 + (190 if m == "faith-banzhaf" else 0)
assert fs[0].attrs["method"] in (m, m.encode())
PYEOF
done

spexrun 1 keys && grep -q "method.baseline_features" out.txt && grep -q "method.lime_width" out.txt &&
    grep -q "faith-banzhaf" out.txt && pass "spex keys lists the baseline keys" ||
    fail "spex keys"
expect_fail 2 1 "error: method.baseline_features = 9999 and method.baseline_pairs = 141 give 19870 terms" \
    run --set method.name=faith-banzhaf --set method.baseline_features=9999 \
    --set method.baseline_pairs=141 -o result.h5
expect_fail 1 1 "error: .*method.lime_width" run --set method.name=lime --set method.lime_width=0 \
    -o result.h5
finish
