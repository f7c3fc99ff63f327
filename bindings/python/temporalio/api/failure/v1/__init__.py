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

from temporalio.api.common.v1 import (
    DecodeError,
    Payload,
    Payloads,
    _decode_utf8,
    _expect_bytes,
    _iter_fields,
    _len_field,
    _MessageBase,
    _tag,
    _varint,
    _WireMessage,
)

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
class Failure(_WireMessage):
    """Language-neutral error description, optionally chained via ``cause``.

    Supports the binary protobuf wire format (``SerializeToString``,
    ``FromString``), so a failure built here can be handed to anything that
    takes a serialized ``temporal.api.failure.v1.Failure``. Nexus failure
    infos are not mirrored: they are skipped when parsing.
    """

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


    def SerializeToString(self, *, deterministic: bool = False) -> bytes:
        """Encode the failure (and its causes) in protobuf binary wire format."""
        return _encode_failure(self, deterministic)

    def _parse_into(self, data: bytes) -> None:
        _decode_failure_into(self, data)


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


# ---------------------------------------------------------------------------
# Wire format (field numbers of temporal/api/failure/v1/message.proto)
# ---------------------------------------------------------------------------


def _w_str(number: int, value: str) -> bytes:
    return _len_field(number, value.encode("utf-8")) if value else b""


def _w_int(number: int, value: int) -> bytes:
    return _tag(number, 0) + _varint(int(value)) if value else b""


def _w_bool(number: int, value: bool) -> bytes:
    return _tag(number, 0) + b"\x01" if value else b""


def _w_payloads(number: int, value: Payloads | None, deterministic: bool) -> bytes:
    if value is None:
        return b""
    return _len_field(number, value.SerializeToString(deterministic=deterministic))


def _w_duration(number: int, value: timedelta | None) -> bytes:
    if value is None:
        return b""
    seconds = value.days * 86400 + value.seconds
    return _len_field(number, _w_int(1, seconds) + _w_int(2, value.microseconds * 1000))


def _w_name(number: int, name: str) -> bytes:
    # ActivityType / WorkflowType: a message holding just ``name`` (field 1).
    return _len_field(number, _w_str(1, name)) if name else b""


def _encode_info(failure: Failure, deterministic: bool) -> bytes:
    if (app := failure.application_failure_info) is not None:
        body = (
            _w_str(1, app.type)
            + _w_bool(2, app.non_retryable)
            + _w_payloads(3, app.details, deterministic)
            + _w_duration(4, app.next_retry_delay)
            + _w_int(5, app.category)
        )
        return _len_field(5, body)
    if (timeout := failure.timeout_failure_info) is not None:
        body = _w_int(1, timeout.timeout_type) + _w_payloads(
            2, timeout.last_heartbeat_details, deterministic
        )
        return _len_field(6, body)
    if (cancel := failure.canceled_failure_info) is not None:
        return _len_field(7, _w_payloads(1, cancel.details, deterministic) + _w_str(2, cancel.identity))
    if (term := failure.terminated_failure_info) is not None:
        return _len_field(8, _w_str(1, term.identity))
    if (server := failure.server_failure_info) is not None:
        return _len_field(9, _w_bool(1, server.non_retryable))
    if (reset := failure.reset_workflow_failure_info) is not None:
        return _len_field(10, _w_payloads(1, reset.last_heartbeat_details, deterministic))
    if (act := failure.activity_failure_info) is not None:
        body = (
            _w_int(1, act.scheduled_event_id)
            + _w_int(2, act.started_event_id)
            + _w_str(3, act.identity)
            + _w_name(4, act.activity_type)
            + _w_str(5, act.activity_id)
            + _w_int(6, act.retry_state)
        )
        return _len_field(11, body)
    if (child := failure.child_workflow_execution_failure_info) is not None:
        execution = _w_str(1, child.workflow_id) + _w_str(2, child.run_id)
        body = (
            _w_str(1, child.namespace)
            + (_len_field(2, execution) if execution else b"")
            + _w_name(3, child.workflow_type)
            + _w_int(4, child.initiated_event_id)
            + _w_int(5, child.started_event_id)
            + _w_int(6, child.retry_state)
        )
        return _len_field(12, body)
    return b""


def _encode_failure(failure: Failure, deterministic: bool) -> bytes:
    out = _w_str(1, failure.message) + _w_str(2, failure.source) + _w_str(3, failure.stack_trace)
    if failure.cause is not None:
        out += _len_field(4, _encode_failure(failure.cause, deterministic))
    out += _encode_info(failure, deterministic)
    if failure.encoded_attributes is not None:
        out += _len_field(20, failure.encoded_attributes.SerializeToString(deterministic=deterministic))
    return out


def _r_int(value: int | bytes, what: str) -> int:
    if not isinstance(value, int):
        raise DecodeError(f"{what} has the wrong wire type")
    return value - (1 << 64) if value >= 1 << 63 else value


def _r_str(value: int | bytes, what: str) -> str:
    return _decode_utf8(_expect_bytes(value, what), what)


def _r_payloads(value: int | bytes, what: str) -> Payloads:
    return Payloads.FromString(_expect_bytes(value, what))


