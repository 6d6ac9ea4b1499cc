#!/usr/bin/env bash
# Packet capture from a running mmdp with DPDK's dpdk-dumpcap (prefix mme-):
# mmdp runs with --capture and a multi-process EAL (its own --file-prefix,
# no --in-memory); dpdk-dumpcap attaches as a secondary process, writes
# pcapng while one participant sends two plain RTP streams (one wrapping
# its sequence numbers) to a room of three, and stops. tshark decodes the
# capture as RTP: the packets mmdp received are exactly the (SSRC, sequence
# number) pairs the sender logged, and the copies mmdp sent each receiver
# are those pairs again, as the receivers logged them. Forwarding goes on
# after the capture ends, and mmdp stops cleanly. --capture on an
# --in-memory EAL is refused with the reason.
#
# Runs inside the test site (see meson.build):
#   tools/mmsite run --prefix mme- -- env MMDP_BIN=build/dataplane/mmdp/mmdp \
#       MMAGENT_BIN=build/tools/mmagent tests/integration/test_dumpcap.sh
# KEEP_WORK=1 keeps the capture and the logs.
set -euo pipefail

TEST_NAME="dumpcap"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3

[[ -n ${MMDP_BIN:-} && -x $MMDP_BIN ]] || die "MMDP_BIN (the mmdp binary) is not set or not executable"
[[ -n ${MMAGENT_BIN:-} && -x $MMAGENT_BIN ]] || die "MMAGENT_BIN (the mmagent binary) is not set or not executable"
[[ -n ${MMSITE_DP_NS:-} && -n ${MMSITE_H1_NS:-} && -n ${MMSITE_H3_NS:-} ]] ||
	die "run inside the test site with 3 hosts: tools/mmsite run --prefix mme- -- $0"
for t in dpdk-dumpcap tshark jq; do
	command -v "$t" >/dev/null || die "$t is not installed (./quickstart test installs it)"
done

# The EAL's file prefix names mmdp's shared memory and runtime directory
# (/var/run/dpdk/PREFIX); dpdk-dumpcap finds mmdp by it.
FP=mme-dumpcap-$$
EAL="-l 0,1 --file-prefix $FP --no-pci --vdev net_af_xdp0,iface=dp0,start_queue=0,queue_count=1"
WORK=$(mktemp -d /tmp/mme-dumpcap.XXXXXX)
SOCK=$WORK/agent.sock
MMDP_PID=
DUMPCAP_PID=
RECV_PIDS=()
FAILS=0

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local st=$? p
	trap - EXIT INT TERM
	[[ -n $DUMPCAP_PID ]] && stop_pid "$DUMPCAP_PID" 50
	for p in "${RECV_PIDS[@]}"; do stop_pid "$p" 20; done
	[[ -n $MMDP_PID ]] && stop_pid "$MMDP_PID"
	# A multi-process EAL leaves its runtime directory and hugepage files.
	rm -rf "/var/run/dpdk/$FP"
	rm -f /dev/hugepages/"$FP"map_*
	work_done "$st" "$WORK" "$WORK/mmdp.log"
	exit "$st"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() { echo "   FAILED: $*" >&2; FAILS=$((FAILS + 1)); }
ok() { echo "   ok: $*"; }
agent() { "$MMAGENT_BIN" --socket "$SOCK" "$@"; }
# Not for background processes: $! would be a subshell, not the process.
in_ns() { local ns=$1; shift; nsenter --net="/run/netns/$ns" -- "$@"; }

cat >"$WORK/mmdp.json" <<EOF
{"agent_socket":"$SOCK",
 "ports":[{"addresses":["$MMSITE_DP_IP4","$MMSITE_DP_IP6"],"gateway_mac":"$MMSITE_GW_MAC"}]}
EOF

# ---- 1: --capture needs a multi-process EAL ---------------------------------------
say "1. --capture with --in-memory is refused"
st=0
"$MMDP_BIN" -l 0,1 --in-memory --no-pci -- --config "$WORK/mmdp.json" --capture \
	>"$WORK/refused.log" 2>&1 || st=$?
if [[ $st == 1 ]] && grep -q "event=capture_unavailable .*multi-process EAL" "$WORK/refused.log"; then
	ok "exit 1: $(grep -m1 "event=capture_unavailable" "$WORK/refused.log")"
else
	fail "mmdp --capture --in-memory exited $st: $(tail -n 3 "$WORK/refused.log")"
fi

# ---- 2: capture RTP through mmdp ----------------------------------------------------
say "starting mmdp in $MMSITE_DP_NS: $MMDP_BIN $EAL -- --capture"
# shellcheck disable=SC2086 # EAL arguments are words
nsenter --net="/run/netns/$MMSITE_DP_NS" -- "$MMDP_BIN" $EAL -- --config "$WORK/mmdp.json" \
	--capture >"$WORK/mmdp.log" 2>&1 &
