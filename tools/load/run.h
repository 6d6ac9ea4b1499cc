/* mmload's run: options, participants (sockets, SRTP sessions), the I/O
 * threads, the control path (mmdp's agent socket or mmctld's REST API)
 * and the report. See tools/load/main.c for the order of things.
 *
 * Threads: the main thread sets up, prints progress, mutes and unmutes,
 * and writes the report; each I/O thread owns a set of participants (their
 * sockets, SRTP sessions, streams and received flows) and sends and
 * receives for them. What the main thread reads while they run (counters,
 * histograms, timelines) is written with relaxed atomic stores
 * (ld_ctr_add); everything else is read only after they are joined.
 *
 * Mutes: the main thread moves a stream to LD_PHASE_UNCERTAIN, waits
 * LD_MUTE_MARGIN_MS so that whatever was sent before has been through mmdp,
 * asks for the mute (or unmute) and, once it is acknowledged (mmdp replies
 * after an RCU grace period, mmctld after mmdp did), moves it to
 * LD_PHASE_MUTED (or back to LD_PHASE_EXPECTED). Packets carry the phase
 * they were sent in, so a receiver knows which it must get (EXPECTED), may
 * get (UNCERTAIN) or must not (MUTED: a misdelivery). */
#ifndef MM_LOAD_RUN_H
#define MM_LOAD_RUN_H

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "dataplane/proto/net.h"
#include "tools/load/load.h"
#include "tools/sim/sim.h"

#define LD_MUTE_MARGIN_MS 50
#define LD_TX_BATCH 64
#define LD_RX_BATCH 32
#define LD_RX_BUF 2048
#define LD_NAME_MAX 80
#define LD_MAX_PREFS 16 /* --pref-change */

/* --pref-change T:P:L: at T s after the start of sending, participant P
 * (global index from 0) is put again with max_layer L. */
struct ld_pref {
	double at_s;
	uint32_t part;
	int layer;
};

struct ld_opts {
	struct ld_conf conf;
	const char *socket;    /* mmdp's agent socket */
	const char *mmctld;    /* base URL of mmctld, e.g. http://127.0.0.1:8080 */
	const char *token;     /* operator or tenant token for mmctld */
	const char *report;    /* JSON report file */
	const char *prefix;    /* room and endpoint names */
	int cpus[2], n_cpus;   /* --cpu: I/O thread i runs on cpus[i % n_cpus] */
	int rt_priority;       /* --rt-priority: SCHED_FIFO priority of the I/O threads, 0 none */
	enum mm_srtp_profile srtp;
	bool srtp_set;         /* --srtp given */
	int family;            /* 4, 6, or 0 for mixed */
	int duration, warmup, threads;
	double max_loss;       /* percent */
	bool json, per_stream, mute_one, keep, quiet;
	uint16_t client_port, server_port;
	/* --io memif: mmload is its own DPDK process on a net_memif client
	 * port attached to mmdp's memif server port (tools/load/io_memif.c). */
	int io;                /* enum ld_io_kind */
	const char *memif;     /* the memif control socket (a file path) */
	const char *eal;       /* extra EAL arguments (words) */
	const char *mac;       /* mmload's memif MAC: the participants' next hop */
	const char *dp_mac;    /* mmdp's memif MAC: every frame's destination */
	const char *dp_ip4, *dp_ip6; /* mmdp's addresses on that port */
	/* --find-max (tools/load/findmax.c) */
	bool find_max;
	int trial;             /* seconds per trial */
	int max_rooms;         /* upper bound of the search */
	double precision;      /* stop when hi - lo <= lo * precision / 100 (at least 1 room) */
	const char *steps_file; /* a line per trial (JSON), appended as the search goes */
	int retries;           /* --retries: attempts after a failed trial (find-max) */
	bool ramp;             /* --ramp: trials at ramp_steps loads, --rooms to --max-rooms */
	int ramp_steps;
	const char *plot;      /* --plot PREFIX: PNGs of the trials (tools/load/plot.h) */
	const char *timeline;  /* --timeline FILE: the 100 ms bins of a single run */
	/* --rtpengine HOST:PORT (tools/load/control_rtpengine.c): set the calls
	 * up through rtpengine's ng protocol instead of mmdp's agent. */
	const char *rtpengine;
	bool rtpe_same_suite;  /* --rtpengine-same-suite: both legs on --srtp */
	/* --forwarder-pid PID (tools/load/fwcpu.c): the forwarder's CPU time
	 * over the measured window, per forwarded packet. */
	int fwd_pid;
	struct ld_pref prefs[LD_MAX_PREFS]; /* in time order */
	int n_prefs;
};

enum ld_io_kind { LD_IO_KERNEL = 0, LD_IO_MEMIF = 1 };

