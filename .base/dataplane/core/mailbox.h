/* Mailboxes between a worker and the agent thread: single-producer
 * single-consumer rings of fixed slots, one worker->agent ("up") and one
 * agent->worker ("down") per worker (DESIGN.md packet path step 8). What
 * the fast path cannot do itself goes up (an ICE check asking the agent to
 * bind an endpoint to its 5-tuple, a DTLS record for the agent's DTLS);
 * what the agent sends to an endpoint comes down (its DTLS records), for
 * the room's worker to send like any copy.
 *
 * No DPDK, no malloc on the packet path: the producer reserves a slot,
 * fills it in place and commits; the consumer peeks and pops. C11 atomics
 * (acquire/release on the two indexes) order the slot's contents. A full
 * ring refuses: the producer drops the message and counts it. */
#ifndef MM_MAILBOX_H
#define MM_MAILBOX_H

#include <stdbool.h>
#include <stdint.h>

#include "dataplane/core/tables.h"

#define MM_MBOX_SLOTS 256 /* a power of two */
#define MM_MBOX_DATA 1500 /* the largest datagram a slot carries */

enum mm_mbox_type {
	MM_MBOX_BIND = 1, /* up: a valid ICE check from key for endpoint ep */
	MM_MBOX_DTLS_IN,  /* up: a DTLS datagram (data) from endpoint ep at key */
	MM_MBOX_DTLS_OUT, /* down: send data to the endpoint at key */
};

/* One message: the endpoint (by name, and the generation of its ICE and
 * DTLS credentials), the 5-tuple and local address the datagram came to
 * or goes to, the sender's MAC, when, and the datagram. */
struct mm_mbox_msg {
	uint8_t type; /* enum mm_mbox_type */
	uint8_t family;
	uint8_t mac[6];
	uint16_t len; /* bytes of data */
	uint16_t in_port;
	struct mm_key key;
	struct net_addr laddr;
	uint64_t now_ns;
	uint64_t ice_gen;
	char ep[MM_NAME_MAX + 1];
	uint8_t data[MM_MBOX_DATA];
};

struct mm_mbox {
	uint32_t head MM_CACHE_ALIGNED; /* next slot the consumer reads */
	uint32_t tail MM_CACHE_ALIGNED; /* next slot the producer writes */
	uint64_t full; /* messages refused (producer's counter) */
	struct mm_mbox_msg slots[MM_MBOX_SLOTS];
};

/* Producer: the next free slot, or NULL when the ring is full (counted). */
static inline struct mm_mbox_msg *mm_mbox_reserve(struct mm_mbox *m)
{
	uint32_t tail = __atomic_load_n(&m->tail, __ATOMIC_RELAXED);
	uint32_t head = __atomic_load_n(&m->head, __ATOMIC_ACQUIRE);
	if (tail - head >= MM_MBOX_SLOTS) {
		MM_CNT_ADD(m->full, 1);
		return NULL;
	}
	return &m->slots[tail & (MM_MBOX_SLOTS - 1)];
}

/* Producer: publish the slot mm_mbox_reserve returned. */
static inline void mm_mbox_commit(struct mm_mbox *m)
{
	__atomic_store_n(&m->tail, __atomic_load_n(&m->tail, __ATOMIC_RELAXED) + 1, __ATOMIC_RELEASE);
}

/* Consumer: the oldest message, or NULL when empty. */
static inline const struct mm_mbox_msg *mm_mbox_peek(struct mm_mbox *m)
{
	uint32_t head = __atomic_load_n(&m->head, __ATOMIC_RELAXED);
	if (head == __atomic_load_n(&m->tail, __ATOMIC_ACQUIRE))
		return NULL;
	return &m->slots[head & (MM_MBOX_SLOTS - 1)];
}

/* Consumer: done with the message mm_mbox_peek returned. */
static inline void mm_mbox_pop(struct mm_mbox *m)
{
	__atomic_store_n(&m->head, __atomic_load_n(&m->head, __ATOMIC_RELAXED) + 1, __ATOMIC_RELEASE);
}

/* A zeroed mailbox (aligned), or NULL; free with mm_mbox_free. */
struct mm_mbox *mm_mbox_new(void);
void mm_mbox_free(struct mm_mbox *m);

#endif
