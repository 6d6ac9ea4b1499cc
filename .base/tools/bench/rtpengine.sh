#!/usr/bin/env bash
# rtpengine on the test site, for the side-by-side benchmark of issue 5
# (mmload --rtpengine). Debian's rtpengine-daemon (10.5 on bookworm),
# userspace forwarding only (--table=-1: no kernel module), one media
# thread, pinned to one CPU, run in the foreground in the site's dp
# namespace. dp0 normally has no kernel addresses (mmdp uses it through
# AF_XDP); for rtpengine it gets the site's dp addresses (198.18.0.1/15,
# 2001:2::1/48, see tools/mmsite), so the hosts reach it by ARP and ND.
#
# Usage:
#   rtpengine.sh install
#       installs rtpengine-daemon if missing, without starting its service
#       (a policy-rc.d that refuses, removed after; a service that started
#       anyway is stopped)
#   rtpengine.sh start --prefix P [--cpu N] [--ng-port N] [--port-min N]
#                      [--port-max N] [--log FILE]
#       installs if needed, puts the addresses on P's dp0, starts rtpengine
#       (ng on 127.0.0.1:PORT inside P's dp namespace: mmload --rtpengine
#       opens its control socket there) and prints, once it is up (its ng
#       port bound; answers an ng ping where python3 is installed):
#         RTPENGINE_PID=<pid>
#         RTPENGINE_NG=127.0.0.1:<port>
#         RTPENGINE_LOG=<file>
#       (shell assignments: eval "$(rtpengine.sh start ...)").
#       Defaults: --cpu 1, --ng-port 2223, ports 30000-39999, log
#       /tmp/rtpengine-P.log. Its pid is kept in /run/mm-rtpengine-P.pid.
#   rtpengine.sh stop --prefix P
#       stops that rtpengine (by its recorded pid, nothing else) and takes
#       the addresses off dp0 again.
#
# Only the site's own prefix is touched; the site itself (tools/mmsite up)
# must exist and stays.
set -euo pipefail

die() { echo "rtpengine.sh: $*" >&2; exit 1; }
log() { echo "rtpengine.sh: $*" >&2; }

DP_IP4=198.18.0.1/15
DP_IP6=2001:2::1/48

install_rtpengine() {
	command -v rtpengine >/dev/null && return 0
	[[ $(id -u) == 0 ]] || die "installing rtpengine-daemon needs root"
	local prc=/usr/sbin/policy-rc.d had=0
	[[ -e $prc ]] && had=1
	if ((!had)); then
		printf '#!/bin/sh\nexit 101\n' >"$prc"
		chmod +x "$prc"
	fi
	local rc=0
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		rtpengine-daemon >&2 || rc=$?
	((had)) || rm -f "$prc"
	((rc == 0)) || die "apt-get install rtpengine-daemon failed ($rc)"
	# Should a service have started all the same (we caused it): stop it.
	if command -v systemctl >/dev/null && systemctl is-active --quiet rtpengine-daemon 2>/dev/null; then
		systemctl stop rtpengine-daemon || true
	fi
	if [[ -x /etc/init.d/rtpengine-daemon ]] && /etc/init.d/rtpengine-daemon status >/dev/null 2>&1; then
		/etc/init.d/rtpengine-daemon stop >/dev/null 2>&1 || true
	fi
	command -v rtpengine >/dev/null || die "rtpengine-daemon installed but no rtpengine binary"
}

PREFIX=
CPU=1
NG_PORT=2223
PORT_MIN=30000
PORT_MAX=39999
LOG=

parse() {
	while (($#)); do
		case $1 in
		--prefix) PREFIX=$2; shift 2 ;;
		--cpu) CPU=$2; shift 2 ;;
		--ng-port) NG_PORT=$2; shift 2 ;;
		--port-min) PORT_MIN=$2; shift 2 ;;
		--port-max) PORT_MAX=$2; shift 2 ;;
		--log) LOG=$2; shift 2 ;;
		*) die "unknown option $1" ;;
		esac
	done
	[[ -n $PREFIX ]] || die "--prefix P is required"
	[[ $PREFIX =~ ^[a-z0-9-]+$ ]] || die "bad prefix $PREFIX"
	[[ $CPU =~ ^[0-9]+$ && $NG_PORT =~ ^[0-9]+$ && $PORT_MIN =~ ^[0-9]+$ && $PORT_MAX =~ ^[0-9]+$ ]] ||
		die "--cpu, --ng-port, --port-min, --port-max take numbers"
	NS=${PREFIX}dp
	PIDFILE=/run/mm-rtpengine-${PREFIX%-}.pid
	LOG=${LOG:-/tmp/rtpengine-${PREFIX%-}.log}
	[[ -e /run/netns/$NS ]] || die "no namespace $NS: bring the site up first (tools/mmsite up --prefix $PREFIX)"
}