/* Parse argv; 0, 1 after --help (printed), or -EINVAL (message printed). */
int ld_opts_parse(int argc, char **argv, struct ld_opts *o);
void ld_usage(FILE *f);

struct ld_part {
	uint32_t id, room, slot;
	char name[LD_NAME_MAX];
	char netns[64];
	char addr[64];
	uint16_t port;
	char mac[18];
	char server_addr[64]; /* mmdp's address and port for this participant */
	uint16_t server_port;
	struct sockaddr_storage server;
	socklen_t server_len;
	int fd;               /* kernel mode */
	uint8_t mac_b[6];     /* memif mode: its MAC (mmload's port) */
	struct net_addr addr_b, server_b; /* memif mode: parsed addresses */
	uint8_t family;       /* 4 or 6 */
	uint32_t thread;
	bool audio_muted;
	int max_layer;        /* -1: none sent; written by the main thread (--pref-change) */
	/* SRTP: key_in protects what it sends (mmdp's in_key for it), key_out
	 * unprotects what it receives. */
	enum mm_srtp_profile srtp;
	struct mm_srtp_keys key_in, key_out;
	struct mm_srtp *tx, *rx;
	char ctl_id[64];      /* mmctld's participant id */
	char *ctl_token;      /* its participant token (malloc'd) */
};

/* A stream at its sender. phase: written by the main thread, read by the
 * sender's thread (relaxed atomics). The rest: the sender's thread. */
struct ld_sstate {
	struct ld_gen gen;
	uint8_t phase;
	uint64_t sent_total;            /* warmup included */
	uint64_t sent[LD_PHASES];       /* sent in the measured window, by phase */
	uint64_t sent_bytes[LD_PHASES]; /* UDP payload bytes (SRTP included) */
	uint64_t send_errors;
};

/* One bin (LD_TL_BIN_NS: 100 ms, since t0) of one thread. sent, copies: by
 * send time; rx_unique: expected packets by their send time; rx: datagrams
 * by arrival. The report's timeline sums them per second; --timeline FILE
 * writes the bins themselves (a fault's outage and recovery to 100 ms). */
#define LD_TL_BIN_NS 100000000ull
#define LD_TL_BINS_PER_S 10
struct ld_tline {
	uint64_t sent, copies, rx_unique, rx;
};

struct ld_tstats {
	uint64_t tx_pkts, tx_bytes, tx_errors;   /* everything sent, warmup included */
	uint64_t lag_max_ns, late_events, skipped_events;
	/* How far behind the schedule the thread was when the measured window
	 * ended (the oldest event due and not sent, ns; a maximum): a
	 * generator that cannot sustain the load builds up this backlog. */
	uint64_t end_lag_ns;
	uint64_t rx_datagrams, rx_bytes;         /* everything received */
	uint64_t rx_pkts[LD_KINDS], rx_kbytes[LD_KINDS]; /* measured, expected, first copies */
	uint64_t mis[LD_MIS__COUNT];
	uint64_t corrupt, foreign, wrong_source;
	uint64_t srtp_auth, srtp_replay, srtp_other;
	uint64_t dups, reordered, seq_mismatch, rx_uncertain;
	/* SFU mode (ld_conf_sfu): audio of a non-speaker after the settle
	 * time, RTX and RTCP received, packets on an SSRC other than their
	 * view's, retransmissions of what had arrived, NACK packets sent. */
	uint64_t unexpected_audio, rtx_rx, rtcp_rx, wrong_ssrc, retrans_dups;
	uint64_t nacks_sent, nack_errors;
};

struct ld_run;

struct ld_thread {
	struct ld_run *R;
	int idx;
	pthread_t th;
	bool started;
	int epfd;
	uint32_t *parts;
	uint32_t n_parts;
	struct ld_sched sched;
	struct ld_tstats st __attribute__((aligned(64)));
	struct ld_hist hist; /* one-way latency, ns, measured expected packets */
	struct ld_tline *tl;
	uint32_t n_bins;
	uint8_t (*txbuf)[LD_PKT_BUF];
	uint8_t (*rxbuf)[LD_RX_BUF];
	void *io;            /* the backend's per-thread state */
	/* SFU mode: views of its receivers with gaps to follow (NACK, give up). */
	uint32_t *gapq;
	uint32_t n_gapq, cap_gapq;
	uint64_t next_nack_ns;
	int error;
	bool end_seen;       /* end_lag_ns taken */
};

/* What the generator hands to the backend with each packet. */
struct ld_txmeta {
	uint32_t stream;
	uint8_t phase;
	uint32_t len;       /* UDP payload bytes (RTP + SRTP) */
	uint64_t send_ns;
};

