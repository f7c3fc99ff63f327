"""Workflow runners: the seam between a worker and the code of its workflows.

A worker asks its runner to prepare each workflow definition once, then to
create one :py:class:`WorkflowInstance` per run; the instance turns
activations into completions. The worker knows nothing else about how
workflow code runs.

* :py:class:`UnsandboxedWorkflowRunner` (the default) runs workflow code
  in-process on a deterministic event loop per run.
* :py:class:`IsolatedModuleWorkflowRunner` does the same, but executes the
  workflow's module afresh for every run, so module-level state (globals,
  caches, class attributes) is never shared between runs: a run cannot see
  another run's mutations, and a replay starts from the same state as the
  original execution did.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import itertools
import sys
import types
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, Optional

import temporalio.workflow
from temporalio._workflow_instance import WorkflowInstance, WorkflowInstanceDetails, create_instance

__all__ = [
    "WorkflowRunner",
    "UnsandboxedWorkflowRunner",
    "IsolatedModuleWorkflowRunner",
    "WorkflowInstance",
    "WorkflowInstanceDetails",
]


class WorkflowRunner(ABC):
    """Creates the instances that run workflow code."""

    @abstractmethod
    def prepare_workflow(self, defn: temporalio.workflow.WorkflowDefinition) -> None:
        """Called once per workflow definition when a worker is created; raise to reject it."""

    @abstractmethod
    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        """Creates the instance of one run."""

    def set_worker_level_failure_exception_types(self, types: Sequence[type[BaseException]]) -> None:
        """The worker's ``workflow_failure_exception_types`` (for runners that need them up front)."""


class UnsandboxedWorkflowRunner(WorkflowRunner):
    """Runs workflow code in this process, on a deterministic event loop per run (the default)."""

    def prepare_workflow(self, defn: temporalio.workflow.WorkflowDefinition) -> None:
        pass

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return create_instance(det)


class IsolatedModuleWorkflowRunner(WorkflowRunner):
    """Executes each workflow's module anew for every run, isolating module-level state between runs.

    The class must be reachable by its qualified name at the top level of a
    module loaded from a source file (not a class defined inside a
    function, not ``__main__`` run from stdin). Each run gets a fresh module
    object (registered in ``sys.modules`` under a private name while the run
    is cached, so type hints and dataclasses resolve), and the workflow
    class is looked up again in it. Costs one module execution per run.
    """

    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def prepare_workflow(self, defn: temporalio.workflow.WorkflowDefinition) -> None:
        self._source_of(defn)

    @staticmethod
    def _source_of(defn: temporalio.workflow.WorkflowDefinition) -> tuple[str, str, str]:
        cls = defn.cls
        module = sys.modules.get(cls.__module__)
        path: Optional[str] = getattr(module, "__file__", None)
        if not path or not path.endswith(".py"):
            raise TypeError(
                f"IsolatedModuleWorkflowRunner: workflow {cls.__qualname__} must be defined in a module loaded "
                f"from a .py file (module {cls.__module__!r} has none)"
            )
        if "<locals>" in cls.__qualname__:
            raise TypeError(
                f"IsolatedModuleWorkflowRunner: workflow {cls.__qualname__} is defined inside a function; "
                "define it at module level"
            )
        return cls.__module__, path, cls.__qualname__

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        module_name, path, qualname = self._source_of(det.defn)
        private_name = f"{module_name}.__temporal_run_{next(self._counter)}"
        spec = importlib.util.spec_from_file_location(private_name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {path} again for workflow {qualname}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[private_name] = module
        try:
            spec.loader.exec_module(module)
            target: Any = module
            for part in qualname.split("."):
                target = getattr(target, part)
            defn = temporalio.workflow.WorkflowDefinition.must_from_class(target)
        except BaseException:
            sys.modules.pop(private_name, None)
            raise
        instance = create_instance(dataclasses.replace(det, defn=defn))
        return _IsolatedInstance(instance, private_name, module)


class _IsolatedInstance(WorkflowInstance):
    """Delegates to the real instance; drops the private module when the run is evicted."""

    def __init__(self, inner: WorkflowInstance, module_name: str, module: types.ModuleType) -> None:
        self._inner = inner
        self._module_name = module_name
        self._module: Optional[types.ModuleType] = module

    def activate(self, activation: Any) -> Any:
        return self._inner.activate(activation)

    def get_thread_id(self) -> Optional[int]:
        return self._inner.get_thread_id()

    def close(self) -> None:
        self._inner.close()
        if sys.modules.get(self._module_name) is self._module:
            del sys.modules[self._module_name]
        self._module = None
