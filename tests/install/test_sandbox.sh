#!/usr/bin/env bash
# mmdp and mmctld under their systemd units' restrictions, on the test site
# (prefix mmk9-), with media through both. There is no systemd PID 1 on the
# test machine, so sandbox_exec.sh applies the units' options by hand (see
# there for which and how); what it cannot apply is checked by tracing:
#  1. mmdp, as its unit runs it: root with only the unit's
#     CapabilityBoundingSet, no_new_privs, group 65534 (the unit's mmdp),
#     every mount read-only but /dev, /proc, /sys and its two runtime
#     directories, private /tmp, no /home; EAL with --file-prefix (runtime
#     files, as for telemetry and dumpcap), the XDP guard loaded by the
#     AF_XDP port. Its capabilities and no_new_privs are read back from
#     /proc, and / is seen read-only from inside.
#  2. mmload through mmdp's agent socket: 2 rooms x 3, audio + video, SRTP:
#     no loss, no misdelivery.
#  3. mmctld, as its unit runs it: user and group 65534 (the unit's mmctld)
#     with no capability, no_new_privs, read-only everything but its state
#     directory, private /dev and /tmp, read-only /proc/sys and /sys; an
#     operator token made the same way; the meeting page served; mmload
#     through mmctld's API (joins, keys, a mute) and mmdp.
#  4. every system call mmctld made is allowed by its unit's
#     SystemCallFilter= (as systemd-analyze expands the groups), and every
#     socket family either daemon opened is in its unit's
#     RestrictAddressFamilies= (strace).
# Environment (tests/install/meson.build): MMDP_BIN MMCTLD_BIN MMLOAD_BIN
# GUARD_OBJ MMDP_UNIT MMCTLD_UNIT WWW_DIR; inside "mmsite run".
set -euo pipefail
TEST_NAME=sandbox
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../integration/lib.sh
source "$HERE/../integration/lib.sh"
FAILS=0
ok() { echo "   ok: $*"; }
bad() {
	echo "   FAILED: $*" >&2
	FAILS=$((FAILS + 1))
}
for t in strace setpriv unshare findmnt jq curl systemd-analyze; do
	command -v "$t" >/dev/null || { echo "SKIP: $t is not installed"; exit 77; }
done
# In a chroot (fresh-debian-run) "/" is a directory of another mount: a
# mount namespace can neither make it private nor remount it read-only, so
# ProtectSystem=strict cannot be applied there. A machine (or container)
# whose "/" is a mount point can.
if ! mountpoint -q /; then
	echo "SKIP: / is not a mount point (a chroot): ProtectSystem=strict's read-only / cannot be applied"
	exit 77
fi
: "${MMSITE_DP_NS:?run under tools/mmsite run}"
for v in MMDP_BIN MMCTLD_BIN MMLOAD_BIN GUARD_OBJ MMDP_UNIT MMCTLD_UNIT WWW_DIR; do
	[[ -e ${!v:-} ]] || die "$v is not set or does not exist"
done
NOBODY=65534
FILE_PREFIX=mmk9-sandbox

# Not under /tmp: the units' PrivateTmp= hides the machine's /tmp.
WORK=$(mktemp -d /run/mmk9-sandbox.XXXXXX)
chmod 0755 "$WORK"
RUNDIR=$WORK/run-mmdp             # the unit's RuntimeDirectory=mmdp
DPDKDIR=/run/dpdk/$FILE_PREFIX    # ... and dpdk/mmdp, for this prefix
STATE=$WORK/state                 # mmctld's StateDirectory=mmctld
mkdir -p "$RUNDIR" "$DPDKDIR" "$STATE" "$WORK/bin"
chown "0:$NOBODY" "$RUNDIR" && chmod 0750 "$RUNDIR"
chown "$NOBODY:$NOBODY" "$STATE" && chmod 0700 "$STATE"
# The programs, out of the build directory (which may be under /tmp).
cp "$MMDP_BIN" "$MMCTLD_BIN" "$MMLOAD_BIN" "$GUARD_OBJ" "$WORK/bin/"
cp -r "$WWW_DIR" "$WORK/www"
SOCK=$RUNDIR/agent.sock
MMDP_PID=
MMCTLD_PID=

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local st=$?
	trap - EXIT INT TERM
	[[ -n $MMCTLD_PID ]] && stop_traced "$MMCTLD_PID" "$(traced_pid "$MMCTLD_PID")"
	[[ -n $MMDP_PID ]] && stop_traced "$MMDP_PID" "$(traced_pid "$MMDP_PID")"
	rm -rf "$DPDKDIR"
	rm -f /dev/hugepages/"$FILE_PREFIX"map_* 2>/dev/null || true
	work_done "$st" "$WORK" "$WORK/mmdp.log"
	exit "$st"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The unit's value of a key (last one wins), and the syscalls its
