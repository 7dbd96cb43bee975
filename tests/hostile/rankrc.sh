#!/bin/sh
# rankrc.sh DIR PROGRAM ARGS... -- run PROGRAM as this MPI rank and record
# how it ended in DIR/rank.<rank>: its exit status (128 + the signal when a
# signal killed it).  When one rank exits non-zero, mpirun terminates the
# others; a SIGTERM that reaches this shell while PROGRAM is finishing on
# its own is held until PROGRAM has ended (a trap, unlike an ignored
# signal, is not inherited by PROGRAM), so the record says how PROGRAM
# ended, not how the shell did.  A rank that never ended by itself (killed
# by SIGKILL with its shell) leaves no record.
dir=$1
shift
trap 'term=1' TERM INT HUP
term=0
"$@"
rc=$?
echo "$rc" > "$dir/rank.${OMPI_COMM_WORLD_RANK:-unknown}"
exit "$rc"
