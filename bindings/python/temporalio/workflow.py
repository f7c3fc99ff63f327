"""Workflows: the definition decorators and the API workflow code calls.

Definitions: ``@workflow.defn`` on a class, ``@workflow.run`` on its one
async entry method, ``@workflow.signal`` and ``@workflow.query`` on
handlers, ``@workflow.init`` on an ``__init__`` that takes the workflow's
arguments. The client names workflows, signals and queries from these
decorated methods; a worker runs the classes.

Inside a workflow (these functions raise
:py:class:`_NotInWorkflowEventLoopError` anywhere else): activities
(:py:func:`start_activity`, :py:func:`execute_activity`), timers
(:py:func:`sleep` and ``asyncio.sleep``, both durable), conditions
(:py:func:`wait_condition`), deterministic time, randomness and UUIDs
(:py:func:`now`, :py:func:`time`, :py:func:`random`, :py:func:`uuid4`),
:py:func:`info`, :py:func:`memo`, :py:data:`logger`, cancellation scopes
(:py:class:`CancellationScope`) and :py:func:`continue_as_new`.

Workflow code runs on a deterministic event loop, one per run: asyncio
primitives (``Event``, ``Lock``, ``Queue``, ``wait``, ``gather``,
``shield``, ``wait_for``, ``create_task``) work, I/O and threads do not.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import random as _random_module
import sys
import uuid as _uuid_module
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Generator, Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import IntEnum
from typing import (
    TYPE_CHECKING,
    Any,
    Concatenate,
    Generic,
    NoReturn,
    Optional,
    ParamSpec,
    TypedDict,
    TypeVar,
    Union,
    overload,
)

if sys.version_info >= (3, 11):
    from typing import TypeVarTuple, Unpack
else:  # pragma: no cover
    from typing_extensions import TypeVarTuple, Unpack

import temporalio.common
import temporalio.exceptions
from temporalio.api.common.v1 import Payload

if TYPE_CHECKING:
    import temporalio.converter

__all__ = [
    # definitions
    "defn",
    "run",
    "init",
    "signal",
    "query",
    "WorkflowDefinition",
    "SignalDefinition",
    "QueryDefinition",
    # information
    "Info",
    "ParentInfo",
    "info",
    "instance",
    "in_workflow",
    "is_replaying",
    "now",
    "time",
    "time_ns",
    "random",
    "uuid4",
    "memo",
    "memo_value",
    "payload_converter",
    "logger",
    "LoggerAdapter",
    "unsafe",
    # waiting
    "sleep",
    "wait_condition",
    # activities
    "ActivityCancellationType",
    "ActivityConfig",
    "LocalActivityConfig",
    "ActivityHandle",
    "start_activity",
    "execute_activity",
    "start_local_activity",
    "execute_local_activity",
    "upsert_search_attributes",
    "upsert_memo",
    # child workflows, other workflows, patches
    "ChildWorkflowCancellationType",
    "ChildWorkflowConfig",
    "ParentClosePolicy",
    "ChildWorkflowHandle",
    "ExternalWorkflowHandle",
    "start_child_workflow",
    "execute_child_workflow",
    "get_external_workflow_handle",
    "get_external_workflow_handle_for",
    "patched",
    "deprecate_patch",
    # handlers added at run time
    "set_signal_handler",
    "get_signal_handler",
    "set_dynamic_signal_handler",
    "get_dynamic_signal_handler",
    "set_query_handler",
    "get_query_handler",
    "set_dynamic_query_handler",
    "get_dynamic_query_handler",
    # ending the run
    "continue_as_new",
    "ContinueAsNewError",
    "ContinueAsNewConfig",
    # scopes
    "CancellationScope",
    # errors
    "NondeterminismError",
    "ReadOnlyContextError",
    "NotSupportedError",
]

ClassType = TypeVar("ClassType", bound=type)
CallableType = TypeVar("CallableType", bound=Callable[..., Any])
CallableAsyncType = TypeVar("CallableAsyncType", bound=Callable[..., Awaitable[Any]])
CallableSyncOrAsyncType = TypeVar("CallableSyncOrAsyncType", bound=Callable[..., Any])
ReturnType = TypeVar("ReturnType")
ParamType = TypeVar("ParamType")
SelfType = TypeVar("SelfType")
MultiParamType = TypeVarTuple("MultiParamType")
MultiParamSpec = ParamSpec("MultiParamSpec")
_T = TypeVar("_T")

_DEFN_ATTR = "__temporal_workflow_definition"
_RUN_ATTR = "__temporal_workflow_run"
_INIT_ATTR = "__temporal_workflow_init"
_SIGNAL_ATTR = "__temporal_signal_definition"
_QUERY_ATTR = "__temporal_query_definition"


@dataclass(frozen=True)
class SignalDefinition:
    """A signal handler: its name (None when dynamic) and function."""

    name: Optional[str]
    fn: Callable[..., Any]
    dynamic: bool = False

    @staticmethod
    def from_fn(fn: Callable[..., Any]) -> Optional["SignalDefinition"]:
        return getattr(fn, _SIGNAL_ATTR, None)

    @staticmethod
    def must_name_from_fn_or_str(signal: Union[str, Callable[..., Any]]) -> str:
        if isinstance(signal, str):
            return signal
        defn = SignalDefinition.from_fn(signal)
        if defn is None:
            raise TypeError(f"{_qualname(signal)} is not decorated with @workflow.signal")
        if defn.name is None:
            raise TypeError(f"{_qualname(signal)} is a dynamic signal handler and has no name to send")
        return defn.name


@dataclass(frozen=True)
class QueryDefinition:
    """A query handler: its name (None when dynamic) and function."""

    name: Optional[str]
    fn: Callable[..., Any]
    dynamic: bool = False

    @staticmethod
    def from_fn(fn: Callable[..., Any]) -> Optional["QueryDefinition"]:
        return getattr(fn, _QUERY_ATTR, None)

    @staticmethod
    def must_name_from_fn_or_str(query: Union[str, Callable[..., Any]]) -> str:
        if isinstance(query, str):
            return query
        defn = QueryDefinition.from_fn(query)
        if defn is None:
            raise TypeError(f"{_qualname(query)} is not decorated with @workflow.query")
        if defn.name is None:
            raise TypeError(f"{_qualname(query)} is a dynamic query handler and has no name to send")
        return defn.name


@dataclass(frozen=True)
class WorkflowDefinition:
    """What ``@workflow.defn`` records on a class."""

    name: Optional[str]
    cls: type
    run_fn: Callable[..., Awaitable[Any]]
    signals: Mapping[Optional[str], SignalDefinition] = field(default_factory=dict)
    queries: Mapping[Optional[str], QueryDefinition] = field(default_factory=dict)
    dynamic: bool = False
    failure_exception_types: Sequence[type[BaseException]] = ()
    """Exception types that fail the workflow (not just the task) when raised."""
    init_takes_args: bool = False
    """Whether ``__init__`` is a ``@workflow.init`` taking the workflow's arguments."""

    @staticmethod
    def from_class(cls: type) -> Optional["WorkflowDefinition"]:
        # Only the class's own definition counts: @workflow.defn is not inherited.
        defn = cls.__dict__.get(_DEFN_ATTR)
        return defn if isinstance(defn, WorkflowDefinition) else None

    @staticmethod
    def must_from_class(cls: type) -> "WorkflowDefinition":
        defn = WorkflowDefinition.from_class(cls)
        if defn is None:
            raise TypeError(f"class {cls.__qualname__} is not decorated with @workflow.defn")
        return defn

    @staticmethod
    def from_run_fn(fn: Callable[..., Any]) -> Optional["WorkflowDefinition"]:
        return getattr(fn, _DEFN_ATTR, None)

    @staticmethod
    def must_name_from_fn_or_str(workflow: Union[str, Callable[..., Any]]) -> str:
        if isinstance(workflow, str):
            if not workflow:
                raise ValueError("workflow name must not be empty")
            return workflow
        defn = WorkflowDefinition.from_run_fn(workflow)
        if defn is None:
            raise TypeError(
                f"{_qualname(workflow)} is not the @workflow.run method of a @workflow.defn class"
            )
        if defn.name is None:
            raise TypeError(f"{defn.cls.__qualname__} is a dynamic workflow and has no name to start")
        return defn.name


def _qualname(fn: Any) -> str:
    return str(getattr(fn, "__qualname__", repr(fn)))


def _positional_param_count(fn: Callable[..., Any]) -> tuple[int, bool]:
    params = list(inspect.signature(fn).parameters.values())
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    has_varargs = any(p.kind == p.VAR_POSITIONAL for p in params)
    return len(positional), has_varargs


@overload
def defn(cls: ClassType) -> ClassType: ...


@overload
def defn(
    *,
    name: Optional[str] = None,
    sandboxed: bool = True,
    failure_exception_types: Sequence[type[BaseException]] = (),
) -> Callable[[ClassType], ClassType]: ...


@overload
def defn(
    *,
    dynamic: bool = False,
    sandboxed: bool = True,
    failure_exception_types: Sequence[type[BaseException]] = (),
) -> Callable[[ClassType], ClassType]: ...


def defn(
    cls: Optional[ClassType] = None,
    *,
    name: Optional[str] = None,
    dynamic: bool = False,
    sandboxed: bool = True,
    failure_exception_types: Sequence[type[BaseException]] = (),
) -> Any:
    """Marks a class as a workflow. ``name`` defaults to the class name; ``dynamic`` makes it the catch-all.

    ``failure_exception_types``: exceptions of these types (besides
    :py:class:`temporalio.exceptions.FailureError`) raised by the workflow
    fail the workflow instead of its task. ``sandboxed`` is accepted for
    compatibility; the worker's ``workflow_runner`` decides isolation.
    """
    del sandboxed
    for t in failure_exception_types:
        if not (isinstance(t, type) and issubclass(t, BaseException)):
            raise TypeError(f"failure_exception_types must hold exception classes, got {t!r}")

    def decorate(c: ClassType) -> ClassType:
        if not isinstance(c, type):
            raise TypeError(f"@workflow.defn must decorate a class, not {c!r}")
        if name is not None and dynamic:
            raise ValueError(f"{c.__qualname__}: @workflow.defn cannot have both name and dynamic")
        if name is not None and not name:
            raise ValueError(f"{c.__qualname__}: @workflow.defn name must not be empty")
        signals: dict[Optional[str], SignalDefinition] = {}
        queries: dict[Optional[str], QueryDefinition] = {}
        run_attrs: set[str] = set()
        # Base classes first, so a subclass's handler replaces its parent's.
        for klass in reversed(c.__mro__):
            for attr, member in klass.__dict__.items():
                fn = member.fget if isinstance(member, property) else member
                if getattr(fn, _RUN_ATTR, False):
                    run_attrs.add(attr)
                setter = member.fset if isinstance(member, property) else None
                sig = getattr(setter or fn, _SIGNAL_ATTR, None)
                if sig is not None:
                    signals[sig.name] = sig
                qry = getattr(fn, _QUERY_ATTR, None)
                if qry is not None:
                    queries[qry.name] = qry
        if not run_attrs:
            raise TypeError(f"{c.__qualname__}: a @workflow.defn class needs one @workflow.run method")
        if len(run_attrs) > 1:
            raise TypeError(
                f"{c.__qualname__}: only one @workflow.run method is allowed, found {sorted(run_attrs)}"
            )
        (run_attr,) = run_attrs
        run_fn = inspect.getattr_static(c, run_attr)
        if not getattr(run_fn, _RUN_ATTR, False):
            raise TypeError(
                f"{c.__qualname__}.{run_attr} overrides a @workflow.run method and must be decorated too"
            )
        init_takes_args = _check_init(c, run_fn)
        if dynamic:
            count, varargs = _positional_param_count(run_fn)
            if count != 2 or varargs:
                raise TypeError(
                    f"{c.__qualname__}.{run_attr}: the run method of a dynamic workflow takes (self, args), "
                    "args being a Sequence[RawValue]"
                )
        definition = WorkflowDefinition(
            name=None if dynamic else (name or c.__name__),
            cls=c,
            run_fn=run_fn,
            signals=signals,
            queries=queries,
            dynamic=dynamic,
            failure_exception_types=tuple(failure_exception_types),
            init_takes_args=init_takes_args,
        )
        setattr(c, _DEFN_ATTR, definition)
        setattr(run_fn, _DEFN_ATTR, definition)
        return c

    return decorate(cls) if cls is not None else decorate


