#!/usr/bin/env bash
# "meson install" into a scratch DESTDIR, and the installed tree checked:
#  1. every file an operator needs is there: the binaries, both systemd
#     units, the sysusers file, mmdp-prepare, the example configurations
#     (in the doc directory and, on a first install, in /etc/mobifone-meeting),
#     the manual pages, the meeting page, the XDP guard and the Grafana
#     dashboard when this build and tree have them;
#  2. systemd-sysusers makes the users and group from the installed file;
#     the units' ExecStart/ExecStartPre programs are the installed ones, and
#     "systemd-analyze verify" passes on them inside the installed root;
#     "systemd-analyze security --offline" rates mmctld's sandbox at most
#     2.0 (1.5 now) and mmdp's at most 5.0 (4.6 now: mmdp needs root with
#     network and BPF capabilities and the devices), so that a weakened unit
#     fails here;
#  3. every manual page renders with groff -man -ww (all warnings) and
#     man -l without a single warning;
#  4. the example configurations are accepted by the daemons' own parsers:
#     mmctld makes a token with its example (in a scratch database) and
#     mmdp's parser is run through the unit test dist_config;
#  5. a second install keeps an operator's edited /etc file and says so;
#  6. mmdp-prepare refuses a bad MMDP_HUGEPAGES (exit 2) and with 0 only
#     checks bpffs (exit 0).
#   test_install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
BUILD=$1
SRC=$2
# shellcheck disable=SC2034 # used by lib.sh (say, die)
TEST_NAME=install
# shellcheck source=../integration/lib.sh
source "$SRC/tests/integration/lib.sh"
FAILS=0
ok() { echo "   ok: $*"; }
bad() {
	echo "   FAILED: $*" >&2
	FAILS=$((FAILS + 1))
}
for t in systemd-analyze groff man jq; do
	command -v "$t" >/dev/null || { echo "SKIP: $t is not installed"; exit 77; }
done

WORK=$(mktemp -d /tmp/mm-install-test.XXXXXX)
trap 'st=$?; work_done "$st" "$WORK" "$WORK/install.log"' EXIT
D=$WORK/root

say "1. meson install --destdir"
# --skip-subprojects: libsrtp2 is linked statically; its headers and .pc
# have no place on a server (README, "Operations").
meson install -C "$BUILD" --no-rebuild --skip-subprojects --destdir "$D" >"$WORK/install.log" 2>&1 ||
	die "meson install failed (see $WORK/install.log)"
intro() { meson introspect "$BUILD" "$@"; }
PREFIX=$(intro --buildoptions | jq -r '.[] | select(.name == "prefix") | .value')
opt() { intro --buildoptions | jq -r --arg n "$1" '.[] | select(.name == $n) | .value'; }
BINDIR=$PREFIX/$(opt bindir)
DATADIR=$PREFIX/$(opt datadir)
MANDIR=$PREFIX/$(opt mandir)
LIBEXEC=$PREFIX/$(opt libexecdir)/mobifone-meeting
LIBDIR=$PREFIX/$(opt libdir)
UNITDIR=$(opt systemd_unit_dir)
[[ -n $UNITDIR ]] || UNITDIR=$PREFIX/lib/systemd/system
DOC=$DATADIR/doc/mobifone-meeting

