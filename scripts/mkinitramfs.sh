#!/bin/bash
# mkinitramfs.sh KVER STAGE_DIR OUT.cpio.gz — build the test initramfs:
# static busybox (applet links made here), /init (guest-init), /vid/lib.sh
# (guest-lib.sh), /lib/vid/vid.ko, STAGE_DIR/bin -> /vid/bin, STAGE_DIR/modes
# -> /vid/modes, and KVER's kvm-amd plus its module dependencies,
# decompressed into /lib/kvm/ with /lib/kvm/load-order. No root needed.
# With VID_GUEST=1 it also carries vidvm's guest in /vid/guest/: KVER's own
# vmlinuz and the guest initramfs scripts/mkguest.sh builds; with
# VID_QEMU=1, QEMU in /vid/qemu/ (see below).
set -euo pipefail

[[ $# -eq 3 ]] || { echo "usage: $0 KVER STAGE_DIR OUT.cpio.gz" >&2; exit 2; }
KVER=$1 STAGE=$2 OUT=$3
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[[ -f $STAGE/vid.ko ]] || { echo "mkinitramfs: $STAGE/vid.ko missing" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
mkdir -p "$root"/{bin,dev,proc,sys,tmp,usr,lib/vid,lib/kvm,vid/bin,vid/modes}
ln -s bin "$root/sbin"
ln -s ../bin "$root/usr/bin"
ln -s ../bin "$root/usr/sbin"

cp /bin/busybox "$root/bin/busybox"
for applet in $(/bin/busybox --list); do
	[[ $applet == busybox ]] || ln -s busybox "$root/bin/$applet"
done

install -m 755 "$HERE/guest-init" "$root/init"
install -m 644 "$HERE/guest-lib.sh" "$root/vid/lib.sh"
install -m 644 "$STAGE/vid.ko" "$root/lib/vid/vid.ko"
for d in bin modes; do
	[[ ! -d $STAGE/$d ]] || cp -RL "$STAGE/$d/." "$root/vid/$d/"
done

if [[ ${VID_GUEST:-0} == 1 ]]; then
	mkdir -p "$root/vid/guest"
	cp "$("$HERE/kernels.sh" vmlinuz "$KVER")" "$root/vid/guest/vmlinuz"
	"$HERE/mkguest.sh" "$KVER" "$root/vid/guest/initrd.cpio.gz"
fi
# With VID_QEMU=1 (the bench's linux_boot) QEMU too, in /vid/qemu/: the
# binary, the shared libraries it links and microvm's firmware (qboot).
if [[ ${VID_QEMU:-0} == 1 ]]; then
	qemu=/usr/bin/qemu-system-x86_64
	mkdir -p "$root/vid/qemu"
	cp "$qemu" "$root/vid/qemu/"
	for f in bios-microvm.bin linuxboot_dma.bin pvh.bin; do
		cp -L "/usr/share/qemu/$f" "$root/vid/qemu/"
	done
	for lib in $(ldd "$qemu" | grep -o '/[^ ]*'); do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
fi

# kvm-amd and its dependencies (modinfo -F depends, recursively), deps first.
declare -A seen=()
add_module() {
	local dep path deps ko
	[[ -z ${seen[$1]:-} ]] || return 0
	seen[$1]=1
	deps=$(modinfo -k "$KVER" -F depends "$1")
	for dep in ${deps//,/ }; do add_module "$dep"; done
	path=$(modinfo -k "$KVER" -n "$1")
	ko=$(basename "$path")
	ko=${ko%.xz} ko=${ko%.zst} ko=${ko%.gz}
	case $path in
	*.xz) xz -dc "$path" ;;
	*.zst) zstd -qdc "$path" ;;
	*.gz) gzip -dc "$path" ;;
	*) cat "$path" ;;
	esac >"$root/lib/kvm/$ko"
	echo "$ko" >>"$root/lib/kvm/load-order"
}
add_module kvm-amd

# Reproducible-ish: fixed mtimes, owner 0:0, sorted names, gzip -n.
find "$root" -exec touch -h -d @0 {} +
mkdir -p "$(dirname "$OUT")"
(cd "$root" && find . -mindepth 1 -printf '%P\0' | LC_ALL=C sort -z |
	cpio --null -o -H newc -R 0:0 --reproducible --quiet) |
	gzip -n -6 >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
