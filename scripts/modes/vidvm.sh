# vidvm.sh — guest side of `scripts/run-suite.sh vidvm`: boot the stock
# kernel this VM runs (/vid/guest/vmlinuz, the same file) as a child
# partition under vidvm with the guest initramfs (scripts/mkguest.sh), with
# 1 and with 2 VPs, and check that it reaches /init (the VIDVM-GUEST-UP
# marker), sees Hyper-V and every VP, and powers off through ACPI. Then
# a kernel vidvm must refuse, and a vidvm killed mid-boot leaving nothing.
. /vid/lib.sh

G=/vid/guest
CMDLINE="console=ttyS0 loglevel=5 panic=-1"
# A guest boot under nested TCG takes 30-120 s; the bound is for hangs.
BOOT_TIMEOUT=${vidvm_timeout:-400}

vstat() {	# vstat KEY — a value from vid's debugfs stats
	awk -v k="$1" '$1 == k { print $2 }' /sys/kernel/debug/vid/stats
}

partitions_are() { [ "$(vstat partitions)" = "$1" ]; }

nothing_left() {
	[ "$(vstat partitions)" = 0 ] && [ "$(vstat pages)" = 0 ] &&
		[ "$(vstat objects)" = 0 ]
}

# refused RC OUTPUT — failed, one line of output, nothing created
refused() {
	[ "$1" != 0 ] && [ "$(printf '%s\n' "$2" | wc -l)" = 1 ] &&
		partitions_are 0
}

