#!/usr/bin/env bash
# A worker that sleeps when idle keeps polling under CPU starvation (prefix
# mmb2-, suite stress, on demand). With idle_sleep_us 200 mmdp's worker
# was seen to stop polling ("polls" frozen, forwarding stopped) in 2 of 3
# telemetry test runs at load average 10-12 (RELIABILITY.md). This test
# tries to make it happen again and, when it does, says where the worker
# was: mmdp (AF_XDP, idle_sleep_us IDLE_US, default 200) forwards meetings
# of 2 rooms x 3 (mmload, audio + video, 20 s each, one after another)
# while HOGS (10) busy loops share both CPUs and dpdk-telemetry.py asks
# every /mmdp/ command five times a second, for DURATION seconds (240).
# Every 0.5 s the worker's polls counter is read (stats.get); if it has not
# moved for 1.5 s the worker's threads are dumped (kernel state, wchan,
# system call, gdb backtraces) into the work directory and the test fails.
# Every mmload must also pass (no loss, nothing misdelivered).
#   meson test -C build --suite stress idle-sleep
#   DURATION=600 HOGS=12 KEEP_WORK=1 meson test -C build idle-sleep
set -euo pipefail

TEST_NAME="idle-sleep"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

for v in MMDP_BIN MMLOAD_BIN MMAGENT_BIN; do
	[[ -x ${!v:-} ]] || die "$v is not set or not executable"
done
[[ -n ${MMSITE_DP_NS:-} ]] || die "run inside the test site: tools/mmsite run --prefix mmb2- -- $0"
command -v jq >/dev/null || die "jq is not installed"
TELEMETRY_PY=$(command -v dpdk-telemetry.py) || die "dpdk-telemetry.py is not installed (package dpdk)"
DURATION=${DURATION:-240}
HOGS=${HOGS:-10}
IDLE_US=${IDLE_US:-200}

FP=mmb2-idle-$$
WORK=$(mktemp -d /tmp/mmb2-idle.XXXXXX)
SOCK=$WORK/agent.sock
MMDP_PID=
LOAD_PID=
TEL_PID=
HOG_PIDS=()
FAILS=0

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local st=$? p
	trap - EXIT INT TERM
	for p in "${HOG_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	[[ -n $TEL_PID ]] && stop_pid "$TEL_PID" 20
	[[ -n $LOAD_PID ]] && stop_pid "$LOAD_PID"
	[[ -n $MMDP_PID ]] && stop_pid "$MMDP_PID"
	rm -rf "/var/run/dpdk/$FP"
	((FAILS == 0)) || st=1
	work_done "$st" "$WORK" "$WORK/mmdp.log"
	exit "$st"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cat >"$WORK/mmdp.json" <<EOF
{"agent_socket":"$SOCK","idle_sleep_us":$IDLE_US,
 "ports":[{"addresses":["$MMSITE_DP_IP4","$MMSITE_DP_IP6"],"gateway_mac":"$MMSITE_GW_MAC"}]}
EOF
say "mmdp with idle_sleep_us $IDLE_US, $HOGS busy loops, telemetry asked 5 times a second, ${DURATION} s"
nsenter --net="/run/netns/$MMSITE_DP_NS" -- "$MMDP_BIN" -l 0,1 --in-memory --file-prefix "$FP" --no-pci \
	--vdev net_af_xdp0,iface=dp0,start_queue=0,queue_count=1 -- --config "$WORK/mmdp.json" \
	>"$WORK/mmdp.log" 2>&1 &
MMDP_PID=$!
wait_mmdp

for ((i = 0; i < HOGS; i++)); do
	taskset -c $((i % 2)) bash -c 'while :; do :; done' &
	HOG_PIDS+=($!)
done
mkfifo "$WORK/tel.in"
/usr/bin/python3 "$TELEMETRY_PY" -f "$FP" <"$WORK/tel.in" >"$WORK/tel.out" 2>&1 &
TEL_PID=$!
exec 4>"$WORK/tel.in"

