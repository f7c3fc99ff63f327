"""Connection-level types: TLS settings and the RPC error raised by every client call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from temporalio.exceptions import RPCError, RPCStatusCode

__all__ = ["TLSConfig", "RPCError", "RPCStatusCode"]


@dataclass
class TLSConfig:
    """TLS for the connection. Certificates and keys are PEM bytes.

    Attributes:
        server_root_ca_cert: Roots to trust; None uses the system roots.
        domain: Server name to verify instead of the host in the target.
        client_cert: Client certificate for mutual TLS (with client_private_key).
        client_private_key: Client key for mutual TLS (with client_cert).
    """

    server_root_ca_cert: Optional[bytes] = None
    domain: Optional[str] = None
    client_cert: Optional[bytes] = None
    client_private_key: Optional[bytes] = None
