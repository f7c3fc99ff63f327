"""The deterministic event loop of one workflow run (internal).

A :py:class:`WorkflowEventLoop` is an :py:class:`asyncio.AbstractEventLoop`
with no I/O, no threads and no wall clock:

* ``time()`` is workflow time (the activation's timestamp), which only moves
  between activations;
* ``call_soon`` appends to a FIFO ready queue that :py:meth:`run_until_quiescent`
  runs until nothing is left (the runtime's ``drain`` callback);
* ``call_later`` / ``call_at`` become durable timers through a
  :py:class:`TimerBackend` (``tw_wf_start_timer`` for a real run), so
  ``asyncio.sleep``, ``asyncio.wait_for`` and ``asyncio.wait(timeout=...)``
  are recorded in history and replay identically;
* conditions registered by ``workflow.wait_condition`` are checked whenever
  the ready queue is empty.

Everything that would touch the outside world (sockets, subprocesses,
executors, signals, file descriptors) raises :py:class:`RuntimeError`
naming the call: a workflow must be deterministic.

The loop is "running" only while a thread drives it
(:py:meth:`WorkflowEventLoop.running`); between activations nothing runs.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine, Generator, Iterator
import sys
from contextlib import contextmanager
from typing import Any, NoReturn, Optional, TypeVar

if sys.version_info >= (3, 11):
    from typing import TypeVarTuple, Unpack
else:  # pragma: no cover
    from typing_extensions import TypeVarTuple, Unpack

__all__ = ["WorkflowEventLoop", "TimerBackend"]

_T = TypeVar("_T")
_Ts = TypeVarTuple("_Ts")

# The summary for the next durable timer the current task starts (see
# WorkflowEventLoop.timer_summary). A context variable, so that other tasks
# running while this one awaits its timer never pick it up.
_next_timer_summary: contextvars.ContextVar[Optional[str]] = contextvars.ContextVar(
    "temporal_next_timer_summary", default=None
)


class TimerBackend(ABC):
    """Where the loop's timers go: durable timers for a workflow run."""

    @abstractmethod
    def start_timer(self, delay_ms: int, handle: "_WorkflowTimerHandle", summary: Optional[str] = None) -> None:
        """Starts a timer that runs ``handle`` (via :py:meth:`WorkflowEventLoop.timer_fired`) after ``delay_ms``.

        ``summary`` describes the timer in UIs (``workflow.sleep(summary=...)``).
        """

    @abstractmethod
    def cancel_timer(self, handle: "_WorkflowTimerHandle") -> None:
        """Cancels the timer of ``handle`` (it was cancelled by asyncio)."""


class _WorkflowTimerHandle(asyncio.TimerHandle):
    """A TimerHandle whose timer is a durable workflow timer."""

    __slots__ = ("timer_tag", "timer_op")

    def __init__(
        self,
        when: float,
        callback: Callable[..., object],
        args: tuple[Any, ...],
        loop: "WorkflowEventLoop",
        context: Optional[contextvars.Context],
    ) -> None:
        super().__init__(when, callback, args, loop, context)
        self.timer_tag = 0
        self.timer_op: Any = None


_EXCEPTION_HANDLER = Callable[[asyncio.AbstractEventLoop, dict[str, Any]], object]


def _not_allowed(what: str) -> NoReturn:
    raise RuntimeError(
        f"{what} is not allowed in a workflow: workflow code must be deterministic "
        "(no I/O, threads, subprocesses or wall-clock time); use an activity instead"
    )


