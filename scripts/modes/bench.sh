# bench.sh — guest side of `make bench`: vid and the distro's KVM loaded
# side by side (KVM enabling SVM only while one of its VMs exists), then
# vidbench interleaves their rounds and prints BENCH lines.
. /vid/lib.sh

case $(uname -r) in
6.1.*) load_kvm || exit 1 ;;
*) load_kvm enable_virt_at_load=0 || exit 1 ;;
esac
load_vid || exit 1
vidbench
rc=$?
unload_vid || rc=1
unload_kvm || rc=1
exit $rc
