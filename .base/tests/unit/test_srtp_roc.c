/* SRTP rollover counter (RFC 3711 3.3.1) across a restart of mmdp
 * (dataplane/core/srtp.c): a fresh inbound session recovers the ROC of a
 * sender that has wrapped, for every profile; garbage is not recovered and
 * leaves nothing behind; the per-SSRC and per-session rate limit holds;
 * replay protection works after recovery; an outbound session continues a
 * stream at the ROC a receiver expects. */
#include <criterion/criterion.h>
#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/core/srtp.h"
#include "tests/unit/srtp_fixtures.h"


#define PKT 256
#define MS 1000000ull
#define T0 (1000 * MS) /* a monotonic clock somewhere after boot */


static void init(void)
{
	cr_assert_eq(mm_srtp_global_init(), 0);
}

TestSuite(srtp_roc, .init = init, .timeout = 240);

/* ---- helpers ---- */




/* A protected packet kept with its plain text. */
struct pk {
	uint8_t b[PKT] ALIGNED;
	size_t len;
	uint8_t plain[PKT];
	size_t plain_len;
};

static void send_pk(struct mm_srtp *tx, uint32_t ssrc, uint16_t seq, struct pk *p)
{
	p->plain_len = rtp(p->plain, ssrc, seq, 40);
	memcpy(p->b, p->plain, p->plain_len);
	p->len = p->plain_len;
	int r = mm_srtp_protect(tx, p->b, &p->len, sizeof(p->b));
	if (r != 0)
		cr_assert_fail("protect SSRC %u SEQ %u: %d", ssrc, seq, r);
}

/* mm_srtp_unprotect on a copy of p; on success the result is checked
 * against p's plain text. */
static int recv_pk(struct mm_srtp *rx, const struct pk *p)
{
	uint8_t b[PKT] ALIGNED;
	memcpy(b, p->b, p->len);
	size_t l = p->len;
	int r = mm_srtp_unprotect(rx, b, &l);
	if (r == 0)
		cr_assert(l == p->plain_len && memcmp(b, p->plain, l) == 0, "plain text differs");
	return r;
}

/* mm_srtp_unprotect_recover on a copy of p. */
static int recover_pk(struct mm_srtp *rx, const struct pk *p, uint64_t now, uint32_t *roc,
		      uint32_t *tried)
{
	uint8_t b[PKT] ALIGNED;
	memcpy(b, p->b, p->len);
	size_t l = p->len;
	int r = mm_srtp_unprotect_recover(rx, b, &l, now, MM_SRTP_ROC_MAX, roc, tried);
	if (r == 0)
		cr_assert(l == p->plain_len && memcmp(b, p->plain, l) == 0, "recovered plain text differs");
	return r;
}

/* A sender on ssrc whose next packet is index roc * 65536 + seq, made by
 * sending every packet from index first, with a receiver that tracks it
 * all along (rx may be NULL). */
static void run_sender(struct mm_srtp *tx, struct mm_srtp *rx, uint32_t ssrc, uint64_t first,
		       uint64_t next)
{
	for (uint64_t i = first; i < next; i++) {
		struct pk p;
		send_pk(tx, ssrc, (uint16_t)i, &p);
		if (rx && recv_pk(rx, &p) != 0)
			cr_assert_fail("tracking receiver: index %llu", (unsigned long long)i);
	}
}

static const char *pn(enum mm_srtp_profile p)
{
	return mm_srtp_profile_name(p);
}

/* ---- inbound recovery ---- */

/* A sender that really wrapped (ROC 0 -> 1 -> 2 -> 3, every packet sent,
 * from a random-looking first SEQ), a receiver that followed it from the
 * start, and a fresh receiver (mmdp after a restart): ROC 0 fails, the
 * recovery finds ROC 3 in 3 attempts, and from then on the fresh receiver
 * is as good as the one that followed, across the next wrap too. */
