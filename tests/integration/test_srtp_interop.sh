#!/usr/bin/env bash
# SRTP interoperability of mmdp with an independent implementation:
# GStreamer's srtpenc/srtpdec (gstreamer1.0-plugins-bad on Debian's
# libsrtp2) protect and unprotect at both participants, mmdp in the middle
# unprotects with the sender's in_key and protects each copy with the
# receiver's out_key (hop by hop).
#
# For each profile (AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32,
# AEAD_AES_128_GCM, AEAD_AES_256_GCM): one room, endpoints A (host h1) and
# B (host h2), each with its own random in_key and out_key; Opus over RTP
# from A to B and then from B to A. The receiver starts first and writes
# every packet srtpdec lets through to its own file; the sender writes every
# plain RTP packet before srtpenc the same way. A run passes when the
# receiver got exactly the packets sent, byte for byte (mmdp keeps SSRC,
# sequence numbers and timestamps when nothing is muted), mmdp forwarded
# each of them once and counted no srtp_* drop. Each stream starts just
# below sequence number 65536, so every run also crosses a sequence wrap
# (the rollover counter must follow on both hops).
# Then the negative cases: B's receiver with a wrong key decrypts nothing
# (srtpdec's authentication fails on every packet mmdp forwarded); A sends
# with a key mmdp does not have: mmdp counts srtp_auth drops and forwards
# nothing. And a mixed room: A with SRTP, B plain RTP: mmdp unprotects A's
# packets and forwards them plain to B, and protects B's for A.
#
# Runs inside the test site (see meson.build):
#   tools/mmsite run --prefix mmg- -- env MMDP_BIN=build/dataplane/mmdp/mmdp \
#       MMAGENT_BIN=build/tools/mmagent tests/integration/test_srtp_interop.sh
# Environment: MMDP_BIN, MMAGENT_BIN (required; or --mmdp/--mmagent),
# MMDP_EAL (mmdp's EAL arguments), GST_FRAMES (20 ms Opus frames per run,
# default 100), KEEP_WORK=1 keeps the logs even on success.
# Exit status: 0 all passed, 1 a failure (also when GStreamer is missing:
# ./quickstart installs it, so a missing element is a broken setup).
set -euo pipefail

MMDP_BIN=${MMDP_BIN:-}
MMAGENT_BIN=${MMAGENT_BIN:-}
while [[ $# -gt 0 ]]; do
	case $1 in
	--mmdp) MMDP_BIN=${2:?}; shift 2 ;;
	--mmagent) MMAGENT_BIN=${2:?}; shift 2 ;;
	*) echo "usage: $0 [--mmdp PATH] [--mmagent PATH]" >&2; exit 2 ;;
	esac
done

FRAMES=${GST_FRAMES:-100}
SEQ_START=65500 # every run crosses the 16-bit sequence wrap
EAL_DEFAULT="-l 0,1 --in-memory --no-pci --vdev net_af_xdp0,iface=dp0,start_queue=0,queue_count=1"
MMDP_EAL=${MMDP_EAL:-$EAL_DEFAULT}
PT=111
SSRC_A_BASE=$((0x5a5a0000))
SSRC_B_BASE=$((0x3c3c0000))

TEST_NAME="srtp-interop"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

[[ -n $MMDP_BIN && -x $MMDP_BIN ]] || die "MMDP_BIN (the mmdp binary) is not set or not executable"
[[ -n $MMAGENT_BIN && -x $MMAGENT_BIN ]] || die "MMAGENT_BIN (the mmagent binary) is not set or not executable"
[[ -n ${MMSITE_DP_NS:-} && -n ${MMSITE_H1_NS:-} && -n ${MMSITE_H2_NS:-} ]] ||
	die "run inside the test site: tools/mmsite run --prefix mmg- -- $0"
for t in jq base64 od nsenter ss; do
	command -v "$t" >/dev/null || die "$t is not installed"
done
if ! command -v gst-launch-1.0 >/dev/null || ! command -v gst-inspect-1.0 >/dev/null; then
	die "gst-launch-1.0 not found (apt-get install gstreamer1.0-tools" \
		"gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad)"
