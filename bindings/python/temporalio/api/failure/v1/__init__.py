"""Plain-Python stand-ins for the ``temporal.api.failure.v1`` protobuf messages.

A :py:class:`Failure` is the language-neutral description of an error that
Temporal stores in history and passes between SDKs.  Exactly one of the
``*_failure_info`` attributes is normally set; it says which kind of error
the failure describes (see :py:meth:`Failure.WhichOneof`).

Some nested protobuf messages are flattened to keep the mirror small: the
activity and workflow *type* messages are represented by their name string
and the child workflow's execution by its ``workflow_id``/``run_id`` pair.
``google.protobuf.Duration`` fields are :py:class:`datetime.timedelta`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import ClassVar, Literal, Union

from temporalio.api.common.v1 import Payload, Payloads, _MessageBase

__all__ = [
    "ActivityFailureInfo",
    "ApplicationFailureInfo",
    "CanceledFailureInfo",
    "ChildWorkflowExecutionFailureInfo",
    "Failure",
    "FailureInfo",
    "FAILURE_INFO_FIELDS",
    "ResetWorkflowFailureInfo",
    "ServerFailureInfo",
    "TerminatedFailureInfo",
    "TimeoutFailureInfo",
]


@dataclass
class ApplicationFailureInfo(_MessageBase):
    """Details of an error raised by user workflow or activity code."""

    _message_fields: ClassVar[frozenset[str]] = frozenset(
        {"details", "next_retry_delay"}
    )

    type: str = ""
    non_retryable: bool = False
    details: Payloads | None = None
    next_retry_delay: timedelta | None = None
    category: int = 0
    """``temporal.api.enums.v1.ApplicationErrorCategory`` value."""


@dataclass
class TimeoutFailureInfo(_MessageBase):
    """Details of a timeout."""

    _message_fields: ClassVar[frozenset[str]] = frozenset({"last_heartbeat_details"})

    timeout_type: int = 0
    """``temporal.api.enums.v1.TimeoutType`` value."""
    last_heartbeat_details: Payloads | None = None


@dataclass
class CanceledFailureInfo(_MessageBase):
    """Details of a cancellation."""

    _message_fields: ClassVar[frozenset[str]] = frozenset({"details"})

    details: Payloads | None = None
    identity: str = ""


@dataclass
class TerminatedFailureInfo(_MessageBase):
    """Marker for a terminated workflow."""

    identity: str = ""


@dataclass
class ServerFailureInfo(_MessageBase):
    """Details of an error produced by the server."""

    non_retryable: bool = False


@dataclass
class ResetWorkflowFailureInfo(_MessageBase):
    """Details of a workflow reset."""

    _message_fields: ClassVar[frozenset[str]] = frozenset({"last_heartbeat_details"})

    last_heartbeat_details: Payloads | None = None


@dataclass
class ActivityFailureInfo(_MessageBase):
    """Wrapper details added when an activity fails; the cause has the reason."""

    scheduled_event_id: int = 0
    started_event_id: int = 0
    identity: str = ""
    activity_type: str = ""
    activity_id: str = ""
    retry_state: int = 0
    """``temporal.api.enums.v1.RetryState`` value."""


@dataclass
class ChildWorkflowExecutionFailureInfo(_MessageBase):
    """Wrapper details added when a child workflow fails."""

    namespace: str = ""
    workflow_id: str = ""
    run_id: str = ""
    workflow_type: str = ""
    initiated_event_id: int = 0
    started_event_id: int = 0
    retry_state: int = 0
    """``temporal.api.enums.v1.RetryState`` value."""


FailureInfo = Union[
    ApplicationFailureInfo,
    TimeoutFailureInfo,
    CanceledFailureInfo,
    TerminatedFailureInfo,
    ServerFailureInfo,
    ResetWorkflowFailureInfo,
    ActivityFailureInfo,
    ChildWorkflowExecutionFailureInfo,
]
"""Any of the ``*_failure_info`` message types."""

FAILURE_INFO_FIELDS: tuple[str, ...] = (
    "application_failure_info",
    "timeout_failure_info",
    "canceled_failure_info",
    "terminated_failure_info",
    "server_failure_info",
    "reset_workflow_failure_info",
    "activity_failure_info",
    "child_workflow_execution_failure_info",
)
"""Names of the members of the ``failure_info`` oneof, in proto field order."""


@dataclass
class Failure(_MessageBase):
    """Language-neutral error description, optionally chained via ``cause``."""

    _message_fields: ClassVar[frozenset[str]] = frozenset(
        {"encoded_attributes", "cause", *FAILURE_INFO_FIELDS}
    )

    message: str = ""
    source: str = ""
    stack_trace: str = ""
    encoded_attributes: Payload | None = None
    cause: Failure | None = None
    application_failure_info: ApplicationFailureInfo | None = None
    timeout_failure_info: TimeoutFailureInfo | None = None
    canceled_failure_info: CanceledFailureInfo | None = None
    terminated_failure_info: TerminatedFailureInfo | None = None
    server_failure_info: ServerFailureInfo | None = None
    reset_workflow_failure_info: ResetWorkflowFailureInfo | None = None
    activity_failure_info: ActivityFailureInfo | None = None
    child_workflow_execution_failure_info: (
        ChildWorkflowExecutionFailureInfo | None
    ) = None

    def WhichOneof(self, oneof_group: Literal["failure_info"]) -> str | None:
        """Name of the ``failure_info`` member that is set, or ``None``.

        If (contrary to protobuf oneof rules) several are set, the first in
        proto field order wins.
        """
        if oneof_group != "failure_info":
            raise ValueError(f"Failure has no oneof named {oneof_group!r}")
        for name in FAILURE_INFO_FIELDS:
            if getattr(self, name) is not None:
                return name
        return None

    @property
    def failure_info(self) -> FailureInfo | None:
        """The set ``failure_info`` member object, or ``None``."""
        name = self.WhichOneof("failure_info")
        if name is None:
            return None
        info: FailureInfo = getattr(self, name)
        return info

    def set_failure_info(self, info: FailureInfo | None) -> None:
        """Set the ``failure_info`` oneof, clearing the other members."""
        for name in FAILURE_INFO_FIELDS:
            setattr(self, name, None)
        if info is None:
            return
        field_name = _INFO_FIELD_BY_TYPE.get(type(info))
        if field_name is None:
            raise TypeError(f"{type(info).__name__} is not a failure info type")
        setattr(self, field_name, info)


_INFO_FIELD_BY_TYPE: dict[type, str] = {
    ApplicationFailureInfo: "application_failure_info",
    TimeoutFailureInfo: "timeout_failure_info",
    CanceledFailureInfo: "canceled_failure_info",
    TerminatedFailureInfo: "terminated_failure_info",
    ServerFailureInfo: "server_failure_info",
    ResetWorkflowFailureInfo: "reset_workflow_failure_info",
    ActivityFailureInfo: "activity_failure_info",
    ChildWorkflowExecutionFailureInfo: "child_workflow_execution_failure_info",
}
