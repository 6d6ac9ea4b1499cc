#!/usr/bin/env bash
# dpdk-testpmd as the forwarder (issue 5's I/O limit): testpmd with one
# forwarding lcore and --forward-mode=5tswap (MACs, IP addresses and UDP
# ports swapped: every packet goes back to its sender as if the forwarder
# had sent it from the address and port it was sent to) on the same port
# mmdp would use, loaded by mmload --reflect, which checks every packet
# that comes back (once per packet, at its own sender).
#
#   tools/bench/testpmd.sh memif  [options] [-- MMLOAD_ARGS...]
#       testpmd with --vdev net_memif0,role=server,socket=WORK/memif.sock,
#       socket-abstract=no,mac=02:6d:6d:00:00:01 (as tools/bench/capacity
#       runs mmdp), mmload --io memif --memif WORK/memif.sock --reflect.
#   tools/bench/testpmd.sh kernel [options] [-- MMLOAD_ARGS...]
#       on a test site that is up (run it under "tools/mmsite run --prefix P
#       -- ..." or after "tools/mmsite up --prefix P" with --prefix P):
#       testpmd in the dp namespace on dp0 through --vdev net_af_xdp0,
#       iface=dp0,start_queue=0,queue_count=1 (as mmdp runs there), promiscuous;
#       since testpmd answers no ARP or ND, permanent neighbour entries for
#       the dp addresses (MMSITE_DP_IP4/6 -> MMSITE_DP_MAC) go into every
#       host namespace for the run (removed after); mmload --io kernel
#       --reflect with the site's MMSITE_* variables.
#
# Options:
#   --build DIR          where mmload is (build); MMLOAD_BIN overrides
#   --prefix P           test site prefix (kernel; default $MMSITE_PREFIX)
#   --forward-mode M     testpmd's forwarding mode (5tswap); e.g. macswap or io
#                        for a negative check (they send packets back to the
#                        sender's MAC without swapping addresses)
#   --lcores L           testpmd's -l (0,1: lcore 0 main, lcore 1 the one
#                        forwarding core, --nb-cores=1)
#   --file-prefix F      testpmd's DPDK file prefix (pa-testpmd-PID); mmload's
#                        (memif) is F-load
#   --work DIR           keep the logs, the FIFO, the socket and mmload's report
#                        there (default: a temporary directory, removed)
#   --testpmd BIN        dpdk-testpmd binary ($TESTPMD_BIN or dpdk-testpmd)
# MMLOAD_ARGS go to mmload after "--io ... --reflect --report ...", e.g.
# "--rooms 4 --participants 4 --duration 5 --warmup 2" or "--find-max ...".
# Do not give --quiet or --report: the script follows mmload's progress lines
# and keeps its report (WORK/mmload.json).
#
# How it measures: testpmd runs interactively (-i) with --record-core-cycles,
# driven through a FIFO on its stdin ("start", "clear fwd stats all",
# "show fwd stats all", "stop", "quit"). For each mmload run (one, or one per
# --find-max trial) the script clears testpmd's forward statistics when
# mmload's warmup ends (its "set up through" line + 0.1 s + the warmup) and
# reads them at the run's "drain" progress line (mmload stopped meanwhile),
# so a window is about the measured interval plus mmload's drain (0.3 s or
# more in which only late packets arrive). The clear may come late by a
# script's reaction time (cleared_late_s; on a loaded machine a few hundred
# ms): packet counts are the window's, not the run's; cycles per packet are
# over the same window. mmload's report (--work DIR keeps it) has the run's.
#
# Output (stdout): one JSON object:
#   {"forwarder": "dpdk-testpmd", "io": "memif"|"kernel", "forward_mode": M,
#    "forwarding_lcores": 1, "mmload_status": N, "mmload_report": PATH|null,
#    "mmload": {pass, reflect, offered_pps, received_pps, lost, copies,
#               copies_per_packet, misdelivered} (one run) or {pass,
#               converged, max, summary, limit_above_max} (--find-max),
#    "windows": [{"run": i (1 = the first run or trial), "rx_packets",
#                 "rx_dropped", "tx_packets", "tx_dropped",
#                 "cycles_per_packet", "busy_cycles", "cycle_packets", "mhz",
#                 "window": "measured+drain", "window_s", "cleared_late_s"
#                 [, memif, one run: "link_to_forwarder", "link_from_forwarder":
#                 mmload's own memif port counters for its whole run,
#                 warmup included]}],
#    "testpmd_log": PATH|null, "note": "..."}
# cycles_per_packet is testpmd's "CPU cycles/packet": the TSC cycles the
# forwarding lcore spent in bursts that received something, over the packets
# received in the window (idle polls are not counted, preemption inside a
# burst is: on a shared machine, low rates give large numbers).
# Exit status: mmload's (0 pass, 1 fail, 2 error), or 2 when testpmd did not
# start.
set -euo pipefail

