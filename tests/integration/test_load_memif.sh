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
#    The report's "forwarder" (mmdp's busy cycles per forwarded packet)
#    adds up with mmdp's counters.
# 2. The same mmdp, a client that dies: an mmload killed with SIGKILL while
#    its frames flow through mmdp. mmdp stays up and answers.
# 3. The same mmdp again: another mmload passes (no loss, no misdelivery)
#    with its I/O thread SCHED_FIFO (--rt-priority 5, in its report); one
#    without CAP_SYS_NICE is refused that priority and stops with exit 2
#    saying why, leaving no room in mmdp.
# 4. The same mmdp: --find-max (rooms of 4, audio, SRTP, 2 s trials, at most
#    16 rooms): it ends with a maximum > 0 and every step lies strictly
#    inside the bracket left by the steps before it, which only shrinks.
# 5. mmdp, after six memif clients came and went, stops cleanly (exit 0),
#    and its interrupt thread's unmaps of the departed clients' regions
#    waited for the workers (dataplane/mmdp/unmap_guard.c: DPDK 22.11's
#    net_memif unmaps them while the workers may be inside a burst).
#   tools/mmsite run --prefix mmq- -- env MMDP_BIN=... MMLOAD_BIN=... MMAGENT_BIN=... $0
set -euo pipefail

TEST_NAME="load-memif"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

[[ -n ${MMDP_BIN:-} && -x $MMDP_BIN ]] || die "MMDP_BIN (the mmdp binary) is not set or not executable"
[[ -n ${MMLOAD_BIN:-} && -x $MMLOAD_BIN ]] || die "MMLOAD_BIN (the mmload binary) is not set or not executable"
[[ -n ${MMAGENT_BIN:-} && -x $MMAGENT_BIN ]] || die "MMAGENT_BIN (the mmagent binary) is not set or not executable"
command -v jq >/dev/null || die "jq is not installed"
[[ $("$MMLOAD_BIN" --help) == *"--io memif"* ]] || { echo "SKIP: mmload built without DPDK"; exit 77; }

WORK=$(mktemp -d /tmp/mmq-test.XXXXXX)
SOCK=$WORK/agent.sock
MEMIF=$WORK/memif.sock
MMDP_PID=
KILLED_PID=
FAILS=0

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local st=$?
	trap - EXIT INT TERM
	[[ -n $KILLED_PID ]] && stop_pid "$KILLED_PID"
	[[ -n $MMDP_PID ]] && stop_pid "$MMDP_PID"
	work_done "$st" "$WORK"
	exit "$st"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

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
	wait_mmdp
}

agent() { "$MMAGENT_BIN" --socket "$SOCK" "$@"; }

# mmdp still runs and answers its agent socket.
mmdp_alive() {
	local what=$1
	if kill -0 "$MMDP_PID" 2>/dev/null && agent '{"op":"stats.get"}' >"$WORK/alive.json" 2>&1 &&
		[[ $(jq -r .ok "$WORK/alive.json") == true ]]; then
		echo "   ok: mmdp alive and answering $what"
	else
		echo "   FAILED: mmdp is gone or does not answer $what" >&2
		tail -n 30 "$WORK/mmdp.log" >&2 || true
		die "mmdp died"
	fi
}

# The packets mmdp's workers received so far.
mmdp_rx() { agent '{"op":"stats.get"}' | jq '[.workers[].rx_packets] | add'; }

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
check "$R" "forwarder: busy cycles > 0, within the workers' cycles, at mmdp's TSC rate" \
	'.forwarder.tsc_hz > 0 and .forwarder.busy_cycles > 0 and .forwarder.busy_cycles <= .forwarder.cycles
	 and .forwarder.busy_polls > 0 and .forwarder.busy_polls <= .forwarder.polls
	 and .forwarder.busy_fraction > 0 and .forwarder.busy_fraction <= 1'
check "$R" "forwarder: its packets are mmdp's, its ratios add up" \
	'.forwarder as $f | $f.tx_packets == .mmdp.tx_packets and $f.rx_packets == .mmdp.rx_packets
	 and ($f.cycles_per_packet - $f.busy_cycles / $f.tx_packets | fabs) < 1e-6 * $f.cycles_per_packet
	 and ($f.ns_per_packet - $f.cycles_per_packet * 1e9 / $f.tsc_hz | fabs) < 1e-6 * $f.ns_per_packet
	 and ($f.busy_fraction - $f.busy_cycles / $f.cycles | fabs) < 1e-9
	 and ($f.workers | length) == 1 and $f.workers[0].busy_cycles == $f.busy_cycles'
check "$R" "forwarder: the workers' cycles span the run (at least warmup + duration)" \
	'.forwarder.cycles >= 12 * .forwarder.tsc_hz'
say "$(jq -r '.forwarder | "mmdp: \(.cycles_per_packet | floor) busy cycles (\(.ns_per_packet | floor) ns) per forwarded packet, busy \(.busy_fraction * 100 | floor) %"' "$R")"
mmdp_alive "after the first mmload left"

