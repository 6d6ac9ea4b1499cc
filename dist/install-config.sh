#!/bin/sh
# meson install script: puts the example configurations into the
# configuration directory ($DESTDIR/etc/mobifone-meeting) only where no file
# of that name is there yet, so a reinstall or an upgrade never overwrites
# an operator's configuration (the examples stay in the doc directory).
# Installing into the running system (no DESTDIR), as root, also creates
# the system users (systemd-sysusers) and makes systemd read the new units.
#   install-config.sh CONFDIR SYSUSERS_FILE EXAMPLE_DIR NAME...
# (absolute installed paths; the examples are read from where meson has
# just installed them)
set -eu
confdir=$1
sysusers=$2
examples=$3
shift 3
dest="${DESTDIR:-}$confdir"
mkdir -p "$dest"
for name in "$@"; do
	f="${DESTDIR:-}$examples/$name"
	if [ -e "$dest/$name" ]; then
		echo "install-config: $dest/$name exists, kept (the example is $f)"
	else
		# 0644: mmctld reads its file as the mmctld user; none holds a secret.
		install -m 0644 "$f" "$dest/$name"
		echo "install-config: installed $dest/$name"
	fi
done
if [ -z "${DESTDIR:-}" ] && [ "$(id -u)" = 0 ]; then
	if command -v systemd-sysusers >/dev/null; then
		systemd-sysusers "$sysusers"
	fi
	if [ -d /run/systemd/system ]; then
		systemctl daemon-reload
	fi
fi
