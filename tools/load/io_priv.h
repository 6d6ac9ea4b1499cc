/* Between the I/O thread's loop (io.c) and its receive path (rx.c). */
#ifndef MM_LOAD_IO_PRIV_H
#define MM_LOAD_IO_PRIV_H

#include "tools/load/run.h"

/* Read what is queued on participant p's socket (a few recvmmsg batches at
 * most, so that sending is not held up) and check every packet. */
void ld_rx_drain(struct ld_thread *T, struct ld_part *p);

#endif
