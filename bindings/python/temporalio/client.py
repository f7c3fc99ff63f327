"""Client for a Temporal server: start, signal, query, cancel, terminate, describe,
await results, fetch histories, list and count workflows.

Every call is asynchronous and completes through the engine's completion
queue, which the running asyncio loop watches: no call blocks the loop.

Like the official SDK, every call takes ``rpc_metadata`` (headers of that
call; a key given there replaces the client's header of that name) and
``rpc_timeout`` (the deadline of each RPC the call makes). Cancelling the
task awaiting a call (``asyncio.wait_for``, ``task.cancel()``) cancels the
call in the engine too.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import IntEnum
from typing import Any, Concatenate, Generic, Optional, ParamSpec, TypeVar, Union, cast, overload

if sys.version_info >= (3, 11):
    from typing import TypeVarTuple, Unpack
else:  # pragma: no cover
    from typing_extensions import TypeVarTuple, Unpack

import temporalio.common
import temporalio.converter
import temporalio.exceptions
import temporalio.workflow
from temporalio import _bridge
from temporalio._tw import ffi, lib
from temporalio.api.common.v1 import Payload
from temporalio.common import QueryRejectCondition, RetryPolicy, WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import (
    RPCError,
    RPCStatusCode,
    WorkflowAlreadyStartedError,
    WorkflowContinuedAsNewError,
    WorkflowFailureError,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
)
from temporalio.service import TLSConfig

__all__ = [
    "Client",
    "WorkflowHandle",
    "WorkflowExecution",
    "WorkflowExecutionDescription",
    "WorkflowExecutionStatus",
    "WorkflowExecutionCount",
    "WorkflowHistory",
    "WorkflowHistoryEventFilterType",
    "Interceptor",
    "OutboundInterceptor",
    "StartWorkflowInput",
    "SignalWorkflowInput",
    "QueryWorkflowInput",
    "CancelWorkflowInput",
    "TerminateWorkflowInput",
    "DescribeWorkflowInput",
    "FetchWorkflowHistoryEventsInput",
    "ListWorkflowsInput",
    "CountWorkflowsInput",
    "WorkflowFailureError",
    "WorkflowContinuedAsNewError",
    "WorkflowQueryRejectedError",
    "WorkflowQueryFailedError",
    "TLSConfig",
    "AsyncActivityHandle",
    "AsyncActivityIDReference",
    "AsyncActivityCancelledError",
    "HeartbeatAsyncActivityInput",
    "CompleteAsyncActivityInput",
    "FailAsyncActivityInput",
    "ReportCancellationAsyncActivityInput",
]

SelfType = TypeVar("SelfType")
WorkflowType = TypeVar("WorkflowType")
WorkflowReturnType = TypeVar("WorkflowReturnType")
ReturnType = TypeVar("ReturnType")
ParamType = TypeVar("ParamType")
LocalReturnType = TypeVar("LocalReturnType")
MultiParamType = TypeVarTuple("MultiParamType")
MultiParamSpec = ParamSpec("MultiParamSpec")


class WorkflowExecutionStatus(IntEnum):
    """Status of a workflow execution (temporal.api.enums.v1.WorkflowExecutionStatus)."""

    RUNNING = 1
    COMPLETED = 2
    FAILED = 3
    CANCELED = 4
    TERMINATED = 5
    CONTINUED_AS_NEW = 6
    TIMED_OUT = 7


class WorkflowHistoryEventFilterType(IntEnum):
    """Which events a history fetch returns."""

    ALL_EVENT = 1
    CLOSE_EVENT = 2


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------


def _time_of(ns: int) -> Optional[datetime]:
    if not ns:
        return None
    return datetime.fromtimestamp(ns // 1_000_000_000, tz=timezone.utc) + timedelta(microseconds=(ns % 1_000_000_000) // 1000)


def _decode_search_attributes(payloads: Mapping[str, Payload]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for name, p in payloads.items():
        value = json.loads(p.data) if p.data else None
        values = value if isinstance(value, list) else [value]
        if p.metadata.get("type") == b"Datetime":
            values = [datetime.fromisoformat(v.replace("Z", "+00:00")) if isinstance(v, str) else v for v in values]
        out[name] = values
    return out


@dataclass
class WorkflowExecution:
    """One workflow execution as listed or described by the server."""

    id: str
    run_id: str
    workflow_type: str
    task_queue: str
    status: Optional[WorkflowExecutionStatus]
    start_time: Optional[datetime]
    execution_time: Optional[datetime]
    close_time: Optional[datetime]
    history_length: int
    parent_id: Optional[str]
    parent_run_id: Optional[str]
    search_attributes: temporalio.common.SearchAttributes
    raw_info: dict[str, Any]
    data_converter: temporalio.converter.DataConverter
    _memo: Mapping[str, Payload] = field(default_factory=dict, repr=False)

    @classmethod
    def _from_c(cls, ex: Any, converter: temporalio.converter.DataConverter) -> "WorkflowExecution":
        status = lib.tw_execution_status(ex)
        parent = _bridge.text(lib.tw_execution_parent_workflow_id(ex))
        return cls(
            id=_bridge.text(lib.tw_execution_workflow_id(ex)),
            run_id=_bridge.text(lib.tw_execution_run_id(ex)),
            workflow_type=_bridge.text(lib.tw_execution_workflow_type(ex)),
            task_queue=_bridge.text(lib.tw_execution_task_queue(ex)),
            status=WorkflowExecutionStatus(status) if status else None,
            start_time=_time_of(lib.tw_execution_start_time(ex)),
            execution_time=_time_of(lib.tw_execution_execution_time(ex)),
            close_time=_time_of(lib.tw_execution_close_time(ex)),
            history_length=int(lib.tw_execution_history_length(ex)),
            parent_id=parent or None,
            parent_run_id=_bridge.text(lib.tw_execution_parent_run_id(ex)) or None,
            search_attributes=_decode_search_attributes(
                _bridge.payload_map_from_c(lib.tw_execution_search_attributes(ex))
            ),
            raw_info=json.loads(_bridge.execution_json(ex)),
            data_converter=converter,
            _memo=_bridge.payload_map_from_c(lib.tw_execution_memo(ex)),
        )

    async def memo(self) -> dict[str, Any]:
        """The memo, each value decoded with the data converter."""
        out: dict[str, Any] = {}
        for key, payload in self._memo.items():
            out[key] = (await self.data_converter.decode([payload]))[0]
        return out

    async def memo_value(self, key: str, default: Any = temporalio.common._arg_unset, *, type_hint: Optional[type] = None) -> Any:
        """One memo value; KeyError when absent and no default is given."""
        payload = self._memo.get(key)
        if payload is None:
            if default is temporalio.common._arg_unset:
                raise KeyError(f"memo has no key {key!r}")
            return default
        return (await self.data_converter.decode([payload], [type_hint] if type_hint else None))[0]


@dataclass
class WorkflowExecutionDescription(WorkflowExecution):
    """What describe() returns."""

    _raw_static_summary: Optional[Payload] = field(default=None, repr=False)
    _raw_static_details: Optional[Payload] = field(default=None, repr=False)

    async def static_summary(self) -> Optional[str]:
        """The one-line summary the workflow was started with, decoded with the data converter (None: none)."""
        return await self._decode_metadata(self._raw_static_summary)

    async def static_details(self) -> Optional[str]:
        """The details the workflow was started with, decoded with the data converter (None: none)."""
        return await self._decode_metadata(self._raw_static_details)

    async def _decode_metadata(self, payload: Optional[Payload]) -> Optional[str]:
        if payload is None:
            return None
        value = (await self.data_converter.decode([payload], [str]))[0]
        return cast(Optional[str], value)


@dataclass(frozen=True)
class WorkflowExecutionCount:
    """Result of count_workflows()."""

    count: int


@dataclass(frozen=True)
class WorkflowHistory:
    """A workflow's history; events are proto3-JSON dicts (the format `temporal workflow show -o json` prints)."""

    workflow_id: str
    events: Sequence[dict[str, Any]]

    @property
    def run_id(self) -> str:
        """The run id recorded in the first event."""
        if not self.events:
            raise ValueError("history has no events")
        attrs = self.events[0].get("workflowExecutionStartedEventAttributes", {})
        return str(attrs.get("originalExecutionRunId", ""))

    def to_json_dict(self) -> dict[str, Any]:
        return {"events": list(self.events)}

    def to_json(self) -> str:
        return json.dumps(self.to_json_dict())

    @staticmethod
    def from_json(workflow_id: str, history: Union[str, dict[str, Any]]) -> "WorkflowHistory":
        data = json.loads(history) if isinstance(history, str) else history
        if not isinstance(data, dict):
            raise ValueError("history is not a dictionary")
        events = data.get("events")
        if not isinstance(events, list):
            raise ValueError("history does not have iterable 'events'")
        return WorkflowHistory(workflow_id, events)


# ---------------------------------------------------------------------------
# Interceptors
# ---------------------------------------------------------------------------


@dataclass
class StartWorkflowInput:
    workflow: str
    args: Sequence[Any]
    id: str
    task_queue: str
    execution_timeout: Optional[timedelta]
    run_timeout: Optional[timedelta]
    task_timeout: Optional[timedelta]
    id_reuse_policy: WorkflowIDReusePolicy
    id_conflict_policy: WorkflowIDConflictPolicy
    retry_policy: Optional[RetryPolicy]
    cron_schedule: str
    memo: Optional[Mapping[str, Any]]
    search_attributes: Optional[Mapping[str, Any]]
    start_delay: Optional[timedelta]
    headers: Mapping[str, Payload]
    start_signal: Optional[str]
    start_signal_args: Sequence[Any]
    ret_type: Optional[type]
    request_id: Optional[str] = None
    rpc_metadata: Mapping[str, Union[str, bytes]] = field(default_factory=dict)
    rpc_timeout: Optional[timedelta] = None
    request_eager_start: bool = False
    static_summary: Optional[str] = None
    static_details: Optional[str] = None
    priority: temporalio.common.Priority = temporalio.common.Priority.default


