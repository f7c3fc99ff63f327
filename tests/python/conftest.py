"""Make the in-tree ``temporalio`` package importable for the Python tests."""

import os
import sys

_BINDINGS = os.path.join(os.path.dirname(__file__), "..", "..", "bindings", "python")
_BINDINGS = os.path.abspath(_BINDINGS)
if _BINDINGS not in sys.path:
    sys.path.insert(0, _BINDINGS)
