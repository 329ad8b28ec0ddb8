# run.sh — guest side of `make run` (the demo): load vid.ko, show the API,
# create a partition, shape it, deposit memory, initialize it, print its
# properties, delete it; then run a tiny guest that prints a greeting
# through port I/O (vidctl hello), and boot the stock kernel under vidvm
# (with VID_GUEST=1, as demo.sh builds it); unload vid.ko.
. /vid/lib.sh

step() { echo; echo "\$ $*"; "$@"; }

step insmod /lib/vid/vid.ko || exit 1
dmesg | grep 'vid:' | tail -1
step ls -l /dev/vid
step vidctl info
step vidctl create -n demo -p 4 -d 32 -i -s 1 || exit 1
step vidctl hello || exit 1
# The stock kernel this VM runs, as a child partition under vidvm: its
# console, its hv_vmbus and hv_utils on vid's VMBus, then a time sync
# and a shutdown requested through the integration services.
if [ -f /vid/guest/vmlinuz ]; then
	step vidvm --kernel /vid/guest/vmlinuz --initrd /vid/guest/initrd.cpio.gz \
		--mem 256 --cpus 2 --shutdown-after 15 \
		--cmdline "console=ttyS0 loglevel=5 vidvm.modules=1 vidvm.wait=1" ||
		exit 1
fi
step cat /sys/kernel/debug/vid/stats
step rmmod vid || exit 1
echo
echo "demo: done"