@dataclass
class SignalWorkflowInput:
    id: str
    run_id: Optional[str]
    signal: str
    args: Sequence[Any]
    headers: Mapping[str, Payload]
    rpc_metadata: Mapping[str, Union[str, bytes]] = field(default_factory=dict)
    rpc_timeout: Optional[timedelta] = None


@dataclass
class QueryWorkflowInput:
    id: str
    run_id: Optional[str]
    query: str
    args: Sequence[Any]
    reject_condition: Optional[QueryRejectCondition]
    headers: Mapping[str, Payload]
    ret_type: Optional[type]
    rpc_metadata: Mapping[str, Union[str, bytes]] = field(default_factory=dict)
    rpc_timeout: Optional[timedelta] = None


@dataclass
class CancelWorkflowInput:
    id: str
    run_id: Optional[str]
    first_execution_run_id: Optional[str]
    reason: Optional[str] = None
    rpc_metadata: Mapping[str, Union[str, bytes]] = field(default_factory=dict)
    rpc_timeout: Optional[timedelta] = None


@dataclass
class TerminateWorkflowInput:
    id: str
    run_id: Optional[str]
    first_execution_run_id: Optional[str]
    args: Sequence[Any]
    reason: Optional[str]
    rpc_metadata: Mapping[str, Union[str, bytes]] = field(default_factory=dict)
    rpc_timeout: Optional[timedelta] = None


@dataclass
class DescribeWorkflowInput:
    id: str
    run_id: Optional[str]
    rpc_metadata: Mapping[str, Union[str, bytes]] = field(default_factory=dict)
    rpc_timeout: Optional[timedelta] = None


@dataclass
class FetchWorkflowHistoryEventsInput:
    id: str
    run_id: Optional[str]
    page_size: Optional[int]
    next_page_token: Optional[bytes]
    wait_new_event: bool
    event_filter_type: WorkflowHistoryEventFilterType
    skip_archival: bool
    rpc_metadata: Mapping[str, Union[str, bytes]] = field(default_factory=dict)
    rpc_timeout: Optional[timedelta] = None


@dataclass
class ListWorkflowsInput:
    query: Optional[str]
    page_size: int
    next_page_token: Optional[bytes]
    limit: Optional[int]
    rpc_metadata: Mapping[str, Union[str, bytes]] = field(default_factory=dict)
    rpc_timeout: Optional[timedelta] = None


@dataclass
class CountWorkflowsInput:
    query: Optional[str]
    rpc_metadata: Mapping[str, Union[str, bytes]] = field(default_factory=dict)
    rpc_timeout: Optional[timedelta] = None


@dataclass(frozen=True)
class AsyncActivityIDReference:
    """An activity addressed by workflow id, run id (None: the latest run) and activity id."""

    workflow_id: str
    run_id: Optional[str]
    activity_id: str


@dataclass
class HeartbeatAsyncActivityInput:
    id_or_token: Union[AsyncActivityIDReference, bytes]
    details: Sequence[Any]
    rpc_metadata: Mapping[str, Union[str, bytes]] = field(default_factory=dict)
    rpc_timeout: Optional[timedelta] = None


@dataclass
class CompleteAsyncActivityInput:
    id_or_token: Union[AsyncActivityIDReference, bytes]
    result: Optional[Any]
    rpc_metadata: Mapping[str, Union[str, bytes]] = field(default_factory=dict)
    rpc_timeout: Optional[timedelta] = None


@dataclass
class FailAsyncActivityInput:
    id_or_token: Union[AsyncActivityIDReference, bytes]
    error: Exception
    last_heartbeat_details: Sequence[Any]
    rpc_metadata: Mapping[str, Union[str, bytes]] = field(default_factory=dict)
    rpc_timeout: Optional[timedelta] = None


@dataclass
class ReportCancellationAsyncActivityInput:
    id_or_token: Union[AsyncActivityIDReference, bytes]
    details: Sequence[Any]
    rpc_metadata: Mapping[str, Union[str, bytes]] = field(default_factory=dict)
    rpc_timeout: Optional[timedelta] = None


class AsyncActivityCancelledError(temporalio.exceptions.TemporalError):
    """An async activity's heartbeat learned that the server wants it cancelled (or paused, or reset)."""

    def __init__(self, details: Optional["temporalio.activity.ActivityCancellationDetails"] = None) -> None:
        super().__init__("Activity cancelled")
        self.details = details


class OutboundInterceptor:
    """Intercepts client calls; subclasses override what they need and call ``self.next``."""

    def __init__(self, next: "OutboundInterceptor") -> None:
        self.next = next

    async def start_workflow(self, input: StartWorkflowInput) -> "WorkflowHandle[Any, Any]":
        return await self.next.start_workflow(input)

    async def signal_workflow(self, input: SignalWorkflowInput) -> None:
        await self.next.signal_workflow(input)

    async def query_workflow(self, input: QueryWorkflowInput) -> Any:
        return await self.next.query_workflow(input)

    async def cancel_workflow(self, input: CancelWorkflowInput) -> None:
        await self.next.cancel_workflow(input)

    async def terminate_workflow(self, input: TerminateWorkflowInput) -> None:
        await self.next.terminate_workflow(input)

    async def describe_workflow(self, input: DescribeWorkflowInput) -> WorkflowExecutionDescription:
        return await self.next.describe_workflow(input)

    def fetch_workflow_history_events(self, input: FetchWorkflowHistoryEventsInput) -> AsyncIterator[dict[str, Any]]:
        return self.next.fetch_workflow_history_events(input)

    def list_workflows(self, input: ListWorkflowsInput) -> AsyncIterator[WorkflowExecution]:
        return self.next.list_workflows(input)

    async def count_workflows(self, input: CountWorkflowsInput) -> WorkflowExecutionCount:
        return await self.next.count_workflows(input)

    async def heartbeat_async_activity(self, input: HeartbeatAsyncActivityInput) -> None:
        await self.next.heartbeat_async_activity(input)

    async def complete_async_activity(self, input: CompleteAsyncActivityInput) -> None:
        await self.next.complete_async_activity(input)

    async def fail_async_activity(self, input: FailAsyncActivityInput) -> None:
        await self.next.fail_async_activity(input)

    async def report_cancellation_async_activity(self, input: ReportCancellationAsyncActivityInput) -> None:
        await self.next.report_cancellation_async_activity(input)


class Interceptor:
    """Client interceptor: wraps the outbound chain."""

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return next


# ---------------------------------------------------------------------------
# Client
# ---------------------------------------------------------------------------


def _parse_target(target_host: str, tls: Union[bool, TLSConfig]) -> tuple[str, Union[bool, TLSConfig]]:
    target = target_host.strip()
    if "://" in target:
        scheme, _, target = target.partition("://")
        if scheme == "https" and tls is False:
            tls = True
        elif scheme not in ("http", "https", "dns"):
            raise ValueError(f"target_host {target_host!r}: unsupported scheme {scheme!r}")
    target = target.rstrip("/")
    if not target:
        raise ValueError("target_host must be 'host:port'")
    if ":" not in target:
        raise ValueError(f"target_host {target_host!r} has no port (expected 'host:port')")
    return target, tls


def _metadata_array(metadata: Mapping[str, Union[str, bytes]], keep: list[Any]) -> Any:
    """A NULL-terminated key, value, ... array for tw_client_options / tw_call_options.metadata.

    Values are text; bytes (for keys ending in ``-bin``, which gRPC sends
    base64-encoded) may not hold NUL bytes.
    """
    pairs: list[Any] = []
    for key, value in metadata.items():
        if not isinstance(key, str):
            raise TypeError(f"rpc_metadata keys must be str, got {type(key).__name__}")
        if isinstance(value, (bytes, bytearray)):
            if b"\0" in value:
                raise ValueError(f"rpc_metadata value of {key!r} holds a NUL byte")
            buf = ffi.new("char[]", bytes(value))
            keep.append(buf)
            value_ptr = buf
        elif isinstance(value, str):
            value_ptr = _bridge.cstr(value, keep)
        else:
            raise TypeError(f"rpc_metadata value of {key!r} must be str or bytes, got {type(value).__name__}")
        pairs += [_bridge.cstr(key, keep), value_ptr]
    arr = ffi.new("const char *[]", pairs + [ffi.NULL])
    keep.append(arr)
    return arr


def _call_args(positional: Sequence[object], arg: Any, args: Sequence[Any]) -> list[Any]:
    """Arguments given positionally, as ``arg=`` or as ``args=`` (one form only)."""
    has_arg = arg is not temporalio.common._arg_unset
    if (len(positional) > 0) + has_arg + (len(args) > 0) > 1:
        raise ValueError("give arguments one way only: positionally, as arg= or as args=")
    if isinstance(args, (str, bytes)):
        raise TypeError("args= must be a sequence of arguments, not a single string")
    if has_arg:
        return [arg]
    return list(positional) if positional else list(args)


