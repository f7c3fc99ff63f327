"""Worker benchmarks (same code for both SDKs):

- throughput: 100 workflows started at once, each running one no-op
  activity; end-to-end workflows per second and worker CPU per workflow
  (median of three rounds), with ordinary starts and with
  request_eager_start=True;
- activities: one workflow running 200 no-op activities one after the
  other; activities per second;
- memory: 2,000 workflows (argv[2] overrides) each parked on a signal so
  that they stay cached; resident memory growth of the worker process.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from datetime import timedelta

from common import Stopwatch, address, report, rss_mib
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

ROUNDS = 3


@activity.defn
async def noop(x: int) -> int:
    return x


@workflow.defn
class OneActivity:
    @workflow.run
    async def run(self, x: int) -> int:
        return await workflow.execute_activity(noop, x, start_to_close_timeout=timedelta(seconds=30))


@workflow.defn
class ManyActivities:
    @workflow.run
    async def run(self, n: int) -> int:
        total = 0
        for i in range(n):
            total += await workflow.execute_activity(noop, i, start_to_close_timeout=timedelta(seconds=30))
        return total


@workflow.defn
class Parked:
    def __init__(self) -> None:
        self.done = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self.done)

    @workflow.signal
    def finish(self) -> None:
        self.done = True


async def main() -> None:
    parked_count = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    client = await Client.connect(address())
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    async with Worker(
        client,
        task_queue=queue,
        workflows=[OneActivity, ManyActivities, Parked],
        activities=[noop],
        max_cached_workflows=parked_count + 200,
    ):
        # warm up
        await client.execute_workflow(OneActivity.run, 0, id=f"{queue}-warm", task_queue=queue)

        # Three rounds each, ordinary starts then eager ones; the median round is reported.
        for name, eager in (("workflow_throughput", False), ("workflow_throughput_eager", True)):
            rounds = []
            for r in range(ROUNDS):
                with Stopwatch() as sw:
                    await asyncio.gather(
                        *(client.execute_workflow(OneActivity.run, i, id=f"{queue}-{name}-{r}-{i}", task_queue=queue,
                                                  request_eager_start=eager) for i in range(100))
                    )
                rounds.append(sw)
            sw = sorted(rounds, key=lambda w: w.wall)[ROUNDS // 2]
            report(benchmark=name, per_second=100 / sw.wall, cpu_ms_per_workflow=10 * sw.cpu,
                   rounds_per_second=[round(100 / w.wall, 1) for w in rounds])

        with Stopwatch() as sw:
            await client.execute_workflow(ManyActivities.run, 200, id=f"{queue}-many", task_queue=queue)
        report(benchmark="sequential_activities", per_second=200 / sw.wall, cpu_ms_per_activity=5 * sw.cpu)

        before = rss_mib()
        sem = asyncio.Semaphore(100)

        async def park(i: int) -> None:
            async with sem:
                await client.start_workflow(Parked.run, id=f"{queue}-p{i}", task_queue=queue)

        await asyncio.gather(*(park(i) for i in range(parked_count)))
        # Wait until every parked workflow ran its first task (so it is in the cache).
        for _ in range(600):
            count = (await client.count_workflows(
                f"TaskQueue = '{queue}' AND WorkflowType = 'Parked' AND ExecutionStatus = 'Running'")).count
            handle = client.get_workflow_handle(f"{queue}-p{parked_count - 1}")
            desc = await handle.describe()
            if count >= parked_count and desc.history_length >= 3:
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(2)
        after = rss_mib()
        report(benchmark="cached_workflow_memory", workflows=parked_count, rss_growth_mib=after - before,
               kib_per_workflow=1024 * (after - before) / parked_count)

        async def finish(i: int) -> None:
            async with sem:
                await client.get_workflow_handle(f"{queue}-p{i}").terminate()

        await asyncio.gather(*(finish(i) for i in range(parked_count)))


if __name__ == "__main__":
    asyncio.run(main())
