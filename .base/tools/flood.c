/* mmflood: a flood of abusive traffic at mmdp's media ports, for the XDP
 * guard's flood test on the test site (tools/mmsite). It writes whole
 * Ethernet frames on a packet socket inside one of the site's host
 * namespaces, so source addresses can be spoofed; the frames go to mmdp's
 * MAC over the site's bridge and never leave the machine (the site's
 * addresses exist only in its namespaces).
 *
 *   mmflood --ifname eth0 --dst-mac MAC --dst4 IP [--dst6 IP] --ports LO-HI
 *           --src4 IP [--src6 IP] --rate PPS --duration S [options]
 *
 * Classes of frames (--mix, weights):
 *   garbage  from the host's own address (--src4/--src6) to a random media
 *            port: payloads the guard refuses by their first bytes and lengths
 *            (demux_unknown, stun_malformed, dtls_malformed, rtp_malformed,
 *            rtcp_malformed), TCP to a media port (l4_unsupported), IPv4
 *            first fragments (l3_fragment)
 *   spoofed  well-formed RTP from random sources of --spoof4/--spoof6
 *            (unknown_endpoint)
 *   stun     well-formed STUN binding requests from random spoofed sources
 *            (the unknown sources' and the global handshake buckets)
 *   kicked   RTP from the 5-tuples given with --kicked (blocked)
 *   banned   RTP from random sources of --banned4/--banned6 (blocked_prefix)
 * Frames are built once (--frames of them, shuffled) and sent in a loop with
 * sendmmsg, paced on CLOCK_MONOTONIC. At the end a JSON line on stdout:
 * what was sent, per class, and the rate achieved. Needs root (CAP_NET_RAW). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dataplane/proto/net.h"

enum cls { C_GARBAGE, C_SPOOFED, C_STUN, C_KICKED, C_BANNED, C__N };
static const char *const cls_names[C__N] = {"garbage", "spoofed", "stun", "kicked", "banned"};

#define KICKED_MAX 16
#define FRAME_MAX 256
#define BATCH_MAX 256

struct prefix {
	bool set;
	struct net_addr addr;
	unsigned len; /* bits of addr (IPv4: of the IPv4 address) */
	uint8_t family;
};

struct kicked {
	struct net_addr raddr;
	uint8_t family;
	uint16_t rport, lport;
};

static struct {
	const char *netns, *ifname;
	uint8_t dst_mac[6], src_mac[6];
	bool have_src_mac;
	struct net_addr dst4, dst6, src4, src6;
	bool have_dst6, have_src6;
	uint16_t port_lo, port_hi;
	struct prefix spoof4, spoof6, banned4, banned6;
	struct kicked kicked[KICKED_MAX];
	int n_kicked;
	unsigned mix[C__N];
	double rate, duration;
	unsigned batch, frames;
	int cpu;
	uint64_t seed;
} O = {.batch = 32, .frames = 8192, .cpu = -1, .seed = 1,
       .mix = {[C_GARBAGE] = 30, [C_SPOOFED] = 40, [C_STUN] = 5, [C_KICKED] = 10, [C_BANNED] = 15}};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "mmflood: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mmflood --ifname IF --dst-mac MAC --dst4 IP [--dst6 IP] --ports LO-HI\n"
		"               --src4 IP [--src6 IP] --rate PPS --duration S [options]\n"
		"  --netns NAME        enter /run/netns/NAME first\n"
		"  --src-mac MAC       source MAC (default: the interface's)\n"
		"  --spoof4 P --spoof6 P    spoofed sources (RTP, STUN), e.g. 198.18.128.0/18\n"
		"  --banned4 P --banned6 P  sources of the 'banned' class\n"
		"  --kicked A:P>L      a kicked 5-tuple: remote A:P to local port L (repeatable;\n"
		"                      IPv6 as [A]:P>L)\n"
		"  --mix garbage=30,spoofed=40,stun=5,kicked=10,banned=15   class weights\n"
		"  --batch N (32)  --frames N (8192)  --cpu N  --seed N\n"
		"Prints a JSON summary on stdout. Stops at --duration or on SIGTERM/SIGINT.\n");
}