Test(srtp_roc, fresh_session_recovers_a_sender_that_wrapped)
{
	for (size_t pi = 0; pi < N_ALL; pi++) {
		enum mm_srtp_profile p = ALL[pi];
		struct mm_srtp_keys k;
		keys_seed(&k, p, 10 + (uint32_t)pi);
		struct mm_srtp *tx = session(&k, false), *old = session(&k, true);
		const uint32_t ssrc = 0x51e55e;
		const uint64_t first = 40000, restart = 3 * 65536 + 100;
		run_sender(tx, old, ssrc, first, restart);
		uint32_t roc = 99;
		cr_assert_eq(mm_srtp_stream_roc(old, ssrc, &roc), 0);
		cr_assert_eq(roc, 3, "%s: the following receiver is at ROC %u", pn(p), roc);

		struct mm_srtp *fresh = session(&k, true);
		struct pk a;
		send_pk(tx, ssrc, (uint16_t)restart, &a);
		cr_assert_eq(recv_pk(fresh, &a), MM_SRTP_ERR_AUTH, "%s: ROC 0 must fail", pn(p));
		uint32_t tried = 0;
		cr_assert_eq(recover_pk(fresh, &a, T0, &roc, &tried), 0, "%s", pn(p));
		cr_assert_eq(roc, 3, "%s: recovered ROC %u", pn(p), roc);
		cr_assert_eq(tried, 3);
		cr_assert_eq(mm_srtp_recovered(fresh), 1);
		cr_assert_eq(recv_pk(old, &a), 0);
		cr_assert_eq(mm_srtp_stream_roc(fresh, ssrc, &roc), 0);
		cr_assert_eq(roc, 3);

		/* on to ROC 4: both receivers take every packet */
		for (uint64_t i = restart + 1; i < 4 * 65536 + 200; i++) {
			struct pk q;
			send_pk(tx, ssrc, (uint16_t)i, &q);
			if (recv_pk(fresh, &q) != 0 || recv_pk(old, &q) != 0)
				cr_assert_fail("%s: index %llu after recovery", pn(p), (unsigned long long)i);
		}
		cr_assert_eq(mm_srtp_stream_roc(fresh, ssrc, &roc), 0);
		cr_assert_eq(roc, 4);
		cr_assert_eq(mm_srtp_recovered(fresh), 1, "recovered once, then ordinary");
		mm_srtp_destroy(tx);
		mm_srtp_destroy(old);
		mm_srtp_destroy(fresh);
	}
	ASSERT_NO_LEAKS();
}

/* Senders far into their stream (continued at ROC N, as a restarted mmdp
 * protects: mm_srtp_protect_continue): ROC 1, a few, 700 (a day of camera
 * video) and MM_SRTP_ROC_MAX are recovered; MM_SRTP_ROC_MAX + 1 is beyond
 * the bound: a full sweep that finds nothing. Also: a smaller max_roc (the
 * engine's budget) bounds the sweep. */
