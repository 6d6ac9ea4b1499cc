#!/usr/bin/env bash
# Everything at once (issue 10, item 3), on the test site (prefix mmz-),
# through guard_site.sh (a private bpffs, mmdp's addresses on the kernel
# side of dp0):
#   - mmdp with the XDP guard (xdp_prog= on its af_xdp port) and mmctld;
#   - mmload carries CHAOS_ROOMS meetings of CHAOS_PARTICIPANTS (SRTP,
#     audio + camera video), set up through mmctld's REST API, for
#     CHAOS_SECONDS measured;
#   - meanwhile two mmflood processes (hosts 2 and 3) send FLOOD_PPS frames/s
#     at mmdp's media ports: garbage, spoofed RTP and STUN from unknown
#     sources, RTP from a participant kicked through the API and from a
#     prefix banned through the API;
#   - and chaos_churn.py creates and deletes rooms, joins, mutes, kicks and
#     lets participants leave through the API, at CHURN_RATE requests/s,
#     checking every status (2xx, or the documented error for requests made
#     to fail).
# Printed: legitimate loss and latency p50/p99/max (mmload's report), the
# guard's drops by reason, the churn's operations per second and the API's
# latency, mmdp's mbufs in use, open files and resident memory of both
# daemons before and after.
# Asserted: nothing misdelivered, damaged or failing SRTP; legitimate loss
# within CHAOS_MAX_LOSS (see the reasoning at its default below; packets
# lost while the machine gave mmdp's worker no CPU, as the kernel's
# scheduler statistics show, are counted apart and printed); the guard
# dropped the flood at XDP (its counters, by reason); every churned request
# got what it must; at the end no room, endpoint, block or ban is left in
# mmdp or in the API and the guard's lists are in sync; mmdp's mbufs in use
# are back where they were; both daemons alive and answering.
#
#   tools/mmsite run --prefix mmz- -- tests/integration/guard_site.sh \
#       env MMDP_BIN=... MMCTLD_BIN=... MMLOAD_BIN=... MMFLOOD_BIN=... \
#       MMAGENT_BIN=... GUARD_OBJ=build/bpf/guard.bpf.o tests/integration/test_chaos.sh
# KEEP_WORK=1 keeps the reports and logs.
set -euo pipefail

CHAOS_SECONDS=${CHAOS_SECONDS:-30}
CHAOS_ROOMS=${CHAOS_ROOMS:-3}
CHAOS_PARTICIPANTS=${CHAOS_PARTICIPANTS:-4}
FLOOD_PPS=${FLOOD_PPS:-40000}
CHURN_RATE=${CHURN_RATE:-40}
# The loss bound. Without the flood and the churn, mmload through the
# kernel loses nothing on this site (test_load.sh asserts 0). Here the
# guard's work on the flood (in the softirq of whichever CPU), mmflood,
# mmload, the churn and mmctld share CPU 0 (mmdp's worker spins on CPU 1),
# on a 2-vCPU VM shared with other jobs: a loss, when there is one, comes in
# a burst when mmload's receive thread is not scheduled in time and its
# sockets' buffers overflow, not as a steady leak. Measured on that VM
# (RELIABILITY.md, "Everything at once"): 0 in every run where the machine
# did not hold mmdp's worker back for long (load averages of 5 to 16); the
# runs that lost lost it in the AF_XDP ring while the worker waited for a
# CPU, which is counted apart (below). The default scenario expects about
# 155,000 copies in 30 s; 0.5 % is 775 of them, a stall of all twelve
# receivers for about 150 ms. It still fails when the churn disturbs another meeting's routes:
# one receiver missing one audio stream for the run is about 1 % (1,500
# copies), a video stream about 2 %. Flood frames let through to mmdp are
# checked by the guard's counters and mmdp's drops below, not by the loss.
CHAOS_MAX_LOSS=${CHAOS_MAX_LOSS:-0.5}
PORT_LO=30000
PORT_HI=30999
HANDSHAKE_PPS=100
HANDSHAKE_BURST=50

