#!/usr/bin/env bash
# shellcheck disable=SC2016 # jq programs in single quotes: $a, $t, $b are jq's
# mmdp's DPDK telemetry commands read with DPDK's own dpdk-telemetry.py
# (prefix mme-): mmdp with traffic from mmload (2 rooms x 3, audio + video),
# dpdk-telemetry.py fed the commands on stdin. While traffic flows, every
# /mmdp/ command is asked over and over and mmload still loses nothing;
# each counter /mmdp/stats, /mmdp/workers and /mmdp/room,<id> report lies
# between the agent's stats.get taken just before and just after it (equal
# once traffic has stopped); /mmdp/rooms is room.list's rooms, /mmdp/info
# agrees with hello, the ports and the workers, /mmdp/mempool adds up; bad
# parameters get an error that says what is wrong.
#
# Runs inside the test site (see meson.build):
#   tools/mmsite run --prefix mme- -- env MMDP_BIN=build/dataplane/mmdp/mmdp \
#       MMLOAD_BIN=build/tools/mmload MMAGENT_BIN=build/tools/mmagent \
#       tests/integration/test_telemetry.sh
# KEEP_WORK=1 keeps the replies and logs.
set -euo pipefail

TEST_NAME="telemetry"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3

[[ -n ${MMDP_BIN:-} && -x $MMDP_BIN ]] || die "MMDP_BIN (the mmdp binary) is not set or not executable"
[[ -n ${MMLOAD_BIN:-} && -x $MMLOAD_BIN ]] || die "MMLOAD_BIN (the mmload binary) is not set or not executable"
[[ -n ${MMAGENT_BIN:-} && -x $MMAGENT_BIN ]] || die "MMAGENT_BIN (the mmagent binary) is not set or not executable"
[[ -n ${MMSITE_DP_NS:-} && -n ${MMSITE_H1_NS:-} ]] ||
	die "run inside the test site: tools/mmsite run --prefix mme- -- $0"
command -v jq >/dev/null || die "jq is not installed"
TELEMETRY_PY=$(command -v dpdk-telemetry.py) ||
	die "dpdk-telemetry.py is not installed (Debian's package dpdk)"

# Telemetry's socket is /var/run/dpdk/PREFIX/dpdk_telemetry.v2: a prefix of
# our own, so that no other DPDK process on the machine answers.
FP=mme-tel-$$
EAL="-l 0,1 --in-memory --file-prefix $FP --no-pci --vdev net_af_xdp0,iface=dp0,start_queue=0,queue_count=1"
WORK=$(mktemp -d /tmp/mme-telemetry.XXXXXX)
SOCK=$WORK/agent.sock
MMDP_PID=
LOAD_PID=
TELQ_PID=
FAILS=0

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local st=$?
	trap - EXIT INT TERM
	[[ -n $LOAD_PID ]] && stop_pid "$LOAD_PID"
	[[ -n $TELQ_PID ]] && stop_pid "$TELQ_PID" 20
	[[ -n $MMDP_PID ]] && stop_pid "$MMDP_PID"
	rm -rf "/var/run/dpdk/$FP"
	work_done "$st" "$WORK" "$WORK/mmdp.log"
	exit "$st"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() { echo "   FAILED: $*" >&2; FAILS=$((FAILS + 1)); }
# tel CMD...: dpdk-telemetry.py reads the commands from stdin (not a
# terminal: no prompt) and prints one JSON reply per line.
tel() { printf '%s\n' "$@" | "$PY" "$TELEMETRY_PY" -f "$FP"; }
agent() { "$MMAGENT_BIN" --socket "$SOCK" "$1"; }
# jcheck WHAT EXPR FILE: EXPR (jq -s over FILE's replies) must be true.
jcheck() {
	if [[ $(jq -s -r "$2" "$3" 2>/dev/null) == true ]]; then
		echo "   ok: $1"
	else
		fail "$1 ($2; replies in $3)"
	fi
}
# bracket NAME TELCMD AGENTREQ: stats.get, the telemetry command, stats.get
# again, into $WORK/NAME.json (three lines: before, telemetry, after).
bracket() {
	local f=$WORK/$1.json
	{ agent "$3"; tel "$2"; agent "$3"; } >"$f"
	[[ $(wc -l <"$f") == 3 ]] || fail "$1: expected 3 replies, got $(wc -l <"$f")"
}

