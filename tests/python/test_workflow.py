"""Python workflows on the C workflow runtime, against a real Temporal dev server.

Each test runs a :py:class:`temporalio.worker.Worker` (workflows and
activities) on a task queue of its own. Activities that must stay pending
(to be cancelled) are sent to a task queue nobody polls.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import re
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Optional

import pytest

import temporalio.exceptions
from temporalio import activity, workflow
from temporalio._workflow_runner import IsolatedModuleWorkflowRunner
from temporalio._workflow_worker import check_workflows
from temporalio.worker import (
    ExecuteWorkflowInput,
    HandleQueryInput,
    HandleSignalInput,
    Interceptor,
    Replayer,
    StartActivityInput,
    UnsandboxedWorkflowRunner,
    Worker,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError, WorkflowHandle, WorkflowHistory
from temporalio.common import QueryRejectCondition, RawValue, RetryPolicy
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    CancelledError,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
)

NOBODY = "nobody-polls-this-queue"


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


_activity_executor = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="test_activity_")


@asynccontextmanager
async def running_worker(
    client: Client,
    *workflows: type,
    activities: Sequence[Callable[..., Any]] = (),
    task_queue: Optional[str] = None,
    **kwargs: Any,
) -> AsyncIterator[Worker]:
    """A temporalio.worker.Worker running the workflows (and activities) on a task queue of its own."""
    tq = task_queue or f"tq-{uuid.uuid4()}"
    async with Worker(
        client,
        task_queue=tq,
        workflows=list(workflows),
        activities=list(activities),
        activity_executor=_activity_executor,
        **kwargs,
    ) as worker:
        yield worker


async def history_events(handle: WorkflowHandle[Any, Any]) -> list[dict[str, Any]]:
    return list((await handle.fetch_history()).events)


def event_types(events: list[dict[str, Any]]) -> list[str]:
    return [str(e.get("eventType", "")) for e in events]


async def wait_for_event(
    handle: WorkflowHandle[Any, Any], event_type: str, timeout: float = 15.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        for e in await history_events(handle):
            if e.get("eventType") == event_type:
                return e
        if time.monotonic() > deadline:
            raise AssertionError(f"no {event_type} event in history of {handle.id} after {timeout}s")
        await asyncio.sleep(0.1)


async def result_of(handle: WorkflowHandle[Any, Any], timeout: float = 20.0) -> Any:
    return await asyncio.wait_for(handle.result(), timeout)


def start(client: Client, workflow_fn: Any, *args: Any, worker: Worker, **kwargs: Any) -> Awaitable[Any]:
    return client.start_workflow(
        workflow_fn, *args, id=kwargs.pop("id", f"wf-{uuid.uuid4()}"), task_queue=worker.task_queue, **kwargs
    )


# ---------------------------------------------------------------------------
# Activities
# ---------------------------------------------------------------------------


@activity.defn
def say_hello(name: str) -> str:
    return f"Hello, {name}!"


@activity.defn
def create_greeting_activity(salutation: str, name: str) -> str:
    return f"{salutation}, {name}!"


@activity.defn
async def async_add(a: int, b: int) -> int:
    await asyncio.sleep(0)
    return a + b


@activity.defn
def fail_always(message: str) -> None:
    raise ApplicationError(message, "detail", type="MyError", non_retryable=True)


# ---------------------------------------------------------------------------
# Workflows
# ---------------------------------------------------------------------------


@workflow.defn
class TimerSignalQueryWorkflow:
    def __init__(self) -> None:
        self.name = ""
        self.go = asyncio.Event()
        self.log: list[str] = []

    @workflow.run
    async def run(self, name: str) -> str:
        self.name = name
        self.log.append("run")
        await asyncio.sleep(0.2)
        await workflow.sleep(timedelta(milliseconds=100))
        await self.go.wait()
        return f"Hello, {self.name}!"

    @workflow.signal
    def rename(self, name: str) -> None:
        self.log.append(f"rename:{name}")
        self.name = name
        self.go.set()

    @workflow.query
    def current(self) -> str:
        return self.name

    @workflow.query
    def events(self) -> list[str]:
        return self.log


async def test_timer_signal_query(client: Client) -> None:
    async with running_worker(client, TimerSignalQueryWorkflow) as w:
        handle = await start(client, TimerSignalQueryWorkflow.run, "World", worker=w)
        await wait_for_event(handle, "EVENT_TYPE_TIMER_STARTED")
        assert await handle.query(TimerSignalQueryWorkflow.current) == "World"
        await handle.signal(TimerSignalQueryWorkflow.rename, "Temporal")
        assert await result_of(handle) == "Hello, Temporal!"
        types = event_types(await history_events(handle))
        assert types.count("EVENT_TYPE_TIMER_FIRED") == 2
        # Queries work on a closed workflow too.
        assert await handle.query(TimerSignalQueryWorkflow.events) == ["run", "rename:Temporal"]


async def test_signal_before_run_starts(client: Client) -> None:
    """Signal-with-start: the handler runs before the run method's first step."""
    async with running_worker(client, TimerSignalQueryWorkflow) as w:
        handle = await start(
            client, TimerSignalQueryWorkflow.run, "World", worker=w, start_signal="rename", start_signal_args=["Early"]
        )
        assert await result_of(handle) == "Hello, World!"  # the run overwrote the early name...
        assert await handle.query(TimerSignalQueryWorkflow.events) == ["rename:Early", "run"]  # ...after it


@workflow.defn
class BufferedSignalsWorkflow:
    def __init__(self) -> None:
        self.received: list[str] = []

    @workflow.run
    async def run(self) -> list[str]:
        # No handler yet: signals are buffered by the runtime until one is set.
        await workflow.wait_condition(lambda: self.ready)
        workflow.set_signal_handler("later", lambda value: self.received.append(f"later:{value}"))
        workflow.set_dynamic_signal_handler(lambda name, *args: self.received.append(f"dyn:{name}:{list(args)}"))
        await workflow.wait_condition(lambda: len(self.received) >= 4)
        return self.received

    ready = False

    @workflow.signal
    def start_handling(self) -> None:
        self.ready = True