fi
for e in srtpenc srtpdec audiotestsrc opusenc rtpopuspay udpsrc udpsink multifilesink tee queue; do
	if ! gst-inspect-1.0 --exists "$e"; then
		die "GStreamer element $e not found (gstreamer1.0-plugins-base," \
			"gstreamer1.0-plugins-good, gstreamer1.0-plugins-bad)"
	fi
done

WORK=$(mktemp -d /tmp/mmg-srtp.XXXXXX)
SOCK=$WORK/agent.sock
LOG=$WORK/mmdp.log
MMDP_PID=
PIDS=() # GStreamer processes still running
FAILS=0       # runs that failed
OTHER_FAILS=0 # mmdp or a process that did not stop
ROWS=()

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local st=$? p
	trap - EXIT INT TERM
	for p in "${PIDS[@]}"; do
		stop_pid "$p" 20
	done
	[[ -n $MMDP_PID ]] && stop_pid "$MMDP_PID" 100
	if [[ $st != 0 || ${KEEP_WORK:-0} == 1 ]]; then
		if [[ $st != 0 && -f $LOG ]]; then
			echo "---- last lines of mmdp's log ($LOG) ----" >&2
			tail -n 30 "$LOG" >&2
			echo "----" >&2
		fi
		echo "srtp-interop: logs and packets kept in $WORK" >&2
	else
		rm -rf "$WORK"
	fi
	exit "$st"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

forget_pid() {
	local p keep=()
	for p in "${PIDS[@]}"; do
		[[ $p == "$1" ]] || keep+=("$p")
	done
	PIDS=("${keep[@]}")
}

# Run a command in a namespace of the site (nsenter, not "ip netns exec").
# Processes to stop later are started as "nsenter ... &", never through this
# function: nsenter execs the command, so $! is the command's own pid (with
# a function, $! would be a subshell and stopping it would leave the
# command running).
nsx() { local ns=$1; shift; nsenter --net="/run/netns/$ns" -- "$@"; }

# ---- mmdp and the agent -----------------------------------------------------

agent() {
	local reply
	if ! reply=$("$MMAGENT_BIN" --socket "$SOCK" --timeout 15000 "$1"); then
		echo "srtp-interop: agent refused $1: $reply" >&2
		return 1
	fi
	printf '%s\n' "$reply"
}

cat >"$WORK/mmdp.json" <<EOF
{"agent_socket":"$SOCK",
 "ports":[{"addresses":["$MMSITE_DP_IP4","$MMSITE_DP_IP6"],"gateway_mac":"$MMSITE_GW_MAC"}]}
EOF
say "starting mmdp in $MMSITE_DP_NS: $MMDP_BIN $MMDP_EAL"
# shellcheck disable=SC2086 # EAL arguments are words
nsenter --net="/run/netns/$MMSITE_DP_NS" -- "$MMDP_BIN" $MMDP_EAL -- --config "$WORK/mmdp.json" >"$LOG" 2>&1 &
MMDP_PID=$!
wait_mmdp
agent '{"op":"hello"}' >/dev/null

snapshot() { agent '{"op":"stats.get"}' >"$1"; }
drop_of() { jq -r --arg r "$2" '.drops[$r] // 0' "$1"; }
ep_stat() {
	jq -r --arg e "$2" --arg f "$3" \
		'[.rooms[]?.endpoints[]? | select(.endpoint == $e) | .[$f]] | first // 0' "$1"
}

# ---- keys and profiles --------------------------------------------------------

# profile -> GStreamer cipher, auth, master key+salt length
gst_cipher() { case $1 in AES_CM_*) echo aes-128-icm ;; AEAD_AES_128_GCM) echo aes-128-gcm ;; AEAD_AES_256_GCM) echo aes-256-gcm ;; esac; }
gst_auth() { case $1 in *SHA1_80) echo hmac-sha1-80 ;; *SHA1_32) echo hmac-sha1-32 ;; *) echo null ;; esac; }
key_len() { case $1 in AES_CM_*) echo 30 ;; AEAD_AES_128_GCM) echo 28 ;; AEAD_AES_256_GCM) echo 44 ;; esac; }
short() { case $1 in AES_CM_128_HMAC_SHA1_80) echo cm80 ;; AES_CM_128_HMAC_SHA1_32) echo cm32 ;; AEAD_AES_128_GCM) echo gcm128 ;; AEAD_AES_256_GCM) echo gcm256 ;; esac; }

