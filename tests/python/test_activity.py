"""Activities run by the Python worker against a real dev server.

The workflow side is the C example ``build/examples/activity_caller``
("ActivityCaller": runs the activity its JSON input describes, ends with
the activity's outcome), started as a subprocess worker on the test's own
task queue; the Python :py:class:`temporalio.worker.Worker` on the same
task queue serves the activities.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import signal
import threading
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from temporalio import activity
from temporalio.client import AsyncActivityCancelledError, Client, WorkflowFailureError
from temporalio.common import RawValue
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError, TimeoutError
from temporalio.worker import (
    ActivityInboundInterceptor,
    ActivityOutboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
    Worker,
)

REPO = Path(__file__).resolve().parents[2]
CALLER = Path(os.environ.get("TW_ACTIVITY_CALLER", REPO / "build" / "examples" / "activity_caller"))

WAIT = 30.0


@asynccontextmanager
async def caller_worker(address: str, task_queue: str) -> AsyncIterator[None]:
    """Runs the C ActivityCaller workflow worker on task_queue while the block runs."""
    assert CALLER.exists(), f"{CALLER} is missing: build it with `ninja -C build`"
    proc = await asyncio.create_subprocess_exec(
        str(CALLER), "worker", address, task_queue, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), WAIT)
        assert line.strip() == b"ready", f"activity_caller said {line!r}"
        yield
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), WAIT)
            except asyncio.TimeoutError:
                proc.kill()
                await proc.wait()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


async def call(client: Client, task_queue: str, activity_type: str, *args: Any, **options: Any) -> Any:
    """Runs ActivityCaller for one activity and returns the workflow's result."""
    handle = await client.start_workflow(
        "ActivityCaller",
        {"activity_type": activity_type, "args": list(args), **options},
        id=unique("caller"),
        task_queue=task_queue,
    )
    return await asyncio.wait_for(handle.result(), WAIT)


async def call_failing(client: Client, task_queue: str, activity_type: str, *args: Any, **options: Any) -> BaseException:
    """Runs ActivityCaller expecting it to fail; returns the activity failure's cause."""
    with pytest.raises(WorkflowFailureError) as info:
        await call(client, task_queue, activity_type, *args, **options)
    err = info.value.cause
    assert isinstance(err, ActivityError), f"workflow failed with {err!r}, not an activity error"
    assert err.cause is not None
    return err.cause


@pytest.fixture
def task_queue() -> str:
    return unique("py-activity")


@pytest.fixture
def executor() -> Any:
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        yield pool


# ---------------------------------------------------------------------------
# Activities
# ---------------------------------------------------------------------------

seen: dict[str, Any] = {}


@activity.defn
def greet(name: str) -> str:
    info = activity.info()
    seen["greet"] = info
    seen["greet_thread"] = threading.current_thread().name
    activity.heartbeat("working")
    return f"Hello, {name}!"


@activity.defn(name="async_greet")
async def greet_async(name: str) -> str:
    seen["client"] = activity.client()
    seen["in_activity"] = activity.in_activity()
    activity.logger.info("greeting %s", name)
    await asyncio.sleep(0)
    return f"Hi, {name}!"


@activity.defn
async def flaky() -> int:
    attempt = activity.info().attempt
    if attempt == 1:
        raise ApplicationError("first attempt fails")
    return attempt


@activity.defn
async def boom() -> None:
    try:
        raise ValueError("root cause")
    except ValueError as err:
        raise ApplicationError("it went boom", "detail", 7, type="Boom", non_retryable=True) from err


@activity.defn
def plain_error() -> None:
    raise KeyError("missing")


@activity.defn
async def checkpoint() -> list[Any]:
    info = activity.info()
    if info.attempt == 1:
        activity.heartbeat("step", 1)
        activity.heartbeat("step", 2)
        await asyncio.sleep(0.05)
        raise ApplicationError("crash after checkpoint")
    return list(info.heartbeat_details)


@activity.defn
async def wait_cancel() -> None:
    try:
        while True:
            activity.heartbeat()
            await asyncio.sleep(0.1)
    except asyncio.CancelledError:
        seen["cancel_details"] = activity.cancellation_details()
        seen["is_cancelled"] = activity.is_cancelled()
        raise


@activity.defn
def wait_cancel_sync() -> str:
    # The thread gets a CancelledError raised inside it on cancellation.
    try:
        while True:
            activity.heartbeat()
            time.sleep(0.05)
    except CancelledError:
        seen["sync_cancel_details"] = activity.cancellation_details()
        raise


