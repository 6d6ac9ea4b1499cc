# What the shell integration tests share: source it after setting TEST_NAME
# (the prefix of every line) and FAILS=0.
#   say MSG...             a line on stdout
#   die MSG...             a line on stderr, exit 1
#   stop_pid PID [TENTHS]  SIGINT (mmdp and mmctld: stop now; SIGTERM would
#                          drain), up to TENTHS tenths of a second (100),
#                          then SIGKILL (said); reaps it
#   check REPORT WHAT EXPR the jq expression on the JSON report must be true;
#                          counts a failure in FAILS otherwise
#   work_done ST DIR [LOG] at exit: keep DIR when ST != 0 or KEEP_WORK=1
#                          (showing LOG's tail when ST != 0), else remove it
# shellcheck shell=bash

say() { echo "$TEST_NAME: $*"; }
die() { echo "$TEST_NAME: $*" >&2; exit 1; }

stop_pid() {
	local pid=$1 tenths=${2:-100} i
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
	kill -INT "$pid" 2>/dev/null || true
	for ((i = 0; i < tenths; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "$TEST_NAME: pid $pid did not stop on SIGINT, killing it" >&2
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

work_done() {
	local st=$1 dir=$2 log=${3:-}
	if [[ $st != 0 || ${KEEP_WORK:-0} == 1 ]]; then
		[[ $st != 0 && -n $log && -f $log ]] &&
			{ echo "---- end of $(basename "$log") ----" >&2; tail -n 20 "$log" >&2; }
		echo "$TEST_NAME: reports and logs kept in $dir" >&2
	else
		rm -rf "$dir"
	fi
}