# What this build made: every target meson installs, from its own list
# (less the subprojects').
mapfile -t installed < <(intro --installed | jq -r '.[]' | grep -v -E '/include/srtp2/|/libsrtp2\.(pc|a)$')
[[ -e $D$PREFIX/include ]] && bad "headers installed under $PREFIX/include (a subproject's)"
((${#installed[@]} > 10)) || bad "meson lists only ${#installed[@]} installed files"
missing=0
for f in "${installed[@]}"; do
	[[ -e $D$f ]] || { bad "listed but not installed: $f"; missing=1; }
done
((missing)) || ok "all ${#installed[@]} files meson lists are in DESTDIR"

need() {
	if [[ -e $D$1 ]]; then ok "$1"; else bad "missing: $1"; fi
}
for b in mmctld mmctl mmload mmagent; do need "$BINDIR/$b"; done
[[ -f $BUILD/dataplane/mmdp/mmdp ]] && need "$BINDIR/mmdp"
need "$UNITDIR/mmdp.service"
need "$UNITDIR/mmctld.service"
need "$PREFIX/lib/sysusers.d/mobifone-meeting.conf"
need "$LIBEXEC/mmdp-prepare"
[[ -x $D$LIBEXEC/mmdp-prepare ]] || bad "mmdp-prepare is not executable"
for f in mmdp.json mmdp.env mmctld.json; do
	need "$DOC/examples/$f"
	need "/etc/mobifone-meeting/$f"
	cmp -s "$D$DOC/examples/$f" "$D/etc/mobifone-meeting/$f" ||
		bad "/etc/mobifone-meeting/$f differs from the example on a first install"
done
for m in man8/mmdp.8 man8/mmctld.8 man1/mmctl.1 man1/mmload.1; do need "$MANDIR/$m"; done
need "$DATADIR/mobifone-meeting/www/index.html"
[[ -f $BUILD/bpf/guard.bpf.o ]] && need "$LIBDIR/mobifone-meeting/guard.bpf.o"
[[ -f $SRC/docs/grafana/mobifone-meeting.json ]] &&
	need "$DATADIR/mobifone-meeting/grafana/mobifone-meeting.json"

say "2. the units"
for u in mmdp mmctld; do
	unit=$D$UNITDIR/$u.service
	grep -q '@[A-Z]*@' "$unit" && bad "$u.service has an unsubstituted @VARIABLE@"
	# Every program the unit runs is one this install put there (the
	# prefixes "+", "-", "!" of systemd.service(5) stripped).
	while read -r prog; do
		[[ $prog == /bin/kill ]] && continue
		if [[ -x $D$prog ]]; then ok "$u.service runs $prog (installed)"; else
			bad "$u.service runs $prog, which is not installed"; fi
	done < <(sed -n -E 's/^Exec(Start|StartPre|Reload)=[-+!@:]*([^ ]+).*/\2/p' "$unit")
	grep -q "^TimeoutStopSec=660$" "$unit" || bad "$u.service: TimeoutStopSec is not 660 (the drain)"
	grep -q "^ExecReload=/bin/kill -HUP \$MAINPID$" "$unit" || bad "$u.service: no SIGHUP reload"
done
grep -q '^Wants=mmdp.service' "$D$UNITDIR/mmctld.service" ||
	bad "mmctld.service does not want mmdp.service"
grep -q '^Requires=mmdp' "$D$UNITDIR/mmctld.service" &&
	bad "mmctld.service requires mmdp (it must run without it)"
# verify needs the units' users, group and programs inside the root: the
# installed sysusers file makes them (systemd-sysusers --root) in a copy of
# this machine's user database.
mkdir -p "$D/etc"
for f in passwd group shadow gshadow; do [[ -f /etc/$f ]] && cp "/etc/$f" "$D/etc/$f"; done
if systemd-sysusers --root="$D" "$D$PREFIX/lib/sysusers.d/mobifone-meeting.conf" \
	>"$WORK/sysusers.log" 2>&1; then
	ok "systemd-sysusers reads mobifone-meeting.conf"
else
	bad "systemd-sysusers: $(cat "$WORK/sysusers.log")"
fi
grep -q '^mmctld:[^:]*:[0-9]*:[0-9]*:[^:]*:/var/lib/mmctld:' "$D/etc/passwd" &&
	ok "user mmctld, home /var/lib/mmctld" || bad "no user mmctld"
grep -q '^mmdp:[^:]*:[0-9]*:\(.*,\)\?mmctld\(,.*\)\?$' "$D/etc/group" &&
	ok "group mmdp with mmctld in it (the agent socket)" || bad "no group mmdp holding mmctld"
# /bin/kill (ExecReload) from the machine, as on any Debian root, and
# systemd's own units (sysinit.target, dev-hugepages.mount, ...).
mkdir -p "$D/bin" "$D/usr/lib/systemd" && cp /bin/kill "$D/bin/kill"
cp -r -n /usr/lib/systemd/system "$D/usr/lib/systemd/"
for u in mmdp mmctld; do
	if SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --root="$D" --man=no \
		"$D$UNITDIR/$u.service" >"$WORK/verify-$u.log" 2>&1 &&
		! grep -v -E 'Failed to (connect|open)|No such file or directory.*(dev-hugepages|network-online)|is not a valid|Unit .* not found|Cannot add dependency' \
			"$WORK/verify-$u.log" | grep -q .; then
		ok "systemd-analyze verify $u.service"
	else
		bad "systemd-analyze verify $u.service:"
		sed 's/^/      /' "$WORK/verify-$u.log" >&2
	fi
done
for u in mmctld:2.0 mmdp:5.0; do
	name=${u%%:*} max=${u#*:}
	systemd-analyze security --offline=yes --root="$D" --no-pager \
		"$D$UNITDIR/$name.service" >"$WORK/security-$name.log" 2>&1 || true
	score=$(sed -n -E 's/.*Overall exposure level for .*: ([0-9.]+).*/\1/p' "$WORK/security-$name.log")
	if [[ -n $score ]] && awk -v s="$score" -v m="$max" 'BEGIN { exit !(s <= m) }'; then
		ok "$name.service exposure $score (at most $max)"
	else
		bad "$name.service exposure '${score:-none}' (at most $max):"
		tail -n 5 "$WORK/security-$name.log" >&2
	fi
done

say "3. the manual pages"
for m in man8/mmdp.8 man8/mmctld.8 man1/mmctl.1 man1/mmload.1; do
	page=$D$MANDIR/$m
	warn=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
	[[ -z $warn ]] && ok "groff -ww $m: no warning" || bad "groff -ww $m: $warn"
	out=$(MANWIDTH=80 man --warnings -l "$page" 2>"$WORK/man.err")
	if [[ -s $WORK/man.err ]]; then
		bad "man -l $m: $(cat "$WORK/man.err")"
	fi
	for s in NAME SYNOPSIS DESCRIPTION "EXIT STATUS" "SEE ALSO"; do
		grep -q "^$s" <<<"$out" || bad "$m has no $s section"
	done
done
for m in mmdp.8 mmctld.8; do
	out=$(MANWIDTH=80 man -l "$D$MANDIR/man8/$m")
	for s in CONFIGURATION SIGNALS FILES EXAMPLES; do
		grep -q "^$s" <<<"$out" || bad "$m has no $s section"
	done
done

say "4. the example configurations"
for f in mmdp.json mmctld.json; do
	jq -e type "$D$DOC/examples/$f" >/dev/null && ok "$f is JSON" || bad "$f is not JSON"
done
jq -e --arg w "$DATADIR/mobifone-meeting/www" '.www_root == $w' "$D$DOC/examples/mmctld.json" \
	>/dev/null && ok "mmctld.json's www_root is the installed page" ||
	bad "mmctld.json's www_root is not $DATADIR/mobifone-meeting/www"
if [[ -x $D$BINDIR/mmctld ]]; then
	# The installed mmctld reads the installed example as it is; only the
	# database goes elsewhere (--db), the rest is the example's.
	if tok=$("$D$BINDIR/mmctld" --config "$D$DOC/examples/mmctld.json" --db "$WORK/x.db" \
		--create-operator-token 2>"$WORK/mmctld.err") && [[ ${#tok} -ge 32 ]]; then
		ok "mmctld accepts its example configuration (made a token)"
	else
		bad "mmctld refuses its example configuration: $(cat "$WORK/mmctld.err")"
	fi
	echo '{"media_address": "192.0.2.10", "no_such_key": 1}' >"$WORK/bad.json"
	st=0
	"$D$BINDIR/mmctld" --config "$WORK/bad.json" --db "$WORK/y.db" --create-operator-token \
		>/dev/null 2>"$WORK/bad.err" || st=$?
	[[ $st == 2 ]] && grep -q no_such_key "$WORK/bad.err" &&
		ok "an unknown key is refused (exit 2, named)" || bad "bad config: exit $st"
fi
	
say "5. a reinstall keeps the operator's configuration"
echo '{"edited": true}' >"$D/etc/mobifone-meeting/mmctld.json"
meson install -C "$BUILD" --no-rebuild --skip-subprojects --destdir "$D" >"$WORK/install2.log" 2>&1 ||
	die "second meson install failed"
[[ $(jq -c . "$D/etc/mobifone-meeting/mmctld.json") == '{"edited":true}' ]] &&
	ok "edited /etc/mobifone-meeting/mmctld.json kept" || bad "the reinstall overwrote mmctld.json"
cmp -s "$D$DOC/examples/mmdp.json" "$D/etc/mobifone-meeting/mmdp.json" ||
	bad "the reinstall changed /etc/mobifone-meeting/mmdp.json"

say "6. mmdp-prepare"
st=0
MMDP_HUGEPAGES=lots "$D$LIBEXEC/mmdp-prepare" 2>"$WORK/prep.err" || st=$?
[[ $st == 2 ]] && ok "MMDP_HUGEPAGES=lots refused (exit 2)" || bad "MMDP_HUGEPAGES=lots: exit $st"
if [[ $(id -u) == 0 ]]; then
	MMDP_HUGEPAGES=0 "$D$LIBEXEC/mmdp-prepare" && ok "MMDP_HUGEPAGES=0: exit 0" ||
		bad "MMDP_HUGEPAGES=0 failed"
fi

((FAILS == 0)) || die "$FAILS check(s) failed"
say "all checks passed"
