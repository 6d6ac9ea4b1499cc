#!/usr/bin/env bash
# The per-meeting report against real traffic (issue 9): mmdp and mmctld on
# the test site (prefix mmh-), one meeting of 3 participants (audio + video,
# SRTP) set up by mmload through mmctld's REST API, 10 s of media, then the
# meeting ends (mmload deletes the room). mmctld's report of that meeting
# must hold, per participant, exactly what mmload says it sent (mmdp's
# rx_packets of the endpoint) and received (mmdp's tx_packets), read from
# mmdp just before the room left it. No tolerance is needed: mmload sends
# nothing outside its measured window with --warmup 0, no RTCP without
# --nack, and deletes the room only after its drain, when nothing is in
# flight any more; a packet still in flight at the end would be counted
# by neither side's total in the same way (see docs/api.md "Reports").
# Halfway through, the online report shows the live meeting with a bitrate.
#
# Runs inside the test site (see meson.build):
#   tools/mmsite run --prefix mmh- -- env MMDP_BIN=build/dataplane/mmdp/mmdp \
#       MMLOAD_BIN=build/tools/mmload MMCTLD_BIN=build/control/mmctld \
#       tests/integration/test_reports_site.sh
# KEEP_WORK=1 keeps the reports.
set -euo pipefail

EAL_DEFAULT="-l 0,1 --in-memory --no-pci --vdev net_af_xdp0,iface=dp0,start_queue=0,queue_count=1"
MMDP_EAL=${MMDP_EAL:-$EAL_DEFAULT}

TEST_NAME="reports-site"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

[[ -n ${MMDP_BIN:-} && -x $MMDP_BIN ]] || die "MMDP_BIN (the mmdp binary) is not set or not executable"
[[ -n ${MMLOAD_BIN:-} && -x $MMLOAD_BIN ]] || die "MMLOAD_BIN (the mmload binary) is not set or not executable"
[[ -n ${MMCTLD_BIN:-} && -x $MMCTLD_BIN ]] || die "MMCTLD_BIN (the mmctld binary) is not set or not executable"
[[ -n ${MMSITE_DP_NS:-} && -n ${MMSITE_H1_NS:-} ]] ||
	die "run inside the test site: tools/mmsite run --prefix mmh- -- $0"
command -v jq >/dev/null || die "jq is not installed"
command -v curl >/dev/null || die "curl is not installed"

WORK=$(mktemp -d /tmp/mmh-test.XXXXXX)
SOCK=$WORK/agent.sock
MMDP_PID=
MMCTLD_PID=
LOAD_PID=
FAILS=0

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local st=$?
	trap - EXIT INT TERM
	[[ -n $LOAD_PID ]] && stop_pid "$LOAD_PID"
	[[ -n $MMCTLD_PID ]] && stop_pid "$MMCTLD_PID"
	[[ -n $MMDP_PID ]] && stop_pid "$MMDP_PID"
	work_done "$st" "$WORK" "$WORK/mmctld.log"
	exit "$st"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

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

API_PORT=$((20000 + RANDOM % 20000))
cat >"$WORK/mmctld.json" <<EOF
{"listen":"127.0.0.1:$API_PORT","db":"$WORK/mmctld.db","mmdp_socket":"$SOCK",
 "media_address":"$MMSITE_DP_IP4","port_range":[30000,30999],"srtp_profile":"AEAD_AES_128_GCM",
 "report_sample_ms":1000}
EOF
TOKEN=$("$MMCTLD_BIN" --config "$WORK/mmctld.json" --create-operator-token)
"$MMCTLD_BIN" --config "$WORK/mmctld.json" >"$WORK/mmctld.log" 2>&1 &
MMCTLD_PID=$!
URL=http://127.0.0.1:$API_PORT
api() { curl -sf -H "Authorization: Bearer $TOKEN" "$URL$1"; }
wait_mmctld

say "one meeting of 3 (audio + video, SRTP) through mmctld's API, 10 s"
R=$WORK/mmload.json
"$MMLOAD_BIN" --mmctld "$URL" --token "$TOKEN" --socket "$SOCK" --rooms 1 --participants 3 \
	--video --duration 10 --warmup 0 --per-stream --report "$R" >"$WORK/mmload.log" 2>&1 &
LOAD_PID=$!

