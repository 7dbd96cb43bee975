#!/usr/bin/python3
"""fill-plan.py -- fill the values of a spex plan file (the middle step of
the two-phase flow, doc/two-phase.md) with a known function.

    spex plan study.ini -o plan.h5                     # masks, values NaN
    tools/fill-plan.py plan.h5 --spectrum spec.txt     # this program
    spex decode study.ini --values plan.h5 -o out.h5   # recover

The function here is a sparse polynomial given as a spectrum file (the
format of oracle.spectrum: one term per line, "coefficient i j k ...",
'#' starts a comment), in the Fourier basis, f(x) = sum_k c_k (-1)^(k.x), or
the Mobius basis, f(S) = sum_{T <= S} m(T).  The terms are added one at a
time from 0.0 in the order spex's sparse oracle adds them (by order, then
by feature indices), so every value equals, bit for bit, the value
`spex run` computes with oracle.kind = sparse and the same spectrum file,
and decoding the filled plan gives the same result as that run.

To evaluate a real model (on a GPU, say), keep fill() and replace the
evaluator: it receives a block of masks as uint8 rows of packed bits
(feature i is bit i % 8 of byte i // 8, 1 = kept; unpack_masks() turns them
into a 0/1 matrix) and returns one float64 per row.  HDF5 files are not
safe for concurrent writers: fill a plan from one process, or let each
worker write its rows to a file of its own and copy them in afterwards.

Needs h5py and numpy (Debian: python3-h5py, python3-numpy, for /usr/bin/python3).
"""
import argparse
import signal
import sys

import h5py
import numpy as np


def read_spectrum(path, n):
    """[(coef, [features...]), ...] sorted as spex sorts a spectrum file."""
    terms = []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            parts = line.split()
            if not parts or parts[0].startswith("#"):
                continue
            try:
                coef = float(parts[0])
                feats = sorted(int(x) for x in parts[1:])
            except ValueError:
                sys.exit("fill-plan: %s:%d: not 'coefficient index ...'" % (path, lineno))
            if any(i < 0 or i >= n for i in feats) or len(set(feats)) != len(feats):
                sys.exit("fill-plan: %s:%d: feature indices must be distinct and in 0..%d"
                         % (path, lineno, n - 1))
            terms.append((coef, feats))
    # Floating-point addition is not associative: same order, same bits.
    terms.sort(key=lambda t: (len(t[1]), t[1]))
    return terms


def unpack_masks(packed, n):
    """uint8[rows][ceil(n/8)] -> uint8[rows][n] of 0/1 (feature i in column i)."""
    return np.unpackbits(packed, axis=1, bitorder="little")[:, :n]


def spectrum_evaluator(terms, basis):
    """An evaluator: packed masks -> float64 values of the sparse polynomial."""
    def evaluate(packed):
        rows = packed.shape[0]
        v = np.zeros(rows, dtype=np.float64)
        for coef, feats in terms:
            # bit i of every row, without unpacking all n columns
            bits = [(packed[:, i >> 3] >> (i & 7)) & 1 for i in feats]
            if basis == "fourier":
                par = np.zeros(rows, dtype=np.uint8)
                for b in bits:
                    par ^= b
                v += np.where(par == 1, -coef, coef)
            else:
                inside = np.ones(rows, dtype=bool)
                for b in bits:
                    inside &= b == 1
                np.add(v, coef, out=v, where=inside)
        return v
    return evaluate


def fill(path, evaluate, rows_per_block=65536, verbose=True, resume=False):
    """Evaluates every mask of the plan (queries and test masks) in blocks and
    writes the values in place.  resume: skip blocks already filled (finite),
    so that a job stopped at its time limit can be run again."""
    # A batch system stops a job with SIGTERM (or USR1 with --signal): leave
    # through the `with` below, so that the file is closed properly and the
    # blocks written so far are kept.
    for sig in (signal.SIGTERM, signal.SIGUSR1):
        signal.signal(sig, lambda num, frame: sys.exit("fill-plan: stopped by signal %d; "
                                                       "run again with --resume" % num))
    with h5py.File(path, "r+") as f:
        if f.attrs.get("format", b"") not in (b"spex-plan", "spex-plan"):
            sys.exit("fill-plan: %s is not a spex plan file" % path)
        n = int(f.attrs["n_features"])
        for part in ("queries", "test"):
            masks, values = f[part + "/masks"], f[part + "/values"]
            total, written = masks.shape[0], 0
            for lo in range(0, total, rows_per_block):
                hi = min(total, lo + rows_per_block)
                if resume and np.isfinite(values[lo:hi]).all():
                    continue
                values[lo:hi] = evaluate(masks[lo:hi])
                written += hi - lo
                f.flush()
            if verbose:
                print("fill-plan: %s: wrote %d of %d /%s values (%d features)"
                      % (path, written, total, part, n))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("plan", help="plan file written by `spex plan` (filled in place)")
    ap.add_argument("--spectrum", required=True, help="spectrum file: 'coef i j ...' per line")
    ap.add_argument("--basis", choices=("fourier", "mobius"), default="fourier")
    ap.add_argument("--rows", type=int, default=65536, help="masks per block (default 65536)")
    ap.add_argument("--resume", action="store_true", help="skip blocks already filled")
    ap.add_argument("-q", "--quiet", action="store_true")
    a = ap.parse_args()
    try:
        with h5py.File(a.plan, "r") as f:
            n = int(f.attrs["n_features"])
    except (OSError, KeyError) as e:
        sys.exit("fill-plan: cannot read %s: %s" % (a.plan, e))
    fill(a.plan, spectrum_evaluator(read_spectrum(a.spectrum, n), a.basis),
         max(1, a.rows), not a.quiet, a.resume)


if __name__ == "__main__":
    main()
