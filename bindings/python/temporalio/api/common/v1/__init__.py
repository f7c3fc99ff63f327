"""Plain-Python stand-ins for the ``temporal.api.common.v1`` protobuf messages.

There is no protobuf runtime in this SDK, so the handful of messages that user
code touches directly (payload codecs, raw values, RPC error details) are
modelled here as dataclasses.  Attribute names follow the ``.proto`` field
names, and the most commonly used protobuf message methods (``ByteSize``,
``SerializeToString``, ``FromString``, ``ParseFromString``, ``CopyFrom``,
``HasField``, ``Clear``) are provided so codecs written for the official SDK
keep working.  Binary serialization uses the real protobuf wire format, so
bytes produced here can be read by protobuf implementations and vice versa.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import ClassVar, TypeVar

__all__ = [
    "DecodeError",
    "GrpcStatus",
    "Payload",
    "Payloads",
    "ProtoAny",
]

_MessageT = TypeVar("_MessageT", bound="_MessageBase")

# Protobuf wire types.
_WT_VARINT = 0
_WT_FIXED64 = 1
_WT_LEN = 2
_WT_FIXED32 = 5


class DecodeError(ValueError):
    """Raised when bytes cannot be parsed as the requested message."""


# ---------------------------------------------------------------------------
# Minimal wire-format helpers
# ---------------------------------------------------------------------------


def _varint(value: int) -> bytes:
    if value < 0:
        # Negative int32/int64 values are sign-extended to 64 bits.
        value &= (1 << 64) - 1
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _tag(field_number: int, wire_type: int) -> bytes:
    return _varint((field_number << 3) | wire_type)


def _len_field(field_number: int, body: bytes) -> bytes:
    return _tag(field_number, _WT_LEN) + _varint(len(body)) + body


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= len(buf):
            raise DecodeError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise DecodeError("varint too long")


def _iter_fields(buf: bytes) -> Iterator[tuple[int, int, int | bytes, bytes]]:
    """Yield ``(field_number, wire_type, value, raw_bytes)`` for each field.

    ``value`` is an ``int`` for varint/fixed fields and ``bytes`` for
    length-delimited fields.  ``raw_bytes`` is the complete encoded field
    (tag included) so callers can keep fields they do not understand.
    """
    pos = 0
    end = len(buf)
    while pos < end:
        start = pos
        key, pos = _read_varint(buf, pos)
        field_number = key >> 3
        wire_type = key & 0x7
        if field_number == 0:
            raise DecodeError("field number 0 is invalid")
        value: int | bytes
        if wire_type == _WT_VARINT:
            value, pos = _read_varint(buf, pos)
        elif wire_type == _WT_FIXED64:
            if pos + 8 > end:
                raise DecodeError("truncated fixed64")
            value = int.from_bytes(buf[pos : pos + 8], "little")
            pos += 8
        elif wire_type == _WT_FIXED32:
            if pos + 4 > end:
                raise DecodeError("truncated fixed32")
            value = int.from_bytes(buf[pos : pos + 4], "little")
            pos += 4
        elif wire_type == _WT_LEN:
            length, pos = _read_varint(buf, pos)
            if pos + length > end:
                raise DecodeError("truncated length-delimited field")
            value = bytes(buf[pos : pos + length])
            pos += length
        else:
            raise DecodeError(f"unsupported wire type {wire_type}")
        yield field_number, wire_type, value, bytes(buf[start:pos])


def _expect_bytes(value: int | bytes, what: str) -> bytes:
    if not isinstance(value, bytes):
        raise DecodeError(f"{what} has the wrong wire type")
    return value


def _decode_utf8(value: bytes, what: str) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DecodeError(f"{what} is not valid UTF-8") from err


# ---------------------------------------------------------------------------
# Shared message behaviour
# ---------------------------------------------------------------------------


class _MessageBase:
    """Protobuf-message-like conveniences shared by the dataclass mirrors.

    Subclasses must be dataclasses and list their message-typed (presence
    tracking) fields in ``_message_fields``.
    """

    _message_fields: ClassVar[frozenset[str]] = frozenset()

    def HasField(self, field_name: str) -> bool:
        """Whether the named message-typed field is set (not ``None``)."""
        if field_name not in self._message_fields:
            raise ValueError(
                f"{type(self).__name__} has no message field {field_name!r} "
                "that tracks presence"
            )
        return getattr(self, field_name) is not None

    def ClearField(self, field_name: str) -> None:
        """Reset one field to its default value."""
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            if f.name == field_name and f.init:
                setattr(self, field_name, _field_default(f))
                return
        raise ValueError(f"{type(self).__name__} has no field {field_name!r}")

    def Clear(self) -> None:
        """Reset every field to its default value."""
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            setattr(self, f.name, _field_default(f))

    def CopyFrom(self: _MessageT, other: _MessageT) -> None:
        """Replace this message's contents with a deep copy of ``other``."""
        if type(other) is not type(self):
            raise TypeError(
                f"CopyFrom expects {type(self).__name__}, "
                f"got {type(other).__name__}"
            )
        if other is self:
            return
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            setattr(self, f.name, copy.deepcopy(getattr(other, f.name)))

    def MergeFrom(self: _MessageT, other: _MessageT) -> None:
        """Protobuf-style merge: set scalars override, lists/maps extend."""
        if type(other) is not type(self):
            raise TypeError(
                f"MergeFrom expects {type(self).__name__}, "
                f"got {type(other).__name__}"
            )
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            theirs = getattr(other, f.name)
            mine = getattr(self, f.name)
            if isinstance(mine, list) and isinstance(theirs, list):
                mine.extend(copy.deepcopy(theirs))
            elif isinstance(mine, dict) and isinstance(theirs, dict):
                mine.update(copy.deepcopy(theirs))
            elif isinstance(mine, _MessageBase) and isinstance(theirs, _MessageBase):
                mine.MergeFrom(theirs)
            elif theirs is not None and theirs != _field_default(f):
                setattr(self, f.name, copy.deepcopy(theirs))