def _check_init(cls: type, run_fn: Callable[..., Any]) -> bool:
    """Whether ``cls.__init__`` is a ``@workflow.init`` (then its parameters must be the run method's)."""
    init_fn = getattr(cls, "__init__", None)
    if not getattr(init_fn, _INIT_ATTR, False):
        return False
    assert init_fn is not None
    init_params = [p.name for p in inspect.signature(init_fn).parameters.values()][1:]
    run_params = [p.name for p in inspect.signature(run_fn).parameters.values()][1:]
    if init_params != run_params:
        raise TypeError(
            f"{cls.__qualname__}.__init__ is a @workflow.init and must take the same parameters as "
            f"{_qualname(run_fn)}: {init_params} != {run_params}"
        )
    return True


def init(init_fn: CallableType) -> CallableType:
    """Marks ``__init__`` as receiving the workflow's arguments (the same parameters as the run method).

    Without it, ``__init__`` is called with no arguments.
    """
    if getattr(init_fn, "__name__", None) != "__init__":
        raise TypeError(f"@workflow.init must decorate __init__, not {_qualname(init_fn)}")
    setattr(init_fn, _INIT_ATTR, True)
    return init_fn


def run(fn: CallableAsyncType) -> CallableAsyncType:
    """Marks the async method that runs the workflow; its parameters are the workflow's arguments."""
    # A plain bool, not the TypeGuard: narrowing would lose the decorated type.
    is_async = bool(inspect.iscoroutinefunction(fn))
    if not is_async:
        raise TypeError(f"@workflow.run must decorate an async method, {_qualname(fn)} is not one")
    setattr(fn, _RUN_ATTR, True)
    return fn


@overload
def signal(fn: CallableSyncOrAsyncType) -> CallableSyncOrAsyncType: ...


@overload
def signal(*, name: str) -> Callable[[CallableSyncOrAsyncType], CallableSyncOrAsyncType]: ...


@overload
def signal(*, dynamic: bool) -> Callable[[CallableSyncOrAsyncType], CallableSyncOrAsyncType]: ...


def signal(fn: Optional[Any] = None, *, name: Optional[str] = None, dynamic: bool = False) -> Any:
    """Marks a method as a signal handler (sync or async; its return value is ignored)."""

    def decorate(f: Any) -> Any:
        if name is not None and dynamic:
            raise ValueError(f"{_qualname(f)}: @workflow.signal cannot have both name and dynamic")
        if dynamic:
            count, varargs = _positional_param_count(f)
            if not (count == 3 or (count == 2 and varargs)):
                raise TypeError(
                    f"{_qualname(f)}: a dynamic signal handler takes (self, name, *args) or (self, name, args)"
                )
        setattr(f, _SIGNAL_ATTR, SignalDefinition(None if dynamic else (name or f.__name__), f, dynamic))
        return f

    return decorate(fn) if fn is not None else decorate


@overload
def query(fn: CallableType) -> CallableType: ...


@overload
def query(*, name: str) -> Callable[[CallableType], CallableType]: ...


@overload
def query(*, dynamic: bool) -> Callable[[CallableType], CallableType]: ...


def query(fn: Optional[Any] = None, *, name: Optional[str] = None, dynamic: bool = False) -> Any:
    """Marks a method as a query handler. Handlers must not change workflow state."""

    def decorate(f: Any) -> Any:
        target = f.fget if isinstance(f, property) else f
        if target is None:
            raise TypeError("@workflow.query cannot decorate a property without a getter")
        if name is not None and dynamic:
            raise ValueError(f"{_qualname(target)}: @workflow.query cannot have both name and dynamic")
        if dynamic:
            count, varargs = _positional_param_count(target)
            if not (count == 3 or (count == 2 and varargs)):
                raise TypeError(
                    f"{_qualname(target)}: a dynamic query handler takes (self, name, *args) or (self, name, args)"
                )
        setattr(target, _QUERY_ATTR, QueryDefinition(None if dynamic else (name or target.__name__), target, dynamic))
        return f

    return decorate(fn) if fn is not None else decorate


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


class _NotInWorkflowEventLoopError(RuntimeError):
    """A workflow-only function was called outside workflow code."""


class NondeterminismError(temporalio.exceptions.TemporalError):
    """Workflow code did something its history does not allow."""


class ReadOnlyContextError(temporalio.exceptions.TemporalError):
    """Workflow code tried to change the workflow where that is not allowed (in a query handler)."""


class NotSupportedError(NotImplementedError):
    """A workflow feature the engine does not support yet.

    Raised where the workflow calls it; it fails the workflow task (not the
    workflow), so the run can go on once a worker with a newer engine picks
    it up.
    """


class ContinueAsNewError(BaseException):
    """Raised by :py:func:`continue_as_new` to end the run; do not catch it."""

    def __init__(self, input: Any) -> None:
        super().__init__("Continue as new")
        self.input = input


def _not_supported(what: str) -> NoReturn:
    raise NotSupportedError(f"{what} is not supported by this engine yet")


# ---------------------------------------------------------------------------
# Information
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ParentInfo:
    """The parent of a child workflow."""

    namespace: str
    run_id: str
    workflow_id: str


@dataclass(frozen=True)
class Info:
    """Information about the running workflow (:py:func:`info`). Immutable for the run."""

    attempt: int
    continued_run_id: Optional[str]
    cron_schedule: Optional[str]
    execution_timeout: Optional[timedelta]
    first_execution_run_id: str
    headers: Mapping[str, Payload]
    namespace: str
    parent: Optional[ParentInfo]
    raw_memo: Mapping[str, Payload]
    retry_policy: Optional[temporalio.common.RetryPolicy]
    run_id: str
    run_timeout: Optional[timedelta]
    search_attributes: temporalio.common.SearchAttributes
    start_time: datetime
    """When the first workflow task of this run started (workflow time)."""
    task_queue: str
    task_timeout: timedelta
    workflow_id: str
    workflow_start_time: datetime
    """When the workflow execution started (the server's start event)."""
    workflow_type: str
    priority: temporalio.common.Priority = temporalio.common.Priority.default
    """The run's priority as the server recorded it (what the starter set, merged with the parent's for a
    child); fields the server has none for are None."""

    def get_current_history_length(self) -> int:
        """Number of events in the history so far (as of the current activation)."""
        return _Runtime.current("workflow.info().get_current_history_length()").workflow_history_length()

    def is_continue_as_new_suggested(self) -> bool:
        """Whether the server suggests continuing as new (this engine does not report it yet: False)."""
        return False

    def _logger_details(self) -> dict[str, Any]:
        return {
            "attempt": self.attempt,
            "namespace": self.namespace,
            "run_id": self.run_id,
            "task_queue": self.task_queue,
            "workflow_id": self.workflow_id,
            "workflow_type": self.workflow_type,
        }


# ---------------------------------------------------------------------------
# The runtime seam: what a running workflow provides (internal)
# ---------------------------------------------------------------------------


class _Runtime(ABC):
    """Implemented by a workflow run; found through the running event loop."""

    @staticmethod
    def current(what: str = "this function") -> "_Runtime":
        loop = asyncio._get_running_loop()
        runtime = getattr(loop, "_temporal_runtime", None) if loop is not None else None
        if runtime is None:
            raise _NotInWorkflowEventLoopError(
                f"Not in workflow event loop: {what} can only be called from workflow code "
                "(a @workflow.defn class run by a worker)"
            )
        assert isinstance(runtime, _Runtime)
        return runtime

    @staticmethod
    def maybe_current() -> Optional["_Runtime"]:
        loop = asyncio._get_running_loop()
        runtime = getattr(loop, "_temporal_runtime", None) if loop is not None else None
        return runtime if isinstance(runtime, _Runtime) else None

    @abstractmethod
    def workflow_info(self) -> Info: ...

    @abstractmethod
    def workflow_instance(self) -> Any: ...

    @abstractmethod
    def workflow_is_replaying(self) -> bool: ...

    @abstractmethod
    def workflow_time_ns(self) -> int: ...

    @abstractmethod
    def workflow_random(self) -> _random_module.Random: ...

    @abstractmethod
    def workflow_memo(self) -> Mapping[str, Any]: ...

    @abstractmethod
    def workflow_memo_value(self, key: str, default: Any, type_hint: Optional[type]) -> Any: ...

    @abstractmethod
    def workflow_payload_converter(self) -> "temporalio.converter.PayloadConverter": ...

    @abstractmethod
    def workflow_history_length(self) -> int: ...

    @abstractmethod
    def workflow_start_activity(
        self,
        activity: Any,
        args: Sequence[Any],
        *,
        result_type: Optional[type],
        activity_id: Optional[str],
        task_queue: Optional[str],
        schedule_to_close_timeout: Optional[timedelta],
        schedule_to_start_timeout: Optional[timedelta],
        start_to_close_timeout: Optional[timedelta],
        heartbeat_timeout: Optional[timedelta],
        retry_policy: Optional[temporalio.common.RetryPolicy],
        cancellation_type: "ActivityCancellationType",
        summary: Optional[str],
        priority: temporalio.common.Priority,
    ) -> "ActivityHandle[Any]": ...

    @abstractmethod
    def workflow_start_local_activity(
        self,
        activity: Any,
        args: Sequence[Any],
        *,
        result_type: Optional[type],
        activity_id: Optional[str],
        schedule_to_close_timeout: Optional[timedelta],
        schedule_to_start_timeout: Optional[timedelta],
        start_to_close_timeout: Optional[timedelta],
        retry_policy: Optional[temporalio.common.RetryPolicy],
        local_retry_threshold: Optional[timedelta],
        cancellation_type: "ActivityCancellationType",
        summary: Optional[str],
    ) -> "ActivityHandle[Any]": ...

    @abstractmethod
    def workflow_continue_as_new(
        self,
        args: Sequence[Any],
        *,
        workflow: Union[None, Callable[..., Any], str],
        task_queue: Optional[str],
        run_timeout: Optional[timedelta],
        task_timeout: Optional[timedelta],
        backoff_start_interval: Optional[timedelta],
        retry_policy: Optional[temporalio.common.RetryPolicy],
        memo: Optional[Mapping[str, Any]],
        search_attributes: Optional[Mapping[str, Any]],
    ) -> NoReturn: ...

    @abstractmethod
    async def workflow_start_child_workflow(
        self,
        workflow: Any,
        args: Sequence[Any],
        *,
        result_type: Optional[type],
        id: str,
        task_queue: Optional[str],
        cancellation_type: "ChildWorkflowCancellationType",
        parent_close_policy: "ParentClosePolicy",
        execution_timeout: Optional[timedelta],
        run_timeout: Optional[timedelta],
        task_timeout: Optional[timedelta],
        id_reuse_policy: temporalio.common.WorkflowIDReusePolicy,
        retry_policy: Optional[temporalio.common.RetryPolicy],
        cron_schedule: str,
        memo: Optional[Mapping[str, Any]],
        search_attributes: Optional[Mapping[str, Any]],
        header: Optional[Mapping[str, Any]],
        static_summary: Optional[str],
        static_details: Optional[str],
        priority: temporalio.common.Priority,
    ) -> "ChildWorkflowHandle[Any, Any]": ...

    @abstractmethod
    async def workflow_signal_external(
        self, workflow_id: str, run_id: Optional[str], signal: str, args: Sequence[Any]
    ) -> None: ...

    @abstractmethod
    async def workflow_cancel_external(self, workflow_id: str, run_id: Optional[str]) -> None: ...

    @abstractmethod
    def workflow_patch(self, id: str, *, deprecated: bool) -> bool: ...

    @abstractmethod
    def workflow_upsert_search_attributes(self, attributes: Mapping[str, Any]) -> None: ...

    @abstractmethod
    def workflow_upsert_memo(self, updates: Mapping[str, Any]) -> None: ...

    @abstractmethod
    async def workflow_wait_condition(
        self, fn: Callable[[], bool], timeout: Optional[float], timeout_summary: Optional[str]
    ) -> None: ...

    @abstractmethod
    async def workflow_sleep(self, seconds: float, summary: Optional[str]) -> None: ...

    @abstractmethod
    def workflow_set_handler(self, kind: str, name: Optional[str], handler: Optional[Callable[..., Any]]) -> None: ...

    @abstractmethod
    def workflow_get_handler(self, kind: str, name: Optional[str]) -> Optional[Callable[..., Any]]: ...

    @abstractmethod
    def workflow_assert_not_read_only(self, what: str) -> None: ...

    # cancellation scopes
    @abstractmethod
    def workflow_root_scope(self) -> "CancellationScope": ...

    @abstractmethod
    def workflow_scope_cancel(self, scope: "CancellationScope") -> None: ...

    @abstractmethod
    def workflow_scope_is_cancelled(self, scope: "CancellationScope") -> bool: ...

    @abstractmethod
    def workflow_scope_enter(self, scope: "CancellationScope") -> None: ...

    @abstractmethod
    def workflow_scope_exit(self, scope: "CancellationScope") -> None: ...