MMDP_PID=$!
wait_mmdp
grep -q "event=capture_enabled" "$WORK/mmdp.log" || fail "mmdp did not say capture is enabled"

# A room of three: h1 sends, h2 and h3 receive. Plain RTP, so that the
# capture shows the headers mmdp forwards.
SSRC_A=0x11223344 # sequence numbers wrap: 65436..65535, 0..199
SSRC_B=0xaabbccdd
N=300
agent "{\"op\":\"room.put\",\"room\":\"cap\",\"capacity\":3}" >/dev/null
for i in 1 2 3; do
	ip=MMSITE_H${i}_IP4
	streams='[]'
	[[ $i == 1 ]] && streams="[{\"ssrc\":$((SSRC_A)),\"kind\":\"audio\"},{\"ssrc\":$((SSRC_B)),\"kind\":\"video\"}]"
	agent "{\"op\":\"endpoint.put\",\"endpoint\":\"p$i\",\"room\":\"cap\",
		\"local\":{\"addr\":\"$MMSITE_DP_IP4\",\"port\":4000$i},
		\"remote\":{\"addr\":\"${!ip}\",\"port\":5004},\"streams\":$streams}" >/dev/null
done

for i in 2 3; do
	ns=MMSITE_H${i}_NS ip=MMSITE_H${i}_IP4
	nsenter --net="/run/netns/${!ns}" -- "$PY" "$HERE/rtp_udp.py" recv --bind "${!ip}:5004" \
		--seconds 60 --log "$WORK/recv$i.txt" 2>>"$WORK/rtp.log" &
	RECV_PIDS+=($!)
done

say "2. dpdk-dumpcap --file-prefix=$FP attached while h1 sends $((2 * N)) RTP packets"
# stdbuf: dumpcap says "Capturing on" and counts on stdout, not a terminal.
nsenter --net="/run/netns/$MMSITE_DP_NS" -- stdbuf -o0 dpdk-dumpcap --file-prefix="$FP" \
	-i net_af_xdp0 -p -w "$WORK/cap.pcapng" >"$WORK/dumpcap.log" 2>&1 &
DUMPCAP_PID=$!
for ((i = 0; i < 150; i++)); do
	grep -q "^Capturing on" "$WORK/dumpcap.log" && break
	kill -0 "$DUMPCAP_PID" 2>/dev/null || break
	sleep 0.1
done
grep -q "^Capturing on" "$WORK/dumpcap.log" ||
	die "dpdk-dumpcap did not start capturing: $(tail -n 5 "$WORK/dumpcap.log")"
ok "$(grep -m1 '^Capturing on' "$WORK/dumpcap.log")"

in_ns "$MMSITE_H1_NS" "$PY" "$HERE/rtp_udp.py" send --bind "$MMSITE_H1_IP4:5004" \
	--to "$MMSITE_DP_IP4:40001" --stream "$SSRC_A:65436" --stream "$SSRC_B:1000:96" \
	--count "$N" --pps 200 --log "$WORK/sent.txt" 2>>"$WORK/rtp.log"
# Stop dumpcap only once mmdp has handled every packet (both receivers have
# their copies) and dumpcap has taken them all from its ring: on this
# shared machine mmdp's worker can lag the sender by a second or more.
captured() { # dumpcap's running count: "Packets captured: 0 ^H^H2 ^H^H24 ..."
	tr '\b' ' ' <"$WORK/dumpcap.log" | grep -o 'Packets captured: [0-9 ]*' | awk '{ print $NF }'
}
want=$((6 * N)) # in, and out to h2 and h3
for ((i = 0; i < 300; i++)); do
	if (($(cat "$WORK/recv2.txt" "$WORK/recv3.txt" | wc -l) >= 4 * N)) &&
		(($(captured || echo 0) >= want)); then
		break
	fi
	sleep 0.1
done
say "dumpcap counted $(captured) packets (RTP: $want, and ARP)"
kill -INT "$DUMPCAP_PID"
for ((i = 0; i < 100; i++)); do
	kill -0 "$DUMPCAP_PID" 2>/dev/null || break
	sleep 0.1
done
st=0
wait "$DUMPCAP_PID" || st=$?
DUMPCAP_PID=
[[ $st == 0 ]] || fail "dpdk-dumpcap exited $st: $(tail -n 3 "$WORK/dumpcap.log")"
# "Packets received/dropped on interface 'net_af_xdp0': R/D (..)"
counts=$(grep -o "received/dropped on interface .*" "$WORK/dumpcap.log" | tail -n 1)
say "dumpcap: $counts"
if [[ $counts =~ :\ [0-9]+/0\  ]]; then ok "dumpcap dropped nothing"; else fail "dumpcap dropped packets: $counts"; fi

