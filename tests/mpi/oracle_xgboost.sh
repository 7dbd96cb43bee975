#!/bin/sh
# oracle_xgboost.sh -- the XGBoost oracles against brute force.
#
# Models and data come from tools/make-xgb-example.py (and a few more made
# here).  For each case spex runs on a small n; tests/bruteforce.py recomputes the value
# function on all 2^n masks with xgboost-python (its own predictions on the
# masked rows, its own training, its own predictions with trees removed),
# takes the Walsh-Hadamard transform and compares every coefficient with
# spex's /fourier.  Then the example studies, and every error path with its
# exit code and one-line message.
. "$(dirname "$0")/common.sh"

if ! $PY -c "import xgboost, h5py, numpy" 2>/dev/null; then
    echo "SKIP: the ground truth needs python3-xgboost, python3-h5py and python3-numpy"
    exit 77
fi
if ! $PY "$srcdir/tools/make-xgb-example.py" --out . >gen.txt 2>&1; then
    fail "tools/make-xgb-example.py"; sed 's/^/  | /' gen.txt
    finish; exit 1
fi

# More models: 3 classes (softmax), a dart booster (not walkable).
$PY - <<'PYEOF'
import numpy as np, xgboost as xgb
d = np.genfromtxt("clf.csv", delimiter=",", skip_header=1)
X = d[:, :6]
y = np.digitize(X[:, 0] + X[:, 1] * X[:, 2], [-0.5, 0.5]).astype(float)
with open("multi.csv", "w") as f:
    f.write("g0,g1,g2,g3,g4,g5,y\n")
    for row, t in zip(X, y):
        f.write(",".join(repr(float(v)) for v in row) + ",%d\n" % t)
p = {"nthread": 1, "seed": 0, "tree_method": "exact", "verbosity": 0, "max_depth": 2}
dm = xgb.DMatrix(X.astype(np.float32), label=y)
xgb.train(dict(p, objective="multi:softprob", num_class=3), dm, 4).save_model("model-multi.json")
dm = xgb.DMatrix(X.astype(np.float32), label=d[:, 6])
dart = dict(p, objective="binary:logistic", booster="dart", rate_drop=0.3)
xgb.train(dart, dm, 8).save_model("model-dart.json")
PYEOF


# xcase LABEL K "KEYS" "METHOD": spex on K ranks, then tests/bruteforce.py.  KEYS are
# n=..., kind=... and [oracle] keys (key=value, no blanks), given to both;
# METHOD are [method] keys for spex.
xcase() {
    label=$1 k=$2 keys=$3 meth=$4
    set --
    for kv in $keys; do
        case $kv in
        n=*) set -- "$@" --set "features.$kv" ;;
        *) set -- "$@" --set "oracle.$kv" ;;
        esac
    done
    for kv in $meth; do set -- "$@" --set "method.$kv"; done
    rm -f r.h5
    if ! spexrun "$k" run -q --set method.name=spex --set output.test_masks=1000 "$@" -o r.h5; then
        fail "$label: spex exited $?"; sed 's/^/  | /' out.txt | tail -20; return 1
    fi
    # shellcheck disable=SC2086 # keys are words without blanks
    if $PY "$srcdir/tests/bruteforce.py" r.h5 $keys >bf.txt 2>&1; then
        pass "$label: $(tail -1 bf.txt)"
    else
        fail "$label"; sed 's/^/  | /' bf.txt | tail -20; return 1
    fi
}
# Dense spectra (probabilities, losses, retraining) need every coefficient:
# b = n, with 16 groups so that some group's random M is invertible.
FULL="groups=16 delays=identity noise_sigma=0"

# ---- xgboost: feature attribution -------------------------------------------
REG="n=16 kind=xgboost model=model-reg.json data=data.csv label=y"
xcase "xgboost, row baseline, BCH delays, np=2" 2 "$REG instance=0 baseline=1" "max_order=3 b=6" &&
    cp r.h5 native.h5 &&
    $PY - <<'PYEOF' && pass "xgboost: the model's interactions f0 f1, f3 f4 f5, f6 f7 are found" ||
import h5py
f = h5py.File("native.h5", "r")
got = {tuple(int(x) for x in row[:o]): c for o, row, c in
       zip(f["fourier/order"][...], f["fourier/features"][...], f["fourier/coef"][...])}
for k in [(0, 1), (2,), (3, 4, 5), (6, 7)]:
    assert abs(got.get(k, 0)) > 0.05, (k, got.get(k))
PYEOF
    fail "xgboost: expected interactions"
xcase "xgboost, engine = xgboost (expanded rows)" 1 "$REG instance=0 baseline=1 engine=xgboost" \
    "max_order=3 b=6" &&
    $PY - <<'PYEOF' && pass "native and xgboost engines give the same spectrum" ||
