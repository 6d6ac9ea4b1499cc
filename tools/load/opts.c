/* mmload's command line. */
#include "tools/load/run.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

void ld_usage(FILE *f)
{
	fprintf(f,
"usage: mmload (--socket PATH | --mmctld URL --token T [--socket PATH]) [options]\n"
"Simulated participants sending SRTP media through mmdp on the test site; run it\n"
"under \"tools/mmsite run -- ...\" (it reads the MMSITE_* variables).\n"
"\n"
"Setup:\n"
"  --socket PATH          mmdp's agent socket (default $MMDP_AGENT_SOCKET): sets the\n"
"                         meeting up, unless --mmctld; reads mmdp's stats.get\n"
"  --mmctld URL           set up through mmctld's REST API (e.g. http://127.0.0.1:8080):\n"
"  --token T              rooms, joins (keys from the join), mutes; needs an operator\n"
"                         or tenant token; --simulcast is not possible there\n"
"  --prefix NAME          room and endpoint names NAME-rN, NAME-rN-pM (mml)\n"
"  --family 4|6|mixed     participants' address family (4)\n"
"  --client-port N        first participant port (20000); --server-port N first\n"
"                         mmdp port with --socket (40000)\n"
"  --keep                 leave the rooms in place at the end\n"
"  --rtpengine HOST:PORT  set up through rtpengine's ng protocol instead (the\n"
"                         benchmark against rtpengine): rooms of exactly 2, one\n"
"                         call per room (offer: participant 1, answer: participant\n"
"                         2); the control socket is opened in the site's dp\n"
"                         namespace ($MMSITE_DP_NS). SRTP: participant 1's leg uses\n"
"                         --srtp, participant 2's another suite (AEAD_AES_128_GCM,\n"
"                         or AES_CM_128_HMAC_SHA1_80 when --srtp is that), so that\n"
"                         rtpengine decrypts and re-encrypts (the report's\n"
"                         \"reencrypts\"); no --mute-one; kernel I/O only\n"
"  --rtpengine-same-suite both legs on --srtp: rtpengine 10.5 then hands the\n"
"                         answerer the offerer's key and passes packets through\n"
"                         without decrypting (\"reencrypts\": false); for comparison\n"
"  --forwarder-pid PID    the forwarder's CPU time (/proc/PID) over the measured\n"
"                         window and per forwarded packet (\"forwarder_cpu\")\n"
"Scenario:\n"
"  --rooms N (2)  --participants N per room (4)\n"
"  audio: every participant, Opus-like, 20 ms packets of 60-120 bytes while\n"
"         talking, 24-32-byte comfort noise in silence (--dtx: one per 400 ms),\n"
"         RFC 6464 audio level (one-byte RFC 8285 extension)\n"
"  --speakers N           talking at once per room (2); the floor moves round the\n"
"  --turn S               room every S seconds (3)\n"
"  --audio-level-id N     RFC 8285 id of the audio level extension (1)\n"
"  --video                camera: --fps N (30), --video-kbps N (800), a keyframe every\n"
"                         --keyframe-interval S (3), --keyframe-factor N times a\n"
"                         delta frame (5); frames cut in packets of <= 1200 bytes,\n"
"                         marker bit on the last\n"
"  --simulcast            three camera layers (1/4, 1/2 and full --video-kbps)\n"
"  --screen               the first participant of each room shares its screen:\n"
"                         --screen-fps N (5), --screen-kbps N (1500)\n"
"  --srtp PROFILE|none    AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32,\n"
"                         AEAD_AES_128_GCM (default) or AEAD_AES_256_GCM; keys per\n"
"                         participant and direction (with --mmctld: mmctld's)\n"
"  --seed N               SSRC and timing salt (1)\n"
"SFU (issue 7; docs/agent-protocol.md \"Meetings of 100\"; --socket only):\n"
"  --last-n N             room.put last_n N (0..100, 0: all audio), and audio\n"
"                         streams declare audio_level_id (without it they do not, and\n"
"                         mmdp forwards every audio stream); receivers must then hear\n"
"                         only the talk model's speakers (\"unexpected_audio\")\n"
"  --video-last-n N       room.put video_last_n N (0..100, 0: all): each receiver gets\n"
"                         the video of the N most recent speakers\n"
"  --max-layer L          every endpoint's max_layer (0..2): the highest simulcast\n"
"                         layer it receives\n"
"  --pref-change T:P:L    at T s after sending starts, put participant P (global\n"
"                         index from 0: room r's slot s is r x participants + s)\n"
"                         again with max_layer L; repeatable (16)\n"
"  --settle S             audio of a non-speaker arriving later than S s after its\n"
"                         turn started counts as unexpected (2.5; below --turn)\n"
"  --nack                 receivers send RTCP generic NACKs (RFC 4585, compound with\n"
"                         an RR, SRTCP on the RTP port) for sequence gaps, again\n"
"                         after 2 x the observed repair time, at most 3 times\n"
"  --rtx-pt PT            every endpoint's rtx_pt (96..127): mmdp answers NACKs with\n"
"                         RFC 4588 RTX on the stream's rtx_ssrc (else plain copies)\n"
"  With --simulcast the camera layers are one group (\"cam\", layer 0..2) and each\n"
"  receiver gets one layer per group under layer 0's SSRC; video and screen\n"
"  declare an rtx_ssrc of their own. Any of these (and --simulcast) turns on the\n"
"  SFU checks: loss from the sequence numbers each receiver sees per SSRC, layer\n"
"  switches (only at the first packet of a keyframe, no sequence gap, no\n"
"  interleaving of two layers), the audio heard per turn; the report's \"sfu\".\n"
"Run:\n"
"  --duration S (10) --warmup S (2, not measured)\n"
"  --threads N            I/O threads, 1 or 2 (1)\n"
"  --cpu N[,M]            pin the I/O threads to these CPUs (e.g. the one mmdp's\n"
"                         worker does not spin on)\n"
"  --rt-priority P        run the I/O threads SCHED_FIFO at priority P (1-99; needs\n"
"                         root): the generator then waits for no ordinary process\n"
"                         on its CPU, as if it ran on a machine of its own, and\n"
"                         sleeps whenever it has nothing to do (memif: up to 20 us\n"
"                         at a time), so those processes still run. Without it, on\n"
"                         a shared CPU a stall of the generator overruns mmdp's\n"
"                         ring towards it, and the loss is the generator's\n"
"  --mute-one             mute the first participant's audio a third into the\n"
"                         measured window and unmute it at two thirds, through the\n"
"                         setup path; what it sends while muted must reach nobody\n"
"  --max-loss PCT         highest loss that passes, percent (0.01)\n"
"I/O (--io):\n"
"  --io kernel            UDP sockets in the test site's host namespaces (default)\n"
"  --io memif             mmload is a DPDK process with a net_memif client port on\n"
"                         mmdp's memif server port and writes the frames itself:\n"
"  --memif PATH           the memif socket of mmdp's --vdev net_memif0,role=server,\n"
"                         socket=PATH,socket-abstract=no\n"
"  --eal \"ARGS\"           more EAL arguments (default: -l 0 --in-memory --no-pci)\n"
"  --mac MAC              mmload's memif MAC, every participant's next hop, given\n"
"                         to mmdp in endpoint.put (02:6d:6d:10:00:01)\n"
"  --dp-mac MAC           mmdp's memif MAC (default $MMSITE_DP_MAC or 02:6d:6d:00:00:01)\n"
"  --dp-ip4 A --dp-ip6 A  mmdp's addresses on that port (default $MMSITE_DP_IP4 or\n"
"                         198.18.0.1, $MMSITE_DP_IP6 or 2001:2::1); participants are\n"
"                         198.19.X.Y and 2001:2:0:1::N, port --client-port + index\n"
"Reflect (the I/O limit, tools/bench/testpmd.sh):\n"
"  --reflect              no meeting, no --socket: the forwarder (dpdk-testpmd\n"
"                         --forward-mode=5tswap) returns each packet to its sender;\n"
"                         participant i sends to the forwarder's address (--dp-ip4/6\n"
"                         or MMSITE_DP_IP4/6) port --server-port + i; each stream is\n"
"                         expected once, at its sender (copies per packet 1), anywhere\n"
"                         else it is misdelivered (not_sender); --participants >= 1\n"
"                         (--speakers at most --participants)\n"
"Capacity search (--find-max):\n"
"  --find-max             binary search (RFC 2544 style) over the number of rooms of\n"
"                         --participants each, at the scenario's profile, for the\n"
"                         highest one with loss <= --max-loss and no misdelivery: from\n"
"                         --rooms, doubling while trials pass, then bisecting\n"
"  --trial S              seconds measured per trial (10; each after --warmup)\n"
"  --max-rooms N          upper bound of the search (20000 / participants)\n"
"  --precision PCT        stop when the bracket is within PCT of its low end (5)\n"
"  --steps-file FILE      append each step (a JSON line) as the search goes\n"
"  --retries N            run a failed trial again up to N times (1): a load fails\n"
"                         only if every attempt does (one stall of a shared machine\n"
"                         is not the forwarder's limit; real overload fails each time;\n"
"                         a ramp retries only a trial the generator itself failed)\n"
"  --ramp                 instead of searching, a trial at each of --ramp-steps N (8)\n"
"                         loads evenly spaced from --rooms to --max-rooms, whatever\n"
"                         each gives: throughput, loss and latency past the knee\n"
"  --plot PREFIX          PREFIX-throughput.png, PREFIX-loss.png, PREFIX-latency.png\n"
"                         (gnuplot) against offered load, from the trials; the data\n"
"                         and the gnuplot script stay in PREFIX.dat and PREFIX.gp\n"
"  The report holds every step, the maximum, the full report at the maximum and\n"
"  \"summary\": one mmdp worker core carries N participants in rooms of M at\n"
"  profile P. Exit 0 when the search converged on a maximum > 0.\n"
"Output:\n"
"  a progress line per second on stderr (--quiet: none); --report FILE writes the\n"
"  JSON report, --json prints it on stdout, --per-stream adds a line per stream\n"
"  --timeline FILE        after the run, a line per 100 ms of sending (warmup\n"
"                         included; tab-separated, \"#\" header): t_s (since the\n"
"                         start), unix_s (that instant on the wall clock), measured\n"
"                         (0: warmup), offered (packets sent), expected (copies\n"
"                         due to receivers), received (of those, by send time),\n"
"                         lost, arrived (datagrams received in the bin, by arrival\n"
"                         time); shows when an outage began and when forwarding\n"
"                         was whole again, and what a load does over time (not\n"
"                         with --find-max or --ramp)\n"
"Exit status: 0 when loss <= --max-loss and nothing was misdelivered, 1 otherwise,\n"
"2 on usage or setup errors.\n");
}

