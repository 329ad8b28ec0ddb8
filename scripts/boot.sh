#!/bin/bash
# boot.sh KVER INITRAMFS MODE OUTDIR [extra qemu args...] — boot KVER's
# stock kernel with INITRAMFS under QEMU TCG on an emulated AMD CPU with SVM.
# Kernel console -> OUTDIR/console.log (ttyS0), guest test output ->
# OUTDIR/results.log (ttyS1), QEMU's own stderr -> OUTDIR/qemu.log (shown
# only if QEMU fails: TCG warns about every EPYC feature it lacks).
# Env: VID_QEMU_CPU (default EPYC,+svm,+npt), VID_QEMU_ACCEL (default
# tcg,thread=single), VID_BOOT_TIMEOUT (seconds, default 600). Exit status:
# QEMU's (124 = timed out).
#
# Why thread=single: with multi-threaded TCG, kernel text patching done on
# one vCPU (static keys flipped by KVM_CREATE_VM and its teardown) is not
# reliably seen by the other vCPU: measured here, a few dozen
# KVM_CREATE_VM/close cycles froze 6.1 (soft lockups, IPIs never
# answered) and hit "Oops: int3" in __schedule on 6.12, with KVM alone.
# Single-threaded TCG runs 100 such cycles cleanly on both kernels.
set -euo pipefail

[[ $# -ge 4 ]] || {
	echo "usage: $0 KVER INITRAMFS MODE OUTDIR [qemu args...]" >&2
	exit 2
}
KVER=$1 INITRD=$2 MODE=$3 OUTDIR=$4
shift 4
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VMLINUZ=$("$HERE/kernels.sh" vmlinuz "$KVER")
TIMEOUT=${VID_BOOT_TIMEOUT:-600}

mkdir -p "$OUTDIR"
rm -f "$OUTDIR"/{console,results,qemu}.log
rc=0
timeout -k 10 "$TIMEOUT" qemu-system-x86_64 \
	-accel "${VID_QEMU_ACCEL:-tcg,thread=single}" -cpu "${VID_QEMU_CPU:-EPYC,+svm,+npt}" -smp 2 -m 2048 \
	-kernel "$VMLINUZ" -initrd "$INITRD" \
	-append "console=ttyS0 loglevel=7 panic=-1 vidmode=$MODE vidkver=$KVER${VID_TESTS:+ vidtests=$VID_TESTS}" \
	-display none -monitor none -nic none -no-reboot \
	-serial "file:$OUTDIR/console.log" -serial "file:$OUTDIR/results.log" \
	"$@" 2>"$OUTDIR/qemu.log" || rc=$?
if [[ $rc -eq 124 || $rc -eq 137 ]]; then
	echo "QEMU timed out after ${TIMEOUT}s ($KVER, mode $MODE)"
elif [[ $rc -ne 0 ]]; then
	cat "$OUTDIR/qemu.log" >&2
	echo "QEMU failed with status $rc ($KVER, mode $MODE)"
fi
exit "$rc"
