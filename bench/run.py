#!/usr/bin/env python3
"""Runs every benchmark under our package and under the official `temporalio`
(in .venv-ref, created here if missing), each on a fresh dev server, and prints
a table with both numbers and the ratio ours / official.

    python3 bench/run.py            # uses TW_BENCH_ADDRESS or starts fresh dev servers
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable, TypeVar

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
from devserver import DevServer  # noqa: E402

T = TypeVar("T")
OURS = REPO / ".venv" / "bin" / "python"
REF = REPO / ".venv-ref" / "bin" / "python"
SCRIPTS = ["import_time.py", "client_starts.py", "workflows.py"]
# metric -> True when bigger is better
METRICS = {
    "seconds": False, "per_second": True, "cpu_ms_per_call": False, "cpu_ms_per_workflow": False,
    "cpu_ms_per_activity": False, "rss_growth_mib": False, "kib_per_workflow": False,
}


def ensure_ref() -> None:
    if not REF.exists():
        subprocess.run([sys.executable, "-m", "venv", str(REF.parent.parent)], check=True)
        subprocess.run([str(REF), "-m", "pip", "install", "-q", "temporalio"], check=True)


C_BENCH = REPO / "build" / "bench" / "c_activities"


def run_c(address: str) -> dict[str, dict[str, object]]:
    if not C_BENCH.exists():
        return {}
    out = subprocess.run([str(C_BENCH), address, "200"], capture_output=True, text=True, timeout=600)
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    return {str(r["benchmark"]): r for r in rows}


def run(python: Path, script: str, address: str) -> list[dict[str, object]]:
    out = subprocess.run([str(python), str(REPO / "bench" / script), address], capture_output=True, text=True,
                         cwd=REPO / "bench", timeout=1800)
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0:
        # Keep what was measured: the official SDK sometimes crashes while the interpreter exits.
        print(f"{script} under {python} exited {out.returncode}:\n{out.stderr[-1500:]}", file=sys.stderr)
    return rows


def on_server(fn: Callable[[str], T]) -> T:
    """Runs fn(address) on TW_BENCH_ADDRESS, or on a fresh dev server of its own.

    A fresh server for every script and SDK: a dev server slows down as runs
    pile up in it, so a shared one would favour whichever SDK ran first. It
    keeps its store in memory (start-dev's default) and dispatches matching
    tasks without its default limit of 20 reads a second, which would
    otherwise cap both SDKs at the same throughput.
    """
    address = os.environ.get("TW_BENCH_ADDRESS")
    if address:
        return fn(address)
    with DevServer(dynamic_config={"history.transferProcessorMaxPollRPS": "10000"}, in_memory=True) as started:
        return fn(started)


def main() -> int:
    ensure_ref()
    rows = []
    c_rows = on_server(run_c)
    for script in SCRIPTS:
        ours = {r["benchmark"]: r for r in on_server(lambda address: run(OURS, script, address))}
        ref = {r["benchmark"]: r for r in on_server(lambda address: run(REF, script, address))}
        for name in sorted(set(ours) | set(ref)):
            for metric, bigger_better in METRICS.items():
                a, b = ours.get(name, {}).get(metric), ref.get(name, {}).get(metric)
                if a is None and b is None:
                    continue
                ratio = f"{float(a) / float(b):.2f}x" if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b else "-"
                c = c_rows.get(name, {}).get(metric)
                rows.append((name, metric, a, b, ratio, "higher" if bigger_better else "lower", c))
        for name in sorted(set(ours) | set(ref)):
            for sdk, got in (("ours", ours), ("official", ref)):
                if "rounds_per_second" in got.get(name, {}):
                    print(f"{name} {sdk}: rounds {got[name]['rounds_per_second']} per second", file=sys.stderr)
    fmt = "{:<26} {:<22} {:>12} {:>12} {:>8}  {:<7} {:>10}"
    print(fmt.format("benchmark", "metric", "ours (py)", "official", "ratio", "better", "C worker"))
    for name, metric, a, b, ratio, better, c in rows:
        show = lambda v: f"{v:.3f}" if isinstance(v, float) else ("-" if v is None else str(v))
        print(fmt.format(name, metric, show(a), show(b), ratio, better, show(c)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