# jq: every counter of the telemetry reply between before and after.
BETWEEN='def btw(a; t; b): a <= t and t <= b;'
STATS_OK="$BETWEEN"' .[0] as $a | .[1]["/mmdp/stats"] as $t | .[2] as $b |
	def tot(s; k): [s.workers[][k]] | add;
	all("rx_packets", "tx_packets", "tx_bytes", "handoff_out", "handoff_in", "neigh_replies",
	    "mbox_full"; btw(tot($a; .); $t[.]; tot($b; .)))
	and ($b.drops | keys) == ($t.drops | keys)
	and all($b.drops | keys[]; btw($a.drops[.]; $t.drops[.]; $b.drops[.]))
	and btw($a.drops | add; $t.drops_total; $b.drops | add)
	and $t.generation == $b.generation'
WORKERS_OK="$BETWEEN"' .[0] as $a | .[1]["/mmdp/workers"] as $t | .[2] as $b |
	$t.tsc_hz == $b.tsc_hz and $t.tsc_hz > 0 and ($t | keys | length) == ($b.workers | length) + 1
	and all($b.workers[]; .worker as $i | $t[$i | tostring] as $w | $a.workers[$i] as $wa |
	  $w.lcore == .lcore
	  and all("rx_packets", "tx_packets", "tx_bytes", "cycles", "busy_cycles", "polls",
	          "busy_polls"; . as $k | btw($wa[$k]; $w[$k]; $b.workers[$i][$k]))
	  and $w.busy_permille >= 0 and $w.busy_permille <= 1000
	  and $w.busy_permille_recent >= 0 and $w.busy_permille_recent <= 1000
	  and btw($wa.drops | add; $w.drops; .drops | add))'