/* ---- Random numbers (xorshift64*) ---------------------------------------- */

static uint64_t rng;

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ull;
}

static uint32_t rnd_below(uint32_t n)
{
	return n ? (uint32_t)(rnd() % n) : 0;
}

/* ---- Options ------------------------------------------------------------- */

static void parse_prefix(const char *s, struct prefix *p)
{
	char a[64];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	if (n >= sizeof(a))
		die("bad prefix %s", s);
	memcpy(a, s, n);
	a[n] = 0;
	if (net_addr_parse(a, &p->addr, &p->family))
		die("bad prefix %s", s);
	unsigned max = p->family == 4 ? 32 : 128;
	p->len = slash ? (unsigned)atoi(slash + 1) : max;
	if (p->len > max)
		die("bad prefix length in %s", s);
	p->set = true;
}

/* A random address of p. */
static void prefix_random(const struct prefix *p, struct net_addr *out)
{
	*out = p->addr;
	unsigned first = p->family == 4 ? 96 + p->len : p->len;
	for (unsigned bit = first; bit < 128; bit++) {
		uint8_t m = (uint8_t)(0x80u >> (bit % 8));
		if (rnd() & 1)
			out->b[bit / 8] |= m;
		else
			out->b[bit / 8] &= (uint8_t)~m;
	}
	if (p->family == 4 && (out->b[15] == 0 || out->b[15] == 255))
		out->b[15] = 7; /* no network or broadcast-looking host part */
}

static void parse_kicked(const char *s)
{
	if (O.n_kicked == KICKED_MAX)
		die("at most %d --kicked", KICKED_MAX);
	struct kicked *k = &O.kicked[O.n_kicked];
	char a[64];
	const char *gt = strchr(s, '>');
	const char *colon;
	const char *start = s;
	if (!gt)
		die("--kicked wants ADDR:PORT>LPORT, got %s", s);
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || rb[1] != ':')
			die("bad --kicked %s", s);
		start = s + 1;
		colon = rb + 1;
		snprintf(a, sizeof(a), "%.*s", (int)(rb - start), start);
	} else {
		colon = strchr(s, ':');
		if (!colon || colon > gt)
			die("bad --kicked %s", s);
		snprintf(a, sizeof(a), "%.*s", (int)(colon - start), start);
	}
	if (net_addr_parse(a, &k->raddr, &k->family))
		die("bad address in --kicked %s", s);
	k->rport = (uint16_t)atoi(colon + 1);
	k->lport = (uint16_t)atoi(gt + 1);
	if (!k->rport || !k->lport)
		die("bad ports in --kicked %s", s);
	O.n_kicked++;
}

static void parse_mix(const char *s)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", s);
	memset(O.mix, 0, sizeof(O.mix));
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(t, '=');
		if (!eq)
			die("--mix wants class=weight,...");
		*eq = 0;
		int c;
		for (c = 0; c < C__N && strcmp(cls_names[c], t) != 0; c++)
			;
		if (c == C__N)
			die("unknown class %s in --mix", t);
		O.mix[c] = (unsigned)atoi(eq + 1);
	}
}

static void addr_opt(const char *s, struct net_addr *a, uint8_t want, const char *name)
{
	uint8_t f;
	if (net_addr_parse(s, a, &f) || f != want)
		die("%s wants an IPv%u address, got %s", name, want, s);
}

