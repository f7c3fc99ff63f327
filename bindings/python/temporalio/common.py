"""Types shared across the client, worker, workflow and activity APIs."""

from __future__ import annotations

import inspect
import types
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Any, ClassVar, TypeAlias, TypeVar, get_type_hints

import temporalio.api.common.v1

__all__ = [
    "Priority",
    "QueryRejectCondition",
    "RawValue",
    "RetryPolicy",
    "SearchAttributeValue",
    "SearchAttributeValueType",
    "SearchAttributeValues",
    "SearchAttributes",
    "WorkflowIDConflictPolicy",
    "WorkflowIDReusePolicy",
]


@dataclass
class RetryPolicy:
    """How failed workflows and activities are retried.

    Delay before retry ``n`` (1-based) is
    ``initial_interval * backoff_coefficient ** (n - 1)``, capped at
    ``maximum_interval``.
    """

    initial_interval: timedelta = timedelta(seconds=1)
    """Delay before the first retry."""

    backoff_coefficient: float = 2.0
    """Factor applied to the delay after each retry; must be at least 1."""

    maximum_interval: timedelta | None = None
    """Upper bound for the delay. ``None`` means 100 times
    :py:attr:`initial_interval`."""

    maximum_attempts: int = 0
    """Total number of attempts allowed, including the first; 0 is unlimited
    and 1 disables retrying."""

    non_retryable_error_types: Sequence[str] | None = None
    """Application error type names that are never retried."""

    def _validate(self) -> None:
        """Raise :py:class:`ValueError` describing the first invalid setting."""
        if not isinstance(self.maximum_attempts, int) or isinstance(
            self.maximum_attempts, bool
        ):
            raise ValueError(
                "RetryPolicy.maximum_attempts must be an int, got "
                f"{type(self.maximum_attempts).__name__}"
            )
        if self.maximum_attempts < 0:
            raise ValueError(
                "RetryPolicy.maximum_attempts cannot be negative "
                f"(got {self.maximum_attempts}); use 0 for unlimited attempts"
            )
        if isinstance(self.non_retryable_error_types, str):
            raise ValueError(
                "RetryPolicy.non_retryable_error_types must be a sequence of "
                "error type names, not a single string"
            )
        if self.maximum_attempts == 1:
            # Retrying is disabled, so the backoff settings are irrelevant.
            return
        if not isinstance(self.initial_interval, timedelta):
            raise ValueError(
                "RetryPolicy.initial_interval must be a timedelta, got "
                f"{type(self.initial_interval).__name__}"
            )
        if self.initial_interval < timedelta(0):
            raise ValueError(
                "RetryPolicy.initial_interval cannot be negative "
                f"(got {self.initial_interval})"
            )
        if self.backoff_coefficient < 1:
            raise ValueError(
                "RetryPolicy.backoff_coefficient cannot be less than 1 "
                f"(got {self.backoff_coefficient})"
            )
        if self.maximum_interval is not None:
            if not isinstance(self.maximum_interval, timedelta):
                raise ValueError(
                    "RetryPolicy.maximum_interval must be a timedelta or None, "
                    f"got {type(self.maximum_interval).__name__}"
                )
            if self.maximum_interval < timedelta(0):
                raise ValueError(
                    "RetryPolicy.maximum_interval cannot be negative "
                    f"(got {self.maximum_interval})"
                )
            if self.maximum_interval < self.initial_interval:
                raise ValueError(
                    "RetryPolicy.maximum_interval cannot be less than "
                    f"initial_interval (got {self.maximum_interval} < "
                    f"{self.initial_interval})"
                )

    def _effective_maximum_interval(self) -> timedelta:
        """Maximum interval with the "100x initial interval" default applied."""
        if self.maximum_interval:
            return self.maximum_interval
        return self.initial_interval * 100


@dataclass(frozen=True)
class Priority:
    """How the server orders a workflow's or an activity's tasks when a task queue has a backlog.

    Given to ``Client.start_workflow``, ``workflow.start_activity`` and
    ``workflow.start_child_workflow``; read back as ``workflow.info().priority``.
    A field left ``None`` is inherited from the workflow that starts the
    activity or child, else the server's default applies.
    """

    priority_key: int | None = None
    """1 is the most urgent; larger keys wait behind smaller ones. The server's maximum is 5 by default,
    and an unset key counts as the middle of the range (3)."""

    fairness_key: str | None = None
    """A key (a tenant, say; at most 64 bytes) whose tasks share dispatch with other keys' in proportion
    to their weights."""

    fairness_weight: float | None = None
    """The weight of ``fairness_key`` (positive; the server clamps it to 0.001..1000; default 1.0)."""

    default: ClassVar[Priority]
    """The priority with every field unset."""

    def __post_init__(self) -> None:
        if self.priority_key is not None:
            if not isinstance(self.priority_key, int):
                raise TypeError("priority_key must be an integer")
            if self.priority_key < 1:
                raise ValueError("priority_key must be a positive integer")


Priority.default = Priority()


