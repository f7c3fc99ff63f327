"""Worker interceptors: activity inbound (execute) and outbound (info, heartbeat).

A :py:class:`Interceptor` given to the :py:class:`~temporalio.worker.Worker`
wraps each activity execution: :py:meth:`Interceptor.intercept_activity`
returns an :py:class:`ActivityInboundInterceptor` around the next one in
the chain, whose :py:meth:`~ActivityInboundInterceptor.init` receives the
outbound chain (what ``activity.info()`` and ``activity.heartbeat()`` call),
which it may wrap in its own :py:class:`ActivityOutboundInterceptor`.
Workflow interceptors hook in through
:py:meth:`Interceptor.workflow_interceptor_class`.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

import temporalio.activity
from temporalio.api.common.v1 import Payload

if TYPE_CHECKING:
    from temporalio._workflow_interceptor import WorkflowInboundInterceptor, WorkflowInterceptorClassInput

__all__ = [
    "Interceptor",
    "ActivityInboundInterceptor",
    "ActivityOutboundInterceptor",
    "ExecuteActivityInput",
]


@dataclass
class ExecuteActivityInput:
    """An activity is about to run: its function, decoded arguments, executor and headers."""

    fn: Callable[..., Any]
    args: Sequence[Any]
    executor: Optional[concurrent.futures.Executor]
    """The executor a sync activity runs in (``None`` for async activities)."""
    headers: Mapping[str, Payload]


class ActivityOutboundInterceptor:
    """Calls the activity makes to the worker. Subclass and override; call ``self.next``."""

    def __init__(self, next: "ActivityOutboundInterceptor") -> None:
        self.next = next

    def info(self) -> temporalio.activity.Info:
        """What :py:func:`temporalio.activity.info` returns."""
        return self.next.info()

    def heartbeat(self, *details: Any) -> None:
        """What :py:func:`temporalio.activity.heartbeat` calls."""
        self.next.heartbeat(*details)


class ActivityInboundInterceptor:
    """Calls the worker makes into the activity. Subclass and override; call ``self.next``."""

    def __init__(self, next: "ActivityInboundInterceptor") -> None:
        self.next = next

    def init(self, outbound: ActivityOutboundInterceptor) -> None:
        """Receives the outbound chain before the activity runs (may wrap it)."""
        self.next.init(outbound)

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        """Runs the activity; returns its result or raises."""
        return await self.next.execute_activity(input)


class Interceptor:
    """A worker interceptor. Subclass and override what you intercept."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        """Wraps the inbound chain of each activity execution; the default returns ``next``."""
        return next

    def workflow_interceptor_class(
        self, input: "WorkflowInterceptorClassInput"
    ) -> Optional[type["WorkflowInboundInterceptor"]]:
        """The workflow inbound interceptor class to use for each run, or ``None`` (the default)."""
        return None
