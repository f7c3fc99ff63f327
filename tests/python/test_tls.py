"""TLS, mutual TLS, the API key and rpc_metadata, end to end.

``temporal server start-dev`` only speaks plaintext, so each test puts a
proxy of its own in front of it, inside the test process: it terminates TLS
(with a throwaway CA and certificates made by the ``openssl`` CLI, the server
one for ``tw-test.local``) and forwards the bytes, unchanged, to the dev
server. The client under test talks to the proxy; what it negotiates, and
whether it refuses to, is what these tests check.

For headers, the proxy also feeds a copy of the client's byte stream to an
``h2`` server-side connection that only decodes (HPACK) the request headers,
so the tests can see what the client really sent.
"""

from __future__ import annotations

import asyncio
import base64
import shutil
import ssl
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Optional

import pytest

from temporalio import workflow
from temporalio.client import Client, TLSConfig, WorkflowExecutionStatus
from temporalio.exceptions import RPCError, RPCStatusCode

SERVER_NAME = "tw-test.local"
# Short enough to keep the failure tests fast, long enough for a handshake
# on a loaded machine.
FAIL_TIMEOUT = timedelta(seconds=2)
OK_TIMEOUT = timedelta(seconds=8)
# The path prefix of every WorkflowService call, as a recording Proxy sees it.
SERVICE = "/temporal.api.workflowservice.v1.WorkflowService/"
# StreamWriter.start_tls (3.11+) lets the proxy record why a handshake failed.
_CAN_START_TLS = sys.version_info >= (3, 11)
# rpc_metadata pairs a client sends besides its own headers (lib/rpc/rpc.c).
MAX_METADATA_PAIRS = 28


@workflow.defn
class TlsProbeWorkflow:
    """Only names a workflow type: nobody runs it."""

    @workflow.run
    async def run(self, name: str) -> str:
        return name


# ---------------------------------------------------------------------------
# A throwaway PKI, made with the openssl CLI
# ---------------------------------------------------------------------------


@dataclass
class Pki:
    ca: bytes
    ca_path: Path
    server_cert_path: Path
    server_key_path: Path
    client_cert: bytes
    client_key: bytes
    other_ca: bytes  # trusts nothing the proxy shows
    stranger_cert: bytes  # a client certificate signed by other_ca
    stranger_key: bytes


def _openssl(*args: str, cwd: Path) -> None:
    proc = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed:\n{proc.stderr}")


def _make_ca(d: Path, name: str) -> None:
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", f"{name}.key", cwd=d)
    _openssl(
        "req", "-x509", "-new", "-key", f"{name}.key", "-sha256", "-days", "2", "-subj", f"/CN=tw test {name}",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        "-out", f"{name}.pem", cwd=d,
    )  # fmt: skip


def _make_leaf(d: Path, name: str, ca: str, cn: str, ext: str) -> None:
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", f"{name}.ec.key", cwd=d)
    # PKCS#8, the form every TLS stack reads.
    _openssl("pkcs8", "-topk8", "-nocrypt", "-in", f"{name}.ec.key", "-out", f"{name}.key", cwd=d)
    _openssl("req", "-new", "-key", f"{name}.key", "-subj", f"/CN={cn}", "-out", f"{name}.csr", cwd=d)
    (d / f"{name}.ext").write_text(ext)
    _openssl(
        "x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key", "-set_serial",
        str(uuid.uuid4().int >> 64), "-days", "2", "-sha256", "-extfile", f"{name}.ext", "-out", f"{name}.pem",
        cwd=d,
    )  # fmt: skip


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pki]:
    if shutil.which("openssl") is None:
        pytest.fail("the openssl CLI is needed to make the test certificates (apt-get install openssl)")
    d = tmp_path_factory.mktemp("pki")
    _make_ca(d, "ca")
    _make_ca(d, "other-ca")
    _make_leaf(
        d, "server", "ca", SERVER_NAME,
        f"basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        f"extendedKeyUsage=serverAuth\nsubjectAltName=DNS:{SERVER_NAME}\n",
    )  # fmt: skip
    client_ext = "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n"
    _make_leaf(d, "client", "ca", "tw-test-client", client_ext)
    _make_leaf(d, "stranger", "other-ca", "tw-test-stranger", client_ext)
    yield Pki(
        ca=(d / "ca.pem").read_bytes(),
        ca_path=d / "ca.pem",
        server_cert_path=d / "server.pem",
        server_key_path=d / "server.key",
        client_cert=(d / "client.pem").read_bytes(),
        client_key=(d / "client.key").read_bytes(),
        other_ca=(d / "other-ca.pem").read_bytes(),
        stranger_cert=(d / "stranger.pem").read_bytes(),
        stranger_key=(d / "stranger.key").read_bytes(),
    )
    shutil.rmtree(d, ignore_errors=True)  # keys, even throwaway ones, do not outlive the module


