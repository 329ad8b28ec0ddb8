#!/bin/bash
# run-suite.sh MODE [KVER...] — for each target kernel (default: all from
# kernels.sh list), pack build/$KVER/stage/ (made by the build) into
# build/$KVER/initramfs.cpio.gz, boot it in MODE into build/$KVER/run-MODE/
# and summarise. Last line: "P passed, F failed, S skipped"; exit non-zero
# on any failure. MODE=run (the demo) streams the guest output live instead.
# Env: VID_BUILD_DIR (default <repo>/build), plus boot.sh's VID_QEMU_CPU and
# VID_BOOT_TIMEOUT.
set -euo pipefail

[[ $# -ge 1 ]] || { echo "usage: $0 MODE [KVER...]" >&2; exit 2; }
MODE=$1
shift
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=${VID_BUILD_DIR:-$(dirname "$HERE")/build}
if (($# == 0)); then
	list=$("$HERE/kernels.sh" list)
	mapfile -t kvers <<<"$list"
	set -- "${kvers[@]}"
fi

P=0 F=0 S=0
for kver in "$@"; do
	dir=$BUILD/$kver
	out=$dir/run-$MODE
	if [[ ! -f $dir/stage/vid.ko ]]; then
		echo "FAIL $kver: $dir/stage/vid.ko missing (build first)"
		F=$((F + 1))
		continue
	fi
	if ! "$HERE/mkinitramfs.sh" "$kver" "$dir/stage" "$dir/initramfs.cpio.gz"; then
		echo "FAIL $kver: mkinitramfs.sh failed"
		F=$((F + 1))
		continue
	fi

	if [[ $MODE == run ]]; then
		mkdir -p "$out"
		rm -f "$out/results.log"
		"$HERE/boot.sh" "$kver" "$dir/initramfs.cpio.gz" run "$out" &
		boot=$!
		# tail exits once boot.sh has; it fails if the file came late.
		tail -n +1 -F --pid="$boot" "$out/results.log" 2>/dev/null || true
		wait "$boot" || exit
		grep -q '^VID-END rc=0' "$out/results.log" || exit 1
		continue
	fi

	start=$SECONDS
	"$HERE/boot.sh" "$kver" "$dir/initramfs.cpio.gz" "$MODE" "$out" || true
	echo "# $kver: booted in $((SECONDS - start)) s"
	"$HERE/parse-log.sh" "$out" "$kver" || true
	read -r p f s <"$out/counts"
	P=$((P + p)) F=$((F + f)) S=$((S + s))
done

[[ $MODE != run ]] || exit $((F > 0))
echo "$P passed, $F failed, $S skipped"
((F == 0))
