"""Local activities longer than the workflow task timeout, against a real dev server.

While a local activity runs past 80% of the workflow task timeout, the
worker answers the task with what the workflow produced so far and
``force_create_new_workflow_task`` (a workflow-task heartbeat, as sdk-core
does), and answers the new task the server makes at once in the same way,
until the activity ends. The task never times out, the marker is recorded
by a later task than the one that scheduled the activity, and the history
replays.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import subprocess
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Replayer, Worker

_executor = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="test_la_hb_")


@activity.defn
def slow_echo(seconds: float, value: str) -> str:
    time.sleep(seconds)
    return value


@workflow.defn
class LongLocalActivity:
    def __init__(self) -> None:
        self._state = "starting"

    @workflow.run
    async def run(self, seconds: float) -> str:
        self._state = "waiting"
        result = await workflow.execute_local_activity(
            slow_echo, args=[seconds, "done"], start_to_close_timeout=timedelta(seconds=30)
        )
        self._state = "finished"
        return result

    @workflow.query
    def state(self) -> str:
        return self._state


@workflow.defn
class TwoLongLocalActivities:
    @workflow.run
    async def run(self, seconds: float) -> str:
        first = await workflow.execute_local_activity(
            slow_echo, args=[seconds, "first"], start_to_close_timeout=timedelta(seconds=30)
        )
        second = await workflow.execute_local_activity(
            slow_echo, args=[seconds, "second"], start_to_close_timeout=timedelta(seconds=30)
        )
        return f"{first}+{second}"


def _worker(client: Client, tq: str, **kwargs: Any) -> Worker:
    return Worker(
        client,
        task_queue=tq,
        workflows=[LongLocalActivity, TwoLongLocalActivities],
        activities=[slow_echo],
        activity_executor=_executor,
        **kwargs,
    )


REPO = Path(__file__).resolve().parents[2]
REFERENCE_PYTHON = REPO / ".venv-ref" / "bin" / "python"

# Run by the official SDK (sdk-core): replays a history file with this module's workflows.
_REPLAY_WITH_OFFICIAL = """
import asyncio, sys
sys.path.insert(0, sys.argv[1])
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner
import test_local_activity_heartbeat as t
history = WorkflowHistory.from_json("wf", open(sys.argv[2]).read())
replayer = Replayer(
    workflows=[t.LongLocalActivity, t.TwoLongLocalActivities], workflow_runner=UnsandboxedWorkflowRunner()
)
asyncio.run(replayer.replay_workflow(history))
print("replayed")
"""


def _replays_on_official_sdk(history: Any, tmp_path: Path) -> None:
    """sdk-core accepts the markers (layout, and recorded tasks after their schedule) too."""
    if not REFERENCE_PYTHON.exists():
        return  # scripts/test.sh makes .venv-ref; tests/python/test_interop.py insists on it
    path = tmp_path / "history.json"
    path.write_text(json.dumps({"events": list(history.events)}))
    done = subprocess.run(
        [str(REFERENCE_PYTHON), "-c", _REPLAY_WITH_OFFICIAL, str(Path(__file__).parent), str(path)],
        capture_output=True, text=True, timeout=120, cwd=str(tmp_path),
    )
    assert done.returncode == 0 and "replayed" in done.stdout, done.stdout + done.stderr


def _types(events: list[dict[str, Any]]) -> list[str]:
    return [e.get("eventType", "") for e in events]


def _assert_heartbeated(types: list[str], markers: int) -> None:
    assert "EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT" not in types, types
    assert "EVENT_TYPE_WORKFLOW_TASK_FAILED" not in types, types
    marker_at = [i for i, t in enumerate(types) if t == "EVENT_TYPE_MARKER_RECORDED"]
    assert len(marker_at) == markers, types
    # The first marker comes after at least two completed tasks: the first task and a heartbeat.
    completed_before = types[: marker_at[0]].count("EVENT_TYPE_WORKFLOW_TASK_COMPLETED")
    assert completed_before >= 2, types
    assert types[-1] == "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED", types


async def test_local_activity_longer_than_task_timeout(client: Client, tmp_path: Path) -> None:
    tq = f"la-hb-{uuid.uuid4()}"
    async with _worker(client, tq):
        handle = await client.start_workflow(
            LongLocalActivity.run,
            5.0,
            id=f"la-hb-{uuid.uuid4()}",
            task_queue=tq,
            task_timeout=timedelta(seconds=2),
        )
        assert await asyncio.wait_for(handle.result(), 30) == "done"
    history = await handle.fetch_history()
    types = _types(history.events)
    _assert_heartbeated(types, markers=1)
    # 2 s timeout, heartbeat at 1.6 s: a 5 s activity needs three of them.
    assert types.count("EVENT_TYPE_WORKFLOW_TASK_COMPLETED") >= 4, types
    marker = next(e for e in history.events if e.get("eventType") == "EVENT_TYPE_MARKER_RECORDED")
    assert marker["markerRecordedEventAttributes"]["markerName"] == "core_local_activity"
    result = await Replayer(workflows=[LongLocalActivity]).replay_workflow(history)
    assert result.replay_failure is None
    _replays_on_official_sdk(history, tmp_path)


async def test_two_sequential_long_local_activities(client: Client, tmp_path: Path) -> None:
    tq = f"la-hb-{uuid.uuid4()}"
    async with _worker(client, tq):
        handle = await client.start_workflow(
            TwoLongLocalActivities.run,
            3.0,
            id=f"la-hb-{uuid.uuid4()}",
            task_queue=tq,
            task_timeout=timedelta(seconds=2),
        )
        assert await asyncio.wait_for(handle.result(), 40) == "first+second"
    history = await handle.fetch_history()
    types = _types(history.events)
    _assert_heartbeated(types, markers=2)
    # The second activity also heartbeated: completed tasks between the two markers.
    first, second = [i for i, t in enumerate(types) if t == "EVENT_TYPE_MARKER_RECORDED"]
    assert types[first:second].count("EVENT_TYPE_WORKFLOW_TASK_COMPLETED") >= 1, types
    result = await Replayer(workflows=[TwoLongLocalActivities]).replay_workflow(history)
    assert result.replay_failure is None
    _replays_on_official_sdk(history, tmp_path)


async def test_long_local_activity_with_cache_disabled(client: Client) -> None:
    """With no cache the run is kept while its local activity runs: it is not run again from scratch."""
    tq = f"la-hb-{uuid.uuid4()}"
    async with _worker(client, tq, max_cached_workflows=0):
        handle = await client.start_workflow(
            LongLocalActivity.run,
            4.0,
            id=f"la-hb-{uuid.uuid4()}",
            task_queue=tq,
            task_timeout=timedelta(seconds=2),
        )
        assert await asyncio.wait_for(handle.result(), 30) == "done"
    types = _types((await handle.fetch_history()).events)
    _assert_heartbeated(types, markers=1)


async def test_query_answered_while_local_activity_runs(client: Client) -> None:
    tq = f"la-hb-{uuid.uuid4()}"
    async with _worker(client, tq):
        handle = await client.start_workflow(
            LongLocalActivity.run,
            6.0,
            id=f"la-hb-{uuid.uuid4()}",
            task_queue=tq,
            task_timeout=timedelta(seconds=2),
        )
        await asyncio.sleep(1.0)
        started = time.monotonic()
        # The server holds the query while a task is out; it comes with the task made after the next
        # heartbeat (1.6 s into the task), which answers it at once, long before the activity ends.
        assert await asyncio.wait_for(handle.query(LongLocalActivity.state), 10) == "waiting"
        assert time.monotonic() - started < 3.0
        assert await asyncio.wait_for(handle.result(), 30) == "done"
    history = await handle.fetch_history()
    types = _types(history.events)
    assert "EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT" not in types, types
    assert types.count("EVENT_TYPE_MARKER_RECORDED") == 1, types
    await Replayer(workflows=[LongLocalActivity]).replay_workflow(history)
