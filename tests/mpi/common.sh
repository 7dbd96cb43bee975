# common.sh -- helpers for spex's MPI integration tests (sourced).
# Environment from `make check`: SPEX (the binary), MPIRUN, H5DUMP, H5DIFF,
# srcdir, builddir.  Each test runs in its own temporary directory, removed
# on exit unless KEEP=1.
set -u
: "${SPEX:=$(pwd)/src/spex}" "${MPIRUN:=mpirun}" "${H5DUMP:=h5dump}" "${H5DIFF:=h5diff}"
: "${srcdir:=$(pwd)}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
# Quiet Open MPI's own help messages about aborts; our message is what counts.
export OMPI_MCA_orte_base_help_aggregate=1
PY=/usr/bin/python3
TMP=$(mktemp -d /tmp/spex-test.XXXXXX)
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$TMP"' EXIT
cd "$TMP" || exit 99
FAILS=0
PASSES=0

pass() { PASSES=$((PASSES + 1)); echo "PASS: $*"; }
fail() { FAILS=$((FAILS + 1)); echo "FAIL: $*"; }

# spexrun K ARGS...: spex on K ranks; stdout+stderr to out.txt; returns its code.
# A hung job is killed after SPEX_TEST_TIMEOUT seconds (default 300).
spexrun() {
    k=$1; shift
    timeout -k 5 "${SPEX_TEST_TIMEOUT:-300}" "$MPIRUN" --oversubscribe -np "$k" "$SPEX" "$@" >out.txt 2>&1
}

# expect_fail K CODE PATTERN ARGS...: spex on K ranks must exit CODE, print
# PATTERN (grep -E) exactly once, and leave no file named result.h5.
expect_fail() {
    k=$1 code=$2 pat=$3; shift 3
    rm -f result.h5
    spexrun "$k" "$@"
    rc=$?
    n=$(grep -cE "$pat" out.txt)
    if [ "$rc" -eq "$code" ] && [ "$n" -eq 1 ] && [ ! -e result.h5 ] &&
       ! ls result.h5.tmp-* >/dev/null 2>&1; then
        pass "np=$k exit $code: $pat"
    else
        fail "np=$k expected exit $code and one line matching '$pat' for: spex $*"
        echo "  got exit $rc, $n matching lines; output:"; sed 's/^/  | /' out.txt | head -20
    fi
}

finish() {
    echo "$PASSES passed, $FAILS failed"
    [ "$FAILS" -eq 0 ]
}
