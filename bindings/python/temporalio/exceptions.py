"""Exceptions raised by the Temporal SDK.

The :py:class:`FailureError` hierarchy corresponds one-to-one with the kinds of
:py:class:`temporalio.api.failure.v1.Failure`; the data converter translates
between them.  When an exception is built from a failure, the failure's
``cause`` chain becomes the exception's ``__cause__`` chain.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from enum import IntEnum
from typing import Any

import temporalio.api.common.v1
import temporalio.api.failure.v1

__all__ = [
    "ActivityError",
    "ApplicationError",
    "ApplicationErrorCategory",
    "CancelledError",
    "ChildWorkflowError",
    "FailureError",
    "RPCError",
    "RPCStatusCode",
    "RPCTimeoutOrCancelledError",
    "RetryState",
    "ServerError",
    "TemporalError",
    "TerminatedError",
    "TimeoutError",
    "TimeoutType",
    "WorkflowAlreadyStartedError",
    "WorkflowContinuedAsNewError",
    "WorkflowFailureError",
    "WorkflowQueryFailedError",
    "WorkflowQueryRejectedError",
    "WorkflowUpdateFailedError",
    "is_cancelled_exception",
]


class TemporalError(Exception):
    """Root of every exception defined by this SDK."""

    @property
    def cause(self) -> BaseException | None:
        """The exception this one was raised from (``__cause__``)."""
        return self.__cause__


class FailureError(TemporalError):
    """An error that travels through Temporal as a ``Failure``.

    ``failure`` is set when the error was decoded from a failure (and is then
    reused verbatim if the error is converted back).
    """

    def __init__(
        self,
        message: str,
        *,
        failure: temporalio.api.failure.v1.Failure | None = None,
        exc_args: tuple[Any, ...] | None = None,
    ) -> None:
        """Create the error; ``exc_args`` overrides ``Exception.args``."""
        super().__init__(*(exc_args if exc_args is not None else (message,)))
        self._message = message
        self._failure = failure

    @property
    def message(self) -> str:
        """Error message (without any type prefix)."""
        return self._message

    @property
    def failure(self) -> temporalio.api.failure.v1.Failure | None:
        """The failure this error was decoded from, if any."""
        return self._failure


class WorkflowAlreadyStartedError(FailureError):
    """Starting a workflow failed because its ID is already in use.

    Attributes:
        workflow_id: The conflicting workflow ID.
        workflow_type: Workflow type that was being started.
        run_id: Run ID of the existing execution, when known.
    """

    def __init__(
        self, workflow_id: str, workflow_type: str, *, run_id: str | None = None
    ) -> None:
        """Create the error."""
        super().__init__("Workflow execution already started")
        self.workflow_id = workflow_id
        self.workflow_type = workflow_type
        self.run_id = run_id


class ApplicationErrorCategory(IntEnum):
    """How severe an application error is, for logging and metrics.

    Values match ``temporal.api.enums.v1.ApplicationErrorCategory``.
    """

    UNSPECIFIED = 0
    BENIGN = 1
    """Expected error: logged at DEBUG and not counted in failure metrics."""


class ApplicationError(FailureError):
    """Error raised by user code, carrying optional details.

    ``str()`` of the error is ``"<type>: <message>"`` when a type is given.
    """

    def __init__(
        self,
        message: str,
        *details: Any,
        type: str | None = None,
        non_retryable: bool = False,
        next_retry_delay: timedelta | None = None,
        category: ApplicationErrorCategory = ApplicationErrorCategory.UNSPECIFIED,
    ) -> None:
        """Create the error; ``details`` are converted with the payload converter."""
        super().__init__(
            message, exc_args=(f"{type}: {message}" if type else message,)
        )
        self._details = details
        self._type = type
        self._non_retryable = non_retryable
        self._next_retry_delay = next_retry_delay
        self._category = category

    @property
    def details(self) -> Sequence[Any]:
        """Extra values attached to the error."""
        return self._details

    @property
    def type(self) -> str | None:
        """Application-defined error type name."""
        return self._type

    @property
    def non_retryable(self) -> bool:
        """Whether the raiser marked this error as never retryable.

        A retry policy can still make an error non-retryable by type; that is
        not reflected here.
        """
        return self._non_retryable

    @property
    def next_retry_delay(self) -> timedelta | None:
        """Delay to use before the next activity retry, overriding backoff."""
        return self._next_retry_delay

    @property
    def category(self) -> ApplicationErrorCategory:
        """Severity category."""
        return self._category


class CancelledError(FailureError):
    """A workflow, activity or child workflow was cancelled."""

    def __init__(self, message: str = "Cancelled", *details: Any) -> None:
        """Create the error."""
        super().__init__(message)
        self._details = details

    @property
    def details(self) -> Sequence[Any]:
        """Extra values attached to the cancellation."""
        return self._details


class TerminatedError(FailureError):
    """A workflow was terminated."""

    def __init__(self, message: str, *details: Any) -> None:
        """Create the error."""
        super().__init__(message)
        self._details = details

    @property
    def details(self) -> Sequence[Any]:
        """Extra values attached to the termination."""
        return self._details


class TimeoutType(IntEnum):
    """Which timeout fired. Values match ``temporal.api.enums.v1.TimeoutType``."""

    START_TO_CLOSE = 1
    SCHEDULE_TO_START = 2
    SCHEDULE_TO_CLOSE = 3
    HEARTBEAT = 4


class TimeoutError(FailureError):
    """A workflow or activity timed out."""

    def __init__(
        self,
        message: str,
        *,
        type: TimeoutType | None,
        last_heartbeat_details: Sequence[Any],
    ) -> None:
        """Create the error."""
        super().__init__(message)
        self._type = type
        self._last_heartbeat_details = last_heartbeat_details

    @property
    def type(self) -> TimeoutType | None:
        """Which timeout fired, if known."""
        return self._type

    @property
    def last_heartbeat_details(self) -> Sequence[Any]:
        """Details from the last heartbeat before a heartbeat timeout."""
        return self._last_heartbeat_details


class ServerError(FailureError):
    """An error produced by the Temporal server itself."""

    def __init__(self, message: str, *, non_retryable: bool = False) -> None:
        """Create the error."""
        super().__init__(message)
        self._non_retryable = non_retryable

    @property
    def non_retryable(self) -> bool:
        """Whether the server marked the error as non-retryable."""
        return self._non_retryable


class RetryState(IntEnum):
    """Why retrying stopped. Values match ``temporal.api.enums.v1.RetryState``."""

    IN_PROGRESS = 1
    NON_RETRYABLE_FAILURE = 2
    TIMEOUT = 3
    MAXIMUM_ATTEMPTS_REACHED = 4
    RETRY_POLICY_NOT_SET = 5
    INTERNAL_SERVER_ERROR = 6
    CANCEL_REQUESTED = 7


class ActivityError(FailureError):
    """An activity called from a workflow failed; ``cause`` says why."""

    def __init__(
        self,
        message: str,
        *,
        scheduled_event_id: int,
        started_event_id: int,
        identity: str,
        activity_type: str,
        activity_id: str,
        retry_state: RetryState | None,
    ) -> None:
        """Create the error."""
        super().__init__(message)
        self._scheduled_event_id = scheduled_event_id
        self._started_event_id = started_event_id
        self._identity = identity
        self._activity_type = activity_type
        self._activity_id = activity_id
        self._retry_state = retry_state

    @property
    def scheduled_event_id(self) -> int:
        """History event ID of the activity's scheduling."""
        return self._scheduled_event_id

    @property
    def started_event_id(self) -> int:
        """History event ID of the activity's last start."""
        return self._started_event_id

    @property
    def identity(self) -> str:
        """Identity of the worker that ran the last attempt."""
        return self._identity

    @property
    def activity_type(self) -> str:
        """Activity type name."""
        return self._activity_type

    @property
    def activity_id(self) -> str:
        """Activity ID."""
        return self._activity_id

    @property
    def retry_state(self) -> RetryState | None:
        """Why retrying stopped, if known."""
        return self._retry_state


