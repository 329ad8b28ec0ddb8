#!/bin/bash
# kernels.sh — the target kernels: the newest installed Debian 6.1 kernel
# (package linux-image-amd64) and 6.12 kernel (linux-image-6.12-amd64).
# Source it for the vid_kernels/vid_kdir/vid_vmlinuz/vid_moddir functions,
# or run it:  kernels.sh list | kdir KVER | vmlinuz KVER | moddir KVER

VID_KERNEL_SERIES=(6.1 6.12)

# Newest installed stock amd64 KVER of a series ("6.1" -> 6.1.0-56-amd64).
vid_kver_of() {
	local f kvers=()
	for f in /boot/vmlinuz-"$1".*-amd64; do
		[[ -e $f ]] || continue
		case $f in *-rt-amd64 | *-cloud-amd64) continue ;; esac
		kvers+=("${f#/boot/vmlinuz-}")
	done
	((${#kvers[@]})) || return 1
	printf '%s\n' "${kvers[@]}" | sort -V | tail -n1
}

# One KVER per line, in VID_KERNEL_SERIES order; fails if one is missing.
vid_kernels() {
	local s
	for s in "${VID_KERNEL_SERIES[@]}"; do
		vid_kver_of "$s" || {
			echo "kernels.sh: no $s kernel in /boot (run scripts/deps.sh)" >&2
			return 1
		}
	done
}

vid_kdir() { _vid_need_dir "/usr/src/linux-headers-$1"; }
vid_moddir() { _vid_need_dir "/lib/modules/$1"; }
vid_vmlinuz() {
	[[ -r /boot/vmlinuz-$1 ]] || {
		echo "kernels.sh: /boot/vmlinuz-$1 missing or unreadable" >&2
		return 1
	}
	echo "/boot/vmlinuz-$1"
}
_vid_need_dir() {
	[[ -d $1 ]] || { echo "kernels.sh: $1 missing" >&2; return 1; }
	echo "$1"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -euo pipefail
	usage="usage: $0 list | kdir KVER | vmlinuz KVER | moddir KVER"
	case ${1:-} in
	list) vid_kernels ;;
	kdir | vmlinuz | moddir)
		[[ $# -eq 2 ]] || { echo "$usage" >&2; exit 2; }
		"vid_$1" "$2" ;;
	*) echo "$usage" >&2; exit 2 ;;
	esac
fi