def in_workflow() -> bool:
    """Whether the caller runs inside workflow code."""
    return _Runtime.maybe_current() is not None


def info() -> Info:
    """Information about the running workflow."""
    return _Runtime.current("workflow.info()").workflow_info()


def instance() -> Any:
    """The running workflow's object (the instance of the ``@workflow.defn`` class)."""
    return _Runtime.current("workflow.instance()").workflow_instance()


def is_replaying() -> bool:
    """Whether the workflow is replaying history (its code already ran these steps once).

    Use only for side effects that must not repeat, such as logging.
    """
    return _Runtime.current("workflow.is_replaying()").workflow_is_replaying()


def time_ns() -> int:
    """Workflow time in nanoseconds since the epoch (deterministic)."""
    return _Runtime.current("workflow.time_ns()").workflow_time_ns()


def time() -> float:
    """Workflow time in seconds since the epoch (deterministic); also the event loop's time()."""
    return _Runtime.current("workflow.time()").workflow_time_ns() / 1e9


def now() -> datetime:
    """Workflow time as an aware UTC datetime (deterministic). Use this, never ``datetime.now()``."""
    ns = _Runtime.current("workflow.now()").workflow_time_ns()
    return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=ns // 1000)


def random() -> _random_module.Random:
    """A deterministic :py:class:`random.Random` for this run (same values on replay)."""
    return _Runtime.current("workflow.random()").workflow_random()


def uuid4() -> _uuid_module.UUID:
    """A deterministic version 4 UUID (from :py:func:`random`)."""
    return _uuid_module.UUID(int=random().getrandbits(128), version=4)


def memo() -> Mapping[str, Any]:
    """The workflow's memo, each value decoded with the payload converter."""
    return _Runtime.current("workflow.memo()").workflow_memo()


def memo_value(key: str, default: Any = temporalio.common._arg_unset, *, type_hint: Optional[type] = None) -> Any:
    """One memo value; KeyError when absent and no default is given."""
    return _Runtime.current("workflow.memo_value()").workflow_memo_value(key, default, type_hint)


def payload_converter() -> "temporalio.converter.PayloadConverter":
    """The payload converter of the worker running this workflow."""
    return _Runtime.current("workflow.payload_converter()").workflow_payload_converter()


class unsafe:
    """Functions that bypass workflow safety; use with care."""

    @staticmethod
    def is_replaying() -> bool:
        """Same as :py:func:`temporalio.workflow.is_replaying`."""
        return is_replaying()

    @staticmethod
    def in_sandbox() -> bool:
        """Whether the workflow runs in a sandbox (never, with the runners of this package)."""
        return False

    @staticmethod
    @contextmanager
    def imports_passed_through() -> Iterator[None]:
        """Accepted for compatibility with sandboxed runners: imports are never re-run here."""
        yield

    @staticmethod
    @contextmanager
    def sandbox_unrestricted() -> Iterator[None]:
        """Accepted for compatibility: no sandbox restricts workflow code here."""
        yield


if TYPE_CHECKING:
    _LoggerAdapterBase = logging.LoggerAdapter[logging.Logger]
else:
    _LoggerAdapterBase = logging.LoggerAdapter


class LoggerAdapter(_LoggerAdapterBase):
    """Logger for workflow code: silent while replaying, adds the workflow's identity.

    ``workflow_info_on_message`` appends the details to the message,
    ``workflow_info_on_extra`` sets ``extra["temporal_workflow"]``;
    ``log_during_replay`` turns on logging during replay.
    """

    def __init__(self, logger: logging.Logger, extra: Optional[Mapping[str, Any]]) -> None:
        super().__init__(logger, extra or {})
        self.workflow_info_on_message = True
        self.workflow_info_on_extra = True
        self.log_during_replay = False

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        runtime = _Runtime.maybe_current()
        if runtime is not None:
            details = runtime.workflow_info()._logger_details()
            if self.workflow_info_on_message:
                msg = f"{msg} ({details})"
            if self.workflow_info_on_extra:
                extra = dict(self.extra or {})
                extra.update(kwargs.get("extra") or {})
                extra["temporal_workflow"] = details
                kwargs["extra"] = extra
        return msg, kwargs

    def isEnabledFor(self, level: int) -> bool:
        runtime = _Runtime.maybe_current()
        if runtime is not None and not self.log_during_replay and runtime.workflow_is_replaying():
            return False
        return self.logger.isEnabledFor(level)

    @property
    def base_logger(self) -> logging.Logger:
        """The underlying logger."""
        return self.logger


logger = LoggerAdapter(logging.getLogger(__name__), None)
"""Logger for workflow code (skips output while replaying)."""


# ---------------------------------------------------------------------------
# Waiting
# ---------------------------------------------------------------------------


async def sleep(duration: Union[float, timedelta], *, summary: Optional[str] = None) -> None:
    """Sleeps for a duration of workflow time (a durable timer; ``asyncio.sleep`` is the same).

    ``summary``: a one-line description of the timer for UIs and the CLI,
    encoded with the payload converter and recorded on its TimerStarted
    event.
    """
    runtime = _Runtime.current("workflow.sleep()")
    seconds = duration.total_seconds() if isinstance(duration, timedelta) else float(duration)
    await runtime.workflow_sleep(seconds, summary)


async def wait_condition(
    fn: Callable[[], bool],
    *,
    timeout: Optional[Union[float, timedelta]] = None,
    timeout_summary: Optional[str] = None,
) -> None:
    """Waits until ``fn()`` is true; it is checked each time the workflow has nothing else to run.

    With ``timeout`` (a durable timer) raises :py:class:`asyncio.TimeoutError`
    when it passes first; ``timeout_summary`` describes that timer (as
    :py:func:`sleep`'s ``summary``).
    """
    seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else timeout
    await _Runtime.current("workflow.wait_condition()").workflow_wait_condition(fn, seconds, timeout_summary)


# ---------------------------------------------------------------------------
# Cancellation scopes
# ---------------------------------------------------------------------------

_current_scope: contextvars.ContextVar[Optional["CancellationScope"]] = contextvars.ContextVar(
    "temporal_cancellation_scope", default=None
)


class CancellationScope:
    """A scope of cancellation for the activities (and tasks) started in it.

    Scopes form a tree rooted at the workflow (:py:meth:`current` outside any
    scope is the root, cancelled when the workflow's cancellation is
    requested). Cancelling a scope cancels every activity started in it or
    in its non-detached descendants, whether anyone awaits them or not, and
    raises :py:class:`asyncio.CancelledError` into the tasks that are inside
    it (a ``with`` block or ``run()`` of it, or tasks created there). A
    ``detached`` scope is not cancelled with its parent; with ``timeout``
    the scope cancels itself after that much workflow time (a durable
    timer started when the scope is first entered).

    Cancelling an asyncio task (``task.cancel()``) cancels only that task,
    not the activities it awaits: cancel the scope (or the
    :py:class:`ActivityHandle`) for that.

    Use ``with CancellationScope(...) as scope:`` or ``await scope.run(fn)``.
    """

    _runtime: _Runtime

    def __init__(
        self,
        *,
        parent: Optional["CancellationScope"] = None,
        detached: bool = False,
        timeout: Optional[Union[timedelta, float]] = None,
    ) -> None:
        runtime = _Runtime.current("CancellationScope()")
        if parent is None:
            parent = CancellationScope.current()
        elif parent._runtime is not runtime:
            raise ValueError("the parent scope belongs to another workflow run")
        if timeout is not None:
            seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else float(timeout)
            if seconds <= 0:
                raise ValueError(f"CancellationScope timeout must be positive, got {timeout!r}")
            timeout = timedelta(seconds=seconds)
        self._runtime = runtime
        self._parent: Optional[CancellationScope] = parent
        self._detached = detached
        self._timeout: Optional[timedelta] = timeout
        self._is_root = False
        # Set by the runtime: the C scope, its tag, and per-task enter tokens.
        self._impl: Any = None
        self._tag = 0
        self._tokens: dict[Any, list[contextvars.Token[Optional[CancellationScope]]]] = {}

    @classmethod
    def _new_root(cls, runtime: _Runtime) -> "CancellationScope":
        scope = cls.__new__(cls)
        scope._runtime = runtime
        scope._parent = None
        scope._detached = False
        scope._timeout = None
        scope._is_root = True
        scope._impl = None
        scope._tag = 0
        scope._tokens = {}
        return scope

    @staticmethod
    def current() -> "CancellationScope":
        """The innermost scope of the calling code (the root scope outside any)."""
        runtime = _Runtime.current("CancellationScope.current()")
        scope = _current_scope.get()
        if scope is None or scope._runtime is not runtime:
            return runtime.workflow_root_scope()
        return scope

    @property
    def parent(self) -> Optional["CancellationScope"]:
        """The parent scope (None for the root)."""
        return self._parent

    @property
    def detached(self) -> bool:
        """Whether cancelling the parent leaves this scope alone."""
        return self._detached

    @property
    def timeout(self) -> Optional[timedelta]:
        """After how much workflow time the scope cancels itself."""
        return self._timeout

    @property
    def is_root(self) -> bool:
        """Whether this is the workflow's root scope."""
        return self._is_root

    @property
    def cancelled(self) -> bool:
        """Whether the scope was cancelled (itself, by its parent, or by its timeout)."""
        return self._runtime.workflow_scope_is_cancelled(self)

    def cancel(self) -> None:
        """Cancels the scope, its non-detached descendants and what runs in them. Idempotent."""
        self._runtime.workflow_scope_cancel(self)

    def _push(self) -> None:
        if self._is_root:
            raise RuntimeError("the root cancellation scope cannot be entered")
        self._runtime.workflow_scope_enter(self)
        task = asyncio.current_task()
        self._tokens.setdefault(task, []).append(_current_scope.set(self))

    def _pop(self) -> None:
        task = asyncio.current_task()
        tokens = self._tokens.get(task)
        if not tokens:
            raise RuntimeError("CancellationScope exited by another task than the one that entered it")
        _current_scope.reset(tokens.pop())
        if not tokens:
            del self._tokens[task]
        self._runtime.workflow_scope_exit(self)

    def __enter__(self) -> "CancellationScope":
        self._push()
        return self

    def __exit__(self, *exc: object) -> None:
        self._pop()

    async def __aenter__(self) -> "CancellationScope":
        self._push()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._pop()

    @overload
    async def run(self, fn: Callable[[], Awaitable[_T]]) -> _T: ...

    @overload
    async def run(self, fn: Callable[[], _T]) -> _T: ...

    async def run(self, fn: Callable[[], Any]) -> Any:
        """Calls ``fn`` inside the scope (awaiting its result when it is awaitable)."""
        with self:
            result = fn()
            if inspect.isawaitable(result):
                result = await result
            return result

    def __repr__(self) -> str:
        kind = "root" if self._is_root else ("detached" if self._detached else "child")
        return f"<CancellationScope {kind} tag={self._tag}>"


