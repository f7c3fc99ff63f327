"""The activity side of a worker: polls activity tasks and runs ``@activity.defn`` functions.

Polling, slots, heartbeat throttling, local timeouts and graceful shutdown
live in the engine (include/tw/activity.h); this module turns START tasks
into calls of the registered functions (async ones as asyncio tasks, sync
ones in the worker's ``activity_executor``), turns CANCEL tasks into
cancellation of those calls, and reports each outcome through the data
converter: a result, a failure (the failure converter's
``temporal.api.failure.v1.Failure``, serialized, so cause chains survive),
a cancellation, or nothing for activities completed asynchronously.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import ctypes
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Optional

import temporalio.activity
import temporalio.common
import temporalio.converter
import temporalio.exceptions
from temporalio import _bridge
from temporalio._tw import ffi, lib
from temporalio.activity import ActivityCancellationDetails, _Definition
from temporalio.api.failure.v1 import ApplicationFailureInfo, Failure
from temporalio.worker._interceptor import (
    ActivityInboundInterceptor,
    ActivityOutboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

if TYPE_CHECKING:
    import temporalio.client

__all__ = ["ActivityWorker", "check_activities"]

logger = logging.getLogger("temporalio.worker")

CData = Any

_CANCEL_DETAILS: dict[int, ActivityCancellationDetails] = {
    lib.TW_ACTIVITY_CANCEL_REASON_CANCELLED: ActivityCancellationDetails(cancel_requested=True),
    lib.TW_ACTIVITY_CANCEL_REASON_TIMED_OUT: ActivityCancellationDetails(timed_out=True, not_found=True),
    lib.TW_ACTIVITY_CANCEL_REASON_WORKER_SHUTDOWN: ActivityCancellationDetails(worker_shutdown=True),
    lib.TW_ACTIVITY_CANCEL_REASON_NOT_FOUND: ActivityCancellationDetails(not_found=True),
    lib.TW_ACTIVITY_CANCEL_REASON_PAUSED: ActivityCancellationDetails(paused=True),
    lib.TW_ACTIVITY_CANCEL_REASON_RESET: ActivityCancellationDetails(reset=True),
}


def check_activities(
    activities: Sequence[Callable[..., Any]], executor: Optional[concurrent.futures.Executor]
) -> tuple[dict[str, _Definition], Optional[_Definition]]:
    """Validates the activities given to a worker; returns them by name, and the dynamic one."""
    by_name: dict[str, _Definition] = {}
    dynamic: Optional[_Definition] = None
    for fn in activities:
        defn = _Definition.must_from_callable(fn)
        what = temporalio.activity._qualname(fn)
        if defn.dynamic:
            if dynamic is not None:
                raise ValueError(
                    f"more than one dynamic activity: {temporalio.activity._qualname(dynamic.fn)} and {what}"
                )
            dynamic = defn
        else:
            assert defn.name is not None
            if defn.name in by_name:
                raise ValueError(
                    f"more than one activity named {defn.name!r}: "
                    f"{temporalio.activity._qualname(by_name[defn.name].fn)} and {what}"
                )
            by_name[defn.name] = defn
        if not defn.is_async:
            if executor is None:
                raise ValueError(
                    f"activity {what} is not async: give the Worker an activity_executor "
                    "(a concurrent.futures.ThreadPoolExecutor) to run sync activities in"
                )
            if not isinstance(executor, concurrent.futures.ThreadPoolExecutor):
                raise NotImplementedError(
                    f"activity {what} is not async and activity_executor is a {type(executor).__name__}: "
                    "only a concurrent.futures.ThreadPoolExecutor is supported"
                )
    return by_name, dynamic


def _time_of(ns: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=ns // 1000)


def _duration(ms: int) -> Optional[timedelta]:
    return timedelta(milliseconds=ms) if ms > 0 else None


def _retry_policy_of(task: CData) -> Optional[temporalio.common.RetryPolicy]:
    rp = ffi.new("tw_retry_policy *")
    lib.tw_retry_policy_init(rp)
    if lib.tw_activity_task_retry_policy(task, rp) != 0:
        return None
    types: list[str] = []
    if rp.non_retryable_error_types != ffi.NULL:
        i = 0
        while rp.non_retryable_error_types[i] != ffi.NULL:
            types.append(_bridge.text(rp.non_retryable_error_types[i]))
            i += 1
    return temporalio.common.RetryPolicy(
        initial_interval=timedelta(milliseconds=int(rp.initial_interval_ms)),
        backoff_coefficient=float(rp.backoff_coefficient),
        maximum_interval=_duration(int(rp.maximum_interval_ms)),
        maximum_attempts=int(rp.maximum_attempts),
        non_retryable_error_types=types or None,
    )


def _priority_of(task: CData) -> temporalio.common.Priority:
    p = ffi.new("tw_priority *")
    lib.tw_priority_init(p)
    _bridge.raise_for(lib.tw_activity_task_priority(task, p))
    return _bridge.priority_from_c(p)


def _info_of(task: CData, token: bytes, heartbeat_details: Sequence[Any]) -> temporalio.activity.Info:
    text = _bridge.text
    workflow_id = text(lib.tw_activity_task_workflow_id(task))
    in_workflow = bool(workflow_id)
    return temporalio.activity.Info(
        activity_id=text(lib.tw_activity_task_activity_id(task)),
        activity_type=text(lib.tw_activity_task_activity_type(task)),
        attempt=int(lib.tw_activity_task_attempt(task)),
        current_attempt_scheduled_time=_time_of(int(lib.tw_activity_task_current_attempt_scheduled_time(task))),
        heartbeat_details=heartbeat_details,
        heartbeat_timeout=_duration(int(lib.tw_activity_task_heartbeat_timeout_ms(task))),
        is_local=bool(lib.tw_activity_task_is_local(task)),
        namespace=text(lib.tw_activity_task_namespace(task)),
        schedule_to_close_timeout=_duration(int(lib.tw_activity_task_schedule_to_close_timeout_ms(task))),
        scheduled_time=_time_of(int(lib.tw_activity_task_scheduled_time(task))),
        start_to_close_timeout=_duration(int(lib.tw_activity_task_start_to_close_timeout_ms(task))),
        started_time=_time_of(int(lib.tw_activity_task_started_time(task))),
        task_queue=text(lib.tw_activity_task_task_queue(task)),
        task_token=token,
        workflow_id=workflow_id if in_workflow else None,
        workflow_namespace=(text(lib.tw_activity_task_workflow_namespace(task)) or None) if in_workflow else None,
        workflow_run_id=(text(lib.tw_activity_task_run_id(task)) or None) if in_workflow else None,
        workflow_type=(text(lib.tw_activity_task_workflow_type(task)) or None) if in_workflow else None,
        retry_policy=_retry_policy_of(task),
        priority=_priority_of(task),
    )


def _token_of(task: CData) -> bytes:
    data = ffi.new("const uint8_t **")
    size = ffi.new("size_t *")
    _bridge.raise_for(lib.tw_activity_task_token(task, data, size))
    return bytes(ffi.buffer(data[0], size[0]))


class _ThreadExceptionRaiser:
    """Raises :py:class:`temporalio.exceptions.CancelledError` inside a sync activity's thread.

    Respects :py:func:`temporalio.activity.shield_thread_cancel_exception`
    blocks (the exception waits for the outermost one to end) and never
    raises before the activity's function starts or after it returned.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._thread_id: Optional[int] = None
        self._pending = False
        self._shield_depth = 0
        self._finished = False

    def enter(self) -> None:
        with self._lock:
            self._thread_id = threading.get_ident()
            raise_now = self._pending and self._shield_depth == 0
            self._pending = self._pending and not raise_now
        if raise_now:
            raise temporalio.exceptions.CancelledError("Cancelled")

    def exit(self) -> None:
        with self._lock:
            self._thread_id = None
            self._finished = True

    def request(self) -> None:
        with self._lock:
            if self._finished:
                return
            if self._thread_id is None or self._shield_depth > 0:
                self._pending = True
                return
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(self._thread_id), ctypes.py_object(temporalio.exceptions.CancelledError)
            )

    @contextmanager
    def shielded(self) -> Iterator[None]:
        with self._lock:
            self._shield_depth += 1
        try:
            yield None
        finally:
            with self._lock:
                self._shield_depth -= 1
                raise_now = self._shield_depth == 0 and self._pending
                if raise_now:
                    self._pending = False
            if raise_now:
                raise temporalio.exceptions.CancelledError("Cancelled")


