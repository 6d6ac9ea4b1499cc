/* What the SRTP unit tests share (test_srtp.c, test_srtp_roc.c): the
 * profiles, deterministic keys, sessions, a plain RTP packet, and the leak
 * check under AddressSanitizer. */
#ifndef MM_TEST_SRTP_FIXTURES_H
#define MM_TEST_SRTP_FIXTURES_H

#include <criterion/criterion.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dataplane/core/srtp.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
size_t __sanitizer_get_current_allocated_bytes(void);
#define ASSERT_NO_LEAKS() \
	cr_assert_eq(__lsan_do_recoverable_leak_check(), 0, "LeakSanitizer found leaks (see above)")
#else
#define ASSERT_NO_LEAKS() ((void)0)
#endif

#define ALIGNED __attribute__((aligned(16)))

static const enum mm_srtp_profile ALL[] __attribute__((unused)) = {
	MM_SRTP_AES_CM_128_HMAC_SHA1_80,
	MM_SRTP_AES_CM_128_HMAC_SHA1_32,
	MM_SRTP_AEAD_AES_128_GCM,
	MM_SRTP_AEAD_AES_256_GCM,
};
#define N_ALL (sizeof(ALL) / sizeof(ALL[0]))

/* Deterministic master key + salt, different for each seed. */
static inline void keys_seed(struct mm_srtp_keys *k, enum mm_srtp_profile p, uint32_t seed)
{
	memset(k, 0, sizeof(*k));
	k->profile = p;
	k->master_len = mm_srtp_master_len(p);
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < k->master_len; i++) {
		x = x * 1103515245u + 12345u;
		k->master[i] = (uint8_t)(x >> 16);
	}
}

static inline struct mm_srtp *session(const struct mm_srtp_keys *k, bool inbound)
{
	struct mm_srtp *s = NULL;
	cr_assert_eq(mm_srtp_create(&s, k, inbound), 0);
	cr_assert_not_null(s);
	return s;
}

/* RTP packet: 12-byte header, payload of plen bytes derived from seq. */
static inline size_t rtp(uint8_t *b, uint32_t ssrc, uint16_t seq, size_t plen)
{
	b[0] = 0x80;
	b[1] = 96;
	b[2] = (uint8_t)(seq >> 8);
	b[3] = (uint8_t)seq;
	uint32_t ts = (uint32_t)seq * 960u;
	b[4] = (uint8_t)(ts >> 24);
	b[5] = (uint8_t)(ts >> 16);
	b[6] = (uint8_t)(ts >> 8);
	b[7] = (uint8_t)ts;
	b[8] = (uint8_t)(ssrc >> 24);
	b[9] = (uint8_t)(ssrc >> 16);
	b[10] = (uint8_t)(ssrc >> 8);
	b[11] = (uint8_t)ssrc;
	for (size_t i = 0; i < plen; i++)
		b[12 + i] = (uint8_t)(seq * 31u + i * 7u + 1u);
	return 12 + plen;
}

#endif