class ChildWorkflowError(FailureError):
    """A child workflow failed; ``cause`` says why."""

    def __init__(
        self,
        message: str,
        *,
        namespace: str,
        workflow_id: str,
        run_id: str,
        workflow_type: str,
        initiated_event_id: int,
        started_event_id: int,
        retry_state: RetryState | None,
    ) -> None:
        """Create the error."""
        super().__init__(message)
        self._namespace = namespace
        self._workflow_id = workflow_id
        self._run_id = run_id
        self._workflow_type = workflow_type
        self._initiated_event_id = initiated_event_id
        self._started_event_id = started_event_id
        self._retry_state = retry_state

    @property
    def namespace(self) -> str:
        """Namespace of the child workflow."""
        return self._namespace

    @property
    def workflow_id(self) -> str:
        """Workflow ID of the child."""
        return self._workflow_id

    @property
    def run_id(self) -> str:
        """Run ID of the child."""
        return self._run_id

    @property
    def workflow_type(self) -> str:
        """Workflow type name of the child."""
        return self._workflow_type

    @property
    def initiated_event_id(self) -> int:
        """History event ID of the child's initiation in the parent."""
        return self._initiated_event_id

    @property
    def started_event_id(self) -> int:
        """History event ID of the child's start in the parent."""
        return self._started_event_id

    @property
    def retry_state(self) -> RetryState | None:
        """Why retrying stopped, if known."""
        return self._retry_state