Test(srtp_roc, recovers_up_to_roc_max_for_every_profile)
{
	static const uint32_t rocs[] = {1, 2, 7, 700, MM_SRTP_ROC_MAX, MM_SRTP_ROC_MAX + 1};
	for (size_t pi = 0; pi < N_ALL; pi++) {
		enum mm_srtp_profile p = ALL[pi];
		struct mm_srtp_keys k;
		keys_seed(&k, p, 20 + (uint32_t)pi);
		struct mm_srtp *tx = session(&k, false), *rx = session(&k, true);
		for (size_t i = 0; i < sizeof(rocs) / sizeof(rocs[0]); i++) {
			uint32_t ssrc = 0x1000 + (uint32_t)i, want = rocs[i];
			struct pk a;
			a.plain_len = rtp(a.plain, ssrc, (uint16_t)(12345 + i * 1000), 40);
			memcpy(a.b, a.plain, a.plain_len);
			a.len = a.plain_len;
			bool cont;
			cr_assert_eq(mm_srtp_protect_continue(tx, a.b, &a.len, sizeof(a.b), want, &cont), 0);
			cr_assert(cont);
			cr_assert_eq(recv_pk(rx, &a), MM_SRTP_ERR_AUTH);
			uint32_t roc = 0, tried = 0;
			int r = recover_pk(rx, &a, T0 + i * 1000 * MS, &roc, &tried);
			if (want <= MM_SRTP_ROC_MAX) {
				cr_assert_eq(r, 0, "%s ROC %u: %d", pn(p), want, r);
				cr_assert_eq(roc, want);
				cr_assert_eq(tried, want);
			} else {
				cr_assert_eq(r, MM_SRTP_ERR_AUTH, "%s ROC %u is beyond the bound", pn(p), want);
				cr_assert_eq(tried, MM_SRTP_ROC_MAX);
				cr_assert_eq(mm_srtp_stream_roc(rx, ssrc, &roc), -ENOENT, "nothing left behind");
			}
		}
		/* a sweep bounded by the caller */
		struct pk b;
		b.plain_len = rtp(b.plain, 0x2000, 5, 40);
		memcpy(b.b, b.plain, b.plain_len);
		b.len = b.plain_len;
		bool cont;
		cr_assert_eq(mm_srtp_protect_continue(tx, b.b, &b.len, sizeof(b.b), 50, &cont), 0);
		uint8_t w[PKT] ALIGNED;
		memcpy(w, b.b, b.len);
		size_t l = b.len;
		uint32_t roc, tried;
		cr_assert_eq(mm_srtp_unprotect_recover(rx, w, &l, T0 + 100000 * MS, 49, &roc, &tried),
			     MM_SRTP_ERR_AUTH);
		cr_assert_eq(tried, 49);
		cr_assert_eq(recover_pk(rx, &b, T0 + 100100 * MS, &roc, &tried), 0);
		cr_assert_eq(roc, 50);
		cr_assert_eq(mm_srtp_recovered(rx), 5 + 1);
		mm_srtp_destroy(tx);
		mm_srtp_destroy(rx);
	}
	ASSERT_NO_LEAKS();
}

/* After recovery the stream is ordinary: the recovering packet replayed is
 * REPLAY, packets older than it within the window are taken once, older
 * than the window are REPLAY, a tampered packet is AUTH, and recovery is
 * never tried again for it (KNOWN). */
Test(srtp_roc, replay_protection_after_recovery)
{
	for (size_t pi = 0; pi < N_ALL; pi++) {
		enum mm_srtp_profile p = ALL[pi];
		struct mm_srtp_keys k;
		keys_seed(&k, p, 30 + (uint32_t)pi);
		struct mm_srtp *tx = session(&k, false), *rx = session(&k, true);
		const uint32_t ssrc = 77;
		/* sender at ROC 5, SEQ 3000 (indexes 5:1000 .. 5:3099 protected) */
		static struct pk sent[2100];
		struct pk first;
		first.plain_len = rtp(first.plain, ssrc, 1000, 40);
		memcpy(first.b, first.plain, first.plain_len);
		first.len = first.plain_len;
		bool cont;
		cr_assert_eq(mm_srtp_protect_continue(tx, first.b, &first.len, PKT, 5, &cont), 0);
		sent[0] = first;
		for (int i = 1; i < 2100; i++)
			send_pk(tx, ssrc, (uint16_t)(1000 + i), &sent[i]);

		/* the restarted receiver first sees 5:3000 */
		uint32_t roc, tried;
		cr_assert_eq(recover_pk(rx, &sent[2000], T0, &roc, &tried), 0);
		cr_assert_eq(roc, 5);
		cr_assert_eq(recv_pk(rx, &sent[2000]), MM_SRTP_ERR_REPLAY, "%s: replayed", pn(p));
		cr_assert_eq(recover_pk(rx, &sent[2000], T0 + 1000 * MS, &roc, &tried), MM_SRTP_ERR_KNOWN);
		cr_assert_eq(tried, 0);
		cr_assert_eq(recv_pk(rx, &sent[1990]), 0, "%s: reordered, within the window", pn(p));
		cr_assert_eq(recv_pk(rx, &sent[1990]), MM_SRTP_ERR_REPLAY);
		cr_assert_eq(recv_pk(rx, &sent[2001]), 0);
		cr_assert_eq(recv_pk(rx, &sent[2001]), MM_SRTP_ERR_REPLAY);
		cr_assert_eq(recv_pk(rx, &sent[500]), MM_SRTP_ERR_REPLAY, "%s: older than the window", pn(p));
		struct pk bad = sent[2002];
		bad.b[20] ^= 1;
		cr_assert_eq(recv_pk(rx, &bad), MM_SRTP_ERR_AUTH);
		cr_assert_eq(recover_pk(rx, &bad, T0 + 2000 * MS, &roc, &tried), MM_SRTP_ERR_KNOWN,
			     "a known stream is never swept");
		for (int i = 2002; i < 2100; i++)
			cr_assert_eq(recv_pk(rx, &sent[i]), 0);
		mm_srtp_destroy(tx);
		mm_srtp_destroy(rx);
	}
	ASSERT_NO_LEAKS();
}

