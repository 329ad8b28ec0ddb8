# check.sh — guest side of `make check`: load vid.ko, run every kselftest
# binary, exercise ownership of SVM against the distro's KVM in both
# directions, kill a VMM holding a partition, then rmmod vid.
. /vid/lib.sh

stat() {	# stat KEY — a value from vid's debugfs stats
	awk -v k="$1" '$1 == k { print $2 }' /sys/kernel/debug/vid/stats
}

# wait_stat KEY VALUE — poll until a stat has VALUE (5 s at most): the
# kernel work a change depends on (a dying VMM's fput, a CPU coming up)
# need not be finished when the shell gets control back.
wait_stat() {
	_i=0
	while [ "$(stat "$1")" != "$2" ] && [ $_i -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	[ "$(stat "$1")" = "$2" ]
}

expect() {	# expect NAME COMMAND... — a TAP line for a shell-level check
	_name=$1
	shift
	if "$@"; then tap_ok "$_name"; else tap_fail "$_name"; fi
}

# A few huge pages, so the hugetlbfs mapping tests run instead of skipping.
echo 8 >/proc/sys/vm/nr_hugepages 2>/dev/null

if ! load_vid; then
	tap_fail "insmod vid.ko"
	exit 1
fi
tap_ok "insmod vid.ko"
expect "/dev/vid is a root-only char device" \
	sh -c '[ -c /dev/vid ] && [ "$(stat -c %a /dev/vid)" = 600 ]'
expect "virtualization off while no partition exists" [ "$(stat virt_cpus)" = 0 ]

for t in /vid/bin/vid_*_test; do
	case $t in *virt_owner*) continue ;; esac
	# VID_TESTS=a,b (boot.sh: vidtests=) runs only those binaries.
	if [ -n "${vidtests:-}" ]; then
		case ",$vidtests," in *",${t##*/},"*) ;; *) continue ;; esac
	fi
	echo "# ---- $t"
	"$t"
done

# A VMM killed with SIGKILL while it holds a partition leaves nothing.
vidctl create -n doomed -p 4 -d 64 -i -s 600 >/dev/null &
holder=$!
expect "partition alive while its VMM runs" wait_stat partitions 1
expect "virtualization on, on every CPU, while a partition exists" \
	[ "$(stat virt_cpus)" = "$(grep -c ^processor /proc/cpuinfo)" ]
# CPU hotplug while a partition exists: an offlined CPU gives SVM up, an
# onlined one gets it (the hotplug callback), so virt_cpus follows.
cpu1=/sys/devices/system/cpu/cpu1/online
if [ -w $cpu1 ]; then
	echo 0 >$cpu1
	expect "CPU offline: SVM off there" wait_stat virt_cpus 1
	echo 1 >$cpu1
	expect "CPU online: SVM on there" wait_stat virt_cpus 2
else
	tap_skip "CPU hotplug" "no $cpu1"
fi

kill -9 $holder
wait $holder 2>/dev/null
expect "SIGKILLed VMM: partition gone" wait_stat partitions 0
expect "SIGKILLed VMM: no pages or objects left" \
	sh -c '[ "$(awk "\$1==\"pages\"{print \$2}" /sys/kernel/debug/vid/stats)" = 0 ] && [ "$(awk "\$1==\"objects\"{print \$2}" /sys/kernel/debug/vid/stats)" = 0 ]'
expect "SIGKILLed VMM: virtualization off again" [ "$(stat virt_cpus)" = 0 ]

# The world-switch floor (a bare VMRUN/VMMCALL/#VMEXIT loop in the kernel)
# runs only while virtualization is on, i.e. while a partition exists.
vidctl create -n floor -s 600 >/dev/null &
holder=$!
wait_stat partitions 1
expect "world-switch floor measures while a partition exists" \
	grep -q '^world_switch_ns [1-9]' /sys/kernel/debug/vid/floor
kill -9 $holder
wait $holder 2>/dev/null
wait_stat partitions 0
expect "world-switch floor refused with no partition" \
	sh -c '! cat /sys/kernel/debug/vid/floor >/dev/null 2>&1'

# SVM ownership against the distro's KVM.
case $(uname -r) in
6.1.*)
	echo "# ---- kvm_amd (enables SVM only while a VM exists)"
	if load_kvm; then
		vid_virt_owner_test
		expect "rmmod kvm" unload_kvm
	else
		tap_fail "load distro kvm_amd"
	fi
	;;
*)
	echo "# ---- kvm_amd enable_virt_at_load=0 (SVM only while a VM exists)"
	if load_kvm enable_virt_at_load=0; then
		vid_virt_owner_test
		expect "rmmod kvm" unload_kvm
	else
		tap_fail "load distro kvm_amd enable_virt_at_load=0"
	fi

	echo "# ---- kvm_amd default: SVM on from module load"
	if load_kvm; then
		VID_EXPECT_FOREIGN=1 vid_virt_owner_test
		expect "rmmod kvm" unload_kvm
	else
		tap_fail "load distro kvm_amd (default)"
	fi

	echo "# ---- kvm_amd loaded while vid owns SVM"
	vidctl create -n owner -s 600 >/dev/null &
	holder=$!
	wait_stat partitions 1
	dmesg -c >/dev/null
	if load_kvm 2>/dev/null; then
		tap_fail "kvm_amd refuses to load while vid owns SVM"
	else
		expect "kvm_amd refuses to load while vid owns SVM" \
			sh -c 'dmesg | grep -q "kvm: enabling virtualization on CPU[0-9]* failed"'
	fi
	kill -9 $holder
	wait $holder 2>/dev/null
	wait_stat partitions 0
	unload_kvm
	expect "kvm_amd loads once vid released SVM" load_kvm
	expect "rmmod kvm" unload_kvm
	;;
esac

expect "no partition left before rmmod" [ "$(stat partitions)" = 0 ]
unload_vid || exit 1
