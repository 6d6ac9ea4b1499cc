/* mmctl: global options, the usage text, dispatch to the command groups. */
#include "control/mmctl/mmctl.h"

#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
"usage: mmctl [GLOBAL OPTIONS] COMMAND [ARGS]   (the client of mmctld's REST API)\n"
"\n"
"Global options (anywhere on the line; \"--\" ends all options):\n"
"  --url URL            mmctld's base URL (env MMCTL_URL, else " MMCTL_DEFAULT_URL ")\n"
"  --token TOKEN        bearer token (env MMCTL_TOKEN)\n"
"  --token-file FILE    read the bearer token from the first line of FILE\n"
"  --json               print the server's JSON reply as one document ({} for 204);\n"
"                       events: one line of JSON (the event's data) per event\n"
"  --timeout SECONDS    per request, 1..3600 (default 30); for events: connecting,\n"
"                       and the longest silence of the stream (default: no limit)\n"
"  -h, --help           this text\n"
"\n"
"Rooms:\n"
"  rooms list\n"
"  rooms create NAME [--capacity 1..100] [--kind adhoc|fixed] [--tenant T]\n"
"       [--last-n 0..100] [--video-last-n 0..100]\n"
"  rooms show ROOM                  meeting info and participants\n"
"  rooms set ROOM [--last-n 0..100] [--video-last-n 0..100]\n"
"                                   audio of the N loudest, video of the N latest\n"
"                                   speakers per receiver (0: everyone)\n"
"  rooms delete ROOM\n"
"  rooms end ROOM                   end the meeting (a fixed room stays)\n"
"Participants:\n"
"  join ROOM --name NAME --remote ADDR:PORT [--role host|moderator|attendee]\n"
"       [--audio-ssrc N] [--camera-ssrc N] [--screen-ssrc N]\n"
"  join --invite INVITE --name NAME --remote ADDR:PORT [--*-ssrc N]  (no token)\n"
"  join --join-token TOKEN --room ROOM --remote ADDR:PORT [--name NAME] [--*-ssrc N]\n"
"                                   (no token; the name may come from the join token)\n"
"  join ROOM ... --account A        the app's backend names the tenant's account\n"
"       ADDR:PORT is IPv4 1.2.3.4:5000 or IPv6 [2001:db8::1]:5000\n"
"  leave ROOM PID\n"
"  role ROOM PID host|moderator|attendee\n"
"  streams ROOM PID [--audio-ssrc N] [--camera-ssrc N] [--screen-ssrc N] | --clear\n"
"  resolution ROOM PID low|medium|high     the most PID receives (simulcast layer)\n"
"  subscribe ROOM PID (--publisher P --kind camera|screen --max-height 90..4320)...\n"
"            | --clear            one triple per publisher and kind\n"
"Moderation:\n"
"  mute ROOM PID [--audio] [--video]        (neither: audio)\n"
"  unmute ROOM PID [--audio] [--video]      (someone else: asks them to unmute)\n"
"  mute-all ROOM [--except P1,P2] [--include-moderators] [--audio] [--video]\n"
"  kick ROOM PID [--reason TEXT] [--block-seconds 0..86400]\n"
"  hand ROOM PID up|down\n"
"Chat and invites:\n"
"  chat send ROOM TEXT [--to PID] [--from PID]\n"
"  chat list ROOM [--since ID] [--limit 1..1000]\n"
"  invite ROOM [--ttl 60..2592000] [--role attendee|moderator]\n"
"  join-token --tenant T --account A --secret S [--room R] [--ttl 300] [--name N]\n"
"       [--role attendee|moderator|host]   print a join token signed with the\n"
"                                   tenant's join secret (local, nothing sent)\n"
"Events:\n"
"  events ROOM [--since ID] [--count N]     follow the room's events: \"seq type\n"
"                                   summary\" per event; ends after N events,\n"
"                                   at room.ended, or when the server closes\n"
"Operator:\n"
"  tokens create SCOPE [--ttl SECONDS]      SCOPE: operator, tenant:T,\n"
"                                           participant:ROOM/PID\n"
"  tokens revoke ID\n"
"  blocks list\n"
"  blocks delete ID\n"
"  bans list\n"
"  bans add PREFIX [--ttl 1..2592000] [--reason TEXT]\n"
"                                           PREFIX: 203.0.113.0/24, 2001:db8::/32\n"
"  bans delete ID\n"
"  guard                                    the XDP guard's verdicts and drops\n"
"  clock [--advance S | --now UNIX]         mmctld's clock; moving it needs test_clock\n"
"Webhooks (operator or tenant):\n"
"  webhooks add URL [--events TYPE,...] [--tenant T]   TYPE: meeting.started,\n"
"                                   meeting.ended, participant.joined,\n"
"                                   participant.left, contract.expiring, * (default)\n"
"  webhooks list\n"
"  webhooks show ID\n"
"  webhooks delete ID\n"
"  webhooks deliveries ID [--limit 1..500]  recent deliveries and their attempts\n"
"Reports (operator: all tenants; a tenant token: its own):\n"
"  reports online [--tenant T]              live meetings, participants, bitrate\n"
"  reports meetings [--tenant T] [--room R] [--account A] [--from WHEN] [--to WHEN]\n"
"       [--limit 1..1000] [--cursor C]      history, newest first, a page at a time\n"
"  reports meeting MEETING                  each participant: times, packets, bytes,\n"
"                                           loss, jitter, bitrate\n"
"  reports rooms [--tenant T] [--from WHEN] [--to WHEN]   per room: meetings,\n"
"                                           minutes, joins, peak, traffic\n"
"       each with --csv: the server's CSV; WHEN: unix seconds or YYYY-MM-DD[THH:MM]\n"
"       (UTC)\n"
"Tenants, plans and contracts:\n"
"  tenants register ID --name NAME --admin-name NAME --admin-email EMAIL\n"
"       [--plan trial|subscription] [--rooms N] [--term 1|6|12] [--trial-until UNIX]\n"
"                                   prints the tenant's token and join secret\n"
"  tenants list | show ID | set ID --name NAME | delete ID\n"
"  tenants events ID [--since SEQ] [--type TYPE]   contract.expiring, ...\n"
"  units list T | add T NAME | edit T UNIT --name NAME | delete T UNIT\n"
"  accounts list T [--unit U] | delete T ACCOUNT\n"
"  accounts add T --name NAME --email EMAIL [--role admin|user] [--unit U]\n"
"  accounts edit T ACCOUNT [--name N] [--email E] [--role R] [--unit U | --no-unit]\n"
"  access set ROOM [--units U1,U2] [--accounts A1,A2]   who may join a fixed room\n"
"  access show ROOM\n"
"  contract show T | renew T [--term 1|6|12] | change T [--rooms N] [--term 1|6|12]\n"
"  contract cancel T now|term_end\n"
"  quote --rooms N --term 1|6|12           the price of a subscription (VND)\n"
"\n"
"Exit codes:\n"
"  0 ok                      5 conflict (409, e.g. room_full)\n"
"  1 mmctl itself failed     6 other request errors (400, 413)\n"
"  2 usage error, not sent   7 server-side failure (5xx, mmdp_unavailable)\n"
"  3 unauthorized (401/403)  8 cannot reach the server (refused, timeout)\n"
"  4 not found (404/405)\n"
"Errors go to stderr as \"mmctl: <code>: <message>\".\n";