nsx() { nsenter --net="/run/netns/$NS" -- "$@"; }

# A ping over the ng protocol from inside the namespace: "d7:command4:pinge".
ng_ping() {
	nsx python3 - "$NG_PORT" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
s.sendto(b"mmping d7:command4:pinge", ("127.0.0.1", int(sys.argv[1])))
r = s.recv(4096)
sys.exit(0 if b"pong" in r else 1)
EOF
}

# Ready: its ng port is bound and (where python3 is) answers an ng ping.
ready() {
	nsx ss -Hlun "sport = :$NG_PORT" 2>/dev/null | grep -q . || return 1
	command -v python3 >/dev/null || return 0
	ng_ping 2>/dev/null
}

running_pid() {
	[[ -f $PIDFILE ]] || return 1
	local pid
	pid=$(cat "$PIDFILE")
	[[ $pid =~ ^[0-9]+$ ]] && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == rtpengine* ]] || return 1
	echo "$pid"
}

addrs_on() {
	nsx ip link set lo up
	nsx sysctl -qw "net.ipv6.conf.dp0.disable_ipv6=0" >/dev/null
	nsx ip addr replace "$DP_IP4" dev dp0
	nsx ip addr replace "$DP_IP6" dev dp0 nodad
	nsx ip link set dp0 up
}

addrs_off() {
	nsx ip addr del "$DP_IP4" dev dp0 2>/dev/null || true
	nsx ip addr del "$DP_IP6" dev dp0 2>/dev/null || true
	nsx sysctl -qw "net.ipv6.conf.dp0.disable_ipv6=1" >/dev/null 2>&1 || true
}

start() {
	parse "$@"
	install_rtpengine
	if pid=$(running_pid); then
		die "rtpengine for $PREFIX already runs (pid $pid): stop it first"
	fi
	addrs_on
	# setsid: its own session, so that the caller's job control leaves it be;
	# exec chain (nsenter, taskset, rtpengine) keeps one pid.
	setsid nsenter --net="/run/netns/$NS" -- taskset -c "$CPU" rtpengine \
		--config-file=none --foreground --log-stderr --log-level=5 \
		--table=-1 --num-threads=1 --media-num-threads=1 \
		--listen-ng="127.0.0.1:$NG_PORT" \
		--interface="${DP_IP4%/*}" --interface="${DP_IP6%/*}" \
		--port-min="$PORT_MIN" --port-max="$PORT_MAX" \
		--delete-delay=0 </dev/null >"$LOG" 2>&1 &
	local pid=$!
	echo "$pid" >"$PIDFILE"
	local i
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || { tail -5 "$LOG" >&2; addrs_off; rm -f "$PIDFILE"; die "rtpengine exited"; }
		ready && break
		sleep 0.1
	done
	((i < 50)) || { stop_pid "$pid"; addrs_off; rm -f "$PIDFILE"; die "rtpengine does not answer on its ng port (log: $LOG)"; }
	echo "RTPENGINE_PID=$pid"
	echo "RTPENGINE_NG=127.0.0.1:$NG_PORT"
	echo "RTPENGINE_LOG=$LOG"
}

stop_pid() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
}

stop() {
	parse "$@"
	local pid
	if pid=$(running_pid); then
		stop_pid "$pid"
		log "stopped rtpengine $pid"
	fi
	rm -f "$PIDFILE"
	addrs_off
}

case ${1:-} in
install) install_rtpengine ;;
start) shift; start "$@" ;;
stop) shift; stop "$@" ;;
*) sed -n '/^# Usage:/,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac
