#!/usr/bin/env bash
# Runs the given command with moto_server listening on a free loopback port and
# DHMC_MOTO_ENDPOINT pointing at it; stops moto afterwards, whatever happens.
# Used by `make conformance`. MOTO_SERVER and PYTHON name the tools to use.
set -euo pipefail
moto=${MOTO_SERVER:-moto_server}
python=${PYTHON:-python3}

port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
log=$(mktemp)
# Managed policies are needed: the reconciler attaches AmazonSSMManagedEC2InstanceDefaultPolicy.
MOTO_IAM_LOAD_MANAGED_POLICIES=true "$moto" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; rm -f "$log"' EXIT

endpoint="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		break
	fi
	if ! kill -0 "$moto_pid" 2>/dev/null; then
		echo "moto_server exited:" >&2
		cat "$log" >&2
		exit 1
	fi
	sleep 0.1
done
echo "moto $("$python" -c "import moto; print(moto.__version__)") listening at $endpoint" >&2

DHMC_MOTO_ENDPOINT=$endpoint "$@"
