"""Workflow interceptors: inbound (calls into workflow code) and outbound (calls workflow code makes).

A worker interceptor opts in by defining
``workflow_interceptor_class(input) -> Optional[type[WorkflowInboundInterceptor]]``
(the official SDK's name; ``intercept_workflow`` is accepted too). For each
run, the classes are instantiated innermost-first around the run's own
inbound implementation, and ``init(outbound)`` passes the outbound chain,
which an inbound interceptor may wrap in its own
:py:class:`WorkflowOutboundInterceptor`.

These names are re-exported by :py:mod:`temporalio.worker`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, NoReturn, Optional, Union

import temporalio.common
import temporalio.workflow
from temporalio.api.common.v1 import Payload

__all__ = [
    "WorkflowInterceptorClassInput",
    "WorkflowInboundInterceptor",
    "WorkflowOutboundInterceptor",
    "ExecuteWorkflowInput",
    "HandleSignalInput",
    "HandleQueryInput",
    "StartActivityInput",
    "StartLocalActivityInput",
    "StartChildWorkflowInput",
    "SignalChildWorkflowInput",
    "SignalExternalWorkflowInput",
    "ContinueAsNewInput",
]


@dataclass(frozen=True)
class WorkflowInterceptorClassInput:
    """What ``workflow_interceptor_class`` is given."""

    unsafe_extern_functions: Mapping[str, Callable[..., Any]] = field(default_factory=dict)


@dataclass
class ExecuteWorkflowInput:
    """The run method is about to be called."""

    type: type
    run_fn: Callable[..., Any]
    args: Sequence[Any]
    headers: Mapping[str, Payload]


@dataclass
class HandleSignalInput:
    """A signal is about to be handled."""

    signal: str
    args: Sequence[Any]
    headers: Mapping[str, Payload]


@dataclass
class HandleQueryInput:
    """A query is about to be answered."""

    id: str
    query: str
    args: Sequence[Any]
    headers: Mapping[str, Payload]


@dataclass
class StartActivityInput:
    """The workflow starts an activity."""

    activity: str
    args: Sequence[Any]
    activity_id: Optional[str]
    task_queue: Optional[str]
    schedule_to_close_timeout: Optional[timedelta]
    schedule_to_start_timeout: Optional[timedelta]
    start_to_close_timeout: Optional[timedelta]
    heartbeat_timeout: Optional[timedelta]
    retry_policy: Optional[temporalio.common.RetryPolicy]
    cancellation_type: temporalio.workflow.ActivityCancellationType
    headers: Mapping[str, Payload]
    arg_types: Optional[list[type]]
    ret_type: Optional[type]
    summary: Optional[str] = None
    disable_eager_execution: bool = True
    priority: temporalio.common.Priority = temporalio.common.Priority.default


@dataclass
class StartLocalActivityInput:
    """The workflow starts a local activity."""

    activity: str
    args: Sequence[Any]
    activity_id: Optional[str]
    schedule_to_close_timeout: Optional[timedelta]
    schedule_to_start_timeout: Optional[timedelta]
    start_to_close_timeout: Optional[timedelta]
    retry_policy: Optional[temporalio.common.RetryPolicy]
    local_retry_threshold: Optional[timedelta]
    cancellation_type: temporalio.workflow.ActivityCancellationType
    headers: Mapping[str, Payload]
    arg_types: Optional[list[type]]
    ret_type: Optional[type]
    summary: Optional[str] = None


@dataclass
class StartChildWorkflowInput:
    """The workflow starts a child workflow."""

    workflow: str
    args: Sequence[Any]
    id: str
    task_queue: Optional[str]
    cancellation_type: temporalio.workflow.ChildWorkflowCancellationType
    parent_close_policy: temporalio.workflow.ParentClosePolicy
    execution_timeout: Optional[timedelta]
    run_timeout: Optional[timedelta]
    task_timeout: Optional[timedelta]
    id_reuse_policy: temporalio.common.WorkflowIDReusePolicy
    retry_policy: Optional[temporalio.common.RetryPolicy]
    cron_schedule: str
    memo: Optional[Mapping[str, Any]]
    search_attributes: Optional[Mapping[str, Any]]
    headers: Mapping[str, Payload]
    arg_types: Optional[list[type]]
    ret_type: Optional[type]
    static_summary: Optional[str] = None
    static_details: Optional[str] = None
    priority: temporalio.common.Priority = temporalio.common.Priority.default


@dataclass
class SignalChildWorkflowInput:
    """The workflow signals one of its children."""

    signal: str
    args: Sequence[Any]
    child_workflow_id: str
    headers: Mapping[str, Payload]


@dataclass
class SignalExternalWorkflowInput:
    """The workflow signals another workflow."""

    signal: str
    args: Sequence[Any]
    namespace: str
    workflow_id: str
    workflow_run_id: Optional[str]
    headers: Mapping[str, Payload]


@dataclass
class ContinueAsNewInput:
    """The workflow continues as new."""

    workflow: Optional[str]
    args: Sequence[Any]
    task_queue: Optional[str]
    run_timeout: Optional[timedelta]
    task_timeout: Optional[timedelta]
    retry_policy: Optional[temporalio.common.RetryPolicy]
    memo: Optional[Mapping[str, Any]]
    search_attributes: Optional[Mapping[str, Any]]
    headers: Mapping[str, Payload]
    arg_types: Optional[list[type]] = None
    backoff_start_interval: Optional[timedelta] = None


class WorkflowOutboundInterceptor:
    """Intercepts what workflow code asks of the runtime; override and call ``self.next``."""

    def __init__(self, next: "WorkflowOutboundInterceptor") -> None:
        self.next = next

    def info(self) -> temporalio.workflow.Info:
        return self.next.info()

    def start_activity(self, input: StartActivityInput) -> temporalio.workflow.ActivityHandle[Any]:
        return self.next.start_activity(input)

    def start_local_activity(self, input: StartLocalActivityInput) -> temporalio.workflow.ActivityHandle[Any]:
        return self.next.start_local_activity(input)

    async def start_child_workflow(
        self, input: StartChildWorkflowInput
    ) -> temporalio.workflow.ChildWorkflowHandle[Any, Any]:
        return await self.next.start_child_workflow(input)

    async def signal_child_workflow(self, input: SignalChildWorkflowInput) -> None:
        await self.next.signal_child_workflow(input)

    async def signal_external_workflow(self, input: SignalExternalWorkflowInput) -> None:
        await self.next.signal_external_workflow(input)

    def continue_as_new(self, input: ContinueAsNewInput) -> NoReturn:
        self.next.continue_as_new(input)


class WorkflowInboundInterceptor:
    """Intercepts calls into workflow code; override and call ``self.next``."""

    def __init__(self, next: "WorkflowInboundInterceptor") -> None:
        self.next = next

    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        """Receives the outbound chain (wrap it to intercept outbound calls)."""
        self.next.init(outbound)

    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        return await self.next.execute_workflow(input)

    async def handle_signal(self, input: HandleSignalInput) -> None:
        await self.next.handle_signal(input)

    def handle_query(self, input: HandleQueryInput) -> Any:
        return self.next.handle_query(input)


def workflow_interceptor_classes(
    interceptors: Sequence[Any], input: WorkflowInterceptorClassInput
) -> list[type[WorkflowInboundInterceptor]]:
    """The inbound classes the worker interceptors ask for, outermost first."""
    out: list[type[WorkflowInboundInterceptor]] = []
    for i in interceptors:
        fn: Optional[Callable[[WorkflowInterceptorClassInput], Any]] = getattr(
            i, "workflow_interceptor_class", None
        ) or getattr(i, "intercept_workflow", None)
        if fn is None:
            continue
        cls = fn(input)
        if cls is None:
            continue
        if not (isinstance(cls, type) and issubclass(cls, WorkflowInboundInterceptor)):
            raise TypeError(
                f"{type(i).__qualname__}.workflow_interceptor_class must return a WorkflowInboundInterceptor "
                f"subclass or None, got {cls!r}"
            )
        out.append(cls)
    return out


ContinueAsNewTarget = Union[None, Callable[..., Any], str]
