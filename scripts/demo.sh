#!/usr/bin/env bash
# The main job: sets everything up, starts a local Temporal dev server, runs
# a worker with the seed's GreetingWorkflow (Python, then the same workflow
# written in C), then the Python client example, and stops the server.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
state=.devserver/demo
.venv/bin/python scripts/devserver.py start --state "$state" >/dev/null
trap '.venv/bin/python scripts/devserver.py stop --state '"$state" EXIT
address=$(cat "$state/address")
echo "demo: Temporal dev server at $address"

echo "== GreetingWorkflow (the seed's) on a Python worker"
.venv/bin/python examples/python/greeting_workflow.py "$address"
echo "== GreetingWorkflow written in C on the workflow runtime, on a C worker"
./build/examples/scopes_workflow "$address"
echo "== the Python client"
.venv/bin/python examples/python/client_demo.py "$address"
