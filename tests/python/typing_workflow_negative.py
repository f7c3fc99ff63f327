"""Calls of the typed workflow API that mypy --strict must reject (checked by test_workflow.py).

Each line marked ``# E: <text>`` must get a mypy error containing <text>;
no other line may get one.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import Priority


@activity.defn
def one_arg(n: int) -> str:
    return str(n)


@activity.defn
async def two_args(a: int, b: str) -> int:
    return a


async def calls() -> None:
    t = timedelta(seconds=1)
    s: str = await workflow.execute_activity(one_arg, 1, start_to_close_timeout=t)
    bad1: int = await workflow.execute_activity(one_arg, 1, start_to_close_timeout=t)  # E: incompatible type
    await workflow.execute_activity(one_arg, "x", start_to_close_timeout=t)  # E: incompatible type
    await workflow.execute_activity(two_args, 1, 2, start_to_close_timeout=t)  # E: incompatible type
    workflow.start_activity(two_args, 1, "x", start_to_close_timeout=5)  # E: No overload variant
    workflow.start_activity(one_arg, 1, start_to_close_timeout=t, no_such_option=1)  # E: no_such_option
    handle = workflow.start_activity(two_args, 1, "x", start_to_close_timeout=t)
    bad2: str = await handle  # E: Incompatible types in assignment
    workflow.start_activity(one_arg, 1, start_to_close_timeout=t, priority=2)  # E: No overload variant
    await workflow.execute_local_activity(one_arg, 1, start_to_close_timeout=t, priority=Priority())  # E: priority
    await workflow.sleep(1, summary=b"bytes")  # E: incompatible type
    workflow.continue_as_new(1, backoff_start_interval=5)  # E: No overload variant
    del s, bad1, bad2