die() { echo "testpmd.sh: $*" >&2; exit 2; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

HERE=$(cd "$(dirname "$0")/../.." && pwd)
MODE=${1:-}
[[ $MODE == memif || $MODE == kernel ]] || usage
shift
BUILD=build
PREFIX=${MMSITE_PREFIX:-}
FWD=5tswap
LCORES=0,1
FPREFIX=pa-testpmd-$$
WORK=
KEEPWORK=0
TESTPMD=${TESTPMD_BIN:-dpdk-testpmd}
while [[ $# -gt 0 ]]; do
	case $1 in
	--build) BUILD=${2:?}; shift 2 ;;
	--prefix) PREFIX=${2:?}; shift 2 ;;
	--forward-mode) FWD=${2:?}; shift 2 ;;
	--lcores) LCORES=${2:?}; shift 2 ;;
	--file-prefix) FPREFIX=${2:?}; shift 2 ;;
	--work) WORK=${2:?}; KEEPWORK=1; shift 2 ;;
	--testpmd) TESTPMD=${2:?}; shift 2 ;;
	--) shift; break ;;
	-h | --help) usage ;;
	*) die "unknown option $1 (mmload's options go after --)" ;;
	esac
done
MMLOAD_ARGS=("$@")
for a in "${MMLOAD_ARGS[@]}"; do
	[[ $a == --quiet || $a == --report* ]] &&
		die "no --quiet or --report: the script follows mmload's progress lines and keeps its report (--work DIR)"