class _RunningActivity:
    """One task from its START until its outcome is reported."""

    def __init__(self, token: bytes, worker_shutdown: bool) -> None:
        self.token = token
        self.info: Optional[temporalio.activity.Info] = None
        self.defn: Optional[_Definition] = None
        self.outer: Optional[asyncio.Task[None]] = None
        self.user_task: Optional[asyncio.Task[Any]] = None
        self.raiser = _ThreadExceptionRaiser()
        self.cancelled_event = temporalio.activity._CompositeEvent()
        self.worker_shutdown_event = temporalio.activity._CompositeEvent()
        if worker_shutdown:
            self.worker_shutdown_event.set()
        self.cancellation = temporalio.activity._CancellationDetailsHolder()
        self.cancelled = False
        self.cancelled_by_request = False
        self.heartbeat_error: Optional[BaseException] = None
        self.pending_heartbeat: Optional[tuple[Any, ...]] = None
        self.heartbeat_task: Optional[asyncio.Task[None]] = None
        self.finished = False

    @property
    def is_async(self) -> bool:
        return self.defn is None or self.defn.is_async

    def cancel(self, *, by_request: bool) -> None:
        """Interrupts the activity's code (a sync one unless it opted out of the thread exception)."""
        if self.cancelled:
            return
        self.cancelled = True
        self.cancelled_by_request = by_request
        self.cancelled_event.set()
        if self.is_async:
            if self.user_task is not None and not self.user_task.done():
                self.user_task.cancel()
        elif self.defn is not None and not self.defn.no_thread_cancel_exception:
            self.raiser.request()


