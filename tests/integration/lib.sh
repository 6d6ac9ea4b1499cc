# What the shell integration tests share: source it after setting TEST_NAME
# (the prefix of every line) and FAILS=0.
#   say MSG...             a line on stdout
#   die MSG...             a line on stderr, exit 1
#   stop_pid PID [TENTHS]  SIGTERM, up to TENTHS tenths of a second (100),
#                          then SIGKILL (said); reaps it
#   check REPORT WHAT EXPR the jq expression on the JSON report must be true;
#                          counts a failure in FAILS otherwise
# shellcheck shell=bash

say() { echo "$TEST_NAME: $*"; }
die() { echo "$TEST_NAME: $*" >&2; exit 1; }

stop_pid() {
	local pid=$1 tenths=${2:-100} i
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < tenths; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "$TEST_NAME: pid $pid did not stop on SIGTERM, killing it" >&2
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

check() {
	local rep=$1 what=$2 expr=$3
	if [[ $(jq -r "$expr" "$rep") == true ]]; then
		echo "   ok: $what"
	else
		echo "   FAILED: $what ($expr)" >&2
		FAILS=$((FAILS + 1))
	fi
}
