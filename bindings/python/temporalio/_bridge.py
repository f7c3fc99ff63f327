"""The seam between Python and libtemporal-workflow (internal).

Everything that touches the cffi extension lives here: the process-wide
runtime, one completion queue per asyncio loop (its eventfd registered with
``loop.add_reader``, so no call ever blocks the loop), error mapping, and
conversion of payloads and failures between the C views and the Python
mirrors in :py:mod:`temporalio.api`.

C never holds Python objects: each call carries an integer tag, and the
future waiting for it is found in a dict when the event arrives.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any, Optional

import temporalio.common
import temporalio.exceptions
from temporalio._tw import ffi, lib
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import (
    ActivityFailureInfo,
    ApplicationFailureInfo,
    CanceledFailureInfo,
    ChildWorkflowExecutionFailureInfo,
    Failure,
    ResetWorkflowFailureInfo,
    ServerFailureInfo,
    TerminatedFailureInfo,
    TimeoutFailureInfo,
)
from temporalio.api.common.v1 import Payloads as PayloadsMessage

__all__ = ["Runtime", "Event", "CData", "raise_for", "error_from"]

CData = Any  # a cffi pointer

_status_by_code = {
    lib.TW_ENOTFOUND: temporalio.exceptions.RPCStatusCode.NOT_FOUND,
    lib.TW_EALREADY_STARTED: temporalio.exceptions.RPCStatusCode.ALREADY_EXISTS,
    lib.TW_ETIMEDOUT: temporalio.exceptions.RPCStatusCode.DEADLINE_EXCEEDED,
    lib.TW_ECANCELLED: temporalio.exceptions.RPCStatusCode.CANCELLED,
    lib.TW_EUNAVAILABLE: temporalio.exceptions.RPCStatusCode.UNAVAILABLE,
    lib.TW_ECLOSED: temporalio.exceptions.RPCStatusCode.CANCELLED,
    lib.TW_EQUERY_FAILED: temporalio.exceptions.RPCStatusCode.INVALID_ARGUMENT,
}


def _text(ptr: CData) -> str:
    return "" if ptr == ffi.NULL else ffi.string(ptr).decode("utf-8", "replace")


def error_from(code: int, err: CData) -> Exception:
    """The Python exception for a TW_E* code and its details."""
    message = _text(lib.tw_error_message(err))
    if code == lib.TW_EINVAL:
        return ValueError(message)
    if code == lib.TW_ENOMEM:
        return MemoryError(message)
    if code == lib.TW_EQUERY_FAILED:
        return temporalio.exceptions.WorkflowQueryFailedError(message)
    data = ffi.new("const uint8_t **")
    size = ffi.new("size_t *")
    lib.tw_error_status_bytes(err, data, size)
    raw = bytes(ffi.buffer(data[0], size[0])) if size[0] else b""
    grpc_status = lib.tw_error_grpc_status(err)
    if grpc_status:
        status = temporalio.exceptions.RPCStatusCode(grpc_status)
    else:
        status = _status_by_code.get(code, temporalio.exceptions.RPCStatusCode.UNKNOWN)
    return temporalio.exceptions.RPCError(message, status, raw)


def raise_for(rc: int) -> None:
    """Raises the calling thread's last error when rc is a TW_E* code."""
    if rc != 0:
        raise error_from(rc, lib.tw_error_last())


def cstr(value: Optional[str], keep: list[Any]) -> CData:
    """A NUL-terminated copy of value kept alive by keep (NULL for None)."""
    if value is None:
        return ffi.NULL
    buf = ffi.new("char[]", value.encode("utf-8"))
    keep.append(buf)
    return buf


def millis(value: Optional[timedelta]) -> int:
    if value is None:
        return 0
    ms = int(value.total_seconds() * 1000)
    if ms < 0:
        raise ValueError(f"durations must not be negative, got {value}")
    return ms


# ---- priority ----