# ---------------------------------------------------------------------------
# The proxy: TLS (optional) in front, plaintext to the dev server behind
# ---------------------------------------------------------------------------


class HeaderRecorder:
    """Decodes the request headers in a copy of one client→server HTTP/2 stream.

    Observes only: it never answers, and stops at the first thing h2 rejects
    (headers seen so far stay recorded).
    """

    def __init__(self, sink: list[dict[str, list[str]]], lock: threading.Lock) -> None:
        import h2.config
        import h2.connection

        self._conn = h2.connection.H2Connection(
            config=h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        )
        self._sink = sink
        self._lock = lock
        self._broken = False

    def feed(self, data: bytes) -> None:
        import h2.events

        if self._broken:
            return
        try:
            events = self._conn.receive_data(data)
        except Exception:  # noqa: BLE001 - an observer must never break the proxy
            self._broken = True
            return
        for ev in events:
            if isinstance(ev, h2.events.RequestReceived) and ev.headers:
                headers: dict[str, list[str]] = {}
                for k, v in ev.headers:
                    key = k.decode() if isinstance(k, bytes) else k
                    val = v.decode() if isinstance(v, bytes) else v
                    headers.setdefault(key, []).append(val)
                with self._lock:
                    self._sink.append(headers)
            elif isinstance(ev, h2.events.DataReceived) and ev.flow_controlled_length:
                # Keep h2's idea of the receive window open; the real server
                # does the flow control that matters.
                self._conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
        self._conn.data_to_send()  # what an answering server would send: dropped


@dataclass
class Proxy:
    """A TCP proxy in its own thread and event loop."""

    upstream: str
    ssl_context: Optional[ssl.SSLContext] = None
    record_headers: bool = False
    requests: list[dict[str, list[str]]] = field(default_factory=list)
    handshake_errors: list[str] = field(default_factory=list)
    accepted: int = 0  # connections forwarded to the dev server (after the TLS handshake)
    bytes_up: int = 0  # bytes forwarded from clients to the dev server
    client_names: list[Optional[str]] = field(default_factory=list)  # CN of each one's client certificate

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._server: Optional[asyncio.base_events.Server] = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._thread = threading.Thread(target=self._run, name="tw-test-proxy", daemon=True)
        self.port = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> "Proxy":
        self._thread.start()
        if not self._ready.wait(10) or not self.port:
            raise RuntimeError("the test proxy did not start")
        return self

    def stop(self) -> None:
        if self._loop.is_running():
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def headers_seen(self) -> list[dict[str, list[str]]]:
        with self._lock:
            return list(self.requests)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._listen())
        finally:
            self._ready.set()
        self._loop.run_forever()

    async def _listen(self) -> None:
        kwargs: dict[str, Any] = {}
        if self.ssl_context is not None and not _CAN_START_TLS:
            kwargs = {"ssl": self.ssl_context, "ssl_handshake_timeout": 5}
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, **kwargs)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _shutdown(self) -> None:
        assert self._server is not None
        self._server.close()
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        host, port = self.upstream.rsplit(":", 1)
        up_writer: Optional[asyncio.StreamWriter] = None
        try:
            if self.ssl_context is not None and _CAN_START_TLS:
                # The handshake by hand, so the test can see why one failed.
                try:
                    await writer.start_tls(self.ssl_context, ssl_handshake_timeout=5)
                except (ssl.SSLError, OSError, asyncio.TimeoutError) as e:
                    with self._lock:
                        self.handshake_errors.append(f"{type(e).__name__}: {e}")
                    return
                peer = writer.get_extra_info("peercert")
                cn = [v for rdn in peer["subject"] for k, v in rdn if k == "commonName"][0] if peer else None
                with self._lock:
                    self.client_names.append(cn)
            self.accepted += 1
            up_reader, up_writer = await asyncio.open_connection(host, int(port))
            recorder = HeaderRecorder(self.requests, self._lock) if self.record_headers else None
            await asyncio.gather(
                self._pipe(reader, up_writer, recorder, self._count_up),
                self._pipe(up_reader, writer, None, None),
                return_exceptions=True,
            )
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            for w in (writer, up_writer):
                if w is not None:
                    w.close()

    def _count_up(self, n: int) -> None:
        with self._lock:
            self.bytes_up += n

    @staticmethod
    async def _pipe(
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        recorder: Optional[HeaderRecorder],
        count: Optional[Callable[[int], None]],
    ) -> None:
        try:
            while data := await reader.read(65536):
                if count is not None:
                    count(len(data))
                if recorder is not None:
                    recorder.feed(data)
                writer.write(data)
                await writer.drain()
        finally:
            # One side is done: end the other so neither end waits forever.
            if writer.can_write_eof() and not writer.is_closing():
                try:
                    writer.write_eof()
                except (OSError, RuntimeError):
                    writer.close()
            else:
                writer.close()