# ---------------------------------------------------------------------------
# Activities
# ---------------------------------------------------------------------------


class ActivityCancellationType(IntEnum):
    """What cancelling a started activity does."""

    TRY_CANCEL = 0
    """Ask the server to cancel it and resolve as cancelled at once."""
    WAIT_CANCELLATION_COMPLETED = 1
    """Ask the server to cancel it and resolve when the activity has acknowledged it."""
    ABANDON = 2
    """Do not tell the server; resolve as cancelled at once (the activity runs on)."""


class ActivityConfig(TypedDict, total=False):
    """Options of :py:func:`start_activity` / :py:func:`execute_activity`, for ``**config``."""

    task_queue: Optional[str]
    schedule_to_close_timeout: Optional[timedelta]
    schedule_to_start_timeout: Optional[timedelta]
    start_to_close_timeout: Optional[timedelta]
    heartbeat_timeout: Optional[timedelta]
    retry_policy: Optional[temporalio.common.RetryPolicy]
    cancellation_type: ActivityCancellationType
    activity_id: Optional[str]
    versioning_intent: Optional[object]
    summary: Optional[str]
    priority: temporalio.common.Priority


class LocalActivityConfig(TypedDict, total=False):
    """Options of :py:func:`start_local_activity` / :py:func:`execute_local_activity`."""

    schedule_to_close_timeout: Optional[timedelta]
    schedule_to_start_timeout: Optional[timedelta]
    start_to_close_timeout: Optional[timedelta]
    retry_policy: Optional[temporalio.common.RetryPolicy]
    local_retry_threshold: Optional[timedelta]
    cancellation_type: ActivityCancellationType
    activity_id: Optional[str]
    summary: Optional[str]


class _OpFuture(asyncio.Future[ReturnType]):
    """An asyncio future of an operation (activity, child workflow) that ``cancel()`` cancels itself.

    A task awaiting it waits on a private future instead, so that cancelling
    the task cancels only the task, not the operation.
    """

    def __await__(self) -> Generator[Any, None, ReturnType]:
        if not self.done():
            waiter = _HandleWaiter(self)
            self.add_done_callback(waiter._source_done)
            try:
                yield from waiter.__await__()
            finally:
                self.remove_done_callback(waiter._source_done)
        return self.result()

    __iter__ = __await__

    def cancel(self, msg: Any | None = None) -> bool:
        """Requests cancellation of the operation; False when it already resolved."""
        if self.done():
            return False
        self._cancel_op()
        return True

    def _cancel_op(self) -> None:
        raise NotImplementedError

    def _defer_task_cancel(self) -> bool:
        """Whether a task waiting on this handle gets its CancelledError only once the handle resolves."""
        return False


class ActivityHandle(_OpFuture[ReturnType]):
    """A started activity: an asyncio future of its result.

    ``await handle`` returns the result or raises
    :py:class:`temporalio.exceptions.ActivityError` (its cause says why:
    the activity's error, a timeout, or a cancellation). ``handle.cancel()``
    cancels the activity itself (as its ``cancellation_type`` says);
    cancelling a task that awaits the handle cancels only that task.
    """


class _HandleWaiter(asyncio.Future[None]):
    """What a task awaiting an operation's future waits on, so that cancelling the task spares the operation."""

    def __init__(self, source: _OpFuture[Any]) -> None:
        super().__init__(loop=source.get_loop())
        self._source = source

    def _source_done(self, _: Any) -> None:
        if not self.done():
            self.set_result(None)

    def cancel(self, msg: Any | None = None) -> bool:
        if not self.done() and self._source._defer_task_cancel():
            return False
        return super().cancel(msg)


def _call_args(positional: Sequence[Any], arg: Any, args: Sequence[Any]) -> list[Any]:
    has_arg = arg is not temporalio.common._arg_unset
    if (len(positional) > 0) + has_arg + (len(args) > 0) > 1:
        raise ValueError("give arguments one way only: positionally, as arg= or as args=")
    if isinstance(args, (str, bytes)):
        raise TypeError("args= must be a sequence of arguments, not a single string")
    if has_arg:
        return [arg]
    return list(positional) if positional else list(args)


@overload
def start_activity(
    activity: Callable[[], Awaitable[ReturnType]],
    /,
    *,
    activity_id: Optional[str] = None,
    task_queue: Optional[str] = None,
    schedule_to_close_timeout: Optional[timedelta] = None,
    schedule_to_start_timeout: Optional[timedelta] = None,
    start_to_close_timeout: Optional[timedelta] = None,
    heartbeat_timeout: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
    versioning_intent: Optional[object] = None,
    summary: Optional[str] = None,
    priority: temporalio.common.Priority = temporalio.common.Priority.default,
) -> ActivityHandle[ReturnType]: ...


@overload
def start_activity(
    activity: Callable[[], ReturnType],
    /,
    *,
    activity_id: Optional[str] = None,
    task_queue: Optional[str] = None,
    schedule_to_close_timeout: Optional[timedelta] = None,
    schedule_to_start_timeout: Optional[timedelta] = None,
    start_to_close_timeout: Optional[timedelta] = None,
    heartbeat_timeout: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
    versioning_intent: Optional[object] = None,
    summary: Optional[str] = None,
    priority: temporalio.common.Priority = temporalio.common.Priority.default,
) -> ActivityHandle[ReturnType]: ...


@overload
def start_activity(
    activity: Callable[[ParamType], Awaitable[ReturnType]],
    arg: ParamType,
    /,
    *,
    activity_id: Optional[str] = None,
    task_queue: Optional[str] = None,
    schedule_to_close_timeout: Optional[timedelta] = None,
    schedule_to_start_timeout: Optional[timedelta] = None,
    start_to_close_timeout: Optional[timedelta] = None,
    heartbeat_timeout: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
    versioning_intent: Optional[object] = None,
    summary: Optional[str] = None,
    priority: temporalio.common.Priority = temporalio.common.Priority.default,
) -> ActivityHandle[ReturnType]: ...


@overload
def start_activity(
    activity: Callable[[ParamType], ReturnType],
    arg: ParamType,
    /,
    *,
    activity_id: Optional[str] = None,
    task_queue: Optional[str] = None,
    schedule_to_close_timeout: Optional[timedelta] = None,
    schedule_to_start_timeout: Optional[timedelta] = None,
    start_to_close_timeout: Optional[timedelta] = None,
    heartbeat_timeout: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
    versioning_intent: Optional[object] = None,
    summary: Optional[str] = None,
    priority: temporalio.common.Priority = temporalio.common.Priority.default,
) -> ActivityHandle[ReturnType]: ...


@overload
def start_activity(
    activity: Callable[[Unpack[MultiParamType]], Awaitable[ReturnType]],
    /,
    *params: Unpack[MultiParamType],
    activity_id: Optional[str] = None,
    task_queue: Optional[str] = None,
    schedule_to_close_timeout: Optional[timedelta] = None,
    schedule_to_start_timeout: Optional[timedelta] = None,
    start_to_close_timeout: Optional[timedelta] = None,
    heartbeat_timeout: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
    versioning_intent: Optional[object] = None,
    summary: Optional[str] = None,
    priority: temporalio.common.Priority = temporalio.common.Priority.default,
) -> ActivityHandle[ReturnType]: ...


@overload
def start_activity(
    activity: Callable[[Unpack[MultiParamType]], ReturnType],
    /,
    *params: Unpack[MultiParamType],
    activity_id: Optional[str] = None,
    task_queue: Optional[str] = None,
    schedule_to_close_timeout: Optional[timedelta] = None,
    schedule_to_start_timeout: Optional[timedelta] = None,
    start_to_close_timeout: Optional[timedelta] = None,
    heartbeat_timeout: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
    versioning_intent: Optional[object] = None,
    summary: Optional[str] = None,
    priority: temporalio.common.Priority = temporalio.common.Priority.default,
) -> ActivityHandle[ReturnType]: ...


@overload
def start_activity(
    activity: Callable[MultiParamSpec, Awaitable[ReturnType]],
    /,
    *,
    args: Sequence[Any],
    activity_id: Optional[str] = None,
    task_queue: Optional[str] = None,
    schedule_to_close_timeout: Optional[timedelta] = None,
    schedule_to_start_timeout: Optional[timedelta] = None,
    start_to_close_timeout: Optional[timedelta] = None,
    heartbeat_timeout: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
    versioning_intent: Optional[object] = None,
    summary: Optional[str] = None,
    priority: temporalio.common.Priority = temporalio.common.Priority.default,
) -> ActivityHandle[ReturnType]: ...


@overload
def start_activity(
    activity: Callable[MultiParamSpec, ReturnType],
    /,
    *,
    args: Sequence[Any],
    activity_id: Optional[str] = None,
    task_queue: Optional[str] = None,
    schedule_to_close_timeout: Optional[timedelta] = None,
    schedule_to_start_timeout: Optional[timedelta] = None,
    start_to_close_timeout: Optional[timedelta] = None,
    heartbeat_timeout: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
    versioning_intent: Optional[object] = None,
    summary: Optional[str] = None,
    priority: temporalio.common.Priority = temporalio.common.Priority.default,
) -> ActivityHandle[ReturnType]: ...


@overload
def start_activity(
    activity: str,
    /,
    *params: Any,
    arg: Any = temporalio.common._arg_unset,
    args: Sequence[Any] = (),
    result_type: Optional[type] = None,
    activity_id: Optional[str] = None,
    task_queue: Optional[str] = None,
    schedule_to_close_timeout: Optional[timedelta] = None,
    schedule_to_start_timeout: Optional[timedelta] = None,
    start_to_close_timeout: Optional[timedelta] = None,
    heartbeat_timeout: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
    versioning_intent: Optional[object] = None,
    summary: Optional[str] = None,
    priority: temporalio.common.Priority = temporalio.common.Priority.default,
) -> ActivityHandle[Any]: ...


