"""temporalio.client against a real Temporal dev server.

No worker runs in these tests: workflows are started on task queues nobody
polls, so they stay open until terminated (or time out). Every test asserts
what the server recorded, read back through describe() or the history, whose
events are proto3-JSON dicts.
"""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, Optional, TypeVar

import pytest

import temporalio.exceptions
from temporalio import workflow
from temporalio.api.common.v1 import Payload
from temporalio.client import (
    CancelWorkflowInput,
    Client,
    CountWorkflowsInput,
    DescribeWorkflowInput,
    FetchWorkflowHistoryEventsInput,
    Interceptor,
    ListWorkflowsInput,
    OutboundInterceptor,
    QueryWorkflowInput,
    SignalWorkflowInput,
    StartWorkflowInput,
    TerminateWorkflowInput,
    WorkflowExecution,
    WorkflowExecutionCount,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowQueryRejectedError,
)
from temporalio.common import QueryRejectCondition, RetryPolicy, WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.converter import DataConverter, PayloadCodec
from temporalio.exceptions import RPCError, RPCStatusCode, TerminatedError, WorkflowAlreadyStartedError

T = TypeVar("T")


# ---------------------------------------------------------------------------
# Workflow definitions nobody runs: they only name workflows, signals, queries
# ---------------------------------------------------------------------------


@workflow.defn
class GreetingWorkflow:
    @workflow.run
    async def run(self, name: str) -> str:
        return f"Hello, {name}!"

    @workflow.signal
    def poke(self) -> None:
        pass

    @workflow.signal
    async def set_salutation(self, salutation: str) -> None:
        pass

    @workflow.signal(name="three-args")
    def three_args(self, a: int, b: str, c: list[int]) -> None:
        pass

    @workflow.query
    def greeting(self) -> str:
        return ""


@workflow.defn(name="renamed-workflow")
class RenamedWorkflow:
    @workflow.run
    async def run(self) -> int:
        return 0


@workflow.defn
class MultiParamWorkflow:
    @workflow.run
    async def run(self, a: int, b: str, c: list[int]) -> dict[str, int]:
        return {b: a + sum(c)}

    @workflow.query
    def lookup(self, key: str, default: int) -> int:
        return default


def not_a_workflow() -> None:
    pass


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def task_queue() -> str:
    """A task queue no worker polls (unique, so visibility queries can filter on it)."""
    return f"no-worker-{uuid.uuid4().hex[:12]}"


def decode_json_payloads(payloads: Optional[dict[str, Any]]) -> list[Any]:
    """Values of a proto3-JSON Payloads message whose payloads are json/plain (or binary/null)."""
    out: list[Any] = []
    for p in (payloads or {}).get("payloads", []):
        encoding = base64.b64decode(p["metadata"]["encoding"])
        if encoding == b"binary/null":
            out.append(None)
            continue
        assert encoding == b"json/plain", p
        out.append(json.loads(base64.b64decode(p.get("data", ""))))
    return out


async def history_events(handle: WorkflowHandle[Any, Any]) -> list[dict[str, Any]]:
    return list((await handle.fetch_history()).events)


async def events_of_type(handle: WorkflowHandle[Any, Any], suffix: str) -> list[dict[str, Any]]:
    return [e for e in await history_events(handle) if e["eventType"] == "EVENT_TYPE_" + suffix]


async def started_attributes(handle: WorkflowHandle[Any, Any]) -> dict[str, Any]:
    first = (await history_events(handle))[0]
    assert first["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED"
    attrs: dict[str, Any] = first["workflowExecutionStartedEventAttributes"]
    return attrs


async def signals_recorded(handle: WorkflowHandle[Any, Any]) -> list[tuple[str, list[Any]]]:
    return [
        (
            e["workflowExecutionSignaledEventAttributes"]["signalName"],
            decode_json_payloads(e["workflowExecutionSignaledEventAttributes"].get("input")),
        )
        for e in await events_of_type(handle, "WORKFLOW_EXECUTION_SIGNALED")
    ]


async def eventually(fetch: Callable[[], Awaitable[T]], ok: Callable[[T], bool], timeout: float = 10.0) -> T:
    """Polls fetch() until ok(value) (visibility is eventually consistent)."""
    deadline = time.monotonic() + timeout
    while True:
        value = await fetch()
        if ok(value) or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.2)


async def collect(it: AsyncIterator[T]) -> list[T]:
    return [x async for x in it]


async def assert_client_works(client: Client) -> None:
    """The client is still usable after an error."""
    count = await client.count_workflows()
    assert count.count >= 0


async def start_plain(client: Client, workflow_id: str, **kwargs: Any) -> WorkflowHandle[Any, Any]:
    kwargs.setdefault("task_queue", task_queue())
    return await client.start_workflow("SomeWorkflowType", id=workflow_id, **kwargs)


@pytest.fixture
async def handle(client: Client, workflow_id: str) -> AsyncIterator[WorkflowHandle[Any, Any]]:
    """A running workflow that is terminated after the test (if still open)."""
    h = await start_plain(client, workflow_id)
    yield h
    try:
        await h.terminate(reason="test cleanup")
    except RPCError:
        pass


@pytest.fixture(scope="session")
def custom_keyword_field(server_address: str) -> str:
    """Makes sure the dev server has the CustomKeywordField search attribute.

    `temporal server start-dev` registers it only when asked (scripts/devserver.py
    does); a server started otherwise gets it here (creating it again is a no-op).
    """
    from devserver import find_cli  # type: ignore[import-not-found]  # scripts/, put on sys.path by conftest

    subprocess.run(
        [find_cli(), "operator", "search-attribute", "create", "--name", "CustomKeywordField",
         "--type", "Keyword", "--address", server_address],
        check=True, capture_output=True, timeout=30,
    )
    return "CustomKeywordField"


# ---------------------------------------------------------------------------
# Connecting
# ---------------------------------------------------------------------------


async def test_connect(server_address: str) -> None:
    client = await Client.connect(server_address)
    assert client.namespace == "default"
    assert client.identity
    await assert_client_works(client)