@activity.defn(no_thread_cancel_exception=True)
def wait_cancel_polling() -> str:
    while not activity.is_cancelled():
        activity.heartbeat()
        activity.wait_for_cancelled_sync(0.05)
    return "noticed cancellation"


@activity.defn
async def complete_later() -> None:
    seen.setdefault("tokens", asyncio.Queue()).put_nowait(activity.info().task_token)
    activity.raise_complete_async()


@activity.defn
async def typed(n: int) -> int:
    return n * 2


@activity.defn(dynamic=True)
async def anything(args: Sequence[RawValue]) -> str:
    values = [activity.payload_converter().from_payload(a.payload) for a in args]
    return f"{activity.info().activity_type}:{values}"


# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------


async def test_sync_activity_runs_in_the_thread_pool(
    client: Client, server_address: str, task_queue: str, executor: Any
) -> None:
    async with caller_worker(server_address, task_queue), Worker(
        client, task_queue=task_queue, activities=[greet], activity_executor=executor
    ):
        result = await call(client, task_queue, "greet", "World", activity_id="greet-1", heartbeat_timeout_ms=4000)
    assert result == "Hello, World!"
    info: activity.Info = seen["greet"]
    assert info.activity_type == "greet"
    assert info.activity_id == "greet-1"
    assert info.attempt == 1
    assert info.workflow_type == "ActivityCaller"
    assert info.task_queue == task_queue
    assert info.namespace == "default"
    assert info.in_workflow and info.workflow_run_id
    assert info.heartbeat_timeout == timedelta(seconds=4)
    assert info.start_to_close_timeout == timedelta(seconds=30)
    assert info.retry_policy is not None and info.retry_policy.maximum_attempts == 1
    assert info.task_token
    assert seen["greet_thread"] != threading.main_thread().name


async def test_async_activity_runs_on_the_loop(
    client: Client, server_address: str, task_queue: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="temporalio.activity")
    async with caller_worker(server_address, task_queue), Worker(
        client, task_queue=task_queue, activities=[greet_async]
    ):
        assert await call(client, task_queue, "async_greet", "Ada") == "Hi, Ada!"
    assert seen["client"] is client
    assert seen["in_activity"] is True
    records = [r for r in caplog.records if "greeting Ada" in r.getMessage()]
    assert records, "the activity logger wrote nothing"
    assert getattr(records[0], "temporal_activity")["activity_type"] == "async_greet"
    assert "async_greet" in records[0].getMessage()


async def test_retryable_failure_then_success(client: Client, server_address: str, task_queue: str) -> None:
    async with caller_worker(server_address, task_queue), Worker(client, task_queue=task_queue, activities=[flaky]):
        result = await call(client, task_queue, "flaky", retry={"max_attempts": 3, "initial_interval_ms": 100})
    assert result == 2


async def test_non_retryable_failure_reaches_the_caller(
    client: Client, server_address: str, task_queue: str, executor: Any
) -> None:
    async with caller_worker(server_address, task_queue), Worker(
        client, task_queue=task_queue, activities=[boom, plain_error], activity_executor=executor
    ):
        cause = await call_failing(client, task_queue, "boom", retry={"max_attempts": 5, "initial_interval_ms": 100})
        assert isinstance(cause, ApplicationError)
        assert cause.type == "Boom"
        assert cause.message == "it went boom"
        assert cause.non_retryable
        assert list(cause.details) == ["detail", 7]
        assert isinstance(cause.cause, ApplicationError) and cause.cause.type == "ValueError"
        assert cause.cause.message == "root cause"

        cause = await call_failing(client, task_queue, "plain_error")
        assert isinstance(cause, ApplicationError)
        assert cause.type == "KeyError"


async def test_heartbeat_details_reach_the_next_attempt(client: Client, server_address: str, task_queue: str) -> None:
    async with caller_worker(server_address, task_queue), Worker(client, task_queue=task_queue, activities=[checkpoint]):
        result = await call(
            client, task_queue, "checkpoint", heartbeat_timeout_ms=10000,
            retry={"max_attempts": 2, "initial_interval_ms": 100},
        )
    # The second heartbeat was throttled, then flushed before the failure was reported.
    assert result == ["step", 2]


