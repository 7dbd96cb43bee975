#!/usr/bin/env python3
"""worker-quadratic.py -- a spex exec worker (protocol v1, doc/oracles.md)
that explains one prediction of a small real model: the quadratic
regression of inputs/diabetes/quadratic.txt (tools/make-diabetes-example.py),
the same function as tools/plugin-quadratic.c.  Standard library only.

A mask keeps x_i (the explained patient) where its bit is 1 and takes
baseline_i where it is 0; the value is
    intercept + sum_i linear_i u_i + sum_{pairs i <= j} w_ij u_i u_j,
    u_i = (z_i - mean_i) / scale_i,
summed in that order (the pairs in file order), as the plugin does, so the
two give the same numbers.  Both mask formats (text, bits) are read.

  worker-quadratic.py MODEL      (oracle.command = python3 tools/worker-quadratic.py FILE)
"""
import sys


def load(path):
    vec, pairs, intercept, n = {}, [], None, None
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            words = line.split()
            if not words or words[0].startswith("#"):
                continue
            key, rest = words[0], words[1:]
            if key == "n":
                n = int(rest[0])
            elif key == "names":
                pass
            elif key in ("mean", "scale", "linear", "x", "baseline"):
                vec[key] = [float(t) for t in rest]
            elif key == "intercept":
                intercept = float(rest[0])
            elif key == "pair":
                pairs.append((int(rest[0]), int(rest[1]), float(rest[2])))
            else:
                sys.exit("worker-quadratic.py: %s, line %d: unknown keyword %r" % (path, lineno, key))
    need = ("mean", "scale", "linear", "x", "baseline")
    if n is None or intercept is None or any(k not in vec or len(vec[k]) != n for k in need):
        sys.exit("worker-quadratic.py: %s is incomplete" % path)
    return n, vec, intercept, pairs


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: worker-quadratic.py MODEL")
    n, v, intercept, pairs = load(sys.argv[1])
    mean, scale, linear, x, base = (v[k] for k in ("mean", "scale", "linear", "x", "baseline"))
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    header = inp.readline().split()           # b"spex" b"1" b"n=10" b"format=bits"
    if len(header) != 4 or header[:2] != [b"spex", b"1"]:
        sys.exit("worker-quadratic.py: not a spex protocol v1 header: %r" % header)
    if int(header[2][2:]) != n:
        sys.exit("worker-quadratic.py: features.n = %s but the model has %d features"
                 % (header[2][2:].decode(), n))
    bits = header[3] == b"format=bits"
    nbytes = (n + 7) // 8

    def value(keep):
        u = [((x[i] if keep(i) else base[i]) - mean[i]) / scale[i] for i in range(n)]
        y = intercept
        for i in range(n):
            y += linear[i] * u[i]
        for i, j, w in pairs:
            y += w * u[i] * u[j]
        return y

    for line in iter(inp.readline, b""):      # b"batch <count>\n" until EOF
        count = int(line.split()[1])
        vals = []
        for _ in range(count):
            if bits:
                m = inp.read(nbytes)
                vals.append(value(lambda i: (m[i >> 3] >> (i & 7)) & 1))
            else:
                m = inp.readline()
                vals.append(value(lambda i: m[i] == 49))   # b"1"
        out.write(b"".join(b"%r\n" % y for y in vals))
        out.flush()


if __name__ == "__main__":
    main()
