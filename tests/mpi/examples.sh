#!/bin/sh
# examples.sh -- the real-data example studies of inputs/ (inputs/README.md),
# each run as shipped on 2 ranks from the top of the source tree, and each
# answer checked against an independent computation:
#   * the files of inputs/diabetes/ are what tools/make-diabetes-example.py
#     makes from python3-sklearn's copy of the data (rebuilt here);
#   * xgboost, xgboost-train, xgboost-trees: every Fourier coefficient against
#     the transform of the value function on all 2^n masks computed with
#     XGBoost's Python package (tests/bruteforce.py);
#   * plugin and exec (the quadratic model in C and in Python): against the
#     same model evaluated by numpy on all 2^n masks, and against each other;
#   * two-phase: plan, fill with tools/fill-plan-xgboost.py, decode, and the
#     result against the direct xgboost run and the brute force;
#   * the feature names of the study in the result and in `spex show`.
. "$(dirname "$0")/common.sh"

if ! $PY -c "import xgboost, h5py, numpy" 2>/dev/null; then
    echo "SKIP: the ground truth needs python3-xgboost, python3-h5py and python3-numpy"
    exit 77
fi
: "${builddir:=$srcdir}"
IN=$srcdir/inputs
BF="$PY $srcdir/tests/bruteforce.py"
PLUGIN=$builddir/tools/.libs/plugin-quadratic.so
[ -f "$PLUGIN" ] || { fail "$PLUGIN is not built (make check builds it)"; finish; exit 1; }

# ---- the committed files are the script's output ---------------------------------
if $PY "$srcdir/tools/make-diabetes-example.py" --out gen >gen.txt 2>&1; then
    same=1
    for f in diabetes.csv valid.csv train8.csv names.txt names-train8.txt names-rounds.txt \
        model.json; do
        cmp -s "gen/$f" "$IN/diabetes/$f" || { same=0; echo "  differs: $f"; }
    done
    # The quadratic fit goes through LAPACK: equal to rounding.
    $PY - "$IN/diabetes/quadratic.txt" gen/quadratic.txt <<'PYEOF' || same=0
import sys
def nums(p):
    return [(w[0], [float(t) for t in w[1:]]) for w in (l.split() for l in open(p))
            if w and w[0] not in ("#", "names") and not w[0].startswith("#")]
a, b = nums(sys.argv[1]), nums(sys.argv[2])
assert [k for k, _ in a] == [k for k, _ in b]
for (k, u), (_, v) in zip(a, b):
    assert len(u) == len(v) and all(abs(x - y) <= 1e-9 * max(1, abs(x)) for x, y in zip(u, v)), k
PYEOF
    [ $same = 1 ] && pass "inputs/diabetes/ is what tools/make-diabetes-example.py makes" ||
        fail "inputs/diabetes/ differs from tools/make-diabetes-example.py's output"
else
    fail "tools/make-diabetes-example.py"; sed 's/^/  | /' gen.txt | tail -5
fi

# insrc ARGS: spex on 2 ranks in $srcdir (the studies' relative commands and
# plugin arguments), output to out.txt here; files go where -o says.
insrc() {
    (cd "$srcdir" &&
        timeout -k 5 "${SPEX_TEST_TIMEOUT:-300}" "$MPIRUN" --oversubscribe -np 2 "$SPEX" "$@") \
        >out.txt 2>&1
}
# run STUDY OUT [ARGS]: mpirun -np 2 src/spex run inputs/STUDY.ini -o OUT.
run() {
    study=$1 out=$2; shift 2
    rm -f "$out"
    insrc run "inputs/$study.ini" -o "$TMP/$out" "$@"
    rc=$?
    if [ $rc -eq 0 ] && grep -q "R^2 = 1.000000" out.txt; then
        pass "inputs/$study.ini runs on 2 ranks, faithfulness R^2 = 1.000000"
    else
        fail "inputs/$study.ini (exit $rc)"; sed 's/^/  | /' out.txt | tail -15; return 1
    fi
}
# truth LABEL RESULT KEYS...: tests/bruteforce.py
truth() {
    label=$1 res=$2; shift 2
    if $BF "$res" "$@" >bf.txt 2>&1; then
        pass "$label: $(tail -1 bf.txt)"
    else
        fail "$label"; sed 's/^/  | /' bf.txt | tail -10
    fi
}

# ---- xgboost: feature attribution of one patient's prediction ----------------------
run diabetes-xgboost xgb.h5 &&
    truth "diabetes-xgboost against XGBoost's predictions on all 1024 masked rows" xgb.h5 \
        "study=$IN/diabetes-xgboost.ini"