def _field_default(f: dataclasses.Field[object]) -> object:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


class _WireMessage(_MessageBase):
    """Messages that also support the binary protobuf wire format."""

    def SerializeToString(self, *, deterministic: bool = False) -> bytes:
        """Encode the message in protobuf binary wire format."""
        raise NotImplementedError

    def _parse_into(self, data: bytes) -> None:
        raise NotImplementedError

    def ParseFromString(self, data: bytes) -> int:
        """Replace this message's contents with the decoded ``data``.

        Returns the number of bytes read, like protobuf does.
        """
        buf = bytes(data)
        self.Clear()
        self._parse_into(buf)
        return len(buf)

    def MergeFromString(self, data: bytes) -> int:
        """Decode ``data`` and merge it into this message."""
        buf = bytes(data)
        self._parse_into(buf)
        return len(buf)

    @classmethod
    def FromString(cls: type[_WireMessageT], data: bytes) -> _WireMessageT:
        """Create a new message decoded from ``data``."""
        msg = cls()
        msg.ParseFromString(data)
        return msg

    def ByteSize(self) -> int:
        """Size in bytes of the binary wire encoding of this message."""
        return len(self.SerializeToString())


_WireMessageT = TypeVar("_WireMessageT", bound=_WireMessage)


# ---------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------


