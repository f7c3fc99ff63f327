"""The :py:class:`Worker`: one engine worker (``tw_worker``) serving a task queue.

A worker is made of sides that share the engine worker: the activity side
(:py:mod:`temporalio.worker._activity`) and, when workflows are given, the
workflow side (``temporalio._workflow_worker.WorkflowWorker``, plugged in
through its ``bridge_worker`` seam). Each side polls on its own until the
engine reports the worker closed; :py:meth:`Worker.shutdown` starts the
engine's graceful shutdown, which ends those polls once running work is done.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import math
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, Optional, Protocol

import temporalio.client
from temporalio import _bridge
from temporalio._tw import ffi, lib
from temporalio.worker._activity import ActivityWorker
from temporalio.worker._interceptor import Interceptor

__all__ = ["Worker"]

logger = logging.getLogger("temporalio.worker")

CData = Any


class _Side(Protocol):
    """One kind of work a worker polls for."""

    async def run(self) -> None: ...


class Worker:
    """Polls a task queue and runs the activities (and workflows) registered on it.

    Use ``async with Worker(...):`` to run it while the block runs, or call
    :py:meth:`run` and, from elsewhere, :py:meth:`shutdown`.
    """

    def __init__(
        self,
        client: temporalio.client.Client,
        *,
        task_queue: str,
        activities: Sequence[Callable[..., Any]] = [],
        workflows: Sequence[type] = [],
        activity_executor: Optional[concurrent.futures.Executor] = None,
        workflow_task_executor: Optional[concurrent.futures.ThreadPoolExecutor] = None,
        workflow_runner: Optional[Any] = None,
        interceptors: Sequence[Interceptor] = [],
        build_id: Optional[str] = None,
        identity: Optional[str] = None,
        max_cached_workflows: int = 1000,
        max_concurrent_workflow_tasks: Optional[int] = None,
        max_concurrent_activities: Optional[int] = None,
        max_concurrent_activity_task_polls: Optional[int] = None,
        max_concurrent_local_activities: Optional[int] = None,
        max_concurrent_workflow_task_polls: int = 5,
        nonsticky_to_sticky_poll_ratio: float = 0.2,
        no_remote_activities: bool = False,
        sticky_queue_schedule_to_start_timeout: timedelta = timedelta(seconds=10),
        max_heartbeat_throttle_interval: timedelta = timedelta(seconds=60),
        default_heartbeat_throttle_interval: timedelta = timedelta(seconds=30),
        max_activities_per_second: Optional[float] = None,
        max_task_queue_activities_per_second: Optional[float] = None,
        graceful_shutdown_timeout: timedelta = timedelta(),
        debug_mode: bool = False,
        workflow_failure_exception_types: Sequence[type[BaseException]] = [],
        disable_eager_activity_execution: bool = False,
    ) -> None:
        """Creates the worker; nothing is polled until it runs.

        Args:
            client: The client whose connection, namespace and data converter the worker uses.
            task_queue: The task queue to poll.
            activities: ``@activity.defn`` functions (sync ones need ``activity_executor``).
            workflows: ``@workflow.defn`` classes.
            activity_executor: Where sync activities run: a
                :py:class:`concurrent.futures.ThreadPoolExecutor`.
            workflow_task_executor: Where workflow activations run (default: a thread pool of its own).
            workflow_runner: How workflow code runs (default: in-process, unsandboxed).
            interceptors: :py:class:`Interceptor` instances, outermost first.
            build_id: Build id reported with workflow task completions.
            identity: Worker identity (default: the client's).
            max_cached_workflows: Runs kept in memory between workflow tasks.
            max_concurrent_workflow_tasks: Workflow tasks processed at once (default 100).
            max_concurrent_activities: Activities running at once (default 100).
            max_concurrent_activity_task_polls: Long polls for activity tasks (default 2).
            max_concurrent_local_activities: Local activities running at once (default 100).
                More wait, first come first served, for a running one to finish; one whose
                ``schedule_to_start_timeout`` expires while waiting fails with a
                ``SCHEDULE_TO_START`` timeout.
            max_concurrent_workflow_task_polls: Long polls for workflow tasks (default 5), shared
                between the task queue and the worker's sticky queue (when workflows are cached).
            nonsticky_to_sticky_poll_ratio: The share of those polls on the task queue itself
                (default 0.2, at least one poll); the rest poll the sticky queue, where the tasks
                of cached runs come.
            no_remote_activities: Run local activities only: the worker never polls the task
                queue for activity tasks (nor asks for eager ones), while the local activities its
                workflows schedule still run on it. Needs workflows.
            sticky_queue_schedule_to_start_timeout: How long a task waits on the sticky queue for
                this worker before the server gives it to any worker of the task queue (default 10 s).
            max_heartbeat_throttle_interval: The longest an activity's heartbeats are held back
                (default 60 s). Heartbeats go out at once, then at most once per interval of
                0.8 x the activity's heartbeat timeout (capped by this), the latest details
                winning.
            default_heartbeat_throttle_interval: That interval for an activity with no heartbeat
                timeout (default 30 s; also capped by ``max_heartbeat_throttle_interval``).
            max_activities_per_second: How many activity tasks this worker starts per second at
                most (default: no limit). The worker polls for a task only when receiving one
                would keep within the limit; for a rate of 1 or less, tasks start at least
                1/rate seconds apart. Eager activities are still asked for; each one that comes
                counts against the limit.
            max_task_queue_activities_per_second: How many activities per second the server
                dispatches from the whole task queue, to any worker (default: no limit). Sent
                with every activity task poll, so when workers disagree the last poller wins.
                Setting it turns eager activities off for this worker.
            graceful_shutdown_timeout: How long :py:meth:`shutdown` lets running activities
                finish before cancelling them (they then see ``activity.is_worker_shutdown()``).
            debug_mode: Disable the workflow deadlock detector.
            workflow_failure_exception_types: Exceptions that fail a workflow instead of its task.
            disable_eager_activity_execution: Never ask for eager activities. By default, a worker
                with both workflows and activities asks the server to hand an activity its workflows
                schedule on this task queue straight back with the workflow task's answer (when an
                activity slot is free), sparing a dispatch through the server's task queues.

        Raises:
            TypeError: An activity is not decorated with ``@activity.defn``, an
                interceptor is not an :py:class:`Interceptor`, a ``max_concurrent_*``
                option is not an int, a throttle interval is not a timedelta, or a
                ``*_per_second`` option is not a number.
            ValueError: No activities and no workflows, duplicate activity names, a sync
                activity without ``activity_executor``, or a bad option.
        """
        if not isinstance(client, temporalio.client.Client):
            raise TypeError(f"client must be a temporalio.client.Client, got {client!r}")
        if not task_queue:
            raise ValueError("task_queue is required")
        if not activities and not workflows:
            raise ValueError("At least one activity or workflow must be given to the worker")
        for i in interceptors:
            if not isinstance(i, Interceptor):
                raise TypeError(f"interceptors must be temporalio.worker.Interceptor instances, got {i!r}")
        for name, value in (
            ("max_concurrent_workflow_tasks", max_concurrent_workflow_tasks),
            ("max_concurrent_activities", max_concurrent_activities),
            ("max_concurrent_activity_task_polls", max_concurrent_activity_task_polls),
            ("max_concurrent_local_activities", max_concurrent_local_activities),
            ("max_concurrent_workflow_task_polls", max_concurrent_workflow_task_polls),
        ):
            if value is None:
                continue
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"{name} must be an int, got {value!r}")
            if value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
            if value > 0xFFFFFFFF:
                raise ValueError(f"{name} must be at most {0xFFFFFFFF}, got {value}")
        if (
            isinstance(nonsticky_to_sticky_poll_ratio, bool)
            or not isinstance(nonsticky_to_sticky_poll_ratio, (int, float))
            or not 0 < nonsticky_to_sticky_poll_ratio <= 1
        ):
            raise ValueError(
                f"nonsticky_to_sticky_poll_ratio must be a number in (0, 1], got {nonsticky_to_sticky_poll_ratio!r}"
            )
        if (
            not isinstance(sticky_queue_schedule_to_start_timeout, timedelta)
            or sticky_queue_schedule_to_start_timeout <= timedelta()
        ):
            raise ValueError(
                "sticky_queue_schedule_to_start_timeout must be a positive timedelta, got "
                f"{sticky_queue_schedule_to_start_timeout!r}"
            )
        if max_cached_workflows < 0:
            raise ValueError(f"max_cached_workflows must not be negative, got {max_cached_workflows}")
        if not isinstance(graceful_shutdown_timeout, timedelta) or graceful_shutdown_timeout < timedelta():
            raise ValueError(f"graceful_shutdown_timeout must be a non-negative timedelta, got {graceful_shutdown_timeout!r}")
        if not isinstance(no_remote_activities, bool):
            raise TypeError(f"no_remote_activities must be a bool, got {no_remote_activities!r}")
        if no_remote_activities and not workflows:
            raise ValueError(
                "no_remote_activities is set but no workflows are given: the worker would poll nothing "
                "(local activities only come from its own workflows)"
            )
        for name, interval in (
            ("max_heartbeat_throttle_interval", max_heartbeat_throttle_interval),
            ("default_heartbeat_throttle_interval", default_heartbeat_throttle_interval),
        ):
            if not isinstance(interval, timedelta):
                raise TypeError(f"{name} must be a timedelta, got {interval!r}")
            if interval < timedelta():
                raise ValueError(f"{name} must not be negative, got {interval!r}")
        for name, rate in (
            ("max_activities_per_second", max_activities_per_second),
            ("max_task_queue_activities_per_second", max_task_queue_activities_per_second),
        ):
            if rate is None:
                continue
            if isinstance(rate, bool) or not isinstance(rate, (int, float)):
                raise TypeError(f"{name} must be a number or None, got {rate!r}")
            try:
                per_second = float(rate)
            except OverflowError:
                per_second = math.inf
            # sys.float_info.min: the smallest normal float; the engine rejects subnormal rates.
            if not (math.isfinite(per_second) and per_second >= sys.float_info.min):
                raise ValueError(f"{name} must be a positive finite number (None for no limit), got {rate!r}")

        self._client = client
        self._task_queue = task_queue
        self._runtime = client._runtime
        self._ptr = self._make_bridge_worker(
            task_queue=task_queue,
            identity=identity,
            build_id=build_id,
            has_activities=bool(activities),
            has_workflows=bool(workflows),
            max_cached_workflows=max_cached_workflows,
            max_concurrent_workflow_tasks=max_concurrent_workflow_tasks,
            max_concurrent_activities=max_concurrent_activities,
            activity_pollers=max_concurrent_activity_task_polls,
            max_concurrent_local_activities=max_concurrent_local_activities,
            workflow_task_polls=max_concurrent_workflow_task_polls,
            nonsticky_ratio=nonsticky_to_sticky_poll_ratio,
            sticky_timeout=sticky_queue_schedule_to_start_timeout,
            graceful_shutdown_timeout=graceful_shutdown_timeout,
            disable_eager_activity_execution=disable_eager_activity_execution,
            no_remote_activities=no_remote_activities,
            max_heartbeat_throttle_interval=max_heartbeat_throttle_interval,
            default_heartbeat_throttle_interval=default_heartbeat_throttle_interval,
            max_activities_per_second=max_activities_per_second,
            max_task_queue_activities_per_second=max_task_queue_activities_per_second,
        )
        self._activity_worker: Optional[ActivityWorker] = None
        if activities:
            self._activity_worker = ActivityWorker(
                bridge_worker=self._ptr,
                client=client,
                activities=activities,
                executor=activity_executor,
                interceptors=interceptors,
                data_converter=client.data_converter,
            )
        self._workflow_worker: Optional[_Side] = None
        if workflows:
            self._workflow_worker = self._make_workflow_side(
                workflows=workflows,
                workflow_runner=workflow_runner,
                interceptors=interceptors,
                max_cached_workflows=max_cached_workflows,
                max_concurrent_workflow_tasks=max_concurrent_workflow_tasks or 100,
                identity=identity,
                build_id=build_id,
                debug_mode=debug_mode,
                workflow_failure_exception_types=workflow_failure_exception_types,
                workflow_task_executor=workflow_task_executor,
            )
        self._started = False
        self._shutdown_requested = asyncio.Event()
        self._done = asyncio.Event()
        self._shutdown_event: Optional[asyncio.Future[_bridge.Event]] = None
        self._run_task: Optional[asyncio.Task[None]] = None

    def _make_bridge_worker(
        self,
        *,
        task_queue: str,
        identity: Optional[str],
        build_id: Optional[str],
        has_activities: bool,
        has_workflows: bool,
        max_cached_workflows: int,
        max_concurrent_workflow_tasks: Optional[int],
        max_concurrent_activities: Optional[int],
        activity_pollers: Optional[int],
        max_concurrent_local_activities: Optional[int],
        workflow_task_polls: int,
        nonsticky_ratio: float,
        sticky_timeout: timedelta,
        graceful_shutdown_timeout: timedelta,
        disable_eager_activity_execution: bool,
        no_remote_activities: bool,
        max_heartbeat_throttle_interval: timedelta,
        default_heartbeat_throttle_interval: timedelta,
        max_activities_per_second: Optional[float],
        max_task_queue_activities_per_second: Optional[float],
    ) -> CData:
        keep: list[Any] = []
        o = ffi.new("tw_worker_options *")
        lib.tw_worker_options_init(o)
        o.task_queue = _bridge.cstr(task_queue, keep)
        o.identity = _bridge.cstr(identity, keep)
        o.build_id = _bridge.cstr(build_id, keep)
        o.max_cached_workflows = max_cached_workflows
        if max_concurrent_workflow_tasks is not None:
            o.max_concurrent_workflow_tasks = max_concurrent_workflow_tasks
        if max_concurrent_activities is not None:
            o.max_concurrent_activities = max_concurrent_activities
        if activity_pollers is not None:
            o.activity_pollers = activity_pollers
        if max_concurrent_local_activities is not None:
            o.max_concurrent_local_activities = max_concurrent_local_activities
        if max_cached_workflows > 0:
            # As the official SDK splits them: a share on the task queue (at least one), the rest sticky.
            o.workflow_pollers = max(1, int(workflow_task_polls * nonsticky_ratio))
            o.sticky_pollers = max(1, workflow_task_polls - o.workflow_pollers)
        else:
            o.workflow_pollers = workflow_task_polls
        o.sticky_schedule_to_start_timeout_ms = _bridge.millis(sticky_timeout)
        o.graceful_shutdown_timeout_ms = _bridge.millis(graceful_shutdown_timeout)
        o.no_activities = 0 if has_activities else 1
        o.no_workflows = 0 if has_workflows else 1
        o.no_eager_activities = 1 if disable_eager_activity_execution else 0
        o.no_remote_activities = 1 if no_remote_activities else 0
        o.max_heartbeat_throttle_interval_ms = _bridge.millis(max_heartbeat_throttle_interval)
        o.default_heartbeat_throttle_interval_ms = _bridge.millis(default_heartbeat_throttle_interval)
        o.max_activities_per_second = float(max_activities_per_second or 0)
        o.max_task_queue_activities_per_second = float(max_task_queue_activities_per_second or 0)
        out = ffi.new("tw_worker **")
        _bridge.raise_for(lib.tw_worker_new(self._client._ptr, o, out))
        return ffi.gc(out[0], lib.tw_worker_free)

    def _make_workflow_side(self, **options: Any) -> _Side:
        """The workflow side, sharing this worker's engine worker."""
        try:
            from temporalio._workflow_worker import WorkflowWorker
        except ImportError as err:  # pragma: no cover - the workflow side ships with the package
            raise NotImplementedError(
                "this build of temporalio has no Python workflow support: give the Worker activities only"
            ) from err
        return WorkflowWorker(
            self._client,
            task_queue=self._task_queue,
            data_converter=self._client.data_converter,
            bridge_worker=self._ptr,
            **options,
        )

    @property
    def client(self) -> temporalio.client.Client:
        """The client the worker uses."""
        return self._client

    @property
    def task_queue(self) -> str:
        """The task queue the worker polls."""
        return self._task_queue

    @property
    def is_running(self) -> bool:
        """Whether :py:meth:`run` is running."""
        return self._started and not self._done.is_set()

    @property
    def is_shutdown(self) -> bool:
        """Whether the worker ran and has shut down."""
        return self._done.is_set()

    async def run(self) -> None:
        """Polls and runs work until :py:meth:`shutdown` is called (or polling fails).

        Raises:
            RuntimeError: The worker already ran.
            Exception: What made polling fail, after the worker shut down.
        """
        self._mark_started()
        await self._run()

    def _mark_started(self) -> None:
        if self._started:
            raise RuntimeError("this worker was already started (a Worker runs once)")
        self._started = True

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        sides: list[asyncio.Task[None]] = []
        if self._activity_worker is not None:
            sides.append(loop.create_task(self._activity_worker.run()))
        if self._workflow_worker is not None:
            sides.append(loop.create_task(self._workflow_worker.run()))
        stop = loop.create_task(self._shutdown_requested.wait())
        error: Optional[BaseException] = None
        try:
            try:
                await asyncio.wait([*sides, stop], return_when=asyncio.FIRST_COMPLETED)
            except asyncio.CancelledError:
                await asyncio.shield(self._stop(sides))
                raise
            for side in sides:
                if side.done() and not side.cancelled() and side.exception() is not None:
                    error = side.exception()
                    logger.error("Worker failed, shutting down", exc_info=error)
                    break
            error = await self._stop(sides) or error
        finally:
            stop.cancel()
            self._done.set()
        if error is not None:
            raise error

    async def _stop(self, sides: Sequence["asyncio.Task[None]"]) -> Optional[BaseException]:
        """Runs the engine's graceful shutdown; returns the first error of a side."""
        if self._shutdown_event is None:
            if self._activity_worker is not None:
                self._activity_worker.notify_shutdown()
            ptr = self._ptr
            self._shutdown_event = self._runtime.queue().submit(lambda cq, tag: lib.tw_worker_shutdown(ptr, cq, tag))
        results = await asyncio.gather(*sides, return_exceptions=True)
        event = await self._shutdown_event
        if event.status != 0:
            logger.warning("Worker shutdown reported: %s", event.error())
        for r in results:
            if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError):
                return r
        return None

    async def shutdown(self) -> None:
        """Shuts the worker down and waits for :py:meth:`run` to end.

        Polling stops; running activities get ``graceful_shutdown_timeout`` to
        finish, then are cancelled; the call returns once everything running
        has reported its outcome.
        """
        if not self._started:
            raise RuntimeError("this worker was never started")
        self._shutdown_requested.set()
        await self._done.wait()

    async def __aenter__(self) -> "Worker":
        self._mark_started()
        self._run_task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        await self.shutdown()
        task, self._run_task = self._run_task, None
        if task is not None and exc is None:
            await task
