#!/usr/bin/env bash
# step.sh [--count-packages] [--only REGEX] TITLE COMMAND...
#
# Runs COMMAND as one visible step of a make target, so that a first run on an
# empty Go cache is never silent: it prints "== TITLE", COMMAND's output, a
# heartbeat line whenever COMMAND has said nothing for HEARTBEAT seconds
# (default 5), and how long the step took. Exits with COMMAND's status.
#
#   --count-packages  count the bare package paths `go build -v` prints instead
#                     of echoing them; the heartbeat says how many so far
#   --only REGEX      echo only the lines matching REGEX (extended), unless
#                     COMMAND fails: then all of its output is shown
set -uo pipefail

count=false
only=
while [[ $# -gt 0 ]]; do
	case $1 in
	--count-packages) count=true; shift ;;
	--only) only=$2; shift 2 ;;
	*) break ;;
	esac
done
title=$1
shift
every=${HEARTBEAT:-5}

state=$(mktemp -d)
beat=
cleanup() {
	if [[ -n $beat ]]; then kill "$beat" 2>/dev/null; wait "$beat" 2>/dev/null; fi
	rm -rf "$state"
}
trap cleanup EXIT

start=$(date +%s)
echo "== $title"
echo 0 >"$state/packages"
touch "$state/said"

(
	# sleep must not hold the output pipe open after the step ends
	while sleep 1 >/dev/null 2>&1; do
		now=$(date +%s)
		quiet=$((now - $(stat -c %Y "$state/said")))
		if ((quiet >= every)); then
			n=$(<"$state/packages")
			extra=
			if ((n > 0)); then extra=" ($n packages compiled so far)"; fi
			echo "   … still running after $((now - start)) s$extra"
			touch "$state/said"
		fi
	done
) &
beat=$!

n=0
"$@" 2>&1 | {
	while IFS= read -r line; do
		if $count && [[ $line =~ ^[A-Za-z0-9_.~/-]+$ ]]; then
			n=$((n + 1))
			echo "$n" >"$state/packages"
			continue
		fi
		printf '%s\n' "$line" >>"$state/all"
		if [[ -n $only ]] && ! [[ $line =~ $only ]]; then
			continue
		fi
		printf '%s\n' "$line"
		touch "$state/said"
	done
}
status=${PIPESTATUS[0]}

if ((status != 0)) && [[ -n $only ]] && [[ -f $state/all ]]; then
	echo "   (the step failed; its whole output follows)"
	cat "$state/all"
fi
n=$(<"$state/packages")
summary="$(($(date +%s) - start)) s"
if ((n > 0)); then summary+=", $n packages compiled"; fi
if ((status == 0)); then
	echo "   done in $summary"
else
	echo "   FAILED after $summary (exit status $status)"
fi
exit "$status"
