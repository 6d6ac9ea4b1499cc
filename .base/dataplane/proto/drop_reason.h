/* One enum of drop reasons, shared by mmdp, the XDP guard (bpf/) and
 * mmctld's reports. Values are part of the ABI: append only, never renumber.
 * This header must stay includable from BPF C: no libc includes. */
#ifndef MM_DROP_REASON_H
#define MM_DROP_REASON_H

/* X(enum suffix, value, stable name). Reasons marked XDP are counted by the
 * XDP guard (docs/xdp-guard.md); handshake_rate_limited is STUN or DTLS from
 * an unknown 5-tuple over the guard's global handshake bucket. */
#define MM_DROP_REASONS(X)                                                   \
	X(NONE, 0, "none")                                                   \
	X(L2_MALFORMED, 1, "l2_malformed")       /* short frame, bad VLAN  */ \
	X(L3_UNSUPPORTED, 2, "l3_unsupported")   /* not IPv4/IPv6 (ARP...) */ \
	X(L3_MALFORMED, 3, "l3_malformed")       /* bad IP header/length   */ \
	X(L3_FRAGMENT, 4, "l3_fragment")         /* IP fragments           */ \
	X(L4_UNSUPPORTED, 5, "l4_unsupported")   /* not UDP                */ \
	X(L4_MALFORMED, 6, "l4_malformed")       /* bad UDP length/csum    */ \
	X(NOT_LOCAL, 7, "not_local")             /* dst addr not ours      */ \
	X(UNKNOWN_ENDPOINT, 8, "unknown_endpoint") /* no 5-tuple match     */ \
	X(DEMUX_UNKNOWN, 9, "demux_unknown")     /* RFC 7983: no protocol  */ \
	X(STUN_UNSUPPORTED, 10, "stun_unsupported")                          \
	X(DTLS_UNSUPPORTED, 11, "dtls_unsupported")                          \
	X(RTP_MALFORMED, 12, "rtp_malformed")                                \
	X(RTCP_MALFORMED, 13, "rtcp_malformed")                              \
	X(UNKNOWN_SSRC, 14, "unknown_ssrc")                                  \
	X(MUTED, 15, "muted")                    /* publisher muted        */ \
	X(NO_SUBSCRIBER, 16, "no_subscriber")    /* alone in the room      */ \
	X(NO_BUFFER, 17, "no_buffer")            /* mbuf pool empty        */ \
	X(TX_FULL, 18, "tx_full")                /* NIC TX queue full      */ \
	X(HANDOFF_FULL, 19, "handoff_full")      /* lcore ring full        */ \
	X(TOO_LARGE, 20, "too_large")            /* copy exceeds MTU/buffer*/ \
	X(SRTP_AUTH, 21, "srtp_auth")            /* reserved: SRTP issue   */ \
	X(SRTP_REPLAY, 22, "srtp_replay")                                    \
	X(SRTP_NO_KEY, 23, "srtp_no_key")                                    \
	X(RATE_LIMITED, 24, "rate_limited")      /* XDP: source's bucket   */ \
	X(BLOCKED, 25, "blocked")                /* kicked 5-tuple         */ \
	X(SRTP_PROTECT, 26, "srtp_protect")      /* protect failed (bug)   */ \
	X(STUN_MALFORMED, 27, "stun_malformed")  /* XDP: short, no cookie  */ \
	X(DTLS_MALFORMED, 28, "dtls_malformed")  /* XDP: short record      */ \
	X(BLOCKED_PREFIX, 29, "blocked_prefix")  /* XDP: banned src prefix */ \
	X(HANDSHAKE_RATE_LIMITED, 30, "handshake_rate_limited") /* XDP     */ \
	X(LAST_N, 31, "last_n")                  /* audio not in last-N    */ \
	X(NOT_SELECTED, 32, "not_selected")      /* layer nobody receives  */ \
	X(ICE_UNKNOWN_USER, 33, "ice_unknown_user") /* STUN: no such ufrag */ \
	X(ICE_BAD_INTEGRITY, 34, "ice_bad_integrity") /* MI/FINGERPRINT  */ \
	X(ICE_CONSENT_EXPIRED, 35, "ice_consent_expired") /* RFC 7675   */ \
	X(DTLS_NOT_READY, 36, "dtls_not_ready")  /* no DTLS-SRTP keys yet  */

enum mm_drop_reason {
#define MM_DROP_ENUM_(n, v, s) MM_DROP_##n = v,
	MM_DROP_REASONS(MM_DROP_ENUM_)
#undef MM_DROP_ENUM_
	MM_DROP__COUNT
};

#ifndef __bpf__
/* Stable lower-case name ("unknown_endpoint"), or NULL if out of range. */
const char *mm_drop_reason_name(unsigned reason);
#endif

#endif