class Client:
    """A connection to a Temporal namespace. Create with :py:meth:`connect`."""

    def __init__(
        self,
        ptr: Any,
        *,
        namespace: str,
        data_converter: temporalio.converter.DataConverter,
        interceptors: Sequence[Interceptor],
        default_workflow_query_reject_condition: Optional[QueryRejectCondition],
        runtime: _bridge.Runtime,
    ) -> None:
        self._ptr = ffi.gc(ptr, lib.tw_client_free)
        self._runtime = runtime
        self._namespace = namespace
        self._data_converter = data_converter
        self._interceptors = list(interceptors)
        self._default_reject = default_workflow_query_reject_condition
        impl: OutboundInterceptor = _ClientImpl(self)
        for i in reversed(self._interceptors):
            impl = i.intercept_client(impl)
        self._impl = impl

    @staticmethod
    async def connect(
        target_host: str,
        *,
        namespace: str = "default",
        api_key: Optional[str] = None,
        data_converter: temporalio.converter.DataConverter = temporalio.converter.DataConverter.default,
        interceptors: Sequence[Interceptor] = [],
        default_workflow_query_reject_condition: Optional[QueryRejectCondition] = None,
        tls: Union[bool, TLSConfig] = False,
        rpc_metadata: Mapping[str, Union[str, bytes]] = {},
        identity: Optional[str] = None,
        lazy: bool = False,
        connect_timeout: Optional[timedelta] = None,
        rpc_timeout: Optional[timedelta] = None,
    ) -> "Client":
        """Connects to ``host:port`` (an ``http://`` or ``https://`` prefix is accepted).

        Unless ``lazy``, checks that the server answers and the namespace
        exists: :py:class:`RPCError` with status UNAVAILABLE or NOT_FOUND
        otherwise.
        """
        if not namespace:
            raise ValueError("namespace must not be empty")
        for i in interceptors:
            if not isinstance(i, Interceptor):
                raise TypeError(f"interceptors must be temporalio.client.Interceptor instances, got {i!r}")
        target, tls = _parse_target(target_host, tls)
        runtime = _bridge.Runtime.default()
        keep: list[Any] = []
        opts = ffi.new("tw_client_options *")
        lib.tw_client_options_init(opts)
        opts.target = _bridge.cstr(target, keep)
        opts.namespace_name = _bridge.cstr(namespace, keep)
        opts.identity = _bridge.cstr(identity, keep)
        opts.api_key = _bridge.cstr(api_key, keep)
        if connect_timeout is not None:
            opts.connect_timeout_ms = max(1, _bridge.millis(connect_timeout))
        if rpc_timeout is not None:
            opts.rpc_timeout_ms = max(1, _bridge.millis(rpc_timeout))
        if tls is not False:
            opts.tls = 1
            if isinstance(tls, TLSConfig):
                def pem(b: Optional[bytes]) -> Any:
                    return _bridge.cstr(b.decode("ascii") if b is not None else None, keep)
                opts.tls_root_ca_pem = pem(tls.server_root_ca_cert)
                opts.tls_client_cert_pem = pem(tls.client_cert)
                opts.tls_client_key_pem = pem(tls.client_private_key)
                opts.tls_server_name = _bridge.cstr(tls.domain, keep)
        if rpc_metadata:
            opts.metadata = _metadata_array(rpc_metadata, keep)
        out = ffi.new("tw_client **")
        _bridge.raise_for(lib.tw_client_new(runtime.ptr, opts, out))
        client = Client(
            out[0],
            namespace=namespace,
            data_converter=data_converter,
            interceptors=interceptors,
            default_workflow_query_reject_condition=default_workflow_query_reject_condition,
            runtime=runtime,
        )
        client._api_key = api_key
        if not lazy:
            await client._call(lambda ptr, cq, tag: lib.tw_client_connect(ptr, cq, tag))
        return client

    @property
    def namespace(self) -> str:
        return self._namespace

    @property
    def identity(self) -> str:
        return _bridge.text(lib.tw_client_identity(self._ptr))

    @property
    def data_converter(self) -> temporalio.converter.DataConverter:
        return self._data_converter

    @property
    def api_key(self) -> Optional[str]:
        return getattr(self, "_api_key", None)

    @api_key.setter
    def api_key(self, value: Optional[str]) -> None:
        keep: list[Any] = []
        _bridge.raise_for(lib.tw_client_set_api_key(self._ptr, _bridge.cstr(value, keep)))
        self._api_key = value

    def _call_ptr(self, rpc_metadata: Mapping[str, Union[str, bytes]], rpc_timeout: Optional[timedelta]) -> Any:
        """The tw_client a call starts on: this one, or one derived from it with per-call options."""
        if not rpc_metadata and rpc_timeout is None:
            return self._ptr
        keep: list[Any] = []
        o = ffi.new("tw_call_options *")
        lib.tw_call_options_init(o)
        if rpc_metadata:
            o.metadata = _metadata_array(rpc_metadata, keep)
        if rpc_timeout is not None:
            o.rpc_timeout_ms = max(1, _bridge.millis(rpc_timeout))
        out = ffi.new("tw_client **")
        _bridge.raise_for(lib.tw_client_with_call_options(self._ptr, o, out))
        # Freeing a derived client leaves its calls running: it may go as soon as the call has started.
        return ffi.gc(out[0], lib.tw_client_free)

    async def _start(
        self,
        start: Callable[[Any, Any, int], int],
        rpc_metadata: Mapping[str, Union[str, bytes]] = {},
        rpc_timeout: Optional[timedelta] = None,
    ) -> _bridge.Event:
        """Starts a call with (client, cq, tag) and awaits its event; raises _bridge._EventError.

        Cancelling the awaiting task cancels the call in the engine
        (tw_client_cancel_call); its late TW_ECANCELLED event is dropped.
        """
        ptr = self._call_ptr(rpc_metadata, rpc_timeout)
        parent = self._ptr
        return await self._runtime.call(
            lambda cq, tag: int(start(ptr, cq, tag)),
            cancel=lambda cq, tag: lib.tw_client_cancel_call(parent, cq, tag),
        )

    async def _call(
        self,
        start: Callable[[Any, Any, int], int],
        rpc_metadata: Mapping[str, Union[str, bytes]] = {},
        rpc_timeout: Optional[timedelta] = None,
    ) -> _bridge.Event:
        """Like _start, raising the event's error as the public exception."""
        try:
            return await self._start(start, rpc_metadata, rpc_timeout)
        except _bridge._EventError as e:
            raise e.event.error() from None

    # ---- start ----

    @overload
    async def start_workflow(
        self,
        workflow: Callable[[SelfType], Awaitable[ReturnType]],
        *,
        id: str,
        task_queue: str,
        execution_timeout: Optional[timedelta] = None,
        run_timeout: Optional[timedelta] = None,
        task_timeout: Optional[timedelta] = None,
        id_reuse_policy: WorkflowIDReusePolicy = WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        id_conflict_policy: WorkflowIDConflictPolicy = WorkflowIDConflictPolicy.UNSPECIFIED,
        retry_policy: Optional[RetryPolicy] = None,
        cron_schedule: str = "",
        memo: Optional[Mapping[str, Any]] = None,
        search_attributes: Optional[Mapping[str, Any]] = None,
        start_delay: Optional[timedelta] = None,
        start_signal: Optional[str] = None,
        start_signal_args: Sequence[Any] = [],
        request_id: Optional[str] = None,
        request_eager_start: bool = False,
        static_summary: Optional[str] = None,
        static_details: Optional[str] = None,
        priority: temporalio.common.Priority = temporalio.common.Priority.default,
        rpc_metadata: Mapping[str, Union[str, bytes]] = {},
        rpc_timeout: Optional[timedelta] = None,
    ) -> "WorkflowHandle[SelfType, ReturnType]": ...

    @overload
    async def start_workflow(
        self,
        workflow: Callable[[SelfType, ParamType], Awaitable[ReturnType]],
        arg: ParamType,
        *,
        id: str,
        task_queue: str,
        execution_timeout: Optional[timedelta] = None,
        run_timeout: Optional[timedelta] = None,
        task_timeout: Optional[timedelta] = None,
        id_reuse_policy: WorkflowIDReusePolicy = WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        id_conflict_policy: WorkflowIDConflictPolicy = WorkflowIDConflictPolicy.UNSPECIFIED,
        retry_policy: Optional[RetryPolicy] = None,
        cron_schedule: str = "",
        memo: Optional[Mapping[str, Any]] = None,
        search_attributes: Optional[Mapping[str, Any]] = None,
        start_delay: Optional[timedelta] = None,
        start_signal: Optional[str] = None,
        start_signal_args: Sequence[Any] = [],
        request_id: Optional[str] = None,
        request_eager_start: bool = False,
        static_summary: Optional[str] = None,
        static_details: Optional[str] = None,
        priority: temporalio.common.Priority = temporalio.common.Priority.default,
        rpc_metadata: Mapping[str, Union[str, bytes]] = {},
        rpc_timeout: Optional[timedelta] = None,
    ) -> "WorkflowHandle[SelfType, ReturnType]": ...

    @overload
    async def start_workflow(
        self,
        workflow: Callable[[SelfType, Unpack[MultiParamType]], Awaitable[ReturnType]],
        *args: Unpack[MultiParamType],
        id: str,
        task_queue: str,
        execution_timeout: Optional[timedelta] = None,
        run_timeout: Optional[timedelta] = None,
        task_timeout: Optional[timedelta] = None,
        id_reuse_policy: WorkflowIDReusePolicy = WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        id_conflict_policy: WorkflowIDConflictPolicy = WorkflowIDConflictPolicy.UNSPECIFIED,
        retry_policy: Optional[RetryPolicy] = None,
        cron_schedule: str = "",
        memo: Optional[Mapping[str, Any]] = None,
        search_attributes: Optional[Mapping[str, Any]] = None,
        start_delay: Optional[timedelta] = None,
        start_signal: Optional[str] = None,
        start_signal_args: Sequence[Any] = [],
        request_id: Optional[str] = None,
        request_eager_start: bool = False,
        static_summary: Optional[str] = None,
        static_details: Optional[str] = None,
        priority: temporalio.common.Priority = temporalio.common.Priority.default,
        rpc_metadata: Mapping[str, Union[str, bytes]] = {},
        rpc_timeout: Optional[timedelta] = None,
    ) -> "WorkflowHandle[SelfType, ReturnType]": ...

    @overload
    async def start_workflow(
        self,
        workflow: Callable[Concatenate[SelfType, MultiParamSpec], Awaitable[ReturnType]],
        *,
        args: Sequence[Any],
        id: str,
        task_queue: str,
        execution_timeout: Optional[timedelta] = None,
        run_timeout: Optional[timedelta] = None,
        task_timeout: Optional[timedelta] = None,
        id_reuse_policy: WorkflowIDReusePolicy = WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        id_conflict_policy: WorkflowIDConflictPolicy = WorkflowIDConflictPolicy.UNSPECIFIED,
        retry_policy: Optional[RetryPolicy] = None,
        cron_schedule: str = "",
        memo: Optional[Mapping[str, Any]] = None,
        search_attributes: Optional[Mapping[str, Any]] = None,
        start_delay: Optional[timedelta] = None,
        start_signal: Optional[str] = None,
        start_signal_args: Sequence[Any] = [],
        request_id: Optional[str] = None,
        request_eager_start: bool = False,
        static_summary: Optional[str] = None,
        static_details: Optional[str] = None,
        priority: temporalio.common.Priority = temporalio.common.Priority.default,
        rpc_metadata: Mapping[str, Union[str, bytes]] = {},
        rpc_timeout: Optional[timedelta] = None,
    ) -> "WorkflowHandle[SelfType, ReturnType]": ...

    @overload
    async def start_workflow(
        self,
        workflow: str,
        *params: Any,
        arg: Any = temporalio.common._arg_unset,
        args: Sequence[Any] = [],
        id: str,
        task_queue: str,
        execution_timeout: Optional[timedelta] = None,
        run_timeout: Optional[timedelta] = None,
        task_timeout: Optional[timedelta] = None,
        id_reuse_policy: WorkflowIDReusePolicy = WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        id_conflict_policy: WorkflowIDConflictPolicy = WorkflowIDConflictPolicy.UNSPECIFIED,
        retry_policy: Optional[RetryPolicy] = None,
        cron_schedule: str = "",
        memo: Optional[Mapping[str, Any]] = None,
        search_attributes: Optional[Mapping[str, Any]] = None,
        start_delay: Optional[timedelta] = None,
        start_signal: Optional[str] = None,
        start_signal_args: Sequence[Any] = [],
        request_id: Optional[str] = None,
        request_eager_start: bool = False,
        static_summary: Optional[str] = None,
        static_details: Optional[str] = None,
        priority: temporalio.common.Priority = temporalio.common.Priority.default,
        rpc_metadata: Mapping[str, Union[str, bytes]] = {},
        rpc_timeout: Optional[timedelta] = None,
        result_type: Optional[type] = None,
    ) -> "WorkflowHandle[Any, Any]": ...

    async def start_workflow(
        self,
        workflow: Union[str, Callable[..., Awaitable[Any]]],
        *params: object,
        arg: Any = temporalio.common._arg_unset,
        args: Sequence[Any] = [],
        id: str,
        task_queue: str,
        execution_timeout: Optional[timedelta] = None,
        run_timeout: Optional[timedelta] = None,
        task_timeout: Optional[timedelta] = None,
        id_reuse_policy: WorkflowIDReusePolicy = WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        id_conflict_policy: WorkflowIDConflictPolicy = WorkflowIDConflictPolicy.UNSPECIFIED,
        retry_policy: Optional[RetryPolicy] = None,
        cron_schedule: str = "",
        memo: Optional[Mapping[str, Any]] = None,
        search_attributes: Optional[Mapping[str, Any]] = None,
        start_delay: Optional[timedelta] = None,
        start_signal: Optional[str] = None,
        start_signal_args: Sequence[Any] = [],
        request_id: Optional[str] = None,
        request_eager_start: bool = False,
        static_summary: Optional[str] = None,
        static_details: Optional[str] = None,
        priority: temporalio.common.Priority = temporalio.common.Priority.default,
        rpc_metadata: Mapping[str, Union[str, bytes]] = {},
        rpc_timeout: Optional[timedelta] = None,
        result_type: Optional[type] = None,
    ) -> "WorkflowHandle[Any, Any]":
        """Starts a workflow and returns a handle to it.

        ``workflow`` is the ``@workflow.run`` method of a ``@workflow.defn``
        class (typed) or a workflow type name. Its arguments are given
        positionally, or as ``arg=`` (one) or ``args=`` (a sequence) like the
        official SDK takes them; only one of the three forms per call. Raises
        :py:class:`WorkflowAlreadyStartedError` when the id is in use.

        ``request_eager_start=True`` asks the server to hand the workflow's
        first task straight back with the start's answer, to a
        :py:class:`temporalio.worker.Worker` of this client polling the same
        task queue with a free workflow-task slot, sparing a trip through the
        task queue. Nothing changes when no such worker runs or the server
        declines; it does not apply with ``start_signal``.

        ``static_summary`` (one line) and ``static_details`` describe the
        workflow in UIs and the CLI; they are encoded with the data converter
        and come back from :py:meth:`WorkflowHandle.describe`. ``priority``
        orders the workflow's tasks (and, unless they set their own, its
        activities' and children's) when its task queue has a backlog.
        """
        name = temporalio.workflow.WorkflowDefinition.must_name_from_fn_or_str(workflow)
        workflow_args = _call_args(params, arg, args)
        ret_type = result_type
        if ret_type is None and not isinstance(workflow, str):
            _, ret_type = temporalio.common._type_hints_from_func(workflow)
        if retry_policy is not None:
            retry_policy._validate()
        return await self._impl.start_workflow(
            StartWorkflowInput(
                workflow=name,
                args=workflow_args,
                id=id,
                task_queue=task_queue,
                execution_timeout=execution_timeout,
                run_timeout=run_timeout,
                task_timeout=task_timeout,
                id_reuse_policy=id_reuse_policy,
                id_conflict_policy=id_conflict_policy,
                retry_policy=retry_policy,
                cron_schedule=cron_schedule,
                memo=memo,
                search_attributes=search_attributes,
                start_delay=start_delay,
                headers={},
                start_signal=start_signal,
                start_signal_args=start_signal_args,
                ret_type=ret_type,
                request_id=request_id,
                rpc_metadata=rpc_metadata,
                rpc_timeout=rpc_timeout,
                request_eager_start=request_eager_start,
                static_summary=static_summary,
                static_details=static_details,
                priority=priority,
            )
        )

    @overload
    async def execute_workflow(
        self,
        workflow: Callable[[SelfType], Awaitable[ReturnType]],
        *,
        id: str,
        task_queue: str,
        execution_timeout: Optional[timedelta] = None,
        run_timeout: Optional[timedelta] = None,
        task_timeout: Optional[timedelta] = None,
        id_reuse_policy: WorkflowIDReusePolicy = WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        id_conflict_policy: WorkflowIDConflictPolicy = WorkflowIDConflictPolicy.UNSPECIFIED,
        retry_policy: Optional[RetryPolicy] = None,
        cron_schedule: str = "",
        memo: Optional[Mapping[str, Any]] = None,
        search_attributes: Optional[Mapping[str, Any]] = None,
        start_delay: Optional[timedelta] = None,
        start_signal: Optional[str] = None,
        start_signal_args: Sequence[Any] = [],
        request_id: Optional[str] = None,
        request_eager_start: bool = False,
        static_summary: Optional[str] = None,
        static_details: Optional[str] = None,
        priority: temporalio.common.Priority = temporalio.common.Priority.default,
        rpc_metadata: Mapping[str, Union[str, bytes]] = {},
        rpc_timeout: Optional[timedelta] = None,
    ) -> ReturnType: ...

    @overload
    async def execute_workflow(
        self,
        workflow: Callable[[SelfType, ParamType], Awaitable[ReturnType]],
        arg: ParamType,
        *,
        id: str,
        task_queue: str,
        execution_timeout: Optional[timedelta] = None,
        run_timeout: Optional[timedelta] = None,
        task_timeout: Optional[timedelta] = None,
        id_reuse_policy: WorkflowIDReusePolicy = WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        id_conflict_policy: WorkflowIDConflictPolicy = WorkflowIDConflictPolicy.UNSPECIFIED,
        retry_policy: Optional[RetryPolicy] = None,
        cron_schedule: str = "",
        memo: Optional[Mapping[str, Any]] = None,
        search_attributes: Optional[Mapping[str, Any]] = None,
        start_delay: Optional[timedelta] = None,
        start_signal: Optional[str] = None,
        start_signal_args: Sequence[Any] = [],
        request_id: Optional[str] = None,
        request_eager_start: bool = False,
        static_summary: Optional[str] = None,
        static_details: Optional[str] = None,
        priority: temporalio.common.Priority = temporalio.common.Priority.default,
        rpc_metadata: Mapping[str, Union[str, bytes]] = {},
        rpc_timeout: Optional[timedelta] = None,
    ) -> ReturnType: ...

    @overload
    async def execute_workflow(
        self,
        workflow: Callable[[SelfType, Unpack[MultiParamType]], Awaitable[ReturnType]],
        *args: Unpack[MultiParamType],
        id: str,
        task_queue: str,
        execution_timeout: Optional[timedelta] = None,
        run_timeout: Optional[timedelta] = None,
        task_timeout: Optional[timedelta] = None,
        id_reuse_policy: WorkflowIDReusePolicy = WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        id_conflict_policy: WorkflowIDConflictPolicy = WorkflowIDConflictPolicy.UNSPECIFIED,
        retry_policy: Optional[RetryPolicy] = None,
        cron_schedule: str = "",
        memo: Optional[Mapping[str, Any]] = None,
        search_attributes: Optional[Mapping[str, Any]] = None,
        start_delay: Optional[timedelta] = None,
        start_signal: Optional[str] = None,
        start_signal_args: Sequence[Any] = [],
        request_id: Optional[str] = None,
        request_eager_start: bool = False,
        static_summary: Optional[str] = None,
        static_details: Optional[str] = None,
        priority: temporalio.common.Priority = temporalio.common.Priority.default,
        rpc_metadata: Mapping[str, Union[str, bytes]] = {},
        rpc_timeout: Optional[timedelta] = None,
    ) -> ReturnType: ...

    @overload
    async def execute_workflow(
        self,
        workflow: Callable[Concatenate[SelfType, MultiParamSpec], Awaitable[ReturnType]],
        *,
        args: Sequence[Any],
        id: str,
        task_queue: str,
        execution_timeout: Optional[timedelta] = None,
        run_timeout: Optional[timedelta] = None,
        task_timeout: Optional[timedelta] = None,
        id_reuse_policy: WorkflowIDReusePolicy = WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        id_conflict_policy: WorkflowIDConflictPolicy = WorkflowIDConflictPolicy.UNSPECIFIED,
        retry_policy: Optional[RetryPolicy] = None,
        cron_schedule: str = "",
        memo: Optional[Mapping[str, Any]] = None,
        search_attributes: Optional[Mapping[str, Any]] = None,
        start_delay: Optional[timedelta] = None,
        start_signal: Optional[str] = None,
        start_signal_args: Sequence[Any] = [],
        request_id: Optional[str] = None,
        request_eager_start: bool = False,
        static_summary: Optional[str] = None,
        static_details: Optional[str] = None,
        priority: temporalio.common.Priority = temporalio.common.Priority.default,
        rpc_metadata: Mapping[str, Union[str, bytes]] = {},
        rpc_timeout: Optional[timedelta] = None,
    ) -> ReturnType: ...

    @overload
    async def execute_workflow(
        self,
        workflow: str,
        *params: Any,
        arg: Any = temporalio.common._arg_unset,
        args: Sequence[Any] = [],
        id: str,
        task_queue: str,
        execution_timeout: Optional[timedelta] = None,
        run_timeout: Optional[timedelta] = None,
        task_timeout: Optional[timedelta] = None,
        id_reuse_policy: WorkflowIDReusePolicy = WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        id_conflict_policy: WorkflowIDConflictPolicy = WorkflowIDConflictPolicy.UNSPECIFIED,
        retry_policy: Optional[RetryPolicy] = None,
        cron_schedule: str = "",
        memo: Optional[Mapping[str, Any]] = None,
        search_attributes: Optional[Mapping[str, Any]] = None,
        start_delay: Optional[timedelta] = None,
        start_signal: Optional[str] = None,
        start_signal_args: Sequence[Any] = [],
        request_id: Optional[str] = None,
        request_eager_start: bool = False,
        static_summary: Optional[str] = None,
        static_details: Optional[str] = None,
        priority: temporalio.common.Priority = temporalio.common.Priority.default,
        rpc_metadata: Mapping[str, Union[str, bytes]] = {},
        rpc_timeout: Optional[timedelta] = None,
        result_type: Optional[type] = None,
    ) -> Any: ...

    async def execute_workflow(self, workflow: Any, *params: object, **kwargs: Any) -> Any:
        """Starts a workflow and waits for its result (see :py:meth:`start_workflow`)."""
        handle: WorkflowHandle[Any, Any] = await self.start_workflow(workflow, *params, **kwargs)
        return await handle.result()

    # ---- handles ----

    def get_workflow_handle(
        self,
        workflow_id: str,
        *,
        run_id: Optional[str] = None,
        first_execution_run_id: Optional[str] = None,
        result_type: Optional[type] = None,
    ) -> "WorkflowHandle[Any, Any]":
        """A handle to an existing workflow (untyped)."""
        if not workflow_id:
            raise ValueError("workflow_id must not be empty")
        return WorkflowHandle(
            self, workflow_id, run_id=run_id, result_run_id=run_id,
            first_execution_run_id=first_execution_run_id, result_type=result_type,
        )

    def get_workflow_handle_for(
        self,
        workflow: Callable[Concatenate[WorkflowType, MultiParamSpec], Awaitable[WorkflowReturnType]],
        workflow_id: str,
        *,
        run_id: Optional[str] = None,
        first_execution_run_id: Optional[str] = None,
    ) -> "WorkflowHandle[WorkflowType, WorkflowReturnType]":
        """A typed handle to an existing workflow of the class whose run method is given."""
        temporalio.workflow.WorkflowDefinition.must_name_from_fn_or_str(workflow)
        _, ret_type = temporalio.common._type_hints_from_func(workflow)
        if not workflow_id:
            raise ValueError("workflow_id must not be empty")
        return WorkflowHandle(
            self, workflow_id, run_id=run_id, result_run_id=run_id,
            first_execution_run_id=first_execution_run_id, result_type=ret_type,
        )

    def get_async_activity_handle(
        self,
        *,
        workflow_id: Optional[str] = None,
        run_id: Optional[str] = None,
        activity_id: Optional[str] = None,
        task_token: Optional[bytes] = None,
    ) -> "AsyncActivityHandle":
        """A handle to complete, fail, cancel or heartbeat an activity from outside its worker.

        Give either ``task_token`` (``activity.info().task_token``) or
        ``workflow_id`` and ``activity_id`` (``run_id`` optional: the latest
        run), in this client's namespace.
        """
        if task_token is not None:
            if workflow_id is not None or run_id is not None or activity_id is not None:
                raise ValueError("give either task_token or workflow_id/run_id/activity_id, not both")
            if not isinstance(task_token, (bytes, bytearray)) or not task_token:
                raise ValueError("task_token must be non-empty bytes")
            return AsyncActivityHandle(self, bytes(task_token))
        if not workflow_id or not activity_id:
            raise ValueError("give task_token, or both workflow_id and activity_id")
        return AsyncActivityHandle(self, AsyncActivityIDReference(workflow_id, run_id, activity_id))

    # ---- list / count ----

    def list_workflows(
        self,
        query: Optional[str] = None,
        *,
        page_size: int = 1000,
        next_page_token: Optional[bytes] = None,
        limit: Optional[int] = None,
        rpc_metadata: Mapping[str, Union[str, bytes]] = {},
        rpc_timeout: Optional[timedelta] = None,
    ) -> AsyncIterator[WorkflowExecution]:
        """Iterates over executions matching a visibility query (all when None).

        ``rpc_metadata`` and ``rpc_timeout`` apply to each page's call.
        """
        if page_size < 0:
            raise ValueError("page_size must not be negative")
        return self._impl.list_workflows(
            ListWorkflowsInput(
                query, page_size, next_page_token, limit, rpc_metadata=rpc_metadata, rpc_timeout=rpc_timeout
            )
        )

    async def count_workflows(
        self,
        query: Optional[str] = None,
        rpc_metadata: Mapping[str, Union[str, bytes]] = {},
        rpc_timeout: Optional[timedelta] = None,
    ) -> WorkflowExecutionCount:
        """Counts executions matching a visibility query (all when None)."""
        return await self._impl.count_workflows(
            CountWorkflowsInput(query, rpc_metadata=rpc_metadata, rpc_timeout=rpc_timeout)
        )