def priority_to_c(priority: Optional[temporalio.common.Priority], keep: list[Any]) -> CData:
    """A tw_priority for priority (NULL for None), kept alive by keep; the engine checks the values."""
    if priority is None:
        return ffi.NULL
    p = ffi.new("tw_priority *")
    lib.tw_priority_init(p)
    if priority.priority_key is not None:
        if not -(2**31) <= priority.priority_key < 2**31:
            raise ValueError(f"Priority.priority_key {priority.priority_key} does not fit in 32 bits")
        p.priority_key = priority.priority_key
    if priority.fairness_key is not None:
        if not isinstance(priority.fairness_key, str):
            raise TypeError("Priority.fairness_key must be a string")
        p.fairness_key = cstr(priority.fairness_key, keep)
    if priority.fairness_weight is not None:
        if isinstance(priority.fairness_weight, bool) or not isinstance(priority.fairness_weight, (int, float)):
            raise TypeError("Priority.fairness_weight must be a number")
        p.fairness_weight = float(priority.fairness_weight)
    keep.append(p)
    return p


def priority_from_c(p: CData) -> temporalio.common.Priority:
    """The Priority a filled tw_priority holds (unset fields: None)."""
    return temporalio.common.Priority(
        priority_key=int(p.priority_key) or None,
        fairness_key=_text(p.fairness_key) or None,
        fairness_weight=float(p.fairness_weight) or None,
    )


# ---- payloads ----

def payloads_to_c(payloads: Sequence[Payload], names: Optional[Sequence[str]] = None) -> CData:
    """A new tw_payloads (freed by the garbage collector) holding copies of payloads."""
    out = ffi.new("tw_payloads **")
    raise_for(lib.tw_payloads_new(out))
    lst = ffi.gc(out[0], lib.tw_payloads_free)
    index = ffi.new("size_t *")
    for i, p in enumerate(payloads):
        raise_for(lib.tw_payloads_add(lst, p.data, len(p.data), index))
        for key, value in p.metadata.items():
            if not isinstance(value, (bytes, bytearray)):
                raise TypeError(f"payload metadata {key!r} must be bytes, got {type(value).__name__}")
            raise_for(lib.tw_payloads_set_metadata(lst, index[0], key.encode("utf-8"), bytes(value), len(value)))
        if names is not None:
            raise_for(lib.tw_payloads_set_name(lst, index[0], names[i].encode("utf-8")))
    return lst


def payload_map_to_c(payloads: Mapping[str, Payload]) -> CData:
    return payloads_to_c(list(payloads.values()), list(payloads.keys()))


def payloads_from_c(lst: CData) -> list[Payload]:
    if lst == ffi.NULL:
        return []
    out: list[Payload] = []
    data = ffi.new("const uint8_t **")
    size = ffi.new("size_t *")
    key = ffi.new("const char **")
    for i in range(lib.tw_payloads_count(lst)):
        lib.tw_payloads_data(lst, i, data, size)
        body = bytes(ffi.buffer(data[0], size[0])) if size[0] else b""
        meta: dict[str, bytes] = {}
        for m in range(lib.tw_payloads_metadata_count(lst, i)):
            lib.tw_payloads_metadata_at(lst, i, m, key, data, size)
            meta[_text(key[0])] = bytes(ffi.buffer(data[0], size[0])) if size[0] else b""
        out.append(Payload(metadata=meta, data=body))
    return out


def payload_map_from_c(lst: CData) -> dict[str, Payload]:
    values = payloads_from_c(lst)
    return {_text(lib.tw_payloads_name(lst, i)): p for i, p in enumerate(values)}


def _payloads_message(lst: CData) -> Optional[PayloadsMessage]:
    if lst == ffi.NULL:
        return None
    return PayloadsMessage(payloads=payloads_from_c(lst))


# ---- failures ----

