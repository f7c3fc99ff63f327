"""The Python client end to end against a Temporal server.

Starts a GreetingWorkflow (typed: the run method, signals and queries of the
class below), signals it, describes it, requests cancellation, terminates it,
and prints what the server recorded. No worker runs the workflow here, so it
stays open until terminated.

    python examples/python/client_demo.py HOST:PORT
"""

from __future__ import annotations

import asyncio
import sys
import uuid

from temporalio import workflow
from temporalio.client import Client, WorkflowFailureError


@workflow.defn
class GreetingWorkflow:
    def __init__(self) -> None:
        self._salutation = "Hello"

    @workflow.run
    async def run(self, name: str) -> str:
        return f"{self._salutation}, {name}!"

    @workflow.signal
    async def update_salutation(self, salutation: str) -> None:
        self._salutation = salutation

    @workflow.query
    def current_greeting(self) -> str:
        return self._salutation


async def main(address: str) -> None:
    client = await Client.connect(address)
    handle = await client.start_workflow(
        GreetingWorkflow.run, "John", id=f"py-demo-{uuid.uuid4().hex[:8]}", task_queue="py-demo-queue"
    )
    print(f"started {handle.id} run {handle.run_id}")
    await handle.signal(GreetingWorkflow.update_salutation, "Hola")
    description = await handle.describe()
    print(f"described: type {description.workflow_type}, status {description.status!r}")
    await handle.cancel()
    await handle.terminate(reason="demo over")
    try:
        await handle.result()
    except WorkflowFailureError as err:
        print(f"result: {type(err.cause).__name__}: {err.cause}")
    history = await handle.fetch_history()
    print("history:", ", ".join(e["eventType"].removeprefix("EVENT_TYPE_") for e in history.events))
    print("workflows in namespace:", (await client.count_workflows()).count)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "localhost:7233"))