# ---- 2 --------------------------------------------------------------------------
say "2. memif, the same mmdp: an mmload killed with SIGKILL while its frames flow"
rx0=$(mmdp_rx)
rx=$rx0
"${MMLOAD[@]}" --prefix mmk --client-port 30000 --server-port 45000 --rooms 2 --participants 4 \
	--srtp AEAD_AES_128_GCM --duration 30 --warmup 1 --quiet >"$WORK/killed.log" 2>&1 &
KILLED_PID=$!
flowing=0
for ((i = 0; i < 150; i++)); do
	sleep 0.1
	kill -0 "$KILLED_PID" 2>/dev/null || break
	rx=$(mmdp_rx)
	if ((rx > rx0 + 2000)); then
		flowing=1
		break
	fi
done
if ((flowing)); then
	echo "   ok: frames flowing through mmdp ($((rx - rx0)) received) when mmload is killed"
else
	echo "   FAILED: no frames flowed from the mmload to be killed" >&2
	cat "$WORK/killed.log" >&2 || true
	FAILS=$((FAILS + 1))
fi
kill -KILL "$KILLED_PID" 2>/dev/null || true
wait "$KILLED_PID" 2>/dev/null || true
KILLED_PID=
sleep 1
mmdp_alive "after a killed mmload"

# ---- 3 --------------------------------------------------------------------------
say "3. memif, the same mmdp: another mmload, 2 rooms x 4, audio, SRTP, 3 s, its I/O thread SCHED_FIFO"
R=$WORK/again.json
st=0
"${MMLOAD[@]}" --rooms 2 --participants 4 --srtp AEAD_AES_128_GCM --duration 3 --warmup 1 \
	--rt-priority 5 --quiet --report "$R" || st=$?
[[ $st == 0 ]] || { echo "   FAILED: mmload exited $st" >&2; FAILS=$((FAILS + 1)); }
[[ -s $R ]] || die "no report"
check "$R" "it passed: no loss, no misdelivery, copies > 0" \
	'.pass and .loss.packets == 0 and .misdelivered.total == 0 and .received.packets == .expected.copies and .expected.copies > 0'
check "$R" "its I/O thread ran SCHED_FIFO at priority 5 (--rt-priority)" '.rt_priority == 5'
# Without CAP_SYS_NICE the priority cannot be had: mmload must say so and
# stop (a run that silently went on without would measure what it was
# asked not to), and take down the rooms it had set up.
if command -v setpriv >/dev/null; then
	# (the mmload killed in 2 left its rooms: count the new ones)
	n0=$(agent '{"op":"hello"}' | jq .rooms)
	st=0
	setpriv --bounding-set=-sys_nice --inh-caps=-sys_nice -- "${MMLOAD[@]}" --rooms 1 \
		--participants 2 --duration 2 --warmup 1 --rt-priority 5 --quiet \
		>"$WORK/nonice.out" 2>&1 || st=$?
	if [[ $st == 2 ]] && grep -q -- "--rt-priority 5: Operation not permitted" "$WORK/nonice.out"; then
		echo "   ok: without CAP_SYS_NICE, --rt-priority fails (exit 2) and says why"
	else
		echo "   FAILED: without CAP_SYS_NICE mmload --rt-priority exited $st: $(cat "$WORK/nonice.out")" >&2
		FAILS=$((FAILS + 1))
	fi
	n=$(agent '{"op":"hello"}' | jq .rooms)
	if [[ $n == "$n0" ]]; then
		echo "   ok: ... and left no room in mmdp ($n0 before, $n after)"
	else
		echo "   FAILED: mmdp has $n rooms after the refused run, $n0 before it" >&2
		FAILS=$((FAILS + 1))
	fi
fi
check "$R" "mmdp received exactly what mmload put on the link, and sent what it took off" \
	'.mmdp.rx_packets == .memif.opackets and .mmdp.tx_packets == .memif.ipackets'
mmdp_alive "after the third mmload left"

# ---- 4 --------------------------------------------------------------------------
say "4. memif, the same mmdp: --find-max over rooms of 4 (audio, SRTP), 2 s trials, at most 16 rooms"
R=$WORK/findmax.json
st=0
"${MMLOAD[@]}" --find-max --rooms 2 --participants 4 --srtp AEAD_AES_128_GCM --trial 2 --warmup 1 \
	--max-rooms 16 --precision 25 --quiet --report "$R" || st=$?
[[ $st == 0 ]] || { echo "   FAILED: mmload --find-max exited $st" >&2; FAILS=$((FAILS + 1)); }
[[ -s $R ]] || die "no report"
check "$R" "the search converged on a maximum > 0" \
	'.mode == "find-max" and .converged and .max.rooms > 0 and .max.participants == .max.rooms * 4'
check "$R" "each step strictly inside the bracket before it, which only shrinks (failed attempts that were retried aside)" \
	'.search as $s | ($s.steps | map(select(.retried | not))) as $st | [range(0; $st | length)] | all(. as $i | $st[$i] as $x |
	 (if $i == 0 then {lo: ($s.min - 1), hi: ($s.max + 1)} else $st[$i - 1] end) as $p |
	 $x.rooms > $p.lo and $x.rooms < $p.hi and $x.lo >= $p.lo and $x.hi <= $p.hi and
	 ($x.hi - $x.lo) < ($p.hi - $p.lo))'