def start_activity(
    activity: Any,
    /,
    *params: object,
    arg: Any = temporalio.common._arg_unset,
    args: Sequence[Any] = (),
    result_type: Optional[type] = None,
    activity_id: Optional[str] = None,
    task_queue: Optional[str] = None,
    schedule_to_close_timeout: Optional[timedelta] = None,
    schedule_to_start_timeout: Optional[timedelta] = None,
    start_to_close_timeout: Optional[timedelta] = None,
    heartbeat_timeout: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
    versioning_intent: Optional[object] = None,
    summary: Optional[str] = None,
    priority: temporalio.common.Priority = temporalio.common.Priority.default,
) -> ActivityHandle[Any]:
    """Starts an activity (an ``@activity.defn`` function, or a name) and returns its handle.

    Arguments go positionally, or as ``arg=`` / ``args=``. One of
    ``start_to_close_timeout`` and ``schedule_to_close_timeout`` is
    required. The activity belongs to the current
    :py:class:`CancellationScope`. ``summary`` (one line, encoded with the
    payload converter) describes it in UIs and the CLI; ``priority`` orders
    its tasks when the task queue has a backlog (unset fields: the
    workflow's). Neither is checked on replay.
    """
    del versioning_intent
    runtime = _Runtime.current("workflow.start_activity()")
    return runtime.workflow_start_activity(
        activity,
        _call_args(params, arg, args),
        result_type=result_type,
        activity_id=activity_id,
        task_queue=task_queue,
        schedule_to_close_timeout=schedule_to_close_timeout,
        schedule_to_start_timeout=schedule_to_start_timeout,
        start_to_close_timeout=start_to_close_timeout,
        heartbeat_timeout=heartbeat_timeout,
        retry_policy=retry_policy,
        cancellation_type=cancellation_type,
        summary=summary,
        priority=priority,
    )


@overload
async def execute_activity(
    activity: Callable[[], Awaitable[ReturnType]],
    /,
    *,
    activity_id: Optional[str] = None,
    task_queue: Optional[str] = None,
    schedule_to_close_timeout: Optional[timedelta] = None,
    schedule_to_start_timeout: Optional[timedelta] = None,
    start_to_close_timeout: Optional[timedelta] = None,
    heartbeat_timeout: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
    versioning_intent: Optional[object] = None,
    summary: Optional[str] = None,
    priority: temporalio.common.Priority = temporalio.common.Priority.default,
) -> ReturnType: ...


@overload
async def execute_activity(
    activity: Callable[[], ReturnType],
    /,
    *,
    activity_id: Optional[str] = None,
    task_queue: Optional[str] = None,
    schedule_to_close_timeout: Optional[timedelta] = None,
    schedule_to_start_timeout: Optional[timedelta] = None,
    start_to_close_timeout: Optional[timedelta] = None,
    heartbeat_timeout: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
    versioning_intent: Optional[object] = None,
    summary: Optional[str] = None,
    priority: temporalio.common.Priority = temporalio.common.Priority.default,
) -> ReturnType: ...


@overload
async def execute_activity(
    activity: Callable[[ParamType], Awaitable[ReturnType]],
    arg: ParamType,
    /,
    *,
    activity_id: Optional[str] = None,
    task_queue: Optional[str] = None,
    schedule_to_close_timeout: Optional[timedelta] = None,
    schedule_to_start_timeout: Optional[timedelta] = None,
    start_to_close_timeout: Optional[timedelta] = None,
    heartbeat_timeout: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
    versioning_intent: Optional[object] = None,
    summary: Optional[str] = None,
    priority: temporalio.common.Priority = temporalio.common.Priority.default,
) -> ReturnType: ...


@overload
async def execute_activity(
    activity: Callable[[ParamType], ReturnType],
    arg: ParamType,
    /,
    *,
    activity_id: Optional[str] = None,
    task_queue: Optional[str] = None,
    schedule_to_close_timeout: Optional[timedelta] = None,
    schedule_to_start_timeout: Optional[timedelta] = None,
    start_to_close_timeout: Optional[timedelta] = None,
    heartbeat_timeout: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
    versioning_intent: Optional[object] = None,
    summary: Optional[str] = None,
    priority: temporalio.common.Priority = temporalio.common.Priority.default,
) -> ReturnType: ...


@overload
async def execute_activity(
    activity: Callable[[Unpack[MultiParamType]], Awaitable[ReturnType]],
    /,
    *params: Unpack[MultiParamType],
    activity_id: Optional[str] = None,
    task_queue: Optional[str] = None,
    schedule_to_close_timeout: Optional[timedelta] = None,
    schedule_to_start_timeout: Optional[timedelta] = None,
    start_to_close_timeout: Optional[timedelta] = None,
    heartbeat_timeout: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
    versioning_intent: Optional[object] = None,
    summary: Optional[str] = None,
    priority: temporalio.common.Priority = temporalio.common.Priority.default,
) -> ReturnType: ...


@overload
async def execute_activity(
    activity: Callable[[Unpack[MultiParamType]], ReturnType],
    /,
    *params: Unpack[MultiParamType],
    activity_id: Optional[str] = None,
    task_queue: Optional[str] = None,
    schedule_to_close_timeout: Optional[timedelta] = None,
    schedule_to_start_timeout: Optional[timedelta] = None,
    start_to_close_timeout: Optional[timedelta] = None,
    heartbeat_timeout: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
    versioning_intent: Optional[object] = None,
    summary: Optional[str] = None,
    priority: temporalio.common.Priority = temporalio.common.Priority.default,
) -> ReturnType: ...


@overload
async def execute_activity(
    activity: Callable[MultiParamSpec, Awaitable[ReturnType]],
    /,
    *,
    args: Sequence[Any],
    activity_id: Optional[str] = None,
    task_queue: Optional[str] = None,
    schedule_to_close_timeout: Optional[timedelta] = None,
    schedule_to_start_timeout: Optional[timedelta] = None,
    start_to_close_timeout: Optional[timedelta] = None,
    heartbeat_timeout: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
    versioning_intent: Optional[object] = None,
    summary: Optional[str] = None,
    priority: temporalio.common.Priority = temporalio.common.Priority.default,
) -> ReturnType: ...


@overload
async def execute_activity(
    activity: Callable[MultiParamSpec, ReturnType],
    /,
    *,
    args: Sequence[Any],
    activity_id: Optional[str] = None,
    task_queue: Optional[str] = None,
    schedule_to_close_timeout: Optional[timedelta] = None,
    schedule_to_start_timeout: Optional[timedelta] = None,
    start_to_close_timeout: Optional[timedelta] = None,
    heartbeat_timeout: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
    versioning_intent: Optional[object] = None,
    summary: Optional[str] = None,
    priority: temporalio.common.Priority = temporalio.common.Priority.default,
) -> ReturnType: ...


@overload
async def execute_activity(
    activity: str,
    /,
    *params: Any,
    arg: Any = temporalio.common._arg_unset,
    args: Sequence[Any] = (),
    result_type: Optional[type] = None,
    activity_id: Optional[str] = None,
    task_queue: Optional[str] = None,
    schedule_to_close_timeout: Optional[timedelta] = None,
    schedule_to_start_timeout: Optional[timedelta] = None,
    start_to_close_timeout: Optional[timedelta] = None,
    heartbeat_timeout: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
    versioning_intent: Optional[object] = None,
    summary: Optional[str] = None,
    priority: temporalio.common.Priority = temporalio.common.Priority.default,
) -> Any: ...


async def execute_activity(activity: Any, /, *params: object, **kwargs: Any) -> Any:
    """Starts an activity and waits for its result (see :py:func:`start_activity`)."""
    return await start_activity(activity, *params, **kwargs)


@overload
def start_local_activity(
    activity: Callable[[], Awaitable[ReturnType]],
    /,
    *,
    activity_id: Optional[str] = None,
    summary: Optional[str] = None,
    schedule_to_close_timeout: Optional[timedelta] = None,
    schedule_to_start_timeout: Optional[timedelta] = None,
    start_to_close_timeout: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    local_retry_threshold: Optional[timedelta] = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
) -> ActivityHandle[ReturnType]: ...


@overload
def start_local_activity(
    activity: Callable[[], ReturnType],
    /,
    *,
    activity_id: Optional[str] = None,
    summary: Optional[str] = None,
    schedule_to_close_timeout: Optional[timedelta] = None,
    schedule_to_start_timeout: Optional[timedelta] = None,
    start_to_close_timeout: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    local_retry_threshold: Optional[timedelta] = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
) -> ActivityHandle[ReturnType]: ...


@overload
def start_local_activity(
    activity: Callable[[ParamType], Awaitable[ReturnType]],
    arg: ParamType,
    /,
    *,
    activity_id: Optional[str] = None,
    summary: Optional[str] = None,
    schedule_to_close_timeout: Optional[timedelta] = None,
    schedule_to_start_timeout: Optional[timedelta] = None,
    start_to_close_timeout: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    local_retry_threshold: Optional[timedelta] = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
) -> ActivityHandle[ReturnType]: ...


@overload
def start_local_activity(
    activity: Callable[[ParamType], ReturnType],
    arg: ParamType,
    /,
    *,
    activity_id: Optional[str] = None,
    summary: Optional[str] = None,
    schedule_to_close_timeout: Optional[timedelta] = None,
    schedule_to_start_timeout: Optional[timedelta] = None,
    start_to_close_timeout: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    local_retry_threshold: Optional[timedelta] = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
) -> ActivityHandle[ReturnType]: ...


@overload
def start_local_activity(
    activity: Callable[[Unpack[MultiParamType]], Awaitable[ReturnType]],
    /,
    *params: Unpack[MultiParamType],
    activity_id: Optional[str] = None,
    summary: Optional[str] = None,
    schedule_to_close_timeout: Optional[timedelta] = None,
    schedule_to_start_timeout: Optional[timedelta] = None,
    start_to_close_timeout: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    local_retry_threshold: Optional[timedelta] = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
) -> ActivityHandle[ReturnType]: ...


@overload
def start_local_activity(
    activity: Callable[[Unpack[MultiParamType]], ReturnType],
    /,
    *params: Unpack[MultiParamType],
    activity_id: Optional[str] = None,
    summary: Optional[str] = None,
    schedule_to_close_timeout: Optional[timedelta] = None,
    schedule_to_start_timeout: Optional[timedelta] = None,
    start_to_close_timeout: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    local_retry_threshold: Optional[timedelta] = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
) -> ActivityHandle[ReturnType]: ...


@overload
def start_local_activity(
    activity: Callable[MultiParamSpec, Awaitable[ReturnType]],
    /,
    *,
    args: Sequence[Any],
    activity_id: Optional[str] = None,
    summary: Optional[str] = None,
    schedule_to_close_timeout: Optional[timedelta] = None,
    schedule_to_start_timeout: Optional[timedelta] = None,
    start_to_close_timeout: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    local_retry_threshold: Optional[timedelta] = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
) -> ActivityHandle[ReturnType]: ...


@overload
def start_local_activity(
    activity: Callable[MultiParamSpec, ReturnType],
    /,
    *,
    args: Sequence[Any],
    activity_id: Optional[str] = None,
    summary: Optional[str] = None,
    schedule_to_close_timeout: Optional[timedelta] = None,
    schedule_to_start_timeout: Optional[timedelta] = None,
    start_to_close_timeout: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    local_retry_threshold: Optional[timedelta] = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
) -> ActivityHandle[ReturnType]: ...


@overload
def start_local_activity(
    activity: str,
    /,
    *params: Any,
    arg: Any = temporalio.common._arg_unset,
    args: Sequence[Any] = (),
    result_type: Optional[type] = None,
    activity_id: Optional[str] = None,
    summary: Optional[str] = None,
    schedule_to_close_timeout: Optional[timedelta] = None,
    schedule_to_start_timeout: Optional[timedelta] = None,
    start_to_close_timeout: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    local_retry_threshold: Optional[timedelta] = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
) -> ActivityHandle[Any]: ...


