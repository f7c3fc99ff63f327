"""A tracing workflow interceptor: records every call into and out of workflow code.

``TracingInterceptor`` is a worker interceptor; for each run it installs
``_TracingInbound`` (execute_workflow, handle_signal, handle_query), which
wraps the outbound chain in ``_TracingOutbound`` (start_activity,
start_child_workflow, signal_external_workflow, continue_as_new). Records carry the workflow's own (deterministic)
time and are dropped while the workflow replays, so a trace has each step
once even when the worker replays the run from history.

    python examples/python/tracing_interceptor.py HOST:PORT
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import sys
import uuid
from datetime import timedelta
from typing import Any, NoReturn

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import (
    ContinueAsNewInput,
    ExecuteWorkflowInput,
    HandleQueryInput,
    HandleSignalInput,
    Interceptor,
    SignalExternalWorkflowInput,
    StartActivityInput,
    StartChildWorkflowInput,
    Worker,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)

TRACE: list[str] = []


def record(event: str) -> None:
    """Appends one trace line (skipped while replaying: it was recorded the first time)."""
    if not workflow.unsafe.is_replaying():
        TRACE.append(f"{workflow.info().workflow_id} {event}")


class _TracingOutbound(WorkflowOutboundInterceptor):
    def start_activity(self, input: StartActivityInput) -> workflow.ActivityHandle[Any]:
        record(f"start_activity {input.activity}{tuple(input.args)}")
        return super().start_activity(input)

    async def start_child_workflow(self, input: StartChildWorkflowInput) -> workflow.ChildWorkflowHandle[Any, Any]:
        record(f"start_child_workflow {input.workflow}{tuple(input.args)}")
        return await super().start_child_workflow(input)

    async def signal_external_workflow(self, input: SignalExternalWorkflowInput) -> None:
        record(f"signal_external_workflow {input.signal}{tuple(input.args)}")
        await super().signal_external_workflow(input)

    def continue_as_new(self, input: ContinueAsNewInput) -> NoReturn:
        record(f"continue_as_new{tuple(input.args)}")
        super().continue_as_new(input)


class _TracingInbound(WorkflowInboundInterceptor):
    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        super().init(_TracingOutbound(outbound))

    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        record(f"execute_workflow {input.type.__name__}{tuple(input.args)}")
        try:
            result = await super().execute_workflow(input)
        except BaseException as err:
            record(f"workflow raised {type(err).__name__}")
            raise
        record(f"workflow returned {result!r}")
        return result

    async def handle_signal(self, input: HandleSignalInput) -> None:
        record(f"signal {input.signal}{tuple(input.args)}")
        await super().handle_signal(input)

    def handle_query(self, input: HandleQueryInput) -> Any:
        # Queries must not change the workflow; recording to a list outside it is fine.
        record(f"query {input.query}")
        return super().handle_query(input)


class TracingInterceptor(Interceptor):
    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput) -> type[WorkflowInboundInterceptor]:
        return _TracingInbound


@activity.defn
async def shout(text: str) -> str:
    return text.upper()


@workflow.defn
class TracedWorkflow:
    def __init__(self) -> None:
        self._words: list[str] = []

    @workflow.run
    async def run(self, count: int) -> str:
        await workflow.wait_condition(lambda: len(self._words) >= count)
        shouted = await workflow.execute_activity(
            shout, " ".join(self._words), start_to_close_timeout=timedelta(seconds=5)
        )
        return await workflow.execute_child_workflow(Exclaim.run, shouted, id=f"{workflow.info().workflow_id}-child")

    @workflow.signal
    def add(self, word: str) -> None:
        self._words.append(word)

    @workflow.query
    def words(self) -> list[str]:
        return self._words


@workflow.defn
class Exclaim:
    @workflow.run
    async def run(self, text: str) -> str:
        return text + "!"


async def main(address: str) -> None:
    client = await Client.connect(address)
    task_queue = f"tracing-{uuid.uuid4()}"
    workflow_id = f"traced-{uuid.uuid4().hex[:8]}"
    with concurrent.futures.ThreadPoolExecutor() as executor:
        async with Worker(
            client,
            task_queue=task_queue,
            workflows=[TracedWorkflow, Exclaim],
            activities=[shout],
            activity_executor=executor,
            interceptors=[TracingInterceptor()],
        ):
            handle = await client.start_workflow(TracedWorkflow.run, 2, id=workflow_id, task_queue=task_queue)
            await handle.query(TracedWorkflow.words)  # answered once the run has started
            await handle.signal(TracedWorkflow.add, "hello")
            await handle.signal(TracedWorkflow.add, "world")
            result = await handle.result()
    for line in TRACE:
        print(line)
    expected = [
        f"{workflow_id} execute_workflow TracedWorkflow(2,)",
        f"{workflow_id} query words",
        f"{workflow_id} signal add('hello',)",
        f"{workflow_id} signal add('world',)",
        f"{workflow_id} start_activity shout('hello world',)",
        f"{workflow_id} start_child_workflow Exclaim('HELLO WORLD',)",
        f"{workflow_id}-child execute_workflow Exclaim('HELLO WORLD',)",
        f"{workflow_id}-child workflow returned 'HELLO WORLD!'",
        f"{workflow_id} workflow returned 'HELLO WORLD!'",
    ]
    if result != "HELLO WORLD!" or TRACE != expected:
        raise SystemExit(f"unexpected trace or result: {result!r}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "localhost:7233"))
