#!/usr/bin/env bash
# The XDP guard's integration tests on the test site. Runs inside
# "mmsite run" (on_site.sh) as a wrapper of the test command:
#  1. in a mount namespace of its own with a fresh bpffs on /sys/fs/bpf:
#     DPDK's xdp_prog= loader pins the guard's maps under /sys/fs/bpf, and a
#     private bpffs keeps them apart from any other guard on this machine
#     (they go away with the namespace); mmdp and the test share it;
#  2. with mmdp's addresses on the kernel side of dp0: with the guard, ARP,
#     neighbour solicitations and every non-media packet go to the kernel,
#     which answers for mmdp's addresses only if it has them
#     (docs/xdp-guard.md, "ARP and ND").
#   guard_site.sh CMD [ARGS...]
set -euo pipefail
if [[ ${MMX_GUARD_MOUNTNS:-} != 1 ]]; then
	command -v unshare >/dev/null || { echo "SKIP: unshare is not installed"; exit 77; }
	export MMX_GUARD_MOUNTNS=1
	# "unchanged", then private below: "unshare --propagation private"
	# makes / private, which fails where / is no mount point (a chroot,
	# as on a fresh Debian root built with debootstrap).
	exec unshare --mount --propagation unchanged -- "$0" "$@"
fi
: "${MMSITE_DP_NS:?run under tools/mmsite run}"
# Nothing mounted here may reach the machine's own mount table.
mount --make-rprivate / 2>/dev/null || mount --make-rprivate /sys
mount -t bpf bpf /sys/fs/bpf
dp() { nsenter --net="/run/netns/$MMSITE_DP_NS" -- "$@"; }
dp ip link set dev "$MMSITE_DP_IF" xdp off 2>/dev/null || true
dp sysctl -qw "net.ipv6.conf.$MMSITE_DP_IF.disable_ipv6=0"
dp ip addr replace "$MMSITE_DP_IP4/15" dev "$MMSITE_DP_IF"
dp ip -6 addr replace "$MMSITE_DP_IP6/48" dev "$MMSITE_DP_IF" nodad
exec "$@"
