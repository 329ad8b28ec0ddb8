#!/bin/bash
# check.sh — every test (`make check`): dependencies, unit tests, bounded
# fuzzing, style gates, builds for both kernels, then the kselftests booted
# on both stock kernels under QEMU TCG, and the no-SVM boot. Ends with one line
# "N passed, N failed, N skipped"; exit status non-zero on any failure.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
P=0 F=0 S=0
t0=$SECONDS

# Count the TAP lines of a command's output (which is shown as it runs).
tap() {
	local out
	out=$(mktemp)
	"$@" 2>&1 | tee "$out"
	P=$((P + $(grep -cE '^ok [0-9]+' "$out" | head -1) -
		$(grep -cE '^ok [0-9]+.*# SKIP' "$out" | head -1)))
	S=$((S + $(grep -cE '^ok [0-9]+.*# SKIP' "$out" | head -1)))
	F=$((F + $(grep -cE '^not ok [0-9]+' "$out" | head -1)))
	rm -f "$out"
}

# Add a suite's own "P passed, F failed, S skipped" totals line.
suite() {
	local out line p f s
	out=$(mktemp)
	"$@" 2>&1 | tee "$out"
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -1)
	rm -f "$out"
	if [[ -z $line ]]; then
		echo "not ok - $* printed no totals"
		F=$((F + 1))
		return
	fi
	read -r p _ f _ s _ <<<"${line//,/}"
	P=$((P + p)) F=$((F + f)) S=$((S + ${s:-0}))
}

echo "# dependencies"
if ! scripts/deps.sh; then
	echo "0 passed, 1 failed"
	exit 1
fi
echo "# unit tests"
tap make -s unit
echo "# fuzz (libFuzzer targets, ${FUZZ_SECONDS:-20} s each)"
tap scripts/fuzz.sh
echo "# style"
tap scripts/style.sh
echo "# build"
tap scripts/build-stage.sh
echo "# kselftests in QEMU TCG (6.1 and 6.12)"
suite scripts/run-suite.sh check
echo "# no SVM: the module must refuse to load"
first=$(scripts/kernels.sh list | sed -n 1p)
VID_QEMU_CPU=EPYC,-svm suite scripts/run-suite.sh nosvm "$first"
echo "# vidvm: the stock kernel booted as a child partition (nested TCG)"
VID_GUEST=1 suite scripts/run-suite.sh vidvm "$first"

echo "# check took $((SECONDS - t0)) s"
echo "$P passed, $F failed, $S skipped"
((F == 0))
