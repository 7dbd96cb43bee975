#!/bin/sh
# simulate.sh -- tools/simulate-epistasis.py on a small genotype file: the
# truth file lists the planted terms (distinct SNPs, far enough apart), the
# HDF5 copy, .fam and .pheno carry the same phenotype, --subjects leaves the
# others missing, and the same seed gives the same files.
. "$(dirname "$0")/../mpi/common.sh"
. "$srcdir/tests/genomics/common.sh"
need_python h5py python3-h5py
SIM="$PY $srcdir/tools/simulate-epistasis.py"

small_genotypes g.h5 400 300 5
"$PY" - <<'PYEOF'
with open("g.fam", "w") as f:
    for i in range(400):
        f.write("s%d s%d 0 0 2 1\n" % (i, i))
open("g.bed", "w").close()
open("g.bim", "w").close()
PYEOF
args="--genotypes g.h5 --plink g --seed 7 --min-distance 500000 --min-maf 0.2"
if $SIM $args --out a/sim >sim.txt 2>&1 && $SIM $args --out b/sim >/dev/null 2>&1; then
    pass "simulate-epistasis.py: $(cat sim.txt | sed 's/^simulate-epistasis.py: //')"
else
    fail "simulate-epistasis.py"; sed 's/^/  | /' sim.txt | tail -5; finish; exit 1
fi
if cmp -s a/sim.truth.txt b/sim.truth.txt && cmp -s a/sim.fam b/sim.fam &&
   cmp -s a/sim.pheno b/sim.pheno; then
    pass "the same seed gives the same truth, .fam and .pheno"
else
    fail "two runs with --seed 7 differ"
fi
if r=$("$PY" - <<'PYEOF'
import h5py, numpy as np
lines = [l.split() for l in open("a/sim.truth.txt") if not l.startswith("#")]
kinds = [l[0] for l in lines]
assert kinds.count("pair") == 5 and kinds.count("triple") == 3 and kinds.count("additive") == 20, kinds
with h5py.File("g.h5", "r") as f:
    pos = f["snps/position"][:]
    names = f["snps/name"].asstr()[:]
planted = [int(i) for l in lines if l[0] != "additive" for i in l[2].split(",")]
assert len(set(planted)) == 19, "planted SNPs repeat"
assert all(abs(int(pos[i]) - int(pos[j])) >= 500000 for i in planted for j in planted if i != j)
for l in lines:
    idx = [int(i) for i in l[2].split(",")]
    assert l[3].split(",") == [names[i] for i in idx], l
additive = {int(l[2]) for l in lines if l[0] == "additive"}
assert not additive & set(planted)
with h5py.File("a/sim.h5", "r") as f:
    y = f["phenotype"][:]
    assert f["simulation"].attrs["seed"] == 7
    assert (f["genotypes"][:] == h5py.File("g.h5", "r")["genotypes"][:]).all()
fam = np.array([int(l.split()[5]) for l in open("a/sim.fam")])
assert (fam == y.astype(int) + 1).all(), "fam != h5"
ph = np.array([int(l.split()[2]) for l in list(open("a/sim.pheno"))[1:]])
assert (ph == fam).all()
assert 100 < y.sum() < 300, y.sum()
print("%d cases of 400" % y.sum())
PYEOF
); then
    pass "truth: 5 pairs, 3 triples, 20 additive, distinct SNPs >= 500 kb apart, rs ids match; phenotype equal in HDF5/.fam/.pheno ($r)"
else
    fail "truth or phenotype files inconsistent: $r"
fi
if $SIM $args --out c/sim --subjects 150 >/dev/null 2>&1 &&
   [ "$(awk '$6 == -9' c/sim.fam | wc -l)" -eq 250 ] &&
   [ "$("$PY" -c "import h5py; print(int((h5py.File('c/sim.h5','r')['phenotype'][:] == 255).sum()))")" = 250 ]; then
    pass "--subjects 150 leaves 250 phenotypes missing (-9 in .fam, 255 in HDF5)"
else
    fail "--subjects 150"
fi
if $SIM --genotypes g.h5 --out d/sim --pairs 100 --min-distance 100000000 >err.txt 2>&1; then
    fail "impossible --min-distance accepted"
else
    grep -q 'simulate-epistasis.py: only' err.txt && pass "impossible planting: $(cat err.txt)" ||
        fail "impossible planting message: $(cat err.txt)"
fi
finish
