"""Per-call ``rpc_metadata`` / ``rpc_timeout`` and cancelling client calls, against a real dev server.

Headers are checked with the recording proxy of test_tls.py (plaintext
here): it forwards the client's bytes unchanged to the dev server and
decodes a copy of the HTTP/2 request headers, so the tests see what each
call really sent. Cancellation is checked through the engine's completion
queue: a cancelled call must stop being pending in the engine
(``tw_cq_pending``) at once, and its late TW_ECANCELLED event must be
dropped without a warning.
"""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
import warnings
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from temporalio.client import (
    AsyncActivityIDReference,
    Client,
    DescribeWorkflowInput,
    Interceptor,
    OutboundInterceptor,
    WorkflowExecutionDescription,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowQueryRejectedError,
)
from temporalio.common import QueryRejectCondition
from temporalio.exceptions import RPCError, RPCStatusCode

from test_tls import OK_TIMEOUT, SERVICE, Proxy  # the recording proxy (tests/python is on sys.path; the proxy fixture: conftest.py)



def _task_queue() -> str:
    return f"no-worker-{uuid.uuid4().hex[:12]}"



def _requests(proxy: Proxy, method: str) -> list[dict[str, list[str]]]:
    return [h for h in proxy.headers_seen() if h.get(":path") == [SERVICE + method]]


def _calls_tagged(proxy: Proxy, method: str, tag: str) -> list[dict[str, list[str]]]:
    return [h for h in _requests(proxy, method) if h.get("x-call") == [tag]]


async def _start(client: Client, workflow_id: str, **kwargs: Any) -> WorkflowHandle[Any, Any]:
    return await client.start_workflow(
        "SomeWorkflowType", id=workflow_id, task_queue=_task_queue(), execution_timeout=timedelta(minutes=5), **kwargs
    )


@pytest.fixture
async def watched_loop() -> AsyncIterator[list[dict[str, Any]]]:
    """Records what the loop's exception handler sees (a future exception never retrieved, ...)."""
    loop = asyncio.get_running_loop()
    seen: list[dict[str, Any]] = []
    old = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, ctx: seen.append(ctx))
    yield seen
    loop.set_exception_handler(old)


async def _wait_not_pending(client: Client, before: int, within: float = 2.0) -> float:
    """Waits until the engine has no more calls in flight into this loop's queue than `before`."""
    queue = client._runtime.queue()
    started = time.monotonic()
    while queue.pending > before:
        if time.monotonic() - started > within:
            raise AssertionError(f"{queue.pending - before} call(s) still in flight in the engine after {within} s")
        await asyncio.sleep(0.01)
    return time.monotonic() - started


# ---------------------------------------------------------------------------
# rpc_metadata
# ---------------------------------------------------------------------------


async def test_rpc_metadata_is_sent_with_each_call(proxy: Proxy, workflow_id: str) -> None:
    client = await Client.connect(
        proxy.address, rpc_metadata={"x-conn": "conn", "x-over": "client"}, connect_timeout=OK_TIMEOUT
    )

    def md(tag: str) -> dict[str, str | bytes]:
        return {"x-call": tag, "x-over": f"call-{tag}"}

    h = await _start(client, workflow_id, rpc_metadata=md("start"))
    await h.signal("sig", 1, rpc_metadata=md("signal"))
    await h.describe(rpc_metadata=md("describe"))
    await h.fetch_history(rpc_metadata=md("history"))
    async for _ in client.list_workflows(f"WorkflowId = '{workflow_id}'", rpc_metadata=md("list")):
        pass
    await client.count_workflows(f"WorkflowId = '{workflow_id}'", md("count"))
    await h.cancel(rpc_metadata=md("cancel"))
    await h.terminate("bye", rpc_metadata=md("terminate"))
    with pytest.raises(WorkflowFailureError):
        await h.result(rpc_metadata=md("result"))
    with pytest.raises(WorkflowQueryRejectedError):
        await h.query("q", reject_condition=QueryRejectCondition.NOT_OPEN, rpc_metadata=md("query"))
    await h.describe()  # no call options

    for method, tag in [
        ("StartWorkflowExecution", "start"),
        ("SignalWorkflowExecution", "signal"),
        ("DescribeWorkflowExecution", "describe"),
        ("GetWorkflowExecutionHistory", "history"),
        ("ListWorkflowExecutions", "list"),
        ("CountWorkflowExecutions", "count"),
        ("RequestCancelWorkflowExecution", "cancel"),
        ("TerminateWorkflowExecution", "terminate"),
        ("GetWorkflowExecutionHistory", "result"),
        ("QueryWorkflow", "query"),
    ]:
        calls = _calls_tagged(proxy, method, tag)
        assert calls, f"{method} with x-call={tag} never reached the server: {_requests(proxy, method)}"
        for headers in calls:
            # A per-call key replaces the client's header of that name; the others stay.
            assert headers.get("x-over") == [f"call-{tag}"], headers
            assert headers.get("x-conn") == ["conn"], headers
            assert headers.get("temporal-namespace") == ["default"], headers
    plain = [r for r in _requests(proxy, "DescribeWorkflowExecution") if "x-call" not in r]
    assert plain, "the describe without call options is missing"
    assert all(r.get("x-over") == ["client"] for r in plain), plain


