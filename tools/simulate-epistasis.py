#!/usr/bin/python3
"""simulate-epistasis.py -- a case/control phenotype with planted epistasis,
simulated on the real genotype matrix of a spex genotype file.

The genotypes are kept as they are; only the phenotype is new:

  logit P(case) = b0 + sum_a beta_a (g_a - mean g_a)                additive background
                     + sum_pairs   e2 * z_i z_j                       planted pairs
                     + sum_triples e3 * z_i z_j z_k                   planted triples
                     + noise_sd * N(0, 1)                             unexplained liability

with g the dosage (copies of allele 2; a missing call counts as the SNP's
most common genotype) and z the SNP's minor-allele dosage (--coding dosage,
the default: the product term is the model PLINK's --epistasis fits) or its
carrier indicator (--coding dominant: z = 1 when the subject carries at
least one copy of the minor allele).  b0 is chosen so that
the expected number of cases is half the (selected) subjects.  Additive
effects beta_a are N(0, additive_sd).  Planted SNPs are drawn among SNPs
with minor-allele frequency >= --min-maf and at most --max-missing of
their calls missing, at least
--min-distance base pairs from every other planted SNP (so that no two
planted SNPs are in linkage disequilibrium with each other), and are never
additive-background SNPs.  Everything follows from --seed.

--subjects N keeps a random N of the subjects (the others get a missing
phenotype: 255 in the HDF5 file, -9 for PLINK), for power curves over
sample size.

Writes, for --out PREFIX:
  PREFIX.h5         a copy of --genotypes with /phenotype replaced and the
                    simulation's settings as attributes of /simulation
  PREFIX.fam        the .fam of --plink with the new phenotype (2 case,
                    1 control, -9 missing); PREFIX.bed and PREFIX.bim are
                    symbolic links to --plink's, so PLINK reads --bfile PREFIX
  PREFIX.pheno      FID IID PHENO, the same phenotype for plink --pheno
  PREFIX.truth.txt  the planted terms, one per line:
                    kind effect indices rsids (comma-separated, 0-based
                    SNP indices = spex feature indices)

  simulate-epistasis.py --genotypes G.h5 --plink BASE --out PREFIX
      [--seed 1] [--pairs 5] [--triples 3] [--pair-effect 1.5]
      [--triple-effect 1.5] [--additive 20] [--additive-sd 0.1]
      [--noise-sd 0.5] [--coding dosage|dominant] [--min-maf 0.25] [--max-missing 0.02]
      [--min-distance 1000000] [--subjects N]
"""
import argparse
import os
import shutil
import sys

import h5py
import numpy as np

MISSING = 255


def die(msg):
    sys.stderr.write("simulate-epistasis.py: %s\n" % msg)
    sys.exit(1)


def read_genotypes(path):
    try:
        with h5py.File(path, "r") as f:
            fmt = f.attrs.get("format", b"")
            fmt = fmt.decode() if isinstance(fmt, bytes) else str(fmt)
            if fmt != "spex-genotypes":
                die("'%s' is not a spex genotype file (format '%s')" % (path, fmt))
            G = f["genotypes"][:]
            names = f["snps/name"].asstr()[:]
            pos = f["snps/position"][:].astype(np.int64)
            chrom = f["snps/chromosome"].asstr()[:]
    except OSError as e:
        die("cannot read '%s': %s" % (path, e))
    return G, names, pos, chrom


def dosage_matrix(G):
    """Dosages as float32 with each missing call replaced by the SNP's most
    common genotype."""
    counts = np.stack([(G == v).sum(axis=0) for v in (0, 1, 2)])
    mode = counts.argmax(axis=0).astype(np.float32)
    D = G.astype(np.float32)
    miss = G == MISSING
    D[miss] = np.broadcast_to(mode, G.shape)[miss]
    return D