struct command {
	const char *name;
	int (*run)(struct mmctl *m, int argc, char **argv);
};

static const struct command commands[] = {
	{ "rooms", cmd_rooms }, { "join", cmd_join }, { "leave", cmd_leave },
	{ "role", cmd_role }, { "streams", cmd_streams }, { "resolution", cmd_resolution },
	{ "subscribe", cmd_subscribe },
	{ "mute", cmd_mute }, { "unmute", cmd_unmute }, { "mute-all", cmd_mute_all },
	{ "kick", cmd_kick }, { "hand", cmd_hand }, { "chat", cmd_chat },
	{ "invite", cmd_invite }, { "events", cmd_events }, { "tokens", cmd_tokens },
	{ "blocks", cmd_blocks }, { "bans", cmd_bans },
	{ "guard", cmd_guard }, { "clock", cmd_clock },
	{ "webhooks", cmd_webhooks },
	{ "reports", cmd_reports },
	{ "join-token", cmd_join_token },
	{ "tenants", cmd_tenants }, { "units", cmd_units }, { "accounts", cmd_accounts },
	{ "access", cmd_access }, { "contract", cmd_contract }, { "quote", cmd_quote },
};

static char *read_token_file(const char *path)
{
	char line[4096];
	FILE *f = fopen(path, "r");
	if (!f) {
		usage_error("--token-file %s: cannot open it", path);
		return NULL;
	}
	char *ok = fgets(line, sizeof(line), f);
	fclose(f);
	if (ok)
		line[strcspn(line, "\r\n")] = '\0';
	if (!ok || !line[0]) {
		usage_error("--token-file %s: no token on its first line", path);
		return NULL;
	}
	return strdup(line);
}

