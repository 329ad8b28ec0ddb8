#!/bin/bash
# style.sh — kernel style gates over the module sources:
#   checkpatch.pl --strict (from linux-source-6.1) on every module and
#   uapi file, and on the userspace tools;
#   sparse (C=2) with W=1 against each target kernel's headers.
# Prints one TAP line per gate; exit non-zero if any gate fails.
# Needs scripts/deps.sh to have run.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
CHECKPATCH=build/linux-src/scripts/checkpatch.pl
n=0 failed=0

gate() {	# gate NAME LOGFILE STATUS
	n=$((n + 1))
	if [[ $3 -eq 0 ]]; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1"
		sed 's/^/#   /' "$2" | head -60
		failed=$((failed + 1))
	fi
}

log=$(mktemp)
trap 'rm -f "$log"' EXIT

mapfile -t module_files < <(git ls-files -co --exclude-standard \
	'hvcore/*.[ch]' 'vid/*.[ch]' 'uapi/*.h' 'synic/*.[ch]' \
	'sched/*.[ch]' 'vmbus/*.[ch]')
mapfile -t user_files < <(git ls-files -co --exclude-standard \
	'tools/*.[ch]' 'selftests/*.[ch]')

perl "$CHECKPATCH" --strict --no-tree --terse --show-types \
	--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG \
	-f "${module_files[@]}" >"$log" 2>&1
grep -qE '(ERROR|WARNING|CHECK):' "$log"
gate "checkpatch --strict (module)" "$log" $((1 - $?))

# Userspace follows kernel style too; a few kernel-only rules do not apply.
perl "$CHECKPATCH" --strict --no-tree --terse --show-types \
	--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG,NEW_TYPEDEFS,PREFER_KERNEL_TYPES,SPLIT_STRING,AVOID_EXTERNS,CAMELCASE,MACRO_ARG_REUSE,COMPLEX_MACRO,TRAILING_SEMICOLON,SPACING,BRACKET_SPACE,OPEN_BRACE,LONG_LINE_STRING,STATIC_CONST_CHAR_ARRAY,ARRAY_SIZE,MACRO_WITH_FLOW_CONTROL \
	-f "${user_files[@]}" >"$log" 2>&1
grep -qE '(ERROR|WARNING|CHECK):' "$log"
gate "checkpatch --strict (tools, selftests)" "$log" $((1 - $?))

for kver in $(scripts/kernels.sh list); do
	src=build/sparse-$kver
	rm -rf "$src" && mkdir -p "$src"
	cp -a --parents Kbuild $(ls -d hvcore vid sched synic vmbus uapi \
		2>/dev/null) "$src/"
	make -s -C "/usr/src/linux-headers-$kver" M="$ROOT/$src" C=2 W=1 \
		modules >"$log" 2>&1
	st=$?
	grep -E 'warning:|error:' "$log" | grep -v 'Skipping BTF' >"$log.w"
	[[ $st -eq 0 && ! -s $log.w ]]
	gate "sparse + W=1 ($kver)" "$log" $?
	rm -f "$log.w"
done

exit $((failed > 0))
