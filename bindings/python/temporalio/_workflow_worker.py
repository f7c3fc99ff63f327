"""The workflow side of a worker: polls activations and runs them through a runner.

:py:class:`WorkflowWorker` drives ``tw_worker_poll_activation`` /
``tw_worker_complete_activation`` (include/tw/worker.h) through the
client's completion queue, so polling never blocks the asyncio loop. Each
activation runs on a thread of the workflow task executor; a run whose
code does not yield within the deadlock timeout (2 s) fails its workflow
task with a "potential deadlock" error naming where it was stuck (unless
``debug_mode``), and the server retries the task.

``temporalio.worker.Worker`` runs one of these beside its activity worker
when given ``workflows=[...]``; it can also be used on its own.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import queue
import sys
import threading
import traceback
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, Optional

import temporalio.client
import temporalio.common
import temporalio.converter
import temporalio.workflow
from temporalio import _bridge
from temporalio._tw import ffi, lib
from temporalio._workflow_instance import WorkflowInstance, WorkflowInstanceDetails, fail_task_completion
from temporalio._workflow_interceptor import WorkflowInterceptorClassInput, workflow_interceptor_classes
from temporalio._workflow_runner import UnsandboxedWorkflowRunner, WorkflowRunner

__all__ = ["WorkflowWorker", "DEADLOCK_TIMEOUT_SECONDS", "check_workflows"]

logger = logging.getLogger("temporalio.worker")

DEADLOCK_TIMEOUT_SECONDS = 2.0
"""How long one activation may run before the task fails as a potential deadlock."""

CData = Any


def _time_of(ns: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=ns // 1000)


def _ms(ms: int) -> Optional[timedelta]:
    return timedelta(milliseconds=ms) if ms > 0 else None


def check_workflows(
    workflows: Sequence[type], runner: WorkflowRunner
) -> tuple[dict[str, temporalio.workflow.WorkflowDefinition], Optional[temporalio.workflow.WorkflowDefinition]]:
    """Validates workflow classes; returns them by name, and the dynamic one."""
    by_name: dict[str, temporalio.workflow.WorkflowDefinition] = {}
    dynamic: Optional[temporalio.workflow.WorkflowDefinition] = None
    for cls in workflows:
        if not isinstance(cls, type):
            raise TypeError(f"workflows must be @workflow.defn classes, got {cls!r}")
        defn = temporalio.workflow.WorkflowDefinition.must_from_class(cls)
        if defn.dynamic:
            if dynamic is not None:
                raise ValueError(
                    f"more than one dynamic workflow: {dynamic.cls.__qualname__} and {cls.__qualname__}"
                )
            dynamic = defn
        else:
            assert defn.name is not None
            if defn.name in by_name:
                raise ValueError(
                    f"workflow name {defn.name!r} is defined twice: by {by_name[defn.name].cls.__qualname__} "
                    f"and {cls.__qualname__}"
                )
            by_name[defn.name] = defn
        runner.prepare_workflow(defn)
    return by_name, dynamic


def _retry_policy_of(job: CData) -> Optional[temporalio.common.RetryPolicy]:
    """The run's retry policy from its TW_JOB_INITIALIZE job (None when it has none)."""
    if not lib.tw_job_has_retry_policy(job):
        return None
    maximum_ms = int(lib.tw_job_retry_maximum_interval_ms(job))
    return temporalio.common.RetryPolicy(
        initial_interval=timedelta(milliseconds=int(lib.tw_job_retry_initial_interval_ms(job))),
        backoff_coefficient=float(lib.tw_job_retry_backoff_coefficient(job)),
        maximum_interval=timedelta(milliseconds=maximum_ms) if maximum_ms else None,
        maximum_attempts=int(lib.tw_job_retry_maximum_attempts(job)),
        non_retryable_error_types=[
            _bridge.text(lib.tw_job_retry_non_retryable_error_type(job, i))
            for i in range(lib.tw_job_retry_non_retryable_error_type_count(job))
        ]
        or None,
    )


