#!/bin/sh
# rank_invariance.sh -- same seed, same answer on 1, 2, 3 and 4 ranks:
# /fourier identical (h5diff, relative 1e-12), and the same query count.
. "$(dirname "$0")/common.sh"

for k in 1 2 3 4; do
    spexrun $k run --set study.seed=42 --set features.n=3000 --set oracle.terms=150 \
        --set oracle.max_order=4 --set method.b=8 -o r$k.h5 ||
        { fail "run on $k ranks"; sed 's/^/  | /' out.txt | tail; }
done
for k in 2 3 4; do
    for d in /fourier/order /fourier/features /fourier/coef; do
        if "$H5DIFF" -p 1e-12 r1.h5 r$k.h5 $d $d >diff.txt 2>&1; then
            pass "np=1 vs np=$k: $d identical"
        else
            fail "np=1 vs np=$k: $d differs"; head diff.txt
        fi
    done
    a=$("$H5DUMP" -a /queries r1.h5 | grep -o '([0-9]*): [0-9]*')
    b=$("$H5DUMP" -a /queries r$k.h5 | grep -o '([0-9]*): [0-9]*')
    [ -n "$a" ] && [ "$a" = "$b" ] && pass "np=$k queries $a" || fail "queries differ: $a vs $b"
done
# and the answer is right: all 150 terms
grep -q "150 of 150 true terms found, 0 false" out.txt && pass "np=4 recovers all 150 terms" ||
    { fail "np=4 recovery"; tail out.txt; }
finish