# the names of the study, in the result and in spex show
"$SPEX" show xgb.h5 --top 20 >show.txt 2>&1
if $PY -c "import h5py, sys
names = [s.decode() for s in h5py.File('xgb.h5', 'r')['features/name'][...]]
sys.exit(names != open(sys.argv[1]).read().split())" "$IN/diabetes/names.txt" &&
    grep -qE "^ +[0-9]+ +2 +bp x ltg " show.txt && grep -qE "^ +[0-9]+ +1 +age +-" show.txt; then
    pass "feature names (age, sex, bp, ltg, ...) in /features/name and spex show"
else
    fail "feature names"; sed 's/^/  | /' show.txt | head -20
fi

# ---- xgboost-train: data attribution (one training per mask) ------------------------
run diabetes-xgboost-train train.h5 &&
    truth "diabetes-xgboost-train against 256 trainings by XGBoost's Python package" \
        train.h5 "study=$IN/diabetes-xgboost-train.ini"

# ---- xgboost-trees: component attribution --------------------------------------------
run diabetes-xgboost-trees trees.h5 &&
    truth "diabetes-xgboost-trees against XGBoost's predictions with trees removed" \
        trees.h5 "study=$IN/diabetes-xgboost-trees.ini"

# ---- plugin and exec: the quadratic model in C and in Python ---------------------------
QUAD="kind=quadratic n=10 model=$IN/diabetes/quadratic.txt"
run diabetes-plugin plugin.h5 --set oracle.plugin="$PLUGIN" &&
    truth "diabetes-plugin against numpy on all 1024 masks" plugin.h5 $QUAD
run diabetes-exec exec.h5 &&
    truth "diabetes-exec against numpy on all 1024 masks" exec.h5 $QUAD
if $PY -c "import h5py, numpy as np, sys
a, b = h5py.File('plugin.h5', 'r'), h5py.File('exec.h5', 'r')
for d in ('fourier/features', 'fourier/coef', 'mobius/coef'):
    assert np.array_equal(a[d][...], b[d][...]), d" 2>bf.txt; then
    pass "plugin (C) and exec worker (Python) give identical coefficients"
else
    fail "plugin and exec differ"; cat bf.txt
fi

# the plugin's own errors: its message, spex's exit code
PQ="run $IN/diabetes-plugin.ini --set oracle.plugin=$PLUGIN"
expect_fail 2 2 "error: plugin '.*plugin-quadratic.so' \(quadratic\) failed to start on rank 0: model=nope.txt: cannot open: No such file" \
    $PQ --set oracle.plugin_args=model=nope.txt -o result.h5
expect_fail 2 1 "error: plugin .* failed to start on rank 0: model=.*quadratic.txt, line [0-9]+: the model has 10 features, features.n = 11$" \
    $PQ --set oracle.plugin_args="model=$IN/diabetes/quadratic.txt" --set features.n=11 \
    --set features.names= -o result.h5

# ---- two-phase: plan, fill with XGBoost's Python package, decode -------------------------
TP=$IN/diabetes-two-phase.ini
if insrc plan inputs/diabetes-two-phase.ini -q -o "$TMP/plan.h5" &&
    (cd "$srcdir" && $PY tools/fill-plan-xgboost.py -q "$TMP/plan.h5") >fill.txt 2>&1 &&
    insrc decode inputs/diabetes-two-phase.ini --values "$TMP/plan.h5" -o "$TMP/two.h5"; then
    pass "inputs/diabetes-two-phase.ini: plan, fill-plan-xgboost.py, decode on 2 ranks"
    truth "diabetes-two-phase against XGBoost's predictions on all 1024 masked rows" two.h5 \
        "study=$TP" kind=xgboost
    if $PY -c "import h5py, numpy as np
a, b = h5py.File('two.h5', 'r'), h5py.File('xgb.h5', 'r')
assert np.array_equal(a['fourier/features'][...], b['fourier/features'][...])
assert np.allclose(a['fourier/coef'][...], b['fourier/coef'][...], rtol=1e-6, atol=1e-6)" 2>bf.txt
    then
        pass "two-phase result equals diabetes-xgboost's (spex run)"
    else
        fail "two-phase differs from spex run"; cat bf.txt
    fi
else
    fail "inputs/diabetes-two-phase.ini"; cat fill.txt out.txt 2>/dev/null | sed 's/^/  | /' | tail
fi
finish
