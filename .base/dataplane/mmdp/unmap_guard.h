/* Shared memory a PMD unmaps while the workers may still read it: see
 * unmap_guard.c. */
#ifndef MMDP_UNMAP_GUARD_H
#define MMDP_UNMAP_GUARD_H

#include <stdbool.h>
#include <stdint.h>

/* From now on (true: once the workers may poll) until off (false: once
 * they have stopped), munmap by DPDK's interrupt thread first waits for a
 * grace period of the workers. */
void mmdp_unmap_guard_arm(bool on);
/* The munmap calls that waited so far. */
uint64_t mmdp_unmap_guard_waits(void);

#endif
