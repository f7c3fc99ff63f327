#!/usr/bin/env bash
# The main job: sets everything up, starts a local Temporal dev server, runs
# the client examples (Python, then C) against it, and stops the server.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
state=.devserver/demo
.venv/bin/python scripts/devserver.py start --state "$state" >/dev/null
trap '.venv/bin/python scripts/devserver.py stop --state '"$state" EXIT
address=$(cat "$state/address")
echo "demo: Temporal dev server at $address"

.venv/bin/python examples/python/client_demo.py "$address"
./build/examples/client_demo "$address" | cut -c1-200