async def test_connect_with_http_scheme(server_address: str) -> None:
    client = await Client.connect(f"http://{server_address}")
    await assert_client_works(client)


async def test_connect_identity_is_recorded(server_address: str, workflow_id: str) -> None:
    client = await Client.connect(server_address, identity="test-identity@here")
    assert client.identity == "test-identity@here"
    h = await start_plain(client, workflow_id)
    assert (await started_attributes(h))["identity"] == "test-identity@here"
    await h.terminate()


async def test_connect_unknown_namespace(server_address: str) -> None:
    namespace = f"no-such-namespace-{uuid.uuid4().hex[:8]}"
    with pytest.raises(RPCError) as err:
        await Client.connect(server_address, namespace=namespace)
    assert err.value.status == RPCStatusCode.NOT_FOUND
    assert namespace in err.value.message


async def test_connect_unreachable_host() -> None:
    started = time.monotonic()
    with pytest.raises(RPCError) as err:
        await Client.connect("127.0.0.1:1", connect_timeout=timedelta(seconds=1.5))
    assert err.value.status == RPCStatusCode.UNAVAILABLE
    assert time.monotonic() - started < 8, "connect_timeout was not honoured"


async def test_connect_tls_to_plaintext_server(server_address: str) -> None:
    started = time.monotonic()
    with pytest.raises(RPCError) as err:
        await Client.connect(server_address, tls=True, connect_timeout=timedelta(seconds=1.5))
    assert err.value.status == RPCStatusCode.UNAVAILABLE
    assert time.monotonic() - started < 8


async def test_connect_lazy_does_no_io(server_address: str) -> None:
    started = time.monotonic()
    # Nothing listens on port 1: an eager connect would fail.
    unreachable = await Client.connect("127.0.0.1:1", lazy=True, connect_timeout=timedelta(seconds=1))
    # Nor does the namespace exist: an eager connect would fail with NOT_FOUND.
    missing_ns = await Client.connect(server_address, namespace=f"nope-{uuid.uuid4().hex[:8]}", lazy=True)
    assert time.monotonic() - started < 0.5
    assert missing_ns.namespace.startswith("nope-")
    # The first real call connects.
    lazy = await Client.connect(server_address, lazy=True)
    await assert_client_works(lazy)
    del unreachable


async def test_connect_rejects_bad_target_and_namespace() -> None:
    with pytest.raises(ValueError, match="port"):
        await Client.connect("localhost", lazy=True)
    with pytest.raises(ValueError, match="scheme"):
        await Client.connect("ftp://localhost:7233", lazy=True)
    with pytest.raises(ValueError, match="namespace"):
        await Client.connect("localhost:7233", namespace="", lazy=True)


async def test_connect_invalid_rpc_metadata_key(server_address: str, client: Client) -> None:
    with pytest.raises(ValueError, match="Bad-Key"):
        await Client.connect(server_address, rpc_metadata={"Bad-Key": "value"})
    good = await Client.connect(server_address, rpc_metadata={"x-test-header": "value"})
    await assert_client_works(good)
    await assert_client_works(client)


# ---------------------------------------------------------------------------
# Starting workflows
# ---------------------------------------------------------------------------


async def test_start_by_name_with_args(client: Client, workflow_id: str) -> None:
    tq = task_queue()
    h = await client.start_workflow("SomeWorkflowType", "a", 2, {"x": [1, None]}, id=workflow_id, task_queue=tq)
    assert h.id == workflow_id and h.run_id and h.run_id == h.first_execution_run_id
    attrs = await started_attributes(h)
    assert attrs["workflowType"]["name"] == "SomeWorkflowType"
    assert attrs["taskQueue"]["name"] == tq
    assert attrs["originalExecutionRunId"] == h.run_id
    assert decode_json_payloads(attrs["input"]) == ["a", 2, {"x": [1, None]}]
    await h.terminate()


async def test_start_by_name_without_args(client: Client, workflow_id: str) -> None:
    h = await start_plain(client, workflow_id)
    assert decode_json_payloads((await started_attributes(h)).get("input")) == []
    await h.terminate()


async def test_start_typed_workflow(client: Client, workflow_id: str) -> None:
    h = await client.start_workflow(GreetingWorkflow.run, "Ada", id=workflow_id, task_queue=task_queue())
    attrs = await started_attributes(h)
    assert attrs["workflowType"]["name"] == "GreetingWorkflow"
    assert decode_json_payloads(attrs["input"]) == ["Ada"]

    typed = client.get_workflow_handle_for(GreetingWorkflow.run, workflow_id, run_id=h.run_id)
    assert (typed.id, typed.run_id) == (workflow_id, h.run_id)
    description = await typed.describe()
    assert description.workflow_type == "GreetingWorkflow"
    assert description.run_id == h.run_id
    await typed.terminate()


async def test_start_workflow_with_explicit_name(client: Client, workflow_id: str) -> None:
    h = await client.start_workflow(RenamedWorkflow.run, id=workflow_id, task_queue=task_queue())
    assert (await h.describe()).workflow_type == "renamed-workflow"
    await h.terminate()


async def test_start_typed_multi_param_workflow(client: Client, workflow_id: str) -> None:
    h = await client.start_workflow(MultiParamWorkflow.run, 1, "b", [2, 3], id=workflow_id, task_queue=task_queue())
    attrs = await started_attributes(h)
    assert attrs["workflowType"]["name"] == "MultiParamWorkflow"
    assert decode_json_payloads(attrs["input"]) == [1, "b", [2, 3]]
    await h.terminate()


