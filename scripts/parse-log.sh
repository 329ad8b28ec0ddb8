#!/bin/bash
# parse-log.sh OUTDIR LABEL — summarise one boot: count the TAP lines in
# OUTDIR/results.log and fail the run (one extra failure, a "FAIL LABEL:
# reason" line each) if the guest did not reach VID-END, the mode script
# exited non-zero, rmmod vid failed, or the kernel log shows a splat.
# Prints "LABEL: P passed, F failed, S skipped" last, writes "P F S" to
# OUTDIR/counts, dumps the logs on failure. Exit 0 iff nothing failed.
set -euo pipefail

[[ $# -eq 2 ]] || { echo "usage: $0 OUTDIR LABEL" >&2; exit 2; }
OUTDIR=$1 LABEL=$2
results=$(tr -d '\r' <"$OUTDIR/results.log" 2>/dev/null || true)
console=$(tr -d '\r' <"$OUTDIR/console.log" 2>/dev/null || true)

count() { grep -cE "$1" <<<"$results" || true; }
skipped=$(($(count '^(not )?ok [0-9]+.*# [Ss][Kk][Ii][Pp]') + $(count '^1\.\.0 # [Ss][Kk][Ii][Pp]')))
passed=$(($(count '^ok [0-9]+') - $(count '^ok [0-9]+.*# [Ss][Kk][Ii][Pp]')))
failed=$(($(count '^not ok [0-9]+') - $(count '^not ok [0-9]+.*# [Ss][Kk][Ii][Pp]')))

# Real splats only: the boot-time "Speculative Return Stack Overflow:
# WARNING: See ..." line is benign, so WARN is matched by its own form.
SPLAT='WARNING: CPU: |-+\[ cut here \]-+|BUG: |kernel BUG at|Oops|general protection fault[:,]|self-detected stall|detected stalls on CPU|RCU stall|rcu: INFO:|soft lockup|hard LOCKUP|hung_task|blocked for more than|Call Trace:|Kernel panic|UBSAN:|unreferenced object'

reasons=()
end=$(grep -m1 '^VID-END rc=' <<<"$results" || true)
if [[ -z $end ]]; then
	reasons+=("no VID-END line (guest crashed, hung or timed out)")
elif [[ $end != "VID-END rc=0" ]]; then
	reasons+=("mode script exited with ${end#VID-END }")
fi
grep -q '^VID-RMMOD fail' <<<"$results" && reasons+=("rmmod vid failed")
while IFS= read -r line; do
	reasons+=("kernel log: $line")
done < <(grep -E "$SPLAT" <<<"$console" | head -n5)

((${#reasons[@]} == 0)) || failed=$((failed + 1))
echo "$passed $failed $skipped" >"$OUTDIR/counts"

if ((failed)); then
	echo "----- $LABEL: console.log (last 150 lines) -----"
	tail -n150 <<<"$console"
	echo "----- $LABEL: results.log -----"
	echo "$results"
	echo "-----"
fi
for r in "${reasons[@]}"; do echo "FAIL $LABEL: $r"; done
echo "$LABEL: $passed passed, $failed failed, $skipped skipped"
((failed == 0))
