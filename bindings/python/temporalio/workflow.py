"""Workflow definitions: ``@workflow.defn``, ``@workflow.run``, ``@workflow.signal``, ``@workflow.query``.

This module holds the decorators and the definitions they record, which the
client uses to name workflows, signals and queries from typed method
references. The in-workflow API (activities, timers, cancellation scopes,
the deterministic event loop) builds on these definitions.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Optional, TypeVar, Union, overload

__all__ = [
    "defn",
    "run",
    "signal",
    "query",
    "WorkflowDefinition",
    "SignalDefinition",
    "QueryDefinition",
]

ClassType = TypeVar("ClassType", bound=type)
CallableType = TypeVar("CallableType", bound=Callable[..., Any])
CallableAsyncType = TypeVar("CallableAsyncType", bound=Callable[..., Awaitable[Any]])
CallableSyncOrAsyncType = TypeVar("CallableSyncOrAsyncType", bound=Callable[..., Any])

_DEFN_ATTR = "__temporal_workflow_definition"
_RUN_ATTR = "__temporal_workflow_run"
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
def defn(*, name: Optional[str] = None, sandboxed: bool = True) -> Callable[[ClassType], ClassType]: ...


@overload
def defn(*, dynamic: bool = False, sandboxed: bool = True) -> Callable[[ClassType], ClassType]: ...


def defn(
    cls: Optional[ClassType] = None,
    *,
    name: Optional[str] = None,
    dynamic: bool = False,
    sandboxed: bool = True,
) -> Any:
    """Marks a class as a workflow. ``name`` defaults to the class name; ``dynamic`` makes it the catch-all."""
    del sandboxed  # accepted for compatibility; the runner decides isolation

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
        definition = WorkflowDefinition(
            name=None if dynamic else (name or c.__name__),
            cls=c,
            run_fn=run_fn,
            signals=signals,
            queries=queries,
            dynamic=dynamic,
        )
        setattr(c, _DEFN_ATTR, definition)
        setattr(run_fn, _DEFN_ATTR, definition)
        return c

    return decorate(cls) if cls is not None else decorate


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