static int set_url(struct mmctl *m, const char *url)
{
	if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
		return usage_error("--url %s: must start with http:// or https://", url);
	free(m->url);
	m->url = strdup(url);
	if (!m->url)
		return MMCTL_EINTERNAL;
	size_t n = strlen(m->url);
	while (n && m->url[n - 1] == '/')
		m->url[--n] = '\0';
	if (n >= 3 && !strcmp(m->url + n - 3, "/v1"))
		m->url[n - 3] = '\0';   /* docs/api.md names the base with /v1 */
	return 0;
}

/* Takes the global options out of argv (in place); *argc is updated. */
static int global_options(struct mmctl *m, int *argc, char **argv, bool *help)
{
	const char *url = getenv("MMCTL_URL"), *token = getenv("MMCTL_TOKEN");
	const char *tfile = NULL, *tok_opt = NULL, *tout = NULL;
	int out = 0, rc;
	bool rest = false;

	for (int i = 0; i < *argc; i++) {
		const char *a = argv[i], *eq = strchr(a, '=');
		size_t n = eq ? (size_t)(eq - a) : strlen(a);
		const char **dst = NULL;
		if (rest || !strcmp(a, "--")) {
			rest = true;
			argv[out++] = argv[i];
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			*help = true;
			continue;
		}
		if (!strcmp(a, "--json")) {
			m->json = true;
			continue;
		}
		if (n == 5 && !strncmp(a, "--url", n))
			dst = &url;
		else if (n == 7 && !strncmp(a, "--token", n))
			dst = &tok_opt;
		else if (n == 12 && !strncmp(a, "--token-file", n))
			dst = &tfile;
		else if (n == 9 && !strncmp(a, "--timeout", n))
			dst = &tout;
		if (!dst) {
			argv[out++] = argv[i];
			continue;
		}
		const char *v = eq ? eq + 1 : (i + 1 < *argc ? argv[++i] : NULL);
		if (!v)
			return usage_error("%.*s needs a value", (int)n, a);
		*dst = v;
	}
	*argc = out;
	if (tout) {
		long long t;
		if ((rc = arg_int("--timeout", tout, 1, 3600, &t)))
			return rc;
		m->timeout = (long)t;
		m->timeout_set = true;
	}
	if (tok_opt && tfile)
		return usage_error("--token and --token-file exclude each other");
	if ((rc = set_url(m, url && *url ? url : MMCTL_DEFAULT_URL)))
		return rc;
	if (tfile) {
		if (!(m->token = read_token_file(tfile)))
			return MMCTL_EUSAGE;
	} else if ((tok_opt && *tok_opt) || (!tok_opt && token && *token)) {
		if (!(m->token = strdup(tok_opt ? tok_opt : token)))
			return MMCTL_EINTERNAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct mmctl m = { .timeout = MMCTL_DEFAULT_TIMEOUT };
	bool help = false;
	int n = argc - 1, rc;

	rc = global_options(&m, &n, argv + 1, &help);
	if (!rc && help) {
		fputs(usage_text, stdout);
		goto out;
	}
	if (!rc && n == 0)
		rc = usage_error("no command");
	if (rc)
		goto out;
	size_t i;
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, argv[1]))
			break;
	if (i == sizeof(commands) / sizeof(commands[0])) {
		rc = usage_error("unknown command \"%s\"", argv[1]);
		goto out;
	}
	if (http_global_init()) {
		fprintf(stderr, "mmctl: internal: libcurl did not initialise\n");
		rc = MMCTL_EINTERNAL;
		goto out;
	}
	rc = commands[i].run(&m, n - 1, argv + 2);
	http_global_cleanup();
out:
	free(m.url);
	free(m.token);
	if (fflush(stdout) && !rc)
		rc = MMCTL_EINTERNAL;
	return rc;
}