import h5py
def terms(path):
    f = h5py.File(path, "r")
    return {tuple(int(x) for x in row[:o]): c for o, row, c in
            zip(f["fourier/order"][...], f["fourier/features"][...], f["fourier/coef"][...])}
a, b = terms("native.h5"), terms("r.h5")
assert all(abs(a.get(k, 0.0) - b.get(k, 0.0)) < 1e-6 for k in set(a) | set(b))
PYEOF
    fail "engines differ"
$PY -c "import xgboost as x; x.Booster(model_file='model-reg.json').save_model('model-reg.ubj')"
if spexrun 1 run -q --set method.name=spex --set features.n=16 --set oracle.kind=xgboost \
        --set oracle.model=model-reg.ubj --set oracle.data=data.csv --set oracle.label=y \
        --set oracle.baseline=1 --set method.max_order=3 --set method.b=6 -o ubj.h5 &&
    $PY -c "import h5py, numpy as np, sys; a, b = h5py.File('native.h5'), h5py.File('ubj.h5')
sys.exit(not np.allclose(a['fourier/coef'][...], b['fourier/coef'][...], rtol=0, atol=1e-12))"; then
    pass "a UBJSON model gives the same spectrum as its JSON"
else
    fail "UBJSON model"; sed 's/^/  | /' out.txt | tail
fi
xcase "xgboost, HDF5 data, mean baseline of 100 rows" 2 \
    "n=16 kind=xgboost model=model-reg.json data=data.h5 label=y instance=5 baseline=mean
     background=100" "max_order=3 b=6"
CLF="n=6 kind=xgboost model=model-clf.json data=clf.csv label=y"
xcase "xgboost, probability, interventional (8 rows)" 2 \
    "$CLF instance=3 baseline=interventional background=8 output=probability" \
    "max_order=6 b=6 $FULL"
xcase "xgboost, logloss against the label, mean baseline" 1 \
    "$CLF instance=4 baseline=mean metric=logloss" "max_order=6 b=6 $FULL"
xcase "xgboost, 3 classes, probability of class 2 (softmax)" 2 \
    "n=6 kind=xgboost model=model-multi.json data=multi.csv label=y instance=7 baseline=2
     output=probability class=2" "max_order=6 b=6 $FULL"
xcase "xgboost, dart booster (engine auto falls back to XGBoost)" 1 \
    "n=6 kind=xgboost model=model-dart.json data=clf.csv label=y instance=1 baseline=0
     output=probability" "max_order=6 b=6 $FULL"

# ---- xgboost-train: data attribution ------------------------------------------
TRAIN="n=6 kind=xgboost-train data=train.csv test=test.csv label=y train_rounds=3"
xcase "xgboost-train, prediction on a test row, np=2" 2 "$TRAIN instance=2" "max_order=6 b=6 $FULL"
xcase "xgboost-train, squared error, depth 2, eta 0.5" 1 \
    "$TRAIN instance=1 metric=squared_error train_depth=2 train_eta=0.5" "max_order=6 b=6 $FULL"

# ---- xgboost-trees: component attribution ---------------------------------------
xcase "xgboost-trees, squared error of 10 groups of 4 rounds (order 2), np=2" 2 \
    "n=10 kind=xgboost-trees model=model-reg.json data=valid.csv label=y tree_group=4
     metric=squared_error" "max_order=2 b=6"
xcase "xgboost-trees, logloss of a classifier" 1 \
    "n=5 kind=xgboost-trees model=model-clf.json data=clf.csv label=y tree_group=4 metric=logloss" \
    "max_order=5 b=5 $FULL"
xcase "xgboost-trees, 3 classes, mean probability of class 1" 2 \
    "n=4 kind=xgboost-trees model=model-multi.json data=multi.csv label=y output=probability
     class=1" "max_order=4 b=4 $FULL"

# ---- the example studies ------------------------------------------------------------
for ex in xgboost-example xgboost-classifier-example xgboost-train-example \
    xgboost-trees-example; do
    rm -f ex.h5
    if spexrun 2 run "$srcdir/inputs/$ex.ini" --set output.test_masks=1000 -o ex.h5 -q &&
        $PY -c "import h5py, sys
sys.exit(not h5py.File('ex.h5', 'r').attrs['faithfulness_r2'] > 0.9999)"; then
        pass "inputs/$ex.ini runs, R^2 > 0.9999"
    else
        fail "inputs/$ex.ini"; sed 's/^/  | /' out.txt | tail -20
    fi
done

# ---- errors -------------------------------------------------------------------------
B="run --set method.name=spex"
XG="$B --set features.n=16 --set oracle.kind=xgboost"
XM="$XG --set oracle.model=model-reg.json"
XD="$XM --set oracle.data=data.csv --set oracle.label=y"
expect_fail 2 2 "error: oracle.model = 'nope.json': cannot read: No such file" \
    $XG --set oracle.model=nope.json --set oracle.data=data.csv
