#!/bin/sh
# value_function.sh -- the genomics value functions against XGBoost itself.
# A small genotype file (8 SNPs) goes through the study's own pipeline
# (tools/genomics-bench train: model.json and oracle-data.h5 with the
# reference rows), spex explains the model with the xgboost oracle and
# recovers its whole spectrum (identity delays, all orders), and the
# recovered expansion must equal XGBoost's predictions on explicitly masked
# rows for all 256 masks:
#   (a) one subject: masked SNP -> the reference (most common) genotype;
#   (b) background mean: value(M) = mean over background rows b of
#       predict(reference on M, b elsewhere)   (doc/genomics.md, study (b)).
. "$(dirname "$0")/../mpi/common.sh"
. "$srcdir/tests/genomics/common.sh"
need_python xgboost python3-xgboost
need_python h5py python3-h5py

small_genotypes g.h5 300 8 1
if "$PY" "$srcdir/tools/genomics-bench" train --genotypes g.h5 --out m --rounds 20 --depth 2 \
    --folds 2 --threads 1 >train.txt 2>&1 && [ -s m/model.json ] && [ -s m/oracle-data.h5 ]; then
    pass "genomics-bench train writes model.json and oracle-data.h5 ($(grep -o 'CV AUC [0-9.]*' train.txt))"
else
    fail "genomics-bench train"; sed 's/^/  | /' train.txt | tail -5
fi

# check RESULT INSTANCE BASELINE BACKGROUND OUTPUT: max |expansion - XGBoost| over all masks.
check() {
    "$PY" - "$@" <<'PYEOF'
import itertools, sys
import h5py
import numpy as np
import xgboost as xgb
res, inst, base, nbg, output = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
with h5py.File("m/oracle-data.h5", "r") as f:
    X = f["X"][:].astype(np.float32)
    ref = int(f.attrs["reference_mode_row"])
bst = xgb.Booster(model_file="m/model.json")
n = X.shape[1]
with h5py.File(res, "r") as f:
    order, feats, coef = f["fourier/order"][:], f["fourier/features"][:], f["fourier/coef"][:]
masks = np.array(list(itertools.product([0, 1], repeat=n)), dtype=bool)
def predict(rows):
    return bst.predict(xgb.DMatrix(rows, feature_names=bst.feature_names), output_margin=(output == "margin")).astype(np.float64)
if base == "interventional":
    B = X[:nbg]
    want = np.array([predict(np.where(m, X[inst], B)).mean() for m in masks])
else:
    want = predict(np.where(masks, X[inst], X[int(base)]))
got = np.zeros(len(masks))
for k, row, c in zip(order, feats, coef):
    got += c * (-1.0) ** masks[:, row[:k]].sum(axis=1)
err = np.abs(got - want).max()
print("%.3g %d %.4g" % (err, len(order), np.ptp(want)))
sys.exit(0 if err < 1e-5 * max(1.0, np.abs(want).max()) and np.ptp(want) > 0 else 1)
PYEOF
}

run_case() {
    name=$1 inst=$2 base=$3 nbg=$4 output=$5
    spexrun 2 run --set features.n=8 --set features.names=m/names.txt \
        --set oracle.kind=xgboost --set oracle.model=m/model.json \
        --set oracle.data=m/oracle-data.h5 --set oracle.instance="$inst" \
        --set oracle.baseline="$base" --set oracle.background="$nbg" \
        --set oracle.output="$output" --set method.name=spex --set method.max_order=8 \
        --set method.delays=identity --set method.b=7 --set output.test_masks=200 -q -o "$name.h5"
    rc=$?
    if [ $rc -ne 0 ]; then
        fail "$name: spex exited $rc"; sed 's/^/  | /' out.txt | tail -5; return
    fi
    if r=$(check "$name.h5" "$inst" "$base" "$nbg" "$output"); then
        pass "$name: expansion equals XGBoost on all 256 masked rows (max error, terms, range: $r)"
    else
        fail "$name: expansion differs from XGBoost on masked rows (max error, terms, range: $r)"
    fi
}

# (a) subject 5, masked SNPs at the reference genotype (row 300 = mode).
run_case subject-probability 5 300 0 probability
run_case subject-margin 17 300 0 margin
# (b) the reference row explained against the first 40 rows (background mean).
run_case background-margin 300 interventional 40 margin
finish
