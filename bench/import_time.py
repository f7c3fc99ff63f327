"""Import time of temporalio.workflow + temporalio.worker (median of fresh interpreters)."""

from __future__ import annotations

import statistics
import subprocess
import sys

from common import report

CODE = (
    "import time; t = time.perf_counter(); import temporalio.workflow, temporalio.worker; "
    "print(time.perf_counter() - t)"
)


def main() -> None:
    runs = []
    for _ in range(7):
        out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True)
        runs.append(float(out.stdout.strip()))
    report(benchmark="import_time", seconds=statistics.median(runs))


if __name__ == "__main__":
    main()