/* An I/O backend: how packets leave and come back. io.c runs the
 * generator and the loop; the backend moves the bytes. */
struct ld_io {
	const char *name;
	/* Once per process, after the options (EAL, port); may be NULL. */
	int (*init)(struct ld_run *R, char *err, size_t errlen);
	void (*fini)(struct ld_run *R);
	/* Once per run, after the participants are planned and the meeting
	 * set up (kernel: their sockets). */
	int (*open)(struct ld_run *R, char *err, size_t errlen);
	void (*close)(struct ld_run *R);
	int (*thread_init)(struct ld_thread *T);  /* main thread, before the start */
	void (*thread_start)(struct ld_thread *T); /* first thing in the I/O thread */
	void (*thread_stop)(struct ld_thread *T);  /* last thing in the I/O thread */
	void (*thread_fini)(struct ld_thread *T);
	/* A buffer (LD_PKT_BUF bytes) for participant p's next packet (RTP,
	 * SRTP protected in place); it stays reserved until tx_push. NULL
	 * when there is none (counted as a send error). */
	uint8_t *(*tx_buf)(struct ld_thread *T, struct ld_part *p);
	void (*tx_push)(struct ld_thread *T, struct ld_part *p, size_t len, const struct ld_txmeta *m);
	void (*tx_flush)(struct ld_thread *T);
	/* Send one control packet (RTCP) of participant p to its server
	 * address now (NACKs); 0 or a negative errno. */
	int (*send_ctl)(struct ld_thread *T, struct ld_part *p, const uint8_t *buf, size_t len);
	/* Receive (and check, ld_rx_packet) for at most about wait_ns. */
	void (*rx_wait)(struct ld_thread *T, uint64_t wait_ns);
	/* Counters of the path before (which 0) and after (1) the run, and
	 * their part of the report (may be NULL). */
	void (*stats)(struct ld_run *R, int which);
	json_t *(*report)(const struct ld_run *R);
};
extern const struct ld_io ld_io_kernel; /* io_kernel.c */
#if LD_HAVE_DPDK
extern const struct ld_io ld_io_memif;  /* io_memif.c */
#endif

/* A way to set up the meeting. */
struct ld_control {
	const char *name;
	int (*setup)(struct ld_run *R);
	/* Mute or unmute the audio of participant p; returns once it applies. */
	int (*mute)(struct ld_run *R, uint32_t p, bool muted);
	/* Put participant p again with max_layer layer (--pref-change); NULL
	 * where the setup path has no such field. */
	int (*max_layer)(struct ld_run *R, uint32_t p, int layer);
	void (*teardown)(struct ld_run *R);
	const char *forwarder; /* what forwards (limits, summary, plots): "mmdp", ... */
	/* Add the backend's part to the run's report (may be NULL). */
	void (*report)(struct ld_run *R, json_t *rep);
};
extern const struct ld_control ld_control_agent; /* control_agent.c */
extern const struct ld_control ld_control_rest;  /* control_rest.c */
extern const struct ld_control ld_control_rtpengine; /* control_rtpengine.c */
extern const struct ld_control ld_control_reflect; /* control_reflect.c: --reflect */

struct ld_pref_event {
	uint32_t part;
	int layer;
	double at_s;     /* since the start of the measured window */
	double took_ms;
	int rc;
};

struct ld_mute_event {
	uint32_t part;
	bool muted;
	double at_s;     /* since the start of the measured window */
	double took_ms;  /* request to acknowledgement */
	int rc;
};

/* UDP counters of the kernel, summed over the site's host namespaces. */
struct ld_kstats {
	bool valid;
	uint64_t in_datagrams, in_errors, rcvbuf_errors, sndbuf_errors;
};

/* A sample of the forwarder's CPU time (fwcpu.c). */
struct ld_fwcpu {
	bool valid, sched_valid;
	uint64_t utime, stime;    /* clock ticks, /proc/PID/stat (all threads) */
	uint64_t sched_ns;        /* sum of /proc/PID/task/x/schedstat run time */
	int threads;
	uint64_t at_ns;
};

