#!/bin/sh
# sancheck.sh PROGRAM ARGS... -- run one test of the sanitizer build
# (./configure --enable-sanitizers; `make check` puts it in front of every
# test) and fail it on any AddressSanitizer or LeakSanitizer report.
#
# A report already makes the reporting process exit 86 (exitcode=86 in
# ASAN_OPTIONS and UBSAN_OPTIONS, a code spex never uses), and mpirun
# passes that on, but a test may not look at every exit code (a fixture
# run, a process killed on purpose).  So every process of the test writes
# its ASan/LSan reports to files in a directory of its own (log_path), and
# any file there fails the test, whatever the test itself concluded.  The
# reports are printed.  UBSan reports stay on stderr (the UBSan runtime
# ignores log_path when a check is not recoverable); they abort the
# process with code 86 (halt_on_error=1, -fno-sanitize-recover).
dir=$(mktemp -d "${TMPDIR:-/tmp}/spex-sanreports.XXXXXX") || exit 99
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$dir/report"
export ASAN_OPTIONS
"$@"
rc=$?
reports=$(ls "$dir" 2>/dev/null)
if [ -n "$reports" ]; then
    for f in $reports; do
        echo "FAIL: sanitizer report ($f) in: $*"
        sed 's/^/  | /' "$dir/$f" | head -60
    done
    case $rc in 0 | 77) rc=1 ;; esac
fi
rm -rf "$dir"
exit "$rc"