class _InboundImpl(ActivityInboundInterceptor):
    """The innermost inbound interceptor: calls the activity function."""

    def __init__(self, worker: "ActivityWorker", running: _RunningActivity, context: temporalio.activity._Context):
        # No next: this is the end of the chain.
        self._worker = worker
        self._running = running
        self._context = context

    def init(self, outbound: ActivityOutboundInterceptor) -> None:
        self._context.info = outbound.info
        self._context.heartbeat = outbound.heartbeat

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        if temporalio.activity._is_async_callable(input.fn):
            return await input.fn(*input.args)
        executor = input.executor or self._worker._executor
        if executor is None:
            raise RuntimeError(f"sync activity {temporalio.activity._qualname(input.fn)} has no executor to run in")
        raiser = self._running.raiser
        context = contextvars.copy_context()

        def in_thread() -> Any:
            raiser.enter()
            try:
                return context.run(input.fn, *input.args)
            finally:
                raiser.exit()

        return await asyncio.get_running_loop().run_in_executor(executor, in_thread)


class _OutboundImpl(ActivityOutboundInterceptor):
    """The innermost outbound interceptor: info and heartbeats of the running activity."""

    def __init__(self, worker: "ActivityWorker", running: _RunningActivity) -> None:
        # No next: this is the end of the chain.
        self._worker = worker
        self._running = running

    def info(self) -> temporalio.activity.Info:
        assert self._running.info is not None
        return self._running.info

    def heartbeat(self, *details: Any) -> None:
        self._worker._heartbeat(self._running, details)


