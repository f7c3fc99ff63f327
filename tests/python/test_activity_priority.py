"""activity.info().priority against a real dev server (needs tw_activity_task_priority)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import Priority
from temporalio.worker import Worker


@activity.defn
async def my_priority() -> dict[str, Any]:
    p = activity.info().priority
    return {"key": p.priority_key, "fairness_key": p.fairness_key, "weight": p.fairness_weight}


@workflow.defn
class AsksActivities:
    @workflow.run
    async def run(self) -> list[dict[str, Any]]:
        t = timedelta(seconds=10)
        return [
            await workflow.execute_activity(
                my_priority, start_to_close_timeout=t, priority=Priority(priority_key=4, fairness_weight=0.5)
            ),
            await workflow.execute_activity(my_priority, start_to_close_timeout=t),
            await workflow.execute_local_activity(my_priority, start_to_close_timeout=t),
        ]


async def test_activity_info_reports_the_dispatched_priority(client: Client, workflow_id: str) -> None:
    task_queue = f"tq-{uuid.uuid4()}"
    async with Worker(client, task_queue=task_queue, workflows=[AsksActivities], activities=[my_priority]):
        result = await client.execute_workflow(
            AsksActivities.run,
            id=workflow_id,
            task_queue=task_queue,
            priority=Priority(priority_key=2, fairness_key="wf-tenant"),
        )
    # The task carries what the activity was scheduled with (the official SDK reports the same);
    # a local activity has none.
    assert result == [
        {"key": 4, "fairness_key": None, "weight": 0.5},
        {"key": None, "fairness_key": None, "weight": None},
        {"key": None, "fairness_key": None, "weight": None},
    ]