def pick_planted(rng, eligible, pos, chrom, count, min_distance):
    """count SNPs from eligible, each at least min_distance bp from the
    others on the same chromosome."""
    chosen = []
    for i in rng.permutation(eligible):
        if all(chrom[i] != chrom[j] or abs(int(pos[i]) - int(pos[j])) >= min_distance
               for j in chosen):
            chosen.append(int(i))
            if len(chosen) == count:
                return chosen
    die("only %d SNPs satisfy --min-maf and --min-distance, %d needed" % (len(chosen), count))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n", 2)[2])
    ap.add_argument("--genotypes", required=True, help="spex genotype file (genomics-data.R)")
    ap.add_argument("--plink", help="PLINK binary fileset prefix of the same genotypes")
    ap.add_argument("--out", required=True, help="output prefix")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--triples", type=int, default=3)
    ap.add_argument("--pair-effect", type=float, default=1.5, help="log-odds per unit of z_i z_j")
    ap.add_argument("--triple-effect", type=float, default=1.5, help="log-odds per unit of z_i z_j z_k")
    ap.add_argument("--additive", type=int, default=20, help="additive background SNPs")
    ap.add_argument("--additive-sd", type=float, default=0.1)
    ap.add_argument("--noise-sd", type=float, default=0.5)
    ap.add_argument("--coding", choices=("dosage", "dominant"), default="dosage")
    ap.add_argument("--min-maf", type=float, default=0.25)
    ap.add_argument("--max-missing", type=float, default=0.02,
                    help="largest fraction of missing calls of a planted SNP")
    ap.add_argument("--min-distance", type=int, default=1000000)
    ap.add_argument("--subjects", type=int, default=0, help="keep this many subjects (0: all)")
    a = ap.parse_args()
    for k in ("pairs", "triples", "additive", "subjects", "min_distance"):
        if getattr(a, k) < 0:
            die("--%s must be >= 0" % k.replace("_", "-"))

    G, names, pos, chrom = read_genotypes(a.genotypes)
    nsub, nsnp = G.shape
    if a.subjects > nsub:
        die("--subjects %d exceeds the %d subjects of '%s'" % (a.subjects, nsub, a.genotypes))
    rng = np.random.default_rng(a.seed)
    D = dosage_matrix(G)
    freq2 = D.mean(axis=0) / 2.0
    maf = np.minimum(freq2, 1.0 - freq2)
    # Minor-allele dosage and carrier indicator.
    minor = np.where(freq2 <= 0.5, D, 2.0 - D)
    Z = (minor >= 1.0).astype(np.float32) if a.coding == "dominant" else minor

    eligible = np.flatnonzero((maf >= a.min_maf) & ((G == MISSING).mean(axis=0) <= a.max_missing))
    need = 2 * a.pairs + 3 * a.triples
    planted = pick_planted(rng, eligible, pos, chrom, need, a.min_distance) if need else []
    pairs = [planted[2 * p:2 * p + 2] for p in range(a.pairs)]
    triples = [planted[2 * a.pairs + 3 * t:2 * a.pairs + 3 * t + 3] for t in range(a.triples)]
    others = np.setdiff1d(np.arange(nsnp), planted)
    additive = np.sort(rng.choice(others, size=a.additive, replace=False)) if a.additive else []
    beta = rng.normal(0.0, a.additive_sd, size=len(additive))

    eta = np.zeros(nsub)
    for b, j in zip(beta, additive):
        eta += b * (D[:, j] - D[:, j].mean())
    for p in pairs:
        eta += a.pair_effect * Z[:, p[0]] * Z[:, p[1]]
    for t in triples:
        eta += a.triple_effect * Z[:, t[0]] * Z[:, t[1]] * Z[:, t[2]]
    eta += a.noise_sd * rng.standard_normal(nsub)

    keep = np.ones(nsub, bool)
    if a.subjects:
        keep[:] = False
        keep[rng.choice(nsub, size=a.subjects, replace=False)] = True
    # b0 by bisection: expected cases among the kept subjects = half of them.
    lo, hi = -50.0, 50.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if (1 / (1 + np.exp(-(mid + eta[keep])))).sum() < keep.sum() / 2:
            lo = mid
        else:
            hi = mid
    b0 = (lo + hi) / 2
    case = (rng.random(nsub) < 1 / (1 + np.exp(-(b0 + eta)))).astype(np.uint8)
    pheno = np.where(keep, case, MISSING).astype(np.uint8)

    out_dir = os.path.dirname(os.path.abspath(a.out))
    os.makedirs(out_dir, exist_ok=True)
    h5out = a.out + ".h5"
    shutil.copyfile(a.genotypes, h5out + ".tmp")
    with h5py.File(h5out + ".tmp", "r+") as f:
        f["phenotype"][...] = pheno
        s = f.require_group("simulation")
        settings = dict(seed=a.seed, pairs=a.pairs, triples=a.triples, pair_effect=a.pair_effect,
                        triple_effect=a.triple_effect, additive=a.additive,
                        additive_sd=a.additive_sd, noise_sd=a.noise_sd, min_maf=a.min_maf,
                        max_missing=a.max_missing,
                        min_distance=a.min_distance, subjects=int(keep.sum()), b0=b0)
        for k, v in settings.items():
            s.attrs[k] = v
        s.attrs["coding"] = np.bytes_(a.coding)
        s.attrs["model"] = np.bytes_("logit P(case) = b0 + additive + e2 z_i z_j + e3 z_i z_j z_k"
                                     " + noise; z = minor-allele carrier (dominant) or dosage")
    os.replace(h5out + ".tmp", h5out)

    fam_pheno = np.where(keep, case.astype(int) + 1, -9)
    if a.plink:
        fam = [line.split() for line in open(a.plink + ".fam")]
        if len(fam) != nsub:
            die("'%s.fam' has %d subjects, '%s' has %d" % (a.plink, len(fam), a.genotypes, nsub))
        with open(a.out + ".fam", "w") as f:
            for row, p in zip(fam, fam_pheno):
                f.write(" ".join(row[:5] + [str(p)]) + "\n")
        with open(a.out + ".pheno", "w") as f:
            f.write("FID IID PHENO\n")
            for row, p in zip(fam, fam_pheno):
                f.write("%s %s %d\n" % (row[0], row[1], p))
        for ext in (".bed", ".bim"):
            link = a.out + ext
            if os.path.lexists(link):
                os.remove(link)
            os.symlink(os.path.relpath(os.path.abspath(a.plink + ext), out_dir), link)

    with open(a.out + ".truth.txt", "w") as f:
        f.write("# planted by simulate-epistasis.py --seed %d (%s coding); "
                "kind effect indices rsids\n" % (a.seed, a.coding))
        for kind, eff, sets in (("pair", a.pair_effect, pairs),
                                ("triple", a.triple_effect, triples)):
            for s in sets:
                s = sorted(s)
                f.write("%s %r %s %s\n" % (kind, eff, ",".join(map(str, s)),
                                           ",".join(names[s])))
        for b, j in zip(beta, additive):
            f.write("additive %r %d %s\n" % (float(b), j, names[j]))
    print("simulate-epistasis.py: %d subjects (%d cases), %d pairs, %d triples, %d additive -> %s"
          % (keep.sum(), case[keep].sum(), len(pairs), len(triples), len(additive), a.out))


if __name__ == "__main__":
    main()
