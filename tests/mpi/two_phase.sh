#!/bin/sh
# two_phase.sh -- spex plan / fill with h5py / spex decode (doc/two-phase.md):
# the plan holds the design's masks in design order whatever the rank count;
# a plan filled by tools/fill-plan.py with a spectrum decodes to exactly the
# result `spex run` gets from the sparse oracle with that spectrum (plan on 2
# ranks and decode on 1, and the reverse); and every bad plan is one line, the
# documented exit code and no result file.
. "$(dirname "$0")/common.sh"

FILL="$PY $srcdir/tools/fill-plan.py -q"
"$srcdir/tools/make-spectrum" --n 1500 --terms 50 --min-order 0 --max-order 3 --seed 21 \
    -o spec.txt
STUDY="--set features.n=1500 --set oracle.spectrum=spec.txt --set method.max_order=3 \
--set method.b=7 --set output.test_masks=300 --set study.seed=5"

# ---- plans: identical on 1 and 2 ranks, masks from spex, values NaN ----------
for k in 1 2; do
    if spexrun $k plan $STUDY -o plan$k.h5 && [ -f plan$k.h5 ] && ! ls plan$k.h5.tmp-* >/dev/null 2>&1
    then pass "plan on $k ranks"; else fail "plan on $k ranks"; sed 's/^/  | /' out.txt | tail; fi
done
same=1
for d in /queries/masks /queries/values /test/masks /test/values; do
    "$H5DIFF" plan1.h5 plan2.h5 $d $d >diff.txt 2>&1 || { same=0; head -3 diff.txt; }
done
[ $same = 1 ] && pass "plans written on 1 and 2 ranks hold the same masks" ||
    fail "plans differ between 1 and 2 ranks"

# An independent reader: the layout doc/two-phase.md promises.
$PY - <<'PYEOF' && pass "plan layout: attributes, shapes, all values NaN, test masks uniform" ||
import h5py, numpy as np
f = h5py.File("plan2.h5", "r")
a = f.attrs
assert a["format"] == b"spex-plan" and a["format_version"] == 2, dict(a)
assert a["n_features"] == 1500 and a["b"] == 7 and a["groups"] == 3 and a["max_order"] == 3
assert a["delays"] == b"bch" and a["seed"] == 5 and a["test_masks"] == 300
q = int(a["queries"])
assert q == 3 * int(a["delays_count"]) * 2 ** 7, q
assert f["queries/masks"].shape == (q, 188) and f["queries/masks"].dtype == np.uint8
assert f["queries/values"].shape == (q,) and f["queries/values"].dtype == np.float64
assert f["test/masks"].shape == (300, 188) and f["test/values"].shape == (300,)
assert np.isnan(f["queries/values"][...]).all() and np.isnan(f["test/values"][...]).all()
m = f["queries/masks"][...]
# query 0 is (c 0, p 0, l 0): the empty mask; bits past n are zero
assert not m[0].any() and not (m[:, -1] & 0xF0).any()
# l = 1 of group 0 is row 0 of M_0: about half the features kept
bits = np.unpackbits(f["test/masks"][...], axis=1, bitorder="little")[:, :1500]
assert abs(bits.mean() - 0.5) < 0.01, bits.mean()
assert b"[method]" in f["study/config"][()]
PYEOF
    fail "plan layout"

# The mask hashes, recomputed here from the formula of doc/two-phase.md.
cat > planhash.py <<'PYEOF'
"""planhash.py PLAN [PART] -- the hash of doc/two-phase.md of /PART/masks
(queries, test; both when omitted), printed as 0x%016x."""
import sys
import h5py
import numpy as np

M64 = (1 << 64) - 1

def mix(z):
    z ^= z >> 30
    z = (z * 0xBF58476D1CE4E5B9) & M64
    z ^= z >> 27
    z = (z * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)

def masks_hash(masks):
    pad = (-masks.shape[1]) % 8
    words = np.pad(masks, ((0, 0), (0, pad))).view("<u8")
    total = 0
    for row, ws in enumerate(words):
        h = mix(row ^ 0x9E3779B97F4A7C15)
        for w in ws.tolist():
            h = mix(h ^ w)
        total ^= h
    return total

