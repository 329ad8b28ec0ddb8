#!/bin/bash
# mkguest.sh KVER OUT.cpio.gz — the initramfs of vidvm's Linux guest (the
# stock KVER kernel booted as a child partition): static busybox, an /init
# that prints the VIDVM-GUEST-UP marker (into the kernel log, so it reaches
# the console without the tty layer), optionally loads KVER's own Hyper-V
# drivers (guest command line vidvm.modules=1) and waits for the host's
# shutdown request (vidvm.wait=1), then powers off through ACPI. Modules hv_vmbus and hv_utils, decompressed, in /lib/hv/.
# With them, hyperv-daemons' hv_kvp_daemon (and the libraries it links)
# answers the host's KVP requests: hostname (vidguest, in /etc/hosts for
# its getaddrinfo) and the OS (/etc/os-release: this machine's).
set -euo pipefail

[[ $# -eq 2 ]] || { echo "usage: $0 KVER OUT.cpio.gz" >&2; exit 2; }
KVER=$1 OUT=$2

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
mkdir -p "$root"/{bin,dev,proc,sys,tmp,lib/hv,etc,var/lib/hyperv}
ln -s bin "$root/sbin"
cp /bin/busybox "$root/bin/busybox"
for applet in sh mount echo cat insmod lsmod dmesg grep sleep \
	uname nproc hostname date head ls tr sed; do
	ln -s busybox "$root/bin/$applet"
done
# hv_utils' shutdown runs /sbin/poweroff; busybox's would signal init
# (this /init is no busybox init), so power off directly.
printf '#!/bin/sh\nexec /bin/busybox poweroff -f\n' >"$root/bin/poweroff"
chmod 755 "$root/bin/poweroff"

# KVP: the daemon and what the dynamic loader needs for it.
kvpd=/usr/sbin/hv_kvp_daemon
[[ -x $kvpd ]] || { echo "$0: $kvpd missing (hyperv-daemons)" >&2; exit 1; }
cp "$kvpd" "$root/bin/hv_kvp_daemon"
for lib in $(ldd "$kvpd" | grep -o '/[^ ]*'); do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
cp -L /etc/os-release "$root/etc/os-release"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tvidguest\n' >"$root/etc/hosts"
echo 'hosts: files' >"$root/etc/nsswitch.conf"

for m in hv_vmbus hv_utils; do
	path=$(modinfo -k "$KVER" -n "$m")
	case $path in
	*.xz) xz -dc "$path" ;;
	*.zst) zstd -qdc "$path" ;;
	*.gz) gzip -dc "$path" ;;
	*) cat "$path" ;;
	esac >"$root/lib/hv/$m.ko"
done

cat >"$root/init" <<'INIT'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
say() { echo "$*" >/dev/kmsg; }
hostname vidguest

hv=no
dmesg | grep -q 'Hypervisor detected: Microsoft Hyper-V' && hv=yes
say "VIDVM-GUEST-UP cpus=$(nproc) kernel=$(uname -r) hyperv=$hv"
say "VIDVM-GUEST clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource) clockevent=$(cat /sys/devices/system/clockevents/clockevent0/current_device 2>/dev/null)"
wait=no
case " $(cat /proc/cmdline) " in *" vidvm.wait=1 "*) wait=yes ;; esac
case " $(cat /proc/cmdline) " in
*" vidvm.modules=1 "*)
	if [ $wait = yes ]; then
		# A wrong clock, for the host's time sync to correct.
		date -u -s '2000-01-01 00:00:00' >/dev/null
		say "VIDVM-GUEST clock-before=$(date +%s)"
	fi
	for m in hv_vmbus hv_utils; do
		if insmod /lib/hv/$m.ko; then
			say "VIDVM-GUEST insmod $m ok"
		else
			say "VIDVM-GUEST insmod $m failed"
		fi
	done
	# hv_utils makes /dev/vmbus/hv_kvp when the KVP channel is offered.
	i=0
	while [ ! -c /dev/vmbus/hv_kvp ] && [ $i -lt 50 ]; do
		sleep 0.2
		i=$((i + 1))
	done
	if [ -c /dev/vmbus/hv_kvp ]; then
		hv_kvp_daemon -n </dev/null >/dev/null 2>&1 &
		say "VIDVM-GUEST hv_kvp_daemon started"
	else
		say "VIDVM-GUEST no /dev/vmbus/hv_kvp"
	fi
	# Its clock every second from now on, to see the host's time sync.
	if [ $wait = yes ]; then
		while :; do
			sleep 1
			say "VIDVM-GUEST date=$(date +%s)"
		done &
	fi
	say "VIDVM-GUEST hostname=$(hostname)"
	say "VIDVM-GUEST osname=$(sed -n 's/^NAME=//p' /etc/os-release | tr -d '\"')"
	sleep 2
	say "VIDVM-GUEST vmbus devices: $(ls /sys/bus/vmbus/devices 2>/dev/null | head -20 | tr '\n' ' ')"
	# Their messages are pr_info: repeat them at the console's level.
	dmesg | grep -iE 'vmbus|hv_utils|hv_vmbus|Hyper-V' |
		while read -r l; do say "VIDVM-GUEST log: $l"; done
	;;
esac
# vidvm.wait=1: stay up for the host's shutdown request (hv_utils).
if [ $wait = yes ]; then
	say "VIDVM-GUEST waiting for the host's shutdown"
	sleep 600
fi
say "VIDVM-GUEST-DONE"
poweroff -f
INIT
chmod 755 "$root/init"

find "$root" -exec touch -h -d @0 {} +
mkdir -p "$(dirname "$OUT")"
(cd "$root" && find . -mindepth 1 -printf '%P\0' | LC_ALL=C sort -z |
	cpio --null -o -H newc -R 0:0 --reproducible --quiet) |
	gzip -n -6 >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