# ---------------------------------------------------------------------------
# RPC errors
# ---------------------------------------------------------------------------


class RPCStatusCode(IntEnum):
    """gRPC status code of a failed call."""

    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16


class RPCError(TemporalError):
    """A call to the Temporal server failed."""

    def __init__(
        self, message: str, status: RPCStatusCode, raw_grpc_status: bytes = b""
    ) -> None:
        """Create the error.

        Args:
            message: Error message from the server or transport.
            status: gRPC status code.
            raw_grpc_status: Serialized ``google.rpc.Status`` (may be empty).
        """
        super().__init__(message)
        self._message = message
        self._status = status
        self._raw_grpc_status = raw_grpc_status
        self._grpc_status: temporalio.api.common.v1.GrpcStatus | None = None

    @property
    def message(self) -> str:
        """Error message."""
        return self._message

    @property
    def status(self) -> RPCStatusCode:
        """gRPC status code."""
        return self._status

    @property
    def raw_grpc_status(self) -> bytes:
        """Serialized ``google.rpc.Status`` bytes, possibly empty."""
        return self._raw_grpc_status

    @property
    def grpc_status(self) -> temporalio.api.common.v1.GrpcStatus:
        """Decoded ``google.rpc.Status`` (code, message and ``Any`` details).

        When the raw bytes are empty or unparseable, a status built from
        :py:attr:`status` and :py:attr:`message` is returned instead.
        """
        if self._grpc_status is None:
            parsed: temporalio.api.common.v1.GrpcStatus | None = None
            if self._raw_grpc_status:
                try:
                    parsed = temporalio.api.common.v1.GrpcStatus.FromString(
                        self._raw_grpc_status
                    )
                except ValueError:
                    parsed = None
            if parsed is None:
                parsed = temporalio.api.common.v1.GrpcStatus(
                    code=int(self._status), message=self._message
                )
            self._grpc_status = parsed
        return self._grpc_status


class RPCTimeoutOrCancelledError(TemporalError):
    """A client call timed out or was cancelled before the server answered."""


# ---------------------------------------------------------------------------
# Client-side outcome errors
# ---------------------------------------------------------------------------


class WorkflowFailureError(TemporalError):
    """A workflow whose result was awaited did not complete successfully.

    ``cause`` holds the reason, usually a :py:class:`FailureError`.
    """

    def __init__(self, *, cause: BaseException) -> None:
        """Create the error."""
        super().__init__("Workflow execution failed")
        self.__cause__ = cause

    @property
    def cause(self) -> BaseException:
        """Why the workflow failed."""
        assert self.__cause__ is not None
        return self.__cause__


class WorkflowContinuedAsNewError(TemporalError):
    """The awaited workflow run continued as new instead of completing."""

    def __init__(self, new_execution_run_id: str) -> None:
        """Create the error."""
        super().__init__("Workflow continued as new")
        self._new_execution_run_id = new_execution_run_id

    @property
    def new_execution_run_id(self) -> str:
        """Run ID of the new execution."""
        return self._new_execution_run_id


class WorkflowQueryRejectedError(TemporalError):
    """The server rejected a query because of the workflow's status."""

    def __init__(self, status: int | None) -> None:
        """Create the error; ``status`` is a workflow execution status value."""
        super().__init__(f"Query rejected, status: {status}")
        self._status = status

    @property
    def status(self) -> int | None:
        """Workflow execution status that caused the rejection."""
        return self._status


class WorkflowQueryFailedError(TemporalError):
    """A query handler raised or the query could not be answered."""

    def __init__(self, message: str) -> None:
        """Create the error."""
        super().__init__(message)
        self._message = message

    @property
    def message(self) -> str:
        """Why the query failed."""
        return self._message


class WorkflowUpdateFailedError(TemporalError):
    """An update handler failed; ``cause`` says why."""

    def __init__(self, cause: BaseException) -> None:
        """Create the error."""
        super().__init__("Workflow update failed")
        self.__cause__ = cause

    @property
    def cause(self) -> BaseException:
        """Why the update failed."""
        assert self.__cause__ is not None
        return self.__cause__


def is_cancelled_exception(exception: BaseException) -> bool:
    """Whether ``exception`` means "cancelled" to Temporal.

    True for :py:class:`asyncio.CancelledError`, :py:class:`CancelledError`,
    and :py:class:`ActivityError`/:py:class:`ChildWorkflowError` whose direct
    cause is a :py:class:`CancelledError`.
    """
    if isinstance(exception, (asyncio.CancelledError, CancelledError)):
        return True
    if isinstance(exception, (ActivityError, ChildWorkflowError)):
        return isinstance(exception.__cause__, CancelledError)
    return False