async def test_cancellation_arrives_through_heartbeat(
    client: Client, server_address: str, task_queue: str, executor: Any
) -> None:
    async with caller_worker(server_address, task_queue), Worker(
        client, task_queue=task_queue, activities=[wait_cancel, wait_cancel_sync, wait_cancel_polling],
        activity_executor=executor,
    ):
        options: dict[str, Any] = {"heartbeat_timeout_ms": 1000, "cancel_after_ms": 300, "cancellation_type": "wait"}
        cause = await call_failing(client, task_queue, "wait_cancel", **options)
        assert isinstance(cause, CancelledError)
        assert seen["cancel_details"] == activity.ActivityCancellationDetails(cancel_requested=True)
        assert seen["is_cancelled"] is True

        cause = await call_failing(client, task_queue, "wait_cancel_sync", **options)
        assert isinstance(cause, CancelledError)
        assert seen["sync_cancel_details"].cancel_requested

        # Opted out of the thread exception: it notices and returns a result, which the workflow gets.
        assert await call(client, task_queue, "wait_cancel_polling", **options) == "noticed cancellation"


async def test_heartbeat_timeout(client: Client, server_address: str, task_queue: str) -> None:
    @activity.defn(name="silent")
    async def silent() -> None:
        await asyncio.sleep(3)

    async with caller_worker(server_address, task_queue), Worker(client, task_queue=task_queue, activities=[silent]):
        cause = await call_failing(client, task_queue, "silent", heartbeat_timeout_ms=1000)
    assert isinstance(cause, TimeoutError)


async def test_async_completion_by_token(client: Client, server_address: str, task_queue: str) -> None:
    seen["tokens"] = asyncio.Queue()
    async with caller_worker(server_address, task_queue), Worker(
        client, task_queue=task_queue, activities=[complete_later]
    ):
        handle = await client.start_workflow(
            "ActivityCaller", {"activity_type": "complete_later", "heartbeat_timeout_ms": 20000},
            id=unique("async-token"), task_queue=task_queue,
        )
        token = await asyncio.wait_for(seen["tokens"].get(), WAIT)
        activity_handle = client.get_async_activity_handle(task_token=token)
        await activity_handle.heartbeat("still going")
        await activity_handle.complete({"done": True})
        assert await asyncio.wait_for(handle.result(), WAIT) == {"done": True}


async def test_async_completion_by_ids(client: Client, server_address: str, task_queue: str) -> None:
    seen["tokens"] = asyncio.Queue()
    async with caller_worker(server_address, task_queue), Worker(
        client, task_queue=task_queue, activities=[complete_later]
    ):
        # Failed by ids.
        wid = unique("async-ids")
        handle = await client.start_workflow(
            "ActivityCaller", {"activity_type": "complete_later", "activity_id": "outside"},
            id=wid, task_queue=task_queue,
        )
        await asyncio.wait_for(seen["tokens"].get(), WAIT)
        by_ids = client.get_async_activity_handle(workflow_id=wid, activity_id="outside")
        await by_ids.fail(ApplicationError("failed from outside", type="External", non_retryable=True))
        with pytest.raises(WorkflowFailureError) as info:
            await asyncio.wait_for(handle.result(), WAIT)
        assert isinstance(info.value.cause, ActivityError)
        cause = info.value.cause.cause
        assert isinstance(cause, ApplicationError) and cause.type == "External"

        # Cancellation requested by the workflow: the handle's heartbeat says so; report it cancelled.
        wid = unique("async-ids")
        handle = await client.start_workflow(
            "ActivityCaller",
            {"activity_type": "complete_later", "activity_id": "outside", "cancel_after_ms": 200,
             "heartbeat_timeout_ms": 20000},
            id=wid, task_queue=task_queue,
        )
        await asyncio.wait_for(seen["tokens"].get(), WAIT)
        by_ids = client.get_async_activity_handle(workflow_id=wid, activity_id="outside")
        deadline = time.monotonic() + WAIT
        while True:
            try:
                await by_ids.heartbeat()
            except AsyncActivityCancelledError as err:
                assert err.details is not None and err.details.cancel_requested
                break
            assert time.monotonic() < deadline, "the heartbeat never reported the cancellation"
            await asyncio.sleep(0.1)
        await by_ids.report_cancellation("bye")
        with pytest.raises(WorkflowFailureError) as info:
            await asyncio.wait_for(handle.result(), WAIT)
        assert isinstance(info.value.cause, ActivityError)
        assert isinstance(info.value.cause.cause, CancelledError)
        assert list(info.value.cause.cause.details) == ["bye"]

    with pytest.raises(ValueError, match="task_token"):
        client.get_async_activity_handle(workflow_id="w")
    with pytest.raises(ValueError, match="not both"):
        client.get_async_activity_handle(task_token=b"x", workflow_id="w", activity_id="a")


