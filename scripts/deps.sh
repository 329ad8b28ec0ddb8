#!/bin/bash
# deps.sh — install the Debian packages the build and the QEMU test harness
# need (only those missing), then extract the few kernel-source files the
# project uses (kselftest headers, checkpatch) into build/linux-src/, once.
# Idempotent; prints one line on success.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PKGS=(qemu-system-x86 linux-image-amd64 linux-headers-amd64
      linux-image-6.12-amd64 linux-headers-6.12-amd64 busybox-static cpio
      linux-source-6.1 sparse xz-utils zstd kmod gcc make libc6-dev perl
      python3 bc clang libclang-rt-14-dev acpica-tools liburcu-dev
      hyperv-daemons qemu-system-data)
SRC_TARBALL=/usr/src/linux-source-6.1.tar.xz
SRC_DIR=$ROOT/build/linux-src
SRC_FILES=(tools/testing/selftests/kselftest_harness.h
           tools/testing/selftests/kselftest.h
           scripts/checkpatch.pl
           scripts/spelling.txt
           scripts/const_structs.checkpatch)

SUDO=()
[[ $EUID -eq 0 ]] || SUDO=(sudo)

missing=()
for p in "${PKGS[@]}"; do
	dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' ||
		missing+=("$p")
done

if ((${#missing[@]})); then
	log=$(mktemp)
	trap 'rm -f "$log"' EXIT
	if ! { "${SUDO[@]}" apt-get update &&
	       "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
		       apt-get install -y --no-install-recommends "${missing[@]}"
	     } >"$log" 2>&1; then
		cat "$log" >&2
		echo "deps: apt-get failed installing: ${missing[*]}" >&2
		exit 1
	fi
fi

# Re-extract only when the linux-source-6.1 version changes.
stamp=$SRC_DIR/.stamp
want=$(dpkg-query -W -f='${Version}' linux-source-6.1)
if [[ ! -f $stamp || $(<"$stamp") != "$want" ]]; then
	rm -rf "$SRC_DIR"
	mkdir -p "$SRC_DIR"
	tar -xJf "$SRC_TARBALL" -C "$SRC_DIR" --strip-components=1 \
		--wildcards "${SRC_FILES[@]/#/linux-source-6.1/}"
	echo "$want" >"$stamp"
fi

echo "deps: ok (${#missing[@]} packages installed now; linux-source $want in build/linux-src)"