/* Garbage (random bytes under a declared SSRC, a packet under another
 * key, a tampered genuine packet) is never recovered; a failed sweep
 * leaves no stream and nothing in a replay window: the genuine packet with
 * the very same SEQ is recovered afterwards. */
Test(srtp_roc, garbage_is_not_recovered_and_leaves_nothing)
{
	for (size_t pi = 0; pi < N_ALL; pi++) {
		enum mm_srtp_profile p = ALL[pi];
		struct mm_srtp_keys k, other;
		keys_seed(&k, p, 40 + (uint32_t)pi);
		keys_seed(&other, p, 140 + (uint32_t)pi);
		struct mm_srtp *tx = session(&k, false), *rx = session(&k, true);
		struct mm_srtp *spoof = session(&other, false);
		const uint32_t ssrc = 4242;
		uint64_t now = T0;
		uint32_t roc, tried;

		struct pk g; /* random bytes */
		g.len = rtp(g.b, ssrc, 500, 40 + mm_srtp_rtp_trailer(p));
		for (size_t i = 12; i < g.len; i++)
			g.b[i] = (uint8_t)(i * 151u + pi);
		cr_assert_eq(recover_pk(rx, &g, now, &roc, &tried), MM_SRTP_ERR_AUTH, "%s", pn(p));
		cr_assert_eq(tried, MM_SRTP_ROC_MAX);
		cr_assert_eq(mm_srtp_stream_roc(rx, ssrc, &roc), -ENOENT);

		struct pk w; /* another key, continued at ROC 3 */
		w.plain_len = rtp(w.plain, ssrc, 500, 40);
		memcpy(w.b, w.plain, w.plain_len);
		w.len = w.plain_len;
		bool cont;
		cr_assert_eq(mm_srtp_protect_continue(spoof, w.b, &w.len, PKT, 3, &cont), 0);
		now += MM_SRTP_RECOVER_INTERVAL_NS;
		cr_assert_eq(recover_pk(rx, &w, now, &roc, &tried), MM_SRTP_ERR_AUTH);
		cr_assert_eq(tried, MM_SRTP_ROC_MAX);

		struct pk a; /* the genuine packet, ROC 3, SEQ 500 */
		a.plain_len = rtp(a.plain, ssrc, 500, 40);
		memcpy(a.b, a.plain, a.plain_len);
		a.len = a.plain_len;
		cr_assert_eq(mm_srtp_protect_continue(tx, a.b, &a.len, PKT, 3, &cont), 0);
		struct pk t = a; /* tampered */
		t.b[t.len - 1] ^= 0x80;
		now += MM_SRTP_RECOVER_INTERVAL_NS;
		cr_assert_eq(recover_pk(rx, &t, now, &roc, &tried), MM_SRTP_ERR_AUTH);
		cr_assert_eq(mm_srtp_recovered(rx), 0);

		now += MM_SRTP_RECOVER_INTERVAL_NS;
		cr_assert_eq(recover_pk(rx, &a, now, &roc, &tried), 0,
			     "%s: failed sweeps left something behind", pn(p));
		cr_assert_eq(roc, 3);
		cr_assert_eq(recv_pk(rx, &a), MM_SRTP_ERR_REPLAY);
		mm_srtp_destroy(tx);
		mm_srtp_destroy(rx);
		mm_srtp_destroy(spoof);
	}
	ASSERT_NO_LEAKS();
}