async def test_rpc_metadata_with_execute_workflow_and_async_activity_handle(proxy: Proxy, workflow_id: str) -> None:
    client = await Client.connect(proxy.address, connect_timeout=OK_TIMEOUT)
    run = asyncio.create_task(
        client.execute_workflow(
            "SomeWorkflowType", id=workflow_id, task_queue=_task_queue(), rpc_metadata={"x-call": "execute"}
        )
    )
    deadline = time.monotonic() + 10
    while not _calls_tagged(proxy, "StartWorkflowExecution", "execute"):
        assert time.monotonic() < deadline, "execute_workflow's start never carried its rpc_metadata"
        await asyncio.sleep(0.05)
    await client.get_workflow_handle(workflow_id).terminate()
    with pytest.raises(WorkflowFailureError):
        await run

    ref = client.get_async_activity_handle(workflow_id=workflow_id, activity_id="no-such-activity")
    for name, call in [
        ("heartbeat", ref.heartbeat("d", rpc_metadata={"x-call": "heartbeat"})),
        ("complete", ref.complete("r", rpc_metadata={"x-call": "complete"})),
    ]:
        with pytest.raises(RPCError) as err:
            await call
        assert err.value.status == RPCStatusCode.NOT_FOUND, (name, err.value)
    assert _calls_tagged(proxy, "RecordActivityTaskHeartbeatById", "heartbeat")
    assert _calls_tagged(proxy, "RespondActivityTaskCompletedById", "complete")


async def test_rpc_metadata_authorization_and_binary_values(proxy: Proxy, workflow_id: str) -> None:
    client = await Client.connect(proxy.address, api_key="client-key", connect_timeout=OK_TIMEOUT)
    h = await _start(client, workflow_id)
    await h.describe(rpc_metadata={"x-call": "auth", "authorization": "Bearer call-key", "x-raw-bin": b"\x01\xff\x00"[:2]})
    (headers,) = _calls_tagged(proxy, "DescribeWorkflowExecution", "auth")
    assert headers.get("authorization") == ["Bearer call-key"], headers
    (raw,) = headers["x-raw-bin"]
    assert base64.b64decode(raw + "=" * (-len(raw) % 4)) == b"\x01\xff"
    await h.describe(rpc_metadata={"x-call": "after"})
    (headers,) = _calls_tagged(proxy, "DescribeWorkflowExecution", "after")
    assert headers.get("authorization") == ["Bearer client-key"], "a call's options leaked into later calls"
    await h.terminate()


@pytest.mark.parametrize(
    "bad, error, match",
    [
        ({"X-Upper": "v"}, ValueError, "X-Upper"),
        ({"x-ok": "two\nlines"}, ValueError, "x-ok"),
        ({"x-nul-bin": b"a\x00b"}, ValueError, "NUL"),
        ({"x-int": 3}, TypeError, "x-int"),
        ({f"x-{i}": "v" for i in range(29)}, ValueError, "at most 28"),
    ],
)
async def test_bad_rpc_metadata_is_rejected_before_sending(
    proxy: Proxy, workflow_id: str, bad: dict[str, Any], error: type[Exception], match: str
) -> None:
    client = await Client.connect(proxy.address, connect_timeout=OK_TIMEOUT)
    h = await _start(client, workflow_id)
    before = len(_requests(proxy, "DescribeWorkflowExecution"))
    with pytest.raises(error, match=match):
        await h.describe(rpc_metadata=bad)
    assert len(_requests(proxy, "DescribeWorkflowExecution")) == before
    with pytest.raises(ValueError, match="negative"):
        await h.describe(rpc_timeout=timedelta(seconds=-1))
    await h.terminate()


class _AddMetadata(OutboundInterceptor):
    async def describe_workflow(self, input: DescribeWorkflowInput) -> WorkflowExecutionDescription:
        assert input.rpc_timeout == timedelta(seconds=5)
        input.rpc_metadata = {**input.rpc_metadata, "x-intercepted": "yes"}
        return await super().describe_workflow(input)


