"""One workflow run on the C workflow runtime (``tw_wf_instance``, include/tw/workflow.h).

The worker hands each activation of a run to :py:meth:`WorkflowInstance.activate`.
The C instance calls back (cffi ``extern "Python"`` functions, dispatched by
an integer tag to the run's object) in job order: ``start``, ``signal``,
``resolved``, ``query``, ``cancel_requested``, ``scope_cancelled``,
``evict``, then ``drain``, in which the run's deterministic event loop
(:py:class:`temporalio._workflow_loop.WorkflowEventLoop`) runs the workflow
code until nothing more can run. Commands (timers, activities, the
workflow's end) are issued from inside those callbacks; the C instance
returns the completion built from them.

C never holds a Python object: user_data and operation tags are integers.
Exceptions raised inside a callback are stored and re-raised once C
returns, and become a workflow task failure.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import itertools
import logging
import random
import threading
import traceback
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, NoReturn, Optional, Union

import temporalio.common
import temporalio.converter
import temporalio.exceptions
import temporalio.workflow
from temporalio import _bridge
from temporalio._tw import ffi, lib
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
    WorkflowOutboundInterceptor,
)
from temporalio._workflow_loop import TimerBackend, WorkflowEventLoop, _WorkflowTimerHandle
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.workflow import (
    ActivityCancellationType,
    CancellationScope,
    ChildWorkflowCancellationType,
    ContinueAsNewError,
    ParentClosePolicy,
)

__all__ = ["WorkflowInstance", "WorkflowInstanceDetails", "create_instance"]

logger = logging.getLogger("temporalio.worker")

CData = Any


@dataclass(frozen=True)
class WorkflowInstanceDetails:
    """Everything a runner needs to create the instance of one run."""

    defn: temporalio.workflow.WorkflowDefinition
    info: temporalio.workflow.Info
    data_converter: temporalio.converter.DataConverter
    interceptor_classes: Sequence[type[WorkflowInboundInterceptor]]
    randomness_seed: int
    worker_level_failure_exception_types: Sequence[type[BaseException]] = ()
    extern_functions: Mapping[str, Callable[..., Any]] = field(default_factory=dict)


class WorkflowInstance(ABC):
    """A run that turns activations into completions."""

    @abstractmethod
    def activate(self, activation: CData) -> CData:
        """Runs one activation (a ``tw_activation *``) and returns the ``tw_completion *`` (caller owns it).

        Never raises: a failure becomes a completion that fails the workflow task.
        """

    def get_thread_id(self) -> Optional[int]:
        """The thread running the current activation (for deadlock reports), if any."""
        return None

    def close(self) -> None:
        """Releases the run's resources (after its eviction). Idempotent."""


def create_instance(det: WorkflowInstanceDetails) -> WorkflowInstance:
    """The default, in-process instance of a run."""
    return _WorkflowInstanceImpl(det)


def fail_task_completion(run_id: str, message: str, stack_trace: str = "") -> CData:
    """A completion that fails the workflow task of run_id (caller owns it)."""
    out = ffi.new("tw_completion **")
    _bridge.raise_for(lib.tw_completion_new(run_id.encode(), out))
    lib.tw_completion_fail_task(out[0], message.encode("utf-8", "replace"), stack_trace.encode("utf-8", "replace"))
    return out[0]


# ---------------------------------------------------------------------------
# Callbacks from C: dispatch by the integer in user_data
# ---------------------------------------------------------------------------

_registry: dict[int, "_WorkflowInstanceImpl"] = {}
_ids = itertools.count(1)


def _instance_of(user_data: CData) -> Optional["_WorkflowInstanceImpl"]:
    return _registry.get(int(ffi.cast("uintptr_t", user_data)))


def _cb_start(wf: CData, workflow_type: CData, args: CData, user_data: CData) -> None:
    inst = _instance_of(user_data)
    if inst is not None:
        inst._guard(inst._on_start, args)


def _cb_signal(wf: CData, name: CData, args: CData, headers: CData, user_data: CData) -> int:
    inst = _instance_of(user_data)
    if inst is None:
        return 1
    try:
        return inst._on_signal(_bridge.text(name), args, headers)
    except BaseException as err:  # noqa: B036 - stored and re-raised once C returns
        inst._store_error(err)
        return 1


def _cb_query(
    wf: CData, name: CData, args: CData, headers: CData, result: CData, error: CData, user_data: CData
) -> None:
    inst = _instance_of(user_data)
    if inst is not None:
        inst._guard(inst._on_query, _bridge.text(name), args, headers, result, error)


def _cb_cancel_requested(wf: CData, reason: CData, user_data: CData) -> None:
    inst = _instance_of(user_data)
    if inst is not None:
        inst._guard(inst._on_cancel_requested, _bridge.text(reason))


def _cb_resolved(
    wf: CData, op: CData, tag: int, resolution: int, result: CData, failure: CData, user_data: CData
) -> None:
    inst = _instance_of(user_data)
    if inst is not None:
        inst._guard(inst._on_resolved, int(tag), int(resolution), result, failure)


def _cb_scope_cancelled(wf: CData, scope: CData, tag: int, user_data: CData) -> None:
    inst = _instance_of(user_data)
    if inst is not None:
        inst._guard(inst._on_scope_cancelled, int(tag))


def _cb_drain(wf: CData, user_data: CData) -> None:
    inst = _instance_of(user_data)
    if inst is not None:
        inst._guard(inst._on_drain)


def _cb_evict(wf: CData, reason: int, message: CData, user_data: CData) -> None:
    inst = _instance_of(user_data)
    if inst is not None:
        inst._guard(inst._on_evict, int(reason), _bridge.text(message))


def _cb_child_started(wf: CData, op: CData, tag: int, run_id: CData, user_data: CData) -> None:
    inst = _instance_of(user_data)
    if inst is not None:
        inst._guard(inst._on_child_started, int(tag), _bridge.text(run_id))


