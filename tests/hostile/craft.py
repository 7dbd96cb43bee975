#!/usr/bin/python3
"""craft.py -- hostile input files for tests/hostile/run.sh.

  craft.py garbage DST SIZE SEED        SIZE deterministic random bytes
  craft.py truncate SRC DST FRACTION    the first FRACTION of SRC's bytes
  craft.py foreign DST                  an HDF5 file that is not spex's
  craft.py result SRC DST KIND          a damaged copy of a result file
  craft.py ckpt SRC DST KIND            a damaged copy of a checkpoint
  craft.py plan SRC DST KIND            a plan filled (fill) or damaged
  craft.py plan-fill SRC DST            the plan with every value filled

Each KIND is one way a file can be wrong (see the tables below).  Values are
deterministic so that a failure reproduces.
"""
import random
import shutil
import sys

import h5py
import numpy as np


def garbage(dst, size, seed):
    data = random.Random(int(seed)).randbytes(int(size))
    with open(dst, "wb") as f:
        f.write(data)


def truncate(src, dst, fraction):
    data = open(src, "rb").read()
    with open(dst, "wb") as f:
        f.write(data[: int(len(data) * float(fraction))])


def foreign(dst):
    with h5py.File(dst, "w") as f:
        f["x"] = np.arange(10.0)
        f.attrs["format"] = "not-spex"


def replace(f, name, data):
    del f[name]
    f[name] = data


# ---- result files -------------------------------------------------------------
def r_order_float(f):
    replace(f, "fourier/order", f["fourier/order"][...].astype("f8"))


def r_features_oob(f):
    a = f["fourier/features"][...]
    a[0, 0] = f.attrs["n_features"] + 5
    a[0, 1:] = -1
    f["fourier/order"][0] = 1
    f["fourier/features"][...] = a


def r_n_terms_huge(f):
    f.attrs.modify("n_terms", np.uint64(1 << 40))


def r_max_order_99(f):
    f.attrs.modify("max_order", np.int32(99))


def r_version_2(f):
    f.attrs.modify("format_version", np.int32(2))


def r_coef_short(f):
    replace(f, "fourier/coef", f["fourier/coef"][:-1])


def r_names_short(f):
    replace(f, "features/name", f["features/name"][:-1])


def r_mobius_feature_oob(f):
    # A feature index far outside n_features: `spex show --index mobius`
    # looks its name up.
    a = f["mobius/features"][...]
    a[0, 0] = 100000
    f["mobius/features"][...] = a


def r_mobius_order_long(f):
    # /mobius/order with many more rows than /mobius/features.
    k = f["mobius/order"].shape[0]
    replace(f, "mobius/order", np.zeros(500 * k + 1000, dtype="i4"))


def r_shapley_short(f):
    replace(f, "values/shapley", f["values/shapley"][:-1])


RESULT = {
    "order-float": r_order_float,
    "features-oob": r_features_oob,
    "n-terms-huge": r_n_terms_huge,
    "max-order-99": r_max_order_99,
    "version-2": r_version_2,
    "coef-short": r_coef_short,
    "names-short": r_names_short,
    "mobius-feature-oob": r_mobius_feature_oob,
    "mobius-order-long": r_mobius_order_long,
    "shapley-short": r_shapley_short,
}


# ---- checkpoints ------------------------------------------------------------------
def c_inf(f):
    v = f["values"][...]
    v[np.flatnonzero(~np.isnan(v))[:3]] = np.inf
    f["values"][...] = v


def c_values_short(f):
    replace(f, "values", f["values"][: f["values"].shape[0] // 2])


def c_format_array(f):
    # "format" as an array of 13 strings where spex writes one.
    del f.attrs["format"]
    f.attrs.create("format", np.array([b"spex-checkpoint"] * 13, dtype="S16"))


def c_queries_array(f):
    q = int(f.attrs["queries"])
    del f.attrs["queries"]
    f.attrs.create("queries", np.full(64, q, dtype="u8"))


def c_study_array(f):
    s = f["study"][()]
    replace(f, "study", np.array([s] * 50))


CKPT = {
    "inf": c_inf,
    "values-short": c_values_short,
    "format-array": c_format_array,
    "queries-array": c_queries_array,
    "study-array": c_study_array,
}


# ---- plans ------------------------------------------------------------------------
def p_fill(f):
    q = f["queries/values"]
    q[...] = np.linspace(-1, 1, q.shape[0])
    t = f["test/values"]
    t[...] = 0.5


def p_nan(f):
    p_fill(f)
    f["queries/values"][7] = np.nan


def p_inf(f):
    p_fill(f)
    f["test/values"][1] = -np.inf


def p_values_short(f):
    p_fill(f)
    replace(f, "queries/values", f["queries/values"][:-1])


def p_masks_flipped(f):
    p_fill(f)
    m = f["queries/masks"][...]
    m[0, 0] ^= 1
    f["queries/masks"][...] = m


def p_values_int(f):
    p_fill(f)
    replace(f, "queries/values", np.ones(f["queries/values"].shape[0], dtype="i4"))


PLAN = {
    "fill": p_fill,
    "nan": p_nan,
    "inf": p_inf,
    "values-short": p_values_short,
    "masks-flipped": p_masks_flipped,
    "values-int": p_values_int,
}


def damaged(table, src, dst, kind):
    shutil.copy(src, dst)
    with h5py.File(dst, "r+") as f:
        table[kind](f)


def main(argv):
    cmd = argv[1]
    if cmd == "garbage":
        garbage(*argv[2:5])
    elif cmd == "truncate":
        truncate(*argv[2:5])
    elif cmd == "foreign":
        foreign(argv[2])
    elif cmd == "result":
        damaged(RESULT, *argv[2:5])
    elif cmd == "ckpt":
        damaged(CKPT, *argv[2:5])
    elif cmd == "plan":
        damaged(PLAN, *argv[2:5])
    else:
        sys.exit("craft.py: unknown command " + cmd)


if __name__ == "__main__":
    main(sys.argv)
