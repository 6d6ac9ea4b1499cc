/* Secrets at rest: the participants' SRTP master keys are stored sealed
 * (AES-256-GCM) under a key that lives in its own file, not in the
 * database, so a copy of the database (a backup, a replica) does not give
 * away the media keys of the meetings going on. */
#include "control/sealed.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dataplane/proto/base64.h"

#define SEAL_PREFIX "v1:"
#define SEAL_NONCE 12
#define SEAL_TAG 16
#define SEAL_PLAIN_MAX 96

static int key_file_create(const char *path, uint8_t key[CTL_SEAL_KEY_LEN], char *err,
			   size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		return -errno;
	}
	int rc = 0;
	if (getrandom(key, CTL_SEAL_KEY_LEN, 0) != CTL_SEAL_KEY_LEN ||
	    write(fd, key, CTL_SEAL_KEY_LEN) != CTL_SEAL_KEY_LEN || fsync(fd)) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		rc = -EIO;
	}
	close(fd);
	if (rc)
		unlink(path);
	return rc;
}

int ctl_key_file_load(const char *path, uint8_t key[CTL_SEAL_KEY_LEN], bool *created, char *err,
		      size_t errlen)
{
	*created = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT) {
		*created = true;
		return key_file_create(path, key, err, errlen);
	}
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -errno;
	}
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		rc = -EINVAL;
	} else if (st.st_mode & 077) {
		snprintf(err, errlen, "%s: readable by others (mode %03o); it must be 0600",
			 path, (unsigned)(st.st_mode & 0777));
		rc = -EPERM;
	} else if (st.st_size != CTL_SEAL_KEY_LEN ||
		   read(fd, key, CTL_SEAL_KEY_LEN) != CTL_SEAL_KEY_LEN) {
		snprintf(err, errlen, "%s: must hold exactly %d bytes", path, CTL_SEAL_KEY_LEN);
		rc = -EINVAL;
	}
	close(fd);
	return rc;
}

/* AES-256-GCM in (enc) or out; 0 or -EIO (also: authentication failed). */
static int gcm(bool enc, const uint8_t key[CTL_SEAL_KEY_LEN], const uint8_t nonce[SEAL_NONCE],
	       const char *aad, const uint8_t *in, int len, uint8_t *out, uint8_t tag[SEAL_TAG])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, f = 0, ok = ctx &&
		EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce, enc ? 1 : 0) &&
		EVP_CipherUpdate(ctx, NULL, &n, (const uint8_t *)aad, (int)strlen(aad)) &&
		EVP_CipherUpdate(ctx, out, &n, in, len) &&
		(enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SEAL_TAG, tag)) &&
		EVP_CipherFinal_ex(ctx, out + n, &f) &&
		(!enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SEAL_TAG, tag));
	EVP_CIPHER_CTX_free(ctx);
	return ok && n + f == len ? 0 : -EIO;
}

int ctl_seal(const uint8_t key[CTL_SEAL_KEY_LEN], const char *aad, const char *plain, char *out,
	     size_t cap)
{
	uint8_t buf[SEAL_NONCE + SEAL_PLAIN_MAX + SEAL_TAG];
	size_t len = strlen(plain);
	if (len > SEAL_PLAIN_MAX || cap < sizeof(SEAL_PREFIX) + 4 * ((SEAL_NONCE + len + SEAL_TAG + 2) / 3))
		return -ENOSPC;
	if (getrandom(buf, SEAL_NONCE, 0) != SEAL_NONCE)
		return -EIO;
	if (gcm(true, key, buf, aad, (const uint8_t *)plain, (int)len, buf + SEAL_NONCE,
		buf + SEAL_NONCE + len))
		return -EIO;
	memcpy(out, SEAL_PREFIX, sizeof(SEAL_PREFIX) - 1);
	mm_b64_encode(buf, SEAL_NONCE + len + SEAL_TAG, out + sizeof(SEAL_PREFIX) - 1);
	return 0;
}

bool ctl_is_sealed(const char *s)
{
	return !strncmp(s, SEAL_PREFIX, sizeof(SEAL_PREFIX) - 1);
}

int ctl_unseal(const uint8_t key[CTL_SEAL_KEY_LEN], const char *aad, const char *sealed,
	       char *out, size_t cap)
{
	uint8_t buf[SEAL_NONCE + SEAL_PLAIN_MAX + SEAL_TAG];
	if (!ctl_is_sealed(sealed))
		return -EINVAL;
	int n = mm_b64_decode(sealed + sizeof(SEAL_PREFIX) - 1, buf, sizeof(buf));
	if (n < SEAL_NONCE + SEAL_TAG)
		return -EINVAL;
	size_t len = (size_t)n - SEAL_NONCE - SEAL_TAG;
	if (len + 1 > cap)
		return -ENOSPC;
	if (gcm(false, key, buf, aad, buf + SEAL_NONCE, (int)len, (uint8_t *)out,
		buf + SEAL_NONCE + len))
		return -EIO;
	out[len] = '\0';
	return 0;
}
