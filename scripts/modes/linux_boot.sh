# linux_boot.sh — the linux_boot benchmark (run by bench.sh, or alone as
# the linux_boot mode): boot-to-init time of the stock kernel and the
# guest initramfs (/vid/guest, scripts/mkguest.sh) under vidvm against
# QEMU's microvm on KVM (/vid/qemu, carried by mkinitramfs.sh's
# VID_QEMU=1), one VP and 256 MiB each, the same command line. A round
# is the wall time from starting the VMM to the VIDVM-GUEST-UP marker
# the guest's /init prints on its serial console; then the VMM is
# killed. Rounds interleave (vid, KVM, vid, KVM, ...).
#
# QEMU's guest gets -cpu host without KVM's PV EOI (-kvm-pv-eoi): with it,
# on this nested KVM (kvm_amd on QEMU TCG's SVM) a timer interrupt arrives
# inside the timer handler, interrupts off, and the guest spins forever on
# the hrtimer or runqueue lock that handler holds (QEMU monitor: RIP in
# native_queued_spin_lock_slowpath on the IRQ stack, RFLAGS.IF=0), 35-45 s
# into every boot, with or without THP, -mem-prealloc, npt, x2apic or the
# TSC deadline timer. Without PV EOI the guest EOIs through the x2APIC MSR
# and boots; the other KVM paravirt features stay on.
. /vid/lib.sh

G=/vid/guest Q=/vid/qemu
ROUNDS=${linux_boot_rounds:-3}
LIMIT=600	# seconds a boot may take before the round is a failure
CMDLINE="console=ttyS0 loglevel=5 panic=-1"

if [ ! -f $G/vmlinuz ] || [ ! -x $Q/qemu-system-x86_64 ]; then
	echo "# linux_boot: no guest or no QEMU in this initramfs, skipped"
	exit 0
fi

loaded=
if [ ! -d /sys/module/vid ]; then
	load_vid || exit 1
	loaded="$loaded vid"
fi
if [ ! -d /sys/module/kvm_amd ]; then
	case $(uname -r) in
	6.1.*) load_kvm || exit 1 ;;
	*) load_kvm enable_virt_at_load=0 || exit 1 ;;
	esac
	loaded="$loaded kvm"
fi

now() { cut -d' ' -f1 /proc/uptime; }

# round WHO LOG — boot once, print the seconds to the marker (or nothing)
round() {
	_log=$2
	rm -f "$_log"
	: >"$_log"
	_t0=$(now)
	if [ "$1" = vid ]; then
		vidvm --kernel $G/vmlinuz --initrd $G/initrd.cpio.gz --mem 256 \
			--cpus 1 --cmdline "$CMDLINE" >"$_log" 2>&1 &
	else
		$Q/qemu-system-x86_64 -M microvm -accel kvm -cpu host,-kvm-pv-eoi \
			-m 256 -smp 1 -nodefaults -no-user-config -display none -L $Q \
			-bios $Q/bios-microvm.bin -serial "file:$_log" \
			-kernel $G/vmlinuz -initrd $G/initrd.cpio.gz \
			-append "$CMDLINE" >/dev/null 2>"$_log.err" &
	fi
	_pid=$!
	_t=
	while kill -0 $_pid 2>/dev/null; do
		if grep -q VIDVM-GUEST-UP "$_log"; then
			_t=$(now)
			break
		fi
		[ "$(awk -v a="$(now)" -v b="$_t0" 'BEGIN { print (a - b > '$LIMIT') }')" = 1 ] && break
		sleep 0.1
	done
	kill $_pid 2>/dev/null
	wait $_pid 2>/dev/null
	[ -n "$_t" ] && awk -v a="$_t" -v b="$_t0" 'BEGIN { printf "%.2f\n", a - b }'
}

vid_times='' kvm_times='' ratios='' failed=''
i=0
while [ $i -lt "$ROUNDS" ]; do
	v=$(round vid /tmp/lb-vid.log)
	k=$(round kvm /tmp/lb-kvm.log)
	echo "# linux_boot round $i: vid ${v:-failed} s, KVM ${k:-failed} s"
	if [ -z "$v" ] || [ -z "$k" ]; then
		[ -z "$v" ] && sed 's/^/# linux_boot vid: /' /tmp/lb-vid.log | tail -20
		[ -z "$k" ] && cat /tmp/lb-kvm.log.err /tmp/lb-kvm.log |
			sed "s/^/# linux_boot KVM: /" | tail -40
		failed=1
		break
	fi
	vid_times="$vid_times $v" kvm_times="$kvm_times $k"
	ratios="$ratios $(awk -v a="$v" -v b="$k" 'BEGIN { printf "%.3f", a / b }')"
	i=$((i + 1))
done

median() { echo "$*" | tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
rc=0
if [ -n "$failed" ]; then
	echo "# linux_boot: a boot did not reach the marker; no BENCH line"
	rc=1
else
	lo=$(echo "$ratios" | tr ' ' '\n' | grep . | sort -n | head -1)
	hi=$(echo "$ratios" | tr ' ' '\n' | grep . | sort -n | tail -1)
	echo "BENCH linux_boot vid=$(median "$vid_times")s anchor=$(median "$kvm_times")s ratio=$(median "$ratios") spread=$lo-$hi"
fi
case $loaded in *kvm*) unload_kvm || rc=1 ;; esac
case $loaded in *vid*) unload_vid || rc=1 ;; esac
exit $rc