# Halfway: the meeting is online, with its participants and a bitrate.
sleep 6
api /v1/reports/online >"$WORK/online.json" || die "GET /v1/reports/online failed"
check "$WORK/online.json" "online: one live meeting of 3" \
	'(.online | length) == 1 and .online[0].participants == 3'
check "$WORK/online.json" "online: a bitrate in and out from the samples" \
	'.online[0].bitrate_rx_bps > 100000 and .online[0].bitrate_tx_bps > .online[0].bitrate_rx_bps'

st=0
wait "$LOAD_PID" || st=$?
LOAD_PID=
[[ $st == 0 ]] || { echo "   FAILED: mmload exited $st" >&2; FAILS=$((FAILS + 1)); tail -5 "$WORK/mmload.log" >&2; }
[[ -s $R ]] || die "no mmload report"
check "$R" "mmload: set up through mmctld" '.control == "mmctld"'
check "$R" "mmload: no loss, nothing misdelivered or duplicated" \
	'.loss.packets == 0 and .misdelivered.total == 0 and .duplicates == 0 and .corrupt == 0'
check "$R" "mmload: every stream reached both other participants" \
	'all(.streams[]; .receivers == 2 and .sent == .sent_expected and .copies_received == .sent * 2)'

api "/v1/reports/meetings?limit=10" >"$WORK/meetings.json" || die "GET /v1/reports/meetings failed"
check "$WORK/meetings.json" "one meeting in the history, ended by the room's deletion" \
	'(.meetings | length) == 1 and (.meetings[0].live | not) and .meetings[0].end_reason == "deleted" and .meetings[0].peak == 3'
MID=$(jq -r '.meetings[0].id' "$WORK/meetings.json")
api "/v1/reports/meetings/$MID" >"$WORK/meeting.json" || die "GET /v1/reports/meetings/$MID failed"
api "/v1/reports/meetings/$MID?format=csv" >"$WORK/meeting.csv" || die "the CSV report failed"

# Both documents in one, for jq.
B=$WORK/both.json
jq -n --slurpfile l "$R" --slurpfile m "$WORK/meeting.json" '{load: $l[0], rep: $m[0]}' >"$B"
check "$B" "three attendances, each to the end of the meeting" \
	'(.rep.attendances | length) == 3 and all(.rep.attendances[]; .how == "ended" and .sampled_at != null)'
# What mmload sent and received, per participant (its display name): sent =
# its streams' packets; received = the other participants' streams' packets
# (each reached it: copies = sent x 2 above, no duplicates).
# shellcheck disable=SC2016 # jq's variables, not the shell's
SENT='[$d.load.streams[] | select(.participant == $a.display_name) | .sent] | add'
# shellcheck disable=SC2016
RECV='[$d.load.streams[] | select(.participant != $a.display_name) | .sent] | add'
check "$B" "each participant: mmdp received exactly what mmload sent" \
	". as \$d | [.rep.attendances[] as \$a | \$a.rx_packets == ($SENT) and \$a.rx_packets > 0] | all"
check "$B" "each participant: mmdp sent exactly what mmload received" \
	". as \$d | [.rep.attendances[] as \$a | \$a.tx_packets == ($RECV) and \$a.tx_packets > 0] | all"
check "$B" "all of mmload's received copies, in mmdp's tx counters" \
	'([.rep.attendances[].tx_packets] | add) == ([.load.streams[].copies_received] | add)'
check "$B" "the meeting's totals are the attendances' sums" \
	'.rep.meeting.rx_packets == ([.rep.attendances[].rx_packets] | add) and .rep.meeting.tx_packets == ([.rep.attendances[].tx_packets] | add)'
check "$B" "no loss seen by mmdp, bitrates and durations filled in" \
	'all(.rep.attendances[]; .lost == 0 and .avg_bitrate_rx_bps > 0 and .duration_s >= 10)'
for a in $(jq -r '.rep.attendances[] | "\(.display_name)=\(.rx_packets)/\(.tx_packets)"' "$B"); do
	say "   $a (mmdp rx/tx packets)"
done
lines=$(wc -l <"$WORK/meeting.csv")
if [[ $lines == 4 ]]; then
	echo "   ok: the CSV has a header and 3 rows"
else
	echo "   FAILED: the CSV has $lines lines" >&2
	FAILS=$((FAILS + 1))
fi

if ((FAILS)); then
	die "$FAILS check(s) failed"
fi
say "all checks passed"
