/* Internals of libmmguard shared by its two files: guard.c (the program:
 * load, attach, detach; it needs the skeleton, so clang and bpftool) and
 * guard_maps.c (the maps, from a loaded program or from pins: lists,
 * configuration, counters; libbpf only). mmdp, which manages a program
 * that DPDK loaded, links guard_maps.c alone. Not for other modules. */
#ifndef MM_GUARD_INTERNAL_H
#define MM_GUARD_INTERNAL_H

#include <stdbool.h>

#include "bpf/guard.h"

struct mm_guard {
	void *skel;                        /* struct mm_guard_bpf *, NULL from pins */
	void (*skel_destroy)(void *skel);  /* set by mm_guard_load */
	int prog_fd;                       /* -1 when opened from pins */
	int fd[MM_GUARD__MAPS];            /* -1 where absent */
	bool own_fds;                      /* opened from pins: ours to close */
};

/* A handle with no map and no program. */
struct mm_guard *mm_guard_new_(void);

#endif
