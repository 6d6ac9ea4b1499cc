#!/usr/bin/env bash
# mmctld's Prometheus endpoint against real traffic (issue 11): mmdp and
# mmctld on the test site (prefix mmp-), one meeting of 3 participants
# (audio + video, SRTP) set up by mmload through mmctld's REST API for 8 s.
# Mid-run, a scrape shows the meeting, its participants and streams and
# counters that grow. After mmload stops (it deletes the room, when nothing
# is in flight any more) and two samples pass, a scrape must
#  - pass Prometheus' own parser (promtool check metrics, Debian's
#    prometheus package);
#  - hold in mm_media_received_packets_total exactly what mmload sent and in
#    mm_media_sent_packets_total exactly the copies it received (mmdp's
#    endpoint counters, read once more before the room left mmdp; no
#    tolerance, as in reports-site: no RTCP without --nack, no warmup);
#  - show mmdp's workers, mbuf pool, loss and jitter histograms, the agent's
#    round trips and the API's requests by route;
#  - name every metric the Grafana dashboard (docs/grafana/) queries.
#
# Runs inside the test site (see meson.build):
#   tools/mmsite run --prefix mmp- -- env MMDP_BIN=build/dataplane/mmdp/mmdp \
#       MMLOAD_BIN=build/tools/mmload MMCTLD_BIN=build/control/mmctld \
#       tests/integration/test_metrics_site.sh
# KEEP_WORK=1 keeps the scrapes.
set -euo pipefail

EAL_DEFAULT="-l 0,1 --in-memory --no-pci --vdev net_af_xdp0,iface=dp0,start_queue=0,queue_count=1"
MMDP_EAL=${MMDP_EAL:-$EAL_DEFAULT}

TEST_NAME="metrics"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

[[ -n ${MMDP_BIN:-} && -x $MMDP_BIN ]] || die "MMDP_BIN (the mmdp binary) is not set or not executable"
[[ -n ${MMLOAD_BIN:-} && -x $MMLOAD_BIN ]] || die "MMLOAD_BIN (the mmload binary) is not set or not executable"
[[ -n ${MMCTLD_BIN:-} && -x $MMCTLD_BIN ]] || die "MMCTLD_BIN (the mmctld binary) is not set or not executable"
[[ -n ${DASHBOARD:-} && -f $DASHBOARD ]] || die "DASHBOARD (docs/grafana/mobifone-meeting.json) is not set"
[[ -n ${MMSITE_DP_NS:-} && -n ${MMSITE_H1_NS:-} ]] ||
	die "run inside the test site: tools/mmsite run --prefix mmp- -- $0"
command -v jq >/dev/null || die "jq is not installed"
command -v curl >/dev/null || die "curl is not installed"
command -v promtool >/dev/null || die "promtool is not installed (Debian's prometheus package; ./quickstart test installs it)"

WORK=$(mktemp -d /tmp/mmp-test.XXXXXX)
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

# The value of one series of a scrape, exactly as rendered ("" if absent).
metric() { awk -v s="$2" '$1 == s { print $2; exit }' "$1"; }
# ok/FAILED on a shell test.
expect() {
	local what=$1
	shift
	if "$@"; then
		echo "   ok: $what"
	else
		echo "   FAILED: $what" >&2
		FAILS=$((FAILS + 1))
	fi
}
num_eq() { [[ -n $1 && -n $2 ]] && awk -v a="$1" -v b="$2" 'BEGIN { exit !(a == b) }'; }
num_gt() { [[ -n $1 && -n $2 ]] && awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }'; }

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
METRICS_PORT=$((API_PORT + 1))
cat >"$WORK/mmctld.json" <<EOF
{"listen":"127.0.0.1:$API_PORT","metrics_listen":"127.0.0.1:$METRICS_PORT",
 "db":"$WORK/mmctld.db","mmdp_socket":"$SOCK",
 "media_address":"$MMSITE_DP_IP4","port_range":[30000,30999],"srtp_profile":"AEAD_AES_128_GCM",
 "report_sample_ms":1000}
