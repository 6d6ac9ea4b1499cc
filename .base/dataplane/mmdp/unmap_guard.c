/* The memif disconnect race, and mmdp's way around it.
 *
 * DPDK 22.11's net_memif PMD handles its control socket on DPDK's interrupt
 * thread. When the peer goes away (mmload exits or is killed, or sends a
 * disconnect), memif_disconnect() runs there: it clears the port's
 * "connected" flag, closes the control channel and the queues' eventfds,
 * then munmap()s the shared regions (rings and packet buffers) and frees
 * their descriptors. Nothing in between waits for the lcores that poll the
 * port: eth_memif_rx/tx test the flag once at the top of a burst and then
 * use the rings. A worker that tested the flag just before it was cleared,
 * and is still inside its burst (a burst of 32 copies, or a worker
 * preempted on a busy host), touches unmapped memory: SIGSEGV in
 * librte_net_memif.so on the worker lcore. The PMD raises no event before
 * it unmaps (22.11's memif_disconnect does not even report link-state
 * changes, so an RTE_ETH_EVENT_INTR_LSC callback never runs), and a
 * link-down check of our own before each burst narrows the window without
 * closing it: the check and the burst are still not atomic with respect to
 * the unmap.
 *
 * What is missing is the classic RCU wait between "unpublish" (the flag)
 * and "free" (the munmap), and mmdp's workers already are QSBR readers: a
 * worker passes a quiescent state at the end of each loop iteration, never
 * inside a burst. So mmdp defines munmap() itself (exported from the
 * executable with a dynamic list, so it interposes on the PMD's call to
 * libc's) and, when the caller is DPDK's interrupt thread and the workers
 * are running, waits for a grace period (urcu_qsbr_synchronize_rcu) before
 * unmapping. By then every burst that saw the port connected has returned,
 * and every later one sees it disconnected (the flag is cleared before the
 * unmap, and synchronize_rcu and the workers' quiescent states order it)
 * and returns 0 without touching the rings. The region descriptors freed
 * after the first munmap are covered by the same wait.
 *
 * Other threads' munmap calls (EAL, libc's own callers, liburcu, mmdp's
 * agent thread) go straight to the system call: only the interrupt thread
 * waits, and only between mmdp_unmap_guard_arm(true) and (false). The
 * interrupt thread is no QSBR reader and nothing the workers do waits for
 * it, so the wait ends within a loop iteration of each worker (and a
 * request of the agent thread, which is a reader between its polls). The
 * cost is on the interrupt thread, at a disconnect: nothing on the fast
 * path. */
#include "dataplane/mmdp/unmap_guard.h"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <rte_interrupts.h>
#include <urcu/urcu-qsbr.h>

static int g_armed;
static uint64_t g_waits;

void mmdp_unmap_guard_arm(bool on)
{
	__atomic_store_n(&g_armed, on ? 1 : 0, __ATOMIC_SEQ_CST);
}

uint64_t mmdp_unmap_guard_waits(void)
{
	return __atomic_load_n(&g_waits, __ATOMIC_RELAXED);
}

int munmap(void *addr, size_t len)
{
	if (__atomic_load_n(&g_armed, __ATOMIC_SEQ_CST) && rte_thread_is_intr()) {
		urcu_qsbr_synchronize_rcu();
		__atomic_fetch_add(&g_waits, 1, __ATOMIC_RELAXED);
	}
	return (int)syscall(SYS_munmap, addr, len);
}
