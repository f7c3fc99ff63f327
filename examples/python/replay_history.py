"""Replaying histories: check that workflow code still makes the decisions its histories recorded.

Runs a workflow, fetches its history, saves it as JSON (the format
``temporal workflow show --output json`` prints), then replays it with the
Replayer: once with the code that made it (clean), once with an
incompatible change (a timer became an activity), which the replayer
reports as a NondeterminismError naming the event and the command.

    python examples/python/replay_history.py HOST:PORT [history.json]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path

from temporalio import activity, workflow
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer, Worker


@workflow.defn
class Reminder:
    @workflow.run
    async def run(self, text: str) -> str:
        await workflow.sleep(timedelta(milliseconds=100))
        return f"reminder: {text}"


@activity.defn
async def remind(text: str) -> str:
    return text


@workflow.defn(name="Reminder")
class ReminderV2:
    """An incompatible change: the timer became an activity."""

    @workflow.run
    async def run(self, text: str) -> str:
        return await workflow.execute_activity(remind, text, start_to_close_timeout=timedelta(seconds=5))


async def main(address: str, path: Path) -> None:
    client = await Client.connect(address)
    task_queue = f"replay-{uuid.uuid4()}"
    async with Worker(client, task_queue=task_queue, workflows=[Reminder]):
        handle = await client.start_workflow(Reminder.run, "water the plants", id=f"reminder-{uuid.uuid4()}", task_queue=task_queue)
        print(await handle.result())
    path.write_text((await handle.fetch_history()).to_json())
    history = WorkflowHistory.from_json(handle.id, path.read_text())
    print(f"history saved to {path}: {len(history.events)} events")

    await Replayer(workflows=[Reminder]).replay_workflow(history)
    print("replay with the same code: ok")
    result = await Replayer(workflows=[ReminderV2]).replay_workflow(history, raise_on_replay_failure=False)
    print(f"replay with the changed code: {result.replay_failure!r}")
    if not isinstance(result.replay_failure, workflow.NondeterminismError):
        raise SystemExit("the change was not detected")


if __name__ == "__main__":
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.mkdtemp()) / "history.json"
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "localhost:7233", target))
