#!/bin/bash
# spex-two-phase.sh -- submit the two-phase flow as three chained Slurm jobs:
#
#   plan      spex plan STUDY -o WORK/plan.h5          (MPI, jobs/spex-study.sbatch)
#   evaluate  $SPEX_EVALUATE: your program fills /queries/values and
#             /test/values of WORK/plan.h5 (a GPU job, say)
#   decode    spex decode STUDY --values WORK/plan.h5 -o WORK/result.h5   (MPI)
#
# each starting only when the one before succeeded (--dependency=afterok);
# when one fails, the rest are cancelled instead of waiting forever
# (--kill-on-invalid-dep=yes).  Run it where you run sbatch (a login node);
# it submits and returns, or with --wait blocks until the chain is done.
# Guide: doc/cluster.md; the plan file: doc/two-phase.md.
#
#   SPEX_EVALUATE='/usr/bin/python3 tools/fill-plan.py "$PLAN" --spectrum spec.txt' \
#       jobs/spex-two-phase.sh [--wait] [STUDY.ini] [--set section.key=value ...]
#
# The arguments after the options are the study, for both spex plan and spex
# decode (they must agree: decode checks that the plan is the study's).
# Paths are taken from the directory you submit from.
#
# Environment knobs:
#   SPEX_EVALUATE        (required) shell command of the evaluate job; it runs in
#                        the submit directory with PLAN set to the plan file
#   SPEX_WORKDIR         where plan.h5, result.h5 and the three job logs go; must
#                        not hold a result.h5 yet     [spex-two-phase-<date>-<time>]
#   SPEX_PLAN_SBATCH     sbatch options of the plan job      [--ntasks=2 --time=30:00]
#   SPEX_EVALUATE_SBATCH sbatch options of the evaluate job  [--ntasks=1 --time=12:00:00]
#   SPEX_DECODE_SBATCH   sbatch options of the decode job    [--ntasks=2 --time=01:00:00]
#   SPEX, SPEX_LAUNCHER, SPEX_MPIRUN_ARGS, SPEX_SRUN_ARGS: as in jobs/spex-study.sbatch
#
# Output: one line per job ("plan: job 12, log WORK/plan-12.out"), then with
# --wait "result: WORK/result.h5" or which phase failed and its log's end.
# Exit status: 0 when submitted (with --wait: when the result is written),
# 1 otherwise.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
STUDY_JOB=$HERE/spex-study.sbatch

say() { echo "spex-two-phase: $*"; }
die() { echo "spex-two-phase: error: $*" >&2; exit 1; }

WAIT=0
while [ $# -gt 0 ]; do
    case "$1" in
        --wait) WAIT=1; shift ;;
        -h | --help) sed -n '2,/^set -u/p' "$0" | sed 's/^# \{0,1\}//; /^set -u/d'; exit 0 ;;
        *) break ;;
    esac
done
[ -n "${SPEX_EVALUATE:-}" ] || die "set SPEX_EVALUATE to the command that fills \$PLAN (see --help)"
[ -r "$STUDY_JOB" ] || die "cannot read $STUDY_JOB"
command -v sbatch >/dev/null || die "no sbatch here: run this where you submit Slurm jobs"

WORK=${SPEX_WORKDIR:-spex-two-phase-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$WORK" || die "cannot create $WORK"
WORK=$(cd "$WORK" && pwd)
[ -e "$WORK/result.h5" ] && die "$WORK already holds a result.h5: choose another SPEX_WORKDIR"
export PLAN=$WORK/plan.h5
RESULT=$WORK/result.h5

submitted=""
# cancel_submitted: undo a chain that could not be submitted whole.
cancel_submitted() {
    # shellcheck disable=SC2086
    [ -n "$submitted" ] && scancel $submitted 2>/dev/null
}

# submit PHASE SBATCH-OPTIONS ARGS...: submits, sets JOB to the job ID.
submit() {
    local phase=$1 opts=$2
    shift 2
    # shellcheck disable=SC2086
    JOB=$(sbatch --parsable --job-name="spex-$phase" --output="$WORK/$phase-%j.out" $opts "$@") ||
        { cancel_submitted; die "sbatch of the $phase job failed"; }
    JOB=${JOB%%;*}
    submitted="$submitted $JOB"
}

after() { echo "--dependency=afterok:$1 --kill-on-invalid-dep=yes"; }

SPEX_COMMAND=plan SPEX_OUTPUT=$PLAN \
    submit plan "${SPEX_PLAN_SBATCH:---ntasks=2 --time=30:00}" "$STUDY_JOB" "$@"
plan=$JOB
say "plan: job $plan, log $WORK/plan-$plan.out"

submit evaluate "$(after "$plan") ${SPEX_EVALUATE_SBATCH:---ntasks=1 --time=12:00:00}" \
    --wrap "echo \"spex-two-phase: evaluate fills \$PLAN\"
$SPEX_EVALUATE
rc=\$?
echo \"spex-two-phase: evaluate exited with \$rc\"
exit \$rc"
evaluate=$JOB
say "evaluate: job $evaluate, log $WORK/evaluate-$evaluate.out"

decode_opts="$(after "$evaluate") ${SPEX_DECODE_SBATCH:---ntasks=2 --time=01:00:00}"
if [ "$WAIT" = 0 ]; then
    SPEX_COMMAND=decode SPEX_OUTPUT=$RESULT \
        submit decode "$decode_opts" "$STUDY_JOB" "$@" --values "$PLAN"
    decode=$JOB
    say "decode: job $decode, log $WORK/decode-$decode.out"
    say "result will be $RESULT (squeue -j ${plan},${evaluate},${decode})"
    exit 0
fi

# --wait: sbatch waits for the decode job.  Its exit status alone cannot
# tell success: a job cancelled because an earlier phase failed "exits" 0.
# The result file can: spex renames it into place only when it is complete.
say "decode: submitting and waiting for the chain to finish"
# shellcheck disable=SC2086
SPEX_COMMAND=decode SPEX_OUTPUT=$RESULT sbatch --parsable --wait --job-name=spex-decode \
    --output="$WORK/decode-%j.out" $decode_opts "$STUDY_JOB" "$@" --values "$PLAN" \
    >"$WORK/.decode-id"
rc=$?
decode=$(head -1 "$WORK/.decode-id")
rm -f "$WORK/.decode-id"
say "decode: job $decode, log $WORK/decode-$decode.out"
if [ "$rc" = 0 ] && [ -s "$RESULT" ]; then
    say "result: $RESULT"
    exit 0
fi
for phase in plan:$plan evaluate:$evaluate decode:$decode; do
    log=$WORK/${phase%%:*}-${phase#*:}.out
    if [ ! -e "$log" ]; then
        say "${phase%%:*} (job ${phase#*:}) never ran: an earlier phase failed"
    elif ! grep -qE 'exited with 0( |$)' "$log"; then
        say "${phase%%:*} (job ${phase#*:}) failed; the end of $log:"
        tail -n 15 "$log" | sed 's/^/  | /'
        break
    fi
done
exit 1