EOF
TOKEN=$("$MMCTLD_BIN" --config "$WORK/mmctld.json" --create-operator-token)
"$MMCTLD_BIN" --config "$WORK/mmctld.json" >"$WORK/mmctld.log" 2>&1 &
MMCTLD_PID=$!
URL=http://127.0.0.1:$API_PORT
MURL=http://127.0.0.1:$METRICS_PORT/metrics
for ((i = 0; i < 100; i++)); do
	curl -sf "$MURL" >/dev/null 2>&1 && break
	sleep 0.1
done
curl -sf "$MURL" >/dev/null || die "mmctld's metrics do not answer at $MURL"
scrape() { curl -sf "$MURL" >"$1" || die "GET $MURL failed"; }

say "one meeting of 3 (audio + video, SRTP) through mmctld's API, 8 s"
R=$WORK/mmload.json
"$MMLOAD_BIN" --mmctld "$URL" --token "$TOKEN" --socket "$SOCK" --rooms 1 --participants 3 \
	--video --duration 8 --warmup 0 --per-stream --report "$R" >"$WORK/mmload.log" 2>&1 &
LOAD_PID=$!

# Mid-run: the meeting, and counters that grow between two samples.
sleep 4
scrape "$WORK/mid1.txt"
sleep 2.2
scrape "$WORK/mid2.txt"
expect "mid-run: one meeting" num_eq "$(metric "$WORK/mid2.txt" mm_meetings)" 1
expect "mid-run: 3 participants" num_eq "$(metric "$WORK/mid2.txt" mm_participants)" 3
expect "mid-run: 3 audio streams in mmdp" \
	num_eq "$(metric "$WORK/mid2.txt" 'mm_streams{kind="audio"}')" 3
expect "mid-run: 3 video streams in mmdp" \
	num_eq "$(metric "$WORK/mid2.txt" 'mm_streams{kind="video"}')" 3
expect "mid-run: received packets grow between samples" \
	num_gt "$(metric "$WORK/mid2.txt" mm_media_received_packets_total)" \
	"$(metric "$WORK/mid1.txt" mm_media_received_packets_total)"
expect "mid-run: the worker was busy some of the time" \
	num_gt "$(metric "$WORK/mid2.txt" 'mm_worker_busy_ratio{worker="0",lcore="1"}')" 0

st=0
wait "$LOAD_PID" || st=$?
LOAD_PID=
[[ $st == 0 ]] || { echo "   FAILED: mmload exited $st" >&2; FAILS=$((FAILS + 1)); tail -5 "$WORK/mmload.log" >&2; }
[[ -s $R ]] || die "no mmload report"
check "$R" "mmload: no loss, nothing misdelivered or duplicated" \
	'.loss.packets == 0 and .misdelivered.total == 0 and .duplicates == 0 and .corrupt == 0'

# Two samples after the room left mmdp: the snapshot is the final one.
sleep 2.5
F=$WORK/final.txt
scrape "$F"
if promtool check metrics <"$F" >"$WORK/promtool.txt" 2>&1; then
	echo "   ok: promtool check metrics accepts the exposition"
else
	echo "   FAILED: promtool check metrics:" >&2
	cat "$WORK/promtool.txt" >&2
	FAILS=$((FAILS + 1))
fi
SENT=$(jq '[.streams[].sent] | add' "$R")
RECV=$(jq '[.streams[].copies_received] | add' "$R")
say "   mmload sent $SENT packets and received $RECV copies"
expect "mm_media_received_packets_total is exactly what mmload sent ($SENT)" \
	num_eq "$(metric "$F" mm_media_received_packets_total)" "$SENT"
expect "mm_media_sent_packets_total is exactly what mmload received ($RECV)" \
	num_eq "$(metric "$F" mm_media_sent_packets_total)" "$RECV"