async def test_buffered_signals_until_handler_exists(client: Client) -> None:
    async with running_worker(client, BufferedSignalsWorkflow) as w:
        handle = await start(client, BufferedSignalsWorkflow.run, worker=w)
        await handle.signal("later", "a")
        await handle.signal("other", 1, 2)
        await handle.signal("later", "b")
        await wait_for_event(handle, "EVENT_TYPE_WORKFLOW_TASK_COMPLETED")
        await asyncio.sleep(0.3)
        await handle.signal(BufferedSignalsWorkflow.start_handling)
        await handle.signal("late-dynamic", "x")
        result = await result_of(handle)
        assert result == ["later:a", "later:b", "dyn:other:[1, 2]", "dyn:late-dynamic:['x']"]


@workflow.defn(dynamic=True)
class DynamicWorkflow:
    def __init__(self) -> None:
        self.signals: list[Any] = []
        self.done = False

    @workflow.run
    async def run(self, args: Sequence[RawValue]) -> dict[str, Any]:
        values = [workflow.payload_converter().from_payload(a.payload) for a in args]
        await workflow.wait_condition(lambda: self.done)
        return {"type": workflow.info().workflow_type, "args": values, "signals": self.signals}

    @workflow.signal(dynamic=True)
    def any_signal(self, name: str, *args: Any) -> None:
        self.signals.append([name, *args])
        if name == "finish":
            self.done = True

    @workflow.query(dynamic=True)
    def any_query(self, name: str, args: Sequence[RawValue]) -> Any:
        return [name, [workflow.payload_converter().from_payload(a.payload) for a in args]]


async def test_dynamic_workflow_signal_query(client: Client) -> None:
    async with running_worker(client, DynamicWorkflow) as w:
        handle = await client.start_workflow("SomeUnknownType", 1, "two", id=f"dyn-{uuid.uuid4()}", task_queue=w.task_queue)
        await handle.signal("hello", "there")
        assert await handle.query("whatever", 5) == ["whatever", [5]]
        await handle.signal("finish")
        assert await result_of(handle) == {
            "type": "SomeUnknownType",
            "args": [1, "two"],
            "signals": [["hello", "there"], ["finish"]],
        }


@workflow.defn
class QueryKindsWorkflow:
    def __init__(self) -> None:
        self.value = "v"

    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: self.value == "done")
        return self.value

    @workflow.signal
    def set_value(self, value: str) -> None:
        self.value = value

    @workflow.query
    async def async_no_wait(self) -> str:
        return self.value

    @workflow.query
    async def async_waits(self) -> str:
        await asyncio.Event().wait()
        return self.value

    @workflow.query
    async def async_sleeps(self) -> str:
        await asyncio.sleep(1)
        return self.value

    @workflow.query
    def mutates(self) -> str:
        workflow.start_activity(say_hello, "x", start_to_close_timeout=timedelta(seconds=1))
        return "unreachable"

    @workflow.query
    def raises(self) -> str:
        raise ValueError("bad query")


async def test_query_kinds_and_rejection(client: Client) -> None:
    async with running_worker(client, QueryKindsWorkflow) as w:
        handle = await start(client, QueryKindsWorkflow.run, worker=w)
        assert await handle.query(QueryKindsWorkflow.async_no_wait) == "v"
        with pytest.raises(WorkflowQueryFailedError, match="awaited something"):
            await handle.query(QueryKindsWorkflow.async_waits)
        with pytest.raises(WorkflowQueryFailedError, match="starting a timer is not allowed in a query handler"):
            await handle.query(QueryKindsWorkflow.async_sleeps)
        with pytest.raises(WorkflowQueryFailedError, match="not allowed in a query handler"):
            await handle.query(QueryKindsWorkflow.mutates)
        with pytest.raises(WorkflowQueryFailedError, match="bad query"):
            await handle.query(QueryKindsWorkflow.raises)
        with pytest.raises(WorkflowQueryFailedError, match="known queries: .*async_no_wait"):
            await handle.query("no_such_query")
        # The workflow is still fine.
        await handle.signal(QueryKindsWorkflow.set_value, "done")
        assert await result_of(handle) == "done"
        assert await handle.query(QueryKindsWorkflow.async_no_wait) == "done"
        with pytest.raises(WorkflowQueryRejectedError):
            await handle.query(QueryKindsWorkflow.async_no_wait, reject_condition=QueryRejectCondition.NOT_OPEN)


@workflow.defn
class WaitConditionWorkflow:
    def __init__(self) -> None:
        self.flag = False

    @workflow.run
    async def run(self) -> list[str]:
        out = []
        try:
            await workflow.wait_condition(lambda: self.flag, timeout=timedelta(milliseconds=300))
            out.append("flag")
        except asyncio.TimeoutError:
            out.append("timeout")
        await workflow.wait_condition(lambda: self.flag, timeout=30)
        out.append("flag")
        return out

    @workflow.signal
    def set_flag(self) -> None:
        self.flag = True


async def test_wait_condition_with_timeout(client: Client) -> None:
    async with running_worker(client, WaitConditionWorkflow) as w:
        handle = await start(client, WaitConditionWorkflow.run, worker=w)
        await wait_for_event(handle, "EVENT_TYPE_TIMER_FIRED")
        await handle.signal(WaitConditionWorkflow.set_flag)
        assert await result_of(handle) == ["timeout", "flag"]
        types = event_types(await history_events(handle))
        assert "EVENT_TYPE_TIMER_CANCELED" in types  # the second wait's timer


@workflow.defn
class TimerRacesSignalWorkflow:
    def __init__(self) -> None:
        self.signalled = asyncio.Event()

    @workflow.run
    async def run(self, timer_seconds: float) -> str:
        sleep_task = asyncio.ensure_future(asyncio.sleep(timer_seconds))
        signal_task = asyncio.ensure_future(self.signalled.wait())
        done, pending = await asyncio.wait([sleep_task, signal_task], return_when=asyncio.FIRST_COMPLETED)
        for p in pending:
            p.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        return "signal" if signal_task in done else "timer"

    @workflow.signal
    def poke(self) -> None:
        self.signalled.set()


