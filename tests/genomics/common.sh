# common.sh -- helpers for the genomics tests (sourced after tests/mpi/common.sh).
# A missing tool or R/Python package is a FAIL naming the Debian package,
# never a silent skip: CI installs them (tools/setup-debian).

# need_python MODULE PACKAGE: fail and finish unless /usr/bin/python3 imports MODULE.
need_python() {
    if ! "$PY" -c "import $1" 2>/dev/null; then
        fail "python3 module '$1' is missing: apt-get install $2"
        finish
        exit 1
    fi
}

# need_r: fail and finish unless Rscript loads snpStats and hdf5r.
need_r() {
    if ! command -v Rscript >/dev/null 2>&1; then
        fail "Rscript is missing: apt-get install r-base-core r-bioc-snpstats r-cran-hdf5r"
        finish
        exit 1
    fi
    for p in snpStats:r-bioc-snpstats hdf5r:r-cran-hdf5r; do
        if ! Rscript -e "suppressPackageStartupMessages(library(${p%%:*}))" >/dev/null 2>&1; then
            fail "R package '${p%%:*}' is missing: apt-get install ${p#*:}"
            finish
            exit 1
        fi
    done
}

# small_genotypes FILE SUBJECTS SNPS SEED: a random genotype file in spex's
# layout (doc/genomics.md), with about 2% missing calls and a phenotype that
# depends on SNPs 0 x 1 and 2.
small_genotypes() {
    "$PY" - "$@" <<'PYEOF'
import sys
import h5py
import numpy as np
path, m, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = np.random.default_rng(seed)
G = rng.choice(3, size=(m, n), p=[0.45, 0.4, 0.15]).astype(np.uint8)
eta = 1.5 * (G[:, 0] > 0) * (G[:, 1] > 0) - 1.0 * (G[:, 2] == 2) + rng.normal(0, 0.5, m)
y = (eta > np.median(eta)).astype(np.uint8)
G[rng.random((m, n)) < 0.02] = 255
s = lambda xs: np.array([x.encode() for x in xs])
with h5py.File(path, "w") as f:
    f.create_dataset("genotypes", data=G)
    f.create_dataset("phenotype", data=y)
    f["snps/name"] = s(["rs%d" % (1000 + j) for j in range(n)])
    f["snps/chromosome"] = s(["10"] * n)
    f["snps/position"] = np.arange(1, n + 1, dtype=np.int32) * 100000
    f["snps/allele1"] = s(["A"] * n)
    f["snps/allele2"] = s(["G"] * n)
    f["subjects/id"] = s(["s%d" % i for i in range(m)])
    f.attrs["format"] = np.bytes_("spex-genotypes")
    f.attrs["format_version"] = np.int32(1)
PYEOF
}