polls() {
	timeout 5 "$MMAGENT_BIN" --socket "$SOCK" '{"op":"stats.get","rooms":false}' 2>/dev/null |
		jq '.workers[0].polls // -1' 2>/dev/null || echo -1
}
dump() { # DIR
	local t
	mkdir -p "$1"
	for t in /proc/"$MMDP_PID"/task/*; do
		echo "== $(basename "$t") $(cat "$t/comm") state=$(awk '{print $3}' "$t/stat")" \
			"wchan=$(cat "$t/wchan") syscall=$(cat "$t/syscall")"
		cat "$t/stack" 2>/dev/null || true
	done >"$1/tasks" 2>&1
	command -v gdb >/dev/null && gdb -batch -p "$MMDP_PID" -ex "thread apply all bt" >"$1/gdb" 2>&1
	nsenter --net="/run/netns/$MMSITE_DP_NS" -- ip -s link show dp0 >"$1/dp0" 2>&1 || true
	timeout 5 "$MMAGENT_BIN" --socket "$SOCK" '{"op":"stats.get","rooms":false}' >"$1/stats.json" 2>&1 || true
}

end=$((SECONDS + DURATION))
last=-1 same=0 runs=0 stalls=0
while ((SECONDS < end)); do
	if [[ -z $LOAD_PID ]] || ! kill -0 "$LOAD_PID" 2>/dev/null; then
		if [[ -n $LOAD_PID ]]; then
			st=0
			wait "$LOAD_PID" || st=$?
			[[ $st == 0 ]] || { echo "   FAILED: mmload run $runs exited $st" >&2; FAILS=$((FAILS + 1)); }
		fi
		runs=$((runs + 1))
		"$MMLOAD_BIN" --socket "$SOCK" --prefix "i$runs" --rooms 2 --participants 3 --video \
			--duration 20 --warmup 1 --report "$WORK/load$runs.json" >"$WORK/mmload$runs.log" 2>&1 &
		LOAD_PID=$!
	fi
	printf '%s\n' /mmdp/info /mmdp/stats /mmdp/workers /mmdp/rooms /mmdp/mempool >&4
	p=$(polls)
	if [[ $p == "$last" ]]; then same=$((same + 1)); else same=0; fi
	echo "$SECONDS $p" >>"$WORK/polls"
	last=$p
	if ((same == 3)); then
		stalls=$((stalls + 1))
		echo "   FAILED: the worker's polls stayed at $p for 1.5 s (at ${SECONDS} s): state in $WORK/stall$stalls" >&2
		FAILS=$((FAILS + 1))
		((stalls <= 3)) && dump "$WORK/stall$stalls"
	fi
	sleep 0.5
done
st=0
wait "$LOAD_PID" || st=$?
LOAD_PID=
[[ $st == 0 ]] || { echo "   FAILED: mmload run $runs exited $st" >&2; FAILS=$((FAILS + 1)); }
exec 4>&-
wait "$TEL_PID" || true
TEL_PID=
for ((i = 1; i <= runs; i++)); do
	[[ -s $WORK/load$i.json ]] || continue
	jq -e '.loss.packets == 0 and .misdelivered.total == 0 and .received.packets > 0' \
		"$WORK/load$i.json" >/dev/null ||
		{ echo "   FAILED: mmload run $i: $(jq -c '{loss: .loss.packets, misdelivered: .misdelivered.total}' "$WORK/load$i.json")" >&2; FAILS=$((FAILS + 1)); }
done
stop_now "$MMDP_PID"
MMDP_PID=
[[ $STOP_STATUS == 0 ]] || { echo "   FAILED: mmdp stopped with $STOP_STATUS" >&2; FAILS=$((FAILS + 1)); }
say "$runs meetings, $(wc -l <"$WORK/polls") polls readings, $stalls stalls"
((FAILS == 0)) || die "$FAILS checks failed"
say "ok"