async def test_timers_racing_signals(client: Client) -> None:
    async with running_worker(client, TimerRacesSignalWorkflow) as w:
        signal_wins = await start(client, TimerRacesSignalWorkflow.run, 60.0, worker=w)
        await wait_for_event(signal_wins, "EVENT_TYPE_TIMER_STARTED")
        await signal_wins.signal(TimerRacesSignalWorkflow.poke)
        assert await result_of(signal_wins) == "signal"
        assert "EVENT_TYPE_TIMER_CANCELED" in event_types(await history_events(signal_wins))
        timer_wins = await start(client, TimerRacesSignalWorkflow.run, 0.2, worker=w)
        assert await result_of(timer_wins) == "timer"


@workflow.defn
class AsyncioPrimitivesWorkflow:
    @workflow.run
    async def run(self) -> dict[str, Any]:
        lock = asyncio.Lock()
        queue: asyncio.Queue[int] = asyncio.Queue()
        order: list[str] = []

        async def worker_fn(i: int) -> int:
            async with lock:
                order.append(f"in{i}")
                await asyncio.sleep(0.05)
                order.append(f"out{i}")
            await queue.put(i)
            return i * 10

        gathered = await asyncio.gather(*(worker_fn(i) for i in range(3)))
        items = sorted([await queue.get() for _ in range(3)])
        shielded = await asyncio.shield(asyncio.ensure_future(worker_fn(7)))
        try:
            await asyncio.wait_for(asyncio.sleep(10), timeout=0.1)
            timed_out = False
        except asyncio.TimeoutError:
            timed_out = True
        task = asyncio.get_running_loop().create_task(worker_fn(9))
        t_before = workflow.time()
        await asyncio.sleep(0.3)
        return {
            "gathered": gathered,
            "items": items,
            "shielded": shielded,
            "timed_out": timed_out,
            "task": await task,
            "order_ok": order[:6] == ["in0", "out0", "in1", "out1", "in2", "out2"],
            "time_moved": workflow.time() > t_before,
        }


async def test_asyncio_primitives(client: Client) -> None:
    async with running_worker(client, AsyncioPrimitivesWorkflow, max_cached_workflows=0) as w:
        handle = await start(client, AsyncioPrimitivesWorkflow.run, worker=w)
        assert await result_of(handle) == {
            "gathered": [0, 10, 20],
            "items": [0, 1, 2],
            "shielded": 70,
            "timed_out": True,
            "task": 90,
            "order_ok": True,
            "time_moved": True,
        }


@workflow.defn
class DeterminismWorkflow:
    @workflow.run
    async def run(self) -> list[Any]:
        values: list[Any] = []
        for _ in range(3):
            values.append([workflow.random().randint(0, 10**9), str(workflow.uuid4()), workflow.now().isoformat()])
            await asyncio.sleep(0.05)
        info = workflow.info()
        values.append([info.workflow_type, info.attempt, info.task_queue, workflow.memo(), workflow.is_replaying()])
        return values


async def test_determinism_across_replays(client: Client) -> None:
    """With no cache every workflow task replays the run from the start: values must not change."""
    async with running_worker(client, DeterminismWorkflow, max_cached_workflows=0) as w:
        handle = await start(client, DeterminismWorkflow.run, worker=w, memo={"k": "v"})
        result = await result_of(handle)
        assert len({r[1] for r in result[:3]}) == 3
        assert result[3] == ["DeterminismWorkflow", 1, w.task_queue, {"k": "v"}, False]


# ---- activities ----


@workflow.defn
class ActivitiesWorkflow:
    @workflow.run
    async def run(self, name: str) -> list[Any]:
        out: list[Any] = []
        out.append(await workflow.execute_activity(say_hello, name, start_to_close_timeout=timedelta(seconds=10)))
        out.append(
            await workflow.execute_activity(
                create_greeting_activity, "Hola", name, start_to_close_timeout=timedelta(seconds=10)
            )
        )
        out.append(
            await workflow.execute_activity("async_add", args=[2, 3], schedule_to_close_timeout=timedelta(seconds=10))
        )
        handle = workflow.start_activity(async_add, 40, 2, start_to_close_timeout=timedelta(seconds=10))
        out.append(await handle)
        try:
            await workflow.execute_activity(
                fail_always, "boom", start_to_close_timeout=timedelta(seconds=10), retry_policy=RetryPolicy(maximum_attempts=2)
            )
        except ActivityError as err:
            cause = err.cause
            assert isinstance(cause, ApplicationError)
            out.append([err.activity_type, cause.message, cause.type, list(cause.details)])
        return out


async def test_activities(client: Client) -> None:
    acts = [say_hello, create_greeting_activity, async_add, fail_always]
    async with running_worker(client, ActivitiesWorkflow, activities=acts) as w:
        handle = await start(client, ActivitiesWorkflow.run, "World", worker=w)
        assert await result_of(handle) == [
            "Hello, World!",
            "Hola, World!",
            5,
            42,
            ["fail_always", "boom", "MyError", ["detail"]],
        ]


@workflow.defn
class GreetingWorkflow:
    """The seed's GreetingWorkflow with execute_activity (local activities are not supported yet)."""

    def __init__(self) -> None:
        self._salutation = "Hello"
        self._salutation_update = asyncio.Event()
        self._complete = asyncio.Event()
        self._current_greeting = ""

    @workflow.run
    async def run(self, name: str) -> str:
        while True:
            self._current_greeting = await workflow.execute_activity(
                create_greeting_activity,
                self._salutation,
                name,
                start_to_close_timeout=timedelta(seconds=5),
            )
            workflow.logger.debug("Greeting set to %s", self._current_greeting)
            await asyncio.wait(
                [asyncio.ensure_future(self._salutation_update.wait()), asyncio.ensure_future(self._complete.wait())],
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


async def test_seed_greeting_workflow(client: Client) -> None:
    async with running_worker(client, GreetingWorkflow, activities=[create_greeting_activity]) as w:
        handle = await client.start_workflow(GreetingWorkflow.run, "John", id=f"greet-{uuid.uuid4()}", task_queue=w.task_queue)
        deadline = time.monotonic() + 10
        while await handle.query(GreetingWorkflow.current_greeting) != "Hello, John!":
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)
        await handle.signal(GreetingWorkflow.update_salutation, "Hola")
        deadline = time.monotonic() + 10
        while await handle.query(GreetingWorkflow.current_greeting) != "Hola, John!":
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)
        await handle.signal(GreetingWorkflow.complete_with_greeting)
        assert "Hola, John!" == await result_of(handle)


