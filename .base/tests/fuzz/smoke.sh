#!/bin/sh
# CI smoke of one libFuzzer target: every input of the committed corpus,
# then FUZZ_SMOKE_RUNS new executions (default 50000) capped at
# FUZZ_SMOKE_SECONDS (default 15). New inputs go to a scratch directory,
# not the committed corpus; a crash leaves its input in the build
# directory (fuzz-artifacts/) and fails the test.
# usage: smoke.sh FUZZER CORPUS_DIR [DICT]
set -eu
fuzzer=$1
corpus=$2
dict=${3:-}
name=$(basename "$fuzzer")
art=$(pwd)/fuzz-artifacts
mkdir -p "$art"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
set -- "$scratch" "$corpus" -runs="${FUZZ_SMOKE_RUNS:-50000}" \
	-max_total_time="${FUZZ_SMOKE_SECONDS:-15}" -artifact_prefix="$art/$name-" -print_final_stats=1
[ -n "$dict" ] && [ -f "$dict" ] && set -- "$@" -dict="$dict"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
"$fuzzer" "$@"
# ./quickstart's summary counts Criterion's synthesis lines: one test here.
echo "[====] Synthesis: Tested: 1 | Passing: 1 | Failing: 0 | Crashing: 0"
