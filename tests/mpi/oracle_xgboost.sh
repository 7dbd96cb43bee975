#!/bin/sh
# oracle_xgboost.sh -- the XGBoost oracles against brute force.
#
# Models and data come from tools/make-xgb-example.py (and a few more made
# here).  For each case spex runs on a small n; bf.py recomputes the value
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
xgb.train(dict(p, objective="binary:logistic", booster="dart", rate_drop=0.3), dm, 8).save_model("model-dart.json")
PYEOF

cat > bf.py <<'PYEOF'
"""bf.py RESULT KIND [key=value ...] -- brute-force check of an xgboost
oracle: its value on all 2^n masks computed here with xgboost-python, the
Walsh-Hadamard transform of those values, and every coefficient compared
with RESULT's /fourier.  Keys as in the study (model, data, label, ...)."""
import json, sys
import h5py, numpy as np, xgboost as xgb

res, kind = sys.argv[1], sys.argv[2]
o = dict(a.split("=", 1) for a in sys.argv[3:])
label, metric, cls = o.get("label", ""), o.get("metric", "prediction"), int(o.get("class", 0))
values = o.get("output", "margin") == "probability" or metric == "logloss"
ptype = "value" if values else "margin"

def table(path):
    if open(path, "rb").read(8) == b"\x89HDF\r\n\x1a\n":
        with h5py.File(path, "r") as f:
            return f[o.get("dataset", "X")][...].astype(np.float64), (f[label][...] if label else None)
    header = [h.strip() for h in open(path).readline().split(",")]
    d = np.genfromtxt(path, delimiter=",", skip_header=1, dtype=np.float64, ndmin=2)
    if not label:
        return d, None
    j = header.index(label)
    return np.delete(d, j, axis=1), d[:, j]

def value(pred, y):
    if metric == "prediction":
        return pred[:, cls]
    if metric == "squared_error":
        return (y - pred[:, cls]) ** 2
    p = np.clip(pred, 1e-15, 1 - 1e-15)
    if pred.shape[1] == 1:
        return -(y * np.log(p[:, 0]) + (1 - y) * np.log(1 - p[:, 0]))
    return -np.log(p[np.arange(len(y)), y.astype(int)])

def predict(bst, rows):
    p = bst.inplace_predict(rows.astype(np.float32), predict_type=ptype, strict_shape=True)
    return np.asarray(p, dtype=np.float64).reshape(len(rows), -1)

with h5py.File(res, "r") as f:
    got = {tuple(int(x) for x in row[:k]): c for k, row, c in
           zip(f["fourier/order"][...], f["fourier/features"][...], f["fourier/coef"][...])}
n = int(o["n"])
M = ((np.arange(2 ** n)[:, None] >> np.arange(n)) & 1).astype(bool)
if kind == "xgboost":
    bst = xgb.Booster(model_file=o["model"])
    X, y = table(o["data"])
    i = int(o.get("instance", 0))
    K = int(o.get("background", 0)) or len(X)
    b = o.get("baseline", "mean")
    B = (X[:K] if b == "interventional" else
         np.nanmean(X[:K], axis=0)[None, :] if b == "mean" else X[int(b)][None, :])
    rows = np.where(M[:, None, :], X[i][None, None, :], B[None, :, :]).reshape(-1, n)
    yy = np.full(len(rows), y[i] if y is not None else 0.0)
    f = value(predict(bst, rows), yy).reshape(2 ** n, len(B)).mean(axis=1)
elif kind == "xgboost-train":
    X, y = table(o["data"])
    T, ty = table(o["test"])
    t = T[int(o.get("instance", 0))][None, :]
    ty = np.array([ty[int(o.get("instance", 0))]])
    params = {"objective": o.get("train_objective", "reg:squarederror"),
              "max_depth": int(o.get("train_depth", 3)), "eta": float(o.get("train_eta", 0.3)),
              "seed": int(o.get("seed", 1)), "nthread": 1, "verbosity": 0, "tree_method": "exact",
              "num_feature": X.shape[1]}
    f = np.empty(2 ** n)
    for k in range(2 ** n):
        keep = M[k]
        if keep.any():
            d = xgb.DMatrix(X[keep].astype(np.float32), label=y[keep], nthread=1)
            bst = xgb.Booster(params, [d])
            for r in range(int(o.get("train_rounds", 10))):
                bst.update(d, r)
        else:
            bst = xgb.Booster(params, [xgb.DMatrix(t.astype(np.float32), label=ty)])
        f[k] = value(predict(bst, t), ty)[0]
