#!/usr/bin/python3
"""make-xgb-example.py -- small XGBoost models and data for spex's xgboost oracles.

Writes into --out (default: the current directory) the files the example
studies inputs/xgboost-*.ini and the test tests/mpi/oracle_xgboost.sh use.
Everything is deterministic (fixed seeds, nthread = 1, exact tree method).

  data.csv, data.h5    400 rows of 16 binary features f0..f15 and a label y =
                       2 f0 f1 - 1.5 f2 + f3 f4 f5 + 0.5 f6 f7 (no noise).
                       Row 0 has every feature 1, row 1 every feature 0.
                       data.h5 holds the same as datasets X (400 x 16) and y.
  names.txt            the 16 feature names, one per line (features.names).
  model-reg.json       reg:squarederror, depth 3, 40 rounds, fitted to data.csv.
                       Its trees use only the 8 relevant features, so with
                       instance 0 and baseline 1 its value function is
                       f(S) = model(S) and spex finds those interactions.
  valid.csv            200 more rows of the same function (validation set).
  clf.csv              300 rows of 6 continuous features g0..g5 and a binary
                       label (logistic in g0 g1 - g2 + 0.5 g3).
  model-clf.json       binary:logistic, depth 3, 20 rounds, fitted to clf.csv.
  train.csv, test.csv  6 training rows and 4 test rows of 3 features and a
                       label (data attribution: one feature per training row).

  make-xgb-example.py [--out DIR]
"""
import argparse
import os

import numpy as np
import xgboost as xgb


def sparse_function(X):
    return 2.0 * X[:, 0] * X[:, 1] - 1.5 * X[:, 2] + X[:, 3] * X[:, 4] * X[:, 5] + 0.5 * X[:, 6] * X[:, 7]


def write_csv(path, names, X, y, label="y"):
    with open(path, "w") as f:
        f.write(",".join(list(names) + [label]) + "\n")
        for row, t in zip(X, y):
            f.write(",".join(repr(float(v)) for v in row) + "," + repr(float(t)) + "\n")


def train(X, y, params, rounds):
    p = {"nthread": 1, "seed": 0, "tree_method": "exact", "verbosity": 0}
    p.update(params)
    return xgb.train(p, xgb.DMatrix(X.astype(np.float32), label=y), rounds)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=".")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    out = lambda name: os.path.join(a.out, name)
    rng = np.random.default_rng(2024)

    # Feature attribution and component attribution: binary features.
    n = 16
    names = ["f%d" % i for i in range(n)]
    X = rng.integers(0, 2, size=(400, n)).astype(np.float64)
    X[0, :] = 1.0
    X[1, :] = 0.0
    y = sparse_function(X)
    write_csv(out("data.csv"), names, X, y)
    with open(out("names.txt"), "w") as f:
        f.write("\n".join(names) + "\n")
    try:
        import h5py
        with h5py.File(out("data.h5"), "w") as f:
            f["X"] = X
            f["y"] = y
    except ImportError:
        print("h5py missing: data.h5 not written")
    Xv = rng.integers(0, 2, size=(200, n)).astype(np.float64)
    write_csv(out("valid.csv"), names, Xv, sparse_function(Xv))
    reg = train(X, y, {"objective": "reg:squarederror", "max_depth": 3, "eta": 0.5, "gamma": 0.5}, 40)
    reg.save_model(out("model-reg.json"))

    # A classifier on continuous features (probabilities, mean baselines).
    G = rng.normal(size=(300, 6))
    logit = 2.0 * G[:, 0] * G[:, 1] - G[:, 2] + 0.5 * G[:, 3]
    lab = (rng.random(300) < 1.0 / (1.0 + np.exp(-logit))).astype(np.float64)
    write_csv(out("clf.csv"), ["g%d" % i for i in range(6)], np.round(G, 4), lab)
    clf = train(np.round(G, 4), lab, {"objective": "binary:logistic", "max_depth": 3, "eta": 0.3}, 20)
    clf.save_model(out("model-clf.json"))

    # Data attribution: a handful of training rows.
    T = np.round(rng.normal(size=(10, 3)), 3)
    ty = np.round(T[:, 0] - 0.5 * T[:, 1] * T[:, 2] + 0.1 * rng.normal(size=10), 3)
    write_csv(out("train.csv"), ["a", "b", "c"], T[:6], ty[:6])
    write_csv(out("test.csv"), ["a", "b", "c"], T[6:], ty[6:])


if __name__ == "__main__":
    main()
