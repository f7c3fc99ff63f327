"""Local activities end to end against a real Temporal dev server.

The seed's GreetingWorkflow (python-sdk-phase-2.md) runs as written, with
``workflow.execute_local_activity``; only its obvious slips are fixed (the
missing ``self`` of ``__init__``, and the coroutines given to
``asyncio.wait``, which Python 3.11 requires to be tasks).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest

from temporalio import activity, workflow
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, TimeoutError
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
