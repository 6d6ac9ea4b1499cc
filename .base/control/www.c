/* The meeting page's static files: GET /meet (index.html) and /meet/<file>
 * from cfg.www_root, without auth (the invite stays in the URL fragment,
 * which browsers do not send). Only plain relative names below www_root:
 * "..", ".", empty segments and anything that resolves outside it (a
 * symlink) are refused. */
#include "control/api.h"

#include <errno.h>
#include <limits.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define WWW_FILE_MAX (8 * 1024 * 1024)

static const char *www_type(const char *name)
{
	static const char *const types[][2] = {
		{ ".html", "text/html; charset=utf-8" }, { ".js", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" }, { ".png", "image/png" },
		{ ".svg", "image/svg+xml" }, { ".json", "application/json" },
		{ ".ico", "image/x-icon" }, { ".txt", "text/plain; charset=utf-8" },
	};
	size_t n = strlen(name);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t e = strlen(types[i][0]);
		if (n > e && !strcmp(name + n - e, types[i][0]))
			return types[i][1];
	}
	return "application/octet-stream";
}

/* Is rel a plain relative name: segments of [A-Za-z0-9._-], none empty,
 * "." or ".."? */
static bool www_name_ok(const char *rel)
{
	const char *seg = rel;
	if (!*rel)
		return false;
	for (const char *q = rel;; q++) {
		if (*q == '/' || !*q) {
			size_t n = (size_t)(q - seg);
			if (!n || (n == 1 && seg[0] == '.') || (n == 2 && !strncmp(seg, "..", 2)))
				return false;
			if (!*q)
				return true;
			seg = q + 1;
			continue;
		}
		char ch = *q;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
			return false;
	}
}

static void www_fail(struct api_reply *rep, int status, const char *code, const char *msg)
{
	api_error(rep, status, code, "%s", msg);
}

void api_www(struct ctl *c, const char *url, const char *method, struct api_reply *rep)
{
	char root[PATH_MAX], path[PATH_MAX * 2], real[PATH_MAX];
	const char *rel;
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		api_error(rep, 405, "method_not_allowed", "%s not allowed here", method);
		return;
	}
	rel = !strcmp(url, "/meet") || !strcmp(url, "/meet/") ? "index.html" : url + 6;
	if (strstr(rel, "..") || !www_name_ok(rel)) {
		www_fail(rep, 400, "invalid_path", "not a file name of the meeting page");
		return;
	}
	if (!realpath(c->cfg.www_root, root)) {
		www_fail(rep, 404, "not_found", "the meeting page is not installed (www_root)");
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	struct stat st;
	size_t rl = strlen(root);
	if (!realpath(path, real) || strncmp(real, root, rl) || real[rl] != '/' ||
	    stat(real, &st) || !S_ISREG(st.st_mode) || st.st_size > WWW_FILE_MAX) {
		www_fail(rep, 404, "not_found", "no such file");
		return;
	}
	FILE *f = fopen(real, "rb");
	char *buf = f ? malloc((size_t)st.st_size + 1) : NULL;
	size_t n = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
	if (f)
		fclose(f);
	if (!buf || n != (size_t)st.st_size) {
		free(buf);
		www_fail(rep, 500, "internal", "cannot read the file");
		return;
	}
	struct MHD_Response *r = MHD_create_response_from_buffer(n, buf, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(buf);
		www_fail(rep, 500, "internal", "no memory");
		return;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, www_type(rel));
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	rep->status = 200;
	rep->stream = r;
}
