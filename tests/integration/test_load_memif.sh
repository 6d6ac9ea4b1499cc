#!/usr/bin/env bash
# mmload --io memif against a real mmdp: mmdp's only port is a DPDK
# net_memif server, mmload its own DPDK process (--in-memory) on the client
# end, writing the frames itself. Runs under tools/mmsite (for its
# hugepages; the memif link needs no namespace).
#
# 1. 4 rooms x 4 participants, audio + camera video, SRTP AEAD_AES_128_GCM,
#    10 s after 2 s of warmup: no loss, no misdelivery, nothing damaged,
#    duplicated or failing SRTP; every stream reached its 3 receivers
#    exactly; the totals add up, and mmdp's counters match the memif
#    port's (what mmload put on the link is what mmdp received, what mmdp
#    sent is what mmload took off it).
# 2. --find-max (rooms of 4, audio, SRTP, 2 s trials, at most 16 rooms):
#    it ends with a maximum > 0 and every step lies strictly inside the
#    bracket left by the steps before it, which only shrinks.
#
# DPDK 22.11's net_memif may crash the server's polling lcore when the
# client disconnects (mmload exiting) while it polls; so mmdp is started
# fresh for each mmload and its end is not judged here (see BENCHMARKS.md).
#   tools/mmsite run --prefix mmq- -- env MMDP_BIN=... MMLOAD_BIN=... $0
set -euo pipefail

say() { echo "load-memif: $*"; }
die() { echo "load-memif: $*" >&2; exit 1; }

[[ -n ${MMDP_BIN:-} && -x $MMDP_BIN ]] || die "MMDP_BIN (the mmdp binary) is not set or not executable"
[[ -n ${MMLOAD_BIN:-} && -x $MMLOAD_BIN ]] || die "MMLOAD_BIN (the mmload binary) is not set or not executable"
command -v jq >/dev/null || die "jq is not installed"
[[ $("$MMLOAD_BIN" --help) == *"--io memif"* ]] || { echo "SKIP: mmload built without DPDK"; exit 77; }

WORK=$(mktemp -d /tmp/mmq-test.XXXXXX)
SOCK=$WORK/agent.sock
MEMIF=$WORK/memif.sock
MMDP_PID=
FAILS=0

stop_pid() {
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null || true
}

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local st=$?
	trap - EXIT INT TERM
	[[ -n $MMDP_PID ]] && stop_pid "$MMDP_PID"
	if [[ $st != 0 || ${KEEP_WORK:-0} == 1 ]]; then
		echo "load-memif: reports and logs kept in $WORK" >&2
	else
		rm -rf "$WORK"
	fi
	exit "$st"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

check() {
	local rep=$1 what=$2 expr=$3
	if [[ $(jq -r "$expr" "$rep") == true ]]; then
		echo "   ok: $what"
	else
		echo "   FAILED: $what ($expr)" >&2
		FAILS=$((FAILS + 1))
	fi
}

cat >"$WORK/mmdp.json" <<EOF2
{"agent_socket":"$SOCK","ports":[{"addresses":["198.18.0.1","2001:2::1"]}]}
EOF2

start_mmdp() {
	[[ -n $MMDP_PID ]] && stop_pid "$MMDP_PID"
	rm -f "$SOCK" "$MEMIF"
	"$MMDP_BIN" -l 0,1 --in-memory --no-pci --file-prefix mmq-dp \
		--vdev "net_memif0,role=server,id=0,socket=$MEMIF,socket-abstract=no,mac=02:6d:6d:00:00:01" \
		-- --config "$WORK/mmdp.json" >>"$WORK/mmdp.log" 2>&1 &
	MMDP_PID=$!
	for ((i = 0; i < 300; i++)); do
		[[ -S $SOCK ]] && return 0
		kill -0 "$MMDP_PID" 2>/dev/null || die "mmdp exited before opening its agent socket"
		sleep 0.1
	done
	die "mmdp's agent socket did not appear within 30 s"
}

MMLOAD=("$MMLOAD_BIN" --io memif --memif "$MEMIF" --socket "$SOCK" --mac 02:6d:6d:10:00:01
	--dp-mac 02:6d:6d:00:00:01 --dp-ip4 198.18.0.1 --dp-ip6 2001:2::1 --cpu 0 --prefix mmq)

# ---- 1 --------------------------------------------------------------------------
say "1. memif: 4 rooms x 4 participants, audio + video, AEAD_AES_128_GCM, 10 s"
start_mmdp
R=$WORK/fixed.json
st=0
"${MMLOAD[@]}" --rooms 4 --participants 4 --video --srtp AEAD_AES_128_GCM --family mixed \
	--duration 10 --warmup 2 --per-stream --quiet --report "$R" || st=$?
