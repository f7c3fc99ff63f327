"""Activity definitions (``@activity.defn``) and the functions activities call.

The functions here find the running activity through a context variable
that the worker sets before calling the activity, in the activity's asyncio
task or in its executor thread. Code that hops to another thread without
copying the context (``contextvars.copy_context``) is not "in the activity".
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NoReturn, Optional, TypeVar, Union, overload

import temporalio.common
import temporalio.converter

if TYPE_CHECKING:
    from temporalio.client import Client

__all__ = [
    "defn",
    "Info",
    "ActivityCancellationDetails",
    "LoggerAdapter",
    "logger",
    "info",
    "in_activity",
    "client",
    "heartbeat",
    "is_cancelled",
    "cancellation_details",
    "wait_for_cancelled",
    "wait_for_cancelled_sync",
    "is_worker_shutdown",
    "wait_for_worker_shutdown",
    "wait_for_worker_shutdown_sync",
    "shield_thread_cancel_exception",
    "raise_complete_async",
    "payload_converter",
]

CallableType = TypeVar("CallableType", bound=Callable[..., Any])

_DEFN_ATTR = "__temporal_activity_definition"


# ---------------------------------------------------------------------------
# Definitions
# ---------------------------------------------------------------------------


@overload
def defn(fn: CallableType) -> CallableType: ...


@overload
def defn(
    *, name: Optional[str] = None, no_thread_cancel_exception: bool = False
) -> Callable[[CallableType], CallableType]: ...


@overload
def defn(
    *, no_thread_cancel_exception: bool = False, dynamic: bool = False
) -> Callable[[CallableType], CallableType]: ...


def defn(
    fn: Optional[CallableType] = None,
    *,
    name: Optional[str] = None,
    no_thread_cancel_exception: bool = False,
    dynamic: bool = False,
) -> Union[CallableType, Callable[[CallableType], CallableType]]:
    """Marks a function (sync or ``async``) as an activity.

    Args:
        fn: The function (when used without parentheses).
        name: Activity type name; defaults to the function's ``__name__``.
            Not allowed with ``dynamic``.
        no_thread_cancel_exception: For sync activities run in a thread: do
            not raise :py:class:`temporalio.exceptions.CancelledError` inside
            the thread on cancellation (the activity polls
            :py:func:`is_cancelled` instead).
        dynamic: Serve every activity type no other activity of the worker
            serves. The function takes one parameter, a
            ``Sequence[temporalio.common.RawValue]`` of the arguments;
            :py:func:`info` tells the activity type.
    """

    def decorator(fn: CallableType) -> CallableType:
        _Definition._apply(fn, name=name, dynamic=dynamic, no_thread_cancel_exception=no_thread_cancel_exception)
        return fn

    if fn is not None:
        return decorator(fn)
    return decorator


def _qualname(fn: Any) -> str:
    return str(getattr(fn, "__qualname__", None) or getattr(type(fn), "__qualname__", repr(fn)))


def _is_async_callable(fn: Any) -> bool:
    if inspect.iscoroutinefunction(fn):
        return True
    call = getattr(fn, "__call__", None)
    return not inspect.isfunction(fn) and not inspect.ismethod(fn) and inspect.iscoroutinefunction(call)


@dataclass(frozen=True)
class _Definition:
    """What ``@activity.defn`` records on a function."""

    name: Optional[str]
    """Activity type name; ``None`` for the dynamic activity."""
    fn: Callable[..., Any]
    is_async: bool
    no_thread_cancel_exception: bool = False
    arg_types: Optional[list[type]] = None
    ret_type: Optional[type] = None

    @property
    def dynamic(self) -> bool:
        return self.name is None

    @staticmethod
    def from_callable(fn: Any) -> Optional["_Definition"]:
        defn = getattr(fn, _DEFN_ATTR, None)
        if not isinstance(defn, _Definition):
            return None
        if defn.fn is not fn:
            # A bound method of a decorated method, or a callable instance: call what was given.
            defn = _Definition(
                name=defn.name,
                fn=fn,
                is_async=defn.is_async,
                no_thread_cancel_exception=defn.no_thread_cancel_exception,
                arg_types=temporalio.common._type_hints_from_func(fn)[0] if not defn.dynamic else None,
                ret_type=defn.ret_type,
            )
        return defn

    @staticmethod
    def must_from_callable(fn: Any) -> "_Definition":
        defn = _Definition.from_callable(fn)
        if defn is None:
            if not callable(fn):
                raise TypeError(f"activities must be functions decorated with @activity.defn, got {fn!r}")
            raise TypeError(
                f"activity {_qualname(fn)} is not decorated with @activity.defn (it has no activity definition)"
            )
        return defn

    @staticmethod
    def _apply(fn: Any, *, name: Optional[str], dynamic: bool, no_thread_cancel_exception: bool) -> None:
        if not callable(fn):
            raise TypeError(f"@activity.defn applies to functions, got {fn!r}")
        if dynamic and name is not None:
            raise ValueError(f"@activity.defn on {_qualname(fn)}: name and dynamic=True cannot be used together")
        if name is not None and not name:
            raise ValueError(f"@activity.defn on {_qualname(fn)}: name must not be empty")
        activity_name: Optional[str] = None
        if not dynamic:
            activity_name = name or getattr(fn, "__name__", None)
            if not activity_name or activity_name == "<lambda>":
                raise ValueError(f"@activity.defn on {_qualname(fn)}: give the activity a name (name=...)")
        arg_types, ret_type = temporalio.common._type_hints_from_func(fn)
        if dynamic:
            params = [
                p
                for i, p in enumerate(inspect.signature(fn).parameters.values())
                if not (i == 0 and p.name == "self")
            ]
            if len(params) != 1:
                raise TypeError(
                    f"dynamic activity {_qualname(fn)} must take exactly one parameter, "
                    "a Sequence[temporalio.common.RawValue]"
                )
            arg_types = None
        defn = _Definition(
            name=activity_name,
            fn=fn,
            is_async=_is_async_callable(fn),
            no_thread_cancel_exception=no_thread_cancel_exception,
            arg_types=arg_types,
            ret_type=ret_type,
        )
        setattr(fn, _DEFN_ATTR, defn)


# ---------------------------------------------------------------------------
# Info and context
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Info:
    """What the running activity knows about itself (see :py:func:`info`)."""

    activity_id: str
    activity_type: str
    attempt: int
    current_attempt_scheduled_time: datetime
    heartbeat_details: Sequence[Any]
    """Details of the last heartbeat of an earlier attempt, decoded without type hints."""
    heartbeat_timeout: Optional[timedelta]
    is_local: bool
    namespace: str
    schedule_to_close_timeout: Optional[timedelta]
    scheduled_time: datetime
    start_to_close_timeout: Optional[timedelta]
    started_time: datetime
    task_queue: str
    task_token: bytes
    workflow_id: Optional[str]
    workflow_namespace: Optional[str]
    workflow_run_id: Optional[str]
    workflow_type: Optional[str]
    retry_policy: Optional[temporalio.common.RetryPolicy] = None
    """The retry policy the server applies; ``None`` when the server sent none."""
    priority: temporalio.common.Priority = temporalio.common.Priority.default
    """The priority the server sent with the task (what the workflow scheduled the activity with);
    every field None for local activities."""

    @property
    def in_workflow(self) -> bool:
        """Whether a workflow started this activity."""
        return self.workflow_id is not None

    def _logger_details(self) -> Mapping[str, Any]:
        return {
            "activity_id": self.activity_id,
            "activity_type": self.activity_type,
            "attempt": self.attempt,
            "namespace": self.namespace,
            "task_queue": self.task_queue,
            "workflow_id": self.workflow_id,
            "workflow_run_id": self.workflow_run_id,
            "workflow_type": self.workflow_type,
        }


@dataclass(frozen=True)
class ActivityCancellationDetails:
    """Why the activity was cancelled (see :py:func:`cancellation_details`). Set once."""

    not_found: bool = False
    cancel_requested: bool = False
    paused: bool = False
    reset: bool = False
    timed_out: bool = False
    worker_shutdown: bool = False


class _CompositeEvent:
    """An event that threads can wait on (blocking) and the loop can await."""

    def __init__(self) -> None:
        self._thread_event = threading.Event()
        self._async_event = asyncio.Event()

    def set(self) -> None:
        """Sets the event; call on the worker's event loop."""
        self._thread_event.set()
        self._async_event.set()

    def is_set(self) -> bool:
        return self._thread_event.is_set()

    async def wait(self) -> None:
        await self._async_event.wait()

    def wait_sync(self, timeout: Optional[float] = None) -> None:
        self._thread_event.wait(timeout)