def _server_context(pki: Pki, *, require_client_cert: bool = False) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.set_alpn_protocols(["h2"])  # gRPC insists on ALPN h2
    ctx.load_cert_chain(str(pki.server_cert_path), str(pki.server_key_path))
    if require_client_cert:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cafile=str(pki.ca_path))
    return ctx


MakeProxy = Callable[..., Proxy]


@pytest.fixture
def make_proxy(server_address: str) -> Iterator[MakeProxy]:
    started: list[Proxy] = []

    def make(ssl_context: Optional[ssl.SSLContext] = None, *, record_headers: bool = False) -> Proxy:
        proxy = Proxy(server_address, ssl_context, record_headers).start()
        started.append(proxy)
        return proxy

    yield make
    for p in started:
        p.stop()


@pytest.fixture
def tls_proxy(make_proxy: MakeProxy, pki: Pki) -> Proxy:
    return make_proxy(_server_context(pki))


@pytest.fixture
def mtls_proxy(make_proxy: MakeProxy, pki: Pki) -> Proxy:
    return make_proxy(_server_context(pki, require_client_cert=True))


async def _expect_unavailable(target: str, tls: Any, **kwargs: Any) -> RPCError:
    started = time.monotonic()
    with pytest.raises(RPCError) as err:
        await Client.connect(target, tls=tls, connect_timeout=FAIL_TIMEOUT, **kwargs)
    assert err.value.status == RPCStatusCode.UNAVAILABLE, err.value
    assert time.monotonic() - started < 8, "connect_timeout was not honoured"
    return err.value


def _assert_refused(proxy: Proxy, server_saw: str = "") -> None:
    """No request reached the dev server; and, where asked, why the proxy's side of the handshake failed."""
    assert proxy.bytes_up == 0
    if server_saw and _CAN_START_TLS:
        assert any(server_saw in e for e in proxy.handshake_errors), proxy.handshake_errors


def _assert_forwarded(proxy: Proxy) -> None:
    assert proxy.accepted >= 1 and proxy.bytes_up > 0
    assert proxy.handshake_errors == []


async def _start_and_describe(client: Client) -> None:
    wf_id = f"tls-{uuid.uuid4().hex[:12]}"
    handle = await client.start_workflow(
        TlsProbeWorkflow.run, "tls", id=wf_id, task_queue=f"tls-nobody-{uuid.uuid4().hex[:8]}",
        execution_timeout=timedelta(minutes=1),
    )  # fmt: skip
    desc = await handle.describe()
    assert desc.id == wf_id
    assert desc.status == WorkflowExecutionStatus.RUNNING
    await handle.terminate("test done")