async def test_start_with_arg_and_args_keywords(client: Client, workflow_id: str) -> None:
    """The official SDK's forms: arg= for one argument, args= for several."""
    tq = task_queue()
    by_arg = await client.start_workflow(GreetingWorkflow.run, arg="Ada", id=f"{workflow_id}-1", task_queue=tq)
    by_args = await client.start_workflow(
        MultiParamWorkflow.run, args=[1, "b", [2]], id=f"{workflow_id}-2", task_queue=tq
    )
    by_name_arg = await client.start_workflow("SomeWorkflowType", arg=None, id=f"{workflow_id}-3", task_queue=tq)
    by_name_args = await client.start_workflow("SomeWorkflowType", args=["x", 2], id=f"{workflow_id}-4", task_queue=tq)
    assert decode_json_payloads((await started_attributes(by_arg))["input"]) == ["Ada"]
    assert decode_json_payloads((await started_attributes(by_args))["input"]) == [1, "b", [2]]
    assert decode_json_payloads((await started_attributes(by_name_arg))["input"]) == [None]
    assert decode_json_payloads((await started_attributes(by_name_args))["input"]) == ["x", 2]
    for h in (by_arg, by_args, by_name_arg, by_name_args):
        await h.terminate()


async def test_mixing_argument_forms_is_rejected(client: Client, handle: WorkflowHandle[Any, Any]) -> None:
    with pytest.raises(ValueError, match="one way"):
        await client.start_workflow("SomeWorkflowType", 1, args=[2], id=handle.id + "-x", task_queue="q")
    with pytest.raises(ValueError, match="one way"):
        await client.start_workflow("SomeWorkflowType", arg=1, args=[2], id=handle.id + "-x", task_queue="q")
    with pytest.raises(TypeError, match="string"):
        await client.start_workflow("SomeWorkflowType", args="abc", id=handle.id + "-x", task_queue="q")
    with pytest.raises(ValueError, match="one way"):
        await handle.signal("s", 1, arg=2)
    with pytest.raises(ValueError, match="one way"):
        await handle.query("q", 1, args=[2])
    with pytest.raises(RPCError) as err:
        await client.get_workflow_handle(handle.id + "-x").describe()
    assert err.value.status == RPCStatusCode.NOT_FOUND
    assert await signals_recorded(handle) == []


async def test_start_records_timeouts_and_retry_policy(client: Client, workflow_id: str) -> None:
    h = await start_plain(
        client,
        workflow_id,
        execution_timeout=timedelta(hours=2),
        run_timeout=timedelta(minutes=30),
        task_timeout=timedelta(seconds=7),
        retry_policy=RetryPolicy(
            initial_interval=timedelta(seconds=2),
            backoff_coefficient=1.5,
            maximum_interval=timedelta(seconds=40),
            maximum_attempts=4,
            non_retryable_error_types=["BadInput", "Fatal"],
        ),
    )
    attrs = await started_attributes(h)
    assert attrs["workflowExecutionTimeout"] == "7200s"
    assert attrs["workflowRunTimeout"] == "1800s"
    assert attrs["workflowTaskTimeout"] == "7s"
    assert attrs["retryPolicy"] == {
        "initialInterval": "2s",
        "backoffCoefficient": 1.5,
        "maximumInterval": "40s",
        "maximumAttempts": 4,
        "nonRetryableErrorTypes": ["BadInput", "Fatal"],
    }
    await h.terminate()


async def test_start_records_cron_schedule(client: Client, workflow_id: str) -> None:
    h = await start_plain(client, workflow_id, cron_schedule="*/5 * * * *")
    attrs = await started_attributes(h)
    assert attrs["cronSchedule"] == "*/5 * * * *"
    # A cron workflow waits for its first slot before its first task.
    assert "firstWorkflowTaskBackoff" in attrs
    await h.terminate()


async def test_start_records_memo(client: Client, workflow_id: str) -> None:
    memo = {"owner": "ada", "attempts": 3, "tags": ["x", "y"], "nested": {"a": None}}
    h = await start_plain(client, workflow_id, memo=memo)
    description = await h.describe()
    assert await description.memo() == memo
    assert await description.memo_value("attempts") == 3
    assert await description.memo_value("missing", "fallback") == "fallback"
    with pytest.raises(KeyError):
        await description.memo_value("missing")
    fields = (await started_attributes(h))["memo"]["fields"]
    assert decode_json_payloads({"payloads": [fields["owner"]]}) == ["ada"]
    await h.terminate()


async def test_start_records_search_attributes(client: Client, workflow_id: str, custom_keyword_field: str) -> None:
    h = await start_plain(client, workflow_id, search_attributes={custom_keyword_field: ["blue"]})
    description = await h.describe()
    assert description.search_attributes[custom_keyword_field] == ["blue"]
    indexed = (await started_attributes(h))["searchAttributes"]["indexedFields"]
    assert decode_json_payloads({"payloads": [indexed[custom_keyword_field]]}) == ["blue"]
    # And visibility can query it.
    listed = await eventually(
        lambda: collect(client.list_workflows(f"{custom_keyword_field} = 'blue' AND WorkflowId = '{workflow_id}'")),
        lambda found: len(found) == 1,
    )
    assert [w.id for w in listed] == [workflow_id]
    await h.terminate()


async def test_start_delay(client: Client, workflow_id: str) -> None:
    h = await start_plain(client, workflow_id, start_delay=timedelta(minutes=10))
    events = await history_events(h)
    assert events[0]["workflowExecutionStartedEventAttributes"]["firstWorkflowTaskBackoff"] == "600s"
    assert not [e for e in events if e["eventType"] == "EVENT_TYPE_WORKFLOW_TASK_SCHEDULED"]
    await h.terminate()


async def test_without_start_delay_first_task_is_scheduled(client: Client, workflow_id: str) -> None:
    h = await start_plain(client, workflow_id)
    events = await history_events(h)
    assert events[0]["workflowExecutionStartedEventAttributes"].get("firstWorkflowTaskBackoff", "0s") == "0s"
    assert events[1]["eventType"] == "EVENT_TYPE_WORKFLOW_TASK_SCHEDULED"
    await h.terminate()


async def test_start_twice_raises_already_started(client: Client, workflow_id: str) -> None:
    tq = task_queue()
    first = await start_plain(client, workflow_id, task_queue=tq)
    with pytest.raises(WorkflowAlreadyStartedError) as err:
        await start_plain(client, workflow_id, task_queue=tq)
    assert err.value.run_id == first.run_id
    assert err.value.workflow_id == workflow_id
    assert err.value.workflow_type == "SomeWorkflowType"
    # The first run is untouched.
    assert (await first.describe()).status == WorkflowExecutionStatus.RUNNING
    await first.terminate()


