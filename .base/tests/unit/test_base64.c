#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "dataplane/proto/base64.h"

/* RFC 4648 section 10 test vectors */
static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
static const char *const coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};

Test(base64, rfc4648_vectors_both_ways)
{
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		char enc[16];
		uint8_t dec[16];
		mm_b64_encode((const uint8_t *)plain[i], strlen(plain[i]), enc);
		cr_assert_str_eq(enc, coded[i]);
		cr_assert_eq(strlen(enc), mm_b64_encoded_len(strlen(plain[i])));
		int n = mm_b64_decode(coded[i], dec, sizeof(dec));
		cr_assert_eq(n, (int)strlen(plain[i]));
		cr_assert_eq(memcmp(dec, plain[i], (size_t)n), 0);
	}
}

Test(base64, padding_is_optional_on_input)
{
	uint8_t dec[8];
	cr_assert_eq(mm_b64_decode("Zm8", dec, sizeof(dec)), 2);
	cr_assert_eq(memcmp(dec, "fo", 2), 0);
}

Test(base64, every_byte_value_round_trips)
{
	uint8_t in[256], out[256];
	char enc[400];
	for (int i = 0; i < 256; i++)
		in[i] = (uint8_t)i;
	mm_b64_encode(in, sizeof(in), enc);
	cr_assert_eq(mm_b64_decode(enc, out, sizeof(out)), 256);
	cr_assert_eq(memcmp(in, out, 256), 0);
}

Test(base64, bad_input_rejected)
{
	uint8_t dec[8];
	cr_assert_eq(mm_b64_decode("Zm9v!", dec, sizeof(dec)), -EINVAL, "outside the alphabet");
	cr_assert_eq(mm_b64_decode("Zm=9v", dec, sizeof(dec)), -EINVAL, "padding in the middle");
	cr_assert_eq(mm_b64_decode("Zm9vY", dec, sizeof(dec)), -EINVAL, "one char of a group");
	cr_assert_eq(mm_b64_decode("Zh==", dec, sizeof(dec)), -EINVAL, "stray bits");
	cr_assert_eq(mm_b64_decode("Zm8==", dec, sizeof(dec)), -EINVAL, "too much padding");
	cr_assert_eq(mm_b64_decode("Zm9 v", dec, sizeof(dec)), -EINVAL, "whitespace");
	cr_assert_eq(mm_b64_decode("Zm9vYmFy", dec, 5), -E2BIG);
}