with h5py.File(sys.argv[1], "r") as f:
    parts = sys.argv[2:] or ["queries", "test"]
    print(" ".join("0x%016x" % masks_hash(f[p + "/masks"][...]) for p in parts))
PYEOF
hashes() { $PY -c "import h5py, sys; a = h5py.File(sys.argv[1], 'r').attrs
print('0x%016x 0x%016x' % (a['masks_hash'], a['test_masks_hash']))" "$1"; }
h1=$(hashes plan1.h5) h2=$(hashes plan2.h5) hp=$($PY planhash.py plan2.h5)
if [ "$h1" = "$h2" ] && [ "$h2" = "$hp" ]; then
    pass "masks_hash, test_masks_hash: the same on 1 and 2 ranks and as recomputed ($h1)"
else
    fail "mask hashes: np=1 '$h1', np=2 '$h2', recomputed '$hp'"
fi

# ---- decode == run, across rank counts ----------------------------------------
cp plan2.h5 filled2.h5 && $FILL filled2.h5 --spectrum spec.txt &&
cp plan1.h5 filled1.h5 && $FILL filled1.h5 --spectrum spec.txt ||
    fail "tools/fill-plan.py"
for k in 1 2; do
    spexrun $k run $STUDY -q -o run$k.h5 || { fail "run on $k ranks"; tail out.txt; }
done
# plan on 2, decode on 1; plan on 1, decode on 2
for pair in "2 1" "1 2"; do
    set -- $pair
    if spexrun $2 decode $STUDY --values filled$1.h5 -o dec$1$2.h5; then
        pass "decode on $2 ranks of a plan written on $1"
    else
        fail "decode on $2 ranks of a plan written on $1"; sed 's/^/  | /' out.txt | tail
    fi
    grep -q "recovered 50 terms" out.txt && pass "decode recovers the 50 terms" ||
        { fail "decode recovery"; tail out.txt; }
    for d in /fourier/order /fourier/features /fourier/coef /mobius/coef /values/shapley; do
        if "$H5DIFF" run$2.h5 dec$1$2.h5 $d $d >diff.txt 2>&1; then
            pass "plan np=$1, decode np=$2: $d identical to spex run np=$2"
        else
            fail "plan np=$1, decode np=$2: $d differs from spex run"; head -5 diff.txt
        fi
    done
done
$PY - <<'PYEOF' && pass "faithfulness from the plan's test values equals the run's" ||
import h5py
for k in ("1", "2"):
    run = h5py.File("run%s.h5" % k, "r").attrs
    dec = h5py.File("dec%s%s.h5" % ("2" if k == "1" else "1", k), "r").attrs
    assert run["faithfulness_r2"] == dec["faithfulness_r2"] and dec["test_queries"] == 300, k
    assert 0.999 < dec["faithfulness_r2"] <= 1.0
PYEOF
    fail "faithfulness of decode"
# fewer test masks than planned: any prefix serves
spexrun 2 decode $STUDY --set output.test_masks=100 --values filled2.h5 -q -o sub.h5 &&
    pass "decode with fewer test masks than the plan" || { fail "decode test subset"; tail out.txt; }

# ---- bad plans: one line, exit code, no result file ------------------------
Q=$($PY -c "import h5py; print(int(h5py.File('plan1.h5', 'r').attrs['queries']))")
# edit FILE PYTHON: FILE is a copy of the filled plan changed by PYTHON (f: the open file)
edit() {
    cp filled1.h5 "$1"
    $PY -c "import h5py, numpy as np, sys; f = h5py.File(sys.argv[1], 'r+'); $2" "$1"
}
for k in 1 2; do
    expect_fail $k 2 "error: plan1.h5: /queries/values\[0\] is NaN \(not filled\)" \
        decode $STUDY --values plan1.h5 -o result.h5
    edit one_nan.h5 "f['queries/values'][1234] = np.nan; f['queries/values'][$Q - 3] = np.nan"
    expect_fail $k 2 "error: one_nan.h5: /queries/values\[1234\] is NaN \(not filled\)$" \
        decode $STUDY --values one_nan.h5 -o result.h5
    edit last_nan.h5 "f['queries/values'][$Q - 3] = np.nan"
    expect_fail $k 2 "error: last_nan.h5: /queries/values\[$((Q - 3))\] is NaN" \
        decode $STUDY --values last_nan.h5 -o result.h5
    edit inf.h5 "f['queries/values'][17] = -np.inf"
    expect_fail $k 2 "error: inf.h5: /queries/values\[17\] is -inf \(values must be finite\)" \
        decode $STUDY --values inf.h5 -o result.h5
    edit test_nan.h5 "f['test/values'][7] = np.nan"
    expect_fail $k 2 "error: test_nan.h5: /test/values\[7\] is NaN \(not filled\)" \
        decode $STUDY --values test_nan.h5 -o result.h5

    # not a usable file
    expect_fail $k 5 "error: cannot open 'nothere.h5'" decode $STUDY --values nothere.h5 -o result.h5
    head -c 100000 filled1.h5 > truncated.h5
    expect_fail $k 2 "error: 'truncated.h5' cannot be opened as HDF5: truncated or damaged\? \(truncated file" \
        decode $STUDY --values truncated.h5 -o result.h5
    head -c 5000 /dev/urandom > garbage.h5
    expect_fail $k 2 "error: 'garbage.h5' is not a spex plan file \(not HDF5\)" \
        decode $STUDY --values garbage.h5 -o result.h5
done
# The checks of the design and the command line are rank 0's, agreed by all:
# 2 ranks test the agreement.
k=2
# a plan of another study
expect_fail $k 2 "error: filled1.h5: planned for study.seed = 5, this study has study.seed = 6" \
    decode $STUDY --set study.seed=6 --values filled1.h5 -o result.h5
expect_fail $k 2 "error: filled1.h5: planned for features.n = 1500, this study has features.n = 1600" \
    decode $STUDY --set features.n=1600 --values filled1.h5 -o result.h5
expect_fail $k 2 "error: filled1.h5: planned for method.b = 7, this study has method.b = 8" \
    decode $STUDY --set method.b=8 --values filled1.h5 -o result.h5
expect_fail $k 2 "error: filled1.h5: planned for method.groups = 3, this study has method.groups = 4" \
    decode $STUDY --set method.groups=4 --values filled1.h5 -o result.h5
expect_fail $k 2 "error: filled1.h5: planned for method.max_order = 3, this study has method.max_order = 2" \
    decode $STUDY --set method.max_order=2 --values filled1.h5 -o result.h5
expect_fail $k 2 "error: filled1.h5: planned for method.delays = bch, this study has method.delays = identity" \
    decode $STUDY --set method.delays=identity --values filled1.h5 -o result.h5
expect_fail $k 2 "error: filled1.h5: has 300 test masks, this study asks for output.test_masks = 500" \
    decode $STUDY --set output.test_masks=500 --values filled1.h5 -o result.h5
# same parameters, other masks (row 128 starts signal 1)
edit masks.h5 "m = f['queries/masks']; m[128] = 255 - m[128]"
expect_fail $k 2 "error: masks.h5: /queries/masks\[128\] is not the mask this study asks for" \
    decode $STUDY --values masks.h5 -o result.h5
# one bit of one mask, anywhere: every mask is checked (and hashed), on 1
# and 2 ranks (the row is in rank 1's block)
R=$((Q - 5))
edit onebit.h5 "m = f['queries/masks']; r = m[$R]; r[100] ^= 8; m[$R] = r"
for k in 1 2; do
    expect_fail $k 2 "error: onebit.h5: /queries/masks\[$R\] is not the mask this study asks for: the masks were changed after spex plan wrote them \(they no longer match the plan's hash\)$" \
        decode $STUDY --values onebit.h5 -o result.h5
done
edit testbit.h5 "m = f['test/masks']; r = m[250]; r[0] ^= 1; m[250] = r"
expect_fail 2 2 "error: testbit.h5: /test/masks\[250\] is not the mask this study asks for: the masks were changed" \
    decode $STUDY --values testbit.h5 -o result.h5
# a bit changed and the hash made to match: not the study's plan
edit rehashed.h5 "m = f['queries/masks']; r = m[7]; r[3] ^= 64; m[7] = r"
$PY -c "import h5py, sys; f = h5py.File('rehashed.h5', 'r+')
f.attrs.modify('masks_hash', int(sys.argv[1], 16))" "$($PY planhash.py rehashed.h5 queries)"
expect_fail 2 2 "error: rehashed.h5: /queries/masks\[7\] is not the mask this study asks for: the plan was written for another study or by another spex version$" \
    decode $STUDY --values rehashed.h5 -o result.h5
# the hash attribute changed, the masks intact
edit badhash.h5 "f.attrs.modify('test_masks_hash', int(f.attrs['test_masks_hash']) ^ 1)"
expect_fail 2 2 "error: badhash.h5: attribute test_masks_hash = 0x[0-9a-f]{16} does not match /test/masks \(0x[0-9a-f]{16}\): the plan was changed after spex plan wrote it$" \
    decode $STUDY --values badhash.h5 -o result.h5

expect_fail $k 2 "error: 'run1.h5' is not a spex plan file \(its format is 'spex-result'\)" \
    decode $STUDY --values run1.h5 -o result.h5
edit shape.h5 "del f['queries/values']; f.create_dataset('queries/values', data=np.zeros(($Q, 2)))"
expect_fail $k 2 "error: shape.h5: dataset /queries/values is float64\[$Q\]\[2\], expected float64\[$Q\]" \
    decode $STUDY --values shape.h5 -o result.h5
edit short.h5 "del f['queries/values']; f.create_dataset('queries/values', data=np.zeros($Q - 1))"
expect_fail $k 2 "error: short.h5: dataset /queries/values is float64\[$((Q - 1))\], expected" \
    decode $STUDY --values short.h5 -o result.h5
edit nomask.h5 "del f['test/masks']"
expect_fail $k 2 "error: nomask.h5: dataset /test/masks is missing" \
    decode $STUDY --values nomask.h5 -o result.h5

# usage
expect_fail $k 1 "error: decode needs the filled plan: --values PLAN.h5" decode $STUDY -o result.h5
expect_fail $k 1 "error: plan needs the plan file to write: -o PLAN.h5" plan $STUDY
expect_fail $k 1 "error: .*serves method.name = spex only" \
    decode $STUDY --set method.name=proxyspex --values filled1.h5 -o result.h5
expect_fail $k 1 "error: .*serves method.name = spex only" plan $STUDY \
    --set method.name=proxyspex -o result.h5
expect_fail $k 1 "error: oracle.kind = hdf5 needs oracle.values" \
    run $STUDY --set oracle.kind=hdf5 -o result.h5
expect_fail $k 5 "error: cannot create 'no-dir/result.h5.tmp-[0-9]+'" plan $STUDY \
    -o no-dir/result.h5
# `spex run` with oracle.kind = hdf5 is decode
spexrun 2 run $STUDY --set oracle.kind=hdf5 --set oracle.values=filled1.h5 -q -o viarun.h5 &&
    "$H5DIFF" run2.h5 viarun.h5 /fourier/coef /fourier/coef >/dev/null &&
    pass "spex run --set oracle.kind=hdf5 equals decode" || { fail "run with hdf5 oracle"; tail out.txt; }
# a failed plan leaves an existing file alone
cp plan1.h5 keep.h5 && cp plan1.h5 keep.orig
spexrun 2 plan $STUDY --set method.name=proxyspex -o keep.h5
cmp -s keep.h5 keep.orig && pass "failed plan leaves an existing file intact" ||
    fail "existing file changed by a failed plan"
finish
