#!/usr/bin/python3
"""fill-plan-xgboost.py -- fill a spex plan with an XGBoost model's predictions.

The evaluate step of the two-phase flow (doc/two-phase.md) for feature
attribution of an XGBoost model, done by XGBoost's Python package outside
spex (on a GPU node, say): the value of a mask is the model's prediction for
the explained row with the masked features replaced by a baseline, exactly
the value function of spex's `oracle.kind = xgboost` (doc/oracles-xgboost.md,
section 3).  Its settings come from the [oracle] section of the study the
plan was made from (the plan holds it as /study/config), so the study file
names everything once (inputs/diabetes-two-phase.ini):

  oracle.model        the model file
  oracle.data         CSV (header line, then rows) or HDF5 (oracle.dataset)
  oracle.label        the label column (not a feature), or empty
  oracle.instance     the explained row
  oracle.baseline     a row index, mean (of the background) or interventional
  oracle.background   the first this many rows (0: all)
  oracle.output       margin or probability
  oracle.class        the output of a multi-class model
(oracle.metric must be prediction.)  Relative paths are taken from the
directory given by --base (default: the current directory, where spex plan
ran, since the plan's study holds paths as spex joined them).

Rows are read, evaluated and written in blocks of --block masks, each
block flushed, so a stopped fill keeps what it wrote; --resume skips
blocks already filled.  Uses Debian's python3-xgboost, -h5py, -numpy.

  fill-plan-xgboost.py PLAN.h5 [--base DIR] [--block N] [--resume] [-q]
"""
import argparse
import configparser
import os
import sys

import h5py
import numpy as np
import xgboost as xgb


def die(msg):
    sys.exit("fill-plan-xgboost: " + msg)


def table(path, label, dataset):
    """Features (float64, NaN = missing) and labels of a CSV or HDF5 file."""
    with open(path, "rb") as f:
        hdf5 = f.read(8) == b"\x89HDF\r\n\x1a\n"
    if hdf5:
        with h5py.File(path, "r") as f:
            return f[dataset][...].astype(np.float64)
    with open(path) as f:
        header = [h.strip() for h in f.readline().split(",")]
        rows = [[float(v) if v.strip() not in ("", "NA", "NaN") else np.nan
                 for v in line.split(",")] for line in f if line.strip()]
    X = np.array(rows, dtype=np.float64)
    if label:
        if label not in header:
            die("%s has no column %r (oracle.label)" % (path, label))
        X = np.delete(X, header.index(label), axis=1)
    return X


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("plan")
    ap.add_argument("--base", default=".", help="directory of relative paths in the study")
    ap.add_argument("--block", type=int, default=8192, help="masks per block")
    ap.add_argument("--resume", action="store_true", help="skip blocks already filled")
    ap.add_argument("-q", action="store_true", help="quiet")
    a = ap.parse_args()

    with h5py.File(a.plan, "r") as f:
        if f.attrs.get("format") != b"spex-plan":
            die("%s is not a spex plan" % a.plan)
        study = f["study/config"][()].decode()
    cfg = configparser.ConfigParser(inline_comment_prefixes=(";", "#"))
    cfg.read_string(study)
    o = cfg["oracle"]
    if o.get("metric", "prediction") != "prediction":
        die("oracle.metric = %s: this filler computes predictions only" % o.get("metric"))
    path = lambda key: os.path.join(a.base, o[key])
    if not o.get("model") or not o.get("data"):
        die("the plan's study has no oracle.model or oracle.data")
    bst = xgb.Booster(model_file=path("model"))
    bst.set_param({"nthread": 1})
    X = table(path("data"), o.get("label", ""), o.get("dataset", "X"))
    i = int(o.get("instance", "0"))
    K = int(o.get("background", "0")) or len(X)
    b = o.get("baseline", "mean")
    if b == "interventional":
        B = X[:K]
    elif b == "mean":
        B = np.nanmean(X[:K], axis=0)[None, :]
    else:
        B = X[int(b)][None, :]
    x = X[i]
    ptype = "value" if o.get("output", "margin") == "probability" else "margin"
    cls = int(o.get("class", "0"))

    def values(keep):
        """The value of each mask (keep: bool[count][n])."""
        rows = np.where(keep[:, None, :], x[None, None, :], B[None, :, :]).reshape(-1, len(x))
        p = bst.inplace_predict(rows.astype(np.float32), predict_type=ptype, strict_shape=True)
        p = np.asarray(p, dtype=np.float64).reshape(len(rows), -1)[:, cls]
        return p.reshape(len(keep), len(B)).mean(axis=1)

    with h5py.File(a.plan, "r+") as f:
        n = int(f.attrs["n_features"])
        if n != len(x):
            die("the plan has %d features, oracle.data %d columns" % (n, len(x)))
        for part in ("queries", "test"):
            masks, vals = f[part + "/masks"], f[part + "/values"]
            done = 0
            for lo in range(0, masks.shape[0], a.block):
                hi = min(lo + a.block, masks.shape[0])
                if a.resume and np.isfinite(vals[lo:hi]).all():
                    continue
                keep = np.unpackbits(masks[lo:hi], axis=1, bitorder="little")[:, :n] == 1
                vals[lo:hi] = values(keep)
                f.flush()
                done += hi - lo
            if not a.q:
                print("fill-plan-xgboost: %s: wrote %d of %d /%s values (%d features)"
                      % (a.plan, done, masks.shape[0], part, n))


if __name__ == "__main__":
    main()