room_ok() { # ROOM
	echo "$BETWEEN"' .[0].rooms[0] as $a | .[1]["/mmdp/room"] as $t | .[2].rooms[0] as $b |
	$t.room.name == "'"$1"'" and $t.room.worker == $b.worker
	and $t.room.endpoints == ($b.endpoints | length) and $t.room.listed == $t.room.endpoints
	and all("rx_packets", "rx_bytes", "tx_packets", "tx_bytes"; btw($a[.]; $t.room[.]; $b[.]))
	and ([$t | keys[] | select(startswith("ep"))] | length) == ($b.endpoints | length)
	and all(range($b.endpoints | length); . as $i | $b.endpoints[$i] as $eb |
	  ($a.endpoints[] | select(.endpoint == $eb.endpoint)) as $ea | $t["ep\($i)"] as $te |
	  $te.name == $eb.endpoint and
	  all("rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "muted_packets";
	      btw($ea[.]; $te[.]; $eb[.]))
	  and $te.streams == ($eb.streams | length) and $te.srtp == ($eb.srtp.profile // "none"))'
}

cat >"$WORK/mmdp.json" <<EOF
{"agent_socket":"$SOCK",
 "ports":[{"addresses":["$MMSITE_DP_IP4","$MMSITE_DP_IP6"],"gateway_mac":"$MMSITE_GW_MAC"}]}
EOF
say "starting mmdp in $MMSITE_DP_NS: $MMDP_BIN $EAL"
# shellcheck disable=SC2086 # EAL arguments are words
nsenter --net="/run/netns/$MMSITE_DP_NS" -- "$MMDP_BIN" $EAL -- --config "$WORK/mmdp.json" \
	>"$WORK/mmdp.log" 2>&1 &
MMDP_PID=$!
wait_mmdp

# ---- 1: the commands are there ----------------------------------------------------
say "1. dpdk-telemetry.py -f $FP lists mmdp's commands, with help"
tel / "/help,/mmdp/room" "/mmdp/info" >"$WORK/list.json"
jcheck "the six /mmdp/ commands are listed" \
	'.[0]["/"] as $l | all("/mmdp/info", "/mmdp/stats", "/mmdp/workers", "/mmdp/rooms",
	 "/mmdp/room", "/mmdp/mempool"; . as $c | $l | index($c) != null)' "$WORK/list.json"
jcheck "/help,/mmdp/room says it takes a room id" \
	'.[1]["/help"]["/mmdp/room"] | test("room id")' "$WORK/list.json"
jcheck "/mmdp/info before any room: version, DPDK, 1 worker, net_af_xdp0, no rooms" \
	'.[2]["/mmdp/info"] | (.version | test("^[0-9]+[.][0-9]+")) and (.dpdk | startswith("DPDK"))
	 and .workers == 1 and .worker_lcores == [1] and .ports == ["net_af_xdp0"]
	 and .capture == 0 and .rooms == 0 and .endpoints == 0 and (has("error") | not)' \
	"$WORK/list.json"

# ---- 2: while traffic flows ---------------------------------------------------------
say "2. mmload: 2 rooms x 3, audio + video, 8 s, the commands asked all along"
R=$WORK/load.json
"$MMLOAD_BIN" --socket "$SOCK" --prefix tel --rooms 2 --participants 3 --video \
	--duration 8 --warmup 1 --keep --report "$R" >"$WORK/mmload.log" 2>&1 &
LOAD_PID=$!
sleep 2 # set up, warming up
# One dpdk-telemetry.py for the whole run, fed through a FIFO: a Python
# start per question would take more CPU than mmdp on this small machine.
mkfifo "$WORK/tel.in"
"$PY" "$TELEMETRY_PY" -f "$FP" <"$WORK/tel.in" >"$WORK/during.json" 2>"$WORK/tel.err" &
TELQ_PID=$!
exec 4>"$WORK/tel.in"
asked=0
while kill -0 "$LOAD_PID" 2>/dev/null; do
	printf '%s\n' /mmdp/info /mmdp/stats /mmdp/workers /mmdp/rooms /mmdp/room,tel-r1 \
		/mmdp/mempool >&4
	asked=$((asked + 6))
	if [[ ! -f $WORK/stats_during.json ]] && kill -0 "$LOAD_PID" 2>/dev/null; then
		bracket stats_during /mmdp/stats '{"op":"stats.get","rooms":false}'
		bracket workers_during /mmdp/workers '{"op":"stats.get","rooms":false}'
		bracket room_during /mmdp/room,tel-r1 '{"op":"stats.get","room":"tel-r1"}'
	fi
	sleep 0.2
done
exec 4>&- # end of input: dpdk-telemetry.py exits
st=0
wait "$LOAD_PID" || st=$?
LOAD_PID=
wait "$TELQ_PID" || fail "dpdk-telemetry.py failed: $(tail -n 3 "$WORK/tel.err")"
TELQ_PID=
[[ $st == 0 ]] || fail "mmload exited $st (tail: $(tail -n 3 "$WORK/mmload.log"))"
[[ -s $R ]] || die "no mmload report"
check "$R" "no loss while telemetry was asked $asked times" '.loss.packets == 0 and .received.packets > 0'
check "$R" "no misdelivery" '.misdelivered.total == 0'
jcheck "$asked replies, none an error" \
	"length == $asked and all(.[]; (.[] | type == \"object\" and (has(\"error\") | not)))" \
	"$WORK/during.json"
jcheck "/mmdp/stats between two stats.get, during traffic" "$STATS_OK" "$WORK/stats_during.json"
jcheck "... and it moved: packets received" '.[1]["/mmdp/stats"].rx_packets > 0' \
	"$WORK/stats_during.json"
jcheck "/mmdp/workers between two stats.get, during traffic" "$WORKERS_OK" "$WORK/workers_during.json"
jcheck "/mmdp/room,tel-r1 between two stats.get, during traffic" "$(room_ok tel-r1)" \
	"$WORK/room_during.json"
jcheck "a busy worker: busy_permille_recent above 0 while traffic flowed" \
	'[.[] | .["/mmdp/workers"] // empty | .["0"].busy_permille_recent] | max > 0' "$WORK/during.json"

# ---- 3: traffic stopped: the same numbers --------------------------------------------
say "3. after the traffic: telemetry and the agent agree"
sleep 1
bracket stats_after /mmdp/stats '{"op":"stats.get","rooms":false}'
bracket workers_after /mmdp/workers '{"op":"stats.get","rooms":false}'
bracket room_after /mmdp/room,tel-r2 '{"op":"stats.get","room":"tel-r2"}'
jcheck "/mmdp/stats = stats.get totals and drops" "$STATS_OK" "$WORK/stats_after.json"
jcheck "... exactly: packets, bytes and drops the same in all three (cycles still move)" \
	'.[0] as $a | .[1]["/mmdp/stats"] as $t | .[2] as $b | def tot(s; k): [s.workers[][k]] | add;
	 all("rx_packets", "tx_packets", "tx_bytes"; tot($a; .) == $t[.] and $t[.] == tot($b; .))
	 and $t.drops == $b.drops and $a.drops == $b.drops' "$WORK/stats_after.json"
jcheck "/mmdp/stats rx_packets >= what mmload sent" \
	".[1][\"/mmdp/stats\"].rx_packets >= $(jq .offered.packets "$R")" "$WORK/stats_after.json"
jcheck "/mmdp/workers = stats.get workers" "$WORKERS_OK" "$WORK/workers_after.json"
jcheck "/mmdp/room,tel-r2 = stats.get of tel-r2, 3 endpoints" \
	"$(room_ok tel-r2) and .[1][\"/mmdp/room\"].room.endpoints == 3" "$WORK/room_after.json"
jcheck "... exactly: the room's and each endpoint's packets the same in all three" \
	'.[0].rooms[0] as $a | .[1]["/mmdp/room"] as $t | .[2].rooms[0] as $b |
	 all("rx_packets", "tx_packets"; $a[.] == $t.room[.] and $t.room[.] == $b[.])
	 and all(range(3); . as $i | $t["ep\($i)"].rx_packets == $b.endpoints[$i].rx_packets
	   and $b.endpoints[$i].rx_packets == $a.endpoints[$i].rx_packets and $b.endpoints[$i].rx_packets > 0)' \
	"$WORK/room_after.json"
{ agent '{"op":"room.list"}'; tel /mmdp/rooms; agent '{"op":"hello"}'; tel /mmdp/info /mmdp/mempool; } \
	>"$WORK/rooms.json"
jcheck "/mmdp/rooms = room.list: tel-r1, tel-r2" \
	'.[1]["/mmdp/rooms"] as $t | $t.rooms == ([.[0].rooms[].room] | sort)
	 and $t.rooms == ["tel-r1", "tel-r2"] and $t.count == 2 and $t.listed == 2' "$WORK/rooms.json"
jcheck "/mmdp/info = hello: rooms, endpoints, generation; uptime counts" \
	'.[3]["/mmdp/info"] as $t | .[2] as $h | $t.rooms == $h.rooms and $t.endpoints == $h.endpoints
	 and $t.generation == $h.generation and $t.rooms == 2 and $t.endpoints == 6
	 and $t.uptime_s >= 8' "$WORK/rooms.json"
jcheck "/mmdp/mempool: mmdp_mbufs, 32768 = in use + available, some in use" \
	'.[4]["/mmdp/mempool"] | .name == "mmdp_mbufs" and .size == 32768
	 and .in_use + .available == .size and .in_use > 0' "$WORK/rooms.json"

# ---- 4: a room larger than one reply ------------------------------------------------------
say "4. a room of 100: /mmdp/room lists what fits in DPDK's 16 KiB reply and says so"
ops=$(jq -cn --arg dp "$MMSITE_DP_IP4" --arg h "$MMSITE_H1_IP4" '[range(100) | {op: "endpoint.put",
	endpoint: "big-participant-\(.)", room: "big", local: {addr: $dp, port: (41000 + .)},
	remote: {addr: $h, port: (6000 + .)}, streams: [{ssrc: (7000 + .), kind: "audio"}]}]')