# newkey NAME LEN: random master key+salt in $WORK/keys/NAME; prints its hex
newkey() {
	mkdir -p "$WORK/keys"
	head -c "$2" /dev/urandom >"$WORK/keys/$1"
	od -An -v -tx1 "$WORK/keys/$1" | tr -d ' \n'
}
b64() { base64 -w0 "$WORK/keys/$1"; }
hex() { od -An -v -tx1 "$WORK/keys/$1" | tr -d ' \n'; }

# ---- one run: a GStreamer sender, mmdp, a GStreamer receiver ---------------------

# wait_bound NS PORT: until a UDP socket is bound to PORT in NS (10 s)
wait_bound() {
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -n $(nsx "$1" ss -Hlun "sport = :$2") ]] && return 0
		sleep 0.1
	done
	return 1
}

# run_case NAME LABEL PROFILE DIR SEND_NS SEND_IP SEND_PORT MMDP_PORT SSRC SEND_KEY
#          RECV_NS RECV_IP RECV_PORT RECV_KEY SENDER_EP RECEIVER_EP EXPECT
# SEND_KEY / RECV_KEY: a key name in $WORK/keys, or "plain" (no srtpenc /
# srtpdec). PROFILE names the ciphers GStreamer uses. EXPECT: pass (all
# delivered), rx-auth (srtpdec drops all), mmdp-auth (mmdp drops all).
# Sets RES_* and appends a row to the table.
run_case() {
	local name=$1 label=$2 prof=$3 dir=$4 sns=$5 sip=$6 sport=$7 dport=$8 ssrc=$9
	local skey=${10} rns=${11} rip=${12} rport=${13} rkey=${14} sep=${15} rep=${16} expect=${17}
	local d=$WORK/$name cipher auth caps enc dec
	mkdir -p "$d/tx" "$d/rx"
	cipher=$(gst_cipher "$prof")
	auth=$(gst_auth "$prof")

	snapshot "$d/stats-before.json"

	# Receiver first; every packet that leaves srtpdec becomes one file.
	if [[ $rkey == plain ]]; then
		caps="application/x-rtp, media=(string)audio, payload=(int)$PT, clock-rate=(int)48000, encoding-name=(string)OPUS"
		dec=()
	else
		caps="application/x-srtp, media=(string)audio, payload=(int)$PT, clock-rate=(int)48000, encoding-name=(string)OPUS, ssrc=(uint)$ssrc, srtp-key=(buffer)$(hex "$rkey"), srtp-cipher=(string)$cipher, srtp-auth=(string)$auth, srtcp-cipher=(string)$cipher, srtcp-auth=(string)$auth"
		dec=(srtpdec '!')
	fi
	GST_DEBUG=srtpdec:2 GST_DEBUG_NO_COLOR=1 nsenter --net="/run/netns/$rns" -- gst-launch-1.0 -q \
		udpsrc address="$rip" port="$rport" buffer-size=1048576 caps="$caps" ! \
		"${dec[@]}" multifilesink location="$d/rx/%05d" >"$d/receiver.log" 2>&1 &
	local rpid=$!
	PIDS+=("$rpid")
	if ! wait_bound "$rns" "$rport"; then
		echo "srtp-interop: $name: the receiver did not bind port $rport" >&2
		cat "$d/receiver.log" >&2
		return 1
	fi
	sleep 0.3 # bound is not yet PLAYING; the socket holds early packets anyway

	# Sender: Opus frames, RTP, a copy of each plain packet to a file, srtpenc, UDP.
	if [[ $skey == plain ]]; then
		enc=()
	else
		enc=(srtpenc key="$(hex "$skey")" rtp-cipher="$cipher" rtp-auth="$auth"
			rtcp-cipher="$cipher" rtcp-auth="$auth" '!')
	fi
	nsenter --net="/run/netns/$sns" -- timeout 120 gst-launch-1.0 -q \
		audiotestsrc num-buffers="$FRAMES" samplesperbuffer=960 ! \
		audio/x-raw,rate=48000,channels=1 ! opusenc ! \
		rtpopuspay pt=$PT ssrc="$ssrc" seqnum-offset=$SEQ_START ! tee name=t \
		t. ! queue ! "${enc[@]}" udpsink host="$MMSITE_DP_IP4" port="$dport" \
		bind-address="$sip" bind-port="$sport" \
		t. ! queue ! multifilesink location="$d/tx/%05d" >"$d/sender.log" 2>&1 &
	local spid=$! sst=0
	PIDS+=("$spid")
	wait "$spid" || sst=$?
	forget_pid "$spid"
	# Let the last packets cross mmdp: until the receiver has as many as
	# were sent (at most 3 s), or 1 s where it should get none.
	local i
	if [[ $expect == pass ]]; then
		for ((i = 0; i < 30; i++)); do
			(($(find "$d/rx" -type f | wc -l) >= $(find "$d/tx" -type f | wc -l))) && break
			sleep 0.1
		done
		sleep 0.2 # and anything extra would show
	else
		sleep 1
	fi
	stop_pid "$rpid" 50
	forget_pid "$rpid"

	snapshot "$d/stats-after.json"
	local b=$d/stats-before.json a=$d/stats-after.json
	local sent recv fwd rxin auth_d replay_d nokey_d prot_d rx_auth same=no r
	sent=$(find "$d/tx" -type f | wc -l)
	recv=$(find "$d/rx" -type f | wc -l)
	rxin=$(($(ep_stat "$a" "$sep" rx_packets) - $(ep_stat "$b" "$sep" rx_packets)))
	fwd=$(($(ep_stat "$a" "$rep" tx_packets) - $(ep_stat "$b" "$rep" tx_packets)))
	auth_d=$(($(drop_of "$a" srtp_auth) - $(drop_of "$b" srtp_auth)))
	replay_d=$(($(drop_of "$a" srtp_replay) - $(drop_of "$b" srtp_replay)))
	nokey_d=$(($(drop_of "$a" srtp_no_key) - $(drop_of "$b" srtp_no_key)))
	prot_d=$(($(drop_of "$a" srtp_protect) - $(drop_of "$b" srtp_protect)))
	rx_auth=$(grep -c 'authentication packet\|decrypting packet\|unprotect failed' "$d/receiver.log" || true)
	if ((recv > 0)) && cmp -s <(cat "$d"/tx/*) <(cat "$d"/rx/*); then
		same=yes
	elif ((recv == 0)); then
		same=-
	fi

	local why=()
	((sst == 0)) || why+=("sender exited $sst")
	((sent >= FRAMES)) || why+=("sender wrote $sent packets, expected >= $FRAMES")
	((replay_d == 0)) || why+=("mmdp srtp_replay +$replay_d")
	((nokey_d == 0)) || why+=("mmdp srtp_no_key +$nokey_d")
	((prot_d == 0)) || why+=("mmdp srtp_protect +$prot_d")
	case $expect in
	pass)
		((recv == sent)) || why+=("received $recv of $sent")
		[[ $same != no ]] || why+=("the packets received differ from those sent")
		((fwd == sent)) || why+=("mmdp forwarded $fwd of $sent")
		((auth_d == 0)) || why+=("mmdp srtp_auth +$auth_d")
		((rx_auth == 0)) || why+=("srtpdec failed $rx_auth packets")
		;;
	rx-auth)
		((recv == 0)) || why+=("the receiver with a wrong key decrypted $recv packets")
		((fwd == sent)) || why+=("mmdp forwarded $fwd of $sent")
		((auth_d == 0)) || why+=("mmdp srtp_auth +$auth_d")
		((rx_auth == sent)) || why+=("srtpdec reported $rx_auth authentication failures, expected $sent")
		;;
	mmdp-auth)
		((recv == 0)) || why+=("the receiver got $recv packets")
		((fwd == 0)) || why+=("mmdp forwarded $fwd packets")
		((auth_d == sent)) || why+=("mmdp srtp_auth +$auth_d, expected +$sent")
		;;
	esac
	if ((${#why[@]} == 0)); then
		r=ok
	else
		r=FAIL
		FAILS=$((FAILS + 1))
		local w
		for w in "${why[@]}"; do
			echo "FAIL: $name ($label $dir): $w" >&2
		done
		local other
		other=$(jq -r --slurpfile b "$b" '.drops | to_entries[] |
			select(.value != (($b[0].drops[.key]) // 0)) |
			"\(.key) +\(.value - (($b[0].drops[.key]) // 0))"' "$a" | tr '\n' ' ')
		echo "      mmdp drop deltas: ${other:-none}; $sep rx +$rxin; logs in $d" >&2
		if [[ -s $d/receiver.log ]]; then
			echo "      receiver log (first lines):" >&2
			head -n 5 "$d/receiver.log" | sed 's/^/        /' >&2
		fi
	fi
	ROWS+=("$(printf '%-24s %-8s %6s %6s %6s %6s %5s %4s %6s %6s  %s' "$label" "$dir" \
		"$sent" "$rxin" "$fwd" "$recv" "$same" "$auth_d" "$replay_d" "$rx_auth" "$r")")
}

# ---- the rooms ----------------------------------------------------------------

PROFILES=(AES_CM_128_HMAC_SHA1_80 AES_CM_128_HMAC_SHA1_32 AEAD_AES_128_GCM AEAD_AES_256_GCM)
H1=$MMSITE_H1_IP4
H2=$MMSITE_H2_IP4
DP=$MMSITE_DP_IP4

# make_room N ROOM PROFILE_A PROFILE_B: endpoints a-ROOM (h1) and b-ROOM (h2)
# with keys ROOM-a-in/out, ROOM-b-in/out (PROFILE "plain": no srtp). Their
# ports: mmdp 40000+10N+1/2, hosts 30000+10N+1/2. SSRCs: base + N.
make_room() {
	local n=$1 room=$2 pa=$3 pb=$4 ep pf host lport rport ssrc srtp j
	agent "{\"op\":\"room.put\",\"room\":\"$room\",\"capacity\":2}" >/dev/null
	for ep in a b; do
		if [[ $ep == a ]]; then
			pf=$pa host=$H1 lport=$((40001 + 10 * n)) rport=$((30001 + 10 * n)) ssrc=$((SSRC_A_BASE + n))
		else
			pf=$pb host=$H2 lport=$((40002 + 10 * n)) rport=$((30002 + 10 * n)) ssrc=$((SSRC_B_BASE + n))
		fi
		srtp=
		if [[ $pf != plain ]]; then
			newkey "$room-$ep-in" "$(key_len "$pf")" >/dev/null
			newkey "$room-$ep-out" "$(key_len "$pf")" >/dev/null
			srtp=",\"srtp\":{\"profile\":\"$pf\",\"in_key\":\"$(b64 "$room-$ep-in")\",\"out_key\":\"$(b64 "$room-$ep-out")\"}"
		fi
		# one line: the agent protocol is newline-delimited JSON
		j="{\"op\":\"endpoint.put\",\"endpoint\":\"$ep-$room\",\"room\":\"$room\","
		j+="\"local\":{\"addr\":\"$DP\",\"port\":$lport},\"remote\":{\"addr\":\"$host\",\"port\":$rport},"
		j+="\"streams\":[{\"ssrc\":$ssrc,\"kind\":\"audio\"}]$srtp}"
		agent "$j" >/dev/null
	done
}
# Arguments of run_case for A -> B and B -> A in room N
a_to_b() { # N ROOM PROFILE SEND_KEY RECV_KEY
	echo "$MMSITE_H1_NS $H1 $((30001 + 10 * $1)) $((40001 + 10 * $1)) $((SSRC_A_BASE + $1)) $4" \
		"$MMSITE_H2_NS $H2 $((30002 + 10 * $1)) $5 a-$2 b-$2"
}
b_to_a() {
	echo "$MMSITE_H2_NS $H2 $((30002 + 10 * $1)) $((40002 + 10 * $1)) $((SSRC_B_BASE + $1)) $4" \
		"$MMSITE_H1_NS $H1 $((30001 + 10 * $1)) $5 b-$2 a-$2"
}

START=$SECONDS
say "$FRAMES Opus frames per run (20 ms each), RTP sequence numbers from $SEQ_START (crossing the wrap)"
n=0
for prof in "${PROFILES[@]}"; do
	room=$(short "$prof")
	make_room "$n" "$room" "$prof" "$prof"
	# shellcheck disable=SC2046 # the helpers print words
	run_case "$room-ab" "$prof" "$prof" "A->B" $(a_to_b "$n" "$room" "$prof" "$room-a-in" "$room-b-out") pass
	# shellcheck disable=SC2046
	run_case "$room-ba" "$prof" "$prof" "B->A" $(b_to_a "$n" "$room" "$prof" "$room-b-in" "$room-a-out") pass
	agent "{\"op\":\"room.del\",\"room\":\"$room\"}" >/dev/null
	n=$((n + 1))
done

# Negative: B's receiver has a key that is not B's out_key.
prof=AES_CM_128_HMAC_SHA1_80
make_room "$n" neg-rx "$prof" "$prof"
newkey wrong-rx "$(key_len "$prof")" >/dev/null
# shellcheck disable=SC2046
run_case neg-rx "wrong receiver key" "$prof" "A->B" $(a_to_b "$n" neg-rx "$prof" neg-rx-a-in wrong-rx) rx-auth
agent '{"op":"room.del","room":"neg-rx"}' >/dev/null
n=$((n + 1))

# Negative: A protects with a key mmdp does not have.
prof=AEAD_AES_128_GCM
make_room "$n" neg-tx "$prof" "$prof"
newkey wrong-tx "$(key_len "$prof")" >/dev/null
# shellcheck disable=SC2046
run_case neg-tx "sender key unknown" "$prof" "A->B" $(a_to_b "$n" neg-tx "$prof" wrong-tx neg-tx-b-out) mmdp-auth
agent '{"op":"room.del","room":"neg-tx"}' >/dev/null
n=$((n + 1))

# Mixed: A speaks SRTP, B plain RTP.
prof=AEAD_AES_256_GCM
make_room "$n" mixed "$prof" plain
# shellcheck disable=SC2046
run_case mixed-ab "A SRTP, B plain" "$prof" "A->B" $(a_to_b "$n" mixed "$prof" mixed-a-in plain) pass
# shellcheck disable=SC2046
run_case mixed-ba "A SRTP, B plain" "$prof" "B->A" $(b_to_a "$n" mixed "$prof" plain mixed-a-out) pass
agent '{"op":"room.del","room":"mixed"}' >/dev/null

# Stop mmdp now, to see how it ends, and make sure nothing of ours is left
# in the site's namespaces.
pid=$MMDP_PID
MMDP_PID=
kill -INT "$pid" 2>/dev/null || true
mmdp_st=0
for ((i = 0; i < 100; i++)); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
	echo "FAIL: mmdp did not stop within 10 s of SIGINT; killing it" >&2
	kill -KILL "$pid" 2>/dev/null || true
	OTHER_FAILS=$((OTHER_FAILS + 1))
fi
wait "$pid" || mmdp_st=$?
((mmdp_st == 0)) || echo "srtp-interop: warning: mmdp ended with status $mmdp_st" >&2
for ns in "$MMSITE_DP_NS" "$MMSITE_H1_NS" "$MMSITE_H2_NS"; do
	left=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
	if [[ -n $left ]]; then
		echo "FAIL: processes left in $ns: $left" >&2
		OTHER_FAILS=$((OTHER_FAILS + 1))
	fi
done

echo
echo "SRTP interop, GStreamer srtpenc -> mmdp -> GStreamer srtpdec ($(gst-launch-1.0 --version | sed -n 's/^GStreamer //p'))"
echo "sent: RTP packets the sender sent; in: mmdp rx from the sender; fwd: mmdp tx to the receiver;"
echo "recv: packets out of srtpdec; same: received bytes == sent bytes; auth/replay: mmdp srtp drops;"
echo "rxauth: srtpdec authentication failures"
printf '%-24s %-8s %6s %6s %6s %6s %5s %4s %6s %6s  %s\n' case dir sent in fwd recv same auth replay rxauth result
for row in "${ROWS[@]}"; do
	echo "$row"
done
echo "runtime $((SECONDS - START)) s"
total=${#ROWS[@]}
echo "$((total - FAILS)) passed, $FAILS failed"
((FAILS == 0 && OTHER_FAILS == 0)) || exit 1
