/* The example configurations that "meson install" ships (dist/config) are
 * read by the daemons' own parsers: mmdp's mm_config_load and mmctld's
 * ctl_config_load + ctl_config_check. An example naming a key the daemon
 * does not know, or a value out of range, fails here before an operator
 * copies it. The paths come from meson (MM_DIST_MMDP_JSON: the source
 * file; MM_DIST_MMCTLD_JSON: configured in the build directory). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "control/config.h"
#include "dataplane/core/config.h"

static const char *path_of(const char *var)
{
	const char *p = getenv(var);
	cr_assert(p && p[0], "%s is not set (run through meson test)", var);
	return p;
}

Test(dist_config, mmdp_example_parses)
{
	static struct mm_config c;
	char err[256] = "";
	mm_config_defaults(&c);
	int rc = mm_config_load(path_of("MM_DIST_MMDP_JSON"), &c, err, sizeof(err));
	cr_assert_eq(rc, 0, "mmdp refuses dist/config/mmdp.json: %s", err);
	/* What the example says, read back: one port, two addresses, four
	 * workers, the default agent socket. */
	cr_assert_eq(c.dp.n_ports, 1);
	cr_assert_eq(c.dp.ports[0].n_addrs, 2);
	cr_assert_eq(c.dp.ports[0].worker_mask, 0xfu);
	cr_assert_str_eq(c.agent_socket, "/run/mmdp/agent.sock");
}

Test(dist_config, mmctld_example_parses_and_checks)
{
	static struct ctl_config c;
	char err[512] = "";
	int rc = ctl_config_load(path_of("MM_DIST_MMCTLD_JSON"), &c, err, sizeof(err));
	cr_assert_eq(rc, 0, "mmctld refuses the example mmctld.json: %s", err);
	rc = ctl_config_check(&c, err, sizeof(err));
	cr_assert_eq(rc, 0, "mmctld's check refuses the example mmctld.json: %s", err);
	/* The paths the systemd unit relies on. */
	cr_assert_str_eq(c.db, "/var/lib/mmctld/mmctld.db");
	cr_assert_str_eq(c.mmdp_socket, "/run/mmdp/agent.sock");
	cr_assert_not(c.test_clock, "the example must not enable test_clock");
}

/* The parsers refuse what the examples must not contain: a check that the
 * two tests above can fail. */
Test(dist_config, unknown_key_refused)
{
	char tmpl[] = "/tmp/mm-dist-config-XXXXXX";
	int fd = mkstemp(tmpl);
	cr_assert_geq(fd, 0);
	const char *bad = "{\"media_address\": \"192.0.2.10\", \"log_levle\": \"info\"}";
	cr_assert_eq(write(fd, bad, strlen(bad)), (ssize_t)strlen(bad));
	close(fd);
	static struct ctl_config c;
	char err[512] = "";
	cr_assert_neq(ctl_config_load(tmpl, &c, err, sizeof(err)), 0);
	cr_assert(strstr(err, "log_levle"), "error does not name the key: %s", err);
	static struct mm_config m;
	mm_config_defaults(&m);
	cr_assert_neq(mm_config_load(tmpl, &m, err, sizeof(err)), 0);
	cr_assert(strstr(err, "media_address") || strstr(err, "log_levle"), "%s", err);
	unlink(tmpl);
}
