"""Priority, user metadata (summaries and details) and continue-as-new's start delay.

Against a real dev server: what the client, workflows, activities, local
activities, timers and children send is checked in the history the server
recorded and in describe(); workflow.info().priority is checked from inside
workflows; bad values are refused before anything is sent; and a history
replays under code that sets other priorities and summaries (they are not
part of the determinism check, as in the official SDK).
"""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any, Optional

import pytest

from temporalio import activity, workflow
from temporalio.client import Client, WorkflowHandle
from temporalio.common import Priority
from temporalio.exceptions import RPCError
from temporalio.worker import Replayer, Worker

# ---------------------------------------------------------------------------
# Activities and workflows
# ---------------------------------------------------------------------------


@activity.defn
async def shout(text: str) -> str:
    return text.upper()


def _priority_dict(p: Priority) -> dict[str, Any]:
    return {"key": p.priority_key, "fairness_key": p.fairness_key, "weight": p.fairness_weight}


@workflow.defn
class ReportsPriority:
    @workflow.run
    async def run(self) -> dict[str, Any]:
        return _priority_dict(workflow.info().priority)


@workflow.defn
class WaitsForSignal:
    def __init__(self) -> None:
        self._go = False

    @workflow.signal
    def go(self) -> None:
        self._go = True

    @workflow.run
    async def run(self) -> dict[str, Any]:
        await workflow.wait_condition(lambda: self._go)
        return _priority_dict(workflow.info().priority)


@workflow.defn(name="Annotated")
class Annotated:
    """An activity, a local activity, timers and a child, each with a priority or a summary."""

    @workflow.run
    async def run(self) -> dict[str, Any]:
        info = workflow.info()
        out: dict[str, Any] = {}
        out["activity"] = await workflow.execute_activity(
            shout,
            "a",
            start_to_close_timeout=timedelta(seconds=10),
            summary="shout it",
            priority=Priority(priority_key=4, fairness_key="act-tenant", fairness_weight=3.0),
        )
        out["inherits"] = await workflow.execute_activity(shout, "b", start_to_close_timeout=timedelta(seconds=10))
        out["local"] = await workflow.execute_local_activity(
            shout, "c", start_to_close_timeout=timedelta(seconds=10), summary="shout locally"
        )
        await workflow.sleep(0.05, summary="short nap")
        await asyncio.sleep(0.05)  # the summary went with the first timer only
        try:
            await workflow.wait_condition(lambda: False, timeout=0.05, timeout_summary="give up soon")
        except TimeoutError:
            out["timed_out"] = True
        out["child"] = await workflow.execute_child_workflow(
            ReportsPriority.run,
            id=f"{info.workflow_id}-child",
            static_summary="the child",
            static_details="what the child does",
            priority=Priority(priority_key=1),
        )
        return out


@workflow.defn(name="Annotated")
class AnnotatedDifferently:
    """Annotated's commands with other priorities and summaries, or none: it must replay Annotated's history."""

    @workflow.run
    async def run(self) -> dict[str, Any]:
        info = workflow.info()
        out: dict[str, Any] = {}
        out["activity"] = await workflow.execute_activity(
            shout, "a", start_to_close_timeout=timedelta(seconds=10), priority=Priority(priority_key=2)
        )
        out["inherits"] = await workflow.execute_activity(
            shout, "b", start_to_close_timeout=timedelta(seconds=10), summary="now with a summary"
        )
        out["local"] = await workflow.execute_local_activity(shout, "c", start_to_close_timeout=timedelta(seconds=10))
        await workflow.sleep(0.05)
        await workflow.sleep(0.05, summary="now the second one has one")
        try:
            await workflow.wait_condition(lambda: False, timeout=0.05, timeout_summary="another summary")
        except TimeoutError:
            out["timed_out"] = True
        out["child"] = await workflow.execute_child_workflow(
            ReportsPriority.run, id=f"{info.workflow_id}-child", static_summary="renamed"
        )
        return out


@workflow.defn
class ContinuesWithDelay:
    @workflow.run
    async def run(self, left: int) -> int:
        if left > 0:
            workflow.continue_as_new(left - 1, backoff_start_interval=timedelta(seconds=1))
        return left


@workflow.defn
class TriesBadPriority:
    """Starting an activity with a bad priority raises at once in the workflow, naming the field."""

    @workflow.run
    async def run(self) -> list[str]:
        errors: list[str] = []
        for bad in (Priority(fairness_key="x" * 65), Priority(fairness_weight=-1.0), Priority(fairness_weight=float("inf"))):
            try:
                workflow.start_activity(shout, "x", start_to_close_timeout=timedelta(seconds=5), priority=bad)
            except ValueError as e:
                errors.append(str(e))
        return errors


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


@asynccontextmanager
async def running_worker(client: Client, *workflows: type) -> AsyncIterator[Worker]:
    async with Worker(
        client, task_queue=f"tq-{uuid.uuid4()}", workflows=list(workflows), activities=[shout]
    ) as worker:
        yield worker