def failure_from_c(f: CData) -> Optional[Failure]:
    """The Python Failure mirror of a tw_failure chain."""
    if f == ffi.NULL:
        return None
    encoded = payloads_from_c(lib.tw_failure_encoded_attributes(f))
    out = Failure(
        message=_text(lib.tw_failure_message(f)),
        source=_text(lib.tw_failure_source(f)),
        stack_trace=_text(lib.tw_failure_stack_trace(f)),
        encoded_attributes=encoded[0] if encoded else None,
        cause=failure_from_c(lib.tw_failure_cause(f)),
    )
    kind = lib.tw_failure_kind_of(f)
    details = _payloads_message(lib.tw_failure_details(f))
    if kind == lib.TW_FAILURE_APPLICATION:
        delay_ms = lib.tw_failure_next_retry_delay_ms(f)
        out.application_failure_info = ApplicationFailureInfo(
            type=_text(lib.tw_failure_application_type(f)),
            non_retryable=bool(lib.tw_failure_non_retryable(f)),
            details=details,
            next_retry_delay=timedelta(milliseconds=delay_ms) if delay_ms >= 0 else None,
        )
    elif kind == lib.TW_FAILURE_TIMEOUT:
        out.timeout_failure_info = TimeoutFailureInfo(
            timeout_type=lib.tw_failure_timeout_type(f), last_heartbeat_details=details
        )
    elif kind == lib.TW_FAILURE_CANCELED:
        out.canceled_failure_info = CanceledFailureInfo(details=details)
    elif kind == lib.TW_FAILURE_TERMINATED:
        out.terminated_failure_info = TerminatedFailureInfo()
    elif kind == lib.TW_FAILURE_SERVER:
        out.server_failure_info = ServerFailureInfo(non_retryable=bool(lib.tw_failure_non_retryable(f)))
    elif kind == lib.TW_FAILURE_RESET_WORKFLOW:
        out.reset_workflow_failure_info = ResetWorkflowFailureInfo(last_heartbeat_details=details)
    elif kind == lib.TW_FAILURE_ACTIVITY:
        out.activity_failure_info = ActivityFailureInfo(
            scheduled_event_id=lib.tw_failure_scheduled_event_id(f),
            started_event_id=lib.tw_failure_started_event_id(f),
            identity=_text(lib.tw_failure_identity(f)),
            activity_type=_text(lib.tw_failure_activity_type(f)),
            activity_id=_text(lib.tw_failure_activity_id(f)),
            retry_state=lib.tw_failure_retry_state(f),
        )
    elif kind == lib.TW_FAILURE_CHILD_WORKFLOW:
        out.child_workflow_execution_failure_info = ChildWorkflowExecutionFailureInfo(
            namespace=_text(lib.tw_failure_namespace(f)),
            workflow_id=_text(lib.tw_failure_workflow_id(f)),
            run_id=_text(lib.tw_failure_run_id(f)),
            workflow_type=_text(lib.tw_failure_workflow_type(f)),
            initiated_event_id=lib.tw_failure_initiated_event_id(f),
            started_event_id=lib.tw_failure_started_event_id(f),
            retry_state=lib.tw_failure_retry_state(f),
        )
    return out


# ---- events ----

class Event:
    """A completed operation; frees its C event when collected."""

    __slots__ = ("ptr",)

    def __init__(self, ptr: CData) -> None:
        self.ptr = ffi.gc(ptr, lib.tw_event_free)

    @property
    def status(self) -> int:
        return int(lib.tw_event_status(self.ptr))

    def error(self) -> Exception:
        return error_from(self.status, lib.tw_event_error(self.ptr))

    def detail_type(self) -> str:
        return _text(lib.tw_error_detail_type(lib.tw_event_error(self.ptr)))

    def error_run_id(self) -> str:
        return _text(lib.tw_error_run_id(lib.tw_event_error(self.ptr)))

    @property
    def run_id(self) -> str:
        return _text(lib.tw_event_run_id(self.ptr))

    @property
    def outcome(self) -> int:
        return int(lib.tw_event_outcome(self.ptr))

    @property
    def workflow_status(self) -> int:
        return int(lib.tw_event_workflow_status(self.ptr))

    @property
    def count(self) -> int:
        return int(lib.tw_event_count(self.ptr))

    def payloads(self) -> list[Payload]:
        return payloads_from_c(lib.tw_event_payloads(self.ptr))

    def failure(self) -> Optional[Failure]:
        return failure_from_c(lib.tw_event_failure(self.ptr))

    def next_page_token(self) -> bytes:
        data = ffi.new("const uint8_t **")
        size = ffi.new("size_t *")
        lib.tw_event_next_page_token(self.ptr, data, size)
        return bytes(ffi.buffer(data[0], size[0])) if size[0] else b""

    def executions(self) -> list[CData]:
        return [lib.tw_event_execution(self.ptr, i) for i in range(lib.tw_event_execution_count(self.ptr))]

    def history_json(self) -> str:
        out = ffi.new("char **")
        raise_for(lib.tw_history_to_json(lib.tw_event_history(self.ptr), out))
        try:
            text: bytes = ffi.string(out[0])
            return text.decode("utf-8")
        finally:
            lib.tw_free(out[0])