/* One sweep per SSRC per MM_SRTP_RECOVER_INTERVAL_NS, and at most
 * MM_SRTP_RECOVER_SLOTS SSRCs of a session in that time. A genuine packet
 * waits its SSRC's turn like garbage; other SSRCs are not held up by it. */
Test(srtp_roc, rate_limit_per_ssrc_and_per_session)
{
	enum mm_srtp_profile p = MM_SRTP_AEAD_AES_128_GCM;
	struct mm_srtp_keys k;
	keys_seed(&k, p, 50);
	struct mm_srtp *tx = session(&k, false), *rx = session(&k, true);
	uint32_t roc, tried;
	struct pk g;
	g.len = rtp(g.b, 9000, 1, 40 + mm_srtp_rtp_trailer(p));
	const uint64_t iv = MM_SRTP_RECOVER_INTERVAL_NS;

	cr_assert_eq(recover_pk(rx, &g, T0, &roc, &tried), MM_SRTP_ERR_AUTH);
	cr_assert_eq(tried, MM_SRTP_ROC_MAX);
	for (uint64_t dt = 0; dt < iv; dt += iv / 10) {
		cr_assert_eq(recover_pk(rx, &g, T0 + dt, &roc, &tried), MM_SRTP_ERR_LIMITED);
		cr_assert_eq(tried, 0, "a limited call tries nothing");
	}
	cr_assert_eq(recover_pk(rx, &g, T0 + iv - 1, &roc, &tried), MM_SRTP_ERR_LIMITED);
	cr_assert_eq(recover_pk(rx, &g, T0 + iv, &roc, &tried), MM_SRTP_ERR_AUTH, "its turn again");
	cr_assert_eq(tried, MM_SRTP_ROC_MAX);

	/* the genuine packet of that SSRC waits for the turn too */
	struct pk a;
	a.plain_len = rtp(a.plain, 9000, 2, 40);
	memcpy(a.b, a.plain, a.plain_len);
	a.len = a.plain_len;
	bool cont;
	cr_assert_eq(mm_srtp_protect_continue(tx, a.b, &a.len, PKT, 2, &cont), 0);
	cr_assert_eq(recover_pk(rx, &a, T0 + iv + 1, &roc, &tried), MM_SRTP_ERR_LIMITED);

	/* 7 more SSRCs fill the session's slots; a 9th waits, 9000 too */
	uint64_t t1 = T0 + iv + 2;
	for (uint32_t s = 1; s < MM_SRTP_RECOVER_SLOTS; s++) {
		struct pk h;
		h.len = rtp(h.b, 9000 + s, 1, 40 + mm_srtp_rtp_trailer(p));
		cr_assert_eq(recover_pk(rx, &h, t1, &roc, &tried), MM_SRTP_ERR_AUTH, "SSRC %u", 9000 + s);
	}
	struct pk h9;
	h9.len = rtp(h9.b, 9100, 1, 40 + mm_srtp_rtp_trailer(p));
	cr_assert_eq(recover_pk(rx, &h9, t1, &roc, &tried), MM_SRTP_ERR_LIMITED, "slots full");
	/* 9000's turn comes back first (it swept at T0 + iv) */
	cr_assert_eq(recover_pk(rx, &a, T0 + 2 * iv, &roc, &tried), 0);
	cr_assert_eq(roc, 2);
	/* its slot is free again once recovered */
	cr_assert_eq(recover_pk(rx, &h9, T0 + 2 * iv, &roc, &tried), MM_SRTP_ERR_AUTH);
	cr_assert_eq(recover_pk(rx, &h9, t1 + iv - 1, &roc, &tried), MM_SRTP_ERR_LIMITED);
	cr_assert_eq(recover_pk(rx, &h9, t1 + iv, &roc, &tried), MM_SRTP_ERR_LIMITED,
		     "its own turn: 100 ms after T0 + 2 iv");
	cr_assert_eq(recover_pk(rx, &h9, T0 + 3 * iv, &roc, &tried), MM_SRTP_ERR_AUTH);

	/* at most 8 sweeps per interval per session, whatever the SSRCs */
	unsigned sweeps = 0;
	uint64_t t2 = T0 + 100 * iv;
	for (uint32_t s = 0; s < 64; s++) {
		struct pk x;
		x.len = rtp(x.b, 20000 + s, 1, 40 + mm_srtp_rtp_trailer(p));
		int r = recover_pk(rx, &x, t2 + s, &roc, &tried);
		cr_assert(r == MM_SRTP_ERR_AUTH || r == MM_SRTP_ERR_LIMITED);
		sweeps += tried > 0;
	}
	cr_assert_eq(sweeps, MM_SRTP_RECOVER_SLOTS, "%u sweeps in one interval", sweeps);
	mm_srtp_destroy(tx);
	mm_srtp_destroy(rx);
	ASSERT_NO_LEAKS();
}

