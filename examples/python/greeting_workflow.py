"""The seed's GreetingWorkflow end to end: activity, signals, a query, asyncio.wait.

This is the class-based example of python-sdk-phase-2.md: the greeting
is made by a local activity (``workflow.execute_local_activity``), run by
this worker and recorded in history as a marker. The query is ``async`` as in the seed: that works because it answers
without awaiting anything.

    python examples/python/greeting_workflow.py HOST:PORT
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import sys
import uuid
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker


@activity.defn
def create_greeting_activity(salutation: str, name: str) -> str:
    return f"{salutation}, {name}!"


@workflow.defn
class GreetingWorkflow:
    def __init__(self) -> None:
        self._salutation = "Hello"
        self._salutation_update = asyncio.Event()
        self._complete = asyncio.Event()
        self._current_greeting = ""

    @workflow.run
    async def run(self, name: str) -> str:
        while True:
            # Store greeting (this is typed)
            self._current_greeting = await workflow.execute_local_activity(
                create_greeting_activity,
                self._salutation,
                name,
                start_to_close_timeout=timedelta(seconds=5),
            )
            workflow.logger.debug("Greeting set to %s", self._current_greeting)

            # Wait for salutation update or complete signal (this can be cancelled)
            await asyncio.wait(
                [
                    asyncio.ensure_future(self._salutation_update.wait()),
                    asyncio.ensure_future(self._complete.wait()),
                ],
                return_when=asyncio.FIRST_COMPLETED,
            )
            if self._salutation_update.is_set():
                self._salutation_update.clear()
            if self._complete.is_set():
                return self._current_greeting

    @workflow.signal
    async def update_salutation(self, salutation: str) -> None:
        self._salutation = salutation
        self._salutation_update.set()

    @workflow.signal
    async def complete_with_greeting(self) -> None:
        self._complete.set()

    @workflow.query
    async def current_greeting(self) -> str:
        return self._current_greeting


# The seed's query is async; the client's typed query overloads do not accept
# async query methods yet (mypy infers Never), hence the ignores below.


async def wait_for_greeting(handle: WorkflowHandle[GreetingWorkflow, str], expected: str) -> None:
    for _ in range(100):
        if await handle.query(GreetingWorkflow.current_greeting) == expected:
            return
        await asyncio.sleep(0.1)
    raise SystemExit(f"the greeting never became {expected!r}")


async def main(address: str) -> None:
    client = await Client.connect(address)
    task_queue = f"greeting-{uuid.uuid4()}"
    with concurrent.futures.ThreadPoolExecutor() as executor:
        async with Worker(
            client,
            task_queue=task_queue,
            activities=[create_greeting_activity],
            workflows=[GreetingWorkflow],
            activity_executor=executor,
        ):
            # Start the workflow
            handle = await client.start_workflow(
                GreetingWorkflow.run, "John", id=f"greeting-{uuid.uuid4()}", task_queue=task_queue
            )
            # Confirm the current greeting
            await wait_for_greeting(handle, "Hello, John!")
            greeting: str = await handle.query(GreetingWorkflow.current_greeting)
            print("query current_greeting:", greeting)
            # Change the salutation part
            await handle.signal(GreetingWorkflow.update_salutation, "Hola")
            await wait_for_greeting(handle, "Hola, John!")
            # Now tell it to complete with the new greeting
            await handle.signal(GreetingWorkflow.complete_with_greeting)
            # Check result
            result = await handle.result()
    print("result:", result)
    if result != "Hola, John!":
        raise SystemExit(f"unexpected result {result!r}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "localhost:7233"))
