"""Fixtures for the Python tests.

The tests run against the installed package (``pip install ./bindings/python``
into the repo's venv: the extension module only exists there) and a real
Temporal dev server: the one named by ``TW_TEST_ADDRESS``, or one started
for the session by ``scripts/devserver.py``.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))

from devserver import DevServer  # noqa: E402


@pytest.fixture(scope="session")
def server_address() -> Iterator[str]:
    address = os.environ.get("TW_TEST_ADDRESS")
    if address:
        yield address
        return
    with DevServer() as started:
        yield started


@pytest.fixture
async def client(server_address: str) -> AsyncIterator["temporalio.client.Client"]:  # type: ignore[name-defined]  # noqa: F821
    from temporalio.client import Client

    yield await Client.connect(server_address)


@pytest.fixture
def workflow_id(request: pytest.FixtureRequest) -> str:
    """A workflow id unique to this test run."""
    return f"{request.node.name}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def proxy(server_address: str) -> Iterator["Proxy"]:  # type: ignore[name-defined]  # noqa: F821
    """A header-recording gRPC proxy in front of the dev server (test_tls.Proxy)."""
    try:
        import h2  # noqa: F401
    except ImportError:
        pytest.fail("the h2 package is needed to decode the headers (pip install -r requirements-dev.txt)")
    from test_tls import Proxy

    p = Proxy(server_address, None, record_headers=True).start()
    yield p
    p.stop()