class AddMetadata(Interceptor):
    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _AddMetadata(next)


async def test_interceptor_sees_and_changes_call_options(proxy: Proxy, workflow_id: str) -> None:
    client = await Client.connect(proxy.address, interceptors=[AddMetadata()], connect_timeout=OK_TIMEOUT)
    h = await _start(client, workflow_id)
    await h.describe(rpc_metadata={"x-call": "intercepted"}, rpc_timeout=timedelta(seconds=5))
    (headers,) = _calls_tagged(proxy, "DescribeWorkflowExecution", "intercepted")
    assert headers.get("x-intercepted") == ["yes"], headers
    await h.terminate()


# ---------------------------------------------------------------------------
# rpc_timeout
# ---------------------------------------------------------------------------


async def test_rpc_timeout_bounds_a_query_nobody_answers(server_address: str, workflow_id: str) -> None:
    client = await Client.connect(server_address, rpc_timeout=timedelta(seconds=4))
    h = await _start(client, workflow_id)
    started = time.monotonic()
    with pytest.raises(RPCError) as err:
        await h.query("anything", rpc_timeout=timedelta(milliseconds=500))
    quick = time.monotonic() - started
    assert err.value.status == RPCStatusCode.DEADLINE_EXCEEDED, err.value
    assert quick < 2.5, f"the call's 500 ms deadline was not used ({quick:.2f} s)"
    # The same call without the option uses the client's deadline.
    started = time.monotonic()
    with pytest.raises(RPCError) as err:
        await h.query("anything")
    assert err.value.status == RPCStatusCode.DEADLINE_EXCEEDED, err.value
    assert time.monotonic() - started >= 3.5
    await h.terminate()


async def test_short_rpc_timeout_still_waits_for_the_result(client: Client, workflow_id: str) -> None:
    h = await _start(client, workflow_id)
    # Each long poll runs out after 300 ms and is polled again: the wait as a whole goes on.
    result = asyncio.create_task(h.result(rpc_timeout=timedelta(milliseconds=300)))
    await asyncio.sleep(1.5)
    assert not result.done()
    await h.terminate("done")
    with pytest.raises(WorkflowFailureError):
        await asyncio.wait_for(result, 10)


# ---------------------------------------------------------------------------
# Cancellation
# ---------------------------------------------------------------------------


async def test_wait_for_timeout_cancels_the_result_poll_in_the_engine(
    client: Client, workflow_id: str, watched_loop: list[dict[str, Any]]
) -> None:
    h = await _start(client, workflow_id)
    queue = client._runtime.queue()
    pending, cancelled, dropped = queue.pending, queue.cancelled, queue.dropped
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        started = time.monotonic()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(h.result(), 0.2)
        assert time.monotonic() - started < 1.0
        # Without a cancel in the engine the long poll would stay in flight for 70 s.
        took = await _wait_not_pending(client, pending)
        assert queue.cancelled == cancelled + 1
        # The late TW_ECANCELLED event came in and was dropped.
        deadline = time.monotonic() + 2
        while queue.dropped == dropped and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert queue.dropped == dropped + 1
    assert watched_loop == [], watched_loop
    assert took < 1.5
    # The client goes on working, and the workflow is untouched.
    assert (await h.describe()).status is not None
    await h.terminate("done")
    with pytest.raises(WorkflowFailureError):
        await h.result()


async def test_cancelling_the_task_cancels_a_query(
    server_address: str, workflow_id: str, watched_loop: list[dict[str, Any]]
) -> None:
    client = await Client.connect(server_address, rpc_timeout=timedelta(seconds=30))
    h = await _start(client, workflow_id)
    pending = client._runtime.queue().pending
    task = asyncio.create_task(h.query("never answered"))
    await asyncio.sleep(0.3)
    assert client._runtime.queue().pending == pending + 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await _wait_not_pending(client, pending)
    await asyncio.sleep(0.1)  # the dropped event is drained
    assert watched_loop == [], watched_loop
    await h.terminate()


async def test_cancelling_one_call_leaves_the_others(client: Client, workflow_id: str) -> None:
    a = await _start(client, workflow_id)
    b = await _start(client, workflow_id + "-b")
    pending = client._runtime.queue().pending
    wait_a = asyncio.create_task(a.result())
    wait_b = asyncio.create_task(b.result())
    await asyncio.sleep(0.3)
    wait_a.cancel()
    await _wait_not_pending(client, pending + 1)
    assert not wait_b.done()
    await b.terminate("done")
    with pytest.raises(WorkflowFailureError):
        await asyncio.wait_for(wait_b, 10)
    assert wait_a.cancelled()
    await a.terminate()

