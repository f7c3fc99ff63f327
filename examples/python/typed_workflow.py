"""Every typed form of the in-workflow API, checked by ``mypy --strict``.

``assert_type`` lines are checked statically: each activity call's result
type comes from the activity function's signature, whatever the form of the
call (sync or async activity; no, one or several arguments; positional or
``args=``; by name with ``result_type``), and wrong argument types are
errors. Run it to see the calls work too (the local-activity and child
workflow forms at the end are only type-checked here; the tests run them):

    mypy --strict examples/python/typed_workflow.py
    python examples/python/typed_workflow.py HOST:PORT
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import sys
import uuid
from dataclasses import dataclass
from datetime import timedelta
from collections.abc import Callable
from typing import Any, assert_type

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import Priority, RetryPolicy
from temporalio.worker import Worker


@dataclass
class Order:
    item: str
    quantity: int


@activity.defn
def no_args() -> int:
    return 1


@activity.defn
async def no_args_async() -> str:
    return "async"


@activity.defn
def one_arg(order: Order) -> str:
    return f"{order.quantity} x {order.item}"


@activity.defn
async def one_arg_async(n: int) -> list[int]:
    return list(range(n))


@activity.defn
def many_args(a: int, b: str, c: float) -> dict[str, Any]:
    return {"a": a, "b": b, "c": c}


@activity.defn
async def many_args_async(a: int, b: int) -> int:
    return a * b


OPTIONS: workflow.ActivityConfig = {
    "start_to_close_timeout": timedelta(seconds=10),
    "retry_policy": RetryPolicy(maximum_attempts=3),
    "priority": Priority(priority_key=2),
    "summary": "multiply",
}


@workflow.defn
class TypedWorkflow:
    @workflow.init
    def __init__(self, order: Order, rounds: int) -> None:
        self._order = order
        self._rounds = rounds
        self._done = False

    @workflow.run
    async def run(self, order: Order, rounds: int) -> list[Any]:
        t = timedelta(seconds=10)
        out: list[Any] = []

        # execute_activity: sync / async, no / one / several arguments, args=, by name.
        a = await workflow.execute_activity(no_args, start_to_close_timeout=t)
        assert_type(a, int)
        b = await workflow.execute_activity(no_args_async, start_to_close_timeout=t)
        assert_type(b, str)
        c = await workflow.execute_activity(
            one_arg,
            order,
            start_to_close_timeout=t,
            summary="describe the order",
            priority=Priority(priority_key=1, fairness_key=order.item, fairness_weight=2.0),
        )
        assert_type(c, str)
        d = await workflow.execute_activity(one_arg_async, 3, start_to_close_timeout=t)
        assert_type(d, list[int])
        e = await workflow.execute_activity(many_args, 1, "two", 3.0, start_to_close_timeout=t)
        assert_type(e, dict[str, Any])
        f = await workflow.execute_activity(many_args_async, 6, 7, start_to_close_timeout=t)
        assert_type(f, int)
        g = await workflow.execute_activity(many_args_async, args=[2, 3], **OPTIONS)
        assert_type(g, int)
        h = await workflow.execute_activity("one_arg_async", 2, start_to_close_timeout=t, result_type=list)
        assert_type(h, Any)
        out += [a, b, c, d, e, f, g, h]

        # start_activity: the same forms, returning typed handles.
        h1 = workflow.start_activity(no_args, start_to_close_timeout=t)
        assert_type(h1, workflow.ActivityHandle[int])
        h2 = workflow.start_activity(one_arg_async, 2, start_to_close_timeout=t, priority=Priority(priority_key=3))
        assert_type(h2, workflow.ActivityHandle[list[int]])
        h3 = workflow.start_activity(many_args, 1, "x", 2.5, start_to_close_timeout=t)
        assert_type(h3, workflow.ActivityHandle[dict[str, Any]])
        h4 = workflow.start_activity(
            "many_args_async",
            4,
            5,
            schedule_to_close_timeout=t,
            cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        )
        assert_type(h4, workflow.ActivityHandle[Any])
        out += list(await asyncio.gather(h1, h2, h3, h4))

        # Scopes, timers, conditions, deterministic helpers.
        scope = workflow.CancellationScope(timeout=timedelta(seconds=30))
        in_scope = await scope.run(lambda: workflow.execute_activity(no_args_async, start_to_close_timeout=t))
        assert_type(in_scope, str)
        with workflow.CancellationScope(detached=True):
            await workflow.sleep(timedelta(milliseconds=10), summary="a short pause")
        await asyncio.sleep(0.01)
        try:
            await workflow.wait_condition(lambda: self._done, timeout=0.05, timeout_summary="no finish signal")
        except asyncio.TimeoutError:
            pass
        priority = workflow.info().priority
        assert_type(priority, Priority)
        assert_type(priority.priority_key, int | None)
        out.append([in_scope, workflow.now().year > 2000, type(workflow.uuid4()).__name__, workflow.info().workflow_type])
        if rounds > 1:
            workflow.continue_as_new(order, rounds - 1, backoff_start_interval=timedelta(milliseconds=200))
        return out

    @workflow.signal
    def finish(self) -> None:
        self._done = True

    @workflow.query
    def order(self) -> Order:
        return self._order


def continue_as_new_forms(order: Order) -> None:
    """The typed forms of continue_as_new (each ends the run; not called here)."""
    if order.quantity == 1:
        workflow.continue_as_new(order, 2)  # same workflow, any arguments
    elif order.quantity == 2:
        workflow.continue_as_new(args=[order, 2], run_timeout=timedelta(minutes=5), backoff_start_interval=timedelta(seconds=5))
    elif order.quantity == 3:
        workflow.continue_as_new(order, workflow=SingleArgWorkflow.run)  # typed: one argument
    else:
        workflow.continue_as_new(order, 1, workflow="TypedWorkflow", task_queue="elsewhere")


@workflow.defn
class SingleArgWorkflow:
    @workflow.run
    async def run(self, order: Order) -> None:
        pass


async def local_activity_forms(order: Order) -> None:
    """Typed local activities."""
    t = timedelta(seconds=5)
    x = await workflow.execute_local_activity(one_arg, order, start_to_close_timeout=t, summary="check the order")
    assert_type(x, str)
    local: workflow.LocalActivityConfig = {"start_to_close_timeout": t, "summary": "multiply locally"}
    y = workflow.start_local_activity(many_args_async, 1, 2, **local)
    assert_type(y, workflow.ActivityHandle[int])


@workflow.defn
class ManyArgsChild:
    @workflow.run
    async def run(self, a: int, b: str) -> dict[str, int]:
        return {b: a}

    @workflow.signal
    def poke(self, times: int) -> None:
        pass


async def child_workflow_forms(order: Order) -> None:
    """Typed child workflows and handles to other workflows."""
    await workflow.execute_child_workflow(SingleArgWorkflow.run, order, id="c1")
    r2 = await workflow.execute_child_workflow(
        ManyArgsChild.run,
        1,
        "x",
        id="c2",
        static_summary="a child",
        static_details="Counts **x**.",
        priority=Priority(priority_key=4),
    )
    assert_type(r2, dict[str, int])
    r3 = await workflow.execute_child_workflow("ManyArgsChild", 1, "x", id="c3", result_type=dict)
    assert_type(r3, Any)
    h1 = await workflow.start_child_workflow(
        ManyArgsChild.run,
        args=[2, "y"],
        id="c4",
        cancellation_type=workflow.ChildWorkflowCancellationType.TRY_CANCEL,
        parent_close_policy=workflow.ParentClosePolicy.ABANDON,
        execution_timeout=timedelta(minutes=1),
        retry_policy=RetryPolicy(maximum_attempts=2),
    )
    assert_type(h1, workflow.ChildWorkflowHandle[ManyArgsChild, dict[str, int]])
    await h1.signal(ManyArgsChild.poke, 3)
    assert_type(await h1, dict[str, int])
    config: workflow.ChildWorkflowConfig = {"id": "c5", "task_queue": "elsewhere", "priority": Priority(fairness_key="t")}
    h2 = await workflow.start_child_workflow(SingleArgWorkflow.run, order, **config)
    assert_type(h2, workflow.ChildWorkflowHandle[SingleArgWorkflow, None])
    other = workflow.get_external_workflow_handle_for(ManyArgsChild.run, "some-id")
    assert_type(other, workflow.ExternalWorkflowHandle[ManyArgsChild])
    await other.signal(ManyArgsChild.poke, 1)
    await workflow.get_external_workflow_handle("another-id", run_id="r").cancel()
    if workflow.patched("typed-change"):
        workflow.deprecate_patch("older-change")


async def main(address: str) -> None:
    client = await Client.connect(address)
    task_queue = f"typed-workflow-{uuid.uuid4()}"
    activities: list[Callable[..., Any]] = [no_args, no_args_async, one_arg, one_arg_async, many_args, many_args_async]
    with concurrent.futures.ThreadPoolExecutor() as executor:
        async with Worker(
            client, task_queue=task_queue, workflows=[TypedWorkflow], activities=activities, activity_executor=executor
        ):
            result = await client.execute_workflow(
                TypedWorkflow.run,
                args=[Order("tea", 2), 2],
                id=f"typed-{uuid.uuid4()}",
                task_queue=task_queue,
                static_summary="typed example",
                static_details="Runs every typed form of the workflow API.",
                priority=Priority(priority_key=2, fairness_key="examples"),
            )
    print(result)
    expected_head = [1, "async", "2 x tea", [0, 1, 2], {"a": 1, "b": "two", "c": 3.0}, 42, 6, [0, 1]]
    if result[:8] != expected_head or result[-1] != ["async", True, "UUID", "TypedWorkflow"]:
        raise SystemExit(f"unexpected result {result}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "localhost:7233"))