async def test_worker_shutdown_with_a_running_activity(client: Client, server_address: str, task_queue: str) -> None:
    started = asyncio.Event()
    events: list[str] = []

    @activity.defn(name="long_running")
    async def long_running() -> str:
        if activity.info().attempt > 1:
            return "second attempt"
        started.set()
        await activity.wait_for_worker_shutdown()
        events.append("worker shutdown seen")
        try:
            await activity.wait_for_cancelled()
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            details = activity.cancellation_details()
            events.append("cancelled" if details and details.worker_shutdown else f"cancelled: {details}")
            raise
        return "not reached"

    async with caller_worker(server_address, task_queue):
        worker = Worker(
            client, task_queue=task_queue, activities=[long_running],
            graceful_shutdown_timeout=timedelta(milliseconds=500),
        )
        run = asyncio.create_task(worker.run())
        handle = await client.start_workflow(
            "ActivityCaller",
            {"activity_type": "long_running", "start_to_close_ms": 60000,
             "retry": {"max_attempts": 2, "initial_interval_ms": 100}},
            id=unique("shutdown"), task_queue=task_queue,
        )
        await asyncio.wait_for(started.wait(), WAIT)
        t0 = time.monotonic()
        await asyncio.wait_for(worker.shutdown(), WAIT)
        elapsed = time.monotonic() - t0
        await run
        assert events == ["worker shutdown seen", "cancelled"]
        assert elapsed >= 0.4, f"shutdown took {elapsed:.2f} s: the grace period was not honoured"
        assert worker.is_shutdown
        # Reported as a retryable "worker shutdown" failure: another worker runs attempt 2 at once.
        async with Worker(client, task_queue=task_queue, activities=[long_running]):
            assert await asyncio.wait_for(handle.result(), 20) == "second attempt"


async def test_dynamic_activity_and_interceptors(client: Client, server_address: str, task_queue: str) -> None:
    calls: list[str] = []

    class Outbound(ActivityOutboundInterceptor):
        def heartbeat(self, *details: Any) -> None:
            calls.append(f"heartbeat{details}")
            super().heartbeat(*details)

    class Inbound(ActivityInboundInterceptor):
        def init(self, outbound: ActivityOutboundInterceptor) -> None:
            super().init(Outbound(outbound))

        async def execute_activity(self, input: ExecuteActivityInput) -> Any:
            calls.append(f"execute {activity.info().activity_type} {len(input.args)} arg(s)")
            return await super().execute_activity(input)

    class Recorder(Interceptor):
        def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
            return Inbound(next)

    @activity.defn(name="beat")
    async def beat() -> str:
        activity.heartbeat(1, "two")
        return "beaten"

    async with caller_worker(server_address, task_queue), Worker(
        client, task_queue=task_queue, activities=[anything, beat], interceptors=[Recorder()]
    ):
        assert await call(client, task_queue, "whatever", 1, "x") == "whatever:[1, 'x']"
        assert await call(client, task_queue, "beat") == "beaten"
    assert calls == ["execute whatever 1 arg(s)", "execute beat 0 arg(s)", "heartbeat(1, 'two')"]