def _r_duration(value: int | bytes) -> timedelta:
    seconds = nanos = 0
    for number, _wt, v, _raw in _iter_fields(_expect_bytes(value, "Duration")):
        if number == 1:
            seconds = _r_int(v, "Duration.seconds")
        elif number == 2:
            nanos = _r_int(v, "Duration.nanos")
    return timedelta(seconds=seconds, microseconds=nanos // 1000)


def _r_name(value: int | bytes, what: str) -> str:
    name = ""
    for number, _wt, v, _raw in _iter_fields(_expect_bytes(value, what)):
        if number == 1:
            name = _r_str(v, what + ".name")
    return name


def _fields(value: int | bytes, what: str) -> list[tuple[int, int | bytes]]:
    return [(n, v) for n, _wt, v, _raw in _iter_fields(_expect_bytes(value, what))]


def _decode_info(number: int, value: int | bytes) -> FailureInfo | None:
    if number == 5:
        app = ApplicationFailureInfo()
        for n, v in _fields(value, "ApplicationFailureInfo"):
            if n == 1:
                app.type = _r_str(v, "ApplicationFailureInfo.type")
            elif n == 2:
                app.non_retryable = bool(_r_int(v, "ApplicationFailureInfo.non_retryable"))
            elif n == 3:
                app.details = _r_payloads(v, "ApplicationFailureInfo.details")
            elif n == 4:
                app.next_retry_delay = _r_duration(v)
            elif n == 5:
                app.category = _r_int(v, "ApplicationFailureInfo.category")
        return app
    if number == 6:
        timeout = TimeoutFailureInfo()
        for n, v in _fields(value, "TimeoutFailureInfo"):
            if n == 1:
                timeout.timeout_type = _r_int(v, "TimeoutFailureInfo.timeout_type")
            elif n == 2:
                timeout.last_heartbeat_details = _r_payloads(v, "TimeoutFailureInfo.last_heartbeat_details")
        return timeout
    if number == 7:
        cancel = CanceledFailureInfo()
        for n, v in _fields(value, "CanceledFailureInfo"):
            if n == 1:
                cancel.details = _r_payloads(v, "CanceledFailureInfo.details")
            elif n == 2:
                cancel.identity = _r_str(v, "CanceledFailureInfo.identity")
        return cancel
    if number == 8:
        term = TerminatedFailureInfo()
        for n, v in _fields(value, "TerminatedFailureInfo"):
            if n == 1:
                term.identity = _r_str(v, "TerminatedFailureInfo.identity")
        return term
    if number == 9:
        server = ServerFailureInfo()
        for n, v in _fields(value, "ServerFailureInfo"):
            if n == 1:
                server.non_retryable = bool(_r_int(v, "ServerFailureInfo.non_retryable"))
        return server
    if number == 10:
        reset = ResetWorkflowFailureInfo()
        for n, v in _fields(value, "ResetWorkflowFailureInfo"):
            if n == 1:
                reset.last_heartbeat_details = _r_payloads(v, "ResetWorkflowFailureInfo.last_heartbeat_details")
        return reset
    if number == 11:
        act = ActivityFailureInfo()
        for n, v in _fields(value, "ActivityFailureInfo"):
            if n == 1:
                act.scheduled_event_id = _r_int(v, "ActivityFailureInfo.scheduled_event_id")
            elif n == 2:
                act.started_event_id = _r_int(v, "ActivityFailureInfo.started_event_id")
            elif n == 3:
                act.identity = _r_str(v, "ActivityFailureInfo.identity")
            elif n == 4:
                act.activity_type = _r_name(v, "ActivityFailureInfo.activity_type")
            elif n == 5:
                act.activity_id = _r_str(v, "ActivityFailureInfo.activity_id")
            elif n == 6:
                act.retry_state = _r_int(v, "ActivityFailureInfo.retry_state")
        return act
    if number == 12:
        child = ChildWorkflowExecutionFailureInfo()
        for n, v in _fields(value, "ChildWorkflowExecutionFailureInfo"):
            if n == 1:
                child.namespace = _r_str(v, "ChildWorkflowExecutionFailureInfo.namespace")
            elif n == 2:
                for en, ev in _fields(v, "WorkflowExecution"):
                    if en == 1:
                        child.workflow_id = _r_str(ev, "WorkflowExecution.workflow_id")
                    elif en == 2:
                        child.run_id = _r_str(ev, "WorkflowExecution.run_id")
            elif n == 3:
                child.workflow_type = _r_name(v, "ChildWorkflowExecutionFailureInfo.workflow_type")
            elif n == 4:
                child.initiated_event_id = _r_int(v, "ChildWorkflowExecutionFailureInfo.initiated_event_id")
            elif n == 5:
                child.started_event_id = _r_int(v, "ChildWorkflowExecutionFailureInfo.started_event_id")
            elif n == 6:
                child.retry_state = _r_int(v, "ChildWorkflowExecutionFailureInfo.retry_state")
        return child
    return None


def _decode_failure_into(failure: Failure, data: bytes) -> None:
    for number, _wt, value, _raw in _iter_fields(data):
        if number == 1:
            failure.message = _r_str(value, "Failure.message")
        elif number == 2:
            failure.source = _r_str(value, "Failure.source")
        elif number == 3:
            failure.stack_trace = _r_str(value, "Failure.stack_trace")
        elif number == 4:
            failure.cause = Failure.FromString(_expect_bytes(value, "Failure.cause"))
        elif number == 20:
            failure.encoded_attributes = Payload.FromString(_expect_bytes(value, "Failure.encoded_attributes"))
        elif 5 <= number <= 12:
            failure.set_failure_info(_decode_info(number, value))
