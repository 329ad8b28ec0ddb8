# bench.sh — guest side of `make bench`: vid and the distro's KVM loaded
# side by side (KVM enabling SVM only while one of its VMs exists), then
# vidbench interleaves their rounds and prints BENCH lines.
. /vid/lib.sh

# kmem_per_vp reads the memory cgroup vidbench runs in (vid and KVM both
# charge their VM allocations to the caller's): cgroup2 with the memory
# controller, vidbench alone in a child group (it adds a sibling,
# vidbench-drain, for exact readings). Without it vidbench says "no memcg".
CG=/sys/fs/cgroup
setup_cgroup() {
	[ -f $CG/cgroup.controllers ] || mount -t cgroup2 none $CG || return 1
	echo +memory >$CG/cgroup.subtree_control || return 1
	mkdir -p $CG/vidbench
}

case $(uname -r) in
6.1.*) load_kvm || exit 1 ;;
*) load_kvm enable_virt_at_load=0 || exit 1 ;;
esac
load_vid || exit 1
if setup_cgroup; then
	# shellcheck disable=SC2016
	sh -c 'echo $$ >'$CG'/vidbench/cgroup.procs && exec vidbench'
	rc=$?
	rmdir $CG/vidbench $CG/vidbench-drain 2>/dev/null
else
	echo "# bench: no memory cgroup"
	vidbench
	rc=$?
fi
# The VMBus ring benchmarks run in a boot of their own
# (modes/vmbus_bench.sh).
# Boot-to-init of the stock kernel: vidvm against QEMU microvm on KVM.
# It says why when a boot misses its marker (no BENCH line then).
sh /vid/modes/linux_boot.sh || echo "# linux_boot: failed"
unload_vid || rc=1
unload_kvm || rc=1
exit $rc
