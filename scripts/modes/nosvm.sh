# nosvm.sh — guest side: booted on a CPU without SVM, vid.ko must refuse
# to load with -ENODEV and say why in one log line.
. /vid/lib.sh

if out=$(load_vid 2>&1); then
	tap_fail "insmod refused without SVM (it loaded)"
	rmmod vid
	exit 1
fi
case $out in
*"No such device"*) tap_ok "insmod fails with ENODEV without SVM" ;;
*) tap_fail "insmod fails with ENODEV without SVM (got: $out)" ;;
esac
if dmesg | grep -q 'vid: CPU has no hardware virtualization'; then
	tap_ok "one clear log line names the missing feature"
else
	tap_fail "one clear log line names the missing feature"
fi
[ -e /dev/vid ] && tap_fail "no /dev/vid left behind" || tap_ok "no /dev/vid left behind"
