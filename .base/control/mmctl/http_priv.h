/* Internals shared by http.c and sse.c (libcurl). */
#ifndef MMCTL_HTTP_PRIV_H
#define MMCTL_HTTP_PRIV_H

#include <curl/curl.h>

#include "control/mmctl/mmctl.h"

/* A growing byte buffer, NUL-terminated. */
struct http_buf {
	char *p;
	size_t len, cap;
	bool overflow;           /* more than HTTP_REPLY_MAX arrived */
};
#define HTTP_REPLY_MAX (16u << 20)

int http_buf_add(struct http_buf *b, const char *d, size_t n);

/* An easy handle for base URL + path with mmctl's options and headers
 * (bearer with auth, Accept: accept). errbuf has CURL_ERROR_SIZE bytes.
 * NULL on out of memory. */
CURL *http_easy(struct mmctl *m, const char *path, bool auth, const char *accept,
		struct curl_slist **hdrs, char *errbuf);
/* Print the transport failure and return its exit code. */
int http_curl_error(struct mmctl *m, const char *path, CURLcode rc, const char *errbuf);

#endif
