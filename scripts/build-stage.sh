#!/bin/bash
# build-stage.sh — build everything the test VMs carry, for each target
# kernel: build/<kver>/stage/{vid.ko, bin/ (static tools and selftests),
# modes/ (guest-side mode scripts)}. Prints one TAP line per build step
# and fails if any step fails or the module build prints a warning.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
n=0 failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

step() {	# step NAME COMMAND... — run, then print a TAP line
	local name=$1
	shift
	n=$((n + 1))
	if "$@" >"$log" 2>&1 && ! grep -qE '(^|[^-])warning:' "$log"; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		sed 's/^/#   /' "$log" | tail -40
		failed=$((failed + 1))
	fi
}

step "tools build" make -s tools
step "selftests build" make -s -C selftests OUT="$ROOT/build/bin" \
	LINUX_SRC="$ROOT/build/linux-src"
for kver in $(scripts/kernels.sh list); do
	stage=build/$kver/stage
	step "vid.ko W=1 build ($kver)" make -s "$stage/vid.ko"
	mkdir -p "$stage/bin" "$stage/modes"
	cp build/bin/* "$stage/bin/"
	cp scripts/modes/*.sh "$stage/modes/"
done
exit $((failed > 0))
