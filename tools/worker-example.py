#!/usr/bin/env python3
"""worker-example.py -- an example spex exec worker (protocol v1).

spex (oracle.kind = exec) starts one worker per rank and talks to it over
stdin/stdout (doc/oracles.md):

  spex -> worker   header   b"spex 1 n=<n> format=<text|bits>\\n"
                   per batch b"batch <count>\\n" then count masks:
                     text: n bytes of '0'/'1' and b"\\n" (feature i = byte i)
                     bits: (n+7)//8 bytes, feature i = bit i%8 of byte i//8
  worker -> spex   count lines, one decimal value each, then flush
  EOF on stdin     the worker exits (status 0)

The value function computed here is a sparse polynomial with known terms,
so that a test can check that spex recovers exactly these terms:

  f(x) = sum over terms k of c_k * chi_k(x)
  chi_k(x) = (-1)^(number of features of k present in x)   (--basis fourier)
  chi_k(x) = 1 if every feature of k is present, else 0    (--basis mobius:
             an "AND" interaction, how a model's joint effect looks)

Terms come from --spectrum FILE (spex's spectrum format: per line a
coefficient then the term's 0-based features, e.g. "1.5 3 9") and/or from
arguments FEATURES=COEF ("3,9=1.5", "4=-2", "=0.5" for the constant).
Without any, the toy function f = 1 + 1.5 chi_{0,1} - 2 chi_{2,5,7}
+ 0.5 chi_{3} (needs n >= 8).

  spex run --set oracle.kind=exec --set features.n=100 \\
      --set oracle.command="python3 tools/worker-example.py --spectrum spec.txt"

Options for tests: --eager writes each value as soon as its mask is read
(so the answers flow while spex still writes masks); --fail-rank R exits
with status 2 on rank R (SPEX_RANK) after its first batch.

Only the standard library.  Messages go to stderr: stdout is the protocol.
"""
import argparse
import os
import sys


def read_terms(args, n):
    terms = []  # (coef, [features])
    if args.spectrum:
        with open(args.spectrum) as f:
            for line in f:
                s = line.strip()
                if s and not s.startswith("#"):
                    parts = s.split()
                    terms.append((float(parts[0]), [int(x) for x in parts[1:]]))
    for t in args.terms:
        feats, _, coef = t.rpartition("=")
        terms.append((float(coef), [int(x) for x in feats.split(",") if x != ""]))
    if not terms:
        terms = [(1.0, []), (1.5, [0, 1]), (-2.0, [2, 5, 7]), (0.5, [3])]
    for c, feats in terms:
        if any(not 0 <= i < n for i in feats):
            sys.exit("worker-example: term %s has a feature outside 0..%d" % (feats, n - 1))
    return terms


def value(present, terms, mobius):
    """f at one mask; present(i) says whether feature i is kept."""
    v = 0.0
    for c, feats in terms:
        k = sum(present(i) for i in feats)
        if mobius:
            v += c if k == len(feats) else 0.0
        else:
            v += -c if k & 1 else c
    return v


def main():
    ap = argparse.ArgumentParser(description="example spex exec worker (protocol v1)")
    ap.add_argument("--spectrum", help="terms file: coefficient then features, per line")
    ap.add_argument("--basis", choices=("fourier", "mobius"), default="fourier")
    ap.add_argument("--eager", action="store_true", help="answer each mask as soon as it is read")
    ap.add_argument("--fail-rank", type=int, default=-1, help="exit 2 after one batch on this rank")
    ap.add_argument("terms", nargs="*", metavar="FEATURES=COEF")
    args = ap.parse_args()

    inp, out = sys.stdin.buffer, sys.stdout.buffer  # binary: bits format is raw bytes
    header = inp.readline().split()
    if len(header) != 4 or header[:2] != [b"spex", b"1"]:
        sys.exit("worker-example: not a spex protocol v1 header: %r" % (b" ".join(header),))
    n = int(header[2].split(b"=")[1])
    fmt = header[3].split(b"=")[1].decode()
    if fmt not in ("text", "bits"):
        sys.exit("worker-example: unknown format %r" % fmt)
    terms = read_terms(args, n)
    mobius = args.basis == "mobius"
    rank = int(os.environ.get("SPEX_RANK", "0"))
    nbytes = (n + 7) // 8
    batches = 0

    while True:
        line = inp.readline()
        if not line:
            return 0  # EOF: spex is done with us
        word, count = line.split()
        if word != b"batch":
            sys.exit("worker-example: expected 'batch <count>', got %r" % line)
        if batches == 1 and rank == args.fail_rank:
            sys.exit(2)
        batches += 1
        values = []
        for _ in range(int(count)):
            if fmt == "text":
                m = inp.readline()
                if len(m) != n + 1:
                    sys.exit("worker-example: short mask line")
                present = lambda i, m=m: m[i] == 49  # ord("1")
            else:
                m = inp.read(nbytes)
                if len(m) != nbytes:
                    sys.exit("worker-example: short mask")
                present = lambda i, m=m: (m[i >> 3] >> (i & 7)) & 1
            v = repr(value(present, terms, mobius)).encode() + b"\n"
            if args.eager:
                out.write(v)
            else:
                values.append(v)
        out.write(b"".join(values))
        out.flush()  # spex waits for this batch's answers


if __name__ == "__main__":
    sys.exit(main())
