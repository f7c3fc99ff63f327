"""Static typing of the client API: mypy --strict on the typed example (must
pass), on calls that must be rejected (tests/python/typing_negative.py), and
on the package itself.

mypy runs on the installed package (it ships py.typed and a stub for the
cffi extension), as a user's mypy would see it.
"""

from __future__ import annotations

import importlib.util
import inspect
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

pytest.importorskip("mypy")

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "python" / "typed_client.py"
NEGATIVE = REPO / "tests" / "python" / "typing_negative.py"
PACKAGE_SOURCE = REPO / "bindings" / "python"

ERROR = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+): error: (?P<message>.*)$", re.MULTILINE)
MARKER = re.compile(r"#\s*E:\s*(?P<text>[^`]+?)\s*$")


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mypy-cache")


def run_mypy(cache: Path, *targets: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-color-output", "--show-error-codes",
         "--cache-dir", str(cache), *targets],
        cwd=cwd, capture_output=True, text=True, timeout=600,
    )


def errors_by_line(output: str, path: Path) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    for m in ERROR.finditer(output):
        assert Path(m["file"]).name == path.name, f"error outside {path.name}: {m.group(0)}"
        found[int(m["line"])].append(m["message"])
    return dict(found)


def test_typed_example_passes_mypy_strict(mypy_cache: Path) -> None:
    out = run_mypy(mypy_cache, str(EXAMPLE.relative_to(REPO)), cwd=REPO)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Success: no issues found" in out.stdout


def test_negative_calls_are_rejected(mypy_cache: Path) -> None:
    expected = {
        number: m["text"]
        for number, line in enumerate(NEGATIVE.read_text().splitlines(), start=1)
        if (m := MARKER.search(line))
    }
    assert len(expected) >= 10

    out = run_mypy(mypy_cache, str(NEGATIVE.relative_to(REPO)), cwd=REPO)
    assert out.returncode == 1, out.stdout + out.stderr
    reported = errors_by_line(out.stdout, NEGATIVE)

    missing = sorted(set(expected) - set(reported))
    unexpected = {line: reported[line] for line in sorted(set(reported) - set(expected))}
    assert not missing, f"mypy accepted lines it must reject: {missing}\n{out.stdout}"
    assert not unexpected, f"mypy rejected lines that are fine: {unexpected}"
    for line, text in expected.items():
        assert any(text in message for message in reported[line]), (
            f"line {line}: expected an error containing {text!r}, got {reported[line]}"
        )
    summary = re.search(r"Found (\d+) errors? in 1 file", out.stdout)
    assert summary and int(summary.group(1)) == sum(len(v) for v in reported.values())


def test_package_passes_mypy_strict(mypy_cache: Path) -> None:
    out = run_mypy(mypy_cache, "temporalio", cwd=PACKAGE_SOURCE)
    assert out.returncode == 0, out.stdout + out.stderr


def test_package_ships_type_information() -> None:
    import temporalio

    installed = Path(temporalio.__file__).parent
    assert (installed / "py.typed").exists()
    assert (installed / "_tw.pyi").exists()


def test_typed_example_imports_without_running_anything() -> None:
    spec = importlib.util.spec_from_file_location("typed_client_example", EXAMPLE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is created
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    assert inspect.iscoroutinefunction(module.main)
    from temporalio.workflow import WorkflowDefinition

    names = {
        WorkflowDefinition.must_from_class(cls).name
        for cls in (module.HeartbeatWorkflow, module.GreetingWorkflow, module.OrderWorkflow)
    }
    assert names == {"HeartbeatWorkflow", "GreetingWorkflow", "order-workflow"}
