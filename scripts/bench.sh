#!/bin/bash
# bench.sh — `make bench`: the native VMBus ring benchmark on this
# machine (tools/ring_bench.c), then build, boot the stock 6.1 kernel under
# QEMU TCG and run the side-by-side vid/KVM benchmarks
# (scripts/modes/bench.sh), then the VMBus ring benchmarks in a second
# boot (scripts/modes/vmbus_bench.sh). Prints the BENCH lines (format in
# ../shared/docs/DESIGN.md).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
scripts/deps.sh
make -s build/bench/ring_bench
build/bench/ring_bench >build/bench/ring_bench.log
grep -E '^BENCH|of their CPUs' build/bench/ring_bench.log
scripts/build-stage.sh >/dev/null || { scripts/build-stage.sh; exit 1; }
kver=$(scripts/kernels.sh list | sed -n 1p)
# boot MODE: run the guest-side MODE (scripts/modes/MODE.sh) on $kver,
# print its BENCH and FLOOR lines; fail on a bad run or no BENCH line.
boot() {
	local out=build/$kver/run-$1

	VID_BOOT_TIMEOUT=${VID_BOOT_TIMEOUT:-2400} \
		scripts/run-suite.sh "$1" "$kver" >/dev/null || true
	grep -h '^BENCH\|^FLOOR' "$out/results.log" || true
	scripts/parse-log.sh "$out" "$1 $kver" >/dev/null || {
		scripts/parse-log.sh "$out" "$1 $kver"
		exit 1
	}
	grep -q '^BENCH' "$out/results.log"
}

# linux_boot needs the guest and QEMU in the initramfs; its boots take
# minutes under TCG.
VID_GUEST=1 VID_QEMU=1 boot bench
# The VMBus ring benchmarks: a second boot, with multi-threaded TCG so
# the guest's VP and the root's VSP run at once (modes/vmbus_bench.sh).
VID_QEMU_ACCEL=tcg,thread=multi boot vmbus_bench
