"""Client calls that must NOT type-check (run through mypy by test_typing.py).

Each line that mypy must reject ends with ``# E: <text>``, where <text> is
part of one of the errors mypy reports for that line. No other line may
have an error. This module is never imported.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.client import Client, WorkflowHandle


@workflow.defn
class GreetingWorkflow:
    @workflow.run
    async def run(self, name: str) -> str:
        return name

    @workflow.signal
    def set_salutation(self, salutation: str) -> None:
        pass

    @workflow.query
    def greeting(self) -> str:
        return ""


@workflow.defn
class CounterWorkflow:
    @workflow.run
    async def run(self, start: int, step: int) -> int:
        return start

    @workflow.signal
    def increment(self) -> None:
        pass

    @workflow.query
    def value(self) -> int:
        return 0


def plain_function(name: str) -> str:
    return name


async def main(client: Client, greeting: WorkflowHandle[GreetingWorkflow, str]) -> None:
    # Wrong argument type for a single-param workflow.
    await client.start_workflow(GreetingWorkflow.run, 123, id="a", task_queue="q")  # E: incompatible type
    await client.start_workflow(GreetingWorkflow.run, arg=123, id="a", task_queue="q")  # E: incompatible type
    await client.execute_workflow(GreetingWorkflow.run, 1.5, id="a", task_queue="q")  # E: incompatible type
    # Wrong number or types of arguments for a multi-param workflow.
    await client.start_workflow(CounterWorkflow.run, 1, id="a", task_queue="q")  # E: start_workflow
    await client.start_workflow(CounterWorkflow.run, 1, "2", id="a", task_queue="q")  # E: start_workflow
    # The result type follows the workflow.
    wrong_result: int = await client.execute_workflow(GreetingWorkflow.run, "x", id="a", task_queue="q")  # E: incompatible type
    # Required options.
    await client.start_workflow(GreetingWorkflow.run, "x", task_queue="q")  # E: No overload variant
    # Priority is a temporalio.common.Priority, summaries are text.
    await client.start_workflow(GreetingWorkflow.run, "x", id="a", task_queue="q", priority=1)  # E: No overload variant
    await client.start_workflow(GreetingWorkflow.run, "x", id="a", task_queue="q", static_summary=b"x")  # E: No overload variant
    # Not a workflow run method at all.
    await client.start_workflow(plain_function, "x", id="a", task_queue="q")  # E: incompatible type

    # A signal or query method of another workflow class.
    await greeting.signal(CounterWorkflow.increment)  # E: incompatible type
    await greeting.query(CounterWorkflow.value)  # E: incompatible type
    counter = client.get_workflow_handle_for(CounterWorkflow.run, "c")
    await counter.signal(GreetingWorkflow.set_salutation, "hi")  # E: incompatible type
    # Wrong signal argument type, missing argument, query result type.
    await greeting.signal(GreetingWorkflow.set_salutation, 5)  # E: incompatible type
    await greeting.signal(GreetingWorkflow.set_salutation)  # E: signal
    wrong_query: int = await greeting.query(GreetingWorkflow.greeting)  # E: incompatible type
    wrong_handle_result: int = await counter.result()
    print(wrong_result, wrong_query, wrong_handle_result)