def _text(payload: dict[str, Any]) -> Any:
    """A json/plain payload of a proto3-JSON history event, decoded."""
    assert base64.b64decode(payload["metadata"]["encoding"]) == b"json/plain"
    return json.loads(base64.b64decode(payload["data"]))


def _metadata(event: dict[str, Any]) -> dict[str, Any]:
    """The event's user metadata, decoded: {"summary": ..., "details": ...} for the parts it has."""
    return {k: _text(v) for k, v in event.get("userMetadata", {}).items()}


def _attributes(event: dict[str, Any]) -> dict[str, Any]:
    (key,) = [k for k in event if k.endswith("EventAttributes")]
    return dict(event[key])


async def _events(handle: WorkflowHandle[Any, Any], event_type: str) -> list[dict[str, Any]]:
    history = await handle.fetch_history()
    return [e for e in history.events if e["eventType"] == f"EVENT_TYPE_{event_type}"]


# ---------------------------------------------------------------------------
# Client
# ---------------------------------------------------------------------------


async def test_start_workflow_sends_priority_and_static_metadata(client: Client, workflow_id: str) -> None:
    async with running_worker(client, ReportsPriority) as worker:
        handle = await client.start_workflow(
            ReportsPriority.run,
            id=workflow_id,
            task_queue=worker.task_queue,
            priority=Priority(priority_key=2, fairness_key="tenant-a", fairness_weight=2.5),
            static_summary="nightly report",
            static_details="Builds the **nightly** report.",
        )
        assert await handle.result() == {"key": 2, "fairness_key": "tenant-a", "weight": 2.5}
    (started,) = await _events(handle, "WORKFLOW_EXECUTION_STARTED")
    assert _attributes(started)["priority"] == {"priorityKey": 2, "fairnessKey": "tenant-a", "fairnessWeight": 2.5}
    assert _metadata(started) == {"summary": "nightly report", "details": "Builds the **nightly** report."}
    desc = await handle.describe()
    assert await desc.static_summary() == "nightly report"
    assert await desc.static_details() == "Builds the **nightly** report."
    assert desc.raw_info["priority"] == {"priorityKey": 2, "fairnessKey": "tenant-a", "fairnessWeight": 2.5}


async def test_execute_workflow_without_them_reports_none(client: Client, workflow_id: str) -> None:
    async with running_worker(client, ReportsPriority) as worker:
        result = await client.execute_workflow(ReportsPriority.run, id=workflow_id, task_queue=worker.task_queue)
        assert result == {"key": None, "fairness_key": None, "weight": None}
        handle = client.get_workflow_handle(workflow_id)
    (started,) = await _events(handle, "WORKFLOW_EXECUTION_STARTED")
    assert "priority" not in _attributes(started)
    assert "userMetadata" not in started
    desc = await handle.describe()
    assert await desc.static_summary() is None
    assert await desc.static_details() is None


async def test_signal_with_start_sends_them_too(client: Client, workflow_id: str) -> None:
    async with running_worker(client, WaitsForSignal) as worker:
        handle = await client.start_workflow(
            WaitsForSignal.run,
            id=workflow_id,
            task_queue=worker.task_queue,
            start_signal="go",
            priority=Priority(priority_key=5),
            static_summary="signalled into being",
        )
        assert await handle.result() == {"key": 5, "fairness_key": None, "weight": None}
    (started,) = await _events(handle, "WORKFLOW_EXECUTION_STARTED")
    assert _attributes(started)["priority"] == {"priorityKey": 5}
    assert _metadata(started) == {"summary": "signalled into being"}
    assert len(await _events(handle, "WORKFLOW_EXECUTION_SIGNALED")) == 1