check "$R" "the maximum is the highest step that passed" \
	'.max.rooms == ([.search.steps[] | select(.pass) | .rooms] | max)'
check "$R" "a retried attempt failed and was tried again at the same load" \
	'.search.steps as $st | all(range(0; $st | length); . as $i | ($st[$i].retried | not) or
	 ($st[$i].pass == false and $st[$i + 1].rooms == $st[$i].rooms))'
check "$R" "no step above the maximum passed" \
	'.max.rooms as $m | all(.search.steps[]; .rooms <= $m or (.pass | not))'
check "$R" "the report at the maximum is a passing run of that size" \
	'.at_max.pass and .at_max.scenario.rooms == .max.rooms and .at_max.loss.percent <= 0.01'
check "$R" "a projection from mmdp's busy share at the maximum, above the maximum when the worker was not full" \
	'(.projected == null and (.at_max.forwarder.busy_fraction // 0) <= 0.05) or
	 (.projected.busy_fraction == .at_max.forwarder.busy_fraction and
	  (.projected.participants * .projected.busy_fraction - .max.participants | fabs) < 0.01 and
	  .projected.participants >= .max.participants)'
check "$R" "a summary a planner can paste" \
	'.summary | test("^one mmdp worker core carries [0-9]+ participants in rooms of 4 at profile audio, AEAD_AES_128_GCM")'
say "$(jq -r .summary "$R")"
mmdp_alive "after --find-max"

# ---- 4b -------------------------------------------------------------------------
say "4b. memif, the same mmdp: --ramp over 1, 2, 3 rooms of 4 (audio, plain), 1 s trials, plotted"
R=$WORK/ramp.json
st=0
"${MMLOAD[@]}" --ramp --rooms 1 --max-rooms 3 --ramp-steps 3 --participants 4 --srtp none --trial 1 \
	--warmup 1 --plot "$WORK/ramp" --quiet --report "$R" || st=$?
[[ $st == 0 ]] || { echo "   FAILED: mmload --ramp exited $st" >&2; FAILS=$((FAILS + 1)); }
[[ -s $R ]] || die "no report"
check "$R" "a ramp of three trials at 1, 2 and 3 rooms, each run whatever the one before gave" \
	'.mode == "ramp" and ([.search.steps[].rooms] == [1, 2, 3]) and .search.ramp.steps == 3'
check "$R" "the load grew with the rooms: offered packets/s in step with the participants" \
	'.search.steps | (.[1].offered_pps > .[0].offered_pps * 1.5) and (.[2].offered_pps > .[1].offered_pps * 1.2)'
check "$R" "every trial carried its load (3 copies a packet) and the ramp passed" \
	'.pass and all(.search.steps[]; .pass and .loss_percent == 0 and (.expected_pps / .offered_pps) > 2.9)'
check "$R" "latency percentiles per trial, in order" \
	'all(.search.steps[]; .latency_p50_ms <= .latency_p99_ms and .latency_p99_ms <= .latency_max_ms)'
for png in throughput loss latency; do
	if [[ $(head -c 8 "$WORK/ramp-$png.png" 2>/dev/null | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]]; then
		echo "   ok: $png plot drawn (PNG)"
	else
		echo "   FAILED: no $png plot at $WORK/ramp-$png.png" >&2
		FAILS=$((FAILS + 1))
	fi
done
check "$R" "the plots are named in the report" '.plots.latency | endswith("ramp-latency.png")'
if [[ $(grep -vc '^#' "$WORK/ramp.dat") == 3 ]]; then
	echo "   ok: three rows of data kept"
else
	echo "   FAILED: ramp.dat does not hold 3 rows" >&2
	FAILS=$((FAILS + 1))
fi
mmdp_alive "after --ramp"

# ---- 5 --------------------------------------------------------------------------
say "5. mmdp stops cleanly after six memif clients came and went"
kill -INT "$MMDP_PID"
st=0
wait "$MMDP_PID" || st=$?
MMDP_PID=
if [[ $st == 0 ]]; then
	echo "   ok: mmdp exited 0"
else
	echo "   FAILED: mmdp exited $st" >&2
	tail -n 30 "$WORK/mmdp.log" >&2 || true
	FAILS=$((FAILS + 1))
fi
waits=$(sed -n 's/.*event=workers_stopped unmap_waits=\([0-9]*\).*/\1/p' "$WORK/mmdp.log")
if [[ -n $waits ]] && ((waits >= 5)); then
	echo "   ok: $waits unmaps of departed clients' regions waited for the workers"
else
	echo "   FAILED: unmaps that waited for the workers: '${waits}' (expected >= 5, one per client at least)" >&2
	FAILS=$((FAILS + 1))
fi

if ((FAILS)); then
	die "$FAILS check(s) failed"
fi
say "all checks passed"
