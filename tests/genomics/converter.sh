#!/bin/sh
# converter.sh -- tools/genomics-data.R against snpStats itself: genotypes,
# missing calls, names, positions and phenotypes of the HDF5 file read back
# next to the same cells read through R (as(snps.10, "numeric")), the PLINK
# files read back through snpStats::read.plink, and names.txt.
. "$(dirname "$0")/../mpi/common.sh"
. "$srcdir/tests/genomics/common.sh"
need_r
need_python h5py python3-h5py

if Rscript "$srcdir/tools/genomics-data.R" --out data >conv.txt 2>&1 &&
   [ -s data/genotypes.h5 ] && [ -s data/forex.bed ] && [ -s data/names.txt ]; then
    pass "genomics-data.R: $(tail -1 conv.txt | sed 's/^genomics-data.R: //')"
else
    fail "tools/genomics-data.R --out data"; sed 's/^/  | /' conv.txt | tail -5; finish; exit 1
fi

# The cells: a few fixed subjects x SNPs (1-based for R), and the first
# missing call of SNPs 1..50 (R finds it, HDF5 must hold 255 there).
ROWS="1,2,500,777,1000"
COLS="1,2,3,1234,14000,28501"
Rscript -e "
suppressPackageStartupMessages(library(snpStats))
data(for.exercise)
g <- as(snps.10[c($ROWS), c($COLS)], 'numeric')
cat('cells', ifelse(is.na(g), 255, g), '\n')
m <- which(is.na(as(snps.10[, 1:50], 'numeric')), arr.ind = TRUE)[1, ]
cat('missing', m[1], m[2], '\n')
cat('names', colnames(snps.10)[c($COLS)], '\n')
cat('pos', snp.support\$position[c($COLS)], '\n')
cat(sprintf('posline %s %s %d\n', colnames(snps.10)[c($COLS)],
            as.character(snp.support\$chromosome[c($COLS)]), snp.support\$position[c($COLS)]), sep = '')
cat('cc', subject.support\$cc[c($ROWS)], '\n')
p <- read.plink('data/forex')
cat('plink', identical(p\$genotypes@.Data, snps.10@.Data),
    identical(as.integer(p\$fam\$affected), as.integer(subject.support\$cc + 1)),
    all(p\$fam\$sex == 2), '\n')
" >r.txt 2>r.err || { fail "reading for.exercise through R"; sed 's/^/  | /' r.err | tail -5; }

"$PY" - "$ROWS" "$COLS" <<'PYEOF' >py.txt
import sys
import h5py
import numpy as np
rows = [int(v) - 1 for v in sys.argv[1].split(",")]
cols = [int(v) - 1 for v in sys.argv[2].split(",")]
with h5py.File("data/genotypes.h5", "r") as f:
    G = f["genotypes"]
    # column-major like R's c(matrix)
    cells = [int(G[r, c]) for c in cols for r in rows]
    print("cells", " ".join(map(str, cells)))
    print("names", " ".join(f["snps/name"].asstr()[cols]))
    print("pos", " ".join(str(int(v)) for v in f["snps/position"][cols]))
    print("cc", " ".join(str(int(v)) for v in f["phenotype"][rows]))
    print("shape", G.shape, G.dtype, f.attrs["format"].decode(), int(f.attrs["format_version"]))
PYEOF

field() { grep "^$1 " "$2" | cut -d' ' -f2- | sed 's/ *$//'; }
for k in cells names pos cc; do
    if [ -n "$(field $k r.txt)" ] && [ "$(field $k r.txt)" = "$(field $k py.txt)" ]; then
        pass "HDF5 $k equal R's: $(field $k py.txt | cut -c1-70)"
    else
        fail "HDF5 $k differ: R '$(field $k r.txt)' HDF5 '$(field $k py.txt)'"
    fi
done
if grep -q "^shape (1000, 28501) uint8 spex-genotypes 1" py.txt; then
    pass "genotypes are uint8 1000 x 28501, format spex-genotypes version 1"
else
    fail "layout: $(grep '^shape' py.txt)"
fi
set -- $(field missing r.txt)
if [ $# -eq 2 ] && v=$("$PY" -c "import h5py; print(h5py.File('data/genotypes.h5','r')['genotypes'][$1 - 1, $2 - 1])") &&
   [ "$v" = 255 ]; then
    pass "the call R reads as NA (subject $1, SNP $2) is 255 in HDF5"
else
    fail "missing call: R says '$*', HDF5 holds '${v:-?}'"
fi
if [ "$(field plink r.txt)" = "TRUE TRUE TRUE" ]; then
    pass "PLINK files read back through read.plink: same genotypes, phenotype 2/1, sex 2"
else
    fail "PLINK files read back: '$(field plink r.txt)' (genotypes, phenotype, sex)"
fi
if [ "$(wc -l <data/names.txt)" -eq 28501 ] && [ "$(sed -n 28501p data/names.txt)" = rs12218790 ]; then
    pass "names.txt has 28501 rs ids, the last rs12218790"
else
    fail "names.txt: $(wc -l <data/names.txt) lines"
fi
# positions.txt (features.positions): line j + 2 is SNP j as R has it.
want=$(grep '^posline ' r.txt | cut -d' ' -f2-)
got=$(for c in $(echo "$COLS" | tr ',' ' '); do sed -n "$((c + 1))p" data/positions.txt; done)
if [ "$(grep -vc '^#' data/positions.txt)" -eq 28501 ] && [ -n "$want" ] && [ "$got" = "$want" ]; then
    pass "positions.txt: 28501 'NAME CHROMOSOME POSITION' lines, those checked equal R's"
else
    fail "positions.txt: want '$want', got '$got'"
fi
finish
