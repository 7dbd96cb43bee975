#!/usr/bin/python3
"""check_result.py -- check a spex result file against a spectrum file.

Independent of spex's own code: reads the spectrum text itself and the
result with h5py.  Exit 0 when every true term is found with a coefficient
within --rtol relative, no recovered term absent from the truth exceeds
--floor times the largest true |coef|, and (with --queries) the root
attribute `queries` equals the given count.  Prints one line of figures.

  check_result.py result.h5 spec.txt [--queries N] [--rtol 1e-9] [--basis mobius]
"""
import argparse
import sys

import h5py
import numpy as np


def read_spectrum(path):
    terms = {}
    with open(path) as f:
        for line in f:
            s = line.strip()
            if not s or s.startswith("#"):
                continue
            parts = s.split()
            terms[tuple(sorted(int(x) for x in parts[1:]))] = float(parts[0])
    return terms


def mobius_to_fourier(mob):
    from itertools import combinations
    four = {}
    for T, m in mob.items():
        for r in range(len(T) + 1):
            for k in combinations(T, r):
                four[k] = four.get(k, 0.0) + (-1) ** len(k) * m * 2.0 ** -len(T)
    return {k: v for k, v in four.items() if v != 0.0}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("result")
    ap.add_argument("spectrum")
    ap.add_argument("--queries", type=int)
    ap.add_argument("--rtol", type=float, default=1e-9)
    ap.add_argument("--floor", type=float, default=1e-9)
    ap.add_argument("--basis", default="fourier")
    a = ap.parse_args()
    truth = read_spectrum(a.spectrum)
    if a.basis == "mobius":
        truth = mobius_to_fourier(truth)
    with h5py.File(a.result, "r") as f:
        fmt = f.attrs["format"]
        fmt = fmt.decode() if isinstance(fmt, bytes) else str(fmt)
        assert fmt == "spex-result", "not a spex result: format = %r" % fmt
        order = f["fourier/order"][...]
        feats = f["fourier/features"][...]
        coef = f["fourier/coef"][...]
        queries = int(f.attrs["queries"])
    got = {}
    for o, row, c in zip(order, feats, coef):
        key = tuple(int(x) for x in row[:o])
        assert all(x == -1 for x in row[o:]), "padding must be -1"
        assert key not in got, "term %s listed twice" % (key,)
        got[key] = float(c)
    assert np.all(np.abs(coef[:-1]) >= np.abs(coef[1:])), "rows must be ranked by |coef|"
    cmax = max(abs(v) for v in truth.values()) if truth else 1.0
    found = sum(1 for k in truth if k in got)
    worst = max((abs(got[k] - v) / abs(v) for k, v in truth.items() if k in got), default=0.0)
    false = [k for k, v in got.items() if k not in truth and abs(v) > a.floor * cmax]
    ok = found == len(truth) and worst <= a.rtol and not false
    if a.queries is not None and queries != a.queries:
        ok = False
    print("check_result: %d/%d true terms found, %d false above %.0e of max, max rel err %.3g, "
          "queries %d%s" % (found, len(truth), len(false), a.floor, worst, queries,
                            "" if ok else "  FAILED"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
