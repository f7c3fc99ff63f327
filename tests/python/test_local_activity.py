"""Local activities end to end against a real Temporal dev server.

The seed's GreetingWorkflow (python-sdk-phase-2.md) runs as written, with
``workflow.execute_local_activity``; only its obvious slips are fixed (the
missing ``self`` of ``__init__``, and the coroutines given to
``asyncio.wait``, which Python 3.11 requires to be tasks).

Retries whose backoff exceeds ``local_retry_threshold`` wait on a workflow
timer, as sdk-core has them; those histories are checked against the
official SDK both ways (tests/fixtures/la_backoff_*).
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import json
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from temporalio import activity, workflow
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError, TimeoutError
from temporalio.worker import Worker

_executor = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="test_la_")


# ---- the seed ----


@activity.defn
def create_greeting_activity(salutation: str, name: str) -> str:
    return f"{salutation}, {name}!"


@workflow.defn
class GreetingWorkflow:
    def __init__(self) -> None:
        self._salutation = "Hello"
        self._salutation_update = asyncio.Event()
        self._complete = asyncio.Event()

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

            # Wait for salutation update or complete signal (this can be
            # cancelled)
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


def create_worker(client: Client, task_queue: str, **kwargs: Any) -> Worker:
    return Worker(
        client=client,
        task_queue=task_queue,
        activities=[create_greeting_activity],
        workflows=[GreetingWorkflow],
        activity_executor=_executor,
        **kwargs,
    )


async def query_until(handle: Any, expected: str) -> None:
    for _ in range(100):
        try:
            if await handle.query(GreetingWorkflow.current_greeting) == expected:
                return
        except Exception:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"the greeting never became {expected!r}")


async def test_seed_greeting_workflow(client: Client) -> None:
    tq = f"la-{uuid.uuid4()}"
    async with create_worker(client, tq):
        # Start the workflow
        handle = await client.start_workflow(GreetingWorkflow.run, "John", id=f"greet-{uuid.uuid4()}", task_queue=tq)
        # Confirm the current greeting
        await query_until(handle, "Hello, John!")
        assert "Hello, John!" == await handle.query(GreetingWorkflow.current_greeting)
        # Change the salutation part
        await handle.signal(GreetingWorkflow.update_salutation, "Hola")
        await query_until(handle, "Hola, John!")
        # Now tell it to complete with the new greeting
        await handle.signal(GreetingWorkflow.complete_with_greeting)
        # Check result
        assert "Hola, John!" == await asyncio.wait_for(handle.result(), 20)
    events = (await handle.fetch_history()).events
    markers = [e for e in events if e.get("eventType") == "EVENT_TYPE_MARKER_RECORDED"]
    assert len(markers) == 2
    assert all(m["markerRecordedEventAttributes"]["markerName"] == "core_local_activity" for m in markers)
    assert not any(e.get("eventType") == "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED" for e in events)


# ---- retries, failures, replay ----

CALLS: dict[str, int] = {}
_calls_lock = threading.Lock()


def _count(key: str) -> int:
    with _calls_lock:
        CALLS[key] = CALLS.get(key, 0) + 1
        return CALLS[key]


@activity.defn
def flaky(key: str) -> str:
    n = _count(key)
    info = activity.info()
    assert info.is_local
    assert info.attempt == n
    if n < 3:
        raise RuntimeError(f"attempt {n} fails")
    return f"ok after {n}"


@activity.defn
def always_fails(key: str) -> str:
    _count(key)
    raise ApplicationError("boom", type="Boom")


@activity.defn
def counted(key: str) -> str:
    return f"call {_count(key)}"


@workflow.defn
class LocalActivityWorkflow:
    def __init__(self) -> None:
        self._go = False

    @workflow.run
    async def run(self, kind: str, key: str) -> str:
        if kind == "retry":
            return await workflow.execute_local_activity(
                flaky,
                key,
                start_to_close_timeout=timedelta(seconds=5),
                retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=100)),
            )
        if kind == "fail":
            try:
                await workflow.execute_local_activity(
                    always_fails,
                    key,
                    start_to_close_timeout=timedelta(seconds=5),
                    retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=50), maximum_attempts=2),
                )
            except ActivityError as err:
                cause = err.cause
                assert isinstance(cause, ApplicationError)
                return f"failed: {cause.message} ({cause.type})"
            return "no error"
        # "replay": a local activity, then wait for a signal (the worker restarts in between)
        first = await workflow.execute_local_activity(counted, key, start_to_close_timeout=timedelta(seconds=5))
        await workflow.wait_condition(lambda: self._go)
        return first

    @workflow.signal
    def go(self) -> None:
        self._go = True


def la_worker(client: Client, tq: str, **kwargs: Any) -> Worker:
    return Worker(
        client,
        task_queue=tq,
        workflows=[LocalActivityWorkflow],
        activities=[flaky, always_fails, counted],
        activity_executor=_executor,
        **kwargs,
    )


async def test_local_activity_retries_then_succeeds(client: Client) -> None:
    tq = f"la-{uuid.uuid4()}"
    key = f"retry-{uuid.uuid4()}"
    async with la_worker(client, tq):
        result = await asyncio.wait_for(
            client.execute_workflow(LocalActivityWorkflow.run, args=["retry", key], id=f"la-{uuid.uuid4()}", task_queue=tq),
            30,
        )
    assert result == "ok after 3"
    assert CALLS[key] == 3


async def test_local_activity_failure_is_activity_error(client: Client) -> None:
    tq = f"la-{uuid.uuid4()}"
    key = f"fail-{uuid.uuid4()}"
    async with la_worker(client, tq):
        result = await asyncio.wait_for(
            client.execute_workflow(LocalActivityWorkflow.run, args=["fail", key], id=f"la-{uuid.uuid4()}", task_queue=tq),
            30,
        )
    assert result == "failed: boom (Boom)"
    assert CALLS[key] == 2


async def test_local_activity_not_run_again_on_replay(client: Client) -> None:
    tq = f"la-{uuid.uuid4()}"
    key = f"replay-{uuid.uuid4()}"
    async with la_worker(client, tq):
        handle = await client.start_workflow(
            LocalActivityWorkflow.run, args=["replay", key], id=f"la-{uuid.uuid4()}", task_queue=tq
        )
        for _ in range(100):
            events = (await handle.fetch_history()).events
            if any(e.get("eventType") == "EVENT_TYPE_MARKER_RECORDED" for e in events):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("no marker recorded")
    assert CALLS[key] == 1
    # A new worker (empty cache) replays the history with the marker: the activity is not run again.
    async with la_worker(client, tq, max_cached_workflows=0):
        await handle.signal(LocalActivityWorkflow.go)
        assert await asyncio.wait_for(handle.result(), 30) == "call 1"
    assert CALLS[key] == 1


async def test_replayer_with_local_activity_marker(client: Client) -> None:
    tq = f"la-{uuid.uuid4()}"
    async with create_worker(client, tq):
        handle = await client.start_workflow(GreetingWorkflow.run, "Ann", id=f"greet-{uuid.uuid4()}", task_queue=tq)
        await query_until(handle, "Hello, Ann!")
        await handle.signal(GreetingWorkflow.complete_with_greeting)
        assert await asyncio.wait_for(handle.result(), 20) == "Hello, Ann!"
    from temporalio.worker import Replayer

    history = await handle.fetch_history()
    result = await Replayer(workflows=[GreetingWorkflow]).replay_workflow(history)
    assert result.replay_failure is None


# ---- max_concurrent_local_activities and schedule_to_start_timeout ----

_SPANS: dict[str, list[tuple[str, float, float]]] = {}
_spans_lock = threading.Lock()
_slot_executor = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="test_la_slots_")


@activity.defn
def timed_sleep(key: str, name: str, seconds: float) -> str:
    start = time.monotonic()
    time.sleep(seconds)
    end = time.monotonic()
    with _spans_lock:
        _SPANS.setdefault(key, []).append((name, start, end))
    return name


def _max_overlap(spans: list[tuple[str, float, float]]) -> int:
    # Ends sort before starts at the same instant: back-to-back activities do not overlap.
    points = sorted([(s, 1) for _, s, _ in spans] + [(e, -1) for _, _, e in spans], key=lambda p: (p[0], p[1]))
    running = peak = 0
    for _, delta in points:
        running += delta
        peak = max(peak, running)
    return peak


@workflow.defn
class LocalActivitySlotsWorkflow:
    @workflow.run
    async def run(self, kind: str, key: str) -> list[str]:
        if kind == "fanout":
            handles = [
                workflow.start_local_activity(
                    timed_sleep, args=[key, f"la{i}", 0.3], start_to_close_timeout=timedelta(seconds=30)
                )
                for i in range(5)
            ]
            return list(await asyncio.gather(*handles))
        # "s2s": a long one takes the only slot; the second waits past its schedule_to_start timeout.
        long = workflow.start_local_activity(
            timed_sleep, args=[key, "long", 1.5], start_to_close_timeout=timedelta(seconds=30)
        )
        short = workflow.start_local_activity(
            timed_sleep,
            args=[key, "short", 0.0],
            schedule_to_start_timeout=timedelta(milliseconds=200),
            start_to_close_timeout=timedelta(seconds=30),
        )
        outcome = ["no error"]
        try:
            await short
        except ActivityError as err:
            cause = err.cause
            assert isinstance(cause, TimeoutError), repr(cause)
            outcome = [f"timeout {cause.type.name if cause.type is not None else None}"]
        return outcome + [await long]


def slots_worker(client: Client, tq: str, **kwargs: Any) -> Worker:
    return Worker(
        client,
        task_queue=tq,
        workflows=[LocalActivitySlotsWorkflow],
        activities=[timed_sleep],
        activity_executor=_slot_executor,
        **kwargs,
    )


async def test_max_concurrent_local_activities_limits_running(client: Client) -> None:
    tq = f"la-{uuid.uuid4()}"
    key = f"fanout-{uuid.uuid4()}"
    async with slots_worker(client, tq, max_concurrent_local_activities=2):
        result = await asyncio.wait_for(
            client.execute_workflow(
                LocalActivitySlotsWorkflow.run, args=["fanout", key], id=f"la-{uuid.uuid4()}", task_queue=tq
            ),
            60,
        )
    assert sorted(result) == [f"la{i}" for i in range(5)]
    spans = _SPANS[key]
    assert sorted(name for name, _, _ in spans) == [f"la{i}" for i in range(5)]
    assert _max_overlap(spans) == 2


async def test_local_activity_schedule_to_start_timeout_while_queued(client: Client) -> None:
    tq = f"la-{uuid.uuid4()}"
    key = f"s2s-{uuid.uuid4()}"
    async with slots_worker(client, tq, max_concurrent_local_activities=1):
        result = await asyncio.wait_for(
            client.execute_workflow(
                LocalActivitySlotsWorkflow.run, args=["s2s", key], id=f"la-{uuid.uuid4()}", task_queue=tq
            ),
            60,
        )
    assert result == ["timeout SCHEDULE_TO_START", "long"]
    # The queued one never ran (nor was it retried).
    assert [name for name, _, _ in _SPANS[key]] == ["long"]


@pytest.mark.parametrize(
    "value, error",
    [(0, ValueError), (-1, ValueError), ("2", TypeError), (1.5, TypeError), (True, TypeError), (2**32, ValueError)],
)
async def test_max_concurrent_local_activities_bad_value(client: Client, value: Any, error: type) -> None:
    with pytest.raises(error, match="max_concurrent_local_activities"):
        slots_worker(client, f"la-{uuid.uuid4()}", max_concurrent_local_activities=value)


# ---- retries past local_retry_threshold wait on a workflow timer (as sdk-core does) ----
#
# The workflows and activities live in tests/fixtures/la_backoff_workflows.py,
# importable by the official SDK too: it replays the histories recorded here,
# and its own recording (la_backoff_official.json) replays here.

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures"
REFERENCE_PYTHON = Path(__file__).resolve().parents[2] / ".venv-ref" / "bin" / "python"
sys.path.insert(0, str(FIXTURES))

from la_backoff_workflows import (  # noqa: E402
    SEEN,
    LocalBackoffCancelWorkflow,
    LocalBackoffDeadlineWorkflow,
    LocalBackoffWorkflow,
    backoff_always_fails,
    backoff_flaky,
)

BACKOFF_WORKFLOWS = [LocalBackoffWorkflow, LocalBackoffCancelWorkflow, LocalBackoffDeadlineWorkflow]


def backoff_worker(client: Client, tq: str) -> Worker:
    return Worker(
        client,
        task_queue=tq,
        workflows=BACKOFF_WORKFLOWS,
        activities=[backoff_flaky, backoff_always_fails],
        activity_executor=_executor,
    )


def _kinds(events: Any, *kinds: str) -> list[str]:
    """The event types of events (without their prefix) among kinds, in order."""
    out = [e["eventType"].removeprefix("EVENT_TYPE_") for e in events]
    return [k for k in out if k in kinds]


def _la_markers(events: Any) -> list[tuple[dict[str, Any], Any, Any]]:
    """(data, failure, result payload) of each core_local_activity marker."""
    out = []
    for e in events:
        if e["eventType"] != "EVENT_TYPE_MARKER_RECORDED":
            continue
        m = e["markerRecordedEventAttributes"]
        assert m["markerName"] == "core_local_activity"
        data = json.loads(base64.b64decode(m["details"]["data"]["payloads"][0]["data"]))
        result = m["details"].get("result")
        out.append((data, m.get("failure"), result))
    return out


def _timers(events: Any) -> list[dict[str, Any]]:
    return [e["timerStartedEventAttributes"] for e in events if e["eventType"] == "EVENT_TYPE_TIMER_STARTED"]


def _replays_on_the_official_sdk(history: Any, tmp_path: Path) -> None:
    assert REFERENCE_PYTHON.exists(), "the official SDK's venv (.venv-ref) is missing: scripts/test.sh creates it"
    path = tmp_path / "history.json"
    path.write_text(json.dumps({"events": list(history.events)}))
    done = subprocess.run(
        [str(REFERENCE_PYTHON), str(FIXTURES / "la_backoff_replay.py"), str(path)],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0 and "replayed" in done.stdout, done.stdout + done.stderr


async def _replays_here(history: Any) -> None:
    from temporalio.worker import Replayer

    result = await Replayer(workflows=BACKOFF_WORKFLOWS).replay_workflow(history)
    assert result.replay_failure is None


async def test_local_activity_retry_past_threshold_waits_on_a_timer(client: Client, tmp_path: Path) -> None:
    tq = f"la-{uuid.uuid4()}"
    key = f"backoff-{uuid.uuid4()}"
    async with backoff_worker(client, tq):
        handle = await client.start_workflow(
            LocalBackoffWorkflow.run, args=[key, 1000], id=f"la-{uuid.uuid4()}", task_queue=tq
        )
        assert await asyncio.wait_for(handle.result(), 60) == f"{key} ok after 3"
        history = await handle.fetch_history()
    assert SEEN[key] == [1, 2, 3]
    events = history.events
    # Each failed attempt is recorded, then the workflow waits on a timer for the 1.5 s backoff.
    assert _kinds(events, "MARKER_RECORDED", "TIMER_STARTED", "TIMER_FIRED", "WORKFLOW_EXECUTION_COMPLETED") == [
        "MARKER_RECORDED", "TIMER_STARTED", "TIMER_FIRED",
        "MARKER_RECORDED", "TIMER_STARTED", "TIMER_FIRED",
        "MARKER_RECORDED", "WORKFLOW_EXECUTION_COMPLETED",
    ]
    assert [t["startToFireTimeout"] for t in _timers(events)] == ["1.500s", "1.500s"]
    markers = _la_markers(events)
    # A new seq (and default activity id) per scheduling, the attempt counting on, as sdk-core writes them.
    seq_id_attempt = [(d["seq"], d["activity_id"], d["attempt"]) for d, _, _ in markers]
    assert seq_id_attempt == [(1, "1", 1), (2, "2", 2), (3, "3", 3)]
    assert [d["backoff"] for d, _, _ in markers] == [{"seconds": 1, "nanos": 500000000}] * 2 + [None]
    assert len({json.dumps(d["original_schedule_time"]) for d, _, _ in markers}) == 1
    assert [f is not None for _, f, _ in markers] == [True, True, False]
    assert markers[0][1]["cause"]["message"] == "attempt 1 fails"
    assert markers[2][2] is not None
    await _replays_here(history)
    _replays_on_the_official_sdk(history, tmp_path)


async def test_local_activity_retry_within_threshold_stays_in_the_worker(client: Client) -> None:
    tq = f"la-{uuid.uuid4()}"
    key = f"backoff-{uuid.uuid4()}"
    async with backoff_worker(client, tq):
        handle = await client.start_workflow(
            LocalBackoffWorkflow.run, args=[key, 10_000], id=f"la-{uuid.uuid4()}", task_queue=tq
        )
        assert await asyncio.wait_for(handle.result(), 60) == f"{key} ok after 3"
        history = await handle.fetch_history()
    assert SEEN[key] == [1, 2, 3]
    assert _kinds(history.events, "MARKER_RECORDED", "TIMER_STARTED", "TIMER_FIRED") == ["MARKER_RECORDED"]
    [(data, failure, result)] = _la_markers(history.events)
    assert (data["seq"], data["attempt"], data["backoff"], failure) == (1, 3, None, None)
    assert result is not None


@pytest.mark.parametrize("how", ["handle", "workflow"])
async def test_local_activity_cancelled_during_its_backoff_timer(client: Client, how: str, tmp_path: Path) -> None:
    tq = f"la-{uuid.uuid4()}"
    key = f"backoff-cancel-{uuid.uuid4()}"
    async with backoff_worker(client, tq):
        handle = await client.start_workflow(
            LocalBackoffCancelWorkflow.run, args=[key, how], id=f"la-{uuid.uuid4()}", task_queue=tq
        )
        if how == "handle":
            # The workflow cancels the handle while the 30 s backoff timer runs.
            assert await asyncio.wait_for(handle.result(), 30) == "cancelled: CancelledError"
        else:
            for _ in range(100):
                if any(t["startToFireTimeout"] == "30s" for t in _timers((await handle.fetch_history()).events)):
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("the backoff timer never started")
            await handle.cancel()
            with pytest.raises(WorkflowFailureError) as err:
                await asyncio.wait_for(handle.result(), 30)
            assert isinstance(err.value.cause, CancelledError)
        history = await handle.fetch_history()
    assert SEEN[key] == [1], "no attempt after the cancellation"
    events = history.events
    backoff_timer = [t for t in _timers(events) if t["startToFireTimeout"] == "30s"]
    assert len(backoff_timer) == 1
    cancelled = [
        e["timerCanceledEventAttributes"]["timerId"] for e in events if e["eventType"] == "EVENT_TYPE_TIMER_CANCELED"
    ]
    assert cancelled == [backoff_timer[0]["timerId"]]
    assert len(_la_markers(events)) == 1
    if how == "workflow":
        assert _kinds(events, "WORKFLOW_EXECUTION_CANCELED") == ["WORKFLOW_EXECUTION_CANCELED"]
    await _replays_here(history)
    _replays_on_the_official_sdk(history, tmp_path)


async def test_local_activity_schedule_to_close_counts_from_the_first_attempt(client: Client, tmp_path: Path) -> None:
    # schedule_to_close 3 s, 2 s between attempts: attempt 2 (after a timer) fails past what is left of the 3 s.
    # Were the timeout counted again from each retry's own schedule, the retries would go on every 2 s.
    tq = f"la-{uuid.uuid4()}"
    key = f"backoff-deadline-{uuid.uuid4()}"
    async with backoff_worker(client, tq):
        handle = await client.start_workflow(
            LocalBackoffDeadlineWorkflow.run, key, id=f"la-{uuid.uuid4()}", task_queue=tq
        )
        result = await asyncio.wait_for(handle.result(), 30)
        history = await handle.fetch_history()
    # Attempt 2 normally runs and its failure is final (retry state TIMEOUT); on a very slow machine the
    # deadline passes during the timer and the retry times out before it starts (SCHEDULE_TO_CLOSE).
    assert result in (
        "ActivityError TIMEOUT caused by ApplicationError",
        "ActivityError TIMEOUT caused by TimeoutError",
    )
    assert SEEN[key] == ([1, 2] if "ApplicationError" in result else [1])
    assert len(_timers(history.events)) == 1
    markers = _la_markers(history.events)
    assert len({json.dumps(d["original_schedule_time"]) for d, _, _ in markers}) == 1
    await _replays_here(history)
    _replays_on_the_official_sdk(history, tmp_path)


async def test_official_local_activity_backoff_history_replays_here() -> None:
    from temporalio.client import WorkflowHistory

    history = WorkflowHistory.from_json("la-backoff", (FIXTURES / "la_backoff_official.json").read_text())
    assert len(_timers(history.events)) == 2
    await _replays_here(history)