TEST_NAME="chaos"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
CHURN_PY=$(dirname "$0")/chaos_churn.py

for v in MMDP_BIN MMCTLD_BIN MMLOAD_BIN MMFLOOD_BIN MMAGENT_BIN; do
	[[ -n ${!v:-} && -x ${!v} ]] || die "$v is not set or not executable"
done
[[ -n ${GUARD_OBJ:-} && -r $GUARD_OBJ ]] || die "GUARD_OBJ (guard.bpf.o) is not set or not readable"
[[ -n ${MMSITE_DP_NS:-} && -n ${MMSITE_H3_NS:-} ]] ||
	die "run inside the test site (3 hosts) through guard_site.sh"
for t in jq curl /usr/bin/python3; do
	command -v "$t" >/dev/null || die "$t is not installed"
done

WORK=$(mktemp -d /tmp/mmz-chaos.XXXXXX)
SOCK=$WORK/agent.sock
MMDP_PID=
MMCTLD_PID=
FLOOD_PIDS=()
CHURN_PID=
FAILS=0

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local st=$? p
	trap - EXIT INT TERM
	for p in "${FLOOD_PIDS[@]}" $CHURN_PID; do stop_pid "$p" 50; done
	[[ -n $MMCTLD_PID ]] && stop_pid "$MMCTLD_PID"
	[[ -n $MMDP_PID ]] && stop_pid "$MMDP_PID"
	work_done "$st" "$WORK" "$WORK/mmdp.log"
	exit "$st"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() { echo "   FAILED: $*" >&2; FAILS=$((FAILS + 1)); }
ok() { echo "   ok: $*"; }
# expect WHAT BOOL-EXPR-RESULT: "true" passes
expect() { if [[ $2 == true ]]; then ok "$1"; else fail "$1"; fi; }