def info_from_initialize(job: CData, run_id: str, namespace: str, timestamp_ns: int) -> temporalio.workflow.Info:
    """The workflow Info of a run, from its TW_JOB_INITIALIZE job."""
    text = _bridge.text
    parent_id = text(lib.tw_job_parent_workflow_id(job))
    return temporalio.workflow.Info(
        attempt=int(lib.tw_job_attempt(job)) or 1,
        continued_run_id=text(lib.tw_job_continued_from_run_id(job)) or None,
        cron_schedule=text(lib.tw_job_cron_schedule(job)) or None,
        execution_timeout=_ms(int(lib.tw_job_execution_timeout_ms(job))),
        first_execution_run_id=text(lib.tw_job_first_execution_run_id(job)) or run_id,
        headers=_bridge.payload_map_from_c(lib.tw_job_headers(job)),
        namespace=namespace,
        parent=temporalio.workflow.ParentInfo(
            namespace=text(lib.tw_job_parent_namespace(job)),
            run_id=text(lib.tw_job_parent_run_id(job)),
            workflow_id=parent_id,
        )
        if parent_id
        else None,
        raw_memo=_bridge.payload_map_from_c(lib.tw_job_memo(job)),
        retry_policy=_retry_policy_of(job),
        run_id=run_id,
        run_timeout=_ms(int(lib.tw_job_run_timeout_ms(job))),
        search_attributes=temporalio.client._decode_search_attributes(
            _bridge.payload_map_from_c(lib.tw_job_search_attributes(job))
        ),
        start_time=_time_of(timestamp_ns),
        task_queue=text(lib.tw_job_task_queue(job)),
        task_timeout=_ms(int(lib.tw_job_task_timeout_ms(job))) or timedelta(seconds=10),
        workflow_id=text(lib.tw_job_workflow_id(job)),
        workflow_start_time=_time_of(int(lib.tw_job_start_time(job))),
        workflow_type=text(lib.tw_job_name(job)),
        priority=_priority_of(job),
    )


def _priority_of(job: CData) -> temporalio.common.Priority:
    p = ffi.new("tw_priority *")
    lib.tw_priority_init(p)
    _bridge.raise_for(lib.tw_job_priority(job, p))
    return _bridge.priority_from_c(p)


class _DaemonThreadPool(concurrent.futures.Executor):
    """Runs activations on daemon threads, started on demand up to max_workers.

    Daemon threads, unlike ThreadPoolExecutor's, are not joined when the
    interpreter exits, so a workflow stuck in an endless loop (reported as a
    potential deadlock) cannot keep the process alive.
    """

    def __init__(self, max_workers: int, name: str) -> None:
        self._max = max(1, max_workers)
        self._name = name
        self._queue: "queue.SimpleQueue[Optional[tuple[concurrent.futures.Future[Any], Any, tuple[Any, ...]]]]" = (
            queue.SimpleQueue()
        )
        self._lock = threading.Lock()
        self._threads = 0
        self._idle = 0  # threads waiting for an item nobody else has claimed
        self._backlog = 0  # queued items no thread has claimed yet
        self._closed = False

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> "concurrent.futures.Future[Any]":
        if kwargs:
            raise TypeError("keyword arguments are not supported")
        fut: concurrent.futures.Future[Any] = concurrent.futures.Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the executor was shut down")
            self._queue.put((fut, fn, args))
            if self._idle > 0:
                self._idle -= 1
            elif self._threads < self._max:
                self._threads += 1
                threading.Thread(target=self._work, name=f"{self._name}{self._threads}", daemon=True).start()
            else:
                self._backlog += 1
        return fut

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            fut, fn, args = item
            if fut.set_running_or_notify_cancel():
                try:
                    fut.set_result(fn(*args))
                except BaseException as err:  # noqa: B036 - handed to the waiter
                    fut.set_exception(err)
            with self._lock:
                if self._backlog > 0:
                    self._backlog -= 1
                else:
                    self._idle += 1

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for _ in range(self._threads):
                self._queue.put(None)