class AsyncActivityHandle:
    """An activity completed from outside its worker (see :py:meth:`Client.get_async_activity_handle`)."""

    def __init__(self, client: Client, id_or_token: Union[AsyncActivityIDReference, bytes]) -> None:
        self._client = client
        self._id_or_token = id_or_token

    @property
    def id_or_token(self) -> Union[AsyncActivityIDReference, bytes]:
        """What the handle addresses the activity by."""
        return self._id_or_token

    async def heartbeat(
        self,
        *details: Any,
        rpc_metadata: Mapping[str, Union[str, bytes]] = {},
        rpc_timeout: Optional[timedelta] = None,
    ) -> None:
        """Records a heartbeat (not throttled).

        Raises:
            AsyncActivityCancelledError: The server asked for the activity's
                cancellation (or paused or reset it).
        """
        await self._client._impl.heartbeat_async_activity(
            HeartbeatAsyncActivityInput(self._id_or_token, details, rpc_metadata=rpc_metadata, rpc_timeout=rpc_timeout)
        )

    async def complete(
        self,
        result: Optional[Any] = temporalio.common._arg_unset,
        *,
        rpc_metadata: Mapping[str, Union[str, bytes]] = {},
        rpc_timeout: Optional[timedelta] = None,
    ) -> None:
        """Completes the activity with ``result`` (none when not given)."""
        value = None if result is temporalio.common._arg_unset else result
        await self._client._impl.complete_async_activity(
            CompleteAsyncActivityInput(self._id_or_token, value, rpc_metadata=rpc_metadata, rpc_timeout=rpc_timeout)
        )

    async def fail(
        self,
        error: Exception,
        *,
        last_heartbeat_details: Sequence[Any] = [],
        rpc_metadata: Mapping[str, Union[str, bytes]] = {},
        rpc_timeout: Optional[timedelta] = None,
    ) -> None:
        """Fails the activity with ``error`` (converted by the data converter's failure converter).

        ``last_heartbeat_details`` are recorded with a heartbeat first, so the
        next attempt sees them.
        """
        await self._client._impl.fail_async_activity(
            FailAsyncActivityInput(
                self._id_or_token, error, last_heartbeat_details, rpc_metadata=rpc_metadata, rpc_timeout=rpc_timeout
            )
        )

    async def report_cancellation(
        self,
        *details: Any,
        rpc_metadata: Mapping[str, Union[str, bytes]] = {},
        rpc_timeout: Optional[timedelta] = None,
    ) -> None:
        """Reports the activity cancelled with ``details``."""
        await self._client._impl.report_cancellation_async_activity(
            ReportCancellationAsyncActivityInput(
                self._id_or_token, details, rpc_metadata=rpc_metadata, rpc_timeout=rpc_timeout
            )
        )


