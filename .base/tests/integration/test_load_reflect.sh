#!/usr/bin/env bash
# mmload --reflect against a real dpdk-testpmd on a DPDK net_memif link
# (tools/bench/testpmd.sh memif): testpmd is the memif server with one
# forwarding lcore, mmload its own DPDK process on the client end. Runs
# under tools/mmsite (for its hugepages; the memif link needs no namespace).
#
# 1. --forward-mode=5tswap (MACs, addresses and ports swapped: each packet
#    returns to its sender from the address and port it was sent to):
#    2 rooms x 3 participants, audio + video, SRTP AEAD_AES_128_GCM, IPv4
#    and IPv6, 3 s after 1 s of warmup: mmload passes in reflect mode, one
#    copy per packet, the copies it expects are the packets it sent, every
#    one came back once (no loss, duplicate, damage, SRTP failure or wrong
#    source), nothing misdelivered; testpmd's window counted packets in and
#    the same number out, with CPU cycles per packet.
# 2. --forward-mode=macswap (only the MACs swapped: the packet comes back to
#    mmload's MAC still addressed to the forwarder's address and port): no
#    participant gets its stream back, so mmload fails with 100 % loss and
#    counts what came back as foreign, not as received or misdelivered.
#   tools/mmsite run --prefix pa- -- env MMLOAD_BIN=... TESTPMD_SH=... $0
set -euo pipefail

say() { echo "load-reflect: $*"; }
die() { echo "load-reflect: $*" >&2; exit 1; }

[[ -n ${MMLOAD_BIN:-} && -x $MMLOAD_BIN ]] || die "MMLOAD_BIN (the mmload binary) is not set or not executable"
[[ -n ${TESTPMD_SH:-} && -x $TESTPMD_SH ]] || die "TESTPMD_SH (tools/bench/testpmd.sh) is not set or not executable"
command -v jq >/dev/null || die "jq is not installed"
command -v dpdk-testpmd >/dev/null || { echo "SKIP: dpdk-testpmd is not installed (Debian: dpdk-dev)"; exit 77; }
[[ $("$MMLOAD_BIN" --help) == *"--io memif"* ]] || { echo "SKIP: mmload built without DPDK"; exit 77; }

WORK=$(mktemp -d /tmp/pa-reflect.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
FAILS=0

check() {
	local what=$1 expr=$2 file=$3
	if jq -e "$expr" "$file" >/dev/null; then
		say "ok: $what"
	else
		echo "   FAILED: $what ($expr)" >&2
		FAILS=$((FAILS + 1))
	fi
}

say "1. 5tswap: 2 rooms x 3, audio + video, SRTP, IPv4 and IPv6, 3 s"
st=0
MMLOAD_BIN=$MMLOAD_BIN "$TESTPMD_SH" memif --work "$WORK/pos" --file-prefix "pa-reflect-$$" -- \
	--rooms 2 --participants 3 --video --video-kbps 300 --family mixed \
	--srtp AEAD_AES_128_GCM --duration 3 --warmup 1 >"$WORK/pos.json" 2>"$WORK/pos.err" || st=$?
[[ $st == 0 ]] || { tail -20 "$WORK/pos.err" >&2; echo "   FAILED: mmload exited $st" >&2; FAILS=$((FAILS + 1)); }
r=$WORK/pos/mmload.json
[[ -s $r ]] || die "no mmload report"
check "mmload passes" '.pass == true' "$r"
check "reflect mode, set up through nothing" '.reflect == true and .control == "reflect"' "$r"
check "one copy per packet" '.expected.copies_per_packet == 1' "$r"
check "copies expected = packets sent" '.expected.copies == .offered.packets and .offered.packets > 1000' "$r"
check "every packet back once" '.received.packets == .expected.copies and .loss.packets == 0' "$r"
check "nothing misdelivered" '.misdelivered.total == 0 and .misdelivered.not_sender == 0' "$r"
check "nothing damaged, duplicated, foreign or from the wrong source" \
	'.corrupt == 0 and .duplicates == 0 and .foreign == 0 and .wrong_source == 0' "$r"
check "no SRTP failures" '.srtp_failures.auth == 0 and .srtp_failures.replay == 0 and .srtp_failures.other == 0' "$r"
check "video came back too" '.received.by_kind.video.packets > 0' "$r"
check "what left on the link came back" '.memif.opackets == .memif.ipackets' "$r"
p=$WORK/pos.json
check "testpmd.sh: status 0 and mmload's summary" '.mmload_status == 0 and .mmload.copies_per_packet == 1' "$p"
check "testpmd's window: packets in = packets out > 0" \
	'(.windows | length) == 1 and .windows[0].rx_packets > 0 and .windows[0].tx_packets == .windows[0].rx_packets' "$p"
check "testpmd's window: at most what mmload put on the link" \
	'.windows[0].rx_packets <= .windows[0].link_to_forwarder' "$p"
check "testpmd's CPU cycles per packet" '.windows[0].cycles_per_packet > 0' "$p"

say "2. macswap: packets come back still addressed to the forwarder"
st=0
MMLOAD_BIN=$MMLOAD_BIN "$TESTPMD_SH" memif --work "$WORK/neg" --file-prefix "pa-reflect-$$" \
	--forward-mode macswap -- --rooms 1 --participants 2 --srtp none --duration 2 --warmup 0 \
	>"$WORK/neg.json" 2>"$WORK/neg.err" || st=$?
[[ $st == 1 ]] || { tail -20 "$WORK/neg.err" >&2; echo "   FAILED: mmload exited $st, expected 1 (fail)" >&2; FAILS=$((FAILS + 1)); }
r=$WORK/neg/mmload.json
[[ -s $r ]] || die "no mmload report (macswap)"
check "mmload fails" '.pass == false' "$r"
check "nothing received: 100 % loss" '.received.packets == 0 and .loss.packets == .expected.copies and .expected.copies > 0' "$r"
check "what came back is foreign, not misdelivered" \
	'.foreign >= .offered.packets and .misdelivered.total == 0' "$r"

if ((FAILS)); then
	echo "load-reflect: $FAILS check(s) FAILED" >&2
	exit 1
fi
say "all checks passed"
