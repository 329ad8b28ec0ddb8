# check.sh — guest side of `make check`: load vid.ko, run every kselftest
# binary, exercise ownership of SVM against the distro's KVM in both
# directions, kill a VMM holding a partition, then rmmod vid.
. /vid/lib.sh

stat() {	# stat KEY — a value from vid's debugfs stats
	awk -v k="$1" '$1 == k { print $2 }' /sys/kernel/debug/vid/stats
}

expect() {	# expect NAME COMMAND... — a TAP line for a shell-level check
	_name=$1
	shift
	if "$@"; then tap_ok "$_name"; else tap_fail "$_name"; fi
}

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
	echo "# ---- $t"
	"$t"
done

# A VMM killed with SIGKILL while it holds a partition leaves nothing.
vidctl create -n doomed -p 4 -d 64 -i -s 600 >/dev/null &
holder=$!
i=0
while [ "$(stat partitions)" != 1 ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
expect "partition alive while its VMM runs" [ "$(stat partitions)" = 1 ]
expect "virtualization on, on every CPU, while a partition exists" \
	[ "$(stat virt_cpus)" = "$(grep -c ^processor /proc/cpuinfo)" ]
kill -9 $holder
wait $holder 2>/dev/null
expect "SIGKILLed VMM: partition gone" [ "$(stat partitions)" = 0 ]
expect "SIGKILLed VMM: no pages or objects left" \
	sh -c '[ "$(awk "\$1==\"pages\"{print \$2}" /sys/kernel/debug/vid/stats)" = 0 ] && [ "$(awk "\$1==\"objects\"{print \$2}" /sys/kernel/debug/vid/stats)" = 0 ]'
expect "SIGKILLed VMM: virtualization off again" [ "$(stat virt_cpus)" = 0 ]

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
	i=0
	while [ "$(stat partitions)" != 1 ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if load_kvm 2>/tmp/kvm.err; then
		tap_fail "kvm_amd refuses to load while vid owns SVM"
	else
		expect "kvm_amd refuses to load while vid owns SVM" \
			grep -q 'busy' /tmp/kvm.err
	fi
	kill -9 $holder
	wait $holder 2>/dev/null
	unload_kvm
	expect "kvm_amd loads once vid released SVM" load_kvm
	expect "rmmod kvm" unload_kvm
	;;
esac

expect "no partition left before rmmod" [ "$(stat partitions)" = 0 ]
unload_vid || exit 1