class WorkflowHandle(Generic[SelfType, ReturnType]):
    """A workflow execution: signal, query, cancel, terminate, describe it, or await its result."""

    def __init__(
        self,
        client: Client,
        id: str,
        *,
        run_id: Optional[str] = None,
        result_run_id: Optional[str] = None,
        first_execution_run_id: Optional[str] = None,
        result_type: Optional[type] = None,
    ) -> None:
        self._client = client
        self._id = id
        self._run_id = run_id
        self._result_run_id = result_run_id
        self._first_execution_run_id = first_execution_run_id
        self._result_type = result_type

    @property
    def id(self) -> str:
        return self._id

    @property
    def run_id(self) -> Optional[str]:
        return self._run_id

    @property
    def result_run_id(self) -> Optional[str]:
        return self._result_run_id

    @property
    def first_execution_run_id(self) -> Optional[str]:
        return self._first_execution_run_id

    async def result(
        self,
        *,
        follow_runs: bool = True,
        rpc_metadata: Mapping[str, Union[str, bytes]] = {},
        rpc_timeout: Optional[timedelta] = None,
    ) -> ReturnType:
        """Waits for the workflow to close and returns its result.

        Raises :py:class:`WorkflowFailureError` (cause: the failure,
        cancellation, termination or timeout) unless it completed, and
        :py:class:`WorkflowContinuedAsNewError` when it continued as new and
        ``follow_runs`` is False.

        ``rpc_timeout`` is the deadline of each call while waiting, not of the
        wait as a whole: a long poll that runs out is polled again. Cancelling
        the awaiting task (``asyncio.wait_for``, say) cancels the wait in the
        engine too.
        """
        client = self._client
        keep: list[Any] = []
        opts = ffi.new("tw_result_options *")
        lib.tw_result_options_init(opts)
        opts.workflow_id = _bridge.cstr(self._id, keep)
        opts.run_id = _bridge.cstr(self._result_run_id, keep)
        opts.follow_runs = 1 if follow_runs else 0
        ev = await client._call(
            lambda ptr, cq, tag: lib.tw_client_workflow_result(ptr, opts, cq, tag),
            rpc_metadata=rpc_metadata, rpc_timeout=rpc_timeout,
        )
        outcome = ev.outcome
        conv = client.data_converter
        if outcome == lib.TW_OUTCOME_COMPLETED:
            payloads = ev.payloads()
            if not payloads:
                return cast(ReturnType, None)
            values = await conv.decode(payloads, [self._result_type] if self._result_type else None)
            return cast(ReturnType, values[0])
        if outcome == lib.TW_OUTCOME_CONTINUED_AS_NEW:
            raise WorkflowContinuedAsNewError(ev.run_id)
        failure = ev.failure()
        if outcome == lib.TW_OUTCOME_TERMINATED:
            # TerminatedFailureInfo has no details: the engine returns the
            # termination details as the event's payloads.
            payloads = ev.payloads()
            details = await conv.decode(payloads) if payloads else []
            reason = failure.message if failure is not None and failure.message else "Workflow execution terminated"
            raise WorkflowFailureError(cause=temporalio.exceptions.TerminatedError(reason, *details))
        if failure is None:
            raise RuntimeError(f"workflow {self._id} closed with outcome {outcome} and no failure")
        raise WorkflowFailureError(cause=await conv.decode_failure(failure))

    # ---- signal ----

    @overload
    async def signal(
        self,
        signal: Callable[[SelfType], Union[Awaitable[None], None]],
        /,
        *,
        rpc_metadata: Mapping[str, Union[str, bytes]] = {},
        rpc_timeout: Optional[timedelta] = None,
    ) -> None: ...

    @overload
    async def signal(
        self,
        signal: Callable[[SelfType, ParamType], Union[Awaitable[None], None]],
        /,
        arg: ParamType,
        *,
        rpc_metadata: Mapping[str, Union[str, bytes]] = {},
        rpc_timeout: Optional[timedelta] = None,
    ) -> None: ...

    @overload
    async def signal(
        self,
        signal: Callable[[SelfType, Unpack[MultiParamType]], Union[Awaitable[None], None]],
        /,
        *args: Unpack[MultiParamType],
        rpc_metadata: Mapping[str, Union[str, bytes]] = {},
        rpc_timeout: Optional[timedelta] = None,
    ) -> None: ...

    @overload
    async def signal(
        self,
        signal: Callable[Concatenate[SelfType, MultiParamSpec], Union[Awaitable[None], None]],
        /,
        *,
        args: Sequence[Any],
        rpc_metadata: Mapping[str, Union[str, bytes]] = {},
        rpc_timeout: Optional[timedelta] = None,
    ) -> None: ...

    @overload
    async def signal(
        self,
        signal: str,
        /,
        *params: Any,
        arg: Any = temporalio.common._arg_unset,
        args: Sequence[Any] = [],
        rpc_metadata: Mapping[str, Union[str, bytes]] = {},
        rpc_timeout: Optional[timedelta] = None,
    ) -> None: ...

    async def signal(
        self,
        signal: Union[str, Callable[..., Any]],
        /,
        *params: object,
        arg: Any = temporalio.common._arg_unset,
        args: Sequence[Any] = [],
        rpc_metadata: Mapping[str, Union[str, bytes]] = {},
        rpc_timeout: Optional[timedelta] = None,
    ) -> None:
        """Sends a signal, by ``@workflow.signal`` method (typed) or by name.

        Arguments are given positionally, or as ``arg=`` or ``args=``.
        """
        name = temporalio.workflow.SignalDefinition.must_name_from_fn_or_str(signal)
        await self._client._impl.signal_workflow(
            SignalWorkflowInput(
                self._id, self._run_id, name, _call_args(params, arg, args), {},
                rpc_metadata=rpc_metadata, rpc_timeout=rpc_timeout,
            )
        )

    # ---- query ----

    # Async handlers first: matched against the Union form, an async method
    # would bind LocalReturnType to the coroutine type.
    @overload
    async def query(
        self,
        query: Callable[[SelfType], Awaitable[LocalReturnType]],
        /,
        *,
        reject_condition: Optional[QueryRejectCondition] = None,
        rpc_metadata: Mapping[str, Union[str, bytes]] = {},
        rpc_timeout: Optional[timedelta] = None,
    ) -> LocalReturnType: ...

    @overload
    async def query(
        self,
        query: Callable[[SelfType, ParamType], Awaitable[LocalReturnType]],
        /,
        arg: ParamType,
        *,
        reject_condition: Optional[QueryRejectCondition] = None,
        rpc_metadata: Mapping[str, Union[str, bytes]] = {},
        rpc_timeout: Optional[timedelta] = None,
    ) -> LocalReturnType: ...

    @overload
    async def query(
        self,
        query: Callable[[SelfType], Union[Awaitable[LocalReturnType], LocalReturnType]],
        /,
        *,
        reject_condition: Optional[QueryRejectCondition] = None,
        rpc_metadata: Mapping[str, Union[str, bytes]] = {},
        rpc_timeout: Optional[timedelta] = None,
    ) -> LocalReturnType: ...

    @overload
    async def query(
        self,
        query: Callable[[SelfType, ParamType], Union[Awaitable[LocalReturnType], LocalReturnType]],
        /,
        arg: ParamType,
        *,
        reject_condition: Optional[QueryRejectCondition] = None,
        rpc_metadata: Mapping[str, Union[str, bytes]] = {},
        rpc_timeout: Optional[timedelta] = None,
    ) -> LocalReturnType: ...

    @overload
    async def query(
        self,
        query: Callable[[SelfType, Unpack[MultiParamType]], Union[Awaitable[LocalReturnType], LocalReturnType]],
        /,
        *args: Unpack[MultiParamType],
        reject_condition: Optional[QueryRejectCondition] = None,
        rpc_metadata: Mapping[str, Union[str, bytes]] = {},
        rpc_timeout: Optional[timedelta] = None,
    ) -> LocalReturnType: ...

    @overload
    async def query(
        self,
        query: Callable[Concatenate[SelfType, MultiParamSpec], Union[Awaitable[LocalReturnType], LocalReturnType]],
        /,
        *,
        args: Sequence[Any],
        reject_condition: Optional[QueryRejectCondition] = None,
        rpc_metadata: Mapping[str, Union[str, bytes]] = {},
        rpc_timeout: Optional[timedelta] = None,
    ) -> LocalReturnType: ...

    @overload
    async def query(
        self,
        query: str,
        /,
        *params: Any,
        arg: Any = temporalio.common._arg_unset,
        args: Sequence[Any] = [],
        reject_condition: Optional[QueryRejectCondition] = None,
        rpc_metadata: Mapping[str, Union[str, bytes]] = {},
        rpc_timeout: Optional[timedelta] = None,
        result_type: Optional[type] = None,
    ) -> Any: ...

    async def query(
        self,
        query: Union[str, Callable[..., Any]],
        /,
        *params: object,
        arg: Any = temporalio.common._arg_unset,
        args: Sequence[Any] = [],
        reject_condition: Optional[QueryRejectCondition] = None,
        rpc_metadata: Mapping[str, Union[str, bytes]] = {},
        rpc_timeout: Optional[timedelta] = None,
        result_type: Optional[type] = None,
    ) -> Any:
        """Queries the workflow, by ``@workflow.query`` method (typed) or by name.

        Arguments are given positionally, or as ``arg=`` or ``args=``.
        """
        name = temporalio.workflow.QueryDefinition.must_name_from_fn_or_str(query)
        query_args = _call_args(params, arg, args)
        ret_type = result_type
        if ret_type is None and not isinstance(query, str):
            _, ret_type = temporalio.common._type_hints_from_func(query)
        return await self._client._impl.query_workflow(
            QueryWorkflowInput(
                self._id, self._run_id, name, query_args,
                reject_condition or self._client._default_reject, {}, ret_type,
                rpc_metadata=rpc_metadata, rpc_timeout=rpc_timeout,
            )
        )

    # ---- cancel / terminate / describe / history ----

    async def cancel(
        self,
        *,
        reason: Optional[str] = None,
        rpc_metadata: Mapping[str, Union[str, bytes]] = {},
        rpc_timeout: Optional[timedelta] = None,
    ) -> None:
        """Requests cancellation of the workflow."""
        await self._client._impl.cancel_workflow(
            CancelWorkflowInput(
                self._id, self._run_id, self._first_execution_run_id, reason,
                rpc_metadata=rpc_metadata, rpc_timeout=rpc_timeout,
            )
        )

    async def terminate(
        self,
        *args: Any,
        reason: Optional[str] = None,
        rpc_metadata: Mapping[str, Union[str, bytes]] = {},
        rpc_timeout: Optional[timedelta] = None,
    ) -> None:
        """Terminates the workflow; args are recorded as details."""
        await self._client._impl.terminate_workflow(
            TerminateWorkflowInput(
                self._id, self._run_id, self._first_execution_run_id, list(args), reason,
                rpc_metadata=rpc_metadata, rpc_timeout=rpc_timeout,
            )
        )

    async def describe(
        self,
        *,
        rpc_metadata: Mapping[str, Union[str, bytes]] = {},
        rpc_timeout: Optional[timedelta] = None,
    ) -> WorkflowExecutionDescription:
        """Describes the workflow run."""
        return await self._client._impl.describe_workflow(
            DescribeWorkflowInput(self._id, self._run_id, rpc_metadata=rpc_metadata, rpc_timeout=rpc_timeout)
        )

    async def fetch_history(
        self,
        *,
        event_filter_type: WorkflowHistoryEventFilterType = WorkflowHistoryEventFilterType.ALL_EVENT,
        skip_archival: bool = False,
        rpc_metadata: Mapping[str, Union[str, bytes]] = {},
        rpc_timeout: Optional[timedelta] = None,
    ) -> WorkflowHistory:
        """The run's whole history (all pages)."""
        events = [
            e
            async for e in self.fetch_history_events(
                event_filter_type=event_filter_type, skip_archival=skip_archival,
                rpc_metadata=rpc_metadata, rpc_timeout=rpc_timeout,
            )
        ]
        return WorkflowHistory(self._id, events)

    def fetch_history_events(
        self,
        *,
        page_size: Optional[int] = None,
        next_page_token: Optional[bytes] = None,
        wait_new_event: bool = False,
        event_filter_type: WorkflowHistoryEventFilterType = WorkflowHistoryEventFilterType.ALL_EVENT,
        skip_archival: bool = False,
        rpc_metadata: Mapping[str, Union[str, bytes]] = {},
        rpc_timeout: Optional[timedelta] = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Iterates over history events page by page, as proto3-JSON dicts.

        ``rpc_metadata`` and ``rpc_timeout`` apply to each page's call.
        """
        return self._client._impl.fetch_workflow_history_events(
            FetchWorkflowHistoryEventsInput(
                self._id, self._run_id, page_size, next_page_token, wait_new_event, event_filter_type, skip_archival,
                rpc_metadata=rpc_metadata, rpc_timeout=rpc_timeout,
            )
        )


# ---------------------------------------------------------------------------
# The end of the interceptor chain: calls into the engine
# ---------------------------------------------------------------------------


class _ClientImpl(OutboundInterceptor):
    def __init__(self, client: Client) -> None:
        self._client = client

    async def heartbeat_async_activity(self, input: HeartbeatAsyncActivityInput) -> None:
        await _heartbeat_async_activity(self._client, input)

    async def complete_async_activity(self, input: CompleteAsyncActivityInput) -> None:
        await _complete_async_activity(self._client, input)

    async def fail_async_activity(self, input: FailAsyncActivityInput) -> None:
        await _fail_async_activity(self._client, input)

    async def report_cancellation_async_activity(self, input: ReportCancellationAsyncActivityInput) -> None:
        await _report_cancellation_async_activity(self._client, input)

    async def _encode_map(self, values: Optional[Mapping[str, Any]]) -> dict[str, Payload]:
        out: dict[str, Payload] = {}
        for key, value in (values or {}).items():
            out[key] = (await self._client.data_converter.encode([value]))[0]
        return out

    @staticmethod
    def _search_attribute_payloads(values: Optional[Mapping[str, Any]]) -> dict[str, Payload]:
        out: dict[str, Payload] = {}
        conv = temporalio.converter.default().payload_converter
        for key, value in (values or {}).items():
            if isinstance(value, list) and len(value) == 1:
                value = value[0]
            if isinstance(value, datetime):
                value = value.isoformat()
            out[key] = conv.to_payloads([value])[0]
        return out

    async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
        c = self._client
        keep: list[Any] = []
        o = ffi.new("tw_start_workflow_options *")
        lib.tw_start_workflow_options_init(o)
        o.workflow_id = _bridge.cstr(input.id, keep)
        o.workflow_type = _bridge.cstr(input.workflow, keep)
        o.task_queue = _bridge.cstr(input.task_queue, keep)
        args = _bridge.payloads_to_c(await c.data_converter.encode(input.args))
        keep.append(args)
        o.args = args
        o.execution_timeout_ms = _bridge.millis(input.execution_timeout)
        o.run_timeout_ms = _bridge.millis(input.run_timeout)
        o.task_timeout_ms = _bridge.millis(input.task_timeout)
        o.id_reuse_policy = int(input.id_reuse_policy)
        o.id_conflict_policy = int(input.id_conflict_policy)
        if input.retry_policy is not None:
            rp = ffi.new("tw_retry_policy *")
            lib.tw_retry_policy_init(rp)
            p = input.retry_policy
            rp.initial_interval_ms = _bridge.millis(p.initial_interval)
            rp.backoff_coefficient = p.backoff_coefficient
            rp.maximum_interval_ms = _bridge.millis(p.maximum_interval)
            rp.maximum_attempts = p.maximum_attempts
            if p.non_retryable_error_types:
                types = ffi.new("const char *[]", [_bridge.cstr(t, keep) for t in p.non_retryable_error_types] + [ffi.NULL])
                keep.append(types)
                rp.non_retryable_error_types = types
            keep.append(rp)
            o.retry_policy = rp
        o.cron_schedule = _bridge.cstr(input.cron_schedule or None, keep)
        for field_name, payloads in (
            ("memo", await self._encode_map(input.memo)),
            ("search_attributes", self._search_attribute_payloads(input.search_attributes)),
            ("headers", dict(input.headers)),
        ):
            if payloads:
                lst = _bridge.payload_map_to_c(payloads)
                keep.append(lst)
                setattr(o, field_name, lst)
        o.start_delay_ms = _bridge.millis(input.start_delay)
        o.request_id = _bridge.cstr(input.request_id, keep)
        o.request_eager_start = 1 if input.request_eager_start else 0
        o.priority = _bridge.priority_to_c(input.priority, keep)
        for field_name, text in (("static_summary", input.static_summary), ("static_details", input.static_details)):
            if text is not None:
                lst = _bridge.payloads_to_c(await c.data_converter.encode([text]))
                keep.append(lst)
                setattr(o, field_name, lst)
        fn = lib.tw_client_start_workflow
        if input.start_signal is not None:
            fn = lib.tw_client_signal_with_start
            o.signal_name = _bridge.cstr(input.start_signal, keep)
            sargs = _bridge.payloads_to_c(await c.data_converter.encode(input.start_signal_args))
            keep.append(sargs)
            o.signal_args = sargs
        try:
            ev = await c._start(lambda ptr, cq, tag: fn(ptr, o, cq, tag), input.rpc_metadata, input.rpc_timeout)
        except _bridge._EventError as e:
            if e.event.status == lib.TW_EALREADY_STARTED:
                raise WorkflowAlreadyStartedError(
                    input.id, input.workflow, run_id=e.event.error_run_id() or None
                ) from None
            raise e.event.error() from None
        return WorkflowHandle(
            c, input.id, run_id=ev.run_id, result_run_id=ev.run_id,
            first_execution_run_id=ev.run_id, result_type=input.ret_type,
        )

    async def signal_workflow(self, input: SignalWorkflowInput) -> None:
        c = self._client
        keep: list[Any] = []
        o = ffi.new("tw_signal_options *")
        lib.tw_signal_options_init(o)
        o.workflow_id = _bridge.cstr(input.id, keep)
        o.run_id = _bridge.cstr(input.run_id, keep)
        o.signal_name = _bridge.cstr(input.signal, keep)
        args = _bridge.payloads_to_c(await c.data_converter.encode(input.args))
        o.args = args
        if input.headers:
            headers = _bridge.payload_map_to_c(input.headers)
            keep.append(headers)
            o.headers = headers
        await c._call(
            lambda ptr, cq, tag: lib.tw_client_signal_workflow(ptr, o, cq, tag), input.rpc_metadata, input.rpc_timeout
        )

    async def query_workflow(self, input: QueryWorkflowInput) -> Any:
        c = self._client
        keep: list[Any] = []
        o = ffi.new("tw_query_options *")
        lib.tw_query_options_init(o)
        o.workflow_id = _bridge.cstr(input.id, keep)
        o.run_id = _bridge.cstr(input.run_id, keep)
        o.query_type = _bridge.cstr(input.query, keep)
        args = _bridge.payloads_to_c(await c.data_converter.encode(input.args))
        o.args = args
        if input.headers:
            headers = _bridge.payload_map_to_c(input.headers)
            keep.append(headers)
            o.headers = headers
        o.reject_condition = int(input.reject_condition) if input.reject_condition else 0
        try:
            ev = await c._start(
                lambda ptr, cq, tag: lib.tw_client_query_workflow(ptr, o, cq, tag), input.rpc_metadata, input.rpc_timeout
            )
        except _bridge._EventError as e:
            if e.event.status == lib.TW_EQUERY_REJECTED:
                status = e.event.workflow_status
                raise WorkflowQueryRejectedError(WorkflowExecutionStatus(status) if status else None) from None
            raise e.event.error() from None
        payloads = ev.payloads()
        if not payloads:
            return None
        return (await c.data_converter.decode(payloads, [input.ret_type] if input.ret_type else None))[0]

    def _close_options(self, id: str, run_id: Optional[str], first: Optional[str], reason: Optional[str], keep: list[Any]) -> Any:
        o = ffi.new("tw_close_options *")
        lib.tw_close_options_init(o)
        o.workflow_id = _bridge.cstr(id, keep)
        o.run_id = _bridge.cstr(run_id, keep)
        o.first_execution_run_id = _bridge.cstr(first, keep)
        o.reason = _bridge.cstr(reason, keep)
        return o

    async def cancel_workflow(self, input: CancelWorkflowInput) -> None:
        c = self._client
        keep: list[Any] = []
        o = self._close_options(input.id, input.run_id, input.first_execution_run_id, input.reason, keep)
        await c._call(
            lambda ptr, cq, tag: lib.tw_client_cancel_workflow(ptr, o, cq, tag), input.rpc_metadata, input.rpc_timeout
        )

    async def terminate_workflow(self, input: TerminateWorkflowInput) -> None:
        c = self._client
        keep: list[Any] = []
        o = self._close_options(input.id, input.run_id, input.first_execution_run_id, input.reason, keep)
        if input.args:
            details = _bridge.payloads_to_c(await c.data_converter.encode(input.args))
            keep.append(details)
            o.details = details
        await c._call(
            lambda ptr, cq, tag: lib.tw_client_terminate_workflow(ptr, o, cq, tag),
            input.rpc_metadata, input.rpc_timeout,
        )

    async def describe_workflow(self, input: DescribeWorkflowInput) -> WorkflowExecutionDescription:
        c = self._client
        keep: list[Any] = []
        wid, rid = _bridge.cstr(input.id, keep), _bridge.cstr(input.run_id, keep)
        ev = await c._call(
            lambda ptr, cq, tag: lib.tw_client_describe_workflow(ptr, wid, rid, cq, tag),
            input.rpc_metadata, input.rpc_timeout,
        )
        (ex,) = ev.executions()
        base = WorkflowExecution._from_c(ex, c.data_converter)
        summary = _bridge.payloads_from_c(lib.tw_execution_static_summary(ex))
        details = _bridge.payloads_from_c(lib.tw_execution_static_details(ex))
        return WorkflowExecutionDescription(
            **{f: getattr(base, f) for f in base.__dataclass_fields__},
            _raw_static_summary=summary[0] if summary else None,
            _raw_static_details=details[0] if details else None,
        )

    async def fetch_workflow_history_events(
        self, input: FetchWorkflowHistoryEventsInput
    ) -> AsyncIterator[dict[str, Any]]:
        c = self._client
        token = input.next_page_token or b""
        while True:
            keep: list[Any] = []
            o = ffi.new("tw_history_options *")
            lib.tw_history_options_init(o)
            o.workflow_id = _bridge.cstr(input.id, keep)
            o.run_id = _bridge.cstr(input.run_id, keep)
            if token:
                buf = ffi.new("uint8_t[]", token)
                keep.append(buf)
                o.next_page_token = buf
                o.next_page_token_len = len(token)
            o.maximum_page_size = input.page_size or 0
            o.wait_new_event = 1 if input.wait_new_event else 0
            o.close_event_only = 1 if input.event_filter_type == WorkflowHistoryEventFilterType.CLOSE_EVENT else 0
            o.skip_archival = 1 if input.skip_archival else 0
            ev = await c._call(
                lambda ptr, cq, tag: lib.tw_client_fetch_history(ptr, o, cq, tag), input.rpc_metadata, input.rpc_timeout
            )
            for event in json.loads(ev.history_json()).get("events", []):
                yield event
            token = ev.next_page_token()
            if not token:
                return

    async def list_workflows(self, input: ListWorkflowsInput) -> AsyncIterator[WorkflowExecution]:
        c = self._client
        token = input.next_page_token or b""
        seen = 0
        while True:
            keep: list[Any] = []
            o = ffi.new("tw_list_options *")
            lib.tw_list_options_init(o)
            o.query = _bridge.cstr(input.query, keep)
            o.page_size = input.page_size
            if token:
                buf = ffi.new("uint8_t[]", token)
                keep.append(buf)
                o.next_page_token = buf
                o.next_page_token_len = len(token)
            ev = await c._call(
                lambda ptr, cq, tag: lib.tw_client_list_workflows(ptr, o, cq, tag), input.rpc_metadata, input.rpc_timeout
            )
            for ex in ev.executions():
                if input.limit is not None and seen >= input.limit:
                    return
                seen += 1
                yield WorkflowExecution._from_c(ex, c.data_converter)
            token = ev.next_page_token()
            if not token:
                return

    async def count_workflows(self, input: CountWorkflowsInput) -> WorkflowExecutionCount:
        c = self._client
        keep: list[Any] = []
        q = _bridge.cstr(input.query, keep)
        ev = await c._call(
            lambda ptr, cq, tag: lib.tw_client_count_workflows(ptr, q, cq, tag), input.rpc_metadata, input.rpc_timeout
        )
        return WorkflowExecutionCount(ev.count)


# ---------------------------------------------------------------------------
# Async activity completion (the _ClientImpl side)
# ---------------------------------------------------------------------------


def _activity_ref(id_or_token: Union[AsyncActivityIDReference, bytes], keep: list[Any]) -> Any:
    ref = ffi.new("tw_activity_ref *")
    lib.tw_activity_ref_init(ref)
    if isinstance(id_or_token, (bytes, bytearray)):
        token = ffi.new("uint8_t[]", bytes(id_or_token))
        keep.append(token)
        ref.task_token = token
        ref.task_token_len = len(id_or_token)
    else:
        ref.workflow_id = _bridge.cstr(id_or_token.workflow_id, keep)
        ref.run_id = _bridge.cstr(id_or_token.run_id, keep)
        ref.activity_id = _bridge.cstr(id_or_token.activity_id, keep)
    keep.append(ref)
    return ref


async def _heartbeat_async_activity(client: Client, input: HeartbeatAsyncActivityInput) -> None:
    keep: list[Any] = []
    ref = _activity_ref(input.id_or_token, keep)
    details = _bridge.payloads_to_c(await client.data_converter.encode(list(input.details)))
    ev = await client._call(
        lambda ptr, cq, tag: lib.tw_client_heartbeat_activity(ptr, ref, details, cq, tag),
        input.rpc_metadata, input.rpc_timeout,
    )
    cancel = bool(lib.tw_event_activity_cancel_requested(ev.ptr))
    paused = bool(lib.tw_event_activity_paused(ev.ptr))
    reset = bool(lib.tw_event_activity_reset(ev.ptr))
    if cancel or paused or reset:
        import temporalio.activity

        raise AsyncActivityCancelledError(
            temporalio.activity.ActivityCancellationDetails(cancel_requested=cancel, paused=paused, reset=reset)
        )


async def _complete_async_activity(client: Client, input: CompleteAsyncActivityInput) -> None:
    keep: list[Any] = []
    ref = _activity_ref(input.id_or_token, keep)
    result = _bridge.payloads_to_c(await client.data_converter.encode([input.result]))
    await client._call(
        lambda ptr, cq, tag: lib.tw_client_complete_activity(ptr, ref, result, cq, tag),
        input.rpc_metadata, input.rpc_timeout,
    )


async def _fail_async_activity(client: Client, input: FailAsyncActivityInput) -> None:
    from temporalio.api.failure.v1 import Failure

    if input.last_heartbeat_details:
        await _heartbeat_async_activity(
            client,
            HeartbeatAsyncActivityInput(
                input.id_or_token, input.last_heartbeat_details,
                rpc_metadata=input.rpc_metadata, rpc_timeout=input.rpc_timeout,
            ),
        )
    keep: list[Any] = []
    ref = _activity_ref(input.id_or_token, keep)
    failure = Failure()
    await client.data_converter.encode_failure(input.error, failure)
    data = failure.SerializeToString()
    await client._call(
        lambda ptr, cq, tag: lib.tw_client_fail_activity_encoded(ptr, ref, data, len(data), cq, tag),
        input.rpc_metadata, input.rpc_timeout,
    )


async def _report_cancellation_async_activity(client: Client, input: ReportCancellationAsyncActivityInput) -> None:
    keep: list[Any] = []
    ref = _activity_ref(input.id_or_token, keep)
    details = _bridge.payloads_to_c(await client.data_converter.encode(list(input.details)))
    await client._call(
        lambda ptr, cq, tag: lib.tw_client_report_activity_cancelled(ptr, ref, details, cq, tag),
        input.rpc_metadata, input.rpc_timeout,
    )

