/* /v1/blocks (operator): the blocked 5-tuples (kicks), listed and lifted. */
#include "control/api.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int blocks_add(void *arg, const struct ctl_block *b)
{
	return json_array_append_new(arg, json_pack("{s:s,s:{s:s,s:i},s:{s:s,s:i},s:s,s:I}",
						    "id", b->id, "remote", "addr",
						    b->remote_addr, "port", b->remote_port,
						    "local", "addr", b->local_addr, "port",
						    b->local_port, "reason", b->reason,
						    "expires_at", (json_int_t)b->expires_at)) ?
		-ENOMEM : 0;
}

void api_blocks(struct api_req *rq, struct api_reply *rep)
{
	if (rq->scope.kind != CTL_SCOPE_OPERATOR) {
		api_error(rep, 403, "forbidden", "only operator tokens manage blocks");
		return;
	}
	if (rq->nparts == 1 && !strcmp(rq->method, "GET")) {
		json_t *arr = json_array();
		if (ctl_store_block_list(rq->c->store, ctl_now(rq->c), blocks_add, arr)) {
			json_decref(arr);
			api_error(rep, 500, "internal", "store: cannot list blocks");
			return;
		}
		rep->status = 200;
		rep->body = json_pack("{s:o}", "blocks", arr);
	} else if (rq->nparts == 2 && !strcmp(rq->method, "DELETE")) {
		if (api_mmdp_ready(rq, rep) || api_begin(rq, rep))
			return;
		int rc = ctl_store_block_delete(rq->c->store, rq->parts[1]);
		if (rc) {
			ctl_store_rollback(rq->c->store);
			if (rc == -ENOENT)
				api_error(rep, 404, "not_found", "no block %s", rq->parts[1]);
			else
				api_error(rep, 500, "internal", "store: cannot delete block");
			return;
		}
		/* mmdp forgets a block by itself when it expires. */
		if (api_push_del_commit(rq, json_pack("{s:s,s:s}", "op", "block.del", "block",
						      rq->parts[1]), rep) == 0)
			rep->status = 204;
	} else if (rq->nparts <= 2) {
		api_error(rep, 405, "method_not_allowed", "%s not allowed here", rq->method);
	} else {
		api_error(rep, 404, "not_found", "no such resource");
	}
}
