#!/usr/bin/env bash
# mmdp as an SFU (issue 7, docs/agent-protocol.md "Meetings of 100") on the
# test site (prefix mmf-), driven by mmload through the kernel:
# participants on UDP sockets in the site's host namespaces, mmdp on its
# AF_XDP port.
#
# 1. Last-N: one room of 100 participants, audio with RFC 6464 levels,
#    three speak at a time (the floor moves by one every 6 s): every
#    receiver hears exactly the speakers (those other than itself), and no
#    one else once a turn has settled; nothing lost; mmdp dropped the
#    others' audio as last_n, and speakers.get names a dominant speaker
#    and three selected.
# 2. Simulcast: one room of 4, audio and three camera layers each, VP8;
#    participant 1 drops to low resolution (max_layer 0) 4 s in: every
#    switch at a keyframe's first packet, no sequence gap at any switch, no
#    two layers interleaved, nothing lost; at the end participant 1's three
#    views are on layer 0 and the other nine on layer 2.
# 3. Loss repair: one room of 3 with camera video and SRTP; 4 % loss on the
#    link to the first host, its receiver's downlink: tc netem on the
#    bridge's port toward it, or where the kernel has no netem (this
#    machine's has none: CONFIG_NET_SCH_NETEM is not set) an iptables
#    "statistic" rule dropping 4 % of the UDP that reaches the host.
#    Receivers NACK the gaps, mmdp answers with RTX from its cache: packets
#    were lost and repaired, none lost after repair, and mmdp's counters
#    show the NACKs and the RTX it sent.
#
# Runs inside the test site (see meson.build):
#   tools/mmsite run --prefix mmf- -- env MMDP_BIN=... MMLOAD_BIN=... MMAGENT_BIN=... $0
# MMDP_EAL overrides mmdp's EAL arguments; KEEP_WORK=1 keeps the reports.
set -euo pipefail

EAL_DEFAULT="-l 0,1 --in-memory --no-pci --vdev net_af_xdp0,iface=dp0,start_queue=0,queue_count=1"
MMDP_EAL=${MMDP_EAL:-$EAL_DEFAULT}

TEST_NAME="sfu"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

[[ -n ${MMDP_BIN:-} && -x $MMDP_BIN ]] || die "MMDP_BIN (the mmdp binary) is not set or not executable"
[[ -n ${MMLOAD_BIN:-} && -x $MMLOAD_BIN ]] || die "MMLOAD_BIN (the mmload binary) is not set or not executable"
[[ -n ${MMAGENT_BIN:-} && -x $MMAGENT_BIN ]] || die "MMAGENT_BIN (the mmagent binary) is not set or not executable"
[[ -n ${MMSITE_DP_NS:-} && -n ${MMSITE_SW_NS:-} && -n ${MMSITE_H1_NS:-} ]] ||
	die "run inside the test site: tools/mmsite run --prefix mmf- -- $0"
command -v jq >/dev/null || die "jq is not installed"
command -v tc >/dev/null || die "tc (iproute2) is not installed"
command -v iptables >/dev/null || die "iptables is not installed"

WORK=$(mktemp -d /tmp/mmf-test.XXXXXX)
SOCK=$WORK/agent.sock
MMDP_PID=
LOSS_RULE=
FAILS=0

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local st=$?
	trap - EXIT INT TERM
	[[ -n $LOSS_RULE ]] && loss_off
	[[ -n $MMDP_PID ]] && stop_pid "$MMDP_PID"
	work_done "$st" "$WORK" "$WORK/mmdp.log"
	exit "$st"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

agent() { "$MMAGENT_BIN" --socket "$SOCK" "$@"; }

# Lose PCT % of what reaches host 1 (its link's downlink): netem on the
# bridge's port toward it, else an iptables rule in the host.
loss_on() {
	local pct=$1
	if nsenter --net="/run/netns/$MMSITE_SW_NS" -- tc qdisc add dev swh1 root netem loss "$pct%" 2>/dev/null; then
		LOSS_RULE=netem
	else
		nsenter --net="/run/netns/$MMSITE_H1_NS" -- iptables -w -I INPUT -p udp -m statistic \
			--mode random --probability "$(awk -v p="$pct" 'BEGIN { printf "%.4f", p / 100 }')" -j DROP
		LOSS_RULE=iptables
	fi
	say "   $pct % loss toward host 1 ($LOSS_RULE)"
}
loss_off() {
	if [[ $LOSS_RULE == netem ]]; then
		nsenter --net="/run/netns/$MMSITE_SW_NS" -- tc qdisc del dev swh1 root 2>/dev/null || true
	else
		nsenter --net="/run/netns/$MMSITE_H1_NS" -- iptables -w -F INPUT 2>/dev/null || true
	fi
	LOSS_RULE=
}

start_mmdp() {
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
}

# What every run must show.
check_common() {
	local r=$1
	check "$r" "no misdelivery" '.misdelivered.total == 0'
	check "$r" "nothing damaged, duplicated or foreign" \
		'.corrupt == 0 and .duplicates == 0 and .foreign == 0 and .wrong_source == 0'
	check "$r" "every SRTP packet authenticated" \
		'.srtp_failures.auth == 0 and .srtp_failures.other == 0'
	check "$r" "the generator kept its schedule" '.offered.skipped_events == 0 and .offered.send_errors == 0'
	check "$r" "mmload's sockets dropped nothing" '.kernel.udp_rcvbuf_errors == 0'
}

