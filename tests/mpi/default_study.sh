#!/bin/sh
# default_study.sh -- `spex run` with no study: the embedded default recovers
# its 100 known terms; the file reads back with spex show, h5dump and h5py.
. "$(dirname "$0")/common.sh"

for k in 1 2; do
    rm -f spex-result.h5
    if spexrun $k run && grep -q "100 of 100 true terms found, 0 false" out.txt &&
            [ -f spex-result.h5 ]; then
        pass "default study np=$k: $(grep -o 'recovered [0-9]* terms in [0-9]* peeling rounds' out.txt)"
    else
        fail "default study np=$k"; sed 's/^/  | /' out.txt | tail -20
    fi
done
spexrun 1 show spex-result.h5 --top 5 && grep -qE "^ *5 +[0-9]" out.txt && pass "spex show --top 5" ||
    { fail "spex show"; cat out.txt; }
"$H5DUMP" -H spex-result.h5 > dump.txt 2>&1 && grep -q 'DATASET "coef"' dump.txt &&
    grep -q 'ATTRIBUTE "format_version"' dump.txt && pass "h5dump reads the layout" ||
    { fail "h5dump"; head -30 dump.txt; }
$PY - <<'PYEOF' && pass "h5py reads 100 ranked terms" || fail "h5py read"
import h5py, numpy as np
f = h5py.File("spex-result.h5", "r")
c = f["fourier/coef"][...]
assert len(c) == 100, len(c)
assert np.all(np.abs(c[:-1]) >= np.abs(c[1:]))
assert f.attrs["n_features"] == 10000
assert f.attrs["queries"] == 3 * 57 * 256
PYEOF
# The example study in inputs/ works as documented (paths relative to it).
spexrun 2 run "$srcdir/inputs/example.ini" -o example.h5 &&
    grep -q "300 of 300 true terms found, 0 false" out.txt && pass "inputs/example.ini" ||
    { fail "inputs/example.ini"; sed 's/^/  | /' out.txt | tail; }
finish