boot() {	# boot CPUS LOG [extra cmdline] — run vidvm, output in LOG
	_cpus=$1 _log=$2
	shift 2
	# shellcheck disable=SC2086
	timeout "$BOOT_TIMEOUT" vidvm --kernel $G/vmlinuz --initrd $G/initrd.cpio.gz \
		--mem 256 --cpus "$_cpus" --cmdline "$CMDLINE $*" \
		${VIDVM_ARGS:-} >"$_log" 2>&1
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
		grep -q 'VIDVM-GUEST-UP .* hyperv=yes' $log
	expect "vidvm --cpus $cpus: guest sees $cpus CPUs" \
		grep -q "VIDVM-GUEST-UP cpus=$cpus " $log
	expect "vidvm --cpus $cpus: Hyper-V clocksource and stimer clockevents" \
		sh -c "grep -q 'clocksource=hyperv_clocksource' $log && grep -q 'clockevent=Hyper-V clockevent' $log"
	expect "vidvm --cpus $cpus: no kernel splat in the guest" \
		sh -c "! grep -qE 'WARNING: CPU:|BUG:|Oops|Call Trace|unchecked MSR|Kernel panic|bad frame' $log"
	expect "vidvm --cpus $cpus: guest powers off (exit 0)" \
		sh -c "[ $rc = 0 ] && grep -q 'vidvm: poweroff' $log"
	expect "vidvm --cpus $cpus: nothing left after exit" nothing_left
done

# The guest's own Hyper-V drivers against vid's VMBus server.
log=/tmp/vidvm-vmbus.log
boot 2 $log vidvm.modules=1
rc=$?
echo "# vidvm with hv_vmbus: exit $rc"
expect "vidvm: guest loads hv_vmbus" grep -q 'VIDVM-GUEST insmod hv_vmbus ok' $log
expect "vidvm: guest's hv_vmbus negotiates a VMBus version" \
	grep -q 'Vmbus version:' $log
expect "vidvm: guest loads hv_utils" grep -q 'VIDVM-GUEST insmod hv_utils ok' $log
expect "vidvm: no Hyper-V driver errors in the guest" \
	sh -c "! grep -qiE 'VIDVM-GUEST log:.*(fail|error|unable|timed out|WARNING: CPU)' $log"
expect "vidvm: guest powers off after loading them (exit 0)" [ $rc = 0 ]

# The integration services: vidvm asks the guest for a time sync and
# then to shut down; its hv_utils powers it off.
log=/tmp/vidvm-ic.log
VIDVM_ARGS="--shutdown-after 15" boot 2 $log vidvm.modules=1 vidvm.wait=1
rc=$?
now=$(date +%s)
echo "# vidvm --shutdown-after: exit $rc"
expect "vidvm: heartbeat, shutdown and timesync negotiated with the guest" \
	sh -c "[ \$(grep -cE '^(heartbeat|shutdown|timesync): ready ' $log) = 3 ]"
expect "vidvm: the guest accepts a time sync" grep -q 'vidvm: timesync: ok' $log
# KVP: hv_kvp_daemon's answers are what the guest says of itself.
ghost=$(sed -n 's/.*VIDVM-GUEST hostname=//p' $log | tr -d '\r' | head -1)
gos=$(sed -n 's/.*VIDVM-GUEST osname=//p' $log | tr -d '\r' | head -1)
echo "# guest: hostname '$ghost', OS '$gos'"
expect "vidvm: KVP returns the guest's hostname" \
	sh -c "[ -n '$ghost' ] && grep -qxF 'vidvm: kvp FullyQualifiedDomainName=$ghost' $log"
expect "vidvm: KVP returns the guest's OS name" \
	sh -c "[ -n '$gos' ] && grep -qxF 'vidvm: kvp OSName=$gos' $log"
beats=$(sed -n 's/^vidvm: heartbeat: beats \([0-9]*\) .*/\1/p' $log | tr '\n' ' ')
echo "# heartbeats counted: $beats"
expect "vidvm: heartbeats keep arriving" \
	sh -c "set -- $beats; [ \$# = 2 ] && [ \$2 -gt \$1 ]"
# The guest set its clock to 2000-01-01; after the sync it is the host's.
before=$(sed -n 's/.*VIDVM-GUEST clock-before=\([0-9]*\).*/\1/p' $log | head -1)
after=$(sed -n 's/.*VIDVM-GUEST date=\([0-9]*\).*/\1/p' $log | tail -1)
echo "# guest clock: $before before, $after last; host $now"
expect "vidvm: timesync set the guest's wrong clock to the host's" \
	sh -c "[ -n '$before' ] && [ -n '$after' ] && [ $now -gt \$(($before + 86400)) ] && [ \$(($now - ${after:-0})) -ge -5 ] && [ \$(($now - ${after:-0})) -le 120 ]"
expect "vidvm: the guest accepts the shutdown request" \
	grep -q 'vidvm: shutdown request: accepted' $log
expect "vidvm: the guest powers off on the host's request (exit 0)" \
	sh -c "[ $rc = 0 ] && grep -q 'vidvm: poweroff' $log && ! grep -q 'VIDVM-GUEST-DONE' $log"

# Bad input: one line, nothing created.
head -c 65536 $G/vmlinuz >/tmp/trunc.bz
truncate -s 200M /tmp/huge.img	# sparse: larger than the guest's RAM
for bad in "--kernel /tmp/trunc.bz" "--kernel /init" "--kernel /nonexistent" \
	"--kernel $G/vmlinuz --mem 1" "--kernel $G/vmlinuz --cpus 0" \
	"--kernel $G/vmlinuz --cpus 65" "--kernel $G/vmlinuz --mem 64" \
	"--kernel $G/vmlinuz --mem 128 --initrd /tmp/huge.img"; do
	# shellcheck disable=SC2086
	out=$(vidvm $bad 2>&1)
	rc=$?
	echo "# vidvm $bad: $out"
	expect "vidvm $bad: refused with one line" refused "$rc" "$out"
done

# Killed mid-boot: the partition and its memory go with the process.
vidvm --kernel $G/vmlinuz --initrd $G/initrd.cpio.gz --mem 256 --cpus 2 \
	--cmdline "$CMDLINE" >/dev/null 2>&1 &
pid=$!
sleep 10
expect "vidvm mid-boot: partition exists" partitions_are 1
kill -9 $pid
wait $pid 2>/dev/null
i=0
while ! partitions_are 0 && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
expect "vidvm SIGKILLed mid-boot: partition, pages and objects gone" nothing_left

unload_vid || exit 1
