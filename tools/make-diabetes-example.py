#!/usr/bin/python3
"""make-diabetes-example.py -- the real-data example studies' files (inputs/diabetes/).

The data are the diabetes data of Efron, Hastie, Johnstone and Tibshirani
(2004, "Least Angle Regression"): 442 patients, ten baseline variables and
a quantitative measure of disease progression one year later.  They are
read from Debian's package python3-sklearn (BSD-3-Clause), which ships them
unscaled as DATA/diabetes_data_raw.csv.gz and DATA/diabetes_target.csv.gz;
nothing is downloaded.  inputs/README.md says more.

Writes into --out (default inputs/diabetes next to this script):

  diabetes.csv   the 442 patients in the package's order: age, sex, bmi, bp,
                 tc, ldl, hdl, tch, ltg, glu (the package's s1..s6) and the
                 label progression, values as the package writes them.
                 Rows 0..341 are the training set, rows 342..441 the
                 validation set.
  valid.csv      rows 342..441 again (the validation set on its own).
  train8.csv     rows 0..7: the training patients of the data-attribution
                 study (one feature per patient).
  names.txt      the ten feature names, one per line (features.names).
  names-train8.txt, names-rounds.txt
                 names of the features of the data- and component-attribution
                 studies: patient0..patient7, rounds0-5 .. rounds54-59.
  model.json     XGBoost, reg:squarederror, max_depth 3, eta 0.1, 60 rounds,
                 trained on rows 0..341 (seed 0, nthread 1, exact).
  quadratic.txt  a ridge-regularised quadratic model of progression on the
                 standardised features (all 55 products and squares),
                 fitted on rows 0..341, with the explained patient and the
                 baseline (the training means) of the plugin and exec
                 studies: the format is described in the file itself and
                 read by tools/plugin-quadratic.c and tools/worker-quadratic.py.

Everything is deterministic: no random draw at all, XGBoost single-threaded
with a fixed seed, so the same Debian packages give the same bytes
(tests/mpi/examples.sh rebuilds the files and compares them).

  make-diabetes-example.py [--out DIR] [--data DIR]
"""
import argparse
import gzip
import os

import numpy as np
import xgboost as xgb

NAMES = ["age", "sex", "bmi", "bp", "tc", "ldl", "hdl", "tch", "ltg", "glu"]
LABEL = "progression"
TRAIN = 342           # rows 0..341 train, 342..441 validate
EXPLAINED = 342 + 33  # the patient the plugin and exec studies explain (row 375)
RIDGE = 1.0


def read_gz(path):
    """The package's rows as lists of tokens (space-separated)."""
    with gzip.open(path, "rt") as f:
        return [line.split() for line in f if line.strip()]


def write_csv(path, rows):
    with open(path, "w") as f:
        f.write(",".join(NAMES + [LABEL]) + "\n")
        for r in rows:
            f.write(",".join(r) + "\n")


def label_token(t):
    """The package writes the target as 1.510000000000000000e+02: print 151."""
    v = float(t)
    return "%d" % v if v == int(v) else repr(v)


def quadratic_fit(X, y):
    """Ridge least squares on [1, u_i, u_i u_j (i <= j)] with u the
    standardised features; the intercept is not penalised."""
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    U = (X - mean) / scale
    n = X.shape[1]
    pairs = [(i, j) for i in range(n) for j in range(i, n)]
    A = np.column_stack([np.ones(len(X))] + [U[:, i] for i in range(n)] +
                        [U[:, i] * U[:, j] for i, j in pairs])
    P = RIDGE * np.eye(A.shape[1])
    P[0, 0] = 0.0
    w = np.linalg.solve(A.T @ A + P, A.T @ y)
    return mean, scale, w[0], w[1:n + 1], list(zip(pairs, w[n + 1:]))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(here, "..", "inputs", "diabetes"))
    ap.add_argument("--data", default="/usr/lib/python3/dist-packages/sklearn/datasets/data",
                    help="python3-sklearn's data directory")
    a = ap.parse_args()
    raw = os.path.join(a.data, "diabetes_data_raw.csv.gz")
    target = os.path.join(a.data, "diabetes_target.csv.gz")
    for p in (raw, target):
        if not os.path.exists(p):
            raise SystemExit("make-diabetes-example.py: %s is missing: install python3-sklearn "
                             "(tools/setup-debian)" % p)
    feats = read_gz(raw)
    labels = [label_token(r[0]) for r in read_gz(target)]
    if len(feats) != 442 or len(labels) != 442 or any(len(r) != 10 for r in feats):
        raise SystemExit("make-diabetes-example.py: %s is not 442 rows of 10 values" % raw)
    rows = [f + [t] for f, t in zip(feats, labels)]
    os.makedirs(a.out, exist_ok=True)
    out = lambda name: os.path.join(a.out, name)

    write_csv(out("diabetes.csv"), rows)
    write_csv(out("valid.csv"), rows[TRAIN:])
    write_csv(out("train8.csv"), rows[:8])
    with open(out("names.txt"), "w") as f:
        f.write("\n".join(NAMES) + "\n")
    with open(out("names-train8.txt"), "w") as f:
        f.write("".join("patient%d\n" % i for i in range(8)))
    with open(out("names-rounds.txt"), "w") as f:
        f.write("".join("rounds%d-%d\n" % (6 * j, 6 * j + 5) for j in range(10)))

    X = np.array([[float(v) for v in r[:10]] for r in rows])
    y = np.array([float(r[10]) for r in rows])
    params = {"objective": "reg:squarederror", "max_depth": 3, "eta": 0.1, "nthread": 1,
              "seed": 0, "tree_method": "exact", "verbosity": 0}
    dtrain = xgb.DMatrix(X[:TRAIN].astype(np.float32), label=y[:TRAIN], feature_names=NAMES)
    bst = xgb.train(params, dtrain, 60)
    bst.save_model(out("model.json"))

    mean, scale, c0, lin, quad = quadratic_fit(X[:TRAIN], y[:TRAIN])
    base = X[:TRAIN].mean(axis=0)
    with open(out("quadratic.txt"), "w") as f:
        f.write("# quadratic.txt -- made by tools/make-diabetes-example.py; read by\n"
                "# tools/plugin-quadratic.c and tools/worker-quadratic.py.\n"
                "# f(z) = intercept + sum_i linear_i u_i + sum_{i<=j} w_ij u_i u_j with\n"
                "# u_i = (z_i - mean_i) / scale_i: disease progression predicted from the\n"
                "# ten features z (ridge %g, fitted on rows 0..%d of diabetes.csv).\n"
                "# A mask keeps x_i (the explained patient, row %d) where its bit is 1\n"
                "# and takes baseline_i (the training means) where it is 0.\n"
                "# Lines: a keyword and numbers; 'pair i j w' for each i <= j.\n"
                % (RIDGE, TRAIN - 1, EXPLAINED))
        f.write("n 10\n")
        f.write("names " + " ".join(NAMES) + "\n")
        for key, v in (("mean", mean), ("scale", scale), ("linear", lin),
                       ("x", X[EXPLAINED]), ("baseline", base)):
            f.write(key + " " + " ".join(repr(float(t)) for t in v) + "\n")
        f.write("intercept %r\n" % float(c0))
        for (i, j), w in quad:
            f.write("pair %d %d %r\n" % (i, j, float(w)))


if __name__ == "__main__":
    main()