/* The sender's SRTCP may reach the restarted receiver before its RTP: it
 * creates the SSRC's stream (SRTCP carries its index), whose RTP is still
 * at ROC 0. Recovery uses that stream; a stream past ROC 0 is KNOWN. */
Test(srtp_roc, srtcp_first_then_rtp)
{
	for (size_t pi = 0; pi < N_ALL; pi++) {
		enum mm_srtp_profile p = ALL[pi];
		struct mm_srtp_keys k;
		keys_seed(&k, p, 60 + (uint32_t)pi);
		struct mm_srtp *tx = session(&k, false), *rx = session(&k, true);
		const uint32_t ssrc = 0xabcdef;
		/* an empty receiver report from ssrc, through both sessions */
		uint8_t c[64] ALIGNED = {0x80, 201, 0, 1, 0x00, 0xab, 0xcd, 0xef};
		size_t cl = 8;
		cr_assert_eq(mm_srtcp_protect(tx, c, &cl, sizeof(c)), 0);
		cr_assert_eq(mm_srtcp_unprotect(rx, c, &cl), 0);
		uint32_t roc, tried;
		cr_assert_eq(mm_srtp_stream_roc(rx, ssrc, &roc), 0, "SRTCP made the stream");
		cr_assert_eq(roc, 0);

		/* the sender's stream exists too (SRTCP): its RTP continues at 9 */
		struct pk a;
		a.plain_len = rtp(a.plain, ssrc, 60000, 40);
		memcpy(a.b, a.plain, a.plain_len);
		a.len = a.plain_len;
		bool cont;
		cr_assert_eq(mm_srtp_protect_continue(tx, a.b, &a.len, PKT, 9, &cont), 0);
		cr_assert(cont, "%s: a stream only SRTCP used is continued", pn(p));
		cr_assert_eq(recv_pk(rx, &a), MM_SRTP_ERR_AUTH);
		cr_assert_eq(recover_pk(rx, &a, T0, &roc, &tried), 0, "%s", pn(p));
		cr_assert_eq(roc, 9);
		cr_assert_eq(recv_pk(rx, &a), MM_SRTP_ERR_REPLAY);
		/* on across the wrap to ROC 10 */
		for (uint32_t i = 60001; i < 65536 + 100; i++) {
			struct pk q;
			send_pk(tx, ssrc, (uint16_t)i, &q);
			if (recv_pk(rx, &q) != 0)
				cr_assert_fail("%s: SEQ %u", pn(p), i);
		}
		cr_assert_eq(mm_srtp_stream_roc(rx, ssrc, &roc), 0);
		cr_assert_eq(roc, 10);
		struct pk g;
		g.len = rtp(g.b, ssrc, 200, 40 + mm_srtp_rtp_trailer(p));
		cr_assert_eq(recover_pk(rx, &g, T0 + 1000 * MS, &roc, &tried), MM_SRTP_ERR_KNOWN);
		mm_srtp_destroy(tx);
		mm_srtp_destroy(rx);
	}
	ASSERT_NO_LEAKS();
}