def test_priority_checks_its_key_like_the_official_sdk() -> None:
    assert Priority.default == Priority()
    assert Priority.default.priority_key is None
    with pytest.raises(ValueError, match="priority_key must be a positive integer"):
        Priority(priority_key=0)
    with pytest.raises(ValueError, match="priority_key must be a positive integer"):
        Priority(priority_key=-1)
    with pytest.raises(TypeError, match="priority_key must be an integer"):
        Priority(priority_key="1")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "priority, message",
    [
        (Priority(fairness_key="k" * 65), "fairness_key is 65 bytes long; at most 64"),
        (Priority(fairness_weight=-1.0), "fairness_weight must be a positive finite number"),
        (Priority(fairness_weight=float("nan")), "fairness_weight"),
        (Priority(priority_key=2**31), "does not fit in 32 bits"),
    ],
)
async def test_bad_priority_is_refused_before_sending(
    client: Client, workflow_id: str, priority: Priority, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await client.start_workflow("Nothing", id=workflow_id, task_queue="nowhere", priority=priority)
    with pytest.raises(RPCError):
        await client.get_workflow_handle(workflow_id).describe()


async def test_fairness_key_of_the_wrong_type_is_a_type_error(client: Client, workflow_id: str) -> None:
    with pytest.raises(TypeError, match="fairness_key must be a string"):
        await client.start_workflow(
            "Nothing", id=workflow_id, task_queue="nowhere", priority=Priority(fairness_key=7)  # type: ignore[arg-type]
        )


# ---------------------------------------------------------------------------
# Workflows
# ---------------------------------------------------------------------------


async def test_workflow_commands_carry_priority_and_summaries(client: Client, workflow_id: str) -> None:
    async with running_worker(client, Annotated, ReportsPriority) as worker:
        handle = await client.start_workflow(
            Annotated.run,
            id=workflow_id,
            task_queue=worker.task_queue,
            priority=Priority(priority_key=3, fairness_key="wf-tenant"),
        )
        result = await handle.result()
    # The child has its own key and the parent's fairness key, as the server merges them.
    assert result == {
        "activity": "A",
        "inherits": "B",
        "local": "C",
        "timed_out": True,
        "child": {"key": 1, "fairness_key": "wf-tenant", "weight": None},
    }

    first, second = await _events(handle, "ACTIVITY_TASK_SCHEDULED")
    assert _attributes(first)["priority"] == {"priorityKey": 4, "fairnessKey": "act-tenant", "fairnessWeight": 3}
    assert _metadata(first) == {"summary": "shout it"}
    assert "userMetadata" not in second

    (marker,) = await _events(handle, "MARKER_RECORDED")
    assert _attributes(marker)["markerName"] == "core_local_activity"
    assert _metadata(marker) == {"summary": "shout locally"}

    timers = await _events(handle, "TIMER_STARTED")
    assert [_metadata(t) for t in timers] == [{"summary": "short nap"}, {}, {"summary": "give up soon"}]

    (initiated,) = await _events(handle, "START_CHILD_WORKFLOW_EXECUTION_INITIATED")
    assert _attributes(initiated)["priority"] == {"priorityKey": 1}
    assert _metadata(initiated) == {"summary": "the child", "details": "what the child does"}
    child = client.get_workflow_handle(f"{workflow_id}-child")
    desc = await child.describe()
    assert await desc.static_summary() == "the child"
    assert await desc.static_details() == "what the child does"

    # Other priorities and summaries (or none) replay the same history: they are not compared.
    history = await handle.fetch_history()
    await Replayer(workflows=[AnnotatedDifferently, ReportsPriority]).replay_workflow(history)
    await Replayer(workflows=[Annotated, ReportsPriority]).replay_workflow(history)


async def test_bad_priority_in_a_workflow_raises_value_error(client: Client, workflow_id: str) -> None:
    async with running_worker(client, TriesBadPriority) as worker:
        errors = await client.execute_workflow(TriesBadPriority.run, id=workflow_id, task_queue=worker.task_queue)
    assert len(errors) == 3
    assert "fairness_key is 65 bytes long" in errors[0]
    assert "fairness_weight" in errors[1] and "fairness_weight" in errors[2]
    # Nothing was scheduled.
    assert await _events(client.get_workflow_handle(workflow_id), "ACTIVITY_TASK_SCHEDULED") == []


async def test_continue_as_new_backoff_start_interval(client: Client, workflow_id: str) -> None:
    async with running_worker(client, ContinuesWithDelay) as worker:
        handle = await client.start_workflow(ContinuesWithDelay.run, 1, id=workflow_id, task_queue=worker.task_queue)
        first_run = handle.first_execution_run_id
        assert await handle.result() == 0
    first = client.get_workflow_handle(workflow_id, run_id=first_run)
    (continued,) = await _events(first, "WORKFLOW_EXECUTION_CONTINUED_AS_NEW")
    assert _attributes(continued)["backoffStartInterval"] == "1s"
    latest = client.get_workflow_handle(workflow_id)
    (started,) = await _events(latest, "WORKFLOW_EXECUTION_STARTED")
    assert _attributes(started)["firstWorkflowTaskBackoff"] == "1s"
    desc = await latest.describe()
    assert desc.execution_time is not None and desc.start_time is not None
    assert desc.execution_time - desc.start_time >= timedelta(seconds=1)


async def test_continue_as_new_without_backoff_has_none(client: Client, workflow_id: str) -> None:
    @workflow.defn(name="ContinuesAtOnce")
    class ContinuesAtOnce:
        @workflow.run
        async def run(self, left: int) -> int:
            if left > 0:
                workflow.continue_as_new(left - 1)
            return left

    async with running_worker(client, ContinuesAtOnce) as worker:
        handle = await client.start_workflow(ContinuesAtOnce.run, 1, id=workflow_id, task_queue=worker.task_queue)
        first_run: Optional[str] = handle.first_execution_run_id
        assert await handle.result() == 0
    (continued,) = await _events(client.get_workflow_handle(workflow_id, run_id=first_run), "WORKFLOW_EXECUTION_CONTINUED_AS_NEW")
    assert "backoffStartInterval" not in _attributes(continued)
