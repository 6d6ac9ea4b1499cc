#!/usr/bin/env bash
# Faults under load (issue 10, "Reliability and security" item 2): real mmdp
# on the test site, real mmctld on its SQLite file, and mmload carrying
# 3 rooms x 4 participants of audio + camera video over SRTP (set up through
# mmctld's REST API, kernel UDP sockets in the site's host namespaces), a
# load this 2-core machine carries without loss (test_load.sh). Each fault
# hits a run of its own, in its measured window:
#
# 1. kill -9 of mmctld, restarted on the same database: mmload loses
#    nothing and nothing is misdelivered; mmctld's resync (state.sync) on
#    restart removes and re-adds nothing in mmdp: mmdp's own counts of what
#    requests did (stats.get "agent") show no room or endpoint created,
#    recreated or deleted across the restart, only in-place updates, and
#    every endpoint's rx_packets kept growing (not reset).
# 2. kill -9 of mmdp, restarted: mmctld pushes every meeting back (mmdp's
#    rooms and endpoints equal mmctld's), and mmload's timeline (100 ms
#    bins, --timeline) shows forwarding whole again within 2 s of the new
#    mmdp's agent socket appearing, nothing lost before the kill nor after
#    that, nothing misdelivered or failing SRTP.
# 3. The media link down for 1 s (swdp, dp0's peer on the site's bridge,
#    like a pulled cable: dp0 loses its carrier) and up again: mmdp
#    survives, forwarding is whole again within 2 s of the link coming up,
#    and loss is confined to the outage.
# 4. The same with mmdp's own interface, dp0, set down and up under its
#    AF_XDP socket (an operator's mistake, or a driver reset): the socket
#    and its XDP program stay, sends fail while it is down, and forwarding
#    must come back the same way.
# Each prints one line of what it measured on stderr.
#
# FAULTS (default "mmctld mmdp link dp0") picks the faults; FAULT_CYCLES=N
# (default 1) repeats the kill -9 faults (1 and 2) N times, each against
# the daemons the previous cycle restarted. --repeat (the on-demand
# "faults-repeat", suite stress) is FAULTS="mmctld mmdp" and
# FAULT_CYCLES=$FAULTS_REPEAT (default 10).
#
# --guard ("faults-guard", in CI; through guard_site.sh, GUARD_OBJ set) runs
# mmdp with the XDP guard (xdp_prog= on its af_xdp port, maps pinned in
# the site's private bpffs) and FAULTS="mmdp" by default: the killed
# mmdp's guard program stays on dp0 with its pinned maps; the new mmdp
# must replace it, get every meeting back and forward whole within the
# same 2 s, through a guard that passes the media (its own counters).
#
# Runs inside the test site (see meson.build):
#   tools/mmsite run --prefix mma- -- env MMDP_BIN=build/dataplane/mmdp/mmdp \
#       MMLOAD_BIN=build/tools/mmload MMCTLD_BIN=build/control/mmctld \
#       MMAGENT_BIN=build/tools/mmagent tests/integration/test_faults.sh
# MMDP_EAL overrides mmdp's EAL arguments; KEEP_WORK=1 keeps the reports.
set -euo pipefail

EAL_DEFAULT="-l 0,1 --in-memory --no-pci --vdev net_af_xdp0,iface=dp0,start_queue=0,queue_count=1"
MMDP_EAL=${MMDP_EAL:-$EAL_DEFAULT}
FAULTS=${FAULTS:-mmctld mmdp link dp0}
FAULT_CYCLES=${FAULT_CYCLES:-1}
GUARD=0
if [[ ${1:-} == --repeat ]]; then
	FAULTS="mmctld mmdp"
	FAULT_CYCLES=${FAULTS_REPEAT:-10}
elif [[ ${1:-} == --guard ]]; then
	GUARD=1
	[[ -n ${GUARD_OBJ:-} && -r $GUARD_OBJ ]] || { echo "faults: GUARD_OBJ (guard.bpf.o) is not set or not readable" >&2; exit 1; }
	MMDP_EAL="$MMDP_EAL,xdp_prog=$GUARD_OBJ"
	FAULTS=${FAULTS_GUARD:-mmdp}
fi
ROOMS=3
PARTS=4
RESUME_LIMIT_S=2 # forwarding whole again after mmdp's socket / the link is back