static void parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{"netns", required_argument, NULL, 'n'},   {"ifname", required_argument, NULL, 'i'},
		{"dst-mac", required_argument, NULL, 'M'}, {"src-mac", required_argument, NULL, 'm'},
		{"dst4", required_argument, NULL, 'd'},    {"dst6", required_argument, NULL, 'D'},
		{"src4", required_argument, NULL, 's'},    {"src6", required_argument, NULL, 'S'},
		{"ports", required_argument, NULL, 'p'},   {"spoof4", required_argument, NULL, 'x'},
		{"spoof6", required_argument, NULL, 'X'},  {"banned4", required_argument, NULL, 'b'},
		{"banned6", required_argument, NULL, 'B'}, {"kicked", required_argument, NULL, 'k'},
		{"mix", required_argument, NULL, 'w'},     {"rate", required_argument, NULL, 'r'},
		{"duration", required_argument, NULL, 't'}, {"batch", required_argument, NULL, 'a'},
		{"frames", required_argument, NULL, 'f'},  {"cpu", required_argument, NULL, 'c'},
		{"seed", required_argument, NULL, 'e'},    {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	int o;
	bool dst4 = false, src4 = false;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'n': O.netns = optarg; break;
		case 'i': O.ifname = optarg; break;
		case 'M':
			if (net_mac_parse(optarg, O.dst_mac))
				die("bad --dst-mac");
			break;
		case 'm':
			if (net_mac_parse(optarg, O.src_mac))
				die("bad --src-mac");
			O.have_src_mac = true;
			break;
		case 'd': addr_opt(optarg, &O.dst4, 4, "--dst4"); dst4 = true; break;
		case 'D': addr_opt(optarg, &O.dst6, 6, "--dst6"); O.have_dst6 = true; break;
		case 's': addr_opt(optarg, &O.src4, 4, "--src4"); src4 = true; break;
		case 'S': addr_opt(optarg, &O.src6, 6, "--src6"); O.have_src6 = true; break;
		case 'p': {
			unsigned lo, hi;
			if (sscanf(optarg, "%u-%u", &lo, &hi) != 2 || !lo || lo > hi || hi > 65535)
				die("--ports wants LO-HI");
			O.port_lo = (uint16_t)lo;
			O.port_hi = (uint16_t)hi;
			break;
		}
		case 'x': parse_prefix(optarg, &O.spoof4); break;
		case 'X': parse_prefix(optarg, &O.spoof6); break;
		case 'b': parse_prefix(optarg, &O.banned4); break;
		case 'B': parse_prefix(optarg, &O.banned6); break;
		case 'k': parse_kicked(optarg); break;
		case 'w': parse_mix(optarg); break;
		case 'r': O.rate = atof(optarg); break;
		case 't': O.duration = atof(optarg); break;
		case 'a': O.batch = (unsigned)atoi(optarg); break;
		case 'f': O.frames = (unsigned)atoi(optarg); break;
		case 'c': O.cpu = atoi(optarg); break;
		case 'e': O.seed = strtoull(optarg, NULL, 0); break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (!O.ifname || !dst4 || !src4 || !O.port_lo || O.rate <= 0 || O.duration <= 0)
		die("--ifname, --dst-mac, --dst4, --src4, --ports, --rate and --duration are required "
		    "(--help)");
	if (O.batch < 1 || O.batch > BATCH_MAX || O.frames < 16 || O.frames > (1u << 20))
		die("--batch is 1..%d, --frames 16..1048576", BATCH_MAX);
	if (O.mix[C_SPOOFED] + O.mix[C_STUN] && !O.spoof4.set && !O.spoof6.set)
		die("the spoofed and stun classes need --spoof4 or --spoof6");
	if (O.mix[C_BANNED] && !O.banned4.set && !O.banned6.set)
		die("the banned class needs --banned4 or --banned6");
	if (O.mix[C_KICKED] && !O.n_kicked)
		die("the kicked class needs --kicked");
	for (int i = 0; i < O.n_kicked; i++)
		if (O.kicked[i].family == 6 && !O.have_dst6)
			die("an IPv6 --kicked needs --dst6");
	if ((O.spoof6.set || O.banned6.set) && !O.have_dst6)
		die("IPv6 sources need --dst6");
	unsigned total = 0;
	for (int c = 0; c < C__N; c++)
		total += O.mix[c];
	if (!total)
		die("--mix has no weight");
}

/* ---- Frames --------------------------------------------------------------- */

struct frame {
	uint16_t len;
	uint8_t cls;
	uint8_t b[FRAME_MAX];
};

