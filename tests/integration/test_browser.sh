#!/usr/bin/env bash
# Browsers join a meeting (issue 8) on the test site (prefix mmw-):
# mmdp on dp0 (AF_XDP) with ICE-lite and DTLS-SRTP, mmctld inside the
# switch namespace on 198.18.255.254:8080 (br0's address, reachable from
# every host namespace) serving the meeting page at /meet, a room with a
# moderator and an attendee invite made with mmctl; then
# tests/browser/harness.py runs in host 1 (headless Chromium pages through
# chromedriver) and starts its aiortc peers in host 2. The harness's checks
# (tests/browser/harness.py): two then BROWSER_SIZE participants (3 by
# default; 6 in the on-demand "browser-six") decode each other's
# video and hear each other, chat (group and private), hand, mute, unmute
# request, screen share, mute all, kick; aiortc and Chromium decode each
# other; a wrong DTLS fingerprint and a wrong ICE password are refused
# (mmdp's stats.get: dtls failed, bad ICE checks).
#
# Runs inside the test site (see meson.build):
#   tools/mmsite run --prefix mmw- -- env MMDP_BIN=... MMCTLD_BIN=... MMCTL_BIN=... \
#       MMAGENT_BIN=... $0
# MMDP_EAL overrides mmdp's EAL arguments; KEEP_WORK=1 keeps the logs;
# SCREENSHOT=path saves the moderator's page of the meeting there;
# BROWSER_SIZE=n (3-10) is the number of participants in the harness's part 2.
set -euo pipefail

EAL_DEFAULT="-l 0,1 --in-memory --no-pci --vdev net_af_xdp0,iface=dp0,start_queue=0,queue_count=1"
MMDP_EAL=${MMDP_EAL:-$EAL_DEFAULT}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WWW_ROOT=${WWW_ROOT:-$ROOT/control/www}
API=198.18.255.254:8080
MMDP_BIN=${MMDP_BIN:-} MMCTLD_BIN=${MMCTLD_BIN:-} MMCTL_BIN=${MMCTL_BIN:-} MMAGENT_BIN=${MMAGENT_BIN:-}

TEST_NAME="browser"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

for v in MMDP_BIN MMCTLD_BIN MMCTL_BIN MMAGENT_BIN; do
	[[ -n ${!v:-} && -x ${!v} ]] || die "$v is not set or not executable"
done
[[ -n ${MMSITE_DP_NS:-} && -n ${MMSITE_SW_NS:-} && -n ${MMSITE_H1_NS:-} && -n ${MMSITE_H2_NS:-} ]] ||
	die "run inside the test site with 2 hosts or more: tools/mmsite run --prefix mmw- -- $0"
command -v jq >/dev/null || die "jq is not installed"
# ./quickstart installs these; missing, the test fails rather than skips.
if [[ ! -x /usr/bin/chromedriver ]] || ! /usr/bin/python3 -c 'import selenium, aiortc' 2>/dev/null; then
	die "needs chromium, chromium-driver, python3-selenium and python3-aiortc (./quickstart test installs them)"
fi
[[ -f $WWW_ROOT/index.html ]] || die "no meeting page in $WWW_ROOT"

WORK=$(mktemp -d /tmp/mmw-test.XXXXXX)
SOCK=$WORK/agent.sock
MMDP_PID=
MMCTLD_PID=
HARNESS_PID=

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local st=$?
	trap - EXIT INT TERM
	# The harness quits its browsers and peers on SIGTERM; what is left
	# in the host namespaces (a browser it could not quit) goes too.
	[[ -n $HARNESS_PID ]] && stop_pid "$HARNESS_PID" 150
	local ns pid
	for ns in "$MMSITE_H1_NS" "$MMSITE_H2_NS"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null || true
		done
	done
	[[ -n $MMCTLD_PID ]] && stop_pid "$MMCTLD_PID"
	[[ -n $MMDP_PID ]] && stop_pid "$MMDP_PID"
	work_done "$st" "$WORK" "$WORK/harness.log"
	exit "$st"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- mmdp ------------------------------------------------------------------------
cat >"$WORK/mmdp.json" <<EOF
{"agent_socket":"$SOCK",
 "ports":[{"addresses":["$MMSITE_DP_IP4","$MMSITE_DP_IP6"],"gateway_mac":"$MMSITE_GW_MAC"}],
 "idle_sleep_us":200}
EOF
say "starting mmdp in $MMSITE_DP_NS"
# shellcheck disable=SC2086 # EAL arguments are words
nsenter --net="/run/netns/$MMSITE_DP_NS" -- "$MMDP_BIN" $MMDP_EAL -- --config "$WORK/mmdp.json" \
	>"$WORK/mmdp.log" 2>&1 &
MMDP_PID=$!
wait_mmdp

# ---- mmctld in the switch namespace ------------------------------------------------
cat >"$WORK/mmctld.json" <<EOF
{"listen":"$API","db":"$WORK/mmctld.db","mmdp_socket":"$SOCK",
 "media_address":"$MMSITE_DP_IP4","port_range":[30000,30999],"www_root":"$WWW_ROOT"}
