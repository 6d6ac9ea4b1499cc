#!/usr/bin/env bash
# memif clients that die mid-traffic, many times, against one mmdp whose
# worker shares its CPU with a busy loop (so that it is often descheduled
# in the middle of a burst: the window in which DPDK 22.11's net_memif
# unmapped the departed client's regions under it and the worker crashed,
# see dataplane/mmdp/unmap_guard.c). KILLS times (default 40): start an
# mmload (--io memif, 16 rooms x 4, audio + video, plain RTP), wait until
# its frames flow through mmdp, SIGKILL it at a random moment, check that
# mmdp is still running. Then mmdp must stop cleanly and report at least
# one unmap per client that waited for the workers.
#
# On the 2-vCPU development VM, mmdp without the unmap guard died here after
# 14 and after 18 kills in two tries (SIGSEGV in librte_net_memif.so on the
# worker lcore); with it, it survived 40 of 40 (twice).
# On demand (suite "stress": a CPU hog for a minute or two):
#   meson test -C build --suite stress memif-disconnect
#   tools/mmsite run --prefix mmk- --hosts 1 -- env MMDP_BIN=... MMLOAD_BIN=... MMAGENT_BIN=... $0
set -euo pipefail

TEST_NAME=memif-disconnect
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ -n ${MMDP_BIN:-} && -x $MMDP_BIN ]] || die "MMDP_BIN (the mmdp binary) is not set or not executable"
[[ -n ${MMLOAD_BIN:-} && -x $MMLOAD_BIN ]] || die "MMLOAD_BIN (the mmload binary) is not set or not executable"
[[ -n ${MMAGENT_BIN:-} && -x $MMAGENT_BIN ]] || die "MMAGENT_BIN (the mmagent binary) is not set or not executable"
command -v jq >/dev/null || die "jq is not installed"
[[ $("$MMLOAD_BIN" --help) == *"--io memif"* ]] || { echo "SKIP: mmload built without DPDK"; exit 77; }
KILLS=${KILLS:-40}

WORK=$(mktemp -d /tmp/mmk-test.XXXXXX)
SOCK=$WORK/agent.sock
MEMIF=$WORK/memif.sock
MMDP_PID=
LOAD_PID=
HOG_PID=

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local st=$?
	trap - EXIT INT TERM
	local p
	for p in $LOAD_PID $HOG_PID $MMDP_PID; do
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [[ $st != 0 || ${KEEP_WORK:-0} == 1 ]]; then
		echo "memif-disconnect: logs kept in $WORK" >&2
	else
		rm -rf "$WORK"
	fi
	exit "$st"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cat >"$WORK/mmdp.json" <<EOF2
{"agent_socket":"$SOCK","ports":[{"addresses":["198.18.0.1","2001:2::1"]}]}
EOF2
"$MMDP_BIN" -l 0,1 --in-memory --no-pci --file-prefix mmk-dp \
	--vdev "net_memif0,role=server,id=0,socket=$MEMIF,socket-abstract=no,mac=02:6d:6d:00:00:01" \
	-- --config "$WORK/mmdp.json" >"$WORK/mmdp.log" 2>&1 &
MMDP_PID=$!
wait_mmdp

rx() { "$MMAGENT_BIN" --socket "$SOCK" '{"op":"stats.get"}' | jq '[.workers[].rx_packets] | add'; }

# The worker's CPU (lcore 1 = CPU 1) shared with a busy loop.
taskset -c 1 sh -c 'while :; do :; done' &
HOG_PID=$!

say "$KILLS memif clients killed mid-traffic, the worker's CPU shared with a busy loop"
for ((it = 1; it <= KILLS; it++)); do
	r0=$(rx)
	"$MMLOAD_BIN" --io memif --memif "$MEMIF" --socket "$SOCK" --mac 02:6d:6d:10:00:01 \
		--dp-mac 02:6d:6d:00:00:01 --dp-ip4 198.18.0.1 --dp-ip6 2001:2::1 --cpu 0 --prefix mmk \
		--rooms 16 --participants 4 --video --duration 60 --warmup 0 --quiet --max-loss 100 \
		>"$WORK/load.log" 2>&1 &
	LOAD_PID=$!
	r=$r0
	for ((k = 0; k < 150; k++)); do
		sleep 0.1
		kill -0 "$MMDP_PID" 2>/dev/null || break
		kill -0 "$LOAD_PID" 2>/dev/null || { cat "$WORK/load.log" >&2; die "mmload $it exited by itself"; }
		r=$(rx)
		((r > r0 + 500)) && break
	done
	((r > r0 + 500)) || die "kill $it: no frames flowed through mmdp (+$((r - r0)))"
	sleep "0.$((RANDOM % 10))"
	kill -KILL "$LOAD_PID" 2>/dev/null || true
	wait "$LOAD_PID" 2>/dev/null || true
	LOAD_PID=
	sleep 0.3
	if ! kill -0 "$MMDP_PID" 2>/dev/null; then
		st=0
		wait "$MMDP_PID" || st=$?
		MMDP_PID=
		tail -n 20 "$WORK/mmdp.log" >&2 || true
		die "FAILED: mmdp died (status $st) after kill $it"
	fi
done
kill "$HOG_PID" 2>/dev/null || true
wait "$HOG_PID" 2>/dev/null || true
HOG_PID=
echo "   ok: mmdp survived $KILLS clients killed mid-traffic"

"$MMAGENT_BIN" --socket "$SOCK" '{"op":"stats.get"}' >/dev/null || die "FAILED: mmdp does not answer"
kill -INT "$MMDP_PID"
st=0
wait "$MMDP_PID" || st=$?
MMDP_PID=
[[ $st == 0 ]] || { tail -n 20 "$WORK/mmdp.log" >&2; die "FAILED: mmdp exited $st"; }
echo "   ok: mmdp exited 0"
waits=$(sed -n 's/.*event=workers_stopped unmap_waits=\([0-9]*\).*/\1/p' "$WORK/mmdp.log")
if [[ -z $waits ]] || ((waits < KILLS)); then
	die "FAILED: unmaps that waited for the workers: '$waits' (expected >= $KILLS)"
fi
echo "   ok: $waits unmaps of departed clients' regions waited for the workers"
say "all checks passed"
