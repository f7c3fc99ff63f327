"""Every typed form of the client API, checked by ``mypy --strict``.

The workflow classes below are typed definitions only: the client takes the
workflow, signal and query names from their decorated methods, and mypy
checks each call's arguments and result against the methods' signatures.
Workflows are started with their arguments given positionally, as ``arg=``
(one) or ``args=`` (several, the official SDK's form), or by type name.

Importing this module runs nothing; ``main(client)`` makes the calls, and the
``execute_workflow`` and ``result`` calls in it wait until a worker runs the
workflows.

    mypy --strict examples/python/typed_client.py
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.client import Client, WorkflowExecutionDescription, WorkflowHandle
from temporalio.common import QueryRejectCondition, RetryPolicy

TASK_QUEUE = "typed-client-example"


@dataclass
class Order:
    item: str
    quantity: int


@workflow.defn
class HeartbeatWorkflow:
    """No parameters."""

    @workflow.run
    async def run(self) -> int:
        return 0


@workflow.defn
class GreetingWorkflow:
    """One parameter; signals and queries with zero, one and several arguments."""

    def __init__(self) -> None:
        self._salutation = "Hello"
        self._name = ""

    @workflow.run
    async def run(self, name: str) -> str:
        self._name = name
        return f"{self._salutation}, {name}!"

    @workflow.signal
    def reset(self) -> None:
        self._salutation = "Hello"

    @workflow.signal
    async def set_salutation(self, salutation: str) -> None:
        self._salutation = salutation

    @workflow.signal(name="set-all")
    def set_all(self, salutation: str, name: str, repeat: int) -> None:
        self._salutation, self._name = salutation, name * repeat

    @workflow.query
    def greeting(self) -> str:
        return f"{self._salutation}, {self._name}!"

    @workflow.query
    def greeting_for(self, name: str) -> str:
        return f"{self._salutation}, {name}!"

    @workflow.query(name="greeting-with")
    def greeting_with(self, salutation: str, name: str, shout: bool) -> str:
        text = f"{salutation}, {name}!"
        return text.upper() if shout else text


@workflow.defn(name="order-workflow")
class OrderWorkflow:
    """Several parameters, one of them a dataclass."""

    @workflow.run
    async def run(self, order: Order, priority: int, notes: list[str]) -> dict[str, int]:
        return {order.item: order.quantity * priority}


async def main(client: Client) -> None:
    # ---- start_workflow: no-param, single-param, multi-param, by name ----
    heartbeat: WorkflowHandle[HeartbeatWorkflow, int] = await client.start_workflow(
        HeartbeatWorkflow.run, id="heartbeat", task_queue=TASK_QUEUE
    )
    greeting: WorkflowHandle[GreetingWorkflow, str] = await client.start_workflow(
        GreetingWorkflow.run,
        "World",
        id="greeting",
        task_queue=TASK_QUEUE,
        execution_timeout=timedelta(minutes=5),
        retry_policy=RetryPolicy(maximum_attempts=3),
        memo={"purpose": "example"},
    )
    greeting_by_kw: WorkflowHandle[GreetingWorkflow, str] = await client.start_workflow(
        GreetingWorkflow.run, arg="Keyword", id="greeting-kw", task_queue=TASK_QUEUE
    )
    order: WorkflowHandle[OrderWorkflow, dict[str, int]] = await client.start_workflow(
        OrderWorkflow.run, Order("tea", 2), 1, ["green"], id="order", task_queue=TASK_QUEUE
    )
    order_by_args: WorkflowHandle[OrderWorkflow, dict[str, int]] = await client.start_workflow(
        OrderWorkflow.run, args=[Order("tea", 1), 2, []], id="order-args", task_queue=TASK_QUEUE
    )
    by_name: WorkflowHandle[Any, Any] = await client.start_workflow(
        "GreetingWorkflow", "Untyped", id="by-name", task_queue=TASK_QUEUE, result_type=str
    )
    by_name_args = await client.start_workflow("order-workflow", args=[{"item": "tea", "quantity": 1}, 1, []],
                                               id="by-name-args", task_queue=TASK_QUEUE)

    # ---- execute_workflow: the same four shapes, returning the result ----
    beats: int = await client.execute_workflow(HeartbeatWorkflow.run, id="heartbeat-2", task_queue=TASK_QUEUE)
    text: str = await client.execute_workflow(GreetingWorkflow.run, "Ada", id="greeting-2", task_queue=TASK_QUEUE)
    totals: dict[str, int] = await client.execute_workflow(
        OrderWorkflow.run, Order("cake", 1), 3, [], id="order-2", task_queue=TASK_QUEUE
    )
    totals_by_args: dict[str, int] = await client.execute_workflow(
        OrderWorkflow.run, args=[Order("cake", 1), 3, []], id="order-3", task_queue=TASK_QUEUE
    )
    untyped: Any = await client.execute_workflow(
        "GreetingWorkflow", "Bob", id="greeting-3", task_queue=TASK_QUEUE, result_type=str
    )
    print(beats, text, totals, totals_by_args, untyped)

    # ---- signals: zero, one, several arguments; by method or by name ----
    await greeting.signal(GreetingWorkflow.reset)
    await greeting.signal(GreetingWorkflow.set_salutation, "Hi")
    await greeting.signal(GreetingWorkflow.set_salutation, arg="Hey")
    await greeting.signal(GreetingWorkflow.set_all, "Hi", "Ada", 2)
    await greeting.signal(GreetingWorkflow.set_all, args=["Hi", "Ada", 2])
    await greeting.signal("reset")
    await greeting.signal("set_salutation", "Yo")
    await greeting.signal("set-all", "Yo", "Bob", 1)
    await by_name.signal("set-all", args=["Yo", "Bob", 1])

    # ---- queries: zero, one, several arguments; by method or by name ----
    current: str = await greeting.query(GreetingWorkflow.greeting)
    for_bob: str = await greeting.query(GreetingWorkflow.greeting_for, "Bob")
    for_eve: str = await greeting.query(GreetingWorkflow.greeting_for, arg="Eve")
    shouted: str = await greeting.query(
        GreetingWorkflow.greeting_with, "Hey", "Ada", True, reject_condition=QueryRejectCondition.NOT_OPEN
    )
    shouted_by_args: str = await greeting.query(GreetingWorkflow.greeting_with, args=["Hey", "Ada", False])
    raw: Any = await by_name.query("greeting-with", "Hey", "Ada", False, result_type=str)
    print(current, for_bob, for_eve, shouted, shouted_by_args, raw)

    # ---- typed handles to existing workflows ----
    again: WorkflowHandle[GreetingWorkflow, str] = client.get_workflow_handle_for(GreetingWorkflow.run, "greeting")
    await again.signal(GreetingWorkflow.set_salutation, "Welcome back")
    order_again: WorkflowHandle[OrderWorkflow, dict[str, int]] = client.get_workflow_handle_for(
        OrderWorkflow.run, "order", run_id=order.run_id
    )
    heartbeat_again = client.get_workflow_handle_for(HeartbeatWorkflow.run, "heartbeat")
    untyped_again: WorkflowHandle[Any, Any] = client.get_workflow_handle("by-name", result_type=str)

    # ---- results, describe, close ----
    greeting_text: str = await again.result()
    order_totals: dict[str, int] = await order_again.result()
    heartbeat_count: int = await heartbeat_again.result()
    print(greeting_text, order_totals, heartbeat_count, await untyped_again.result())
    description: WorkflowExecutionDescription = await greeting_by_kw.describe()
    print(description.status, await description.memo())
    await order_by_args.cancel(reason="example")
    await by_name_args.terminate("details", reason="example")
    await heartbeat.terminate()
    async for execution in client.list_workflows(f"TaskQueue = '{TASK_QUEUE}'", limit=10):
        print(execution.id, execution.status)
    print((await client.count_workflows(f"TaskQueue = '{TASK_QUEUE}'")).count)
