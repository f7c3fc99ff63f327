"""Workers: poll a task queue and run the activities and workflows registered on it.

:py:class:`Worker` is the entry point; :py:class:`Interceptor` and the
activity and workflow interceptor classes let code wrap what runs.
"""

from temporalio._workflow_interceptor import (
    ContinueAsNewInput,
    ExecuteWorkflowInput,
    HandleQueryInput,
    HandleSignalInput,
    SignalChildWorkflowInput,
    SignalExternalWorkflowInput,
    StartActivityInput,
    StartChildWorkflowInput,
    StartLocalActivityInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)
from temporalio._workflow_replayer import Replayer, WorkflowReplayResult, WorkflowReplayResults
from temporalio._workflow_runner import (
    IsolatedModuleWorkflowRunner,
    UnsandboxedWorkflowRunner,
    WorkflowInstance,
    WorkflowInstanceDetails,
    WorkflowRunner,
)
from temporalio.worker._interceptor import (
    ActivityInboundInterceptor,
    ActivityOutboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)
from temporalio.worker._worker import Worker

__all__ = [
    "Worker",
    "Interceptor",
    "ActivityInboundInterceptor",
    "ActivityOutboundInterceptor",
    "ExecuteActivityInput",
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
    "WorkflowRunner",
    "UnsandboxedWorkflowRunner",
    "IsolatedModuleWorkflowRunner",
    "WorkflowInstance",
    "WorkflowInstanceDetails",
    "Replayer",
    "WorkflowReplayResult",
    "WorkflowReplayResults",
]