# What tshark decodes as RTP on the room's ports, one line per packet:
# source, destination, SSRC, sequence number.
tshark -r "$WORK/cap.pcapng" -d udp.port==40001,rtp -d udp.port==40002,rtp \
	-d udp.port==40003,rtp -Y rtp -T fields -e ip.src -e ip.dst -e rtp.ssrc -e rtp.seq \
	>"$WORK/rtp.tsv" 2>"$WORK/tshark.log" || fail "tshark failed: $(tail -n 3 "$WORK/tshark.log")"
pairs() { # SRC DST: the sorted "ssrc seq" of packets from SRC to DST
	awk -v s="$1" -v d="$2" '$1 == s && $2 == d { print $3, $4 }' "$WORK/rtp.tsv" | sort
}
sort "$WORK/sent.txt" >"$WORK/sent.sorted"
sent=$(wc -l <"$WORK/sent.sorted")
[[ $sent == $((2 * N)) ]] || fail "the sender logged $sent packets, not $((2 * N))"
if ! grep -q "^$SSRC_A 65535\$" "$WORK/sent.sorted" || ! grep -q "^$SSRC_A 0\$" "$WORK/sent.sorted"; then
	fail "stream A did not wrap its sequence numbers"
fi

pairs "$MMSITE_H1_IP4" "$MMSITE_DP_IP4" >"$WORK/cap_in.txt"
if cmp -s "$WORK/sent.sorted" "$WORK/cap_in.txt"; then
	ok "captured on the way in: the $sent packets h1 sent, each (SSRC, seq) once"
else
	fail "captured on the way in differs from what h1 sent ($(wc -l <"$WORK/cap_in.txt") lines; diff in $WORK)"
	diff "$WORK/sent.sorted" "$WORK/cap_in.txt" >"$WORK/diff_in.txt" || true
fi
for i in 2 3; do
	ip=MMSITE_H${i}_IP4
	pairs "$MMSITE_DP_IP4" "${!ip}" >"$WORK/cap_out$i.txt"
	sort "$WORK/recv$i.txt" >"$WORK/recv$i.sorted"
	if cmp -s "$WORK/sent.sorted" "$WORK/cap_out$i.txt"; then
		ok "captured on the way out to h$i: the same $sent (SSRC, seq)"
	else
		fail "captured on the way out to h$i differs from what h1 sent ($(wc -l <"$WORK/cap_out$i.txt") lines)"
		diff "$WORK/sent.sorted" "$WORK/cap_out$i.txt" >"$WORK/diff_out$i.txt" || true
	fi
	if cmp -s "$WORK/sent.sorted" "$WORK/recv$i.sorted"; then
		ok "h$i received them all"
	else
		fail "h$i received $(wc -l <"$WORK/recv$i.sorted") packets, not the $sent sent"
	fi
done
others=$(awk -v a="$SSRC_A" -v b="$SSRC_B" '$3 != a && $3 != b { n++ } END { print n + 0 }' \
	"$WORK/rtp.tsv")
if [[ $others == 0 ]]; then ok "no other SSRC in the capture"; else fail "$others packets of other SSRCs"; fi

# ---- 3: after the capture ----------------------------------------------------------
say "3. forwarding goes on after dpdk-dumpcap left"
in_ns "$MMSITE_H1_NS" "$PY" "$HERE/rtp_udp.py" send --bind "$MMSITE_H1_IP4:5004" \
	--to "$MMSITE_DP_IP4:40001" --stream "$SSRC_A:200" --count 50 --pps 200 \
	--log "$WORK/sent2.txt" 2>>"$WORK/rtp.log"
after() { grep -c "^$SSRC_A \(2[0-4][0-9]\)\$" "$WORK/recv$1.txt" || true; }
for ((i = 0; i < 150; i++)); do # mmdp may lag, as above
	(($(after 2) >= 50 && $(after 3) >= 50)) && break
	sleep 0.1
done
for i in 2 3; do
	got=$(after "$i")
	if [[ $got == 50 ]]; then
		ok "h$i received the 50 packets sent after the capture"
	else
		fail "h$i received $got of the 50 packets sent after the capture"
	fi
done
for p in "${RECV_PIDS[@]}"; do stop_pid "$p" 20; done
RECV_PIDS=()
stop_now "$MMDP_PID"
MMDP_PID=
case $STOP_STATUS in
0) ok "mmdp stopped cleanly" ;;
timeout) fail "mmdp did not stop within 10 s of SIGINT" ;;
*) fail "mmdp exited $STOP_STATUS on SIGINT" ;;
esac

if ((FAILS)); then
	die "$FAILS check(s) failed"
fi
say "all checks passed"
