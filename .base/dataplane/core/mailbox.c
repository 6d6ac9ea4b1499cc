/* Worker <-> agent mailboxes: allocation (the rings are in mailbox.h). */
#include "dataplane/core/mailbox.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct mm_mbox *mm_mbox_new(void)
{
	struct mm_mbox *m;
	if (posix_memalign((void **)&m, 64, sizeof(*m)))
		return NULL;
	/* Only the indexes need zeroing: slots are written before read. */
	memset(m, 0, offsetof(struct mm_mbox, slots));
	return m;
}

void mm_mbox_free(struct mm_mbox *m)
{
	free(m);
}
