#!/usr/bin/env bash
# Drain and reload (README "Drain and reload") with real mmdp, mmctld and
# mmload on the test site (prefix mms-):
#  1. Under load (2 meetings of 3, audio + video, SRTP, set up through
#     mmctld's API), SIGHUP to both daemons, first with broken config files
#     (refused, logged, nothing changes), then with log_level debug and new
#     run-time limits (applied and logged): mmload loses nothing.
#  2. SIGTERM to mmdp while the meetings run: media keeps flowing (no
#     loss), a new room is refused (mmdp answers room.put with "draining",
#     the API with 503 draining); when the meetings end (mmload deletes its
#     rooms) mmdp exits 0 with a stats_final line of its totals.
#  3. mmdp started again (mmctld resyncs), the same load, SIGTERM to mmctld:
#     GET /v1/health says draining, a new room is 503 draining, media keeps
#     flowing; when the meetings end mmctld exits 0. Then SIGTERM to the
#     idle mmdp: it exits at once, 0.
#
# Runs inside the test site (see meson.build):
#   tools/mmsite run --prefix mms- -- env MMDP_BIN=build/dataplane/mmdp/mmdp \
#       MMLOAD_BIN=build/tools/mmload MMCTLD_BIN=build/control/mmctld \
#       tests/integration/test_drain_reload.sh
# KEEP_WORK=1 keeps the logs and reports.
set -euo pipefail

EAL_DEFAULT="-l 0,1 --in-memory --no-pci --vdev net_af_xdp0,iface=dp0,start_queue=0,queue_count=1"
MMDP_EAL=${MMDP_EAL:-$EAL_DEFAULT}

TEST_NAME="drain-reload"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

[[ -n ${MMDP_BIN:-} && -x $MMDP_BIN ]] || die "MMDP_BIN (the mmdp binary) is not set or not executable"
[[ -n ${MMLOAD_BIN:-} && -x $MMLOAD_BIN ]] || die "MMLOAD_BIN (the mmload binary) is not set or not executable"
[[ -n ${MMCTLD_BIN:-} && -x $MMCTLD_BIN ]] || die "MMCTLD_BIN (the mmctld binary) is not set or not executable"
[[ -n ${MMSITE_DP_NS:-} && -n ${MMSITE_H1_NS:-} ]] ||
	die "run inside the test site: tools/mmsite run --prefix mms- -- $0"
command -v jq >/dev/null || die "jq is not installed"
command -v curl >/dev/null || die "curl is not installed"

WORK=$(mktemp -d /tmp/mms-test.XXXXXX)
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