TEST_NAME="faults"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

for b in MMDP_BIN MMLOAD_BIN MMCTLD_BIN MMAGENT_BIN; do
	[[ -n ${!b:-} && -x ${!b} ]] || die "$b is not set or not executable"
done
[[ -n ${MMSITE_DP_NS:-} && -n ${MMSITE_SW_NS:-} && -n ${MMSITE_H1_NS:-} ]] ||
	die "run inside the test site: tools/mmsite run --prefix mma- -- $0"
[[ $FAULT_CYCLES =~ ^[1-9][0-9]*$ ]] || die "FAULT_CYCLES must be a positive number"
for t in jq curl awk; do
	command -v "$t" >/dev/null || die "$t is not installed"
done

WORK=$(mktemp -d "/tmp/${MMSITE_PREFIX:-mma-}faults.XXXXXX")
SOCK=$WORK/agent.sock
MMDP_PID=
MMCTLD_PID=
LOAD_PID=
LINK_DOWN= # "NS DEV" of a link this test set down, until it is up again
FAILS=0

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local st=$?
	trap - EXIT INT TERM
	# shellcheck disable=SC2086 # "NS DEV"
	[[ -n $LINK_DOWN ]] && { link_set $LINK_DOWN up || true; }
	[[ -n $LOAD_PID ]] && stop_pid "$LOAD_PID"
	[[ -n $MMCTLD_PID ]] && stop_pid "$MMCTLD_PID"
	[[ -n $MMDP_PID ]] && stop_pid "$MMDP_PID"
	work_done "$st" "$WORK" "$WORK/mmdp.log"
	exit "$st"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
	echo "   FAILED: $*" >&2
	FAILS=$((FAILS + 1))
}
# expect WHAT CONDITION-EXIT-STATUS: "ok" or a counted failure.
expect() {
	local what=$1
	shift
	if "$@"; then echo "   ok: $what"; else fail "$what"; fi
}

agent() { "$MMAGENT_BIN" --socket "$SOCK" --timeout 2000 "$1"; }
# A GET on mmctld's API; a failure says what mmctld answered.
api() {
	local out code
	out=$(curl -s -w '\n%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL$1") || return 1
	code=${out##*$'\n'}
	out=${out%$'\n'*}
	[[ $code == 200 ]] || { echo "$TEST_NAME: GET $1: HTTP $code $out" >&2; return 1; }
	echo "$out"
}
# Delete every room mmctld has (after a run with --keep).
delete_rooms() {
	local id
	for id in $(api /v1/rooms | jq -r '.rooms[].id'); do
		curl -sf -X DELETE -H "Authorization: Bearer $TOKEN" "$URL/v1/rooms/$id" >/dev/null ||
			fail "DELETE /v1/rooms/$id"
	done
}
# a >= b, b < c, ... for decimals (the wall clock)
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b - a) * 1000 }'; }

# Start mmdp; T_SOCK: when its agent socket appeared. After a kill -9 the
# old socket file is still there (mmdp replaces it), so wait for a hello
# to succeed, then take the time the socket file was made (its mtime: the
# moment of bind, not this loop's late look).
start_mmdp() {
	local i
	# shellcheck disable=SC2086 # EAL arguments are words
	nsenter --net="/run/netns/$MMSITE_DP_NS" -- "$MMDP_BIN" $MMDP_EAL -- \
		--config "$WORK/mmdp.json" >>"$WORK/mmdp.log" 2>&1 &
	MMDP_PID=$!
	for ((i = 0; i < 1500; i++)); do
		if [[ -S $SOCK ]] && "$MMAGENT_BIN" --socket "$SOCK" --timeout 500 \
			'{"op":"hello"}' >/dev/null 2>&1; then
			T_SOCK=$(stat -c %.9Y "$SOCK")
			return 0
		fi
		kill -0 "$MMDP_PID" 2>/dev/null || die "mmdp exited before its agent socket answered (mmdp.log)"
		sleep 0.02
	done
	die "mmdp's agent socket did not answer within 30 s"
}