# ---------------------------------------------------------------------------
# Server authentication
# ---------------------------------------------------------------------------


async def test_tls_with_ca_and_domain(tls_proxy: Proxy, pki: Pki) -> None:
    client = await Client.connect(
        tls_proxy.address, tls=TLSConfig(server_root_ca_cert=pki.ca, domain=SERVER_NAME), connect_timeout=OK_TIMEOUT
    )
    await _start_and_describe(client)
    _assert_forwarded(tls_proxy)
    assert tls_proxy.client_names == [None] * tls_proxy.accepted  # no client certificate asked for


async def test_tls_https_scheme(tls_proxy: Proxy, pki: Pki) -> None:
    client = await Client.connect(
        f"https://{tls_proxy.address}",
        tls=TLSConfig(server_root_ca_cert=pki.ca, domain=SERVER_NAME),
        connect_timeout=OK_TIMEOUT,
    )
    await _start_and_describe(client)
    _assert_forwarded(tls_proxy)


async def test_tls_wrong_ca(tls_proxy: Proxy, pki: Pki) -> None:
    err = await _expect_unavailable(tls_proxy.address, TLSConfig(server_root_ca_cert=pki.other_ca, domain=SERVER_NAME))
    _assert_refused(tls_proxy)
    # gRPC says why: "Ssl handshake failed: ... certificate verify failed".
    assert "certificate" in err.message.lower() or "handshake" in err.message.lower(), err.message


async def test_tls_system_roots_do_not_trust_test_ca(tls_proxy: Proxy) -> None:
    await _expect_unavailable(tls_proxy.address, TLSConfig(domain=SERVER_NAME))
    _assert_refused(tls_proxy)


async def test_tls_wrong_domain(tls_proxy: Proxy, pki: Pki) -> None:
    # No override: the name checked is 127.0.0.1, which the certificate does not name.
    err = await _expect_unavailable(tls_proxy.address, TLSConfig(server_root_ca_cert=pki.ca))
    assert "certificate" in err.message.lower(), err.message  # "Peer name 127.0.0.1 is not in peer certificate"
    # An override that the certificate does not name either.
    err = await _expect_unavailable(tls_proxy.address, TLSConfig(server_root_ca_cert=pki.ca, domain="not-tw-test.local"))
    assert "certificate" in err.message.lower(), err.message
    _assert_refused(tls_proxy)


async def test_plaintext_client_to_tls_proxy(tls_proxy: Proxy) -> None:
    with pytest.raises(RPCError) as err:
        await Client.connect(tls_proxy.address, connect_timeout=FAIL_TIMEOUT)
    assert err.value.status == RPCStatusCode.UNAVAILABLE
    _assert_refused(tls_proxy)


# ---------------------------------------------------------------------------
# Mutual TLS
# ---------------------------------------------------------------------------


async def test_mtls_with_client_cert(mtls_proxy: Proxy, pki: Pki) -> None:
    tls = TLSConfig(
        server_root_ca_cert=pki.ca, domain=SERVER_NAME, client_cert=pki.client_cert, client_private_key=pki.client_key
    )
    client = await Client.connect(mtls_proxy.address, tls=tls, connect_timeout=OK_TIMEOUT)
    await _start_and_describe(client)
    _assert_forwarded(mtls_proxy)
    if _CAN_START_TLS:
        assert set(mtls_proxy.client_names) == {"tw-test-client"}, mtls_proxy.client_names


async def test_mtls_without_client_cert(mtls_proxy: Proxy, pki: Pki) -> None:
    await _expect_unavailable(mtls_proxy.address, TLSConfig(server_root_ca_cert=pki.ca, domain=SERVER_NAME))
    _assert_refused(mtls_proxy, "PEER_DID_NOT_RETURN_A_CERTIFICATE")


