/* rtpengine's ng protocol as mmload speaks it (tools/load/ng.c): bencode
 * written and read back, malformed bencode refused, the SDP mmload builds
 * and the SDP rtpengine sends back parsed, malformed SDP refused. */
#include <criterion/criterion.h>
#include <string.h>

#include "tools/load/ng.h"

static struct ng_val *parse(const char *s, char *err)
{
	return ng_parse(s, strlen(s), err, 256);
}

Test(load_ng, write_dictionary)
{
	struct ng_buf b = {0};
	ng_dict(&b);
	ng_kv(&b, "command", "offer");
	ng_str(&b, "replace");
	ng_list(&b);
	ng_str(&b, "origin");
	ng_str(&b, "session-connection");
	ng_end(&b);
	ng_str(&b, "n");
	ng_int(&b, -42);
	ng_str(&b, "empty");
	ng_str(&b, "");
	ng_end(&b);
	cr_assert_eq(b.err, 0);
	cr_assert_str_eq(b.p, "d7:command5:offer7:replacel6:origin18:session-connectione"
			      "1:ni-42e5:empty0:e");
	ng_buf_free(&b);
}

Test(load_ng, round_trip)
{
	struct ng_buf b = {0};
	ng_dict(&b);
	ng_kv(&b, "result", "ok");
	ng_str(&b, "sdp");
	ng_strn(&b, "v=0\r\nbin\0ary", 12);
	ng_str(&b, "list");
	ng_list(&b);
	ng_int(&b, 0);
	ng_int(&b, 9223372036854775807LL);
	ng_dict(&b);
	ng_end(&b);
	ng_end(&b);
	ng_end(&b);
	char err[256];
	struct ng_val *v = ng_parse(b.p, b.len, err, sizeof(err));
	cr_assert_not_null(v, "%s", err);
	cr_assert_eq(v->type, NG_DICT);
	cr_assert_str_eq(ng_get_str(v, "result"), "ok");
	const struct ng_val *sdp = ng_get(v, "sdp");
	cr_assert_eq(sdp->len, 12);
	cr_assert(!memcmp(sdp->s, "v=0\r\nbin\0ary", 12));
	const struct ng_val *l = ng_get(v, "list");
	cr_assert_eq(l->type, NG_LIST);
	cr_assert_eq(l->child->i, 0);
	cr_assert_eq(l->child->next->i, 9223372036854775807LL);
	cr_assert_eq(l->child->next->next->type, NG_DICT);
	cr_assert_null(l->child->next->next->child);
	cr_assert_null(ng_get(v, "missing"));
	cr_assert_null(ng_get_str(v, "list"), "not a string");
	cr_assert_null(ng_get(l, "x"), "not a dictionary");
	ng_free(v);
	ng_buf_free(&b);
}

Test(load_ng, malformed_bencode)
{
	static const char *const bad[] = {
		"", "d", "l", "i", "ie", "i-e", "i-0e", "i01e", "i1", "i12x",
		"i99999999999999999999e", "5:abc", "3abc", "-1:a", "x",
		"d3:keye", "di1e1:ae", "d1:a1:b", "li1e", "1:a1:b", "d1:ad1:be",
		"01:a", "i1ee",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[256] = "";
		struct ng_val *v = parse(bad[i], err);
		cr_assert_null(v, "accepted \"%s\"", bad[i]);
		cr_assert(err[0], "no message for \"%s\"", bad[i]);
		ng_free(v);
	}
	/* Nested deeper than the limit. */
	char deep[2 * NG_MAX_DEPTH + 8];
	size_t n = 0;
	for (int i = 0; i < NG_MAX_DEPTH + 2; i++)
		deep[n++] = 'l';
	for (int i = 0; i < NG_MAX_DEPTH + 2; i++)
		deep[n++] = 'e';
	char err[256];
	cr_assert_null(ng_parse(deep, n, err, sizeof(err)));
	cr_assert(strstr(err, "deep"));
}

Test(load_ng, split_cookie)
{
	size_t cl, off;
	const char *m = "abc123 d6:result4:ponge";
	cr_assert_eq(ng_split(m, strlen(m), &cl, &off), 0);
	cr_assert_eq(cl, 6);
	cr_assert_eq(off, 7);
	cr_assert_eq(ng_split("nospace", 7, &cl, &off), -1);
	cr_assert_eq(ng_split(" d4:xe", 6, &cl, &off), -1);
}

static const char *const rtpe_offer =
	"v=0\r\n"
	"o=- 1 1 IN IP4 198.18.0.1\r\n"
	"s=-\r\n"
	"c=IN IP4 198.18.0.1\r\n"
	"t=0 0\r\n"
	"m=audio 30036 RTP/SAVP 111\r\n"
	"a=rtpmap:111 opus/48000/2\r\n"
	"a=sendrecv\r\n"
	"a=rtcp:30037\r\n"
	"a=rtcp-mux\r\n"
	"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:2rEsx04YweSf2QCCZ9SXf/PPsH5RATjgs9EhPDYs\r\n"
	"a=crypto:2 AEAD_AES_256_GCM inline:JWuhvezxCagvdNz7E8mX6IUU3UaW4R/ZMfsRZOPxgjIGL7Nwby5CMMBHFp4\r\n"
	"a=crypto:3 AEAD_AES_128_GCM inline:TxU+z2yblMpqSWGPj5AsQQZ6JhOor1TOBZB9pg|2^31|1:1\r\n"
	"m=video 30040 RTP/SAVP 96\r\n"
	"c=IN IP4 198.18.0.9\r\n"
	"a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:AAAA\r\n";

