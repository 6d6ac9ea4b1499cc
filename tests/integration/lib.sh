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

# For the fault tests (test_faults.sh), shared with any test that lines
# events up with mmload --timeline (tools/load, one line per 100 ms bin):
#   wall_now               the wall clock, seconds with nanoseconds (the
#                          timeline's unix_s column is on the same clock)
#   timeline_fault TL T    of timeline TL's measured bins and a fault that
#                          began at wall time T, print "BEFORE WHOLE LOST
#                          EXPECTED": copies lost in bins that ended 0.1 s
#                          or more before T (should be 0), the start of the
#                          first bin from which no bin lost anything (T when
#                          nothing was lost; "never" when the last bin did),
#                          the copies lost in all and the copies expected
wall_now() { date +%s.%N; }

timeline_fault() {
	awk -v tf="$2" '
	/^#/ || $3 != 1 { next }
	{ n++; u[n] = $2; l[n] = $7; expect += $5; lost += $7
	  if ($2 + 0.1 <= tf - 0.1) before += $7 }
	END {
		i = n
		while (i >= 1 && l[i] == 0) i--
		if (lost == 0) whole = tf
		else if (i == n) whole = "never"
		else whole = u[i + 1]
		printf "%d %s %d %d\n", before, whole, lost, expect
	}' "$1"
}

# Stop a daemon now (SIGINT: SIGTERM would drain, README "Drain and
# reload") and set STOP_STATUS to its exit status, or to "timeout" when it
# was still running 10 s later (it is then killed).
stop_now() {
	local pid=$1 i
	STOP_STATUS=0
	kill -INT "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		STOP_STATUS=timeout
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		return 0
	fi
	wait "$pid" || STOP_STATUS=$?
}

# After starting mmdp in the background (MMDP_PID=$!): wait up to 30 s for
# its agent socket $SOCK; die when mmdp exits first or it never appears.
wait_mmdp() {
	local i
	for ((i = 0; i < 300; i++)); do
		[[ -S $SOCK ]] && return 0
		kill -0 "$MMDP_PID" 2>/dev/null || die "mmdp exited before opening its agent socket"
		sleep 0.1
	done
	die "mmdp's agent socket did not appear within 30 s"
}

# After starting mmctld in the background (MMCTLD_PID=$!): wait up to 10 s
# for GET $URL/v1/rooms to answer 2xx with the operator token $TOKEN; die
# when mmctld exits first or it never does.
wait_mmctld() {
	local i
	for ((i = 0; i < 100; i++)); do
		curl -sf -H "Authorization: Bearer $TOKEN" "$URL/v1/rooms" >/dev/null 2>&1 && return 0
		kill -0 "$MMCTLD_PID" 2>/dev/null || die "mmctld exited before answering at $URL"
		sleep 0.1
	done
	die "mmctld does not answer at $URL"
}