done
MMLOAD=${MMLOAD_BIN:-$BUILD/tools/mmload}
[[ $MMLOAD == /* ]] || MMLOAD=$HERE/$MMLOAD
[[ -x $MMLOAD ]] || die "no mmload at $MMLOAD (--build DIR or MMLOAD_BIN)"
command -v "$TESTPMD" >/dev/null || die "no $TESTPMD (Debian: apt-get install dpdk-dev)"
command -v jq >/dev/null || die "jq is needed"

if [[ -z $WORK ]]; then
	WORK=$(mktemp -d /tmp/pa-testpmd.XXXXXX)
else
	mkdir -p "$WORK"
fi
TP_PID=
LD_PID=
NEIGH_NS=()

cleanup() {
	local st=$?
	trap - EXIT INT TERM
	if [[ -n $LD_PID ]] && kill -0 "$LD_PID" 2>/dev/null; then
		kill -TERM "$LD_PID" 2>/dev/null || true
		wait "$LD_PID" 2>/dev/null || true
	fi
	if [[ -n $TP_PID ]] && kill -0 "$TP_PID" 2>/dev/null; then
		{ echo stop; echo quit; } 2>/dev/null >&7 || true
		for ((i = 0; i < 50; i++)); do kill -0 "$TP_PID" 2>/dev/null || break; sleep 0.1; done
		kill -TERM "$TP_PID" 2>/dev/null || true
		wait "$TP_PID" 2>/dev/null || true
	fi
	exec 7>&- 2>/dev/null || true
	neigh_del
	((KEEPWORK)) || rm -rf "$WORK"
	exit "$st"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- testpmd, driven through a FIFO on its stdin --------------------------

prompts() { grep -o 'testpmd> ' "$WORK/testpmd.log" 2>/dev/null | wc -l; }

# Wait until testpmd printed more than $1 prompts (it has done the command).
wait_prompt() {
	local n=$1 i
	for ((i = 0; i < 300; i++)); do
		(($(prompts) > n)) && return 0
		kill -0 "$TP_PID" 2>/dev/null || die "testpmd exited (see $WORK/testpmd.log)"
		sleep 0.05
	done
	die "testpmd did not answer (see $WORK/testpmd.log)"
}

tp_cmd() {
	local n
	n=$(prompts)
	echo "$1" >&7
	wait_prompt "$n"
}

# tp_start NETNS_CMD... -- EAL/vdev args: testpmd -i with 5tswap (or --forward-mode).
tp_start() {
	rm -f "$WORK/testpmd.in"
	mkfifo "$WORK/testpmd.in"
	# Line-buffered so that the prompts show as they come.
	"$@" stdbuf -oL "$TESTPMD" -l "$LCORES" --in-memory --no-pci --no-telemetry \
		--file-prefix "$FPREFIX" --log-level=lib.eal:warning "${TP_EAL[@]}" -- \
		-i --forward-mode="$FWD" --nb-cores=1 --record-core-cycles --disable-link-check \
		--total-num-mbufs=16384 --rxd=1024 --txd=1024 \
		<"$WORK/testpmd.in" >"$WORK/testpmd.log" 2>&1 &
	TP_PID=$!
	exec 7>"$WORK/testpmd.in"
	wait_prompt 0
	tp_cmd "start"
}

# The accumulated forward statistics of one "show fwd stats all" as JSON.
tp_stats() {
	local from
	from=$(stat -c %s "$WORK/testpmd.log")
	tp_cmd "show fwd stats all"
	tail -c +"$((from + 1))" "$WORK/testpmd.log" | awk '
		/Accumulated forward statistics/ { acc = 1 }
		acc && /RX-packets:/ { rx = $2; rxd = $4 }
		acc && /TX-packets:/ { tx = $2; txd = $4 }
		/CPU cycles\/packet=/ {
			match($0, /packet=[0-9.]+/); cpp = substr($0, RSTART + 7, RLENGTH - 7)
			match($0, / cycles=[0-9]+/); busy = substr($0, RSTART + 8, RLENGTH - 8)
			match($0, /packets=[0-9]+\)/); cp = substr($0, RSTART + 8, RLENGTH - 9)
			match($0, /at [0-9]+ MHz/); mhz = substr($0, RSTART + 3, RLENGTH - 7)
		}
		END {
			printf "{\"rx_packets\":%s,\"rx_dropped\":%s,\"tx_packets\":%s,\"tx_dropped\":%s,", \
				rx == "" ? "null" : rx, rxd == "" ? "null" : rxd, \
				tx == "" ? "null" : tx, txd == "" ? "null" : txd
			printf "\"cycles_per_packet\":%s,\"busy_cycles\":%s,\"cycle_packets\":%s,\"mhz\":%s}\n", \
				cpp == "" ? "null" : cpp, busy == "" ? "null" : busy, \
				cp == "" ? "null" : cp, mhz == "" ? "null" : mhz
		}'
}

# ---- kernel mode: the site and the neighbour entries -----------------------

neigh_add() {
	local i ns
	for ((i = 1; i <= MMSITE_HOSTS; i++)); do
		ns=MMSITE_H${i}_NS
		ns=${!ns}
		nsenter --net="/run/netns/$ns" -- ip neigh replace "$MMSITE_DP_IP4" lladdr "$MMSITE_DP_MAC" \
			dev eth0 nud permanent
		nsenter --net="/run/netns/$ns" -- ip -6 neigh replace "$MMSITE_DP_IP6" lladdr \
			"$MMSITE_DP_MAC" dev eth0 nud permanent
		NEIGH_NS+=("$ns")
	done
}

neigh_del() {
	local ns
	for ns in "${NEIGH_NS[@]}"; do
		nsenter --net="/run/netns/$ns" -- ip neigh del "$MMSITE_DP_IP4" dev eth0 2>/dev/null || true
		nsenter --net="/run/netns/$ns" -- ip -6 neigh del "$MMSITE_DP_IP6" dev eth0 2>/dev/null || true
	done
	NEIGH_NS=()
}

# ---- the run ----------------------------------------------------------------

REPORT=$WORK/mmload.json
LDLOG=$WORK/mmload.log
rm -f "$REPORT" "$LDLOG"
NOTE=null
case $MODE in
memif)
	SOCK=$WORK/memif.sock
	rm -f "$SOCK"
	TP_EAL=(--vdev "net_memif0,role=server,id=0,socket=$SOCK,socket-abstract=no,mac=02:6d:6d:00:00:01,rsize=12")
	tp_start env
	# mmload on the main lcore's CPU: testpmd's lcore 1 spins.
	LD_CMD=("$MMLOAD" --io memif --memif "$SOCK" --eal "-l 0 --file-prefix $FPREFIX-load --in-memory"
		--dp-mac 02:6d:6d:00:00:01 --reflect --report "$WORK/report.fifo")
	NOTE='"memif: testpmd is the net_memif server; its port counters are good while mmload is connected (they drop to 0 when it leaves, so each window is read before mmload closes its port)"'
	;;
kernel)
	if [[ -z ${MMSITE_DP_NS:-} ]]; then
		[[ -n $PREFIX ]] || die "kernel: run under tools/mmsite run, or give --prefix of a site that is up"
		eval "$("$HERE/tools/mmsite" env --prefix "$PREFIX")"
	fi
	[[ -n ${MMSITE_DP_NS:-} && -n ${MMSITE_HOSTS:-} ]] || die "no test site"
	neigh_add
	TP_EAL=(--vdev "net_af_xdp0,iface=${MMSITE_DP_IF:-dp0},start_queue=0,queue_count=1")
	tp_start nsenter --net="/run/netns/$MMSITE_DP_NS" --
	tp_cmd "set promisc all on"
	LD_CMD=("$MMLOAD" --io kernel --reflect --report "$WORK/report.fifo")
	NOTE='"kernel: testpmd on the site dp0 through net_af_xdp (copy mode on a veth), promiscuous; the hosts reach it through permanent neighbour entries"' 
	;;
esac

rm -f "$WORK/mmload.err" "$WORK/report.fifo"
mkfifo "$WORK/mmload.err" "$WORK/report.fifo"
"${LD_CMD[@]}" "${MMLOAD_ARGS[@]}" >/dev/null 2>"$WORK/mmload.err" &
LD_PID=$!
exec 8<"$WORK/mmload.err"

# Follow mmload's stderr. A run starts at its "set up through" line (its
# measured window begins 0.1 s + the warmup later: the statistics are
# cleared then) and ends at its "drain" progress line, where mmload is
# stopped (SIGSTOP) while they are read. Its port must still be up then
# (net_memif's server counters drop to 0 when the client leaves): mmload
# writes its report (--report, a FIFO here) before it closes the port, and
# the FIFO gets its reader only after the last window was read, so the
# last run's port stays up however late the script reacts. The reader
# starts once mmload has been silent for 1.5 s after a drain line (between
# --find-max trials the next run's line comes at once). Times come from
# $EPOCHREALTIME (no fork: the loop shares a CPU with mmload).
WINDOWS=()
run=0
open=0      # cleared and not read yet
clear_at=0  # when to clear (ms since the epoch), 0: nothing pending
last_drain=0
clear_ms=0
clear_late=0
CAT_PID=
close_window() {
	local s
	s=$(tp_stats)
	# Counters that went backwards (a port that went down) are no reading.
	if jq -e '(.rx_packets // 0) < 9e18 and (.tx_packets // 0) < 9e18' <<<"$s" >/dev/null; then
		WINDOWS+=("$(jq -c --argjson run "$run" --argjson late "$clear_late" \
			--argjson secs "$((${EPOCHREALTIME/./} / 1000 - clear_ms))" \
			'{run: $run} + . + {window: "measured+drain", window_s: ($secs / 1000),
			  cleared_late_s: ($late / 1000)}' <<<"$s")")
	else
		WINDOWS+=("$(jq -nc --argjson run "$run" '{run: $run, error: "port counters went backwards"}')")
	fi
	open=0
}
part=
while :; do
	if IFS= read -r -t 0.05 line <&8; then
		line=$part$line
		part=
		printf '%s\n' "$line" >>"$LDLOG"
		printf '%s\n' "$line" >&2
		if [[ $line =~ set\ up\ through\ reflect.*\;\ ([0-9]+)\ s\ warmup ]]; then
			last_drain=0
			run=$((run + 1))
			clear_at=$(($((${EPOCHREALTIME/./} / 1000)) + 100 + BASH_REMATCH[1] * 1000))
		elif [[ $line =~ ^\[\ *[0-9.]+s\ drain ]]; then
			kill -STOP "$LD_PID" 2>/dev/null || true
			if ((clear_at)); then # a run shorter than our reaction: no window
				clear_at=0
			elif ((open)); then
				close_window
			fi
			kill -CONT "$LD_PID" 2>/dev/null || true
			last_drain=$((${EPOCHREALTIME/./} / 1000))
		fi
	else
		rc=$?
		((rc > 128)) || break # EOF: mmload has gone
		part=$part$line
	fi
	if ((clear_at && $((${EPOCHREALTIME/./} / 1000)) >= clear_at)); then
		clear_late=$(($((${EPOCHREALTIME/./} / 1000)) - clear_at))
		tp_cmd "clear fwd stats all"
		clear_ms=$((${EPOCHREALTIME/./} / 1000))
		clear_at=0
		open=1
	fi
	if [[ -z $CAT_PID ]] && ((last_drain && $((${EPOCHREALTIME/./} / 1000)) - last_drain > 1500)); then
		cat "$WORK/report.fifo" >"$REPORT" &
		CAT_PID=$!
	fi
done
exec 8<&-
if [[ -z $CAT_PID ]]; then # mmload ended without a drain line: no report to wait for
	cat "$WORK/report.fifo" >"$REPORT" 2>/dev/null &
	CAT_PID=$!
	sleep 0.2
	kill "$CAT_PID" 2>/dev/null || true
fi
wait "$CAT_PID" 2>/dev/null || true
st=0
wait "$LD_PID" || st=$?
LD_PID=
((open)) && close_window

LINK=null
if [[ $MODE == memif && -s $REPORT ]]; then
	LINK=$(jq -c '.memif | if . then {link_to_forwarder: .opackets,
		link_from_forwarder: .ipackets, link_window: "mmload run (warmup included)"} else null end' \
		"$REPORT")
fi
if [[ -s $REPORT ]]; then
	SUM=$(jq -c 'if .mode == "find-max" then {pass, converged, max, summary,
			limit_above_max} else {pass, reflect, offered_pps: .offered.pps,
			received_pps: .received.pps, lost: .loss.packets, copies: .expected.copies,
			copies_per_packet: .expected.copies_per_packet,
			misdelivered: .misdelivered.total} end' "$REPORT")
else
	SUM=null
fi
WJSON=$(printf '%s\n' "${WINDOWS[@]}" | jq -sc --argjson link "$LINK" \
	'map(select(. != null) | if $link then . + $link else . end)')
jq -n --arg io "$MODE" --arg fwd "$FWD" --argjson st "$st" --argjson sum "$SUM" \
	--argjson windows "$WJSON" --argjson note "$NOTE" \
	--arg report "$( ((KEEPWORK)) && [[ -s $REPORT ]] && echo "$REPORT" || true)" \
	--arg log "$( ((KEEPWORK)) && echo "$WORK/testpmd.log" || true)" \
	'{forwarder: "dpdk-testpmd", io: $io, forward_mode: $fwd, forwarding_lcores: 1,
	  mmload_status: $st, mmload_report: (if $report == "" then null else $report end),
	  mmload: $sum, windows: $windows,
	  testpmd_log: (if $log == "" then null else $log end), note: $note}'
exit "$st"