static int num(const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 0);
	if (!*s || *end || errno || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

static int dbl(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (!*s || *end || errno || !(v >= 0))
		return -EINVAL;
	*out = v;
	return 0;
}

enum {
	O_SOCKET = 256, O_MMCTLD, O_TOKEN, O_PREFIX, O_FAMILY, O_CPORT, O_SPORT, O_KEEP,
	O_ROOMS, O_PARTS, O_SPEAKERS, O_TURN, O_DTX, O_LEVEL_ID, O_VIDEO, O_FPS, O_VKBPS,
	O_KF_INT, O_KF_FACTOR, O_SIMULCAST, O_SCREEN, O_SFPS, O_SKBPS, O_SRTP, O_SEED,
	O_DURATION, O_WARMUP, O_THREADS, O_MUTE_ONE, O_MAX_LOSS, O_REPORT, O_JSON,
	O_PER_STREAM, O_QUIET, O_HELP, O_CPU, O_IO, O_MEMIF, O_EAL, O_MAC, O_DP_MAC, O_DP_IP4,
	O_DP_IP6, O_FIND_MAX, O_TRIAL, O_MAX_ROOMS, O_PRECISION, O_STEPS_FILE,
	O_RAMP, O_RAMP_STEPS, O_PLOT, O_TIMELINE, O_RT_PRIO,
	O_RTPENGINE = 512, O_FWD_PID, O_RTPE_SAME,
	O_REFLECT = 600, O_RETRIES,
	O_LAST_N = 700, O_VIDEO_LAST_N, O_MAX_LAYER, O_PREF_CHANGE, O_SETTLE, O_NACK, O_RTX_PT,
};

static const struct option longopts[] = {
	{"socket", 1, NULL, O_SOCKET}, {"mmctld", 1, NULL, O_MMCTLD}, {"token", 1, NULL, O_TOKEN},
	{"prefix", 1, NULL, O_PREFIX}, {"family", 1, NULL, O_FAMILY},
	{"client-port", 1, NULL, O_CPORT}, {"server-port", 1, NULL, O_SPORT},
	{"keep", 0, NULL, O_KEEP}, {"rooms", 1, NULL, O_ROOMS},
	{"participants", 1, NULL, O_PARTS}, {"speakers", 1, NULL, O_SPEAKERS},
	{"turn", 1, NULL, O_TURN}, {"dtx", 0, NULL, O_DTX},
	{"audio-level-id", 1, NULL, O_LEVEL_ID}, {"video", 0, NULL, O_VIDEO},
	{"fps", 1, NULL, O_FPS}, {"video-kbps", 1, NULL, O_VKBPS},
	{"keyframe-interval", 1, NULL, O_KF_INT}, {"keyframe-factor", 1, NULL, O_KF_FACTOR},
	{"simulcast", 0, NULL, O_SIMULCAST}, {"screen", 0, NULL, O_SCREEN},
	{"screen-fps", 1, NULL, O_SFPS}, {"screen-kbps", 1, NULL, O_SKBPS},
	{"srtp", 1, NULL, O_SRTP}, {"seed", 1, NULL, O_SEED},
	{"duration", 1, NULL, O_DURATION}, {"warmup", 1, NULL, O_WARMUP},
	{"threads", 1, NULL, O_THREADS}, {"mute-one", 0, NULL, O_MUTE_ONE},
	{"max-loss", 1, NULL, O_MAX_LOSS}, {"report", 1, NULL, O_REPORT},
	{"json", 0, NULL, O_JSON}, {"per-stream", 0, NULL, O_PER_STREAM},
	{"quiet", 0, NULL, O_QUIET}, {"help", 0, NULL, O_HELP}, {"cpu", 1, NULL, O_CPU},
	{"io", 1, NULL, O_IO}, {"memif", 1, NULL, O_MEMIF}, {"eal", 1, NULL, O_EAL},
	{"mac", 1, NULL, O_MAC}, {"dp-mac", 1, NULL, O_DP_MAC}, {"dp-ip4", 1, NULL, O_DP_IP4},
	{"dp-ip6", 1, NULL, O_DP_IP6}, {"find-max", 0, NULL, O_FIND_MAX},
	{"trial", 1, NULL, O_TRIAL}, {"max-rooms", 1, NULL, O_MAX_ROOMS},
	{"precision", 1, NULL, O_PRECISION}, {"steps-file", 1, NULL, O_STEPS_FILE},
	{"timeline", 1, NULL, O_TIMELINE}, {"rt-priority", 1, NULL, O_RT_PRIO},
	{"ramp", 0, NULL, O_RAMP}, {"ramp-steps", 1, NULL, O_RAMP_STEPS}, {"plot", 1, NULL, O_PLOT},
	{"rtpengine", 1, NULL, O_RTPENGINE}, {"forwarder-pid", 1, NULL, O_FWD_PID},
	{"rtpengine-same-suite", 0, NULL, O_RTPE_SAME},
	{"reflect", 0, NULL, O_REFLECT}, {"retries", 1, NULL, O_RETRIES},
	{"last-n", 1, NULL, O_LAST_N}, {"video-last-n", 1, NULL, O_VIDEO_LAST_N},
	{"max-layer", 1, NULL, O_MAX_LAYER}, {"pref-change", 1, NULL, O_PREF_CHANGE},
	{"settle", 1, NULL, O_SETTLE}, {"nack", 0, NULL, O_NACK}, {"rtx-pt", 1, NULL, O_RTX_PT},
	{NULL, 0, NULL, 0},
};

static const char *name_of(int c)
{
	for (const struct option *lo = longopts; lo->name; lo++)
		if (lo->val == c)
			return lo->name;
	return "?";
}

/* --pref-change T:P:L, kept in time order. */
static int pref_change(struct ld_opts *o, const char *a)
{
	char t[32], *end;
	const char *c1 = strchr(a, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	long part, layer;
	if (!c2 || o->n_prefs == LD_MAX_PREFS || (size_t)(c1 - a) >= sizeof(t))
		return -EINVAL;
	snprintf(t, sizeof(t), "%.*s", (int)(c1 - a), a);
	char pb[16];
	if ((size_t)(c2 - c1 - 1) >= sizeof(pb))
		return -EINVAL;
	snprintf(pb, sizeof(pb), "%.*s", (int)(c2 - c1 - 1), c1 + 1);
	errno = 0;
	double at = strtod(t, &end);
	if (!t[0] || *end || errno || !(at >= 0 && at <= 86400) || num(pb, 0, 19999, &part) ||
	    num(c2 + 1, 0, LD_LAYERS - 1, &layer))
		return -EINVAL;
	int i = o->n_prefs++;
	while (i > 0 && o->prefs[i - 1].at_s > at) {
		o->prefs[i] = o->prefs[i - 1];
		i--;
	}
	o->prefs[i] = (struct ld_pref){.at_s = at, .part = (uint32_t)part, .layer = (int)layer};
	return 0;
}

/* One option with an argument into o. */
static int take(struct ld_opts *o, int c, const char *a)
{
	struct ld_conf *cf = &o->conf;
	long v;
	switch (c) {
	case O_SOCKET: o->socket = a; return 0;
	case O_MMCTLD: o->mmctld = a; return 0;
	case O_TOKEN: o->token = a; return 0;
	case O_REPORT: o->report = a; return 0;
	case O_MEMIF: o->memif = a; return strlen(a) < 100 ? 0 : -EINVAL;
	case O_EAL: o->eal = a; return 0;
	case O_STEPS_FILE: o->steps_file = a; return 0;
	case O_PLOT: o->plot = a; return *a && strlen(a) < 3000 ? 0 : -EINVAL;
	case O_TIMELINE: o->timeline = a; return *a ? 0 : -EINVAL;
	case O_RTPENGINE: o->rtpengine = a; return strrchr(a, ':') ? 0 : -EINVAL;
	case O_FWD_PID:
		if (num(a, 1, 1 << 22, &v))
			return -EINVAL;
		o->fwd_pid = (int)v;
		return 0;
	case O_IO:
		o->io = !strcmp(a, "kernel") ? LD_IO_KERNEL : !strcmp(a, "memif") ? LD_IO_MEMIF : -1;
		return o->io < 0 ? -EINVAL : 0;
	case O_MAC:
	case O_DP_MAC: {
		uint8_t m[6];
		*(c == O_MAC ? &o->mac : &o->dp_mac) = a;
		return net_mac_parse(a, m);
	}
	case O_DP_IP4:
	case O_DP_IP6: {
		struct net_addr x;
		uint8_t fam;
		*(c == O_DP_IP4 ? &o->dp_ip4 : &o->dp_ip6) = a;
		return net_addr_parse(a, &x, &fam) == 0 && fam == (c == O_DP_IP4 ? 4 : 6) ? 0 : -EINVAL;
	}
	case O_PRECISION: return dbl(a, &o->precision);
	case O_PREFIX:
		o->prefix = a;
		return strlen(a) >= 1 && strlen(a) <= 40 && strspn(a, "abcdefghijklmnopqrstuvwxyz"
				"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-") == strlen(a) ? 0 : -EINVAL;
	case O_FAMILY:
		o->family = !strcmp(a, "4") ? 4 : !strcmp(a, "6") ? 6 : !strcmp(a, "mixed") ? 0 : -1;
		return o->family < 0 ? -EINVAL : 0;
	case O_SRTP:
		o->srtp_set = true;
		if (!strcmp(a, "none")) {
			o->srtp = MM_SRTP_NONE;
			return 0;
		}
		return mm_srtp_profile_parse(a, &o->srtp);
	case O_TURN: return dbl(a, &cf->turn);
	case O_SETTLE: return dbl(a, &cf->settle);
	case O_PREF_CHANGE: return pref_change(o, a);
	case O_KF_INT: return dbl(a, &cf->keyframe_interval);
	case O_MAX_LOSS: return dbl(a, &o->max_loss);
	case O_CPU: {
		long x, y;
		char first[16];
		const char *comma = strchr(a, ',');
		snprintf(first, sizeof(first), "%.*s", comma ? (int)(comma - a) : (int)strlen(a), a);
		if (num(first, 0, 1023, &x) || (comma && num(comma + 1, 0, 1023, &y)))
			return -EINVAL;
		o->cpus[0] = (int)x;
		o->cpus[1] = comma ? (int)y : (int)x;
		o->n_cpus = comma ? 2 : 1;
		return 0;
	}
	}
	if (num(a, 0, 1000000, &v))
		return -EINVAL;
	switch (c) {
	case O_CPORT: o->client_port = (uint16_t)v; return v >= 1 && v <= 65535 ? 0 : -EINVAL;
	case O_SPORT: o->server_port = (uint16_t)v; return v >= 1 && v <= 65535 ? 0 : -EINVAL;
	case O_ROOMS: cf->rooms = (int)v; return 0;
	case O_PARTS: cf->participants = (int)v; return 0;
	case O_SPEAKERS: cf->speakers = (int)v; return 0;
	case O_LEVEL_ID: cf->audio_level_id = (int)v; return 0;
	case O_FPS: cf->fps = (int)v; return 0;
	case O_VKBPS: cf->video_kbps = (int)v; return 0;
	case O_KF_FACTOR: cf->keyframe_factor = (int)v; return 0;
	case O_SFPS: cf->screen_fps = (int)v; return 0;
	case O_SKBPS: cf->screen_kbps = (int)v; return 0;
	case O_SEED: cf->seed = (uint32_t)v; return 0;
	case O_DURATION: o->duration = (int)v; return v >= 1 && v <= 86400 ? 0 : -EINVAL;
	case O_WARMUP: o->warmup = (int)v; return v <= 3600 ? 0 : -EINVAL;
	case O_THREADS: o->threads = (int)v; return v >= 1 && v <= 2 ? 0 : -EINVAL;
	case O_RT_PRIO: o->rt_priority = (int)v; return v >= 1 && v <= 99 ? 0 : -EINVAL;
	case O_TRIAL: o->trial = (int)v; return v >= 1 && v <= 3600 ? 0 : -EINVAL;
	case O_MAX_ROOMS: o->max_rooms = (int)v; return v >= 1 && v <= 10000 ? 0 : -EINVAL;
	case O_RETRIES: o->retries = (int)v; return v <= 5 ? 0 : -EINVAL;
	case O_RAMP_STEPS: o->ramp_steps = (int)v; return v >= 2 && v <= 100 ? 0 : -EINVAL;
	case O_LAST_N: cf->last_n = (int)v; return v <= 100 ? 0 : -EINVAL;
	case O_VIDEO_LAST_N: cf->video_last_n = (int)v; return v <= 100 ? 0 : -EINVAL;
	case O_MAX_LAYER: cf->max_layer = (int)v; return v < LD_LAYERS ? 0 : -EINVAL;
	case O_RTX_PT: cf->rtx_pt = (int)v; return v >= 96 && v <= 127 ? 0 : -EINVAL;
	}
	return -EINVAL;
}

int ld_opts_parse(int argc, char **argv, struct ld_opts *o)
{
	*o = (struct ld_opts){.socket = getenv("MMDP_AGENT_SOCKET"), .prefix = "mml",
			      .srtp = MM_SRTP_AEAD_AES_128_GCM, .family = 4, .duration = 10,
			      .warmup = 2, .threads = 1, .max_loss = 0.01, .client_port = 20000,
			      .server_port = 40000, .mac = "02:6d:6d:10:00:01", .trial = 10,
			      .precision = 5, .ramp_steps = 8, .retries = 1};
	o->dp_mac = getenv("MMSITE_DP_MAC") ? getenv("MMSITE_DP_MAC") : "02:6d:6d:00:00:01";
	o->dp_ip4 = getenv("MMSITE_DP_IP4") ? getenv("MMSITE_DP_IP4") : "198.18.0.1";
	o->dp_ip6 = getenv("MMSITE_DP_IP6") ? getenv("MMSITE_DP_IP6") : "2001:2::1";
	ld_conf_defaults(&o->conf);
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case O_KEEP: o->keep = true; break;
		case O_DTX: o->conf.dtx = true; break;
		case O_VIDEO: o->conf.video = true; break;
		case O_SIMULCAST: o->conf.simulcast = o->conf.video = true; break;
		case O_SCREEN: o->conf.screen = true; break;
		case O_MUTE_ONE: o->mute_one = true; break;
		case O_JSON: o->json = true; break;
		case O_PER_STREAM: o->per_stream = true; break;
		case O_QUIET: o->quiet = true; break;
		case O_RTPE_SAME: o->rtpe_same_suite = true; break;
		case O_FIND_MAX: o->find_max = true; break;
		case O_RAMP: o->ramp = true; break;
		case O_REFLECT: o->conf.reflect = true; break;
		case O_NACK: o->conf.nack = true; break;
		case 'h':
		case O_HELP: ld_usage(stdout); return 1;
		case '?': return -EINVAL;
		default:
			if (take(o, c, optarg)) {
				fprintf(stderr, "mmload: bad value for --%s: %s\n",
					name_of(c), optarg);
				return -EINVAL;
			}
		}
	}
	char err[256];
	if (optind != argc) {
		fprintf(stderr, "mmload: unexpected argument %s\n", argv[optind]);
		return -EINVAL;
	}
	if (o->conf.reflect && o->conf.speakers > o->conf.participants)
		o->conf.speakers = o->conf.participants; /* rooms of 1 */
	if (ld_conf_check(&o->conf, err, sizeof(err))) {
		fprintf(stderr, "mmload: %s\n", err);
		return -EINVAL;
	}
	const struct ld_conf *cf = &o->conf;
	bool sfu_fields = cf->last_n >= 0 || cf->video_last_n >= 0 || cf->max_layer >= 0 ||
			  cf->rtx_pt > 0 || o->n_prefs > 0;
	if ((o->mmctld || o->rtpengine || cf->reflect) && sfu_fields) {
		fprintf(stderr, "mmload: --last-n, --video-last-n, --max-layer, --rtx-pt and "
				"--pref-change are fields of mmdp's agent protocol (--socket): mmctld's "
				"REST API has none of them yet, rtpengine and --reflect no SFU\n");
		return -EINVAL;
	}
	if ((o->rtpengine || cf->reflect) && cf->nack) {
		fprintf(stderr, "mmload: --nack needs mmdp (--socket or --mmctld)\n");
		return -EINVAL;
	}
	for (int i = 0; i < o->n_prefs; i++)
		if (o->prefs[i].part >= (uint32_t)(cf->rooms * cf->participants)) {
			fprintf(stderr, "mmload: --pref-change names participant %u of %d\n",
				o->prefs[i].part, cf->rooms * cf->participants);
			return -EINVAL;
		}
	if (o->n_prefs && (o->find_max || o->ramp)) {
		fprintf(stderr, "mmload: --find-max and --ramp do not go with --pref-change\n");
		return -EINVAL;
	}
	if (o->mmctld && (!o->token || o->conf.simulcast)) {
		fprintf(stderr, "mmload: --mmctld needs --token, and cannot do --simulcast (the API "
				"takes one camera stream)\n");
		return -EINVAL;
	}
	if (o->io == LD_IO_MEMIF && (!o->memif || o->threads != 1)) {
		fprintf(stderr, "mmload: --io memif needs --memif PATH and runs one I/O thread\n");
		return -EINVAL;
	}
	if (o->find_max && o->ramp) {
		fprintf(stderr, "mmload: --find-max or --ramp, not both\n");
		return -EINVAL;
	}
	if ((o->find_max || o->ramp) && o->mute_one) {
		fprintf(stderr, "mmload: --find-max and --ramp do not go with --mute-one\n");
		return -EINVAL;
	}
	if (o->ramp && o->max_rooms <= o->conf.rooms) {
		fprintf(stderr, "mmload: --ramp goes from --rooms (%d) up to --max-rooms, which must be "
				"higher\n", o->conf.rooms);
		return -EINVAL;
	}
	if (o->plot && !o->find_max && !o->ramp) {
		fprintf(stderr, "mmload: --plot draws the trials of --find-max or --ramp\n");
		return -EINVAL;
	}
	if (o->rtpengine) {
		if (o->mmctld || o->mute_one || o->io != LD_IO_KERNEL || o->conf.participants != 2) {
			fprintf(stderr, "mmload: --rtpengine needs rooms of exactly 2 (--participants "
					"2) and kernel I/O, and cannot do --mmctld or --mute-one "
					"(rtpengine has no mute)\n");
			return -EINVAL;
		}
		o->socket = NULL; /* mmdp's agent is not in the path */
		o->conf.no_sfu = true;
	}
	if (o->conf.reflect) {
		if (o->mmctld || o->mute_one || o->rtpengine) {
			fprintf(stderr, "mmload: --reflect sets nothing up: no --mmctld, "
					"--rtpengine or --mute-one\n");
			return -EINVAL;
		}
		o->socket = NULL; /* no mmdp: not even $MMDP_AGENT_SOCKET */
		return 0;
	}
	if (!o->mmctld && !o->socket && !o->rtpengine) {
		fprintf(stderr, "mmload: --socket PATH (or --mmctld URL) is required\n");
		return -EINVAL;
	}
	return 0;
}
