"""Client throughput: start 500 workflows (no worker needed), 50 in flight at a time."""

from __future__ import annotations

import asyncio
import uuid

from common import Stopwatch, address, report
from temporalio.client import Client

TOTAL = 500
CONCURRENCY = 50


async def main() -> None:
    client = await Client.connect(address())
    queue = f"bench-starts-{uuid.uuid4().hex[:8]}"
    sem = asyncio.Semaphore(CONCURRENCY)

    async def one(i: int) -> None:
        async with sem:
            await client.start_workflow("BenchNoWorker", id=f"{queue}-{i}", task_queue=queue)

    with Stopwatch() as sw:
        await asyncio.gather(*(one(i) for i in range(TOTAL)))
    report(benchmark="client_starts", per_second=TOTAL / sw.wall, cpu_ms_per_call=1000 * sw.cpu / TOTAL)
    # Leave nothing running on the server.
    async def stop(i: int) -> None:
        async with sem:
            await client.get_workflow_handle(f"{queue}-{i}").terminate()

    await asyncio.gather(*(stop(i) for i in range(TOTAL)))


if __name__ == "__main__":
    asyncio.run(main())