expect_fail 1 2 "error: oracle.model = 'data.csv' is not an XGBoost model" \
    $XG --set oracle.model=data.csv --set oracle.data=data.csv
expect_fail 2 1 "error: features.n = 15 but oracle.model = 'model-reg.json' has 16 features" \
    $XD --set features.n=15
expect_fail 1 2 "error: oracle.data = 'data.csv' has 17 feature columns .*oracle.label" \
    $XM --set oracle.data=data.csv
expect_fail 1 2 "error: oracle.data = 'clf.csv' has 6 feature columns but oracle.model = .* 16" \
    $XM --set oracle.data=clf.csv --set oracle.label=y
expect_fail 1 1 "error: oracle.data is empty" $XM
expect_fail 1 2 "error: oracle.data = 'nodata.csv': cannot read" $XM --set oracle.data=nodata.csv
expect_fail 2 1 "error: oracle.instance = 400 is out of range: .* has 400 rows" \
    $XD --set oracle.instance=400
expect_fail 1 1 "error: oracle.baseline = 'median' must be a row index" \
    $XD --set oracle.baseline=median
expect_fail 1 1 "error: oracle.baseline = 400 is out of range" $XD --set oracle.baseline=400
expect_fail 1 1 "error: oracle.background = 401 exceeds the 400 rows" \
    $XD --set oracle.background=401
expect_fail 1 2 "error: oracle.data = 'data.csv' has no column 'target' \(oracle.label\)" \
    $XM --set oracle.data=data.csv --set oracle.label=target
expect_fail 1 1 "error: oracle.metric = logloss needs a model whose output is a probability" \
    $XD --set oracle.metric=logloss
expect_fail 1 1 "error: oracle.label is empty: oracle.metric = squared_error" \
    $XM --set oracle.data=data.h5 --set oracle.metric=squared_error
expect_fail 1 1 "error: oracle.class = 1 is out of range: the model has 1 output" \
    $XD --set oracle.class=1
expect_fail 1 2 "error: oracle.data = 'data.h5' has no dataset 'Z'" \
    $XM --set oracle.data=data.h5 --set oracle.dataset=Z
expect_fail 1 1 "error: oracle.engine = native cannot walk .*'model-dart.json' \(a dart booster\)" \
    $B --set features.n=6 --set oracle.kind=xgboost --set oracle.model=model-dart.json \
    --set oracle.data=clf.csv --set oracle.label=y --set oracle.engine=native
printf 'a,b,y\n1,2,3\n4,x,6\n' >bad.csv
printf 'a,b,y\n1,2,3\n4,5\n' >ragged.csv
printf 'a,b,y\n' >header.csv
TR="$B --set features.n=2 --set method.max_order=2 --set oracle.kind=xgboost-train"
TR="$TR --set oracle.label=y --set oracle.test=test.csv"
expect_fail 1 2 "error: oracle.data = 'bad.csv', line 3, column 2: 'x' is not a number" \
    $TR --set oracle.data=bad.csv
expect_fail 1 2 "error: oracle.data = 'ragged.csv', line 3: 2 fields, the header has 3" \
    $TR --set oracle.data=ragged.csv
expect_fail 1 2 "error: oracle.data = 'header.csv' has a header but no data rows" \
    $TR --set oracle.data=header.csv
T6="$B --set features.n=6 --set oracle.kind=xgboost-train --set oracle.data=train.csv"
T6L="$T6 --set oracle.label=y --set oracle.test=test.csv"
expect_fail 2 1 "error: oracle.label is empty: oracle.kind = xgboost-train" \
    $T6 --set oracle.test=test.csv
expect_fail 1 1 "error: oracle.test is empty" $T6 --set oracle.label=y
expect_fail 1 1 "error: features.n = 7 but oracle.data = 'train.csv' has 6 training rows" \
    $T6L --set features.n=7
expect_fail 2 1 "error: oracle.train_\* settings \(objective reg:nonsense\): .*Unknown objective" \
    $T6L --set oracle.train_objective=reg:nonsense
expect_fail 1 1 "error: oracle.instance = 4 is out of range: oracle.test = 'test.csv' has 4 rows" \
    $T6L --set oracle.instance=4
expect_fail 1 2 "error: oracle.test = 'clf.csv' has 6 feature columns but oracle.data = .* has 3" \
    $T6 --set oracle.label=y --set oracle.test=clf.csv
TT="$B --set oracle.kind=xgboost-trees --set oracle.data=valid.csv"
expect_fail 2 1 "error: features.n = 9 but .*'model-reg.json' has 40 boosting rounds, 10 features" \
    $TT --set features.n=9 --set oracle.model=model-reg.json --set oracle.tree_group=4
expect_fail 1 1 "error: oracle.kind = xgboost-trees needs a gbtree model; .*'model-dart.json'" \
    $TT --set features.n=8 --set oracle.model=model-dart.json
expect_fail 1 1 "error: oracle.model is empty" $TT --set features.n=8
finish