# ---- cancellation ----


@workflow.defn
class CancellableWorkflow:
    @workflow.run
    async def run(self, cleanup: bool) -> str:
        try:
            await workflow.execute_activity(
                say_hello, "never", task_queue=NOBODY, start_to_close_timeout=timedelta(hours=1)
            )
            return "not cancelled"
        except asyncio.CancelledError:
            if not cleanup:
                raise
        except ActivityError as err:
            assert temporalio.exceptions.is_cancelled_exception(err)
            if not cleanup:
                raise
        with workflow.CancellationScope(detached=True):
            await workflow.sleep(0.1)
        return "cleaned up"


async def test_workflow_cancellation(client: Client) -> None:
    async with running_worker(client, CancellableWorkflow) as w:
        handle = await start(client, CancellableWorkflow.run, False, worker=w)
        await wait_for_event(handle, "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED")
        await handle.cancel()
        with pytest.raises(WorkflowFailureError) as failed:
            await result_of(handle)
        assert isinstance(failed.value.cause, CancelledError)
        assert (await handle.describe()).status == WorkflowExecutionStatus.CANCELED
        assert "EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED" in event_types(await history_events(handle))

        handle = await start(client, CancellableWorkflow.run, True, worker=w)
        await wait_for_event(handle, "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED")
        await handle.cancel()
        assert await result_of(handle) == "cleaned up"


@workflow.defn
class ScopesWorkflow:
    def __init__(self) -> None:
        self.cancel_scope = False

    @workflow.run
    async def run(self, case: str) -> list[str]:
        out: list[str] = []
        opts: dict[str, Any] = {"task_queue": NOBODY, "start_to_close_timeout": timedelta(hours=1)}
        if case == "scope":
            scope = workflow.CancellationScope()

            async def body() -> str:
                return await workflow.execute_activity(say_hello, "x", **opts)

            task = asyncio.ensure_future(scope.run(body))
            await workflow.wait_condition(lambda: self.cancel_scope)
            scope.cancel()
            try:
                await task
            except asyncio.CancelledError:
                out.append("task cancelled")
            out.append(f"scope.cancelled={scope.cancelled}")
        elif case == "unawaited":
            with workflow.CancellationScope() as scope:
                handle = workflow.start_activity(say_hello, "x", **opts)
            await workflow.wait_condition(lambda: self.cancel_scope)
            scope.cancel()
            await asyncio.sleep(0.1)
            out.append(f"done={handle.done()}")
            exc = handle.exception()
            out.append(f"cancelled={exc is not None and temporalio.exceptions.is_cancelled_exception(exc)}")
        elif case == "task-cancel":
            # Cancelling an asyncio task that awaits an activity cancels only the task.
            handle = workflow.start_activity(say_hello, "x", **opts)

            async def waiter() -> None:
                await handle

            task = asyncio.ensure_future(waiter())
            await asyncio.sleep(0.05)
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                out.append("task cancelled")
            out.append(f"activity done={handle.done()}")
            handle.cancel()
            try:
                await handle
            except ActivityError as err:
                out.append(f"activity cancelled={isinstance(err.cause, CancelledError)}")
        elif case == "timeout":
            try:
                with workflow.CancellationScope(timeout=timedelta(milliseconds=200)):
                    await workflow.execute_activity(say_hello, "x", **opts)
            except asyncio.CancelledError:
                out.append("timed out")
        elif case == "detached":
            try:
                with workflow.CancellationScope(detached=True):
                    handle = workflow.start_activity(say_hello, "x", **opts)
                    await workflow.wait_condition(lambda: self.cancel_scope)
                    out.append(f"detached activity still running={not handle.done()}")
                    handle.cancel()
                    try:
                        await handle
                    except ActivityError:
                        out.append("cancelled explicitly")
                await asyncio.sleep(10)
                out.append("not cancelled")
            except asyncio.CancelledError:
                out.append("cancellation reached the run after the detached scope")
            return out
        return out

    @workflow.signal
    def go(self) -> None:
        self.cancel_scope = True


@pytest.mark.parametrize(
    "case,expected",
    [
        ("scope", ["task cancelled", "scope.cancelled=True"]),
        ("unawaited", ["done=True", "cancelled=True"]),
        ("task-cancel", ["task cancelled", "activity done=False", "activity cancelled=True"]),
        ("timeout", ["timed out"]),
    ],
)
async def test_cancellation_scopes(client: Client, case: str, expected: list[str]) -> None:
    async with running_worker(client, ScopesWorkflow) as w:
        handle = await start(client, ScopesWorkflow.run, case, worker=w)
        await wait_for_event(handle, "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED")
        await handle.signal(ScopesWorkflow.go)
        assert await result_of(handle) == expected
        assert "EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED" in event_types(await history_events(handle))


async def test_detached_scope_survives_workflow_cancellation(client: Client) -> None:
    async with running_worker(client, ScopesWorkflow) as w:
        handle = await start(client, ScopesWorkflow.run, "detached", worker=w)
        await wait_for_event(handle, "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED")
        await handle.cancel()
        await wait_for_event(handle, "EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED")
        await asyncio.sleep(0.3)
        types = event_types(await history_events(handle))
        assert "EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED" not in types
        await handle.signal(ScopesWorkflow.go)
        assert await result_of(handle) == [
            "detached activity still running=True",
            "cancelled explicitly",
            "cancellation reached the run after the detached scope",
        ]


# ---- failures ----


class MyFailure(Exception):
    pass


@workflow.defn(failure_exception_types=[MyFailure])
class FailingWorkflow:
    @workflow.run
    async def run(self, kind: str) -> None:
        if kind == "application":
            raise ApplicationError("app failed", {"x": 1}, type="Custom", non_retryable=True)
        if kind == "custom":
            raise MyFailure("listed in failure_exception_types")
        if kind == "bug":
            raise RuntimeError("a bug in workflow code")



