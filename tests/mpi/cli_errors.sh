#!/bin/sh
# cli_errors.sh -- every user mistake gets one clear line, the documented
# exit code on every rank, no hang and no result file (DESIGN.md section 8).
. "$(dirname "$0")/common.sh"

# --help / --version / keys
spexrun 1 --help && grep -q "usage: spex run" out.txt && pass "--help" || fail "--help"
spexrun 1 --version && grep -qE "^spex [0-9]+\.[0-9]+\.[0-9]+" out.txt && pass "--version" || fail "--version"
spexrun 1 keys && grep -q "method.b" out.txt && pass "keys lists method.b" || fail "keys"

for k in 1 2; do
    expect_fail $k 1 "error: unknown command 'frobnicate'" frobnicate
    expect_fail $k 1 "error: unknown option '--bogus'" run --bogus
    expect_fail $k 1 "error: cannot read study file 'missing.ini'" run missing.ini

    printf '[study]\nname = t\n[method]\nname = spex\nwarp = 9\n' > bad_key.ini
    expect_fail $k 1 "error: bad_key.ini:5: .*warp" run bad_key.ini -o result.h5

    printf '[study]\nseed = 1\n[bogus]\nx = 1\n' > bad_section.ini
    expect_fail $k 1 "error: bad_section.ini:3: .*bogus" run bad_section.ini -o result.h5

    printf '[features]\nn = 100\n[oracle]\nkind = sparse\n[method]\nname = spex\nb = abc\n' > bad_int.ini
    expect_fail $k 1 "error: bad_int.ini:7: .*method.b" run bad_int.ini -o result.h5

    printf '[features]\nn = 100\n[oracle]\nkind = sparse\n[method]\nname = spex\nb = 99\n' > bad_range.ini
    expect_fail $k 1 "error: bad_range.ini:7: .*method.b.*range" run bad_range.ini -o result.h5

    printf '[oracle]\nkind = sparse\n[method]\nname = spex\n' > no_n.ini
    expect_fail $k 1 "error: no_n.ini.*features.n" run no_n.ini -o result.h5

    expect_fail $k 1 "error: --set method.nope=1" run --set method.nope=1 -o result.h5
    expect_fail $k 1 "error: --set features.n=-5" run --set features.n=-5 -o result.h5

    printf '1.0 1 2\n0.5 3 200\n' > bad_spec.txt
    expect_fail $k 2 "error: bad_spec.txt:2: feature index 200 out of range" \
        run --set features.n=100 --set oracle.spectrum=bad_spec.txt -o result.h5
    printf '1.0 1 2\nnan 3\n' > nan_spec.txt
    expect_fail $k 2 "error: nan_spec.txt:2: coefficient 'nan' is not a finite" \
        run --set features.n=100 --set oracle.spectrum=nan_spec.txt -o result.h5

    expect_fail $k 1 "error: design too large" run --set method.b=30 -o result.h5
    # b from a budget too small for any design: run and plan share the check.
    expect_fail $k 1 "error: method.budget = 10 is below the smallest design \\(b = 1\\)" \
        run --set method.budget=10 -o result.h5
    expect_fail $k 1 "error: method.budget = 10 is below the smallest design \\(b = 1\\)" \
        plan --set method.budget=10 -o plan.h5
    expect_fail $k 5 "error: .*nonexistent-dir" run --set features.n=200 --set oracle.terms=5 \
        --set method.b=4 -o nonexistent-dir/result.h5
done

# show: missing file, a file that is not HDF5, an HDF5 file that is not ours
expect_fail 1 5 "error: cannot open 'nothere.h5'" show nothere.h5
echo "not hdf5" > fake.h5
expect_fail 1 2 "error: .*fake.h5" show fake.h5
expect_fail 1 1 "error: --top 'x' is not a count" show fake.h5 --top x

# An existing result survives a failed run that names it.
spexrun 1 run --set features.n=300 --set oracle.terms=10 --set method.b=5 -o keep.h5 -q
cp keep.h5 keep.orig
spexrun 2 run --set features.n=300 --set oracle.spectrum=nan_spec.txt -o keep.h5
grep -q "nan_spec.txt:2" out.txt || fail "the failed run did not fail as planned"
cmp -s keep.h5 keep.orig && pass "failed run leaves existing result intact" ||
    fail "existing result changed by a failed run"

finish
