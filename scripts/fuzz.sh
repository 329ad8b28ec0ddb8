#!/bin/bash
# fuzz.sh — `make fuzz`, and a step of `make check`: build each libFuzzer
# target (clang, ASan, UBSan) and run it for FUZZ_SECONDS (default 20)
# from its seed corpus in selftests/fuzz/corpus/<name>/. New inputs go to
# build/fuzz/corpus-<name>/ (kept between runs, never into the repo), a
# crash to build/fuzz/crash-<name>-*. One TAP line per target, with the
# run's statistics; exit non-zero if any target fails to build or finds a
# crash. Needs scripts/deps.sh to have run (clang, libclang-rt-14-dev).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
TARGETS=(vmbus_ring vmbus_msg hcall_input)
SECS=${FUZZ_SECONDS:-20}
n=0 failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

for t in "${TARGETS[@]}"; do
	n=$((n + 1))
	bin=build/fuzz/${t}_fuzz
	if ! make -s "$bin" >"$log" 2>&1; then
		echo "not ok $n - fuzz $t: build failed"
		sed 's/^/#   /' "$log" | tail -20
		failed=$((failed + 1))
		continue
	fi
	corpus=build/fuzz/corpus-$t
	mkdir -p "$corpus"
	# libFuzzer fails at once on a corpus directory that does not exist
	seeds=()
	[[ -d selftests/fuzz/corpus/$t ]] && seeds=("selftests/fuzz/corpus/$t")
	# A small quarantine keeps ASan from faulting in fresh memory for
	# every run's allocations; leaks are not what this looks for.
	ASAN_OPTIONS=quarantine_size_mb=16:detect_leaks=0 \
		"$bin" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="build/fuzz/crash-$t-" \
		"$corpus" "${seeds[@]}" >"$log" 2>&1
	st=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	cov=$(grep -oE 'DONE +cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" |
	      tail -1 | sed 's/DONE *//')
	if [[ $st -eq 0 && -n $runs ]]; then
		echo "ok $n - fuzz $t: ${SECS} s, $runs runs ($rate/s), $cov"
	else
		echo "not ok $n - fuzz $t (exit $st)"
		grep -E 'ERROR|SUMMARY|_fuzz: |#[0-9]+ in |Test unit written' \
			"$log" | head -30 | sed 's/^/#   /'
		echo "#   reproduce: $bin <the crash file above>"
		failed=$((failed + 1))
	fi
done
exit $((failed > 0))
