"""Eager activities, against a real Temporal dev server (which allows them).

A worker running both workflows and activities asks the server to hand the
activities its workflows schedule on its own task queue straight back with
the workflow task's answer, so they run on that worker without a trip
through the server's task queues.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker


@activity.defn(name="which_worker")
async def on_combined_worker() -> str:
    return "combined"


@activity.defn(name="which_worker")
async def on_activity_worker() -> str:
    return "activities-only"


@workflow.defn
class WhichWorkers:
    @workflow.run
    async def run(self, n: int) -> list[str]:
        out: list[str] = []
        for _ in range(n):
            out.append(
                await workflow.execute_activity(
                    "which_worker", start_to_close_timeout=timedelta(seconds=10), result_type=str
                )
            )
        return out


async def test_activities_run_eagerly_on_the_worker_that_scheduled_them(client: Client, workflow_id: str) -> None:
    tq = f"tq-{uuid.uuid4()}"
    # Without eager dispatch, the activity-only worker's polls (waiting first) would get about half the tasks.
    async with Worker(client, task_queue=tq, activities=[on_activity_worker]):
        async with Worker(client, task_queue=tq, workflows=[WhichWorkers], activities=[on_combined_worker]):
            result = await client.execute_workflow(WhichWorkers.run, 6, id=workflow_id, task_queue=tq)
    assert result == ["combined"] * 6


async def test_disable_eager_activity_execution(client: Client, workflow_id: str) -> None:
    tq = f"tq-{uuid.uuid4()}"
    async with Worker(
        client,
        task_queue=tq,
        workflows=[WhichWorkers],
        activities=[on_combined_worker],
        disable_eager_activity_execution=True,
    ):
        result = await client.execute_workflow(WhichWorkers.run, 2, id=workflow_id, task_queue=tq)
    assert result == ["combined"] * 2
