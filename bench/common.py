"""Shared helpers for the benchmarks.

Every benchmark script here is plain code against the `temporalio` API, so
the same file runs under our package (.venv) and under the official SDK
(.venv-ref); run.py runs both in the same session against the same dev
server and prints the numbers side by side. Each script prints one JSON
object on its last line.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from typing import Any


def address() -> str:
    addr = os.environ.get("TW_BENCH_ADDRESS") or (sys.argv[1] if len(sys.argv) > 1 else "")
    if not addr:
        raise SystemExit("usage: script.py HOST:PORT (or set TW_BENCH_ADDRESS)")
    return addr


def sdk_name() -> str:
    import temporalio

    return "ours" if hasattr(temporalio, "_bridge") or _is_ours() else "official"


def _is_ours() -> bool:
    try:
        import temporalio._tw  # noqa: F401
    except ImportError:
        return False
    return True


def rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def report(**values: Any) -> None:
    values.setdefault("sdk", sdk_name())
    print(json.dumps(values))


class Stopwatch:
    def __enter__(self) -> "Stopwatch":
        self.wall0, self.cpu0 = time.perf_counter(), cpu_seconds()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall0
        self.cpu = cpu_seconds() - self.cpu0
