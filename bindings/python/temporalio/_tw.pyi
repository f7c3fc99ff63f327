"""Type stub of the cffi extension module (generated from the public C headers)."""

from typing import Any

ffi: Any
lib: Any
