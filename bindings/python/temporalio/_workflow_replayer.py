"""The replayer: runs recorded histories through workflow code, with no server.

:py:class:`Replayer` feeds histories (``WorkflowHandle.fetch_history()``,
or the JSON that ``temporal workflow show --output json`` prints) to the C
replayer (include/tw/replay.h), which hands out activations exactly as a
worker does on a cache miss and checks the commands the workflow code
makes against the ones the history recorded. A workflow whose code no
longer makes the recorded decisions fails with
:py:class:`temporalio.workflow.NondeterminismError` naming the event and
the command.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Optional, Union

import temporalio.client
import temporalio.converter
import temporalio.workflow
from temporalio import _bridge
from temporalio._tw import ffi, lib
from temporalio._workflow_instance import fail_task_completion
from temporalio._workflow_runner import UnsandboxedWorkflowRunner, WorkflowRunner
from temporalio._workflow_worker import DEADLOCK_TIMEOUT_SECONDS, _Activations, _DaemonThreadPool

__all__ = ["Replayer", "WorkflowReplayResult", "WorkflowReplayResults"]


@dataclass(frozen=True)
class WorkflowReplayResult:
    """The replay of one history."""

    history: temporalio.client.WorkflowHistory
    replay_failure: Optional[Exception]
    """None when the workflow made the recorded decisions; else why not
    (:py:class:`temporalio.workflow.NondeterminismError` for a
    nondeterministic change, :py:class:`RuntimeError` when the workflow task
    failed or the history could not be processed)."""


@dataclass(frozen=True)
class WorkflowReplayResults:
    """The replays of several histories."""

    replay_failures: Mapping[str, Exception]
    """Failures by run id (empty when every history replayed cleanly)."""


HistoryLike = Union[temporalio.client.WorkflowHistory, str, Mapping[str, Any]]


def _history_of(history: HistoryLike) -> temporalio.client.WorkflowHistory:
    if isinstance(history, temporalio.client.WorkflowHistory):
        return history
    if isinstance(history, str):
        return temporalio.client.WorkflowHistory.from_json("", history)
    return temporalio.client.WorkflowHistory.from_json("", dict(history))


def _release_later(activation: Any, inst: Any) -> Any:
    def release(_: "asyncio.Future[Any]") -> None:
        lib.tw_activation_free(activation)
        inst.close()

    return release


class Replayer:
    """Replays histories against workflow classes (no server, no worker)."""

    def __init__(
        self,
        *,
        workflows: Sequence[type],
        workflow_runner: Optional[WorkflowRunner] = None,
        interceptors: Sequence[Any] = (),
        namespace: str = "ReplayNamespace",
        data_converter: temporalio.converter.DataConverter = temporalio.converter.DataConverter.default,
        workflow_failure_exception_types: Sequence[type[BaseException]] = (),
        debug_mode: bool = False,
    ) -> None:
        if not workflows:
            raise ValueError("at least one workflow is required")
        self._options = dict(
            namespace=namespace,
            workflows=list(workflows),
            workflow_runner=workflow_runner or UnsandboxedWorkflowRunner(),
            interceptors=list(interceptors),
            data_converter=data_converter,
            workflow_failure_exception_types=list(workflow_failure_exception_types),
        )
        # Validate now, like a worker does.
        _Activations(**self._options)  # type: ignore[arg-type]
        self._deadlock_timeout = None if debug_mode else DEADLOCK_TIMEOUT_SECONDS

    async def replay_workflow(
        self, history: HistoryLike, *, raise_on_replay_failure: bool = True
    ) -> WorkflowReplayResult:
        """Replays one history; raises its replay failure unless ``raise_on_replay_failure`` is False."""
        results = await self._replay([_history_of(history)])
        result = results[0]
        if raise_on_replay_failure and result.replay_failure is not None:
            raise result.replay_failure
        return result

    async def replay_workflows(
        self,
        histories: Union[Iterable[HistoryLike], AsyncIterator[HistoryLike]],
        *,
        raise_on_replay_failure: bool = True,
    ) -> WorkflowReplayResults:
        """Replays histories one after the other; raises the first failure unless ``raise_on_replay_failure`` is False."""
        failures: dict[str, Exception] = {}
        if isinstance(histories, AsyncIterator):
            items = [_history_of(h) async for h in histories]
        else:
            items = [_history_of(h) for h in histories]
        for result in await self._replay(items):
            if result.replay_failure is not None:
                if raise_on_replay_failure:
                    raise result.replay_failure
                failures[result.history.run_id or result.history.workflow_id] = result.replay_failure
        return WorkflowReplayResults(replay_failures=failures)

    async def _replay(self, histories: list[temporalio.client.WorkflowHistory]) -> list[WorkflowReplayResult]:
        activations = _Activations(**self._options)  # type: ignore[arg-type]
        executor: concurrent.futures.Executor = _DaemonThreadPool(1, "temporal_replay_")
        out = ffi.new("tw_replayer **")
        _bridge.raise_for(lib.tw_replayer_new(out))
        replayer = ffi.gc(out[0], lib.tw_replayer_free)
        results: list[WorkflowReplayResult] = []
        try:
            for history in histories:
                text = json.dumps(history.to_json_dict()).encode("utf-8")
                wid = history.workflow_id.encode("utf-8") if history.workflow_id else ffi.NULL
                _bridge.raise_for(lib.tw_replayer_add_history_json(replayer, wid, text, len(text)))
                await self._drive(replayer, activations, executor)
                index = len(results)
                status = int(lib.tw_replayer_result_status(replayer, index))
                message = _bridge.text(lib.tw_replayer_result_message(replayer, index))
                failure: Optional[Exception] = None
                if status == lib.TW_REPLAY_NONDETERMINISTIC:
                    failure = temporalio.workflow.NondeterminismError(message)
                elif status != lib.TW_REPLAY_OK:
                    failure = RuntimeError(f"Replay failed: {message}")
                results.append(WorkflowReplayResult(history=history, replay_failure=failure))
        finally:
            for run_id in list(activations.instances):
                activations.evicted(run_id)
            executor.shutdown(wait=False)
        return results

    async def _drive(self, replayer: Any, activations: _Activations, executor: concurrent.futures.Executor) -> None:
        loop = asyncio.get_running_loop()
        out = ffi.new("tw_activation **")
        while True:
            rc = lib.tw_replayer_next_activation(replayer, out)
            if rc == lib.TW_ECLOSED:
                return
            _bridge.raise_for(rc)
            activation = out[0]
            run_id = _bridge.text(lib.tw_activation_run_id(activation))
            owns = True
            try:
                inst, completion = activations.instance_for(activation)
                if inst is not None:
                    eviction = activations.is_eviction(activation)
                    fut = loop.run_in_executor(executor, inst.activate, activation)
                    try:
                        completion = await asyncio.wait_for(asyncio.shield(fut), self._deadlock_timeout)
                    except asyncio.TimeoutError:
                        owns = False
                        activations.instances.pop(run_id, None)
                        fut.add_done_callback(_release_later(activation, inst))
                        completion = fail_task_completion(
                            run_id,
                            f"[TMPRL1101] Potential deadlock detected: workflow didn't yield within "
                            f"{self._deadlock_timeout:g} second(s)",
                        )
                        executor = _DaemonThreadPool(1, "temporal_replay_")
                        eviction = False
                    if eviction:
                        activations.evicted(run_id)
            finally:
                if owns:
                    lib.tw_activation_free(activation)
            _bridge.raise_for(lib.tw_replayer_complete(replayer, completion))
