# vmbus_bench.sh — guest side of `make bench`'s second boot: the VMBus
# ring benchmarks (tools/vmbus_bench.c), vid alone; the anchor is
# memcpy() in the same guest (KVM has no VMBus server).
#
# This boot runs multi-threaded TCG (scripts/bench.sh): the guest's VP
# writing a ring and the root's VSP reading it run at once on the two
# vCPUs, as on hardware. Single-threaded TCG runs one vCPU at a time,
# which makes the two copies take turns and caps the ratio near 0.5.
# The boot loads no KVM, whose static-key text patching is what makes
# multi-threaded TCG unsafe (scripts/boot.sh).
. /vid/lib.sh

load_vid || exit 1
vmbus_bench
rc=$?
unload_vid || rc=1
exit $rc
