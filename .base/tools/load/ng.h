/* rtpengine's ng control protocol, the pure parts (tools/load/ng.c): a
 * bencode writer and reader, and the SDP mmload sends and reads back.
 *
 * An ng message is "COOKIE SP BENCODE": the cookie (any token without a
 * space) comes back unchanged in the reply, which is a dictionary with
 * "result" ("ok", "error" with "error-reason", ...) and, for offer and
 * answer, "sdp": the SDP rewritten with rtpengine's address, port and
 * crypto attributes. No sockets here: control_rtpengine.c sends them. */
#ifndef MM_LOAD_NG_H
#define MM_LOAD_NG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Writing bencode ----------------------------------------------------
 * Append-only buffer; the first allocation failure sticks in err (and
 * later calls do nothing), so a message is built without checks and
 * checked once. A dictionary is ng_dict ... ng_end, with a key string
 * before each value. */
struct ng_buf {
	char *p;
	size_t len, cap;
	int err;
};

void ng_buf_free(struct ng_buf *b);
void ng_raw(struct ng_buf *b, const void *s, size_t n);
void ng_strn(struct ng_buf *b, const char *s, size_t n);
void ng_str(struct ng_buf *b, const char *s);
void ng_int(struct ng_buf *b, int64_t v);
void ng_dict(struct ng_buf *b);
void ng_list(struct ng_buf *b);
void ng_end(struct ng_buf *b);
/* key then string value, in a dictionary. */
void ng_kv(struct ng_buf *b, const char *key, const char *val);

/* ---- Reading bencode ----------------------------------------------------
 * A tree of values; strings point into a copy owned by the tree (NUL
 * terminated there, so they can be used as C strings when they hold no NUL
 * themselves). Dictionaries and lists keep their items in order: a
 * dictionary's children alternate key, value. */
enum ng_type { NG_INT, NG_STR, NG_LIST, NG_DICT };

struct ng_val {
	enum ng_type type;
	int64_t i;
	const char *s;
	size_t len;
	struct ng_val *child, *next;
};

#define NG_MAX_DEPTH 32
#define NG_MAX_ITEMS 65536

/* Parse exactly one value filling the whole of buf[0, len). NULL with a
 * message in err on malformed input (truncated, trailing bytes, bad
 * integers or lengths, non-string keys, too deep, too many items). */
struct ng_val *ng_parse(const char *buf, size_t len, char *err, size_t errlen);
void ng_free(struct ng_val *v);
/* The value of key in dictionary d, or NULL (also when d is not one). */
const struct ng_val *ng_get(const struct ng_val *d, const char *key);
/* The string value of key, or NULL when missing or not a string. */
const char *ng_get_str(const struct ng_val *d, const char *key);

/* Split "COOKIE SP PAYLOAD": the cookie's length and where the payload
 * starts; -1 when there is no space or the cookie is empty. */
int ng_split(const char *msg, size_t len, size_t *cookie_len, size_t *payload_off);

/* ---- SDP ----------------------------------------------------------------- */
#define NG_SDP_MAX_CRYPTO 16

struct ng_crypto {
	unsigned tag;
	char suite[48];
	char key[100];    /* base64 of master key and salt (inline:, before any '|') */
};

struct ng_sdp {
	char addr[64];    /* the audio section's connection address (or the session's) */
	int family;       /* 4 or 6 */
	uint16_t port;
	char proto[32];   /* RTP/AVP, RTP/SAVP, ... */
	int n_crypto;
	struct ng_crypto crypto[NG_SDP_MAX_CRYPTO];
};

/* Parse the first m=audio section of an SDP (lines end in CRLF or LF),
 * with the connection line in force for it and its a=crypto lines. -1 with
 * a message in err: no v= line first, no m=audio, a bad port, no c= line
 * (or an unknown network or address type), a malformed a=crypto. */
int ng_sdp_parse(const char *sdp, struct ng_sdp *out, char *err, size_t errlen);

/* The crypto line of suite in s, or NULL. */
const struct ng_crypto *ng_sdp_crypto(const struct ng_sdp *s, const char *suite);

/* A minimal SDP for one participant: one m=audio line (every stream goes
 * over that one 5-tuple), rtcp-mux, and when suite is not NULL
 * "a=crypto:TAG SUITE inline:KEY". Payload type 96 (opus/48000/2) plus
 * the dynamic types mmload's video uses. Returns the length, or -1 when
 * cap is too small or an argument is bad. */
int ng_sdp_build(char *out, size_t cap, const char *sess_id, const char *addr, uint16_t port,
		 unsigned tag, const char *suite, const char *key_b64);

#endif
