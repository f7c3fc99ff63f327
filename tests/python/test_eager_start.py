"""Eager workflow start (``request_eager_start=True``), against a real dev server.

With the request, the server answers the start with the workflow's first
task, which goes straight to a worker of the same client polling that task
queue. The history tells who started that task: the start request (under the
client's identity) when it was eager, the worker (under its own identity)
when it came through the task queue.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, Optional

import pytest

from temporalio import workflow
from temporalio.client import Client, WorkflowHandle
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.worker import Worker

WORKER_IDENTITY = "eager-test-worker"


@workflow.defn
class Echo:
    def __init__(self) -> None:
        self.signals: list[str] = []

    @workflow.run
    async def run(self, text: str) -> str:
        return text + "".join(self.signals)

    @workflow.signal
    def add(self, text: str) -> None:
        self.signals.append(text)


@workflow.defn
class Waits:
    def __init__(self) -> None:
        self.go = False

    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: self.go)
        return "done"

    @workflow.signal
    def release(self) -> None:
        self.go = True


async def first_task_identity(handle: WorkflowHandle[Any, Any]) -> Optional[str]:
    for event in (await handle.fetch_history()).events:
        attrs = event.get("workflowTaskStartedEventAttributes")
        if attrs is not None:
            identity = attrs.get("identity")
            return str(identity) if identity is not None else None
    return None


def worker(client: Client, tq: str, **kwargs: Any) -> Worker:
    return Worker(client, task_queue=tq, workflows=[Echo, Waits], identity=WORKER_IDENTITY, **kwargs)


@pytest.fixture
async def starter(server_address: str) -> Client:
    return await Client.connect(server_address, identity="eager-test-starter")


async def test_eager_start_goes_to_the_local_worker(starter: Client, workflow_id: str) -> None:
    tq = f"tq-{uuid.uuid4()}"
    async with worker(starter, tq):
        eager = await starter.start_workflow(Echo.run, "hi", id=workflow_id, task_queue=tq, request_eager_start=True)
        assert await eager.result() == "hi"
        assert await first_task_identity(eager) == "eager-test-starter"
        plain = await starter.start_workflow(Echo.run, "ho", id=workflow_id + "-plain", task_queue=tq)
        assert await plain.result() == "ho"
        assert await first_task_identity(plain) == WORKER_IDENTITY


async def test_execute_workflow_takes_the_option(starter: Client, workflow_id: str) -> None:
    tq = f"tq-{uuid.uuid4()}"
    async with worker(starter, tq):
        result = await starter.execute_workflow(
            Echo.run, "x", id=workflow_id, task_queue=tq, request_eager_start=True
        )
        assert result == "x"
        assert await first_task_identity(starter.get_workflow_handle(workflow_id)) == "eager-test-starter"


async def test_per_call_rpc_options_keep_eager_start(starter: Client, workflow_id: str) -> None:
    # A call with rpc_metadata runs on a derived C client; it shares the worker registry.
    tq = f"tq-{uuid.uuid4()}"
    async with worker(starter, tq):
        handle = await starter.start_workflow(
            Echo.run, "m", id=workflow_id, task_queue=tq, request_eager_start=True,
            rpc_metadata={"x-test": "1"},
        )
        assert await handle.result() == "m"
        assert await first_task_identity(handle) == "eager-test-starter"


async def test_no_local_worker_means_an_ordinary_start(starter: Client, server_address: str, workflow_id: str) -> None:
    tq = f"tq-{uuid.uuid4()}"
    # Nobody polls yet: the start is ordinary, and a worker started later runs the workflow.
    handle = await starter.start_workflow(Echo.run, "late", id=workflow_id, task_queue=tq, request_eager_start=True)
    # A worker on another client of the same server is not this client's.
    other = await Client.connect(server_address)
    async with worker(other, tq):
        assert await handle.result() == "late"
        second = await starter.start_workflow(
            Echo.run, "other", id=workflow_id + "-2", task_queue=tq, request_eager_start=True
        )
        assert await second.result() == "other"
    assert await first_task_identity(handle) == WORKER_IDENTITY
    assert await first_task_identity(second) == WORKER_IDENTITY


async def test_signal_with_start_ignores_the_request(starter: Client, workflow_id: str) -> None:
    tq = f"tq-{uuid.uuid4()}"
    async with worker(starter, tq):
        handle = await starter.start_workflow(
            Echo.run, "a", id=workflow_id, task_queue=tq, request_eager_start=True,
            start_signal="add", start_signal_args=["b"],
        )
        assert await handle.result() == "ab"
        assert await first_task_identity(handle) == WORKER_IDENTITY


async def test_already_started_gives_the_slot_back(starter: Client, workflow_id: str) -> None:
    tq = f"tq-{uuid.uuid4()}"
    # Six workflow-task slots, five of them held by the polls (the default): one is left
    # for an eager start, so a reservation that leaked would make the last start an
    # ordinary one.
    async with worker(starter, tq, max_concurrent_workflow_tasks=6):
        first = await starter.start_workflow(Waits.run, id=workflow_id, task_queue=tq, request_eager_start=True)
        with pytest.raises(WorkflowAlreadyStartedError):
            await starter.start_workflow(Waits.run, id=workflow_id, task_queue=tq, request_eager_start=True)
        with pytest.raises(WorkflowAlreadyStartedError):
            await starter.start_workflow(Waits.run, id=workflow_id, task_queue=tq, request_eager_start=True)
        await first.signal(Waits.release)
        assert await first.result() == "done"
        again = await starter.start_workflow(Waits.run, id=workflow_id + "-b", task_queue=tq, request_eager_start=True)
        await again.signal(Waits.release)
        assert await again.result() == "done"
        assert await first_task_identity(again) == "eager-test-starter"


async def test_many_concurrent_eager_starts(starter: Client, workflow_id: str) -> None:
    tq = f"tq-{uuid.uuid4()}"
    w = worker(starter, tq, max_concurrent_workflow_tasks=6)
    async with w:
        handles = await asyncio.gather(
            *(starter.start_workflow(Echo.run, str(i), id=f"{workflow_id}-{i}", task_queue=tq,
                                     request_eager_start=True) for i in range(40))
        )
        assert await asyncio.gather(*(h.result() for h in handles)) == [str(i) for i in range(40)]
        identities = await asyncio.gather(*(first_task_identity(h) for h in handles))
    # Slots are few, so some starts found none free and went through the task queue.
    assert set(identities) <= {"eager-test-starter", WORKER_IDENTITY}
    assert "eager-test-starter" in identities
    # The worker shut down above: it would hang if a reserved slot was never returned.
