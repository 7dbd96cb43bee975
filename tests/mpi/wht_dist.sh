#!/bin/sh
# wht_dist.sh -- the distributed WHT (spex_wht_execute_dist) on 2 and 4 ranks
# gives bit for bit the local kernel's result on the whole signal: run through
# tools/wht-bench, whose rank 0 gathers the distributed result and compares it
# with spex_wht_execute on one rank (JSON field bitwise_equal_local).  Sizes
# put each rank's block past the kernel's one-block size (phase 2 and its
# scratch strips run before the exchanges).
. "$(dirname "$0")/common.sh"

BENCH=${builddir:-$(pwd)}/tools/wht-bench
for run in "2 22" "4 21" "2 12"; do
    set -- $run
    if timeout -k 5 300 "$MPIRUN" --oversubscribe -np "$1" "$BENCH" --dist-b "$2" --reps 1 \
        >out.txt 2>&1 && grep -q '"bench": "wht-dist".*"bitwise_equal_local": true' out.txt; then
        pass "2^$2 on $1 ranks: distributed WHT bitwise equal to the local kernel"
    else
        fail "2^$2 on $1 ranks: distributed WHT differs from the local kernel (or failed)"
        sed 's/^/  | /' out.txt | head -20
    fi
done
finish