/* ---- outbound continuation ---- */

/* mmdp's outbound session is recreated (restart) while its receiver keeps
 * its own: protecting the first packet with the receiver's ROC
 * (mm_srtp_protect_continue) makes the receiver take it and every packet
 * after, across the next wrap; a session left at ROC 0 would fail them. */
Test(srtp_roc, outbound_continues_at_the_receivers_roc)
{
	for (size_t pi = 0; pi < N_ALL; pi++) {
		enum mm_srtp_profile p = ALL[pi];
		struct mm_srtp_keys k;
		keys_seed(&k, p, 70 + (uint32_t)pi);
		struct mm_srtp *tx = session(&k, false), *rx = session(&k, true);
		const uint32_t ssrc = 31337;
		run_sender(tx, rx, ssrc, 65000, 2 * 65536 + 60000); /* receiver at ROC 2 */
		mm_srtp_destroy(tx);

		/* the restarted sender without continuation: ROC 0, refused */
		struct mm_srtp *naive = session(&k, false);
		struct pk n;
		send_pk(naive, ssrc, 60100, &n);
		cr_assert_eq(recv_pk(rx, &n), MM_SRTP_ERR_AUTH, "%s", pn(p));
		mm_srtp_destroy(naive);

		tx = session(&k, false);
		struct pk a;
		a.plain_len = rtp(a.plain, ssrc, 60200, 40);
		memcpy(a.b, a.plain, a.plain_len);
		a.len = a.plain_len;
		bool cont = false;
		cr_assert_eq(mm_srtp_protect_continue(tx, a.b, &a.len, PKT, 2, &cont), 0);
		cr_assert(cont);
		cr_assert_eq(a.len, a.plain_len + mm_srtp_rtp_trailer(p));
		cr_assert_eq(recv_pk(rx, &a), 0, "%s: the receiver takes the continued stream", pn(p));
		for (uint64_t i = 2 * 65536 + 60201; i < 3 * 65536 + 100; i++) {
			struct pk q;
			send_pk(tx, ssrc, (uint16_t)i, &q);
			if (recv_pk(rx, &q) != 0)
				cr_assert_fail("%s: index %llu", pn(p), (unsigned long long)i);
		}
		uint32_t roc;
		cr_assert_eq(mm_srtp_stream_roc(tx, ssrc, &roc), 0);
		cr_assert_eq(roc, 3);
		/* once past ROC 0 a stream is not continued again */
		struct pk b;
		b.plain_len = rtp(b.plain, ssrc, 200, 40);
		memcpy(b.b, b.plain, b.plain_len);
		b.len = b.plain_len;
		cr_assert_eq(mm_srtp_protect_continue(tx, b.b, &b.len, PKT, 7, &cont), 0);
		cr_assert(!cont);
		cr_assert_eq(recv_pk(rx, &b), 0, "protected as ROC 3, not 7");
		/* ROC 0: an ordinary protect */
		b.plain_len = rtp(b.plain, 999, 200, 40);
		memcpy(b.b, b.plain, b.plain_len);
		b.len = b.plain_len;
		cr_assert_eq(mm_srtp_protect_continue(tx, b.b, &b.len, PKT, 0, &cont), 0);
		cr_assert(!cont);
		cr_assert_eq(recv_pk(rx, &b), 0);
		/* inbound sessions do not protect */
		cr_assert_eq(mm_srtp_protect_continue(rx, b.b, &b.len, PKT, 1, &cont), MM_SRTP_ERR_OTHER);
		mm_srtp_destroy(tx);
		mm_srtp_destroy(rx);
	}
	ASSERT_NO_LEAKS();
}

