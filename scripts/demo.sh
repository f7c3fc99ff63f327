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

echo "== GreetingWorkflow (the seed's, written in C on the workflow runtime) on a C worker"
./build/examples/scopes_workflow "$address"
echo "== the Python client"
.venv/bin/python examples/python/client_demo.py "$address"