class WorkflowIDReusePolicy(IntEnum):
    """Whether a workflow ID may be reused after a previous run with it closed.

    Values match ``temporal.api.enums.v1.WorkflowIdReusePolicy``.
    """

    ALLOW_DUPLICATE = 1
    ALLOW_DUPLICATE_FAILED_ONLY = 2
    REJECT_DUPLICATE = 3
    TERMINATE_IF_RUNNING = 4
    """Deprecated upstream: prefer ``ALLOW_DUPLICATE`` together with
    :py:attr:`WorkflowIDConflictPolicy.TERMINATE_EXISTING`."""


class WorkflowIDConflictPolicy(IntEnum):
    """What to do when starting a workflow whose ID is already running.

    Values match ``temporal.api.enums.v1.WorkflowIdConflictPolicy``.
    """

    UNSPECIFIED = 0
    FAIL = 1
    USE_EXISTING = 2
    TERMINATE_EXISTING = 3


class QueryRejectCondition(IntEnum):
    """When the server should refuse to run a query.

    Values match ``temporal.api.enums.v1.QueryRejectCondition``.
    """

    NONE = 1
    NOT_OPEN = 2
    NOT_COMPLETED_CLEANLY = 3


@dataclass(frozen=True)
class RawValue:
    """A payload that the data converter passes through untouched.

    Use it as an argument, return value or type hint to send or receive the
    raw :py:class:`temporalio.api.common.v1.Payload` (the payload codec is
    still applied).
    """

    payload: temporalio.api.common.v1.Payload

    def __getstate__(self) -> object:
        # Version prefix, then the payload in protobuf wire format.
        return b"1" + self.payload.SerializeToString()

    def __setstate__(self, state: object) -> None:
        if not isinstance(state, bytes):
            raise TypeError(f"RawValue state must be bytes, got {type(state).__name__}")
        if state[:1] != b"1":
            raise ValueError("Unsupported RawValue pickle version")
        object.__setattr__(
            self, "payload", temporalio.api.common.v1.Payload.FromString(state[1:])
        )


# Lists (not arbitrary sequences) on purpose: a bare ``str`` is a sequence too
# and passing one by accident would otherwise go unnoticed.
SearchAttributeValues: TypeAlias = (
    list[str] | list[int] | list[float] | list[bool] | list[datetime]
)
"""Values of one untyped search attribute."""

SearchAttributes: TypeAlias = Mapping[str, SearchAttributeValues]
"""Untyped search attributes: name to list of values."""

SearchAttributeValue: TypeAlias = str | int | float | bool | datetime | Sequence[str]
"""A single typed search attribute value."""

SearchAttributeValueType = TypeVar(
    "SearchAttributeValueType", str, int, float, bool, datetime, Sequence[str]
)


# Sentinel for "argument not given" where ``None`` is a legitimate value.
_arg_unset: Any = object()


def _arg_or_args(arg: Any, args: Sequence[Any]) -> Sequence[Any]:
    """Merge a single ``arg`` parameter and an ``args`` parameter into one list."""
    if arg is not _arg_unset:
        if args:
            raise ValueError("Cannot have arg and args")
        return [arg]
    return args


_builtin_callable_types: tuple[type, ...] = (
    types.WrapperDescriptorType,
    types.MethodWrapperType,
    types.ClassMethodDescriptorType,
    types.BuiltinFunctionType,
)


_hints_cache: "weakref.WeakKeyDictionary[Callable[..., Any], tuple[list[type] | None, type | None]]" = (
    weakref.WeakKeyDictionary()
)


def _type_hints_from_func(
    func: Callable[..., Any],
) -> tuple[list[type] | None, type | None]:
    """Positional parameter hints and return hint of ``func``.

    The parameter list is ``None`` when any parameter is not positional or
    lacks an annotation.  A leading unannotated ``self`` is skipped.
    Plain functions (activities, workflow methods) are looked at once: the
    answer is kept for as long as the function lives.
    """
    if not inspect.isfunction(func):
        return _read_type_hints(func)
    got = _hints_cache.get(func)
    if got is None:
        got = _hints_cache[func] = _read_type_hints(func)
    params, ret = got
    return (list(params) if params is not None else None), ret


def _read_type_hints(
    func: Callable[..., Any],
) -> tuple[list[type] | None, type | None]:
    target: Any = func
    if (
        not inspect.isfunction(target)
        and not isinstance(target, _builtin_callable_types)
        and not isinstance(target, types.MethodType)
    ):
        # A class or a callable instance: look at its ``__call__``.
        owner = target if isinstance(target, type) else type(target)
        call = getattr(owner, "__call__", None)
        if call is not None and not isinstance(owner, _builtin_callable_types):
            target = call
    sig = inspect.signature(target)
    try:
        hints = get_type_hints(target)
    except Exception:
        hints = {}
    ret_hint = hints.get("return")
    ret: type | None = ret_hint if ret_hint is not inspect.Signature.empty else None
    params: list[type] = []
    for index, param in enumerate(sig.parameters.values()):
        if (
            index == 0
            and param.name == "self"
            and (
                param.annotation is inspect.Parameter.empty
                or str(param.annotation) == "typing.Self"
            )
        ):
            continue
        if param.kind not in (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        ):
            return None, ret
        hint = hints.get(param.name, inspect.Parameter.empty)
        if hint is inspect.Parameter.empty:
            return None, ret
        params.append(hint)
    return params, ret
