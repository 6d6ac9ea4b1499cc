#!/usr/bin/env bash
# mmload --rtpengine against a real rtpengine (Debian's rtpengine-daemon,
# userspace forwarding) on the test site: the benchmark's setup path works
# and measures what it claims. On demand (meson test --suite rtpengine), not
# in 'integration': CI does not install rtpengine. tools/bench/rtpengine.sh
# installs it when missing (skips, 77, when it cannot).
#
# 1. 2 rooms x 2 participants, SRTP: the offerer on AES_CM_128_HMAC_SHA1_80,
#    then on AEAD_AES_128_GCM (the answerer on the other suite): pass, no
#    loss, nothing misdelivered, "reencrypts" true (keys differ on each leg
#    and every receiver authenticated with its own leg's key), and
#    "forwarder_cpu" with a CPU time per forwarded packet.
# 2. --rtpengine-same-suite: rtpengine 10.5 hands the answerer the
#    offerer's key and passes packets through; mmload must say so
#    ("reencrypts" false).
#
#   tools/mmsite run --prefix rat- -- env MMLOAD_BIN=build/tools/mmload \
#       RTPENGINE_SH=tools/bench/rtpengine.sh tests/integration/test_rtpengine.sh
set -euo pipefail

say() { echo "rtpengine: $*"; }
die() { echo "rtpengine: $*" >&2; exit 1; }

[[ -n ${MMLOAD_BIN:-} && -x $MMLOAD_BIN ]] || die "MMLOAD_BIN is not set or not executable"
[[ -n ${RTPENGINE_SH:-} && -x $RTPENGINE_SH ]] || die "RTPENGINE_SH is not set or not executable"
[[ -n ${MMSITE_PREFIX:-} && -n ${MMSITE_DP_NS:-} ]] || die "run inside the test site (tools/mmsite run)"
command -v jq >/dev/null || die "jq is not installed"
if ! command -v rtpengine >/dev/null && ! "$RTPENGINE_SH" install; then
	echo "SKIP: rtpengine-daemon is not installed and cannot be"
	exit 77
fi

WORK=$(mktemp -d /tmp/rat-test.XXXXXX)
FAILS=0
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	"$RTPENGINE_SH" stop --prefix "$MMSITE_PREFIX" || true
	[[ -n ${KEEP_WORK:-} ]] || rm -rf "$WORK"
}
trap cleanup EXIT

RTPENGINE_PID=''
RTPENGINE_NG=''
eval "$("$RTPENGINE_SH" start --prefix "$MMSITE_PREFIX" --cpu 1 --log "$WORK/rtpengine.log")"
say "rtpengine pid $RTPENGINE_PID, ng $RTPENGINE_NG"

check() {
	local what=$1 rep=$2 expr=$3
	if jq -e "$expr" "$rep" >/dev/null; then
		say "ok: $what"
	else
		say "FAIL: $what"
		jq -c '{pass, reencrypts, rtpengine, loss, misdelivered, srtp_failures, forwarder_cpu}' "$rep" || true
		FAILS=$((FAILS + 1))
	fi
}

run() {
	local rep=$1
	shift
	"$MMLOAD_BIN" --rtpengine "$RTPENGINE_NG" --forwarder-pid "$RTPENGINE_PID" \
		--rooms 2 --participants 2 --prefix rat --cpu 0 --warmup 1 --quiet \
		--report "$rep" "$@" || true
	[[ -s $rep ]] || { say "FAIL: no report from mmload $*"; FAILS=$((FAILS + 1)); return 1; }
}

for prof in AES_CM_128_HMAC_SHA1_80 AEAD_AES_128_GCM; do
	rep=$WORK/$prof.json
	run "$rep" --srtp "$prof" --duration 4 || continue
	check "$prof: pass, no loss" "$rep" '.pass == true and .loss.packets == 0 and .received.packets > 0'
	check "$prof: nothing misdelivered" "$rep" '.misdelivered.total == 0'
	check "$prof: rtpengine re-encrypts" "$rep" \
		'.reencrypts == true and .rtpengine.keys_differ_per_leg == true and .srtp_failures.auth == 0'
	check "$prof: answerer on another suite" "$rep" \
		".rtpengine.offerer_srtp == \"$prof\" and .rtpengine.answerer_srtp != \"$prof\""
	check "$prof: forwarder_cpu" "$rep" \
		".forwarder_cpu.pid == $RTPENGINE_PID and (.forwarder_cpu.ns_per_packet | type) == \"number\" and .forwarder_cpu.ns_per_packet > 0 and .forwarder_cpu.forwarded_packets == .received.packets"
	say "$prof: $(jq -r '"\(.received.pps | floor) pps forwarded, rtpengine \(.forwarder_cpu.ns_per_packet | floor) ns CPU per packet (\(.forwarder_cpu.percent_of_one_core * 10 | floor / 10)% of a core)"' "$rep")"
done

rep=$WORK/same-suite.json
if run "$rep" --srtp AES_CM_128_HMAC_SHA1_80 --rtpengine-same-suite --duration 2; then
	check "same suite: pass-through detected (reencrypts false)" "$rep" \
		'.reencrypts == false and .rtpengine.keys_differ_per_leg == false'
fi

if ((FAILS)); then
	say "$FAILS check(s) failed"
	exit 1
fi
say "all checks passed"