start_mmdp

# ---- 1: last-N in a room of 100 ---------------------------------------------
say "1. one room of 100, audio, 3 speakers, last_n 3, 14 s"
R=$WORK/lastn.json
st=0
"$MMLOAD_BIN" --socket "$SOCK" --rooms 1 --participants 100 --speakers 3 --turn 6 --settle 2.5 \
	--last-n 3 --duration 14 --warmup 2 --report "$R" &
LOAD_PID=$!
# While it runs (mmload removes its room at the end): who speaks?
sleep 9
agent '{"op":"speakers.get"}' >"$WORK/speakers.json"
SEQ=$(jq .seq "$WORK/speakers.json")
agent "{\"op\":\"speakers.get\",\"since\":$SEQ}" >"$WORK/speakers2.json"
wait "$LOAD_PID" || st=$?
[[ $st == 0 ]] || { echo "   FAILED: mmload exited $st" >&2; FAILS=$((FAILS + 1)); }
[[ -s $R ]] || die "no report"
check_common "$R"
check "$R" "100 receivers" '.sfu.audio.receivers == 100'
check "$R" "every receiver heard exactly the speakers of the last turn" '.sfu.audio.all_exact == true'
check "$R" "3 sources heard (2 by the speakers themselves)" \
	'.sfu.audio.heard_min == 2 and .sfu.audio.heard_max == 3'
check "$R" "no audio from a non-speaker after a turn settled" '.sfu.audio.unexpected_audio == 0'
check "$R" "nothing lost in what was forwarded" '.sfu.lost == 0'
check "$R" "mmdp dropped the others' audio as last_n" '.mmdp.drops.last_n > 0'
check "$WORK/speakers.json" "speakers.get names a dominant speaker and 3 selected" \
	'.ok == true and (.rooms | length) == 1 and (.rooms[0] as $r | $r.dominant != null and ($r.last_n | length) == 3 and ($r.last_n | index($r.dominant)) != null)'
check "$WORK/speakers2.json" "asked again at once: no change since" '.ok == true and (.rooms | length) == 0'

# ---- 2: simulcast, a receiver drops to low resolution ---------------------------
say "2. one room of 4, three camera layers, participant 1 to max_layer 0 at 4 s, 12 s"
R=$WORK/simulcast.json
st=0
"$MMLOAD_BIN" --socket "$SOCK" --rooms 1 --participants 4 --video --simulcast \
	--pref-change 4:1:0 --duration 12 --warmup 2 --report "$R" || st=$?
[[ $st == 0 ]] || { echo "   FAILED: mmload exited $st" >&2; FAILS=$((FAILS + 1)); }
[[ -s $R ]] || die "no report"
check_common "$R"
check "$R" "12 camera views (4 receivers x 3 sources)" '.sfu.simulcast.groups == 12'
check "$R" "layers switched" '.sfu.simulcast.switches >= 3'
check "$R" "every switch at a keyframe's first packet" '.sfu.simulcast.switch_not_at_keyframe == 0'
check "$R" "no sequence gap at any switch" '.sfu.simulcast.gap_at_switch == 0'
check "$R" "never two layers at once" '.sfu.simulcast.layer_interleaved == 0'
check "$R" "at the end: participant 1 on layer 0, the others on layer 2" \
	'.sfu.simulcast.layers_at_end == [3, 0, 9]'
check "$R" "nothing lost" '.sfu.lost == 0'
check "$R" "layers nobody got were counted by mmdp" '.mmdp.drops.not_selected > 0'

# ---- 3: loss on a receiver's link, repaired with RTX ------------------------------
say "3. one room of 3, video, SRTP, 4 % loss toward host 1, NACK + RTX, 12 s"
loss_on 4
R=$WORK/repair.json
st=0
"$MMLOAD_BIN" --socket "$SOCK" --rooms 1 --participants 3 --video --srtp AES_CM_128_HMAC_SHA1_80 \
	--nack --rtx-pt 120 --duration 12 --warmup 2 --report "$R" &
LOAD_PID=$!
sleep 11 # mmdp's counters while the room exists
agent '{"op":"stats.get"}' >"$WORK/stats.json"
wait "$LOAD_PID" || st=$?
loss_off
[[ -s $R ]] || die "no report"
check_common "$R"
check "$R" "video packets were lost on the way" '.sfu.retransmission.lost_before_repair > 0'
check "$R" "receivers sent NACKs" '.sfu.retransmission.nacks_sent > 0'
check "$R" "and got RTX" '.sfu.retransmission.rtx_received > 0 and .sfu.retransmission.repaired > 0'
check "$R" "no video lost after repair" '.sfu.retransmission.lost_after_repair == 0'
check "$WORK/stats.json" "mmdp counted the NACKs and sent RTX" \
	'([.rooms[].endpoints[].sfu.nack_rx] | add) > 0 and ([.rooms[].endpoints[].sfu.rtx_tx] | add) > 0'
jq '{lost_before_repair: .sfu.retransmission.lost_before_repair, repaired: .sfu.retransmission.repaired,
     lost_after_repair: .sfu.retransmission.lost_after_repair, audio_lost: .sfu.lost}' "$R" >&2

kill -0 "$MMDP_PID" 2>/dev/null || die "mmdp died"
[[ $FAILS == 0 ]] || die "$FAILS check(s) failed"
say "all passed"
