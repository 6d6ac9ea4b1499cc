#!/usr/bin/env bash
# Runs a command under the restrictions a systemd unit file gives its
# service, as far as they can be had without a systemd PID 1 (the test
# machine has none): what systemd would do before exec, done by hand in a
# mount namespace of the command's own, then setpriv.
#   sandbox_exec.sh UNIT RW_PATHS [SETPRIV_OPTION...] -- CMD [ARGS...]
# RW_PATHS: colon-separated directories that stay writable (what the unit's
# RuntimeDirectory=, StateDirectory= and ReadWritePaths= make writable, at
# the test's own paths). SETPRIV_OPTIONs: the unit's User=/Group= as
# --reuid/--regid/--clear-groups/--groups. From the unit file it applies:
#   ProtectSystem=strict    every mount read-only except /dev, /proc, /sys
#   ProtectHome=yes         empty read-only tmpfs on /home, /root, /run/user
#   PrivateTmp=yes          empty tmpfs on /tmp and /var/tmp
#   PrivateDevices=yes      a /dev of null, zero, full, random, urandom, tty
#   ProtectKernelTunables=  /proc/sys and /sys read-only
#   ProtectProc=invisible, ProcSubset=pid   a proc mount with those options
#   CapabilityBoundingSet=  setpriv --bounding-set (and no inheritable caps)
#   NoNewPrivileges=yes     setpriv --no-new-privs
#   LimitMEMLOCK=           prlimit --memlock (before the capabilities go;
#                           where root may not raise it, the lower limit)
# SANDBOX_BPFFS=1 mounts a fresh bpffs on /sys/fs/bpf (the XDP guard's pins
# stay out of the machine's). Not applied here (checked otherwise by
# test_sandbox.sh, or not at all): SystemCallFilter= (the syscalls the
# command makes are traced and compared), RestrictAddressFamilies= (the
# same), the Protect*= options for clocks, logs, modules, cgroups and the
# hostname, RestrictNamespaces=, MemoryDenyWriteExecute=, LockPersonality=.
set -euo pipefail
[[ $# -ge 4 ]] || { echo "usage: $0 UNIT RW_PATHS [SETPRIV_OPTION...] -- CMD..." >&2; exit 2; }
if [[ ${MM_SANDBOX_NS:-} != 1 ]]; then
	export MM_SANDBOX_NS=1
	exec unshare --mount --propagation unchanged -- "$0" "$@"
fi
unset MM_SANDBOX_NS
unit=$1
rw=$2
shift 2
setpriv_opts=()
while [[ $# -gt 0 && $1 != -- ]]; do
	setpriv_opts+=("$1")
	shift
done
[[ ${1:-} == -- ]] || { echo "sandbox_exec: no -- before the command" >&2; exit 2; }
shift

# The last value of a key in the unit (systemd: the last wins), all read
# now: the unit file may be under /tmp, which PrivateTmp= hides below.
unit_value() { sed -n -E "s/^$1=(.*)/\\1/p" "$unit" | tail -n 1; }
declare -A opt
for k in ProtectSystem ProtectHome PrivateTmp PrivateDevices ProtectKernelTunables ProtectProc ProcSubset \
	CapabilityBoundingSet NoNewPrivileges LimitMEMLOCK; do
	opt[$k]=$(unit_value "$k")
done
yes() { [[ ${opt[$1]} =~ ^(yes|true|1|on|strict)$ ]]; }

mount --make-rprivate / 2>/dev/null || mount --make-rprivate /sys
# In a chroot "/" is no mount of its own and cannot be made read-only
# (test_sandbox.sh skips there): say so rather than half-apply the unit.
mountpoint -q / || { echo "sandbox_exec: / is not a mount point (a chroot)" >&2; exit 1; }

if [[ ${opt[ProtectSystem]} == strict ]]; then
	# Deepest last does not matter for remounts: each is a mount of its own.
	while read -r target fstype; do
		case $target in /dev | /dev/* | /proc | /proc/* | /sys | /sys/*) continue ;; esac
		[[ $fstype == nsfs ]] && continue
		mount -o remount,bind,ro "$target" 2>/dev/null ||
			{ echo "sandbox_exec: cannot make $target read-only" >&2; exit 1; }
	done < <(findmnt -rn -o TARGET,FSTYPE)
fi
if yes ProtectHome; then
	for d in /home /root /run/user; do
		[[ -d $d ]] && mount -t tmpfs -o ro,mode=0755 tmpfs "$d"
	done
fi
if yes PrivateDevices; then
	# Built on a scratch tmpfs (on /tmp, which gets a fresh one below or
	# loses this one's name when the namespace ends), then laid over /dev.
	mount -t tmpfs -o mode=0755 tmpfs /tmp
	mkdir /tmp/dev /tmp/dev/shm /tmp/dev/pts
	for n in null zero full random urandom tty; do
		touch "/tmp/dev/$n" && mount --bind "/dev/$n" "/tmp/dev/$n"
	done
	mount --rbind /tmp/dev /dev
	umount -l /tmp
fi
if yes PrivateTmp; then
	mount -t tmpfs -o mode=1777 tmpfs /tmp
	[[ -d /var/tmp ]] && mount -t tmpfs -o mode=1777 tmpfs /var/tmp
fi
# ProtectProc=invisible, ProcSubset=pid: a proc of the unit's own with
# hidepid=invisible (other users' processes are not there) and subset=pid
# (no /proc/meminfo, /proc/sys, ...).
procopts=
[[ ${opt[ProtectProc]} == invisible ]] && procopts+=,hidepid=invisible
[[ ${opt[ProcSubset]} == pid ]] && procopts+=,subset=pid
[[ -n $procopts ]] && mount -t proc -o "nosuid,nodev,noexec$procopts" proc /proc
if yes ProtectKernelTunables && [[ ${opt[ProcSubset]} != pid ]]; then
	mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys
fi
if yes ProtectKernelTunables; then
	mount -o remount,bind,ro /sys 2>/dev/null || { mount --bind /sys /sys && mount -o remount,bind,ro /sys; }
fi
if [[ ${SANDBOX_BPFFS:-0} == 1 ]]; then
	mount -t bpf -o mode=0700 bpf /sys/fs/bpf
fi
IFS=: read -r -a rw_dirs <<<"$rw"
for d in "${rw_dirs[@]}"; do
	[[ -n $d ]] || continue
	mount --bind "$d" "$d" && mount -o remount,bind,rw "$d"
done

# CapabilityBoundingSet=CAP_A CAP_B -> setpriv's -all,+a,+b ("" -> -all).
caps=-all
for c in ${opt[CapabilityBoundingSet]}; do
	c=${c#CAP_}
	caps+=",+${c,,}"
done
nnp=()
yes NoNewPrivileges && nnp=(--no-new-privs)
limits=()
if [[ -n ${opt[LimitMEMLOCK]} ]]; then
	m=${opt[LimitMEMLOCK]}
	[[ $m == infinity ]] && m=unlimited
	limits=(prlimit "--memlock=$m:$m")
	# Raising the hard limit needs CAP_SYS_RESOURCE, which some test
	# machines do not give even to root: then the command runs with the
	# limit it has (stricter than the unit's), and says so.
	if ! "${limits[@]}" true 2>/dev/null; then
		echo "sandbox_exec: LimitMEMLOCK=${opt[LimitMEMLOCK]} not applied (cannot raise" \
			"the limit here: no CAP_SYS_RESOURCE); running with $(ulimit -l) KiB" >&2
		limits=()
	fi
fi
exec "${limits[@]}" setpriv "${setpriv_opts[@]}" --bounding-set "$caps" --inh-caps -all "${nnp[@]}" -- "$@"
