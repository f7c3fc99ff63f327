"""Child workflows, signals and cancellation requests to other workflows, and patches.

Everything runs against a real Temporal dev server: parents and children on
one worker (children default to the parent's task queue), other workflows
started by the client, histories replayed with the Replayer.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any, Optional

import pytest

from temporalio import workflow
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import (
    ApplicationError,
    CancelledError,
    ChildWorkflowError,
    TerminatedError,
    WorkflowAlreadyStartedError,
)
from temporalio.worker import Replayer, Worker

# ---------------------------------------------------------------------------
# Workflows
# ---------------------------------------------------------------------------


@workflow.defn
class ChildGreeting:
    @workflow.run
    async def run(self, name: str) -> str:
        parent = workflow.info().parent
        assert parent is not None
        return f"Hello, {name}! (parent {parent.workflow_id})"


@workflow.defn
class ChildFailing:
    @workflow.run
    async def run(self, message: str) -> str:
        raise ApplicationError(message, "detail", type="ChildBroke", non_retryable=True)


@workflow.defn
class ChildWaiting:
    """Waits until signalled (or forever), then returns what it was told."""

    def __init__(self) -> None:
        self._told: Optional[str] = None

    @workflow.signal
    def tell(self, value: str) -> None:
        self._told = value

    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: self._told is not None)
        assert self._told is not None
        return self._told


@workflow.defn
class ParentExecute:
    @workflow.run
    async def run(self, name: str) -> str:
        return await workflow.execute_child_workflow(
            ChildGreeting.run, name, id=f"{workflow.info().workflow_id}-child"
        )


@workflow.defn
class ParentCatchesFailure:
    @workflow.run
    async def run(self) -> list[str]:
        try:
            await workflow.execute_child_workflow(
                ChildFailing.run, "broken on purpose", id=f"{workflow.info().workflow_id}-child"
            )
        except ChildWorkflowError as err:
            cause = err.cause
            assert isinstance(cause, ApplicationError)
            return [type(err).__name__, err.workflow_type, cause.message, str(cause.type), str(cause.details[0])]
        return ["no error"]


@workflow.defn
class ParentStartsTwice:
    """Starts a child with an ID that is already running: the second start fails."""

    @workflow.run
    async def run(self, child_id: str) -> str:
        first = await workflow.start_child_workflow(ChildWaiting.run, id=child_id)
        try:
            await workflow.start_child_workflow(ChildWaiting.run, id=child_id)
        except WorkflowAlreadyStartedError as err:
            await first.signal(ChildWaiting.tell, "done")
            await first
            return f"already started: {err.workflow_id}"
        return "second start succeeded"


@workflow.defn
class ParentSignalsChild:
    @workflow.run
    async def run(self) -> list[str]:
        handle = await workflow.start_child_workflow(ChildWaiting.run, id=f"{workflow.info().workflow_id}-child")
        assert handle.id.endswith("-child")
        assert handle.first_execution_run_id
        await handle.signal(ChildWaiting.tell, "from parent")
        return [await handle, str(handle.first_execution_run_id == handle.original_run_id)]


@workflow.defn
class ParentCancelsChild:
    @workflow.run
    async def run(self, cancellation_type: int) -> str:
        handle = await workflow.start_child_workflow(
            ChildWaiting.run,
            id=f"{workflow.info().workflow_id}-child",
            cancellation_type=workflow.ChildWorkflowCancellationType(cancellation_type),
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
        )
        handle.cancel()
        try:
            await handle
            outcome = "child completed"
        except ChildWorkflowError as err:
            outcome = f"ChildWorkflowError caused by {type(err.cause).__name__}"
        # The server drops a cancellation request of a parent that closed
        # before delivering it: stay open a moment (TRY_CANCEL resolves at once).
        await workflow.sleep(1)
        return outcome


@workflow.defn
class ParentScopeCancelsChild:
    """Starts a child in a scope nobody awaits, then cancels the scope: the child is cancelled too."""

    @workflow.run
    async def run(self) -> str:
        scope = workflow.CancellationScope()
        started: list[Any] = []

        async def in_scope() -> None:
            started.append(
                await workflow.start_child_workflow(ChildWaiting.run, id=f"{workflow.info().workflow_id}-child")
            )

        await scope.run(in_scope)
        scope.cancel()
        try:
            await started[0]
        except ChildWorkflowError as err:
            return f"child: {type(err.cause).__name__}"
        return "child completed"


@workflow.defn
class Signaller:
    @workflow.run
    async def run(self, target_id: str, value: str) -> str:
        await workflow.get_external_workflow_handle_for(ChildWaiting.run, target_id).signal(ChildWaiting.tell, value)
        try:
            await workflow.get_external_workflow_handle(f"{target_id}-does-not-exist").signal("tell", "x")
        except ApplicationError as err:
            return f"second signal failed: {err.message}"
        return "second signal delivered"


@workflow.defn
class Canceller:
    @workflow.run
    async def run(self, target_id: str) -> str:
        await workflow.get_external_workflow_handle(target_id).cancel()
        try:
            await workflow.get_external_workflow_handle(f"{target_id}-does-not-exist").cancel()
        except ApplicationError as err:
            return f"second cancel failed: {err.message}"
        return "second cancel recorded"


# Patches: three versions of one workflow type, registered under the same name.


@workflow.defn(name="Patched")
class PatchedV1:
    @workflow.run
    async def run(self) -> str:
        await workflow.sleep(0.1)
        return "old"


@workflow.defn(name="Patched")
class PatchedV2:
    @workflow.run
    async def run(self) -> str:
        if workflow.patched("my-change"):
            await workflow.sleep(0.1)
            await workflow.sleep(0.1)
            return "new"
        await workflow.sleep(0.1)
        return "old"


@workflow.defn(name="Patched")
class PatchedV3:
    @workflow.run
    async def run(self) -> str:
        workflow.deprecate_patch("my-change")
        await workflow.sleep(0.1)
        await workflow.sleep(0.1)
        return "new"


@workflow.defn(name="Patched")
class PatchedV4:
    @workflow.run
    async def run(self) -> str:
        await workflow.sleep(0.1)
        await workflow.sleep(0.1)
        return "new"


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


@asynccontextmanager
async def running_worker(client: Client, *workflows: type, **kwargs: Any) -> AsyncIterator[Worker]:
    async with Worker(client, task_queue=f"tq-{uuid.uuid4()}", workflows=list(workflows), **kwargs) as worker:
        yield worker


async def run(client: Client, worker: Worker, wf: Any, *args: Any, id: Optional[str] = None) -> Any:
    handle = await client.start_workflow(
        wf, args=list(args), id=id or f"wf-{uuid.uuid4()}", task_queue=worker.task_queue
    )
    return await asyncio.wait_for(handle.result(), 30)


def camel(event_type: str) -> str:
    """"EVENT_TYPE_MARKER_RECORDED" -> "MarkerRecorded"."""
    return "".join(w.capitalize() for w in event_type.removeprefix("EVENT_TYPE_").split("_"))


async def event_types(handle: WorkflowHandle[Any, Any]) -> list[str]:
    return [camel(str(e.get("eventType", ""))) for e in (await handle.fetch_history()).events]


# ---------------------------------------------------------------------------
# Child workflows
# ---------------------------------------------------------------------------


async def test_execute_child_workflow(client: Client) -> None:
    wid = f"parent-{uuid.uuid4()}"
    async with running_worker(client, ParentExecute, ChildGreeting) as worker:
        assert await run(client, worker, ParentExecute.run, "Ada", id=wid) == f"Hello, Ada! (parent {wid})"
    types = await event_types(client.get_workflow_handle(wid))
    for expected in (
        "StartChildWorkflowExecutionInitiated",
        "ChildWorkflowExecutionStarted",
        "ChildWorkflowExecutionCompleted",
    ):
        assert expected in types
    child = await client.get_workflow_handle(f"{wid}-child").describe()
    assert child.status == WorkflowExecutionStatus.COMPLETED
    assert child.parent_id == wid


async def test_child_failure_is_a_child_workflow_error(client: Client) -> None:
    async with running_worker(client, ParentCatchesFailure, ChildFailing) as worker:
        assert await run(client, worker, ParentCatchesFailure.run) == [
            "ChildWorkflowError",
            "ChildFailing",
            "broken on purpose",
            "ChildBroke",
            "detail",
        ]


async def test_child_failure_fails_the_parent_when_uncaught(client: Client) -> None:
    @workflow.defn(name="ParentUncaught")
    class ParentUncaught:
        @workflow.run
        async def run(self) -> str:
            return await workflow.execute_child_workflow(
                ChildFailing.run, "uncaught", id=f"{workflow.info().workflow_id}-child"
            )

    async with running_worker(client, ParentUncaught, ChildFailing) as worker:
        with pytest.raises(WorkflowFailureError) as failed:
            await run(client, worker, "ParentUncaught")
    err = failed.value.cause
    assert isinstance(err, ChildWorkflowError)
    assert isinstance(err.cause, ApplicationError) and err.cause.message == "uncaught"


async def test_start_child_with_running_id_raises_already_started(client: Client) -> None:
    child_id = f"child-{uuid.uuid4()}"
    async with running_worker(client, ParentStartsTwice, ChildWaiting) as worker:
        assert await run(client, worker, ParentStartsTwice.run, child_id) == f"already started: {child_id}"


async def test_signal_child(client: Client) -> None:
    async with running_worker(client, ParentSignalsChild, ChildWaiting) as worker:
        assert await run(client, worker, ParentSignalsChild.run) == ["from parent", "True"]


@pytest.mark.parametrize(
    "cancellation_type,expected_child_status",
    [
        (workflow.ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED, WorkflowExecutionStatus.CANCELED),
        (workflow.ChildWorkflowCancellationType.TRY_CANCEL, WorkflowExecutionStatus.CANCELED),
        (workflow.ChildWorkflowCancellationType.WAIT_CANCELLATION_REQUESTED, WorkflowExecutionStatus.CANCELED),
        (workflow.ChildWorkflowCancellationType.ABANDON, WorkflowExecutionStatus.RUNNING),
    ],
)
async def test_cancel_child(
    client: Client,
    cancellation_type: workflow.ChildWorkflowCancellationType,
    expected_child_status: WorkflowExecutionStatus,
) -> None:
    wid = f"parent-{uuid.uuid4()}"
    async with running_worker(client, ParentCancelsChild, ChildWaiting) as worker:
        result = await run(client, worker, ParentCancelsChild.run, int(cancellation_type), id=wid)
        assert result == "ChildWorkflowError caused by CancelledError"
        child = client.get_workflow_handle(f"{wid}-child")
        status = None
        for _ in range(100):
            status = (await child.describe()).status
            if status == expected_child_status:
                break
            await asyncio.sleep(0.1)
        assert status == expected_child_status
    types = await event_types(client.get_workflow_handle(wid))
    requested = "RequestCancelExternalWorkflowExecutionInitiated" in types
    assert requested == (cancellation_type != workflow.ChildWorkflowCancellationType.ABANDON)
    if cancellation_type == workflow.ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED:
        # Resolved by the child's cancellation, so the parent saw it close.
        assert "ChildWorkflowExecutionCanceled" in types
    if cancellation_type == workflow.ChildWorkflowCancellationType.ABANDON:
        await child.terminate("test cleanup")


async def test_cancelling_a_scope_cancels_its_unawaited_child(client: Client) -> None:
    wid = f"parent-{uuid.uuid4()}"
    async with running_worker(client, ParentScopeCancelsChild, ChildWaiting) as worker:
        assert await run(client, worker, ParentScopeCancelsChild.run, id=wid) == "child: CancelledError"
    assert (await client.get_workflow_handle(f"{wid}-child").describe()).status == WorkflowExecutionStatus.CANCELED


async def test_workflow_cancellation_reaches_the_child(client: Client) -> None:
    @workflow.defn(name="ParentWaitsOnChild")
    class ParentWaitsOnChild:
        @workflow.run
        async def run(self) -> str:
            return await workflow.execute_child_workflow(
                ChildWaiting.run, id=f"{workflow.info().workflow_id}-child"
            )

    wid = f"parent-{uuid.uuid4()}"
    async with running_worker(client, ParentWaitsOnChild, ChildWaiting) as worker:
        handle = await client.start_workflow("ParentWaitsOnChild", id=wid, task_queue=worker.task_queue)
        child = client.get_workflow_handle(f"{wid}-child")
        for _ in range(100):
            try:
                await child.describe()
                break
            except Exception:
                await asyncio.sleep(0.1)
        await handle.cancel()
        with pytest.raises(WorkflowFailureError) as failed:
            await asyncio.wait_for(handle.result(), 30)
        assert isinstance(failed.value.cause, CancelledError)
        assert (await child.describe()).status == WorkflowExecutionStatus.CANCELED


async def test_terminated_child(client: Client) -> None:
    @workflow.defn(name="ParentOfTerminated")
    class ParentOfTerminated:
        @workflow.run
        async def run(self) -> str:
            try:
                await workflow.execute_child_workflow(ChildWaiting.run, id=f"{workflow.info().workflow_id}-child")
            except ChildWorkflowError as err:
                return type(err.cause).__name__
            return "completed"

    wid = f"parent-{uuid.uuid4()}"
    async with running_worker(client, ParentOfTerminated, ChildWaiting) as worker:
        handle = await client.start_workflow("ParentOfTerminated", id=wid, task_queue=worker.task_queue)
        child = client.get_workflow_handle(f"{wid}-child")
        for _ in range(100):
            try:
                await child.terminate("stop it")
                break
            except Exception:
                await asyncio.sleep(0.1)
        assert await asyncio.wait_for(handle.result(), 30) == TerminatedError.__name__


async def test_child_history_replays_and_a_changed_child_is_caught(client: Client) -> None:
    wid = f"parent-{uuid.uuid4()}"
    async with running_worker(client, ParentSignalsChild, ChildWaiting) as worker:
        await run(client, worker, ParentSignalsChild.run, id=wid)
    history = await client.get_workflow_handle(wid).fetch_history()
    await Replayer(workflows=[ParentSignalsChild]).replay_workflow(history)

    @workflow.defn(name="ParentSignalsChild")
    class OtherChildType:
        @workflow.run
        async def run(self) -> list[str]:
            handle = await workflow.start_child_workflow(
                ChildGreeting.run, "x", id=f"{workflow.info().workflow_id}-child"
            )
            return [await handle]

    with pytest.raises(workflow.NondeterminismError) as caught:
        await Replayer(workflows=[OtherChildType]).replay_workflow(history)
    message = str(caught.value)
    assert "ChildGreeting" in message and "ChildWaiting" in message


# ---------------------------------------------------------------------------
# Other workflows
# ---------------------------------------------------------------------------


async def test_signal_external_workflow(client: Client) -> None:
    target_id = f"target-{uuid.uuid4()}"
    async with running_worker(client, Signaller, ChildWaiting) as worker:
        target = await client.start_workflow(ChildWaiting.run, id=target_id, task_queue=worker.task_queue)
        result = await run(client, worker, Signaller.run, target_id, "hello from a workflow")
        assert result.startswith("second signal failed: ")
        assert "not found" in result.lower()
        assert await asyncio.wait_for(target.result(), 30) == "hello from a workflow"


async def test_cancel_external_workflow(client: Client) -> None:
    target_id = f"target-{uuid.uuid4()}"
    async with running_worker(client, Canceller, ChildWaiting) as worker:
        target = await client.start_workflow(ChildWaiting.run, id=target_id, task_queue=worker.task_queue)
        result = await run(client, worker, Canceller.run, target_id)
        assert result.startswith("second cancel failed: ")
        assert "not found" in result.lower()
        with pytest.raises(WorkflowFailureError) as failed:
            await asyncio.wait_for(target.result(), 30)
        assert isinstance(failed.value.cause, CancelledError)


async def test_external_handles_outside_a_workflow_are_refused() -> None:
    with pytest.raises(RuntimeError, match="workflow"):
        workflow.get_external_workflow_handle("x")
    with pytest.raises(RuntimeError, match="workflow"):
        workflow.patched("x")


# ---------------------------------------------------------------------------
# Patches
# ---------------------------------------------------------------------------


async def test_patches_old_and_new_histories_replay_across_versions(client: Client) -> None:
    old_id, new_id = f"patch-old-{uuid.uuid4()}", f"patch-new-{uuid.uuid4()}"
    async with running_worker(client, PatchedV1) as worker:
        assert await run(client, worker, "Patched", id=old_id) == "old"
    async with running_worker(client, PatchedV2) as worker:
        assert await run(client, worker, "Patched", id=new_id) == "new"
    old = await client.get_workflow_handle(old_id).fetch_history()
    new = await client.get_workflow_handle(new_id).fetch_history()
    assert "MarkerRecorded" not in [camel(str(e.get("eventType"))) for e in old.events]
    markers = [e for e in new.events if camel(str(e.get("eventType"))) == "MarkerRecorded"]
    assert len(markers) == 1
    assert markers[0]["markerRecordedEventAttributes"]["markerName"] == "core_patch"

    # V2 (patched) replays both; V3 (deprecated) replays the new one and the
    # old one only if nothing else differs (here it has one timer more: caught).
    await Replayer(workflows=[PatchedV2]).replay_workflow(old)
    await Replayer(workflows=[PatchedV2]).replay_workflow(new)
    await Replayer(workflows=[PatchedV3]).replay_workflow(new)
    with pytest.raises(workflow.NondeterminismError):
        await Replayer(workflows=[PatchedV3]).replay_workflow(old)
    # V1 never took the patch: the new history's second timer is caught.
    with pytest.raises(workflow.NondeterminismError):
        await Replayer(workflows=[PatchedV1]).replay_workflow(new)

    # A history made by V3 (deprecated marker) replays on V4 (patch call removed).
    dep_id = f"patch-dep-{uuid.uuid4()}"
    async with running_worker(client, PatchedV3) as worker:
        assert await run(client, worker, "Patched", id=dep_id) == "new"
    deprecated = await client.get_workflow_handle(dep_id).fetch_history()
    await Replayer(workflows=[PatchedV4]).replay_workflow(deprecated)
    await Replayer(workflows=[PatchedV3]).replay_workflow(deprecated)


async def test_patch_added_while_a_run_is_in_flight(client: Client) -> None:
    """A run started on old code finishes on the patched worker along the old branch."""

    @workflow.defn(name="InFlight")
    class InFlightV1:
        def __init__(self) -> None:
            self._go = False

        @workflow.signal
        def go(self) -> None:
            self._go = True

        @workflow.run
        async def run(self) -> str:
            await workflow.wait_condition(lambda: self._go)
            return "old"

    @workflow.defn(name="InFlight")
    class InFlightV2:
        def __init__(self) -> None:
            self._go = False

        @workflow.signal
        def go(self) -> None:
            self._go = True

        @workflow.run
        async def run(self) -> str:
            branch = "new" if workflow.patched("in-flight") else "old"
            await workflow.wait_condition(lambda: self._go)
            # The answer for an id does not change within a run.
            assert workflow.patched("in-flight") == (branch == "new")
            return branch

    tq = f"tq-{uuid.uuid4()}"
    async with Worker(client, task_queue=tq, workflows=[InFlightV1]):
        handle = await client.start_workflow("InFlight", id=f"inflight-{uuid.uuid4()}", task_queue=tq)
        for _ in range(100):
            if "WorkflowTaskCompleted" in await event_types(handle):
                break
            await asyncio.sleep(0.1)
    async with Worker(client, task_queue=tq, workflows=[InFlightV2]):
        await handle.signal("go")
        assert await asyncio.wait_for(handle.result(), 30) == "old"
        fresh = await client.start_workflow("InFlight", id=f"inflight-{uuid.uuid4()}", task_queue=tq)
        await fresh.signal("go")
        assert await asyncio.wait_for(fresh.result(), 30) == "new"