[[ $st == 0 ]] || { echo "   FAILED: mmload exited $st" >&2; FAILS=$((FAILS + 1)); }
[[ -s $R ]] || die "no report"
check "$R" "memif I/O" '.io == "memif" and .memif.port == "net_memif"'
check "$R" "no loss" '.loss.packets == 0'
check "$R" "no misdelivery" '.misdelivered.total == 0'
check "$R" "received = expected copies > 0" '.expected.copies > 0 and .received.packets == .expected.copies'
check "$R" "nothing damaged, duplicated, foreign or from elsewhere" \
	'.corrupt == 0 and .duplicates == 0 and .foreign == 0 and .wrong_source == 0'
check "$R" "every SRTP packet authenticated" \
	'.srtp_failures.auth == 0 and .srtp_failures.replay == 0 and .srtp_failures.other == 0'
check "$R" "mmdp's sequence numbers follow the payload's" '.seq_mismatch == 0'
check "$R" "audio and video, IPv4 and IPv6" \
	'.offered.by_kind.audio.packets > 0 and .offered.by_kind.video.packets > 0 and .scenario.family == "mixed"'
check "$R" "every stream reached its 3 receivers: copies = sent x 3" \
	'(.streams | length) == 32 and all(.streams[]; .copies_received == .sent_expected * 3 and .sent == .sent_expected)'
check "$R" "offered and received = sums of the streams" \
	'.offered.packets == ([.streams[].sent] | add) and .received.packets == ([.streams[].copies_received] | add)'
check "$R" "one latency sample per packet received" '.latency_ms.count == .received.packets'
check "$R" "mmdp received exactly what mmload put on the link" '.mmdp.rx_packets == .memif.opackets'
check "$R" "mmload took exactly what mmdp sent off the link" '.mmdp.tx_packets == .memif.ipackets'
check "$R" "nothing dropped by mmdp or the port" \
	'(.mmdp.drops | length) == 0 and .memif.imissed == 0 and .memif.oerrors == 0 and .memif.rx_nombuf == 0'
check "$R" "the generator kept its schedule" '.offered.skipped_events == 0 and .offered.send_errors == 0'

# ---- 2 --------------------------------------------------------------------------
say "2. memif: --find-max over rooms of 4 (audio, SRTP), 2 s trials, at most 16 rooms"
start_mmdp
R=$WORK/findmax.json
st=0
"${MMLOAD[@]}" --find-max --rooms 2 --participants 4 --srtp AEAD_AES_128_GCM --trial 2 --warmup 1 \
	--max-rooms 16 --precision 25 --quiet --report "$R" || st=$?
[[ $st == 0 ]] || { echo "   FAILED: mmload --find-max exited $st" >&2; FAILS=$((FAILS + 1)); }
[[ -s $R ]] || die "no report"
check "$R" "the search converged on a maximum > 0" \
	'.mode == "find-max" and .converged and .max.rooms > 0 and .max.participants == .max.rooms * 4'
check "$R" "each step strictly inside the bracket before it, which only shrinks" \
	'.search as $s | [range(0; $s.steps | length)] | all(. as $i | $s.steps[$i] as $x |
	 (if $i == 0 then {lo: ($s.min - 1), hi: ($s.max + 1)} else $s.steps[$i - 1] end) as $p |
	 $x.rooms > $p.lo and $x.rooms < $p.hi and $x.lo >= $p.lo and $x.hi <= $p.hi and
	 ($x.hi - $x.lo) < ($p.hi - $p.lo))'
check "$R" "the maximum is the highest step that passed" \
	'.max.rooms == ([.search.steps[] | select(.pass) | .rooms] | max)'
check "$R" "no step above the maximum passed" \
	'.max.rooms as $m | all(.search.steps[]; .rooms <= $m or (.pass | not))'
check "$R" "the report at the maximum is a passing run of that size" \
	'.at_max.pass and .at_max.scenario.rooms == .max.rooms and .at_max.loss.percent <= 0.01'
check "$R" "a summary a planner can paste" \
	'.summary | test("^one mmdp worker core carries [0-9]+ participants in rooms of 4 at profile audio, AEAD_AES_128_GCM")'
say "$(jq -r .summary "$R")"

if ((FAILS)); then
	die "$FAILS check(s) failed"
fi
say "all checks passed"