async def test_failure_vs_task_failure(client: Client) -> None:
    async with running_worker(client, FailingWorkflow) as w:
        handle = await start(client, FailingWorkflow.run, "application", worker=w)
        with pytest.raises(WorkflowFailureError) as failed:
            await result_of(handle)
        cause = failed.value.cause
        assert isinstance(cause, ApplicationError)
        assert (cause.message, cause.type, cause.non_retryable, list(cause.details)) == (
            "app failed", "Custom", True, [{"x": 1}],
        )

        handle = await start(client, FailingWorkflow.run, "custom", worker=w)
        with pytest.raises(WorkflowFailureError) as failed:
            await result_of(handle)
        assert isinstance(failed.value.cause, ApplicationError)
        assert failed.value.cause.type == "MyFailure"

        for kind, text in [("bug", "a bug in workflow code")]:
            handle = await start(client, FailingWorkflow.run, kind, worker=w)
            event = await wait_for_event(handle, "EVENT_TYPE_WORKFLOW_TASK_FAILED")
            message = json.dumps(event)
            assert text in message
            assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
            await handle.terminate(reason="test done")


async def test_worker_level_failure_exception_types(client: Client) -> None:
    async with running_worker(client, FailingWorkflow, workflow_failure_exception_types=[RuntimeError]) as w:
        handle = await start(client, FailingWorkflow.run, "bug", worker=w)
        with pytest.raises(WorkflowFailureError) as failed:
            await result_of(handle)
        assert isinstance(failed.value.cause, ApplicationError)
        assert failed.value.cause.type == "RuntimeError"


DEADLOCK_STATE = {"blocked": 0}


@workflow.defn
class DeadlockWorkflow:
    @workflow.run
    async def run(self) -> str:
        if DEADLOCK_STATE["blocked"] == 0:
            DEADLOCK_STATE["blocked"] += 1
            time.sleep(4)  # blocks the workflow thread (2 s allowed), with room for a loaded machine
        return "recovered"


async def test_deadlock_detection(client: Client) -> None:
    DEADLOCK_STATE["blocked"] = 0
    async with running_worker(client, DeadlockWorkflow) as w:
        handle = await start(client, DeadlockWorkflow.run, worker=w)
        event = await wait_for_event(handle, "EVENT_TYPE_WORKFLOW_TASK_FAILED")
        text = json.dumps(event)
        assert "Potential deadlock detected" in text
        assert "test_workflow.py" in text and "time.sleep(4)" in text
        assert await result_of(handle) == "recovered"


@workflow.defn(name="FixableWorkflow")
class BuggyWorkflow:
    @workflow.run
    async def run(self) -> str:
        raise RuntimeError("bug in version 1")


@workflow.defn(name="FixableWorkflow")
class FixedWorkflow:
    @workflow.run
    async def run(self) -> str:
        return "fixed in version 2"


async def test_task_failure_recovers_after_restart_with_fixed_code(client: Client) -> None:
    tq = f"tq-{uuid.uuid4()}"
    async with running_worker(client, BuggyWorkflow, task_queue=tq, max_cached_workflows=0) as w:
        handle = await start(client, BuggyWorkflow.run, worker=w)
        event = await wait_for_event(handle, "EVENT_TYPE_WORKFLOW_TASK_FAILED")
        assert "bug in version 1" in json.dumps(event)
    async with running_worker(client, FixedWorkflow, task_queue=tq):
        assert await result_of(handle, timeout=60) == "fixed in version 2"


# ---- continue-as-new, init, info ----


@workflow.defn
class CountingWorkflow:
    @workflow.init
    def __init__(self, count: int, limit: int) -> None:
        self.start_count = count

    @workflow.run
    async def run(self, count: int, limit: int) -> str:
        assert self.start_count == count
        if count < limit:
            await asyncio.sleep(0.01)
            workflow.continue_as_new(count + 1, limit)
        return f"{count} runs, continued from {workflow.info().continued_run_id is not None}"


async def test_continue_as_new_and_init(client: Client) -> None:
    async with running_worker(client, CountingWorkflow) as w:
        handle = await client.start_workflow(
            CountingWorkflow.run, 0, 3, id=f"can-{uuid.uuid4()}", task_queue=w.task_queue
        )
        assert await result_of(handle) == "3 runs, continued from True"


@workflow.defn
class RetryInfoWorkflow:
    @workflow.run
    async def run(self, first_run: Optional[list[Any]]) -> list[Any]:
        rp = workflow.info().retry_policy
        assert rp is not None
        seen = [rp.maximum_attempts, rp.initial_interval.total_seconds(), list(rp.non_retryable_error_types or [])]
        if first_run is None:
            workflow.continue_as_new(seen, retry_policy=RetryPolicy(maximum_attempts=2, initial_interval=timedelta(seconds=3)))
        return [first_run, seen]


async def test_retry_policy_in_info_and_continue_as_new(client: Client) -> None:
    async with running_worker(client, RetryInfoWorkflow, CountingWorkflow) as w:
        handle = await client.start_workflow(
            RetryInfoWorkflow.run,
            None,
            id=f"retry-info-{uuid.uuid4()}",
            task_queue=w.task_queue,
            retry_policy=RetryPolicy(maximum_attempts=5, non_retryable_error_types=["Fatal"]),
        )
        # The first run saw the policy it was started with; the second the one continue_as_new gave it.
        assert await result_of(handle) == [[5, 1.0, ["Fatal"]], [2, 3.0, []]]
        plain = await client.start_workflow(
            CountingWorkflow.run, 0, 0, id=f"can-{uuid.uuid4()}", task_queue=w.task_queue
        )
        assert await result_of(plain) == "0 runs, continued from False"


# ---- interceptors ----

TRACE: list[str] = []


class _TracingOutbound(WorkflowOutboundInterceptor):
    def start_activity(self, input: StartActivityInput) -> workflow.ActivityHandle[Any]:
        TRACE.append(f"start_activity:{input.activity}")
        return super().start_activity(input)