/* ---- memory ---- */

static size_t heap_used(void)
{
#if defined(__SANITIZE_ADDRESS__)
	return __sanitizer_get_current_allocated_bytes();
#else
	struct mallinfo2 m = mallinfo2();
	return m.uordblks + m.hblkhd;
#endif
}

#define MEM_N 128

/* A recovered stream holds its own keys (srtp_add_stream): what
 * mm_srtp_recovery_bytes says, within 3 % (glibc) or 80-100 % (ASan, no
 * chunk overhead); failed sweeps hold nothing beyond the limiter. */
Test(srtp_roc, memory_of_recovered_streams)
{
	for (size_t pi = 0; pi < N_ALL; pi++) {
		enum mm_srtp_profile p = ALL[pi];
		struct mm_srtp_keys k;
		keys_seed(&k, p, 80 + (uint32_t)pi);
		struct mm_srtp *tx = session(&k, false), *rx = session(&k, true);
		static struct pk a[MEM_N];
		for (uint32_t i = 0; i < MEM_N; i++) {
			a[i].plain_len = rtp(a[i].plain, 0x700000 + i, 100, 40);
			memcpy(a[i].b, a[i].plain, a[i].plain_len);
			a[i].len = a[i].plain_len;
			bool cont;
			cr_assert_eq(mm_srtp_protect_continue(tx, a[i].b, &a[i].len, PKT, 1, &cont), 0);
		}
		uint32_t roc, tried;
		/* the first sweep allocates the limiter */
		cr_assert_eq(recover_pk(rx, &a[0], T0, &roc, &tried), 0);
		size_t base = mm_srtp_recovery_bytes(rx);
		size_t h0 = heap_used();
		for (uint32_t i = 1; i < MEM_N; i++)
			cr_assert_eq(recover_pk(rx, &a[i], T0 + i * 200 * MS, &roc, &tried), 0);
		size_t h1 = heap_used();
		double per = (double)(h1 - h0) / (MEM_N - 1);
		double said = (double)(mm_srtp_recovery_bytes(rx) - base) / (MEM_N - 1) +
			      (double)mm_srtp_stream_bytes(p, true);
		cr_log_info("%s recovered stream: measured %.1f bytes, srtp.c says %.1f", pn(p), per, said);
#if defined(__SANITIZE_ADDRESS__)
		cr_assert(per <= said && per >= said * 0.8, "%s: measured %.1f, said %.1f", pn(p), per, said);
#elif defined(MM_SRTP_OPENSSL)
		cr_assert(per >= said * 0.97 && per <= said * 1.03,
			  "%s: measured %.1f heap bytes per recovered stream, srtp.c says %.1f: update "
			  "added_stream_bytes", pn(p), per, said);
#endif
		/* failed sweeps leave nothing (after a few, which let glibc's
		 * tcache keep freed chunks that it counts as in use) */
		size_t h2 = 0;
		for (uint32_t i = 0; i < 80; i++) {
			if (i == 16)
				h2 = heap_used();
			struct pk g;
			g.len = rtp(g.b, 0x800000 + (i % 8), 1, 40 + mm_srtp_rtp_trailer(p));
			cr_assert_eq(recover_pk(rx, &g, T0 + 1000000 * MS + (uint64_t)i * 200 * MS, &roc, &tried),
				     MM_SRTP_ERR_AUTH);
		}
		size_t h3 = heap_used();
		cr_assert_lt(h3 > h2 ? h3 - h2 : 0, 1024, "%s: %zu bytes more after failed sweeps", pn(p),
			     h3 - h2);
		mm_srtp_destroy(tx);
		mm_srtp_destroy(rx);
	}
	ASSERT_NO_LEAKS();
}
