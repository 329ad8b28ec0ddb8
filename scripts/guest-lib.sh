# shellcheck shell=sh
# guest-lib.sh — helpers for the guest mode scripts (busybox sh). Installed
# in the initramfs as /vid/lib.sh; a mode script does `. /vid/lib.sh`.
#   tap_ok NAME / tap_fail NAME / tap_skip NAME WHY   TAP lines, one counter
#   load_kvm [kvm.ko params] / unload_kvm             distro KVM modules
#   load_vid [params] / unload_vid                    vid.ko (prints VID-RMMOD)

VID_TAP_COUNT=/tmp/vid-tap.count
VID_KVM_DIR=/lib/kvm
VID_KO=/lib/vid/vid.ko

_tap_next() {
	_n=$(($(cat "$VID_TAP_COUNT" 2>/dev/null || echo 0) + 1))
	echo "$_n" >"$VID_TAP_COUNT"
	echo "$_n"
}
tap_ok() { echo "ok $(_tap_next) - $*"; }
tap_fail() { echo "not ok $(_tap_next) - $*"; }
tap_skip() { _name=$1; shift; echo "ok $(_tap_next) - $_name # SKIP $*"; }

# Module name as in /sys/module: kvm-amd.ko -> kvm_amd
_modname() { basename "$1" .ko | tr - _; }

# insmod irqbypass, kvm (with "$@"), ccp, kvm-amd in load-order order;
# modules already loaded are left alone. Stops at the first failure.
load_kvm() {
	while read -r _ko; do
		[ -d "/sys/module/$(_modname "$_ko")" ] && continue
		if [ "$_ko" = kvm.ko ]; then
			insmod "$VID_KVM_DIR/$_ko" "$@" || return 1
		else
			insmod "$VID_KVM_DIR/$_ko" || return 1
		fi
	done <"$VID_KVM_DIR/load-order"
}

# rmmod the KVM modules in reverse load order (those that are loaded).
unload_kvm() {
	_rc=0
	while read -r _ko; do
		_m=$(_modname "$_ko")
		[ -d "/sys/module/$_m" ] || continue
		rmmod "$_m" || _rc=1
	done <<-EOF
	$(tac "$VID_KVM_DIR/load-order")
	EOF
	return $_rc
}

load_vid() { insmod "$VID_KO" "$@"; }

unload_vid() {
	if rmmod vid; then
		echo "VID-RMMOD ok"
	else
		echo "VID-RMMOD fail"
		return 1
	fi
}