class _Activations:
    """Creates, activates and evicts the instances of runs (shared by the worker and the replayer)."""

    def __init__(
        self,
        *,
        namespace: str,
        workflows: Sequence[type],
        workflow_runner: WorkflowRunner,
        interceptors: Sequence[Any],
        data_converter: temporalio.converter.DataConverter,
        workflow_failure_exception_types: Sequence[type[BaseException]],
    ) -> None:
        self.namespace = namespace
        self.runner = workflow_runner
        self.runner.set_worker_level_failure_exception_types(workflow_failure_exception_types)
        self.by_name, self.dynamic = check_workflows(workflows, workflow_runner)
        self.interceptor_classes = workflow_interceptor_classes(interceptors, WorkflowInterceptorClassInput())
        self.data_converter = data_converter
        self.failure_types = tuple(workflow_failure_exception_types)
        self.instances: dict[str, WorkflowInstance] = {}

    def instance_for(self, activation: CData) -> tuple[Optional[WorkflowInstance], Optional[CData]]:
        """The run's instance (created on its first activation), or a completion to send instead."""
        run_id = _bridge.text(lib.tw_activation_run_id(activation))
        inst = self.instances.get(run_id)
        if inst is not None:
            return inst, None
        init_job = None
        only_eviction = True
        for i in range(lib.tw_activation_job_count(activation)):
            job = lib.tw_activation_job(activation, i)
            kind = lib.tw_job_kind_of(job)
            if kind == lib.TW_JOB_INITIALIZE:
                init_job = job
            if kind != lib.TW_JOB_REMOVE_FROM_CACHE:
                only_eviction = False
        if init_job is None:
            if only_eviction:
                out = ffi.new("tw_completion **")
                _bridge.raise_for(lib.tw_completion_new(run_id.encode(), out))
                return None, out[0]
            return None, fail_task_completion(
                run_id, f"activation for run {run_id}, which this worker does not know and which does not start"
            )
        workflow_type = _bridge.text(lib.tw_job_name(init_job))
        defn = self.by_name.get(workflow_type) or self.dynamic
        if defn is None:
            known = ", ".join(sorted(self.by_name))
            return None, fail_task_completion(
                run_id,
                f"Workflow class {workflow_type} is not registered on this worker, available workflows: {known}",
            )
        try:
            info = info_from_initialize(
                init_job, run_id, self.namespace, int(lib.tw_activation_timestamp(activation))
            )
            inst = self.runner.create_instance(
                WorkflowInstanceDetails(
                    defn=defn,
                    info=info,
                    data_converter=self.data_converter,
                    interceptor_classes=self.interceptor_classes,
                    randomness_seed=int(lib.tw_job_random_seed(init_job)),
                    worker_level_failure_exception_types=self.failure_types,
                )
            )
        except Exception as err:
            logger.warning("Failed creating workflow %s for run %s", workflow_type, run_id, exc_info=err)
            return None, fail_task_completion(
                run_id, f"{type(err).__name__}: {err}", "".join(traceback.format_exception(err))
            )
        self.instances[run_id] = inst
        return inst, None

    @staticmethod
    def is_eviction(activation: CData) -> bool:
        for i in range(lib.tw_activation_job_count(activation)):
            if lib.tw_job_kind_of(lib.tw_activation_job(activation, i)) == lib.TW_JOB_REMOVE_FROM_CACHE:
                return True
        return False

    def evicted(self, run_id: str) -> None:
        inst = self.instances.pop(run_id, None)
        if inst is not None:
            inst.close()