# SystemCallFilter= lines allow: the allow list less the ~deny list, each
# group expanded by systemd-analyze.
unit_value() { sed -n -E "s/^$2=(.*)/\\1/p" "$1" | tail -n 1; }
expand_syscalls() {
	local x
	for x in "$@"; do
		if [[ $x == @* ]]; then
			# shellcheck disable=SC2046 # names are words
			expand_syscalls $(systemd-analyze syscall-filter "$x" |
				sed -n -E 's/^    ([@a-z0-9_-]+)$/\1/p')
		else
			echo "$x"
		fi
	done
}
allowed_syscalls() {
	local unit=$1 allow=() deny=() line
	while read -r line; do
		if [[ $line == ~* ]]; then
			read -r -a w <<<"${line#\~}"
			deny+=("${w[@]}")
		else
			read -r -a w <<<"$line"
			allow+=("${w[@]}")
		fi
	done < <(sed -n -E 's/^SystemCallFilter=(.*)/\1/p' "$unit")
	comm -23 <(expand_syscalls "${allow[@]}" | sort -u) <(expand_syscalls "${deny[@]}" | sort -u)
}
# The address families of the socket() calls in an strace log.
families() { grep -o -E 'socket\(AF_[A-Z0-9]+' "$1" | sed 's/socket(//' | sort -u; }
check_families() {
	local name=$1 unit=$2 trace=$3 f n=0
	local allowed
	allowed=" $(unit_value "$unit" RestrictAddressFamilies) "
	for f in $(families "$trace"); do
		n=$((n + 1))
		if [[ $allowed == *" $f "* ]]; then ok "$name opened $f sockets: allowed by its unit"; else
			bad "$name opened $f sockets, not in its unit's RestrictAddressFamilies"; fi
	done
	((n > 0)) || bad "no socket() of $name was traced"
}
# The process strace started: its only child (waited for a little: strace
# forks it when it starts).
traced_pid() {
	local i p
	for ((i = 0; i < 50; i++)); do
		p=$(pgrep -P "$1" | head -n 1) && [[ -n $p ]] && { echo "$p"; return; }
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
}
# Stop a daemon running under strace: SIGTERM to the daemon (strace does
# not pass its own on), then strace ends with it.
stop_traced() {
	local strace_pid=$1 pid=${2:-} i
	if [[ -n $pid ]]; then
		kill -TERM "$pid" 2>/dev/null
		for ((i = 0; i < 150; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null &&
			{ echo "$TEST_NAME: pid $pid did not stop on SIGTERM, killing it" >&2; kill -KILL "$pid"; }
	fi
	stop_pid "$strace_pid" 50
	return 0
}

# ---- 1. mmdp ----------------------------------------------------------------------
dp() { nsenter --net="/run/netns/$MMSITE_DP_NS" -- "$@"; }
# With the guard, the kernel answers ARP/ND for mmdp's addresses (guard_site.sh).
dp ip link set dev "$MMSITE_DP_IF" xdp off 2>/dev/null || true
dp sysctl -qw "net.ipv6.conf.$MMSITE_DP_IF.disable_ipv6=0"
dp ip addr replace "$MMSITE_DP_IP4/15" dev "$MMSITE_DP_IF"
dp ip -6 addr replace "$MMSITE_DP_IP6/48" dev "$MMSITE_DP_IF" nodad
cat >"$WORK/mmdp.json" <<EOF
{"agent_socket": "$SOCK",
 "ports": [{"addresses": ["$MMSITE_DP_IP4", "$MMSITE_DP_IP6"], "gateway_mac": "$MMSITE_GW_MAC"}],
 "guard": {"port_range": [40000, 49999]}}
EOF
chmod 0644 "$WORK/mmdp.json"
say "1. mmdp under mmdp.service's restrictions (capabilities: $(unit_value "$MMDP_UNIT" CapabilityBoundingSet))"
# Not through a shell function: $! must be the process that becomes strace
# (nsenter, unshare and setpriv each exec the next).
SANDBOX_BPFFS=1 nsenter --net="/run/netns/$MMSITE_DP_NS" -- \
	"$HERE/sandbox_exec.sh" "$MMDP_UNIT" "$RUNDIR:$DPDKDIR" \
	--regid "$NOBODY" --clear-groups -- \
	strace -f -qq --seccomp-bpf -e trace=socket -o "$RUNDIR/mmdp.trace" -- \
	"$WORK/bin/mmdp" -l 0,1 --file-prefix="$FILE_PREFIX" --no-pci \
	--vdev "net_af_xdp0,iface=$MMSITE_DP_IF,start_queue=0,queue_count=1,xdp_prog=$WORK/bin/guard.bpf.o" \
	-- --config "$WORK/mmdp.json" >"$WORK/mmdp.log" 2>&1 &
MMDP_PID=$!
wait_mmdp
ok "mmdp started and opened its agent socket"
mmdp_pid=$(traced_pid "$MMDP_PID")
[[ -n $mmdp_pid ]] || die "cannot find mmdp's process"
want_caps=$(unit_value "$MMDP_UNIT" CapabilityBoundingSet)
bnd=$(awk '/^CapBnd/ { print $2 }' "/proc/$mmdp_pid/status")
eff=$(awk '/^CapEff/ { print $2 }' "/proc/$mmdp_pid/status")
got_caps=$(capsh --decode="$bnd" | sed 's/.*=//' | tr ',' '\n' | tr '[:lower:]' '[:upper:]' | sort | xargs)
want_sorted=$(tr ' ' '\n' <<<"$want_caps" | sort | xargs)
[[ $got_caps == "$want_sorted" ]] && ok "mmdp's bounding set is the unit's: $got_caps" ||
	bad "mmdp's bounding set is '$got_caps', the unit's '$want_sorted'"
[[ $eff == "$bnd" ]] && ok "... and its effective set the same" || bad "mmdp's CapEff $eff != CapBnd $bnd"
grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$mmdp_pid/status" && ok "mmdp runs with no_new_privs" ||
	bad "mmdp runs without no_new_privs"
awk '$5 == "/" { print $6 }' "/proc/$mmdp_pid/mountinfo" | grep -q '^ro' &&
	ok "mmdp sees / read-only" || bad "mmdp sees / writable"
[[ -S $DPDKDIR/dpdk_telemetry.v2 ]] && ok "EAL's telemetry socket is in $DPDKDIR" ||
	bad "no telemetry socket in $DPDKDIR"

# ---- 2. media through mmdp ----------------------------------------------------------
check_load() {
	local r=$1
	check "$r" "no loss" '.loss.packets == 0'
	check "$r" "no misdelivery" '.misdelivered.total == 0'
	check "$r" "received = expected copies, some" \
		'.received.packets == .expected.copies and .expected.copies > 0'
}
say "2. mmload through the sandboxed mmdp: 2 rooms x 3, audio + video, SRTP"
st=0
"$WORK/bin/mmload" --socket "$SOCK" --rooms 2 --participants 3 --video --duration 4 --warmup 1 \
	--quiet --report "$WORK/load.json" || st=$?
[[ $st == 0 ]] || bad "mmload exited $st"
[[ -s $WORK/load.json ]] || die "no mmload report"
check_load "$WORK/load.json"

# ---- 3. mmctld ----------------------------------------------------------------------
API_PORT=$((20000 + RANDOM % 20000))
cat >"$WORK/mmctld.json" <<EOF
{"listen": "127.0.0.1:$API_PORT", "db": "$STATE/mmctld.db", "mmdp_socket": "$SOCK",
 "media_address": "$MMSITE_DP_IP4", "port_range": [40000, 40999], "www_root": "$WORK/www"}
EOF
chmod 0644 "$WORK/mmctld.json"
say "3. mmctld under mmctld.service's restrictions (user $NOBODY, no capability)"
as_mmctld() {
	"$HERE/sandbox_exec.sh" "$MMCTLD_UNIT" "$STATE" \
		--reuid "$NOBODY" --regid "$NOBODY" --clear-groups -- "$@"
}
TOKEN=$(as_mmctld "$WORK/bin/mmctld" --config "$WORK/mmctld.json" --create-operator-token) ||
	die "mmctld --create-operator-token failed in the sandbox"
ok "operator token made in the sandbox"
"$HERE/sandbox_exec.sh" "$MMCTLD_UNIT" "$STATE" \
	--reuid "$NOBODY" --regid "$NOBODY" --clear-groups -- \
	strace -f -qq -o "$STATE/mmctld.trace" -- \
	"$WORK/bin/mmctld" --config "$WORK/mmctld.json" >"$WORK/mmctld.log" 2>&1 &
MMCTLD_PID=$!
URL=http://127.0.0.1:$API_PORT
for ((i = 0; i < 100; i++)); do
	curl -sf -H "Authorization: Bearer $TOKEN" "$URL/v1/rooms" >/dev/null 2>&1 && break
	kill -0 "$MMCTLD_PID" 2>/dev/null || die "mmctld exited: $(tail -n 3 "$WORK/mmctld.log")"
	sleep 0.1
done
curl -sf -H "Authorization: Bearer $TOKEN" "$URL/v1/rooms" >/dev/null || die "mmctld does not answer"
ok "mmctld answers its API"
ctld_pid=$(traced_pid "$MMCTLD_PID")
[[ -n $ctld_pid ]] || die "cannot find mmctld's process"
grep -q "^Uid:[[:space:]]*$NOBODY" "/proc/$ctld_pid/status" && ok "mmctld runs as uid $NOBODY" ||
	bad "mmctld does not run as $NOBODY"
[[ $(awk '/^CapBnd/ { print $2 }' "/proc/$ctld_pid/status") == 0000000000000000 ]] &&
	ok "mmctld's bounding set is empty" || bad "mmctld has capabilities in its bounding set"
grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$ctld_pid/status" && ok "mmctld runs with no_new_privs" ||
	bad "mmctld runs without no_new_privs"
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/meet")
[[ $code == 200 ]] && ok "the meeting page is served from www_root" || bad "GET /meet: $code"
st=0
"$WORK/bin/mmload" --mmctld "$URL" --token "$TOKEN" --socket "$SOCK" --rooms 2 --participants 3 \
	--video --duration 4 --warmup 1 --mute-one --quiet --report "$WORK/rest.json" || st=$?
[[ $st == 0 ]] || bad "mmload through mmctld exited $st"
[[ -s $WORK/rest.json ]] || die "no mmload report"
check_load "$WORK/rest.json"
check "$WORK/rest.json" "set up through mmctld, a mute and an unmute acknowledged" \
	'.control == "mmctld" and (.mute.events | length) == 2 and all(.mute.events[]; .ok)'

stop_traced "$MMCTLD_PID" "$ctld_pid"
MMCTLD_PID=
stop_traced "$MMDP_PID" "$mmdp_pid"
MMDP_PID=

# ---- 4. what the daemons asked of the kernel ------------------------------------------
say "4. system calls and socket families against the units"
check_families mmdp "$MMDP_UNIT" "$RUNDIR/mmdp.trace"
check_families mmctld "$MMCTLD_UNIT" "$STATE/mmctld.trace"
allowed=$(allowed_syscalls "$MMCTLD_UNIT")
(($(wc -l <<<"$allowed") > 100)) || bad "mmctld.service's filter expands to too few system calls"
used=$(sed -n -E 's/^[0-9]+ +([a-z0-9_]+)\(.*/\1/p' "$STATE/mmctld.trace" | sort -u)
(($(wc -l <<<"$used") > 20)) || bad "too few of mmctld's system calls traced"
outside=$(comm -23 <(echo "$used") <(echo "$allowed") | xargs)
[[ -z $outside ]] &&
	ok "all $(wc -l <<<"$used") system calls mmctld made are allowed by its SystemCallFilter=" ||
	bad "mmctld made system calls its unit forbids: $outside"

((FAILS == 0)) || die "$FAILS check(s) failed"
say "all checks passed"
