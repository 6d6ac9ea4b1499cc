/* Secrets at rest (sealed.c): AES-256-GCM under a key kept in a file of
 * its own (mode 0600), next to the database but not in it. */
#ifndef CTL_SEALED_H
#define CTL_SEALED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTL_SEAL_KEY_LEN 32
/* "v1:" + base64 of nonce, at most 96 bytes of text, tag; with NUL. */
#define CTL_SEALED_MAX 168

/* Read the key file, or make it (0600, random) when it does not exist
 * (*created then). Refuses a file others may read, or of the wrong size;
 * err gets a one-line reason. */
int ctl_key_file_load(const char *path, uint8_t key[CTL_SEAL_KEY_LEN], bool *created, char *err,
		      size_t errlen);
/* Seal plain text, bound to aad (what it belongs to), into out. */
int ctl_seal(const uint8_t key[CTL_SEAL_KEY_LEN], const char *aad, const char *plain, char *out,
	     size_t cap);
bool ctl_is_sealed(const char *s);
/* 0, or -EIO when the key or aad is not the one it was sealed with (or it
 * was tampered with), -EINVAL when it is not sealed text. */
int ctl_unseal(const uint8_t key[CTL_SEAL_KEY_LEN], const char *aad, const char *sealed,
	       char *out, size_t cap);

#endif