def execution_json(ex: CData) -> str:
    out = ffi.new("char **")
    raise_for(lib.tw_execution_to_json(ex, out))
    try:
        text: bytes = ffi.string(out[0])
        return text.decode("utf-8")
    finally:
        lib.tw_free(out[0])


def text(ptr: CData) -> str:
    return _text(ptr)


# ---- completion queues ----

class _Queue:
    """A tw_cq whose eventfd the loop watches; resolves futures by tag."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        out = ffi.new("tw_cq **")
        raise_for(lib.tw_cq_new(out))
        self.ptr = out[0]
        self.loop = loop
        self.futures: dict[int, asyncio.Future[Event]] = {}
        self.next_tag = 1
        self.cancelled = 0  # operations whose waiter was cancelled (and cancel was asked for)
        self.dropped = 0  # events that arrived for a waiter that had gone: late cancellations
        self._event_out = ffi.new("tw_event **")
        loop.add_reader(lib.tw_cq_fd(self.ptr), self._drain)

    def submit(
        self, start: Callable[[CData, int], int], cancel: Optional[Callable[[CData, int], object]] = None
    ) -> asyncio.Future[Event]:
        """Starts an operation with (cq, tag); the future resolves with its event.

        When the future is cancelled (the awaiting task was), ``cancel(cq,
        tag)`` runs, if given, to stop the operation in the engine; its event
        still arrives later and is dropped by _drain.
        """
        tag = self.next_tag
        self.next_tag += 1
        fut: asyncio.Future[Event] = self.loop.create_future()
        self.futures[tag] = fut
        rc = start(self.ptr, tag)
        if rc != 0:
            del self.futures[tag]
            raise error_from(rc, lib.tw_error_last())
        if cancel is not None:
            ptr = self.ptr

            def on_done(f: asyncio.Future[Event]) -> None:
                if f.cancelled():
                    self.cancelled += 1
                    cancel(ptr, tag)

            fut.add_done_callback(on_done)
        return fut

    def _drain(self) -> None:
        out = self._event_out
        while lib.tw_cq_next(self.ptr, 0, out) == 0:
            event = Event(out[0])
            fut = self.futures.pop(int(lib.tw_event_tag(event.ptr)), None)
            if fut is not None and not fut.done():
                fut.set_result(event)
            elif fut is not None:
                self.dropped += 1  # the event of a call whose waiter went away (cancelled)

    @property
    def pending(self) -> int:
        """Operations that will still complete into this queue (tw_cq_pending)."""
        return int(lib.tw_cq_pending(self.ptr))


class Runtime:
    """The process-wide tw_runtime and the per-loop completion queues."""

    _default: Optional["Runtime"] = None

    def __init__(self) -> None:
        out = ffi.new("tw_runtime **")
        raise_for(lib.tw_runtime_new(ffi.NULL, out))
        self.ptr = out[0]
        self._queues: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Queue]" = (
            weakref.WeakKeyDictionary()
        )

    @classmethod
    def default(cls) -> "Runtime":
        if cls._default is None:
            cls._default = Runtime()
        return cls._default

    def queue(self) -> _Queue:
        loop = asyncio.get_running_loop()
        q = self._queues.get(loop)
        if q is None:
            q = self._queues[loop] = _Queue(loop)
        return q

    async def call(
        self, start: Callable[[CData, int], int], cancel: Optional[Callable[[CData, int], object]] = None
    ) -> Event:
        """Starts an operation with (cq, tag) and awaits its event; raises its error.

        ``cancel(cq, tag)``, if given, stops the operation in the engine when
        the awaiting task is cancelled (see _Queue.submit).
        """
        event = await self.queue().submit(start, cancel)
        if event.status != 0:
            raise _EventError(event)
        return event


class _EventError(Exception):
    """Carries a failed event to callers that map some failures specially."""

    def __init__(self, event: Event) -> None:
        super().__init__(_text(lib.tw_error_message(lib.tw_event_error(event.ptr))))
        self.event = event