async def test_mtls_with_untrusted_client_cert(mtls_proxy: Proxy, pki: Pki) -> None:
    tls = TLSConfig(
        server_root_ca_cert=pki.ca,
        domain=SERVER_NAME,
        client_cert=pki.stranger_cert,
        client_private_key=pki.stranger_key,
    )
    await _expect_unavailable(mtls_proxy.address, tls)
    _assert_refused(mtls_proxy, "CERTIFICATE_VERIFY_FAILED")


@pytest.mark.parametrize("which", ["cert", "key"])
async def test_mtls_half_a_key_pair_is_rejected(pki: Pki, which: str) -> None:
    if which == "cert":
        tls = TLSConfig(server_root_ca_cert=pki.ca, client_cert=pki.client_cert)
    else:
        tls = TLSConfig(server_root_ca_cert=pki.ca, client_private_key=pki.client_key)
    # Rejected before any I/O: lazy, and nothing listens at the target.
    with pytest.raises(ValueError, match="client_cert.*client_private_key|together"):
        await Client.connect("127.0.0.1:1", tls=tls, lazy=True)


# ---------------------------------------------------------------------------
# API key and rpc_metadata, as seen on the wire
# ---------------------------------------------------------------------------


def _h2_or_skip() -> None:
    try:
        import h2.connection  # noqa: F401
    except ImportError:
        pytest.skip("the h2 package is not installed (pip install -r requirements-dev.txt): headers cannot be decoded")


async def test_api_key_and_metadata_headers(make_proxy: MakeProxy, pki: Pki) -> None:
    _h2_or_skip()
    proxy = make_proxy(_server_context(pki), record_headers=True)
    client = await Client.connect(
        proxy.address,
        namespace="default",
        api_key="first-key",
        rpc_metadata={"x-tw-test": "hello", "x-tw-other": "two"},
        tls=TLSConfig(server_root_ca_cert=pki.ca, domain=SERVER_NAME),
        connect_timeout=OK_TIMEOUT,
    )
    assert client.api_key == "first-key"
    seen = proxy.headers_seen()
    assert seen, "the proxy decoded no request"
    for h in seen:
        assert h.get("authorization") == ["Bearer first-key"], h
        assert h.get("temporal-namespace") == ["default"], h
        assert h.get("x-tw-test") == ["hello"], h
        assert h.get("x-tw-other") == ["two"], h
        assert h.get(":authority") == [SERVER_NAME], h  # the override names the host too
        assert h.get("content-type", [""])[0].startswith("application/grpc"), h

    n = len(seen)
    client.api_key = "second-key"
    assert client.api_key == "second-key"
    wf_id = f"tls-hdr-{uuid.uuid4().hex[:12]}"
    handle = await client.start_workflow(
        TlsProbeWorkflow.run, "h", id=wf_id, task_queue=f"tls-nobody-{uuid.uuid4().hex[:8]}",
        execution_timeout=timedelta(minutes=1),
    )  # fmt: skip
    later = proxy.headers_seen()[n:]
    starts = [h for h in later if h[":path"][0].endswith("/StartWorkflowExecution")]
    assert starts, [h[":path"] for h in later]
    for h in later:
        assert h.get("authorization") == ["Bearer second-key"], h
        assert h.get("x-tw-test") == ["hello"], h
        assert h.get("temporal-namespace") == ["default"], h

    client.api_key = None
    assert client.api_key is None
    n = len(proxy.headers_seen())
    await handle.terminate("test done")
    after = proxy.headers_seen()[n:]
    assert after
    for h in after:
        assert "authorization" not in h, h
        assert h.get("x-tw-test") == ["hello"], h


async def test_plaintext_headers_without_api_key(make_proxy: MakeProxy) -> None:
    _h2_or_skip()
    proxy = make_proxy(None, record_headers=True)
    client = await Client.connect(proxy.address, rpc_metadata={"x-tw-test": "plain"}, connect_timeout=OK_TIMEOUT)
    assert client.api_key is None
    seen = proxy.headers_seen()
    assert seen
    for h in seen:
        assert "authorization" not in h, h
        assert h.get("x-tw-test") == ["plain"], h
        assert h.get("temporal-namespace") == ["default"], h
        assert h.get(":authority") == [proxy.address], h
    # A key set after connecting is sent from then on.
    client.api_key = "later"
    n = len(seen)
    await client.count_workflows()
    later = proxy.headers_seen()[n:]
    assert [h[":path"][0].rsplit("/", 1)[1] for h in later] == ["CountWorkflowExecutions"]
    assert later[0].get("authorization") == ["Bearer later"], later[0]