# Registered as the C functions declared `extern "Python"` in gen_ffi.py.
ffi.def_extern(name="_tw_py_wf_start")(_cb_start)
ffi.def_extern(name="_tw_py_wf_signal")(_cb_signal)
ffi.def_extern(name="_tw_py_wf_query")(_cb_query)
ffi.def_extern(name="_tw_py_wf_cancel_requested")(_cb_cancel_requested)
ffi.def_extern(name="_tw_py_wf_resolved")(_cb_resolved)
ffi.def_extern(name="_tw_py_wf_scope_cancelled")(_cb_scope_cancelled)
ffi.def_extern(name="_tw_py_wf_drain")(_cb_drain)
ffi.def_extern(name="_tw_py_wf_evict")(_cb_evict)
ffi.def_extern(name="_tw_py_wf_child_started")(_cb_child_started)


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def _run_sync(coro: Coroutine[Any, Any, Any], what: str) -> Any:
    """Runs a coroutine that must not suspend (payload codecs inside an activation)."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    coro.close()
    raise RuntimeError(
        f"the payload codec suspended while {what}: codecs used by workflows must not wait on anything "
        "(they run inside the workflow activation)"
    )


def _fill_payloads(lst: CData, payloads: Sequence[Payload]) -> None:
    index = ffi.new("size_t *")
    for p in payloads:
        _bridge.raise_for(lib.tw_payloads_add(lst, p.data, len(p.data), index))
        for key, value in p.metadata.items():
            _bridge.raise_for(lib.tw_payloads_set_metadata(lst, index[0], key.encode("utf-8"), value, len(value)))


def _client() -> Any:
    """temporalio.client, imported on first use (workflow-only workers never load it)."""
    import temporalio.client as client

    return client


def _search_attribute_payloads(attributes: Mapping[str, Any]) -> dict[str, Payload]:
    """Search attribute values encoded as the client encodes them at start."""
    payloads: dict[str, Payload] = _client()._ClientImpl._search_attribute_payloads(attributes)
    return payloads


def _activity_definition(activity: Any) -> tuple[str, Optional[list[type]], Optional[type]]:
    """Name, argument types and result type of an activity given by function or name."""
    if isinstance(activity, str):
        if not activity:
            raise ValueError("activity name must not be empty")
        return activity, None, None
    if not callable(activity):
        raise TypeError(f"activity must be an @activity.defn function or a name, got {activity!r}")
    import temporalio.activity

    defn = temporalio.activity._Definition.must_from_callable(activity)
    if defn.name is None:
        raise TypeError(f"{getattr(activity, '__qualname__', activity)} is a dynamic activity: start it by name")
    return defn.name, defn.arg_types, defn.ret_type


class _Handler:
    """A signal or query handler: a class method of the workflow or a callable set at run time."""

    __slots__ = ("fn", "is_method", "dynamic", "raw_args", "arg_types", "name")

    def __init__(self, name: Optional[str], fn: Callable[..., Any], is_method: bool) -> None:
        self.name = name
        self.fn = fn
        self.is_method = is_method
        self.dynamic = name is None
        self.raw_args = False
        self.arg_types: Optional[list[type]] = None
        if self.dynamic:
            try:
                params = list(inspect.signature(fn).parameters.values())
            except (TypeError, ValueError):
                params = []
            if is_method and params:
                params = params[1:]
            # (name, *args): decoded values; (name, args): a Sequence[RawValue].
            self.raw_args = not any(p.kind == p.VAR_POSITIONAL for p in params)
        else:
            self.arg_types, _ = temporalio.common._type_hints_from_func(fn)

    def call(self, obj: Any, args: Sequence[Any]) -> Any:
        return self.fn(obj, *args) if self.is_method else self.fn(*args)


# ---------------------------------------------------------------------------
# Activity handles
# ---------------------------------------------------------------------------


class _ActivityHandleImpl(temporalio.workflow.ActivityHandle[Any]):
    def __init__(
        self,
        inst: "_WorkflowInstanceImpl",
        input: Union[StartActivityInput, StartLocalActivityInput],
        scope: CancellationScope,
    ) -> None:
        super().__init__(loop=inst._loop)
        self._inst = inst
        self._input = input
        self._scope = scope
        self._op: CData = None
        self._cancel_requested = False

    def _cancel_op(self) -> None:
        inst = self._inst
        if inst._deleting or self._op is None or self._cancel_requested:
            return
        inst.workflow_assert_not_read_only("cancelling an activity")
        self._cancel_requested = True
        _bridge.raise_for(lib.tw_op_cancel(self._op))

    def _defer_task_cancel(self) -> bool:
        if self.done() or self._input.cancellation_type != ActivityCancellationType.WAIT_CANCELLATION_COMPLETED:
            return False
        return self._cancel_requested or self._inst.workflow_scope_is_cancelled(self._scope)

    def _resolve(self, resolution: int, result: CData, failure: CData) -> None:
        if self.done():
            return
        inst = self._inst
        try:
            if resolution == lib.TW_RESOLUTION_COMPLETED:
                payloads = _bridge.payloads_from_c(result)
                ret = self._input.ret_type
                value = inst._decode(payloads, [ret] if ret is not None else None)[0] if payloads else None
                self.set_result(value)
                return
            err = inst._failure_to_error(_bridge.failure_from_c(failure))
            if not isinstance(err, temporalio.exceptions.ActivityError):
                wrapped = temporalio.exceptions.ActivityError(
                    "Activity cancelled" if resolution == lib.TW_RESOLUTION_CANCELLED else "Activity failed",
                    scheduled_event_id=0,
                    started_event_id=0,
                    identity="",
                    activity_type=self._input.activity,
                    activity_id=self._input.activity_id or "",
                    retry_state=None,
                )
                wrapped.__cause__ = err
                err = wrapped
        except Exception as decode_err:
            err = decode_err
        self.set_exception(err)
        if resolution == lib.TW_RESOLUTION_CANCELLED:
            # Nobody has to look at a cancelled activity's outcome.
            self._log_traceback = False


# ---------------------------------------------------------------------------
# Child workflows and operations on other workflows
# ---------------------------------------------------------------------------


class _ChildWorkflowHandleImpl(temporalio.workflow.ChildWorkflowHandle[Any, Any]):
    def __init__(self, inst: "_WorkflowInstanceImpl", input: StartChildWorkflowInput, scope: CancellationScope) -> None:
        super().__init__(loop=inst._loop)
        self._inst = inst
        self._input = input
        self._scope = scope
        self._op: CData = None
        self._cancel_requested = False
        self._run_id: Optional[str] = None
        self._started: asyncio.Future[None] = inst._loop.create_future()

    @property
    def id(self) -> str:
        return self._input.id

    @property
    def first_execution_run_id(self) -> Optional[str]:
        return self._run_id

    def _cancel_op(self) -> None:
        inst = self._inst
        if inst._deleting or self._op is None or self._cancel_requested:
            return
        inst.workflow_assert_not_read_only("cancelling a child workflow")
        self._cancel_requested = True
        _bridge.raise_for(lib.tw_op_cancel(self._op))

    def _defer_task_cancel(self) -> bool:
        if self.done() or self._input.cancellation_type != ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED:
            return False
        return self._cancel_requested or self._inst.workflow_scope_is_cancelled(self._scope)

    async def _signal(self, name: str, args: Sequence[Any]) -> None:
        await self._inst._outbound.signal_child_workflow(
            SignalChildWorkflowInput(signal=name, args=args, child_workflow_id=self._input.id, headers={})
        )

    def _on_started(self, run_id: str) -> None:
        self._run_id = run_id
        if not self._started.done():
            self._started.set_result(None)

    def _resolve(self, resolution: int, result: CData, failure: CData) -> None:
        if self.done():
            return
        inst = self._inst
        err: BaseException
        try:
            if resolution == lib.TW_RESOLUTION_COMPLETED:
                payloads = _bridge.payloads_from_c(result)
                ret = self._input.ret_type
                self.set_result(inst._decode(payloads, [ret] if ret is not None else None)[0] if payloads else None)
                return
            if self._run_id is None and lib.tw_op_start_failed_cause(self._op):
                err = temporalio.exceptions.WorkflowAlreadyStartedError(self._input.id, self._input.workflow)
            else:
                err = inst._failure_to_error(_bridge.failure_from_c(failure))
        except Exception as decode_err:
            err = decode_err
        if not self._started.done():
            # It never started: the start itself fails, and nobody holds the handle.
            self._started.set_exception(err)
            self._started._log_traceback = False
        self.set_exception(err)
        self._log_traceback = False


class _ExternalOp(asyncio.Future[None]):
    """A signal to, or a cancellation request for, another workflow: cancelling the future cancels the signal."""

    def __init__(self, inst: "_WorkflowInstanceImpl") -> None:
        super().__init__(loop=inst._loop)
        self._inst = inst
        self._op: CData = None

    def cancel(self, msg: Any | None = None) -> bool:
        if self.done():
            return False
        inst = self._inst
        if self._op is not None and not inst._deleting and not inst._read_only and inst._wf is not None:
            lib.tw_op_cancel(self._op)
        return super().cancel(msg)

    def _resolve(self, resolution: int, result: CData, failure: CData) -> None:
        if self.done():
            return
        if resolution == lib.TW_RESOLUTION_COMPLETED:
            self.set_result(None)
            return
        try:
            err = self._inst._failure_to_error(_bridge.failure_from_c(failure))
        except Exception as decode_err:
            err = decode_err
        if resolution == lib.TW_RESOLUTION_CANCELLED:
            super().cancel(str(err))
        else:
            self.set_exception(err)


# ---------------------------------------------------------------------------
# The root inbound / outbound interceptors
# ---------------------------------------------------------------------------


class _InboundImpl(WorkflowInboundInterceptor):
    def __init__(self, inst: "_WorkflowInstanceImpl") -> None:
        # No next: this is the end of the chain.
        self._inst = inst

    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        self._inst._outbound = outbound

    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        return await input.run_fn(*input.args)

    async def handle_signal(self, input: HandleSignalInput) -> None:
        inst = self._inst
        handler = inst._signals.get(input.signal) or inst._signals.get(None)
        if handler is None:
            raise RuntimeError(f"signal handler for {input.signal!r} was removed before it ran")
        result = handler.call(inst._object, input.args)
        if inspect.isawaitable(result):
            await result

    def handle_query(self, input: HandleQueryInput) -> Any:
        inst = self._inst
        handler = inst._queries.get(input.query) or inst._queries.get(None)
        if handler is None:
            known = sorted(k for k in inst._queries if k)
            raise RuntimeError(
                f"Query handler for {input.query!r} expected but not found, known queries: [{' '.join(known)}]"
            )
        result = handler.call(inst._object, input.args)
        if inspect.iscoroutine(result):
            try:
                result.send(None)
            except StopIteration as done:
                return done.value
            result.close()
            raise RuntimeError(
                f"query handler {input.query!r} awaited something: query handlers must answer at once "
                "(define it without async, or return without awaiting)"
            )
        return result


class _OutboundImpl(WorkflowOutboundInterceptor):
    def __init__(self, inst: "_WorkflowInstanceImpl") -> None:
        self._inst = inst

    def info(self) -> temporalio.workflow.Info:
        return self._inst._info

    def start_activity(self, input: StartActivityInput) -> temporalio.workflow.ActivityHandle[Any]:
        return self._inst._start_activity(input)

    def start_local_activity(self, input: StartLocalActivityInput) -> temporalio.workflow.ActivityHandle[Any]:
        return self._inst._start_local_activity(input)

    async def start_child_workflow(
        self, input: StartChildWorkflowInput
    ) -> temporalio.workflow.ChildWorkflowHandle[Any, Any]:
        return await self._inst._start_child_workflow(input)

    async def signal_child_workflow(self, input: SignalChildWorkflowInput) -> None:
        await self._inst._signal_external(input.child_workflow_id, None, input.signal, input.args, input.headers, True)

    async def signal_external_workflow(self, input: SignalExternalWorkflowInput) -> None:
        await self._inst._signal_external(
            input.workflow_id, input.workflow_run_id, input.signal, input.args, input.headers, False
        )

    def continue_as_new(self, input: ContinueAsNewInput) -> NoReturn:
        raise ContinueAsNewError(input)


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------

_STACK_TRACE_QUERY = "__stack_trace"


class _WorkflowInstanceImpl(WorkflowInstance, temporalio.workflow._Runtime, TimerBackend):
    def __init__(self, det: WorkflowInstanceDetails) -> None:
        self._det = det
        self._defn = det.defn
        self._info = det.info
        self._converter = det.data_converter
        self._payload_converter = det.data_converter.payload_converter
        self._failure_converter = det.data_converter.failure_converter
        self._codec = det.data_converter.payload_codec
        self._failure_types = tuple(det.defn.failure_exception_types) + tuple(det.worker_level_failure_exception_types)
        self._random = random.Random(det.randomness_seed)
        self._loop = WorkflowEventLoop(self)
        setattr(self._loop, "_temporal_runtime", self)
        self._loop.on_task_created = self._task_created
        self._object: Any = None
        self._primary_task: Optional[asyncio.Task[None]] = None
        self._pending_start: Optional[list[Payload]] = None
        self._started = False
        self._cancel_requested = False
        self._deleting = False
        self._read_only = False
        self._is_replaying = False
        self._history_length = 0
        self._thread_id: Optional[int] = None
        self._callback_error: Optional[BaseException] = None
        self._keep: list[Any] = []
        self._memo: Optional[dict[str, Any]] = None
        self._ops: dict[int, Any] = {}
        self._tags = itertools.count(1)
        # Scopes: the tree mirrors the C one; tasks know the scope they run in.
        self._scopes: "weakref.WeakValueDictionary[int, CancellationScope]" = weakref.WeakValueDictionary()
        self._task_base: dict[asyncio.Task[Any], CancellationScope] = {}
        self._task_stack: dict[asyncio.Task[Any], list[CancellationScope]] = {}
        self._delivered: "weakref.WeakKeyDictionary[asyncio.Task[Any], set[int]]" = weakref.WeakKeyDictionary()
        self._delivery_scheduled = False
        # Handlers by name (None: dynamic).
        self._signals: dict[Optional[str], _Handler] = {
            name: _Handler(name, d.fn, True) for name, d in det.defn.signals.items()
        }
        self._queries: dict[Optional[str], _Handler] = {
            name: _Handler(name, d.fn, True) for name, d in det.defn.queries.items()
        }
        self._queries.setdefault(_STACK_TRACE_QUERY, _Handler(_STACK_TRACE_QUERY, self._stack_trace, False))

        # The C instance.
        self._id = next(_ids)
        cb = ffi.new("tw_wf_callbacks *")
        cb.size = ffi.sizeof("tw_wf_callbacks")
        cb.start = lib._tw_py_wf_start
        cb.signal = lib._tw_py_wf_signal
        cb.query = lib._tw_py_wf_query
        cb.cancel_requested = lib._tw_py_wf_cancel_requested
        cb.resolved = lib._tw_py_wf_resolved
        cb.scope_cancelled = lib._tw_py_wf_scope_cancelled
        cb.drain = lib._tw_py_wf_drain
        cb.evict = lib._tw_py_wf_evict
        cb.child_started = lib._tw_py_wf_child_started
        out = ffi.new("tw_wf_instance **")
        _bridge.raise_for(lib.tw_wf_instance_new(cb, ffi.cast("void *", self._id), out))
        self._wf: CData = out[0]
        _registry[self._id] = self
        self._root = CancellationScope._new_root(self)
        self._root._impl = lib.tw_wf_root_scope(self._wf)
        # asyncio timers live in a detached scope: asyncio cancellation (not scopes) cancels them.
        scope_out = ffi.new("tw_scope **")
        _bridge.raise_for(lib.tw_wf_scope_new(self._wf, ffi.NULL, 1, 0, 0, scope_out))
        self._timer_scope: CData = scope_out[0]

        # Interceptors: the classes wrap the root inbound implementation, outermost first.
        root_inbound = _InboundImpl(self)
        inbound: WorkflowInboundInterceptor = root_inbound
        for cls in reversed(list(det.interceptor_classes)):
            inbound = cls(inbound)
        self._inbound = inbound
        self._outbound: WorkflowOutboundInterceptor = _OutboundImpl(self)
        with self._loop.running():
            self._inbound.init(_OutboundImpl(self))

    # ---- WorkflowInstance ----

    def activate(self, activation: CData) -> CData:
        run_id = _bridge.text(lib.tw_activation_run_id(activation))
        self._thread_id = threading.get_ident()
        try:
            self._callback_error = None
            self._history_length = int(lib.tw_activation_history_length(activation))
            self._is_replaying = bool(lib.tw_activation_is_replaying(activation))
            self._loop.set_time_ns(int(lib.tw_activation_timestamp(activation)))
            for i in range(lib.tw_activation_job_count(activation)):
                job = lib.tw_activation_job(activation, i)
                if lib.tw_job_kind_of(job) == lib.TW_JOB_UPDATE_RANDOM_SEED:
                    self._random.seed(int(lib.tw_job_random_seed(job)))
            out = ffi.new("tw_completion **")
            with self._loop.running():
                rc = lib.tw_wf_instance_activate(self._wf, activation, out)
            self._keep.clear()
            _bridge.raise_for(rc)
            if self._callback_error is not None:
                lib.tw_completion_free(out[0])
                err = self._callback_error
                self._callback_error = None
                raise err
            return out[0]
        except Exception as err:
            logger.warning(
                "Failed activation on workflow %s with ID %s and run ID %s",
                self._info.workflow_type,
                self._info.workflow_id,
                run_id,
                exc_info=err,
            )
            return fail_task_completion(
                run_id, _error_message(err), "".join(traceback.format_exception(err))
            )
        finally:
            self._thread_id = None

    def get_thread_id(self) -> Optional[int]:
        return self._thread_id

    def close(self) -> None:
        if self._wf is None:
            return
        _registry.pop(self._id, None)
        lib.tw_wf_instance_free(self._wf)
        self._wf = None
        self._ops.clear()
        self._loop.close()

    # ---- callbacks ----

    def _store_error(self, err: BaseException) -> None:
        if self._callback_error is None:
            self._callback_error = err

    def _guard(self, fn: Callable[..., None], *args: Any) -> None:
        try:
            fn(*args)
        except BaseException as err:  # noqa: B036 - stored and re-raised once C returns
            self._store_error(err)

    def _on_start(self, args: CData) -> None:
        self._pending_start = _bridge.payloads_from_c(args)

    def _on_drain(self) -> None:
        if self._deleting:
            return
        if self._pending_start is not None:
            payloads, self._pending_start = self._pending_start, None
            self._start_primary(payloads)
        self._loop.run_until_quiescent(check_conditions=True)

    def _on_signal(self, name: str, args: CData, headers: CData) -> int:
        if self._deleting:
            return 1
        handler = self._signals.get(name) or self._signals.get(None)
        if handler is None:
            return 0  # the C instance buffers it until a handler exists
        payloads = _bridge.payloads_from_c(args)
        header_map = _bridge.payload_map_from_c(headers)
        self._loop.create_task(
            self._run_top_level(self._handle_signal(handler, name, payloads, header_map), primary=False),
            name=f"signal: {name}",
        )
        return 1

    async def _handle_signal(
        self, handler: _Handler, name: str, payloads: list[Payload], headers: Mapping[str, Payload]
    ) -> None:
        try:
            args = self._handler_args(handler, name, payloads)
        except Exception:
            logger.exception("Failed decoding the arguments of signal %r, dropping the signal", name)
            return
        await self._inbound.handle_signal(HandleSignalInput(signal=name, args=args, headers=headers))

    def _handler_args(self, handler: _Handler, name: str, payloads: list[Payload]) -> list[Any]:
        if handler.dynamic:
            if handler.raw_args:
                return [name, [temporalio.common.RawValue(p) for p in payloads]]
            return [name, *self._decode(payloads, None)]
        return self._decode(payloads, handler.arg_types)

    def _on_query(self, name: str, args: CData, headers: CData, result: CData, error: CData) -> None:
        self._read_only = True
        self._loop.read_only_reason = "in a query handler (queries are read-only)"
        try:
            handler = self._queries.get(name) or self._queries.get(None)
            if handler is None:
                known = sorted(k for k in self._queries if k)
                raise RuntimeError(
                    f"Query handler for {name!r} expected but not found, known queries: [{' '.join(known)}]"
                )
            query_args = self._handler_args(handler, name, _bridge.payloads_from_c(args))
            value = self._inbound.handle_query(
                HandleQueryInput(id="", query=name, args=query_args, headers=_bridge.payload_map_from_c(headers))
            )
            _fill_payloads(result, self._encode([value]))
        except Exception as err:
            message = ffi.new("char[]", _error_message(err).encode("utf-8", "replace"))
            self._keep.append(message)
            error[0] = message
        finally:
            self._read_only = False
            self._loop.read_only_reason = None

    def _on_cancel_requested(self, reason: str) -> None:
        self._cancel_requested = True

    def _on_resolved(self, tag: int, resolution: int, result: CData, failure: CData) -> None:
        target = self._ops.pop(tag, None)
        if isinstance(target, _WorkflowTimerHandle):
            if resolution == lib.TW_RESOLUTION_COMPLETED:
                self._loop.timer_fired(target)
        elif target is not None:
            target._resolve(resolution, result, failure)

    def _on_child_started(self, tag: int, run_id: str) -> None:
        target = self._ops.get(tag)
        if isinstance(target, _ChildWorkflowHandleImpl):
            target._on_started(run_id)

    def _on_scope_cancelled(self, tag: int) -> None:
        if not self._delivery_scheduled:
            self._delivery_scheduled = True
            self._loop.call_soon(self._deliver_cancellations)

    def _on_evict(self, reason: int, message: str) -> None:
        self._deleting = True
        self._is_replaying = True  # nothing is logged while tearing down
        self._loop.read_only_reason = "while the run is being evicted from the worker's cache"
        self._loop.set_exception_handler(lambda loop, context: None)
        for _ in range(10):
            tasks = [t for t in self._loop.tasks if not t.done()]
            if not tasks:
                break
            for task in tasks:
                task.cancel()
            self._loop.run_until_quiescent(check_conditions=False)
        for task in list(self._loop.tasks):
            # Tasks that refuse to end: close their coroutines so nothing runs later.
            if not task.done():
                try:
                    coro = task.get_coro()
                    if inspect.iscoroutine(coro):
                        coro.close()
                except BaseException:  # noqa: B036
                    pass
        self._loop.tasks.clear()
        self._ops.clear()

    # ---- the primary task and top-level tasks ----

    def _start_primary(self, payloads: list[Payload]) -> None:
        defn = self._defn
        try:
            if defn.dynamic:
                args: list[Any] = [[temporalio.common.RawValue(p) for p in payloads]]
            else:
                arg_types, _ = temporalio.common._type_hints_from_func(defn.run_fn)
                args = self._decode(payloads, arg_types)
            obj = defn.cls(*args) if defn.init_takes_args else defn.cls()
            self._object = obj
            run_fn = defn.run_fn.__get__(obj, defn.cls)
        except BaseException as err:  # noqa: B036 - routed like an error of the run
            self._started = True
            self._on_top_level_error(err, primary=True)
            return
        self._started = True
        input = ExecuteWorkflowInput(type=defn.cls, run_fn=run_fn, args=args, headers=self._info.headers)
        self._primary_task = self._loop.create_task(
            self._run_top_level(self._inbound.execute_workflow(input), primary=True), name="run"
        )
        if self._cancel_requested:
            self._loop.call_soon(self._deliver_cancellations)

    async def _run_top_level(self, coro: Coroutine[Any, Any, Any], primary: bool) -> None:
        try:
            result = await coro
        except ContinueAsNewError as can:
            if not self._deleting:
                self._continue_as_new(can.input)
            return
        except (GeneratorExit, KeyboardInterrupt, SystemExit):
            raise
        except BaseException as err:  # noqa: B036 - decides workflow vs task failure
            self._on_top_level_error(err, primary)
            return
        if primary and not self._deleting:
            self._complete(result)

    def _on_top_level_error(self, err: BaseException, primary: bool) -> None:
        if self._deleting or self._wf is None:
            return
        if isinstance(err, (GeneratorExit, KeyboardInterrupt, SystemExit)):
            raise err
        if lib.tw_wf_is_done(self._wf):
            logger.debug("ignoring an error raised after the workflow ended", exc_info=err)
            return
        root_cancelled = self._cancel_requested or bool(lib.tw_scope_is_cancelled(self._root._impl))
        if temporalio.exceptions.is_cancelled_exception(err):
            if not primary and isinstance(err, asyncio.CancelledError):
                return  # a handler task was cancelled: only that task ends
            if root_cancelled:
                _bridge.raise_for(lib.tw_wf_cancel(self._wf, ffi.NULL))
                return
        if isinstance(err, asyncio.CancelledError):
            failure_err: BaseException = temporalio.exceptions.CancelledError(
                f"Cancellation raised within the workflow: {err}" if str(err) else "Cancelled"
            )
            failure_err.__cause__ = err
            self._fail_workflow(failure_err)
        elif self._is_workflow_failure(err):
            self._fail_workflow(err)
        else:
            self._fail_task(err)

    def _is_workflow_failure(self, err: BaseException) -> bool:
        return isinstance(err, temporalio.exceptions.FailureError) or (
            bool(self._failure_types) and isinstance(err, self._failure_types)
        )

    def _complete(self, result: Any) -> None:
        if lib.tw_wf_is_done(self._wf):
            return
        try:
            lst = _bridge.payloads_to_c(self._encode([result]))
        except Exception as err:
            self._fail_task(err)
            return
        _bridge.raise_for(lib.tw_wf_complete(self._wf, lst))

    def _fail_workflow(self, err: BaseException) -> None:
        failure = Failure()
        self._failure_converter.to_failure(err, self._payload_converter, failure)
        if self._codec is not None:
            _run_sync(self._codec.encode_failure(failure), "encoding a workflow failure")
        data = failure.SerializeToString()
        _bridge.raise_for(lib.tw_wf_fail_encoded(self._wf, data, len(data)))

    def _fail_task(self, err: BaseException) -> None:
        logger.warning(
            "Failed activation on workflow %s with ID %s and run ID %s",
            self._info.workflow_type,
            self._info.workflow_id,
            self._info.run_id,
            exc_info=err,
        )
        _bridge.raise_for(
            lib.tw_wf_fail_task(
                self._wf,
                _error_message(err).encode("utf-8", "replace"),
                "".join(traceback.format_exception(err)).encode("utf-8", "replace"),
            )
        )
        self._loop.stop_draining()

    def _continue_as_new(self, input: ContinueAsNewInput) -> None:
        if lib.tw_wf_is_done(self._wf):
            return
        try:
            keep: list[Any] = []
            o = ffi.new("tw_continue_as_new_options *")
            lib.tw_continue_as_new_options_init(o)
            self._retry_policy_to_c(o, input.retry_policy, keep)
            o.workflow_type = _bridge.cstr(input.workflow, keep)
            o.task_queue = _bridge.cstr(input.task_queue, keep)
            args = _bridge.payloads_to_c(self._encode(list(input.args)))
            keep.append(args)
            o.args = args
            o.run_timeout_ms = _bridge.millis(input.run_timeout)
            o.task_timeout_ms = _bridge.millis(input.task_timeout)
            o.backoff_start_interval_ms = _bridge.millis(input.backoff_start_interval)
            if input.memo:
                memo = _bridge.payload_map_to_c({k: self._encode([v])[0] for k, v in input.memo.items()})
                keep.append(memo)
                o.memo = memo
            if input.search_attributes:
                sa = _bridge.payload_map_to_c(_search_attribute_payloads(input.search_attributes))
                keep.append(sa)
                o.search_attributes = sa
            if input.headers:
                headers = _bridge.payload_map_to_c(input.headers)
                keep.append(headers)
                o.headers = headers
            _bridge.raise_for(lib.tw_wf_continue_as_new(self._wf, o))
        except Exception as err:
            self._fail_task(err)

    # ---- conversion ----

    def _encode(self, values: Sequence[Any]) -> list[Payload]:
        payloads = self._payload_converter.to_payloads(values)
        if self._codec is not None:
            payloads = _run_sync(self._codec.encode(payloads), "encoding payloads")
        return payloads

    def _metadata_payload(self, text: Optional[str], keep: list[Any]) -> CData:
        """A one-payload list holding text encoded like any value (summaries, details); NULL for None."""
        if text is None:
            return ffi.NULL
        lst = _bridge.payloads_to_c(self._encode([text]))
        keep.append(lst)
        return lst

    def _decode(self, payloads: Sequence[Payload], type_hints: Optional[list[Any]]) -> list[Any]:
        if self._codec is not None:
            payloads = _run_sync(self._codec.decode(payloads), "decoding payloads")
        return self._payload_converter.from_payloads(payloads, type_hints)

    def _failure_to_error(self, failure: Optional[Failure]) -> BaseException:
        if failure is None:
            return temporalio.exceptions.CancelledError("Cancelled")
        if self._codec is not None:
            import copy

            failure = copy.deepcopy(failure)
            _run_sync(self._codec.decode_failure(failure), "decoding a failure")
        return self._failure_converter.from_failure(failure, self._payload_converter)

    # ---- timers (TimerBackend) ----

    def start_timer(self, delay_ms: int, handle: _WorkflowTimerHandle, summary: Optional[str] = None) -> None:
        self.workflow_assert_not_read_only("starting a timer")
        tag = next(self._tags)
        out = ffi.new("tw_op **")
        keep: list[Any] = []
        o = ffi.new("tw_timer_options *")
        lib.tw_timer_options_init(o)
        o.duration_ms = delay_ms
        o.summary = self._metadata_payload(summary, keep)
        _bridge.raise_for(lib.tw_wf_start_timer_with_options(self._wf, self._timer_scope, o, tag, out))
        handle.timer_tag = tag
        handle.timer_op = out[0]
        self._ops[tag] = handle

    def cancel_timer(self, handle: _WorkflowTimerHandle) -> None:
        if self._ops.pop(handle.timer_tag, None) is None or self._deleting or self._wf is None:
            return
        if self._read_only:
            return
        lib.tw_op_cancel(handle.timer_op)

    # ---- activities ----

    def _start_activity(self, input: StartActivityInput) -> temporalio.workflow.ActivityHandle[Any]:
        self.workflow_assert_not_read_only("starting an activity")
        if not input.start_to_close_timeout and not input.schedule_to_close_timeout:
            raise ValueError(
                f"activity {input.activity!r} needs start_to_close_timeout or schedule_to_close_timeout"
            )
        if input.retry_policy is not None:
            input.retry_policy._validate()
        scope = CancellationScope.current()
        self._ensure_scope(scope)
        keep: list[Any] = []
        o = ffi.new("tw_activity_options *")
        lib.tw_activity_options_init(o)
        o.activity_id = _bridge.cstr(input.activity_id, keep)
        o.activity_type = _bridge.cstr(input.activity, keep)
        o.task_queue = _bridge.cstr(input.task_queue, keep)
        self._set_args_and_headers(o, input.args, input.headers, keep)
        o.schedule_to_close_timeout_ms = _bridge.millis(input.schedule_to_close_timeout)
        o.schedule_to_start_timeout_ms = _bridge.millis(input.schedule_to_start_timeout)
        o.start_to_close_timeout_ms = _bridge.millis(input.start_to_close_timeout)
        o.heartbeat_timeout_ms = _bridge.millis(input.heartbeat_timeout)
        self._retry_policy_to_c(o, input.retry_policy, keep)
        o.cancellation_type = int(input.cancellation_type)
        o.priority = _bridge.priority_to_c(input.priority, keep)
        o.summary = self._metadata_payload(input.summary, keep)
        handle = _ActivityHandleImpl(self, input, scope)
        tag = next(self._tags)
        out = ffi.new("tw_op **")
        _bridge.raise_for(lib.tw_wf_start_activity(self._wf, scope._impl, o, tag, out))
        handle._op = out[0]
        self._ops[tag] = handle
        return handle

    def _start_local_activity(self, input: StartLocalActivityInput) -> temporalio.workflow.ActivityHandle[Any]:
        self.workflow_assert_not_read_only("starting a local activity")
        if not input.start_to_close_timeout and not input.schedule_to_close_timeout:
            raise ValueError(
                f"local activity {input.activity!r} needs start_to_close_timeout or schedule_to_close_timeout"
            )
        if input.retry_policy is not None:
            input.retry_policy._validate()
        scope = CancellationScope.current()
        self._ensure_scope(scope)
        keep: list[Any] = []
        o = ffi.new("tw_local_activity_options *")
        lib.tw_local_activity_options_init(o)
        o.activity_id = _bridge.cstr(input.activity_id, keep)
        o.activity_type = _bridge.cstr(input.activity, keep)
        self._set_args_and_headers(o, input.args, input.headers, keep)
        o.schedule_to_close_timeout_ms = _bridge.millis(input.schedule_to_close_timeout)
        o.schedule_to_start_timeout_ms = _bridge.millis(input.schedule_to_start_timeout)
        o.start_to_close_timeout_ms = _bridge.millis(input.start_to_close_timeout)
        self._retry_policy_to_c(o, input.retry_policy, keep)
        o.cancellation_type = int(input.cancellation_type)
        # None (or zero): the runtime's default, 1 minute.
        o.local_retry_threshold_ms = _bridge.millis(input.local_retry_threshold)
        o.summary = self._metadata_payload(input.summary, keep)
        handle = _ActivityHandleImpl(self, input, scope)
        tag = next(self._tags)
        out = ffi.new("tw_op **")
        _bridge.raise_for(lib.tw_wf_start_local_activity(self._wf, scope._impl, o, tag, out))
        handle._op = out[0]
        self._ops[tag] = handle
        return handle

    # ---- child workflows and other workflows ----

    def _set_args_and_headers(
        self, o: CData, args: Sequence[Any], headers: Mapping[str, Payload], keep: list[Any]
    ) -> None:
        """Encodes args into o.args and headers (when any) into o.headers, kept alive by keep."""
        payloads = _bridge.payloads_to_c(self._encode(list(args)))
        keep.append(payloads)
        o.args = payloads
        if headers:
            hdr = _bridge.payload_map_to_c(headers)
            keep.append(hdr)
            o.headers = hdr

    def _retry_policy_to_c(self, o: CData, rp: Optional[temporalio.common.RetryPolicy], keep: list[Any]) -> None:
        if rp is None:
            return
        rp._validate()
        o.retry_initial_interval_ms = _bridge.millis(rp.initial_interval)
        o.retry_backoff_coefficient = rp.backoff_coefficient
        o.retry_maximum_interval_ms = _bridge.millis(rp.maximum_interval)
        o.retry_maximum_attempts = rp.maximum_attempts
        if rp.non_retryable_error_types:
            types = ffi.new("const char *[]", [_bridge.cstr(t, keep) for t in rp.non_retryable_error_types] + [ffi.NULL])
            keep.append(types)
            o.retry_non_retryable_error_types = types

    async def _start_child_workflow(self, input: StartChildWorkflowInput) -> temporalio.workflow.ChildWorkflowHandle[Any, Any]:
        self.workflow_assert_not_read_only("starting a child workflow")
        if not input.id:
            raise ValueError("start_child_workflow: id= must be a non-empty workflow ID")
        scope = CancellationScope.current()
        self._ensure_scope(scope)
        keep: list[Any] = []
        o = ffi.new("tw_child_workflow_options *")
        lib.tw_child_workflow_options_init(o)
        o.workflow_id = _bridge.cstr(input.id, keep)
        o.workflow_type = _bridge.cstr(input.workflow, keep)
        o.task_queue = _bridge.cstr(input.task_queue, keep)
        self._set_args_and_headers(o, input.args, input.headers, keep)
        if input.memo:
            memo = _bridge.payload_map_to_c({k: self._encode([v])[0] for k, v in input.memo.items()})
            keep.append(memo)
            o.memo = memo
        if input.search_attributes:
            attrs = _bridge.payload_map_to_c(_search_attribute_payloads(input.search_attributes))
            keep.append(attrs)
            o.search_attributes = attrs
        o.execution_timeout_ms = _bridge.millis(input.execution_timeout)
        o.run_timeout_ms = _bridge.millis(input.run_timeout)
        o.task_timeout_ms = _bridge.millis(input.task_timeout)
        o.parent_close_policy = int(input.parent_close_policy)
        o.id_reuse_policy = int(input.id_reuse_policy)
        self._retry_policy_to_c(o, input.retry_policy, keep)
        o.cron_schedule = _bridge.cstr(input.cron_schedule or None, keep)
        o.cancellation_type = int(input.cancellation_type)
        o.priority = _bridge.priority_to_c(input.priority, keep)
        o.static_summary = self._metadata_payload(input.static_summary, keep)
        o.static_details = self._metadata_payload(input.static_details, keep)
        handle = _ChildWorkflowHandleImpl(self, input, scope)
        tag = next(self._tags)
        out = ffi.new("tw_op **")
        _bridge.raise_for(lib.tw_wf_start_child_workflow(self._wf, scope._impl, o, tag, out))
        handle._op = out[0]
        self._ops[tag] = handle
        try:
            await asyncio.shield(handle._started)
        except asyncio.CancelledError:
            # The task gave up waiting for the start: nobody can reach the child any more.
            if not handle.done():
                handle._cancel_op()
            raise
        return handle

    async def _signal_external(
        self,
        workflow_id: str,
        run_id: Optional[str],
        signal: str,
        args: Sequence[Any],
        headers: Mapping[str, Payload],
        child_only: bool,
    ) -> None:
        self.workflow_assert_not_read_only("signalling a workflow")
        scope = CancellationScope.current()
        self._ensure_scope(scope)
        keep: list[Any] = []
        o = ffi.new("tw_signal_external_options *")
        lib.tw_signal_external_options_init(o)
        o.workflow_id = _bridge.cstr(workflow_id, keep)
        o.run_id = _bridge.cstr(run_id, keep)
        o.signal_name = _bridge.cstr(signal, keep)
        self._set_args_and_headers(o, args, headers, keep)
        o.child_workflow_only = 1 if child_only else 0
        fut = _ExternalOp(self)
        tag = next(self._tags)
        out = ffi.new("tw_op **")
        _bridge.raise_for(lib.tw_wf_signal_external(self._wf, scope._impl, o, tag, out))
        fut._op = out[0]
        self._ops[tag] = fut
        await fut

    # ---- cancellation scopes ----

    def _ensure_scope(self, scope: CancellationScope) -> None:
        if scope._impl is not None:
            return
        if scope._runtime is not self:
            raise ValueError("this cancellation scope belongs to another workflow run")
        parent = scope.parent or self._root
        self._ensure_scope(parent)
        timeout_ms = _bridge.millis(scope.timeout) if scope.timeout is not None else 0
        if timeout_ms:
            self.workflow_assert_not_read_only("starting a cancellation scope's timeout")
        tag = next(self._tags)
        out = ffi.new("tw_scope **")
        _bridge.raise_for(lib.tw_wf_scope_new(self._wf, parent._impl, 1 if scope.detached else 0, timeout_ms, tag, out))
        scope._impl = out[0]
        scope._tag = tag
        self._scopes[tag] = scope
        if lib.tw_scope_is_cancelled(scope._impl):
            self._on_scope_cancelled(tag)

    def workflow_root_scope(self) -> CancellationScope:
        return self._root

    def workflow_scope_cancel(self, scope: CancellationScope) -> None:
        self.workflow_assert_not_read_only("cancelling a scope")
        self._ensure_scope(scope)
        _bridge.raise_for(lib.tw_scope_cancel(scope._impl))

    def workflow_scope_is_cancelled(self, scope: CancellationScope) -> bool:
        return scope._impl is not None and bool(lib.tw_scope_is_cancelled(scope._impl))

    def workflow_scope_enter(self, scope: CancellationScope) -> None:
        self._ensure_scope(scope)
        task = asyncio.current_task()
        if task is None:
            return
        self._task_stack.setdefault(task, []).append(scope)
        if lib.tw_scope_is_cancelled(scope._impl):
            self._loop.call_soon(self._maybe_deliver, task)

    def workflow_scope_exit(self, scope: CancellationScope) -> None:
        task = asyncio.current_task()
        if task is None:
            return
        stack = self._task_stack.get(task)
        if stack and stack[-1] is scope:
            stack.pop()
            if not stack:
                del self._task_stack[task]
        delivered = self._delivered.get(task)
        if delivered is not None and scope._tag in delivered and task.cancelling():
            task.uncancel()
        if scope.detached:
            # Leaving a detached scope: a cancellation it kept away may reach the task now.
            self._loop.call_soon(self._maybe_deliver, task)

    def _task_created(self, task: asyncio.Task[Any]) -> None:
        scope = temporalio.workflow._current_scope.get()
        if scope is not None and scope._runtime is self and not scope.is_root:
            self._task_base[task] = scope
            task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._task_base.pop(task, None)
        self._task_stack.pop(task, None)

    def _innermost_scope(self, task: asyncio.Task[Any]) -> CancellationScope:
        stack = self._task_stack.get(task)
        if stack:
            return stack[-1]
        return self._task_base.get(task, self._root)

    def _deliver_cancellations(self) -> None:
        self._delivery_scheduled = False
        for task in list(self._loop.tasks):
            self._maybe_deliver(task)

    def _maybe_deliver(self, task: asyncio.Task[Any]) -> None:
        """Cancels task when the nearest cancelled scope around it has not reached it yet."""
        if task.done() or self._deleting:
            return
        scope: Optional[CancellationScope] = self._innermost_scope(task)
        while scope is not None:
            if scope._impl is not None and lib.tw_scope_is_cancelled(scope._impl):
                if scope.is_root and task is not self._primary_task:
                    return  # the workflow's cancellation reaches the run, not handler tasks
                delivered = self._delivered.setdefault(task, set())
                if scope._tag in delivered:
                    return
                # Mark the whole cancelled chain: the task learns of it once.
                marked: Optional[CancellationScope] = scope
                while marked is not None and marked._impl is not None and lib.tw_scope_is_cancelled(marked._impl):
                    delivered.add(marked._tag)
                    if marked.detached:
                        break
                    marked = marked.parent
                task.cancel("workflow cancelled" if scope.is_root else "cancellation scope cancelled")
                return
            if scope.detached:
                return
            scope = scope.parent

    # ---- temporalio.workflow._Runtime ----

    def workflow_info(self) -> temporalio.workflow.Info:
        return self._outbound.info()

    def workflow_instance(self) -> Any:
        return self._object

    def workflow_is_replaying(self) -> bool:
        return self._is_replaying

    def workflow_time_ns(self) -> int:
        return self._loop.time_ns()

    def workflow_random(self) -> random.Random:
        return self._random

    def workflow_memo(self) -> Mapping[str, Any]:
        if self._memo is None:
            self._memo = {k: self._decode([p], None)[0] for k, p in self._info.raw_memo.items()}
        return self._memo

    def workflow_upsert_search_attributes(self, attributes: Mapping[str, Any]) -> None:
        self.workflow_assert_not_read_only("upserting search attributes")
        payloads = _search_attribute_payloads(attributes)
        lst = _bridge.payload_map_to_c(payloads)
        _bridge.raise_for(lib.tw_wf_upsert_search_attributes(self._wf, lst))
        updated = dict(self._info.search_attributes)
        for key, values in _client()._decode_search_attributes(payloads).items():
            if values:
                updated[key] = values
            else:
                updated.pop(key, None)
        self._info = dataclasses.replace(self._info, search_attributes=updated)

    def workflow_upsert_memo(self, updates: Mapping[str, Any]) -> None:
        self.workflow_assert_not_read_only("upserting the memo")
        encoded = {k: self._encode([v])[0] for k, v in updates.items()}
        lst = _bridge.payload_map_to_c(encoded)
        _bridge.raise_for(lib.tw_wf_modify_memo(self._wf, lst))
        raw = dict(self._info.raw_memo)
        raw.update(encoded)
        for key, value in updates.items():
            if value is None:  # the server removes keys set to None; so does the local view
                raw.pop(key, None)
        self._info = dataclasses.replace(self._info, raw_memo=raw)
        self._memo = None

    def workflow_memo_value(self, key: str, default: Any, type_hint: Optional[type]) -> Any:
        payload = self._info.raw_memo.get(key)
        if payload is None:
            if default is temporalio.common._arg_unset:
                raise KeyError(f"memo has no key {key!r}")
            return default
        return self._decode([payload], [type_hint] if type_hint else None)[0]

    def workflow_payload_converter(self) -> temporalio.converter.PayloadConverter:
        return self._payload_converter

    def workflow_history_length(self) -> int:
        return self._history_length

    def workflow_assert_not_read_only(self, what: str) -> None:
        if self._read_only:
            raise temporalio.workflow.ReadOnlyContextError(f"{what} is not allowed in a query handler")
        if self._deleting:
            raise RuntimeError(f"{what} is not allowed while the run is evicted from the worker's cache")

    def workflow_start_activity(
        self,
        activity: Any,
        args: Sequence[Any],
        *,
        result_type: Optional[type],
        activity_id: Optional[str],
        task_queue: Optional[str],
        schedule_to_close_timeout: Optional[timedelta],
        schedule_to_start_timeout: Optional[timedelta],
        start_to_close_timeout: Optional[timedelta],
        heartbeat_timeout: Optional[timedelta],
        retry_policy: Optional[temporalio.common.RetryPolicy],
        cancellation_type: ActivityCancellationType,
        summary: Optional[str],
        priority: temporalio.common.Priority,
    ) -> temporalio.workflow.ActivityHandle[Any]:
        self.workflow_assert_not_read_only("starting an activity")
        name, arg_types, ret_type = _activity_definition(activity)
        return self._outbound.start_activity(
            StartActivityInput(
                activity=name,
                args=args,
                activity_id=activity_id,
                task_queue=task_queue,
                schedule_to_close_timeout=schedule_to_close_timeout,
                schedule_to_start_timeout=schedule_to_start_timeout,
                start_to_close_timeout=start_to_close_timeout,
                heartbeat_timeout=heartbeat_timeout,
                retry_policy=retry_policy,
                cancellation_type=ActivityCancellationType(cancellation_type),
                headers={},
                arg_types=arg_types,
                ret_type=result_type or ret_type,
                summary=summary,
                priority=priority,
            )
        )

    def workflow_start_local_activity(
        self,
        activity: Any,
        args: Sequence[Any],
        *,
        result_type: Optional[type],
        activity_id: Optional[str],
        schedule_to_close_timeout: Optional[timedelta],
        schedule_to_start_timeout: Optional[timedelta],
        start_to_close_timeout: Optional[timedelta],
        retry_policy: Optional[temporalio.common.RetryPolicy],
        local_retry_threshold: Optional[timedelta],
        cancellation_type: ActivityCancellationType,
        summary: Optional[str],
    ) -> temporalio.workflow.ActivityHandle[Any]:
        self.workflow_assert_not_read_only("starting a local activity")
        name, arg_types, ret_type = _activity_definition(activity)
        return self._outbound.start_local_activity(
            StartLocalActivityInput(
                activity=name,
                args=args,
                activity_id=activity_id,
                schedule_to_close_timeout=schedule_to_close_timeout,
                schedule_to_start_timeout=schedule_to_start_timeout,
                start_to_close_timeout=start_to_close_timeout,
                retry_policy=retry_policy,
                local_retry_threshold=local_retry_threshold,
                cancellation_type=ActivityCancellationType(cancellation_type),
                headers={},
                arg_types=arg_types,
                ret_type=result_type or ret_type,
                summary=summary,
            )
        )

    async def workflow_start_child_workflow(
        self,
        workflow: Any,
        args: Sequence[Any],
        *,
        result_type: Optional[type],
        id: str,
        task_queue: Optional[str],
        cancellation_type: ChildWorkflowCancellationType,
        parent_close_policy: ParentClosePolicy,
        execution_timeout: Optional[timedelta],
        run_timeout: Optional[timedelta],
        task_timeout: Optional[timedelta],
        id_reuse_policy: temporalio.common.WorkflowIDReusePolicy,
        retry_policy: Optional[temporalio.common.RetryPolicy],
        cron_schedule: str,
        memo: Optional[Mapping[str, Any]],
        search_attributes: Optional[Mapping[str, Any]],
        header: Optional[Mapping[str, Any]],
        static_summary: Optional[str],
        static_details: Optional[str],
        priority: temporalio.common.Priority,
    ) -> temporalio.workflow.ChildWorkflowHandle[Any, Any]:
        self.workflow_assert_not_read_only("starting a child workflow")
        name = temporalio.workflow.WorkflowDefinition.must_name_from_fn_or_str(workflow)
        arg_types: Optional[list[type]] = None
        ret_type: Optional[type] = None
        if callable(workflow):
            arg_types, ret_type = temporalio.common._type_hints_from_func(workflow)
        headers = {k: self._encode([v])[0] for k, v in (header or {}).items()}
        return await self._outbound.start_child_workflow(
            StartChildWorkflowInput(
                workflow=name,
                args=args,
                id=id,
                task_queue=task_queue,
                cancellation_type=ChildWorkflowCancellationType(cancellation_type),
                parent_close_policy=ParentClosePolicy(parent_close_policy),
                execution_timeout=execution_timeout,
                run_timeout=run_timeout,
                task_timeout=task_timeout,
                id_reuse_policy=id_reuse_policy,
                retry_policy=retry_policy,
                cron_schedule=cron_schedule,
                memo=memo,
                search_attributes=search_attributes,
                headers=headers,
                arg_types=arg_types,
                ret_type=result_type or ret_type,
                static_summary=static_summary,
                static_details=static_details,
                priority=priority,
            )
        )

    async def workflow_signal_external(
        self, workflow_id: str, run_id: Optional[str], signal: str, args: Sequence[Any]
    ) -> None:
        self.workflow_assert_not_read_only("signalling a workflow")
        await self._outbound.signal_external_workflow(
            SignalExternalWorkflowInput(
                signal=signal,
                args=args,
                namespace=self._info.namespace,
                workflow_id=workflow_id,
                workflow_run_id=run_id,
                headers={},
            )
        )

    async def workflow_cancel_external(self, workflow_id: str, run_id: Optional[str]) -> None:
        self.workflow_assert_not_read_only("cancelling a workflow")
        scope = CancellationScope.current()
        self._ensure_scope(scope)
        keep: list[Any] = []
        fut = _ExternalOp(self)
        tag = next(self._tags)
        out = ffi.new("tw_op **")
        _bridge.raise_for(
            lib.tw_wf_cancel_external(
                self._wf, scope._impl, _bridge.cstr(workflow_id, keep), _bridge.cstr(run_id, keep), tag, out
            )
        )
        fut._op = out[0]
        self._ops[tag] = fut
        await fut

    def workflow_patch(self, id: str, *, deprecated: bool) -> bool:
        if self._deleting:
            raise RuntimeError("patches cannot be checked while the run is evicted from the worker's cache")
        if not id:
            raise ValueError("patch id must not be empty")
        if deprecated:
            self.workflow_assert_not_read_only("deprecating a patch")
            _bridge.raise_for(lib.tw_wf_deprecate_patch(self._wf, id.encode("utf-8")))
            return True
        rc = lib.tw_wf_patched(self._wf, id.encode("utf-8"))
        if rc < 0:
            _bridge.raise_for(lib.tw_error_code(lib.tw_error_last()))
        return bool(rc)

    def workflow_continue_as_new(
        self,
        args: Sequence[Any],
        *,
        workflow: Any,
        task_queue: Optional[str],
        run_timeout: Optional[timedelta],
        task_timeout: Optional[timedelta],
        backoff_start_interval: Optional[timedelta],
        retry_policy: Optional[temporalio.common.RetryPolicy],
        memo: Optional[Mapping[str, Any]],
        search_attributes: Optional[Mapping[str, Any]],
    ) -> NoReturn:
        self.workflow_assert_not_read_only("continue_as_new")
        name: Optional[str] = None
        if workflow is not None:
            name = temporalio.workflow.WorkflowDefinition.must_name_from_fn_or_str(workflow)
        self._outbound.continue_as_new(
            ContinueAsNewInput(
                workflow=name,
                args=args,
                task_queue=task_queue,
                run_timeout=run_timeout,
                task_timeout=task_timeout,
                retry_policy=retry_policy,
                memo=memo,
                search_attributes=search_attributes,
                headers={},
                backoff_start_interval=backoff_start_interval,
            )
        )
        raise RuntimeError("the continue_as_new interceptor returned instead of raising")

    async def workflow_wait_condition(
        self, fn: Callable[[], bool], timeout: Optional[float], timeout_summary: Optional[str]
    ) -> None:
        self.workflow_assert_not_read_only("wait_condition")
        fut = self._loop.add_condition(fn)
        if timeout is None:
            await fut
        else:
            with self._loop.timer_summary(timeout_summary):
                await asyncio.wait_for(fut, timeout)

    async def workflow_sleep(self, seconds: float, summary: Optional[str]) -> None:
        self.workflow_assert_not_read_only("sleep")
        with self._loop.timer_summary(summary):
            await asyncio.sleep(seconds)

    def workflow_set_handler(self, kind: str, name: Optional[str], handler: Optional[Callable[..., Any]]) -> None:
        table = self._signals if kind == "signal" else self._queries
        if handler is None:
            table.pop(name, None)
            return
        if not callable(handler):
            raise TypeError(f"a {kind} handler must be callable, got {handler!r}")
        if name is None:
            params = [
                p
                for p in inspect.signature(handler).parameters.values()
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
            ]
            if len(params) != 2:
                raise TypeError(f"a dynamic {kind} handler takes (name, *args) or (name, args)")
        table[name] = _Handler(name, handler, False)
        if kind == "signal":
            self.workflow_assert_not_read_only("adding a signal handler")
            _bridge.raise_for(
                lib.tw_wf_signal_handler_added(self._wf, name.encode("utf-8") if name is not None else ffi.NULL)
            )

    def workflow_get_handler(self, kind: str, name: Optional[str]) -> Optional[Callable[..., Any]]:
        table = self._signals if kind == "signal" else self._queries
        handler = table.get(name)
        if handler is None:
            return None
        if handler.is_method:
            return handler.fn.__get__(self._object, type(self._object))  # type: ignore[no-any-return]
        return handler.fn

    # ---- built-in query ----

    def _stack_trace(self) -> str:
        """Where each pending task waits: its coroutine chain, outermost first."""
        parts: list[str] = []
        for task in list(self._loop.tasks):
            if task.done():
                continue
            lines = [f"Task {task.get_name()}:\n"]
            coro: Any = task.get_coro()
            while coro is not None:
                frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
                if frame is not None:
                    lines.extend(traceback.format_stack(frame, limit=1))
                coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
            parts.append("".join(lines))
        return "\n".join(parts)


def _error_message(err: BaseException) -> str:
    text = str(err)
    return f"{type(err).__name__}: {text}" if text else type(err).__name__