class _TracingInbound(WorkflowInboundInterceptor):
    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        super().init(_TracingOutbound(outbound))

    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        TRACE.append(f"execute:{workflow.info().workflow_type}:{list(input.args)}")
        return await super().execute_workflow(input)

    async def handle_signal(self, input: HandleSignalInput) -> None:
        TRACE.append(f"signal:{input.signal}")
        await super().handle_signal(input)

    def handle_query(self, input: HandleQueryInput) -> Any:
        if not workflow.unsafe.is_replaying():
            TRACE.append(f"query:{input.query}")
        return super().handle_query(input)


class TracingInterceptor(Interceptor):
    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput) -> type[WorkflowInboundInterceptor]:
        return _TracingInbound


async def test_interceptors(client: Client) -> None:
    TRACE.clear()
    async with running_worker(
        client, TimerSignalQueryWorkflow, ActivitiesWorkflow, interceptors=[TracingInterceptor()],
        activities=[say_hello, create_greeting_activity, async_add, fail_always],
    ) as w:
        handle = await start(client, TimerSignalQueryWorkflow.run, "World", worker=w)
        await wait_for_event(handle, "EVENT_TYPE_TIMER_STARTED")
        await handle.query(TimerSignalQueryWorkflow.current)
        await handle.signal(TimerSignalQueryWorkflow.rename, "X")
        await result_of(handle)
        handle = await start(client, ActivitiesWorkflow.run, "Y", worker=w)
        await result_of(handle)
    assert TRACE[:3] == ["execute:TimerSignalQueryWorkflow:['World']", "query:current", "signal:rename"]
    assert "start_activity:say_hello" in TRACE and "start_activity:fail_always" in TRACE


# ---- runners ----

RUN_COUNTER: list[int] = []


@workflow.defn
class GlobalStateWorkflow:
    @workflow.run
    async def run(self) -> int:
        RUN_COUNTER.append(1)
        return len(RUN_COUNTER)


async def test_isolated_module_runner(client: Client) -> None:
    RUN_COUNTER.clear()
    async with running_worker(client, GlobalStateWorkflow, workflow_runner=IsolatedModuleWorkflowRunner()) as w:
        results = [await result_of(await start(client, GlobalStateWorkflow.run, worker=w)) for _ in range(3)]
    assert results == [1, 1, 1]  # each run saw a fresh module
    assert RUN_COUNTER == []  # and never this one
    async with running_worker(client, GlobalStateWorkflow, workflow_runner=UnsandboxedWorkflowRunner()) as w:
        results = [await result_of(await start(client, GlobalStateWorkflow.run, worker=w)) for _ in range(2)]
    assert results == [1, 2]


# ---- API misuse ----


def test_workflow_functions_outside_a_workflow() -> None:
    with pytest.raises(RuntimeError, match="Not in workflow event loop: workflow.now"):
        workflow.now()


async def test_workflow_functions_outside_a_workflow_in_asyncio() -> None:
    with pytest.raises(RuntimeError, match="Not in workflow event loop: workflow.info"):
        workflow.info()
    with pytest.raises(RuntimeError, match="Not in workflow event loop"):
        await workflow.sleep(1)


def test_definition_errors() -> None:
    with pytest.raises(TypeError, match="needs one @workflow.run"):

        @workflow.defn
        class NoRun:
            pass

    with pytest.raises(TypeError, match="must take the same parameters"):

        @workflow.defn
        class BadInit:
            @workflow.init
            def __init__(self, a: int) -> None:
                pass

            @workflow.run
            async def run(self, b: int) -> None:
                pass

    with pytest.raises(TypeError, match="dynamic workflow takes"):

        @workflow.defn(dynamic=True)
        class BadDynamic:
            @workflow.run
            async def run(self, a: int, b: int) -> None:
                pass

    with pytest.raises(TypeError, match="not decorated with @workflow.defn"):
        check_workflows([int], UnsandboxedWorkflowRunner())


# ---- replayer ----


@workflow.defn(name="TimerSignalQueryWorkflow")
class ChangedTimerSignalQueryWorkflow:
    """The same workflow type, changed incompatibly: an activity where history has a timer."""

    @workflow.run
    async def run(self, name: str) -> str:
        return await workflow.execute_activity(say_hello, name, start_to_close_timeout=timedelta(seconds=5))

    @workflow.signal
    def rename(self, name: str) -> None:
        pass


async def test_replayer(client: Client, tmp_path: Any) -> None:
    async with running_worker(client, TimerSignalQueryWorkflow, DeterminismWorkflow) as w:
        handle = await start(client, TimerSignalQueryWorkflow.run, "World", worker=w)
        await wait_for_event(handle, "EVENT_TYPE_TIMER_STARTED")
        await handle.signal(TimerSignalQueryWorkflow.rename, "Replay")
        await result_of(handle)
        other = await start(client, DeterminismWorkflow.run, worker=w)
        await result_of(other)
    history = await handle.fetch_history()
    other_history = await other.fetch_history()

    # The code that made the history replays cleanly, from the object and from a JSON file.
    replayer = Replayer(workflows=[TimerSignalQueryWorkflow, DeterminismWorkflow])
    result = await replayer.replay_workflow(history)
    assert result.replay_failure is None
    path = tmp_path / "history.json"
    path.write_text(history.to_json())
    from_file = WorkflowHistory.from_json(handle.id, path.read_text())
    assert (await replayer.replay_workflow(from_file)).replay_failure is None
    assert (await replayer.replay_workflows([history, other_history])).replay_failures == {}

    # Changed code is caught, with a message naming what history has and what the code did.
    changed = Replayer(workflows=[ChangedTimerSignalQueryWorkflow, DeterminismWorkflow])
    with pytest.raises(workflow.NondeterminismError) as nondeterministic:
        await changed.replay_workflow(history)
    message = str(nondeterministic.value).lower()
    assert "timer" in message and "activity" in message
    results = await changed.replay_workflows([history, other_history], raise_on_replay_failure=False)
    assert list(results.replay_failures) == [history.run_id]
    assert isinstance(results.replay_failures[history.run_id], workflow.NondeterminismError)


# ---- typing ----