@pytest.mark.parametrize("bad", [{"X-Upper": "v"}, {"": "v"}, {"bad key": "v"}])
async def test_rpc_metadata_bad_key_rejected(bad: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="metadata"):
        await Client.connect("127.0.0.1:1", rpc_metadata=bad, lazy=True)


async def test_many_rpc_metadata_headers_are_all_sent(make_proxy: MakeProxy) -> None:
    _h2_or_skip()
    proxy = make_proxy(None, record_headers=True)
    many = {f"x-tw-{i}": f"v{i}" for i in range(MAX_METADATA_PAIRS)}
    await Client.connect(proxy.address, api_key="k", rpc_metadata=many, connect_timeout=OK_TIMEOUT)
    seen = proxy.headers_seen()
    assert seen
    for h in seen:
        missing = [k for k, v in many.items() if h.get(k) != [v]]
        assert not missing, f"headers not sent: {missing}"
        assert h.get("authorization") == ["Bearer k"]
    # One more than the client sends: refused up front, not silently dropped.
    too_many = {**many, "x-tw-extra": "x"}
    with pytest.raises(ValueError, match="metadata"):
        await Client.connect("127.0.0.1:1", rpc_metadata=too_many, lazy=True)


async def test_binary_metadata_header(make_proxy: MakeProxy) -> None:
    _h2_or_skip()
    proxy = make_proxy(None, record_headers=True)
    # A "-bin" header may hold any bytes: gRPC sends it base64-encoded.
    await Client.connect(proxy.address, rpc_metadata={"x-tw-bin": "\u00e9\n"}, connect_timeout=OK_TIMEOUT)
    expected = base64.b64encode("\u00e9\n".encode()).decode().rstrip("=")
    for h in proxy.headers_seen():
        assert [v.rstrip("=") for v in h.get("x-tw-bin", [])] == [expected], h


@pytest.mark.parametrize("value", ["two\nlines", "caf\u00e9", "tab\there"])
async def test_rpc_metadata_bad_value_rejected(value: str) -> None:
    # gRPC sends only printable ASCII in a text header: anything else used to
    # fail every call with "could not start the gRPC call".
    with pytest.raises(ValueError, match="x-tw-test"):
        await Client.connect("127.0.0.1:1", rpc_metadata={"x-tw-test": value}, lazy=True)


async def test_api_key_bad_value_rejected(server_address: str) -> None:
    with pytest.raises(ValueError, match="api_key"):
        await Client.connect("127.0.0.1:1", api_key="key\n", lazy=True)
    client = await Client.connect(server_address, api_key="good")
    with pytest.raises(ValueError, match="api_key"):
        client.api_key = "caf\u00e9"
    assert client.api_key == "good"
    await client.count_workflows()  # still usable, with the old key


@pytest.mark.parametrize("field_name", ["server_root_ca_cert", "client_cert", "client_private_key"])
async def test_tls_not_pem_rejected(pki: Pki, field_name: str) -> None:
    # The classic mistake: a path where the PEM contents belong. It used to
    # surface only after connect_timeout, as "UNAVAILABLE: empty address list".
    kwargs: dict[str, Any] = {
        "server_root_ca_cert": pki.ca, "client_cert": pki.client_cert, "client_private_key": pki.client_key,
    }  # fmt: skip
    kwargs[field_name] = str(pki.ca_path).encode()
    started = time.monotonic()
    with pytest.raises(ValueError, match="PEM"):
        await Client.connect("127.0.0.1:1", tls=TLSConfig(domain=SERVER_NAME, **kwargs), lazy=True)
    assert time.monotonic() - started < 1
