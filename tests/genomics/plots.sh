#!/bin/sh
# plots.sh -- tools/plot makes each figure from a small result file: the
# ranked bar chart and the network from the result alone; the Manhattan plot
# with positions from --positions (both file forms), --genotypes, and from a
# /features/position dataset in the result; the R^2 curve from --bench.
# Each PNG must exist, be non-empty and start with the PNG signature; each
# SVG must exist and be an <svg> document.  Bad inputs give exit codes 1/2.
. "$(dirname "$0")/../mpi/common.sh"
. "$srcdir/tests/genomics/common.sh"
need_python matplotlib python3-matplotlib
need_python h5py python3-h5py
PLOT="$PY $srcdir/tools/plot"

"$PY" -c "print('\n'.join('rs%d' % (1000 + j) for j in range(50)))" > names.txt
if spexrun 2 run --set features.n=50 --set features.names=names.txt --set oracle.terms=20 \
        --set oracle.max_order=3 --set method.max_order=3 --set method.b=6 -q -o small.h5; then
    pass "spex run --set features.n=50 wrote a small result"
else
    fail "spex run for the small result"; sed 's/^/  | /' out.txt | tail -5; finish; exit 1
fi

# is_png FILE: at least 1 kB, starts with \x89PNG\r\n\x1a\n and an IHDR
# chunk, and the image (IHDR width, height: big-endian at bytes 16 and 20)
# is between 200 and 10000 pixels each way.
is_png() {
    [ -s "$1" ] && [ "$(wc -c <"$1")" -ge 1024 ] &&
        [ "$(head -c 16 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a0000000d49484452 ] &&
        w=$(od -An -j16 -N4 -tu1 "$1" | awk '{print $1*16777216 + $2*65536 + $3*256 + $4}') &&
        h=$(od -An -j20 -N4 -tu1 "$1" | awk '{print $1*16777216 + $2*65536 + $3*256 + $4}') &&
        [ "$w" -ge 200 ] && [ "$w" -le 10000 ] && [ "$h" -ge 200 ] && [ "$h" -le 10000 ]
}
is_svg() {
    [ -s "$1" ] && grep -q '<svg' "$1"
}
# expect_figures LABEL PREFIX KIND...: every PREFIX-KIND.png and .svg is valid.
expect_figures() {
    label=$1 prefix=$2; shift 2
    for kind in "$@"; do
        if is_png "$prefix-$kind.png" && is_svg "$prefix-$kind.svg"; then
            pass "$label: $prefix-$kind.png (${w}x$h, $(wc -c <"$prefix-$kind.png") bytes) and .svg"
        else
            fail "$label: $prefix-$kind.png/.svg missing or not PNG/SVG"
        fi
    done
}

# From the result alone: bar chart and network, and nothing else.
if $PLOT small.h5 -o alone/small >plot.txt 2>&1; then
    expect_figures "result alone" alone/small top network
    [ "$(wc -l <plot.txt)" -eq 4 ] && [ ! -e alone/small-manhattan.png ] &&
        pass "result alone: four files listed, no Manhattan plot without positions" ||
        fail "result alone: expected exactly top and network files; got: $(cat plot.txt)"
else
    fail "tools/plot small.h5"; sed 's/^/  | /' plot.txt | tail -5
fi

# Positions: one per line, by index; and NAME CHROMOSOME POSITION lines.
"$PY" -c "print('\n'.join(str(10000 * (j + 1)) for j in range(50)))" > pos.txt
"$PY" -c "print('# name chromosome position'); print('\n'.join('rs%d %d %d' % (1000 + j, 1 + j // 25, 5000 * j) for j in range(50)))" > pos-named.txt
small_genotypes geno.h5 20 50 3
cat > bench.jsonl <<'JEOF'
{"tool": "spex spex", "queries": 1000, "faithfulness_r2": 0.5}
{"tool": "spex spex", "queries": 4000, "faithfulness_r2": 0.9}
{"tool": "spex proxyspex", "queries": 2000, "faithfulness_r2": 0.8}
{"n": 50, "queries": 3000}
JEOF
if $PLOT small.h5 -o full/small --positions pos.txt --bench bench.jsonl --values banzhaf \
        --min-order 2 >plot.txt 2>&1; then
    expect_figures "--positions, --bench" full/small top network manhattan r2
else
    fail "tools/plot --positions --bench"; sed 's/^/  | /' plot.txt | tail -5
fi
if $PLOT small.h5 -o named/small --positions pos-named.txt --format png >plot.txt 2>&1 &&
   is_png named/small-manhattan.png && [ ! -e named/small-manhattan.svg ]; then
    pass "--positions with names and two chromosomes, --format png only"
else
    fail "tools/plot --positions NAME CHROM POS"; sed 's/^/  | /' plot.txt | tail -5
fi
if $PLOT small.h5 -o geno/small --genotypes geno.h5 --index fbii >plot.txt 2>&1; then
    expect_figures "--genotypes, --index fbii" geno/small manhattan
else
    fail "tools/plot --genotypes"; sed 's/^/  | /' plot.txt | tail -5
fi
# Planted terms marked (--truth, the format of simulate-epistasis.py).
printf '# kind effect indices rsids\npair 1.5 3,17 rs1003,rs1017\ntriple 1.5 1,2,40 rs1001,rs1002,rs1040\nadditive 0.1 5 rs1005\n' > truth.txt
if $PLOT small.h5 -o truth/small --positions pos.txt --truth truth.txt >plot.txt 2>&1; then
    expect_figures "--truth" truth/small top network manhattan
else
    fail "tools/plot --truth"; sed 's/^/  | /' plot.txt | tail -5
fi

# Positions carried by the result file itself: spex writes /features/position
# and /features/chromosome from features.positions (the same study as
# small.h5, so the same terms), and the Manhattan plot needs no other input.
if spexrun 2 run --set features.n=50 --set features.names=names.txt --set oracle.terms=20 \
        --set oracle.max_order=3 --set method.max_order=3 --set method.b=6 \
        --set features.positions=pos-named.txt -q -o withpos.h5 &&
   "$PY" - <<'PYEOF' >pos.out 2>&1; then
import h5py, numpy as np
want = [l.split() for l in open("pos-named.txt") if not l.startswith("#")]
with h5py.File("withpos.h5", "r") as f, h5py.File("small.h5", "r") as g:
    pos, chrom = f["features/position"], f["features/chromosome"]
    assert pos.dtype == np.int64 and pos.shape == (50,), (pos.dtype, pos.shape)
    assert list(pos[:]) == [int(w[2]) for w in want], "positions differ from the file"
    assert list(chrom.asstr()[:]) == [w[1] for w in want], "chromosomes differ from the file"
    assert list(f["features/name"].asstr()[:]) == [w[0] for w in want], "names differ"
    assert np.array_equal(f["fourier/coef"][:], g["fourier/coef"][:]), "terms changed"
print("ok")
PYEOF
    pass "features.positions: /features/position and /features/chromosome equal the file"
else
    fail "features.positions into the result"; sed 's/^/  | /' out.txt pos.out | tail -5
fi
if $PLOT withpos.h5 -o withpos/small >plot.txt 2>&1; then
    expect_figures "/features/position in the result" withpos/small manhattan
else
    fail "tools/plot with /features/position"; sed 's/^/  | /' plot.txt | tail -5
fi
# Positions alone also name the features; a name that disagrees with
# features.names, a bad position and a short file are one-line errors.
if spexrun 1 run --set features.n=50 --set oracle.terms=20 --set method.b=6 \
        --set features.positions=pos-named.txt -q -o posonly.h5 &&
   [ "$("$PY" -c "import h5py; print(h5py.File('posonly.h5','r')['features/name'].asstr()[49])")" = rs1049 ]; then
    pass "features.positions without features.names names the features"
else
    fail "features.positions without names"; sed 's/^/  | /' out.txt | tail -5
fi
sed 's/^rs1007 /rs9999 /' pos-named.txt > pos-badname.txt
sed 's/^rs1003 1 15000$/rs1003 1 15e3/' pos-named.txt > pos-badnum.txt
head -30 pos-named.txt > pos-short.txt
expect_fail 2 2 "pos-badname.txt:9: name 'rs9999', but the names file calls feature 7 'rs1007'" \
    run --set features.n=50 --set features.names=names.txt --set method.b=6 \
    --set features.positions=pos-badname.txt -o result.h5
expect_fail 2 2 "pos-badnum.txt:5: position '15e3' is not an integer" \
    run --set features.n=50 --set method.b=6 --set features.positions=pos-badnum.txt -o result.h5
expect_fail 2 2 "pos-short.txt: has 29 positions, features.n is 50" \
    run --set features.n=50 --set method.b=6 --set features.positions=pos-short.txt -o result.h5

# Errors: not a result file (2), unknown index (1), wrong positions count (2).
expect_code() {
    code=$1 label=$2; shift 2
    $PLOT "$@" >err.txt 2>&1
    rc=$?
    if [ "$rc" -eq "$code" ] && grep -q '^plot: ' err.txt; then
        pass "$label: exit $code, $(head -1 err.txt)"
    else
        fail "$label: expected exit $code and a 'plot:' message, got $rc: $(head -2 err.txt)"
    fi
}
expect_code 2 "not a result file" geno.h5
expect_code 1 "unknown index" small.h5 --index nosuch
head -10 pos.txt > short.txt
expect_code 2 "positions of the wrong length" small.h5 --positions short.txt
expect_code 1 "bad --top" small.h5 --top 0
printf 'pair 1.0 3,99 a,b\n' > badtruth.txt
expect_code 2 "--truth index out of range" small.h5 --truth badtruth.txt
if $PLOT --help | grep -q 'PREFIX-manhattan'; then pass "--help names the outputs"; else fail "--help"; fi
finish