class ActivityWorker:
    """Runs the activities of one ``tw_worker`` (see the module docstring)."""

    def __init__(
        self,
        *,
        bridge_worker: CData,
        client: "temporalio.client.Client",
        activities: Sequence[Callable[..., Any]],
        executor: Optional[concurrent.futures.Executor],
        interceptors: Sequence[Interceptor],
        data_converter: temporalio.converter.DataConverter,
    ) -> None:
        self._by_name, self._dynamic = check_activities(activities, executor)
        self._worker = bridge_worker
        self._client = client
        self._runtime = client._runtime
        self._executor = executor
        self._interceptors = list(interceptors)
        self._data_converter = data_converter
        self._running: dict[bytes, _RunningActivity] = {}
        self._shutting_down = False
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._loop_thread: Optional[int] = None

    @property
    def names(self) -> list[str]:
        return sorted(self._by_name)

    async def run(self) -> None:
        """Polls activity tasks until the engine says the worker has shut down."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        worker = self._worker
        try:
            while True:
                try:
                    ev = await self._runtime.call(lambda cq, tag: lib.tw_worker_poll_activity_task(worker, cq, tag))
                except _bridge._EventError as e:
                    if e.event.status == lib.TW_ECLOSED:
                        return
                    raise e.event.error() from None
                ptr = lib.tw_event_take_activity_task(ev.ptr)
                if ptr == ffi.NULL:
                    continue
                task = ffi.gc(ptr, lib.tw_activity_task_free)
                if lib.tw_activity_task_kind_of(task) == lib.TW_ACTIVITY_TASK_START:
                    self._start(task)
                else:
                    self._cancel(_token_of(task), int(lib.tw_activity_task_cancel_reason(task)))
        finally:
            outers = [r.outer for r in self._running.values() if r.outer is not None]
            if outers:
                await asyncio.gather(*outers, return_exceptions=True)

    def notify_shutdown(self) -> None:
        """The worker began shutting down: tell running (and later) activities."""
        self._shutting_down = True
        for running in self._running.values():
            running.worker_shutdown_event.set()

    # ---- tasks ----

    def _start(self, task: CData) -> None:
        token = _token_of(task)
        running = _RunningActivity(token, self._shutting_down)
        self._running[token] = running
        running.outer = asyncio.get_running_loop().create_task(self._execute(running, task))

    def _cancel(self, token: bytes, reason: int) -> None:
        running = self._running.get(token)
        if running is None:
            return
        if running.cancellation.details is None:
            running.cancellation.details = _CANCEL_DETAILS.get(reason, ActivityCancellationDetails())
        by_request = reason in (lib.TW_ACTIVITY_CANCEL_REASON_CANCELLED, lib.TW_ACTIVITY_CANCEL_REASON_WORKER_SHUTDOWN)
        running.cancel(by_request=by_request)

    async def _execute(self, running: _RunningActivity, task: CData) -> None:
        try:
            try:
                result = await self._invoke(running, task)
            except temporalio.activity._CompleteAsyncError:
                await self._finish_heartbeats(running)
                _bridge.raise_for(lib.tw_worker_release_activity_task(self._worker, running.token, len(running.token)))
                temporalio.activity.logger.debug("Activity will complete asynchronously")
                return
            except BaseException as err:  # noqa: B036 - every outcome is reported
                await self._finish_heartbeats(running)
                await self._report_error(running, err)
                if isinstance(err, (KeyboardInterrupt, SystemExit)):
                    raise
                return
            await self._finish_heartbeats(running)
            await self._report_result(running, result)
        except Exception:
            logger.exception("Failed reporting the outcome of activity task %r", running.info)
        finally:
            self._running.pop(running.token, None)

    async def _invoke(self, running: _RunningActivity, task: CData) -> Any:
        """Decodes the task, runs the activity through the interceptors, returns its result."""
        conv = self._data_converter
        heartbeat_payloads = _bridge.payloads_from_c(lib.tw_activity_task_heartbeat_details(task))
        try:
            details = await conv.decode(heartbeat_payloads) if heartbeat_payloads else []
        except Exception as err:
            raise temporalio.exceptions.ApplicationError("Failed decoding heartbeat details") from err
        running.info = _info_of(task, running.token, details)
        activity_type = running.info.activity_type
        defn = self._by_name.get(activity_type) or self._dynamic
        if defn is None:
            available = ", ".join(sorted(self._by_name)) or "(none)"
            raise temporalio.exceptions.ApplicationError(
                f"Activity function {activity_type} is not registered on this worker, "
                f"available activities: {available}",
                type="NotFoundError",
            )
        running.defn = defn

        def current_info() -> temporalio.activity.Info:
            assert running.info is not None
            return running.info

        context = temporalio.activity._Context(
            info=current_info,
            heartbeat=None,
            cancelled_event=running.cancelled_event,
            worker_shutdown_event=running.worker_shutdown_event,
            shield_thread_cancel_exception=None if defn.is_async else running.raiser.shielded,
            payload_converter=conv.payload_converter,
            client=self._client,
            cancellation_details=running.cancellation,
            is_async=defn.is_async,
        )
        # Set for this task: the activity's own task (or thread) inherits it, and so do logs written here.
        temporalio.activity._Context.set(context)
        temporalio.activity.logger.debug("Starting activity")
        payloads = _bridge.payloads_from_c(lib.tw_activity_task_args(task))
        if defn.dynamic:
            args: list[Any] = [[temporalio.common.RawValue(p) for p in payloads]]
        else:
            try:
                args = await conv.decode(payloads, defn.arg_types) if payloads else []
            except Exception as err:
                raise temporalio.exceptions.ApplicationError(
                    f"Failed decoding arguments of activity {activity_type}: {err}"
                ) from err
        headers = _bridge.payload_map_from_c(lib.tw_activity_task_headers(task))
        del task  # everything needed was copied out
        impl: ActivityInboundInterceptor = _InboundImpl(self, running, context)
        for interceptor in reversed(self._interceptors):
            impl = interceptor.intercept_activity(impl)
        impl.init(_OutboundImpl(self, running))
        run_input = ExecuteActivityInput(
            fn=defn.fn, args=args, executor=None if defn.is_async else self._executor, headers=headers
        )
        running.user_task = asyncio.get_running_loop().create_task(impl.execute_activity(run_input))
        if running.cancelled and defn.is_async:
            running.user_task.cancel()
        elif running.cancelled and not defn.no_thread_cancel_exception:
            running.raiser.request()
        return await running.user_task

    # ---- heartbeats ----

    def _heartbeat(self, running: _RunningActivity, details: tuple[Any, ...]) -> None:
        """Called by activity code, on the loop or in a thread."""
        loop = self._loop
        if loop is None:
            raise RuntimeError("the activity worker is not running")
        if threading.get_ident() == self._loop_thread:
            self._heartbeat_on_loop(running, details)
        else:
            loop.call_soon_threadsafe(self._heartbeat_on_loop, running, details)

    def _heartbeat_on_loop(self, running: _RunningActivity, details: tuple[Any, ...]) -> None:
        if running.finished:
            temporalio.activity.logger.warning("Heartbeat after the activity finished: ignored")
            return
        running.pending_heartbeat = details
        if running.heartbeat_task is None or running.heartbeat_task.done():
            running.heartbeat_task = asyncio.get_running_loop().create_task(self._send_heartbeats(running))

    async def _send_heartbeats(self, running: _RunningActivity) -> None:
        while running.pending_heartbeat is not None:
            details, running.pending_heartbeat = running.pending_heartbeat, None
            try:
                payloads = await self._data_converter.encode(list(details))
            except Exception as err:
                # As the official SDK: the activity fails with the error that broke its heartbeat.
                logger.warning("Cancelling activity: its heartbeat details could not be converted", exc_info=err)
                running.heartbeat_error = err
                running.cancel(by_request=False)
                return
            lst = _bridge.payloads_to_c(payloads)
            rc = lib.tw_worker_heartbeat_activity_task(self._worker, running.token, len(running.token), lst)
            if rc != 0 and not running.finished:
                logger.warning("Recording a heartbeat failed: %s", _bridge.text(lib.tw_error_message(lib.tw_error_last())))

    async def _finish_heartbeats(self, running: _RunningActivity) -> None:
        """Hands the last heartbeat to the engine (which sends it before the outcome)."""
        running.finished = True
        while running.heartbeat_task is not None and not running.heartbeat_task.done():
            await asyncio.shield(running.heartbeat_task)

    # ---- outcomes ----

    async def _report(self, what: str, start: Callable[[Any, int], int]) -> None:
        try:
            await self._runtime.call(start)
        except _bridge._EventError as e:
            err = e.event.error()
            level = logging.INFO if e.event.status == lib.TW_ENOTFOUND else logging.WARNING
            logger.log(level, "Reporting activity %s failed: %s", what, err)

    async def _report_result(self, running: _RunningActivity, result: Any) -> None:
        try:
            payloads = await self._data_converter.encode([result])
        except Exception as err:
            temporalio.activity.logger.warning("Failed converting the activity's result", exc_info=True)
            await self._report_error(running, err)
            return
        lst = _bridge.payloads_to_c(payloads)
        token, worker = running.token, self._worker
        temporalio.activity.logger.debug("Completing activity")
        await self._report(
            "completion",
            lambda cq, tag: lib.tw_worker_complete_activity_task(worker, token, len(token), lst, cq, tag),
        )

    async def _report_error(self, running: _RunningActivity, err: BaseException) -> None:
        token, worker = running.token, self._worker
        cancelled = isinstance(err, (asyncio.CancelledError, temporalio.exceptions.CancelledError))
        if cancelled and running.heartbeat_error is not None:
            err, cancelled = running.heartbeat_error, False
        if cancelled and running.cancelled_by_request:
            details: Sequence[Any] = err.details if isinstance(err, temporalio.exceptions.CancelledError) else ()
            try:
                payloads = await self._data_converter.encode(list(details)) if details else []
            except Exception:
                temporalio.activity.logger.warning("Failed converting cancellation details", exc_info=True)
                payloads = []
            lst = _bridge.payloads_to_c(payloads)
            temporalio.activity.logger.debug("Completing activity as cancelled")
            await self._report(
                "cancellation",
                lambda cq, tag: lib.tw_worker_report_activity_task_cancelled(worker, token, len(token), lst, cq, tag),
            )
            return
        if isinstance(err, asyncio.CancelledError):
            err = temporalio.exceptions.CancelledError("Cancelled")
        if isinstance(err, temporalio.exceptions.ApplicationError) and err.category == (
            temporalio.exceptions.ApplicationErrorCategory.BENIGN
        ):
            temporalio.activity.logger.debug("Completing activity as failed", exc_info=err)
        else:
            temporalio.activity.logger.warning("Completing activity as failed", exc_info=err)
        failure = Failure()
        try:
            await self._data_converter.encode_failure(err, failure)
        except Exception as conv_err:
            failure = Failure(
                message=f"Failed converting the activity's error {type(err).__name__}: {conv_err}",
                application_failure_info=ApplicationFailureInfo(type=type(err).__name__),
            )
        data = failure.SerializeToString()
        await self._report(
            "failure",
            lambda cq, tag: lib.tw_worker_fail_activity_task_encoded(worker, token, len(token), data, len(data), cq, tag),
        )