@dataclass
class Payload(_WireMessage):
    """A single serialized value: encoding metadata plus raw bytes.

    ``metadata`` conventionally carries at least ``"encoding"`` (for example
    ``b"json/plain"``).  Both keys must be ``str`` and values ``bytes``.
    """

    metadata: dict[str, bytes] = field(default_factory=dict)
    data: bytes = b""
    _unknown_fields: bytes = field(
        default=b"", init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if not isinstance(self.metadata, Mapping):
            raise TypeError(
                "Payload.metadata must be a mapping of str to bytes, "
                f"got {type(self.metadata).__name__}"
            )
        # Like protobuf, the message owns its own copy of the map.
        metadata: dict[str, bytes] = {}
        for key, value in self.metadata.items():
            _check_metadata_item(key, value)
            metadata[key] = bytes(value)
        self.metadata = metadata
        if isinstance(self.data, (bytearray, memoryview)):
            self.data = bytes(self.data)
        if not isinstance(self.data, bytes):
            raise TypeError(
                f"Payload.data must be bytes, got {type(self.data).__name__}"
            )

    def SerializeToString(self, *, deterministic: bool = False) -> bytes:
        """See :py:meth:`_WireMessage.SerializeToString`."""
        out = bytearray()
        items = self.metadata.items()
        if deterministic:
            items = sorted(items)  # type: ignore[assignment]
        for key, value in items:
            _check_metadata_item(key, value)
            entry = _len_field(1, key.encode("utf-8")) + _len_field(2, bytes(value))
            out += _len_field(1, entry)
        if not isinstance(self.data, (bytes, bytearray, memoryview)):
            raise TypeError(
                f"Payload.data must be bytes, got {type(self.data).__name__}"
            )
        if self.data:
            out += _len_field(2, bytes(self.data))
        out += self._unknown_fields
        return bytes(out)

    def _parse_into(self, data: bytes) -> None:
        unknown = bytearray(self._unknown_fields)
        for number, _wire_type, value, raw in _iter_fields(data):
            if number == 1:
                body = _expect_bytes(value, "Payload.metadata entry")
                key = ""
                val = b""
                for e_number, _e_wt, e_value, _e_raw in _iter_fields(body):
                    if e_number == 1:
                        key = _decode_utf8(
                            _expect_bytes(e_value, "metadata key"), "metadata key"
                        )
                    elif e_number == 2:
                        val = _expect_bytes(e_value, "metadata value")
                self.metadata[key] = val
            elif number == 2:
                self.data = _expect_bytes(value, "Payload.data")
            else:
                unknown += raw
        self._unknown_fields = bytes(unknown)

    def Clear(self) -> None:
        """Reset every field to its default value."""
        self.metadata = {}
        self.data = b""
        self._unknown_fields = b""


def _check_metadata_item(key: object, value: object) -> None:
    if not isinstance(key, str):
        raise TypeError(
            f"Payload.metadata keys must be str, got {type(key).__name__} ({key!r})"
        )
    if not isinstance(value, (bytes, bytearray)):
        raise TypeError(
            f"Payload.metadata[{key!r}] must be bytes, got {type(value).__name__}"
        )


@dataclass
class Payloads(_WireMessage):
    """An ordered collection of :py:class:`Payload`."""

    payloads: list[Payload] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.payloads = list(self.payloads)
        for index, p in enumerate(self.payloads):
            if not isinstance(p, Payload):
                raise TypeError(
                    f"Payloads.payloads[{index}] must be a Payload, "
                    f"got {type(p).__name__}"
                )

    def SerializeToString(self, *, deterministic: bool = False) -> bytes:
        """See :py:meth:`_WireMessage.SerializeToString`."""
        out = bytearray()
        for p in self.payloads:
            out += _len_field(1, p.SerializeToString(deterministic=deterministic))
        return bytes(out)

    def _parse_into(self, data: bytes) -> None:
        for number, _wire_type, value, _raw in _iter_fields(data):
            if number == 1:
                self.payloads.append(
                    Payload.FromString(_expect_bytes(value, "Payloads.payloads"))
                )


@dataclass
class ProtoAny(_WireMessage):
    """Mirror of ``google.protobuf.Any``: a type URL plus encoded message."""

    type_url: str = ""
    value: bytes = b""

    @property
    def type_name(self) -> str:
        """Full message name, i.e. the part of the type URL after the last ``/``."""
        return self.type_url.rsplit("/", 1)[-1]

    def SerializeToString(self, *, deterministic: bool = False) -> bytes:
        """See :py:meth:`_WireMessage.SerializeToString`."""
        out = bytearray()
        if self.type_url:
            out += _len_field(1, self.type_url.encode("utf-8"))
        if self.value:
            out += _len_field(2, bytes(self.value))
        return bytes(out)

    def _parse_into(self, data: bytes) -> None:
        for number, _wire_type, value, _raw in _iter_fields(data):
            if number == 1:
                self.type_url = _decode_utf8(
                    _expect_bytes(value, "Any.type_url"), "Any.type_url"
                )
            elif number == 2:
                self.value = _expect_bytes(value, "Any.value")


@dataclass
class GrpcStatus(_WireMessage):
    """Mirror of ``google.rpc.Status`` as carried in gRPC error trailers."""

    code: int = 0
    message: str = ""
    details: list[ProtoAny] = field(default_factory=list)

    def SerializeToString(self, *, deterministic: bool = False) -> bytes:
        """See :py:meth:`_WireMessage.SerializeToString`."""
        out = bytearray()
        if self.code:
            out += _tag(1, _WT_VARINT) + _varint(self.code)
        if self.message:
            out += _len_field(2, self.message.encode("utf-8"))
        for d in self.details:
            out += _len_field(3, d.SerializeToString(deterministic=deterministic))
        return bytes(out)

    def _parse_into(self, data: bytes) -> None:
        for number, _wire_type, value, _raw in _iter_fields(data):
            if number == 1:
                if not isinstance(value, int):
                    raise DecodeError("GrpcStatus.code has the wrong wire type")
                # int32 on the wire: keep the low 32 bits, interpret signed.
                value &= 0xFFFFFFFF
                self.code = value - (1 << 32) if value >= 1 << 31 else value
            elif number == 2:
                self.message = _decode_utf8(
                    _expect_bytes(value, "GrpcStatus.message"), "GrpcStatus.message"
                )
            elif number == 3:
                self.details.append(
                    ProtoAny.FromString(_expect_bytes(value, "GrpcStatus.details"))
                )
