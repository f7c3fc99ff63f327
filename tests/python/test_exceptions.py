"""Unit tests for temporalio.exceptions and the enums in temporalio.common."""

from __future__ import annotations

import asyncio
import builtins
from datetime import timedelta

import pytest

from temporalio.api.common.v1 import GrpcStatus, ProtoAny
from temporalio.api.failure.v1 import Failure
from temporalio.common import (
    QueryRejectCondition,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    ApplicationErrorCategory,
    CancelledError,
    ChildWorkflowError,
    FailureError,
    RetryState,
    RPCError,
    RPCStatusCode,
    RPCTimeoutOrCancelledError,
    ServerError,
    TemporalError,
    TerminatedError,
    TimeoutError,
    TimeoutType,
    WorkflowAlreadyStartedError,
    WorkflowContinuedAsNewError,
    WorkflowFailureError,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
    is_cancelled_exception,
)


def _activity_error(cause: BaseException | None = None) -> ActivityError:
    err = ActivityError(
        "Activity task failed",
        scheduled_event_id=1,
        started_event_id=2,
        identity="id",
        activity_type="Act",
        activity_id="1",
        retry_state=RetryState.CANCEL_REQUESTED,
    )
    err.__cause__ = cause
    return err


def _child_error(cause: BaseException | None = None) -> ChildWorkflowError:
    err = ChildWorkflowError(
        "Child Workflow execution failed",
        namespace="ns",
        workflow_id="wid",
        run_id="rid",
        workflow_type="Child",
        initiated_event_id=3,
        started_event_id=4,
        retry_state=None,
    )
    err.__cause__ = cause
    return err


class TestEnumValues:
    """Numbers must match temporal/api/enums/v1/*.proto."""

    def test_timeout_type(self) -> None:
        assert [(m.name, m.value) for m in TimeoutType] == [
            ("START_TO_CLOSE", 1),
            ("SCHEDULE_TO_START", 2),
            ("SCHEDULE_TO_CLOSE", 3),
            ("HEARTBEAT", 4),
        ]

    def test_retry_state(self) -> None:
        assert [(m.name, m.value) for m in RetryState] == [
            ("IN_PROGRESS", 1),
            ("NON_RETRYABLE_FAILURE", 2),
            ("TIMEOUT", 3),
            ("MAXIMUM_ATTEMPTS_REACHED", 4),
            ("RETRY_POLICY_NOT_SET", 5),
            ("INTERNAL_SERVER_ERROR", 6),
            ("CANCEL_REQUESTED", 7),
        ]

    def test_workflow_policies(self) -> None:
        assert [(m.name, m.value) for m in WorkflowIDReusePolicy] == [
            ("ALLOW_DUPLICATE", 1),
            ("ALLOW_DUPLICATE_FAILED_ONLY", 2),
            ("REJECT_DUPLICATE", 3),
            ("TERMINATE_IF_RUNNING", 4),
        ]
        assert [(m.name, m.value) for m in WorkflowIDConflictPolicy] == [
            ("UNSPECIFIED", 0),
            ("FAIL", 1),
            ("USE_EXISTING", 2),
            ("TERMINATE_EXISTING", 3),
        ]
        assert [(m.name, m.value) for m in QueryRejectCondition] == [
            ("NONE", 1),
            ("NOT_OPEN", 2),
            ("NOT_COMPLETED_CLEANLY", 3),
        ]
        assert [(m.name, m.value) for m in ApplicationErrorCategory] == [
            ("UNSPECIFIED", 0),
            ("BENIGN", 1),
        ]

    def test_rpc_status_codes(self) -> None:
        assert len(RPCStatusCode) == 17
        assert int(RPCStatusCode.OK) == 0
        assert int(RPCStatusCode.NOT_FOUND) == 5
        assert int(RPCStatusCode.ALREADY_EXISTS) == 6
        assert int(RPCStatusCode.UNAVAILABLE) == 14
        assert int(RPCStatusCode.UNAUTHENTICATED) == 16