@dataclass
class _CancellationDetailsHolder:
    details: Optional[ActivityCancellationDetails] = None


@dataclass
class _Context:
    """The running activity, as the module functions see it."""

    info: Callable[[], Info]
    heartbeat: Optional[Callable[..., None]]
    cancelled_event: _CompositeEvent
    worker_shutdown_event: _CompositeEvent
    shield_thread_cancel_exception: Optional[Callable[[], AbstractContextManager[None]]]
    payload_converter: temporalio.converter.PayloadConverter
    client: Optional["Client"]
    cancellation_details: _CancellationDetailsHolder = field(default_factory=_CancellationDetailsHolder)
    is_async: bool = True
    _logger_details: Optional[Mapping[str, Any]] = None

    @staticmethod
    def current() -> "_Context":
        context = _current_context.get(None)
        if context is None:
            raise RuntimeError("Not in activity context")
        return context

    @staticmethod
    def set(context: "_Context") -> "contextvars.Token[_Context]":
        return _current_context.set(context)

    @staticmethod
    def reset(token: "contextvars.Token[_Context]") -> None:
        _current_context.reset(token)

    @property
    def logger_details(self) -> Mapping[str, Any]:
        if self._logger_details is None:
            self._logger_details = self.info()._logger_details()
        return self._logger_details


_current_context: contextvars.ContextVar[_Context] = contextvars.ContextVar("temporal_activity")


class _CompleteAsyncError(BaseException):
    """Raised by :py:func:`raise_complete_async`; the worker catches it."""


