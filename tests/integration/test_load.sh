#!/usr/bin/env bash
# mmload against a real mmdp on the test site (prefix mml-), through the
# kernel: participants on UDP sockets in the site's host namespaces, mmdp
# on its AF_XDP port.
#
# 1. 4 rooms x 4 participants, audio + camera video, SRTP AEAD_AES_128_GCM,
#    10 s (after 2 s of warmup): no loss, no misdelivery, nothing damaged,
#    duplicated or failing SRTP, and the report adds up: every stream's
#    packets reached its 3 receivers exactly (copies received = sent x 3),
#    the totals are the sums of the streams, one latency sample per packet.
# 2. --mute-one (2 rooms x 4, audio + video): mmload mutes the first
#    participant's audio through the agent a third into the run and
#    unmutes it at two thirds; what it sent while muted reached nobody
#    (mmdp dropped it as "muted"), everything else arrived, no misdelivery.
# 3. When mmctld is built (MMCTLD_BIN): the same through mmctld's REST API
#    (rooms, joins with the keys the join returns, mute and unmute).
#
# Runs inside the test site (see meson.build):
#   tools/mmsite run --prefix mml- -- env MMDP_BIN=build/dataplane/mmdp/mmdp \
#       MMLOAD_BIN=build/tools/mmload [MMCTLD_BIN=build/control/mmctld] \
#       tests/integration/test_load.sh
# MMDP_EAL overrides mmdp's EAL arguments; KEEP_WORK=1 keeps the reports.
set -euo pipefail

EAL_DEFAULT="-l 0,1 --in-memory --no-pci --vdev net_af_xdp0,iface=dp0,start_queue=0,queue_count=1"
MMDP_EAL=${MMDP_EAL:-$EAL_DEFAULT}
MMCTLD_BIN=${MMCTLD_BIN:-}

TEST_NAME="load"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

[[ -n ${MMDP_BIN:-} && -x $MMDP_BIN ]] || die "MMDP_BIN (the mmdp binary) is not set or not executable"
[[ -n ${MMLOAD_BIN:-} && -x $MMLOAD_BIN ]] || die "MMLOAD_BIN (the mmload binary) is not set or not executable"
[[ -n ${MMSITE_DP_NS:-} && -n ${MMSITE_H1_NS:-} ]] ||
	die "run inside the test site: tools/mmsite run --prefix mml- -- $0"
command -v jq >/dev/null || die "jq is not installed"

WORK=$(mktemp -d /tmp/mml-test.XXXXXX)
SOCK=$WORK/agent.sock
MMDP_PID=
MMCTLD_PID=
FAILS=0

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local st=$?
	trap - EXIT INT TERM
	[[ -n $MMCTLD_PID ]] && stop_pid "$MMCTLD_PID"
	[[ -n $MMDP_PID ]] && stop_pid "$MMDP_PID"
	work_done "$st" "$WORK" "$WORK/mmdp.log"
	exit "$st"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The checks every run must pass.
check_common() {
	local r=$1
	check "$r" "no loss" '.loss.packets == 0'
	check "$r" "no misdelivery" '.misdelivered.total == 0'
	check "$r" "packets were expected" '.expected.copies > 0'
	check "$r" "received = expected copies" '.received.packets == .expected.copies'
	check "$r" "nothing damaged, duplicated, foreign or from elsewhere" \
		'.corrupt == 0 and .duplicates == 0 and .foreign == 0 and .wrong_source == 0'
	check "$r" "every SRTP packet authenticated" \
		'.srtp_failures.auth == 0 and .srtp_failures.replay == 0 and .srtp_failures.other == 0'
	check "$r" "mmdp's sequence numbers follow the payload's" '.seq_mismatch == 0'
	check "$r" "offered = sum of the streams" '.offered.packets == ([.streams[].sent] | add)'
	check "$r" "received = sum of the streams" '.received.packets == ([.streams[].copies_received] | add)'
	check "$r" "offered = sum of the kinds" \
		'.offered.packets == ([.offered.by_kind[].packets] | add)'
	check "$r" "received = sum of the kinds" \
		'.received.packets == ([.received.by_kind[].packets] | add)'
	check "$r" "one latency sample per packet received" '.latency_ms.count == .received.packets'
	check "$r" "latency percentiles ordered" \
		'.latency_ms.min <= .latency_ms.p50 and .latency_ms.p50 <= .latency_ms.p99 and .latency_ms.p99 <= .latency_ms["p99.9"] and .latency_ms["p99.9"] <= .latency_ms.max'
	check "$r" "mmdp dropped nothing for SRTP" \
		'[.mmdp.drops | keys[] | select(startswith("srtp"))] | length == 0'
	check "$r" "mmdp forwarded at least what was received" '.mmdp.tx_packets >= .received.packets'
	check "$r" "the generator kept its schedule" '.offered.skipped_events == 0 and .offered.send_errors == 0'
	check "$r" "mmload's sockets dropped nothing" \
		'.kernel.udp_rcvbuf_errors == 0 and .kernel.udp_in_datagrams >= .received.packets'
}

cat >"$WORK/mmdp.json" <<EOF
{"agent_socket":"$SOCK",
 "ports":[{"addresses":["$MMSITE_DP_IP4","$MMSITE_DP_IP6"],"gateway_mac":"$MMSITE_GW_MAC"}]}
EOF
say "starting mmdp in $MMSITE_DP_NS: $MMDP_BIN $MMDP_EAL"
# shellcheck disable=SC2086 # EAL arguments are words
nsenter --net="/run/netns/$MMSITE_DP_NS" -- "$MMDP_BIN" $MMDP_EAL -- --config "$WORK/mmdp.json" \
	>"$WORK/mmdp.log" 2>&1 &