class TestFailureErrors:
    def test_hierarchy(self) -> None:
        for cls in (
            ApplicationError,
            CancelledError,
            TerminatedError,
            TimeoutError,
            ServerError,
            ActivityError,
            ChildWorkflowError,
            WorkflowAlreadyStartedError,
        ):
            assert issubclass(cls, FailureError)
        assert issubclass(FailureError, TemporalError)
        assert issubclass(TemporalError, Exception)
        for other in (
            RPCError,
            WorkflowFailureError,
            WorkflowContinuedAsNewError,
            WorkflowQueryRejectedError,
            WorkflowQueryFailedError,
            WorkflowUpdateFailedError,
            RPCTimeoutOrCancelledError,
        ):
            assert issubclass(other, TemporalError)
            assert not issubclass(other, FailureError)

    def test_failure_error_basics(self) -> None:
        failure = Failure(message="m")
        err = FailureError("m", failure=failure)
        assert err.message == "m"
        assert str(err) == "m"
        assert err.failure is failure
        assert FailureError("x").failure is None
        assert err.cause is None

    def test_application_error(self) -> None:
        err = ApplicationError("msg", 1, "two", type="Kind", non_retryable=True)
        assert err.message == "msg"
        assert str(err) == "Kind: msg"
        assert err.args == ("Kind: msg",)
        assert list(err.details) == [1, "two"]
        assert err.type == "Kind"
        assert err.non_retryable is True
        assert err.next_retry_delay is None
        assert err.category is ApplicationErrorCategory.UNSPECIFIED
        plain = ApplicationError("just text", next_retry_delay=timedelta(seconds=9))
        assert str(plain) == "just text"
        assert plain.type is None
        assert plain.non_retryable is False
        assert plain.details == ()
        assert plain.next_retry_delay == timedelta(seconds=9)

    def test_cancelled_and_terminated(self) -> None:
        assert CancelledError().message == "Cancelled"
        cancelled = CancelledError("why", {"a": 1})
        assert cancelled.message == "why"
        assert list(cancelled.details) == [{"a": 1}]
        terminated = TerminatedError("gone", "d")
        assert terminated.message == "gone"
        assert list(terminated.details) == ["d"]

    def test_timeout_and_server(self) -> None:
        err = TimeoutError(
            "late", type=TimeoutType.HEARTBEAT, last_heartbeat_details=["progress"]
        )
        assert err.message == "late"
        assert err.type is TimeoutType.HEARTBEAT
        assert list(err.last_heartbeat_details) == ["progress"]
        # Same name as the builtin, but a distinct Temporal failure type.
        assert not isinstance(err, builtins.TimeoutError)
        server = ServerError("srv")
        assert server.non_retryable is False
        assert ServerError("srv", non_retryable=True).non_retryable is True

    def test_activity_and_child_errors(self) -> None:
        act = _activity_error()
        assert (
            act.scheduled_event_id,
            act.started_event_id,
            act.identity,
            act.activity_type,
            act.activity_id,
            act.retry_state,
        ) == (1, 2, "id", "Act", "1", RetryState.CANCEL_REQUESTED)
        child = _child_error()
        assert (
            child.namespace,
            child.workflow_id,
            child.run_id,
            child.workflow_type,
            child.initiated_event_id,
            child.started_event_id,
            child.retry_state,
        ) == ("ns", "wid", "rid", "Child", 3, 4, None)

    def test_workflow_already_started(self) -> None:
        err = WorkflowAlreadyStartedError("wid", "MyWorkflow", run_id="r1")
        assert str(err) == "Workflow execution already started"
        assert (err.workflow_id, err.workflow_type, err.run_id) == (
            "wid",
            "MyWorkflow",
            "r1",
        )
        assert WorkflowAlreadyStartedError("a", "b").run_id is None

    def test_cause_property_follows_dunder_cause(self) -> None:
        root = ValueError("root")
        try:
            raise ApplicationError("outer") from root
        except ApplicationError as err:
            assert err.cause is root
            assert err.__cause__ is root


class TestClientErrors:
    def test_workflow_failure_error(self) -> None:
        cause = ApplicationError("inner")
        err = WorkflowFailureError(cause=cause)
        assert str(err) == "Workflow execution failed"
        assert err.cause is cause
        assert err.__cause__ is cause
        with pytest.raises(TypeError):
            WorkflowFailureError(cause)  # type: ignore[call-arg]

    def test_other_client_errors(self) -> None:
        can = WorkflowContinuedAsNewError("run-2")
        assert can.new_execution_run_id == "run-2"
        assert str(can) == "Workflow continued as new"
        rejected = WorkflowQueryRejectedError(3)
        assert rejected.status == 3
        assert str(rejected) == "Query rejected, status: 3"
        assert WorkflowQueryRejectedError(None).status is None
        failed = WorkflowQueryFailedError("no handler")
        assert failed.message == "no handler" and str(failed) == "no handler"
        update = WorkflowUpdateFailedError(ValueError("x"))
        assert isinstance(update.cause, ValueError)


class TestRPCError:
    def test_basic_properties(self) -> None:
        err = RPCError("not found", RPCStatusCode.NOT_FOUND)
        assert err.message == "not found"
        assert str(err) == "not found"
        assert err.status is RPCStatusCode.NOT_FOUND
        assert err.raw_grpc_status == b""
        # Without raw bytes, a status is synthesized from code and message.
        assert err.grpc_status == GrpcStatus(code=5, message="not found")

    def test_grpc_status_is_parsed(self) -> None:
        status = GrpcStatus(
            code=6,
            message="already started",
            details=[
                ProtoAny(
                    type_url="type.googleapis.com/temporal.api.errordetails.v1."
                    "WorkflowExecutionAlreadyStartedFailure",
                    value=b"\x0a\x03abc",
                )
            ],
        )
        raw = status.SerializeToString()
        err = RPCError("already started", RPCStatusCode.ALREADY_EXISTS, raw)
        assert err.raw_grpc_status == raw
        parsed = err.grpc_status
        assert parsed == status
        assert parsed.details[0].type_name.endswith("AlreadyStartedFailure")
        assert err.grpc_status is parsed  # cached

    def test_garbage_status_bytes_fall_back(self) -> None:
        err = RPCError("bad", RPCStatusCode.INTERNAL, b"\xff\xff\xff")
        assert err.grpc_status.code == RPCStatusCode.INTERNAL
        assert err.grpc_status.message == "bad"


class TestIsCancelled:
    def test_direct_cancellations(self) -> None:
        assert is_cancelled_exception(asyncio.CancelledError())
        assert is_cancelled_exception(CancelledError())

    def test_wrapped_cancellations(self) -> None:
        assert is_cancelled_exception(_activity_error(CancelledError()))
        assert is_cancelled_exception(_child_error(CancelledError("x")))

    def test_not_cancellations(self) -> None:
        assert not is_cancelled_exception(ApplicationError("x"))
        assert not is_cancelled_exception(_activity_error())
        assert not is_cancelled_exception(_activity_error(ApplicationError("no")))
        assert not is_cancelled_exception(ValueError())
        # Only the direct cause counts.
        wrapped_twice = _activity_error(_child_error(CancelledError()))
        assert not is_cancelled_exception(wrapped_twice)