ok() { echo "   ok: $*"; }
fail() { echo "   FAILED: $*" >&2; FAILS=$((FAILS + 1)); }
# expect WHAT CMD...: a check that a command succeeds
expect() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else fail "$what"; fi
}
# logged FILE PATTERN...: a line of FILE holds every (fixed) pattern
logged() {
	local file=$1 line p all
	shift
	while IFS= read -r line; do
		all=1
		for p in "$@"; do [[ $line == *"$p"* ]] || { all=0; break; }; done
		((all)) && return 0
	done <"$file"
	return 1
}
# wait_logged TENTHS FILE PATTERN...
wait_logged() {
	local tenths=$1 i
	shift
	for ((i = 0; i < tenths; i++)); do
		logged "$@" && return 0
		sleep 0.1
	done
	return 1
}
# wait_exit PID TENTHS: EXIT_ST gets the exit status, or "running" when it
# still runs (not in $(...): a subshell cannot wait for our children)
wait_exit() {
	local pid=$1 tenths=$2 i
	for ((i = 0; i < tenths; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	EXIT_ST=running
	kill -0 "$pid" 2>/dev/null && return
	EXIT_ST=0
	wait "$pid" || EXIT_ST=$?
}

mmdp_config() {   # LOG_LEVEL
	cat >"$WORK/mmdp.json" <<EOF
{"agent_socket":"$SOCK","log_level":"$1","drain_timeout_s":60,
 "ports":[{"addresses":["$MMSITE_DP_IP4","$MMSITE_DP_IP6"],"gateway_mac":"$MMSITE_GW_MAC"}]}
EOF
}
mmdp_start() {   # LOG
	rm -f "$SOCK"
	say "starting mmdp in $MMSITE_DP_NS: $MMDP_BIN $MMDP_EAL"
	# shellcheck disable=SC2086 # EAL arguments are words
	nsenter --net="/run/netns/$MMSITE_DP_NS" -- "$MMDP_BIN" $MMDP_EAL -- \
		--config "$WORK/mmdp.json" >"$1" 2>&1 &
	MMDP_PID=$!
	wait_mmdp
}

API_PORT=$((20000 + RANDOM % 20000))
ctl_config() {   # LOG_LEVEL REPORT_SAMPLE_MS
	cat >"$WORK/mmctld.json" <<EOF
{"listen":"127.0.0.1:$API_PORT","db":"$WORK/mmctld.db","mmdp_socket":"$SOCK",
 "media_address":"$MMSITE_DP_IP4","port_range":[30000,30999],"srtp_profile":"AEAD_AES_128_GCM",
 "log_level":"$1","report_sample_ms":$2,"drain_timeout_s":60}
EOF
}

URL=http://127.0.0.1:$API_PORT
api() { curl -sf -H "Authorization: Bearer $TOKEN" "$URL$1"; }
# api_status METHOD PATH [BODY]: the HTTP status; the body in $WORK/reply.json
api_status() {
	curl -s -o "$WORK/reply.json" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $TOKEN" \
		-H 'Content-Type: application/json' ${3:+--data "$3"} "$URL$2"
}
health() { curl -s "$URL/v1/health"; }

# load N REPORT: mmload's meetings through mmctld, in the background
load() {
	"$MMLOAD_BIN" --mmctld "$URL" --token "$TOKEN" --socket "$SOCK" --rooms 2 --participants 3 \
		--video --duration "$1" --warmup 1 --per-stream --report "$2" >"$2.log" 2>&1 &
	LOAD_PID=$!
}
# Until both meetings are live with every participant in (mmload set up).
wait_meetings() {
	for ((i = 0; i < 150; i++)); do
		[[ $(api /v1/reports/online 2>/dev/null | jq '[.online[].participants] | add // 0') == 6 ]] &&
			return 0
		kill -0 "$LOAD_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
load_done() {   # REPORT WHAT
	local st=0
	wait "$LOAD_PID" || st=$?
	LOAD_PID=
	[[ $st == 0 ]] || { fail "mmload exited $st"; tail -5 "$1.log" >&2; }
	[[ -s $1 ]] || die "no mmload report $1"
	check "$1" "$2: no loss, nothing misdelivered, duplicated or corrupt" \
		'.loss.packets == 0 and .misdelivered.total == 0 and .duplicates == 0 and .corrupt == 0'
	check "$1" "$2: every stream reached both other participants" \
		'all(.streams[]; .receivers == 2 and .copies_received == .sent * 2 and .sent > 0)'
}

mmdp_config info
mmdp_start "$WORK/mmdp.log"
ctl_config info 5000
TOKEN=$("$MMCTLD_BIN" --config "$WORK/mmctld.json" --create-operator-token 2>/dev/null)
"$MMCTLD_BIN" --config "$WORK/mmctld.json" >"$WORK/mmctld.log" 2>&1 &
MMCTLD_PID=$!
wait_mmctld

# ---- 1 ----------------------------------------------------------------------
say "1. SIGHUP to mmdp and mmctld during load (2 meetings of 3, audio + video, SRTP)"
load 8 "$WORK/load1.json"
wait_meetings || die "mmload's meetings did not start"
# Broken files first: refused, nothing changes.
cp "$WORK/mmdp.json" "$WORK/mmdp.good"
cp "$WORK/mmctld.json" "$WORK/mmctld.good"
echo '{"log_level":"debug",' >"$WORK/mmdp.json"
echo '{"log_level":"loud"}' >"$WORK/mmctld.json"
kill -HUP "$MMDP_PID" "$MMCTLD_PID"
expect "mmdp: a broken config file is refused and logged at error" \
	wait_logged 30 "$WORK/mmdp.log" "level=error" "event=reload_failed"
expect "mmctld: a bad log_level is refused and logged at error" \
	wait_logged 30 "$WORK/mmctld.log" "level=error" "event=reload_failed" "log_level"
sleep 1
# Then good ones with changes: log_level debug, new run-time limits.
mmdp_config debug
ctl_config debug 1000
kill -HUP "$MMDP_PID" "$MMCTLD_PID"
expect "mmdp: reloaded with log_level=debug" \
	wait_logged 30 "$WORK/mmdp.log" "event=reloaded" "log_level=debug"
expect "mmctld: reloaded with log_level=debug and report_sample_ms=1000" \
	wait_logged 30 "$WORK/mmctld.log" "event=reloaded" "log_level=debug" "report_sample_ms=1000"
load_done "$WORK/load1.json" "reloads under load"
expect "mmctld: debug lines after the reload (mmload's requests)" \
	wait_logged 30 "$WORK/mmctld.log" "level=debug" "event=http_request"
expect "both daemons still run" kill -0 "$MMDP_PID" "$MMCTLD_PID"

# ---- 2 ----------------------------------------------------------------------
say "2. SIGTERM to mmdp while the meetings run"
load 8 "$WORK/load2.json"
wait_meetings || die "mmload's meetings did not start"
kill -TERM "$MMDP_PID"
expect "mmdp: drain started with the meetings' endpoints" \
	wait_logged 30 "$WORK/mmdp.log" "event=drain_started" "endpoints=6"
st=$(api_status POST /v1/rooms '{"name":"late"}')
if [[ $st == 503 && $(jq -r .error.code "$WORK/reply.json") == draining ]]; then
	ok "a new room while mmdp drains: 503 draining (mmdp refused its room.put)"
else
	fail "a new room while mmdp drains: $st $(cat "$WORK/reply.json")"
fi
expect "mmdp still runs while the meetings do" kill -0 "$MMDP_PID"
load_done "$WORK/load2.json" "mmdp draining"
wait_exit "$MMDP_PID" 100
[[ $EXIT_ST == running ]] || MMDP_PID=
if [[ $EXIT_ST == 0 ]]; then ok "mmdp exited 0 once the meetings ended"; else fail "mmdp: $EXIT_ST"; fi
expect "mmdp: drain_done logged" logged "$WORK/mmdp.log" "event=drain_done"
expect "mmdp: one stats_final line with its totals" \
	logged "$WORK/mmdp.log" "event=stats_final" "rx_packets=" "tx_packets=" "endpoints=0"
rx=$(sed -n 's/.*event=stats_final.* rx_packets=\([0-9]*\).*/\1/p' "$WORK/mmdp.log")
if [[ -n $rx && $rx -gt 1000 ]]; then ok "stats_final: $rx packets received"; else fail "stats_final rx_packets=$rx"; fi

# ---- 3 ----------------------------------------------------------------------
say "3. mmdp again; SIGTERM to mmctld while the meetings run"
mmdp_start "$WORK/mmdp2.log"
for ((i = 0; i < 100; i++)); do
	[[ $(health | jq -r .mmdp) == true ]] && break
	sleep 0.1
done
[[ $(health | jq -r .mmdp) == true ]] || die "mmctld did not reconnect to the new mmdp"
load 8 "$WORK/load3.json"
wait_meetings || die "mmload's meetings did not start"
kill -TERM "$MMCTLD_PID"
expect "mmctld: drain started with 2 live meetings" \
	wait_logged 30 "$WORK/mmctld.log" "event=drain_started" "live_meetings=2"
health >"$WORK/health.json"
check "$WORK/health.json" "GET /v1/health: draining" '.status == "draining"'
st=$(api_status POST /v1/rooms '{"name":"late"}')
if [[ $st == 503 && $(jq -r .error.code "$WORK/reply.json") == draining ]]; then
	ok "a new room while mmctld drains: 503 draining"
else
	fail "a new room while mmctld drains: $st $(cat "$WORK/reply.json")"
fi
load_done "$WORK/load3.json" "mmctld draining"
wait_exit "$MMCTLD_PID" 100
[[ $EXIT_ST == running ]] || MMCTLD_PID=
if [[ $EXIT_ST == 0 ]]; then ok "mmctld exited 0 once the meetings ended"; else fail "mmctld: $EXIT_ST"; fi
expect "mmctld: drain_done logged" logged "$WORK/mmctld.log" "event=drain_done"
expect "mmctld: stopped logged" logged "$WORK/mmctld.log" "event=stopped"
kill -TERM "$MMDP_PID"
wait_exit "$MMDP_PID" 50
[[ $EXIT_ST == running ]] || MMDP_PID=
if [[ $EXIT_ST == 0 ]]; then ok "idle mmdp: SIGTERM, exit 0 at once"; else fail "idle mmdp: $EXIT_ST"; fi
expect "idle mmdp: stats_final logged" logged "$WORK/mmdp2.log" "event=stats_final"

if ((FAILS)); then
	die "$FAILS check(s) failed"
fi
say "all checks passed"
