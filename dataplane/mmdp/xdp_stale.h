/* A restart after kill -9. An AF_XDP port's XDP program stays attached to
 * its interface when mmdp dies without closing the port (SIGKILL, the OOM
 * killer, a crash); SIGTERM detaches it. The next mmdp then meets it:
 * libxdp finds its default program and reuses it (which works), but DPDK
 * 22.11's port with xdp_prog= (the XDP guard) cannot attach its own ("XDP
 * program already attached", port setup fails) and mmdp does not start.
 * So before its ports are set up, mmdp removes the program attached to each
 * AF_XDP port's interface, if it is one mmdp's ports load (libxdp's
 * "xsk_def_prog" or the guard's "mm_guard"), when no AF_XDP socket is
 * bound there (the
 * kernel's sock_diag; where the kernel lacks xsk_diag, when no process in
 * /proc holds the program): whoever loaded it is gone. A program some
 * live process uses is left alone. Needs libbpf (as the guard). */
#ifndef MMDP_XDP_STALE_H
#define MMDP_XDP_STALE_H

#include <stdint.h>

/* After rte_eal_init, before the ports' queues are set up; says on stderr
 * what it removed. */
void mmdp_xdp_stale_remove(uint16_t n_ports);

#endif
