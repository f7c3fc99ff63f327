"""Worker options of the activity side, against a real dev server.

``no_remote_activities``, the heartbeat throttle intervals and the two
``*_activities_per_second`` limits. What reaches the server is seen from
outside the worker: heartbeat calls are counted by the recording proxy of
test_tls.py (the worker's client connects through it), the task queue rate
as the server reports it for the queue's pollers (``temporal task-queue
describe``), and task start times are the server's, from the history.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Optional

import pytest

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from test_tls import SERVICE, Proxy  # the recording proxy (tests/python is on sys.path; the proxy fixture: conftest.py)



def _tq(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"



def _calls(proxy: Proxy, method: str) -> int:
    return sum(1 for h in proxy.headers_seen() if h.get(":path") == [SERVICE + method])


# ---------------------------------------------------------------------------
# no_remote_activities
# ---------------------------------------------------------------------------

ran_on: list[tuple[str, bool]] = []  # (worker, is_local) of each call of the activities below


@activity.defn(name="where")
async def where_local_only() -> str:
    ran_on.append(("local-only", activity.info().is_local))
    return "local-only"


@activity.defn(name="where")
async def where_normal() -> str:
    ran_on.append(("normal", activity.info().is_local))
    return "normal"


@workflow.defn
class LocalThenRemote:
    @workflow.run
    async def run(self) -> list[str]:
        local = await workflow.execute_local_activity(
            "where", start_to_close_timeout=timedelta(seconds=10), result_type=str
        )
        remote = await workflow.execute_activity("where", start_to_close_timeout=timedelta(seconds=10), result_type=str)
        return [local, remote]


async def test_no_remote_activities_runs_local_activities_only(client: Client, workflow_id: str) -> None:
    tq = _tq("no-remote")
    ran_on.clear()
    async with Worker(
        client, task_queue=tq, workflows=[LocalThenRemote], activities=[where_local_only], no_remote_activities=True
    ):
        handle = await client.start_workflow(LocalThenRemote.run, id=workflow_id, task_queue=tq)
        # The local activity runs on this worker (its polls deliver it); the remote one, scheduled on
        # the same queue, waits: this worker neither polls for it nor asks for it eagerly.
        deadline = time.monotonic() + 10
        while not ran_on and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert ran_on == [("local-only", True)]
        await asyncio.sleep(2)
        assert ran_on == [("local-only", True)], "the local-only worker ran the remote activity"
        async with Worker(client, task_queue=tq, activities=[where_normal]):
            result = await handle.result()
    assert result == ["local-only", "normal"]
    assert ran_on == [("local-only", True), ("normal", False)]


async def test_no_remote_activities_needs_workflows(client: Client) -> None:
    with pytest.raises(ValueError, match="no_remote_activities"):
        Worker(client, task_queue=_tq("x"), activities=[where_normal], no_remote_activities=True)


# ---------------------------------------------------------------------------
# heartbeat throttling
# ---------------------------------------------------------------------------

last_beat: list[int] = []  # the last value attempt 1 heartbeated


@activity.defn
async def beats(seconds: float) -> int:
    """Attempt 1 heartbeats in a tight loop, then fails; attempt 2 returns the details it got."""
    info = activity.info()
    if info.attempt > 1:
        return int(info.heartbeat_details[0]) if info.heartbeat_details else -1
    end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < end:
        i += 1
        activity.heartbeat(i)
        await asyncio.sleep(0)
    last_beat.append(i)
    raise ApplicationError("again")


@workflow.defn
class Beats:
    @workflow.run
    async def run(self, heartbeat_timeout_s: Optional[float]) -> int:
        return await workflow.execute_activity(
            beats,
            2.0,
            start_to_close_timeout=timedelta(seconds=30),
            heartbeat_timeout=timedelta(seconds=heartbeat_timeout_s) if heartbeat_timeout_s else None,
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=100), maximum_attempts=2),
        )


@pytest.mark.parametrize(
    "options, heartbeat_timeout_s, low, high",
    [
        # No heartbeat timeout: the default interval applies.
        ({"default_heartbeat_throttle_interval": timedelta(milliseconds=500)}, None, 3, 8),
        # A 10 s heartbeat timeout would allow one every 8 s: the smaller max applies.
        ({"max_heartbeat_throttle_interval": timedelta(milliseconds=500)}, 10.0, 3, 8),
        # The controls: the defaults (30 s, 60 s) let only the first and the final flush through.
        ({}, None, 1, 2),
        ({}, 10.0, 1, 2),
    ],
    ids=["default-interval", "max-interval", "defaults-no-timeout", "defaults-with-timeout"],
)
async def test_heartbeat_throttle_intervals(
    proxy: Proxy,
    workflow_id: str,
    options: dict[str, Any],
    heartbeat_timeout_s: Optional[float],
    low: int,
    high: int,
) -> None:
    tq = _tq("hb-throttle")
    last_beat.clear()
    client = await Client.connect(proxy.address)
    async with Worker(client, task_queue=tq, workflows=[Beats], activities=[beats], **options):
        got = await client.execute_workflow(Beats.run, heartbeat_timeout_s, id=workflow_id, task_queue=tq)
    sent = _calls(proxy, "RecordActivityTaskHeartbeat")
    assert len(last_beat) == 1 and last_beat[0] > 100, f"the activity heartbeated only {last_beat} times"
    assert low <= sent <= high, f"{sent} heartbeat calls reached the server for {last_beat[0]} heartbeats"
    assert got == last_beat[0], "the last heartbeat's details did not win"


# ---------------------------------------------------------------------------
# max_task_queue_activities_per_second
# ---------------------------------------------------------------------------


@activity.defn
async def echo(x: int) -> int:
    return x


@workflow.defn
class EchoSome:
    @workflow.run
    async def run(self, n: int, task_queue: Optional[str] = None) -> list[int]:
        return list(
            await asyncio.gather(
                *(
                    workflow.execute_activity(
                        echo, i, task_queue=task_queue, start_to_close_timeout=timedelta(seconds=30)
                    )
                    for i in range(n)
                )
            )
        )


def _activity_pollers(address: str, tq: str) -> list[dict[str, Any]]:
    cli = Path(sys.executable).parent / "temporal"
    out = subprocess.run(
        [str(cli), "task-queue", "describe", "--address", address, "--task-queue", tq,
         "--task-queue-type", "activity", "--output", "json"],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    data = json.loads(out.stdout)
    pollers: list[dict[str, Any]] = data.get("pollers") or []
    return pollers


async def test_max_task_queue_activities_per_second_reaches_the_server(
    client: Client, server_address: str, workflow_id: str
) -> None:
    tq = _tq("tq-rate")
    async with Worker(
        client, task_queue=tq, workflows=[EchoSome], activities=[echo], max_task_queue_activities_per_second=42.5
    ):
        assert await client.execute_workflow(EchoSome.run, 3, id=workflow_id, task_queue=tq) == [0, 1, 2]
        pollers = _activity_pollers(server_address, tq)
    rates = [p.get("ratePerSecond") for p in pollers]
    assert rates and all(r == 42.5 for r in rates), pollers


async def test_without_max_task_queue_activities_per_second_no_rate_is_sent(
    client: Client, server_address: str, workflow_id: str
) -> None:
    tq = _tq("tq-norate")
    async with Worker(client, task_queue=tq, workflows=[EchoSome], activities=[echo]):
        assert await client.execute_workflow(EchoSome.run, 1, id=workflow_id, task_queue=tq) == [0]
        pollers = _activity_pollers(server_address, tq)
    # With no limit sent, the server reports its own default (100000 today), far above any set here.
    assert pollers and all(float(p.get("ratePerSecond", 0)) > 1000 for p in pollers), pollers


# ---------------------------------------------------------------------------
# max_activities_per_second
# ---------------------------------------------------------------------------


def _started_times(events: list[dict[str, Any]]) -> list[float]:
    times = [
        datetime.fromisoformat(e["eventTime"].replace("Z", "+00:00")).timestamp()
        for e in events
        if e.get("eventType") in ("EVENT_TYPE_ACTIVITY_TASK_STARTED", "ActivityTaskStarted")
    ]
    return sorted(times)


async def _start_four(client: Client, workflow_id: str, **options: Any) -> list[float]:
    wf_tq, act_tq = _tq("rate-wf"), _tq("rate-act")
    # Workflows and activities on separate workers and queues: no eager activities.
    async with Worker(client, task_queue=act_tq, activities=[echo], **options):
        async with Worker(client, task_queue=wf_tq, workflows=[EchoSome]):
            handle = await client.start_workflow(EchoSome.run, args=[4, act_tq], id=workflow_id, task_queue=wf_tq)
            assert await handle.result() == [0, 1, 2, 3]
    history = await handle.fetch_history()
    times = _started_times(list(history.events))
    assert len(times) == 4, history.events
    return times


async def test_max_activities_per_second_spaces_the_starts(client: Client, workflow_id: str) -> None:
    times = await _start_four(client, workflow_id, max_activities_per_second=1.0)
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert min(gaps) >= 0.8, f"server start times {gaps} s apart with a limit of 1/s"


async def test_without_max_activities_per_second_the_starts_bunch(client: Client, workflow_id: str) -> None:
    times = await _start_four(client, workflow_id)
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert min(gaps) < 0.5, f"server start times {gaps} s apart with no limit"


# ---------------------------------------------------------------------------
# bad values
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options, error, needle",
    [
        ({"no_remote_activities": 1}, TypeError, "no_remote_activities"),
        ({"max_heartbeat_throttle_interval": 5}, TypeError, "max_heartbeat_throttle_interval"),
        ({"max_heartbeat_throttle_interval": timedelta(seconds=-1)}, ValueError, "max_heartbeat_throttle_interval"),
        ({"default_heartbeat_throttle_interval": "30s"}, TypeError, "default_heartbeat_throttle_interval"),
        ({"default_heartbeat_throttle_interval": -timedelta(milliseconds=1)}, ValueError, "default_heartbeat"),
        ({"max_activities_per_second": 0}, ValueError, "max_activities_per_second"),
        ({"max_activities_per_second": -1.5}, ValueError, "-1.5"),
        ({"max_activities_per_second": float("nan")}, ValueError, "max_activities_per_second"),
        ({"max_activities_per_second": float("inf")}, ValueError, "max_activities_per_second"),
        ({"max_activities_per_second": 5e-324}, ValueError, "max_activities_per_second"),
        ({"max_activities_per_second": 10**400}, ValueError, "max_activities_per_second"),
        ({"max_activities_per_second": "1"}, TypeError, "max_activities_per_second"),
        ({"max_activities_per_second": True}, TypeError, "max_activities_per_second"),
        ({"max_task_queue_activities_per_second": 0.0}, ValueError, "max_task_queue_activities_per_second"),
        ({"max_task_queue_activities_per_second": -3}, ValueError, "max_task_queue_activities_per_second"),
        ({"max_task_queue_activities_per_second": float("inf")}, ValueError, "max_task_queue"),
        ({"max_task_queue_activities_per_second": [1]}, TypeError, "max_task_queue_activities_per_second"),
    ],
)
async def test_bad_option_values_are_rejected(
    client: Client, options: dict[str, Any], error: type[Exception], needle: str
) -> None:
    with pytest.raises(error, match=needle.replace(".", r"\.").replace("-", r"\-")):
        Worker(client, task_queue=_tq("bad"), workflows=[EchoSome], activities=[echo], **options)


async def test_good_option_values_are_accepted(client: Client) -> None:
    Worker(
        client,
        task_queue=_tq("good"),
        workflows=[EchoSome],
        activities=[echo],
        no_remote_activities=True,
        max_heartbeat_throttle_interval=timedelta(),
        default_heartbeat_throttle_interval=timedelta(milliseconds=1),
        max_activities_per_second=1,
        max_task_queue_activities_per_second=0.25,
    )