expect "bytes were counted both ways" \
	num_gt "$(metric "$F" mm_media_sent_bytes_total)" "$(metric "$F" mm_media_received_bytes_total)"
expect "the meeting is over: no meeting" num_eq "$(metric "$F" mm_meetings)" 0
expect "the meeting is over: no participant" num_eq "$(metric "$F" mm_participants)" 0
expect "the meeting is over: no endpoint in mmdp" num_eq "$(metric "$F" mm_dataplane_endpoints)" 0
expect "mmdp up (the last sample read its counters)" num_eq "$(metric "$F" mm_dataplane_up)" 1
expect "mbuf pool: a capacity, some in use (the RX rings)" \
	num_gt "$(metric "$F" mm_mempool_mbufs_capacity)" "$(metric "$F" mm_mempool_mbufs_in_use)"
expect "mbufs in use > 0" num_gt "$(metric "$F" mm_mempool_mbufs_in_use)" 0
expect "worker busy seconds > 0" num_gt "$(metric "$F" 'mm_worker_busy_seconds_total{worker="0",lcore="1"}')" 0
expect "worker frames forwarded >= the copies mmload received" \
	num_gt "$(metric "$F" 'mm_worker_sent_packets_total{worker="0",lcore="1"}')" "$((RECV - 1))"
LOSS_N=$(metric "$F" mm_endpoint_loss_ratio_count)
expect "loss histogram: observations, all at zero loss" \
	num_eq "$(metric "$F" 'mm_endpoint_loss_ratio_bucket{le="0"}')" "${LOSS_N:-x}"
expect "loss histogram: at least one observation per participant" num_gt "${LOSS_N:-0}" 2
expect "jitter histogram: observations" num_gt "$(metric "$F" mm_endpoint_jitter_seconds_count)" 2
expect "agent round trips of stats.get measured" \
	num_gt "$(metric "$F" 'mm_agent_request_duration_seconds_count{op="stats.get"}')" 5
expect "the API's requests by route: the room made" \
	num_eq "$(metric "$F" 'mm_api_requests_total{route="/v1/rooms",method="POST",code="2xx"}')" 1
expect "the API's requests by route: the room deleted" \
	num_eq "$(metric "$F" 'mm_api_requests_total{route="/v1/rooms/{room}",method="DELETE",code="2xx"}')" 1
expect "the API's requests by route: 3 joins" \
	num_eq "$(metric "$F" 'mm_api_requests_total{route="/v1/rooms/{room}/participants",method="POST",code="2xx"}')" 3
# Route labels are templates ("/v1/rooms/{room}"), never a URL with an id.
BAD_ROUTES=$(grep -oE 'route="[^"]*"' "$F" |
	grep -vE '^route="(/meet|/v1(/[a-z]+|/[{][a-z]+[}])+|other)"$' || true)
expect "no ids in any label (route templates only)" test -z "$BAD_ROUTES"

# Every metric the dashboard queries is in the scrape (histograms through
# their _bucket series).
/usr/bin/python3 - "$DASHBOARD" "$F" >"$WORK/dashboard.txt" 2>&1 <<'PY' || FAILS=$((FAILS + 1))
import json, re, sys
dash = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
types = dict(re.findall(r'^# TYPE (\S+) (\S+)$', text, re.M))
missing, names = [], set()
for p in dash["panels"]:
    for t in p.get("targets", []):
        for n in re.findall(r'\bmm_[a-z0-9_]+', t["expr"]):
            names.add(n)
            base = re.sub(r'_(bucket|sum|count)$', '', n)
            if n not in types and types.get(base) != "histogram":
                missing.append(n)
if missing:
    print("   FAILED: the dashboard queries metrics not in a scrape: %s" % sorted(set(missing)))
    sys.exit(1)
print("   ok: the dashboard's %d metrics are all in the scrape" % len(names))
PY
cat "$WORK/dashboard.txt"

if ((FAILS)); then
	die "$FAILS check(s) failed"
fi
say "all checks passed"