REPO = Path(__file__).resolve().parents[2]


def _mypy(*targets: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-color-output", "--show-error-codes", "--no-incremental",
         *map(str, targets)],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )


def test_typed_workflow_example_passes_mypy_strict() -> None:
    pytest.importorskip("mypy")
    done = _mypy(REPO / "examples" / "python" / "typed_workflow.py")
    assert done.returncode == 0, done.stdout + done.stderr


def test_wrong_workflow_api_calls_fail_mypy() -> None:
    pytest.importorskip("mypy")
    path = Path(__file__).with_name("typing_workflow_negative.py")
    expected = {
        i: m.group(1).strip()
        for i, line in enumerate(path.read_text().splitlines(), 1)
        if (m := re.search(r"#\s*E:\s*([^`]+?)\s*$", line))
    }
    done = _mypy(path)
    found: dict[int, list[str]] = {}
    for m in re.finditer(r"^[^:\n]+:(\d+): error: (.*)$", done.stdout, re.MULTILINE):
        found.setdefault(int(m.group(1)), []).append(m.group(2))
    assert set(found) == set(expected), done.stdout
    for line, text in expected.items():
        assert any(text in message for message in found[line]), (line, found[line])


# ---- examples ----


@pytest.mark.parametrize("example", ["greeting_workflow", "tracing_interceptor", "replay_history", "typed_workflow"])
def test_examples(server_address: str, example: str) -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "examples" / "python" / f"{example}.py"), server_address],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


# ---- more behaviour ----


@workflow.defn
class LoggingWorkflow:
    @workflow.run
    async def run(self) -> None:
        for i in range(3):
            workflow.logger.info("step %d", i)
            await asyncio.sleep(0.01)


async def test_logger_skips_replay(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="temporalio.workflow")
    async with running_worker(client, LoggingWorkflow, max_cached_workflows=0) as w:
        handle = await start(client, LoggingWorkflow.run, worker=w)
        await result_of(handle)
    steps = [r for r in caplog.records if r.name == "temporalio.workflow" and r.getMessage().startswith("step")]
    assert [r.getMessage().split(" (")[0] for r in steps] == ["step 0", "step 1", "step 2"]
    assert all(getattr(r, "temporal_workflow")["workflow_id"] == handle.id for r in steps)


@workflow.defn
class SignalFailureWorkflow:
    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)

    @workflow.signal
    async def fail(self, message: str) -> None:
        await asyncio.sleep(0.01)
        raise ApplicationError(message, non_retryable=True)

    @workflow.signal
    def restart(self, n: int) -> None:
        workflow.continue_as_new()


async def test_signal_handlers_can_fail_or_continue_the_workflow(client: Client) -> None:
    async with running_worker(client, SignalFailureWorkflow) as w:
        handle = await start(client, SignalFailureWorkflow.run, worker=w)
        await handle.signal(SignalFailureWorkflow.fail, "from a signal")
        with pytest.raises(WorkflowFailureError) as failed:
            await result_of(handle)
        assert isinstance(failed.value.cause, ApplicationError)
        assert failed.value.cause.message == "from a signal"

        handle = await start(client, SignalFailureWorkflow.run, worker=w)
        await handle.signal(SignalFailureWorkflow.restart, 1)
        await wait_for_event(handle, "EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW")


CANCELLABLE_STARTED: list[str] = []


@activity.defn
async def wait_for_cancel() -> str:
    CANCELLABLE_STARTED.append(activity.info().workflow_id)
    try:
        while True:
            activity.heartbeat()
            await asyncio.sleep(0.1)
    except asyncio.CancelledError:
        await asyncio.sleep(0.3)  # cleanup takes a while
        raise


@workflow.defn
class WaitCancellationWorkflow:
    def __init__(self) -> None:
        self.cancel_now = False

    @workflow.run
    async def run(self, wait: bool) -> str:
        kind = (
            workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED
            if wait
            else workflow.ActivityCancellationType.TRY_CANCEL
        )
        scope = workflow.CancellationScope()

        async def body() -> str:
            return await workflow.execute_activity(
                wait_for_cancel,
                start_to_close_timeout=timedelta(seconds=30),
                heartbeat_timeout=timedelta(seconds=2),
                cancellation_type=kind,
            )

        task = asyncio.ensure_future(scope.run(body))
        await workflow.wait_condition(lambda: self.cancel_now)
        scope.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        return "cancelled"

    @workflow.signal
    def cancel(self) -> None:
        self.cancel_now = True


@pytest.mark.parametrize("wait", [True, False])
async def test_activity_cancellation_types(client: Client, wait: bool) -> None:
    async with running_worker(client, WaitCancellationWorkflow, activities=[wait_for_cancel]) as w:
        handle = await start(client, WaitCancellationWorkflow.run, wait, worker=w)
        deadline = time.monotonic() + 15
        while handle.id not in CANCELLABLE_STARTED:
            assert time.monotonic() < deadline, "the activity never started"
            await asyncio.sleep(0.05)
        await handle.signal(WaitCancellationWorkflow.cancel)
        assert await result_of(handle) == "cancelled"
        types = event_types(await history_events(handle))
        completed = types.index("EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED")
        if wait:
            # The workflow went on only once the activity had confirmed its cancellation.
            assert types.index("EVENT_TYPE_ACTIVITY_TASK_CANCELED") < completed
        else:
            assert "EVENT_TYPE_ACTIVITY_TASK_CANCELED" not in types[:completed]


@workflow.defn
class InfoWorkflow:
    @workflow.run
    async def run(self) -> dict[str, Any]:
        info = workflow.info()
        return {
            "id": info.workflow_id,
            "run_id": info.run_id == info.first_execution_run_id,
            "namespace": info.namespace,
            "memo": workflow.memo(),
            "memo_value": workflow.memo_value("n", type_hint=int),
            "missing": workflow.memo_value("missing", "default"),
            "run_timeout": info.run_timeout.total_seconds() if info.run_timeout else None,
            "parent": info.parent,
            "history_length": info.get_current_history_length() > 0,
            "instance": type(workflow.instance()).__name__,
            "in_workflow": workflow.in_workflow(),
            "stack": workflow.get_query_handler("__stack_trace") is not None,
        }