def start_local_activity(
    activity: Any,
    /,
    *params: object,
    arg: Any = temporalio.common._arg_unset,
    args: Sequence[Any] = (),
    result_type: Optional[type] = None,
    activity_id: Optional[str] = None,
    summary: Optional[str] = None,
    schedule_to_close_timeout: Optional[timedelta] = None,
    schedule_to_start_timeout: Optional[timedelta] = None,
    start_to_close_timeout: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    local_retry_threshold: Optional[timedelta] = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
) -> ActivityHandle[Any]:
    """Starts a local activity and returns its handle.

    A local activity runs in this worker's activity side (the same
    registry as normal activities), is retried locally per
    ``retry_policy`` (default: 1 s initial interval, x2, at most 100 s,
    unlimited attempts bounded by ``schedule_to_close_timeout``) and its
    outcome is recorded in history as a marker, so a replay does not run it
    again. One of ``start_to_close_timeout`` and
    ``schedule_to_close_timeout`` is required. A retry due later than
    ``local_retry_threshold`` (default 1 minute) is not waited for in the
    worker: the failed attempt is recorded, the workflow waits on a durable
    timer, then runs the next attempt (attempt numbers, maximum attempts and
    ``schedule_to_close_timeout`` keep counting from the first attempt). The
    handle resolves once, with the final outcome; cancelling it while it
    waits on that timer cancels the timer. Cancellation follows TRY_CANCEL
    semantics. ``summary`` describes it in UIs: it is recorded on the marker
    of its outcome.
    """
    runtime = _Runtime.current("workflow.start_local_activity()")
    return runtime.workflow_start_local_activity(
        activity,
        _call_args(params, arg, args),
        result_type=result_type,
        activity_id=activity_id,
        schedule_to_close_timeout=schedule_to_close_timeout,
        schedule_to_start_timeout=schedule_to_start_timeout,
        start_to_close_timeout=start_to_close_timeout,
        retry_policy=retry_policy,
        local_retry_threshold=local_retry_threshold,
        cancellation_type=cancellation_type,
        summary=summary,
    )


@overload
async def execute_local_activity(
    activity: Callable[[], Awaitable[ReturnType]],
    /,
    *,
    activity_id: Optional[str] = None,
    summary: Optional[str] = None,
    schedule_to_close_timeout: Optional[timedelta] = None,
    schedule_to_start_timeout: Optional[timedelta] = None,
    start_to_close_timeout: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    local_retry_threshold: Optional[timedelta] = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
) -> ReturnType: ...


@overload
async def execute_local_activity(
    activity: Callable[[], ReturnType],
    /,
    *,
    activity_id: Optional[str] = None,
    summary: Optional[str] = None,
    schedule_to_close_timeout: Optional[timedelta] = None,
    schedule_to_start_timeout: Optional[timedelta] = None,
    start_to_close_timeout: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    local_retry_threshold: Optional[timedelta] = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
) -> ReturnType: ...


@overload
async def execute_local_activity(
    activity: Callable[[ParamType], Awaitable[ReturnType]],
    arg: ParamType,
    /,
    *,
    activity_id: Optional[str] = None,
    summary: Optional[str] = None,
    schedule_to_close_timeout: Optional[timedelta] = None,
    schedule_to_start_timeout: Optional[timedelta] = None,
    start_to_close_timeout: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    local_retry_threshold: Optional[timedelta] = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
) -> ReturnType: ...


@overload
async def execute_local_activity(
    activity: Callable[[ParamType], ReturnType],
    arg: ParamType,
    /,
    *,
    activity_id: Optional[str] = None,
    summary: Optional[str] = None,
    schedule_to_close_timeout: Optional[timedelta] = None,
    schedule_to_start_timeout: Optional[timedelta] = None,
    start_to_close_timeout: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    local_retry_threshold: Optional[timedelta] = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
) -> ReturnType: ...


@overload
async def execute_local_activity(
    activity: Callable[[Unpack[MultiParamType]], Awaitable[ReturnType]],
    /,
    *params: Unpack[MultiParamType],
    activity_id: Optional[str] = None,
    summary: Optional[str] = None,
    schedule_to_close_timeout: Optional[timedelta] = None,
    schedule_to_start_timeout: Optional[timedelta] = None,
    start_to_close_timeout: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    local_retry_threshold: Optional[timedelta] = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
) -> ReturnType: ...


@overload
async def execute_local_activity(
    activity: Callable[[Unpack[MultiParamType]], ReturnType],
    /,
    *params: Unpack[MultiParamType],
    activity_id: Optional[str] = None,
    summary: Optional[str] = None,
    schedule_to_close_timeout: Optional[timedelta] = None,
    schedule_to_start_timeout: Optional[timedelta] = None,
    start_to_close_timeout: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    local_retry_threshold: Optional[timedelta] = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
) -> ReturnType: ...


@overload
async def execute_local_activity(
    activity: Callable[MultiParamSpec, Awaitable[ReturnType]],
    /,
    *,
    args: Sequence[Any],
    activity_id: Optional[str] = None,
    summary: Optional[str] = None,
    schedule_to_close_timeout: Optional[timedelta] = None,
    schedule_to_start_timeout: Optional[timedelta] = None,
    start_to_close_timeout: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    local_retry_threshold: Optional[timedelta] = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
) -> ReturnType: ...


@overload
async def execute_local_activity(
    activity: Callable[MultiParamSpec, ReturnType],
    /,
    *,
    args: Sequence[Any],
    activity_id: Optional[str] = None,
    summary: Optional[str] = None,
    schedule_to_close_timeout: Optional[timedelta] = None,
    schedule_to_start_timeout: Optional[timedelta] = None,
    start_to_close_timeout: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    local_retry_threshold: Optional[timedelta] = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
) -> ReturnType: ...


@overload
async def execute_local_activity(
    activity: str,
    /,
    *params: Any,
    arg: Any = temporalio.common._arg_unset,
    args: Sequence[Any] = (),
    result_type: Optional[type] = None,
    activity_id: Optional[str] = None,
    summary: Optional[str] = None,
    schedule_to_close_timeout: Optional[timedelta] = None,
    schedule_to_start_timeout: Optional[timedelta] = None,
    start_to_close_timeout: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    local_retry_threshold: Optional[timedelta] = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
) -> Any: ...


async def execute_local_activity(activity: Any, /, *params: object, **kwargs: Any) -> Any:
    """Starts a local activity and waits for its result (see :py:func:`start_local_activity`)."""
    return await start_local_activity(activity, *params, **kwargs)


# ---------------------------------------------------------------------------
# Child workflows and other workflows
# ---------------------------------------------------------------------------


class ChildWorkflowCancellationType(IntEnum):
    """What cancelling a started child workflow does."""

    ABANDON = 0
    """Do not tell the server; resolve as cancelled at once (the child runs on)."""
    TRY_CANCEL = 1
    """Ask the server to cancel the child and resolve as cancelled at once."""
    WAIT_CANCELLATION_COMPLETED = 2
    """Ask the server to cancel the child and resolve when the child has closed (the default)."""
    WAIT_CANCELLATION_REQUESTED = 3
    """Ask the server to cancel the child and resolve once the server has recorded the request."""


class ParentClosePolicy(IntEnum):
    """What happens to a child workflow when its parent closes."""

    UNSPECIFIED = 0
    TERMINATE = 1
    ABANDON = 2
    REQUEST_CANCEL = 3


class ChildWorkflowConfig(TypedDict, total=False):
    """Options of :py:func:`start_child_workflow` / :py:func:`execute_child_workflow`, for ``**config``."""

    id: str
    task_queue: Optional[str]
    cancellation_type: ChildWorkflowCancellationType
    parent_close_policy: ParentClosePolicy
    execution_timeout: Optional[timedelta]
    run_timeout: Optional[timedelta]
    task_timeout: Optional[timedelta]
    id_reuse_policy: temporalio.common.WorkflowIDReusePolicy
    retry_policy: Optional[temporalio.common.RetryPolicy]
    cron_schedule: str
    memo: Optional[Mapping[str, Any]]
    search_attributes: Optional[Mapping[str, Any]]
    header: Optional[Mapping[str, Any]]
    static_summary: Optional[str]
    static_details: Optional[str]
    versioning_intent: Optional[object]
    priority: temporalio.common.Priority


class ChildWorkflowHandle(_OpFuture[ReturnType], Generic[SelfType, ReturnType]):
    """A started child workflow: an asyncio future of its result.

    ``await handle`` returns the child's result or raises
    :py:class:`temporalio.exceptions.ChildWorkflowError` (its cause says
    why). ``handle.cancel()`` cancels the child as its
    ``cancellation_type`` says; cancelling a task that awaits the handle
    cancels only that task. The child also belongs to the
    :py:class:`CancellationScope` it was started in.
    """

    @property
    def id(self) -> str:
        """Workflow ID of the child."""
        raise NotImplementedError

    @property
    def first_execution_run_id(self) -> Optional[str]:
        """Run ID of the child's first run (its run chain may continue as new)."""
        raise NotImplementedError

    @property
    def original_run_id(self) -> Optional[str]:
        """Same as :py:attr:`first_execution_run_id`."""
        return self.first_execution_run_id

    @property
    def run_id(self) -> Optional[str]:
        """Same as :py:attr:`first_execution_run_id`."""
        return self.first_execution_run_id

    @overload
    async def signal(self, signal: Callable[[SelfType], Union[Awaitable[None], None]], /) -> None: ...

    @overload
    async def signal(
        self, signal: Callable[[SelfType, ParamType], Union[Awaitable[None], None]], /, arg: ParamType
    ) -> None: ...

    @overload
    async def signal(
        self,
        signal: Callable[[SelfType, Unpack[MultiParamType]], Union[Awaitable[None], None]],
        /,
        *params: Unpack[MultiParamType],
    ) -> None: ...

    @overload
    async def signal(
        self,
        signal: Callable[Concatenate[SelfType, MultiParamSpec], Union[Awaitable[None], None]],
        /,
        *,
        args: Sequence[Any],
    ) -> None: ...

    @overload
    async def signal(
        self, signal: str, /, *params: Any, arg: Any = temporalio.common._arg_unset, args: Sequence[Any] = ()
    ) -> None: ...

    async def signal(
        self,
        signal: Union[str, Callable[..., Any]],
        /,
        *params: object,
        arg: Any = temporalio.common._arg_unset,
        args: Sequence[Any] = (),
    ) -> None:
        """Signals the child (by ``@workflow.signal`` method or name); returns once the server delivered it."""
        name = SignalDefinition.must_name_from_fn_or_str(signal)
        await self._signal(name, _call_args(params, arg, args))

    async def _signal(self, name: str, args: Sequence[Any]) -> None:
        raise NotImplementedError