elif kind == "xgboost-trees":
    # XGBoost's own margin with only the trees of feature j (the others'
    # leaves set to 0), minus its margin with no trees: feature j's part.
    X, y = table(o["data"])
    model = json.load(open(o["model"]))
    gb = model["learner"]["gradient_booster"]["model"]
    groups = max(1, int(model["learner"]["learner_model_param"]["num_class"]))
    per_round = groups * int(gb["gbtree_model_param"]["num_parallel_tree"])
    g = int(o.get("tree_group", 1))
    saved = [list(t["split_conditions"]) for t in gb["trees"]]
    def margin_with(j):
        for k, t in enumerate(gb["trees"]):
            keep = (k // per_round) // g == j
            t["split_conditions"] = [v if keep or l != -1 else 0.0
                                     for v, l in zip(saved[k], t["left_children"])]
        bst = xgb.Booster()
        bst.load_model(bytearray(json.dumps(model), "utf-8"))
        return np.asarray(bst.inplace_predict(X.astype(np.float32), predict_type="margin",
                                              strict_shape=True), dtype=np.float64).reshape(len(X), -1)
    base = margin_with(-1)
    part = [margin_with(j) - base for j in range(n)]
    obj = model["learner"]["objective"]["name"]
    f = np.empty(2 ** n)
    for k in range(2 ** n):
        m = base + sum(part[j] for j in range(n) if M[k, j])
        if values:
            if obj in ("binary:logistic", "reg:logistic"):
                m = 1.0 / (1.0 + np.exp(-m))
            elif obj == "multi:softprob":
                m = np.exp(m - m.max(axis=1, keepdims=True))
                m /= m.sum(axis=1, keepdims=True)
            else:
                sys.exit("bf.py: no transform for " + obj)
        f[k] = value(m, y if y is not None else np.zeros(len(X))).mean()
else:
    sys.exit("unknown kind " + kind)

F = f.copy()
h = 1
while h < len(F):
    F = F.reshape(-1, 2, h)
    F = np.stack([F[:, 0] + F[:, 1], F[:, 0] - F[:, 1]], axis=1).reshape(-1)
    h *= 2
F /= 2 ** n
scale = max(1.0, np.abs(F).max())
floor = float(o.get("floor", 1e-6)) * scale
atol = float(o.get("atol", 1e-5)) * scale
truth = {tuple(np.nonzero((k >> np.arange(n)) & 1)[0].tolist()): F[k] for k in range(2 ** n) if abs(F[k]) > floor}
missing = [k for k in truth if k not in got]
extra = [k for k in got if k not in truth and abs(got[k]) > floor]
err = max(abs(got.get(k, 0.0) - truth.get(k, 0.0)) for k in set(truth) | set(got))
print("%d true terms (order <= %d), %d found; %d missing, %d extra; max |error| %.2e" %
      (len(truth), max(map(len, truth)), len(got), len(missing), len(extra), err))
ok = not missing and not extra and err <= atol
if not ok:
    for k in sorted(missing, key=lambda k: -abs(truth[k]))[:5]:
        print("  missing", k, truth[k])
    for k in extra[:5]:
        print("  extra", k, got[k])
sys.exit(0 if ok else 1)
PYEOF

# xcase LABEL K "SPEX SETTINGS" "BF ARGS": spex on K ranks, then bf.py.
xcase() {
    label=$1 k=$2 sargs=$3 bargs=$4
    rm -f r.h5
    # shellcheck disable=SC2086 # settings are words without blanks
    if ! spexrun "$k" run -q --set method.name=spex --set output.test_masks=1000 $sargs -o r.h5; then
        fail "$label: spex exited $?"; sed 's/^/  | /' out.txt | tail -20; return 1
    fi
    # shellcheck disable=SC2086
    if $PY bf.py r.h5 $bargs >bf.txt 2>&1; then
        pass "$label: $(tail -1 bf.txt)"
    else
        fail "$label"; sed 's/^/  | /' bf.txt | tail -20; return 1
    fi
}
S=--set
# Dense spectra (probabilities, losses, retraining) need every coefficient:
# b = n, with 16 groups so that some group's random M is invertible.
FULL="$S method.groups=16 $S method.delays=identity $S method.noise_sigma=0"

# ---- xgboost: feature attribution -------------------------------------------
REG="$S features.n=16 $S oracle.kind=xgboost $S oracle.model=model-reg.json $S oracle.data=data.csv $S oracle.label=y"
xcase "xgboost, row baseline, BCH delays, np=2" 2 \
    "$REG $S oracle.instance=0 $S oracle.baseline=1 $S method.max_order=3 $S method.b=6" \
    "xgboost n=16 model=model-reg.json data=data.csv label=y instance=0 baseline=1" &&
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
xcase "xgboost, engine = xgboost (expanded rows)" 1 \
    "$REG $S oracle.instance=0 $S oracle.baseline=1 $S method.max_order=3 $S method.b=6 $S oracle.engine=xgboost" \
    "xgboost n=16 model=model-reg.json data=data.csv label=y instance=0 baseline=1" &&
    $PY - <<'PYEOF' && pass "native and xgboost engines give the same spectrum" || fail "engines differ"
import h5py
def terms(path):
    f = h5py.File(path, "r")
    return {tuple(int(x) for x in row[:o]): c for o, row, c in
            zip(f["fourier/order"][...], f["fourier/features"][...], f["fourier/coef"][...])}
a, b = terms("native.h5"), terms("r.h5")
assert all(abs(a.get(k, 0.0) - b.get(k, 0.0)) < 1e-6 for k in set(a) | set(b))
PYEOF
xcase "xgboost, HDF5 data, mean baseline of 100 rows" 2 \
    "$S features.n=16 $S oracle.kind=xgboost $S oracle.model=model-reg.json $S oracle.data=data.h5 $S oracle.label=y $S oracle.instance=5 $S oracle.baseline=mean $S oracle.background=100 $S method.max_order=3 $S method.b=6" \
    "xgboost n=16 model=model-reg.json data=data.h5 label=y instance=5 baseline=mean background=100"
CLF="$S features.n=6 $S oracle.kind=xgboost $S oracle.model=model-clf.json $S oracle.data=clf.csv $S oracle.label=y $S method.max_order=6 $S method.b=6 $FULL"
xcase "xgboost, probability, interventional (8 rows)" 2 \
    "$CLF $S oracle.instance=3 $S oracle.baseline=interventional $S oracle.background=8 $S oracle.output=probability" \
    "xgboost n=6 model=model-clf.json data=clf.csv label=y instance=3 baseline=interventional background=8 output=probability"
xcase "xgboost, logloss against the label, mean baseline" 1 \
    "$CLF $S oracle.instance=4 $S oracle.baseline=mean $S oracle.metric=logloss" \
    "xgboost n=6 model=model-clf.json data=clf.csv label=y instance=4 baseline=mean metric=logloss"
xcase "xgboost, 3 classes, probability of class 2 (softmax)" 2 \
    "$CLF $S oracle.model=model-multi.json $S oracle.data=multi.csv $S oracle.instance=7 $S oracle.baseline=2 $S oracle.output=probability $S oracle.class=2" \
    "xgboost n=6 model=model-multi.json data=multi.csv label=y instance=7 baseline=2 output=probability class=2"
xcase "xgboost, dart booster (engine auto falls back to XGBoost)" 1 \
    "$CLF $S oracle.model=model-dart.json $S oracle.instance=1 $S oracle.baseline=0 $S oracle.output=probability" \
    "xgboost n=6 model=model-dart.json data=clf.csv label=y instance=1 baseline=0 output=probability"

# ---- xgboost-train: data attribution ------------------------------------------
TRAIN="$S features.n=6 $S oracle.kind=xgboost-train $S oracle.data=train.csv $S oracle.test=test.csv $S oracle.label=y $S oracle.train_rounds=3 $S method.max_order=6 $S method.b=6 $FULL"
xcase "xgboost-train, prediction on a test row, np=2" 2 "$TRAIN $S oracle.instance=2" \
    "xgboost-train n=6 data=train.csv test=test.csv label=y instance=2 train_rounds=3"
xcase "xgboost-train, squared error, depth 2, eta 0.5" 1 \
    "$TRAIN $S oracle.instance=1 $S oracle.metric=squared_error $S oracle.train_depth=2 $S oracle.train_eta=0.5" \
    "xgboost-train n=6 data=train.csv test=test.csv label=y instance=1 train_rounds=3 metric=squared_error train_depth=2 train_eta=0.5"

# ---- xgboost-trees: component attribution ---------------------------------------
xcase "xgboost-trees, squared error of 10 groups of 4 rounds (order 2), np=2" 2 \
    "$S features.n=10 $S oracle.kind=xgboost-trees $S oracle.model=model-reg.json $S oracle.data=valid.csv $S oracle.label=y $S oracle.tree_group=4 $S oracle.metric=squared_error $S method.max_order=2 $S method.b=6" \
    "xgboost-trees n=10 model=model-reg.json data=valid.csv label=y tree_group=4 metric=squared_error"
xcase "xgboost-trees, logloss of a classifier" 1 \
    "$S features.n=5 $S oracle.kind=xgboost-trees $S oracle.model=model-clf.json $S oracle.data=clf.csv $S oracle.label=y $S oracle.tree_group=4 $S oracle.metric=logloss $S method.max_order=5 $S method.b=5 $FULL" \
    "xgboost-trees n=5 model=model-clf.json data=clf.csv label=y tree_group=4 metric=logloss"
xcase "xgboost-trees, 3 classes, mean probability of class 1" 2 \
    "$S features.n=4 $S oracle.kind=xgboost-trees $S oracle.model=model-multi.json $S oracle.data=multi.csv $S oracle.label=y $S oracle.output=probability $S oracle.class=1 $S method.max_order=4 $S method.b=4 $FULL" \
    "xgboost-trees n=4 model=model-multi.json data=multi.csv label=y output=probability class=1"

# ---- the example studies ------------------------------------------------------------
for ex in xgboost-example xgboost-classifier-example xgboost-train-example xgboost-trees-example; do
    rm -f ex.h5
    if spexrun 2 run "$srcdir/inputs/$ex.ini" --set output.test_masks=1000 -o ex.h5 -q &&
        $PY -c "import h5py, sys; sys.exit(not h5py.File('ex.h5', 'r').attrs['faithfulness_r2'] > 0.9999)"; then
        pass "inputs/$ex.ini runs, R^2 > 0.9999"
    else
        fail "inputs/$ex.ini"; sed 's/^/  | /' out.txt | tail -20
    fi
done

# ---- errors -------------------------------------------------------------------------
B="run --set method.name=spex"
X16="$B --set features.n=16 --set oracle.kind=xgboost"
XM="$X16 --set oracle.model=model-reg.json"
expect_fail 2 2 "error: oracle.model = 'nope.json': cannot read: No such file" \
    $X16 --set oracle.model=nope.json --set oracle.data=data.csv
expect_fail 1 2 "error: oracle.model = 'data.csv' is not an XGBoost model" \
    $X16 --set oracle.model=data.csv --set oracle.data=data.csv
expect_fail 2 1 "error: features.n = 15 but oracle.model = 'model-reg.json' has 16 features" \
    $B --set features.n=15 --set oracle.kind=xgboost --set oracle.model=model-reg.json --set oracle.data=data.csv
expect_fail 1 2 "error: oracle.data = 'data.csv' has 17 feature columns .*oracle.label" \
    $XM --set oracle.data=data.csv
expect_fail 1 2 "error: oracle.data = 'clf.csv' has 6 feature columns but oracle.model = 'model-reg.json' has 16" \
    $XM --set oracle.data=clf.csv --set oracle.label=y
expect_fail 1 1 "error: oracle.data is empty" $XM
expect_fail 1 2 "error: oracle.data = 'nodata.csv': cannot read" $XM --set oracle.data=nodata.csv
expect_fail 2 1 "error: oracle.instance = 400 is out of range: oracle.data = 'data.csv' has 400 rows" \
    $XM --set oracle.data=data.csv --set oracle.label=y --set oracle.instance=400
expect_fail 1 1 "error: oracle.baseline = 'median' must be a row index" \
    $XM --set oracle.data=data.csv --set oracle.label=y --set oracle.baseline=median
expect_fail 1 1 "error: oracle.baseline = 400 is out of range" \
    $XM --set oracle.data=data.csv --set oracle.label=y --set oracle.baseline=400
expect_fail 1 1 "error: oracle.background = 401 exceeds the 400 rows" \
    $XM --set oracle.data=data.csv --set oracle.label=y --set oracle.background=401
expect_fail 1 2 "error: oracle.data = 'data.csv' has no column 'target' \(oracle.label\)" \
    $XM --set oracle.data=data.csv --set oracle.label=target
expect_fail 1 1 "error: oracle.metric = logloss needs a model whose output is a probability" \
    $XM --set oracle.data=data.csv --set oracle.label=y --set oracle.metric=logloss
expect_fail 1 1 "error: oracle.label is empty: oracle.metric = squared_error" \
    $XM --set oracle.data=data.h5 --set oracle.metric=squared_error
expect_fail 1 1 "error: oracle.class = 1 is out of range: the model has 1 output" \
    $XM --set oracle.data=data.csv --set oracle.label=y --set oracle.class=1
expect_fail 1 2 "error: oracle.data = 'data.h5' has no dataset 'Z'" \
    $XM --set oracle.data=data.h5 --set oracle.dataset=Z
expect_fail 1 1 "error: oracle.engine = native cannot walk oracle.model = 'model-dart.json' \(a dart booster\)" \
    $B --set features.n=6 --set oracle.kind=xgboost --set oracle.model=model-dart.json \
    --set oracle.data=clf.csv --set oracle.label=y --set oracle.engine=native
printf 'a,b,y\n1,2,3\n4,x,6\n' >bad.csv
printf 'a,b,y\n1,2,3\n4,5\n' >ragged.csv
printf 'a,b,y\n' >header.csv
TR="$B --set features.n=2 --set method.max_order=2 --set oracle.kind=xgboost-train --set oracle.label=y --set oracle.test=test.csv"
expect_fail 1 2 "error: oracle.data = 'bad.csv', line 3, column 2: 'x' is not a number" $TR --set oracle.data=bad.csv
expect_fail 1 2 "error: oracle.data = 'ragged.csv', line 3: 2 fields, the header has 3" $TR --set oracle.data=ragged.csv
expect_fail 1 2 "error: oracle.data = 'header.csv' has a header but no data rows" $TR --set oracle.data=header.csv
T6="$B --set features.n=6 --set oracle.kind=xgboost-train --set oracle.data=train.csv"
expect_fail 2 1 "error: oracle.label is empty: oracle.kind = xgboost-train" $T6 --set oracle.test=test.csv
expect_fail 1 1 "error: oracle.test is empty" $T6 --set oracle.label=y
expect_fail 1 1 "error: features.n = 7 but oracle.data = 'train.csv' has 6 training rows" \
    $B --set features.n=7 --set oracle.kind=xgboost-train --set oracle.data=train.csv --set oracle.label=y --set oracle.test=test.csv
expect_fail 2 1 "error: oracle.train_\* settings \(objective reg:nonsense\): .*Unknown objective function" \
    $T6 --set oracle.label=y --set oracle.test=test.csv --set oracle.train_objective=reg:nonsense
expect_fail 1 1 "error: oracle.instance = 4 is out of range: oracle.test = 'test.csv' has 4 rows" \
    $T6 --set oracle.label=y --set oracle.test=test.csv --set oracle.instance=4
expect_fail 1 2 "error: oracle.test = 'clf.csv' has 6 feature columns but oracle.data = 'train.csv' has 3" \
    $T6 --set oracle.label=y --set oracle.test=clf.csv
expect_fail 2 1 "error: features.n = 9 but oracle.model = 'model-reg.json' has 40 boosting rounds, 10 features of oracle.tree_group = 4 rounds" \
    $B --set features.n=9 --set oracle.kind=xgboost-trees --set oracle.model=model-reg.json --set oracle.data=valid.csv --set oracle.tree_group=4
expect_fail 1 1 "error: oracle.kind = xgboost-trees needs a gbtree model; oracle.model = 'model-dart.json' is dart" \
    $B --set features.n=8 --set oracle.kind=xgboost-trees --set oracle.model=model-dart.json --set oracle.data=clf.csv
expect_fail 1 1 "error: oracle.model is empty" \
    $B --set features.n=8 --set oracle.kind=xgboost-trees --set oracle.data=clf.csv
finish
