/* What the libFuzzer targets share: the entry points, an invariant check
 * that stops the run (a parser that returns success with a result outside
 * its input is a finding even when no sanitizer saw a bad access), and a
 * sink that keeps parsed values from being optimised away. */
#ifndef MM_FUZZ_H
#define MM_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__,       \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* [p, p + n) lies inside [buf, buf + len). */
#define FUZZ_INSIDE(p, n, buf, len)                                                                \
	FUZZ_CHECK((n) == 0 ||                                                                     \
		   ((const uint8_t *)(p) >= (const uint8_t *)(buf) &&                              \
		    (size_t)((const uint8_t *)(p) - (const uint8_t *)(buf)) <= (len) &&            \
		    (n) <= (len) - (size_t)((const uint8_t *)(p) - (const uint8_t *)(buf))))

static volatile uint64_t fuzz_sink_;
static inline void fuzz_use(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t s = 0;
	for (size_t i = 0; i < n; i++)
		s += b[i];
	fuzz_sink_ += s;
}

#endif