class ExternalWorkflowHandle(Generic[SelfType]):
    """Another workflow, addressed from workflow code: signal it or ask for its cancellation."""

    def __init__(self, id: str, run_id: Optional[str]) -> None:
        if not id:
            raise ValueError("workflow_id must not be empty")
        self._id = id
        self._run_id = run_id

    @property
    def id(self) -> str:
        """Workflow ID of the target."""
        return self._id

    @property
    def run_id(self) -> Optional[str]:
        """Run ID of the target (None: its current run)."""
        return self._run_id

    @overload
    async def signal(self, signal: Callable[[SelfType], Union[Awaitable[None], None]], /) -> None: ...

    @overload
    async def signal(
        self, signal: Callable[[SelfType, ParamType], Union[Awaitable[None], None]], /, arg: ParamType
    ) -> None: ...

    @overload
    async def signal(
        self,
        signal: Callable[[SelfType, Unpack[MultiParamType]], Union[Awaitable[None], None]],
        /,
        *params: Unpack[MultiParamType],
    ) -> None: ...

    @overload
    async def signal(
        self,
        signal: Callable[Concatenate[SelfType, MultiParamSpec], Union[Awaitable[None], None]],
        /,
        *,
        args: Sequence[Any],
    ) -> None: ...

    @overload
    async def signal(
        self, signal: str, /, *params: Any, arg: Any = temporalio.common._arg_unset, args: Sequence[Any] = ()
    ) -> None: ...

    async def signal(
        self,
        signal: Union[str, Callable[..., Any]],
        /,
        *params: object,
        arg: Any = temporalio.common._arg_unset,
        args: Sequence[Any] = (),
    ) -> None:
        """Signals the workflow; returns once the server delivered it.

        Raises :py:class:`temporalio.exceptions.ApplicationError` when the
        workflow does not exist, :py:class:`asyncio.CancelledError` when the
        signal is cancelled first.
        """
        runtime = _Runtime.current("ExternalWorkflowHandle.signal()")
        name = SignalDefinition.must_name_from_fn_or_str(signal)
        await runtime.workflow_signal_external(self._id, self._run_id, name, _call_args(params, arg, args))

    async def cancel(self) -> None:
        """Asks the server to cancel the workflow; returns once the request is recorded.

        Raises :py:class:`temporalio.exceptions.ApplicationError` when the
        workflow does not exist.
        """
        await _Runtime.current("ExternalWorkflowHandle.cancel()").workflow_cancel_external(self._id, self._run_id)


@overload
async def start_child_workflow(
    workflow: Callable[[SelfType], Awaitable[ReturnType]],
    /,
    *,
    id: str,
    task_queue: Optional[str] = None,
    cancellation_type: ChildWorkflowCancellationType = ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
    parent_close_policy: ParentClosePolicy = ParentClosePolicy.TERMINATE,
    execution_timeout: Optional[timedelta] = None,
    run_timeout: Optional[timedelta] = None,
    task_timeout: Optional[timedelta] = None,
    id_reuse_policy: temporalio.common.WorkflowIDReusePolicy = temporalio.common.WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    cron_schedule: str = "",
    memo: Optional[Mapping[str, Any]] = None,
    search_attributes: Optional[Mapping[str, Any]] = None,
    header: Optional[Mapping[str, Any]] = None,
    static_summary: Optional[str] = None,
    static_details: Optional[str] = None,
    priority: temporalio.common.Priority = temporalio.common.Priority.default,
    versioning_intent: Optional[object] = None,
) -> ChildWorkflowHandle[SelfType, ReturnType]: ...

@overload
async def start_child_workflow(
    workflow: Callable[[SelfType, ParamType], Awaitable[ReturnType]],
    arg: ParamType,
    /,
    *,
    id: str,
    task_queue: Optional[str] = None,
    cancellation_type: ChildWorkflowCancellationType = ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
    parent_close_policy: ParentClosePolicy = ParentClosePolicy.TERMINATE,
    execution_timeout: Optional[timedelta] = None,
    run_timeout: Optional[timedelta] = None,
    task_timeout: Optional[timedelta] = None,
    id_reuse_policy: temporalio.common.WorkflowIDReusePolicy = temporalio.common.WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    cron_schedule: str = "",
    memo: Optional[Mapping[str, Any]] = None,
    search_attributes: Optional[Mapping[str, Any]] = None,
    header: Optional[Mapping[str, Any]] = None,
    static_summary: Optional[str] = None,
    static_details: Optional[str] = None,
    priority: temporalio.common.Priority = temporalio.common.Priority.default,
    versioning_intent: Optional[object] = None,
) -> ChildWorkflowHandle[SelfType, ReturnType]: ...

@overload
async def start_child_workflow(
    workflow: Callable[[SelfType, Unpack[MultiParamType]], Awaitable[ReturnType]],
    /,
    *params: Unpack[MultiParamType],
    id: str,
    task_queue: Optional[str] = None,
    cancellation_type: ChildWorkflowCancellationType = ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
    parent_close_policy: ParentClosePolicy = ParentClosePolicy.TERMINATE,
    execution_timeout: Optional[timedelta] = None,
    run_timeout: Optional[timedelta] = None,
    task_timeout: Optional[timedelta] = None,
    id_reuse_policy: temporalio.common.WorkflowIDReusePolicy = temporalio.common.WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    cron_schedule: str = "",
    memo: Optional[Mapping[str, Any]] = None,
    search_attributes: Optional[Mapping[str, Any]] = None,
    header: Optional[Mapping[str, Any]] = None,
    static_summary: Optional[str] = None,
    static_details: Optional[str] = None,
    priority: temporalio.common.Priority = temporalio.common.Priority.default,
    versioning_intent: Optional[object] = None,
) -> ChildWorkflowHandle[SelfType, ReturnType]: ...

@overload
async def start_child_workflow(
    workflow: Callable[Concatenate[SelfType, MultiParamSpec], Awaitable[ReturnType]],
    /,
    *,
    args: Sequence[Any],
    id: str,
    task_queue: Optional[str] = None,
    cancellation_type: ChildWorkflowCancellationType = ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
    parent_close_policy: ParentClosePolicy = ParentClosePolicy.TERMINATE,
    execution_timeout: Optional[timedelta] = None,
    run_timeout: Optional[timedelta] = None,
    task_timeout: Optional[timedelta] = None,
    id_reuse_policy: temporalio.common.WorkflowIDReusePolicy = temporalio.common.WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    cron_schedule: str = "",
    memo: Optional[Mapping[str, Any]] = None,
    search_attributes: Optional[Mapping[str, Any]] = None,
    header: Optional[Mapping[str, Any]] = None,
    static_summary: Optional[str] = None,
    static_details: Optional[str] = None,
    priority: temporalio.common.Priority = temporalio.common.Priority.default,
    versioning_intent: Optional[object] = None,
) -> ChildWorkflowHandle[SelfType, ReturnType]: ...

@overload
async def start_child_workflow(
    workflow: str,
    /,
    *params: Any,
    arg: Any = temporalio.common._arg_unset,
    args: Sequence[Any] = (),
    result_type: Optional[type] = None,
    id: str,
    task_queue: Optional[str] = None,
    cancellation_type: ChildWorkflowCancellationType = ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
    parent_close_policy: ParentClosePolicy = ParentClosePolicy.TERMINATE,
    execution_timeout: Optional[timedelta] = None,
    run_timeout: Optional[timedelta] = None,
    task_timeout: Optional[timedelta] = None,
    id_reuse_policy: temporalio.common.WorkflowIDReusePolicy = temporalio.common.WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    cron_schedule: str = "",
    memo: Optional[Mapping[str, Any]] = None,
    search_attributes: Optional[Mapping[str, Any]] = None,
    header: Optional[Mapping[str, Any]] = None,
    static_summary: Optional[str] = None,
    static_details: Optional[str] = None,
    priority: temporalio.common.Priority = temporalio.common.Priority.default,
    versioning_intent: Optional[object] = None,
) -> ChildWorkflowHandle[Any, Any]: ...

async def start_child_workflow(
    workflow: Any,
    /,
    *params: object,
    arg: Any = temporalio.common._arg_unset,
    args: Sequence[Any] = (),
    result_type: Optional[type] = None,
    id: str,
    task_queue: Optional[str] = None,
    cancellation_type: ChildWorkflowCancellationType = ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
    parent_close_policy: ParentClosePolicy = ParentClosePolicy.TERMINATE,
    execution_timeout: Optional[timedelta] = None,
    run_timeout: Optional[timedelta] = None,
    task_timeout: Optional[timedelta] = None,
    id_reuse_policy: temporalio.common.WorkflowIDReusePolicy = temporalio.common.WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    cron_schedule: str = "",
    memo: Optional[Mapping[str, Any]] = None,
    search_attributes: Optional[Mapping[str, Any]] = None,
    header: Optional[Mapping[str, Any]] = None,
    static_summary: Optional[str] = None,
    static_details: Optional[str] = None,
    priority: temporalio.common.Priority = temporalio.common.Priority.default,
    versioning_intent: Optional[object] = None,
) -> ChildWorkflowHandle[Any, Any]:
    """Starts a child workflow (a ``@workflow.run`` method, or a workflow type name); returns once it started.

    Arguments go positionally, or as ``arg=`` / ``args=``. Raises
    :py:class:`temporalio.exceptions.WorkflowAlreadyStartedError` when a
    workflow with that ID is running (or the ID reuse policy refuses it).
    The child belongs to the current :py:class:`CancellationScope`.
    ``static_summary`` / ``static_details`` describe it in UIs (its
    ``describe()`` returns them) and ``priority`` orders its tasks (unset
    fields: this workflow's).
    """
    del versioning_intent
    runtime = _Runtime.current("workflow.start_child_workflow()")
    return await runtime.workflow_start_child_workflow(
        workflow,
        _call_args(params, arg, args),
        result_type=result_type,
        id=id,
        task_queue=task_queue,
        cancellation_type=cancellation_type,
        parent_close_policy=parent_close_policy,
        execution_timeout=execution_timeout,
        run_timeout=run_timeout,
        task_timeout=task_timeout,
        id_reuse_policy=id_reuse_policy,
        retry_policy=retry_policy,
        cron_schedule=cron_schedule,
        memo=memo,
        search_attributes=search_attributes,
        header=header,
        static_summary=static_summary,
        static_details=static_details,
        priority=priority,
    )


@overload
async def execute_child_workflow(
    workflow: Callable[[SelfType], Awaitable[ReturnType]],
    /,
    *,
    id: str,
    task_queue: Optional[str] = None,
    cancellation_type: ChildWorkflowCancellationType = ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
    parent_close_policy: ParentClosePolicy = ParentClosePolicy.TERMINATE,
    execution_timeout: Optional[timedelta] = None,
    run_timeout: Optional[timedelta] = None,
    task_timeout: Optional[timedelta] = None,
    id_reuse_policy: temporalio.common.WorkflowIDReusePolicy = temporalio.common.WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    cron_schedule: str = "",
    memo: Optional[Mapping[str, Any]] = None,
    search_attributes: Optional[Mapping[str, Any]] = None,
    header: Optional[Mapping[str, Any]] = None,
    static_summary: Optional[str] = None,
    static_details: Optional[str] = None,
    priority: temporalio.common.Priority = temporalio.common.Priority.default,
    versioning_intent: Optional[object] = None,
) -> ReturnType: ...

@overload
async def execute_child_workflow(
    workflow: Callable[[SelfType, ParamType], Awaitable[ReturnType]],
    arg: ParamType,
    /,
    *,
    id: str,
    task_queue: Optional[str] = None,
    cancellation_type: ChildWorkflowCancellationType = ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
    parent_close_policy: ParentClosePolicy = ParentClosePolicy.TERMINATE,
    execution_timeout: Optional[timedelta] = None,
    run_timeout: Optional[timedelta] = None,
    task_timeout: Optional[timedelta] = None,
    id_reuse_policy: temporalio.common.WorkflowIDReusePolicy = temporalio.common.WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    cron_schedule: str = "",
    memo: Optional[Mapping[str, Any]] = None,
    search_attributes: Optional[Mapping[str, Any]] = None,
    header: Optional[Mapping[str, Any]] = None,
    static_summary: Optional[str] = None,
    static_details: Optional[str] = None,
    priority: temporalio.common.Priority = temporalio.common.Priority.default,
    versioning_intent: Optional[object] = None,
) -> ReturnType: ...

