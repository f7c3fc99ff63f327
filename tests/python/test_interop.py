"""Histories cross between this package and the official SDK, both ways.

tests/fixtures/interop_official.json was recorded by the official
`temporalio` (tests/fixtures/record_interop.py) running
tests/fixtures/interop_workflows.py: patches, local and remote activities,
child workflows (signalled, cancelled), a signal and a cancellation request
to other workflows. It must replay here; and the same workflows run by this
package must produce a history the official SDK's Replayer accepts (run in
its own venv, .venv-ref, which scripts/test.sh creates).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from temporalio import workflow
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer, Worker

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
REFERENCE_PYTHON = REPO / ".venv-ref" / "bin" / "python"
sys.path.insert(0, str(FIXTURES))

from interop_workflows import InteropChild, InteropParent, interop_echo  # noqa: E402


def official_history() -> WorkflowHistory:
    return WorkflowHistory.from_json("interop-parent", (FIXTURES / "interop_official.json").read_text())


async def test_official_history_replays_here() -> None:
    await Replayer(workflows=[InteropParent, InteropChild]).replay_workflow(official_history())


async def test_official_history_with_changed_code_is_caught() -> None:
    @workflow.defn(name="InteropParent")
    class WithoutTheChild:
        @workflow.run
        async def run(self, signal_target: str, cancel_target: str) -> list[str]:
            workflow.patched("interop-patch")
            workflow.deprecate_patch("interop-deprecated")
            await workflow.sleep(1)
            return []

    with pytest.raises(workflow.NondeterminismError):
        await Replayer(workflows=[WithoutTheChild, InteropChild]).replay_workflow(official_history())


async def test_our_history_replays_on_the_official_sdk(client: Client, tmp_path: Path) -> None:
    assert REFERENCE_PYTHON.exists(), "the official SDK's venv (.venv-ref) is missing: scripts/test.sh creates it"
    tq = f"interop-{uuid.uuid4()}"
    async with Worker(client, task_queue=tq, workflows=[InteropParent, InteropChild], activities=[interop_echo]):
        target = await client.start_workflow(InteropChild.run, "target", id=f"target-{uuid.uuid4()}", task_queue=tq)
        victim = await client.start_workflow(InteropChild.run, "victim", id=f"victim-{uuid.uuid4()}", task_queue=tq)
        handle = await client.start_workflow(
            InteropParent.run, args=[target.id, victim.id], id=f"interop-parent-{uuid.uuid4()}", task_queue=tq
        )
        result = await asyncio.wait_for(handle.result(), 60)
        assert result == ["new", "local", "remote", "child:signalled", "CancelledError"]
        assert await target.result() == "target:external"
        history = await handle.fetch_history()
    path = tmp_path / "ours.json"
    path.write_text(json.dumps({"events": list(history.events)}))
    done = subprocess.run(
        [str(REFERENCE_PYTHON), str(FIXTURES / "replay_with.py"), str(path)],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0 and "replayed" in done.stdout, done.stdout + done.stderr
    # And here, of course.
    await Replayer(workflows=[InteropParent, InteropChild]).replay_workflow(history)