# ---------------------------------------------------------------------------
# Functions for activities
# ---------------------------------------------------------------------------


def in_activity() -> bool:
    """Whether the calling code runs inside an activity."""
    return _current_context.get(None) is not None


def info() -> Info:
    """The running activity's :py:class:`Info`.

    Raises:
        RuntimeError: Not in an activity.
    """
    return _Context.current().info()


def client() -> "Client":
    """The client of the worker running this activity (``async def`` activities only).

    Raises:
        RuntimeError: Not in an activity, or in a sync activity.
    """
    context = _Context.current()
    if context.client is None or not context.is_async:
        raise RuntimeError(
            "No client available: the client is only available in `async def` activities, not in `def` activities"
        )
    return context.client


def heartbeat(*details: Any) -> None:
    """Records a heartbeat with ``details`` (converted with the worker's data converter).

    Heartbeats are throttled (the first is sent at once, later ones at most
    every 0.8 x heartbeat timeout, the latest details winning); the server's
    answer is how a cancellation requested by the workflow reaches the activity.
    Callable from the activity's thread too.

    Raises:
        RuntimeError: Not in an activity.
    """
    heartbeat_fn = _Context.current().heartbeat
    if heartbeat_fn is None:
        raise RuntimeError("heartbeat is only available once the activity runs (not during interceptor init)")
    heartbeat_fn(*details)


def is_cancelled() -> bool:
    """Whether cancellation of this activity was requested (by the server, a timeout or worker shutdown)."""
    return _Context.current().cancelled_event.is_set()


def cancellation_details() -> Optional[ActivityCancellationDetails]:
    """Why the activity was cancelled, or ``None`` when it was not."""
    return _Context.current().cancellation_details.details


async def wait_for_cancelled() -> None:
    """Waits until cancellation of this activity is requested."""
    await _Context.current().cancelled_event.wait()


def wait_for_cancelled_sync(timeout: Optional[Union[timedelta, float]] = None) -> None:
    """Blocks (in a sync activity) until cancellation is requested or ``timeout`` passes."""
    _Context.current().cancelled_event.wait_sync(
        timeout.total_seconds() if isinstance(timeout, timedelta) else timeout
    )


def is_worker_shutdown() -> bool:
    """Whether the worker running this activity began shutting down."""
    return _Context.current().worker_shutdown_event.is_set()


async def wait_for_worker_shutdown() -> None:
    """Waits until the worker begins shutting down."""
    await _Context.current().worker_shutdown_event.wait()


def wait_for_worker_shutdown_sync(timeout: Optional[Union[timedelta, float]] = None) -> None:
    """Blocks until the worker begins shutting down or ``timeout`` passes."""
    _Context.current().worker_shutdown_event.wait_sync(
        timeout.total_seconds() if isinstance(timeout, timedelta) else timeout
    )


@contextmanager
def shield_thread_cancel_exception() -> Iterator[None]:
    """Delays the cancellation exception of a threaded sync activity until the block ends.

    Inside the block, a cancellation does not interrupt the code; at its end
    (of the outermost block) :py:class:`temporalio.exceptions.CancelledError`
    is raised if one arrived. Does nothing for async activities.
    """
    shield = _Context.current().shield_thread_cancel_exception
    if shield is None:
        yield None
        return
    with shield():
        yield None


def raise_complete_async() -> NoReturn:
    """Ends the activity function without completing the activity.

    The activity is completed later through
    :py:meth:`temporalio.client.Client.get_async_activity_handle` (using
    ``info().task_token``, or the workflow and activity ids).
    """
    raise _CompleteAsyncError()


def payload_converter() -> temporalio.converter.PayloadConverter:
    """The payload converter of the worker's data converter (for dynamic activities)."""
    return _Context.current().payload_converter


if TYPE_CHECKING:
    _LoggerAdapterBase = logging.LoggerAdapter[logging.Logger]
else:
    _LoggerAdapterBase = logging.LoggerAdapter


class LoggerAdapter(_LoggerAdapterBase):
    """A logger adapter adding the running activity's details to each record.

    With ``activity_info_on_message`` the details are appended to the message;
    with ``activity_info_on_extra`` they are set as ``temporal_activity`` in
    the record's ``extra``. Outside an activity records pass unchanged.
    """

    def __init__(self, logger: logging.Logger, extra: Optional[Mapping[str, Any]]) -> None:
        super().__init__(logger, extra or {})
        self.activity_info_on_message = True
        self.activity_info_on_extra = True

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        context = _current_context.get(None)
        if context is not None:
            details = context.logger_details
            if self.activity_info_on_message:
                msg = f"{msg} ({details})"
            if self.activity_info_on_extra:
                extra = dict(kwargs.get("extra") or {})
                extra["temporal_activity"] = details
                kwargs["extra"] = extra
        return msg, kwargs

    @property
    def base_logger(self) -> logging.Logger:
        """The underlying logger."""
        return self.logger


logger = LoggerAdapter(logging.getLogger(__name__), None)
"""Logger for activity code: adds the activity's details (see :py:class:`LoggerAdapter`)."""