start_mmctld() {
	local i
	"$MMCTLD_BIN" --config "$WORK/mmctld.json" >>"$WORK/mmctld.log" 2>&1 &
	MMCTLD_PID=$!
	for ((i = 0; i < 200; i++)); do
		api /v1/rooms >/dev/null 2>&1 && return 0
		kill -0 "$MMCTLD_PID" 2>/dev/null || die "mmctld exited (mmctld.log)"
		sleep 0.05
	done
	die "mmctld did not answer within 10 s"
}

# kill -9 and reap: what a crash (or the OOM killer) does.
crash() {
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# mmload in the background, its rooms named by $1; $2...: more options.
start_load() {
	local name=$1
	shift
	"$MMLOAD_BIN" --mmctld "$URL" --token "$TOKEN" --prefix "$name" --rooms "$ROOMS" \
		--participants "$PARTS" --video --warmup 1 --per-stream \
		--report "$WORK/$name.json" --timeline "$WORK/$name.tl" "$@" \
		>"$WORK/$name.out" 2>&1 &
	LOAD_PID=$!
}

# Wait until mmload has been sending for SECS seconds (the first is
# warmup), from its progress lines ("[  2.0s] offered ...", one a second).
wait_load_running() {
	local secs=$1 i
	for ((i = 0; i < 600; i++)); do
		awk -v s="$secs" '/^\[ *[0-9.]+s/ { l = $0; sub(/^\[ */, "", l); if (l + 0 >= s) f = 1 }
			END { exit !f }' "$WORK/$name.out" && return 0
		kill -0 "$LOAD_PID" 2>/dev/null || { fail "mmload ended early ($name.out)"; return 1; }
		sleep 0.05
	done
	fail "mmload did not get $secs s into its run within 30 s"
	return 1
}

# Wait for mmload; its exit status in LOAD_ST.
wait_load() {
	LOAD_ST=0
	wait "$LOAD_PID" || LOAD_ST=$?
	LOAD_PID=
}

# mmload's exit status: 2 (setup) fails; 1 is mmload's own verdict, which
# also fails a run whose generator fell more than 1 s behind (skipped
# events): on this 2-core machine shared with other mmdps that spin, mmload
# was seen stalled for a second. That is not the fault's doing and loses
# nothing (no copy is due for what was not sent), so it is said, not
# counted; what the faults must not do is checked below.
load_status() {
	local r=$1
	if [[ $LOAD_ST == 2 || ! -s $r ]]; then
		fail "mmload exited $LOAD_ST ($(basename "${r%.json}").out)"
	elif [[ $(jq '.offered.skipped_events' "$r") != 0 ]]; then
		echo "   note: mmload's generator skipped $(jq '.offered.skipped_events' "$r") events" \
			"(lag max $(jq '.offered.max_lag_ms | floor' "$r") ms): the machine stalled it" >&2
	fi
}

# What every faulted run must still show: nothing misdelivered, damaged or
# failing SRTP, the generator on schedule.
check_clean() {
	local r=$1
	check "$r" "nothing misdelivered" '.misdelivered.total == 0'
	check "$r" "nothing damaged, duplicated, foreign or from elsewhere" \
		'.corrupt == 0 and .duplicates == 0 and .foreign == 0 and .wrong_source == 0'
	check "$r" "every SRTP packet authenticated" \
		'.srtp_failures.auth == 0 and .srtp_failures.replay == 0 and .srtp_failures.other == 0'
	check "$r" "packets were expected" '.expected.copies > 0'
	# The timeline (100 ms bins) adds up to the report's totals.
	local tl=${r%.json}.tl lost expected
	read -r _ _ lost expected < <(timeline_fault "$tl" 0)
	check "$r" "the timeline's bins add up to the report ($expected copies expected, $lost lost)" \
		".expected.copies == $expected and .loss.packets == $lost"
}

# mmdp's rooms and endpoints as "room endpoint" lines, and mmctld's.
dp_state() {
	agent '{"op":"room.list"}' | jq -r '.rooms[] | .room as $r | .endpoints[] | "\($r) \(.)"' | sort
}
ctl_state() {
	local id
	for id in $(api /v1/rooms | jq -r '.rooms[].id'); do
		api "/v1/rooms/$id" | jq -r '.id as $r | .participants[] | "\($r) \(.id)"'
	done | sort
}

# ---- the site's daemons ---------------------------------------------------------
# With --guard: the guard's media ports are mmctld's port_range below.
GUARD_CONF=
((GUARD)) && GUARD_CONF=',
 "guard":{"pin_dir":"/sys/fs/bpf","port_range":[30000,30999]}'
cat >"$WORK/mmdp.json" <<EOF
{"agent_socket":"$SOCK",
 "ports":[{"addresses":["$MMSITE_DP_IP4","$MMSITE_DP_IP6"],"gateway_mac":"$MMSITE_GW_MAC"}]$GUARD_CONF}
EOF
say "starting mmdp in $MMSITE_DP_NS: $MMDP_BIN $MMDP_EAL"
start_mmdp
if ((GUARD)); then
	[[ $(agent '{"op":"hello"}' | jq -r .guard) == true ]] || die "mmdp runs without the guard"
fi
API_PORT=$((20000 + RANDOM % 20000))
cat >"$WORK/mmctld.json" <<EOF
{"listen":"127.0.0.1:$API_PORT","db":"$WORK/mmctld.db","mmdp_socket":"$SOCK",
 "media_address":"$MMSITE_DP_IP4","port_range":[30000,30999],"srtp_profile":"AEAD_AES_128_GCM"}
EOF
TOKEN=$("$MMCTLD_BIN" --config "$WORK/mmctld.json" --create-operator-token)
URL=http://127.0.0.1:$API_PORT
start_mmctld

# ---- 1: kill -9 mmctld ------------------------------------------------------------
fault_mmctld() {
	local c=$1 name=ctl$1 r a b
	say "1.$c kill -9 of mmctld under load ($ROOMS rooms x $PARTS, audio + video, SRTP)"
	# --keep: the endpoints stay for the last look at mmdp's counters.
	start_load "$name" --socket "$SOCK" --duration 10 --keep
	wait_load_running 2 || return 0
	a=$WORK/$name-before.json
	b=$WORK/$name-after.json
	agent '{"op":"stats.get"}' >"$a"
	local t_kill t_up t_sync=never i syncs0
	syncs0=$(jq '.agent.syncs' "$a")
	t_kill=$(wall_now)
	crash "$MMCTLD_PID"
	MMCTLD_PID=
	sleep 0.3
	start_mmctld
	t_up=$(wall_now)
	# Its resync: one more state.sync applied in mmdp.
	for ((i = 0; i < 250; i++)); do
		if (($(agent '{"op":"stats.get"}' | jq '.agent.syncs') > syncs0)); then
			t_sync=$(wall_now)
			break
		fi
		sleep 0.02
	done
	sleep 1
	agent '{"op":"stats.get"}' >"$b"
	wait_load
	delete_rooms
	r=$WORK/$name.json
	load_status "$r"
	[[ -s $r ]] || { fail "no report"; return 0; }
	check "$r" "no loss across mmctld's crash and restart" '.loss.packets == 0'
	check "$r" "received = expected copies" '.received.packets == .expected.copies'
	check_clean "$r"
	expect "mmctld resynced mmdp after its restart" test "$t_sync" != never
	# shellcheck disable=SC2016 # jq variables
	local same='[$a[0].agent, $b[0].agent] as [$x, $y] |
		($y.syncs > $x.syncs) and
		all("room_created", "room_deleted", "endpoint_created", "endpoint_recreated",
		    "endpoint_deleted"; $x[.] == $y[.])'
	expect "the resync created, recreated or deleted nothing in mmdp (stats.get agent)" \
		test "$(jq -n --slurpfile a "$a" --slurpfile b "$b" "$same")" == true
	# shellcheck disable=SC2016
	local grew='[$a[0], $b[0]] | map([.rooms[].endpoints[] | {(.endpoint): .rx_packets}] | add) as [$x, $y] |
		($x | length) == '$((ROOMS * PARTS))' and ($x | keys) == ($y | keys) and
		all($x | keys[]; $y[.] > $x[.])'
	expect "every endpoint's rx_packets kept growing across the restart (not reset)" \
		test "$(jq -n --slurpfile a "$a" --slurpfile b "$b" "$grew")" == true
	local tl
	tl=$(timeline_fault "$WORK/$name.tl" "$t_kill")
	echo "faults: kill -9 mmctld (cycle $c): back $(ms "$t_kill" "$t_up") ms after the kill," \
		"state.sync $( [[ $t_sync == never ]] && echo never || echo "$(ms "$t_up" "$t_sync") ms after it answered")," \
		"mmdp $(jq -n --slurpfile a "$a" --slurpfile b "$b" -r \
			'[$a[0].agent, $b[0].agent] as [$x, $y] | "rooms +\($y.room_created - $x.room_created)/-\($y.room_deleted - $x.room_deleted) endpoints +\($y.endpoint_created - $x.endpoint_created)/~\($y.endpoint_recreated - $x.endpoint_recreated)/-\($y.endpoint_deleted - $x.endpoint_deleted) updated \($y.endpoint_updated - $x.endpoint_updated)"')," \
		"lost $(jq '.loss.packets' "$r") of $(jq '.expected.copies' "$r") copies (timeline: $(cut -d' ' -f3 <<<"$tl"))" >&2
}

# ---- 2: kill -9 mmdp --------------------------------------------------------------
fault_mmdp() {
	local c=$1 name=dp$1 r i
	say "2.$c kill -9 of mmdp under load"
	# No --socket: mmload's agent connection would die with mmdp. --keep:
	# the meetings stay for the comparison below, however late it comes.
	# 20 s: mmdp takes 2.5-4 s to start here, 16 s seen when other mmdps
	# spun on both cores; the run must outlast that and show the recovery.
	start_load "$name" --duration 20 --max-loss 100 --keep
	wait_load_running 2 || return 0
	local before t_kill t_sync=never removed0
	removed0=$(grep -c "removed XDP program" "$WORK/mmdp.log" || true)
	# mmdp's meetings before (quick to read, where mmctld's API takes
	# seconds for all rooms on this loaded machine); mmctld's are
	# compared with them once mmdp is back.
	before=$(dp_state)
	echo "$before" >"$WORK/$name-dp-before.txt"
	t_kill=$(wall_now)
	crash "$MMDP_PID"
	MMDP_PID=
	nsenter --net="/run/netns/$MMSITE_DP_NS" -- ip -d link show dev dp0 >"$WORK/$name-dp0-killed.txt" 2>&1 || true
	sleep 0.3
	start_mmdp
	# Every meeting back in mmdp, as mmctld has them.
	for ((i = 0; i < 250; i++)); do
		if [[ $(dp_state 2>/dev/null) == "$before" ]]; then
			t_sync=$(wall_now)
			break
		fi
		sleep 0.02
	done
	# The killed mmdp's XDP program was still on dp0; the new one removes
	# it (with the guard it could not start otherwise: test_guard_site.c).
	expect "the new mmdp removed the XDP program the killed one left on dp0" \
		test "$(grep -c "removed XDP program" "$WORK/mmdp.log" || true)" -gt "$removed0"
	expect "mmdp got every meeting back, as it had them before ($ROOMS rooms, $((ROOMS * PARTS)) endpoints)" \
		test "$t_sync" != never
	nsenter --net="/run/netns/$MMSITE_DP_NS" -- ip -d link show dev dp0 >"$WORK/$name-dp0.txt" 2>&1 || true
	wait_load
	ctl_state >"$WORK/$name-ctl-after.txt" || true
	dp_state >"$WORK/$name-dp-after.txt" || true
	expect "... and as mmctld has them" test "$(cat "$WORK/$name-ctl-after.txt")" == "$before"
	expect "... still at the end of the run" test "$(cat "$WORK/$name-dp-after.txt")" == "$before"
	if ((GUARD)); then
		# The guard that carried the media after the restart is the new
		# mmdp's, in step with its tables (docs/agent-protocol.md).
		local g
		g=$(agent '{"op":"stats.get","rooms":false}' | jq -c .guard)
		echo "$g" >"$WORK/$name-guard.json"
		expect "the new mmdp's guard is in sync with its tables" \
			test "$(jq '.sync.in_sync and .sync.errors == 0' <<<"$g")" == true
		expect "the new mmdp's guard redirected the media to it ($(jq '.verdicts.redirect.packets' <<<"$g") packets)" \
			test "$(jq '.verdicts.redirect.packets > 0' <<<"$g")" == true
		echo "   guard drops since the restart: $(jq -c '.drops | with_entries(select(.value > 0))' <<<"$g")" >&2
	fi
	delete_rooms
	r=$WORK/$name.json
	load_status "$r"
	[[ -s $r ]] || { fail "no report"; return 0; }
	check_clean "$r"
	local before_loss whole lost expected
	read -r before_loss whole lost expected < <(timeline_fault "$WORK/$name.tl" "$t_kill")
	expect "nothing lost before the kill" test "$before_loss" == 0
	local t_last
	t_last=$(awk '!/^#/ { t = $2 } END { print t }' "$WORK/$name.tl")
	if [[ $whole == never ]] && le "$t_last" "$T_SOCK"; then
		echo "   (mmdp's socket appeared only after the run, $(ms "$t_kill" "$T_SOCK") ms after the kill)" >&2
	fi
	expect "forwarding whole again before the run ended" test "$whole" != never
	if [[ $whole != never ]]; then
		expect "forwarding whole again within ${RESUME_LIMIT_S} s of mmdp's socket appearing" \
			le "$whole" "$(awk -v a="$T_SOCK" -v l=$RESUME_LIMIT_S 'BEGIN { printf "%.3f", a + l }')"
	fi
	echo "faults: kill -9 mmdp (cycle $c): socket back $(ms "$t_kill" "$T_SOCK") ms after the kill," \
		"meetings seen restored $( [[ $t_sync == never ]] && echo never || echo "$(ms "$T_SOCK" "$t_sync") ms") (polled) and" \
		"forwarding whole $( [[ $whole == never ]] && echo never || echo "$(ms "$T_SOCK" "$whole") ms") after it;" \
		"lost $lost of $expected copies, all between the kill and then" >&2
}

# ---- 3, 4: a side of the media link down and up --------------------------------
link_set() { nsenter --net="/run/netns/$1" -- ip link set "$2" "$3"; } # NS DEV up|down

fault_link() { # NAME NS DEV WHAT
	local name=$1 ns=$2 dev=$3 r
	say "$4 down for 1 s under load"
	start_load "$name" --socket "$SOCK" --duration 7 --max-loss 100
	wait_load_running 2 || return 0
	local t_down t_up
	t_down=$(wall_now)
	LINK_DOWN="$ns $dev"
	link_set "$ns" "$dev" down
	sleep 1
	# From the moment the command is given: what it takes the link to
	# come up counts in the recovery.
	t_up=$(wall_now)
	link_set "$ns" "$dev" up
	LINK_DOWN=
	wait_load
	r=$WORK/$name.json
	expect "mmdp survived the link going down and up" kill -0 "$MMDP_PID"
	expect "mmdp still answers" eval "agent '{\"op\":\"hello\"}' >/dev/null"
	load_status "$r"
	[[ -s $r ]] || { fail "no report"; return 0; }
	check_clean "$r"
	local before_loss whole lost expected
	read -r before_loss whole lost expected < <(timeline_fault "$WORK/$name.tl" "$t_down")
	expect "nothing lost before the link went down" test "$before_loss" == 0
	expect "forwarding whole again before the run ended" test "$whole" != never
	if [[ $whole != never ]]; then
		expect "forwarding whole again within ${RESUME_LIMIT_S} s of the link coming up" \
			le "$whole" "$(awk -v a="$t_up" -v l=$RESUME_LIMIT_S 'BEGIN { printf "%.3f", a + l }')"
	fi
	echo "faults: $dev down $(ms "$t_down" "$t_up") ms: forwarding whole" \
		"$( [[ $whole == never ]] && echo never || echo "$(ms "$t_up" "$whole") ms after it came up")," \
		"lost $lost of $expected copies, all in the outage" >&2
}

for ((cycle = 1; cycle <= FAULT_CYCLES; cycle++)); do
	[[ " $FAULTS " == *" mmctld "* ]] && fault_mmctld "$cycle"
	[[ " $FAULTS " == *" mmdp "* ]] && fault_mmdp "$cycle"
done
[[ " $FAULTS " == *" link "* ]] &&
	fault_link link "$MMSITE_SW_NS" swdp "3. the media link (swdp, dp0's peer)"
[[ " $FAULTS " == *" dp0 "* ]] &&
	fault_link dp0 "$MMSITE_DP_NS" dp0 "4. mmdp's own interface (dp0, under its AF_XDP socket)"

if ((FAILS)); then
	die "$FAILS check(s) failed"
fi
say "all checks passed"
