/* SDP (control/sdp.c): the description parser mmctld runs on a browser's
 * answer, and the check of that answer against the offer mmctld made
 * (tests/control/sdp/offer.sdp, loaded once). */
#include <string.h>

#include "control/sdp.h"
#include "fuzz.h"

static struct ctl_sdp OFFER;
static bool have_offer;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	static char buf[65536];
	FILE *f = fopen(FUZZ_SDP_OFFER, "rb");
	FUZZ_CHECK(f);
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	char err[256];
	FUZZ_CHECK(ctl_sdp_parse((const uint8_t *)buf, n, &OFFER, err, sizeof(err)) == 0);
	have_offer = true;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_sdp s;
	char err[256];
	err[0] = 0;
	int rc = ctl_sdp_parse(data, size, &s, err, sizeof(err));
	if (rc != 0) {
		FUZZ_CHECK(rc < 0 && err[0] != 0); /* a refusal says why */
		return 0;
	}
	FUZZ_CHECK(strnlen(s.ice_ufrag, sizeof(s.ice_ufrag)) < sizeof(s.ice_ufrag));
	FUZZ_CHECK(strnlen(s.fingerprint, sizeof(s.fingerprint)) < sizeof(s.fingerprint));
	for (size_t i = 0; i < s.nm; i++)
		FUZZ_CHECK(s.m[i].nfmt >= 0 && s.m[i].nfmt <= 32);
	if (have_offer) {
		err[0] = 0;
		if (ctl_sdp_answer_check(&OFFER, &s, err, sizeof(err)) != 0)
			FUZZ_CHECK(err[0] != 0);
		(void)ctl_sdp_answer_check(&s, &OFFER, err, sizeof(err));
		(void)ctl_sdp_answer_check(&s, &s, err, sizeof(err));
	}
	ctl_sdp_free(&s);
	return 0;
}