class WorkflowEventLoop(asyncio.AbstractEventLoop):
    """Deterministic event loop for one workflow run (see module docstring)."""

    def __init__(self, timers: TimerBackend) -> None:
        self._ready: collections.deque[asyncio.Handle] = collections.deque()
        self._timers = timers
        self._time_ns = 0
        self._closed = False
        self._debug = False
        self._exception_handler: Optional[_EXCEPTION_HANDLER] = None
        self._conditions: list[tuple[Callable[[], bool], asyncio.Future[bool]]] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopped = False
        self._task_factory: Any = None
        # Called with each new task (the runtime tracks task scopes).
        self.on_task_created: Optional[Callable[[asyncio.Task[Any]], None]] = None
        # Set by the runtime: refuse to schedule commands (queries are read-only).
        self.read_only_reason: Optional[str] = None

    # ---- driving ----

    def set_time_ns(self, ns: int) -> None:
        self._time_ns = ns

    def time_ns(self) -> int:
        return self._time_ns

    def running(self) -> "_Running":
        """Context manager that makes this the running loop of the current thread."""
        return _Running(self)

    @contextmanager
    def timer_summary(self, summary: Optional[str]) -> Iterator[None]:
        """Gives ``summary`` to the first durable timer the current task starts inside the block.

        ``workflow.sleep`` and ``workflow.wait_condition`` wrap the asyncio
        call that makes their timer (``asyncio.sleep``, ``asyncio.wait_for``)
        in it: those start the timer before they first suspend.
        """
        if summary is None:
            yield
            return
        token = _next_timer_summary.set(summary)
        try:
            yield
        finally:
            _next_timer_summary.reset(token)

    def stop_draining(self) -> None:
        """Stops :py:meth:`run_until_quiescent` after the current callback (the task failed)."""
        self._stopped = True

    def run_until_quiescent(self, check_conditions: bool = True) -> None:
        """Runs ready callbacks FIFO (and satisfied conditions) until nothing is ready."""
        ready = self._ready
        while not self._stopped:
            while ready:
                handle = ready.popleft()
                if not handle._cancelled:
                    handle._run()
                if self._stopped:
                    return
            if not check_conditions or not self._conditions or not self._check_conditions():
                return

    def _check_conditions(self) -> bool:
        fired = False
        remaining: list[tuple[Callable[[], bool], asyncio.Future[bool]]] = []
        for fn, fut in self._conditions:
            if fut.done():
                continue
            try:
                ok = fn()
            except Exception as err:
                fut.set_exception(err)
                fired = True
                continue
            if ok:
                fut.set_result(True)
                fired = True
            else:
                remaining.append((fn, fut))
        self._conditions = remaining
        return fired

    def add_condition(self, fn: Callable[[], bool]) -> asyncio.Future[bool]:
        fut: asyncio.Future[bool] = self.create_future()
        self._conditions.append((fn, fut))
        return fut

    def timer_fired(self, handle: _WorkflowTimerHandle) -> None:
        """The durable timer of handle fired: queue its callback."""
        if not handle._cancelled:
            self._ready.append(handle)

    @property
    def tasks(self) -> set[asyncio.Task[Any]]:
        """Tasks not yet done (strong references: asyncio keeps only weak ones)."""
        return self._tasks

    def has_ready(self) -> bool:
        return bool(self._ready)

    # ---- scheduling ----

    def _check_not_read_only(self, what: str) -> None:
        if self.read_only_reason is not None:
            from temporalio.workflow import ReadOnlyContextError

            raise ReadOnlyContextError(f"{what} is not allowed {self.read_only_reason}")

    def call_soon(
        self,
        callback: Callable[[Unpack[_Ts]], object],
        *args: Unpack[_Ts],
        context: Optional[contextvars.Context] = None,
    ) -> asyncio.Handle:
        handle = asyncio.Handle(callback, args, self, context)
        self._ready.append(handle)
        return handle

    def call_soon_threadsafe(
        self,
        callback: Callable[[Unpack[_Ts]], object],
        *args: Unpack[_Ts],
        context: Optional[contextvars.Context] = None,
    ) -> asyncio.Handle:
        _not_allowed("call_soon_threadsafe (threads)")

    def call_later(
        self,
        delay: float,
        callback: Callable[[Unpack[_Ts]], object],
        *args: Unpack[_Ts],
        context: Optional[contextvars.Context] = None,
    ) -> asyncio.TimerHandle:
        if delay is None or math.isnan(delay):
            raise ValueError(f"timer delay must be a number of seconds, got {delay!r}")
        self._check_not_read_only("starting a timer")
        handle = _WorkflowTimerHandle(self.time() + max(delay, 0.0), callback, args, self, context)
        if delay <= 0:
            self._ready.append(handle)
            return handle
        ms = int(round(delay * 1000))
        summary = _next_timer_summary.get()
        if summary is not None:
            _next_timer_summary.set(None)
        self._timers.start_timer(max(ms, 1), handle, summary)
        return handle

    def call_at(
        self,
        when: float,
        callback: Callable[[Unpack[_Ts]], object],
        *args: Unpack[_Ts],
        context: Optional[contextvars.Context] = None,
    ) -> asyncio.TimerHandle:
        return self.call_later(when - self.time(), callback, *args, context=context)

    def _timer_handle_cancelled(self, handle: asyncio.TimerHandle) -> None:
        # Called by TimerHandle.cancel() (asyncio cancelled a sleep, wait_for...).
        if isinstance(handle, _WorkflowTimerHandle) and handle.timer_op is not None:
            self._timers.cancel_timer(handle)

    def time(self) -> float:
        return self._time_ns / 1e9

    def create_future(self) -> asyncio.Future[Any]:
        return asyncio.Future(loop=self)

    def create_task(
        self,
        coro: Coroutine[Any, Any, _T] | Generator[Any, None, _T],
        *,
        name: Optional[str] = None,
        context: Optional[contextvars.Context] = None,
    ) -> asyncio.Task[_T]:
        if self._task_factory is not None:
            task: asyncio.Task[_T] = self._task_factory(self, coro)
            if name is not None:
                task.set_name(name)
        elif context is not None:
            task = asyncio.Task(coro, loop=self, name=name, context=context)
        else:
            task = asyncio.Task(coro, loop=self, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        if self.on_task_created is not None:
            self.on_task_created(task)
        return task

    def set_task_factory(self, factory: Any) -> None:
        self._task_factory = factory

    def get_task_factory(self) -> Any:
        return self._task_factory

    # ---- state ----

    def is_running(self) -> bool:
        return asyncio._get_running_loop() is self

    def is_closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        self._closed = True
        self._ready.clear()
        self._conditions.clear()

    def get_debug(self) -> bool:
        return self._debug

    def set_debug(self, enabled: bool) -> None:
        self._debug = enabled

    async def shutdown_asyncgens(self) -> None:
        return None

    async def shutdown_default_executor(self, timeout: Optional[float] = None) -> None:
        return None

    def run_forever(self) -> None:
        _not_allowed("run_forever on the workflow loop")

    def run_until_complete(self, future: Any) -> Any:
        _not_allowed("run_until_complete on the workflow loop")

    def stop(self) -> None:
        _not_allowed("stopping the workflow loop")

    # ---- errors ----

    def get_exception_handler(self) -> Optional[_EXCEPTION_HANDLER]:
        return self._exception_handler

    def set_exception_handler(self, handler: Optional[_EXCEPTION_HANDLER]) -> None:
        self._exception_handler = handler

    def default_exception_handler(self, context: dict[str, Any]) -> None:
        import logging

        message = context.get("message") or "Unhandled exception in workflow event loop"
        exc = context.get("exception")
        logging.getLogger("temporalio.workflow").error(
            message, exc_info=(type(exc), exc, exc.__traceback__) if exc is not None else None
        )

    def call_exception_handler(self, context: dict[str, Any]) -> None:
        if self._exception_handler is None:
            self.default_exception_handler(context)
        else:
            self._exception_handler(self, context)

    # ---- everything that is not deterministic ----

    def run_in_executor(self, executor: Any, func: Any, *args: Any) -> Any:  # type: ignore[override]
        _not_allowed("run_in_executor (threads)")

    def set_default_executor(self, executor: Any) -> None:
        _not_allowed("set_default_executor (threads)")

    async def getaddrinfo(self, *args: Any, **kwargs: Any) -> Any:
        _not_allowed("getaddrinfo (network I/O)")

    async def getnameinfo(self, *args: Any, **kwargs: Any) -> Any:
        _not_allowed("getnameinfo (network I/O)")

    async def create_connection(self, *args: Any, **kwargs: Any) -> Any:
        _not_allowed("create_connection (network I/O)")

    async def create_server(self, *args: Any, **kwargs: Any) -> Any:
        _not_allowed("create_server (network I/O)")

    async def sendfile(self, *args: Any, **kwargs: Any) -> Any:
        _not_allowed("sendfile (I/O)")

    async def start_tls(self, *args: Any, **kwargs: Any) -> Any:
        _not_allowed("start_tls (network I/O)")

    async def create_unix_connection(self, *args: Any, **kwargs: Any) -> Any:
        _not_allowed("create_unix_connection (I/O)")

    async def create_unix_server(self, *args: Any, **kwargs: Any) -> Any:
        _not_allowed("create_unix_server (I/O)")

    async def connect_accepted_socket(self, *args: Any, **kwargs: Any) -> Any:
        _not_allowed("connect_accepted_socket (network I/O)")

    async def create_datagram_endpoint(self, *args: Any, **kwargs: Any) -> Any:
        _not_allowed("create_datagram_endpoint (network I/O)")

    async def connect_read_pipe(self, *args: Any, **kwargs: Any) -> Any:
        _not_allowed("connect_read_pipe (I/O)")

    async def connect_write_pipe(self, *args: Any, **kwargs: Any) -> Any:
        _not_allowed("connect_write_pipe (I/O)")

    async def subprocess_shell(self, *args: Any, **kwargs: Any) -> Any:
        _not_allowed("subprocess_shell (subprocesses)")

    async def subprocess_exec(self, *args: Any, **kwargs: Any) -> Any:
        _not_allowed("subprocess_exec (subprocesses)")

    def add_reader(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        _not_allowed("add_reader (file descriptors)")

    def remove_reader(self, *args: Any, **kwargs: Any) -> Any:
        _not_allowed("remove_reader (file descriptors)")

    def add_writer(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        _not_allowed("add_writer (file descriptors)")

    def remove_writer(self, *args: Any, **kwargs: Any) -> Any:
        _not_allowed("remove_writer (file descriptors)")

    async def sock_recv(self, *args: Any, **kwargs: Any) -> Any:
        _not_allowed("sock_recv (network I/O)")

    async def sock_recv_into(self, *args: Any, **kwargs: Any) -> Any:
        _not_allowed("sock_recv_into (network I/O)")

    async def sock_recvfrom(self, *args: Any, **kwargs: Any) -> Any:
        _not_allowed("sock_recvfrom (network I/O)")

    async def sock_recvfrom_into(self, *args: Any, **kwargs: Any) -> Any:
        _not_allowed("sock_recvfrom_into (network I/O)")

    async def sock_sendall(self, *args: Any, **kwargs: Any) -> Any:
        _not_allowed("sock_sendall (network I/O)")

    async def sock_sendto(self, *args: Any, **kwargs: Any) -> Any:
        _not_allowed("sock_sendto (network I/O)")

    async def sock_connect(self, *args: Any, **kwargs: Any) -> Any:
        _not_allowed("sock_connect (network I/O)")

    async def sock_accept(self, *args: Any, **kwargs: Any) -> Any:
        _not_allowed("sock_accept (network I/O)")

    async def sock_sendfile(self, *args: Any, **kwargs: Any) -> Any:
        _not_allowed("sock_sendfile (network I/O)")

    def add_signal_handler(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        _not_allowed("add_signal_handler (OS signals)")

    def remove_signal_handler(self, *args: Any, **kwargs: Any) -> Any:
        _not_allowed("remove_signal_handler (OS signals)")


class _Running:
    """Makes a loop the running loop of this thread for a while (re-entrant safe)."""

    __slots__ = ("loop", "previous")

    def __init__(self, loop: WorkflowEventLoop) -> None:
        self.loop = loop
        self.previous: Optional[asyncio.AbstractEventLoop] = None

    def __enter__(self) -> WorkflowEventLoop:
        self.previous = asyncio._get_running_loop()
        asyncio._set_running_loop(self.loop)
        return self.loop

    def __exit__(self, *exc: object) -> None:
        asyncio._set_running_loop(self.previous)
        self.previous = None
