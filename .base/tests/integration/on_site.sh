#!/usr/bin/env bash
# Run an integration test on a fresh test site: tools/mmsite builds it,
# runs the command with the MMSITE_* variables exported, and tears the site
# down however the command ends. Exits 77 (meson's "skipped") where no site
# can be built.
#   on_site.sh MMSITE PREFIX CMD [ARGS...]
set -euo pipefail
[[ $# -ge 3 ]] || { echo "usage: $0 MMSITE PREFIX CMD [ARGS...]" >&2; exit 2; }
mmsite=$1
prefix=$2
shift 2
if [[ $(id -u) != 0 ]]; then
	echo "SKIP: the test site needs root (network namespaces, hugepages, AF_XDP)"
	exit 77
fi
for t in ip ethtool nsenter; do
	command -v "$t" >/dev/null || { echo "SKIP: $t is not installed"; exit 77; }
done
exec "$mmsite" run --prefix "$prefix" --hosts 3 --queues "${MMSITE_QUEUES:-1}" -- "$@"