Test(load_ng, parse_rtpengine_sdp)
{
	struct ng_sdp s;
	char err[256];
	cr_assert_eq(ng_sdp_parse(rtpe_offer, &s, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(s.addr, "198.18.0.1");
	cr_assert_eq(s.family, 4);
	cr_assert_eq(s.port, 30036);
	cr_assert_str_eq(s.proto, "RTP/SAVP");
	cr_assert_eq(s.n_crypto, 3, "only the audio section's");
	const struct ng_crypto *c = ng_sdp_crypto(&s, "AEAD_AES_128_GCM");
	cr_assert_not_null(c);
	cr_assert_eq(c->tag, 3);
	cr_assert_str_eq(c->key, "TxU+z2yblMpqSWGPj5AsQQZ6JhOor1TOBZB9pg", "lifetime and MKI cut");
	cr_assert_null(ng_sdp_crypto(&s, "AES_CM_128_HMAC_SHA1_32"));
}

Test(load_ng, media_connection_wins_and_ipv6)
{
	const char *sdp = "v=0\no=- 1 1 IN IP6 2001:2::1\nc=IN IP4 198.18.0.1\nt=0 0\n"
			  "m=audio 4000 RTP/AVP 0\nc=IN IP6 2001:2::1\n";
	struct ng_sdp s;
	char err[256];
	cr_assert_eq(ng_sdp_parse(sdp, &s, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(s.addr, "2001:2::1");
	cr_assert_eq(s.family, 6);
	cr_assert_eq(s.port, 4000);
	cr_assert_eq(s.n_crypto, 0);
}

Test(load_ng, malformed_sdp)
{
	static const char *const bad[] = {
		"",
		"o=- 1 1 IN IP4 1.2.3.4\r\n",                               /* no v= first */
		"v=0\r\nc=IN IP4 1.2.3.4\r\n",                              /* no m=audio */
		"v=0\r\nc=IN IP4 1.2.3.4\r\nm=video 5 RTP/AVP 96\r\n",      /* video only */
		"v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 0 RTP/AVP 0\r\n",       /* port 0 */
		"v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 70000 RTP/AVP 0\r\n",   /* port too big */
		"v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio x RTP/AVP 0\r\n",
		"v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 5\r\n",                 /* no protocol */
		"v=0\r\nm=audio 5 RTP/AVP 0\r\n",                           /* no c= */
		"v=0\r\nc=IN IPX 1.2.3.4\r\nm=audio 5 RTP/AVP 0\r\n",
		"v=0\r\nc=ATM IP4 1.2.3.4\r\nm=audio 5 RTP/AVP 0\r\n",
		"v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 5 RTP/SAVP 0\r\na=crypto:1 X\r\n",
		"v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 5 RTP/SAVP 0\r\na=crypto:x X inline:AA\r\n",
		"v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 5 RTP/SAVP 0\r\na=crypto:1 X inline:\r\n",
		"v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 5 RTP/SAVP 0\r\na=crypto:1 X key:AA\r\n",
		"v=0\r\ngarbage\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ng_sdp s;
		char err[256] = "";
		cr_assert_eq(ng_sdp_parse(bad[i], &s, err, sizeof(err)), -1, "accepted case %zu", i);
		cr_assert(err[0], "no message for case %zu", i);
	}
	struct ng_sdp s;
	char err[256];
	cr_assert_eq(ng_sdp_parse(NULL, &s, err, sizeof(err)), -1);
	/* A line longer than the parser's buffer. */
	char big[2048] = "v=0\r\na=";
	memset(big + strlen(big), 'x', 1000);
	cr_assert_eq(ng_sdp_parse(big, &s, err, sizeof(err)), -1);
}

Test(load_ng, build_and_parse_back)
{
	char sdp[1024], err[256];
	int n = ng_sdp_build(sdp, sizeof(sdp), "r1", "198.18.1.1", 20000, 1,
			     "AES_CM_128_HMAC_SHA1_80", "2rEsx04YweSf2QCCZ9SXf/PPsH5RATjgs9EhPDYs");
	cr_assert_gt(n, 0);
	cr_assert_eq((size_t)n, strlen(sdp));
	struct ng_sdp s;
	cr_assert_eq(ng_sdp_parse(sdp, &s, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(s.addr, "198.18.1.1");
	cr_assert_eq(s.port, 20000);
	cr_assert_str_eq(s.proto, "RTP/SAVP");
	cr_assert_eq(s.n_crypto, 1);
	cr_assert_str_eq(s.crypto[0].key, "2rEsx04YweSf2QCCZ9SXf/PPsH5RATjgs9EhPDYs");
	cr_assert(strstr(sdp, "a=rtcp-mux\r\n"));

	n = ng_sdp_build(sdp, sizeof(sdp), "r1", "2001:2::1:1", 20001, 0, NULL, NULL);
	cr_assert_gt(n, 0);
	cr_assert_eq(ng_sdp_parse(sdp, &s, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(s.family, 6);
	cr_assert_str_eq(s.proto, "RTP/AVP");
	cr_assert_eq(s.n_crypto, 0);

	cr_assert_eq(ng_sdp_build(sdp, 50, "r1", "198.18.1.1", 1, 1, "X", "AA"), -1, "too small");
	cr_assert_eq(ng_sdp_build(sdp, sizeof(sdp), "r 1", "198.18.1.1", 1, 1, NULL, NULL), -1);
	cr_assert_eq(ng_sdp_build(sdp, sizeof(sdp), "r1", "198.18.1.1", 0, 1, NULL, NULL), -1);
	cr_assert_eq(ng_sdp_build(sdp, sizeof(sdp), "r1", "198.18.1.1", 1, 1, "X", NULL), -1);
	cr_assert_eq(ng_sdp_build(sdp, sizeof(sdp), "r1", "198.18.1.1", 1, 1, "X", "A|B"), -1);
}
