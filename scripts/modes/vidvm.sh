# vidvm.sh — guest side of `scripts/run-suite.sh vidvm`: boot the stock
# kernel this VM runs (/vid/guest/vmlinuz, the same file) as a child
# partition under vidvm with the guest initramfs (scripts/mkguest.sh), with
# 1 and with 2 VPs, and check that it reaches /init (the VIDVM-GUEST-UP
# marker), sees Hyper-V and every VP, and powers off through ACPI. Then
# a kernel vidvm must refuse, and a vidvm killed mid-boot leaving nothing.
. /vid/lib.sh

G=/vid/guest
CMDLINE="console=ttyS0 loglevel=6 panic=-1"
# A guest boot under nested TCG takes 30-120 s; the bound is for hangs.
BOOT_TIMEOUT=${vidvm_timeout:-400}

stat() {	# stat KEY — a value from vid's debugfs stats
	awk -v k="$1" '$1 == k { print $2 }' /sys/kernel/debug/vid/stats
}

boot() {	# boot CPUS LOG [extra cmdline] — run vidvm, output in LOG
	_cpus=$1 _log=$2
	shift 2
	timeout "$BOOT_TIMEOUT" vidvm --kernel $G/vmlinuz --initrd $G/initrd.cpio.gz \
		--mem 256 --cpus "$_cpus" --cmdline "$CMDLINE $*" >"$_log" 2>&1
	_rc=$?
	sed "s/^/# vp$_cpus: /" "$_log"
	return $_rc
}

expect() {	# expect NAME COMMAND...
	_name=$1
	shift
	if "$@"; then tap_ok "$_name"; else tap_fail "$_name"; fi
}

if [ ! -f $G/vmlinuz ] || [ ! -f $G/initrd.cpio.gz ]; then
	tap_skip "vidvm guest boot" "no guest kernel in the initramfs"
	exit 0
fi
load_vid || { tap_fail "insmod vid.ko"; exit 1; }

for cpus in 1 2; do
	log=/tmp/vidvm-$cpus.log
	start=$(cut -d. -f1 /proc/uptime)
	boot $cpus $log
	rc=$?
	echo "# vidvm --cpus $cpus: exit $rc after $(($(cut -d. -f1 /proc/uptime) - start)) s"
	expect "vidvm --cpus $cpus: guest reaches /init" grep -q VIDVM-GUEST-UP $log
	expect "vidvm --cpus $cpus: guest detects Hyper-V" \
		grep -q 'Hypervisor detected: Microsoft Hyper-V' $log
	expect "vidvm --cpus $cpus: guest sees $cpus CPUs" \
		grep -q "VIDVM-GUEST-UP cpus=$cpus " $log
	expect "vidvm --cpus $cpus: Hyper-V clocksource and stimer clockevents" \
		sh -c "grep -q 'clocksource=hyperv_clocksource' $log && grep -q 'clockevent=Hyper-V clockevent' $log"
	expect "vidvm --cpus $cpus: no kernel splat in the guest" \
		sh -c "! grep -qE 'WARNING: CPU:|BUG:|Oops|Call Trace|unchecked MSR|Kernel panic|bad frame' $log"
	expect "vidvm --cpus $cpus: guest powers off (exit 0)" \
		sh -c "[ $rc = 0 ] && grep -q 'vidvm: poweroff' $log"
	expect "vidvm --cpus $cpus: partition gone after exit" \
		sh -c '[ "$(stat partitions)" = 0 ]'
done

# Bad input: one line, nothing created.
head -c 65536 $G/vmlinuz >/tmp/trunc.bz
for bad in "--kernel /tmp/trunc.bz" "--kernel /init" "--kernel /nonexistent" \
	"--kernel $G/vmlinuz --mem 1" "--kernel $G/vmlinuz --cpus 0" \
	"--kernel $G/vmlinuz --mem 64 --initrd $G/vmlinuz"; do
	# shellcheck disable=SC2086
	out=$(vidvm $bad 2>&1)
	rc=$?
	expect "vidvm $bad: refused with one line" \
		sh -c "[ $rc != 0 ] && [ \$(echo '$out' | wc -l) = 1 ] && [ \"\$(stat partitions)\" = 0 ]"
done

# Killed mid-boot: the partition and its memory go with the process.
vidvm --kernel $G/vmlinuz --initrd $G/initrd.cpio.gz --mem 256 --cpus 2 \
	--cmdline "$CMDLINE" >/dev/null 2>&1 &
pid=$!
sleep 10
expect "vidvm mid-boot: partition exists" sh -c '[ "$(stat partitions)" = 1 ]'
kill -9 $pid
wait $pid 2>/dev/null
i=0
while [ "$(stat partitions)" != 0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
expect "vidvm SIGKILLed mid-boot: partition gone" sh -c '[ "$(stat partitions)" = 0 ]'
expect "vidvm SIGKILLed mid-boot: no pages or objects left" \
	sh -c '[ "$(stat pages)" = 0 ] && [ "$(stat objects)" = 0 ]'

unload_vid || exit 1
