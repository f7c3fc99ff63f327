"""Workflow-task polling options of the Worker, against a real dev server.

max_concurrent_workflow_task_polls / nonsticky_to_sticky_poll_ratio split the
long polls between the task queue and the worker's sticky queue as the
official SDK does; sticky_queue_schedule_to_start_timeout is how long a
cached run's task waits on the sticky queue before any worker may take it.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import Worker


@workflow.defn
class Collect:
    def __init__(self) -> None:
        self.items: list[str] = []

    @workflow.run
    async def run(self, n: int) -> list[str]:
        await workflow.wait_condition(lambda: len(self.items) >= n)
        await workflow.sleep(0.1)
        return self.items

    @workflow.signal
    def add(self, item: str) -> None:
        self.items.append(item)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"max_concurrent_workflow_task_polls": 1},
        {"max_concurrent_workflow_task_polls": 2, "nonsticky_to_sticky_poll_ratio": 1.0},
        {"max_concurrent_workflow_task_polls": 8, "nonsticky_to_sticky_poll_ratio": 0.5},
        {"max_concurrent_workflow_task_polls": 3, "max_cached_workflows": 0},
    ],
    ids=["defaults", "one-poll", "all-normal", "eight-polls", "no-cache"],
)
async def test_poll_splits_run_workflows(client: Client, workflow_id: str, options: dict[str, Any]) -> None:
    tq = f"tq-{uuid.uuid4()}"
    async with Worker(client, task_queue=tq, workflows=[Collect], **options):
        handle = await client.start_workflow(Collect.run, 3, id=workflow_id, task_queue=tq)
        for item in ("a", "b", "c"):
            await handle.signal(Collect.add, item)
        assert await handle.result() == ["a", "b", "c"]


FIRST_WORKER = """
import asyncio, sys
from datetime import timedelta
sys.path.insert(0, sys.argv[3])
from temporalio.client import Client
from temporalio.worker import Worker
from test_worker_polls import Collect

async def main() -> None:
    client = await Client.connect(sys.argv[1])
    async with Worker(client, task_queue=sys.argv[2], workflows=[Collect],
                      sticky_queue_schedule_to_start_timeout=timedelta(seconds=1)):
        print("ready", flush=True)
        await asyncio.Event().wait()

asyncio.run(main())
"""


async def test_sticky_timeout_hands_a_dead_workers_run_to_another(
    client: Client, server_address: str, workflow_id: str
) -> None:
    # The first worker (another process) caches the run and dies without a word to
    # the server; the run's next task waits on the dead worker's sticky queue for the
    # 1 s it asked for, then goes to the second worker through the task queue.
    tq = f"tq-{uuid.uuid4()}"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", FIRST_WORKER, server_address, tq, str(Path(__file__).parent),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        assert (await asyncio.wait_for(proc.stdout.readline(), 60)).strip() == b"ready"
        handle = await client.start_workflow(Collect.run, 2, id=workflow_id, task_queue=tq)
        await handle.signal(Collect.add, "a")
        for _ in range(200):
            events = (await handle.fetch_history()).events
            if sum(1 for e in events if e.get("eventType") == "EVENT_TYPE_WORKFLOW_TASK_COMPLETED") >= 1:
                break
            await asyncio.sleep(0.05)
        proc.kill()
        await proc.wait()
        # At once: the server sends a cached run's tasks to the sticky queue only while
        # that queue was polled recently.
        await handle.signal(Collect.add, "b")
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    async with Worker(client, task_queue=tq, workflows=[Collect]):
        assert await asyncio.wait_for(handle.result(), 30) == ["a", "b"]
    events = (await handle.fetch_history()).events
    timeouts = [e for e in events if e.get("eventType") == "EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT"]
    assert timeouts, "the task on the dead worker's sticky queue should have timed out"
    attrs = timeouts[0]["workflowTaskTimedOutEventAttributes"]
    assert attrs["timeoutType"] == "TIMEOUT_TYPE_SCHEDULE_TO_START"
    # The server's own timestamps: the task waited the 1 s asked for, not the default 10 s.
    scheduled = next(e for e in events if e["eventId"] == attrs["scheduledEventId"])
    waited = stamp(timeouts[0]["eventTime"]) - stamp(scheduled["eventTime"])
    assert timedelta(seconds=0.9) <= waited < timedelta(seconds=5), waited


def stamp(text: str) -> datetime:
    # RFC 3339 with up to nanoseconds; keep microseconds for datetime.
    head, _, frac = text.rstrip("Z").partition(".")
    return datetime.fromisoformat(head + "." + (frac + "000000")[:6])
