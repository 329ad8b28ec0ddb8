# run.sh — guest side of `make run` (the demo): load vid.ko, show the API,
# create a partition, shape it, deposit memory, initialize it, print its
# properties, delete it; then run a tiny guest that prints a greeting
# through port I/O (vidctl hello); unload vid.ko.
. /vid/lib.sh

step() { echo; echo "\$ $*"; "$@"; }

step insmod /lib/vid/vid.ko || exit 1
dmesg | grep 'vid:' | tail -1
step ls -l /dev/vid
step vidctl info
step vidctl create -n demo -p 4 -d 32 -i -s 1 || exit 1
step vidctl hello || exit 1
step cat /sys/kernel/debug/vid/stats
step rmmod vid || exit 1
echo
echo "demo: done"