class WorkflowWorker:
    """Runs workflows of a task queue (see the module docstring)."""

    def __init__(
        self,
        client: temporalio.client.Client,
        *,
        task_queue: str,
        workflows: Sequence[type],
        workflow_runner: Optional[WorkflowRunner] = None,
        interceptors: Sequence[Any] = (),
        max_cached_workflows: int = 1000,
        max_concurrent_workflow_tasks: int = 100,
        identity: Optional[str] = None,
        build_id: Optional[str] = None,
        debug_mode: bool = False,
        workflow_failure_exception_types: Sequence[type[BaseException]] = (),
        workflow_task_executor: Optional[concurrent.futures.Executor] = None,
        data_converter: Optional[temporalio.converter.DataConverter] = None,
        deadlock_timeout: Optional[float] = DEADLOCK_TIMEOUT_SECONDS,
        bridge_worker: Optional[CData] = None,
    ) -> None:
        """Creates the worker (nothing is polled until :py:meth:`run`).

        ``bridge_worker``: a ``tw_worker *`` owned by the caller (who then
        also shuts it down); by default the worker makes its own, polling
        workflow tasks only.
        """
        if not task_queue:
            raise ValueError("task_queue is required")
        if not workflows:
            raise ValueError("at least one workflow is required")
        if max_concurrent_workflow_tasks < 1:
            raise ValueError("max_concurrent_workflow_tasks must be at least 1")
        if max_cached_workflows < 0:
            raise ValueError("max_cached_workflows must not be negative")
        for t in workflow_failure_exception_types:
            if not (isinstance(t, type) and issubclass(t, BaseException)):
                raise TypeError(f"workflow_failure_exception_types must hold exception classes, got {t!r}")
        self._client = client
        self._task_queue = task_queue
        self._runner = workflow_runner or UnsandboxedWorkflowRunner()
        self._activations = _Activations(
            namespace=client.namespace,
            workflows=workflows,
            workflow_runner=self._runner,
            interceptors=interceptors,
            data_converter=data_converter or client.data_converter,
            workflow_failure_exception_types=workflow_failure_exception_types,
        )
        self._max_cached = max_cached_workflows
        self._max_concurrent = max_concurrent_workflow_tasks
        self._identity = identity
        self._build_id = build_id
        self._debug_mode = debug_mode or bool(os.environ.get("TEMPORAL_DEBUG"))
        self._deadlock_timeout = None if self._debug_mode else deadlock_timeout
        self._executor = workflow_task_executor
        self._own_executor = workflow_task_executor is None
        self._worker: CData = bridge_worker
        self._own_worker = bridge_worker is None
        self._runtime = client._runtime
        self._tasks: set[asyncio.Task[None]] = set()
        self._run_task: Optional[asyncio.Task[None]] = None
        self._running = False
        self._shutdown_started = False
        self._shutdown_event: Optional[asyncio.Future[_bridge.Event]] = None
        self._done = asyncio.Event()

    @property
    def task_queue(self) -> str:
        return self._task_queue

    @property
    def is_running(self) -> bool:
        return self._running

    def _make_worker(self) -> None:
        keep: list[Any] = []
        o = ffi.new("tw_worker_options *")
        lib.tw_worker_options_init(o)
        o.task_queue = _bridge.cstr(self._task_queue, keep)
        o.build_id = _bridge.cstr(self._build_id, keep)
        o.identity = _bridge.cstr(self._identity, keep)
        o.max_concurrent_workflow_tasks = self._max_concurrent
        o.max_cached_workflows = self._max_cached
        o.no_activities = 1
        out = ffi.new("tw_worker **")
        _bridge.raise_for(lib.tw_worker_new(self._client._ptr, o, out))
        self._worker = out[0]

    async def run(self) -> None:
        """Polls and runs workflow activations until :py:meth:`shutdown` (or a fatal error)."""
        if self._running:
            raise RuntimeError("this worker is already running")
        self._running = True
        if self._worker is None:
            self._make_worker()
        if self._executor is None:
            self._executor = _DaemonThreadPool(self._max_concurrent, "temporal_workflow_")
        worker = self._worker
        error: Optional[BaseException] = None
        try:
            while True:
                try:
                    ev = await self._runtime.call(lambda cq, tag: lib.tw_worker_poll_activation(worker, cq, tag))
                except _bridge._EventError as e:
                    if e.event.status == lib.TW_ECLOSED:
                        break
                    raise e.event.error() from None
                activation = lib.tw_event_take_activation(ev.ptr)
                if activation == ffi.NULL:
                    continue
                task = asyncio.get_running_loop().create_task(self._handle(activation))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        except BaseException as err:  # noqa: B036 - the worker stops on any error
            error = err
        finally:
            if self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)
            if error is not None and self._own_worker and not self._shutdown_started:
                # Fatal poll error: abandon the worker.
                self._shutdown_started = True
            if self._shutdown_event is not None:
                try:
                    await self._shutdown_event
                except Exception:
                    logger.exception("Workflow worker shutdown failed")
            if self._own_worker and self._worker is not None:
                lib.tw_worker_free(self._worker)
                self._worker = None
            if self._own_executor and self._executor is not None:
                self._executor.shutdown(wait=False)
                self._executor = None
            for run_id in list(self._activations.instances):
                self._activations.evicted(run_id)
            self._running = False
            self._done.set()
        if error is not None and not isinstance(error, asyncio.CancelledError):
            raise error
        if isinstance(error, asyncio.CancelledError):
            raise error

    async def shutdown(self) -> None:
        """Stops polling, lets running activations finish and evicts every cached run; waits for :py:meth:`run`."""
        if self._own_worker and self._worker is not None and not self._shutdown_started:
            self._shutdown_started = True
            worker = self._worker
            self._shutdown_event = self._runtime.queue().submit(
                lambda cq, tag: lib.tw_worker_shutdown(worker, cq, tag)
            )
        if self._running or self._run_task is not None:
            await self._done.wait()
        if self._run_task is not None:
            task, self._run_task = self._run_task, None
            if task.done() and not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]

    async def __aenter__(self) -> "WorkflowWorker":
        self._run_task = asyncio.get_running_loop().create_task(self.run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.shutdown()

    # ---- one activation ----

    async def _handle(self, activation: CData) -> None:
        run_id = _bridge.text(lib.tw_activation_run_id(activation))
        owns_activation = True
        completion: CData = None
        try:
            inst, completion = self._activations.instance_for(activation)
            if inst is not None:
                eviction = self._activations.is_eviction(activation)
                loop = asyncio.get_running_loop()
                fut = loop.run_in_executor(self._executor, inst.activate, activation)
                if self._deadlock_timeout is None:
                    completion = await fut
                else:
                    try:
                        completion = await asyncio.wait_for(asyncio.shield(fut), self._deadlock_timeout)
                    except asyncio.TimeoutError:
                        owns_activation = False
                        completion = self._deadlocked(run_id, inst, activation, fut)
                        eviction = False
                if eviction:
                    self._activations.evicted(run_id)
        except Exception as err:
            logger.exception("Failed handling an activation of run %s", run_id)
            if completion is not None:
                lib.tw_completion_free(completion)
            completion = fail_task_completion(run_id, f"{type(err).__name__}: {err}")
        finally:
            if owns_activation:
                lib.tw_activation_free(activation)
        worker = self._worker
        try:
            await self._runtime.call(lambda cq, tag: lib.tw_worker_complete_activation(worker, completion, cq, tag))
        except _bridge._EventError as e:
            logger.warning("Completing an activation of run %s failed: %s", run_id, e.event.error())
        except Exception:
            logger.exception("Completing an activation of run %s failed", run_id)

    def _deadlocked(
        self, run_id: str, inst: WorkflowInstance, activation: CData, fut: "asyncio.Future[CData]"
    ) -> CData:
        """The activation did not return in time: fail the task; clean up whenever the thread returns."""
        where = ""
        stack = ""
        thread_id = inst.get_thread_id()
        frame = sys._current_frames().get(thread_id) if thread_id is not None else None
        if frame is not None:
            entries = traceback.extract_stack(frame)
            user = [e for e in entries if "/temporalio/" not in e.filename.replace(os.sep, "/")] or entries
            top = user[-1]
            where = f" (stuck at {top.filename}:{top.lineno} in {top.name}: {top.line or ''})"
            stack = "".join(traceback.format_list(entries))
        timeout = self._deadlock_timeout or 0
        message = (
            f"[TMPRL1101] Potential deadlock detected: workflow didn't yield within {timeout:g} second(s)"
            f"{where}"
        )
        logger.warning("%s, run %s", message, run_id)
        # Forget the run now: the server retries the task, which replays on a new instance.
        self._activations.instances.pop(run_id, None)

        def cleanup(done: "asyncio.Future[CData]") -> None:
            lib.tw_activation_free(activation)
            if not done.cancelled() and done.exception() is None and done.result() is not None:
                lib.tw_completion_free(done.result())
            inst.close()

        fut.add_done_callback(cleanup)
        return fail_task_completion(run_id, message, stack)