async def test_info_and_memo(client: Client) -> None:
    async with running_worker(client, InfoWorkflow) as w:
        handle = await start(
            client, InfoWorkflow.run, worker=w, memo={"n": 3, "s": "x"}, run_timeout=timedelta(minutes=5)
        )
        assert await result_of(handle) == {
            "id": handle.id,
            "run_id": True,
            "namespace": "default",
            "memo": {"n": 3, "s": "x"},
            "memo_value": 3,
            "missing": "default",
            "run_timeout": 300.0,
            "parent": None,
            "history_length": True,
            "instance": "InfoWorkflow",
            "in_workflow": True,
            "stack": True,
        }


async def test_stack_trace_query(client: Client) -> None:
    async with running_worker(client, WaitConditionWorkflow) as w:
        handle = await start(client, WaitConditionWorkflow.run, worker=w)
        await wait_for_event(handle, "EVENT_TYPE_TIMER_STARTED")
        trace = await handle.query("__stack_trace")
        assert "wait_condition" in trace and "test_workflow.py" in trace
        await handle.terminate()


@workflow.defn
class PropertyHandlersWorkflow:
    def __init__(self) -> None:
        self._value = 0

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self._value >= 10)
        return self._value

    @property
    @workflow.query
    def value(self) -> int:
        return self._value

    @value.setter
    @workflow.signal(name="set_value")
    def value(self, v: int) -> None:
        self._value = v


async def test_property_signal_and_query(client: Client) -> None:
    async with running_worker(client, PropertyHandlersWorkflow) as w:
        handle = await start(client, PropertyHandlersWorkflow.run, worker=w)
        await handle.signal("set_value", 4)
        assert await handle.query("value") == 4
        await handle.signal("set_value", 12)
        assert await result_of(handle) == 12


STUCK_SCRIPT = """
import asyncio, sys, uuid
from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import Worker

@workflow.defn
class Stuck:
    @workflow.run
    async def run(self) -> None:
        while True:  # never yields
            pass

async def main(address: str) -> None:
    client = await Client.connect(address)
    tq = f"stuck-{uuid.uuid4()}"
    async with Worker(client, task_queue=tq, workflows=[Stuck]):
        handle = await client.start_workflow(Stuck.run, id=f"stuck-{uuid.uuid4()}", task_queue=tq)
        for _ in range(100):
            history = await handle.fetch_history()
            if any(e.get("eventType") == "EVENT_TYPE_WORKFLOW_TASK_FAILED" for e in history.events):
                break
            await asyncio.sleep(0.1)
        await handle.terminate()
    print("worker shut down")

asyncio.run(main(sys.argv[1]))
"""


def test_endless_loop_is_reported_and_does_not_keep_the_process_alive(server_address: str, tmp_path: Path) -> None:
    script = tmp_path / "stuck.py"
    script.write_text(STUCK_SCRIPT)
    done = subprocess.run([sys.executable, str(script), server_address], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "worker shut down" in done.stdout
    assert "Potential deadlock detected" in done.stderr and "stuck.py" in done.stderr


# ---------------------------------------------------------------------------
# Search attribute upserts and memo updates
# ---------------------------------------------------------------------------


@workflow.defn
class UpsertWorkflow:
    @workflow.run
    async def run(self) -> dict[str, Any]:
        before = dict(workflow.info().search_attributes)
        workflow.upsert_search_attributes({"CustomKeywordField": ["blue"]})
        workflow.upsert_memo({"owner": "ops"})
        # a later task: the upserts are replayed from history when the run is rebuilt
        await workflow.sleep(0.1)
        workflow.upsert_memo({"team": None})  # None removes the key
        return {
            "before": before.get("CustomKeywordField"),
            "after": workflow.info().search_attributes.get("CustomKeywordField"),
            "memo": dict(workflow.memo()),
            "memo_value": workflow.memo_value("owner"),
        }

    @workflow.query
    def try_upsert(self) -> str:
        try:
            workflow.upsert_search_attributes({"CustomKeywordField": ["red"]})
        except workflow.ReadOnlyContextError:
            return "refused"
        return "allowed"


async def test_upsert_search_attributes_and_memo(client: Client) -> None:
    async with running_worker(client, UpsertWorkflow, max_cached_workflows=0) as w:
        handle = await start(client, UpsertWorkflow.run, worker=w, memo={"team": "core"})
        result = await result_of(handle)
        assert result == {
            "before": None,
            "after": ["blue"],
            "memo": {"owner": "ops"},
            "memo_value": "ops",
        }
        assert await handle.query(UpsertWorkflow.try_upsert) == "refused"
        desc = await handle.describe()
        assert desc.search_attributes["CustomKeywordField"] == ["blue"]
        assert await desc.memo() == {"owner": "ops"}
        types = event_types(await history_events(handle))
        assert "EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES" in types
        assert "EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED" in types


# ---------------------------------------------------------------------------
# A signal that races the workflow's end
# ---------------------------------------------------------------------------


@workflow.defn
class CompletesWhileSignalled:
    def __init__(self) -> None:
        self.signals = 0

    @workflow.signal
    def ping(self) -> None:
        self.signals += 1

    @workflow.run
    async def run(self) -> int:
        if self.signals == 0 and not workflow.unsafe.is_replaying():
            time.sleep(1.0)  # holds the task while the test signals: the completion then races the signal
        return self.signals


async def test_signal_racing_completion_is_replayed_not_lost(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_worker(client, CompletesWhileSignalled) as w:
        handle = await start(client, CompletesWhileSignalled.run, worker=w)
        await asyncio.sleep(0.4)
        await handle.signal(CompletesWhileSignalled.ping)
        # The server refuses the first completion (UnhandledCommand); the run is replayed with the signal.
        assert await result_of(handle) == 1
    failed = [e for e in await history_events(handle) if e.get("eventType") == "EVENT_TYPE_WORKFLOW_TASK_FAILED"]
    assert [e["workflowTaskFailedEventAttributes"]["cause"] for e in failed] == [
        "WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND"
    ]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and "UnhandledCommand" in r.getMessage()]