MMDP_PID=$!
wait_mmdp

# ---- 1: audio + video, SRTP, 4 rooms x 4 ----------------------------------------
say "1. 4 rooms x 4 participants, audio + video, AEAD_AES_128_GCM, 10 s"
R=$WORK/video.json
st=0
"$MMLOAD_BIN" --socket "$SOCK" --rooms 4 --participants 4 --video --srtp AEAD_AES_128_GCM \
	--duration 10 --warmup 2 --per-stream --report "$R" || st=$?
[[ $st == 0 ]] || { echo "   FAILED: mmload exited $st" >&2; FAILS=$((FAILS + 1)); }
[[ -s $R ]] || die "no report"
check_common "$R"
check "$R" "SRTP profile" '.scenario.srtp == "AEAD_AES_128_GCM"'
check "$R" "audio and video were sent" \
	'.offered.by_kind.audio.packets > 0 and .offered.by_kind.video.packets > 0'
check "$R" "32 streams: 16 audio, 16 video" \
	'(.streams | length) == 32 and ([.streams[] | select(.kind == "video")] | length) == 16'
check "$R" "every stream reached its 3 receivers: copies = sent x 3" \
	'all(.streams[]; .receivers == 3 and .sent == .sent_expected and .copies_received == .sent_expected * 3)'
check "$R" "video frames of several packets (~100 packets/s at 800 kbit/s)" \
	'(.offered.by_kind.video.packets / .measured_s / 16) > 60'
check "$R" "mmdp received what was offered" '.mmdp.rx_packets >= .offered.packets'

# ---- 2: a mute through the agent ------------------------------------------------
say "2. --mute-one: the first participant's audio muted and unmuted through the agent"
R=$WORK/mute.json
st=0
"$MMLOAD_BIN" --socket "$SOCK" --rooms 2 --participants 4 --video --duration 9 --warmup 1 \
	--mute-one --per-stream --report "$R" || st=$?
[[ $st == 0 ]] || { echo "   FAILED: mmload exited $st" >&2; FAILS=$((FAILS + 1)); }
[[ -s $R ]] || die "no report"
check_common "$R"
check "$R" "a mute and an unmute, both acknowledged" \
	'(.mute.events | length) == 2 and all(.mute.events[]; .ok) and .mute.events[0].muted and (.mute.events[1].muted | not)'
MUTED='.streams[] | select(.participant == "mml-r1-p1" and .kind == "audio")'
check "$R" "the muted stream sent while muted" "($MUTED | .sent_muted) > 50"
check "$R" "... and reached nobody then, everything else reached all 3" \
	"($MUTED | .copies_received == .sent_expected * 3)"
check "$R" "mmdp dropped the muted packets" "(.mmdp.drops.muted // 0) >= ($MUTED | .sent_muted)"
check "$R" "other streams untouched" \
	'all(.streams[] | select(.participant != "mml-r1-p1" or .kind != "audio"); .sent_muted == 0 and .sent_uncertain == 0 and .copies_received == .sent * 3)'

# ---- 3: the same through mmctld's REST API ---------------------------------------
if [[ -n $MMCTLD_BIN && -x $MMCTLD_BIN ]]; then
	say "3. set up through mmctld's REST API, with a mute and an unmute"
	API_PORT=$((20000 + RANDOM % 20000))
	cat >"$WORK/mmctld.json" <<EOF
{"listen":"127.0.0.1:$API_PORT","db":"$WORK/mmctld.db","mmdp_socket":"$SOCK",
 "media_address":"$MMSITE_DP_IP4","port_range":[30000,30999],"srtp_profile":"AEAD_AES_256_GCM"}
EOF
	TOKEN=$("$MMCTLD_BIN" --config "$WORK/mmctld.json" --create-operator-token)
	"$MMCTLD_BIN" --config "$WORK/mmctld.json" >"$WORK/mmctld.log" 2>&1 &
	MMCTLD_PID=$!
	URL=http://127.0.0.1:$API_PORT
	wait_mmctld
	R=$WORK/rest.json
	st=0
	"$MMLOAD_BIN" --mmctld "$URL" --token "$TOKEN" --socket "$SOCK" --rooms 2 --participants 3 \
		--video --screen --duration 6 --warmup 1 --mute-one --per-stream --report "$R" || st=$?
	[[ $st == 0 ]] || { echo "   FAILED: mmload exited $st" >&2; FAILS=$((FAILS + 1)); }
	[[ -s $R ]] || die "no report"
	check_common "$R"
	check "$R" "set up through mmctld, with mmctld's SRTP profile" \
		'.control == "mmctld" and .scenario.srtp == "AEAD_AES_256_GCM"'
	check "$R" "a mute and an unmute, both acknowledged" \
		'(.mute.events | length) == 2 and all(.mute.events[]; .ok)'
	check "$R" "screen shares reached everyone" \
		'[.streams[] | select(.kind == "screen")] | length == 2 and all(.[]; .copies_received == .sent_expected * 2 and .sent > 0)'
	rooms=$(curl -sf -H "Authorization: Bearer $TOKEN" "$URL/v1/rooms" | jq '.rooms | length')
	[[ $rooms == 0 ]] || { echo "   FAILED: $rooms rooms left in mmctld" >&2; FAILS=$((FAILS + 1)); }
else
	say "3. skipped: mmctld is not built"
fi

if ((FAILS)); then
	die "$FAILS check(s) failed"
fi
say "all checks passed"
