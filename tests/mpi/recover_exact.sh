#!/bin/sh
# recover_exact.sh -- exact noise-free recovery of spectra given as files
# (issue: n = 1,000 and n = 50,000, 200 terms of orders 0..5, |c| in
# [0.5, 2]) on 1 and 2 ranks, checked by an independent reader (h5py) against
# the spectrum file, with the query count the design's formula predicts.
. "$(dirname "$0")/common.sh"

for n in 1000 50000; do
    "$srcdir/tools/make-spectrum" --n $n --terms 200 --min-order 0 --max-order 5 \
        --coef 0.5:2 --seed 7 -o spec$n.txt
    # queries = C (m t + 1) 2^b with m = ceil(log2(n + 1)), t = 5, b = 9
    m=1; while [ $(( (1 << m) - 1 )) -lt $n ]; do m=$((m + 1)); done
    q=$(( 3 * (m * 5 + 1) * 512 ))
    for k in 1 2; do
        spexrun $k run --set features.n=$n --set oracle.kind=sparse \
            --set oracle.spectrum=spec$n.txt --set method.name=spex --set method.max_order=5 \
            --set method.b=9 -o out$n-$k.h5
        rc=$?
        if [ $rc -eq 0 ] && $PY "$srcdir/tests/check_result.py" out$n-$k.h5 spec$n.txt \
                --queries $q > check.txt 2>&1; then
            pass "n=$n np=$k: $(cat check.txt)"
        else
            fail "n=$n np=$k (exit $rc)"; cat out.txt check.txt | sed 's/^/  | /' | tail -20
        fi
    done
done

# A Mobius-basis spectrum: spex recovers its exact Fourier expansion.
printf '2.0 3 9\n-1.0 4\n0.75 1 2 5\n' > mob.txt
spexrun 2 run --set features.n=64 --set oracle.spectrum=mob.txt --set oracle.basis=mobius \
    --set method.max_order=3 --set method.b=5 -o mob.h5
if [ $? -eq 0 ] && $PY "$srcdir/tests/check_result.py" mob.h5 mob.txt --basis mobius >check.txt 2>&1; then
    pass "mobius basis: $(cat check.txt)"
else
    fail "mobius basis"; cat out.txt check.txt | sed 's/^/  | /' | tail -20
fi

# Identity delays on a small n.
"$srcdir/tools/make-spectrum" --n 40 --terms 12 --max-order 3 --seed 3 -o small.txt
spexrun 1 run --set features.n=40 --set oracle.spectrum=small.txt --set method.delays=identity \
    --set method.max_order=3 --set method.b=5 -o id.h5
if [ $? -eq 0 ] && $PY "$srcdir/tests/check_result.py" id.h5 small.txt --queries $((3 * 41 * 32)) \
        >check.txt 2>&1; then
    pass "identity delays: $(cat check.txt)"
else
    fail "identity delays"; cat out.txt check.txt | sed 's/^/  | /' | tail -20
fi

finish