struct ld_run {
	struct ld_opts o;
	struct ld_scenario sc;
	struct sim_site site;
	int addrs_per_host;
	struct ld_part *parts;
	struct ld_sstate *ss;     /* per stream */
	struct ld_flow *flows;    /* [receiver * streams_per_room + room_slot] */
	/* SFU mode: [receiver * streams_per_room + room_slot of the view's
	 * stream] (a camera group: its layer 0), and what each receiver heard. */
	struct ld_view *views;
	uint8_t *view_queued;     /* same index: in its thread's gapq */
	struct ld_ears *ears;     /* [receiver] */
	struct ld_thread *th;
	int n_threads;
	uint64_t t0, t_meas, t_end; /* start of sending, of the measured window, its end */
	double t0_unix;             /* t0 on the wall clock (CLOCK_REALTIME, seconds) */
	int stop;                 /* atomics: the I/O threads end */
	const struct ld_control *ctl;
	void *rest;               /* control_rest.c's state */
	struct mm_agent_client agent;
	bool have_agent;
	json_t *hello;
	json_t *stats0, *stats1;  /* mmdp's stats.get before and after */
	struct ld_kstats kst0, kst1; /* before sending, after the drain */
	struct rusage ru0, ru1;   /* process CPU at t_meas and t_end */
	uint64_t ru0_ns, ru1_ns;
	struct ld_mute_event mutes[4];
	int n_mutes;
	struct ld_pref_event prefs[LD_MAX_PREFS];
	int n_prefs;
	const struct ld_io *io;
	void *io_state;           /* the backend's process-wide state */
	void *rtpe;               /* control_rtpengine.c's state */
	struct ld_fwcpu fw0, fw1; /* --forwarder-pid: at t_meas and t_end */
};

/* participants.c: names, addresses, ports, keys, sockets. */
void ld_room_name(const struct ld_run *R, uint32_t room, char *buf, size_t cap);
int ld_parts_plan(struct ld_run *R, char *err, size_t errlen);
int ld_parts_open(struct ld_run *R, char *err, size_t errlen);
void ld_parts_close(struct ld_run *R);
/* (Re)create participant p's SRTP sessions from its keys. */
int ld_part_srtp(struct ld_part *p);
/* A fresh random master key and salt for profile (getrandom). */
int ld_random_key(struct mm_srtp_keys *k, enum mm_srtp_profile profile);

/* kstats.c: read the kernel's UDP counters (enters each host namespace
 * in turn, from the calling thread). */
int ld_kstats_read(const struct ld_run *R, struct ld_kstats *k);

/* io.c: the I/O threads. The backend reports each packet it sent (or
 * could not) and hands every UDP payload it receives to ld_rx_packet. */
void ld_io_sent(struct ld_thread *T, const struct ld_txmeta *m);
void ld_io_unsent(struct ld_thread *T, const struct ld_txmeta *m);
/* n datagrams arrived at now (the timeline's and the totals' counters). */
void ld_io_received(struct ld_thread *T, uint32_t n, uint64_t bytes, uint64_t now);
/* rx.c: check one received UDP payload for participant p (buf is
 * unprotected in place). */
void ld_rx_packet(struct ld_thread *T, struct ld_part *p, uint8_t *buf, size_t len, uint64_t now);
/* SFU mode: the view stream of s (a camera layer's group: its layer 0). */
static inline const struct ld_stream *ld_view_stream(const struct ld_scenario *sc,
						      const struct ld_stream *s)
{
	return s->kind == LD_VIDEO && sc->conf.simulcast ? s - s->layer : s;
}
/* rx.c, SFU mode with --nack: NACK what the thread's views miss (RTCP RR +
 * generic NACK, SRTCP with the receiver's sending session) and give up
 * gaps older than LD_GIVE_UP_NS. */
void ld_rx_nacks(struct ld_thread *T, uint64_t now);
int ld_io_start(struct ld_run *R);
void ld_io_join(struct ld_run *R);
void ld_io_free(struct ld_run *R);
uint64_t ld_now_ns(void);

/* control_agent.c */
int ld_agent_call(struct ld_run *R, json_t *req, json_t **reply, const char *what);
json_t *ld_agent_stats(struct ld_run *R);

/* main.c: one run at R->o.conf (status 0 pass, 1 fail, 2 error; *report
 * is the JSON report, or NULL), and whether a signal asked to stop. */
int ld_run_once(struct ld_run *R, json_t **report, bool *pass);
bool ld_interrupted(void);
/* findmax.c: --find-max; returns the exit status. */
int ld_find_max(struct ld_run *R);

/* fwcpu.c: sample --forwarder-pid's CPU time (which 0: start of the
 * measured window, 1: its end); add "forwarder_cpu" to the report. */
void ld_fwcpu_sample(struct ld_run *R, int which);
void ld_fwcpu_report(const struct ld_run *R, json_t *rep);

/* report.c */
void ld_progress(struct ld_run *R, uint64_t now, uint64_t *prev_tx, uint64_t *prev_rx,
		 uint64_t *prev_ns);
json_t *ld_report(struct ld_run *R, bool *pass);

/* --timeline FILE: the run's 100 ms bins, one line each (report_data.c);
 * 0 or -errno. */
int ld_timeline_write(const struct ld_run *R, const char *path);

#endif