EOF
TOKEN=$("$MMCTLD_BIN" --config "$WORK/mmctld.json" --create-operator-token)
say "starting mmctld in $MMSITE_SW_NS on $API"
nsenter --net="/run/netns/$MMSITE_SW_NS" -- "$MMCTLD_BIN" --config "$WORK/mmctld.json" \
	>"$WORK/mmctld.log" 2>&1 &
MMCTLD_PID=$!
# mmctl runs in the switch namespace too (198.18.255.254 is br0's address).
ctl() { MMCTL_URL=http://$API MMCTL_TOKEN=$TOKEN nsenter --net="/run/netns/$MMSITE_SW_NS" -- "$MMCTL_BIN" "$@"; }
for ((i = 0; i < 100; i++)); do
	ctl rooms list >/dev/null 2>&1 && break
	kill -0 "$MMCTLD_PID" 2>/dev/null || die "mmctld exited"
	sleep 0.1
done
nsenter --net="/run/netns/$MMSITE_H1_NS" -- curl -sf "http://$API/meet" >"$WORK/meet.html" ||
	die "GET http://$API/meet from $MMSITE_H1_NS failed"
grep -q 'app.js' "$WORK/meet.html" || die "/meet is not the meeting page"

# The room is a registered tenant's (on a trial), so that one participant
# can join as the tenant's account with a join token its meeting app would
# sign (/meet#join_token=…&room=…); the others use invites.
ctl --json tenants register browser-org --name "Browser Org" --admin-name Ann \
	--admin-email ann@browser-org.example --plan trial --trial-until $(($(date +%s) + 86400)) \
	>"$WORK/tenant.json"
TENANT_TOKEN=$(jq -r .credentials.token "$WORK/tenant.json")
JOIN_SECRET=$(jq -r .credentials.join_secret "$WORK/tenant.json")
ACCOUNT=$(jq -r .admin.id "$WORK/tenant.json")
# last-n 0: every participant's audio goes to everyone (the default, 3,
# forwards the three loudest; the fake microphones all beep alike).
ROOM=$(TOKEN=$TENANT_TOKEN ctl --json rooms create browsers --capacity 20 --last-n 0 | jq -r .id)
JOIN_TOKEN=$(ctl join-token --tenant browser-org --account "$ACCOUNT" --secret "$JOIN_SECRET" \
	--room "$ROOM" --ttl 3600 --name chi)
MOD_INVITE=$(ctl --json invite "$ROOM" --role moderator | jq -r .invite)
INVITE=$(ctl --json invite "$ROOM" | jq -r .invite)
[[ $MOD_INVITE == mmi_* && $INVITE == mmi_* ]] || die "no invites for room $ROOM"
say "room $ROOM; invite link: http://$API/meet#invite=$INVITE"

# ---- the browsers ------------------------------------------------------------------
SHOT_ARGS=()
[[ -n ${SCREENSHOT:-} ]] && SHOT_ARGS=(--screenshot "$SCREENSHOT")
# With six Chromiums (load average 40-50 on 2 cores) an aiortc peer took
# over 20 s to start; aiortc and the refusals are the three-person run's.
(( ${BROWSER_SIZE:-3} > 3 )) && SHOT_ARGS+=(--no-aiortc)
say "harness in $MMSITE_H1_NS (Chromium), aiortc in $MMSITE_H2_NS"
st=0
nsenter --net="/run/netns/$MMSITE_H1_NS" -- /usr/bin/python3 "$ROOT/tests/browser/harness.py" \
	--url "http://$API" --invite "$INVITE" --mod-invite "$MOD_INVITE" \
	--mmagent "$MMAGENT_BIN" --agent-socket "$SOCK" --aiortc-netns "$MMSITE_H2_NS" \
	--join-frag "join_token=$JOIN_TOKEN&room=$ROOM" --size "${BROWSER_SIZE:-3}" --work "$WORK" --report "$WORK/report.json" "${SHOT_ARGS[@]}" >"$WORK/harness.log" 2>&1 &
HARNESS_PID=$!
tail -f --pid="$HARNESS_PID" "$WORK/harness.log" 2>/dev/null | grep --line-buffered -E '^(browser|   ok|   FAILED|   console)' || true
wait "$HARNESS_PID" || st=$?
HARNESS_PID=
kill -0 "$MMDP_PID" 2>/dev/null || die "mmdp died"
kill -0 "$MMCTLD_PID" 2>/dev/null || die "mmctld died"
[[ $st == 0 ]] || die "the browser checks failed (harness exited $st; $WORK/report.json)"
# The history knows the participant who came with the join token by its account.
n=$(ctl --json reports meetings --account "$ACCOUNT" | jq '.meetings | length')
[[ $n == 1 ]] || die "reports meetings --account $ACCOUNT: $n meetings, want 1"
say "the account's meeting history has the meeting"

say "all passed"