async def test_bad_input(client: Client, server_address: str, task_queue: str) -> None:
    def undecorated() -> None:
        pass

    with pytest.raises(TypeError, match="undecorated.*not decorated with @activity.defn"):
        Worker(client, task_queue=task_queue, activities=[undecorated])

    @activity.defn(name="typed")
    async def other_typed(n: int) -> int:
        return n

    with pytest.raises(ValueError, match="more than one activity named 'typed'"):
        Worker(client, task_queue=task_queue, activities=[typed, other_typed])
    with pytest.raises(ValueError, match="greet is not async: give the Worker an activity_executor"):
        Worker(client, task_queue=task_queue, activities=[greet])
    with pytest.raises(ValueError, match="At least one activity or workflow"):
        Worker(client, task_queue=task_queue)
    with pytest.raises(TypeError, match="Interceptor"):
        Worker(client, task_queue=task_queue, activities=[typed], interceptors=[object()])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="max_concurrent_activities"):
        Worker(client, task_queue=task_queue, activities=[typed], max_concurrent_activities=0)
    with pytest.raises(ValueError, match="max_concurrent_workflow_task_polls must be at least 1, got 0"):
        Worker(client, task_queue=task_queue, activities=[typed], max_concurrent_workflow_task_polls=0)
    with pytest.raises(ValueError, match=r"nonsticky_to_sticky_poll_ratio must be a number in \(0, 1\], got 1.5"):
        Worker(client, task_queue=task_queue, activities=[typed], nonsticky_to_sticky_poll_ratio=1.5)
    with pytest.raises(ValueError, match="sticky_queue_schedule_to_start_timeout must be a positive timedelta"):
        Worker(client, task_queue=task_queue, activities=[typed],
               sticky_queue_schedule_to_start_timeout=timedelta(0))
    with pytest.raises(ValueError, match="name and dynamic"):
        activity.defn(name="x", dynamic=True)(undecorated)  # type: ignore[call-overload]

    @activity.defn(name="bad_beat")
    async def bad_beat() -> None:
        activity.heartbeat(object())
        await asyncio.sleep(10)

    async with caller_worker(server_address, task_queue), Worker(
        client, task_queue=task_queue, activities=[typed, bad_beat]
    ):
        # Heartbeat details that cannot be converted fail the activity with the conversion error.
        cause = await call_failing(client, task_queue, "bad_beat")
        assert isinstance(cause, ApplicationError) and cause.type == "TypeError"
        assert "not JSON serializable" in cause.message
        # An argument the activity cannot take: a clear failure...
        cause = await call_failing(client, task_queue, "typed", "not a number")
        assert isinstance(cause, ApplicationError)
        assert "Failed decoding arguments of activity typed" in cause.message
        # ...an activity type nobody serves...
        cause = await call_failing(client, task_queue, "nobody")
        assert isinstance(cause, ApplicationError) and cause.type == "NotFoundError"
        assert "nobody is not registered on this worker, available activities: bad_beat, typed" in cause.message
        # ...and the worker keeps serving.
        assert await call(client, task_queue, "typed", 21) == 42


async def test_worker_runs_once_and_shutdown_needs_a_start(client: Client, task_queue: str) -> None:
    worker = Worker(client, task_queue=task_queue, activities=[typed])
    with pytest.raises(RuntimeError, match="never started"):
        await worker.shutdown()
    async with worker:
        assert worker.is_running
    assert worker.is_shutdown
    with pytest.raises(RuntimeError, match="already started"):
        await worker.run()


async def test_max_concurrent_activities(client: Client, server_address: str, task_queue: str) -> None:
    running = 0
    peak = 0

    @activity.defn(name="slot")
    async def slot() -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.3)
        running -= 1

    async with caller_worker(server_address, task_queue), Worker(
        client, task_queue=task_queue, activities=[slot], max_concurrent_activities=2
    ):
        await asyncio.gather(*(call(client, task_queue, "slot") for _ in range(5)))
    assert peak == 2


def test_failure_mirror_round_trips_through_the_wire_format() -> None:
    from temporalio.api.failure.v1 import Failure
    from temporalio.converter import DataConverter

    try:
        try:
            raise ValueError("inner")
        except ValueError as inner:
            raise ApplicationError(
                "outer", {"k": [1, 2]}, type="Outer", non_retryable=True, next_retry_delay=timedelta(seconds=3)
            ) from inner
    except ApplicationError as err:
        failure = Failure()
        asyncio.run(DataConverter.default.encode_failure(err, failure))
    data = failure.SerializeToString()
    again = Failure.FromString(data)
    assert again == failure
    assert again.application_failure_info is not None
    assert again.application_failure_info.next_retry_delay == timedelta(seconds=3)
    assert again.cause is not None and again.cause.message == "inner"
    assert again.SerializeToString() == data


async def test_python_workflow_and_activity_on_one_worker(client: Client, task_queue: str) -> None:
    from temporalio import workflow

    @activity.defn(name="compose_greeting")
    async def compose_greeting(name: str) -> str:
        return f"Hello, {name}!"

    @workflow.defn(name="PyGreeting")
    class PyGreeting:
        @workflow.run
        async def run(self, name: str) -> str:
            return str(
                await workflow.execute_activity(
                    compose_greeting, name, start_to_close_timeout=timedelta(seconds=10)
                )
            )

    async with Worker(client, task_queue=task_queue, workflows=[PyGreeting], activities=[compose_greeting]):
        result = await client.execute_workflow(PyGreeting.run, "World", id=unique("py-greeting"), task_queue=task_queue)
    assert result == "Hello, World!"