static uint16_t ip4_csum(const uint8_t *h, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)h[i] << 8 | h[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint16_t media_port(void)
{
	return (uint16_t)(O.port_lo + rnd_below((uint32_t)(O.port_hi - O.port_lo) + 1));
}

/* A UDP frame from src:sport to dst:dport with payload pl. */
static void udp_frame(struct frame *f, const struct net_addr *src, const struct net_addr *dst,
		      uint8_t family, uint16_t sport, uint16_t dport, const uint8_t *pl, size_t plen)
{
	struct net_udp_tx tx = {.family = family, .src = *src, .dst = *dst, .sport = sport, .dport = dport};
	memcpy(tx.dst_mac, O.dst_mac, 6);
	memcpy(tx.src_mac, O.src_mac, 6);
	size_t hl = net_udp_hdr_len(family);
	memcpy(f->b + hl, pl, plen);
	f->len = (uint16_t)net_write_udp(f->b, &tx, plen);
}

static void rtp_payload(uint8_t *pl, size_t *len)
{
	pl[0] = 0x80;
	pl[1] = 111;
	uint32_t seq = (uint32_t)rnd(), ts = (uint32_t)rnd(), ssrc = (uint32_t)rnd();
	pl[2] = (uint8_t)(seq >> 8);
	pl[3] = (uint8_t)seq;
	memcpy(pl + 4, &ts, 4);
	memcpy(pl + 8, &ssrc, 4);
	*len = 12 + 160;
	for (size_t i = 12; i < *len; i++)
		pl[i] = (uint8_t)rnd();
}

static void stun_payload(uint8_t *pl, size_t *len)
{
	memset(pl, 0, 20);
	pl[0] = 0x00;
	pl[1] = 0x01; /* binding request, no attributes */
	pl[4] = 0x21;
	pl[5] = 0x12;
	pl[6] = 0xA4;
	pl[7] = 0x42;
	for (int i = 8; i < 20; i++)
		pl[i] = (uint8_t)rnd();
	*len = 20;
}

/* One garbage frame, of sub-kind k. */
static void garbage_frame(struct frame *f, unsigned k)
{
	uint8_t pl[FRAME_MAX];
	size_t plen = 0;
	bool v6 = O.have_src6 && O.have_dst6 && (rnd() & 1);
	const struct net_addr *src = v6 ? &O.src6 : &O.src4, *dst = v6 ? &O.dst6 : &O.dst4;
	uint8_t family = v6 ? 6 : 4;
	uint16_t sport = (uint16_t)(20000 + rnd_below(40000)), dport = media_port();
	for (size_t i = 0; i < sizeof(pl); i++)
		pl[i] = (uint8_t)rnd();
	switch (k % 7) {
	case 0: /* no protocol mmdp serves (80..127) */
		pl[0] = (uint8_t)(80 + rnd_below(48));
		plen = 100 + rnd_below(100);
		break;
	case 1: /* STUN without the magic cookie */
		pl[0] = 0;
		pl[1] = 1;
		pl[2] = pl[3] = 0;
		pl[4] = 0;
		plen = 20;
		break;
	case 2: /* DTLS record longer than the datagram */
		pl[0] = 22;
		pl[1] = 0xfe;
		pl[11] = 0x40;
		pl[12] = 0;
		plen = 40;
		break;
	case 3: /* RTP shorter than its header */
		pl[0] = 0x80;
		pl[1] = 96;
		plen = 8;
		break;
	case 4: /* RTCP whose length runs past the datagram */
		pl[0] = 0x80;
		pl[1] = 200;
		pl[2] = 0;
		pl[3] = 50;
		plen = 28;
		break;
	case 5: /* TCP to a media port (written as UDP, then made TCP) */
		plen = 20;
		break;
	case 6: /* an IPv4 first fragment */
		family = 4;
		src = &O.src4;
		dst = &O.dst4;
		pl[0] = 0x80;
		plen = 172;
		break;
	}
	udp_frame(f, src, dst, family, sport, dport, pl, plen);
	size_t l3 = NET_ETH_HLEN;
	if (k % 7 == 5) {
		if (family == 4) {
			f->b[l3 + 9] = 6;
			f->b[l3 + 10] = f->b[l3 + 11] = 0;
			uint16_t c = ip4_csum(f->b + l3, 20);
			f->b[l3 + 10] = (uint8_t)(c >> 8);
			f->b[l3 + 11] = (uint8_t)c;
		} else {
			f->b[l3 + 6] = 6;
		}
		uint8_t *tcp = f->b + l3 + (family == 4 ? 20 : 40);
		/* ports stay; the rest is a SYN-looking header */
		tcp[12] = 0x50;
		tcp[13] = 0x02;
	} else if (k % 7 == 6) {
		f->b[l3 + 6] = 0x20; /* MF, offset 0 */
		f->b[l3 + 10] = f->b[l3 + 11] = 0;
		uint16_t c = ip4_csum(f->b + l3, 20);
		f->b[l3 + 10] = (uint8_t)(c >> 8);
		f->b[l3 + 11] = (uint8_t)c;
	}
}

/* A source for a spoofed class: v4 or v6 at random where both are given. */
static const struct prefix *pick(const struct prefix *p4, const struct prefix *p6)
{
	if (p4->set && p6->set)
		return (rnd() & 1) ? p4 : p6;
	return p4->set ? p4 : p6;
}

static void build_frame(struct frame *f, enum cls c, unsigned i)
{
	uint8_t pl[FRAME_MAX];
	size_t plen;
	struct net_addr src;
	const struct prefix *p;
	f->cls = (uint8_t)c;
	switch (c) {
	case C_GARBAGE:
		garbage_frame(f, i);
		return;
	case C_SPOOFED:
	case C_STUN:
		p = pick(&O.spoof4, &O.spoof6);
		prefix_random(p, &src);
		if (c == C_SPOOFED)
			rtp_payload(pl, &plen);
		else
			stun_payload(pl, &plen);
		udp_frame(f, &src, p->family == 4 ? &O.dst4 : &O.dst6, p->family,
			  (uint16_t)(1024 + rnd_below(60000)), media_port(), pl, plen);
		return;
	case C_BANNED:
		p = pick(&O.banned4, &O.banned6);
		prefix_random(p, &src);
		rtp_payload(pl, &plen);
		udp_frame(f, &src, p->family == 4 ? &O.dst4 : &O.dst6, p->family,
			  (uint16_t)(1024 + rnd_below(60000)), media_port(), pl, plen);
		return;
	case C_KICKED: {
		const struct kicked *k = &O.kicked[i % (unsigned)O.n_kicked];
		rtp_payload(pl, &plen);
		udp_frame(f, &k->raddr, k->family == 4 ? &O.dst4 : &O.dst6, k->family, k->rport,
			  k->lport, pl, plen);
		return;
	}
	case C__N:
		break;
	}
}

static struct frame *build_all(void)
{
	struct frame *fr = calloc(O.frames, sizeof(*fr));
	if (!fr)
		die("out of memory");
	unsigned total = 0;
	for (int c = 0; c < C__N; c++)
		total += O.mix[c];
	/* Exact shares, then shuffled. */
	unsigned n = 0;
	for (int c = 0; c < C__N; c++) {
		unsigned want = (unsigned)((uint64_t)O.frames * O.mix[c] / total);
		if (c == C__N - 1)
			want = O.frames - n;
		for (unsigned i = 0; i < want && n < O.frames; i++)
			build_frame(&fr[n++], (enum cls)c, i);
	}
	while (n < O.frames) { /* rounding: the first class with weight */
		int c = 0;
		while (!O.mix[c])
			c++;
		build_frame(&fr[n], (enum cls)c, n);
		n++;
	}
	for (unsigned i = O.frames - 1; i > 0; i--) {
		unsigned j = rnd_below(i + 1);
		struct frame t = fr[i];
		fr[i] = fr[j];
		fr[j] = t;
	}
	return fr;
}

/* ---- Sending ---------------------------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = {.tv_sec = (time_t)(t / 1000000000ull), .tv_nsec = (long)(t % 1000000000ull)};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR && !stop)
		;
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	rng = O.seed * 0x9E3779B97F4A7C15ull | 1;
	if (O.netns) {
		char path[256];
		snprintf(path, sizeof(path), "/run/netns/%s", O.netns);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET) != 0)
			die("cannot enter %s: %s", path, strerror(errno));
		close(fd);
	}
	if (O.cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(O.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) != 0)
			die("cannot run on CPU %d: %s", O.cpu, strerror(errno));
	}
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0); /* send only */
	if (fd < 0)
		die("packet socket: %s (needs root)", strerror(errno));
	unsigned ifindex = if_nametoindex(O.ifname);
	if (!ifindex)
		die("no interface %s", O.ifname);
	if (!O.have_src_mac) {
		struct ifreq ifr = {0};
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", O.ifname);
		if (ioctl(fd, SIOCGIFHWADDR, &ifr) != 0)
			die("MAC of %s: %s", O.ifname, strerror(errno));
		memcpy(O.src_mac, ifr.ifr_hwaddr.sa_data, 6);
	}
	int one = 1;
	(void)setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_ifindex = (int)ifindex, .sll_halen = 6};
	memcpy(sll.sll_addr, O.dst_mac, 6);

	struct frame *fr = build_all();
	struct mmsghdr msgs[BATCH_MAX];
	struct iovec iov[BATCH_MAX];
	uint64_t sent[C__N] = {0}, errors = 0, enobufs = 0;

	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	const uint64_t start = now_ns(), end = start + (uint64_t)(O.duration * 1e9);
	const double ns_per_pkt = 1e9 / O.rate;
	uint64_t total = 0;
	unsigned next = 0;
	while (!stop) {
		/* Where the schedule says we should be; send what is due, in
		 * batches. */
		uint64_t t = now_ns();
		if (t >= end)
			break;
		uint64_t due = (uint64_t)((double)(t - start) / ns_per_pkt) + 1;
		if (due <= total) {
			sleep_until(start + (uint64_t)((double)total * ns_per_pkt));
			continue;
		}
		unsigned n = (unsigned)(due - total < O.batch ? due - total : O.batch);
		for (unsigned i = 0; i < n; i++) {
			struct frame *f = &fr[(next + i) % O.frames];
			iov[i] = (struct iovec){.iov_base = f->b, .iov_len = f->len};
			msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_name = &sll, .msg_namelen = sizeof(sll),
							      .msg_iov = &iov[i], .msg_iovlen = 1}};
		}
		int r = sendmmsg(fd, msgs, n, 0);
		if (r < 0) {
			if (errno == ENOBUFS || errno == EAGAIN) {
				enobufs++;
				r = 0;
			} else if (errno != EINTR) {
				errors++;
				r = 0;
			} else {
				continue;
			}
		}
		for (int i = 0; i < r; i++)
			sent[fr[(next + (unsigned)i) % O.frames].cls]++;
		/* Frames the kernel refused are skipped, not retried: the
		 * schedule is a rate, not a count. */
		next = (next + n) % O.frames;
		total += n;
	}
	double secs = (double)(now_ns() - start) / 1e9;
	uint64_t all = 0;
	for (int c = 0; c < C__N; c++)
		all += sent[c];
	printf("{\"sent\":%llu,\"seconds\":%.3f,\"pps\":%.0f,\"scheduled\":%llu,\"errors\":%llu,"
	       "\"enobufs\":%llu,\"classes\":{",
	       (unsigned long long)all, secs, secs > 0 ? (double)all / secs : 0.0,
	       (unsigned long long)total, (unsigned long long)errors, (unsigned long long)enobufs);
	for (int c = 0; c < C__N; c++)
		printf("%s\"%s\":%llu", c ? "," : "", cls_names[c], (unsigned long long)sent[c]);
	printf("}}\n");
	fflush(stdout);
	free(fr);
	close(fd);
	return errors ? 1 : 0;
}