agent() { "$MMAGENT_BIN" --socket "$SOCK" --timeout 15000 "$1"; }
api() { # api METHOD PATH [BODY]: the body on stdout, the status in $WORK/status
	local m=$1 p=$2 b=${3:-}
	curl -sS -o "$WORK/api.out" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $TOKEN" \
		${b:+-H 'Content-Type: application/json' --data "$b"} "$URL$p" >"$WORK/status" || true
	cat "$WORK/api.out"
}
status() { cat "$WORK/status"; }
fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
# Nanoseconds mmdp's worker thread (lcore 1: "rte-worker-1") spent runnable
# but waiting for a CPU (the kernel's schedstat, second field).
worker_wait_ns() {
	local t
	for t in /proc/"$MMDP_PID"/task/*; do
		[[ $(cat "$t/comm" 2>/dev/null) == rte-worker-1 ]] && { awk '{print $2}' "$t/schedstat"; return; }
	done
	echo 0
}
mbufs_in_use() { jq '[.mempools[] | select(.name == "mmdp_mbufs") | .in_use] | add // -1'; }

# ---- mmdp with the guard, mmctld ------------------------------------------------
cat >"$WORK/mmdp.json" <<EOF
{"agent_socket":"$SOCK",
 "ports":[{"addresses":["$MMSITE_DP_IP4","$MMSITE_DP_IP6"],"gateway_mac":"$MMSITE_GW_MAC"}],
 "guard":{"pin_dir":"/sys/fs/bpf","port_range":[$PORT_LO,$PORT_HI],
          "handshake":{"pps":$HANDSHAKE_PPS,"burst":$HANDSHAKE_BURST}}}
EOF
VDEV="net_af_xdp0,iface=$MMSITE_DP_IF,start_queue=0,queue_count=1,xdp_prog=$GUARD_OBJ"
say "starting mmdp with the XDP guard in $MMSITE_DP_NS"
nsenter --net="/run/netns/$MMSITE_DP_NS" -- "$MMDP_BIN" -l 0,1 --in-memory --no-pci --vdev "$VDEV" \
	-- --config "$WORK/mmdp.json" >"$WORK/mmdp.log" 2>&1 &
MMDP_PID=$!
wait_mmdp
[[ $(agent '{"op":"hello"}' | jq -r .guard) == true ]] || die "mmdp runs without the guard"

API_PORT=$((20000 + RANDOM % 20000))
cat >"$WORK/mmctld.json" <<EOF
{"listen":"127.0.0.1:$API_PORT","db":"$WORK/mmctld.db","mmdp_socket":"$SOCK",
 "media_address":"$MMSITE_DP_IP4","port_range":[$PORT_LO,$PORT_HI],"srtp_profile":"AEAD_AES_128_GCM"}
EOF
TOKEN=$("$MMCTLD_BIN" --config "$WORK/mmctld.json" --create-operator-token)
# Everything but mmdp's worker (CPU 1) on CPU 0.
taskset -c 0 "$MMCTLD_BIN" --config "$WORK/mmctld.json" >"$WORK/mmctld.log" 2>&1 &
MMCTLD_PID=$!
URL=http://127.0.0.1:$API_PORT
wait_mmctld
api GET /v1/rooms >/dev/null
[[ $(status) == 200 ]] || die "mmctld does not answer (status $(status))"

# ---- what the flood pretends to be: a kicked participant, a banned prefix ---------
say "a participant kicked and two prefixes banned through the API"
room=$(api POST /v1/rooms '{"name":"chaos-victim"}' | jq -r .id)
[[ $(status) == 201 ]] || die "room: status $(status)"
join=$(api POST "/v1/rooms/$room/participants" \
	"{\"display_name\":\"victim\",\"remote\":{\"addr\":\"$MMSITE_H2_IP4\",\"port\":7000}}")
[[ $(status) == 201 ]] || die "join: status $(status): $join"
victim=$(jq -r .id <<<"$join")
vport=$(jq -r .transport.server.port <<<"$join")
api POST "/v1/rooms/$room/participants/$victim/kick" '{"reason":"chaos","block_seconds":3600}' >/dev/null
[[ $(status) == 204 ]] || die "kick: status $(status)"
api DELETE "/v1/rooms/$room" >/dev/null
[[ $(status) == 204 ]] || die "room delete: status $(status)"
VBLOCK=$(api GET /v1/blocks | jq -r '.blocks[0].id')
BAN4=$(api POST /v1/bans '{"prefix":"198.18.200.0/24","ttl_seconds":3600,"reason":"chaos"}' | jq -r .id)
[[ $(status) == 201 ]] || die "ban: status $(status)"
BAN6=$(api POST /v1/bans '{"prefix":"2001:2:0:bad::/64","ttl_seconds":3600,"reason":"chaos"}' | jq -r .id)
[[ $(status) == 201 ]] || die "ban: status $(status)"

WAIT0=$(worker_wait_ns)
agent '{"op":"stats.get"}' >"$WORK/stats0.json"
MBUF0=$(mbufs_in_use <"$WORK/stats0.json")
FD0_DP=$(fds "$MMDP_PID")
FD0_CTL=$(fds "$MMCTLD_PID")
RSS0_DP=$(rss_kb "$MMDP_PID")
RSS0_CTL=$(rss_kb "$MMCTLD_PID")

# ---- everything at once -----------------------------------------------------------
say "flood $FLOOD_PPS frames/s + churn $CHURN_RATE requests/s + $CHAOS_ROOMS x $CHAOS_PARTICIPANTS" \
	"participants (SRTP audio + video) for $CHAOS_SECONDS s"
for h in 2 3; do
	ns=MMSITE_H${h}_NS ip4=MMSITE_H${h}_IP4 ip6=MMSITE_H${h}_IP6
	nsenter --net="/run/netns/${!ns}" -- "$MMFLOOD_BIN" --ifname=eth0 --dst-mac="$MMSITE_DP_MAC" \
		--dst4="$MMSITE_DP_IP4" --dst6="$MMSITE_DP_IP6" --src4="${!ip4}" --src6="${!ip6}" \
		--ports=$PORT_LO-$PORT_HI --spoof4=198.18.128.0/18 --spoof6=2001:2:0:8000::/49 \
		--banned4=198.18.200.0/24 --banned6=2001:2:0:bad::/64 \
		--kicked="$MMSITE_H2_IP4:7000>$vport" \
		--mix=garbage=30,spoofed=40,stun=5,kicked=10,banned=15 \
		--rate=$((FLOOD_PPS / 2)) --duration=$((CHAOS_SECONDS + 120)) --cpu=0 --seed=$h \
		>"$WORK/flood-h$h.json" 2>"$WORK/flood-h$h.log" &
	FLOOD_PIDS+=($!)
done
taskset -c 0 /usr/bin/python3 "$CHURN_PY" --url "$URL" --token "$TOKEN" --rate "$CHURN_RATE" \
	--duration $((CHAOS_SECONDS + 120)) --prefix churn --report "$WORK/churn.json" \
	>"$WORK/churn.log" 2>&1 &
CHURN_PID=$!
sleep 1 # the flood and the churn first
R=$WORK/load.json
st=0
"$MMLOAD_BIN" --mmctld "$URL" --token "$TOKEN" --socket "$SOCK" --prefix chaos \
	--rooms "$CHAOS_ROOMS" --participants "$CHAOS_PARTICIPANTS" --video --duration "$CHAOS_SECONDS" \
	--warmup 2 --cpu 0 --max-loss 100 --quiet --report "$R" \
	>"$WORK/mmload.log" 2>&1 || st=$?
# The churn stops at the end of its cycle, the floods at once (both on SIGTERM).
for p in $CHURN_PID "${FLOOD_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
for p in $CHURN_PID "${FLOOD_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
CHURN_PID=
FLOOD_PIDS=()
agent '{"op":"stats.get"}' >"$WORK/stats1.json"
WAIT1=$(worker_wait_ns)
[[ -s $R ]] || { tail -n 20 "$WORK/mmload.log" >&2; die "mmload wrote no report (exit $st)"; }
[[ -s $WORK/churn.json ]] || { cat "$WORK/churn.log" >&2; die "the churn wrote no report"; }
C=$WORK/churn.json

# ---- what happened ----------------------------------------------------------------
flood_sent=$(jq -s '[.[].sent] | add' "$WORK"/flood-h[23].json)
flood_pps=$(jq -s '[.[].pps] | add' "$WORK"/flood-h[23].json)
class() { jq -s "[.[].classes.$1] | add" "$WORK"/flood-h[23].json; }
gd() { jq ".guard.drops.$2 // 0" "$1"; }
gdelta() { echo $(($(gd "$WORK/stats1.json" "$1") - $(gd "$WORK/stats0.json" "$1"))); }
verdict_drop=$(($(jq '.guard.verdicts.drop.packets' "$WORK/stats1.json") -
	$(jq '.guard.verdicts.drop.packets' "$WORK/stats0.json")))
jq -r '"legitimate: \(.offered.packets) packets offered (\(.offered.pps | floor)/s), \(.received.packets) of \(.expected.copies) copies received, loss \(.loss.packets) (\(.loss.percent) %), latency ms p50 \(.latency_ms.p50) p99 \(.latency_ms.p99) max \(.latency_ms.max), misdelivered \(.misdelivered.total)"' "$R" |
	sed "s/^/$TEST_NAME: /"
say "flood: $flood_sent frames, $flood_pps/s; the guard dropped $verdict_drop at XDP:" \
	"$(jq -c -n --slurpfile a "$WORK/stats0.json" --slurpfile b "$WORK/stats1.json" \
		'$b[0].guard.drops | with_entries(.value -= ($a[0].guard.drops[.key] // 0)) | with_entries(select(.value > 0))')"
# What the guard passed to mmdp's AF_XDP socket and what mmdp's worker took
# from it: the difference was lost in the socket's ring, full because the
# worker did not poll in time (on a shared VM: it got no CPU).
redirected=$(($(jq '.guard.verdicts.redirect.packets' "$WORK/stats1.json") -
	$(jq '.guard.verdicts.redirect.packets' "$WORK/stats0.json")))
taken=$(($(jq '[.workers[].rx_packets] | add' "$WORK/stats1.json") -
	$(jq '[.workers[].rx_packets] | add' "$WORK/stats0.json")))
ring_lost=$((redirected - taken))
wait_s=$(jq -n "($WAIT1 - $WAIT0) / 1e9 * 1000 | round / 1000")
say "the guard passed $redirected packets to mmdp's AF_XDP socket, mmdp's worker took $taken;" \
	"lost in the socket's ring while the worker did not poll: $ring_lost; the worker waited" \
	"$wait_s s for a CPU (runnable, not running: schedstat)"
say "mmdp's own drops: $(jq -c -n --slurpfile a "$WORK/stats0.json" --slurpfile b "$WORK/stats1.json" \
	'$b[0].drops | with_entries(.value -= ($a[0].drops[.key] // 0)) | with_entries(select(.value > 0))')"
jq -r '"churn: \(.operations) requests in \(.seconds) s (\(.ops_per_s)/s), \(.cycles) cycles, \(.rooms_created) rooms, \(.unexpected_count) unexpected; API latency ms p50 \(.latency_ms.p50) p99 \(.latency_ms.p99) max \(.latency_ms.max)"' "$C" |
	sed "s/^/$TEST_NAME: /"

# ---- what must hold ----------------------------------------------------------------
say "checks"
if [[ $st == 0 ]]; then
	ok "mmload ran to the end (exit 0; its loss is judged below)"
else
	fail "mmload exited $st"
fi
# Packets lost in the AF_XDP ring because the machine gave mmdp's worker no
# CPU are counted apart, and only as far as the kernel's scheduler
# statistics show the worker runnable but not running for at least as long
# as those packets took to arrive; all other loss counts. On a machine
# where the worker has its core (CI) the worker's wait is near zero and
# every loss counts: a worker stuck in mmdp (a lock, a slow path under the
# churn) is not waiting for a CPU and is not excused.
excused=0
if ((ring_lost > 0)); then
	if [[ $(jq -n --slurpfile r "$R" "$wait_s >= $ring_lost / \$r[0].offered.pps") == true ]]; then
		excused=$(jq -n --slurpfile r "$R" \
			"$ring_lost * \$r[0].expected.copies / \$r[0].offered.packets | ceil")
		say "WARNING: $excused lost copies counted apart: $ring_lost packets lost in the" \
			"AF_XDP ring while the worker waited $wait_s s for a CPU (a machine shared with" \
			"other jobs); this run says little about loss"
	else
		say "$ring_lost packets lost in the AF_XDP ring, not explained by the worker's wait" \
			"for a CPU ($wait_s s): they count"
	fi
fi
expect "legitimate loss <= $CHAOS_MAX_LOSS % (less $excused copies lost while the worker had no CPU)" \
	"$(jq --argjson x "$excused" "([.loss.packets - \$x, 0] | max) * 100 / .expected.copies <= $CHAOS_MAX_LOSS" "$R")"
check "$R" "nothing misdelivered" '.misdelivered.total == 0'
check "$R" "nothing damaged, foreign or from elsewhere" \
	'.corrupt == 0 and .foreign == 0 and .wrong_source == 0 and .seq_mismatch == 0'
check "$R" "every SRTP packet authenticated" \
	'.srtp_failures.auth == 0 and .srtp_failures.replay == 0 and .srtp_failures.other == 0'
check "$R" "audio and video carried" \
	'.offered.by_kind.audio.packets > 0 and .offered.by_kind.video.packets > 0 and .received.packets > 0'
check "$R" "set up through mmctld" '.control == "mmctld"'
check "$C" "every churn request got its status (2xx, or the documented error)" '.unexpected_count == 0'
check "$C" "churn: at least 5 requests/s, every kind of request made" \
	'.ops_per_s >= 5 and ([.ops | keys[]] | length) >= 12'
check "$C" "churn: every room it created is gone from the API" '(.rooms_left | length) == 0'
legit_in=$(jq '.offered.pps' "$R")
expect "the flood ($flood_pps/s) was over 10x the legitimate packets to mmdp ($legit_in/s)" \
	"$(jq -n "$flood_pps >= 10 * $legit_in")"
# What the guard lets through on purpose: STUN from unknown sources within
# the global handshake budget (mmdp then drops it itself).
flood_secs=$(jq -s '[.[].seconds] | max | ceil' "$WORK"/flood-h[23].json)
budget=$((HANDSHAKE_PPS * (flood_secs + 1) + HANDSHAKE_BURST))
expect "the guard dropped the flood at XDP ($verdict_drop of $flood_sent, less the handshake budget $budget)" \
	"$(jq -n "$verdict_drop >= 0.99 * $flood_sent - $budget")"
blocked=$(gdelta blocked)
banned=$(gdelta blocked_prefix)
kicked_sent=$(class kicked)
banned_sent=$(class banned)
expect "the kicked 5-tuple's frames dropped as blocked ($blocked of $kicked_sent)" \
	"$(jq -n "$blocked <= $kicked_sent and $blocked >= 0.99 * $kicked_sent")"
expect "the banned prefixes' frames dropped as blocked_prefix ($banned of $banned_sent)" \
	"$(jq -n "$banned <= $banned_sent and $banned >= 0.99 * $banned_sent")"
for reason in unknown_endpoint demux_unknown rtp_malformed handshake_rate_limited; do
	expect "the guard counted $reason drops ($(gdelta $reason))" "$(jq -n "$(gdelta $reason) > 0")"
done
mm_stun=$(($(jq '.drops.stun_unsupported // 0' "$WORK/stats1.json") -
	$(jq '.drops.stun_unsupported // 0' "$WORK/stats0.json")))
expect "spoofed STUN reaching mmdp ($mm_stun) within the handshake budget ($budget)" \
	"$(jq -n "$mm_stun <= $budget")"
mm_other=$(jq -n --slurpfile a "$WORK/stats0.json" --slurpfile b "$WORK/stats1.json" \
	'[$b[0].drops | to_entries[] | select(.key != "stun_unsupported") |
	  .value - ($a[0].drops[.key] // 0)] | add // 0')
expect "nothing else of the flood or the churn reached mmdp to be dropped there ($mm_other)" \
	"$(jq -n "$mm_other == 0")"

# mmdp ahead of mmctld's generation: what a change leaves behind when mmdp
# applies it after mmctld gave up waiting for the reply (5 s; mmdp's agent
# waits for its worker, which a starved CPU can hold back that long) and
# rolled it back. Found by this test on a loaded machine: mmctld then got
# stale_generation for every push and state.sync and answered 503 to every
# change until mmdp restarted. Now the change that meets it gets 503, the
# next request resyncs (the store's generation raised to mmdp's, its state
# replacing mmdp's) and succeeds.
say "mmdp ahead of mmctld's generation (a change applied after mmctld timed out)"
gen=$(agent '{"op":"hello"}' | jq .generation)
agent "{\"op\":\"room.put\",\"room\":\"applied-late\",\"generation\":$((gen + 3))}" >/dev/null
api POST /v1/rooms '{"name":"after-ahead-1"}' >/dev/null
first=$(status)
api POST /v1/rooms '{"name":"after-ahead-2"}' >"$WORK/ahead.json"
expect "the change that met it refused (503, nothing stored), the next one made (201): $first, $(status)" \
	"$([[ $first == 503 && $(status) == 201 ]] && echo true)"
agent '{"op":"stats.get"}' >"$WORK/ahead-stats.json"
check "$WORK/ahead-stats.json" "mmdp holds mmctld's state again: the late room gone, the new one there" \
	"[.rooms[].room] | (index(\"applied-late\") == null) and (length == 1)"
check "$WORK/ahead-stats.json" "mmdp's generation did not go back" ".generation >= $((gen + 3))"
api GET /v1/rooms >"$WORK/ahead-rooms.json"
check "$WORK/ahead-rooms.json" "the refused room was not stored" \
	'[.rooms[].name] == ["after-ahead-2"]'
api DELETE "/v1/rooms/$(jq -r .id "$WORK/ahead.json")" >/dev/null
expect "and deleted (204)" "$([[ $(status) == 204 ]] && echo true)"

# No leak: the churn's kicks blocked for 2 s; lift the victim's block and
# the bans, then nothing may be left anywhere.
say "no leak: rooms, endpoints, blocks and bans in mmdp and in the API"
api DELETE "/v1/blocks/$VBLOCK" >/dev/null
expect "the victim's block lifted (204)" "$([[ $(status) == 204 ]] && echo true)"
for b in "$BAN4" "$BAN6"; do
	api DELETE "/v1/bans/$b" >/dev/null
	expect "ban $b lifted (204)" "$([[ $(status) == 204 ]] && echo true)"
done
for ((i = 0; i < 100; i++)); do
	agent '{"op":"stats.get"}' >"$WORK/stats2.json"
	[[ $(jq '(.rooms | length) + (.blocks | length) + (.bans | length)' "$WORK/stats2.json") == 0 ]] && break
	sleep 0.1
done
S2=$WORK/stats2.json
check "$S2" "mmdp: no room left (nor any endpoint)" '(.rooms | length) == 0'
check "$S2" "mmdp: no block left (the churn's expired, the victim's lifted)" '(.blocks | length) == 0'
check "$S2" "mmdp: no ban left" '(.bans | length) == 0'
check "$S2" "the guard's lists in sync with mmdp, no error" \
	'.guard.sync.in_sync == true and .guard.sync.errors == 0'
api GET /v1/rooms >"$WORK/rooms.json"
check "$WORK/rooms.json" "API: no room left" '(.rooms | length) == 0'
api GET /v1/blocks >"$WORK/blocks.json"
check "$WORK/blocks.json" "API: no block left" '(.blocks | length) == 0'
api GET /v1/bans >"$WORK/bans.json"
check "$WORK/bans.json" "API: no ban left" '(.bans | length) == 0'
MBUF2=$(mbufs_in_use <"$S2")
FD2_DP=$(fds "$MMDP_PID")
FD2_CTL=$(fds "$MMCTLD_PID")
say "mmdp: mbufs in use $MBUF0 -> $MBUF2, open files $FD0_DP -> $FD2_DP, RSS $RSS0_DP -> $(rss_kb "$MMDP_PID") kB;" \
	"mmctld: open files $FD0_CTL -> $FD2_CTL, RSS $RSS0_CTL -> $(rss_kb "$MMCTLD_PID") kB"
# In use at rest: the mbufs posted to the AF_XDP fill ring and held in the
# rx/tx rings; a burst (32) per ring of slack for where the snapshot falls.
expect "mmdp's mbufs in use back to where they were ($MBUF0 -> $MBUF2)" \
	"$(jq -n "$MBUF0 >= 0 and $MBUF2 <= $MBUF0 + 64")"
expect "mmdp's open files unchanged ($FD0_DP -> $FD2_DP)" "$(jq -n "$FD2_DP == $FD0_DP")"
expect "mmctld's open files back to where they were ($FD0_CTL -> $FD2_CTL)" \
	"$(jq -n "$FD2_CTL <= $FD0_CTL")"
if kill -0 "$MMDP_PID" 2>/dev/null && [[ $(agent '{"op":"hello"}' | jq -r .ok) == true ]]; then
	ok "mmdp alive and answering"
else
	fail "mmdp is not answering"
fi
api GET /v1/guard >"$WORK/guard.json"
if kill -0 "$MMCTLD_PID" 2>/dev/null && [[ $(status) == 200 ]]; then
	ok "mmctld alive and answering (GET /v1/guard)"
else
	fail "mmctld is not answering (status $(status))"
fi

if ((FAILS)); then
	[[ -s $WORK/churn.json ]] && jq -c '.unexpected[:5]' "$WORK/churn.json" >&2
	die "$FAILS check(s) failed"
fi
say "all checks passed"