agent '{"op":"room.put","room":"big","capacity":100}' >/dev/null
agent "{\"op\":\"batch\",\"ops\":$ops}" >/dev/null || fail "could not put 100 endpoints"
tel /mmdp/room,big /mmdp/rooms >"$WORK/big.json"
jcheck "/mmdp/room,big: 100 endpoints, listed ep0..epN-1 (N < 100) with their names, in order" \
	'.[0]["/mmdp/room"] as $t | $t.room.endpoints == 100 and $t.room.listed < 100
	 and $t.room.listed >= 30 and ([$t | keys[] | select(startswith("ep"))] | length) == $t.room.listed
	 and all(range($t.room.listed); $t["ep\(.)"].name == "big-participant-\(.)")' "$WORK/big.json"
jcheck "/mmdp/rooms: 3 rooms now" '.[1]["/mmdp/rooms"].rooms == ["big", "tel-r1", "tel-r2"]' \
	"$WORK/big.json"
say "   /mmdp/room,big listed $(jq -r '.["/mmdp/room"].room.listed' "$WORK/big.json" | head -n 1) of 100 endpoints in $(head -n 1 "$WORK/big.json" | wc -c) bytes"

# ---- 5: bad parameters ----------------------------------------------------------------
say "5. bad parameters"
tel /mmdp/room,nosuch /mmdp/room "/mmdp/stats,x" >"$WORK/bad.json"
jcheck "/mmdp/room,nosuch: not_found" \
	'.[0]["/mmdp/room"].error | test("^not_found: ")' "$WORK/bad.json"
jcheck "/mmdp/room without an id: usage" '.[1]["/mmdp/room"].error | test("usage: /mmdp/room,<room id>")' \
	"$WORK/bad.json"
jcheck "/mmdp/stats,x: takes no parameter" \
	'.[2]["/mmdp/stats"].error == "/mmdp/stats takes no parameter"' "$WORK/bad.json"
agent '{"op":"hello"}' >/dev/null || fail "the agent does not answer after the telemetry requests"

stop_now "$MMDP_PID"
MMDP_PID=
case $STOP_STATUS in
0) echo "   ok: mmdp stopped cleanly" ;;
timeout) fail "mmdp did not stop within 10 s of SIGINT" ;;
*) fail "mmdp exited $STOP_STATUS on SIGINT" ;;
esac

if ((FAILS)); then
	die "$FAILS check(s) failed"
fi
say "all checks passed"