@overload
async def execute_child_workflow(
    workflow: Callable[[SelfType, Unpack[MultiParamType]], Awaitable[ReturnType]],
    /,
    *params: Unpack[MultiParamType],
    id: str,
    task_queue: Optional[str] = None,
    cancellation_type: ChildWorkflowCancellationType = ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
    parent_close_policy: ParentClosePolicy = ParentClosePolicy.TERMINATE,
    execution_timeout: Optional[timedelta] = None,
    run_timeout: Optional[timedelta] = None,
    task_timeout: Optional[timedelta] = None,
    id_reuse_policy: temporalio.common.WorkflowIDReusePolicy = temporalio.common.WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    cron_schedule: str = "",
    memo: Optional[Mapping[str, Any]] = None,
    search_attributes: Optional[Mapping[str, Any]] = None,
    header: Optional[Mapping[str, Any]] = None,
    static_summary: Optional[str] = None,
    static_details: Optional[str] = None,
    priority: temporalio.common.Priority = temporalio.common.Priority.default,
    versioning_intent: Optional[object] = None,
) -> ReturnType: ...

@overload
async def execute_child_workflow(
    workflow: Callable[Concatenate[SelfType, MultiParamSpec], Awaitable[ReturnType]],
    /,
    *,
    args: Sequence[Any],
    id: str,
    task_queue: Optional[str] = None,
    cancellation_type: ChildWorkflowCancellationType = ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
    parent_close_policy: ParentClosePolicy = ParentClosePolicy.TERMINATE,
    execution_timeout: Optional[timedelta] = None,
    run_timeout: Optional[timedelta] = None,
    task_timeout: Optional[timedelta] = None,
    id_reuse_policy: temporalio.common.WorkflowIDReusePolicy = temporalio.common.WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    cron_schedule: str = "",
    memo: Optional[Mapping[str, Any]] = None,
    search_attributes: Optional[Mapping[str, Any]] = None,
    header: Optional[Mapping[str, Any]] = None,
    static_summary: Optional[str] = None,
    static_details: Optional[str] = None,
    priority: temporalio.common.Priority = temporalio.common.Priority.default,
    versioning_intent: Optional[object] = None,
) -> ReturnType: ...

@overload
async def execute_child_workflow(
    workflow: str,
    /,
    *params: Any,
    arg: Any = temporalio.common._arg_unset,
    args: Sequence[Any] = (),
    result_type: Optional[type] = None,
    id: str,
    task_queue: Optional[str] = None,
    cancellation_type: ChildWorkflowCancellationType = ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
    parent_close_policy: ParentClosePolicy = ParentClosePolicy.TERMINATE,
    execution_timeout: Optional[timedelta] = None,
    run_timeout: Optional[timedelta] = None,
    task_timeout: Optional[timedelta] = None,
    id_reuse_policy: temporalio.common.WorkflowIDReusePolicy = temporalio.common.WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    cron_schedule: str = "",
    memo: Optional[Mapping[str, Any]] = None,
    search_attributes: Optional[Mapping[str, Any]] = None,
    header: Optional[Mapping[str, Any]] = None,
    static_summary: Optional[str] = None,
    static_details: Optional[str] = None,
    priority: temporalio.common.Priority = temporalio.common.Priority.default,
    versioning_intent: Optional[object] = None,
) -> Any: ...

async def execute_child_workflow(workflow: Any, /, *params: object, **kwargs: Any) -> Any:
    """Starts a child workflow and waits for its result (see :py:func:`start_child_workflow`)."""
    handle = await start_child_workflow(workflow, *params, **kwargs)
    return await handle


def get_external_workflow_handle(workflow_id: str, *, run_id: Optional[str] = None) -> ExternalWorkflowHandle[Any]:
    """A handle to another workflow by ID (and run ID; None: its current run), to signal or cancel it."""
    _Runtime.current("workflow.get_external_workflow_handle()")
    return ExternalWorkflowHandle(workflow_id, run_id)


def get_external_workflow_handle_for(
    workflow: Callable[Concatenate[SelfType, MultiParamSpec], Awaitable[Any]],
    workflow_id: str,
    *,
    run_id: Optional[str] = None,
) -> ExternalWorkflowHandle[SelfType]:
    """Typed form of :py:func:`get_external_workflow_handle` (``workflow`` is the target's ``@workflow.run``)."""
    WorkflowDefinition.must_name_from_fn_or_str(workflow)
    _Runtime.current("workflow.get_external_workflow_handle_for()")
    return ExternalWorkflowHandle(workflow_id, run_id)


def upsert_search_attributes(attributes: Mapping[str, Any]) -> None:
    """Upserts search attributes of this workflow.

    Values are lists or scalars, encoded as the client encodes them at start.
    :py:attr:`Info.search_attributes` of :py:func:`info` reflects the upsert
    (an empty list removes the key there). Not allowed in queries.
    """
    _Runtime.current("workflow.upsert_search_attributes()").workflow_upsert_search_attributes(attributes)


def upsert_memo(updates: Mapping[str, Any]) -> None:
    """Upserts memo entries of this workflow (values encoded with the payload converter).

    :py:func:`memo` reflects the upsert. Not allowed in queries.
    """
    _Runtime.current("workflow.upsert_memo()").workflow_upsert_memo(updates)


def patched(id: str) -> bool:
    """Whether to run the new code of patch ``id``: ``if workflow.patched("x"): new() else: old()``.

    True for runs that reach this point with the new code (a marker is
    recorded in history); when replaying a history made by the old code,
    False. The answer for an ID stays the same for the rest of the run.
    """
    return _Runtime.current("workflow.patched()").workflow_patch(id, deprecated=False)


def deprecate_patch(id: str) -> None:
    """Marks patch ``id`` as deprecated: the old code is gone, only the new remains.

    Histories recorded with or without the patch's marker both replay; once
    no run from before the patch is left, the call can be removed.
    """
    _Runtime.current("workflow.deprecate_patch()").workflow_patch(id, deprecated=True)


# ---------------------------------------------------------------------------
# Handlers added while the workflow runs
# ---------------------------------------------------------------------------


def set_signal_handler(name: str, handler: Optional[Callable[..., Any]]) -> None:
    """Sets (or with None removes) the handler of signal ``name``; buffered signals of that name are delivered."""
    _Runtime.current("workflow.set_signal_handler()").workflow_set_handler("signal", name, handler)


def get_signal_handler(name: str) -> Optional[Callable[..., Any]]:
    """The handler of signal ``name`` (a bound method for class handlers), or None."""
    return _Runtime.current("workflow.get_signal_handler()").workflow_get_handler("signal", name)


def set_dynamic_signal_handler(handler: Optional[Callable[..., Any]]) -> None:
    """Sets the catch-all signal handler ``handler(name, *args)``; buffered signals are delivered to it."""
    _Runtime.current("workflow.set_dynamic_signal_handler()").workflow_set_handler("signal", None, handler)


def get_dynamic_signal_handler() -> Optional[Callable[..., Any]]:
    """The catch-all signal handler, or None."""
    return _Runtime.current("workflow.get_dynamic_signal_handler()").workflow_get_handler("signal", None)


def set_query_handler(name: str, handler: Optional[Callable[..., Any]]) -> None:
    """Sets (or with None removes) the handler of query ``name``."""
    _Runtime.current("workflow.set_query_handler()").workflow_set_handler("query", name, handler)


def get_query_handler(name: str) -> Optional[Callable[..., Any]]:
    """The handler of query ``name``, or None."""
    return _Runtime.current("workflow.get_query_handler()").workflow_get_handler("query", name)


def set_dynamic_query_handler(handler: Optional[Callable[..., Any]]) -> None:
    """Sets the catch-all query handler ``handler(name, *args)``."""
    _Runtime.current("workflow.set_dynamic_query_handler()").workflow_set_handler("query", None, handler)


def get_dynamic_query_handler() -> Optional[Callable[..., Any]]:
    """The catch-all query handler, or None."""
    return _Runtime.current("workflow.get_dynamic_query_handler()").workflow_get_handler("query", None)


# ---------------------------------------------------------------------------
# Continue as new
# ---------------------------------------------------------------------------


class ContinueAsNewConfig(TypedDict, total=False):
    """Options of :py:func:`continue_as_new`."""

    task_queue: Optional[str]
    run_timeout: Optional[timedelta]
    task_timeout: Optional[timedelta]
    retry_policy: Optional[temporalio.common.RetryPolicy]
    memo: Optional[Mapping[str, Any]]
    search_attributes: Optional[Mapping[str, Any]]


@overload
def continue_as_new(
    *params: Any,
    arg: Any = temporalio.common._arg_unset,
    args: Sequence[Any] = (),
    task_queue: Optional[str] = None,
    run_timeout: Optional[timedelta] = None,
    task_timeout: Optional[timedelta] = None,
    backoff_start_interval: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    memo: Optional[Mapping[str, Any]] = None,
    search_attributes: Optional[Mapping[str, Any]] = None,
    versioning_intent: Optional[object] = None,
) -> NoReturn: ...


@overload
def continue_as_new(
    *,
    workflow: Callable[[SelfType], Awaitable[Any]],
    task_queue: Optional[str] = None,
    run_timeout: Optional[timedelta] = None,
    task_timeout: Optional[timedelta] = None,
    backoff_start_interval: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    memo: Optional[Mapping[str, Any]] = None,
    search_attributes: Optional[Mapping[str, Any]] = None,
    versioning_intent: Optional[object] = None,
) -> NoReturn: ...


@overload
def continue_as_new(
    arg: ParamType,
    /,
    *,
    workflow: Callable[[SelfType, ParamType], Awaitable[Any]],
    task_queue: Optional[str] = None,
    run_timeout: Optional[timedelta] = None,
    task_timeout: Optional[timedelta] = None,
    backoff_start_interval: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    memo: Optional[Mapping[str, Any]] = None,
    search_attributes: Optional[Mapping[str, Any]] = None,
    versioning_intent: Optional[object] = None,
) -> NoReturn: ...


@overload
def continue_as_new(
    *params: Any,
    workflow: str,
    arg: Any = temporalio.common._arg_unset,
    args: Sequence[Any] = (),
    task_queue: Optional[str] = None,
    run_timeout: Optional[timedelta] = None,
    task_timeout: Optional[timedelta] = None,
    backoff_start_interval: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    memo: Optional[Mapping[str, Any]] = None,
    search_attributes: Optional[Mapping[str, Any]] = None,
    versioning_intent: Optional[object] = None,
) -> NoReturn: ...


def continue_as_new(
    *params: Any,
    arg: Any = temporalio.common._arg_unset,
    args: Sequence[Any] = (),
    workflow: Union[None, Callable[..., Any], str] = None,
    task_queue: Optional[str] = None,
    run_timeout: Optional[timedelta] = None,
    task_timeout: Optional[timedelta] = None,
    backoff_start_interval: Optional[timedelta] = None,
    retry_policy: Optional[temporalio.common.RetryPolicy] = None,
    memo: Optional[Mapping[str, Any]] = None,
    search_attributes: Optional[Mapping[str, Any]] = None,
    versioning_intent: Optional[object] = None,
) -> NoReturn:
    """Ends this run and starts a new run of the workflow (same id) with new arguments.

    Never returns: it raises :py:class:`ContinueAsNewError`, which must not
    be caught. ``workflow`` (a run method or a type name) continues as
    another workflow type; by default the same one. ``backoff_start_interval``
    delays the new run's first workflow task by that much.
    """
    del versioning_intent
    runtime = _Runtime.current("workflow.continue_as_new()")
    runtime.workflow_continue_as_new(
        _call_args(params, arg, args),
        workflow=workflow,
        task_queue=task_queue,
        run_timeout=run_timeout,
        task_timeout=task_timeout,
        backoff_start_interval=backoff_start_interval,
        retry_policy=retry_policy,
        memo=memo,
        search_attributes=search_attributes,
    )