async def test_id_reuse_policy_reject_duplicate(client: Client, workflow_id: str) -> None:
    first = await start_plain(client, workflow_id, id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
    await first.terminate(reason="make room")
    with pytest.raises(WorkflowAlreadyStartedError) as err:
        await start_plain(client, workflow_id, id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
    assert err.value.workflow_id == workflow_id
    # ALLOW_DUPLICATE (the default) may reuse the id of the closed run.
    second = await start_plain(client, workflow_id)
    assert second.run_id != first.run_id
    await second.terminate()


async def test_id_conflict_policy_use_existing(client: Client, workflow_id: str) -> None:
    first = await start_plain(client, workflow_id)
    again = await start_plain(client, workflow_id, id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
    assert again.run_id == first.run_id
    await first.terminate()


async def test_id_conflict_policy_terminate_existing(client: Client, workflow_id: str) -> None:
    first = await start_plain(client, workflow_id)
    second = await start_plain(client, workflow_id, id_conflict_policy=WorkflowIDConflictPolicy.TERMINATE_EXISTING)
    assert second.run_id != first.run_id
    assert (await first.describe()).status == WorkflowExecutionStatus.TERMINATED
    await second.terminate()


async def test_request_id_makes_start_idempotent(client: Client, workflow_id: str) -> None:
    request_id = str(uuid.uuid4())
    tq = task_queue()
    first = await start_plain(client, workflow_id, task_queue=tq, request_id=request_id)
    retried = await start_plain(client, workflow_id, task_queue=tq, request_id=request_id)
    assert retried.run_id == first.run_id
    await first.terminate()


async def test_signal_with_start_new_workflow(client: Client, workflow_id: str) -> None:
    h = await client.start_workflow(
        "SomeWorkflowType", "input", id=workflow_id, task_queue=task_queue(),
        start_signal="kick", start_signal_args=[1, "two"],
    )
    events = await history_events(h)
    assert events[0]["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED"
    assert events[0]["workflowExecutionStartedEventAttributes"]["originalExecutionRunId"] == h.run_id
    assert decode_json_payloads(events[0]["workflowExecutionStartedEventAttributes"]["input"]) == ["input"]
    assert await signals_recorded(h) == [("kick", [1, "two"])]
    await h.terminate()


async def test_signal_with_start_running_workflow(client: Client, workflow_id: str) -> None:
    first = await start_plain(client, workflow_id)
    again = await start_plain(client, workflow_id, start_signal="kick")
    assert again.run_id == first.run_id
    assert await signals_recorded(first) == [("kick", [])]
    await first.terminate()


# ---------------------------------------------------------------------------
# Signal, query, cancel, terminate, result
# ---------------------------------------------------------------------------


async def test_signal_by_name(handle: WorkflowHandle[Any, Any]) -> None:
    await handle.signal("no-args")
    await handle.signal("one-arg", {"k": "v"})
    await handle.signal("three-args", 1, "b", [3])
    assert await signals_recorded(handle) == [
        ("no-args", []),
        ("one-arg", [{"k": "v"}]),
        ("three-args", [1, "b", [3]]),
    ]


async def test_signal_by_method(client: Client, workflow_id: str) -> None:
    h = await client.start_workflow(GreetingWorkflow.run, "x", id=workflow_id, task_queue=task_queue())
    await h.signal(GreetingWorkflow.poke)
    await h.signal(GreetingWorkflow.set_salutation, "Hi")
    await h.signal(GreetingWorkflow.three_args, 1, "b", [2, 3])
    assert await signals_recorded(h) == [
        ("poke", []),
        ("set_salutation", ["Hi"]),
        ("three-args", [1, "b", [2, 3]]),
    ]
    await h.terminate()


async def test_signal_with_arg_and_args_keywords(client: Client, workflow_id: str) -> None:
    h = await client.start_workflow(GreetingWorkflow.run, "x", id=workflow_id, task_queue=task_queue())
    await h.signal(GreetingWorkflow.set_salutation, arg="Hi")
    await h.signal(GreetingWorkflow.three_args, args=[1, "b", [2]])
    await h.signal("by-name", arg={"k": 1})
    await h.signal("by-name", args=[1, 2])
    assert await signals_recorded(h) == [
        ("set_salutation", ["Hi"]),
        ("three-args", [1, "b", [2]]),
        ("by-name", [{"k": 1}]),
        ("by-name", [1, 2]),
    ]
    await h.terminate()


async def test_signal_through_untyped_handle(client: Client, handle: WorkflowHandle[Any, Any]) -> None:
    other = client.get_workflow_handle(handle.id)
    await other.signal("late")
    assert await signals_recorded(handle) == [("late", [])]


async def test_signal_unknown_workflow(client: Client) -> None:
    with pytest.raises(RPCError) as err:
        await client.get_workflow_handle(f"missing-{uuid.uuid4().hex}").signal("x")
    assert err.value.status == RPCStatusCode.NOT_FOUND
    await assert_client_works(client)


async def test_query_without_worker_fails_instead_of_hanging(server_address: str, workflow_id: str) -> None:
    client = await Client.connect(server_address, rpc_timeout=timedelta(seconds=2))
    h = await start_plain(client, workflow_id)
    started = time.monotonic()
    with pytest.raises(RPCError) as err:
        await asyncio.wait_for(h.query("anything"), timeout=60)
    # The query can never be answered: the call gives up within its retry budget.
    assert err.value.status == RPCStatusCode.DEADLINE_EXCEEDED
    assert time.monotonic() - started < 30
    await h.describe()
    await h.terminate()


async def test_query_rejected_when_not_open(client: Client, handle: WorkflowHandle[Any, Any]) -> None:
    await handle.terminate(reason="closed")
    with pytest.raises(WorkflowQueryRejectedError) as err:
        await handle.query("anything", reject_condition=QueryRejectCondition.NOT_OPEN)
    assert err.value.status == WorkflowExecutionStatus.TERMINATED
    await handle.describe()


async def test_query_rejected_by_client_default_condition(server_address: str, workflow_id: str) -> None:
    client = await Client.connect(
        server_address, default_workflow_query_reject_condition=QueryRejectCondition.NOT_OPEN
    )
    h = await start_plain(client, workflow_id)
    await h.terminate()
    with pytest.raises(WorkflowQueryRejectedError) as err:
        await h.query(GreetingWorkflow.greeting)
    assert err.value.status == WorkflowExecutionStatus.TERMINATED


async def test_cancel_records_request_with_reason(handle: WorkflowHandle[Any, Any]) -> None:
    await handle.cancel(reason="no longer needed")
    (event,) = await events_of_type(handle, "WORKFLOW_EXECUTION_CANCEL_REQUESTED")
    assert event["workflowExecutionCancelRequestedEventAttributes"]["cause"] == "no longer needed"
    # Only a request: the workflow (no worker) stays open.
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING


async def test_terminate_with_reason_and_details(client: Client, workflow_id: str) -> None:
    h = await start_plain(client, workflow_id)
    await h.terminate("detail", {"n": 2}, reason="enough")
    (event,) = await events_of_type(h, "WORKFLOW_EXECUTION_TERMINATED")
    attrs = event["workflowExecutionTerminatedEventAttributes"]
    assert attrs["reason"] == "enough"
    assert decode_json_payloads(attrs["details"]) == ["detail", {"n": 2}]

    with pytest.raises(WorkflowFailureError) as err:
        await h.result()
    cause = err.value.cause
    assert isinstance(cause, TerminatedError)
    assert cause.message == "enough"
    assert list(cause.details) == ["detail", {"n": 2}]
    assert (await h.describe()).status == WorkflowExecutionStatus.TERMINATED


async def test_terminate_unknown_workflow(client: Client) -> None:
    with pytest.raises(RPCError) as err:
        await client.get_workflow_handle(f"missing-{uuid.uuid4().hex}").terminate()
    assert err.value.status == RPCStatusCode.NOT_FOUND
    await assert_client_works(client)


async def test_result_of_timed_out_workflow(client: Client, workflow_id: str) -> None:
    h = await start_plain(client, workflow_id, execution_timeout=timedelta(seconds=1))
    with pytest.raises(WorkflowFailureError) as err:
        await asyncio.wait_for(h.result(), timeout=30)
    assert isinstance(err.value.cause, temporalio.exceptions.TimeoutError)
    assert (await h.describe()).status == WorkflowExecutionStatus.TIMED_OUT
    assert await events_of_type(h, "WORKFLOW_EXECUTION_TIMED_OUT")


async def test_execute_workflow_raises_the_failure(client: Client, workflow_id: str) -> None:
    with pytest.raises(WorkflowFailureError) as err:
        await asyncio.wait_for(
            client.execute_workflow(
                MultiParamWorkflow.run, 1, "b", [2], id=workflow_id, task_queue=task_queue(),
                execution_timeout=timedelta(seconds=1),
            ),
            timeout=30,
        )
    assert isinstance(err.value.cause, temporalio.exceptions.TimeoutError)
    assert (await client.get_workflow_handle(workflow_id).describe()).workflow_type == "MultiParamWorkflow"


async def test_result_follows_terminated_run_of_typed_handle(client: Client, workflow_id: str) -> None:
    h = await client.start_workflow(GreetingWorkflow.run, "x", id=workflow_id, task_queue=task_queue())
    await h.terminate(reason="stop")
    typed = client.get_workflow_handle_for(GreetingWorkflow.run, workflow_id)
    with pytest.raises(WorkflowFailureError) as err:
        await typed.result()
    assert isinstance(err.value.cause, TerminatedError)


@pytest.mark.skip(reason="following cron runs needs a worker to complete a run")
async def test_result_follow_runs_of_cron_workflow() -> None:
    pass


# ---------------------------------------------------------------------------
# Describe, history, list, count
# ---------------------------------------------------------------------------


async def test_describe(client: Client, workflow_id: str) -> None:
    tq = task_queue()
    h = await start_plain(client, workflow_id, task_queue=tq)
    d = await h.describe()
    assert isinstance(d, WorkflowExecutionDescription)
    assert d.id == workflow_id
    assert d.run_id == h.run_id
    assert d.workflow_type == "SomeWorkflowType"
    assert d.task_queue == tq
    assert d.status == WorkflowExecutionStatus.RUNNING
    assert d.start_time is not None
    assert abs(datetime.now(timezone.utc) - d.start_time) < timedelta(minutes=1)
    assert d.close_time is None
    assert d.parent_id is None and d.parent_run_id is None
    assert d.history_length == len(await history_events(h))
    assert d.raw_info["execution"]["workflowId"] == workflow_id
    await h.terminate()
    closed = await h.describe()
    assert closed.status == WorkflowExecutionStatus.TERMINATED
    assert closed.close_time is not None and closed.close_time >= d.start_time


async def test_describe_unknown_workflow(client: Client) -> None:
    with pytest.raises(RPCError) as err:
        await client.get_workflow_handle(f"missing-{uuid.uuid4().hex}").describe()
    assert err.value.status == RPCStatusCode.NOT_FOUND
    await assert_client_works(client)


async def test_fetch_history_events_one_per_page(handle: WorkflowHandle[Any, Any]) -> None:
    for i in range(3):
        await handle.signal("s", i)
    full = await history_events(handle)
    paged = await collect(handle.fetch_history_events(page_size=1))
    assert paged == full
    assert [int(e["eventId"]) for e in paged] == list(range(1, len(full) + 1))
    assert [e["eventType"] for e in paged].count("EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED") == 3
    assert (await handle.fetch_history()).run_id == handle.run_id


async def test_fetch_history_events_wait_new_event(handle: WorkflowHandle[Any, Any]) -> None:
    seen: list[str] = []

    async def follow() -> None:
        async for e in handle.fetch_history_events(wait_new_event=True):
            seen.append(e["eventType"])

    task = asyncio.create_task(follow())
    await eventually(lambda: asyncio.sleep(0, len(seen)), lambda n: n == 2)
    await handle.signal("wake")
    await eventually(lambda: asyncio.sleep(0, len(seen)), lambda n: n == 3)
    await handle.terminate(reason="end of the stream")
    await asyncio.wait_for(task, timeout=20)  # the stream ends with the close event
    assert seen == [
        "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED",
        "EVENT_TYPE_WORKFLOW_TASK_SCHEDULED",
        "EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED",
        "EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED",
    ]


async def test_fetch_history_of_unknown_workflow(client: Client) -> None:
    with pytest.raises(RPCError) as err:
        await client.get_workflow_handle(f"missing-{uuid.uuid4().hex}").fetch_history()
    assert err.value.status == RPCStatusCode.NOT_FOUND
    await assert_client_works(client)


async def test_fetch_history_close_event_only(client: Client, workflow_id: str) -> None:
    from temporalio.client import WorkflowHistoryEventFilterType

    h = await start_plain(client, workflow_id)
    await h.terminate(reason="done")
    history = await h.fetch_history(event_filter_type=WorkflowHistoryEventFilterType.CLOSE_EVENT)
    assert [e["eventType"] for e in history.events] == ["EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED"]


async def test_list_workflows_by_id(client: Client, handle: WorkflowHandle[Any, Any]) -> None:
    found = await eventually(
        lambda: collect(client.list_workflows(f"WorkflowId = '{handle.id}'")), lambda xs: len(xs) == 1
    )
    assert len(found) == 1
    (wf,) = found
    assert isinstance(wf, WorkflowExecution)
    assert (wf.id, wf.run_id, wf.workflow_type) == (handle.id, handle.run_id, "SomeWorkflowType")
    assert wf.status == WorkflowExecutionStatus.RUNNING


async def test_list_workflows_limit_and_count(client: Client, workflow_id: str) -> None:
    tq = task_queue()
    handles = [await start_plain(client, f"{workflow_id}-{i}", task_queue=tq) for i in range(3)]
    query = f"TaskQueue = '{tq}'"
    everything = await eventually(lambda: collect(client.list_workflows(query)), lambda xs: len(xs) == 3)
    assert sorted(w.id for w in everything) == sorted(h.id for h in handles)
    assert len(await collect(client.list_workflows(query, limit=2))) == 2
    # Small pages are followed to the end.
    assert len(await collect(client.list_workflows(query, page_size=1))) == 3
    count = await eventually(lambda: client.count_workflows(query), lambda c: c.count == 3)
    assert count == WorkflowExecutionCount(3)
    for h in handles:
        await h.terminate()
    closed = await eventually(
        lambda: client.count_workflows(query + " AND ExecutionStatus = 'Terminated'"), lambda c: c.count == 3
    )
    assert closed.count == 3


async def test_list_workflows_bad_query(client: Client) -> None:
    with pytest.raises(RPCError) as err:
        await collect(client.list_workflows("this is not a query"))
    assert err.value.status == RPCStatusCode.INVALID_ARGUMENT
    await assert_client_works(client)


async def test_count_workflows_bad_query(client: Client) -> None:
    with pytest.raises(RPCError) as err:
        await client.count_workflows("this is not a query")
    assert err.value.status == RPCStatusCode.INVALID_ARGUMENT
    await assert_client_works(client)


# ---------------------------------------------------------------------------
# Interceptors
# ---------------------------------------------------------------------------


class _Recorder(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, calls: list[tuple[str, str, Any]], tag: str) -> None:
        super().__init__(next)
        self.calls = calls
        self.tag = tag

    async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
        self.calls.append((self.tag, "start_workflow", input))
        return await super().start_workflow(input)

    async def signal_workflow(self, input: SignalWorkflowInput) -> None:
        self.calls.append((self.tag, "signal_workflow", input))
        await super().signal_workflow(input)

    async def query_workflow(self, input: QueryWorkflowInput) -> Any:
        self.calls.append((self.tag, "query_workflow", input))
        return await super().query_workflow(input)

    async def cancel_workflow(self, input: CancelWorkflowInput) -> None:
        self.calls.append((self.tag, "cancel_workflow", input))
        await super().cancel_workflow(input)

    async def terminate_workflow(self, input: TerminateWorkflowInput) -> None:
        self.calls.append((self.tag, "terminate_workflow", input))
        await super().terminate_workflow(input)

    async def describe_workflow(self, input: DescribeWorkflowInput) -> WorkflowExecutionDescription:
        self.calls.append((self.tag, "describe_workflow", input))
        return await super().describe_workflow(input)

    def fetch_workflow_history_events(self, input: FetchWorkflowHistoryEventsInput) -> AsyncIterator[dict[str, Any]]:
        self.calls.append((self.tag, "fetch_workflow_history_events", input))
        return super().fetch_workflow_history_events(input)

    def list_workflows(self, input: ListWorkflowsInput) -> AsyncIterator[WorkflowExecution]:
        self.calls.append((self.tag, "list_workflows", input))
        return super().list_workflows(input)

    async def count_workflows(self, input: CountWorkflowsInput) -> WorkflowExecutionCount:
        self.calls.append((self.tag, "count_workflows", input))
        return await super().count_workflows(input)


class RecordingInterceptor(Interceptor):
    def __init__(self, calls: list[tuple[str, str, Any]], tag: str) -> None:
        self.calls = calls
        self.tag = tag

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _Recorder(next, self.calls, self.tag)


async def test_interceptor_sees_every_call(server_address: str, workflow_id: str) -> None:
    calls: list[tuple[str, str, Any]] = []
    client = await Client.connect(
        server_address, interceptors=[RecordingInterceptor(calls, "outer"), RecordingInterceptor(calls, "inner")]
    )
    tq = task_queue()
    h = await client.start_workflow(
        GreetingWorkflow.run, "Ada", id=workflow_id, task_queue=tq, execution_timeout=timedelta(hours=1),
        memo={"m": 1},
    )
    await h.signal(GreetingWorkflow.three_args, 1, "b", [2])
    await h.describe()
    await h.cancel(reason="why")
    await h.fetch_history()
    await collect(client.list_workflows(f"WorkflowId = '{workflow_id}'", limit=1))
    await client.count_workflows(f"WorkflowId = '{workflow_id}'")
    await h.terminate("d", reason="bye")
    with pytest.raises(WorkflowQueryRejectedError):
        await h.query(GreetingWorkflow.greeting, reject_condition=QueryRejectCondition.NOT_OPEN)

    # Earlier interceptors wrap later ones: each call is seen by outer, then inner.
    assert [(tag, name) for tag, name, _ in calls] == [
        (tag, name)
        for name in ("start_workflow", "signal_workflow", "describe_workflow", "cancel_workflow",
                     "fetch_workflow_history_events", "list_workflows", "count_workflows",
                     "terminate_workflow", "query_workflow")
        for tag in ("outer", "inner")
    ]
    inputs = {name: input for tag, name, input in calls if tag == "inner"}
    start: StartWorkflowInput = inputs["start_workflow"]
    assert (start.workflow, list(start.args), start.id, start.task_queue) == (
        "GreetingWorkflow", ["Ada"], workflow_id, tq
    )
    assert start.execution_timeout == timedelta(hours=1)
    assert start.memo == {"m": 1}
    assert start.ret_type is str
    signal: SignalWorkflowInput = inputs["signal_workflow"]
    assert (signal.id, signal.run_id, signal.signal, list(signal.args)) == (workflow_id, h.run_id, "three-args", [1, "b", [2]])
    describe: DescribeWorkflowInput = inputs["describe_workflow"]
    assert (describe.id, describe.run_id) == (workflow_id, h.run_id)
    cancel: CancelWorkflowInput = inputs["cancel_workflow"]
    assert (cancel.id, cancel.reason) == (workflow_id, "why")
    terminate: TerminateWorkflowInput = inputs["terminate_workflow"]
    assert (list(terminate.args), terminate.reason) == (["d"], "bye")
    query: QueryWorkflowInput = inputs["query_workflow"]
    assert (query.query, query.reject_condition, query.ret_type) == ("greeting", QueryRejectCondition.NOT_OPEN, str)
    assert inputs["list_workflows"].limit == 1
    assert inputs["count_workflows"].query == f"WorkflowId = '{workflow_id}'"


class _RewritingOutbound(OutboundInterceptor):
    async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
        input.args = [*input.args, "added-by-interceptor"]
        input.memo = {**(input.memo or {}), "intercepted": True}
        return await super().start_workflow(input)


class RewritingInterceptor(Interceptor):
    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _RewritingOutbound(next)


async def test_interceptor_can_change_inputs(server_address: str, workflow_id: str) -> None:
    client = await Client.connect(server_address, interceptors=[RewritingInterceptor()])
    h = await client.start_workflow("SomeWorkflowType", 1, id=workflow_id, task_queue=task_queue())
    attrs = await started_attributes(h)
    assert decode_json_payloads(attrs["input"]) == [1, "added-by-interceptor"]
    assert await (await h.describe()).memo() == {"intercepted": True}
    await h.terminate()


async def test_interceptor_must_be_an_interceptor(server_address: str) -> None:
    with pytest.raises(TypeError):
        await Client.connect(server_address, interceptors=[object()])  # type: ignore[list-item]


# ---------------------------------------------------------------------------
# Payload codec
# ---------------------------------------------------------------------------


class Base64Codec(PayloadCodec):
    """Wraps each whole payload, base64-encoded, in a binary/test-codec payload."""

    def __init__(self) -> None:
        self.encoded = 0
        self.decoded = 0

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        self.encoded += len(payloads)
        return [
            Payload(metadata={"encoding": b"binary/test-codec"}, data=base64.b64encode(p.SerializeToString()))
            for p in payloads
        ]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        out = []
        for p in payloads:
            assert p.metadata.get("encoding") == b"binary/test-codec", p
            self.decoded += 1
            out.append(Payload.FromString(base64.b64decode(p.data)))
        return out


def unwrap_codec_payloads(payloads: Optional[dict[str, Any]]) -> list[Any]:
    """Reverses Base64Codec on proto3-JSON payloads from the history."""
    values = []
    for p in (payloads or {}).get("payloads", []):
        assert base64.b64decode(p["metadata"]["encoding"]) == b"binary/test-codec"
        inner = Payload.FromString(base64.b64decode(base64.b64decode(p["data"])))
        assert inner.metadata["encoding"] == b"json/plain"
        values.append(json.loads(inner.data))
    return values


async def test_payload_codec(server_address: str, workflow_id: str) -> None:
    codec = Base64Codec()
    client = await Client.connect(server_address, data_converter=DataConverter(payload_codec=codec))
    h = await client.start_workflow(
        "SomeWorkflowType", "secret", 42, id=workflow_id, task_queue=task_queue(),
        memo={"note": "hidden"}, start_signal="sig", start_signal_args=["s"],
    )
    await h.signal("later", {"a": 1})
    events = await history_events(h)
    started = events[0]["workflowExecutionStartedEventAttributes"]
    # What the server stored is the codec's output.
    assert unwrap_codec_payloads(started["input"]) == ["secret", 42]
    assert unwrap_codec_payloads({"payloads": [started["memo"]["fields"]["note"]]}) == ["hidden"]
    signaled = [e["workflowExecutionSignaledEventAttributes"] for e in events
                if e["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED"]
    assert [(s["signalName"], unwrap_codec_payloads(s["input"])) for s in signaled] == [
        ("sig", ["s"]), ("later", [{"a": 1}])
    ]
    # And it is undone on the way back: memo and termination details.
    assert await (await h.describe()).memo() == {"note": "hidden"}
    await h.terminate("why", 7, reason="codec test")
    (terminated,) = [e for e in await history_events(h) if e["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED"]
    assert unwrap_codec_payloads(terminated["workflowExecutionTerminatedEventAttributes"]["details"]) == ["why", 7]
    with pytest.raises(WorkflowFailureError) as err:
        await h.result()
    assert isinstance(err.value.cause, TerminatedError)
    assert list(err.value.cause.details) == ["why", 7]
    assert codec.decoded >= 3


class NonBytesMetadataCodec(PayloadCodec):
    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [Payload(metadata={"encoding": "binary/oops"}, data=p.data) for p in payloads]  # type: ignore[dict-item]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(payloads)


async def test_codec_with_non_bytes_metadata(server_address: str, workflow_id: str) -> None:
    client = await Client.connect(server_address, data_converter=DataConverter(payload_codec=NonBytesMetadataCodec()))
    with pytest.raises(TypeError, match="encoding"):
        await client.start_workflow("SomeWorkflowType", "x", id=workflow_id, task_queue=task_queue())
    with pytest.raises(RPCError) as err:
        await client.get_workflow_handle(workflow_id).describe()
    assert err.value.status == RPCStatusCode.NOT_FOUND, "nothing was started"
    await assert_client_works(client)
    # Without arguments there is nothing to encode and the start goes through.
    h = await client.start_workflow("SomeWorkflowType", id=workflow_id, task_queue=task_queue())
    await h.terminate()


# ---------------------------------------------------------------------------
# Bad input: rejected before anything is sent, and the client still works
# ---------------------------------------------------------------------------


@pytest.fixture
async def unreachable() -> Client:
    """A lazy client whose server does not exist: a ValueError from it proves nothing was sent."""
    return await Client.connect("127.0.0.1:1", lazy=True, connect_timeout=timedelta(seconds=1),
                                rpc_timeout=timedelta(seconds=1))


async def test_empty_workflow_id(client: Client, unreachable: Client) -> None:
    for c in (unreachable, client):
        with pytest.raises(ValueError, match="workflow_id"):
            await c.start_workflow("SomeWorkflowType", id="", task_queue="q")
        with pytest.raises(ValueError, match="workflow_id"):
            c.get_workflow_handle("")
        with pytest.raises(ValueError, match="workflow_id"):
            c.get_workflow_handle_for(GreetingWorkflow.run, "")
    await assert_client_works(client)


async def test_empty_task_queue(client: Client, unreachable: Client, workflow_id: str) -> None:
    for c in (unreachable, client):
        with pytest.raises(ValueError, match="task_queue"):
            await c.start_workflow("SomeWorkflowType", id=workflow_id, task_queue="")
    await assert_client_works(client)


async def test_empty_workflow_name(client: Client, workflow_id: str) -> None:
    with pytest.raises(ValueError, match="workflow"):
        await client.start_workflow("", id=workflow_id, task_queue="q")
    await assert_client_works(client)


async def test_empty_signal_name(client: Client, unreachable: Client, handle: WorkflowHandle[Any, Any]) -> None:
    with pytest.raises(ValueError, match="signal"):
        await unreachable.get_workflow_handle("any").signal("")
    with pytest.raises(ValueError, match="signal"):
        await handle.signal("")
    with pytest.raises(ValueError, match="signal"):
        await client.start_workflow("SomeWorkflowType", id=handle.id + "-2", task_queue="q", start_signal="")
    assert await signals_recorded(handle) == []
    await handle.describe()


async def test_empty_query_name(handle: WorkflowHandle[Any, Any]) -> None:
    with pytest.raises(ValueError, match="query"):
        await handle.query("")
    await handle.describe()


async def test_negative_timeout(client: Client, unreachable: Client, workflow_id: str) -> None:
    for c in (unreachable, client):
        for option in ("execution_timeout", "run_timeout", "task_timeout", "start_delay"):
            negative: dict[str, Any] = {option: timedelta(seconds=-1)}
            with pytest.raises(ValueError, match="negative"):
                await c.start_workflow("SomeWorkflowType", id=workflow_id, task_queue="q", **negative)
    with pytest.raises(ValueError):
        await client.start_workflow(
            "SomeWorkflowType", id=workflow_id, task_queue="q",
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=-1)),
        )
    with pytest.raises(RPCError) as err:
        await client.get_workflow_handle(workflow_id).describe()
    assert err.value.status == RPCStatusCode.NOT_FOUND
    await assert_client_works(client)


async def test_negative_connect_timeouts(server_address: str) -> None:
    with pytest.raises(ValueError, match="negative"):
        await Client.connect(server_address, connect_timeout=timedelta(seconds=-1))
    with pytest.raises(ValueError, match="negative"):
        await Client.connect(server_address, rpc_timeout=timedelta(seconds=-1))


async def test_undecorated_workflow_function(client: Client, workflow_id: str) -> None:
    with pytest.raises(TypeError, match="not_a_workflow"):
        await client.start_workflow(not_a_workflow, id=workflow_id, task_queue="q")  # type: ignore
    with pytest.raises(TypeError, match="GreetingWorkflow.poke"):
        await client.start_workflow(GreetingWorkflow.poke, id=workflow_id, task_queue="q")  # type: ignore
    with pytest.raises(TypeError, match="not_a_workflow"):
        client.get_workflow_handle_for(not_a_workflow, workflow_id)  # type: ignore[arg-type]
    await assert_client_works(client)


async def test_undecorated_signal_and_query(client: Client, handle: WorkflowHandle[Any, Any]) -> None:
    with pytest.raises(TypeError, match="greeting"):
        await handle.signal(GreetingWorkflow.greeting)  # type: ignore
    with pytest.raises(TypeError, match="poke"):
        await handle.query(GreetingWorkflow.poke)
    assert await signals_recorded(handle) == []
    await assert_client_works(client)


async def test_list_negative_page_size(client: Client) -> None:
    with pytest.raises(ValueError, match="page_size"):
        client.list_workflows(page_size=-1)
    await assert_client_works(client)
