#include "dataplane/proto/drop_reason.h"

#include <stddef.h>

static const char *const names[MM_DROP__COUNT] = {
#define MM_DROP_NAME_(n, v, s) [v] = s,
	MM_DROP_REASONS(MM_DROP_NAME_)
#undef MM_DROP_NAME_
};

const char *mm_drop_reason_name(unsigned reason)
{
	return reason < MM_DROP__COUNT ? names[reason] : NULL;
}
